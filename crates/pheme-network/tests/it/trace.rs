//! `--trace`: one JSON line per received message, with the router's message-id, the first
//! sender, sizes, verdict and reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use common::{
    attestation, chain, listen_addr, next_slot_start, node, valid_messages, wait_for, wait_mesh,
};
use pheme_network::{NetworkConfig, NetworkEvent, Subnets, TraceWriter, spawn};
use pheme_spec::GossipKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_received_message_is_a_trace_line() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let dir = std::env::temp_dir().join(format!("pheme-trace-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace.jsonl");
    let (sink, writer) = TraceWriter::create(&path, 1024).unwrap();
    let config = NetworkConfig::builder(chain.clone())
        .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .subnets(Subnets::All)
        .ip_colocation_whitelist(vec!["127.0.0.1".parse().unwrap()])
        .trace(sink)
        .build()
        .unwrap();
    let (observer, mut events) = spawn(config, pheme_gossip::NoState, None).unwrap();
    let publisher = node(&chain).await;
    let addr = listen_addr(&observer).await;
    publisher.handle.dial(addr).await.unwrap();
    wait_mesh(&publisher.handle, "beacon_attestation").await;
    let slot = next_slot_start(&chain).await;
    let messages = valid_messages(&chain, slot, 3);
    let n_valid = messages.len();
    for (kind, ssz) in messages {
        publisher.handle.publish_ssz(kind, ssz).await.unwrap();
    }
    // And one invalid: committee 3 on subnet 6.
    publisher
        .handle
        .publish_ssz(
            GossipKind::BeaconAttestation(6),
            attestation(&chain, slot, 3, 77),
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    let got = wait_for(Duration::from_secs(10), || {
        while let Ok(e) = events.try_recv() {
            if let NetworkEvent::Gossip(g) = e {
                ids.push((hex::encode(g.outcome.message_id), g.outcome.reason));
            }
        }
        let done = ids.len() == n_valid + 1;
        async move { done.then_some(()) }
    })
    .await;
    assert!(got.is_some(), "got {ids:?}");
    observer.shutdown().await.unwrap();
    drop(events);
    // The validation task drops its sink when the service ends.
    tokio::task::spawn_blocking(move || writer.finish())
        .await
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), n_valid + 1, "{text}");
    let publisher_id = publisher.handle.local_peer_id().to_string();
    for (line, (id, reason)) in lines.iter().zip(&ids) {
        assert_eq!(line["message_id"], *id);
        assert_eq!(line["reason"], *reason);
        assert_eq!(line["source"], publisher_id);
        assert!(line["wire_bytes"].as_u64().unwrap() > 0);
        assert!(line["arrival_ms"].as_u64().unwrap() <= line["verdict_ms"].as_u64().unwrap());
    }
    let rejected = lines.iter().filter(|l| l["verdict"] == "reject").count();
    assert_eq!(rejected, 1);
    assert_eq!(lines.last().unwrap()["reason"], "wrong_subnet");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A gossipsub peer that publishes whatever bytes it is given.
fn garbage_publisher() -> libp2p::Swarm<common::RawGossipsub> {
    use libp2p::{noise, tcp, yamux};
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| common::raw_gossipsub())
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_the_transform_refuses_is_recorded_with_its_reason() {
    use futures::StreamExt;
    use libp2p::gossipsub;
    let chain = chain(2_000, 32, 40, 0, &[]);
    let dir = std::env::temp_dir().join(format!("pheme-garbage-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace.jsonl");
    let (sink, writer) = TraceWriter::create(&path, 1024).unwrap();
    // One attestation subnet keeps the node's first RPC small.
    let config = common::node_config(&chain)
        .subnets(Subnets::Attestation(vec![3]))
        .trace(sink)
        .build()
        .unwrap();
    let (observer, mut events) = spawn(config, pheme_gossip::NoState, None).unwrap();
    let addr = listen_addr(&observer).await;
    let topic = observer
        .snapshot()
        .await
        .unwrap()
        .subscribed
        .into_iter()
        .find(|t| t.contains("/beacon_attestation_3/"))
        .unwrap();
    let mut garbage = garbage_publisher();
    let hash = gossipsub::IdentTopic::new(topic.clone());
    garbage.behaviour_mut().subscribe(&hash).unwrap();
    garbage.dial(addr).unwrap();
    // Wait for the observer's subscription to reach the publisher.
    let subscribed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let libp2p::swarm::SwarmEvent::Behaviour(gossipsub::Event::Subscribed {
                topic: t,
                ..
            }) = garbage.select_next_some().await
                && t.as_str() == topic
            {
                break;
            }
        }
    });
    subscribed
        .await
        .expect("the node's subscription reached the publisher");
    // A SingleAttestation is 240 bytes; each of these fails the bounded snappy transform.
    let mut corrupt = common::varint(240);
    corrupt.extend_from_slice(&[0xfe, 0xff, 0xff, 0x01]);
    corrupt.extend(vec![0u8; 32]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0xff; 11], "bad_snappy_preamble"),
        (
            pheme_codec::compress_block(&[0u8; 241]),
            "ssz_size_out_of_bounds",
        ),
        (corrupt, "corrupt_snappy"),
        (common::bytes(9, 4_000), "compressed_too_large"),
    ];
    for (data, _) in &cases {
        garbage
            .behaviour_mut()
            .publish(hash.clone(), data.clone())
            .unwrap();
    }
    let mut refused = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while refused.len() < cases.len() && tokio::time::Instant::now() < deadline {
        tokio::select! {
            _ = garbage.select_next_some() => {}
            e = events.recv() => if let Some(NetworkEvent::Gossip(g)) = e {
                refused.push((g.outcome.verdict, g.outcome.reason));
            },
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    let mut want: Vec<_> = cases
        .iter()
        .map(|(_, r)| (pheme_gossip::Verdict::Reject, *r))
        .collect();
    want.sort();
    refused.sort();
    assert_eq!(refused, want, "one REJECT event per garbage message");
    observer.shutdown().await.unwrap();
    drop(events);
    tokio::task::spawn_blocking(move || writer.finish())
        .await
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<(String, String, bool)> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|l| {
            (
                l["stage"].as_str().unwrap().to_owned(),
                l["reason"].as_str().unwrap().to_owned(),
                // The invalid-snappy message-id, where the transform computed one.
                l["message_id"].as_str().is_some_and(|id| id.len() == 40),
            )
        })
        .collect();
    lines.sort();
    let mut expected: Vec<_> = cases
        .iter()
        .map(|(_, r)| ("transform".to_owned(), (*r).to_owned(), true))
        .collect();
    expected.sort();
    assert_eq!(lines, expected, "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}
