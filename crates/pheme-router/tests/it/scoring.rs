//! Scoring: each component from the behaviour that earns it, graylisting, retention, decay.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use pheme_router::{Event, Protocol, Refusal, Verdict};

use crate::harness::*;

fn meshed(lab: &mut Lab, n: usize) -> Vec<pheme_router::PeerId> {
    let peers: Vec<_> = (0..n).map(|_| lab.peer_on(true, &[TOPIC])).collect();
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    assert_eq!(lab.mesh(TOPIC).len(), n.min(8));
    peers
}

fn deliver(lab: &mut Lab, from: pheme_router::PeerId, data: &[u8], verdict: Verdict) {
    lab.recv(from, msg(TOPIC, data));
    for id in validated(&lab.take_events()) {
        lab.r.report(lab.now, &id, verdict);
    }
    lab.pump();
}

#[test]
fn p3_activates_after_its_activation_time_and_counts_near_first_copies() {
    let mut lab = Lab::scored();
    let peers = meshed(&mut lab, 3);
    let (a, b, c) = (peers[0], peers[1], peers[2]);
    // Application scores keep them in the mesh once their deficit counts.
    for p in &peers {
        lab.r.set_application_score(p, 100.0);
    }
    // Before activation: no deficit.
    lab.advance(Duration::from_secs(4));
    let br = lab.r.score_breakdown(&a).unwrap();
    assert!(!br.topics[0].mesh_message_deliveries_active);
    assert_eq!(br.topics[0].terms.p3, 0.0);
    // After it, with nothing delivered: (threshold 4 - 0)^2 x -1.
    lab.advance(Duration::from_secs(2));
    let br = lab.r.score_breakdown(&a).unwrap();
    assert!(br.topics[0].mesh_message_deliveries_active);
    assert_eq!(br.topics[0].terms.p3, -16.0);
    assert!(lab.score(&a) < 100.0 - 15.0);
    // a delivers first; b's copy comes within the 100 ms window after validation and is
    // credited; c's comes after it and is not.
    deliver(&mut lab, a, b"m1", Verdict::Accept);
    lab.advance(Duration::from_millis(50));
    lab.recv(b, msg(TOPIC, b"m1"));
    lab.advance(Duration::from_millis(100));
    lab.recv(c, msg(TOPIC, b"m1"));
    let counter =
        |lab: &Lab, p| lab.r.score_breakdown(p).unwrap().topics[0].mesh_message_deliveries;
    assert_eq!(counter(&lab, &a), 1.0);
    assert_eq!(counter(&lab, &b), 1.0);
    assert_eq!(counter(&lab, &c), 0.0);
    assert_eq!(
        lab.r.score_breakdown(&a).unwrap().topics[0].first_message_deliveries,
        1.0
    );
    assert_eq!(
        lab.r.score_breakdown(&b).unwrap().topics[0].first_message_deliveries,
        0.0
    );
    // Copies that arrive while the first is being validated are credited at the verdict.
    lab.recv(a, msg(TOPIC, b"m2"));
    lab.recv(c, msg(TOPIC, b"m2"));
    for id in validated(&lab.take_events()) {
        lab.r.report(lab.now, &id, Verdict::Accept);
    }
    assert_eq!(counter(&lab, &c), 1.0);
    // Enough deliveries clear the deficit.
    for i in 0..3u8 {
        deliver(&mut lab, a, &[b'n', i], Verdict::Accept);
    }
    lab.heartbeat();
    let br = lab.r.score_breakdown(&a).unwrap();
    assert_eq!(br.topics[0].terms.p3, 0.0, "{br:?}");
    assert!(lab.score(&a) > 100.0);
}

#[test]
fn p3b_charges_the_deficit_of_a_peer_leaving_the_mesh() {
    let mut lab = Lab::scored();
    let a = meshed(&mut lab, 1)[0];
    // Silent in the mesh: once P3 activates (5 s) its -16 makes the score negative and the
    // same heartbeat prunes it, moving the deficit into P3b.
    lab.advance(Duration::from_secs(6));
    assert!(lab.mesh(TOPIC).is_empty());
    assert!(lab.take_events().iter().any(|e| matches!(
        e,
        Event::Pruned { peer, reason: pheme_router::PruneReason::NegativeScore, .. } if *peer == a
    )));
    let br = lab.r.score_breakdown(&a).unwrap();
    assert_eq!(br.topics[0].mesh_failure_penalty, 16.0);
    assert_eq!(br.topics[0].terms.p3b, -16.0);
    assert_eq!(br.topics[0].terms.p3, 0.0, "out of the mesh, no P3");
    // It decays like the other counters: x0.9 every decay interval (1 s), at the heartbeats
    // that follow each interval's end.
    lab.advance(Duration::from_millis(1400));
    let decayed = lab.r.score_breakdown(&a).unwrap().topics[0].mesh_failure_penalty;
    let steps = (decayed / 16.0).ln() / 0.9f64.ln();
    assert!(
        (steps - steps.round()).abs() < 1e-9 && (1.0..=2.0).contains(&steps.round()),
        "{decayed}"
    );
}

