//! What the service shows: its snapshot and the metrics published every tick.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use libp2p::PeerId;

use super::Service;
use crate::handle::{NetworkSnapshot, PeerSummary};

impl Service {
    pub(super) fn snapshot(&self) -> NetworkSnapshot {
        let mut mesh: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut mesh_by_topic = BTreeMap::new();
        for topic in &self.subscribed {
            if let Ok(t) = topic.parse::<pheme_codec::GossipTopic>() {
                let n = self.gs_mesh(topic).len();
                *mesh.entry(t.kind.base_name()).or_default() += n;
                mesh_by_topic.insert(topic.clone(), n);
            }
        }
        NetworkSnapshot {
            peers: self.peers.len(),
            outbound: self.peers.values().filter(|p| p.outbound).count(),
            mesh,
            topics: self.subscribed.len(),
            listen: self.swarm.listeners().cloned().collect(),
            banned: self.banned.len(),
            status: self.rpc.local.status,
            metadata: self.rpc.local.metadata.clone(),
            subscribed: self.subscribed.iter().map(|t| t.to_string()).collect(),
            cached_blocks: self.rpc.cache.len(),
            enr: self.enr.lock().ok().and_then(|e| e.clone()),
            mesh_by_topic,
            filtered: self.filtered.len(),
            partial: self
                .pheme_ref()
                .map(|r| {
                    let s = r.stats();
                    crate::handle::PartialTraffic {
                        received: s.partial_received,
                        bytes_received: s.partial_bytes_received,
                        sent: s.partial_sent,
                        bytes_sent: s.partial_bytes_sent,
                    }
                })
                .unwrap_or_default(),
        }
    }

    /// Every connected peer with its score components and the meshes it is in.
    pub(super) fn peer_summaries(&self, now: Instant) -> Vec<PeerSummary> {
        let mut meshes: HashMap<PeerId, Vec<String>> = HashMap::new();
        let mut topics: Vec<&String> = self.subscribed.iter().collect();
        topics.sort();
        for topic in topics {
            let Ok(t) = topic.parse::<pheme_codec::GossipTopic>() else {
                continue;
            };
            for p in self.gs_mesh(topic) {
                meshes.entry(p).or_default().push(t.kind.to_string());
            }
        }
        self.peers
            .iter()
            .map(|(peer, state)| PeerSummary {
                peer: *peer,
                agent: state.agent.clone(),
                outbound: state.outbound,
                addr: state.addr.clone(),
                connected_ms: state.since_ms,
                mesh: meshes.remove(peer).unwrap_or_default(),
                score: self.gs_breakdown(peer, now),
            })
            .collect()
    }

    pub(super) fn publish_metrics(&mut self, now: Instant) {
        let m = self.config.metrics.clone();
        let snap = self.snapshot();
        m.gauge(
            "pheme_peers",
            &[("direction", "outbound")],
            snap.outbound as f64,
        );
        m.gauge(
            "pheme_peers",
            &[("direction", "inbound")],
            (snap.peers - snap.outbound) as f64,
        );
        for (kind, n) in &snap.mesh {
            m.gauge("pheme_mesh_peers", &[("kind", kind)], *n as f64);
        }
        for (kind, n) in self.transform_counters.snapshot() {
            m.absolute("pheme_gossip_transform_refused_total", &[("kind", kind)], n);
        }
        for (kind, n) in self.transform_counters.duplicates() {
            m.absolute("pheme_gossip_duplicates_total", &[("kind", kind)], n);
        }
        let c = &self.transform_counters;
        m.absolute("pheme_gossip_decompressions_total", &[], c.decompressions());
        m.absolute(
            "pheme_gossip_message_ids_computed_total",
            &[],
            c.ids_computed(),
        );
        const COMPONENTS: [&str; 10] = [
            "p1",
            "p2",
            "p3",
            "p3b",
            "p4",
            "p5",
            "p6",
            "p7",
            "residual",
            "topic_cap_cut",
        ];
        let mut sums = [0.0f64; COMPONENTS.len()];
        for p in self.peers.keys() {
            let b = self.gs_breakdown(p, now);
            m.observe("pheme_peer_score", &[], b.total);
            let values = [
                b.p1,
                b.p2,
                b.p3,
                b.p3b,
                b.p4,
                b.p5,
                b.p6,
                b.p7,
                b.residual,
                b.topic_cap_cut,
            ];
            let peer = p.to_string();
            m.gauge(
                "pheme_peer_score_by_peer",
                &[("peer", &peer), ("component", "total")],
                b.total,
            );
            for ((component, v), sum) in COMPONENTS.iter().zip(values).zip(sums.iter_mut()) {
                if *component != "topic_cap_cut" {
                    m.gauge(
                        "pheme_peer_score_by_peer",
                        &[("peer", &peer), ("component", component)],
                        v,
                    );
                }
                *sum += v;
            }
        }
        for (name, v) in COMPONENTS.iter().zip(sums) {
            m.gauge("pheme_peer_score_component", &[("component", name)], v);
        }
        self.publish_router_metrics();
    }
}
