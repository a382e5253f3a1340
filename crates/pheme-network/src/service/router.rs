//! The gossipsub router the service runs, Pheme's own or libp2p-gossipsub, behind one set of
//! methods: building it from the presets, topics, publishing, verdicts, scores, meshes, and
//! the router's events and metrics.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{PeerId, gossipsub};
use pheme_gossip::Verdict;
use pheme_router::{Event as RouterEvent, MessageId, Router};
use pheme_scoring::ScorePreset;
use pheme_spec::{ChainSpec, ForkDigest, GossipKind, unix_now_ms};
use prometheus_client::registry::Registry;
use tokio::sync::mpsc;

use super::Service;
use super::build::{NetworkError, by_digest};
use crate::config::{NetworkConfig, RouterKind};
use crate::handle::{HandleError, Outgoing, PublishFailed};
use crate::meshsub::Meshsub;
use crate::params::{
    ParamsError, acceptance, gossipsub_config_builder, peer_score_params, router_config,
    router_score_params, router_thresholds,
};
use crate::scores::ScoreBreakdown;
use crate::transform::{
    Arrivals, Eth2SubscriptionFilter, Eth2Transform, SnappyTransform, TransformCounters,
    message_id_fn,
};
use crate::validation::Inbound;

pub(crate) type Gossipsub = gossipsub::Behaviour<SnappyTransform, Eth2SubscriptionFilter>;

/// What building the router gives the service.
pub(crate) struct Built {
    pub gossipsub: Toggle<Gossipsub>,
    pub meshsub: Toggle<Meshsub>,
    pub counters: Arc<TransformCounters>,
    /// The libp2p transform's arrival records (empty with Pheme's router).
    pub arrivals: Arc<Mutex<Arrivals>>,
    pub filter: Eth2SubscriptionFilter,
    /// The graylist threshold bans use.
    pub graylist: f64,
}

/// Builds the configured router for the presets in force (`current` first).
pub(crate) fn build(
    config: &NetworkConfig,
    chain: &Arc<ChainSpec>,
    presets: &BTreeMap<ForkDigest, ScorePreset>,
    current: &ScorePreset,
    registry: Option<&mut Registry>,
) -> Result<Built, NetworkError> {
    let filter = Eth2SubscriptionFilter::default();
    let graylist = current.thresholds.graylist_threshold;
    match config.router {
        RouterKind::Pheme => {
            let transform = Eth2Transform::new(chain.clone());
            let counters = transform.counters();
            let mut builder = pheme_router::RouterConfig::builder_from(router_config(current)?)
                .forward_delay(config.forward_delay)
                .partial_messages(config.partial_columns);
            if let Some(px) = config.peer_exchange {
                builder = builder.do_px(px);
            }
            let router_cfg = builder.build().map_err(ParamsError::from)?;
            let scoring = if config.scoring {
                Some(pheme_router::ScoringConfig {
                    params: router_score_params(&by_digest(presets), &config.ip_whitelist)?,
                    thresholds: router_thresholds(current)?,
                })
            } else {
                None
            };
            let seed = config.router_seed.unwrap_or_else(rand::random);
            let mut router = Router::new(router_cfg, scoring, transform, seed, Instant::now())
                .map_err(ParamsError::from)?;
            if config.observer.control.is_some() {
                router.set_control_trace(Some(pheme_router::DEFAULT_CONTROL_TRACE_CAPACITY));
            }
            Ok(Built {
                gossipsub: Toggle::from(None),
                meshsub: Toggle::from(Some(Meshsub::new(router))),
                counters,
                arrivals: Arc::default(),
                filter,
                graylist,
            })
        }
        RouterKind::Libp2p => {
            let transform = SnappyTransform::new(chain.clone());
            let mut builder = gossipsub_config_builder(current);
            builder
                .validation_mode(gossipsub::ValidationMode::Anonymous)
                .validate_messages()
                .message_id_fn(message_id_fn(&transform))
                .max_transmit_size(chain.max_message_size() as usize)
                .duplicate_cache_time(Duration::from_millis(chain.seen_ttl_ms()));
            let gs_config = builder.build().map_err(ParamsError::from)?;
            let mut gs = Gossipsub::new_with_subscription_filter_and_transform(
                gossipsub::MessageAuthenticity::Anonymous,
                gs_config,
                filter.clone(),
                transform.clone(),
            )
            .map_err(NetworkError::Gossipsub)?;
            if config.scoring {
                let mut params = peer_score_params(&by_digest(presets))?;
                params.ip_colocation_factor_whitelist =
                    config.ip_whitelist.iter().copied().collect();
                gs.with_peer_score(params, crate::params::peer_score_thresholds(current)?)
                    .map_err(NetworkError::PeerScore)?;
            }
            if let Some(r) = registry {
                gs = gs.with_metrics(
                    r.sub_registry_with_prefix("libp2p_gossipsub"),
                    gossipsub::MetricsConfig::default(),
                );
            }
            Ok(Built {
                gossipsub: Toggle::from(Some(gs)),
                meshsub: Toggle::from(None),
                counters: transform.counters(),
                arrivals: transform.arrivals(),
                filter,
                graylist,
            })
        }
    }
}

