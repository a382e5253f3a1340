//! Pheme's gossipsub router: a sans-IO core of gossipsub v1.1, v1.2 and v1.3 with the Partial
//! Messages extension (`/meshsub/1.0.0` peers are served without v1.1 features) built for
//! Ethereum's consensus gossip.
//!
//! [`Router`] is a deterministic state machine. It owns no sockets, no timers and no clock:
//! every input carries the time (`now`), its randomness comes from a seed, and the same inputs
//! give the same outputs. Its owner (Pheme's libp2p behaviour, a simulator, a test) feeds it
//!
//! - peers ([`Router::add_peer`], [`Router::remove_peer`]) with their negotiated
//!   [`Protocol`], direction and IP;
//! - inbound frames ([`Router::handle_rpc`]), split and bounded before anything is decoded;
//! - time ([`Router::tick`] at [`Router::poll_timeout`]) for the heartbeat;
//! - its own traffic: [`Router::subscribe`], [`Router::publish`], verdicts
//!   ([`Router::report`]) on the messages it hands out, application scores;
//!
//! and polls frames ([`Router::poll_transmit`], one peer's window at a time; confirm each with
//! [`Router::sent`]) and [`Event`]s: messages to validate, refusals, mesh and score changes,
//! peer exchange.
//!
//! Ethereum's profile: messages are anonymous (`StrictNoSign`: a message carrying `from`,
//! `seqno`, `signature` or `key` is refused and penalised); payloads and ids come from a
//! [`MessageTransform`] (for Ethereum, snappy and the spec's message-id), called once per
//! unique message; IDONTWANT goes to v1.2 mesh peers for messages of at least
//! `idontwant_threshold` bytes, and queued sends of a message a peer said it does not want
//! are cancelled. Scoring is gossipsub v1.1's, every component public ([`ScoreBreakdown`]).
//!
//! For the load: topics are interned to small integers with per-topic peer sets; a message is
//! encoded once and its bytes shared by every recipient's frame; each peer has one queue with
//! priorities (control, then own publishes and IWANT answers, then forwards, which are dropped
//! oldest first when the queue is full) that leaves in as few frames as the transport's window
//! allows; scores are cached and moved by each change, and recomputed at the heartbeat. The
//! node's own backlog never costs a peer score.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::Bytes;
//! use pheme_router::{
//!     Decoded, Event, MessageId, MessageTransform, PeerConnection, Protocol, Router,
//!     RouterConfig, TransformRefusal, Verdict,
//! };
//!
//! /// Payloads as they are; the id is the payload's first 8 bytes.
//! struct Plain;
//! impl MessageTransform for Plain {
//!     fn inbound(&mut self, _: &str, data: &Bytes) -> Result<Decoded, TransformRefusal> {
//!         Ok(Decoded { id: MessageId::new(&data[..data.len().min(8)]), payload: data.clone() })
//!     }
//!     fn outbound(&mut self, _: &str, p: &[u8]) -> Result<(Bytes, MessageId), TransformRefusal> {
//!         Ok((Bytes::copy_from_slice(p), MessageId::new(&p[..p.len().min(8)])))
//!     }
//! }
//!
//! let t0 = Instant::now();
//! let mut a = Router::new(RouterConfig::default(), None, Plain, 1, t0).unwrap();
//! let mut b = Router::new(RouterConfig::default(), None, Plain, 2, t0).unwrap();
//! let (pa, pb) = (libp2p_identity::PeerId::random(), libp2p_identity::PeerId::random());
//! let conn = |outbound| PeerConnection { protocol: Protocol::V1_2, outbound, ip: None };
//! a.add_peer(t0, pb, conn(true));
//! b.add_peer(t0, pa, conn(false));
//! a.subscribe(t0, "blocks");
//! b.subscribe(t0, "blocks");
//!
//! // Carry frames both ways until both are quiet (a transport would do this).
//! let mut pump = |a: &mut Router<Plain>, b: &mut Router<Plain>, now| loop {
//!     let mut moved = false;
//!     while let Some(t) = a.poll_transmit(now) {
//!         a.sent(&t.peer);
//!         b.handle_rpc(now, &pa, t.frame.body());
//!         moved = true;
//!     }
//!     while let Some(t) = b.poll_transmit(now) {
//!         b.sent(&t.peer);
//!         a.handle_rpc(now, &pb, t.frame.body());
//!         moved = true;
//!     }
//!     if !moved { break }
//! };
//! pump(&mut a, &mut b, t0);
//! let t1 = t0 + Duration::from_secs(1);
//! a.tick(t1); // the heartbeat grafts b
//! pump(&mut a, &mut b, t1);
//! assert_eq!(a.mesh_peers("blocks"), vec![pb]);
//!
//! a.publish(t1, "blocks", b"block 42").unwrap();
//! pump(&mut a, &mut b, t1);
//! let received = std::iter::from_fn(|| b.poll_event())
//!     .find_map(|e| match e { Event::Message(m) => Some(m), _ => None })
//!     .unwrap();
//! assert_eq!(&received.payload[..], b"block 42");
//! b.report(t1, &received.id, Verdict::Accept);
//! ```

