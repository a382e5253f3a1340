//! Raw attackers: swarms that speak `/meshsub/1.1.0` themselves (over `libp2p-stream`), so they
//! can send control messages no gossipsub router would: GRAFTs during a prune backoff, IHAVEs of
//! messages they do not have. They accept the honest node's own gossipsub streams (and read them
//! to the end) so the honest node keeps gossipsub on for them. And [`gossipsub`]: plain
//! libp2p-gossipsub without a transform, which publishes whatever bytes it is given.
//!
//! The RPC is protobuf (gossipsub's `rpc.proto`, proto2) behind an unsigned-varint length,
//! through `pheme-router`'s prost types.

use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, identity::Keypair, noise, tcp, yamux};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The gossipsub protocol the raw attackers speak.
pub const MESHSUB: StreamProtocol = StreamProtocol::new(pheme_router::Protocol::V1_1.as_str());

/// A raw attacker could not start.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    /// The transport could not be built.
    #[error("transport")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The meshsub protocol was already registered on the stream behaviour.
    #[error("meshsub already registered")]
    AlreadyRegistered(#[source] libp2p_stream::AlreadyRegistered),
    /// libp2p-gossipsub refused its configuration.
    #[error("gossipsub config")]
    GossipsubConfig(#[source] libp2p::gossipsub::ConfigBuilderError),
    /// libp2p-gossipsub refused to start (its error is a fixed message).
    #[error("gossipsub: {0}")]
    Gossipsub(&'static str),
}

/// libp2p-gossipsub as an attacker runs it: anonymous, no transform (it publishes whatever
/// bytes it is given), message-ids from the data, frames up to 64 MiB, and every topic of a
/// node's first RPC taken (a Pheme node on every subnet announces hundreds at once, more than
/// libp2p-gossipsub's default takes).
pub type RawGossipsub = libp2p::gossipsub::Behaviour<
    libp2p::gossipsub::IdentityTransform,
    libp2p::gossipsub::MaxCountSubscriptionFilter<libp2p::gossipsub::AllowAllSubscriptionFilter>,
>;

/// A [`RawGossipsub`].
pub fn gossipsub() -> Result<RawGossipsub, RawError> {
    use libp2p::gossipsub;
    let config = gossipsub::ConfigBuilder::default()
        .max_transmit_size(64 << 20)
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .message_id_fn(|m: &gossipsub::Message| gossipsub::MessageId::from(m.data.clone()))
        .build()
        .map_err(RawError::GossipsubConfig)?;
    let filter = gossipsub::MaxCountSubscriptionFilter {
        filter: gossipsub::AllowAllSubscriptionFilter {},
        max_subscribed_topics: 10_000,
        max_subscriptions_per_request: 10_000,
    };
    gossipsub::Behaviour::new_with_subscription_filter(
        gossipsub::MessageAuthenticity::Anonymous,
        config,
        filter,
    )
    .map_err(RawError::Gossipsub)
}

/// A swarm on TCP (noise, yamux) with `behaviour`, as the raw attackers and Sybils dial.
pub fn swarm<B: libp2p::swarm::NetworkBehaviour>(
    keypair: Keypair,
    behaviour: B,
) -> Result<Swarm<B>, RawError> {
    Ok(libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| RawError::Transport(e.into()))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| RawError::Transport(e.into()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build())
}

/// A control message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// `SubOpts { subscribe: true, topic_id }`.
    Subscribe(String),
    /// `ControlGraft { topic_id }`.
    Graft(String),
    /// `ControlPrune { topic_id, backoff }` (seconds).
    Prune(String, u64),
    /// `ControlIHave { topic_id, message_ids }`.
    IHave(String, Vec<Vec<u8>>),
}

/// One framed RPC carrying `items` (a length prefix, then the `RPC` message).
pub fn encode_rpc(items: &[Control]) -> Vec<u8> {
    use pheme_router::wire::{
        ControlGraft, ControlIHave, ControlMessage, ControlPrune, Rpc, SubOpts,
    };
    use prost::Message as _;
    let topic = |t: &String| Some(bytes::Bytes::copy_from_slice(t.as_bytes()));
    let mut rpc = Rpc::default();
    let mut control = ControlMessage::default();
    for item in items {
        match item {
            Control::Subscribe(t) => rpc.subscriptions.push(SubOpts {
                subscribe: Some(true),
                topic_id: topic(t),
                ..Default::default()
            }),
            Control::Graft(t) => control.graft.push(ControlGraft { topic_id: topic(t) }),
            Control::Prune(t, backoff) => control.prune.push(ControlPrune {
                topic_id: topic(t),
                backoff: Some(*backoff),
                ..Default::default()
            }),
            Control::IHave(t, ids) => control.ihave.push(ControlIHave {
                topic_id: topic(t),
                message_ids: ids
                    .iter()
                    .map(|id| bytes::Bytes::copy_from_slice(id))
                    .collect(),
            }),
        }
    }
    if control != ControlMessage::default() {
        rpc.control = Some(control);
    }
    rpc.encode_length_delimited_to_vec()
}

/// What a raw attacker sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// GRAFT, PRUNE itself (so the honest node sets a backoff), then GRAFT every 100 ms.
    GraftFlood,
    /// IHAVE `ids` unknown message-ids per topic every 350 ms; never answer.
    IhaveSpam {
        /// Ids per topic in each IHAVE.
        ids: usize,
    },
}

