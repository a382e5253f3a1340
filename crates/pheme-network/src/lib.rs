//! Pheme's network service: one tokio task owns a libp2p swarm (TCP and QUIC, noise, yamux and
//! mplex, identify, gossipsub v1.1/v1.2 with IDONTWANT), whose peer-score parameters are derived
//! by `pheme-scoring` from the active validator count and slot timing and re-derived once per
//! epoch. Gossip is decompressed by a bounded snappy transform, identified by the spec's
//! message-id, and validated by `pheme-gossip`'s handlers plus the node's
//! [`StatefulValidator`](pheme_gossip::StatefulValidator) on a task of its own; verdicts come
//! back over a channel, so the swarm never waits on chain logic.
//!
//! A node drives the service through a cheap-to-clone [`NetworkHandle`] and reads
//! [`NetworkEvent`]s. Each peer's score is available broken into components
//! ([`ScoreBreakdown`]; see [`scores`](crate::ScoreTracker) for how each is obtained).
//!
//! ```no_run
//! use pheme_network::{NetworkConfig, NetworkEvent, spawn};
//! use pheme_spec::{GossipKind, Network};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let chain = Network::Mainnet.chain_spec()?;
//! let config = NetworkConfig::builder(chain)
//!     .listen("/ip4/0.0.0.0/tcp/9000".parse()?)
//!     .listen("/ip4/0.0.0.0/udp/9001/quic-v1".parse()?)
//!     .build()?;
//! let (handle, mut events) = spawn(config, pheme_gossip::NoState, None)?;
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
//! use pheme_network::{gossipsub_config_builder, peer_score_params, peer_score_thresholds, topic_hash};
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

mod blocks;
mod config;
mod discovery;
mod handle;
mod meshsub;
mod metrics;
mod params;
mod rpc;
mod scores;
mod service;
mod topics;
mod trace;
mod transform;
mod validation;

pub use blocks::block_slot_and_root;
pub use config::{
    ConfigError, DEFAULT_BAN_DURATION, DEFAULT_EVENT_QUEUE, DEFAULT_FORWARD_DELAY,
    DEFAULT_PEER_EXCESS, DEFAULT_PORT, DEFAULT_TARGET_PEERS, DEFAULT_VALIDATION_QUEUE,
    NetworkConfig, NetworkConfigBuilder, RouterKind, Subnets, UnknownRouter,
};
pub use handle::{GossipReceived, HandleError, NetworkEvent, NetworkHandle, NetworkSnapshot};
pub use meshsub::{Handler as MeshsubHandler, HandlerIn, HandlerOut, Meshsub, MeshsubUpgrade};
pub use metrics::{DESCRIPTIONS as METRIC_DESCRIPTIONS, Metrics, SharedRecorder};
pub use params::{
    CONTROL_ID_BYTES, ParamsError, SUBSCRIPTION_ALLOWANCE, acceptance, gossipsub_config_builder,
    max_control_message_size, peer_score_params, peer_score_thresholds, router_config,
    router_score_params, router_thresholds, topic_hash, topic_name,
};
pub use rpc::{
    BlockCache, BlockChunk, CachedBlock, DEFAULT_BLOCK_CACHE_BLOCKS, DEFAULT_BLOCK_CACHE_BYTES,
    DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_PAYLOAD_SIZE, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_RESP_TIMEOUT, DEFAULT_TTFB_TIMEOUT, GoodbyeReason,
    InflightLimiter, LocalNode, MAX_CONCURRENT_REQUESTS, MAX_ERROR_MESSAGE_LEN, MAX_REQUEST_BLOCKS,
    MAX_REQUEST_BLOCKS_DENEB, MIN_SIGNED_BLOCK_SIZE, MetaData, MethodBehaviour, MethodEvent,
    RATE_LIMITED_CODE, RequestFault, ResponseCode, RpcBehaviour, RpcBehaviourEvent, RpcCodec,
    RpcCodecError, RpcConfig, RpcEnvelope, RpcErrorResponse, RpcInboundId, RpcMethod, RpcProtocol,
    RpcRequest, RpcRequestId, RpcResponse, StatusMessage, StatusVerdict, TooManyInflight,
    UnknownProtocol, answer, judge_status,
};
pub use scores::{ScoreBreakdown, ScoreTracker, TopicComponents};
pub use service::{
    CUSTODY_REQUIREMENT, GOODBYE_GRACE, IDENTIFY_PROTOCOL, NetworkError, REDIAL_INTERVAL,
    RPC_STRIKE_DECAY, RPC_STRIKE_LIMIT, SCORE_EVENT_DELTA, STRIKE_FAULT, STRIKE_RATE_LIMITED,
    STRIKE_TIMEOUT, TICK, spawn,
};
pub use topics::{
    FILTER_SLACK_EPOCHS, SUBSCRIBE_EPOCHS_AHEAD, UNSUBSCRIBE_EPOCHS_AFTER, accepted_digests,
    active_digests, kinds_for,
};
pub use trace::{
    DEFAULT_TRACE_QUEUE, TRACE_FLUSH_INTERVAL, TraceError, TraceRecord, TraceSink, TraceWriter,
};
pub use transform::{
    ARRIVAL_MEMORY, Arrival, Arrivals, Eth2SubscriptionFilter, Eth2Transform, SnappyTransform,
    TransformCounters, message_id_fn,
};

pub use discovery::DISCOVERY_INTERVAL;
pub use libp2p;
pub use pheme_discovery;
