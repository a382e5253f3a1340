//! `beacon_attestation_{subnet_id}` and `beacon_aggregate_and_proof`.

use pheme_spec::Fork;
use pheme_types::phase0::AttestationData;

use super::bitlist;
use crate::context::CheckContext;
use crate::seen::{SeenBits, SeenSet};
use crate::verdict::gossip_errors;

/// The parts of an attestation the checks read, from either form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationView {
    /// `data`.
    pub data: AttestationData,
    /// The phase0 form's aggregation bits, or the electra form's indices.
    pub form: AttestationForm,
}

/// The two wire forms of an unaggregated attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttestationForm {
    /// phase0-deneb `Attestation`: one bit must be set.
    Bits(Vec<bool>),
    /// electra `SingleAttestation`.
    Single {
        /// `committee_index`.
        committee_index: u64,
        /// `attester_index`.
        attester_index: u64,
    },
}

impl From<&pheme_types::phase0::Attestation> for AttestationView {
    fn from(a: &pheme_types::phase0::Attestation) -> Self {
        AttestationView {
            data: a.data.clone(),
            form: AttestationForm::Bits(bitlist(&a.aggregation_bits)),
        }
    }
}

impl From<&pheme_types::electra::SingleAttestation> for AttestationView {
    fn from(a: &pheme_types::electra::SingleAttestation) -> Self {
        AttestationView {
            data: a.data.clone(),
            form: AttestationForm::Single {
                committee_index: a.committee_index,
                attester_index: a.attester_index,
            },
        }
    }
}

gossip_errors! {
    /// Why an attestation is not forwarded.
    pub enum AttestationError {
        #[error("electra attestation with data.index {index} (must be 0)")]
        NonZeroDataIndex { index: u64 } => Reject, "nonzero_data_index",
        #[error("gloas attestation with data.index {index} (the payload status: 0 or 1)")]
        DataIndexAboveOne { index: u64 } => Reject, "data_index_above_one",
        #[error("committee index {index} out of range (< {limit})")]
        CommitteeIndexOutOfRange { index: u64, limit: u64 } => Reject, "committee_index_out_of_range",
        #[error("subnet {got} for an attestation of subnet {expected}")]
        WrongSubnet { got: u64, expected: u64 } => Reject, "wrong_subnet",
        #[error("slot {slot} has not started")]
        FutureSlot { slot: u64 } => Ignore, "future_slot",
        #[error("slot {slot} is outside the propagation window")]
        PastSlot { slot: u64 } => Ignore, "past_slot",
        #[error("target epoch {target} is not the epoch of slot {slot}")]
        TargetEpochMismatch { target: u64, slot: u64 } => Reject, "target_epoch_mismatch",
        #[error("{set} aggregation bits set, exactly one expected")]
        NotExactlyOneBit { set: usize } => Reject, "not_exactly_one_bit",
        #[error("attester {attester} already attested in epoch {epoch}")]
        AlreadySeen { epoch: u64, attester: u64 } => Ignore, "already_seen",
    }
}

/// `data.index`: 0 from electra on; from gloas on the payload status, 0 or 1 (whether a
/// same-slot vote attests 0, and whether the payload behind a 1 was seen and valid, needs the
/// block: state).
fn check_data_index(data: &AttestationData, fork: Fork) -> Result<(), AttestationError> {
    if fork >= Fork::Gloas {
        if data.index > 1 {
            return Err(AttestationError::DataIndexAboveOne { index: data.index });
        }
    } else if fork >= Fork::Electra && data.index != 0 {
        return Err(AttestationError::NonZeroDataIndex { index: data.index });
    }
    Ok(())
}

/// The data index ([`check_data_index`]), and the committee index below committees per slot
/// (known) or `MAX_COMMITTEES_PER_SLOT` (a structural bound).
fn check_committee(
    data: &AttestationData,
    committee_index: u64,
    ctx: &CheckContext<'_>,
) -> Result<(), AttestationError> {
    check_data_index(data, ctx.fork)?;
    let limit = ctx
        .committees_per_slot
        .unwrap_or(ctx.clock.chain().preset.max_committees_per_slot);
    if committee_index >= limit {
        return Err(AttestationError::CommitteeIndexOutOfRange {
            index: committee_index,
            limit,
        });
    }
    Ok(())
}

/// The time and target checks shared by attestations and aggregates.
fn check_data(data: &AttestationData, ctx: &CheckContext<'_>) -> Result<(), AttestationError> {
    let chain = ctx.clock.chain();
    if !ctx.clock.slot_started(data.slot) {
        return Err(AttestationError::FutureSlot { slot: data.slot });
    }
    let in_window = if ctx.fork >= Fork::Deneb {
        ctx.clock
            .is_current_or_previous_epoch(chain.epoch_of(data.slot))
    } else {
        ctx.clock.within_propagation_range(data.slot)
    };
    if !in_window {
        return Err(AttestationError::PastSlot { slot: data.slot });
    }
    if data.target.epoch != chain.epoch_of(data.slot) {
        return Err(AttestationError::TargetEpochMismatch {
            target: data.target.epoch,
            slot: data.slot,
        });
    }
    Ok(())
}

