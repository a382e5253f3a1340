//! The slot and root of a signed block's SSZ bytes, for the recent-block cache that answers
//! `BeaconBlocksByRange` / `ByRoot`.

use pheme_spec::{ChainSpec, Fork, PresetBase};
use pheme_types::ssz_rs::prelude::*;

fn slot_and_root<B: Deserialize + SimpleSerialize>(
    ssz: &[u8],
    message: impl FnOnce(&mut B) -> (u64, Option<[u8; 32]>),
) -> Option<(u64, [u8; 32])> {
    let mut block = pheme_types::decode_untrusted::<B>(ssz).ok()?;
    let (slot, root) = message(&mut block);
    Some((slot, root?))
}

macro_rules! root_by_fork {
    ($p:ident, $fork:expr, $ssz:expr) => {{
        use pheme_types::$p as p;
        macro_rules! one {
            ($t:ty) => {
                slot_and_root::<$t>($ssz, |b| {
                    let root = b.message.hash_tree_root().ok().map(|n| {
                        let mut r = [0u8; 32];
                        r.copy_from_slice(n.as_ref());
                        r
                    });
                    (b.message.slot, root)
                })
            };
        }
        match $fork {
            Fork::Phase0 => one!(p::phase0::SignedBeaconBlock),
            Fork::Altair => one!(p::altair::SignedBeaconBlock),
            Fork::Bellatrix => one!(p::bellatrix::SignedBeaconBlock),
            Fork::Capella => one!(p::capella::SignedBeaconBlock),
            Fork::Deneb => one!(p::deneb::SignedBeaconBlock),
            _ => one!(p::electra::SignedBeaconBlock),
        }
    }};
}

/// `(slot, hash_tree_root(block.message))` of a `SignedBeaconBlock` of `fork`, or `None` if the
/// bytes are not one.
pub fn block_slot_and_root(chain: &ChainSpec, fork: Fork, ssz: &[u8]) -> Option<(u64, [u8; 32])> {
    match chain.preset.base {
        PresetBase::Mainnet => root_by_fork!(mainnet, fork, ssz),
        PresetBase::Minimal => root_by_fork!(minimal, fork, ssz),
        PresetBase::Gnosis => root_by_fork!(gnosis, fork, ssz),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn roots_are_the_message_roots() {
        let chain = pheme_spec::Network::Mainnet.chain_spec().unwrap();
        let mut b = pheme_types::mainnet::fulu::SignedBeaconBlock::default();
        b.message.slot = 77;
        let ssz = serialize(&b).unwrap();
        let (slot, root) = block_slot_and_root(&chain, Fork::Fulu, &ssz).unwrap();
        assert_eq!(slot, 77);
        assert_eq!(
            root.as_slice(),
            b.message.hash_tree_root().unwrap().as_ref()
        );
        assert!(block_slot_and_root(&chain, Fork::Fulu, &ssz[1..]).is_none());
    }
}
