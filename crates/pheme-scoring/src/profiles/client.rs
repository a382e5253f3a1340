//! The recipe Lighthouse wrote and Lodestar ported, with the knobs on which they differ.
//!
//! Per topic `(weight w, expected rate r per slot, first-delivery decay time, mesh info)`:
//! time in mesh capped at one hour of slots with a maximum of 10; first deliveries capped at
//! `convergence(decay, 2 r / D)` with a maximum of 40; mesh deliveries with threshold
//! `threshold(decay, r / 50)`; invalid messages weighted `-max_positive_score / w`.

use std::collections::BTreeMap;

use pheme_spec::GossipKind;

use super::{THRESHOLDS, client_mesh};
use crate::math::{aggregators, convergence, decay, threshold};
use crate::model::{DeriveError, GossipsubParams, PeerScoreParams, Profile, TopicScoreParams};
use crate::recipe::{Ctx, Recipe};

const MAX_IN_MESH_SCORE: f64 = 10.0;
const MAX_FIRST_MESSAGE_DELIVERIES_SCORE: f64 = 40.0;
const BLOCK_WEIGHT: f64 = 0.5;
const AGGREGATE_WEIGHT: f64 = 0.5;
const OPERATION_WEIGHT: f64 = 0.05;

/// How the mesh-delivery weight is set.
#[derive(Clone, Copy)]
pub(crate) enum MeshWeight {
    /// `-w` (Lighthouse).
    NegTopicWeight,
    /// `-max_positive_score / (w * threshold^2)` (Lodestar).
    MaxPositiveOverThreshold,
}

/// How aggregators per slot are counted.
#[derive(Clone, Copy)]
pub(crate) enum Aggregators {
    /// The exact expectation as a float (Lighthouse).
    Exact,
    /// Floored per epoch and per slot, at least 1 (Lodestar).
    Floored,
}

/// The knobs on which the two clients differ.
pub(crate) struct Client {
    profile: Profile,
    /// `None`: the runtime mesh degree; `Some(d)`: a constant the client hard-codes.
    cap_mesh_n: Option<f64>,
    window_ms: u64,
    mesh_weight: MeshWeight,
    aggregators: Aggregators,
    /// Activation of attestation-subnet mesh scoring when there is one burst per epoch.
    single_burst_activation_epochs: f64,
    scores_bls_change: bool,
    ip_colocation_threshold: f64,
    /// `(weight, threshold, decay)` of libp2p's slow-peer penalty; weight 0 where the client's
    /// router has none.
    slow_peer: (f64, f64, f64),
}

pub(crate) const LIGHTHOUSE: Client = Client {
    profile: Profile::Lighthouse,
    cap_mesh_n: None,
    window_ms: 2_000,
    mesh_weight: MeshWeight::NegTopicWeight,
    aggregators: Aggregators::Exact,
    single_burst_activation_epochs: 3.0,
    scores_bls_change: false,
    ip_colocation_threshold: 8.0,
    slow_peer: (-10.0, 0.0, 0.1),
};

pub(crate) const LODESTAR: Client = Client {
    profile: Profile::Lodestar,
    cap_mesh_n: Some(8.0),
    window_ms: 12_000,
    mesh_weight: MeshWeight::MaxPositiveOverThreshold,
    aggregators: Aggregators::Floored,
    single_burst_activation_epochs: 1.0,
    scores_bls_change: true,
    ip_colocation_threshold: 3.0,
    slow_peer: (0.0, 0.0, 0.2),
};

struct MeshInfo {
    decay_slots: f64,
    cap_factor: f64,
    activation_ms: f64,
}

/// Lighthouse's mesh configurations by network load: `(D, D_low, D_out, D_high, D_lazy,
/// history_gossip, heartbeat ms)`; the default load 3 has D = 5.
const LIGHTHOUSE_LOADS: [(usize, usize, usize, usize, usize, usize, u64); 5] = [
    (3, 1, 1, 4, 3, 3, 1200),
    (4, 2, 2, 8, 3, 3, 1000),
    (5, 3, 2, 10, 3, 3, 1000),
    (8, 4, 3, 10, 2, 3, 1000),
    (10, 5, 3, 15, 5, 6, 700),
];