/// `compute_subnet_for_attestation`.
pub fn subnet_for_attestation(
    committees_per_slot: u64,
    slot: u64,
    committee_index: u64,
    slots_per_epoch: u64,
    subnets: u64,
) -> u64 {
    let slots_since_epoch_start = slot % slots_per_epoch.max(1);
    (committees_per_slot * slots_since_epoch_start + committee_index) % subnets.max(1)
}

/// The `beacon_attestation_{subnet_id}` handler.
#[derive(Debug, Default)]
pub struct AttestationHandler {
    /// `(target epoch, attester index)` of accepted single attestations.
    seen: SeenSet<(u64, u64)>,
}

/// What an accepted attestation records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttestationSeen(Option<(u64, u64)>);

impl AttestationHandler {
    /// The stateless checks, in spec order. Committee membership, the signature and the block
    /// and finality checks need state.
    pub fn check(
        &self,
        a: &AttestationView,
        ctx: &CheckContext<'_>,
    ) -> Result<AttestationSeen, AttestationError> {
        let chain = ctx.clock.chain();
        let committee_index = match a.form {
            AttestationForm::Single {
                committee_index, ..
            } => committee_index,
            AttestationForm::Bits(_) => a.data.index,
        };
        check_committee(&a.data, committee_index, ctx)?;
        if let (Some(cps), Some(got)) = (ctx.committees_per_slot, ctx.subnet) {
            let expected = subnet_for_attestation(
                cps,
                a.data.slot,
                committee_index,
                chain.slots_per_epoch(),
                chain.attestation_subnet_count,
            );
            if got != expected {
                return Err(AttestationError::WrongSubnet { got, expected });
            }
        }
        check_data(&a.data, ctx)?;
        match &a.form {
            AttestationForm::Bits(bits) => {
                let set = bits.iter().filter(|b| **b).count();
                if set != 1 {
                    return Err(AttestationError::NotExactlyOneBit { set });
                }
                // The attester behind the bit is known only with the committee (state).
                Ok(AttestationSeen(None))
            }
            AttestationForm::Single { attester_index, .. } => {
                let key = (a.data.target.epoch, *attester_index);
                if self.seen.contains(a.data.target.epoch, &key) {
                    return Err(AttestationError::AlreadySeen {
                        epoch: key.0,
                        attester: key.1,
                    });
                }
                Ok(AttestationSeen(Some(key)))
            }
        }
    }

    /// Records an accepted attestation.
    pub fn commit(&mut self, seen: AttestationSeen) {
        if let Some(key) = seen.0 {
            self.seen.insert(key.0, key);
        }
    }

    /// Forgets epochs before `min_epoch`.
    pub fn prune(&mut self, min_epoch: u64) {
        self.seen.prune(min_epoch);
    }
}

/// The parts of an aggregate the checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateView {
    /// `aggregator_index`.
    pub aggregator_index: u64,
    /// `aggregate.data`.
    pub data: AttestationData,
    /// `aggregate.aggregation_bits`.
    pub aggregation_bits: Vec<bool>,
    /// electra `aggregate.committee_bits`.
    pub committee_bits: Option<Vec<bool>>,
}

impl From<&pheme_types::phase0::SignedAggregateAndProof> for AggregateView {
    fn from(s: &pheme_types::phase0::SignedAggregateAndProof) -> Self {
        let a = &s.message.aggregate;
        AggregateView {
            aggregator_index: s.message.aggregator_index,
            data: a.data.clone(),
            aggregation_bits: bitlist(&a.aggregation_bits),
            committee_bits: None,
        }
    }
}

impl<const BITS: usize, const C: usize>
    From<&pheme_types::electra::SignedAggregateAndProof<BITS, C>> for AggregateView
{
    fn from(s: &pheme_types::electra::SignedAggregateAndProof<BITS, C>) -> Self {
        let a = &s.message.aggregate;
        AggregateView {
            aggregator_index: s.message.aggregator_index,
            data: a.data.clone(),
            aggregation_bits: bitlist(&a.aggregation_bits),
            committee_bits: Some(a.committee_bits.iter().by_vals().collect()),
        }
    }
}