impl Service {
    fn libp2p(&mut self) -> Option<&mut Gossipsub> {
        self.swarm.behaviour_mut().gossipsub.as_mut()
    }

    pub(super) fn pheme(&mut self) -> Option<&mut Router<Eth2Transform>> {
        self.swarm
            .behaviour_mut()
            .meshsub
            .as_mut()
            .map(Meshsub::router_mut)
    }

    pub(super) fn pheme_ref(&self) -> Option<&Router<Eth2Transform>> {
        self.swarm.behaviour().meshsub.as_ref().map(Meshsub::router)
    }

    /// Joins a topic.
    pub(super) fn gs_subscribe(&mut self, topic: &str) -> bool {
        let now = Instant::now();
        self.prepare_partial(topic);
        if let Some(r) = self.pheme() {
            return r.subscribe(now, topic);
        }
        self.libp2p().is_some_and(|g| {
            g.subscribe(&gossipsub::IdentTopic::new(topic))
                .map_err(|e| {
                    tracing::warn!(target: "pheme::network::topics", topic, error = %e, "subscribe failed")
                })
                .is_ok()
        })
    }

    /// Leaves a topic.
    pub(super) fn gs_unsubscribe(&mut self, topic: &str) {
        let now = Instant::now();
        if let Some(r) = self.pheme() {
            r.unsubscribe(now, topic);
        } else if let Some(g) = self.libp2p() {
            g.unsubscribe(&gossipsub::IdentTopic::new(topic));
        }
    }

    /// Accepts peers' subscriptions to `topics` only.
    pub(super) fn gs_set_allowed(&mut self, topics: Vec<String>) {
        if let Some(r) = self.pheme() {
            r.set_allowed_topics(topics.iter().map(String::as_str));
        }
        self.filter
            .set_allowed(topics.into_iter().map(gossipsub::TopicHash::from_raw));
    }

    /// Publishes on `kind` at the current fork digest.
    pub(super) fn publish(
        &mut self,
        kind: GossipKind,
        message: Outgoing,
    ) -> Result<gossipsub::MessageId, HandleError> {
        let Some((d, _)) = self.kinds.first() else {
            return Err(HandleError::NoSuchTopic(kind));
        };
        let (digest, fork) = (d.digest, d.fork);
        if !kind.exists_at(&self.chain, fork) {
            return Err(HandleError::NoSuchTopic(kind));
        }
        let ssz = match message {
            Outgoing::Ssz(ssz) => ssz,
            Outgoing::Payload(p) => p.encode_for(&self.chain, kind, fork)?,
        };
        self.gs_publish(&crate::params::topic_name(digest, kind), ssz)
    }

