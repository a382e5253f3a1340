//! Peer scoring exactly as gossipsub v1.1 defines it ("The Score Function"): per topic P1 time
//! in mesh, P2 first deliveries, P3 mesh delivery deficit, P3b mesh failure penalty, P4 invalid
//! deliveries; globally P5 application score, P6 IP colocation, P7 behaviour penalty.
//!
//! A peer's counters live in [`PeerStats`]; its score is kept as a cached sum that every change
//! updates by the difference it makes to one topic's term, and that the heartbeat recomputes
//! from scratch, so a threshold check is a field read, never a walk over the peer's topics.
//! [`ScoreBreakdown`] gives every component, per topic, summing to the cached score.

use std::time::{Duration, Instant};

use libp2p_identity::PeerId;

use crate::config::{PeerScoreParams, TopicScoreParams};

/// One peer's counters on one topic.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct TopicStats {
    pub in_mesh: bool,
    pub graft_time: Option<Instant>,
    pub mesh_time: Duration,
    pub first_message_deliveries: f64,
    pub mesh_message_deliveries: f64,
    pub mesh_message_deliveries_active: bool,
    pub mesh_failure_penalty: f64,
    pub invalid_message_deliveries: f64,
}

/// The weighted terms of one topic.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TopicTerms {
    /// P1 x weight.
    pub p1: f64,
    /// P2 x weight.
    pub p2: f64,
    /// P3 x weight (<= 0).
    pub p3: f64,
    /// P3b x weight (<= 0).
    pub p3b: f64,
    /// P4 x weight (<= 0).
    pub p4: f64,
}

impl TopicTerms {
    /// The topic's score before its topic weight.
    pub fn sum(&self) -> f64 {
        self.p1 + self.p2 + self.p3 + self.p3b + self.p4
    }
}

impl TopicStats {
    /// The weighted terms under `p`.
    pub(crate) fn terms(&self, p: &TopicScoreParams) -> TopicTerms {
        let mut t = TopicTerms::default();
        if self.in_mesh && !p.time_in_mesh_quantum.is_zero() {
            let quanta = self.mesh_time.as_secs_f64() / p.time_in_mesh_quantum.as_secs_f64();
            t.p1 = quanta.min(p.time_in_mesh_cap) * p.time_in_mesh_weight;
        }
        t.p2 = self.first_message_deliveries * p.first_message_deliveries_weight;
        if self.mesh_message_deliveries_active
            && self.mesh_message_deliveries < p.mesh_message_deliveries_threshold
        {
            let deficit = p.mesh_message_deliveries_threshold - self.mesh_message_deliveries;
            t.p3 = deficit * deficit * p.mesh_message_deliveries_weight;
        }
        t.p3b = self.mesh_failure_penalty * p.mesh_failure_penalty_weight;
        t.p4 = self.invalid_message_deliveries
            * self.invalid_message_deliveries
            * p.invalid_message_deliveries_weight;
        t
    }

    /// The topic's contribution to the score: its terms times the topic weight.
    pub(crate) fn value(&self, p: &TopicScoreParams) -> f64 {
        self.terms(p).sum() * p.topic_weight
    }

    /// The mesh delivery deficit, squared, if P3 is active and short (for P3b).
    pub(crate) fn deficit_squared(&self, p: &TopicScoreParams) -> f64 {
        if self.mesh_message_deliveries_active
            && self.mesh_message_deliveries < p.mesh_message_deliveries_threshold
        {
            let d = p.mesh_message_deliveries_threshold - self.mesh_message_deliveries;
            d * d
        } else {
            0.0
        }
    }

    fn decay(&mut self, p: &TopicScoreParams, to_zero: f64) {
        let d = |v: &mut f64, factor: f64| {
            *v *= factor;
            if *v < to_zero {
                *v = 0.0;
            }
        };
        d(
            &mut self.first_message_deliveries,
            p.first_message_deliveries_decay,
        );
        d(
            &mut self.mesh_message_deliveries,
            p.mesh_message_deliveries_decay,
        );
        d(&mut self.mesh_failure_penalty, p.mesh_failure_penalty_decay);
        d(
            &mut self.invalid_message_deliveries,
            p.invalid_message_deliveries_decay,
        );
    }

