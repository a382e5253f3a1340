//! Interop with a real consensus client: `pheme observe` dials a Lodestar v1.5.1 dev chain
//! (`pheme devnet up`) on loopback and follows it for four epochs. Every block Lodestar made
//! reaches Pheme and is accepted; attestations, aggregates, sync committee messages and
//! contributions arrive with zero REJECTs; Lodestar keeps Pheme connected and does not
//! penalise it. Altair at genesis, and capella (blocks with payloads and withdrawals).
//!
//! Needs Node.js and npm (the pinned Lodestar is installed once into the cache).

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::lodestar::{Devnet, PHEME, json as get, lodestar_stats};

/// Lodestar's canonical block roots by slot, for `slots`.
fn lodestar_blocks(rest: &str, slots: std::ops::RangeInclusive<u64>) -> BTreeMap<u64, String> {
    let mut out = BTreeMap::new();
    for slot in slots {
        if let Some(h) = get(&format!("{rest}/eth/v1/beacon/headers?slot={slot}"))
            && let Some(first) = h["data"].as_array().and_then(|a| a.first())
        {
            out.insert(slot, first["root"].as_str().unwrap().to_owned());
        }
    }
    out
}

fn scenario(name: &str, fork: &str, base_port: u16, pheme_port: u16) {
    let _heavy = crate::common::heavy_shared();
    let started = Instant::now();
    let devnet = Devnet::new(name);
    let state = devnet.up(&[
        "--nodes",
        "1",
        "--fork",
        fork,
        "--base-port",
        &base_port.to_string(),
    ]);
    let rest = state["nodes"][0]["rest"].as_str().unwrap().to_owned();
    let multiaddr = state["nodes"][0]["multiaddr"].as_str().unwrap().to_owned();
    let config = devnet.config();
    let trace = devnet.dir.join("trace.jsonl");
    // Four epochs of 8 slots of 2 s.
    let observe = Command::new(PHEME)
        .args(["observe", "--network"])
        .arg(&config)
        .args(["--no-discovery", "--listen", "127.0.0.1", "--port"])
        .arg(pheme_port.to_string())
        .args(["--peers", &multiaddr, "--active-validators", "16"])
        .args(["--duration", "64s", "--trace"])
        .arg(&trace)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Lodestar's view of Pheme, half-way (its REST API answers without `data` for a moment
    // when the machine is loaded: asked again for up to 20 s).
    std::thread::sleep(Duration::from_secs(40));
    let url = format!("{rest}/eth/v1/node/peers");
    let mut answer = None;
    for _ in 0..20 {
        answer = get(&url);
        if answer.as_ref().is_some_and(|a| a["data"].is_array()) {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let peers = answer.unwrap_or_default();
    let peers = peers["data"]
        .as_array()
        .unwrap_or_else(|| panic!("Lodestar's peers: {peers}"));
    assert_eq!(peers.len(), 1, "{peers:?}");
    assert_eq!(peers[0]["state"], "connected", "{peers:?}");
    let pheme_id = peers[0]["peer_id"].as_str().unwrap().to_owned();
    let mine = lodestar_stats(&rest, "lodestar-peer-score-stats", &pheme_id);
    for field in ["score", "lodestar_score", "gossip_score"] {
        let v = mine[field].as_f64().unwrap();
        assert!(v >= 0.0, "Lodestar's {field} for Pheme is {v}: {mine}");
    }
    println!("{name}: Lodestar's scores for Pheme: {mine}");
    // Lodestar grafts at its heartbeats: on a loaded machine the first may come late.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mine, in_mesh) = loop {
        let mine = lodestar_stats(&rest, "gossip-peer-score-stats", &pheme_id);
        assert_eq!(mine["connected"], true);
        let in_mesh = mine["topics"]
            .as_object()
            .unwrap()
            .values()
            .filter(|t| t["in_mesh"] == true)
            .count();
        if in_mesh > 0 || Instant::now() >= deadline {
            break (mine, in_mesh);
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let topics = mine["topics"].as_object().unwrap();
    assert!(in_mesh > 0, "Pheme is in none of Lodestar's meshes");
    for (topic, t) in topics {
        assert_eq!(t["invalid_message_deliveries"], 0.0, "{topic}: {t}");
    }
    println!("{name}: Pheme is in {in_mesh} of Lodestar's meshes, no invalid deliveries");
    let out = observe.wait_with_output().unwrap();
    assert!(out.status.success(), "observe failed: {out:?}");
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains(&format!("peer_id={pheme_id}")), "{log}");
    // Connected throughout: one peer on every summary line after the first connection.
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("| peers ")).collect();
    let first = lines.iter().position(|l| l.contains("| peers 1")).unwrap();
    for l in &lines[first..] {
        assert!(
            l.contains("| peers 1 (out 1, +") && !l.contains(" -1,"),
            "dropped: {l}"
        );
    }

    // What arrived.
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut by_kind: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut blocks: BTreeMap<u64, String> = BTreeMap::new();
    let mut arrivals: BTreeMap<u64, u64> = BTreeMap::new();
    for line in text.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let topic = r["topic"].as_str().unwrap();
        let kind = topic
            .split('/')
            .nth(3)
            .unwrap()
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
        *by_kind
            .entry((kind.to_owned(), r["verdict"].as_str().unwrap().to_owned()))
            .or_default() += 1;
        if let (Some(slot), Some(root)) = (r["block_slot"].as_u64(), r["block_root"].as_str()) {
            blocks.insert(slot, root.to_owned());
            arrivals.insert(slot, r["arrival_ms"].as_u64().unwrap());
        }
    }
    println!("{name}: {by_kind:?}");
    let rejects: usize = by_kind
        .iter()
        .filter(|((_, v), _)| v == "reject")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(rejects, 0, "{by_kind:?}");
    for kind in [
        "beacon_block",
        "beacon_aggregate_and_proof",
        "beacon_attestation",
        "sync_committee",
        "sync_committee_contribution_and_proof",
    ] {
        assert!(
            by_kind
                .get(&(kind.to_owned(), "accept".to_owned()))
                .copied()
                .unwrap_or(0)
                > 0,
            "no accepted {kind}: {by_kind:?}"
        );
    }
    // Every block Lodestar made while Pheme listened reached it (the first and last slots of
    // the window may straddle the connection).
    let (lo, hi) = (
        *blocks.keys().next().unwrap(),
        *blocks.keys().last().unwrap(),
    );
    let made = lodestar_blocks(&rest, lo..=hi);
    let missing: BTreeSet<u64> = made
        .iter()
        .filter(|(slot, root)| blocks.get(slot) != Some(root))
        .map(|(slot, _)| *slot)
        .collect();
    assert!(missing.is_empty(), "blocks Pheme did not get: {missing:?}");
    assert!(made.len() >= 24, "only {} blocks in the window", made.len());
    println!(
        "{name}: {} blocks, slots {lo}..={hi}, all received; {:.0} s in all",
        made.len(),
        started.elapsed().as_secs_f64()
    );
    // Latency from Lodestar's "Published block" (its log gives seconds into the slot) to
    // Pheme's arrival.
    let genesis_ms = state["genesis_time"].as_u64().unwrap() * 1000;
    let lodestar_log = std::fs::read_to_string(devnet.dir.join("node-0/lodestar.log")).unwrap();
    let mut latencies: Vec<i64> = Vec::new();
    for line in lodestar_log
        .lines()
        .filter(|l| l.contains("Published block slot="))
    {
        let into: f64 = line
            .split_whitespace()
            .nth(2)
            .and_then(|t| {
                t.trim_end_matches(|c: char| !c.is_ascii_digit())
                    .parse()
                    .ok()
            })
            .unwrap_or(f64::NAN);
        let slot: u64 = line
            .split("slot=")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX);
        if let Some(arrival) = arrivals.get(&slot)
            && into.is_finite()
        {
            let published = genesis_ms + slot * 2_000 + (into * 1000.0) as u64;
            latencies.push(*arrival as i64 - published as i64);
        }
    }
    latencies.sort_unstable();
    if !latencies.is_empty() {
        println!(
            "{name}: block publish-to-arrival over {} blocks: p50 {} ms, max {} ms",
            latencies.len(),
            latencies[latencies.len() / 2],
            latencies[latencies.len() - 1]
        );
    }
    if fork == "capella" {
        // Lodestar's blocks carry execution payloads with withdrawals, and they decoded.
        let head = get(&format!("{rest}/eth/v2/beacon/blocks/head")).unwrap();
        let payload = &head["data"]["message"]["body"]["execution_payload"];
        let zero = format!("0x{}", "0".repeat(64));
        assert_ne!(payload["block_hash"].as_str().unwrap(), zero, "{payload}");
        assert!(payload["withdrawals"].is_array(), "{payload}");
    }
}

#[test]
fn observe_an_altair_lodestar_chain() {
    scenario("altair", "altair", 19_100, 19_900);
}

#[test]
fn observe_a_capella_lodestar_chain() {
    scenario("capella", "capella", 19_200, 19_950);
}
