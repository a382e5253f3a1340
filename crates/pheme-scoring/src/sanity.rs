//! Sanity checks run on every derived preset, and the per-topic figures `pheme presets explain`
//! prints. Peer behaviour is simulated with gossipsub's score function (P1-P4 per topic,
//! weighted, decayed every decay interval) on the preset's own numbers.

use pheme_spec::{ChainSpec, GossipKind};
use serde::Serialize;

use crate::math::expected_rate;
use crate::model::{PeerScoreParams, Profile, ScorePreset, TopicScoreParams};

/// At most this many invalid messages may take a peer from 0 to the graylist threshold.
pub const MAX_INVALID_TO_GRAYLIST: u64 = 100;
/// Share of a topic's messages an honest mesh peer delivers within the mesh window.
pub const HONEST_IN_WINDOW_SHARE: f64 = 0.5;

/// A peer's traffic on one topic, per slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behaviour {
    /// Messages it is first to deliver.
    pub first_per_slot: f64,
    /// Messages it delivers within the mesh window (first deliveries included).
    pub mesh_per_slot: f64,
    /// Invalid messages.
    pub invalid_per_slot: f64,
}

impl Behaviour {
    /// A peer that joins the mesh and forwards nothing.
    pub const SILENT: Behaviour = Behaviour {
        first_per_slot: 0.0,
        mesh_per_slot: 0.0,
        invalid_per_slot: 0.0,
    };

    /// An honest mesh peer: first with its fair share (rate / D), half of all messages in the
    /// mesh window.
    pub fn honest(rate: f64, mesh_n: usize) -> Behaviour {
        Behaviour {
            first_per_slot: rate / mesh_n.max(1) as f64,
            mesh_per_slot: rate * HONEST_IN_WINDOW_SHARE,
            invalid_per_slot: 0.0,
        }
    }
}

/// The weighted topic score of a mesh peer with `behaviour`, sampled after every decay interval
/// up to `horizon_ms`: `(ms in mesh, score)`.
pub fn simulate_topic(
    topic: &TopicScoreParams,
    globals: &PeerScoreParams,
    slot_ms: u64,
    behaviour: Behaviour,
    horizon_ms: u64,
) -> Vec<(u64, f64)> {
    simulate_topic_with(topic, globals, slot_ms, horizon_ms, |_| behaviour)
}

/// For a mesh peer that behaves like `before` for `before_ms` and then falls silent (the
/// covert flash): how long after it falls silent its topic score goes negative, if within
/// `horizon_ms` of that.
pub fn turned_silent_negative_after_ms(
    topic: &TopicScoreParams,
    globals: &PeerScoreParams,
    slot_ms: u64,
    before: Behaviour,
    before_ms: u64,
    horizon_ms: u64,
) -> Option<u64> {
    let behaviour = |t: u64| {
        if t <= before_ms {
            before
        } else {
            Behaviour::SILENT
        }
    };
    simulate_topic_with(
        topic,
        globals,
        slot_ms,
        before_ms.saturating_add(horizon_ms),
        behaviour,
    )
    .into_iter()
    .find(|s| s.0 > before_ms && s.1 < 0.0)
    .map(|s| s.0 - before_ms)
}

/// [`simulate_topic`] with a behaviour that changes with the time in mesh.
fn simulate_topic_with(
    topic: &TopicScoreParams,
    globals: &PeerScoreParams,
    slot_ms: u64,
    horizon_ms: u64,
    behaviour_at: impl Fn(u64) -> Behaviour,
) -> Vec<(u64, f64)> {
    let interval = globals.decay_interval_ms.max(1);
    let per_tick = interval as f64 / slot_ms.max(1) as f64;
    let (mut first, mut mesh, mut invalid) = (0.0f64, 0.0f64, 0.0f64);
    let mut out = Vec::with_capacity((horizon_ms / interval) as usize + 1);
    let mut t = 0;
    while t < horizon_ms {
        t += interval;
        let behaviour = behaviour_at(t);
        first =
            (first + behaviour.first_per_slot * per_tick).min(topic.first_message_deliveries_cap);
        mesh = (mesh + behaviour.mesh_per_slot * per_tick)
            .min(topic.mesh_message_deliveries_cap.max(0.0));
        invalid += behaviour.invalid_per_slot * per_tick;
        out.push((t, topic_score(topic, t, first, mesh, invalid)));
        let decayed = |v: f64, d: f64| {
            if v * d < globals.decay_to_zero {
                0.0
            } else {
                v * d
            }
        };
        first = decayed(first, topic.first_message_deliveries_decay);
        mesh = decayed(mesh, topic.mesh_message_deliveries_decay);
        invalid = decayed(invalid, topic.invalid_message_deliveries_decay);
    }
    out
}

