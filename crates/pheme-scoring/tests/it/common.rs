//! Helpers shared by the scoring tests.

use pheme_scoring::{DeriveInput, Profile, ScorePreset, TopicScoreParams, derive};
use pheme_spec::{ChainSpec, GossipKind, Network};

/// A slot well past every mesh decay window and inside Fulu on mainnet.
pub const MATURE_SLOT: u64 = 13_500_000;

pub fn mainnet() -> ChainSpec {
    Network::Mainnet.chain_spec().unwrap()
}

pub fn preset(chain: &ChainSpec, v: u64, profile: Profile, mesh_n: Option<usize>) -> ScorePreset {
    derive(&DeriveInput {
        chain,
        active_validators: v,
        current_slot: MATURE_SLOT,
        mesh_n,
        profile,
    })
    .unwrap()
}

pub fn topic(p: &ScorePreset, kind: GossipKind) -> TopicScoreParams {
    p.peer_score_params.topics[&kind]
}

/// Relative closeness, for values a client computes with another pow/float order.
#[track_caller]
pub fn close(got: f64, want: f64, rel: f64) {
    let err = if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    };
    assert!(
        err <= rel,
        "got {got}, want {want} (relative error {err:.2e} > {rel:.0e})"
    );
}
