//! How a beacon node links Pheme: its checks, deferred answers, application scores, typed
//! publishing and events. Two nodes on loopback, mainnet's chain at the current slot, offline.
//!
//! ```text
//! cargo run -p pheme-network --example embed
//! ```
//!
//! "The node" here stands for a beacon node: its state checks know a committee (a set of
//! validator indices) and defer blocks to its fork choice, which answers through the handle.

use std::collections::HashSet;
use std::time::Duration;

use pheme_gossip::payload::mainnet::{Attestation, Payload};
use pheme_gossip::{Decision, GossipPayload, InboundMessage, StatefulValidator};
use pheme_network::{NetworkConfig, NetworkEvent, NetworkHandle, Subnets, spawn};
use pheme_spec::{ChainSpec, GossipKind, Network, unix_now_ms};
use pheme_types::mainnet::electra::SingleAttestation;
use tokio::sync::mpsc;

/// The node's checks. They run on Pheme's blocking threads, several at once: no `await`, no
/// locks held for long; what must wait (a parent block) is deferred.
struct NodeChecks {
    /// Attesters the node's state knows in this committee.
    committee: HashSet<u64>,
    /// Blocks handed to the node's fork choice.
    blocks: mpsc::UnboundedSender<pheme_codec::MessageId>,
}

impl StatefulValidator for NodeChecks {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        let GossipPayload::Mainnet(payload) = &*msg.payload else {
            return Decision::ignore("wrong_preset");
        };
        match payload {
            Payload::Attestation(a) => match &**a {
                Attestation::Electra(a) if self.committee.contains(&a.attester_index) => {
                    // A real node verifies the BLS signature here (milliseconds of CPU).
                    Decision::Accept
                }
                Attestation::Electra(_) => Decision::reject("attester_not_in_committee"),
                Attestation::Phase0(_) => Decision::ignore("pre_electra"),
            },
            Payload::Block(_) => {
                // Fork choice answers later, through the handle.
                let _ = self.blocks.send(msg.message_id);
                Decision::Defer
            }
            _ => Decision::Accept,
        }
    }
}

/// A loopback node on `chain`.
fn config(chain: &ChainSpec) -> Result<NetworkConfig, Box<dyn std::error::Error>> {
    Ok(NetworkConfig::builder(chain.clone())
        .listen("/ip4/127.0.0.1/tcp/0".parse()?)
        .subnets(Subnets::All)
        .ip_colocation_whitelist(vec!["127.0.0.1".parse()?])
        .validation_concurrency(2)
        .build()?)
}

async fn first_listen_addr(
    h: &NetworkHandle,
) -> Result<libp2p::Multiaddr, Box<dyn std::error::Error>> {
    for _ in 0..50 {
        if let Some(a) = h.snapshot().await?.listen.first() {
            return Ok(a.clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("no listen address".into())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let chain = Network::Mainnet.chain_spec()?;
    let (blocks_tx, mut blocks_rx) = mpsc::unbounded_channel();
    let checks = NodeChecks {
        committee: (0..8).collect(),
        blocks: blocks_tx,
    };
    let (node, mut events) = spawn(config(&chain)?, checks, None)?;
    let (peer, _peer_events) = spawn(config(&chain)?, pheme_gossip::NoState, None)?;
    peer.dial(first_listen_addr(&node).await?).await?;

    // The node's fork choice: accepts every block it is asked about, 50 ms later.
    let answering = node.clone();
    tokio::spawn(async move {
        while let Some(id) = blocks_rx.recv().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = answering.decide(id, Decision::Accept);
        }
    });

    // Wait for the attestation mesh, then publish typed attestations from the peer: attesters
    // 0..8 are in the node's committee, 100 is not.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let slot = chain
        .clock()
        .slot_at_ms(unix_now_ms())
        .ok_or("before genesis")?;
    let epoch = chain.epoch_of(slot);
    for attester in [1, 2, 100] {
        let mut a = SingleAttestation {
            committee_index: 3,
            attester_index: attester,
            ..Default::default()
        };
        a.data.slot = slot;
        a.data.index = 0;
        a.data.target.epoch = epoch;
        let payload =
            GossipPayload::Mainnet(Payload::Attestation(Box::new(Attestation::Electra(a))));
        // Committee 3 of 64 travels on subnet 3.
        peer.publish(GossipKind::BeaconAttestation(3), payload)
            .await?;
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
        match event {
            NetworkEvent::PeerConnected { peer, .. } => {
                // The node's own view of a peer (sync behaviour, req/resp) as P5.
                node.set_application_score(peer, 1.0)?;
                println!("connected {peer}");
            }
            NetworkEvent::Gossip(g) => {
                let o = &g.outcome;
                let attester = match o.payload.as_deref().and_then(GossipPayload::mainnet) {
                    Some(Payload::Attestation(a)) => match &**a {
                        Attestation::Electra(a) => Some(a.attester_index),
                        Attestation::Phase0(_) => None,
                    },
                    _ => None,
                };
                println!(
                    "{:<18} attester {:>3?} -> {} ({}), {:?} after arrival",
                    o.kind.map_or("unknown", |k| k.base_name()),
                    attester,
                    o.verdict.name(),
                    o.reason,
                    g.verdict_latency,
                );
            }
            _ => {}
        }
    }
    let scores = node.peer_scores().await?;
    for s in scores {
        println!("score of {}: {:.2}", s.peer, s.total);
    }
    peer.shutdown().await?;
    node.shutdown().await?;
    Ok(())
}
