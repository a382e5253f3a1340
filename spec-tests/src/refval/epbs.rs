//! The stateful checks of Gloas (EIP-7732) gossip, gloas `p2p-interface.md`: beacon blocks
//! (the bid's parent, the parent's payload), data column sidecars (their block's bid), execution
//! payload envelopes and bids (builders), payload attestations (the PTC window) and proposer
//! preferences (the proposer lookahead), over the Gloas anchor state and the case's blocks.
//!
//! Fork choice's head is needed by two checks (`is_valid_dependent_root`,
//! `is_bid_compatible_with_head`); without attestations or PTC votes in the store it is taken
//! as the one imported leaf (FULL when its payload is verified), and where there is more than
//! one leaf the check cannot decide.

use pheme_gossip::KzgCheck;
use pheme_types::gloas::BUILDER_INDEX_SELF_BUILD;
use pheme_types::minimal::gloas::{
    DataColumnSidecar, PayloadAttestationMessage, SignedExecutionPayloadEnvelope,
    SignedProposerPreferences,
};

use super::checks::{Proposal, expected_proposer, proposal_signature};
use super::gloas_state::GloasAnchor;
use super::spec::{self, MIN_SEED_LOOKAHEAD};
use super::{Check, ReferenceValidator, ignore, reject};

/// `DOMAIN_BEACON_BUILDER`.
const DOMAIN_BEACON_BUILDER: [u8; 4] = [11, 0, 0, 0];
/// `DOMAIN_PTC_ATTESTER`.
const DOMAIN_PTC_ATTESTER: [u8; 4] = [12, 0, 0, 0];
/// `DOMAIN_PROPOSER_PREFERENCES`.
const DOMAIN_PROPOSER_PREFERENCES: [u8; 4] = [13, 0, 0, 0];
/// `MIN_DEPOSIT_AMOUNT`.
const MIN_DEPOSIT_AMOUNT: u64 = 1_000_000_000;
/// `PAYLOAD_BUILDER_VERSION`.
const PAYLOAD_BUILDER_VERSION: u8 = 0;
/// `NUMBER_OF_COLUMNS`.
const NUMBER_OF_COLUMNS: u64 = 128;

/// `(dependent_root, proposal_slot)`: what proposer preferences are seen under.
pub(super) type PreferencesKey = ([u8; 32], u64);
/// `(fee_recipient, target_gas_limit)`: what a bid reads of seen proposer preferences.
pub(super) type PreferencesValue = ([u8; 20], u64);

/// What an accepted message adds to the node's `seen` (recorded once Pheme records it).
#[derive(Debug, Clone)]
pub(super) enum Seen {
    /// `seen.execution_payloads[block_hash]`: the payload's gas limit.
    Payload {
        /// `payload.block_hash`.
        block_hash: [u8; 32],
        /// `payload.gas_limit`.
        gas_limit: u64,
    },
    /// `seen.proposer_preferences[(dependent_root, proposal_slot)]`.
    Preferences {
        /// `(dependent_root, proposal_slot)`.
        key: PreferencesKey,
        /// `(fee_recipient, target_gas_limit)`.
        value: PreferencesValue,
    },
}

/// The Gloas parts of the anchor state (`Undecided` if the case's state is not Gloas's).
fn gloas(r: &ReferenceValidator) -> Result<&GloasAnchor, Check> {
    r.anchor.gloas.as_ref().ok_or(Check::Undecided)
}

/// A validator's pubkey, `None` out of range.
fn validator_pubkey(r: &ReferenceValidator, index: u64) -> Option<&[u8]> {
    let v = r.anchor.validators.get(usize::try_from(index).ok()?)?;
    Some(v.pubkey.0.as_slice())
}

/// `bls.Verify(pubkey, compute_signing_root(object, get_domain(state, domain, epoch)), sig)`.
fn signed(
    r: &ReferenceValidator,
    pubkey: &[u8],
    object_root: Option<[u8; 32]>,
    domain: [u8; 4],
    epoch: u64,
    signature: &[u8],
) -> bool {
    object_root.is_some_and(|root| {
        let signing_root = spec::signing_root(root, r.domains.get(domain, epoch));
        spec::bls_verify(pubkey, &signing_root, signature)
    })
}

