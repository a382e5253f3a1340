//! Deciding answers: pure functions of the request, the local node's state and the block cache,
//! testable without a swarm.

use pheme_spec::ForkDigest;
use pheme_types::p2p::MetaDataV3;

use crate::rpc::cache::BlockCache;
use crate::rpc::config::MAX_REQUEST_BLOCKS_DENEB;
use crate::rpc::message::{
    BlockChunk, GoodbyeReason, MetaData, ResponseCode, RpcRequest, RpcResponse, StatusMessage,
};
use crate::rpc::protocol::RpcProtocol;

/// What the local node says about itself, supplied by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalNode {
    /// The local status (fork digest at the wall-clock epoch, finalized checkpoint, head).
    pub status: StatusMessage,
    /// The local metadata, newest version; older versions are derived from it.
    pub metadata: MetaDataV3,
    /// The network's phase0 fork digest: only blocks under it can be served on the v1 blocks
    /// protocols (which have no context bytes). `None`: v1 blocks requests get no blocks.
    pub phase0_digest: Option<ForkDigest>,
    /// The most blocks served per request (`MAX_REQUEST_BLOCKS_DENEB` by default).
    pub max_blocks_served: u64,
}

impl LocalNode {
    /// A local node with this status and metadata, serving up to `MAX_REQUEST_BLOCKS_DENEB`
    /// blocks per request and no v1 blocks.
    pub fn new(status: StatusMessage, metadata: MetaDataV3) -> LocalNode {
        LocalNode {
            status,
            metadata,
            phase0_digest: None,
            max_blocks_served: MAX_REQUEST_BLOCKS_DENEB,
        }
    }
}

/// The answer to an inbound request received on `protocol`. Goodbye is acknowledged; the
/// caller then disconnects. Status is answered with the local status whatever the remote's:
/// judge the remote with [`judge_status`]. On v1 blocks protocols only phase0 blocks are served.
pub fn answer(
    protocol: RpcProtocol,
    request: &RpcRequest,
    local: &LocalNode,
    cache: &BlockCache,
) -> RpcResponse {
    let response = answer_any_version(protocol, request, local, cache);
    if protocol.is_multi_chunk() && !protocol.has_context_bytes() {
        restrict_to_v1(response, local)
    } else {
        response
    }
}

fn answer_any_version(
    protocol: RpcProtocol,
    request: &RpcRequest,
    local: &LocalNode,
    cache: &BlockCache,
) -> RpcResponse {
    if request.method() != protocol.method() {
        return RpcResponse::error(ResponseCode::InvalidRequest, "request of another protocol");
    }
    match request {
        RpcRequest::Status(_) => RpcResponse::Status(local.status),
        RpcRequest::Goodbye(_) => RpcResponse::GoodbyeAck,
        RpcRequest::Ping(_) => RpcResponse::Pong(local.metadata.seq_number),
        RpcRequest::MetaData => match MetaData::V3(local.metadata.clone())
            .downgrade(protocol.version())
        {
            Some(metadata) => RpcResponse::MetaData(metadata),
            None => RpcResponse::error(ResponseCode::InvalidRequest, "unknown metadata version"),
        },
        RpcRequest::BlocksByRange(r) => {
            if r.count == 0 || r.step == 0 {
                return RpcResponse::error(
                    ResponseCode::InvalidRequest,
                    "count and step must be positive",
                );
            }
            if r.count
                > local
                    .max_blocks_served
                    .max(crate::rpc::config::MAX_REQUEST_BLOCKS)
            {
                return RpcResponse::error(
                    ResponseCode::InvalidRequest,
                    "count over MAX_REQUEST_BLOCKS",
                );
            }
            // Only what the cache covers: a range starting before its oldest block asks for
            // history this node does not keep.
            match cache.earliest_slot() {
                Some(earliest) if r.start_slot >= earliest => {}
                _ => {
                    return RpcResponse::error(
                        ResponseCode::ResourceUnavailable,
                        "range not held (recent blocks only)",
                    );
                }
            }
            let count = r.count.min(local.max_blocks_served);
            let blocks = cache
                .range(r.start_slot, count, r.step)
                .into_iter()
                .map(|b| b.to_chunk())
                .collect();
            RpcResponse::blocks(blocks)
        }
        RpcRequest::BlocksByRoot(roots) => {
            let take = usize::try_from(local.max_blocks_served).unwrap_or(usize::MAX);
            let blocks: Vec<BlockChunk> = roots
                .iter()
                .take(take)
                .filter_map(|root| cache.get(root))
                .map(|b| b.to_chunk())
                .collect();
            if blocks.is_empty() {
                return RpcResponse::error(
                    ResponseCode::ResourceUnavailable,
                    "no block with these roots",
                );
            }
            RpcResponse::blocks(blocks)
        }
    }
}

