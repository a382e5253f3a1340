//! Partial data columns between Pheme and libp2p-gossipsub 0.50 built with `partial-messages`,
//! on loopback: real swarms, real columns (c-kzg cells and proofs), the Fulu
//! `partial-columns` encodings (group id, parts metadata, `PartialDataColumnSidecar`).
//!
//! The libp2p peers are `pheme_testkit::partial`'s (an application written against libp2p's
//! `Partial` trait: it answers a peer's metadata with the cells it wants, pushes the header
//! when it does not know the peer's metadata yet, and fills cells from its own "execution
//! layer" once it learns the block's header). A third, plain libp2p peer subscribes without
//! partial messages: it must still get the full column, from Pheme.
//!
//! - libp2p -> Pheme: a libp2p proposer holds the column; Pheme gets the header, asks for the
//!   cells, assembles the column, and forwards it whole to the plain peer;
//! - Pheme -> libp2p: Pheme publishes a column; the partial peer, which holds most cells
//!   already, gets the header, asks for the rest and completes it; the plain peer gets the
//!   full column over plain gossip.
//!
//! Each prints the bytes of partial traffic against the full column's size on the wire.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{chain, node_config, slot_now, start, wait_for};
use libp2p::PeerId;
use pheme_network::transform::message_id_fn;
use pheme_network::{NetworkHandle, params::topic_name, transform::SnappyTransform};
use pheme_spec::{ChainSpec, GossipKind};
use pheme_testkit::partial::{PartialPeer, RefColumn, cells_of};
use pheme_types::mainnet::fulu::DataColumnSidecar;
use pheme_types::primitives::{Cell, KzgProof};
use pheme_types::ssz_rs;

/// A libp2p-gossipsub peer with partial messages, on the node's transform and message-ids.
fn partial_peer(chain: &ChainSpec) -> PartialPeer {
    let transform = SnappyTransform::new(Arc::new(chain.clone()));
    let id = message_id_fn(&transform);
    PartialPeer::start(transform, id, chain.max_message_size() as usize).unwrap()
}

/// A column at the current slot with `blobs` blobs, and its topic.
fn column(chain: &ChainSpec, blobs: usize, seed: u64) -> (DataColumnSidecar, String) {
    let slot = slot_now(chain);
    let s = pheme_testkit::columns::block_columns(slot, blobs, seed, &[5])
        .unwrap()
        .remove(0);
    let digest = chain.fork_digest_at(chain.epoch_of(slot));
    (s, topic_name(digest, GossipKind::DataColumnSidecar(5)))
}

/// The bytes a full column costs on the wire as a gossip message's data (snappy block).
fn full_wire_len(s: &DataColumnSidecar) -> usize {
    pheme_codec::compress_block(&ssz_rs::serialize(s).unwrap()).len()
}

async fn meshed(peer: &PartialPeer, topic: &str, want: PeerId) {
    let ok = wait_for(Duration::from_secs(15), || async {
        peer.mesh(topic).await.contains(&want).then_some(())
    })
    .await;
    assert!(ok.is_some(), "{}'s mesh on {topic} lacks {want}", peer.peer);
}

async fn pheme_meshed(handle: &NetworkHandle, topic: &str, n: usize) {
    let ok = wait_for(Duration::from_secs(15), || async {
        let snap = handle.snapshot().await.unwrap();
        (snap.mesh_by_topic.get(topic).copied().unwrap_or(0) >= n).then_some(())
    })
    .await;
    assert!(ok.is_some(), "Pheme's mesh on {topic} below {n}");
}

