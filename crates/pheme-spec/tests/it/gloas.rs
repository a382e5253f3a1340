//! A real Gloas devnet's `config.yaml` (ethpandaops' glamsterdam devnet-2, Gloas at epoch 1):
//! the fork epochs and versions, the digests either side of the boundary as the pinned
//! executable spec computes them, and the topics each digest carries.

use pheme_spec::{Fork, GossipKind, load_network};

fn devnet() -> pheme_spec::ChainSpec {
    load_network(&format!(
        "{}/testdata/glamsterdam-devnet-2/config.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn the_gloas_devnet_forks_at_epoch_one() {
    let chain = devnet();
    // genesis.ssz of the devnet says 1777640400 = MIN_GENESIS_TIME + GENESIS_DELAY.
    assert_eq!(chain.genesis_time, 1_777_640_400);
    let gloas = chain.fork_entry(Fork::Gloas).unwrap();
    assert_eq!(
        (gloas.epoch, gloas.version.to_string()),
        (1, "80467850".to_owned())
    );
    assert!(!chain.fork_entry(Fork::Heze).unwrap().is_scheduled());
    assert_eq!(chain.fork_at(0), Fork::Fulu);
    assert_eq!(chain.fork_at(1), Fork::Gloas);
    assert_eq!(chain.next_fork(0).map(|f| f.fork), Some(Fork::Gloas));
    // `compute_fork_digest` of eth-consensus-specs 1.7.0a13 with this config (fulu's and
    // gloas's versions, each XORed with BLOB_SCHEDULE's epoch-0 entry of 15 blobs).
    let schedule: Vec<_> = chain
        .digest_schedule()
        .iter()
        .map(|d| (d.epoch, d.fork, d.digest.to_string()))
        .collect();
    assert_eq!(
        schedule,
        [
            (0, Fork::Fulu, "3d8052f9".to_owned()),
            (1, Fork::Gloas, "6b014b38".to_owned())
        ]
    );
}

#[test]
fn topics_change_at_the_gloas_boundary() {
    let chain = devnet();
    let names = |fork| {
        GossipKind::all_for_fork(&chain, fork)
            .into_iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
    };
    let (fulu, gloas) = (names(Fork::Fulu), names(Fork::Gloas));
    let new: Vec<_> = gloas.iter().filter(|n| !fulu.contains(n)).collect();
    assert_eq!(
        new,
        [
            "execution_payload_bid",
            "execution_payload",
            "payload_attestation_message",
            "proposer_preferences"
        ]
    );
    assert!(
        fulu.iter().all(|n| gloas.contains(n)),
        "gloas drops no topic"
    );
    assert!(!gloas.contains(&"inclusion_list".to_owned()));
    assert!(names(Fork::Heze).contains(&"inclusion_list".to_owned()));
    // The new kinds exist from gloas on only.
    assert!(!GossipKind::ExecutionPayloadBid.exists_at(&chain, Fork::Fulu));
    assert!(GossipKind::ExecutionPayloadBid.exists_at(&chain, Fork::Gloas));
    assert!(!GossipKind::InclusionList.exists_at(&chain, Fork::Gloas));
}
