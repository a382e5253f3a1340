//! The derivation entry point: input checks, the per-profile recipes, the young-chain rule.

use pheme_spec::{ChainSpec, GossipKind, Slot};

use crate::math::aggregators_per_slot;
use crate::model::{PresetMeta, Profile, ScorePreset};
use crate::profiles;

/// Largest active validator count accepted (the registry limit, 2^40).
pub const MAX_ACTIVE_VALIDATORS: u64 = 1 << 40;
/// Most slots [`Tuning::activation_extra_slots`] may add to P3's activation.
pub const MAX_ACTIVATION_EXTRA_SLOTS: u64 = 64;
/// Largest mesh degree accepted.
pub const MAX_MESH_N: usize = 64;

/// Why a preset could not be derived.
#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    /// No active validators: every rate would be zero.
    #[error("active validator count must be at least 1")]
    NoValidators,
    /// More validators than the registry can hold.
    #[error("active validator count {0} is above the registry limit 2^40")]
    TooManyValidators(u64),
    /// A chain whose slots take no time.
    #[error("slot duration must be at least 1 ms")]
    ZeroSlotDuration,
    /// Decay intervals below 1 s are refused by gossipsub.
    #[error("slot duration {0} ms is below the 1 s minimum decay interval of gossipsub")]
    SlotTooShort(u64),
    /// A mesh degree outside 1..=64.
    #[error("mesh degree {0} is outside 1..={MAX_MESH_N}")]
    BadMeshDegree(usize),
    /// A profile that cannot reproduce its client at this mesh degree.
    #[error("{profile} has no mesh configuration for mesh_n = {mesh_n} (it supports {supported})")]
    UnsupportedMeshDegree {
        /// The profile.
        profile: Profile,
        /// What was asked for.
        mesh_n: usize,
        /// What it supports.
        supported: &'static str,
    },
    /// The chain configuration breaks an invariant.
    #[error(transparent)]
    InvalidChain(#[from] pheme_spec::SpecError),
    /// A profile name that does not exist.
    #[error("unknown profile {0:?}: use pheme, recommendations, lighthouse, lodestar or prysm")]
    UnknownProfile(String),
    /// A mesh threshold share the recipe cannot use.
    #[error(
        "mesh threshold share {0} must be above 0 and below the ramp share {1} (at most 1): a peer at the ramp would never reach the threshold"
    )]
    BadTuning(f64, f64),
    /// A tuning knob past its limit.
    #[error("{what} {value} is above its limit {max}")]
    TuningOutOfRange {
        /// The knob.
        what: &'static str,
        /// What was asked for.
        value: u64,
        /// Its limit.
        max: u64,
    },
    /// Departures asked of a profile that copies a client's derivation.
    #[error("{0} copies a client's derivation and takes no tuning; tune pheme or recommendations")]
    TuningUnsupported(Profile),
    /// A derived number came out infinite or NaN (a defect; the inputs are checked first).
    #[error("derived {0} is not a finite number")]
    NotFinite(String),
}

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

/// What a profile recipe gets: the checked inputs plus derived quantities.
pub(crate) struct Ctx<'a> {
    pub chain: &'a ChainSpec,
    pub v: u64,
    pub current_slot: Slot,
    pub mesh_n: usize,
    pub slot_ms: f64,
    pub spe: u64,
    pub topics: Vec<GossipKind>,
}

impl Ctx<'_> {
    pub fn epoch_ms(&self) -> f64 {
        self.slot_ms * self.spe as f64
    }

    pub fn committees_per_slot(&self) -> u64 {
        self.chain.committees_per_slot(self.v)
    }

    /// The young-chain rule shared by every profile (as Lighthouse and Lodestar write it): the
    /// mesh-delivery threshold and weight stay 0 while `current_slot <= decay_slots`.
    pub fn is_young(&self, mesh_decay_slots: f64) -> bool {
        self.current_slot as f64 <= mesh_decay_slots
    }
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

/// Departures from a profile's recipe, for measuring candidates (`pheme simulate --p3-share`).
/// The default departs from nothing. Only the `pheme` and `recommendations` profiles take them.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tuning {
    /// Share of a topic's expected message rate a mesh peer must deliver within the mesh
    /// window (the document's 1/4); it sets the P3 threshold, weight and activation.
    pub mesh_threshold_share: Option<f64>,
    /// Share of the expected rate a new mesh peer is assumed to deliver while it builds up to
    /// the threshold (the document's 0.6 x 1/2); with the threshold it sets the activation.
    pub ramp_share: Option<f64>,
    /// Slots added to the activation (a topic published in one burst per slot reaches a peer
    /// grafted just after a burst a slot late); at most [`MAX_ACTIVATION_EXTRA_SLOTS`].
    pub activation_extra_slots: Option<u64>,
    /// The mesh-delivery window in milliseconds (the document's 400), at most a slot.
    pub mesh_window_ms: Option<u64>,
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
    let preset = ScorePreset {
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
    check_finite(&preset)?;
    Ok(preset)
}

/// The parts of a preset a profile recipe produces.
pub(crate) struct Recipe {
    pub thresholds: crate::Thresholds,
    pub peer_score_params: crate::PeerScoreParams,
    pub unscored: std::collections::BTreeMap<GossipKind, String>,
    pub gossipsub: crate::GossipsubParams,
    pub deferred: Vec<String>,
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
