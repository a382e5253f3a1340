//! The anchor `BeaconState` of the Gloas and Heze networking vectors (minimal preset):
//! pheme-types' progressive container (EIP-7688), and what the Gloas checks read of it (the
//! builders, the payments and withdrawals owed to them, the latest block hash, the PTC window of
//! EIP-7732). Heze's differs only in its latest bid's type (EIP-7805's inclusion list bits).

use pheme_types::gloas::{BeaconStateFields, Builder};
use ssz_rs::prelude::*;

/// `BeaconState` (gloas, minimal preset).
pub type GloasBeaconState = pheme_types::minimal::gloas::BeaconState;
/// `BeaconState` (heze, minimal preset).
pub type HezeBeaconState = pheme_types::minimal::heze::BeaconState;

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
    pub fn of<
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
    >(
        s: &BeaconStateFields<SHR, VOTES, EHV, ESV, SYNC, LOOK, PAY, PTC, PTCW, Bid>,
        heze: bool,
    ) -> Self {
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
