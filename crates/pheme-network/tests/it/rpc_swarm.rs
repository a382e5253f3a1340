//! Two real libp2p swarms on loopback (tcp, noise, yamux) speaking every req/resp protocol,
//! the server answering from a `BlockCache` under the in-flight limiter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures::StreamExt;
use libp2p::request_response::{Event, Message};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder, noise, tcp, yamux};
use pheme_network::{
    rpc::BlockCache, rpc::CachedBlock, rpc::GoodbyeReason, rpc::InflightLimiter, rpc::LocalNode,
    rpc::MetaData, rpc::ResponseCode, rpc::RpcBehaviour, rpc::RpcConfig, rpc::RpcMethod,
    rpc::RpcProtocol, rpc::RpcRequest, rpc::RpcRequestId, rpc::RpcResponse, rpc::StatusMessage,
    rpc::StatusVerdict, rpc::answer, rpc::judge_status,
};
use pheme_spec::ForkDigest;
use pheme_types::p2p::{BeaconBlocksByRangeRequest, MetaDataV3};
use tokio::sync::mpsc;

const DIGEST: ForkDigest = ForkDigest([0x8c, 0x9f, 0x62, 0xfe]);
const BOUND: Duration = Duration::from_secs(15);

fn swarm() -> Swarm<RpcBehaviour> {
    SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| RpcBehaviour::new(RpcConfig::default()))
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build()
}

fn local(seq: u64) -> LocalNode {
    LocalNode::new(
        StatusMessage {
            fork_digest: DIGEST,
            finalized_root: [1; 32],
            finalized_epoch: 10,
            head_root: [2; 32],
            head_slot: 400,
            earliest_available_slot: Some(390),
        },
        MetaDataV3 {
            seq_number: seq,
            custody_group_count: 4,
            ..Default::default()
        },
    )
}

fn cache() -> BlockCache {
    let mut cache = BlockCache::default();
    for slot in [390u64, 391, 392, 394, 395] {
        cache.insert(CachedBlock {
            fork_digest: DIGEST,
            ssz: vec![slot as u8; 1_000 + slot as usize],
            slot,
            root: [slot as u8; 32],
        });
    }
    cache
}

/// What the server saw, for the test to check.
#[derive(Debug)]
enum Seen {
    Status(StatusVerdict),
    Goodbye(GoodbyeReason),
    Refused(RpcProtocol, u64),
}

/// Runs the server: answers every request with `answer`, under the limiter. With `hold`, the
/// first `hold` BlocksByRange requests are kept unanswered until one more arrives (so that they
/// are concurrent), then all are answered.
async fn serve(mut swarm: Swarm<RpcBehaviour>, hold: usize, seen: mpsc::UnboundedSender<Seen>) {
    let local = local(7);
    let cache = cache();
    let mut limiter = InflightLimiter::default();
    let mut held = Vec::new();
    let mut to_hold = hold;
    loop {
        let SwarmEvent::Behaviour(event) = swarm.select_next_some().await else {
            continue;
        };
        let (method, event) = event.into_parts();
        match event {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request_id,
                        request,
                        channel,
                    },
                ..
            } => {
                let protocol = request
                    .protocol
                    .expect("inbound requests name their protocol");
                let request = request.request.expect("a well-formed request");
                if let Err(refused) = limiter.try_start(peer, protocol, request_id) {
                    let _ = seen.send(Seen::Refused(protocol, limiter.refused()));
                    swarm
                        .behaviour_mut()
                        .send_response(channel, refused.response())
                        .unwrap();
                    for (protocol, request, channel) in held.drain(..) {
                        let response = answer(protocol, &request, &local, &cache);
                        swarm
                            .behaviour_mut()
                            .send_response(channel, response)
                            .unwrap();
                    }
                    continue;
                }
                match &request {
                    RpcRequest::Status(remote) => {
                        let _ = seen.send(Seen::Status(judge_status(&local.status, remote)));
                    }
                    RpcRequest::Goodbye(reason) => {
                        let _ = seen.send(Seen::Goodbye(*reason));
                    }
                    _ => {}
                }
                if method == RpcMethod::BlocksByRange && to_hold > 0 {
                    to_hold -= 1;
                    held.push((protocol, request, channel));
                    continue;
                }
                let response = answer(protocol, &request, &local, &cache);
                swarm
                    .behaviour_mut()
                    .send_response(channel, response)
                    .unwrap();
            }
            Event::ResponseSent {
                peer, request_id, ..
            } => limiter.finish(peer, method, request_id),
            Event::InboundFailure {
                peer, request_id, ..
            } => {
                limiter.finish(peer, method, request_id);
            }
            _ => {}
        }
    }
}

