//! SSZ containers of every payload on Ethereum consensus gossip and of the req/resp messages
//! Pheme speaks, phase0 to fulu, built on `ssz_rs`, with the Beacon API's JSON (integers as
//! decimal strings, bytes as 0x-hex).
//!
//! Containers whose sizes depend on the preset take them as const generics; [`mainnet`],
//! [`minimal`] and [`gnosis`] fill them in per fork, each fork re-exporting the previous one's
//! types: `mainnet::electra::SingleAttestation`, `minimal::deneb::BlobSidecar`.
//!
//! Each fork's containers are written out field by field, as the spec writes them, repeating
//! what a fork inherits: `ssz_rs`'s derive builds its identifiers from the field tokens' spans,
//! so it cannot run inside a `macro_rules!` that would share the repeated parts.
//!
//! ```
//! use pheme_types::mainnet::electra::SingleAttestation;
//! use ssz_rs::prelude::*;
//!
//! let mut att = SingleAttestation { committee_index: 3, attester_index: 1_000, ..Default::default() };
//! let bytes = ssz_rs::serialize(&att).unwrap();
//! assert_eq!(bytes.len(), 240); // fixed size, as the spec says
//! assert_eq!(SingleAttestation::deserialize(&bytes).unwrap(), att);
//! let json = serde_json::to_value(&att).unwrap();
//! assert_eq!(json["attester_index"], "1000");
//! assert_eq!(att.hash_tree_root().unwrap().as_ref().len(), 32);
//! ```

pub mod altair;
pub mod bellatrix;
pub mod capella;
pub mod deneb;
pub mod electra;
pub mod fulu;
pub mod p2p;
pub mod phase0;
mod presets;
pub mod primitives;

pub use presets::{gnosis, mainnet, minimal};
pub use ssz_rs;
