//! gloas containers (EIP-7732 ePBS, with EIP-7688's progressive containers and lists). `C` is
//! `MAX_COMMITTEES_PER_SLOT`, `SYNC` `SYNC_COMMITTEE_SIZE`, `PTC` `PTC_SIZE`. Lists that the spec
//! made progressive have no preset bound any more: gossip validation checks their counts
//! (`verify_block_body_operation_limits`), the wire bounds their bytes.
//!
//! A progressive container is its fields' struct (`ExecutionPayloadBidFields`) wrapped in
//! [`Progressive`], under the spec's name (`ExecutionPayloadBid`); fields read through `Deref`.

use ssz_rs::prelude::*;

mod light_client;
mod state;

pub use light_client::{
    EXECUTION_BRANCH_DEPTH, FINALITY_BRANCH_DEPTH, LightClientBootstrap, LightClientFinalityUpdate,
    LightClientHeader, LightClientOptimisticUpdate, LightClientUpdate, SYNC_COMMITTEE_BRANCH_DEPTH,
};
pub use state::{
    BeaconState, BeaconStateFields, Builder, BuilderPendingPayment, BuilderPendingWithdrawal,
    HISTORICAL_ROOTS_LIMIT,
};

use crate::altair::SyncAggregate;
use crate::capella::{SignedBlsToExecutionChange, Withdrawal};
use crate::electra::{ConsolidationRequest, DepositRequest, WithdrawalRequest};
use crate::phase0::{AttestationData, Deposit, Eth1Data, ProposerSlashing, SignedVoluntaryExit};
use crate::primitives::{
    BlsPubkey, BlsSignature, ByteList, ByteVector, Bytes32, Cell, ExecutionAddress, Hash32,
    KzgCommitment, KzgProof, Root, quoted,
};
use crate::progressive::{
    Progressive, ProgressiveBitlist, ProgressiveByteList, ProgressiveList, quoted_progressive_list,
};
use crate::progressive_fields;

/// `Transaction` (gloas): a `ProgressiveByteList`.
pub type Transaction = ProgressiveByteList;
/// `BUILDER_INDEX_SELF_BUILD`: the bid of a proposer building its own payload.
pub const BUILDER_INDEX_SELF_BUILD: u64 = u64::MAX;

/// `BuilderDepositRequest`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BuilderDepositRequest {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    #[serde(with = "quoted")]
    pub amount: u64,
    pub signature: BlsSignature,
}

/// `BuilderExitRequest`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BuilderExitRequest {
    pub source_address: ExecutionAddress,
    pub pubkey: BlsPubkey,
}

/// The fields of `ExecutionRequests` (gloas): every list progressive, builder requests added.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ExecutionRequestsFields {
    pub deposits: ProgressiveList<DepositRequest>,
    pub withdrawals: ProgressiveList<WithdrawalRequest>,
    pub consolidations: ProgressiveList<ConsolidationRequest>,
    pub builder_deposits: ProgressiveList<BuilderDepositRequest>,
    pub builder_exits: ProgressiveList<BuilderExitRequest>,
}

progressive_fields!([] ExecutionRequestsFields; deposits, withdrawals, consolidations, builder_deposits, builder_exits);
/// `ExecutionRequests` (gloas), a progressive container.
pub type ExecutionRequests = Progressive<ExecutionRequestsFields>;

/// The fields of `ExecutionPayload` (gloas): progressive lists, the block access list and the slot.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ExecutionPayloadFields {
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
    pub transactions: ProgressiveList<Transaction>,
    pub withdrawals: ProgressiveList<Withdrawal>,
    #[serde(with = "quoted")]
    pub blob_gas_used: u64,
    #[serde(with = "quoted")]
    pub excess_blob_gas: u64,
    pub block_access_list: ProgressiveByteList,
    #[serde(with = "quoted")]
    pub slot_number: u64,
}

progressive_fields!([] ExecutionPayloadFields; parent_hash, fee_recipient, state_root, receipts_root, logs_bloom,
    prev_randao, block_number, gas_limit, gas_used, timestamp, extra_data, base_fee_per_gas, block_hash, transactions,
    withdrawals, blob_gas_used, excess_blob_gas, block_access_list, slot_number);
/// `ExecutionPayload` (gloas), a progressive container.
pub type ExecutionPayload = Progressive<ExecutionPayloadFields>;

/// The fields of `ExecutionPayloadEnvelope`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ExecutionPayloadEnvelopeFields {
    pub payload: ExecutionPayload,
    pub execution_requests: ExecutionRequests,
    #[serde(with = "quoted")]
    pub builder_index: u64,
    pub beacon_block_root: Root,
    pub parent_beacon_block_root: Root,
}

