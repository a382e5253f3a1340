#!/usr/bin/env python3
"""Explains the router's "[Penalty] Peer attempted graft within backoff time" lines of a
`pheme simulate` run: which penalised peers were honest, and whether their GRAFT crossed a
PRUNE in flight.

Run the simulation with each honest node's router at debug level (every honest node's lines
carry a `node{peer=...}` span; Sybils' routers are outside it):

    NO_COLOR=1 RUST_LOG="warn,[node]=debug" pheme simulate --scenario invalid-flood \
        --scoring-only --json 2> run.log
    scripts/graft-crossings.py run.log

A full-size run writes about 1 GB of log. For each penalty on an honest peer B by honest node
A, it prints how long before the penalty A sent B its last PRUNE and why (negative score, mesh
above D_high, or other), and when B sent the GRAFT that drew it: sent before A's PRUNE means
the two crossed in flight.
"""

import argparse
import collections
import re
import sys

NODE = re.compile(r"^(\S+)\s+\w+\s+node\{peer=(\w+)\}")
PEER = re.compile(r" peer=(\w+)")
PEER_ID = re.compile(r"peer_id=(\w+)")
PENALISED = re.compile(r"penalizing peer=(\w+)")
# How close before a PRUNE its cause must have been logged (same heartbeat).
SAME_HEARTBEAT_S = 0.1


def seconds(stamp):
    """Seconds since midnight of an RFC 3339 timestamp."""
    h, m, s = stamp[11:].rstrip("Z").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="stderr of `pheme simulate` with RUST_LOG=\"warn,[node]=debug\"")
    args = parser.parse_args()

    honest = set()
    negative_prune = {}  # (A, B) -> time A's heartbeat pruned B for a negative score
    mesh_high = {}  # A -> time of A's last "Mesh high" heartbeat
    last_prune = {}  # (A, B) -> (time, cause) of A's last PRUNE to B
    last_graft = {}  # (B, A) -> time of B's last GRAFT to A
    replies = set()  # (A, B) whose next PRUNE answers a penalised GRAFT
    penalties = []  # (time, A, B, A's last PRUNE to B, B's last GRAFT to A), as of the penalty
    with open(args.log, errors="replace") as log:
        for line in log:
            m = NODE.match(line)
            if not m:
                continue
            t, me = seconds(m.group(1)), m.group(2)
            honest.add(me)
            rest = line[m.end():]
            if "HEARTBEAT: Prune peer with negative score" in rest:
                negative_prune[(me, PEER.search(rest).group(1))] = t
            elif "HEARTBEAT: Mesh high" in rest:
                mesh_high[me] = t
            elif "Sending Rpc" in rest and "rpc=Prune" in rest:
                peer = PEER_ID.search(rest).group(1)
                if (me, peer) in replies:
                    replies.discard((me, peer))
                    continue
                if t - negative_prune.get((me, peer), -1e9) <= SAME_HEARTBEAT_S:
                    cause = "negative score"
                elif t - mesh_high.get(me, -1e9) <= SAME_HEARTBEAT_S:
                    cause = "mesh above D_high"
                else:
                    cause = "other (GRAFT refused, LEAVE)"
                last_prune[(me, peer)] = (t, cause)
            elif "Sending Rpc" in rest and "rpc=Graft" in rest:
                last_graft[(me, PEER_ID.search(rest).group(1))] = t
            elif "attempted graft within backoff" in rest:
                peer = PENALISED.search(rest).group(1)
                replies.add((me, peer))
                penalties.append(
                    (t, me, peer, last_prune.get((me, peer)), last_graft.get((peer, me)))
                )

    if not honest:
        sys.exit("no node{peer=...} lines: run with RUST_LOG=\"warn,[node]=debug\"")
    on_honest = [p for p in penalties if p[2] in honest]
    print(f"honest nodes: {len(honest)}")
    print(f"GRAFT-within-backoff penalties: {len(penalties)}, on honest peers: {len(on_honest)}")
    causes = collections.Counter()
    crossed = 0
    flights = []
    for t, a, b, prune, graft in on_honest:
        cause = prune[1] if prune else "no PRUNE logged"
        causes[cause] += 1
        if prune and graft is not None and graft <= prune[0]:
            crossed += 1
        if graft is not None:
            flights.append(t - graft)
        print(
            f"  {a[-6:]} penalised {b[-6:]}: PRUNE {t - prune[0]:.3f} s before ({cause}), "
            f"GRAFT sent {t - graft:.3f} s before"
            if prune and graft is not None
            else f"  {a[-6:]} penalised {b[-6:]}: {cause}"
        )
    if on_honest:
        flights.sort()
        print(f"GRAFT sent before the PRUNE it met (crossed in flight): {crossed} of {len(on_honest)}")
        print("cause of the PRUNE: " + ", ".join(f"{c} {n}" for c, n in causes.most_common()))
        print(
            f"GRAFT flight to the penalty: min {flights[0]:.3f} s, "
            f"median {flights[len(flights) // 2]:.3f} s, max {flights[-1]:.3f} s"
        )


if __name__ == "__main__":
    main()
