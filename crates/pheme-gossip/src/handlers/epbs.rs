//! Gloas's topics (EIP-7732, ePBS): `execution_payload_bid`, `execution_payload`,
//! `payload_attestation_message`, `proposer_preferences`, gloas's `data_column_sidecar`; and
//! Heze's `inclusion_list` (EIP-7805). Only the checks that need no beacon state or fork choice
//! run here (the gloas and heze `p2p-interface.md`, in their order); the rest is the embedder's
//! `StatefulValidator`.

use pheme_types::gloas::{PayloadAttestationMessage, SignedProposerPreferences};

use crate::context::CheckContext;
use crate::seen::{SeenMap, SeenSet};
use crate::verdict::gossip_errors;

/// `MIN_SEED_LOOKAHEAD` (the same in every preset).
const MIN_SEED_LOOKAHEAD: u64 = 1;
/// `MAX_TRANSACTIONS_BYTES_PER_INCLUSION_LIST` (heze config).
pub const MAX_TRANSACTIONS_BYTES_PER_INCLUSION_LIST: usize = 8192;
/// How many inclusion lists per validator and slot are forwarded: "the first or second".
const INCLUSION_LISTS_PER_VALIDATOR: u8 = 2;

gossip_errors! {
    /// Why a Gloas or Heze message is not forwarded.
    pub enum EpbsError {
        #[error("slot {slot} is not the current slot")]
        NotCurrentSlot { slot: u64 } => Ignore, "not_current_slot",
        #[error("slot {slot} is neither the current nor the next slot")]
        NotCurrentOrNextSlot { slot: u64 } => Ignore, "not_current_or_next_slot",
        #[error("proposal slot {slot} has already started")]
        PastSlot { slot: u64 } => Ignore, "past_slot",
        #[error("the proposer of slot {slot} is not known yet")]
        ProposerUnknown { slot: u64 } => Ignore, "proposer_unknown",
        #[error("already seen for this key")]
        AlreadySeen => Ignore, "already_seen",
        #[error("bid value {value} is not above the best seen, {best}")]
        NotHighestBid { value: u64, best: u64 } => Ignore, "not_highest_bid",
        #[error("bid execution payment {payment}, must be zero")]
        NonZeroExecutionPayment { payment: u64 } => Reject, "nonzero_execution_payment",
        #[error("{count} blob commitments, at most {max} allowed")]
        TooManyBlobs { count: usize, max: u64 } => Reject, "too_many_blobs",
        #[error("{count} {what}, at most {max} allowed")]
        OverLimit { what: &'static str, count: usize, max: u64 } => Reject, "over_limit",
        #[error("sidecar index {index} out of range (< {max})")]
        IndexOutOfRange { index: u64, max: u64 } => Reject, "index_out_of_range",
        #[error("sidecar for subnet {expected} on subnet {got}")]
        WrongSubnet { got: u64, expected: u64 } => Reject, "wrong_subnet",
        #[error("malformed data column sidecar: {what}")]
        MalformedColumn { what: &'static str } => Reject, "malformed_column",
        #[error("slot {slot} has not started")]
        FutureSlot { slot: u64 } => Ignore, "future_slot",
        #[error("{bytes} bytes of transactions, at most {max}")]
        InclusionListTooLarge { bytes: usize, max: usize } => Reject, "inclusion_list_too_large",
        #[error("validator {validator} already sent two inclusion lists for slot {slot}")]
        InclusionListsSeen { slot: u64, validator: u64 } => Ignore, "inclusion_lists_seen",
    }
}

fn at_most(what: &'static str, count: usize, max: u64) -> Result<(), EpbsError> {
    if count as u64 > max {
        return Err(EpbsError::OverLimit { what, count, max });
    }
    Ok(())
}

/// `commit` and `prune` of a handler whose `seen` set holds the `(block root or dependent
/// root, index)` of each accepted message, by slot.
macro_rules! first_per_slot {
    ($handler:ident, $what:literal) => {
        impl $handler {
            #[doc = concat!("Records an accepted ", $what, ".")]
            pub fn commit(&mut self, (slot, key): (u64, ([u8; 32], u64))) {
                self.seen.insert(slot, key);
            }

            /// Forgets slots before `min_slot`.
            pub fn prune(&mut self, min_slot: u64) {
                self.seen.prune(min_slot);
            }
        }
    };
}

/// Counts of an `ExecutionRequests` (gloas), for `verify_execution_requests_limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestCounts {
    /// `len(withdrawals)`.
    pub withdrawals: usize,
    /// `len(consolidations)`.
    pub consolidations: usize,
    /// `len(builder_deposits)`.
    pub builder_deposits: usize,
    /// `len(builder_exits)`.
    pub builder_exits: usize,
}

impl From<&pheme_types::gloas::ExecutionRequests> for RequestCounts {
    fn from(r: &pheme_types::gloas::ExecutionRequests) -> Self {
        RequestCounts {
            withdrawals: r.withdrawals.len(),
            consolidations: r.consolidations.len(),
            builder_deposits: r.builder_deposits.len(),
            builder_exits: r.builder_exits.len(),
        }
    }
}

/// `verify_execution_requests_limits` (the preset's values, the same in every preset): the
/// first count over its limit, as `(what, count, limit)`.
pub fn request_over_limit(r: &RequestCounts) -> Option<(&'static str, usize, u64)> {
    [
        ("withdrawal requests", r.withdrawals, 16),
        ("consolidation requests", r.consolidations, 2),
        ("builder deposit requests", r.builder_deposits, 64),
        ("builder exit requests", r.builder_exits, 16),
    ]
    .into_iter()
    .find(|(_, count, max)| *count as u64 > *max)
}

/// [`request_over_limit`] as a REJECT.
fn check_request_limits(r: &RequestCounts) -> Result<(), EpbsError> {
    match request_over_limit(r) {
        Some((what, count, max)) => Err(EpbsError::OverLimit { what, count, max }),
        None => Ok(()),
    }
}

/// What a gloas block adds to [`crate::BlockView`]: the body's operation counts (its lists
/// are progressive, so no decoder bounds them), the parent's execution requests and the bid's
/// parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpbsBlockParts {
    /// `len` of proposer slashings, attester slashings, attestations, deposits, voluntary exits,
    /// BLS changes, payload attestations.
    pub operations: [usize; 7],
    /// `parent_execution_requests`.
    pub parent_requests: RequestCounts,
}

