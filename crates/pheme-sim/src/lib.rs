//! Pheme's adversarial gossip simulation: many real Pheme network services (honest nodes) and
//! Sybils in one process on loopback TCP, a seeded Ethereum-like publisher schedule (a block at
//! the start of every slot, single attestations on the slot's subnet, aggregates), one attack per
//! [`Scenario`], each run with Pheme's derived score parameters and with scoring off.
//!
//! Honest nodes are `pheme-network` services built exactly as a node builds them (derived
//! mainnet-shaped preset for the short slot timing, the validation pipeline, bans of graylisted
//! peers); discovery is off and peers are dialled by the harness. Sybils are plain libp2p
//! gossipsub routers that validate by hand (so they can stay silent or censor) or publish
//! invalid blocks; GRAFT flooding and IHAVE spam use raw `/meshsub/1.1.0` speakers.
//!
//! A run reports the share of honest messages delivered to honest nodes, publish-to-receipt
//! latency percentiles, duplicates, when attackers fell below zero / gossip / publish /
//! graylist on every honest node that saw them, and honest peers ever scored below zero, next
//! to what the preset predicts ([`Prediction`]).
//!
//! [`vsim`] is the second engine, and `pheme simulate`'s default: Pheme's router cores driven
//! directly in a deterministic discrete-event simulation (virtual time, a latency and
//! bandwidth model, no sockets), for sizes the socket engine cannot reach (1,000 honest nodes
//! and 4,000 Sybils; `docs/simulation.md` comes from it). [`SimConfig::tuning`] and
//! [`SimConfig::sybil_forward_share`] measure P3 candidates against Sybils that forward a
//! share of what they receive.
//!
//! ```no_run
//! use pheme_sim::{Scenario, SimConfig, run, table};
//!
//! # async fn go() -> Result<(), pheme_sim::SimError> {
//! let mut cfg = SimConfig::new(Scenario::Silent);
//! cfg.honest = 10;
//! cfg.sybils = 20;
//! cfg.slots = 8;
//! let report = run(&cfg).await?;
//! print!("{}", table(&[report]));
//! # Ok(()) }
//! ```

mod honest;
mod measure;
mod predict;
mod report;
mod run;
mod scenario;
mod schedule;
mod sybil;
pub mod vsim;

pub use pheme_testkit::fixtures;
pub use pheme_testkit::raw::{
    self as raw, Control, MESHSUB, RawAttacker, Script as RawScript, encode_rpc,
    start as start_raw_attacker,
};
pub use predict::{Prediction, predict};
pub use report::{RunReport, json_lines, markdown_table, table, verdicts};
pub use run::run;
pub use scenario::{
    DEFAULT_BLOCK_TX_BYTES, DEFAULT_HONEST, DEFAULT_IHAVE_IDS, DEFAULT_SEED, DEFAULT_SLOT_MS,
    DEFAULT_SLOTS, DEFAULT_SYBILS, Scenario, SimConfig, UnknownScenario,
};
pub use schedule::{Planned, What, plan};

/// A run could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A chain or message fixture failed.
    #[error(transparent)]
    Fixture(#[from] fixtures::FixtureError),
    /// Score derivation failed.
    #[error(transparent)]
    Derive(#[from] pheme_scoring::DeriveError),
    /// An honest node's configuration was refused.
    #[error(transparent)]
    Config(#[from] pheme_network::ConfigError),
    /// An honest node did not start.
    #[error(transparent)]
    Network(#[from] pheme_network::NetworkError),
    /// An honest node stopped.
    #[error(transparent)]
    Handle(#[from] pheme_network::HandleError),
    /// An address did not parse.
    #[error(transparent)]
    Addr(#[from] libp2p::multiaddr::Error),
    /// A preset did not map onto the router's parameters.
    #[error(transparent)]
    Params(#[from] pheme_network::params::ParamsError),
    /// The router refused its configuration.
    #[error(transparent)]
    Router(#[from] pheme_router::ConfigError),
    /// A seeded key was refused.
    #[error("key: {0}")]
    Key(String),
    /// An attacker's transport could not be built or listen.
    #[error("attacker transport")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A raw attacker did not start.
    #[error(transparent)]
    Raw(#[from] pheme_testkit::raw::RawError),
    /// An attacker's gossipsub router could not be built.
    #[error("gossipsub: {0}")]
    Gossipsub(String),
    /// An honest node never reported a listen address.
    #[error("an honest node has no listen address")]
    NoListenAddr,
    /// A scenario needs at least one honest node.
    #[error("no honest nodes")]
    NoHonestNodes,
    /// The publisher task failed.
    #[error(transparent)]
    Join(#[from] tokio::task::JoinError),
    /// A measurement lock was poisoned by a panicking task.
    #[error("a measurement lock was poisoned")]
    Poisoned,
}
