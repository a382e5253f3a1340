//! Pheme's router against libp2p-gossipsub 0.50 on loopback: real swarms configured as an
//! Ethereum client configures them (anonymous messages, the spec's message-id over the snappy
//! transform, validation by the application), speaking `/meshsub/1.2.0` or `/meshsub/1.1.0`
//! over yamux or mplex, dialling Pheme and dialled by it.
//!
//! - meshes form and every message arrives, once, whichever side publishes;
//! - IDONTWANT is honoured both ways (a large message is neither forwarded to nor received
//!   back from a peer that announced it; a small one, for contrast, is);
//! - PRUNE with peer exchange is accepted both ways;
//! - misbehaving libp2p peers (invalid messages from a gossipsub router, GRAFTs inside the
//!   backoff and IHAVE spam from raw meshsub streams) are graylisted and banned.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{chain, node_config, slot_now, start, wait_for};
use futures::StreamExt;
use libp2p::gossipsub::{self, AllowAllSubscriptionFilter, MessageAuthenticity, Version};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, identify, noise, tcp, yamux};
use pheme_gossip::{Decision, InboundMessage, StatefulValidator, Verdict};
use pheme_network::{
    NetworkEvent, NetworkHandle, params::topic_name, transform::SnappyTransform,
    transform::message_id_fn,
};
use pheme_spec::{ChainSpec, GossipKind};
use tokio::sync::{mpsc, oneshot};

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct RefBehaviour {
    gossipsub: gossipsub::Behaviour<SnappyTransform, AllowAllSubscriptionFilter>,
    identify: identify::Behaviour,
    addresses: AddressBook,
}

/// Where peers listen, as a discovery service would say: the addresses a dial by peer id (a
/// peer from PX) uses.
#[derive(Default)]
struct AddressBook(HashMap<PeerId, Vec<Multiaddr>>);