    /// Publishes SSZ bytes on a topic (the transform compresses them).
    pub(super) fn gs_publish(
        &mut self,
        topic: &str,
        ssz: Vec<u8>,
    ) -> Result<gossipsub::MessageId, HandleError> {
        let now = Instant::now();
        self.on_own_column(topic, &ssz);
        if let Some(r) = self.pheme() {
            return r
                .publish(now, topic, &ssz)
                .map(|id| gossipsub::MessageId::new(id.as_bytes()))
                .map_err(|e| HandleError::Publish(PublishFailed::Router(e)));
        }
        match self.libp2p() {
            Some(g) => g
                .publish(gossipsub::TopicHash::from_raw(topic), ssz)
                .map_err(|e| HandleError::Publish(PublishFailed::Libp2p(e.into()))),
            None => Err(HandleError::Stopped),
        }
    }

    /// The verdict on a message a router handed out.
    pub(super) fn gs_report(&mut self, id: &MessageId, source: &PeerId, verdict: Verdict) {
        let now = Instant::now();
        if let Some(r) = self.pheme() {
            let v = match verdict {
                Verdict::Accept => pheme_router::Verdict::Accept,
                Verdict::Ignore => pheme_router::Verdict::Ignore,
                Verdict::Reject => pheme_router::Verdict::Reject,
            };
            r.report(now, id, v);
        } else if let Some(g) = self.libp2p() {
            g.report_message_validation_result(
                &gossipsub::MessageId::new(id.as_bytes()),
                source,
                acceptance(verdict),
            );
        }
    }

    /// A peer's application score (P5).
    pub(super) fn gs_set_app_score(&mut self, peer: &PeerId, score: f64) {
        if let Some(r) = self.pheme() {
            r.set_application_score(peer, score);
        } else if let Some(g) = self.libp2p() {
            g.set_application_score(peer, score);
        }
    }

    /// The mesh of a topic.
    pub(super) fn gs_mesh(&self, topic: &str) -> Vec<PeerId> {
        if let Some(r) = self.pheme_ref() {
            return r.mesh_peers(topic);
        }
        self.swarm
            .behaviour()
            .gossipsub
            .as_ref()
            .map(|g| {
                g.mesh_peers(&gossipsub::TopicHash::from_raw(topic))
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A peer's score (`None` when the router does not score it).
    pub(super) fn gs_score(&self, peer: &PeerId) -> Option<f64> {
        if let Some(r) = self.pheme_ref() {
            return self.config.scoring.then(|| r.score(peer));
        }
        self.swarm.behaviour().gossipsub.as_ref()?.peer_score(peer)
    }

    /// A peer's score with every component.
    pub(super) fn gs_breakdown(&self, peer: &PeerId, now: Instant) -> ScoreBreakdown {
        if let Some(b) = self.pheme_ref().and_then(|r| r.score_breakdown(peer)) {
            return ScoreBreakdown::from_router(&b);
        }
        let total = self.gs_score(peer).unwrap_or(0.0);
        self.scores.breakdown(peer, total, now)
    }

    /// Pushes the presets' topic parameters into the router (and the libp2p tracker).
    pub(super) fn gs_apply_presets(&mut self) -> Result<(), ParamsError> {
        if !self.config.scoring {
            return Ok(());
        }
        let presets = by_digest(&self.presets);
        if self.pheme_ref().is_some() {
            let params = router_score_params(&presets, &self.config.ip_whitelist)?;
            if let Some(r) = self.pheme() {
                r.set_score_params(params)?;
            }
            return Ok(());
        }
        let params = peer_score_params(&presets)?;
        if let Some(g) = self.libp2p() {
            for (topic, p) in &params.topics {
                let _ = g.set_topic_params(gossipsub::IdentTopic::new(topic.as_str()), p.clone());
            }
        }
        self.scores.set_topic_params(&params);
        Ok(())
    }

    /// Hands a message to the validation task, or IGNOREs it when the task is behind (the
    /// swarm never waits).
    pub(super) fn validate(&mut self, inbound: Inbound) {
        let Err(e) = self.inbound.try_send(inbound) else {
            return;
        };
        let (inbound, reason) = match e {
            mpsc::error::TrySendError::Full(i) => (i, "queue_full"),
            mpsc::error::TrySendError::Closed(i) => {
                if !self.validation_stopped {
                    self.validation_stopped = true;
                    tracing::error!(target: "pheme::network::gossip", "the validation task stopped: every gossip message is IGNOREd from now on");
                }
                (i, "validation_stopped")
            }
        };
        self.config
            .metrics
            .count("pheme_gossip_queue_dropped_total", &[("reason", reason)], 1);
        self.gs_report(&inbound.id, &inbound.source, Verdict::Ignore);
        self.record_unvalidated(Unvalidated {
            peer: inbound.source,
            topic: Some(inbound.topic),
            verdict: Verdict::Ignore,
            reason,
            stage: "queue",
            detail: "not validated: the validation queue was full or stopped",
            id: Some(inbound.id),
            // The decompressed data only: capture keeps wire bytes, which are gone here.
            data: None,
            wire_len: inbound.wire_len,
            arrival_ms: inbound.arrival_ms,
        });
    }

    /// libp2p-gossipsub's events.
    pub(super) fn on_gossipsub(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                let topic: Arc<str> = Arc::from(message.topic.as_str());
                let inbound = Inbound {
                    topic,
                    wire_len: message.data.len(),
                    data: Bytes::from(message.data),
                    id: MessageId::new(&message_id.0),
                    source: propagation_source,
                    arrival_ms: unix_now_ms(),
                    first_seen: Instant::now(),
                    arrival_key: message.sequence_number,
                };
                self.validate(inbound);
            }
            gossipsub::Event::Subscribed { .. } | gossipsub::Event::Unsubscribed { .. } => {}
            // No topic of the libp2p router has partial messages enabled.
            gossipsub::Event::Partial { .. } => {}
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                tracing::debug!(target: "pheme::network::peers", peer = %peer_id, "peer does not speak gossipsub");
            }
            gossipsub::Event::SlowPeer { peer_id, .. } => {
                tracing::debug!(target: "pheme::network::peers", peer = %peer_id, "slow peer");
            }
        }
    }

