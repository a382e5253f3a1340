//! Eight real nodes on loopback: every topic kind travels everywhere with the right verdict,
//! invalid messages are REJECTed and cost their sender score (P4), a spammer is graylisted and
//! banned, honest peers keep non-negative scores, and the score breakdown adds up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{
    Node, attestation, attester_slashing, chain, invalid_messages, next_slot_start, node, slot_now,
    valid_messages, wait_for,
};
use pheme_gossip::Verdict;
use pheme_network::NetworkEvent;
use pheme_spec::GossipKind;

const NODES: usize = 8;

/// Drains events into per-node (kind, verdict) tallies and per-node ban lists.
#[derive(Default)]
struct Seen {
    verdicts: HashMap<(usize, &'static str, Verdict), usize>,
    reasons: HashMap<(usize, &'static str), usize>,
    banned: HashSet<(usize, libp2p::PeerId)>,
}

fn drain(nodes: &mut [Node], seen: &mut Seen) {
    for (i, n) in nodes.iter_mut().enumerate() {
        while let Ok(e) = n.events.try_recv() {
            match e {
                NetworkEvent::Gossip(g) => {
                    let kind = g.outcome.kind.map_or("unknown", |k| k.base_name());
                    *seen
                        .verdicts
                        .entry((i, kind, g.outcome.verdict))
                        .or_default() += 1;
                    *seen.reasons.entry((i, g.outcome.reason)).or_default() += 1;
                }
                NetworkEvent::PeerBanned { peer, .. } => {
                    seen.banned.insert((i, peer));
                }
                _ => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_nodes_deliver_every_kind_and_punish_invalid_senders() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        nodes.push(node(&chain).await);
    }
    // A ring with chords: every node dials the next three.
    for i in 0..NODES {
        for d in 1..=3 {
            let to = nodes[(i + d) % NODES].addr.clone();
            nodes[i].handle.dial(to).await.unwrap();
        }
    }
    // Meshes form on the block topic everywhere.
    let formed = wait_for(Duration::from_secs(20), || {
        let handles: Vec<_> = nodes.iter().map(|n| n.handle.clone()).collect();
        async move {
            for h in handles {
                let s = h.snapshot().await.unwrap();
                if s.peers < 3 || s.mesh.get("beacon_block").copied().unwrap_or(0) < 3 {
                    return None;
                }
            }
            Some(())
        }
    })
    .await;
    assert!(formed.is_some(), "meshes did not form");

    // Every kind, published by node 0, reaches the seven others and is accepted.
    let slot = next_slot_start(&chain).await;
    let mut messages = valid_messages(&chain, slot, 1);
    messages.push((
        GossipKind::AttesterSlashing,
        attester_slashing(&chain, slot, 1),
    ));
    let kinds: Vec<&'static str> = messages.iter().map(|(k, _)| k.base_name()).collect();
    for (kind, ssz) in messages {
        nodes[0].handle.publish_ssz(kind, ssz).await.unwrap();
    }
    let mut seen = Seen::default();
    let delivered = wait_for(Duration::from_secs(15), || {
        drain(&mut nodes, &mut seen);
        let done = (1..NODES).all(|i| {
            kinds
                .iter()
                .all(|k| seen.verdicts.get(&(i, k, Verdict::Accept)).copied() == Some(1))
        });
        async move { done.then_some(()) }
    })
    .await;
    assert!(
        delivered.is_some(),
        "not every kind reached every node: {:?}",
        seen.verdicts
    );

    // One invalid message (an attestation of committee 3 on subnet 5) from node 7: its direct
    // peers REJECT it, and node 7's score with them goes negative through P4.
    let spammer = nodes[7].handle.local_peer_id();
    let slot = slot_now(&chain);
    nodes[7]
        .handle
        .publish_ssz(
            GossipKind::BeaconAttestation(5),
            attestation(&chain, slot, 3, 900),
        )
        .await
        .unwrap();
    // The kinds Pheme checks signatures or proofs of without state: REJECT too.
    for (kind, ssz) in invalid_messages(slot, 7) {
        nodes[7].handle.publish_ssz(kind, ssz).await.unwrap();
    }
    let neighbours = [0usize, 1, 2, 4, 5, 6]; // 7 dials 0, 1, 2; 4, 5, 6 dial 7
    let penalised = wait_for(Duration::from_secs(10), || {
        drain(&mut nodes, &mut seen);
        let handles: Vec<_> = neighbours
            .iter()
            .map(|i| nodes[*i].handle.clone())
            .collect();
        async move {
            for h in handles {
                let scores = h.peer_scores().await.unwrap();
                let s = scores.iter().find(|b| b.peer == spammer)?;
                if s.total >= 0.0 || s.p4 >= 0.0 {
                    return None;
                }
            }
            Some(())
        }
    })
    .await;
    assert!(penalised.is_some(), "the invalid sender was not penalised");
    let rejected: usize = (0..NODES)
        .map(|i| seen.reasons.get(&(i, "wrong_subnet")).copied().unwrap_or(0))
        .sum();
    assert!(
        rejected >= 1,
        "no REJECT for the wrong subnet: {:?}",
        seen.reasons
    );
    // Not forwarded: node 3, the only one not connected to node 7, never saw it.
    assert_eq!(
        seen.reasons.get(&(3, "wrong_subnet")),
        None,
        "node 3 got a forwarded invalid message"
    );

    // A flood of invalid messages: node 7 falls below the graylist threshold and is banned.
    let flood = std::time::Instant::now();
    for n in 0..60 {
        let slot = slot_now(&chain);
        let _ = nodes[7]
            .handle
            .publish_ssz(
                GossipKind::BeaconAttestation(5),
                attestation(&chain, slot, 3, 1_000 + n),
            )
            .await;
    }
    let banned = wait_for(Duration::from_secs(15), || {
        drain(&mut nodes, &mut seen);
        let done = seen.banned.iter().any(|(_, p)| *p == spammer);
        async move { done.then_some(()) }
    })
    .await;
    assert!(banned.is_some(), "the spammer was not banned");
    println!(
        "spammer banned {} ms after its flood began",
        flood.elapsed().as_millis()
    );
    for (i, p) in &seen.banned {
        assert_eq!(*p, spammer, "node {i} banned an honest peer");
    }

    // Honest peers: never negative, and the breakdown adds up to the router's total.
    for (i, n) in nodes.iter().enumerate().take(7) {
        for b in n.handle.peer_scores().await.unwrap() {
            if b.peer == spammer {
                continue;
            }
            assert!(
                b.total >= 0.0,
                "node {i}: honest peer {} at {}",
                b.peer,
                b.total
            );
            let sum = b.p1 + b.p2 + b.p4 - b.topic_cap_cut + b.p5 + b.p6 + b.residual;
            assert!((sum - b.total).abs() < 1e-9);
            // Nothing unobservable is going on with honest peers (P3 is still deferred): what
            // remains is sampling phase, P1 polled at other instants than the router's refresh
            // (about 0.001 here) and P2 decayed on a clock offset from the router's (one decay
            // step is 1 - 0.98 of it at most here).
            assert!(
                b.residual.abs() < 0.05 * (b.p1 + b.p2) + 0.01,
                "node {i}: residual {} of {:?}",
                b.residual,
                b
            );
        }
    }
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}
