//! Shared by the network tests: a short-slot chain whose forks are all at genesis, nodes on
//! loopback, and real SSZ messages that pass the stateless checks at the current slot.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use pheme_network::{NetworkConfig, NetworkEvent, NetworkHandle, Subnets, spawn};
use pheme_spec::{ChainSpec, FAR_FUTURE_EPOCH, Fork, GossipKind, Network, unix_now_ms};
use pheme_types::mainnet::fulu as t;
use pheme_types::ssz_rs::{Bitlist, Bitvector, serialize};
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
    let mut c = Network::Mainnet.chain_spec().unwrap();
    c.name = "pheme-test".into();
    c.slot_duration_ms = slot_ms;
    c.preset.slots_per_epoch = slots_per_epoch;
    let now = unix_now_ms();
    c.genesis_time = (now - slots_ago * slot_ms) / 1000;
    for f in &mut c.forks {
        f.epoch = match f.fork {
            Fork::Fulu => fulu_epoch,
            f if f > Fork::Fulu => FAR_FUTURE_EPOCH,
            _ => 0,
        };
    }
    c.blob_schedule = bpo
        .iter()
        .enumerate()
        .map(|(i, e)| pheme_spec::BlobParameters {
            epoch: *e,
            max_blobs_per_block: 10 + i as u64,
        })
        .collect();
    c.validate().unwrap();
    c
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
) -> libp2p::Swarm<pheme_network::RpcBehaviour> {
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| {
            pheme_network::RpcBehaviour::new(pheme_network::RpcConfig::for_chain(chain))
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    swarm.add_peer_address(server, addr);
    swarm
}

/// `varint(n)`: a req/resp length prefix.
pub fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// Polls `f` until it returns Some, or the timeout passes.
pub async fn wait_for<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sig(seed: u64) -> pheme_types::primitives::BlsSignature {
    pheme_types::primitives::BlsSignature::try_from(&bytes(seed, 96)[..]).unwrap()
}

fn root(seed: u64) -> pheme_types::primitives::Root {
    pheme_types::primitives::Root::try_from(&bytes(seed, 32)[..]).unwrap()
}

fn data(spe: u64, slot: u64, seed: u64) -> t::AttestationData {
    let mut d = t::AttestationData {
        slot,
        ..Default::default()
    };
    d.target.epoch = slot / spe;
    d.source.epoch = (slot / spe).saturating_sub(1);
    d.beacon_block_root = root(seed);
    d
}

/// A SingleAttestation of `attester` in committee `committee` at `slot` (on subnet
/// `committee % 64` with 64 committees per slot).
pub fn attestation(chain: &ChainSpec, slot: u64, committee: u64, attester: u64) -> Vec<u8> {
    serialize(&t::SingleAttestation {
        committee_index: committee,
        attester_index: attester,
        data: data(chain.slots_per_epoch(), slot, attester),
        signature: sig(attester),
    })
    .unwrap()
}

/// One message per topic kind that passes the stateless checks at `slot` on `chain`, seeded by
/// `seed` so that repeated calls give distinct messages.
pub fn valid_messages(chain: &ChainSpec, slot: u64, seed: u64) -> Vec<(GossipKind, Vec<u8>)> {
    let mut out = Vec::new();
    let mut block = t::SignedBeaconBlock::default();
    block.message.slot = slot;
    block.message.proposer_index = seed;
    block.message.parent_root = root(seed + 1);
    block.message.body.randao_reveal = sig(seed + 2);
    block.message.body.execution_payload.timestamp =
        chain.genesis_time + slot * chain.slot_duration_ms / 1000;
    block.message.body.execution_payload.block_hash = root(seed + 3);
    out.push((GossipKind::BeaconBlock, serialize(&block).unwrap()));

    let mut agg = t::SignedAggregateAndProof::default();
    agg.message.aggregator_index = seed;
    agg.message.selection_proof = sig(seed + 4);
    agg.message.aggregate.data = data(chain.slots_per_epoch(), slot, seed);
    agg.message.aggregate.signature = sig(seed + 5);
    let bits: Vec<bool> = (0..100).map(|i| i % 10 != 0).collect();
    agg.message.aggregate.aggregation_bits = Bitlist::try_from(&bits[..]).unwrap();
    let mut committees = Bitvector::default();
    committees.set(7, true);
    agg.message.aggregate.committee_bits = committees;
    agg.signature = sig(seed + 6);
    out.push((
        GossipKind::BeaconAggregateAndProof,
        serialize(&agg).unwrap(),
    ));

    out.push((
        GossipKind::BeaconAttestation(3),
        attestation(chain, slot, 3, seed),
    ));

    let sync = t::SyncCommitteeMessage {
        slot,
        beacon_block_root: root(seed + 7),
        validator_index: seed,
        signature: sig(seed + 8),
    };
    out.push((GossipKind::SyncCommittee(1), serialize(&sync).unwrap()));

    let mut c = t::SignedContributionAndProof::default();
    c.message.aggregator_index = seed;
    c.message.contribution.slot = slot;
    c.message.contribution.subcommittee_index = 2;
    c.message.contribution.beacon_block_root = root(seed + 9);
    for i in 0..128 {
        c.message.contribution.aggregation_bits.set(i, i % 3 != 0);
    }
    c.message.selection_proof = (seed * 1000..)
        .map(sig)
        .find(|s| pheme_gossip::is_sync_committee_aggregator(s, 512))
        .unwrap();
    c.signature = sig(seed + 10);
    out.push((
        GossipKind::SyncCommitteeContributionAndProof,
        serialize(&c).unwrap(),
    ));

    let exit = t::SignedVoluntaryExit {
        message: t::VoluntaryExit {
            epoch: slot / chain.slots_per_epoch(),
            validator_index: seed,
        },
        signature: sig(seed + 11),
    };
    out.push((GossipKind::VoluntaryExit, serialize(&exit).unwrap()));

    let mut ps = t::ProposerSlashing::default();
    ps.signed_header_1.message.slot = slot;
    ps.signed_header_1.message.proposer_index = seed;
    ps.signed_header_1.message.body_root = root(seed + 12);
    ps.signed_header_2.message.slot = slot;
    ps.signed_header_2.message.proposer_index = seed;
    ps.signed_header_2.message.body_root = root(seed + 13);
    out.push((GossipKind::ProposerSlashing, serialize(&ps).unwrap()));
    out
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
    let mut s = t::AttesterSlashing::default();
    s.attestation_1.data = data(chain.slots_per_epoch(), slot, seed);
    s.attestation_2.data = data(chain.slots_per_epoch(), slot, seed + 1);
    s.attestation_1.attesting_indices.push(seed);
    s.attestation_2.attesting_indices.push(seed);
    s.attestation_1.signature = sig(seed + 20);
    s.attestation_2.signature = sig(seed + 21);
    serialize(&s).unwrap()
}

/// Messages whose right verdict is REJECT, with the topic they go on: a BLS change whose
/// signature does not verify, and a data-column sidecar that fails its stateless checks
/// (empty proofs and cells that match no block).
pub fn invalid_messages(slot: u64, seed: u64) -> Vec<(GossipKind, Vec<u8>)> {
    let mut change = t::SignedBlsToExecutionChange::default();
    change.message.validator_index = seed;
    change.signature = sig(seed + 30);
    let mut column = t::DataColumnSidecar {
        index: 5,
        ..Default::default()
    };
    column.signed_block_header.message.slot = slot;
    column.signed_block_header.message.proposer_index = seed;
    column.kzg_commitments.push(Default::default());
    column.column.push(Default::default());
    column.kzg_proofs.push(Default::default());
    vec![
        (
            GossipKind::BlsToExecutionChange,
            serialize(&change).unwrap(),
        ),
        (
            GossipKind::DataColumnSidecar(5),
            serialize(&column).unwrap(),
        ),
    ]
}
