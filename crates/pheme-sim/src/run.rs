//! One run: start the honest nodes and the attackers, connect them as the scenario says, warm
//! up, publish the schedule, poll scores throughout, then measure.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};
use pheme_network::{NetworkHandle, params::topic_hash};
use pheme_scoring::sanity::{self, SanityReport};
use pheme_scoring::{DeriveInput, ScorePreset, derive_tuned};
use pheme_spec::{ChainSpec, GossipKind, unix_now_ms};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use tokio::task::JoinHandle;

use crate::honest::{self, EventLog, HonestNode};
use crate::measure::{self, POLL, Published, ScoreLog, Thresholds};
use crate::raw::{self, Script};
use crate::report::RunReport;
use crate::scenario::{Scenario, SimConfig};
use crate::sybil::{self, Conduct};
use crate::{SimError, fixtures, schedule};

/// Genesis this many slots back, so that no mesh penalty is deferred for a young chain.
const CHAIN_AGE_SLOTS: u64 = 1_000;

/// An attacker of either kind.
struct Attacker {
    peer: PeerId,
    dial: tokio::sync::mpsc::UnboundedSender<Multiaddr>,
    listen: Option<Multiaddr>,
    task: JoinHandle<()>,
}

/// The run's chain, its current slot, the preset every node derives and that preset's sanity
/// report (what the predictions read).
pub(crate) fn derive_preset(
    cfg: &SimConfig,
) -> Result<(Arc<ChainSpec>, u64, ScorePreset, SanityReport), SimError> {
    let chain = Arc::new(fixtures::chain(
        cfg.slot_ms,
        cfg.slots_per_epoch,
        CHAIN_AGE_SLOTS,
        0,
        &[],
    )?);
    let slot = fixtures::slot_now(&chain);
    let preset = cfg.with_mesh_bounds(derive_tuned(
        &DeriveInput {
            chain: &chain,
            active_validators: cfg.active_validators,
            current_slot: slot,
            mesh_n: cfg.mesh_n,
            profile: cfg.profile,
        },
        &cfg.tuning,
    )?);
    let sanity_report = sanity::check(&preset, &chain);
    Ok((chain, slot, preset, sanity_report))
}

