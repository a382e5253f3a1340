//! The validation task: takes messages from the swarm, runs Pheme's handlers and the node's
//! stateful checks, and sends the verdict back over a channel, so the swarm never waits on
//! chain logic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use libp2p::PeerId;
use pheme_gossip::{GossipValidator, StatefulValidator, Verdict};
use pheme_router::MessageId;
use pheme_spec::{ChainSpec, unix_now_ms};
use tokio::sync::{mpsc, watch};

use crate::handle::{GossipReceived, NetworkEvent};
use crate::metrics::Metrics;
use crate::trace::{TraceRecord, TraceSink};
use crate::transform::{Arrival, Arrivals};

/// A message handed from the swarm to the validator, whichever router delivered it.
pub(crate) struct Inbound {
    pub topic: Arc<str>,
    /// The decompressed payload.
    pub data: Bytes,
    pub id: MessageId,
    pub source: PeerId,
    pub arrival_ms: u64,
    /// Bytes on the wire and when the first copy arrived.
    pub wire_len: usize,
    pub first_seen: Instant,
    /// With libp2p-gossipsub: the key of the transform's arrival record, read again at the
    /// verdict for the copies counted by then.
    pub arrival_key: Option<u64>,
}

/// A verdict handed back to the swarm.
pub(crate) struct Report {
    pub id: MessageId,
    pub source: PeerId,
    pub topic: Arc<str>,
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
    pub handles: HandleCache,
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

/// The per-message metric handles of one (kind, verdict, reason).
struct GossipHandles {
    messages: metrics::Counter,
    bytes: metrics::Counter,
    latency: metrics::Histogram,
}

/// Handles registered once per label set: every label is static, so the lookup a message costs
/// builds no key and allocates nothing.
#[derive(Default)]
pub(crate) struct HandleCache(
    HashMap<(&'static str, Verdict, &'static str), Option<GossipHandles>>,
);

impl HandleCache {
    fn get(
        &mut self,
        m: &Metrics,
        kind: &'static str,
        verdict: Verdict,
        reason: &'static str,
    ) -> Option<&GossipHandles> {
        self.0
            .entry((kind, verdict, reason))
            .or_insert_with(|| {
                let labels = [
                    ("kind", kind),
                    ("verdict", verdict.name()),
                    ("reason", reason),
                ];
                Some(GossipHandles {
                    messages: m.counter("pheme_gossip_messages_total", &labels)?,
                    bytes: m.counter("pheme_gossip_bytes_total", &labels[..1])?,
                    latency: m.histogram("pheme_gossip_validation_seconds", &labels[..1])?,
                })
            })
            .as_ref()
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
        let seen: Option<Arrival> = msg
            .arrival_key
            .and_then(|k| self.arrivals.lock().ok()?.get(k));
        let wire_len = seen.map_or(msg.wire_len, |a| a.wire_len);
        let first_seen = seen.map_or(msg.first_seen, |a| a.first_seen);
        let id: [u8; 20] = msg.id.as_bytes().try_into().unwrap_or([0; 20]);
        let topic: &str = &msg.topic;
        let outcome =
            self.validator
                .validate_decoded(topic, &msg.data, id, wire_len, msg.arrival_ms);
        let block = match (outcome.verdict, outcome.kind, outcome.fork) {
            (Verdict::Accept, Some(pheme_spec::GossipKind::BeaconBlock), Some(fork)) => {
                let digest = topic
                    .parse::<pheme_codec::GossipTopic>()
                    .ok()
                    .map(|t| t.fork_digest);
                let root = crate::blocks::block_slot_and_root(&self.chain, fork, &msg.data);
                digest
                    .zip(root)
                    .map(|(fork_digest, (slot, root))| crate::rpc::CachedBlock {
                        fork_digest,
                        ssz: msg.data.to_vec(),
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
            topic: msg.topic.clone(),
            verdict: outcome.verdict,
            block,
        });
        let verdict_ms = unix_now_ms();
        let verdict_latency = first_seen.elapsed();
        let kind = outcome.kind.map_or("unknown", |k| k.base_name());
        let verdict = outcome.verdict.name();
        if let Some(h) = self
            .handles
            .get(&self.metrics, kind, outcome.verdict, outcome.reason)
        {
            h.messages.increment(1);
            h.bytes.increment(wire_len as u64);
            h.latency.record(verdict_latency.as_secs_f64());
        }
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
            verdict_latency,
            ssz: msg.data.into(),
        }));
        if self.events.try_send(event).is_err() {
            self.metrics.count("pheme_events_dropped_total", &[], 1);
        }
    }
}
