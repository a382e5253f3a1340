//! The gloas light client containers: the header proves the payload's block hash (from the
//! bid in the block body) instead of carrying an execution payload header. Branch depths are
//! those of gloas's progressive `BeaconState` and `BeaconBlockBody`. `SYNC` is
//! `SYNC_COMMITTEE_SIZE`.

use ssz_rs::prelude::*;

use crate::altair::{SyncAggregate, SyncCommittee};
use crate::phase0::BeaconBlockHeader;
use crate::primitives::{Bytes32, Hash32, quoted};

/// `floorlog2(EXECUTION_BLOCK_HASH_GINDEX_GLOAS)`: the depth of `ExecutionBranch`.
pub const EXECUTION_BRANCH_DEPTH: usize = 11;
/// `floorlog2(CURRENT_SYNC_COMMITTEE_GINDEX_GLOAS)` (the next committee's is as deep).
pub const SYNC_COMMITTEE_BRANCH_DEPTH: usize = 11;
/// `floorlog2(FINALIZED_ROOT_GINDEX_GLOAS)`: the depth of `FinalityBranch`.
pub const FINALITY_BRANCH_DEPTH: usize = 9;

/// `LightClientHeader` (gloas).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct LightClientHeader {
    pub beacon: BeaconBlockHeader,
    pub execution_block_hash: Hash32,
    pub execution_branch: Vector<Bytes32, EXECUTION_BRANCH_DEPTH>,
}

/// `LightClientBootstrap` (gloas).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct LightClientBootstrap<const SYNC: usize> {
    pub header: LightClientHeader,
    pub current_sync_committee: SyncCommittee<SYNC>,
    pub current_sync_committee_branch: Vector<Bytes32, SYNC_COMMITTEE_BRANCH_DEPTH>,
}

/// `LightClientUpdate` (gloas).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct LightClientUpdate<const SYNC: usize> {
    pub attested_header: LightClientHeader,
    pub next_sync_committee: SyncCommittee<SYNC>,
    pub next_sync_committee_branch: Vector<Bytes32, SYNC_COMMITTEE_BRANCH_DEPTH>,
    pub finalized_header: LightClientHeader,
    pub finality_branch: Vector<Bytes32, FINALITY_BRANCH_DEPTH>,
    pub sync_aggregate: SyncAggregate<SYNC>,
    #[serde(with = "quoted")]
    pub signature_slot: u64,
}

/// `LightClientFinalityUpdate` (gloas).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct LightClientFinalityUpdate<const SYNC: usize> {
    pub attested_header: LightClientHeader,
    pub finalized_header: LightClientHeader,
    pub finality_branch: Vector<Bytes32, FINALITY_BRANCH_DEPTH>,
    pub sync_aggregate: SyncAggregate<SYNC>,
    #[serde(with = "quoted")]
    pub signature_slot: u64,
}

/// `LightClientOptimisticUpdate` (gloas).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct LightClientOptimisticUpdate<const SYNC: usize> {
    pub attested_header: LightClientHeader,
    pub sync_aggregate: SyncAggregate<SYNC>,
    #[serde(with = "quoted")]
    pub signature_slot: u64,
}
