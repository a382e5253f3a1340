//! Typed requests and responses, and their SSZ payloads.

use pheme_spec::ForkDigest;
use pheme_types::p2p::{BeaconBlocksByRangeRequest, MetaDataV1, MetaDataV2, MetaDataV3};
use pheme_types::ssz_rs;

use crate::rpc::protocol::{
    BLOCKS_BY_RANGE_REQUEST_SIZE, MAX_ERROR_MESSAGE_LEN, RpcMethod, RpcProtocol, STATUS_V1_SIZE,
    STATUS_V2_SIZE,
};

/// A `Status` message of either version. Built locally it carries `earliest_available_slot`;
/// received on `status/1` it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusMessage {
    /// The fork digest at the sender's wall-clock epoch.
    pub fork_digest: ForkDigest,
    /// Finalized checkpoint root.
    pub finalized_root: [u8; 32],
    /// Finalized checkpoint epoch.
    pub finalized_epoch: u64,
    /// Head block root.
    pub head_root: [u8; 32],
    /// Head slot.
    pub head_slot: u64,
    /// `StatusV2`'s earliest slot the sender serves blocks from. On a `status/2` stream `None`
    /// is sent as `head_slot` (nothing older is available).
    pub earliest_available_slot: Option<u64>,
}

impl StatusMessage {
    /// SSZ of the version `protocol` speaks (`status/1` drops `earliest_available_slot`).
    pub(crate) fn to_ssz(self, version: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(STATUS_V2_SIZE);
        out.extend_from_slice(&self.fork_digest.0);
        out.extend_from_slice(&self.finalized_root);
        out.extend_from_slice(&self.finalized_epoch.to_le_bytes());
        out.extend_from_slice(&self.head_root);
        out.extend_from_slice(&self.head_slot.to_le_bytes());
        if version >= 2 {
            let earliest = self.earliest_available_slot.unwrap_or(self.head_slot);
            out.extend_from_slice(&earliest.to_le_bytes());
        }
        out
    }

    /// Parses `Status` (84 bytes) or `StatusV2` (92 bytes).
    pub(crate) fn from_ssz(bytes: &[u8]) -> Option<StatusMessage> {
        if bytes.len() != STATUS_V1_SIZE && bytes.len() != STATUS_V2_SIZE {
            return None;
        }
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(bytes.get(at..at + 8)?);
            Some(u64::from_le_bytes(b))
        };
        let mut fork_digest = [0u8; 4];
        fork_digest.copy_from_slice(bytes.get(0..4)?);
        let mut finalized_root = [0u8; 32];
        finalized_root.copy_from_slice(bytes.get(4..36)?);
        let mut head_root = [0u8; 32];
        head_root.copy_from_slice(bytes.get(44..76)?);
        Some(StatusMessage {
            fork_digest: ForkDigest(fork_digest),
            finalized_root,
            finalized_epoch: u64_at(36)?,
            head_root,
            head_slot: u64_at(76)?,
            earliest_available_slot: if bytes.len() == STATUS_V2_SIZE {
                Some(u64_at(84)?)
            } else {
                None
            },
        })
    }
}

/// A node's `MetaData` in the version a protocol speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaData {
    /// phase0 `MetaData` (`metadata/1`).
    V1(MetaDataV1),
    /// altair `MetaData` (`metadata/2`).
    V2(MetaDataV2),
    /// fulu `MetaData` (`metadata/3`).
    V3(MetaDataV3),
}

impl MetaData {
    /// The sequence number, whatever the version.
    pub fn seq_number(&self) -> u64 {
        match self {
            MetaData::V1(m) => m.seq_number,
            MetaData::V2(m) => m.seq_number,
            MetaData::V3(m) => m.seq_number,
        }
    }

    /// The version (1, 2 or 3).
    pub fn version(&self) -> u8 {
        match self {
            MetaData::V1(_) => 1,
            MetaData::V2(_) => 2,
            MetaData::V3(_) => 3,
        }
    }

