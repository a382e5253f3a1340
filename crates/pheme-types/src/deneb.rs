//! deneb containers: blobs. `B` is `MAX_BLOB_COMMITMENTS_PER_BLOCK`, `DEPTH`
//! `KZG_COMMITMENT_INCLUSION_PROOF_DEPTH`.

use ssz_rs::prelude::*;

use crate::altair::SyncAggregate;
use crate::bellatrix::MAX_TRANSACTIONS_PER_PAYLOAD;
use crate::capella::{SignedBlsToExecutionChange, Withdrawal};
use crate::phase0::{
    Attestation, AttesterSlashing, Deposit, Eth1Data, ProposerSlashing, SignedBeaconBlockHeader,
    SignedVoluntaryExit,
};
use crate::primitives::{
    Blob, BlsSignature, ByteList, ByteVector, Bytes32, ExecutionAddress, Hash32, KzgCommitment,
    KzgProof, Root, Transaction, quoted,
};

/// `ExecutionPayload` (deneb, also electra and fulu).
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
    #[serde(with = "quoted")]
    pub blob_gas_used: u64,
    #[serde(with = "quoted")]
    pub excess_blob_gas: u64,
}

/// `BeaconBlockBody` (deneb).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlockBody<const SYNC: usize, const W: usize, const B: usize> {
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
    pub blob_kzg_commitments: List<KzgCommitment, B>,
}

/// `BeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlock<const SYNC: usize, const W: usize, const B: usize> {
    #[serde(with = "crate::primitives::quoted")]
    pub slot: u64,
    #[serde(with = "crate::primitives::quoted")]
    pub proposer_index: u64,
    pub parent_root: crate::primitives::Root,
    pub state_root: crate::primitives::Root,
    pub body: BeaconBlockBody<SYNC, W, B>,
}

/// `SignedBeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedBeaconBlock<const SYNC: usize, const W: usize, const B: usize> {
    pub message: BeaconBlock<SYNC, W, B>,
    pub signature: crate::primitives::BlsSignature,
}

/// `BlobSidecar` (deneb, electra).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BlobSidecar<const DEPTH: usize> {
    #[serde(with = "quoted")]
    pub index: u64,
    pub blob: Blob,
    pub kzg_commitment: KzgCommitment,
    pub kzg_proof: KzgProof,
    pub signed_block_header: SignedBeaconBlockHeader,
    pub kzg_commitment_inclusion_proof: Vector<Bytes32, DEPTH>,
}

/// `BlobIdentifier`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BlobIdentifier {
    pub block_root: Root,
    #[serde(with = "quoted")]
    pub index: u64,
}
