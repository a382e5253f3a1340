//! Mesh membership, forwarding and delivery credit.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::seq::SliceRandom;

use super::{PeerRef, Router};
use crate::control_trace::ControlDirection::Out;
use crate::control_trace::ControlKind;
use crate::event::{Event, Initiator, PruneReason};
use crate::queue::Item;
use crate::types::MessageTransform;
use crate::wire;

impl<T: MessageTransform> Router<T> {
    /// Adds a peer to a topic's mesh; a local graft sends GRAFT.
    pub(crate) fn graft(&mut self, now: Instant, t: u32, idx: u32, initiator: Initiator) {
        let bytes = self.topics[t as usize].bytes.clone();
        let Some(p) = self.peer_mut(idx) else {
            return;
        };
        if p.in_mesh(t) {
            return;
        }
        p.mesh.insert(t as usize);
        if initiator == Initiator::Local {
            p.queue
                .control
                .prune
                .retain(|x| x.topic_id.as_ref() != Some(&bytes));
            p.queue.control.graft.push(wire::ControlGraft {
                topic_id: Some(bytes),
            });
            self.stats.graft_sent += 1;
            self.trace_control(now, idx, Out, ControlKind::Graft, Some(t), 0);
        }
        self.topics[t as usize].mesh.push(idx);
        self.update_topic_stats(idx, t, |ts, _| {
            ts.in_mesh = true;
            ts.graft_time = Some(now);
            ts.mesh_time = Duration::ZERO;
            ts.mesh_message_deliveries_active = false;
        });
        self.emit_graft(idx, t, initiator);
        self.schedule(idx);
    }

    /// Removes a peer from a topic's mesh (charging an active P3 deficit as P3b) and, with
    /// `send = Some((px, backoff))`, records the backoff and sends PRUNE.
    pub(crate) fn prune(
        &mut self,
        now: Instant,
        t: u32,
        idx: u32,
        reason: PruneReason,
        send: Option<(bool, Duration)>,
    ) {
        let Some(p) = self.peer(idx) else {
            return;
        };
        let peer = p.id;
        let protocol = p.conn.protocol;
        if p.in_mesh(t) {
            if let Some(p) = self.peer_mut(idx) {
                p.mesh.set(t as usize, false);
            }
            self.topics[t as usize].mesh.retain(|&i| i != idx);
            self.update_topic_stats(idx, t, |ts, tp| {
                if let Some(tp) = tp {
                    ts.mesh_failure_penalty += ts.deficit_squared(tp);
                }
                ts.in_mesh = false;
                ts.graft_time = None;
                ts.mesh_message_deliveries_active = false;
            });
            let topic = self.topics[t as usize].name.clone();
            tracing::debug!(target: "pheme::router::mesh", %peer, %topic, reason = reason.name(), "prune");
            self.events.push_back(Event::Pruned {
                peer,
                topic,
                reason,
            });
        }
        let Some((px, backoff)) = send else {
            return;
        };
        let until = now + backoff;
        let entry = self.topics[t as usize].backoff.entry(peer).or_insert(until);
        *entry = (*entry).max(until);
        let peers =
            if px && self.config.do_px && protocol.supports_px() && self.score_of(idx) >= 0.0 {
                self.px_offer(t, idx)
            } else {
                Vec::new()
            };
        let backoff_secs = protocol.supports_px().then_some(backoff.as_secs());
        self.trace_prune(now, idx, Out, Some(t), backoff_secs, peers.len());
        let bytes = self.topics[t as usize].bytes.clone();
        if let Some(p) = self.peer_mut(idx) {
            p.queue
                .control
                .graft
                .retain(|x| x.topic_id.as_ref() != Some(&bytes));
            p.queue
                .control
                .prune
                .retain(|x| x.topic_id.as_ref() != Some(&bytes));
            p.queue.control.prune.push(wire::ControlPrune {
                topic_id: Some(bytes),
                peers,
                backoff: backoff_secs,
            });
        }
        self.stats.prune_sent += 1;
        self.schedule(idx);
    }

    /// Whether this node may graft `idx` on `t` now: its backoff (plus slack) has passed.
    pub(crate) fn backoff_clear(&self, now: Instant, t: u32, idx: u32) -> bool {
        let Some(p) = self.peer(idx) else {
            return false;
        };
        let slack = self.config.heartbeat_interval * self.config.backoff_slack;
        self.topics[t as usize]
            .backoff
            .get(&p.id)
            .is_none_or(|&until| now >= until + slack)
    }