    /// This metadata in an older-or-equal `version` (newer fields dropped); `None` when `version`
    /// asks for fields this one lacks.
    pub fn downgrade(&self, version: u8) -> Option<MetaData> {
        let (seq_number, attnets, syncnets, cgc) = match self {
            MetaData::V1(m) => (m.seq_number, m.attnets.clone(), None, None),
            MetaData::V2(m) => (
                m.seq_number,
                m.attnets.clone(),
                Some(m.syncnets.clone()),
                None,
            ),
            MetaData::V3(m) => (
                m.seq_number,
                m.attnets.clone(),
                Some(m.syncnets.clone()),
                Some(m.custody_group_count),
            ),
        };
        match version {
            1 => Some(MetaData::V1(MetaDataV1 {
                seq_number,
                attnets,
            })),
            2 => Some(MetaData::V2(MetaDataV2 {
                seq_number,
                attnets,
                syncnets: syncnets?,
            })),
            3 => Some(MetaData::V3(MetaDataV3 {
                seq_number,
                attnets,
                syncnets: syncnets?,
                custody_group_count: cgc?,
            })),
            _ => None,
        }
    }

    pub(crate) fn to_ssz(&self) -> Result<Vec<u8>, ssz_rs::SerializeError> {
        match self {
            MetaData::V1(m) => ssz_rs::serialize(m),
            MetaData::V2(m) => ssz_rs::serialize(m),
            MetaData::V3(m) => ssz_rs::serialize(m),
        }
    }

    pub(crate) fn from_ssz(version: u8, bytes: &[u8]) -> Option<MetaData> {
        use ssz_rs::Deserialize;
        match version {
            1 => MetaDataV1::deserialize(bytes).ok().map(MetaData::V1),
            2 => MetaDataV2::deserialize(bytes).ok().map(MetaData::V2),
            3 => MetaDataV3::deserialize(bytes).ok().map(MetaData::V3),
            _ => None,
        }
    }
}

/// Why a peer says goodbye. 1 to 3 are the spec's; 128 and up are the conventions clients share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoodbyeReason {
    /// 1: the client is shutting down.
    ClientShutdown,
    /// 2: another network or fork (fork digest or finalized checkpoint mismatch).
    IrrelevantNetwork,
    /// 3: fault or error.
    Fault,
    /// 128: unable to verify the network.
    UnableToVerify,
    /// 129: too many peers.
    TooManyPeers,
    /// 250: the peer's score is too low.
    BadScore,
    /// 251: the peer is banned.
    Banned,
    /// Any other code.
    Other(u64),
}

impl GoodbyeReason {
    /// Whether the reason blames the receiving peer (so it may be counted against it when the
    /// other side says it): a fault, a bad score or a ban.
    pub fn blames_peer(self) -> bool {
        matches!(
            self,
            GoodbyeReason::Fault | GoodbyeReason::BadScore | GoodbyeReason::Banned
        )
    }
}

impl From<u64> for GoodbyeReason {
    fn from(code: u64) -> Self {
        match code {
            1 => GoodbyeReason::ClientShutdown,
            2 => GoodbyeReason::IrrelevantNetwork,
            3 => GoodbyeReason::Fault,
            128 => GoodbyeReason::UnableToVerify,
            129 => GoodbyeReason::TooManyPeers,
            250 => GoodbyeReason::BadScore,
            251 => GoodbyeReason::Banned,
            other => GoodbyeReason::Other(other),
        }
    }
}

impl From<GoodbyeReason> for u64 {
    fn from(reason: GoodbyeReason) -> u64 {
        match reason {
            GoodbyeReason::ClientShutdown => 1,
            GoodbyeReason::IrrelevantNetwork => 2,
            GoodbyeReason::Fault => 3,
            GoodbyeReason::UnableToVerify => 128,
            GoodbyeReason::TooManyPeers => 129,
            GoodbyeReason::BadScore => 250,
            GoodbyeReason::Banned => 251,
            GoodbyeReason::Other(code) => code,
        }
    }
}