/// The head, if the store's imported blocks end in a single leaf.
fn single_leaf(r: &ReferenceValidator) -> Option<[u8; 32]> {
    let mut leaves = r
        .blocks
        .iter()
        .filter(|(root, b)| {
            b.imported
                && !r
                    .blocks
                    .values()
                    .any(|c| c.imported && c.parent_root == **root)
        })
        .map(|(root, _)| *root);
    let leaf = leaves.next()?;
    leaves.next().is_none().then_some(leaf)
}

/// What the Gloas block checks read of a gloas or heze block.
pub(super) struct BlockParts<'a> {
    /// The proposal: slot, proposer, parent, root, signature.
    pub proposal: Proposal<'a>,
    /// `bid.parent_block_root`.
    pub bid_parent_root: [u8; 32],
    /// `bid.parent_block_hash`.
    pub bid_parent_hash: [u8; 32],
}

/// The [`BlockParts`] of a gloas or heze `SignedBeaconBlock`.
macro_rules! block_parts {
    ($b:expr) => {{
        let b = $b;
        let bid = &b.message.body.signed_execution_payload_bid.message;
        $crate::refval::epbs::BlockParts {
            proposal: $crate::refval::checks::Proposal {
                slot: b.message.slot,
                proposer_index: b.message.proposer_index,
                parent_root: b.message.parent_root.0,
                root: $crate::refval::spec::root_of(&b.message),
                signature: &b.signature.0,
            },
            bid_parent_root: bid.parent_block_root.0,
            bid_parent_hash: bid.parent_block_hash.0,
        }
    }};
}
pub(super) use block_parts;

/// `validate_beacon_block_gossip` (gloas): the stateful checks.
pub(super) fn block(r: &ReferenceValidator, parts: &BlockParts<'_>) -> Result<(), Check> {
    let g = gloas(r)?;
    let p = &parts.proposal;
    proposal_signature(r, p)?;
    let Some(parent) = r.blocks.get(&p.parent_root) else {
        return ignore("parent_unknown");
    };
    // `is_parent_node_full`: the bid builds on the parent's payload.
    let full = parent
        .bid
        .as_ref()
        .is_some_and(|pb| pb.block_hash == parts.bid_parent_hash);
    if full && !parent.payload_verified {
        return ignore("parent_payload_unverified");
    }
    if p.slot <= parent.slot {
        return reject("slot_not_after_parent");
    }
    if !r.finalized_is_ancestor(p.parent_root) {
        return reject("finalized_not_ancestor");
    }
    if parts.bid_parent_root != p.parent_root {
        return reject("bid_parent_root_mismatch");
    }
    if !parent.imported {
        return reject("parent_failed");
    }
    expected_proposer(r, p)?;
    if !full {
        // The parent's post-state's `latest_block_hash`: the execution head the parent built
        // on (a block does not move it, its payload does); the anchor state's own for the
        // anchor.
        let parent_head = if p.parent_root == r.anchor_root {
            Some(g.latest_block_hash)
        } else {
            parent.bid.as_ref().map(|pb| pb.parent_block_hash)
        };
        if parent_head != Some(parts.bid_parent_hash) {
            return reject("bid_not_on_parent_execution_head");
        }
    }
    Ok(())
}

/// `validate_data_column_sidecar_gossip` (gloas): the stateful checks.
pub(super) fn column(r: &ReferenceValidator, c: &DataColumnSidecar) -> Result<(), Check> {
    let Some(block) = r.blocks.get(&c.beacon_block_root.0) else {
        return ignore("block_unknown");
    };
    if !block.imported {
        return reject("block_failed");
    }
    if c.slot != block.slot {
        return reject("slot_mismatch");
    }
    let Some(bid) = &block.bid else {
        return Err(Check::Undecided);
    };
    // `verify_data_column_sidecar` with the bid's commitments.
    let n = c.column.len();
    if c.index >= NUMBER_OF_COLUMNS
        || n == 0
        || n != bid.commitments.len()
        || n != c.kzg_proofs.len()
    {
        return reject("invalid_sidecar");
    }
    let check = KzgCheck::Cells {
        column: c.index,
        commitments: bid.commitments.clone(),
        cells: c.column.iter().map(|cell| cell.0.to_vec()).collect(),
        proofs: c.kzg_proofs.iter().map(|p| p.0).collect(),
    };
    if !pheme_gossip::kzg_proofs_valid(&check) {
        return reject("invalid_kzg_proofs");
    }
    Ok(())
}

