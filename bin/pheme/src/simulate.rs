//! `pheme simulate`: runs attack scenarios against real Pheme nodes in this process, with and
//! without peer scoring, and prints a table, JSON lines or the markdown report.

use std::time::Instant;

use clap::Args;
use pheme_sim::{RunReport, Scenario, SimConfig};

use crate::emit;
use crate::error::CliError;

/// Options of `pheme simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A scenario name, or `all`.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Honest (Pheme) nodes.
    #[arg(long, default_value_t = pheme_sim::DEFAULT_HONEST)]
    honest: usize,
    /// Attackers.
    #[arg(long, default_value_t = pheme_sim::DEFAULT_SYBILS)]
    sybils: usize,
    /// Slots with publishing.
    #[arg(long, default_value_t = pheme_sim::DEFAULT_SLOTS)]
    slots: u64,
    /// Seed of keys, topology and schedule.
    #[arg(long, default_value_t = pheme_sim::DEFAULT_SEED)]
    seed: u64,
    /// Slot duration in milliseconds (the score parameters are derived for it).
    #[arg(long, default_value_t = pheme_sim::DEFAULT_SLOT_MS)]
    slot_ms: u64,
    /// Score parameter set of every node: pheme, recommendations, lighthouse, lodestar or prysm.
    #[arg(long, default_value = "pheme")]
    profile: String,
    /// Only run with scoring off (default: each scenario with scoring on, then off).
    #[arg(long, conflicts_with = "scoring_only")]
    no_scoring: bool,
    /// Only run with scoring on.
    #[arg(long)]
    scoring_only: bool,
    /// One JSON object per run instead of the table.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// The markdown report (docs/simulation.md).
    #[arg(long)]
    markdown: bool,
    /// `virtual`: Pheme's router cores in a deterministic discrete-event simulation (virtual
    /// time, a latency and bandwidth model); `sockets`: real Pheme network services over
    /// loopback TCP.
    #[arg(long, default_value = "virtual", value_parser = ["virtual", "sockets"])]
    engine: String,
    /// Virtual engine: upload bandwidth of every node, Mbit/s.
    #[arg(long, default_value_t = pheme_sim::vsim::net::DEFAULT_UPLOAD_BPS / 1_000_000)]
    upload_mbps: u64,
    /// Measure a candidate: the share of a topic's messages a mesh peer must deliver in the
    /// mesh window (sets P3's threshold, weight and activation; profiles pheme and recommendations).
    #[arg(long)]
    p3_share: Option<f64>,
    /// Measure a candidate: the share a new mesh peer is assumed to deliver while building up
    /// to the threshold (sets P3's activation with `--p3-share`).
    #[arg(long)]
    p3_ramp: Option<f64>,
    /// Measure a candidate: the share whose build-up at the ramp sets P3's activation
    /// (default: `--p3-share`'s)
    #[arg(long)]
    p3_activation_share: Option<f64>,
    /// Measure a candidate: slots added to P3's activation.
    #[arg(long)]
    p3_extra_slots: Option<u64>,
    /// Measure a candidate: P3's mesh-delivery window, milliseconds.
    #[arg(long)]
    p3_window_ms: Option<u64>,
    /// Measure a candidate: flood publishing on or off instead of the profile's.
    #[arg(long)]
    flood_publish: Option<bool>,
    /// Virtual engine: the share of messages the otherwise silent Sybils (silent, cold boot,
    /// eclipse, IP colocation) forward, from 0 to 1.
    #[arg(long, default_value_t = 0.0)]
    sybil_forward_share: f64,
    /// IHAVE spam: unknown message-ids per topic in each IHAVE (2500 fills the router's limit).
    #[arg(long, default_value_t = pheme_sim::DEFAULT_IHAVE_IDS)]
    ihave_ids: usize,
    /// Bytes of incompressible transactions in each block (0: a bare 331-byte block).
    #[arg(long, default_value_t = pheme_sim::DEFAULT_BLOCK_TX_BYTES)]
    block_tx_bytes: usize,
    /// Virtual engine: runs at once (default: one per core)
    #[arg(long)]
    jobs: Option<usize>,
    /// Eclipse: honest peers node 0 dials itself (no honest node dials it; default: as many as
    /// every honest node); 0: two honest nodes dial it and it has no outbound peer.
    #[arg(long)]
    eclipse_dials: Option<usize>,
    /// Measure a candidate: the mesh degree D of every router instead of the profile's
    /// (D_lo, D_hi and the rest follow as the derivation sets them)
    #[arg(long)]
    mesh_n: Option<usize>,
    /// Measure a candidate: D_lo and D_hi of every router, as `LOW,HIGH` (e.g. Lighthouse's
    /// `3,10` with `--mesh-n 5`), instead of what the derivation sets for D
    #[arg(long, value_parser = parse_bounds)]
    mesh_bounds: Option<(usize, usize)>,
}

