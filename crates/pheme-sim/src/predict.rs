//! What the derived preset predicts for each attack: the figures `pheme presets explain` prints
//! (invalid messages to graylist, how long a silent mesh peer stays non-negative), and for the
//! penalties it does not tabulate (P6, P7) the same arithmetic on the preset's own weights.

use pheme_scoring::ScorePreset;
use pheme_scoring::sanity::{
    Behaviour, SanityReport, TopicReport, turned_silent_negative_after_ms,
};
use pheme_spec::GossipKind;

use crate::scenario::{Scenario, SimConfig};

/// Predicted times after the attack starts, in ms; `None`: never (or not predicted).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// Attackers below zero, so out of the meshes at the next heartbeat.
    pub below_zero_ms: Option<u64>,
    /// Attackers below the graylist threshold.
    pub graylist_ms: Option<u64>,
    /// Where the figures come from.
    pub basis: String,
}

/// Behaviour-penalty count at which P7 alone reaches `threshold`.
fn p7_count(preset: &ScorePreset, threshold: f64) -> Option<f64> {
    let p = &preset.peer_score_params;
    (p.behaviour_penalty_weight < 0.0)
        .then(|| p.behaviour_penalty_threshold + (threshold / p.behaviour_penalty_weight).sqrt())
}

/// How long after falling silent a mesh peer that forwarded honestly for `before_ms` goes
/// negative, over the preset's mesh-scored topics (the fastest).
fn covert_flash_negative_after_ms(
    preset: &ScorePreset,
    report: &SanityReport,
    before_ms: u64,
) -> Option<u64> {
    let globals = &preset.peer_score_params;
    let slot = preset.meta.slot_duration_ms;
    report
        .topics
        .iter()
        .filter_map(|r| Some((r, globals.topics.get(&r.topic)?)))
        .filter(|(_, t)| t.mesh_message_deliveries_weight < 0.0)
        .filter_map(|(r, t)| {
            // The most a peer can build on the topic: first with every message, every
            // message in the window (both counters reach their caps). A bound per topic: the
            // other topics' P1 and P2 are left out.
            let best = Behaviour {
                first_per_slot: r.expected_per_slot,
                mesh_per_slot: r.expected_per_slot,
                invalid_per_slot: 0.0,
            };
            let horizon = t
                .mesh_message_deliveries_activation_ms
                .saturating_mul(3)
                .saturating_add(2 * 3_600_000);
            turned_silent_negative_after_ms(t, globals, slot, best, before_ms, horizon)
        })
        .min()
}

/// The block topic's row of `presets explain`.
fn block_topic(report: &SanityReport) -> Option<&TopicReport> {
    report
        .topics
        .iter()
        .find(|t| t.topic == GossipKind::BeaconBlock)
}