    fn is_zero(&self) -> bool {
        !self.in_mesh
            && self.first_message_deliveries == 0.0
            && self.mesh_message_deliveries == 0.0
            && self.mesh_failure_penalty == 0.0
            && self.invalid_message_deliveries == 0.0
    }
}

/// A topic sum this close to zero after incremental updates is zero (the smallest real term,
/// a counter at `decay_to_zero` times a weight, is many orders above it).
const ROUNDING_FLOOR: f64 = 1e-9;

/// A peer's counters, indexed by the router's topic ids, and its cached score.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeerStats {
    /// Dense by topic id; grown on first use.
    pub topics: Vec<TopicStats>,
    pub app_score: f64,
    pub behaviour_penalty: f64,
    /// Peers sharing this peer's IP, itself included (kept current by the router).
    pub ip_peers: usize,
    pub ip_whitelisted: bool,
    /// Uncapped sum of topic values.
    pub topic_sum: f64,
    /// The score decisions use.
    pub score: f64,
}

/// Global weighted terms.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GlobalTerms {
    /// P5 x weight.
    pub p5: f64,
    /// P6 x weight (<= 0).
    pub p6: f64,
    /// P7 x weight (<= 0).
    pub p7: f64,
}

impl PeerStats {
    pub(crate) fn topic_mut(&mut self, topic: usize) -> &mut TopicStats {
        if self.topics.len() <= topic {
            self.topics.resize(topic + 1, TopicStats::default());
        }
        &mut self.topics[topic]
    }

    pub(crate) fn global_terms(&self, p: &PeerScoreParams) -> GlobalTerms {
        let mut g = GlobalTerms {
            p5: self.app_score * p.app_specific_weight,
            ..GlobalTerms::default()
        };
        let n = self.ip_peers as f64;
        if !self.ip_whitelisted && n > p.ip_colocation_factor_threshold {
            let surplus = n - p.ip_colocation_factor_threshold;
            g.p6 = surplus * surplus * p.ip_colocation_factor_weight;
        }
        if self.behaviour_penalty > p.behaviour_penalty_threshold {
            let excess = self.behaviour_penalty - p.behaviour_penalty_threshold;
            g.p7 = excess * excess * p.behaviour_penalty_weight;
        }
        g
    }

    fn capped(&self, p: &PeerScoreParams) -> f64 {
        if p.topic_score_cap > 0.0 && self.topic_sum > p.topic_score_cap {
            p.topic_score_cap
        } else {
            self.topic_sum
        }
    }

    /// Re-derives the cached score from the cached topic sum and the global terms.
    pub(crate) fn refresh_total(&mut self, p: &PeerScoreParams) {
        let g = self.global_terms(p);
        self.score = self.capped(p) + g.p5 + g.p6 + g.p7;
    }

    /// Recomputes the topic sum from scratch (drops rounding drift of the incremental updates).
    pub(crate) fn recompute(&mut self, p: &PeerScoreParams, params: &[Option<TopicScoreParams>]) {
        self.topic_sum = self
            .topics
            .iter()
            .enumerate()
            .filter_map(|(i, ts)| Some(ts.value(params.get(i)?.as_ref()?)))
            .sum();
        self.refresh_total(p);
    }

