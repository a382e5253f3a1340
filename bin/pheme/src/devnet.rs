//! `pheme devnet`: a Lodestar v1.5.1 dev chain on loopback for interop runs. `up` installs the
//! pinned Lodestar once, starts the nodes, waits until the head advances, writes a
//! consensus-specs `config.yaml` of the chain (so `pheme --network <file>` understands it) and a
//! `devnet.json` with every node's PID, ports, peer id, ENR and multiaddr; `down` stops what `up`
//! started, by PID.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// The pinned package list (see `interop/lodestar-1.5.1/`).
const PACKAGE_JSON: &str = include_str!("../../../interop/lodestar-1.5.1/package.json");
/// The mock engine's genesis block hash, which v1.5.1 leaves empty.
const MOCK_GENESIS_HASH: &str =
    "0x0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";
/// How long `up` waits for the install and for the head to move.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
const HEAD_TIMEOUT: Duration = Duration::from_secs(120);

/// `pheme devnet` subcommands.
#[derive(Debug, Subcommand)]
pub enum DevnetCmd {
    /// Install Lodestar (once), start a dev chain, wait for blocks, write config.yaml.
    Up(UpArgs),
    /// Stop every process a `devnet up` in this directory started.
    Down {
        /// The devnet's directory.
        #[arg(long, default_value = "devnet")]
        dir: PathBuf,
    },
}

/// The fork at genesis.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GenesisFork {
    /// Altair at genesis.
    Altair,
    /// Capella at genesis, with the mock execution engine.
    Capella,
}

/// `pheme devnet up` options.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Directory for the nodes' data, logs, config.yaml and devnet.json.
    #[arg(long, default_value = "devnet")]
    dir: PathBuf,
    /// Nodes; validators run on the first.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// Genesis validators (all on the first node).
    #[arg(long, default_value_t = 16)]
    validators: u64,
    /// Fork at genesis.
    #[arg(long, value_enum, default_value_t = GenesisFork::Altair)]
    fork: GenesisFork,
    /// Seconds per slot.
    #[arg(long, default_value_t = 2)]
    slot_seconds: u64,
    /// First libp2p port (node i uses base + i); REST ports start at base + 596.
    #[arg(long, default_value_t = 19_000)]
    base_port: u16,
    /// Bootnode ENR for the nodes after the first (default: the first node's).
    #[arg(long)]
    bootnode: Option<String>,
    /// Start only nodes from this index (with `--bootnode`, to join a chain already up).
    #[arg(long, default_value_t = 0)]
    first: usize,
    /// Genesis time (unix seconds) shared by every node; default: now + 10 s.
    #[arg(long)]
    genesis_time: Option<u64>,
    /// Return once the nodes answer, without waiting for the head to move (to connect
    /// something before genesis).
    #[arg(long)]
    no_wait: bool,
}

/// One started node, as `devnet.json` records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Process id of `lodestar dev`.
    pub pid: u32,
    /// REST API base URL.
    pub rest: String,
    /// libp2p multiaddr with `/p2p/<peer id>`.
    pub multiaddr: String,
    /// Peer id.
    pub peer_id: String,
    /// ENR.
    pub enr: String,
}

/// What `up` started.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Devnet {
    /// The nodes.
    pub nodes: Vec<NodeInfo>,
    /// The chain's config.yaml.
    pub config: PathBuf,
    /// Genesis time.
    pub genesis_time: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Where the pinned Lodestar lives.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PHEME_CACHE_DIR") {
        return PathBuf::from(d).join("lodestar-1.5.1");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/pheme/lodestar-1.5.1")
}

/// Installs Lodestar into the cache (once) and returns the `lodestar` executable.
pub fn install() -> Result<PathBuf, CliError> {
    let dir = cache_dir();
    let bin = dir.join("node_modules/.bin/lodestar");
    let marker = dir.join(".pheme-installed");
    if marker.exists() && bin.exists() {
        return Ok(bin);
    }
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    // One installer at a time (parallel tests, two terminals): the others wait for it.
    let lock = dir.join(".pheme-installing");
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    let _guard = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => break LockGuard(lock.clone()),
            Err(_) if marker.exists() && bin.exists() => return Ok(bin),
            Err(_) if Instant::now() > deadline => {
                return Err(CliError::Usage(format!(
                    "another install holds {} (remove it if no install runs)",
                    lock.display()
                )));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    };
    if marker.exists() && bin.exists() {
        return Ok(bin);
    }
    let pkg = dir.join("package.json");
    std::fs::write(&pkg, PACKAGE_JSON).map_err(io(&pkg))?;
    eprintln!("installing Lodestar 1.5.1 into {} (once)", dir.display());
    let mut child = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel", "error"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .spawn()
        .map_err(io(Path::new("npm")))?;
    let status = wait_child(&mut child, INSTALL_TIMEOUT)
        .ok_or_else(|| CliError::Usage("npm install did not finish in 10 minutes".into()))?;
    if !status.success() {
        return Err(CliError::Usage(format!("npm install failed: {status}")));
    }
    patch_mock_engine(&dir)?;
    std::fs::write(&marker, "ok\n").map_err(io(&marker))?;
    Ok(bin)
}

