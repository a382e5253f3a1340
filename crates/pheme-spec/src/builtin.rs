//! The built-in networks, embedded as data (`data/networks.json`, `data/bootnodes/*.yaml`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use crate::chain::{
    ChainSpec, DEFAULT_ATTESTATION_SUBNET_COUNT, DEFAULT_MAX_PAYLOAD_SIZE, ForkEntry,
};
use crate::fork::{BlobParameters, FAR_FUTURE_EPOCH, ForkVersion, Root};
use crate::preset::PresetBase;
use crate::{Epoch, SpecError};

const NETWORKS_JSON: &str = include_str!("../data/networks.json");

/// A network Pheme knows without a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Network {
    /// Ethereum mainnet.
    Mainnet,
    /// Sepolia testnet.
    Sepolia,
    /// Holesky testnet.
    Holesky,
    /// Hoodi testnet.
    Hoodi,
    /// Gnosis chain.
    Gnosis,
    /// Chiado, Gnosis chain's testnet.
    Chiado,
}

/// One row per built-in network: the name (parsing and printing), its bootnode file, and the
/// active validator count assumed when none is given (approximate public figures; sources and
/// dates in `presets/README.md`).
const NETWORK_TABLE: [(Network, &str, &str, u64); 6] = [
    (
        Network::Mainnet,
        "mainnet",
        include_str!("../data/bootnodes/mainnet.yaml"),
        1_000_000,
    ),
    (
        Network::Sepolia,
        "sepolia",
        include_str!("../data/bootnodes/sepolia.yaml"),
        1_900,
    ),
    (
        Network::Holesky,
        "holesky",
        include_str!("../data/bootnodes/holesky.yaml"),
        1_000_000,
    ),
    (
        Network::Hoodi,
        "hoodi",
        include_str!("../data/bootnodes/hoodi.yaml"),
        1_100_000,
    ),
    (
        Network::Gnosis,
        "gnosis",
        include_str!("../data/bootnodes/gnosis.yaml"),
        300_000,
    ),
    (
        Network::Chiado,
        "chiado",
        include_str!("../data/bootnodes/chiado.yaml"),
        10_000,
    ),
];

impl Network {
    /// Every built-in network.
    pub const ALL: [Network; 6] = [
        Network::Mainnet,
        Network::Sepolia,
        Network::Holesky,
        Network::Hoodi,
        Network::Gnosis,
        Network::Chiado,
    ];

    fn row(self) -> &'static (Network, &'static str, &'static str, u64) {
        // The table has one row per variant, in declaration order.
        &NETWORK_TABLE[self as usize]
    }

    /// The network's name (`mainnet`).
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// Active validators assumed for this network when no count is given.
    pub fn default_active_validators(self) -> u64 {
        self.row().3
    }

    /// The network's full configuration.
    pub fn chain_spec(self) -> Result<ChainSpec, SpecError> {
        let all: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(NETWORKS_JSON).map_err(|e| SpecError::Embedded(e.to_string()))?;
        let entry = all.get(self.name()).ok_or_else(|| {
            SpecError::Embedded(format!("{} missing from networks.json", self.name()))
        })?;
        let raw =
            JsonNetwork::deserialize(entry).map_err(|e| SpecError::Embedded(e.to_string()))?;
        let bootnodes: Vec<String> = serde_yaml_ng::from_str(self.row().2)
            .map_err(|e| SpecError::Embedded(e.to_string()))?;
        let base = PresetBase::parse(&raw.preset_base)?;
        // The built-in networks on the gnosis preset use its blob constants (2 blobs, 2 subnets).
        let (deneb_blobs, deneb_subnets, electra_subnets) = match base {
            PresetBase::Gnosis => (2, 2, 2),
            PresetBase::Mainnet | PresetBase::Minimal => (6, 6, 9),
        };
        let spec = ChainSpec {
            name: self.name().to_owned(),
            preset: base.preset(),
            slot_duration_ms: raw.slot_duration_ms,
            genesis_time: raw.genesis_time,
            genesis_validators_root: raw.genesis_validators_root,
            forks: raw
                .forks
                .iter()
                .map(|f| {
                    Ok(ForkEntry {
                        fork: f.fork.parse()?,
                        version: f.version,
                        epoch: f.epoch,
                    })
                })
                .collect::<Result<_, SpecError>>()?,
            blob_schedule: raw
                .blob_schedule
                .iter()
                .map(|b| BlobParameters {
                    epoch: b.epoch,
                    max_blobs_per_block: b.max_blobs_per_block,
                })
                .collect(),
            max_blobs_per_block: deneb_blobs,
            max_blobs_per_block_electra: raw.max_blobs_per_block_electra,
            blob_sidecar_subnet_count: deneb_subnets,
            blob_sidecar_subnet_count_electra: electra_subnets,
            data_column_sidecar_subnet_count: 128,
            attestation_subnet_count: DEFAULT_ATTESTATION_SUBNET_COUNT,
            max_payload_size: DEFAULT_MAX_PAYLOAD_SIZE,
            bootnodes,
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Network {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NETWORK_TABLE
            .iter()
            .find(|row| row.1.eq_ignore_ascii_case(s))
            .map(|row| row.0)
            .ok_or_else(|| SpecError::UnknownNetwork {
                name: s.to_owned(),
                known: Network::ALL
                    .iter()
                    .map(|n| n.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[derive(Deserialize)]
struct JsonNetwork {
    preset_base: String,
    slot_duration_ms: u64,
    genesis_time: u64,
    genesis_validators_root: Root,
    forks: Vec<JsonFork>,
    blob_schedule: Vec<JsonBlob>,
    max_blobs_per_block_electra: u64,
}

#[derive(Deserialize)]
struct JsonFork {
    fork: String,
    version: ForkVersion,
    #[serde(deserialize_with = "epoch_or_far")]
    epoch: Epoch,
}

#[derive(Deserialize)]
struct JsonBlob {
    epoch: Epoch,
    max_blobs_per_block: u64,
}

/// `networks.json` writes unscheduled forks as `"FAR_FUTURE_EPOCH (18446744073709551615)"`.
fn epoch_or_far<'de, D: Deserializer<'de>>(d: D) -> Result<Epoch, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Num(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Num(n) => Ok(n),
        Raw::Text(t) if t.starts_with("FAR_FUTURE_EPOCH") => Ok(FAR_FUTURE_EPOCH),
        Raw::Text(t) => Err(serde::de::Error::custom(format!("bad epoch {t:?}"))),
    }
}
