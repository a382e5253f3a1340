//! The eth2 req/resp domain over libp2p `request_response`: Status v1/v2, Goodbye, Ping,
//! MetaData v1 to v3, BeaconBlocksByRange and BeaconBlocksByRoot v1/v2, in the `ssz_snappy`
//! encoding, with bounded reads and the spec's timeouts; and what Pheme answers, from the
//! caller's local status and metadata and a cache of recently seen blocks, under a per-peer,
//! per-protocol in-flight limit.
//!
//! The swarm task drives it so:
//! - `Message::Request` from [`RpcBehaviourEvent::into_parts`]: [`InflightLimiter::try_start`]
//!   (refused: send [`TooManyInflight::response`]), else [`answer`] (with the envelope's
//!   protocol) and [`RpcBehaviour::send_response`]. A Status request also goes to
//!   [`judge_status`]; a Goodbye request means disconnecting after the ack.
//! - `ResponseSent`, `ResponseOmission`, `InboundFailure`: [`InflightLimiter::finish`].
//! - `Message::Response`: the answer to [`RpcBehaviour::send_request`]; `OutboundFailure::Io`
//!   carries an [`RpcCodecError`] ([`RpcCodecError::from_io`], [`RpcCodecError::is_peer_fault`]).
//!
//! ```
//! use pheme_network::rpc::{BlockCache, GoodbyeReason, RpcProtocol, RpcRequest};
//!
//! let status: RpcProtocol = "/eth2/beacon_chain/req/status/2/ssz_snappy".parse().unwrap();
//! assert_eq!(status.version(), 2);
//! assert_eq!(u64::from(GoodbyeReason::IrrelevantNetwork), 2);
//! assert!(BlockCache::default().is_empty());
//! let _ = RpcRequest::Ping(1);
//! ```

mod behaviour;
mod cache;
mod codec;
mod config;
mod limiter;
mod message;
mod protocol;
mod serve;

pub use behaviour::{
    MethodBehaviour, MethodEvent, RpcBehaviour, RpcBehaviourEvent, RpcInboundId, RpcRequestId,
};
pub use cache::{BlockCache, CachedBlock, DEFAULT_BLOCK_CACHE_BLOCKS, DEFAULT_BLOCK_CACHE_BYTES};
pub use codec::{FrameError, RpcCodec, RpcCodecError};
pub use config::{
    DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_PAYLOAD_SIZE, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_RESP_TIMEOUT, DEFAULT_TTFB_TIMEOUT, MAX_CONCURRENT_REQUESTS,
    MAX_REQUEST_BLOCKS, MAX_REQUEST_BLOCKS_DENEB, RpcConfig,
};
pub use limiter::{InflightLimiter, TooManyInflight};
pub use message::{
    BlockChunk, GoodbyeReason, MetaData, RATE_LIMITED_CODE, RequestFault, ResponseCode,
    RpcEnvelope, RpcErrorResponse, RpcRequest, RpcResponse, StatusMessage,
};
pub use protocol::{
    MAX_ERROR_MESSAGE_LEN, MIN_SIGNED_BLOCK_SIZE, RpcMethod, RpcProtocol, UnknownProtocol,
};
pub use serve::{LocalNode, StatusVerdict, answer, judge_status};
