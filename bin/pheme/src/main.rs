//! `pheme`: the command line of Pheme, the gossip layer for Ethereum consensus clients.

mod beacon_api;
mod bench;
mod decode;
mod devnet;
mod error;
mod observe;
mod presets;
mod simulate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Pheme: Ethereum consensus gossip with score parameters derived from the validator count and
/// slot timing.
#[derive(Debug, Parser)]
#[command(name = "pheme", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Gossipsub score presets: generate, regenerate, check, diff, explain.
    #[command(subcommand)]
    Presets(presets::PresetsCmd),
    /// Validate one gossip message file as Pheme would and print it as JSON.
    Decode(decode::DecodeArgs),
    /// Run a gossip-only observer node: join a network, validate and export what it sees.
    Observe(Box<observe::ObserveArgs>),
    /// A Lodestar dev chain on loopback for interop runs: up, down.
    #[command(subcommand)]
    Devnet(devnet::DevnetCmd),
    /// Benchmarks: `ingest` replays mainnet-shaped gossip into one all-subnets node.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Attack simulation: real Pheme nodes against Sybils, with and without peer scoring.
    Simulate(simulate::SimulateArgs),
}

/// Writes to standard output; a closed pipe (`pheme ... | head`) ends output quietly.
pub(crate) fn emit(text: &str) -> Result<(), error::CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(error::CliError::Io {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Logs to standard output, `info` and up unless `RUST_LOG` says otherwise
/// (for example `RUST_LOG=pheme::gossip=debug`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Presets(cmd) => presets::run(cmd),
        Command::Decode(args) => return decode::run(args),
        Command::Devnet(cmd) => devnet::run(cmd),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Simulate(args) => simulate::run(args),
        Command::Observe(args) => {
            init_logging();
            observe::run(*args)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
