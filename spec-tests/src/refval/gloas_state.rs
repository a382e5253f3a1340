//! The anchor `BeaconState` of the Gloas and Heze networking vectors (minimal preset), written
//! field by field as gloas `beacon-chain.md` writes it: a progressive container (EIP-7688)
//! whose registries and queues are progressive lists, with the builders, the payload
//! availability bits, the builder payments and withdrawals, the latest bid and the PTC window
//! of EIP-7732. Heze's differs only in its latest bid's type (EIP-7805's inclusion list bits).

use pheme_types::phase0::{BeaconBlockHeader, Checkpoint, Eth1Data};
use pheme_types::primitives::{BlsPubkey, ByteVector, Bytes32, Hash32, Root};
use pheme_types::progressive::{Progressive, ProgressiveList};
use pheme_types::progressive_fields;
use ssz_rs::prelude::*;

use super::state::{
    EPOCHS_PER_HISTORICAL_VECTOR, ESV, ETH1_VOTES, Fork, HRL, HistoricalSummary,
    PendingConsolidation, PendingDeposit, PendingPartialWithdrawal, SHR, SyncCommittee, Validator,
};

/// `(MIN_SEED_LOOKAHEAD + 1) * SLOTS_PER_EPOCH` (minimal).
const PROPOSER_LOOKAHEAD: usize = 16;
/// `2 * SLOTS_PER_EPOCH` (minimal): `BuilderPendingPayments`.
const BUILDER_PAYMENTS: usize = 16;
/// `PTC_SIZE` (minimal).
pub(crate) const PTC_SIZE: usize = 16;
/// `(2 + MIN_SEED_LOOKAHEAD) * SLOTS_PER_EPOCH` (minimal): `PTCWindow`.
const PTC_WINDOW: usize = 24;

/// `Builder`.
#[derive(Debug, Clone, PartialEq, Eq, Default, SimpleSerialize)]
#[allow(missing_docs)] // the spec's fields
pub struct Builder {
    pub pubkey: BlsPubkey,
    pub version: u8,
    pub execution_address: ByteVector<20>,
    pub balance: u64,
    pub deposit_epoch: u64,
    pub withdrawable_epoch: u64,
}

/// `BuilderPendingWithdrawal`.
#[derive(Debug, Clone, PartialEq, Eq, Default, SimpleSerialize)]
#[allow(missing_docs)] // the spec's fields
pub struct BuilderPendingWithdrawal {
    pub fee_recipient: ByteVector<20>,
    pub amount: u64,
    pub builder_index: u64,
}

/// `BuilderPendingPayment`.
#[derive(Debug, Clone, PartialEq, Eq, Default, SimpleSerialize)]
#[allow(missing_docs)] // the spec's fields
pub struct BuilderPendingPayment {
    pub weight: u64,
    pub withdrawal: BuilderPendingWithdrawal,
    pub proposer_index: u64,
}

/// The fields of `BeaconState` (gloas, minimal preset), with the fork's `ExecutionPayloadBid`.
#[derive(Debug, Clone, PartialEq, Eq, Default, SimpleSerialize)]
#[allow(missing_docs)] // the spec's fields
pub struct GloasBeaconStateFields<Bid: SimpleSerialize> {
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
    pub validators: ProgressiveList<Validator>,
    pub balances: ProgressiveList<u64>,
    pub randao_mixes: Vector<Bytes32, EPOCHS_PER_HISTORICAL_VECTOR>,
    pub slashings: Vector<u64, ESV>,
    pub previous_epoch_participation: ProgressiveList<u8>,
    pub current_epoch_participation: ProgressiveList<u8>,
    pub justification_bits: Bitvector<4>,
    pub previous_justified_checkpoint: Checkpoint,
    pub current_justified_checkpoint: Checkpoint,
    pub finalized_checkpoint: Checkpoint,
    pub inactivity_scores: ProgressiveList<u64>,
    pub current_sync_committee: SyncCommittee,
    pub next_sync_committee: SyncCommittee,
    pub latest_block_hash: Hash32,
    pub next_withdrawal_index: u64,
    pub next_withdrawal_validator_index: u64,
    pub historical_summaries: List<HistoricalSummary, HRL>,
    pub deposit_requests_start_index: u64,
    pub deposit_balance_to_consume: u64,
    pub exit_balance_to_consume: u64,
    pub earliest_exit_epoch: u64,
    pub consolidation_balance_to_consume: u64,
    pub earliest_consolidation_epoch: u64,
    pub pending_deposits: ProgressiveList<PendingDeposit>,
    pub pending_partial_withdrawals: ProgressiveList<PendingPartialWithdrawal>,
    pub pending_consolidations: ProgressiveList<PendingConsolidation>,
    pub proposer_lookahead: Vector<u64, PROPOSER_LOOKAHEAD>,
    pub builders: ProgressiveList<Builder>,
    pub next_withdrawal_builder_index: u64,
    pub execution_payload_availability: Bitvector<SHR>,
    pub builder_pending_payments: Vector<BuilderPendingPayment, BUILDER_PAYMENTS>,
    pub builder_pending_withdrawals: ProgressiveList<BuilderPendingWithdrawal>,
    pub latest_execution_payload_bid: Bid,
    pub payload_expected_withdrawals: ProgressiveList<pheme_types::capella::Withdrawal>,
    pub ptc_window: Vector<Vector<u64, PTC_SIZE>, PTC_WINDOW>,
}

