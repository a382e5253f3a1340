//! Loading any network from a consensus-specs style `config.yaml`.
//!
//! Genesis is not part of `config.yaml`; Pheme takes it, in this order, from
//! 1. `GENESIS_TIME` and `GENESIS_VALIDATORS_ROOT` keys in the file (a Pheme extension that
//!    `pheme devnet` writes);
//! 2. a `genesis.ssz` beside the file (the first 40 bytes of a `BeaconState`);
//! 3. a `genesis_validators_root.txt` beside the file, with `genesis_time = MIN_GENESIS_TIME +
//!    GENESIS_DELAY` (exact for chains launched with their genesis validators pre-deposited).
//!
//! Bootnodes come from `bootstrap_nodes.txt` or `boot_enr.yaml` beside the file, if present.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use crate::SpecError;
use crate::chain::{
    ChainSpec, DEFAULT_ATTESTATION_SUBNET_COUNT, DEFAULT_MAX_PAYLOAD_SIZE, ForkEntry,
};
use crate::fork::{BlobParameters, Fork, ForkVersion, Root};
use crate::preset::PresetBase;

/// Files larger than this are refused: real `config.yaml` files are a few KiB.
pub const MAX_CONFIG_FILE_SIZE: u64 = 1024 * 1024;

/// Loads a network from a `config.yaml` path.
pub fn load_config_yaml(path: &Path) -> Result<ChainSpec, SpecError> {
    let text = read_bounded(path, MAX_CONFIG_FILE_SIZE)?;
    let text = String::from_utf8(text).map_err(|_| SpecError::Config {
        path: path.to_owned(),
        reason: "not UTF-8 text".into(),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let fallback_name = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "custom".into());
    parse_config_yaml(&text, path, dir, &fallback_name)
}

fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, SpecError> {
    let io = |source| SpecError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut buf = Vec::new();
    file.take(limit + 1).read_to_end(&mut buf).map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(SpecError::Config {
            path: path.to_owned(),
            reason: format!("larger than {limit} bytes"),
        });
    }
    Ok(buf)
}

struct Keys<'a> {
    map: &'a Mapping,
    path: &'a Path,
}

impl Keys<'_> {
    fn err(&self, reason: String) -> SpecError {
        SpecError::Config {
            path: self.path.to_owned(),
            reason,
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    fn u64_opt(&self, key: &str) -> Result<Option<u64>, SpecError> {
        self.get(key)
            .map(|v| value_u64(v).ok_or_else(|| self.bad(key, v, "an unsigned integer")))
            .transpose()
    }

    fn u64_or(&self, key: &str, default: u64) -> Result<u64, SpecError> {
        Ok(self.u64_opt(key)?.unwrap_or(default))
    }

    fn bad(&self, key: &str, v: &Value, expected: &str) -> SpecError {
        let shown = serde_yaml_ng::to_string(v).unwrap_or_default();
        self.err(format!("{key} = {} is not {expected}", shown.trim()))
    }

    fn version_opt(&self, key: &str) -> Result<Option<ForkVersion>, SpecError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match v {
            // Unquoted `0x01000000` is an integer in YAML 1.2's core schema.
            Value::Number(_) => value_u64(v)
                .and_then(|n| u32::try_from(n).ok())
                .map(|n| Some(ForkVersion(n.to_be_bytes())))
                .ok_or_else(|| self.bad(key, v, "a 4-byte version")),
            Value::String(s) => s
                .parse()
                .map(Some)
                .map_err(|_| self.bad(key, v, "a 4-byte version")),
            _ => Err(self.bad(key, v, "a 4-byte version")),
        }
    }

    fn str_opt(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

fn value_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            let s = s.trim();
            match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        }
        _ => None,
    }
}

