//! The router: state, the inputs it takes and the outputs it gives.

mod heartbeat;
mod inbound;
mod mesh;
pub(crate) mod partial;
pub(crate) mod px;
mod query;
mod records;

pub(crate) use records::{Record, State};

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use fixedbitset::FixedBitSet;
use libp2p_identity::PeerId;
use nohash_hasher::BuildNoHashHasher;
use rand::SeedableRng;
use rand::rngs::StdRng;
use smallvec::SmallVec;

use crate::config::{
    ConfigError, PeerScoreParams, RouterConfig, ScoringConfig, Thresholds, TopicScoreParams,
};
use crate::event::{Event, FrameRefusal, Initiator, PruneReason, RouterStats};
use crate::queue::{Frame, Item, OutQueue};
use crate::score::PeerStats;
use crate::seen::Seen;
use crate::types::{MessageId, MessageTransform, PeerConnection, Verdict};
use crate::wire;

type NoHashMap<V> = HashMap<u64, V, BuildNoHashHasher<u64>>;
type Hasher = foldhash::quality::FixedState;

/// Most topics the router interns when it has no topic filter.
pub const MAX_TOPICS: usize = 4096;

/// A frame for one peer.
#[derive(Debug, Clone)]
pub struct Transmit {
    /// The peer.
    pub peer: PeerId,
    /// The frame, length prefix included.
    pub frame: Frame,
}

/// Why publishing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The transform refused the payload.
    #[error("the transform refused the payload: {0}")]
    Transform(&'static str),
    /// This message was seen already.
    #[error("message {0} was already seen")]
    Duplicate(MessageId),
    /// No peer to send it to.
    #[error("no peer to publish to on {0}")]
    NoPeers(Arc<str>),
    /// The topic could not be interned (the topic table is full, or the filter refuses it).
    #[error("topic {0} refused")]
    Topic(String),
}

/// An input, for owners (and fuzzers) that drive the router from one enum; the methods of
/// [`Router`] take the same inputs one by one.
#[derive(Debug, Clone)]
pub enum Input {
    /// A peer's gossipsub stream is up.
    Connected(PeerId, PeerConnection),
    /// A peer is gone.
    Disconnected(PeerId),
    /// One RPC frame from a peer, without its length prefix.
    Rpc(PeerId, Bytes),
    /// A peer sent a frame longer than `max_transmit_size`; the transport skipped it.
    Oversized(PeerId, usize),
    /// A frame given out by [`Router::poll_transmit`] was written.
    Sent(PeerId),
    /// Time passed.
    Tick,
    /// Publish a payload on a topic.
    Publish(String, Bytes),
    /// Join a topic.
    Subscribe(String),
    /// Leave a topic.
    Unsubscribe(String),
    /// The verdict on a message.
    Verdict(MessageId, Verdict),
    /// A peer's application score.
    AppScore(PeerId, f64),
}

/// A peer handle that goes stale when its slot is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PeerRef {
    pub idx: u32,
    pub generation: u32,
}

pub(crate) struct Peer {
    pub id: PeerId,
    pub generation: u32,
    pub conn: PeerConnection,
    pub direct: bool,
    pub topics: FixedBitSet,
    pub n_topics: usize,
    pub mesh: FixedBitSet,
    pub stats: PeerStats,
    pub queue: OutQueue,
    pub ihaves: usize,
    pub iwant_asked: usize,
    pub dont_want: NoHashMap<Instant>,
    pub dont_want_order: VecDeque<(Instant, u64)>,
    pub reported_score: f64,
    pub graylisted: bool,
    /// Whether it sent its Extensions message.
    pub ext_seen: bool,
    /// Whether it advertised the Partial Messages extension.
    pub ext_partial: bool,
    /// Topics on which it supports partial messages (`supportsPartial` or `requestsPartial`).
    pub partial_supports: FixedBitSet,
    /// Topics on which it requests partial messages.
    pub partial_requests: FixedBitSet,
}

impl Peer {
    pub fn subscribed(&self, t: u32) -> bool {
        self.topics.contains(t as usize)
    }

    pub fn in_mesh(&self, t: u32) -> bool {
        self.mesh.contains(t as usize)
    }
}