#[test]
fn p7_from_a_broken_iwant_promise() {
    let mut lab = Lab::scored();
    meshed(&mut lab, 1);
    let liar = lab.peer_on(false, &[TOPIC]);
    let honest = lab.peer_on(false, &[TOPIC]);
    let (x, y) = (id_of(TOPIC, b"x"), id_of(TOPIC, b"y"));
    lab.recv(liar, ihave(TOPIC, std::slice::from_ref(&x)));
    lab.recv(honest, ihave(TOPIC, std::slice::from_ref(&y)));
    assert_eq!(flatten(&lab.take(&liar)).iwant_ids, vec![x.0.clone()]);
    assert_eq!(flatten(&lab.take(&honest)).iwant_ids, vec![y.0.clone()]);
    lab.advance(Duration::from_secs(1));
    lab.recv(honest, msg(TOPIC, b"y"));
    lab.advance(Duration::from_secs(3));
    // One broken promise (+1), decayed at most once since (x0.9).
    let b = lab.r.score_breakdown(&liar).unwrap();
    assert!(
        b.behaviour_penalty == 1.0 || b.behaviour_penalty == 0.9,
        "{b:?}"
    );
    assert!((b.p7 + 10.0 * b.behaviour_penalty * b.behaviour_penalty).abs() < 1e-9);
    assert_eq!(
        lab.r.score_breakdown(&honest).unwrap().behaviour_penalty,
        0.0
    );
    assert_eq!(lab.r.stats().broken_promises, 1);
    // The same id is not asked for twice in one heartbeat's IHAVE (already promised ids
    // still count as unseen, so a later IHAVE asks again).
}

#[test]
fn p4_for_every_deliverer_of_a_rejected_message_and_for_refusals() {
    let mut lab = Lab::scored();
    let peers = meshed(&mut lab, 3);
    lab.recv(peers[0], msg(TOPIC, b"bad"));
    lab.recv(peers[1], msg(TOPIC, b"bad"));
    for id in validated(&lab.take_events()) {
        lab.r.report(lab.now, &id, Verdict::Reject);
    }
    // A copy after the verdict costs too.
    lab.recv(peers[2], msg(TOPIC, b"bad"));
    for p in &peers {
        let br = lab.r.score_breakdown(p).unwrap();
        assert_eq!(br.topics[0].invalid_message_deliveries, 1.0, "{p}");
        assert_eq!(br.topics[0].terms.p4, -10.0);
    }
    // IGNORE costs nothing.
    deliver(&mut lab, peers[0], b"meh", Verdict::Ignore);
    assert_eq!(
        lab.r.score_breakdown(&peers[0]).unwrap().topics[0].invalid_message_deliveries,
        1.0
    );
    // The transform's refusal and a signed message (StrictNoSign) are REJECTs too, each
    // with an event.
    lab.recv(peers[1], msg(TOPIC, &[0xff, 1, 2]));
    let mut signed = msg(TOPIC, b"signed");
    signed.publish[0].seqno = Some(bytes::Bytes::from_static(b"12345678"));
    lab.recv(peers[1], signed);
    let refusals: Vec<_> = lab
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Refused { reason, id, .. } => Some((reason, id.is_some())),
            _ => None,
        })
        .collect();
    assert_eq!(
        refusals,
        vec![
            (Refusal::Transform("bad_encoding"), true),
            (Refusal::Signed, false)
        ]
    );
    assert_eq!(
        lab.r.score_breakdown(&peers[1]).unwrap().topics[0].invalid_message_deliveries,
        3.0
    );
    // A copy of the refused message is penalised without running the transform again.
    lab.recv(peers[2], msg(TOPIC, &[0xff, 1, 2]));
    assert_eq!(
        lab.r.score_breakdown(&peers[2]).unwrap().topics[0].invalid_message_deliveries,
        2.0
    );
}

#[test]
fn p2_credits_the_first_deliverer_up_to_its_cap_and_decays() {
    let mut lab = Lab::scored();
    let a = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    for i in 0..60u32 {
        deliver(&mut lab, a, &i.to_le_bytes(), Verdict::Accept);
    }
    let br = lab.r.score_breakdown(&a).unwrap();
    assert_eq!(br.topics[0].first_message_deliveries, 50.0, "capped");
    lab.advance(Duration::from_millis(1500));
    let decayed = lab.r.score_breakdown(&a).unwrap().topics[0].first_message_deliveries;
    assert!((decayed - 45.0).abs() < 1e-9, "one decay step: {decayed}");
}

