//! Fulu partial columns with real data: blobs through c-kzg's trusted setup into cells and
//! proofs, a column split between two nodes' assemblers, exchanged as gossipsub partial
//! message triples until both hold it, and damaged inputs.

use std::collections::VecDeque;

use libp2p_identity::PeerId;
use pheme_gossip::{
    Decision, GossipClock, Inbound, NoState, PartialColumnError, PartialColumns,
    PartialHeaderMessage, PartialReply, PartsMetadata, StatefulValidator, Verdict, encode_group_id,
};
use pheme_spec::{ChainSpec, Fork, Network};
use pheme_types::mainnet::fulu::{
    DataColumnSidecar, PartialDataColumnHeader, PartialDataColumnSidecar,
};
use pheme_types::primitives::{Cell, KzgCommitment, KzgProof};
use pheme_types::ssz_rs::{self, Bitlist, List, Vector};

const B: usize = 4096;
const SLOT: u64 = 13_000_000;
const COLUMN: u64 = 3;

/// A peer ID (an ed25519 key's, from a seed).
fn peer(seed: u8) -> PeerId {
    libp2p_identity::Keypair::ed25519_from_bytes([seed; 32])
        .unwrap()
        .public()
        .to_peer_id()
}

fn chain() -> ChainSpec {
    Network::Mainnet.chain_spec().unwrap()
}

fn now(chain: &ChainSpec) -> u64 {
    chain.clock().slot_start_ms(SLOT) + 1_000
}

/// `n` blobs of seeded field elements (each 32-byte element's top byte zero, so below the
/// modulus), their commitments, and column `COLUMN`'s cells and proofs.
fn real_column(n: usize) -> DataColumnSidecar {
    let settings = c_kzg::ethereum_kzg_settings(0);
    let mut commitments = Vec::new();
    let mut cells = Vec::new();
    let mut proofs = Vec::new();
    for b in 0..n {
        let mut bytes = vec![0u8; 131_072];
        let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (b as u64);
        for (i, byte) in bytes.iter_mut().enumerate() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = if i % 32 == 0 { 0 } else { x as u8 };
        }
        let blob = c_kzg::Blob::from_bytes(&bytes).unwrap();
        let c = settings.blob_to_kzg_commitment(&blob).unwrap();
        commitments.push(KzgCommitment::try_from(&c.to_bytes().into_inner()[..]).unwrap());
        let (cs, ps) = settings.compute_cells_and_kzg_proofs(&blob).unwrap();
        cells.push(Cell::try_from(&cs[COLUMN as usize].to_bytes()[..]).unwrap());
        proofs.push(KzgProof::try_from(&ps[COLUMN as usize].to_bytes().into_inner()[..]).unwrap());
    }
    let kzg_commitments: List<KzgCommitment, B> = List::try_from(commitments).unwrap();
    // An inclusion proof of four seeded nodes, and the body root it leads to (index 11).
    let leaf = pheme_types::root_of(&kzg_commitments).unwrap();
    let branch: Vec<[u8; 32]> = (0..4u8).map(|i| [i + 1; 32]).collect();
    let value = pheme_gossip::merkle_branch_root(leaf, &branch, 11);
    let mut s = DataColumnSidecar {
        index: COLUMN,
        column: List::try_from(cells).unwrap(),
        kzg_commitments,
        kzg_proofs: List::try_from(proofs).unwrap(),
        ..Default::default()
    };
    s.signed_block_header.message.slot = SLOT;
    s.signed_block_header.message.proposer_index = 42;
    s.signed_block_header.message.body_root = value.into();
    s.kzg_commitments_inclusion_proof =
        Vector::try_from(branch.iter().map(|b| (*b).into()).collect::<Vec<_>>()).unwrap();
    s
}

fn header_of(s: &DataColumnSidecar) -> PartialDataColumnHeader {
    PartialDataColumnHeader {
        kzg_commitments: s.kzg_commitments.clone(),
        signed_block_header: s.signed_block_header.clone(),
        kzg_commitments_inclusion_proof: s.kzg_commitments_inclusion_proof.clone(),
    }
}

fn root_of(s: &DataColumnSidecar) -> [u8; 32] {
    pheme_types::root_of(&s.signed_block_header.message).unwrap()
}

