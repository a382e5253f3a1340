//! IHAVE/IWANT, IDONTWANT, forwarding, opportunistic grafting.

use std::time::Duration;

use bytes::Bytes;
use pheme_router::{
    Event, MessageId, PeerConnection, PeerId, Protocol, RouterConfig, RouterConfigBuilder, Verdict,
};

use crate::harness::*;

#[test]
fn accepted_messages_are_forwarded_to_the_mesh_but_not_back() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let peers = lab.joined(10, true);
    let mesh = lab.mesh(TOPIC);
    let src = mesh[0];
    lab.recv(src, msg(TOPIC, b"fwd"));
    let ids = validated(&lab.take_events());
    assert_eq!(ids.len(), 1);
    lab.pump();
    assert!(
        peers
            .iter()
            .all(|p| flatten(&lab.take(p)).messages.is_empty()),
        "not before the verdict"
    );
    lab.r.report(lab.now, &ids[0], Verdict::Accept);
    lab.pump();
    for p in &peers {
        let got = flatten(&lab.take(p)).messages.len();
        let want = usize::from(mesh.contains(p) && *p != src);
        assert_eq!(got, want, "{p}");
    }
    // A second copy is a duplicate: not validated again, not forwarded.
    lab.recv(mesh[1], msg(TOPIC, b"fwd"));
    assert!(validated(&lab.take_events()).is_empty());
    assert_eq!(lab.r.stats().duplicates, 1);
}

#[test]
fn ignored_and_rejected_messages_are_not_forwarded() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let peers = lab.joined(4, true);
    for (i, v) in [Verdict::Ignore, Verdict::Reject].into_iter().enumerate() {
        lab.recv(peers[0], msg(TOPIC, &[i as u8]));
        for id in validated(&lab.take_events()) {
            lab.r.report(lab.now, &id, v);
        }
        lab.pump();
        assert!(
            peers[1..]
                .iter()
                .all(|p| flatten(&lab.take(p)).messages.is_empty())
        );
    }
}

#[test]
fn gossip_goes_to_d_lazy_non_mesh_peers_and_iwant_is_answered_up_to_the_limit() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let peers = lab.joined(30, true);
    let mesh = lab.mesh(TOPIC);
    let id = lab.r.publish(lab.now, TOPIC, b"gossip me").unwrap();
    lab.pump();
    lab.heartbeat();
    let told: Vec<_> = peers
        .iter()
        .filter(|p| flatten(&lab.take(p)).ihave_ids.contains(&id.0))
        .copied()
        .collect();
    // 22 eligible non-mesh peers: max(D_lazy 6, 0.25 x 22) = 6.
    assert_eq!(told.len(), 6);
    assert!(told.iter().all(|p| !mesh.contains(p)));
    let asker = told[0];
    for round in 0..5 {
        lab.recv(asker, iwant(std::slice::from_ref(&id)));
        let got = flatten(&lab.take(&asker)).messages.len();
        assert_eq!(got, usize::from(round < 3), "round {round}");
    }
    // After history_length heartbeats the message has left the mcache.
    lab.advance(Duration::from_secs(5));
    let other = told[1];
    lab.recv(other, iwant(std::slice::from_ref(&id)));
    assert!(flatten(&lab.take(&other)).messages.is_empty());
}

/// A scored router on `TOPIC` with one peer there, and `n` message-ids it does not know.
fn gossiping_peer(cfg: RouterConfigBuilder, n: u32) -> (Lab, PeerId, Vec<MessageId>) {
    let cfg = cfg.build().unwrap();
    let mut lab = Lab::new(cfg, Some(scoring()));
    let p = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    lab.take(&p);
    let ids = (0..n).map(|i| id_of(TOPIC, &i.to_le_bytes())).collect();
    (lab, p, ids)
}

#[test]
fn ihave_is_bounded_per_heartbeat_and_by_score() {
    let cfg = RouterConfig::builder()
        .max_ihave_messages(2)
        .max_ihave_length(10);
    let (mut lab, p, ids) = gossiping_peer(cfg, 30);
    for chunk in ids.chunks(4) {
        lab.recv(p, ihave(TOPIC, chunk));
    }
    // Two IHAVEs taken (8 ids), the rest ignored.
    let asked = flatten(&lab.take(&p)).iwant_ids;
    assert_eq!(asked.len(), 8);
    lab.heartbeat();
    lab.recv(p, ihave(TOPIC, &ids[20..30]));
    assert_eq!(flatten(&lab.take(&p)).iwant_ids.len(), 10);
    // Below the gossip threshold, IHAVE is ignored.
    lab.heartbeat();
    lab.r.set_application_score(&p, -11.0);
    lab.recv(p, ihave(TOPIC, &ids[0..2]));
    assert!(flatten(&lab.take(&p)).iwant_ids.is_empty());
}