/// The result code of an error chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseCode {
    /// 1: the request was malformed or semantically invalid.
    InvalidRequest,
    /// 2: the responder failed.
    ServerError,
    /// 3: the responder does not have what was asked for.
    ResourceUnavailable,
    /// 139: the responder refuses for now (per-peer quota); the code Lighthouse and Lodestar use.
    RateLimited,
    /// Another code in 128..=255 (method- or client-specific errors).
    Other(u8),
}

/// Lighthouse's and Lodestar's code for a rate-limited request.
pub const RATE_LIMITED_CODE: u8 = 139;

impl ResponseCode {
    /// The error a result byte means: `None` for 0 (success) and for the reserved 4..=127.
    pub fn from_byte(byte: u8) -> Option<ResponseCode> {
        match byte {
            1 => Some(ResponseCode::InvalidRequest),
            2 => Some(ResponseCode::ServerError),
            3 => Some(ResponseCode::ResourceUnavailable),
            RATE_LIMITED_CODE => Some(ResponseCode::RateLimited),
            128..=255 => Some(ResponseCode::Other(byte)),
            _ => None,
        }
    }

    /// The result byte.
    pub fn byte(self) -> u8 {
        match self {
            ResponseCode::InvalidRequest => 1,
            ResponseCode::ServerError => 2,
            ResponseCode::ResourceUnavailable => 3,
            ResponseCode::RateLimited => RATE_LIMITED_CODE,
            ResponseCode::Other(code) => code,
        }
    }

    /// Whether receiving this code blames the requester (its request was bad), as opposed to the
    /// responder lacking data or capacity.
    pub fn blames_requester(self) -> bool {
        matches!(self, ResponseCode::InvalidRequest)
    }
}

/// An error chunk: its code and `ErrorMessage` (up to 256 arbitrary bytes, usually UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcErrorResponse {
    /// The result code.
    pub code: ResponseCode,
    /// The message bytes (truncated to 256 when sent).
    pub message: Vec<u8>,
}

impl RpcErrorResponse {
    /// An error with a text message.
    pub fn new(code: ResponseCode, message: &str) -> RpcErrorResponse {
        let mut message = message.as_bytes().to_vec();
        message.truncate(MAX_ERROR_MESSAGE_LEN);
        RpcErrorResponse { code, message }
    }

    /// The message as text, invalid UTF-8 replaced.
    pub fn message_lossy(&self) -> String {
        String::from_utf8_lossy(&self.message).into_owned()
    }
}

/// One block of a blocks response: the SSZ bytes of a `SignedBeaconBlock` and, on v2 protocols,
/// the fork digest of its slot's epoch (which says which fork's type the bytes are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockChunk {
    /// Context bytes; `None` on v1 protocols.
    pub fork_digest: Option<ForkDigest>,
    /// `SignedBeaconBlock` SSZ, checked against the size bounds only.
    pub ssz: Vec<u8>,
}

/// A request, received or to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcRequest {
    /// `status`: the sender's status.
    Status(StatusMessage),
    /// `goodbye`: the reason for disconnecting.
    Goodbye(GoodbyeReason),
    /// `ping`: the sender's metadata sequence number.
    Ping(u64),
    /// `metadata`: no content (the version asked for is the protocol's).
    MetaData,
    /// `beacon_blocks_by_range`.
    BlocksByRange(BeaconBlocksByRangeRequest),
    /// `beacon_blocks_by_root`: the block roots.
    BlocksByRoot(Vec<[u8; 32]>),
}

impl RpcRequest {
    /// The method, which picks the behaviour the request goes out on.
    pub fn method(&self) -> RpcMethod {
        match self {
            RpcRequest::Status(_) => RpcMethod::Status,
            RpcRequest::Goodbye(_) => RpcMethod::Goodbye,
            RpcRequest::Ping(_) => RpcMethod::Ping,
            RpcRequest::MetaData => RpcMethod::MetaData,
            RpcRequest::BlocksByRange(_) => RpcMethod::BlocksByRange,
            RpcRequest::BlocksByRoot(_) => RpcMethod::BlocksByRoot,
        }
    }

