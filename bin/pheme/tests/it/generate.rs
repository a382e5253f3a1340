//! `pheme presets generate`: the documented schema, every format, every input source.

use crate::common::{devnet_config, pheme, temp_dir};
use serde_json::Value;

#[test]
fn json_has_the_documented_schema() {
    let run = pheme(&[
        "presets",
        "generate",
        "--network",
        "mainnet",
        "--active-validators",
        "1000000",
        "--format",
        "json",
        "--current-slot",
        "13500000",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    for key in [
        "gossip_threshold",
        "publish_threshold",
        "graylist_threshold",
        "accept_px_threshold",
        "opportunistic_graft_threshold",
    ] {
        assert!(v["thresholds"][key].is_f64(), "{key}");
    }
    let g = &v["peer_score_params"];
    for key in [
        "topic_score_cap",
        "app_specific_weight",
        "ip_colocation_factor_weight",
        "ip_colocation_factor_threshold",
        "behaviour_penalty_weight",
        "behaviour_penalty_threshold",
        "behaviour_penalty_decay",
        "decay_to_zero",
    ] {
        assert!(g[key].is_f64(), "{key}");
    }
    assert_eq!(g["decay_interval_ms"], 12000);
    assert_eq!(g["retain_score_ms"], 38_400_000);
    let topics = g["topics"].as_object().unwrap();
    for subnet in 0..64 {
        assert!(
            topics.contains_key(&format!("beacon_attestation_{subnet}")),
            "subnet {subnet}"
        );
    }
    assert!(
        topics.keys().all(|k| !k.starts_with("/eth2/")),
        "topics are keyed without digest"
    );
    let block = &topics["beacon_block"];
    for key in [
        "time_in_mesh_weight",
        "first_message_deliveries_decay",
        "mesh_message_deliveries_threshold",
        "mesh_failure_penalty_weight",
        "invalid_message_deliveries_decay",
    ] {
        assert!(block[key].is_f64(), "{key}");
    }
    for key in [
        "time_in_mesh_quantum_ms",
        "mesh_message_deliveries_window_ms",
        "mesh_message_deliveries_activation_ms",
    ] {
        assert!(block[key].is_u64(), "{key}");
    }
    let m = &v["gossipsub"];
    for key in [
        "mesh_n",
        "mesh_n_low",
        "mesh_n_high",
        "gossip_lazy",
        "heartbeat_interval_ms",
        "fanout_ttl_ms",
        "history_length",
        "history_gossip",
        "duplicate_cache_time_ms",
        "retain_scores",
        "mesh_outbound_min",
        "gossip_factor",
        "prune_backoff_ms",
        "flood_publish",
        "graft_flood_threshold_ms",
        "opportunistic_graft_ticks",
        "opportunistic_graft_peers",
        "gossip_retransimission",
        "max_ihave_length",
        "max_ihave_messages_heartbeat",
        "iwant_followup_time_ms",
    ] {
        assert!(!m[key].is_null(), "{key}");
    }
    assert_eq!(v["meta"]["fork"], "fulu");
    assert_eq!(v["meta"]["active_validators"], 1_000_000);
}

#[test]
fn yaml_and_toml_carry_the_same_values() {
    let args = |format| {
        [
            "presets",
            "generate",
            "--network",
            "gnosis",
            "--profile",
            "lodestar",
            "--current-slot",
            "30000000",
            "--format",
            format,
        ]
    };
    let json: Value = serde_json::from_str(&pheme(&args("json")).stdout).unwrap();
    let yaml: Value = serde_yaml_ng::from_str(&pheme(&args("yaml")).stdout).unwrap();
    let toml: Value = toml::from_str(&pheme(&args("toml")).stdout).unwrap();
    assert_eq!(json, yaml);
    assert_eq!(json, toml);
    assert_eq!(
        json["meta"]["active_validators"], 300_000,
        "the built-in default"
    );
}

#[test]
fn out_file_and_config_yaml_networks() {
    let dir = temp_dir("out");
    let out = dir.join("devnet.yaml");
    let run = pheme(&[
        "presets",
        "generate",
        "--network",
        &devnet_config(),
        "--active-validators",
        "64",
        "--format",
        "yaml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with(
        "# Pheme score preset for pheme-devnet: profile pheme, 64 active validators."
    ));
    let v: Value = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(v["meta"]["slots_per_epoch"], 8);
    assert_eq!(v["meta"]["slot_duration_ms"], 2000);
    assert!(
        v["peer_score_params"]["topics"]["sync_committee_3"].is_object(),
        "altair topics"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn closed_stdout_is_not_a_panic() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_pheme"))
        .args(["presets", "generate", "--format", "yaml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success());
}

/// `pheme simulate` runs on the virtual engine by default and writes the report's markdown.
#[test]
fn simulate_defaults_to_the_virtual_engine_and_reports() {
    let run = pheme(&[
        "simulate",
        "--scenario",
        "silent",
        "--honest",
        "8",
        "--sybils",
        "16",
        "--slots",
        "2",
        "--markdown",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("# Attack simulation"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("- engine: virtual"), "{}", run.stdout);
    assert!(run.stdout.contains("| silent | on |"), "{}", run.stdout);
    assert!(run.stdout.contains("| silent | off |"), "{}", run.stdout);
    assert!(run.stdout.contains("## Targets"), "{}", run.stdout);
    let json = pheme(&[
        "simulate",
        "--scenario",
        "baseline",
        "--honest",
        "6",
        "--slots",
        "1",
        "--json",
        "--scoring-only",
    ]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(v["engine"], "virtual");
    assert_eq!(v["delivered_ratio"], 1.0);
}