    /// Pheme's router's events.
    pub(super) fn on_meshsub(&mut self, event: RouterEvent) {
        match event {
            RouterEvent::Message(m) => {
                let inbound = Inbound {
                    topic: m.topic,
                    data: m.payload,
                    id: m.id,
                    source: m.source,
                    arrival_ms: unix_now_ms(),
                    wire_len: m.wire_len,
                    first_seen: m.received,
                    arrival_key: None,
                };
                self.validate(inbound);
            }
            RouterEvent::Refused {
                peer,
                topic,
                reason,
                id,
                data,
                wire_len,
            } => {
                tracing::debug!(target: "pheme::network::gossip", %peer, topic = ?topic, reason = reason.name(), "message refused before validation");
                self.record_refused(peer, topic, &reason, id, data, wire_len);
            }
            RouterEvent::FrameRefused { peer, reason } => {
                tracing::debug!(target: "pheme::network::gossip", %peer, %reason, "frame refused");
                self.config
                    .metrics
                    .count("pheme_router_frames_refused_total", &[], 1);
            }
            RouterEvent::PeerExchange { from, peers, .. } => {
                let room = self.config.target_peers.saturating_sub(self.peers.len());
                for p in peers.into_iter().filter(|p| !p.addrs.is_empty()).take(room) {
                    if self.banned.contains_key(&p.peer) || self.swarm.is_connected(&p.peer) {
                        continue;
                    }
                    tracing::debug!(target: "pheme::network::peers", %from, peer = %p.peer, "dialling a peer from PX");
                    let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(p.peer)
                        .addresses(p.addrs)
                        .build();
                    let outcome = if self.swarm.dial(opts).is_ok() {
                        "started"
                    } else {
                        "refused"
                    };
                    self.config
                        .metrics
                        .count("pheme_dials_total", &[("outcome", outcome)], 1);
                }
            }
            RouterEvent::Partial {
                peer,
                topic,
                group_id,
                message,
                metadata,
            } => self.on_partial(peer, topic, group_id, message, metadata),
            // Mesh and score changes are read by the service's tick (scores, bans, metrics).
            RouterEvent::Subscribed { .. }
            | RouterEvent::Unsubscribed { .. }
            | RouterEvent::Grafted { .. }
            | RouterEvent::Pruned { .. }
            | RouterEvent::ScoreChanged { .. }
            | RouterEvent::Graylisted { .. } => {}
        }
    }

