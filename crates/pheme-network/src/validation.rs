//! The validation task: takes messages from the swarm, runs Pheme's handlers and the node's
//! stateful checks, and sends the verdict back over a channel, so the swarm never waits on
//! chain logic.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use libp2p::PeerId;
use pheme_gossip::{
    Begun, Checking, Decision, GossipValidator, InboundMessage, Outcome, StatefulValidator, Verdict,
};
use pheme_router::MessageId;
use pheme_spec::{ChainSpec, GossipKind, unix_now_ms};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::handle::{GossipReceived, NetworkEvent};
use crate::metrics::Metrics;
use crate::trace::TraceRecord;
use crate::transform::{Arrival, Arrivals};

/// A message handed from the swarm to the validator, whichever router delivered it.
pub(crate) struct Inbound {
    pub topic: Arc<str>,
    /// The decompressed payload.
    pub data: Bytes,
    pub id: MessageId,
    pub source: PeerId,
    pub arrival_ms: u64,
    /// Bytes on the wire and when the first copy arrived.
    pub wire_len: usize,
    pub first_seen: Instant,
    /// With libp2p-gossipsub: the key of the transform's arrival record, read again at the
    /// verdict for the copies counted by then.
    pub arrival_key: Option<u64>,
}

/// A verdict handed back to the swarm.
pub(crate) struct Report {
    pub id: MessageId,
    pub source: PeerId,
    pub topic: Arc<str>,
    pub verdict: Verdict,
    /// An accepted block, for the req/resp cache.
    pub block: Option<crate::rpc::CachedBlock>,
    /// The trace record, when tracing: the service adds who delivered copies (and the wire
    /// data when capturing) from the router before the verdict lets it forget them.
    pub trace: Option<Box<TraceRecord>>,
}

/// A decision the node sends through its handle for a message its checks deferred.
pub(crate) struct Answer {
    pub id: pheme_codec::MessageId,
    pub decision: Decision,
}

pub(crate) struct ValidationTask<S> {
    pub validator: GossipValidator<Arc<S>>,
    pub chain: Arc<ChainSpec>,
    pub inbound: mpsc::Receiver<Inbound>,
    pub answers: mpsc::UnboundedReceiver<Answer>,
    /// Kept so that the answers channel never closes (a closed channel would leave the loop
    /// without a branch to wait on once every handle is dropped).
    #[expect(dead_code, reason = "held, never read: it keeps the channel open")]
    pub answers_tx: mpsc::UnboundedSender<Answer>,
    pub reports: mpsc::UnboundedSender<Report>,
    pub events: mpsc::Sender<NetworkEvent>,
    pub arrivals: Arc<Mutex<Arrivals>>,
    pub committees: watch::Receiver<u64>,
    pub metrics: Metrics,
    pub handles: HandleCache,
    /// Whether verdicts carry a trace record (the service completes and sends it).
    pub trace: bool,
    /// The node's checks running at once.
    pub concurrency: usize,
    /// How long after arrival a message may wait for its verdict.
    pub deadline: Duration,
    /// Messages held for the node's checks (waiting or deferred) before the task stops taking
    /// new ones from the swarm (which then IGNOREs them as `queue_full`).
    pub max_held: usize,
    /// Partial columns (`None`: off).
    pub partial: Option<crate::partial::Assembler>,
    pub partial_in: mpsc::Receiver<crate::partial::PartialIn>,
    pub partial_out: mpsc::UnboundedSender<crate::partial::PartialOut>,
    /// The observer's partial-message records.
    pub partial_events: Vec<crate::trace::RecordSink<crate::partial::PartialEvent>>,
}

/// Where a message that passed the stateless checks is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Queued for a free check slot.
    Waiting,
    /// Its check runs on a blocking thread.
    Running,
    /// The node's check deferred; its answer comes through the handle.
    Deferred,
}

/// A message between the stateless checks and its verdict.
struct Held {
    checking: Box<Checking>,
    msg: Inbound,
    stage: Stage,
}

