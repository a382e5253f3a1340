//! The gloas beacon state (a progressive container, EIP-7688) and the builder registry and
//! payments EIP-7732 adds to it. Const parameters, per preset: `SHR`
//! `SLOTS_PER_HISTORICAL_ROOT`, `VOTES` `EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH`, `EHV`
//! `EPOCHS_PER_HISTORICAL_VECTOR`, `ESV` `EPOCHS_PER_SLASHINGS_VECTOR`, `SYNC`
//! `SYNC_COMMITTEE_SIZE`, `LOOK` `(MIN_SEED_LOOKAHEAD + 1) * SLOTS_PER_EPOCH`, `PAY`
//! `2 * SLOTS_PER_EPOCH`, `PTC` `PTC_SIZE`, `PTCW` `(2 + MIN_SEED_LOOKAHEAD) * SLOTS_PER_EPOCH`;
//! `Bid` the fork's `ExecutionPayloadBid`.

use ssz_rs::prelude::*;

use crate::altair::SyncCommittee;
use crate::capella::{HistoricalSummary, Withdrawal};
use crate::electra::{PendingConsolidation, PendingDeposit, PendingPartialWithdrawal};
use crate::phase0::{BeaconBlockHeader, Checkpoint, Eth1Data, Fork, Validator};
use crate::primitives::{
    BlsPubkey, Bytes32, ExecutionAddress, Hash32, Root, quoted, quoted_vector, quoted_vectors,
};
use crate::progressive::{Progressive, ProgressiveList, quoted_progressive_list};
use crate::progressive_fields;

/// `HISTORICAL_ROOTS_LIMIT` (every preset).
pub const HISTORICAL_ROOTS_LIMIT: usize = 16_777_216;

/// `Builder`: a registry entry of the builders.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Builder {
    pub pubkey: BlsPubkey,
    #[serde(with = "quoted")]
    pub version: u8,
    pub execution_address: ExecutionAddress,
    #[serde(with = "quoted")]
    pub balance: u64,
    #[serde(with = "quoted")]
    pub deposit_epoch: u64,
    #[serde(with = "quoted")]
    pub withdrawable_epoch: u64,
}

/// `BuilderPendingWithdrawal`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BuilderPendingWithdrawal {
    pub fee_recipient: ExecutionAddress,
    #[serde(with = "quoted")]
    pub amount: u64,
    #[serde(with = "quoted")]
    pub builder_index: u64,
}

/// `BuilderPendingPayment`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BuilderPendingPayment {
    #[serde(with = "quoted")]
    pub weight: u64,
    pub withdrawal: BuilderPendingWithdrawal,
    #[serde(with = "quoted")]
    pub proposer_index: u64,
}

/// The fields of `BeaconState` from gloas on (heze changes only `Bid`).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconStateFields<
    const SHR: usize,
    const VOTES: usize,
    const EHV: usize,
    const ESV: usize,
    const SYNC: usize,
    const LOOK: usize,
    const PAY: usize,
    const PTC: usize,
    const PTCW: usize,
    Bid: SimpleSerialize,