    /// Peers of `t` this node could graft: subscribed, not in the mesh, not direct, out of
    /// backoff, score at least `min_score`.
    pub(crate) fn graft_candidates(&self, now: Instant, t: u32, min_score: f64) -> Vec<u32> {
        self.topics[t as usize]
            .peers
            .iter()
            .copied()
            .filter(|&i| {
                self.peer(i).is_some_and(|p| !p.direct && !p.in_mesh(t))
                    && self.score_of(i) >= min_score
                    && self.backoff_clear(now, t, i)
            })
            .collect()
    }

    /// On joining a topic: fanout peers first, then others, up to D, each grafted.
    pub(crate) fn join_mesh(&mut self, now: Instant, t: u32) {
        let d = self.config.mesh_n;
        let fanout = std::mem::take(&mut self.topics[t as usize].fanout);
        self.topics[t as usize].fanout_last = None;
        let mut chosen: Vec<u32> = fanout
            .into_iter()
            .filter(|&i| {
                self.peer(i).is_some_and(|p| !p.direct)
                    && self.score_of(i) >= 0.0
                    && self.backoff_clear(now, t, i)
            })
            .take(d)
            .collect();
        if chosen.len() < d {
            let mut more: Vec<u32> = self
                .graft_candidates(now, t, 0.0)
                .into_iter()
                .filter(|i| !chosen.contains(i))
                .collect();
            more.shuffle(&mut self.rng);
            chosen.extend(more.into_iter().take(d - chosen.len()));
        }
        for idx in chosen {
            self.graft(now, t, idx, Initiator::Local);
        }
    }

    /// Who gets a message this node publishes on `t`: not the peers that get partial
    /// messages there instead.
    pub(crate) fn publish_recipients(&mut self, now: Instant, t: u32, bytes: usize) -> Vec<u32> {
        let mut out = self.publish_candidates(now, t, bytes);
        if self.topics[t as usize].partial.is_some() {
            out.retain(|&i| !self.wants_partial(i, t));
        }
        out
    }

    /// Flood publishing sends a message of `bytes` to the mesh and the direct peers first, then
    /// to other topic peers at or above the publish threshold while the copies fit
    /// `flood_publish_max_bytes` (best scores first, ties at random): a block flooded to every
    /// connection would otherwise wait on the uplink behind hundreds of copies, the mesh's
    /// among them (an attacker that crowds a proposer's connections delays its blocks that way).
    fn publish_candidates(&mut self, now: Instant, t: u32, bytes: usize) -> Vec<u32> {
        let threshold = self.thresholds.publish;
        let topic = &self.topics[t as usize];
        if self.config.flood_publish {
            let direct = |i: u32| self.peer(i).is_some_and(|p| p.direct);
            let eligible = |i: u32| direct(i) || self.score_of(i) >= threshold;
            let in_first = |i: u32| direct(i) || (topic.subscribed && topic.mesh.contains(&i));
            let (mut out, mut rest): (Vec<u32>, Vec<u32>) = topic
                .peers
                .iter()
                .copied()
                .filter(|&i| eligible(i))
                .partition(|&i| in_first(i));
            let room =
                (self.config.flood_publish_max_bytes / bytes.max(1)).saturating_sub(out.len());
            if rest.len() > room {
                rest.shuffle(&mut self.rng);
                rest.sort_by(|a, b| self.score_of(*b).total_cmp(&self.score_of(*a)));
                rest.truncate(room);
                self.stats.flood_publish_capped += 1;
            }
            out.extend(rest);
            return out;
        }
        let mut out: Vec<u32> = topic
            .peers
            .iter()
            .copied()
            .filter(|&i| self.peer(i).is_some_and(|p| p.direct))
            .collect();
        if topic.subscribed {
            out.extend(topic.mesh.iter().copied());
            return out;
        }
        // Fanout: keep up to D peers at or above the publish threshold.
        let fanout = self.refill_fanout(t);
        out.extend(fanout.iter().copied());
        let topic = &mut self.topics[t as usize];
        topic.fanout = fanout;
        topic.fanout_last = Some(now);
        out
    }

    /// The fanout of `t` without peers that left the topic or fell below the publish
    /// threshold, topped up to D at random.
    pub(crate) fn refill_fanout(&mut self, t: u32) -> Vec<u32> {
        let threshold = self.thresholds.publish;
        let d = self.config.mesh_n;
        let topic = &self.topics[t as usize];
        let mut fanout: Vec<u32> = topic
            .fanout
            .iter()
            .copied()
            .filter(|&i| {
                self.peer(i).is_some_and(|p| p.subscribed(t) && !p.direct)
                    && self.score_of(i) >= threshold
            })
            .collect();
        if fanout.len() < d {
            let mut more: Vec<u32> = topic
                .peers
                .iter()
                .copied()
                .filter(|&i| {
                    !fanout.contains(&i)
                        && self.peer(i).is_some_and(|p| !p.direct)
                        && self.score_of(i) >= threshold
                })
                .collect();
            more.shuffle(&mut self.rng);
            fanout.extend(more.into_iter().take(d - fanout.len()));
        }
        fanout
    }

