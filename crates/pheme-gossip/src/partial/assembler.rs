//! [`PartialColumns`]: one node's partial columns, sans IO.

use std::collections::HashMap;

use fixedbitset::FixedBitSet;
use libp2p_identity::PeerId;
use pheme_spec::Fork;
use pheme_types::fulu::{DataColumnSidecar, PartialDataColumnHeader, PartialDataColumnSidecar};
use pheme_types::primitives::{Cell, KzgProof};
use pheme_types::ssz_rs::{self, Bitlist, List};

use super::codec::{PartsMetadata, decode_group_id, decode_partial_sidecar};
use super::{
    PartialColumnError, PartialHeaderMessage, check_cells, check_header, check_shape, header_root,
    inclusion_proof_valid,
};
use crate::clock::GossipClock;
use crate::stateful::{Decision, StatefulValidator};
use crate::verdict::{GossipError, Verdict};

/// Blocks whose columns are kept at most: two epochs of mainnet slots, the seen caches' span.
pub const DEFAULT_MAX_BLOCKS: usize = 64;

/// Peers whose metadata is kept per (block, column) at most; others' metadata is dropped
/// (their messages still count). Far above a column topic's mesh and fanout.
pub const DEFAULT_MAX_PEERS_PER_COLUMN: usize = 64;

/// A peer gets the first-delivery reward at most once per (block, column) in this many
/// milliseconds, so that sending cells one at a time earns no more than sending them at once.
pub const DEFAULT_REWARD_INTERVAL_MS: u64 = 1_000;

/// How a [`PartialColumns`] is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialColumnsConfig {
    /// Blocks kept at most (the oldest slot goes first).
    pub max_blocks: usize,
    /// Peers' metadata kept per (block, column) at most.
    pub max_peers_per_column: usize,
    /// At most one reward per peer per (block, column) in this many milliseconds.
    pub reward_interval_ms: u64,
    /// Cells a partial sidecar may carry at most: the chain's largest `MAX_BLOBS_PER_BLOCK`.
    /// Longer messages are refused before they are decoded.
    pub max_cells: usize,
}

impl Default for PartialColumnsConfig {
    fn default() -> Self {
        PartialColumnsConfig {
            max_blocks: DEFAULT_MAX_BLOCKS,
            max_peers_per_column: DEFAULT_MAX_PEERS_PER_COLUMN,
            reward_interval_ms: DEFAULT_REWARD_INTERVAL_MS,
            max_cells: 128,
        }
    }
}

impl PartialColumnsConfig {
    /// The defaults, with `max_cells` the largest blob count `chain` ever allows.
    pub fn for_chain(chain: &pheme_spec::ChainSpec) -> Self {
        let most = chain
            .blob_schedule
            .iter()
            .map(|p| p.max_blobs_per_block)
            .chain([chain.max_blobs_per_block_electra, chain.max_blobs_per_block])
            .max()
            .unwrap_or(0);
        PartialColumnsConfig {
            max_cells: usize::try_from(most).unwrap_or(usize::MAX).max(1),
            ..Self::default()
        }
    }
}

/// A triple received from a peer on `data_column_sidecar_{subnet}`.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// The peer.
    pub peer: PeerId,
    /// The column: the topic's subnet (the same with 128 subnets for 128 columns).
    pub column: u64,
    /// The topic's fork.
    pub fork: Fork,
    /// The group ID bytes.
    pub group_id: &'a [u8],
    /// The partial message (`SSZ(PartialDataColumnSidecar)`), if any.
    pub message: Option<&'a [u8]>,
    /// The parts metadata (`SSZ(PartialDataColumnPartsMetadata)`), if any.
    pub metadata: Option<&'a [u8]>,
}

/// What to send one peer on a column's topic, under the block's group ID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialReply {
    /// `SSZ(PartialDataColumnSidecar)`: the cells sent (and the header, on an eager push).
    pub message: Option<Vec<u8>>,
    /// Our `SSZ(PartialDataColumnPartsMetadata)`, when the peer has not seen it yet.
    pub metadata: Option<Vec<u8>>,
}

impl PartialReply {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.message.is_none() && self.metadata.is_none()
    }
}

