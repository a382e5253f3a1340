//! Partial data columns between Pheme and libp2p-gossipsub 0.50 built with `partial-messages`,
//! on loopback: real swarms, real columns (c-kzg cells and proofs), the Fulu
//! `partial-columns` encodings (group id, parts metadata, `PartialDataColumnSidecar`).
//!
//! The libp2p peers' application is written here against libp2p's `Partial` trait: a column
//! state that answers a peer's metadata with the cells it wants, pushes the header when it
//! does not know the peer's metadata yet, and fills cells from its own "execution layer" once
//! it learns the block's header. A third, plain libp2p peer subscribes without partial
//! messages: it must still get the full column, from Pheme.
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
use futures::StreamExt;
use libp2p::gossipsub::partial_messages::{Metadata, Partial, PartialAction, PartialError};
use libp2p::gossipsub::{self, AllowAllSubscriptionFilter, MessageAuthenticity};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, identify, noise, tcp, yamux};
use pheme_gossip::{PartsMetadata, decode_partial_sidecar, encode_group_id};
use pheme_network::transform::message_id_fn;
use pheme_network::{NetworkHandle, params::topic_name, transform::SnappyTransform};
use pheme_spec::{ChainSpec, GossipKind};
use pheme_types::mainnet::fulu::{
    DataColumnSidecar, PartialDataColumnHeader, PartialDataColumnSidecar,
};
use pheme_types::primitives::{Cell, KzgProof};
use pheme_types::ssz_rs::{self, Bitlist, List};
use tokio::sync::{mpsc, oneshot};

const B: usize = 4096;

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct PartialBehaviour {
    gossipsub: gossipsub::Behaviour<SnappyTransform, AllowAllSubscriptionFilter>,
    identify: identify::Behaviour,
}

/// A parts metadata as libp2p keeps it: the bytes; an update replaces them.
#[derive(Debug)]
struct Meta(Vec<u8>);

impl Metadata for Meta {
    fn as_slice(&self) -> &[u8] {
        &self.0
    }

    fn update(&mut self, data: &[u8]) -> Result<bool, PartialError> {
        if self.0 == data {
            return Ok(false);
        }
        self.0 = data.to_vec();
        Ok(true)
    }
}

/// One column of one block as a libp2p peer's application holds it.
#[derive(Clone)]
struct RefColumn {
    group: Vec<u8>,
    header: Option<PartialDataColumnHeader>,
    cells: Vec<Option<(Cell, KzgProof)>>,
}

impl RefColumn {
    fn metadata_bytes(&self) -> Vec<u8> {
        let n = self.cells.len();
        let mut m = PartsMetadata::new(n);
        for (i, c) in self.cells.iter().enumerate() {
            m.set_available(i, c.is_some());
            m.set_requested(i, c.is_none());
        }
        m.encode::<B>().unwrap()
    }

    /// `SSZ(PartialDataColumnSidecar)` with the cells `which` (all held) and maybe the header.
    fn encode(&self, header: bool, which: &[usize]) -> Vec<u8> {
        let n = self.cells.len();
        let bits: Vec<bool> = (0..n).map(|i| which.contains(&i)).collect();
        let held = |i: &usize| self.cells[*i].clone().unwrap();
        let sidecar = PartialDataColumnSidecar {
            cells_present_bitmap: Bitlist::try_from(bits.as_slice()).unwrap(),
            partial_column: List::try_from(which.iter().map(|i| held(i).0).collect::<Vec<_>>())
                .unwrap(),
            kzg_proofs: List::try_from(which.iter().map(|i| held(i).1).collect::<Vec<_>>())
                .unwrap(),
            header: List::try_from(
                self.header
                    .clone()
                    .filter(|_| header)
                    .into_iter()
                    .collect::<Vec<_>>(),
            )
            .unwrap(),
        };
        ssz_rs::serialize(&sidecar).unwrap()
    }

    fn complete(&self) -> bool {
        self.header.is_some() && self.cells.iter().all(Option::is_some)
    }
}

impl Partial for RefColumn {
    fn group_id(&self) -> Vec<u8> {
        self.group.clone()
    }

    fn metadata(&self) -> Box<dyn Metadata> {
        Box::new(Meta(self.metadata_bytes()))
    }

