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

/// A YAML value as written: consensus configs hold integers beyond u64
/// (`TERMINAL_TOTAL_DIFFICULTY`) and unquoted hex that YAML reads as an integer
/// (`DEPOSIT_CONTRACT_ADDRESS: 0x00000000219ab5...`), which `serde_yaml_ng::Value` refuses.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Int(u128),
    Neg(i128),
    Float(f64),
    Bool(bool),
    Str(String),
    Seq(Vec<Raw>),
    Map(Vec<(String, Raw)>),
    Null,
}

impl Raw {
    fn text(&self) -> String {
        match self {
            Raw::Int(n) => n.to_string(),
            Raw::Neg(n) => n.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Bool(b) => b.to_string(),
            Raw::Str(s) => s.clone(),
            Raw::Seq(_) => "a list".into(),
            Raw::Map(_) => "a mapping".into(),
            Raw::Null => "null".into(),
        }
    }

    fn get(&self, key: &str) -> Option<&Raw> {
        match self {
            Raw::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            Raw::Int(n) => u64::try_from(*n).ok(),
            Raw::Str(s) => {
                let s = s.trim();
                match s.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16).ok(),
                    None => s.parse().ok(),
                }
            }
            _ => None,
        }
    }

    /// Exactly `len` bytes: `'0x...'` text, or the integer YAML made of unquoted hex.
    fn as_bytes(&self, len: usize) -> Option<Vec<u8>> {
        match self {
            Raw::Str(s) => {
                let bytes = hex::decode(s.trim().strip_prefix("0x")?).ok()?;
                (bytes.len() == len).then_some(bytes)
            }
            Raw::Int(n) => {
                let be = n.to_be_bytes();
                let significant = be.iter().position(|b| *b != 0).map_or(0, |i| be.len() - i);
                if significant > len {
                    return None;
                }
                let mut out = vec![0u8; len];
                let take = len.min(be.len());
                out[len - take..].copy_from_slice(&be[be.len() - take..]);
                Some(out)
            }
            _ => None,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Raw {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
                Ok(Raw::Int(v.into()))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Raw, E> {
                Ok(Raw::Int(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
                Ok(u128::try_from(v).map_or(Raw::Neg(v.into()), Raw::Int))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
                Ok(u128::try_from(v).map_or(Raw::Neg(v), Raw::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
                Ok(Raw::Float(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
                Ok(Raw::Bool(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
                Ok(Raw::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Raw, E> {
                Ok(Raw::Str(v))
            }
            fn visit_unit<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_none<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Raw::Seq(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Raw, Raw>()? {
                    out.push((k.text(), v));
                }
                Ok(Raw::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

struct Keys<'a> {
    doc: &'a Raw,
    path: &'a Path,
}

impl Keys<'_> {
    fn err(&self, reason: String) -> SpecError {
        SpecError::Config {
            path: self.path.to_owned(),
            reason,
        }
    }

    fn get(&self, key: &str) -> Option<&Raw> {
        self.doc.get(key)
    }

    fn bad(&self, key: &str, v: &Raw, expected: &str) -> SpecError {
        self.err(format!("{key} = {} is not {expected}", v.text()))
    }

    fn u64_opt(&self, key: &str) -> Result<Option<u64>, SpecError> {
        self.get(key)
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| self.bad(key, v, "an unsigned integer"))
            })
            .transpose()
    }

    fn u64_or(&self, key: &str, default: u64) -> Result<u64, SpecError> {
        Ok(self.u64_opt(key)?.unwrap_or(default))
    }

    fn version_opt(&self, key: &str) -> Result<Option<ForkVersion>, SpecError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let bytes = v
            .as_bytes(4)
            .ok_or_else(|| self.bad(key, v, "a 4-byte version"))?;
        Ok(Some(ForkVersion([bytes[0], bytes[1], bytes[2], bytes[3]])))
    }

    fn root_opt(&self, key: &str) -> Result<Option<Root>, SpecError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let bytes = v
            .as_bytes(32)
            .ok_or_else(|| self.bad(key, v, "a 32-byte root"))?;
        let mut root = [0u8; 32];
        root.copy_from_slice(&bytes);
        Ok(Some(Root(root)))
    }

    fn str_opt(&self, key: &str) -> Option<String> {
        self.get(key).map(Raw::text)
    }
}

/// Parses `config.yaml` text; `dir` is where genesis and bootnode files are looked for.
pub fn parse_config_yaml(
    text: &str,
    path: &Path,
    dir: &Path,
    fallback_name: &str,
) -> Result<ChainSpec, SpecError> {
    let doc: Raw = serde_yaml_ng::from_str(text).map_err(|e| SpecError::Config {
        path: path.to_owned(),
        reason: format!(
            "not valid YAML: {}",
            e.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ),
    })?;
    if !matches!(doc, Raw::Map(_)) {
        return Err(SpecError::Config {
            path: path.to_owned(),
            reason: "not a YAML mapping of config keys".into(),
        });
    }
    let k = Keys { doc: &doc, path };

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
        let Raw::Seq(entries) = v else {
            return Err(k.bad("BLOB_SCHEDULE", v, "a list"));
        };
        for entry in entries {
            let field = |name: &str| {
                entry.get(name).and_then(Raw::as_u64).ok_or_else(|| {
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
    match (
        k.u64_opt("GENESIS_TIME")?,
        k.root_opt("GENESIS_VALIDATORS_ROOT")?,
    ) {
        (Some(time), Some(root)) => return Ok((time, root)),
        (None, None) => {}
        _ => {
            return Err(
                k.err("GENESIS_TIME and GENESIS_VALIDATORS_ROOT must be given together".into())
            );
        }
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
