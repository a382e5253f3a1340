//! The protocol table: every req/resp protocol Pheme speaks, its id string, and the SSZ bounds
//! of its request and response payloads.

use std::fmt;
use std::str::FromStr;

use pheme_codec::SszBounds;

/// The methods of the req/resp domain; one libp2p `request_response` behaviour each, so that a
/// request is only ever offered under its own method's protocol ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RpcMethod {
    /// `status`.
    Status,
    /// `goodbye`.
    Goodbye,
    /// `ping`.
    Ping,
    /// `metadata`.
    MetaData,
    /// `beacon_blocks_by_range`.
    BlocksByRange,
    /// `beacon_blocks_by_root`.
    BlocksByRoot,
}

impl RpcMethod {
    /// Every method.
    pub const ALL: [RpcMethod; 6] = [
        RpcMethod::Status,
        RpcMethod::Goodbye,
        RpcMethod::Ping,
        RpcMethod::MetaData,
        RpcMethod::BlocksByRange,
        RpcMethod::BlocksByRoot,
    ];

    /// The method's name in protocol ids.
    pub fn name(self) -> &'static str {
        match self {
            RpcMethod::Status => "status",
            RpcMethod::Goodbye => "goodbye",
            RpcMethod::Ping => "ping",
            RpcMethod::MetaData => "metadata",
            RpcMethod::BlocksByRange => "beacon_blocks_by_range",
            RpcMethod::BlocksByRoot => "beacon_blocks_by_root",
        }
    }

    /// The method's protocols, newest version first: the order in which they are offered on an
    /// outbound stream (multistream-select settles on the first one the peer supports).
    pub fn protocols(self) -> impl Iterator<Item = RpcProtocol> {
        let mut all: Vec<RpcProtocol> = RpcProtocol::ALL
            .into_iter()
            .filter(|p| p.method() == self)
            .collect();
        all.sort_by_key(|p| std::cmp::Reverse(p.version()));
        all.into_iter()
    }
}

impl fmt::Display for RpcMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One req/resp protocol: a method at a schema version, always with the `ssz_snappy` encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RpcProtocol {
    /// `status/1`: phase0 `Status`.
    StatusV1,
    /// `status/2` (fulu): `StatusV2`.
    StatusV2,
    /// `goodbye/1`.
    GoodbyeV1,
    /// `ping/1`.
    PingV1,
    /// `metadata/1`: phase0 `MetaData`.
    MetaDataV1,
    /// `metadata/2` (altair): adds `syncnets`.
    MetaDataV2,
    /// `metadata/3` (fulu): adds `custody_group_count`.
    MetaDataV3,
    /// `beacon_blocks_by_range/1`: phase0 blocks, no context bytes.
    BlocksByRangeV1,
    /// `beacon_blocks_by_range/2` (altair): every chunk carries its fork digest.
    BlocksByRangeV2,
    /// `beacon_blocks_by_root/1`: phase0 blocks, no context bytes.
    BlocksByRootV1,
    /// `beacon_blocks_by_root/2` (altair): every chunk carries its fork digest.
    BlocksByRootV2,
}

/// The one table of protocol ids, used both to print and to match them.
const PROTOCOL_IDS: [(RpcProtocol, &str); 11] = [
    (
        RpcProtocol::StatusV1,
        "/eth2/beacon_chain/req/status/1/ssz_snappy",
    ),
    (
        RpcProtocol::StatusV2,
        "/eth2/beacon_chain/req/status/2/ssz_snappy",
    ),
    (
        RpcProtocol::GoodbyeV1,
        "/eth2/beacon_chain/req/goodbye/1/ssz_snappy",
    ),
    (
        RpcProtocol::PingV1,
        "/eth2/beacon_chain/req/ping/1/ssz_snappy",
    ),
    (
        RpcProtocol::MetaDataV1,
        "/eth2/beacon_chain/req/metadata/1/ssz_snappy",
    ),
    (
        RpcProtocol::MetaDataV2,
        "/eth2/beacon_chain/req/metadata/2/ssz_snappy",
    ),
    (
        RpcProtocol::MetaDataV3,
        "/eth2/beacon_chain/req/metadata/3/ssz_snappy",
    ),
    (
        RpcProtocol::BlocksByRangeV1,
        "/eth2/beacon_chain/req/beacon_blocks_by_range/1/ssz_snappy",
    ),
    (
        RpcProtocol::BlocksByRangeV2,
        "/eth2/beacon_chain/req/beacon_blocks_by_range/2/ssz_snappy",
    ),
    (
        RpcProtocol::BlocksByRootV1,
        "/eth2/beacon_chain/req/beacon_blocks_by_root/1/ssz_snappy",
    ),
    (
        RpcProtocol::BlocksByRootV2,
        "/eth2/beacon_chain/req/beacon_blocks_by_root/2/ssz_snappy",
    ),
];

