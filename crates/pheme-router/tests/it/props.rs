//! Property tests of the router's invariants under arbitrary sequences of peer behaviour:
//! meshes hold only subscribed, connected peers and at most D_hi of them after a heartbeat;
//! no GRAFT goes to a peer inside its backoff; score components sum to the score; and the
//! same inputs give the same outputs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use libp2p_identity::Keypair;
use pheme_router::wire::Rpc;
use pheme_router::{PeerConnection, PeerId, Protocol, Router, RouterConfig, Verdict};
use proptest::prelude::*;
use prost::Message as _;

use crate::harness::*;

const TOPICS: [&str; 2] = [TOPIC, OTHER];

#[derive(Debug, Clone)]
enum Action {
    Connect(bool),
    Disconnect(usize),
    Sub(usize, usize),
    Unsub(usize, usize),
    Graft(usize, usize),
    Prune(usize, usize, u8),
    Msg(usize, usize, u8, u8),
    IHave(usize, usize, u8),
    Junk(usize, Vec<u8>),
    AppScore(usize, i8),
    Wait(u16),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => any::<bool>().prop_map(Action::Connect),
        1 => (0..16usize).prop_map(Action::Disconnect),
        3 => (0..16usize, 0..2usize).prop_map(|(p, t)| Action::Sub(p, t)),
        1 => (0..16usize, 0..2usize).prop_map(|(p, t)| Action::Unsub(p, t)),
        3 => (0..16usize, 0..2usize).prop_map(|(p, t)| Action::Graft(p, t)),
        2 => (0..16usize, 0..2usize, 0..20u8).prop_map(|(p, t, b)| Action::Prune(p, t, b)),
        4 => (0..16usize, 0..2usize, any::<u8>(), 0..4u8).prop_map(|(p, t, d, v)| Action::Msg(p, t, d, v)),
        1 => (0..16usize, 0..2usize, any::<u8>()).prop_map(|(p, t, d)| Action::IHave(p, t, d)),
        1 => (0..16usize, proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(p, b)| Action::Junk(p, b)),
        1 => (0..16usize, any::<i8>()).prop_map(|(p, s)| Action::AppScore(p, s)),
        4 => (1..3000u16).prop_map(Action::Wait),
    ]
}

