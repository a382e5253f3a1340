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
