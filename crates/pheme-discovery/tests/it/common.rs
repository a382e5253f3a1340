//! Loopback discv5 nodes for the integration tests.

use std::collections::HashSet;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use pheme_discovery::{
    Attnets, Discovery, DiscoveryConfig, Enr, LocalIdentity, NodeId, PeerInfo, PeerPredicate,
};
use pheme_spec::{ChainSpec, Epoch};

/// After BPO2 on mainnet: no next digest change, so only one digest is accepted.
pub const OUR_EPOCH: Epoch = 420_000;
/// Electra on mainnet: another fork digest.
pub const OTHER_EPOCH: Epoch = 364_032;
/// The bound of every polling loop (each test stays under 20 s).
pub const DEADLINE: Duration = Duration::from_secs(15);

pub fn mainnet() -> Arc<ChainSpec> {
    Arc::new(pheme_spec::load_network("mainnet").unwrap())
}

/// A node on 127.0.0.1 with an ephemeral UDP port, short timeouts, the given bootnodes.
pub async fn node(epoch: Epoch, bootnodes: Vec<Enr>, attnets: Attnets) -> Discovery {
    let config = DiscoveryConfig::builder()
        .listen_v4(Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)))
        .listen_v6(None)
        .bootnodes(bootnodes)
        .attnets(attnets)
        .query_timeout(Duration::from_secs(3))
        .query_peer_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_millis(500))
        .ping_interval(Duration::from_secs(1))
        .enr_update(false)
        .build()
        .unwrap();
    Discovery::start(config, &LocalIdentity::generate(), mainnet(), epoch)
        .await
        .unwrap()
}

/// Runs `find_peers` until `done` holds for the union of everything found, or panics at
/// [`DEADLINE`]. Every result also goes through `check`.
pub async fn query_until(
    discovery: &Discovery,
    predicate: &PeerPredicate,
    mut check: impl FnMut(&PeerInfo),
    mut done: impl FnMut(&HashSet<NodeId>) -> bool,
) -> HashSet<NodeId> {
    let mut found = HashSet::new();
    let result = tokio::time::timeout(DEADLINE, async {
        loop {
            for peer in discovery.find_peers(predicate, 16).await.unwrap() {
                check(&peer);
                found.insert(peer.node_id);
            }
            if done(&found) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        result.is_ok(),
        "deadline passed; found {} peers: {found:?}",
        found.len()
    );
    found
}

/// Polls `cond` every 50 ms until it holds, or panics at [`DEADLINE`].
pub async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let ok = tokio::time::timeout(DEADLINE, async {
        while !cond().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(ok.is_ok(), "deadline passed waiting for {what}");
}

pub fn id(d: &Discovery) -> NodeId {
    d.local_enr().node_id()
}

/// A node listening on 127.0.0.1 and/or [::1] (ephemeral ports).
pub async fn node_on(epoch: Epoch, bootnodes: Vec<Enr>, v4: bool, v6: bool) -> Discovery {
    let config = DiscoveryConfig::builder()
        .listen_v4(v4.then(|| SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)))
        .listen_v6(v6.then(|| std::net::SocketAddrV6::new(std::net::Ipv6Addr::LOCALHOST, 0, 0, 0)))
        .bootnodes(bootnodes)
        .query_timeout(Duration::from_secs(3))
        .query_peer_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_millis(500))
        .ping_interval(Duration::from_secs(1))
        .enr_update(false)
        .build()
        .unwrap();
    Discovery::start(config, &LocalIdentity::generate(), mainnet(), epoch)
        .await
        .unwrap()
}