    /// The SSZ payload; `None` for requests without content.
    pub(crate) fn to_ssz(&self, protocol: RpcProtocol) -> Option<Vec<u8>> {
        match self {
            RpcRequest::Status(s) => Some(s.to_ssz(protocol.version())),
            RpcRequest::Goodbye(reason) => Some(u64::from(*reason).to_le_bytes().to_vec()),
            RpcRequest::Ping(seq) => Some(seq.to_le_bytes().to_vec()),
            RpcRequest::MetaData => None,
            RpcRequest::BlocksByRange(r) => {
                let mut out = Vec::with_capacity(BLOCKS_BY_RANGE_REQUEST_SIZE);
                out.extend_from_slice(&r.start_slot.to_le_bytes());
                out.extend_from_slice(&r.count.to_le_bytes());
                out.extend_from_slice(&r.step.to_le_bytes());
                Some(out)
            }
            RpcRequest::BlocksByRoot(roots) => Some(roots.concat()),
        }
    }

    /// Parses the request payload received on `protocol`.
    pub(crate) fn from_ssz(protocol: RpcProtocol, bytes: &[u8]) -> Option<RpcRequest> {
        match protocol.method() {
            RpcMethod::Status => StatusMessage::from_ssz(bytes)
                .filter(|_| bytes.len() == protocol_status_size(protocol))
                .map(RpcRequest::Status),
            RpcMethod::Goodbye => read_u64(bytes).map(|c| RpcRequest::Goodbye(c.into())),
            RpcMethod::Ping => read_u64(bytes).map(RpcRequest::Ping),
            RpcMethod::MetaData => Some(RpcRequest::MetaData),
            RpcMethod::BlocksByRange => {
                if bytes.len() != BLOCKS_BY_RANGE_REQUEST_SIZE {
                    return None;
                }
                Some(RpcRequest::BlocksByRange(BeaconBlocksByRangeRequest {
                    start_slot: read_u64(bytes.get(0..8)?)?,
                    count: read_u64(bytes.get(8..16)?)?,
                    step: read_u64(bytes.get(16..24)?)?,
                }))
            }
            RpcMethod::BlocksByRoot => {
                if !bytes.len().is_multiple_of(32) {
                    return None;
                }
                let roots = bytes
                    .chunks_exact(32)
                    .map(|c| {
                        let mut root = [0u8; 32];
                        root.copy_from_slice(c);
                        root
                    })
                    .collect();
                Some(RpcRequest::BlocksByRoot(roots))
            }
        }
    }
}

/// A request with the protocol it travels on: what the codec reads and writes. Received, it
/// names the protocol the peer chose; to send, leave `protocol` empty (the newest version the
/// peer speaks is negotiated) or use [`RpcRequest`] through `RpcBehaviour::send_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcEnvelope {
    /// The protocol the request came on; `None` on requests to send.
    pub protocol: Option<RpcProtocol>,
    /// The request, or, received, why the peer's bytes are not one.
    pub request: Result<RpcRequest, RequestFault>,
}

impl From<RpcRequest> for RpcEnvelope {
    fn from(request: RpcRequest) -> Self {
        RpcEnvelope {
            protocol: None,
            request: Ok(request),
        }
    }
}

/// An inbound request the peer got wrong: bytes no honest peer sends (oversized, a lying length
/// prefix, corrupt snappy, an undecodable payload) or a stream stalled past its TTFB or RESP
/// timeout. libp2p's `request_response` drops the stream of a request whose read fails without
/// telling anyone, so the codec hands these up as requests, for the node to answer (`1`,
/// `InvalidRequest`) and hold against the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct RequestFault {
    /// What was wrong, as the codec said it.
    pub reason: String,
    /// Whether it was a timeout rather than malformed bytes.
    pub timeout: bool,
}

fn protocol_status_size(protocol: RpcProtocol) -> usize {
    if protocol.version() >= 2 {
        STATUS_V2_SIZE
    } else {
        STATUS_V1_SIZE
    }
}

pub(crate) fn read_u64(bytes: &[u8]) -> Option<u64> {
    let array: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_le_bytes(array))
}