/// Runs `actions` against a fresh router (same keys and seed every time) and returns the
/// transcript: every frame and event, rendered.
fn run(actions: &[Action], t0: Instant, check: bool) -> Vec<String> {
    let cfg = RouterConfig::builder()
        .mesh_n(4)
        .mesh_n_low(3)
        .mesh_n_high(6)
        .mesh_n_score(2)
        .mesh_outbound_min(1)
        .do_px(true)
        .build()
        .unwrap();
    let mut r = Router::new(cfg.clone(), Some(scoring()), TestTransform, 42, t0).unwrap();
    let keys: Vec<PeerId> = (0..16u8)
        .map(|i| {
            Keypair::ed25519_from_bytes([i + 1; 32])
                .unwrap()
                .public()
                .to_peer_id()
        })
        .collect();
    let mut connected = [false; 16];
    let mut next = 0usize;
    let mut now = t0;
    let mut out = Vec::new();
    // (peer, topic) -> time before which the router must not GRAFT.
    let mut no_graft_before: HashMap<(PeerId, String), Instant> = HashMap::new();
    for t in TOPICS {
        r.subscribe(now, t);
    }
    let frame = |rpc: Rpc| Bytes::from(rpc.encode_to_vec());
    for a in actions {
        let peer = |i: usize| keys[i % 16];
        match a.clone() {
            Action::Connect(outbound) => {
                let i = next % 16;
                next += 1;
                if !connected[i] {
                    connected[i] = true;
                    r.add_peer(
                        now,
                        keys[i],
                        PeerConnection {
                            protocol: if i.is_multiple_of(5) {
                                Protocol::V1_1
                            } else {
                                Protocol::V1_2
                            },
                            outbound,
                            ip: Some(std::net::IpAddr::from([10, 0, 0, (i % 4) as u8])),
                        },
                    );
                }
            }
            Action::Disconnect(i) => {
                connected[i] = false;
                r.remove_peer(now, &peer(i));
            }
            Action::Sub(i, t) => r.handle_rpc(now, &peer(i), frame(subs(&[TOPICS[t]]))),
            Action::Unsub(i, t) => r.handle_rpc(now, &peer(i), frame(unsub(TOPICS[t]))),
            Action::Graft(i, t) => r.handle_rpc(now, &peer(i), frame(graft(TOPICS[t]))),
            Action::Prune(i, t, b) => {
                let backoff = if b == 0 { 60 } else { u64::from(b) };
                // A PRUNE from a peer that is not connected, or graylisted, is dropped.
                if !r.is_connected(&peer(i)) || r.score(&peer(i)) < r.thresholds().graylist {
                    continue;
                }
                r.handle_rpc(
                    now,
                    &peer(i),
                    frame(prune(TOPICS[t], Some(backoff), vec![])),
                );
                no_graft_before
                    .entry((peer(i), TOPICS[t].to_owned()))
                    .and_modify(|x| *x = (*x).max(now + Duration::from_secs(backoff)))
                    .or_insert(now + Duration::from_secs(backoff));
            }
            Action::Msg(i, t, d, v) => {
                let data = if v == 3 { vec![0xff, d] } else { vec![d, v] };
                r.handle_rpc(now, &peer(i), frame(msg(TOPICS[t], &data)));
            }
            Action::IHave(i, t, d) => r.handle_rpc(
                now,
                &peer(i),
                frame(ihave(TOPICS[t], &[id_of(TOPICS[t], &[d])])),
            ),
            Action::Junk(i, b) => r.handle_rpc(now, &peer(i), Bytes::from(b)),
            Action::AppScore(i, s) => r.set_application_score(&peer(i), f64::from(s)),
            Action::Wait(ms) => {
                let end = now + Duration::from_millis(u64::from(ms));
                while r.poll_timeout() <= end {
                    now = r.poll_timeout();
                    r.tick(now);
                    if check {
                        for t in TOPICS {
                            let mesh = r.mesh_peers(t);
                            assert!(
                                mesh.len() <= cfg.mesh_n_high(),
                                "mesh of {} on {t}",
                                mesh.len()
                            );
                            for p in &mesh {
                                assert!(r.is_connected(p));
                                assert!(
                                    r.topic_peers(t).contains(p),
                                    "{p} in mesh, not subscribed"
                                );
                            }
                        }
                    }
                }
                now = end;
            }
        }
        // Verdicts for everything handed out: by the data's second byte.
        while let Some(e) = r.poll_event() {
            if let pheme_router::Event::Message(m) = &e {
                let v = match m.payload.get(1) {
                    Some(0) => Verdict::Accept,
                    Some(1) => Verdict::Ignore,
                    _ => Verdict::Reject,
                };
                r.report(now, &m.id, v);
            }
            out.push(format!("{e:?}").replace(&format!("{t0:?}"), "t0"));
        }
        while let Some(t) = r.poll_transmit(now) {
            r.sent(&t.peer);
            let rpc = Rpc::decode(t.frame.body()).unwrap();
            if check && let Some(c) = &rpc.control {
                for g in &c.graft {
                    let name = String::from_utf8_lossy(g.topic_id.as_deref().unwrap_or_default())
                        .into_owned();
                    if let Some(until) = no_graft_before.get(&(t.peer, name.clone())) {
                        assert!(
                            now >= *until,
                            "GRAFT to {} on {name} inside its backoff",
                            t.peer
                        );
                    }
                }
                for p in &c.prune {
                    let name = String::from_utf8_lossy(p.topic_id.as_deref().unwrap_or_default())
                        .into_owned();
                    let until = now + Duration::from_secs(p.backoff.unwrap_or(60));
                    let e = no_graft_before.entry((t.peer, name)).or_insert(until);
                    *e = (*e).max(until);
                }
            }
            out.push(format!("{} {:?}", t.peer, t.frame.to_bytes()));
        }
        if check {
            for p in keys.iter().filter(|p| r.is_connected(p)) {
                let b = r.score_breakdown(p).unwrap();
                let diff = (b.sum_of_components() - r.score(p)).abs();
                assert!(diff <= 1e-6 * r.score(p).abs().max(1.0), "{b:?}");
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_arbitrary_peers(actions in proptest::collection::vec(action(), 1..200)) {
        run(&actions, Instant::now(), true);
    }

    #[test]
    fn same_inputs_same_outputs(actions in proptest::collection::vec(action(), 1..120)) {
        let t0 = Instant::now();
        prop_assert_eq!(run(&actions, t0, false), run(&actions, t0, false));
    }
}
