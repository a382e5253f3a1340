//! Re-derivation as the validator count and the slot advance, without thrashing.
//!
//! The network layer calls [`rederive`] once per epoch (calling it more often changes nothing).
//! A new preset is applied only when it matters:
//! - the fork (and so the topic set) changed;
//! - a topic's mesh-delivery penalties switch on because the chain left its young phase;
//! - the committee structure changed (committees per slot) and stays changed within the
//!   hysteresis band, so a count hovering at a committee boundary does not flip every epoch;
//! - the active validator count moved by more than [`VALIDATOR_HYSTERESIS`] (1 %) since the
//!   preset in force was derived. Since electra the churn limit is counted in stake (256 ETH an
//!   epoch, about 8 validators, plus consolidations), so this fires after days, not epochs; small
//!   rounding drifts of the caps and thresholds are never pushed to the router.

use pheme_spec::{ChainSpec, Slot};

use crate::derive::{DeriveInput, derive};
use crate::model::{DeriveError, ScorePreset};

/// Relative change of the active validator count that triggers a re-derivation.
pub const VALIDATOR_HYSTERESIS: f64 = 0.01;

/// Why a new preset was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RederiveReason {
    /// The fork at the current slot differs.
    ForkChanged,
    /// Mesh-delivery penalties switched on for some topics.
    MeshPenaltiesActivated,
    /// Committees per slot changed.
    CommitteesChanged,
    /// The validator count moved beyond the hysteresis.
    ValidatorsMoved,
}

/// Derives a preset for the new inputs and returns it when it should replace `current`, with the
/// reason; `Ok(None)` when the preset in force stays (same epoch, or nothing significant moved).
pub fn rederive(
    current: &ScorePreset,
    chain: &ChainSpec,
    active_validators: u64,
    current_slot: Slot,
) -> Result<Option<(ScorePreset, RederiveReason)>, DeriveError> {
    let next = derive(&DeriveInput {
        chain,
        active_validators,
        current_slot,
        mesh_n: Some(current.meta.mesh_n),
        profile: current.meta.profile,
    })?;
    let old_v = current.meta.active_validators as f64;
    let reason = if next.meta.fork != current.meta.fork {
        Some(RederiveReason::ForkChanged)
    } else if next.meta.mesh_penalties_deferred != current.meta.mesh_penalties_deferred {
        Some(RederiveReason::MeshPenaltiesActivated)
    } else if next.meta.committees_per_slot != current.meta.committees_per_slot
        && committees_stable(chain, active_validators)
    {
        Some(RederiveReason::CommitteesChanged)
    } else if (active_validators as f64 - old_v).abs() > VALIDATOR_HYSTERESIS * old_v {
        Some(RederiveReason::ValidatorsMoved)
    } else {
        None
    };
    Ok(reason.map(|r| (next, r)))
}

/// Whether the committee count is the same across the whole hysteresis band around `v`.
fn committees_stable(chain: &ChainSpec, v: u64) -> bool {
    let low = (v as f64 * (1.0 - VALIDATOR_HYSTERESIS)) as u64;
    let high = (v as f64 * (1.0 + VALIDATOR_HYSTERESIS)) as u64;
    chain.committees_per_slot(low) == chain.committees_per_slot(high)
}
