//! Byte vectors and lists with 0x-hex JSON, the spec's aliases, and quoted-integer serde.

use std::fmt;
use std::ops::Deref;

use ssz_rs::prelude::*;

/// Bytes of the wrong length for a byte vector (or too many for a byte list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongLength {
    /// The vector's length or the list's bound.
    pub bound: usize,
    /// What was given.
    pub got: usize,
}

impl fmt::Display for WrongLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes where the type allows {}", self.got, self.bound)
    }
}

impl std::error::Error for WrongLength {}

/// A fixed-length byte string (`ByteVector[N]`), 0x-hex in JSON, held inline as `[u8; N]`: it
/// decodes, clones and compares without touching the heap. For the very large vectors (a
/// blob) see [`BoxedByteVector`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ByteVector<const N: usize>(pub [u8; N]);

/// A fixed-length byte string held on the heap (`Box<[u8]>` of exactly `N` bytes), for vectors
/// too large to move around inline (`Blob`: 128 KiB). Same SSZ and JSON as [`ByteVector`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BoxedByteVector<const N: usize>(Box<[u8]>);

/// A bounded byte string (`ByteList[N]`), 0x-hex in JSON, copied in one piece.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ByteList<const N: usize>(pub List<u8, N>);

impl<const N: usize> ssz_rs::Sized for ByteList<N> {
    fn is_variable_size() -> bool {
        true
    }
    fn size_hint() -> usize {
        0
    }
}

impl<const N: usize> ssz_rs::Serialize for ByteList<N> {
    fn serialize(&self, buffer: &mut Vec<u8>) -> Result<usize, ssz_rs::SerializeError> {
        buffer.extend_from_slice(&self.0);
        Ok(self.0.len())
    }
}

impl<const N: usize> ssz_rs::Deserialize for ByteList<N> {
    fn deserialize(encoding: &[u8]) -> Result<Self, ssz_rs::DeserializeError> {
        let too_long = || {
            ssz_rs::DeserializeError::InvalidInstance(ssz_rs::InstanceError::Bounded {
                bound: N,
                provided: encoding.len(),
            })
        };
        if encoding.len() > N {
            return Err(too_long());
        }
        encoding
            .to_vec()
            .try_into()
            .map(Self)
            .map_err(|_| too_long())
    }
}

impl<const N: usize> Merkleized for ByteList<N> {
    fn hash_tree_root(&mut self) -> Result<Node, MerkleizationError> {
        self.0.hash_tree_root()
    }
}

impl<const N: usize> SimpleSerialize for ByteList<N> {}

impl<const N: usize> TryFrom<&[u8]> for ByteList<N> {
    type Error = WrongLength;
    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        let inner = bytes.to_vec().try_into().map_err(|_| WrongLength {
            bound: N,
            got: bytes.len(),
        })?;
        Ok(Self(inner))
    }
}

impl<const N: usize> Deref for ByteList<N> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> Default for ByteVector<N> {
    fn default() -> Self {
        Self([0; N])
    }
}

impl<const N: usize> Default for BoxedByteVector<N> {
    fn default() -> Self {
        Self(vec![0; N].into_boxed_slice())
    }
}

impl<const N: usize> Deref for ByteVector<N> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> Deref for BoxedByteVector<N> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> TryFrom<&[u8]> for ByteVector<N> {
    type Error = WrongLength;
    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        <[u8; N]>::try_from(bytes)
            .map(Self)
            .map_err(|_| WrongLength {
                bound: N,
                got: bytes.len(),
            })
    }
}

impl<const N: usize> TryFrom<&[u8]> for BoxedByteVector<N> {
    type Error = WrongLength;
    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        if bytes.len() != N {
            return Err(WrongLength {
                bound: N,
                got: bytes.len(),
            });
        }
        Ok(Self(bytes.into()))
    }
}

impl<const N: usize> From<[u8; N]> for ByteVector<N> {
    fn from(bytes: [u8; N]) -> Self {
        Self(bytes)
    }
}

