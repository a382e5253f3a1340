//! [`ChainSpec`]: one network's constants, fork schedule and digest schedule.

use serde::Serialize;

use crate::fork::{
    BlobParameters, FAR_FUTURE_EPOCH, Fork, ForkDigest, ForkVersion, Root, compute_fork_digest,
};
use crate::preset::Preset;
use crate::{Epoch, Slot, SpecError};

/// `MAX_PAYLOAD_SIZE`: the uncompressed gossip payload and req/resp chunk limit.
pub const DEFAULT_MAX_PAYLOAD_SIZE: u64 = 10 * 1024 * 1024;
/// `ATTESTATION_SUBNET_COUNT`.
pub const DEFAULT_ATTESTATION_SUBNET_COUNT: u64 = 64;
/// `SYNC_COMMITTEE_SUBNET_COUNT` (altair validator guide; not a config variable).
pub const SYNC_COMMITTEE_SUBNET_COUNT: u64 = 4;
/// `INCLUSION_LIST_COMMITTEE_SIZE` (heze preset; the same in every preset).
pub const INCLUSION_LIST_COMMITTEE_SIZE: u64 = 16;
/// `TARGET_AGGREGATORS_PER_COMMITTEE`.
pub const TARGET_AGGREGATORS_PER_COMMITTEE: u64 = 16;
/// `TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE`.
pub const TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE: u64 = 16;
/// `MAXIMUM_GOSSIP_CLOCK_DISPARITY` in milliseconds.
pub const MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS: u64 = 500;

/// One scheduled (or unscheduled, at [`FAR_FUTURE_EPOCH`]) fork.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ForkEntry {
    /// Which fork.
    pub fork: Fork,
    /// Its fork version.
    pub version: ForkVersion,
    /// Its activation epoch; [`FAR_FUTURE_EPOCH`] when unscheduled.
    pub epoch: Epoch,
}

impl ForkEntry {
    /// Whether the fork has an activation epoch.
    pub fn is_scheduled(&self) -> bool {
        self.epoch != FAR_FUTURE_EPOCH
    }
}

/// A point at which the gossip fork digest changes (a fork or a blob-parameter-only fork).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DigestEpoch {
    /// First epoch with this digest.
    pub epoch: Epoch,
    /// The fork in force (BPO forks keep the fork of their epoch).
    pub fork: Fork,
    /// The fork digest used in topic names from `epoch` on.
    pub digest: ForkDigest,
}

/// A network's configuration: what `config.yaml` plus the preset plus genesis say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainSpec {
    /// Network name (`mainnet`, or `CONFIG_NAME` of a loaded file).
    pub name: String,
    /// Preset constants.
    pub preset: Preset,
    /// Slot duration in milliseconds (`SLOT_DURATION_MS`, or `SECONDS_PER_SLOT * 1000`).
    pub slot_duration_ms: u64,
    /// Genesis time, unix seconds.
    pub genesis_time: u64,
    /// `genesis_validators_root`.
    pub genesis_validators_root: Root,
    /// Every fork the config names, oldest first, phase0 included.
    pub forks: Vec<ForkEntry>,
    /// `BLOB_SCHEDULE`, sorted by epoch.
    pub blob_schedule: Vec<BlobParameters>,
    /// `MAX_BLOBS_PER_BLOCK` (deneb).
    pub max_blobs_per_block: u64,
    /// `MAX_BLOBS_PER_BLOCK_ELECTRA`.
    pub max_blobs_per_block_electra: u64,
    /// `BLOB_SIDECAR_SUBNET_COUNT` (deneb).
    pub blob_sidecar_subnet_count: u64,
    /// `BLOB_SIDECAR_SUBNET_COUNT_ELECTRA`.
    pub blob_sidecar_subnet_count_electra: u64,
    /// `DATA_COLUMN_SIDECAR_SUBNET_COUNT` (fulu).
    pub data_column_sidecar_subnet_count: u64,
    /// `ATTESTATION_SUBNET_COUNT`.
    pub attestation_subnet_count: u64,
    /// `MAX_PAYLOAD_SIZE`.
    pub max_payload_size: u64,
    /// Bootnode ENRs (`enr:...` text).
    pub bootnodes: Vec<String>,
}

