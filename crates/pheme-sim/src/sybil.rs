//! Sybils: plain libp2p swarms running libp2p's gossipsub with Pheme's message-id and snappy
//! transform (so they speak the wire protocol exactly), validating by hand: what they report
//! decides whether they forward (ACCEPT) or stay silent (IGNORE, which costs them nothing).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identity::Keypair};
use pheme_network::{
    params::gossipsub_config_builder, params::topic_hash, transform::SnappyTransform,
    transform::message_id_fn,
};
use pheme_scoring::ScorePreset;
use pheme_spec::{ChainSpec, ForkDigest, GossipKind, unix_now_ms};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::SimError;

type Gossip = gossipsub::Behaviour<SnappyTransform, gossipsub::AllowAllSubscriptionFilter>;

/// What a Sybil does with the messages it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conduct {
    /// IGNORE everything: never forward.
    Silent,
    /// ACCEPT everything until the attack starts, IGNORE after.
    CovertFlash,
    /// ACCEPT everything except what `victim` delivered first.
    Censor {
        /// The publisher censored.
        victim: PeerId,
    },
    /// IGNORE everything and publish `per_slot` undecodable blocks each slot once the attack
    /// starts.
    InvalidFlood {
        /// Invalid blocks per slot.
        per_slot: u64,
    },
}

impl Conduct {
    fn verdict(&self, source: &PeerId, now_ms: u64, from: u64) -> gossipsub::MessageAcceptance {
        let forward = match self {
            Conduct::Silent | Conduct::InvalidFlood { .. } => false,
            Conduct::CovertFlash => now_ms < from,
            Conduct::Censor { victim } => source != victim,
        };
        if forward {
            gossipsub::MessageAcceptance::Accept
        } else {
            gossipsub::MessageAcceptance::Ignore
        }
    }
}

/// A running Sybil.
pub(crate) struct Sybil {
    pub peer: PeerId,
    pub dial: mpsc::UnboundedSender<Multiaddr>,
    pub listen: Option<Multiaddr>,
    pub task: JoinHandle<()>,
}

/// The topics a Sybil subscribes to (those the honest nodes carry traffic on).
pub(crate) fn attacked_kinds(chain: &ChainSpec, slots_per_epoch: u64) -> Vec<GossipKind> {
    let mut kinds = vec![GossipKind::BeaconBlock, GossipKind::BeaconAggregateAndProof];
    kinds.extend(
        (0..slots_per_epoch.min(chain.attestation_subnet_count)).map(GossipKind::BeaconAttestation),
    );
    kinds
}

/// What every Sybil of a run shares.
pub(crate) struct Shared {
    /// The chain.
    pub chain: Arc<ChainSpec>,
    /// The preset whose mesh parameters the Sybils' routers use (they do not score).
    pub preset: ScorePreset,
    /// The fork digest of the topics.
    pub digest: ForkDigest,
    /// When the attack starts (unix ms; `u64::MAX` until the run sets it).
    pub from: Arc<AtomicU64>,
}

/// Starts a Sybil; it listens on `listen` when given (honest nodes dial it there).
pub(crate) async fn start(
    shared: &Shared,
    keypair: Keypair,
    conduct: Conduct,
    listen: Option<Multiaddr>,
    seed: u64,
) -> Result<Sybil, SimError> {
    let (chain, preset, digest) = (&shared.chain, &shared.preset, shared.digest);
    let transform = SnappyTransform::new(chain.clone());
    let mut builder = gossipsub_config_builder(preset);
    builder
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(message_id_fn(&transform))
        .max_transmit_size(chain.max_message_size() as usize);
    let config = builder
        .build()
        .map_err(|e| SimError::Gossipsub(e.to_string()))?;
    let mut gossip: Gossip = gossipsub::Behaviour::new_with_subscription_filter_and_transform(
        gossipsub::MessageAuthenticity::Anonymous,
        config,
        gossipsub::AllowAllSubscriptionFilter {},
        transform,
    )
    .map_err(|e| SimError::Gossipsub(e.to_string()))?;
    for kind in attacked_kinds(chain, chain.slots_per_epoch()) {
        gossip
            .subscribe(&gossipsub::IdentTopic::new(
                topic_hash(digest, kind).into_string(),
            ))
            .map_err(|e| SimError::Gossipsub(e.to_string()))?;
    }
    let peer = keypair.public().to_peer_id();
    let mut swarm = pheme_testkit::raw::swarm(keypair, gossip)?;
    let mut bound = None;
    if let Some(addr) = listen {
        swarm
            .listen_on(addr)
            .map_err(|e| SimError::Transport(e.into()))?;
        // The first event of a fresh listener is its address.
        while bound.is_none() {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                bound = Some(address);
            }
        }
    }
    let (dial, dials) = mpsc::unbounded_channel();
    let block_topic = topic_hash(digest, GossipKind::BeaconBlock);
    let task = tokio::spawn(run(
        swarm,
        conduct,
        shared.from.clone(),
        dials,
        (block_topic, chain.clone()),
        seed,
    ));
    Ok(Sybil {
        peer,
        dial,
        listen: bound,
        task,
    })
}

async fn run(
    mut swarm: Swarm<Gossip>,
    conduct: Conduct,
    from: Arc<AtomicU64>,
    mut dials: mpsc::UnboundedReceiver<Multiaddr>,
    (block_topic, chain): (gossipsub::TopicHash, Arc<ChainSpec>),
    seed: u64,
) {
    let flood_every = match conduct {
        Conduct::InvalidFlood { per_slot, .. } => {
            Duration::from_millis(chain.slot_duration_ms / per_slot.max(1))
        }
        _ => Duration::from_secs(3600),
    };
    let mut flood = tokio::time::interval(flood_every);
    flood.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent = 0u64;
    loop {
        tokio::select! {
            event = swarm.select_next_some() => {
                if let SwarmEvent::Behaviour(gossipsub::Event::Message {
                    propagation_source,
                    message_id,
                    ..
                }) = event
                {
                    let v = conduct.verdict(
                        &propagation_source,
                        unix_now_ms(),
                        from.load(Ordering::Relaxed),
                    );
                    swarm.behaviour_mut().report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        v,
                    );
                }
            }
            addr = dials.recv() => match addr {
                Some(addr) => {
                    if let Err(e) = swarm.dial(addr) {
                        tracing::debug!(target: "pheme::sim", error = %e, "sybil dial refused");
                    }
                }
                None => break,
            },
            _ = flood.tick() => {
                if matches!(conduct, Conduct::InvalidFlood { .. })
                    && unix_now_ms() >= from.load(Ordering::Relaxed)
                {
                    sent += 1;
                    let slot = crate::fixtures::slot_now(&chain);
                    let seed = seed.wrapping_mul(1 << 20) + sent;
                    if let Ok(bytes) = crate::fixtures::wrong_timestamp_block(&chain, slot, seed) {
                        // No peers yet (or all gone) is fine: the flood goes on.
                        let _ = swarm.behaviour_mut().publish(block_topic.clone(), bytes);
                    }
                }
            }
        }
    }
}
