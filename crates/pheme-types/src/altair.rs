//! altair containers: sync committees. `SYNC` is `SYNC_COMMITTEE_SIZE`, `SUB` its quarter.

use ssz_rs::prelude::*;

use crate::phase0::{
    Attestation, AttesterSlashing, Deposit, Eth1Data, ProposerSlashing, SignedVoluntaryExit,
};
use crate::primitives::{BlsPubkey, BlsSignature, Bytes32, Root, quoted};

/// `SyncAggregate`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SyncAggregate<const SYNC: usize> {
    pub sync_committee_bits: Bitvector<SYNC>,
    pub sync_committee_signature: BlsSignature,
}

/// `SyncCommitteeMessage`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SyncCommitteeMessage {
    #[serde(with = "quoted")]
    pub slot: u64,
    pub beacon_block_root: Root,
    #[serde(with = "quoted")]
    pub validator_index: u64,
    pub signature: BlsSignature,
}

/// `SyncCommitteeContribution`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SyncCommitteeContribution<const SUB: usize> {
    #[serde(with = "quoted")]
    pub slot: u64,
    pub beacon_block_root: Root,
    #[serde(with = "quoted")]
    pub subcommittee_index: u64,
    pub aggregation_bits: Bitvector<SUB>,
    pub signature: BlsSignature,
}

/// `ContributionAndProof`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ContributionAndProof<const SUB: usize> {
    #[serde(with = "quoted")]
    pub aggregator_index: u64,
    pub contribution: SyncCommitteeContribution<SUB>,
    pub selection_proof: BlsSignature,
}

/// `SignedContributionAndProof`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedContributionAndProof<const SUB: usize> {
    pub message: ContributionAndProof<SUB>,
    pub signature: BlsSignature,
}

/// `SyncAggregatorSelectionData`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SyncAggregatorSelectionData {
    #[serde(with = "quoted")]
    pub slot: u64,
    #[serde(with = "quoted")]
    pub subcommittee_index: u64,
}

/// `BeaconBlockBody` (altair).
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

/// `SyncCommittee`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SyncCommittee<const SYNC: usize> {
    pub pubkeys: Vector<BlsPubkey, SYNC>,
    pub aggregate_pubkey: BlsPubkey,
}