impl NetworkBehaviour for AddressBook {
    type ConnectionHandler = libp2p::swarm::dummy::ConnectionHandler;
    type ToSwarm = std::convert::Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: libp2p::swarm::ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<libp2p::swarm::THandler<Self>, libp2p::swarm::ConnectionDenied> {
        Ok(libp2p::swarm::dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: libp2p::swarm::ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: libp2p::core::Endpoint,
        _: libp2p::core::transport::PortUse,
    ) -> Result<libp2p::swarm::THandler<Self>, libp2p::swarm::ConnectionDenied> {
        Ok(libp2p::swarm::dummy::ConnectionHandler)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _: libp2p::swarm::ConnectionId,
        peer: Option<PeerId>,
        _: &[Multiaddr],
        _: libp2p::core::Endpoint,
    ) -> Result<Vec<Multiaddr>, libp2p::swarm::ConnectionDenied> {
        Ok(peer
            .and_then(|p| self.0.get(&p).cloned())
            .unwrap_or_default())
    }

    fn on_swarm_event(&mut self, event: libp2p::swarm::FromSwarm) {
        if let libp2p::swarm::FromSwarm::NewExternalAddrOfPeer(e) = event {
            self.0.entry(e.peer_id).or_default().push(e.addr.clone());
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: libp2p::swarm::ConnectionId,
        e: libp2p::swarm::THandlerOutEvent<Self>,
    ) {
        match e {}
    }

    fn poll(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<libp2p::swarm::ToSwarm<Self::ToSwarm, libp2p::swarm::THandlerInEvent<Self>>>
    {
        std::task::Poll::Pending
    }
}

/// How a reference peer is set up.
#[derive(Clone, Default)]
struct RefOpts {
    mplex: bool,
    v1_1_only: bool,
    do_px: bool,
    /// Delay before the application's verdict.
    verdict_delay: Duration,
    /// (D, D_lo, D_hi).
    mesh: Option<(usize, usize, usize)>,
}

enum Cmd {
    Dial(Multiaddr),
    Learn(PeerId, Multiaddr),
    Subscribe(String),
    Publish(String, Vec<u8>, oneshot::Sender<Result<(), String>>),
    Mesh(String, oneshot::Sender<Vec<PeerId>>),
    Received(oneshot::Sender<Vec<Vec<u8>>>),
    Dialled(oneshot::Sender<HashSet<PeerId>>),
}

/// A libp2p-gossipsub node in a task of its own.
struct RefPeer {
    peer: PeerId,
    addr: Multiaddr,
    cmds: mpsc::UnboundedSender<Cmd>,
}

impl RefPeer {
    async fn start(chain: &ChainSpec, opts: RefOpts) -> RefPeer {
        let transform = SnappyTransform::new(Arc::new(chain.clone()));
        let mut b = gossipsub::ConfigBuilder::default();
        b.validation_mode(gossipsub::ValidationMode::Anonymous)
            .validate_messages()
            .message_id_fn(message_id_fn(&transform))
            .max_transmit_size(chain.max_message_size() as usize)
            .heartbeat_interval(Duration::from_millis(700))
            .prune_peers(16);
        if opts.do_px {
            b.do_px();
        }
        if opts.v1_1_only {
            b.protocol_id("/meshsub/1.1.0", Version::V1_1);
        }
        if let Some((n, lo, hi)) = opts.mesh {
            b.mesh_n(n)
                .mesh_n_low(lo)
                .mesh_n_high(hi)
                .mesh_outbound_min(0)
                .retain_scores(0);
        }
        let config = b.build().unwrap();
        let builder = libp2p::SwarmBuilder::with_new_identity().with_tokio();
        let make = |key: &libp2p::identity::Keypair| RefBehaviour {
            gossipsub: gossipsub::Behaviour::new_with_subscription_filter_and_transform(
                MessageAuthenticity::Anonymous,
                config.clone(),
                AllowAllSubscriptionFilter {},
                transform.clone(),
            )
            .unwrap(),
            identify: identify::Behaviour::new(identify::Config::new_with_signed_peer_record(
                "eth2/1.0.0".into(),
                key,
            )),
            addresses: AddressBook::default(),
        };
        let mut swarm = if opts.mplex {
            builder
                .with_tcp(
                    tcp::Config::default().nodelay(true),
                    noise::Config::new,
                    libp2p_mplex::Config::default,
                )
                .unwrap()
                .with_behaviour(make)
                .unwrap()
                .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
                .build()
        } else {
            builder
                .with_tcp(
                    tcp::Config::default().nodelay(true),
                    noise::Config::new,
                    yamux::Config::default,
                )
                .unwrap()
                .with_behaviour(make)
                .unwrap()
                .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
                .build()
        };
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .unwrap();
        let addr = loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                break address;
            }
        };
        let peer = *swarm.local_peer_id();
        let (cmds, mut rx) = mpsc::unbounded_channel();
        let delay = opts.verdict_delay;
        tokio::spawn(async move {
            let mut received: Vec<Vec<u8>> = Vec::new();
            let mut dialled: HashSet<PeerId> = HashSet::new();
            let mut pending: Vec<(Instant, gossipsub::MessageId, PeerId)> = Vec::new();
            loop {
                let next = pending.iter().map(|p| p.0).min();
                tokio::select! {
                    event = swarm.select_next_some() => match event {
                        SwarmEvent::Behaviour(RefBehaviourEvent::Gossipsub(gossipsub::Event::Message {
                            propagation_source, message_id, ..
                        })) => {
                            received.push(message_id.0.clone());
                            pending.push((Instant::now() + delay, message_id, propagation_source));
                        }
                        SwarmEvent::Dialing { peer_id: Some(p), .. }
                        | SwarmEvent::OutgoingConnectionError { peer_id: Some(p), .. } => {
                            dialled.insert(p);
                        }
                        _ => {}
                    },
                    _ = async { tokio::time::sleep_until(next.unwrap().into()).await }, if next.is_some() => {
                        let now = Instant::now();
                        let (due, rest): (Vec<_>, Vec<_>) = pending.drain(..).partition(|p| p.0 <= now);
                        pending = rest;
                        for (_, id, source) in due {
                            swarm.behaviour_mut().gossipsub.report_message_validation_result(
                                &id, &source, gossipsub::MessageAcceptance::Accept,
                            );
                        }
                    }
                    cmd = rx.recv() => match cmd {
                        Some(Cmd::Dial(a)) => { swarm.dial(a).unwrap(); }
                        Some(Cmd::Learn(p, a)) => { swarm.add_peer_address(p, a); }
                        Some(Cmd::Subscribe(t)) => {
                            swarm.behaviour_mut().gossipsub.subscribe(&gossipsub::IdentTopic::new(t)).unwrap();
                        }
                        Some(Cmd::Publish(t, ssz, reply)) => {
                            let r = swarm.behaviour_mut().gossipsub
                                .publish(gossipsub::TopicHash::from_raw(t), ssz)
                                .map(|_| ()).map_err(|e| e.to_string());
                            let _ = reply.send(r);
                        }
                        Some(Cmd::Mesh(t, reply)) => {
                            let m = swarm.behaviour().gossipsub
                                .mesh_peers(&gossipsub::TopicHash::from_raw(t)).copied().collect();
                            let _ = reply.send(m);
                        }
                        Some(Cmd::Received(reply)) => { let _ = reply.send(received.clone()); }
                        Some(Cmd::Dialled(reply)) => { let _ = reply.send(dialled.clone()); }
                        None => break,
                    },
                }
            }
        });
        RefPeer { peer, addr, cmds }
    }

    fn dial(&self, addr: &Multiaddr) {
        self.cmds.send(Cmd::Dial(addr.clone())).unwrap();
    }

    /// Learns where `peer` listens (as a discovery mechanism would tell it).
    fn learn(&self, peer: PeerId, addr: &Multiaddr) {
        self.cmds.send(Cmd::Learn(peer, addr.clone())).unwrap();
    }

    fn subscribe(&self, topic: &str) {
        self.cmds.send(Cmd::Subscribe(topic.to_owned())).unwrap();
    }

    async fn publish(&self, topic: &str, ssz: Vec<u8>) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Cmd::Publish(topic.to_owned(), ssz, tx))
            .unwrap();
        rx.await.unwrap()
    }

    async fn mesh(&self, topic: &str) -> Vec<PeerId> {
        let (tx, rx) = oneshot::channel();
        self.cmds.send(Cmd::Mesh(topic.to_owned(), tx)).unwrap();
        rx.await.unwrap()
    }

    async fn received(&self) -> Vec<Vec<u8>> {
        let (tx, rx) = oneshot::channel();
        self.cmds.send(Cmd::Received(tx)).unwrap();
        rx.await.unwrap()
    }

    async fn dialled(&self) -> HashSet<PeerId> {
        let (tx, rx) = oneshot::channel();
        self.cmds.send(Cmd::Dialled(tx)).unwrap();
        rx.await.unwrap()
    }
}

