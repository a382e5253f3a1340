//! What Pheme's router spends on one inbound frame, measured on the machine at hand: the
//! figures behind [`FrameCost`], the CPU the virtual engine charges a node for each frame it
//! receives (`cargo run --release -p pheme-sim --example frame_cost`).
//!
//! A scored router (the run's real configuration) with a publisher and eight silent mesh
//! candidates as peers handles, one frame at a time, what the scenarios send it: messages
//! (an aggregate, a block) from a router that published them, a GRAFT during the backoff the
//! GRAFT flood runs into, IHAVEs of unknown ids (the scenario's ten per topic, and the
//! router's limit of 5,000). Each frame's time covers decoding, the transform (snappy, the
//! message-id), scoring, and the frames and events the router produces in answer, as the
//! engine drives it; a message's verdict is reported at once (the engine charges validation
//! separately, [`super::net::validation_cost_us`]).

use std::time::{Duration, Instant};

use bytes::Bytes;
use libp2p::PeerId;
use pheme_network::transform::Eth2Transform;
use pheme_router::wire::{FrameLimits, split_rpc};
use pheme_router::{Event, PeerConnection, Protocol, Router, Verdict};
use pheme_spec::GossipKind;
use pheme_testkit::raw::{Control, encode_rpc};

use super::{Setup, frame_body};
use crate::scenario::SimConfig;
use crate::{SimError, fixtures};

/// CPU a node spends on a received frame before its effects (forwards, answers, the
/// message's validation) can happen: a cost per frame, per byte of the messages it carries
/// (snappy, the message-id's SHA-256, copies for the mesh) and per byte of the rest (control:
/// IHAVE and IWANT ids are hashed and looked up one by one). Frames from a graylisted peer are
/// dropped undecoded. Validation is charged apart ([`super::net::validation_cost_us`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameCost {
    /// Per frame, nanoseconds.
    pub base_ns: f64,
    /// Per byte of the frame's messages, nanoseconds.
    pub message_byte_ns: f64,
    /// Per byte of the frame's other parts, nanoseconds.
    pub control_byte_ns: f64,
    /// A graylisted peer's frame, nanoseconds.
    pub graylisted_ns: f64,
}

/// Measured with the `frame_cost` example (release build, medians of 2,000 frames a kind, one
/// core of the 2-core AMD EPYC CI machine; `docs/simulation-notes.md` has the table): a
/// 446-byte aggregate 1.4 µs, a 100 kB block 165 µs (charged 122 µs: one rate a message byte
/// for every size), an IHAVE of 5,000 unknown ids (110 kB) 307 µs (654 µs before the router
/// deduplicated them by key instead of sorting them), a GRAFT 1.2 µs unscored, a graylisted
/// peer's frame 0.1 µs.
pub const DEFAULT_FRAME_COST: FrameCost = FrameCost {
    base_ns: 1_000.0,
    message_byte_ns: 1.2,
    control_byte_ns: 2.8,
    graylisted_ns: 100.0,
};

impl Default for FrameCost {
    fn default() -> Self {
        DEFAULT_FRAME_COST
    }
}

impl FrameCost {
    /// No CPU for frames (the engine before this model).
    pub const FREE: FrameCost = FrameCost {
        base_ns: 0.0,
        message_byte_ns: 0.0,
        control_byte_ns: 0.0,
        graylisted_ns: 0.0,
    };

    /// Microseconds for `frame` (an RPC's body), from a graylisted peer or not.
    pub fn us(&self, frame: &Bytes, graylisted: bool) -> u64 {
        let ns = if graylisted {
            self.graylisted_ns
        } else {
            let messages = message_bytes(frame);
            self.base_ns
                + self.message_byte_ns * messages as f64
                + self.control_byte_ns * (frame.len() - messages) as f64
        };
        (ns / 1_000.0).round() as u64
    }
}

/// Bytes of an RPC's body that are messages (field 2, `publish`), from the router's own
/// splitter (top-level fields sliced, nothing decoded); a frame it refuses counts as control.
pub fn message_bytes(frame: &Bytes) -> usize {
    let unbounded = FrameLimits {
        max_control_bytes: usize::MAX,
        max_messages: usize::MAX,
    };
    split_rpc(frame, unbounded).map_or(0, |parts| parts.messages.iter().map(Bytes::len).sum())
}

/// One kind of frame, measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measured {
    /// What the frames carried.
    pub kind: &'static str,
    /// Their size, bytes (the median frame's).
    pub bytes: usize,
    /// Frames timed.
    pub frames: usize,
    /// Median time per frame, nanoseconds.
    pub median_ns: u64,
    /// 90th percentile, nanoseconds.
    pub p90_ns: u64,
    /// What [`DEFAULT_FRAME_COST`] charges for the median frame, microseconds.
    pub charged_us: u64,
}

struct Bench {
    router: Router<Eth2Transform>,
    now: Instant,
    /// The publisher, and the frames for it not yet handed over.
    source: PeerId,
    to_source: Vec<Bytes>,
}

