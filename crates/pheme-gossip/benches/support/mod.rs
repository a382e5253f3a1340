//! Realistic mainnet messages of every benchmarked topic kind, shared by the criterion bench and
//! the callgrind driver (`examples/callgrind.rs`). A directory module, so that cargo does not
//! take it for a bench of its own.

use pheme_spec::Network;
use pheme_types::mainnet::fulu as t;
use pheme_types::primitives::{BlsSignature, ByteList, ByteVector};
use pheme_types::ssz_rs::{Bitlist, Bitvector, List, serialize};

pub const SLOT: u64 = 13_500_000;

/// Deterministic pseudo-random bytes.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sig(seed: u64) -> BlsSignature {
    BlsSignature::try_from(&bytes(seed, 96)[..]).unwrap()
}

fn data() -> t::AttestationData {
    let mut d = t::AttestationData {
        slot: SLOT,
        ..Default::default()
    };
    d.target.epoch = SLOT / 32;
    d.source.epoch = SLOT / 32 - 1;
    d.beacon_block_root = ByteVector::try_from(&bytes(1, 32)[..]).unwrap();
    d
}

pub fn messages() -> Vec<(&'static str, String, Vec<u8>)> {
    let topic = |name: &str| format!("/eth2/8c9f62fe/{name}/ssz_snappy");
    let mut out = Vec::new();
    let single = t::SingleAttestation {
        committee_index: 3,
        attester_index: 123_456,
        data: data(),
        signature: sig(2),
    };
    out.push((
        "beacon_attestation (SingleAttestation)",
        topic("beacon_attestation_3"),
        serialize(&single).unwrap(),
    ));

    let mut agg = t::SignedAggregateAndProof::default();
    agg.message.aggregator_index = 4242;
    agg.message.selection_proof = sig(3);
    agg.message.aggregate.data = data();
    agg.message.aggregate.signature = sig(4);
    let bits: Vec<bool> = (0..488).map(|i| i % 10 != 0).collect();
    agg.message.aggregate.aggregation_bits = Bitlist::try_from(&bits[..]).unwrap();
    let mut committees = Bitvector::default();
    committees.set(7, true);
    agg.message.aggregate.committee_bits = committees;
    agg.signature = sig(5);
    out.push((
        "beacon_aggregate_and_proof",
        topic("beacon_aggregate_and_proof"),
        serialize(&agg).unwrap(),
    ));

    let sync = t::SyncCommitteeMessage {
        slot: SLOT,
        beacon_block_root: ByteVector::try_from(&bytes(6, 32)[..]).unwrap(),
        validator_index: 77,
        signature: sig(7),
    };
    out.push((
        "sync_committee",
        topic("sync_committee_1"),
        serialize(&sync).unwrap(),
    ));

    let mut contribution = t::SignedContributionAndProof::default();
    contribution.message.contribution.slot = SLOT;
    contribution.message.contribution.subcommittee_index = 2;
    for i in 0..128 {
        contribution
            .message
            .contribution
            .aggregation_bits
            .set(i, i % 3 != 0);
    }
    contribution.message.selection_proof = (0u64..)
        .map(sig)
        .find(|s| pheme_gossip::is_sync_committee_aggregator(s, 512))
        .unwrap();
    contribution.signature = sig(9);
    out.push((
        "sync_committee_contribution_and_proof",
        topic("sync_committee_contribution_and_proof"),
        serialize(&contribution).unwrap(),
    ));

    let exit = t::SignedVoluntaryExit {
        message: t::VoluntaryExit {
            epoch: SLOT / 32,
            validator_index: 99,
        },
        signature: sig(10),
    };
    out.push((
        "voluntary_exit",
        topic("voluntary_exit"),
        serialize(&exit).unwrap(),
    ));

    // A block of mainnet size: 8 aggregates, ~100 KB of transactions.
    let mut block = t::SignedBeaconBlock::default();
    block.message.slot = SLOT;
    block.message.proposer_index = 12_345;
    let body = &mut block.message.body;
    body.randao_reveal = sig(11);
    for _ in 0..8 {
        body.attestations.push(agg.message.aggregate.clone());
    }
    let payload = &mut body.execution_payload;
    payload.timestamp = Network::Mainnet.chain_spec().unwrap().genesis_time + SLOT * 12;
    payload.block_hash = ByteVector::try_from(&bytes(12, 32)[..]).unwrap();
    let mut txs = Vec::new();
    for i in 0..200 {
        txs.push(ByteList::try_from(&bytes(100 + i, 500)[..]).unwrap());
    }
    payload.transactions = List::try_from(txs).unwrap();
    out.push((
        "beacon_block (~100 KB)",
        topic("beacon_block"),
        serialize(&block).unwrap(),
    ));
    out
}
