//! Each peer's score broken into its components.
//!
//! With Pheme's router (the default) every component is the router's own: P1 to P7 per topic
//! and globally, summing to the score its decisions use ([`ScoreBreakdown::from_router`]); the
//! residual is zero.
//!
//! With libp2p-gossipsub (`RouterKind::Libp2p`), the router exposes a peer's total score only (`Behaviour::peer_score`); its
//! per-component report is crate-private. Pheme rebuilds the components it can observe with the
//! router's own formulas and parameters:
//!
//! - **P1** time in mesh: from the router's mesh membership, polled every tick (exact up to the
//!   polling interval; the router itself refreshes mesh time once per decay interval).
//! - **P2** first message deliveries: +1 (capped) for the peer that first delivered a message
//!   Pheme then ACCEPTed, decayed like the router does.
//! - **P4** invalid message deliveries: +1 for the peer that first delivered a message Pheme
//!   REJECTed, squared and weighted.
//! - **P5** application score: what the node set.
//! - **P6** IP colocation: from the remote addresses of established connections.
//!
//! The rest of the total (P3 mesh delivery deficits, P3b mesh failure penalties, P7 behaviour
//! penalties, the slow-peer penalty, and P4 counts for duplicates delivered while a message was
//! being validated or for messages the snappy transform refused) is not observable from outside
//! the router: it is reported as `residual = total - (P1 + P2 + P4 + P5 + P6)`.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use libp2p::PeerId;
use libp2p::gossipsub::{PeerScoreParams, TopicHash};
use serde::Serialize;

/// One topic's observable components for a peer, already multiplied by their weights and the
/// topic weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicComponents {
    /// The topic string.
    pub topic: String,
    /// P1, time in mesh.
    pub p1: f64,
    /// P2, first message deliveries.
    pub p2: f64,
    /// P3, mesh message delivery deficit (Pheme's router only).
    pub p3: f64,
    /// P3b, mesh failure penalty (Pheme's router only).
    pub p3b: f64,
    /// P4, invalid message deliveries.
    pub p4: f64,
}

/// A peer's score and its components. Topic components are summed over topics, weighted by
/// topic weight; the topic score cap is applied to their sum as the router does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreBreakdown {
    /// The peer.
    #[serde(serialize_with = "ser_display")]
    pub peer: PeerId,
    /// The router's total.
    pub total: f64,
    /// P1 over all topics.
    pub p1: f64,
    /// P2 over all topics.
    pub p2: f64,
    /// P3 over all topics (0 with libp2p-gossipsub, whose P3 is in the residual).
    pub p3: f64,
    /// P3b over all topics (0 with libp2p-gossipsub).
    pub p3b: f64,
    /// P4 over all topics (as Pheme saw it).
    pub p4: f64,
    /// How much the topic score cap removed from P1 + P2 + P4.
    pub topic_cap_cut: f64,
    /// P5, application score times its weight.
    pub p5: f64,
    /// P6, IP colocation.
    pub p6: f64,
    /// P7, behaviour penalty (0 with libp2p-gossipsub).
    pub p7: f64,
    /// Total minus the components above: 0 with Pheme's router (up to rounding); with
    /// libp2p-gossipsub P3, P3b, P7, the slow-peer penalty and unseen P4.
    pub residual: f64,
    /// Per topic, the topics where any component is non-zero.
    pub topics: Vec<TopicComponents>,
}

impl ScoreBreakdown {
    /// The breakdown Pheme's router gives, every component its own.
    pub fn from_router(b: &pheme_router::ScoreBreakdown) -> Self {
        let weighted = |f: fn(&pheme_router::TopicTerms) -> f64| b.topic_term(f);
        let topics = b
            .topics
            .iter()
            .map(|t| TopicComponents {
                topic: t.topic.clone(),
                p1: t.terms.p1 * t.weight,
                p2: t.terms.p2 * t.weight,
                p3: t.terms.p3 * t.weight,
                p3b: t.terms.p3b * t.weight,
                p4: t.terms.p4 * t.weight,
            })
            .collect();
        let mut out = ScoreBreakdown {
            peer: b.peer,
            total: b.score,
            p1: weighted(|t| t.p1),
            p2: weighted(|t| t.p2),
            p3: weighted(|t| t.p3),
            p3b: weighted(|t| t.p3b),
            p4: weighted(|t| t.p4),
            topic_cap_cut: b.topic_cap_cut,
            p5: b.p5,
            p6: b.p6,
            p7: b.p7,
            residual: 0.0,
            topics,
        };
        out.residual = out.total - out.sum_of_components();
        out
    }

