//! One load level: start the node in its own process, connect the load peers, replay the mix
//! at `load` times mainnet's peak for a while, and read what it cost the node.

use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};
use pheme_network::RouterKind;
use pheme_spec::unix_now_ms;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::HashMap;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::BenchError;
use crate::limit::{limit_wire_per_sec, transport_limit_wire_per_sec};
use crate::node::{NodeStats, Ready};
use crate::peers::LoadPeers;
use crate::probe::{cpu_ns, rss_bytes};
use crate::traffic::{
    DEFAULT_COPIES, Mix, PEAK_WIRE_PER_SEC, TrafficGen, bench_chain, genesis_slots_ago,
};
use crate::wire::{publish_frame, subscribe_frame};

/// Default load peers (all subscribed to every subnet).
pub const DEFAULT_PEERS: usize = 100;
/// Default seconds of load per level.
pub const DEFAULT_SECONDS: f64 = 10.0;
/// How long the peers wait after subscribing, for the node to graft them (a few heartbeats).
pub const MESH_WARMUP: Duration = Duration::from_secs(3);
/// How often the pacer hands out messages.
const PACE: Duration = Duration::from_millis(5);
/// How long the node may take to finish what it was sent before the rest counts as dropped.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// What one run measures.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// The program and arguments that start a bench node (`pheme bench ingest-node`); the
    /// run appends `--genesis-time`, `--peers`, `--router` and, without scoring,
    /// `--no-scoring`.
    pub node_command: (std::path::PathBuf, Vec<String>),
    /// Load levels, in multiples of mainnet's peak.
    pub loads: Vec<f64>,
    /// Seconds of load per level.
    pub seconds: f64,
    /// Load peers.
    pub peers: usize,
    /// Copies of each message (each from another peer).
    pub copies: usize,
    /// Seed of the traffic.
    pub seed: u64,
    /// Peer scoring on in the node.
    pub scoring: bool,
    /// The routers to measure, each at every level, in this order.
    pub routers: Vec<RouterKind>,
    /// Pheme's router's forward delay, milliseconds (`None`: the default).
    pub forward_delay_ms: Option<u64>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            node_command: (
                std::path::PathBuf::from("pheme"),
                vec!["bench".into(), "ingest-node".into()],
            ),
            loads: vec![1.0, 2.0],
            seconds: DEFAULT_SECONDS,
            peers: DEFAULT_PEERS,
            copies: DEFAULT_COPIES,
            seed: 1,
            scoring: true,
            routers: vec![RouterKind::Pheme],
            forward_delay_ms: None,
        }
    }
}

/// The figures of one load level.
#[derive(Debug, Clone, Serialize)]
pub struct LevelReport {
    /// The node's gossipsub router.
    pub router: RouterKind,
    /// Multiple of mainnet's peak.
    pub load: f64,
    /// Wire messages per second the peers were to send.
    pub offered_wire_msgs_per_sec: f64,
    /// Wire messages per second the node took (unique messages validated plus the copies its
    /// transform counted), over the load window.
    pub wire_msgs_per_sec: f64,
    /// Unique messages per second validated.
    pub unique_msgs_per_sec: f64,
    /// The node's CPU time over the load window, in cores (1.0 = one core busy throughout).
    pub cpu_cores: f64,
    /// The node's CPU milliseconds per 1,000 wire messages.
    pub cpu_ms_per_1000: f64,
    /// Wire messages handled per second of the node's CPU (load window and drain).
    pub wire_msgs_per_cpu_sec: f64,
    /// Median first-copy-to-verdict latency over every message, microseconds.
    pub p50_us: u64,
    /// 99th percentile of the same.
    pub p99_us: u64,
    /// Attestations: median and 99th percentile.
    pub attestation_p50_us: u64,
    /// Attestations: 99th percentile.
    pub attestation_p99_us: u64,
    /// Blocks: median.
    pub block_p50_us: u64,
    /// Blocks: 99th percentile (few samples: one block per replayed slot).
    pub block_p99_us: u64,
    /// Blocks validated.
    pub blocks: u64,
    /// Messages lost: IGNOREd for a full validation queue, or sent and never validated.
    pub dropped: u64,
    /// Of which still unvalidated when the run ended.
    pub unvalidated: u64,
    /// Verdicts other than ACCEPT (the traffic is all valid: should be 0).
    pub refused: u64,
    /// The first refusal's reason, if any.
    pub first_refusal: Option<String>,
    /// The node's peak resident memory, MB.
    pub rss_mb: f64,
    /// SHA-256 message-ids computed per unique message.
    pub msgid_per_unique: f64,
    /// Snappy decompressions per unique message.
    pub decompress_per_unique: f64,
    /// The load generator's own CPU over the window, in cores: near 1.0 means the generator,
    /// not the node, set the pace.
    pub generator_cpu_cores: f64,
    /// Peers connected to the node at the end.
    pub peers: usize,
    /// Load peers the node scored below zero at the end.
    pub negative_peers: usize,
    /// The lowest score and its residual (P3, P3b, P7, slow-peer penalty).
    pub min_score: (f64, f64),
    /// Mean mesh size over the traffic's topics at the end, as the node's GRAFTs and PRUNEs
    /// told the peers.
    pub mesh_per_topic: f64,
    /// The smallest of those meshes.
    pub min_mesh: usize,
    /// Frames the node wrote per second (Pheme's router only).
    pub frames_out_per_sec: f64,
    /// Messages forwarded per frame written (Pheme's router only).
    pub msgs_per_frame_out: f64,
    /// Message records, seen ids and messages queued to peers in Pheme's router at the end of
    /// the load window.
    pub router_tables: (u64, u64, u64),
    /// The limit: wire messages per second one core decompresses and hashes.
    pub limit_wire_msgs_per_sec: f64,
    /// Pheme's wire messages per CPU-second over the limit's.
    pub ratio_to_limit: f64,
    /// The transport limit: the same plus noise's decryption of every copy and encryption of
    /// every forward, on one core.
    pub transport_limit_wire_msgs_per_sec: f64,
    /// The node's wire messages per CPU-second over the transport limit's.
    pub ratio_to_transport_limit: f64,
}

