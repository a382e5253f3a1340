//! gossipsub v1.3's Extensions message and the Partial Messages extension: advertised only to
//! v1.3 peers, honoured only from peers that advertised it, per topic flags from `SubOpts`,
//! partial messages handed out and sent one per frame, requesting peers served no full
//! messages and no IHAVE, verdicts on parts feeding the score.

use bytes::Bytes;
use pheme_router::wire::{
    ControlExtensions, ControlMessage, PartialMessagesExtension, Rpc, SubOpts,
};
use pheme_router::{Event, PartialError, PartialVerdict, PeerId, Protocol, RouterConfig, Verdict};

use crate::harness::{self, Lab, TOPIC, flatten, msg};

fn config() -> RouterConfig {
    RouterConfig::builder()
        .partial_messages(true)
        .build()
        .unwrap()
}

fn lab() -> Lab {
    Lab::new(config(), Some(harness::scoring()))
}

fn extensions(partial: bool) -> Rpc {
    harness::control(ControlMessage {
        extensions: Some(ControlExtensions {
            partial_messages: Some(partial),
        }),
        ..Default::default()
    })
}

/// A subscription to [`TOPIC`] with the partial flags.
fn sub_partial(requests: bool, supports: bool) -> Rpc {
    Rpc {
        subscriptions: vec![SubOpts {
            subscribe: Some(true),
            topic_id: Some(Bytes::from_static(TOPIC.as_bytes())),
            requests_partial: Some(requests),
            supports_partial: Some(supports),
        }],
        ..Default::default()
    }
}

fn partial(group: &[u8], message: Option<&[u8]>, metadata: Option<&[u8]>) -> Rpc {
    Rpc {
        partial: Some(PartialMessagesExtension {
            topic_id: Some(Bytes::from_static(TOPIC.as_bytes())),
            group_id: Some(Bytes::copy_from_slice(group)),
            partial_message: message.map(Bytes::copy_from_slice),
            parts_metadata: metadata.map(Bytes::copy_from_slice),
        }),
        ..Default::default()
    }
}

/// A v1.3 peer that advertised the extension and subscribed with `requests`.
fn partial_peer(lab: &mut Lab, requests: bool) -> PeerId {
    let p = lab.connect_with(false, Protocol::V1_3, None);
    lab.recv(p, extensions(true));
    lab.recv(p, sub_partial(requests, true));
    p
}

#[test]
fn extensions_go_in_the_first_frame_to_v1_3_peers_only() {
    let mut lab = lab();
    lab.r.subscribe(lab.now, TOPIC);
    lab.r.set_partial(TOPIC, Some(true)).unwrap();
    let new = lab.connect_with(false, Protocol::V1_3, None);
    let old = lab.connect_with(false, Protocol::V1_2, None);
    lab.pump();
    let first = &lab.take(&new)[0];
    let ext = first.control.as_ref().and_then(|c| c.extensions.clone());
    assert_eq!(ext.and_then(|e| e.partial_messages), Some(true));
    // The same frame announces the topic with both flags.
    let sub = &first.subscriptions[0];
    assert_eq!(
        (sub.requests_partial, sub.supports_partial),
        (Some(true), Some(true))
    );
    let to_old = lab.take(&old);
    assert!(
        to_old
            .iter()
            .all(|r| r.control.as_ref().is_none_or(|c| c.extensions.is_none()))
    );
    // Without the extension in the configuration: no Extensions message, and no partials.
    let mut plain = Lab::new(RouterConfig::default(), None);
    assert_eq!(
        plain.r.set_partial(TOPIC, Some(true)),
        Err(PartialError::Disabled)
    );
    let p = plain.connect_with(false, Protocol::V1_3, None);
    plain.r.subscribe(plain.now, TOPIC);
    plain.pump();
    assert!(
        plain
            .take(&p)
            .iter()
            .all(|r| r.control.as_ref().is_none_or(|c| c.extensions.is_none()))
    );
}

