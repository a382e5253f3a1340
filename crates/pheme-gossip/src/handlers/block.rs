//! `beacon_block`, `blob_sidecar_{subnet_id}`, `data_column_sidecar_{subnet_id}`.

use pheme_spec::Fork;

use super::epbs::{EpbsBlockParts, operation_over_limit};
use crate::context::CheckContext;
use crate::seen::SeenSet;
use crate::verdict::gossip_errors;

/// The parts of a signed block the checks read, from any fork.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockView {
    /// `slot`.
    pub slot: u64,
    /// `proposer_index`.
    pub proposer_index: u64,
    /// `execution_payload.timestamp`, when the payload is not the default (post-merge).
    pub payload_timestamp: Option<u64>,
    /// `len(blob_kzg_commitments)`, from deneb on (gloas: the bid's).
    pub blob_commitments: Option<usize>,
    /// What gloas's checks add: operation counts, the parent's requests, the bid's parent.
    pub epbs: Option<Box<EpbsBlockParts>>,
}

macro_rules! block_view {
    ($module:ident $(<$($g:ident),*>)?; $payload:expr, $blobs:expr) => {
        impl$(<$(const $g: usize),*>)? From<&pheme_types::$module::SignedBeaconBlock$(<$($g),*>)?> for BlockView {
            fn from(b: &pheme_types::$module::SignedBeaconBlock$(<$($g),*>)?) -> Self {
                let m = &b.message;
                #[allow(clippy::redundant_closure_call)]
                BlockView {
                    slot: m.slot,
                    proposer_index: m.proposer_index,
                    payload_timestamp: ($payload)(&m.body),
                    blob_commitments: ($blobs)(&m.body),
                    epbs: None,
                }
            }
        }
    };
}

fn post_merge(block_hash: &[u8], timestamp: u64) -> Option<u64> {
    block_hash.iter().any(|b| *b != 0).then_some(timestamp)
}

block_view!(phase0; |_| None, |_| None);
block_view!(altair<SYNC>; |_| None, |_| None);
block_view!(bellatrix<SYNC>; |b: &pheme_types::bellatrix::BeaconBlockBody<SYNC>| post_merge(&b.execution_payload.block_hash, b.execution_payload.timestamp), |_| None);
block_view!(capella<SYNC, W>; |b: &pheme_types::capella::BeaconBlockBody<SYNC, W>| post_merge(&b.execution_payload.block_hash, b.execution_payload.timestamp), |_| None);
block_view!(deneb<SYNC, W, B>;
    |b: &pheme_types::deneb::BeaconBlockBody<SYNC, W, B>| post_merge(&b.execution_payload.block_hash, b.execution_payload.timestamp),
    |b: &pheme_types::deneb::BeaconBlockBody<SYNC, W, B>| Some(b.blob_kzg_commitments.len()));
block_view!(electra<SYNC, W, B, BITS, C, D, WR, CR>;
    |b: &pheme_types::electra::BeaconBlockBody<SYNC, W, B, BITS, C, D, WR, CR>| post_merge(&b.execution_payload.block_hash, b.execution_payload.timestamp),
    |b: &pheme_types::electra::BeaconBlockBody<SYNC, W, B, BITS, C, D, WR, CR>| Some(b.blob_kzg_commitments.len()));

/// A gloas or heze block (`Bid` is the fork's signed bid).
impl<const SYNC: usize, const C: usize, const PTC: usize, Bid>
    From<&pheme_types::gloas::SignedBeaconBlock<SYNC, C, PTC, Bid>> for BlockView
