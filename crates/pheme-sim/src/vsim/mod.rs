//! The virtual engine: a deterministic discrete-event simulation that drives Pheme's router
//! cores ([`pheme_router::Router`]) directly, with no sockets, no libp2p swarms and no tokio.
//!
//! Honest nodes run the real router with the real derived preset (mesh parameters, score
//! parameters and thresholds, one to one as a Pheme node builds them), the real transform
//! (snappy and the spec's message-id) and Pheme's real stateless validation of real SSZ
//! messages from the scenario's Ethereum schedule; validation takes a cost per kind on a queue
//! per node. Frames leave each node through an upload link of [`NetModel::upload_bps`] and
//! arrive after the link's latency (nodes placed in [`net::REGIONS`]). Attackers are router
//! cores whose handling of messages is changed (`engine::Role`).
//!
//! Virtual time is the only clock: the same configuration and seed give the same report, bit
//! for bit ([`VirtualReport::wall_ms`] aside). Every scenario of the socket engine
//! ([`crate::run`]) runs here too: Sybils that stay silent, forward then go silent, censor one
//! publisher, or publish invalid blocks are router cores with their handling of messages
//! changed; GRAFT floods and IHAVE spam come from raw speakers whose frames the scenario
//! writes, as the socket engine's do.
//!
//! ```
//! use pheme_sim::{Scenario, SimConfig, vsim};
//!
//! let mut cfg = SimConfig::new(Scenario::Silent);
//! cfg.honest = 12;
//! cfg.sybils = 12;
//! cfg.slots = 2;
//! cfg.warmup_slots = 1;
//! let report = vsim::run_virtual(&cfg, &vsim::NetModel::default()).unwrap();
//! assert!(report.delivered_ratio > 0.9);
//! ```

pub mod cost;
mod engine;
pub mod net;
mod report;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use pheme_gossip::{GossipValidator, NoState};
use pheme_network::{
    params::router_config, params::router_score_params, params::router_thresholds,
    params::topic_name, transform::Eth2Transform,
};
use pheme_scoring::sanity;
use pheme_scoring::{DeriveInput, derive_tuned};
use pheme_spec::GossipKind;
use rand::SeedableRng;
use rand::rngs::StdRng;

pub use cost::{DEFAULT_FRAME_COST, FrameCost};
pub use engine::Counters;
pub use net::NetModel;
pub use report::{ReportContext, markdown, verdicts};

use crate::predict::{Prediction, predict};
use crate::scenario::{Scenario, SimConfig};
use crate::{SimError, fixtures, schedule};
use engine::{Engine, Input, Node, Role};

/// The virtual chain's genesis (unix seconds): fixed, so that slots, messages and ids are the
/// same in every run.
pub const VIRTUAL_GENESIS: u64 = 1_700_000_000;
/// Slots between genesis and the run's first slot.
const START_SLOT: u64 = 1_000;
/// How often scores are read (virtual time).
const POLL_US: u64 = 500_000;
/// Distinct IHAVE spam frames, sent in turn.
const SPAM_FRAMES: usize = 16;