/// A partial sidecar of `s` with the cells `which`, with or without the header.
fn partial(s: &DataColumnSidecar, which: &[usize], header: bool) -> PartialDataColumnSidecar {
    let n = s.kzg_commitments.len();
    let bits: Vec<bool> = (0..n).map(|i| which.contains(&i)).collect();
    PartialDataColumnSidecar {
        cells_present_bitmap: Bitlist::try_from(bits.as_slice()).unwrap(),
        partial_column: List::try_from(
            which
                .iter()
                .map(|i| s.column[*i].clone())
                .collect::<Vec<_>>(),
        )
        .unwrap(),
        kzg_proofs: List::try_from(
            which
                .iter()
                .map(|i| s.kzg_proofs[*i].clone())
                .collect::<Vec<_>>(),
        )
        .unwrap(),
        header: List::try_from(if header { vec![header_of(s)] } else { vec![] }).unwrap(),
    }
}

fn cells_of(s: &DataColumnSidecar, which: &[usize]) -> Vec<(usize, Cell, KzgProof)> {
    which
        .iter()
        .map(|i| (*i, s.column[*i].clone(), s.kzg_proofs[*i].clone()))
        .collect()
}

fn receive(
    node: &mut PartialColumns<B>,
    chain: &ChainSpec,
    from: PeerId,
    group_id: &[u8],
    message: Option<&[u8]>,
    metadata: Option<&[u8]>,
    stateful: &dyn StatefulValidator,
) -> pheme_gossip::Received {
    let clock = GossipClock::new(chain, now(chain));
    node.receive(
        Inbound {
            peer: from,
            column: COLUMN,
            fork: Fork::Fulu,
            group_id,
            message,
            metadata,
        },
        &clock,
        stateful,
    )
}

#[test]
fn two_nodes_complete_a_split_column_byte_for_byte() {
    let chain = chain();
    let full = real_column(6);
    let root = root_of(&full);
    let full_bytes = ssz_rs::serialize(&full).unwrap();
    let group = encode_group_id(root);
    let (a, b) = (peer(1), peer(2));
    let mut nodes = [
        PartialColumns::<B>::default(),
        PartialColumns::<B>::default(),
    ];
    // A validated the block and its EL had blobs 0..=3; B's EL had 3..=5, but B learns the
    // header from A's eager push.
    nodes[0].insert_header(header_of(&full)).unwrap();
    assert_eq!(
        nodes[0].insert_cells(root, COLUMN, cells_of(&full, &[0, 1, 2, 3])),
        Ok(None)
    );
    let first = nodes[0].first_message(b, &root, COLUMN, false).unwrap();
    let ids = [a, b];
    let mut queue: VecDeque<(usize, PartialReply)> = VecDeque::from([(1, first)]);
    let mut bytes_sent = 0;
    let mut messages = 0;
    let mut completed: [Option<Vec<u8>>; 2] = [None, None];
    let mut seeded_b = false;
    while let Some((to, reply)) = queue.pop_front() {
        bytes_sent += group.len()
            + reply.message.as_ref().map_or(0, Vec::len)
            + reply.metadata.as_ref().map_or(0, Vec::len);
        messages += 1;
        let from = ids[1 - to];
        let got = receive(
            &mut nodes[to],
            &chain,
            from,
            &group,
            reply.message.as_deref(),
            reply.metadata.as_deref(),
            &NoState,
        );
        assert_eq!(got.verdict, Verdict::Accept, "{:?}", got.error);
        assert_eq!(got.block_root, Some(root));
        if to == 1 && !seeded_b {
            assert!(got.new_header);
            seeded_b = true;
            assert_eq!(
                nodes[1].insert_cells(root, COLUMN, cells_of(&full, &[3, 4, 5])),
                Ok(None)
            );
            // B now has cells A asked for in its first metadata.
            if let Some(r) = nodes[1].reply_to(&a, &root, COLUMN) {
                queue.push_back((0, r));
            }
            continue;
        }
        if got.novel_cells > 0 {
            assert!(got.reward, "the first novel delivery is rewarded");
        }
        if let Some(c) = got.completed {
            completed[to] = Some(c);
        }
        if let Some(r) = got.reply {
            queue.push_back((1 - to, r));
        }
        assert!(messages < 20, "the exchange does not converge");
    }
    for (i, c) in completed.iter().enumerate() {
        assert_eq!(
            c.as_deref(),
            Some(full_bytes.as_slice()),
            "node {i}'s column"
        );
        assert_eq!(nodes[i].held(&root, COLUMN), Some((6, 6)));
    }
    // Nothing is left to send either way.
    assert_eq!(nodes[0].reply_to(&b, &root, COLUMN), None);
    assert_eq!(nodes[1].reply_to(&a, &root, COLUMN), None);
    println!(
        "partial columns: {messages} triples, {bytes_sent} bytes to complete a 6-blob column at both \
         nodes (each missing 2-3 cells); the full DataColumnSidecar is {} bytes, sent both ways {} bytes",
        full_bytes.len(),
        2 * full_bytes.len()
    );
    assert!(bytes_sent < 2 * full_bytes.len());
}

