//! The bytes of Fulu partial columns: group IDs, parts metadata, partial sidecars.

use fixedbitset::FixedBitSet;
use pheme_types::fulu::{
    PartialDataColumnGroupID, PartialDataColumnPartsMetadata, PartialDataColumnSidecar,
};
use pheme_types::ssz_rs::{self, Bitlist};

use super::PartialColumnError;

/// The version byte of every group ID the spec defines so far.
pub const GROUP_ID_VERSION: u8 = 0x00;

/// A version-0 group ID's length: the version byte and `SSZ(PartialDataColumnGroupID)`.
pub const GROUP_ID_LEN: usize = 1 + 32;

/// Bytes of a cell (`BYTES_PER_CELL`).
pub const BYTES_PER_CELL: usize = 2048;

/// Bytes of a KZG commitment or proof.
const BYTES_PER_PROOF: usize = 48;

/// The group ID of a block's column on every `data_column_sidecar_{subnet}` topic:
/// `0x00 || SSZ(PartialDataColumnGroupID{beacon_block_root})`.
pub fn encode_group_id(beacon_block_root: [u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(GROUP_ID_LEN);
    out.push(GROUP_ID_VERSION);
    out.extend_from_slice(&beacon_block_root);
    out
}

/// The block root of a group ID. An unknown version is an IGNORE (the spec: implementations
/// MUST ignore unknown versions), a version-0 ID of another length a REJECT.
pub fn decode_group_id(bytes: &[u8]) -> Result<[u8; 32], PartialColumnError> {
    match bytes.first() {
        None => Err(PartialColumnError::GroupIdLength { len: 0 }),
        Some(&GROUP_ID_VERSION) => {
            let id: PartialDataColumnGroupID = pheme_types::decode_untrusted(&bytes[1..])
                .map_err(|_| PartialColumnError::GroupIdLength { len: bytes.len() })?;
            Ok(id.beacon_block_root.0)
        }
        Some(&version) => Err(PartialColumnError::UnknownGroupVersion { version }),
    }
}

/// A peer's (or our) parts metadata: per cell, whether it is available and whether it is
/// requested. Both have the column's length (the block's blob count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartsMetadata {
    available: FixedBitSet,
    requests: FixedBitSet,
}

impl PartsMetadata {
    /// Metadata over `len` cells, nothing available, nothing requested.
    pub fn new(len: usize) -> Self {
        PartsMetadata {
            available: FixedBitSet::with_capacity(len),
            requests: FixedBitSet::with_capacity(len),
        }
    }

    /// The column's length (cells described).
    pub fn len(&self) -> usize {
        self.available.len()
    }

    /// Whether it describes no cell.
    pub fn is_empty(&self) -> bool {
        self.available.is_empty()
    }

    /// Whether cell `i` is available (state `1X`).
    pub fn has(&self, i: usize) -> bool {
        self.available.contains(i)
    }

    /// Whether cell `i` is wanted (state `01`: requested and not available).
    pub fn wants(&self, i: usize) -> bool {
        self.requests.contains(i) && !self.available.contains(i)
    }

    /// Marks cell `i` available (or not).
    pub fn set_available(&mut self, i: usize, value: bool) {
        if i < self.len() {
            self.available.set(i, value);
        }
    }

    /// Marks cell `i` requested (or not).
    pub fn set_requested(&mut self, i: usize, value: bool) {
        if i < self.len() {
            self.requests.set(i, value);
        }
    }

