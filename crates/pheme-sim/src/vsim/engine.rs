//! The event loop: a queue of timed events (frames arriving, frames leaving an upload link,
//! router timeouts, verdicts, publications, connections, score polls) ordered by time and then
//! by insertion, so that the same seed gives the same run, bit for bit.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use libp2p::PeerId;
use pheme_gossip::{GossipValidator, NoState};
use pheme_network::transform::Eth2Transform;
use pheme_router::{Event, MessageId, PeerConnection, Protocol, Router, Verdict};

use super::net::{NetModel, validation_cost_us};

/// What an attacker does with the messages it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Validates and forwards.
    Honest,
    /// Forwards everything without validating (an attacker before its attack starts).
    Forwarder,
    /// Joins meshes and never forwards.
    Silent,
    /// Joins meshes and forwards `per_mille` of the messages it receives (chosen by a hash of
    /// the message-id and the node, so the same ones every run).
    Partial {
        /// Messages forwarded per thousand.
        per_mille: u16,
    },
    /// Forwards everything except what `victim` delivered first.
    Censor {
        /// The censored publisher.
        victim: PeerId,
    },
    /// No router: a raw speaker whose frames the scenario writes; what it receives is dropped.
    Raw,
}

/// A node: its router and what the engine keeps for it.
pub(crate) struct Node {
    pub peer: PeerId,
    pub router: Router<Eth2Transform>,
    pub validator: Option<GossipValidator<NoState>>,
    pub role: Role,
    pub region: u8,
    pub ip: IpAddr,
    /// When its upload link is free again (µs).
    up_free: u64,
    /// When its validation is free again (µs).
    cpu_free: u64,
    /// Its router's timeout as last scheduled (µs).
    tick_at: u64,
    /// Connected nodes, in connection order.
    pub peers: Vec<u32>,
}

impl Node {
    pub fn new(
        peer: PeerId,
        router: Router<Eth2Transform>,
        validator: Option<GossipValidator<NoState>>,
        role: Role,
        region: u8,
        index: u32,
    ) -> Self {
        let [_, a, b, c] = index.to_be_bytes();
        Node {
            peer,
            router,
            validator,
            role,
            region,
            ip: IpAddr::V4(Ipv4Addr::new(10, a, b, c)),
            up_free: 0,
            cpu_free: 0,
            tick_at: u64::MAX,
            peers: Vec::new(),
        }
    }
}

/// A timed input.
pub(crate) enum Input {
    /// A frame reaches `to`; it waits for `to`'s CPU.
    Deliver { to: u32, from: u32, frame: Bytes },
    /// `to`'s CPU has worked through a frame: its router handles it.
    Handle { to: u32, from: u32, frame: Bytes },
    /// A frame has left `node`'s upload link towards `peer`.
    Sent { node: u32, peer: u32 },
    /// `node`'s router timeout.
    Tick { node: u32 },
    /// `node` has validated a message.
    Verdict {
        node: u32,
        id: MessageId,
        verdict: Verdict,
    },
    /// `a` dials `b`.
    Connect { a: u32, b: u32 },
    /// The scenario's own step (publications, role changes, score polls), by its index.
    Step(usize),
}

struct Timed {
    at: u64,
    seq: u64,
    input: Input,
}

impl PartialEq for Timed {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Counters of the run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Events processed.
    pub events: u64,
    /// Frames carried.
    pub frames: u64,
    /// Bytes carried.
    pub bytes: u64,
    /// CPU charged for received frames, microseconds (validation apart).
    pub cpu_us: u64,
}

/// A message's first copy at an honest node (the engine's owner measures with them).
#[derive(Debug, Clone)]
pub(crate) struct Receipt {
    pub node: u32,
    pub id: MessageId,
    pub at: u64,
}

/// The engine.
pub(crate) struct Engine {
    t0: Instant,
    /// Unix milliseconds at virtual time 0.
    pub start_unix_ms: u64,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Timed>>,
    pub nodes: Vec<Node>,
    pub(crate) index: HashMap<PeerId, u32>,
    seed: u64,
    net: NetModel,
    pub counters: Counters,
    /// First copies at honest nodes, in order.
    pub receipts: Vec<Receipt>,
}

impl Engine {
    pub fn new(net: NetModel, seed: u64, start_unix_ms: u64, t0: Instant) -> Self {
        Engine {
            t0,
            start_unix_ms,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes: Vec::new(),
            index: HashMap::new(),
            seed,
            net,
            counters: Counters::default(),
            receipts: Vec::new(),
        }
    }

    /// Virtual time now (µs).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Virtual time as the routers see it.
    pub fn instant(&self, at: u64) -> Instant {
        self.t0 + Duration::from_micros(at)
    }

