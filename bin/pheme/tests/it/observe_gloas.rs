//! `pheme observe --network <config.yaml of a Gloas devnet>` across the Gloas fork: a copy of
//! glamsterdam devnet-2's config.yaml on 1 s slots of 4-slot epochs with Gloas a few epochs after
//! genesis; the observer's `/status.json` lists its subscribed topics (one mesh row each). Before
//! the boundary's subscription window they are Fulu's, two epochs ahead Gloas's join them (the
//! four new kinds on Gloas's digest only), two epochs after the fork only Gloas's are left.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pheme_network::params::topic_name;
use pheme_spec::{Fork, GossipKind, unix_now_ms};

use crate::common::{heavy, temp_dir};
use crate::loopback;

/// glamsterdam devnet-2's config.yaml (mainnet preset, Fulu at genesis, Gloas at epoch 1)
/// written to `dir/config.yaml` with genesis at `genesis_time` (unix seconds) and `keys`
/// replaced or added (short slots, other fork epochs).
fn gloas_devnet_config(dir: &Path, genesis_time: u64, keys: &[(&str, &str)]) -> PathBuf {
    let from = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/pheme-spec/testdata/glamsterdam-devnet-2"
    );
    let text = std::fs::read_to_string(format!("{from}/config.yaml")).unwrap();
    let root = std::fs::read_to_string(format!("{from}/genesis_validators_root.txt")).unwrap();
    let mut out: String = text
        .lines()
        .filter(|l| !keys.iter().any(|(k, _)| l.starts_with(&format!("{k}:"))))
        .flat_map(|l| [l, "\n"])
        .collect();
    for (k, v) in keys {
        out.push_str(&format!("{k}: {v}\n"));
    }
    out.push_str(&format!(
        "GENESIS_TIME: {genesis_time}\nGENESIS_VALIDATORS_ROOT: '{}'\n",
        root.trim()
    ));
    let path = dir.join("config.yaml");
    std::fs::write(&path, out).unwrap();
    path
}

/// Gloas's epoch; its topics come `SUBSCRIBE_EPOCHS_AHEAD` = 2 epochs before it, Fulu's go 2
/// epochs after it.
const GLOAS: u64 = 5;
const SLOTS_PER_EPOCH: u64 = 4;
const EPOCH_MS: u64 = 1_000 * SLOTS_PER_EPOCH;

#[test]
fn a_gloas_devnet_config_switches_the_observer_s_topics_at_the_fork() {
    let _heavy = heavy();
    let dir = temp_dir("observe-gloas");
    let genesis = unix_now_ms() / 1000;
    let gloas_epoch = GLOAS.to_string();
    let config = gloas_devnet_config(
        &dir,
        genesis,
        &[
            ("SECONDS_PER_SLOT", "1"),
            ("SLOT_DURATION_MS", "1000"),
            ("SLOTS_PER_EPOCH", "4"),
            ("GLOAS_FORK_EPOCH", &gloas_epoch),
        ],
    );
    let chain = pheme_spec::load_network(config.to_str().unwrap()).unwrap();
    assert_eq!(chain.fork_at(GLOAS - 1), Fork::Fulu);
    assert_eq!(chain.fork_at(GLOAS), Fork::Gloas);
    let (fulu, gloas) = (chain.fork_digest_at(0), chain.fork_digest_at(GLOAS));
    assert_ne!(fulu, gloas);
    let topics = |digest, fork| -> BTreeSet<String> {
        GossipKind::all_for_fork(&chain, fork)
            .into_iter()
            .map(|k| topic_name(digest, k))
            .collect()
    };
    let (fulu_topics, gloas_topics) = (topics(fulu, Fork::Fulu), topics(gloas, Fork::Gloas));
    let new = [
        "execution_payload_bid",
        "execution_payload",
        "payload_attestation_message",
        "proposer_preferences",
    ];
    for name in new {
        assert!(gloas_topics.contains(&format!("/eth2/{gloas}/{name}/ssz_snappy")));
    }
    assert!(
        gloas_topics
            .iter()
            .chain(&fulu_topics)
            .all(|t| !t.contains("blob_sidecar") && !t.contains("inclusion_list")),
        "kinds Fulu or Gloas removed, or Heze's"
    );

    let mut obs = loopback::observer(&config, &dir, &["--no-discovery"]);
    // Every board refresh (2 s): its time and the subscribed topics.
    let mut samples: Vec<(u64, BTreeSet<String>)> = Vec::new();
    let end = genesis * 1000 + (GLOAS + 4) * EPOCH_MS;
    let deadline =
        Instant::now() + Duration::from_millis(end.saturating_sub(unix_now_ms()) + 10_000);
    while unix_now_ms() < end {
        assert!(Instant::now() < deadline);
        if let Some(s) = obs.status() {
            let at = s["network"]["updated_ms"].as_u64().unwrap_or(0);
            if at > 0 && samples.last().is_none_or(|(last, _)| *last != at) {
                let subscribed = s["network"]["mesh"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["topic"].as_str().unwrap().to_owned())
                    .collect();
                samples.push((at, subscribed));
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(obs.guard.exited().is_none(), "{}", obs.log_text());
    // Each sample by its epoch, away from the epoch's start (the service turns topics over
    // on its slot tick).
    let phase = |at: u64| {
        let ms = at.saturating_sub(genesis * 1000);
        (ms % EPOCH_MS >= 1_500).then_some(ms / EPOCH_MS)
    };
    let both: BTreeSet<String> = fulu_topics.union(&gloas_topics).cloned().collect();
    let (mut before, mut ahead, mut after) = (0, 0, 0);
    for (at, subscribed) in &samples {
        let Some(epoch) = phase(*at) else { continue };
        let (want, n) = match epoch {
            e if e < GLOAS - 2 => (&fulu_topics, &mut before),
            e if e < GLOAS + 2 => (&both, &mut ahead),
            _ => (&gloas_topics, &mut after),
        };
        assert_eq!(
            subscribed,
            want,
            "epoch {epoch}: {} topics, missing {:?}, extra {:?}",
            subscribed.len(),
            want.difference(subscribed).collect::<Vec<_>>(),
            subscribed.difference(want).collect::<Vec<_>>()
        );
        *n += 1;
    }
    eprintln!(
        "{} samples: {before} before Gloas's window ({} topics), {ahead} with both digests ({}), {after} after Fulu's ({})",
        samples.len(),
        fulu_topics.len(),
        both.len(),
        gloas_topics.len()
    );
    assert!(before > 0 && ahead > 0 && after > 0, "{samples:?}");
    drop(obs);
    std::fs::remove_dir_all(dir).unwrap();
}
