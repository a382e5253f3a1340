//! One run's figures, and the table, JSON and markdown they are printed as.

use std::fmt::Write as _;
use std::time::Duration;

use pheme_scoring::Profile;

use crate::measure::{Deliveries, ScoreLog, percentile};
use crate::predict::Prediction;
use crate::scenario::{Scenario, SimConfig};

/// What one run measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunReport {
    /// The scenario.
    pub scenario: Scenario,
    /// Whether honest nodes scored peers.
    pub scoring: bool,
    /// Honest nodes.
    pub honest: usize,
    /// Attackers.
    pub sybils: usize,
    /// Honest messages received by honest nodes, over (messages x (honest - 1)).
    pub delivered_ratio: f64,
    /// Median publish-to-receipt latency.
    pub p50_ms: Option<u64>,
    /// 99th percentile publish-to-receipt latency.
    pub p99_ms: Option<u64>,
    /// Copies beyond the first, per delivered message (Pheme's duplicate counter).
    pub duplicates_per_message: f64,
    /// When the last (honest node, attacker) connection fell below graylist, after the attack
    /// started; `None` unless all did.
    pub attackers_graylisted_after_ms: Option<u64>,
    /// Distinct honest peers that any honest node ever scored below zero.
    pub honest_peers_below_zero: usize,
    /// As graylisted, for the gossip threshold.
    pub attackers_below_gossip_after_ms: Option<u64>,
    /// As graylisted, for the publish threshold.
    pub attackers_below_publish_after_ms: Option<u64>,
    /// As graylisted, for zero, over the connections where the attacker was in a mesh (a
    /// negative peer leaves the mesh at the next heartbeat).
    pub attackers_below_zero_after_ms: Option<u64>,
    /// When the last attacker was last seen in an honest mesh, after the attack started;
    /// `None` while one still is at the end.
    pub attackers_out_of_meshes_after_ms: Option<u64>,
    /// Share of (honest node, attacker) connections where the attacker was ever in the mesh.
    pub attackers_in_mesh_share: f64,
    /// Share of those mesh connections that went below zero.
    pub below_zero_share: f64,
    /// (Honest node, attacker) connections where the attacker stayed in the mesh of a topic
    /// whose mesh-delivery scoring (P3) makes a silent peer negative in the predicted time, at
    /// least that long (plus two polls).
    pub attackers_in_p3_mesh: usize,
    /// Share of those that went below zero during such a stint.
    pub p3_mesh_below_zero_share: f64,
    /// If all did: the longest time from joining the P3-scored mesh to below zero.
    pub p3_mesh_below_zero_after_ms: Option<u64>,
    /// Share of (honest node, attacker) connections graylisted.
    pub graylisted_share: f64,
    /// The preset's prediction.
    pub predicted: Prediction,
    /// Eclipse: delivery to node 0; censorship: delivery of node 0's messages.
    pub target_delivered_ratio: Option<f64>,
    /// Messages published.
    pub messages: usize,
    /// Publications the router refused (no peers).
    pub publish_failures: usize,
    /// The lowest score an honest node gave an honest peer.
    pub honest_min_score: f64,
    /// Of that score, the part the router keeps to itself: P3 and P3b mesh-delivery deficits,
    /// P7 behaviour penalties and the slow-peer penalty (`ScoreBreakdown::residual`).
    pub honest_min_residual: f64,
    /// The score derivation profile.
    pub profile: Profile,
    /// Slot duration.
    pub slot_ms: u64,
    /// Measured slots.
    pub slots: u64,
    /// Seed.
    pub seed: u64,
    /// Wall time of the run.
    pub wall_ms: u64,
}

