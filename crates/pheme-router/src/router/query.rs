//! The router's queries: counters, scores and their components, peers, meshes, subscriptions
//! and table sizes, for owners, metrics and tests.

use std::sync::Arc;

use libp2p_identity::PeerId;

use super::{Router, Topic};
use crate::event::RouterStats;
use crate::score::ScoreBreakdown;
use crate::types::MessageTransform;

impl<T: MessageTransform> Router<T> {
    /// The counters.
    pub fn stats(&self) -> &RouterStats {
        &self.stats
    }

    /// A peer's score (0 with scoring off or for an unknown peer).
    pub fn score(&self, peer: &PeerId) -> f64 {
        self.peer_ids.get(peer).map_or(0.0, |&i| self.score_of(i))
    }

    /// Every component of a peer's score, summing to [`score`](Self::score); `None` for an
    /// unknown peer or with scoring off.
    pub fn score_breakdown(&self, peer: &PeerId) -> Option<ScoreBreakdown> {
        let params = self.scoring.as_ref()?;
        let p = self.peer(*self.peer_ids.get(peer)?)?;
        Some(p.stats.breakdown(*peer, params, &self.topic_params, &|i| {
            self.topics
                .get(i)
                .map_or_else(String::new, |t| t.name.to_string())
        }))
    }

    /// Connected peers.
    pub fn peers(&self) -> impl Iterator<Item = &PeerId> + '_ {
        self.peer_ids.keys()
    }

    /// Whether a peer is connected.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.peer_ids.contains_key(peer)
    }

    /// The mesh of a topic.
    pub fn mesh_peers(&self, topic: &str) -> Vec<PeerId> {
        self.topic_members(topic, |t| &t.mesh)
    }

    /// Peers subscribed to a topic.
    pub fn topic_peers(&self, topic: &str) -> Vec<PeerId> {
        self.topic_members(topic, |t| &t.peers)
    }

    /// The ids of one of a topic's peer lists (none for an unknown topic).
    fn topic_members(&self, topic: &str, list: impl Fn(&Topic) -> &Vec<u32>) -> Vec<PeerId> {
        self.topic_ids
            .get(topic.as_bytes())
            .map(|&t| {
                list(&self.topics[t as usize])
                    .iter()
                    .filter_map(|&i| self.peer(i).map(|p| p.id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Topics this node is subscribed to, with their mesh sizes.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&Arc<str>, usize)> + '_ {
        self.topics
            .iter()
            .filter(|t| t.subscribed)
            .map(|t| (&t.name, t.mesh.len()))
    }

    /// Copies of already-received messages, per topic that had any.
    pub fn duplicates_by_topic(&self) -> impl Iterator<Item = (&Arc<str>, u64)> + '_ {
        self.topics
            .iter()
            .filter(|t| t.duplicates > 0)
            .map(|t| (&t.name, t.duplicates))
    }

    /// Whether this node is subscribed to `topic`.
    pub fn is_subscribed(&self, topic: &str) -> bool {
        self.topic_ids
            .get(topic.as_bytes())
            .is_some_and(|&t| self.topics[t as usize].subscribed)
    }

    /// Messages (and frames' worth of control) queued for a peer, and frames in flight.
    pub fn queue_len(&self, peer: &PeerId) -> Option<(usize, u32)> {
        let p = self.peer(*self.peer_ids.get(peer)?)?;
        Some((
            p.queue.priority.len() + p.queue.forward.len(),
            p.queue.in_flight,
        ))
    }

    /// Sizes of the router's tables, for memory metrics: (seen ids, message records,
    /// retained peer scores).
    pub fn table_sizes(&self) -> (usize, usize, usize) {
        (self.seen.len(), self.records.len(), self.retained.len())
    }

    /// The transform.
    pub fn transform(&self) -> &T {
        &self.transform
    }

    /// The transform, mutably.
    pub fn transform_mut(&mut self) -> &mut T {
        &mut self.transform
    }
}

impl<T: MessageTransform> Router<T> {
    /// For a message still waiting for its verdict: the peers that delivered it so far (the
    /// first copy's sender first; peers gone since are left out) and its data as it came on
    /// the wire (for example snappy-compressed). `None` for an unknown id or one already
    /// judged. Observers call it just before [`report`](Self::report).
    pub fn pending_delivery(
        &self,
        id: &crate::types::MessageId,
    ) -> Option<(Vec<PeerId>, Option<bytes::Bytes>)> {
        let rec = self.records.get(&self.key_of(id))?;
        if rec.state != super::State::Pending {
            return None;
        }
        let peers = rec
            .deliverers
            .iter()
            .filter_map(|r| self.resolve(*r))
            .filter_map(|i| self.peer(i).map(|p| p.id))
            .collect();
        Some((peers, rec.wire.clone()))
    }
}

impl<T: MessageTransform> Router<T> {
    /// The gossipsub protocol a connected peer's stream negotiated.
    pub fn peer_protocol(&self, peer: &PeerId) -> Option<crate::types::Protocol> {
        self.peer(*self.peer_ids.get(peer)?)
            .map(|p| p.conn.protocol)
    }
}
