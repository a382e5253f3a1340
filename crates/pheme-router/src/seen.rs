//! The seen cache: keyed 64-bit fingerprints of message-ids in generations, so that expiry is
//! dropping a whole generation and memory is about 12 bytes per message over the TTL (mainnet's
//! 768 s hold about 2.3 million messages at peak).

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use nohash_hasher::BuildNoHashHasher;

/// Generations the TTL is split into.
const GENERATIONS: u32 = 8;

#[derive(Debug)]
pub(crate) struct Seen {
    span: Duration,
    gens: VecDeque<(Instant, HashSet<u64, BuildNoHashHasher<u64>>)>,
}

impl Seen {
    pub fn new(ttl: Duration, now: Instant) -> Self {
        let mut gens = VecDeque::new();
        gens.push_back((now, HashSet::default()));
        Self {
            span: (ttl / GENERATIONS).max(Duration::from_millis(1)),
            gens,
        }
    }

    /// Whether `key` was seen within the TTL (entries live between TTL and TTL + TTL/8).
    pub fn contains(&self, key: u64) -> bool {
        self.gens.iter().rev().any(|(_, g)| g.contains(&key))
    }

    /// Records `key`; false if it was already there.
    pub fn insert(&mut self, now: Instant, key: u64) -> bool {
        if self.contains(key) {
            return false;
        }
        self.rotate(now);
        if let Some((_, g)) = self.gens.back_mut() {
            g.insert(key);
        }
        true
    }

    /// Starts a new generation when the newest is a span old and drops those past the TTL.
    pub fn rotate(&mut self, now: Instant) {
        let newest = self.gens.back().map(|(t, _)| *t);
        if newest.is_none_or(|t| now.saturating_duration_since(t) >= self.span) {
            self.gens.push_back((now, HashSet::default()));
        }
        while self.gens.len() > GENERATIONS as usize + 1 {
            self.gens.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.gens.iter().map(|(_, g)| g.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_for_the_ttl() {
        let t0 = Instant::now();
        let mut s = Seen::new(Duration::from_secs(80), t0);
        assert!(s.insert(t0, 1));
        assert!(!s.insert(t0, 1));
        for i in 1..=8u64 {
            s.rotate(t0 + Duration::from_secs(10 * i));
        }
        assert!(s.contains(1), "still within TTL + span");
        s.rotate(t0 + Duration::from_secs(90));
        assert!(!s.contains(1));
        assert_eq!(s.len(), 0);
    }
}
