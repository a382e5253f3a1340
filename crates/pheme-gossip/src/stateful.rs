//! The embedder's side of validation: what a beacon node's checks receive and what they answer.

use std::sync::Arc;

use libp2p_identity::PeerId;
use pheme_codec::MessageId;
use pheme_spec::{Fork, GossipKind};

use crate::payload::GossipPayload;
use crate::verdict::Verdict;

/// A message that passed Pheme's stateless checks, as the node's checks see it. The payload
/// is decoded once and shared: the same `Arc` reaches the node's event when it is accepted.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    /// The decoded payload (the spec's container of the topic's fork and the chain's preset).
    pub payload: Arc<GossipPayload>,
    /// The topic's kind (with its subnet, for subnet topics).
    pub kind: GossipKind,
    /// The fork of the topic's digest.
    pub fork: Fork,
    /// The topic string.
    pub topic: Arc<str>,
    /// The spec's message-id.
    pub message_id: MessageId,
    /// The peer it came from (`None` outside a network: spec tests, `pheme decode`).
    pub source: Option<PeerId>,
    /// When its first copy arrived, unix milliseconds.
    pub arrival_ms: u64,
}

impl InboundMessage {
    /// The topic's subnet, for subnet topics.
    pub fn subnet(&self) -> Option<u64> {
        self.kind.subnet()
    }
}

/// Why a node's check refused a message: a stable `snake_case` label (a metric label: keep
/// the set small and fixed) and, optionally, the error behind it (for traces and logs).
#[derive(Debug, Clone)]
pub struct Reason {
    label: &'static str,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Reason {
    /// A reason with its label only.
    pub const fn new(label: &'static str) -> Self {
        Reason {
            label,
            source: None,
        }
    }

    /// Keeps `error` as the reason's source.
    pub fn with_source(mut self, error: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(error));
        self
    }

    /// The label.
    pub fn label(&self) -> &'static str {
        self.label
    }
}

impl PartialEq for Reason {
    fn eq(&self, other: &Self) -> bool {
        self.label == other.label
            && self.source.as_ref().map(|e| e.to_string())
                == other.source.as_ref().map(|e| e.to_string())
    }
}

impl Eq for Reason {}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label)?;
        if let Some(e) = &self.source {
            write!(f, ": {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Reason {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What the node's checks decide about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Valid: forward it, record it, hand it to the node.
    Accept,
    /// Not forwarded, no penalty (a missing parent, an already-seen aggregate, ...).
    Ignore(Reason),
    /// Invalid: not forwarded, the sender is penalised (a bad signature, a wrong committee).
    Reject(Reason),
    /// The node will answer later, through the network handle, before the validation deadline
    /// (the message is IGNOREd when it passes). Outside a network (spec tests) it is an IGNORE.
    Defer,
}

impl Decision {
    /// The verdict gossipsub is told (`Defer` counts as IGNORE).
    pub fn verdict(&self) -> Verdict {
        match self {
            Decision::Accept => Verdict::Accept,
            Decision::Ignore(_) | Decision::Defer => Verdict::Ignore,
            Decision::Reject(_) => Verdict::Reject,
        }
    }

    /// An IGNORE labelled `label`.
    pub const fn ignore(label: &'static str) -> Self {
        Decision::Ignore(Reason::new(label))
    }

    /// A REJECT labelled `label`.
    pub const fn reject(label: &'static str) -> Self {
        Decision::Reject(Reason::new(label))
    }
}

/// The checks that need a beacon state or fork choice (signatures, committees, proposers,
/// parents, finality), supplied by a beacon node. They run only on messages Pheme's stateless
/// checks accepted, on a pool of blocking threads (a BLS check takes milliseconds: it must not
/// hold an async worker), several at once; a check that must wait (for a parent block, say)
/// returns [`Decision::Defer`] and answers through the network handle.
///
/// A panic in a check IGNOREs that message and nothing else.
pub trait StatefulValidator: Send + Sync + 'static {
    /// The decision of the state checks for a stateless-accepted message.
    fn validate(&self, msg: &InboundMessage) -> Decision;

    /// Called when Pheme is about to record a message the checks accepted, after its own
    /// final check against what was accepted meanwhile, one message at a time: a node that
    /// keeps first-seen caches of its own (the attester of a pre-electra attestation is known
    /// only through the committee) checks and inserts here, atomically, never in `validate`
    /// (checks run concurrently, and their ACCEPT may still turn into an IGNORE). An `Err`
    /// IGNOREs the message with that reason. Runs on the validation task: keep it short. A
    /// panic here IGNOREs the message like one in `validate`.
    fn record(&self, msg: &InboundMessage) -> Result<(), Reason> {
        let _ = msg;
        Ok(())
    }

    /// The stateful checks of a Fulu partial column header (`data_column_sidecar_{subnet}`
    /// partial messages): proposer index in range, proposer signature, parent seen (else
    /// IGNORE) and valid, slot after the parent's, finalized checkpoint an ancestor, expected
    /// proposer: what `validate` checks of a `DataColumnSidecar`'s `signed_block_header`.
    /// Called by [`PartialColumns`](crate::PartialColumns) once per block root, synchronously
    /// (call the assembler from a blocking thread when this verifies a signature);
    /// [`Decision::Defer`] counts as an IGNORE and the header is asked again on its next copy.
    ///
    /// The default IGNOREs: a node that does not check proposers never vouches for cells.
    fn validate_partial_header(&self, header: &crate::PartialHeaderMessage) -> Decision {
        let _ = header;
        Decision::ignore("partial_header_unchecked")
    }

    /// Whether the checks are so cheap (a few microseconds, no signature) that a hop to a
    /// blocking thread would cost more than they do: they then run on the validation task
    /// itself, one at a time. `false` unless overridden.
    fn runs_inline(&self) -> bool {
        false
    }
}

impl<T: StatefulValidator + ?Sized> StatefulValidator for Arc<T> {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        (**self).validate(msg)
    }

    fn record(&self, msg: &InboundMessage) -> Result<(), Reason> {
        (**self).record(msg)
    }

    fn validate_partial_header(&self, header: &crate::PartialHeaderMessage) -> Decision {
        (**self).validate_partial_header(header)
    }

    fn runs_inline(&self) -> bool {
        (**self).runs_inline()
    }
}

/// The observer's stateful validator: no state, so every check that needs it is skipped and
/// the stateless verdict stands.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoState;

impl StatefulValidator for NoState {
    fn validate(&self, _msg: &InboundMessage) -> Decision {
        Decision::Accept
    }

    fn validate_partial_header(&self, _header: &crate::PartialHeaderMessage) -> Decision {
        Decision::Accept
    }

    fn runs_inline(&self) -> bool {
        true
    }
}
