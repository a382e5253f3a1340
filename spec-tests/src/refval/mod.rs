//! A reference stateful validator: the consensus spec's stateful gossip checks
//! (`validate_*_gossip` in the phase0, altair, capella, deneb, electra, fulu and gloas
//! `p2p-interface.md`; gloas's in [`epbs`]) over a networking case's anchor `BeaconState` and
//! known blocks, plugged into Pheme through
//! the embedder API ([`pheme_gossip::StatefulValidator`]).
//!
//! It proves that API: everything a check needs comes from the [`InboundMessage`] Pheme hands
//! over (the decoded payload, its kind, fork and subnet, the arrival time) and from what the
//! node itself holds (here, the case's state and blocks).
//!
//! The "state" of the spec's checks is the anchor state advanced to the message's epoch:
//! RANDAO mixes carry over epochs and take the reveals of imported blocks on the chain
//! (enough for seeds, committees and proposers); validators, balances and sync committees are
//! the anchor's (epoch processing that would change them, such as rewards crossing an
//! effective-balance step or activations, is not modelled; the vectors' states do not reach
//! it).

mod checks;
mod epbs;
pub mod gloas_state;
mod ops;
pub mod spec;
pub mod state;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use pheme_gossip::payload::minimal::{DataColumnSidecar, Payload, SignedBid, SignedBlock};
use pheme_gossip::{
    Decision, GossipPayload, InboundMessage, PartialHeaderMessage, Reason, StatefulValidator,
};

pub use spec::{Domains, EpochView};
pub use state::{AnchorState, StateError};

/// The execution payload status of a known block (`payload_status` in a case's `blocks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadStatus {
    /// `VALID`.
    Valid,
    /// `INVALIDATED`.
    Invalidated,
    /// `NOT_VALIDATED` (optimistic), also the default.
    NotValidated,
}

/// A block the node knows (fork choice's `store.blocks`).
#[derive(Debug, Clone)]
pub struct KnownBlock {
    /// `slot`.
    pub slot: u64,
    /// `proposer_index`.
    pub proposer_index: u64,
    /// `parent_root`.
    pub parent_root: [u8; 32],
    /// `state_root`.
    pub state_root: [u8; 32],
    /// `hash(body.randao_reveal)`.
    pub reveal_hash: [u8; 32],
    /// Whether it has a post-state (`store.block_states`): imported, neither failed nor
    /// pending.
    pub imported: bool,
    /// Its payload's status.
    pub payload_status: PayloadStatus,
    /// Gloas: the block's bid.
    pub bid: Option<KnownBid>,
    /// Gloas: its payload envelope has been seen and verified (`is_payload_verified`).
    pub payload_verified: bool,
}

/// What the Gloas checks read of a known block's bid
/// (`block.body.signed_execution_payload_bid.message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownBid {
    /// `builder_index`.
    pub builder_index: u64,
    /// `block_hash`.
    pub block_hash: [u8; 32],
    /// `parent_block_hash`.
    pub parent_block_hash: [u8; 32],
    /// `blob_kzg_commitments`.
    pub commitments: Vec<[u8; 48]>,
    /// `execution_requests_root`.
    pub execution_requests_root: [u8; 32],
}

/// Why a case's blocks could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A block is not the case fork's `SignedBeaconBlock`.
    #[error("a known block is not a {fork} SignedBeaconBlock")]
    WrongBlock {
        /// The case's fork.
        fork: &'static str,
    },
    /// A block's root could not be computed.
    #[error("a known block's root could not be computed")]
    Root,
}

/// The reference validator for one case.
#[derive(Debug)]
pub struct ReferenceValidator {
    anchor: AnchorState,
    domains: Domains,
    /// `CAPELLA_FORK_VERSION` (voluntary exits from deneb on, EIP-7044).
    capella_version: [u8; 4],
    /// `GENESIS_FORK_VERSION` (BLS to execution changes).
    genesis_version: [u8; 4],
    /// `store.blocks`, by block root.
    blocks: HashMap<[u8; 32], KnownBlock>,
    /// The anchor block's root.
    anchor_root: [u8; 32],
    /// `store.finalized_checkpoint` as `(epoch, root)`.
    finalized: (u64, [u8; 32]),
    /// `seen.attestation_validator_epochs` for deneb attestations, whose attester is known
    /// only from the committee (Pheme's stateless cache cannot key them).
    seen_attesters: Mutex<HashSet<(u64, u64)>>,
    /// Deneb attestations accepted by `validate`, by message-id, until Pheme records them.
    /// (Entries of messages Pheme refused after all stay: a node would prune them by epoch.)
    accepted_attesters: Mutex<HashMap<pheme_codec::MessageId, (u64, u64)>>,
    /// Gloas: `seen.execution_payloads`, the payloads' gas limits by block hash.
    seen_payloads: Mutex<HashMap<[u8; 32], u64>>,
    /// Gloas: `seen.proposer_preferences`, `(fee_recipient, target_gas_limit)` by
    /// `(dependent_root, proposal_slot)`.
    seen_preferences: Mutex<HashMap<epbs::PreferencesKey, epbs::PreferencesValue>>,
    /// Gloas envelopes and preferences accepted by `validate`, by message-id, until Pheme
    /// records them.
    accepted_gloas: Mutex<HashMap<pheme_codec::MessageId, epbs::Seen>>,
    /// The decision to give where this validator cannot decide (the case's verdict).
    stand_in: Mutex<Option<Decision>>,
    /// How many messages took `stand_in`.
    stood_in: AtomicUsize,
    /// How many messages reached this validator.
    calls: AtomicUsize,
}

