//! The progressive SSZ types Gloas brings in (EIP-7916 progressive lists and bitlists, EIP-7495
//! progressive containers, adopted by EIP-7688), which `ssz_rs` 0.9 lacks. They serialize as
//! their bounded counterparts do; only the merkleization differs: a progressive tree whose
//! subtrees hold 1, 4, 16, ... chunks (`merkleize_progressive`), and for containers the
//! `active_fields` bitvector mixed into the root.
//!
//! ```
//! use pheme_types::progressive::ProgressiveList;
//! use pheme_types::ssz_rs::prelude::*;
//!
//! let mut list: ProgressiveList<u64> = vec![1, 2, 3].into();
//! let bytes = ssz_rs::serialize(&list).unwrap();
//! assert_eq!(bytes.len(), 24);
//! assert_eq!(ProgressiveList::<u64>::deserialize(&bytes).unwrap(), list);
//! assert_eq!(list.hash_tree_root().unwrap().as_ref().len(), 32);
//! ```

use std::fmt;
use std::ops::{Deref, DerefMut};

use sha2::{Digest, Sha256};
use ssz_rs::prelude::*;

/// `BYTES_PER_CHUNK`.
const CHUNK: usize = 32;

/// The element bound the progressive types decode under: none in the spec, so the one the
/// underlying `ssz_rs` list needs is far above anything a message of `MAX_PAYLOAD_SIZE`
/// (10 MiB) can hold.
const UNBOUNDED: usize = u32::MAX as usize;

fn hash_pair(left: &[u8], right: &[u8]) -> Node {
    let mut hasher = Sha256::new();
    hasher.update(left);
    hasher.update(right);
    let digest: [u8; 32] = hasher.finalize().into();
    Node::try_from(&digest[..]).unwrap_or_default()
}

/// `merkleize_progressive(chunks)`: the first chunk alone, then the next 4, 16, 64, ... each
/// as a binary tree of that width, each level `hash(subtree, rest)`, the empty rest a zero
/// chunk. `chunks` is a whole number of 32-byte chunks.
pub fn merkleize_progressive(chunks: &[u8]) -> Result<Node, MerkleizationError> {
    // Walk the levels forward, then fold them from the deepest back.
    let mut subtrees = Vec::new();
    let (mut rest, mut width) = (chunks, 1usize);
    while !rest.is_empty() {
        let take = rest.len().min(width * CHUNK);
        subtrees.push(ssz_rs::__internal::merkleize(&rest[..take], Some(width))?);
        rest = &rest[take..];
        width *= 4;
    }
    let mut root = Node::default();
    for subtree in subtrees.iter().rev() {
        root = hash_pair(subtree.as_ref(), root.as_ref());
    }
    Ok(root)
}

/// `mix_in_length(root, length)`.
fn mix_in_length(root: &Node, length: usize) -> Node {
    let mut len = [0u8; CHUNK];
    len[..8].copy_from_slice(&(length as u64).to_le_bytes());
    hash_pair(root.as_ref(), &len)
}

/// Pads bytes with zeros to a whole number of chunks (`pack`).
fn pad_to_chunks(mut bytes: Vec<u8>) -> Vec<u8> {
    let padded = bytes.len().div_ceil(CHUNK) * CHUNK;
    bytes.resize(padded, 0);
    bytes
}

/// `ProgressiveList[T]`: a list without a limit, held as a `Vec`. JSON as a list's.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ProgressiveList<T: SimpleSerialize>(List<T, UNBOUNDED>);

impl<T: SimpleSerialize> ProgressiveList<T> {
    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// Appends an element.
    pub fn push(&mut self, value: T) {
        self.0.push(value);
    }
}

impl<T: SimpleSerialize> From<Vec<T>> for ProgressiveList<T> {
    fn from(values: Vec<T>) -> Self {
        // Over `UNBOUNDED` elements cannot be built from memory this size.
        Self(List::try_from(values).unwrap_or_default())
    }
}

