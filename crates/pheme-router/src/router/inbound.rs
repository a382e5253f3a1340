//! One inbound RPC: subscriptions, messages and control, in that order (IDONTWANT before the
//! messages, so a peer's cancellations apply to what it sends in the same frame).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use prost::Message as _;
use rand::Rng;
use rand::seq::SliceRandom;

use nohash_hasher::BuildNoHashHasher;

use super::{PeerRef, Record, Router, State};
use crate::control_in::{ControlIn, IdList};
use crate::control_trace::ControlDirection::{In, Out};
use crate::control_trace::ControlKind;
use crate::event::{Event, FrameRefusal, Initiator, PruneReason, Refusal};
use crate::types::{MessageId, MessageTransform, Received};
use crate::wire::{self, FrameLimits, SubOpts, WireMessage};

/// IDONTWANT ids waiting for one peer (the newest kept).
const MAX_PENDING_IDONTWANT: usize = 100;

impl<T: MessageTransform> Router<T> {
    /// One RPC frame from `peer` (without its length prefix).
    pub fn handle_rpc(&mut self, now: Instant, peer: &libp2p_identity::PeerId, frame: Bytes) {
        let Some(&idx) = self.peer_ids.get(peer) else {
            return;
        };
        self.stats.frames_received += 1;
        self.stats.bytes_received += frame.len() as u64;
        if frame.len() > self.config.max_transmit_size {
            let limit = self.config.max_transmit_size;
            self.refuse_frame(
                now,
                idx,
                FrameRefusal::Oversized {
                    len: frame.len(),
                    limit,
                },
            );
            return;
        }
        let limits = FrameLimits {
            max_control_bytes: self.config.max_control_bytes,
            max_messages: self.config.max_messages_per_frame,
        };
        let parts = match wire::split_rpc(&frame, limits) {
            Ok(p) => p,
            Err(e) => {
                self.refuse_frame(now, idx, e.into());
                return;
            }
        };
        for s in &parts.subscriptions {
            match SubOpts::decode(s.clone()) {
                Ok(s) => self.handle_subscription(now, idx, s),
                Err(source) => {
                    self.refuse_frame(
                        now,
                        idx,
                        wire::WireError::Part {
                            part: "subscription",
                            source,
                        }
                        .into(),
                    );
                    return;
                }
            }
        }
        let direct = self.peer(idx).is_some_and(|p| p.direct);
        if !direct && self.score_of(idx) < self.thresholds.graylist {
            self.stats.graylisted_rpcs += 1;
            return;
        }
        let control = match parts.read_control() {
            Ok(c) => c,
            Err(e) => {
                self.refuse_frame(now, idx, e.into());
                return;
            }
        };
        if let Some(ext) = &control.extensions {
            self.handle_extensions(now, idx, ext);
        }
        for d in &control.idontwant {
            self.trace_control(now, idx, In, ControlKind::IDontWant, None, d.len());
            self.handle_idontwant(now, idx, d);
        }
        let partial = parts.decode_partial();
        for m in parts.messages {
            self.handle_message(now, idx, m);
        }
        match partial {
            Ok(Some(partial)) => self.handle_partial(now, idx, partial),
            Ok(None) => {}
            Err(e) => {
                self.refuse_frame(now, idx, e.into());
                return;
            }
        }
        self.handle_control(now, idx, control);
    }

