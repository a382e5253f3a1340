//! The req/resp behaviour: one libp2p `request_response::Behaviour` per method, all with
//! [`RpcCodec`]. A single behaviour would offer every protocol id on every outbound stream, and
//! multistream-select would settle on the first the peer speaks whatever the request; one per
//! method offers only the request's own protocol ids, newest version first.

use crate::rpc::codec::RpcCodec;
use crate::rpc::config::RpcConfig;
use crate::rpc::message::{RpcEnvelope, RpcRequest, RpcResponse};
use crate::rpc::protocol::RpcMethod;
use libp2p::PeerId;
use libp2p::request_response::{
    self, Config, Event, InboundRequestId, OutboundRequestId, ProtocolSupport, ResponseChannel,
};

/// One method's `request_response` behaviour.
pub type MethodBehaviour = request_response::Behaviour<RpcCodec>;

/// What one method's behaviour reports.
pub type MethodEvent = Event<RpcEnvelope, RpcResponse>;

pub use derived::{RpcBehaviour, RpcBehaviourEvent};

mod derived {
    // The derive's event enum (one variant per field, named after it) has no docs of its own.
    #![allow(missing_docs)]

    use super::MethodBehaviour;
    use libp2p::swarm::NetworkBehaviour;

    /// Every req/resp protocol, inbound and outbound. Put it in the node's behaviour; its
    /// events are [`RpcBehaviourEvent`]s, one variant per method
    /// ([`RpcBehaviourEvent::into_parts`]).
    #[derive(NetworkBehaviour)]
    #[behaviour(prelude = "libp2p::swarm::derive_prelude")]
    pub struct RpcBehaviour {
        pub(super) status: MethodBehaviour,
        pub(super) goodbye: MethodBehaviour,
        pub(super) ping: MethodBehaviour,
        pub(super) metadata: MethodBehaviour,
        pub(super) blocks_by_range: MethodBehaviour,
        pub(super) blocks_by_root: MethodBehaviour,
    }
}

/// An outbound request's id: the method's behaviour and its id there (ids are per behaviour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RpcRequestId {
    /// The method.
    pub method: RpcMethod,
    /// The id within the method's behaviour.
    pub id: OutboundRequestId,
}

/// An inbound request's id, as [`RpcRequestId`] for inbound ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RpcInboundId {
    /// The method.
    pub method: RpcMethod,
    /// The id within the method's behaviour.
    pub id: InboundRequestId,
}

fn method_behaviour(method: RpcMethod, config: &RpcConfig) -> MethodBehaviour {
    let protocols = method.protocols().map(|p| (p, ProtocolSupport::Full));
    let cfg = Config::default()
        .with_request_timeout(config.request_timeout)
        .with_max_concurrent_streams(config.max_concurrent_streams);
    request_response::Behaviour::with_codec(RpcCodec::new(config.clone()), protocols, cfg)
}

impl RpcBehaviour {
    /// The behaviour with every protocol supported both ways, libp2p's request timeout set to
    /// `config`'s whole-exchange timeout.
    pub fn new(config: RpcConfig) -> RpcBehaviour {
        RpcBehaviour {
            status: method_behaviour(RpcMethod::Status, &config),
            goodbye: method_behaviour(RpcMethod::Goodbye, &config),
            ping: method_behaviour(RpcMethod::Ping, &config),
            metadata: method_behaviour(RpcMethod::MetaData, &config),
            blocks_by_range: method_behaviour(RpcMethod::BlocksByRange, &config),
            blocks_by_root: method_behaviour(RpcMethod::BlocksByRoot, &config),
        }
    }

    /// The behaviour of one method.
    pub fn method(&mut self, method: RpcMethod) -> &mut MethodBehaviour {
        match method {
            RpcMethod::Status => &mut self.status,
            RpcMethod::Goodbye => &mut self.goodbye,
            RpcMethod::Ping => &mut self.ping,
            RpcMethod::MetaData => &mut self.metadata,
            RpcMethod::BlocksByRange => &mut self.blocks_by_range,
            RpcMethod::BlocksByRoot => &mut self.blocks_by_root,
        }
    }

    /// Sends a request on its method's protocols (the newest version the peer speaks).
    pub fn send_request(&mut self, peer: &PeerId, request: RpcRequest) -> RpcRequestId {
        let method = request.method();
        let id = self.method(method).send_request(peer, request.into());
        RpcRequestId { method, id }
    }

    /// Answers an inbound request; gives the response back if the channel is closed (timed
    /// out, or the connection went away).
    pub fn send_response(
        &mut self,
        channel: ResponseChannel<RpcResponse>,
        response: RpcResponse,
    ) -> Result<(), RpcResponse> {
        // Any method's behaviour sends on any channel: the channel knows its stream.
        self.status.send_response(channel, response)
    }
}

impl RpcBehaviourEvent {
    /// The method and its behaviour's event.
    pub fn into_parts(self) -> (RpcMethod, MethodEvent) {
        match self {
            RpcBehaviourEvent::Status(e) => (RpcMethod::Status, e),
            RpcBehaviourEvent::Goodbye(e) => (RpcMethod::Goodbye, e),
            RpcBehaviourEvent::Ping(e) => (RpcMethod::Ping, e),
            RpcBehaviourEvent::Metadata(e) => (RpcMethod::MetaData, e),
            RpcBehaviourEvent::BlocksByRange(e) => (RpcMethod::BlocksByRange, e),
            RpcBehaviourEvent::BlocksByRoot(e) => (RpcMethod::BlocksByRoot, e),
        }
    }
}
