//! Relay and serve: Lodestar A (the validators) and Lodestar B (none) reach each other only
//! through Pheme. Pheme dials A; B's only bootnode is Pheme's ENR. B syncs the blocks it missed
//! from Pheme's recent-block cache (BeaconBlocksByRange) and then follows A's head through the
//! gossip Pheme forwards, within 2 slots, for 3 epochs.
//!
//! Needs Node.js and npm (the pinned Lodestar is installed once into the cache).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PHEME: &str = env!("CARGO_BIN_EXE_pheme");

fn get(url: &str) -> Option<serde_json::Value> {
    let text = ureq::get(url)
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    serde_json::from_str(&text).ok()
}

fn head_slot(rest: &str) -> Option<u64> {
    let h = get(&format!("{rest}/eth/v1/beacon/headers/head"))?;
    h["data"]["header"]["message"]["slot"]
        .as_str()?
        .parse()
        .ok()
}

/// Kills the observer however the test ends.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Down(PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = Command::new(PHEME)
            .args(["devnet", "down", "--dir"])
            .arg(&self.0)
            .status();
    }
}

fn up(dir: &PathBuf, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(PHEME)
        .args(["devnet", "up", "--base-port", "19300", "--dir"])
        .arg(dir)
        .args(extra)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "devnet up: {out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn metric(addr: &str, series: &str) -> f64 {
    let text = ureq::get(&format!("http://{addr}/metrics"))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn lodestar_b_follows_lodestar_a_through_pheme() {
    let dir = std::env::temp_dir().join(format!("pheme-interop-relay-{}", std::process::id()));
    let _down = Down(dir.clone());
    // Genesis in 15 s, so that Pheme is connected to A before its first block.
    let genesis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 15;
    let a = up(
        &dir,
        &[
            "--nodes",
            "1",
            "--no-wait",
            "--genesis-time",
            &genesis.to_string(),
        ],
    );
    let config = dir.join("config.yaml");
    let metrics = "127.0.0.1:19390";
    let mut observe = Command::new(PHEME)
        .args(["observe", "--network"])
        .arg(&config)
        .args([
            "--listen",
            "127.0.0.1",
            "--port",
            "19380",
            "--enr-address",
            "127.0.0.1",
        ])
        .args(["--peers", a["nodes"][0]["multiaddr"].as_str().unwrap()])
        .args([
            "--active-validators",
            "16",
            "--metrics",
            metrics,
            "--duration",
            "150s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Pheme's ENR, from its log.
    let (tx, rx) = mpsc::channel();
    let stdout = observe.stdout.take().unwrap();
    let _observe = Kill(observe);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(i) = line.find("enr=enr:") {
                let enr: String = line[i + 4..].split_whitespace().next().unwrap().to_owned();
                let _ = tx.send(enr);
            }
        }
    });
    let enr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("Pheme's ENR");
    // B starts six blocks late: what it missed it can only get from Pheme's cache.
    let rest_a = a["nodes"][0]["rest"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while head_slot(&rest_a).unwrap_or(0) < 6 {
        assert!(Instant::now() < deadline, "A produces no blocks");
        std::thread::sleep(Duration::from_millis(500));
    }
    let b = up(&dir, &["--nodes", "1", "--first", "1", "--bootnode", &enr]);
    let rest_b = b["nodes"][1]["rest"].as_str().unwrap().to_owned();
    let pheme_id = {
        let peers = get(&format!("{rest_a}/eth/v1/node/peers")).unwrap();
        peers["data"][0]["peer_id"].as_str().unwrap().to_owned()
    };

    // B catches up (from Pheme's cache), then follows within 2 slots for 3 epochs (48 s).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ha, hb) = (head_slot(&rest_a).unwrap(), head_slot(&rest_b).unwrap_or(0));
        if hb + 2 >= ha && hb > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B never caught up: A at {ha}, B at {hb}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let series = |p: &str| {
        format!("pheme_rpc_requests_total{{protocol=\"{p}\",direction=\"inbound\",result=\"ok\"}}")
    };
    let by_range = metric(metrics, &series("beacon_blocks_by_range"));
    let by_root = metric(metrics, &series("beacon_blocks_by_root"));
    println!(
        "B caught up; Pheme served {by_range} BlocksByRange and {by_root} BlocksByRoot requests"
    );
    let follow = Instant::now();
    let mut worst = 0;
    let mut samples = 0;
    while follow.elapsed() < Duration::from_secs(48) {
        let (ha, hb) = (head_slot(&rest_a).unwrap(), head_slot(&rest_b).unwrap());
        worst = worst.max(ha.saturating_sub(hb));
        samples += 1;
        // B's only peer is Pheme.
        let peers = get(&format!("{rest_b}/eth/v1/node/peers")).unwrap();
        let connected: Vec<&str> = peers["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["state"] == "connected")
            .map(|p| p["peer_id"].as_str().unwrap())
            .collect();
        assert_eq!(connected, [pheme_id.as_str()], "B's peers");
        std::thread::sleep(Duration::from_millis(1_000));
    }
    println!("over {samples} samples in 3 epochs, B trailed A by at most {worst} slot(s)");
    assert!(worst <= 2, "B fell {worst} slots behind A");
    assert!(by_range + by_root >= 1.0, "B never asked Pheme for blocks");
}
