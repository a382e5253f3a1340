//! phase0 containers. None depends on the preset: `MAX_VALIDATORS_PER_COMMITTEE` is 2048 in
//! every preset.

use ssz_rs::prelude::*;

use crate::primitives::{
    BlsPubkey, BlsSignature, Bytes32, Domain, Hash32, Root, Version, quoted, quoted_list,
};

/// `MAX_VALIDATORS_PER_COMMITTEE`.
pub const MAX_VALIDATORS_PER_COMMITTEE: usize = 2048;

/// `ForkData`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ForkData {
    pub current_version: Version,
    pub genesis_validators_root: Root,
}

/// `Checkpoint`.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    SimpleSerialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Checkpoint {
    #[serde(with = "quoted")]
    pub epoch: u64,
    pub root: Root,
}

/// `AttestationData`.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    SimpleSerialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct AttestationData {
    #[serde(with = "quoted")]
    pub slot: u64,
    #[serde(with = "quoted")]
    pub index: u64,
    pub beacon_block_root: Root,
    pub source: Checkpoint,
    pub target: Checkpoint,
}

/// `Eth1Data`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Eth1Data {
    pub deposit_root: Root,
    #[serde(with = "quoted")]
    pub deposit_count: u64,
    pub block_hash: Hash32,
}

/// `BeaconBlockHeader`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlockHeader {
    #[serde(with = "quoted")]
    pub slot: u64,
    #[serde(with = "quoted")]
    pub proposer_index: u64,
    pub parent_root: Root,
    pub state_root: Root,
    pub body_root: Root,
}

/// `SignedBeaconBlockHeader`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedBeaconBlockHeader {
    pub message: BeaconBlockHeader,
    pub signature: BlsSignature,
}

/// `SigningData`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SigningData {
    pub object_root: Root,
    pub domain: Domain,
}

/// `VoluntaryExit`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct VoluntaryExit {
    #[serde(with = "quoted")]
    pub epoch: u64,
    #[serde(with = "quoted")]
    pub validator_index: u64,
}

/// `SignedVoluntaryExit`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedVoluntaryExit {
    pub message: VoluntaryExit,
    pub signature: BlsSignature,
}

/// `ProposerSlashing`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct ProposerSlashing {
    pub signed_header_1: SignedBeaconBlockHeader,
    pub signed_header_2: SignedBeaconBlockHeader,
}

/// `IndexedAttestation` (phase0-deneb).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct IndexedAttestation {
    #[serde(with = "quoted_list")]
    pub attesting_indices: List<u64, MAX_VALIDATORS_PER_COMMITTEE>,
    pub data: AttestationData,
    pub signature: BlsSignature,
}

/// `AttesterSlashing` (phase0-deneb).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct AttesterSlashing {
    pub attestation_1: IndexedAttestation,
    pub attestation_2: IndexedAttestation,
}

/// `Attestation` (phase0-deneb).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Attestation {
    pub aggregation_bits: Bitlist<MAX_VALIDATORS_PER_COMMITTEE>,
    pub data: AttestationData,
    pub signature: BlsSignature,
}

/// `AggregateAndProof` (phase0-deneb).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct AggregateAndProof {
    #[serde(with = "quoted")]
    pub aggregator_index: u64,
    pub aggregate: Attestation,
    pub selection_proof: BlsSignature,
}

/// `SignedAggregateAndProof` (phase0-deneb).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedAggregateAndProof {
    pub message: AggregateAndProof,
    pub signature: BlsSignature,
}

/// `DepositData`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct DepositData {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    #[serde(with = "quoted")]
    pub amount: u64,
    pub signature: BlsSignature,
}

/// `Deposit`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Deposit {
    pub proof: Vector<Bytes32, 33>,
    pub data: DepositData,
}

/// `BeaconBlockBody` (phase0).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlockBody {
    pub randao_reveal: BlsSignature,
    pub eth1_data: Eth1Data,
    pub graffiti: Bytes32,
    pub proposer_slashings: List<ProposerSlashing, 16>,
    pub attester_slashings: List<AttesterSlashing, 2>,
    pub attestations: List<Attestation, 128>,
    pub deposits: List<Deposit, 16>,
    pub voluntary_exits: List<SignedVoluntaryExit, 16>,
}

/// `BeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlock {
    #[serde(with = "crate::primitives::quoted")]
    pub slot: u64,
    #[serde(with = "crate::primitives::quoted")]
    pub proposer_index: u64,
    pub parent_root: crate::primitives::Root,
    pub state_root: crate::primitives::Root,
    pub body: BeaconBlockBody,
}

/// `SignedBeaconBlock` of this fork.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct SignedBeaconBlock {
    pub message: BeaconBlock,
    pub signature: crate::primitives::BlsSignature,
}

/// `Fork`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Fork {
    pub previous_version: Version,
    pub current_version: Version,
    #[serde(with = "quoted")]
    pub epoch: u64,
}

/// `Validator`: a registry entry of the beacon state.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Validator {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    #[serde(with = "quoted")]
    pub effective_balance: u64,
    pub slashed: bool,
    #[serde(with = "quoted")]
    pub activation_eligibility_epoch: u64,
    #[serde(with = "quoted")]
    pub activation_epoch: u64,
    #[serde(with = "quoted")]
    pub exit_epoch: u64,
    #[serde(with = "quoted")]
    pub withdrawable_epoch: u64,
}

/// `DepositMessage`: what a deposit's signature signs.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct DepositMessage {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    #[serde(with = "quoted")]
    pub amount: u64,
}

/// `Eth1Block` (the validator guide's view of an eth1 block).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Eth1Block {
    #[serde(with = "quoted")]
    pub timestamp: u64,
    pub deposit_root: Root,
    #[serde(with = "quoted")]
    pub deposit_count: u64,
}
