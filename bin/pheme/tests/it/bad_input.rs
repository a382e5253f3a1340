//! Bad input: one clear line on stderr, a non-zero exit, never a panic.

use crate::common::{pheme, temp_dir};

const GENESIS: &str = "GENESIS_TIME: 0\nGENESIS_VALIDATORS_ROOT: '0x0000000000000000000000000000000000000000000000000000000000000000'\n";

#[track_caller]
fn fails_with(args: &[&str], expected: &str) {
    let run = pheme(args);
    assert_ne!(run.code, 0, "{args:?} succeeded");
    assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    if run.code == 1 {
        assert_eq!(
            run.stderr.trim_end().lines().count(),
            1,
            "{args:?}: one line: {}",
            run.stderr
        );
    }
}

#[test]
fn bad_inputs() {
    fails_with(
        &["simulate", "--p3-share", "0.5", "--slots", "1"],
        "mesh threshold share 0.5 must be above 0 and below the ramp share 0.2",
    );
    fails_with(
        &["simulate", "--profile", "lighthouse", "--p3-share", "0.1"],
        "lighthouse copies a client's derivation and takes no tuning",
    );
    fails_with(
        &["simulate", "--sybil-forward-share", "2"],
        "--sybil-forward-share must be between 0 and 1",
    );
    fails_with(
        &["presets", "generate", "--network", "mainnett"],
        "unknown network \"mainnett\"",
    );
    fails_with(
        &["presets", "generate", "--active-validators", "0"],
        "active validator count must be at least 1",
    );
    fails_with(
        &["presets", "generate", "--active-validators", "-5"],
        "error:",
    );
    fails_with(
        &["presets", "generate", "--network", "/no/such/config.yaml"],
        "no such file",
    );
    fails_with(
        &["presets", "generate", "--profile", "teku"],
        "unknown profile",
    );
    fails_with(&["presets", "generate", "--mesh-n", "0"], "mesh degree 0");
    fails_with(
        &["presets", "diff", "mainnet:x", "mainnet"],
        "unknown profile",
    );
    fails_with(
        &["presets", "diff", "nowhere", "mainnet"],
        "neither a preset file",
    );
    let dir = temp_dir("bad");
    let config = dir.join("config.yaml");
    std::fs::write(&config, "PRESET_BASE: mainnet\nSLOT_DURATION_MS: [1\n").unwrap();
    fails_with(
        &[
            "presets",
            "generate",
            "--network",
            config.to_str().unwrap(),
            "--active-validators",
            "9",
        ],
        "not valid YAML",
    );
    std::fs::write(
        &config,
        format!(
            "PRESET_BASE: mainnet\nSLOT_DURATION_MS: 0\nGENESIS_FORK_VERSION: 0x00000000\n{GENESIS}"
        ),
    )
    .unwrap();
    fails_with(
        &[
            "presets",
            "generate",
            "--network",
            config.to_str().unwrap(),
            "--active-validators",
            "9",
        ],
        "slot duration is 0",
    );
    std::fs::write(&config, format!("PRESET_BASE: mainnet\nSLOT_DURATION_MS: 12000\nGENESIS_FORK_VERSION: 0x00000000\n{GENESIS}")).unwrap();
    fails_with(
        &["presets", "generate", "--network", config.to_str().unwrap()],
        "no default validator count",
    );
    std::fs::write(&config, format!("PRESET_BASE: mainnet\nCONFIG_NAME: mainnet\nSLOT_DURATION_MS: 12000\nGENESIS_FORK_VERSION: 0x00000000\n{GENESIS}")).unwrap();
    fails_with(
        &["presets", "generate", "--network", config.to_str().unwrap()],
        "no default validator count",
    );
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{not json").unwrap();
    fails_with(
        &["presets", "diff", garbage.to_str().unwrap(), "mainnet"],
        "not a preset file",
    );
    std::fs::remove_dir_all(dir).unwrap();
}
