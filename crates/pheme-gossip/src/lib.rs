//! Gossip validation for every Ethereum consensus topic, without a beacon state: one handler
//! per topic kind, each running the spec's checks that need no state, in spec order, with a
//! typed error per check that carries its verdict (IGNORE or REJECT) and a reason label.
//!
//! Validation has two steps so that "first valid message" caches are only fed by messages that
//! were finally accepted: [`Handlers::check`] runs the stateless checks without changing
//! anything and returns what to record; after the [`StatefulValidator`] (a beacon node's
//! signature, committee and fork-choice checks, or nothing for an observer) agrees,
//! [`Handlers::commit`] records it.
//!
//! ```
//! use pheme_gossip::{CheckContext, GossipClock, Handlers, Verdict, decode_message};
//! use pheme_spec::{Fork, GossipKind, Network};
//! use pheme_types::mainnet::electra::SingleAttestation;
//!
//! let chain = Network::Mainnet.chain_spec().unwrap();
//! let slot = 13_500_000;
//! let mut att = SingleAttestation { committee_index: 1, attester_index: 42, ..Default::default() };
//! att.data.slot = slot;
//! att.data.target.epoch = slot / 32;
//! let bytes = pheme_types::ssz_rs::serialize(&att).unwrap();
//! let msg = decode_message(&chain, GossipKind::BeaconAttestation(0), Fork::Fulu, &bytes).unwrap();
//! let now = chain.clock().slot_start_ms(slot) + 1_000;
//! let ctx = CheckContext { clock: GossipClock::new(&chain, now), fork: Fork::Fulu, subnet: Some(1), committees_per_slot: Some(64) };
//! let mut handlers = Handlers::default();
//! let pending = handlers.check(&msg, &ctx).unwrap();
//! handlers.commit(pending);
//! // The same attester again in the same epoch: IGNORE.
//! assert_eq!(handlers.check(&msg, &ctx).unwrap_err().verdict, Verdict::Ignore);
//! ```

mod clock;
mod context;
mod decode;
mod fixed;
#[doc(hidden)]
pub mod fuzzing;
mod handlers;
mod partial;
pub mod payload;
mod seen;
mod stateful;
mod validator;
mod verdict;

pub use clock::GossipClock;
pub use context::CheckContext;
pub use decode::{DecodeError, decode_message, decode_with_json};
pub use handlers::attestation::{
    AggregateError, AggregateHandler, AggregateView, AttestationError, AttestationForm,
    AttestationHandler, AttestationView, subnet_for_attestation,
};
pub use handlers::block::{
    BlockError, BlockHandler, BlockView, Inclusion, KzgCheck, SidecarHandler, SidecarView,
    SignedBidParts, is_valid_merkle_branch, kzg_proofs_valid, merkle_branch_root,
};
pub use handlers::epbs::{
    BidHandler, BidView, ColumnHandler, ColumnView, EnvelopeHandler, EnvelopeView, EpbsBlockParts,
    EpbsError, InclusionListHandler, InclusionListView, MAX_TRANSACTIONS_BYTES_PER_INCLUSION_LIST,
    PayloadAttestationHandler, PreferencesHandler, RequestCounts, operation_over_limit,
    request_over_limit,
};
pub use handlers::operations::{
    AttesterSlashingHandler, AttesterSlashingView, BlsChangeHandler, OperationError,
    ProposerSlashingHandler, VoluntaryExitHandler, bls_change_signature_valid,
    is_slashable_attestation_data,
};
pub use handlers::sync::{
    ContributionError, ContributionHandler, ContributionView, SyncMessageError, SyncMessageHandler,
    is_sync_committee_aggregator,
};
pub use partial::{
    BYTES_PER_CELL, DEFAULT_MAX_BLOCKS, DEFAULT_MAX_PEERS_PER_COLUMN, DEFAULT_REWARD_INTERVAL_MS,
    GROUP_ID_LEN, GROUP_ID_VERSION, Inbound, PartialColumnError, PartialColumns,
    PartialColumnsConfig, PartialHeaderMessage, PartialReply, PartsMetadata, Received, Shape,
    check_cells, check_header, check_shape, decode_group_id, decode_partial_sidecar,
    encode_group_id, header_root, inclusion_proof_valid, partial_sidecar_max_len,
};
pub use payload::{GossipPayload, PayloadError, SszError};
pub use seen::{DEFAULT_SEEN_CAPACITY, SeenBits, SeenMap, SeenSet};
pub use stateful::{Decision, InboundMessage, NoState, Reason, StatefulValidator};
pub use validator::{Begun, Checking, GossipValidator, Outcome};
pub use verdict::{GossipError, Verdict};

