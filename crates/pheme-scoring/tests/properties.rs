//! Property tests: every profile derives a sane preset for any validator count from 64 to
//! 4,000,000 on mainnet, gnosis and minimal timings, at any chain age.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use pheme_scoring::{DeriveInput, Profile, derive, sanity};
use pheme_spec::{ChainSpec, Network, PresetBase};
use proptest::prelude::*;

fn minimal_chain() -> ChainSpec {
    // Mainnet's fork schedule on the minimal preset with 6 s slots.
    let mut chain = Network::Mainnet.chain_spec().unwrap();
    chain.preset = PresetBase::Minimal.preset();
    chain.slot_duration_ms = 6_000;
    chain.name = "minimal".into();
    chain
}

fn chains() -> Vec<ChainSpec> {
    vec![
        Network::Mainnet.chain_spec().unwrap(),
        Network::Gnosis.chain_spec().unwrap(),
        minimal_chain(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn derived_presets_are_sane(v in 64u64..=4_000_000, chain_index in 0usize..3, profile_index in 0usize..4, slot in 0u64..20_000_000) {
        let chain = &chains()[chain_index];
        let profile = Profile::ALL[profile_index];
        let preset = derive(&DeriveInput { chain, active_validators: v, current_slot: slot, mesh_n: None, profile }).unwrap();
        let report = sanity::check(&preset, chain);
        prop_assert!(report.is_sane(), "{} {} V={} slot={}: {:?}", chain.name, profile, v, slot, report.violations);
        let t = preset.thresholds;
        prop_assert!(t.graylist_threshold < t.publish_threshold && t.publish_threshold < t.gossip_threshold && t.gossip_threshold < 0.0 && 0.0 < t.accept_px_threshold);
    }

    #[test]
    fn more_validators_never_lower_expected_rates(v in 64u64..=3_999_000, chain_index in 0usize..3) {
        let chain = &chains()[chain_index];
        let agg = |v| pheme_scoring::math::aggregators_per_slot(chain, v);
        prop_assert!(agg(v + 1000) + 1e-9 >= agg(v) * 0.9, "aggregators collapse between {} and {}", v, v + 1000);
        prop_assert!(agg(v) >= 1.0);
    }
}
