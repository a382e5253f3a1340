//! The opt-in control trace: off, nothing is kept; on, every GRAFT, PRUNE, IHAVE, IWANT and
//! IDONTWANT in and out is a record, and the records equal the router's counters.

use std::collections::BTreeMap;
use std::time::Duration;

use pheme_router::{ControlDirection, ControlKind, RouterConfig, Verdict};

use crate::harness::*;

/// Records per (kind, direction): how many, and their message-ids.
fn tally(lab: &mut Lab) -> BTreeMap<(&'static str, &'static str), (u64, u64)> {
    let mut out = BTreeMap::new();
    for r in lab.r.drain_control() {
        let e = out
            .entry((r.kind.name(), r.direction.name()))
            .or_insert((0, 0));
        e.0 += 1;
        e.1 += u64::from(r.message_ids);
    }
    out
}

#[test]
fn off_by_default_and_records_nothing() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let peers = lab.joined(8, true);
    lab.recv(peers[0], graft(TOPIC));
    lab.heartbeat();
    assert!(lab.r.stats().graft_sent > 0);
    assert_eq!(lab.r.drain_control().count(), 0);
    assert_eq!(lab.r.control_dropped(), 0);
}

#[test]
fn every_control_message_in_and_out_is_a_record_equal_to_the_counters() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    lab.r.set_control_trace(Some(1 << 16));
    let peers = lab.joined(12, true);
    let mesh = lab.mesh(TOPIC);
    let outside: Vec<_> = peers
        .iter()
        .filter(|p| !mesh.contains(p))
        .copied()
        .collect();
    // In: a GRAFT, a PRUNE with backoff and no PX, IHAVE of two ids, IWANT, IDONTWANT.
    lab.recv(outside[0], graft(TOPIC));
    lab.recv(mesh[0], prune(TOPIC, Some(60), vec![]));
    let unknown = [id_of(TOPIC, b"a"), id_of(TOPIC, b"b")];
    lab.recv(outside[1], ihave(TOPIC, &unknown));
    lab.recv(outside[2], iwant(&unknown));
    lab.recv(mesh[1], idontwant(&unknown[..1]));
    // Out: a large message from the mesh gets IDONTWANT to the rest of the mesh; accepted, it
    // is gossiped (IHAVE) at the next heartbeats.
    let big = vec![7u8; 2_000];
    lab.recv(mesh[2], msg(TOPIC, &big));
    for id in validated(&lab.take_events()) {
        lab.r.report(lab.now, &id, Verdict::Accept);
    }
    lab.advance(Duration::from_secs(3));
    let t = tally(&mut lab);
    let s = lab.r.stats().clone();
    let get = |k: &'static str, d: &'static str| t.get(&(k, d)).copied().unwrap_or_default();
    assert_eq!(get("graft", "in").0, s.graft_received);
    assert_eq!(get("graft", "out").0, s.graft_sent);
    assert_eq!(get("prune", "in").0, s.prune_received);
    assert_eq!(get("prune", "out").0, s.prune_sent);
    assert_eq!(get("ihave", "in").0, s.ihave_received);
    assert_eq!(get("ihave", "out").0, s.ihave_sent);
    assert_eq!(get("iwant", "in").0, s.iwant_received);
    assert_eq!(get("iwant", "out").0, s.iwant_sent);
    assert_eq!(get("idontwant", "in").1, s.idontwant_received);
    assert_eq!(get("idontwant", "out").0, s.idontwant_sent);
    for (k, d) in [
        ("graft", "in"),
        ("graft", "out"),
        ("prune", "in"),
        ("ihave", "in"),
        ("ihave", "out"),
        ("iwant", "in"),
        ("iwant", "out"),
        ("idontwant", "in"),
        ("idontwant", "out"),
    ] {
        assert!(get(k, d).0 > 0, "no {k} {d}: {t:?}");
    }
    assert_eq!(get("ihave", "in").1, 2);
    assert_eq!(lab.r.drain_control().count(), 0, "drained");
}

#[test]
fn records_carry_peer_topic_backoff_and_px() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    lab.r.set_control_trace(Some(1 << 16));
    let peers = lab.joined(4, true);
    let _ = lab.r.drain_control().count();
    let t0 = lab.now;
    lab.recv(peers[0], prune(TOPIC, Some(30), vec![]));
    let r: Vec<_> = lab.r.drain_control().collect();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].peer, peers[0]);
    assert_eq!(r[0].at, t0);
    assert_eq!(
        (r[0].kind, r[0].direction),
        (ControlKind::Prune, ControlDirection::In)
    );
    assert_eq!(r[0].topic.as_deref(), Some(TOPIC));
    assert_eq!((r[0].backoff_secs, r[0].px_peers), (Some(30), 0));
    // IWANT carries no topic.
    lab.recv(peers[1], iwant(&[id_of(TOPIC, b"x")]));
    let r: Vec<_> = lab.r.drain_control().collect();
    assert_eq!(
        (r[0].kind, r[0].topic.clone(), r[0].message_ids),
        (ControlKind::IWant, None, 1)
    );
}

#[test]
fn a_full_buffer_drops_and_counts() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let peers = lab.joined(4, true);
    lab.r.set_control_trace(Some(2));
    for _ in 0..5 {
        lab.recv(peers[0], iwant(&[id_of(TOPIC, b"x")]));
    }
    assert_eq!(lab.r.drain_control().count(), 2);
    assert_eq!(lab.r.control_dropped(), 3);
    lab.r.set_control_trace(None);
    lab.recv(peers[0], iwant(&[id_of(TOPIC, b"x")]));
    assert_eq!(lab.r.drain_control().count(), 0);
}
