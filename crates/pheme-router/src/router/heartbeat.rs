//! The heartbeat (gossipsub v1.1 "Heartbeat Maintenance"): counters reset, promises checked,
//! scores decayed and refreshed, meshes kept between D_lo and D_hi with D_out outbound peers
//! and opportunistic grafting, fanout kept, gossip emitted, the mcache shifted, old state
//! dropped.

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use rand::seq::SliceRandom;

use super::Router;
use crate::control_trace::ControlDirection::Out;
use crate::control_trace::ControlKind;
use crate::event::{Event, Initiator, PruneReason};
use crate::types::MessageTransform;

/// Decay steps one heartbeat runs at most (after a long pause the rest are skipped).
const MAX_DECAY_CATCH_UP: u32 = 64;
/// Heartbeats between sweeps of expired backoffs.
const BACKOFF_SWEEP_TICKS: u64 = 15;

impl<T: MessageTransform> Router<T> {
    pub(crate) fn heartbeat(&mut self, now: Instant) {
        self.heartbeats += 1;
        self.stats.heartbeats += 1;
        for p in self.peers.iter_mut().flatten() {
            p.ihaves = 0;
            p.iwant_asked = 0;
            while let Some(&(until, key)) = p.dont_want_order.front() {
                if until > now {
                    break;
                }
                p.dont_want_order.pop_front();
                if p.dont_want.get(&key).is_some_and(|&u| u <= now) {
                    p.dont_want.remove(&key);
                }
            }
        }
        self.broken_promises(now);
        self.decay_if_due(now);
        self.refresh_scores(now);
        // The current window closes: its ids and the previous windows' are the gossip.
        let topics = &self.topics;
        let gossip = self.mcache.shift(|t| topics[t as usize].bytes.clone());
        let topics: Vec<u32> = (0..self.topics.len() as u32)
            .filter(|&t| self.topics[t as usize].subscribed)
            .collect();
        for t in topics {
            self.maintain_mesh(now, t);
            let exclude = self.topics[t as usize].mesh.clone();
            if let Some(ids) = gossip.get(&t) {
                self.emit_gossip(now, t, &exclude, ids);
            }
        }
        self.maintain_fanout(now, &gossip);
        self.expire(now);
    }

    fn decay_if_due(&mut self, now: Instant) {
        let Some(params) = &self.scoring else {
            return;
        };
        // One decay step per interval that has passed (the factors assume the interval), a
        // late heartbeat catching up. Retained scores do not decay: a peer cannot reset a
        // negative score by staying away.
        let mut steps = 0;
        while self.next_decay <= now && steps < MAX_DECAY_CATCH_UP {
            self.next_decay += params.decay_interval;
            steps += 1;
            for p in self.peers.iter_mut().flatten() {
                p.stats.decay(params, &self.topic_params);
            }
        }
        if self.next_decay <= now {
            self.next_decay = now + params.decay_interval;
        }
    }

    /// Mesh times to `now`, every score recomputed from its counters; score and graylist
    /// events.
    fn refresh_scores(&mut self, now: Instant) {
        let Some(params) = &self.scoring else {
            return;
        };
        let delta = self.score_event_delta;
        let graylist = self.thresholds.graylist;
        for p in self.peers.iter_mut().flatten() {
            p.stats.refresh_mesh_time(now, &self.topic_params);
            p.stats.recompute(params, &self.topic_params);
            let s = p.stats.score;
            if (s - p.reported_score).abs() >= delta || (s < 0.0) != (p.reported_score < 0.0) {
                p.reported_score = s;
                self.events.push_back(Event::ScoreChanged {
                    peer: p.id,
                    score: s,
                });
            }
            let below = s < graylist && !p.direct;
            if below && !p.graylisted {
                tracing::debug!(target: "pheme::router::score", peer = %p.id, score = s, "graylisted");
                self.events.push_back(Event::Graylisted {
                    peer: p.id,
                    score: s,
                });
            }
            p.graylisted = below;
        }
    }

