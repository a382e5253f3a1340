//! The load peers: each a libp2p swarm of its own on loopback (TCP, noise, yamux) that speaks
//! gossipsub's wire format itself through a raw stream, so that sending a message costs the
//! generator a memcpy, not a router; whatever the node sends back is read and dropped.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{Multiaddr, PeerId, noise, tcp, yamux};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::BenchError;
use crate::wire::{MESHSUB, MeshChange, mesh_changes};

/// Batches a peer may have queued before the pacer waits for it (the node's TCP window
/// pushes back through this).
const PEER_QUEUE: usize = 16;

/// Which load peers the node has in its mesh, per topic, as its GRAFTs and PRUNEs say.
pub type Mesh = Arc<Mutex<HashMap<String, BTreeSet<usize>>>>;

/// The load peers; dropping them closes every connection.
#[derive(Debug)]
pub struct LoadPeers {
    senders: Vec<mpsc::Sender<Vec<u8>>>,
    tasks: Vec<JoinHandle<()>>,
    /// The node's mesh among the peers.
    pub mesh: Mesh,
}

impl Drop for LoadPeers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl LoadPeers {
    /// Connects `n` peers to the node at `addr`, opens a gossipsub stream from each and sends
    /// `hello` (the subscriptions) on it.
    pub async fn connect(
        n: usize,
        addr: &Multiaddr,
        node: PeerId,
        hello: &[u8],
    ) -> Result<Self, BenchError> {
        let mesh = Mesh::default();
        let mut joins = Vec::with_capacity(n);
        for index in 0..n {
            let link = Link {
                index,
                mesh: mesh.clone(),
            };
            joins.push(tokio::spawn(connect_one(
                addr.clone(),
                node,
                hello.to_vec(),
                link,
            )));
        }
        let mut peers = LoadPeers {
            senders: Vec::with_capacity(n),
            tasks: Vec::new(),
            mesh,
        };
        for j in joins {
            let (sender, tasks) = j.await.map_err(|e| BenchError::Peer(e.to_string()))??;
            peers.senders.push(sender);
            peers.tasks.extend(tasks);
        }
        Ok(peers)
    }

    /// Peers.
    pub fn len(&self) -> usize {
        self.senders.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    /// The peers the node has in its mesh for each topic.
    pub fn mesh(&self) -> HashMap<String, Vec<usize>> {
        self.mesh
            .lock()
            .map(|m| {
                m.iter()
                    .map(|(t, p)| (t.clone(), p.iter().copied().collect()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Queues `bytes` (whole frames) on peer `i`, waiting while its queue is full.
    pub async fn send(&self, i: usize, bytes: Vec<u8>) -> Result<(), BenchError> {
        self.senders[i]
            .send(bytes)
            .await
            .map_err(|_| BenchError::Peer(format!("load peer {i} lost its stream")))
    }
}

/// What one peer shares with the rest.
struct Link {
    index: usize,
    mesh: Mesh,
}

impl Link {
    /// Reads a stream from the node to its end, noting the mesh changes.
    async fn drain(&self, mut stream: libp2p::Stream) {
        let mut buf = vec![0u8; 64 * 1024];
        let mut pending = Vec::new();
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
            pending.extend_from_slice(&buf[..n]);
            let changes = mesh_changes(&mut pending);
            if changes.is_empty() {
                continue;
            }
            let Ok(mut mesh) = self.mesh.lock() else {
                break;
            };
            for c in changes {
                match c {
                    MeshChange::Graft(t) => mesh.entry(t).or_default().insert(self.index),
                    MeshChange::Prune(t) => mesh.entry(t).or_default().remove(&self.index),
                };
            }
        }
    }
}

async fn connect_one(
    addr: Multiaddr,
    node: PeerId,
    hello: Vec<u8>,
    link: Link,
) -> Result<(mpsc::Sender<Vec<u8>>, Vec<JoinHandle<()>>), BenchError> {
    let peer_err = |e: &dyn std::fmt::Display| BenchError::Peer(e.to_string());
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| peer_err(&e))?
        .with_behaviour(|_| libp2p_stream::Behaviour::new())
        .map_err(|e| peer_err(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    let mut control = swarm.behaviour().new_control();
    let mut incoming = control.accept(MESHSUB).map_err(|e| peer_err(&e))?;
    swarm.dial(addr).map_err(|e| peer_err(&e))?;
    let connected = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match swarm.select_next_some().await {
                libp2p::swarm::SwarmEvent::ConnectionEstablished { peer_id, .. }
                    if peer_id == node =>
                {
                    return Ok(());
                }
                libp2p::swarm::SwarmEvent::OutgoingConnectionError { error, .. } => {
                    return Err(peer_err(&error));
                }
                _ => {}
            }
        }
    });
    connected
        .await
        .map_err(|_| BenchError::Peer("no connection to the node within 20 s".into()))??;
    let mut tasks = vec![tokio::spawn(async move {
        loop {
            swarm.select_next_some().await;
        }
    })];
    tasks.push(tokio::spawn(async move {
        // The node opens one stream; a second would replace the first.
        let link = Arc::new(link);
        while let Some((_, stream)) = incoming.next().await {
            let link = link.clone();
            tokio::spawn(async move { link.drain(stream).await });
        }
    }));
    let mut stream =
        tokio::time::timeout(Duration::from_secs(20), control.open_stream(node, MESHSUB))
            .await
            .map_err(|_| BenchError::Peer("no gossipsub stream to the node within 20 s".into()))?
            .map_err(|e| peer_err(&e))?;
    stream.write_all(&hello).await?;
    stream.flush().await?;
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(PEER_QUEUE);
    tasks.push(tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if stream.write_all(&bytes).await.is_err() || stream.flush().await.is_err() {
                break;
            }
        }
    }));
    Ok((tx, tasks))
}
