//! The `prysm` profile against Prysm's arithmetic worked by hand (mainnet, V = 1,000,000).

use crate::common::{close, mainnet, preset, topic};
use pheme_scoring::Profile;
use pheme_spec::GossipKind;

#[test]
fn globals_and_block() {
    let p = preset(&mainnet(), 1_000_000, Profile::Prysm, None);
    let g = &p.peer_score_params;
    assert_eq!(
        (
            g.topic_score_cap,
            g.ip_colocation_factor_weight,
            g.ip_colocation_factor_threshold
        ),
        (32.72, -35.11, 10.0)
    );
    assert_eq!(
        (g.behaviour_penalty_weight, g.behaviour_penalty_threshold),
        (-15.92, 6.0)
    );
    close(g.behaviour_penalty_decay, 0.9857119009006162, 1e-12);
    let b = topic(&p, GossipKind::BeaconBlock);
    assert_eq!(
        (
            b.topic_weight,
            b.first_message_deliveries_cap,
            b.invalid_message_deliveries_weight
        ),
        (0.8, 23.0, -140.4475)
    );
    assert_eq!(
        (
            b.mesh_message_deliveries_weight,
            b.mesh_message_deliveries_threshold,
            b.mesh_message_deliveries_cap
        ),
        (0.0, 16.0, 160.0)
    );
    assert_eq!(b.mesh_message_deliveries_activation_ms, 4 * 384_000);
    // Blob and column sidecars reuse the block's parameters, weight 0.8 each.
    assert_eq!(topic(&p, GossipKind::DataColumnSidecar(100)), b);
}

#[test]
fn committee_topics() {
    let p = preset(&mainnet(), 1_000_000, Profile::Prysm, None);
    // 64 committees * 16 aggregators; rate floor(1024 * 2 / 8) = 256 over 1 - 0.01^(1/32).
    let a = topic(&p, GossipKind::BeaconAggregateAndProof);
    close(a.first_message_deliveries_cap, 1909.94, 1e-5);
    close(a.first_message_deliveries_weight, 0.020943, 1e-4);
    close(a.mesh_message_deliveries_threshold, 73.51, 1e-3);
    assert_eq!(
        (
            a.mesh_message_deliveries_weight,
            a.invalid_message_deliveries_weight
        ),
        (0.0, -310.0)
    );
    let s = topic(&p, GossipKind::BeaconAttestation(40));
    close(s.first_message_deliveries_cap, 3452.34, 1e-5);
    close(s.first_message_deliveries_weight, 0.011586, 1e-4);
    close(s.mesh_message_deliveries_threshold, 600.13, 1e-4);
    close(s.invalid_message_deliveries_weight, -9920.0, 1e-12);
    let sync = topic(&p, GossipKind::SyncCommittee(1));
    close(sync.topic_weight, 0.1, 1e-12);
    close(sync.first_message_deliveries_cap, 238.74, 1e-4);
    close(sync.first_message_deliveries_weight, 0.167545, 1e-4);
    close(sync.mesh_message_deliveries_threshold, 38.82, 1e-3);
    close(sync.invalid_message_deliveries_weight, -1550.0, 1e-12);
    // Prysm's substring dispatch gives contributions the sync-subnet parameters.
    assert_eq!(
        topic(&p, GossipKind::SyncCommitteeContributionAndProof),
        sync
    );
    let exit = topic(&p, GossipKind::VoluntaryExit);
    assert_eq!(
        (
            exit.first_message_deliveries_weight,
            exit.first_message_deliveries_cap,
            exit.invalid_message_deliveries_weight
        ),
        (2.0, 5.0, -2000.0)
    );
    let slashing = topic(&p, GossipKind::AttesterSlashing);
    assert_eq!(
        (
            slashing.first_message_deliveries_weight,
            slashing.first_message_deliveries_cap
        ),
        (36.0, 1.0)
    );
}

#[test]
fn small_networks_leave_subnets_unscored() {
    // Below 8,192 validators floor(floor(V/64)/32) * 2 / 8 is 0: Prysm returns no parameters.
    let p = preset(&mainnet(), 8_191, Profile::Prysm, None);
    assert!(
        p.unscored_topics
            .contains_key(&GossipKind::BeaconAttestation(0))
    );
    let p = preset(&mainnet(), 8_192, Profile::Prysm, None);
    assert!(
        p.peer_score_params
            .topics
            .contains_key(&GossipKind::BeaconAttestation(0))
    );
}
