//! Topic strings: every topic of every digest round-trips; anything else is an error.

use pheme_codec::{Encoding, GossipTopic};
use pheme_spec::{GossipKind, Network};

#[test]
fn every_topic_of_every_digest_round_trips() {
    for network in Network::ALL {
        let chain = network.chain_spec().unwrap();
        for entry in chain.digest_schedule() {
            for kind in GossipKind::all_for_fork(&chain, entry.fork) {
                let topic = GossipTopic::new(entry.digest, kind);
                let text = topic.to_string();
                assert!(text.starts_with(&format!("/eth2/{}/", entry.digest)));
                assert_eq!(text.parse::<GossipTopic>().unwrap(), topic);
            }
        }
    }
}

#[test]
fn malformed_topics_are_errors() {
    for bad in [
        "",
        "/eth2/8c9f62fe/beacon_block",
        "/eth2/8c9f62fe/beacon_block/ssz_snappy/extra",
        "eth2/8c9f62fe/beacon_block/ssz_snappy",
        "/eth1/8c9f62fe/beacon_block/ssz_snappy",
        "/eth2/8C9F62FE/beacon_block/ssz_snappy",
        "/eth2/8c9f62f/beacon_block/ssz_snappy",
        "/eth2/zz9f62fe/beacon_block/ssz_snappy",
        "/eth2/8c9f62fe/beacon_blocks/ssz_snappy",
        "/eth2/8c9f62fe/beacon_attestation_07/ssz_snappy",
        "/eth2/8c9f62fe/beacon_block/ssz",
    ] {
        let err = bad.parse::<GossipTopic>().unwrap_err();
        assert!(
            err.to_string().contains("not an eth2 gossip topic"),
            "{bad}: {err}"
        );
    }
    let ok: GossipTopic = "/eth2/8c9f62fe/sync_committee_contribution_and_proof/ssz_snappy"
        .parse()
        .unwrap();
    assert_eq!(
        (ok.kind, ok.encoding),
        (
            GossipKind::SyncCommitteeContributionAndProof,
            Encoding::SszSnappy
        )
    );
}