    /// The router's counters and queue depths, as metrics.
    pub(super) fn publish_router_metrics(&self) {
        let Some(r) = self.pheme_ref() else {
            return;
        };
        let m = &self.config.metrics;
        let mut by_kind: BTreeMap<&'static str, u64> = BTreeMap::new();
        for (topic, n) in r.duplicates_by_topic() {
            let kind = topic
                .parse::<pheme_codec::GossipTopic>()
                .map_or("unknown", |t| t.kind.base_name());
            *by_kind.entry(kind).or_default() += n;
        }
        for (kind, n) in by_kind {
            m.absolute("pheme_gossip_duplicates_total", &[("kind", kind)], n);
        }
        let s = r.stats();
        for (dir, frames, bytes) in [
            ("in", s.frames_received, s.bytes_received),
            ("out", s.frames_sent, s.bytes_sent),
        ] {
            m.absolute("pheme_router_frames_total", &[("direction", dir)], frames);
            m.absolute("pheme_router_bytes_total", &[("direction", dir)], bytes);
        }
        for (what, n) in [
            ("received", s.messages_received),
            ("validated", s.messages_validated),
            ("duplicate", s.duplicates),
            ("refused", s.messages_refused),
            ("unsubscribed_topic", s.messages_unsubscribed_topic),
            ("validation_timeout", s.validation_timeouts),
            ("accepted", s.accepted),
            ("ignored", s.ignored),
            ("rejected", s.rejected),
            ("published", s.published),
            ("forwarded", s.forwarded),
            ("iwant_answered", s.iwant_answers),
        ] {
            m.absolute("pheme_router_messages_total", &[("event", what)], n);
        }
        for (reason, n) in [
            ("queue_full", s.dropped_queue_full),
            ("stale", s.dropped_stale),
            ("idontwant_cancelled", s.idontwant_cancelled),
            ("idontwant_skipped", s.idontwant_skipped),
            ("graylisted_rpc", s.graylisted_rpcs),
        ] {
            m.absolute("pheme_router_dropped_total", &[("reason", reason)], n);
        }
        for (kind, dir, n) in [
            ("graft", "out", s.graft_sent),
            ("graft", "in", s.graft_received),
            ("prune", "out", s.prune_sent),
            ("prune", "in", s.prune_received),
            ("ihave", "out", s.ihave_sent),
            ("ihave", "in", s.ihave_received),
            ("iwant", "out", s.iwant_sent),
            ("iwant", "in", s.iwant_received),
            ("idontwant", "out", s.idontwant_sent),
            ("idontwant", "in", s.idontwant_received),
        ] {
            m.absolute(
                "pheme_router_control_total",
                &[("kind", kind), ("direction", dir)],
                n,
            );
        }
        m.absolute("pheme_router_broken_promises_total", &[], s.broken_promises);
        let (queued, in_flight) = self
            .peers
            .keys()
            .filter_map(|p| r.queue_len(p))
            .fold((0, 0), |(q, f), (a, b)| (q + a, f + b as usize));
        m.gauge("pheme_router_queued_messages", &[], queued as f64);
        m.gauge("pheme_router_frames_in_flight", &[], in_flight as f64);
        let (seen, records, retained) = r.table_sizes();
        m.gauge("pheme_router_seen_ids", &[], seen as f64);
        m.gauge("pheme_router_message_records", &[], records as f64);
        m.gauge("pheme_router_retained_scores", &[], retained as f64);
    }
}

