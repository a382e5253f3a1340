//! Prysm's derivation (`beacon-chain/p2p/gossip_scoring_params.go`).
//!
//! Mesh-delivery scoring is off on every topic (`meshDeliveryIsScored = false`: weights 0 while
//! thresholds, caps and decays are filled in), caps use a hard-coded D = 8 with integer division
//! before the conversion to float, several values are literals. Prysm picks a topic's parameters
//! by substring in a fixed order, and `sync_committee` is tested before
//! `sync_committee_contribution_and_proof`, so contributions get the sync-subnet parameters
//! (weight 0.1): reproduced here because it is what Prysm nodes run.

use std::collections::BTreeMap;

use pheme_spec::{GossipKind, SYNC_COMMITTEE_SUBNET_COUNT, TARGET_AGGREGATORS_PER_COMMITTEE};

use super::{THRESHOLDS, client_mesh};
use crate::math::{decay, threshold};
use crate::model::{GossipsubParams, PeerScoreParams, TopicScoreParams};
use crate::recipe::{Ctx, Recipe};

const GOSSIP_D: u64 = 8;
const MAX_IN_MESH_SCORE: f64 = 10.0;
const MAX_FIRST_DELIVERY_SCORE: f64 = 40.0;
const BLOCK_WEIGHT: f64 = 0.8;
const AGGREGATE_WEIGHT: f64 = 0.5;
const SYNC_CONTRIBUTION_WEIGHT: f64 = 0.2;
const ATTESTATION_TOTAL_WEIGHT: f64 = 1.0;
const SYNC_COMMITTEES_TOTAL_WEIGHT: f64 = 0.4;
const OPERATION_WEIGHT: f64 = 0.05;
/// Rates are divided by this to get the (unused) mesh thresholds.
const DAMPENING_FACTOR: f64 = 90.0;

