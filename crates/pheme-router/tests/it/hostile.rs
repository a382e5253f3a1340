//! Hostile input: malformed and oversized frames, floods of subscriptions, IHAVEs, GRAFTs and
//! IDONTWANTs. Each gets a clear refusal and a penalty, and memory stays bounded.

use std::time::Duration;

use bytes::Bytes;
use pheme_router::wire::{ControlIHave, ControlMessage, Rpc, SubOpts};
use pheme_router::{Event, FrameRefusal, MessageId, RouterConfig, WireError};
use prost::Message as _;

use crate::harness::*;

fn frame_refusals(events: &[Event]) -> Vec<FrameRefusal> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::FrameRefused { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn arbitrary_bytes_and_malformed_protobuf_are_refused_with_p7() {
    let mut lab = Lab::scored();
    let p = lab.peer_on(false, &[TOPIC]);
    for junk in [
        &[0xff_u8; 32][..],
        &[0x12, 0x80, 0x80, 0x80, 0x80, 0x10][..], // a length far past the end
        &[0x0b, 0x0c][..],                         // a group
    ] {
        lab.r.handle_rpc(lab.now, &p, Bytes::copy_from_slice(junk));
    }
    lab.pump();
    let refusals = frame_refusals(&lab.take_events());
    assert_eq!(refusals.len(), 3);
    assert!(
        refusals
            .iter()
            .all(|r| matches!(r, FrameRefusal::Wire(WireError::Malformed { .. })))
    );
    assert_eq!(lab.r.score_breakdown(&p).unwrap().behaviour_penalty, 3.0);
    // A part that splits but does not decode (a message whose field 2 is a varint), from a
    // peer not yet graylisted.
    let q = lab.peer_on(false, &[TOPIC]);
    lab.r
        .handle_rpc(lab.now, &q, Bytes::from_static(&[0x12, 0x02, 0x10, 0x01]));
    lab.pump();
    assert_eq!(lab.r.stats().messages_refused, 1);
}

#[test]
fn over_long_frames_cost_the_sender() {
    let cfg = RouterConfig::builder()
        .max_transmit_size(1000)
        .build()
        .unwrap();
    let mut lab = Lab::new(cfg, Some(scoring()));
    let p = lab.peer_on(false, &[TOPIC]);
    lab.r.oversized_frame(lab.now, &p, 5_000_000);
    lab.r.handle_rpc(
        lab.now,
        &p,
        Bytes::from(msg(TOPIC, &[0u8; 2000]).encode_to_vec()),
    );
    lab.pump();
    let refusals = frame_refusals(&lab.take_events());
    assert_eq!(
        refusals[0],
        FrameRefusal::Oversized {
            len: 5_000_000,
            limit: 1000
        }
    );
    assert_eq!(refusals.len(), 2);
    assert_eq!(lab.r.score_breakdown(&p).unwrap().behaviour_penalty, 2.0);
}

#[test]
fn ten_thousand_subscriptions_in_one_rpc_are_refused_whole() {
    let mut lab = Lab::scored();
    let p = lab.connect(false);
    let rpc = Rpc {
        subscriptions: (0..10_000)
            .map(|i| SubOpts {
                subscribe: Some(true),
                topic_id: Some(Bytes::from(format!("/eth2/00000000/topic_{i}/ssz_snappy"))),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    lab.recv(p, rpc);
    let refusals = frame_refusals(&lab.take_events());
    assert!(matches!(
        refusals[..],
        [FrameRefusal::Wire(WireError::ControlTooLarge { .. })]
    ));
    assert!(
        lab.r
            .topic_peers("/eth2/00000000/topic_1/ssz_snappy")
            .is_empty()
    );
    // Within the frame limit but over the per-peer limit: the excess is refused.
    let cfg = RouterConfig::builder()
        .max_subscriptions(50)
        .build()
        .unwrap();
    let mut lab = Lab::new(cfg, None);
    let p = lab.connect(false);
    let names: Vec<String> = (0..100).map(|i| format!("/t/{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    lab.recv(p, subs(&refs));
    assert_eq!(lab.r.stats().subscriptions_refused, 50);
    assert_eq!(lab.r.topic_peers("/t/49").len(), 1);
    assert!(lab.r.topic_peers("/t/50").is_empty());
}

#[test]
fn a_topic_filter_keeps_foreign_topics_out_of_the_tables() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    lab.r.set_allowed_topics([TOPIC, OTHER]);
    let p = lab.connect(false);
    lab.recv(p, subs(&[TOPIC, "/eth2/deadbeef/beacon_block/ssz_snappy"]));
    assert_eq!(lab.r.topic_peers(TOPIC), vec![p]);
    assert_eq!(lab.r.stats().subscriptions_refused, 1);
    assert!(
        lab.r
            .topic_peers("/eth2/deadbeef/beacon_block/ssz_snappy")
            .is_empty()
    );
}

#[test]
fn ten_thousand_ihaves_in_one_rpc() {
    let mut lab = Lab::scored();
    let p = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    lab.take(&p);
    let entry = |i: u32| ControlIHave {
        topic_id: Some(Bytes::from_static(TOPIC.as_bytes())),
        message_ids: vec![id_of(TOPIC, &i.to_le_bytes()).0],
    };
    // 10,000 entries with the topic: ~680 KB of control, refused before decoding.
    let rpc = control(ControlMessage {
        ihave: (0..10_000).map(entry).collect(),
        ..Default::default()
    });
    lab.recv(p, rpc);
    assert!(matches!(
        frame_refusals(&lab.take_events())[..],
        [FrameRefusal::Wire(WireError::ControlTooLarge { .. })]
    ));
    // 2,000 entries fit the frame: one RPC, counted once against max_ihave_messages (10),
    // its ids asked for up to max_ihave_length; after ten RPCs in a heartbeat the rest are
    // ignored.
    let rpc = control(ControlMessage {
        ihave: (0..2_000).map(entry).collect(),
        ..Default::default()
    });
    lab.recv(p, rpc);
    assert_eq!(flatten(&lab.take(&p)).iwant_ids.len(), 2_000);
    for i in 0..12u32 {
        lab.recv(
            p,
            ihave(TOPIC, &[id_of(TOPIC, &(10_000 + i).to_le_bytes())]),
        );
    }
    assert_eq!(flatten(&lab.take(&p)).iwant_ids.len(), 9);
    assert_eq!(lab.r.stats().ihave_ignored, 3);
}

#[test]
fn a_graft_flood_drives_the_sender_to_the_graylist() {
    let mut lab = Lab::scored();
    let p = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    lab.recv(p, prune(TOPIC, Some(60), vec![]));
    let mut graylisted = false;
    for _ in 0..10 {
        lab.recv(p, graft(TOPIC));
        lab.heartbeat();
        graylisted |= lab
            .take_events()
            .iter()
            .any(|e| matches!(e, Event::Graylisted { peer, .. } if *peer == p));
        if graylisted {
            break;
        }
    }
    assert!(graylisted);
    assert!(lab.score(&p) < lab.r.thresholds().graylist);
    // Graylisted: further GRAFTs are not even answered.
    lab.take(&p);
    lab.recv(p, graft(TOPIC));
    assert!(flatten(&lab.take(&p)).prunes.is_empty());
}

#[test]
fn idontwant_floods_are_bounded_per_peer_and_expire() {
    let cfg = RouterConfig::builder()
        .max_idontwant_ids(1000)
        .build()
        .unwrap();
    let mut lab = Lab::new(cfg, None);
    let p = lab.peer_on(false, &[TOPIC]);
    for chunk in 0..20u32 {
        let ids: Vec<MessageId> = (0..500u32)
            .map(|i| id_of(TOPIC, &(chunk * 500 + i).to_le_bytes()))
            .collect();
        lab.recv(p, idontwant(&ids));
    }
    assert_eq!(lab.r.stats().idontwant_received, 1000);
    lab.advance(Duration::from_secs(4));
    let ids: Vec<MessageId> = (0..10u32).map(|i| id_of(TOPIC, &[i as u8; 9])).collect();
    lab.recv(p, idontwant(&ids));
    assert_eq!(
        lab.r.stats().idontwant_received,
        1010,
        "room again after expiry"
    );
}

#[test]
fn message_and_record_tables_are_bounded_by_time() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let p = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    let data = |i: u32| [&[0u8][..], &i.to_le_bytes()].concat();
    for i in 0..5_000u32 {
        lab.r.handle_rpc(
            lab.now,
            &p,
            Bytes::from(msg(TOPIC, &data(i)).encode_to_vec()),
        );
    }
    lab.pump();
    assert_eq!(validated(&lab.take_events()).len(), 5_000);
    // Nobody answers: after the validation timeout the records go, counted.
    assert_eq!(lab.r.table_sizes().1, 5_000);
    lab.advance(Duration::from_secs(13));
    assert_eq!(lab.r.table_sizes().1, 0);
    assert_eq!(lab.r.stats().validation_timeouts, 5_000);
    // The seen cache still knows them (a late copy is no new message).
    lab.recv(p, msg(TOPIC, &data(7)));
    assert!(validated(&lab.take_events()).is_empty());
}

#[test]
fn too_many_messages_in_one_frame_are_refused() {
    let cfg = RouterConfig::builder()
        .max_messages_per_frame(100)
        .build()
        .unwrap();
    let mut lab = Lab::new(cfg, None);
    let p = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    let mut rpc = Rpc::default();
    for i in 0..101u32 {
        rpc.publish.extend(msg(TOPIC, &i.to_le_bytes()).publish);
    }
    lab.recv(p, rpc);
    assert!(matches!(
        frame_refusals(&lab.take_events())[..],
        [FrameRefusal::Wire(WireError::TooManyMessages {
            limit: 100
        })]
    ));
}

#[test]
fn records_of_accepted_messages_go_after_their_mcache_time() {
    let mut lab = Lab::new(RouterConfig::default(), None);
    let p = lab.peer_on(false, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    for i in 0..1_000u32 {
        let data = [&[1u8][..], &i.to_le_bytes()].concat();
        lab.r
            .handle_rpc(lab.now, &p, Bytes::from(msg(TOPIC, &data).encode_to_vec()));
    }
    lab.pump();
    for id in validated(&lab.take_events()) {
        lab.r.report(lab.now, &id, pheme_router::Verdict::Accept);
    }
    assert_eq!(lab.r.table_sizes().1, 1_000);
    // 6 heartbeats of 0.7 s in the mcache, then gone.
    lab.advance(Duration::from_millis(4300));
    assert_eq!(lab.r.table_sizes().1, 0);
}
