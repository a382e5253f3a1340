//! How the node's checks scale with `validation_concurrency`: a CPU-bound check (chained
//! SHA-256, no sleep, about the cost of a BLS verification) on every attestation, 600
//! attestations published by a peer on loopback, for N = 1, 2 and 4. The checks wait at a gate
//! until every attestation has arrived and queued, so what is timed is the checks draining
//! the queue, not the arrivals. Prints the checks per second and the ratio to N = 1.
//!
//! ```text
//! cargo run --release -p pheme-network --example check_throughput
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pheme_gossip::payload::mainnet::{Attestation, Payload};
use pheme_gossip::{Decision, GossipPayload, InboundMessage, StatefulValidator};
use pheme_network::{NetworkConfig, NetworkHandle, Subnets, spawn};
use pheme_spec::{ChainSpec, GossipKind, Network, unix_now_ms};
use pheme_types::mainnet::electra::SingleAttestation;
use sha2::{Digest, Sha256};

const MESSAGES: u64 = 600;
/// Chained SHA-256 rounds per check (about a millisecond in release).
const ROUNDS: usize = 10_000;

#[derive(Default)]
struct CpuBound {
    /// Closed until every message has arrived.
    open: AtomicBool,
    /// When each check finished.
    done: Mutex<Vec<Instant>>,
}

impl StatefulValidator for CpuBound {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        while !self.open.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut h: [u8; 32] = Sha256::digest(msg.message_id).into();
        for _ in 0..ROUNDS {
            h = Sha256::digest(h).into();
        }
        std::hint::black_box(h);
        if let Ok(mut d) = self.done.lock() {
            d.push(Instant::now());
        }
        Decision::Accept
    }
}

fn config(
    chain: &ChainSpec,
    concurrency: usize,
) -> Result<NetworkConfig, Box<dyn std::error::Error>> {
    Ok(NetworkConfig::builder(chain.clone())
        .listen("/ip4/127.0.0.1/tcp/0".parse()?)
        .subnets(Subnets::All)
        .ip_colocation_whitelist(vec!["127.0.0.1".parse()?])
        .validation_concurrency(concurrency)
        .validation_deadline(Duration::from_secs(60))
        .build()?)
}

async fn listen_addr(h: &NetworkHandle) -> Result<libp2p::Multiaddr, Box<dyn std::error::Error>> {
    for _ in 0..50 {
        if let Some(a) = h.snapshot().await?.listen.first() {
            return Ok(a.clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("no listen address".into())
}

/// Checks per second with `concurrency` checks at once.
async fn run(chain: &ChainSpec, concurrency: usize) -> Result<f64, Box<dyn std::error::Error>> {
    let checks = Arc::new(CpuBound::default());
    let (node, _events) = spawn(config(chain, concurrency)?, checks.clone(), None)?;
    let (peer, _peer_events) = spawn(config(chain, 1)?, pheme_gossip::NoState, None)?;
    peer.dial(listen_addr(&node).await?).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let slot = chain
        .clock()
        .slot_at_ms(unix_now_ms())
        .ok_or("before genesis")?;
    for attester in 0..MESSAGES {
        let mut a = SingleAttestation {
            committee_index: 3,
            attester_index: attester,
            ..Default::default()
        };
        a.data.slot = slot;
        a.data.target.epoch = chain.epoch_of(slot);
        let payload =
            GossipPayload::Mainnet(Payload::Attestation(Box::new(Attestation::Electra(a))));
        peer.publish(GossipKind::BeaconAttestation(3), payload)
            .await?;
    }
    // Every attestation arrives and waits for a check slot; then the gate opens.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start = Instant::now();
    checks.open.store(true, Ordering::Release);
    let deadline = start + Duration::from_secs(60);
    let (count, last) = loop {
        let (count, last) = {
            let d = checks.done.lock().map_err(|_| "poisoned")?;
            (d.len() as u64, d.last().copied())
        };
        if count >= MESSAGES || Instant::now() > deadline {
            break (count, last);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    peer.shutdown().await?;
    node.shutdown().await?;
    let span = last
        .ok_or("no check ran")?
        .duration_since(start)
        .as_secs_f64();
    Ok(count as f64 / span.max(1e-9))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let chain = Network::Mainnet.chain_spec()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{MESSAGES} attestations, {ROUNDS} SHA-256 rounds per check, {cores} cores");
    let mut base = None;
    for n in [1, 2, 4] {
        let rate = run(&chain, n).await?;
        let ratio = rate / *base.get_or_insert(rate);
        println!("validation_concurrency {n}: {rate:8.0} checks/s  ({ratio:.2}x of 1)");
    }
    Ok(())
}
