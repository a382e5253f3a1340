//! The network service's configuration, built and checked by [`NetworkConfigBuilder`].

use std::sync::Arc;
use std::time::Duration;

use libp2p::{Multiaddr, identity::Keypair};
use pheme_scoring::Profile;
use pheme_spec::{ChainSpec, GossipKind};

use crate::metrics::Metrics;
use crate::trace::TraceSink;

/// Peers the service keeps connected by default (Lighthouse's default target).
pub const DEFAULT_TARGET_PEERS: usize = 100;
/// Extra peers accepted above the target before inbound connections are refused
/// (Lighthouse accepts 10 % more).
pub const DEFAULT_PEER_EXCESS: f64 = 0.1;
/// Default TCP and discovery UDP port; QUIC listens on the next port (Lighthouse's defaults).
pub const DEFAULT_PORT: u16 = 9000;
/// Gossip messages waiting for validation before new ones are IGNOREd.
pub const DEFAULT_VALIDATION_QUEUE: usize = 16_384;
/// Node checks running at once (on blocking threads) by default: every core but the one the
/// swarm needs, at least one.
pub fn default_validation_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}
/// How long after its first copy arrived a message may wait for a verdict: in the queue for the
/// node's checks, or for a deferred answer. Past it the message is IGNOREd: Pheme's router
/// keeps a message for IWANTs for `history_length` heartbeats (mainnet: 6 x 0.7 s = 4.2 s), so
/// a later ACCEPT could be forwarded to no one who still asks for it.
pub const DEFAULT_VALIDATION_DEADLINE: Duration = Duration::from_secs(4);
/// Events waiting for the node before new ones are dropped (and counted).
pub const DEFAULT_EVENT_QUEUE: usize = 16_384;
/// How long Pheme's router lets a small forward (an attestation, an aggregate) wait for others
/// to the same peer before it sends them in one frame: the per-hop latency traded for writes.
pub const DEFAULT_FORWARD_DELAY: Duration = Duration::from_millis(5);
/// How long a graylisted or misbehaving peer stays banned.
pub const DEFAULT_BAN_DURATION: Duration = Duration::from_secs(30 * 60);
/// How long a peer the [`AgentFilter`] dropped is kept out: not dialled again (discovery or
/// static), and its inbound connections refused.
pub const DEFAULT_FILTER_BACKOFF: Duration = Duration::from_secs(30 * 60);
/// With an agent keep-list, how long a peer may stay connected without identifying itself
/// (identify runs on connection; every client answers within a second or two).
pub const DEFAULT_IDENTIFY_TIMEOUT: Duration = Duration::from_secs(15);

/// Which gossipsub router the service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RouterKind {
    /// Pheme's own router (`pheme-router`), the default.
    #[default]
    Pheme,
    /// libp2p-gossipsub 0.50, kept selectable so both can be measured in one run.
    Libp2p,
}

impl RouterKind {
    /// Both, Pheme's first.
    pub const ALL: [RouterKind; 2] = [RouterKind::Pheme, RouterKind::Libp2p];

    /// The name (`pheme`, `libp2p`).
    pub fn name(self) -> &'static str {
        match self {
            RouterKind::Pheme => "pheme",
            RouterKind::Libp2p => "libp2p",
        }
    }
}

impl std::fmt::Display for RouterKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A router name that is neither `pheme` nor `libp2p`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown router {0:?} (pheme or libp2p)")]
pub struct UnknownRouter(pub String);

impl std::str::FromStr for RouterKind {
    type Err = UnknownRouter;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RouterKind::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownRouter(s.to_owned()))
    }
}

/// Which subnet topics to subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subnets {
    /// Every attestation, sync committee, blob and data-column subnet (an observer).
    All,
    /// These attestation subnets, and every sync committee subnet; no sidecar subnets.
    Attestation(Vec<u64>),
}

