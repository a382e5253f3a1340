//! The router's configuration: mesh and gossip parameters (gossipsub v1.0/v1.1 names), the
//! limits that keep a hostile peer's cost bounded, and the peer-score parameters.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// D: the mesh degree (the consensus spec's value).
pub const DEFAULT_MESH_N: usize = 8;
/// D_lo (consensus spec).
pub const DEFAULT_MESH_N_LOW: usize = 6;
/// D_hi (consensus spec).
pub const DEFAULT_MESH_N_HIGH: usize = 12;
/// D_score: best-scoring peers kept when a mesh is trimmed.
pub const DEFAULT_MESH_N_SCORE: usize = 4;
/// D_out: outbound peers each mesh keeps.
pub const DEFAULT_MESH_OUTBOUND_MIN: usize = 2;
/// D_lazy (consensus spec).
pub const DEFAULT_GOSSIP_LAZY: usize = 6;
/// The adaptive gossip factor.
pub const DEFAULT_GOSSIP_FACTOR: f64 = 0.25;
/// The heartbeat (consensus spec: 0.7 s).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(700);
/// Fanout TTL.
pub const DEFAULT_FANOUT_TTL: Duration = Duration::from_secs(60);
/// mcache length in heartbeats (consensus spec).
pub const DEFAULT_HISTORY_LENGTH: usize = 6;
/// mcache gossip window in heartbeats (consensus spec).
pub const DEFAULT_HISTORY_GOSSIP: usize = 3;
/// Seen cache TTL (mainnet's `SLOT_DURATION_MS * SLOTS_PER_EPOCH * 2 / 1000` seconds).
pub const DEFAULT_SEEN_TTL: Duration = Duration::from_secs(768);
/// PRUNE backoff.
pub const DEFAULT_PRUNE_BACKOFF: Duration = Duration::from_secs(60);
/// Backoff after leaving a topic.
pub const DEFAULT_UNSUBSCRIBE_BACKOFF: Duration = Duration::from_secs(10);
/// Heartbeats a backoff is kept past its expiry before this node grafts again, for clocks and
/// PRUNEs in flight.
pub const DEFAULT_BACKOFF_SLACK: u32 = 1;
/// A GRAFT sooner than this after this node's PRUNE costs twice.
pub const DEFAULT_GRAFT_FLOOD_THRESHOLD: Duration = Duration::from_secs(10);
/// Heartbeats between opportunistic grafting rounds.
pub const DEFAULT_OPPORTUNISTIC_GRAFT_TICKS: u64 = 60;
/// Peers grafted per opportunistic round.
pub const DEFAULT_OPPORTUNISTIC_GRAFT_PEERS: usize = 2;
/// Times one peer may ask for one message with IWANT.
pub const DEFAULT_GOSSIP_RETRANSMISSION: u32 = 3;
/// Message ids taken from one peer's IHAVEs per heartbeat (and ids per IHAVE sent).
pub const DEFAULT_MAX_IHAVE_LENGTH: usize = 5000;
/// IHAVE messages taken from one peer per heartbeat.
pub const DEFAULT_MAX_IHAVE_MESSAGES: usize = 10;
/// Time a peer has to deliver a message it announced and this node asked for.
pub const DEFAULT_IWANT_FOLLOWUP_TIME: Duration = Duration::from_secs(3);
/// Peers offered in a PRUNE's peer exchange.
pub const DEFAULT_PRUNE_PEERS: usize = 16;
/// Largest frame (the consensus spec's `max_message_size()` for a 10 MiB payload).
pub const DEFAULT_MAX_TRANSMIT_SIZE: usize = 12_234_442;
/// Subscriptions and control in one inbound frame: a full IHAVE of 5,000 ids plus 4 digests of
/// 256 topics of up to 64 bytes.
pub const DEFAULT_MAX_CONTROL_BYTES: usize = 5000 * 22 + 4 * 256 * 64 + 4096;
/// Messages in one inbound frame.
pub const DEFAULT_MAX_MESSAGES_PER_FRAME: usize = 4096;
/// Topics one peer may be subscribed to (4 digests of 256 topics).
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 1024;
/// Messages whose payload is at least this large are announced with IDONTWANT (v1.2).
pub const DEFAULT_IDONTWANT_THRESHOLD: usize = 1000;
/// IDONTWANT ids remembered per peer.
pub const DEFAULT_MAX_IDONTWANT_IDS: usize = 10_000;
/// How long an IDONTWANT is honoured.
pub const DEFAULT_IDONTWANT_TTL: Duration = Duration::from_secs(3);
/// Bytes of messages batched into one outbound frame (a larger message goes alone). With
/// [`DEFAULT_MAX_CONTROL_PER_FRAME`] it keeps a frame under libp2p-gossipsub's default 64 KiB
/// `max_transmit_size`.
pub const DEFAULT_MAX_BATCH_BYTES: usize = 48 * 1024;
/// Messages batched into one outbound frame (libp2p-gossipsub refuses a frame of more than
/// 500 and closes the stream).
pub const DEFAULT_MAX_BATCH_MESSAGES: usize = 128;
/// Subscriptions and control in one outbound frame (under libp2p-gossipsub's 16 KiB default).
pub const DEFAULT_MAX_CONTROL_PER_FRAME: usize = 15 * 1024;
/// Forwards queued for one peer before the oldest are dropped.
pub const DEFAULT_MAX_FORWARD_QUEUE: usize = 8192;
/// A forward older than this when its turn comes is dropped.
pub const DEFAULT_MAX_FORWARD_AGE: Duration = Duration::from_secs(2);
/// How long a small forward may wait for others to the same peer, so that they leave in one
/// frame (0: at once). Messages of `idontwant_threshold` bytes or more never wait.
pub const DEFAULT_FORWARD_DELAY: Duration = Duration::ZERO;
/// Frames handed to the transport and not yet confirmed written, per peer.
pub const DEFAULT_SEND_WINDOW: u32 = 4;
/// A message without a verdict for this long is dropped as IGNOREd.
pub const DEFAULT_VALIDATION_TIMEOUT: Duration = Duration::from_secs(12);
/// How long a message's delivery record (who sent it, its verdict) is kept at least, for mesh
/// delivery credit and for penalising late copies of an invalid message. The router keeps
/// records longer when a topic's `mesh_message_deliveries_window` or the mcache needs it, and
/// a message still without a verdict until `validation_timeout`.
pub const DEFAULT_DELIVERY_RECORD_TTL: Duration = Duration::from_secs(4);

