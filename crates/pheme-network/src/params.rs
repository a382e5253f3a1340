//! Conversion of a [`ScorePreset`] into libp2p-gossipsub's types.

use std::time::Duration;

use libp2p::gossipsub::{self, ConfigBuilder, TopicHash};
use pheme_scoring::ScorePreset;
use pheme_spec::{ForkDigest, GossipKind};

/// A preset libp2p refuses.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// No fork digest was given.
    #[error("no fork digest given")]
    NoDigest,
    /// `PeerScoreParams::validate` failed (libp2p's error is a message).
    #[error("libp2p refuses the peer-score parameters: {0}")]
    PeerScore(String),
    /// `PeerScoreThresholds::validate` failed.
    #[error("libp2p refuses the thresholds: {0}")]
    Thresholds(&'static str),
    /// `ConfigBuilder::build` failed.
    #[error("libp2p refuses the gossipsub configuration: {0}")]
    Config(#[from] gossipsub::ConfigBuilderError),
    /// Pheme's router refused the parameters.
    #[error("Pheme's router refuses the parameters")]
    Router(#[from] pheme_router::ConfigError),
}

/// The topic string `/eth2/{digest}/{name}/ssz_snappy`.
pub fn topic_name(digest: ForkDigest, kind: GossipKind) -> String {
    format!("/eth2/{digest}/{kind}/ssz_snappy")
}

/// The topic string, hashed as libp2p-gossipsub keys it (identity hash: eth2 topics are plain
/// strings).
pub fn topic_hash(digest: ForkDigest, kind: GossipKind) -> TopicHash {
    TopicHash::from_raw(topic_name(digest, kind))
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// A preset's topic parameters in a router's type (libp2p-gossipsub's and Pheme's router's
/// share the spec's field names; durations are milliseconds in the preset).
macro_rules! topic_params {
    ($ty:path, $t:expr) => {{
        let t = $t;
        $ty {
            topic_weight: t.topic_weight,
            time_in_mesh_weight: t.time_in_mesh_weight,
            time_in_mesh_quantum: ms(t.time_in_mesh_quantum_ms),
            time_in_mesh_cap: t.time_in_mesh_cap,
            first_message_deliveries_weight: t.first_message_deliveries_weight,
            first_message_deliveries_decay: t.first_message_deliveries_decay,
            first_message_deliveries_cap: t.first_message_deliveries_cap,
            mesh_message_deliveries_weight: t.mesh_message_deliveries_weight,
            mesh_message_deliveries_decay: t.mesh_message_deliveries_decay,
            mesh_message_deliveries_cap: t.mesh_message_deliveries_cap,
            mesh_message_deliveries_threshold: t.mesh_message_deliveries_threshold,
            mesh_message_deliveries_window: ms(t.mesh_message_deliveries_window_ms),
            mesh_message_deliveries_activation: ms(t.mesh_message_deliveries_activation_ms),
            mesh_failure_penalty_weight: t.mesh_failure_penalty_weight,
            mesh_failure_penalty_decay: t.mesh_failure_penalty_decay,
            invalid_message_deliveries_weight: t.invalid_message_deliveries_weight,
            invalid_message_deliveries_decay: t.invalid_message_deliveries_decay,
        }
    }};
}

/// Peer-score parameters for the topics of each `(digest, preset)` pair (the current fork
/// digest's preset, plus the next fork's around a fork: the topic sets differ), validated by
/// libp2p. Global parameters come from the first preset.
pub fn peer_score_params(
    by_digest: &[(ForkDigest, &ScorePreset)],
) -> Result<gossipsub::PeerScoreParams, ParamsError> {
    let Some((_, first)) = by_digest.first() else {
        return Err(ParamsError::NoDigest);
    };
    let g = &first.peer_score_params;
    let mut topics = std::collections::HashMap::new();
    for (digest, preset) in by_digest {
        for (kind, t) in &preset.peer_score_params.topics {
            topics.insert(
                topic_hash(*digest, *kind),
                topic_params!(gossipsub::TopicScoreParams, t),
            );
        }
    }
    let params = gossipsub::PeerScoreParams {
        topics,
        topic_score_cap: g.topic_score_cap,
        app_specific_weight: g.app_specific_weight,
        ip_colocation_factor_weight: g.ip_colocation_factor_weight,
        ip_colocation_factor_threshold: g.ip_colocation_factor_threshold,
        ip_colocation_factor_whitelist: Default::default(),
        behaviour_penalty_weight: g.behaviour_penalty_weight,
        behaviour_penalty_threshold: g.behaviour_penalty_threshold,
        behaviour_penalty_decay: g.behaviour_penalty_decay,
        decay_interval: ms(g.decay_interval_ms),
        decay_to_zero: g.decay_to_zero,
        retain_score: ms(g.retain_score_ms),
        slow_peer_weight: g.slow_peer_weight,
        slow_peer_threshold: g.slow_peer_threshold,
        slow_peer_decay: g.slow_peer_decay,
    };
    params.validate().map_err(ParamsError::PeerScore)?;
    Ok(params)
}

/// The preset's thresholds, validated by libp2p.
pub fn peer_score_thresholds(
    preset: &ScorePreset,
) -> Result<gossipsub::PeerScoreThresholds, ParamsError> {
    let t = &preset.thresholds;
    let thresholds = gossipsub::PeerScoreThresholds {
        gossip_threshold: t.gossip_threshold,
        publish_threshold: t.publish_threshold,
        graylist_threshold: t.graylist_threshold,
        accept_px_threshold: t.accept_px_threshold,
        opportunistic_graft_threshold: t.opportunistic_graft_threshold,
    };
    thresholds.validate().map_err(ParamsError::Thresholds)?;
    Ok(thresholds)
}

/// Bytes one message-id takes in an IHAVE or IWANT: a 20-byte id, its field tag and length.
pub const CONTROL_ID_BYTES: usize = 22;
/// Room for subscriptions in one RPC: 4 digests of 256 topics of up to 64 bytes. An all-subnet
/// fulu node has 203 topics of 48-54 bytes (about 11 KB of `SubOpts`) per digest, and around a
/// fork or a blob-parameter change it holds two or three digests.
pub const SUBSCRIPTION_ALLOWANCE: usize = 4 * 256 * 64;

/// The cap on the control part (subscriptions and IHAVE/IWANT/GRAFT/PRUNE/IDONTWANT) of one
/// inbound RPC: a full IHAVE of `max_ihave_length` ids plus [`SUBSCRIPTION_ALLOWANCE`].
///
/// libp2p-gossipsub 0.50's default of 16 KiB is too small for Ethereum: an all-subnet peer's
/// first RPC announces every topic of every digest it is on (26 KB with three digests), and an
/// RPC over the cap is dropped whole, subscriptions included, so that peer never joins a mesh.
pub fn max_control_message_size(preset: &ScorePreset) -> usize {
    preset.gossipsub.max_ihave_length * CONTROL_ID_BYTES + SUBSCRIPTION_ALLOWANCE
}

/// A gossipsub `ConfigBuilder` carrying the preset's mesh and router parameters. The network
/// service adds what does not depend on scoring (message-id, validation mode, transform).
///
/// `max_ihave_length` has no setting in libp2p-gossipsub 0.50; it sizes
/// [`max_control_message_size`], which bounds IHAVE there.
pub fn gossipsub_config_builder(preset: &ScorePreset) -> ConfigBuilder {
    let m = &preset.gossipsub;
    let mut b = ConfigBuilder::default();
    b.mesh_n(m.mesh_n)
        .mesh_n_low(m.mesh_n_low)
        .mesh_n_high(m.mesh_n_high)
        .gossip_lazy(m.gossip_lazy)
        .gossip_factor(m.gossip_factor)
        .retain_scores(m.retain_scores)
        .mesh_outbound_min(m.mesh_outbound_min)
        .heartbeat_interval(ms(m.heartbeat_interval_ms))
        .fanout_ttl(ms(m.fanout_ttl_ms))
        .history_length(m.history_length)
        .history_gossip(m.history_gossip)
        .duplicate_cache_time(ms(m.duplicate_cache_time_ms))
        .prune_backoff(ms(m.prune_backoff_ms))
        .unsubscribe_backoff(ms(m.unsubscribe_backoff_ms))
        .flood_publish(m.flood_publish)
        .graft_flood_threshold(ms(m.graft_flood_threshold_ms))
        .opportunistic_graft_ticks(m.opportunistic_graft_ticks)
        .opportunistic_graft_peers(m.opportunistic_graft_peers)
        .gossip_retransimission(m.gossip_retransimission)
        .max_ihave_messages_heartbeat(m.max_ihave_messages_heartbeat)
        .iwant_followup_time(ms(m.iwant_followup_time_ms))
        .prune_peers(m.prune_peers)
        .max_transmit_size(m.max_transmit_size)
        .max_control_message_size(max_control_message_size(preset))
        .idontwant_message_size_threshold(m.idontwant_message_size_threshold);
    if m.do_px {
        b.do_px();
    }
    b
}

/// Pheme's router's score parameters for the topics of each `(digest, preset)` pair, one to
/// one with the preset's fields (the slow-peer penalty has no counterpart: Pheme's router never
/// charges its own backlog to a peer). Global parameters come from the first preset.
pub fn router_score_params(
    by_digest: &[(ForkDigest, &ScorePreset)],
    whitelist: &[std::net::IpAddr],
) -> Result<pheme_router::PeerScoreParams, ParamsError> {
    let Some((_, first)) = by_digest.first() else {
        return Err(ParamsError::NoDigest);
    };
    let g = &first.peer_score_params;
    let topics = by_digest
        .iter()
        .flat_map(|(digest, preset)| {
            preset.peer_score_params.topics.iter().map(|(kind, t)| {
                (
                    topic_name(*digest, *kind),
                    topic_params!(pheme_router::TopicScoreParams, t),
                )
            })
        })
        .collect();
    let params = pheme_router::PeerScoreParams {
        topic_score_cap: g.topic_score_cap,
        app_specific_weight: g.app_specific_weight,
        ip_colocation_factor_weight: g.ip_colocation_factor_weight,
        ip_colocation_factor_threshold: g.ip_colocation_factor_threshold,
        ip_colocation_whitelist: whitelist.to_vec(),
        behaviour_penalty_weight: g.behaviour_penalty_weight,
        behaviour_penalty_threshold: g.behaviour_penalty_threshold,
        behaviour_penalty_decay: g.behaviour_penalty_decay,
        decay_interval: ms(g.decay_interval_ms),
        decay_to_zero: g.decay_to_zero,
        retain_score: ms(g.retain_score_ms),
        topics,
    };
    params.validate()?;
    Ok(params)
}

/// Pheme's router's thresholds from the preset.
pub fn router_thresholds(preset: &ScorePreset) -> Result<pheme_router::Thresholds, ParamsError> {
    let t = &preset.thresholds;
    let thresholds = pheme_router::Thresholds {
        gossip: t.gossip_threshold,
        publish: t.publish_threshold,
        graylist: t.graylist_threshold,
        accept_px: t.accept_px_threshold,
        opportunistic_graft: t.opportunistic_graft_threshold,
    };
    thresholds.validate()?;
    Ok(thresholds)
}

/// Pheme's router's mesh, gossip and limit parameters from the preset: the same fields as
/// [`gossipsub_config_builder`], plus the control bound of [`max_control_message_size`].
pub fn router_config(preset: &ScorePreset) -> Result<pheme_router::RouterConfig, ParamsError> {
    let m = &preset.gossipsub;
    Ok(pheme_router::RouterConfig::builder()
        .mesh_n(m.mesh_n)
        .mesh_n_low(m.mesh_n_low)
        .mesh_n_high(m.mesh_n_high)
        .mesh_n_score(m.retain_scores)
        .mesh_outbound_min(m.mesh_outbound_min)
        .gossip_lazy(m.gossip_lazy)
        .gossip_factor(m.gossip_factor)
        .heartbeat_interval(ms(m.heartbeat_interval_ms))
        .fanout_ttl(ms(m.fanout_ttl_ms))
        .history_length(m.history_length)
        .history_gossip(m.history_gossip)
        .seen_ttl(ms(m.duplicate_cache_time_ms))
        .prune_backoff(ms(m.prune_backoff_ms))
        .unsubscribe_backoff(ms(m.unsubscribe_backoff_ms))
        .flood_publish(m.flood_publish)
        .graft_flood_threshold(ms(m.graft_flood_threshold_ms))
        .opportunistic_graft_ticks(m.opportunistic_graft_ticks)
        .opportunistic_graft_peers(m.opportunistic_graft_peers)
        .gossip_retransmission(m.gossip_retransimission)
        .max_ihave_length(m.max_ihave_length)
        .max_ihave_messages(m.max_ihave_messages_heartbeat)
        .iwant_followup_time(ms(m.iwant_followup_time_ms))
        .do_px(m.do_px)
        .prune_peers(m.prune_peers)
        .max_transmit_size(m.max_transmit_size)
        .max_control_bytes(max_control_message_size(preset))
        .idontwant_threshold(m.idontwant_message_size_threshold)
        .build()?)
}

/// The gossipsub acceptance of a verdict: ACCEPT forwards, IGNORE drops, REJECT drops and
/// counts against the sender (P4, invalid message deliveries).
pub fn acceptance(verdict: pheme_gossip::Verdict) -> gossipsub::MessageAcceptance {
    match verdict {
        pheme_gossip::Verdict::Accept => gossipsub::MessageAcceptance::Accept,
        pheme_gossip::Verdict::Ignore => gossipsub::MessageAcceptance::Ignore,
        pheme_gossip::Verdict::Reject => gossipsub::MessageAcceptance::Reject,
    }
}
