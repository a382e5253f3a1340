//! Mesh maintenance, backoff, GRAFT handling, fanout and publishing.

use std::time::Duration;

use pheme_router::{Event, Protocol, PruneReason, RouterConfig};

use crate::harness::*;

#[test]
fn heartbeat_builds_the_mesh_and_trims_it_keeping_outbound_peers() {
    let mut lab = Lab::new(RouterConfig::builder().do_px(true).build().unwrap(), None);
    let peers: Vec<_> = (0..20).map(|i| lab.peer_on(i < 3, &[TOPIC])).collect();
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    assert_eq!(lab.mesh(TOPIC).len(), 8, "joining grafts D peers");
    let grafted: Vec<_> = peers
        .iter()
        .filter(|p| flatten(&lab.take(p)).grafts == vec![TOPIC.to_owned()])
        .collect();
    assert_eq!(grafted.len(), 8);
    // Inbound peers graft us until D_hi; past it they are refused with PRUNE and PX.
    let outside: Vec<_> = peers
        .iter()
        .filter(|p| !lab.mesh(TOPIC).contains(p))
        .copied()
        .collect();
    for p in &outside {
        lab.recv(*p, graft(TOPIC));
    }
    // Inbound GRAFTs stop at D_hi; outbound peers are always taken.
    let grown = lab.mesh(TOPIC).len();
    assert!((12..=15).contains(&grown), "mesh of {grown}");
    let refused: Vec<_> = outside
        .iter()
        .filter(|p| !flatten(&lab.take(p)).prunes.is_empty())
        .collect();
    assert_eq!(refused.len(), outside.len() - (grown - 8));
    // The heartbeat trims to D, keeping D_out outbound peers.
    lab.heartbeat();
    let mesh = lab.mesh(TOPIC);
    assert_eq!(mesh.len(), 8);
    let outbound_kept = mesh.iter().filter(|p| peers[..3].contains(p)).count();
    assert!(outbound_kept >= 2, "kept {outbound_kept} outbound peers");
    let pruned: Vec<_> = lab
        .take_events()
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                Event::Pruned {
                    reason: PruneReason::Oversubscribed,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(pruned.len(), grown - 8);
}

#[test]
fn a_pruned_peer_is_not_grafted_again_before_its_backoff_and_slack() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let p = lab.peer_on(true, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    assert_eq!(lab.mesh(TOPIC), vec![p]);
    lab.take(&p);
    lab.recv(p, prune(TOPIC, Some(5), vec![]));
    assert!(lab.mesh(TOPIC).is_empty());
    // Heartbeats within 5 s + one heartbeat of slack: no GRAFT though the mesh is below D_lo.
    lab.advance(Duration::from_millis(5600));
    assert!(flatten(&lab.take(&p)).grafts.is_empty());
    // After it: grafted again.
    lab.advance(Duration::from_millis(1500));
    assert_eq!(flatten(&lab.take(&p)).grafts, vec![TOPIC.to_owned()]);
    assert_eq!(lab.mesh(TOPIC), vec![p]);
}

#[test]
fn a_prune_without_backoff_uses_the_configured_one() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let p = lab.peer_on(true, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    lab.recv(p, prune(TOPIC, None, vec![]));
    lab.take(&p);
    lab.advance(Duration::from_secs(59));
    assert!(flatten(&lab.take(&p)).grafts.is_empty());
    lab.advance(Duration::from_secs(3));
    assert_eq!(flatten(&lab.take(&p)).grafts.len(), 1);
}

#[test]
fn graft_inside_backoff_costs_p7_twice_within_the_flood_threshold() {
    let mut lab = Lab::scored();
    let p = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    lab.recv(p, prune(TOPIC, Some(60), vec![]));
    lab.take(&p);
    lab.recv(p, graft(TOPIC));
    let sent = flatten(&lab.take(&p));
    assert_eq!(sent.prunes.len(), 1, "refused with PRUNE");
    assert!(
        sent.prunes[0].peers.is_empty(),
        "no PX to a misbehaving peer"
    );
    let b = lab.r.score_breakdown(&p).unwrap();
    assert_eq!(b.behaviour_penalty, 2.0);
    assert_eq!(b.p7, -10.0 * 4.0);
    assert!(!lab.mesh(TOPIC).contains(&p));
    // Later, past the flood threshold but still inside the (refreshed) backoff: +1.
    lab.advance(Duration::from_secs(15));
    let before = lab.r.score_breakdown(&p).unwrap().behaviour_penalty;
    lab.recv(p, graft(TOPIC));
    let after = lab.r.score_breakdown(&p).unwrap().behaviour_penalty;
    assert!((after - before - 1.0).abs() < 1e-9, "{before} -> {after}");
}

#[test]
fn grafts_on_unknown_or_unjoined_topics_are_ignored() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let p = lab.peer_on(false, &[TOPIC]);
    lab.recv(p, graft(TOPIC));
    lab.recv(p, graft("/nowhere"));
    assert!(lab.mesh(TOPIC).is_empty());
    let sent = flatten(&lab.take(&p));
    assert!(sent.prunes.is_empty() && sent.grafts.is_empty());
}