#[test]
fn ihave_asks_for_each_unknown_id_once_and_picks_within_the_room() {
    let (mut lab, p, ids) = gossiping_peer(RouterConfig::builder().max_ihave_length(10), 20);
    // Four ids, each listed three times over two entries of one RPC: asked for once each.
    let mut twice = ihave(TOPIC, &[&ids[..4], &ids[..4]].concat());
    let again = ihave(TOPIC, &ids[..4]);
    if let (Some(c), Some(a)) = (twice.control.as_mut(), again.control) {
        c.ihave.extend(a.ihave);
    }
    lab.recv(p, twice);
    let mut asked = flatten(&lab.take(&p)).iwant_ids;
    asked.sort();
    let mut first: Vec<_> = ids[..4].iter().map(|m| m.0.clone()).collect();
    first.sort();
    assert_eq!(asked, first);
    // Sixteen unknown ids and room for six more this heartbeat: six distinct ones of them.
    lab.recv(p, ihave(TOPIC, &ids[4..]));
    let asked = flatten(&lab.take(&p)).iwant_ids;
    assert_eq!(asked.len(), 6);
    let offered: Vec<_> = ids[4..].iter().map(|m| m.0.clone()).collect();
    assert!(asked.iter().all(|a| offered.contains(a)));
    let mut distinct = asked.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6);
}

#[test]
fn an_id_too_long_for_any_frame_is_not_asked_for_and_blocks_nothing() {
    let (mut lab, p, ids) = gossiping_peer(RouterConfig::builder(), 2);
    // 16 KiB: its IWANT entry could never fit a frame's 15 KiB of control.
    let long = MessageId(Bytes::from(vec![7u8; 16 * 1024]));
    lab.recv(p, ihave(TOPIC, &[long, ids[0].clone()]));
    assert_eq!(flatten(&lab.take(&p)).iwant_ids, vec![ids[0].0.clone()]);
    lab.recv(p, ihave(TOPIC, &ids[1..2]));
    assert_eq!(flatten(&lab.take(&p)).iwant_ids, vec![ids[1].0.clone()]);
}

#[test]
fn the_ids_asked_beyond_the_room_are_a_random_choice_not_the_first() {
    // Room for one more id this heartbeat and a hundred offered: a spammer that lists its ids
    // first must not decide which one we ask for (it would be the first nearly every time).
    let cfg = RouterConfig::builder().max_ihave_length(100);
    let (mut lab, p, ids) = gossiping_peer(cfg, 398);
    let mut first = 0;
    for round in 0..2 {
        let ids = &ids[round * 199..(round + 1) * 199];
        lab.recv(p, ihave(TOPIC, &ids[..99]));
        assert_eq!(flatten(&lab.take(&p)).iwant_ids.len(), 99);
        lab.recv(p, ihave(TOPIC, &ids[99..]));
        let asked = flatten(&lab.take(&p)).iwant_ids;
        assert_eq!(asked.len(), 1);
        assert!(ids[99..].iter().any(|m| m.0 == asked[0]));
        first += usize::from(asked[0] == ids[99].0);
        lab.heartbeat();
    }
    assert!(
        first < 2,
        "the first offered id was asked for in every round"
    );
}

#[test]
fn idontwant_is_sent_for_large_messages_and_honoured() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let peers = lab.joined(4, true);
    let big = vec![3u8; 1500];
    let id = id_of(TOPIC, &big);
    // peers[1] says it does not want it before it arrives.
    lab.recv(peers[1], idontwant(std::slice::from_ref(&id)));
    lab.recv(peers[0], msg(TOPIC, &big));
    // IDONTWANT to the mesh at once, before validation, not to the sender.
    for p in &peers[1..] {
        assert_eq!(flatten(&lab.take(p)).idontwant_ids, vec![id.0.clone()]);
    }
    assert!(flatten(&lab.take(&peers[0])).idontwant_ids.is_empty());
    lab.r.report(lab.now, &id, Verdict::Accept);
    lab.pump();
    assert!(flatten(&lab.take(&peers[1])).messages.is_empty());
    assert_eq!(flatten(&lab.take(&peers[2])).messages.len(), 1);
    assert_eq!(lab.r.stats().idontwant_skipped, 1);
    // Small messages get no IDONTWANT.
    lab.recv(peers[0], msg(TOPIC, &[1u8; 100]));
    assert!(flatten(&lab.take(&peers[1])).idontwant_ids.is_empty());
}

