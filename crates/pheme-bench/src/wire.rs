//! The gossipsub wire format, as far as a publisher needs it: an RPC carrying subscriptions and
//! published messages, each RPC a protobuf preceded by its unsigned-varint length.

use prost::Message as _;

/// The protocol the load peers speak (gossipsub v1.2, so the node sends them IDONTWANT).
pub const MESHSUB: libp2p::StreamProtocol = libp2p::StreamProtocol::new("/meshsub/1.2.0");

/// `RPC` of the gossipsub protobuf schema (the fields a publisher sends).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Rpc {
    /// Subscription changes.
    #[prost(message, repeated, tag = "1")]
    pub subscriptions: Vec<SubOpts>,
    /// Published messages.
    #[prost(message, repeated, tag = "2")]
    pub publish: Vec<PublishedMessage>,
    /// Control messages.
    #[prost(message, optional, tag = "3")]
    pub control: Option<ControlMessage>,
}

/// `RPC.SubOpts`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SubOpts {
    /// Subscribe (true) or unsubscribe.
    #[prost(bool, optional, tag = "1")]
    pub subscribe: Option<bool>,
    /// The topic.
    #[prost(string, optional, tag = "2")]
    pub topic_id: Option<String>,
}

/// `Message`, anonymous as the consensus spec requires (no `from`, `seqno`, `signature`, `key`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublishedMessage {
    /// The snappy-compressed SSZ payload.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub data: Option<Vec<u8>>,
    /// The topic.
    #[prost(string, required, tag = "4")]
    pub topic: String,
}

/// What a load peer reads of the node's RPCs: only the mesh changes (the rest is skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlOnly {
    /// The control part.
    #[prost(message, optional, tag = "3")]
    pub control: Option<ControlMessage>,
}

/// `ControlMessage`: IHAVE, GRAFT and PRUNE (IWANT and IDONTWANT are not sent by the load or
/// attack peers, and skipped when read).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlMessage {
    /// IHAVEs.
    #[prost(message, repeated, tag = "1")]
    pub ihave: Vec<ControlIHave>,
    /// GRAFTs.
    #[prost(message, repeated, tag = "3")]
    pub graft: Vec<TopicRef>,
    /// PRUNEs.
    #[prost(message, repeated, tag = "4")]
    pub prune: Vec<ControlPrune>,
}

/// `ControlGraft` (its topic).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TopicRef {
    /// The topic.
    #[prost(string, optional, tag = "1")]
    pub topic_id: Option<String>,
}

/// `ControlIHave`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlIHave {
    /// The topic.
    #[prost(string, optional, tag = "1")]
    pub topic_id: Option<String>,
    /// Ids of messages the sender says it has.
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub message_ids: Vec<Vec<u8>>,
}

/// `ControlPrune` (without peer exchange).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlPrune {
    /// The topic.
    #[prost(string, optional, tag = "1")]
    pub topic_id: Option<String>,
    /// Seconds the pruned peer must wait before grafting again (v1.1).
    #[prost(uint64, optional, tag = "3")]
    pub backoff: Option<u64>,
}

/// A mesh change the node asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshChange {
    /// The node grafted the peer on this topic.
    Graft(String),
    /// The node pruned it.
    Prune(String),
}

/// Takes the whole frames off the front of `buf` and returns the mesh changes they carry.
/// A frame that does not decode is skipped.
pub fn mesh_changes(buf: &mut Vec<u8>) -> Vec<MeshChange> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let Ok(len) = prost::decode_length_delimiter(&buf[at..]) else {
            break;
        };
        let start = at + prost::length_delimiter_len(len);
        if buf.len() < start + len {
            break;
        }
        if let Ok(ControlOnly {
            control: Some(c), ..
        }) = ControlOnly::decode(&buf[start..start + len])
        {
            out.extend(
                c.graft
                    .into_iter()
                    .filter_map(|g| g.topic_id.map(MeshChange::Graft)),
            );
            out.extend(
                c.prune
                    .into_iter()
                    .filter_map(|g| g.topic_id.map(MeshChange::Prune)),
            );
        }
        at = start + len;
    }
    buf.drain(..at);
    out
}

/// One length-prefixed RPC subscribing to `topics`.
pub fn subscribe_frame<'a>(topics: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    Rpc {
        subscriptions: topics
            .into_iter()
            .map(|t| SubOpts {
                subscribe: Some(true),
                topic_id: Some(t.to_owned()),
            })
            .collect(),
        ..Rpc::default()
    }
    .encode_length_delimited_to_vec()
}

/// One length-prefixed RPC carrying one message, as rust-libp2p and the clients send them.
pub fn publish_frame(topic: &str, wire: &[u8]) -> Vec<u8> {
    Rpc {
        subscriptions: Vec::new(),
        publish: vec![PublishedMessage {
            data: Some(wire.to_vec()),
            topic: topic.to_owned(),
        }],
        ..Rpc::default()
    }
    .encode_length_delimited_to_vec()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn frames_round_trip() {
        let f = publish_frame("/eth2/00000000/beacon_block/ssz_snappy", &[1, 2, 3]);
        let rpc = Rpc::decode_length_delimited(&f[..]).unwrap();
        assert_eq!(rpc.publish[0].data.as_deref(), Some(&[1u8, 2, 3][..]));
        assert_eq!(
            rpc.publish[0].topic,
            "/eth2/00000000/beacon_block/ssz_snappy"
        );
        let s = subscribe_frame(["a", "b"]);
        let rpc = Rpc::decode_length_delimited(&s[..]).unwrap();
        assert_eq!(rpc.subscriptions.len(), 2);
        assert_eq!(rpc.subscriptions[1].topic_id.as_deref(), Some("b"));
    }

    #[test]
    fn reads_grafts_and_prunes_across_partial_frames() {
        let graft = ControlOnly {
            control: Some(ControlMessage {
                graft: vec![TopicRef {
                    topic_id: Some("t1".into()),
                }],
                prune: vec![ControlPrune {
                    topic_id: Some("t2".into()),
                    backoff: Some(60),
                }],
                ..ControlMessage::default()
            }),
        }
        .encode_length_delimited_to_vec();
        let mut stream = publish_frame("t1", &[9; 300]);
        stream.extend_from_slice(&graft);
        let mut buf = stream[..stream.len() - 3].to_vec();
        assert_eq!(mesh_changes(&mut buf), vec![]);
        assert_eq!(buf.len(), graft.len() - 3);
        buf.extend_from_slice(&stream[stream.len() - 3..]);
        assert_eq!(
            mesh_changes(&mut buf),
            vec![
                MeshChange::Graft("t1".into()),
                MeshChange::Prune("t2".into())
            ]
        );
        assert!(buf.is_empty());
    }
}
