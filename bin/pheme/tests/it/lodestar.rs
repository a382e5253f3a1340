//! Shared by the interop tests: a `pheme devnet` of Lodestar nodes that goes down however the
//! test ends, HTTP reads of its REST API and of Pheme's metrics.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const PHEME: &str = env!("CARGO_BIN_EXE_pheme");

/// GET as text.
pub fn get(url: &str) -> Option<String> {
    ureq::get(url).call().ok()?.body_mut().read_to_string().ok()
}

/// GET as JSON.
pub fn json(url: &str) -> Option<serde_json::Value> {
    serde_json::from_str(&get(url)?).ok()
}

/// The value of the first line of a Prometheus text that starts with `series`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Pheme's metrics endpoint at `addr`, as text.
pub fn metrics(addr: &str) -> String {
    get(&format!("http://{addr}/metrics")).unwrap_or_default()
}

/// A node's head slot.
pub fn head_slot(rest: &str) -> Option<u64> {
    let h = json(&format!("{rest}/eth/v1/beacon/headers/head"))?;
    h["data"]["header"]["message"]["slot"]
        .as_str()?
        .parse()
        .ok()
}

/// Lodestar's entry for `peer` in one of its `/eth/v1/lodestar/*-peer-score-stats` lists (it
/// adds peers to them lazily, so this waits up to 10 s for the entry).
pub fn lodestar_stats(rest: &str, list: &str, peer: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let all = json(&format!("{rest}/eth/v1/lodestar/{list}")).unwrap();
        if let Some(entry) = all["data"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["peer_id"] == peer))
        {
            return entry.clone();
        }
        if std::time::Instant::now() > deadline {
            panic!("Lodestar's {list} has no {peer}: {all}");
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// The peer id of the one peer connected to the node at `rest`.
pub fn connected_peer(rest: &str) -> String {
    let peers = json(&format!("{rest}/eth/v1/node/peers")).unwrap();
    let connected: Vec<&str> = peers["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "connected")
        .filter_map(|p| p["peer_id"].as_str())
        .collect();
    assert_eq!(connected.len(), 1, "{peers}");
    connected[0].to_owned()
}

/// A devnet directory, brought down (and an optional child killed) on drop.
pub struct Devnet {
    pub dir: PathBuf,
    pub child: Option<Child>,
}

impl Devnet {
    /// A fresh directory named after the test.
    pub fn new(name: &str) -> Devnet {
        let dir = std::env::temp_dir().join(format!("pheme-interop-{name}-{}", std::process::id()));
        Devnet { dir, child: None }
    }

    /// `pheme devnet up --dir <dir> <args>`; returns its JSON.
    pub fn up(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::new(PHEME)
            .args(["devnet", "up", "--dir"])
            .arg(&self.dir)
            .args(args)
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "devnet up: {out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The chain's config.yaml.
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.yaml")
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new(PHEME)
            .args(["devnet", "down", "--dir"])
            .arg(&self.dir)
            .status();
    }
}
