//! Gossipsub peer-score, threshold and mesh parameters for Ethereum consensus gossip, derived
//! from the network's timing and the active validator count.
//!
//! [`derive`] is a pure function of ([`ChainSpec`](pheme_spec::ChainSpec), active validators,
//! current slot, mesh degree, [`Profile`]) returning a [`ScorePreset`]: plain data with
//! libp2p's field names, durations in milliseconds. Five profiles share one engine:
//! `pheme` (the default: the ethereum recommendations document's recipe with the mesh-delivery
//! threshold and activation chosen by Pheme's attack simulation), `recommendations` (the
//! document, generalised and faithful to its assumptions), `lighthouse`, `lodestar` and `prysm`
//! (those clients' derivations). [`derive_tuned`] departs from a recipe's P3 assumptions, for
//! measuring candidates. [`sanity::check`] runs
//! the checks every preset must pass and yields the figures of `pheme presets explain`;
//! [`rederive`] decides when a running node should switch to a newly derived preset.
//!
//! ```
//! use pheme_scoring::{DeriveInput, Profile, derive, sanity};
//! use pheme_spec::GossipKind;
//!
//! let mainnet = pheme_spec::Network::Mainnet.chain_spec().unwrap();
//! let input = DeriveInput {
//!     chain: &mainnet,
//!     active_validators: 262_144,
//!     current_slot: 13_500_000,
//!     mesh_n: None,
//!     profile: Profile::Recommendations,
//! };
//! let preset = derive(&input).unwrap();
//! let aggregate = &preset.peer_score_params.topics[&GossipKind::BeaconAggregateAndProof];
//! // The document's `V/377.856` at V = 262,144.
//! assert!((aggregate.mesh_message_deliveries_threshold - 262_144.0 / 377.856).abs() < 1.0);
//! assert!(sanity::check(&preset, &mainnet).is_sane());
//! ```

mod derive;
mod math;
mod model;
mod profiles;
mod recipe;
mod rederive;
pub mod sanity;

pub use derive::{DeriveInput, derive, derive_tuned};
pub use math::{aggregators_per_slot, expected_rate};
pub use model::{
    DeriveError, GossipsubParams, MAX_ACTIVATION_EXTRA_SLOTS, MAX_ACTIVE_VALIDATORS, MAX_MESH_N,
    PeerScoreParams, PresetMeta, Profile, ScorePreset, Thresholds, TopicScoreParams, Tuning,
};
pub use rederive::{RederiveReason, VALIDATOR_HYSTERESIS, rederive};
