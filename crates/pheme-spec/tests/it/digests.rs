//! Every built-in network's fork digests equal the ones in `testdata/networks.json` (a copy of
//! the reference table), for every scheduled fork and every blob-parameter-only fork.

use pheme_spec::{Fork, Network};
use serde_json::Value;

fn reference() -> serde_json::Map<String, Value> {
    serde_json::from_str(include_str!("../../testdata/networks.json")).unwrap()
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
fn constants_match_the_published_summary() {
    // The summary table of networks.md, typed in independently of the embedded JSON.
    let table = [
        (
            Network::Mainnet,
            32,
            12_000,
            1_606_824_023,
            "4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95",
        ),
        (
            Network::Sepolia,
            32,
            12_000,
            1_655_733_600,
            "d8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078",
        ),
        (
            Network::Holesky,
            32,
            12_000,
            1_695_902_400,
            "9143aa7c615a7f7115e2b6aac319c03529df8242ae705fba9df39b79c59fa8b1",
        ),
        (
            Network::Hoodi,
            32,
            12_000,
            1_742_213_400,
            "212f13fc4df078b6cb7db228f1c8307566dcecf900867401a92023d7ba99cb5f",
        ),
        (
            Network::Gnosis,
            16,
            5_000,
            1_638_993_340,
            "f5dcb5564e829aab27264b9becd5dfaa017085611224cb3036f573368dbb9d47",
        ),
        (
            Network::Chiado,
            16,
            5_000,
            1_665_396_300,
            "9d642dac73058fbf39c0ae41ab1e34e4d889043cb199851ded7095bc99eb4c1e",
        ),
    ];
    for (network, spe, slot_ms, genesis, gvr) in table {
        let spec = network.chain_spec().unwrap();
        assert_eq!(
            (
                spec.slots_per_epoch(),
                spec.slot_duration_ms,
                spec.genesis_time
            ),
            (spe, slot_ms, genesis),
            "{network}"
        );
        assert_eq!(spec.genesis_validators_root.to_string(), gvr, "{network}");
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
