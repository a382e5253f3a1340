//! The `ssz_snappy` req/resp encoding as a libp2p `request_response::Codec`.
//!
//! Requests are `varint(len) ++ snappy frames` (nothing for MetaData). Responses are chunks of
//! `result ++ context bytes (blocks v2) ++ varint(len) ++ snappy frames`. Every read is
//! bounded: the varint is checked against the type's SSZ bounds and `MAX_PAYLOAD_SIZE` before
//! anything is allocated, frame headers are checked before their data is read, no more
//! compressed bytes are read than the announced length can need, blocks responses stop at the
//! request's chunk count and at a total byte budget, and each read has its TTFB/RESP timeout.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{Either, select};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use pheme_codec::{ChunkError, SszBounds, decode_chunk, encode_chunk, max_compressed_len};
use pheme_spec::ForkDigest;

use crate::rpc::config::RpcConfig;
use crate::rpc::message::{
    BlockChunk, MetaData, RequestFault, RpcEnvelope, RpcErrorResponse, RpcRequest, RpcResponse,
    StatusMessage, read_u64,
};
use crate::rpc::protocol::{MAX_ERROR_MESSAGE_LEN, RpcMethod, RpcProtocol};

/// Why a request or response could not be read or written. Carried inside the `io::Error`s
/// that libp2p reports (`InboundFailure::Io`, `OutboundFailure::Io`); get it back with
/// [`RpcCodecError::from_io`].
#[derive(Debug, thiserror::Error)]
pub enum RpcCodecError {
    /// No first byte within `TTFB_TIMEOUT`.
    #[error("no first byte within {0:?}")]
    TtfbTimeout(Duration),
    /// A chunk (or a request) did not complete within `RESP_TIMEOUT`.
    #[error("chunk not complete within {0:?}")]
    RespTimeout(Duration),
    /// The stream ended inside a chunk or a request.
    #[error("stream ended inside a chunk")]
    Truncated,
    /// The stream ended without the single chunk the protocol requires.
    #[error("stream ended without a response")]
    NoResponse,
    /// The varint length prefix is over 10 bytes or over 64 bits.
    #[error("malformed length prefix")]
    BadLengthPrefix,
    /// The length prefix announces a size the type (or `MAX_PAYLOAD_SIZE`) does not allow.
    #[error("{protocol}: payload of {len} bytes, the type allows {min}..={max}")]
    OutOfBounds {
        /// The protocol.
        protocol: RpcProtocol,
        /// Announced length.
        len: u64,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
    /// The snappy frames are corrupt, hold more or less than announced, or run past the
    /// compressed bound.
    #[error("corrupt snappy frames")]
    Corrupt(#[source] FrameError),
    /// A result byte in the reserved range 4..=127.
    #[error("reserved result code {0}")]
    UnknownResultCode(u8),
    /// More success chunks than the request allows.
    #[error("more than {max} response chunks")]
    TooManyChunks {
        /// The request's bound.
        max: u64,
    },
    /// The chunks of one response exceed the total byte budget.
    #[error("response over {max} bytes in all")]
    ResponseTooLarge {
        /// The budget.
        max: usize,
    },
    /// Context bytes that are not a fork digest of this network.
    #[error("unknown fork digest {0} in context bytes")]
    UnknownForkDigest(ForkDigest),
    /// The payload has the right size but does not decode as the protocol's type.
    #[error("{0}: undecodable payload")]
    InvalidPayload(RpcProtocol),
    /// A local mistake: this message cannot be sent on this protocol (e.g. a v2 block chunk
    /// without a fork digest, or a payload out of the type's bounds).
    #[error("{protocol}: cannot send {what}")]
    Mismatch {
        /// The negotiated protocol.
        protocol: RpcProtocol,
        /// What was refused.
        what: &'static str,
    },
    /// The stream failed.
    #[error(transparent)]
    Io(io::Error),
}

/// What is wrong with a response's snappy frames.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The frames take more bytes than a payload of the announced length can.
    #[error("frames run past {limit} bytes for a {len}-byte payload")]
    PastLimit {
        /// The bound on the frames' bytes.
        limit: usize,
        /// The announced payload length.
        len: usize,
    },
    /// The stream identifier frame is not `sNaPpY`.
    #[error("bad stream identifier")]
    StreamIdentifier,
    /// A compressed frame of an impossible length.
    #[error("compressed frame of {0} bytes")]
    CompressedLength(usize),
    /// An uncompressed frame of an impossible length.
    #[error("uncompressed frame of {0} bytes")]
    UncompressedLength(usize),
    /// A reserved unskippable frame type.
    #[error("reserved unskippable frame type {0:#04x}")]
    Reserved(u8),
    /// A compressed frame's length preamble is unreadable.
    #[error("unreadable compressed frame preamble")]
    Preamble,
    /// A frame decompresses to more than a frame may hold.
    #[error("frame of {0} uncompressed bytes")]
    Produces(usize),
    /// The frames hold more than the announced length.
    #[error("frames hold more than the announced {0} bytes")]
    MoreThanAnnounced(usize),
    /// The frames end before the announced length.
    #[error("frames end before the announced length")]
    EndsEarly,
    /// Bytes after the payload's last frame.
    #[error("{0} frame bytes beyond the payload")]
    Trailing(usize),
    /// The snappy decoder refused a frame.
    #[error(transparent)]
    Snappy(pheme_types::SharedError<std::io::Error>),
}

impl RpcCodecError {
    /// Whether the remote peer is to blame: it sent bytes no honest peer sends. Timeouts and
    /// stream failures are not counted as faults (slow links happen), nor are local mistakes.
    pub fn is_peer_fault(&self) -> bool {
        matches!(
            self,
            RpcCodecError::Truncated
                | RpcCodecError::NoResponse
                | RpcCodecError::BadLengthPrefix
                | RpcCodecError::OutOfBounds { .. }
                | RpcCodecError::Corrupt(_)
                | RpcCodecError::UnknownResultCode(_)
                | RpcCodecError::TooManyChunks { .. }
                | RpcCodecError::ResponseTooLarge { .. }
                | RpcCodecError::UnknownForkDigest(_)
                | RpcCodecError::InvalidPayload(_)
        )
    }