    /// P1 + P2 + P3 + P3b + P4 - cap cut + P5 + P6 + P7.
    pub fn sum_of_components(&self) -> f64 {
        self.p1 + self.p2 + self.p3 + self.p3b + self.p4 - self.topic_cap_cut
            + self.p5
            + self.p6
            + self.p7
    }
}

/// Serialises anything displayable (peer ids, multiaddrs) as its text.
pub(crate) fn ser_display<T: std::fmt::Display, S: serde::Serializer>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

#[derive(Debug, Default)]
struct TopicStats {
    mesh_since: Option<Instant>,
    first_deliveries: f64,
    invalid_deliveries: f64,
}

#[derive(Debug, Default)]
struct PeerStats {
    ips: HashSet<IpAddr>,
    connections: usize,
    app_score: f64,
    topics: HashMap<TopicHash, TopicStats>,
}

/// Tracks what the router's score is made of, from what Pheme sees.
#[derive(Debug)]
pub struct ScoreTracker {
    params: PeerScoreParams,
    peers: HashMap<PeerId, PeerStats>,
    peers_by_ip: HashMap<IpAddr, HashSet<PeerId>>,
    last_decay: Instant,
}

impl ScoreTracker {
    /// A tracker using the router's parameters.
    pub fn new(params: PeerScoreParams) -> Self {
        Self {
            params,
            peers: HashMap::new(),
            peers_by_ip: HashMap::new(),
            last_decay: Instant::now(),
        }
    }

    /// Replaces the topic parameters (after a re-derivation).
    pub fn set_topic_params(&mut self, params: &PeerScoreParams) {
        self.params.topics = params.topics.clone();
    }

    /// A connection to `peer` from `ip` was established.
    pub fn connected(&mut self, peer: PeerId, ip: Option<IpAddr>) {
        let stats = self.peers.entry(peer).or_default();
        stats.connections += 1;
        if let Some(ip) = ip {
            stats.ips.insert(ip);
            self.peers_by_ip.entry(ip).or_default().insert(peer);
        }
    }

    /// The last connection to `peer` closed: its stats go (the router keeps them for
    /// `retain_score`, but an absent peer has no score to show).
    pub fn disconnected(&mut self, peer: &PeerId) {
        let Some(stats) = self.peers.get_mut(peer) else {
            return;
        };
        stats.connections = stats.connections.saturating_sub(1);
        if stats.connections > 0 {
            return;
        }
        if let Some(stats) = self.peers.remove(peer) {
            for ip in stats.ips {
                if let Some(set) = self.peers_by_ip.get_mut(&ip) {
                    set.remove(peer);
                    if set.is_empty() {
                        self.peers_by_ip.remove(&ip);
                    }
                }
            }
        }
    }

    /// The router's current mesh of `topic`.
    pub fn mesh(&mut self, topic: &TopicHash, members: &HashSet<PeerId>, now: Instant) {
        for (peer, stats) in &mut self.peers {
            let in_mesh = members.contains(peer);
            let t = stats.topics.entry(topic.clone()).or_default();
            match (in_mesh, t.mesh_since) {
                (true, None) => t.mesh_since = Some(now),
                (false, Some(_)) => t.mesh_since = None,
                _ => {}
            }
        }
    }

