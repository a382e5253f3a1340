//! Property tests: every profile derives a sane preset for any validator count from 1 to
//! 4,000,000 on mainnet, gnosis and minimal timings, at any chain age.

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
    fn derived_presets_are_sane(v in 1u64..=4_000_000, chain_index in 0usize..3, profile_index in 0usize..4, slot in 0u64..20_000_000) {
        let chain = &chains()[chain_index];
        let profile = Profile::ALL[profile_index];
        let preset = derive(&DeriveInput { chain, active_validators: v, current_slot: slot, mesh_n: None, profile }).unwrap();
        let report = sanity::check(&preset, chain);
        prop_assert!(report.is_sane(), "{} {} V={} slot={}: {:?}", chain.name, profile, v, slot, report.violations);
        let t = preset.thresholds;
        prop_assert!(t.graylist_threshold < t.publish_threshold && t.publish_threshold < t.gossip_threshold && t.gossip_threshold < 0.0 && 0.0 < t.accept_px_threshold);
    }

    #[test]
    fn aggregators_stay_between_one_and_thirty_one_per_committee(v in 1u64..=4_000_000, chain_index in 0usize..3) {
        // Below 32 members a committee aggregates entirely; above, 16 to 31 are expected.
        let chain = &chains()[chain_index];
        let per_committee = pheme_scoring::aggregators_per_slot(chain, v) / chain.committees_per_slot(v) as f64;
        prop_assert!((1.0..=31.0 + 1e-9).contains(&per_committee), "V={} gives {} per committee", v, per_committee);
    }
}
