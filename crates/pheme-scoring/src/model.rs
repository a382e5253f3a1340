//! The derivation's plain data: the derived preset (libp2p's field names, durations in
//! milliseconds), the profiles, the departures a derivation takes ([`Tuning`]), the input limits
//! and why a derivation fails ([`DeriveError`]). It depends on no other module of the crate.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use pheme_spec::{Fork, GossipKind, Slot};
use serde::{Deserialize, Serialize};

/// Which parameter set the derivation engine applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// The recommendations document's recipe with the mesh-delivery (P3) threshold and
    /// activation the attack simulation chose (the default; `presets/README.md`).
    #[default]
    Pheme,
    /// The recommendations document's recipe, generalised, faithful to its assumptions.
    Recommendations,
    /// Lighthouse's derivation (`gossipsub_scoring_parameters.rs`).
    Lighthouse,
    /// Lodestar's derivation (`scoringParameters.ts`).
    Lodestar,
    /// Prysm's derivation (`gossip_scoring_params.go`).
    Prysm,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 5] = [
        Profile::Pheme,
        Profile::Recommendations,
        Profile::Lighthouse,
        Profile::Lodestar,
        Profile::Prysm,
    ];

    /// The profile's name.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Pheme => "pheme",
            Profile::Recommendations => "recommendations",
            Profile::Lighthouse => "lighthouse",
            Profile::Lodestar => "lodestar",
            Profile::Prysm => "prysm",
        }
    }

    /// The mesh degree the profile's client runs with by default (Lighthouse's default network
    /// load uses 5; the spec, the document, Lodestar and Prysm use 8).
    pub fn default_mesh_n(self) -> usize {
        match self {
            Profile::Lighthouse => 5,
            Profile::Pheme | Profile::Recommendations | Profile::Lodestar | Profile::Prysm => 8,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = DeriveError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| DeriveError::UnknownProfile(s.to_owned()))
    }
}

/// Peer-score thresholds (libp2p `PeerScoreThresholds`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Below this, no gossip to or from the peer.
    pub gossip_threshold: f64,
    /// Below this, no publishing to the peer.
    pub publish_threshold: f64,
    /// Below this, every RPC from the peer is ignored.
    pub graylist_threshold: f64,
    /// PX from peers below this is ignored.
    pub accept_px_threshold: f64,
    /// Median mesh score below which opportunistic grafting starts.
    pub opportunistic_graft_threshold: f64,
}

/// One topic's score parameters (libp2p `TopicScoreParams`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[allow(missing_docs)] // each field is libp2p's field of the same name
pub struct TopicScoreParams {
    pub topic_weight: f64,
    pub time_in_mesh_weight: f64,
    pub time_in_mesh_quantum_ms: u64,
    pub time_in_mesh_cap: f64,
    pub first_message_deliveries_weight: f64,
    pub first_message_deliveries_decay: f64,
    pub first_message_deliveries_cap: f64,
    pub mesh_message_deliveries_weight: f64,
    pub mesh_message_deliveries_decay: f64,
    pub mesh_message_deliveries_cap: f64,
    pub mesh_message_deliveries_threshold: f64,
    pub mesh_message_deliveries_window_ms: u64,
    pub mesh_message_deliveries_activation_ms: u64,
    pub mesh_failure_penalty_weight: f64,
    pub mesh_failure_penalty_decay: f64,
    pub invalid_message_deliveries_weight: f64,
    pub invalid_message_deliveries_decay: f64,
}

impl TopicScoreParams {
    /// Whether mesh-delivery penalties (P3) are on.
    pub fn mesh_scored(&self) -> bool {
        self.mesh_message_deliveries_weight < 0.0 && self.mesh_message_deliveries_threshold > 0.0
    }
}