impl<T: SimpleSerialize> Deref for ProgressiveList<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: SimpleSerialize + fmt::Debug> fmt::Debug for ProgressiveList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T: SimpleSerialize> ssz_rs::Sized for ProgressiveList<T> {
    fn is_variable_size() -> bool {
        true
    }
    fn size_hint() -> usize {
        0
    }
}

impl<T: SimpleSerialize> ssz_rs::Serialize for ProgressiveList<T> {
    fn serialize(&self, buffer: &mut Vec<u8>) -> Result<usize, SerializeError> {
        self.0.serialize(buffer)
    }
}

impl<T: SimpleSerialize> ssz_rs::Deserialize for ProgressiveList<T> {
    fn deserialize(encoding: &[u8]) -> Result<Self, DeserializeError> {
        List::deserialize(encoding).map(Self)
    }
}

impl<T: SimpleSerialize> Merkleized for ProgressiveList<T> {
    fn hash_tree_root(&mut self) -> Result<Node, MerkleizationError> {
        let chunks = if T::is_composite_type() {
            let mut chunks = Vec::with_capacity(self.0.len() * CHUNK);
            for element in self.0.iter_mut() {
                chunks.extend_from_slice(element.hash_tree_root()?.as_ref());
            }
            chunks
        } else {
            let mut packed = Vec::new();
            self.0
                .serialize(&mut packed)
                .map_err(|_| MerkleizationError::InputExceedsLimit(UNBOUNDED))?;
            pad_to_chunks(packed)
        };
        Ok(mix_in_length(
            &merkleize_progressive(&chunks)?,
            self.0.len(),
        ))
    }
}

impl<T: SimpleSerialize> SimpleSerialize for ProgressiveList<T> {}

impl<T: SimpleSerialize + serde::Serialize> serde::Serialize for ProgressiveList<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'de, T: SimpleSerialize + serde::Deserialize<'de>> serde::Deserialize<'de>
    for ProgressiveList<T>
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let values = Vec::<T>::deserialize(d)?;
        List::try_from(values)
            .map(Self)
            .map_err(|_| serde::de::Error::custom("progressive list too long"))
    }
}

/// `ProgressiveList[uint64]` (or of a narrower unsigned integer: `ParticipationFlags`) as
/// decimal strings, as the Beacon API writes integers.
pub mod quoted_progressive_list {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};
    use ssz_rs::SimpleSerialize;

    use super::ProgressiveList;

    /// Serializes as a sequence of decimal strings.
    pub fn serialize<S: Serializer, T: SimpleSerialize + Display>(
        v: &ProgressiveList<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| x.to_string()))
    }

    #[derive(Deserialize)]
    #[serde(bound = "T: TryFrom<u64> + FromStr, <T as FromStr>::Err: Display")]
    struct Item<T>(#[serde(with = "crate::primitives::quoted")] T);

    /// Accepts strings or integers.
    pub fn deserialize<'de, D: Deserializer<'de>, T>(d: D) -> Result<ProgressiveList<T>, D::Error>
    where
        T: SimpleSerialize + TryFrom<u64> + FromStr,
        <T as FromStr>::Err: Display,
    {
        let items = Vec::<Item<T>>::deserialize(d)?;
        Ok(items.into_iter().map(|i| i.0).collect::<Vec<_>>().into())
    }
}

/// `ProgressiveBitList`: a bitlist without a limit; SSZ and 0x-hex JSON as a bitlist's.
#[derive(Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ProgressiveBitlist(Bitlist<UNBOUNDED>);

impl ProgressiveBitlist {
    /// A bitlist of these bits.
    pub fn from_bits(bits: &[bool]) -> Self {
        // Over `UNBOUNDED` bits cannot be built from memory this size.
        Self(Bitlist::try_from(bits).unwrap_or_default())
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many bits are set.
    pub fn count_ones(&self) -> usize {
        self.0.count_ones()
    }

    /// The bits, in order.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        self.0.iter().by_vals()
    }
}

impl fmt::Debug for ProgressiveBitlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ProgressiveBitlist(len={}, ones={})",
            self.len(),
            self.count_ones()
        )
    }
}