/// `verify_block_body_operation_limits` (the preset's values, the same in every preset): the
/// first count over its limit, as `(what, count, limit)`; deposits must be none.
pub fn operation_over_limit(p: &EpbsBlockParts) -> Option<(&'static str, usize, u64)> {
    let [
        proposer_slashings,
        attester_slashings,
        attestations,
        deposits,
        exits,
        bls,
        ptc,
    ] = p.operations;
    [
        ("proposer slashings", proposer_slashings, 16),
        ("attester slashings", attester_slashings, 1),
        ("attestations", attestations, 8),
        ("deposits", deposits, 0),
        ("voluntary exits", exits, 16),
        ("BLS changes", bls, 16),
        ("payload attestations", ptc, 4),
    ]
    .into_iter()
    .find(|(_, count, max)| *count as u64 > *max)
    .or_else(|| request_over_limit(&p.parent_requests))
}

/// The parts of a signed bid the checks read (gloas and heze).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidView {
    /// `slot`.
    pub slot: u64,
    /// `parent_block_hash`.
    pub parent_block_hash: [u8; 32],
    /// `parent_block_root`.
    pub parent_block_root: [u8; 32],
    /// `builder_index`.
    pub builder_index: u64,
    /// `value`.
    pub value: u64,
    /// `execution_payment`.
    pub execution_payment: u64,
    /// `len(blob_kzg_commitments)`.
    pub blob_commitments: usize,
}

macro_rules! bid_view {
    ($module:ident) => {
        impl From<&pheme_types::$module::SignedExecutionPayloadBid> for BidView {
            fn from(s: &pheme_types::$module::SignedExecutionPayloadBid) -> Self {
                let b = &s.message;
                BidView {
                    slot: b.slot,
                    parent_block_hash: b.parent_block_hash.0,
                    parent_block_root: b.parent_block_root.0,
                    builder_index: b.builder_index,
                    value: b.value,
                    execution_payment: b.execution_payment,
                    blob_commitments: b.blob_kzg_commitments.len(),
                }
            }
        }
    };
}
bid_view!(gloas);
bid_view!(heze);