impl ReferenceValidator {
    /// A validator over `anchor` with `chain`'s fork versions and no known block yet.
    pub fn new(anchor: AnchorState, chain: &pheme_spec::ChainSpec) -> Self {
        let version = |fork| {
            chain
                .fork_entry(fork)
                .map_or([0u8; 4], |f: pheme_spec::ForkEntry| f.version.0)
        };
        let domains = Domains {
            fork: anchor.fork.clone(),
            genesis_validators_root: anchor.genesis_validators_root,
        };
        let finalized = (spec::epoch_at(anchor.slot), [0u8; 32]);
        ReferenceValidator {
            capella_version: version(pheme_spec::Fork::Capella),
            genesis_version: version(pheme_spec::Fork::Phase0),
            anchor,
            domains,
            blocks: HashMap::new(),
            anchor_root: [0u8; 32],
            finalized,
            seen_attesters: Mutex::new(HashSet::new()),
            accepted_attesters: Mutex::new(HashMap::new()),
            seen_payloads: Mutex::new(HashMap::new()),
            seen_preferences: Mutex::new(HashMap::new()),
            accepted_gloas: Mutex::new(HashMap::new()),
            stand_in: Mutex::new(None),
            stood_in: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
        }
    }

    /// Adds a known block from its SSZ (the case fork's `SignedBeaconBlock`); the first one
    /// added is the anchor, whose root becomes the finalized checkpoint's. Returns its root.
    pub fn add_block(
        &mut self,
        ssz: &[u8],
        imported: bool,
        payload_status: PayloadStatus,
    ) -> Result<[u8; 32], StoreError> {
        use pheme_types::ssz_rs::Deserialize;
        // The fork's block, its root and the fields every fork's checks read.
        macro_rules! fields {
            ($fork:ident) => {{
                let b = pheme_types::minimal::$fork::SignedBeaconBlock::deserialize(ssz).map_err(
                    |_| StoreError::WrongBlock {
                        fork: stringify!($fork),
                    },
                )?;
                let root = spec::root_of(&b.message).ok_or(StoreError::Root)?;
                let m = b.message;
                let fields = (
                    m.slot,
                    m.proposer_index,
                    m.parent_root.0,
                    m.state_root.0,
                    m.body.randao_reveal.0,
                    root,
                );
                (m.body, fields)
            }};
        }
        let mut bid = None;
        let (slot, proposer_index, parent_root, state_root, reveal, root) =
            if let Some(g) = &self.anchor.gloas {
                macro_rules! with_bid {
                    ($fork:ident) => {{
                        let (body, fields) = fields!($fork);
                        let signed = &body.signed_execution_payload_bid.message;
                        bid = Some(KnownBid {
                            builder_index: signed.builder_index,
                            block_hash: signed.block_hash.0,
                            parent_block_hash: signed.parent_block_hash.0,
                            commitments: signed.blob_kzg_commitments.iter().map(|c| c.0).collect(),
                            execution_requests_root: signed.execution_requests_root.0,
                        });
                        fields
                    }};
                }
                if g.heze {
                    with_bid!(heze)
                } else {
                    with_bid!(gloas)
                }
            } else if self.anchor.electra {
                fields!(electra).1
            } else {
                fields!(deneb).1
            };
        if self.blocks.is_empty() {
            self.anchor_root = root;
            self.finalized = (spec::epoch_at(self.anchor.slot), root);
        }
        self.blocks.insert(
            root,
            KnownBlock {
                slot,
                proposer_index,
                parent_root,
                state_root,
                reveal_hash: spec::hash(&[&reveal]),
                imported,
                payload_status,
                bid,
                payload_verified: false,
            },
        );
        Ok(root)
    }

