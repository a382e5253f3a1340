//! The embedding node's state checks run inside Pheme's validation task: a panic in them
//! IGNOREs that message and the node goes on validating (and relaying) the next ones.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use common::{
    attestation, chain, listen_addr, next_slot_start, node, node_config, wait_for, wait_mesh,
};
use pheme_gossip::payload::mainnet::{Attestation, Payload};
use pheme_gossip::{Decision, GossipPayload, InboundMessage, StatefulValidator, Verdict};
use pheme_network::{NetworkEvent, spawn};
use pheme_spec::GossipKind;

/// State checks with a bug: they panic on one attester.
struct PanicsOnAttester(u64);

impl StatefulValidator for PanicsOnAttester {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        if let GossipPayload::Mainnet(Payload::Attestation(a)) = &*msg.payload
            && let Attestation::Electra(a) = &**a
            && a.attester_index == self.0
        {
            panic!("a bug in the node's state checks");
        }
        Decision::Accept
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_state_check_costs_one_message_not_the_node() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let config = node_config(&chain).build().unwrap();
    let (checked, mut events) = spawn(config, PanicsOnAttester(5), None).unwrap();
    let publisher = node(&chain).await;
    publisher
        .handle
        .dial(listen_addr(&checked).await)
        .await
        .unwrap();
    wait_mesh(&publisher.handle, "beacon_attestation").await;
    let slot = next_slot_start(&chain).await;
    // Committee 3 of 64 travels on subnet 3.
    for attester in [5, 6, 7] {
        publisher
            .handle
            .publish_ssz(
                GossipKind::BeaconAttestation(3),
                attestation(&chain, slot, 3, attester),
            )
            .await
            .unwrap();
    }
    let mut outcomes = Vec::new();
    let got = wait_for(Duration::from_secs(10), || {
        while let Ok(e) = events.try_recv() {
            if let NetworkEvent::Gossip(g) = e {
                outcomes.push((g.outcome.verdict, g.outcome.reason));
            }
        }
        let done = outcomes.len() >= 3;
        async move { done.then_some(()) }
    })
    .await;
    assert!(got.is_some(), "three verdicts: {outcomes:?}");
    outcomes.sort_by_key(|(_, reason)| *reason);
    assert_eq!(
        outcomes,
        vec![
            (Verdict::Accept, "accepted"),
            (Verdict::Accept, "accepted"),
            (Verdict::Ignore, "stateful_panicked"),
        ]
    );
    // Still serving: its snapshot answers and the publisher is still a peer.
    assert_eq!(checked.snapshot().await.unwrap().peers, 1);
    checked.shutdown().await.unwrap();
}
