//! Pheme's router core fed arbitrary RPC frames and arbitrary sequences of inputs (frames from
//! four peers, time, verdicts, oversized frames, reconnects, publishes, application scores),
//! with Ethereum's transform and mainnet's scoring: no panic, and every table stays within its
//! bound whatever the peers send.
//!
//! Input: a sequence of operations, each `[op][args...]`:
//! - `0..=3` frame from peer `op`: `[len u16 LE][len bytes]`;
//! - `4` time passes: `[n]`, n x 10 ms, then the router's timers run;
//! - `5` verdict on the oldest message awaiting one: `[v]` (v % 3: accept, ignore, reject);
//! - `6` oversized frame from peer `[p]`; `7` peer `[p]` reconnects;
//! - `8` publish `[t][len][bytes]` on topic `t`; `9` application score `[p][s as i8]`.
#![no_main]

use std::collections::VecDeque;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use pheme_network::{Eth2Transform, router_config, router_score_params, router_thresholds, topic_name};
use pheme_router::{Bytes, Event, MessageId, PeerConnection, PeerId, Protocol, Router, ScoringConfig, Verdict};
use pheme_scoring::{DeriveInput, Profile, ScorePreset, derive};
use pheme_spec::{ChainSpec, GossipKind, Network};

/// A mainnet slot in Fulu.
const SLOT: u64 = 13_500_000;

struct Setup {
    chain: std::sync::Arc<ChainSpec>,
    preset: ScorePreset,
    topics: Vec<String>,
    peers: [PeerId; 4],
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let chain = Network::Mainnet.chain_spec().expect("mainnet");
    let preset = derive(&DeriveInput {
        chain: &chain,
        active_validators: 1_000_000,
        current_slot: SLOT,
        mesh_n: None,
        profile: Profile::Recommendations,
    })
    .expect("derivation");
    let digest = chain.fork_digest_at(chain.epoch_of(SLOT));
    let topics = [
        GossipKind::BeaconBlock,
        GossipKind::BeaconAggregateAndProof,
        GossipKind::BeaconAttestation(3),
        GossipKind::VoluntaryExit,
        GossipKind::SyncCommittee(1),
    ]
    .iter()
    .map(|k| topic_name(digest, *k))
    .collect();
    let peers = std::array::from_fn(|i| {
        libp2p_identity::Keypair::ed25519_from_bytes([i as u8 + 1; 32])
            .expect("key")
            .public()
            .to_peer_id()
    });
    Setup {
        chain: std::sync::Arc::new(chain),
        preset,
        topics,
        peers,
    }
});

fn connection(i: usize) -> PeerConnection {
    PeerConnection {
        protocol: [Protocol::V1_2, Protocol::V1_1, Protocol::V1_0, Protocol::V1_2][i],
        outbound: i % 2 == 0,
        ip: Some(std::net::IpAddr::from([10, 0, 0, (i % 2) as u8])),
    }
}

fuzz_target!(|data: &[u8]| {
    let s = &*SETUP;
    let digest = s.chain.fork_digest_at(s.chain.epoch_of(SLOT));
    let scoring = ScoringConfig {
        params: router_score_params(&[(digest, &s.preset)], &[]).expect("params"),
        thresholds: router_thresholds(&s.preset).expect("thresholds"),
    };
    let config = pheme_router::RouterConfig::builder_from(router_config(&s.preset).expect("config"))
        .max_transmit_size(1 << 20)
        .forward_delay(Duration::from_millis(5))
        .do_px(true)
        .build()
        .expect("config");
    let mut now = Instant::now();
    let mut r = Router::new(config, Some(scoring), Eth2Transform::new(s.chain.clone()), 1, now)
        .expect("router");
    r.set_allowed_topics(s.topics.iter().map(String::as_str));
    for t in &s.topics {
        r.subscribe(now, t);
    }
    for (i, p) in s.peers.iter().enumerate() {
        r.add_peer(now, *p, connection(i));
    }
    let mut pending: VecDeque<MessageId> = VecDeque::new();
    let mut rest = data;
    let take = |rest: &mut &[u8], n: usize| -> Option<Vec<u8>> {
        if rest.len() < n {
            return None;
        }
        let (a, b) = rest.split_at(n);
        *rest = b;
        Some(a.to_vec())
    };
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 10 {
            p @ 0..=3 => {
                let Some(len) = take(&mut rest, 2) else { break };
                let len = usize::from(u16::from_le_bytes([len[0], len[1]])).min(rest.len());
                let frame = take(&mut rest, len).unwrap_or_default();
                r.handle_rpc(now, &s.peers[usize::from(p)], Bytes::from(frame));
            }
            4 => {
                let n = take(&mut rest, 1).map_or(1, |b| u64::from(b[0]));
                now += Duration::from_millis(10 * n);
                r.tick(now);
            }
            5 => {
                let v = take(&mut rest, 1).map_or(0, |b| b[0] % 3);
                if let Some(id) = pending.pop_front() {
                    let v = [Verdict::Accept, Verdict::Ignore, Verdict::Reject][usize::from(v)];
                    r.report(now, &id, v);
                }
            }
            6 => {
                let p = take(&mut rest, 1).map_or(0, |b| usize::from(b[0] % 4));
                r.oversized_frame(now, &s.peers[p], 20_000_000);
            }
            7 => {
                let p = take(&mut rest, 1).map_or(0, |b| usize::from(b[0] % 4));
                r.remove_peer(now, &s.peers[p]);
                r.add_peer(now, s.peers[p], connection(p));
            }
            8 => {
                let Some(h) = take(&mut rest, 2) else { break };
                let len = usize::from(h[1]).min(rest.len());
                let payload = take(&mut rest, len).unwrap_or_default();
                let _ = r.publish(now, &s.topics[usize::from(h[0]) % s.topics.len()], &payload);
            }
            _ => {
                let Some(h) = take(&mut rest, 2) else { break };
                r.set_application_score(&s.peers[usize::from(h[0] % 4)], f64::from(h[1] as i8));
            }
        }
        while let Some(t) = r.poll_transmit(now) {
            r.sent(&t.peer);
        }
        while let Some(e) = r.poll_event() {
            if let Event::Message(m) = e {
                pending.push_back(m.id);
            }
        }
        // Bounded whatever the input: each frame is at most 64 KiB here, so a few thousand
        // operations cannot hold more than this.
        let (seen, records, retained) = r.table_sizes();
        assert!(records <= 1_000_000 && seen <= 2_000_000 && retained <= 4, "{seen} {records} {retained}");
        for p in &s.peers {
            if let Some((queued, in_flight)) = r.queue_len(p) {
                assert!(queued <= r.config().max_forward_queue() + 100_000 && in_flight <= r.config().send_window());
            }
        }
    }
});