/// Bytes one flood publish may queue beyond the mesh and the direct peers: what leaves a
/// 25 Mbit/s uplink in about one heartbeat (700 ms), as nim-libp2p bounds it. Every topic
/// peer gets a message of up to 300 bytes (an attestation) from a node with 7,000 peers; a
/// 50 KB block goes to the mesh and about 40 more.
pub const DEFAULT_FLOOD_PUBLISH_MAX_BYTES: usize = 2 * 1024 * 1024;

/// Partial messages queued for one peer before the oldest is dropped: a slot's partial
/// columns are at most one group per column subnet the peer shares with this node (128), sent
/// twice or so (header, then cells).
pub const DEFAULT_MAX_PARTIAL_QUEUE: usize = 256;

/// A configuration refused by [`RouterConfigBuilder::build`] or a parameter check.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A mesh relation gossipsub requires does not hold.
    #[error("mesh parameters: {0}")]
    Mesh(&'static str),
    /// A duration or count must be positive.
    #[error("{0} must be positive")]
    NotPositive(&'static str),
    /// A score parameter is out of range.
    #[error("score parameter {name}: {reason}")]
    Score {
        /// The parameter (with its topic, for topic parameters).
        name: String,
        /// Why.
        reason: &'static str,
    },
}

/// The router's mesh, gossip and limit parameters. Build with [`RouterConfig::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct RouterConfig {
    pub(crate) mesh_n: usize,
    pub(crate) mesh_n_low: usize,
    pub(crate) mesh_n_high: usize,
    pub(crate) mesh_n_score: usize,
    pub(crate) mesh_outbound_min: usize,
    pub(crate) gossip_lazy: usize,
    pub(crate) gossip_factor: f64,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) fanout_ttl: Duration,
    pub(crate) history_length: usize,
    pub(crate) history_gossip: usize,
    pub(crate) seen_ttl: Duration,
    pub(crate) prune_backoff: Duration,
    pub(crate) unsubscribe_backoff: Duration,
    pub(crate) backoff_slack: u32,
    pub(crate) flood_publish: bool,
    pub(crate) graft_flood_threshold: Duration,
    pub(crate) opportunistic_graft_ticks: u64,
    pub(crate) opportunistic_graft_peers: usize,
    pub(crate) gossip_retransmission: u32,
    pub(crate) max_ihave_length: usize,
    pub(crate) max_ihave_messages: usize,
    pub(crate) iwant_followup_time: Duration,
    pub(crate) do_px: bool,
    pub(crate) prune_peers: usize,
    pub(crate) max_transmit_size: usize,
    pub(crate) max_control_bytes: usize,
    pub(crate) max_messages_per_frame: usize,
    pub(crate) max_subscriptions: usize,
    pub(crate) idontwant_threshold: usize,
    pub(crate) max_idontwant_ids: usize,
    pub(crate) idontwant_ttl: Duration,
    pub(crate) max_batch_bytes: usize,
    pub(crate) max_batch_messages: usize,
    pub(crate) max_control_per_frame: usize,
    pub(crate) max_forward_queue: usize,
    pub(crate) max_forward_age: Duration,
    pub(crate) forward_delay: Duration,
    pub(crate) send_window: u32,
    pub(crate) validation_timeout: Duration,
    pub(crate) delivery_record_ttl: Duration,
    pub(crate) partial_messages: bool,
    pub(crate) max_partial_queue: usize,
    pub(crate) flood_publish_max_bytes: usize,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            mesh_n: DEFAULT_MESH_N,
            mesh_n_low: DEFAULT_MESH_N_LOW,
            mesh_n_high: DEFAULT_MESH_N_HIGH,
            mesh_n_score: DEFAULT_MESH_N_SCORE,
            mesh_outbound_min: DEFAULT_MESH_OUTBOUND_MIN,
            gossip_lazy: DEFAULT_GOSSIP_LAZY,
            gossip_factor: DEFAULT_GOSSIP_FACTOR,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            fanout_ttl: DEFAULT_FANOUT_TTL,
            history_length: DEFAULT_HISTORY_LENGTH,
            history_gossip: DEFAULT_HISTORY_GOSSIP,
            seen_ttl: DEFAULT_SEEN_TTL,
            prune_backoff: DEFAULT_PRUNE_BACKOFF,
            unsubscribe_backoff: DEFAULT_UNSUBSCRIBE_BACKOFF,
            backoff_slack: DEFAULT_BACKOFF_SLACK,
            flood_publish: true,
            graft_flood_threshold: DEFAULT_GRAFT_FLOOD_THRESHOLD,
            opportunistic_graft_ticks: DEFAULT_OPPORTUNISTIC_GRAFT_TICKS,
            opportunistic_graft_peers: DEFAULT_OPPORTUNISTIC_GRAFT_PEERS,
            gossip_retransmission: DEFAULT_GOSSIP_RETRANSMISSION,
            max_ihave_length: DEFAULT_MAX_IHAVE_LENGTH,
            max_ihave_messages: DEFAULT_MAX_IHAVE_MESSAGES,
            iwant_followup_time: DEFAULT_IWANT_FOLLOWUP_TIME,
            do_px: false,
            prune_peers: DEFAULT_PRUNE_PEERS,
            max_transmit_size: DEFAULT_MAX_TRANSMIT_SIZE,
            max_control_bytes: DEFAULT_MAX_CONTROL_BYTES,
            max_messages_per_frame: DEFAULT_MAX_MESSAGES_PER_FRAME,
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            idontwant_threshold: DEFAULT_IDONTWANT_THRESHOLD,
            max_idontwant_ids: DEFAULT_MAX_IDONTWANT_IDS,
            idontwant_ttl: DEFAULT_IDONTWANT_TTL,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            max_batch_messages: DEFAULT_MAX_BATCH_MESSAGES,
            max_control_per_frame: DEFAULT_MAX_CONTROL_PER_FRAME,
            max_forward_queue: DEFAULT_MAX_FORWARD_QUEUE,
            max_forward_age: DEFAULT_MAX_FORWARD_AGE,
            forward_delay: DEFAULT_FORWARD_DELAY,
            send_window: DEFAULT_SEND_WINDOW,
            validation_timeout: DEFAULT_VALIDATION_TIMEOUT,
            delivery_record_ttl: DEFAULT_DELIVERY_RECORD_TTL,
            partial_messages: false,
            max_partial_queue: DEFAULT_MAX_PARTIAL_QUEUE,
            flood_publish_max_bytes: DEFAULT_FLOOD_PUBLISH_MAX_BYTES,
        }
    }
}

