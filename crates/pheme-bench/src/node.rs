//! The node under load: one all-subnets Pheme network service, run by `pheme bench ingest-node`
//! in a process of its own (so its CPU time and resident memory are its own), talking to the
//! load generator over stdin and stdout, one JSON line each way.

use std::sync::Arc;

use libp2p::Multiaddr;
use pheme_gossip::{NoState, Verdict};
use pheme_network::{NetworkConfig, NetworkEvent, Subnets, spawn};
use pheme_spec::GossipKind;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::BenchError;
use crate::traffic::{BENCH_ACTIVE_VALIDATORS, bench_chain};

/// How the node is started.
#[derive(Debug, Clone)]
pub struct NodeArgs {
    /// Genesis of the bench chain (unix seconds).
    pub genesis_time: u64,
    /// Peers the node is to take.
    pub peers: usize,
    /// Peer scoring on.
    pub scoring: bool,
    /// The gossipsub router.
    pub router: pheme_network::RouterKind,
    /// Pheme's router's forward delay (`None`: the default).
    pub forward_delay: Option<std::time::Duration>,
    /// An observer's record sinks (`pheme bench ingest --out-dir`: the Parquet writers), to
    /// measure their cost.
    pub observer: Option<ObserverSinks>,
}

/// The sinks an observer's writers read (see `NetworkConfigBuilder::trace`, `control_trace`,
/// `peer_trace`).
#[derive(Debug, Clone)]
pub struct ObserverSinks {
    /// Message records.
    pub messages: pheme_network::TraceSink,
    /// Control records.
    pub control: pheme_network::RecordSink<pheme_network::ControlEvent>,
    /// Peer events.
    pub peers: pheme_network::RecordSink<pheme_network::PeerEvent>,
}

/// The node's first line: where to reach it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ready {
    /// Its peer id.
    pub peer_id: String,
    /// Its TCP listen address.
    pub addr: String,
}

/// Verdict latencies of one class of messages, microseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    /// Messages.
    pub count: u64,
    /// Median.
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Largest.
    pub max_us: u64,
}

impl Latency {
    fn of(samples: &mut [u32]) -> Self {
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples.get(i).copied().map_or(0, u64::from)
        };
        Latency {
            count: samples.len() as u64,
            p50_us: at(0.5),
            p99_us: at(0.99),
            max_us: samples.last().copied().map_or(0, u64::from),
        }
    }
}

/// What the node reports when asked.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NodeStats {
    /// Unique messages validated (every verdict).
    pub validated: u64,
    /// Of which accepted.
    pub accepted: u64,
    /// Of which IGNOREd.
    pub ignored: u64,
    /// Of which REJECTed.
    pub rejected: u64,
    /// First reason seen for a verdict other than ACCEPT, for the report.
    pub first_refusal: Option<String>,
    /// Verdict latency of every message.
    pub all: Latency,
    /// Of attestations.
    pub attestations: Latency,
    /// Of aggregates.
    pub aggregates: Latency,
    /// Of sync committee messages and contributions.
    pub sync: Latency,
    /// Of blocks.
    pub blocks: Latency,
    /// Copies of already-received messages the transform counted.
    pub duplicates: u64,
    /// Snappy decompressions run.
    pub decompressions: u64,
    /// SHA-256 message-ids computed.
    pub ids_computed: u64,
    /// Messages IGNOREd because the validation queue was full.
    pub queue_dropped: u64,
    /// Events the node's reader did not take in time.
    pub events_dropped: u64,
    /// Connected peers.
    pub peers: usize,
    /// The lowest peer score, with its residual (P3, P3b, P7 and the slow-peer penalty).
    pub min_score: (f64, f64),
    /// Peers with a negative score.
    pub negative_peers: usize,
    /// Frames the router wrote (Pheme's router only).
    pub frames_out: u64,
    /// Messages it queued to peers (forwards, publishes, IWANT answers).
    pub messages_out: u64,
    /// Message records, seen ids, and messages queued to peers, in Pheme's router now.
    pub router_tables: (u64, u64, u64),
}

