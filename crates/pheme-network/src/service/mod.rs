//! The service: one tokio task owns the libp2p swarm; the validation task runs beside it.

mod router;
mod rpc;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, Swarm, allow_block_list, connection_limits, identify, noise, tcp, yamux,
};
use pheme_gossip::{GossipValidator, StatefulValidator};
use pheme_scoring::{DeriveInput, ScorePreset, derive, rederive};
use pheme_spec::{ChainSpec, DigestEpoch, ForkDigest, GossipKind, unix_now_ms};
use prometheus_client::registry::Registry;
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::{NetworkConfig, Subnets};
use crate::discovery::{DiscoveryTask, Wants};
use crate::handle::{Command, HandleError, NetworkEvent, NetworkHandle, NetworkSnapshot};
use crate::meshsub::Meshsub;
use crate::rpc::{GoodbyeReason, LocalNode, RpcBehaviour, RpcConfig, StatusMessage};
use crate::scores::ScoreTracker;
use crate::topics::{accepted_digests, active_digests, kinds_for};
use crate::transform::Eth2SubscriptionFilter;
use crate::validation::{Inbound, Report, ValidationTask};
use crate::{ParamsError, topic_name};
use pheme_discovery::{LocalIdentity, PeerInfo};
use router::Gossipsub;
use rpc::RpcState;
pub use rpc::{
    GOODBYE_GRACE, RPC_STRIKE_DECAY, RPC_STRIKE_LIMIT, STRIKE_FAULT, STRIKE_RATE_LIMITED,
    STRIKE_TIMEOUT,
};

/// A peer's score must move this much (or cross zero) for a [`NetworkEvent::ScoreChanged`].
pub const SCORE_EVENT_DELTA: f64 = 1.0;
/// How often the service re-checks peers, meshes, topics and scores.
pub const TICK: Duration = Duration::from_millis(500);
/// How often static peers that are not connected are dialled again.
pub const REDIAL_INTERVAL: Duration = Duration::from_secs(5);
/// Verdicts applied per turn of the service loop at most (the rest wait one turn).
const MAX_REPORTS_PER_TURN: usize = 1024;
/// Turns of the service loop before it yields to the runtime. On a busy runtime every
/// connection task is ready at once and the validation task waits behind all of them and the
/// service, so a message's verdict waits for a whole round; short service turns keep that round
/// short. At mainnet's peak on one core (the ingest bench, load 1) 128 turns (a unit of tokio's
/// budget spent per turn) gave an attestation p99 of 10.5 ms, 16 gave 1.6 ms on the same CPU,
/// 8 gave 1.4 ms on 10 % more CPU.
const TURNS_BEFORE_YIELD: u32 = 16;
/// Identify's protocol version string (Lighthouse and Lodestar send the same).
pub const IDENTIFY_PROTOCOL: &str = "eth2/1.0.0";

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// Score derivation failed for the chain.
    #[error("score derivation failed: {0}")]
    Derive(#[from] pheme_scoring::DeriveError),
    /// libp2p refused the derived parameters.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The gossipsub router could not be built.
    #[error("gossipsub: {0}")]
    Gossipsub(String),
    /// A transport could not be built.
    #[error("transport: {0}")]
    Transport(String),
    /// The node key cannot serve as a discovery identity.
    #[error("discovery identity: {0}")]
    Identity(String),
    /// A listen address was refused.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
}

/// Pheme's libp2p behaviours.
#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
pub(crate) struct Behaviour {
    pub gossipsub: Toggle<Gossipsub>,
    pub meshsub: Toggle<Meshsub>,
    pub identify: identify::Behaviour,
    pub limits: connection_limits::Behaviour,
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub rpc: RpcBehaviour,
}

