//! The node's side of the service: a cheap-to-clone handle that sends commands, and the events
//! it receives.

use std::collections::BTreeMap;

use libp2p::{Multiaddr, PeerId, gossipsub};
use std::sync::Arc;

use pheme_gossip::{Decision, GossipPayload, Outcome};
use pheme_spec::GossipKind;
use tokio::sync::{mpsc, oneshot};

use crate::scores::ScoreBreakdown;
use crate::validation::Answer;

/// Why a publish failed in the router.
#[derive(Debug, thiserror::Error)]
pub enum PublishFailed {
    /// Pheme's router refused it (no peers, a duplicate, an unknown topic, ...).
    #[error(transparent)]
    Router(pheme_router::PublishError),
    /// libp2p-gossipsub refused it.
    #[error(transparent)]
    Libp2p(Box<gossipsub::PublishError>),
}

/// A command the service could not carry out.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The service is not running.
    #[error("the network service is not running")]
    Stopped,
    /// Publishing failed in the router.
    #[error("publish failed")]
    Publish(#[source] PublishFailed),
    /// The topic kind does not exist at the current fork.
    #[error("{0} is not a topic of the current fork")]
    NoSuchTopic(GossipKind),
    /// The payload does not fit the topic at the current fork.
    #[error("cannot publish")]
    Payload(#[from] pheme_gossip::PayloadError),
    /// Dialling failed at once.
    #[error("dial failed")]
    Dial(#[source] Arc<libp2p::swarm::DialError>),
}

/// A gossip message after validation.
#[derive(Debug, Clone)]
pub struct GossipReceived {
    /// Topic, message-id, verdict, reason, sizes.
    pub outcome: Outcome,
    /// The peer that delivered it first.
    pub source: PeerId,
    /// Arrival, unix milliseconds.
    pub arrival_ms: u64,
    /// From the first copy reaching the node's snappy transform to the verdict: decompression,
    /// the router, the validation queue and the checks (the node's stateful checks included).
    pub verdict_latency: std::time::Duration,
    /// The SSZ payload.
    pub ssz: Vec<u8>,
}

/// What the service tells the node.
#[derive(Debug, Clone)]
pub enum NetworkEvent {
    /// A gossip message was validated (every verdict is reported).
    Gossip(Box<GossipReceived>),
    /// A peer connected.
    PeerConnected {
        /// The peer.
        peer: PeerId,
        /// Its address.
        addr: Multiaddr,
        /// Whether Pheme dialled it.
        outbound: bool,
    },
    /// A peer's last connection closed.
    PeerDisconnected {
        /// The peer.
        peer: PeerId,
    },
    /// A peer's score moved by at least [`crate::service::SCORE_EVENT_DELTA`] or crossed zero.
    ScoreChanged {
        /// The peer.
        peer: PeerId,
        /// Its new total.
        score: f64,
    },
    /// A peer was banned (graylisted or misbehaving) and disconnected.
    PeerBanned {
        /// The peer.
        peer: PeerId,
        /// Its score when banned.
        score: f64,
    },
}

/// A point-in-time view of the service, for summaries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkSnapshot {
    /// Connected peers.
    pub peers: usize,
    /// Of which outbound.
    pub outbound: usize,
    /// Mesh peers per topic base name, summed over subnets and digests.
    pub mesh: BTreeMap<&'static str, usize>,
    /// Subscribed topics.
    pub topics: usize,
    /// Listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Banned peers.
    pub banned: usize,
    /// The Status this node sends.
    pub status: crate::rpc::StatusMessage,
    /// The MetaData this node serves.
    pub metadata: pheme_types::p2p::MetaDataV3,
    /// Subscribed topic strings.
    pub subscribed: Vec<String>,
    /// Blocks held for `BeaconBlocksByRange` / `ByRoot`.
    pub cached_blocks: usize,
    /// The local ENR (`enr:...`), when discovery runs.
    pub enr: Option<String>,
    /// Mesh peers per subscribed topic string.
    pub mesh_by_topic: BTreeMap<String, usize>,
    /// Peers the agent filter keeps out now.
    pub filtered: usize,
    /// Partial messages through Pheme's router (zero with libp2p-gossipsub).
    pub partial: PartialTraffic,
}

/// Partial messages (gossipsub's Partial Messages extension) through Pheme's router: RPCs and
/// their group, parts and metadata bytes (without protobuf framing), each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartialTraffic {
    /// Received.
    pub received: u64,
    /// Their bytes.
    pub bytes_received: u64,
    /// Queued to peers.
    pub sent: u64,
    /// Their encoded bytes (RPC field included).
    pub bytes_sent: u64,
}

/// A connected peer: who, where, since when, and its score with every component.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PeerSummary {
    /// The peer.
    #[serde(serialize_with = "crate::scores::ser_display")]
    pub peer: PeerId,
    /// The agent version it sent in identify (`None` until it identifies).
    pub agent: Option<String>,
    /// Whether this node dialled it.
    pub outbound: bool,
    /// Its address.
    #[serde(serialize_with = "crate::scores::ser_display")]
    pub addr: Multiaddr,
    /// When it connected, unix milliseconds.
    pub connected_ms: u64,
    /// The topics (without digest: `beacon_attestation_3`) whose mesh it is in.
    pub mesh: Vec<String>,
    /// Its score and components.
    pub score: ScoreBreakdown,
}