    fn micros(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.t0).as_micros()).unwrap_or(u64::MAX)
    }

    /// Adds a node; its index is returned.
    pub fn add(&mut self, node: Node) -> u32 {
        let i = self.nodes.len() as u32;
        self.index.insert(node.peer, i);
        self.nodes.push(node);
        i
    }

    fn link_latency(&self, a: u32, b: u32) -> u64 {
        let region = |i: u32| self.nodes.get(i as usize).map_or(0, |n| n.region);
        self.net
            .link_latency_us(self.seed, (a, region(a)), (b, region(b)))
    }

    /// Schedules `input` at `at` (µs; never before now).
    pub fn at(&mut self, at: u64, input: Input) {
        self.seq += 1;
        self.queue.push(Reverse(Timed {
            at: at.max(self.now),
            seq: self.seq,
            input,
        }));
    }

    /// Runs until the queue is empty or the next event is after `until`; scenario steps are
    /// handed to `step`.
    pub fn run(&mut self, until: u64, step: &mut dyn FnMut(&mut Engine, usize)) {
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.at > until {
                break;
            }
            let Some(Reverse(ev)) = self.queue.pop() else {
                break;
            };
            self.now = ev.at;
            self.counters.events += 1;
            match ev.input {
                Input::Deliver { to, from, frame } => {
                    if self.nodes[to as usize].role == Role::Raw {
                        continue;
                    }
                    // The frame waits for the node's CPU (shared with validation), then
                    // costs what the router spends on it.
                    let node = &self.nodes[to as usize];
                    let graylisted = node.router.score(&self.nodes[from as usize].peer)
                        < node.router.thresholds().graylist;
                    let cost = self.net.frame_cost.us(&frame, graylisted);
                    let node = &mut self.nodes[to as usize];
                    let done = node.cpu_free.max(self.now) + cost;
                    node.cpu_free = done;
                    self.counters.cpu_us += cost;
                    self.at(done, Input::Handle { to, from, frame });
                }
                Input::Handle { to, from, frame } => {
                    let now = self.instant(self.now);
                    let from_peer = self.nodes[from as usize].peer;
                    self.nodes[to as usize]
                        .router
                        .handle_rpc(now, &from_peer, frame);
                    self.flush(to);
                }
                Input::Sent { node, peer } => {
                    let peer = self.nodes[peer as usize].peer;
                    self.nodes[node as usize].router.sent(&peer);
                    self.flush(node);
                }
                Input::Tick { node } => {
                    if self.nodes[node as usize].tick_at == ev.at {
                        let now = self.instant(self.now);
                        self.nodes[node as usize].router.tick(now);
                        self.nodes[node as usize].tick_at = u64::MAX;
                        self.flush(node);
                    }
                }
                Input::Verdict { node, id, verdict } => {
                    let now = self.instant(self.now);
                    self.nodes[node as usize].router.report(now, &id, verdict);
                    self.flush(node);
                }
                Input::Connect { a, b } => self.connect(a, b),
                Input::Step(i) => step(self, i),
            }
        }
        self.now = self.now.max(until);
    }

    fn connect(&mut self, a: u32, b: u32) {
        let now = self.instant(self.now);
        let (pa, ia) = (self.nodes[a as usize].peer, self.nodes[a as usize].ip);
        let (pb, ib) = (self.nodes[b as usize].peer, self.nodes[b as usize].ip);
        let conn = |outbound, ip| PeerConnection {
            protocol: Protocol::V1_2,
            outbound,
            ip: Some(ip),
        };
        for (x, peer, outbound, ip) in [(a, pb, true, ib), (b, pa, false, ia)] {
            if self.nodes[x as usize].role != Role::Raw {
                self.nodes[x as usize]
                    .router
                    .add_peer(now, peer, conn(outbound, ip));
            }
        }
        self.nodes[a as usize].peers.push(b);
        self.nodes[b as usize].peers.push(a);
        for x in [a, b] {
            if self.nodes[x as usize].role != Role::Raw {
                self.flush(x);
            }
        }
    }

    /// Sends a raw frame body (a scripted attacker's) from `from` to `to` through `from`'s
    /// upload link.
    pub fn send_raw(&mut self, from: u32, to: u32, frame: Bytes) {
        let up = self.net.serialise_us(frame.len());
        let node = &mut self.nodes[from as usize];
        let leaves = node.up_free.max(self.now) + up;
        node.up_free = leaves;
        self.counters.frames += 1;
        self.counters.bytes += frame.len() as u64;
        let arrives = leaves + self.link_latency(from, to);
        self.at(arrives, Input::Deliver { to, from, frame });
    }

    /// Publishes `payload` on `topic` from `node`.
    pub fn publish(&mut self, node: u32, topic: &str, payload: &[u8]) -> Option<MessageId> {
        let now = self.instant(self.now);
        let id = self.nodes[node as usize]
            .router
            .publish(now, topic, payload)
            .ok();
        self.flush(node);
        id
    }

    /// Subscribes `node` to `topic`.
    pub fn subscribe(&mut self, node: u32, topic: &str) {
        let now = self.instant(self.now);
        self.nodes[node as usize].router.subscribe(now, topic);
        self.flush(node);
    }

    /// Moves what `node`'s router has to send onto its upload link, takes its events, and
    /// schedules its next timeout.
    pub fn flush(&mut self, n: u32) {
        let now = self.instant(self.now);
        let net = self.net.clone();
        while let Some(t) = self.nodes[n as usize].router.poll_transmit(now) {
            let Some(&dst) = self.index.get(&t.peer) else {
                self.nodes[n as usize].router.sent(&t.peer);
                continue;
            };
            let frame = t.frame.body();
            let node = &mut self.nodes[n as usize];
            let leaves = node.up_free.max(self.now) + net.serialise_us(frame.len());
            node.up_free = leaves;
            self.counters.frames += 1;
            self.counters.bytes += frame.len() as u64;
            let arrives = leaves + self.link_latency(n, dst);
            self.at(leaves, Input::Sent { node: n, peer: dst });
            self.at(
                arrives,
                Input::Deliver {
                    to: dst,
                    from: n,
                    frame,
                },
            );
        }
        while let Some(e) = self.nodes[n as usize].router.poll_event() {
            if let Event::Message(m) = e {
                self.on_message(n, m);
            }
        }
        let due = self.micros(self.nodes[n as usize].router.poll_timeout());
        // A timeout already due runs a moment later (a router never asks twice for one time).
        let due = if due <= self.now { self.now + 100 } else { due };
        if due != self.nodes[n as usize].tick_at {
            self.nodes[n as usize].tick_at = due;
            self.at(due, Input::Tick { node: n });
        }
    }

    fn on_message(&mut self, n: u32, m: pheme_router::Received) {
        let forward = match self.nodes[n as usize].role {
            Role::Silent | Role::Raw => false,
            Role::Forwarder => true,
            Role::Partial { per_mille } => {
                let h =
                    m.id.0
                        .iter()
                        .fold(u64::from(n), |h, b| super::net::splitmix(h ^ u64::from(*b)));
                h % 1_000 < u64::from(per_mille)
            }
            Role::Censor { victim } => m.source != victim,
            Role::Honest => {
                self.validate(n, m);
                return;
            }
        };
        if forward {
            self.at(
                self.now,
                Input::Verdict {
                    node: n,
                    id: m.id,
                    verdict: Verdict::Accept,
                },
            );
        }
    }

    /// An honest node's first copy: recorded, validated for real, its verdict due after the
    /// validation queue and the kind's cost.
    fn validate(&mut self, n: u32, m: pheme_router::Received) {
        self.receipts.push(Receipt {
            node: n,
            id: m.id.clone(),
            at: self.now,
        });
        let unix_ms = self.start_unix_ms + self.now / 1_000;
        let id: [u8; 20] = m.id.as_bytes().try_into().unwrap_or([0; 20]);
        let node = &mut self.nodes[n as usize];
        let Some(v) = node.validator.as_mut() else {
            return;
        };
        let outcome = v.validate_decoded(&m.topic, &m.payload, id, m.wire_len, unix_ms);
        let verdict = match outcome.verdict {
            pheme_gossip::Verdict::Accept => Verdict::Accept,
            pheme_gossip::Verdict::Ignore => Verdict::Ignore,
            pheme_gossip::Verdict::Reject => Verdict::Reject,
        };
        let kind = outcome.kind;
        let done = node.cpu_free.max(self.now) + validation_cost_us(kind);
        node.cpu_free = done;
        self.at(
            done,
            Input::Verdict {
                node: n,
                id: m.id,
                verdict,
            },
        );
    }

    /// The scores `node` gives each of its peers, in connection order.
    pub fn scores(&self, node: u32) -> Vec<(u32, f64)> {
        let n = &self.nodes[node as usize];
        n.peers
            .iter()
            .map(|p| (*p, n.router.score(&self.nodes[*p as usize].peer)))
            .collect()
    }

    /// Whether `node`'s score of `peer` is below zero by its mesh-delivery terms (P3 and P3b)
    /// alone: without them it would be at or above zero.
    pub fn negative_by_mesh_deliveries(&self, node: u32, peer: u32) -> bool {
        self.nodes[node as usize]
            .router
            .score_breakdown(&self.nodes[peer as usize].peer)
            .is_some_and(|b| b.score - b.topic_term(|t| t.p3 + t.p3b) >= 0.0)
    }

    /// The nodes in `node`'s mesh of any topic in `topics`.
    pub fn mesh_members(&self, node: u32, topics: &[String]) -> HashSet<u32> {
        let router = &self.nodes[node as usize].router;
        topics
            .iter()
            .flat_map(|t| router.mesh_peers(t))
            .filter_map(|p| self.index.get(&p).copied())
            .collect()
    }
}