    fn handle_subscription(&mut self, now: Instant, idx: u32, s: SubOpts) {
        let Some(name) = s.topic_id else {
            return;
        };
        let subscribe = s.subscribe.unwrap_or(false);
        let t = match self.topic_ids.get(&name) {
            Some(&t) if self.topics[t as usize].allowed => t,
            Some(_) => {
                self.stats.subscriptions_refused += 1;
                return;
            }
            None if subscribe => match self.intern(&name, false) {
                Some(t) => t,
                None => {
                    self.stats.subscriptions_refused += 1;
                    return;
                }
            },
            None => return,
        };
        let max = self.config.max_subscriptions;
        let Some(p) = self.peer_mut(idx) else {
            return;
        };
        let peer = p.id;
        if subscribe {
            // The Partial Messages flags; a repeated subscription updates them.
            let requests = s.requests_partial == Some(true);
            let supports = requests || s.supports_partial == Some(true);
            p.partial_supports.set(t as usize, supports);
            p.partial_requests.set(t as usize, requests);
            if p.subscribed(t) {
                return;
            }
            if p.n_topics >= max {
                self.stats.subscriptions_refused += 1;
                return;
            }
            p.topics.insert(t as usize);
            p.n_topics += 1;
            self.topics[t as usize].peers.push(idx);
            let topic = self.topics[t as usize].name.clone();
            tracing::trace!(target: "pheme::router::topics", %peer, %topic, "peer subscribed");
            self.events.push_back(Event::Subscribed { peer, topic });
        } else {
            if !p.subscribed(t) {
                return;
            }
            p.topics.set(t as usize, false);
            p.partial_supports.set(t as usize, false);
            p.partial_requests.set(t as usize, false);
            p.n_topics -= 1;
            let topic = &mut self.topics[t as usize];
            topic.peers.retain(|&i| i != idx);
            topic.fanout.retain(|&i| i != idx);
            let name = topic.name.clone();
            // Leaving a topic leaves its mesh, with the mesh failure penalty if due.
            self.prune(now, t, idx, PruneReason::PeerUnsubscribed, None);
            self.events
                .push_back(Event::Unsubscribed { peer, topic: name });
        }
    }

    fn handle_message(&mut self, now: Instant, idx: u32, encoded: Bytes) {
        self.stats.messages_received += 1;
        let Some(peer) = self.peer(idx).map(|p| p.id) else {
            return;
        };
        let encoded_len = encoded.len();
        let m = match WireMessage::decode(encoded) {
            Ok(m) => m,
            Err(_) => {
                self.refuse_message(idx, None, None, Refusal::Malformed, None, None, encoded_len);
                return;
            }
        };
        let Some(topic_bytes) = m.topic.as_ref() else {
            self.refuse_message(idx, None, None, Refusal::Malformed, None, None, encoded_len);
            return;
        };
        let t = match self.topic_ids.get(topic_bytes) {
            Some(&t) if self.topics[t as usize].subscribed => t,
            _ => {
                self.stats.messages_unsubscribed_topic += 1;
                return;
            }
        };
        if m.is_signed() {
            let len = m.data.as_ref().map_or(0, Bytes::len);
            self.refuse_message(idx, Some(t), None, Refusal::Signed, None, m.data, len);
            return;
        }
        let data = m.data.unwrap_or_default();
        let fast = self.fast_key(t, &data);
        if let Some(&key) = self.fast.get(&fast) {
            self.duplicate(now, idx, key);
            return;
        }
        let name = self.topics[t as usize].name.clone();
        let decoded = match self.transform.inbound(&name, &data) {
            Ok(d) => d,
            Err(r) => {
                let key = r.id.as_ref().map(|id| self.key_of(id));
                if let Some(key) = key {
                    self.fulfil_promises(key);
                    if self.records.contains_key(&key) {
                        self.duplicate(now, idx, key);
                        return;
                    }
                    self.seen.insert(now, key);
                    self.insert_fast(now, fast, key);
                    let pr = self.peer_ref(idx);
                    self.insert_record(
                        now,
                        key,
                        Record {
                            id: r.id.clone().unwrap_or_else(|| MessageId(Bytes::new())),
                            topic: t,
                            state: State::Invalid,
                            first_seen: now,
                            deliverers: smallvec::smallvec![pr],
                            wire: None,
                            entry: None,
                            mcache_until: None,
                            iwant_served: Vec::new(),
                        },
                    );
                }
                let len = data.len();
                let reason = Refusal::Transform(r.reason);
                self.refuse_message(idx, Some(t), key, reason, r.id, Some(data), len);
                return;
            }
        };
        let key = self.key_of(&decoded.id);
        self.fulfil_promises(key);
        if self.records.contains_key(&key) || self.seen.contains(key) {
            self.insert_fast(now, fast, key);
            self.duplicate(now, idx, key);
            return;
        }
        self.seen.insert(now, key);
        self.insert_fast(now, fast, key);
        let pr = self.peer_ref(idx);
        let wire_len = data.len();
        if wire_len >= self.config.idontwant_threshold {
            self.send_idontwant(now, idx, t, &decoded.id);
        }
        self.insert_record(
            now,
            key,
            Record {
                id: decoded.id.clone(),
                topic: t,
                state: State::Pending,
                first_seen: now,
                deliverers: smallvec::smallvec![pr],
                wire: Some(data),
                entry: None,
                mcache_until: None,
                iwant_served: Vec::new(),
            },
        );
        self.stats.messages_validated += 1;
        self.events.push_back(Event::Message(Received {
            id: decoded.id,
            topic: name,
            source: peer,
            payload: decoded.payload,
            wire_len,
            received: now,
        }));
    }

