//! Partial data columns (Fulu's `partial-columns/p2p-interface.md`) in the service: what
//! Pheme's router hands the service (gossipsub partial messages on `data_column_sidecar_*`),
//! and the validation task's [`pheme_gossip::PartialColumns`] that makes sense of them.
//!
//! The swarm never validates: it passes each partial message to the validation task
//! ([`PartialIn`]), which checks it (the header's proposer checks through the node's
//! [`StatefulValidator::validate_partial_header`](pheme_gossip::StatefulValidator), cells by
//! batch KZG), stores novel cells and answers with what to do ([`PartialOut`]): the score
//! feedback, the replies (cells a peer asked for, this node's metadata with its own requests),
//! the eager header push to the column's partial peers when a block's header is new to it, and
//! the full `DataColumnSidecar` once the column is complete, which the router publishes to
//! the peers that do not request partial messages (the spec's forwarding rule).

use std::sync::Arc;

use bytes::Bytes;
use libp2p::PeerId;
use pheme_gossip::{GossipError, PartialColumns, PartialReply, Verdict};
use pheme_spec::Fork;

/// `MAX_BLOB_COMMITMENTS_PER_BLOCK`, the same in every preset Pheme speaks (mainnet, minimal,
/// gnosis): the bound of a column's cell lists.
pub(crate) const BLOB_COMMITMENTS: usize = 4096;

/// The validation task's partial columns.
pub(crate) type Assembler = PartialColumns<BLOB_COMMITMENTS>;

/// Slots of blocks whose columns are kept (two mainnet epochs, the seen caches' span).
pub(crate) const KEEP_SLOTS: u64 = 64;

/// Partial-column work the service hands the validation task.
#[derive(Debug)]
pub(crate) enum PartialIn {
    /// A partial message from a peer.
    Received {
        peer: PeerId,
        topic: Arc<str>,
        column: u64,
        fork: Fork,
        group_id: Bytes,
        message: Option<Bytes>,
        metadata: Option<Bytes>,
        arrival_ms: u64,
    },
    /// A full column this node publishes (the SSZ bytes): its cells become this node's.
    Own { topic: Arc<str>, ssz: Vec<u8> },
    /// Eager push of what this node holds of `(root, column)` to these peers of the topic
    /// (header, and this node's metadata: what it has and wants).
    Push {
        topic: Arc<str>,
        root: [u8; 32],
        column: u64,
        peers: Vec<PeerId>,
    },
}

/// What the validation task asks the service to do.
#[derive(Debug)]
pub(crate) enum PartialOut {
    /// The verdict on a peer's partial message; `reward`: a (rate-limited) first delivery.
    Verdict {
        peer: PeerId,
        topic: Arc<str>,
        verdict: Verdict,
        reward: bool,
    },
    /// Send `reply` to `peer` under the group of `root`.
    Send {
        peer: PeerId,
        topic: Arc<str>,
        root: [u8; 32],
        reply: PartialReply,
    },
    /// A column became complete: publish the full sidecar (SSZ) to non-partial peers.
    Completed { topic: Arc<str>, ssz: Vec<u8> },
    /// This node now holds something of `(root, column)` that partial peers of the topic
    /// should hear of: the service answers with [`PartialIn::Push`] and the peers.
    Provided {
        topic: Arc<str>,
        root: [u8; 32],
        column: u64,
    },
}

/// One partial message as an observer records it: which cells came from whom, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialEvent {
    /// Arrival, unix milliseconds.
    pub at_ms: u64,
    /// The sender.
    pub peer: PeerId,
    /// The topic string.
    pub topic: String,
    /// The column (the topic's subnet).
    pub column: u64,
    /// The group's block root (`None` when the group id did not decode).
    pub block_root: Option<[u8; 32]>,
    /// Bytes of the group id, parts and metadata.
    pub wire_bytes: usize,
    /// Whether the parts carried the block's header.
    pub header: bool,
    /// The cells the parts carried (blob indices).
    pub cells: Vec<u32>,
    /// Of which this node lacked.
    pub novel_cells: usize,
    /// The cells the sender has and wants, per its metadata (when it sent any).
    pub has: Option<Vec<u32>>,
    /// The cells the sender asked for, per its metadata.
    pub wants: Option<Vec<u32>>,
    /// `accept`, `ignore` or `reject`.
    pub verdict: &'static str,
    /// The refusal's label, `accepted` otherwise.
    pub reason: &'static str,
    /// Whether it completed the column.
    pub completed: bool,
}

/// The blob indices set in a partial sidecar's bitmap and whether it has a header (for the
/// observer's records; `None` when it does not decode).
pub(crate) fn sidecar_shape(bytes: &[u8], max_cells: usize) -> Option<(bool, Vec<u32>)> {
    let s = pheme_gossip::decode_partial_sidecar::<BLOB_COMMITMENTS>(bytes, max_cells).ok()?;
    let cells = s
        .cells_present_bitmap
        .iter()
        .by_vals()
        .enumerate()
        .filter(|(_, b)| *b)
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect();
    Some((!s.header.is_empty(), cells))
}