/// Which peers to keep, by the agent version they send in identify (`Lighthouse/v7.1.0/...`,
/// `Prysm/v6.0.4/...`, `teku/v25.6.0/...`): a peer is kept when its agent contains one of the
/// `keep` patterns (any agent when there are none) and none of the `drop` patterns, compared
/// case-insensitively. Peers not kept are said goodbye (`IrrelevantNetwork`) after identify,
/// counted (`pheme_peers_filtered_total`) and kept out for [`DEFAULT_FILTER_BACKOFF`]; with a
/// keep-list, peers that do not identify within [`DEFAULT_IDENTIFY_TIMEOUT`] go too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFilter {
    keep: Vec<String>,
    drop: Vec<String>,
}

impl AgentFilter {
    /// Keeps agents containing any of `keep` (all when empty) and none of `drop`; patterns are
    /// trimmed and lowercased, empty ones ignored.
    pub fn new<S: AsRef<str>>(
        keep: impl IntoIterator<Item = S>,
        drop: impl IntoIterator<Item = S>,
    ) -> Self {
        let clean = |v: &mut dyn Iterator<Item = S>| -> Vec<String> {
            v.map(|s| s.as_ref().trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Self {
            keep: clean(&mut keep.into_iter()),
            drop: clean(&mut drop.into_iter()),
        }
    }

    /// Whether the filter drops any peer at all.
    pub fn is_active(&self) -> bool {
        !self.keep.is_empty() || !self.drop.is_empty()
    }

    /// Whether a peer must identify itself to stay (there is a keep-list).
    pub fn needs_agent(&self) -> bool {
        !self.keep.is_empty()
    }

    /// Whether a peer with this agent version stays.
    pub fn keeps(&self, agent: &str) -> bool {
        let agent = agent.to_lowercase();
        (self.keep.is_empty() || self.keep.iter().any(|k| agent.contains(k.as_str())))
            && !self.drop.iter().any(|d| agent.contains(d.as_str()))
    }
}

/// The topic kinds a selection may name, for error messages.
fn known_kinds() -> String {
    GossipKind::base_names().collect::<Vec<_>>().join(", ")
}

/// A configuration that [`NetworkConfigBuilder::build`] refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The target peer count is zero.
    #[error("the target peer count must be at least 1")]
    NoTargetPeers,
    /// The keypair is not secp256k1 (eth2 ENRs and peer ids are secp256k1).
    #[error("the node key must be secp256k1, as eth2 ENRs require")]
    KeyType,
    /// Neither a listen address nor a peer to dial.
    #[error("nothing to listen on and no peer to dial")]
    Isolated,
    /// An attestation subnet id is out of range.
    #[error("attestation subnet {0} is out of range (0..{1})")]
    Subnet(u64, u64),
    /// The chain spec is inconsistent.
    #[error(transparent)]
    Chain(#[from] pheme_spec::SpecError),
    /// The queue sizes must be positive.
    #[error("queue sizes must be positive")]
    Queue,
    /// The validation concurrency and deadline must be positive.
    #[error("the validation concurrency and deadline must be positive")]
    Validation,
    /// A topic selection names no topic kind.
    #[error("the topic selection is empty (topic kinds are {})", known_kinds())]
    NoTopicKinds,
    /// A topic selection names something that is not a topic kind.
    #[error("unknown topic kind {0:?} (topic kinds are {known}; subnets are chosen apart)", known = known_kinds())]
    UnknownTopicKind(String),
    /// Partial columns need Pheme's router (libp2p-gossipsub's partial messages are not wired).
    #[error("partial columns need Pheme's router")]
    PartialColumnsRouter,
}

/// Everything the service needs.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    pub(crate) chain: Arc<ChainSpec>,
    pub(crate) keypair: Keypair,
    pub(crate) listen: Vec<Multiaddr>,
    pub(crate) peers: Vec<Multiaddr>,
    pub(crate) target_peers: usize,
    pub(crate) max_peers: usize,
    pub(crate) subnets: Subnets,
    pub(crate) active_validators: u64,
    pub(crate) profile: Profile,
    pub(crate) scoring: bool,
    pub(crate) validation_queue: usize,
    pub(crate) validation_concurrency: usize,
    pub(crate) validation_deadline: Duration,
    pub(crate) event_queue: usize,
    pub(crate) ban_duration: Duration,
    pub(crate) rpc: Option<crate::rpc::RpcConfig>,
    pub(crate) ip_whitelist: Vec<std::net::IpAddr>,
    pub(crate) discovery: Option<pheme_discovery::DiscoveryConfigBuilder>,
    pub(crate) metrics: Metrics,
    pub(crate) traces: Vec<TraceSink>,
    pub(crate) observer: crate::observer::ObserverSinks,
    pub(crate) router: RouterKind,
    pub(crate) router_seed: Option<u64>,
    pub(crate) peer_exchange: Option<bool>,
    pub(crate) forward_delay: Duration,
    /// Base names of the topic kinds to subscribe to (`None`: every kind).
    pub(crate) topic_kinds: Option<Vec<&'static str>>,
    pub(crate) agent_filter: AgentFilter,
    pub(crate) agent_version: String,
    pub(crate) partial_columns: bool,
}

impl NetworkConfig {
    /// A builder for `chain` with a fresh secp256k1 key.
    pub fn builder(chain: ChainSpec) -> NetworkConfigBuilder {
        NetworkConfigBuilder {
            config: NetworkConfig {
                chain: Arc::new(chain),
                keypair: Keypair::generate_secp256k1(),
                listen: Vec::new(),
                peers: Vec::new(),
                target_peers: DEFAULT_TARGET_PEERS,
                max_peers: 0,
                subnets: Subnets::All,
                active_validators: 0,
                profile: Profile::default(),
                scoring: true,
                validation_queue: DEFAULT_VALIDATION_QUEUE,
                validation_concurrency: default_validation_concurrency(),
                validation_deadline: DEFAULT_VALIDATION_DEADLINE,
                event_queue: DEFAULT_EVENT_QUEUE,
                ban_duration: DEFAULT_BAN_DURATION,
                rpc: None,
                ip_whitelist: Vec::new(),
                discovery: None,
                metrics: Metrics::disabled(),
                traces: Vec::new(),
                observer: Default::default(),
                router: RouterKind::default(),
                router_seed: None,
                peer_exchange: None,
                forward_delay: DEFAULT_FORWARD_DELAY,
                topic_kinds: None,
                agent_filter: AgentFilter::default(),
                agent_version: format!("pheme/{}", env!("CARGO_PKG_VERSION")),
                partial_columns: false,
            },
            topic_kinds: None,
        }
    }

