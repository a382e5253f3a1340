//! Pheme's ingest benchmark (`pheme bench ingest`): Ethereum-shaped gossip (real SSZ and snappy
//! bytes, mainnet's mix of attestations, aggregates, sync committee messages, contributions and
//! 50-150 KB blocks, each message from several mesh peers) replayed over loopback by raw
//! gossipsub peers into one all-subnets Pheme node, which runs in a process of its own on a
//! single-threaded runtime: one core. For each load level it reports the messages handled,
//! the node's CPU and memory, the first-copy-to-verdict latency, what was dropped, how often
//! the message-id was computed per unique message, and the limit: snappy decompression plus
//! SHA-256 of the same traffic on one core.
//!
//! ```
//! use pheme_bench::{Mix, PEAK_WIRE_PER_SEC};
//!
//! // One slot at twice mainnet's validators, and the wire rate it is replayed at.
//! let mix = Mix::MAINNET.scaled(2.0);
//! assert_eq!(mix.attestations, 66_000);
//! assert_eq!(mix.blocks, 1);
//! assert_eq!(2.0 * PEAK_WIRE_PER_SEC, 160_000.0);
//! ```

mod ingest;
mod limit;
mod node;
mod peers;
mod probe;
mod traffic;
mod wire;

pub use ingest::{
    DEFAULT_PEERS, DEFAULT_SECONDS, IngestConfig, LevelReport, MESH_WARMUP, run, run_level,
    speedups, table,
};
pub use limit::{limit_wire_per_sec, transport_limit_wire_per_sec};
pub use node::{Latency, NodeArgs, NodeStats, ObserverSinks, Ready, run_node};
pub use peers::LoadPeers;
pub use probe::{cpu_ns, rss_bytes};
pub use traffic::{
    BENCH_ACTIVE_VALIDATORS, DEFAULT_COPIES, Mix, PEAK_WIRE_PER_SEC, Planned, TrafficGen,
    WireMessage, bench_chain, genesis_slots_ago,
};
pub use wire::{MESHSUB, publish_frame, subscribe_frame};

/// What can stop a bench run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The chain spec.
    #[error("chain spec: {0}")]
    Spec(#[from] pheme_spec::SpecError),
    /// Serialising a message.
    #[error("ssz: {0}")]
    Ssz(#[from] pheme_types::ssz_rs::SerializeError),
    /// Building a message.
    #[error("building a message: {0}")]
    Build(&'static str),
    /// Snappy, in the limit measurement.
    #[error("snappy: {0}")]
    Snappy(#[from] snap::Error),
    /// The node's configuration.
    #[error("node config: {0}")]
    Config(#[from] pheme_network::ConfigError),
    /// The node's service.
    #[error("network: {0}")]
    Network(#[from] pheme_network::NetworkError),
    /// The node's handle.
    #[error("handle: {0}")]
    Handle(#[from] pheme_network::HandleError),
    /// A multiaddress.
    #[error("address: {0}")]
    Addr(#[from] libp2p::multiaddr::Error),
    /// The node process.
    #[error("bench node: {0}")]
    Node(String),
    /// A load peer.
    #[error("load peer: {0}")]
    Peer(String),
    /// Reading or writing.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The node's JSON lines.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}
