//! Limits and timeouts of the req/resp domain.

use std::time::Duration;

use pheme_spec::{ChainSpec, ForkDigest};

/// `TTFB_TIMEOUT`: the longest wait for the first byte of a response (and of a request).
/// No longer in the spec text; every client still uses it.
pub const DEFAULT_TTFB_TIMEOUT: Duration = Duration::from_secs(5);

/// `RESP_TIMEOUT`: the longest wait for each response chunk after the first byte (and for a
/// whole request).
pub const DEFAULT_RESP_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a whole exchange may take, request to last chunk, in either direction: libp2p
/// `request_response`'s request timeout. The per-read TTFB and RESP timeouts apply inside it.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `MAX_PAYLOAD_SIZE`: the largest uncompressed chunk payload (10 MiB).
pub const DEFAULT_MAX_PAYLOAD_SIZE: usize = 10 * 1024 * 1024;

/// `MAX_REQUEST_BLOCKS` (phase0): the most blocks one request may ask for, and so the most
/// chunks a blocks response may hold.
pub const MAX_REQUEST_BLOCKS: u64 = 1024;

/// `MAX_REQUEST_BLOCKS_DENEB`: the most blocks a responder serves per request from Deneb on.
pub const MAX_REQUEST_BLOCKS_DENEB: u64 = 128;

/// `MAX_CONCURRENT_REQUESTS`: inbound requests in flight per peer and protocol id.
pub const MAX_CONCURRENT_REQUESTS: usize = 2;

/// The most SSZ bytes one blocks response may bring in all (on top of the per-chunk bound), so
/// that a response of `MAX_REQUEST_BLOCKS` maximal chunks cannot take 10 GiB. 256 MiB holds 128
/// blocks of 2 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// How many req/resp streams one connection may have open per method.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: usize = 32;

/// The req/resp configuration, built in the rust-libp2p style: `RpcConfig::default()` then
/// `with_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcConfig {
    pub(crate) ttfb_timeout: Duration,
    pub(crate) resp_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_payload_size: usize,
    pub(crate) max_request_blocks: u64,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_concurrent_streams: usize,
    pub(crate) fork_digests: Vec<ForkDigest>,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            ttfb_timeout: DEFAULT_TTFB_TIMEOUT,
            resp_timeout: DEFAULT_RESP_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_payload_size: DEFAULT_MAX_PAYLOAD_SIZE,
            max_request_blocks: MAX_REQUEST_BLOCKS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            fork_digests: Vec::new(),
        }
    }
}

impl RpcConfig {
    /// The defaults with `chain`'s `MAX_PAYLOAD_SIZE`, and block chunks whose context bytes are
    /// not one of `chain`'s fork digests refused.
    pub fn for_chain(chain: &ChainSpec) -> RpcConfig {
        RpcConfig::default()
            .with_max_payload_size(usize::try_from(chain.max_payload_size).unwrap_or(usize::MAX))
            .with_fork_digests(chain.digest_schedule().into_iter().map(|d| d.digest))
    }

    /// Sets the time-to-first-byte timeout.
    pub fn with_ttfb_timeout(mut self, timeout: Duration) -> Self {
        self.ttfb_timeout = timeout;
        self
    }

    /// Sets the per-chunk response timeout.
    pub fn with_resp_timeout(mut self, timeout: Duration) -> Self {
        self.resp_timeout = timeout;
        self
    }

    /// Sets the timeout of a whole exchange.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets `MAX_PAYLOAD_SIZE`.
    pub fn with_max_payload_size(mut self, bytes: usize) -> Self {
        self.max_payload_size = bytes;
        self
    }

    /// Sets the most blocks per request (and chunks per response).
    pub fn with_max_request_blocks(mut self, blocks: u64) -> Self {
        self.max_request_blocks = blocks;
        self
    }

    /// Sets the most SSZ bytes one blocks response may bring.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Sets how many streams per method one connection may have open.
    pub fn with_max_concurrent_streams(mut self, streams: usize) -> Self {
        self.max_concurrent_streams = streams;
        self
    }

    /// Restricts the context bytes of block chunks to these digests (empty: any digest).
    pub fn with_fork_digests(mut self, digests: impl IntoIterator<Item = ForkDigest>) -> Self {
        self.fork_digests = digests.into_iter().collect();
        self
    }

    /// The time-to-first-byte timeout.
    pub fn ttfb_timeout(&self) -> Duration {
        self.ttfb_timeout
    }

    /// The per-chunk response timeout.
    pub fn resp_timeout(&self) -> Duration {
        self.resp_timeout
    }

    /// The timeout of a whole exchange.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// `MAX_PAYLOAD_SIZE`.
    pub fn max_payload_size(&self) -> usize {
        self.max_payload_size
    }

    /// The most blocks per request.
    pub fn max_request_blocks(&self) -> u64 {
        self.max_request_blocks
    }
}
