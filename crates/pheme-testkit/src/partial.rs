//! A libp2p-gossipsub 0.50 peer with the Partial Messages extension, speaking Fulu's
//! `partial-columns` for one column of one block, in a task of its own: the reference peer of
//! the partial-column interop tests (pheme-network's) and of the observer's partial records
//! (the `pheme` binary's).
//!
//! Its application, written against libp2p's [`Partial`] trait ([`RefColumn`]), answers a
//! peer's metadata with the cells it wants, pushes the header when it does not know the peer's
//! metadata yet, and fills cells from its own "execution layer" ([`PartialPeer::local_cells`])
//! once it learns the block's header.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use libp2p::gossipsub::{
    self, AllowAllSubscriptionFilter, DataTransform, MessageAuthenticity, MessageId,
};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, identify};
use libp2p_gossipsub::partial_messages::{Metadata, Partial, PartialAction, PartialError};
use pheme_gossip::{PartsMetadata, decode_partial_sidecar};
use pheme_types::mainnet::fulu::{
    DataColumnSidecar, PartialDataColumnHeader, PartialDataColumnSidecar,
};
use pheme_types::primitives::{Cell, KzgProof};
use pheme_types::ssz_rs::{self, Bitlist, List};
use tokio::sync::{mpsc, oneshot};

use crate::raw::RawError;

/// `MAX_BLOB_COMMITMENTS_PER_BLOCK` (every preset Pheme speaks).
const B: usize = 4096;
/// Cells a received partial sidecar may carry (the blobs a test block has, with room).
const MAX_CELLS: usize = 128;

/// The caller's transform (the node's snappy transform lives above this crate).
struct Transform(Box<dyn DataTransform + Send>);

impl DataTransform for Transform {
    fn inbound_transform(
        &self,
        raw: gossipsub::RawMessage,
    ) -> Result<gossipsub::Message, std::io::Error> {
        self.0.inbound_transform(raw)
    }

    fn outbound_transform(
        &self,
        topic: &gossipsub::TopicHash,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, std::io::Error> {
        self.0.outbound_transform(topic, data)
    }
}

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct PartialBehaviour {
    gossipsub: gossipsub::Behaviour<Transform, AllowAllSubscriptionFilter>,
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

/// Any encoding failure, as libp2p's partial messages take it.
fn invalid<E>(_: E) -> PartialError {
    PartialError::InvalidFormat
}

/// One column of one block as a libp2p peer's application holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RefColumn {
    /// The group id (`0x00 || SSZ(PartialDataColumnGroupID)`).
    pub group: Vec<u8>,
    /// The block's header, once known.
    pub header: Option<PartialDataColumnHeader>,
    /// The cells held, by blob index (empty until the header says how many).
    pub cells: Vec<Option<(Cell, KzgProof)>>,
}

impl RefColumn {
    /// A proposer's column: the header and every cell of `s` (`None` when its block header
    /// does not merkleize).
    pub fn full(s: &DataColumnSidecar) -> Option<Self> {
        Some(Self {
            group: pheme_gossip::encode_group_id(pheme_types::root_of(
                &s.signed_block_header.message,
            )?),
            header: Some(header_of(s)),
            cells: cells_of(s).into_iter().map(Some).collect(),
        })
    }

    fn metadata_bytes(&self) -> Result<Vec<u8>, PartialError> {
        let mut m = PartsMetadata::new(self.cells.len());
        for (i, c) in self.cells.iter().enumerate() {
            m.set_available(i, c.is_some());
            m.set_requested(i, c.is_none());
        }
        m.encode::<B>().map_err(invalid)
    }

    /// `SSZ(PartialDataColumnSidecar)` with the cells `which` (all held) and maybe the header.
    pub fn encode(&self, header: bool, which: &[usize]) -> Result<Vec<u8>, PartialError> {
        let bits: Vec<bool> = (0..self.cells.len()).map(|i| which.contains(&i)).collect();
        let held: Vec<(Cell, KzgProof)> = which
            .iter()
            .map(|i| self.cells.get(*i).cloned().flatten())
            .collect::<Option<_>>()
            .ok_or(PartialError::InvalidFormat)?;
        let (cells, proofs): (Vec<Cell>, Vec<KzgProof>) = held.into_iter().unzip();
        let header: Vec<_> = self.header.clone().filter(|_| header).into_iter().collect();
        let sidecar = PartialDataColumnSidecar {
            cells_present_bitmap: Bitlist::try_from(bits.as_slice()).map_err(invalid)?,
            partial_column: List::try_from(cells).map_err(invalid)?,
            kzg_proofs: List::try_from(proofs).map_err(invalid)?,
            header: List::try_from(header).map_err(invalid)?,
        };
        ssz_rs::serialize(&sidecar).map_err(invalid)
    }