fn topic(chain: &ChainSpec, kind: GossipKind) -> String {
    let digest = chain.fork_digest_at(chain.epoch_of(slot_now(chain)));
    topic_name(digest, kind)
}

fn spec_id(chain: &ChainSpec, topic: &str, ssz: &[u8]) -> Vec<u8> {
    let fork = chain.fork_at(chain.epoch_of(slot_now(chain)));
    pheme_codec::message_id(fork, topic, Ok(ssz)).to_vec()
}

/// Waits until `peer`'s mesh on `topic` holds every one of `want`.
async fn ref_meshed(peer: &RefPeer, topic: &str, want: &[PeerId]) {
    let ok = wait_for(Duration::from_secs(15), || async {
        let mesh = peer.mesh(topic).await;
        want.iter().all(|p| mesh.contains(p)).then_some(())
    })
    .await;
    assert!(
        ok.is_some(),
        "{}'s mesh on {topic} lacks {want:?}",
        peer.peer
    );
}

/// Waits until Pheme's mesh for `kind` (a base name) has `n` peers.
async fn pheme_meshed(handle: &NetworkHandle, kind: &'static str, n: usize) {
    let ok = wait_for(Duration::from_secs(15), || async {
        let snap = handle.snapshot().await.unwrap();
        (snap.mesh.get(kind).copied().unwrap_or(0) >= n).then_some(())
    })
    .await;
    assert!(ok.is_some(), "Pheme's {kind} mesh below {n}");
}

