//! Pheme's libp2p side. For now: turning a derived [`pheme_scoring::ScorePreset`] into
//! libp2p-gossipsub's `PeerScoreParams`, `PeerScoreThresholds` and `Config`, keyed by the
//! full eth2 topic strings of the fork digests in use.
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

mod params;
mod rpc;

pub use params::{
    ParamsError, acceptance, gossipsub_config_builder, peer_score_params, peer_score_thresholds,
    topic_hash,
};
pub use rpc::{
    BlockCache, BlockChunk, CachedBlock, DEFAULT_BLOCK_CACHE_BLOCKS, DEFAULT_BLOCK_CACHE_BYTES,
    DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_PAYLOAD_SIZE, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_RESP_TIMEOUT, DEFAULT_TTFB_TIMEOUT, GoodbyeReason,
    InflightLimiter, LocalNode, MAX_CONCURRENT_REQUESTS, MAX_ERROR_MESSAGE_LEN, MAX_REQUEST_BLOCKS,
    MAX_REQUEST_BLOCKS_DENEB, MIN_SIGNED_BLOCK_SIZE, MetaData, MethodBehaviour, MethodEvent,
    RATE_LIMITED_CODE, ResponseCode, RpcBehaviour, RpcBehaviourEvent, RpcCodec, RpcCodecError,
    RpcConfig, RpcEnvelope, RpcErrorResponse, RpcInboundId, RpcMethod, RpcProtocol, RpcRequest,
    RpcRequestId, RpcResponse, StatusMessage, StatusVerdict, TooManyInflight, UnknownProtocol,
    answer, judge_status,
};
