//! What a run measured: deliveries and latencies from the honest nodes' gossip events, duplicates
//! from Pheme's own counter, and score threshold crossings from polling every honest node's
//! peer scores.

use std::collections::{HashMap, HashSet};

/// How often every honest node's peer scores are read.
pub(crate) const POLL: std::time::Duration = std::time::Duration::from_millis(500);

use libp2p::PeerId;
use pheme_network::ScoreBreakdown;

/// When one honest node first saw one attacker below each threshold (unix ms).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Crossings {
    pub below_zero: Option<u64>,
    pub gossip: Option<u64>,
    pub publish: Option<u64>,
    pub graylist: Option<u64>,
    /// Last poll that found the attacker in one of the node's meshes (time in mesh, P1 > 0).
    pub mesh_last: Option<u64>,
    /// Whether the latest poll found it in a mesh.
    pub in_mesh: bool,
    /// Start of its current stint in the mesh of a topic with mesh-delivery scoring (P3).
    pub scored_since: Option<u64>,
    /// Its longest such stint so far (ms, as polled).
    pub longest_scored_ms: u64,
    /// How long into a P3-scored mesh stint it was first seen below zero.
    pub below_zero_into_stint: Option<u64>,
    /// The last poll that found it in a P3-scored mesh.
    pub scored_last: Option<u64>,
}

/// A peer seen negative this soon after a poll found it in a P3-scored mesh went negative in
/// that mesh (two 500 ms polls; the router prunes a negative peer within a 700 ms heartbeat).
const LEFT_WITHIN_MS: u64 = 1_000;

impl Crossings {
    /// Records a graylisting (a ban): below every threshold by then.
    fn graylisted(&mut self, at: u64) {
        self.graylist.get_or_insert(at);
        self.publish.get_or_insert(at);
        self.gossip.get_or_insert(at);
        self.below_zero.get_or_insert(at);
    }
}

/// The thresholds crossings are measured against, and the topics whose meshes carry
/// mesh-delivery scoring (P3): a silent peer goes negative only in those.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Thresholds {
    pub gossip: f64,
    pub publish: f64,
    pub graylist: f64,
    pub p3_topics: HashSet<String>,
}

/// Threshold crossings of attackers and negative scores of honest peers (from the start of
/// the measured slots).
#[derive(Debug, Default)]
pub(crate) struct ScoreLog {
    pub attackers: HashMap<(usize, PeerId), Crossings>,
    pub honest_below_zero: HashSet<PeerId>,
    pub honest_min: f64,
    /// The unobservable part (P3, P3b, P7, slow peer) of that lowest honest score.
    pub honest_min_residual: f64,
}