macro_rules! getters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        impl RouterConfig {
            $($(#[$doc])* pub fn $name(&self) -> $ty { self.$name })*
        }
        impl RouterConfigBuilder {
            $($(#[$doc])* pub fn $name(mut self, v: $ty) -> Self { self.0.$name = v; self })*
        }
    };
}

getters! {
    /// D.
    mesh_n: usize;
    /// D_lo.
    mesh_n_low: usize;
    /// D_hi.
    mesh_n_high: usize;
    /// D_score.
    mesh_n_score: usize;
    /// D_out.
    mesh_outbound_min: usize;
    /// D_lazy.
    gossip_lazy: usize;
    /// The adaptive gossip factor.
    gossip_factor: f64;
    /// The heartbeat interval.
    heartbeat_interval: Duration;
    /// Fanout TTL.
    fanout_ttl: Duration;
    /// mcache length in heartbeats.
    history_length: usize;
    /// mcache gossip window in heartbeats.
    history_gossip: usize;
    /// Seen cache TTL.
    seen_ttl: Duration;
    /// PRUNE backoff.
    prune_backoff: Duration;
    /// Backoff after leaving a topic.
    unsubscribe_backoff: Duration;
    /// Heartbeats of slack past a backoff's expiry before this node grafts.
    backoff_slack: u32;
    /// Flood publishing.
    flood_publish: bool;
    /// GRAFT flood threshold.
    graft_flood_threshold: Duration;
    /// Heartbeats between opportunistic grafting rounds.
    opportunistic_graft_ticks: u64;
    /// Peers grafted per opportunistic round.
    opportunistic_graft_peers: usize;
    /// IWANTs served per message and peer.
    gossip_retransmission: u32;
    /// Ids per IHAVE sent, and ids taken from a peer's IHAVEs per heartbeat.
    max_ihave_length: usize;
    /// IHAVEs taken from a peer per heartbeat.
    max_ihave_messages: usize;
    /// IWANT follow-up time (IWANT promises).
    iwant_followup_time: Duration;
    /// Peer exchange on PRUNE.
    do_px: bool;
    /// Peers offered in PX.
    prune_peers: usize;
    /// Largest frame, either way.
    max_transmit_size: usize;
    /// Subscription and control bytes in one inbound frame.
    max_control_bytes: usize;
    /// Messages in one inbound frame.
    max_messages_per_frame: usize;
    /// Topics a peer may hold.
    max_subscriptions: usize;
    /// IDONTWANT size threshold (payload bytes).
    idontwant_threshold: usize;
    /// IDONTWANT ids remembered per peer.
    max_idontwant_ids: usize;
    /// How long an IDONTWANT is honoured.
    idontwant_ttl: Duration;
    /// Message bytes batched into one outbound frame.
    max_batch_bytes: usize;
    /// Messages batched into one outbound frame.
    max_batch_messages: usize;
    /// Subscription and control bytes in one outbound frame.
    max_control_per_frame: usize;
    /// Forwards queued per peer before the oldest are dropped.
    max_forward_queue: usize;
    /// Forwards older than this are dropped when their turn comes.
    max_forward_age: Duration;
    /// How long a small forward may wait to be batched with others to the same peer.
    forward_delay: Duration;
    /// Frames in flight per peer.
    send_window: u32;
    /// Time to a verdict before a message counts as IGNOREd.
    validation_timeout: Duration;
    /// Life of a delivery record.
    delivery_record_ttl: Duration;
    /// The Partial Messages extension: advertised in the Extensions message to `/meshsub/1.3.0`
    /// peers, and needed by [`Router::set_partial`](crate::Router::set_partial). Off by default.
    partial_messages: bool;
    /// Partial messages queued per peer before the oldest are dropped.
    max_partial_queue: usize;
    /// Bytes a flood publish queues beyond the mesh and direct peers (`usize::MAX`: every
    /// topic peer, as the gossipsub spec words it).
    flood_publish_max_bytes: usize;
}

impl RouterConfig {
    /// A builder starting from the defaults (the consensus spec's values).
    pub fn builder() -> RouterConfigBuilder {
        RouterConfigBuilder(Self::default())
    }

    /// A builder starting from `config`, to change a few fields.
    pub fn builder_from(config: RouterConfig) -> RouterConfigBuilder {
        RouterConfigBuilder(config)
    }
}

/// Builds a [`RouterConfig`]; [`build`](Self::build) checks gossipsub's invariants.
#[derive(Debug, Clone)]
pub struct RouterConfigBuilder(RouterConfig);

impl RouterConfigBuilder {
    /// Checks the invariants and returns the configuration.
    pub fn build(self) -> Result<RouterConfig, ConfigError> {
        let c = self.0;
        if c.mesh_n == 0 {
            return Err(ConfigError::NotPositive("mesh_n"));
        }
        if !(c.mesh_n_low <= c.mesh_n && c.mesh_n <= c.mesh_n_high) {
            return Err(ConfigError::Mesh("D_lo <= D <= D_hi"));
        }
        if c.mesh_n_score > c.mesh_n {
            return Err(ConfigError::Mesh("D_score <= D"));
        }
        if c.mesh_outbound_min > c.mesh_n / 2 || c.mesh_outbound_min >= c.mesh_n_low.max(1) {
            return Err(ConfigError::Mesh("D_out <= D/2 and D_out < D_lo"));
        }
        if c.history_gossip > c.history_length || c.history_length == 0 {
            return Err(ConfigError::Mesh("0 < history_gossip <= history_length"));
        }
        if !(0.0..=1.0).contains(&c.gossip_factor) {
            return Err(ConfigError::Mesh("gossip_factor in [0, 1]"));
        }
        for (name, d) in [
            ("heartbeat_interval", c.heartbeat_interval),
            ("seen_ttl", c.seen_ttl),
            ("fanout_ttl", c.fanout_ttl),
            ("iwant_followup_time", c.iwant_followup_time),
            ("validation_timeout", c.validation_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError::NotPositive(name));
            }
        }
        for (name, n) in [
            ("max_transmit_size", c.max_transmit_size),
            ("max_control_bytes", c.max_control_bytes),
            ("max_messages_per_frame", c.max_messages_per_frame),
            ("max_batch_bytes", c.max_batch_bytes),
            ("max_batch_messages", c.max_batch_messages),
            ("max_control_per_frame", c.max_control_per_frame),
            ("max_forward_queue", c.max_forward_queue),
            ("max_ihave_length", c.max_ihave_length),
            ("send_window", c.send_window as usize),
            ("max_partial_queue", c.max_partial_queue),
        ] {
            if n == 0 {
                return Err(ConfigError::NotPositive(name));
            }
        }
        Ok(c)
    }
}

/// Peer-score thresholds (gossipsub v1.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Below this, no gossip to or from the peer.
    pub gossip: f64,
    /// Below this, nothing this node publishes goes to the peer.
    pub publish: f64,
    /// Below this, every RPC of the peer is dropped.
    pub graylist: f64,
    /// PX from peers below this is ignored.
    pub accept_px: f64,
    /// Median mesh score below which opportunistic grafting starts.
    pub opportunistic_graft: f64,
}

