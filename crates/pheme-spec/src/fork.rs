//! Forks, fork versions and `compute_fork_digest` (with Fulu's blob-parameter XOR).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ssz_rs::Merkleized;

use crate::{Epoch, SpecError};

/// `FAR_FUTURE_EPOCH`: a fork at this epoch is not scheduled.
pub const FAR_FUTURE_EPOCH: Epoch = u64::MAX;

/// The consensus forks, in activation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fork {
    /// Genesis.
    Phase0,
    /// Sync committees.
    Altair,
    /// The merge.
    Bellatrix,
    /// Withdrawals.
    Capella,
    /// Blobs.
    Deneb,
    /// EIP-7549 attestations, consolidations.
    Electra,
    /// PeerDAS, blob-parameter-only forks.
    Fulu,
    /// ePBS (unscheduled on every built-in network).
    Gloas,
    /// FOCIL (unscheduled).
    Heze,
}

impl Fork {
    /// Every fork, oldest first.
    pub const ALL: [Fork; 9] = [
        Fork::Phase0,
        Fork::Altair,
        Fork::Bellatrix,
        Fork::Capella,
        Fork::Deneb,
        Fork::Electra,
        Fork::Fulu,
        Fork::Gloas,
        Fork::Heze,
    ];

    /// Lower-case name, as in consensus-specs directories.
    pub fn name(self) -> &'static str {
        match self {
            Fork::Phase0 => "phase0",
            Fork::Altair => "altair",
            Fork::Bellatrix => "bellatrix",
            Fork::Capella => "capella",
            Fork::Deneb => "deneb",
            Fork::Electra => "electra",
            Fork::Fulu => "fulu",
            Fork::Gloas => "gloas",
            Fork::Heze => "heze",
        }
    }

    /// The `config.yaml` key prefix (`ALTAIR` in `ALTAIR_FORK_EPOCH`); phase0 uses `GENESIS`.
    pub fn config_prefix(self) -> &'static str {
        match self {
            Fork::Phase0 => "GENESIS",
            Fork::Altair => "ALTAIR",
            Fork::Bellatrix => "BELLATRIX",
            Fork::Capella => "CAPELLA",
            Fork::Deneb => "DENEB",
            Fork::Electra => "ELECTRA",
            Fork::Fulu => "FULU",
            Fork::Gloas => "GLOAS",
            Fork::Heze => "HEZE",
        }
    }
}

impl fmt::Display for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fork {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fork::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| SpecError::UnknownFork(s.to_owned()))
    }
}

macro_rules! hex_bytes_newtype {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; $len]);

        impl fmt::Display for $name {
            /// Lower-case hex without `0x`, as in topic names.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "0x{}", hex::encode(self.0))
            }
        }

        impl FromStr for $name {
            type Err = SpecError;
            /// Accepts hex with or without `0x`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let digits = s.strip_prefix("0x").unwrap_or(s);
                let mut out = [0u8; $len];
                hex::decode_to_slice(digits, &mut out).map_err(|_| SpecError::BadHex {
                    what: stringify!($name),
                    expected_bytes: $len,
                    value: s.to_owned(),
                })?;
                Ok(Self(out))
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&format!("0x{}", hex::encode(self.0)))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_bytes_newtype!(
    /// A 4-byte fork version (`Version`).
    ForkVersion,
    4
);
hex_bytes_newtype!(
    /// A 4-byte fork digest (`ForkDigest`); displays as in topic names (`b5303f2a`).
    ForkDigest,
    4
);
hex_bytes_newtype!(
    /// A 32-byte root (`Root`).
    Root,
    32
);

mod ssz {
    //! Kept apart so the SSZ derive does not meet serde's traits of the same names.
    use ssz_rs::prelude::*;

    /// SSZ `ForkData` (phase0 beacon-chain), hashed for the fork digest.
    #[derive(Debug, Default, SimpleSerialize)]
    pub(super) struct ForkData {
        pub(super) current_version: [u8; 4],
        pub(super) genesis_validators_root: [u8; 32],
    }
}

/// `compute_fork_data_root(current_version, genesis_validators_root)`.
pub fn compute_fork_data_root(version: ForkVersion, genesis_validators_root: Root) -> Root {
    let mut data = ssz::ForkData {
        current_version: version.0,
        genesis_validators_root: genesis_validators_root.0,
    };
    // Merkleizing a fixed two-field container of byte vectors cannot fail.
    let node = data.hash_tree_root().unwrap_or_default();
    let mut out = [0u8; 32];
    out.copy_from_slice(node.as_ref());
    Root(out)
}

/// Blob parameters in force at an epoch (`get_blob_parameters`, fulu beacon-chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobParameters {
    /// Epoch at which these parameters took effect.
    pub epoch: Epoch,
    /// `MAX_BLOBS_PER_BLOCK` from that epoch on.
    pub max_blobs_per_block: u64,
}

/// `compute_fork_digest`: the phase0 form, XORed from Fulu on with
/// `sha256(uint64_le(blob_params.epoch) ++ uint64_le(blob_params.max_blobs_per_block))`.
pub fn compute_fork_digest(
    version: ForkVersion,
    genesis_validators_root: Root,
    blob_params: Option<BlobParameters>,
) -> ForkDigest {
    let mut root = compute_fork_data_root(version, genesis_validators_root).0;
    if let Some(bp) = blob_params {
        let mut hasher = Sha256::new();
        hasher.update(bp.epoch.to_le_bytes());
        hasher.update(bp.max_blobs_per_block.to_le_bytes());
        let mask = hasher.finalize();
        for (byte, m) in root.iter_mut().zip(mask.iter()) {
            *byte ^= m;
        }
    }
    ForkDigest([root[0], root[1], root[2], root[3]])
}
