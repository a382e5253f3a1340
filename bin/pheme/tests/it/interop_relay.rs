//! Relay and serve: Lodestar A (the validators) and Lodestar B (none) reach each other only
//! through Pheme. Pheme dials A; B's only bootnode is Pheme's ENR. B syncs the blocks it missed
//! from Pheme's recent-block cache (BeaconBlocksByRange) and then follows A's head through the
//! gossip Pheme forwards, within 2 slots, for 3 epochs.
//!
//! Needs Node.js and npm (the pinned Lodestar is installed once into the cache).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::lodestar::{
    Devnet, PHEME, connected_peer, head_slot, json as get, metric, metrics as metrics_text,
};

#[test]
fn lodestar_b_follows_lodestar_a_through_pheme() {
    let _heavy = crate::common::heavy();
    let mut devnet = Devnet::new("relay");
    // Genesis in 15 s, so that Pheme is connected to A before its first block.
    let genesis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 15;
    let a = devnet.up(&[
        "--nodes",
        "1",
        "--no-wait",
        "--genesis-time",
        &genesis.to_string(),
        "--base-port",
        "19300",
    ]);
    let config = devnet.config();
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
    devnet.child = Some(observe);
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
    let b = devnet.up(&[
        "--nodes",
        "1",
        "--first",
        "1",
        "--bootnode",
        &enr,
        "--base-port",
        "19300",
    ]);
    let rest_b = b["nodes"][1]["rest"].as_str().unwrap().to_owned();
    let pheme_id = connected_peer(&rest_a);

    // B catches up (from Pheme's cache), then follows within 2 slots for 3 epochs (48 s).
    // Lodestar B's start alone took most of a minute on a loaded CI machine: two minutes.
    let deadline = Instant::now() + Duration::from_secs(120);
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
    let text = metrics_text(metrics);
    let by_range = metric(&text, &series("beacon_blocks_by_range")).unwrap_or(0.0);
    let by_root = metric(&text, &series("beacon_blocks_by_root")).unwrap_or(0.0);
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