/// The `ErrorMessage` bound: `List[byte, 256]`.
pub const MAX_ERROR_MESSAGE_LEN: usize = 256;

/// The smallest `SignedBeaconBlock` of any fork (phase0's, with empty lists): a chunk announcing
/// fewer bytes cannot be a block.
pub const MIN_SIGNED_BLOCK_SIZE: usize = 404;

/// SSZ size of `Status` v1.
pub(crate) const STATUS_V1_SIZE: usize = 84;
/// SSZ size of `StatusV2`.
pub(crate) const STATUS_V2_SIZE: usize = 92;
/// SSZ size of `BeaconBlocksByRangeRequest`.
pub(crate) const BLOCKS_BY_RANGE_REQUEST_SIZE: usize = 24;
/// SSZ sizes of `MetaData` v1, v2 and v3.
pub(crate) const METADATA_SIZES: [usize; 3] = [16, 17, 25];

/// A protocol id Pheme does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown req/resp protocol id {0:?}")]
pub struct UnknownProtocol(pub String);

impl RpcProtocol {
    /// Every protocol, in table order.
    pub const ALL: [RpcProtocol; 11] = [
        RpcProtocol::StatusV1,
        RpcProtocol::StatusV2,
        RpcProtocol::GoodbyeV1,
        RpcProtocol::PingV1,
        RpcProtocol::MetaDataV1,
        RpcProtocol::MetaDataV2,
        RpcProtocol::MetaDataV3,
        RpcProtocol::BlocksByRangeV1,
        RpcProtocol::BlocksByRangeV2,
        RpcProtocol::BlocksByRootV1,
        RpcProtocol::BlocksByRootV2,
    ];

    /// The full protocol id, e.g. `/eth2/beacon_chain/req/status/2/ssz_snappy`.
    pub fn id(self) -> &'static str {
        PROTOCOL_IDS
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("", |(_, id)| id)
    }

    /// The method.
    pub fn method(self) -> RpcMethod {
        match self {
            RpcProtocol::StatusV1 | RpcProtocol::StatusV2 => RpcMethod::Status,
            RpcProtocol::GoodbyeV1 => RpcMethod::Goodbye,
            RpcProtocol::PingV1 => RpcMethod::Ping,
            RpcProtocol::MetaDataV1 | RpcProtocol::MetaDataV2 | RpcProtocol::MetaDataV3 => {
                RpcMethod::MetaData
            }
            RpcProtocol::BlocksByRangeV1 | RpcProtocol::BlocksByRangeV2 => RpcMethod::BlocksByRange,
            RpcProtocol::BlocksByRootV1 | RpcProtocol::BlocksByRootV2 => RpcMethod::BlocksByRoot,
        }
    }

    /// The schema version.
    pub fn version(self) -> u8 {
        match self {
            RpcProtocol::StatusV1
            | RpcProtocol::GoodbyeV1
            | RpcProtocol::PingV1
            | RpcProtocol::MetaDataV1
            | RpcProtocol::BlocksByRangeV1
            | RpcProtocol::BlocksByRootV1 => 1,
            RpcProtocol::StatusV2
            | RpcProtocol::MetaDataV2
            | RpcProtocol::BlocksByRangeV2
            | RpcProtocol::BlocksByRootV2 => 2,
            RpcProtocol::MetaDataV3 => 3,
        }
    }

    /// Whether success chunks carry 4 bytes of fork digest before their payload.
    pub fn has_context_bytes(self) -> bool {
        matches!(
            self,
            RpcProtocol::BlocksByRangeV2 | RpcProtocol::BlocksByRootV2
        )
    }

    /// Whether the response is a stream of chunks (read until EOF) rather than one chunk.
    pub fn is_multi_chunk(self) -> bool {
        matches!(
            self.method(),
            RpcMethod::BlocksByRange | RpcMethod::BlocksByRoot
        )
    }

    /// Bounds of the request payload; `None` for requests without content (MetaData).
    pub(crate) fn request_bounds(self, max_request_blocks: u64) -> Option<SszBounds> {
        match self {
            RpcProtocol::StatusV1 => Some(SszBounds::fixed(STATUS_V1_SIZE)),
            RpcProtocol::StatusV2 => Some(SszBounds::fixed(STATUS_V2_SIZE)),
            RpcProtocol::GoodbyeV1 | RpcProtocol::PingV1 => Some(SszBounds::fixed(8)),
            RpcProtocol::MetaDataV1 | RpcProtocol::MetaDataV2 | RpcProtocol::MetaDataV3 => None,
            RpcProtocol::BlocksByRangeV1 | RpcProtocol::BlocksByRangeV2 => {
                Some(SszBounds::fixed(BLOCKS_BY_RANGE_REQUEST_SIZE))
            }
            RpcProtocol::BlocksByRootV1 | RpcProtocol::BlocksByRootV2 => {
                let roots = usize::try_from(max_request_blocks).unwrap_or(usize::MAX);
                Some(SszBounds::up_to(roots.saturating_mul(32)))
            }
        }
    }

    /// Bounds of one success chunk's payload.
    pub(crate) fn response_bounds(self, max_payload_size: usize) -> SszBounds {
        match self {
            RpcProtocol::StatusV1 => SszBounds::fixed(STATUS_V1_SIZE),
            RpcProtocol::StatusV2 => SszBounds::fixed(STATUS_V2_SIZE),
            RpcProtocol::GoodbyeV1 | RpcProtocol::PingV1 => SszBounds::fixed(8),
            RpcProtocol::MetaDataV1 => SszBounds::fixed(METADATA_SIZES[0]),
            RpcProtocol::MetaDataV2 => SszBounds::fixed(METADATA_SIZES[1]),
            RpcProtocol::MetaDataV3 => SszBounds::fixed(METADATA_SIZES[2]),
            RpcProtocol::BlocksByRangeV1
            | RpcProtocol::BlocksByRangeV2
            | RpcProtocol::BlocksByRootV1
            | RpcProtocol::BlocksByRootV2 => SszBounds {
                min: MIN_SIGNED_BLOCK_SIZE,
                max: max_payload_size,
            },
        }
    }
}

