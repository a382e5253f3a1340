//! Small shared types: message ids, protocol versions, verdicts, what a peer's connection is.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use libp2p_identity::PeerId;

/// A message-id as the transform computed it (Ethereum: 20 bytes of SHA-256).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub Bytes);

impl MessageId {
    /// An id from bytes.
    pub fn new(bytes: &[u8]) -> Self {
        Self(Bytes::copy_from_slice(bytes))
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

/// The gossipsub protocol a peer's stream negotiated; features follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// `/meshsub/1.0.0`: mesh and gossip, no PX, no backoff field, no IDONTWANT.
    V1_0,
    /// `/meshsub/1.1.0`: PRUNE backoff and PX, scoring.
    V1_1,
    /// `/meshsub/1.2.0`: IDONTWANT.
    V1_2,
    /// `/meshsub/1.3.0`: the Extensions control message (gossipsub v1.3), through which the
    /// Partial Messages extension is advertised.
    V1_3,
}

impl Protocol {
    /// Every protocol, newest first (the order to offer them in).
    pub const ALL: [Protocol; 4] = [
        Protocol::V1_3,
        Protocol::V1_2,
        Protocol::V1_1,
        Protocol::V1_0,
    ];

    /// The protocol string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::V1_0 => "/meshsub/1.0.0",
            Protocol::V1_1 => "/meshsub/1.1.0",
            Protocol::V1_2 => "/meshsub/1.2.0",
            Protocol::V1_3 => "/meshsub/1.3.0",
        }
    }

    /// The protocol named by `s`.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// PRUNE backoff and peer exchange.
    pub fn supports_px(self) -> bool {
        self >= Protocol::V1_1
    }

    /// IDONTWANT.
    pub fn supports_idontwant(self) -> bool {
        self >= Protocol::V1_2
    }

    /// The Extensions control message (this node sends it only on such streams).
    pub fn supports_extensions(self) -> bool {
        self >= Protocol::V1_3
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validation verdict (gossipsub v1.1's extended validators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Valid: forward it, credit the deliverers.
    Accept,
    /// Not forwarded, nobody penalised.
    Ignore,
    /// Invalid: not forwarded, every peer that delivered it is penalised (P4).
    Reject,
}

/// What the transport knows of a new peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerConnection {
    /// The protocol its stream negotiated.
    pub protocol: Protocol,
    /// Whether this node dialled it.
    pub outbound: bool,
    /// Its IP address (for P6).
    pub ip: Option<IpAddr>,
}

/// The payload of a message after the transform, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The message-id.
    pub id: MessageId,
    /// The decoded payload (Ethereum: the SSZ bytes).
    pub payload: Bytes,
}

/// Why the transform refused a message's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformRefusal {
    /// A short static reason for metrics and traces (`snappy`, `size`, `unknown_topic`).
    pub reason: &'static str,
    /// The id the spec gives such a message (Ethereum: the invalid-snappy domain), when known.
    pub id: Option<MessageId>,
}

/// Encoding and identifying messages: for Ethereum, snappy and the spec's message-id. The
/// router calls it once per unique message (copies are recognised before it is called).
pub trait MessageTransform {
    /// Decodes the data of a message received on `topic` and computes its id.
    fn inbound(&mut self, topic: &str, data: &Bytes) -> Result<Decoded, TransformRefusal>;

    /// Encodes a payload this node publishes on `topic`: its wire data and its id.
    fn outbound(
        &mut self,
        topic: &str,
        payload: &[u8],
    ) -> Result<(Bytes, MessageId), TransformRefusal>;
}

/// A message's first copy, decoded and ready to validate; answer with
/// [`Router::report`](crate::Router::report).
#[derive(Debug, Clone)]
pub struct Received {
    /// Its id.
    pub id: MessageId,
    /// Its topic.
    pub topic: Arc<str>,
    /// The peer that delivered it first.
    pub source: PeerId,
    /// The decoded payload.
    pub payload: Bytes,
    /// Its data's length on the wire.
    pub wire_len: usize,
    /// When the router received it.
    pub received: Instant,
}
