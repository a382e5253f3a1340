//! When a running node should switch to a freshly derived preset.

use crate::common::{MATURE_SLOT, mainnet, preset};
use pheme_scoring::{Profile, RederiveReason, rederive};

#[test]
fn same_epoch_or_small_changes_keep_the_preset() {
    let chain = mainnet();
    let current = preset(&chain, 1_000_000, Profile::Recommendations, None);
    // Called again with the same inputs: nothing to apply.
    assert!(
        rederive(&current, &chain, 1_000_000, MATURE_SLOT)
            .unwrap()
            .is_none()
    );
    // Next epoch, 0.5 % more validators: no thrash.
    assert!(
        rederive(&current, &chain, 1_005_000, MATURE_SLOT + 32)
            .unwrap()
            .is_none()
    );
}

#[test]
fn significant_changes_apply() {
    let chain = mainnet();
    let current = preset(&chain, 1_000_000, Profile::Lodestar, None);
    let (next, reason) = rederive(&current, &chain, 1_020_000, MATURE_SLOT + 32)
        .unwrap()
        .unwrap();
    assert_eq!(reason, RederiveReason::ValidatorsMoved);
    assert_eq!(
        (
            next.meta.active_validators,
            next.meta.profile,
            next.meta.mesh_n
        ),
        (1_020_000, Profile::Lodestar, 8)
    );

    // 8,150 -> 8,200 validators (+0.6 %): a second committee per slot, but 8,200 is within 1 % of
    // the 8,192 boundary, so it is not applied yet (no flip-flop around the boundary) ...
    let small = preset(&chain, 8_150, Profile::Recommendations, None);
    assert!(
        rederive(&small, &chain, 8_200, MATURE_SLOT + 32)
            .unwrap()
            .is_none()
    );
    // ... and is applied once the count is clear of the boundary, though within 1 % of the
    // count the preset in force was derived for.
    let mut before = preset(&chain, 8_300, Profile::Recommendations, None);
    before.meta.committees_per_slot = 1;
    let (after, reason) = rederive(&before, &chain, 8_320, MATURE_SLOT + 32)
        .unwrap()
        .unwrap();
    assert_eq!(
        (reason, after.meta.committees_per_slot),
        (RederiveReason::CommitteesChanged, 2)
    );
}

#[test]
fn young_chain_activation_and_forks_apply() {
    let chain = mainnet();
    let young = pheme_scoring::derive(&pheme_scoring::DeriveInput {
        chain: &chain,
        active_validators: 400_000,
        current_slot: 40,
        mesh_n: None,
        profile: Profile::Lighthouse,
    })
    .unwrap();
    let (_, reason) = rederive(&young, &chain, 400_000, 70).unwrap().unwrap();
    assert_eq!(
        reason,
        RederiveReason::MeshPenaltiesActivated,
        "aggregate's 64-slot window passed"
    );

    // Across the Fulu boundary the topic set changes.
    let before = pheme_scoring::derive(&pheme_scoring::DeriveInput {
        chain: &chain,
        active_validators: 1_000_000,
        current_slot: 411_391 * 32,
        mesh_n: None,
        profile: Profile::Recommendations,
    })
    .unwrap();
    let (after, reason) = rederive(&before, &chain, 1_000_000, 411_392 * 32)
        .unwrap()
        .unwrap();
    assert_eq!(reason, RederiveReason::ForkChanged);
    assert!(
        after
            .peer_score_params
            .topics
            .keys()
            .any(|k| k.base_name() == "data_column_sidecar")
    );
    assert!(
        !after
            .peer_score_params
            .topics
            .keys()
            .any(|k| k.base_name() == "blob_sidecar")
    );
}