#[test]
fn p5_and_p6() {
    let mut lab = Lab::scored();
    let ip = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    let same: Vec<_> = (0..3)
        .map(|_| lab.connect_with(false, Protocol::V1_2, ip))
        .collect();
    for p in &same {
        // 3 peers on one IP, threshold 2: (3 - 2)^2 x -5.
        assert_eq!(lab.r.score_breakdown(p).unwrap().p6, -5.0);
    }
    lab.r.remove_peer(lab.now, &same[2]);
    assert_eq!(lab.r.score_breakdown(&same[0]).unwrap().p6, 0.0);
    lab.r.set_application_score(&same[0], 3.5);
    let br = lab.r.score_breakdown(&same[0]).unwrap();
    assert_eq!(br.p5, 3.5);
    assert_eq!(lab.score(&same[0]), 3.5);
}

#[test]
fn the_ip_colocation_whitelist_exempts_an_address() {
    let mut cfg = scoring();
    let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
    cfg.params.ip_colocation_whitelist = vec![ip];
    let mut lab = Lab::new(Default::default(), Some(cfg));
    let peers: Vec<_> = (0..4)
        .map(|_| lab.connect_with(false, Protocol::V1_2, Some(ip)))
        .collect();
    assert_eq!(lab.r.score_breakdown(&peers[0]).unwrap().p6, 0.0);
}

#[test]
fn graylisted_peers_are_ignored_but_their_subscriptions_kept() {
    let mut lab = Lab::scored();
    let bad = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    for i in 0..3u8 {
        lab.recv(bad, msg(TOPIC, &[0xff, i]));
    }
    // 3 invalid: 3^2 x -10 = -90 < -40 (P1 adds a little once the heartbeat counts it).
    assert_eq!(lab.score(&bad), -90.0);
    lab.heartbeat();
    assert!(lab.take_events().iter().any(
        |e| matches!(e, Event::Graylisted { peer, score } if *peer == bad && (*score + 90.0).abs() < 0.01)
    ));
    lab.recv(bad, msg(TOPIC, b"valid but ignored"));
    assert!(validated(&lab.take_events()).is_empty());
    assert!(lab.r.stats().graylisted_rpcs >= 1);
    lab.recv(bad, subs(&[OTHER]));
    assert_eq!(lab.r.topic_peers(OTHER), vec![bad]);
}

#[test]
fn a_negative_score_is_retained_across_a_reconnect() {
    let mut lab = Lab::scored();
    let p = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.recv(p, msg(TOPIC, &[0xff]));
    assert_eq!(lab.score(&p), -10.0);
    lab.r.remove_peer(lab.now, &p);
    lab.r.add_peer(
        lab.now,
        p,
        pheme_router::PeerConnection {
            protocol: Protocol::V1_2,
            outbound: false,
            ip: None,
        },
    );
    assert_eq!(lab.score(&p), -10.0);
    assert_eq!(lab.r.table_sizes().2, 0, "taken back out of retention");
}

#[test]
fn the_breakdown_sums_to_the_score_decisions_use() {
    let mut lab = Lab::scored();
    let peers = meshed(&mut lab, 4);
    lab.advance(Duration::from_secs(6));
    for (i, p) in peers.iter().enumerate() {
        deliver(&mut lab, *p, &[i as u8; 3], Verdict::Accept);
        if i % 2 == 0 {
            lab.recv(*p, msg(TOPIC, &[0xff, i as u8]));
        }
        lab.r.set_application_score(p, i as f64);
    }
    lab.advance(Duration::from_millis(300));
    for p in &peers {
        let b = lab.r.score_breakdown(p).unwrap();
        assert!(
            (b.sum_of_components() - lab.score(p)).abs() < 1e-9,
            "{} vs {}",
            b.sum_of_components(),
            lab.score(p)
        );
        assert_eq!(b.score, lab.score(p));
    }
}

#[test]
fn score_events_follow_changes_at_the_heartbeat() {
    let mut lab = Lab::scored();
    let p = lab.peer_on(false, &[TOPIC]);
    lab.take_events();
    lab.r.set_application_score(&p, 5.0);
    lab.heartbeat();
    assert!(
        lab.take_events().iter().any(
            |e| matches!(e, Event::ScoreChanged { peer, score } if *peer == p && *score == 5.0)
        )
    );
    lab.heartbeat();
    assert!(
        !lab.take_events()
            .iter()
            .any(|e| matches!(e, Event::ScoreChanged { .. }))
    );
}