pub(crate) enum Command {
    Subscribe(GossipKind),
    Unsubscribe(GossipKind),
    Publish(
        GossipKind,
        Outgoing,
        oneshot::Sender<Result<gossipsub::MessageId, HandleError>>,
    ),
    SetAppScore(PeerId, f64),
    SetActiveValidators(u64),
    Scores(oneshot::Sender<Vec<ScoreBreakdown>>),
    Snapshot(oneshot::Sender<NetworkSnapshot>),
    Peers(oneshot::Sender<Vec<PeerSummary>>),
    RouterStats(oneshot::Sender<Option<pheme_router::RouterStats>>),
    Dial(Multiaddr, oneshot::Sender<Result<(), HandleError>>),
    Shutdown(oneshot::Sender<()>),
}

/// What the node publishes.
pub(crate) enum Outgoing {
    /// SSZ bytes, as given.
    Ssz(Vec<u8>),
    /// A typed payload, checked against the topic and encoded by the service.
    Payload(Arc<GossipPayload>),
}

/// Sends commands to the service; clone freely.
#[derive(Clone, Debug)]
pub struct NetworkHandle {
    pub(crate) tx: mpsc::UnboundedSender<Command>,
    pub(crate) answers: mpsc::UnboundedSender<Answer>,
    pub(crate) local_peer_id: PeerId,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Subscribe(_) => "Subscribe",
            Command::Unsubscribe(_) => "Unsubscribe",
            Command::Publish(..) => "Publish",
            Command::SetAppScore(..) => "SetAppScore",
            Command::SetActiveValidators(_) => "SetActiveValidators",
            Command::Scores(_) => "Scores",
            Command::Snapshot(_) => "Snapshot",
            Command::Peers(_) => "Peers",
            Command::RouterStats(_) => "RouterStats",
            Command::Dial(..) => "Dial",
            Command::Shutdown(_) => "Shutdown",
        })
    }
}

impl NetworkHandle {
    fn send(&self, c: Command) -> Result<(), HandleError> {
        self.tx.send(c).map_err(|_| HandleError::Stopped)
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, HandleError> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx))?;
        rx.await.map_err(|_| HandleError::Stopped)
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Subscribes to `kind` on the digests in use (and on future digests).
    pub fn subscribe(&self, kind: GossipKind) -> Result<(), HandleError> {
        self.send(Command::Subscribe(kind))
    }

    /// Leaves `kind` on every digest.
    pub fn unsubscribe(&self, kind: GossipKind) -> Result<(), HandleError> {
        self.send(Command::Unsubscribe(kind))
    }

    /// Publishes a typed payload on `kind` at the current fork digest: the service checks that
    /// it is the container `kind` carries at that fork (and the chain's preset), encodes and
    /// compresses it.
    pub async fn publish(
        &self,
        kind: GossipKind,
        payload: impl Into<Arc<GossipPayload>>,
    ) -> Result<gossipsub::MessageId, HandleError> {
        let message = Outgoing::Payload(payload.into());
        self.ask(|tx| Command::Publish(kind, message, tx)).await?
    }

    /// Publishes SSZ bytes on `kind` at the current fork digest as they are (the service
    /// compresses them): for a node that holds the encoding already.
    pub async fn publish_ssz(
        &self,
        kind: GossipKind,
        ssz: Vec<u8>,
    ) -> Result<gossipsub::MessageId, HandleError> {
        self.ask(|tx| Command::Publish(kind, Outgoing::Ssz(ssz), tx))
            .await?
    }

    /// Answers for a message whose check returned [`Decision::Defer`], by its message-id
    /// ([`InboundMessage::message_id`](pheme_gossip::InboundMessage)). An answer after the
    /// validation deadline finds the message already IGNOREd and is counted
    /// (`pheme_validation_answers_unmatched_total`), not applied.
    pub fn decide(
        &self,
        message_id: pheme_codec::MessageId,
        decision: Decision,
    ) -> Result<(), HandleError> {
        self.answers
            .send(Answer {
                id: message_id,
                decision,
            })
            .map_err(|_| HandleError::Stopped)
    }

    /// Sets a peer's application score (P5).
    pub fn set_application_score(&self, peer: PeerId, score: f64) -> Result<(), HandleError> {
        self.send(Command::SetAppScore(peer, score))
    }

    /// The active validator count the score parameters derive from (re-derived once per epoch).
    pub fn set_active_validators(&self, n: u64) -> Result<(), HandleError> {
        self.send(Command::SetActiveValidators(n))
    }

    /// Every connected peer's score and components.
    pub async fn peer_scores(&self) -> Result<Vec<ScoreBreakdown>, HandleError> {
        self.ask(Command::Scores).await
    }

    /// Peers, meshes and topics now.
    pub async fn snapshot(&self) -> Result<NetworkSnapshot, HandleError> {
        self.ask(Command::Snapshot).await
    }

    /// Every connected peer with its agent, address and score components (one pass over the
    /// peers on the service's task: poll it every few seconds, not per request).
    pub async fn peers(&self) -> Result<Vec<PeerSummary>, HandleError> {
        self.ask(Command::Peers).await
    }

    /// The counters of Pheme's router (`None` with libp2p-gossipsub).
    pub async fn router_stats(&self) -> Result<Option<pheme_router::RouterStats>, HandleError> {
        self.ask(Command::RouterStats).await
    }

    /// Dials an address.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), HandleError> {
        self.ask(|tx| Command::Dial(addr, tx)).await?
    }

    /// Says goodbye to every peer and stops the service.
    pub async fn shutdown(&self) -> Result<(), HandleError> {
        self.ask(Command::Shutdown).await
    }
}