/// The prediction for `cfg`'s scenario.
pub fn predict(cfg: &SimConfig, preset: &ScorePreset, report: &SanityReport) -> Prediction {
    let slot = cfg.slot_ms as f64;
    let graylist = preset.thresholds.graylist_threshold;
    let silent = report
        .topics
        .iter()
        .filter_map(|t| t.silent_negative_after_ms)
        .min();
    match cfg.scenario {
        Scenario::Baseline => Prediction {
            basis: "no attackers".into(),
            ..Default::default()
        },
        Scenario::InvalidFlood => {
            let n = block_topic(report).and_then(|t| t.invalid_to_graylist);
            // A flooding Sybil's router publishes each block to every connection when the preset
            // flood-publishes, else only to its mesh: D of its connections.
            let reach = if preset.gossipsub.flood_publish {
                1.0
            } else {
                (preset.gossipsub.mesh_n as f64 / cfg.sybil_degree.max(1) as f64).min(1.0)
            };
            let per_connection = cfg.invalid_per_slot.max(1) as f64 * reach;
            Prediction {
                below_zero_ms: Some(0),
                graylist_ms: n.map(|n| (n as f64 / per_connection * slot).ceil() as u64),
                basis: format!(
                    "presets explain: {} invalid blocks to graylist, at {} per slot per connection",
                    n.map_or("never".into(), |n| n.to_string()),
                    (per_connection * 100.0).round() / 100.0
                ),
            }
        }
        Scenario::Silent | Scenario::ColdBoot | Scenario::Eclipse => Prediction {
            below_zero_ms: silent,
            graylist_ms: None,
            basis: "presets explain: silent peer < 0 (fastest topic); P3 alone never graylists"
                .into(),
        },
        Scenario::CovertFlash => {
            // Sybils forward as honest mesh peers from their connection (the warm-up's third
            // slot) to the middle of the measured slots and the closing one, then fall
            // silent: the score they built up decays before P3's deficit outweighs it.
            let before_ms = (2 * cfg.warmup_slots + cfg.slots + 1) * cfg.slot_ms / 2;
            let after = covert_flash_negative_after_ms(preset, report, before_ms);
            Prediction {
                below_zero_ms: after,
                graylist_ms: None,
                basis: format!(
                    "P1-P3 of the preset: a mesh peer at the first- and mesh-delivery caps for {:.0} s, then silent (fastest topic); P3 alone never graylists",
                    before_ms as f64 / 1_000.0
                ),
            }
        }
        Scenario::Censorship => {
            // The victim proposes every block, so a censor delivers no block at all: silent on
            // the block topic, (honest - 1) / honest of every other one.
            let block = block_topic(report).and_then(|t| t.silent_negative_after_ms);
            Prediction {
                below_zero_ms: None,
                graylist_ms: None,
                basis: format!(
                    "censors deliver {:.1} % of every topic but the block topic, whose every message is the victim's: negative only once a block mesh's P3 is active ({} after joining it), not judged",
                    100.0 * (1.0 - 1.0 / cfg.honest.max(1) as f64),
                    block.map_or_else(
                        || "never".to_owned(),
                        |ms| format!("{:.0} s", ms as f64 / 1_000.0)
                    )
                ),
            }
        }
        Scenario::IpColocation => {
            let p = &preset.peer_score_params;
            let per_node = (cfg.sybils * cfg.sybil_degree) as f64 / cfg.honest.max(1) as f64;
            let surplus = per_node - p.ip_colocation_factor_threshold;
            let p6 = if surplus > 0.0 {
                p.ip_colocation_factor_weight * surplus * surplus
            } else {
                0.0
            };
            Prediction {
                below_zero_ms: if p6 < 0.0 { Some(0) } else { silent },
                graylist_ms: (p6 < graylist).then_some(0),
                basis: format!(
                    "P6 = {:.1} x ({per_node:.0} - {:.0})^2 = {p6:.0} with {per_node:.0} Sybils on one IP per node",
                    p.ip_colocation_factor_weight, p.ip_colocation_factor_threshold
                ),
            }
        }
        Scenario::GraftFlood => {
            // Two topics, a GRAFT each every 100 ms, one penalty each during the backoff.
            let rate_per_ms = 2.0 / 100.0;
            Prediction {
                below_zero_ms: p7_count(preset, -1e-9).map(|c| (c / rate_per_ms) as u64),
                graylist_ms: p7_count(preset, graylist).map(|c| (c / rate_per_ms) as u64),
                basis: "P7 arithmetic on the preset (one penalty per GRAFT in backoff, no decay)"
                    .into(),
            }
        }
        Scenario::IhaveSpam => {
            // One RPC with an IHAVE of `ihave_ids` ids per topic (two topics) every 350 ms,
            // answered by one IWANT that carries one promise (a random id of it must arrive:
            // go-libp2p-pubsub and Pheme's router track one per IWANT) while the ids asked in
            // this heartbeat stay under `max_ihave_length`: at that limit only the first IHAVE
            // of a heartbeat draws one. Below the gossip threshold no more IWANTs go out, but
            // the promises already made (one follow-up time's worth) still break.
            let g = &preset.gossipsub;
            let heartbeat = g.heartbeat_interval_ms.max(1) as f64;
            let ids = (2 * cfg.ihave_ids).max(1) as f64;
            let ihaves = (heartbeat / 350.0).min(g.max_ihave_messages_heartbeat as f64);
            let iwants = ihaves.min((g.max_ihave_length as f64 / ids).ceil().max(1.0));
            let rate_per_ms = iwants / heartbeat;
            let followup = g.iwant_followup_time_ms as f64;
            let gossip = p7_count(preset, preset.thresholds.gossip_threshold);
            let gray = p7_count(preset, graylist);
            let reach = match (gossip, gray) {
                (Some(g), Some(c)) => c <= g + rate_per_ms * followup,
                _ => false,
            };
            Prediction {
                below_zero_ms: p7_count(preset, -1e-9).map(|c| (followup + c / rate_per_ms) as u64),
                graylist_ms: gray
                    .filter(|_| reach)
                    .map(|c| (followup + c / rate_per_ms) as u64),
                basis: format!(
                    "P7 arithmetic: one broken promise per IWANT (one every {:.0} ms) after the {:.0} s follow-up, {:.0} to go below gossip, {:.0} to graylist{}",
                    1.0 / rate_per_ms,
                    followup / 1_000.0,
                    gossip.unwrap_or(f64::NAN),
                    gray.unwrap_or(f64::NAN),
                    if reach {
                        ""
                    } else {
                        "; below gossip its IHAVEs are ignored before enough promises are out to graylist it"
                    }
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use pheme_scoring::Profile;

    use super::*;
    use crate::scenario::DEFAULT_SLOT_MS;

    fn flood_prediction(profile: Profile) -> (u64, ScorePreset, u64) {
        let mut cfg = SimConfig::new(Scenario::InvalidFlood);
        cfg.profile = profile;
        let (_, _, preset, report) = crate::run::derive_preset(&cfg).expect("preset");
        let n = block_topic(&report)
            .and_then(|t| t.invalid_to_graylist)
            .expect("invalid blocks graylist");
        let p = predict(&cfg, &preset, &report);
        (p.graylist_ms.expect("a graylist time"), preset, n)
    }

    #[test]
    fn flood_publishing_reaches_every_connection() {
        let (ms, preset, n) = flood_prediction(Profile::Recommendations);
        assert!(preset.gossipsub.flood_publish);
        // 2 invalid blocks per slot on each connection.
        assert_eq!(ms, n * DEFAULT_SLOT_MS / 2);
    }

    #[test]
    fn mesh_publishing_reaches_d_of_the_connections() {
        // Lighthouse: D = 5 and no flood publishing, so 2 x 5/8 = 1.25 blocks per slot reach each
        // of a Sybil's 8 connections (measured: 13 blocks graylisted in 21.6 s at 2 s slots).
        let (ms, preset, n) = flood_prediction(Profile::Lighthouse);
        assert!(!preset.gossipsub.flood_publish);
        assert_eq!(preset.gossipsub.mesh_n, 5);
        assert_eq!(ms, (n as f64 / 1.25 * DEFAULT_SLOT_MS as f64).ceil() as u64);
    }

    #[test]
    fn ihave_spam_at_the_limit_draws_half_the_promises_and_is_never_graylisted() {
        let mut cfg = SimConfig::new(Scenario::IhaveSpam);
        let (_, _, preset, report) = crate::run::derive_preset(&cfg).expect("preset");
        let few = predict(&cfg, &preset, &report);
        cfg.ihave_ids = 2_500;
        let full = predict(&cfg, &preset, &report);
        // Ten ids: each IHAVE (every 350 ms) draws an IWANT; 5,000: only a heartbeat's first
        // (700 ms), and below the gossip threshold too few promises are out to reach graylist.
        let (a, b) = (few.below_zero_ms.unwrap(), full.below_zero_ms.unwrap());
        let followup = preset.gossipsub.iwant_followup_time_ms;
        assert_eq!((b - followup) / 10, (a - followup) * 2 / 10, "{a} {b}");
        assert!(few.graylist_ms.is_some(), "{few:?}");
        assert_eq!(full.graylist_ms, None, "{full:?}");
    }
}