/// Removes the install lock however the install ends.
struct LockGuard(PathBuf);

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// v1.5.1's mock engine starts from an empty genesis hash and no capella time: give it both so
/// a capella-at-genesis chain produces blocks with payloads and withdrawals.
fn patch_mock_engine(dir: &Path) -> Result<(), CliError> {
    let file =
        dir.join("node_modules/@chainsafe/lodestar/lib/options/beaconNodeOptions/execution.js");
    let text = std::fs::read_to_string(&file).map_err(io(&file))?;
    let patched = text.replace(
        "genesisBlockHash: \"\",",
        &format!("genesisBlockHash: \"{MOCK_GENESIS_HASH}\", capellaForkTimestamp: 0,"),
    );
    if patched == text && !text.contains(MOCK_GENESIS_HASH) {
        return Err(CliError::Usage(format!(
            "{}: the mock engine options are not where v1.5.1 has them",
            file.display()
        )));
    }
    std::fs::write(&file, patched).map_err(io(&file))
}

fn wait_child(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    None
}

fn get_json(url: &str) -> Option<serde_json::Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(3)))
        .build()
        .into();
    let text = agent
        .get(url)
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    serde_json::from_str(&text).ok()
}

fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    None
}

fn lodestar_args(
    a: &UpArgs,
    i: usize,
    genesis_time: u64,
    node_dir: &Path,
    bootnode: Option<&str>,
) -> Vec<String> {
    let port = a.base_port + i as u16;
    let rest = a.base_port + 596 + i as u16;
    let mut v: Vec<String> = [
        "dev",
        "--genesisValidators",
        &a.validators.to_string(),
        "--genesisTime",
        &genesis_time.to_string(),
        "--params.ALTAIR_FORK_EPOCH",
        "0",
        "--params.SECONDS_PER_SLOT",
        &a.slot_seconds.to_string(),
        "--dataDir",
        &node_dir.join("data").to_string_lossy(),
        "--reset",
        "--listenAddress",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--enr.ip",
        "127.0.0.1",
        "--mdns",
        "false",
        "--rest.address",
        "127.0.0.1",
        "--rest.port",
        &rest.to_string(),
        "--rest.namespace",
        "*",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if bootnode.is_none() {
        // No discovery without a bootnode (a UDP socket is still bound, harmless); with one,
        // discv5 must stay on for Lodestar to read the bootnode's ENR and dial it.
        v.push("--discv5".into());
        v.push("false".into());
    }
    if a.fork == GenesisFork::Capella {
        for s in [
            "--params.BELLATRIX_FORK_EPOCH",
            "0",
            "--params.CAPELLA_FORK_EPOCH",
            "0",
            "--params.TERMINAL_TOTAL_DIFFICULTY",
            "0",
            "--execution.engineMock",
        ] {
            v.push(s.into());
        }
    }
    if i == 0 {
        v.push("--startValidators".into());
        v.push(format!("0..{}", a.validators.saturating_sub(1)));
        v.push("--beaconNodes".into());
        v.push(format!("http://127.0.0.1:{rest}"));
    }
    if let Some(enr) = bootnode {
        v.push("--bootnodes".into());
        v.push(enr.into());
        v.push("--network.connectToDiscv5Bootnodes".into());
        v.push("true".into());
    }
    v
}

/// Starts the chain; returns what was started (also written to `<dir>/devnet.json`).
pub fn up(a: &UpArgs) -> Result<Devnet, CliError> {
    let lodestar = install()?;
    std::fs::create_dir_all(&a.dir).map_err(io(&a.dir))?;
    let dir = a.dir.canonicalize().map_err(io(&a.dir))?;
    let state = dir.join("devnet.json");
    let mut devnet: Devnet = std::fs::read(&state)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|_| a.first > 0)
        .unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let genesis_time = a
        .genesis_time
        .or((devnet.genesis_time > 0).then_some(devnet.genesis_time))
        .unwrap_or(now + 10);
    devnet.genesis_time = genesis_time;
    for i in a.first..a.first + a.nodes {
        let node_dir = dir.join(format!("node-{i}"));
        // `dev` reuses a genesis.ssz in its working directory and a database in its data dir.
        let _ = std::fs::remove_dir_all(&node_dir);
        std::fs::create_dir_all(&node_dir).map_err(io(&node_dir))?;
        let boot = a.bootnode.clone().or_else(|| {
            (i > 0)
                .then(|| devnet.nodes.first().map(|n| n.enr.clone()))
                .flatten()
        });
        let log_path = node_dir.join("lodestar.log");
        let log = std::fs::File::create(&log_path).map_err(io(&log_path))?;
        let err = log.try_clone().map_err(io(&log_path))?;
        let child = Command::new(&lodestar)
            .args(lodestar_args(
                a,
                i,
                genesis_time,
                &node_dir,
                boot.as_deref(),
            ))
            .current_dir(&node_dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(io(&lodestar))?;
        let rest = format!("http://127.0.0.1:{}", a.base_port + 596 + i as u16);
        let identity = poll(Duration::from_secs(60), || {
            get_json(&format!("{rest}/eth/v1/node/identity"))
        })
        .ok_or_else(|| {
            CliError::Usage(format!(
                "node {i} did not start; see {}",
                log_path.display()
            ))
        })?;
        let d = &identity["data"];
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        devnet.nodes.push(NodeInfo {
            pid: child.id(),
            rest,
            multiaddr: text(&d["p2p_addresses"][0]),
            peer_id: text(&d["peer_id"]),
            enr: text(&d["enr"]),
        });
        write_state(&state, &devnet)?;
    }
    let first = devnet
        .nodes
        .first()
        .cloned()
        .ok_or_else(|| CliError::Usage("no node started".into()))?;
    let config = dir.join("config.yaml");
    write_config(&first.rest, &config)?;
    devnet.config = config;
    write_state(&state, &devnet)?;
    if a.no_wait {
        return Ok(devnet);
    }
    poll(HEAD_TIMEOUT, || {
        let h = get_json(&format!("{}/eth/v1/beacon/headers/head", first.rest))?;
        let slot: u64 = h["data"]["header"]["message"]["slot"]
            .as_str()?
            .parse()
            .ok()?;
        (slot > 0).then_some(())
    })
    .ok_or_else(|| CliError::Usage("the head did not advance in 2 minutes".into()))?;
    Ok(devnet)
}

fn write_state(path: &Path, devnet: &Devnet) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(devnet).map_err(|e| CliError::Render {
        format: "json",
        reason: e.to_string(),
    })?;
    std::fs::write(path, text).map_err(io(path))
}