impl ChainSpec {
    /// Checks the invariants every other method relies on.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.slot_duration_ms == 0 {
            return Err(SpecError::Invalid("slot duration is 0".into()));
        }
        match self.forks.first() {
            Some(f) if f.fork == Fork::Phase0 && f.epoch == 0 => {}
            _ => {
                return Err(SpecError::Invalid(
                    "phase0 must be the first fork, at epoch 0".into(),
                ));
            }
        }
        for pair in self.forks.windows(2) {
            if pair[0].fork >= pair[1].fork {
                return Err(SpecError::Invalid("forks out of order".into()));
            }
            if pair[1].epoch < pair[0].epoch {
                return Err(SpecError::Invalid(format!(
                    "{} is scheduled before {}",
                    pair[1].fork, pair[0].fork
                )));
            }
        }
        if self
            .blob_schedule
            .windows(2)
            .any(|p| p[1].epoch <= p[0].epoch)
        {
            return Err(SpecError::Invalid(
                "BLOB_SCHEDULE epochs must increase".into(),
            ));
        }
        // Bounds that keep every derived quantity small and every product in range: far above
        // any real network, far below what would exhaust memory or overflow.
        let p = &self.preset;
        let bounded: [(&str, u64, u64, u64); 10] = [
            ("SLOTS_PER_EPOCH", p.slots_per_epoch, 1, 1024),
            ("SLOT_DURATION_MS", self.slot_duration_ms, 1, 3_600_000),
            (
                "MAX_COMMITTEES_PER_SLOT",
                p.max_committees_per_slot,
                1,
                1024,
            ),
            ("TARGET_COMMITTEE_SIZE", p.target_committee_size, 1, 1 << 16),
            ("SYNC_COMMITTEE_SIZE", p.sync_committee_size, 4, 1 << 16),
            (
                "ATTESTATION_SUBNET_COUNT",
                self.attestation_subnet_count,
                1,
                256,
            ),
            (
                "BLOB_SIDECAR_SUBNET_COUNT",
                self.blob_sidecar_subnet_count,
                0,
                64,
            ),
            (
                "BLOB_SIDECAR_SUBNET_COUNT_ELECTRA",
                self.blob_sidecar_subnet_count_electra,
                0,
                64,
            ),
            (
                "DATA_COLUMN_SIDECAR_SUBNET_COUNT",
                self.data_column_sidecar_subnet_count,
                0,
                p.number_of_columns,
            ),
            ("MAX_PAYLOAD_SIZE", self.max_payload_size, 1024, 1 << 30),
        ];
        for (name, value, min, max) in bounded {
            if !(min..=max).contains(&value) {
                return Err(SpecError::Invalid(format!(
                    "{name} = {value} is outside {min}..={max}"
                )));
            }
        }
        Ok(())
    }

    /// `SLOTS_PER_EPOCH`.
    pub fn slots_per_epoch(&self) -> u64 {
        self.preset.slots_per_epoch
    }

    /// The epoch of a slot.
    pub fn epoch_of(&self, slot: Slot) -> Epoch {
        slot / self.preset.slots_per_epoch
    }

    /// First slot of an epoch (saturating).
    pub fn start_slot(&self, epoch: Epoch) -> Slot {
        epoch.saturating_mul(self.preset.slots_per_epoch)
    }

    /// The fork entry in force at `epoch` (the latest scheduled fork with `epoch <= epoch`).
    pub fn fork_entry_at(&self, epoch: Epoch) -> ForkEntry {
        self.forks
            .iter()
            .rev()
            .find(|f| f.is_scheduled() && f.epoch <= epoch)
            .copied()
            .unwrap_or(self.forks[0])
    }

    /// The fork in force at `epoch`.
    pub fn fork_at(&self, epoch: Epoch) -> Fork {
        self.fork_entry_at(epoch).fork
    }

    /// `compute_fork_version(epoch)`.
    pub fn fork_version_at(&self, epoch: Epoch) -> ForkVersion {
        self.fork_entry_at(epoch).version
    }

    /// The entry of a given fork, if the config names it.
    pub fn fork_entry(&self, fork: Fork) -> Option<ForkEntry> {
        self.forks.iter().find(|f| f.fork == fork).copied()
    }

    /// `get_blob_parameters(epoch)`: the latest `BLOB_SCHEDULE` entry at or before `epoch`, else
    /// `(ELECTRA_FORK_EPOCH, MAX_BLOBS_PER_BLOCK_ELECTRA)`.
    pub fn blob_parameters(&self, epoch: Epoch) -> BlobParameters {
        self.blob_schedule
            .iter()
            .rev()
            .find(|bp| bp.epoch <= epoch)
            .copied()
            .unwrap_or(BlobParameters {
                epoch: self
                    .fork_entry(Fork::Electra)
                    .map_or(FAR_FUTURE_EPOCH, |e| e.epoch),
                max_blobs_per_block: self.max_blobs_per_block_electra,
            })
    }

    /// `compute_fork_digest(genesis_validators_root, epoch)`.
    pub fn fork_digest_at(&self, epoch: Epoch) -> ForkDigest {
        let entry = self.fork_entry_at(epoch);
        let blob_params = (entry.fork >= Fork::Fulu).then(|| self.blob_parameters(epoch));
        compute_fork_digest(entry.version, self.genesis_validators_root, blob_params)
    }

    /// The digest a given fork has at its own activation epoch (`None` if unscheduled).
    pub fn fork_digest_of(&self, fork: Fork) -> Option<ForkDigest> {
        let entry = self.fork_entry(fork).filter(ForkEntry::is_scheduled)?;
        let blob_params = (fork >= Fork::Fulu).then(|| self.blob_parameters(entry.epoch));
        Some(compute_fork_digest(
            entry.version,
            self.genesis_validators_root,
            blob_params,
        ))
    }

    /// Every digest the network uses on the wire, in order: one entry per epoch at which the
    /// digest changes (forks, and blob-parameter-only forks from Fulu on). Forks sharing an
    /// activation epoch collapse into the last of them.
    pub fn digest_schedule(&self) -> Vec<DigestEpoch> {
        let mut epochs: Vec<Epoch> = self
            .forks
            .iter()
            .filter(|f| f.is_scheduled())
            .map(|f| f.epoch)
            .collect();
        if let Some(fulu) = self.fork_entry(Fork::Fulu).filter(ForkEntry::is_scheduled) {
            epochs.extend(
                self.blob_schedule
                    .iter()
                    .map(|bp| bp.epoch)
                    .filter(|e| *e >= fulu.epoch),
            );
        }
        epochs.sort_unstable();
        epochs.dedup();
        let mut out: Vec<DigestEpoch> = Vec::with_capacity(epochs.len());
        for epoch in epochs {
            let digest = self.fork_digest_at(epoch);
            if out.last().is_some_and(|d| d.digest == digest) {
                continue;
            }
            out.push(DigestEpoch {
                epoch,
                fork: self.fork_at(epoch),
                digest,
            });
        }
        out
    }

    /// The next digest change strictly after `epoch`, if any is scheduled.
    pub fn next_digest_change(&self, epoch: Epoch) -> Option<DigestEpoch> {
        self.digest_schedule().into_iter().find(|d| d.epoch > epoch)
    }

    /// The next fork (not BPO) strictly after `epoch`, if scheduled.
    pub fn next_fork(&self, epoch: Epoch) -> Option<ForkEntry> {
        self.forks
            .iter()
            .find(|f| f.is_scheduled() && f.epoch > epoch)
            .copied()
    }

    /// The latest fork with an activation epoch: what a mature chain runs.
    pub fn latest_scheduled_fork(&self) -> ForkEntry {
        self.forks
            .iter()
            .rev()
            .find(|f| f.is_scheduled())
            .copied()
            .unwrap_or(self.forks[0])
    }

    /// Blob sidecar subnet count in force for `fork` (0 before deneb and from fulu on).
    pub fn blob_sidecar_subnets(&self, fork: Fork) -> u64 {
        match fork {
            Fork::Deneb => self.blob_sidecar_subnet_count,
            Fork::Electra => self.blob_sidecar_subnet_count_electra,
            _ => 0,
        }
    }

    /// `get_committee_count_per_slot` for a given number of active validators.
    pub fn committees_per_slot(&self, active_validators: u64) -> u64 {
        let p = &self.preset;
        (active_validators / p.slots_per_epoch / p.target_committee_size)
            .clamp(1, p.max_committees_per_slot)
    }

    /// `max_message_size()` of the p2p spec, the largest gossipsub RPC frame:
    /// `max(max_compressed_len(MAX_PAYLOAD_SIZE) + 1024, 1 MiB)` with
    /// `max_compressed_len(n) = 32 + n + n / 6` (12,234,442 bytes for 10 MiB).
    pub fn max_message_size(&self) -> u64 {
        let n = self.max_payload_size;
        (32 + n + n / 6 + 1024).max(1024 * 1024)
    }

    /// The spec's seen-message TTL: two epochs, in milliseconds (768 s on mainnet).
    pub fn seen_ttl_ms(&self) -> u64 {
        self.slot_duration_ms
            .saturating_mul(self.preset.slots_per_epoch)
            .saturating_mul(2)
    }

    /// A slot clock for this network.
    pub fn clock(&self) -> crate::SlotClock {
        crate::SlotClock::new(self.genesis_time, self.slot_duration_ms)
    }
}
