//! The whole path of one gossip message, and the one place a typed error becomes a verdict.

use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use libp2p_identity::PeerId;
use pheme_codec::{
    GossipTopic, MessageId, SszBounds, decode_gossip_into, gossip_bounds, message_id,
};
use pheme_spec::{ChainSpec, DigestEpoch, Fork, GossipKind};

use crate::payload::GossipPayload;
use crate::stateful::{Decision, InboundMessage, StatefulValidator};
use crate::{
    CheckContext, Detail, GossipClock, GossipMessage, Handlers, Pending, Refusal, Verdict,
};

/// Everything known about one validated message.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The topic string (shared with the validator's topic cache: no copy per message).
    pub topic: Arc<str>,
    /// The topic's kind, if the topic is known.
    pub kind: Option<GossipKind>,
    /// The fork of the topic's digest, if the digest is this network's.
    pub fork: Option<Fork>,
    /// The message-id (computed once).
    pub message_id: MessageId,
    /// The verdict.
    pub verdict: Verdict,
    /// The failed check's label (`accepted` when accepted).
    pub reason: &'static str,
    /// The failed check's message (empty when accepted), rendered when displayed.
    pub detail: Detail,
    /// Bytes on the wire.
    pub compressed_len: usize,
    /// SSZ bytes, when decompressed.
    pub ssz_len: Option<usize>,
    /// The message as Beacon API JSON, when asked for and decodable.
    pub json: Option<serde_json::Value>,
    /// The decoded payload, whenever it decoded (accepted or refused by a later check): the
    /// same value the node's checks read.
    pub payload: Option<Arc<GossipPayload>>,
}

/// Validates gossip messages for one chain: transform, decode, the topic's handler, then the
/// stateful validator; records accepted messages and counts verdicts per topic and reason.
#[derive(Debug)]
pub struct GossipValidator<S> {
    chain: ChainSpec,
    schedule: Vec<DigestEpoch>,
    /// The decompression buffer, reused from message to message (at most [`SCRATCH_KEEP`]
    /// bytes are kept).
    scratch: Vec<u8>,
    /// Topics already resolved, so a topic string is parsed once, not per message.
    topics: HashMap<Box<str>, KnownTopic, foldhash::fast::RandomState>,
    handlers: Handlers,
    stateful: S,
    /// Verdict counts, updated per message by the labels' addresses (a hash of five words; a
    /// `BTreeMap` search compares strings at every level).
    counts: HashMap<CountId, (CountKey, u64), foldhash::fast::RandomState>,
    /// The counts by label text, built when [`GossipValidator::counts`] asks and dropped by the
    /// next message.
    sorted_counts: OnceLock<BTreeMap<CountKey, u64>>,
    /// Committees per slot, when known (enables the attestation subnet check).
    pub committees_per_slot: Option<u64>,
    /// Whether outcomes carry the decoded message as JSON.
    pub with_json: bool,
    /// Messages recorded so far (see [`GossipValidator::conclude`]).
    generation: u64,
}

/// At most this many topics are cached. Only topics of this chain that exist at their digest's
/// fork are cached (a few hundred per digest), so the bound is never reached in practice; past
/// it, topics are parsed per message.
const TOPIC_CACHE_CAPACITY: usize = 4096;

/// `(topic base name, verdict, reason)`.
type CountKey = (&'static str, Verdict, &'static str);

/// A count key by the addresses and lengths of its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CountId(usize, usize, Verdict, usize, usize);

impl CountId {
    fn of((base, verdict, reason): CountKey) -> Self {
        CountId(
            base.as_ptr() as usize,
            base.len(),
            verdict,
            reason.as_ptr() as usize,
            reason.len(),
        )
    }
}

/// The largest decompression buffer kept between messages: every attestation, aggregate and
/// sync message fits; a large block's buffer is freed after it.
const SCRATCH_KEEP: usize = 256 * 1024;

/// A cached topic: its shared name and what it resolves to.
#[derive(Debug, Clone)]
struct KnownTopic {
    name: Arc<str>,
    resolved: Resolved,
}