/// Starts the service on the current tokio runtime: the swarm task and the validation task.
/// `stateful` runs the node's state checks (use [`pheme_gossip::NoState`] for an observer);
/// `registry` receives libp2p's own metrics. Returns the handle and the event stream.
pub fn spawn<S: StatefulValidator + 'static>(
    config: NetworkConfig,
    stateful: S,
    registry: Option<&mut Registry>,
) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>), NetworkError> {
    let chain = config.chain.clone();
    let now_ms = unix_now_ms();
    let slot = chain.clock().slot_at_ms(now_ms).unwrap_or(0);
    let epoch = chain.epoch_of(slot);
    let digests = active_digests(&chain, epoch);
    let mut presets = BTreeMap::new();
    for d in &digests {
        presets.insert(
            d.digest,
            derive_for(&chain, d, config.active_validators, slot, &config)?,
        );
    }
    let current = digests
        .first()
        .and_then(|d| presets.get(&d.digest))
        .ok_or_else(|| NetworkError::Gossipsub("no fork digest".into()))?
        .clone();

    let mut registry = registry;
    let built = router::build(&config, &chain, &presets, &current, registry.as_deref_mut())?;

    let keypair = config.keypair.clone();
    let local_peer_id = keypair.public().to_peer_id();
    // Identify carries a signed peer record, which Pheme's router offers in peer exchange.
    let identify = identify::Behaviour::new(
        identify::Config::new_with_signed_peer_record(IDENTIFY_PROTOCOL.into(), &keypair)
            .with_agent_version(format!("pheme/{}", env!("CARGO_PKG_VERSION"))),
    );
    let limits = connection_limits::Behaviour::new(
        connection_limits::ConnectionLimits::default()
            .with_max_established(Some(config.max_peers as u32))
            .with_max_established_per_peer(Some(1)),
    );
    let behaviour = Behaviour {
        gossipsub: built.gossipsub,
        meshsub: built.meshsub,
        identify,
        limits,
        blocked: Default::default(),
        rpc: RpcBehaviour::new(
            config
                .rpc
                .clone()
                .unwrap_or_else(|| RpcConfig::for_chain(&chain)),
        ),
    };
    let swarm_builder = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            (yamux::Config::default, libp2p_mplex::Config::default),
        )
        .map_err(|e| NetworkError::Transport(e.to_string()))?
        .with_quic();
    let mut swarm = match registry {
        Some(r) => swarm_builder
            .with_bandwidth_metrics(r)
            .with_behaviour(|_| behaviour)
            .map_err(|e| NetworkError::Transport(e.to_string()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build(),
        None => swarm_builder
            .with_behaviour(|_| behaviour)
            .map_err(|e| NetworkError::Transport(e.to_string()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build(),
    };
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| NetworkError::Listen {
                addr: addr.clone(),
                reason: e.to_string(),
            })?;
    }

    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (events_tx, events_rx) = mpsc::channel(config.event_queue);
    let (inbound_tx, inbound_rx) = mpsc::channel(config.validation_queue);
    let (reports_tx, reports_rx) = mpsc::unbounded_channel();
    let committees = chain.committees_per_slot(config.active_validators);
    let (committees_tx, committees_rx) = watch::channel(committees);

    let mut validator = GossipValidator::new((*chain).clone(), stateful);
    validator.committees_per_slot = Some(committees);
    let task = ValidationTask {
        validator,
        chain: chain.clone(),
        inbound: inbound_rx,
        reports: reports_tx,
        events: events_tx.clone(),
        arrivals: built.arrivals,
        committees: committees_rx,
        metrics: config.metrics.clone(),
        handles: Default::default(),
        trace: config.trace.clone(),
    };
    tokio::spawn(task.run());

    let enr = Arc::new(std::sync::Mutex::new(None));
    let (tcp_port_tx, tcp_port_rx) = watch::channel(None);
    let (wants_tx, found_rx) = match config.discovery.clone() {
        Some(builder) => {
            let secret = config
                .keypair
                .clone()
                .try_into_secp256k1()
                .map_err(|e| NetworkError::Identity(e.to_string()))?
                .secret()
                .to_bytes();
            let identity = LocalIdentity::from_secret_bytes(secret)
                .map_err(|e| NetworkError::Identity(e.to_string()))?;
            let (wants_tx, wants_rx) = watch::channel(Wants {
                epoch,
                ..Wants::default()
            });
            let (found_tx, found_rx) = mpsc::channel(16);
            tokio::spawn(
                DiscoveryTask {
                    builder,
                    identity,
                    chain: chain.clone(),
                    wants: wants_rx,
                    tcp_port: tcp_port_rx,
                    found: found_tx,
                    enr: enr.clone(),
                    metrics: config.metrics.clone(),
                }
                .run(),
            );
            (Some(wants_tx), Some(found_rx))
        }
        None => (None, None),
    };
    // libp2p-gossipsub hides most of its score; the tracker rebuilds what it can.
    let mut tracker_params = crate::peer_score_params(&by_digest(&presets))?;
    tracker_params.ip_colocation_factor_whitelist = config.ip_whitelist.iter().copied().collect();
    let kinds = kinds_by_digest(&chain, &digests, &config);
    let local = LocalNode::new(
        StatusMessage {
            fork_digest: digests.first().map(|d| d.digest).unwrap_or_default(),
            earliest_available_slot: Some(slot),
            ..Default::default()
        },
        Default::default(),
    );
    let service = Service {
        rpc: RpcState::new(local),
        enr,
        tcp_port: tcp_port_tx,
        wants: wants_tx,
        found: found_rx,
        shutdown_deadline: None,
        scores: ScoreTracker::new(tracker_params),
        swarm,
        chain,
        presets,
        transform_counters: built.counters,
        filter: built.filter,
        kinds,
        extra_kinds: HashSet::new(),
        removed_kinds: HashSet::new(),
        subscribed: HashSet::new(),
        commands: cmd_rx,
        reports: reports_rx,
        inbound: inbound_tx,
        events: events_tx,
        committees: committees_tx,
        peers: HashMap::new(),
        banned: HashMap::new(),
        static_peers: config
            .peers
            .iter()
            .map(|a| (a.clone(), None::<Instant>))
            .collect(),
        last_scores: HashMap::new(),
        validation_stopped: false,
        last_epoch: None,
        graylist: built.graylist,
        config,
        shutdown: None,
    };
    // Every line the service and its router log carries the node's peer id, so several nodes in
    // one process (tests, `pheme simulate`) can be told apart.
    let span = tracing::info_span!(target: "pheme::network", "node", peer = %local_peer_id);
    tokio::spawn(tracing::Instrument::instrument(service.run(), span));
    Ok((
        NetworkHandle {
            tx: cmd_tx,
            local_peer_id,
        },
        events_rx,
    ))
}

fn derive_for(
    chain: &ChainSpec,
    digest: &DigestEpoch,
    validators: u64,
    slot: u64,
    config: &NetworkConfig,
) -> Result<ScorePreset, pheme_scoring::DeriveError> {
    // A digest not yet in force is derived at its first slot, so its fork's topics are there.
    let slot = slot.max(chain.start_slot(digest.epoch));
    derive(&DeriveInput {
        chain,
        active_validators: validators,
        current_slot: slot,
        mesh_n: None,
        profile: config.profile,
    })
}

fn by_digest(presets: &BTreeMap<ForkDigest, ScorePreset>) -> Vec<(ForkDigest, &ScorePreset)> {
    presets.iter().map(|(d, p)| (*d, p)).collect()
}

fn kinds_by_digest(
    chain: &ChainSpec,
    digests: &[DigestEpoch],
    config: &NetworkConfig,
) -> Vec<(DigestEpoch, Vec<GossipKind>)> {
    digests
        .iter()
        .map(|d| (*d, kinds_for(chain, d, &config.subnets)))
        .collect()
}

struct PeerState {
    addr: Multiaddr,
    outbound: bool,
}

struct Service {
    swarm: Swarm<Behaviour>,
    chain: Arc<ChainSpec>,
    config: NetworkConfig,
    presets: BTreeMap<ForkDigest, ScorePreset>,
    transform_counters: Arc<crate::transform::TransformCounters>,
    filter: Eth2SubscriptionFilter,
    kinds: Vec<(DigestEpoch, Vec<GossipKind>)>,
    extra_kinds: HashSet<GossipKind>,
    removed_kinds: HashSet<GossipKind>,
    subscribed: HashSet<String>,
    commands: mpsc::UnboundedReceiver<Command>,
    reports: mpsc::UnboundedReceiver<Report>,
    inbound: mpsc::Sender<Inbound>,
    events: mpsc::Sender<NetworkEvent>,
    committees: watch::Sender<u64>,
    scores: ScoreTracker,
    peers: HashMap<PeerId, PeerState>,
    banned: HashMap<PeerId, Instant>,
    static_peers: Vec<(Multiaddr, Option<Instant>)>,
    last_scores: HashMap<PeerId, f64>,
    /// Whether the validation task was found gone (logged once).
    validation_stopped: bool,
    last_epoch: Option<u64>,
    /// Peers below this score are banned.
    graylist: f64,
    shutdown: Option<oneshot::Sender<()>>,
    shutdown_deadline: Option<Instant>,
    rpc: RpcState,
    enr: Arc<std::sync::Mutex<Option<String>>>,
    tcp_port: watch::Sender<Option<u16>>,
    wants: Option<watch::Sender<Wants>>,
    found: Option<mpsc::Receiver<Vec<PeerInfo>>>,
}

pub(crate) fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

impl Service {
    async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.on_tick();
        let mut turns = 0u32;
        loop {
            // The swarm is always ready under load and never spends tokio's budget itself:
            // yield every few turns, so that the validation task (and the rest of the runtime)
            // gets its turn soon instead of its queue filling up.
            turns = turns.wrapping_add(1);
            if turns.is_multiple_of(TURNS_BEFORE_YIELD) {
                tokio::task::yield_now().await;
            }
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event),
                Some(report) = self.reports.recv() => {
                    // Verdicts release forwards: take every one that is ready, not one per
                    // turn of the loop, or they queue behind the swarm's events.
                    self.on_report(report);
                    for _ in 0..MAX_REPORTS_PER_TURN {
                        match self.reports.try_recv() {
                            Ok(r) => self.on_report(r),
                            Err(_) => break,
                        }
                    }
                }
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => break,
                },
                _ = tick.tick() => self.on_tick(),
                Some(peers) = next_found(&mut self.found) => self.on_found(peers),
            }
            if self.shutdown.is_some() {
                let now = Instant::now();
                let deadline = match self.shutdown_deadline {
                    Some(d) => d,
                    None => {
                        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
                        for p in peers {
                            self.goodbye(p, GoodbyeReason::ClientShutdown, false);
                        }
                        *self.shutdown_deadline.insert(now + GOODBYE_GRACE)
                    }
                };
                if self.rpc.leaving.is_empty() || now >= deadline {
                    let peers: Vec<PeerId> = self.peers.keys().copied().collect();
                    for p in peers {
                        let _ = self.swarm.disconnect_peer_id(p);
                    }
                    if let Some(done) = self.shutdown.take() {
                        let _ = done.send(());
                    }
                    break;
                }
            }
        }
        tracing::info!(target: "pheme::network", "network service stopped");
    }

    fn emit(&self, event: NetworkEvent) {
        if self.events.try_send(event).is_err() {
            self.config
                .metrics
                .count("pheme_events_dropped_total", &[], 1);
        }
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossipsub(e),
            SwarmEvent::Behaviour(BehaviourEvent::Meshsub(e)) => self.on_meshsub(e),
            SwarmEvent::Behaviour(BehaviourEvent::Rpc(e)) => self.on_rpc(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                tracing::debug!(target: "pheme::network::peers", peer = %peer_id, agent = %info.agent_version, "identified");
                if let (Some(envelope), Some(m)) = (
                    info.signed_peer_record,
                    self.swarm.behaviour_mut().meshsub.as_mut(),
                ) {
                    m.router_mut().set_peer_record(
                        peer_id,
                        bytes::Bytes::from(envelope.into_protobuf_encoding()),
                    );
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let (addr, outbound) = match &endpoint {
                    ConnectedPoint::Dialer { address, .. } => (address.clone(), true),
                    ConnectedPoint::Listener { send_back_addr, .. } => {
                        (send_back_addr.clone(), false)
                    }
                };
                if num_established.get() == 1 {
                    self.scores.connected(peer_id, ip_of(&addr));
                    self.peers.insert(
                        peer_id,
                        PeerState {
                            addr: addr.clone(),
                            outbound,
                        },
                    );
                    tracing::debug!(target: "pheme::network::peers", peer = %peer_id, %addr, outbound, "connected");
                    if outbound {
                        self.send_status(peer_id);
                    }
                    self.emit(NetworkEvent::PeerConnected {
                        peer: peer_id,
                        addr,
                        outbound,
                    });
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.scores.disconnected(&peer_id);
                self.peers.remove(&peer_id);
                self.rpc.limiter.remove_peer(&peer_id);
                self.rpc.statuses.remove(&peer_id);
                self.rpc.metadata_seqs.remove(&peer_id);
                self.rpc.leaving.remove(&peer_id);
                self.rpc.strikes.remove(&peer_id);
                self.last_scores.remove(&peer_id);
                tracing::debug!(target: "pheme::network::peers", peer = %peer_id, "disconnected");
                self.emit(NetworkEvent::PeerDisconnected { peer: peer_id });
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                let v4 = address.iter().any(|p| matches!(p, Protocol::Ip4(_)));
                if let Some(port) = address.iter().find_map(|p| match p {
                    Protocol::Tcp(port) => Some(port),
                    _ => None,
                }) && v4
                {
                    self.tcp_port.send_if_modified(|p| {
                        let new = p.is_none();
                        p.get_or_insert(port);
                        new
                    });
                }
                tracing::info!(target: "pheme::network", %address, "listening");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                self.config
                    .metrics
                    .count("pheme_dials_total", &[("outcome", "error")], 1);
                tracing::debug!(target: "pheme::network::peers", peer = ?peer_id, %error, "dial failed");
            }
            _ => {}
        }
    }

    fn on_report(&mut self, r: Report) {
        if self.config.router == crate::RouterKind::Libp2p {
            let topic = libp2p::gossipsub::TopicHash::from_raw(&*r.topic);
            self.scores.verdict(&r.source, &topic, r.verdict);
        }
        if let Some(block) = r.block {
            self.on_block(block);
        }
        self.gs_report(&r.id, &r.source, r.verdict);
    }

    fn current_digest(&self) -> Option<ForkDigest> {
        self.kinds.first().map(|(d, _)| d.digest)
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Subscribe(kind) => {
                self.removed_kinds.remove(&kind);
                self.extra_kinds.insert(kind);
                self.sync_topics();
            }
            Command::Unsubscribe(kind) => {
                self.extra_kinds.remove(&kind);
                self.removed_kinds.insert(kind);
                self.sync_topics();
            }
            Command::Publish(kind, ssz, reply) => {
                let result = match self.current_digest() {
                    Some(d) => self.gs_publish(&topic_name(d, kind), ssz),
                    None => Err(HandleError::NoSuchTopic(kind)),
                };
                let _ = reply.send(result);
            }
            Command::Report(id, peer, verdict) => {
                self.gs_report(&pheme_router::MessageId::new(&id.0), &peer, verdict);
            }
            Command::SetAppScore(peer, score) => {
                self.scores.set_app_score(&peer, score);
                self.gs_set_app_score(&peer, score);
            }
            Command::SetActiveValidators(n) => {
                self.config.active_validators = n.max(1);
                let _ = self.committees.send(
                    self.chain
                        .committees_per_slot(self.config.active_validators),
                );
                // Applied at the next epoch tick.
                self.last_epoch = None;
            }
            Command::Scores(reply) => {
                let now = Instant::now();
                let out = self
                    .peers
                    .keys()
                    .map(|p| self.gs_breakdown(p, now))
                    .collect();
                let _ = reply.send(out);
            }
            Command::Snapshot(reply) => {
                let _ = reply.send(self.snapshot());
            }
            Command::RouterStats(reply) => {
                let stats = self
                    .swarm
                    .behaviour()
                    .meshsub
                    .as_ref()
                    .map(|m| m.router().stats().clone());
                let _ = reply.send(stats);
            }
            Command::Dial(addr, reply) => {
                let r = self
                    .swarm
                    .dial(addr)
                    .map_err(|e| HandleError::Dial(e.to_string()));
                let _ = reply.send(r);
            }
            Command::Shutdown(reply) => self.shutdown = Some(reply),
        }
    }

    fn snapshot(&self) -> NetworkSnapshot {
        let mut mesh: BTreeMap<&'static str, usize> = BTreeMap::new();
        for topic in &self.subscribed {
            if let Ok(t) = topic.parse::<pheme_codec::GossipTopic>() {
                *mesh.entry(t.kind.base_name()).or_default() += self.gs_mesh(topic).len();
            }
        }
        NetworkSnapshot {
            peers: self.peers.len(),
            outbound: self.peers.values().filter(|p| p.outbound).count(),
            mesh,
            topics: self.subscribed.len(),
            listen: self.swarm.listeners().cloned().collect(),
            banned: self.banned.len(),
            status: self.rpc.local.status,
            metadata: self.rpc.local.metadata.clone(),
            subscribed: self.subscribed.iter().map(|t| t.to_string()).collect(),
            cached_blocks: self.rpc.cache.len(),
            enr: self.enr.lock().ok().and_then(|e| e.clone()),
        }
    }

    /// Brings the router's subscriptions, filter and topic parameters in line with the plan.
    fn sync_topics(&mut self) {
        let mut wanted = HashSet::new();
        let epoch = self.last_epoch.unwrap_or_else(|| {
            let slot = self.chain.clock().slot_at_ms(unix_now_ms()).unwrap_or(0);
            self.chain.epoch_of(slot)
        });
        let allowed: Vec<_> = accepted_digests(&self.chain, epoch)
            .iter()
            .flat_map(|d| {
                pheme_spec::GossipKind::all_for_fork(&self.chain, d.fork)
                    .into_iter()
                    .map(|k| topic_name(d.digest, k))
            })
            .collect();
        for (d, kinds) in &self.kinds {
            for k in kinds.iter().chain(self.extra_kinds.iter()) {
                if !self.removed_kinds.contains(k) && k.exists_at(&self.chain, d.fork) {
                    wanted.insert(topic_name(d.digest, *k));
                }
            }
        }
        self.gs_set_allowed(allowed);
        let stale: Vec<_> = self.subscribed.difference(&wanted).cloned().collect();
        for t in stale {
            self.gs_unsubscribe(&t);
            self.subscribed.remove(&t);
            tracing::debug!(target: "pheme::network::topics", topic = %t, "unsubscribed");
        }
        let mut fresh: Vec<_> = wanted.difference(&self.subscribed).cloned().collect();
        fresh.sort();
        for t in fresh {
            if self.gs_subscribe(&t) {
                self.subscribed.insert(t);
            }
        }
        self.refresh_metadata();
        self.config
            .metrics
            .gauge("pheme_topics_subscribed", &[], self.subscribed.len() as f64);
    }

    /// Pushes the presets' topic parameters into the router and the score tracker.
    fn apply_presets(&mut self) {
        if let Err(e) = self.gs_apply_presets() {
            tracing::warn!(target: "pheme::network::scoring", error = %e, "derived parameters refused; keeping the old ones");
        }
    }

    /// Once per epoch: the digests in use, their presets and the topics.
    fn on_epoch(&mut self, epoch: u64, slot: u64) {
        let digests = active_digests(&self.chain, epoch);
        let mut changed = false;
        let v = self.config.active_validators;
        let mut presets = BTreeMap::new();
        for d in &digests {
            let preset = match self.presets.get(&d.digest) {
                Some(old) => match rederive(
                    old,
                    &self.chain,
                    v,
                    slot.max(self.chain.start_slot(d.epoch)),
                ) {
                    Ok(Some((new, reason))) => {
                        tracing::info!(target: "pheme::network::scoring", digest = %d.digest, ?reason, validators = v, "score parameters re-derived");
                        changed = true;
                        new
                    }
                    Ok(None) => old.clone(),
                    Err(e) => {
                        tracing::warn!(target: "pheme::network::scoring", error = %e, "re-derivation failed; keeping the old parameters");
                        old.clone()
                    }
                },
                None => match derive_for(&self.chain, d, v, slot, &self.config) {
                    Ok(p) => {
                        changed = true;
                        p
                    }
                    Err(e) => {
                        tracing::warn!(target: "pheme::network::scoring", error = %e, "derivation failed for a new digest");
                        continue;
                    }
                },
            };
            presets.insert(d.digest, preset);
        }
        if presets.len() != self.presets.len() {
            changed = true;
        }
        self.presets = presets;
        let kinds = kinds_by_digest(&self.chain, &digests, &self.config);
        if kinds
            .iter()
            .map(|(d, _)| d.digest)
            .ne(self.kinds.iter().map(|(d, _)| d.digest))
        {
            tracing::info!(target: "pheme::network::topics", epoch, digests = ?digests.iter().map(|d| d.digest.to_string()).collect::<Vec<_>>(), "topic digests changed");
        }
        self.kinds = kinds;
        if changed {
            self.apply_presets();
        }
        self.sync_topics();
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let now_ms = unix_now_ms();
        let slot = self.chain.clock().slot_at_ms(now_ms).unwrap_or(0);
        let epoch = self.chain.epoch_of(slot);
        if self.last_epoch != Some(epoch) {
            self.last_epoch = Some(epoch);
            self.on_epoch(epoch, slot);
        }
        // libp2p-gossipsub hides P1: the tracker rebuilds it from the meshes.
        if self.config.router == crate::RouterKind::Libp2p {
            let topics: Vec<String> = self.subscribed.iter().cloned().collect();
            for t in &topics {
                let members: HashSet<PeerId> = self.gs_mesh(t).into_iter().collect();
                self.scores
                    .mesh(&libp2p::gossipsub::TopicHash::from_raw(t), &members, now);
            }
            self.scores.decay(now);
        }
        self.finish_goodbyes(now);
        self.manage_peers(now);
        self.tell_discovery(epoch);
        self.publish_metrics(now);
    }

    fn manage_peers(&mut self, now: Instant) {
        // Bans run out.
        let expired: Vec<PeerId> = self
            .banned
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for p in expired {
            self.banned.remove(&p);
            self.swarm.behaviour_mut().blocked.unblock_peer(p);
        }
        // Graylisted peers go.
        if self.config.scoring {
            let graylist = self.graylist;
            let bad: Vec<(PeerId, f64)> = self
                .peers
                .keys()
                .filter(|p| !self.banned.contains_key(p))
                .filter_map(|p| {
                    let s = self.gs_score(p)?;
                    (s < graylist).then_some((*p, s))
                })
                .collect();
            for (peer, score) in bad {
                tracing::info!(target: "pheme::network::peers", %peer, score, "graylisted: banned and disconnected");
                self.config.metrics.count(
                    "pheme_peers_banned_total",
                    &[("reason", "graylisted")],
                    1,
                );
                self.banned.insert(peer, now + self.config.ban_duration);
                self.goodbye(peer, GoodbyeReason::BadScore, true);
                self.emit(NetworkEvent::PeerBanned { peer, score });
            }
        }
        // Static peers stay dialled.
        let connected: HashSet<Multiaddr> =
            self.peers.values().map(|p| strip_p2p(&p.addr)).collect();
        for i in 0..self.static_peers.len() {
            let (addr, last) = self.static_peers[i].clone();
            if connected.contains(&strip_p2p(&addr))
                || last.is_some_and(|t| now.duration_since(t) < REDIAL_INTERVAL)
            {
                continue;
            }
            self.static_peers[i].1 = Some(now);
            let outcome = match self.swarm.dial(addr.clone()) {
                Ok(()) => "started",
                Err(e) => {
                    tracing::debug!(target: "pheme::network::peers", %addr, error = %e, "dial refused");
                    "refused"
                }
            };
            self.config
                .metrics
                .count("pheme_dials_total", &[("outcome", outcome)], 1);
        }
        // Score events.
        let scores: Vec<(PeerId, f64)> = self
            .peers
            .keys()
            .map(|p| (*p, self.gs_score(p).unwrap_or(0.0)))
            .collect();
        for (peer, score) in scores {
            let last = self.last_scores.get(&peer).copied().unwrap_or(0.0);
            if (score - last).abs() >= SCORE_EVENT_DELTA || (score < 0.0) != (last < 0.0) {
                self.last_scores.insert(peer, score);
                self.emit(NetworkEvent::ScoreChanged { peer, score });
            }
        }
    }

    fn publish_metrics(&mut self, now: Instant) {
        let m = self.config.metrics.clone();
        let snap = self.snapshot();
        m.gauge(
            "pheme_peers",
            &[("direction", "outbound")],
            snap.outbound as f64,
        );
        m.gauge(
            "pheme_peers",
            &[("direction", "inbound")],
            (snap.peers - snap.outbound) as f64,
        );
        for (kind, n) in &snap.mesh {
            m.gauge("pheme_mesh_peers", &[("kind", kind)], *n as f64);
        }
        for (kind, n) in self.transform_counters.snapshot() {
            m.absolute("pheme_gossip_transform_refused_total", &[("kind", kind)], n);
        }
        for (kind, n) in self.transform_counters.duplicates() {
            m.absolute("pheme_gossip_duplicates_total", &[("kind", kind)], n);
        }
        let c = &self.transform_counters;
        m.absolute("pheme_gossip_decompressions_total", &[], c.decompressions());
        m.absolute(
            "pheme_gossip_message_ids_computed_total",
            &[],
            c.ids_computed(),
        );
        const COMPONENTS: [&str; 10] = [
            "p1",
            "p2",
            "p3",
            "p3b",
            "p4",
            "p5",
            "p6",
            "p7",
            "residual",
            "topic_cap_cut",
        ];
        let mut sums = [0.0f64; COMPONENTS.len()];
        for p in self.peers.keys() {
            let b = self.gs_breakdown(p, now);
            m.observe("pheme_peer_score", &[], b.total);
            let values = [
                b.p1,
                b.p2,
                b.p3,
                b.p3b,
                b.p4,
                b.p5,
                b.p6,
                b.p7,
                b.residual,
                b.topic_cap_cut,
            ];
            let peer = p.to_string();
            m.gauge(
                "pheme_peer_score_by_peer",
                &[("peer", &peer), ("component", "total")],
                b.total,
            );
            for ((component, v), sum) in COMPONENTS.iter().zip(values).zip(sums.iter_mut()) {
                if *component != "topic_cap_cut" {
                    m.gauge(
                        "pheme_peer_score_by_peer",
                        &[("peer", &peer), ("component", component)],
                        v,
                    );
                }
                *sum += v;
            }
        }
        for (name, v) in COMPONENTS.iter().zip(sums) {
            m.gauge("pheme_peer_score_component", &[("component", name)], v);
        }
        self.publish_router_metrics();
    }
}

