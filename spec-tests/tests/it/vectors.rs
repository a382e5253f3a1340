//! Runs every vector under `SPEC_TESTS_DIR` (default `../shared/spec-tests/tests`), and the
//! Gloas and Heze vectors generated in the repository (`spec-tests/generated`).

use std::path::Path;

#[test]
fn consensus_spec_tests() {
    run_all(&pheme_spec_tests::default_root());
}

#[test]
fn generated_spec_tests() {
    let root = pheme_spec_tests::generated_root();
    let report = run_all(&root);
    // Both forks, both presets: a generator change that drops one fails here.
    for fork in ["gloas", "heze"] {
        for preset in ["minimal", "mainnet"] {
            assert!(
                root.join(preset).join(fork).join("ssz_static").is_dir(),
                "no {preset}/{fork} vectors under {}",
                root.display()
            );
        }
    }
    assert!(report.cases["ssz_static/SignedExecutionPayloadBid"] > 0);
    assert!(report.cases["ssz_static/SignedInclusionList"] > 0);
    // The beacon state and the light client messages too, both forks and presets.
    assert_eq!(report.cases["ssz_static/BeaconState"], 2 * (6 + 1));
    assert_eq!(report.cases["ssz_static/LightClientUpdate"], 2 * (6 + 2));
    // Fulu's partial column containers (the shared fulu set lacks them).
    assert!(report.cases["ssz_static/PartialDataColumnSidecar"] > 0);
    assert!(report.cases["ssz_static/PartialDataColumnPartsMetadata"] > 0);
    // The release's partial column gossip cases, every verdict computed by Pheme and the
    // reference validator (none stood in).
    let partial = report.networking["fulu/gossip_partial_data_column_sidecar"];
    assert!(partial.cases >= 24, "{partial:?}");
    assert_eq!(partial.stood_in, 0, "{partial:?}");
    // The release's fulu block and data column gossip cases, likewise all computed.
    let columns = report.networking["fulu/gossip_data_column_sidecar"];
    assert!(columns.cases >= 17, "{columns:?}");
    assert_eq!(columns.stood_in, 0, "{columns:?}");
    assert_eq!(report.networking["fulu/gossip_beacon_block"].stood_in, 0);
    // The gossip cases of consensus-specs a08d8a6e2 at Gloas (every fork's modules, as
    // upstream runs them) and at Heze (blocks and bids).
    for (handler, cases) in [
        ("gloas/gossip_attester_slashing", 12),
        ("gloas/gossip_beacon_aggregate_and_proof", 39),
        ("gloas/gossip_beacon_attestation", 30),
        ("gloas/gossip_beacon_block", 44),
        ("gloas/gossip_bls_to_execution_change", 6),
        ("gloas/gossip_data_column_sidecar", 10),
        ("gloas/gossip_execution_payload_bid", 37),
        ("gloas/gossip_execution_payload_envelope", 20),
        ("gloas/gossip_payload_attestation_message", 13),
        ("gloas/gossip_proposer_preferences", 19),
        ("gloas/gossip_proposer_slashing", 9),
        ("gloas/gossip_sync_committee_contribution_and_proof", 14),
        ("gloas/gossip_sync_committee_message", 7),
        ("gloas/gossip_voluntary_exit", 10),
        ("heze/gossip_beacon_block", 44),
        ("heze/gossip_execution_payload_bid", 37),
    ] {
        let n = report.networking[handler];
        assert_eq!(n.cases, cases, "{handler}: {n:?}");
        // Computed by Pheme and the reference validator, but for the two bids whose
        // builder's activity turns on finality the anchor state cannot give (see
        // refval/epbs.rs).
        let stood_in = usize::from(handler.ends_with("gossip_execution_payload_bid")) * 2;
        assert!(n.stood_in <= stood_in, "{handler}: {n:?}");
    }
}

fn run_all(root: &Path) -> pheme_spec_tests::Report {
    assert!(
        root.is_dir(),
        "no vectors at {} (set SPEC_TESTS_DIR)",
        root.display()
    );
    let report = pheme_spec_tests::run(root);
    for (handler, n) in &report.cases {
        println!("{n:5} cases  {handler}");
    }
    let mut all = pheme_spec_tests::NetworkingCount::default();
    for (handler, n) in &report.networking {
        println!(
            "networking/{handler}: {} cases, {} verdicts computed, {} stood in; {} reached the reference validator, which refused {}",
            n.cases, n.computed, n.stood_in, n.reached, n.refused
        );
        all.cases += n.cases;
        all.computed += n.computed;
        all.stood_in += n.stood_in;
    }
    println!(
        "networking: {} cases, {} verdicts computed, {} stood in",
        all.cases, all.computed, all.stood_in
    );
    let total: usize = report.cases.values().sum();
    assert!(total > 0, "no case found under {}", root.display());
    if !report.failures.is_empty() {
        let shown: Vec<_> = report.failures.iter().take(400).collect();
        panic!(
            "{} of {total} cases failed:\n{}",
            report.failures.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(
        report.unread.is_empty(),
        "{} vector files were never read, e.g. {:?}",
        report.unread.len(),
        report.unread.iter().take(5).collect::<Vec<_>>()
    );
    report
}