/// What [`PartialColumns::receive`] made of a triple.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The group's block root, when the group ID decoded.
    pub block_root: Option<[u8; 32]>,
    /// ACCEPT (nothing wrong), IGNORE or REJECT (report an invalid message delivery).
    pub verdict: Verdict,
    /// Why it was not accepted.
    pub error: Option<PartialColumnError>,
    /// Cells we did not hold before (novel data).
    pub novel_cells: usize,
    /// Whether to report a first message delivery for the peer: novel cells, and no reward to
    /// that peer on this (block, column) within the reward interval.
    pub reward: bool,
    /// Whether this message validated the block's header (a new block: the node should ask
    /// for cells on the other columns it follows, [`PartialColumns::first_message`] to each of
    /// their partial-requesting peers; the spec: request after validating a header).
    pub new_header: bool,
    /// What to send the peer back.
    pub reply: Option<PartialReply>,
    /// What to send the column's other known peers (cells they asked for that just arrived,
    /// our updated metadata).
    pub updates: Vec<(PeerId, PartialReply)>,
    /// `SSZ(DataColumnSidecar)` when this message completed the column: forward it over
    /// plain gossip to the peers that do not request partial messages.
    pub completed: Option<Vec<u8>>,
}

impl Received {
    fn refused(block_root: Option<[u8; 32]>, error: PartialColumnError) -> Self {
        Received {
            block_root,
            verdict: error.verdict(),
            error: Some(error),
            ..Self::accepted(block_root)
        }
    }

    fn accepted(block_root: Option<[u8; 32]>) -> Self {
        Received {
            block_root,
            verdict: Verdict::Accept,
            error: None,
            novel_cells: 0,
            reward: false,
            new_header: false,
            reply: None,
            updates: Vec::new(),
            completed: None,
        }
    }
}

/// What we know of one peer on one column of one block.
#[derive(Debug, Default)]
struct PeerColumn {
    /// Its latest metadata.
    metadata: Option<PartsMetadata>,
    /// Cells we sent it or it sent us: never sent again.
    known: FixedBitSet,
    /// It has the header (it sent a message or metadata, or we pushed the header).
    has_header: bool,
    /// The metadata bytes it last got from us.
    metadata_sent: Option<Vec<u8>>,
    /// When it last got a reward here.
    last_reward_ms: Option<u64>,
}

/// A column of a block: its cells and proofs, and its peers.
#[derive(Debug, Default)]
struct Column {
    cells: Vec<Option<Box<(Cell, KzgProof)>>>,
    peers: HashMap<PeerId, PeerColumn>,
    completed: bool,
}

impl Column {
    fn new(len: usize) -> Self {
        Column {
            cells: vec![None; len],
            ..Default::default()
        }
    }

    fn held(&self) -> usize {
        self.cells.iter().filter(|c| c.is_some()).count()
    }
}

/// A block: its validated header, and the columns we follow.
#[derive(Debug)]
struct Block<const B: usize> {
    slot: u64,
    header: PartialDataColumnHeader<B>,
    columns: HashMap<u64, Column>,
}

impl<const B: usize> Block<B> {
    fn len(&self) -> usize {
        self.header.kzg_commitments.len()
    }

    fn column(&mut self, index: u64) -> &mut Column {
        let len = self.len();
        self.columns
            .entry(index)
            .or_insert_with(|| Column::new(len))
    }
}

/// One node's partial columns (`B` is `MAX_BLOB_COMMITMENTS_PER_BLOCK`): per block root its
/// validated header (the spec's seen headers, shared by every column), and per column the
/// cells and proofs we hold and each peer's latest metadata. Sans IO: it is fed triples,
/// local cells and the time, and answers with bytes to send. Bounded: at most
/// [`PartialColumnsConfig::max_blocks`] blocks (the oldest slot goes first, and
/// [`prune`](Self::prune) drops slots as the seen caches do), at most the header's blob
/// count of cells per column, at most [`PartialColumnsConfig::max_peers_per_column`] peers'
/// metadata per column.
///
/// The node's side:
/// - a validated block or full column makes us a provider: [`insert_header`](Self::insert_header),
///   [`insert_sidecar`](Self::insert_sidecar), [`insert_cells`](Self::insert_cells) (cells of
///   the blobs the EL had);
/// - to each mesh peer that requests partials: [`first_message`](Self::first_message) (eager
///   push of the header, and our metadata), then [`reply_to`](Self::reply_to) as things change;
/// - each received triple: [`receive`](Self::receive).
#[derive(Debug)]
pub struct PartialColumns<const B: usize> {
    config: PartialColumnsConfig,
    blocks: HashMap<[u8; 32], Block<B>>,
    finalized_slot: Option<u64>,
}

impl<const B: usize> Default for PartialColumns<B> {
    fn default() -> Self {
        Self::new(PartialColumnsConfig::default())
    }
}