    /// Whether the header and every cell are held.
    pub fn complete(&self) -> bool {
        self.header.is_some() && self.cells.iter().all(Option::is_some)
    }

    /// Takes what a received `SSZ(PartialDataColumnSidecar)` brings: the header (the cells
    /// held locally then become the column's) and its cells.
    fn take(&mut self, bytes: &[u8], local: &HashMap<usize, (Cell, KzgProof)>) {
        let Ok(s) = decode_partial_sidecar::<B>(bytes, MAX_CELLS) else {
            return;
        };
        if self.header.is_none()
            && let Some(h) = s.header.first()
        {
            let n = h.kzg_commitments.len();
            self.header = Some(h.clone());
            self.cells = (0..n).map(|i| local.get(&i).cloned()).collect();
        }
        let present = s
            .cells_present_bitmap
            .iter()
            .by_vals()
            .enumerate()
            .filter(|(_, b)| *b)
            .map(|(i, _)| i);
        for (i, (c, p)) in present.zip(s.partial_column.iter().zip(s.kzg_proofs.iter())) {
            if let Some(slot) = self.cells.get_mut(i) {
                *slot = Some((c.clone(), p.clone()));
            }
        }
    }
}

impl Partial for RefColumn {
    fn group_id(&self) -> Vec<u8> {
        self.group.clone()
    }

    fn metadata(&self) -> Box<dyn Metadata> {
        Box::new(Meta(self.metadata_bytes().unwrap_or_default()))
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
            let send = match &self.header {
                Some(_) => Some((
                    self.encode(true, &[])?,
                    Box::new(Meta(Vec::new())) as Box<dyn Metadata>,
                )),
                None => None,
            };
            return Ok(PartialAction { need: true, send });
        };
        let theirs = PartsMetadata::decode::<B>(metadata).map_err(invalid)?;
        if theirs.len() != n {
            return Err(PartialError::InvalidFormat);
        }
        let give: Vec<usize> = theirs
            .wanted_cells()
            .filter(|i| self.cells[*i].is_some())
            .collect();
        let need = (0..n).any(|i| theirs.has(i) && self.cells[i].is_none());
        let send = if give.is_empty() {
            None
        } else {
            let mut after = theirs.clone();
            give.iter().for_each(|i| after.set_available(*i, true));
            let after = Meta(after.encode::<B>().map_err(invalid)?);
            Some((
                self.encode(false, &give)?,
                Box::new(after) as Box<dyn Metadata>,
            ))
        };
        Ok(PartialAction { need, send })
    }
}

/// The header of a column's block, as a partial sidecar carries it.
pub fn header_of(s: &DataColumnSidecar) -> PartialDataColumnHeader {
    PartialDataColumnHeader {
        kzg_commitments: s.kzg_commitments.clone(),
        signed_block_header: s.signed_block_header.clone(),
        kzg_commitments_inclusion_proof: s.kzg_commitments_inclusion_proof.clone(),
    }
}

/// A column's cells and proofs, by blob index.
pub fn cells_of(s: &DataColumnSidecar) -> Vec<(Cell, KzgProof)> {
    s.column
        .iter()
        .cloned()
        .zip(s.kzg_proofs.iter().cloned())
        .collect()
}

/// What a [`PartialPeer`] has seen: its column state, the partial bytes (group, parts,
/// metadata) it received, and the full messages it received.
#[derive(Debug, Clone, Default)]
pub struct PeerState {
    /// The column, once the peer published or heard of one.
    pub column: Option<RefColumn>,
    /// Partial-message bytes received.
    pub partial_bytes: usize,
    /// Full messages received (their data after the transform).
    pub full: Vec<Vec<u8>>,
}

enum Cmd {
    Dial(Multiaddr),
    Subscribe(String, bool),
    PublishPartial(String, Box<RefColumn>),
    LocalCells(HashMap<usize, (Cell, KzgProof)>),
    Mesh(String, oneshot::Sender<Vec<PeerId>>),
    State(oneshot::Sender<PeerState>),
}

/// A libp2p-gossipsub peer with the partial messages extension, in a task of its own (it ends
/// when this handle is dropped).
pub struct PartialPeer {
    /// Its peer id.
    pub peer: PeerId,
    cmds: mpsc::UnboundedSender<Cmd>,
}