fn gossipsub(ctx: &Ctx<'_>, client: &Client) -> Result<GossipsubParams, DeriveError> {
    let d = ctx.mesh_n;
    let common = client_mesh(ctx);
    Ok(match client.profile {
        Profile::Lighthouse => {
            let (_, low, out, high, lazy, gossip, heartbeat) = LIGHTHOUSE_LOADS
                .into_iter()
                .find(|row| row.0 == d)
                .ok_or(DeriveError::UnsupportedMeshDegree {
                    profile: Profile::Lighthouse,
                    mesh_n: d,
                    supported: "3, 4, 5, 8 or 10 (network loads 1-5)",
                })?;
            GossipsubParams {
                mesh_n_low: low,
                mesh_outbound_min: out,
                mesh_n_high: high,
                gossip_lazy: lazy,
                history_gossip: gossip,
                history_length: 12,
                heartbeat_interval_ms: heartbeat,
                prune_peers: 0,
                ..common
            }
        }
        // Lodestar: js-libp2p-gossipsub defaults except what it sets (flood publish off since
        // v1.19, IWANT follow-up 12 s, IDONTWANT from the largest aggregate, 16,829 bytes).
        _ => GossipsubParams {
            iwant_followup_time_ms: 12_000,
            idontwant_message_size_threshold: 16_829,
            ..common
        },
    })
}