pub(crate) struct Topic {
    pub name: Arc<str>,
    pub bytes: Bytes,
    pub allowed: bool,
    pub subscribed: bool,
    pub peers: Vec<u32>,
    pub mesh: Vec<u32>,
    pub fanout: Vec<u32>,
    pub fanout_last: Option<Instant>,
    pub backoff: HashMap<PeerId, Instant>,
    /// Copies of already-received messages on this topic.
    pub duplicates: u64,
    /// Partial messages on this topic: `Some(requests)` when this node supports them.
    pub partial: Option<bool>,
}

/// Gossipsub v1.1/v1.2 router core. It owns no sockets, timers or clock: every input comes
/// with the time, every output is polled. See the crate documentation.
pub struct Router<T> {
    pub(crate) config: RouterConfig,
    pub(crate) scoring: Option<PeerScoreParams>,
    pub(crate) thresholds: Thresholds,
    pub(crate) transform: T,
    pub(crate) rng: StdRng,
    pub(crate) hasher: Hasher,
    pub(crate) filter: bool,
    pub(crate) topic_ids: HashMap<Bytes, u32, Hasher>,
    pub(crate) topics: Vec<Topic>,
    pub(crate) topic_params: Vec<Option<TopicScoreParams>>,
    pub(crate) peer_ids: HashMap<PeerId, u32, Hasher>,
    pub(crate) peers: Vec<Option<Peer>>,
    pub(crate) gens: Vec<u32>,
    pub(crate) free: Vec<u32>,
    pub(crate) ip_peers: HashMap<IpAddr, Vec<u32>, Hasher>,
    pub(crate) records: crate::slab::KeyedSlab<Record>,
    pub(crate) record_order: VecDeque<(Instant, u64)>,
    /// Records kept past their arrival-based time (pending, or validated late).
    pub(crate) record_late: std::collections::BinaryHeap<std::cmp::Reverse<(Instant, u64)>>,
    pub(crate) fast: NoHashMap<u64>,
    pub(crate) fast_order: VecDeque<(Instant, u64)>,
    pub(crate) seen: Seen,
    pub(crate) mcache: crate::mcache::GossipWindows,
    pub(crate) promises: NoHashMap<Vec<(PeerRef, Instant)>>,
    pub(crate) promise_order: VecDeque<(Instant, u64)>,
    pub(crate) ready: VecDeque<PeerRef>,
    /// Peers whose first waiting forward is due, in due order (the delay is constant).
    pub(crate) delayed: VecDeque<(Instant, PeerRef)>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) next_heartbeat: Instant,
    pub(crate) heartbeats: u64,
    pub(crate) next_decay: Instant,
    pub(crate) retained: HashMap<PeerId, (Instant, PeerStats), Hasher>,
    pub(crate) peer_records: HashMap<PeerId, Bytes, Hasher>,
    pub(crate) direct: HashSet<PeerId, Hasher>,
    pub(crate) score_event_delta: f64,
    /// [`Router::record_ttl`], kept current.
    pub(crate) record_ttl: std::time::Duration,
    /// How long past its verdict a valid message's record is kept: its mcache time and the
    /// longest mesh delivery window.
    pub(crate) record_keep: std::time::Duration,
    pub(crate) stats: RouterStats,
    /// The opt-in control trace (`None`: off).
    pub(crate) control: Option<crate::control_trace::ControlTrace>,
}

