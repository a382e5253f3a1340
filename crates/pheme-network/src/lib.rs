//! Pheme's network service, as a beacon node links it: one tokio task owns a libp2p swarm
//! (TCP and QUIC, noise, yamux and mplex, identify, Pheme's gossipsub v1.1/v1.2 router with
//! IDONTWANT, discv5, the minimal req/resp), whose peer-score parameters are derived by
//! `pheme-scoring` from the active validator count and slot timing and re-derived once per
//! epoch. Gossip is decompressed by a bounded snappy transform, identified by the spec's
//! message-id, checked by `pheme-gossip`'s stateless handlers, then by the node's
//! [`StatefulValidator`]: the node's checks receive the decoded payload ([`InboundMessage`],
//! [`GossipPayload`]), run several at once on blocking threads, answer a [`Decision`] (or defer
//! and answer through [`NetworkHandle::decide`]), and the swarm never waits on them.
//!
//! The embedder's API is what this page lists at the top level: [`spawn`] with a
//! [`NetworkConfig`] (built by [`NetworkConfigBuilder`], whose `build()` checks invariants), the
//! [`NetworkHandle`] (publish typed payloads, subscribe, application scores, deferred
//! decisions, peer scores with every component: [`ScoreBreakdown`]) and the
//! [`NetworkEvent`]s. `docs/embedding.md` spells out the threading model and back-pressure;
//! `cargo run -p pheme-network --example embed` runs it. Lower layers are in modules:
//! [`params`] (presets as libp2p-gossipsub and router parameters), [`rpc`] (req/resp),
//! [`topics`], [`transform`], [`service`] (the service's timing constants).
//!
//! ```no_run
//! use pheme_network::{Decision, InboundMessage, NetworkConfig, NetworkEvent, StatefulValidator, spawn};
//! use pheme_spec::Network;
//!
//! /// The node's checks: signatures, committees, fork choice.
//! struct NodeChecks;
//!
//! impl StatefulValidator for NodeChecks {
//!     fn validate(&self, msg: &InboundMessage) -> Decision {
//!         // msg.payload: the decoded container; msg.kind, msg.fork, msg.source, ...
//!         Decision::Accept
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let chain = Network::Mainnet.chain_spec()?;
//! let config = NetworkConfig::builder(chain)
//!     .listen("/ip4/0.0.0.0/tcp/9000".parse()?)
//!     .listen("/ip4/0.0.0.0/udp/9001/quic-v1".parse()?)
//!     .validation_concurrency(4)
//!     .build()?;
//! let (handle, mut events) = spawn(config, NodeChecks, None)?;
//! while let Some(event) = events.recv().await {
//!     if let NetworkEvent::Gossip(msg) = event {
//!         println!("{} {:?}", msg.outcome.topic, msg.outcome.verdict);
//!     }
//! }
//! handle.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! The conversion of a derived preset into libp2p's types is public too:
//!
//! ```
//! use pheme_network::params::{gossipsub_config_builder, peer_score_params, peer_score_thresholds, topic_hash};
//! use pheme_scoring::{DeriveInput, Profile, derive};
//! use pheme_spec::{GossipKind, Network};
//!
//! let chain = Network::Mainnet.chain_spec().unwrap();
//! let preset = derive(&DeriveInput {
//!     chain: &chain,
//!     active_validators: 1_000_000,
//!     current_slot: 13_500_000,
//!     mesh_n: None,
//!     profile: Profile::Recommendations,
//! })
//! .unwrap();
//! let digest = chain.fork_digest_at(chain.epoch_of(13_500_000));
//! let params = peer_score_params(&[(digest, &preset)]).unwrap();
//! let block = topic_hash(digest, GossipKind::BeaconBlock);
//! assert_eq!(block.as_str(), "/eth2/8c9f62fe/beacon_block/ssz_snappy");
//! assert!(params.topics.contains_key(&block));
//! peer_score_thresholds(&preset).unwrap();
//! gossipsub_config_builder(&preset).build().unwrap();
//! ```

mod config;
mod discovery;
mod handle;
mod meshsub;
mod metrics;
mod observer;
pub mod params;
mod partial;
pub mod rpc;
mod scores;
pub mod service;
pub mod topics;
mod trace;
pub mod transform;
mod validation;

pub use config::{
    AgentFilter, ConfigError, DEFAULT_BAN_DURATION, DEFAULT_EVENT_QUEUE, DEFAULT_FILTER_BACKOFF,
    DEFAULT_FORWARD_DELAY, DEFAULT_IDENTIFY_TIMEOUT, DEFAULT_PEER_EXCESS, DEFAULT_PORT,
    DEFAULT_TARGET_PEERS, DEFAULT_VALIDATION_DEADLINE, DEFAULT_VALIDATION_QUEUE, NetworkConfig,
    NetworkConfigBuilder, RouterKind, Subnets, UnknownRouter, default_validation_concurrency,
};
pub use handle::{
    GossipReceived, HandleError, NetworkEvent, NetworkHandle, NetworkSnapshot, PartialTraffic,
    PeerSummary, PublishFailed,
};
pub use metrics::{DESCRIPTIONS as METRIC_DESCRIPTIONS, Metrics, SharedRecorder};
pub use observer::{Capture, ControlEvent, PeerEvent, PeerEventKind, UnknownCapture};
pub use partial::PartialEvent;
pub use pheme_gossip::{
    Decision, GossipPayload, InboundMessage, NoState, Outcome, PayloadError, Reason,
    StatefulValidator, Verdict,
};
pub use scores::{ScoreBreakdown, TopicComponents};
pub use service::{NetworkError, spawn};
pub use trace::{
    DEFAULT_TRACE_QUEUE, RecordSink, SinkHealth, TRACE_FLUSH_INTERVAL, TraceError, TraceRecord,
    TraceSink, TraceWriter,
};

pub use libp2p;
pub use pheme_discovery;
pub use pheme_router::{ControlDirection, ControlKind, ControlRecord};
