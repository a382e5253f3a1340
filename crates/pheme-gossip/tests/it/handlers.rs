//! Handler checks on constructed messages: each check's verdict, the two-step commit, caches.

use pheme_gossip::{
    AggregateView, AttesterSlashingView, BlockView, CheckContext, ContributionView, GossipClock,
    GossipMessage, Handlers, SeenSet, SidecarView, Verdict, is_sync_committee_aggregator,
    subnet_for_attestation,
};
use pheme_spec::{ChainSpec, Fork, Network};
use pheme_types::phase0::{AttestationData, ProposerSlashing};

const SLOT: u64 = 13_500_000;

fn chain() -> ChainSpec {
    Network::Mainnet.chain_spec().unwrap()
}

fn ctx(chain: &ChainSpec, now_slot: u64, into_ms: u64, subnet: Option<u64>) -> CheckContext<'_> {
    CheckContext {
        clock: GossipClock::new(chain, chain.clock().slot_start_ms(now_slot) + into_ms),
        fork: Fork::Fulu,
        subnet,
        committees_per_slot: Some(64),
    }
}

fn data(slot: u64) -> AttestationData {
    let mut d = AttestationData {
        slot,
        ..Default::default()
    };
    d.target.epoch = slot / 32;
    d
}

fn verdict(h: &Handlers, m: &GossipMessage, c: &CheckContext<'_>) -> Verdict {
    h.check(m, c)
        .map_or_else(|r| r.verdict, |_| Verdict::Accept)
}

#[test]
fn aggregates_electra_rules_and_supersets() {
    let chain = chain();
    let c = ctx(&chain, SLOT, 4_000, None);
    let mut committee_bits = vec![false; 64];
    committee_bits[5] = true;
    let agg = |bits: Vec<bool>, committee_bits: Vec<bool>, aggregator| {
        GossipMessage::Aggregate(AggregateView {
            aggregator_index: aggregator,
            data: data(SLOT),
            aggregation_bits: bits,
            committee_bits: Some(committee_bits),
        })
    };
    let mut h = Handlers::default();
    let first = agg(vec![true, true, false], committee_bits.clone(), 1);
    let pending = h.check(&first, &c).unwrap();
    // Not committed yet (the stateful part might refuse it): the same aggregate passes again.
    assert_eq!(verdict(&h, &first, &c), Verdict::Accept);
    h.commit(pending);
    // A subset from another aggregator: IGNORE; a new bit: passes the superset rule.
    assert_eq!(
        verdict(
            &h,
            &agg(vec![true, false, false], committee_bits.clone(), 2),
            &c
        ),
        Verdict::Ignore
    );
    assert_eq!(
        verdict(
            &h,
            &agg(vec![false, false, true], committee_bits.clone(), 2),
            &c
        ),
        Verdict::Accept
    );
    // The same aggregator again in the epoch: IGNORE.
    assert_eq!(
        verdict(
            &h,
            &agg(vec![false, false, true], committee_bits.clone(), 1),
            &c
        ),
        Verdict::Ignore
    );
    // Two committee bits, none set, no participant: REJECT.
    let mut two = committee_bits.clone();
    two[6] = true;
    assert_eq!(verdict(&h, &agg(vec![true], two, 3), &c), Verdict::Reject);
    assert_eq!(
        verdict(&h, &agg(vec![true], vec![false; 64], 3), &c),
        Verdict::Reject
    );
    assert_eq!(
        verdict(&h, &agg(vec![false, false], committee_bits, 3), &c),
        Verdict::Reject
    );
}

#[test]
fn attestation_subnets_and_time() {
    assert_eq!(subnet_for_attestation(64, 33, 5, 32, 64), (64 + 5) % 64);
    assert_eq!(subnet_for_attestation(2, 7, 1, 8, 64), 15);
    let chain = chain();
    let single = |committee_index, slot| {
        let mut a = pheme_types::electra::SingleAttestation {
            committee_index,
            attester_index: 9,
            ..Default::default()
        };
        a.data = data(slot);
        GossipMessage::Attestation((&a).into())
    };
    let h = Handlers::default();
    let expected = subnet_for_attestation(64, SLOT, 3, 32, 64);
    assert_eq!(
        verdict(&h, &single(3, SLOT), &ctx(&chain, SLOT, 0, Some(expected))),
        Verdict::Accept
    );
    assert_eq!(
        verdict(
            &h,
            &single(3, SLOT),
            &ctx(&chain, SLOT, 0, Some((expected + 1) % 64))
        ),
        Verdict::Reject
    );
    assert_eq!(
        verdict(&h, &single(64, SLOT), &ctx(&chain, SLOT, 0, None)),
        Verdict::Reject
    );
    // 501 ms before its slot: future (IGNORE); 500 ms before: fine.
    assert_eq!(
        verdict(
            &h,
            &single(3, SLOT + 1),
            &ctx(&chain, SLOT, 12_000 - 501, None)
        ),
        Verdict::Ignore
    );
    assert_eq!(
        verdict(
            &h,
            &single(3, SLOT + 1),
            &ctx(&chain, SLOT, 12_000 - 500, None)
        ),
        Verdict::Accept
    );
    // The window closes 500 ms after the end of the next epoch, inclusive.
    assert_eq!(
        verdict(&h, &single(3, SLOT), &ctx(&chain, SLOT + 64, 500, None)),
        Verdict::Accept
    );
    assert_eq!(
        verdict(&h, &single(3, SLOT), &ctx(&chain, SLOT + 64, 501, None)),
        Verdict::Ignore
    );
}