    /// Pheme's verdict on a message `peer` delivered first on `topic`.
    pub fn verdict(&mut self, peer: &PeerId, topic: &TopicHash, verdict: pheme_gossip::Verdict) {
        let Some(params) = self.params.topics.get(topic) else {
            return;
        };
        let cap = params.first_message_deliveries_cap;
        let Some(stats) = self.peers.get_mut(peer) else {
            return;
        };
        let t = stats.topics.entry(topic.clone()).or_default();
        match verdict {
            pheme_gossip::Verdict::Accept => {
                t.first_deliveries = (t.first_deliveries + 1.0).min(cap);
            }
            pheme_gossip::Verdict::Reject => t.invalid_deliveries += 1.0,
            pheme_gossip::Verdict::Ignore => {}
        }
    }

    /// The application score the node set for `peer`.
    pub fn set_app_score(&mut self, peer: &PeerId, score: f64) {
        if let Some(stats) = self.peers.get_mut(peer) {
            stats.app_score = score;
        }
    }

    /// Applies the decays the router applies every decay interval, for each interval elapsed.
    pub fn decay(&mut self, now: Instant) {
        let interval = self.params.decay_interval.max(Duration::from_millis(1));
        let to_zero = self.params.decay_to_zero;
        while now.duration_since(self.last_decay) >= interval {
            self.last_decay += interval;
            for stats in self.peers.values_mut() {
                for (topic, t) in &mut stats.topics {
                    let Some(p) = self.params.topics.get(topic) else {
                        continue;
                    };
                    t.first_deliveries *= p.first_message_deliveries_decay;
                    if t.first_deliveries < to_zero {
                        t.first_deliveries = 0.0;
                    }
                    t.invalid_deliveries *= p.invalid_message_deliveries_decay;
                    if t.invalid_deliveries < to_zero {
                        t.invalid_deliveries = 0.0;
                    }
                }
            }
        }
    }

