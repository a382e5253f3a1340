//! QUIC as well as TCP: two nodes that only share a QUIC address exchange gossip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use common::{chain, next_slot_start, start, valid_messages, wait_for, wait_mesh};
use pheme_gossip::Verdict;
use pheme_network::{NetworkConfig, NetworkEvent, Subnets};

fn quic_only(chain: &pheme_spec::ChainSpec) -> NetworkConfig {
    NetworkConfig::builder(chain.clone())
        .listen("/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap())
        .subnets(Subnets::Attestation(vec![]))
        .ip_colocation_whitelist(vec!["127.0.0.1".parse().unwrap()])
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_over_quic() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let a = start(quic_only(&chain)).await;
    let mut b = start(quic_only(&chain)).await;
    assert!(a.addr.to_string().contains("/quic-v1"), "{}", a.addr);
    b.handle.dial(a.addr.clone()).await.unwrap();
    wait_mesh(&a.handle, "beacon_block").await;
    let slot = next_slot_start(&chain).await;
    let (kind, block) = valid_messages(&chain, slot, 9).remove(0);
    a.handle.publish_ssz(kind, block).await.unwrap();
    let got = wait_for(Duration::from_secs(10), || {
        let mut accepted = false;
        while let Ok(e) = b.events.try_recv() {
            if let NetworkEvent::Gossip(g) = e {
                accepted |= g.outcome.verdict == Verdict::Accept;
            }
        }
        async move { accepted.then_some(()) }
    })
    .await;
    assert!(got.is_some(), "no block over QUIC");
}
