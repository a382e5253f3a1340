//! Loading networks from consensus-specs `config.yaml` files, and refusing bad ones clearly.

use std::path::Path;

use pheme_spec::{Fork, Network, PresetBase, SpecError, load_network, parse_config_yaml};

fn testdata(rel: &str) -> String {
    format!("{}/testdata/{rel}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_mainnet_config_file_agrees_with_the_builtin() {
    let file = load_network(&testdata("mainnet-like/config.yaml")).unwrap();
    let builtin = Network::Mainnet.chain_spec().unwrap();
    assert_eq!(file.name, "mainnet");
    // genesis_validators_root.txt + MIN_GENESIS_TIME + GENESIS_DELAY: exact for pre-deposited
    // testnets; mainnet's real genesis (eth1-triggered) came 604,777 s earlier, which changes
    // no digest.
    assert_eq!(file.genesis_time, 1_606_824_000 + 604_800);
    assert_eq!(
        file.genesis_validators_root,
        builtin.genesis_validators_root
    );
    assert_eq!(file.digest_schedule(), builtin.digest_schedule());
    assert_eq!(file.slot_duration_ms, 12_000);
    assert_eq!(
        file.fork_entry(Fork::Gloas).map(|f| f.is_scheduled()),
        Some(false)
    );
}

#[test]
fn a_directory_works_like_its_config_yaml() {
    let spec = load_network(&testdata("devnet")).unwrap();
    assert_eq!(spec.name, "pheme-devnet");
}

#[test]
fn a_minimal_devnet_with_seconds_per_slot_and_extension_keys() {
    let spec = load_network(&testdata("devnet/config.yaml")).unwrap();
    assert_eq!(spec.preset.base, PresetBase::Minimal);
    assert_eq!(spec.slots_per_epoch(), 8);
    assert_eq!(spec.slot_duration_ms, 2_000);
    assert_eq!(spec.genesis_time, 1_700_000_000);
    assert_eq!(spec.fork_at(0), Fork::Altair);
    assert_eq!(spec.bootnodes.len(), 1);
    let schedule = spec.digest_schedule();
    assert_eq!(schedule.len(), 1, "bellatrix is unscheduled: {schedule:?}");
    assert_eq!(schedule[0].fork, Fork::Altair);
}

#[test]
fn genesis_ssz_beside_the_config_is_read() {
    let dir = std::env::temp_dir().join(format!("pheme-genesis-ssz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut head = 1_234_567u64.to_le_bytes().to_vec();
    head.extend([0x22u8; 32]);
    head.extend([0u8; 100]); // the rest of a BeaconState
    std::fs::write(dir.join("genesis.ssz"), head).unwrap();
    let text = "PRESET_BASE: mainnet\nGENESIS_FORK_VERSION: 0x10000000\nSECONDS_PER_SLOT: 12\n";
    let spec = parse_config_yaml(text, &dir.join("config.yaml"), &dir, "x").unwrap();
    assert_eq!(spec.genesis_time, 1_234_567);
    assert_eq!(spec.genesis_validators_root.0, [0x22; 32]);
    assert_eq!(spec.name, "x");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn parse_err(text: &str) -> String {
    let dir = Path::new("/nonexistent-pheme-dir");
    parse_config_yaml(text, &dir.join("config.yaml"), dir, "t")
        .unwrap_err()
        .to_string()
}

const GENESIS: &str = "GENESIS_TIME: 1\nGENESIS_VALIDATORS_ROOT: '0x0000000000000000000000000000000000000000000000000000000000000000'\n";

#[test]
fn bad_files_give_one_clear_line() {
    let cases = [
        ("PRESET_BASE: [unclosed", "not valid YAML"),
        ("- a\n- b\n", "not a YAML mapping"),
        (
            "SECONDS_PER_SLOT: 12\nGENESIS_FORK_VERSION: 0x00000000\n",
            "PRESET_BASE is missing",
        ),
        ("PRESET_BASE: huge\n", "unknown preset"),
        (
            "PRESET_BASE: mainnet\nGENESIS_FORK_VERSION: 0x00000000\n",
            "neither SLOT_DURATION_MS nor SECONDS_PER_SLOT",
        ),
        (
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: 12000\n",
            "GENESIS_FORK_VERSION is missing",
        ),
        (
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: x\n",
            "SLOT_DURATION_MS = x is not an unsigned integer",
        ),
        (
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: 1\nGENESIS_FORK_VERSION: '0x0102'\n",
            "4-byte version",
        ),
        (
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: 1\nGENESIS_FORK_VERSION: 0x00\nALTAIR_FORK_EPOCH: 3\n",
            "ALTAIR_FORK_VERSION is not",
        ),
        (
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: 0\nGENESIS_FORK_VERSION: 0x00\n",
            "slot duration is 0",
        ),
        (
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: 1\nGENESIS_FORK_VERSION: 0x00\n",
            "genesis unknown",
        ),
        (
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: 1\nGENESIS_FORK_VERSION: 0x00\nBLOB_SCHEDULE: 3\n",
            "BLOB_SCHEDULE",
        ),
        (
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: 1\nGENESIS_FORK_VERSION: 0x00\nBLOB_SCHEDULE:\n  - EPOCH: 1\n",
            "MAX_BLOBS_PER_BLOCK missing",
        ),
        (
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: 1\nGENESIS_FORK_VERSION: 0x00\nALTAIR_FORK_VERSION: 0x01\nALTAIR_FORK_EPOCH: 9\nBELLATRIX_FORK_VERSION: 0x02\nBELLATRIX_FORK_EPOCH: 3\n",
            "bellatrix is scheduled before altair",
        ),
    ];
    for (text, expected) in cases {
        let text = if expected == "genesis unknown" || !text.contains("GENESIS_FORK") {
            text.to_owned()
        } else {
            format!("{text}{GENESIS}")
        };
        let err = parse_err(&text);
        assert!(err.contains(expected), "{text:?}: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

#[test]
fn unknown_names_and_missing_files() {
    let err = load_network("mainnett").unwrap_err();
    assert!(matches!(err, SpecError::UnknownNetwork { .. }));
    assert!(
        err.to_string()
            .contains("mainnet, sepolia, holesky, hoodi, gnosis, chiado"),
        "{err}"
    );
    assert!(load_network("/nonexistent/config.yaml").is_err());
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let path = std::env::temp_dir().join(format!("pheme-big-{}.yaml", std::process::id()));
    std::fs::write(&path, vec![b'#'; 2 * 1024 * 1024]).unwrap();
    let err = load_network(path.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("larger than"), "{err}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_verbatim_upstream_config_loads() {
    // consensus-specs configs/mainnet.yaml as published (before Fulu was scheduled): u128
    // TERMINAL_TOTAL_DIFFICULTY, an unquoted 20-byte deposit address, EIP stub forks, and a
    // BLOB_SCHEDULE whose deneb/electra entries change no digest.
    let file = load_network(&testdata("upstream-mainnet/config.yaml")).unwrap();
    let builtin = Network::Mainnet.chain_spec().unwrap();
    assert_eq!(file.name, "mainnet");
    assert_eq!(file.slot_duration_ms, 12_000, "from SECONDS_PER_SLOT");
    assert_eq!(
        file.fork_entry(Fork::Fulu).map(|f| f.is_scheduled()),
        Some(false)
    );
    let schedule: Vec<_> = file
        .digest_schedule()
        .iter()
        .map(|d| (d.epoch, d.digest))
        .collect();
    let expected: Vec<_> = builtin
        .digest_schedule()
        .iter()
        .take(6)
        .map(|d| (d.epoch, d.digest))
        .collect();
    assert_eq!(schedule, expected, "phase0..electra, nothing after");
    assert_eq!(file.blob_schedule.len(), 2);
}

#[test]
fn unquoted_hex_with_leading_zeros_keeps_its_bytes() {
    let text = "PRESET_BASE: minimal\nSLOT_DURATION_MS: 6000\nGENESIS_FORK_VERSION: 0x00000001\nGENESIS_TIME: 5\n\
                GENESIS_VALIDATORS_ROOT: 0x0000000000000000000000000000000000000000000000000000000000000abc\n";
    let dir = Path::new("/nonexistent-pheme-dir");
    let spec = parse_config_yaml(text, &dir.join("config.yaml"), dir, "t").unwrap();
    assert_eq!(spec.forks[0].version.0, [0, 0, 0, 1]);
    let mut want = [0u8; 32];
    want[30] = 0x0a;
    want[31] = 0xbc;
    assert_eq!(spec.genesis_validators_root.0, want);
    let half = "PRESET_BASE: minimal\nSLOT_DURATION_MS: 6000\nGENESIS_FORK_VERSION: 0x00000001\nGENESIS_TIME: 5\n";
    let err = parse_config_yaml(half, &dir.join("config.yaml"), dir, "t")
        .unwrap_err()
        .to_string();
    assert!(err.contains("must be given together"), "{err}");
}
