//! The `lighthouse` profile against values worked by hand from Lighthouse's formulas
//! (mainnet, V = 1,000,000, mesh_n 5, mature chain).

use crate::common::{close, mainnet, preset, topic};
use pheme_scoring::Profile;
use pheme_spec::GossipKind;

const EPS: f64 = 1e-9;

#[test]
fn globals() {
    let p = preset(&mainnet(), 1_000_000, Profile::Lighthouse, None);
    let g = &p.peer_score_params;
    close(g.topic_score_cap, 53.75, EPS);
    close(g.ip_colocation_factor_weight, -53.75, EPS);
    assert_eq!(g.ip_colocation_factor_threshold, 8.0);
    close(g.behaviour_penalty_decay, 0.9857119009006162, EPS);
    // -4000 / (0.3125 / (1 - d) - 6)^2
    close(g.behaviour_penalty_weight, -15.879335171059182, EPS);
    assert_eq!(g.behaviour_penalty_threshold, 6.0);
    assert_eq!(
        (g.decay_interval_ms, g.retain_score_ms),
        (12_000, 38_400_000)
    );
    assert_eq!(
        (g.slow_peer_weight, g.slow_peer_threshold, g.slow_peer_decay),
        (-10.0, 0.0, 0.1)
    );
    close(p.meta.aggregators_per_slot, 1041.6666666, 1e-8);
}

#[test]
fn block_aggregate_attestation() {
    let p = preset(&mainnet(), 1_000_000, Profile::Lighthouse, None);
    let b = topic(&p, GossipKind::BeaconBlock);
    // 2 * 1 / 5 over 1 - 0.01^(1/640)
    close(
        b.first_message_deliveries_cap,
        0.4 / (1.0 - 0.9928302477768374),
        EPS,
    );
    close(b.first_message_deliveries_cap, 55.79, 1e-3);
    close(
        b.first_message_deliveries_weight,
        40.0 / b.first_message_deliveries_cap,
        EPS,
    );
    close(b.mesh_message_deliveries_decay, 0.9716279515771061, EPS);
    close(b.mesh_message_deliveries_threshold, 0.6849191409056553, EPS);
    close(b.mesh_message_deliveries_cap, 2.054757422716966, EPS);
    assert_eq!(b.mesh_message_deliveries_weight, -0.5);
    assert_eq!(b.mesh_failure_penalty_weight, -0.5);
    assert_eq!(
        (
            b.mesh_message_deliveries_window_ms,
            b.mesh_message_deliveries_activation_ms
        ),
        (2_000, 384_000)
    );
    close(b.invalid_message_deliveries_weight, -215.0, EPS);
    close(b.invalid_message_deliveries_decay, 0.9971259067705325, EPS);

    let a = topic(&p, GossipKind::BeaconAggregateAndProof);
    close(
        a.first_message_deliveries_cap,
        2.0 * 1041.6666666666667 / 5.0 / (1.0 - 0.8659643233600653),
        EPS,
    );
    close(a.first_message_deliveries_cap, 3108.6, 1e-4);
    close(a.mesh_message_deliveries_threshold, 279.24, 1e-4);
    close(a.mesh_message_deliveries_cap, 1116.95, 1e-4);

    let s = topic(&p, GossipKind::BeaconAttestation(17));
    close(s.topic_weight, 1.0 / 64.0, EPS);
    close(s.first_message_deliveries_cap, 1457.2, 1e-4);
    close(s.mesh_message_deliveries_threshold, 266.5805169414318, EPS);
    close(s.mesh_message_deliveries_cap, 4265.288271062909, EPS);
    assert_eq!(s.mesh_message_deliveries_activation_ms, 204_000, "17 slots");
    assert_eq!(s.mesh_message_deliveries_weight, -1.0 / 64.0);
    close(s.invalid_message_deliveries_weight, -6880.0, EPS);
    close(
        topic(&p, GossipKind::VoluntaryExit).invalid_message_deliveries_weight,
        -2150.0,
        EPS,
    );
}

#[test]
fn unscored_topics_and_mesh_by_network_load() {
    let p = preset(&mainnet(), 1_000_000, Profile::Lighthouse, None);
    for kind in [
        GossipKind::SyncCommittee(0),
        GossipKind::SyncCommitteeContributionAndProof,
        GossipKind::BlsToExecutionChange,
        GossipKind::DataColumnSidecar(5),
    ] {
        assert!(!p.peer_score_params.topics.contains_key(&kind), "{kind}");
        assert!(p.unscored_topics.contains_key(&kind), "{kind}");
    }
    let m = p.gossipsub;
    assert_eq!(
        (
            m.mesh_n,
            m.mesh_n_low,
            m.mesh_outbound_min,
            m.mesh_n_high,
            m.gossip_lazy
        ),
        (5, 3, 2, 10, 3)
    );
    assert_eq!(
        (m.heartbeat_interval_ms, m.history_length, m.flood_publish),
        (1_000, 12, false)
    );
    let eight = preset(&mainnet(), 1_000_000, Profile::Lighthouse, Some(8));
    assert_eq!(
        (eight.gossipsub.mesh_n_low, eight.gossipsub.mesh_n_high),
        (4, 10)
    );
    // The runtime mesh degree enters the first-delivery cap.
    close(
        topic(&eight, GossipKind::BeaconBlock).first_message_deliveries_cap,
        0.25 / (1.0 - 0.9928302477768374),
        EPS,
    );
}

#[test]
fn single_burst_networks_and_young_chains() {
    // Sepolia-sized: 1 committee per slot, so one burst per subnet per epoch.
    let p = preset(&mainnet(), 1_800, Profile::Lighthouse, None);
    let s = topic(&p, GossipKind::BeaconAttestation(0));
    assert_eq!(s.mesh_message_deliveries_activation_ms, 3 * 384_000);
    close(
        s.mesh_message_deliveries_decay,
        0.01f64.powf(1.0 / 512.0),
        EPS,
    );
    close(
        s.first_message_deliveries_decay,
        0.01f64.powf(1.0 / 128.0),
        EPS,
    );
    close(p.meta.aggregators_per_slot, 18.75, EPS);

    let chain = mainnet();
    let young = pheme_scoring::derive(&pheme_scoring::DeriveInput {
        chain: &chain,
        active_validators: 1_000_000,
        current_slot: 100,
        mesh_n: None,
        profile: Profile::Lighthouse,
    })
    .unwrap();
    // Slot 100: block (160) and attestation (128) windows not passed, aggregate (64) passed.
    let b = topic(&young, GossipKind::BeaconBlock);
    assert_eq!(
        (
            b.mesh_message_deliveries_threshold,
            b.mesh_message_deliveries_weight
        ),
        (0.0, 0.0)
    );
    assert_eq!(
        b.mesh_failure_penalty_weight, -0.5,
        "Lighthouse leaves the failure weight"
    );
    assert!(
        topic(&young, GossipKind::BeaconAggregateAndProof).mesh_message_deliveries_weight < 0.0
    );
    assert_eq!(
        young.meta.mesh_penalties_deferred,
        vec!["beacon_attestation".to_owned(), "beacon_block".to_owned()]
    );
}