#[test]
fn contributions_select_aggregators_by_hash() {
    // modulo 8 on mainnet: about one proof in eight selects.
    let selected = (0u8..64)
        .filter(|i| is_sync_committee_aggregator(&[*i; 96], 512))
        .count();
    assert!((2..=20).contains(&selected), "{selected}");
    // minimal: 32 / 4 / 16 = 0 -> modulo 1, every proof selects.
    assert!((0u8..16).all(|i| is_sync_committee_aggregator(&[i; 96], 32)));
    let chain = chain();
    let proof = (0u8..=255)
        .map(|i| vec![i; 96])
        .find(|p| is_sync_committee_aggregator(p, 512))
        .unwrap();
    let not = (0u8..=255)
        .map(|i| vec![i; 96])
        .find(|p| !is_sync_committee_aggregator(p, 512))
        .unwrap();
    let c = |p: Vec<u8>, sub| {
        GossipMessage::Contribution(ContributionView {
            aggregator_index: 1,
            slot: SLOT,
            beacon_block_root: [1; 32],
            subcommittee_index: sub,
            aggregation_bits: vec![true; 128],
            selection_proof: p,
        })
    };
    let h = Handlers::default();
    let now = ctx(&chain, SLOT, 2_000, None);
    assert_eq!(verdict(&h, &c(proof.clone(), 0), &now), Verdict::Accept);
    assert_eq!(verdict(&h, &c(not, 0), &now), Verdict::Reject);
    assert_eq!(verdict(&h, &c(proof.clone(), 4), &now), Verdict::Reject);
    assert_eq!(
        verdict(&h, &c(proof, 0), &ctx(&chain, SLOT + 1, 600, None)),
        Verdict::Ignore,
        "no longer the current slot"
    );
}

#[test]
fn operations_structure() {
    let chain = chain();
    let now = ctx(&chain, SLOT, 0, None);
    let h = Handlers::default();
    let mut s = ProposerSlashing::default();
    s.signed_header_1.message.slot = 5;
    s.signed_header_2.message.slot = 5;
    assert_eq!(
        verdict(
            &h,
            &GossipMessage::ProposerSlashing(Box::new(s.clone())),
            &now
        ),
        Verdict::Reject,
        "identical headers"
    );
    s.signed_header_2.message.state_root =
        pheme_types::primitives::Root::try_from(&[1u8; 32][..]).unwrap();
    assert_eq!(
        verdict(
            &h,
            &GossipMessage::ProposerSlashing(Box::new(s.clone())),
            &now
        ),
        Verdict::Accept
    );
    s.signed_header_2.message.slot = 6;
    assert_eq!(
        verdict(&h, &GossipMessage::ProposerSlashing(Box::new(s)), &now),
        Verdict::Reject,
        "different slots"
    );

    let double = |target_2| {
        let (mut d1, mut d2) = (data(64), data(64));
        d2.target.epoch = target_2;
        d2.beacon_block_root = pheme_types::primitives::Root::try_from(&[9u8; 32][..]).unwrap();
        d1.source.epoch = 1;
        d2.source.epoch = 1;
        GossipMessage::AttesterSlashing(Box::new(AttesterSlashingView {
            data_1: d1,
            data_2: d2,
            intersection: vec![3, 4],
        }))
    };
    let mut h = Handlers::default();
    assert_eq!(
        verdict(&h, &double(3), &now),
        Verdict::Reject,
        "different targets, no surround"
    );
    let pending = h.check(&double(2), &now).unwrap();
    h.commit(pending);
    assert_eq!(
        verdict(&h, &double(2), &now),
        Verdict::Ignore,
        "both indices already slashed"
    );
}