/// Pheme with partial columns, a partial libp2p peer and a plain one, meshed on `topic`.
async fn three(chain: &ChainSpec, topic: &str) -> (common::Node, PartialPeer, PartialPeer) {
    let p = start(node_config(chain).partial_columns(true).build().unwrap()).await;
    let partial = partial_peer(chain);
    let plain = partial_peer(chain);
    partial.subscribe(topic, true);
    plain.subscribe(topic, false);
    partial.dial(&p.addr);
    plain.dial(&p.addr);
    let me = p.handle.local_peer_id();
    meshed(&partial, topic, me).await;
    meshed(&plain, topic, me).await;
    pheme_meshed(&p.handle, topic, 2).await;
    (p, partial, plain)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_libp2p_proposer_s_cells_reach_pheme_which_forwards_the_column_whole() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let (s, topic) = column(&chain, 6, 11);
    let (p, proposer, plain) = three(&chain, &topic).await;
    let full = ssz_rs::serialize(&s).unwrap();
    proposer.publish_partial(&topic, RefColumn::full(&s).unwrap());
    // The plain peer gets the column whole, from Pheme, byte for byte.
    let got = wait_for(Duration::from_secs(15), || async {
        plain.state().await.full.into_iter().find(|m| *m == full)
    })
    .await;
    assert!(
        got.is_some(),
        "the plain peer never got the assembled column"
    );
    let snap = p.handle.snapshot().await.unwrap();
    assert!(
        proposer.state().await.full.is_empty(),
        "a peer that requests partial messages got a full column"
    );
    let wire = full_wire_len(&s);
    println!(
        "libp2p -> Pheme, 6 blobs: {} partial messages in, {} bytes (group, parts, metadata) and {} out, {} bytes; the full column is {} bytes on the wire ({:.2}x)",
        snap.partial.received,
        snap.partial.bytes_received,
        snap.partial.sent,
        snap.partial.bytes_sent,
        wire,
        (snap.partial.bytes_received + snap.partial.bytes_sent) as f64 / wire as f64
    );
    assert!(snap.partial.received >= 2 && snap.partial.sent >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pheme_serves_the_cells_a_libp2p_peer_lacks_and_the_full_column_to_a_plain_peer() {
    let chain = chain(2_000, 32, 40, 0, &[]);
    let (s, topic) = column(&chain, 8, 12);
    let (p, partial, plain) = three(&chain, &topic).await;
    // The partial peer's execution layer has 6 of the 8 blobs.
    let local: HashMap<usize, (Cell, KzgProof)> = cells_of(&s)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 2 && *i != 5)
        .collect();
    partial.local_cells(local);
    let full = ssz_rs::serialize(&s).unwrap();
    p.handle
        .publish_ssz(GossipKind::DataColumnSidecar(5), full.clone())
        .await
        .unwrap();
    let done = wait_for(Duration::from_secs(15), || async {
        let st = partial.state().await;
        st.column
            .filter(RefColumn::complete)
            .map(|c| (c, st.partial_bytes))
    })
    .await;
    let (assembled, bytes_in) = done.expect("the partial peer never completed the column");
    for (i, (cell, proof)) in cells_of(&s).into_iter().enumerate() {
        assert_eq!(assembled.cells[i], Some((cell, proof)), "cell {i}");
    }
    let got = wait_for(Duration::from_secs(15), || async {
        plain.state().await.full.into_iter().find(|m| *m == full)
    })
    .await;
    assert!(got.is_some(), "the plain peer never got the full column");
    assert!(
        partial.state().await.full.is_empty(),
        "the partial peer got the full column too"
    );
    let snap = p.handle.snapshot().await.unwrap();
    let wire = full_wire_len(&s);
    println!(
        "Pheme -> libp2p, 8 blobs, 6 held by the receiver: it received {} bytes of partial messages (header, 2 cells, metadata); Pheme sent {} partial messages, {} bytes; the full column is {} bytes on the wire ({:.2}x)",
        bytes_in,
        snap.partial.sent,
        snap.partial.bytes_sent,
        wire,
        bytes_in as f64 / wire as f64
    );
    // Two cells of 2,048 bytes and their proofs, the header and metadata: well under the
    // column's eight cells.
    assert!(
        bytes_in < wire / 2,
        "{bytes_in} bytes for a {wire}-byte column"
    );
}
