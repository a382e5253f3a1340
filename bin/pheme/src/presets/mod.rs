//! `pheme presets`: generate, regenerate, check, diff and explain score presets.

mod diff;
mod explain;
mod render;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use pheme_scoring::{DeriveInput, Profile, ScorePreset, derive, sanity};
use pheme_spec::{ChainSpec, Network, Slot, load_network};

use crate::beacon_api::count_active_validators;
use crate::emit;
use crate::error::CliError;
pub use render::Format;

/// `pheme presets ...`
#[derive(Debug, Subcommand)]
pub enum PresetsCmd {
    /// Print the full preset for a network and validator count.
    Generate(GenerateArgs),
    /// Write presets/<network>.yaml for every built-in network.
    Regenerate(DirArgs),
    /// Fail with a readable diff when presets/ drifted from the derivation.
    Check(DirArgs),
    /// Compare two presets field by field: files, or network[:profile[:validators[:mesh_n]]].
    Diff(DiffArgs),
    /// Explain a preset per topic: rates, honest score, graylisting, silent peers.
    Explain(DeriveArgs),
}

/// What a derivation needs from the command line.
#[derive(Debug, Args)]
pub struct DeriveArgs {
    /// Built-in network name or path to a consensus-specs config.yaml.
    #[arg(long, default_value = "mainnet")]
    network: String,
    /// Active validators (default: the built-in network's public figure).
    #[arg(long, conflicts_with = "beacon_api")]
    active_validators: Option<u64>,
    /// Count active validators from this Beacon API (e.g. http://localhost:5052).
    #[arg(long)]
    beacon_api: Option<String>,
    /// Parameter set.
    #[arg(long, default_value = "pheme")]
    profile: String,
    /// Mesh degree D (default: the profile's).
    #[arg(long)]
    mesh_n: Option<usize>,
    /// Slot to derive for (default: the network's wall-clock slot).
    #[arg(long)]
    current_slot: Option<Slot>,
}

/// `generate`'s arguments.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    derive: DeriveArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Where the checked-in presets live.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// The presets directory.
    #[arg(long, default_value = "presets")]
    dir: PathBuf,
}

/// `diff`'s arguments.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Left preset.
    a: String,
    /// Right preset.
    b: String,
    /// Slot for network operands (default: each network's mature slot, as in presets/).
    #[arg(long)]
    current_slot: Option<Slot>,
}

/// Runs a presets subcommand.
pub fn run(cmd: PresetsCmd) -> Result<(), CliError> {
    match cmd {
        PresetsCmd::Generate(args) => generate(args),
        PresetsCmd::Regenerate(args) => regenerate(&args.dir),
        PresetsCmd::Check(args) => check(&args.dir),
        PresetsCmd::Diff(args) => diff_cmd(args),
        PresetsCmd::Explain(args) => {
            let (chain, preset) = derive_from(&args, false)?;
            let report = sanity::check(&preset, &chain);
            emit(&explain::explain(&preset, &report))?;
            if report.is_sane() {
                Ok(())
            } else {
                Err(CliError::Insane(report.violations))
            }
        }
    }
}

/// Derives and refuses a preset that fails its sanity checks.
fn derive_sane(chain: &ChainSpec, input: DeriveInput<'_>) -> Result<ScorePreset, CliError> {
    let preset = derive(&input)?;
    let report = sanity::check(&preset, chain);
    if report.is_sane() {
        Ok(preset)
    } else {
        Err(CliError::Insane(report.violations))
    }
}

/// The slot a mature chain is at: 64 epochs past the network's last digest change, beyond
/// every mesh decay window, so checked-in presets do not depend on the wall clock.
pub fn mature_slot(chain: &ChainSpec) -> Slot {
    let last = chain.digest_schedule().last().map_or(0, |d| d.epoch);
    chain.start_slot(last.saturating_add(64))
}

/// The built-in figure, only for a network named as built-in (a config.yaml calling itself
/// `mainnet` gets no default).
fn default_validators(network_arg: &str, chain: &ChainSpec) -> Result<u64, CliError> {
    network_arg
        .parse::<Network>()
        .map(Network::default_active_validators)
        .map_err(|_| CliError::NeedValidators(chain.name.clone()))
}

fn derive_from(
    args: &DeriveArgs,
    check_sanity: bool,
) -> Result<(ChainSpec, ScorePreset), CliError> {
    let chain = load_network(&args.network)?;
    let profile: Profile = args.profile.parse()?;
    let active_validators = match (&args.beacon_api, args.active_validators) {
        (Some(url), _) => count_active_validators(url)?,
        (None, Some(v)) => v,
        (None, None) => default_validators(&args.network, &chain)?,
    };
    let current_slot = args.current_slot.unwrap_or_else(|| chain.clock().now());
    let input = DeriveInput {
        chain: &chain,
        active_validators,
        current_slot,
        mesh_n: args.mesh_n,
        profile,
    };
    // `explain` shows the checks' figures and violations itself; the other commands refuse.
    let preset = if check_sanity {
        derive_sane(&chain, input)?
    } else {
        derive(&input)?
    };
    Ok((chain, preset))
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })
}

