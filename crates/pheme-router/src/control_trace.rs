//! The opt-in control trace: one record per GRAFT, PRUNE, IHAVE, IWANT and IDONTWANT this
//! router receives from or queues for a peer, for observers that keep them (the owner drains
//! them with [`Router::drain_control`](crate::Router::drain_control)).
//!
//! Off by default, and free when off: the hooks test one `Option` and build nothing. When on,
//! records wait in a bounded buffer; past [`DEFAULT_CONTROL_TRACE_CAPACITY`] records not yet
//! drained, new ones are dropped and counted ([`ControlTrace::dropped`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use libp2p_identity::PeerId;

/// Records kept for the owner before new ones are dropped: at mainnet's peak a node with 100
/// peers sees about 15 000 control entries a second, so this holds several seconds.
pub const DEFAULT_CONTROL_TRACE_CAPACITY: usize = 1 << 17;

/// Which control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlKind {
    /// GRAFT: join a topic's mesh.
    Graft,
    /// PRUNE: leave a topic's mesh (with a backoff and peer exchange).
    Prune,
    /// IHAVE: message-ids a peer has, per topic.
    IHave,
    /// IWANT: message-ids a peer asks for (no topic on the wire).
    IWant,
    /// IDONTWANT: message-ids a peer does not want (no topic on the wire).
    IDontWant,
}

impl ControlKind {
    /// The lowercase name (`graft`, `prune`, `ihave`, `iwant`, `idontwant`).
    pub const fn name(self) -> &'static str {
        match self {
            ControlKind::Graft => "graft",
            ControlKind::Prune => "prune",
            ControlKind::IHave => "ihave",
            ControlKind::IWant => "iwant",
            ControlKind::IDontWant => "idontwant",
        }
    }
}

/// Whether a control message came from the peer or goes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlDirection {
    /// Received from the peer (every entry of a frame the router read, before its checks:
    /// an IHAVE the router then ignores is recorded too).
    In,
    /// Queued for the peer (a queued entry that a later one replaces, as a PRUNE replacing a
    /// GRAFT, is recorded once each).
    Out,
}

impl ControlDirection {
    /// `in` or `out`.
    pub const fn name(self) -> &'static str {
        match self {
            ControlDirection::In => "in",
            ControlDirection::Out => "out",
        }
    }
}

/// One control entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlRecord {
    /// When the router read or queued it.
    pub at: Instant,
    /// The peer it came from or goes to.
    pub peer: PeerId,
    /// In or out.
    pub direction: ControlDirection,
    /// Which message.
    pub kind: ControlKind,
    /// Its topic (GRAFT, PRUNE, IHAVE; an IDONTWANT this node sends, whose topic it knows).
    pub topic: Option<Arc<str>>,
    /// Message-ids it carries (IHAVE, IWANT, IDONTWANT), 0 otherwise.
    pub message_ids: u32,
    /// A PRUNE's backoff in seconds (v1.1 peers).
    pub backoff_secs: Option<u64>,
    /// Peers a PRUNE offers in peer exchange.
    pub px_peers: u32,
}

/// The buffer of records not yet drained.
#[derive(Debug, Default)]
pub(crate) struct ControlTrace {
    pub records: VecDeque<ControlRecord>,
    pub capacity: usize,
    /// Records dropped because the buffer was full.
    pub dropped: u64,
}

impl ControlTrace {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            records: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, r: ControlRecord) {
        if self.records.len() >= self.capacity {
            self.dropped += 1;
        } else {
            self.records.push_back(r);
        }
    }
}

impl<T: crate::types::MessageTransform> crate::Router<T> {
    /// Starts (`Some(capacity)`) or stops (`None`, dropping what was not drained) the control
    /// trace.
    pub fn set_control_trace(&mut self, capacity: Option<usize>) {
        self.control = capacity.map(ControlTrace::new);
    }

    /// Takes the control records buffered since the last call (none when the trace is off).
    pub fn drain_control(&mut self) -> impl Iterator<Item = ControlRecord> + '_ {
        self.control
            .as_mut()
            .into_iter()
            .flat_map(|c| c.records.drain(..))
    }

    /// Control records dropped because the owner did not drain them in time.
    pub fn control_dropped(&self) -> u64 {
        self.control.as_ref().map_or(0, |c| c.dropped)
    }

    /// Records a control entry (not a PRUNE) for peer `idx`, when the trace is on (one branch
    /// when off).
    #[inline]
    pub(crate) fn trace_control(
        &mut self,
        at: Instant,
        idx: u32,
        direction: ControlDirection,
        kind: ControlKind,
        topic: Option<u32>,
        message_ids: usize,
    ) {
        if self.control.is_some() {
            self.push_control(at, idx, direction, kind, topic, (message_ids, None, 0));
        }
    }

    /// Records a PRUNE with its backoff and the peers it offers, when the trace is on.
    #[inline]
    pub(crate) fn trace_prune(
        &mut self,
        at: Instant,
        idx: u32,
        direction: ControlDirection,
        topic: Option<u32>,
        backoff_secs: Option<u64>,
        px_peers: usize,
    ) {
        if self.control.is_some() {
            let prune = ControlKind::Prune;
            self.push_control(
                at,
                idx,
                direction,
                prune,
                topic,
                (0, backoff_secs, px_peers),
            );
        }
    }

    /// `counts`: message-ids, backoff, PX peers.
    fn push_control(
        &mut self,
        at: Instant,
        idx: u32,
        direction: ControlDirection,
        kind: ControlKind,
        topic: Option<u32>,
        (message_ids, backoff_secs, px_peers): (usize, Option<u64>, usize),
    ) {
        let Some(peer) = self.peer(idx).map(|p| p.id) else {
            return;
        };
        let topic = topic.and_then(|t| self.topics.get(t as usize).map(|t| t.name.clone()));
        if let Some(c) = self.control.as_mut() {
            c.push(ControlRecord {
                at,
                peer,
                direction,
                kind,
                topic,
                message_ids: u32::try_from(message_ids).unwrap_or(u32::MAX),
                backoff_secs,
                px_peers: u32::try_from(px_peers).unwrap_or(u32::MAX),
            });
        }
    }

    /// The interned topic of a wire topic name, if any (for IHAVE, GRAFT and PRUNE received).
    pub(crate) fn topic_of_name(&self, name: Option<&[u8]>) -> Option<u32> {
        name.and_then(|n| self.topic_ids.get(n)).copied()
    }
}
