//! One handler per topic kind.

pub(crate) mod attestation;
pub(crate) mod block;
pub(crate) mod epbs;
pub(crate) mod operations;
pub(crate) mod sync;

use pheme_types::ssz_rs::Bitlist;

/// The bits of a bitlist or bitvector as booleans.
pub(crate) fn bits<'a>(iter: impl Iterator<Item = bool> + 'a) -> Vec<bool> {
    iter.collect()
}

/// Bits of a bitlist.
pub(crate) fn bitlist<const N: usize>(b: &Bitlist<N>) -> Vec<bool> {
    bits(b.iter().by_vals())
}
