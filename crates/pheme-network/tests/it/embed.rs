//! A beacon node's checks linked into Pheme, as a node links them: they read the typed payload
//! decoded once (the same `Arc` reaches the node's event), run several at once on blocking
//! threads and never more than configured, answer later through the handle, or miss their
//! deadline and IGNORE.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{attestation, chain, listen_addr, next_slot_start, node, node_config, wait_mesh};
use pheme_gossip::payload::mainnet::{Attestation, Payload};
use pheme_gossip::{
    Decision, GossipPayload, InboundMessage, Outcome, PayloadError, StatefulValidator, Verdict,
};
use pheme_network::{HandleError, NetworkEvent, NetworkHandle, spawn};
use pheme_spec::{ChainSpec, GossipKind};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// The attester of an electra attestation payload.
fn attester(msg: &InboundMessage) -> Option<u64> {
    match &*msg.payload {
        GossipPayload::Mainnet(Payload::Attestation(a)) => match &**a {
            Attestation::Electra(a) => Some(a.attester_index),
            Attestation::Phase0(_) => None,
        },
        _ => None,
    }
}

/// Real CPU work, no sleep: `rounds` chained SHA-256 of the message-id.
fn burn(msg: &InboundMessage, rounds: usize) -> [u8; 32] {
    let mut h: [u8; 32] = Sha256::digest(msg.message_id).into();
    for _ in 0..rounds {
        h = Sha256::digest(h).into();
    }
    h
}

/// Checks that count how many run at once. Each waits (up to two seconds) for `expect` to be
/// running together before it does its CPU work, so that the peak shows the concurrency the
/// service allows, not how the messages happened to arrive.
struct Counting {
    running: AtomicUsize,
    peak: AtomicUsize,
    expect: usize,
    seen: Mutex<Vec<Arc<GossipPayload>>>,
}

impl StatefulValidator for Counting {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let start = Instant::now();
        while self.peak.load(Ordering::SeqCst) < self.expect
            && start.elapsed() < Duration::from_secs(2)
        {
            std::hint::spin_loop();
        }
        std::hint::black_box(burn(msg, 20_000));
        self.seen.lock().unwrap().push(msg.payload.clone());
        self.running.fetch_sub(1, Ordering::SeqCst);
        Decision::Accept
    }
}

/// Collects gossip outcomes until `n` arrived (or 20 s passed).
async fn outcomes(events: &mut mpsc::Receiver<NetworkEvent>, n: usize) -> Vec<Outcome> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.len() < n {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(NetworkEvent::Gossip(g))) => got.push(g.outcome),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    got
}

/// A publisher meshed with `checked` on the attestation topics.
async fn publisher_for(chain: &ChainSpec, checked: &NetworkHandle) -> common::Node {
    let publisher = node(chain).await;
    publisher
        .handle
        .dial(listen_addr(checked).await)
        .await
        .unwrap();
    wait_mesh(&publisher.handle, "beacon_attestation").await;
    publisher
}

