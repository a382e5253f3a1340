//! Shared by the network tests: nodes on loopback, and (from `pheme_testkit::fixtures`, which the
//! simulation shares) a short-slot chain whose forks are all at genesis and real SSZ messages
//! that pass the stateless checks at the current slot.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use pheme_network::{NetworkConfig, NetworkEvent, NetworkHandle, Subnets, spawn};
use pheme_spec::{ChainSpec, GossipKind, unix_now_ms};
use pheme_testkit::fixtures;
use tokio::sync::mpsc;

/// Mainnet types with `slot_ms` slots and `slots_per_epoch`, genesis `slots_ago` slots back,
/// every fork up to electra at genesis and fulu at `fulu_epoch` (0 = genesis), with the given
/// BPO epochs after it.
pub fn chain(
    slot_ms: u64,
    slots_per_epoch: u64,
    slots_ago: u64,
    fulu_epoch: u64,
    bpo: &[u64],
) -> ChainSpec {
    fixtures::chain(slot_ms, slots_per_epoch, slots_ago, fulu_epoch, bpo).unwrap()
}

/// The slot now.
pub fn slot_now(chain: &ChainSpec) -> u64 {
    chain.clock().slot_at_ms(unix_now_ms()).unwrap()
}

pub struct Node {
    pub handle: NetworkHandle,
    pub events: mpsc::Receiver<NetworkEvent>,
    pub addr: libp2p::Multiaddr,
}

/// Spawns a node (no state checks) and waits for its listen address.
pub async fn start(config: NetworkConfig) -> Node {
    let (handle, events) = spawn(config, pheme_gossip::NoState, None).unwrap();
    let addr = listen_addr(&handle).await;
    Node {
        handle,
        events,
        addr,
    }
}

/// The node's first listen address, once it has one.
pub async fn listen_addr(handle: &NetworkHandle) -> libp2p::Multiaddr {
    wait_for(Duration::from_secs(5), || {
        let h = handle.clone();
        async move { h.snapshot().await.unwrap().listen.first().cloned() }
    })
    .await
    .expect("a listen address")
}

/// Waits until the node has a mesh peer on topics of `kind` (a base name).
pub async fn wait_mesh(handle: &NetworkHandle, kind: &'static str) {
    wait_for(Duration::from_secs(10), || {
        let h = handle.clone();
        async move {
            let n = h
                .snapshot()
                .await
                .unwrap()
                .mesh
                .get(kind)
                .copied()
                .unwrap_or(0);
            (n > 0).then_some(())
        }
    })
    .await
    .unwrap_or_else(|| panic!("no {kind} mesh"));
}

/// A node's configuration on loopback TCP, every subnet, loopback exempt from P6.
pub fn node_config(chain: &ChainSpec) -> pheme_network::NetworkConfigBuilder {
    NetworkConfig::builder(chain.clone())
        .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .target_peers(20)
        .subnets(Subnets::All)
        .active_validators(1_000_000)
        .ip_colocation_whitelist(vec!["127.0.0.1".parse().unwrap()])
}

/// Starts a node on loopback TCP and waits for its listen address.
pub async fn node(chain: &ChainSpec) -> Node {
    start(node_config(chain).build().unwrap()).await
}

/// A plain libp2p req/resp client (tcp, noise, yamux) that knows `server` at `addr`.
pub fn rpc_client(
    chain: &ChainSpec,
    server: libp2p::PeerId,
    addr: libp2p::Multiaddr,
) -> libp2p::Swarm<pheme_network::rpc::RpcBehaviour> {
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| {
            pheme_network::rpc::RpcBehaviour::new(pheme_network::rpc::RpcConfig::for_chain(chain))
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    swarm.add_peer_address(server, addr);
    swarm
}

/// `varint(n)`: a req/resp length prefix.
pub fn varint(n: u64) -> Vec<u8> {
    unsigned_varint::encode::u64(n, &mut unsigned_varint::encode::u64_buffer()).to_vec()
}

/// Polls `f` until it returns Some, or the timeout passes.
pub use pheme_testkit::wait_for;

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, n: usize) -> Vec<u8> {
    fixtures::bytes(seed, n)
}

/// A SingleAttestation of `attester` in committee `committee` at `slot` (on subnet
/// `committee % 64` with 64 committees per slot).
pub fn attestation(chain: &ChainSpec, slot: u64, committee: u64, attester: u64) -> Vec<u8> {
    fixtures::attestation(chain, slot, committee, attester).unwrap()
}

/// One message per topic kind that passes the stateless checks at `slot` on `chain`, seeded by
/// `seed` so that repeated calls give distinct messages.
pub fn valid_messages(chain: &ChainSpec, slot: u64, seed: u64) -> Vec<(GossipKind, Vec<u8>)> {
    fixtures::valid_messages(chain, slot, seed).unwrap()
}

/// Sleeps until 50 ms into the next slot and returns that slot, so that messages for "the
/// current slot" stay current while they travel.
pub async fn next_slot_start(chain: &ChainSpec) -> u64 {
    let clock = chain.clock();
    let wait = clock.ms_until_next_slot(unix_now_ms()) + 50;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    slot_now(chain)
}

/// Starts a node on loopback TCP with discv5 on loopback UDP, started from `bootnodes` (none:
/// a lone first node), taking attestation `subnets`.
pub async fn discovering_node(chain: &ChainSpec, bootnodes: &[String], subnets: Subnets) -> Node {
    use std::net::{Ipv4Addr, SocketAddrV4};
    let mut disc = pheme_network::pheme_discovery::DiscoveryConfig::builder();
    disc.listen_v4(Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)))
        .listen_v6(None)
        .enr_ip4(Some(Ipv4Addr::LOCALHOST))
        .bootnode_texts(bootnodes);
    if bootnodes.is_empty() {
        disc.bootnodes(Vec::new());
    }
    let config = NetworkConfig::builder(chain.clone())
        .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .target_peers(10)
        .subnets(subnets)
        .active_validators(1_000_000)
        .ip_colocation_whitelist(vec!["127.0.0.1".parse().unwrap()])
        .discovery(disc)
        .build()
        .unwrap();
    start(config).await
}

/// A double vote by `seed` at `slot`: slashable, with a validator nobody slashed yet.
pub fn attester_slashing(chain: &ChainSpec, slot: u64, seed: u64) -> Vec<u8> {
    fixtures::attester_slashing(chain, slot, seed).unwrap()
}

/// Messages whose right verdict is REJECT, with the topic they go on: a BLS change whose
/// signature does not verify, and a data-column sidecar that fails its stateless checks.
pub fn invalid_messages(slot: u64, seed: u64) -> Vec<(GossipKind, Vec<u8>)> {
    fixtures::invalid_messages(slot, seed).unwrap()
}

/// libp2p-gossipsub as an attacker runs it (see [`pheme_testkit::raw::RawGossipsub`]).
pub use pheme_testkit::raw::RawGossipsub;

/// A [`RawGossipsub`].
pub fn raw_gossipsub() -> RawGossipsub {
    pheme_testkit::raw::gossipsub().unwrap()
}