impl RunReport {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        cfg: &SimConfig,
        d: &Deliveries,
        duplicates: u64,
        scores: &ScoreLog,
        reference: u64,
        predicted: Prediction,
        publish_failures: usize,
        targeted: bool,
        wall: Duration,
    ) -> Self {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (graylisted_share, graylisted) = scores.crossing(|c| c.graylist, reference, false);
        let (below_zero_share, zero) = scores.crossing(|c| c.below_zero, reference, true);
        let stint = predicted
            .below_zero_ms
            .unwrap_or(0)
            .saturating_add(2 * crate::measure::POLL.as_millis() as u64);
        let (p3_pool, p3_share, p3_after) = scores.scored_mesh_crossing(stint);
        RunReport {
            scenario: cfg.scenario,
            scoring: cfg.scoring,
            honest: cfg.honest,
            sybils: cfg.attackers(),
            delivered_ratio: ratio(d.delivered, d.expected),
            p50_ms: percentile(&d.latencies, 50.0),
            p99_ms: percentile(&d.latencies, 99.0),
            duplicates_per_message: ratio(duplicates as usize, d.delivered),
            attackers_graylisted_after_ms: graylisted,
            honest_peers_below_zero: scores.honest_below_zero.len(),
            attackers_below_gossip_after_ms: scores.crossing(|c| c.gossip, reference, false).1,
            attackers_below_publish_after_ms: scores.crossing(|c| c.publish, reference, false).1,
            attackers_out_of_meshes_after_ms: scores.mesh_clear_after(reference),
            attackers_in_mesh_share: scores.in_mesh_share(),
            attackers_below_zero_after_ms: zero,
            below_zero_share,
            attackers_in_p3_mesh: p3_pool,
            p3_mesh_below_zero_share: p3_share,
            p3_mesh_below_zero_after_ms: p3_after,
            graylisted_share,
            predicted,
            target_delivered_ratio: targeted.then(|| ratio(d.target_delivered, d.target_expected)),
            messages: d.expected / cfg.honest.saturating_sub(1).max(1),
            publish_failures,
            honest_min_score: scores.honest_min,
            honest_min_residual: scores.honest_min_residual,
            profile: cfg.profile,
            slot_ms: cfg.slot_ms,
            slots: cfg.slots,
            seed: cfg.seed,
            wall_ms: wall.as_millis() as u64,
        }
    }
}