struct NodeProcess {
    child: Child,
    stdin: ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    pid: u32,
}

impl NodeProcess {
    async fn start(
        config: &IngestConfig,
        router: RouterKind,
        genesis_time: u64,
    ) -> Result<(Self, Ready), BenchError> {
        let (program, args) = &config.node_command;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .arg("--genesis-time")
            .arg(genesis_time.to_string())
            .arg("--peers")
            .arg(config.peers.to_string())
            .arg("--router")
            .arg(router.name())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        if !config.scoring {
            cmd.arg("--no-scoring");
        }
        if let Some(ms) = config.forward_delay_ms {
            cmd.arg("--forward-delay-ms").arg(ms.to_string());
        }
        let mut child = cmd.spawn()?;
        let pid = child
            .id()
            .ok_or(BenchError::Node("node exited at once".into()))?;
        let stdin = child
            .stdin
            .take()
            .ok_or(BenchError::Node("no stdin".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or(BenchError::Node("no stdout".into()))?;
        let mut node = NodeProcess {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            pid,
        };
        let ready: Ready = node.read().await?;
        Ok((node, ready))
    }

    async fn read<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, BenchError> {
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .map_err(|_| BenchError::Node("no answer within 30 s".into()))??
            .ok_or(BenchError::Node("the node closed its output".into()))?;
        Ok(serde_json::from_str(&line)?)
    }

    async fn stats(&mut self) -> Result<NodeStats, BenchError> {
        self.stdin.write_all(b"stats\n").await?;
        self.stdin.flush().await?;
        self.read().await
    }

    async fn stop(mut self) {
        drop(self.stdin);
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Runs one load level against a node running `router`.
pub async fn run_level(
    config: &IngestConfig,
    router: RouterKind,
    load: f64,
) -> Result<LevelReport, BenchError> {
    let genesis_time = genesis_slots_ago(1000);
    let chain = Arc::new(bench_chain(genesis_time)?);
    let clock = chain.clock();
    let slot_now = || clock.slot_at_ms(unix_now_ms()).unwrap_or(0);
    let digest = chain.fork_digest_at(chain.epoch_of(slot_now()));
    let mut traffic = TrafficGen::new(chain.clone(), digest, config.seed);
    let topics = traffic.topics();
    let hello = subscribe_frame(topics.iter().map(|t| &**t));

    let (mut node, ready) = NodeProcess::start(config, router, genesis_time).await?;
    let addr: Multiaddr = ready.addr.parse()?;
    let node_id: PeerId = ready
        .peer_id
        .parse()
        .map_err(|_| BenchError::Node(format!("bad peer id {}", ready.peer_id)))?;
    let peers = LoadPeers::connect(config.peers, &addr, node_id, &hello).await?;
    tokio::time::sleep(MESH_WARMUP).await;
    let before = node.stats().await?;

    let mix = Mix::MAINNET.scaled(load);
    let copies = config.copies.clamp(1, peers.len().max(1));
    let offered = load * PEAK_WIRE_PER_SEC;
    let unique_rate = offered / copies as f64;
    let window = Duration::from_secs_f64(config.seconds);
    let mut rng = StdRng::seed_from_u64(config.seed ^ 0x5eed);
    let mut plan = Vec::new().into_iter();
    let mut sent = 0u64;
    let cpu0 = cpu_ns(node.pid)?;
    let own0 = cpu_ns(std::process::id())?;
    let start = Instant::now();
    let mut tick = tokio::time::interval(PACE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batches: Vec<Vec<u8>> = vec![Vec::new(); peers.len()];
    loop {
        tick.tick().await;
        let elapsed = start.elapsed();
        if elapsed >= window {
            break;
        }
        let due = (unique_rate * elapsed.as_secs_f64()) as u64;
        let slot = slot_now();
        let mesh = peers.mesh();
        while sent < due {
            let p = match plan.next() {
                Some(p) => p,
                None => {
                    plan = traffic.plan(&mix).into_iter();
                    continue;
                }
            };
            let m = traffic.make(p, slot)?;
            let frame = publish_frame(&m.topic, &m.wire);
            for i in senders(&mesh, &m.topic, peers.len(), copies, &mut rng) {
                batches[i].extend_from_slice(&frame);
            }
            sent += 1;
        }
        for (i, b) in batches.iter_mut().enumerate() {
            if !b.is_empty() {
                peers.send(i, std::mem::take(b)).await?;
            }
        }
    }
    let sent_for = start.elapsed();
    let cpu1 = cpu_ns(node.pid)?;
    let at_end = node.stats().await?;
    let own1 = cpu_ns(std::process::id())?;
    let mesh = peers.mesh();
    let sizes: Vec<usize> = topics
        .iter()
        .map(|t| mesh.get(&**t).map_or(0, Vec::len))
        .collect();
    let mesh_per_topic = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
    let min_mesh = sizes.iter().copied().min().unwrap_or(0);

    // Let the node finish what is queued: until every message has a verdict or nothing moves.
    let drain_start = Instant::now();
    let mut stats = node.stats().await?;
    loop {
        if stats.validated - before.validated >= sent || drain_start.elapsed() > DRAIN_LIMIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        let next = node.stats().await?;
        let moved = next.validated != stats.validated;
        stats = next;
        if !moved && drain_start.elapsed() > Duration::from_secs(2) {
            break;
        }
    }
    // Counters the service publishes every tick: one more tick for them to settle.
    tokio::time::sleep(pheme_network::service::TICK * 2).await;
    let stats = node.stats().await?;
    let cpu2 = cpu_ns(node.pid)?;
    let (_, peak_rss) = rss_bytes(node.pid)?;
    drop(peers);
    node.stop().await;

    let limit = limit_wire_per_sec(chain.clone(), digest, &mix, slot_now(), copies, config.seed)?;
    // Forwards per unique message: what the node sent (Pheme's router counts them), else the
    // mesh minus the copies' senders.
    let forwards = if stats.messages_out > before.messages_out && stats.validated > before.validated
    {
        ((stats.messages_out - before.messages_out) as f64
            / (stats.validated - before.validated) as f64)
            .round() as usize
    } else {
        (mesh_per_topic.round() as usize).saturating_sub(copies)
    };
    let transport_limit = transport_limit_wire_per_sec(
        chain.clone(),
        digest,
        &mix,
        slot_now(),
        copies,
        forwards,
        config.seed,
    )?;
    let unique = stats.validated - before.validated;
    let wire = unique + (stats.duplicates - before.duplicates);
    let secs = sent_for.as_secs_f64();
    let cpu_all = (cpu2 - cpu0) as f64 / 1e9;
    let per_unique = |n: u64| {
        if unique == 0 {
            0.0
        } else {
            n as f64 / unique as f64
        }
    };
    let pheme_per_cpu_second = if cpu_all > 0.0 {
        wire as f64 / cpu_all
    } else {
        0.0
    };
    let unvalidated = sent.saturating_sub(unique);
    let queue_dropped = stats.queue_dropped - before.queue_dropped;
    Ok(LevelReport {
        router,
        load,
        offered_wire_msgs_per_sec: offered,
        wire_msgs_per_sec: wire as f64 / secs,
        unique_msgs_per_sec: unique as f64 / secs,
        cpu_cores: (cpu1 - cpu0) as f64 / 1e9 / secs,
        cpu_ms_per_1000: if wire == 0 {
            0.0
        } else {
            cpu_all * 1e3 / wire as f64 * 1000.0
        },
        wire_msgs_per_cpu_sec: pheme_per_cpu_second,
        p50_us: stats.all.p50_us,
        p99_us: stats.all.p99_us,
        attestation_p50_us: stats.attestations.p50_us,
        attestation_p99_us: stats.attestations.p99_us,
        block_p50_us: stats.blocks.p50_us,
        block_p99_us: stats.blocks.p99_us,
        blocks: stats.blocks.count,
        dropped: queue_dropped + unvalidated,
        unvalidated,
        refused: (stats.ignored + stats.rejected) - (before.ignored + before.rejected),
        first_refusal: stats.first_refusal,
        rss_mb: peak_rss as f64 / 1e6,
        msgid_per_unique: per_unique(stats.ids_computed - before.ids_computed),
        decompress_per_unique: per_unique(stats.decompressions - before.decompressions),
        generator_cpu_cores: (own1 - own0) as f64 / 1e9 / secs,
        peers: stats.peers,
        negative_peers: stats.negative_peers,
        min_score: stats.min_score,
        mesh_per_topic,
        min_mesh,
        router_tables: at_end.router_tables,
        frames_out_per_sec: (stats.frames_out - before.frames_out) as f64 / secs,
        msgs_per_frame_out: (stats.messages_out - before.messages_out) as f64
            / (stats.frames_out - before.frames_out).max(1) as f64,
        limit_wire_msgs_per_sec: limit,
        ratio_to_limit: if limit > 0.0 {
            pheme_per_cpu_second / limit
        } else {
            0.0
        },
        transport_limit_wire_msgs_per_sec: transport_limit,
        ratio_to_transport_limit: if transport_limit > 0.0 {
            pheme_per_cpu_second / transport_limit
        } else {
            0.0
        },
    })
}

/// Who sends the copies of a message on `topic`: mesh peers first, as on mainnet, where full
/// messages come from the mesh (so the node forwards each to the rest of its mesh only), and
/// other peers when the mesh is smaller than `copies`.
fn senders(
    mesh: &HashMap<String, Vec<usize>>,
    topic: &str,
    peers: usize,
    copies: usize,
    rng: &mut StdRng,
) -> Vec<usize> {
    let members = mesh.get(topic).map_or(&[][..], |m| &m[..]);
    let mut out: Vec<usize> = members
        .choose_multiple(rng, copies.min(members.len()))
        .copied()
        .collect();
    while out.len() < copies.min(peers) {
        let i = rng.gen_range(0..peers);
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Runs every level of `config` with every router (the routers back to back at each level),
/// one node process each.
pub async fn run(config: &IngestConfig) -> Result<Vec<LevelReport>, BenchError> {
    let mut out = Vec::new();
    for &load in &config.loads {
        for &router in &config.routers {
            out.push(run_level(config, router, load).await?);
        }
    }
    Ok(out)
}

/// Per load level measured with both routers: Pheme's router's wire messages per CPU-second
/// over libp2p-gossipsub's.
pub fn speedups(levels: &[LevelReport]) -> Vec<(f64, f64)> {
    let rate = |router, load| {
        levels
            .iter()
            .find(|l| l.router == router && l.load == load)
            .map(|l| l.wire_msgs_per_cpu_sec)
    };
    let mut loads: Vec<f64> = levels.iter().map(|l| l.load).collect();
    loads.dedup();
    loads
        .into_iter()
        .filter_map(|load| {
            let (p, l) = (
                rate(RouterKind::Pheme, load)?,
                rate(RouterKind::Libp2p, load)?,
            );
            (l > 0.0).then_some((load, p / l))
        })
        .collect()
}

/// A plain-text table of the levels.
pub fn table(levels: &[LevelReport]) -> String {
    let mut s = String::from(
        "router  load  offered/s  wire/s   unique/s  cpu    ms/1k  wire/cpu-s  p50us  p99us  att_p99  blk_p50  blk_p99  dropped  rss_MB  mesh_min  neg  id/uniq  limit/s   ratio\n",
    );
    for l in levels {
        s.push_str(&format!(
            "{:<7} {:<5} {:<10.0} {:<8.0} {:<9.0} {:<6.2} {:<6.2} {:<11.0} {:<6} {:<6} {:<8} {:<8} {:<8} {:<8} {:<7.1} {:<9} {:<4} {:<8.3} {:<9.0} {:.3}\n",
            l.router.name(),
            l.load,
            l.offered_wire_msgs_per_sec,
            l.wire_msgs_per_sec,
            l.unique_msgs_per_sec,
            l.cpu_cores,
            l.cpu_ms_per_1000,
            l.wire_msgs_per_cpu_sec,
            l.p50_us,
            l.p99_us,
            l.attestation_p99_us,
            l.block_p50_us,
            l.block_p99_us,
            l.dropped,
            l.rss_mb,
            l.min_mesh,
            l.negative_peers,
            l.msgid_per_unique,
            l.limit_wire_msgs_per_sec,
            l.ratio_to_limit,
        ));
    }
    for (load, x) in speedups(levels) {
        s.push_str(&format!(
            "load {load}: pheme handles {x:.1}x libp2p-gossipsub's wire messages per CPU-second\n"
        ));
    }
    s
}
