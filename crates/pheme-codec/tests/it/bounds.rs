//! The size bounds against the spec's stated sizes.

use pheme_codec::{SszBounds, gossip_bounds};
use pheme_spec::{Fork, GossipKind, Network};

#[test]
fn fixed_sizes_are_the_specs() {
    let m = Network::Mainnet.chain_spec().unwrap();
    let at = |kind, fork| gossip_bounds(&m, kind, fork);
    assert_eq!(
        at(GossipKind::BeaconAttestation(0), Fork::Electra),
        SszBounds::fixed(240)
    );
    assert_eq!(
        at(GossipKind::SyncCommittee(1), Fork::Altair),
        SszBounds::fixed(144)
    );
    assert_eq!(
        at(GossipKind::SyncCommitteeContributionAndProof, Fork::Altair),
        SszBounds::fixed(360)
    );
    assert_eq!(
        at(GossipKind::VoluntaryExit, Fork::Phase0),
        SszBounds::fixed(112)
    );
    assert_eq!(
        at(GossipKind::ProposerSlashing, Fork::Phase0),
        SszBounds::fixed(416)
    );
    assert_eq!(
        at(GossipKind::BlsToExecutionChange, Fork::Capella),
        SszBounds::fixed(172)
    );
    assert_eq!(
        at(GossipKind::BlobSidecar(2), Fork::Deneb),
        SszBounds::fixed(131_928)
    );
    // Gloas: index, data (root, slot, two booleans), signature; preferences and signature.
    assert_eq!(
        at(GossipKind::PayloadAttestationMessage, Fork::Gloas),
        SszBounds::fixed(8 + 42 + 96)
    );
    assert_eq!(
        at(GossipKind::ProposerPreferences, Fork::Gloas),
        SszBounds::fixed(76 + 96)
    );
    // The electra attestation carries on.
    assert_eq!(
        at(GossipKind::BeaconAttestation(0), Fork::Gloas),
        SszBounds::fixed(240)
    );
}

#[test]
fn variable_maxima_are_the_specs() {
    let m = Network::Mainnet.chain_spec().unwrap();
    let max = |kind, fork| gossip_bounds(&m, kind, fork).max;
    // MAX_SIGNED_AGGREGATE_AND_PROOF_SIZE and MAX_ATTESTER_SLASHING_SIZE (gloas p2p spec).
    assert_eq!(
        max(GossipKind::BeaconAggregateAndProof, Fork::Electra),
        16_829
    );
    assert_eq!(max(GossipKind::AttesterSlashing, Fork::Electra), 2_097_616);
    assert_eq!(max(GossipKind::BeaconAttestation(0), Fork::Deneb), 485);
    assert_eq!(max(GossipKind::BeaconBlock, Fork::Fulu), 10_485_760);
    assert_eq!(max(GossipKind::DataColumnSidecar(0), Fork::Fulu), 8_782_180);
    // Gloas's and Heze's tables of type-specific bounds, figure for figure.
    assert_eq!(
        max(GossipKind::BeaconAggregateAndProof, Fork::Gloas),
        16_829
    );
    assert_eq!(max(GossipKind::AttesterSlashing, Fork::Gloas), 2_097_616);
    assert_eq!(
        max(GossipKind::DataColumnSidecar(3), Fork::Gloas),
        8_585_272
    );
    assert_eq!(max(GossipKind::ExecutionPayloadBid, Fork::Gloas), 196_932);
    assert_eq!(max(GossipKind::ExecutionPayloadBid, Fork::Heze), 196_934);
    assert_eq!(max(GossipKind::InclusionList, Fork::Heze), 8_348);
    assert_eq!(max(GossipKind::ExecutionPayload, Fork::Gloas), 10_485_760);
    // Nothing ever above MAX_PAYLOAD_SIZE.
    for fork in [
        Fork::Phase0,
        Fork::Deneb,
        Fork::Electra,
        Fork::Fulu,
        Fork::Gloas,
        Fork::Heze,
    ] {
        for kind in GossipKind::all_for_fork(&m, fork) {
            assert!(
                gossip_bounds(&m, kind, fork).max <= 10_485_760,
                "{kind} {fork}"
            );
        }
    }
}