/// The messages waiting for, or in, the node's checks.
#[derive(Default)]
struct Pipeline {
    next_key: u64,
    held: HashMap<u64, Held>,
    /// Blocks, sidecars, aggregates and the rare operations: checked first.
    urgent: VecDeque<u64>,
    /// Attestations and sync committee messages.
    bulk: VecDeque<u64>,
    /// Entries of the two queues still waiting (expired ones stay in the queues, skipped).
    waiting: usize,
    /// Every held message by its message-id.
    by_id: HashMap<pheme_codec::MessageId, u64>,
    /// Held messages whose check deferred.
    deferred: usize,
    /// Answers that came through the handle before their check returned `Defer`.
    early: HashMap<u64, Decision>,
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    running: JoinSet<(u64, Option<Decision>)>,
    /// The running checks by task, so a check whose task failed still gets a verdict.
    tasks: HashMap<tokio::task::Id, u64>,
    /// Checks started, for the bulk queue's share.
    started: u64,
}

/// One check in this many goes to the bulk queue when both wait, so a flood of urgent
/// messages (aggregates with their three signatures) cannot starve attestations.
const BULK_SHARE: u64 = 4;

impl Pipeline {
    /// The next waiting message: urgent ones first, but every [`BULK_SHARE`]th from the bulk
    /// queue when it has one. Entries of expired messages are dropped on the way.
    fn pop(&mut self) -> Option<u64> {
        self.started += 1;
        let bulk_turn = self.started.is_multiple_of(BULK_SHARE);
        loop {
            let k = if bulk_turn {
                self.bulk.pop_front().or_else(|| self.urgent.pop_front())
            } else {
                self.urgent.pop_front().or_else(|| self.bulk.pop_front())
            }?;
            if self.held.get(&k).is_some_and(|h| h.stage == Stage::Waiting) {
                self.waiting -= 1;
                return Some(k);
            }
        }
    }

    /// Forgets a message (its verdict is being reported).
    fn take(&mut self, key: u64) -> Option<Held> {
        let held = self.held.remove(&key)?;
        self.by_id.remove(&held.checking.input().message_id);
        if held.stage == Stage::Deferred {
            self.deferred -= 1;
        }
        self.early.remove(&key);
        Some(held)
    }
}

/// Whether `kind` is checked before attestations and sync committee messages when both wait.
fn urgent(kind: GossipKind) -> bool {
    !matches!(
        kind,
        GossipKind::BeaconAttestation(_) | GossipKind::SyncCommittee(_)
    )
}

/// One debug event per message under a target per topic kind (`pheme::gossip::block`, ...),
/// so operators can turn on one kind: `RUST_LOG=pheme::gossip::aggregate=debug`.
macro_rules! log_verdict {
    ($kind:expr, $($field:tt)*) => {
        match $kind {
            "beacon_block" => tracing::debug!(target: "pheme::gossip::block", $($field)*),
            "beacon_aggregate_and_proof" => tracing::debug!(target: "pheme::gossip::aggregate", $($field)*),
            "beacon_attestation" => tracing::debug!(target: "pheme::gossip::attestation", $($field)*),
            "voluntary_exit" => tracing::debug!(target: "pheme::gossip::exit", $($field)*),
            "proposer_slashing" => tracing::debug!(target: "pheme::gossip::proposer_slashing", $($field)*),
            "attester_slashing" => tracing::debug!(target: "pheme::gossip::attester_slashing", $($field)*),
            "sync_committee_contribution_and_proof" => tracing::debug!(target: "pheme::gossip::contribution", $($field)*),
            "sync_committee" => tracing::debug!(target: "pheme::gossip::sync_committee", $($field)*),
            "bls_to_execution_change" => tracing::debug!(target: "pheme::gossip::bls_change", $($field)*),
            "blob_sidecar" => tracing::debug!(target: "pheme::gossip::blob", $($field)*),
            "data_column_sidecar" => tracing::debug!(target: "pheme::gossip::column", $($field)*),
            _ => tracing::debug!(target: "pheme::gossip", $($field)*),
        }
    };
}

