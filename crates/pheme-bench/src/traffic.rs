//! Ethereum-shaped gossip: one slot's mainnet mix of real SSZ messages, snappy-compressed, that
//! pass Pheme's stateless checks at the current slot.

use std::sync::Arc;

use pheme_gossip::{is_sync_committee_aggregator, subnet_for_attestation};
use pheme_spec::{ChainSpec, FAR_FUTURE_EPOCH, Fork, ForkDigest, GossipKind, Network, unix_now_ms};
use pheme_types::mainnet::fulu as t;
use pheme_types::primitives::{BlsSignature, Root, Transaction};
use pheme_types::ssz_rs::{Bitlist, Bitvector, serialize};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use serde::Serialize;

use crate::BenchError;

/// Wire messages per second at mainnet's peak (after the 4 s mark, all subnets, every message
/// about five times over).
pub const PEAK_WIRE_PER_SEC: f64 = 80_000.0;

/// Copies of each message a node gets from its mesh peers at mainnet.
pub const DEFAULT_COPIES: usize = 5;

/// Active validators the bench chain has (mainnet's order of magnitude: 64 committees a slot).
pub const BENCH_ACTIVE_VALIDATORS: u64 = 1_000_000;

/// Attestation subnets.
const ATTESTATION_SUBNETS: u64 = 64;
/// Sync committee subnets.
const SYNC_SUBNETS: u64 = 4;
/// SYNC_COMMITTEE_SIZE.
const SYNC_COMMITTEE_SIZE: u64 = 512;

/// The unique messages of one slot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mix {
    /// SingleAttestations, over the 64 subnets.
    pub attestations: u64,
    /// Aggregates.
    pub aggregates: u64,
    /// Sync committee messages, over the 4 subnets.
    pub sync_messages: u64,
    /// Sync committee contributions.
    pub contributions: u64,
    /// Blocks.
    pub blocks: u64,
}

impl Mix {
    /// Mainnet with about a million active validators: 33,000 attestations, 1,000 aggregates,
    /// 512 sync committee messages, 64 contributions (4 subnets x 16 aggregators) and a block.
    pub const MAINNET: Mix = Mix {
        attestations: 33_000,
        aggregates: 1_000,
        sync_messages: 512,
        contributions: 64,
        blocks: 1,
    };

    /// The mix of `load` times the validators: every kind but blocks scales.
    pub fn scaled(self, load: f64) -> Mix {
        let s = |n: u64| ((n as f64) * load).round().max(1.0) as u64;
        Mix {
            attestations: s(self.attestations),
            aggregates: s(self.aggregates),
            sync_messages: s(self.sync_messages),
            contributions: s(self.contributions),
            blocks: self.blocks,
        }
    }

    /// Unique messages in the mix.
    pub fn unique(&self) -> u64 {
        self.attestations + self.aggregates + self.sync_messages + self.contributions + self.blocks
    }
}

/// A message kind of the mix, before its bytes are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    /// A block.
    Block,
    /// A SingleAttestation.
    Attestation,
    /// An aggregate.
    Aggregate,
    /// A sync committee message.
    Sync,
    /// A sync committee contribution.
    Contribution,
}

/// One message as it goes on the wire.
#[derive(Debug, Clone)]
pub struct WireMessage {
    /// What it is.
    pub kind: GossipKind,
    /// Its topic.
    pub topic: Arc<str>,
    /// Snappy-compressed SSZ.
    pub wire: Vec<u8>,
    /// SSZ length.
    pub ssz_len: usize,
}

/// The bench chain: mainnet's parameters and fork digests with every fork up to fulu at
/// genesis and none after, genesis at `genesis_time`, so the traffic does not depend on the
/// wall-clock fork schedule.
pub fn bench_chain(genesis_time: u64) -> Result<ChainSpec, BenchError> {
    let mut c = Network::Mainnet.chain_spec()?;
    c.name = "pheme-bench".into();
    c.genesis_time = genesis_time;
    for f in &mut c.forks {
        f.epoch = if f.fork <= Fork::Fulu {
            0
        } else {
            FAR_FUTURE_EPOCH
        };
    }
    c.blob_schedule.clear();
    c.validate()?;
    Ok(c)
}

/// A genesis time that puts the bench chain `slots` slots into its history now.
pub fn genesis_slots_ago(slots: u64) -> u64 {
    (unix_now_ms() / 1000).saturating_sub(slots * 12)
}

/// Makes the messages: every index (attester, aggregator, proposer, ...) is fresh, so nothing
/// is a duplicate to the node's seen-caches, and every field the stateless checks read is right
/// for the current slot.
#[derive(Debug)]
pub struct TrafficGen {
    chain: Arc<ChainSpec>,
    committees: u64,
    next_index: u64,
    rng: StdRng,
    attestation_topics: Vec<Arc<str>>,
    sync_topics: Vec<Arc<str>>,
    block_topic: Arc<str>,
    aggregate_topic: Arc<str>,
    contribution_topic: Arc<str>,
}

