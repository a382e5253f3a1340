//! `pheme presets explain`: the sanity report as a table an operator can read.

use pheme_scoring::ScorePreset;
use pheme_scoring::sanity::SanityReport;

fn duration(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// The explanation text.
pub fn explain(preset: &ScorePreset, report: &SanityReport) -> String {
    let m = &preset.meta;
    let t = &preset.thresholds;
    let mut out = format!(
        "{} / {} profile / {} active validators / slot {} ({}) / D = {}\n\
         {} committees per slot, {:.1} aggregators per slot\n\
         thresholds: gossip {} / publish {} / graylist {} / accept PX {} / opportunistic graft {}\n\
         topic score cap {:.2}\n\n",
        m.network,
        m.profile,
        m.active_validators,
        m.current_slot,
        m.fork,
        m.mesh_n,
        m.committees_per_slot,
        m.aggregators_per_slot,
        t.gossip_threshold,
        t.publish_threshold,
        t.graylist_threshold,
        t.accept_px_threshold,
        t.opportunistic_graft_threshold,
        preset.peer_score_params.topic_score_cap,
    );
    let header = [
        "topic",
        "topics",
        "msgs/slot",
        "honest score",
        "invalid->graylist",
        "silent peer < 0 after",
    ];
    let rows: Vec<[String; 6]> = report
        .topics
        .iter()
        .map(|r| {
            let name = if r.count > 1 {
                format!("{}_*", r.topic.base_name())
            } else {
                r.topic.to_string()
            };
            if !r.scored {
                return [
                    name,
                    r.count.to_string(),
                    format!("{:.3}", r.expected_per_slot),
                    "unscored".into(),
                    "-".into(),
                    "-".into(),
                ];
            }
            [
                name,
                r.count.to_string(),
                format!("{:.3}", r.expected_per_slot),
                format!("{:.2}", r.honest_steady_score),
                r.invalid_to_graylist
                    .map_or("never".into(), |n| n.to_string()),
                r.silent_negative_after_ms.map_or("never".into(), duration),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 6]| {
        let mut s = format!("{:<w$}", cells[0], w = widths[0]);
        for i in 1..6 {
            s.push_str(&format!("  {:>w$}", cells[i], w = widths[i]));
        }
        s.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(header));
    for r in &rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
    }
    if !m.mesh_penalties_deferred.is_empty() {
        out.push_str(&format!(
            "\nyoung chain: mesh-delivery penalties deferred for {}\n",
            m.mesh_penalties_deferred.join(", ")
        ));
    }
    for f in &report.findings {
        out.push_str(&format!("finding: {f}\n"));
    }
    for v in &report.violations {
        out.push_str(&format!("VIOLATION: {v}\n"));
    }
    out.push_str(
        "\nhonest score: a mesh peer first with 1/D of the messages and in the mesh window with half of them,\n\
         at steady state, weighted. invalid->graylist: invalid messages from a score of 0.\n",
    );
    out
}