    /// The chain.
    pub fn chain(&self) -> &Arc<ChainSpec> {
        &self.chain
    }

    /// The node's key.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// Whether topics of `kind` (a base name) are selected.
    pub(crate) fn selects(&self, kind: &'static str) -> bool {
        self.topic_kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&kind))
    }
}

/// Builds a [`NetworkConfig`]; [`NetworkConfigBuilder::build`] checks it.
#[derive(Debug, Clone)]
pub struct NetworkConfigBuilder {
    config: NetworkConfig,
    topic_kinds: Option<Vec<String>>,
}

impl NetworkConfigBuilder {
    /// The node key (secp256k1).
    pub fn keypair(mut self, keypair: Keypair) -> Self {
        self.config.keypair = keypair;
        self
    }

    /// Adds a listen address (`/ip4/0.0.0.0/tcp/9000`, `/ip4/0.0.0.0/udp/9001/quic-v1`, ...).
    pub fn listen(mut self, addr: Multiaddr) -> Self {
        self.config.listen.push(addr);
        self
    }

    /// Adds a peer to dial and keep dialled.
    pub fn peer(mut self, addr: Multiaddr) -> Self {
        self.config.peers.push(addr);
        self
    }

    /// Target peer count (the maximum defaults to 10 % above it).
    pub fn target_peers(mut self, n: usize) -> Self {
        self.config.target_peers = n;
        self
    }