progressive_fields!([] ExecutionPayloadEnvelopeFields; payload, execution_requests, builder_index, beacon_block_root, parent_beacon_block_root);
/// `ExecutionPayloadEnvelope`, a progressive container.
pub type ExecutionPayloadEnvelope = Progressive<ExecutionPayloadEnvelopeFields>;

/// `SignedExecutionPayloadEnvelope`: what `execution_payload` carries.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedExecutionPayloadEnvelope {
    pub message: ExecutionPayloadEnvelope,
    pub signature: BlsSignature,
}

/// The fields of `ExecutionPayloadBid` (gloas).
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
}

progressive_fields!([] ExecutionPayloadBidFields; parent_block_hash, parent_block_root, block_hash, prev_randao,
    fee_recipient, gas_limit, builder_index, slot, value, execution_payment, blob_kzg_commitments, execution_requests_root);
/// `ExecutionPayloadBid` (gloas), a progressive container.
pub type ExecutionPayloadBid = Progressive<ExecutionPayloadBidFields>;

/// `SignedExecutionPayloadBid` (gloas): what `execution_payload_bid` carries.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedExecutionPayloadBid {
    pub message: ExecutionPayloadBid,
    pub signature: BlsSignature,
}

/// `PayloadAttestationData`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PayloadAttestationData {
    pub beacon_block_root: Root,
    #[serde(with = "quoted")]
    pub slot: u64,
    pub payload_present: bool,
    pub blob_data_available: bool,
}

/// `PayloadAttestationMessage`: what `payload_attestation_message` carries.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PayloadAttestationMessage {
    #[serde(with = "quoted")]
    pub validator_index: u64,
    pub data: PayloadAttestationData,
    pub signature: BlsSignature,
}

/// The fields of `PayloadAttestation`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PayloadAttestationFields<const PTC: usize> {
    pub aggregation_bits: Bitvector<PTC>,
    pub data: PayloadAttestationData,
    pub signature: BlsSignature,
}

progressive_fields!([const PTC: usize] PayloadAttestationFields<PTC>; aggregation_bits, data, signature);
/// `PayloadAttestation`, a progressive container.
pub type PayloadAttestation<const PTC: usize> = Progressive<PayloadAttestationFields<PTC>>;

/// The fields of `IndexedPayloadAttestation`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct IndexedPayloadAttestationFields<const PTC: usize> {
    #[serde(with = "crate::primitives::quoted_list")]
    pub attesting_indices: List<u64, PTC>,
    pub data: PayloadAttestationData,
    pub signature: BlsSignature,
}

progressive_fields!([const PTC: usize] IndexedPayloadAttestationFields<PTC>; attesting_indices, data, signature);
/// `IndexedPayloadAttestation`, a progressive container.
pub type IndexedPayloadAttestation<const PTC: usize> =
    Progressive<IndexedPayloadAttestationFields<PTC>>;

/// `ProposerPreferences`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ProposerPreferences {
    pub dependent_root: Root,
    #[serde(with = "quoted")]
    pub proposal_slot: u64,
    #[serde(with = "quoted")]
    pub validator_index: u64,
    pub fee_recipient: ExecutionAddress,
    #[serde(with = "quoted")]
    pub target_gas_limit: u64,
}

/// `SignedProposerPreferences`: what `proposer_preferences` carries.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedProposerPreferences {
    pub message: ProposerPreferences,
    pub signature: BlsSignature,
}

/// The fields of `Attestation` (gloas): a progressive bitlist of aggregation bits.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct AttestationFields<const C: usize> {
    pub aggregation_bits: ProgressiveBitlist,
    pub data: AttestationData,
    pub signature: BlsSignature,
    pub committee_bits: Bitvector<C>,
}

progressive_fields!([const C: usize] AttestationFields<C>; aggregation_bits, data, signature, committee_bits);
/// `Attestation` (gloas), a progressive container.
pub type Attestation<const C: usize> = Progressive<AttestationFields<C>>;

/// The fields of `IndexedAttestation` (gloas).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct IndexedAttestationFields {
    #[serde(with = "quoted_progressive_list")]
    pub attesting_indices: ProgressiveList<u64>,
    pub data: AttestationData,
    pub signature: BlsSignature,
}

progressive_fields!([] IndexedAttestationFields; attesting_indices, data, signature);
/// `IndexedAttestation` (gloas), a progressive container.
pub type IndexedAttestation = Progressive<IndexedAttestationFields>;

