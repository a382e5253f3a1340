//! The req/resp codec on real bytes: round trips, and every way a peer can lie or stall.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::varint;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::AsyncRead;
use futures::io::Cursor;
use pheme_codec::encode_chunk;
use pheme_network::{
    rpc::BlockChunk, rpc::GoodbyeReason, rpc::MetaData, rpc::ResponseCode, rpc::RpcCodec,
    rpc::RpcCodecError, rpc::RpcConfig, rpc::RpcErrorResponse, rpc::RpcProtocol, rpc::RpcRequest,
    rpc::RpcResponse, rpc::StatusMessage,
};
use pheme_spec::ForkDigest;
use pheme_types::p2p::{BeaconBlocksByRangeRequest, MetaDataV3};

const DIGEST: ForkDigest = ForkDigest([0x8c, 0x9f, 0x62, 0xfe]);

fn codec() -> RpcCodec {
    RpcCodec::new(RpcConfig::default())
}

fn status() -> StatusMessage {
    StatusMessage {
        fork_digest: DIGEST,
        finalized_root: [1; 32],
        finalized_epoch: 2,
        head_root: [3; 32],
        head_slot: 4,
        earliest_available_slot: Some(5),
    }
}

fn block(tag: u8) -> BlockChunk {
    BlockChunk {
        fork_digest: Some(DIGEST),
        ssz: vec![tag; 600],
    }
}

async fn request_bytes(protocol: RpcProtocol, request: &RpcRequest) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    codec()
        .encode_request(protocol, &mut out, request)
        .await
        .unwrap();
    out.into_inner()
}

async fn response_bytes(protocol: RpcProtocol, response: &RpcResponse) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    codec()
        .encode_response(protocol, &mut out, response)
        .await
        .unwrap();
    out.into_inner()
}

async fn read_request(protocol: RpcProtocol, bytes: Vec<u8>) -> Result<RpcRequest, RpcCodecError> {
    codec()
        .decode_request(protocol, &mut Cursor::new(bytes))
        .await
}

async fn read_response(
    protocol: RpcProtocol,
    bytes: Vec<u8>,
    max_chunks: u64,
) -> Result<RpcResponse, RpcCodecError> {
    codec()
        .decode_response(protocol, &mut Cursor::new(bytes), max_chunks)
        .await
}

#[tokio::test]
async fn every_request_round_trips() {
    let range = BeaconBlocksByRangeRequest {
        start_slot: 10,
        count: 3,
        step: 1,
    };
    let cases = [
        (RpcProtocol::StatusV2, RpcRequest::Status(status())),
        (
            RpcProtocol::GoodbyeV1,
            RpcRequest::Goodbye(GoodbyeReason::TooManyPeers),
        ),
        (RpcProtocol::PingV1, RpcRequest::Ping(9)),
        (RpcProtocol::MetaDataV3, RpcRequest::MetaData),
        (
            RpcProtocol::BlocksByRangeV2,
            RpcRequest::BlocksByRange(range),
        ),
        (
            RpcProtocol::BlocksByRootV2,
            RpcRequest::BlocksByRoot(vec![[7; 32], [8; 32]]),
        ),
    ];
    for (protocol, request) in cases {
        let bytes = request_bytes(protocol, &request).await;
        assert_eq!(
            read_request(protocol, bytes).await.unwrap(),
            request,
            "{protocol}"
        );
    }
    // MetaData requests are empty; Status v1 drops earliest_available_slot (84 bytes of SSZ).
    assert!(
        request_bytes(RpcProtocol::MetaDataV2, &RpcRequest::MetaData)
            .await
            .is_empty()
    );
    let v1 = request_bytes(RpcProtocol::StatusV1, &RpcRequest::Status(status())).await;
    assert_eq!(v1[0], 84);
    let back = read_request(RpcProtocol::StatusV1, v1).await.unwrap();
    assert_eq!(
        back,
        RpcRequest::Status(StatusMessage {
            earliest_available_slot: None,
            ..status()
        })
    );
}