impl Default for Thresholds {
    /// Scoring off: no peer ever crosses a threshold.
    fn default() -> Self {
        Self {
            gossip: f64::NEG_INFINITY,
            publish: f64::NEG_INFINITY,
            graylist: f64::NEG_INFINITY,
            accept_px: 0.0,
            opportunistic_graft: 0.0,
        }
    }
}

impl Thresholds {
    /// The relations gossipsub v1.1 requires: graylist < publish <= gossip <= 0, accept_px >= 0,
    /// opportunistic_graft >= 0.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |reason| {
            Err(ConfigError::Score {
                name: "thresholds".into(),
                reason,
            })
        };
        if self.gossip > 0.0 {
            return bad("gossip_threshold must be <= 0");
        }
        if self.publish > self.gossip {
            return bad("publish_threshold must be <= gossip_threshold");
        }
        if self.graylist > self.publish
            || (self.graylist == self.publish && self.graylist.is_finite())
        {
            return bad("graylist_threshold must be < publish_threshold");
        }
        if self.accept_px < 0.0 || self.opportunistic_graft < 0.0 {
            return bad("accept_px and opportunistic_graft thresholds must be >= 0");
        }
        Ok(())
    }
}

/// One topic's score parameters (gossipsub v1.1, "Topic Parameter Calculation").
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[allow(missing_docs)] // each field is the spec's parameter of the same name
pub struct TopicScoreParams {
    pub topic_weight: f64,
    pub time_in_mesh_weight: f64,
    pub time_in_mesh_quantum: Duration,
    pub time_in_mesh_cap: f64,
    pub first_message_deliveries_weight: f64,
    pub first_message_deliveries_decay: f64,
    pub first_message_deliveries_cap: f64,
    pub mesh_message_deliveries_weight: f64,
    pub mesh_message_deliveries_decay: f64,
    pub mesh_message_deliveries_cap: f64,
    pub mesh_message_deliveries_threshold: f64,
    pub mesh_message_deliveries_window: Duration,
    pub mesh_message_deliveries_activation: Duration,
    pub mesh_failure_penalty_weight: f64,
    pub mesh_failure_penalty_decay: f64,
    pub invalid_message_deliveries_weight: f64,
    pub invalid_message_deliveries_decay: f64,
}

