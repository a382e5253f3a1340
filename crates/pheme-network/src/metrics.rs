//! Pheme's own metrics, recorded on a `metrics::Recorder` the node hands in (never the global
//! one), named after Prometheus conventions (`pheme_` prefix, `_total` counters, base units).
//!
//! The router's own metrics (libp2p-gossipsub and the swarm) are prometheus-client metrics in the
//! registry given to [`crate::NetworkConfig`]; an exporter renders both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder};

/// A recorder shared by the service's tasks.
pub type SharedRecorder = Arc<dyn Recorder + Send + Sync>;

/// Counter, gauge and histogram handles, registered once per name and label set.
#[derive(Clone)]
pub struct Metrics {
    recorder: Option<SharedRecorder>,
    counters: Arc<Mutex<HashMap<Key, Counter>>>,
    gauges: Arc<Mutex<HashMap<Key, Gauge>>>,
    histograms: Arc<Mutex<HashMap<Key, Histogram>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("enabled", &self.recorder.is_some())
            .finish()
    }
}

const METADATA: Metadata<'static> =
    Metadata::new("pheme::network", metrics::Level::INFO, Some(module_path!()));

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    let labels: Vec<Label> = labels
        .iter()
        .map(|(k, v)| Label::new(*k, v.to_string()))
        .collect();
    Key::from_parts(name, labels)
}

/// Metric names and their help texts, one table for registration and documentation.
pub const DESCRIPTIONS: &[(&str, &str)] = &[
    (
        "pheme_gossip_messages_total",
        "Gossip messages validated, by topic kind, verdict and reason",
    ),
    (
        "pheme_gossip_bytes_total",
        "Bytes on the wire of validated gossip messages, by topic kind",
    ),
    (
        "pheme_gossip_duplicates_total",
        "Copies of already-received gossip messages, by topic kind",
    ),
    (
        "pheme_gossip_transform_refused_total",
        "Gossip messages the bounded snappy transform refused, by topic kind",
    ),
    (
        "pheme_gossip_decompressions_total",
        "Snappy decompressions of gossip (a copy of a recent message costs none)",
    ),
    (
        "pheme_gossip_message_ids_computed_total",
        "Gossip message-ids computed with SHA-256 (a copy of a recent message reuses its id)",
    ),
    (
        "pheme_gossip_queue_dropped_total",
        "Gossip messages IGNOREd without validation, by reason (queue_full, validation_stopped)",
    ),
    (
        "pheme_gossip_validation_seconds",
        "Time from the first copy reaching the transform to the verdict, by topic kind",
    ),
    ("pheme_peers", "Connected peers, by direction"),
    (
        "pheme_mesh_peers",
        "Mesh peers, by topic kind (summed over subnets)",
    ),
    ("pheme_topics_subscribed", "Subscribed gossip topics"),
    (
        "pheme_peer_score",
        "Distribution of connected peers' gossipsub scores",
    ),
    (
        "pheme_peer_score_component",
        "Sum over connected peers of each score component (p1..p7, residual, topic_cap_cut)",
    ),
    (
        "pheme_peer_score_by_peer",
        "Each connected peer's score and components (series of gone peers expire)",
    ),
    (
        "pheme_rpc_requests_total",
        "Req/resp requests, by protocol, direction and result",
    ),
    (
        "pheme_discovery_peers_found_total",
        "Peers found by discovery, by outcome",
    ),
    ("pheme_discovery_queries_total", "Discovery queries run"),
    ("pheme_dials_total", "Outbound dials, by outcome"),
    ("pheme_goodbyes_sent_total", "Goodbyes sent, by reason"),
    ("pheme_peers_banned_total", "Peers banned, by reason"),
    (
        "pheme_peers_filtered_total",
        "Peers dropped by the agent filter, by reason (agent, unidentified)",
    ),
    ("pheme_trace_records_dropped_total", "Trace records dropped"),
    (
        "pheme_router_control_trace_dropped_total",
        "Control records Pheme's router dropped because the observer did not drain them in time",
    ),
    (
        "pheme_observer_rows_total",
        "Rows in complete Parquet files, by table (pheme observe --out-dir)",
    ),
    (
        "pheme_observer_open_rows",
        "Rows in open Parquet files and their builders, by table: what a crash now would lose",
    ),
    (
        "pheme_observer_lost_rows_total",
        "Rows lost to Parquet write errors, by table",
    ),
    (
        "pheme_observer_records_dropped_total",
        "Observer records dropped because a writer's queue was full, by table",
    ),
    (
        "pheme_observer_capture_dropped_total",
        "Captured payloads not kept because the hour's byte budget was spent",
    ),
    (
        "pheme_events_dropped_total",
        "Events dropped because the node did not read them",
    ),
    (
        "pheme_router_frames_total",
        "Gossipsub frames (RPCs) Pheme's router read and wrote, by direction",
    ),
    (
        "pheme_router_bytes_total",
        "Gossipsub frame bytes Pheme's router read and wrote, by direction",
    ),
    (
        "pheme_router_frames_refused_total",
        "Inbound frames refused whole (oversized, malformed, over a limit)",
    ),
    (
        "pheme_router_messages_total",
        "Messages through Pheme's router, by event (received, duplicate, validated, accepted, forwarded, ...)",
    ),
    (
        "pheme_router_dropped_total",
        "Sends and RPCs Pheme's router dropped, by reason (queue_full, stale, idontwant_cancelled, idontwant_skipped, graylisted_rpc)",
    ),
    (
        "pheme_router_control_total",
        "Control messages (GRAFT, PRUNE, IHAVE, IWANT, IDONTWANT), by kind and direction",
    ),
    (
        "pheme_router_broken_promises_total",
        "IWANT promises peers did not keep (each a P7 penalty)",
    ),
    (
        "pheme_router_queued_messages",
        "Messages waiting in Pheme's router's per-peer queues",
    ),
    (
        "pheme_router_frames_in_flight",
        "Frames handed to connections and not yet written",
    ),
    ("pheme_router_seen_ids", "Message-ids in the seen cache"),
    (
        "pheme_router_message_records",
        "Recent messages the router keeps records of (deliveries, verdicts, mcache)",
    ),
    (
        "pheme_router_retained_scores",
        "Scores of disconnected peers retained",
    ),
];