    fn partial_action_from_metadata(
        &self,
        _peer: PeerId,
        metadata: Option<&[u8]>,
    ) -> Result<PartialAction, PartialError> {
        let n = self.cells.len();
        let Some(metadata) = metadata else {
            // The peer's metadata is unknown: push the header (the spec's eager push), and
            // take the peer as holding and wanting nothing until it says otherwise.
            let send = self.header.as_ref().map(|_| {
                (
                    self.encode(true, &[]),
                    Box::new(Meta(Vec::new())) as Box<dyn Metadata>,
                )
            });
            return Ok(PartialAction { need: true, send });
        };
        let theirs =
            PartsMetadata::decode::<B>(metadata).map_err(|_| PartialError::InvalidFormat)?;
        if theirs.len() != n {
            return Err(PartialError::InvalidFormat);
        }
        let give: Vec<usize> = theirs
            .wanted_cells()
            .filter(|i| self.cells[*i].is_some())
            .collect();
        let need = (0..n).any(|i| theirs.has(i) && self.cells[i].is_none());
        let send = (!give.is_empty()).then(|| {
            let mut after = theirs.clone();
            give.iter().for_each(|i| after.set_available(*i, true));
            let after = Meta(after.encode::<B>().unwrap());
            (
                self.encode(false, &give),
                Box::new(after) as Box<dyn Metadata>,
            )
        });
        Ok(PartialAction { need, send })
    }
}

enum Cmd {
    Dial(Multiaddr),
    Subscribe(String, bool),
    /// Publish this column as a partial message (and keep it as the app's state).
    PublishPartial(String, Box<RefColumn>),
    /// Cells this peer's "execution layer" has, by blob index: used once the header arrives.
    LocalCells(HashMap<usize, (Cell, KzgProof)>),
    Mesh(String, oneshot::Sender<Vec<PeerId>>),
    /// The app's column state, partial bytes received, full messages received.
    State(oneshot::Sender<(Option<RefColumn>, usize, Vec<Vec<u8>>)>),
}

/// A libp2p-gossipsub peer with the partial messages extension, in a task of its own.
struct PartialPeer {
    peer: PeerId,
    cmds: mpsc::UnboundedSender<Cmd>,
}

impl PartialPeer {
    async fn start(chain: &ChainSpec) -> PartialPeer {
        let transform = SnappyTransform::new(Arc::new(chain.clone()));
        let config = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Anonymous)
            .validate_messages()
            .message_id_fn(message_id_fn(&transform))
            .max_transmit_size(chain.max_message_size() as usize)
            .heartbeat_interval(Duration::from_millis(700))
            .build()
            .unwrap();
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .unwrap()
            .with_behaviour(|key| PartialBehaviour {
                gossipsub: gossipsub::Behaviour::new_with_subscription_filter_and_transform(
                    MessageAuthenticity::Anonymous,
                    config.clone(),
                    AllowAllSubscriptionFilter {},
                    transform.clone(),
                )
                .unwrap(),
                identify: identify::Behaviour::new(identify::Config::new(
                    "eth2/1.0.0".into(),
                    key.public(),
                )),
            })
            .unwrap()
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        let peer = *swarm.local_peer_id();
        let (cmds, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut column: Option<(String, RefColumn)> = None;
            let mut local: HashMap<usize, (Cell, KzgProof)> = HashMap::new();
            let mut partial_bytes = 0usize;
            let mut full: Vec<Vec<u8>> = Vec::new();
            loop {
                tokio::select! {
                    event = swarm.select_next_some() => if let SwarmEvent::Behaviour(PartialBehaviourEvent::Gossipsub(e)) = event {
                        match e {
                            gossipsub::Event::Message { propagation_source, message_id, message } => {
                                full.push(message.data.clone());
                                swarm.behaviour_mut().gossipsub.report_message_validation_result(
                                    &message_id, &propagation_source, gossipsub::MessageAcceptance::Accept,
                                );
                            }
                            gossipsub::Event::Partial { topic_hash, group_id, message, metadata, .. } => {
                                partial_bytes += group_id.len()
                                    + message.as_ref().map_or(0, Vec::len)
                                    + metadata.as_ref().map_or(0, Vec::len);
                                let topic = topic_hash.to_string();
                                let state = column.get_or_insert_with(|| (topic.clone(), RefColumn {
                                    group: group_id.clone(),
                                    header: None,
                                    cells: Vec::new(),
                                }));
                                if let Some(bytes) = message {
                                    let s = decode_partial_sidecar::<B>(&bytes, 128).unwrap();
                                    if state.1.header.is_none() && let Some(h) = s.header.first() {
                                        let n = h.kzg_commitments.len();
                                        state.1.header = Some(h.clone());
                                        state.1.cells = (0..n).map(|i| local.get(&i).cloned()).collect();
                                    }
                                    let present = s.cells_present_bitmap.iter().by_vals().enumerate()
                                        .filter(|(_, b)| *b).map(|(i, _)| i);
                                    let data = s.partial_column.iter().zip(s.kzg_proofs.iter());
                                    for (i, (c, p)) in present.zip(data) {
                                        if let Some(slot) = state.1.cells.get_mut(i) {
                                            *slot = Some((c.clone(), p.clone()));
                                        }
                                    }
                                }
                                if state.1.header.is_some() {
                                    let (t, c) = state.clone();
                                    let _ = swarm.behaviour_mut().gossipsub
                                        .publish_partial(gossipsub::TopicHash::from_raw(t), c);
                                }
                            }
                            _ => {}
                        }
                    },
                    cmd = rx.recv() => match cmd {
                        Some(Cmd::Dial(a)) => { swarm.dial(a).unwrap(); }
                        Some(Cmd::Subscribe(t, partial)) => {
                            let topic = gossipsub::IdentTopic::new(t);
                            if partial {
                                swarm.behaviour_mut().gossipsub.enable_partials_for_topic(topic.hash(), true);
                            }
                            swarm.behaviour_mut().gossipsub.subscribe(&topic).unwrap();
                        }
                        Some(Cmd::PublishPartial(t, c)) => {
                            let c = *c;
                            column = Some((t.clone(), c.clone()));
                            swarm.behaviour_mut().gossipsub
                                .publish_partial(gossipsub::TopicHash::from_raw(t), c).unwrap();
                        }
                        Some(Cmd::LocalCells(cells)) => local = cells,
                        Some(Cmd::Mesh(t, reply)) => {
                            let m = swarm.behaviour().gossipsub
                                .mesh_peers(&gossipsub::TopicHash::from_raw(t)).copied().collect();
                            let _ = reply.send(m);
                        }
                        Some(Cmd::State(reply)) => {
                            let _ = reply.send((column.as_ref().map(|c| c.1.clone()), partial_bytes, full.clone()));
                        }
                        None => break,
                    },
                }
            }
        });
        PartialPeer { peer, cmds }
    }

    fn dial(&self, addr: &Multiaddr) {
        self.cmds.send(Cmd::Dial(addr.clone())).unwrap();
    }

    fn subscribe(&self, topic: &str, partial: bool) {
        self.cmds
            .send(Cmd::Subscribe(topic.to_owned(), partial))
            .unwrap();
    }

    async fn mesh(&self, topic: &str) -> Vec<PeerId> {
        let (tx, rx) = oneshot::channel();
        self.cmds.send(Cmd::Mesh(topic.to_owned(), tx)).unwrap();
        rx.await.unwrap()
    }

    async fn state(&self) -> (Option<RefColumn>, usize, Vec<Vec<u8>>) {
        let (tx, rx) = oneshot::channel();
        self.cmds.send(Cmd::State(tx)).unwrap();
        rx.await.unwrap()
    }
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