#[test]
fn idontwant_cancels_a_send_already_queued() {
    let cfg = RouterConfig::builder().send_window(1).build().unwrap();
    let mut lab = Lab::new(cfg, None);
    let peers = lab.joined(3, true);
    let slow = peers[2];
    // Fill slow's window: a frame given out, not yet written.
    lab.r
        .publish(lab.now, TOPIC, b"occupies the window")
        .unwrap();
    let mut held = None;
    while let Some(t) = lab.r.poll_transmit(lab.now) {
        if t.peer == slow {
            held = Some(t);
        } else {
            lab.r.sent(&t.peer);
        }
    }
    assert!(held.is_some());
    let big = vec![9u8; 4000];
    let id = id_of(TOPIC, &big);
    lab.r.handle_rpc(lab.now, &peers[0], msg_frame(TOPIC, &big));
    lab.r.report(lab.now, &id, Verdict::Accept);
    assert_eq!(
        lab.r.queue_len(&slow),
        Some((1, 1)),
        "queued behind the window"
    );
    lab.r.handle_rpc(lab.now, &slow, idontwant_frame(&id));
    lab.r.sent(&slow);
    let mut to_slow = Vec::new();
    while let Some(t) = lab.r.poll_transmit(lab.now) {
        lab.r.sent(&t.peer);
        if t.peer == slow {
            to_slow.push(pheme_router::wire::Rpc::decode(t.frame.body()).unwrap());
        }
    }
    assert!(
        flatten(&to_slow)
            .messages
            .iter()
            .all(|m| m.data.as_deref() != Some(&big[..]))
    );
    assert_eq!(lab.r.stats().idontwant_cancelled, 1);
}

use prost::Message as _;

fn msg_frame(topic: &str, data: &[u8]) -> Bytes {
    Bytes::from(msg(topic, data).encode_to_vec())
}

fn idontwant_frame(id: &MessageId) -> Bytes {
    Bytes::from(idontwant(std::slice::from_ref(id)).encode_to_vec())
}

