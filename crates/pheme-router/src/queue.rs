//! One outbound queue per peer: pending subscriptions and control (coalesced), this node's own
//! publishes and IWANT answers, and forwards; and the frames built from it.
//!
//! A frame is a list of shared byte strings: the length prefix, then protobuf RPC fields. A
//! message is encoded once as an RPC `publish` entry and the same bytes go into every peer's
//! frame (protobuf concatenates repeated fields), so nothing is copied per recipient here.
//! Frames are built only when the transport has room (a window of frames in flight per peer),
//! so under load what waits for a peer leaves in few, large frames; forwards are dropped oldest
//! first when a queue is full, and a forward whose turn comes too late is dropped, both
//! counted and never charged to the peer.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};

use crate::wire::{self, ControlMessage};

/// One RPC frame ready for the wire: its parts, the unsigned-varint length prefix first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    parts: Vec<Bytes>,
    len: usize,
}

impl Frame {
    /// A frame of `body` parts (the prefix is added).
    pub fn from_parts(body: Vec<Bytes>) -> Self {
        let body_len: usize = body.iter().map(Bytes::len).sum();
        let mut parts = Vec::with_capacity(body.len() + 1);
        parts.push(wire::length_prefix(body_len));
        parts.extend(body);
        let len = parts.iter().map(Bytes::len).sum();
        Self { parts, len }
    }

    /// The parts in order, the length prefix first.
    pub fn parts(&self) -> &[Bytes] {
        &self.parts
    }

    /// Bytes on the wire, prefix included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the frame is empty (never, for a frame the router built).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The RPC without its prefix, in one buffer.
    pub fn body(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(self.len);
        for p in self.parts.iter().skip(1) {
            b.put_slice(p);
        }
        b.freeze()
    }

    /// The whole frame in one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(self.len);
        for p in &self.parts {
            b.put_slice(p);
        }
        b.freeze()
    }
}

/// A message waiting for a peer.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub key: u64,
    pub entry: Bytes,
    pub at: Instant,
}

/// What building a frame dropped, for the router's counters.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Dropped {
    pub stale: u64,
    pub cancelled: u64,
}

#[derive(Debug, Default)]
pub(crate) struct OutQueue {
    pub subs: VecDeque<Bytes>,
    /// GRAFT, PRUNE, IDONTWANT waiting (IHAVE is in `ihave`, IWANT in `iwant`).
    pub control: ControlMessage,
    /// The ids we ask for, encoded as `ControlIWant.message_ids` fields (written straight from
    /// the IHAVE they were read from: no handle per id).
    iwant: BytesMut,
    /// Ids in `iwant`.
    iwant_ids: usize,
    /// Pre-encoded `ControlMessage.ihave` entries, shared with other peers' queues.
    pub ihave: VecDeque<Bytes>,
    /// Ids in `ihave`.
    pub ihave_ids: usize,
    /// Partial messages (encoded RPC field 10 entries), one per frame.
    pub partial: VecDeque<Bytes>,
    pub priority: VecDeque<Item>,
    pub forward: VecDeque<Item>,
    /// Bytes of the entries in `forward`.
    pub forward_bytes: usize,
    pub in_flight: u32,
    pub scheduled: bool,
}

/// Moves ids from `from` into a new list while they fit `budget` bytes.
fn take_ids(from: &mut Vec<Bytes>, budget: &mut usize) -> Vec<Bytes> {
    let mut n = 0;
    for id in from.iter() {
        let cost = wire::id_entry_len(id.len());
        if cost > *budget {
            break;
        }
        *budget -= cost;
        n += 1;
    }
    from.drain(..n).collect()
}

/// Overhead of one repeated sub-message (key and a length of up to 3 bytes).
pub(crate) const ENTRY_OVERHEAD: usize = 4;

impl OutQueue {
    /// Queues an IWANT for `ids`. If the peer has not read our last ones and all would be more
    /// than `max_ids`, the new ones replace them.
    pub fn ask(&mut self, ids: &[&[u8]], max_ids: usize) {
        if self.iwant_ids + ids.len() > max_ids {
            self.iwant.clear();
            self.iwant_ids = 0;
        }
        let bytes: usize = ids.iter().map(|id| wire::id_entry_len(id.len())).sum();
        self.iwant.reserve(bytes);
        for id in ids {
            wire::put_id(&mut self.iwant, 1, id);
        }
        self.iwant_ids += ids.len();
    }