fn topic(digest: ForkDigest, kind: GossipKind) -> Arc<str> {
    Arc::from(format!("/eth2/{digest}/{kind}/ssz_snappy"))
}

impl TrafficGen {
    /// A generator for `chain`'s topics under `digest`, seeded by `seed`.
    pub fn new(chain: Arc<ChainSpec>, digest: ForkDigest, seed: u64) -> Self {
        Self {
            committees: chain.committees_per_slot(BENCH_ACTIVE_VALIDATORS),
            chain,
            next_index: 0,
            rng: StdRng::seed_from_u64(seed),
            attestation_topics: (0..ATTESTATION_SUBNETS)
                .map(|s| topic(digest, GossipKind::BeaconAttestation(s)))
                .collect(),
            sync_topics: (0..SYNC_SUBNETS)
                .map(|s| topic(digest, GossipKind::SyncCommittee(s)))
                .collect(),
            block_topic: topic(digest, GossipKind::BeaconBlock),
            aggregate_topic: topic(digest, GossipKind::BeaconAggregateAndProof),
            contribution_topic: topic(digest, GossipKind::SyncCommitteeContributionAndProof),
        }
    }

    /// Every topic the traffic uses.
    pub fn topics(&self) -> Vec<Arc<str>> {
        let mut all = vec![
            self.block_topic.clone(),
            self.aggregate_topic.clone(),
            self.contribution_topic.clone(),
        ];
        all.extend(self.attestation_topics.iter().cloned());
        all.extend(self.sync_topics.iter().cloned());
        all
    }

    /// One slot of `mix` in a shuffled order, the block first.
    pub fn plan(&mut self, mix: &Mix) -> Vec<Planned> {
        let mut plan = Vec::with_capacity(mix.unique() as usize);
        for (n, p) in [
            (mix.attestations, Planned::Attestation),
            (mix.aggregates, Planned::Aggregate),
            (mix.sync_messages, Planned::Sync),
            (mix.contributions, Planned::Contribution),
        ] {
            plan.extend(std::iter::repeat_n(p, n as usize));
        }
        plan.shuffle(&mut self.rng);
        let blocks = std::iter::repeat_n(Planned::Block, mix.blocks as usize);
        blocks.chain(plan).collect()
    }

    fn index(&mut self) -> u64 {
        self.next_index += 1;
        self.next_index
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        self.rng.fill_bytes(&mut b);
        b
    }

    fn sig(&mut self) -> BlsSignature {
        BlsSignature::from(self.bytes::<96>())
    }

    fn root(&mut self) -> Root {
        Root::from(self.bytes::<32>())
    }

    fn data(&mut self, slot: u64) -> t::AttestationData {
        let spe = self.chain.slots_per_epoch();
        let mut d = t::AttestationData {
            slot,
            ..Default::default()
        };
        d.target.epoch = slot / spe;
        d.source.epoch = (slot / spe).saturating_sub(1);
        d.beacon_block_root = self.root();
        d
    }

    /// The bytes of one planned message at `slot`.
    pub fn make(&mut self, p: Planned, slot: u64) -> Result<WireMessage, BenchError> {
        let (kind, topic, ssz) = match p {
            Planned::Attestation => {
                let committee = self.rng.gen_range(0..self.committees);
                let subnet = subnet_for_attestation(
                    self.committees,
                    slot,
                    committee,
                    self.chain.slots_per_epoch(),
                    ATTESTATION_SUBNETS,
                );
                let a = t::SingleAttestation {
                    committee_index: committee,
                    attester_index: self.index(),
                    data: self.data(slot),
                    signature: self.sig(),
                };
                (
                    GossipKind::BeaconAttestation(subnet),
                    self.attestation_topics[subnet as usize].clone(),
                    serialize(&a)?,
                )
            }
            Planned::Aggregate => (
                GossipKind::BeaconAggregateAndProof,
                self.aggregate_topic.clone(),
                serialize(&self.aggregate(slot)?)?,
            ),
            Planned::Sync => {
                let subnet = self.rng.gen_range(0..SYNC_SUBNETS);
                let m = t::SyncCommitteeMessage {
                    slot,
                    beacon_block_root: self.root(),
                    validator_index: self.index(),
                    signature: self.sig(),
                };
                (
                    GossipKind::SyncCommittee(subnet),
                    self.sync_topics[subnet as usize].clone(),
                    serialize(&m)?,
                )
            }
            Planned::Contribution => (
                GossipKind::SyncCommitteeContributionAndProof,
                self.contribution_topic.clone(),
                serialize(&self.contribution(slot))?,
            ),
            Planned::Block => (
                GossipKind::BeaconBlock,
                self.block_topic.clone(),
                serialize(&self.block(slot)?)?,
            ),
        };
        Ok(WireMessage {
            kind,
            topic,
            wire: pheme_codec::compress_block(&ssz),
            ssz_len: ssz.len(),
        })
    }

