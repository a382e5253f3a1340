//! The scenarios and the knobs of one simulation run.

use std::fmt;
use std::str::FromStr;

use pheme_scoring::Profile;

/// One attack (or none), run once with scoring and once without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// No attackers: the reference for latency targets (the Sybil count is ignored).
    Baseline,
    /// Sybils publish invalid blocks (P4).
    InvalidFlood,
    /// Sybils join meshes and never forward (P3).
    Silent,
    /// Sybils forward for the first half of the run, then go silent.
    CovertFlash,
    /// Sybils connect before the honest nodes connect to each other.
    ColdBoot,
    /// Sybils take every slot of one target up to its peer limit; no honest node dials it, it
    /// dials its own honest peers ([`SimConfig::eclipse_dials`]). Sybils are silent.
    Eclipse,
    /// Sybils crowd one publisher, forward everyone else's messages and drop the publisher's.
    Censorship,
    /// Raw attackers GRAFT again and again during the prune backoff (P7).
    GraftFlood,
    /// Raw attackers announce message-ids in IHAVEs and never answer the IWANTs (P7).
    IhaveSpam,
    /// Silent Sybils that all share one IP address (P6); honest nodes dial them.
    IpColocation,
}

impl Scenario {
    /// Every scenario, baseline first.
    pub const ALL: [Scenario; 10] = [
        Scenario::Baseline,
        Scenario::InvalidFlood,
        Scenario::Silent,
        Scenario::CovertFlash,
        Scenario::ColdBoot,
        Scenario::Eclipse,
        Scenario::Censorship,
        Scenario::GraftFlood,
        Scenario::IhaveSpam,
        Scenario::IpColocation,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Baseline => "baseline",
            Scenario::InvalidFlood => "invalid-flood",
            Scenario::Silent => "silent",
            Scenario::CovertFlash => "covert-flash",
            Scenario::ColdBoot => "cold-boot",
            Scenario::Eclipse => "eclipse",
            Scenario::Censorship => "censorship",
            Scenario::GraftFlood => "graft-flood",
            Scenario::IhaveSpam => "ihave-spam",
            Scenario::IpColocation => "ip-colocation",
        }
    }

    /// What the attackers do, in one line (for the report).
    pub fn description(self) -> &'static str {
        match self {
            Scenario::Baseline => "no attackers",
            Scenario::InvalidFlood => {
                "Sybils publish blocks with a wrong payload timestamp (REJECT), two per slot each, from the first measured slot (sockets) or a slot after connecting (virtual)"
            }
            Scenario::Silent => "Sybils subscribe, join meshes, never forward (IGNORE everything)",
            Scenario::CovertFlash => {
                "Sybils forward everything until the middle of the measured slots, then go silent"
            }
            Scenario::ColdBoot => "silent Sybils are connected before honest nodes dial each other",
            Scenario::Eclipse => {
                "no honest node dials node 0, which dials its own honest peers (6, `--eclipse-dials`); Sybils take its other slots up to its peer limit and stay silent"
            }
            Scenario::Censorship => {
                "Sybils crowd node 0 (which proposes every block) up to its peer limit, forward all other messages, drop node 0's"
            }
            Scenario::GraftFlood => {
                "raw attackers GRAFT, PRUNE themselves, then GRAFT every 100 ms during the backoff"
            }
            Scenario::IhaveSpam => {
                "raw attackers send IHAVEs of unknown message-ids every 350 ms and never answer IWANTs"
            }
            Scenario::IpColocation => {
                "silent Sybils all on one IP (127.0.0.66); honest nodes dial them, so P6 counts them"
            }
        }
    }

    /// Whether the prediction is a silent mesh peer's P3 deficit, measured from the moment it
    /// joins a P3-scored mesh rather than from the start of the attack.
    pub fn p3_prediction(self) -> bool {
        matches!(
            self,
            Scenario::Silent | Scenario::ColdBoot | Scenario::Eclipse
        )
    }

    /// Whether "below zero" is judged over the attackers' stints in P3-scored meshes (the
    /// silent kinds, and the covert flash's Sybils from the flash on) rather than over every
    /// connection.
    pub fn p3_measured(self) -> bool {
        self.p3_prediction() || self == Scenario::CovertFlash
    }

    /// Whether the attackers are raw `/meshsub/1.1.0` speakers rather than gossipsub swarms.
    pub fn raw_attackers(self) -> bool {
        matches!(self, Scenario::GraftFlood | Scenario::IhaveSpam)
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scenario name that is not one.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown scenario {0:?}; one of: baseline, invalid-flood, silent, covert-flash, cold-boot, eclipse, censorship, graft-flood, ihave-spam, ip-colocation"
)]
pub struct UnknownScenario(pub String);

impl FromStr for Scenario {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownScenario(s.to_owned()))
    }
}

/// Default honest node count.
pub const DEFAULT_HONEST: usize = 100;
/// Default Sybil count.
pub const DEFAULT_SYBILS: usize = 400;
/// Default measured slots.
pub const DEFAULT_SLOTS: u64 = 24;
/// Default seed.
pub const DEFAULT_SEED: u64 = 6;
/// Default slot duration (ms): six times mainnet's pace. At 1 s, 100 honest nodes and 400
/// Sybils saturate two cores (the Sybils that forward most), and an overloaded run measures
/// the machine rather than the scoring.
pub const DEFAULT_SLOT_MS: u64 = 2_000;