/// What a virtual run measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VirtualReport {
    /// Always `virtual`.
    pub engine: &'static str,
    /// The scenario.
    pub scenario: Scenario,
    /// Whether honest nodes scored peers.
    pub scoring: bool,
    /// Honest nodes.
    pub honest: usize,
    /// Attackers.
    pub sybils: usize,
    /// The seed.
    pub seed: u64,
    /// Messages published in the measured slots.
    pub messages: usize,
    /// Publications the router refused.
    pub publish_failures: usize,
    /// Honest messages received by honest nodes, over (messages x (honest - 1)).
    pub delivered_ratio: f64,
    /// Median publish-to-receipt latency.
    pub p50_ms: Option<u64>,
    /// 99th percentile publish-to-receipt latency.
    pub p99_ms: Option<u64>,
    /// Distinct honest peers that any honest node scored below zero at a poll.
    pub honest_peers_below_zero: usize,
    /// The lowest score an honest node gave an honest peer at a poll.
    pub honest_min_score: f64,
    /// Of `honest_peers_below_zero`, those below zero only ever by their mesh-delivery terms
    /// (P3, P3b): without them every such score would have been at or above zero.
    pub honest_below_zero_by_p3: usize,
    /// Distinct honest peers some honest node scored below zero at the last poll, when the
    /// run ends (P3b and P3's counters decay: a peer scored below zero at P3's activation
    /// may be back at or above zero by then).
    pub honest_below_zero_at_end: usize,
    /// When the last (honest node, attacker) connection fell below zero, after the attack
    /// started; `None` unless all did.
    pub attackers_below_zero_after_ms: Option<u64>,
    /// When the last (honest node, attacker) connection fell below graylist, after the attack
    /// started; `None` unless all did.
    pub attackers_graylisted_after_ms: Option<u64>,
    /// Share of (honest node, attacker) connections below graylist at some poll.
    pub graylisted_share: f64,
    /// Share of (honest node, attacker) connections where the attacker was in a mesh at a
    /// poll.
    pub attackers_in_mesh_share: f64,
    /// (Honest node, attacker) connections where the attacker stayed in the mesh of a topic
    /// whose mesh-delivery scoring (P3) makes a silent peer negative in the predicted time, at
    /// least that long (plus two polls), or went below zero while there.
    pub attackers_in_p3_mesh: usize,
    /// Share of those that went below zero during such a stint.
    pub p3_mesh_below_zero_share: f64,
    /// If all did: the longest time from joining the P3-scored mesh to below zero.
    pub p3_mesh_below_zero_after_ms: Option<u64>,
    /// Eclipse: delivery to node 0; censorship: delivery of node 0's messages.
    pub target_delivered_ratio: Option<f64>,
    /// The preset's prediction.
    pub predicted: Prediction,
    /// Events, frames and bytes.
    pub counters: Counters,
    /// Virtual time simulated.
    pub virtual_ms: u64,
    /// Wall-clock time the run took (the only figure that differs between identical runs).
    pub wall_ms: u64,
}

/// What every honest node of a virtual run is built from: the chain at a fixed genesis, the
/// derived preset, the router's configuration and scoring, one to one as a Pheme node builds
/// them.
pub(crate) struct Setup {
    pub chain: Arc<pheme_spec::ChainSpec>,
    pub preset: pheme_scoring::ScorePreset,
    pub digest: pheme_spec::ForkDigest,
    pub router: pheme_router::RouterConfig,
    pub scoring: pheme_router::ScoringConfig,
}

impl Setup {
    pub fn new(cfg: &SimConfig) -> Result<Self, SimError> {
        let mut chain = fixtures::chain(cfg.slot_ms, cfg.slots_per_epoch, 0, 0, &[])?;
        chain.genesis_time = VIRTUAL_GENESIS;
        let chain = Arc::new(chain);
        let preset = cfg.with_mesh_bounds(derive_tuned(
            &DeriveInput {
                chain: &chain,
                active_validators: cfg.active_validators,
                current_slot: START_SLOT,
                mesh_n: cfg.mesh_n,
                profile: cfg.profile,
            },
            &cfg.tuning,
        )?);
        let digest = chain.fork_digest_at(chain.epoch_of(START_SLOT));
        let router = pheme_router::RouterConfig::builder_from(router_config(&preset)?)
            .forward_delay(pheme_network::DEFAULT_FORWARD_DELAY)
            .build()?;
        let scoring = pheme_router::ScoringConfig {
            params: router_score_params(&[(digest, &preset)], &[])?,
            thresholds: router_thresholds(&preset)?,
        };
        Ok(Setup {
            chain,
            preset,
            digest,
            router,
            scoring,
        })
    }

    /// The topic of `kind` at the run's fork.
    pub fn topic(&self, kind: GossipKind) -> String {
        topic_name(self.digest, kind)
    }
}