/// `(slot, parent_block_hash, parent_block_root)`: the bids competing for one slot and parent.
type BidParent = (u64, [u8; 32], [u8; 32]);

/// The `execution_payload_bid` handler: current or next slot, first per builder and parent,
/// highest value per parent, no execution payment, the blob limit. The parent state, the
/// proposer's preferences, the builder's balance and signature need state.
#[derive(Debug, Default)]
pub struct BidHandler {
    seen: SeenSet<(BidParent, u64)>,
    best: SeenMap<BidParent, u64>,
}

/// What an accepted bid records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidSeen {
    parent: BidParent,
    builder: u64,
    value: u64,
}

impl BidHandler {
    /// The stateless checks.
    pub fn check(&self, b: &BidView, ctx: &CheckContext<'_>) -> Result<BidSeen, EpbsError> {
        if !ctx.clock.is_current_slot(b.slot) && !ctx.clock.is_current_slot(b.slot.wrapping_sub(1))
        {
            return Err(EpbsError::NotCurrentOrNextSlot { slot: b.slot });
        }
        let parent = (b.slot, b.parent_block_hash, b.parent_block_root);
        if self.seen.contains(b.slot, &(parent, b.builder_index)) {
            return Err(EpbsError::AlreadySeen);
        }
        if let Some(&best) = self.best.get(b.slot, &parent)
            && b.value <= best
        {
            return Err(EpbsError::NotHighestBid {
                value: b.value,
                best,
            });
        }
        if b.execution_payment != 0 {
            return Err(EpbsError::NonZeroExecutionPayment {
                payment: b.execution_payment,
            });
        }
        let chain = ctx.clock.chain();
        let max = chain
            .blob_parameters(chain.epoch_of(b.slot))
            .max_blobs_per_block;
        if b.blob_commitments as u64 > max {
            return Err(EpbsError::TooManyBlobs {
                count: b.blob_commitments,
                max,
            });
        }
        Ok(BidSeen {
            parent,
            builder: b.builder_index,
            value: b.value,
        })
    }

    /// Records an accepted bid and raises the best value of its parent.
    pub fn commit(&mut self, seen: BidSeen) {
        let slot = seen.parent.0;
        self.seen.insert(slot, (seen.parent, seen.builder));
        let best = self.best.get(slot, &seen.parent).copied().unwrap_or(0);
        self.best.insert(slot, seen.parent, best.max(seen.value));
    }

    /// Forgets slots before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.seen.prune(min_slot);
        self.best.prune(min_slot);
    }
}

/// The parts of a signed execution payload envelope the checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeView {
    /// `payload.slot_number`.
    pub slot: u64,
    /// `beacon_block_root`.
    pub beacon_block_root: [u8; 32],
    /// `builder_index`.
    pub builder_index: u64,
    /// `execution_requests`.
    pub requests: RequestCounts,
    /// `len(payload.withdrawals)`.
    pub withdrawals: usize,
}

impl From<&pheme_types::gloas::SignedExecutionPayloadEnvelope> for EnvelopeView {
    fn from(s: &pheme_types::gloas::SignedExecutionPayloadEnvelope) -> Self {
        let e = &s.message;
        EnvelopeView {
            slot: e.payload.slot_number,
            beacon_block_root: e.beacon_block_root.0,
            builder_index: e.builder_index,
            requests: (&e.execution_requests).into(),
            withdrawals: e.payload.withdrawals.len(),
        }
    }
}

/// The `execution_payload` handler: first per `(block root, builder)`, the execution request and
/// withdrawal limits. The block, the bid it commits to, finality and the signature need state.
///
/// No clock check: gloas `validate_execution_payload_envelope_gossip` has none. The payload's
/// slot must be its (seen, valid) block's, which the stateful check enforces before anything is
/// recorded, so the duplicate cache only holds slots of known blocks; an envelope whose slot
/// disagrees with its block is a REJECT, not an IGNORE, even when that slot is in the future.
#[derive(Debug, Default)]
pub struct EnvelopeHandler {
    seen: SeenSet<([u8; 32], u64)>,
}

