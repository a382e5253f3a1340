//! The stateful checks of attestations, aggregates, sync committee messages and
//! contributions, blocks and blob sidecars: committees, aggregator selection, proposers,
//! signatures, and the fork-choice checks (known and imported blocks, ancestry, finality).

use pheme_gossip::payload::minimal::{Attestation, SignedAggregate};
use pheme_types::altair::SyncCommitteeMessage;
use pheme_types::minimal::altair::{SignedContributionAndProof, SyncAggregatorSelectionData};
use pheme_types::minimal::deneb::BlobSidecar;
use pheme_types::phase0::{AttestationData, BeaconBlockHeader, SignedBeaconBlockHeader};

use super::spec::{self, EpochView};
use super::{Check, PayloadStatus, ReferenceValidator, ignore, reject};

/// The attestation subnet count.
const ATTESTATION_SUBNET_COUNT: u64 = 64;

/// `compute_subnet_for_attestation`.
fn subnet_for_attestation(per_slot: u64, slot: u64, index: u64) -> u64 {
    (per_slot * (slot % spec::SLOTS_PER_EPOCH) + index) % ATTESTATION_SUBNET_COUNT
}

/// The checks on the block an attestation votes for: seen, imported, its target checkpoint,
/// and the finalized checkpoint among its ancestors.
fn voted_block(r: &ReferenceValidator, data: &AttestationData) -> Result<(), Check> {
    let root = data.beacon_block_root.0;
    let Some(block) = r.blocks.get(&root) else {
        return ignore("voted_block_unknown");
    };
    if !block.imported {
        return reject("voted_block_failed");
    }
    if r.checkpoint_block(root, data.target.epoch) != Some(data.target.root.0) {
        return reject("target_not_ancestor");
    }
    if !r.finalized_is_ancestor(root) {
        return ignore("finalized_not_ancestor");
    }
    Ok(())
}

/// The committee index range check and the committee.
fn committee(view: &EpochView<'_>, data: &AttestationData, index: u64) -> Result<Vec<u64>, Check> {
    if index >= view.committees_per_slot(data.target.epoch) {
        return Err(Check::Refuse(pheme_gossip::Decision::reject(
            "committee_index_out_of_range",
        )));
    }
    Ok(view.beacon_committee(data.slot, index))
}

/// `validate_beacon_attestation_gossip` (deneb and electra): the stateful checks.
pub(super) fn attestation(
    r: &ReferenceValidator,
    a: &Attestation,
    subnet: Option<u64>,
) -> Result<Option<(u64, u64)>, Check> {
    let data = match a {
        Attestation::Phase0(a) => &a.data,
        Attestation::Electra(a) => &a.data,
    };
    let view = r.view(spec::epoch_at(data.slot), data.beacon_block_root.0);
    let (index, signature) = match a {
        Attestation::Phase0(a) => (data.index, &a.signature.0),
        Attestation::Electra(a) => {
            // Gloas: the payload status, 0 or 1 (`verify_attestation_payload_status` below).
            let gloas = r.anchor.gloas.is_some();
            if data.index > u64::from(gloas) {
                return reject("nonzero_data_index");
            }
            (a.committee_index, &a.signature.0)
        }
    };
    let committee = committee(&view, data, index)?;
    let per_slot = view.committees_per_slot(data.target.epoch);
    if subnet != Some(subnet_for_attestation(per_slot, data.slot, index)) {
        return reject("wrong_subnet");
    }
    if data.target.epoch != spec::epoch_at(data.slot) {
        return reject("target_epoch_mismatch");
    }
    let attester = match a {
        Attestation::Phase0(a) => {
            let bits: Vec<bool> = a.aggregation_bits.iter().by_vals().collect();
            if bits.iter().filter(|b| **b).count() != 1 {
                return reject("not_one_bit");
            }
            if bits.len() != committee.len() {
                return reject("bits_length_not_committee_size");
            }
            let Some(attester) = bits
                .iter()
                .position(|b| *b)
                .and_then(|i| committee.get(i))
                .copied()
            else {
                return reject("not_one_bit");
            };
            let seen = r
                .seen_attesters
                .lock()
                .map(|s| s.contains(&(data.target.epoch, attester)))
                .unwrap_or(false);
            if seen {
                return ignore("attester_seen");
            }
            attester
        }
        Attestation::Electra(a) => {
            if !committee.contains(&a.attester_index) {
                return reject("attester_not_in_committee");
            }
            a.attester_index
        }
    };
    if !super::ops::valid_indexed_attestation(r, &[attester], data, signature) {
        return reject("bad_attestation_signature");
    }
    voted_block(r, data)?;
    payload_status(r, data)?;
    // Recorded only once Pheme records the message (`StatefulValidator::recorded`): an
    // ACCEPT here may still become an IGNORE.
    Ok(matches!(a, Attestation::Phase0(_)).then_some((data.target.epoch, attester)))
}

