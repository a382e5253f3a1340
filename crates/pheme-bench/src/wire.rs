//! The gossipsub wire format as the load peers speak it, built on `pheme-router`'s protobuf
//! types and encoders (one copy of the wire format in the workspace): length-prefixed RPCs
//! carrying subscriptions and published messages, and the mesh changes read back.

use pheme_router::wire::{ControlMessage, encode_publish_entry, encode_subscription_entry};
use prost::Message as _;

/// The protocol the load peers speak (gossipsub v1.2, so the node sends them IDONTWANT).
pub const MESHSUB: libp2p::StreamProtocol =
    libp2p::StreamProtocol::new(pheme_router::Protocol::V1_2.as_str());

/// What a load peer reads of the node's RPCs: only the control part (prost skips the
/// published messages, field 2, without copying them).
#[derive(Clone, PartialEq, prost::Message)]
struct ControlOnly {
    /// The control part.
    #[prost(message, optional, tag = "3")]
    control: Option<ControlMessage>,
}

/// A mesh change the node asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshChange {
    /// The node grafted the peer on this topic.
    Graft(String),
    /// The node pruned it.
    Prune(String),
}

fn topic(t: Option<bytes::Bytes>) -> Option<String> {
    t.and_then(|t| String::from_utf8(t.to_vec()).ok())
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
        if let Ok(ControlOnly { control: Some(c) }) = ControlOnly::decode(&buf[start..start + len])
        {
            let grafts = c.graft.into_iter().filter_map(|g| topic(g.topic_id));
            out.extend(grafts.map(MeshChange::Graft));
            let prunes = c.prune.into_iter().filter_map(|p| topic(p.topic_id));
            out.extend(prunes.map(MeshChange::Prune));
        }
        at = start + len;
    }
    buf.drain(..at);
    out
}

/// `entries` (RPC fields, which protobuf concatenates) as one length-prefixed RPC.
fn frame(entries: &[bytes::Bytes]) -> Vec<u8> {
    let len: usize = entries.iter().map(|e| e.len()).sum();
    let mut out = pheme_router::wire::length_prefix(len).to_vec();
    for e in entries {
        out.extend_from_slice(e);
    }
    out
}

/// One length-prefixed RPC subscribing to `topics`.
pub fn subscribe_frame<'a>(topics: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let entries: Vec<_> = topics
        .into_iter()
        .map(|t| encode_subscription_entry(t.as_bytes(), true))
        .collect();
    frame(&entries)
}

/// One length-prefixed RPC carrying one message, as rust-libp2p and the clients send them.
pub fn publish_frame(topic: &str, wire: &[u8]) -> Vec<u8> {
    frame(&[encode_publish_entry(topic.as_bytes(), wire)])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use pheme_router::wire::{ControlGraft, ControlPrune, Rpc};

    use super::*;

    #[test]
    fn frames_round_trip() {
        let f = publish_frame("/eth2/00000000/beacon_block/ssz_snappy", &[1, 2, 3]);
        let rpc = Rpc::decode_length_delimited(&f[..]).unwrap();
        assert_eq!(rpc.publish[0].data.as_deref(), Some(&[1u8, 2, 3][..]));
        assert_eq!(
            rpc.publish[0].topic.as_deref(),
            Some(&b"/eth2/00000000/beacon_block/ssz_snappy"[..])
        );
        let s = subscribe_frame(["a", "b"]);
        let rpc = Rpc::decode_length_delimited(&s[..]).unwrap();
        assert_eq!(rpc.subscriptions.len(), 2);
        assert_eq!(rpc.subscriptions[1].topic_id.as_deref(), Some(&b"b"[..]));
    }

    #[test]
    fn reads_grafts_and_prunes_across_partial_frames() {
        let graft = ControlOnly {
            control: Some(ControlMessage {
                graft: vec![ControlGraft {
                    topic_id: Some("t1".into()),
                }],
                prune: vec![ControlPrune {
                    topic_id: Some("t2".into()),
                    backoff: Some(60),
                    ..ControlPrune::default()
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
