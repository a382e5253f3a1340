//! electra containers: EIP-7549 attestations and execution requests. `BITS` is
//! `MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT`, `C` is `MAX_COMMITTEES_PER_SLOT`;
//! `D`, `WR`, `CR` the deposit, withdrawal and consolidation request maxima.

use ssz_rs::prelude::*;

use crate::altair::SyncAggregate;
use crate::capella::SignedBlsToExecutionChange;
use crate::deneb::ExecutionPayload;
use crate::phase0::{AttestationData, Deposit, Eth1Data, ProposerSlashing, SignedVoluntaryExit};
use crate::primitives::{
    BlsPubkey, BlsSignature, Bytes32, ExecutionAddress, KzgCommitment, quoted, quoted_list,
};

/// `Attestation` (electra).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Attestation<const BITS: usize, const C: usize> {
    pub aggregation_bits: Bitlist<BITS>,
    pub data: AttestationData,
    pub signature: BlsSignature,
    pub committee_bits: Bitvector<C>,
}

/// `IndexedAttestation` (electra).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct IndexedAttestation<const BITS: usize> {
    #[serde(with = "quoted_list")]
    pub attesting_indices: List<u64, BITS>,
    pub data: AttestationData,
    pub signature: BlsSignature,
}

/// `AttesterSlashing` (electra).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct AttesterSlashing<const BITS: usize> {
    pub attestation_1: IndexedAttestation<BITS>,
    pub attestation_2: IndexedAttestation<BITS>,
}

/// `AggregateAndProof` (electra).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct AggregateAndProof<const BITS: usize, const C: usize> {
    #[serde(with = "quoted")]
    pub aggregator_index: u64,
    pub aggregate: Attestation<BITS, C>,
    pub selection_proof: BlsSignature,
}

/// `SignedAggregateAndProof` (electra).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedAggregateAndProof<const BITS: usize, const C: usize> {
    pub message: AggregateAndProof<BITS, C>,
    pub signature: BlsSignature,
}

/// `SingleAttestation`: what `beacon_attestation_{subnet}` carries from electra on.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SingleAttestation {
    #[serde(with = "quoted")]
    pub committee_index: u64,
    #[serde(with = "quoted")]
    pub attester_index: u64,
    pub data: AttestationData,
    pub signature: BlsSignature,
}

/// `DepositRequest`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct DepositRequest {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    #[serde(with = "quoted")]
    pub amount: u64,
    pub signature: BlsSignature,
    #[serde(with = "quoted")]
    pub index: u64,
}

/// `WithdrawalRequest`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct WithdrawalRequest {
    pub source_address: ExecutionAddress,
    pub validator_pubkey: BlsPubkey,
    #[serde(with = "quoted")]
    pub amount: u64,
}

/// `ConsolidationRequest`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ConsolidationRequest {
    pub source_address: ExecutionAddress,
    pub source_pubkey: BlsPubkey,
    pub target_pubkey: BlsPubkey,
}

/// `ExecutionRequests`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ExecutionRequests<const D: usize, const WR: usize, const CR: usize> {
    pub deposits: List<DepositRequest, D>,
    pub withdrawals: List<WithdrawalRequest, WR>,
    pub consolidations: List<ConsolidationRequest, CR>,
}

/// `BeaconBlockBody` (electra; unchanged in fulu).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlockBody<
    const SYNC: usize,
    const W: usize,
    const B: usize,
    const BITS: usize,
    const C: usize,
    const D: usize,
    const WR: usize,
    const CR: usize,
> {
    pub randao_reveal: BlsSignature,
    pub eth1_data: Eth1Data,
    pub graffiti: Bytes32,
    pub proposer_slashings: List<ProposerSlashing, 16>,
    pub attester_slashings: List<AttesterSlashing<BITS>, 1>,
    pub attestations: List<Attestation<BITS, C>, 8>,
    pub deposits: List<Deposit, 16>,
    pub voluntary_exits: List<SignedVoluntaryExit, 16>,
    pub sync_aggregate: SyncAggregate<SYNC>,
    pub execution_payload: ExecutionPayload<W>,
    pub bls_to_execution_changes: List<SignedBlsToExecutionChange, 16>,
    pub blob_kzg_commitments: List<KzgCommitment, B>,
    pub execution_requests: ExecutionRequests<D, WR, CR>,
}

/// `BeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlock<
    const SYNC: usize,
    const W: usize,
    const B: usize,
    const BITS: usize,
    const C: usize,
    const D: usize,
    const WR: usize,
    const CR: usize,
> {
    #[serde(with = "crate::primitives::quoted")]
    pub slot: u64,
    #[serde(with = "crate::primitives::quoted")]
    pub proposer_index: u64,
    pub parent_root: crate::primitives::Root,
    pub state_root: crate::primitives::Root,
    pub body: BeaconBlockBody<SYNC, W, B, BITS, C, D, WR, CR>,
}

/// `SignedBeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedBeaconBlock<
    const SYNC: usize,
    const W: usize,
    const B: usize,
    const BITS: usize,
    const C: usize,
    const D: usize,
    const WR: usize,
    const CR: usize,
> {
    pub message: BeaconBlock<SYNC, W, B, BITS, C, D, WR, CR>,
    pub signature: crate::primitives::BlsSignature,
}

/// `PendingDeposit`: a deposit queued in the beacon state.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PendingDeposit {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    #[serde(with = "quoted")]
    pub amount: u64,
    pub signature: BlsSignature,
    #[serde(with = "quoted")]
    pub slot: u64,
}

/// `PendingPartialWithdrawal`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PendingPartialWithdrawal {
    #[serde(with = "quoted")]
    pub validator_index: u64,
    #[serde(with = "quoted")]
    pub amount: u64,
    #[serde(with = "quoted")]
    pub withdrawable_epoch: u64,
}

/// `PendingConsolidation`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct PendingConsolidation {
    #[serde(with = "quoted")]
    pub source_index: u64,
    #[serde(with = "quoted")]
    pub target_index: u64,
}
