//! The consensus-spec-tests runner: walks `tests/<preset>/<fork>/<runner>/<handler>/<suite>/<case>`
//! under `SPEC_TESTS_DIR` (default `../shared/spec-tests/tests` beside the repository), runs
//! every case it finds, fails by name on a runner or handler it does not know, and fails when a
//! vector file was never read. `cargo test -p pheme-spec-tests` runs it, on the shared vectors
//! and on the ones generated in the repository ([`generated_root`]).
//!
//! ```
//! // A case directory's path names what to run.
//! let case = pheme_spec_tests::CasePath::parse("minimal/deneb/ssz_static/Checkpoint/ssz_zero/case_0").unwrap();
//! assert_eq!((case.preset.as_str(), case.fork.as_str(), case.runner.as_str()), ("minimal", "deneb", "ssz_static"));
//! ```

mod networking;
mod partial_columns;
mod reader;
pub mod refval;
mod ssz_static;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use networking::NetworkingCount;
pub use reader::Reader;

/// An error and its sources, as one line.
pub(crate) fn chain_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Where a case lives in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasePath {
    /// `minimal` or `mainnet`.
    pub preset: String,
    /// `phase0` ... `fulu`.
    pub fork: String,
    /// `ssz_static`, `networking`, ...
    pub runner: String,
    /// The type or test handler.
    pub handler: String,
    /// The suite.
    pub suite: String,
    /// The case.
    pub case: String,
}

impl CasePath {
    /// Parses `<preset>/<fork>/<runner>/<handler>/<suite>/<case>`.
    pub fn parse(rel: &str) -> Option<CasePath> {
        let parts: Vec<&str> = rel.split('/').collect();
        let [preset, fork, runner, handler, suite, case] = parts[..] else {
            return None;
        };
        Some(CasePath {
            preset: preset.into(),
            fork: fork.into(),
            runner: runner.into(),
            handler: handler.into(),
            suite: suite.into(),
            case: case.into(),
        })
    }
}

/// What one run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Cases run per `runner/handler`.
    pub cases: BTreeMap<String, usize>,
    /// One line per failed case.
    pub failures: Vec<String>,
    /// Networking counts per `fork/handler`.
    pub networking: BTreeMap<String, NetworkingCount>,
    /// Files under the root that no case read.
    pub unread: Vec<PathBuf>,
}

/// A chain with the case's preset, for the codec's size bounds (which depend only on the
/// preset and `MAX_PAYLOAD_SIZE`).
pub(crate) fn chain_for(preset: &str) -> Result<pheme_spec::ChainSpec, String> {
    let mut chain = pheme_spec::Network::Mainnet
        .chain_spec()
        .map_err(|e| e.to_string())?;
    chain.preset = pheme_spec::PresetBase::parse(preset)
        .map_err(|e| e.to_string())?
        .preset();
    Ok(chain)
}

/// The default vectors directory: `../shared/spec-tests/tests` beside the repository.
pub fn default_root() -> PathBuf {
    match std::env::var_os("SPEC_TESTS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec-tests/tests"),
    }
}

/// The vectors generated in the repository for the forks the shared set lacks (Gloas, Heze):
/// `spec-tests/generated/tests`, written by `scripts/gen-spec-vectors.sh`.
pub fn generated_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("generated/tests")
}

/// Runs every case under `root`.
pub fn run(root: &Path) -> Report {
    let mut report = Report::default();
    let reader = Reader::new(root);
    let mut cases = Vec::new();
    collect_cases(root, root, &mut cases);
    cases.sort();
    for dir in cases {
        let rel = dir
            .strip_prefix(root)
            .unwrap_or(&dir)
            .to_string_lossy()
            .replace('\\', "/");
        let Some(case) = CasePath::parse(&rel) else {
            report.failures.push(format!(
                "{rel}: not at <preset>/<fork>/<runner>/<handler>/<suite>/<case>"
            ));
            continue;
        };
        *report
            .cases
            .entry(format!("{}/{}", case.runner, case.handler))
            .or_default() += 1;
        let result =
            check_manifest(&reader, &dir, &case).and_then(|()| match case.runner.as_str() {
                "ssz_static" => ssz_static::run(&reader, &dir, &case),
                "networking" => networking::run(&reader, &dir, &case, &mut report.networking),
                other => Err(format!("unknown runner {other:?}")),
            });
        if let Err(e) = result {
            report.failures.push(format!("{rel}: {e}"));
        }
    }
    report.unread = reader.unread();
    report
}

/// Every directory holding a `manifest.yaml`, or else a leaf directory, is a case.
fn collect_cases(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs = Vec::new();
    let mut has_files = false;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            subdirs.push(path);
        } else {
            has_files = true;
        }
    }
    if has_files && dir != root {
        out.push(dir.to_owned());
    }
    for sub in subdirs {
        collect_cases(root, &sub, out);
    }
}

fn check_manifest(reader: &Reader, dir: &Path, case: &CasePath) -> Result<(), String> {
    let manifest: serde_json::Value = reader.yaml(&dir.join("manifest.yaml"))?;
    for (key, want) in [
        ("preset", &case.preset),
        ("fork", &case.fork),
        ("runner", &case.runner),
        ("handler", &case.handler),
        ("suite", &case.suite),
        ("case", &case.case),
    ] {
        if manifest[key].as_str() != Some(want.as_str()) {
            return Err(format!(
                "manifest.yaml says {key} = {}, the path {want}",
                manifest[key]
            ));
        }
    }
    Ok(())
}
