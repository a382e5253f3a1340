//! Duplicate caches, bounded and pruned by slot.
//!
//! Their keys are chosen by senders (validator indices, roots), so the hash is keyed with a
//! random seed per cache (foldhash's `RandomState`): far cheaper than SipHash on these small
//! keys, and not predictable enough to flood one bucket.

use std::collections::BTreeMap;
use std::hash::Hash;

use fixedbitset::FixedBitSet;

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Entries kept at most per cache: far above a mainnet epoch's worth (1M attesters), far below
/// what would hurt memory.
pub const DEFAULT_SEEN_CAPACITY: usize = 2_000_000;

/// Keys seen, grouped by the slot they belong to so old ones drop out together.
#[derive(Debug, Clone)]
pub struct SeenSet<K>(SeenMap<K, ()>);

impl<K: Hash + Eq + Clone> Default for SeenSet<K> {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_SEEN_CAPACITY)
    }
}

impl<K: Hash + Eq + Clone> SeenSet<K> {
    /// A set holding at most `capacity` keys (the oldest slots go first).
    pub fn with_capacity(capacity: usize) -> Self {
        Self(SeenMap::with_capacity(capacity))
    }

    /// Whether `key` was recorded.
    pub fn contains(&self, slot: u64, key: &K) -> bool {
        self.0.get(slot, key).is_some()
    }

    /// Records `key` under `slot`.
    pub fn insert(&mut self, slot: u64, key: K) {
        self.0.insert(slot, key, ());
    }

    /// Forgets everything before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.0.prune(min_slot);
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.0.len
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }
}

/// A value per key (a best bid's value, a count of messages), grouped by slot and bounded as
/// [`SeenSet`] is.
#[derive(Debug, Clone)]
pub struct SeenMap<K, V> {
    by_slot: BTreeMap<u64, HashMap<K, V>>,
    len: usize,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> Default for SeenMap<K, V> {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_SEEN_CAPACITY)
    }
}

impl<K: Hash + Eq + Clone, V> SeenMap<K, V> {
    /// A map holding at most `capacity` keys (the oldest slots go first).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            by_slot: BTreeMap::new(),
            len: 0,
            capacity: capacity.max(1),
        }
    }

    /// The value recorded for `key`.
    pub fn get(&self, slot: u64, key: &K) -> Option<&V> {
        self.by_slot.get(&slot).and_then(|m| m.get(key))
    }

    /// Records `value` for `key` under `slot`, replacing what was there.
    pub fn insert(&mut self, slot: u64, key: K, value: V) {
        if self
            .by_slot
            .entry(slot)
            .or_default()
            .insert(key, value)
            .is_none()
        {
            self.len += 1;
        }
        while self.len > self.capacity {
            let Some((_, oldest)) = self.by_slot.pop_first() else {
                break;
            };
            self.len -= oldest.len();
        }
    }

    /// Forgets everything before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        let keep = self.by_slot.split_off(&min_slot);
        self.len = keep.values().map(HashMap::len).sum();
        self.by_slot = keep;
    }
}

fn packed(bits: &[bool]) -> FixedBitSet {
    let mut set = FixedBitSet::with_capacity(bits.len());
    set.extend(bits.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i));
    set
}

/// Bitfields seen per key, for the "no non-strict superset already seen" rules of aggregates
/// and contributions.
#[derive(Debug, Clone)]
pub struct SeenBits<K> {
    by_slot: BTreeMap<u64, HashMap<K, Vec<FixedBitSet>>>,
}

impl<K> Default for SeenBits<K> {
    fn default() -> Self {
        Self {
            by_slot: BTreeMap::new(),
        }
    }
}

impl<K: Hash + Eq> SeenBits<K> {
    /// Whether some recorded bitfield for `key` has every bit of `bits` set.
    pub fn has_superset(&self, slot: u64, key: &K, bits: &[bool]) -> bool {
        let Some(seen) = self.by_slot.get(&slot).and_then(|m| m.get(key)) else {
            return false;
        };
        let want = packed(bits);
        seen.iter()
            .any(|s| s.len() == want.len() && want.is_subset(s))
    }

    /// Records a bitfield (at most 64 per key and slot; more are not needed to answer).
    pub fn insert(&mut self, slot: u64, key: K, bits: Vec<bool>) {
        let list = self
            .by_slot
            .entry(slot)
            .or_default()
            .entry(key)
            .or_default();
        if list.len() < 64 {
            list.push(packed(&bits));
        }
    }

    /// Forgets everything before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.by_slot = self.by_slot.split_off(&min_slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(len: usize, set: &[usize]) -> Vec<bool> {
        (0..len).map(|i| set.contains(&i)).collect()
    }

    #[test]
    fn a_recorded_bitfield_covers_its_subsets_across_words() {
        let mut s = SeenBits::default();
        s.insert(5, "k", bits(130, &[0, 63, 64, 129]));
        assert!(s.has_superset(5, &"k", &bits(130, &[0, 63, 64, 129])));
        assert!(s.has_superset(5, &"k", &bits(130, &[64, 129])));
        assert!(s.has_superset(5, &"k", &bits(130, &[])));
        assert!(!s.has_superset(5, &"k", &bits(130, &[1])));
        assert!(!s.has_superset(5, &"k", &bits(130, &[128])));
        // Other lengths, keys and slots are other committees.
        assert!(!s.has_superset(5, &"k", &bits(129, &[0])));
        assert!(!s.has_superset(5, &"j", &bits(130, &[0])));
        assert!(!s.has_superset(6, &"k", &bits(130, &[0])));
        s.insert(6, "k", bits(130, &[1]));
        s.prune(6);
        assert!(!s.has_superset(5, &"k", &bits(130, &[0])));
        assert!(s.has_superset(6, &"k", &bits(130, &[1])));
    }
}