    /// Changes one topic's counters with `f` and moves the cached score by the difference.
    pub(crate) fn update_topic(
        &mut self,
        topic: usize,
        tp: Option<&TopicScoreParams>,
        p: &PeerScoreParams,
        f: impl FnOnce(&mut TopicStats, Option<&TopicScoreParams>),
    ) {
        let ts = self.topic_mut(topic);
        let before = tp.map_or(0.0, |tp| ts.value(tp));
        f(ts, tp);
        let after = tp.map_or(0.0, |tp| ts.value(tp));
        if after != before {
            self.topic_sum += after - before;
            // Adding and taking away the same terms leaves rounding (-1e-19 where the
            // components sum to 0), and a score a hair below zero is negative to every
            // decision: a GRAFT refused, a mesh peer pruned. Below this it is zero.
            if self.topic_sum.abs() < ROUNDING_FLOOR {
                self.topic_sum = 0.0;
            }
            self.refresh_total(p);
        }
    }

    /// One decay step of every counter.
    pub(crate) fn decay(&mut self, p: &PeerScoreParams, params: &[Option<TopicScoreParams>]) {
        for (i, ts) in self.topics.iter_mut().enumerate() {
            if let Some(Some(tp)) = params.get(i) {
                ts.decay(tp, p.decay_to_zero);
            }
        }
        self.behaviour_penalty *= p.behaviour_penalty_decay;
        if self.behaviour_penalty < p.decay_to_zero {
            self.behaviour_penalty = 0.0;
        }
    }

    /// Advances mesh time and P3 activation to `now`.
    pub(crate) fn refresh_mesh_time(&mut self, now: Instant, params: &[Option<TopicScoreParams>]) {
        for (i, ts) in self.topics.iter_mut().enumerate() {
            if let (true, Some(g)) = (ts.in_mesh, ts.graft_time) {
                ts.mesh_time = now.saturating_duration_since(g);
                if let Some(Some(tp)) = params.get(i)
                    && ts.mesh_time > tp.mesh_message_deliveries_activation
                {
                    ts.mesh_message_deliveries_active = true;
                }
            }
        }
    }

    /// Whether nothing is left worth retaining.
    pub(crate) fn is_zero(&self) -> bool {
        self.behaviour_penalty == 0.0 && self.topics.iter().all(TopicStats::is_zero)
    }

    /// What is kept of a disconnected peer (go-libp2p-pubsub's rule): it leaves every mesh,
    /// an active P3 deficit becomes a mesh failure penalty, first deliveries are forgotten.
    pub(crate) fn on_disconnect(&mut self, params: &[Option<TopicScoreParams>]) {
        for (i, ts) in self.topics.iter_mut().enumerate() {
            if let Some(Some(tp)) = params.get(i)
                && ts.in_mesh
            {
                ts.mesh_failure_penalty += ts.deficit_squared(tp);
            }
            ts.in_mesh = false;
            ts.graft_time = None;
            ts.mesh_message_deliveries_active = false;
            ts.first_message_deliveries = 0.0;
        }
    }

    /// Every component of the score.
    pub(crate) fn breakdown(
        &self,
        peer: PeerId,
        p: &PeerScoreParams,
        params: &[Option<TopicScoreParams>],
        names: &dyn Fn(usize) -> String,
    ) -> ScoreBreakdown {
        let mut topics = Vec::new();
        let mut sum = 0.0;
        for (i, ts) in self.topics.iter().enumerate() {
            let Some(Some(tp)) = params.get(i) else {
                continue;
            };
            let terms = ts.terms(tp);
            let value = terms.sum() * tp.topic_weight;
            sum += value;
            if terms != TopicTerms::default() || ts.in_mesh {
                topics.push(TopicBreakdown {
                    topic: names(i),
                    weight: tp.topic_weight,
                    terms,
                    value,
                    in_mesh: ts.in_mesh,
                    mesh_time: ts.mesh_time,
                    first_message_deliveries: ts.first_message_deliveries,
                    mesh_message_deliveries: ts.mesh_message_deliveries,
                    mesh_message_deliveries_active: ts.mesh_message_deliveries_active,
                    mesh_failure_penalty: ts.mesh_failure_penalty,
                    invalid_message_deliveries: ts.invalid_message_deliveries,
                });
            }
        }
        let capped = if p.topic_score_cap > 0.0 && sum > p.topic_score_cap {
            p.topic_score_cap
        } else {
            sum
        };
        let g = self.global_terms(p);
        ScoreBreakdown {
            peer,
            score: self.score,
            topic_sum: sum,
            topic_cap_cut: sum - capped,
            p5: g.p5,
            p6: g.p6,
            p7: g.p7,
            behaviour_penalty: self.behaviour_penalty,
            app_score: self.app_score,
            ip_peers: self.ip_peers,
            topics,
        }
    }
}

