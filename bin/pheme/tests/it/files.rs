//! `regenerate`, `check`, `diff` and `explain`, and the checked-in presets/ being current.

use crate::common::{pheme, temp_dir};

#[test]
fn checked_in_presets_are_current() {
    let dir = format!("{}/../../presets", env!("CARGO_MANIFEST_DIR"));
    let run = pheme(&["presets", "check", "--dir", &dir]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.ends_with("up to date"))
            .count(),
        6
    );
}

#[test]
fn regenerate_then_check_and_catch_drift() {
    let dir = temp_dir("regen");
    let d = dir.to_str().unwrap();
    let run = pheme(&["presets", "regenerate", "--dir", d]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for network in ["mainnet", "sepolia", "holesky", "hoodi", "gnosis", "chiado"] {
        let text = std::fs::read_to_string(dir.join(format!("{network}.yaml"))).unwrap();
        assert!(
            text.starts_with(&format!(
                "# Pheme score preset for {network}: profile pheme, "
            )),
            "{network}"
        );
    }
    assert_eq!(pheme(&["presets", "check", "--dir", d]).code, 0);

    // Another libm's last bit is not drift: change the final digit of a 17-digit float.
    let gnosis = dir.join("gnosis.yaml");
    let text = std::fs::read_to_string(&gnosis).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("topic_score_cap: "))
        .unwrap()
        .to_owned();
    let mut nudged = line.clone();
    let last = nudged.pop().unwrap();
    nudged.push(if last == '1' { '2' } else { '1' });
    std::fs::write(&gnosis, text.replacen(&line, &nudged, 1)).unwrap();
    let run = pheme(&["presets", "check", "--dir", d]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("gnosis.yaml: up to date (float digits differ below 1e-12)"),
        "{}",
        run.stdout
    );

    // Drift: one value edited by hand, one file deleted.
    let mainnet = dir.join("mainnet.yaml");
    let text = std::fs::read_to_string(&mainnet).unwrap().replacen(
        "gossip_threshold: -4000.0",
        "gossip_threshold: -3000.0",
        1,
    );
    std::fs::write(&mainnet, text).unwrap();
    std::fs::remove_file(dir.join("chiado.yaml")).unwrap();
    let run = pheme(&["presets", "check", "--dir", d]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("mainnet.yaml: 1 field(s) differ"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("thresholds.gossip_threshold")
            && run.stderr.contains("-3000.0")
            && run.stderr.contains("-4000.0"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("chiado.yaml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("error: 2 preset file(s) drifted"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn diff_networks_profiles_counts_and_files() {
    let run = pheme(&["presets", "diff", "mainnet:lighthouse", "mainnet:prysm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("peer_score_params.topic_score_cap"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.lines().any(|l| {
        l.starts_with("peer_score_params.topics.beacon_block.topic_weight")
            && l.contains("0.5")
            && l.contains("0.8")
    }));
    let same = pheme(&["presets", "diff", "mainnet", "mainnet:pheme:1000000:8"]);
    assert!(same.stdout.contains("are identical"), "{}", same.stdout);
    let dir = temp_dir("diff");
    let file = dir.join("hoodi.json");
    pheme(&[
        "presets",
        "generate",
        "--network",
        "hoodi",
        "--active-validators",
        "5000",
        "--current-slot",
        "2000000",
        "--out",
        file.to_str().unwrap(),
    ]);
    let run = pheme(&["presets", "diff", file.to_str().unwrap(), "hoodi::5000"]);
    assert!(run.stdout.contains("meta.current_slot"), "{}", run.stdout);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn explain_prints_a_row_per_topic_kind() {
    let run = pheme(&[
        "presets",
        "explain",
        "--network",
        "mainnet",
        "--active-validators",
        "1000000",
        "--current-slot",
        "13500000",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let block = run
        .stdout
        .lines()
        .find(|l| l.starts_with("beacon_block "))
        .unwrap();
    assert!(block.contains("18") && block.contains("min"), "{block}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("beacon_attestation_*") && l.contains(" 64 "))
    );
    let lh = pheme(&[
        "presets",
        "explain",
        "--profile",
        "lighthouse",
        "--current-slot",
        "13500000",
    ]);
    assert!(
        lh.stdout
            .contains("finding: beacon_block: a silent mesh peer never goes negative"),
        "{}",
        lh.stdout
    );
    assert!(
        lh.stdout
            .lines()
            .any(|l| l.starts_with("sync_committee_*") && l.contains("unscored"))
    );
}