    /// A message refused before validation: P4 on its topic (P7 when it had none).
    #[allow(clippy::too_many_arguments)]
    fn refuse_message(
        &mut self,
        idx: u32,
        t: Option<u32>,
        _key: Option<u64>,
        reason: Refusal,
        id: Option<MessageId>,
        data: Option<Bytes>,
        wire_len: usize,
    ) {
        self.stats.messages_refused += 1;
        let Some(peer) = self.peer(idx).map(|p| p.id) else {
            return;
        };
        match t {
            Some(t) => {
                let r = self.peer_ref(idx);
                self.penalise_invalid(r, t);
            }
            None => self.behaviour_penalty(idx, 1.0),
        }
        let topic = t.map(|t| self.topics[t as usize].name.clone());
        tracing::debug!(target: "pheme::router::messages", %peer, reason = reason.name(), "message refused");
        self.events.push_back(Event::Refused {
            peer,
            topic,
            reason,
            id,
            data,
            wire_len,
        });
    }

    /// Another copy of a message: P3 credit within the window, P4 if it was invalid.
    fn duplicate(&mut self, now: Instant, idx: u32, key: u64) {
        self.stats.duplicates += 1;
        let pr = self.peer_ref(idx);
        let Some(rec) = self.records.get_mut(&key) else {
            return;
        };
        self.topics[rec.topic as usize].duplicates += 1;
        if rec.deliverers.contains(&pr) {
            return;
        }
        rec.deliverers.push(pr);
        let (t, state) = (rec.topic, rec.state);
        match state {
            State::Pending | State::Ignored => {}
            State::Invalid => self.penalise_invalid(pr, t),
            State::Valid(at) => {
                let window = self
                    .topic_params
                    .get(t as usize)
                    .and_then(|p| p.as_ref())
                    .map_or(Duration::ZERO, |p| p.mesh_message_deliveries_window);
                if now.saturating_duration_since(at) <= window {
                    self.credit_delivery(pr, t, false);
                }
            }
        }
    }

    fn send_idontwant(&mut self, now: Instant, source: u32, t: u32, id: &MessageId) {
        let mesh = self.topics[t as usize].mesh.clone();
        for idx in mesh {
            if idx == source {
                continue;
            }
            let Some(p) = self.peer_mut(idx) else {
                continue;
            };
            if !p.conn.protocol.supports_idontwant() {
                continue;
            }
            match p.queue.control.idontwant.first_mut() {
                Some(d) => {
                    // Its value is in being early: a peer that has not read the last ones
                    // gets the newest.
                    if d.message_ids.len() >= MAX_PENDING_IDONTWANT {
                        d.message_ids.remove(0);
                    }
                    d.message_ids.push(id.0.clone());
                }
                None => p.queue.control.idontwant.push(wire::ControlIDontWant {
                    message_ids: vec![id.0.clone()],
                }),
            }
            self.stats.idontwant_sent += 1;
            self.trace_control(now, idx, Out, ControlKind::IDontWant, Some(t), 1);
            self.schedule(idx);
        }
    }

