//! `pheme observe` as an operator runs it: two observers on loopback find each other, the
//! metrics endpoint shows the peer and the meshes, and an observer restarted on the same port
//! is reconnected.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::free_port;

/// A devnet with 2 s slots (altair, minimal preset), so summaries come often.
const DEVNET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../crates/pheme-spec/testdata/devnet/config.yaml"
);

fn observe(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pheme"))
        .arg("observe")
        .args(["--network", DEVNET, "--active-validators", "16384"])
        .args([
            "--no-discovery",
            "--listen",
            "127.0.0.1",
            "--trusted-ips",
            "127.0.0.1",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn metrics(addr: &str) -> Option<String> {
    ureq::get(&format!("http://{addr}/metrics"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()
}

/// Polls the endpoint until `pred` holds on its text.
fn wait_metrics(addr: &str, pred: impl Fn(&str) -> bool) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(text) = metrics(addr)
            && pred(&text)
        {
            return Some(text);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn two_observers_peer_and_a_restarted_one_comes_back() {
    let _heavy = crate::common::heavy();
    let (pa, pb) = (free_port(), free_port());
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let metrics_a = format!("127.0.0.1:{}", free_port());
    let mut a = observe(&[
        "--port".into(),
        pa.to_string(),
        "--metrics".into(),
        metrics_a.clone(),
        "--duration".into(),
        "120s".into(),
    ]);
    // A is up (and listening) once its endpoint answers.
    assert!(wait_metrics(&metrics_a, |t| t.contains("pheme_topics_subscribed")).is_some());
    let peer = format!("/ip4/127.0.0.1/tcp/{pa}");
    let b_args = [
        "--port".to_string(),
        pb.to_string(),
        "--peers".into(),
        peer,
        "--metrics".into(),
        metrics_addr.clone(),
        "--duration".into(),
        "60s".into(),
    ];
    for round in 0..2 {
        let b = observe(&b_args);
        let text = wait_metrics(&metrics_addr, |t| {
            value(t, "pheme_peers{direction=\"outbound\"}") == Some(1.0)
                && value(t, "pheme_mesh_peers{kind=\"beacon_block\"}") == Some(1.0)
        });
        let text = text.unwrap_or_else(|| panic!("round {round}: no peer in the metrics"));
        // Altair, all subnets: block, aggregate, 64 attestation, exit, proposer and attester
        // slashings, contribution, 4 sync committee.
        assert_eq!(value(&text, "pheme_topics_subscribed"), Some(74.0));
        assert!(text.contains(
            "pheme_rpc_requests_total{protocol=\"status\",direction=\"outbound\",result=\"ok\"}"
        ));
        // libp2p's own registry is rendered too.
        assert!(text.contains("libp2p_"), "no libp2p metrics");
        // One 2 s slot for a summary line, then Ctrl-C: goodbye, exit 0.
        std::thread::sleep(Duration::from_millis(2_500));
        let pid = b.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        let out = b.wait_with_output().unwrap();
        assert!(out.status.success(), "round {round}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Ctrl-C: saying goodbye"));
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(log.contains("| peers 1 (out 1"), "no summary line: {log}");
    }
    a.kill().unwrap();
    let out = a.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    // A saw B twice: connected, said goodbye on B's exit, connected again.
    assert!(log.matches("+1 ").count() >= 2, "{log}");
}