/// `is_aggregator(state, slot, index, slot_signature)` for a committee of `len` members.
fn is_aggregator(len: usize, selection_proof: &[u8]) -> bool {
    let modulo = (len as u64 / spec::TARGET_AGGREGATORS_PER_COMMITTEE).max(1);
    let h = spec::hash(&[selection_proof]);
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    u64::from_le_bytes(first) % modulo == 0
}

/// `validate_beacon_aggregate_and_proof_gossip` (deneb and electra): the stateful checks.
pub(super) fn aggregate(r: &ReferenceValidator, s: &SignedAggregate) -> Result<(), Check> {
    let (aggregator, data, bits, selection_proof, signature, aggregate_signature, message_root) =
        match s {
            SignedAggregate::Phase0(s) => (
                s.message.aggregator_index,
                &s.message.aggregate.data,
                s.message
                    .aggregate
                    .aggregation_bits
                    .iter()
                    .by_vals()
                    .collect::<Vec<bool>>(),
                &s.message.selection_proof.0,
                &s.signature.0,
                &s.message.aggregate.signature.0,
                spec::root_of(&s.message),
            ),
            SignedAggregate::Electra(s) => (
                s.message.aggregator_index,
                &s.message.aggregate.data,
                s.message
                    .aggregate
                    .aggregation_bits
                    .iter()
                    .by_vals()
                    .collect::<Vec<bool>>(),
                &s.message.selection_proof.0,
                &s.signature.0,
                &s.message.aggregate.signature.0,
                spec::root_of(&s.message),
            ),
            SignedAggregate::Gloas(s) => (
                s.message.aggregator_index,
                &s.message.aggregate.data,
                s.message.aggregate.aggregation_bits.iter().collect(),
                &s.message.selection_proof.0,
                &s.signature.0,
                &s.message.aggregate.signature.0,
                spec::root_of(&s.message),
            ),
        };
    let index = match s {
        SignedAggregate::Phase0(_) => data.index,
        SignedAggregate::Electra(s) => {
            if data.index != 0 {
                return reject("nonzero_data_index");
            }
            one_committee(s.message.aggregate.committee_bits.iter().by_vals())?
        }
        // Gloas: `data.index` is the payload status, 0 or 1.
        SignedAggregate::Gloas(s) => {
            if data.index > 1 {
                return reject("data_index_above_one");
            }
            one_committee(s.message.aggregate.committee_bits.iter().by_vals())?
        }
    };
    let view = r.view(spec::epoch_at(data.slot), data.beacon_block_root.0);
    let committee = committee(&view, data, index)?;
    if data.target.epoch != spec::epoch_at(data.slot) {
        return reject("target_epoch_mismatch");
    }
    if bits.len() != committee.len() {
        return reject("bits_length_not_committee_size");
    }
    let mut attesters: Vec<u64> = committee
        .iter()
        .zip(&bits)
        .filter(|(_, b)| **b)
        .map(|(i, _)| *i)
        .collect();
    attesters.sort_unstable();
    attesters.dedup();
    if attesters.is_empty() {
        return reject("no_participants");
    }
    if !is_aggregator(committee.len(), selection_proof) {
        return reject("not_aggregator");
    }
    if !committee.contains(&aggregator) {
        return reject("aggregator_not_in_committee");
    }
    let Some(v) = usize::try_from(aggregator)
        .ok()
        .and_then(|i| r.anchor.validators.get(i))
    else {
        return reject("aggregator_not_in_committee");
    };
    let epoch = data.target.epoch;
    let domain = r.domains.get(spec::DOMAIN_SELECTION_PROOF, epoch);
    let root = spec::signing_root(spec::u64_root(data.slot), domain);
    if !spec::bls_verify(&v.pubkey.0, &root, selection_proof) {
        return reject("bad_selection_proof");
    }
    let Some(message_root) = message_root else {
        return reject("unhashable");
    };
    let domain = r.domains.get(spec::DOMAIN_AGGREGATE_AND_PROOF, epoch);
    if !spec::bls_verify(
        &v.pubkey.0,
        &spec::signing_root(message_root, domain),
        signature,
    ) {
        return reject("bad_aggregator_signature");
    }
    if !super::ops::valid_indexed_attestation(r, &attesters, data, aggregate_signature) {
        return reject("bad_aggregate_signature");
    }
    voted_block(r, data)?;
    payload_status(r, data)
}

/// The one committee `committee_bits` names (electra and later aggregates).
fn one_committee(bits: impl Iterator<Item = bool>) -> Result<u64, Check> {
    let set: Vec<u64> = (0u64..)
        .zip(bits)
        .filter(|(_, b)| *b)
        .map(|(i, _)| i)
        .collect();
    match set[..] {
        [index] => Ok(index),
        _ => reject("not_one_committee_bit"),
    }
}