/// The per-message metric handles of one (kind, verdict, reason).
struct GossipHandles {
    messages: metrics::Counter,
    bytes: metrics::Counter,
    latency: metrics::Histogram,
}

/// Handles registered once per label set: every label is static, so the lookup a message costs
/// builds no key and allocates nothing.
#[derive(Default)]
pub(crate) struct HandleCache(
    HashMap<(&'static str, Verdict, &'static str), Option<GossipHandles>>,
);

impl HandleCache {
    fn get(
        &mut self,
        m: &Metrics,
        kind: &'static str,
        verdict: Verdict,
        reason: &'static str,
    ) -> Option<&GossipHandles> {
        self.0
            .entry((kind, verdict, reason))
            .or_insert_with(|| {
                let labels = [
                    ("kind", kind),
                    ("verdict", verdict.name()),
                    ("reason", reason),
                ];
                Some(GossipHandles {
                    messages: m.counter("pheme_gossip_messages_total", &labels)?,
                    bytes: m.counter("pheme_gossip_bytes_total", &labels[..1])?,
                    latency: m.histogram("pheme_gossip_validation_seconds", &labels[..1])?,
                })
            })
            .as_ref()
    }
}

impl<S: StatefulValidator> ValidationTask<S> {
    pub async fn run(mut self) {
        let mut last_prune_slot = None;
        let mut p = Pipeline::default();
        loop {
            // Expired messages go before any check starts: under load the timer branch below
            // may wait behind completions, and a message past its deadline is not worth a check.
            self.expire(&mut p, Instant::now());
            self.start_checks(&mut p);
            let next_deadline = p.deadlines.peek().map(|Reverse((at, _))| *at);
            let admit = p.waiting + p.deferred < self.max_held;
            tokio::select! {
                biased;
                Some(done) = p.running.join_next_with_id(), if !p.running.is_empty() => {
                    match done {
                        Ok((task, (key, decision))) => {
                            p.tasks.remove(&task);
                            self.decided(&mut p, key, decision);
                        }
                        // A check's panic is caught on its thread; a failed task is the
                        // runtime shutting down or the task cancelled: IGNORE its message.
                        Err(e) => {
                            if let Some(key) = p.tasks.remove(&e.id()) {
                                self.conclude(&mut p, key, None);
                            }
                        }
                    }
                }
                Some(answer) = self.answers.recv() => self.answered(&mut p, answer),
                Some(work) = self.partial_in.recv() => self.on_partial(work),
                _ = sleep_until(next_deadline), if next_deadline.is_some() => {
                    self.expire(&mut p, Instant::now());
                }
                msg = self.inbound.recv(), if admit => {
                    // The swarm is gone (shutdown): what is still held has no one to report to.
                    let Some(msg) = msg else { break };
                    if self.committees.has_changed().unwrap_or(false) {
                        self.validator.committees_per_slot =
                            Some(*self.committees.borrow_and_update());
                    }
                    let slot = self.chain.clock().slot_at_ms(msg.arrival_ms);
                    if slot.is_some() && slot != last_prune_slot {
                        last_prune_slot = slot;
                        if let Some(s) = slot {
                            self.validator.prune(s);
                            if let Some(a) = self.partial.as_mut() {
                                a.prune(s.saturating_sub(crate::partial::KEEP_SLOTS));
                            }
                        }
                    }
                    self.admit(&mut p, msg);
                }
            }
        }
    }

