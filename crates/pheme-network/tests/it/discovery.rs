//! Peers found through discv5 alone (no address given), and a node whose ENR, MetaData and
//! subscriptions say the same thing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use common::{chain, discovering_node, wait_for};
use pheme_network::Subnets;
use pheme_network::pheme_discovery::PeerInfo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_find_each_other_through_discovery_and_their_enrs_agree() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let boot = discovering_node(&chain, &[], Subnets::All).await;
    let boot_enr = wait_for(Duration::from_secs(10), || {
        let h = boot.handle.clone();
        async move { h.snapshot().await.unwrap().enr }
    })
    .await
    .expect("the bootnode's ENR");
    let a = discovering_node(
        &chain,
        std::slice::from_ref(&boot_enr),
        Subnets::Attestation(vec![2, 9]),
    )
    .await;
    let b = discovering_node(
        &chain,
        std::slice::from_ref(&boot_enr),
        Subnets::Attestation(vec![40]),
    )
    .await;
    // Nobody dials by address: a and b reach the bootnode and each other through discv5.
    let meshed = wait_for(Duration::from_secs(30), || {
        let hs = [boot.handle.clone(), a.handle.clone(), b.handle.clone()];
        async move {
            for h in hs {
                if h.snapshot().await.unwrap().peers < 2 {
                    return None;
                }
            }
            Some(())
        }
    })
    .await;
    assert!(
        meshed.is_some(),
        "discovery did not connect the three nodes"
    );

    // ENR = MetaData = subscriptions, for a node on two attestation subnets.
    let snap = wait_for(Duration::from_secs(10), || {
        let h = a.handle.clone();
        async move {
            let s = h.snapshot().await.unwrap();
            let info = PeerInfo::from_enr_text(s.enr.as_deref()?).ok()?;
            let attnets: Vec<u64> = info.attnets.iter().collect();
            (attnets == [2, 9]).then_some((s, info))
        }
    })
    .await;
    let (snap, info) = snap.expect("the ENR shows subnets 2 and 9");
    let meta_attnets: Vec<u64> = (0..64)
        .filter(|i| snap.metadata.attnets[*i as usize])
        .collect();
    assert_eq!(meta_attnets, [2, 9]);
    let subscribed: Vec<u64> = (0..64)
        .filter(|i| {
            snap.subscribed
                .iter()
                .any(|t| t.contains(&format!("/beacon_attestation_{i}/")))
        })
        .collect();
    assert_eq!(subscribed, [2, 9]);
    let syncnets: Vec<u64> = info.syncnets.iter().collect();
    assert_eq!(syncnets, [0, 1, 2, 3]);
    assert!((0..4).all(|i| snap.metadata.syncnets[i]));
    assert_eq!(
        info.custody_group_count,
        Some(snap.metadata.custody_group_count)
    );
    assert_eq!(info.fork_digest(), Some(snap.status.fork_digest));
    assert_eq!(info.peer_id, a.handle.local_peer_id());
}
