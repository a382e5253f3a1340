//! Partial data columns on the swarm's side: topics get the partial flags, partial messages go
//! to the validation task, and what it answers goes to Pheme's router (see
//! [`crate::partial`]).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use libp2p::PeerId;
use pheme_gossip::Verdict;
use pheme_router::PartialVerdict;
use pheme_spec::{Fork, GossipKind, unix_now_ms};

use super::Service;
use crate::partial::{PartialIn, PartialOut};

impl Service {
    /// The column and fork of a topic that carries partial columns: a Fulu
    /// `data_column_sidecar_{subnet}` (one column per subnet: the spec infers the column from
    /// the subnet). Gloas changes partial columns; they are not spoken yet.
    pub(super) fn partial_column_of(&self, topic: &str) -> Option<(u64, Fork)> {
        if !self.config.partial_columns {
            return None;
        }
        let t = topic.parse::<pheme_codec::GossipTopic>().ok()?;
        let GossipKind::DataColumnSidecar(subnet) = t.kind else {
            return None;
        };
        let fork = self
            .kinds
            .iter()
            .find(|(d, _)| d.digest == t.fork_digest)?
            .0
            .fork;
        let one_per_subnet =
            self.chain.data_column_sidecar_subnet_count == self.chain.preset.number_of_columns;
        (fork == Fork::Fulu && one_per_subnet).then_some((subnet, fork))
    }

    /// Before joining a topic: partial columns request partial messages on it.
    pub(super) fn prepare_partial(&mut self, topic: &str) {
        if self.partial_column_of(topic).is_none() {
            return;
        }
        if let Some(r) = self.pheme()
            && let Err(e) = r.set_partial(topic, Some(true))
        {
            tracing::warn!(target: "pheme::network::partial", topic, error = %e, "partial messages not enabled");
        }
    }

    /// A partial message from `peer` on `topic`: to the validation task.
    pub(super) fn on_partial(
        &mut self,
        peer: PeerId,
        topic: Arc<str>,
        group_id: Bytes,
        message: Option<Bytes>,
        metadata: Option<Bytes>,
    ) {
        let Some((column, fork)) = self.partial_column_of(&topic) else {
            self.config.metrics.count(
                "pheme_partial_messages_dropped_total",
                &[("reason", "topic")],
                1,
            );
            return;
        };
        let work = PartialIn::Received {
            peer,
            topic,
            column,
            fork,
            group_id,
            message,
            metadata,
            arrival_ms: unix_now_ms(),
        };
        self.hand_to_validation(work);
    }

    /// A full column this node publishes: the validation task takes its cells, so peers that
    /// request partial messages (who get no full column from the router) are served.
    pub(super) fn on_own_column(&mut self, topic: &str, ssz: &[u8]) {
        if self.partial_column_of(topic).is_none() {
            return;
        }
        let work = PartialIn::Own {
            topic: Arc::from(topic),
            ssz: ssz.to_vec(),
        };
        self.hand_to_validation(work);
    }

    /// Hands partial-column work to the validation task; a full queue drops it (counted).
    fn hand_to_validation(&mut self, work: PartialIn) {
        if self.partial_in.try_send(work).is_err() {
            self.config.metrics.count(
                "pheme_partial_messages_dropped_total",
                &[("reason", "queue_full")],
                1,
            );
        }
    }

    /// What the validation task asks for.
    pub(super) fn on_partial_out(&mut self, out: PartialOut) {
        let now = Instant::now();
        match out {
            PartialOut::Verdict {
                peer,
                topic,
                verdict,
                reward,
            } => {
                let Some(r) = self.pheme() else { return };
                if verdict == Verdict::Reject {
                    r.report_partial(&peer, &topic, PartialVerdict::Invalid);
                } else if reward {
                    r.report_partial(&peer, &topic, PartialVerdict::Useful { first: true });
                }
            }
            PartialOut::Send {
                peer,
                topic,
                root,
                reply,
            } => {
                let metrics = self.config.metrics.clone();
                let Some(r) = self.pheme() else { return };
                let Some(pp) = r.peer_partial(&peer, &topic) else {
                    return;
                };
                if !pp.supports {
                    return;
                }
                // Parts only to a peer that requests them; metadata to any that supports them.
                let message = reply.message.filter(|_| pp.requests).map(Bytes::from);
                let metadata = reply.metadata.map(Bytes::from);
                if message.is_none() && metadata.is_none() {
                    return;
                }
                let bytes = message.as_ref().map_or(0, Bytes::len);
                let group = Bytes::from(pheme_gossip::encode_group_id(root));
                match r.send_partial(&peer, &topic, group, message, metadata) {
                    Ok(()) => {
                        metrics.count("pheme_partial_sent_total", &[], 1);
                        metrics.count("pheme_partial_sent_bytes_total", &[], bytes as u64);
                    }
                    Err(e) => {
                        tracing::debug!(target: "pheme::network::partial", %peer, error = %e, "partial message not sent");
                    }
                }
            }
            PartialOut::Completed { topic, ssz } => {
                let Some(r) = self.pheme() else { return };
                match r.publish(now, &topic, &ssz) {
                    Ok(_) => {
                        tracing::debug!(target: "pheme::network::partial", %topic, "assembled column forwarded whole")
                    }
                    Err(e) => {
                        tracing::debug!(target: "pheme::network::partial", %topic, error = %e, "assembled column not forwarded")
                    }
                }
            }
            PartialOut::Provided {
                topic,
                root,
                column,
            } => {
                let Some(r) = self.pheme_ref() else { return };
                // The eager push goes to the topic's mesh and fanout peers that support
                // partial messages (the spec: same mesh, same fanout).
                let peers: Vec<PeerId> = r
                    .partial_peers(&topic)
                    .into_iter()
                    .filter(|(_, pp)| pp.in_mesh || pp.in_fanout)
                    .map(|(p, _)| p)
                    .collect();
                if peers.is_empty() {
                    return;
                }
                let work = PartialIn::Push {
                    topic,
                    root,
                    column,
                    peers,
                };
                self.hand_to_validation(work);
            }
        }
    }
}
