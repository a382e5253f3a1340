//! What the router tells its owner besides frames: messages to validate, refusals, mesh
//! changes, score changes, peer exchange; and the counters it keeps.

use std::sync::Arc;

use libp2p_core::Multiaddr;
use libp2p_identity::PeerId;

use crate::types::{MessageId, Received};
use crate::wire::WireError;

/// Who started a mesh change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// This node (heartbeat, subscribe, unsubscribe).
    Local,
    /// The peer's GRAFT or PRUNE.
    Remote,
}

/// Why a peer left a mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PruneReason {
    /// Its score went below zero.
    NegativeScore,
    /// The mesh had more than D_hi peers.
    Oversubscribed,
    /// This node left the topic.
    Unsubscribed,
    /// The peer left the topic.
    PeerUnsubscribed,
    /// The peer disconnected.
    Disconnected,
    /// The peer sent PRUNE.
    Remote,
    /// The peer's GRAFT was refused (backoff, score, direct peer, full mesh).
    GraftRefused,
}

impl PruneReason {
    /// A short name for metrics.
    pub fn name(self) -> &'static str {
        match self {
            PruneReason::NegativeScore => "negative_score",
            PruneReason::Oversubscribed => "oversubscribed",
            PruneReason::Unsubscribed => "unsubscribed",
            PruneReason::PeerUnsubscribed => "peer_unsubscribed",
            PruneReason::Disconnected => "disconnected",
            PruneReason::Remote => "remote",
            PruneReason::GraftRefused => "graft_refused",
        }
    }
}

/// Why a received message went no further than the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The transform refused its data (Ethereum: snappy or size); the sender is penalised (P4).
    Transform(&'static str),
    /// It carried `from`, `seqno`, `signature` or `key` (StrictNoSign); penalised (P4).
    Signed,
    /// It had no topic or did not decode; penalised (P7).
    Malformed,
}

impl Refusal {
    /// A short name for metrics and traces.
    pub fn name(&self) -> &'static str {
        match self {
            Refusal::Transform(r) => r,
            Refusal::Signed => "signed",
            Refusal::Malformed => "malformed",
        }
    }
}

/// Why a whole frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameRefusal {
    /// Longer than `max_transmit_size` (the transport skipped it without reading it into
    /// memory).
    #[error("frame of {len} bytes over the {limit}-byte limit")]
    Oversized {
        /// Announced length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The RPC broke a limit or did not decode.
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// A peer offered in a PRUNE's peer exchange, its signed record checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PxPeer {
    /// The peer.
    pub peer: PeerId,
    /// Addresses from its signed peer record (empty when the PRUNE carried no record).
    pub addrs: Vec<Multiaddr>,
}

/// An event for the router's owner.
#[derive(Debug, Clone)]
pub enum Event {
    /// A message's first copy: validate it and answer with
    /// [`Router::report`](crate::Router::report).
    Message(Received),
    /// A message refused before validation.
    Refused {
        /// Who sent it.
        peer: PeerId,
        /// Its topic, when it had a known one.
        topic: Option<Arc<str>>,
        /// Why.
        reason: Refusal,
        /// Its id, when the transform could compute one.
        id: Option<MessageId>,
        /// Its data as it came on the wire (snappy for Ethereum), when the message decoded and
        /// carried data (a refcounted slice of the frame: copy it to keep it).
        data: Option<bytes::Bytes>,
        /// Its data's size on the wire (the whole encoded message when it did not decode).
        wire_len: usize,
    },
    /// A frame refused whole; the sender is penalised (P7).
    FrameRefused {
        /// Who sent it.
        peer: PeerId,
        /// Why.
        reason: FrameRefusal,
    },
    /// A peer joined a topic.
    Subscribed {
        /// The peer.
        peer: PeerId,
        /// The topic.
        topic: Arc<str>,
    },
    /// A peer left a topic.
    Unsubscribed {
        /// The peer.
        peer: PeerId,
        /// The topic.
        topic: Arc<str>,
    },
    /// A peer joined this node's mesh for a topic.
    Grafted {
        /// The peer.
        peer: PeerId,
        /// The topic.
        topic: Arc<str>,
        /// Who asked.
        initiator: Initiator,
    },
    /// A peer left this node's mesh for a topic.
    Pruned {
        /// The peer.
        peer: PeerId,
        /// The topic.
        topic: Arc<str>,
        /// Why.
        reason: PruneReason,
    },
    /// A peer's score moved by at least the configured delta, or crossed zero (checked at each
    /// heartbeat).
    ScoreChanged {
        /// The peer.
        peer: PeerId,
        /// Its score.
        score: f64,
    },
    /// A peer's score went below the graylist threshold: its RPCs are dropped from now on.
    Graylisted {
        /// The peer.
        peer: PeerId,
        /// Its score.
        score: f64,
    },
    /// A partial message (Partial Messages extension) on a topic where this node supports them,
    /// from a mesh peer or not: the owner decodes it, answers with
    /// [`Router::send_partial`](crate::Router::send_partial) and judges it with
    /// [`Router::report_partial`](crate::Router::report_partial). The byte strings are slices
    /// of the frame.
    Partial {
        /// Who sent it.
        peer: PeerId,
        /// The topic.
        topic: Arc<str>,
        /// The application's name for the whole message.
        group_id: bytes::Bytes,
        /// Parts (application-encoded).
        message: Option<bytes::Bytes>,
        /// What the peer has and wants (application-encoded; the latest counts).
        metadata: Option<bytes::Bytes>,
    },
    /// A peer with a score of at least `accept_px_threshold` pruned this node and offered
    /// others to connect to.
    PeerExchange {
        /// The peer that sent the PRUNE.
        from: PeerId,
        /// The topic.
        topic: Arc<str>,
        /// The peers offered, not yet connected, whose records (if any) checked out.
        peers: Vec<PxPeer>,
    },
}

