//! Fork transitions, runtime ENR updates and dual-stack sockets, on loopback discv5 nodes.

use std::collections::HashSet;

use crate::common::{id, node, node_on, query_until};
use pheme_discovery::{Attnets, Eth2Enr, PeerInfo, PeerPredicate, fork_digest_of};

/// Mainnet BPO1: the digest changes from Fulu's `cc2c5cdb` to `cb0d1acc` at this epoch.
const BPO1: u64 = 412_672;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_digest_is_accepted_within_the_transition_window() {
    let boot = node(BPO1 - 1, vec![], Attnets::EMPTY).await;
    // Two epochs before BPO1 (the default window): both digests are accepted.
    let q = node(BPO1 - 2, vec![boot.local_enr()], Attnets::EMPTY).await;
    let early = node(BPO1 + 1, vec![boot.local_enr()], Attnets::EMPTY).await;
    let late = node(BPO1 - 100, vec![boot.local_enr()], Attnets::EMPTY).await;
    // Three epochs before: only the current one.
    let strict = node(BPO1 - 3, vec![boot.local_enr()], Attnets::EMPTY).await;
    let digests: Vec<String> = q
        .accepted_fork_digests()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(digests, ["cc2c5cdb", "cb0d1acc"]);
    assert_eq!(strict.accepted_fork_digests().len(), 1);
    for n in [&early, &late, &strict] {
        n.find_peers(&PeerPredicate::any(), 16).await.unwrap();
    }
    let want: HashSet<_> = [&boot, &early, &late, &strict]
        .into_iter()
        .map(id)
        .collect();
    query_until(&q, &PeerPredicate::any(), |_| {}, |f| want.is_subset(f)).await;

    let early_id = id(&early);
    let rest: HashSet<_> = [&boot, &late, &q].into_iter().map(id).collect();
    query_until(
        &strict,
        &PeerPredicate::any(),
        |p| {
            assert_ne!(
                p.node_id, early_id,
                "next-digest peer returned outside the window"
            )
        },
        |f| rest.is_subset(f) && strict.metrics().filtered_fork_digest >= 1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_epoch_follows_the_digest_schedule() {
    let n = node(BPO1 - 10, vec![], Attnets::EMPTY).await;
    let before = n.local_enr();
    let id_before = before.eth2().unwrap().unwrap();
    assert_eq!(fork_digest_of(&id_before).to_string(), "cc2c5cdb");
    assert_eq!(id_before.next_fork_epoch, BPO1);
    assert_eq!(
        before.next_fork_digest().unwrap().unwrap().to_string(),
        "cb0d1acc"
    );
    // Within the same digest period nothing changes.
    let seq = n.enr_seq();
    assert!(!n.set_epoch(BPO1 - 5).unwrap());
    assert_eq!(n.enr_seq(), seq);
    assert_eq!(n.accepted_fork_digests().len(), 1);
    // Entering the window: same ENR, one more accepted digest.
    assert!(!n.set_epoch(BPO1 - 2).unwrap());
    assert_eq!(n.accepted_fork_digests().len(), 2);
    // Crossing BPO1: eth2 and nfd change, the sequence number grows.
    assert!(n.set_epoch(BPO1).unwrap());
    assert!(n.enr_seq() > seq);
    let after = PeerInfo::from_enr_text(&n.local_enr_text()).unwrap();
    assert_eq!(after.fork_digest().unwrap().to_string(), "cb0d1acc");
    assert_eq!(after.next_fork_digest.unwrap().to_string(), "8c9f62fe");
    assert_eq!(
        n.accepted_fork_digests(),
        vec![after.fork_digest().unwrap()]
    );
    assert_eq!(n.epoch(), BPO1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subnet_and_custody_updates_change_the_record() {
    let n = node(420_000, vec![], Attnets::EMPTY).await;
    let seq = n.enr_seq();
    let info = PeerInfo::from_enr(&n.local_enr()).unwrap();
    assert_eq!(info.custody_group_count, Some(4));
    assert!(n.set_custody_group_count(128).unwrap());
    assert!(n.set_syncnets(pheme_discovery::Syncnets::ALL).unwrap());
    assert!(n.set_custody_group_count(129).is_err());
    let info = PeerInfo::from_enr(&n.local_enr()).unwrap();
    assert_eq!(info.custody_group_count, Some(128));
    assert_eq!(info.syncnets, pheme_discovery::Syncnets::ALL);
    assert!(info.seq >= seq + 2);
    assert_eq!(n.metrics().enr_seq, info.seq);
}

fn ipv6_loopback_available() -> bool {
    std::net::UdpSocket::bind("[::1]:0").is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_stack_nodes_serve_ipv6_only_peers() {
    if !ipv6_loopback_available() {
        // Nothing to test on a host without IPv6; the service itself falls back to IPv4.
        eprintln!("no IPv6 loopback on this host");
        return;
    }
    let boot = node_on(420_000, vec![], true, true).await;
    let enr = boot.local_enr();
    assert!(enr.udp4_socket().is_some() && enr.udp6_socket().is_some());
    let info = PeerInfo::from_enr(&enr).unwrap();
    assert_eq!((info.tcp_addrs.len(), info.quic_addrs.len()), (2, 2));

    let other = node_on(420_000, vec![boot.local_enr()], true, true).await;
    other.find_peers(&PeerPredicate::any(), 16).await.unwrap();
    let v6_only = node_on(420_000, vec![boot.local_enr()], false, true).await;
    assert!(v6_only.local_enr().udp4_socket().is_none());
    let want: HashSet<_> = [id(&boot), id(&other)].into();
    query_until(
        &v6_only,
        &PeerPredicate::any(),
        |_| {},
        |f| want.is_subset(f),
    )
    .await;
}