#[test]
fn a_second_extensions_message_costs_p7() {
    let mut lab = lab();
    let p = lab.connect_with(false, Protocol::V1_3, None);
    lab.recv(p, extensions(true));
    let before = lab.r.score_breakdown(&p).unwrap().behaviour_penalty;
    lab.recv(p, extensions(true));
    let after = lab.r.score_breakdown(&p).unwrap().behaviour_penalty;
    assert_eq!((before, after), (0.0, 1.0));
    assert_eq!(lab.r.stats().extensions_repeated, 1);
}

#[test]
fn peers_flags_follow_their_subscriptions_and_the_extension() {
    let mut lab = lab();
    lab.r.set_partial(TOPIC, Some(true)).unwrap();
    lab.r.subscribe(lab.now, TOPIC);
    let requesting = partial_peer(&mut lab, true);
    let supporting = partial_peer(&mut lab, false);
    // Flags without the extension count for nothing.
    let silent = lab.connect_with(false, Protocol::V1_3, None);
    lab.recv(silent, sub_partial(true, true));
    let flags = |lab: &Lab, p| {
        let pp = lab.r.peer_partial(&p, TOPIC).unwrap();
        (pp.supports, pp.requests)
    };
    assert_eq!(flags(&lab, requesting), (true, true));
    assert_eq!(flags(&lab, supporting), (true, false));
    assert_eq!(flags(&lab, silent), (false, false));
    let mut listed: Vec<PeerId> = lab
        .r
        .partial_peers(TOPIC)
        .into_iter()
        .map(|x| x.0)
        .collect();
    listed.sort();
    let mut expected = vec![requesting, supporting];
    expected.sort();
    assert_eq!(listed, expected);
    // A new subscription updates the flags; leaving the topic clears them.
    lab.recv(supporting, sub_partial(true, true));
    assert_eq!(flags(&lab, supporting), (true, true));
    lab.recv(supporting, harness::unsub(TOPIC));
    assert_eq!(flags(&lab, supporting), (false, false));
}

#[test]
fn partial_messages_reach_the_owner_and_go_out_one_per_frame() {
    let mut lab = lab();
    lab.r.set_partial(TOPIC, Some(true)).unwrap();
    lab.r.subscribe(lab.now, TOPIC);
    let p = partial_peer(&mut lab, true);
    lab.take_events();
    lab.recv(p, partial(b"\x00group", Some(b"cells"), Some(b"meta")));
    let got: Vec<_> = lab
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Partial {
                peer,
                group_id,
                message,
                metadata,
                ..
            } => Some((peer, group_id, message, metadata)),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        vec![(
            p,
            Bytes::from_static(b"\x00group"),
            Some(Bytes::from_static(b"cells")),
            Some(Bytes::from_static(b"meta"))
        )]
    );
    lab.take(&p);
    for i in 0..3u8 {
        lab.r
            .send_partial(
                &p,
                TOPIC,
                Bytes::from(vec![i]),
                Some(Bytes::from(vec![i; 10])),
                None,
            )
            .unwrap();
    }
    lab.pump();
    let frames: Vec<Rpc> = lab.take(&p);
    let groups: Vec<Bytes> = frames
        .iter()
        .filter_map(|r| r.partial.as_ref()?.group_id.clone())
        .collect();
    assert_eq!(
        groups,
        vec![
            Bytes::from(vec![0]),
            Bytes::from(vec![1]),
            Bytes::from(vec![2])
        ]
    );
    assert_eq!(lab.r.stats().partial_sent, 3);
}

#[test]
fn parts_only_to_requesting_peers_and_nothing_without_support() {
    let mut lab = lab();
    lab.r.set_partial(TOPIC, Some(false)).unwrap();
    lab.r.subscribe(lab.now, TOPIC);
    let supporting = partial_peer(&mut lab, false);
    let plain = lab.peer_on(false, &[TOPIC]);
    let g = || Bytes::from_static(b"g");
    assert_eq!(
        lab.r.send_partial(&supporting, TOPIC, g(), Some(g()), None),
        Err(PartialError::NotRequested(supporting))
    );
    assert!(
        lab.r
            .send_partial(&supporting, TOPIC, g(), None, Some(g()))
            .is_ok()
    );
    assert_eq!(
        lab.r.send_partial(&plain, TOPIC, g(), None, Some(g())),
        Err(PartialError::NotSupported(plain))
    );
    assert!(matches!(
        lab.r
            .send_partial(&supporting, harness::OTHER, g(), None, Some(g())),
        Err(PartialError::Topic(_))
    ));
    // On a topic without partial support here, received partials are dropped.
    lab.r.set_partial(TOPIC, None).unwrap();
    lab.take_events();
    lab.recv(supporting, partial(b"g", None, Some(b"m")));
    assert!(
        !lab.take_events()
            .iter()
            .any(|e| matches!(e, Event::Partial { .. }))
    );
    assert_eq!(lab.r.stats().partial_unsupported, 1);
}

