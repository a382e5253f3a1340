//! The contract between the derivation entry point ([`derive`](crate::derive())) and the
//! profile recipes (`profiles`): what a recipe gets and what it returns. Both depend on this
//! module; it depends on neither.

use std::collections::BTreeMap;

use pheme_spec::{ChainSpec, GossipKind, Slot};

use crate::model::{GossipsubParams, PeerScoreParams, Thresholds};

/// What a profile recipe gets: the checked inputs plus derived quantities.
pub(crate) struct Ctx<'a> {
    pub chain: &'a ChainSpec,
    pub v: u64,
    pub current_slot: Slot,
    pub mesh_n: usize,
    pub slot_ms: f64,
    pub spe: u64,
    pub topics: Vec<GossipKind>,
}

impl Ctx<'_> {
    pub fn epoch_ms(&self) -> f64 {
        self.slot_ms * self.spe as f64
    }

    pub fn committees_per_slot(&self) -> u64 {
        self.chain.committees_per_slot(self.v)
    }

    /// The young-chain rule shared by every profile (as Lighthouse and Lodestar write it): the
    /// mesh-delivery threshold and weight stay 0 while `current_slot <= decay_slots`.
    pub fn is_young(&self, mesh_decay_slots: f64) -> bool {
        self.current_slot as f64 <= mesh_decay_slots
    }
}

/// The parts of a preset a profile recipe produces.
pub(crate) struct Recipe {
    pub thresholds: Thresholds,
    pub peer_score_params: PeerScoreParams,
    pub unscored: BTreeMap<GossipKind, String>,
    pub gossipsub: GossipsubParams,
    pub deferred: Vec<String>,
}