impl Service {
    /// Custody groups advertised: every group for an all-subnets node from fulu on (it takes
    /// every data-column subnet), the spec's minimum otherwise; none before fulu.
    fn custody_groups(&self) -> u64 {
        let fulu = self
            .kinds
            .first()
            .is_some_and(|(d, _)| d.fork >= pheme_spec::Fork::Fulu);
        match (&self.config.subnets, fulu) {
            (_, false) => 0,
            (Subnets::All, true) => pheme_spec::NUMBER_OF_CUSTODY_GROUPS,
            (Subnets::Attestation(_), true) => CUSTODY_REQUIREMENT,
        }
    }

    /// The MetaData moved: discovery's ENR follows.
    fn metadata_changed(&mut self) {
        tracing::debug!(target: "pheme::network::rpc", seq = self.rpc.local.metadata.seq_number, "metadata changed");
    }
}

async fn next_found(rx: &mut Option<mpsc::Receiver<Vec<PeerInfo>>>) -> Option<Vec<PeerInfo>> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

impl Service {
    /// What discovery should look for now, and what the ENR should say.
    fn tell_discovery(&mut self, epoch: u64) {
        let Some(wants) = &self.wants else { return };
        let mesh_low = self
            .kinds
            .first()
            .and_then(|(d, _)| self.presets.get(&d.digest))
            .map_or(6, |p| p.gossipsub.mesh_n_low);
        let current = self.kinds.first().map(|(d, _)| d.digest);
        let mut thin_attnets = Vec::new();
        let mut thin_syncnets = Vec::new();
        for t in &self.subscribed {
            let Ok(topic) = t.as_str().parse::<pheme_codec::GossipTopic>() else {
                continue;
            };
            if Some(topic.fork_digest) != current || self.gs_mesh(t).len() >= mesh_low {
                continue;
            }
            match topic.kind {
                GossipKind::BeaconAttestation(s) => thin_attnets.push(s),
                GossipKind::SyncCommittee(s) => thin_syncnets.push(s),
                _ => {}
            }
        }
        let m = &self.rpc.local.metadata;
        let next = Wants {
            needed: self.config.target_peers.saturating_sub(self.peers.len()),
            thin_attnets,
            thin_syncnets,
            epoch,
            attnets: (0..64).filter(|i| m.attnets[*i as usize]).collect(),
            syncnets: (0..4).filter(|i| m.syncnets[*i as usize]).collect(),
            cgc: m.custody_group_count,
        };
        wants.send_if_modified(|w| {
            let changed = *w != next;
            *w = next;
            changed
        });
    }

    /// Dials discovered peers, up to the target.
    fn on_found(&mut self, peers: Vec<PeerInfo>) {
        let me = *self.swarm.local_peer_id();
        let mut room = self.config.target_peers.saturating_sub(self.peers.len());
        for info in peers {
            if room == 0 {
                break;
            }
            if info.peer_id == me
                || self.peers.contains_key(&info.peer_id)
                || self.banned.contains_key(&info.peer_id)
                || self.swarm.is_connected(&info.peer_id)
            {
                continue;
            }
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(info.peer_id)
                .addresses(info.dial_addrs())
                .build();
            let outcome = match self.swarm.dial(opts) {
                Ok(()) => {
                    room -= 1;
                    "started"
                }
                Err(_) => "refused",
            };
            self.config
                .metrics
                .count("pheme_dials_total", &[("outcome", outcome)], 1);
        }
    }
}

/// `CUSTODY_REQUIREMENT`: the fewest custody groups a node may advertise.
pub const CUSTODY_REQUIREMENT: u64 = 4;

fn strip_p2p(addr: &Multiaddr) -> Multiaddr {
    addr.iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect()
}