    /// Runs the stateless checks; what passes goes to the node's checks (inline when they say
    /// they are trivial, queued for a blocking thread otherwise).
    fn admit(&mut self, p: &mut Pipeline, msg: Inbound) {
        let seen: Option<Arrival> = msg
            .arrival_key
            .and_then(|k| self.arrivals.lock().ok()?.get(k));
        let wire_len = seen.map_or(msg.wire_len, |a| a.wire_len);
        let id: pheme_codec::MessageId = msg.id.as_bytes().try_into().unwrap_or([0; 20]);
        let begun = self.validator.begin_decoded(
            &msg.topic,
            &msg.data,
            id,
            wire_len,
            msg.arrival_ms,
            Some(msg.source),
        );
        let checking = match begun {
            Begun::Done(outcome) => return self.report(msg, outcome),
            Begun::Check(c) => c,
        };
        if self.validator.stateful().runs_inline() {
            let stateful = self.validator.stateful().clone();
            let decision = run_check(&stateful, checking.input());
            let outcome = self.validator.conclude(checking, decision);
            return self.report(msg, outcome);
        }
        let key = p.next_key;
        p.next_key += 1;
        if urgent(checking.input().kind) {
            p.urgent.push_back(key);
        } else {
            p.bulk.push_back(key);
        }
        p.waiting += 1;
        p.by_id.insert(checking.input().message_id, key);
        p.deadlines
            .push(Reverse((msg.first_seen + self.deadline, key)));
        let stage = Stage::Waiting;
        p.held.insert(
            key,
            Held {
                checking,
                msg,
                stage,
            },
        );
    }

    /// Starts waiting checks while fewer than `concurrency` run.
    fn start_checks(&mut self, p: &mut Pipeline) {
        while p.running.len() < self.concurrency {
            let Some(key) = p.pop() else { return };
            let Some(held) = p.held.get_mut(&key) else {
                continue;
            };
            held.stage = Stage::Running;
            let input = held.checking.input().clone();
            let stateful = self.validator.stateful().clone();
            let task = p
                .running
                .spawn_blocking(move || (key, run_check(&stateful, &input)));
            p.tasks.insert(task.id(), key);
        }
    }

    /// A check returned.
    fn decided(&mut self, p: &mut Pipeline, key: u64, decision: Option<Decision>) {
        if decision != Some(Decision::Defer) {
            return self.conclude(p, key, decision);
        }
        // The node may have answered before its check returned.
        if let Some(answer) = p.early.remove(&key) {
            return self.conclude(p, key, Some(answer));
        }
        if let Some(held) = p.held.get_mut(&key) {
            held.stage = Stage::Deferred;
            p.deferred += 1;
            // Its deadline entry may have been passed over while the check ran: a fresh one
            // (already due, if the deadline passed) makes sure it expires.
            let at = held.msg.first_seen + self.deadline;
            p.deadlines.push(Reverse((at, key)));
        }
    }

    /// The node answered a deferred message through its handle.
    fn answered(&mut self, p: &mut Pipeline, answer: Answer) {
        let Some(&key) = p.by_id.get(&answer.id) else {
            // Already past its deadline, never held, or answered twice.
            return self
                .metrics
                .count("pheme_validation_answers_unmatched_total", &[], 1);
        };
        match p.held.get(&key).map(|h| h.stage) {
            Some(Stage::Deferred) => self.conclude(p, key, Some(answer.decision)),
            // Its check has not returned yet: the answer waits for its `Defer`.
            _ => {
                p.early.insert(key, answer.decision);
            }
        }
    }

    /// IGNOREs what waited past its deadline (a running check cannot be stopped: its decision
    /// stands when it returns).
    fn expire(&mut self, p: &mut Pipeline, now: Instant) {
        while let Some(Reverse((at, key))) = p.deadlines.peek().copied() {
            if at > now {
                return;
            }
            p.deadlines.pop();
            let Some(held) = p.held.get(&key) else {
                continue;
            };
            match held.stage {
                Stage::Running => continue,
                Stage::Waiting => p.waiting -= 1,
                Stage::Deferred => {}
            }
            self.conclude(p, key, Some(Decision::ignore("validation_deadline")));
        }
    }

