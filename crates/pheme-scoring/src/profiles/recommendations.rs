//! The recommendations document's recipe, generalised to any validator count and slot timing.
//!
//! Every number of the document is re-derived from the assumption its comment states, with
//! the real committee structure for message rates. At V = 262,144 on mainnet the tables come
//! back; every departure is listed in `presets/README.md`. Two profiles share the recipe:
//! `recommendations` with the document's mesh-delivery assumptions ([`DOCUMENT`]) and `pheme`
//! with the ones the attack simulation chose ([`MEASURED`]).

use std::collections::BTreeMap;

use pheme_spec::GossipKind;

use super::{THRESHOLDS, spec_mesh};
use crate::math::{decay, expected_rate};
use crate::model::{PeerScoreParams, TopicScoreParams, Tuning};
use crate::recipe::{Ctx, Recipe};

/// Topic weight of every topic in the document's tables.
pub const TOPIC_WEIGHT: f64 = 0.5;
/// The document's time-in-mesh maximum: 0.0324 * 300.
pub const TIME_IN_MESH_MAX: f64 = 0.0324 * 300.0;
/// Time in mesh is capped after one hour (300 slots of 12 s).
pub const TIME_IN_MESH_CAP_MS: f64 = 3_600_000.0;
/// Raw mesh-delivery penalty of a peer that delivers nothing: 25 (-0.020408 * 35^2).
pub const SILENT_MESH_PENALTY: f64 = 25.0;
/// Invalid-message weight of every topic.
pub const INVALID_WEIGHT: f64 = -99.0;
/// Invalid messages are remembered for 240 epochs (0.9994 per 12 s slot).
pub const INVALID_DECAY_EPOCHS: f64 = 240.0;
/// Mesh window.
pub const MESH_WINDOW_MS: u64 = 400;
/// Share of the expected rate the document assumes a mesh peer delivers in the window.
pub const THRESHOLD_SHARE: f64 = 0.25;
/// Delivery rate assumed while a peer builds up to the threshold (0.6 of the expected rate,
/// half of it within the window).
pub const RAMP_SHARE: f64 = 0.6 * 0.5;

/// The recipe's mesh-delivery (P3) assumptions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Knobs {
    /// Share of a topic's expected rate a mesh peer must deliver within the window.
    pub threshold_share: f64,
    /// Share a new mesh peer is assumed to deliver while it builds up to the threshold.
    pub ramp_share: f64,
    /// Share whose build-up at the ramp sets the activation (`None`: the threshold's).
    pub activation_share: Option<f64>,
    /// Slots added to the activation.
    pub activation_extra_slots: u64,
    /// The mesh window.
    pub window_ms: u64,
}

/// The document's assumptions: a quarter of the rate, reached at 0.6 x 1/2 of it.
pub(crate) const DOCUMENT: Knobs = Knobs {
    threshold_share: THRESHOLD_SHARE,
    ramp_share: RAMP_SHARE,
    activation_share: None,
    activation_extra_slots: 0,
    window_ms: MESH_WINDOW_MS,
};

/// What the attack simulation chose (`docs/simulation.md`, `presets/README.md`): 2 % of the
/// rate (Lighthouse's `r / 50`), with the activation a 5 % threshold would need when reached
/// at a fifth of the rate, two slots more for topics published in one burst a slot. Honest
/// peers late in the propagation tree deliver less than a quarter of a topic in the window;
/// the document's threshold scored hundreds of them negative without any attacker, and 5 %
/// still dozens under attack at 1,000 nodes.
pub(crate) const MEASURED: Knobs = Knobs {
    threshold_share: 0.02,
    ramp_share: 0.2,
    activation_share: Some(0.05),
    activation_extra_slots: 2,
    window_ms: MESH_WINDOW_MS,
};

impl Knobs {
    /// These knobs with `tuning`'s departures.
    pub fn tuned(self, tuning: &Tuning) -> Knobs {
        Knobs {
            threshold_share: tuning.mesh_threshold_share.unwrap_or(self.threshold_share),
            ramp_share: tuning.ramp_share.unwrap_or(self.ramp_share),
            activation_share: tuning.activation_share.or(self.activation_share),
            activation_extra_slots: tuning
                .activation_extra_slots
                .unwrap_or(self.activation_extra_slots),
            window_ms: tuning.mesh_window_ms.unwrap_or(self.window_ms),
        }
    }

    /// Whether a peer at the ramp reaches the threshold at all.
    pub fn is_usable(&self) -> bool {
        self.threshold_share > 0.0
            && self.ramp_share <= 1.0
            && self.threshold_share < self.ramp_share
            && self
                .activation_share
                .is_none_or(|a| a > 0.0 && a < self.ramp_share)
    }
}