    fn aggregate(&mut self, slot: u64) -> Result<t::SignedAggregateAndProof, BenchError> {
        let committee = self.rng.gen_range(0..self.committees);
        let size = (BENCH_ACTIVE_VALIDATORS / self.chain.slots_per_epoch() / self.committees).max(1)
            as usize;
        // Mainnet aggregates carry most of their committee.
        let bits: Vec<bool> = (0..size).map(|_| self.rng.gen_bool(0.9)).collect();
        let mut a = t::SignedAggregateAndProof::default();
        a.message.aggregator_index = self.index();
        a.message.selection_proof = self.sig();
        a.message.aggregate.data = self.data(slot);
        a.message.aggregate.signature = self.sig();
        a.message.aggregate.aggregation_bits =
            Bitlist::try_from(&bits[..]).map_err(|_| BenchError::Build("aggregation bits"))?;
        let mut committees = Bitvector::default();
        committees.set(committee as usize, true);
        a.message.aggregate.committee_bits = committees;
        a.signature = self.sig();
        Ok(a)
    }

    fn contribution(&mut self, slot: u64) -> t::SignedContributionAndProof {
        let mut c = t::SignedContributionAndProof::default();
        c.message.aggregator_index = self.index();
        c.message.contribution.slot = slot;
        c.message.contribution.subcommittee_index = self.rng.gen_range(0..SYNC_SUBNETS);
        c.message.contribution.beacon_block_root = self.root();
        for i in 0..128 {
            c.message
                .contribution
                .aggregation_bits
                .set(i, self.rng.gen_bool(0.9));
        }
        // One selection proof in eight makes an aggregator: draw until one does.
        let mut proof = self.sig();
        while !is_sync_committee_aggregator(&proof[..], SYNC_COMMITTEE_SIZE) {
            proof = self.sig();
        }
        c.message.selection_proof = proof;
        c.signature = self.sig();
        c
    }

    fn block(&mut self, slot: u64) -> Result<t::SignedBeaconBlock, BenchError> {
        let mut b = t::SignedBeaconBlock::default();
        b.message.slot = slot;
        b.message.proposer_index = self.index();
        b.message.parent_root = self.root();
        b.message.state_root = self.root();
        b.message.body.randao_reveal = self.sig();
        let payload = &mut b.message.body.execution_payload;
        payload.timestamp = self.chain.genesis_time + slot * self.chain.slot_duration_ms / 1000;
        payload.block_hash = self.root();
        // 50-150 KB of transactions that compress about as well as mainnet's (half of each is
        // random, half zeros).
        let target = self.rng.gen_range(50_000..150_000usize);
        let mut size = 0;
        while size < target {
            let mut tx = vec![0u8; 400];
            self.rng.fill_bytes(&mut tx[..200]);
            size += tx.len() + 4;
            payload.transactions.push(
                Transaction::try_from(&tx[..]).map_err(|_| BenchError::Build("transaction"))?,
            );
        }
        b.signature = self.sig();
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_mix_passes_the_stateless_checks() {
        let chain = Arc::new(bench_chain(genesis_slots_ago(100)).unwrap());
        let slot = chain.clock().slot_at_ms(unix_now_ms()).unwrap();
        let digest = chain.fork_digest_at(chain.epoch_of(slot));
        let mut g = TrafficGen::new(chain.clone(), digest, 7);
        let mix = Mix::MAINNET.scaled(0.01);
        let plan = g.plan(&mix);
        assert_eq!(plan.len() as u64, mix.unique());
        assert_eq!(plan[0], Planned::Block);
        let mut v = pheme_gossip::GossipValidator::new((*chain).clone(), pheme_gossip::NoState);
        v.committees_per_slot = Some(chain.committees_per_slot(BENCH_ACTIVE_VALIDATORS));
        let now = unix_now_ms();
        for p in plan {
            let m = g.make(p, slot).unwrap();
            let out = v.validate(&m.topic, &m.wire, now);
            assert_eq!(
                out.verdict,
                pheme_gossip::Verdict::Accept,
                "{:?}: {} {}",
                p,
                out.reason,
                out.detail
            );
            if p == Planned::Block {
                assert!((50_000..160_000).contains(&m.ssz_len), "{}", m.ssz_len);
                assert!(m.wire.len() < m.ssz_len * 3 / 4, "{}", m.wire.len());
            }
        }
    }
}