    fn conclude(&mut self, p: &mut Pipeline, key: u64, decision: Option<Decision>) {
        if let Some(Held { checking, msg, .. }) = p.take(key) {
            let outcome = self.validator.conclude(checking, decision);
            self.report(msg, outcome);
        }
    }

    /// Hands the verdict to the swarm, then counts, logs, traces and tells the node.
    fn report(&mut self, msg: Inbound, outcome: Outcome) {
        let seen: Option<Arrival> = msg
            .arrival_key
            .and_then(|k| self.arrivals.lock().ok()?.get(k));
        let wire_len = seen.map_or(msg.wire_len, |a| a.wire_len);
        let first_seen = seen.map_or(msg.first_seen, |a| a.first_seen);
        let id = outcome.message_id;
        let topic: &str = &msg.topic;
        // An accepted block, from the payload decoded for validation (no second decode).
        let block = outcome
            .payload
            .as_ref()
            .filter(|_| outcome.verdict == Verdict::Accept)
            .and_then(|p| p.block_slot_and_root())
            .and_then(|(slot, root)| {
                let topic = topic.parse::<pheme_codec::GossipTopic>().ok()?;
                Some(crate::rpc::CachedBlock {
                    fork_digest: topic.fork_digest,
                    ssz: msg.data.to_vec(),
                    slot,
                    root,
                })
            });
        let block_info = block.as_ref().map(|b| (b.slot, b.root));
        let verdict_ms = unix_now_ms();
        let verdict_latency = first_seen.elapsed();
        let kind = outcome.kind.map_or("unknown", |k| k.base_name());
        let verdict = outcome.verdict.name();
        if let Some(h) = self
            .handles
            .get(&self.metrics, kind, outcome.verdict, outcome.reason)
        {
            h.messages.increment(1);
            h.bytes.increment(wire_len as u64);
            h.latency.record(verdict_latency.as_secs_f64());
        }
        log_verdict!(
            kind,
            id = %msg.id,
            source = %msg.source,
            verdict,
            reason = outcome.reason,
            detail = %outcome.detail
        );
        let trace = self.trace.then(|| {
            Box::new(TraceRecord {
                arrival_ms: msg.arrival_ms,
                verdict_ms,
                topic: topic.to_owned(),
                message_id: hex::encode(id),
                source: msg.source.to_string(),
                wire_bytes: wire_len,
                ssz_bytes: outcome.ssz_len,
                stage: "validation",
                verdict,
                reason: outcome.reason,
                duplicates: seen.map_or(0, |a| a.copies.saturating_sub(1)),
                duplicate_from: Vec::new(),
                payload: None,
                block_slot: block_info.map(|(slot, _)| slot),
                block_root: block_info.map(|(_, root)| format!("0x{}", hex::encode(root))),
            })
        });
        if self.partial.is_some()
            && outcome.verdict == Verdict::Accept
            && let Some(column) = outcome.payload.as_ref().and_then(|p| p.fulu_data_column())
        {
            // A full column received over plain gossip: this node can serve its cells.
            self.provide(msg.topic.clone(), column);
        }
        let _ = self.reports.send(Report {
            id: msg.id.clone(),
            source: msg.source,
            topic: msg.topic.clone(),
            verdict: outcome.verdict,
            block,
            trace,
        });
        let event = NetworkEvent::Gossip(Box::new(GossipReceived {
            outcome,
            source: msg.source,
            arrival_ms: msg.arrival_ms,
            verdict_latency,
            ssz: msg.data.into(),
        }));
        if self.events.try_send(event).is_err() {
            self.metrics.count("pheme_events_dropped_total", &[], 1);
        }
    }
}

/// Runs the node's check; a panic in it is `None` (the message is IGNOREd, nothing else).
fn run_check<S: StatefulValidator>(stateful: &S, input: &InboundMessage) -> Option<Decision> {
    std::panic::catch_unwind(AssertUnwindSafe(|| stateful.validate(input))).ok()
}

/// Sleeps until `at`, or forever.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