/// `AttesterSlashing` (gloas).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct AttesterSlashing {
    pub attestation_1: IndexedAttestation,
    pub attestation_2: IndexedAttestation,
}

/// `AggregateAndProof` (gloas).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct AggregateAndProof<const C: usize> {
    #[serde(with = "quoted")]
    pub aggregator_index: u64,
    pub aggregate: Attestation<C>,
    pub selection_proof: BlsSignature,
}

/// `SignedAggregateAndProof` (gloas).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedAggregateAndProof<const C: usize> {
    pub message: AggregateAndProof<C>,
    pub signature: BlsSignature,
}

/// `DataColumnSidecar` (gloas): no header, commitments or inclusion proof; the block's slot and root.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct DataColumnSidecar {
    #[serde(with = "quoted")]
    pub index: u64,
    pub column: ProgressiveList<Cell>,
    pub kzg_proofs: ProgressiveList<KzgProof>,
    #[serde(with = "quoted")]
    pub slot: u64,
    pub beacon_block_root: Root,
}

/// The fields of `BeaconBlockBody` from gloas on: the signed bid instead of the payload, payload
/// attestations, the parent's execution requests. `Bid` is the fork's `SignedExecutionPayloadBid`
/// (heze's commits to inclusion lists).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlockBodyFields<
    const SYNC: usize,
    const C: usize,
    const PTC: usize,
    Bid: SimpleSerialize,
> {
    pub randao_reveal: BlsSignature,
    pub eth1_data: Eth1Data,
    pub graffiti: Bytes32,
    pub proposer_slashings: ProgressiveList<ProposerSlashing>,
    pub attester_slashings: ProgressiveList<AttesterSlashing>,
    pub attestations: ProgressiveList<Attestation<C>>,
    pub deposits: ProgressiveList<Deposit>,
    pub voluntary_exits: ProgressiveList<SignedVoluntaryExit>,
    pub sync_aggregate: SyncAggregate<SYNC>,
    pub bls_to_execution_changes: ProgressiveList<SignedBlsToExecutionChange>,
    pub signed_execution_payload_bid: Bid,
    pub payload_attestations: ProgressiveList<PayloadAttestation<PTC>>,
    pub parent_execution_requests: ExecutionRequests,
}

progressive_fields!([const SYNC: usize, const C: usize, const PTC: usize, Bid: SimpleSerialize]
    BeaconBlockBodyFields<SYNC, C, PTC, Bid>; randao_reveal,
    eth1_data, graffiti, proposer_slashings, attester_slashings, attestations, deposits, voluntary_exits, sync_aggregate,
    bls_to_execution_changes, signed_execution_payload_bid, payload_attestations, parent_execution_requests);
/// `BeaconBlockBody` (gloas), a progressive container.
pub type BeaconBlockBody<const SYNC: usize, const C: usize, const PTC: usize> =
    Progressive<BeaconBlockBodyFields<SYNC, C, PTC, SignedExecutionPayloadBid>>;

/// `BeaconBlock` from gloas on, with the fork's signed bid `Bid`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlock<const SYNC: usize, const C: usize, const PTC: usize, Bid: SimpleSerialize> {
    #[serde(with = "quoted")]
    pub slot: u64,
    #[serde(with = "quoted")]
    pub proposer_index: u64,
    pub parent_root: Root,
    pub state_root: Root,
    pub body: Progressive<BeaconBlockBodyFields<SYNC, C, PTC, Bid>>,
}

/// `SignedBeaconBlock` from gloas on, with the fork's signed bid `Bid`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedBeaconBlock<
    const SYNC: usize,
    const C: usize,
    const PTC: usize,
    Bid: SimpleSerialize,
> {
    pub message: BeaconBlock<SYNC, C, PTC, Bid>,
    pub signature: BlsSignature,
}

/// `PartialDataColumnSidecar` (gloas, `specs/gloas/partial-columns/p2p-interface.md`): fulu's
/// without the header, its lists progressive (EIP-7688). The pinned release keeps fulu's
/// `PartialDataColumnPartsMetadata` (bounded bitlists); consensus-specs after it makes those
/// bitlists progressive too.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PartialDataColumnSidecar {
    pub cells_present_bitmap: ProgressiveBitlist,
    pub partial_column: ProgressiveList<Cell>,
    pub kzg_proofs: ProgressiveList<KzgProof>,
}

/// `PartialDataColumnGroupID` (gloas): the block root and, new in gloas, its slot.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PartialDataColumnGroupID {
    pub beacon_block_root: Root,
    #[serde(with = "quoted")]
    pub slot: u64,
}
