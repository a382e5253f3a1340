//! A router under test in virtual time, with hand-driven peers: the test writes their RPCs and
//! reads what the router sends them.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use pheme_router::wire::{
    ControlGraft, ControlIDontWant, ControlIHave, ControlIWant, ControlMessage, ControlPrune,
    PeerInfo, Rpc, SubOpts, WireMessage,
};
use pheme_router::{
    Decoded, Event, MessageId, MessageTransform, PeerConnection, PeerId, PeerScoreParams, Protocol,
    Router, RouterConfig, ScoringConfig, Thresholds, TopicScoreParams, TransformRefusal,
};
use prost::Message as _;
use sha2::{Digest, Sha256};

pub const TOPIC: &str = "/eth2/00000000/beacon_block/ssz_snappy";
pub const OTHER: &str = "/eth2/00000000/voluntary_exit/ssz_snappy";

/// Payloads as they are; id = SHA-256(topic || data)[..20]; data starting with 0xff is
/// refused (as Ethereum's transform refuses bad snappy), with the id it would have had.
#[derive(Debug, Default)]
pub struct TestTransform;

pub fn id_of(topic: &str, data: &[u8]) -> MessageId {
    let mut h = Sha256::new();
    h.update(topic.as_bytes());
    h.update(data);
    MessageId::new(&h.finalize()[..20])
}

impl MessageTransform for TestTransform {
    fn inbound(&mut self, topic: &str, data: &Bytes) -> Result<Decoded, TransformRefusal> {
        if data.first() == Some(&0xff) {
            return Err(TransformRefusal {
                reason: "bad_encoding",
                id: Some(id_of(topic, data)),
            });
        }
        Ok(Decoded {
            id: id_of(topic, data),
            payload: data.clone(),
        })
    }

    fn outbound(
        &mut self,
        topic: &str,
        payload: &[u8],
    ) -> Result<(Bytes, MessageId), TransformRefusal> {
        Ok((Bytes::copy_from_slice(payload), id_of(topic, payload)))
    }
}

/// Topic parameters with every component on, scaled for short tests.
pub fn topic_params() -> TopicScoreParams {
    TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 100.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.9,
        first_message_deliveries_cap: 50.0,
        mesh_message_deliveries_weight: -1.0,
        mesh_message_deliveries_decay: 0.9,
        mesh_message_deliveries_cap: 20.0,
        mesh_message_deliveries_threshold: 4.0,
        mesh_message_deliveries_window: Duration::from_millis(100),
        mesh_message_deliveries_activation: Duration::from_secs(5),
        mesh_failure_penalty_weight: -1.0,
        mesh_failure_penalty_decay: 0.9,
        invalid_message_deliveries_weight: -10.0,
        invalid_message_deliveries_decay: 0.9,
    }
}

pub fn scoring() -> ScoringConfig {
    let mut params = PeerScoreParams {
        topic_score_cap: 100.0,
        app_specific_weight: 1.0,
        ip_colocation_factor_weight: -5.0,
        ip_colocation_factor_threshold: 2.0,
        behaviour_penalty_weight: -10.0,
        behaviour_penalty_threshold: 0.0,
        behaviour_penalty_decay: 0.9,
        decay_interval: Duration::from_secs(1),
        decay_to_zero: 0.01,
        retain_score: Duration::from_secs(60),
        ..Default::default()
    };
    params.topics.insert(TOPIC.into(), topic_params());
    params.topics.insert(OTHER.into(), topic_params());
    ScoringConfig {
        params,
        thresholds: Thresholds {
            gossip: -10.0,
            publish: -20.0,
            graylist: -40.0,
            accept_px: 5.0,
            opportunistic_graft: 2.0,
        },
    }
}

pub struct Lab {
    pub r: Router<TestTransform>,
    pub now: Instant,
    /// What the router sent, per peer, decoded.
    pub sent: HashMap<PeerId, Vec<Rpc>>,
    pub events: Vec<Event>,
    next_ip: u32,
}

impl Lab {
    pub fn new(config: RouterConfig, scoring: Option<ScoringConfig>) -> Self {
        let now = Instant::now();
        Self {
            r: Router::new(config, scoring, TestTransform, 7, now).expect("valid config"),
            now,
            sent: HashMap::new(),
            events: Vec::new(),
            next_ip: 1,
        }
    }

    pub fn scored() -> Self {
        Self::new(RouterConfig::default(), Some(scoring()))
    }

    /// A new peer on a fresh IP.
    pub fn connect(&mut self, outbound: bool) -> PeerId {
        self.connect_with(outbound, Protocol::V1_2, None)
    }

