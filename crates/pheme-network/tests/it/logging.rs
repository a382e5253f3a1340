//! Log lines name their node: with several services in one process (tests, `pheme simulate`),
//! every line the service and its router write carries a `node{peer=...}` span, so one node's
//! GRAFT/PRUNE sequence can be pulled out of a shared log (`RUST_LOG="warn,[node]=debug"`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{chain, node, wait_for};

/// A `MakeWriter` that keeps everything written in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn each_nodes_lines_carry_its_peer_id() {
    let captured = Captured::default();
    let sink = captured.clone();
    // This thread's subscriber, not a global one: the other tests of this binary run in the
    // same process, and a current-thread runtime keeps both nodes' tasks on this thread.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "warn,pheme::network=debug,pheme::router=debug",
        ))
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    // tracing-core caches a callsite's interest process-wide. With exactly one `Dispatch` alive
    // it asks the default of whichever thread first reaches a callsite (tokio-rs/tracing#3611):
    // another test's node on another thread would cache `never` for the lines this test waits
    // for. A second live dispatch makes it ask every dispatch instead, so the cached interest
    // is `sometimes` and each event asks this thread's subscriber.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let chain = chain(2_000, 32, 40, 0, &[]);
    let a = node(&chain).await;
    let b = node(&chain).await;
    let (id_a, id_b) = (a.handle.local_peer_id(), b.handle.local_peer_id());
    a.handle.dial(b.addr.clone()).await.unwrap();

    // Both sides log the connection (the service) and the new gossipsub peer (Pheme's router).
    let seen = wait_for(Duration::from_secs(10), || {
        let text = captured.text();
        let done = [(id_a, id_b), (id_b, id_a)].iter().all(|(me, other)| {
            let ours: Vec<&str> = text
                .lines()
                .filter(|l| l.contains(&format!("node{{peer={me}}}")))
                .collect();
            ours.iter().any(|l| {
                l.contains("pheme::network::peers") && l.contains(&format!("peer={other}"))
            }) && ours
                .iter()
                .any(|l| l.contains("pheme::router::peers") && l.contains(&format!("peer={other}")))
        });
        async move { done.then_some(()) }
    })
    .await;
    assert!(
        seen.is_some(),
        "each node's connection lines carry its own peer id:\n{}",
        captured.text()
    );

    // No line of the router (mesh, GRAFT, PRUNE, penalties) is left without a node: the core
    // runs inside the behaviour, in the service's span. (Connection handlers run in the swarm's
    // connection tasks, whose spans libp2p roots itself.)
    let text = captured.text();
    let orphans: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("pheme::router") && !l.contains("node{peer="))
        .collect();
    assert!(
        orphans.is_empty(),
        "router lines outside a node span: {orphans:?}"
    );
    a.handle.shutdown().await.unwrap();
    b.handle.shutdown().await.unwrap();
}