/// Runs one scenario with the configuration's sizes and returns what it measured.
pub async fn run(cfg: &SimConfig) -> Result<RunReport, SimError> {
    let started = Instant::now();
    let (chain, slot, preset, sanity_report) = derive_preset(cfg)?;
    let prediction = crate::predict::predict(cfg, &preset, &sanity_report);
    // The topics where a silent mesh peer goes negative as fast as the prediction says (the
    // block topic's P3 activates only after 64 slots, longer than a run).
    let fastest: HashSet<&str> = sanity_report
        .topics
        .iter()
        .filter(|t| {
            t.silent_negative_after_ms.is_some()
                && t.silent_negative_after_ms <= prediction.below_zero_ms
        })
        .map(|t| t.topic.base_name())
        .collect();
    let digest = chain.fork_digest_at(chain.epoch_of(slot));
    let cps = chain.committees_per_slot(cfg.active_validators);
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    tracing::info!(target: "pheme::sim", scenario = %cfg.scenario, scoring = cfg.scoring, honest = cfg.honest, sybils = cfg.attackers(), "run starting");

    let log = Arc::new(Mutex::new(EventLog::default()));
    let mut nodes = Vec::with_capacity(cfg.honest);
    for i in 0..cfg.honest {
        nodes.push(honest::start(&chain, cfg, i, log.clone()).await?);
    }
    let attack_from = Arc::new(AtomicU64::new(u64::MAX));
    let attackers = start_attackers(cfg, &chain, &preset, digest, &nodes, &attack_from).await?;
    let attacker_ids: HashSet<PeerId> = attackers.iter().map(|a| a.peer).collect();

    let scores = Arc::new(Mutex::new(ScoreLog::default()));
    let thresholds = Thresholds {
        gossip: preset.thresholds.gossip_threshold,
        publish: preset.thresholds.publish_threshold,
        graylist: preset.thresholds.graylist_threshold,
        p3_topics: preset
            .peer_score_params
            .topics
            .iter()
            .filter(|(k, p)| p.mesh_scored() && fastest.contains(k.base_name()))
            .map(|(k, _)| topic_hash(digest, *k).into_string())
            .collect(),
    };
    let honest_from = Arc::new(AtomicU64::new(u64::MAX));
    // P3 stints count from the covert flash (its Sybils forward until then), else at once.
    let p3_from = Arc::new(AtomicU64::new(0));
    let poller = tokio::spawn(poll_scores(
        nodes.iter().map(|n| n.handle.clone()).collect(),
        attacker_ids.clone(),
        scores.clone(),
        (thresholds, honest_from.clone(), p3_from.clone()),
    ));

    // Topology and connections.
    let honest_edges = honest_edges(cfg, &mut rng);
    let sybil_targets = sybil_targets(cfg, &mut rng);
    let connect_sybils = |nodes: &[HonestNode]| -> Result<(), SimError> {
        for (a, targets) in attackers.iter().zip(&sybil_targets) {
            for t in targets {
                match (&a.listen, cfg.scenario) {
                    (Some(addr), Scenario::IpColocation) => {
                        let h = nodes[*t].handle.clone();
                        let addr = addr.clone();
                        tokio::spawn(async move { h.dial(addr).await });
                    }
                    _ => {
                        let _ = a.dial.send(nodes[*t].addr.clone());
                    }
                }
            }
        }
        Ok(())
    };
    let slot_wait = Duration::from_millis(cfg.slot_ms);
    let clock = chain.clock();
    let proposer = (cfg.scenario == Scenario::Censorship).then_some(0);
    // Publishing starts as soon as honest nodes are connected (a live chain is never quiet);
    // Sybils connect two slots later and measurement starts after the warm-up.
    let pre = 2 + cfg.warmup_slots;
    let mut whole = cfg.clone();
    whole.slots = pre + cfg.slots;
    let plan = schedule::plan(&whole, cps, proposer);
    let handles: Vec<NetworkHandle> = nodes.iter().map(|n| n.handle.clone()).collect();
    let connected_ms = unix_now_ms();
    let first = if cfg.scenario == Scenario::ColdBoot {
        connect_sybils(&nodes)?;
        tokio::time::sleep(3 * slot_wait).await;
        dial_honest(&nodes, &honest_edges).await?;
        fixtures::slot_now(&chain) + 1
    } else {
        dial_honest(&nodes, &honest_edges).await?;
        honest::wait_peers(
            &nodes,
            cfg.honest_degree.min(cfg.honest - 1),
            10 * slot_wait,
        )
        .await?;
        fixtures::slot_now(&chain) + 1
    };
    let measure_ms = clock.slot_start_ms(first + pre);
    let reference = match cfg.scenario {
        Scenario::InvalidFlood => measure_ms,
        Scenario::CovertFlash => measure_ms + cfg.slots / 2 * cfg.slot_ms,
        Scenario::ColdBoot => connected_ms,
        Scenario::GraftFlood | Scenario::IhaveSpam => {
            clock.slot_start_ms(first + 2) + raw_delay(cfg).as_millis() as u64
        }
        _ => clock.slot_start_ms(first + 2),
    };
    attack_from.store(reference, Ordering::Relaxed);
    honest_from.store(measure_ms, Ordering::Relaxed);
    if cfg.scenario == Scenario::CovertFlash {
        p3_from.store(reference, Ordering::Relaxed);
    }
    let publisher = tokio::spawn(publish(
        handles,
        chain.clone(),
        plan,
        (first, pre, cps),
        cfg.block_tx_bytes,
    ));
    if cfg.scenario != Scenario::ColdBoot {
        sleep_until_ms(clock.slot_start_ms(first + 2)).await;
        connect_sybils(&nodes)?;
    }
    let (published, publish_failures) = publisher.await??;
    // Let the last slot's messages arrive, and Pheme's counters reach the recorders.
    tokio::time::sleep(2 * slot_wait).await;
    poller.abort();

    let target = match cfg.scenario {
        Scenario::Eclipse => Some((0, true)),
        Scenario::Censorship => Some((0, false)),
        _ => None,
    };
    let (deliveries, bans) = {
        let log = log.lock().map_err(|_| SimError::Poisoned)?;
        (
            measure::deliveries(&published, &log.receipts, cfg.honest, target),
            log.bans.clone(),
        )
    };
    let duplicates: u64 = nodes
        .iter()
        .map(|n| n.recorder.total("pheme_gossip_duplicates_total"))
        .sum();
    let mut scores = std::mem::take(&mut *scores.lock().map_err(|_| SimError::Poisoned)?);
    for (node, peer, at) in bans {
        scores.banned(node, peer, at, &attacker_ids);
    }
    let report = RunReport::new(
        cfg,
        &deliveries,
        duplicates,
        &scores,
        reference,
        prediction,
        publish_failures,
        target.is_some(),
        started.elapsed(),
    );
    shutdown(nodes, attackers).await;
    Ok(report)
}