    fn handle_idontwant(&mut self, now: Instant, idx: u32, ids: &IdList) {
        let ttl = self.config.idontwant_ttl;
        let max = self.config.max_idontwant_ids;
        let hasher = self.hasher.clone();
        let Some(p) = self.peer_mut(idx) else {
            return;
        };
        if !p.conn.protocol.supports_idontwant() {
            return;
        }
        let mut taken = 0;
        for id in ids.ids() {
            if p.dont_want.len() >= max {
                break;
            }
            let key = std::hash::BuildHasher::hash_one(&hasher, id);
            p.dont_want.insert(key, now + ttl);
            p.dont_want_order.push_back((now + ttl, key));
            taken += 1;
        }
        self.stats.idontwant_received += taken;
    }

    fn handle_control(&mut self, now: Instant, idx: u32, control: ControlIn) {
        if self.control.is_some() {
            self.trace_control_in(now, idx, &control);
        }
        if !control.ihave.is_empty() {
            self.handle_ihave(now, idx, &control.ihave);
        }
        if !control.iwant.is_empty() {
            self.handle_iwant(now, idx, &control.iwant);
        }
        for g in control.graft {
            self.stats.graft_received += 1;
            if let Some(name) = g.topic_id {
                self.handle_graft(now, idx, &name);
            }
        }
        for p in control.prune {
            self.stats.prune_received += 1;
            if let Some(name) = p.topic_id.clone() {
                self.handle_prune(now, idx, &name, p);
            }
        }
    }

    /// The control trace's records of what a peer sent (before any check).
    fn trace_control_in(&mut self, now: Instant, idx: u32, control: &ControlIn) {
        for ih in &control.ihave {
            let t = self.topic_of_name(ih.topic());
            let n = ih.len();
            self.trace_control(now, idx, In, ControlKind::IHave, t, n);
        }
        for iw in &control.iwant {
            let n = iw.len();
            self.trace_control(now, idx, In, ControlKind::IWant, None, n);
        }
        for g in &control.graft {
            let t = self.topic_of_name(g.topic_id.as_deref());
            self.trace_control(now, idx, In, ControlKind::Graft, t, 0);
        }
        for p in &control.prune {
            let t = self.topic_of_name(p.topic_id.as_deref());
            let px = p.peers.len();
            self.trace_prune(now, idx, In, t, p.backoff, px);
        }
    }