    /// Puts a message in a peer's queue (a forward, droppable, or a priority send) and
    /// schedules the peer: at once for a priority send, a large message or a full batch, else
    /// when the first waiting forward has waited `forward_delay`. Forwards over the queue's
    /// bound push out the oldest.
    pub(crate) fn enqueue(&mut self, idx: u32, item: Item, forward: bool) {
        let c = &self.config;
        let (max_queue, delay) = (c.max_forward_queue, c.forward_delay);
        let (max_bytes, max_msgs) = (c.max_batch_bytes, c.max_batch_messages);
        let large = item.entry.len() >= c.idontwant_threshold;
        let Some(p) = self.peers.get_mut(idx as usize).and_then(Option::as_mut) else {
            return;
        };
        if !forward {
            p.queue.priority.push_back(item);
            self.schedule(idx);
            return;
        }
        if p.queue.forward.len() >= max_queue
            && let Some(old) = p.queue.forward.pop_front()
        {
            p.queue.forward_bytes -= old.entry.len();
            self.stats.dropped_queue_full += 1;
        }
        let first = p.queue.forward.is_empty();
        let due = item.at + delay;
        p.queue.forward_bytes += item.entry.len();
        p.queue.forward.push_back(item);
        let full = p.queue.forward_bytes >= max_bytes || p.queue.forward.len() >= max_msgs;
        if large || full || delay.is_zero() {
            self.schedule(idx);
        } else if first {
            let r = PeerRef {
                idx,
                generation: p.generation,
            };
            self.delayed.push_back((due, r));
        }
    }

    /// Queues an accepted message for the mesh and the direct peers, minus whoever delivered
    /// it and whoever said IDONTWANT.
    pub(crate) fn forward(
        &mut self,
        now: Instant,
        key: u64,
        t: u32,
        entry: Bytes,
        deliverers: &[PeerRef],
    ) {
        let topic = &self.topics[t as usize];
        let mut recipients: Vec<u32> = if topic.subscribed {
            topic.mesh.clone()
        } else {
            Vec::new()
        };
        if !self.direct.is_empty() {
            recipients.extend(
                topic
                    .peers
                    .iter()
                    .copied()
                    .filter(|&i| self.peer(i).is_some_and(|p| p.direct)),
            );
        }
        for idx in recipients {
            if self.wants_partial(idx, t) {
                continue;
            }
            let Some(p) = self.peers.get_mut(idx as usize).and_then(Option::as_mut) else {
                continue;
            };
            if deliverers
                .iter()
                .any(|d| d.idx == idx && d.generation == p.generation)
            {
                continue;
            }
            if p.dont_want.contains_key(&key) {
                self.stats.idontwant_skipped += 1;
                continue;
            }
            self.stats.forwarded += 1;
            let item = Item {
                key,
                entry: entry.clone(),
                at: now,
            };
            self.enqueue(idx, item, true);
        }
    }

    /// A delivery of a valid message: P2 for the first, P3 for a mesh peer (each capped).
    pub(crate) fn credit_delivery(&mut self, d: PeerRef, t: u32, first: bool) {
        let Some(idx) = self.resolve(d) else {
            return;
        };
        let in_mesh = self.peer(idx).is_some_and(|p| p.in_mesh(t));
        if !first && !in_mesh {
            return;
        }
        self.update_topic_stats(idx, t, |ts, tp| {
            let Some(tp) = tp else {
                return;
            };
            if first {
                ts.first_message_deliveries =
                    (ts.first_message_deliveries + 1.0).min(tp.first_message_deliveries_cap);
            }
            if in_mesh {
                ts.mesh_message_deliveries =
                    (ts.mesh_message_deliveries + 1.0).min(tp.mesh_message_deliveries_cap);
            }
        });
    }

    /// A delivery of an invalid message: P4.
    pub(crate) fn penalise_invalid(&mut self, d: PeerRef, t: u32) {
        let Some(idx) = self.resolve(d) else {
            return;
        };
        self.update_topic_stats(idx, t, |ts, _| ts.invalid_message_deliveries += 1.0);
    }
}