impl<const B: usize> PartialColumns<B> {
    /// An empty assembler.
    pub fn new(config: PartialColumnsConfig) -> Self {
        PartialColumns {
            config,
            blocks: HashMap::new(),
            finalized_slot: None,
        }
    }

    /// The start slot of the finalized epoch: headers at or before it are IGNOREd.
    pub fn set_finalized_slot(&mut self, slot: u64) {
        self.finalized_slot = Some(slot);
    }

    /// Forgets blocks of slots before `min_slot`.
    pub fn prune(&mut self, min_slot: u64) {
        self.blocks.retain(|_, b| b.slot >= min_slot);
    }

    /// Blocks held.
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// The validated header of `root`.
    pub fn header(&self, root: &[u8; 32]) -> Option<&PartialDataColumnHeader<B>> {
        self.blocks.get(root).map(|b| &b.header)
    }

    /// Cells held of `(root, column)`, and the column's length.
    pub fn held(&self, root: &[u8; 32], column: u64) -> Option<(usize, usize)> {
        let b = self.blocks.get(root)?;
        let held = b.columns.get(&column).map_or(0, Column::held);
        Some((held, b.len()))
    }

    fn add_block(&mut self, root: [u8; 32], header: PartialDataColumnHeader<B>) {
        if self.blocks.contains_key(&root) {
            return;
        }
        while self.blocks.len() >= self.config.max_blocks.max(1) {
            let oldest = self
                .blocks
                .iter()
                .min_by_key(|(_, b)| b.slot)
                .map(|(r, _)| *r);
            match oldest {
                Some(r) => self.blocks.remove(&r),
                None => break,
            };
        }
        let slot = header.signed_block_header.message.slot;
        self.blocks.insert(
            root,
            Block {
                slot,
                header,
                columns: HashMap::new(),
            },
        );
    }

    /// Records the header of a block the node validated (from the block or a full column): a
    /// trusted header, checked only for commitments and its inclusion proof. Returns its root.
    pub fn insert_header(
        &mut self,
        header: PartialDataColumnHeader<B>,
    ) -> Result<[u8; 32], PartialColumnError> {
        if header.kzg_commitments.is_empty() {
            return Err(PartialColumnError::NoCommitments);
        }
        if !inclusion_proof_valid(&header) {
            return Err(PartialColumnError::BadInclusionProof);
        }
        let root = header_root(&header).ok_or(PartialColumnError::RootMismatch)?;
        if let Some(b) = self.blocks.get(&root)
            && b.header != header
        {
            return Err(PartialColumnError::HeaderDiffers);
        }
        self.add_block(root, header);
        Ok(root)
    }

    /// Records a full column the node validated (received over plain gossip, or built by the
    /// proposer): its header and every cell. Returns the block root.
    pub fn insert_sidecar(
        &mut self,
        s: &DataColumnSidecar<B>,
    ) -> Result<[u8; 32], PartialColumnError> {
        let n = s.kzg_commitments.len();
        if s.column.len() != n {
            return Err(PartialColumnError::CellCount {
                cells: s.column.len(),
                bits: n,
            });
        }
        if s.kzg_proofs.len() != n {
            return Err(PartialColumnError::ProofCount {
                proofs: s.kzg_proofs.len(),
                bits: n,
            });
        }
        let root = self.insert_header(PartialDataColumnHeader {
            kzg_commitments: s.kzg_commitments.clone(),
            signed_block_header: s.signed_block_header.clone(),
            kzg_commitments_inclusion_proof: s.kzg_commitments_inclusion_proof.clone(),
        })?;
        let cells: Vec<_> = s
            .column
            .iter()
            .cloned()
            .zip(s.kzg_proofs.iter().cloned())
            .enumerate()
            .map(|(i, (c, p))| (i, c, p))
            .collect();
        self.insert_cells(root, s.index, cells)?;
        if let Some(c) = self
            .blocks
            .get_mut(&root)
            .and_then(|b| b.columns.get_mut(&s.index))
        {
            // It came whole: nothing to forward.
            c.completed = true;
        }
        Ok(root)
    }