struct Client {
    swarm: Swarm<RpcBehaviour>,
    server: PeerId,
}

/// Starts a server task and a client that knows its address.
async fn pair(hold: usize) -> (Client, mpsc::UnboundedReceiver<Seen>) {
    let mut server = swarm();
    server
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let addr: Multiaddr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = server.select_next_some().await {
            break address;
        }
    };
    let server_id = *server.local_peer_id();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(serve(server, hold, tx));
    let mut client = swarm();
    client.add_peer_address(server_id, addr);
    (
        Client {
            swarm: client,
            server: server_id,
        },
        rx,
    )
}

impl Client {
    /// Sends the requests at once and waits for every answer, in request order.
    async fn ask(&mut self, requests: Vec<RpcRequest>) -> Vec<RpcResponse> {
        let ids: Vec<RpcRequestId> = requests
            .into_iter()
            .map(|r| self.swarm.behaviour_mut().send_request(&self.server, r))
            .collect();
        let mut answers: Vec<Option<RpcResponse>> = vec![None; ids.len()];
        while answers.iter().any(Option::is_none) {
            let SwarmEvent::Behaviour(event) = self.swarm.select_next_some().await else {
                continue;
            };
            let (method, event) = event.into_parts();
            match event {
                Event::Message {
                    message:
                        Message::Response {
                            request_id,
                            response,
                        },
                    ..
                } => {
                    let at = ids
                        .iter()
                        .position(|id| id.method == method && id.id == request_id)
                        .expect("a response to a request of ours");
                    answers[at] = Some(response);
                }
                Event::OutboundFailure { error, .. } => panic!("{method}: {error}"),
                _ => {}
            }
        }
        answers.into_iter().map(Option::unwrap).collect()
    }

    async fn ask_one(&mut self, request: RpcRequest) -> RpcResponse {
        self.ask(vec![request]).await.remove(0)
    }
}

fn range(start_slot: u64, count: u64) -> RpcRequest {
    RpcRequest::BlocksByRange(BeaconBlocksByRangeRequest {
        start_slot,
        count,
        step: 1,
    })
}

