//! A keyed slab: large values (message records) live in fixed-size chunks that are reused as
//! entries come and go, and the hash table holds only a key and a 4-byte slot.
//!
//! Message records churn at the gossip rate (40,000 a second at 2.5x mainnet's peak) and each is
//! a couple of hundred bytes. Held inline in a hash table they were paid for two to four times
//! over: the table grows in powers of two, a table full of tombstones doubles even when the
//! live count is steady, and the old and new tables coexist while it resizes. Here the table
//! costs 13 bytes a bucket and the values grow by one chunk at a time.

use std::collections::HashMap;

use nohash_hasher::BuildNoHashHasher;

/// Values per chunk.
const CHUNK: usize = 1024;

/// Values of type `V` under `u64` keys (already well mixed: the table does not hash them
/// again).
#[derive(Debug)]
pub(crate) struct Slab<V> {
    index: HashMap<u64, u32, BuildNoHashHasher<u64>>,
    chunks: Vec<Box<[Option<V>]>>,
    free: Vec<u32>,
}

impl<V> Default for Slab<V> {
    fn default() -> Self {
        Self {
            index: HashMap::default(),
            chunks: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<V> Slab<V> {
    fn slot(&self, slot: u32) -> Option<&Option<V>> {
        let s = slot as usize;
        self.chunks.get(s / CHUNK)?.get(s % CHUNK)
    }

    fn slot_mut(&mut self, slot: u32) -> Option<&mut Option<V>> {
        let s = slot as usize;
        self.chunks.get_mut(s / CHUNK)?.get_mut(s % CHUNK)
    }

    /// Whether `key` is held.
    pub fn contains_key(&self, key: &u64) -> bool {
        self.index.contains_key(key)
    }

    /// The value under `key`.
    pub fn get(&self, key: &u64) -> Option<&V> {
        let slot = *self.index.get(key)?;
        self.slot(slot)?.as_ref()
    }

    /// The value under `key`, to change.
    pub fn get_mut(&mut self, key: &u64) -> Option<&mut V> {
        let slot = *self.index.get(key)?;
        self.slot_mut(slot)?.as_mut()
    }

    /// Puts `value` under `key`, replacing (and returning) what was there.
    pub fn insert(&mut self, key: u64, value: V) -> Option<V> {
        if let Some(&slot) = self.index.get(&key) {
            return self.slot_mut(slot).and_then(|v| v.replace(value));
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let total = self.chunks.len() * CHUNK;
                let Ok(slot) = u32::try_from(total) else {
                    // 4 billion live records: refuse the newest rather than wrap.
                    return Some(value);
                };
                let chunk: Box<[Option<V>]> = (0..CHUNK).map(|_| None).collect();
                self.chunks.push(chunk);
                // The rest of the new chunk, lowest slot on top of the stack.
                self.free
                    .extend((1..CHUNK as u32).rev().map(|i| slot.saturating_add(i)));
                slot
            }
        };
        if let Some(v) = self.slot_mut(slot) {
            *v = Some(value);
        }
        self.index.insert(key, slot);
        None
    }

    /// Takes the value under `key` out.
    pub fn remove(&mut self, key: &u64) -> Option<V> {
        let slot = self.index.remove(key)?;
        self.free.push(slot);
        self.slot_mut(slot)?.take()
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
        let mut s = Slab::default();
        for k in 0..3000u64 {
            assert_eq!(s.insert(k, k * 2), None);
        }
        assert_eq!(s.chunks.len(), 3);
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
        // Freed slots are taken again before a chunk is added.
        for k in 10_000..12_000u64 {
            s.insert(k, k);
        }
        assert_eq!((s.chunks.len(), s.len()), (3, 3000));
        assert!(s.contains_key(&11_999) && !s.contains_key(&0));
    }
}
