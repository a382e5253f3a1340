//! Honest nodes: real Pheme network services on loopback TCP, each with a task that reads its
//! events into the shared log and a counting metrics recorder for the duplicate counter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use libp2p::{Multiaddr, PeerId, identity::Keypair};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use pheme_gossip::Verdict;
use pheme_network::{Metrics, NetworkConfig, NetworkEvent, NetworkHandle, Subnets, spawn};
use pheme_spec::{ChainSpec, unix_now_ms};
use tokio::task::JoinHandle;

use crate::SimError;
use crate::scenario::SimConfig;

/// Counters only (gauges and histograms are dropped), kept per node.
#[derive(Debug, Default)]
pub(crate) struct CountingRecorder {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

impl CountingRecorder {
    /// The sum of every series of counter `name`.
    pub(crate) fn total(&self, name: &str) -> u64 {
        self.counters.lock().map_or(0, |m| {
            m.iter()
                .filter(|(k, _)| k.split('\0').next() == Some(name))
                .map(|(_, v)| v.load(Ordering::Relaxed))
                .sum()
        })
    }
}

impl Recorder for CountingRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        // One atomic per series; series of the same name are summed by `total`.
        let cell = Arc::new(AtomicU64::new(0));
        if let Ok(mut m) = self.counters.lock() {
            let mut name = key.name().to_owned();
            // Keep series apart while keying by name: suffix the labels after a NUL.
            for l in key.labels() {
                name.push('\0');
                name.push_str(l.value());
            }
            let cell = m.entry(name).or_insert(cell).clone();
            return Counter::from_arc(cell);
        }
        Counter::from_arc(cell)
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// What the event tasks record.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    /// (node, message-id, arrival unix ms) of every accepted message.
    pub receipts: Vec<(usize, Vec<u8>, u64)>,
    /// (node, peer, unix ms) of every ban.
    pub bans: Vec<(usize, PeerId, u64)>,
}

/// One honest node.
pub(crate) struct HonestNode {
    pub handle: NetworkHandle,
    pub addr: Multiaddr,
    pub recorder: Arc<CountingRecorder>,
    pub events: JoinHandle<()>,
}

/// A secp256k1 key from the seed, so peer ids repeat from run to run.
pub(crate) fn seeded_keypair(seed: u64, role: u64, index: usize) -> Result<Keypair, SimError> {
    let mut bytes = crate::fixtures::bytes(
        seed.wrapping_mul(1_000_003) ^ (role << 40) ^ index as u64,
        32,
    );
    // Keep the scalar below the curve order: a zero top byte suffices.
    bytes[0] = 0;
    bytes[31] |= 1;
    let secret = libp2p::identity::secp256k1::SecretKey::try_from_bytes(&mut bytes)
        .map_err(|e| SimError::Key(e.to_string()))?;
    Ok(libp2p::identity::secp256k1::Keypair::from(secret).into())
}

/// Starts honest node `index` and the task that reads its events into `log`.
pub(crate) async fn start(
    chain: &ChainSpec,
    cfg: &SimConfig,
    index: usize,
    log: Arc<Mutex<EventLog>>,
) -> Result<HonestNode, SimError> {
    let recorder = Arc::new(CountingRecorder::default());
    let subnets: Vec<u64> = (0..cfg.slots_per_epoch.min(chain.attestation_subnet_count)).collect();
    let config = NetworkConfig::builder(chain.clone())
        .keypair(seeded_keypair(cfg.seed, 1, index)?)
        .listen("/ip4/127.0.0.1/tcp/0".parse()?)
        .target_peers(target_peers(cfg))
        .subnets(Subnets::Attestation(subnets))
        .active_validators(cfg.active_validators)
        .profile(cfg.profile)
        .scoring(cfg.scoring)
        .ip_colocation_whitelist(vec![std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)])
        .metrics(Metrics::new(Some(recorder.clone())))
        .build()?;
    let (handle, mut events) = spawn(config, pheme_gossip::NoState, None)?;
    let addr = listen_addr(&handle).await?;
    let events = tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            record(&log, index, e);
        }
    });
    Ok(HonestNode {
        handle,
        addr,
        recorder,
        events,
    })
}

fn record(log: &Mutex<EventLog>, index: usize, e: NetworkEvent) {
    let Ok(mut log) = log.lock() else { return };
    match e {
        NetworkEvent::Gossip(g) if g.outcome.verdict == Verdict::Accept => {
            log.receipts
                .push((index, g.outcome.message_id.to_vec(), g.arrival_ms));
        }
        NetworkEvent::PeerBanned { peer, .. } => log.bans.push((index, peer, unix_now_ms())),
        _ => {}
    }
}

async fn listen_addr(handle: &NetworkHandle) -> Result<Multiaddr, SimError> {
    for _ in 0..100 {
        if let Some(a) = handle.snapshot().await?.listen.first() {
            return Ok(a.clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Err(SimError::NoListenAddr)
}

/// Waits until every node has at least `min` connected peers, or `timeout` passes; returns the
/// smallest peer count seen last.
pub(crate) async fn wait_peers(
    nodes: &[HonestNode],
    min: usize,
    timeout: std::time::Duration,
) -> Result<usize, SimError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut least = usize::MAX;
        for n in nodes {
            least = least.min(n.handle.snapshot().await?.peers);
        }
        if least >= min || tokio::time::Instant::now() >= deadline {
            return Ok(if nodes.is_empty() { 0 } else { least });
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// An honest node's peer target: twice the Sybil connections an honest node gets on average,
/// plus room for its honest peers.
pub(crate) fn target_peers(cfg: &SimConfig) -> usize {
    cfg.sybils.max(1) * cfg.sybil_degree / cfg.honest.max(1) * 2 + 64
}

/// The connections an honest node accepts: its target and pheme-network's excess above it
/// (inbound connections past this are refused).
pub(crate) fn peer_limit(cfg: &SimConfig) -> usize {
    let target = target_peers(cfg);
    target + (target as f64 * pheme_network::DEFAULT_PEER_EXCESS).ceil() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_sums_series_of_a_counter() {
        let r = Arc::new(CountingRecorder::default());
        let m = Metrics::new(Some(r.clone()));
        m.absolute("pheme_gossip_duplicates_total", &[("kind", "a")], 5);
        m.absolute("pheme_gossip_duplicates_total", &[("kind", "b")], 2);
        m.count("other_total", &[], 9);
        assert_eq!(r.total("pheme_gossip_duplicates_total"), 7);
        assert_eq!(r.total("other_total"), 9);
    }
}
