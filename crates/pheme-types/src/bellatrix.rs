//! bellatrix containers: the execution payload.

use ssz_rs::prelude::*;

use crate::altair::SyncAggregate;
use crate::phase0::{
    Attestation, AttesterSlashing, Deposit, Eth1Data, ProposerSlashing, SignedVoluntaryExit,
};
use crate::primitives::{
    BlsSignature, ByteList, ByteVector, Bytes32, ExecutionAddress, Hash32, Transaction, quoted,
};

/// `MAX_TRANSACTIONS_PER_PAYLOAD`.
pub const MAX_TRANSACTIONS_PER_PAYLOAD: usize = 1_048_576;

/// `ExecutionPayload` (bellatrix).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ExecutionPayload {
    pub parent_hash: Hash32,
    pub fee_recipient: ExecutionAddress,
    pub state_root: Bytes32,
    pub receipts_root: Bytes32,
    pub logs_bloom: ByteVector<256>,
    pub prev_randao: Bytes32,
    #[serde(with = "quoted")]
    pub block_number: u64,
    #[serde(with = "quoted")]
    pub gas_limit: u64,
    #[serde(with = "quoted")]
    pub gas_used: u64,
    #[serde(with = "quoted")]
    pub timestamp: u64,
    pub extra_data: ByteList<32>,
    pub base_fee_per_gas: U256,
    pub block_hash: Hash32,
    pub transactions: List<Transaction, MAX_TRANSACTIONS_PER_PAYLOAD>,
}

/// `BeaconBlockBody` (bellatrix).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlockBody<const SYNC: usize> {
    pub randao_reveal: BlsSignature,
    pub eth1_data: Eth1Data,
    pub graffiti: Bytes32,
    pub proposer_slashings: List<ProposerSlashing, 16>,
    pub attester_slashings: List<AttesterSlashing, 2>,
    pub attestations: List<Attestation, 128>,
    pub deposits: List<Deposit, 16>,
    pub voluntary_exits: List<SignedVoluntaryExit, 16>,
    pub sync_aggregate: SyncAggregate<SYNC>,
    pub execution_payload: ExecutionPayload,
}

/// `BeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlock<const SYNC: usize> {
    #[serde(with = "crate::primitives::quoted")]
    pub slot: u64,
    #[serde(with = "crate::primitives::quoted")]
    pub proposer_index: u64,
    pub parent_root: crate::primitives::Root,
    pub state_root: crate::primitives::Root,
    pub body: BeaconBlockBody<SYNC>,
}

/// `SignedBeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedBeaconBlock<const SYNC: usize> {
    pub message: BeaconBlock<SYNC>,
    pub signature: crate::primitives::BlsSignature,
}

/// `PowBlock` (the merge transition's view of a proof-of-work block).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PowBlock {
    pub block_hash: Hash32,
    pub parent_hash: Hash32,
    pub total_difficulty: U256,
}