/// gossipsub's per-topic score for a mesh peer `in_mesh_ms` into its mesh membership.
pub fn topic_score(
    topic: &TopicScoreParams,
    in_mesh_ms: u64,
    first: f64,
    mesh: f64,
    invalid: f64,
) -> f64 {
    let quantum = topic.time_in_mesh_quantum_ms.max(1) as f64;
    let p1 = (in_mesh_ms as f64 / quantum).min(topic.time_in_mesh_cap) * topic.time_in_mesh_weight;
    let p2 = first * topic.first_message_deliveries_weight;
    let p3_active = in_mesh_ms > topic.mesh_message_deliveries_activation_ms;
    let deficit = topic.mesh_message_deliveries_threshold - mesh;
    let p3 = if p3_active && deficit > 0.0 {
        deficit * deficit * topic.mesh_message_deliveries_weight
    } else {
        0.0
    };
    let p4 = invalid * invalid * topic.invalid_message_deliveries_weight;
    topic.topic_weight * (p1 + p2 + p3 + p4)
}

/// Figures for one kind of topic (all subnets of a kind share their parameters).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicReport {
    /// A representative topic (subnet 0 for subnet kinds).
    pub topic: GossipKind,
    /// How many topics of the fork share these parameters.
    pub count: usize,
    /// Expected messages per slot on one such topic.
    pub expected_per_slot: f64,
    /// Whether the topic has score parameters at all.
    pub scored: bool,
    /// Weighted score of an honest mesh peer at steady state.
    pub honest_steady_score: f64,
    /// Its lowest weighted score from joining the mesh on.
    pub honest_min_score: f64,
    /// Invalid messages that take a peer from 0 to the graylist threshold.
    pub invalid_to_graylist: Option<u64>,
    /// Time after which a silent mesh peer's topic score goes negative.
    pub silent_negative_after_ms: Option<u64>,
}

/// The result of the sanity checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SanityReport {
    /// One row per kind of topic.
    pub topics: Vec<TopicReport>,
    /// Every check that failed, one line each; empty when the preset is sane.
    pub violations: Vec<String>,
    /// Weaknesses that are not errors: properties of a client's recipe that Pheme reproduces
    /// faithfully (for example Lighthouse's block mesh penalty, too small to ever outweigh time
    /// in mesh). For the `recommendations` profile these are violations instead.
    pub findings: Vec<String>,
}