impl ScoreLog {
    /// Folds in one poll of node `node`'s peer scores at `now`. Stints in P3-scored meshes
    /// count from `p3_from` on (the covert flash's Sybils forward until then).
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        node: usize,
        scores: &[ScoreBreakdown],
        attackers: &HashSet<PeerId>,
        t: &Thresholds,
        now: u64,
        honest_too: bool,
        p3_from: u64,
    ) {
        // Peers gone since the last poll are in no mesh.
        let present: HashSet<PeerId> = scores.iter().map(|s| s.peer).collect();
        for ((n, p), c) in self.attackers.iter_mut() {
            if *n == node && !present.contains(p) {
                c.in_mesh = false;
            }
        }
        for s in scores {
            if attackers.contains(&s.peer) {
                let c = self.attackers.entry((node, s.peer)).or_default();
                c.in_mesh = s.p1 > 0.0 || s.topics.iter().any(|t| t.p1 > 0.0);
                if c.in_mesh {
                    c.mesh_last = Some(now);
                }
                let scored = now >= p3_from
                    && s.topics
                        .iter()
                        .any(|tc| tc.p1 > 0.0 && t.p3_topics.contains(&tc.topic));
                if scored {
                    let since = *c.scored_since.get_or_insert(now);
                    c.longest_scored_ms = c.longest_scored_ms.max(now - since);
                    if s.total < 0.0 && c.below_zero_into_stint.is_none() {
                        c.below_zero_into_stint = Some(now - since);
                    }
                    c.scored_last = Some(now);
                } else if let Some(since) = c.scored_since.take() {
                    // Out of the scored mesh since the last poll. A peer that went negative is
                    // pruned at the next heartbeat, often before a poll sees it in the mesh
                    // and negative; and one pruned with a delivery deficit carries it as the
                    // P3b penalty. Negative at the first poll after leaving counts.
                    if s.total < 0.0
                        && c.below_zero_into_stint.is_none()
                        && c.scored_last
                            .is_some_and(|last| now - last <= LEFT_WITHIN_MS)
                    {
                        c.below_zero_into_stint = Some(now - since);
                    }
                }
                for (limit, slot) in [
                    (0.0, &mut c.below_zero),
                    (t.gossip, &mut c.gossip),
                    (t.publish, &mut c.publish),
                    (t.graylist, &mut c.graylist),
                ] {
                    if s.total < limit {
                        slot.get_or_insert(now);
                    }
                }
            } else if honest_too {
                if s.total < self.honest_min {
                    self.honest_min = s.total;
                    self.honest_min_residual = s.residual;
                }
                if s.total < 0.0 {
                    self.honest_below_zero.insert(s.peer);
                }
            }
        }
    }

    /// Folds in a ban of `peer` by `node` (Pheme bans a peer when it falls below graylist).
    pub fn banned(&mut self, node: usize, peer: PeerId, at: u64, attackers: &HashSet<PeerId>) {
        if attackers.contains(&peer) {
            self.attackers
                .entry((node, peer))
                .or_default()
                .graylisted(at);
        }
    }

    /// Of the (honest node, attacker) connections where the attacker stayed at least `stint` ms
    /// in a P3-scored mesh: how many, the share that went below zero during such a stint, and,
    /// if all did, the longest time from joining that mesh to below zero.
    pub fn scored_mesh_crossing(&self, stint: u64) -> (usize, f64, Option<u64>) {
        let pool: Vec<&Crossings> = self
            .attackers
            .values()
            .filter(|c| c.longest_scored_ms >= stint || c.below_zero_into_stint.is_some())
            .collect();
        let crossed: Vec<u64> = pool
            .iter()
            .filter_map(|c| c.below_zero_into_stint)
            .collect();
        let share = if pool.is_empty() {
            0.0
        } else {
            crossed.len() as f64 / pool.len() as f64
        };
        let last = (!pool.is_empty() && crossed.len() == pool.len())
            .then(|| crossed.iter().max().copied())
            .flatten();
        (pool.len(), share, last)
    }

    /// Share of (honest node, attacker) connections where the attacker was ever in a mesh.
    pub fn in_mesh_share(&self) -> f64 {
        let n = self.attackers.len().max(1);
        self.attackers
            .values()
            .filter(|c| c.mesh_last.is_some())
            .count() as f64
            / n as f64
    }

    /// When the meshes were last seen holding an attacker, in ms after `reference`; `None` if
    /// an attacker is still in a mesh at the last poll (0 if none ever was after `reference`).
    pub fn mesh_clear_after(&self, reference: u64) -> Option<u64> {
        if self.attackers.values().any(|c| c.in_mesh) {
            return None;
        }
        Some(
            self.attackers
                .values()
                .filter_map(|c| c.mesh_last)
                .max()
                .map_or(0, |t| t.saturating_sub(reference)),
        )
    }

    /// For one threshold: the share of (honest node, attacker) connections that crossed it, and
    /// when the last of them did, in ms after `reference` (only if all crossed). With
    /// `mesh_only`, only connections where the attacker was ever in a mesh (or crossed) count.
    pub fn crossing(
        &self,
        pick: impl Fn(&Crossings) -> Option<u64>,
        reference: u64,
        mesh_only: bool,
    ) -> (f64, Option<u64>) {
        let pool: Vec<&Crossings> = self
            .attackers
            .values()
            .filter(|c| !mesh_only || c.mesh_last.is_some() || pick(c).is_some())
            .collect();
        let n = pool.len();
        if n == 0 {
            return (0.0, None);
        }
        let times: Vec<u64> = pool.iter().filter_map(|c| pick(c)).collect();
        let share = times.len() as f64 / n as f64;
        let last = (times.len() == n)
            .then(|| times.iter().max().map(|t| t.saturating_sub(reference)))
            .flatten();
        (share, last)
    }
}

/// Nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// One published message.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    pub id: Vec<u8>,
    pub publisher: usize,
    pub at_ms: u64,
}

/// Deliveries of honest messages to honest nodes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Deliveries {
    pub expected: usize,
    pub delivered: usize,
    pub latencies: Vec<u64>,
    /// Of the deliveries to node `target` (eclipse) or of messages by `target` (censorship).
    pub target_expected: usize,
    pub target_delivered: usize,
}