/// Sum of every series of `name` in a Prometheus text rendering.
fn metric_sum(text: &str, name: &str) -> u64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// The value of the series of `name` whose labels contain `label`.
fn metric_one(text: &str, name: &str, label: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[derive(Default)]
struct Collected {
    verdicts: [u64; 3],
    first_refusal: Option<String>,
    all: Vec<u32>,
    attestations: Vec<u32>,
    aggregates: Vec<u32>,
    sync: Vec<u32>,
    blocks: Vec<u32>,
}

impl Collected {
    fn record(&mut self, kind: Option<GossipKind>, verdict: Verdict, reason: &str, us: u32) {
        let i = match verdict {
            Verdict::Accept => 0,
            Verdict::Ignore => 1,
            Verdict::Reject => 2,
        };
        self.verdicts[i] += 1;
        if verdict != Verdict::Accept && self.first_refusal.is_none() {
            self.first_refusal = Some(format!("{kind:?}: {reason}"));
        }
        self.all.push(us);
        let class = match kind {
            Some(GossipKind::BeaconAttestation(_)) => &mut self.attestations,
            Some(GossipKind::BeaconAggregateAndProof) => &mut self.aggregates,
            Some(GossipKind::SyncCommittee(_) | GossipKind::SyncCommitteeContributionAndProof) => {
                &mut self.sync
            }
            Some(GossipKind::BeaconBlock) => &mut self.blocks,
            _ => return,
        };
        class.push(us);
    }

    fn stats(&mut self) -> NodeStats {
        NodeStats {
            validated: self.verdicts.iter().sum(),
            accepted: self.verdicts[0],
            ignored: self.verdicts[1],
            rejected: self.verdicts[2],
            first_refusal: self.first_refusal.clone(),
            all: Latency::of(&mut self.all),
            attestations: Latency::of(&mut self.attestations),
            aggregates: Latency::of(&mut self.aggregates),
            sync: Latency::of(&mut self.sync),
            blocks: Latency::of(&mut self.blocks),
            ..NodeStats::default()
        }
    }
}

/// Runs the node until stdin closes: prints [`Ready`], then answers each `stats` line with
/// [`NodeStats`]. Meant for a single-threaded runtime: everything the node does (the swarm,
/// every connection, validation) then runs on one core.
pub async fn run_node(args: NodeArgs) -> Result<(), BenchError> {
    let chain = bench_chain(args.genesis_time)?;
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let prometheus = recorder.handle();
    let metrics = pheme_network::Metrics::new(Some(Arc::new(recorder)));
    let config = NetworkConfig::builder(chain)
        .listen("/ip4/127.0.0.1/tcp/0".parse::<Multiaddr>()?)
        .target_peers(args.peers)
        .max_peers(args.peers + 10)
        .subnets(Subnets::All)
        .active_validators(BENCH_ACTIVE_VALIDATORS)
        .scoring(args.scoring)
        .router(args.router)
        .forward_delay(
            args.forward_delay
                .unwrap_or(pheme_network::DEFAULT_FORWARD_DELAY),
        )
        // Every load peer dials from 127.0.0.1: on loopback, colocation says nothing.
        .ip_colocation_whitelist(vec![std::net::Ipv4Addr::LOCALHOST.into()])
        .metrics(metrics);
    let config = match args.observer {
        Some(o) => config
            .trace(o.messages)
            .control_trace(o.control)
            .peer_trace(o.peers),
        None => config,
    }
    .build()?;
    let peer_id = config.keypair().public().to_peer_id();
    let (handle, mut events) = spawn(config, NoState, None)?;
    let addr = loop {
        let snap = handle.snapshot().await?;
        if let Some(a) = snap.listen.first() {
            break a.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let mut out = tokio::io::stdout();
    let ready = Ready {
        peer_id: peer_id.to_string(),
        addr: addr.to_string(),
    };
    write_line(&mut out, &ready).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut collected = Collected::default();
    // Fold histogram samples into their buckets as a scraped node would (unscraped, the
    // recorder keeps every sample and the node's resident memory with it).
    let mut upkeep = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = upkeep.tick() => prometheus.run_upkeep(),
            event = events.recv() => match event {
                Some(NetworkEvent::Gossip(g)) => {
                    let us = u32::try_from(g.verdict_latency.as_micros()).unwrap_or(u32::MAX);
                    collected.record(g.outcome.kind, g.outcome.verdict, g.outcome.reason, us);
                }
                Some(_) => {}
                None => break,
            },
            line = lines.next_line() => match line? {
                Some(l) if l.trim() == "stats" => {
                    let text = prometheus.render();
                    let snap = handle.snapshot().await?;
                    let scores = handle.peer_scores().await?;
                    let min_score = scores
                        .iter()
                        .map(|b| (b.total, b.residual))
                        .fold((0.0, 0.0), |m, s| if s.0 < m.0 { s } else { m });
                    let negative_peers = scores.iter().filter(|b| b.total < 0.0).count();
                    let stats = NodeStats {
                        duplicates: metric_sum(&text, "pheme_gossip_duplicates_total"),
                        decompressions: metric_sum(&text, "pheme_gossip_decompressions_total"),
                        ids_computed: metric_sum(&text, "pheme_gossip_message_ids_computed_total"),
                        queue_dropped: metric_sum(&text, "pheme_gossip_queue_dropped_total"),
                        events_dropped: metric_sum(&text, "pheme_events_dropped_total"),
                        peers: snap.peers,
                        frames_out: metric_one(&text, "pheme_router_frames_total", "direction=\"out\""),
                        messages_out: metric_one(&text, "pheme_router_messages_total", "event=\"forwarded\""),
                        router_tables: (
                            metric_sum(&text, "pheme_router_message_records"),
                            metric_sum(&text, "pheme_router_seen_ids"),
                            metric_sum(&text, "pheme_router_queued_messages"),
                        ),
                        min_score,
                        negative_peers,
                        ..collected.stats()
                    };
                    write_line(&mut out, &stats).await?;
                }
                Some(_) => {}
                None => break,
            },
        }
    }
    handle.shutdown().await?;
    Ok(())
}

async fn write_line<T: Serialize>(
    out: &mut tokio::io::Stdout,
    value: &T,
) -> Result<(), BenchError> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    out.write_all(&line).await?;
    out.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_series_of_one_name() {
        let text = "# TYPE a counter\na{kind=\"x\"} 2\na{kind=\"y\"} 3\nab 7\na 1\n";
        assert_eq!(metric_sum(text, "a"), 6);
        assert_eq!(metric_sum(text, "ab"), 7);
        assert_eq!(metric_sum(text, "c"), 0);
    }

    #[test]
    fn percentiles() {
        let mut v: Vec<u32> = (1..=100).rev().collect();
        let l = Latency::of(&mut v);
        assert_eq!((l.count, l.p50_us, l.p99_us, l.max_us), (100, 51, 99, 100));
        assert_eq!(Latency::of(&mut []), Latency::default());
    }
}