use pheme_types::altair::SyncCommitteeMessage;
use pheme_types::capella::SignedBlsToExecutionChange;
use pheme_types::gloas::{PayloadAttestationMessage, SignedProposerPreferences};
use pheme_types::phase0::{ProposerSlashing, SignedVoluntaryExit};

/// A decoded gossip message, as its handler reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GossipMessage {
    /// `beacon_block`.
    Block(BlockView),
    /// `beacon_aggregate_and_proof`.
    Aggregate(AggregateView),
    /// `beacon_attestation_{subnet_id}`.
    Attestation(AttestationView),
    /// `voluntary_exit`.
    VoluntaryExit(SignedVoluntaryExit),
    /// `proposer_slashing` (boxed, like the other rare large views: the enum is moved on every
    /// message's path, so it stays the size of the frequent ones).
    ProposerSlashing(Box<ProposerSlashing>),
    /// `attester_slashing`.
    AttesterSlashing(Box<AttesterSlashingView>),
    /// `sync_committee_{subnet_id}`.
    SyncCommittee(SyncCommitteeMessage),
    /// `sync_committee_contribution_and_proof`.
    Contribution(ContributionView),
    /// `bls_to_execution_change`.
    BlsChange(Box<SignedBlsToExecutionChange>),
    /// `blob_sidecar_{subnet_id}` and `data_column_sidecar_{subnet_id}` (to fulu).
    Sidecar(Box<SidecarView>),
    /// `data_column_sidecar_{subnet_id}` from gloas on.
    Column(Box<ColumnView>),
    /// `execution_payload_bid` (gloas, heze).
    Bid(Box<BidView>),
    /// `execution_payload` (gloas).
    Envelope(Box<EnvelopeView>),
    /// `payload_attestation_message` (gloas).
    PayloadAttestation(Box<PayloadAttestationMessage>),
    /// `proposer_preferences` (gloas).
    ProposerPreferences(Box<SignedProposerPreferences>),
    /// `inclusion_list` (heze).
    InclusionList(Box<InclusionListView>),
}

/// A message that did not pass: verdict, reason label and the error's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// IGNORE or REJECT.
    pub verdict: Verdict,
    /// The failed check's label.
    pub reason: &'static str,
    /// The error, for logs and traces.
    pub detail: Detail,
}

impl<E: GossipError + Into<Detail>> From<E> for Refusal {
    fn from(e: E) -> Self {
        Refusal {
            verdict: e.verdict(),
            reason: e.reason(),
            detail: e.into(),
        }
    }
}

/// A refusal's message, kept as the typed error and rendered only when displayed: refusing a
/// message (a duplicate, or an attacker's garbage) costs no formatting. `Display` (and so
/// `to_string()`) gives the text; an accepted message's detail is empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Detail {
    /// Nothing to say (accepted).
    #[default]
    None,
    /// A fixed message.
    Static(&'static str),
    /// An already rendered message (rare refusals: unknown topics, undecodable SSZ).
    Text(String),
    /// The payload was not decompressed.
    Snappy(pheme_codec::SnappyError),
    /// `beacon_attestation_{subnet_id}`.
    AttestationError(AttestationError),
    /// `beacon_aggregate_and_proof`.
    AggregateError(AggregateError),
    /// Blocks and sidecars.
    BlockError(BlockError),
    /// Exits, slashings, BLS changes.
    OperationError(OperationError),
    /// `sync_committee_{subnet_id}`.
    SyncMessageError(SyncMessageError),
    /// `sync_committee_contribution_and_proof`.
    ContributionError(ContributionError),
    /// Gloas's and Heze's topics.
    EpbsError(EpbsError),
    /// Fulu partial columns (gossipsub partial messages).
    PartialColumnError(PartialColumnError),
    /// The SSZ bytes are not the topic's type.
    Decode(DecodeError),
    /// The node's stateful checks refused it.
    Stateful(Reason),
}