    /// Records cells the node holds of a validated block's column (computed from the blobs
    /// its EL returned): `(blob index, cell, proof)`, trusted. Returns `SSZ(DataColumnSidecar)`
    /// if they completed the column.
    pub fn insert_cells(
        &mut self,
        root: [u8; 32],
        column: u64,
        cells: impl IntoIterator<Item = (usize, Cell, KzgProof)>,
    ) -> Result<Option<Vec<u8>>, PartialColumnError> {
        let block = self
            .blocks
            .get_mut(&root)
            .ok_or(PartialColumnError::HeaderUnknown)?;
        let len = block.len();
        let col = block.column(column);
        for (i, cell, proof) in cells {
            let slot = col
                .cells
                .get_mut(i)
                .ok_or(PartialColumnError::CellOutOfRange { index: i, len })?;
            if slot.is_none() {
                *slot = Some(Box::new((cell, proof)));
            }
        }
        Ok(self.take_completed(root, column))
    }

    /// `SSZ(DataColumnSidecar)` of a column that is complete and was not returned yet.
    fn take_completed(&mut self, root: [u8; 32], column: u64) -> Option<Vec<u8>> {
        let block = self.blocks.get_mut(&root)?;
        let header = &block.header;
        let col = block.columns.get_mut(&column)?;
        if col.completed || col.cells.iter().any(Option::is_none) {
            return None;
        }
        col.completed = true;
        let mut cells = Vec::with_capacity(col.cells.len());
        let mut proofs = Vec::with_capacity(col.cells.len());
        for (c, p) in col.cells.iter().flatten().map(|b| (&b.0, &b.1)) {
            cells.push(c.clone());
            proofs.push(p.clone());
        }
        let sidecar = DataColumnSidecar::<B> {
            index: column,
            column: List::try_from(cells).ok()?,
            kzg_commitments: header.kzg_commitments.clone(),
            kzg_proofs: List::try_from(proofs).ok()?,
            signed_block_header: header.signed_block_header.clone(),
            kzg_commitments_inclusion_proof: header.kzg_commitments_inclusion_proof.clone(),
        };
        ssz_rs::serialize(&sidecar).ok()
    }

    /// Our metadata on `(root, column)`: available = cells we hold, requests = cells we lack.
    pub fn metadata(&self, root: &[u8; 32], column: u64) -> Option<Vec<u8>> {
        let b = self.blocks.get(root)?;
        metadata_of(b.len(), b.columns.get(&column))
            .encode::<B>()
            .ok()
    }

    /// The header-only `PartialDataColumnSidecar` of a block: what to push eagerly to peers on
    /// every column (the spec: eagerly push the header, not cells by default).
    pub fn eager_header(&self, root: &[u8; 32]) -> Option<Vec<u8>> {
        let b = self.blocks.get(root)?;
        encode_cells(Some(&b.header), b.len(), &[], &[]).ok()
    }

    /// The first message to a peer whose metadata we do not know on `(root, column)`: the
    /// header (unless the peer showed it has it), every cell we hold if `push_cells` (the
    /// proposer's opt-in; off by default in the spec), and our metadata (our requests).
    pub fn first_message(
        &mut self,
        peer: PeerId,
        root: &[u8; 32],
        column: u64,
        push_cells: bool,
    ) -> Option<PartialReply> {
        let max_peers = self.config.max_peers_per_column;
        let b = self.blocks.get_mut(root)?;
        let len = b.len();
        let header = b.header.clone();
        let col = b.column(column);
        let ours = metadata_of(len, Some(col)).encode::<B>().ok()?;
        let known = col.peers.len() >= max_peers && !col.peers.contains_key(&peer);
        let mut fresh = PeerColumn::default();
        let p = if known {
            &mut fresh
        } else {
            col.peers.entry(peer).or_default()
        };
        let cells: Vec<usize> = if push_cells {
            (0..len)
                .filter(|i| col.cells[*i].is_some() && !p.known.contains(*i))
                .collect()
        } else {
            Vec::new()
        };
        let send_header = !p.has_header;
        let message = if send_header || !cells.is_empty() {
            let h = send_header.then_some(&header);
            let m = encode_cells(h, len, &col.cells, &cells).ok()?;
            p.known.grow(len);
            cells.iter().for_each(|i| p.known.insert(*i));
            p.has_header = true;
            Some(m)
        } else {
            None
        };
        let metadata = (p.metadata_sent.as_ref() != Some(&ours)).then(|| {
            p.metadata_sent = Some(ours.clone());
            ours
        });
        let reply = PartialReply { message, metadata };
        (!reply.is_empty()).then_some(reply)
    }