/// A running raw attacker.
pub struct RawAttacker {
    /// Its peer id.
    pub peer: PeerId,
    /// Addresses it should dial.
    pub dial: mpsc::UnboundedSender<Multiaddr>,
    /// Its task.
    pub task: JoinHandle<()>,
}

/// Starts a raw attacker that runs `script` on `topics` against every peer it connects to,
/// starting `delay` after the connection.
pub fn start(
    keypair: Keypair,
    script: Script,
    topics: Vec<String>,
    delay: Duration,
    seed: u64,
) -> Result<RawAttacker, RawError> {
    let peer = keypair.public().to_peer_id();
    let behaviour = libp2p_stream::Behaviour::new();
    let mut control = behaviour.new_control();
    let mut incoming = control
        .accept(MESHSUB)
        .map_err(RawError::AlreadyRegistered)?;
    let mut swarm = swarm(keypair, behaviour)?;
    let (dial, mut dials) = mpsc::unbounded_channel::<Multiaddr>();
    let task = tokio::spawn(async move {
        let mut scripts: Vec<JoinHandle<()>> = Vec::new();
        let mut readers: Vec<JoinHandle<()>> = Vec::new();
        loop {
            tokio::select! {
                event = swarm.select_next_some() => {
                    if let SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } = event
                        && num_established.get() == 1
                    {
                        let n = scripts.len() as u64;
                        scripts.push(tokio::spawn(run_script(
                            control.clone(),
                            peer_id,
                            script,
                            topics.clone(),
                            delay,
                            seed.wrapping_mul(1 << 16) + n,
                        )));
                    }
                }
                Some((_, mut stream)) = incoming.next() => {
                    // Read the honest node's RPCs (IWANTs, PRUNEs) and drop them.
                    readers.push(tokio::spawn(async move {
                        let mut buf = vec![0u8; 16 * 1024];
                        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                    }));
                }
                addr = dials.recv() => match addr {
                    Some(addr) => {
                        if let Err(e) = swarm.dial(addr) {
                            tracing::debug!(target: "pheme::sim", error = %e, "raw dial refused");
                        }
                    }
                    None => break,
                },
            }
        }
        for t in scripts.into_iter().chain(readers) {
            t.abort();
        }
    });
    Ok(RawAttacker { peer, dial, task })
}

async fn run_script(
    mut control: libp2p_stream::Control,
    peer: PeerId,
    script: Script,
    topics: Vec<String>,
    delay: Duration,
    seed: u64,
) {
    let mut stream = match control.open_stream(peer, MESHSUB).await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(target: "pheme::sim", %peer, error = %e, "raw stream refused");
            return;
        }
    };
    let subscribe: Vec<Control> = topics.iter().cloned().map(Control::Subscribe).collect();
    if stream.write_all(&encode_rpc(&subscribe)).await.is_err() {
        return;
    }
    tokio::time::sleep(delay).await;
    let graft: Vec<Control> = topics.iter().cloned().map(Control::Graft).collect();
    match script {
        Script::GraftFlood => {
            let prune: Vec<Control> = topics
                .iter()
                .map(|t| Control::Prune(t.clone(), 60))
                .collect();
            let mut ok = stream.write_all(&encode_rpc(&graft)).await.is_ok();
            tokio::time::sleep(Duration::from_millis(300)).await;
            ok &= stream.write_all(&encode_rpc(&prune)).await.is_ok();
            while ok {
                tokio::time::sleep(Duration::from_millis(100)).await;
                ok = stream.write_all(&encode_rpc(&graft)).await.is_ok();
            }
        }
        Script::IhaveSpam { ids } => {
            let mut n = 0u64;
            loop {
                let ihave: Vec<Control> = topics
                    .iter()
                    .map(|t| {
                        let ids = (0..ids)
                            .map(|_| {
                                n += 1;
                                crate::fixtures::bytes(seed ^ (n << 24), 20)
                            })
                            .collect();
                        Control::IHave(t.clone(), ids)
                    })
                    .collect();
                if stream.write_all(&encode_rpc(&ihave)).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(350)).await;
            }
        }
    }
    let _ = stream.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_subscribe_and_graft() {
        let framed = encode_rpc(&[Control::Subscribe("t".into()), Control::Graft("t".into())]);
        // len=13 | RPC.subscriptions{subscribe=1, topic="t"} | RPC.control{graft{topic="t"}}
        assert_eq!(
            framed,
            vec![
                14, 0x0a, 5, 0x08, 1, 0x12, 1, b't', 0x1a, 5, 0x1a, 3, 0x0a, 1, b't'
            ]
        );
    }

    #[test]
    fn encodes_prune_backoff_and_ihave() {
        use prost::Message as _;
        let framed = encode_rpc(&[
            Control::Prune("t".into(), 60),
            Control::IHave("t".into(), vec![vec![7, 7]]),
        ]);
        let body = &framed[1..];
        assert_eq!(framed[0] as usize, body.len());
        // control{ihave{topic="t", ids=[0707]}, prune{topic="t", backoff=60}}, in field order
        assert_eq!(
            body,
            &[
                0x1a, 16, 0x0a, 7, 0x0a, 1, b't', 0x12, 2, 7, 7, 0x22, 5, 0x0a, 1, b't', 0x18, 60
            ]
        );
        let rpc = pheme_router::wire::Rpc::decode(body).unwrap();
        let c = rpc.control.unwrap();
        assert_eq!(c.prune[0].backoff, Some(60));
        assert_eq!(
            c.ihave[0].message_ids,
            vec![bytes::Bytes::from_static(&[7, 7])]
        );
    }
}