    /// Whether this is one of the spec's timeouts.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            RpcCodecError::TtfbTimeout(_) | RpcCodecError::RespTimeout(_)
        )
    }

    /// The codec error inside an `io::Error` libp2p reported, if it came from this codec.
    pub fn from_io(error: &io::Error) -> Option<&RpcCodecError> {
        error.get_ref()?.downcast_ref::<RpcCodecError>()
    }

    fn into_io(self) -> io::Error {
        let kind = match &self {
            RpcCodecError::Io(_) => {
                if let RpcCodecError::Io(e) = self {
                    return e;
                }
                io::ErrorKind::Other
            }
            RpcCodecError::TtfbTimeout(_) | RpcCodecError::RespTimeout(_) => {
                io::ErrorKind::TimedOut
            }
            RpcCodecError::Truncated | RpcCodecError::NoResponse => io::ErrorKind::UnexpectedEof,
            RpcCodecError::Mismatch { .. } => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

/// The req/resp codec. Cloned per stream by libp2p, so a clone remembers, between writing a
/// request and reading its response, how many chunks the response may hold.
#[derive(Debug, Clone)]
pub struct RpcCodec {
    config: Arc<RpcConfig>,
    max_response_chunks: u64,
}

impl Default for RpcCodec {
    fn default() -> Self {
        RpcCodec::new(RpcConfig::default())
    }
}

impl RpcCodec {
    /// A codec with these limits.
    pub fn new(config: RpcConfig) -> RpcCodec {
        RpcCodec {
            config: Arc::new(config),
            max_response_chunks: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RpcConfig {
        &self.config
    }

    /// Reads one request (bounded; TTFB for its first byte, RESP_TIMEOUT for the whole).
    pub async fn decode_request<T>(
        &self,
        protocol: RpcProtocol,
        io: &mut T,
    ) -> Result<RpcRequest, RpcCodecError>
    where
        T: AsyncRead + Unpin + Send,
    {
        let Some(bounds) = protocol.request_bounds(self.config.max_request_blocks) else {
            // No content: the requester just closes its write side.
            return Ok(RpcRequest::MetaData);
        };
        let bounds = self.cap(bounds);
        let cfg = &self.config;
        let work = async {
            let first = timed(
                cfg.ttfb_timeout,
                RpcCodecError::TtfbTimeout(cfg.ttfb_timeout),
                read_byte_or_eof(io),
            )
            .await?
            .ok_or(RpcCodecError::Truncated)?;
            read_payload(io, protocol, bounds, Some(first)).await
        };
        let ssz = timed(
            cfg.resp_timeout,
            RpcCodecError::RespTimeout(cfg.resp_timeout),
            work,
        )
        .await?;
        RpcRequest::from_ssz(protocol, &ssz).ok_or(RpcCodecError::InvalidPayload(protocol))
    }

    /// Reads a whole response: one chunk, or blocks until EOF (bounded in count and bytes).
    /// `max_chunks` bounds a blocks response (the request's count).
    pub async fn decode_response<T>(
        &self,
        protocol: RpcProtocol,
        io: &mut T,
        max_chunks: u64,
    ) -> Result<RpcResponse, RpcCodecError>
    where
        T: AsyncRead + Unpin + Send,
    {
        let cfg = &self.config;
        let ttfb = RpcCodecError::TtfbTimeout(cfg.ttfb_timeout);
        if !protocol.is_multi_chunk() {
            let Some(code) = timed(cfg.ttfb_timeout, ttfb, read_byte_or_eof(io)).await? else {
                // Most clients answer Goodbye with nothing.
                return if protocol.method() == RpcMethod::Goodbye {
                    Ok(RpcResponse::GoodbyeAck)
                } else {
                    Err(RpcCodecError::NoResponse)
                };
            };
            let chunk = async {
                if code != 0 {
                    return Ok(RpcResponse::Error(self.read_error(io, code).await?));
                }
                let bounds = self.cap(protocol.response_bounds(cfg.max_payload_size));
                let ssz = read_payload(io, protocol, bounds, None).await?;
                let invalid = RpcCodecError::InvalidPayload(protocol);
                Ok(match protocol.method() {
                    RpcMethod::Status => {
                        RpcResponse::Status(StatusMessage::from_ssz(&ssz).ok_or(invalid)?)
                    }
                    RpcMethod::Ping => RpcResponse::Pong(read_u64(&ssz).ok_or(invalid)?),
                    RpcMethod::MetaData => RpcResponse::MetaData(
                        MetaData::from_ssz(protocol.version(), &ssz).ok_or(invalid)?,
                    ),
                    _ => RpcResponse::GoodbyeAck,
                })
            };
            return timed(
                cfg.resp_timeout,
                RpcCodecError::RespTimeout(cfg.resp_timeout),
                chunk,
            )
            .await;
        }

        let mut blocks: Vec<BlockChunk> = Vec::new();
        let mut total = 0usize;
        loop {
            let (wait, err) = if blocks.is_empty() {
                (
                    cfg.ttfb_timeout,
                    RpcCodecError::TtfbTimeout(cfg.ttfb_timeout),
                )
            } else {
                (
                    cfg.resp_timeout,
                    RpcCodecError::RespTimeout(cfg.resp_timeout),
                )
            };
            let Some(code) = timed(wait, err, read_byte_or_eof(io)).await? else {
                break;
            };
            let resp_err = RpcCodecError::RespTimeout(cfg.resp_timeout);
            if code != 0 {
                let error = timed(cfg.resp_timeout, resp_err, self.read_error(io, code)).await?;
                return Ok(if blocks.is_empty() {
                    RpcResponse::Error(error)
                } else {
                    RpcResponse::Blocks {
                        blocks,
                        error: Some(error),
                    }
                });
            }
            if blocks.len() as u64 >= max_chunks {
                return Err(RpcCodecError::TooManyChunks { max: max_chunks });
            }
            let block = timed(cfg.resp_timeout, resp_err, self.read_block(io, protocol)).await?;
            total = total.saturating_add(block.ssz.len());
            if total > cfg.max_response_bytes {
                return Err(RpcCodecError::ResponseTooLarge {
                    max: cfg.max_response_bytes,
                });
            }
            blocks.push(block);
        }
        Ok(RpcResponse::Blocks {
            blocks,
            error: None,
        })
    }

    /// Writes a request (nothing for MetaData) and returns the most chunks its response may hold.
    pub async fn encode_request<T>(
        &self,
        protocol: RpcProtocol,
        io: &mut T,
        request: &RpcRequest,
    ) -> Result<u64, RpcCodecError>
    where
        T: AsyncWrite + Unpin + Send,
    {
        if request.method() != protocol.method() {
            return Err(RpcCodecError::Mismatch {
                protocol,
                what: "a request of another method",
            });
        }
        let max_chunks = match request {
            RpcRequest::BlocksByRange(r) => r.count.min(self.config.max_request_blocks),
            RpcRequest::BlocksByRoot(roots) => roots.len() as u64,
            _ => 1,
        };
        if let (Some(ssz), Some(bounds)) = (
            request.to_ssz(protocol),
            protocol.request_bounds(self.config.max_request_blocks),
        ) {
            if !self.cap(bounds).admits(ssz.len()) {
                return Err(RpcCodecError::Mismatch {
                    protocol,
                    what: "a request out of its type's bounds",
                });
            }
            io.write_all(&encode_chunk(&ssz))
                .await
                .map_err(RpcCodecError::Io)?;
        }
        io.flush().await.map_err(RpcCodecError::Io)?;
        Ok(max_chunks)
    }

    /// Writes a response in the version `protocol` speaks.
    pub async fn encode_response<T>(
        &self,
        protocol: RpcProtocol,
        io: &mut T,
        response: &RpcResponse,
    ) -> Result<(), RpcCodecError>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let mismatch = |what| RpcCodecError::Mismatch { protocol, what };
        let method = protocol.method();
        let single = |ssz: Vec<u8>| {
            let mut out = vec![0u8];
            out.extend_from_slice(&encode_chunk(&ssz));
            out
        };
        let bytes = match response {
            RpcResponse::Status(s) if method == RpcMethod::Status => {
                single(s.to_ssz(protocol.version()))
            }
            RpcResponse::Pong(seq) if method == RpcMethod::Ping => {
                single(seq.to_le_bytes().to_vec())
            }
            RpcResponse::MetaData(m) if method == RpcMethod::MetaData => {
                let m = m
                    .downgrade(protocol.version())
                    .ok_or(mismatch("metadata older than the protocol"))?;
                single(
                    m.to_ssz()
                        .map_err(|_| mismatch("unserializable metadata"))?,
                )
            }
            // Goodbye is acknowledged by closing the stream, as clients expect.
            RpcResponse::GoodbyeAck if method == RpcMethod::Goodbye => Vec::new(),
            RpcResponse::Blocks { blocks, error } if protocol.is_multi_chunk() => {
                let bounds = self.cap(protocol.response_bounds(self.config.max_payload_size));
                for block in blocks {
                    if !bounds.admits(block.ssz.len()) {
                        return Err(mismatch("a block out of bounds"));
                    }
                    let mut out = vec![0u8];
                    if protocol.has_context_bytes() {
                        let digest = block
                            .fork_digest
                            .ok_or(mismatch("a block chunk without its fork digest"))?;
                        out.extend_from_slice(&digest.0);
                    }
                    out.extend_from_slice(&encode_chunk(&block.ssz));
                    io.write_all(&out).await.map_err(RpcCodecError::Io)?;
                }
                error.as_ref().map(error_chunk).unwrap_or_default()
            }
            RpcResponse::Error(error) => error_chunk(error),
            _ => return Err(mismatch("a response of another method")),
        };
        io.write_all(&bytes).await.map_err(RpcCodecError::Io)?;
        io.flush().await.map_err(RpcCodecError::Io)
    }

    fn cap(&self, bounds: SszBounds) -> SszBounds {
        SszBounds {
            min: bounds.min,
            max: bounds.max.min(self.config.max_payload_size),
        }
    }

    async fn read_error<T>(&self, io: &mut T, code: u8) -> Result<RpcErrorResponse, RpcCodecError>
    where
        T: AsyncRead + Unpin + Send,
    {
        let code = crate::rpc::message::ResponseCode::from_byte(code)
            .ok_or(RpcCodecError::UnknownResultCode(code))?;
        let message = read_payload(
            io,
            RpcProtocol::StatusV1, // only named in errors; the bound is ErrorMessage's
            SszBounds::up_to(MAX_ERROR_MESSAGE_LEN),
            None,
        )
        .await?;
        Ok(RpcErrorResponse { code, message })
    }

    async fn read_block<T>(
        &self,
        io: &mut T,
        protocol: RpcProtocol,
    ) -> Result<BlockChunk, RpcCodecError>
    where
        T: AsyncRead + Unpin + Send,
    {
        let fork_digest = if protocol.has_context_bytes() {
            let mut digest = [0u8; 4];
            read_exact(io, &mut digest).await?;
            let digest = ForkDigest(digest);
            if !self.config.fork_digests.is_empty() && !self.config.fork_digests.contains(&digest) {
                return Err(RpcCodecError::UnknownForkDigest(digest));
            }
            Some(digest)
        } else {
            None
        };
        let bounds = self.cap(protocol.response_bounds(self.config.max_payload_size));
        let ssz = read_payload(io, protocol, bounds, None).await?;
        Ok(BlockChunk { fork_digest, ssz })
    }
}

fn error_chunk(error: &RpcErrorResponse) -> Vec<u8> {
    let message = error
        .message
        .get(..MAX_ERROR_MESSAGE_LEN)
        .unwrap_or(&error.message);
    let mut out = vec![error.code.byte()];
    out.extend_from_slice(&encode_chunk(message));
    out
}

impl libp2p::request_response::Codec for RpcCodec {
    type Protocol = RpcProtocol;
    type Request = RpcEnvelope;
    type Response = RpcResponse;

    async fn read_request<T>(
        &mut self,
        protocol: &RpcProtocol,
        io: &mut T,
    ) -> io::Result<RpcEnvelope>
    where
        T: AsyncRead + Unpin + Send,
    {
        // The peer's faults and timeouts come up as requests (see `RequestFault`); a failed
        // stream or a local mistake is an error, which libp2p drops silently.
        let request = match self.decode_request(*protocol, io).await {
            Ok(request) => Ok(request),
            Err(e) if e.is_peer_fault() || e.is_timeout() => Err(RequestFault {
                reason: e.to_string(),
                timeout: e.is_timeout(),
            }),
            Err(e) => return Err(e.into_io()),
        };
        Ok(RpcEnvelope {
            protocol: Some(*protocol),
            request,
        })
    }

    async fn read_response<T>(
        &mut self,
        protocol: &RpcProtocol,
        io: &mut T,
    ) -> io::Result<RpcResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.decode_response(*protocol, io, self.max_response_chunks)
            .await
            .map_err(RpcCodecError::into_io)
    }

    async fn write_request<T>(
        &mut self,
        protocol: &RpcProtocol,
        io: &mut T,
        envelope: RpcEnvelope,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let request = envelope.request.map_err(|_| {
            RpcCodecError::Mismatch {
                protocol: *protocol,
                what: "a request fault",
            }
            .into_io()
        })?;
        self.max_response_chunks = self
            .encode_request(*protocol, io, &request)
            .await
            .map_err(RpcCodecError::into_io)?;
        Ok(())
    }

    async fn write_response<T>(
        &mut self,
        protocol: &RpcProtocol,
        io: &mut T,
        response: RpcResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.encode_response(*protocol, io, &response)
            .await
            .map_err(RpcCodecError::into_io)
    }
}

/// Runs `fut`, or gives `on_timeout` after `limit`.
async fn timed<F, X>(limit: Duration, on_timeout: RpcCodecError, fut: F) -> Result<X, RpcCodecError>
where
    F: Future<Output = Result<X, RpcCodecError>>,
{
    let fut = std::pin::pin!(fut);
    match select(fut, futures_timer::Delay::new(limit)).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(on_timeout),
    }
}

async fn read_byte_or_eof<T>(io: &mut T) -> Result<Option<u8>, RpcCodecError>
where
    T: AsyncRead + Unpin + Send,
{
    let mut byte = [0u8; 1];
    loop {
        match io.read(&mut byte).await {
            Ok(0) => return Ok(None),
            Ok(_) => return Ok(Some(byte[0])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(RpcCodecError::Io(e)),
        }
    }
}

async fn read_exact<T>(io: &mut T, buf: &mut [u8]) -> Result<(), RpcCodecError>
where
    T: AsyncRead + Unpin + Send,
{
    io.read_exact(buf).await.map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            RpcCodecError::Truncated
        } else {
            RpcCodecError::Io(e)
        }
    })
}