    fn handle_ihave(&mut self, now: Instant, idx: u32, ihaves: &[IdList]) {
        let max_len = self.config.max_ihave_length;
        let max_msgs = self.config.max_ihave_messages;
        self.stats.ihave_received += ihaves.len() as u64;
        if self.score_of(idx) < self.thresholds.gossip {
            self.stats.ihave_ignored += ihaves.len() as u64;
            return;
        }
        let Some(p) = self.peer_mut(idx) else {
            return;
        };
        // Counted per RPC, as go and rust count them (an RPC may carry one entry per topic).
        p.ihaves += 1;
        if p.ihaves > max_msgs {
            self.stats.ihave_ignored += ihaves.len() as u64;
            return;
        }
        let asked = p.iwant_asked;
        let room = max_len.saturating_sub(asked);
        // Unknown ids, each once (by key, as the seen cache knows them), read where they lie in
        // the frame: a spammer's frame costs a hash and a few lookups an id, not a sort of its
        // ids nor a handle on the frame per id. Nothing is allocated until an id is unknown (an
        // honest peer's IHAVE mostly lists what we have).
        let offered = ihaves.iter().map(IdList::len).sum::<usize>().min(max_len);
        let mut wanted: Vec<&[u8]> = Vec::new();
        // The keys are the router's keyed fingerprints already: no second hash.
        let mut keys: HashSet<u64, BuildNoHashHasher<u64>> = HashSet::default();
        // An id whose IWANT entry could not fit a frame's control would never leave the queue
        // and would hold every IWANT behind it: not asked for.
        let max_id = self
            .config
            .max_control_per_frame
            .saturating_sub(crate::queue::ENTRY_OVERHEAD);
        let mut ignored = 0;
        for ih in ihaves {
            if wanted.len() >= room {
                ignored += 1;
                continue;
            }
            let joined = ih
                .topic()
                .and_then(|n| self.topic_ids.get(n))
                .is_some_and(|&t| self.topics[t as usize].subscribed);
            if !joined {
                continue;
            }
            for id in ih.ids().take(max_len) {
                if wire::id_entry_len(id.len()) > max_id {
                    continue;
                }
                let key = self.key_of_bytes(id);
                if self.seen.contains(key) || self.records.contains_key(&key) {
                    continue;
                }
                if wanted.capacity() == 0 {
                    wanted.reserve(offered);
                    keys.reserve(offered);
                }
                if keys.insert(key) {
                    wanted.push(id);
                }
            }
        }
        self.stats.ihave_ignored += ignored;
        if wanted.len() > room {
            // More than we may ask for: a random choice of them, as go and rust choose. The
            // choice is the slice `partial_shuffle` returns (rand 0.8 builds it at the end of
            // the vector: keeping the front would keep the frame's first ids).
            let (chosen, _) = wanted.partial_shuffle(&mut self.rng, room);
            wanted = chosen.to_vec();
        }
        if wanted.is_empty() {
            return;
        }
        // One promise per IWANT: a random one of the ids must arrive in time.
        let pick = self.rng.gen_range(0..wanted.len());
        let promised = self.key_of_bytes(wanted[pick]);
        let deadline = now + self.config.iwant_followup_time;
        let pr = self.peer_ref(idx);
        self.promises
            .entry(promised)
            .or_default()
            .push((pr, deadline));
        self.promise_order.push_back((deadline, promised));
        let n = wanted.len();
        if let Some(p) = self.peer_mut(idx) {
            p.iwant_asked += n;
            p.queue.ask(&wanted, max_len);
        }
        self.stats.iwant_sent += 1;
        self.trace_control(now, idx, Out, ControlKind::IWant, None, n);
        self.schedule(idx);
    }

    fn handle_iwant(&mut self, now: Instant, idx: u32, iwants: &[IdList]) {
        self.stats.iwant_received += iwants.len() as u64;
        if self.score_of(idx) < self.thresholds.gossip {
            self.stats.iwant_ignored += iwants.len() as u64;
            return;
        }
        let pr = self.peer_ref(idx);
        let limit = self.config.gossip_retransmission;
        let mut answers = Vec::new();
        for id in iwants.iter().flat_map(IdList::ids) {
            let key = self.key_of_bytes(id);
            if self
                .peer(idx)
                .is_some_and(|p| p.dont_want.contains_key(&key))
            {
                continue;
            }
            let Some(rec) = self.records.get_mut(&key) else {
                continue;
            };
            let Some(entry) = rec
                .entry
                .clone()
                .filter(|_| rec.mcache_until.is_some_and(|u| now < u))
            else {
                continue;
            };
            let served = match rec.iwant_served.iter().position(|(r, _)| *r == pr) {
                Some(i) => i,
                None => {
                    rec.iwant_served.push((pr, 0));
                    rec.iwant_served.len() - 1
                }
            };
            rec.iwant_served[served].1 += 1;
            if rec.iwant_served[served].1 > limit {
                self.stats.iwant_ignored += 1;
                continue;
            }
            answers.push(crate::queue::Item {
                key,
                entry,
                at: now,
            });
        }
        if answers.is_empty() {
            return;
        }
        let max = self.config.max_forward_queue;
        let Some(p) = self.peer_mut(idx) else {
            return;
        };
        // A peer that asks but does not read gets no more than a full queue of answers.
        let room = max.saturating_sub(p.queue.priority.len());
        let taken = answers.len().min(room);
        let dropped = answers.len() - taken;
        p.queue.priority.extend(answers.into_iter().take(taken));
        self.stats.dropped_queue_full += dropped as u64;
        self.stats.iwant_answers += taken as u64;
        self.schedule(idx);
    }

