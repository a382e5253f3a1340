//! The anchor `BeaconState` of the deneb, electra and fulu networking vectors, with the minimal
//! preset's sizes, written field by field as the spec writes it (deneb `beacon-chain.md`,
//! electra and fulu `beacon-chain.md`), and [`AnchorState`]: the parts the gossip checks read.

pub(crate) use pheme_types::capella::HistoricalSummary;
pub(crate) use pheme_types::electra::{
    PendingConsolidation, PendingDeposit, PendingPartialWithdrawal,
};
pub(crate) use pheme_types::phase0::{BeaconBlockHeader, Checkpoint, Eth1Data, Fork, Validator};
use pheme_types::primitives::{ByteList, ByteVector, Bytes32, Root};
use ssz_rs::prelude::*;

/// `VALIDATOR_REGISTRY_LIMIT`.
const VRL: usize = 1_099_511_627_776;
/// `HISTORICAL_ROOTS_LIMIT`.
pub(crate) const HRL: usize = 16_777_216;
/// `SLOTS_PER_HISTORICAL_ROOT` (minimal).
pub(crate) const SHR: usize = 64;
/// `(MIN_SEED_LOOKAHEAD + 1) * SLOTS_PER_EPOCH` (minimal): the fulu proposer lookahead.
const PROPOSER_LOOKAHEAD: usize = 16;
/// `EPOCHS_PER_HISTORICAL_VECTOR` (minimal).
pub(crate) const EPOCHS_PER_HISTORICAL_VECTOR: usize = 64;
/// `EPOCHS_PER_SLASHINGS_VECTOR` (minimal).
pub(crate) const ESV: usize = 64;
/// `EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH` (minimal).
pub(crate) const ETH1_VOTES: usize = 32;
/// `SYNC_COMMITTEE_SIZE` (minimal).
pub(crate) const SYNC_COMMITTEE_SIZE: usize = 32;
/// `PENDING_DEPOSITS_LIMIT`.
const PDL: usize = 134_217_728;
/// `PENDING_PARTIAL_WITHDRAWALS_LIMIT` (minimal).
const PPWL: usize = 64;
/// `PENDING_CONSOLIDATIONS_LIMIT` (minimal).
const PCL: usize = 64;

/// `SyncCommittee` (minimal).
pub(crate) type SyncCommittee = pheme_types::altair::SyncCommittee<SYNC_COMMITTEE_SIZE>;

/// `ExecutionPayloadHeader` (deneb, unchanged in electra).
#[derive(Debug, Clone, PartialEq, Eq, Default, SimpleSerialize)]
#[allow(missing_docs)] // the spec's fields
pub struct ExecutionPayloadHeader {
    pub parent_hash: Bytes32,
    pub fee_recipient: ByteVector<20>,
    pub state_root: Bytes32,
    pub receipts_root: Bytes32,
    pub logs_bloom: ByteVector<256>,
    pub prev_randao: Bytes32,
    pub block_number: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub timestamp: u64,
    pub extra_data: ByteList<32>,
    pub base_fee_per_gas: U256,
    pub block_hash: Bytes32,
    pub transactions_root: Root,
    pub withdrawals_root: Root,
    pub blob_gas_used: u64,
    pub excess_blob_gas: u64,
}

/// `BeaconState` (deneb, minimal preset).
#[derive(Debug, Clone, PartialEq, Eq, Default, SimpleSerialize)]
#[allow(missing_docs)] // the spec's fields
pub struct DenebBeaconState {
    pub genesis_time: u64,
    pub genesis_validators_root: Root,
    pub slot: u64,
    pub fork: Fork,
    pub latest_block_header: BeaconBlockHeader,
    pub block_roots: Vector<Root, SHR>,
    pub state_roots: Vector<Root, SHR>,
    pub historical_roots: List<Root, HRL>,
    pub eth1_data: Eth1Data,
    pub eth1_data_votes: List<Eth1Data, ETH1_VOTES>,
    pub eth1_deposit_index: u64,
    pub validators: List<Validator, VRL>,
    pub balances: List<u64, VRL>,
    pub randao_mixes: Vector<Bytes32, EPOCHS_PER_HISTORICAL_VECTOR>,
    pub slashings: Vector<u64, ESV>,
    pub previous_epoch_participation: List<u8, VRL>,
    pub current_epoch_participation: List<u8, VRL>,
    pub justification_bits: Bitvector<4>,
    pub previous_justified_checkpoint: Checkpoint,
    pub current_justified_checkpoint: Checkpoint,
    pub finalized_checkpoint: Checkpoint,
    pub inactivity_scores: List<u64, VRL>,
    pub current_sync_committee: SyncCommittee,
    pub next_sync_committee: SyncCommittee,
    pub latest_execution_payload_header: ExecutionPayloadHeader,
    pub next_withdrawal_index: u64,
    pub next_withdrawal_validator_index: u64,
    pub historical_summaries: List<HistoricalSummary, HRL>,
}