fn generate(args: GenerateArgs) -> Result<(), CliError> {
    let (_, preset) = derive_from(&args.derive, true)?;
    let text = render::render(
        &preset,
        args.format,
        &header(&preset, "pheme presets generate"),
    )?;
    match args.out {
        Some(path) => write(&path, &text),
        None => emit(&text),
    }
}

fn header(preset: &ScorePreset, by: &str) -> Vec<String> {
    let m = &preset.meta;
    vec![
        format!(
            "Pheme score preset for {}: profile {}, {} active validators.",
            m.network, m.profile, m.active_validators
        ),
        format!(
            "Slot {} ({}), mesh degree {}. Generated by `{by}`; do not edit.",
            m.current_slot, m.fork, m.mesh_n
        ),
    ]
}

/// The text `presets/<network>.yaml` must hold.
fn builtin_file(network: Network) -> Result<String, CliError> {
    let chain = network.chain_spec()?;
    let preset = derive_sane(
        &chain,
        DeriveInput {
            chain: &chain,
            active_validators: network.default_active_validators(),
            current_slot: mature_slot(&chain),
            mesh_n: None,
            profile: Profile::default(),
        },
    )?;
    render::render(
        &preset,
        Format::Yaml,
        &header(&preset, "pheme presets regenerate"),
    )
}

fn regenerate(dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|source| CliError::Io {
        path: dir.to_owned(),
        source,
    })?;
    for network in Network::ALL {
        let path = dir.join(format!("{network}.yaml"));
        write(&path, &builtin_file(network)?)?;
        emit(&format!("wrote {}\n", path.display()))?;
    }
    Ok(())
}

fn check(dir: &Path) -> Result<(), CliError> {
    let mut drifted = 0;
    for network in Network::ALL {
        let path = dir.join(format!("{network}.yaml"));
        let expected = builtin_file(network)?;
        let actual = match render::read_text(&path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{e}");
                drifted += 1;
                continue;
            }
        };
        if actual == expected {
            emit(&format!("{}: up to date\n", path.display()))?;
            continue;
        }
        let parsed = render::parse(&actual, Format::Yaml);
        let generated = render::parse(&expected, Format::Yaml);
        let same_header = actual
            .lines()
            .take_while(|l| l.starts_with('#'))
            .eq(expected.lines().take_while(|l| l.starts_with('#')));
        match (parsed, generated) {
            (Ok(file), Ok(generated)) => {
                let diffs = diff::diff(&file, &generated);
                if diffs.is_empty() && same_header {
                    // Equal to 12 significant digits: another libm's last bit, not drift.
                    emit(&format!(
                        "{}: up to date (float digits differ below 1e-12)\n",
                        path.display()
                    ))?;
                    continue;
                }
                drifted += 1;
                if diffs.is_empty() {
                    eprintln!("{}: same values, but the header differs", path.display());
                } else {
                    eprintln!("{}: {} field(s) differ", path.display(), diffs.len());
                    eprint!("{}", diff::table(&diffs, "file", "generated"));
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                drifted += 1;
                eprintln!(
                    "{}: not a preset file ({})",
                    path.display(),
                    render::one_line(&e)
                );
            }
        }
    }
    if drifted > 0 {
        Err(CliError::Drift(drifted))
    } else {
        Ok(())
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// A `diff` operand as a generic value, with a short name for the table header.
fn operand(
    spec: &str,
    current_slot: Option<Slot>,
) -> Result<(String, serde_json::Value), CliError> {
    let path = Path::new(spec);
    if path.is_file() {
        return Ok((spec.to_owned(), render::read_file(path)?));
    }
    let mut parts = spec.split(':');
    let network = parts.next().unwrap_or_default();
    let chain = load_network(network).map_err(|_| CliError::BadOperand(spec.to_owned()))?;
    let profile: Profile = non_empty(parts.next()).map_or(Ok(Profile::default()), str::parse)?;
    let active_validators = match non_empty(parts.next()) {
        Some(v) => v
            .parse()
            .map_err(|_| CliError::BadOperand(spec.to_owned()))?,
        None => default_validators(network, &chain)?,
    };
    let mesh_n = non_empty(parts.next())
        .map(str::parse)
        .transpose()
        .map_err(|_| CliError::BadOperand(spec.to_owned()))?;
    if parts.next().is_some() {
        return Err(CliError::BadOperand(spec.to_owned()));
    }
    let current_slot = current_slot.unwrap_or_else(|| mature_slot(&chain));
    let preset = derive(&DeriveInput {
        chain: &chain,
        active_validators,
        current_slot,
        mesh_n,
        profile,
    })?;
    let value = serde_json::to_value(&preset).map_err(|e| CliError::Render {
        format: "json",
        reason: e.to_string(),
    })?;
    Ok((spec.to_owned(), value))
}

fn diff_cmd(args: DiffArgs) -> Result<(), CliError> {
    let (a_name, a) = operand(&args.a, args.current_slot)?;
    let (b_name, b) = operand(&args.b, args.current_slot)?;
    let diffs = diff::diff(&a, &b);
    if diffs.is_empty() {
        emit(&format!("{a_name} and {b_name} are identical\n"))
    } else {
        emit(&format!(
            "{} field(s) differ\n{}",
            diffs.len(),
            diff::table(&diffs, &a_name, &b_name)
        ))
    }
}