    /// Gloas: records that the payload envelope of the known block `root` has been seen and
    /// verified (a case's `blocks` entry with a `payload`).
    pub fn add_payload(&mut self, root: &[u8; 32]) {
        if let Some(b) = self.blocks.get_mut(root) {
            b.payload_verified = true;
        }
    }

    /// A known block, by root.
    pub fn block(&self, root: &[u8; 32]) -> Option<&KnownBlock> {
        self.blocks.get(root)
    }

    /// The anchor state.
    pub fn anchor(&self) -> &AnchorState {
        &self.anchor
    }

    /// The anchor block's root.
    pub fn anchor_root(&self) -> [u8; 32] {
        self.anchor_root
    }

    /// `store.finalized_checkpoint` as `(epoch, root)`.
    pub fn finalized(&self) -> (u64, [u8; 32]) {
        self.finalized
    }

    /// Overrides `store.finalized_checkpoint`.
    pub fn set_finalized(&mut self, epoch: u64, root: [u8; 32]) {
        self.finalized = (epoch, root);
    }

    /// Sets the decision given where this validator cannot decide the next message.
    pub fn set_stand_in(&self, decision: Option<Decision>) {
        if let Ok(mut s) = self.stand_in.lock() {
            *s = decision;
        }
    }

    /// How many messages took the stand-in decision so far.
    pub fn stood_in(&self) -> usize {
        self.stood_in.load(Ordering::Relaxed)
    }

    /// How many messages reached this validator (passed Pheme's stateless checks) so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// The stand-in decision, counted (an IGNORE if none was set).
    fn undecided(&self) -> Decision {
        self.stood_in.fetch_add(1, Ordering::Relaxed);
        self.stand_in
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or(Decision::ignore("undecided"))
    }

    /// Keeps what an accepted Gloas message adds to `seen` until Pheme records it.
    fn accepted(&self, msg: &InboundMessage, seen: epbs::Seen) {
        if let Ok(mut accepted) = self.accepted_gloas.lock() {
            accepted.insert(msg.message_id, seen);
        }
    }

    /// `get_ancestor(store, root, slot)`: `None` when a block on the way is unknown.
    fn ancestor(&self, mut root: [u8; 32], slot: u64) -> Option<[u8; 32]> {
        loop {
            let b = self.blocks.get(&root)?;
            if b.slot <= slot {
                return Some(root);
            }
            if root == self.anchor_root {
                return Some(root);
            }
            root = b.parent_root;
        }
    }

    /// `get_checkpoint_block(store, root, epoch)`.
    fn checkpoint_block(&self, root: [u8; 32], epoch: u64) -> Option<[u8; 32]> {
        self.ancestor(root, spec::start_slot(epoch))
    }

    /// Whether the finalized checkpoint is an ancestor of (or is) `root`.
    fn finalized_is_ancestor(&self, root: [u8; 32]) -> bool {
        self.checkpoint_block(root, self.finalized.0) == Some(self.finalized.1)
    }

    /// The imported chain's RANDAO reveals from `root` back to the anchor.
    fn reveals(&self, mut root: [u8; 32]) -> Vec<(u64, [u8; 32])> {
        let mut out = Vec::new();
        while root != self.anchor_root {
            let Some(b) = self.blocks.get(&root) else {
                break;
            };
            if b.imported {
                out.push((b.slot, b.reveal_hash));
            }
            root = b.parent_root;
        }
        out
    }

    /// The state the checks read at `epoch`, on the chain of `head` (the anchor when unknown).
    fn view(&self, epoch: u64, head: [u8; 32]) -> EpochView<'_> {
        EpochView::new(&self.anchor, epoch, &self.reveals(head))
    }
}