#[test]
fn forwards_wait_in_one_queue_and_leave_batched() {
    let cfg = RouterConfig::builder().send_window(1).build().unwrap();
    let mut lab = Lab::new(cfg, None);
    let src = lab.peer_on(true, &[TOPIC]);
    let dst = lab.peer_on(true, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    // dst's window is held by one frame while 100 messages arrive.
    lab.r.publish(lab.now, TOPIC, b"first").unwrap();
    let mut held = false;
    while let Some(t) = lab.r.poll_transmit(lab.now) {
        if t.peer == dst {
            held = true;
        } else {
            lab.r.sent(&t.peer);
        }
    }
    assert!(held);
    for i in 0..100u32 {
        lab.r
            .handle_rpc(lab.now, &src, msg_frame(TOPIC, &i.to_le_bytes()));
        let id = id_of(TOPIC, &i.to_le_bytes());
        lab.r.report(lab.now, &id, Verdict::Accept);
    }
    lab.r.sent(&dst);
    let mut frames = 0;
    let mut messages = 0;
    while let Some(t) = lab.r.poll_transmit(lab.now) {
        lab.r.sent(&t.peer);
        if t.peer == dst {
            frames += 1;
            messages += pheme_router::wire::Rpc::decode(t.frame.body())
                .unwrap()
                .publish
                .len();
        }
    }
    // Up to 128 messages a frame (libp2p-gossipsub refuses more than 500).
    assert_eq!((frames, messages), (1, 100), "one frame for the backlog");
}

#[test]
fn a_full_forward_queue_drops_its_oldest_and_stale_forwards_are_dropped() {
    let cfg = RouterConfig::builder()
        .send_window(1)
        .max_forward_queue(10)
        .build()
        .unwrap();
    let mut lab = Lab::new(cfg, None);
    let src = lab.peer_on(true, &[TOPIC]);
    let dst = lab.peer_on(true, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    lab.r.publish(lab.now, TOPIC, b"first").unwrap();
    while let Some(t) = lab.r.poll_transmit(lab.now) {
        if t.peer != dst {
            lab.r.sent(&t.peer);
        }
    }
    for i in 0..25u32 {
        lab.r
            .handle_rpc(lab.now, &src, msg_frame(TOPIC, &i.to_le_bytes()));
        lab.r
            .report(lab.now, &id_of(TOPIC, &i.to_le_bytes()), Verdict::Accept);
    }
    assert_eq!(lab.r.stats().dropped_queue_full, 15);
    // The peer's score is untouched by the node's own backlog.
    assert_eq!(lab.r.score(&dst), 0.0);
    // Two seconds later the rest is stale.
    lab.now += Duration::from_secs(3);
    lab.r.sent(&dst);
    while let Some(t) = lab.r.poll_transmit(lab.now) {
        lab.r.sent(&t.peer);
    }
    assert_eq!(lab.r.stats().dropped_stale, 10);
}

#[test]
fn opportunistic_grafting_lifts_a_poor_mesh() {
    // P3 off, so the silent mesh is not pruned outright.
    let mut cfg = scoring();
    for p in cfg.params.topics.values_mut() {
        p.mesh_message_deliveries_weight = 0.0;
    }
    let mut lab = Lab::new(RouterConfig::default(), Some(cfg));
    let first: Vec<_> = (0..8).map(|_| lab.peer_on(true, &[TOPIC])).collect();
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    assert_eq!(lab.mesh(TOPIC).len(), 8);
    let better: Vec<_> = (0..3).map(|_| lab.peer_on(true, &[TOPIC])).collect();
    for p in &better {
        lab.r.set_application_score(p, 10.0);
    }
    // 60 heartbeats: the median mesh score (P1 only, < 0.5) is under the threshold of 2.
    lab.advance(Duration::from_millis(700 * 59));
    assert!(better.iter().all(|p| !lab.mesh(TOPIC).contains(p)));
    lab.heartbeat();
    let grafted = better
        .iter()
        .filter(|p| lab.mesh(TOPIC).contains(p))
        .count();
    assert_eq!(grafted, 2);
    assert!(first.iter().all(|p| lab.mesh(TOPIC).contains(p)));
    assert!(
        lab.take_events()
            .iter()
            .any(|e| matches!(e, Event::Grafted { .. }))
    );
}

#[test]
fn direct_peers_get_every_message_and_are_never_meshed() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let direct = pheme_router::PeerId::random();
    lab.r.add_direct_peer(lab.now, direct);
    lab.r.add_peer(
        lab.now,
        direct,
        PeerConnection {
            protocol: Protocol::V1_1,
            outbound: true,
            ip: None,
        },
    );
    lab.recv(direct, subs(&[TOPIC]));
    let src = lab.peer_on(true, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    assert_eq!(lab.mesh(TOPIC), vec![src]);
    lab.take(&direct);
    lab.recv(direct, graft(TOPIC));
    assert_eq!(
        flatten(&lab.take(&direct)).prunes.len(),
        1,
        "GRAFT from a direct peer"
    );
    lab.recv(src, msg(TOPIC, b"for the direct peer"));
    for id in validated(&lab.take_events()) {
        lab.r.report(lab.now, &id, Verdict::Accept);
    }
    lab.pump();
    assert_eq!(flatten(&lab.take(&direct)).messages.len(), 1);
}

#[test]
fn small_forwards_wait_up_to_the_forward_delay_and_large_ones_go_at_once() {
    let cfg = RouterConfig::builder()
        .forward_delay(Duration::from_millis(5))
        .build()
        .unwrap();
    let mut lab = Lab::new(cfg, None);
    let peers = lab.joined(2, true);
    let (src, dst) = (peers[0], peers[1]);
    for i in 0..10u32 {
        lab.recv(src, msg(TOPIC, &i.to_le_bytes()));
        for id in validated(&lab.take_events()) {
            lab.r.report(lab.now, &id, Verdict::Accept);
        }
        lab.pump();
    }
    assert!(flatten(&lab.take(&dst)).messages.is_empty(), "held back");
    assert_eq!(lab.r.poll_timeout(), lab.now + Duration::from_millis(5));
    lab.advance(Duration::from_millis(5));
    let frames = lab.take(&dst);
    assert_eq!(frames.len(), 1, "ten forwards in one frame");
    assert_eq!(flatten(&frames).messages.len(), 10);
    // A block-sized message is not held.
    lab.recv(src, msg(TOPIC, &[7u8; 2000]));
    for id in validated(&lab.take_events()) {
        lab.r.report(lab.now, &id, Verdict::Accept);
    }
    lab.pump();
    assert_eq!(flatten(&lab.take(&dst)).messages.len(), 1);
}
