//! Recently seen signed blocks, by root and by slot, to answer blocks requests from.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use pheme_spec::ForkDigest;

use crate::rpc::message::BlockChunk;

/// How many blocks a [`BlockCache`] holds by default: four mainnet epochs.
pub const DEFAULT_BLOCK_CACHE_BLOCKS: usize = 128;

/// How many SSZ bytes a [`BlockCache`] holds by default.
pub const DEFAULT_BLOCK_CACHE_BYTES: usize = 128 * 1024 * 1024;

/// A signed block as seen on gossip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedBlock {
    /// The fork digest of the block's epoch (its topic's digest).
    pub fork_digest: ForkDigest,
    /// `SignedBeaconBlock` SSZ.
    pub ssz: Vec<u8>,
    /// The block's slot.
    pub slot: u64,
    /// `hash_tree_root` of the block message.
    pub root: [u8; 32],
}

impl CachedBlock {
    /// The block as a v2 response chunk.
    pub fn to_chunk(&self) -> BlockChunk {
        BlockChunk {
            fork_digest: Some(self.fork_digest),
            ssz: self.ssz.clone(),
        }
    }
}

/// A bounded cache of recently seen signed blocks, indexed by root and by slot. When over its
/// block count or byte budget it drops the blocks of the lowest slot first. Of several blocks at
/// one slot, the first inserted answers range requests; all answer by root.
#[derive(Debug, Clone)]
pub struct BlockCache {
    max_blocks: usize,
    max_bytes: usize,
    bytes: usize,
    by_root: HashMap<[u8; 32], Arc<CachedBlock>>,
    by_slot: BTreeMap<u64, Vec<[u8; 32]>>,
}

impl Default for BlockCache {
    fn default() -> Self {
        BlockCache::new(DEFAULT_BLOCK_CACHE_BLOCKS, DEFAULT_BLOCK_CACHE_BYTES)
    }
}

impl BlockCache {
    /// A cache of at most `max_blocks` blocks and `max_bytes` SSZ bytes.
    pub fn new(max_blocks: usize, max_bytes: usize) -> BlockCache {
        BlockCache {
            max_blocks,
            max_bytes,
            bytes: 0,
            by_root: HashMap::new(),
            by_slot: BTreeMap::new(),
        }
    }

    /// Adds a block (a repeat of a known root is ignored) and evicts the oldest slots while over
    /// a bound. A block larger than the whole byte budget is not kept.
    pub fn insert(&mut self, block: CachedBlock) {
        if self.by_root.contains_key(&block.root) || block.ssz.len() > self.max_bytes {
            return;
        }
        self.bytes += block.ssz.len();
        self.by_slot.entry(block.slot).or_default().push(block.root);
        self.by_root.insert(block.root, Arc::new(block));
        while self.by_root.len() > self.max_blocks || self.bytes > self.max_bytes {
            let Some((_, roots)) = self.by_slot.pop_first() else {
                break;
            };
            for root in roots {
                if let Some(gone) = self.by_root.remove(&root) {
                    self.bytes -= gone.ssz.len();
                }
            }
        }
    }

    /// The block with this root.
    pub fn get(&self, root: &[u8; 32]) -> Option<&CachedBlock> {
        self.by_root.get(root).map(Arc::as_ref)
    }

    /// The first block seen at `slot`.
    pub fn at_slot(&self, slot: u64) -> Option<&CachedBlock> {
        let root = self.by_slot.get(&slot)?.first()?;
        self.get(root)
    }

    /// The blocks at `start_slot + i * step` for `i < count`, in slot order, skipping empty slots.
    pub fn range(&self, start_slot: u64, count: u64, step: u64) -> Vec<&CachedBlock> {
        let step = step.max(1);
        let end = start_slot.saturating_add(count.saturating_mul(step));
        self.by_slot
            .range(start_slot..end)
            .filter(|(slot, _)| (*slot - start_slot).is_multiple_of(step))
            .filter_map(|(_, roots)| roots.first().and_then(|r| self.get(r)))
            .collect()
    }

    /// The lowest slot held.
    pub fn earliest_slot(&self) -> Option<u64> {
        self.by_slot.keys().next().copied()
    }

    /// How many blocks are held.
    pub fn len(&self) -> usize {
        self.by_root.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.by_root.is_empty()
    }

    /// SSZ bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(slot: u64, tag: u8, size: usize) -> CachedBlock {
        CachedBlock {
            fork_digest: ForkDigest([1, 2, 3, 4]),
            ssz: vec![tag; size],
            slot,
            root: [tag; 32],
        }
    }

    #[test]
    fn finds_by_root_and_slot_and_range() {
        let mut cache = BlockCache::new(10, 1 << 20);
        for (slot, tag) in [(10, 1), (11, 2), (13, 3)] {
            cache.insert(block(slot, tag, 500));
        }
        cache.insert(block(11, 9, 500)); // a second block at slot 11
        assert_eq!(cache.len(), 4);
        assert_eq!(cache.get(&[9; 32]).map(|b| b.slot), Some(11));
        assert_eq!(cache.at_slot(11).map(|b| b.root), Some([2; 32]));
        let slots: Vec<u64> = cache.range(10, 4, 1).iter().map(|b| b.slot).collect();
        assert_eq!(slots, [10, 11, 13]);
        let stepped: Vec<u64> = cache.range(10, 2, 3).iter().map(|b| b.slot).collect();
        assert_eq!(stepped, [10, 13]);
        assert!(cache.range(14, 100, 1).is_empty());
        assert!(cache.range(0, u64::MAX, u64::MAX).len() <= 4);
    }

    #[test]
    fn evicts_oldest_slots_by_count_and_bytes() {
        let mut cache = BlockCache::new(3, 2_000);
        for slot in 0..5u8 {
            cache.insert(block(u64::from(slot), slot, 500));
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.earliest_slot(), Some(2));
        cache.insert(block(9, 9, 1_500));
        assert!(cache.bytes() <= 2_000);
        assert!(cache.get(&[9; 32]).is_some());
        assert_eq!(cache.earliest_slot(), Some(4));
        cache.insert(block(10, 10, 5_000)); // larger than the whole budget
        assert!(cache.get(&[10; 32]).is_none());
    }
}