    /// Takes the queued IWANT ids that fit `budget` bytes (whole ids, at least one if any fit)
    /// as one encoded `ControlMessage.iwant` entry.
    fn take_iwant(&mut self, budget: &mut usize) -> Option<[Bytes; 2]> {
        let room = budget.checked_sub(ENTRY_OVERHEAD)?;
        let (mut at, mut end, mut n) = (0, 0, 0);
        while let Ok(Some((_, Some(id)))) = wire::next_field(&self.iwant, &mut at) {
            if id.end > room {
                break;
            }
            end = id.end;
            n += 1;
        }
        if n == 0 {
            return None;
        }
        *budget -= end + ENTRY_OVERHEAD;
        self.iwant_ids -= n;
        let body = self.iwant.split_to(end).freeze();
        Some([wire::field_header(2, body.len()), body])
    }

    pub fn has_control(&self) -> bool {
        let c = &self.control;
        !(self.subs.is_empty()
            && self.ihave.is_empty()
            && self.iwant_ids == 0
            && c.graft.is_empty()
            && c.prune.is_empty()
            && c.idontwant.is_empty()
            && c.extensions.is_none())
    }

    pub fn is_empty(&self) -> bool {
        !self.has_control()
            && self.partial.is_empty()
            && self.priority.is_empty()
            && self.forward.is_empty()
    }

    /// Takes as much pending control as fits `budget` bytes, in this order: the Extensions
    /// message (always: it belongs in the first frame), GRAFT and PRUNE, IDONTWANT, IWANT,
    /// IHAVE. Lists of ids are split across frames. Returns the RPC's control field as parts
    /// (header and structured part, then shared IHAVE entries).
    fn take_control(&mut self, mut budget: usize) -> Vec<Bytes> {
        let c = &mut self.control;
        let mut out = ControlMessage {
            extensions: c.extensions.take(),
            ..ControlMessage::default()
        };
        take_whole(&mut c.graft, &mut out.graft, &mut budget);
        take_whole(&mut c.prune, &mut out.prune, &mut budget);
        take_id_lists(&mut c.idontwant, &mut out.idontwant, &mut budget);
        let mut raw = Vec::new();
        raw.extend(self.take_iwant(&mut budget).into_iter().flatten());
        while let Some(e) = self.ihave.front() {
            if e.len() > budget && !(raw.is_empty() && out == ControlMessage::default()) {
                break;
            }
            budget = budget.saturating_sub(e.len());
            raw.extend(self.ihave.pop_front());
        }
        if raw.is_empty() && out == ControlMessage::default() {
            return Vec::new();
        }
        if self.ihave.is_empty() {
            self.ihave_ids = 0;
        }
        let raw_len = raw.iter().map(Bytes::len).sum();
        let mut parts = Vec::with_capacity(raw.len() + 1);
        parts.push(wire::encode_control_head(&out, raw_len));
        parts.extend(raw);
        parts
    }

    /// Builds the next frame: subscriptions and control up to `max_control` bytes, one
    /// partial message, then own publishes and IWANT answers, then forwards, up to `max_batch` bytes and `max_messages`
    /// messages (one message always fits). `unwanted` says whether the peer sent IDONTWANT for a key;
    /// forwards older than `max_age` are dropped.
    pub fn build_frame(
        &mut self,
        now: Instant,
        max_control: usize,
        max_batch: usize,
        max_messages: usize,
        max_age: Duration,
        unwanted: impl Fn(u64) -> bool,
    ) -> (Option<Frame>, Dropped) {
        let mut body = Vec::new();
        let mut dropped = Dropped::default();
        let mut budget = max_control;
        while let Some(s) = self.subs.front() {
            if s.len() > budget && !body.is_empty() {
                break;
            }
            budget = budget.saturating_sub(s.len());
            body.extend(self.subs.pop_front());
        }
        body.extend(self.take_control(budget));
        let mut batch = 0usize;
        let mut taken = 0usize;
        // `RPC.partial` is singular: one partial message per frame.
        if let Some(p) = self.partial.pop_front() {
            batch += p.len();
            taken += 1;
            body.push(p);
        }
        'queues: for forward in [false, true] {
            let q = if forward {
                &mut self.forward
            } else {
                &mut self.priority
            };
            while let Some(item) = q.front() {
                if unwanted(item.key) {
                    if let (true, Some(old)) = (forward, q.pop_front()) {
                        self.forward_bytes -= old.entry.len();
                    }
                    dropped.cancelled += 1;
                    continue;
                }
                if forward && now.saturating_duration_since(item.at) > max_age {
                    if let Some(old) = q.pop_front() {
                        self.forward_bytes -= old.entry.len();
                    }
                    dropped.stale += 1;
                    continue;
                }
                if taken > 0 && (batch + item.entry.len() > max_batch || taken >= max_messages) {
                    break 'queues;
                }
                batch += item.entry.len();
                taken += 1;
                if let Some(item) = q.pop_front() {
                    if forward {
                        self.forward_bytes -= item.entry.len();
                    }
                    body.push(item.entry);
                }
            }
        }
        if body.is_empty() {
            return (None, dropped);
        }
        (Some(Frame::from_parts(body)), dropped)
    }
}