impl StatefulValidator for ReferenceValidator {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let GossipPayload::Minimal(payload) = &*msg.payload else {
            return self.undecided();
        };
        let result = match payload {
            Payload::VoluntaryExit(e) => ops::voluntary_exit(self, e),
            Payload::ProposerSlashing(s) => ops::proposer_slashing(self, s),
            Payload::AttesterSlashing(s) => ops::attester_slashing(self, s),
            Payload::BlsChange(c) => ops::bls_change(self, c),
            Payload::Attestation(a) => checks::attestation(self, a, msg.subnet()).map(|key| {
                if let (Some(key), Ok(mut accepted)) = (key, self.accepted_attesters.lock()) {
                    accepted.insert(msg.message_id, key);
                }
            }),
            Payload::Aggregate(a) => checks::aggregate(self, a),
            Payload::SyncCommittee(m) => checks::sync_message(self, m, msg.subnet()),
            Payload::Contribution(c) => checks::contribution(self, c),
            Payload::Block(b) => match &**b {
                SignedBlock::Deneb(b) => checks::block(
                    self,
                    &checks::Proposal {
                        slot: b.message.slot,
                        proposer_index: b.message.proposer_index,
                        parent_root: b.message.parent_root.0,
                        root: spec::root_of(&b.message),
                        signature: &b.signature.0,
                    },
                ),
                SignedBlock::Electra(b) => checks::block(
                    self,
                    &checks::Proposal {
                        slot: b.message.slot,
                        proposer_index: b.message.proposer_index,
                        parent_root: b.message.parent_root.0,
                        root: spec::root_of(&b.message),
                        signature: &b.signature.0,
                    },
                ),
                SignedBlock::Gloas(b) => epbs::block(self, &epbs::block_parts!(b)),
                SignedBlock::Heze(b) => epbs::block(self, &epbs::block_parts!(b)),
                _ => Err(Check::Undecided),
            },
            Payload::BlobSidecar(s) => checks::blob_sidecar(self, s),
            // Fulu's `validate_data_column_sidecar_gossip` checks the signed block header as
            // deneb's blob sidecar does.
            Payload::DataColumnSidecar(c) => match &**c {
                DataColumnSidecar::Fulu(s) => checks::signed_header(self, &s.signed_block_header),
                DataColumnSidecar::Gloas(s) => epbs::column(self, s),
            },
            Payload::Bid(b) => {
                let parts = match &**b {
                    SignedBid::Gloas(b) => epbs::bid_parts!(b),
                    SignedBid::Heze(b) => epbs::bid_parts!(b),
                };
                let preferences = epbs::bid_preferences_key(self, &parts).and_then(|key| {
                    let seen = self.seen_preferences.lock().ok()?;
                    seen.get(&key).copied()
                });
                let gas_limit = self
                    .seen_payloads
                    .lock()
                    .ok()
                    .and_then(|seen| seen.get(&parts.parent_block_hash).copied());
                epbs::bid(self, &parts, preferences, gas_limit)
            }
            Payload::Envelope(e) => epbs::envelope(self, e).map(|seen| self.accepted(msg, seen)),
            Payload::PayloadAttestation(m) => epbs::payload_attestation(self, m),
            Payload::ProposerPreferences(p) => {
                epbs::preferences(self, p).map(|seen| self.accepted(msg, seen))
            }
            // Heze's inclusion lists: no case yet.
            Payload::InclusionList(_) => Err(Check::Undecided),
        };
        match result {
            Ok(()) => Decision::Accept,
            Err(Check::Refuse(d)) => d,
            Err(Check::Undecided) => self.undecided(),
        }
    }

    fn validate_partial_header(&self, header: &PartialHeaderMessage) -> Decision {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match checks::signed_header(self, &header.signed_block_header) {
            Ok(()) => Decision::Accept,
            Err(Check::Refuse(d)) => d,
            Err(Check::Undecided) => self.undecided(),
        }
    }

    fn record(&self, msg: &InboundMessage) -> Result<(), Reason> {
        let gloas = self
            .accepted_gloas
            .lock()
            .ok()
            .and_then(|mut a| a.remove(&msg.message_id));
        match gloas {
            Some(epbs::Seen::Payload {
                block_hash,
                gas_limit,
            }) => {
                if let Ok(mut seen) = self.seen_payloads.lock() {
                    seen.insert(block_hash, gas_limit);
                }
            }
            Some(epbs::Seen::Preferences { key, value }) => {
                if let Ok(mut seen) = self.seen_preferences.lock() {
                    seen.insert(key, value);
                }
            }
            None => {}
        }
        let key = self
            .accepted_attesters
            .lock()
            .ok()
            .and_then(|mut a| a.remove(&msg.message_id));
        if let (Some(key), Ok(mut seen)) = (key, self.seen_attesters.lock()) {
            // Checked and inserted at once: two attestations of one attester checked
            // concurrently are not both recorded.
            if !seen.insert(key) {
                return Err(Reason::new("attester_seen"));
            }
        }
        Ok(())
    }
}

/// Why a check did not accept.
#[derive(Debug)]
enum Check {
    /// IGNORE or REJECT.
    Refuse(Decision),
    /// This validator cannot decide (a message outside what the state covers).
    Undecided,
}

/// `Err(Check::Refuse(Decision::reject(label)))`.
fn reject<T>(label: &'static str) -> Result<T, Check> {
    Err(Check::Refuse(Decision::reject(label)))
}

/// `Err(Check::Refuse(Decision::ignore(label)))`.
fn ignore<T>(label: &'static str) -> Result<T, Check> {
    Err(Check::Refuse(Decision::ignore(label)))
}