/// The cells a metadata says its sender has and wants.
pub(crate) fn metadata_cells(bytes: &[u8]) -> Option<(Vec<u32>, Vec<u32>)> {
    let m = pheme_gossip::PartsMetadata::decode::<BLOB_COMMITMENTS>(bytes).ok()?;
    let idx = |it: &mut dyn Iterator<Item = usize>| -> Vec<u32> {
        it.filter_map(|i| u32::try_from(i).ok()).collect()
    };
    Some((idx(&mut m.available_cells()), idx(&mut m.wanted_cells())))
}

impl<S: pheme_gossip::StatefulValidator> crate::validation::ValidationTask<S> {
    /// A full column this node holds (accepted over plain gossip, or its own): its cells
    /// become this node's to serve, and the column's partial peers hear of it.
    pub(crate) fn provide(
        &mut self,
        topic: Arc<str>,
        sidecar: &pheme_types::fulu::DataColumnSidecar<BLOB_COMMITMENTS>,
    ) {
        let Some(assembler) = self.partial.as_mut() else {
            return;
        };
        match assembler.insert_sidecar(sidecar) {
            Ok(root) => {
                let _ = self.partial_out.send(PartialOut::Provided {
                    topic,
                    root,
                    column: sidecar.index,
                });
            }
            Err(e) => {
                tracing::debug!(target: "pheme::gossip::partial_column", error = %e, "column not taken as a provider");
            }
        }
    }

    /// Partial-column work from the service (nothing happens without an assembler: the
    /// service sends none then).
    pub(crate) fn on_partial(&mut self, work: PartialIn) {
        let Some(assembler) = self.partial.as_mut() else {
            return;
        };
        match work {
            PartialIn::Received {
                peer,
                topic,
                column,
                fork,
                group_id,
                message,
                metadata,
                arrival_ms,
            } => {
                let clock = pheme_gossip::GossipClock::new(&self.chain, arrival_ms);
                let stateful = self.validator.stateful().clone();
                let r = assembler.receive(
                    pheme_gossip::Inbound {
                        peer,
                        column,
                        fork,
                        group_id: &group_id,
                        message: message.as_deref(),
                        metadata: metadata.as_deref(),
                    },
                    &clock,
                    &*stateful,
                );
                let reason = r.error.as_ref().map_or("accepted", |e| e.reason());
                self.metrics.count(
                    "pheme_partial_messages_total",
                    &[("verdict", r.verdict.name()), ("reason", reason)],
                    1,
                );
                self.metrics
                    .count("pheme_partial_cells_novel_total", &[], r.novel_cells as u64);
                if let Some((last, rest)) = self.partial_events.split_last() {
                    let wire_bytes = group_id.len()
                        + message.as_ref().map_or(0, Bytes::len)
                        + metadata.as_ref().map_or(0, Bytes::len);
                    let shape = message
                        .as_deref()
                        .and_then(|m| sidecar_shape(m, BLOB_COMMITMENTS));
                    let meta = metadata.as_deref().and_then(metadata_cells);
                    let (has, wants) = match meta {
                        Some((h, w)) => (Some(h), Some(w)),
                        None => (None, None),
                    };
                    let event = PartialEvent {
                        at_ms: arrival_ms,
                        peer,
                        topic: topic.to_string(),
                        column,
                        block_root: r.block_root,
                        wire_bytes,
                        header: shape.as_ref().is_some_and(|s| s.0),
                        cells: shape.map(|s| s.1).unwrap_or_default(),
                        novel_cells: r.novel_cells,
                        has,
                        wants,
                        verdict: r.verdict.name(),
                        reason,
                        completed: r.completed.is_some(),
                    };
                    for sink in rest {
                        sink.record(event.clone());
                    }
                    last.record(event);
                }
                tracing::debug!(
                    target: "pheme::gossip::partial_column",
                    %peer,
                    column,
                    verdict = r.verdict.name(),
                    reason,
                    novel = r.novel_cells,
                    "partial column message"
                );
                let out = &self.partial_out;
                let _ = out.send(PartialOut::Verdict {
                    peer,
                    topic: topic.clone(),
                    verdict: r.verdict,
                    reward: r.reward,
                });
                let Some(root) = r.block_root else {
                    return;
                };
                for (to, reply) in r.reply.map(|x| (peer, x)).into_iter().chain(r.updates) {
                    let _ = out.send(PartialOut::Send {
                        peer: to,
                        topic: topic.clone(),
                        root,
                        reply,
                    });
                }
                if r.new_header {
                    let _ = out.send(PartialOut::Provided {
                        topic: topic.clone(),
                        root,
                        column,
                    });
                }
                if let Some(ssz) = r.completed {
                    self.metrics
                        .count("pheme_partial_columns_completed_total", &[], 1);
                    let _ = out.send(PartialOut::Completed { topic, ssz });
                }
            }
            PartialIn::Own { topic, ssz } => {
                let sidecar = <pheme_types::fulu::DataColumnSidecar<BLOB_COMMITMENTS> as
                    pheme_types::ssz_rs::Deserialize>::deserialize(&ssz);
                if let Ok(sidecar) = sidecar {
                    self.provide(topic, &sidecar);
                }
            }
            PartialIn::Push {
                topic,
                root,
                column,
                peers,
            } => {
                for peer in peers {
                    if let Some(reply) = assembler.first_message(peer, &root, column, false) {
                        let _ = self.partial_out.send(PartialOut::Send {
                            peer,
                            topic: topic.clone(),
                            root,
                            reply,
                        });
                    }
                }
            }
        }
    }
}