    fn maintain_mesh(&mut self, now: Instant, t: u32) {
        let c = &self.config;
        let (d, d_lo, d_hi, d_score, d_out) = (
            c.mesh_n,
            c.mesh_n_low,
            c.mesh_n_high,
            c.mesh_n_score,
            c.mesh_outbound_min,
        );
        let backoff = c.prune_backoff;
        // (a) Peers with a negative score leave, without PX.
        for idx in self.topics[t as usize].mesh.clone() {
            if self.score_of(idx) < 0.0 {
                self.prune(
                    now,
                    t,
                    idx,
                    PruneReason::NegativeScore,
                    Some((false, backoff)),
                );
            }
        }
        // (b) Too few: graft random peers with a non-negative score.
        let len = self.topics[t as usize].mesh.len();
        if len < d_lo {
            let mut candidates = self.graft_candidates(now, t, 0.0);
            candidates.shuffle(&mut self.rng);
            for idx in candidates.into_iter().take(d - len) {
                self.graft(now, t, idx, Initiator::Local);
            }
        }
        // (c) Too many: keep the best D_score, fill to D at random, keep D_out outbound.
        let mesh = self.topics[t as usize].mesh.clone();
        if mesh.len() >= d_hi {
            let mut ranked = mesh;
            ranked.shuffle(&mut self.rng);
            ranked.sort_by(|a, b| self.score_of(*b).total_cmp(&self.score_of(*a)));
            ranked[d_score..].shuffle(&mut self.rng);
            let outbound = |this: &Self, i: u32| this.peer(i).is_some_and(|p| p.conn.outbound);
            let kept_out = ranked[..d].iter().filter(|&&i| outbound(self, i)).count();
            if kept_out < d_out {
                let mut need = d_out - kept_out;
                let mut slot = d;
                for j in d..ranked.len() {
                    if need == 0 {
                        break;
                    }
                    if !outbound(self, ranked[j]) {
                        continue;
                    }
                    // Swap with the last random (non-D_score) inbound pick.
                    while slot > d_score && outbound(self, ranked[slot - 1]) {
                        slot -= 1;
                    }
                    if slot <= d_score {
                        break;
                    }
                    ranked.swap(slot - 1, j);
                    slot -= 1;
                    need -= 1;
                }
            }
            for idx in ranked.split_off(d) {
                self.prune(
                    now,
                    t,
                    idx,
                    PruneReason::Oversubscribed,
                    Some((true, backoff)),
                );
            }
        }
        // (d) Enough peers but too few outbound: graft outbound ones.
        let mesh = &self.topics[t as usize].mesh;
        if mesh.len() >= d_lo {
            let out = mesh
                .iter()
                .filter(|&&i| self.peer(i).is_some_and(|p| p.conn.outbound))
                .count();
            if out < d_out {
                let mut candidates: Vec<u32> = self
                    .graft_candidates(now, t, 0.0)
                    .into_iter()
                    .filter(|&i| self.peer(i).is_some_and(|p| p.conn.outbound))
                    .collect();
                candidates.shuffle(&mut self.rng);
                for idx in candidates.into_iter().take(d_out - out) {
                    self.graft(now, t, idx, Initiator::Local);
                }
            }
        }
        // (e) Opportunistic grafting when the median mesh score is low.
        let ticks = self.config.opportunistic_graft_ticks.max(1);
        if self.scoring.is_some()
            && self.heartbeats.is_multiple_of(ticks)
            && self.topics[t as usize].mesh.len() > 1
        {
            let mut scores: Vec<f64> = self.topics[t as usize]
                .mesh
                .iter()
                .map(|&i| self.score_of(i))
                .collect();
            scores.sort_by(f64::total_cmp);
            let median = scores[scores.len() / 2];
            if median < self.thresholds.opportunistic_graft {
                let mut candidates: Vec<u32> = self
                    .graft_candidates(now, t, f64::NEG_INFINITY)
                    .into_iter()
                    .filter(|&i| self.score_of(i) > median)
                    .collect();
                candidates.shuffle(&mut self.rng);
                for idx in candidates
                    .into_iter()
                    .take(self.config.opportunistic_graft_peers)
                {
                    tracing::debug!(target: "pheme::router::mesh", median, "opportunistic graft");
                    self.graft(now, t, idx, Initiator::Local);
                }
            }
        }
    }