    /// The breakdown of `peer`'s score, given the router's `total`.
    pub fn breakdown(&self, peer: &PeerId, total: f64, now: Instant) -> ScoreBreakdown {
        let mut out = ScoreBreakdown {
            peer: *peer,
            total,
            p1: 0.0,
            p2: 0.0,
            p3: 0.0,
            p3b: 0.0,
            p4: 0.0,
            topic_cap_cut: 0.0,
            p5: 0.0,
            p6: 0.0,
            p7: 0.0,
            residual: 0.0,
            topics: Vec::new(),
        };
        let Some(stats) = self.peers.get(peer) else {
            out.residual = total;
            return out;
        };
        for (topic, t) in &stats.topics {
            let Some(p) = self.params.topics.get(topic) else {
                continue;
            };
            let p1 = t.mesh_since.map_or(0.0, |since| {
                let quantum = p.time_in_mesh_quantum.as_secs_f64().max(f64::MIN_POSITIVE);
                (now.duration_since(since).as_secs_f64() / quantum).min(p.time_in_mesh_cap)
                    * p.time_in_mesh_weight
            }) * p.topic_weight;
            let p2 = t.first_deliveries.min(p.first_message_deliveries_cap)
                * p.first_message_deliveries_weight
                * p.topic_weight;
            let p4 = t.invalid_deliveries
                * t.invalid_deliveries
                * p.invalid_message_deliveries_weight
                * p.topic_weight;
            if p1 != 0.0 || p2 != 0.0 || p4 != 0.0 {
                out.topics.push(TopicComponents {
                    topic: topic.to_string(),
                    p1,
                    p2,
                    p3: 0.0,
                    p3b: 0.0,
                    p4,
                });
            }
            out.p1 += p1;
            out.p2 += p2;
            out.p4 += p4;
        }
        out.topics.sort_by(|a, b| a.topic.cmp(&b.topic));
        let topic_sum = out.p1 + out.p2 + out.p4;
        let cap = self.params.topic_score_cap;
        if cap > 0.0 && topic_sum > cap {
            out.topic_cap_cut = topic_sum - cap;
        }
        out.p5 = stats.app_score * self.params.app_specific_weight;
        for ip in &stats.ips {
            if self.params.ip_colocation_factor_whitelist.contains(ip) {
                continue;
            }
            let n = self.peers_by_ip.get(ip).map_or(0, HashSet::len) as f64;
            let threshold = self.params.ip_colocation_factor_threshold;
            if n > threshold {
                let surplus = n - threshold;
                out.p6 += surplus * surplus * self.params.ip_colocation_factor_weight;
            }
        }
        let observed = topic_sum - out.topic_cap_cut + out.p5 + out.p6;
        out.residual = total - observed;
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use libp2p::gossipsub::TopicScoreParams;

    fn params() -> (PeerScoreParams, TopicHash) {
        let topic = TopicHash::from_raw("/eth2/8c9f62fe/beacon_block/ssz_snappy");
        let mut p = PeerScoreParams {
            topic_score_cap: 10.0,
            app_specific_weight: 2.0,
            ip_colocation_factor_threshold: 2.0,
            ip_colocation_factor_weight: -5.0,
            decay_interval: Duration::from_secs(1),
            decay_to_zero: 0.01,
            ..Default::default()
        };
        p.topics.insert(
            topic.clone(),
            TopicScoreParams {
                topic_weight: 0.5,
                time_in_mesh_weight: 1.0,
                time_in_mesh_quantum: Duration::from_secs(1),
                time_in_mesh_cap: 4.0,
                first_message_deliveries_weight: 1.0,
                first_message_deliveries_decay: 0.5,
                first_message_deliveries_cap: 20.0,
                invalid_message_deliveries_weight: -10.0,
                invalid_message_deliveries_decay: 0.5,
                ..Default::default()
            },
        );
        (p, topic)
    }

    #[test]
    fn components_follow_the_router_formulas() {
        let (p, topic) = params();
        let mut t = ScoreTracker::new(p);
        let start = Instant::now();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let peers: Vec<PeerId> = (0..3).map(|_| PeerId::random()).collect();
        for peer in &peers {
            t.connected(*peer, Some(ip));
        }
        let a = peers[0];
        t.mesh(&topic, &HashSet::from([a]), start);
        for _ in 0..3 {
            t.verdict(&a, &topic, pheme_gossip::Verdict::Accept);
        }
        t.verdict(&a, &topic, pheme_gossip::Verdict::Reject);
        t.verdict(&a, &topic, pheme_gossip::Verdict::Reject);
        t.set_app_score(&a, 1.5);
        let b = t.breakdown(&a, 0.0, start + Duration::from_secs(2));
        assert_eq!(b.p1, 2.0 * 0.5);
        assert_eq!(b.p2, 3.0 * 0.5);
        assert_eq!(b.p4, 4.0 * -10.0 * 0.5);
        assert_eq!(b.p5, 3.0);
        // Three peers on one IP, threshold 2: surplus 1.
        assert_eq!(b.p6, -5.0);
        assert_eq!(b.residual, -(1.0 + 1.5 - 20.0 + 3.0 - 5.0));
        // Decay halves the counters each interval.
        t.decay(start + Duration::from_millis(1_500));
        let b = t.breakdown(&a, 0.0, start + Duration::from_secs(2));
        assert_eq!(b.p2, 1.5 * 0.5);
        assert_eq!(b.p4, 1.0 * -10.0 * 0.5);
        // Leaving the mesh ends P1; disconnection ends colocation.
        t.mesh(&topic, &HashSet::new(), start);
        t.disconnected(&peers[1]);
        let b = t.breakdown(&a, 0.0, start + Duration::from_secs(2));
        assert_eq!((b.p1, b.p6), (0.0, 0.0));
    }

    #[test]
    fn the_topic_cap_applies_to_the_sum() {
        let (p, topic) = params();
        let mut t = ScoreTracker::new(p);
        let a = PeerId::random();
        t.connected(a, None);
        for _ in 0..30 {
            t.verdict(&a, &topic, pheme_gossip::Verdict::Accept);
        }
        let now = Instant::now();
        t.mesh(&topic, &HashSet::from([a]), now);
        let b = t.breakdown(&a, 10.0, now + Duration::from_secs(10));
        // P1 = 4 * 0.5, P2 = 20 * 0.5: 12 capped to 10.
        assert_eq!((b.p1, b.p2, b.topic_cap_cut), (2.0, 10.0, 2.0));
        assert_eq!(b.residual, 0.0);
    }
}