/// Decodes an attestation of `attester` at `slot` into the typed payload a node publishes.
fn typed_attestation(chain: &ChainSpec, slot: u64, attester: u64) -> GossipPayload {
    let bytes = attestation(chain, slot, 3, attester);
    let fork = chain.fork_at(chain.epoch_of(slot));
    GossipPayload::decode(chain, GossipKind::BeaconAttestation(3), fork, &bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_run_concurrently_never_beyond_the_limit_and_share_the_decoded_payload() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let checks = Arc::new(Counting {
        running: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        expect: 2,
        seen: Mutex::new(Vec::new()),
    });
    let config = node_config(&chain)
        .validation_concurrency(2)
        .build()
        .unwrap();
    let (checked, mut events) = spawn(config, checks.clone(), None).unwrap();
    let publisher = publisher_for(&chain, &checked).await;
    let slot = next_slot_start(&chain).await;
    let kind = GossipKind::BeaconAttestation(3);
    for attester in 0..12 {
        let payload = typed_attestation(&chain, slot, attester);
        publisher.handle.publish(kind, payload).await.unwrap();
    }
    let got = outcomes(&mut events, 12).await;
    assert_eq!(got.len(), 12, "{got:?}");
    assert!(got.iter().all(|o| o.verdict == Verdict::Accept), "{got:?}");
    assert_eq!(
        checks.peak.load(Ordering::SeqCst),
        2,
        "two checks at once, never three"
    );
    // The node's checks and its events read one decoded value.
    let seen = checks.seen.lock().unwrap().clone();
    for o in &got {
        let payload = o
            .payload
            .as_ref()
            .expect("an accepted message carries its payload");
        assert!(seen.iter().any(|s| Arc::ptr_eq(s, payload)));
        assert!(matches!(
            &**payload,
            GossipPayload::Mainnet(Payload::Attestation(_))
        ));
    }
    checked.shutdown().await.unwrap();
}

/// Checks that defer attesters from 100 on, telling the test which message-ids they deferred.
struct Deferring(mpsc::UnboundedSender<(u64, pheme_codec::MessageId)>);

impl StatefulValidator for Deferring {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        match attester(msg) {
            Some(a) if a >= 100 => {
                let _ = self.0.send((a, msg.message_id));
                Decision::Defer
            }
            _ => Decision::Accept,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_checks_answer_through_the_handle_or_ignore_at_the_deadline() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let (tx, mut deferred) = mpsc::unbounded_channel();
    let config = node_config(&chain)
        .validation_deadline(Duration::from_millis(1_500))
        .build()
        .unwrap();
    let (checked, mut events) = spawn(config, Deferring(tx), None).unwrap();
    let publisher = publisher_for(&chain, &checked).await;
    let slot = next_slot_start(&chain).await;
    let kind = GossipKind::BeaconAttestation(3);
    for attester in [1, 100, 101, 102] {
        let payload = typed_attestation(&chain, slot, attester);
        publisher.handle.publish(kind, payload).await.unwrap();
    }
    let mut ids = std::collections::BTreeMap::new();
    while ids.len() < 3 {
        let (a, id) = tokio::time::timeout(Duration::from_secs(10), deferred.recv())
            .await
            .expect("three deferrals")
            .unwrap();
        ids.insert(a, id);
    }
    // 100 accepted later, 101 rejected with the node's reason, 102 never answered.
    checked.decide(ids[&100], Decision::Accept).unwrap();
    checked
        .decide(ids[&101], Decision::reject("bad_signature"))
        .unwrap();
    let got = outcomes(&mut events, 4).await;
    let verdict_of = |id: &pheme_codec::MessageId| {
        got.iter()
            .find(|o| o.message_id == *id)
            .map(|o| (o.verdict, o.reason))
    };
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(verdict_of(&ids[&100]), Some((Verdict::Accept, "accepted")));
    assert_eq!(
        verdict_of(&ids[&101]),
        Some((Verdict::Reject, "bad_signature"))
    );
    assert_eq!(
        verdict_of(&ids[&102]),
        Some((Verdict::Ignore, "validation_deadline"))
    );
    // An answer after the deadline changes nothing (and is counted, not applied).
    checked.decide(ids[&102], Decision::Accept).unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                if let Some(NetworkEvent::Gossip(g)) = events.recv().await {
                    return g;
                }
            }
        })
        .await
        .is_err(),
        "no second verdict for a message past its deadline"
    );
    checked.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_payload_is_published_only_on_its_own_topic() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let n = node(&chain).await;
    let slot = common::slot_now(&chain);
    let payload = typed_attestation(&chain, slot, 1);
    let err = n
        .handle
        .publish(GossipKind::BeaconBlock, payload)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            HandleError::Payload(PayloadError::WrongKind {
                payload: "beacon_attestation",
                topic: GossipKind::BeaconBlock,
            })
        ),
        "{err}"
    );
    n.handle.shutdown().await.unwrap();
}

/// Checks that answer through the handle before they return `Defer` (for attesters from 100),
/// and that hold their thread past the deadline before deferring (attester 200).
struct AnswersEarly {
    handle: std::sync::OnceLock<NetworkHandle>,
}

impl StatefulValidator for AnswersEarly {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        match attester(msg) {
            Some(200) => {
                std::thread::sleep(Duration::from_millis(700));
                Decision::Defer
            }
            Some(a) if a >= 100 => {
                if let Some(h) = self.handle.get() {
                    h.decide(msg.message_id, Decision::Accept).unwrap();
                    // Let the answer reach the validation task before the `Defer` does.
                    std::thread::sleep(Duration::from_millis(50));
                }
                Decision::Defer
            }
            _ => Decision::Accept,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_before_the_defer_counts_and_a_late_defer_still_expires() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let checks = Arc::new(AnswersEarly {
        handle: std::sync::OnceLock::new(),
    });
    let config = node_config(&chain)
        .validation_deadline(Duration::from_millis(400))
        .build()
        .unwrap();
    let (checked, mut events) = spawn(config, checks.clone(), None).unwrap();
    checks.handle.set(checked.clone()).unwrap();
    let publisher = publisher_for(&chain, &checked).await;
    let slot = next_slot_start(&chain).await;
    let kind = GossipKind::BeaconAttestation(3);
    for attester in [100, 200] {
        let payload = typed_attestation(&chain, slot, attester);
        publisher.handle.publish(kind, payload).await.unwrap();
    }
    let got = outcomes(&mut events, 2).await;
    let mut verdicts: Vec<_> = got.iter().map(|o| (o.verdict, o.reason)).collect();
    verdicts.sort();
    assert_eq!(
        verdicts,
        vec![
            (Verdict::Accept, "accepted"),
            (Verdict::Ignore, "validation_deadline")
        ]
    );
    checked.shutdown().await.unwrap();
}