progressive_fields!([Bid: SimpleSerialize] GloasBeaconStateFields<Bid>; genesis_time, genesis_validators_root, slot, fork,
    latest_block_header, block_roots, state_roots, historical_roots, eth1_data, eth1_data_votes,
    eth1_deposit_index, validators, balances, randao_mixes, slashings,
    previous_epoch_participation, current_epoch_participation, justification_bits,
    previous_justified_checkpoint, current_justified_checkpoint, finalized_checkpoint,
    inactivity_scores, current_sync_committee, next_sync_committee, latest_block_hash,
    next_withdrawal_index, next_withdrawal_validator_index, historical_summaries,
    deposit_requests_start_index, deposit_balance_to_consume, exit_balance_to_consume,
    earliest_exit_epoch, consolidation_balance_to_consume, earliest_consolidation_epoch,
    pending_deposits, pending_partial_withdrawals, pending_consolidations, proposer_lookahead,
    builders, next_withdrawal_builder_index, execution_payload_availability,
    builder_pending_payments, builder_pending_withdrawals, latest_execution_payload_bid,
    payload_expected_withdrawals, ptc_window);

/// `BeaconState` (gloas, minimal preset).
pub type GloasBeaconState =
    Progressive<GloasBeaconStateFields<pheme_types::gloas::ExecutionPayloadBid>>;
/// `BeaconState` (heze, minimal preset).
pub type HezeBeaconState =
    Progressive<GloasBeaconStateFields<pheme_types::heze::ExecutionPayloadBid>>;

/// What the Gloas checks read beyond the earlier forks' [`super::AnchorState`].
#[derive(Debug, Clone, Default)]
pub struct GloasAnchor {
    /// Whether the state is Heze's (its blocks and bids).
    pub heze: bool,
    /// `builders`.
    pub builders: Vec<Builder>,
    /// `ptc_window`: the PTCs of the previous, current and next epoch, by slot.
    pub ptc_window: Vec<Vec<u64>>,
    /// `latest_block_hash`.
    pub latest_block_hash: [u8; 32],
    /// `latest_block_header.proposer_index` (the signer of a self-built envelope).
    pub latest_proposer: u64,
    /// `finalized_checkpoint.epoch` (`is_active_builder`).
    pub finalized_epoch: u64,
    /// `get_pending_balance_to_withdraw_for_builder`, by builder index (absent: zero).
    pub pending_withdrawals: std::collections::HashMap<u64, u64>,
}

impl GloasAnchor {
    /// The Gloas parts of a decoded state.
    pub fn of<Bid: SimpleSerialize>(s: &GloasBeaconStateFields<Bid>, heze: bool) -> Self {
        GloasAnchor {
            heze,
            builders: s.builders.iter().cloned().collect(),
            ptc_window: s
                .ptc_window
                .iter()
                .map(|ptc| ptc.iter().copied().collect())
                .collect(),
            latest_block_hash: s.latest_block_hash.0,
            latest_proposer: s.latest_block_header.proposer_index,
            finalized_epoch: s.finalized_checkpoint.epoch,
            pending_withdrawals: {
                let mut pending = std::collections::HashMap::new();
                let withdrawals = s.builder_pending_withdrawals.iter();
                let payments = s.builder_pending_payments.iter().map(|p| &p.withdrawal);
                for w in withdrawals.chain(payments) {
                    *pending.entry(w.builder_index).or_insert(0u64) += w.amount;
                }
                pending
            },
        }
    }
}