impl Service {
    /// A message Pheme's router refused before validation (its transform, or the router's own
    /// checks) is recorded like a validated one: a trace line with its stage and reason, the
    /// verdict counter, and a `Gossip` event, so that the node's counts equal the records.
    fn record_refused(
        &mut self,
        peer: PeerId,
        topic: Option<Arc<str>>,
        reason: &pheme_router::Refusal,
        id: Option<MessageId>,
        data: Option<Bytes>,
        wire_len: usize,
    ) {
        let transform = matches!(reason, pheme_router::Refusal::Transform(_));
        self.record_unvalidated(Unvalidated {
            peer,
            topic,
            verdict: Verdict::Reject,
            reason: reason.name(),
            stage: if transform { "transform" } else { "router" },
            detail: if transform {
                "refused by the snappy transform"
            } else {
                "refused by the router"
            },
            id,
            data,
            wire_len,
            arrival_ms: unix_now_ms(),
        });
    }

    /// Records a message that got its verdict without validation (refused before it, or
    /// IGNOREd because the validation queue was full) as a validated one is recorded.
    fn record_unvalidated(&mut self, u: Unvalidated) {
        let Unvalidated {
            peer,
            topic,
            verdict,
            reason,
            stage,
            detail,
            id,
            data,
            wire_len,
            arrival_ms,
        } = u;
        let now_ms = unix_now_ms();
        let parsed = topic
            .as_deref()
            .and_then(|t| t.parse::<pheme_codec::GossipTopic>().ok());
        let kind = parsed.map(|t| t.kind);
        let fork = parsed.and_then(|t| {
            self.kinds
                .iter()
                .find(|(d, _)| d.digest == t.fork_digest)
                .map(|(d, _)| d.fork)
        });
        // The transform's invalid-snappy id when it computed one.
        let message_id: pheme_codec::MessageId = id
            .as_ref()
            .and_then(|i| i.as_bytes().try_into().ok())
            .unwrap_or_default();
        let base = kind.map_or("unknown", |k| k.base_name());
        self.config.metrics.count(
            "pheme_gossip_messages_total",
            &[
                ("kind", base),
                ("verdict", verdict.name()),
                ("reason", reason),
            ],
            1,
        );
        let topic = topic.unwrap_or_else(|| Arc::from(""));
        if !self.config.traces.is_empty() {
            let capture = self.config.observer.capture.wants(verdict);
            self.send_trace(crate::trace::TraceRecord {
                arrival_ms,
                verdict_ms: now_ms,
                topic: topic.to_string(),
                message_id: id
                    .as_ref()
                    .map_or(String::new(), |_| hex::encode(message_id)),
                source: peer.to_string(),
                wire_bytes: wire_len,
                ssz_bytes: None,
                stage,
                verdict: verdict.name(),
                reason,
                duplicates: 0,
                duplicate_from: Vec::new(),
                payload: data.filter(|_| capture).map(|d| Bytes::copy_from_slice(&d)),
                block_slot: None,
                block_root: None,
            });
        }
        let outcome = pheme_gossip::Outcome {
            topic,
            kind,
            fork,
            message_id,
            verdict,
            reason,
            detail: pheme_gossip::Detail::Static(detail),
            compressed_len: wire_len,
            ssz_len: None,
            json: None,
            payload: None,
        };
        self.emit(crate::handle::NetworkEvent::Gossip(Box::new(
            crate::handle::GossipReceived {
                outcome,
                source: peer,
                arrival_ms,
                verdict_latency: Duration::from_millis(now_ms.saturating_sub(arrival_ms)),
                ssz: Vec::new(),
            },
        )));
    }
}

/// A message that got its verdict without validation, as [`Service::record_unvalidated`]
/// records it.
struct Unvalidated {
    peer: PeerId,
    topic: Option<Arc<str>>,
    verdict: Verdict,
    reason: &'static str,
    /// `transform`, `router` or `queue`.
    stage: &'static str,
    detail: &'static str,
    id: Option<MessageId>,
    data: Option<Bytes>,
    wire_len: usize,
    arrival_ms: u64,
}