#[test]
fn blocks_and_columns() {
    let chain = chain();
    let now = ctx(&chain, SLOT, 1_000, Some(5));
    let h = Handlers::default();
    let ts = chain.genesis_time + SLOT * 12;
    let block = |timestamp, blobs| {
        GossipMessage::Block(BlockView {
            slot: SLOT,
            proposer_index: 7,
            payload_timestamp: Some(timestamp),
            blob_commitments: Some(blobs),
            epbs: None,
        })
    };
    assert_eq!(verdict(&h, &block(ts, 21), &now), Verdict::Accept);
    assert_eq!(verdict(&h, &block(ts + 1, 0), &now), Verdict::Reject);
    assert_eq!(
        verdict(&h, &block(ts, 22), &now),
        Verdict::Reject,
        "BPO2 allows 21 blobs"
    );
    let column = |index, lengths| {
        GossipMessage::Sidecar(Box::new(SidecarView {
            index,
            slot: SLOT,
            proposer_index: 7,
            column_lengths: Some(lengths),
            inclusion: Some(proof(11, false)),
            kzg: Some(column_kzg(index, lengths.1)),
        }))
    };
    assert_eq!(verdict(&h, &column(5, (3, 3, 3)), &now), Verdict::Accept);
    assert_eq!(
        verdict(&h, &column(6, (3, 3, 3)), &now),
        Verdict::Reject,
        "wrong subnet"
    );
    assert_eq!(
        verdict(&h, &column(5, (3, 2, 3)), &now),
        Verdict::Reject,
        "lengths differ"
    );
    assert_eq!(
        verdict(&h, &column(5, (0, 0, 0)), &now),
        Verdict::Reject,
        "no commitments"
    );
    assert_eq!(
        verdict(&h, &column(128, (1, 1, 1)), &now),
        Verdict::Reject,
        "index out of range"
    );
}

#[test]
fn seen_sets_are_bounded_and_pruned() {
    let mut seen = SeenSet::with_capacity(3);
    for slot in 0..5u64 {
        seen.insert(slot, slot);
    }
    assert_eq!(seen.len(), 3, "the oldest slots were dropped");
    assert!(!seen.contains(0, &0) && seen.contains(4, &4));
    seen.prune(4);
    assert_eq!(seen.len(), 1);
}

/// A 4-level branch for leaf index `index`, to the root it really leads to (or, `corrupt`, to
/// another).
fn proof(index: u64, corrupt: bool) -> pheme_gossip::Inclusion {
    use sha2::{Digest, Sha256};
    let leaf = [3u8; 32];
    let branch: Vec<[u8; 32]> = (0..4u8).map(|i| [i + 10; 32]).collect();
    let mut value = leaf;
    for (depth, node) in branch.iter().enumerate() {
        let pair = if (index >> depth) & 1 == 1 {
            [*node, value]
        } else {
            [value, *node]
        };
        value.copy_from_slice(&Sha256::digest(pair.concat()));
    }
    if corrupt {
        value[0] ^= 1;
    }
    assert!(pheme_gossip::is_valid_merkle_branch(leaf, &branch, index, value) != corrupt);
    pheme_gossip::Inclusion {
        leaf,
        branch,
        index,
        root: value,
    }
}

#[test]
fn an_inclusion_proof_to_another_root_is_rejected() {
    let chain = chain();
    let now = ctx(&chain, SLOT, 1_000, Some(5));
    let h = Handlers::default();
    let bad = GossipMessage::Sidecar(Box::new(SidecarView {
        index: 5,
        slot: SLOT,
        proposer_index: 7,
        column_lengths: Some((3, 3, 3)),
        inclusion: Some(proof(11, true)),
        kzg: Some(column_kzg(5, 3)),
    }));
    assert_eq!(verdict(&h, &bad, &now), Verdict::Reject);
}

/// A column of `n` cells of the all-zero blob, with real commitments and cell proofs from the
/// Ethereum trusted setup.
fn column_kzg(column: u64, n: usize) -> pheme_gossip::KzgCheck {
    let settings = c_kzg::ethereum_kzg_settings(0);
    let blob = c_kzg::Blob::from_bytes(&vec![0u8; 131_072]).unwrap();
    let commitment = settings
        .blob_to_kzg_commitment(&blob)
        .unwrap()
        .to_bytes()
        .into_inner();
    let (cells, proofs) = settings.compute_cells_and_kzg_proofs(&blob).unwrap();
    let c = (column % 128) as usize;
    pheme_gossip::KzgCheck::Cells {
        column,
        commitments: vec![commitment; n],
        cells: vec![cells[c].to_bytes().to_vec(); n],
        proofs: vec![proofs[c].to_bytes().into_inner(); n],
    }
}

#[test]
fn cell_proofs_are_verified() {
    let good = column_kzg(5, 2);
    assert!(pheme_gossip::kzg_proofs_valid(&good));
    let pheme_gossip::KzgCheck::Cells {
        column,
        commitments,
        cells,
        mut proofs,
    } = good
    else {
        unreachable!()
    };
    proofs[1] = proofs[0];
    proofs[1][47] ^= 1;
    assert!(!pheme_gossip::kzg_proofs_valid(
        &pheme_gossip::KzgCheck::Cells {
            column,
            commitments,
            cells,
            proofs
        }
    ));
}
