//! Building the service: derived presets per digest, the swarm and its behaviours, the
//! validation and discovery tasks, and the errors that stop it from starting.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::{identify, noise, tcp, yamux};
use pheme_discovery::LocalIdentity;
use pheme_gossip::{GossipValidator, StatefulValidator};
use pheme_scoring::{DeriveInput, ScorePreset, derive};
use pheme_spec::{ChainSpec, DigestEpoch, ForkDigest, GossipKind, unix_now_ms};
use prometheus_client::registry::Registry;
use tokio::sync::{mpsc, watch};

use super::rpc::RpcState;
use super::{Behaviour, IDENTIFY_PROTOCOL, Service, router};
use crate::config::NetworkConfig;
use crate::discovery::{DiscoveryTask, Wants};
use crate::handle::{NetworkEvent, NetworkHandle};
use crate::params::ParamsError;
use crate::rpc::{LocalNode, RpcBehaviour, RpcConfig, StatusMessage};
use crate::scores::ScoreTracker;
use crate::topics::{active_digests, kinds_for};
use crate::validation::ValidationTask;
use libp2p::{Multiaddr, connection_limits};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// Score derivation failed for the chain.
    #[error("score derivation failed")]
    Derive(#[from] pheme_scoring::DeriveError),
    /// libp2p refused the derived parameters.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The chain has no fork digest in use at the current epoch.
    #[error("no fork digest in use at the current epoch")]
    NoForkDigest,
    /// libp2p-gossipsub refused to start (its error is a fixed message).
    #[error("libp2p-gossipsub: {0}")]
    Gossipsub(&'static str),
    /// libp2p-gossipsub refused the peer-score parameters (its error is a message).
    #[error("libp2p-gossipsub refuses the peer-score parameters: {0}")]
    PeerScore(String),
    /// A transport could not be built.
    #[error("transport")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The node key cannot serve as a discovery identity.
    #[error("discovery identity")]
    Identity(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A listen address was refused.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        #[source]
        source: libp2p::TransportError<std::io::Error>,
    },
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
        .ok_or(NetworkError::NoForkDigest)?
        .clone();

    let mut registry = registry;
    let built = router::build(&config, &chain, &presets, &current, registry.as_deref_mut())?;

    let keypair = config.keypair.clone();
    let local_peer_id = keypair.public().to_peer_id();
    // Identify carries a signed peer record, which Pheme's router offers in peer exchange.
    let identify = identify::Behaviour::new(
        identify::Config::new_with_signed_peer_record(IDENTIFY_PROTOCOL.into(), &keypair)
            .with_agent_version(config.agent_version.clone()),
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
        .map_err(|e| NetworkError::Transport(e.into()))?
        .with_quic();
    let mut swarm = match registry {
        Some(r) => swarm_builder
            .with_bandwidth_metrics(r)
            .with_behaviour(|_| behaviour)
            .map_err(|e| NetworkError::Transport(e.into()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build(),
        None => swarm_builder
            .with_behaviour(|_| behaviour)
            .map_err(|e| NetworkError::Transport(e.into()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build(),
    };
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|source| NetworkError::Listen {
                addr: addr.clone(),
                source,
            })?;
    }

    config.metrics.register_zeros();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (events_tx, events_rx) = mpsc::channel(config.event_queue);
    let (inbound_tx, inbound_rx) = mpsc::channel(config.validation_queue);
    let (reports_tx, reports_rx) = mpsc::unbounded_channel();
    let committees = chain.committees_per_slot(config.active_validators);
    let (committees_tx, committees_rx) = watch::channel(committees);

    let (answers_tx, answers_rx) = mpsc::unbounded_channel();
    let (partial_in_tx, partial_in_rx) = mpsc::channel(config.validation_queue);
    let (partial_out_tx, partial_out_rx) = mpsc::unbounded_channel();
    let partial = config.partial_columns.then(|| {
        crate::partial::Assembler::new(pheme_gossip::PartialColumnsConfig::for_chain(&chain))
    });
    let mut validator = GossipValidator::new((*chain).clone(), Arc::new(stateful));
    validator.committees_per_slot = Some(committees);
    let task = ValidationTask {
        validator,
        chain: chain.clone(),
        inbound: inbound_rx,
        answers: answers_rx,
        answers_tx: answers_tx.clone(),
        concurrency: config.validation_concurrency,
        deadline: config.validation_deadline,
        max_held: config.validation_queue,
        reports: reports_tx,
        partial,
        partial_in: partial_in_rx,
        partial_out: partial_out_tx,
        partial_events: config.observer.partial.clone(),
        events: events_tx.clone(),
        arrivals: built.arrivals,
        committees: committees_rx,
        metrics: config.metrics.clone(),
        handles: Default::default(),
        trace: !config.traces.is_empty(),
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
                .map_err(|e| NetworkError::Identity(e.into()))?
                .secret()
                .to_bytes();
            let identity = LocalIdentity::from_secret_bytes(secret)
                .map_err(|e| NetworkError::Identity(e.into()))?;
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
    let mut tracker_params = crate::params::peer_score_params(&by_digest(&presets))?;
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
        partial_in: partial_in_tx,
        partial_out: partial_out_rx,
        inbound: inbound_tx,
        events: events_tx,
        committees: committees_tx,
        peers: HashMap::new(),
        banned: HashMap::new(),
        filtered: HashMap::new(),
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
            answers: answers_tx,
            local_peer_id,
        },
        events_rx,
    ))
}

pub(super) fn derive_for(
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

pub(super) fn by_digest(
    presets: &BTreeMap<ForkDigest, ScorePreset>,
) -> Vec<(ForkDigest, &ScorePreset)> {
    presets.iter().map(|(d, p)| (*d, p)).collect()
}

pub(super) fn kinds_by_digest(
    chain: &ChainSpec,
    digests: &[DigestEpoch],
    config: &NetworkConfig,
) -> Vec<(DigestEpoch, Vec<GossipKind>)> {
    digests
        .iter()
        .map(|d| {
            let mut kinds = kinds_for(chain, d, &config.subnets);
            kinds.retain(|k| config.selects(k.base_name()));
            (*d, kinds)
        })
        .collect()
}
