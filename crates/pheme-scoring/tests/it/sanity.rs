//! The sanity checks on every built-in network x profile at the network's default validator
//! count, the figures they produce, and bad inputs.

use crate::common::{MATURE_SLOT, mainnet, preset};
use pheme_scoring::sanity::{Behaviour, check, simulate_topic};
use pheme_scoring::{DeriveError, DeriveInput, Profile, derive};
use pheme_spec::{GossipKind, Network};

#[test]
fn every_builtin_network_and_profile_is_sane() {
    for network in Network::ALL {
        let chain = network.chain_spec().unwrap();
        for profile in Profile::ALL {
            let slot = chain.start_slot(chain.latest_scheduled_fork().epoch)
                + 100 * chain.slots_per_epoch();
            let p = derive(&DeriveInput {
                chain: &chain,
                active_validators: network.default_active_validators(),
                current_slot: slot,
                mesh_n: None,
                profile,
            })
            .unwrap();
            let report = check(&p, &chain);
            assert!(
                report.is_sane(),
                "{network} {profile}: {:#?}",
                report.violations
            );
        }
    }
}

#[test]
fn recommendations_figures_on_mainnet() {
    let chain = mainnet();
    let p = preset(&chain, 1_000_000, Profile::Recommendations, None);
    let report = check(&p, &chain);
    let row = |base: &str| {
        report
            .topics
            .iter()
            .find(|r| r.topic.base_name() == base)
            .unwrap()
            .clone()
    };
    let block = row("beacon_block");
    assert!(block.honest_steady_score > 0.0 && block.honest_min_score >= 0.0);
    // -49.5 per invalid message squared: sqrt(16000 / 49.5) = 17.98.
    assert_eq!(block.invalid_to_graylist, Some(18));
    // P3 switches on after 8 epochs with a deficit of 34.9^2 * -0.0206 = -25 raw against P1's 8.3.
    let silent = block.silent_negative_after_ms.unwrap();
    assert!(
        silent > 8 * 384_000 && silent <= 8 * 384_000 + 12_000,
        "{silent}"
    );
    let aggregate = row("beacon_aggregate_and_proof");
    assert!(aggregate.silent_negative_after_ms.unwrap() <= 5 * 12_000);
    let attestation = row("beacon_attestation");
    assert_eq!(
        (attestation.count, attestation.silent_negative_after_ms),
        (64, None)
    );
    assert!((attestation.expected_per_slot - 488.28125).abs() < 1e-9);
    assert_eq!(row("data_column_sidecar").count, 128);
}

#[test]
fn client_findings_are_reported_not_hidden() {
    let chain = mainnet();
    let lighthouse = check(
        &preset(&chain, 1_000_000, Profile::Lighthouse, None),
        &chain,
    );
    assert!(lighthouse.is_sane());
    assert!(
        lighthouse
            .findings
            .iter()
            .any(|f| f.starts_with("beacon_block: a silent mesh peer never goes negative")),
        "{:?}",
        lighthouse.findings
    );
    // Prysm scores no mesh deliveries at all: nothing to find, no silent-peer figure.
    let prysm = check(&preset(&chain, 1_000_000, Profile::Prysm, None), &chain);
    assert!(prysm.findings.is_empty());
    assert!(
        prysm
            .topics
            .iter()
            .all(|t| t.silent_negative_after_ms.is_none())
    );
}

#[test]
fn a_broken_preset_is_caught() {
    let chain = mainnet();
    let mut p = preset(&chain, 1_000_000, Profile::Recommendations, None);
    p.thresholds.publish_threshold = -2000.0;
    let block = p
        .peer_score_params
        .topics
        .get_mut(&GossipKind::BeaconBlock)
        .unwrap();
    block.mesh_message_deliveries_weight = 0.5;
    block.invalid_message_deliveries_weight = 0.0;
    p.peer_score_params
        .topics
        .remove(&GossipKind::VoluntaryExit);
    let report = check(&p, &chain);
    let all = report.violations.join("\n");
    for expected in [
        "thresholds out of order",
        "beacon_block: mesh_message_deliveries_weight must be <= 0",
        "beacon_block: invalid messages are never penalised",
        "voluntary_exit: neither scored nor listed as unscored",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in\n{all}");
    }
}

#[test]
fn honest_and_silent_traces() {
    let chain = mainnet();
    let p = preset(&chain, 1_000_000, Profile::Recommendations, None);
    let block = p.peer_score_params.topics[&GossipKind::BeaconBlock];
    let horizon = 40 * 384_000;
    let honest = simulate_topic(
        &block,
        &p.peer_score_params,
        12_000,
        Behaviour::honest(1.0, 8),
        horizon,
    );
    assert_eq!(honest.len(), 40 * 32);
    assert!(honest.iter().all(|s| s.1 >= 0.0));
    // At steady state: P1 capped (9.72) plus the fair share of first deliveries (capped 17.43).
    let steady = honest.last().unwrap().1;
    assert!((steady - 0.5 * (9.72 + 17.43)).abs() < 0.5, "{steady}");
    let silent = simulate_topic(
        &block,
        &p.peer_score_params,
        12_000,
        Behaviour::SILENT,
        horizon,
    );
    assert!(silent.last().unwrap().1 < -5.0);
}