    /// What `peer` should get now on `(root, column)`: the cells it requested that we hold and
    /// it has not got, and our metadata if it changed since it last got it. `None` when
    /// there is nothing to send (or we do not know its metadata yet).
    pub fn reply_to(
        &mut self,
        peer: &PeerId,
        root: &[u8; 32],
        column: u64,
    ) -> Option<PartialReply> {
        let b = self.blocks.get_mut(root)?;
        let len = b.len();
        let col = b.columns.get_mut(&column)?;
        reply_for::<B>(len, col, peer)
    }

    /// Handles a triple from a peer: the group ID, the message (checked as the spec's
    /// `validate_partial_data_column_sidecar_gossip`, the header's stateful checks through
    /// `stateful` once per block), the metadata; stores novel cells, and answers.
    pub fn receive(
        &mut self,
        input: Inbound<'_>,
        clock: &GossipClock<'_>,
        stateful: &dyn StatefulValidator,
    ) -> Received {
        let root = match decode_group_id(input.group_id) {
            Ok(r) => r,
            Err(e) => return Received::refused(None, e),
        };
        let mut out = Received::accepted(Some(root));
        let mut sent = Vec::new();
        if let Some(bytes) = input.message {
            match self.receive_message(root, &input, bytes, clock, stateful) {
                Ok(m) => {
                    out.novel_cells = m.novel;
                    out.new_header = m.new_header;
                    sent = m.present;
                }
                Err(e) => return Received::refused(Some(root), e),
            }
        }
        let now = clock.now_ms();
        let interval = self.config.reward_interval_ms;
        let max_peers = self.config.max_peers_per_column;
        let Some(block) = self.blocks.get_mut(&root) else {
            // Metadata without a validated header: nothing to answer yet.
            return out;
        };
        let len = block.len();
        let metadata = match input.metadata.map(PartsMetadata::decode::<B>) {
            Some(Ok(m)) if m.len() != len => {
                return Received::refused(
                    Some(root),
                    PartialColumnError::MetadataColumnLength {
                        got: m.len(),
                        expected: len,
                    },
                );
            }
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => return Received::refused(Some(root), e),
            None => None,
        };
        let col = block.column(input.column);
        if col.peers.len() < max_peers || col.peers.contains_key(&input.peer) {
            let p = col.peers.entry(input.peer).or_default();
            p.has_header = true;
            p.known.grow(len);
            if let Some(m) = metadata {
                p.known.extend(m.available_cells());
                p.metadata = Some(m);
            }
            if out.novel_cells > 0 {
                let due = p
                    .last_reward_ms
                    .is_none_or(|t| now.saturating_sub(t) >= interval);
                if due {
                    p.last_reward_ms = Some(now);
                    out.reward = true;
                }
            }
        }
        if let Some(p) = col.peers.get_mut(&input.peer) {
            // The sender has what it sent.
            p.known.extend(sent.iter().copied().filter(|i| *i < len));
        }
        out.reply = reply_for::<B>(len, col, &input.peer);
        if out.novel_cells > 0 {
            let others: Vec<PeerId> = col
                .peers
                .keys()
                .filter(|p| **p != input.peer)
                .copied()
                .collect();
            out.updates = others
                .into_iter()
                .filter_map(|p| reply_for::<B>(len, col, &p).map(|r| (p, r)))
                .collect();
        }
        out.completed = self.take_completed(root, input.column);
        out
    }

