//! `pheme observe`: a gossip-only node that joins a network, keeps meshes on every topic without
//! a beacon node, validates what it can and exports what it sees.

mod exporter;
pub mod parquet;
mod selection;
mod status;
mod summary;

pub use parquet::{CaptureError, DatasetError, find_captured};

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use pheme_network::{
    DEFAULT_PORT, DEFAULT_TARGET_PEERS, DEFAULT_TRACE_QUEUE, Metrics, NetworkConfig, NetworkEvent,
    Subnets, TraceWriter, libp2p::Multiaddr,
};
use pheme_spec::{ChainSpec, load_network, unix_now_ms};

use crate::beacon_api::count_active_validators;
use crate::error::CliError;
use summary::Tally;

/// `pheme observe` options (defaults as a Lighthouse user expects them).
#[derive(Debug, Args)]
pub struct ObserveArgs {
    /// Built-in network name or path to a config.yaml.
    #[arg(long, default_value = "mainnet")]
    network: String,
    /// Address to listen on (0.0.0.0 also listens on :: where the OS has IPv6).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    listen: IpAddr,
    /// TCP port; QUIC listens on the next port.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Bootnode ENRs, comma-separated (default: the network's).
    #[arg(long, value_delimiter = ',')]
    boot_nodes: Vec<String>,
    /// Multiaddrs of peers to dial and keep dialled, comma-separated.
    #[arg(long, value_delimiter = ',')]
    peers: Vec<Multiaddr>,
    /// Peers to keep connected.
    #[arg(long, default_value_t = DEFAULT_TARGET_PEERS)]
    target_peers: usize,
    /// `all`, or attestation subnet ids, comma-separated.
    #[arg(long, default_value = "all")]
    subnets: String,
    /// Active validator count the score parameters derive from (default: the network's).
    #[arg(long, conflicts_with = "beacon_api")]
    active_validators: Option<u64>,
    /// Beacon API to count active validators from, once at start.
    #[arg(long)]
    beacon_api: Option<String>,
    /// Serve Prometheus metrics on this address (for example 127.0.0.1:5054).
    #[arg(long)]
    metrics: Option<std::net::SocketAddr>,
    /// Write one JSON line per received message to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Stop after this long (for example 90s, 10m); runs until Ctrl-C otherwise.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Print every peer's score and its components once an epoch and at exit.
    #[arg(long)]
    peer_scores: bool,
    /// Address to advertise in the ENR (discv5 learns it from peers otherwise).
    #[arg(long)]
    enr_address: Option<IpAddr>,
    /// Run without discv5: only the --peers are dialled (offline and loopback use).
    #[arg(long)]
    no_discovery: bool,
    /// Exempt these IPs from the IP colocation penalty (comma-separated).
    #[arg(long, value_delimiter = ',')]
    trusted_ips: Vec<IpAddr>,
    /// The gossipsub router: `pheme` (Pheme's own) or `libp2p` (libp2p-gossipsub 0.50).
    #[arg(long, default_value = "pheme")]
    router: pheme_network::RouterKind,
    /// Write Parquet datasets here: table=messages, control, peers (payloads with --capture,
    /// partials with --partial-columns), in date=/hour= partitions (docs/observer.md).
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Close each Parquet file (and start the next) at least this often (a crash loses at most
    /// the open row group; the next start finishes the file from its written row groups).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "60s", requires = "out_dir")]
    rotate_every: Duration,
    /// Close a Parquet file once it holds this many MiB.
    #[arg(long, default_value_t = parquet::rotation::DEFAULT_MAX_FILE_BYTES >> 20, requires = "out_dir")]
    max_file_mb: u64,
    /// Rows per Parquet row group.
    #[arg(long, default_value_t = parquet::rotation::DEFAULT_ROW_GROUP_ROWS, requires = "out_dir")]
    row_group_rows: usize,
    /// Put the datasets under node=<peer id>/ (observers sharing one storage).
    #[arg(long, requires = "out_dir")]
    node_partition: bool,
    /// Keep the wire data of first copies: accepted, rejected or all (a payloads table,
    /// replayed by `pheme decode --capture`).
    #[arg(long, requires = "out_dir")]
    capture: Option<pheme_network::Capture>,
    /// Captured bytes per UTC hour, in MiB; past it payloads are dropped (and counted).
    #[arg(long, default_value_t = parquet::DEFAULT_CAPTURE_BUDGET >> 20, requires = "out_dir")]
    capture_budget_mb: u64,
    /// Partial data columns (Fulu's partial-columns over gossipsub's Partial Messages
    /// extension): request cells on the data_column_sidecar topics and assemble columns; each
    /// partial message becomes a --trace line (`"record": "partial"`) and a row of
    /// table=partials under --out-dir. Pheme's router only.
    #[arg(long)]
    partial_columns: bool,
    #[command(flatten)]
    selection: selection::SelectionArgs,
}

fn subnets(arg: &str, chain: &ChainSpec) -> Result<Subnets, CliError> {
    if arg == "all" {
        return Ok(Subnets::All);
    }
    let list: Result<Vec<u64>, _> = arg.split(',').map(|s| s.trim().parse::<u64>()).collect();
    match list {
        Ok(l) if l.iter().all(|s| *s < chain.attestation_subnet_count) => {
            Ok(Subnets::Attestation(l))
        }
        _ => Err(CliError::Usage(format!(
            "--subnets takes `all` or attestation subnet ids below {}",
            chain.attestation_subnet_count
        ))),
    }
}

fn listen_addrs(ip: IpAddr, port: u16) -> Vec<Multiaddr> {
    let quic = port.saturating_add(1);
    let mut ips = vec![ip];
    // Dual stack: `0.0.0.0` means every interface, IPv6 too where the OS has it.
    if ip == IpAddr::V4(Ipv4Addr::UNSPECIFIED) && std::net::TcpListener::bind("[::1]:0").is_ok() {
        ips.push(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
    }
    let mut out = Vec::new();
    for ip in ips {
        let base = match ip {
            IpAddr::V4(a) => format!("/ip4/{a}"),
            IpAddr::V6(a) => format!("/ip6/{a}"),
        };
        out.extend(
            [
                format!("{base}/tcp/{port}"),
                format!("{base}/udp/{quic}/quic-v1"),
            ]
            .iter()
            .filter_map(|s| s.parse().ok()),
        );
    }
    out
}

/// discv5 on the TCP port's number over UDP (as Lighthouse), from the given or the network's
/// bootnodes.
fn discovery_config(args: &ObserveArgs) -> pheme_network::pheme_discovery::DiscoveryConfigBuilder {
    use std::net::{SocketAddrV4, SocketAddrV6};
    let mut d = pheme_network::pheme_discovery::DiscoveryConfig::builder();
    match args.listen {
        IpAddr::V4(ip) => {
            d.listen_v4(Some(SocketAddrV4::new(ip, args.port)));
            if ip.is_unspecified() {
                d.listen_v6(Some(SocketAddrV6::new(
                    std::net::Ipv6Addr::UNSPECIFIED,
                    args.port,
                    0,
                    0,
                )));
            } else {
                d.listen_v6(None);
            }
        }
        IpAddr::V6(ip) => {
            d.listen_v4(None)
                .listen_v6(Some(SocketAddrV6::new(ip, args.port, 0, 0)));
        }
    }
    d.tcp_port(Some(args.port))
        .quic_port(Some(args.port.saturating_add(1)));
    match args.enr_address {
        Some(IpAddr::V4(ip)) => {
            d.enr_ip4(Some(ip));
        }
        Some(IpAddr::V6(ip)) => {
            d.enr_ip6(Some(ip));
        }
        None => {}
    }
    if !args.boot_nodes.is_empty() {
        d.bootnode_texts(&args.boot_nodes);
    }
    d
}

/// Runs the observer until Ctrl-C or `--duration`.
pub fn run(args: ObserveArgs) -> Result<(), CliError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .thread_name("pheme")
        .build()
        .map_err(|e| CliError::Io {
            path: "<tokio runtime>".into(),
            source: e,
        })?;
    rt.block_on(observe(args))
}

async fn observe(args: ObserveArgs) -> Result<(), CliError> {
    if args.partial_columns && args.router != pheme_network::RouterKind::Pheme {
        return Err(CliError::Usage(
            "--partial-columns needs --router pheme (libp2p-gossipsub's partial messages are not wired into Pheme)".into(),
        ));
    }
    let chain = load_network(&args.network)?;
    let validators = match (&args.beacon_api, args.active_validators) {
        (Some(url), _) => {
            let url = url.clone();
            tokio::task::spawn_blocking(move || count_active_validators(&url))
                .await
                .map_err(|e| CliError::Usage(e.to_string()))??
        }
        (None, Some(v)) => v,
        (None, None) => 0, // the network's default, or one derived from the committee count
    };
    let subnets = subnets(&args.subnets, &chain)?;
    let mut builder = NetworkConfig::builder(chain.clone())
        .target_peers(args.target_peers)
        .subnets(subnets)
        .active_validators(validators)
        .ip_colocation_whitelist(args.trusted_ips.clone())
        .router(args.router)
        .partial_columns(args.partial_columns);
    builder = args.selection.apply(builder);
    for addr in listen_addrs(args.listen, args.port) {
        builder = builder.listen(addr);
    }
    for p in &args.peers {
        builder = builder.peer(p.clone());
    }
    if !args.no_discovery {
        builder = builder.discovery(discovery_config(&args));
    }
    let mut registry = prometheus_client::registry::Registry::default();
    let mut metrics = Metrics::disabled();
    let exporter = match args.metrics {
        Some(addr) => {
            let (recorder, server) = exporter::start(addr)?;
            let m = Metrics::new(Some(recorder));
            metrics = m.clone();
            builder = builder.metrics(m);
            Some(server)
        }
        None => None,
    };
    let (trace_sink, trace_writer) = match &args.trace {
        Some(path) => {
            let (sink, writer) = TraceWriter::create(path, DEFAULT_TRACE_QUEUE)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            builder = builder.trace(sink.clone());
            if args.partial_columns {
                builder = builder.partial_trace(writer.partial_sink());
            }
            (Some(sink), Some(writer))
        }
        None => (None, None),
    };
    let partial_trace = trace_writer.as_ref().map(|w| w.partial_sink().health());
    let keypair = pheme_network::libp2p::identity::Keypair::generate_secp256k1();
    let local_id = keypair.public().to_peer_id();
    builder = builder.keypair(keypair);
    let datasets = match &args.out_dir {
        Some(dir) => {
            let opts = parquet::ParquetOptions {
                dir: dir.clone(),
                policy: parquet::rotation::Policy {
                    row_group_rows: args.row_group_rows.max(1),
                    rotate_every: args.rotate_every,
                    max_file_bytes: args.max_file_mb.max(1) << 20,
                },
                node_partition: args.node_partition,
                capture: args.capture.unwrap_or_default(),
                capture_budget: args.capture_budget_mb << 20,
                partials: args.partial_columns,
                queue: parquet::DEFAULT_PARQUET_QUEUE,
            };
            let d = parquet::Datasets::start(&opts, &local_id.to_string(), chain.clock())?;
            builder = builder
                .trace(d.messages.clone())
                .control_trace(d.control.clone())
                .peer_trace(d.peers.clone())
                .capture(opts.capture);
            if let Some(p) = &d.partials {
                builder = builder.partial_trace(p.clone());
            }
            Some(d)
        }
        None => None,
    };
    let config = builder
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let (handle, mut events) =
        pheme_network::spawn(config, pheme_gossip::NoState, Some(&mut registry))
            .map_err(|e| CliError::Usage(e.to_string()))?;
    let mut traffic = status::Traffic::default();
    let board = exporter.as_ref().map(|server| {
        server.set_libp2p(registry);
        let board = std::sync::Arc::new(status::Board::new(serde_json::json!({
            "peer_id": handle.local_peer_id().to_string(),
            "network": chain.name,
            "router": args.router,
            "version": env!("CARGO_PKG_VERSION"),
            "selection": args.selection.describe(),
        })));
        tokio::spawn(status::refresh_network(board.clone(), handle.clone()));
        server.set_status(board.clone());
        board
    });
    let mut status_tick = tokio::time::interval(status::REFRESH);
    tracing::info!(
        target: "pheme::observe",
        network = %chain.name,
        peer_id = %handle.local_peer_id(),
        "observer started"
    );

    let clock = chain.clock();
    let mut tally = Tally::default();
    let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
    let mut last_epoch = None;
    loop {
        let next_slot = Duration::from_millis(clock.ms_until_next_slot(unix_now_ms()).max(1));
        let stop = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = events.recv() => match event {
                Some(NetworkEvent::Gossip(g)) => {
                    tally.gossip(&g.outcome);
                    if board.is_some() {
                        traffic.gossip(&g);
                    }
                }
                Some(other) => tally.other(&other),
                None => break,
            },
            _ = tokio::time::sleep(next_slot) => {
                let snapshot = handle.snapshot().await.map_err(|e| CliError::Usage(e.to_string()))?;
                let slot = clock.slot_at_ms(unix_now_ms()).unwrap_or(0);
                tracing::info!(target: "pheme::observe", "{}", tally.line(slot, &snapshot));
                let epoch = chain.epoch_of(slot);
                if last_epoch != Some(epoch) {
                    last_epoch = Some(epoch);
                    if args.peer_scores {
                        print_scores(&handle).await;
                    }
                    if let Some(d) = &datasets && let Ok(scores) = handle.peer_scores().await {
                        d.scores(epoch, scores);
                    }
                }
                if let Some(d) = &datasets {
                    d.publish(&metrics);
                }
                let partial_dropped = partial_trace.as_ref().map_or(0, |p| p.dropped());
                if let Some(sink) = &trace_sink && sink.dropped() + partial_dropped > 0 {
                    tracing::warn!(target: "pheme::trace", dropped = sink.dropped(), partial_dropped, "trace records dropped");
                }
            }
            _ = status_tick.tick(), if board.is_some() => {
                if let Some(b) = &board {
                    b.set_traffic(&traffic);
                }
            }
            _ = tokio::signal::ctrl_c() => {
                tracing::info!(target: "pheme::observe", "Ctrl-C: saying goodbye");
                break;
            }
            _ = stop => break,
        }
    }
    if args.peer_scores {
        print_scores(&handle).await;
    }
    let _ = handle.shutdown().await;
    // Verdicts reached before the service stopped are in the traces: count them too.
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(2), events.recv()).await {
        match event {
            NetworkEvent::Gossip(g) => tally.gossip(&g.outcome),
            other => tally.other(&other),
        }
    }
    drop(events);
    drop(trace_sink);
    if let Some(w) = trace_writer {
        // The validation task holds the last sink until the swarm is gone; give it a moment.
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::task::spawn_blocking(move || w.finish()),
        )
        .await;
    }
    tracing::info!(target: "pheme::observe", "{}", tally.total_line());
    if let Some(d) = datasets {
        let line = tokio::task::spawn_blocking(move || d.finish(Duration::from_secs(20)))
            .await
            .unwrap_or_default();
        tracing::info!(target: "pheme::observe::parquet", "{line}");
    }
    Ok(())
}

async fn print_scores(handle: &pheme_network::NetworkHandle) {
    let Ok(mut scores) = handle.peer_scores().await else {
        return;
    };
    scores.sort_by(|a, b| b.total.total_cmp(&a.total));
    let mut out = String::from(
        "peer                                                  total       p1       p2       p3      p3b       p4       p5       p6       p7  residual\n",
    );
    for s in &scores {
        out.push_str(&format!(
            "{:<52} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>9.3}\n",
            s.peer.to_string(),
            s.total,
            s.p1,
            s.p2,
            s.p3,
            s.p3b,
            s.p4,
            s.p5,
            s.p6,
            s.p7,
            s.residual
        ));
    }
    let _ = crate::emit(&out);
}
