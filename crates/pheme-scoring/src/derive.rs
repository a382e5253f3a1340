//! The derivation entry point: input checks, then the profile's recipe (`profiles`, through
//! the contract in `recipe`).

use pheme_spec::{ChainSpec, GossipKind, Slot};

use crate::math::aggregators_per_slot;
use crate::model::{
    DeriveError, MAX_ACTIVATION_EXTRA_SLOTS, MAX_ACTIVE_VALIDATORS, MAX_MESH_N, PresetMeta,
    Profile, ScorePreset, Tuning,
};
use crate::profiles;
use crate::recipe::Ctx;

/// The inputs of a derivation.
#[derive(Debug, Clone, Copy)]
pub struct DeriveInput<'a> {
    /// The network.
    pub chain: &'a ChainSpec,
    /// Active validators.
    pub active_validators: u64,
    /// Current slot: decides the fork (topic set) and whether the chain is still young.
    pub current_slot: Slot,
    /// Mesh degree; `None` for the profile's default.
    pub mesh_n: Option<usize>,
    /// Parameter set.
    pub profile: Profile,
}

/// Derives every gossipsub parameter for the inputs: a pure function of them.
///
/// ```
/// use pheme_scoring::{DeriveInput, Profile, derive};
/// let mainnet = pheme_spec::Network::Mainnet.chain_spec().unwrap();
/// let preset = derive(&DeriveInput {
///     chain: &mainnet,
///     active_validators: 1_000_000,
///     current_slot: 13_500_000,
///     mesh_n: None,
///     profile: Profile::Lighthouse,
/// })
/// .unwrap();
/// assert!((preset.peer_score_params.topic_score_cap - 53.75).abs() < 1e-9);
/// ```
pub fn derive(input: &DeriveInput<'_>) -> Result<ScorePreset, DeriveError> {
    derive_tuned(input, &Tuning::default())
}

/// [`derive`] with departures from the profile's recipe.
pub fn derive_tuned(input: &DeriveInput<'_>, tuning: &Tuning) -> Result<ScorePreset, DeriveError> {
    let chain = input.chain;
    if chain.slot_duration_ms == 0 {
        return Err(DeriveError::ZeroSlotDuration);
    }
    chain.validate()?;
    if input.active_validators == 0 {
        return Err(DeriveError::NoValidators);
    }
    if input.active_validators > MAX_ACTIVE_VALIDATORS {
        return Err(DeriveError::TooManyValidators(input.active_validators));
    }
    if chain.slot_duration_ms == 0 {
        return Err(DeriveError::ZeroSlotDuration);
    }
    if chain.slot_duration_ms < 1000 {
        return Err(DeriveError::SlotTooShort(chain.slot_duration_ms));
    }
    let mesh_n = input.mesh_n.unwrap_or(input.profile.default_mesh_n());
    if mesh_n == 0 || mesh_n > MAX_MESH_N {
        return Err(DeriveError::BadMeshDegree(mesh_n));
    }
    let fork = chain.fork_at(chain.epoch_of(input.current_slot));
    let ctx = Ctx {
        chain,
        v: input.active_validators,
        current_slot: input.current_slot,
        mesh_n,
        slot_ms: chain.slot_duration_ms as f64,
        spe: chain.slots_per_epoch(),
        topics: GossipKind::all_for_fork(chain, fork),
    };
    let mut recipe = match input.profile {
        Profile::Recommendations | Profile::Pheme => {
            let base = if input.profile == Profile::Pheme {
                profiles::recommendations::MEASURED
            } else {
                profiles::recommendations::DOCUMENT
            };
            let knobs = base.tuned(tuning);
            if !knobs.is_usable() {
                return Err(DeriveError::BadTuning(
                    knobs.threshold_share,
                    knobs.ramp_share,
                ));
            }
            if knobs.activation_extra_slots > MAX_ACTIVATION_EXTRA_SLOTS {
                return Err(DeriveError::TuningOutOfRange {
                    what: "activation extra slots",
                    value: knobs.activation_extra_slots,
                    max: MAX_ACTIVATION_EXTRA_SLOTS,
                });
            }
            if knobs.window_ms > chain.slot_duration_ms {
                return Err(DeriveError::TuningOutOfRange {
                    what: "mesh window (ms)",
                    value: knobs.window_ms,
                    max: chain.slot_duration_ms,
                });
            }
            profiles::recommendations::derive(&ctx, knobs)
        }
        _ if *tuning != Tuning::default() => {
            return Err(DeriveError::TuningUnsupported(input.profile));
        }
        Profile::Lighthouse => profiles::client::derive(&ctx, &profiles::client::LIGHTHOUSE)?,
        Profile::Lodestar => profiles::client::derive(&ctx, &profiles::client::LODESTAR)?,
        Profile::Prysm => profiles::prysm::derive(&ctx),
    };
    recipe.deferred.sort();
    recipe.deferred.dedup();
    let mut preset = ScorePreset {
        meta: PresetMeta {
            network: chain.name.clone(),
            profile: input.profile,
            active_validators: input.active_validators,
            current_slot: input.current_slot,
            fork,
            mesh_n,
            slot_duration_ms: chain.slot_duration_ms,
            slots_per_epoch: ctx.spe,
            committees_per_slot: ctx.committees_per_slot(),
            aggregators_per_slot: aggregators_per_slot(chain, input.active_validators),
            mesh_penalties_deferred: recipe.deferred,
        },
        thresholds: recipe.thresholds,
        peer_score_params: recipe.peer_score_params,
        unscored_topics: recipe.unscored,
        gossipsub: recipe.gossipsub,
    };
    if let Some(flood) = tuning.flood_publish {
        preset.gossipsub.flood_publish = flood;
    }
    check_finite(&preset)?;
    Ok(preset)
}

fn check_finite(preset: &ScorePreset) -> Result<(), DeriveError> {
    let value = serde_json::to_value(preset).map_err(|e| DeriveError::NotFinite(e.to_string()))?;
    // serde_json turns NaN and infinities into null; any null is a non-finite number.
    fn walk(v: &serde_json::Value, path: &mut String) -> Result<(), DeriveError> {
        match v {
            serde_json::Value::Null => Err(DeriveError::NotFinite(path.clone())),
            serde_json::Value::Object(map) => map.iter().try_for_each(|(k, v)| {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                let r = walk(v, path);
                path.truncate(len);
                r
            }),
            serde_json::Value::Array(items) => items.iter().try_for_each(|v| walk(v, path)),
            _ => Ok(()),
        }
    }
    walk(&value, &mut String::new())
}