impl Detail {
    /// Whether there is nothing to say (an accepted message).
    pub fn is_empty(&self) -> bool {
        matches!(self, Detail::None)
    }
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Detail::None => Ok(()),
            Detail::Static(s) => f.write_str(s),
            Detail::Text(s) => f.write_str(s),
            Detail::Snappy(e) => e.fmt(f),
            Detail::AttestationError(e) => e.fmt(f),
            Detail::AggregateError(e) => e.fmt(f),
            Detail::BlockError(e) => e.fmt(f),
            Detail::OperationError(e) => e.fmt(f),
            Detail::SyncMessageError(e) => e.fmt(f),
            Detail::ContributionError(e) => e.fmt(f),
            Detail::EpbsError(e) => e.fmt(f),
            Detail::PartialColumnError(e) => e.fmt(f),
            Detail::Decode(e) => {
                // The decoder's own words after the context.
                write!(f, "{e}: ")?;
                std::error::Error::source(e).map_or(Ok(()), |s| std::fmt::Display::fmt(s, f))
            }
            Detail::Stateful(r) => r.fmt(f),
        }
    }
}

impl From<AggregateError> for Detail {
    fn from(e: AggregateError) -> Self {
        Detail::AggregateError(e)
    }
}

impl From<String> for Detail {
    fn from(s: String) -> Self {
        Detail::Text(s)
    }
}

impl From<&'static str> for Detail {
    fn from(s: &'static str) -> Self {
        Detail::Static(s)
    }
}

/// What an accepted message records in its handler's caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending(PendingInner);

#[derive(Debug, Clone, PartialEq, Eq)]
enum PendingInner {
    Block((u64, u64)),
    Aggregate(handlers::attestation::AggregateSeen),
    Attestation(handlers::attestation::AttestationSeen),
    VoluntaryExit(u64),
    ProposerSlashing(u64),
    AttesterSlashing(Vec<u64>),
    SyncCommittee(handlers::sync::SyncMessageSeen),
    Contribution(handlers::sync::ContributionSeen),
    BlsChange(u64),
    Sidecar((u64, u64, u64)),
    Column((u64, ([u8; 32], u64))),
    Bid(handlers::epbs::BidSeen),
    Envelope((u64, ([u8; 32], u64))),
    PayloadAttestation((u64, u64)),
    ProposerPreferences((u64, ([u8; 32], u64))),
    InclusionList((u64, u64)),
}

/// One handler per topic kind.
#[derive(Debug, Default)]
pub struct Handlers {
    /// `beacon_block`.
    pub block: BlockHandler,
    /// `beacon_aggregate_and_proof`.
    pub aggregate: AggregateHandler,
    /// `beacon_attestation_{subnet_id}`.
    pub attestation: AttestationHandler,
    /// `voluntary_exit`.
    pub voluntary_exit: VoluntaryExitHandler,
    /// `proposer_slashing`.
    pub proposer_slashing: ProposerSlashingHandler,
    /// `attester_slashing`.
    pub attester_slashing: AttesterSlashingHandler,
    /// `sync_committee_{subnet_id}`.
    pub sync_committee: SyncMessageHandler,
    /// `sync_committee_contribution_and_proof`.
    pub contribution: ContributionHandler,
    /// `bls_to_execution_change`.
    pub bls_change: BlsChangeHandler,
    /// Blob and data-column sidecars (to fulu).
    pub sidecar: SidecarHandler,
    /// Data-column sidecars from gloas on.
    pub column: ColumnHandler,
    /// `execution_payload_bid`.
    pub bid: BidHandler,
    /// `execution_payload`.
    pub envelope: EnvelopeHandler,
    /// `payload_attestation_message`.
    pub payload_attestation: PayloadAttestationHandler,
    /// `proposer_preferences`.
    pub proposer_preferences: PreferencesHandler,
    /// `inclusion_list`.
    pub inclusion_list: InclusionListHandler,
}