/// Moves whole entries while they fit.
fn take_whole<T: prost::Message>(from: &mut Vec<T>, to: &mut Vec<T>, budget: &mut usize) {
    let mut n = 0;
    for x in from.iter() {
        let cost = x.encoded_len() + ENTRY_OVERHEAD;
        if cost > *budget {
            break;
        }
        *budget -= cost;
        n += 1;
    }
    to.extend(from.drain(..n));
}

/// Moves IDONTWANT entries, splitting the last one's ids, while they fit.
fn take_id_lists(
    from: &mut Vec<wire::ControlIDontWant>,
    to: &mut Vec<wire::ControlIDontWant>,
    budget: &mut usize,
) {
    let mut whole = 0;
    while let Some(first) = from.get_mut(whole) {
        if *budget <= ENTRY_OVERHEAD {
            break;
        }
        *budget -= ENTRY_OVERHEAD;
        let message_ids = take_ids(&mut first.message_ids, budget);
        if message_ids.is_empty() {
            break;
        }
        let done = first.message_ids.is_empty();
        to.push(wire::ControlIDontWant { message_ids });
        if done {
            whole += 1;
        } else {
            break;
        }
    }
    from.drain(..whole);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use prost::Message as _;

    use super::*;

    fn asked_in(frame: &Frame) -> Vec<Vec<u8>> {
        let rpc = wire::Rpc::decode(frame.body()).unwrap();
        let control = rpc.control.unwrap_or_default();
        control
            .iwant
            .iter()
            .flat_map(|w| w.message_ids.iter().map(|id| id.to_vec()))
            .collect()
    }

    fn frames(q: &mut OutQueue, max_control: usize) -> Vec<Frame> {
        let now = Instant::now();
        let age = Duration::from_secs(1);
        std::iter::from_fn(|| {
            q.build_frame(now, max_control, 1 << 20, 64, age, |_| false)
                .0
        })
        .take(100)
        .collect()
    }

    #[test]
    fn asked_ids_are_split_across_frames_whole_and_in_order() {
        let ids: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; 20]).collect();
        let mut q = OutQueue::default();
        q.ask(&ids.iter().map(Vec::as_slice).collect::<Vec<_>>(), 5_000);
        assert!(q.has_control());
        // 22 bytes an id: a 200-byte control budget holds 8 of them.
        let sent = frames(&mut q, 200);
        assert!(sent.len() > 1, "{} frame(s)", sent.len());
        assert!(sent.iter().all(|f| f.len() <= 200 + 8));
        let asked: Vec<Vec<u8>> = sent.iter().flat_map(asked_in).collect();
        assert_eq!(asked, ids);
        assert!(q.is_empty());
    }

    #[test]
    fn an_unread_iwant_is_replaced_when_the_new_ids_would_overflow_it() {
        let mut q = OutQueue::default();
        q.ask(&[b"first", b"second", b"third"], 4);
        q.ask(&[b"fourth"], 4);
        q.ask(&[b"fifth"], 4);
        let asked: Vec<Vec<u8>> = frames(&mut q, 1 << 16).iter().flat_map(asked_in).collect();
        assert_eq!(asked, vec![b"fifth".to_vec()]);
    }
}