/// Parses `config.yaml` text; `dir` is where genesis and bootnode files are looked for.
pub fn parse_config_yaml(
    text: &str,
    path: &Path,
    dir: &Path,
    fallback_name: &str,
) -> Result<ChainSpec, SpecError> {
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| SpecError::Config {
        path: path.to_owned(),
        reason: format!("not valid YAML: {e}"),
    })?;
    let Value::Mapping(map) = doc else {
        return Err(SpecError::Config {
            path: path.to_owned(),
            reason: "not a YAML mapping of config keys".into(),
        });
    };
    let k = Keys { map: &map, path };

    let base = PresetBase::parse(
        &k.str_opt("PRESET_BASE")
            .ok_or_else(|| k.err("PRESET_BASE is missing".into()))?,
    )?;
    let mut preset = base.preset();
    // Devnets built on the mainnet preset sometimes override the epoch length.
    if let Some(spe) = k.u64_opt("SLOTS_PER_EPOCH")? {
        preset.slots_per_epoch = spe;
    }
    let slot_duration_ms = match (
        k.u64_opt("SLOT_DURATION_MS")?,
        k.u64_opt("SECONDS_PER_SLOT")?,
    ) {
        (Some(ms), _) => ms,
        (None, Some(s)) => s
            .checked_mul(1000)
            .ok_or_else(|| k.err("SECONDS_PER_SLOT overflows".into()))?,
        (None, None) => {
            return Err(k.err("neither SLOT_DURATION_MS nor SECONDS_PER_SLOT is set".into()));
        }
    };

    let mut forks = Vec::new();
    for fork in Fork::ALL {
        let prefix = fork.config_prefix();
        let version = k.version_opt(&format!("{prefix}_FORK_VERSION"))?;
        let epoch = if fork == Fork::Phase0 {
            Some(0)
        } else {
            k.u64_opt(&format!("{prefix}_FORK_EPOCH"))?
        };
        match (version, epoch) {
            (None, _) if fork == Fork::Phase0 => {
                return Err(k.err("GENESIS_FORK_VERSION is missing".into()));
            }
            (Some(version), Some(epoch)) => forks.push(ForkEntry {
                fork,
                version,
                epoch,
            }),
            (None, None) => {}
            (None, Some(_)) => {
                return Err(k.err(format!(
                    "{prefix}_FORK_EPOCH is set but {prefix}_FORK_VERSION is not"
                )));
            }
            (Some(_), None) => {
                return Err(k.err(format!(
                    "{prefix}_FORK_VERSION is set but {prefix}_FORK_EPOCH is not"
                )));
            }
        }
    }

    let mut blob_schedule = Vec::new();
    if let Some(v) = k.get("BLOB_SCHEDULE") {
        let Value::Sequence(entries) = v else {
            return Err(k.bad("BLOB_SCHEDULE", v, "a list"));
        };
        for entry in entries {
            let field = |name: &str| {
                entry.get(name).and_then(value_u64).ok_or_else(|| {
                    k.bad(
                        "BLOB_SCHEDULE",
                        entry,
                        &format!("a list of {{EPOCH, MAX_BLOBS_PER_BLOCK}} ({name} missing)"),
                    )
                })
            };
            blob_schedule.push(BlobParameters {
                epoch: field("EPOCH")?,
                max_blobs_per_block: field("MAX_BLOBS_PER_BLOCK")?,
            });
        }
        blob_schedule.sort_by_key(|b| b.epoch);
    }

    let (genesis_time, genesis_validators_root) = genesis(&k, dir)?;
    let spec = ChainSpec {
        name: k
            .str_opt("CONFIG_NAME")
            .unwrap_or_else(|| fallback_name.to_owned()),
        preset,
        slot_duration_ms,
        genesis_time,
        genesis_validators_root,
        forks,
        blob_schedule,
        max_blobs_per_block: k.u64_or("MAX_BLOBS_PER_BLOCK", 6)?,
        max_blobs_per_block_electra: k.u64_or("MAX_BLOBS_PER_BLOCK_ELECTRA", 9)?,
        blob_sidecar_subnet_count: k.u64_or("BLOB_SIDECAR_SUBNET_COUNT", 6)?,
        blob_sidecar_subnet_count_electra: k.u64_or("BLOB_SIDECAR_SUBNET_COUNT_ELECTRA", 9)?,
        data_column_sidecar_subnet_count: k.u64_or("DATA_COLUMN_SIDECAR_SUBNET_COUNT", 128)?,
        attestation_subnet_count: k
            .u64_or("ATTESTATION_SUBNET_COUNT", DEFAULT_ATTESTATION_SUBNET_COUNT)?,
        max_payload_size: match k.u64_opt("MAX_PAYLOAD_SIZE")? {
            Some(v) => v,
            None => k.u64_or("GOSSIP_MAX_SIZE", DEFAULT_MAX_PAYLOAD_SIZE)?,
        },
        bootnodes: bootnodes(dir, path)?,
    };
    spec.validate().map_err(|e| k.err(e.to_string()))?;
    Ok(spec)
}