#[tokio::test]
async fn every_response_round_trips() {
    let metadata = MetaData::V3(MetaDataV3 {
        seq_number: 3,
        custody_group_count: 4,
        ..Default::default()
    });
    let cases = [
        (RpcProtocol::StatusV2, RpcResponse::Status(status())),
        (RpcProtocol::PingV1, RpcResponse::Pong(11)),
        (
            RpcProtocol::MetaDataV3,
            RpcResponse::MetaData(metadata.clone()),
        ),
        (RpcProtocol::GoodbyeV1, RpcResponse::GoodbyeAck),
        (
            RpcProtocol::BlocksByRangeV2,
            RpcResponse::blocks(vec![block(1), block(2), block(3)]),
        ),
        (RpcProtocol::BlocksByRootV2, RpcResponse::blocks(vec![])),
        // Four snappy frames: the read buffer grows frame by frame.
        (
            RpcProtocol::BlocksByRootV2,
            RpcResponse::blocks(vec![BlockChunk {
                fork_digest: Some(DIGEST),
                ssz: (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect(),
            }]),
        ),
        (
            RpcProtocol::BlocksByRangeV1,
            RpcResponse::blocks(vec![BlockChunk {
                fork_digest: None,
                ssz: vec![5; 404],
            }]),
        ),
        (
            RpcProtocol::StatusV1,
            RpcResponse::error(ResponseCode::ServerError, "oops"),
        ),
    ];
    for (protocol, response) in cases {
        let bytes = response_bytes(protocol, &response).await;
        assert_eq!(
            read_response(protocol, bytes, 3).await.unwrap(),
            response,
            "{protocol}"
        );
    }
    // MetaData v3 is sent as v2 on metadata/2 (17 bytes).
    let v2 = response_bytes(
        RpcProtocol::MetaDataV2,
        &RpcResponse::MetaData(metadata.clone()),
    )
    .await;
    assert_eq!(&v2[..2], &[0, 17]);
    assert_eq!(
        read_response(RpcProtocol::MetaDataV2, v2, 1).await.unwrap(),
        RpcResponse::MetaData(metadata.downgrade(2).unwrap())
    );
    // Goodbye answered with a uint64 chunk (as some clients do) is an ack too.
    let mut chunk = vec![0u8];
    chunk.extend(encode_chunk(&0u64.to_le_bytes()));
    assert_eq!(
        read_response(RpcProtocol::GoodbyeV1, chunk, 1)
            .await
            .unwrap(),
        RpcResponse::GoodbyeAck
    );
    // A v2 block chunk is result, 4 context bytes, then the payload.
    let bytes = response_bytes(
        RpcProtocol::BlocksByRootV2,
        &RpcResponse::blocks(vec![block(1)]),
    )
    .await;
    assert_eq!(&bytes[..5], &[0, 0x8c, 0x9f, 0x62, 0xfe]);
}

#[tokio::test]
async fn lying_length_prefixes_are_refused_before_allocating() {
    // A ping announcing 2^60 bytes.
    let mut bytes = varint(1 << 60);
    bytes.extend(&encode_chunk(&[0u8; 8])[1..]);
    let err = read_request(RpcProtocol::PingV1, bytes).await.unwrap_err();
    assert!(
        matches!(err, RpcCodecError::OutOfBounds { len, .. } if len == 1 << 60),
        "{err}"
    );
    assert!(err.is_peer_fault());
    // Eleven continuation bytes, and a tenth byte over 64 bits.
    let err = read_request(RpcProtocol::PingV1, vec![0x80; 11])
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::BadLengthPrefix), "{err}");
    let mut over = vec![0xff; 9];
    over.push(0x02);
    let err = read_request(RpcProtocol::PingV1, over).await.unwrap_err();
    assert!(matches!(err, RpcCodecError::BadLengthPrefix), "{err}");
    // A ping announcing 8 bytes whose frames hold 16.
    let mut bytes = varint(8);
    bytes.extend(&encode_chunk(&[0u8; 16])[1..]);
    let err = read_request(RpcProtocol::PingV1, bytes).await.unwrap_err();
    assert!(matches!(err, RpcCodecError::Corrupt(_)), "{err}");
    // A status announcing 92 bytes on status/1 (84 fixed).
    let bytes = request_bytes(RpcProtocol::StatusV2, &RpcRequest::Status(status())).await;
    let err = read_request(RpcProtocol::StatusV1, bytes)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RpcCodecError::OutOfBounds { len: 92, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn oversized_blocks_are_refused_from_their_prefix() {
    let max = RpcConfig::default().max_payload_size() as u64;
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(&DIGEST.0);
    bytes.extend(varint(max + 1));
    // No frames follow: the prefix alone decides.
    let err = read_response(RpcProtocol::BlocksByRangeV2, bytes, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RpcCodecError::OutOfBounds { len, .. } if len == max + 1),
        "{err}"
    );
    // Too small for any block.
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(&DIGEST.0);
    bytes.extend(encode_chunk(&[0u8; 100]));
    let err = read_response(RpcProtocol::BlocksByRangeV2, bytes, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RpcCodecError::OutOfBounds { len: 100, .. }),
        "{err}"
    );
    // And the writer refuses to send what the reader would refuse.
    let mut out = Cursor::new(Vec::new());
    let tiny = RpcResponse::blocks(vec![BlockChunk {
        fork_digest: Some(DIGEST),
        ssz: vec![0; 10],
    }]);
    let err = codec()
        .encode_response(RpcProtocol::BlocksByRangeV2, &mut out, &tiny)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::Mismatch { .. }) && !err.is_peer_fault());
}