#[test]
fn a_full_column_makes_a_provider_and_eager_pushes_carry_the_header_only() {
    let chain = chain();
    let full = real_column(3);
    let root = root_of(&full);
    let group = encode_group_id(root);
    let mut provider = PartialColumns::<B>::default();
    assert_eq!(provider.insert_sidecar(&full), Ok(root));
    let header_only = provider.eager_header(&root).unwrap();
    let decoded: PartialDataColumnSidecar = ssz_rs::Deserialize::deserialize(&header_only).unwrap();
    assert_eq!(decoded.header.len(), 1);
    assert_eq!(decoded.partial_column.len(), 0);
    // Our metadata: all three available.
    let m = PartsMetadata::decode::<B>(&provider.metadata(&root, COLUMN).unwrap()).unwrap();
    assert_eq!(m.available_cells().collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(m.wanted_cells().count(), 0);
    // A fresh node gets the header, asks for everything, and the provider's reply completes it.
    let (p, q) = (peer(1), peer(2));
    let mut fresh = PartialColumns::<B>::default();
    let got = receive(
        &mut fresh,
        &chain,
        p,
        &group,
        Some(&header_only),
        None,
        &NoState,
    );
    assert_eq!(got.verdict, Verdict::Accept);
    assert!(got.new_header);
    let ask = fresh.metadata(&root, COLUMN).unwrap();
    let got = receive(&mut provider, &chain, q, &group, None, Some(&ask), &NoState);
    let reply = got.reply.unwrap();
    let got = receive(
        &mut fresh,
        &chain,
        p,
        &group,
        reply.message.as_deref(),
        reply.metadata.as_deref(),
        &NoState,
    );
    assert_eq!(got.novel_cells, 3);
    assert_eq!(got.completed, Some(ssz_rs::serialize(&full).unwrap()));
    // The provider received it whole: nothing to forward.
    assert_eq!(provider.held(&root, COLUMN), Some((3, 3)));
}

#[test]
fn rewards_are_rate_limited_per_peer_and_column() {
    let chain = chain();
    let full = real_column(4);
    let root = root_of(&full);
    let group = encode_group_id(root);
    let peer = peer(3);
    let mut node = PartialColumns::<B>::default();
    node.insert_header(header_of(&full)).unwrap();
    let one = ssz_rs::serialize(&partial(&full, &[0], false)).unwrap();
    let two = ssz_rs::serialize(&partial(&full, &[1], false)).unwrap();
    let first = receive(&mut node, &chain, peer, &group, Some(&one), None, &NoState);
    assert_eq!((first.novel_cells, first.reward), (1, true));
    let second = receive(&mut node, &chain, peer, &group, Some(&two), None, &NoState);
    assert_eq!((second.novel_cells, second.reward), (1, false));
    // The same cell again is valid but not novel.
    let again = receive(&mut node, &chain, peer, &group, Some(&one), None, &NoState);
    assert_eq!(
        (again.verdict, again.novel_cells, again.reward),
        (Verdict::Accept, 0, false)
    );
}

/// Rejects every header, counting calls.
struct RejectHeaders(std::sync::atomic::AtomicUsize);

impl StatefulValidator for RejectHeaders {
    fn validate(&self, _msg: &pheme_gossip::InboundMessage) -> Decision {
        Decision::Accept
    }
    fn validate_partial_header(&self, h: &PartialHeaderMessage) -> Decision {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(h.column_index, COLUMN);
        Decision::reject("bad_proposer_signature")
    }
}

/// The trait's default: headers are not vouched for.
struct Unchecked;

impl StatefulValidator for Unchecked {
    fn validate(&self, _msg: &pheme_gossip::InboundMessage) -> Decision {
        Decision::Accept
    }
}

fn error_of(r: &pheme_gossip::Received) -> (Verdict, &'static str) {
    use pheme_gossip::GossipError;
    (r.verdict, r.error.as_ref().map_or("", |e| e.reason()))
}

#[test]
fn damaged_inputs_get_their_verdicts() {
    let chain = chain();
    let full = real_column(4);
    let root = root_of(&full);
    let group = encode_group_id(root);
    let peer = peer(3);
    let with_header = ssz_rs::serialize(&partial(&full, &[0, 2], true)).unwrap();
    let cells_only = ssz_rs::serialize(&partial(&full, &[1], false)).unwrap();
    let mut node = PartialColumns::<B>::default();
    let send = |node: &mut PartialColumns<B>, g: &[u8], m: Option<&[u8]>, md: Option<&[u8]>| {
        error_of(&receive(node, &chain, peer, g, m, md, &NoState))
    };

    // A message with the given stateful checks.
    let with_checks = |node: &mut PartialColumns<B>, m: &[u8], checks: &dyn StatefulValidator| {
        receive(node, &chain, peer, &group, Some(m), None, checks)
    };
    let send_value = |node: &mut PartialColumns<B>, v: &PartialDataColumnSidecar| {
        send(node, &group, Some(&ssz_rs::serialize(v).unwrap()), None)
    };

    // Cells before any header: IGNORE.
    assert_eq!(
        send(&mut node, &group, Some(&cells_only), None),
        (Verdict::Ignore, "header_unknown")
    );
    // Unknown group version: IGNORE; short group ID: REJECT.
    let mut v1 = group.clone();
    v1[0] = 1;
    assert_eq!(
        send(&mut node, &v1, Some(&with_header), None),
        (Verdict::Ignore, "unknown_group_version")
    );
    assert_eq!(
        send(&mut node, &group[..9], Some(&with_header), None),
        (Verdict::Reject, "malformed_group_id")
    );
    // A header of another block under this group: REJECT.
    let other = encode_group_id([9; 32]);
    assert_eq!(
        send(&mut node, &other, Some(&with_header), None),
        (Verdict::Reject, "root_mismatch")
    );
    // Empty, and lying counts.
    let mut empty = partial(&full, &[], false);
    assert_eq!(send_value(&mut node, &empty), (Verdict::Reject, "empty"));
    empty.cells_present_bitmap = Bitlist::try_from([true, true, false, false].as_slice()).unwrap();
    empty.partial_column = List::try_from(vec![full.column[0].clone()]).unwrap();
    empty.kzg_proofs = List::try_from(vec![full.kzg_proofs[0].clone()]).unwrap();
    assert_eq!(
        send_value(&mut node, &empty),
        (Verdict::Reject, "cell_count")
    );
    // Truncated and garbage bytes, and an offset pointing past the end: REJECT, no panic.
    for cut in [0, 3, 17, with_header.len() / 2, with_header.len() - 1] {
        assert_eq!(
            send(&mut node, &group, Some(&with_header[..cut]), None).0,
            Verdict::Reject
        );
    }
    let mut lying = with_header.clone();
    lying[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        send(&mut node, &group, Some(&lying), None).0,
        Verdict::Reject
    );
    let huge = vec![0u8; pheme_gossip::partial_sidecar_max_len(128) + 1];
    assert_eq!(
        send(&mut node, &group, Some(&huge), None),
        (Verdict::Reject, "too_long")
    );

    // The node's checks decide on the header; the default IGNOREs.
    let rejecting = RejectHeaders(Default::default());
    let r = with_checks(&mut node, &with_header, &rejecting);
    assert_eq!(error_of(&r), (Verdict::Reject, "header_rejected"));
    assert_eq!(rejecting.0.load(std::sync::atomic::Ordering::Relaxed), 1);
    let r = with_checks(&mut node, &with_header, &Unchecked);
    assert_eq!(error_of(&r), (Verdict::Ignore, "header_ignored"));
    assert_eq!(node.blocks(), 0);

    // A bad cell proof: the header is validated and kept, the message REJECTed.
    let mut bad = partial(&full, &[0, 2], true);
    bad.kzg_proofs[1] = full.kzg_proofs[3].clone();
    let r = with_checks(&mut node, &ssz_rs::serialize(&bad).unwrap(), &NoState);
    assert_eq!(error_of(&r), (Verdict::Reject, "bad_kzg_proof"));
    assert_eq!(node.held(&root, COLUMN), Some((0, 4)));
    // Now the header is known: the good message is accepted, the header is not asked again.
    let r = with_checks(&mut node, &with_header, &rejecting);
    assert_eq!((r.verdict, r.novel_cells), (Verdict::Accept, 2));
    assert_eq!(rejecting.0.load(std::sync::atomic::Ordering::Relaxed), 1);
    // A different header for the same block: REJECT.
    let mut differs = partial(&full, &[], true);
    differs.header[0].signed_block_header.signature.0[0] ^= 1;
    assert_eq!(
        send_value(&mut node, &differs),
        (Verdict::Reject, "header_differs")
    );
    // A bitmap of another length than the header's commitments: REJECT.
    let mut long = partial(&full, &[1], false);
    long.cells_present_bitmap =
        Bitlist::try_from([false, true, false, false, false].as_slice()).unwrap();
    assert_eq!(
        send_value(&mut node, &long),
        (Verdict::Reject, "bitmap_length")
    );

    // Metadata: bitlists of two lengths, or not the column's length: REJECT.
    let odd = pheme_types::fulu::PartialDataColumnPartsMetadata::<B> {
        available: Bitlist::try_from([true, false, true, false].as_slice()).unwrap(),
        requests: Bitlist::try_from([true, false, true].as_slice()).unwrap(),
    };
    assert_eq!(
        send(
            &mut node,
            &group,
            None,
            Some(&ssz_rs::serialize(&odd).unwrap())
        ),
        (Verdict::Reject, "metadata_lengths")
    );
    let short = PartsMetadata::new(3).encode::<B>().unwrap();
    assert_eq!(
        send(&mut node, &group, None, Some(&short)),
        (Verdict::Reject, "metadata_column_length")
    );
    assert_eq!(
        send(&mut node, &group, None, Some(&[1, 2, 3])).0,
        Verdict::Reject
    );

    // A future slot: IGNORE, for the header and for cells.
    let mut early = PartialColumns::<B>::default();
    let clock = GossipClock::new(&chain, chain.clock().slot_start_ms(SLOT) - 10_000);
    let r = early.receive(
        Inbound {
            peer,
            column: COLUMN,
            fork: Fork::Fulu,
            group_id: &group,
            message: Some(&with_header),
            metadata: None,
        },
        &clock,
        &NoState,
    );
    assert_eq!(error_of(&r), (Verdict::Ignore, "future_slot"));
    // After finality: IGNORE.
    node.set_finalized_slot(SLOT);
    assert_eq!(
        send(&mut node, &group, Some(&cells_only), None),
        (Verdict::Ignore, "not_after_finalized_slot")
    );
    // Seeding refuses cells outside the column.
    assert_eq!(
        node.insert_cells(
            root,
            COLUMN,
            cells_of(&full, &[0]).into_iter().map(|(_, c, p)| (9, c, p))
        ),
        Err(PartialColumnError::CellOutOfRange { index: 9, len: 4 })
    );
}

#[test]
fn state_is_bounded_and_pruned_by_slot() {
    let mut node = PartialColumns::<B>::new(pheme_gossip::PartialColumnsConfig {
        max_blocks: 2,
        ..Default::default()
    });
    let mut roots = Vec::new();
    for slot in 0..4u64 {
        let mut s = real_column(1);
        s.signed_block_header.message.slot = SLOT + slot;
        roots.push(node.insert_sidecar(&s).unwrap());
        assert!(node.blocks() <= 2);
    }
    assert!(node.header(&roots[0]).is_none());
    assert!(node.header(&roots[3]).is_some());
    node.prune(SLOT + 4);
    assert_eq!(node.blocks(), 0);
}