where
    Bid: pheme_types::ssz_rs::SimpleSerialize + SignedBidParts,
{
    fn from(b: &pheme_types::gloas::SignedBeaconBlock<SYNC, C, PTC, Bid>) -> Self {
        let m = &b.message;
        let body = &m.body;
        let commitments = body.signed_execution_payload_bid.blob_count();
        BlockView {
            slot: m.slot,
            proposer_index: m.proposer_index,
            payload_timestamp: None,
            blob_commitments: Some(commitments),
            epbs: Some(Box::new(EpbsBlockParts {
                operations: [
                    body.proposer_slashings.len(),
                    body.attester_slashings.len(),
                    body.attestations.len(),
                    body.deposits.len(),
                    body.voluntary_exits.len(),
                    body.bls_to_execution_changes.len(),
                    body.payload_attestations.len(),
                ],
                parent_requests: (&body.parent_execution_requests).into(),
            })),
        }
    }
}

/// What a block's checks read of its fork's signed bid.
pub trait SignedBidParts {
    /// `(bid.parent_block_root, len(bid.blob_kzg_commitments))`.
    fn blob_count(&self) -> usize;
}

macro_rules! signed_bid_parts {
    ($module:ident) => {
        impl SignedBidParts for pheme_types::$module::SignedExecutionPayloadBid {
            fn blob_count(&self) -> usize {
                self.message.blob_kzg_commitments.len()
            }
        }
    };
}
signed_bid_parts!(gloas);
signed_bid_parts!(heze);

gossip_errors! {
    /// Why a block or sidecar is not forwarded.
    pub enum BlockError {
        #[error("slot {slot} has not started")]
        FutureSlot { slot: u64 } => Ignore, "future_slot",
        #[error("proposer {proposer} already proposed at slot {slot}")]
        AlreadySeen { slot: u64, proposer: u64 } => Ignore, "already_seen",
        #[error("payload timestamp {got}, the slot's time is {expected}")]
        WrongTimestamp { got: u64, expected: u64 } => Reject, "wrong_timestamp",
        #[error("{count} blob commitments, at most {max} allowed")]
        TooManyBlobs { count: usize, max: u64 } => Reject, "too_many_blobs",
        #[error("sidecar index {index} out of range (< {max})")]
        IndexOutOfRange { index: u64, max: u64 } => Reject, "index_out_of_range",
        #[error("sidecar for subnet {expected} on subnet {got}")]
        WrongSubnet { got: u64, expected: u64 } => Reject, "wrong_subnet",
        #[error("malformed data column sidecar: {what}")]
        MalformedColumn { what: &'static str } => Reject, "malformed_column",
        #[error("the KZG commitment inclusion proof does not lead to the header's body root")]
        BadInclusionProof => Reject, "bad_inclusion_proof",
        #[error("the KZG proofs do not verify")]
        BadKzgProof => Reject, "bad_kzg_proof",
        #[error("{count} {what}, at most {max} allowed")]
        OverLimit { what: &'static str, count: usize, max: u64 } => Reject, "over_limit",
    }
}

/// The largest blob count a block at `slot` may carry.
fn max_blobs(ctx: &CheckContext<'_>, slot: u64) -> u64 {
    let chain = ctx.clock.chain();
    match ctx.fork {
        Fork::Deneb => chain.max_blobs_per_block,
        Fork::Electra => chain.max_blobs_per_block_electra,
        _ => {
            chain
                .blob_parameters(chain.epoch_of(slot))
                .max_blobs_per_block
        }
    }
}

/// The `beacon_block` handler.
#[derive(Debug, Default)]
pub struct BlockHandler {
    seen: SeenSet<(u64, u64)>,
}

impl BlockHandler {
    /// The stateless checks, in spec order: future slot, first per `(slot, proposer)`, payload
    /// timestamp, blob count. Finality, the proposer, its signature and the parent need state.
    pub fn check(&self, b: &BlockView, ctx: &CheckContext<'_>) -> Result<(u64, u64), BlockError> {
        if !ctx.clock.slot_started(b.slot) {
            return Err(BlockError::FutureSlot { slot: b.slot });
        }
        let key = (b.slot, b.proposer_index);
        if self.seen.contains(b.slot, &key) {
            return Err(BlockError::AlreadySeen {
                slot: b.slot,
                proposer: b.proposer_index,
            });
        }
        // gloas: the body's operation counts and the parent's execution requests (its lists
        // are progressive: no decoder bounds them).
        if let Some(p) = &b.epbs
            && let Some((what, count, max)) = operation_over_limit(p)
        {
            return Err(BlockError::OverLimit { what, count, max });
        }
        if let Some(got) = b.payload_timestamp {
            let chain = ctx.clock.chain();
            let expected =
                chain.genesis_time + b.slot.saturating_mul(chain.slot_duration_ms) / 1000;
            if got != expected {
                return Err(BlockError::WrongTimestamp { got, expected });
            }
        }
        if let Some(count) = b.blob_commitments {
            let max = max_blobs(ctx, b.slot);
            if count as u64 > max {
                return Err(BlockError::TooManyBlobs { count, max });
            }
        }
        // Not here: gloas's "the bid's parent equals the block's parent" (REJECT). The spec
        // checks it after the parent is seen and the slot is past finality (both IGNOREs), so
        // only the node's checks, which know the parent, can give it its place: a block with an
        // unknown parent and a mismatched bid is an IGNORE
        // (`gossip_beacon_block__ignore_parent_not_seen` at gloas).
        Ok(key)
    }

    /// Records an accepted block.
    pub fn commit(&mut self, key: (u64, u64)) {
        self.seen.insert(key.0, key);
    }

    /// Forgets slots before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.seen.prune(min_slot);
    }
}

/// The parts of a blob or data-column sidecar the checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidecarView {
    /// `index`.
    pub index: u64,
    /// `signed_block_header.message.slot`.
    pub slot: u64,
    /// `signed_block_header.message.proposer_index`.
    pub proposer_index: u64,
    /// Data columns: `(len(column), len(kzg_commitments), len(kzg_proofs))`.
    pub column_lengths: Option<(usize, usize, usize)>,
    /// The inclusion proof; `None` if it could not be formed (the leaf failed to hash), which
    /// is a REJECT.
    pub inclusion: Option<Inclusion>,
    /// What the KZG proofs are checked on; `None` is a REJECT.
    pub kzg: Option<KzgCheck>,
}

