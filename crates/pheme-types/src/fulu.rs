//! fulu containers: PeerDAS data columns. `B` is `MAX_BLOB_COMMITMENTS_PER_BLOCK`.

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