/// Counters whose label sets are known in advance, registered at zero when the service starts:
/// Prometheus shows a counter that has not moved yet as 0 (and `rate()` over it as 0) instead of
/// no series at all, so a dashboard panel reads "none" rather than "no data".
const ZERO_SERIES: &[(&str, &[(&str, &str)])] = &[
    (
        "pheme_gossip_queue_dropped_total",
        &[("reason", "queue_full")],
    ),
    (
        "pheme_gossip_queue_dropped_total",
        &[("reason", "validation_stopped")],
    ),
    ("pheme_trace_records_dropped_total", &[]),
    ("pheme_events_dropped_total", &[]),
    ("pheme_peers_banned_total", &[("reason", "graylisted")]),
    ("pheme_peers_banned_total", &[("reason", "rpc_strikes")]),
    ("pheme_peers_filtered_total", &[("reason", "agent")]),
    ("pheme_peers_filtered_total", &[("reason", "unidentified")]),
    // The goodbye codes Pheme sends: client shutdown, irrelevant network, fault, bad score.
    ("pheme_goodbyes_sent_total", &[("reason", "1")]),
    ("pheme_goodbyes_sent_total", &[("reason", "2")]),
    ("pheme_goodbyes_sent_total", &[("reason", "3")]),
    ("pheme_goodbyes_sent_total", &[("reason", "250")]),
    ("pheme_dials_total", &[("outcome", "started")]),
    ("pheme_dials_total", &[("outcome", "refused")]),
    ("pheme_dials_total", &[("outcome", "error")]),
];

impl Metrics {
    /// Registers the counters of [`ZERO_SERIES`] (at zero: registering does not count).
    pub(crate) fn register_zeros(&self) {
        for (name, labels) in ZERO_SERIES {
            self.count(name, labels, 0);
        }
    }

    /// Metrics recorded on `recorder`; `None` records nothing.
    pub fn new(recorder: Option<SharedRecorder>) -> Self {
        if let Some(r) = &recorder {
            for (name, help) in DESCRIPTIONS {
                let name = metrics::KeyName::from_const_str(name);
                r.describe_counter(name.clone(), None, (*help).into());
                r.describe_gauge(name.clone(), None, (*help).into());
                r.describe_histogram(name, None, (*help).into());
            }
        }
        Self {
            recorder,
            counters: Arc::default(),
            gauges: Arc::default(),
            histograms: Arc::default(),
        }
    }

    /// Metrics that record nothing.
    pub fn disabled() -> Self {
        Self::new(None)
    }

    /// The handle for `name` and `labels`, registered on first use.
    fn handle<H: Clone>(
        &self,
        map: &Mutex<HashMap<Key, H>>,
        name: &'static str,
        labels: &[(&'static str, &str)],
        register: impl FnOnce(&dyn Recorder, &Key) -> H,
    ) -> Option<H> {
        let r = self.recorder.as_deref()?;
        let k = key(name, labels);
        let mut map = map.lock().ok()?;
        Some(map.entry(k).or_insert_with_key(|k| register(r, k)).clone())
    }

    /// The counter handle (registered on first use); `None` when metrics are off.
    pub(crate) fn counter(
        &self,
        name: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Option<Counter> {
        self.handle(&self.counters, name, labels, |r, k| {
            r.register_counter(k, &METADATA)
        })
    }

    /// Adds `n` to a counter.
    pub fn count(&self, name: &'static str, labels: &[(&'static str, &str)], n: u64) {
        if let Some(c) = self.counter(name, labels) {
            c.increment(n);
        }
    }

    /// Sets a counter to a total kept elsewhere (it only moves up).
    pub fn absolute(&self, name: &'static str, labels: &[(&'static str, &str)], n: u64) {
        if let Some(c) = self.counter(name, labels) {
            c.absolute(n);
        }
    }

    /// Sets a gauge.
    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)], v: f64) {
        let g = self.handle(&self.gauges, name, labels, |r, k| {
            r.register_gauge(k, &METADATA)
        });
        if let Some(g) = g {
            g.set(v);
        }
    }

    /// Records a histogram sample.
    pub fn observe(&self, name: &'static str, labels: &[(&'static str, &str)], v: f64) {
        if let Some(h) = self.histogram(name, labels) {
            h.record(v);
        }
    }

    /// The histogram handle (registered on first use); `None` when metrics are off.
    pub(crate) fn histogram(
        &self,
        name: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Option<Histogram> {
        self.handle(&self.histograms, name, labels, |r, k| {
            r.register_histogram(k, &METADATA)
        })
    }
}