    /// Fanout topics idle for `fanout_ttl` are dropped; the rest lose peers that left or fell
    /// below the publish threshold, are topped up to D, and gossiped.
    fn maintain_fanout(&mut self, now: Instant, gossip: &HashMap<u32, Vec<(Bytes, usize)>>) {
        let ttl = self.config.fanout_ttl;
        for t in 0..self.topics.len() as u32 {
            let Some(last) = self.topics[t as usize].fanout_last else {
                continue;
            };
            if now.saturating_duration_since(last) > ttl || self.topics[t as usize].subscribed {
                let topic = &mut self.topics[t as usize];
                topic.fanout.clear();
                topic.fanout_last = None;
                continue;
            }
            let fanout = self.refill_fanout(t);
            self.topics[t as usize].fanout = fanout.clone();
            if let Some(ids) = gossip.get(&t) {
                self.emit_gossip(now, t, &fanout, ids);
            }
        }
    }

    /// IHAVE to max(D_lazy, gossip_factor x eligible) peers of `t` outside `exclude` at or
    /// above the gossip threshold.
    fn emit_gossip(&mut self, now: Instant, t: u32, exclude: &[u32], entries: &[(Bytes, usize)]) {
        if entries.is_empty() {
            return;
        }
        // At most max_ihave_length ids, the newest first.
        let max_len = self.config.max_ihave_length;
        let mut n = 0;
        let take = entries
            .iter()
            .take_while(|(_, c)| {
                let fits = n == 0 || n + c <= max_len;
                n += c;
                fits
            })
            .count();
        let entries = &entries[..take];
        let n: usize = entries.iter().map(|e| e.1).sum();
        let threshold = self.thresholds.gossip;
        let mut eligible: Vec<u32> = self.topics[t as usize]
            .peers
            .iter()
            .copied()
            .filter(|i| !exclude.contains(i))
            .filter(|&i| self.peer(i).is_some_and(|p| !p.direct))
            .filter(|&i| self.score_of(i) >= threshold)
            .filter(|&i| !self.wants_partial(i, t))
            .collect();
        let target = self
            .config
            .gossip_lazy
            .max((self.config.gossip_factor * eligible.len() as f64) as usize)
            .min(eligible.len());
        eligible.shuffle(&mut self.rng);
        let max_len = self.config.max_ihave_length;
        for idx in eligible.into_iter().take(target) {
            let Some(p) = self.peer_mut(idx) else {
                continue;
            };
            if p.queue.ihave_ids >= max_len {
                // Gossip is lossy: a peer still holding a full IHAVE gets no more.
                continue;
            }
            p.queue.ihave.extend(entries.iter().map(|e| e.0.clone()));
            p.queue.ihave_ids += n;
            self.stats.ihave_sent += 1;
            self.trace_control(now, idx, Out, ControlKind::IHave, Some(t), n);
            self.schedule(idx);
        }
    }

    fn expire(&mut self, now: Instant) {
        self.seen.rotate(now);
        if self.heartbeats.is_multiple_of(BACKOFF_SWEEP_TICKS) {
            let slack = self.config.heartbeat_interval * (self.config.backoff_slack + 1);
            for t in &mut self.topics {
                t.backoff.retain(|_, until| now < *until + slack);
            }
            self.retained.retain(|_, (until, _)| *until > now);
        }
    }
}