/// `validate_execution_payload_envelope_gossip`: the stateful checks.
pub(super) fn envelope(
    r: &ReferenceValidator,
    s: &SignedExecutionPayloadEnvelope,
) -> Result<Seen, Check> {
    let g = gloas(r)?;
    let e = &s.message;
    let Some(block) = r.blocks.get(&e.beacon_block_root.0) else {
        return ignore("envelope_block_unknown");
    };
    if !block.imported {
        return reject("envelope_block_failed");
    }
    if e.payload.slot_number < spec::start_slot(r.finalized.0) {
        return ignore("before_finalized_slot");
    }
    let Some(bid) = &block.bid else {
        return Err(Check::Undecided);
    };
    if block.slot != e.payload.slot_number {
        return reject("slot_mismatch");
    }
    if e.builder_index != bid.builder_index {
        return reject("builder_mismatch");
    }
    if e.payload.block_hash.0 != bid.block_hash {
        return reject("block_hash_mismatch");
    }
    if spec::root_of(&e.execution_requests) != Some(bid.execution_requests_root) {
        return reject("requests_root_mismatch");
    }
    // `verify_execution_payload_envelope_signature` over the block's post-state, whose
    // `latest_block_header.proposer_index` is the block's proposer.
    let pubkey = if e.builder_index == BUILDER_INDEX_SELF_BUILD {
        validator_pubkey(r, block.proposer_index)
    } else {
        usize::try_from(e.builder_index)
            .ok()
            .and_then(|i| g.builders.get(i))
            .map(|b| b.pubkey.0.as_slice())
    };
    let epoch = spec::epoch_at(block.slot);
    let valid = pubkey.is_some_and(|pk| {
        signed(
            r,
            pk,
            spec::root_of(e),
            DOMAIN_BEACON_BUILDER,
            epoch,
            &s.signature.0,
        )
    });
    if !valid {
        return reject("bad_envelope_signature");
    }
    Ok(Seen::Payload {
        block_hash: e.payload.block_hash.0,
        gas_limit: e.payload.gas_limit,
    })
}

/// `get_ptc(state, slot)` from the anchor state's PTC window.
fn ptc<'a>(r: &ReferenceValidator, g: &'a GloasAnchor, slot: u64) -> Option<&'a [u64]> {
    let state_epoch = spec::epoch_at(r.anchor.slot);
    let epoch = spec::epoch_at(slot);
    let in_epoch = slot % spec::SLOTS_PER_EPOCH;
    let index = if epoch < state_epoch {
        (epoch + 1 == state_epoch).then_some(in_epoch)?
    } else if epoch <= state_epoch + MIN_SEED_LOOKAHEAD {
        (epoch - state_epoch + 1) * spec::SLOTS_PER_EPOCH + in_epoch
    } else {
        return None;
    };
    g.ptc_window
        .get(usize::try_from(index).ok()?)
        .map(Vec::as_slice)
}

/// `validate_payload_attestation_message_gossip`: the stateful checks.
pub(super) fn payload_attestation(
    r: &ReferenceValidator,
    m: &PayloadAttestationMessage,
) -> Result<(), Check> {
    let g = gloas(r)?;
    let Some(block) = r.blocks.get(&m.data.beacon_block_root.0) else {
        return ignore("block_unknown");
    };
    if !block.imported {
        return reject("block_failed");
    }
    if block.slot != m.data.slot {
        return ignore("block_not_at_slot");
    }
    let Some(pubkey) = validator_pubkey(r, m.validator_index) else {
        return reject("validator_index_out_of_range");
    };
    let Some(committee) = ptc(r, g, m.data.slot) else {
        return Err(Check::Undecided);
    };
    if !committee.contains(&m.validator_index) {
        return reject("not_in_ptc");
    }
    let epoch = spec::epoch_at(m.data.slot);
    if !signed(
        r,
        pubkey,
        spec::root_of(&m.data),
        DOMAIN_PTC_ATTESTER,
        epoch,
        &m.signature.0,
    ) {
        return reject("bad_payload_attestation_signature");
    }
    Ok(())
}

/// `is_valid_dependent_root(store, root, epoch)`.
fn valid_dependent_root(r: &ReferenceValidator, root: [u8; 32], epoch: u64) -> Result<bool, Check> {
    let start = spec::start_slot(epoch);
    if r.blocks
        .values()
        .any(|b| b.parent_root == root && b.slot >= start)
    {
        return Ok(true);
    }
    Ok(single_leaf(r).ok_or(Check::Undecided)? == root)
}

