//! A keyed slab: large values (message records) live in a slab whose slots are reused as
//! entries come and go, and the hash table holds only a key and a slot.
//!
//! Message records churn at the gossip rate (40,000 a second at 2.5x mainnet's peak) and each is
//! a couple of hundred bytes. Held inline in a hash table they were paid for two to four times
//! over: the table grows in powers of two, a table full of tombstones doubles even when the
//! live count is steady, and the old and new tables coexist while it resizes. Here the table
//! costs 16 bytes a bucket and the values grow only with the number held at once.

use std::collections::HashMap;

use nohash_hasher::BuildNoHashHasher;

/// Values of type `V` under `u64` keys (already well mixed: the table does not hash them
/// again).
#[derive(Debug)]
pub(crate) struct KeyedSlab<V> {
    index: HashMap<u64, usize, BuildNoHashHasher<u64>>,
    values: slab::Slab<V>,
}

impl<V> Default for KeyedSlab<V> {
    fn default() -> Self {
        Self {
            index: HashMap::default(),
            values: slab::Slab::new(),
        }
    }
}

impl<V> KeyedSlab<V> {
    /// Whether `key` is held.
    pub fn contains_key(&self, key: &u64) -> bool {
        self.index.contains_key(key)
    }

    /// The value under `key`.
    pub fn get(&self, key: &u64) -> Option<&V> {
        self.values.get(*self.index.get(key)?)
    }

    /// The value under `key`, to change.
    pub fn get_mut(&mut self, key: &u64) -> Option<&mut V> {
        self.values.get_mut(*self.index.get(key)?)
    }

    /// Puts `value` under `key`, replacing (and returning) what was there.
    pub fn insert(&mut self, key: u64, value: V) -> Option<V> {
        if let Some(v) = self.get_mut(&key) {
            return Some(std::mem::replace(v, value));
        }
        self.index.insert(key, self.values.insert(value));
        None
    }

    /// Takes the value under `key` out.
    pub fn remove(&mut self, key: &u64) -> Option<V> {
        self.values.try_remove(self.index.remove(key)?)
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_and_go_and_slots_are_reused() {
        let mut s = KeyedSlab::default();
        for k in 0..3000u64 {
            assert_eq!(s.insert(k, k * 2), None);
        }
        let capacity = s.values.capacity();
        assert_eq!(s.insert(7, 1), Some(14));
        assert_eq!(s.get(&7), Some(&1));
        for k in 0..2000u64 {
            assert!(s.remove(&k).is_some());
        }
        assert_eq!((s.len(), s.get(&5)), (1000, None));
        assert_eq!(s.remove(&5), None);
        if let Some(v) = s.get_mut(&2500) {
            *v = 9;
        }
        assert_eq!(s.get(&2500), Some(&9));
        // Freed slots are taken again before the slab grows.
        for k in 10_000..12_000u64 {
            s.insert(k, k);
        }
        assert_eq!((s.values.capacity(), s.len()), (capacity, 3000));
        assert!(s.contains_key(&11_999) && !s.contains_key(&0));
    }
}