impl EnvelopeHandler {
    /// The stateless checks; returns `(slot, key)` to record.
    pub fn check(
        &self,
        e: &EnvelopeView,
        ctx: &CheckContext<'_>,
    ) -> Result<(u64, ([u8; 32], u64)), EpbsError> {
        let key = (e.beacon_block_root, e.builder_index);
        if self.seen.contains(e.slot, &key) {
            return Err(EpbsError::AlreadySeen);
        }
        check_request_limits(&e.requests)?;
        at_most(
            "withdrawals",
            e.withdrawals,
            ctx.clock.chain().preset.max_withdrawals_per_payload,
        )?;
        Ok((e.slot, key))
    }
}

first_per_slot!(EnvelopeHandler, "envelope");

/// The `payload_attestation_message` handler: the current slot, first per `(slot, validator)`.
/// The block, the payload timeliness committee and the signature need state.
#[derive(Debug, Default)]
pub struct PayloadAttestationHandler {
    seen: SeenSet<(u64, u64)>,
}

impl PayloadAttestationHandler {
    /// The stateless checks; returns the key to record.
    pub fn check(
        &self,
        m: &PayloadAttestationMessage,
        ctx: &CheckContext<'_>,
    ) -> Result<(u64, u64), EpbsError> {
        let slot = m.data.slot;
        if !ctx.clock.is_current_slot(slot) {
            return Err(EpbsError::NotCurrentSlot { slot });
        }
        let key = (slot, m.validator_index);
        if self.seen.contains(slot, &key) {
            return Err(EpbsError::AlreadySeen);
        }
        Ok(key)
    }

    /// Records an accepted payload attestation.
    pub fn commit(&mut self, key: (u64, u64)) {
        self.seen.insert(key.0, key);
    }

    /// Forgets slots before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.seen.prune(min_slot);
    }
}

/// The `proposer_preferences` handler: the proposal slot has not started, its proposer is
/// known (the lookahead epoch has begun), first per `(dependent root, slot)`. The dependent
/// block, the proposer lookahead and the signature need state.
#[derive(Debug, Default)]
pub struct PreferencesHandler {
    seen: SeenSet<([u8; 32], u64)>,
}

impl PreferencesHandler {
    /// The stateless checks; returns `(proposal slot, key)` to record.
    pub fn check(
        &self,
        s: &SignedProposerPreferences,
        ctx: &CheckContext<'_>,
    ) -> Result<(u64, ([u8; 32], u64)), EpbsError> {
        let p = &s.message;
        let chain = ctx.clock.chain();
        let slot = p.proposal_slot;
        if ctx.clock.is_past_slot(slot) {
            return Err(EpbsError::PastSlot { slot });
        }
        let lookahead_epoch = chain.epoch_of(slot).saturating_sub(MIN_SEED_LOOKAHEAD);
        if !ctx.clock.slot_started(chain.start_slot(lookahead_epoch)) {
            return Err(EpbsError::ProposerUnknown { slot });
        }
        let key = (p.dependent_root.0, slot);
        if self.seen.contains(slot, &key) {
            return Err(EpbsError::AlreadySeen);
        }
        Ok((slot, key))
    }
}

first_per_slot!(PreferencesHandler, "set of preferences");

/// The parts of a gloas data column sidecar the checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnView {
    /// `index`.
    pub index: u64,
    /// `slot`.
    pub slot: u64,
    /// `beacon_block_root`.
    pub beacon_block_root: [u8; 32],
    /// `len(column)`.
    pub cells: usize,
    /// `len(kzg_proofs)`.
    pub proofs: usize,
}

impl From<&pheme_types::gloas::DataColumnSidecar> for ColumnView {
    fn from(s: &pheme_types::gloas::DataColumnSidecar) -> Self {
        ColumnView {
            index: s.index,
            slot: s.slot,
            beacon_block_root: s.beacon_block_root.0,
            cells: s.column.len(),
            proofs: s.kzg_proofs.len(),
        }
    }
}