/// How long raw attackers wait after connecting before their script starts.
fn raw_delay(cfg: &SimConfig) -> Duration {
    Duration::from_millis(cfg.slot_ms)
}

async fn start_attackers(
    cfg: &SimConfig,
    chain: &Arc<ChainSpec>,
    preset: &ScorePreset,
    digest: pheme_spec::ForkDigest,
    nodes: &[HonestNode],
    attack_from: &Arc<AtomicU64>,
) -> Result<Vec<Attacker>, SimError> {
    let mut out = Vec::with_capacity(cfg.attackers());
    let topics: Vec<String> = [GossipKind::BeaconBlock, GossipKind::BeaconAggregateAndProof]
        .into_iter()
        .map(|k| topic_hash(digest, k).into_string())
        .collect();
    let shared = sybil::Shared {
        chain: chain.clone(),
        preset: preset.clone(),
        digest,
        from: attack_from.clone(),
    };
    for i in 0..cfg.attackers() {
        let keypair = honest::seeded_keypair(cfg.seed, 2, i)?;
        let script = match cfg.scenario {
            Scenario::GraftFlood => Some(Script::GraftFlood),
            Scenario::IhaveSpam => Some(Script::IhaveSpam { ids: cfg.ihave_ids }),
            _ => None,
        };
        if let Some(script) = script {
            let a = raw::start(
                keypair,
                script,
                topics.clone(),
                raw_delay(cfg),
                cfg.seed + i as u64,
            )?;
            out.push(Attacker {
                peer: a.peer,
                dial: a.dial,
                listen: None,
                task: a.task,
            });
            continue;
        }
        let conduct = match cfg.scenario {
            Scenario::CovertFlash => Conduct::CovertFlash,
            Scenario::Censorship => Conduct::Censor {
                victim: nodes
                    .first()
                    .map(|n| n.handle.local_peer_id())
                    .ok_or(SimError::NoHonestNodes)?,
            },
            Scenario::InvalidFlood => Conduct::InvalidFlood {
                per_slot: cfg.invalid_per_slot,
            },
            _ => Conduct::Silent,
        };
        let listen = (cfg.scenario == Scenario::IpColocation)
            .then(|| "/ip4/127.0.0.66/tcp/0".parse::<Multiaddr>())
            .transpose()?;
        let s = sybil::start(
            &shared,
            keypair,
            conduct,
            listen,
            cfg.seed.wrapping_add(i as u64),
        )
        .await?;
        out.push(Attacker {
            peer: s.peer,
            dial: s.dial,
            listen: s.listen,
            task: s.task,
        });
    }
    Ok(out)
}

/// Each honest node dials `honest_degree` others. In the eclipse no honest node dials node 0:
/// it dials `eclipse_dials` honest peers itself (what an attacker who takes every inbound slot
/// cannot choose), or with none, nodes 1 and 2 dial it and it has no outbound peer at all.
pub(crate) fn honest_edges(cfg: &SimConfig, rng: &mut StdRng) -> Vec<(usize, usize)> {
    let n = cfg.honest;
    let eclipse = cfg.scenario == Scenario::Eclipse;
    let eclipse_dials = cfg.eclipse_dials.unwrap_or(cfg.honest_degree);
    let mut edges = Vec::new();
    for i in 0..n {
        let dials = if eclipse && i == 0 {
            eclipse_dials
        } else {
            cfg.honest_degree
        };
        if dials == 0 {
            continue;
        }
        let mut others: Vec<usize> = (0..n)
            .filter(|j| *j != i && !(eclipse && *j == 0))
            .collect();
        others.shuffle(rng);
        edges.extend(others.into_iter().take(dials).map(|j| (i, j)));
    }
    if eclipse && eclipse_dials == 0 {
        edges.extend((1..n.min(3)).map(|i| (i, 0)));
    }
    edges
}