fn header_of(s: &DataColumnSidecar) -> PartialDataColumnHeader {
    PartialDataColumnHeader {
        kzg_commitments: s.kzg_commitments.clone(),
        signed_block_header: s.signed_block_header.clone(),
        kzg_commitments_inclusion_proof: s.kzg_commitments_inclusion_proof.clone(),
    }
}

fn cells_of(s: &DataColumnSidecar) -> Vec<(Cell, KzgProof)> {
    s.column
        .iter()
        .cloned()
        .zip(s.kzg_proofs.iter().cloned())
        .collect()
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
    let partial = PartialPeer::start(chain).await;
    let plain = PartialPeer::start(chain).await;
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
    let state = RefColumn {
        group: encode_group_id(pheme_types::root_of(&s.signed_block_header.message).unwrap()),
        header: Some(header_of(&s)),
        cells: cells_of(&s).into_iter().map(Some).collect(),
    };
    proposer
        .cmds
        .send(Cmd::PublishPartial(topic.clone(), Box::new(state)))
        .unwrap();
    // The plain peer gets the column whole, from Pheme, byte for byte.
    let got = wait_for(Duration::from_secs(15), || async {
        let (_, _, full_msgs) = plain.state().await;
        full_msgs.into_iter().find(|m| *m == full)
    })
    .await;
    assert!(
        got.is_some(),
        "the plain peer never got the assembled column"
    );
    let snap = p.handle.snapshot().await.unwrap();
    let (_, _, to_proposer) = proposer.state().await;
    assert!(
        to_proposer.is_empty(),
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
    partial.cmds.send(Cmd::LocalCells(local)).unwrap();
    let full = ssz_rs::serialize(&s).unwrap();
    p.handle
        .publish_ssz(GossipKind::DataColumnSidecar(5), full.clone())
        .await
        .unwrap();
    let done = wait_for(Duration::from_secs(15), || async {
        let (c, bytes, _) = partial.state().await;
        c.filter(RefColumn::complete).map(|c| (c, bytes))
    })
    .await;
    let (assembled, bytes_in) = done.expect("the partial peer never completed the column");
    for (i, (cell, proof)) in cells_of(&s).into_iter().enumerate() {
        assert_eq!(assembled.cells[i], Some((cell, proof)), "cell {i}");
    }
    let got = wait_for(Duration::from_secs(15), || async {
        let (_, _, full_msgs) = plain.state().await;
        full_msgs.into_iter().find(|m| *m == full)
    })
    .await;
    assert!(got.is_some(), "the plain peer never got the full column");
    let (_, _, to_partial) = partial.state().await;
    assert!(
        to_partial.is_empty(),
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
