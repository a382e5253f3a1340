//! capella containers: withdrawals and BLS-to-execution changes. `W` is
//! `MAX_WITHDRAWALS_PER_PAYLOAD`.

use ssz_rs::prelude::*;

use crate::altair::SyncAggregate;
use crate::bellatrix::MAX_TRANSACTIONS_PER_PAYLOAD;
use crate::phase0::{
    Attestation, AttesterSlashing, Deposit, Eth1Data, ProposerSlashing, SignedVoluntaryExit,
};
use crate::primitives::{
    BlsPubkey, BlsSignature, ByteList, ByteVector, Bytes32, ExecutionAddress, Hash32, Root,
    Transaction, quoted,
};

/// `Withdrawal`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Withdrawal {
    #[serde(with = "quoted")]
    pub index: u64,
    #[serde(with = "quoted")]
    pub validator_index: u64,
    pub address: ExecutionAddress,
    #[serde(with = "quoted")]
    pub amount: u64,
}

/// `BLSToExecutionChange`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BlsToExecutionChange {
    #[serde(with = "quoted")]
    pub validator_index: u64,
    pub from_bls_pubkey: BlsPubkey,
    pub to_execution_address: ExecutionAddress,
}

/// `SignedBLSToExecutionChange`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedBlsToExecutionChange {
    pub message: BlsToExecutionChange,
    pub signature: BlsSignature,
}

/// `ExecutionPayload` (capella).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ExecutionPayload<const W: usize> {
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
    pub withdrawals: List<Withdrawal, W>,
}

/// `BeaconBlockBody` (capella).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlockBody<const SYNC: usize, const W: usize> {
    pub randao_reveal: BlsSignature,
    pub eth1_data: Eth1Data,
    pub graffiti: Bytes32,
    pub proposer_slashings: List<ProposerSlashing, 16>,
    pub attester_slashings: List<AttesterSlashing, 2>,
    pub attestations: List<Attestation, 128>,
    pub deposits: List<Deposit, 16>,
    pub voluntary_exits: List<SignedVoluntaryExit, 16>,
    pub sync_aggregate: SyncAggregate<SYNC>,
    pub execution_payload: ExecutionPayload<W>,
    pub bls_to_execution_changes: List<SignedBlsToExecutionChange, 16>,
}

/// `BeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlock<const SYNC: usize, const W: usize> {
    #[serde(with = "crate::primitives::quoted")]
    pub slot: u64,
    #[serde(with = "crate::primitives::quoted")]
    pub proposer_index: u64,
    pub parent_root: crate::primitives::Root,
    pub state_root: crate::primitives::Root,
    pub body: BeaconBlockBody<SYNC, W>,
}

/// `SignedBeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedBeaconBlock<const SYNC: usize, const W: usize> {
    pub message: BeaconBlock<SYNC, W>,
    pub signature: crate::primitives::BlsSignature,
}

/// `HistoricalSummary`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct HistoricalSummary {
    pub block_summary_root: Root,
    pub state_summary_root: Root,
}