#[test]
fn zero_and_absurd_inputs_are_errors() {
    let chain = mainnet();
    let input = |v: u64, mesh_n: Option<usize>| DeriveInput {
        chain: &chain,
        active_validators: v,
        current_slot: MATURE_SLOT,
        mesh_n,
        profile: Profile::Recommendations,
    };
    assert!(matches!(
        derive(&input(0, None)),
        Err(DeriveError::NoValidators)
    ));
    assert!(matches!(
        derive(&input(1 << 41, None)),
        Err(DeriveError::TooManyValidators(_))
    ));
    assert!(matches!(
        derive(&input(1000, Some(0))),
        Err(DeriveError::BadMeshDegree(0))
    ));
    assert!(matches!(
        derive(&input(1000, Some(65))),
        Err(DeriveError::BadMeshDegree(65))
    ));
    let with = |f: &dyn Fn(&mut pheme_spec::ChainSpec)| {
        let mut c = chain.clone();
        f(&mut c);
        derive(&DeriveInput {
            chain: &c,
            ..input(1000, None)
        })
        .map(|_| ())
    };
    assert!(matches!(
        with(&|c| c.slot_duration_ms = 0),
        Err(DeriveError::ZeroSlotDuration)
    ));
    assert!(matches!(
        with(&|c| c.slot_duration_ms = 500),
        Err(DeriveError::SlotTooShort(500))
    ));
    // Absurd chain constants are refused before anything is allocated or multiplied.
    for (what, f) in [
        (
            "ATTESTATION_SUBNET_COUNT",
            &(|c: &mut pheme_spec::ChainSpec| c.attestation_subnet_count = 10_000_000_000_000)
                as &dyn Fn(&mut pheme_spec::ChainSpec),
        ),
        ("SLOTS_PER_EPOCH", &|c: &mut pheme_spec::ChainSpec| {
            c.preset.slots_per_epoch = u64::MAX / 2
        }),
        ("SLOT_DURATION_MS", &|c: &mut pheme_spec::ChainSpec| {
            c.slot_duration_ms = u64::MAX
        }),
        (
            "MAX_COMMITTEES_PER_SLOT",
            &|c: &mut pheme_spec::ChainSpec| c.preset.max_committees_per_slot = 0,
        ),
        (
            "DATA_COLUMN_SIDECAR_SUBNET_COUNT",
            &|c: &mut pheme_spec::ChainSpec| c.data_column_sidecar_subnet_count = 1 << 40,
        ),
    ] {
        let err = with(f).unwrap_err();
        assert!(
            matches!(err, DeriveError::InvalidChain(_)) && err.to_string().contains(what),
            "{what}: {err}"
        );
    }
    assert!(matches!(
        with(&|c| c.forks.clear()),
        Err(DeriveError::InvalidChain(_))
    ));
    let lh = DeriveInput {
        profile: Profile::Lighthouse,
        ..input(1000, Some(7))
    };
    assert!(matches!(
        derive(&lh),
        Err(DeriveError::UnsupportedMeshDegree { mesh_n: 7, .. })
    ));
    assert!("teku".parse::<Profile>().is_err());
}

#[test]
fn young_chains_defer_mesh_penalties_in_every_profile() {
    let chain = mainnet();
    for profile in [
        Profile::Recommendations,
        Profile::Lighthouse,
        Profile::Lodestar,
    ] {
        let at = |slot| {
            derive(&DeriveInput {
                chain: &chain,
                active_validators: 500_000,
                current_slot: slot,
                mesh_n: None,
                profile,
            })
            .unwrap()
        };
        let young = at(5);
        let block = young.peer_score_params.topics[&GossipKind::BeaconBlock];
        assert_eq!(block.mesh_message_deliveries_weight, 0.0, "{profile}");
        assert!(
            young
                .meta
                .mesh_penalties_deferred
                .contains(&"beacon_block".to_owned()),
            "{profile}"
        );
        let mature = at(MATURE_SLOT);
        assert!(
            mature.peer_score_params.topics[&GossipKind::BeaconBlock]
                .mesh_message_deliveries_weight
                < 0.0,
            "{profile}"
        );
        assert!(mature.meta.mesh_penalties_deferred.is_empty(), "{profile}");
        // Slot 5 is phase0 on mainnet: no sync committee topics yet.
        assert!(
            !young
                .peer_score_params
                .topics
                .contains_key(&GossipKind::SyncCommittee(0))
        );
    }
}