impl SanityReport {
    /// Whether every check passed.
    pub fn is_sane(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Runs every check on a preset derived for `chain`.
pub fn check(preset: &ScorePreset, chain: &ChainSpec) -> SanityReport {
    let mut violations = Vec::new();
    let mut findings = Vec::new();
    check_thresholds(preset, &mut violations);
    check_globals(&preset.peer_score_params, &mut violations);
    let mut topics: Vec<TopicReport> = Vec::new();
    for kind in GossipKind::all_for_fork(chain, preset.meta.fork) {
        if let Some(row) = topics
            .iter_mut()
            .find(|r| r.topic.base_name() == kind.base_name())
        {
            row.count += 1;
            continue;
        }
        topics.push(topic_report(
            preset,
            chain,
            kind,
            &mut violations,
            &mut findings,
        ));
    }
    for (kind, p) in &preset.peer_score_params.topics {
        check_topic_ranges(*kind, p, &mut violations);
    }
    if matches!(
        preset.meta.profile,
        Profile::Pheme | Profile::Recommendations
    ) {
        violations.append(&mut findings);
    }
    SanityReport {
        topics,
        violations,
        findings,
    }
}

fn topic_report(
    preset: &ScorePreset,
    chain: &ChainSpec,
    kind: GossipKind,
    violations: &mut Vec<String>,
    findings: &mut Vec<String>,
) -> TopicReport {
    let globals = &preset.peer_score_params;
    let rate = expected_rate(chain, preset.meta.active_validators, kind);
    let Some(p) = globals.topics.get(&kind) else {
        if !preset.unscored_topics.contains_key(&kind) {
            violations.push(format!("{kind}: neither scored nor listed as unscored"));
        }
        return TopicReport {
            topic: kind,
            count: 1,
            expected_per_slot: rate,
            scored: false,
            honest_steady_score: 0.0,
            honest_min_score: 0.0,
            invalid_to_graylist: None,
            silent_negative_after_ms: None,
        };
    };
    let slot = preset.meta.slot_duration_ms;
    let epoch = slot * preset.meta.slots_per_epoch;
    let horizon = 3 * p
        .mesh_message_deliveries_activation_ms
        .max(p.time_in_mesh_quantum_ms * p.time_in_mesh_cap as u64)
        .max(20 * epoch);
    let honest = simulate_topic(
        p,
        globals,
        slot,
        Behaviour::honest(rate, preset.meta.mesh_n),
        horizon,
    );
    let honest_min = honest.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
    let honest_steady = honest.last().map_or(0.0, |s| s.1);
    if honest_min < 0.0 {
        violations.push(format!(
            "{kind}: an honest mesh peer goes negative ({honest_min:.3})"
        ));
    }
    let silent_horizon = p
        .mesh_message_deliveries_activation_ms
        .saturating_add(2 * 3_600_000);
    let silent_negative_after_ms =
        simulate_topic(p, globals, slot, Behaviour::SILENT, silent_horizon)
            .into_iter()
            .find(|s| s.1 < 0.0)
            .map(|s| s.0);
    if p.mesh_scored() && silent_negative_after_ms.is_none() {
        findings.push(format!(
            "{kind}: a silent mesh peer never goes negative despite mesh scoring"
        ));
    }
    let per_invalid = p.topic_weight * p.invalid_message_deliveries_weight;
    let invalid_to_graylist = (per_invalid < 0.0).then(|| {
        (preset.thresholds.graylist_threshold / per_invalid)
            .sqrt()
            .ceil() as u64
    });
    match invalid_to_graylist {
        None => violations.push(format!("{kind}: invalid messages are never penalised")),
        Some(n) if n > MAX_INVALID_TO_GRAYLIST => violations.push(format!(
            "{kind}: {n} invalid messages to reach the graylist (limit {MAX_INVALID_TO_GRAYLIST})"
        )),
        Some(_) => {}
    }
    TopicReport {
        topic: kind,
        count: 1,
        expected_per_slot: rate,
        scored: true,
        honest_steady_score: honest_steady,
        honest_min_score: honest_min,
        invalid_to_graylist,
        silent_negative_after_ms,
    }
}

fn check_thresholds(preset: &ScorePreset, violations: &mut Vec<String>) {
    let t = &preset.thresholds;
    if !(t.graylist_threshold < t.publish_threshold
        && t.publish_threshold < t.gossip_threshold
        && t.gossip_threshold < 0.0
        && t.accept_px_threshold > 0.0)
    {
        violations.push(format!(
            "thresholds out of order: graylist {} < publish {} < gossip {} < 0 < accept_px {} must hold",
            t.graylist_threshold, t.publish_threshold, t.gossip_threshold, t.accept_px_threshold
        ));
    }
    if t.opportunistic_graft_threshold < 0.0 {
        violations.push("opportunistic_graft_threshold must be >= 0".into());
    }
}

fn in_unit(x: f64) -> bool {
    x > 0.0 && x < 1.0
}

fn check_globals(g: &PeerScoreParams, v: &mut Vec<String>) {
    let mut need = |ok: bool, what: &str| {
        if !ok {
            v.push(format!("peer_score_params: {what}"));
        }
    };
    need(g.topic_score_cap >= 0.0, "topic_score_cap must be >= 0");
    need(
        g.app_specific_weight >= 0.0,
        "app_specific_weight must be >= 0",
    );
    need(
        g.ip_colocation_factor_weight <= 0.0,
        "ip_colocation_factor_weight must be <= 0",
    );
    need(
        g.ip_colocation_factor_weight == 0.0 || g.ip_colocation_factor_threshold >= 1.0,
        "ip_colocation_factor_threshold must be >= 1",
    );
    need(
        g.behaviour_penalty_weight <= 0.0,
        "behaviour_penalty_weight must be <= 0",
    );
    need(
        g.behaviour_penalty_weight == 0.0 || in_unit(g.behaviour_penalty_decay),
        "behaviour_penalty_decay must be in (0, 1)",
    );
    need(
        g.behaviour_penalty_threshold >= 0.0,
        "behaviour_penalty_threshold must be >= 0",
    );
    need(
        g.decay_interval_ms >= 1000,
        "decay_interval must be at least 1 s",
    );
    need(in_unit(g.decay_to_zero), "decay_to_zero must be in (0, 1)");
    need(g.retain_score_ms > 0, "retain_score must be positive");
    need(g.slow_peer_weight <= 0.0, "slow_peer_weight must be <= 0");
}

fn check_topic_ranges(kind: GossipKind, p: &TopicScoreParams, v: &mut Vec<String>) {
    let mut need = |ok: bool, what: &str| {
        if !ok {
            v.push(format!("{kind}: {what}"));
        }
    };
    need(p.topic_weight >= 0.0, "topic_weight must be >= 0");
    need(
        p.time_in_mesh_quantum_ms > 0,
        "time_in_mesh_quantum must be positive",
    );
    need(
        p.time_in_mesh_weight >= 0.0,
        "time_in_mesh_weight must be >= 0",
    );
    need(
        p.time_in_mesh_weight == 0.0 || p.time_in_mesh_cap > 0.0,
        "time_in_mesh_cap must be positive",
    );
    need(
        p.first_message_deliveries_weight >= 0.0,
        "first_message_deliveries_weight must be >= 0",
    );
    if p.first_message_deliveries_weight != 0.0 {
        need(
            in_unit(p.first_message_deliveries_decay),
            "first_message_deliveries_decay must be in (0, 1)",
        );
        need(
            p.first_message_deliveries_cap > 0.0,
            "first_message_deliveries_cap must be positive",
        );
    }
    need(
        p.mesh_message_deliveries_weight <= 0.0,
        "mesh_message_deliveries_weight must be <= 0",
    );
    if p.mesh_message_deliveries_weight != 0.0 {
        need(
            in_unit(p.mesh_message_deliveries_decay),
            "mesh_message_deliveries_decay must be in (0, 1)",
        );
        need(
            p.mesh_message_deliveries_cap > 0.0,
            "mesh_message_deliveries_cap must be positive",
        );
        need(
            p.mesh_message_deliveries_threshold > 0.0,
            "mesh_message_deliveries_threshold must be positive",
        );
        need(
            p.mesh_message_deliveries_threshold <= p.mesh_message_deliveries_cap,
            "mesh threshold above its cap",
        );
        need(
            p.mesh_message_deliveries_activation_ms >= 1000,
            "mesh_message_deliveries_activation must be at least 1 s",
        );
    }
    need(
        p.mesh_failure_penalty_weight <= 0.0,
        "mesh_failure_penalty_weight must be <= 0",
    );
    if p.mesh_failure_penalty_weight != 0.0 {
        need(
            in_unit(p.mesh_failure_penalty_decay),
            "mesh_failure_penalty_decay must be in (0, 1)",
        );
    }
    need(
        p.invalid_message_deliveries_weight <= 0.0,
        "invalid_message_deliveries_weight must be <= 0",
    );
    need(
        in_unit(p.invalid_message_deliveries_decay),
        "invalid_message_deliveries_decay must be in (0, 1)",
    );
}