/// The data of a sidecar's KZG proof check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KzgCheck {
    /// `verify_blob_kzg_proof(blob, commitment, proof)`.
    Blob {
        /// The blob (131,072 bytes).
        blob: Vec<u8>,
        /// `kzg_commitment`.
        commitment: [u8; 48],
        /// `kzg_proof`.
        proof: [u8; 48],
    },
    /// `verify_cell_kzg_proof_batch(commitments, [column] * n, cells, proofs)`.
    Cells {
        /// The column index.
        column: u64,
        /// `kzg_commitments`.
        commitments: Vec<[u8; 48]>,
        /// `column`: one cell (2,048 bytes) per commitment.
        cells: Vec<Vec<u8>>,
        /// `kzg_proofs`.
        proofs: Vec<[u8; 48]>,
    },
}

fn bytes48(b: &[u8]) -> [u8; 48] {
    let mut out = [0u8; 48];
    out.copy_from_slice(&b[..48.min(b.len())]);
    out
}

/// Verifies a sidecar's KZG proofs with the Ethereum trusted setup (embedded in `c-kzg`).
pub fn kzg_proofs_valid(check: &KzgCheck) -> bool {
    let settings = c_kzg::ethereum_kzg_settings(0);
    let b48 = |b: &[u8; 48]| c_kzg::Bytes48::from_bytes(b);
    match check {
        KzgCheck::Blob {
            blob,
            commitment,
            proof,
        } => {
            let (Ok(blob), Ok(c), Ok(p)) =
                (c_kzg::Blob::from_bytes(blob), b48(commitment), b48(proof))
            else {
                return false;
            };
            settings
                .verify_blob_kzg_proof(&blob, &c, &p)
                .unwrap_or(false)
        }
        KzgCheck::Cells {
            column,
            commitments,
            cells,
            proofs,
        } => {
            let commitments: Result<Vec<_>, _> = commitments.iter().map(b48).collect();
            let proofs: Result<Vec<_>, _> = proofs.iter().map(b48).collect();
            let cells: Result<Vec<_>, _> =
                cells.iter().map(|c| c_kzg::Cell::from_bytes(c)).collect();
            let (Ok(commitments), Ok(proofs), Ok(cells)) = (commitments, proofs, cells) else {
                return false;
            };
            let indices = vec![*column; cells.len()];
            settings
                .verify_cell_kzg_proof_batch(&commitments, &indices, &cells, &proofs)
                .unwrap_or(false)
        }
    }
}

