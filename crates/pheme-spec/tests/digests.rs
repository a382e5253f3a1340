//! Every built-in network's fork digests equal the ones in `testdata/networks.json` (a copy of
//! the reference table), for every scheduled fork and every blob-parameter-only fork.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pheme_spec::{Fork, Network};
use serde_json::Value;

fn reference() -> serde_json::Map<String, Value> {
    serde_json::from_str(include_str!("../testdata/networks.json")).unwrap()
}

#[test]
fn every_fork_digest_matches_the_reference() {
    let reference = reference();
    let mut checked = 0;
    for network in Network::ALL {
        let spec = network.chain_spec().unwrap();
        let entry = &reference[network.name()];
        for fork in entry["forks"].as_array().unwrap() {
            let name = fork["fork"].as_str().unwrap();
            let fork_id: Fork = name.parse().unwrap();
            let expected = fork["fork_digest"]
                .as_str()
                .map(|d| d.trim_start_matches("0x").to_owned());
            let got = spec.fork_digest_of(fork_id).map(|d| d.to_string());
            assert_eq!(got, expected, "{network} {name}");
            checked += 1;
        }
        for bpo in entry["blob_schedule"].as_array().unwrap() {
            let epoch = bpo["epoch"].as_u64().unwrap();
            let expected = bpo["fork_digest"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x");
            assert_eq!(
                spec.fork_digest_at(epoch).to_string(),
                expected,
                "{network} BPO at {epoch}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 54, "every row of the reference table was compared");
}

#[test]
fn constants_match_the_reference() {
    let reference = reference();
    for network in Network::ALL {
        let spec = network.chain_spec().unwrap();
        let entry = &reference[network.name()];
        assert_eq!(
            spec.slot_duration_ms,
            entry["slot_duration_ms"].as_u64().unwrap(),
            "{network}"
        );
        assert_eq!(
            spec.slots_per_epoch(),
            entry["slots_per_epoch"].as_u64().unwrap(),
            "{network}"
        );
        assert_eq!(
            spec.genesis_time,
            entry["genesis_time"].as_u64().unwrap(),
            "{network}"
        );
        assert_eq!(
            format!("{:?}", spec.genesis_validators_root),
            entry["genesis_validators_root"].as_str().unwrap(),
            "{network}"
        );
        assert!(!spec.bootnodes.is_empty(), "{network} has bootnodes");
        assert!(
            spec.bootnodes.iter().all(|e| e.starts_with("enr:")),
            "{network} bootnodes are ENRs"
        );
        // Gloas is kept, unscheduled, wherever the config names it.
        if let Some(gloas) = spec.fork_entry(Fork::Gloas) {
            assert!(
                !gloas.is_scheduled(),
                "{network} gloas must stay unscheduled"
            );
        }
    }
}

#[test]
fn mainnet_digest_schedule_in_order() {
    let spec = Network::Mainnet.chain_spec().unwrap();
    let schedule: Vec<(u64, String)> = spec
        .digest_schedule()
        .iter()
        .map(|d| (d.epoch, d.digest.to_string()))
        .collect();
    let expected = [
        (0, "b5303f2a"),
        (74240, "afcaaba0"),
        (144896, "4a26c58b"),
        (194048, "bba4da96"),
        (269568, "6a95a1a9"),
        (364032, "ad532ceb"),
        (411392, "cc2c5cdb"),
        (412672, "cb0d1acc"),
        (419072, "8c9f62fe"),
    ];
    let expected: Vec<(u64, String)> = expected
        .iter()
        .map(|(e, d)| (*e, (*d).to_owned()))
        .collect();
    assert_eq!(schedule, expected);
    assert_eq!(
        spec.next_digest_change(419_072),
        None,
        "nothing scheduled after BPO2"
    );
    assert_eq!(spec.next_fork(411_391).map(|f| f.fork), Some(Fork::Fulu));
    assert_eq!(spec.next_fork(411_392), None, "gloas is unscheduled");
}

#[test]
fn forks_sharing_genesis_collapse_to_the_last() {
    // Hoodi starts at deneb: the digest on the wire from genesis is deneb's.
    let hoodi = Network::Hoodi.chain_spec().unwrap();
    let first = hoodi.digest_schedule()[0];
    assert_eq!(
        (first.epoch, first.fork, first.digest.to_string()),
        (0, Fork::Deneb, "d2f1997f".to_owned())
    );
    let holesky = Network::Holesky.chain_spec().unwrap();
    assert_eq!(holesky.digest_schedule()[0].digest.to_string(), "69b7d974");
}

#[test]
fn gnosis_fulu_uses_the_electra_blob_fallback() {
    let gnosis = Network::Gnosis.chain_spec().unwrap();
    assert!(gnosis.blob_schedule.is_empty());
    let bp = gnosis.blob_parameters(1_714_688);
    assert_eq!((bp.epoch, bp.max_blobs_per_block), (1_337_856, 2));
    assert_eq!(gnosis.fork_digest_at(1_714_688).to_string(), "3237dab6");
}
