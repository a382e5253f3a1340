//! Fixed-offset SSZ decoders for the fixed-size containers of the busiest topics.
//!
//! `ssz_rs`'s derived `Deserialize` allocates an offset list in every container, even a
//! fixed-size one (a `SingleAttestation` is four containers, so four allocations per message).
//! A fixed-size container has exactly one valid layout: every field at a constant offset and
//! the length equal to the sum of the fields'. These decoders read that layout directly and
//! give the same value as `ssz_rs` for every input (the tests compare them on random bytes).

use pheme_types::altair::SyncCommitteeMessage;
use pheme_types::electra::SingleAttestation;
use pheme_types::phase0::{AttestationData, Checkpoint, SignedVoluntaryExit, VoluntaryExit};
use pheme_types::primitives::ByteVector;
use pheme_types::ssz_rs::DeserializeError;

/// Reads fields front to back from a slice whose length was checked.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn bytes<const K: usize>(&mut self) -> Option<[u8; K]> {
        let (head, rest) = self.0.split_first_chunk::<K>()?;
        self.0 = rest;
        Some(*head)
    }

    fn u64(&mut self) -> Option<u64> {
        self.bytes().map(u64::from_le_bytes)
    }

    fn vector<const K: usize>(&mut self) -> Option<ByteVector<K>> {
        self.bytes().map(ByteVector)
    }

    fn checkpoint(&mut self) -> Option<Checkpoint> {
        Some(Checkpoint {
            epoch: self.u64()?,
            root: self.vector()?,
        })
    }

    fn attestation_data(&mut self) -> Option<AttestationData> {
        Some(AttestationData {
            slot: self.u64()?,
            index: self.u64()?,
            beacon_block_root: self.vector()?,
            source: self.checkpoint()?,
            target: self.checkpoint()?,
        })
    }
}

/// Decodes a fixed-size container of `size` bytes with `read`, or says how the length is wrong
/// (in `ssz_rs`'s words).
fn decode<T>(
    bytes: &[u8],
    size: usize,
    read: impl FnOnce(&mut Cursor<'_>) -> Option<T>,
) -> Result<T, DeserializeError> {
    let wrong_length = || {
        if bytes.len() < size {
            DeserializeError::ExpectedFurtherInput {
                provided: bytes.len(),
                expected: size,
            }
        } else {
            DeserializeError::AdditionalInput {
                provided: bytes.len(),
                expected: size,
            }
        }
    };
    if bytes.len() != size {
        return Err(wrong_length());
    }
    read(&mut Cursor(bytes)).ok_or_else(wrong_length)
}

/// `SingleAttestation` (240 bytes).
pub(crate) fn single_attestation(bytes: &[u8]) -> Result<SingleAttestation, DeserializeError> {
    decode(bytes, 240, |c| {
        Some(SingleAttestation {
            committee_index: c.u64()?,
            attester_index: c.u64()?,
            data: c.attestation_data()?,
            signature: c.vector()?,
        })
    })
}

/// `SyncCommitteeMessage` (144 bytes).
pub(crate) fn sync_committee_message(
    bytes: &[u8],
) -> Result<SyncCommitteeMessage, DeserializeError> {
    decode(bytes, 144, |c| {
        Some(SyncCommitteeMessage {
            slot: c.u64()?,
            beacon_block_root: c.vector()?,
            validator_index: c.u64()?,
            signature: c.vector()?,
        })
    })
}

/// `SignedVoluntaryExit` (112 bytes).
pub(crate) fn signed_voluntary_exit(bytes: &[u8]) -> Result<SignedVoluntaryExit, DeserializeError> {
    decode(bytes, 112, |c| {
        Some(SignedVoluntaryExit {
            message: VoluntaryExit {
                epoch: c.u64()?,
                validator_index: c.u64()?,
            },
            signature: c.vector()?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pheme_types::ssz_rs::{Deserialize, Sized};
    use proptest::prelude::*;

    fn same<T: Deserialize + Sized + PartialEq + std::fmt::Debug>(
        bytes: &[u8],
        fast: fn(&[u8]) -> Result<T, DeserializeError>,
    ) {
        assert_eq!(T::size_hint(), bytes.len());
        assert_eq!(fast(bytes).ok(), T::deserialize(bytes).ok());
        // Any other length is refused by both.
        for len in [0, bytes.len() - 1, bytes.len() + 1] {
            let mut other = bytes.to_vec();
            other.resize(len, 7);
            assert!(fast(&other).is_err());
            assert!(T::deserialize(&other).is_err());
        }
    }

    proptest! {
        #[test]
        fn single_attestation_matches_ssz_rs(bytes in proptest::collection::vec(any::<u8>(), 240)) {
            same(&bytes, single_attestation);
        }

        #[test]
        fn sync_committee_message_matches_ssz_rs(bytes in proptest::collection::vec(any::<u8>(), 144)) {
            same(&bytes, sync_committee_message);
        }

        #[test]
        fn signed_voluntary_exit_matches_ssz_rs(bytes in proptest::collection::vec(any::<u8>(), 112)) {
            same(&bytes, signed_voluntary_exit);
        }
    }
}