fn decay_ok(v: f64) -> bool {
    v > 0.0 && v < 1.0
}

impl TopicScoreParams {
    /// The ranges the spec asks for (weights' signs, decays in (0, 1), positive quanta).
    pub fn validate(&self, topic: &str) -> Result<(), ConfigError> {
        let bad = |field: &str, reason| {
            Err(ConfigError::Score {
                name: format!("{topic}.{field}"),
                reason,
            })
        };
        if self.topic_weight < 0.0 {
            return bad("topic_weight", "must be >= 0");
        }
        if self.time_in_mesh_weight < 0.0 {
            return bad("time_in_mesh_weight", "must be >= 0");
        }
        if self.time_in_mesh_weight != 0.0
            && (self.time_in_mesh_quantum.is_zero() || self.time_in_mesh_cap <= 0.0)
        {
            return bad("time_in_mesh", "quantum and cap must be positive");
        }
        if self.first_message_deliveries_weight < 0.0 {
            return bad("first_message_deliveries_weight", "must be >= 0");
        }
        if self.first_message_deliveries_weight != 0.0
            && (!decay_ok(self.first_message_deliveries_decay)
                || self.first_message_deliveries_cap <= 0.0)
        {
            return bad("first_message_deliveries", "decay in (0,1), cap > 0");
        }
        if self.mesh_message_deliveries_weight > 0.0 {
            return bad("mesh_message_deliveries_weight", "must be <= 0");
        }
        if self.mesh_message_deliveries_weight != 0.0
            && (!decay_ok(self.mesh_message_deliveries_decay)
                || self.mesh_message_deliveries_cap <= 0.0
                || self.mesh_message_deliveries_threshold <= 0.0
                || self.mesh_message_deliveries_activation < Duration::from_secs(1))
        {
            return bad(
                "mesh_message_deliveries",
                "decay in (0,1), cap and threshold > 0, activation >= 1 s",
            );
        }
        if self.mesh_failure_penalty_weight > 0.0 {
            return bad("mesh_failure_penalty_weight", "must be <= 0");
        }
        if self.mesh_failure_penalty_weight != 0.0 && !decay_ok(self.mesh_failure_penalty_decay) {
            return bad("mesh_failure_penalty_decay", "must be in (0,1)");
        }
        if self.invalid_message_deliveries_weight > 0.0 {
            return bad("invalid_message_deliveries_weight", "must be <= 0");
        }
        if self.invalid_message_deliveries_weight != 0.0
            && !decay_ok(self.invalid_message_deliveries_decay)
        {
            return bad("invalid_message_deliveries_decay", "must be in (0,1)");
        }
        Ok(())
    }