/// `BeaconState` (electra, minimal preset).
#[derive(Debug, Clone, PartialEq, Eq, Default, SimpleSerialize)]
#[allow(missing_docs)] // the spec's fields
pub struct ElectraBeaconState {
    pub genesis_time: u64,
    pub genesis_validators_root: Root,
    pub slot: u64,
    pub fork: Fork,
    pub latest_block_header: BeaconBlockHeader,
    pub block_roots: Vector<Root, SHR>,
    pub state_roots: Vector<Root, SHR>,
    pub historical_roots: List<Root, HRL>,
    pub eth1_data: Eth1Data,
    pub eth1_data_votes: List<Eth1Data, ETH1_VOTES>,
    pub eth1_deposit_index: u64,
    pub validators: List<Validator, VRL>,
    pub balances: List<u64, VRL>,
    pub randao_mixes: Vector<Bytes32, EPOCHS_PER_HISTORICAL_VECTOR>,
    pub slashings: Vector<u64, ESV>,
    pub previous_epoch_participation: List<u8, VRL>,
    pub current_epoch_participation: List<u8, VRL>,
    pub justification_bits: Bitvector<4>,
    pub previous_justified_checkpoint: Checkpoint,
    pub current_justified_checkpoint: Checkpoint,
    pub finalized_checkpoint: Checkpoint,
    pub inactivity_scores: List<u64, VRL>,
    pub current_sync_committee: SyncCommittee,
    pub next_sync_committee: SyncCommittee,
    pub latest_execution_payload_header: ExecutionPayloadHeader,
    pub next_withdrawal_index: u64,
    pub next_withdrawal_validator_index: u64,
    pub historical_summaries: List<HistoricalSummary, HRL>,
    pub deposit_requests_start_index: u64,
    pub deposit_balance_to_consume: u64,
    pub exit_balance_to_consume: u64,
    pub earliest_exit_epoch: u64,
    pub consolidation_balance_to_consume: u64,
    pub earliest_consolidation_epoch: u64,
    pub pending_deposits: List<PendingDeposit, PDL>,
    pub pending_partial_withdrawals: List<PendingPartialWithdrawal, PPWL>,
    pub pending_consolidations: List<PendingConsolidation, PCL>,
}

/// `BeaconState` (fulu, minimal preset): electra's and the proposer lookahead.
#[derive(Debug, Clone, PartialEq, Eq, Default, SimpleSerialize)]
#[allow(missing_docs)] // the spec's fields
pub struct FuluBeaconState {
    pub genesis_time: u64,
    pub genesis_validators_root: Root,
    pub slot: u64,
    pub fork: Fork,
    pub latest_block_header: BeaconBlockHeader,
    pub block_roots: Vector<Root, SHR>,
    pub state_roots: Vector<Root, SHR>,
    pub historical_roots: List<Root, HRL>,
    pub eth1_data: Eth1Data,
    pub eth1_data_votes: List<Eth1Data, ETH1_VOTES>,
    pub eth1_deposit_index: u64,
    pub validators: List<Validator, VRL>,
    pub balances: List<u64, VRL>,
    pub randao_mixes: Vector<Bytes32, EPOCHS_PER_HISTORICAL_VECTOR>,
    pub slashings: Vector<u64, ESV>,
    pub previous_epoch_participation: List<u8, VRL>,
    pub current_epoch_participation: List<u8, VRL>,
    pub justification_bits: Bitvector<4>,
    pub previous_justified_checkpoint: Checkpoint,
    pub current_justified_checkpoint: Checkpoint,
    pub finalized_checkpoint: Checkpoint,
    pub inactivity_scores: List<u64, VRL>,
    pub current_sync_committee: SyncCommittee,
    pub next_sync_committee: SyncCommittee,
    pub latest_execution_payload_header: ExecutionPayloadHeader,
    pub next_withdrawal_index: u64,
    pub next_withdrawal_validator_index: u64,
    pub historical_summaries: List<HistoricalSummary, HRL>,
    pub deposit_requests_start_index: u64,
    pub deposit_balance_to_consume: u64,
    pub exit_balance_to_consume: u64,
    pub earliest_exit_epoch: u64,
    pub consolidation_balance_to_consume: u64,
    pub earliest_consolidation_epoch: u64,
    pub pending_deposits: List<PendingDeposit, PDL>,
    pub pending_partial_withdrawals: List<PendingPartialWithdrawal, PPWL>,
    pub pending_consolidations: List<PendingConsolidation, PCL>,
    pub proposer_lookahead: Vector<u64, PROPOSER_LOOKAHEAD>,
}

