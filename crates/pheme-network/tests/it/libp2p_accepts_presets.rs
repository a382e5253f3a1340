//! libp2p's own validation accepts every built-in preset, under the current and the next fork
//! digest, and the values arrive unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use pheme_network::{
    Subnets, params::gossipsub_config_builder, params::peer_score_params,
    params::peer_score_thresholds, params::topic_hash, topics::kinds_for,
};
use pheme_scoring::{DeriveInput, Profile, derive};
use pheme_spec::{GossipKind, Network};

#[test]
fn every_network_and_profile_converts_and_validates() {
    for network in Network::ALL {
        let chain = network.chain_spec().unwrap();
        // The last two digests: around a fork both are subscribed, each with its fork's topics.
        let schedule = chain.digest_schedule();
        let last_two: Vec<_> = schedule.iter().rev().take(2).collect();
        for profile in Profile::ALL {
            let at = |epoch| {
                let input = DeriveInput {
                    chain: &chain,
                    active_validators: network.default_active_validators(),
                    current_slot: chain.start_slot(epoch) + 1000,
                    mesh_n: None,
                    profile,
                };
                derive(&input).unwrap()
            };
            let presets: Vec<_> = last_two.iter().map(|d| (d.digest, at(d.epoch))).collect();
            let pairs: Vec<_> = presets.iter().map(|(d, p)| (*d, p)).collect();
            let params =
                peer_score_params(&pairs).unwrap_or_else(|e| panic!("{network} {profile}: {e}"));
            let expected: usize = presets
                .iter()
                .map(|(_, p)| p.peer_score_params.topics.len())
                .sum();
            assert_eq!(params.topics.len(), expected, "{network} {profile}");
            let preset = &presets[0].1;
            peer_score_thresholds(preset).unwrap();
            let config = gossipsub_config_builder(preset)
                .build()
                .unwrap_or_else(|e| panic!("{network} {profile}: {e}"));
            assert_eq!(config.mesh_n(), preset.gossipsub.mesh_n);
            assert_eq!(config.max_transmit_size(), 12_234_442);
            // An all-subnet peer's first RPC (every topic of three digests, protobuf `SubOpts`:
            // tag, length, `subscribe`, tag, length, topic) and a full IHAVE fit the control cap.
            let subscriptions: usize = schedule[schedule.len().saturating_sub(3)..]
                .iter()
                .flat_map(|d| {
                    kinds_for(&chain, d, &Subnets::All)
                        .into_iter()
                        .map(|k| (d.digest, k))
                })
                .map(|(d, k)| 2 + 2 + 2 + topic_hash(d, k).as_str().len())
                .sum();
            assert!(subscriptions > 16 * 1024, "{network}: {subscriptions}");
            let ihave = preset.gossipsub.max_ihave_length * 22;
            assert!(
                config.max_control_message_size() >= subscriptions + ihave,
                "{network}: {} < {subscriptions} + {ihave}",
                config.max_control_message_size()
            );
        }
    }
    assert!(
        peer_score_params(&[]).is_err(),
        "no digest is an error, not a panic"
    );
}

#[test]
fn values_arrive_unchanged() {
    let chain = Network::Gnosis.chain_spec().unwrap();
    let preset = derive(&DeriveInput {
        chain: &chain,
        active_validators: 300_000,
        current_slot: 30_000_000,
        mesh_n: Some(10),
        profile: Profile::Lighthouse,
    })
    .unwrap();
    let digest = chain.fork_digest_at(chain.epoch_of(30_000_000));
    let params = peer_score_params(&[(digest, &preset)]).unwrap();
    let ours = preset.peer_score_params.topics[&GossipKind::BeaconAggregateAndProof];
    let theirs = &params.topics[&topic_hash(digest, GossipKind::BeaconAggregateAndProof)];
    assert_eq!(
        theirs.mesh_message_deliveries_threshold,
        ours.mesh_message_deliveries_threshold
    );
    assert_eq!(
        theirs.mesh_message_deliveries_activation,
        Duration::from_millis(ours.mesh_message_deliveries_activation_ms)
    );
    assert_eq!(theirs.time_in_mesh_quantum, Duration::from_secs(5));
    assert_eq!(params.decay_interval, Duration::from_secs(5));
    let config = gossipsub_config_builder(&preset).build().unwrap();
    assert_eq!(
        (config.mesh_n(), config.mesh_n_low(), config.mesh_n_high()),
        (10, 5, 15)
    );
    assert_eq!(config.heartbeat_interval(), Duration::from_millis(700));
    assert_eq!(config.duplicate_cache_time(), Duration::from_secs(160));
    assert!(!config.flood_publish());
}

#[test]
fn verdicts_map_to_gossipsub_acceptance() {
    use libp2p::gossipsub::MessageAcceptance;
    use pheme_gossip::Verdict;
    assert!(matches!(
        pheme_network::params::acceptance(Verdict::Accept),
        MessageAcceptance::Accept
    ));
    assert!(matches!(
        pheme_network::params::acceptance(Verdict::Ignore),
        MessageAcceptance::Ignore
    ));
    assert!(matches!(
        pheme_network::params::acceptance(Verdict::Reject),
        MessageAcceptance::Reject
    ));
}
