//! Gloas's and Heze's topics in every profile, on a real Gloas devnet: each new topic is
//! either scored (the recommendations recipe's "other topics" rule) or listed as unscored with
//! the client's reason, and every preset stays sane.

use pheme_scoring::{DeriveInput, Profile, derive, sanity};
use pheme_spec::{Fork, GossipKind, load_network};

const NEW: [GossipKind; 5] = [
    GossipKind::ExecutionPayloadBid,
    GossipKind::ExecutionPayload,
    GossipKind::PayloadAttestationMessage,
    GossipKind::ProposerPreferences,
    GossipKind::InclusionList,
];

#[test]
fn every_profile_covers_the_new_topics() {
    let mut chain = load_network(&format!(
        "{}/../pheme-spec/testdata/glamsterdam-devnet-2/config.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    // Heze one epoch after Gloas, for its topic.
    for f in &mut chain.forks {
        if f.fork == Fork::Heze {
            f.epoch = 2;
        }
    }
    chain.validate().unwrap();
    let slot = 100 * 32;
    assert_eq!(chain.fork_at(100), Fork::Heze);
    for profile in Profile::ALL {
        let preset = derive(&DeriveInput {
            chain: &chain,
            active_validators: 100_000,
            current_slot: slot,
            mesh_n: None,
            profile,
        })
        .unwrap();
        for kind in NEW {
            let scored = preset.peer_score_params.topics.get(&kind);
            let unscored = preset.unscored_topics.get(&kind);
            match profile {
                // The document's "other topics": weight 0.5, invalid messages only.
                Profile::Pheme | Profile::Recommendations => {
                    let p = scored.unwrap_or_else(|| panic!("{profile:?} {kind}"));
                    assert_eq!(p.topic_weight, 0.5);
                    assert_eq!(p.invalid_message_deliveries_weight, -99.0);
                    assert_eq!(p.mesh_message_deliveries_weight, 0.0);
                    assert_eq!(p.first_message_deliveries_weight, 0.0);
                }
                Profile::Lighthouse | Profile::Lodestar | Profile::Prysm => {
                    assert!(scored.is_none(), "{profile:?} {kind}");
                    assert!(unscored.is_some(), "{profile:?} {kind}");
                }
            }
        }
        let report = sanity::check(&preset, &chain);
        assert!(report.is_sane(), "{profile:?}: {:?}", report.violations);
        // The sanity report's expected rates: the committee sizes of the presets.
        let rate = |kind| {
            report
                .topics
                .iter()
                .find(|r| r.topic == kind)
                .map(|r| r.expected_per_slot)
                .unwrap()
        };
        assert_eq!(rate(GossipKind::PayloadAttestationMessage), 512.0);
        assert_eq!(rate(GossipKind::InclusionList), 16.0);
        assert_eq!(rate(GossipKind::ExecutionPayload), 1.0);
    }
}