/// `validate_proposer_preferences_gossip`: the stateful checks.
pub(super) fn preferences(
    r: &ReferenceValidator,
    s: &SignedProposerPreferences,
) -> Result<Seen, Check> {
    let p = &s.message;
    let dependent = p.dependent_root.0;
    let proposal_epoch = spec::epoch_at(p.proposal_slot);
    let lookahead_epoch = proposal_epoch.saturating_sub(MIN_SEED_LOOKAHEAD);
    let Some(block) = r.blocks.get(&dependent) else {
        return ignore("dependent_block_unknown");
    };
    if !block.imported {
        return ignore("dependent_block_failed");
    }
    if block.slot >= spec::start_slot(lookahead_epoch) {
        return reject("dependent_root_in_lookahead_epoch");
    }
    if !valid_dependent_root(r, dependent, lookahead_epoch)? {
        return ignore("not_a_dependent_root");
    }
    // The dependent block's state advanced to the lookahead epoch: its `proposer_lookahead`
    // names the proposal slot's proposer.
    let view = r.view(proposal_epoch, dependent);
    match view.proposer(p.proposal_slot) {
        Some(proposer) if proposer == p.validator_index => {}
        Some(_) => return reject("not_the_proposer"),
        None => return Err(Check::Undecided),
    }
    let Some(pubkey) = validator_pubkey(r, p.validator_index) else {
        return reject("not_the_proposer");
    };
    if !signed(
        r,
        pubkey,
        spec::root_of(p),
        DOMAIN_PROPOSER_PREFERENCES,
        proposal_epoch,
        &s.signature.0,
    ) {
        return reject("bad_preferences_signature");
    }
    Ok(Seen::Preferences {
        key: (dependent, p.proposal_slot),
        value: (p.fee_recipient.0, p.target_gas_limit),
    })
}

/// `is_gas_limit_target_compatible`.
fn gas_limit_compatible(parent: u64, gas_limit: u64, target: u64) -> bool {
    let max_difference = (parent / 1024).max(1) - 1;
    let min = parent - max_difference;
    let max = parent.saturating_add(max_difference);
    if target < min {
        gas_limit == min
    } else if target > max {
        gas_limit == max
    } else {
        gas_limit == target
    }
}

/// `is_bid_compatible_with_head`, where the single-leaf head decides it.
fn compatible_with_head(
    r: &ReferenceValidator,
    parent_root: [u8; 32],
    parent_hash: [u8; 32],
) -> Result<bool, Check> {
    let head_root = single_leaf(r).ok_or(Check::Undecided)?;
    let head = r.blocks.get(&head_root).ok_or(Check::Undecided)?;
    let head_bid = head.bid.as_ref().ok_or(Check::Undecided)?;
    let on_parent_payload = parent_hash == head_bid.parent_block_hash;
    if parent_root == head.parent_root && on_parent_payload {
        return Ok(true);
    }
    if parent_root != head_root {
        return Ok(false);
    }
    let on_head_payload = parent_hash == head_bid.block_hash;
    // `should_build_on_full(store, head, slot)`. With no PTC votes in the store (the cases
    // carry none: every `payload_timeliness_vote` is `None`) and no proposer boost, fork
    // choice picks the head's FULL node exactly when its payload is verified (the payload
    // status tiebreaker, `should_extend_payload`), and neither `payload_timeliness(timely=False)`
    // nor `payload_data_availability(available=False)` holds for a verified payload: so it is
    // whether the head's payload is verified.
    if head.payload_verified {
        Ok(on_head_payload)
    } else {
        Ok(on_parent_payload)
    }
}

/// What the bid checks read of a gloas or heze `SignedExecutionPayloadBid`.
pub(super) struct BidParts<'a> {
    /// `slot`.
    pub slot: u64,
    /// `parent_block_root`.
    pub parent_block_root: [u8; 32],
    /// `parent_block_hash`.
    pub parent_block_hash: [u8; 32],
    /// `fee_recipient`.
    pub fee_recipient: [u8; 20],
    /// `gas_limit`.
    pub gas_limit: u64,
    /// `prev_randao`.
    pub prev_randao: [u8; 32],
    /// `builder_index`.
    pub builder_index: u64,
    /// `value`.
    pub value: u64,
    /// `hash_tree_root(bid)`.
    pub root: Option<[u8; 32]>,
    /// The builder's signature.
    pub signature: &'a [u8],
}