#[tokio::test]
async fn truncated_framed_snappy_is_an_error() {
    let full = response_bytes(
        RpcProtocol::BlocksByRangeV2,
        &RpcResponse::blocks(vec![block(1)]),
    )
    .await;
    for cut in [1, 5, 6, 12, full.len() / 2, full.len() - 1] {
        let err = read_response(RpcProtocol::BlocksByRangeV2, full[..cut].to_vec(), 1)
            .await
            .unwrap_err();
        assert!(
            matches!(err, RpcCodecError::Truncated),
            "cut at {cut}: {err}"
        );
    }
    let request = request_bytes(RpcProtocol::StatusV2, &RpcRequest::Status(status())).await;
    let err = read_request(RpcProtocol::StatusV2, request[..request.len() - 3].to_vec())
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::Truncated), "{err}");
    // A single-chunk response with nothing at all.
    let err = read_response(RpcProtocol::PingV1, vec![], 1)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::NoResponse), "{err}");
}

#[tokio::test]
async fn corrupt_frames_are_errors() {
    let good = request_bytes(RpcProtocol::PingV1, &RpcRequest::Ping(1)).await;
    // A flipped payload byte breaks the checksum.
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0xff;
    let err = read_request(RpcProtocol::PingV1, flipped)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::Corrupt(_)), "{err}");
    // A reserved unskippable frame type.
    let mut reserved = varint(8);
    reserved.extend([0xff, 6, 0, 0]);
    reserved.extend(b"sNaPpY");
    reserved.extend([0x02, 4, 0, 0, 0, 0, 0, 0]);
    let err = read_request(RpcProtocol::PingV1, reserved)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::Corrupt(_)), "{err}");
    // A frame header announcing 16 MiB for an 8-byte payload: refused before reading it.
    let mut huge = varint(8);
    huge.extend([0xff, 6, 0, 0]);
    huge.extend(b"sNaPpY");
    huge.extend([0x00, 0xff, 0xff, 0xff]);
    let err = read_request(RpcProtocol::PingV1, huge).await.unwrap_err();
    assert!(matches!(err, RpcCodecError::Corrupt(_)), "{err}");
}

/// A stream that never ends: padding frames forever after a valid header.
struct Endless {
    prefix: Vec<u8>,
    at: usize,
}

