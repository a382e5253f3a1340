//! The parameter sets of the derivation engine.

pub(crate) mod client;
pub(crate) mod prysm;
pub(crate) mod recommendations;

use crate::model::{GossipsubParams, Thresholds};
use crate::recipe::Ctx;

/// The thresholds every profile shares (document, Lighthouse, Lodestar and Prysm agree).
pub(crate) const THRESHOLDS: Thresholds = Thresholds {
    gossip_threshold: -4000.0,
    publish_threshold: -8000.0,
    graylist_threshold: -16000.0,
    accept_px_threshold: 100.0,
    opportunistic_graft_threshold: 5.0,
};

/// The spec's frame limit for the chain, as a `usize`.
pub(crate) fn max_message_size(ctx: &Ctx<'_>) -> usize {
    usize::try_from(ctx.chain.max_message_size()).unwrap_or(usize::MAX)
}

/// The spec's and document's mesh, scaled to the requested degree: D_low = 3D/4, D_high = 3D/2,
/// D_lazy = D_low, D_score = D/2, D_out = D/4 (8/6/12, lazy 6, score 4, out 2 at D = 8).
pub(crate) fn spec_mesh(ctx: &Ctx<'_>) -> GossipsubParams {
    let d = ctx.mesh_n;
    let low = (d * 3).div_ceil(4).max(1);
    GossipsubParams {
        mesh_n: d,
        mesh_n_low: low,
        mesh_n_high: (d * 3 / 2).max(d),
        gossip_lazy: low,
        gossip_factor: 0.25,
        retain_scores: (d / 2).max(1),
        mesh_outbound_min: (d / 4).min(low).max(usize::from(d >= 2)),
        heartbeat_interval_ms: 700,
        fanout_ttl_ms: 60_000,
        history_length: 6,
        history_gossip: 3,
        duplicate_cache_time_ms: ctx.chain.seen_ttl_ms(),
        prune_backoff_ms: 60_000,
        unsubscribe_backoff_ms: 10_000,
        flood_publish: true,
        graft_flood_threshold_ms: 10_000,
        opportunistic_graft_ticks: 85,
        opportunistic_graft_peers: 2,
        gossip_retransimission: 3,
        max_ihave_length: 5000,
        max_ihave_messages_heartbeat: 5,
        iwant_followup_time_ms: 3_000,
        do_px: false,
        prune_peers: 16,
        max_transmit_size: max_message_size(ctx),
        idontwant_message_size_threshold: 1000,
    }
}

/// The mesh Lodestar and Prysm run: the spec's D 8/6/12, 700 ms heartbeat, mcache 6/3 and
/// 2-epoch seen TTL, with their routers' defaults where the spec is silent (D_lazy 6, D_score 4,
/// D_out 2, no flood publishing, opportunistic grafting every 60 heartbeats, 10 IHAVEs per
/// heartbeat), at degree D.
pub(crate) fn client_mesh(ctx: &Ctx<'_>) -> GossipsubParams {
    let d = ctx.mesh_n;
    GossipsubParams {
        mesh_n_low: 6.min(d),
        mesh_n_high: 12.max(d),
        gossip_lazy: 6,
        retain_scores: 4,
        mesh_outbound_min: 2.min(d / 2),
        flood_publish: false,
        opportunistic_graft_ticks: 60,
        max_ihave_messages_heartbeat: 10,
        ..spec_mesh(ctx)
    }
}
