//! `pheme bench ingest`: mainnet-shaped gossip replayed into one all-subnets node, with the
//! figures per load level (see `docs/performance.md`).

use clap::{Args, Subcommand};
use pheme_bench::{
    DEFAULT_COPIES, DEFAULT_PEERS, DEFAULT_SECONDS, IngestConfig, NodeArgs, run_level, run_node,
    table,
};

use crate::error::CliError;
use pheme_network::RouterKind;

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Replay mainnet-shaped gossip (real SSZ, the mainnet mix, copies from several mesh peers)
    /// over loopback into one all-subnets node on one core, per load level.
    Ingest(IngestArgs),
    /// The node under load (started by `ingest` in a process of its own).
    #[command(hide = true)]
    IngestNode(NodeCmdArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Load levels, in multiples of mainnet's peak (80,000 wire messages a second),
    /// comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    load: Vec<f64>,
    /// Seconds of load per level.
    #[arg(long, default_value_t = DEFAULT_SECONDS)]
    seconds: f64,
    /// Load peers, each subscribed to every topic.
    #[arg(long, default_value_t = DEFAULT_PEERS)]
    peers: usize,
    /// Copies of each message, each from another peer.
    #[arg(long, default_value_t = DEFAULT_COPIES)]
    copies: usize,
    /// Seed of the traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Turn the node's peer scoring off.
    #[arg(long)]
    no_scoring: bool,
    /// The node's gossipsub router(s), comma-separated: each is measured at every level, back
    /// to back (`pheme`, `libp2p`).
    #[arg(long, value_delimiter = ',', default_value = "pheme")]
    router: Vec<RouterKind>,
    /// How long Pheme's router lets a small forward wait to be batched, milliseconds (default
    /// 5).
    #[arg(long)]
    forward_delay_ms: Option<u64>,
    /// One JSON object per load level instead of the table.
    #[arg(long)]
    json: bool,
    /// The node writes the observer's Parquet datasets here (as `pheme observe --out-dir`),
    /// to measure their cost.
    #[arg(long)]
    out_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct NodeCmdArgs {
    #[arg(long)]
    genesis_time: u64,
    #[arg(long)]
    peers: usize,
    #[arg(long)]
    no_scoring: bool,
    #[arg(long, default_value = "pheme")]
    router: RouterKind,
    #[arg(long)]
    forward_delay_ms: Option<u64>,
    #[arg(long)]
    out_dir: Option<std::path::PathBuf>,
}

pub fn run(cmd: BenchCmd) -> Result<(), CliError> {
    match cmd {
        BenchCmd::Ingest(args) => ingest(args),
        BenchCmd::IngestNode(args) => {
            // One thread: everything the node does runs on one core.
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(io_error)?;
            let datasets = match &args.out_dir {
                Some(dir) => {
                    let opts = crate::observe::parquet::ParquetOptions {
                        dir: dir.clone(),
                        policy: Default::default(),
                        node_partition: false,
                        capture: Default::default(),
                        capture_budget: crate::observe::parquet::DEFAULT_CAPTURE_BUDGET,
                        partials: false,
                        queue: crate::observe::parquet::DEFAULT_PARQUET_QUEUE,
                    };
                    let clock = pheme_spec::SlotClock::new(args.genesis_time, 12_000);
                    Some(crate::observe::parquet::Datasets::start(
                        &opts, "bench", clock,
                    )?)
                }
                None => None,
            };
            let observer = datasets.as_ref().map(|d| pheme_bench::ObserverSinks {
                messages: d.messages.clone(),
                control: d.control.clone(),
                peers: d.peers.clone(),
            });
            rt.block_on(run_node(NodeArgs {
                genesis_time: args.genesis_time,
                peers: args.peers,
                scoring: !args.no_scoring,
                router: args.router,
                forward_delay: args.forward_delay_ms.map(std::time::Duration::from_millis),
                observer,
            }))?;
            if let Some(d) = datasets {
                let line = d.finish(std::time::Duration::from_secs(30));
                tracing::info!(target: "pheme::bench", "{line}");
            }
            Ok(())
        }
    }
}

fn io_error(e: std::io::Error) -> CliError {
    CliError::Io {
        path: "<runtime>".into(),
        source: e,
    }
}

fn ingest(args: IngestArgs) -> Result<(), CliError> {
    let program = std::env::current_exe().map_err(io_error)?;
    let mut node_args = vec!["bench".to_string(), "ingest-node".into()];
    if let Some(dir) = &args.out_dir {
        node_args.push("--out-dir".into());
        node_args.push(dir.display().to_string());
    }
    let config = IngestConfig {
        node_command: (program, node_args),
        loads: args.load,
        seconds: args.seconds,
        peers: args.peers,
        copies: args.copies,
        seed: args.seed,
        scoring: !args.no_scoring,
        routers: args.router,
        forward_delay_ms: args.forward_delay_ms,
    };
    // The load peers and the pacer: the node has a core of its own, they get the other.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(io_error)?;
    let levels = rt.block_on(async {
        let mut out = Vec::new();
        for load in &config.loads {
            for router in &config.routers {
                let level = run_level(&config, *router, *load).await?;
                if args.json {
                    crate::emit(&format!(
                        "{}\n",
                        serde_json::to_string(&level).unwrap_or_default()
                    ))?;
                }
                out.push(level);
            }
        }
        Ok::<_, CliError>(out)
    })?;
    if !args.json {
        crate::emit(&table(&levels))?;
    }
    Ok(())
}