/// `LOW,HIGH`.
fn parse_bounds(s: &str) -> Result<(usize, usize), String> {
    let (low, high) = s
        .split_once(',')
        .ok_or_else(|| format!("{s:?}: expected LOW,HIGH"))?;
    let n = |v: &str| v.trim().parse::<usize>().map_err(|e| format!("{v:?}: {e}"));
    Ok((n(low)?, n(high)?))
}

/// Runs `pheme simulate`.
pub fn run(args: SimulateArgs) -> Result<(), CliError> {
    // Logs go to standard error (standard output carries the table, JSON or markdown).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let scenarios: Vec<Scenario> = if args.scenario == "all" {
        Scenario::ALL.to_vec()
    } else {
        vec![
            args.scenario
                .parse()
                .map_err(|e: pheme_sim::UnknownScenario| CliError::Usage(e.to_string()))?,
        ]
    };
    if args.honest < 3 {
        return Err(CliError::Usage("--honest must be at least 3".into()));
    }
    if !(0.0..=1.0).contains(&args.sybil_forward_share) {
        return Err(CliError::Usage(
            "--sybil-forward-share must be between 0 and 1".into(),
        ));
    }
    if args.sybil_forward_share > 0.0 && args.engine != "virtual" {
        return Err(CliError::Usage(
            "--sybil-forward-share needs --engine virtual".into(),
        ));
    }
    let profile: pheme_scoring::Profile = args.profile.parse()?;
    let modes: &[bool] = match (args.no_scoring, args.scoring_only) {
        (true, _) => &[false],
        (_, true) => &[true],
        _ => &[true, false],
    };
    if args.engine == "virtual" {
        return run_virtual(&args, &scenarios, profile, modes);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io {
            path: "<tokio runtime>".into(),
            source: e,
        })?;
    let started = Instant::now();
    let mut reports: Vec<RunReport> = Vec::new();
    for scenario in scenarios {
        for scoring in modes {
            let cfg = sim_config(&args, scenario, *scoring, profile);
            let report = rt.block_on(pheme_sim::run(&cfg))?;
            eprintln!(
                "{} scoring {}: delivered {:.2}%, p99 {} ms ({:.0} s)",
                scenario,
                if *scoring { "on" } else { "off" },
                report.delivered_ratio * 100.0,
                report.p99_ms.map_or("-".into(), |v| v.to_string()),
                report.wall_ms as f64 / 1000.0
            );
            if args.json {
                emit(
                    &pheme_sim::json_lines(std::slice::from_ref(&report)).map_err(|e| {
                        CliError::Render {
                            format: "json",
                            reason: e.to_string(),
                        }
                    })?,
                )?;
            }
            reports.push(report);
        }
    }
    if args.markdown {
        emit(&markdown(&args, &reports, started.elapsed().as_secs()))?;
    } else if !args.json {
        emit(&pheme_sim::table(&reports))?;
    }
    Ok(())
}