/// Gloas's `data_column_sidecar_{subnet_id}` handler: first per `(block root, index)`, the
/// subnet, future slot, and the structure that needs no commitments (index in range, at least
/// one cell, a proof per cell). The block, its bid's commitments (their count and the KZG
/// proofs) need state: the commitments travel in the bid, not in the sidecar.
#[derive(Debug, Default)]
pub struct ColumnHandler {
    seen: SeenSet<([u8; 32], u64)>,
}

impl ColumnHandler {
    /// The stateless checks; returns `(slot, key)` to record.
    pub fn check(
        &self,
        c: &ColumnView,
        ctx: &CheckContext<'_>,
    ) -> Result<(u64, ([u8; 32], u64)), EpbsError> {
        let chain = ctx.clock.chain();
        let key = (c.beacon_block_root, c.index);
        if self.seen.contains(c.slot, &key) {
            return Err(EpbsError::AlreadySeen);
        }
        if let Some(got) = ctx.subnet {
            let expected = c.index % chain.data_column_sidecar_subnet_count.max(1);
            if got != expected {
                return Err(EpbsError::WrongSubnet { got, expected });
            }
        }
        if !ctx.clock.slot_started(c.slot) {
            return Err(EpbsError::FutureSlot { slot: c.slot });
        }
        if c.index >= chain.preset.number_of_columns {
            return Err(EpbsError::IndexOutOfRange {
                index: c.index,
                max: chain.preset.number_of_columns,
            });
        }
        if c.cells == 0 {
            return Err(EpbsError::MalformedColumn { what: "no cells" });
        }
        if c.cells != c.proofs {
            return Err(EpbsError::MalformedColumn {
                what: "cell and proof counts differ",
            });
        }
        Ok((c.slot, key))
    }
}

first_per_slot!(ColumnHandler, "sidecar");

/// The parts of a signed inclusion list the checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionListView {
    /// `slot`.
    pub slot: u64,
    /// `validator_index`.
    pub validator_index: u64,
    /// The transactions' total length in bytes.
    pub transaction_bytes: usize,
}

impl From<&pheme_types::heze::SignedInclusionList> for InclusionListView {
    fn from(s: &pheme_types::heze::SignedInclusionList) -> Self {
        let m = &s.message;
        InclusionListView {
            slot: m.slot,
            validator_index: m.validator_index,
            transaction_bytes: m.transactions.iter().map(|t| t.len()).sum(),
        }
    }
}

/// The `inclusion_list` handler: the transactions' size, the current slot, the first or second
/// list per validator and slot. The dependent block, the inclusion list committee and the
/// signature need state.
#[derive(Debug, Default)]
pub struct InclusionListHandler {
    counts: SeenMap<(u64, u64), u8>,
}

impl InclusionListHandler {
    /// The stateless checks; returns `(slot, validator)` to record.
    pub fn check(
        &self,
        l: &InclusionListView,
        ctx: &CheckContext<'_>,
    ) -> Result<(u64, u64), EpbsError> {
        if l.transaction_bytes > MAX_TRANSACTIONS_BYTES_PER_INCLUSION_LIST {
            return Err(EpbsError::InclusionListTooLarge {
                bytes: l.transaction_bytes,
                max: MAX_TRANSACTIONS_BYTES_PER_INCLUSION_LIST,
            });
        }
        if !ctx.clock.is_current_slot(l.slot) {
            return Err(EpbsError::NotCurrentSlot { slot: l.slot });
        }
        let key = (l.slot, l.validator_index);
        if self.counts.get(l.slot, &key).copied().unwrap_or(0) >= INCLUSION_LISTS_PER_VALIDATOR {
            return Err(EpbsError::InclusionListsSeen {
                slot: l.slot,
                validator: l.validator_index,
            });
        }
        Ok(key)
    }

    /// Records an accepted list.
    pub fn commit(&mut self, key: (u64, u64)) {
        let n = self.counts.get(key.0, &key).copied().unwrap_or(0);
        self.counts.insert(key.0, key, n.saturating_add(1));
    }

    /// Forgets slots before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.counts.prune(min_slot);
    }
}
