//! `pheme`: the command line of Pheme, the gossip layer for Ethereum consensus clients.

mod beacon_api;
mod decode;
mod error;
mod presets;

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Presets(cmd) => presets::run(cmd),
        Command::Decode(args) => return decode::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