/// One topic's part of a peer's score.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicBreakdown {
    /// The topic.
    pub topic: String,
    /// Its topic weight.
    pub weight: f64,
    /// Its weighted terms (before the topic weight).
    pub terms: TopicTerms,
    /// `terms.sum() * weight`: what the topic adds.
    pub value: f64,
    /// Whether the peer is in this node's mesh for the topic.
    pub in_mesh: bool,
    /// Time in mesh (as of the last heartbeat).
    pub mesh_time: Duration,
    /// P2 counter.
    pub first_message_deliveries: f64,
    /// P3 counter.
    pub mesh_message_deliveries: f64,
    /// Whether P3 is active.
    pub mesh_message_deliveries_active: bool,
    /// P3b counter.
    pub mesh_failure_penalty: f64,
    /// P4 counter (before squaring).
    pub invalid_message_deliveries: f64,
}

/// A peer's score and every component. `score` is what the router's decisions use; it equals
/// `topic_sum - topic_cap_cut + p5 + p6 + p7` (up to the rounding of incremental updates
/// between heartbeats).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreBreakdown {
    /// The peer.
    pub peer: PeerId,
    /// The cached score the router's decisions use.
    pub score: f64,
    /// Sum of the topics' values, before the topic score cap.
    pub topic_sum: f64,
    /// What the topic score cap removed.
    pub topic_cap_cut: f64,
    /// P5, weighted.
    pub p5: f64,
    /// P6, weighted.
    pub p6: f64,
    /// P7, weighted.
    pub p7: f64,
    /// The P7 counter.
    pub behaviour_penalty: f64,
    /// The application score set for the peer.
    pub app_score: f64,
    /// Peers on this peer's IP, itself included.
    pub ip_peers: usize,
    /// Topics with any non-zero term or mesh membership.
    pub topics: Vec<TopicBreakdown>,
}

impl ScoreBreakdown {
    /// The score rebuilt from the components.
    pub fn sum_of_components(&self) -> f64 {
        self.topic_sum - self.topic_cap_cut + self.p5 + self.p6 + self.p7
    }

