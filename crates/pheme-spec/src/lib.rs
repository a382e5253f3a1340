//! Chain configuration for Pheme: the six built-in networks (embedded), any other network from a
//! consensus-specs `config.yaml`, fork digests (with Fulu's blob-parameter XOR), the digest
//! schedule that gossip topics follow, and a millisecond slot clock.
//!
//! ```
//! use pheme_spec::{Fork, load_network};
//!
//! let mainnet = load_network("mainnet").unwrap();
//! assert_eq!(mainnet.fork_at(364_032), Fork::Electra);
//! assert_eq!(mainnet.fork_digest_at(364_032).to_string(), "ad532ceb");
//! // Fulu's blob-parameter-only forks rename every topic.
//! assert_eq!(mainnet.fork_digest_at(419_072).to_string(), "8c9f62fe");
//! let next = mainnet.next_digest_change(411_392).unwrap();
//! assert_eq!((next.epoch, next.digest.to_string()), (412_672, "cb0d1acc".to_string()));
//! ```

mod builtin;
mod chain;
mod clock;
mod config_yaml;
mod custody;
mod fork;
mod preset;
mod topics;

use std::path::{Path, PathBuf};

pub use builtin::Network;
pub use chain::{
    ChainSpec, DEFAULT_ATTESTATION_SUBNET_COUNT, DEFAULT_MAX_PAYLOAD_SIZE, DigestEpoch, ForkEntry,
    INCLUSION_LIST_COMMITTEE_SIZE, MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS, SYNC_COMMITTEE_SUBNET_COUNT,
    TARGET_AGGREGATORS_PER_COMMITTEE, TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE,
};
pub use clock::{SlotClock, unix_now_ms};
pub use config_yaml::{MAX_CONFIG_FILE_SIZE, load_config_yaml, parse_config_yaml};
pub use custody::{
    CustodyError, NUMBER_OF_COLUMNS, NUMBER_OF_CUSTODY_GROUPS, compute_columns_for_custody_group,
    get_custody_groups,
};
pub use ethereum_types::U256;
pub use fork::{
    BlobParameters, FAR_FUTURE_EPOCH, Fork, ForkDigest, ForkVersion, Root, compute_fork_data_root,
    compute_fork_digest,
};
pub use preset::{Preset, PresetBase};
pub use topics::GossipKind;

/// An epoch number.
pub type Epoch = u64;
/// A slot number.
pub type Slot = u64;

/// Everything that can go wrong loading or using a chain configuration.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// Neither a built-in network nor an existing file.
    #[error("unknown network {name:?}: use one of {known}, or a path to a config.yaml")]
    UnknownNetwork {
        /// What was asked for.
        name: String,
        /// The built-in names.
        known: String,
    },
    /// `PRESET_BASE` names no known preset.
    #[error("unknown preset {0:?}: expected mainnet, minimal or gnosis")]
    UnknownPreset(String),
    /// A gossip topic name Pheme does not know.
    #[error("unknown gossip topic name {0:?}")]
    UnknownTopic(String),
    /// A fork name Pheme does not know.
    #[error("unknown fork {0:?}")]
    UnknownFork(String),
    /// Malformed hex for a fixed-size value.
    #[error("{what} must be {expected_bytes} bytes of hex, got {value:?}")]
    BadHex {
        /// The type being parsed.
        what: &'static str,
        /// Its byte length.
        expected_bytes: usize,
        /// The input.
        value: String,
    },
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A config file is readable but wrong.
    #[error("{}: {reason}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong, in one line.
        reason: String,
    },
    /// A chain configuration breaks an invariant.
    #[error("invalid chain configuration: {0}")]
    Invalid(String),
    /// The embedded data is broken (a build defect, caught by the tests).
    #[error("embedded network data: {0}")]
    Embedded(String),
}

/// Loads a network by built-in name (`mainnet`, `sepolia`, `holesky`, `hoodi`, `gnosis`,
/// `chiado`) or from a path to a consensus-specs `config.yaml`.
pub fn load_network(name_or_path: &str) -> Result<ChainSpec, SpecError> {
    match name_or_path.parse::<Network>() {
        Ok(network) => network.chain_spec(),
        Err(unknown) => {
            let path = Path::new(name_or_path);
            let looks_like_path = name_or_path.contains(std::path::MAIN_SEPARATOR)
                || name_or_path.ends_with(".yaml")
                || name_or_path.ends_with(".yml");
            if path.is_file() {
                load_config_yaml(path)
            } else if path.is_dir() && path.join("config.yaml").is_file() {
                load_config_yaml(&path.join("config.yaml"))
            } else if looks_like_path {
                Err(SpecError::Io {
                    path: path.to_owned(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                })
            } else {
                Err(unknown)
            }
        }
    }
}