    /// Maximum peer count (at least the target).
    pub fn max_peers(mut self, n: usize) -> Self {
        self.config.max_peers = n;
        self
    }

    /// Which subnets to subscribe to.
    pub fn subnets(mut self, subnets: Subnets) -> Self {
        self.config.subnets = subnets;
        self
    }

    /// The active validator count the score parameters start from (0: the network's default).
    pub fn active_validators(mut self, n: u64) -> Self {
        self.config.active_validators = n;
        self
    }

    /// The score derivation profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.config.profile = profile;
        self
    }

    /// Whether peer scoring is on (on by default; off only to measure what it buys).
    pub fn scoring(mut self, on: bool) -> Self {
        self.config.scoring = on;
        self
    }

    /// Validation queue length.
    pub fn validation_queue(mut self, n: usize) -> Self {
        self.config.validation_queue = n;
        self
    }

    /// How many of the node's checks run at once, each on a blocking thread (default
    /// [`default_validation_concurrency`]). When more wait, blocks, sidecars and aggregates
    /// go ahead of attestations and sync committee messages.
    pub fn validation_concurrency(mut self, n: usize) -> Self {
        self.config.validation_concurrency = n;
        self
    }

    /// How long a message may wait for its verdict after arriving (default
    /// [`DEFAULT_VALIDATION_DEADLINE`]); past it, it is IGNOREd.
    pub fn validation_deadline(mut self, d: Duration) -> Self {
        self.config.validation_deadline = d;
        self
    }

    /// Event queue length.
    pub fn event_queue(mut self, n: usize) -> Self {
        self.config.event_queue = n;
        self
    }

    /// How long misbehaving peers stay banned.
    pub fn ban_duration(mut self, d: Duration) -> Self {
        self.config.ban_duration = d;
        self
    }

    /// The req/resp limits and timeouts (default: [`crate::rpc::RpcConfig::for_chain`] of the chain).
    pub fn rpc(mut self, rpc: crate::rpc::RpcConfig) -> Self {
        self.config.rpc = Some(rpc);
        self
    }

    /// Addresses exempt from the IP colocation penalty (P6), such as a node's own sentries, or
    /// loopback in tests where every peer shares one address.
    pub fn ip_colocation_whitelist(mut self, ips: Vec<std::net::IpAddr>) -> Self {
        self.config.ip_whitelist = ips;
        self
    }

    /// Runs discv5 discovery with this configuration (its TCP port is set to the port the swarm
    /// listens on); without it the node only dials the peers it is given.
    pub fn discovery(mut self, discovery: pheme_discovery::DiscoveryConfigBuilder) -> Self {
        self.config.discovery = Some(discovery);
        self
    }

    /// Where Pheme's own metrics go.
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.config.metrics = metrics;
        self
    }

    /// The gossipsub router ([`RouterKind::Pheme`] by default).
    pub fn router(mut self, router: RouterKind) -> Self {
        self.config.router = router;
        self
    }

    /// Seeds the router's randomness (Pheme's router only; by default a random seed), for
    /// reproducible runs.
    pub fn router_seed(mut self, seed: u64) -> Self {
        self.config.router_seed = Some(seed);
        self
    }

    /// Peer exchange on PRUNE (Pheme's router only; the preset's `do_px` by default, which is
    /// off for Ethereum): PRUNEs offer other peers with their signed records, and PX from peers
    /// above `accept_px_threshold` is dialled.
    pub fn peer_exchange(mut self, on: bool) -> Self {
        self.config.peer_exchange = Some(on);
        self
    }

    /// How long Pheme's router lets a small forward wait for others to the same peer, so that
    /// they leave in one frame ([`DEFAULT_FORWARD_DELAY`]; zero sends each at once). Blocks,
    /// blobs and columns (1,000 bytes and more) never wait.
    pub fn forward_delay(mut self, delay: Duration) -> Self {
        self.config.forward_delay = delay;
        self
    }

    /// Subscribes to topics of these kinds only (base names such as `beacon_block`,
    /// `beacon_attestation`, `data_column_sidecar`; by default every kind), within the
    /// [`Subnets`] chosen. `build()` refuses names that are not kinds.
    pub fn topic_kinds<S: Into<String>>(mut self, kinds: impl IntoIterator<Item = S>) -> Self {
        self.topic_kinds = Some(kinds.into_iter().map(Into::into).collect());
        self
    }

    /// Which peers to keep by their agent version (by default every peer).
    pub fn agent_filter(mut self, filter: AgentFilter) -> Self {
        self.config.agent_filter = filter;
        self
    }

    /// The agent version identify sends (default `pheme/<version>`): an embedding client
    /// names itself.
    pub fn agent_version(mut self, agent: impl Into<String>) -> Self {
        self.config.agent_version = agent.into();
        self
    }

    /// Where per-message trace records go (once per sink: `--trace`'s JSON lines and an
    /// observer's Parquet writer can both have them).
    pub fn trace(mut self, sink: TraceSink) -> Self {
        self.config.traces.push(sink);
        self
    }

    /// Where Pheme's router's control messages go (GRAFT, PRUNE, IHAVE, IWANT, IDONTWANT, in
    /// and out). Turns the router's control trace on; libp2p-gossipsub has none.
    pub fn control_trace(mut self, sink: crate::trace::RecordSink<crate::ControlEvent>) -> Self {
        self.config.observer.control = Some(sink);
        self
    }

    /// Where peer events go (connections, identify, gossipsub protocol, goodbyes, bans).
    pub fn peer_trace(mut self, sink: crate::trace::RecordSink<crate::PeerEvent>) -> Self {
        self.config.observer.peers = Some(sink);
        self
    }

    /// Which first copies keep their wire data in the trace records (needs a [`trace`] sink;
    /// Pheme's router only: libp2p-gossipsub hands out decompressed data).
    ///
    /// [`trace`]: Self::trace
    pub fn capture(mut self, capture: crate::Capture) -> Self {
        self.config.observer.capture = capture;
        self
    }

    /// Partial data columns (Fulu's `partial-columns` spec over gossipsub's Partial Messages
    /// extension): Pheme's router advertises the extension, requests partial messages on the
    /// Fulu `data_column_sidecar_*` topics, and the validation task assembles columns from
    /// cells (serving the cells it holds to peers that ask). Off by default; Pheme's router
    /// only.
    pub fn partial_columns(mut self, on: bool) -> Self {
        self.config.partial_columns = on;
        self
    }

    /// Where partial-message records go (which cells came from whom, and when). May be called
    /// more than once: every sink gets every record (an observer's JSON lines and its Parquet
    /// table).
    pub fn partial_trace(mut self, sink: crate::trace::RecordSink<crate::PartialEvent>) -> Self {
        self.config.observer.partial.push(sink);
        self
    }

    /// Checks the invariants and returns the configuration.
    pub fn build(mut self) -> Result<NetworkConfig, ConfigError> {
        let c = &mut self.config;
        c.chain.validate()?;
        if c.target_peers == 0 {
            return Err(ConfigError::NoTargetPeers);
        }
        if c.keypair.key_type() != libp2p::identity::KeyType::Secp256k1 {
            return Err(ConfigError::KeyType);
        }
        if c.listen.is_empty() && c.peers.is_empty() {
            return Err(ConfigError::Isolated);
        }
        if c.validation_queue == 0 || c.event_queue == 0 {
            return Err(ConfigError::Queue);
        }
        if c.validation_concurrency == 0 || c.validation_deadline.is_zero() {
            return Err(ConfigError::Validation);
        }
        if c.partial_columns && c.router != RouterKind::Pheme {
            return Err(ConfigError::PartialColumnsRouter);
        }
        if let Subnets::Attestation(list) = &c.subnets
            && let Some(bad) = list
                .iter()
                .find(|s| **s >= c.chain.attestation_subnet_count)
        {
            return Err(ConfigError::Subnet(*bad, c.chain.attestation_subnet_count));
        }
        if let Some(names) = &self.topic_kinds {
            let mut kinds = Vec::new();
            for name in names {
                let name = name.trim();
                let kind = GossipKind::base_names()
                    .find(|k| *k == name)
                    .ok_or_else(|| ConfigError::UnknownTopicKind(name.to_owned()))?;
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            if kinds.is_empty() {
                return Err(ConfigError::NoTopicKinds);
            }
            c.topic_kinds = Some(kinds);
        }
        let excess = (c.target_peers as f64 * DEFAULT_PEER_EXCESS).ceil() as usize;
        c.max_peers = c.max_peers.max(c.target_peers + excess);
        if c.active_validators == 0 {
            c.active_validators = default_validators(&c.chain);
        }
        Ok(self.config)
    }
}