    /// Validates a message and stores its novel cells.
    fn receive_message(
        &mut self,
        root: [u8; 32],
        input: &Inbound<'_>,
        bytes: &[u8],
        clock: &GossipClock<'_>,
        stateful: &dyn StatefulValidator,
    ) -> Result<MessageTaken, PartialColumnError> {
        let s = decode_partial_sidecar::<B>(bytes, self.config.max_cells)?;
        let shape = check_shape(&s)?;
        let mut new_header = false;
        if shape.has_header {
            let header = &s.header[0];
            match self.blocks.get(&root) {
                Some(b) if b.header != *header => return Err(PartialColumnError::HeaderDiffers),
                Some(_) => {}
                None => {
                    check_header(header, root, clock, self.finalized_slot)?;
                    let msg = PartialHeaderMessage {
                        beacon_block_root: root,
                        signed_block_header: header.signed_block_header.clone(),
                        commitments: header.kzg_commitments.len(),
                        fork: input.fork,
                        column_index: input.column,
                        source: Some(input.peer),
                    };
                    match stateful.validate_partial_header(&msg) {
                        Decision::Accept => {}
                        Decision::Ignore(r) => {
                            return Err(PartialColumnError::HeaderIgnored { source: r });
                        }
                        Decision::Defer => {
                            return Err(PartialColumnError::HeaderIgnored {
                                source: crate::Reason::new("deferred"),
                            });
                        }
                        Decision::Reject(r) => {
                            return Err(PartialColumnError::HeaderRejected { source: r });
                        }
                    }
                    self.add_block(root, header.clone());
                    new_header = true;
                }
            }
        }
        if shape.cells == 0 {
            return Ok(MessageTaken {
                novel: 0,
                new_header,
                present: Vec::new(),
            });
        }
        let block = self
            .blocks
            .get_mut(&root)
            .ok_or(PartialColumnError::HeaderUnknown)?;
        check_cells(&s, &block.header, input.column, clock, self.finalized_slot)?;
        let col = block.column(input.column);
        let present: Vec<usize> = s
            .cells_present_bitmap
            .iter()
            .by_vals()
            .enumerate()
            .filter(|(_, b)| *b)
            .map(|(i, _)| i)
            .collect();
        let mut novel = 0;
        let cells = s.partial_column.iter().zip(s.kzg_proofs.iter());
        for (&i, (cell, proof)) in present.iter().zip(cells) {
            if let Some(slot) = col.cells.get_mut(i)
                && slot.is_none()
            {
                *slot = Some(Box::new((cell.clone(), proof.clone())));
                novel += 1;
            }
        }
        Ok(MessageTaken {
            novel,
            new_header,
            present,
        })
    }
}

/// What a valid message brought.
struct MessageTaken {
    /// Cells we did not hold.
    novel: usize,
    /// Its header was validated now.
    new_header: bool,
    /// The cells it carried.
    present: Vec<usize>,
}

/// `SSZ(PartialDataColumnSidecar)` with the cells `which` of `cells` (all held) and, on an
/// eager push, the header.
fn encode_cells<const B: usize>(
    header: Option<&PartialDataColumnHeader<B>>,
    len: usize,
    cells: &[Option<Box<(Cell, KzgProof)>>],
    which: &[usize],
) -> Result<Vec<u8>, PartialColumnError> {
    let too_many = || PartialColumnError::TooManyCells { count: len, max: B };
    let mut bits = vec![false; len];
    let mut column = Vec::with_capacity(which.len());
    let mut proofs = Vec::with_capacity(which.len());
    for &i in which {
        let Some(Some(c)) = cells.get(i) else {
            continue;
        };
        bits[i] = true;
        column.push(c.0.clone());
        proofs.push(c.1.clone());
    }
    let value = PartialDataColumnSidecar::<B> {
        cells_present_bitmap: Bitlist::try_from(bits.as_slice()).map_err(|_| too_many())?,
        partial_column: List::try_from(column).map_err(|_| too_many())?,
        kzg_proofs: List::try_from(proofs).map_err(|_| too_many())?,
        header: List::try_from(header.into_iter().cloned().collect::<Vec<_>>())
            .map_err(|_| too_many())?,
    };
    ssz_rs::serialize(&value).map_err(|_| too_many())
}

/// Our metadata over a column of `len` cells.
fn metadata_of(len: usize, col: Option<&Column>) -> PartsMetadata {
    let mut m = PartsMetadata::new(len);
    for i in 0..len {
        let have = col.is_some_and(|c| c.cells[i].is_some());
        m.set_available(i, have);
        m.set_requested(i, !have);
    }
    m
}

/// What `peer` should get now (see [`PartialColumns::reply_to`]).
fn reply_for<const B: usize>(len: usize, col: &mut Column, peer: &PeerId) -> Option<PartialReply> {
    let ours = metadata_of(len, Some(col)).encode::<B>().ok()?;
    let cells_held = &col.cells;
    let p = col.peers.get_mut(peer)?;
    p.known.grow(len);
    let wanted: Vec<usize> = match &p.metadata {
        Some(m) => m
            .wanted_cells()
            .filter(|i| *i < len && cells_held[*i].is_some() && !p.known.contains(*i))
            .collect(),
        None => Vec::new(),
    };
    let message = if wanted.is_empty() {
        None
    } else {
        let m = encode_cells::<B>(None, len, cells_held, &wanted).ok();
        wanted.iter().for_each(|i| p.known.insert(*i));
        m
    };
    let metadata = (p.metadata_sent.as_ref() != Some(&ours)).then(|| {
        p.metadata_sent = Some(ours.clone());
        ours
    });
    let reply = PartialReply { message, metadata };
    (!reply.is_empty()).then_some(reply)
}