/// The honest nodes each attacker connects to: `sybil_degree` of them; in the eclipse every
/// attacker includes node 0, in the censorship half of them do.
pub(crate) fn sybil_targets(cfg: &SimConfig, rng: &mut StdRng) -> Vec<Vec<usize>> {
    let n = cfg.honest;
    // Node 0 takes Sybils up to its peer limit, less room for its honest peers (the socket
    // engine's node refuses the rest; the virtual engine must not give it thousands).
    let room = crate::honest::peer_limit(cfg).saturating_sub(2 * cfg.honest_degree);
    let mut pinned = 0usize;
    (0..cfg.attackers())
        .map(|i| {
            let wants = match cfg.scenario {
                Scenario::Eclipse => true,
                Scenario::Censorship => i % 2 == 0,
                _ => false,
            };
            let pin = wants && pinned < room;
            pinned += usize::from(pin);
            let mut all: Vec<usize> = (0..n).filter(|j| !(pin && *j == 0)).collect();
            all.shuffle(rng);
            let mut t: Vec<usize> = Vec::with_capacity(cfg.sybil_degree);
            if pin {
                t.push(0);
            }
            t.extend(
                all.into_iter()
                    .take(cfg.sybil_degree.saturating_sub(t.len())),
            );
            t
        })
        .collect()
}

async fn dial_honest(nodes: &[HonestNode], edges: &[(usize, usize)]) -> Result<(), SimError> {
    for (i, j) in edges {
        nodes[*i].handle.dial(nodes[*j].addr.clone()).await?;
    }
    Ok(())
}

async fn poll_scores(
    handles: Vec<NetworkHandle>,
    attackers: HashSet<PeerId>,
    log: Arc<Mutex<ScoreLog>>,
    (thresholds, honest_from, p3_from): (Thresholds, Arc<AtomicU64>, Arc<AtomicU64>),
) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for (i, h) in handles.iter().enumerate() {
            let Ok(scores) = h.peer_scores().await else {
                continue;
            };
            if let Ok(mut log) = log.lock() {
                let now = unix_now_ms();
                let honest = now >= honest_from.load(Ordering::Relaxed);
                let p3 = p3_from.load(Ordering::Relaxed);
                log.observe(i, &scores, &attackers, &thresholds, now, honest, p3);
            }
        }
    }
}

async fn sleep_until_ms(at: u64) {
    let now = unix_now_ms();
    if at > now {
        tokio::time::sleep(Duration::from_millis(at - now)).await;
    }
}

/// Publishes the plan slot by slot from slot `first`; records the publications from slot
/// `first + pre` on. Returns them and the count of refused publications.
async fn publish(
    handles: Vec<NetworkHandle>,
    chain: Arc<ChainSpec>,
    plan: Vec<schedule::Planned>,
    (first, pre, cps): (u64, u64, u64),
    block_tx_bytes: usize,
) -> Result<(Vec<Published>, usize), SimError> {
    let clock = chain.clock();
    let mut published = Vec::with_capacity(plan.len());
    let mut failures = 0usize;
    for p in &plan {
        let slot = first + p.slot_offset;
        sleep_until_ms(clock.slot_start_ms(slot) + p.at_ms).await;
        let (kind, ssz) = p.message(&chain, slot, cps, block_tx_bytes)?;
        let at_ms = unix_now_ms();
        let Some(handle) = handles.get(p.publisher) else {
            continue;
        };
        let result = handle.publish_ssz(kind, ssz).await;
        if p.slot_offset < pre {
            continue;
        }
        match result {
            Ok(id) => published.push(Published {
                id: id.0,
                publisher: p.publisher,
                at_ms,
            }),
            Err(e) => {
                failures += 1;
                tracing::debug!(target: "pheme::sim", error = %e, "publish failed");
            }
        }
    }
    Ok((published, failures))
}

/// Stops everything: attackers first, then the honest services (they end when their last
/// handle is dropped), and waits for the sockets to close.
async fn shutdown(nodes: Vec<HonestNode>, attackers: Vec<Attacker>) {
    for a in attackers {
        a.task.abort();
    }
    let stops = nodes.iter().map(|n| n.handle.shutdown());
    let _ = tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(stops)).await;
    for n in nodes {
        n.events.abort();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}