impl Bench {
    /// Hands `frame` from `peer` to the router and drives it as the engine does, timed.
    fn handle(&mut self, peer: &PeerId, frame: Bytes) -> Duration {
        let started = Instant::now();
        self.router.handle_rpc(self.now, peer, frame);
        self.drain();
        started.elapsed()
    }

    /// Takes every frame and event the router has, answering messages with ACCEPT.
    fn drain(&mut self) {
        loop {
            let mut busy = false;
            while let Some(t) = self.router.poll_transmit(self.now) {
                let body = t.frame.body();
                if t.peer == self.source {
                    self.to_source.push(body);
                }
                self.router.sent(&t.peer);
                busy = true;
            }
            while let Some(e) = self.router.poll_event() {
                if let Event::Message(m) = e {
                    self.router.report(self.now, &m.id, Verdict::Accept);
                    busy = true;
                }
            }
            if !busy {
                break;
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.router.tick(self.now);
        self.drain();
    }
}

fn summarise(
    kind: &'static str,
    mut samples: Vec<(Bytes, Duration)>,
    graylisted: bool,
) -> Measured {
    samples.sort_by_key(|s| s.1);
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * q).round() as usize)
            .cloned()
            .unwrap_or_default()
    };
    let (frame, median) = at(0.5);
    Measured {
        kind,
        bytes: frame.len(),
        frames: samples.len(),
        median_ns: median.as_nanos() as u64,
        p90_ns: at(0.9).1.as_nanos() as u64,
        charged_us: DEFAULT_FRAME_COST.us(&frame, graylisted),
    }
}