    pub fn connect_with(
        &mut self,
        outbound: bool,
        protocol: Protocol,
        ip: Option<IpAddr>,
    ) -> PeerId {
        let ip = ip.unwrap_or_else(|| {
            self.next_ip += 1;
            IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + self.next_ip))
        });
        let p = PeerId::random();
        self.r.add_peer(
            self.now,
            p,
            PeerConnection {
                protocol,
                outbound,
                ip: Some(ip),
            },
        );
        p
    }

    /// A peer that subscribed to `topics`.
    pub fn peer_on(&mut self, outbound: bool, topics: &[&str]) -> PeerId {
        let p = self.connect(outbound);
        self.recv(p, subs(topics));
        p
    }

    /// `n` peers subscribed to [`TOPIC`], then this node joins it; what that sent is cleared.
    pub fn joined(&mut self, n: usize, outbound: bool) -> Vec<PeerId> {
        let peers: Vec<_> = (0..n).map(|_| self.peer_on(outbound, &[TOPIC])).collect();
        self.r.subscribe(self.now, TOPIC);
        self.pump();
        self.sent.clear();
        peers
    }

    pub fn recv(&mut self, from: PeerId, rpc: Rpc) {
        self.r
            .handle_rpc(self.now, &from, Bytes::from(rpc.encode_to_vec()));
        self.pump();
    }

    /// Takes every frame and event the router has, confirming each frame written.
    pub fn pump(&mut self) {
        while let Some(t) = self.r.poll_transmit(self.now) {
            let rpc = Rpc::decode(t.frame.body()).expect("the router sends valid RPCs");
            self.sent.entry(t.peer).or_default().push(rpc);
            self.r.sent(&t.peer);
        }
        while let Some(e) = self.r.poll_event() {
            self.events.push(e);
        }
    }

    /// Moves time on by `d`, running every heartbeat due on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while self.r.poll_timeout() <= end {
            self.now = self.r.poll_timeout();
            self.r.tick(self.now);
            self.pump();
        }
        self.now = end;
        self.pump();
    }

    pub fn heartbeat(&mut self) {
        let d = self.r.poll_timeout().saturating_duration_since(self.now);
        self.advance(d);
    }

    /// Everything sent to `peer` since the last call.
    pub fn take(&mut self, peer: &PeerId) -> Vec<Rpc> {
        self.sent.remove(peer).unwrap_or_default()
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn score(&self, p: &PeerId) -> f64 {
        self.r.score(p)
    }

    pub fn mesh(&self, topic: &str) -> Vec<PeerId> {
        self.r.mesh_peers(topic)
    }
}

fn b(s: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(s.as_bytes()))
}

pub fn subs(topics: &[&str]) -> Rpc {
    Rpc {
        subscriptions: topics
            .iter()
            .map(|t| SubOpts {
                subscribe: Some(true),
                topic_id: b(t),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

pub fn unsub(topic: &str) -> Rpc {
    Rpc {
        subscriptions: vec![SubOpts {
            subscribe: Some(false),
            topic_id: b(topic),
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub fn msg(topic: &str, data: &[u8]) -> Rpc {
    Rpc {
        publish: vec![WireMessage {
            data: Some(Bytes::copy_from_slice(data)),
            topic: b(topic),
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub fn control(c: ControlMessage) -> Rpc {
    Rpc {
        control: Some(c),
        ..Default::default()
    }
}

pub fn graft(topic: &str) -> Rpc {
    control(ControlMessage {
        graft: vec![ControlGraft { topic_id: b(topic) }],
        ..Default::default()
    })
}

pub fn prune(topic: &str, backoff: Option<u64>, px: Vec<PeerInfo>) -> Rpc {
    control(ControlMessage {
        prune: vec![ControlPrune {
            topic_id: b(topic),
            peers: px,
            backoff,
        }],
        ..Default::default()
    })
}

pub fn ihave(topic: &str, ids: &[MessageId]) -> Rpc {
    control(ControlMessage {
        ihave: vec![ControlIHave {
            topic_id: b(topic),
            message_ids: ids.iter().map(|i| i.0.clone()).collect(),
        }],
        ..Default::default()
    })
}

pub fn iwant(ids: &[MessageId]) -> Rpc {
    control(ControlMessage {
        iwant: vec![ControlIWant {
            message_ids: ids.iter().map(|i| i.0.clone()).collect(),
        }],
        ..Default::default()
    })
}

pub fn idontwant(ids: &[MessageId]) -> Rpc {
    control(ControlMessage {
        idontwant: vec![ControlIDontWant {
            message_ids: ids.iter().map(|i| i.0.clone()).collect(),
        }],
        ..Default::default()
    })
}

/// What a list of RPCs holds, flattened.
#[derive(Debug, Default)]
pub struct Seen {
    pub grafts: Vec<String>,
    pub prunes: Vec<ControlPrune>,
    pub ihave_ids: Vec<Bytes>,
    pub iwant_ids: Vec<Bytes>,
    pub idontwant_ids: Vec<Bytes>,
    pub messages: Vec<WireMessage>,
    pub subscriptions: Vec<(String, bool)>,
}

fn s(b: &Option<Bytes>) -> String {
    String::from_utf8_lossy(b.as_deref().unwrap_or_default()).into_owned()
}

pub fn flatten(rpcs: &[Rpc]) -> Seen {
    let mut out = Seen::default();
    for r in rpcs {
        out.messages.extend(r.publish.iter().cloned());
        out.subscriptions.extend(
            r.subscriptions
                .iter()
                .map(|x| (s(&x.topic_id), x.subscribe.unwrap_or(false))),
        );
        if let Some(c) = &r.control {
            out.grafts.extend(c.graft.iter().map(|g| s(&g.topic_id)));
            out.prunes.extend(c.prune.iter().cloned());
            out.ihave_ids
                .extend(c.ihave.iter().flat_map(|i| i.message_ids.iter().cloned()));
            out.iwant_ids
                .extend(c.iwant.iter().flat_map(|i| i.message_ids.iter().cloned()));
            out.idontwant_ids.extend(
                c.idontwant
                    .iter()
                    .flat_map(|i| i.message_ids.iter().cloned()),
            );
        }
    }
    out
}

/// The ids of the messages the router handed out for validation.
pub fn validated(events: &[Event]) -> Vec<MessageId> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.id.clone()),
            _ => None,
        })
        .collect()
}