impl PartialPeer {
    /// Starts one with the node's `transform` and message-id function (anonymous messages,
    /// messages validated and accepted, 700 ms heartbeats).
    pub fn start(
        transform: impl DataTransform + Send + 'static,
        message_id: impl Fn(&gossipsub::Message) -> MessageId + Send + Sync + 'static,
        max_transmit_size: usize,
    ) -> Result<PartialPeer, RawError> {
        let config = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Anonymous)
            .validate_messages()
            .message_id_fn(message_id)
            .max_transmit_size(max_transmit_size)
            .heartbeat_interval(Duration::from_millis(700))
            .build()
            .map_err(RawError::GossipsubConfig)?;
        let keypair = libp2p::identity::Keypair::generate_ed25519();
        let behaviour = PartialBehaviour {
            gossipsub: gossipsub::Behaviour::new_with_subscription_filter_and_transform(
                MessageAuthenticity::Anonymous,
                config,
                AllowAllSubscriptionFilter {},
                Transform(Box::new(transform)),
            )
            .map_err(RawError::Gossipsub)?,
            identify: identify::Behaviour::new(identify::Config::new(
                "eth2/1.0.0".into(),
                keypair.public(),
            )),
        };
        let mut swarm = crate::raw::swarm(keypair, behaviour)?;
        let peer = *swarm.local_peer_id();
        let (cmds, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut column: Option<(String, RefColumn)> = None;
            let mut local = HashMap::new();
            let mut state = PeerState::default();
            loop {
                tokio::select! {
                    event = swarm.select_next_some() => {
                        let SwarmEvent::Behaviour(PartialBehaviourEvent::Gossipsub(e)) = event else {
                            continue;
                        };
                        let gs = &mut swarm.behaviour_mut().gossipsub;
                        match e {
                            gossipsub::Event::Message { propagation_source, message_id, message } => {
                                state.full.push(message.data);
                                gs.report_message_validation_result(
                                    &message_id,
                                    &propagation_source,
                                    gossipsub::MessageAcceptance::Accept,
                                );
                            }
                            gossipsub::Event::Partial { topic_hash, group_id, message, metadata, .. } => {
                                state.partial_bytes += group_id.len()
                                    + message.as_ref().map_or(0, Vec::len)
                                    + metadata.as_ref().map_or(0, Vec::len);
                                let (topic, col) = column.get_or_insert_with(|| {
                                    (topic_hash.to_string(), RefColumn { group: group_id, header: None, cells: Vec::new() })
                                });
                                if let Some(bytes) = message {
                                    col.take(&bytes, &local);
                                }
                                if col.header.is_some() {
                                    let _ = gs.publish_partial(gossipsub::TopicHash::from_raw(topic.clone()), col.clone());
                                }
                            }
                            _ => {}
                        }
                    }
                    cmd = rx.recv() => {
                        let gs = &mut swarm.behaviour_mut().gossipsub;
                        match cmd {
                            Some(Cmd::Dial(a)) => {
                                let _ = swarm.dial(a);
                            }
                            Some(Cmd::Subscribe(t, partial)) => {
                                let topic = gossipsub::IdentTopic::new(t);
                                if partial {
                                    gs.enable_partials_for_topic(topic.hash(), true);
                                }
                                let _ = gs.subscribe(&topic);
                            }
                            Some(Cmd::PublishPartial(t, c)) => {
                                let _ = gs.publish_partial(gossipsub::TopicHash::from_raw(t.clone()), (*c).clone());
                                column = Some((t, *c));
                            }
                            Some(Cmd::LocalCells(cells)) => local = cells,
                            Some(Cmd::Mesh(t, reply)) => {
                                let m = gs.mesh_peers(&gossipsub::TopicHash::from_raw(t)).copied().collect();
                                let _ = reply.send(m);
                            }
                            Some(Cmd::State(reply)) => {
                                state.column = column.as_ref().map(|c| c.1.clone());
                                let _ = reply.send(state.clone());
                            }
                            None => break,
                        }
                    }
                }
            }
        });
        Ok(PartialPeer { peer, cmds })
    }

    fn send(&self, cmd: Cmd) {
        // The task ends only when this handle is dropped.
        let _ = self.cmds.send(cmd);
    }

    /// Dials `addr`.
    pub fn dial(&self, addr: &Multiaddr) {
        self.send(Cmd::Dial(addr.clone()));
    }

    /// Subscribes to `topic`, requesting partial messages on it when `partial`.
    pub fn subscribe(&self, topic: &str, partial: bool) {
        self.send(Cmd::Subscribe(topic.to_owned(), partial));
    }

    /// Publishes `column` on `topic` as partial messages (and keeps it as the app's state).
    pub fn publish_partial(&self, topic: &str, column: RefColumn) {
        self.send(Cmd::PublishPartial(topic.to_owned(), Box::new(column)));
    }

    /// The cells this peer's "execution layer" has, by blob index: they become the column's
    /// once a header arrives.
    pub fn local_cells(&self, cells: HashMap<usize, (Cell, KzgProof)>) {
        self.send(Cmd::LocalCells(cells));
    }

    /// Its mesh peers on `topic` (empty once the task is gone).
    pub async fn mesh(&self, topic: &str) -> Vec<PeerId> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Mesh(topic.to_owned(), tx));
        rx.await.unwrap_or_default()
    }

    /// What it has seen so far.
    pub async fn state(&self) -> PeerState {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::State(tx));
        rx.await.unwrap_or_default()
    }
}