#[test]
fn negative_peers_are_pruned_without_px_and_not_grafted_back() {
    let mut lab = Lab::new(
        RouterConfig::builder().do_px(true).build().unwrap(),
        Some(scoring()),
    );
    let bad = lab.peer_on(true, &[TOPIC]);
    let good = lab.peer_on(true, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    assert_eq!(lab.mesh(TOPIC).len(), 2);
    lab.r.set_application_score(&bad, -1.0);
    lab.take(&bad);
    lab.heartbeat();
    assert_eq!(lab.mesh(TOPIC), vec![good]);
    let sent = flatten(&lab.take(&bad));
    assert_eq!(sent.prunes.len(), 1);
    assert!(sent.prunes[0].peers.is_empty());
    assert_eq!(sent.prunes[0].backoff, Some(60));
    lab.r.set_application_score(&bad, 0.0);
    lab.advance(Duration::from_secs(30));
    assert!(flatten(&lab.take(&bad)).grafts.is_empty(), "backoff holds");
}

#[test]
fn v1_0_peers_get_prune_without_backoff_and_no_idontwant() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let old = lab.connect_with(true, Protocol::V1_0, None);
    lab.recv(old, subs(&[TOPIC]));
    let new = lab.peer_on(true, &[TOPIC]);
    let src = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    assert_eq!(lab.mesh(TOPIC).len(), 3);
    lab.take(&old);
    lab.take(&new);
    // A large message: IDONTWANT goes to the v1.2 peer only.
    let data = vec![1u8; 2000];
    lab.recv(src, msg(TOPIC, &data));
    assert_eq!(flatten(&lab.take(&new)).idontwant_ids.len(), 1);
    assert!(flatten(&lab.take(&old)).idontwant_ids.is_empty());
    assert!(
        flatten(&lab.take(&src)).idontwant_ids.is_empty(),
        "not to the sender"
    );
    lab.r.unsubscribe(lab.now, TOPIC);
    lab.pump();
    let to_old = flatten(&lab.take(&old));
    assert_eq!(to_old.prunes.len(), 1);
    assert_eq!(to_old.prunes[0].backoff, None, "v1.0 PRUNE has no backoff");
    assert_eq!(
        flatten(&lab.take(&new)).prunes[0].backoff,
        Some(10),
        "unsubscribe backoff"
    );
}

