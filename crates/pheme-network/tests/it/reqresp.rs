//! A Pheme node's req/resp side, seen by a plain libp2p client: Status reflects what it
//! learned, MetaData and Ping agree with its subscriptions, recently accepted blocks are served
//! by range and by root, a peer of another network gets Goodbye 2, and shutdown says Goodbye 1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use common::{chain, listen_addr, next_slot_start, node, valid_messages, wait_for, wait_mesh};
use futures::StreamExt;
use libp2p::request_response::{Event, Message};
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, Swarm};
use pheme_network::{
    NetworkConfig, Subnets, rpc::GoodbyeReason, rpc::ResponseCode, rpc::RpcBehaviour,
    rpc::RpcRequest, rpc::RpcResponse, rpc::StatusMessage, spawn,
};
use pheme_spec::{ForkDigest, GossipKind};
use pheme_types::p2p::BeaconBlocksByRangeRequest;

const BOUND: Duration = Duration::from_secs(30);

struct Client {
    swarm: Swarm<RpcBehaviour>,
    server: PeerId,
}

impl Client {
    async fn connect(
        chain: &pheme_spec::ChainSpec,
        addr: libp2p::Multiaddr,
        server: PeerId,
    ) -> Client {
        let swarm = common::rpc_client(chain, server, addr);
        Client { swarm, server }
    }

    /// Sends one request and returns its answer; requests from the server are collected.
    async fn ask(&mut self, request: RpcRequest, inbound: &mut Vec<RpcRequest>) -> RpcResponse {
        let id = self
            .swarm
            .behaviour_mut()
            .send_request(&self.server, request);
        loop {
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
                } if method == id.method && request_id == id.id => return response,
                Event::Message {
                    message:
                        Message::Request {
                            request, channel, ..
                        },
                    ..
                } => {
                    inbound.push(request.request.clone().unwrap());
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .send_response(channel, RpcResponse::GoodbyeAck);
                }
                Event::OutboundFailure { error, .. } => panic!("{method}: {error}"),
                _ => {}
            }
        }
    }

    /// Waits for requests from the server until `done` says so or the connection closes.
    async fn listen(
        &mut self,
        inbound: &mut Vec<RpcRequest>,
        done: impl Fn(&[RpcRequest]) -> bool,
    ) {
        while !done(inbound) {
            match self.swarm.select_next_some().await {
                SwarmEvent::Behaviour(event) => {
                    if let (
                        _,
                        Event::Message {
                            message:
                                Message::Request {
                                    request, channel, ..
                                },
                            ..
                        },
                    ) = event.into_parts()
                    {
                        inbound.push(request.request.clone().unwrap());
                        let response = match request.request.unwrap() {
                            RpcRequest::Status(s) => RpcResponse::Status(s),
                            _ => RpcResponse::GoodbyeAck,
                        };
                        let _ = self.swarm.behaviour_mut().send_response(channel, response);
                    }
                }
                SwarmEvent::ConnectionClosed {
                    num_established: 0, ..
                } => return,
                _ => {}
            }
        }
    }
}