/// Restricts a blocks answer to what a v1 protocol (no context bytes, phase0 blocks only) may
/// carry.
fn restrict_to_v1(response: RpcResponse, local: &LocalNode) -> RpcResponse {
    match response {
        RpcResponse::Blocks { blocks, error } => {
            let blocks: Vec<BlockChunk> = blocks
                .into_iter()
                .filter(|b| local.phase0_digest.is_some() && b.fork_digest == local.phase0_digest)
                .collect();
            if blocks.is_empty() && error.is_none() {
                RpcResponse::error(ResponseCode::ResourceUnavailable, "no phase0 blocks held")
            } else {
                RpcResponse::Blocks { blocks, error }
            }
        }
        other => other,
    }
}

/// What to do about a peer after its Status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusVerdict {
    /// Same network and fork: keep the peer.
    Relevant,
    /// Another network or fork: send Goodbye with this reason and disconnect.
    Disconnect(GoodbyeReason),
}

/// Judges a remote Status against the local one: a different fork digest means another
/// network or fork (Goodbye 2, IrrelevantNetwork). The finalized checkpoint is not compared:
/// that needs a chain view Pheme does not keep.
pub fn judge_status(local: &StatusMessage, remote: &StatusMessage) -> StatusVerdict {
    if local.fork_digest != remote.fork_digest {
        StatusVerdict::Disconnect(GoodbyeReason::IrrelevantNetwork)
    } else {
        StatusVerdict::Relevant
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::rpc::cache::CachedBlock;
    use crate::rpc::protocol::RpcMethod;
    use pheme_types::p2p::BeaconBlocksByRangeRequest;

    fn local() -> LocalNode {
        let status = StatusMessage {
            fork_digest: ForkDigest([0xaa; 4]),
            head_slot: 100,
            earliest_available_slot: Some(90),
            ..Default::default()
        };
        let metadata = MetaDataV3 {
            seq_number: 7,
            custody_group_count: 4,
            ..Default::default()
        };
        LocalNode::new(status, metadata)
    }

    fn cache() -> BlockCache {
        let mut cache = BlockCache::default();
        for slot in [90u64, 91, 93] {
            cache.insert(CachedBlock {
                fork_digest: ForkDigest([0xaa; 4]),
                ssz: vec![slot as u8; 500],
                slot,
                root: [slot as u8; 32],
            });
        }
        cache
    }

    fn range(start_slot: u64, count: u64) -> RpcRequest {
        RpcRequest::BlocksByRange(BeaconBlocksByRangeRequest {
            start_slot,
            count,
            step: 1,
        })
    }

    fn code(response: &RpcResponse) -> Option<ResponseCode> {
        match response {
            RpcResponse::Error(e) => Some(e.code),
            _ => None,
        }
    }

    #[test]
    fn status_ping_metadata_goodbye() {
        let (local, cache) = (local(), cache());
        let remote = StatusMessage::default();
        assert_eq!(
            answer(
                RpcProtocol::StatusV2,
                &RpcRequest::Status(remote),
                &local,
                &cache
            ),
            RpcResponse::Status(local.status)
        );
        assert_eq!(
            answer(RpcProtocol::PingV1, &RpcRequest::Ping(3), &local, &cache),
            RpcResponse::Pong(7)
        );
        assert_eq!(
            answer(
                RpcProtocol::GoodbyeV1,
                &RpcRequest::Goodbye(GoodbyeReason::ClientShutdown),
                &local,
                &cache
            ),
            RpcResponse::GoodbyeAck
        );
        for protocol in RpcMethod::MetaData.protocols() {
            match answer(protocol, &RpcRequest::MetaData, &local, &cache) {
                RpcResponse::MetaData(m) => {
                    assert_eq!((m.version(), m.seq_number()), (protocol.version(), 7));
                }
                other => panic!("{other:?}"),
            }
        }
        let wrong = answer(RpcProtocol::PingV1, &RpcRequest::MetaData, &local, &cache);
        assert_eq!(code(&wrong), Some(ResponseCode::InvalidRequest));
    }

    #[test]
    fn blocks_from_the_cache_or_resource_unavailable() {
        let (local, cache) = (local(), cache());
        match answer(RpcProtocol::BlocksByRangeV2, &range(90, 10), &local, &cache) {
            RpcResponse::Blocks {
                blocks,
                error: None,
            } => assert_eq!(blocks.len(), 3),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            code(&answer(
                RpcProtocol::BlocksByRangeV2,
                &range(10, 10),
                &local,
                &cache
            )),
            Some(ResponseCode::ResourceUnavailable)
        );
        assert_eq!(
            code(&answer(
                RpcProtocol::BlocksByRangeV2,
                &range(90, 0),
                &local,
                &cache
            )),
            Some(ResponseCode::InvalidRequest)
        );
        assert_eq!(
            code(&answer(
                RpcProtocol::BlocksByRangeV2,
                &range(90, 5000),
                &local,
                &cache
            )),
            Some(ResponseCode::InvalidRequest)
        );
        let by_root = RpcRequest::BlocksByRoot(vec![[93; 32], [1; 32], [90; 32]]);
        match answer(RpcProtocol::BlocksByRootV2, &by_root, &local, &cache) {
            RpcResponse::Blocks { blocks, .. } => {
                assert_eq!(
                    blocks.iter().map(|b| b.ssz[0]).collect::<Vec<_>>(),
                    [93, 90]
                );
            }
            other => panic!("{other:?}"),
        }
        let missing = RpcRequest::BlocksByRoot(vec![[1; 32]]);
        assert_eq!(
            code(&answer(
                RpcProtocol::BlocksByRootV2,
                &missing,
                &local,
                &cache
            )),
            Some(ResponseCode::ResourceUnavailable)
        );
        // No phase0 digest known: v1 gets nothing.
        let v1 = answer(RpcProtocol::BlocksByRangeV1, &range(90, 10), &local, &cache);
        assert_eq!(code(&v1), Some(ResponseCode::ResourceUnavailable));
        let phase0 = LocalNode {
            phase0_digest: Some(ForkDigest([0xaa; 4])),
            ..local
        };
        match answer(
            RpcProtocol::BlocksByRangeV1,
            &range(90, 10),
            &phase0,
            &cache,
        ) {
            RpcResponse::Blocks { blocks, .. } => assert_eq!(blocks.len(), 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn status_of_another_fork_means_goodbye_irrelevant_network() {
        let local = local().status;
        assert_eq!(judge_status(&local, &local), StatusVerdict::Relevant);
        let other = StatusMessage {
            fork_digest: ForkDigest([0xbb; 4]),
            ..local
        };
        let verdict = judge_status(&local, &other);
        assert_eq!(
            verdict,
            StatusVerdict::Disconnect(GoodbyeReason::IrrelevantNetwork)
        );
        if let StatusVerdict::Disconnect(reason) = verdict {
            assert_eq!(u64::from(reason), 2);
        }
    }
}