/// Gloas `verify_attestation_payload_status`: a same-slot vote attests index 0; an index-1
/// vote needs the block's payload envelope seen and verified, and its payload valid. Nothing
/// before gloas.
fn payload_status(r: &ReferenceValidator, data: &AttestationData) -> Result<(), Check> {
    if r.anchor.gloas.is_none() {
        return Ok(());
    }
    let Some(block) = r.blocks.get(&data.beacon_block_root.0) else {
        return ignore("voted_block_unknown");
    };
    if block.slot == data.slot && data.index != 0 {
        return reject("same_slot_payload_present");
    }
    if data.index != 1 {
        return Ok(());
    }
    if !block.payload_verified {
        return ignore("payload_envelope_unseen");
    }
    match block.payload_status {
        PayloadStatus::NotValidated => ignore("payload_optimistic"),
        PayloadStatus::Invalidated => reject("payload_invalid"),
        PayloadStatus::Valid => Ok(()),
    }
}

/// The sync committee's subcommittee size.
const SUBCOMMITTEE_SIZE: usize = 32 / spec::SYNC_COMMITTEE_SUBNET_COUNT as usize;

/// `validate_sync_committee_message_gossip`: the stateful checks.
pub(super) fn sync_message(
    r: &ReferenceValidator,
    m: &SyncCommitteeMessage,
    subnet: Option<u64>,
) -> Result<(), Check> {
    let Some(v) = usize::try_from(m.validator_index)
        .ok()
        .and_then(|i| r.anchor.validators.get(i))
    else {
        return reject("validator_index_out_of_range");
    };
    let view = r.view(spec::epoch_at(m.slot), r.anchor_root);
    let Some(committee) = view.sync_committee(m.slot) else {
        return Err(Check::Undecided);
    };
    let subnets: Vec<u64> = (0u64..)
        .zip(committee)
        .filter(|(_, p)| **p == v.pubkey.0)
        .map(|(i, _)| i / SUBCOMMITTEE_SIZE as u64)
        .collect();
    if !subnet.is_some_and(|s| subnets.contains(&s)) {
        return reject("wrong_sync_subnet");
    }
    let domain = r
        .domains
        .get(spec::DOMAIN_SYNC_COMMITTEE, spec::epoch_at(m.slot));
    let root = spec::signing_root(m.beacon_block_root.0, domain);
    if !spec::bls_verify(&v.pubkey.0, &root, &m.signature.0) {
        return reject("bad_sync_signature");
    }
    Ok(())
}

/// `validate_sync_committee_contribution_and_proof_gossip`: the stateful checks.
pub(super) fn contribution(
    r: &ReferenceValidator,
    s: &SignedContributionAndProof,
) -> Result<(), Check> {
    let cp = &s.message;
    let c = &cp.contribution;
    let Some(v) = usize::try_from(cp.aggregator_index)
        .ok()
        .and_then(|i| r.anchor.validators.get(i))
    else {
        return reject("aggregator_index_out_of_range");
    };
    let view = r.view(spec::epoch_at(c.slot), r.anchor_root);
    let Some(committee) = view.sync_committee(c.slot) else {
        return Err(Check::Undecided);
    };
    let Some(sub) = usize::try_from(c.subcommittee_index)
        .ok()
        .and_then(|i| committee.get(i * SUBCOMMITTEE_SIZE..(i + 1) * SUBCOMMITTEE_SIZE))
    else {
        return reject("subcommittee_index_out_of_range");
    };
    if !sub.contains(&v.pubkey.0) {
        return reject("aggregator_not_in_subcommittee");
    }
    let epoch = spec::epoch_at(c.slot);
    let selection = SyncAggregatorSelectionData {
        slot: c.slot,
        subcommittee_index: c.subcommittee_index,
    };
    let (Some(selection_root), Some(message_root)) = (spec::root_of(&selection), spec::root_of(cp))
    else {
        return reject("unhashable");
    };
    let domain = r
        .domains
        .get(spec::DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF, epoch);
    let root = spec::signing_root(selection_root, domain);
    if !spec::bls_verify(&v.pubkey.0, &root, &cp.selection_proof.0) {
        return reject("bad_selection_proof");
    }
    let domain = r.domains.get(spec::DOMAIN_CONTRIBUTION_AND_PROOF, epoch);
    if !spec::bls_verify(
        &v.pubkey.0,
        &spec::signing_root(message_root, domain),
        &s.signature.0,
    ) {
        return reject("bad_aggregator_signature");
    }
    let participants: Vec<&[u8]> = sub
        .iter()
        .zip(c.aggregation_bits.iter().by_vals())
        .filter(|(_, b)| *b)
        .map(|(p, _)| p.as_slice())
        .collect();
    if participants.is_empty() {
        return reject("no_participants");
    }
    let domain = r.domains.get(spec::DOMAIN_SYNC_COMMITTEE, epoch);
    let root = spec::signing_root(c.beacon_block_root.0, domain);
    if !spec::bls_fast_aggregate_verify(&participants, &root, &c.signature.0) {
        return reject("bad_aggregate_signature");
    }
    Ok(())
}