fn goodbyes(r: &[RpcRequest]) -> Vec<u64> {
    r.iter()
        .filter_map(|r| match r {
            RpcRequest::Goodbye(g) => Some(u64::from(*g)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pheme_node_serves_req_resp_and_agrees_with_itself() {
    tokio::time::timeout(BOUND, async {
        let chain = chain(2_000, 32, 40, 0, &[]);
        // The server takes two attestation subnets; a publisher feeds it a block.
        let config = NetworkConfig::builder(chain.clone())
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .subnets(Subnets::Attestation(vec![1, 5]))
            .ip_colocation_whitelist(vec!["127.0.0.1".parse().unwrap()])
            .build()
            .unwrap();
        let server_id = config.keypair().public().to_peer_id();
        let (server, _events) = spawn(config, pheme_gossip::NoState, None).unwrap();
        let addr = listen_addr(&server).await;

        // MetaData, subscriptions and custody agree.
        let snap = server.snapshot().await.unwrap();
        let att_topics: Vec<&String> = snap
            .subscribed
            .iter()
            .filter(|t| t.contains("beacon_attestation_"))
            .collect();
        assert_eq!(att_topics.len(), 2, "{att_topics:?}");
        for s in 0..64usize {
            let subscribed = snap
                .subscribed
                .iter()
                .any(|t| t.contains(&format!("/beacon_attestation_{s}/")));
            assert_eq!(snap.metadata.attnets[s], subscribed, "attnets bit {s}");
        }
        for s in 0..4usize {
            assert!(snap.metadata.syncnets[s]);
        }
        assert_eq!(
            snap.metadata.custody_group_count,
            pheme_network::service::CUSTODY_REQUIREMENT
        );
        assert!(snap.metadata.seq_number >= 1);

        // A block reaches the server over gossip and is cached.
        let publisher = node(&chain).await;
        publisher.handle.dial(addr.clone()).await.unwrap();
        wait_mesh(&publisher.handle, "beacon_block").await;
        let slot = next_slot_start(&chain).await;
        let (_, block) = valid_messages(&chain, slot, 5).remove(0);
        publisher
            .handle
            .publish_ssz(GossipKind::BeaconBlock, block.clone())
            .await
            .unwrap();
        let cached = wait_for(Duration::from_secs(10), || {
            let h = server.clone();
            async move { (h.snapshot().await.unwrap().cached_blocks == 1).then_some(()) }
        })
        .await;
        assert!(cached.is_some(), "the block was not cached");

        // A plain client asks.
        let mut client = Client::connect(&chain, addr, server_id).await;
        let mut inbound = Vec::new();
        let digest = server.snapshot().await.unwrap().status.fork_digest;
        let mine = StatusMessage {
            fork_digest: digest,
            head_slot: 3,
            ..Default::default()
        };
        let status = match client.ask(RpcRequest::Status(mine), &mut inbound).await {
            RpcResponse::Status(s) => s,
            other => panic!("{other:?}"),
        };
        // The head is the block it accepted.
        assert_eq!((status.fork_digest, status.head_slot), (digest, slot));
        match client.ask(RpcRequest::MetaData, &mut inbound).await {
            RpcResponse::MetaData(m) => assert_eq!(m.seq_number(), snap.metadata.seq_number),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            client.ask(RpcRequest::Ping(1), &mut inbound).await,
            RpcResponse::Pong(snap.metadata.seq_number)
        );
        let range = RpcRequest::BlocksByRange(BeaconBlocksByRangeRequest {
            start_slot: slot,
            count: 4,
            step: 1,
        });
        let root = match client.ask(range, &mut inbound).await {
            RpcResponse::Blocks {
                blocks,
                error: None,
            } => {
                assert_eq!(blocks.len(), 1);
                assert_eq!(blocks[0].ssz, block);
                assert_eq!(blocks[0].fork_digest, Some(digest));
                pheme_gossip::GossipPayload::decode(
                    &chain,
                    GossipKind::BeaconBlock,
                    pheme_spec::Fork::Fulu,
                    &block,
                )
                .unwrap()
                .block_slot_and_root()
                .unwrap()
                .1
            }
            other => panic!("{other:?}"),
        };
        match client
            .ask(RpcRequest::BlocksByRoot(vec![root]), &mut inbound)
            .await
        {
            RpcResponse::Blocks { blocks, .. } => assert_eq!(blocks[0].ssz, block),
            other => panic!("{other:?}"),
        }
        let old = RpcRequest::BlocksByRange(BeaconBlocksByRangeRequest {
            start_slot: 1,
            count: 4,
            step: 1,
        });
        match client.ask(old, &mut inbound).await {
            RpcResponse::Error(e) => assert_eq!(e.code, ResponseCode::ResourceUnavailable),
            RpcResponse::Blocks { error: Some(e), .. } => {
                assert_eq!(e.code, ResponseCode::ResourceUnavailable)
            }
            other => panic!("{other:?}"),
        }

        // Shutdown: goodbye, reason 1.
        let stop = server.clone();
        tokio::spawn(async move { stop.shutdown().await });
        client
            .listen(&mut inbound, |r| !goodbyes(r).is_empty())
            .await;
        assert_eq!(
            goodbyes(&inbound),
            vec![u64::from(GoodbyeReason::ClientShutdown)]
        );
    })
    .await
    .expect("within the time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_of_another_network_gets_goodbye_2() {
    tokio::time::timeout(BOUND, async {
        let chain = chain(2_000, 32, 40, 0, &[]);
        let server = node(&chain).await;
        let server_id = server.handle.local_peer_id();
        let mut client = Client::connect(&chain, server.addr.clone(), server_id).await;
        let mut inbound = Vec::new();
        let foreign = StatusMessage {
            fork_digest: ForkDigest([0xde, 0xad, 0xbe, 0xef]),
            ..Default::default()
        };
        let _ = client.ask(RpcRequest::Status(foreign), &mut inbound).await;
        client
            .listen(&mut inbound, |r| !goodbyes(r).is_empty())
            .await;
        assert_eq!(
            goodbyes(&inbound),
            vec![u64::from(GoodbyeReason::IrrelevantNetwork)]
        );
    })
    .await
    .expect("within the time bound");
}

/// Checks that hold their blocking thread for a quarter of a second per message.
struct Slow;

impl pheme_gossip::StatefulValidator for Slow {
    fn validate(&self, _msg: &pheme_gossip::InboundMessage) -> pheme_gossip::Decision {
        std::thread::sleep(Duration::from_millis(250));
        pheme_gossip::Decision::Accept
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_resp_is_served_while_the_node_checks_are_saturated() {
    tokio::time::timeout(BOUND, async {
        let chain = chain(2_000, 32, 40, 0, &[]);
        // One check at a time, 250 ms each: 40 attestations keep them busy for 10 s.
        let config = common::node_config(&chain)
            .validation_concurrency(1)
            .validation_deadline(Duration::from_secs(30))
            .build()
            .unwrap();
        let server_id = config.keypair().public().to_peer_id();
        let (server, mut events) = spawn(config, Slow, None).unwrap();
        let addr = listen_addr(&server).await;
        let publisher = node(&chain).await;
        publisher.handle.dial(addr.clone()).await.unwrap();
        wait_mesh(&publisher.handle, "beacon_attestation").await;
        let slot = next_slot_start(&chain).await;
        for attester in 0..40 {
            let a = common::attestation(&chain, slot, 3, attester);
            publisher
                .handle
                .publish_ssz(GossipKind::BeaconAttestation(3), a)
                .await
                .unwrap();
        }
        // The first verdict: the checks are busy from now on.
        while !matches!(
            events.recv().await,
            Some(pheme_network::NetworkEvent::Gossip(_))
        ) {}
        let mut client = Client::connect(&chain, addr, server_id).await;
        let mut inbound = Vec::new();
        let asked = std::time::Instant::now();
        let seq = server.snapshot().await.unwrap().metadata.seq_number;
        assert_eq!(
            client.ask(RpcRequest::Ping(1), &mut inbound).await,
            RpcResponse::Pong(seq)
        );
        let answered_in = asked.elapsed();
        // Still saturated when it answered: most verdicts are yet to come.
        let mut verdicts = 1;
        while let Ok(e) = events.try_recv() {
            verdicts += usize::from(matches!(e, pheme_network::NetworkEvent::Gossip(_)));
        }
        assert!(
            verdicts < 40,
            "the checks were no longer busy ({verdicts} verdicts) after {answered_in:?}"
        );
        server.shutdown().await.unwrap();
    })
    .await
    .expect("within the bound");
}

/// An overloaded node IGNOREs what its validation queue cannot hold, and still records each
/// such message (stage `queue`, reason `queue_full`): one `Gossip` event per message received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_full_validation_queue_drops_is_recorded() {
    tokio::time::timeout(BOUND, async {
        let chain = chain(2_000, 32, 40, 0, &[]);
        let config = common::node_config(&chain)
            .validation_concurrency(1)
            .validation_queue(2)
            .validation_deadline(Duration::from_secs(30))
            .build()
            .unwrap();
        let (server, mut events) = spawn(config, Slow, None).unwrap();
        let addr = listen_addr(&server).await;
        let publisher = node(&chain).await;
        publisher.handle.dial(addr).await.unwrap();
        wait_mesh(&publisher.handle, "beacon_attestation").await;
        let slot = next_slot_start(&chain).await;
        const SENT: usize = 30;
        for attester in 0..SENT as u64 {
            let a = common::attestation(&chain, slot, 3, attester);
            publisher
                .handle
                .publish_ssz(GossipKind::BeaconAttestation(3), a)
                .await
                .unwrap();
        }
        let (mut accepted, mut dropped) = (0, 0);
        while accepted + dropped < SENT {
            let Some(e) = events.recv().await else { break };
            if let pheme_network::NetworkEvent::Gossip(g) = e {
                match (g.outcome.verdict, g.outcome.reason) {
                    (pheme_gossip::Verdict::Accept, _) => accepted += 1,
                    (pheme_gossip::Verdict::Ignore, "queue_full") => dropped += 1,
                    other => panic!("unexpected verdict {other:?}"),
                }
            }
        }
        assert_eq!(accepted + dropped, SENT);
        assert!(
            dropped > 0 && accepted > 0,
            "{accepted} accepted, {dropped} dropped"
        );
        server.shutdown().await.unwrap();
    })
    .await
    .expect("within the bound");
}
