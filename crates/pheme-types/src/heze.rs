//! heze containers (EIP-7805 FOCIL): inclusion lists, and the bid that commits to the
//! inclusion lists its payload satisfies (so the block bodies that carry it). `C`, `SYNC` and
//! `PTC` as in [`crate::gloas`].

use ssz_rs::prelude::*;

use crate::gloas::Transaction;
use crate::primitives::{
    BlsSignature, Bytes32, ExecutionAddress, Hash32, KzgCommitment, Root, quoted,
};
use crate::progressive::{Progressive, ProgressiveList};
use crate::progressive_fields;

/// `INCLUSION_LIST_COMMITTEE_SIZE` (the same in every preset).
pub const INCLUSION_LIST_COMMITTEE_SIZE: usize = 16;

/// `InclusionList`, as the pinned release (eth-consensus-specs 1.7.0a13) defines it. The
/// consensus-specs tree after it renames `inclusion_list_committee_root` to `dependent_root`
/// (same place, same type: the SSZ is unchanged, the JSON key is not).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct InclusionList {
    #[serde(with = "quoted")]
    pub slot: u64,
    #[serde(with = "quoted")]
    pub validator_index: u64,
    pub inclusion_list_committee_root: Root,
    pub transactions: ProgressiveList<Transaction>,
}

/// `SignedInclusionList`: what `inclusion_list` carries.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedInclusionList {
    pub message: InclusionList,
    pub signature: BlsSignature,
}

/// The fields of `ExecutionPayloadBid` (heze): gloas's and the inclusion-list bits.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ExecutionPayloadBidFields {
    pub parent_block_hash: Hash32,
    pub parent_block_root: Root,
    pub block_hash: Hash32,
    pub prev_randao: Bytes32,
    pub fee_recipient: ExecutionAddress,
    #[serde(with = "quoted")]
    pub gas_limit: u64,
    #[serde(with = "quoted")]
    pub builder_index: u64,
    #[serde(with = "quoted")]
    pub slot: u64,
    #[serde(with = "quoted")]
    pub value: u64,
    #[serde(with = "quoted")]
    pub execution_payment: u64,
    pub blob_kzg_commitments: ProgressiveList<KzgCommitment>,
    pub execution_requests_root: Root,
    pub inclusion_list_bits: Bitvector<INCLUSION_LIST_COMMITTEE_SIZE>,
}

progressive_fields!([] ExecutionPayloadBidFields; parent_block_hash, parent_block_root, block_hash, prev_randao,
    fee_recipient, gas_limit, builder_index, slot, value, execution_payment, blob_kzg_commitments, execution_requests_root,
    inclusion_list_bits);
/// `ExecutionPayloadBid` (heze), a progressive container.
pub type ExecutionPayloadBid = Progressive<ExecutionPayloadBidFields>;

/// `SignedExecutionPayloadBid` (heze).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedExecutionPayloadBid {
    pub message: ExecutionPayloadBid,
    pub signature: BlsSignature,
}

/// `BeaconBlockBody` (heze): gloas's, with heze's bid.
pub type BeaconBlockBody<const SYNC: usize, const C: usize, const PTC: usize> =
    Progressive<crate::gloas::BeaconBlockBodyFields<SYNC, C, PTC, SignedExecutionPayloadBid>>;
/// `BeaconBlock` (heze).
pub type BeaconBlock<const SYNC: usize, const C: usize, const PTC: usize> =
    crate::gloas::BeaconBlock<SYNC, C, PTC, SignedExecutionPayloadBid>;
/// `SignedBeaconBlock` (heze).
pub type SignedBeaconBlock<const SYNC: usize, const C: usize, const PTC: usize> =
    crate::gloas::SignedBeaconBlock<SYNC, C, PTC, SignedExecutionPayloadBid>;
