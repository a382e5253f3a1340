//! `sync_committee_{subnet_id}` and `sync_committee_contribution_and_proof`.

use pheme_spec::{SYNC_COMMITTEE_SUBNET_COUNT, TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE};
use pheme_types::altair::SyncCommitteeMessage;
use sha2::{Digest, Sha256};

use crate::context::CheckContext;
use crate::seen::{SeenBits, SeenSet};
use crate::verdict::gossip_errors;

gossip_errors! {
    /// Why a sync committee message is not forwarded.
    pub enum SyncMessageError {
        #[error("slot {slot} is not the current slot")]
        NotCurrentSlot { slot: u64 } => Ignore, "not_current_slot",
        #[error("validator {validator} already signed slot {slot} on this subnet")]
        AlreadySeen { slot: u64, validator: u64 } => Ignore, "already_seen",
    }
}

/// The `sync_committee_{subnet_id}` handler.
#[derive(Debug, Default)]
pub struct SyncMessageHandler {
    seen: SeenSet<(u64, u64, u64)>,
}

/// What an accepted sync committee message records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncMessageSeen((u64, u64, u64));

impl SyncMessageHandler {
    /// The stateless checks: current slot, first per `(slot, validator, subnet)`. Index range,
    /// subnet membership and the signature need state.
    pub fn check(
        &self,
        m: &SyncCommitteeMessage,
        ctx: &CheckContext<'_>,
    ) -> Result<SyncMessageSeen, SyncMessageError> {
        if !ctx.clock.is_current_slot(m.slot) {
            return Err(SyncMessageError::NotCurrentSlot { slot: m.slot });
        }
        let key = (m.slot, m.validator_index, ctx.subnet.unwrap_or(0));
        if self.seen.contains(m.slot, &key) {
            return Err(SyncMessageError::AlreadySeen {
                slot: m.slot,
                validator: m.validator_index,
            });
        }
        Ok(SyncMessageSeen(key))
    }

    /// Records an accepted message.
    pub fn commit(&mut self, seen: SyncMessageSeen) {
        self.seen.insert(seen.0.0, seen.0);
    }

    /// Forgets slots before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.seen.prune(min_slot);
    }
}

/// The parts of a signed contribution the checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributionView {
    /// `aggregator_index`.
    pub aggregator_index: u64,
    /// `contribution.slot`.
    pub slot: u64,
    /// `contribution.beacon_block_root`.
    pub beacon_block_root: [u8; 32],
    /// `contribution.subcommittee_index`.
    pub subcommittee_index: u64,
    /// `contribution.aggregation_bits`.
    pub aggregation_bits: Vec<bool>,
    /// `selection_proof`.
    pub selection_proof: Vec<u8>,
}

impl<const SUB: usize> From<&pheme_types::altair::SignedContributionAndProof<SUB>>
    for ContributionView
{
    fn from(s: &pheme_types::altair::SignedContributionAndProof<SUB>) -> Self {
        let c = &s.message.contribution;
        let mut root = [0u8; 32];
        root.copy_from_slice(&c.beacon_block_root);
        ContributionView {
            aggregator_index: s.message.aggregator_index,
            slot: c.slot,
            beacon_block_root: root,
            subcommittee_index: c.subcommittee_index,
            aggregation_bits: c.aggregation_bits.iter().by_vals().collect(),
            selection_proof: s.message.selection_proof.to_vec(),
        }
    }
}

gossip_errors! {
    /// Why a contribution is not forwarded.
    pub enum ContributionError {
        #[error("slot {slot} is not the current slot")]
        NotCurrentSlot { slot: u64 } => Ignore, "not_current_slot",
        #[error("subcommittee index {index} out of range")]
        SubcommitteeOutOfRange { index: u64 } => Reject, "subcommittee_out_of_range",
        #[error("no aggregation bit set")]
        NoParticipants => Reject, "no_participants",
        #[error("the selection proof does not select an aggregator")]
        NotAggregator => Reject, "not_aggregator",
        #[error("a contribution with a superset of these bits was already seen")]
        SupersetSeen => Ignore, "superset_seen",
        #[error("aggregator {aggregator} already contributed for slot {slot}")]
        AggregatorSeen { slot: u64, aggregator: u64 } => Ignore, "aggregator_seen",
    }
}

/// `is_sync_committee_aggregator`: `uint64_le(sha256(selection_proof)[0:8]) % modulo == 0`
/// with `modulo = max(1, SYNC_COMMITTEE_SIZE / 4 / 16)`; a pure function of the proof.
pub fn is_sync_committee_aggregator(selection_proof: &[u8], sync_committee_size: u64) -> bool {
    let modulo = (sync_committee_size
        / SYNC_COMMITTEE_SUBNET_COUNT
        / TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE)
        .max(1);
    let hash = Sha256::digest(selection_proof);
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(first) % modulo == 0
}

/// The `sync_committee_contribution_and_proof` handler.
#[derive(Debug, Default)]
pub struct ContributionHandler {
    bits: SeenBits<([u8; 32], u64)>,
    aggregators: SeenSet<(u64, u64, u64)>,
}

/// What an accepted contribution records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributionSeen {
    slot: u64,
    key: ([u8; 32], u64),
    bits: Vec<bool>,
    aggregator: (u64, u64, u64),
}

impl ContributionHandler {
    /// The stateless checks, in spec order, including aggregator selection. Index range,
    /// subcommittee membership and three signatures need state.
    pub fn check(
        &self,
        c: &ContributionView,
        ctx: &CheckContext<'_>,
    ) -> Result<ContributionSeen, ContributionError> {
        if !ctx.clock.is_current_slot(c.slot) {
            return Err(ContributionError::NotCurrentSlot { slot: c.slot });
        }
        if c.subcommittee_index >= SYNC_COMMITTEE_SUBNET_COUNT {
            return Err(ContributionError::SubcommitteeOutOfRange {
                index: c.subcommittee_index,
            });
        }
        if !c.aggregation_bits.iter().any(|b| *b) {
            return Err(ContributionError::NoParticipants);
        }
        if !is_sync_committee_aggregator(
            &c.selection_proof,
            ctx.clock.chain().preset.sync_committee_size,
        ) {
            return Err(ContributionError::NotAggregator);
        }
        let key = (c.beacon_block_root, c.subcommittee_index);
        if self.bits.has_superset(c.slot, &key, &c.aggregation_bits) {
            return Err(ContributionError::SupersetSeen);
        }
        let aggregator = (c.slot, c.aggregator_index, c.subcommittee_index);
        if self.aggregators.contains(c.slot, &aggregator) {
            return Err(ContributionError::AggregatorSeen {
                slot: c.slot,
                aggregator: c.aggregator_index,
            });
        }
        Ok(ContributionSeen {
            slot: c.slot,
            key,
            bits: c.aggregation_bits.clone(),
            aggregator,
        })
    }

    /// Records an accepted contribution.
    pub fn commit(&mut self, seen: ContributionSeen) {
        self.bits.insert(seen.slot, seen.key, seen.bits);
        self.aggregators.insert(seen.slot, seen.aggregator);
    }

    /// Forgets slots before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.bits.prune(min_slot);
        self.aggregators.prune(min_slot);
    }
}
