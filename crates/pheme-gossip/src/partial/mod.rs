//! Fulu partial data columns (`specs/fulu/partial-columns/p2p-interface.md`): the Ethereum side
//! of the cells a column's `data_column_sidecar_{subnet}` topic carries as gossipsub partial
//! messages. The router moves opaque triples `(group_id, partial_message, parts_metadata)`;
//! this module says what those bytes mean, sans IO:
//!
//! - [`encode_group_id`] / [`decode_group_id`]: `0x00 || SSZ(PartialDataColumnGroupID)`;
//! - [`PartsMetadata`]: who has and who wants which cells;
//! - [`decode_partial_sidecar`] and the spec's `validate_partial_data_column_sidecar_gossip`,
//!   split as every topic is: the stateless checks here ([`check_shape`], [`check_header`],
//!   [`check_cells`]), the proposer, parent and finality checks through
//!   [`StatefulValidator::validate_partial_header`](crate::StatefulValidator::validate_partial_header);
//! - [`PartialColumns`]: one node's cells, headers and peers' metadata per (block, column),
//!   answering each received triple with a verdict, the reply, and the full
//!   `DataColumnSidecar` once the column is complete.

mod assembler;
mod codec;

pub use assembler::{
    DEFAULT_MAX_BLOCKS, DEFAULT_MAX_PEERS_PER_COLUMN, DEFAULT_REWARD_INTERVAL_MS, Inbound,
    PartialColumns, PartialColumnsConfig, PartialReply, Received,
};
pub use codec::{
    BYTES_PER_CELL, GROUP_ID_LEN, GROUP_ID_VERSION, PartsMetadata, decode_group_id,
    decode_partial_sidecar, encode_group_id, partial_sidecar_max_len,
};

use libp2p_identity::PeerId;
use pheme_spec::Fork;
use pheme_types::fulu::{PartialDataColumnHeader, PartialDataColumnSidecar};
use pheme_types::phase0::SignedBeaconBlockHeader;

use crate::clock::GossipClock;
use crate::handlers::block::{
    BLOB_COMMITMENTS_GINDEX, KzgCheck, branch, is_valid_merkle_branch, kzg_proofs_valid, root32,
};
use crate::stateful::Reason;
use crate::verdict::gossip_errors;

gossip_errors! {
    /// Why a partial column message (or its group ID or metadata) is refused.
    pub enum PartialColumnError {
        #[error("group ID version {version} is unknown")]
        UnknownGroupVersion { version: u8 } => Ignore, "unknown_group_version",
        #[error("a {len}-byte group ID, version 0 is {}", GROUP_ID_LEN)]
        GroupIdLength { len: usize } => Reject, "malformed_group_id",
        #[error("a {len}-byte {what}, at most {max} allowed")]
        TooLong { what: &'static str, len: usize, max: usize } => Reject, "too_long",
        #[error("undecodable {what}")]
        Undecodable { what: &'static str, source: pheme_types::UntrustedSszError } => Reject, "undecodable",
        #[error("parts metadata with {available} available bits and {requests} request bits")]
        MetadataLengths { available: usize, requests: usize } => Reject, "metadata_lengths",
        #[error("parts metadata over {got} cells, the block has {expected} blobs")]
        MetadataColumnLength { got: usize, expected: usize } => Reject, "metadata_column_length",
        #[error("{count} cells, at most {max}")]
        TooManyCells { count: usize, max: usize } => Reject, "too_many_cells",
        #[error("partial message is semantically empty")]
        Empty => Reject, "empty",
        #[error("{cells} cells for {bits} set bits")]
        CellCount { cells: usize, bits: usize } => Reject, "cell_count",
        #[error("{proofs} proofs for {bits} set bits")]
        ProofCount { proofs: usize, bits: usize } => Reject, "proof_count",
        #[error("header differs from previously validated header")]
        HeaderDiffers => Reject, "header_differs",
        #[error("header's block root does not match group id's block root")]
        RootMismatch => Reject, "root_mismatch",
        #[error("header's kzg_commitments is empty")]
        NoCommitments => Reject, "no_commitments",
        #[error("header slot {slot} has not started")]
        FutureSlot { slot: u64 } => Ignore, "future_slot",
        #[error("header slot {slot} is not after the finalized slot {finalized}")]
        NotAfterFinalized { slot: u64, finalized: u64 } => Ignore, "not_after_finalized_slot",
        #[error("invalid header inclusion proof")]
        BadInclusionProof => Reject, "bad_inclusion_proof",
        #[error("the node's checks ignore the header")]
        HeaderIgnored { source: Reason } => Ignore, "header_ignored",
        #[error("the node's checks reject the header")]
        HeaderRejected { source: Reason } => Reject, "header_rejected",
        #[error("valid corresponding header has not been seen")]
        HeaderUnknown => Ignore, "header_unknown",
        #[error("bitmap of {bits} cells, the header has {commitments} commitments")]
        BitmapLength { bits: usize, commitments: usize } => Reject, "bitmap_length",
        #[error("invalid sidecar kzg proofs")]
        BadKzgProof => Reject, "bad_kzg_proof",
        #[error("cell {index} of a {len}-cell column")]
        CellOutOfRange { index: usize, len: usize } => Reject, "cell_out_of_range",
    }
}

/// A partial header that passed Pheme's stateless checks, as the node's stateful checks see
/// it: the spec's proposer index range, proposer signature, parent seen and valid, slot after
/// the parent's, finalized checkpoint an ancestor, expected proposer. They run once per block
/// root (the validated header is cached and serves every column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialHeaderMessage {
    /// The group ID's block root (`hash_tree_root(signed_block_header.message)`).
    pub beacon_block_root: [u8; 32],
    /// The header's signed block header.
    pub signed_block_header: SignedBeaconBlockHeader,
    /// `len(kzg_commitments)`.
    pub commitments: usize,
    /// The topic's fork.
    pub fork: Fork,
    /// The column (topic) it came on.
    pub column_index: u64,
    /// The peer it came from.
    pub source: Option<PeerId>,
}

/// What a partial sidecar holds: whether it has a header and how many cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// `len(header) == 1`.
    pub has_header: bool,
    /// Set bits of `cells_present_bitmap`.
    pub cells: usize,
}