/// A Merkle branch to check against the block header's body root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inclusion {
    /// The leaf: the commitment's root (blobs) or the commitments list's root (columns).
    pub leaf: [u8; 32],
    /// The branch, leaf side first.
    pub branch: Vec<[u8; 32]>,
    /// The leaf's index within the subtree of `branch.len()` levels.
    pub index: u64,
    /// `signed_block_header.message.body_root`.
    pub root: [u8; 32],
}

/// The generalized index of `blob_kzg_commitments` in every `BeaconBlockBody` from deneb to fulu
/// (field 11 of at most 16): the data columns' inclusion proof ends here.
pub(crate) const BLOB_COMMITMENTS_GINDEX: u64 = 16 + 11;

/// `is_valid_merkle_branch`.
pub fn is_valid_merkle_branch(
    leaf: [u8; 32],
    branch: &[[u8; 32]],
    index: u64,
    root: [u8; 32],
) -> bool {
    merkle_branch_root(leaf, branch, index) == root
}

/// The root a Merkle `branch` (leaf side first) leads to from `leaf` at `index`.
pub fn merkle_branch_root(leaf: [u8; 32], branch: &[[u8; 32]], index: u64) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut value = leaf;
    for (depth, node) in branch.iter().enumerate() {
        let mut h = Sha256::new();
        if (index >> depth) & 1 == 1 {
            h.update(node);
            h.update(value);
        } else {
            h.update(value);
            h.update(node);
        }
        value.copy_from_slice(&h.finalize());
    }
    value
}

pub(crate) fn root32(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[..32.min(bytes.len())]);
    out
}

pub(crate) fn branch<const D: usize>(
    proof: &pheme_types::ssz_rs::Vector<pheme_types::primitives::Bytes32, D>,
) -> Vec<[u8; 32]> {
    proof.iter().map(|n| root32(n)).collect()
}

impl<const DEPTH: usize> From<&pheme_types::deneb::BlobSidecar<DEPTH>> for SidecarView {
    fn from(s: &pheme_types::deneb::BlobSidecar<DEPTH>) -> Self {
        use pheme_types::ssz_rs::Merkleized;
        let h = &s.signed_block_header.message;
        // The commitment's generalized index: the list's data subtree (gindex 2 * 27) holds
        // MAX_BLOB_COMMITMENTS_PER_BLOCK leaves, DEPTH - 5 levels; the proof covers DEPTH levels.
        let data_levels = DEPTH.saturating_sub(5) as u32;
        let gindex = ((2 * BLOB_COMMITMENTS_GINDEX) << data_levels) + s.index;
        let index = gindex % (1u64 << DEPTH.min(63));
        let inclusion = s
            .kzg_commitment
            .clone()
            .hash_tree_root()
            .ok()
            .map(|leaf| Inclusion {
                leaf: root32(leaf.as_ref()),
                branch: branch(&s.kzg_commitment_inclusion_proof),
                index,
                root: root32(&h.body_root),
            });
        let kzg = Some(KzgCheck::Blob {
            blob: s.blob.to_vec(),
            commitment: bytes48(&s.kzg_commitment),
            proof: bytes48(&s.kzg_proof),
        });
        SidecarView {
            index: s.index,
            slot: h.slot,
            proposer_index: h.proposer_index,
            column_lengths: None,
            inclusion,
            kzg,
        }
    }
}