/// One run's configuration from the command line.
fn sim_config(
    args: &SimulateArgs,
    scenario: Scenario,
    scoring: bool,
    profile: pheme_scoring::Profile,
) -> SimConfig {
    let mut cfg = SimConfig::new(scenario);
    cfg.scoring = scoring;
    cfg.honest = args.honest;
    cfg.sybils = args.sybils;
    cfg.slots = args.slots;
    cfg.seed = args.seed;
    cfg.slot_ms = args.slot_ms;
    cfg.profile = profile;
    cfg.sybil_forward_share = args.sybil_forward_share;
    cfg.ihave_ids = args.ihave_ids;
    cfg.block_tx_bytes = args.block_tx_bytes;
    cfg.eclipse_dials = args.eclipse_dials;
    cfg.mesh_n = args.mesh_n;
    cfg.mesh_bounds = args.mesh_bounds;
    cfg.tuning = pheme_scoring::Tuning {
        mesh_threshold_share: args.p3_share,
        ramp_share: args.p3_ramp,
        activation_share: args.p3_activation_share,
        activation_extra_slots: args.p3_extra_slots,
        mesh_window_ms: args.p3_window_ms,
        flood_publish: args.flood_publish,
    };
    cfg
}

/// `--engine virtual`: every run on the virtual engine, one line of figures each (or JSON).
fn run_virtual(
    args: &SimulateArgs,
    scenarios: &[Scenario],
    profile: pheme_scoring::Profile,
    modes: &[bool],
) -> Result<(), CliError> {
    let net = pheme_sim::vsim::NetModel {
        upload_bps: args.upload_mbps.max(1) * 1_000_000,
        ..Default::default()
    };
    let started = Instant::now();
    let runs: Vec<SimConfig> = scenarios
        .iter()
        .flat_map(|scenario| {
            modes
                .iter()
                .map(move |scoring| sim_config(args, *scenario, *scoring, profile))
        })
        .collect();
    // Runs are independent and each is deterministic: they share the cores, and their figures
    // (wall times aside) do not depend on how many run at once.
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, runs.len().max(1));
    // The heaviest runs start first, so that no worker is left alone with one at the end: the
    // IHAVE spam at the router's limit takes several times any other run (the unscored one
    // most, its spammers never being ignored).
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by_key(|&i| {
        let c = &runs[i];
        let heavy = c.scenario == Scenario::IhaveSpam && c.ihave_ids > pheme_sim::DEFAULT_IHAVE_IDS;
        std::cmp::Reverse((heavy, heavy && !c.scoring))
    });
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Each worker takes the next run and keeps its outcomes by index; they go back in order.
    let mut done: Vec<_> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let taken = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = order.get(taken) else {
                            break mine;
                        };
                        let cfg = &runs[i];
                        let r = pheme_sim::vsim::run_virtual(cfg, &net);
                        if let Ok(r) = &r {
                            eprint!("{}", line(cfg.scenario, cfg.scoring, r));
                        }
                        mine.push((i, r));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    let mut reports = Vec::with_capacity(runs.len());
    let mut lines = String::from(
        "scenario        scoring  honest  sybils  delivered  p50_ms  p99_ms  honest<0  graylisted  after_ms  wall_s\n",
    );
    for (_, r) in done {
        let r = r?;
        lines.push_str(&line(r.scenario, r.scoring, &r));
        if args.json {
            let json = serde_json::to_string(&r).map_err(|e| CliError::Render {
                format: "json",
                reason: e.to_string(),
            })?;
            emit(&format!("{json}\n"))?;
        }
        reports.push(r);
    }
    if args.markdown {
        let ctx = pheme_sim::vsim::ReportContext {
            config: sim_config(args, Scenario::Baseline, true, profile),
            net,
            machine: machine(),
            wall_s: started.elapsed().as_secs(),
        };
        emit(&pheme_sim::vsim::markdown(&reports, &ctx))?;
    } else if !args.json {
        emit(&lines)?;
    }
    Ok(())
}

/// One run's line of the table.
fn line(scenario: Scenario, scoring: bool, r: &pheme_sim::vsim::VirtualReport) -> String {
    let opt = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
    format!(
        "{:<15} {:<8} {:>6}  {:>6}  {:>8.2}%  {:>6}  {:>6}  {:>8}  {:>9.0}%  {:>8}  {:>6.1}\n",
        scenario.to_string(),
        if scoring { "on" } else { "off" },
        r.honest,
        r.sybils,
        r.delivered_ratio * 100.0,
        opt(r.p50_ms),
        opt(r.p99_ms),
        r.honest_peers_below_zero,
        r.graylisted_share * 100.0,
        opt(r.attackers_graylisted_after_ms),
        r.wall_ms as f64 / 1000.0
    )
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} cores ({model}), {}", std::env::consts::OS)
}