#[test]
fn a_large_flood_publish_goes_to_the_mesh_first_and_stops_at_its_byte_budget() {
    // 40 topic peers; a budget of 12 copies of a 1,000-byte message: the 8 mesh peers and 4
    // more, the mesh's frames first.
    let mut lab = Lab::new(
        RouterConfig::builder()
            .flood_publish_max_bytes(12_000)
            .build()
            .unwrap(),
        None,
    );
    let peers = lab.joined(40, true);
    lab.heartbeat();
    let mesh = lab.mesh(TOPIC);
    assert_eq!(mesh.len(), 8);
    lab.sent.clear();
    lab.r.publish(lab.now, TOPIC, &[7u8; 1_000]).unwrap();
    let mut order = Vec::new();
    while let Some(t) = lab.r.poll_transmit(lab.now) {
        lab.r.sent(&t.peer);
        order.push(t.peer);
    }
    assert_eq!(order.len(), 12, "{order:?}");
    assert!(
        order[..8].iter().all(|p| mesh.contains(p)),
        "the mesh first"
    );
    assert!(
        order[8..]
            .iter()
            .all(|p| peers.contains(p) && !mesh.contains(p))
    );
    assert_eq!(lab.r.stats().flood_publish_capped, 1);
    // A small message still reaches every topic peer.
    lab.r.publish(lab.now, TOPIC, b"small").unwrap();
    let mut n = 0;
    while let Some(t) = lab.r.poll_transmit(lab.now) {
        lab.r.sent(&t.peer);
        n += 1;
    }
    assert_eq!(n, 40);
}

#[test]
fn flood_publishing_reaches_every_topic_peer_and_mesh_publishing_only_the_mesh() {
    for flood in [true, false] {
        let mut lab = Lab::new(
            RouterConfig::builder()
                .flood_publish(flood)
                .build()
                .unwrap(),
            None,
        );
        let peers = lab.joined(14, true);
        for p in &peers {
            lab.take(p);
        }
        lab.r.publish(lab.now, TOPIC, b"hello").unwrap();
        lab.pump();
        let got = peers
            .iter()
            .filter(|p| flatten(&lab.take(p)).messages.len() == 1)
            .count();
        assert_eq!(got, if flood { 14 } else { 8 }, "flood={flood}");
        assert!(matches!(
            lab.r.publish(lab.now, TOPIC, b"hello"),
            Err(pheme_router::PublishError::Duplicate(_))
        ));
    }
}

#[test]
fn fanout_holds_d_peers_for_its_ttl_then_expires() {
    let mut lab = Lab::new(
        RouterConfig::builder()
            .flood_publish(false)
            .build()
            .unwrap(),
        None,
    );
    let peers: Vec<_> = (0..14).map(|_| lab.peer_on(true, &[OTHER])).collect();
    let recipients = |lab: &mut Lab| -> Vec<_> {
        lab.pump();
        peers
            .iter()
            .filter(|p| !flatten(&lab.take(p)).messages.is_empty())
            .copied()
            .collect()
    };
    lab.r.publish(lab.now, OTHER, b"one").unwrap();
    let first = recipients(&mut lab);
    assert_eq!(first.len(), 8);
    lab.advance(Duration::from_secs(30));
    lab.r.publish(lab.now, OTHER, b"two").unwrap();
    assert_eq!(
        recipients(&mut lab),
        first,
        "the same fanout within its TTL"
    );
    // Idle past the TTL: the fanout is dropped, so a new publish draws afresh (eight of
    // fourteen twice in a row would be 1 in 3003).
    lab.advance(Duration::from_secs(61));
    let mut fresh = false;
    for i in 0..3u8 {
        lab.r.publish(lab.now, OTHER, &[b'x', i]).unwrap();
        let r = recipients(&mut lab);
        assert_eq!(r.len(), 8);
        fresh |= r != first;
        lab.advance(Duration::from_secs(61));
    }
    assert!(fresh);
}

#[test]
fn a_peer_leaving_a_topic_leaves_the_mesh() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let p = lab.peer_on(true, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    assert_eq!(lab.mesh(TOPIC), vec![p]);
    lab.recv(p, unsub(TOPIC));
    assert!(lab.mesh(TOPIC).is_empty());
    assert!(lab.r.topic_peers(TOPIC).is_empty());
    lab.r.remove_peer(lab.now, &p);
    assert!(!lab.r.is_connected(&p));
}