impl ssz_rs::Sized for ProgressiveBitlist {
    fn is_variable_size() -> bool {
        true
    }
    fn size_hint() -> usize {
        0
    }
}

impl ssz_rs::Serialize for ProgressiveBitlist {
    fn serialize(&self, buffer: &mut Vec<u8>) -> Result<usize, SerializeError> {
        self.0.serialize(buffer)
    }
}

impl ssz_rs::Deserialize for ProgressiveBitlist {
    fn deserialize(encoding: &[u8]) -> Result<Self, DeserializeError> {
        Bitlist::deserialize(encoding).map(Self)
    }
}

impl Merkleized for ProgressiveBitlist {
    fn hash_tree_root(&mut self) -> Result<Node, MerkleizationError> {
        // `pack_bits`: the serialization without its length-delimiting bit.
        let len = self.0.len();
        let mut bytes = Vec::new();
        self.0
            .serialize(&mut bytes)
            .map_err(|_| MerkleizationError::InputExceedsLimit(UNBOUNDED))?;
        bytes.truncate(len.div_ceil(8));
        if !len.is_multiple_of(8)
            && let Some(last) = bytes.last_mut()
        {
            *last &= (1u8 << (len % 8)) - 1;
        }
        let root = merkleize_progressive(&pad_to_chunks(bytes))?;
        Ok(mix_in_length(&root, len))
    }
}

impl SimpleSerialize for ProgressiveBitlist {}

/// `ProgressiveByteList` (`ProgressiveList[byte]`): Gloas's `Transaction` and
/// `BlockAccessList`, copied in one piece, 0x-hex in JSON.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ProgressiveByteList(pub Vec<u8>);

impl Deref for ProgressiveByteList {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for ProgressiveByteList {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

impl fmt::Debug for ProgressiveByteList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(&self.0))
    }
}

impl ssz_rs::Sized for ProgressiveByteList {
    fn is_variable_size() -> bool {
        true
    }
    fn size_hint() -> usize {
        0
    }
}

impl ssz_rs::Serialize for ProgressiveByteList {
    fn serialize(&self, buffer: &mut Vec<u8>) -> Result<usize, SerializeError> {
        buffer.extend_from_slice(&self.0);
        Ok(self.0.len())
    }
}

impl ssz_rs::Deserialize for ProgressiveByteList {
    fn deserialize(encoding: &[u8]) -> Result<Self, DeserializeError> {
        Ok(Self(encoding.to_vec()))
    }
}

impl Merkleized for ProgressiveByteList {
    fn hash_tree_root(&mut self) -> Result<Node, MerkleizationError> {
        let root = merkleize_progressive(&pad_to_chunks(self.0.clone()))?;
        Ok(mix_in_length(&root, self.0.len()))
    }
}

impl SimpleSerialize for ProgressiveByteList {}

impl serde::Serialize for ProgressiveByteList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("0x{}", hex::encode(&self.0)))
    }
}

impl<'de> serde::Deserialize<'de> for ProgressiveByteList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let digits = s
            .strip_prefix("0x")
            .ok_or_else(|| serde::de::Error::custom("hex without 0x"))?;
        hex::decode(digits)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// The fields of a progressive container, every one active (`active_fields` all ones, as in
/// every Gloas and Heze container): the struct derives `SimpleSerialize` (a progressive
/// container serializes as a container) and [`progressive_fields!`] lists its fields for the
/// root. [`Progressive`] wraps it with the progressive `hash_tree_root`.
pub trait ProgressiveFields: SimpleSerialize {
    /// The fields' `hash_tree_root`s, in order.
    fn field_roots(&mut self) -> Result<Vec<Node>, MerkleizationError>;
}

