//! The validation task: takes messages from the swarm, runs Pheme's handlers and the node's
//! stateful checks, and sends the verdict back over a channel, so the swarm never waits on
//! chain logic.

use std::sync::{Arc, Mutex};

use libp2p::{PeerId, gossipsub};
use pheme_gossip::{GossipValidator, StatefulValidator, Verdict};
use pheme_spec::{ChainSpec, unix_now_ms};
use tokio::sync::{mpsc, watch};

use crate::handle::{GossipReceived, NetworkEvent};
use crate::metrics::Metrics;
use crate::trace::{TraceRecord, TraceSink};
use crate::transform::{Arrivals, arrival};

/// A message handed from the swarm to the validator.
pub(crate) struct Inbound {
    pub message: gossipsub::Message,
    pub id: gossipsub::MessageId,
    pub source: PeerId,
    pub arrival_ms: u64,
}

/// A verdict handed back to the swarm.
pub(crate) struct Report {
    pub id: gossipsub::MessageId,
    pub source: PeerId,
    pub topic: gossipsub::TopicHash,
    pub verdict: Verdict,
    /// An accepted block, for the req/resp cache.
    pub block: Option<crate::rpc::CachedBlock>,
}

pub(crate) struct ValidationTask<S> {
    pub validator: GossipValidator<S>,
    pub chain: Arc<ChainSpec>,
    pub inbound: mpsc::Receiver<Inbound>,
    pub reports: mpsc::UnboundedSender<Report>,
    pub events: mpsc::Sender<NetworkEvent>,
    pub arrivals: Arc<Mutex<Arrivals>>,
    pub committees: watch::Receiver<u64>,
    pub metrics: Metrics,
    pub trace: Option<TraceSink>,
}

/// One debug event per message under a target per topic kind (`pheme::gossip::block`, ...),
/// so operators can turn on one kind: `RUST_LOG=pheme::gossip::aggregate=debug`.
macro_rules! log_verdict {
    ($kind:expr, $($field:tt)*) => {
        match $kind {
            "beacon_block" => tracing::debug!(target: "pheme::gossip::block", $($field)*),
            "beacon_aggregate_and_proof" => tracing::debug!(target: "pheme::gossip::aggregate", $($field)*),
            "beacon_attestation" => tracing::debug!(target: "pheme::gossip::attestation", $($field)*),
            "voluntary_exit" => tracing::debug!(target: "pheme::gossip::exit", $($field)*),
            "proposer_slashing" => tracing::debug!(target: "pheme::gossip::proposer_slashing", $($field)*),
            "attester_slashing" => tracing::debug!(target: "pheme::gossip::attester_slashing", $($field)*),
            "sync_committee_contribution_and_proof" => tracing::debug!(target: "pheme::gossip::contribution", $($field)*),
            "sync_committee" => tracing::debug!(target: "pheme::gossip::sync_committee", $($field)*),
            "bls_to_execution_change" => tracing::debug!(target: "pheme::gossip::bls_change", $($field)*),
            "blob_sidecar" => tracing::debug!(target: "pheme::gossip::blob", $($field)*),
            "data_column_sidecar" => tracing::debug!(target: "pheme::gossip::column", $($field)*),
            _ => tracing::debug!(target: "pheme::gossip", $($field)*),
        }
    };
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Accept => "accept",
        Verdict::Ignore => "ignore",
        Verdict::Reject => "reject",
    }
}

impl<S: StatefulValidator> ValidationTask<S> {
    pub async fn run(mut self) {
        let mut last_prune_slot = None;
        while let Some(msg) = self.inbound.recv().await {
            if self.committees.has_changed().unwrap_or(false) {
                self.validator.committees_per_slot = Some(*self.committees.borrow_and_update());
            }
            let slot = self.chain.clock().slot_at_ms(msg.arrival_ms);
            if slot.is_some() && slot != last_prune_slot {
                last_prune_slot = slot;
                if let Some(s) = slot {
                    self.validator.prune(s);
                }
            }
            self.handle(msg).await;
        }
    }

    async fn handle(&mut self, msg: Inbound) {
        let seen = arrival(&self.arrivals, &msg.message);
        let wire_len = seen.map_or(msg.message.data.len(), |a| a.wire_len);
        let id: [u8; 20] = msg.id.0.as_slice().try_into().unwrap_or([0; 20]);
        let topic = msg.message.topic.as_str();
        let outcome = self
            .validator
            .validate_decoded(topic, &msg.message.data, id, wire_len, msg.arrival_ms)
            .await;
        let block = match (outcome.verdict, outcome.kind, outcome.fork) {
            (Verdict::Accept, Some(pheme_spec::GossipKind::BeaconBlock), Some(fork)) => {
                let digest = topic
                    .parse::<pheme_codec::GossipTopic>()
                    .ok()
                    .map(|t| t.fork_digest);
                let root = crate::blocks::block_slot_and_root(&self.chain, fork, &msg.message.data);
                digest
                    .zip(root)
                    .map(|(fork_digest, (slot, root))| crate::rpc::CachedBlock {
                        fork_digest,
                        ssz: msg.message.data.clone(),
                        slot,
                        root,
                    })
            }
            _ => None,
        };
        let block_info = block.as_ref().map(|b| (b.slot, b.root));
        let _ = self.reports.send(Report {
            id: msg.id.clone(),
            source: msg.source,
            topic: msg.message.topic.clone(),
            verdict: outcome.verdict,
            block,
        });
        let verdict_ms = unix_now_ms();
        let kind = outcome.kind.map_or("unknown", |k| k.base_name());
        let verdict = verdict_name(outcome.verdict);
        self.metrics.count(
            "pheme_gossip_messages_total",
            &[
                ("kind", kind),
                ("verdict", verdict),
                ("reason", outcome.reason),
            ],
            1,
        );
        self.metrics.count(
            "pheme_gossip_bytes_total",
            &[("kind", kind)],
            wire_len as u64,
        );
        self.metrics.observe(
            "pheme_gossip_validation_seconds",
            &[("kind", kind)],
            verdict_ms.saturating_sub(msg.arrival_ms) as f64 / 1000.0,
        );
        log_verdict!(
            kind,
            id = %msg.id,
            source = %msg.source,
            verdict,
            reason = outcome.reason,
            detail = %outcome.detail
        );
        if let Some(trace) = &self.trace {
            let record = TraceRecord {
                arrival_ms: msg.arrival_ms,
                verdict_ms,
                topic: topic.to_owned(),
                message_id: hex::encode(id),
                source: msg.source.to_string(),
                wire_bytes: wire_len,
                ssz_bytes: outcome.ssz_len,
                verdict,
                reason: outcome.reason,
                duplicates: seen.map_or(0, |a| a.copies.saturating_sub(1)),
                block_slot: block_info.map(|(slot, _)| slot),
                block_root: block_info.map(|(_, root)| format!("0x{}", hex::encode(root))),
            };
            if !trace.record(record) {
                self.metrics
                    .count("pheme_trace_records_dropped_total", &[], 1);
            }
        }
        let event = NetworkEvent::Gossip(Box::new(GossipReceived {
            outcome,
            source: msg.source,
            arrival_ms: msg.arrival_ms,
            ssz: msg.message.data,
        }));
        if self.events.try_send(event).is_err() {
            self.metrics.count("pheme_events_dropped_total", &[], 1);
        }
    }
}
