//! The Partial Messages extension (libp2p/specs PR 685) over gossipsub v1.3's Extensions
//! control message.
//!
//! The router carries partial messages; what they mean is the application's (for Ethereum,
//! cells of data columns). It keeps, per peer, whether the peer advertised the extension and,
//! per topic, whether it supports or requests partial messages (from its `SubOpts`); per topic
//! of this node, whether it supports or requests them ([`Router::set_partial`]). It hands every
//! partial message on a topic where this node supports them to the owner
//! ([`Event::Partial`]), mesh peer or not, and sends what the owner gives it
//! ([`Router::send_partial`]), one per frame. On such a topic, peers that request partial
//! messages get no full messages and no IHAVE from it: the owner serves them. The owner's
//! verdicts on the parts feed the score ([`Router::report_partial`]).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use libp2p_identity::PeerId;

use super::Router;
use crate::event::Event;
use crate::types::MessageTransform;
use crate::wire::{self, ControlExtensions, PartialMessagesExtension};

/// Longest group id the router takes (Ethereum's is 33 bytes).
pub const MAX_GROUP_ID_LEN: usize = 256;

/// What a peer said about partial messages on a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerPartial {
    /// It advertised the extension and supports partial messages on the topic: it may be sent
    /// parts metadata.
    pub supports: bool,
    /// It requests partial messages on the topic: it may be sent parts, and gets no full
    /// messages from this node there.
    pub requests: bool,
    /// It is in this node's mesh for the topic.
    pub in_mesh: bool,
    /// It is in this node's fanout for the topic.
    pub in_fanout: bool,
}

/// The owner's verdict on a partial message's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialVerdict {
    /// Valid parts this node lacked: a delivery (P2 when `first`, P3 for a mesh peer). The
    /// owner rate-limits it, so that sending parts one by one earns no more than sending them
    /// together.
    Useful {
        /// Whether it counts as a first delivery (P2).
        first: bool,
    },
    /// Invalid parts or metadata: P4 on the topic.
    Invalid,
}

/// Why a partial message was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartialError {
    /// The router was built without [`RouterConfig::partial_messages`](crate::RouterConfig::partial_messages).
    #[error("the partial messages extension is off")]
    Disabled,
    /// Partial messages are not enabled on the topic ([`Router::set_partial`]).
    #[error("partial messages are not enabled on {0}")]
    Topic(String),
    /// The peer is not connected.
    #[error("peer {0} is not connected")]
    UnknownPeer(PeerId),
    /// The peer did not advertise the extension, or does not support it on the topic.
    #[error("peer {0} does not support partial messages on the topic")]
    NotSupported(PeerId),
    /// Parts for a peer that supports but does not request partial messages (it may only be
    /// sent metadata).
    #[error("peer {0} does not request partial messages on the topic")]
    NotRequested(PeerId),
    /// A group id over [`MAX_GROUP_ID_LEN`] bytes.
    #[error("group id of {0} bytes")]
    GroupId(usize),
}

impl<T: MessageTransform> Router<T> {
    /// Enables (`Some(requests)`) or disables (`None`) partial messages on `topic` for this
    /// node; if it is subscribed, the topic is announced again with the new flags. Returns
    /// [`PartialError::Disabled`] unless the configuration turns the extension on.
    pub fn set_partial(&mut self, topic: &str, partial: Option<bool>) -> Result<(), PartialError> {
        if !self.config.partial_messages {
            return Err(PartialError::Disabled);
        }
        let t = self
            .intern(topic.as_bytes(), true)
            .ok_or_else(|| PartialError::Topic(topic.to_owned()))?;
        if self.topics[t as usize].partial == partial {
            return Ok(());
        }
        self.topics[t as usize].partial = partial;
        if self.topics[t as usize].subscribed {
            self.announce(t, true);
        }
        Ok(())
    }

    /// This node's partial setting on `topic` (`Some(requests)` when enabled).
    pub fn partial(&self, topic: &str) -> Option<bool> {
        let t = *self.topic_ids.get(topic.as_bytes())?;
        self.topics[t as usize].partial
    }

    /// What `peer` said about partial messages on `topic` (`None`: not connected or unknown
    /// topic).
    pub fn peer_partial(&self, peer: &PeerId, topic: &str) -> Option<PeerPartial> {
        let t = *self.topic_ids.get(topic.as_bytes())?;
        let idx = *self.peer_ids.get(peer)?;
        Some(self.peer_partial_of(idx, t))
    }

    /// The peers of `topic` that support partial messages there, with what they said.
    pub fn partial_peers(&self, topic: &str) -> Vec<(PeerId, PeerPartial)> {
        let Some(&t) = self.topic_ids.get(topic.as_bytes()) else {
            return Vec::new();
        };
        self.topics[t as usize]
            .peers
            .iter()
            .filter_map(|&idx| {
                let pp = self.peer_partial_of(idx, t);
                let id = self.peer(idx)?.id;
                pp.supports.then_some((id, pp))
            })
            .collect()
    }

    pub(crate) fn peer_partial_of(&self, idx: u32, t: u32) -> PeerPartial {
        let Some(p) = self.peer(idx) else {
            return PeerPartial::default();
        };
        let ext = p.ext_partial;
        PeerPartial {
            supports: ext && p.partial_supports.contains(t as usize),
            requests: ext && p.partial_requests.contains(t as usize),
            in_mesh: p.in_mesh(t),
            in_fanout: self.topics[t as usize].fanout.contains(&idx),
        }
    }