/// Joins publications and receipts. `target` narrows the extra ratio: `(node, true)` counts
/// messages received by `node`, `(node, false)` messages published by `node`.
pub(crate) fn deliveries(
    published: &[Published],
    receipts: &[(usize, Vec<u8>, u64)],
    honest: usize,
    target: Option<(usize, bool)>,
) -> Deliveries {
    let by_id: HashMap<&[u8], &Published> =
        published.iter().map(|p| (p.id.as_slice(), p)).collect();
    let mut seen: HashSet<(usize, &[u8])> = HashSet::new();
    let mut d = Deliveries {
        expected: published.len() * honest.saturating_sub(1),
        ..Default::default()
    };
    for (node, id, arrival) in receipts {
        let Some(p) = by_id.get(id.as_slice()) else {
            continue;
        };
        if p.publisher == *node || !seen.insert((*node, id.as_slice())) {
            continue;
        }
        d.delivered += 1;
        d.latencies.push(arrival.saturating_sub(p.at_ms));
        match target {
            Some((t, true)) if *node == t => d.target_delivered += 1,
            Some((t, false)) if p.publisher == t => d.target_delivered += 1,
            _ => {}
        }
    }
    d.target_expected = match target {
        Some((t, true)) => published.iter().filter(|p| p.publisher != t).count(),
        Some((t, false)) => {
            published.iter().filter(|p| p.publisher == t).count() * honest.saturating_sub(1)
        }
        None => 0,
    };
    d.latencies.sort_unstable();
    d
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn deliveries_skip_the_publisher_and_repeats() {
        let published = vec![
            Published {
                id: vec![1],
                publisher: 0,
                at_ms: 100,
            },
            Published {
                id: vec![2],
                publisher: 1,
                at_ms: 200,
            },
        ];
        let receipts = vec![
            (1, vec![1], 130),
            (1, vec![1], 140),
            (0, vec![1], 110),
            (2, vec![1], 150),
            (0, vec![2], 260),
            (9, vec![3], 1),
        ];
        let d = deliveries(&published, &receipts, 3, Some((0, false)));
        assert_eq!((d.expected, d.delivered), (4, 3));
        assert_eq!(d.latencies, vec![30, 50, 60]);
        assert_eq!((d.target_expected, d.target_delivered), (2, 2));
    }

    #[test]
    fn p3_stints_count_from_joining_a_scored_mesh() {
        use pheme_network::{ScoreBreakdown, TopicComponents};
        let a = PeerId::random();
        let attackers: HashSet<PeerId> = [a].into();
        let t = Thresholds {
            gossip: -10.0,
            publish: -20.0,
            graylist: -30.0,
            p3_topics: ["agg".to_owned()].into(),
        };
        let poll = |topic: &str, total: f64| ScoreBreakdown {
            peer: a,
            total,
            p1: 0.1,
            p2: 0.0,
            p3: 0.0,
            p3b: 0.0,
            p4: 0.0,
            topic_cap_cut: 0.0,
            p5: 0.0,
            p6: 0.0,
            p7: 0.0,
            residual: total - 0.1,
            topics: vec![TopicComponents {
                topic: topic.into(),
                p1: 0.1,
                p2: 0.0,
                p3: 0.0,
                p3b: 0.0,
                p4: 0.0,
            }],
        };
        let mut log = ScoreLog::default();
        // In an unscored mesh (an attestation subnet) from 0 to 20 s: no stint.
        for now in [0, 10_000, 20_000] {
            log.observe(0, &[poll("att", 0.5)], &attackers, &t, now, true, 0);
        }
        assert_eq!(log.scored_mesh_crossing(5_000), (0, 0.0, None));
        // In the aggregate mesh from 20 s, negative 12 s later.
        for (now, total) in [(20_000, 0.5), (26_000, 0.2), (32_000, -3.0)] {
            log.observe(0, &[poll("agg", total)], &attackers, &t, now, true, 0);
        }
        assert_eq!(log.scored_mesh_crossing(5_000), (1, 1.0, Some(12_000)));
        // A second connection that stayed 8 s and never went negative: half crossed.
        log.observe(1, &[poll("agg", 0.5)], &attackers, &t, 40_000, true, 0);
        log.observe(1, &[poll("agg", 0.5)], &attackers, &t, 48_000, true, 0);
        assert_eq!(log.scored_mesh_crossing(5_000), (2, 0.5, None));
        assert_eq!(log.scored_mesh_crossing(10_000), (1, 1.0, Some(12_000)));
        // A third, pruned between two polls and negative at the first poll after: crossed
        // 12.5 s in. Negative only 5 s after leaving does not count.
        for (now, topic, total) in [
            (50_000, "agg", 0.5),
            (62_000, "agg", 0.2),
            (62_500, "att", -4.0),
        ] {
            log.observe(2, &[poll(topic, total)], &attackers, &t, now, true, 0);
        }
        for (now, topic, total) in [
            (70_000, "agg", 0.5),
            (82_000, "agg", 0.2),
            (87_000, "att", -4.0),
        ] {
            log.observe(3, &[poll(topic, total)], &attackers, &t, now, true, 0);
        }
        assert_eq!(log.scored_mesh_crossing(10_000), (3, 2.0 / 3.0, None));
        assert_eq!(log.attackers[&(2, a)].below_zero_into_stint, Some(12_500));
    }

    #[test]
    fn crossings_need_every_connection() {
        let mut log = ScoreLog::default();
        let a = PeerId::random();
        let attackers: HashSet<PeerId> = [a].into();
        log.banned(0, a, 1_500, &attackers);
        log.attackers.insert((1, a), Crossings::default());
        assert_eq!(log.crossing(|c| c.graylist, 1_000, false), (0.5, None));
        assert_eq!(log.crossing(|c| c.graylist, 1_000, true), (1.0, Some(500)));
        log.banned(1, a, 1_900, &attackers);
        assert_eq!(log.crossing(|c| c.graylist, 1_000, false), (1.0, Some(900)));
        assert_eq!(log.mesh_clear_after(1_000), Some(0));
    }
}
