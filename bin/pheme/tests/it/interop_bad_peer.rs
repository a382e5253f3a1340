//! A bad peer behind Pheme: it sends Lodestar-format attestations on the wrong subnet and BLS
//! changes with wrong signature bytes. Pheme REJECTs them, the sender's score falls, and the
//! Lodestar node Pheme is connected to never receives one from Pheme.
//!
//! Needs Node.js and npm (the pinned Lodestar is installed once into the cache).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pheme_network::{NetworkConfig, Subnets};
use pheme_spec::{GossipKind, unix_now_ms};
use pheme_types::ssz_rs::{Bitlist, serialize};

use crate::lodestar::{
    Devnet, PHEME, connected_peer, lodestar_stats, metric, metrics as metrics_text,
};

// The guard is a std lock held across awaits on purpose: it orders whole tests, and no task of
// this test's runtime takes it.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_messages_stop_at_pheme() {
    let _heavy = crate::common::heavy();
    let mut cleanup = Devnet::new("bad-peer");
    let devnet = cleanup.up(&["--nodes", "1", "--fork", "capella", "--base-port", "19400"]);
    let rest = devnet["nodes"][0]["rest"].as_str().unwrap().to_owned();
    let config = cleanup.config();
    let metrics = "127.0.0.1:19490";
    cleanup.child = Some(
        Command::new(PHEME)
            .args(["observe", "--network"])
            .arg(&config)
            .args(["--no-discovery", "--listen", "127.0.0.1", "--port", "19480"])
            .args(["--peers", devnet["nodes"][0]["multiaddr"].as_str().unwrap()])
            .args([
                "--active-validators",
                "16",
                "--metrics",
                metrics,
                "--duration",
                "120s",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // The bad peer: a Pheme node of its own that publishes what it likes.
    let chain = pheme_spec::load_network(config.to_str().unwrap()).unwrap();
    let bad_config = NetworkConfig::builder(chain.clone())
        .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .peer("/ip4/127.0.0.1/tcp/19480".parse().unwrap())
        .subnets(Subnets::All)
        .active_validators(16)
        .ip_colocation_whitelist(vec!["127.0.0.1".parse().unwrap()])
        .build()
        .unwrap();
    let (bad, _events) = pheme_network::spawn(bad_config, pheme_gossip::NoState, None).unwrap();
    let bad_id = bad.local_peer_id().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = bad.snapshot().await.unwrap();
        if s.mesh.get("beacon_attestation").copied().unwrap_or(0) >= 8 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the bad peer never joined Pheme's meshes: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // BLS changes whose signature bytes are not the signer's, then attestations of committee
    // 0 on the wrong subnet until Pheme stops listening (it graylists and bans the sender).
    let mut sent = 0;
    for i in 0..10u64 {
        let mut c = pheme_types::capella::SignedBlsToExecutionChange::default();
        c.message.validator_index = i;
        c.signature = pheme_types::primitives::BlsSignature::try_from(&[0xab; 96][..]).unwrap();
        bad.publish_ssz(GossipKind::BlsToExecutionChange, serialize(&c).unwrap())
            .await
            .unwrap();
        sent += 1;
    }
    let spe = chain.slots_per_epoch();
    for i in 0..100u64 {
        let slot = chain.clock().slot_at_ms(unix_now_ms()).unwrap();
        let mut a = pheme_types::minimal::phase0::Attestation {
            aggregation_bits: Bitlist::try_from(&[true, false][..]).unwrap(),
            ..Default::default()
        };
        a.data.slot = slot;
        a.data.index = 0;
        a.data.target.epoch = slot / spe;
        a.data.beacon_block_root =
            pheme_types::primitives::Root::try_from(&[i as u8; 32][..]).unwrap();
        // One committee per slot with 16 validators: committee 0 is on subnet slot % 8.
        let wrong = (slot % spe + 1) % 64;
        match bad
            .publish_ssz(GossipKind::BeaconAttestation(wrong), serialize(&a).unwrap())
            .await
        {
            Ok(_) => sent += 1,
            Err(e) => {
                println!("after {sent} invalid messages the bad peer cannot publish: {e}");
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sent >= 20, "only {sent} sent");

    // Pheme refused them and scores the sender down.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (rejected, score, p4) = loop {
        let text = metrics_text(metrics);
        let rejected = metric(
            &text,
            "pheme_gossip_messages_total{kind=\"beacon_attestation\",verdict=\"reject\",reason=\"wrong_subnet\"}",
        )
        .unwrap_or(0.0);
        let score = metric(
            &text,
            &format!("pheme_peer_score_by_peer{{peer=\"{bad_id}\",component=\"total\"}}"),
        );
        let p4 = metric(
            &text,
            &format!("pheme_peer_score_by_peer{{peer=\"{bad_id}\",component=\"p4\"}}"),
        );
        let bad_sig = metric(
            &text,
            "pheme_gossip_messages_total{kind=\"bls_to_execution_change\",verdict=\"reject\",reason=\"bad_signature\"}",
        )
        .unwrap_or(0.0);
        let banned =
            metric(&text, "pheme_peers_banned_total{reason=\"graylisted\"}").unwrap_or(0.0);
        if let (Some(s), Some(p4)) = (score, p4)
            && rejected >= 10.0
            && bad_sig >= 10.0
            && banned >= 1.0
            && s < 0.0
        {
            break (rejected, s, p4);
        }
        if Instant::now() > deadline {
            panic!("rejected {rejected} + {bad_sig}, score {score:?}, p4 {p4:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "of {sent} sent, Pheme rejected {rejected} wrong-subnet attestations and 10 bad BLS \
         changes, and banned the sender; its last score {score:.1} (P4 {p4:.1})"
    );
    assert!(p4 < 0.0);

    // Lodestar never got an invalid message from Pheme: no invalid deliveries, no penalty.
    let pheme_id = connected_peer(&rest);
    let mine = lodestar_stats(&rest, "gossip-peer-score-stats", &pheme_id);
    for (topic, t) in mine["topics"].as_object().unwrap() {
        assert_eq!(t["invalid_message_deliveries"], 0.0, "{topic}: {t}");
    }
    let mine = lodestar_stats(&rest, "lodestar-peer-score-stats", &pheme_id);
    assert!(mine["score"].as_f64().unwrap() >= 0.0, "{mine}");
    assert!(mine["gossip_score"].as_f64().unwrap() >= 0.0, "{mine}");
    println!("Lodestar's view of Pheme afterwards: {mine}");
}
