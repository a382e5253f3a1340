//! Message records: what the router keeps of each recent message (who delivered it, its
//! verdict, its encoded entry for IWANT answers), how long, and their expiry.

use std::time::Instant;

use bytes::Bytes;
use smallvec::SmallVec;

use super::{PeerRef, Router};
use crate::types::{MessageId, MessageTransform};

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum State {
    Pending,
    Valid(Instant),
    Invalid,
    Ignored,
}

/// What the router keeps of a recent message.
pub(crate) struct Record {
    pub id: MessageId,
    pub topic: u32,
    pub first_seen: Instant,
    pub state: State,
    /// Peers that delivered it, the first copy's sender first.
    pub deliverers: SmallVec<[PeerRef; 4]>,
    /// The wire data, while its verdict is pending.
    pub wire: Option<Bytes>,
    /// The encoded `publish` entry, once accepted or published.
    pub entry: Option<Bytes>,
    /// Until when IWANT is answered (its `history_length` heartbeats in the mcache).
    pub mcache_until: Option<Instant>,
    pub iwant_served: Vec<(PeerRef, u32)>,
}

impl<T: MessageTransform> Router<T> {
    /// How long a message stays in the mcache (IWANT is answered).
    pub(crate) fn mcache_span(&self) -> std::time::Duration {
        self.config.heartbeat_interval * self.config.history_length as u32
    }

    /// How long past its verdict a valid message's record is kept: its mcache time, and the
    /// longest mesh delivery window (plus a heartbeat) so late copies still earn P3 credit.
    pub(crate) fn record_keep(&self) -> std::time::Duration {
        let window = self
            .topic_params
            .iter()
            .flatten()
            .map(|p| p.mesh_message_deliveries_window)
            .max()
            .unwrap_or_default();
        self.mcache_span()
            .max(window + self.config.heartbeat_interval)
    }

    /// How long a message's record is kept from its first copy: the configured time, or
    /// longer when the mcache or a topic's mesh delivery window needs it.
    pub(crate) fn record_ttl(&self) -> std::time::Duration {
        self.config.delivery_record_ttl.max(self.record_keep())
    }

    pub(crate) fn insert_record(&mut self, now: Instant, key: u64, rec: Record) {
        let ttl = self.record_ttl;
        self.records.insert(key, rec);
        self.record_order.push_back((now + ttl, key));
    }

    pub(crate) fn insert_fast(&mut self, now: Instant, fast: u64, key: u64) {
        self.fast.insert(fast, key);
        self.fast_order
            .push_back((now + self.config.delivery_record_ttl, fast));
    }

    /// Drops records and copy fingerprints past their time. Called at every tick, so the work
    /// is spread out instead of landing on the heartbeat.
    pub(crate) fn expire_records(&mut self, now: Instant) {
        // Records come due in arrival order; one still validating, or validated late enough
        // that its mcache time or mesh delivery window is not over, moves to a heap of later
        // deadlines (few: most verdicts take milliseconds).
        loop {
            let key = match (self.record_order.front(), self.record_late.peek()) {
                (Some(&(until, key)), _) if until <= now => {
                    self.record_order.pop_front();
                    key
                }
                (_, Some(&std::cmp::Reverse((until, key)))) if until <= now => {
                    self.record_late.pop();
                    key
                }
                _ => break,
            };
            let Some(r) = self.records.get(&key) else {
                continue;
            };
            let later = match r.state {
                State::Pending => Some(r.first_seen + self.config.validation_timeout),
                State::Valid(at) => Some(at + self.record_keep),
                State::Invalid | State::Ignored => None,
            };
            match later {
                Some(deadline) if deadline > now => {
                    self.record_late.push(std::cmp::Reverse((deadline, key)));
                }
                _ => {
                    if r.state == State::Pending {
                        self.stats.validation_timeouts += 1;
                    }
                    self.records.remove(&key);
                }
            }
        }
        while let Some(&(until, fast)) = self.fast_order.front() {
            if until > now {
                break;
            }
            self.fast_order.pop_front();
            self.fast.remove(&fast);
        }
    }
}
