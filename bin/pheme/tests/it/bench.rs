//! `pheme bench ingest` end to end, at a load a debug build carries: a node process, real
//! load peers on loopback, real SSZ and snappy, and the JSON figures it prints.

use std::process::Command;

#[test]
fn ingest_runs_a_load_level_and_reports_it() {
    let _heavy = crate::common::heavy();
    let out = Command::new(env!("CARGO_BIN_EXE_pheme"))
        .args([
            "bench",
            "ingest",
            "--load",
            "0.02",
            "--seconds",
            "2",
            "--peers",
            "8",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let level: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let f = |k: &str| {
        level[k]
            .as_f64()
            .unwrap_or_else(|| panic!("{k} missing: {level}"))
    };
    assert_eq!(f("load"), 0.02);
    assert_eq!(f("peers"), 8.0);
    // 1,600 wire messages a second offered: the node takes them all, every one accepted.
    assert!(
        f("wire_msgs_per_sec") > 0.8 * f("offered_wire_msgs_per_sec"),
        "{level}"
    );
    assert_eq!(f("dropped"), 0.0, "{level}");
    assert_eq!(f("refused"), 0.0, "{level}");
    // Copies reuse their first copy's decompression and id.
    assert!(
        f("msgid_per_unique") >= 1.0 && f("msgid_per_unique") <= 1.05,
        "{level}"
    );
    assert!(f("decompress_per_unique") <= 1.05, "{level}");
    assert!(
        f("cpu_cores") > 0.0 && f("cpu_ms_per_1000") > 0.0,
        "{level}"
    );
    assert!(f("p99_us") >= f("p50_us") && f("p50_us") > 0.0, "{level}");
    assert!(
        f("rss_mb") > 1.0 && f("limit_wire_msgs_per_sec") > 0.0,
        "{level}"
    );
    assert!(f("ratio_to_limit") > 0.0, "{level}");
    // The node grafted the load peers: copies came from its mesh.
    assert!(f("mesh_per_topic") >= 1.0, "{level}");
}
