//! The publisher schedule: per slot, like Ethereum, one block at the start of the slot, single
//! attestations a third in, aggregates two thirds in, each by a seeded honest node.

use pheme_spec::{ChainSpec, GossipKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::fixtures::{self, FixtureError};
use crate::scenario::SimConfig;

/// One planned publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Slot offset from the first measured slot.
    pub slot_offset: u64,
    /// When in the slot, milliseconds after its start.
    pub at_ms: u64,
    /// The honest node that publishes.
    pub publisher: usize,
    /// Which kind of message.
    pub what: What,
    /// The message's seed (distinct per message: it makes validator indices unique).
    pub seed: u64,
}

/// The kind of a planned message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    /// A block.
    Block,
    /// A single attestation; its subnet follows from the slot and committee.
    Attestation {
        /// The committee index.
        committee: u64,
    },
    /// An aggregate.
    Aggregate {
        /// The committee index.
        committee: u64,
    },
}

/// The whole schedule of `cfg` (its seed, slots, honest publishers and rates). With
/// `proposer`, that node proposes every block (the censorship scenario's victim).
pub fn plan(cfg: &SimConfig, committees_per_slot: u64, proposer: Option<usize>) -> Vec<Planned> {
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0x5c4e_d01e);
    let honest = cfg.honest.max(1);
    let slot_ms = cfg.slot_ms;
    let cps = committees_per_slot.max(1);
    let mut out = Vec::new();
    for s in 0..cfg.slots {
        let base = (s + 1) * 1_000;
        out.push(Planned {
            slot_offset: s,
            at_ms: 50,
            publisher: proposer.unwrap_or_else(|| rng.gen_range(0..honest)),
            what: What::Block,
            seed: base,
        });
        for i in 0..cfg.attestations_per_slot {
            out.push(Planned {
                slot_offset: s,
                at_ms: slot_ms / 3,
                publisher: rng.gen_range(0..honest),
                what: What::Attestation {
                    committee: rng.gen_range(0..cps),
                },
                seed: base + 100 + i as u64,
            });
        }
        for i in 0..cfg.aggregates_per_slot {
            out.push(Planned {
                slot_offset: s,
                at_ms: 2 * slot_ms / 3,
                publisher: rng.gen_range(0..honest),
                what: What::Aggregate {
                    committee: rng.gen_range(0..cps),
                },
                seed: base + 500 + i as u64,
            });
        }
    }
    out
}

impl Planned {
    /// The topic kind and SSZ bytes of this message at `slot` (a block carries
    /// `block_tx_bytes` of transactions).
    pub fn message(
        &self,
        chain: &ChainSpec,
        slot: u64,
        committees_per_slot: u64,
        block_tx_bytes: usize,
    ) -> Result<(GossipKind, Vec<u8>), FixtureError> {
        // Seeds stay unique across runs of the same process: the slot goes in.
        let seed = slot * 1_000_000 + self.seed;
        Ok(match self.what {
            What::Block => (
                GossipKind::BeaconBlock,
                fixtures::large_block(chain, slot, seed, block_tx_bytes)?,
            ),
            What::Attestation { committee } => {
                let subnet = pheme_gossip::subnet_for_attestation(
                    committees_per_slot,
                    slot,
                    committee,
                    chain.slots_per_epoch(),
                    chain.attestation_subnet_count,
                );
                (
                    GossipKind::BeaconAttestation(subnet),
                    fixtures::attestation(chain, slot, committee, seed)?,
                )
            }
            What::Aggregate { committee } => (
                GossipKind::BeaconAggregateAndProof,
                fixtures::aggregate(chain, slot, committee as usize, seed)?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn plan_is_seeded_and_shaped_like_a_slot() {
        let mut cfg = SimConfig::new(Scenario::Baseline);
        cfg.slots = 3;
        cfg.honest = 10;
        let a = plan(&cfg, 1, None);
        assert_eq!(a, plan(&cfg, 1, None));
        cfg.seed += 1;
        assert_ne!(a, plan(&cfg, 1, None));
        assert_eq!(a.len(), 3 * (1 + 16 + 4));
        let blocks: Vec<_> = a.iter().filter(|p| p.what == What::Block).collect();
        assert_eq!(blocks.len(), 3);
        assert!(blocks.iter().all(|p| p.at_ms == 50));
        let censored = plan(&cfg, 1, Some(0));
        assert!(
            censored
                .iter()
                .filter(|p| p.what == What::Block)
                .all(|p| p.publisher == 0)
        );
    }
}