/// The spec's first checks: something is present, and as many cells and proofs as set bits.
pub fn check_shape<const B: usize>(
    s: &PartialDataColumnSidecar<B>,
) -> Result<Shape, PartialColumnError> {
    let has_header = s.header.len() == 1;
    let cells = s.cells_present_bitmap.count_ones();
    if !has_header && cells == 0 {
        return Err(PartialColumnError::Empty);
    }
    if s.partial_column.len() != cells {
        return Err(PartialColumnError::CellCount {
            cells: s.partial_column.len(),
            bits: cells,
        });
    }
    if s.kzg_proofs.len() != cells {
        return Err(PartialColumnError::ProofCount {
            proofs: s.kzg_proofs.len(),
            bits: cells,
        });
    }
    Ok(Shape { has_header, cells })
}

/// The header's block root, `None` if it cannot be hashed (never for a decoded header).
pub fn header_root<const B: usize>(h: &PartialDataColumnHeader<B>) -> Option<[u8; 32]> {
    pheme_types::root_of(&h.signed_block_header.message)
}

/// The time checks shared by headers and cells: not from a future slot, after the finalized
/// slot (when the node told it).
fn check_time(
    slot: u64,
    clock: &GossipClock<'_>,
    finalized_slot: Option<u64>,
) -> Result<(), PartialColumnError> {
    if !clock.slot_started(slot) {
        return Err(PartialColumnError::FutureSlot { slot });
    }
    if let Some(finalized) = finalized_slot
        && slot <= finalized
    {
        return Err(PartialColumnError::NotAfterFinalized { slot, finalized });
    }
    Ok(())
}

/// The stateless checks of a new header (not yet validated for its block): its root is the
/// group's, it has commitments, its slot has started and is after the finalized slot, and
/// its commitments' inclusion proof leads to the block's body root.
pub fn check_header<const B: usize>(
    h: &PartialDataColumnHeader<B>,
    group_root: [u8; 32],
    clock: &GossipClock<'_>,
    finalized_slot: Option<u64>,
) -> Result<(), PartialColumnError> {
    if header_root(h) != Some(group_root) {
        return Err(PartialColumnError::RootMismatch);
    }
    if h.kzg_commitments.is_empty() {
        return Err(PartialColumnError::NoCommitments);
    }
    check_time(h.signed_block_header.message.slot, clock, finalized_slot)?;
    if !inclusion_proof_valid(h) {
        return Err(PartialColumnError::BadInclusionProof);
    }
    Ok(())
}

/// `verify_partial_data_column_header_inclusion_proof`.
pub fn inclusion_proof_valid<const B: usize>(h: &PartialDataColumnHeader<B>) -> bool {
    let Some(leaf) = pheme_types::root_of(&h.kzg_commitments) else {
        return false;
    };
    is_valid_merkle_branch(
        leaf,
        &branch(&h.kzg_commitments_inclusion_proof),
        BLOB_COMMITMENTS_GINDEX % 16,
        root32(&h.signed_block_header.message.body_root),
    )
}

/// The checks of a message's cells against the block's validated header: time, the bitmap's
/// length, and the batch KZG cell-proof verification (`verify_partial_data_column_sidecar_kzg_proofs`).
pub fn check_cells<const B: usize>(
    s: &PartialDataColumnSidecar<B>,
    header: &PartialDataColumnHeader<B>,
    column_index: u64,
    clock: &GossipClock<'_>,
    finalized_slot: Option<u64>,
) -> Result<(), PartialColumnError> {
    check_time(
        header.signed_block_header.message.slot,
        clock,
        finalized_slot,
    )?;
    let bits = s.cells_present_bitmap.len();
    if bits != header.kzg_commitments.len() {
        return Err(PartialColumnError::BitmapLength {
            bits,
            commitments: header.kzg_commitments.len(),
        });
    }
    let commitments = s
        .cells_present_bitmap
        .iter()
        .by_vals()
        .zip(header.kzg_commitments.iter())
        .filter(|(b, _)| *b)
        .map(|(_, c)| c.0)
        .collect();
    let check = KzgCheck::Cells {
        column: column_index,
        commitments,
        cells: s.partial_column.iter().map(|c| c.to_vec()).collect(),
        proofs: s.kzg_proofs.iter().map(|p| p.0).collect(),
    };
    if !kzg_proofs_valid(&check) {
        return Err(PartialColumnError::BadKzgProof);
    }
    Ok(())
}