impl AsyncRead for Endless {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        for byte in buf.iter_mut() {
            *byte = self.prefix.get(self.at).copied().unwrap_or_else(|| {
                // Padding frames of 4 bytes: fe 00 00 00.
                let k = (self.at - self.prefix.len()) % 4;
                if k == 0 { 0xfe } else { 0 }
            });
            self.at += 1;
        }
        Poll::Ready(Ok(buf.len()))
    }
}

#[tokio::test]
async fn an_endless_stream_is_cut_off() {
    let mut prefix = varint(8);
    prefix.extend([0xff, 6, 0, 0]);
    prefix.extend(b"sNaPpY");
    let mut endless = Endless { prefix, at: 0 };
    let err = codec()
        .decode_request(RpcProtocol::PingV1, &mut endless)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::Corrupt(_)), "{err}");
    assert!(endless.at < 1_000, "read {} bytes", endless.at);

    // Endless valid block chunks: stopped at the request's count.
    let one = response_bytes(
        RpcProtocol::BlocksByRangeV2,
        &RpcResponse::blocks(vec![block(1)]),
    )
    .await;
    let many: Vec<u8> = one.iter().copied().cycle().take(one.len() * 50).collect();
    let err = read_response(RpcProtocol::BlocksByRangeV2, many, 4)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RpcCodecError::TooManyChunks { max: 4 }),
        "{err}"
    );
}

#[tokio::test]
async fn too_many_chunks_and_the_byte_budget() {
    let three = response_bytes(
        RpcProtocol::BlocksByRootV2,
        &RpcResponse::blocks(vec![block(1), block(2), block(3)]),
    )
    .await;
    let err = read_response(RpcProtocol::BlocksByRootV2, three.clone(), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RpcCodecError::TooManyChunks { max: 2 }),
        "{err}"
    );
    let tight = RpcCodec::new(RpcConfig::default().with_max_response_bytes(1_000));
    let err = tight
        .decode_response(RpcProtocol::BlocksByRootV2, &mut Cursor::new(three), 3)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RpcCodecError::ResponseTooLarge { max: 1_000 }),
        "{err}"
    );
    // The request's count is what the codec remembers: count 2 -> at most 2 chunks.
    let mut sink = Cursor::new(Vec::new());
    let range = RpcRequest::BlocksByRange(BeaconBlocksByRangeRequest {
        start_slot: 0,
        count: 2,
        step: 1,
    });
    let max = codec()
        .encode_request(RpcProtocol::BlocksByRangeV2, &mut sink, &range)
        .await
        .unwrap();
    assert_eq!(max, 2);
}