fn default_validators(chain: &ChainSpec) -> u64 {
    chain
        .name
        .parse::<pheme_spec::Network>()
        .map_or(chain.preset.slots_per_epoch * 128 * 64, |n| {
            n.default_active_validators()
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn build_checks_invariants() {
        let chain = pheme_spec::Network::Mainnet.chain_spec().unwrap();
        let b = NetworkConfig::builder(chain).listen("/ip4/127.0.0.1/tcp/0".parse().unwrap());
        let c = b.clone().target_peers(50).build().unwrap();
        assert_eq!((c.target_peers, c.max_peers), (50, 55));
        assert_eq!(c.active_validators, 1_000_000);
        assert!(matches!(
            b.clone().target_peers(0).build(),
            Err(ConfigError::NoTargetPeers)
        ));
        assert!(matches!(
            b.clone().keypair(Keypair::generate_ed25519()).build(),
            Err(ConfigError::KeyType)
        ));
        assert!(matches!(
            b.clone().subnets(Subnets::Attestation(vec![64])).build(),
            Err(ConfigError::Subnet(64, 64))
        ));
        let c = b
            .clone()
            .topic_kinds(["beacon_block", " data_column_sidecar", "beacon_block"])
            .build()
            .unwrap();
        assert_eq!(
            c.topic_kinds,
            Some(vec!["beacon_block", "data_column_sidecar"])
        );
        assert!(c.selects("beacon_block") && !c.selects("beacon_attestation"));
        let e = b.clone().topic_kinds(["beacon_attestation_3"]).build();
        let Err(ConfigError::UnknownTopicKind(name)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(name, "beacon_attestation_3");
        assert!(matches!(
            b.topic_kinds(Vec::<String>::new()).build(),
            Err(ConfigError::NoTopicKinds)
        ));
    }

    #[test]
    fn agent_filter_matches_case_insensitive_substrings() {
        let f = AgentFilter::new(["Lighthouse", " prysm ", ""], ["v5."]);
        assert!(f.is_active() && f.needs_agent());
        assert!(f.keeps("Lighthouse/v7.1.0-e42406d/x86_64-linux"));
        assert!(f.keeps("Prysm/v6.0.4/abc"));
        assert!(!f.keeps("Prysm/v5.3.0/abc"));
        assert!(!f.keeps("teku/v25.6.0"));
        let f = AgentFilter::new(Vec::<String>::new(), vec!["erigon".to_owned()]);
        assert!(f.is_active() && !f.needs_agent());
        assert!(f.keeps("nimbus") && !f.keeps("erigon/caplin"));
        assert!(!AgentFilter::default().is_active());
        assert!(AgentFilter::default().keeps("anything"));
    }
}