impl Handlers {
    /// Runs the message's handler's stateless checks; changes nothing.
    pub fn check(&self, msg: &GossipMessage, ctx: &CheckContext<'_>) -> Result<Pending, Refusal> {
        let inner = match msg {
            GossipMessage::Block(m) => PendingInner::Block(self.block.check(m, ctx)?),
            GossipMessage::Aggregate(m) => PendingInner::Aggregate(self.aggregate.check(m, ctx)?),
            GossipMessage::Attestation(m) => {
                PendingInner::Attestation(self.attestation.check(m, ctx)?)
            }
            GossipMessage::VoluntaryExit(m) => {
                PendingInner::VoluntaryExit(self.voluntary_exit.check(m, ctx)?)
            }
            GossipMessage::ProposerSlashing(m) => {
                PendingInner::ProposerSlashing(self.proposer_slashing.check(m, ctx)?)
            }
            GossipMessage::AttesterSlashing(m) => {
                PendingInner::AttesterSlashing(self.attester_slashing.check(m, ctx)?)
            }
            GossipMessage::SyncCommittee(m) => {
                PendingInner::SyncCommittee(self.sync_committee.check(m, ctx)?)
            }
            GossipMessage::Contribution(m) => {
                PendingInner::Contribution(self.contribution.check(m, ctx)?)
            }
            GossipMessage::BlsChange(m) => PendingInner::BlsChange(self.bls_change.check(m, ctx)?),
            GossipMessage::Sidecar(m) => PendingInner::Sidecar(self.sidecar.check(m, ctx)?),
            GossipMessage::Column(m) => PendingInner::Column(self.column.check(m, ctx)?),
            GossipMessage::Bid(m) => PendingInner::Bid(self.bid.check(m, ctx)?),
            GossipMessage::Envelope(m) => PendingInner::Envelope(self.envelope.check(m, ctx)?),
            GossipMessage::PayloadAttestation(m) => {
                PendingInner::PayloadAttestation(self.payload_attestation.check(m, ctx)?)
            }
            GossipMessage::ProposerPreferences(m) => {
                PendingInner::ProposerPreferences(self.proposer_preferences.check(m, ctx)?)
            }
            GossipMessage::InclusionList(m) => {
                PendingInner::InclusionList(self.inclusion_list.check(m, ctx)?)
            }
        };
        Ok(Pending(inner))
    }

    /// Records a message whose final verdict is ACCEPT.
    pub fn commit(&mut self, pending: Pending) {
        match pending.0 {
            PendingInner::Block(k) => self.block.commit(k),
            PendingInner::Aggregate(k) => self.aggregate.commit(k),
            PendingInner::Attestation(k) => self.attestation.commit(k),
            PendingInner::VoluntaryExit(k) => self.voluntary_exit.commit(k),
            PendingInner::ProposerSlashing(k) => self.proposer_slashing.commit(k),
            PendingInner::AttesterSlashing(k) => self.attester_slashing.commit(k),
            PendingInner::SyncCommittee(k) => self.sync_committee.commit(k),
            PendingInner::Contribution(k) => self.contribution.commit(k),
            PendingInner::BlsChange(k) => self.bls_change.commit(k),
            PendingInner::Sidecar(k) => self.sidecar.commit(k),
            PendingInner::Column(k) => self.column.commit(k),
            PendingInner::Bid(k) => self.bid.commit(k),
            PendingInner::Envelope(k) => self.envelope.commit(k),
            PendingInner::PayloadAttestation(k) => self.payload_attestation.commit(k),
            PendingInner::ProposerPreferences(k) => self.proposer_preferences.commit(k),
            PendingInner::InclusionList(k) => self.inclusion_list.commit(k),
        }
    }

    /// Drops cache entries too old to matter at `current_slot` (two epochs back, as the seen TTL).
    pub fn prune(&mut self, current_slot: u64, slots_per_epoch: u64) {
        let min_slot = current_slot.saturating_sub(2 * slots_per_epoch);
        let min_epoch = (current_slot / slots_per_epoch.max(1)).saturating_sub(2);
        self.block.prune(min_slot);
        self.aggregate.prune(min_slot, min_epoch);
        self.attestation.prune(min_epoch);
        self.sync_committee.prune(min_slot);
        self.contribution.prune(min_slot);
        self.sidecar.prune(min_slot);
        self.column.prune(min_slot);
        self.bid.prune(min_slot);
        self.envelope.prune(min_slot);
        self.payload_attestation.prune(min_slot);
        self.proposer_preferences.prune(min_slot);
        self.inclusion_list.prune(min_slot);
    }
}
