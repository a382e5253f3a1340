//! `pheme decode`: one gossip message file through Pheme's validation, as JSON.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pheme_gossip::{GossipValidator, NoState, Verdict};
use pheme_spec::load_network;

use crate::emit;
use crate::error::CliError;

/// `pheme decode` arguments.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Built-in network name or path to a config.yaml.
    #[arg(long, default_value = "mainnet")]
    network: String,
    /// The topic the message came on: /eth2/<digest>/<name>/ssz_snappy.
    #[arg(long, required_unless_present = "capture")]
    topic: Option<String>,
    /// The message's data (snappy-compressed SSZ) as received, or `-` for standard input.
    #[arg(long, required_unless_present = "capture", conflicts_with = "capture")]
    file: Option<PathBuf>,
    /// A message captured by `pheme observe --capture`: a `payloads` Parquet file, or a
    /// directory to search (an observer's `--out-dir`). Needs `--message-id`.
    #[arg(long, requires = "message_id")]
    capture: Option<PathBuf>,
    /// The captured message's id (hex, with or without 0x).
    #[arg(long)]
    message_id: Option<String>,
    /// Validate as of this unix time in milliseconds (default: now; for a captured message,
    /// its arrival).
    #[arg(long)]
    now_ms: Option<u64>,
    /// Committees per slot, if known (enables the attestation subnet check).
    #[arg(long)]
    committees_per_slot: Option<u64>,
}

/// Reads at most `limit + 1` bytes: more than the largest compressed gossip payload is refused
/// by the transform without reading further.
fn read_bounded(path: &PathBuf, limit: u64) -> Result<Vec<u8>, CliError> {
    let io = |source| CliError::Io {
        path: path.clone(),
        source,
    };
    let mut data = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut data)
            .map_err(io)?;
    } else {
        std::fs::File::open(path)
            .map_err(io)?
            .take(limit + 1)
            .read_to_end(&mut data)
            .map_err(io)?;
    }
    Ok(data)
}

/// Runs `pheme decode`: exit 0 for ACCEPT, 1 for IGNORE or REJECT, 2 for usage errors.
pub fn run(args: DecodeArgs) -> ExitCode {
    match decode(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn decode(args: DecodeArgs) -> Result<ExitCode, CliError> {
    let chain = load_network(&args.network)?;
    let limit = pheme_codec::max_compressed_len(
        usize::try_from(chain.max_payload_size).unwrap_or(usize::MAX),
    ) as u64;
    let (topic, data, captured) = match (&args.capture, &args.message_id, &args.file) {
        (Some(dir), Some(id), _) => {
            let c = crate::observe::find_captured(dir, id)?;
            (c.topic.clone(), c.data.clone(), Some(c))
        }
        (_, _, Some(file)) => (
            args.topic.clone().unwrap_or_default(),
            read_bounded(file, limit)?,
            None,
        ),
        _ => {
            return Err(CliError::Usage(
                "give --topic and --file, or --capture and --message-id".into(),
            ));
        }
    };
    let topic = args.topic.clone().unwrap_or(topic);
    let now_ms = args
        .now_ms
        .or(captured.as_ref().map(|c| c.arrival_ms))
        .unwrap_or_else(pheme_spec::unix_now_ms);
    let mut validator = GossipValidator::new(chain, NoState);
    validator.with_json = true;
    validator.committees_per_slot = args.committees_per_slot;
    let out = validator.validate_stateless(&topic, &data, now_ms);
    let mut report = serde_json::json!({
        "topic": &*out.topic,
        "fork": out.fork.map(|f| f.name()),
        "message_id": format!("0x{}", out.message_id.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        "verdict": out.verdict.name(),
        "reason": out.reason,
        "detail": out.detail.to_string(),
        "size": { "compressed": out.compressed_len, "uncompressed": out.ssz_len },
        "value": out.json,
    });
    if let Some(c) = captured {
        report["captured"] = serde_json::json!({
            "arrival_ms": c.arrival_ms,
            "source": c.source,
            "stage": c.stage,
            "verdict": c.verdict,
            "reason": c.reason,
        });
    }
    let text = serde_json::to_string_pretty(&report).map_err(|e| CliError::Render {
        format: "json",
        reason: e.to_string(),
    })?;
    emit(&format!("{text}\n"))?;
    Ok(if out.verdict == Verdict::Accept {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
