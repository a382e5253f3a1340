//! The service: one tokio task owns the libp2p swarm; the validation task runs beside it.

mod build;
mod epochs;
mod observe;
mod partial;
mod peers;
mod router;
mod rpc;
mod stats;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, allow_block_list, connection_limits, identify};
use pheme_scoring::ScorePreset;
use pheme_spec::{ChainSpec, DigestEpoch, ForkDigest, GossipKind, unix_now_ms};
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::NetworkConfig;
use crate::discovery::Wants;
use crate::handle::{Command, HandleError, NetworkEvent};
use crate::meshsub::Meshsub;
use crate::rpc::{GoodbyeReason, RpcBehaviour};
use crate::scores::ScoreTracker;
use crate::transform::Eth2SubscriptionFilter;
use crate::validation::{Inbound, Report};
pub use build::{NetworkError, spawn};
pub(crate) use peers::ip_of;
use peers::{PeerState, next_found};
use pheme_discovery::PeerInfo;
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
    partial_in: mpsc::Sender<crate::partial::PartialIn>,
    partial_out: mpsc::UnboundedReceiver<crate::partial::PartialOut>,
    inbound: mpsc::Sender<Inbound>,
    events: mpsc::Sender<NetworkEvent>,
    committees: watch::Sender<u64>,
    scores: ScoreTracker,
    peers: HashMap<PeerId, PeerState>,
    banned: HashMap<PeerId, Instant>,
    /// Peers the agent filter dropped: until when they are kept out, and their address (so a
    /// static peer is not redialled either).
    filtered: HashMap<PeerId, (Instant, Multiaddr)>,
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
                Some(out) = self.partial_out.recv() => {
                    self.on_partial_out(out);
                    for _ in 0..MAX_REPORTS_PER_TURN {
                        match self.partial_out.try_recv() {
                            Ok(o) => self.on_partial_out(o),
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
        self.final_control_drain();
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
                self.peer_event(
                    peer_id,
                    crate::PeerEventKind::Identified {
                        agent: info.agent_version.clone(),
                        protocol_version: info.protocol_version.clone(),
                    },
                );
                self.on_identified(peer_id, info.agent_version);
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
                            agent: None,
                            since: Instant::now(),
                            since_ms: unix_now_ms(),
                            protocol_reported: false,
                        },
                    );
                    tracing::debug!(target: "pheme::network::peers", peer = %peer_id, %addr, outbound, "connected");
                    if outbound {
                        self.send_status(peer_id);
                    }
                    self.peer_event(
                        peer_id,
                        crate::PeerEventKind::Connected {
                            outbound,
                            addr: addr.clone(),
                        },
                    );
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
                self.peer_event(peer_id, crate::PeerEventKind::Disconnected);
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

    fn on_report(&mut self, mut r: Report) {
        if let Some(trace) = r.trace.take() {
            self.trace_verdict(&r.id, r.verdict, *trace);
        }
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
            Command::Publish(kind, message, reply) => {
                let result = self.publish(kind, message);
                let _ = reply.send(result);
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
            Command::Peers(reply) => {
                let _ = reply.send(self.peer_summaries(Instant::now()));
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
                    .map_err(|e| HandleError::Dial(Arc::new(e)));
                let _ = reply.send(r);
            }
            Command::Shutdown(reply) => self.shutdown = Some(reply),
        }
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
        self.drain_control();
        self.report_protocols();
        self.finish_goodbyes(now);
        self.manage_peers(now);
        self.tell_discovery(epoch);
        self.publish_metrics(now);
    }
}

impl Service {}

impl Service {}

/// `CUSTODY_REQUIREMENT`: the fewest custody groups a node may advertise.
pub const CUSTODY_REQUIREMENT: u64 = 4;