#[tokio::test]
async fn status_ping_metadata_goodbye() {
    tokio::time::timeout(BOUND, async {
        let (mut client, mut seen) = pair(0).await;
        let mine = local(3).status;
        // Status v2 (both speak it): the server's status, earliest slot included.
        match client.ask_one(RpcRequest::Status(mine)).await {
            RpcResponse::Status(s) => assert_eq!(s, local(7).status),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            seen.recv().await,
            Some(Seen::Status(StatusVerdict::Relevant))
        ));
        // A status of another fork: the server's verdict is Goodbye 2.
        let foreign = StatusMessage {
            fork_digest: ForkDigest([0xde, 0xad, 0xbe, 0xef]),
            ..mine
        };
        client.ask_one(RpcRequest::Status(foreign)).await;
        match seen.recv().await {
            Some(Seen::Status(StatusVerdict::Disconnect(reason))) => {
                assert_eq!(u64::from(reason), 2);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            client.ask_one(RpcRequest::Ping(3)).await,
            RpcResponse::Pong(7)
        );
        // MetaData: the newest version both speak, v3.
        match client.ask_one(RpcRequest::MetaData).await {
            RpcResponse::MetaData(MetaData::V3(m)) => {
                assert_eq!((m.seq_number, m.custody_group_count), (7, 4));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            client
                .ask_one(RpcRequest::Goodbye(GoodbyeReason::ClientShutdown))
                .await,
            RpcResponse::GoodbyeAck
        );
        assert!(matches!(
            seen.recv().await,
            Some(Seen::Goodbye(GoodbyeReason::ClientShutdown))
        ));
    })
    .await
    .expect("within the time bound");
}

#[tokio::test]
async fn older_versions_when_only_they_are_offered() {
    // A client speaking only status/1 and metadata/2 (as Lodestar 1.5.1): the server answers
    // in those versions.
    tokio::time::timeout(BOUND, async {
        let (mut client, _seen) = pair(0).await;
        let config = RpcConfig::default();
        let only = |protocol: RpcProtocol| {
            libp2p::request_response::Behaviour::with_codec(
                pheme_network::rpc::RpcCodec::new(config.clone()),
                [(
                    protocol,
                    libp2p::request_response::ProtocolSupport::Outbound,
                )],
                libp2p::request_response::Config::default(),
            )
        };
        *client.swarm.behaviour_mut().method(RpcMethod::Status) = only(RpcProtocol::StatusV1);
        *client.swarm.behaviour_mut().method(RpcMethod::MetaData) = only(RpcProtocol::MetaDataV2);
        match client.ask_one(RpcRequest::Status(local(1).status)).await {
            RpcResponse::Status(s) => {
                assert_eq!(s.earliest_available_slot, None);
                assert_eq!(s.head_slot, 400);
            }
            other => panic!("{other:?}"),
        }
        match client.ask_one(RpcRequest::MetaData).await {
            RpcResponse::MetaData(m) => assert_eq!((m.version(), m.seq_number()), (2, 7)),
            other => panic!("{other:?}"),
        }
    })
    .await
    .expect("within the time bound");
}

#[tokio::test]
async fn blocks_by_range_and_root_from_the_cache() {
    tokio::time::timeout(BOUND, async {
        let (mut client, _seen) = pair(0).await;
        match client.ask_one(range(390, 6)).await {
            RpcResponse::Blocks {
                blocks,
                error: None,
            } => {
                let firsts: Vec<u8> = blocks.iter().map(|b| b.ssz[0]).collect();
                assert_eq!(
                    firsts,
                    [
                        390u64 as u8,
                        391u64 as u8,
                        392u64 as u8,
                        394u64 as u8,
                        395u64 as u8
                    ]
                );
                assert!(blocks.iter().all(|b| b.fork_digest == Some(DIGEST)));
                assert_eq!(blocks[0].ssz.len(), 1_390);
            }
            other => panic!("{other:?}"),
        }
        // Before the cache's oldest block: ResourceUnavailable.
        match client.ask_one(range(100, 10)).await {
            RpcResponse::Error(e) => assert_eq!(e.code, ResponseCode::ResourceUnavailable),
            other => panic!("{other:?}"),
        }
        let roots = RpcRequest::BlocksByRoot(vec![[395u64 as u8; 32], [9; 32], [391u64 as u8; 32]]);
        match client.ask_one(roots).await {
            RpcResponse::Blocks {
                blocks,
                error: None,
            } => {
                assert_eq!(
                    blocks.iter().map(|b| b.ssz.len()).collect::<Vec<_>>(),
                    [1_395, 1_391]
                );
            }
            other => panic!("{other:?}"),
        }
        match client
            .ask_one(RpcRequest::BlocksByRoot(vec![[9; 32]]))
            .await
        {
            RpcResponse::Error(e) => assert_eq!(e.code, ResponseCode::ResourceUnavailable),
            other => panic!("{other:?}"),
        }
    })
    .await
    .expect("within the time bound");
}

#[tokio::test]
async fn third_concurrent_request_is_refused() {
    tokio::time::timeout(BOUND, async {
        // The server holds the first two range requests until a third arrives.
        let (mut client, mut seen) = pair(2).await;
        let answers = client
            .ask(vec![range(390, 2), range(392, 2), range(394, 2)])
            .await;
        let refused: Vec<&RpcResponse> = answers
            .iter()
            .filter(|a| matches!(a, RpcResponse::Error(e) if e.code == ResponseCode::RateLimited))
            .collect();
        assert_eq!(refused.len(), 1, "{answers:?}");
        let served = answers
            .iter()
            .filter(|a| matches!(a, RpcResponse::Blocks { blocks, .. } if !blocks.is_empty()))
            .count();
        assert_eq!(served, 2, "{answers:?}");
        match seen.recv().await {
            Some(Seen::Refused(protocol, count)) => {
                assert_eq!((protocol, count), (RpcProtocol::BlocksByRangeV2, 1));
            }
            other => panic!("{other:?}"),
        }
        // Once answered, the slots are free again.
        assert!(matches!(
            client.ask_one(range(390, 1)).await,
            RpcResponse::Blocks { .. }
        ));
    })
    .await
    .expect("within the time bound");
}
