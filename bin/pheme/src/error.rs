//! The CLI's errors: each prints as one line, and every one exits 1.

use std::path::PathBuf;

/// Anything that stops a `pheme` command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad network name or config file.
    #[error(transparent)]
    Spec(#[from] pheme_spec::SpecError),
    #[error(transparent)]
    Bench(#[from] pheme_bench::BenchError),
    /// Inputs the derivation refuses.
    #[error(transparent)]
    Derive(#[from] pheme_scoring::DeriveError),
    /// The Beacon API could not give a validator count.
    #[error(transparent)]
    BeaconApi(#[from] crate::beacon_api::BeaconApiError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A preset file that does not parse.
    #[error("{}: not a preset file ({reason})", path.display())]
    BadPresetFile {
        /// The file.
        path: PathBuf,
        /// Parser message.
        reason: String,
    },
    /// A preset could not be rendered (a defect: presets are plain data).
    #[error("cannot render the preset as {format}: {reason}")]
    Render {
        /// Output format.
        format: &'static str,
        /// Serializer message.
        reason: String,
    },
    /// A config-file network needs an explicit validator count.
    #[error(
        "network {0} has no default validator count: pass --active-validators N or --beacon-api URL"
    )]
    NeedValidators(String),
    /// A `diff` operand that is neither a file nor `network[:profile[:validators[:mesh_n]]]`.
    #[error("{0:?} is neither a preset file nor network[:profile[:validators[:mesh_n]]]")]
    BadOperand(String),
    /// A derived preset failed its sanity checks (a defect, or inputs outside what the
    /// derivation was built for).
    #[error("the derived preset fails {} sanity check(s), first: {}", .0.len(), .0.first().map_or("", String::as_str))]
    Insane(Vec<String>),
    /// A simulation run could not be set up.
    #[error(transparent)]
    Sim(#[from] pheme_sim::SimError),
    /// An observer's Parquet dataset could not be started.
    #[error(transparent)]
    Dataset(#[from] crate::observe::DatasetError),
    /// A captured message could not be read back.
    #[error(transparent)]
    Capture(#[from] crate::observe::CaptureError),
    /// Options that do not fit together, or a service that could not start.
    #[error("{0}")]
    Usage(String),
    /// A file larger than Pheme reads.
    #[error("{}: larger than {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// `presets check` found files that differ from what Pheme generates.
    #[error("{0} preset file(s) drifted from the derivation: run `pheme presets regenerate`")]
    Drift(usize),
}