impl AsRef<str> for RpcProtocol {
    fn as_ref(&self) -> &str {
        self.id()
    }
}

impl fmt::Display for RpcProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for RpcProtocol {
    type Err = UnknownProtocol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PROTOCOL_IDS
            .iter()
            .find(|(_, id)| *id == s)
            .map(|(p, _)| *p)
            .ok_or_else(|| UnknownProtocol(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_round_trip_and_name_their_method_and_version() {
        for p in RpcProtocol::ALL {
            assert_eq!(p.id().parse::<RpcProtocol>().unwrap(), p);
            let expected = format!(
                "/eth2/beacon_chain/req/{}/{}/ssz_snappy",
                p.method().name(),
                p.version()
            );
            assert_eq!(p.to_string(), expected);
        }
        assert!(
            "/eth2/beacon_chain/req/status/3/ssz_snappy"
                .parse::<RpcProtocol>()
                .is_err()
        );
    }

    #[test]
    fn outbound_order_is_newest_first() {
        let metadata: Vec<_> = RpcMethod::MetaData.protocols().collect();
        assert_eq!(
            metadata,
            [
                RpcProtocol::MetaDataV3,
                RpcProtocol::MetaDataV2,
                RpcProtocol::MetaDataV1
            ]
        );
        let total: usize = RpcMethod::ALL.iter().map(|m| m.protocols().count()).sum();
        assert_eq!(total, RpcProtocol::ALL.len());
    }

    #[test]
    fn fixed_sizes_match_the_types() {
        use pheme_types::p2p::{
            BeaconBlocksByRangeRequest, MetaDataV1, MetaDataV2, MetaDataV3, Status, StatusV2,
        };
        use pheme_types::ssz_rs::Sized;
        assert_eq!(Status::size_hint(), STATUS_V1_SIZE);
        assert_eq!(StatusV2::size_hint(), STATUS_V2_SIZE);
        assert_eq!(
            BeaconBlocksByRangeRequest::size_hint(),
            BLOCKS_BY_RANGE_REQUEST_SIZE
        );
        assert_eq!(
            [
                MetaDataV1::size_hint(),
                MetaDataV2::size_hint(),
                MetaDataV3::size_hint()
            ],
            METADATA_SIZES
        );
    }

    #[test]
    fn smallest_block_is_an_empty_phase0_block() {
        let block = pheme_types::mainnet::phase0::SignedBeaconBlock::default();
        let bytes = pheme_types::ssz_rs::serialize(&block).unwrap();
        assert_eq!(bytes.len(), MIN_SIGNED_BLOCK_SIZE);
    }
}