pub(crate) fn derive(ctx: &Ctx<'_>) -> Recipe {
    let slot = ctx.slot_ms;
    let epoch = ctx.epoch_ms();
    let spe = ctx.spe;
    let d = |epochs: f64| decay(epochs * epoch, slot);
    // maxScore: P1 + P2 maxima over the summed weights of the scored topic kinds.
    let total_weight = BLOCK_WEIGHT
        + AGGREGATE_WEIGHT
        + SYNC_CONTRIBUTION_WEIGHT
        + ATTESTATION_TOTAL_WEIGHT
        + SYNC_COMMITTEES_TOTAL_WEIGHT
        + 4.0 * OPERATION_WEIGHT;
    let max_score = (MAX_IN_MESH_SCORE + MAX_FIRST_DELIVERY_SCORE) * total_weight;
    // Go divides durations as integers: 3600 s / slot.
    let tim_cap = (3_600_000 / (slot as u64)) as f64;
    let base = TopicScoreParams {
        time_in_mesh_weight: MAX_IN_MESH_SCORE / tim_cap,
        time_in_mesh_quantum_ms: slot as u64,
        time_in_mesh_cap: tim_cap,
        invalid_message_deliveries_decay: d(50.0),
        ..TopicScoreParams::default()
    };

    let block = TopicScoreParams {
        topic_weight: BLOCK_WEIGHT,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: d(20.0),
        first_message_deliveries_cap: 23.0,
        mesh_message_deliveries_decay: d(5.0),
        mesh_message_deliveries_cap: (spe * 5) as f64,
        mesh_message_deliveries_threshold: (spe * 5) as f64 / 10.0,
        mesh_message_deliveries_window_ms: 2_000,
        mesh_message_deliveries_activation_ms: (4.0 * epoch) as u64,
        mesh_failure_penalty_decay: d(5.0),
        invalid_message_deliveries_weight: -140.4475,
        ..base
    };
    // A committee-style topic: first-delivery rate `floor(count * 2 / 8)`, (unused) mesh
    // threshold from `count / 90`.
    let committee_topic =
        |weight: f64, count_for_rate: u64, count_for_mesh: f64, first: f64, mesh: f64| {
            let rate = count_for_rate * 2 / GOSSIP_D;
            if rate == 0 {
                return None;
            }
            let (df, dm) = (d(first), d(mesh));
            let fmd_cap = rate as f64 / (1.0 - df);
            let thr = threshold(dm, count_for_mesh / DAMPENING_FACTOR);
            Some(TopicScoreParams {
                topic_weight: weight,
                first_message_deliveries_weight: MAX_FIRST_DELIVERY_SCORE / fmd_cap,
                first_message_deliveries_decay: df,
                first_message_deliveries_cap: fmd_cap,
                mesh_message_deliveries_decay: dm,
                mesh_message_deliveries_cap: 4.0 * thr,
                mesh_message_deliveries_threshold: thr,
                mesh_message_deliveries_window_ms: 2_000,
                mesh_message_deliveries_activation_ms: epoch as u64,
                mesh_failure_penalty_decay: dm,
                invalid_message_deliveries_weight: -max_score / weight,
                ..base
            })
        };

    let aggregators = ctx.committees_per_slot() * TARGET_AGGREGATORS_PER_COMMITTEE;
    let aggregate = committee_topic(AGGREGATE_WEIGHT, aggregators, aggregators as f64, 1.0, 1.0);

    let subnets = ctx.chain.attestation_subnet_count;
    let per_subnet_per_slot = ctx.v / subnets / spe;
    let exceeds = ctx.committees_per_slot() >= 2 * subnets / spe;
    let (first, mesh) = if exceeds { (4.0, 16.0) } else { (1.0, 4.0) };
    let attestation = committee_topic(
        ATTESTATION_TOTAL_WEIGHT / subnets as f64,
        per_subnet_per_slot,
        per_subnet_per_slot as f64,
        first,
        mesh,
    );

    let sync_members =
        ctx.v.min(ctx.chain.preset.sync_committee_size) / SYNC_COMMITTEE_SUBNET_COUNT;
    let sync = committee_topic(
        SYNC_COMMITTEES_TOTAL_WEIGHT / SYNC_COMMITTEE_SUBNET_COUNT as f64,
        sync_members,
        sync_members as f64,
        1.0,
        4.0,
    );

    let operation = |fmd_weight: f64, fmd_cap: f64| TopicScoreParams {
        topic_weight: OPERATION_WEIGHT,
        first_message_deliveries_weight: fmd_weight,
        first_message_deliveries_decay: d(100.0),
        first_message_deliveries_cap: fmd_cap,
        invalid_message_deliveries_weight: -2000.0,
        ..base
    };

    let mut topics = BTreeMap::new();
    let mut unscored = BTreeMap::new();
    for &kind in &ctx.topics {
        let params = match kind {
            GossipKind::BeaconBlock
            | GossipKind::BlobSidecar(_)
            | GossipKind::DataColumnSidecar(_) => Some(block),
            GossipKind::BeaconAggregateAndProof => aggregate,
            GossipKind::BeaconAttestation(_) => attestation,
            GossipKind::SyncCommittee(_) | GossipKind::SyncCommitteeContributionAndProof => sync,
            GossipKind::VoluntaryExit | GossipKind::BlsToExecutionChange => {
                Some(operation(2.0, 5.0))
            }
            GossipKind::ProposerSlashing | GossipKind::AttesterSlashing => {
                Some(operation(36.0, 1.0))
            }
            // The Prysm code this profile reproduces has no Gloas or Heze topic in its parameter
            // table (`topicScoreParams`), and leaves a topic it does not know unscored.
            GossipKind::ExecutionPayloadBid
            | GossipKind::ExecutionPayload
            | GossipKind::PayloadAttestationMessage
            | GossipKind::ProposerPreferences
            | GossipKind::InclusionList => {
                unscored.insert(kind, "prysm has no parameters for this topic".into());
                continue;
            }
        };
        match params {
            Some(p) => {
                topics.insert(kind, p);
            }
            None => {
                unscored.insert(
                    kind,
                    "prysm leaves it unscored: too few validators for a first-delivery rate".into(),
                );
            }
        }
    }

    Recipe {
        thresholds: THRESHOLDS,
        peer_score_params: PeerScoreParams {
            topic_score_cap: 32.72,
            app_specific_weight: 1.0,
            ip_colocation_factor_weight: -35.11,
            ip_colocation_factor_threshold: 10.0,
            behaviour_penalty_weight: -15.92,
            behaviour_penalty_threshold: 6.0,
            behaviour_penalty_decay: d(10.0),
            decay_interval_ms: slot as u64,
            decay_to_zero: crate::math::DECAY_TARGET,
            retain_score_ms: (100.0 * epoch) as u64,
            slow_peer_weight: 0.0,
            slow_peer_threshold: 0.0,
            slow_peer_decay: 0.2,
            topics,
        },
        unscored,
        gossipsub: gossipsub(ctx),
        // Mesh scoring is off altogether; there is nothing to defer.
        deferred: Vec::new(),
    }
}

/// Prysm sets D 8/6/12, a 700 ms heartbeat, mcache 6/3 and a 2-epoch seen TTL; the rest is
/// go-libp2p-pubsub's defaults (no flood publishing, no PX sent, IDONTWANT from 1 KiB).
fn gossipsub(ctx: &Ctx<'_>) -> GossipsubParams {
    GossipsubParams {
        idontwant_message_size_threshold: 1024,
        ..client_mesh(ctx)
    }
}