/// Why an anchor state was not usable.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The bytes are not the fork's `BeaconState`.
    #[error("the {fork} BeaconState does not decode")]
    Decode {
        /// The case's fork.
        fork: &'static str,
        /// The decoder's error.
        #[source]
        source: ssz_rs::DeserializeError,
    },
    /// The state's `hash_tree_root` could not be computed.
    #[error("hash_tree_root of the BeaconState")]
    Root(#[source] ssz_rs::MerkleizationError),
    /// Only deneb, electra, fulu, gloas and heze states are known.
    #[error("no BeaconState for fork {0}")]
    UnknownFork(String),
}

/// What the gossip checks read of the anchor state, for either fork.
#[derive(Debug, Clone)]
pub struct AnchorState {
    /// Whether the state is electra's (its proposer sampling).
    pub electra: bool,
    /// `genesis_time`.
    pub genesis_time: u64,
    /// `genesis_validators_root`.
    pub genesis_validators_root: [u8; 32],
    /// `slot`.
    pub slot: u64,
    /// `fork`.
    pub fork: Fork,
    /// `validators`.
    pub validators: Vec<Validator>,
    /// `randao_mixes`.
    pub randao_mixes: Vec<[u8; 32]>,
    /// `current_sync_committee.pubkeys`.
    pub current_sync_committee: Vec<[u8; 48]>,
    /// `next_sync_committee.pubkeys`.
    pub next_sync_committee: Vec<[u8; 48]>,
    /// `hash_tree_root(state)`.
    pub root: [u8; 32],
    /// `proposer_lookahead` (fulu): the proposers of the state's epoch and the next, by slot.
    pub proposer_lookahead: Vec<u64>,
    /// What a Gloas state adds (builders, PTC window, latest block hash).
    pub gloas: Option<super::gloas_state::GloasAnchor>,
}

macro_rules! anchor_from {
    ($s:expr, $electra:expr, $lookahead:expr) => {{
        let mut s = $s;
        let root = s.hash_tree_root().map_err(StateError::Root)?;
        let mut root_bytes = [0u8; 32];
        root_bytes.copy_from_slice(root.as_ref());
        AnchorState {
            electra: $electra,
            genesis_time: s.genesis_time,
            genesis_validators_root: s.genesis_validators_root.0,
            slot: s.slot,
            fork: s.fork.clone(),
            validators: s.validators.iter().cloned().collect(),
            randao_mixes: s.randao_mixes.iter().map(|m| m.0).collect(),
            current_sync_committee: s
                .current_sync_committee
                .pubkeys
                .iter()
                .map(|p| p.0)
                .collect(),
            next_sync_committee: s.next_sync_committee.pubkeys.iter().map(|p| p.0).collect(),
            root: root_bytes,
            #[allow(clippy::redundant_closure_call)]
            proposer_lookahead: ($lookahead)(&s),
            gloas: None,
        }
    }};
}

/// [`anchor_from`] for a Gloas or Heze state, with its Gloas parts.
macro_rules! gloas_anchor {
    ($s:expr, $ty:ty, $heze:expr) => {{
        let gloas = super::gloas_state::GloasAnchor::of(&$s, $heze);
        let mut anchor = anchor_from!($s, true, |s: &$ty| s
            .proposer_lookahead
            .iter()
            .copied()
            .collect());
        anchor.gloas = Some(gloas);
        anchor
    }};
}

impl AnchorState {
    /// Decodes the `fork`'s (minimal) `BeaconState` from SSZ bytes.
    pub fn decode(fork: &str, ssz: &[u8]) -> Result<AnchorState, StateError> {
        Ok(match fork {
            "deneb" => {
                let s =
                    DenebBeaconState::deserialize(ssz).map_err(|source| StateError::Decode {
                        fork: "deneb",
                        source,
                    })?;
                anchor_from!(s, false, |_: &DenebBeaconState| Vec::new())
            }
            "electra" => {
                let s =
                    ElectraBeaconState::deserialize(ssz).map_err(|source| StateError::Decode {
                        fork: "electra",
                        source,
                    })?;
                anchor_from!(s, true, |_: &ElectraBeaconState| Vec::new())
            }
            "fulu" => {
                let s = FuluBeaconState::deserialize(ssz).map_err(|source| StateError::Decode {
                    fork: "fulu",
                    source,
                })?;
                anchor_from!(s, true, |s: &FuluBeaconState| s
                    .proposer_lookahead
                    .iter()
                    .copied()
                    .collect())
            }
            "gloas" => {
                use super::gloas_state::GloasBeaconState;
                let s =
                    GloasBeaconState::deserialize(ssz).map_err(|source| StateError::Decode {
                        fork: "gloas",
                        source,
                    })?;
                gloas_anchor!(s, GloasBeaconState, false)
            }
            "heze" => {
                use super::gloas_state::HezeBeaconState;
                let s = HezeBeaconState::deserialize(ssz).map_err(|source| StateError::Decode {
                    fork: "heze",
                    source,
                })?;
                gloas_anchor!(s, HezeBeaconState, true)
            }
            other => return Err(StateError::UnknownFork(other.to_owned())),
        })
    }
}