/// Runs `cfg`'s scenario on the virtual engine over `net`.
pub fn run_virtual(cfg: &SimConfig, net: &NetModel) -> Result<VirtualReport, SimError> {
    let started = Instant::now();
    let Setup {
        chain,
        preset,
        digest,
        router: router_cfg,
        scoring,
    } = Setup::new(cfg)?;
    let clock = chain.clock();
    let sanity_report = sanity::check(&preset, &chain);
    let predicted = predict(cfg, &preset, &sanity_report);
    // The topics where a silent mesh peer goes negative as fast as the prediction says.
    let p3_topics: Vec<String> = sanity_report
        .topics
        .iter()
        .filter(|t| {
            t.silent_negative_after_ms.is_some()
                && t.silent_negative_after_ms <= predicted.below_zero_ms
        })
        .map(|t| topic_name(digest, t.topic))
        .collect();
    let cps = chain.committees_per_slot(cfg.active_validators);
    let mut topics = vec![
        topic_name(digest, GossipKind::BeaconBlock),
        topic_name(digest, GossipKind::BeaconAggregateAndProof),
    ];
    topics.extend(
        (0..cfg.slots_per_epoch.min(chain.attestation_subnet_count))
            .map(|s| topic_name(digest, GossipKind::BeaconAttestation(s))),
    );
    let graylist = scoring.thresholds.graylist;

    // Nodes: honest first, then attackers.
    let start_unix_ms = clock.slot_start_ms(START_SLOT);
    let t0 = Instant::now();
    let mut engine = Engine::new(net.clone(), cfg.seed, start_unix_ms, t0);
    // Topology from the seed as the socket engine draws it, placement from a stream of its
    // own: honest nodes get the same regions and peers whatever the attack.
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let attackers = cfg.attackers();
    let regions = net.place(
        cfg.honest + attackers,
        &mut StdRng::seed_from_u64(cfg.seed ^ 0x9e0_91ace),
    );
    let victim = crate::honest::seeded_keypair(cfg.seed, 1, 0)?
        .public()
        .to_peer_id();
    let attack_role = match cfg.scenario {
        Scenario::CovertFlash => Role::Forwarder,
        Scenario::Censorship => Role::Censor { victim },
        Scenario::GraftFlood | Scenario::IhaveSpam => Role::Raw,
        Scenario::Silent | Scenario::ColdBoot | Scenario::Eclipse | Scenario::IpColocation
            if cfg.sybil_forward_share > 0.0 =>
        {
            Role::Partial {
                per_mille: (cfg.sybil_forward_share.clamp(0.0, 1.0) * 1_000.0).round() as u16,
            }
        }
        _ => Role::Silent,
    };
    for i in 0..cfg.honest + attackers {
        let honest = i < cfg.honest;
        let key = crate::honest::seeded_keypair(cfg.seed, if honest { 1 } else { 2 }, i)?;
        let router = pheme_router::Router::new(
            router_cfg.clone(),
            (honest && cfg.scoring).then(|| scoring.clone()),
            Eth2Transform::new(chain.clone()),
            cfg.seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            t0,
        )?;
        let validator = honest.then(|| {
            let mut v = GossipValidator::new((*chain).clone(), NoState);
            v.committees_per_slot = Some(cps);
            v
        });
        let role = if honest { Role::Honest } else { attack_role };
        let region = regions.get(i).copied().unwrap_or(0);
        let mut node = Node::new(
            key.public().to_peer_id(),
            router,
            validator,
            role,
            region,
            i as u32,
        );
        if !honest && cfg.scenario == Scenario::IpColocation {
            node.ip = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 66));
        }
        engine.add(node);
    }
    let n = engine.nodes.len() as u32;
    for i in 0..n {
        if engine.nodes[i as usize].role == Role::Raw {
            continue;
        }
        for t in &topics {
            engine.subscribe(i, t);
        }
    }

    // Timeline: honest nodes connect at 0 and publish from the next slot; attackers connect
    // two slots later (in the cold boot, attackers at 0 and honest nodes three slots later);
    // the warm-up's messages are not measured.
    let us_at = |unix_ms: u64| unix_ms.saturating_sub(start_unix_ms) * 1_000;
    let cold = cfg.scenario == Scenario::ColdBoot;
    let (honest_at, first) = if cold {
        (us_at(clock.slot_start_ms(START_SLOT + 3)), START_SLOT + 4)
    } else {
        (0, START_SLOT + 1)
    };
    let sybils_at = if cold {
        0
    } else {
        us_at(clock.slot_start_ms(first + 2))
    };
    for (a, b) in crate::run::honest_edges(cfg, &mut rng) {
        engine.at(
            honest_at,
            Input::Connect {
                a: a as u32,
                b: b as u32,
            },
        );
    }
    let pre = 2 + cfg.warmup_slots;
    let sybil_targets = crate::run::sybil_targets(cfg, &mut rng);
    for (j, targets) in sybil_targets.iter().enumerate() {
        let s = (cfg.honest + j) as u32;
        for t in targets {
            // In the IP colocation, honest nodes dial the attackers.
            let (a, b) = if cfg.scenario == Scenario::IpColocation {
                (*t as u32, s)
            } else {
                (s, *t as u32)
            };
            engine.at(sybils_at, Input::Connect { a, b });
        }
    }
    let mut whole = cfg.clone();
    whole.slots = pre + cfg.slots;
    let proposer = (cfg.scenario == Scenario::Censorship).then_some(0);
    let plan = schedule::plan(&whole, cps, proposer);
    let end = us_at(clock.slot_start_ms(first + whole.slots + 1));
    let measured_from = us_at(clock.slot_start_ms(first + pre));
    // When the attack starts, which the predictions count from: the covert flash's Sybils
    // fall silent in the middle of the measured slots; flooding and raw attackers start a
    // slot after connecting, once subscriptions are exchanged (the raw speakers' first GRAFT
    // or IHAVE, as in the socket engine); the rest attack from their connection.
    let attack_at = match cfg.scenario {
        Scenario::CovertFlash => measured_from + (end - measured_from) / 2,
        Scenario::InvalidFlood | Scenario::GraftFlood | Scenario::IhaveSpam => {
            sybils_at + cfg.slot_ms * 1_000
        }
        _ => sybils_at,
    };

    #[derive(Clone, Copy)]
    enum Step {
        Publish(usize),
        Poll,
        GoSilent,
        /// An invalid-flood Sybil publishes its next invalid block.
        Flood(u32),
        /// A raw attacker's script towards one honest node, at its `phase`.
        Raw {
            from: u32,
            to: u32,
            phase: u8,
        },
    }
    let mut steps: Vec<Step> = Vec::new();
    for (i, p) in plan.iter().enumerate() {
        let at = us_at(clock.slot_start_ms(first + p.slot_offset) + p.at_ms);
        engine.at(at, Input::Step(steps.len()));
        steps.push(Step::Publish(i));
    }
    let mut t = POLL_US;
    while t <= end {
        engine.at(t, Input::Step(steps.len()));
        steps.push(Step::Poll);
        t += POLL_US;
    }
    if cfg.scenario == Scenario::CovertFlash {
        engine.at(attack_at, Input::Step(steps.len()));
        steps.push(Step::GoSilent);
    }
    if cfg.scenario == Scenario::InvalidFlood {
        for j in 0..attackers {
            engine.at(attack_at, Input::Step(steps.len()));
            steps.push(Step::Flood((cfg.honest + j) as u32));
        }
    }
    if matches!(cfg.scenario, Scenario::GraftFlood | Scenario::IhaveSpam) {
        for (j, targets) in sybil_targets.iter().enumerate() {
            for t in targets {
                engine.at(sybils_at, Input::Step(steps.len()));
                steps.push(Step::Raw {
                    from: (cfg.honest + j) as u32,
                    to: *t as u32,
                    phase: 0,
                });
            }
        }
    }
    let flood_every = cfg.slot_ms * 1_000 / cfg.invalid_per_slot.max(1);
    let raw_topics = [
        topic_name(digest, GossipKind::BeaconBlock),
        topic_name(digest, GossipKind::BeaconAggregateAndProof),
    ];
    let block_topic = raw_topics[0].clone();
    let mut floods = 0u64;
    let mut spam_ids = 0u64;
    let mut spam_frames: Vec<bytes::Bytes> = Vec::new();
    let mut spam_sent = 0usize;

    // Measurement state.
    let mut published: HashMap<pheme_router::MessageId, (u64, u32)> = HashMap::new();
    let mut failures = 0usize;
    let mut below_zero: HashSet<u32> = HashSet::new();
    // Honest peers seen below zero for another reason than P3/P3b at least once.
    let mut below_zero_other: HashSet<u32> = HashSet::new();
    // Honest peers below zero at the latest poll (at the end: the last one's).
    let mut below_zero_now: HashSet<u32> = HashSet::new();
    let mut min_score = 0.0f64;
    let mut graylisted: HashMap<(u32, u32), u64> = HashMap::new();
    let mut negative: HashMap<(u32, u32), u64> = HashMap::new();
    let mut in_mesh: HashSet<(u32, u32)> = HashSet::new();
    // (honest, attacker): its stints in a P3-scored mesh.
    let mut p3_mesh: HashMap<(u32, u32), Stint> = HashMap::new();
    let honest = cfg.honest;
    let mut fault: Option<SimError> = None;
    let mut step = |e: &mut Engine, i: usize| match steps.get(i).copied() {
        Some(Step::Publish(k)) => {
            let Some(p) = plan.get(k) else { return };
            let slot = first + p.slot_offset;
            let (kind, ssz) = match p.message(&chain, slot, cps, cfg.block_tx_bytes) {
                Ok(m) => m,
                Err(err) => {
                    fault.get_or_insert(err.into());
                    return;
                }
            };
            let topic = topic_name(digest, kind);
            let publisher = p.publisher as u32;
            match e.publish(publisher, &topic, &ssz) {
                Some(id) if p.slot_offset >= pre => {
                    published.insert(id, (e.now(), publisher));
                }
                Some(_) => {}
                None if p.slot_offset >= pre => failures += 1,
                None => {}
            }
        }
        Some(Step::Poll) => {
            let attacked = e.now() >= sybils_at;
            below_zero_now.clear();
            for h in 0..honest as u32 {
                // Mesh members once per node and poll, not once per peer.
                let (mesh, p3) = if attacked {
                    (e.mesh_members(h, &topics), e.mesh_members(h, &p3_topics))
                } else {
                    Default::default()
                };
                for (p, s) in e.scores(h) {
                    if (p as usize) < honest {
                        min_score = min_score.min(s);
                        if s < 0.0 {
                            below_zero.insert(p);
                            below_zero_now.insert(p);
                            if !below_zero_other.contains(&p)
                                && !e.negative_by_mesh_deliveries(h, p)
                            {
                                below_zero_other.insert(p);
                            }
                        }
                        continue;
                    }
                    if !attacked {
                        continue;
                    }
                    if s < 0.0 && e.now() >= attack_at {
                        negative.entry((h, p)).or_insert(e.now());
                    }
                    if s < graylist {
                        graylisted.entry((h, p)).or_insert(e.now());
                    }
                    if mesh.contains(&p) {
                        in_mesh.insert((h, p));
                    }
                    // The covert flash's Sybils forward until the attack: their stints count
                    // from it.
                    let in_p3 = p3.contains(&p) && e.now() >= attack_at;
                    if in_p3 || p3_mesh.contains_key(&(h, p)) {
                        p3_mesh.entry((h, p)).or_default().poll(e.now(), in_p3, s);
                    }
                }
            }
        }
        Some(Step::GoSilent) => {
            for node in e.nodes.iter_mut().skip(honest) {
                node.role = Role::Silent;
            }
        }
        Some(Step::Flood(s)) => {
            floods += 1;
            let unix_ms = e.start_unix_ms + e.now() / 1_000;
            let slot = clock.slot_at_ms(unix_ms).unwrap_or(first);
            let seed = cfg.seed.wrapping_mul(1 << 20).wrapping_add(floods);
            match fixtures::wrong_timestamp_block(&chain, slot, seed) {
                Ok(bytes) => {
                    e.publish(s, &block_topic, &bytes);
                }
                Err(err) => {
                    fault.get_or_insert(err.into());
                }
            }
            if e.now() + flood_every <= end {
                e.at(e.now() + flood_every, Input::Step(steps.len()));
                steps.push(Step::Flood(s));
            }
        }
        Some(Step::Raw { from, to, phase }) => {
            // As the socket engine's raw speakers: subscribe; a slot later GRAFT, PRUNE
            // ourselves 300 ms after (the honest node sets a backoff), then GRAFT every 100
            // ms; or IHAVE `ihave_ids` unknown ids per topic every 350 ms, never answering.
            use crate::raw::Control;
            let (items, next): (Vec<Control>, Option<(u64, u8)>) = match (cfg.scenario, phase) {
                (_, 0) => (
                    raw_topics.iter().cloned().map(Control::Subscribe).collect(),
                    Some((cfg.slot_ms * 1_000, 1)),
                ),
                (Scenario::GraftFlood, 1) => (
                    raw_topics.iter().cloned().map(Control::Graft).collect(),
                    Some((300_000, 2)),
                ),
                (Scenario::GraftFlood, 2) => (
                    raw_topics
                        .iter()
                        .map(|t| Control::Prune(t.clone(), 60))
                        .collect(),
                    Some((100_000, 3)),
                ),
                (Scenario::GraftFlood, _) => (
                    raw_topics.iter().cloned().map(Control::Graft).collect(),
                    Some((100_000, 3)),
                ),
                _ => {
                    // The spam's frames, encoded once and sent in turn: ids the router never
                    // receives stay unknown, so it asks for them again each time.
                    if spam_frames.is_empty() {
                        spam_frames = (0..SPAM_FRAMES)
                            .map(|_| {
                                let items: Vec<Control> = raw_topics
                                    .iter()
                                    .map(|t| {
                                        let ids = (0..cfg.ihave_ids)
                                            .map(|_| {
                                                spam_ids += 1;
                                                fixtures::bytes(cfg.seed ^ (spam_ids << 24), 20)
                                            })
                                            .collect();
                                        Control::IHave(t.clone(), ids)
                                    })
                                    .collect();
                                frame_body(&crate::raw::encode_rpc(&items))
                            })
                            .collect();
                    }
                    spam_sent += 1;
                    let frame = spam_frames[spam_sent % SPAM_FRAMES].clone();
                    e.send_raw(from, to, frame);
                    (Vec::new(), Some((350_000, 1)))
                }
            };
            if !items.is_empty() {
                e.send_raw(from, to, frame_body(&crate::raw::encode_rpc(&items)));
            }
            if let Some((after, phase)) = next
                && e.now() + after <= end
            {
                e.at(e.now() + after, Input::Step(steps.len()));
                steps.push(Step::Raw { from, to, phase });
            }
        }
        None => {}
    };
    engine.run(end, &mut step);
    if let Some(err) = fault {
        return Err(err);
    }

    // Delivery and latency of the measured messages to the honest nodes that did not publish
    // them.
    let mut latencies: Vec<u64> = Vec::new();
    for r in &engine.receipts {
        if let Some((at, publisher)) = published.get(&r.id)
            && *publisher != r.node
        {
            latencies.push(r.at.saturating_sub(*at));
        }
    }
    latencies.sort_unstable();
    let pct = |q: f64| {
        (!latencies.is_empty()).then(|| {
            let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            latencies[i] / 1_000
        })
    };
    let expected = published.len() * honest.saturating_sub(1);
    // Eclipse: delivery to node 0; censorship: delivery of node 0's messages.
    let target_delivered_ratio = match cfg.scenario {
        Scenario::Eclipse => {
            let to_target = published.values().filter(|(_, p)| *p != 0).count();
            let got = engine
                .receipts
                .iter()
                .filter(|r| r.node == 0 && published.get(&r.id).is_some_and(|(_, p)| *p != 0))
                .count();
            (to_target > 0).then(|| got as f64 / to_target as f64)
        }
        Scenario::Censorship => {
            let by_target = published.values().filter(|(_, p)| *p == 0).count();
            let got = engine
                .receipts
                .iter()
                .filter(|r| r.node != 0 && published.get(&r.id).is_some_and(|(_, p)| *p == 0))
                .count();
            let want = by_target * honest.saturating_sub(1);
            (want > 0).then(|| got as f64 / want as f64)
        }
        _ => None,
    };
    let connections: usize = (0..honest as u32)
        .map(|h| {
            engine.nodes[h as usize]
                .peers
                .iter()
                .filter(|p| **p as usize >= honest)
                .count()
        })
        .sum();
    let all_graylisted = connections > 0 && graylisted.len() == connections;
    let all_negative = connections > 0 && negative.len() == connections;
    let share = |k: usize| {
        if connections == 0 {
            0.0
        } else {
            k as f64 / connections as f64
        }
    };
    let long_enough = predicted
        .below_zero_ms
        .map_or(u64::MAX, |ms| ms * 1_000 + 2 * POLL_US);
    let qualifying: Vec<&Stint> = p3_mesh
        .values()
        .filter(|st| st.below_after.is_some() || st.longest >= long_enough)
        .collect();
    let below = qualifying
        .iter()
        .filter(|st| st.below_after.is_some())
        .count();
    let p3_after = qualifying
        .iter()
        .map(|st| st.below_after.map(|us| us / 1_000))
        .collect::<Option<Vec<u64>>>()
        .and_then(|v| v.into_iter().max());
    Ok(VirtualReport {
        engine: "virtual",
        scenario: cfg.scenario,
        scoring: cfg.scoring,
        honest,
        sybils: attackers,
        seed: cfg.seed,
        messages: published.len(),
        publish_failures: failures,
        delivered_ratio: if expected == 0 {
            0.0
        } else {
            latencies.len() as f64 / expected as f64
        },
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        honest_peers_below_zero: below_zero.len(),
        honest_below_zero_by_p3: below_zero.len() - below_zero_other.len(),
        honest_below_zero_at_end: below_zero_now.len(),
        honest_min_score: min_score,
        attackers_below_zero_after_ms: all_negative
            .then(|| negative.values().max().copied())
            .flatten()
            .map(|t| t.saturating_sub(attack_at) / 1_000),
        attackers_graylisted_after_ms: all_graylisted
            .then(|| graylisted.values().max().copied())
            .flatten()
            .map(|t| t.saturating_sub(attack_at) / 1_000),
        graylisted_share: share(graylisted.len()),
        attackers_in_mesh_share: share(in_mesh.len()),
        attackers_in_p3_mesh: qualifying.len(),
        p3_mesh_below_zero_share: if qualifying.is_empty() {
            0.0
        } else {
            below as f64 / qualifying.len() as f64
        },
        p3_mesh_below_zero_after_ms: p3_after,
        target_delivered_ratio,
        predicted,
        counters: engine.counters,
        virtual_ms: end / 1_000,
        wall_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// A framed RPC's body (its unsigned-varint length prefix dropped), as the router takes it.
fn frame_body(framed: &[u8]) -> bytes::Bytes {
    let body = unsigned_varint::decode::usize(framed).map_or(framed, |(_, rest)| rest);
    bytes::Bytes::copy_from_slice(body)
}

/// An attacker's time in one honest node's P3-scored meshes, as the polls saw it.
#[derive(Debug, Default)]
struct Stint {
    /// When the current stint began.
    since: Option<u64>,
    /// The longest stint so far (µs).
    longest: u64,
    /// How long into a stint it was first seen below zero (µs).
    below_after: Option<u64>,
}

impl Stint {
    fn poll(&mut self, now: u64, in_mesh: bool, score: f64) {
        if self.below_after.is_some() {
            return;
        }
        if let Some(since) = self.since {
            let d = now.saturating_sub(since);
            self.longest = self.longest.max(d);
            // Pruned at the heartbeat before this poll counts too: it left because it went
            // negative.
            if score < 0.0 {
                self.below_after = Some(d);
                return;
            }
        }
        if in_mesh {
            self.since.get_or_insert(now);
        } else {
            self.since = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_length_maps_to_virtual_time() {
        let mut cfg = SimConfig::new(Scenario::Baseline);
        cfg.honest = 4;
        cfg.slots = 1;
        cfg.warmup_slots = 0;
        let r = run_virtual(&cfg, &NetModel::default()).unwrap();
        // Publishing from the slot after the start, two pre slots, one measured, one to drain.
        assert_eq!(r.virtual_ms, 5 * cfg.slot_ms);
        assert_eq!(r.sybils, 0);
    }

    #[test]
    fn a_mesh_degree_reaches_the_preset_the_routers_are_built_from() {
        let mut cfg = SimConfig::new(Scenario::Baseline);
        let profile_d = Setup::new(&cfg).unwrap().preset.gossipsub.mesh_n;
        cfg.mesh_n = Some(5);
        let mesh = Setup::new(&cfg).unwrap().preset.gossipsub;
        assert_ne!(profile_d, 5);
        assert_eq!((mesh.mesh_n, mesh.mesh_n_low, mesh.mesh_n_high), (5, 4, 7));
        // Lighthouse's own bounds for D = 5, in the routers too.
        cfg.mesh_bounds = Some((3, 10));
        let setup = Setup::new(&cfg).unwrap();
        let mesh = &setup.preset.gossipsub;
        assert_eq!((mesh.mesh_n, mesh.mesh_n_low, mesh.mesh_n_high), (5, 3, 10));
        let r = &setup.router;
        assert_eq!((r.mesh_n(), r.mesh_n_low(), r.mesh_n_high()), (5, 3, 10));
    }
}