impl<T: MessageTransform> Router<T> {
    /// A router with `config`, scoring per `scoring` (`None`: off), `transform` for payloads
    /// and ids, and randomness seeded by `seed`, started at `now`.
    pub fn new(
        config: RouterConfig,
        scoring: Option<ScoringConfig>,
        transform: T,
        seed: u64,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        let (scoring, thresholds) = match scoring {
            Some(s) => {
                s.validate()?;
                (Some(s.params), s.thresholds)
            }
            None => (None, Thresholds::default()),
        };
        let hasher = Hasher::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15);
        let decay = scoring.as_ref().map(|s| s.decay_interval);
        let mut router = Self {
            seen: Seen::new(config.seen_ttl, now),
            next_heartbeat: now + config.heartbeat_interval,
            mcache: crate::mcache::GossipWindows::new(config.history_gossip),
            config,
            scoring: None,
            thresholds,
            transform,
            rng: StdRng::seed_from_u64(seed),
            hasher: hasher.clone(),
            filter: false,
            topic_ids: HashMap::with_hasher(hasher.clone()),
            topics: Vec::new(),
            topic_params: Vec::new(),
            peer_ids: HashMap::with_hasher(hasher.clone()),
            peers: Vec::new(),
            gens: Vec::new(),
            free: Vec::new(),
            ip_peers: HashMap::with_hasher(hasher.clone()),
            records: crate::slab::KeyedSlab::default(),
            record_order: VecDeque::new(),
            record_late: std::collections::BinaryHeap::new(),
            fast: NoHashMap::default(),
            fast_order: VecDeque::new(),
            promises: NoHashMap::default(),
            promise_order: VecDeque::new(),
            ready: VecDeque::new(),
            delayed: VecDeque::new(),
            events: VecDeque::new(),
            heartbeats: 0,
            next_decay: now + decay.unwrap_or(std::time::Duration::from_secs(1)),
            retained: HashMap::with_hasher(hasher.clone()),
            peer_records: HashMap::with_hasher(hasher.clone()),
            direct: HashSet::with_hasher(hasher),
            score_event_delta: 1.0,
            record_ttl: std::time::Duration::ZERO,
            record_keep: std::time::Duration::ZERO,
            stats: RouterStats::default(),
            control: None,
        };
        if let Some(params) = scoring {
            router.set_score_params(params)?;
        }
        router.record_ttl = router.record_ttl();
        router.record_keep = router.record_keep();
        Ok(router)
    }

    // ----- configuration -----

    /// The configuration.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// The thresholds in force (all negative infinity when scoring is off).
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Replaces the score parameters (topics included), keeping every counter; scores are
    /// recomputed. Does nothing when scoring is off.
    pub fn set_score_params(&mut self, params: PeerScoreParams) -> Result<(), ConfigError> {
        params.validate()?;
        let whitelist: HashSet<IpAddr> = params.ip_colocation_whitelist.iter().copied().collect();
        // Interned in name order, so topic ids do not depend on the map's order.
        let mut names: Vec<(&String, &TopicScoreParams)> = params.topics.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        for (name, p) in names {
            if let Some(t) = self.intern(name.as_bytes(), true) {
                self.topic_params[t as usize] = Some(*p);
            }
        }
        // Topics no longer listed lose their parameters.
        for (i, t) in self.topics.iter().enumerate() {
            if !params.topics.contains_key(&*t.name) {
                self.topic_params[i] = None;
            }
        }
        for p in self.peers.iter_mut().flatten() {
            p.stats.ip_whitelisted = p.conn.ip.is_some_and(|ip| whitelist.contains(&ip));
            p.stats.recompute(&params, &self.topic_params);
        }
        self.scoring = Some(params);
        self.record_ttl = self.record_ttl();
        self.record_keep = self.record_keep();
        Ok(())
    }

    /// Replaces the thresholds.
    pub fn set_thresholds(&mut self, thresholds: Thresholds) -> Result<(), ConfigError> {
        thresholds.validate()?;
        if self.scoring.is_some() {
            self.thresholds = thresholds;
        }
        Ok(())
    }

    /// Accepts peers' subscriptions only to `topics` from now on (Ethereum: the topics of the
    /// fork digests in use). Without a call, any topic is accepted up to [`MAX_TOPICS`].
    pub fn set_allowed_topics<'a>(&mut self, topics: impl IntoIterator<Item = &'a str>) {
        self.filter = true;
        for t in &mut self.topics {
            t.allowed = false;
        }
        for name in topics {
            if let Some(t) = self.intern(name.as_bytes(), true) {
                self.topics[t as usize].allowed = true;
            }
        }
    }

    /// Marks a peer as direct (gossipsub v1.1): it gets every valid message, its RPCs are
    /// always accepted, it is never meshed with or gossiped to.
    pub fn add_direct_peer(&mut self, now: Instant, peer: PeerId) {
        self.direct.insert(peer);
        if let Some(&i) = self.peer_ids.get(&peer) {
            self.remove_from_meshes(now, i, PruneReason::GraftRefused);
            if let Some(p) = self.peers[i as usize].as_mut() {
                p.direct = true;
            }
        }
    }

    /// A signed peer record (a libp2p signed envelope) of a connected peer, for peer exchange.
    pub fn set_peer_record(&mut self, peer: PeerId, envelope: Bytes) {
        if self.peer_ids.contains_key(&peer) {
            self.peer_records.insert(peer, envelope);
        }
    }

    /// The score change below which no [`Event::ScoreChanged`] is emitted (default 1.0).
    pub fn set_score_event_delta(&mut self, delta: f64) {
        self.score_event_delta = delta;
    }

    // ----- inputs -----

    /// Feeds one [`Input`].
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        match input {
            Input::Connected(p, c) => self.add_peer(now, p, c),
            Input::Disconnected(p) => self.remove_peer(now, &p),
            Input::Rpc(p, frame) => self.handle_rpc(now, &p, frame),
            Input::Oversized(p, len) => self.oversized_frame(now, &p, len),
            Input::Sent(p) => self.sent(&p),
            Input::Tick => self.tick(now),
            Input::Publish(t, payload) => {
                let _ = self.publish(now, &t, &payload);
            }
            Input::Subscribe(t) => {
                self.subscribe(now, &t);
            }
            Input::Unsubscribe(t) => {
                self.unsubscribe(now, &t);
            }
            Input::Verdict(id, v) => self.report(now, &id, v),
            Input::AppScore(p, s) => self.set_application_score(&p, s),
        }
    }

    /// A peer's gossipsub stream is up. It is sent this node's subscriptions.
    pub fn add_peer(&mut self, now: Instant, peer: PeerId, conn: PeerConnection) {
        if let Some(&i) = self.peer_ids.get(&peer) {
            if let Some(p) = self.peers[i as usize].as_mut() {
                p.conn.protocol = p.conn.protocol.max(conn.protocol);
            }
            return;
        }
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.peers.push(None);
                self.gens.push(0);
                (self.peers.len() - 1) as u32
            }
        };
        self.gens[idx as usize] = self.gens[idx as usize].wrapping_add(1);
        let generation = self.gens[idx as usize];
        let mut stats = match self.retained.remove(&peer) {
            Some((_, s)) => s,
            None => PeerStats::default(),
        };
        if let (Some(params), Some(ip)) = (&self.scoring, conn.ip) {
            stats.ip_whitelisted = params.ip_colocation_whitelist.contains(&ip);
        }
        let mut queue = OutQueue::default();
        for t in self.topics.iter().filter(|t| t.subscribed) {
            queue
                .subs
                .push_back(wire::encode_subscription_opts(&t.bytes, true, t.partial));
        }
        if self.config.partial_messages && conn.protocol.supports_extensions() {
            queue.control.extensions = Some(wire::ControlExtensions {
                partial_messages: Some(true),
            });
        }
        let direct = self.direct.contains(&peer);
        self.peers[idx as usize] = Some(Peer {
            id: peer,
            generation,
            conn,
            direct,
            topics: FixedBitSet::with_capacity(self.topics.len()),
            n_topics: 0,
            mesh: FixedBitSet::with_capacity(self.topics.len()),
            stats,
            queue,
            ihaves: 0,
            iwant_asked: 0,
            dont_want: NoHashMap::default(),
            dont_want_order: VecDeque::new(),
            reported_score: 0.0,
            graylisted: false,
            ext_seen: false,
            ext_partial: false,
            partial_supports: FixedBitSet::with_capacity(self.topics.len()),
            partial_requests: FixedBitSet::with_capacity(self.topics.len()),
        });
        self.peer_ids.insert(peer, idx);
        if let Some(ip) = conn.ip {
            self.ip_peers.entry(ip).or_default().push(idx);
            self.refresh_ip(ip);
        } else if let Some(params) = &self.scoring
            && let Some(p) = self.peers[idx as usize].as_mut()
        {
            p.stats.ip_peers = 0;
            p.stats.recompute(params, &self.topic_params);
        }
        if let Some(params) = &self.scoring
            && let Some(p) = self.peers[idx as usize].as_mut()
        {
            p.stats.recompute(params, &self.topic_params);
        }
        tracing::debug!(target: "pheme::router::peers", %peer, protocol = %conn.protocol, outbound = conn.outbound, "peer added");
        self.schedule(idx);
        let _ = now;
    }

    /// A peer is gone: it leaves every topic and mesh; its score is retained for
    /// `retain_score` when not positive.
    pub fn remove_peer(&mut self, now: Instant, peer: &PeerId) {
        let Some(idx) = self.peer_ids.remove(peer) else {
            return;
        };
        self.remove_from_meshes(now, idx, PruneReason::Disconnected);
        let Some(mut p) = self.peers[idx as usize].take() else {
            return;
        };
        for t in p.topics.ones() {
            if let Some(topic) = self.topics.get_mut(t) {
                topic.peers.retain(|&i| i != idx);
                topic.fanout.retain(|&i| i != idx);
            }
        }
        if let Some(ip) = p.conn.ip {
            if let Some(v) = self.ip_peers.get_mut(&ip) {
                v.retain(|&i| i != idx);
                if v.is_empty() {
                    self.ip_peers.remove(&ip);
                }
            }
            self.refresh_ip(ip);
        }
        self.peer_records.remove(peer);
        if let Some(params) = &self.scoring {
            p.stats.on_disconnect(&self.topic_params);
            p.stats.recompute(params, &self.topic_params);
            if p.stats.score <= 0.0 && !p.stats.is_zero() && !params.retain_score.is_zero() {
                self.retained
                    .insert(*peer, (now + params.retain_score, p.stats));
            }
        }
        self.free.push(idx);
        tracing::debug!(target: "pheme::router::peers", %peer, "peer removed");
    }

    /// The frame given out for `peer` was written: its window opens again.
    pub fn sent(&mut self, peer: &PeerId) {
        let Some(&idx) = self.peer_ids.get(peer) else {
            return;
        };
        if let Some(p) = self.peers[idx as usize].as_mut() {
            p.queue.in_flight = p.queue.in_flight.saturating_sub(1);
        }
        self.schedule(idx);
    }

    /// A peer sent a frame over `max_transmit_size` (the transport skipped its bytes): P7.
    pub fn oversized_frame(&mut self, now: Instant, peer: &PeerId, len: usize) {
        let Some(&idx) = self.peer_ids.get(peer) else {
            return;
        };
        let limit = self.config.max_transmit_size;
        self.refuse_frame(now, idx, FrameRefusal::Oversized { len, limit });
    }

    /// Sets a peer's application score (P5).
    pub fn set_application_score(&mut self, peer: &PeerId, score: f64) {
        let Some(&idx) = self.peer_ids.get(peer) else {
            return;
        };
        if let (Some(params), Some(p)) = (&self.scoring, self.peers[idx as usize].as_mut()) {
            p.stats.app_score = score;
            p.stats.refresh_total(params);
        }
    }

    /// Time passed: batched forwards whose wait is over become ready, and the heartbeat runs
    /// when it is due.
    pub fn tick(&mut self, now: Instant) {
        while let Some(&(due, r)) = self.delayed.front() {
            if due > now {
                break;
            }
            self.delayed.pop_front();
            if let Some(idx) = self.resolve(r) {
                self.schedule(idx);
            }
        }
        self.expire_records(now);
        if now >= self.next_heartbeat {
            // A late tick runs one heartbeat, not the missed ones.
            self.next_heartbeat = now + self.config.heartbeat_interval;
            self.heartbeat(now);
        }
    }

    /// When [`tick`](Self::tick) should next be called: the heartbeat, or the first batched
    /// forward due before it.
    pub fn poll_timeout(&self) -> Instant {
        match self.delayed.front() {
            Some(&(due, _)) => due.min(self.next_heartbeat),
            None => self.next_heartbeat,
        }
    }

    /// The next frame to write, for a peer whose window has room.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        while let Some(r) = self.ready.pop_front() {
            let window = self.config.send_window;
            let (max_control, max_batch, max_messages, max_age) = (
                self.config.max_control_per_frame,
                self.config.max_batch_bytes,
                self.config.max_batch_messages,
                self.config.max_forward_age,
            );
            let Some(p) = self.peers.get_mut(r.idx as usize).and_then(Option::as_mut) else {
                continue;
            };
            if p.generation != r.generation {
                continue;
            }
            p.queue.scheduled = false;
            if p.queue.in_flight >= window {
                continue;
            }
            let dont_want = &p.dont_want;
            let (frame, dropped) =
                p.queue
                    .build_frame(now, max_control, max_batch, max_messages, max_age, |k| {
                        dont_want.contains_key(&k)
                    });
            self.stats.dropped_stale += dropped.stale;
            self.stats.idontwant_cancelled += dropped.cancelled;
            let Some(frame) = frame else {
                continue;
            };
            p.queue.in_flight += 1;
            let peer = p.id;
            let more = !p.queue.is_empty() && p.queue.in_flight < window;
            self.stats.frames_sent += 1;
            self.stats.bytes_sent += frame.len() as u64;
            if more {
                self.schedule(r.idx);
            }
            return Some(Transmit { peer, frame });
        }
        None
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ----- topics -----

    /// Joins a topic: announces it and builds its mesh. Returns false if the topic could not
    /// be interned.
    pub fn subscribe(&mut self, now: Instant, topic: &str) -> bool {
        let Some(t) = self.intern(topic.as_bytes(), true) else {
            return false;
        };
        if self.topics[t as usize].subscribed {
            return true;
        }
        self.topics[t as usize].subscribed = true;
        self.announce(t, true);
        self.join_mesh(now, t);
        tracing::debug!(target: "pheme::router::topics", topic, "subscribed");
        true
    }

    /// Leaves a topic: announces it and prunes its mesh with the unsubscribe backoff.
    pub fn unsubscribe(&mut self, now: Instant, topic: &str) -> bool {
        let Some(&t) = self.topic_ids.get(topic.as_bytes()) else {
            return false;
        };
        if !self.topics[t as usize].subscribed {
            return false;
        }
        self.topics[t as usize].subscribed = false;
        self.announce(t, false);
        let backoff = self.config.unsubscribe_backoff;
        for idx in self.topics[t as usize].mesh.clone() {
            self.prune(
                now,
                t,
                idx,
                PruneReason::Unsubscribed,
                Some((true, backoff)),
            );
        }
        tracing::debug!(target: "pheme::router::topics", topic, "unsubscribed");
        true
    }

    pub(crate) fn announce(&mut self, t: u32, subscribe: bool) {
        let topic = &self.topics[t as usize];
        let entry = wire::encode_subscription_opts(&topic.bytes, subscribe, topic.partial);
        let idxs: Vec<u32> = self.peer_ids.values().copied().collect();
        for idx in idxs {
            if let Some(p) = self.peers[idx as usize].as_mut() {
                p.queue.subs.push_back(entry.clone());
            }
            self.schedule(idx);
        }
    }

    /// The topic's id, interning it if allowed (`local`: this node's own use, always allowed
    /// while the table has room).
    pub(crate) fn intern(&mut self, name: &[u8], local: bool) -> Option<u32> {
        if let Some(&t) = self.topic_ids.get(name) {
            return Some(t);
        }
        if (!local && self.filter) || self.topics.len() >= MAX_TOPICS {
            return None;
        }
        let s = std::str::from_utf8(name).ok()?;
        let t = self.topics.len() as u32;
        let bytes = Bytes::copy_from_slice(name);
        self.topics.push(Topic {
            name: Arc::from(s),
            bytes: bytes.clone(),
            allowed: !self.filter,
            subscribed: false,
            peers: Vec::new(),
            mesh: Vec::new(),
            fanout: Vec::new(),
            fanout_last: None,
            backoff: HashMap::new(),
            duplicates: 0,
            partial: None,
        });
        self.topic_params.push(None);
        self.topic_ids.insert(bytes, t);
        for p in self.peers.iter_mut().flatten() {
            p.topics.grow(self.topics.len());
            p.mesh.grow(self.topics.len());
            p.partial_supports.grow(self.topics.len());
            p.partial_requests.grow(self.topics.len());
        }
        Some(t)
    }

    // ----- publishing and verdicts -----

    /// Publishes `payload` (Ethereum: SSZ bytes; the transform compresses it) on `topic`:
    /// to every topic peer at or above the publish threshold with flood publishing, else to
    /// the mesh or the fanout; direct peers always.
    pub fn publish(
        &mut self,
        now: Instant,
        topic: &str,
        payload: &[u8],
    ) -> Result<MessageId, PublishError> {
        let t = self
            .intern(topic.as_bytes(), true)
            .ok_or_else(|| PublishError::Topic(topic.to_owned()))?;
        let (wire_data, id) = self
            .transform
            .outbound(topic, payload)
            .map_err(|r| PublishError::Transform(r.reason))?;
        let key = self.key_of(&id);
        if self.seen.contains(key) {
            return Err(PublishError::Duplicate(id));
        }
        let recipients = self.publish_recipients(now, t, wire_data.len());
        // Peers that request partial messages are the owner's to serve: a topic with only
        // them still has someone to publish to.
        let partial_peers = self.topics[t as usize].partial.is_some()
            && self.topics[t as usize]
                .peers
                .iter()
                .any(|&i| self.wants_partial(i, t));
        if recipients.is_empty() && !partial_peers {
            return Err(PublishError::NoPeers(self.topics[t as usize].name.clone()));
        }
        self.seen.insert(now, key);
        let entry = wire::encode_publish_entry(&self.topics[t as usize].bytes, &wire_data);
        let fast = self.fast_key(t, &wire_data);
        self.insert_fast(now, fast, key);
        self.insert_record(
            now,
            key,
            Record {
                id: id.clone(),
                topic: t,
                state: State::Valid(now),
                first_seen: now,
                deliverers: SmallVec::new(),
                wire: None,
                entry: Some(entry.clone()),
                mcache_until: Some(now + self.mcache_span()),
                iwant_served: Vec::new(),
            },
        );
        self.mcache
            .push(t, &self.topics[t as usize].bytes, id.as_bytes());
        for idx in recipients {
            self.stats.publish_sends += 1;
            let item = Item {
                key,
                entry: entry.clone(),
                at: now,
            };
            self.enqueue(idx, item, false);
        }
        self.stats.published += 1;
        Ok(id)
    }

    /// The verdict on a message this router handed out. Accepted messages are forwarded;
    /// the first deliverer earns P2, mesh deliverers P3; rejected ones cost every deliverer P4.
    pub fn report(&mut self, now: Instant, id: &MessageId, verdict: Verdict) {
        let key = self.key_of(id);
        let Some(rec) = self.records.get_mut(&key) else {
            return;
        };
        if rec.state != State::Pending {
            return;
        }
        let topic = rec.topic;
        let deliverers = rec.deliverers.clone();
        let span = self.config.heartbeat_interval * self.config.history_length as u32;
        match verdict {
            Verdict::Accept => {
                self.stats.accepted += 1;
                rec.state = State::Valid(now);
                let wire_data = rec.wire.take().unwrap_or_default();
                let entry =
                    wire::encode_publish_entry(&self.topics[topic as usize].bytes, &wire_data);
                rec.entry = Some(entry.clone());
                rec.mcache_until = Some(now + span);
                self.mcache
                    .push(topic, &self.topics[topic as usize].bytes, rec.id.as_bytes());
                for (i, d) in deliverers.iter().enumerate() {
                    self.credit_delivery(*d, topic, i == 0);
                }
                self.forward(now, key, topic, entry, &deliverers);
            }
            Verdict::Ignore => {
                self.stats.ignored += 1;
                rec.state = State::Ignored;
                rec.wire = None;
            }
            Verdict::Reject => {
                self.stats.rejected += 1;
                rec.state = State::Invalid;
                rec.wire = None;
                for d in &deliverers {
                    self.penalise_invalid(*d, topic);
                }
            }
        }
    }

    // ----- internals shared by the submodules -----

    pub(crate) fn peer(&self, idx: u32) -> Option<&Peer> {
        self.peers.get(idx as usize)?.as_ref()
    }

    pub(crate) fn peer_mut(&mut self, idx: u32) -> Option<&mut Peer> {
        self.peers.get_mut(idx as usize)?.as_mut()
    }

    pub(crate) fn resolve(&self, r: PeerRef) -> Option<u32> {
        self.peer(r.idx)
            .filter(|p| p.generation == r.generation)
            .map(|_| r.idx)
    }

    pub(crate) fn peer_ref(&self, idx: u32) -> PeerRef {
        PeerRef {
            idx,
            generation: self.gens[idx as usize],
        }
    }

    pub(crate) fn score_of(&self, idx: u32) -> f64 {
        if self.scoring.is_none() {
            return 0.0;
        }
        self.peer(idx).map_or(0.0, |p| p.stats.score)
    }

    pub(crate) fn key_of(&self, id: &MessageId) -> u64 {
        self.key_of_bytes(id.as_bytes())
    }

    /// [`key_of`](Self::key_of) for an id still in the frame's bytes (no `Bytes` clone).
    pub(crate) fn key_of_bytes(&self, id: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(id)
    }

    pub(crate) fn fast_key(&self, t: u32, data: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one((t, data))
    }

    /// Puts a peer in line for [`poll_transmit`](Self::poll_transmit) if it has something
    /// queued and room in its window.
    pub(crate) fn schedule(&mut self, idx: u32) {
        let window = self.config.send_window;
        let Some(p) = self.peers.get_mut(idx as usize).and_then(Option::as_mut) else {
            return;
        };
        if p.queue.scheduled || p.queue.in_flight >= window || p.queue.is_empty() {
            return;
        }
        p.queue.scheduled = true;
        let r = PeerRef {
            idx,
            generation: p.generation,
        };
        self.ready.push_back(r);
    }

    /// Updates one topic's counters of a peer and its cached score.
    pub(crate) fn update_topic_stats(
        &mut self,
        idx: u32,
        t: u32,
        f: impl FnOnce(&mut crate::score::TopicStats, Option<&TopicScoreParams>),
    ) {
        let Some(params) = &self.scoring else {
            return;
        };
        let tp = self.topic_params.get(t as usize).and_then(Option::as_ref);
        if let Some(p) = self.peers.get_mut(idx as usize).and_then(Option::as_mut) {
            p.stats.update_topic(t as usize, tp, params, f);
        }
    }

    /// P7 +`n` for a peer.
    pub(crate) fn behaviour_penalty(&mut self, idx: u32, n: f64) {
        let Some(params) = &self.scoring else {
            return;
        };
        if let Some(p) = self.peers.get_mut(idx as usize).and_then(Option::as_mut) {
            p.stats.behaviour_penalty += n;
            p.stats.refresh_total(params);
        }
    }

    /// Keeps P6 current for every peer on `ip`.
    fn refresh_ip(&mut self, ip: IpAddr) {
        let Some(params) = &self.scoring else {
            return;
        };
        let idxs = self.ip_peers.get(&ip).cloned().unwrap_or_default();
        let n = idxs.len();
        for i in idxs {
            if let Some(p) = self.peers.get_mut(i as usize).and_then(Option::as_mut) {
                p.stats.ip_peers = n;
                p.stats.refresh_total(params);
            }
        }
    }

    pub(crate) fn refuse_frame(&mut self, now: Instant, idx: u32, reason: FrameRefusal) {
        let _ = now;
        self.stats.frames_refused += 1;
        let Some(peer) = self.peer(idx).map(|p| p.id) else {
            return;
        };
        tracing::debug!(target: "pheme::router::wire", %peer, %reason, "frame refused");
        self.behaviour_penalty(idx, 1.0);
        self.events.push_back(Event::FrameRefused { peer, reason });
    }

    fn remove_from_meshes(&mut self, now: Instant, idx: u32, reason: PruneReason) {
        let Some(p) = self.peer(idx) else {
            return;
        };
        let meshes: Vec<u32> = p.mesh.ones().map(|t| t as u32).collect();
        for t in meshes {
            self.prune(now, t, idx, reason, None);
        }
    }

    pub(crate) fn emit_graft(&mut self, idx: u32, t: u32, initiator: Initiator) {
        if let Some(p) = self.peer(idx) {
            let peer = p.id;
            let topic = self.topics[t as usize].name.clone();
            tracing::debug!(target: "pheme::router::mesh", %peer, %topic, ?initiator, "graft");
            self.events.push_back(Event::Grafted {
                peer,
                topic,
                initiator,
            });
        }
    }
}