    fn handle_graft(&mut self, now: Instant, idx: u32, name: &Bytes) {
        let Some(&t) = self.topic_ids.get(name) else {
            return;
        };
        if !self.topics[t as usize].subscribed {
            return;
        }
        let Some(p) = self.peer(idx) else {
            return;
        };
        if p.in_mesh(t) {
            return;
        }
        let (peer, direct, outbound, subscribed) =
            (p.id, p.direct, p.conn.outbound, p.subscribed(t));
        let prune_backoff = self.config.prune_backoff;
        let refuse = |this: &mut Self, px: bool| {
            this.stats.graft_refused += 1;
            this.prune(
                now,
                t,
                idx,
                PruneReason::GraftRefused,
                Some((px, prune_backoff)),
            );
        };
        if direct {
            tracing::debug!(target: "pheme::router::mesh", %peer, "GRAFT from a direct peer");
            refuse(self, false);
            return;
        }
        if !subscribed {
            // A mesh holds only peers subscribed to its topic.
            tracing::debug!(target: "pheme::router::mesh", %peer, "GRAFT without a subscription");
            refuse(self, false);
            return;
        }
        if let Some(&until) = self.topics[t as usize].backoff.get(&peer)
            && now < until
        {
            // GRAFT inside the backoff: P7, twice when it comes within the flood threshold
            // of the PRUNE; the backoff starts again.
            let mut penalty = 1.0;
            let flood = self.config.graft_flood_threshold;
            if now + prune_backoff < until + flood {
                penalty += 1.0;
            }
            tracing::debug!(target: "pheme::router::mesh", %peer, penalty, "GRAFT inside backoff");
            self.behaviour_penalty(idx, penalty);
            refuse(self, false);
            return;
        }
        if self.score_of(idx) < 0.0 {
            refuse(self, false);
            return;
        }
        if self.topics[t as usize].mesh.len() >= self.config.mesh_n_high && !outbound {
            refuse(self, true);
            return;
        }
        self.graft(now, t, idx, Initiator::Remote);
    }

    fn handle_prune(&mut self, now: Instant, idx: u32, name: &Bytes, prune: wire::ControlPrune) {
        let Some(&t) = self.topic_ids.get(name) else {
            return;
        };
        if !self.topics[t as usize].subscribed {
            return;
        }
        // PX is judged on the score before this PRUNE's mesh failure penalty (as go does).
        let px_score = self.score_of(idx);
        self.prune(now, t, idx, PruneReason::Remote, None);
        let Some(p) = self.peer(idx) else {
            return;
        };
        let peer = p.id;
        let backoff = match prune.backoff {
            Some(s) if s > 0 => Duration::from_secs(s.min(24 * 3600)),
            _ => self.config.prune_backoff,
        };
        let until = now + backoff;
        let e = self.topics[t as usize].backoff.entry(peer).or_insert(until);
        *e = (*e).max(until);
        if !prune.peers.is_empty() {
            self.stats.px_received += 1;
            if px_score >= self.thresholds.accept_px {
                self.accept_px(idx, t, prune.peers);
            }
        }
    }

    /// Any arrival of a message keeps every promise made for it.
    fn fulfil_promises(&mut self, key: u64) {
        self.promises.remove(&key);
    }

    /// Promises whose time ran out: P7 +1 each for the peer that made it.
    pub(crate) fn broken_promises(&mut self, now: Instant) {
        while let Some(&(deadline, key)) = self.promise_order.front() {
            if deadline > now {
                break;
            }
            self.promise_order.pop_front();
            let Some(list) = self.promises.get_mut(&key) else {
                continue;
            };
            let (broken, kept): (Vec<(PeerRef, Instant)>, Vec<_>) =
                list.drain(..).partition(|(_, d)| *d <= now);
            *list = kept;
            if list.is_empty() {
                self.promises.remove(&key);
            }
            for (r, _) in broken {
                if let Some(idx) = self.resolve(r) {
                    self.stats.broken_promises += 1;
                    let peer = self.peer(idx).map(|p| p.id);
                    tracing::debug!(target: "pheme::router::gossip", ?peer, "broken IWANT promise");
                    self.behaviour_penalty(idx, 1.0);
                }
            }
        }
    }
}