/// What a topic string resolves to: kind, fork and the payload's size bounds.
#[derive(Debug, Clone, Copy)]
struct Resolved {
    kind: GossipKind,
    fork: Fork,
    bounds: SszBounds,
}

/// Why a topic string is refused, with what is known of it.
struct Unresolved {
    kind: Option<GossipKind>,
    fork: Option<Fork>,
    reason: &'static str,
    detail: String,
}

/// A message as the validator receives it.
#[derive(Clone, Copy)]
enum Input<'a> {
    /// Snappy bytes from the wire.
    Wire(&'a [u8]),
    /// Already decompressed and identified by the router's transform.
    Decoded {
        ssz: &'a [u8],
        message_id: MessageId,
    },
}

#[allow(clippy::large_enum_variant)] // a short-lived local: boxing would cost an allocation per message
enum Stage {
    Refused(Refusal),
    Passed(Arc<GossipPayload>, GossipMessage, Pending),
}

/// A message that passed the stateless checks and waits for the node's decision.
#[derive(Debug)]
pub struct Checking {
    outcome: Outcome,
    input: InboundMessage,
    view: GossipMessage,
    pending: Pending,
    /// The validator's commit count when the stateless checks ran.
    generation: u64,
    /// The committees per slot the stateless checks used (the re-check uses them again, so a
    /// change meanwhile cannot turn a checked message into a REJECT).
    committees_per_slot: Option<u64>,
}

impl Checking {
    /// What the node's checks receive.
    pub fn input(&self) -> &InboundMessage {
        &self.input
    }

    /// The outcome so far (topic, kind, sizes; the verdict is not decided yet).
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }
}

/// What the stateless checks made of a message.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Done is the common case (refusals): boxing it would allocate per message
pub enum Begun {
    /// They refused it (the outcome is final).
    Done(Outcome),
    /// They accepted it; the node's checks decide.
    Check(Box<Checking>),
}

impl<S: StatefulValidator> GossipValidator<S> {
    /// A validator for `chain` with `stateful` checks.
    pub fn new(chain: ChainSpec, stateful: S) -> Self {
        let schedule = chain.digest_schedule();
        Self {
            chain,
            schedule,
            scratch: Vec::new(),
            topics: HashMap::default(),
            handlers: Handlers::default(),
            stateful,
            counts: HashMap::default(),
            sorted_counts: OnceLock::new(),
            committees_per_slot: None,
            with_json: false,
            generation: 0,
        }
    }

    /// The node's checks.
    pub fn stateful(&self) -> &S {
        &self.stateful
    }

    /// Verdict counts per `(topic base name, verdict, reason)`.
    pub fn counts(&self) -> &BTreeMap<(&'static str, Verdict, &'static str), u64> {
        self.sorted_counts.get_or_init(|| {
            // Equal labels at different addresses (the same text in two places) add up here.
            let mut sorted = BTreeMap::new();
            for (key, n) in self.counts.values() {
                *sorted.entry(*key).or_default() += n;
            }
            sorted
        })
    }

    /// What `topic` is, from the cache or parsed (and then cached if it is one of this chain's
    /// topics), or why it is refused.
    fn resolve(&mut self, topic: &str) -> Result<(Arc<str>, Resolved), Unresolved> {
        if let Some(known) = self.topics.get(topic) {
            return Ok((known.name.clone(), known.resolved));
        }
        let parsed: GossipTopic =
            topic
                .parse()
                .map_err(|e: pheme_codec::TopicError| Unresolved {
                    kind: None,
                    fork: None,
                    reason: "unknown_topic",
                    detail: e.to_string(),
                })?;
        let Some(fork) = self
            .schedule
            .iter()
            .find(|d| d.digest == parsed.fork_digest)
            .map(|d| d.fork)
        else {
            return Err(Unresolved {
                kind: Some(parsed.kind),
                fork: None,
                reason: "unknown_fork_digest",
                detail: format!(
                    "{} is not a fork digest of {}",
                    parsed.fork_digest, self.chain.name
                ),
            });
        };
        if !parsed.kind.exists_at(&self.chain, fork) {
            return Err(Unresolved {
                kind: Some(parsed.kind),
                fork: Some(fork),
                reason: "topic_not_in_fork",
                detail: format!("{} is not a topic of {fork}", parsed.kind),
            });
        }
        let name: Arc<str> = Arc::from(topic);
        let resolved = Resolved {
            kind: parsed.kind,
            fork,
            bounds: gossip_bounds(&self.chain, parsed.kind, fork),
        };
        if self.topics.len() < TOPIC_CACHE_CAPACITY {
            let known = KnownTopic {
                name: name.clone(),
                resolved,
            };
            self.topics.insert(topic.into(), known);
        }
        Ok((name, resolved))
    }