fn genesis(k: &Keys<'_>, dir: &Path) -> Result<(u64, Root), SpecError> {
    if let (Some(time), Some(root)) = (
        k.u64_opt("GENESIS_TIME")?,
        k.str_opt("GENESIS_VALIDATORS_ROOT"),
    ) {
        let root = root.parse().map_err(|_| {
            k.err(format!(
                "GENESIS_VALIDATORS_ROOT = {root} is not a 32-byte root"
            ))
        })?;
        return Ok((time, root));
    }
    let ssz = dir.join("genesis.ssz");
    if ssz.exists() {
        let io = |source| SpecError::Io {
            path: ssz.clone(),
            source,
        };
        let mut head = [0u8; 40];
        File::open(&ssz)
            .and_then(|mut f| f.read_exact(&mut head))
            .map_err(io)?;
        let mut time = [0u8; 8];
        time.copy_from_slice(&head[..8]);
        let mut root = [0u8; 32];
        root.copy_from_slice(&head[8..]);
        return Ok((u64::from_le_bytes(time), Root(root)));
    }
    let txt = dir.join("genesis_validators_root.txt");
    if txt.exists() {
        let raw = read_bounded(&txt, 1024)?;
        let text = String::from_utf8_lossy(&raw);
        let root = text.trim().parse().map_err(|_| SpecError::Config {
            path: txt.clone(),
            reason: "not a 32-byte hex root".into(),
        })?;
        let min = k
            .u64_opt("MIN_GENESIS_TIME")?
            .ok_or_else(|| k.err("MIN_GENESIS_TIME is missing".into()))?;
        let delay = k.u64_or("GENESIS_DELAY", 0)?;
        return Ok((min.saturating_add(delay), root));
    }
    Err(k.err(
        "genesis unknown: add GENESIS_TIME and GENESIS_VALIDATORS_ROOT to the file, or put genesis.ssz \
         or genesis_validators_root.txt beside it"
            .into(),
    ))
}

fn bootnodes(dir: &Path, config: &Path) -> Result<Vec<String>, SpecError> {
    let txt: PathBuf = dir.join("bootstrap_nodes.txt");
    if txt.exists() {
        let raw = read_bounded(&txt, MAX_CONFIG_FILE_SIZE)?;
        return Ok(String::from_utf8_lossy(&raw)
            .lines()
            .map(|l| {
                l.split('#')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("- ")
                    .trim_matches('"')
                    .to_owned()
            })
            .filter(|l| l.starts_with("enr:"))
            .collect());
    }
    let yaml = dir.join("boot_enr.yaml");
    if yaml.exists() {
        let raw = read_bounded(&yaml, MAX_CONFIG_FILE_SIZE)?;
        return serde_yaml_ng::from_slice(&raw).map_err(|e| SpecError::Config {
            path: yaml.clone(),
            reason: format!(
                "not a YAML list of ENRs: {e} (next to {})",
                config.display()
            ),
        });
    }
    Ok(Vec::new())
}