/// Counters the router keeps (monotonic unless noted); the owner exports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)] // each name says what it counts
pub struct RouterStats {
    pub frames_received: u64,
    pub bytes_received: u64,
    pub frames_refused: u64,
    pub frames_sent: u64,
    pub bytes_sent: u64,
    pub messages_received: u64,
    /// First copies handed out for validation.
    pub messages_validated: u64,
    pub duplicates: u64,
    pub messages_refused: u64,
    pub messages_unsubscribed_topic: u64,
    pub validation_timeouts: u64,
    pub accepted: u64,
    pub ignored: u64,
    pub rejected: u64,
    pub published: u64,
    /// Messages queued to peers by forwarding (per recipient).
    pub forwarded: u64,
    /// Messages queued to peers by publishing (per recipient).
    pub publish_sends: u64,
    pub iwant_answers: u64,
    /// Forwards dropped because a peer's queue was full (oldest first).
    pub dropped_queue_full: u64,
    /// Forwards dropped because they waited past `max_forward_age`.
    pub dropped_stale: u64,
    /// Queued sends cancelled by the peer's IDONTWANT.
    pub idontwant_cancelled: u64,
    /// Forwards never queued because the peer had sent IDONTWANT.
    pub idontwant_skipped: u64,
    pub idontwant_sent: u64,
    pub idontwant_received: u64,
    pub ihave_sent: u64,
    pub ihave_received: u64,
    pub ihave_ignored: u64,
    pub iwant_sent: u64,
    pub iwant_received: u64,
    pub iwant_ignored: u64,
    pub graft_sent: u64,
    pub graft_received: u64,
    pub graft_refused: u64,
    pub prune_sent: u64,
    pub prune_received: u64,
    pub px_received: u64,
    /// Peers handed out in [`Event::PeerExchange`] events.
    pub px_peers_accepted: u64,
    pub px_record_invalid: u64,
    pub broken_promises: u64,
    pub graylisted_rpcs: u64,
    pub subscriptions_refused: u64,
    pub heartbeats: u64,
    /// Extensions messages received (first ones), and repeated ones (P7).
    pub extensions_received: u64,
    pub extensions_repeated: u64,
    /// Partial messages received (all), and their group, parts and metadata bytes.
    pub partial_received: u64,
    pub partial_bytes_received: u64,
    /// Partial messages on a topic where this node does not support them (dropped).
    pub partial_unsupported: u64,
    /// Partial messages without a topic or group, or with an oversized group id (P7).
    pub partial_malformed: u64,
    /// Partial messages queued to peers, and their encoded bytes.
    pub partial_sent: u64,
    pub partial_bytes_sent: u64,
    /// Queued partial messages dropped because a peer's partial queue was full.
    pub partial_dropped_queue_full: u64,
    /// The owner's verdicts on partial messages.
    pub partial_useful: u64,
    pub partial_invalid: u64,
    /// Flood publishes cut to `flood_publish_max_bytes`.
    pub flood_publish_capped: u64,
}