fn ms(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

const HEADER: [&str; 16] = [
    "scenario",
    "scoring",
    "delivered",
    "target",
    "p50 ms",
    "p99 ms",
    "dups/msg",
    "in mesh",
    "mesh clear after ms",
    "<0 after ms",
    "in P3 mesh: n, <0, after ms",
    "graylist after ms",
    "predicted <0 / graylist ms",
    "graylisted",
    "honest<0",
    "wall s",
];

fn row(r: &RunReport) -> [String; 16] {
    [
        r.scenario.to_string(),
        if r.scoring { "on" } else { "off" }.into(),
        pct(r.delivered_ratio),
        r.target_delivered_ratio.map_or("-".into(), pct),
        ms(r.p50_ms),
        ms(r.p99_ms),
        format!("{:.2}", r.duplicates_per_message),
        if r.sybils == 0 {
            "-".into()
        } else {
            pct(r.attackers_in_mesh_share)
        },
        if r.sybils == 0 {
            "-".into()
        } else {
            ms(r.attackers_out_of_meshes_after_ms)
        },
        ms(r.attackers_below_zero_after_ms),
        if r.attackers_in_p3_mesh == 0 {
            "-".into()
        } else {
            format!(
                "{}, {}, {}",
                r.attackers_in_p3_mesh,
                pct(r.p3_mesh_below_zero_share),
                ms(r.p3_mesh_below_zero_after_ms)
            )
        },
        ms(r.attackers_graylisted_after_ms),
        format!(
            "{} / {}",
            ms(r.predicted.below_zero_ms),
            ms(r.predicted.graylist_ms)
        ),
        if r.sybils == 0 {
            "-".into()
        } else {
            pct(r.graylisted_share)
        },
        r.honest_peers_below_zero.to_string(),
        format!("{:.0}", r.wall_ms as f64 / 1000.0),
    ]
}

/// A plain-text table, one line per run.
pub fn table(reports: &[RunReport]) -> String {
    let rows: Vec<[String; 16]> = reports.iter().map(row).collect();
    let widths: Vec<usize> = (0..HEADER.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([HEADER[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let _ = write!(s, "{:<w$}  ", c, w = widths[i]);
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&HEADER);
    for r in &rows {
        line(&r.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

/// A markdown table, one line per run.
pub fn markdown_table(reports: &[RunReport]) -> String {
    let mut out = format!("| {} |\n", HEADER.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADER.len())));
    for r in reports {
        out.push_str(&format!("| {} |\n", row(r).join(" | ")));
    }
    out
}

/// One JSON object per line.
pub fn json_lines(reports: &[RunReport]) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for r in reports {
        out.push_str(&serde_json::to_string(r)?);
        out.push('\n');
    }
    Ok(out)
}

/// The targets, judged per scored run: 100% delivery, p99 within 2x the scored baseline's,
/// no honest peer below zero, attackers below zero and graylisted within the predicted time
/// (the silent kinds and the covert flash over their stints in P3-scored meshes, the covert
/// flash's from the flash on).
pub fn verdicts(reports: &[RunReport]) -> Vec<(String, bool, String)> {
    let rows: Vec<Judged<'_>> = reports
        .iter()
        .map(|r| judged!(r, r.scenario.p3_measured(), None, None))
        .collect();
    judge(&rows)
}

/// The [`Judged`] row of a report of either engine (they share these field names).
macro_rules! judged {
    ($r:expr, $p3_measured:expr, $by_p3:expr, $at_end:expr) => {
        Judged {
            scenario: $r.scenario,
            scoring: $r.scoring,
            delivered_ratio: $r.delivered_ratio,
            p99_ms: $r.p99_ms,
            honest_peers_below_zero: $r.honest_peers_below_zero,
            honest_min_score: $r.honest_min_score,
            honest_below_zero_by_p3: $by_p3,
            honest_below_zero_at_end: $at_end,
            p3_measured: $p3_measured,
            attackers_below_zero_after_ms: $r.attackers_below_zero_after_ms,
            attackers_graylisted_after_ms: $r.attackers_graylisted_after_ms,
            attackers_in_p3_mesh: $r.attackers_in_p3_mesh,
            p3_mesh_below_zero_share: $r.p3_mesh_below_zero_share,
            p3_mesh_below_zero_after_ms: $r.p3_mesh_below_zero_after_ms,
            predicted: &$r.predicted,
        }
    };
}
pub(crate) use judged;

/// One run as the targets see it, whichever engine ran it.
pub(crate) struct Judged<'a> {
    pub scenario: Scenario,
    pub scoring: bool,
    pub delivered_ratio: f64,
    pub p99_ms: Option<u64>,
    pub honest_peers_below_zero: usize,
    pub honest_min_score: f64,
    /// Of those, the ones below zero by P3/P3b alone (the virtual engine reads components).
    pub honest_below_zero_by_p3: Option<usize>,
    /// Honest peers below zero at the run's last poll (the virtual engine).
    pub honest_below_zero_at_end: Option<usize>,
    /// Whether "below zero" is measured over the stints in P3-scored meshes (silent Sybils)
    /// rather than over every connection.
    pub p3_measured: bool,
    pub attackers_below_zero_after_ms: Option<u64>,
    pub attackers_graylisted_after_ms: Option<u64>,
    pub attackers_in_p3_mesh: usize,
    pub p3_mesh_below_zero_share: f64,
    pub p3_mesh_below_zero_after_ms: Option<u64>,
    pub predicted: &'a Prediction,
}

pub(crate) fn secs(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.1} s", v as f64 / 1_000.0))
}

/// The targets over `rows` (see [`verdicts`]): `(target, met, measured)`. Times get one poll
/// and one heartbeat of slack (1.2 s): scores are read every 500 ms. Unscored runs of the
/// invalid flood, GRAFT flood and IHAVE spam are judged on whether they hurt.
pub(crate) fn judge(rows: &[Judged<'_>]) -> Vec<(String, bool, String)> {
    let base = rows
        .iter()
        .find(|r| r.scenario == Scenario::Baseline && r.scoring)
        .and_then(|r| r.p99_ms);
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| r.scoring) {
        let name = r.scenario.to_string();
        out.push((
            format!("{name}: 100 % delivery"),
            r.delivered_ratio >= 1.0,
            // Enough digits that a miss never prints as 100.00 %.
            format!("{:.3} %", r.delivered_ratio * 100.0),
        ));
        if let (Some(b), Some(p)) = (base, r.p99_ms) {
            out.push((
                format!("{name}: p99 within 2x baseline ({} ms)", 2 * b),
                p <= 2 * b,
                format!("{p} ms"),
            ));
        }
        out.push((
            format!("{name}: no honest peer below zero"),
            r.honest_peers_below_zero == 0,
            format!(
                "{} (lowest {:.2}{}{})",
                r.honest_peers_below_zero,
                r.honest_min_score,
                r.honest_below_zero_by_p3
                    .map_or_else(String::new, |n| format!("; {n} by P3/P3b alone")),
                r.honest_below_zero_at_end
                    .map_or_else(String::new, |n| format!("; {n} at the end"))
            ),
        ));
        let below_zero = if r.p3_measured {
            let m = r.p3_mesh_below_zero_after_ms;
            let shown = format!(
                "{} ({} of {} P3-mesh stints)",
                secs(m),
                pct(r.p3_mesh_below_zero_share),
                r.attackers_in_p3_mesh
            );
            (m, shown)
        } else {
            let m = r.attackers_below_zero_after_ms;
            (m, secs(m))
        };
        let graylisted = r.attackers_graylisted_after_ms;
        let checks = [
            (
                "graylisted",
                r.predicted.graylist_ms,
                (graylisted, secs(graylisted)),
            ),
            ("below zero", r.predicted.below_zero_ms, below_zero),
        ];
        for (what, predicted, (measured, shown)) in checks {
            if let Some(p) = predicted {
                let ok = measured.is_some_and(|m| m <= p + 1_200);
                out.push((
                    format!(
                        "{name}: attackers {what} within the predicted {}",
                        secs(Some(p))
                    ),
                    ok,
                    shown,
                ));
            }
        }
    }
    // The attacks scoring is there for must do harm without it (else the scenario proves
    // nothing): delivery below 100 % or a p99 at least 1.25x the unscored baseline's.
    let base_off = rows
        .iter()
        .find(|r| r.scenario == Scenario::Baseline && !r.scoring)
        .and_then(|r| r.p99_ms);
    let harmful = [
        Scenario::InvalidFlood,
        Scenario::GraftFlood,
        Scenario::IhaveSpam,
    ];
    for r in rows
        .iter()
        .filter(|r| !r.scoring && harmful.contains(&r.scenario))
    {
        if let (Some(b), Some(p)) = (base_off, r.p99_ms) {
            out.push((
                format!(
                    "{} without scoring: visibly hurts (delivery below 100 % or p99 at least \
                     1.25x the unscored baseline's {b} ms)",
                    r.scenario
                ),
                r.delivered_ratio < 1.0 || p * 4 >= b * 5,
                format!(
                    "{:.3} %, p99 {p} ms ({:.2}x)",
                    r.delivered_ratio * 100.0,
                    p as f64 / b.max(1) as f64
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scenario: Scenario, scoring: bool, p99: u64, predicted: &Prediction) -> Judged<'_> {
        Judged {
            scenario,
            scoring,
            delivered_ratio: 1.0,
            p99_ms: Some(p99),
            honest_peers_below_zero: 0,
            honest_min_score: 0.0,
            honest_below_zero_by_p3: None,
            honest_below_zero_at_end: None,
            p3_measured: false,
            attackers_below_zero_after_ms: None,
            attackers_graylisted_after_ms: None,
            attackers_in_p3_mesh: 0,
            p3_mesh_below_zero_share: 0.0,
            p3_mesh_below_zero_after_ms: None,
            predicted,
        }
    }

    #[test]
    fn unscored_attacks_are_judged_on_whether_they_hurt() {
        let none = Prediction::default();
        let rows = [
            row(Scenario::Baseline, false, 290, &none),
            row(Scenario::GraftFlood, false, 300, &none),
            row(Scenario::IhaveSpam, false, 913, &none),
            // Not one of the attacks scoring must be needed against.
            row(Scenario::Silent, false, 900, &none),
        ];
        let hurt: Vec<(String, bool)> = judge(&rows)
            .into_iter()
            .filter(|v| v.0.contains("without scoring"))
            .map(|v| (v.0, v.1))
            .collect();
        assert_eq!(hurt.len(), 2, "{hurt:?}");
        assert!(hurt[0].0.starts_with("graft-flood") && !hurt[0].1);
        assert!(hurt[1].0.starts_with("ihave-spam") && hurt[1].1);
    }
}