/// The [`BidParts`] of a gloas or heze `SignedExecutionPayloadBid`.
macro_rules! bid_parts {
    ($s:expr) => {{
        let s = $s;
        let b = &s.message;
        $crate::refval::epbs::BidParts {
            slot: b.slot,
            parent_block_root: b.parent_block_root.0,
            parent_block_hash: b.parent_block_hash.0,
            fee_recipient: b.fee_recipient.0,
            gas_limit: b.gas_limit,
            prev_randao: b.prev_randao.0,
            builder_index: b.builder_index,
            value: b.value,
            root: $crate::refval::spec::root_of(b),
            signature: &s.signature.0,
        }
    }};
}
pub(super) use bid_parts;

/// `validate_execution_payload_bid_gossip`: the stateful checks, with the parent block's
/// post-state for `state` (the anchor state's builders and RANDAO).
pub(super) fn bid(
    r: &ReferenceValidator,
    b: &BidParts<'_>,
    seen_preferences: Option<PreferencesValue>,
    seen_parent_gas_limit: Option<u64>,
) -> Result<(), Check> {
    let g = gloas(r)?;
    let parent_root = b.parent_block_root;
    let Some(parent) = r.blocks.get(&parent_root) else {
        return ignore("parent_unknown");
    };
    if b.slot <= parent.slot {
        return reject("slot_not_after_parent");
    }
    let proposal_epoch = spec::epoch_at(b.slot);
    let state_epoch = spec::epoch_at(parent.slot);
    if proposal_epoch > state_epoch + MIN_SEED_LOOKAHEAD {
        return ignore("past_parent_lookahead");
    }
    let Some((fee_recipient, target_gas_limit)) = seen_preferences else {
        return ignore("preferences_unseen");
    };
    if b.fee_recipient != fee_recipient {
        return ignore("fee_recipient_mismatch");
    }
    let Some(parent_gas_limit) = seen_parent_gas_limit else {
        return ignore("parent_payload_unseen");
    };
    if !gas_limit_compatible(parent_gas_limit, b.gas_limit, target_gas_limit) {
        return ignore("gas_limit_incompatible");
    }
    if !compatible_with_head(r, parent_root, b.parent_block_hash)? {
        return ignore("not_on_head");
    }
    if b.prev_randao != r.view(state_epoch, parent_root).mix(state_epoch) {
        return reject("wrong_prev_randao");
    }
    let Some(builder) = usize::try_from(b.builder_index)
        .ok()
        .and_then(|i| g.builders.get(i))
    else {
        return reject("builder_index_out_of_range");
    };
    let pending = g
        .pending_withdrawals
        .get(&b.builder_index)
        .copied()
        .unwrap_or(0);
    let covers = builder
        .balance
        .checked_sub(MIN_DEPOSIT_AMOUNT.saturating_add(pending))
        .is_some_and(|spare| spare >= b.value);
    if !covers {
        return ignore("builder_cannot_cover");
    }
    // `is_active_builder` reads the state's finalized checkpoint: the parent's post-state is
    // at least as final as the anchor state and the store (the case's checkpoint). A parent in
    // a later epoch than the anchor may have finalized more through epoch processing, which
    // is not modelled: then an inactive-looking builder is undecided.
    let finalized_epoch = g.finalized_epoch.max(r.finalized.0);
    if builder.withdrawable_epoch != u64::MAX {
        return reject("builder_inactive");
    }
    if builder.deposit_epoch >= finalized_epoch {
        return if state_epoch > spec::epoch_at(r.anchor.slot) {
            Err(Check::Undecided)
        } else {
            reject("builder_inactive")
        };
    }
    if builder.version != PAYLOAD_BUILDER_VERSION {
        return reject("not_a_payload_builder");
    }
    if !signed(
        r,
        &builder.pubkey.0,
        b.root,
        DOMAIN_BEACON_BUILDER,
        proposal_epoch,
        b.signature,
    ) {
        return reject("bad_bid_signature");
    }
    Ok(())
}

/// The `(dependent_root, slot)` key of a bid's proposer preferences
/// (`get_shuffling_dependent_root(store, bid.parent_block_root, proposal_epoch)`), `None` when a
/// block on the way is unknown.
pub(super) fn bid_preferences_key(
    r: &ReferenceValidator,
    b: &BidParts<'_>,
) -> Option<PreferencesKey> {
    let epoch = spec::epoch_at(b.slot);
    let dependent_slot = if epoch <= MIN_SEED_LOOKAHEAD {
        0
    } else {
        spec::start_slot(epoch - MIN_SEED_LOOKAHEAD) - 1
    };
    let root = r.ancestor(b.parent_block_root, dependent_slot)?;
    Some((root, b.slot))
}