/// Times `frames` frames of each kind through a router built for `cfg`, scoring its peers or
/// not.
pub fn measure(cfg: &SimConfig, frames: usize, scored: bool) -> Result<Vec<Measured>, SimError> {
    let setup = Setup::new(cfg)?;
    let block = setup.topic(GossipKind::BeaconBlock);
    let aggregate = setup.topic(GossipKind::BeaconAggregateAndProof);
    let topics = [block.clone(), aggregate.clone()];
    let t0 = Instant::now();
    let router = |seed, scoring| {
        Router::new(
            setup.router.clone(),
            scoring,
            Eth2Transform::new(setup.chain.clone()),
            seed,
            t0,
        )
    };
    let source = PeerId::random();
    let mut bench = Bench {
        router: router(1, scored.then(|| setup.scoring.clone()))?,
        now: t0,
        source,
        to_source: Vec::new(),
    };
    let mut publisher = router(2, None)?;
    let conn = |outbound| PeerConnection {
        protocol: Protocol::V1_2,
        outbound,
        ip: None,
    };
    let me = PeerId::random();
    let others: Vec<PeerId> = (0..8).map(|_| PeerId::random()).collect();
    for t in &topics {
        bench.router.subscribe(t0, t);
        publisher.subscribe(t0, t);
    }
    bench.router.add_peer(t0, source, conn(true));
    publisher.add_peer(t0, me, conn(false));
    let subscribe = frame_body(&encode_rpc(
        &topics
            .iter()
            .cloned()
            .map(Control::Subscribe)
            .collect::<Vec<_>>(),
    ));
    for p in &others {
        bench.router.add_peer(t0, *p, conn(true));
        bench.handle(p, subscribe.clone());
    }
    // Frames both ways between the publisher and the router (subscriptions, GRAFTs, messages):
    // what the publisher sends the router is returned, to be timed.
    let pump = |publisher: &mut Router<Eth2Transform>, bench: &mut Bench| {
        for f in std::mem::take(&mut bench.to_source) {
            publisher.handle_rpc(bench.now, &me, f);
        }
        let mut to_bench = Vec::new();
        while let Some(t) = publisher.poll_transmit(bench.now) {
            to_bench.push(t.frame.body());
            publisher.sent(&t.peer);
        }
        to_bench
    };
    bench.drain();
    for f in pump(&mut publisher, &mut bench) {
        bench.handle(&source, f);
    }
    // Heartbeats: meshes form.
    for _ in 0..3 {
        bench.advance(Duration::from_millis(700));
        publisher.tick(bench.now);
        for f in pump(&mut publisher, &mut bench) {
            bench.handle(&source, f);
        }
    }

    let mut out = Vec::new();
    let slot = super::START_SLOT;
    let chain = &setup.chain;
    for (kind, topic, tx_bytes) in [
        ("aggregate", &aggregate, None),
        ("block, empty", &block, Some(0)),
        ("block, 100 kB of transactions", &block, Some(100_000)),
    ] {
        let mut samples = Vec::with_capacity(frames);
        let count = if tx_bytes > Some(0) {
            frames / 10
        } else {
            frames
        } as u64;
        for i in 0..count {
            let payload = match tx_bytes {
                Some(tx) => fixtures::large_block(chain, slot, 10_000 + i, tx)?,
                None => fixtures::aggregate(chain, slot, (i % 64) as usize, 10_000 + i)?,
            };
            // Publishing goes out to the router (flood publishing); the frame is what a
            // mesh peer forwards.
            let _ = publisher.publish(bench.now, topic, &payload);
            for f in pump(&mut publisher, &mut bench) {
                let took = bench.handle(&source, f.clone());
                samples.push((f, took));
            }
            if i % 100 == 99 {
                bench.advance(Duration::from_millis(700));
                publisher.tick(bench.now);
                pump(&mut publisher, &mut bench);
            }
        }
        out.push(summarise(kind, samples, false));
    }

    // A GRAFT flood: GRAFT, PRUNE ourselves (the router sets a backoff), then GRAFT again and
    // again, each answered with a PRUNE and a behaviour penalty.
    let flooder = PeerId::random();
    bench.router.add_peer(bench.now, flooder, conn(false));
    bench.handle(&flooder, subscribe.clone());
    let graft = frame_body(&encode_rpc(
        &topics
            .iter()
            .cloned()
            .map(Control::Graft)
            .collect::<Vec<_>>(),
    ));
    let prune = frame_body(&encode_rpc(
        &topics
            .iter()
            .map(|t| Control::Prune(t.clone(), 60))
            .collect::<Vec<_>>(),
    ));
    bench.handle(&flooder, graft.clone());
    bench.handle(&flooder, prune);
    let samples = (0..frames)
        .map(|_| (graft.clone(), bench.handle(&flooder, graft.clone())))
        .collect();
    out.push(summarise("graft in backoff", samples, false));
    if scored {
        // By now the flooder is far below the graylist threshold: its frames are dropped.
        let big = frame_body(&encode_rpc(&[Control::IHave(
            aggregate.clone(),
            (0..2_500).map(|i| fixtures::bytes(i, 20)).collect(),
        )]));
        let samples = (0..frames)
            .map(|_| (big.clone(), bench.handle(&flooder, big.clone())))
            .collect();
        out.push(summarise(
            "graylisted peer's ihave 2,500 ids",
            samples,
            true,
        ));
    }

    // IHAVE of unknown ids: the scenario's ten per topic, and the router's limit per topic.
    let mut id_seed = 0u64;
    for (kind, per_topic) in [("ihave 2x10 ids", 10usize), ("ihave 2x2500 ids", 2_500)] {
        let mut samples = Vec::with_capacity(frames);
        let spammers: Vec<PeerId> = (0..8).map(|_| PeerId::random()).collect();
        for p in &spammers {
            bench.router.add_peer(bench.now, *p, conn(false));
            bench.handle(p, subscribe.clone());
        }
        let rounds = if per_topic > 100 { frames / 10 } else { frames };
        for i in 0..rounds {
            let items: Vec<Control> = topics
                .iter()
                .map(|t| {
                    let ids = (0..per_topic)
                        .map(|_| {
                            id_seed += 1;
                            fixtures::bytes(id_seed, 20)
                        })
                        .collect();
                    Control::IHave(t.clone(), ids)
                })
                .collect();
            let frame = frame_body(&encode_rpc(&items));
            let p = spammers[i % spammers.len()];
            let took = bench.handle(&p, frame.clone());
            samples.push((frame, took));
            // A heartbeat every round of the spammers: each may be answered again.
            if i % spammers.len() == spammers.len() - 1 {
                bench.advance(Duration::from_millis(700));
            }
        }
        out.push(summarise(kind, samples, false));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_control_are_charged_at_their_own_rates() {
        let ihave = frame_body(&encode_rpc(&[Control::IHave(
            "t".into(),
            (0..100).map(|i| fixtures::bytes(i, 20)).collect(),
        )]));
        assert_eq!(message_bytes(&ihave), 0);
        let rpc = pheme_router::wire::Rpc {
            publish: vec![pheme_router::wire::WireMessage {
                data: Some(Bytes::from(vec![7u8; 1_000])),
                topic: Some(Bytes::from_static(b"t")),
                ..Default::default()
            }],
            ..Default::default()
        };
        let message = Bytes::from(prost::Message::encode_to_vec(&rpc));
        let carried = message_bytes(&message);
        assert!((1_000..message.len()).contains(&carried), "{carried}");
        let cost = FrameCost {
            base_ns: 1_000.0,
            message_byte_ns: 1.0,
            control_byte_ns: 10.0,
            graylisted_ns: 100.0,
        };
        // 1 µs + 1 ns per message byte (+ 10 ns for the frame's few other bytes).
        assert!((2..=3).contains(&cost.us(&message, false)));
        assert_eq!(
            cost.us(&ihave, false),
            ((1_000 + 10 * ihave.len()) as f64 / 1e3).round() as u64
        );
        assert_eq!(cost.us(&ihave, true), 0);
        assert_eq!(FrameCost::FREE.us(&message, false), 0);
    }
}