impl<const B: usize> From<&pheme_types::fulu::DataColumnSidecar<B>> for SidecarView {
    fn from(s: &pheme_types::fulu::DataColumnSidecar<B>) -> Self {
        use pheme_types::ssz_rs::Merkleized;
        let h = &s.signed_block_header.message;
        let inclusion = s
            .kzg_commitments
            .clone()
            .hash_tree_root()
            .ok()
            .map(|leaf| Inclusion {
                leaf: root32(leaf.as_ref()),
                branch: branch(&s.kzg_commitments_inclusion_proof),
                index: BLOB_COMMITMENTS_GINDEX % 16,
                root: root32(&h.body_root),
            });
        SidecarView {
            index: s.index,
            slot: h.slot,
            proposer_index: h.proposer_index,
            column_lengths: Some((s.column.len(), s.kzg_commitments.len(), s.kzg_proofs.len())),
            inclusion,
            kzg: Some(KzgCheck::Cells {
                column: s.index,
                commitments: s.kzg_commitments.iter().map(|c| bytes48(c)).collect(),
                cells: s.column.iter().map(|c| c.to_vec()).collect(),
                proofs: s.kzg_proofs.iter().map(|p| bytes48(p)).collect(),
            }),
        }
    }
}

/// The blob and data-column sidecar handler: structure, subnet, future slot, first per
/// `(slot, proposer, index)`, the KZG commitment inclusion proof, the KZG proofs (Ethereum's
/// trusted setup, embedded). Finality, the proposer and the parent need state.
#[derive(Debug, Default)]
pub struct SidecarHandler {
    seen: SeenSet<(u64, u64, u64)>,
}

impl SidecarHandler {
    /// Checks a sidecar; returns the key to record.
    pub fn check(
        &self,
        s: &SidecarView,
        ctx: &CheckContext<'_>,
    ) -> Result<(u64, u64, u64), BlockError> {
        let chain = ctx.clock.chain();
        let subnets = match s.column_lengths {
            None => {
                let max = max_blobs(ctx, s.slot);
                if s.index >= max {
                    return Err(BlockError::IndexOutOfRange {
                        index: s.index,
                        max,
                    });
                }
                chain.blob_sidecar_subnets(ctx.fork)
            }
            Some((column, commitments, proofs)) => {
                if s.index >= chain.preset.number_of_columns {
                    return Err(BlockError::IndexOutOfRange {
                        index: s.index,
                        max: chain.preset.number_of_columns,
                    });
                }
                if commitments == 0 {
                    return Err(BlockError::MalformedColumn {
                        what: "no commitments",
                    });
                }
                let max = max_blobs(ctx, s.slot);
                if commitments as u64 > max {
                    return Err(BlockError::TooManyBlobs {
                        count: commitments,
                        max,
                    });
                }
                if column != commitments || proofs != commitments {
                    return Err(BlockError::MalformedColumn {
                        what: "column, commitment and proof counts differ",
                    });
                }
                chain.data_column_sidecar_subnet_count
            }
        };
        if let Some(got) = ctx.subnet {
            let expected = s.index % subnets.max(1);
            if got != expected {
                return Err(BlockError::WrongSubnet { got, expected });
            }
        }
        if !ctx.clock.slot_started(s.slot) {
            return Err(BlockError::FutureSlot { slot: s.slot });
        }
        let key = (s.slot, s.proposer_index, s.index);
        if self.seen.contains(s.slot, &key) {
            return Err(BlockError::AlreadySeen {
                slot: s.slot,
                proposer: s.proposer_index,
            });
        }
        match &s.inclusion {
            Some(p) if is_valid_merkle_branch(p.leaf, &p.branch, p.index, p.root) => {}
            _ => return Err(BlockError::BadInclusionProof),
        }
        if !s.kzg.as_ref().is_some_and(kzg_proofs_valid) {
            return Err(BlockError::BadKzgProof);
        }
        Ok(key)
    }

    /// Records an accepted sidecar.
    pub fn commit(&mut self, key: (u64, u64, u64)) {
        self.seen.insert(key.0, key);
    }

    /// Forgets slots before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.seen.prune(min_slot);
    }
}