/// The SSZ traits of a fixed-length byte vector: copied in one piece, merkleized as the spec's
/// `Vector[byte, N]`.
macro_rules! fixed_bytes_ssz {
    ($ty:ident) => {
        impl<const N: usize> ssz_rs::Sized for $ty<N> {
            fn is_variable_size() -> bool {
                false
            }
            fn size_hint() -> usize {
                N
            }
        }

        impl<const N: usize> ssz_rs::Serialize for $ty<N> {
            fn serialize(&self, buffer: &mut Vec<u8>) -> Result<usize, ssz_rs::SerializeError> {
                buffer.extend_from_slice(&self[..]);
                Ok(N)
            }
        }

        impl<const N: usize> ssz_rs::Deserialize for $ty<N> {
            fn deserialize(encoding: &[u8]) -> Result<Self, ssz_rs::DeserializeError> {
                use ssz_rs::DeserializeError::{AdditionalInput, ExpectedFurtherInput};
                Self::try_from(encoding).map_err(|_| {
                    if encoding.len() < N {
                        ExpectedFurtherInput {
                            provided: encoding.len(),
                            expected: N,
                        }
                    } else {
                        AdditionalInput {
                            provided: encoding.len(),
                            expected: N,
                        }
                    }
                })
            }
        }

        impl<const N: usize> Merkleized for $ty<N> {
            fn hash_tree_root(&mut self) -> Result<Node, MerkleizationError> {
                if N <= 32 {
                    // One chunk: the bytes, zero-padded.
                    let mut chunk = [0u8; 32];
                    chunk[..N].copy_from_slice(&self[..]);
                    return Node::try_from(&chunk[..])
                        .map_err(|_| MerkleizationError::InputExceedsLimit(N));
                }
                let mut vector = Vector::<u8, N>::try_from(self[..].to_vec())
                    .map_err(|_| MerkleizationError::InputExceedsLimit(N))?;
                vector.hash_tree_root()
            }
        }

        impl<const N: usize> SimpleSerialize for $ty<N> {}
    };
}
fixed_bytes_ssz!(ByteVector);
fixed_bytes_ssz!(BoxedByteVector);

macro_rules! bytes_common {
    ($ty:ident) => {
        impl<const N: usize> fmt::Debug for $ty<N> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "0x{}", hex::encode(&self[..]))
            }
        }

        impl<const N: usize> serde::Serialize for $ty<N> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&format_args!("0x{}", hex::encode(&self[..])))
            }
        }

        impl<'de, const N: usize> serde::Deserialize<'de> for $ty<N> {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                let digits = s
                    .strip_prefix("0x")
                    .ok_or_else(|| serde::de::Error::custom("hex without 0x"))?;
                let bytes = hex::decode(digits).map_err(serde::de::Error::custom)?;
                Self::try_from(&bytes[..])
                    .map_err(|_| serde::de::Error::custom(format!("expected {} bytes", N)))
            }
        }
    };
}
bytes_common!(ByteVector);
bytes_common!(BoxedByteVector);
bytes_common!(ByteList);

/// `Bytes4`.
pub type Bytes4 = ByteVector<4>;
/// `Bytes20`.
pub type Bytes20 = ByteVector<20>;
/// `Bytes32`.
pub type Bytes32 = ByteVector<32>;
/// `Root` (`Bytes32`).
pub type Root = ByteVector<32>;
/// `Hash32`.
pub type Hash32 = ByteVector<32>;
/// `Version`.
pub type Version = ByteVector<4>;
/// `ForkDigest`.
pub type ForkDigest = ByteVector<4>;
/// `Domain`.
pub type Domain = ByteVector<32>;
/// `BLSPubkey`.
pub type BlsPubkey = ByteVector<48>;
/// `BLSSignature`.
pub type BlsSignature = ByteVector<96>;
/// `ExecutionAddress`.
pub type ExecutionAddress = ByteVector<20>;
/// `KZGCommitment`.
pub type KzgCommitment = ByteVector<48>;
/// `KZGProof`.
pub type KzgProof = ByteVector<48>;
/// `Blob`: 4096 field elements of 32 bytes (the same in every preset).
pub type Blob = BoxedByteVector<131_072>;
/// `Cell`: 64 field elements of 32 bytes.
pub type Cell = ByteVector<2048>;
/// `Transaction`: `ByteList[MAX_BYTES_PER_TRANSACTION]`.
pub type Transaction = ByteList<1_073_741_824>;