    /// Whether P3 (mesh message deliveries) is scored on this topic.
    pub fn mesh_scored(&self) -> bool {
        self.mesh_message_deliveries_weight < 0.0 && self.mesh_message_deliveries_threshold > 0.0
    }
}

/// Global peer-score parameters (gossipsub v1.1) and the topics' own.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerScoreParams {
    /// Cap on the positive sum of the topic components (0: no cap).
    pub topic_score_cap: f64,
    /// P5 weight.
    pub app_specific_weight: f64,
    /// P6 weight (negative).
    pub ip_colocation_factor_weight: f64,
    /// Peers per IP before P6 applies.
    pub ip_colocation_factor_threshold: f64,
    /// IPs exempt from P6.
    pub ip_colocation_whitelist: Vec<IpAddr>,
    /// P7 weight (negative).
    pub behaviour_penalty_weight: f64,
    /// P7 counter below which no penalty applies.
    pub behaviour_penalty_threshold: f64,
    /// P7 decay.
    pub behaviour_penalty_decay: f64,
    /// How often counters decay.
    pub decay_interval: Duration,
    /// Counters below this decay to zero.
    pub decay_to_zero: f64,
    /// How long a disconnected peer's score is kept.
    pub retain_score: Duration,
    /// Per topic string; unlisted topics add nothing.
    pub topics: HashMap<String, TopicScoreParams>,
}