    /// A term summed over topics, each times its topic weight (`p1`, `p2`, `p3`, `p3b`, `p4`).
    pub fn topic_term(&self, term: fn(&TopicTerms) -> f64) -> f64 {
        self.topics.iter().map(|t| term(&t.terms) * t.weight).sum()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tp() -> TopicScoreParams {
        TopicScoreParams {
            topic_weight: 0.5,
            time_in_mesh_weight: 1.0,
            time_in_mesh_quantum: Duration::from_secs(1),
            time_in_mesh_cap: 10.0,
            first_message_deliveries_weight: 2.0,
            first_message_deliveries_decay: 0.5,
            first_message_deliveries_cap: 100.0,
            mesh_message_deliveries_weight: -1.0,
            mesh_message_deliveries_decay: 0.5,
            mesh_message_deliveries_cap: 100.0,
            mesh_message_deliveries_threshold: 4.0,
            mesh_message_deliveries_window: Duration::from_millis(10),
            mesh_message_deliveries_activation: Duration::from_secs(5),
            mesh_failure_penalty_weight: -1.0,
            mesh_failure_penalty_decay: 0.5,
            invalid_message_deliveries_weight: -10.0,
            invalid_message_deliveries_decay: 0.5,
        }
    }

    #[test]
    fn terms_follow_the_spec() {
        let p = tp();
        let ts = TopicStats {
            in_mesh: true,
            mesh_time: Duration::from_secs(30),
            first_message_deliveries: 3.0,
            mesh_message_deliveries: 1.0,
            mesh_message_deliveries_active: true,
            mesh_failure_penalty: 2.0,
            invalid_message_deliveries: 2.0,
            ..Default::default()
        };
        let t = ts.terms(&p);
        assert_eq!(t.p1, 10.0); // capped
        assert_eq!(t.p2, 6.0);
        assert_eq!(t.p3, -9.0); // (4 - 1)^2
        assert_eq!(t.p3b, -2.0);
        assert_eq!(t.p4, -40.0); // 2^2 * -10
        assert_eq!(ts.value(&p), (10.0 + 6.0 - 9.0 - 2.0 - 40.0) * 0.5);
    }

    #[test]
    fn incremental_updates_match_a_recompute_and_the_breakdown() {
        let mut gp = PeerScoreParams {
            topic_score_cap: 4.0,
            behaviour_penalty_weight: -1.0,
            behaviour_penalty_threshold: 1.0,
            ip_colocation_factor_weight: -1.0,
            ip_colocation_factor_threshold: 1.0,
            ..Default::default()
        };
        gp.topics.insert("t".into(), tp());
        let params = vec![Some(tp()), None, Some(tp())];
        let mut s = PeerStats {
            ip_peers: 3,
            behaviour_penalty: 3.0,
            app_score: 2.0,
            ..Default::default()
        };
        s.refresh_total(&gp);
        for (topic, n) in [(0, 5.0), (2, 1.0), (1, 7.0)] {
            s.update_topic(topic, params[topic].as_ref(), &gp, |ts, _| {
                ts.first_message_deliveries += n;
            });
        }
        s.update_topic(2, params[2].as_ref(), &gp, |ts, _| {
            ts.invalid_message_deliveries += 1.0
        });
        let cached = s.score;
        s.recompute(&gp, &params);
        assert!((cached - s.score).abs() < 1e-12);
        let b = s.breakdown(PeerId::random(), &gp, &params, &|i| format!("t{i}"));
        assert!((b.sum_of_components() - b.score).abs() < 1e-12);
        // (5*2 + 1*2 - 10) * 0.5 = 1 (under the cap); p5 2, p6 -(3-1)^2, p7 -(3-1)^2.
        assert_eq!(b.topic_sum, 1.0);
        assert_eq!((b.p5, b.p6, b.p7), (2.0, -4.0, -4.0));
        assert_eq!(b.score, 1.0 + 2.0 - 4.0 - 4.0);
    }

    #[test]
    fn terms_that_cancel_leave_a_score_of_exactly_zero() {
        let gp = PeerScoreParams::default();
        let params = [Some(tp()), Some(tp())];
        let mut s = PeerStats::default();
        // 0.1 + 0.2 - 0.1 - 0.2 is 2.8e-17 in floating point, not 0.
        for (topic, n) in [(0, 0.1), (1, 0.2), (0, -0.1), (1, -0.2)] {
            s.update_topic(topic, params[topic].as_ref(), &gp, |ts, _| {
                ts.first_message_deliveries += n;
            });
        }
        assert_eq!(s.score, 0.0);
        assert!(s.score >= 0.0, "a peer at zero is not negative");
    }

    #[test]
    fn decay_reaches_zero() {
        let gp = PeerScoreParams {
            decay_to_zero: 0.1,
            behaviour_penalty_decay: 0.5,
            ..Default::default()
        };
        let params = vec![Some(tp())];
        let mut s = PeerStats::default();
        s.topic_mut(0).first_message_deliveries = 1.0;
        s.behaviour_penalty = 1.0;
        for _ in 0..4 {
            s.decay(&gp, &params);
        }
        assert_eq!(s.topics[0].first_message_deliveries, 0.0);
        assert_eq!(s.behaviour_penalty, 0.0);
        assert!(s.is_zero());
    }
}
