//! The `lodestar` profile against Lodestar's arithmetic worked to the last digit (mainnet,
//! V = 1,000,000, mature chain); Lodestar's float summation order is reproduced.

use crate::common::{close, mainnet, preset, topic};
use pheme_scoring::Profile;
use pheme_spec::GossipKind;

const EPS: f64 = 1e-12;

#[test]
fn globals() {
    let p = preset(&mainnet(), 1_000_000, Profile::Lodestar, None);
    let g = &p.peer_score_params;
    // Lodestar's left-to-right weight sum, to the bit (55.0 would mean another order).
    assert_eq!(g.topic_score_cap, 54.999999999999986);
    assert_eq!(g.ip_colocation_factor_weight, -54.999999999999986);
    assert_eq!(
        p.peer_score_params.topics[&GossipKind::BeaconBlock].invalid_message_deliveries_weight,
        -219.99999999999994
    );
    assert_eq!(g.ip_colocation_factor_threshold, 3.0);
    close(g.behaviour_penalty_weight, -15.879335171059182, EPS);
    assert_eq!(g.retain_score_ms, 38_400_000);
    let m = p.gossipsub;
    assert_eq!(
        (
            m.mesh_n,
            m.mesh_n_low,
            m.mesh_n_high,
            m.gossip_lazy,
            m.heartbeat_interval_ms
        ),
        (8, 6, 12, 6, 700)
    );
    assert_eq!(
        (
            m.flood_publish,
            m.iwant_followup_time_ms,
            m.idontwant_message_size_threshold
        ),
        (false, 12_000, 16_829)
    );
}

#[test]
fn beacon_block() {
    let p = preset(&mainnet(), 1_000_000, Profile::Lodestar, None);
    let b = topic(&p, GossipKind::BeaconBlock);
    close(b.time_in_mesh_weight, 0.03333333333333333, EPS);
    close(b.first_message_deliveries_decay, 0.9928302477768374, EPS);
    close(b.first_message_deliveries_cap, 34.86870846001471, EPS);
    close(b.first_message_deliveries_weight, 1.1471603557060206, EPS);
    close(b.mesh_message_deliveries_decay, 0.9716279515771061, EPS);
    close(b.mesh_message_deliveries_threshold, 0.6849191409056553, EPS);
    close(b.mesh_message_deliveries_cap, 2.054757422716966, EPS);
    close(b.mesh_message_deliveries_weight, -468.9689336378979, EPS);
    close(b.mesh_failure_penalty_weight, -468.9689336378979, EPS);
    assert_eq!(
        (
            b.mesh_message_deliveries_window_ms,
            b.mesh_message_deliveries_activation_ms
        ),
        (12_000, 384_000)
    );
    close(
        b.invalid_message_deliveries_weight,
        -219.99999999999994,
        EPS,
    );
    close(b.invalid_message_deliveries_decay, 0.9971259067705325, EPS);
}

#[test]
fn aggregate_and_attestation() {
    let p = preset(&mainnet(), 1_000_000, Profile::Lodestar, None);
    let a = topic(&p, GossipKind::BeaconAggregateAndProof);
    // Aggregators floored to 1041.
    close(a.first_message_deliveries_cap, 1941.6472279922896, EPS);
    close(a.first_message_deliveries_weight, 0.020601064613246442, EPS);
    close(a.mesh_message_deliveries_threshold, 279.0591881368456, EPS);
    close(a.mesh_message_deliveries_cap, 1116.2367525473824, EPS);
    close(a.mesh_message_deliveries_weight, -0.002825075299606384, EPS);

    let s = topic(&p, GossipKind::BeaconAttestation(0));
    close(s.first_message_deliveries_cap, 910.7300053247936, EPS);
    close(s.first_message_deliveries_weight, 0.04392081052137378, EPS);
    close(s.mesh_message_deliveries_threshold, 266.5805169414318, EPS);
    close(s.mesh_message_deliveries_cap, 4265.288271062909, EPS);
    close(s.mesh_message_deliveries_weight, -0.09906399718185219, EPS);
    assert_eq!(s.mesh_message_deliveries_activation_ms, 204_000);
    close(s.invalid_message_deliveries_weight, -7039.999999999998, EPS);
    // BLS changes are scored by Lodestar, sync topics are not.
    assert!(
        p.peer_score_params
            .topics
            .contains_key(&GossipKind::BlsToExecutionChange)
    );
    assert!(
        p.unscored_topics
            .contains_key(&GossipKind::SyncCommittee(2))
    );
}