/// Largest uncompressed data in one snappy frame.
const MAX_FRAME_DATA: usize = 65_536;
/// The framing format's stream identifier body.
const STREAM_IDENTIFIER: &[u8; 6] = b"sNaPpY";

/// Reads `varint(len) ++ snappy frames` (the varint's first byte possibly already read) and
/// returns the SSZ bytes: the length is checked against `bounds` before any allocation, each
/// frame header before its data is read, and no more than the compressed bound of `len` is read.
async fn read_payload<T>(
    io: &mut T,
    protocol: RpcProtocol,
    bounds: SszBounds,
    first: Option<u8>,
) -> Result<Vec<u8>, RpcCodecError>
where
    T: AsyncRead + Unpin + Send,
{
    // The varint, as the chunk decoder will read it again from `raw`.
    let mut raw: Vec<u8> = Vec::with_capacity(16);
    let mut len: u64 = 0;
    let mut next = first;
    loop {
        let byte = match next.take() {
            Some(b) => b,
            None => {
                let mut b = [0u8; 1];
                read_exact(io, &mut b).await?;
                b[0]
            }
        };
        let index = raw.len();
        if index == 10 || (index == 9 && byte > 1) {
            return Err(RpcCodecError::BadLengthPrefix);
        }
        raw.push(byte);
        len |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            break;
        }
    }
    let out_of_bounds = RpcCodecError::OutOfBounds {
        protocol,
        len,
        min: bounds.min,
        max: bounds.max,
    };
    let Ok(len_usize) = usize::try_from(len) else {
        return Err(out_of_bounds);
    };
    if !bounds.admits(len_usize) {
        return Err(out_of_bounds);
    }
    if len_usize == 0 {
        return Ok(Vec::new());
    }
    let frames = len_usize / MAX_FRAME_DATA + 1;
    let limit = 10 + max_compressed_len(len_usize) + 8 * frames;
    let max_compressed_frame = 4 + max_compressed_len(MAX_FRAME_DATA);
    // Room for the stream identifier and one full frame: the buffer grows with the frames that
    // arrive, not with the length a peer announced (a stalled 10 MiB announcement holds no
    // 10 MiB buffer).
    raw.reserve(limit.min(10 + 4 + max_compressed_frame));
    let prefix = raw.len();
    let mut produced = 0usize;
    while produced < len_usize {
        let mut header = [0u8; 4];
        read_exact(io, &mut header).await?;
        let kind = header[0];
        let frame_len =
            usize::from(header[1]) | usize::from(header[2]) << 8 | usize::from(header[3]) << 16;
        if raw.len() - prefix + 4 + frame_len > limit {
            return Err(RpcCodecError::Corrupt(FrameError::PastLimit {
                limit,
                len: len_usize,
            }));
        }
        match kind {
            0xff if frame_len != STREAM_IDENTIFIER.len() => {
                return Err(RpcCodecError::Corrupt(FrameError::StreamIdentifier));
            }
            0x00 if !(4..=max_compressed_frame).contains(&frame_len) => {
                return Err(RpcCodecError::Corrupt(FrameError::CompressedLength(
                    frame_len,
                )));
            }
            0x01 if !(4..=4 + MAX_FRAME_DATA).contains(&frame_len) => {
                return Err(RpcCodecError::Corrupt(FrameError::UncompressedLength(
                    frame_len,
                )));
            }
            0x02..=0x7f => {
                return Err(RpcCodecError::Corrupt(FrameError::Reserved(kind)));
            }
            _ => {}
        }
        raw.extend_from_slice(&header);
        let start = raw.len();
        raw.resize(start + frame_len, 0);
        read_exact(io, &mut raw[start..]).await?;
        let data = &raw[start..];
        let produces = match kind {
            0xff if data != STREAM_IDENTIFIER => {
                return Err(RpcCodecError::Corrupt(FrameError::StreamIdentifier));
            }
            0x00 => block_preamble(data.get(4..).unwrap_or_default())
                .ok_or(RpcCodecError::Corrupt(FrameError::Preamble))?,
            0x01 => frame_len - 4,
            _ => 0, // stream identifier, padding, skippable frames
        };
        if produces > MAX_FRAME_DATA {
            return Err(RpcCodecError::Corrupt(FrameError::Produces(produces)));
        }
        produced += produces;
        if produced > len_usize {
            return Err(RpcCodecError::Corrupt(FrameError::MoreThanAnnounced(
                len_usize,
            )));
        }
    }
    let (ssz, used) = decode_chunk(&raw, bounds).map_err(|e| match e {
        ChunkError::Incomplete => RpcCodecError::Truncated,
        ChunkError::BadPrefix => RpcCodecError::BadLengthPrefix,
        ChunkError::OutOfBounds { len, bounds } => RpcCodecError::OutOfBounds {
            protocol,
            len,
            min: bounds.min,
            max: bounds.max,
        },
        ChunkError::Corrupt(e) => RpcCodecError::Corrupt(FrameError::Snappy(e)),
        ChunkError::EndsEarly => RpcCodecError::Corrupt(FrameError::EndsEarly),
    })?;
    if used != raw.len() {
        return Err(RpcCodecError::Corrupt(FrameError::Trailing(
            raw.len() - used,
        )));
    }
    Ok(ssz)
}

/// The uncompressed length a snappy block announces (its varint preamble, at most 32 bits).
fn block_preamble(data: &[u8]) -> Option<usize> {
    let mut len: u64 = 0;
    for (i, byte) in data.iter().take(5).enumerate() {
        len |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return usize::try_from(len).ok();
        }
    }
    None
}