> {
    #[serde(with = "quoted")]
    pub genesis_time: u64,
    pub genesis_validators_root: Root,
    #[serde(with = "quoted")]
    pub slot: u64,
    pub fork: Fork,
    pub latest_block_header: BeaconBlockHeader,
    pub block_roots: Vector<Root, SHR>,
    pub state_roots: Vector<Root, SHR>,
    pub historical_roots: List<Root, HISTORICAL_ROOTS_LIMIT>,
    pub eth1_data: Eth1Data,
    pub eth1_data_votes: List<Eth1Data, VOTES>,
    #[serde(with = "quoted")]
    pub eth1_deposit_index: u64,
    pub validators: ProgressiveList<Validator>,
    #[serde(with = "quoted_progressive_list")]
    pub balances: ProgressiveList<u64>,
    pub randao_mixes: Vector<Bytes32, EHV>,
    #[serde(with = "quoted_vector")]
    pub slashings: Vector<u64, ESV>,
    #[serde(with = "quoted_progressive_list")]
    pub previous_epoch_participation: ProgressiveList<u8>,
    #[serde(with = "quoted_progressive_list")]
    pub current_epoch_participation: ProgressiveList<u8>,
    pub justification_bits: Bitvector<4>,
    pub previous_justified_checkpoint: Checkpoint,
    pub current_justified_checkpoint: Checkpoint,
    pub finalized_checkpoint: Checkpoint,
    #[serde(with = "quoted_progressive_list")]
    pub inactivity_scores: ProgressiveList<u64>,
    pub current_sync_committee: SyncCommittee<SYNC>,
    pub next_sync_committee: SyncCommittee<SYNC>,
    pub latest_block_hash: Hash32,
    #[serde(with = "quoted")]
    pub next_withdrawal_index: u64,
    #[serde(with = "quoted")]
    pub next_withdrawal_validator_index: u64,
    pub historical_summaries: List<HistoricalSummary, HISTORICAL_ROOTS_LIMIT>,
    #[serde(with = "quoted")]
    pub deposit_requests_start_index: u64,
    #[serde(with = "quoted")]
    pub deposit_balance_to_consume: u64,
    #[serde(with = "quoted")]
    pub exit_balance_to_consume: u64,
    #[serde(with = "quoted")]
    pub earliest_exit_epoch: u64,
    #[serde(with = "quoted")]
    pub consolidation_balance_to_consume: u64,
    #[serde(with = "quoted")]
    pub earliest_consolidation_epoch: u64,
    pub pending_deposits: ProgressiveList<PendingDeposit>,
    pub pending_partial_withdrawals: ProgressiveList<PendingPartialWithdrawal>,
    pub pending_consolidations: ProgressiveList<PendingConsolidation>,
    #[serde(with = "quoted_vector")]
    pub proposer_lookahead: Vector<u64, LOOK>,
    pub builders: ProgressiveList<Builder>,
    #[serde(with = "quoted")]
    pub next_withdrawal_builder_index: u64,
    pub execution_payload_availability: Bitvector<SHR>,
    pub builder_pending_payments: Vector<BuilderPendingPayment, PAY>,
    pub builder_pending_withdrawals: ProgressiveList<BuilderPendingWithdrawal>,
    pub latest_execution_payload_bid: Bid,
    pub payload_expected_withdrawals: ProgressiveList<Withdrawal>,
    #[serde(with = "quoted_vectors")]
    pub ptc_window: Vector<Vector<u64, PTC>, PTCW>,
}

progressive_fields!([const SHR: usize, const VOTES: usize, const EHV: usize, const ESV: usize, const SYNC: usize,
    const LOOK: usize, const PAY: usize, const PTC: usize, const PTCW: usize, Bid: SimpleSerialize]
    BeaconStateFields<SHR, VOTES, EHV, ESV, SYNC, LOOK, PAY, PTC, PTCW, Bid>;
    genesis_time, genesis_validators_root, slot, fork, latest_block_header, block_roots, state_roots, historical_roots,
    eth1_data, eth1_data_votes, eth1_deposit_index, validators, balances, randao_mixes, slashings,
    previous_epoch_participation, current_epoch_participation, justification_bits, previous_justified_checkpoint,
    current_justified_checkpoint, finalized_checkpoint, inactivity_scores, current_sync_committee, next_sync_committee,
    latest_block_hash, next_withdrawal_index, next_withdrawal_validator_index, historical_summaries,
    deposit_requests_start_index, deposit_balance_to_consume, exit_balance_to_consume, earliest_exit_epoch,
    consolidation_balance_to_consume, earliest_consolidation_epoch, pending_deposits, pending_partial_withdrawals,
    pending_consolidations, proposer_lookahead, builders, next_withdrawal_builder_index, execution_payload_availability,
    builder_pending_payments, builder_pending_withdrawals, latest_execution_payload_bid, payload_expected_withdrawals,
    ptc_window);

/// `BeaconState` from gloas on, a progressive container; `Bid` is the fork's
/// `ExecutionPayloadBid`.
pub type BeaconState<
    const SHR: usize,
    const VOTES: usize,
    const EHV: usize,
    const ESV: usize,
    const SYNC: usize,
    const LOOK: usize,
    const PAY: usize,
    const PTC: usize,
    const PTCW: usize,
    Bid,
> = Progressive<BeaconStateFields<SHR, VOTES, EHV, ESV, SYNC, LOOK, PAY, PTC, PTCW, Bid>>;
