//! `MAX_CONCURRENT_REQUESTS`: inbound requests in flight per peer and protocol id.

use std::collections::HashMap;
use std::hash::Hash;

use libp2p::PeerId;
use libp2p::request_response::InboundRequestId;

use crate::rpc::config::MAX_CONCURRENT_REQUESTS;
use crate::rpc::message::{ResponseCode, RpcResponse};
use crate::rpc::protocol::{RpcMethod, RpcProtocol};

/// An inbound request refused because its peer already has the maximum in flight on its
/// protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{peer}: already {in_flight} requests in flight on {protocol}")]
pub struct TooManyInflight {
    /// The peer.
    pub peer: PeerId,
    /// The protocol.
    pub protocol: RpcProtocol,
    /// How many it has in flight.
    pub in_flight: usize,
}

impl TooManyInflight {
    /// The answer to send: a rate-limited error chunk (code 139, as Lighthouse and Lodestar
    /// send), which the requester is expected to retry later rather than count as a fault.
    pub fn response(&self) -> RpcResponse {
        RpcResponse::error(
            ResponseCode::RateLimited,
            "too many concurrent requests on this protocol",
        )
    }
}

/// Counts inbound requests per peer and protocol id from their arrival
/// (`Message::Request`) to the end of their stream (`ResponseSent`, `ResponseOmission` or
/// `InboundFailure`), and refuses those over the limit.
///
/// Request ids are those of one method's `request_response` behaviour: the key includes the
/// method, so ids of different behaviours never meet.
#[derive(Debug, Clone)]
pub struct InflightLimiter<Id = InboundRequestId> {
    max_per_protocol: usize,
    in_flight: HashMap<(PeerId, RpcProtocol), usize>,
    requests: HashMap<(PeerId, RpcMethod, Id), RpcProtocol>,
    refused: u64,
}

impl<Id: Eq + Hash> Default for InflightLimiter<Id> {
    fn default() -> Self {
        InflightLimiter::new(MAX_CONCURRENT_REQUESTS)
    }
}

impl<Id: Eq + Hash> InflightLimiter<Id> {
    /// A limiter allowing `max_per_protocol` requests in flight per peer and protocol.
    pub fn new(max_per_protocol: usize) -> InflightLimiter<Id> {
        InflightLimiter {
            max_per_protocol,
            in_flight: HashMap::new(),
            requests: HashMap::new(),
            refused: 0,
        }
    }

    /// Admits a request that just arrived, or refuses it (and counts the refusal). A refused
    /// request is not in flight: answer it with [`TooManyInflight::response`] and do not call
    /// [`InflightLimiter::finish`] for it (doing so is harmless).
    pub fn try_start(
        &mut self,
        peer: PeerId,
        protocol: RpcProtocol,
        id: Id,
    ) -> Result<(), TooManyInflight> {
        let count = self.in_flight.entry((peer, protocol)).or_insert(0);
        if *count >= self.max_per_protocol {
            self.refused += 1;
            return Err(TooManyInflight {
                peer,
                protocol,
                in_flight: *count,
            });
        }
        *count += 1;
        self.requests
            .insert((peer, protocol.method(), id), protocol);
        Ok(())
    }

    /// Ends a request: its response was sent, omitted, or its stream failed.
    pub fn finish(&mut self, peer: PeerId, method: RpcMethod, id: Id) {
        let Some(protocol) = self.requests.remove(&(peer, method, id)) else {
            return;
        };
        if let Some(count) = self.in_flight.get_mut(&(peer, protocol)) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.in_flight.remove(&(peer, protocol));
            }
        }
    }

    /// Forgets a disconnected peer.
    pub fn remove_peer(&mut self, peer: &PeerId) {
        self.in_flight.retain(|(p, _), _| p != peer);
        self.requests.retain(|(p, _, _), _| p != peer);
    }

    /// Requests of `peer` in flight on `protocol`.
    pub fn in_flight(&self, peer: &PeerId, protocol: RpcProtocol) -> usize {
        self.in_flight.get(&(*peer, protocol)).copied().unwrap_or(0)
    }

    /// How many requests were refused since the start.
    pub fn refused(&self) -> u64 {
        self.refused
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn third_concurrent_request_is_refused_per_peer_and_protocol() {
        let mut limiter = InflightLimiter::<u64>::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        let range = RpcProtocol::BlocksByRangeV2;
        limiter.try_start(a, range, 1).unwrap();
        limiter.try_start(a, range, 2).unwrap();
        let refused = limiter.try_start(a, range, 3).unwrap_err();
        assert_eq!(refused.in_flight, 2);
        assert!(matches!(
            refused.response(),
            RpcResponse::Error(e) if e.code == ResponseCode::RateLimited
        ));
        // Other peers and other protocol ids have their own allowance.
        limiter.try_start(b, range, 4).unwrap();
        limiter
            .try_start(a, RpcProtocol::BlocksByRangeV1, 5)
            .unwrap();
        limiter.try_start(a, RpcProtocol::StatusV1, 1).unwrap();
        assert_eq!(limiter.refused(), 1);
        // A finished request frees its slot; finishing twice or an unknown id changes nothing.
        limiter.finish(a, RpcMethod::BlocksByRange, 1);
        limiter.finish(a, RpcMethod::BlocksByRange, 1);
        limiter.finish(a, RpcMethod::BlocksByRange, 3);
        assert_eq!(limiter.in_flight(&a, range), 1);
        limiter.try_start(a, range, 6).unwrap();
        limiter.remove_peer(&a);
        assert_eq!(limiter.in_flight(&a, range), 0);
        assert_eq!(limiter.in_flight(&b, range), 1);
    }
}