/// An unsigned integer (`uint8` to `uint64`) as a decimal string, as the Beacon API writes it
/// (plain integers are accepted too).
pub mod quoted {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as a decimal string.
    pub fn serialize<S: Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw<'a> {
        Num(u64),
        Text(std::borrow::Cow<'a, str>),
    }

    /// Accepts `"12"` and `12`, within `T`'s range.
    pub fn deserialize<'de, D: Deserializer<'de>, T>(d: D) -> Result<T, D::Error>
    where
        T: TryFrom<u64> + std::str::FromStr,
        <T as std::str::FromStr>::Err: std::fmt::Display,
    {
        match Raw::deserialize(d)? {
            Raw::Num(n) => {
                T::try_from(n).map_err(|_| serde::de::Error::custom("integer out of range"))
            }
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// `Vector[uint64, N]` as decimal strings.
pub mod quoted_vector {
    use serde::{Deserialize, Deserializer, Serializer};
    use ssz_rs::Vector;

    use super::quoted_list::Item;

    /// Serializes as a sequence of decimal strings.
    pub fn serialize<S: Serializer, const N: usize>(
        v: &Vector<u64, N>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(u64::to_string))
    }

    /// Accepts strings or integers, exactly `N` of them.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<Vector<u64, N>, D::Error> {
        let items = Vec::<Item>::deserialize(d)?;
        Vector::try_from(items.into_iter().map(|i| i.0).collect::<Vec<_>>())
            .map_err(|_| serde::de::Error::custom(format!("not a vector of {N} integers")))
    }
}

/// `Vector[Vector[uint64, N], M]` (Gloas's `ptc_window`) as decimal strings.
pub mod quoted_vectors {
    use serde::{Deserialize, Deserializer, Serializer};
    use ssz_rs::Vector;

    #[derive(Deserialize)]
    struct Row<const N: usize>(#[serde(with = "super::quoted_vector")] Vector<u64, N>);

    /// Serializes as a sequence of sequences of decimal strings.
    pub fn serialize<S: Serializer, const N: usize, const M: usize>(
        v: &Vector<Vector<u64, N>, M>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            v.iter()
                .map(|row| row.iter().map(u64::to_string).collect::<Vec<_>>()),
        )
    }

    /// Accepts strings or integers, `M` rows of `N`.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize, const M: usize>(
        d: D,
    ) -> Result<Vector<Vector<u64, N>, M>, D::Error> {
        let rows = Vec::<Row<N>>::deserialize(d)?;
        Vector::try_from(rows.into_iter().map(|r| r.0).collect::<Vec<_>>())
            .map_err(|_| serde::de::Error::custom(format!("not a vector of {M} rows")))
    }
}

/// `List[uint64, N]` as decimal strings.
pub mod quoted_list {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};
    use ssz_rs::List;

    /// Serializes as a sequence of decimal strings.
    pub fn serialize<S: Serializer, const N: usize>(
        v: &List<u64, N>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v.iter() {
            seq.serialize_element(&x.to_string())?;
        }
        seq.end()
    }

    /// One integer, quoted or not.
    #[derive(Deserialize)]
    pub(crate) struct Item(#[serde(with = "super::quoted")] pub(crate) u64);

    /// Accepts strings or integers.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<List<u64, N>, D::Error> {
        let items = Vec::<Item>::deserialize(d)?;
        items
            .into_iter()
            .map(|i| i.0)
            .collect::<Vec<_>>()
            .try_into()
            .map_err(|_| serde::de::Error::custom("list too long"))
    }
}