impl Default for PeerScoreParams {
    fn default() -> Self {
        Self {
            topic_score_cap: 0.0,
            app_specific_weight: 1.0,
            ip_colocation_factor_weight: 0.0,
            ip_colocation_factor_threshold: 1.0,
            ip_colocation_whitelist: Vec::new(),
            behaviour_penalty_weight: 0.0,
            behaviour_penalty_threshold: 0.0,
            behaviour_penalty_decay: 0.9,
            decay_interval: Duration::from_secs(1),
            decay_to_zero: 0.01,
            retain_score: Duration::from_secs(3600),
            topics: HashMap::new(),
        }
    }
}

impl PeerScoreParams {
    /// The ranges the spec asks for, topics included.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |name: &str, reason| {
            Err(ConfigError::Score {
                name: name.into(),
                reason,
            })
        };
        if self.topic_score_cap < 0.0 {
            return bad("topic_score_cap", "must be >= 0");
        }
        if self.ip_colocation_factor_weight > 0.0 {
            return bad("ip_colocation_factor_weight", "must be <= 0");
        }
        if self.ip_colocation_factor_weight != 0.0 && self.ip_colocation_factor_threshold < 1.0 {
            return bad("ip_colocation_factor_threshold", "must be >= 1");
        }
        if self.behaviour_penalty_weight > 0.0 {
            return bad("behaviour_penalty_weight", "must be <= 0");
        }
        if self.behaviour_penalty_weight != 0.0 && !decay_ok(self.behaviour_penalty_decay) {
            return bad("behaviour_penalty_decay", "must be in (0,1)");
        }
        if self.behaviour_penalty_threshold < 0.0 {
            return bad("behaviour_penalty_threshold", "must be >= 0");
        }
        if self.decay_interval < Duration::from_millis(100) {
            return bad("decay_interval", "must be >= 100 ms");
        }
        if !(self.decay_to_zero > 0.0 && self.decay_to_zero < 1.0) {
            return bad("decay_to_zero", "must be in (0,1)");
        }
        for (topic, p) in &self.topics {
            p.validate(topic)?;
        }
        Ok(())
    }
}

/// Everything scoring needs: parameters and thresholds. `None` in the router turns scoring
/// off (every peer scores 0, no threshold applies).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringConfig {
    /// Parameters.
    pub params: PeerScoreParams,
    /// Thresholds.
    pub thresholds: Thresholds,
}

impl ScoringConfig {
    /// Checks both.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.params.validate()?;
        self.thresholds.validate()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn builder_checks_mesh_relations() {
        assert!(RouterConfig::builder().build().is_ok());
        assert!(RouterConfig::builder().mesh_n_low(9).build().is_err());
        assert!(
            RouterConfig::builder()
                .mesh_outbound_min(6)
                .build()
                .is_err()
        );
        assert!(RouterConfig::builder().history_gossip(7).build().is_err());
        assert!(
            RouterConfig::builder()
                .heartbeat_interval(Duration::ZERO)
                .build()
                .is_err()
        );
        let c = RouterConfig::builder()
            .mesh_n(6)
            .mesh_n_low(4)
            .build()
            .unwrap();
        assert_eq!((c.mesh_n(), c.mesh_n_low(), c.mesh_n_high()), (6, 4, 12));
    }

    #[test]
    fn thresholds_and_params_are_checked() {
        let t = Thresholds {
            gossip: -10.0,
            publish: -20.0,
            graylist: -40.0,
            accept_px: 10.0,
            opportunistic_graft: 1.0,
        };
        assert!(t.validate().is_ok());
        assert!(Thresholds { gossip: 1.0, ..t }.validate().is_err());
        assert!(
            Thresholds {
                graylist: -20.0,
                ..t
            }
            .validate()
            .is_err()
        );
        assert!(Thresholds::default().validate().is_ok());
        let mut p = PeerScoreParams::default();
        assert!(p.validate().is_ok());
        p.topics.insert(
            "t".into(),
            TopicScoreParams {
                mesh_message_deliveries_weight: -1.0,
                ..Default::default()
            },
        );
        assert!(p.validate().is_err());
    }
}
