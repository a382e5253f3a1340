//! fulu containers: PeerDAS data columns, and the partial columns that carry their cells as
//! gossipsub partial messages (`specs/fulu/partial-columns/p2p-interface.md`). `B` is
//! `MAX_BLOB_COMMITMENTS_PER_BLOCK`.

use ssz_rs::prelude::*;

use crate::phase0::SignedBeaconBlockHeader;
use crate::primitives::{Bytes32, Cell, KzgCommitment, KzgProof, Root, quoted, quoted_list};

/// `NUMBER_OF_COLUMNS`.
pub const NUMBER_OF_COLUMNS: usize = 128;
/// `KZG_COMMITMENTS_INCLUSION_PROOF_DEPTH`.
pub const KZG_COMMITMENTS_INCLUSION_PROOF_DEPTH: usize = 4;

/// `DataColumnSidecar`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct DataColumnSidecar<const B: usize> {
    #[serde(with = "quoted")]
    pub index: u64,
    pub column: List<Cell, B>,
    pub kzg_commitments: List<KzgCommitment, B>,
    pub kzg_proofs: List<KzgProof, B>,
    pub signed_block_header: SignedBeaconBlockHeader,
    pub kzg_commitments_inclusion_proof: Vector<Bytes32, KZG_COMMITMENTS_INCLUSION_PROOF_DEPTH>,
}

/// `DataColumnsByRootIdentifier`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct DataColumnsByRootIdentifier {
    pub block_root: Root,
    #[serde(with = "quoted_list")]
    pub columns: List<u64, NUMBER_OF_COLUMNS>,
}

/// `CellsBitList`: one bit per blob of a column (`BitList[MAX_BLOB_COMMITMENTS_PER_BLOCK]`).
pub type CellsBitList<const B: usize> = Bitlist<B>;

/// `PartialDataColumnHeader`: what every column of a block shares, enough to check its cells.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PartialDataColumnHeader<const B: usize> {
    pub kzg_commitments: List<KzgCommitment, B>,
    pub signed_block_header: SignedBeaconBlockHeader,
    pub kzg_commitments_inclusion_proof: Vector<Bytes32, KZG_COMMITMENTS_INCLUSION_PROOF_DEPTH>,
}

/// `PartialDataColumnSidecar`: the cells (and proofs) of a column its bitmap names; the
/// header (`OptionalPartialDataColumnHeader`, a list of at most one) only on eager pushes.
/// The column index is the topic's.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PartialDataColumnSidecar<const B: usize> {
    pub cells_present_bitmap: CellsBitList<B>,
    pub partial_column: List<Cell, B>,
    pub kzg_proofs: List<KzgProof, B>,
    pub header: List<PartialDataColumnHeader<B>, 1>,
}

/// `PartialDataColumnPartsMetadata`: per cell, `available` (has it, will provide it) and
/// `requests` (wants it); both of the column's length.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PartialDataColumnPartsMetadata<const B: usize> {
    pub available: CellsBitList<B>,
    pub requests: CellsBitList<B>,
}

/// `PartialDataColumnGroupID`: the block a partial message's column belongs to (on the wire,
/// after a version byte `0x00`).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PartialDataColumnGroupID {
    pub beacon_block_root: Root,
}

/// `MatrixEntry`: one cell of the extended blob matrix, with its proof and place.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct MatrixEntry {
    pub cell: Cell,
    pub kzg_proof: KzgProof,
    #[serde(with = "quoted")]
    pub column_index: u64,
    #[serde(with = "quoted")]
    pub row_index: u64,
}