/// What the block and blob sidecar checks read of a block or a sidecar's header.
pub(super) struct Proposal<'a> {
    /// `slot`.
    pub slot: u64,
    /// `proposer_index`.
    pub proposer_index: u64,
    /// `parent_root`.
    pub parent_root: [u8; 32],
    /// `hash_tree_root` of the block (equal to its header's).
    pub root: Option<[u8; 32]>,
    /// The proposer's signature.
    pub signature: &'a [u8],
}

/// The checks blocks and blob sidecars share up to the parent: finalized slot, proposer index
/// and signature, parent seen.
pub(super) fn proposal_signature(r: &ReferenceValidator, p: &Proposal<'_>) -> Result<(), Check> {
    if p.slot <= spec::start_slot(r.finalized.0) {
        return ignore("not_after_finalized_slot");
    }
    let Some(v) = usize::try_from(p.proposer_index)
        .ok()
        .and_then(|i| r.anchor.validators.get(i))
    else {
        return reject("proposer_index_out_of_range");
    };
    let Some(root) = p.root else {
        return reject("unhashable");
    };
    let domain = r
        .domains
        .get(spec::DOMAIN_BEACON_PROPOSER, spec::epoch_at(p.slot));
    if !spec::bls_verify(&v.pubkey.0, &spec::signing_root(root, domain), p.signature) {
        return reject("bad_proposer_signature");
    }
    Ok(())
}

/// The expected proposer check: the parent's state advanced to the slot.
pub(super) fn expected_proposer(r: &ReferenceValidator, p: &Proposal<'_>) -> Result<(), Check> {
    let view = r.view(spec::epoch_at(p.slot), p.parent_root);
    match view.proposer(p.slot) {
        Some(expected) if expected == p.proposer_index => Ok(()),
        Some(_) => reject("wrong_proposer"),
        None => Err(Check::Undecided),
    }
}

/// `validate_beacon_block_gossip` (deneb and electra): the stateful checks.
pub(super) fn block(r: &ReferenceValidator, p: &Proposal<'_>) -> Result<(), Check> {
    proposal_signature(r, p)?;
    let Some(parent) = r.blocks.get(&p.parent_root) else {
        return ignore("parent_unknown");
    };
    let status = parent.payload_status;
    if !parent.imported {
        return match status {
            PayloadStatus::NotValidated => reject("parent_failed_optimistic"),
            _ => ignore("parent_failed_payload_processed"),
        };
    }
    if status == PayloadStatus::Invalidated {
        return ignore("parent_payload_invalid");
    }
    if p.slot <= parent.slot {
        return reject("slot_not_after_parent");
    }
    if !r.finalized_is_ancestor(p.parent_root) {
        return reject("finalized_not_ancestor");
    }
    expected_proposer(r, p)
}

/// The header a blob sidecar carries, as a [`Proposal`].
pub(super) fn sidecar_proposal<'a>(h: &BeaconBlockHeader, signature: &'a [u8]) -> Proposal<'a> {
    Proposal {
        slot: h.slot,
        proposer_index: h.proposer_index,
        parent_root: h.parent_root.0,
        root: spec::root_of(h),
        signature,
    }
}

/// `validate_blob_sidecar_gossip` (deneb and electra): the stateful checks.
pub(super) fn blob_sidecar(r: &ReferenceValidator, s: &BlobSidecar) -> Result<(), Check> {
    signed_header(r, &s.signed_block_header)
}

/// The stateful checks of a sidecar's signed block header: blob sidecars', and the header of
/// Fulu's partial columns (`validate_partial_data_column_sidecar_gossip`), which the spec
/// checks the same way.
pub(super) fn signed_header(
    r: &ReferenceValidator,
    header: &SignedBeaconBlockHeader,
) -> Result<(), Check> {
    let p = sidecar_proposal(&header.message, &header.signature.0);
    proposal_signature(r, &p)?;
    let Some(parent) = r.blocks.get(&p.parent_root) else {
        return ignore("parent_unknown");
    };
    if !parent.imported {
        return reject("parent_failed");
    }
    if p.slot <= parent.slot {
        return reject("slot_not_after_parent");
    }
    if !r.finalized_is_ancestor(p.parent_root) {
        return reject("finalized_not_ancestor");
    }
    expected_proposer(r, &p)
}