/// IHAVE spam's unknown ids per topic per IHAVE: a handful, as a peer that only pretends to
/// have messages sends. `--ihave-ids 2500` fills the router's limit (5,000 ids a heartbeat
/// over the two topics), where the IWANTs each IHAVE draws load the honest node's uplink.
pub const DEFAULT_IHAVE_IDS: usize = 10;

/// Bytes of (incompressible) transactions in each simulated block: a block of about 50 KB on
/// the wire, as mainnet's blocks are once snappy-compressed (their SSZ is larger, but
/// compresses). Blocks are what upload bandwidth queues: 0 gives the bare 331-byte block.
pub const DEFAULT_BLOCK_TX_BYTES: usize = 50_000;

/// The knobs of one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimConfig {
    /// The attack.
    pub scenario: Scenario,
    /// Whether honest nodes score peers.
    pub scoring: bool,
    /// Honest (Pheme) nodes.
    pub honest: usize,
    /// Attackers.
    pub sybils: usize,
    /// Slots with publishing (after the warm-up).
    pub slots: u64,
    /// Seed of topology, keys and schedule.
    pub seed: u64,
    /// Slot duration.
    pub slot_ms: u64,
    /// Slots per epoch.
    pub slots_per_epoch: u64,
    /// Active validators the presets derive from (also sets committees and aggregator rates).
    pub active_validators: u64,
    /// The score derivation profile of every node's preset (honest nodes and Sybils' routers).
    pub profile: Profile,
    /// Departures from the profile's recipe (the candidates a sweep measures).
    pub tuning: pheme_scoring::Tuning,
    /// Mesh degree D of every router (`None`: the profile's; D_lo, D_hi and the rest follow
    /// it as the derivation sets them).
    pub mesh_n: Option<usize>,
    /// D_lo and D_hi of every router instead of what the derivation sets for D (`None`: its).
    pub mesh_bounds: Option<(usize, usize)>,
    /// Honest peers each honest node dials.
    pub honest_degree: usize,
    /// Eclipse: honest peers node 0 dials itself (no honest node dials it; `None`: as many as
    /// every honest node, `honest_degree`); with 0, nodes 1 and 2 dial it and it has no
    /// outbound peer.
    pub eclipse_dials: Option<usize>,
    /// Honest nodes each Sybil connects to.
    pub sybil_degree: usize,
    /// Slots between the connections and the first publication.
    pub warmup_slots: u64,
    /// Aggregates published per slot.
    pub aggregates_per_slot: usize,
    /// Single attestations published per slot.
    pub attestations_per_slot: usize,
    /// Invalid blocks each flooding Sybil publishes per slot.
    pub invalid_per_slot: u64,
    /// Virtual engine: the share of messages the otherwise silent Sybils (silent, cold boot,
    /// eclipse, IP colocation) forward; 0 for silent.
    pub sybil_forward_share: f64,
    /// IHAVE spam: unknown message-ids per topic in each IHAVE (two topics, every 350 ms).
    pub ihave_ids: usize,
    /// Bytes of transactions in each block ([`DEFAULT_BLOCK_TX_BYTES`]).
    pub block_tx_bytes: usize,
}

impl SimConfig {
    /// `preset` with [`mesh_bounds`](Self::mesh_bounds) applied (the router's builder checks
    /// D_lo <= D <= D_hi and the outbound quota against them).
    pub fn with_mesh_bounds(
        &self,
        mut preset: pheme_scoring::ScorePreset,
    ) -> pheme_scoring::ScorePreset {
        if let Some((low, high)) = self.mesh_bounds {
            preset.gossipsub.mesh_n_low = low;
            preset.gossipsub.mesh_n_high = high;
        }
        preset
    }

    /// The defaults for `scenario`: 100 honest nodes, 400 Sybils, 2 s slots, 8-slot epochs,
    /// 1,024 active validators (one committee per slot, 16 aggregators per slot).
    pub fn new(scenario: Scenario) -> Self {
        SimConfig {
            scenario,
            scoring: true,
            honest: DEFAULT_HONEST,
            sybils: DEFAULT_SYBILS,
            slots: DEFAULT_SLOTS,
            seed: DEFAULT_SEED,
            slot_ms: DEFAULT_SLOT_MS,
            slots_per_epoch: 8,
            active_validators: 1_024,
            profile: Profile::default(),
            tuning: pheme_scoring::Tuning::default(),
            mesh_n: None,
            mesh_bounds: None,
            honest_degree: 6,
            eclipse_dials: None,
            sybil_degree: 8,
            warmup_slots: 4,
            aggregates_per_slot: 16,
            attestations_per_slot: 4,
            invalid_per_slot: 2,
            sybil_forward_share: 0.0,
            ihave_ids: DEFAULT_IHAVE_IDS,
            block_tx_bytes: DEFAULT_BLOCK_TX_BYTES,
        }
    }

    /// Attackers in this run (none in the baseline).
    pub fn attackers(&self) -> usize {
        if self.scenario == Scenario::Baseline {
            0
        } else {
            self.sybils
        }
    }
}
