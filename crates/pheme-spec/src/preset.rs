//! Compile-time preset constants (`mainnet`, `minimal`, `gnosis`) that Pheme needs.

use serde::{Deserialize, Serialize};

use crate::SpecError;

/// The consensus-specs preset a network is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresetBase {
    /// `presets/mainnet`: 32 slots per epoch, 512-member sync committee.
    Mainnet,
    /// `presets/minimal`: 8 slots per epoch, 32-member sync committee.
    Minimal,
    /// Gnosis chain's preset: mainnet's with 16 slots per epoch.
    Gnosis,
}

impl PresetBase {
    /// The preset's name as written in `PRESET_BASE`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mainnet => "mainnet",
            Self::Minimal => "minimal",
            Self::Gnosis => "gnosis",
        }
    }

    /// Parses a `PRESET_BASE` value.
    pub fn parse(name: &str) -> Result<Self, SpecError> {
        match name.trim().trim_matches(|c| c == '\'' || c == '"') {
            "mainnet" => Ok(Self::Mainnet),
            "minimal" => Ok(Self::Minimal),
            "gnosis" => Ok(Self::Gnosis),
            other => Err(SpecError::UnknownPreset(other.to_owned())),
        }
    }

    /// The preset's constants.
    pub fn preset(self) -> Preset {
        match self {
            Self::Mainnet => Preset::MAINNET,
            Self::Minimal => Preset::MINIMAL,
            Self::Gnosis => Preset::GNOSIS,
        }
    }
}

/// Preset constants used by the gossip layer and by score derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preset {
    /// Which preset these values belong to.
    pub base: PresetBase,
    /// `SLOTS_PER_EPOCH`.
    pub slots_per_epoch: u64,
    /// `MAX_COMMITTEES_PER_SLOT`.
    pub max_committees_per_slot: u64,
    /// `TARGET_COMMITTEE_SIZE`.
    pub target_committee_size: u64,
    /// `MAX_VALIDATORS_PER_COMMITTEE`.
    pub max_validators_per_committee: u64,
    /// `SYNC_COMMITTEE_SIZE`.
    pub sync_committee_size: u64,
    /// `EPOCHS_PER_SYNC_COMMITTEE_PERIOD`.
    pub epochs_per_sync_committee_period: u64,
    /// `MAX_BLOB_COMMITMENTS_PER_BLOCK` (deneb preset).
    pub max_blob_commitments_per_block: u64,
    /// `NUMBER_OF_COLUMNS` (fulu preset).
    pub number_of_columns: u64,
    /// `PTC_SIZE` (gloas): payload timeliness committee members per slot.
    pub ptc_size: u64,
    /// `MAX_WITHDRAWALS_PER_PAYLOAD` (capella preset; gloas checks it on envelopes).
    pub max_withdrawals_per_payload: u64,
}

impl Preset {
    /// `presets/mainnet`.
    pub const MAINNET: Preset = Preset {
        base: PresetBase::Mainnet,
        slots_per_epoch: 32,
        max_committees_per_slot: 64,
        target_committee_size: 128,
        max_validators_per_committee: 2048,
        sync_committee_size: 512,
        epochs_per_sync_committee_period: 256,
        max_blob_commitments_per_block: 4096,
        number_of_columns: 128,
        ptc_size: 512,
        max_withdrawals_per_payload: 16,
    };
    /// `presets/minimal`.
    pub const MINIMAL: Preset = Preset {
        base: PresetBase::Minimal,
        slots_per_epoch: 8,
        max_committees_per_slot: 4,
        target_committee_size: 4,
        max_validators_per_committee: 2048,
        sync_committee_size: 32,
        epochs_per_sync_committee_period: 8,
        // 4096 in the minimal preset too since consensus-specs v1.7 (the spec-tests vectors say so).
        max_blob_commitments_per_block: 4096,
        number_of_columns: 128,
        ptc_size: 16,
        max_withdrawals_per_payload: 4,
    };
    /// Gnosis chain's preset (mainnet's with `SLOTS_PER_EPOCH` = 16 and
    /// `EPOCHS_PER_SYNC_COMMITTEE_PERIOD` = 512).
    pub const GNOSIS: Preset = Preset {
        base: PresetBase::Gnosis,
        slots_per_epoch: 16,
        max_committees_per_slot: 64,
        target_committee_size: 128,
        max_validators_per_committee: 2048,
        sync_committee_size: 512,
        epochs_per_sync_committee_period: 512,
        max_blob_commitments_per_block: 4096,
        number_of_columns: 128,
        ptc_size: 512,
        max_withdrawals_per_payload: 8,
    };
}