    /// Whether full messages and IHAVEs on `t` skip the peer: this node supports partial
    /// messages there and the peer requests them.
    pub(crate) fn wants_partial(&self, idx: u32, t: u32) -> bool {
        self.topics[t as usize].partial.is_some()
            && self
                .peer(idx)
                .is_some_and(|p| p.ext_partial && p.partial_requests.contains(t as usize))
    }

    /// Queues one partial message for `peer`: `message` (parts, only for a peer that requests
    /// them) and `metadata` (what this node has and wants) of group `group_id` on `topic`.
    pub fn send_partial(
        &mut self,
        peer: &PeerId,
        topic: &str,
        group_id: Bytes,
        message: Option<Bytes>,
        metadata: Option<Bytes>,
    ) -> Result<(), PartialError> {
        if !self.config.partial_messages {
            return Err(PartialError::Disabled);
        }
        if group_id.len() > MAX_GROUP_ID_LEN {
            return Err(PartialError::GroupId(group_id.len()));
        }
        let t = match self.topic_ids.get(topic.as_bytes()) {
            Some(&t) if self.topics[t as usize].partial.is_some() => t,
            _ => return Err(PartialError::Topic(topic.to_owned())),
        };
        let idx = *self
            .peer_ids
            .get(peer)
            .ok_or(PartialError::UnknownPeer(*peer))?;
        let pp = self.peer_partial_of(idx, t);
        if !pp.supports {
            return Err(PartialError::NotSupported(*peer));
        }
        if message.is_some() && !pp.requests {
            return Err(PartialError::NotRequested(*peer));
        }
        let entry = wire::encode_partial_entry(&PartialMessagesExtension {
            topic_id: Some(self.topics[t as usize].bytes.clone()),
            group_id: Some(group_id),
            partial_message: message,
            parts_metadata: metadata,
        });
        let max = self.config.max_partial_queue;
        let Some(p) = self.peer_mut(idx) else {
            return Err(PartialError::UnknownPeer(*peer));
        };
        if p.queue.partial.len() >= max {
            p.queue.partial.pop_front();
            self.stats.partial_dropped_queue_full += 1;
        }
        self.stats.partial_sent += 1;
        self.stats.partial_bytes_sent += entry.len() as u64;
        if let Some(p) = self.peer_mut(idx) {
            p.queue.partial.push_back(entry);
        }
        self.schedule(idx);
        Ok(())
    }

    /// The owner's verdict on parts `peer` sent on `topic`.
    pub fn report_partial(&mut self, peer: &PeerId, topic: &str, verdict: PartialVerdict) {
        let (Some(&t), Some(&idx)) = (
            self.topic_ids.get(topic.as_bytes()),
            self.peer_ids.get(peer),
        ) else {
            return;
        };
        let r = self.peer_ref(idx);
        match verdict {
            PartialVerdict::Useful { first } => {
                self.stats.partial_useful += 1;
                self.credit_delivery(r, t, first);
            }
            PartialVerdict::Invalid => {
                self.stats.partial_invalid += 1;
                self.penalise_invalid(r, t);
            }
        }
    }

    /// A peer's Extensions message: the first one counts; a second is P7.
    pub(crate) fn handle_extensions(&mut self, now: Instant, idx: u32, ext: &ControlExtensions) {
        let _ = now;
        let Some(p) = self.peer_mut(idx) else {
            return;
        };
        if p.ext_seen {
            let peer = p.id;
            self.stats.extensions_repeated += 1;
            tracing::debug!(target: "pheme::router::partial", %peer, "second Extensions message");
            self.behaviour_penalty(idx, 1.0);
            return;
        }
        p.ext_seen = true;
        p.ext_partial = ext.partial_messages == Some(true);
        let (peer, partial) = (p.id, p.ext_partial);
        self.stats.extensions_received += 1;
        tracing::debug!(target: "pheme::router::partial", %peer, partial, "extensions");
    }

    /// A partial message from a peer: handed to the owner when this node supports partial
    /// messages on its topic; malformed ones (no topic or group, an oversized group id) cost P7.
    pub(crate) fn handle_partial(&mut self, now: Instant, idx: u32, m: PartialMessagesExtension) {
        let _ = now;
        self.stats.partial_received += 1;
        let Some(peer) = self.peer(idx).map(|p| p.id) else {
            return;
        };
        let (Some(topic), Some(group_id)) = (m.topic_id, m.group_id) else {
            self.stats.partial_malformed += 1;
            self.behaviour_penalty(idx, 1.0);
            return;
        };
        if group_id.len() > MAX_GROUP_ID_LEN {
            self.stats.partial_malformed += 1;
            self.behaviour_penalty(idx, 1.0);
            return;
        }
        let t = match self.topic_ids.get(&topic) {
            Some(&t) if self.topics[t as usize].partial.is_some() => t,
            _ => {
                self.stats.partial_unsupported += 1;
                return;
            }
        };
        let bytes = group_id.len()
            + m.partial_message.as_ref().map_or(0, Bytes::len)
            + m.parts_metadata.as_ref().map_or(0, Bytes::len);
        self.stats.partial_bytes_received += bytes as u64;
        let topic: Arc<str> = self.topics[t as usize].name.clone();
        tracing::trace!(target: "pheme::router::partial", %peer, %topic, bytes, "partial message");
        self.events.push_back(Event::Partial {
            peer,
            topic,
            group_id,
            message: m.partial_message,
            metadata: m.parts_metadata,
        });
    }
}