fn at(v: u64, slot: u64) -> pheme_scoring::ScorePreset {
    let chain = mainnet();
    pheme_scoring::derive(&pheme_scoring::DeriveInput {
        chain: &chain,
        active_validators: v,
        current_slot: slot,
        mesh_n: None,
        profile: Profile::Lodestar,
    })
    .unwrap()
}

#[test]
fn lodestar_upstream_unit_test_vectors() {
    // scoringParameters.test.ts: V = 16,384 at slot 10,000 (4 committees, multiple bursts).
    let p = at(16_384, 10_000);
    let a = topic(&p, GossipKind::BeaconAggregateAndProof);
    close(a.first_message_deliveries_cap, 119.37120325793134, EPS);
    close(a.first_message_deliveries_weight, 0.33508919159983663, EPS);
    close(a.mesh_message_deliveries_threshold, 17.15637660015189, EPS);
    close(a.mesh_message_deliveries_cap, 68.62550640060756, EPS);
    close(a.mesh_message_deliveries_weight, -0.7474317445685414, EPS);
    let s = topic(&p, GossipKind::BeaconAttestation(9));
    close(s.first_message_deliveries_cap, 14.921400407241418, EPS);
    close(s.first_message_deliveries_weight, 2.680713532798693, EPS);
    close(s.mesh_message_deliveries_threshold, 4.367655189568419, EPS);
    close(s.mesh_message_deliveries_cap, 69.8824830330947, EPS);
    close(s.mesh_message_deliveries_weight, -369.04214762841235, EPS);
    close(
        topic(&p, GossipKind::BeaconBlock).mesh_message_deliveries_weight,
        -468.9689336378979,
        EPS,
    );
}

#[test]
fn few_bursts_branch() {
    // V = 8,192: 2 committees per slot, one burst per subnet per epoch.
    let s = topic(&at(8_192, 10_000), GossipKind::BeaconAttestation(0));
    close(s.first_message_deliveries_decay, 0.9646616199111993, EPS);
    close(s.first_message_deliveries_cap, 28.29784493480262, EPS);
    close(s.first_message_deliveries_weight, 1.4135352035520299, EPS);
    close(s.mesh_message_deliveries_decay, 0.9910458562488609, EPS);
    close(s.mesh_message_deliveries_threshold, 8.854410952451218, EPS);
    close(s.mesh_message_deliveries_cap, 141.6705752392195, EPS);
    assert_eq!(s.mesh_message_deliveries_activation_ms, 384_000);
    close(s.mesh_message_deliveries_weight, -89.79523881566237, EPS);
}

#[test]
fn young_chain_boundary_is_inclusive() {
    // Block mesh decay is 160 slots: at slot 160 still young, at 161 mature.
    let young = topic(&at(1_000_000, 160), GossipKind::BeaconBlock);
    assert_eq!(
        (
            young.mesh_message_deliveries_threshold,
            young.mesh_message_deliveries_weight
        ),
        (0.0, 0.0)
    );
    close(young.mesh_failure_penalty_weight, -468.9689336378979, EPS);
    let mature = topic(&at(1_000_000, 161), GossipKind::BeaconBlock);
    close(
        mature.mesh_message_deliveries_weight,
        -468.9689336378979,
        EPS,
    );
}