impl<const C: usize> From<&pheme_types::gloas::SignedAggregateAndProof<C>> for AggregateView {
    fn from(s: &pheme_types::gloas::SignedAggregateAndProof<C>) -> Self {
        let a = &s.message.aggregate;
        AggregateView {
            aggregator_index: s.message.aggregator_index,
            data: a.data.clone(),
            aggregation_bits: a.aggregation_bits.iter().collect(),
            committee_bits: Some(a.committee_bits.iter().by_vals().collect()),
        }
    }
}

/// Why an aggregate is not forwarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    /// A check shared with attestations failed (its verdict is kept).
    #[error("{0}")]
    Data(#[from] AttestationError),
    /// electra: not exactly one committee bit.
    #[error("{set} committee bits set, exactly one expected")]
    NotOneCommitteeBit {
        /// Bits set.
        set: usize,
    },
    /// No aggregation bit set.
    #[error("no aggregation bit set")]
    NoParticipants,
    /// An aggregate with a superset of these bits was already accepted.
    #[error("an aggregate with a superset of these bits was already seen")]
    SupersetSeen,
    /// This aggregator already aggregated in this epoch.
    #[error("aggregator {aggregator} already aggregated in epoch {epoch}")]
    AggregatorSeen {
        /// Target epoch.
        epoch: u64,
        /// Aggregator index.
        aggregator: u64,
    },
}

impl crate::GossipError for AggregateError {
    fn verdict(&self) -> crate::Verdict {
        match self {
            AggregateError::Data(e) => e.verdict(),
            AggregateError::NotOneCommitteeBit { .. } | AggregateError::NoParticipants => {
                crate::Verdict::Reject
            }
            AggregateError::SupersetSeen | AggregateError::AggregatorSeen { .. } => {
                crate::Verdict::Ignore
            }
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            AggregateError::Data(e) => e.reason(),
            AggregateError::NotOneCommitteeBit { .. } => "not_one_committee_bit",
            AggregateError::NoParticipants => "no_participants",
            AggregateError::SupersetSeen => "superset_seen",
            AggregateError::AggregatorSeen { .. } => "aggregator_seen",
        }
    }
}

/// The `beacon_aggregate_and_proof` handler.
#[derive(Debug, Default)]
pub struct AggregateHandler {
    /// Bits seen per `(data, committee index)`, by slot. The spec keys them by
    /// `hash_tree_root(aggregate.data)`; keying by the data itself is the same equality
    /// without merkleizing every aggregate (eight SHA-256 of 64 bytes).
    bits: SeenBits<(AttestationData, u64)>,
    /// `(target epoch, aggregator)` seen.
    aggregators: SeenSet<(u64, u64)>,
}

/// What an accepted aggregate records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateSeen {
    slot: u64,
    key: (AttestationData, u64),
    bits: Vec<bool>,
    aggregator: (u64, u64),
}

impl AggregateHandler {
    /// The stateless checks, in spec order. Committee size, `is_aggregator`, membership, three
    /// signatures and the block checks need state.
    pub fn check(
        &self,
        a: &AggregateView,
        ctx: &CheckContext<'_>,
    ) -> Result<AggregateSeen, AggregateError> {
        let committee_index = match &a.committee_bits {
            Some(committee_bits) => {
                check_data_index(&a.data, ctx.fork.max(Fork::Electra))?;
                let set: Vec<usize> = committee_bits
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b)
                    .map(|(i, _)| i)
                    .collect();
                match set[..] {
                    [one] => one as u64,
                    _ => return Err(AggregateError::NotOneCommitteeBit { set: set.len() }),
                }
            }
            None => a.data.index,
        };
        check_committee(&a.data, committee_index, ctx)?;
        check_data(&a.data, ctx)?;
        if !a.aggregation_bits.iter().any(|b| *b) {
            return Err(AggregateError::NoParticipants);
        }
        let key = (a.data.clone(), committee_index);
        if self
            .bits
            .has_superset(a.data.slot, &key, &a.aggregation_bits)
        {
            return Err(AggregateError::SupersetSeen);
        }
        let aggregator = (a.data.target.epoch, a.aggregator_index);
        if self.aggregators.contains(aggregator.0, &aggregator) {
            return Err(AggregateError::AggregatorSeen {
                epoch: aggregator.0,
                aggregator: aggregator.1,
            });
        }
        Ok(AggregateSeen {
            slot: a.data.slot,
            key,
            bits: a.aggregation_bits.clone(),
            aggregator,
        })
    }

    /// Records an accepted aggregate.
    pub fn commit(&mut self, seen: AggregateSeen) {
        self.bits.insert(seen.slot, seen.key, seen.bits);
        self.aggregators.insert(seen.aggregator.0, seen.aggregator);
    }

    /// Forgets what is older than `min_slot` (bits) and `min_epoch` (aggregators).
    pub fn prune(&mut self, min_slot: u64, min_epoch: u64) {
        self.bits.prune(min_slot);
        self.aggregators.prune(min_epoch);
    }
}