fn markdown(args: &SimulateArgs, reports: &[RunReport], wall_s: u64) -> String {
    let cfg = SimConfig::new(Scenario::Baseline);
    let mut out = String::from("# Attack simulation\n\n");
    out.push_str(
        "Generated by `scripts/simulation-report.sh` (`pheme simulate --scenario all --markdown`); \
         do not edit by hand. The analysis of the figures is in `simulation-notes.md`.\n\n",
    );
    out.push_str(&format!(
        "- sizes: {} honest Pheme nodes, {} attackers (none in the baseline), in one process over loopback TCP\n\
         - seed {}; {} measured slots after {} warm-up slots; slots of {} ms, {} slots per epoch, \
         {} active validators (score parameters derived for these by Pheme's {} profile)\n\
         - schedule per slot: 1 block at +50 ms, {} single attestations at +1/3, {} aggregates at +2/3, \
         each by a seeded honest node\n\
         - each honest node dials {} others; each attacker connects to {} honest nodes\n\
         - machine: {}; whole run {} s\n\n",
        args.honest,
        args.sybils,
        args.seed,
        args.slots,
        cfg.warmup_slots,
        args.slot_ms,
        cfg.slots_per_epoch,
        cfg.active_validators,
        args.profile,
        cfg.attestations_per_slot,
        cfg.aggregates_per_slot,
        cfg.honest_degree,
        cfg.sybil_degree,
        machine(),
        wall_s,
    ));
    out.push_str("## Scenarios\n\n");
    for s in Scenario::ALL {
        out.push_str(&format!("- `{s}`: {}\n", s.description()));
    }
    out.push_str("\n## Results\n\n");
    out.push_str(
        "delivered: honest messages received by honest nodes over messages x (honest - 1); target: \
         the eclipsed node's deliveries (eclipse) or deliveries of the censored publisher's messages \
         (censorship); latencies from publish to each honest receipt; dups/msg: Pheme's duplicate \
         counter over deliveries; <0 / graylist after: when the last (honest node, attacker) connection \
         fell below zero / the graylist threshold, after the attack started (- unless all did); \
         in P3 mesh: (honest node, attacker) connections where the attacker stayed in the mesh of a \
         topic whose mesh-delivery scoring (P3) makes a silent peer negative within the predicted \
         time (the aggregate topic; the block topic's P3 activates after 64 slots) at least that \
         time plus two polls, the share \
         of them that went below zero in such a stint, and the longest time from joining (the \
         covert flash: from the flash) to below zero (- unless all did); \
         graylisted: share of those connections graylisted (Pheme bans and disconnects them); \
         honest<0: honest peers any honest node ever scored below zero.\n\n",
    );
    out.push_str(&pheme_sim::markdown_table(reports));
    out.push_str(
        "\n## Honest peers\n\nThe lowest score an honest node gave an honest peer, and the part of it \
         the router keeps to itself (P3/P3b deficits, P7 behaviour penalties, the slow-peer \
         penalty). Thresholds: gossip, publish, graylist as in the preset.\n\n\
         | scenario | scoring | honest<0 | lowest honest score | of it residual |\n|---|---|---|---|---|\n",
    );
    for r in reports {
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} | {:.1} |\n",
            r.scenario,
            if r.scoring { "on" } else { "off" },
            r.honest_peers_below_zero,
            r.honest_min_score,
            r.honest_min_residual
        ));
    }
    out.push_str("\n## Predictions\n\n");
    for r in reports.iter().filter(|r| r.scoring) {
        out.push_str(&format!("- `{}`: {}\n", r.scenario, r.predicted.basis));
    }
    out.push_str("\n## Targets\n\n| target | met | measured |\n|---|---|---|\n");
    for (what, ok, measured) in pheme_sim::verdicts(reports) {
        out.push_str(&format!(
            "| {what} | {} | {measured} |\n",
            if ok { "yes" } else { "**no**" }
        ));
    }
    out
}