mod config;
mod control_in;
mod control_trace;
mod event;
mod mcache;
mod queue;
mod router;
mod score;
mod seen;
mod slab;
mod types;
pub mod wire;

pub use config::{
    ConfigError, DEFAULT_BACKOFF_SLACK, DEFAULT_DELIVERY_RECORD_TTL, DEFAULT_FANOUT_TTL,
    DEFAULT_FLOOD_PUBLISH_MAX_BYTES, DEFAULT_GOSSIP_FACTOR, DEFAULT_GOSSIP_LAZY,
    DEFAULT_GOSSIP_RETRANSMISSION, DEFAULT_GRAFT_FLOOD_THRESHOLD, DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HISTORY_GOSSIP, DEFAULT_HISTORY_LENGTH, DEFAULT_IDONTWANT_THRESHOLD,
    DEFAULT_IDONTWANT_TTL, DEFAULT_IWANT_FOLLOWUP_TIME, DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_BATCH_MESSAGES, DEFAULT_MAX_CONTROL_BYTES, DEFAULT_MAX_CONTROL_PER_FRAME,
    DEFAULT_MAX_FORWARD_AGE, DEFAULT_MAX_FORWARD_QUEUE, DEFAULT_MAX_IDONTWANT_IDS,
    DEFAULT_MAX_IHAVE_LENGTH, DEFAULT_MAX_IHAVE_MESSAGES, DEFAULT_MAX_MESSAGES_PER_FRAME,
    DEFAULT_MAX_PARTIAL_QUEUE, DEFAULT_MAX_SUBSCRIPTIONS, DEFAULT_MAX_TRANSMIT_SIZE,
    DEFAULT_MESH_N, DEFAULT_MESH_N_HIGH, DEFAULT_MESH_N_LOW, DEFAULT_MESH_N_SCORE,
    DEFAULT_MESH_OUTBOUND_MIN, DEFAULT_OPPORTUNISTIC_GRAFT_PEERS,
    DEFAULT_OPPORTUNISTIC_GRAFT_TICKS, DEFAULT_PRUNE_BACKOFF, DEFAULT_PRUNE_PEERS,
    DEFAULT_SEEN_TTL, DEFAULT_SEND_WINDOW, DEFAULT_UNSUBSCRIBE_BACKOFF, DEFAULT_VALIDATION_TIMEOUT,
    PeerScoreParams, RouterConfig, RouterConfigBuilder, ScoringConfig, Thresholds,
    TopicScoreParams,
};
pub use control_trace::{
    ControlDirection, ControlKind, ControlRecord, DEFAULT_CONTROL_TRACE_CAPACITY,
};
pub use event::{Event, FrameRefusal, Initiator, PruneReason, PxPeer, Refusal, RouterStats};
pub use queue::Frame;
pub use router::partial::{MAX_GROUP_ID_LEN, PartialError, PartialVerdict, PeerPartial};
pub use router::px::{PxError, verify_px_entry};
pub use router::{Input, MAX_TOPICS, PublishError, Router, Transmit};
pub use score::{GlobalTerms, ScoreBreakdown, TopicBreakdown, TopicTerms};
pub use types::{
    Decoded, MessageId, MessageTransform, PeerConnection, Protocol, Received, TransformRefusal,
    Verdict,
};
pub use wire::WireError;

pub use bytes::Bytes;
pub use libp2p_identity::PeerId;