    /// The cells available, ascending.
    pub fn available_cells(&self) -> impl Iterator<Item = usize> + '_ {
        self.available.ones()
    }

    /// The cells wanted, ascending.
    pub fn wanted_cells(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|i| self.wants(*i))
    }

    /// `SSZ(PartialDataColumnPartsMetadata)`; `B` is `MAX_BLOB_COMMITMENTS_PER_BLOCK`.
    pub fn encode<const B: usize>(&self) -> Result<Vec<u8>, PartialColumnError> {
        let bits = |set: &FixedBitSet| -> Result<Bitlist<B>, PartialColumnError> {
            let bools: Vec<bool> = (0..set.len()).map(|i| set.contains(i)).collect();
            Bitlist::try_from(bools.as_slice()).map_err(|_| PartialColumnError::TooManyCells {
                count: set.len(),
                max: B,
            })
        };
        let value = PartialDataColumnPartsMetadata::<B> {
            available: bits(&self.available)?,
            requests: bits(&self.requests)?,
        };
        ssz_rs::serialize(&value).map_err(|_| PartialColumnError::TooManyCells {
            count: self.len(),
            max: B,
        })
    }

    /// Decodes `SSZ(PartialDataColumnPartsMetadata)`: bounded by `B` before any allocation,
    /// both bitlists of one length.
    pub fn decode<const B: usize>(bytes: &[u8]) -> Result<PartsMetadata, PartialColumnError> {
        // Two offsets and two bitlists of at most B bits, each with its delimiting bit.
        let max = 8 + 2 * (B / 8 + 1);
        if bytes.len() > max {
            return Err(PartialColumnError::TooLong {
                what: "parts metadata",
                len: bytes.len(),
                max,
            });
        }
        let value: PartialDataColumnPartsMetadata<B> = pheme_types::decode_untrusted(bytes)
            .map_err(|e| PartialColumnError::Undecodable {
                what: "parts metadata",
                source: e,
            })?;
        let (a, r) = (value.available.len(), value.requests.len());
        if a != r {
            return Err(PartialColumnError::MetadataLengths {
                available: a,
                requests: r,
            });
        }
        let set = |b: &Bitlist<B>| {
            let mut s = FixedBitSet::with_capacity(b.len());
            s.extend(
                b.iter()
                    .by_vals()
                    .enumerate()
                    .filter(|(_, v)| *v)
                    .map(|(i, _)| i),
            );
            s
        };
        Ok(PartsMetadata {
            available: set(&value.available),
            requests: set(&value.requests),
        })
    }
}

/// The largest `SSZ(PartialDataColumnSidecar)` carrying `max_cells` cells and a header
/// with `max_cells` commitments: what [`decode_partial_sidecar`] accepts at most.
pub fn partial_sidecar_max_len(max_cells: usize) -> usize {
    // Four offsets; the bitlist; cells and proofs; the header list's offset and one header:
    // an offset, the signed block header (208), the inclusion proof (4 * 32), the commitments.
    let header = 4 + 208 + 4 * 32 + max_cells * BYTES_PER_PROOF;
    4 * 4 + (max_cells / 8 + 1) + max_cells * (BYTES_PER_CELL + BYTES_PER_PROOF) + 4 + header
}

/// Decodes a partial sidecar received on a `data_column_sidecar_{subnet}` topic, refusing
/// anything longer than `max_cells` cells could make before decoding (so before allocating).
pub fn decode_partial_sidecar<const B: usize>(
    bytes: &[u8],
    max_cells: usize,
) -> Result<PartialDataColumnSidecar<B>, PartialColumnError> {
    let max = partial_sidecar_max_len(max_cells.min(B));
    if bytes.len() > max {
        return Err(PartialColumnError::TooLong {
            what: "partial sidecar",
            len: bytes.len(),
            max,
        });
    }
    pheme_types::decode_untrusted(bytes).map_err(|e| PartialColumnError::Undecodable {
        what: "partial sidecar",
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_round_trip_and_refuse_other_versions_and_lengths() {
        let root = [7u8; 32];
        let id = encode_group_id(root);
        assert_eq!(id.len(), GROUP_ID_LEN);
        assert_eq!(decode_group_id(&id), Ok(root));
        let mut v1 = id.clone();
        v1[0] = 1;
        assert_eq!(
            decode_group_id(&v1),
            Err(PartialColumnError::UnknownGroupVersion { version: 1 })
        );
        assert!(matches!(
            decode_group_id(&id[..20]),
            Err(PartialColumnError::GroupIdLength { len: 20 })
        ));
        assert!(decode_group_id(&[]).is_err());
    }

    #[test]
    fn metadata_round_trips_and_refuses_mismatched_lengths() {
        let mut m = PartsMetadata::new(6);
        m.set_available(1, true);
        m.set_available(4, true);
        m.set_requested(2, true);
        m.set_requested(4, true);
        let bytes = m.encode::<4096>().unwrap();
        let back = PartsMetadata::decode::<4096>(&bytes).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.available_cells().collect::<Vec<_>>(), [1, 4]);
        assert_eq!(back.wanted_cells().collect::<Vec<_>>(), [2]);
        let odd = PartialDataColumnPartsMetadata::<4096> {
            available: Bitlist::try_from([true, false].as_slice()).unwrap(),
            requests: Bitlist::try_from([true, false, true].as_slice()).unwrap(),
        };
        let bytes = ssz_rs::serialize(&odd).unwrap();
        assert_eq!(
            PartsMetadata::decode::<4096>(&bytes),
            Err(PartialColumnError::MetadataLengths {
                available: 2,
                requests: 3
            })
        );
        assert!(PartsMetadata::decode::<4096>(&[0xff; 3]).is_err());
        assert!(PartsMetadata::decode::<4096>(&vec![0; 100_000]).is_err());
    }
}