#[tokio::test]
async fn result_codes_and_error_messages() {
    // Reserved codes are protocol errors.
    for code in [4u8, 42, 127] {
        let mut bytes = vec![code];
        bytes.extend(encode_chunk(b"x"));
        let err = read_response(RpcProtocol::PingV1, bytes.clone(), 1)
            .await
            .unwrap_err();
        assert!(
            matches!(err, RpcCodecError::UnknownResultCode(c) if c == code),
            "{err}"
        );
        let err = read_response(RpcProtocol::BlocksByRangeV2, bytes, 1)
            .await
            .unwrap_err();
        assert!(matches!(err, RpcCodecError::UnknownResultCode(_)), "{err}");
    }
    // Client-specific codes are error responses; 139 is rate limiting.
    let mut bytes = vec![139u8];
    bytes.extend(encode_chunk(b"slow down"));
    match read_response(RpcProtocol::BlocksByRangeV2, bytes, 5)
        .await
        .unwrap()
    {
        RpcResponse::Error(e) => {
            assert_eq!(e.code, ResponseCode::RateLimited);
            assert_eq!(e.message_lossy(), "slow down");
        }
        other => panic!("{other:?}"),
    }
    let mut bytes = vec![200u8];
    bytes.extend(encode_chunk(&[0xff, 0xfe]));
    match read_response(RpcProtocol::StatusV1, bytes, 1)
        .await
        .unwrap()
    {
        RpcResponse::Error(e) => assert_eq!(
            (e.code, e.message),
            (ResponseCode::Other(200), vec![0xff, 0xfe])
        ),
        other => panic!("{other:?}"),
    }
    // ResourceUnavailable after one block keeps the block.
    let mut bytes = response_bytes(
        RpcProtocol::BlocksByRangeV2,
        &RpcResponse::blocks(vec![block(1)]),
    )
    .await;
    bytes.push(3);
    bytes.extend(encode_chunk(b"pruned"));
    match read_response(RpcProtocol::BlocksByRangeV2, bytes, 5)
        .await
        .unwrap()
    {
        RpcResponse::Blocks {
            blocks,
            error: Some(e),
        } => {
            assert_eq!(blocks, vec![block(1)]);
            assert_eq!(
                (e.code, e.message_lossy().as_str()),
                (ResponseCode::ResourceUnavailable, "pruned")
            );
        }
        other => panic!("{other:?}"),
    }
    // An error message over 256 bytes is refused when read, truncated when written.
    let mut bytes = vec![2u8];
    bytes.extend(encode_chunk(&[b'a'; 257]));
    let err = read_response(RpcProtocol::PingV1, bytes, 1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RpcCodecError::OutOfBounds { len: 257, .. }),
        "{err}"
    );
    let long = RpcResponse::Error(RpcErrorResponse {
        code: ResponseCode::ServerError,
        message: vec![b'a'; 300],
    });
    match read_response(
        RpcProtocol::PingV1,
        response_bytes(RpcProtocol::PingV1, &long).await,
        1,
    )
    .await
    .unwrap()
    {
        RpcResponse::Error(e) => assert_eq!(e.message.len(), 256),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn context_bytes_must_name_a_fork_of_the_network() {
    let chain = pheme_spec::Network::Mainnet.chain_spec().unwrap();
    let strict = RpcCodec::new(RpcConfig::for_chain(&chain));
    let good = response_bytes(
        RpcProtocol::BlocksByRootV2,
        &RpcResponse::blocks(vec![block(1)]),
    )
    .await;
    strict
        .decode_response(
            RpcProtocol::BlocksByRootV2,
            &mut Cursor::new(good.clone()),
            1,
        )
        .await
        .unwrap();
    let mut bad = good;
    bad[1..5].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let err = strict
        .decode_response(RpcProtocol::BlocksByRootV2, &mut Cursor::new(bad), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::UnknownForkDigest(_)), "{err}");
    // A v2 chunk needs its digest to be written.
    let mut out = Cursor::new(Vec::new());
    let no_digest = RpcResponse::blocks(vec![BlockChunk {
        fork_digest: None,
        ssz: vec![0; 500],
    }]);
    let err = strict
        .encode_response(RpcProtocol::BlocksByRootV2, &mut out, &no_digest)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::Mismatch { .. }), "{err}");
}

/// A stream that never delivers a byte.
struct Silent;

impl AsyncRead for Silent {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Pending
    }
}

#[tokio::test]
async fn silent_peers_time_out() {
    let quick = RpcCodec::new(
        RpcConfig::default()
            .with_ttfb_timeout(Duration::from_millis(100))
            .with_resp_timeout(Duration::from_millis(200)),
    );
    let err = quick
        .decode_response(RpcProtocol::StatusV2, &mut Silent, 1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RpcCodecError::TtfbTimeout(_)) && err.is_timeout(),
        "{err}"
    );
    let err = quick
        .decode_request(RpcProtocol::PingV1, &mut Silent)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // A first byte, then silence: the chunk's RESP timeout.
    let mut stalled = futures::AsyncReadExt::chain(Cursor::new(vec![0u8, 8]), Silent);
    let err = quick
        .decode_response(RpcProtocol::PingV1, &mut stalled, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcCodecError::RespTimeout(_)), "{err}");
    // The io::Error libp2p reports carries the codec error.
    let io = std::io::Error::new(std::io::ErrorKind::TimedOut, err);
    assert!(RpcCodecError::from_io(&io).is_some_and(RpcCodecError::is_timeout));
}