    /// Keeps the decompression buffer for the next message, unless a large payload (a block)
    /// grew it past [`SCRATCH_KEEP`].
    fn keep_scratch(&mut self, scratch: Vec<u8>) {
        if scratch.capacity() <= SCRATCH_KEEP {
            self.scratch = scratch;
        }
    }

    /// The topic's name (shared from the cache) and what it resolves to, or why it is refused.
    fn open(
        &mut self,
        topic: &str,
        compressed_len: usize,
    ) -> (Outcome, Result<Resolved, Unresolved>) {
        match self.resolve(topic) {
            Ok((name, resolved)) => (Self::blank(name, compressed_len), Ok(resolved)),
            Err(u) => (Self::blank(Arc::from(topic), compressed_len), Err(u)),
        }
    }

    /// The stateless part: everything up to the handler's checks, filling `out` on the way.
    fn stateless(
        &self,
        topic: &str,
        resolved: Result<Resolved, Unresolved>,
        input: Input<'_>,
        now_ms: u64,
        out: &mut Outcome,
        scratch: &mut Vec<u8>,
    ) -> Stage {
        let Resolved { kind, fork, bounds } = match resolved {
            Ok(resolved) => resolved,
            Err(u) => {
                out.kind = u.kind;
                out.fork = u.fork;
                // Refused before the transform: the message-id is the raw data's
                // (invalid-snappy domain).
                let data = match input {
                    Input::Wire(data) => data,
                    Input::Decoded { ssz, .. } => ssz,
                };
                out.message_id = message_id(u.fork.unwrap_or(Fork::Altair), topic, Err(data));
                return Stage::Refused(Refusal {
                    verdict: Verdict::Reject,
                    reason: u.reason,
                    detail: u.detail.into(),
                });
            }
        };
        out.kind = Some(kind);
        out.fork = Some(fork);
        let refuse = |verdict, reason: &'static str, detail: Detail| {
            Stage::Refused(Refusal {
                verdict,
                reason,
                detail,
            })
        };
        let ssz: &[u8] = match input {
            Input::Wire(data) => {
                let (id, decoded) = decode_gossip_into(topic, fork, data, bounds, scratch);
                out.message_id = id;
                match decoded {
                    Ok(()) => scratch,
                    Err(e) => return refuse(Verdict::Reject, "snappy_or_size", Detail::Snappy(e)),
                }
            }
            Input::Decoded { ssz, message_id } => {
                out.message_id = message_id;
                if !bounds.admits(ssz.len()) {
                    let detail = format!(
                        "{} SSZ bytes; the type allows {}..={}",
                        ssz.len(),
                        bounds.min,
                        bounds.max
                    );
                    return refuse(Verdict::Reject, "snappy_or_size", detail.into());
                }
                ssz
            }
        };
        out.ssz_len = Some(ssz.len());
        let payload = match GossipPayload::decode(&self.chain, kind, fork, ssz) {
            Ok(p) => Arc::new(p),
            Err(e) => return refuse(Verdict::Reject, "ssz_decode", Detail::Decode(e)),
        };
        if self.with_json {
            out.json = Some(payload.to_json());
        }
        out.payload = Some(payload.clone());
        let msg = payload.view();
        let ctx = CheckContext {
            clock: GossipClock::new(&self.chain, now_ms),
            fork,
            subnet: kind.subnet(),
            committees_per_slot: self.committees_per_slot,
        };
        match self.handlers.check(&msg, &ctx) {
            Ok(pending) => Stage::Passed(payload, msg, pending),
            Err(refusal) => Stage::Refused(refusal),
        }
    }

    fn blank(topic: Arc<str>, compressed_len: usize) -> Outcome {
        Outcome {
            topic,
            kind: None,
            fork: None,
            // Set by the transform, or by a refusal before it (one SHA-256 per message).
            message_id: [0; 20],
            verdict: Verdict::Accept,
            reason: "accepted",
            detail: Detail::None,
            compressed_len,
            ssz_len: None,
            json: None,
            payload: None,
        }
    }

    fn finish(&mut self, out: &mut Outcome, refusal: Option<Refusal>) {
        if let Some(r) = refusal {
            out.verdict = r.verdict;
            out.reason = r.reason;
            out.detail = r.detail;
        }
        let base = out.kind.map_or("unknown", |k| k.base_name());
        let key = (base, out.verdict, out.reason);
        self.counts.entry(CountId::of(key)).or_insert((key, 0)).1 += 1;
        self.sorted_counts.take();
    }

    /// Validates a message received on `topic` at unix time `now_ms`, with the stateful checks
    /// run inline (a [`Decision::Defer`] is an IGNORE here: there is no one to answer later).
    pub fn validate(&mut self, topic: &str, data: &[u8], now_ms: u64) -> Outcome {
        let begun = self.begin(topic, Input::Wire(data), data.len(), now_ms, None);
        self.run_inline(begun)
    }

    /// Validates a message the router already decompressed (bounded) and identified: `ssz` is
    /// the uncompressed payload, `message_id` the spec's id the router computed from it, and
    /// `compressed_len` its size on the wire. The message-id is not computed again. The
    /// stateful checks run inline.
    pub fn validate_decoded(
        &mut self,
        topic: &str,
        ssz: &[u8],
        message_id: MessageId,
        compressed_len: usize,
        now_ms: u64,
    ) -> Outcome {
        let begun = self.begin_decoded(topic, ssz, message_id, compressed_len, now_ms, None);
        self.run_inline(begun)
    }

    fn run_inline(&mut self, begun: Begun) -> Outcome {
        match begun {
            Begun::Done(outcome) => outcome,
            Begun::Check(checking) => {
                // The embedding node's checks are not Pheme's: a panic in them IGNOREs this
                // message (the peer is not at fault) instead of ending the caller.
                let decision = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    self.stateful.validate(checking.input())
                }))
                .ok();
                self.conclude(checking, decision)
            }
        }
    }

    /// The first half of [`GossipValidator::validate_decoded`], for a caller that runs the
    /// node's checks elsewhere (on a thread pool, several at once): the stateless checks, and
    /// either their refusal or the message for the node's checks. Hand their decision to
    /// [`GossipValidator::conclude`].
    pub fn begin_decoded(
        &mut self,
        topic: &str,
        ssz: &[u8],
        message_id: MessageId,
        compressed_len: usize,
        now_ms: u64,
        source: Option<PeerId>,
    ) -> Begun {
        let input = Input::Decoded { ssz, message_id };
        self.begin(topic, input, compressed_len, now_ms, source)
    }

    fn begin(
        &mut self,
        topic: &str,
        input: Input<'_>,
        compressed_len: usize,
        now_ms: u64,
        source: Option<PeerId>,
    ) -> Begun {
        let (mut out, resolved) = self.open(topic, compressed_len);
        let mut scratch = std::mem::take(&mut self.scratch);
        let stage = self.stateless(topic, resolved, input, now_ms, &mut out, &mut scratch);
        self.keep_scratch(scratch);
        match stage {
            Stage::Refused(r) => {
                self.finish(&mut out, Some(r));
                Begun::Done(out)
            }
            Stage::Passed(payload, view, pending) => {
                let (Some(kind), Some(fork)) = (out.kind, out.fork) else {
                    // Unreachable: a message passes only once its topic resolved.
                    self.finish(&mut out, None);
                    return Begun::Done(out);
                };
                let input = InboundMessage {
                    payload,
                    kind,
                    fork,
                    topic: out.topic.clone(),
                    message_id: out.message_id,
                    source,
                    arrival_ms: now_ms,
                };
                Begun::Check(Box::new(Checking {
                    outcome: out,
                    input,
                    view,
                    pending,
                    generation: self.generation,
                    committees_per_slot: self.committees_per_slot,
                }))
            }
        }
    }

    /// The second half: the node's `decision` (`None` when its check panicked) for a message
    /// [`GossipValidator::begin_decoded`] handed out. An accepted message is checked again
    /// against what was recorded meanwhile (another message may have been accepted for the
    /// same attester, proposer or aggregator while the node's checks ran), then recorded.
    pub fn conclude(&mut self, checking: Box<Checking>, decision: Option<Decision>) -> Outcome {
        let Checking {
            mut outcome,
            input,
            view,
            pending,
            generation,
            committees_per_slot,
        } = *checking;
        let refusal = match decision {
            Some(Decision::Accept) => {
                let pending = if generation == self.generation {
                    Ok(pending)
                } else {
                    let ctx = CheckContext {
                        clock: GossipClock::new(&self.chain, input.arrival_ms),
                        fork: input.fork,
                        subnet: input.kind.subnet(),
                        committees_per_slot,
                    };
                    self.handlers.check(&view, &ctx)
                };
                match pending {
                    Ok(pending) => {
                        let node = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            self.stateful.record(&input)
                        }));
                        match node {
                            Ok(Ok(())) => {
                                self.handlers.commit(pending);
                                self.generation += 1;
                                None
                            }
                            Ok(Err(reason)) => Some(node_refusal(Verdict::Ignore, reason)),
                            Err(_) => Some(panicked()),
                        }
                    }
                    Err(refusal) => Some(refusal),
                }
            }
            Some(Decision::Ignore(reason)) => Some(node_refusal(Verdict::Ignore, reason)),
            Some(Decision::Reject(reason)) => Some(node_refusal(Verdict::Reject, reason)),
            Some(Decision::Defer) => Some(Refusal {
                verdict: Verdict::Ignore,
                reason: "deferred_unanswered",
                detail: Detail::Static("the node deferred its decision and did not answer"),
            }),
            None => Some(panicked()),
        };
        self.finish(&mut outcome, refusal);
        outcome
    }

    /// Validates with the stateless checks only (the observer's path, and `pheme decode`):
    /// what passes them is accepted and recorded.
    pub fn validate_stateless(&mut self, topic: &str, data: &[u8], now_ms: u64) -> Outcome {
        let (mut out, resolved) = self.open(topic, data.len());
        let mut scratch = std::mem::take(&mut self.scratch);
        let input = Input::Wire(data);
        let stage = self.stateless(topic, resolved, input, now_ms, &mut out, &mut scratch);
        self.keep_scratch(scratch);
        let refusal = match stage {
            Stage::Refused(r) => Some(r),
            Stage::Passed(_, _, pending) => {
                self.handlers.commit(pending);
                self.generation += 1;
                None
            }
        };
        self.finish(&mut out, refusal);
        out
    }

    /// Drops cache entries too old to matter at `current_slot`.
    pub fn prune(&mut self, current_slot: u64) {
        self.handlers
            .prune(current_slot, self.chain.slots_per_epoch());
    }
}

/// A refusal by the node's checks, with their reason.
fn node_refusal(verdict: Verdict, reason: crate::Reason) -> Refusal {
    Refusal {
        verdict,
        reason: reason.label(),
        detail: Detail::Stateful(reason),
    }
}

/// The node's check panicked: IGNORE (the peer is not at fault).
fn panicked() -> Refusal {
    Refusal {
        verdict: Verdict::Ignore,
        reason: "stateful_panicked",
        detail: Detail::Static("the stateful validator panicked"),
    }
}