#[test]
fn requesting_peers_get_neither_full_messages_nor_ihave() {
    let mut lab = lab();
    lab.r.set_partial(TOPIC, Some(true)).unwrap();
    let requesting: Vec<PeerId> = (0..4).map(|_| partial_peer(&mut lab, true)).collect();
    let plain: Vec<PeerId> = (0..4).map(|_| lab.peer_on(false, &[TOPIC])).collect();
    lab.r.subscribe(lab.now, TOPIC);
    lab.heartbeat();
    lab.sent.clear();
    // A full message from a plain peer is forwarded to plain peers only.
    let source = plain[0];
    lab.recv(source, msg(TOPIC, b"a full column"));
    let id = harness::validated(&lab.take_events())[0].clone();
    lab.r.report(lab.now, &id, Verdict::Accept);
    lab.pump();
    for p in &requesting {
        let seen = flatten(&lab.take(p));
        assert!(
            seen.messages.is_empty(),
            "a requesting peer got a full message"
        );
    }
    let forwarded = plain[1..]
        .iter()
        .filter(|p| !flatten(&lab.take(p)).messages.is_empty())
        .count();
    assert!(forwarded > 0, "plain mesh peers get the full message");
    // Publishing skips them as well; gossip never names them.
    lab.r.publish(lab.now, TOPIC, b"own column").unwrap();
    lab.heartbeat();
    for p in &requesting {
        let seen = flatten(&lab.take(p));
        assert!(seen.messages.is_empty() && seen.ihave_ids.is_empty());
    }
}

#[test]
fn verdicts_on_parts_move_the_score() {
    let mut lab = lab();
    lab.r.set_partial(TOPIC, Some(true)).unwrap();
    let p = partial_peer(&mut lab, true);
    lab.r.subscribe(lab.now, TOPIC);
    lab.heartbeat();
    let topic = |lab: &Lab| {
        lab.r
            .score_breakdown(&p)
            .unwrap()
            .topics
            .into_iter()
            .find(|t| t.topic == TOPIC)
            .unwrap()
    };
    lab.r
        .report_partial(&p, TOPIC, PartialVerdict::Useful { first: true });
    let t = topic(&lab);
    assert_eq!(t.first_message_deliveries, 1.0);
    lab.r.report_partial(&p, TOPIC, PartialVerdict::Invalid);
    assert_eq!(topic(&lab).invalid_message_deliveries, 1.0);
    assert!(lab.score(&p) < 0.0);
}

#[test]
fn malformed_partials_cost_p7_and_never_reach_the_owner() {
    let mut lab = lab();
    lab.r.set_partial(TOPIC, Some(true)).unwrap();
    lab.r.subscribe(lab.now, TOPIC);
    let p = partial_peer(&mut lab, true);
    lab.take_events();
    let no_group = Rpc {
        partial: Some(PartialMessagesExtension {
            topic_id: Some(Bytes::from_static(TOPIC.as_bytes())),
            ..Default::default()
        }),
        ..Default::default()
    };
    lab.recv(p, no_group);
    lab.recv(p, partial(&[0u8; 300], None, Some(b"m")));
    assert!(
        !lab.take_events()
            .iter()
            .any(|e| matches!(e, Event::Partial { .. }))
    );
    assert_eq!(lab.r.stats().partial_malformed, 2);
    assert_eq!(lab.r.score_breakdown(&p).unwrap().behaviour_penalty, 2.0);
}
