//! Real discv5 nodes on loopback UDP.

use std::collections::HashSet;

use crate::common::{OTHER_EPOCH, OUR_EPOCH, id, node, query_until};
use futures::future::join_all;
use pheme_discovery::{Attnets, PeerInfo, PeerPredicate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_find_each_other_through_one_bootnode() {
    let boot = node(OUR_EPOCH, vec![], Attnets::EMPTY).await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(node(OUR_EPOCH, vec![boot.local_enr()], Attnets::EMPTY).await);
    }
    let all: HashSet<_> = nodes.iter().map(id).chain([id(&boot)]).collect();
    let searches = nodes.iter().map(|n| {
        let others: HashSet<_> = all.iter().copied().filter(|x| *x != id(n)).collect();
        async move {
            let found = query_until(
                n,
                &PeerPredicate::any(),
                |p: &PeerInfo| assert_ne!(p.node_id, id(n)),
                |found| others.is_subset(found),
            )
            .await;
            // Returned peers carry the libp2p identity of their key.
            assert_eq!(found.len(), 3);
        }
    });
    join_all(searches).await;
    for n in &nodes {
        let m = n.metrics();
        assert!(m.queries >= 1);
        assert!(m.peers_found >= 3);
        assert_eq!(m.filtered_fork_digest, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_another_fork_digest_is_never_returned() {
    let boot = node(OUR_EPOCH, vec![], Attnets::EMPTY).await;
    let foreign = node(OTHER_EPOCH, vec![boot.local_enr()], Attnets::ALL).await;
    let a = node(OUR_EPOCH, vec![boot.local_enr()], Attnets::EMPTY).await;
    let b = node(OUR_EPOCH, vec![boot.local_enr()], Attnets::EMPTY).await;
    assert_ne!(
        foreign.accepted_fork_digests(),
        a.accepted_fork_digests(),
        "the test needs two digests"
    );
    // The foreign node's own query introduces it to the bootnode; it keeps nobody.
    assert!(
        foreign
            .find_peers(&PeerPredicate::any(), 16)
            .await
            .unwrap()
            .is_empty()
    );
    b.find_peers(&PeerPredicate::any(), 16).await.unwrap();

    let ours = a.accepted_fork_digests();
    let wanted: HashSet<_> = [id(&boot), id(&b)].into();
    let foreign_id = id(&foreign);
    query_until(
        &a,
        &PeerPredicate::any(),
        |p| {
            assert_ne!(p.node_id, foreign_id, "foreign-digest peer returned");
            assert!(ours.contains(&p.fork_digest().unwrap()));
        },
        |found| wanted.is_subset(found) && a.metrics().filtered_fork_digest >= 1,
    )
    .await;
    // The routing table holds the foreign node, but the cached view filters it out too.
    let cached = a.cached_peers(&PeerPredicate::any());
    assert!(cached.iter().all(|p| p.node_id != foreign_id));
    // Asking for the subnets only the foreign node has still returns nobody from it.
    let subnet = a
        .find_peers(&PeerPredicate::attnets(Attnets::ALL), 16)
        .await
        .unwrap();
    assert!(subnet.iter().all(|p| p.node_id != foreign_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subnet_predicate_returns_only_nodes_on_that_subnet() {
    let five = Attnets::from_subnets([5]).unwrap();
    let boot = node(OUR_EPOCH, vec![], Attnets::EMPTY).await;
    let on_five = node(OUR_EPOCH, vec![boot.local_enr()], five).await;
    let on_seven = node(
        OUR_EPOCH,
        vec![boot.local_enr()],
        Attnets::from_subnets([7]).unwrap(),
    )
    .await;
    let on_none = node(OUR_EPOCH, vec![boot.local_enr()], Attnets::EMPTY).await;
    for n in [&on_five, &on_seven, &on_none] {
        n.find_peers(&PeerPredicate::any(), 16).await.unwrap();
    }
    let q = node(OUR_EPOCH, vec![boot.local_enr()], Attnets::EMPTY).await;
    // First make sure the querier can reach everybody.
    let everyone: HashSet<_> = [&boot, &on_five, &on_seven, &on_none]
        .into_iter()
        .map(id)
        .collect();
    query_until(&q, &PeerPredicate::any(), |_| {}, |f| everyone.is_subset(f)).await;
    let five_id = id(&on_five);
    let found = query_until(
        &q,
        &PeerPredicate::attnets(five),
        |p| {
            assert!(p.attnets.contains(5), "peer without subnet 5 returned");
            assert_eq!(p.node_id, five_id);
        },
        |f| f.contains(&five_id),
    )
    .await;
    assert_eq!(found.len(), 1);
    assert!(q.metrics().filtered_predicate >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enr_update_bumps_seq_and_reaches_a_peer() {
    let boot = node(OUR_EPOCH, vec![], Attnets::EMPTY).await;
    let a = node(OUR_EPOCH, vec![boot.local_enr()], Attnets::EMPTY).await;
    let b = node(OUR_EPOCH, vec![boot.local_enr()], Attnets::EMPTY).await;
    let a_id = id(&a);
    a.find_peers(&PeerPredicate::any(), 16).await.unwrap();
    query_until(&b, &PeerPredicate::any(), |_| {}, |f| f.contains(&a_id)).await;

    let seq = a.enr_seq();
    let three = Attnets::from_subnets([3]).unwrap();
    assert!(a.set_attnets(three).unwrap());
    assert!(a.enr_seq() > seq);
    assert_eq!(a.local_fields().attnets, three);
    let seen = PeerInfo::from_enr_text(&a.local_enr_text()).unwrap();
    assert_eq!(seen.attnets, three);
    assert_eq!(seen.seq, a.enr_seq());
    // Setting the same value again changes nothing.
    let seq = a.enr_seq();
    assert!(!a.set_attnets(three).unwrap());
    assert_eq!(a.enr_seq(), seq);

    let new_seq = a.enr_seq();
    query_until(
        &b,
        &PeerPredicate::attnets(three),
        |p| {
            assert_eq!(p.node_id, a_id);
            assert!(p.seq >= new_seq);
        },
        |f| f.contains(&a_id),
    )
    .await;
}