/// Global peer-score parameters (libp2p `PeerScoreParams`), topics included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // each field is libp2p's field of the same name
pub struct PeerScoreParams {
    pub topic_score_cap: f64,
    pub app_specific_weight: f64,
    pub ip_colocation_factor_weight: f64,
    pub ip_colocation_factor_threshold: f64,
    pub behaviour_penalty_weight: f64,
    pub behaviour_penalty_threshold: f64,
    pub behaviour_penalty_decay: f64,
    pub decay_interval_ms: u64,
    pub decay_to_zero: f64,
    pub retain_score_ms: u64,
    pub slow_peer_weight: f64,
    pub slow_peer_threshold: f64,
    pub slow_peer_decay: f64,
    /// Every scored topic of the fork, keyed by name without digest.
    pub topics: BTreeMap<GossipKind, TopicScoreParams>,
}

/// Mesh and router parameters (libp2p `gossipsub::Config` names).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GossipsubParams {
    /// D.
    pub mesh_n: usize,
    /// D_low.
    pub mesh_n_low: usize,
    /// D_high.
    pub mesh_n_high: usize,
    /// D_lazy.
    pub gossip_lazy: usize,
    /// Adaptive gossip factor.
    pub gossip_factor: f64,
    /// D_score: best-scoring peers kept when pruning.
    pub retain_scores: usize,
    /// D_out: outbound peers kept in each mesh.
    pub mesh_outbound_min: usize,
    /// Heartbeat interval.
    pub heartbeat_interval_ms: u64,
    /// Fanout TTL.
    pub fanout_ttl_ms: u64,
    /// mcache length in heartbeats.
    pub history_length: usize,
    /// mcache gossip window in heartbeats.
    pub history_gossip: usize,
    /// Seen-message TTL.
    pub duplicate_cache_time_ms: u64,
    /// PRUNE backoff.
    pub prune_backoff_ms: u64,
    /// Backoff after unsubscribing.
    pub unsubscribe_backoff_ms: u64,
    /// Flood publishing.
    pub flood_publish: bool,
    /// GRAFTs sooner than this after a PRUNE are penalised.
    pub graft_flood_threshold_ms: u64,
    /// Heartbeats between opportunistic grafting rounds.
    pub opportunistic_graft_ticks: u64,
    /// Peers grafted per opportunistic round.
    pub opportunistic_graft_peers: usize,
    /// IWANT requests served per message id and peer (libp2p's spelling).
    pub gossip_retransimission: u32,
    /// Message ids per IHAVE (not a setting of libp2p-gossipsub 0.50, which bounds IHAVE by
    /// `max_control_message_size`; kept for other routers and for documentation).
    pub max_ihave_length: usize,
    /// IHAVE messages accepted per peer per heartbeat.
    pub max_ihave_messages_heartbeat: usize,
    /// Time a peer has to answer an IWANT.
    pub iwant_followup_time_ms: u64,
    /// Whether PRUNE carries peer exchange.
    pub do_px: bool,
    /// Peers offered in PX.
    pub prune_peers: usize,
    /// Largest RPC frame (`max_message_size()` of the spec).
    pub max_transmit_size: usize,
    /// Messages at least this large are announced with IDONTWANT (gossipsub v1.2).
    pub idontwant_message_size_threshold: usize,
}

/// What the preset was derived from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresetMeta {
    /// Network name.
    pub network: String,
    /// Profile.
    pub profile: Profile,
    /// Active validators.
    pub active_validators: u64,
    /// Slot the derivation assumed.
    pub current_slot: Slot,
    /// Fork in force at that slot (decides the topic set).
    pub fork: Fork,
    /// Mesh degree.
    pub mesh_n: usize,
    /// Slot duration.
    pub slot_duration_ms: u64,
    /// `SLOTS_PER_EPOCH`.
    pub slots_per_epoch: u64,
    /// Committees per slot at this validator count.
    pub committees_per_slot: u64,
    /// Expected aggregators per slot (exact expectation).
    pub aggregators_per_slot: f64,
    /// Topics whose mesh-delivery penalties are off because the chain is younger than their
    /// mesh decay window (base names).
    pub mesh_penalties_deferred: Vec<String>,
}

/// Everything gossipsub needs, derived for one network, validator count, slot and profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePreset {
    /// Inputs of the derivation.
    pub meta: PresetMeta,
    /// Score thresholds.
    pub thresholds: Thresholds,
    /// Global and per-topic score parameters.
    pub peer_score_params: PeerScoreParams,
    /// Topics of the fork left without score parameters, with the reason.
    pub unscored_topics: BTreeMap<GossipKind, String>,
    /// Mesh and router parameters.
    pub gossipsub: GossipsubParams,
}