/// A response, received or to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcResponse {
    /// `status`: the responder's status.
    Status(StatusMessage),
    /// `ping`: the responder's metadata sequence number.
    Pong(u64),
    /// `metadata`.
    MetaData(MetaData),
    /// `goodbye`: acknowledged (a `uint64` chunk, or, as most clients do, just the end of the
    /// stream).
    GoodbyeAck,
    /// Blocks, in order; `error` is the error chunk that ended the stream after them, if any.
    Blocks {
        /// The success chunks.
        blocks: Vec<BlockChunk>,
        /// An error chunk after at least one block.
        error: Option<RpcErrorResponse>,
    },
    /// A single error chunk.
    Error(RpcErrorResponse),
}

impl RpcResponse {
    /// Blocks and nothing else.
    pub fn blocks(blocks: Vec<BlockChunk>) -> RpcResponse {
        RpcResponse::Blocks {
            blocks,
            error: None,
        }
    }

    /// An error response.
    pub fn error(code: ResponseCode, message: &str) -> RpcResponse {
        RpcResponse::Error(RpcErrorResponse::new(code, message))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use pheme_types::p2p::{Status, StatusV2};
    use pheme_types::ssz_rs::Deserialize;

    fn sample() -> StatusMessage {
        StatusMessage {
            fork_digest: ForkDigest([1, 2, 3, 4]),
            finalized_root: [5; 32],
            finalized_epoch: 6,
            head_root: [7; 32],
            head_slot: 8,
            earliest_available_slot: Some(9),
        }
    }

    #[test]
    fn status_layout_matches_the_ssz_types() {
        let v1 = Status::deserialize(&sample().to_ssz(1)).unwrap();
        assert_eq!(
            (&v1.fork_digest[..], v1.finalized_epoch, v1.head_slot),
            (&[1u8, 2, 3, 4][..], 6, 8)
        );
        assert_eq!(&v1.head_root[..], &[7; 32]);
        let v2 = StatusV2::deserialize(&sample().to_ssz(2)).unwrap();
        assert_eq!(v2.earliest_available_slot, 9);
        assert_eq!(StatusMessage::from_ssz(&sample().to_ssz(2)), Some(sample()));
        let back = StatusMessage::from_ssz(&sample().to_ssz(1)).unwrap();
        assert_eq!(back.earliest_available_slot, None);
    }

    #[test]
    fn goodbye_codes_round_trip() {
        for code in [1u64, 2, 3, 128, 129, 250, 251, 7, u64::MAX] {
            assert_eq!(u64::from(GoodbyeReason::from(code)), code);
        }
        assert_eq!(GoodbyeReason::from(2), GoodbyeReason::IrrelevantNetwork);
        assert!(GoodbyeReason::Banned.blames_peer());
        assert!(!GoodbyeReason::ClientShutdown.blames_peer());
    }

    #[test]
    fn response_codes() {
        assert_eq!(ResponseCode::from_byte(0), None);
        assert_eq!(
            ResponseCode::from_byte(3),
            Some(ResponseCode::ResourceUnavailable)
        );
        assert_eq!(
            ResponseCode::from_byte(139),
            Some(ResponseCode::RateLimited)
        );
        assert_eq!(ResponseCode::from_byte(4), None);
        assert_eq!(ResponseCode::from_byte(127), None);
        assert_eq!(ResponseCode::from_byte(200), Some(ResponseCode::Other(200)));
        for b in 1..=255u8 {
            if let Some(code) = ResponseCode::from_byte(b) {
                assert_eq!(code.byte(), b);
            }
        }
    }

    #[test]
    fn metadata_downgrades_but_never_invents_fields() {
        let v3 = MetaData::V3(MetaDataV3 {
            seq_number: 4,
            custody_group_count: 8,
            ..Default::default()
        });
        assert_eq!(v3.downgrade(1).unwrap().version(), 1);
        assert_eq!(v3.downgrade(2).unwrap().seq_number(), 4);
        let v1 = v3.downgrade(1).unwrap();
        assert!(v1.downgrade(2).is_none());
        for v in 1..=3 {
            let m = v3.downgrade(v).unwrap();
            let ssz = m.to_ssz().unwrap();
            assert_eq!(MetaData::from_ssz(v, &ssz), Some(m));
        }
    }
}