/// Implements [`ProgressiveFields`] for a struct from its field names, in order; the impl's
/// generics go in brackets: `progressive_fields!([const C: usize] AttestationFields<C>; ...)`.
#[macro_export]
macro_rules! progressive_fields {
    ([$($generics:tt)*] $name:ty; $($field:ident),+ $(,)?) => {
        impl<$($generics)*> $crate::progressive::ProgressiveFields for $name {
            fn field_roots(
                &mut self,
            ) -> Result<Vec<$crate::ssz_rs::Node>, $crate::ssz_rs::MerkleizationError> {
                use $crate::ssz_rs::Merkleized;
                Ok(vec![$(self.$field.hash_tree_root()?),+])
            }
        }
    };
}

/// A progressive container (`ProgressiveContainer(active_fields=[1] * n)`) over the fields
/// `C`: SSZ and JSON are `C`'s, `hash_tree_root` is
/// `mix_in_active_fields(merkleize_progressive(field roots), active_fields)`. Fields read and
/// write through `Deref`: `bid.slot`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Progressive<C>(pub C);

impl<C> Deref for Progressive<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.0
    }
}

impl<C> DerefMut for Progressive<C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.0
    }
}

impl<C: ProgressiveFields> ssz_rs::Sized for Progressive<C> {
    fn is_variable_size() -> bool {
        C::is_variable_size()
    }
    fn size_hint() -> usize {
        C::size_hint()
    }
}

impl<C: ProgressiveFields> ssz_rs::Serialize for Progressive<C> {
    fn serialize(&self, buffer: &mut Vec<u8>) -> Result<usize, SerializeError> {
        self.0.serialize(buffer)
    }
}

impl<C: ProgressiveFields> ssz_rs::Deserialize for Progressive<C> {
    fn deserialize(encoding: &[u8]) -> Result<Self, DeserializeError> {
        C::deserialize(encoding).map(Self)
    }
}

impl<C: ProgressiveFields> Merkleized for Progressive<C> {
    fn hash_tree_root(&mut self) -> Result<Node, MerkleizationError> {
        let roots = self.0.field_roots()?;
        let mut chunks = Vec::with_capacity(roots.len() * CHUNK);
        for root in &roots {
            chunks.extend_from_slice(root.as_ref());
        }
        // `pack_bits(active_fields)`: n ones, at most 256 of them, in one chunk.
        let mut active = [0u8; CHUNK];
        for i in 0..roots.len().min(256) {
            active[i / 8] |= 1 << (i % 8);
        }
        Ok(hash_pair(merkleize_progressive(&chunks)?.as_ref(), &active))
    }
}

impl<C: ProgressiveFields> SimpleSerialize for Progressive<C> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_hex(node: Node) -> String {
        hex::encode(node.as_ref())
    }

    #[test]
    fn progressive_merkleization_of_few_chunks() {
        // No chunk: the zero chunk. One chunk: hash(chunk, zero).
        assert_eq!(merkleize_progressive(&[]).unwrap(), Node::default());
        let one = [7u8; 32];
        assert_eq!(
            merkleize_progressive(&one).unwrap(),
            hash_pair(&one, &[0u8; 32])
        );
        // Two chunks: hash(c0, hash(merkleize([c1], 4), zero)).
        let mut two = vec![1u8; 32];
        two.extend_from_slice(&[2u8; 32]);
        let c1_in_4 = ssz_rs::__internal::merkleize(&two[32..], Some(4)).unwrap();
        let want = hash_pair(&two[..32], hash_pair(c1_in_4.as_ref(), &[0u8; 32]).as_ref());
        assert_eq!(
            root_hex(merkleize_progressive(&two).unwrap()),
            root_hex(want)
        );
    }

    #[test]
    fn bitlist_root_ignores_the_delimiting_bit() {
        let mut a = ProgressiveBitlist::from_bits(&[true, false, true]);
        let bytes = ssz_rs::serialize(&a).unwrap();
        assert_eq!(bytes, vec![0b1101]);
        let mut b = ProgressiveBitlist::deserialize(&bytes).unwrap();
        assert_eq!(a, b);
        let want = mix_in_length(
            &merkleize_progressive(&pad_to_chunks(vec![0b101])).unwrap(),
            3,
        );
        assert_eq!(a.hash_tree_root().unwrap(), want);
        assert_eq!(b.hash_tree_root().unwrap(), want);
    }
}