/// Departures from a profile's recipe, for measuring candidates (`pheme simulate --p3-share`).
/// The default departs from nothing. Only the `pheme` and `recommendations` profiles take them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// Share of a topic's expected message rate a mesh peer must deliver within the mesh
    /// window (the document's 1/4); it sets the P3 threshold, weight and activation.
    pub mesh_threshold_share: Option<f64>,
    /// Share of the expected rate a new mesh peer is assumed to deliver while it builds up to
    /// the threshold (the document's 0.6 x 1/2); with the threshold it sets the activation.
    pub ramp_share: Option<f64>,
    /// The share whose build-up at the ramp sets the activation, when it should not be the
    /// threshold's: a lower threshold then keeps the activation a higher one would have.
    pub activation_share: Option<f64>,
    /// Slots added to the activation (a topic published in one burst per slot reaches a peer
    /// grafted just after a burst a slot late); at most [`MAX_ACTIVATION_EXTRA_SLOTS`].
    pub activation_extra_slots: Option<u64>,
    /// The mesh-delivery window in milliseconds (the document's 400), at most a slot.
    pub mesh_window_ms: Option<u64>,
    /// Flood publishing on or off instead of the profile's.
    pub flood_publish: Option<bool>,
}

/// Largest active validator count accepted (the registry limit, 2^40).
pub const MAX_ACTIVE_VALIDATORS: u64 = 1 << 40;
/// Most slots [`Tuning::activation_extra_slots`] may add to P3's activation.
pub const MAX_ACTIVATION_EXTRA_SLOTS: u64 = 64;
/// Largest mesh degree accepted.
pub const MAX_MESH_N: usize = 64;

/// Why a preset could not be derived.
#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    /// No active validators: every rate would be zero.
    #[error("active validator count must be at least 1")]
    NoValidators,
    /// More validators than the registry can hold.
    #[error("active validator count {0} is above the registry limit 2^40")]
    TooManyValidators(u64),
    /// A chain whose slots take no time.
    #[error("slot duration must be at least 1 ms")]
    ZeroSlotDuration,
    /// Decay intervals below 1 s are refused by gossipsub.
    #[error("slot duration {0} ms is below the 1 s minimum decay interval of gossipsub")]
    SlotTooShort(u64),
    /// A mesh degree outside 1..=64.
    #[error("mesh degree {0} is outside 1..={MAX_MESH_N}")]
    BadMeshDegree(usize),
    /// A profile that cannot reproduce its client at this mesh degree.
    #[error("{profile} has no mesh configuration for mesh_n = {mesh_n} (it supports {supported})")]
    UnsupportedMeshDegree {
        /// The profile.
        profile: Profile,
        /// What was asked for.
        mesh_n: usize,
        /// What it supports.
        supported: &'static str,
    },
    /// The chain configuration breaks an invariant.
    #[error(transparent)]
    InvalidChain(#[from] pheme_spec::SpecError),
    /// A profile name that does not exist.
    #[error("unknown profile {0:?}: use pheme, recommendations, lighthouse, lodestar or prysm")]
    UnknownProfile(String),
    /// A mesh threshold share the recipe cannot use.
    #[error(
        "mesh threshold share {0} must be above 0 and below the ramp share {1} (at most 1): a peer at the ramp would never reach the threshold"
    )]
    BadTuning(f64, f64),
    /// A tuning knob past its limit.
    #[error("{what} {value} is above its limit {max}")]
    TuningOutOfRange {
        /// The knob.
        what: &'static str,
        /// What was asked for.
        value: u64,
        /// Its limit.
        max: u64,
    },
    /// Departures asked of a profile that copies a client's derivation.
    #[error("{0} copies a client's derivation and takes no tuning; tune pheme or recommendations")]
    TuningUnsupported(Profile),
    /// A derived number came out infinite or NaN (a defect; the inputs are checked first).
    #[error("derived {0} is not a finite number")]
    NotFinite(String),
}