/// Message-ids Pheme validated (drained from its events), with their verdicts.
fn drain_validated(
    events: &mut mpsc::Receiver<NetworkEvent>,
    into: &mut HashMap<Vec<u8>, Vec<Verdict>>,
) {
    while let Ok(e) = events.try_recv() {
        if let NetworkEvent::Gossip(g) = e {
            into.entry(g.outcome.message_id.to_vec())
                .or_default()
                .push(g.outcome.verdict);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meshes_form_and_every_message_arrives_once_whoever_publishes() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let mut p = start(node_config(&chain).build().unwrap()).await;
    // a dials Pheme over yamux and speaks 1.2; Pheme dials b, which speaks 1.1 over mplex.
    let a = RefPeer::start(&chain, RefOpts::default()).await;
    let b = RefPeer::start(
        &chain,
        RefOpts {
            mplex: true,
            v1_1_only: true,
            ..RefOpts::default()
        },
    )
    .await;
    let kinds = [
        GossipKind::BeaconBlock,
        GossipKind::BeaconAggregateAndProof,
        GossipKind::VoluntaryExit,
    ];
    let topics: Vec<String> = kinds.iter().map(|k| topic(&chain, *k)).collect();
    for t in &topics {
        a.subscribe(t);
        b.subscribe(t);
    }
    a.dial(&p.addr);
    p.handle.dial(b.addr.clone()).await.unwrap();
    let me = p.handle.local_peer_id();
    for t in &topics {
        ref_meshed(&a, t, &[me]).await;
        ref_meshed(&b, t, &[me]).await;
    }
    pheme_meshed(&p.handle, "beacon_block", 2).await;

    let mut validated = HashMap::new();
    let mut expect_at_a = Vec::new();
    let mut expect_at_b = Vec::new();
    let mut expect_at_p = Vec::new();
    for (round, who) in ["a", "pheme", "b"].into_iter().enumerate() {
        let slot = slot_now(&chain);
        for (kind, ssz) in common::valid_messages(&chain, slot, 100 + round as u64) {
            if !kinds.contains(&kind) {
                continue;
            }
            let t = topic(&chain, kind);
            let id = spec_id(&chain, &t, &ssz);
            match who {
                "a" => {
                    a.publish(&t, ssz).await.unwrap();
                    expect_at_b.push(id.clone());
                    expect_at_p.push(id);
                }
                "b" => {
                    b.publish(&t, ssz).await.unwrap();
                    expect_at_a.push(id.clone());
                    expect_at_p.push(id);
                }
                _ => {
                    p.handle.publish_ssz(kind, ssz).await.unwrap();
                    expect_at_a.push(id.clone());
                    expect_at_b.push(id);
                }
            }
        }
    }
    let arrived = wait_for(Duration::from_secs(10), || async {
        let (ra, rb) = (a.received().await, b.received().await);
        let all = expect_at_a.iter().all(|id| ra.contains(id))
            && expect_at_b.iter().all(|id| rb.contains(id));
        all.then_some((ra, rb))
    })
    .await;
    let (ra, rb) = arrived.expect("every message reaches both libp2p peers");
    for (got, want) in [(&ra, &expect_at_a), (&rb, &expect_at_b)] {
        for id in want {
            assert_eq!(got.iter().filter(|x| *x == id).count(), 1);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    drain_validated(&mut p.events, &mut validated);
    for id in &expect_at_p {
        assert_eq!(
            validated.get(id).map(Vec::as_slice),
            Some(&[Verdict::Accept][..]),
            "Pheme validates each message once"
        );
    }
    let stats = p.handle.router_stats().await.unwrap().unwrap();
    assert_eq!(stats.frames_refused, 0, "{stats:?}");
    assert_eq!(stats.messages_refused, 0, "{stats:?}");
}

/// Delays Pheme's verdict on blocks by 800 ms, so that copies and IDONTWANTs arrive while it
/// validates.
struct SlowBlocks;

impl StatefulValidator for SlowBlocks {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        if msg.kind == GossipKind::BeaconBlock {
            // The checks run on a blocking thread: sleeping there holds no async worker.
            std::thread::sleep(Duration::from_millis(800));
        }
        Decision::Accept
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idontwant_is_honoured_both_ways() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let (handle, _events) =
        pheme_network::spawn(node_config(&chain).build().unwrap(), SlowBlocks, None).unwrap();
    let p_addr = common::listen_addr(&handle).await;
    let slow = RefOpts {
        verdict_delay: Duration::from_millis(400),
        ..RefOpts::default()
    };
    // A triangle: a publishes; c validates slowly too.
    let a = RefPeer::start(&chain, RefOpts::default()).await;
    let c = RefPeer::start(&chain, slow).await;
    let block = topic(&chain, GossipKind::BeaconBlock);
    a.subscribe(&block);
    c.subscribe(&block);
    a.dial(&p_addr);
    c.dial(&p_addr);
    a.dial(&c.addr);
    let me = handle.local_peer_id();
    ref_meshed(&a, &block, &[me, c.peer]).await;
    ref_meshed(&c, &block, &[me, a.peer]).await;
    pheme_meshed(&handle, "beacon_block", 2).await;
    let stats = || async { handle.router_stats().await.unwrap().unwrap() };

    // A small block (under the 1,000-byte threshold on the wire): no IDONTWANT either way, so
    // c, which validates in 400 ms, forwards its copy to Pheme, still validating (800 ms).
    let before = stats().await;
    let slot = slot_now(&chain);
    let small_block = pheme_testkit::fixtures::block(&chain, slot, 7).unwrap();
    a.publish(&block, small_block).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let small = stats().await;
    assert!(
        small.duplicates > before.duplicates,
        "the small message came back from c: {small:?}"
    );
    assert_eq!(small.idontwant_sent, before.idontwant_sent);

    // A 4 KB block, the same timing: Pheme sends IDONTWANT to c before validating and skips c
    // when it forwards; c (libp2p) sends IDONTWANT to Pheme and does not forward its copy.
    let big = pheme_testkit::fixtures::large_block(&chain, slot, 9, 4_000).unwrap();
    a.publish(&block, big).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = stats().await;
    assert!(after.idontwant_sent > small.idontwant_sent, "{after:?}");
    assert!(
        after.idontwant_received > small.idontwant_received,
        "{after:?}"
    );
    assert!(
        after.idontwant_skipped + after.idontwant_cancelled
            > small.idontwant_skipped + small.idontwant_cancelled,
        "Pheme did not send c the block c said it did not want: {after:?}"
    );
    assert_eq!(
        after.duplicates, small.duplicates,
        "libp2p honoured Pheme's IDONTWANT: no copy came back"
    );
    assert!(c.received().await.len() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_with_px_is_accepted_both_ways() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let block = topic(&chain, GossipKind::BeaconBlock);

    // libp2p to Pheme: l keeps a mesh of two; r1 and r2 fill it, then Pheme's GRAFT is refused
    // with a PRUNE offering r1 and r2.
    let p = start(node_config(&chain).build().unwrap()).await;
    let l = RefPeer::start(
        &chain,
        RefOpts {
            do_px: true,
            mesh: Some((2, 1, 2)),
            ..RefOpts::default()
        },
    )
    .await;
    let r1 = RefPeer::start(&chain, RefOpts::default()).await;
    let r2 = RefPeer::start(&chain, RefOpts::default()).await;
    for r in [&l, &r1, &r2] {
        r.subscribe(&block);
    }
    r1.dial(&l.addr);
    r2.dial(&l.addr);
    ref_meshed(&l, &block, &[r1.peer, r2.peer]).await;
    // Pheme takes PX only from peers above accept_px_threshold.
    p.handle.dial(l.addr.clone()).await.unwrap();
    let accepted = wait_for(Duration::from_secs(15), || async {
        let _ = p.handle.set_application_score(l.peer, 10_000.0);
        let s = p.handle.router_stats().await.unwrap().unwrap();
        (s.px_peers_accepted > 0).then_some(s)
    })
    .await
    .expect("Pheme accepts libp2p's PX");
    assert_eq!(accepted.px_record_invalid, 0);

    // Pheme to libp2p: thirteen libp2p peers graft a Pheme node whose D_hi is 12; the ones it
    // refuses or trims get PRUNEs with PX, and libp2p dials peers from them.
    let q = start(
        node_config(&chain)
            .peer_exchange(true)
            .target_peers(30)
            .build()
            .unwrap(),
    )
    .await;
    let mut peers = Vec::new();
    for _ in 0..13 {
        peers.push(RefPeer::start(&chain, RefOpts::default()).await);
    }
    // Each knows where the others listen (as discovery would tell it), so it can dial a peer
    // id from PX; none is connected to another.
    for r in &peers {
        for o in peers.iter().filter(|o| o.peer != r.peer) {
            r.learn(o.peer, &o.addr);
        }
        r.subscribe(&block);
        r.dial(&q.addr);
    }
    let ids: HashSet<PeerId> = peers.iter().map(|r| r.peer).collect();
    let dialled_px = wait_for(Duration::from_secs(20), || async {
        for r in &peers {
            let d = r.dialled().await;
            if d.iter().any(|x| ids.contains(x) && *x != r.peer) {
                return Some(());
            }
        }
        None
    })
    .await;
    let stats = q.handle.router_stats().await.unwrap().unwrap();
    assert!(
        dialled_px.is_some(),
        "a libp2p peer dialled a peer from Pheme's PX: {stats:?}"
    );
    assert!(stats.prune_sent > 0, "{stats:?}");
}

/// Waits for Pheme to ban `peer`.
async fn banned(events: &mut mpsc::Receiver<NetworkEvent>, peer: PeerId, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(NetworkEvent::PeerBanned { peer: p, .. })) if p == peer => return true,
            Ok(Some(_)) => {}
            _ => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_libp2p_peers_are_graylisted() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    // Invalid messages from a libp2p-gossipsub router.
    let mut p = start(node_config(&chain).build().unwrap()).await;
    let e = RefPeer::start(&chain, RefOpts::default()).await;
    let kinds: Vec<GossipKind> = common::invalid_messages(0, 0)
        .iter()
        .map(|(k, _)| *k)
        .collect();
    for k in &kinds {
        e.subscribe(&topic(&chain, *k));
    }
    e.dial(&p.addr);
    pheme_meshed(&p.handle, "bls_to_execution_change", 1).await;
    let mut seed = 1;
    let flood = async {
        loop {
            for (k, ssz) in common::invalid_messages(slot_now(&chain), seed) {
                let _ = e.publish(&topic(&chain, k), ssz).await;
            }
            seed += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        ok = banned(&mut p.events, e.peer, Duration::from_secs(30)) => {
            assert!(ok, "the invalid-message sender is banned");
        }
        _ = flood => unreachable!(),
    }

    // GRAFTs inside the backoff, and IHAVE spam, from raw meshsub streams.
    for script in [
        pheme_testkit::raw::Script::GraftFlood,
        pheme_testkit::raw::Script::IhaveSpam { ids: 10 },
    ] {
        let mut p = start(node_config(&chain).build().unwrap()).await;
        let attacker = pheme_testkit::raw::start(
            libp2p::identity::Keypair::generate_ed25519(),
            script,
            vec![topic(&chain, GossipKind::BeaconBlock)],
            Duration::from_millis(500),
            3,
        )
        .unwrap();
        attacker.dial.send(p.addr.clone()).unwrap();
        assert!(
            banned(&mut p.events, attacker.peer, Duration::from_secs(40)).await,
            "{script:?} attacker banned"
        );
        attacker.task.abort();
    }
}
