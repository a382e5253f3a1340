//! What an observer can ask the service for besides `--trace`'s message records: the control
//! messages of Pheme's router, the peers' comings and goings, and the raw data of first copies.
//! Each goes into a [`RecordSink`] the observer reads on its own thread; the service never
//! waits on it (full queues drop records and count them).

use std::str::FromStr;

use libp2p::{Multiaddr, PeerId};
use pheme_gossip::Verdict;

use crate::trace::RecordSink;

/// A control message of Pheme's router (`pheme_router::ControlRecord`) with its wall-clock
/// time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlEvent {
    /// When the router read or queued it, unix milliseconds.
    pub at_ms: u64,
    /// What it was.
    pub record: pheme_router::ControlRecord,
}

/// What happened to a peer.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEventKind {
    /// Its first connection was established.
    Connected {
        /// Whether this node dialled it.
        outbound: bool,
        /// Its address (the dialled one, or where it connected from).
        addr: Multiaddr,
    },
    /// Its identify answer.
    Identified {
        /// Its agent string (`Lighthouse/v7.0.0/...`).
        agent: String,
        /// Its identify protocol version (`eth2/1.0.0`).
        protocol_version: String,
    },
    /// Pheme's router negotiated a gossipsub protocol with it (reported within a tick).
    Gossipsub {
        /// `/meshsub/1.3.0`, `/meshsub/1.2.0`, `/meshsub/1.1.0` or `/meshsub/1.0.0`.
        protocol: &'static str,
    },
    /// Its last connection closed.
    Disconnected,
    /// This node told it Goodbye.
    GoodbyeSent {
        /// The Goodbye reason code (1 shutdown, 2 irrelevant network, 3 fault, 128+ client).
        reason: u64,
    },
    /// It told this node Goodbye.
    GoodbyeReceived {
        /// The Goodbye reason code.
        reason: u64,
    },
    /// It was banned (graylisted or misbehaving) and disconnected.
    Banned {
        /// Its score when banned.
        score: f64,
    },
}

impl PeerEventKind {
    /// A short name (`connected`, `identified`, `gossipsub`, `disconnected`, `goodbye_sent`,
    /// `goodbye_received`, `banned`).
    pub fn name(&self) -> &'static str {
        match self {
            PeerEventKind::Connected { .. } => "connected",
            PeerEventKind::Identified { .. } => "identified",
            PeerEventKind::Gossipsub { .. } => "gossipsub",
            PeerEventKind::Disconnected => "disconnected",
            PeerEventKind::GoodbyeSent { .. } => "goodbye_sent",
            PeerEventKind::GoodbyeReceived { .. } => "goodbye_received",
            PeerEventKind::Banned { .. } => "banned",
        }
    }
}

/// One peer event.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerEvent {
    /// When, unix milliseconds.
    pub at_ms: u64,
    /// The peer.
    pub peer: PeerId,
    /// What happened.
    pub kind: PeerEventKind,
}

/// Which first copies keep their wire data in the trace records
/// ([`TraceRecord::payload`](crate::TraceRecord::payload)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Capture {
    /// None (the default).
    #[default]
    Off,
    /// Accepted messages.
    Accepted,
    /// Rejected messages (whatever stage refused them).
    Rejected,
    /// Every verdict: accepted, ignored and rejected.
    All,
}

impl Capture {
    /// Whether a message with `verdict` keeps its data.
    pub fn wants(self, verdict: Verdict) -> bool {
        match self {
            Capture::Off => false,
            Capture::Accepted => verdict == Verdict::Accept,
            Capture::Rejected => verdict == Verdict::Reject,
            Capture::All => true,
        }
    }
}

/// `--capture` was given something other than `accepted`, `rejected` or `all`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capture `{0}`: expected accepted, rejected or all")]
pub struct UnknownCapture(pub String);

impl FromStr for Capture {
    type Err = UnknownCapture;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" | "none" => Ok(Capture::Off),
            "accepted" => Ok(Capture::Accepted),
            "rejected" => Ok(Capture::Rejected),
            "all" => Ok(Capture::All),
            other => Err(UnknownCapture(other.to_owned())),
        }
    }
}

/// The observer's sinks in the service.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObserverSinks {
    pub control: Option<RecordSink<ControlEvent>>,
    pub peers: Option<RecordSink<PeerEvent>>,
    pub partial: Vec<RecordSink<crate::PartialEvent>>,
    pub capture: Capture,
}