pub(crate) fn derive(ctx: &Ctx<'_>, client: &Client) -> Result<Recipe, DeriveError> {
    let slot = ctx.slot_ms;
    let epoch = ctx.epoch_ms();
    let spe = ctx.spe as f64;
    // Lighthouse: max(1 s, slot); slots are at least 1 s (checked by `derive`).
    let interval = slot.max(1000.0);
    let subnets = ctx.chain.attestation_subnet_count;
    let attestation_weight = 1.0 / subnets as f64;
    let bls = if client.scores_bls_change {
        OPERATION_WEIGHT
    } else {
        0.0
    };
    // Summed in the clients' order so the float result matches theirs.
    let total_weight = BLOCK_WEIGHT
        + AGGREGATE_WEIGHT
        + attestation_weight * subnets as f64
        + OPERATION_WEIGHT
        + OPERATION_WEIGHT
        + OPERATION_WEIGHT
        + bls;
    let max_positive = (MAX_IN_MESH_SCORE + MAX_FIRST_MESSAGE_DELIVERIES_SCORE) * total_weight;
    let topic_score_cap = max_positive * 0.5;
    let cap_mesh_n = client.cap_mesh_n.unwrap_or(ctx.mesh_n as f64);
    let mut deferred = Vec::new();

    let mut topic =
        |kind: GossipKind, w: f64, rate: f64, fmd_time_ms: f64, mesh: Option<MeshInfo>| {
            let tim_cap = 3_600_000.0 / slot;
            let fmd_decay = decay(fmd_time_ms, interval);
            let fmd_cap = convergence(fmd_decay, 2.0 * rate / cap_mesh_n);
            let mut p = TopicScoreParams {
                topic_weight: w,
                time_in_mesh_weight: MAX_IN_MESH_SCORE / tim_cap,
                time_in_mesh_quantum_ms: slot as u64,
                time_in_mesh_cap: tim_cap,
                first_message_deliveries_weight: MAX_FIRST_MESSAGE_DELIVERIES_SCORE / fmd_cap,
                first_message_deliveries_decay: fmd_decay,
                first_message_deliveries_cap: fmd_cap,
                invalid_message_deliveries_weight: -max_positive / w,
                invalid_message_deliveries_decay: decay(50.0 * epoch, interval),
                ..TopicScoreParams::default()
            };
            if let Some(mesh) = mesh {
                let d = decay(slot * mesh.decay_slots, interval);
                let thr = threshold(d, rate / 50.0);
                let weight = match client.mesh_weight {
                    MeshWeight::NegTopicWeight => -w,
                    MeshWeight::MaxPositiveOverThreshold => -max_positive / (w * thr * thr),
                };
                p.mesh_message_deliveries_decay = d;
                p.mesh_message_deliveries_threshold = thr;
                p.mesh_message_deliveries_cap = (mesh.cap_factor * thr).max(2.0);
                p.mesh_message_deliveries_activation_ms = mesh.activation_ms as u64;
                p.mesh_message_deliveries_window_ms = client.window_ms;
                p.mesh_message_deliveries_weight = weight;
                p.mesh_failure_penalty_weight = weight;
                p.mesh_failure_penalty_decay = d;
                if ctx.is_young(mesh.decay_slots) {
                    p.mesh_message_deliveries_threshold = 0.0;
                    p.mesh_message_deliveries_weight = 0.0;
                    deferred.push(kind.base_name().to_owned());
                }
            }
            p
        };

    let aggregators = match client.aggregators {
        Aggregators::Exact => aggregators(ctx.chain, ctx.v, false),
        Aggregators::Floored => aggregators(ctx.chain, ctx.v, true),
    };
    // Integer division, as both clients write it: 4 on mainnet, 8 with 16-slot epochs.
    let multi_burst = ctx.committees_per_slot() >= 2 * subnets / ctx.spe;
    let attestation = {
        let rate = ctx.v as f64 / subnets as f64 / spe;
        let (fmd_time, decay_slots, activation) = if multi_burst {
            (epoch, 4.0 * spe, slot * ((ctx.spe / 2) + 1) as f64)
        } else {
            (
                4.0 * epoch,
                16.0 * spe,
                client.single_burst_activation_epochs * epoch,
            )
        };
        topic(
            GossipKind::BeaconAttestation(0),
            attestation_weight,
            rate,
            fmd_time,
            Some(MeshInfo {
                decay_slots,
                cap_factor: 16.0,
                activation_ms: activation,
            }),
        )
    };

    let mut topics = BTreeMap::new();
    let mut unscored = BTreeMap::new();
    for &kind in &ctx.topics {
        let params = match kind {
            GossipKind::BeaconBlock => topic(
                kind,
                BLOCK_WEIGHT,
                1.0,
                20.0 * epoch,
                Some(MeshInfo {
                    decay_slots: 5.0 * spe,
                    cap_factor: 3.0,
                    activation_ms: epoch,
                }),
            ),
            GossipKind::BeaconAggregateAndProof => topic(
                kind,
                AGGREGATE_WEIGHT,
                aggregators,
                epoch,
                Some(MeshInfo {
                    decay_slots: 2.0 * spe,
                    cap_factor: 4.0,
                    activation_ms: epoch,
                }),
            ),
            GossipKind::BeaconAttestation(_) => attestation,
            GossipKind::VoluntaryExit => {
                topic(kind, OPERATION_WEIGHT, 4.0 / spe, 100.0 * epoch, None)
            }
            GossipKind::BlsToExecutionChange if client.scores_bls_change => {
                topic(kind, OPERATION_WEIGHT, 4.0 / spe, 100.0 * epoch, None)
            }
            GossipKind::ProposerSlashing | GossipKind::AttesterSlashing => {
                topic(kind, OPERATION_WEIGHT, 1.0 / 5.0 / spe, 100.0 * epoch, None)
            }
            _ => {
                unscored.insert(
                    kind,
                    format!("{} does not score this topic", client.profile),
                );
                continue;
            }
        };
        topics.insert(kind, params);
    }

    let behaviour_decay = decay(10.0 * epoch, interval);
    let target = convergence(behaviour_decay, 10.0 / spe) - 6.0;
    Ok(Recipe {
        thresholds: THRESHOLDS,
        peer_score_params: PeerScoreParams {
            topic_score_cap,
            app_specific_weight: 1.0,
            ip_colocation_factor_weight: -topic_score_cap,
            ip_colocation_factor_threshold: client.ip_colocation_threshold,
            behaviour_penalty_weight: THRESHOLDS.gossip_threshold / (target * target),
            behaviour_penalty_threshold: 6.0,
            behaviour_penalty_decay: behaviour_decay,
            decay_interval_ms: interval as u64,
            decay_to_zero: crate::math::DECAY_TARGET,
            retain_score_ms: (100.0 * epoch) as u64,
            slow_peer_weight: client.slow_peer.0,
            slow_peer_threshold: client.slow_peer.1,
            slow_peer_decay: client.slow_peer.2,
            topics,
        },
        unscored,
        gossipsub: gossipsub(ctx, client)?,
        deferred,
    })
}