struct MeshRecipe {
    /// Period over which all counters decay to 1 %.
    decay_slots: f64,
    /// First-message-delivery weight.
    fmd_weight: f64,
}

pub(crate) fn derive(ctx: &Ctx<'_>, knobs: Knobs) -> Recipe {
    let slot = ctx.slot_ms;
    let spe = ctx.spe as f64;
    let tim_cap = TIME_IN_MESH_CAP_MS / slot;
    let d_mesh = ctx.mesh_n as f64;
    let invalid_decay = decay(INVALID_DECAY_EPOCHS * spe * slot, slot);

    let base = TopicScoreParams {
        topic_weight: TOPIC_WEIGHT,
        time_in_mesh_quantum_ms: slot as u64,
        invalid_message_deliveries_weight: INVALID_WEIGHT,
        invalid_message_deliveries_decay: invalid_decay,
        ..TopicScoreParams::default()
    };
    let mut deferred = Vec::new();
    let mut scored = |kind: GossipKind, recipe: MeshRecipe| {
        let rate = expected_rate(ctx.chain, ctx.v, kind);
        let d = decay(recipe.decay_slots * slot, slot);
        let threshold = knobs.threshold_share * rate / (1.0 - d);
        let weight = -SILENT_MESH_PENALTY / (threshold * threshold);
        let activation_share = knobs.activation_share.unwrap_or(knobs.threshold_share);
        let activation_slots = (1.0 - activation_share / knobs.ramp_share).ln() / d.ln();
        let activation_slots = if activation_slots >= spe {
            (activation_slots / spe).ceil() * spe
        } else {
            activation_slots.ceil()
        } + knobs.activation_extra_slots as f64;
        let young = ctx.is_young(recipe.decay_slots);
        if young {
            deferred.push(kind.base_name().to_owned());
        }
        TopicScoreParams {
            time_in_mesh_weight: TIME_IN_MESH_MAX / tim_cap,
            time_in_mesh_cap: tim_cap,
            first_message_deliveries_weight: recipe.fmd_weight,
            first_message_deliveries_decay: d,
            first_message_deliveries_cap: rate / d_mesh / (1.0 - d),
            mesh_message_deliveries_weight: if young { 0.0 } else { weight },
            mesh_message_deliveries_decay: d,
            mesh_message_deliveries_cap: rate / (1.0 - d),
            mesh_message_deliveries_threshold: if young { 0.0 } else { threshold },
            mesh_message_deliveries_window_ms: knobs.window_ms,
            mesh_message_deliveries_activation_ms: (activation_slots * slot) as u64,
            mesh_failure_penalty_weight: weight,
            mesh_failure_penalty_decay: d,
            ..base
        }
    };

    let mut topics = BTreeMap::new();
    for &kind in &ctx.topics {
        let params = match kind {
            GossipKind::BeaconBlock => scored(
                kind,
                MeshRecipe {
                    decay_slots: 20.0 * spe,
                    fmd_weight: 1.0,
                },
            ),
            GossipKind::BeaconAggregateAndProof => scored(
                kind,
                MeshRecipe {
                    decay_slots: 10.0,
                    fmd_weight: 0.05,
                },
            ),
            // Subnet, sync-committee and every other topic: invalid messages only.
            _ => base,
        };
        topics.insert(kind, params);
    }
    let block_fmd_max = topics.get(&GossipKind::BeaconBlock).map_or(0.0, |b| {
        b.first_message_deliveries_weight * b.first_message_deliveries_cap
    });

    Recipe {
        thresholds: THRESHOLDS,
        peer_score_params: PeerScoreParams {
            topic_score_cap: TIME_IN_MESH_MAX + block_fmd_max,
            app_specific_weight: 1.0,
            ip_colocation_factor_weight: -1.0,
            ip_colocation_factor_threshold: 10.0,
            behaviour_penalty_weight: -99.0,
            behaviour_penalty_threshold: 6.0,
            behaviour_penalty_decay: decay(20.0 * spe * slot, slot),
            decay_interval_ms: slot as u64,
            decay_to_zero: crate::math::DECAY_TARGET,
            retain_score_ms: (100.0 * spe * slot) as u64,
            slow_peer_weight: -0.2,
            slow_peer_threshold: 0.0,
            slow_peer_decay: 0.2,
            topics,
        },
        unscored: BTreeMap::new(),
        gossipsub: spec_mesh(ctx),
        deferred,
    }
}