/// The chain's `config.yaml`: the node's `/eth/v1/config/spec` plus genesis time and
/// validators root in Pheme's extension keys.
fn write_config(rest: &str, path: &Path) -> Result<(), CliError> {
    let spec = poll(Duration::from_secs(30), || {
        get_json(&format!("{rest}/eth/v1/config/spec"))
    })
    .ok_or_else(|| CliError::Usage("no /eth/v1/config/spec".into()))?;
    let genesis = poll(Duration::from_secs(60), || {
        get_json(&format!("{rest}/eth/v1/beacon/genesis"))
    })
    .ok_or_else(|| CliError::Usage("no /eth/v1/beacon/genesis".into()))?;
    let mut out =
        String::from("# Written by `pheme devnet up` from the node's /eth/v1/config/spec.\n");
    if let Some(map) = spec["data"].as_object() {
        for (k, v) in map {
            let v = v.as_str().unwrap_or_default();
            if v.starts_with("0x") {
                out.push_str(&format!("{k}: '{v}'\n"));
            } else {
                out.push_str(&format!("{k}: {v}\n"));
            }
        }
    }
    let g = &genesis["data"];
    out.push_str(&format!(
        "GENESIS_TIME: {}\nGENESIS_VALIDATORS_ROOT: '{}'\n",
        g["genesis_time"].as_str().unwrap_or("0"),
        g["genesis_validators_root"].as_str().unwrap_or_default()
    ));
    std::fs::write(path, out).map_err(io(path))
}

/// Stops every node of `<dir>/devnet.json`: SIGTERM, then SIGKILL after 10 s.
pub fn down(dir: &Path) -> Result<usize, CliError> {
    let state = dir.join("devnet.json");
    let devnet: Devnet = std::fs::read(&state)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();
    for n in &devnet.nodes {
        let _ = Command::new("kill").arg(n.pid.to_string()).status();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && devnet.nodes.iter().any(|n| alive(n.pid)) {
        std::thread::sleep(Duration::from_millis(200));
    }
    for n in devnet.nodes.iter().filter(|n| alive(n.pid)) {
        let _ = Command::new("kill")
            .args(["-9", &n.pid.to_string()])
            .status();
    }
    Ok(devnet.nodes.len())
}

/// Runs a `pheme devnet` subcommand.
pub fn run(cmd: DevnetCmd) -> Result<(), CliError> {
    match cmd {
        DevnetCmd::Up(a) => {
            let devnet = up(&a)?;
            let text = serde_json::to_string_pretty(&devnet).map_err(|e| CliError::Render {
                format: "json",
                reason: e.to_string(),
            })?;
            crate::emit(&format!("{text}\n"))
        }
        DevnetCmd::Down { dir } => {
            let n = down(&dir)?;
            crate::emit(&format!("stopped {n} node(s)\n"))
        }
    }
}
