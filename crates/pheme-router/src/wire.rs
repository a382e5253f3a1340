//! Gossipsub's protobuf RPC (`pubsub/README.md`, gossipsub v1.0-v1.3 with the Partial Messages
//! extension, `RPC.partial` = field 10): the types, a bounded
//! reader that splits one frame into its parts before decoding any of them, and the encoders
//! the router's outbound frames are built from.
//!
//! Fields that carry bytes are [`Bytes`], so decoding a frame held in a `Bytes` slices it
//! instead of copying; topic strings are read as bytes too (strings and bytes share protobuf's
//! wire type) and looked up as they are.

use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message as _;

/// `RPC.SubOpts`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SubOpts {
    /// Subscribe (true) or unsubscribe.
    #[prost(bool, optional, tag = "1")]
    pub subscribe: Option<bool>,
    /// The topic.
    #[prost(bytes = "bytes", optional, tag = "2")]
    pub topic_id: Option<Bytes>,
    /// Partial Messages extension: the sender prefers partial messages on this topic
    /// (implies `supports_partial`).
    #[prost(bool, optional, tag = "3")]
    pub requests_partial: Option<bool>,
    /// Partial Messages extension: the sender can send partial messages on this topic
    /// (go's `supportsSendingPartial`).
    #[prost(bool, optional, tag = "4")]
    pub supports_partial: Option<bool>,
}

/// `Message`. Ethereum's gossip is anonymous (`StrictNoSign`): `from`, `seqno`, `signature` and
/// `key` must be absent, and the reader keeps only whether they were there.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WireMessage {
    /// Author (must be absent).
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub from: Option<Bytes>,
    /// Payload (for Ethereum: snappy-compressed SSZ).
    #[prost(bytes = "bytes", optional, tag = "2")]
    pub data: Option<Bytes>,
    /// Sequence number (must be absent).
    #[prost(bytes = "bytes", optional, tag = "3")]
    pub seqno: Option<Bytes>,
    /// Topic (`required` in the schema).
    #[prost(bytes = "bytes", optional, tag = "4")]
    pub topic: Option<Bytes>,
    /// Signature (must be absent).
    #[prost(bytes = "bytes", optional, tag = "5")]
    pub signature: Option<Bytes>,
    /// Signing key (must be absent).
    #[prost(bytes = "bytes", optional, tag = "6")]
    pub key: Option<Bytes>,
}

impl WireMessage {
    /// Whether any of the fields `StrictNoSign` forbids is present.
    pub fn is_signed(&self) -> bool {
        self.from.is_some()
            || self.seqno.is_some()
            || self.signature.is_some()
            || self.key.is_some()
    }
}

/// `ControlMessage`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlMessage {
    /// IHAVE.
    #[prost(message, repeated, tag = "1")]
    pub ihave: Vec<ControlIHave>,
    /// IWANT.
    #[prost(message, repeated, tag = "2")]
    pub iwant: Vec<ControlIWant>,
    /// GRAFT.
    #[prost(message, repeated, tag = "3")]
    pub graft: Vec<ControlGraft>,
    /// PRUNE.
    #[prost(message, repeated, tag = "4")]
    pub prune: Vec<ControlPrune>,
    /// IDONTWANT (v1.2).
    #[prost(message, repeated, tag = "5")]
    pub idontwant: Vec<ControlIDontWant>,
    /// The extensions the sender supports (v1.3): in its first frame, never twice.
    #[prost(message, optional, tag = "6")]
    pub extensions: Option<ControlExtensions>,
}

/// `ControlExtensions` (gossipsub v1.3).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlExtensions {
    /// The Partial Messages extension (canonical field 10).
    #[prost(bool, optional, tag = "10")]
    pub partial_messages: Option<bool>,
}

/// `PartialMessagesExtension`, the RPC's field 10: one part of a message that the application
/// splits into parts, named by its group, and what the sender has and wants of it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PartialMessagesExtension {
    /// The topic.
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub topic_id: Option<Bytes>,
    /// The application's name for the whole message.
    #[prost(bytes = "bytes", optional, tag = "2")]
    pub group_id: Option<Bytes>,
    /// Parts, encoded by the application.
    #[prost(bytes = "bytes", optional, tag = "3")]
    pub partial_message: Option<Bytes>,
    /// What the sender has and wants, encoded by the application (the latest one counts).
    #[prost(bytes = "bytes", optional, tag = "4")]
    pub parts_metadata: Option<Bytes>,
}

/// `ControlIHave`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlIHave {
    /// Topic.
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub topic_id: Option<Bytes>,
    /// Ids the sender has.
    #[prost(bytes = "bytes", repeated, tag = "2")]
    pub message_ids: Vec<Bytes>,
}

/// `ControlIWant`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlIWant {
    /// Ids the sender wants.
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub message_ids: Vec<Bytes>,
}

/// `ControlGraft`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlGraft {
    /// Topic.
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub topic_id: Option<Bytes>,
}

/// `ControlPrune`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlPrune {
    /// Topic.
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub topic_id: Option<Bytes>,
    /// Peer exchange (v1.1).
    #[prost(message, repeated, tag = "2")]
    pub peers: Vec<PeerInfo>,
    /// Backoff in seconds (v1.1).
    #[prost(uint64, optional, tag = "3")]
    pub backoff: Option<u64>,
}

/// `PeerInfo` in a PRUNE's peer exchange.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PeerInfo {
    /// The peer id's bytes.
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub peer_id: Option<Bytes>,
    /// A signed envelope holding the peer's record.
    #[prost(bytes = "bytes", optional, tag = "2")]
    pub signed_peer_record: Option<Bytes>,
}

/// `ControlIDontWant` (v1.2).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlIDontWant {
    /// Ids the sender does not want.
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub message_ids: Vec<Bytes>,
}

/// `RPC` as a whole, for peers and tests that build one (the router reads frames with
/// [`split_rpc`] and writes them part by part).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Rpc {
    /// Subscriptions.
    #[prost(message, repeated, tag = "1")]
    pub subscriptions: Vec<SubOpts>,
    /// Messages.
    #[prost(message, repeated, tag = "2")]
    pub publish: Vec<WireMessage>,
    /// Control.
    #[prost(message, optional, tag = "3")]
    pub control: Option<ControlMessage>,
    /// A partial message (Partial Messages extension).
    #[prost(message, optional, tag = "10")]
    pub partial: Option<PartialMessagesExtension>,
}

/// Bounds on what one inbound frame may hold, checked while splitting it, before any part is
/// decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Subscription and control bytes together.
    pub max_control_bytes: usize,
    /// Messages in one frame.
    pub max_messages: usize,
}

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The frame is not a protobuf message.
    #[error("malformed protobuf at byte {at}")]
    Malformed {
        /// Where the reader stopped.
        at: usize,
    },
    /// Subscriptions and control together exceed the limit.
    #[error("{bytes} bytes of subscriptions and control; the limit is {limit}")]
    ControlTooLarge {
        /// Bytes found (at the point the reader stopped).
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// More messages than the limit.
    #[error("more than {limit} messages in one frame")]
    TooManyMessages {
        /// The limit.
        limit: usize,
    },
    /// A part did not decode.
    #[error("malformed {part}")]
    Part {
        /// Which part.
        part: &'static str,
        /// Prost's reason.
        #[source]
        source: prost::DecodeError,
    },
}

/// One frame split into its top-level parts, each still encoded.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RpcParts {
    /// Encoded `SubOpts`.
    pub subscriptions: Vec<Bytes>,
    /// Encoded `Message`s.
    pub messages: Vec<Bytes>,
    /// Encoded `ControlMessage` pieces (protobuf merges repeated occurrences).
    pub control: Vec<Bytes>,
    /// Encoded `PartialMessagesExtension` pieces (a singular field: protobuf merges repeated
    /// occurrences into one).
    pub partial: Vec<Bytes>,
    /// Top-level fields the router does not know (extensions), skipped.
    pub unknown_fields: usize,
}

impl RpcParts {
    /// Decodes the control pieces into one `ControlMessage` (empty when there are none).
    pub fn decode_control(&self) -> Result<ControlMessage, WireError> {
        let mut control = ControlMessage::default();
        for piece in &self.control {
            control
                .merge(piece.clone())
                .map_err(|source| WireError::Part {
                    part: "control",
                    source,
                })?;
        }
        Ok(control)
    }

    /// Decodes the partial message pieces into one (`None` when there are none).
    pub fn decode_partial(&self) -> Result<Option<PartialMessagesExtension>, WireError> {
        if self.partial.is_empty() {
            return Ok(None);
        }
        let mut partial = PartialMessagesExtension::default();
        for piece in &self.partial {
            partial
                .merge(piece.clone())
                .map_err(|source| WireError::Part {
                    part: "partial",
                    source,
                })?;
        }
        Ok(Some(partial))
    }
}

#[inline]
pub(crate) fn varint(buf: &[u8], at: &mut usize) -> Result<u64, WireError> {
    // One byte: every key, and the length of every message-id and topic name.
    if let Some(&b) = buf.get(*at)
        && b < 0x80
    {
        *at += 1;
        return Ok(u64::from(b));
    }
    let (v, rest) =
        unsigned_varint::decode::u64(&buf[*at..]).map_err(|_| WireError::Malformed { at: *at })?;
    *at = buf.len() - rest.len();
    Ok(v)
}

/// A field's number and, if it is length-delimited, where its bytes lie.
pub(crate) type Field = (u64, Option<Range<usize>>);

/// The next field of `buf` from `at`; `None` at the end.
#[inline]
pub(crate) fn next_field(buf: &[u8], at: &mut usize) -> Result<Option<Field>, WireError> {
    if *at >= buf.len() {
        return Ok(None);
    }
    let key_at = *at;
    let key = varint(buf, at)?;
    let value = match key & 7 {
        0 => {
            varint(buf, at)?;
            None
        }
        1 | 5 => {
            let n = if key & 7 == 1 { 8 } else { 4 };
            if buf.len() - *at < n {
                return Err(WireError::Malformed { at: key_at });
            }
            *at += n;
            None
        }
        2 => {
            let len = varint(buf, at)?;
            let len = usize::try_from(len).map_err(|_| WireError::Malformed { at: key_at })?;
            if buf.len() - *at < len {
                return Err(WireError::Malformed { at: key_at });
            }
            let v = *at..*at + len;
            *at += len;
            Some(v)
        }
        _ => return Err(WireError::Malformed { at: key_at }),
    };
    Ok(Some((key >> 3, value)))
}

/// Splits one RPC frame (without its length prefix) into its top-level parts, slicing `frame`,
/// and checks `limits` as it goes: nothing is decoded or allocated per part beyond a slice
/// handle until the frame is known to be within bounds.
pub fn split_rpc(frame: &Bytes, limits: FrameLimits) -> Result<RpcParts, WireError> {
    let buf: &[u8] = frame;
    let mut at = 0;
    let mut parts = RpcParts::default();
    let mut control_bytes = 0usize;
    while let Some((field, value)) = next_field(buf, &mut at)? {
        let Some(range) = value else {
            parts.unknown_fields += 1;
            continue;
        };
        let len = range.len();
        let part = frame.slice(range);
        match field {
            1 | 3 => {
                control_bytes += len;
                if control_bytes > limits.max_control_bytes {
                    return Err(WireError::ControlTooLarge {
                        bytes: control_bytes,
                        limit: limits.max_control_bytes,
                    });
                }
                if field == 1 {
                    parts.subscriptions.push(part);
                } else {
                    parts.control.push(part);
                }
            }
            2 => {
                if parts.messages.len() >= limits.max_messages {
                    return Err(WireError::TooManyMessages {
                        limit: limits.max_messages,
                    });
                }
                parts.messages.push(part);
            }
            10 => parts.partial.push(part),
            _ => parts.unknown_fields += 1,
        }
    }
    Ok(parts)
}

/// Appends a length-delimited field (`tag`, wire type 2) holding `len` bytes' header.
fn put_field_header(buf: &mut BytesMut, tag: u32, len: usize) {
    put_varint(buf, (u64::from(tag) << 3) | 2);
    put_varint(buf, len as u64);
}

#[inline]
fn put_varint(buf: &mut BytesMut, v: u64) {
    if v < 0x80 {
        buf.put_u8(v as u8);
        return;
    }
    let mut tmp = unsigned_varint::encode::u64_buffer();
    buf.put_slice(unsigned_varint::encode::u64(v, &mut tmp));
}

/// The length of `v` as a varint (seven bits a byte).
pub fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// One anonymous message encoded as an RPC's `publish` entry (field 2, with its key and
/// length): built once per message and shared by every frame that carries it, since protobuf
/// concatenates repeated fields.
pub fn encode_publish_entry(topic: &[u8], data: &[u8]) -> Bytes {
    let inner = 1
        + varint_len(data.len() as u64)
        + data.len()
        + 1
        + varint_len(topic.len() as u64)
        + topic.len();
    let mut buf = BytesMut::with_capacity(inner + 1 + varint_len(inner as u64));
    put_field_header(&mut buf, 2, inner);
    put_field_header(&mut buf, 2, data.len());
    buf.put_slice(data);
    put_field_header(&mut buf, 4, topic.len());
    buf.put_slice(topic);
    buf.freeze()
}

/// A `SubOpts` entry (field 1 of the RPC).
pub fn encode_subscription_entry(topic: &[u8], subscribe: bool) -> Bytes {
    encode_subscription_opts(topic, subscribe, None)
}

/// A `SubOpts` entry with the Partial Messages flags: `partial` is `Some(requests)` on a
/// topic where this node supports partial messages (and requests them, if `requests`).
pub fn encode_subscription_opts(topic: &[u8], subscribe: bool, partial: Option<bool>) -> Bytes {
    let flags = match partial {
        Some(true) => 4,
        Some(false) => 2,
        None => 0,
    };
    let inner = 2 + 1 + varint_len(topic.len() as u64) + topic.len() + flags;
    let mut buf = BytesMut::with_capacity(inner + 4);
    put_field_header(&mut buf, 1, inner);
    put_varint(&mut buf, 1 << 3);
    put_varint(&mut buf, u64::from(subscribe));
    put_field_header(&mut buf, 2, topic.len());
    buf.put_slice(topic);
    if let Some(requests) = partial {
        if requests {
            put_varint(&mut buf, 3 << 3);
            put_varint(&mut buf, 1);
        }
        put_varint(&mut buf, 4 << 3);
        put_varint(&mut buf, 1);
    }
    buf.freeze()
}

/// A partial message as the RPC's field 10 (one per frame: the field is singular).
pub fn encode_partial_entry(partial: &PartialMessagesExtension) -> Bytes {
    let len = partial.encoded_len();
    let mut buf = BytesMut::with_capacity(len + 1 + varint_len(len as u64));
    put_field_header(&mut buf, 10, len);
    partial.encode(&mut buf).ok();
    buf.freeze()
}

/// A `ControlMessage` as the RPC's field 3.
pub fn encode_control_entry(control: &ControlMessage) -> Bytes {
    let len = control.encoded_len();
    let mut buf = BytesMut::with_capacity(len + 1 + varint_len(len as u64));
    put_field_header(&mut buf, 3, len);
    control.encode(&mut buf).ok();
    buf.freeze()
}

/// A `ControlMessage` as the RPC's field 3 whose body is the encoding of `head` followed by
/// `raw` pieces (pre-encoded repeated entries of `ControlMessage`, which protobuf concatenates):
/// the header and `head`'s encoding, to be followed by the pieces.
pub fn encode_control_head(head: &ControlMessage, raw_len: usize) -> Bytes {
    let len = head.encoded_len();
    let mut buf = BytesMut::with_capacity(len + 6);
    put_field_header(&mut buf, 3, len + raw_len);
    head.encode(&mut buf).ok();
    buf.freeze()
}

/// Appends `id` as field `tag` of an id list (`ControlIWant.message_ids` is 1).
pub(crate) fn put_id(buf: &mut BytesMut, tag: u32, id: &[u8]) {
    put_field_header(buf, tag, id.len());
    buf.put_slice(id);
}

/// The key and length of a length-delimited field `tag` holding `len` bytes.
pub(crate) fn field_header(tag: u32, len: usize) -> Bytes {
    let mut buf = BytesMut::with_capacity(12);
    put_field_header(&mut buf, tag, len);
    buf.freeze()
}

/// A message-id as `ControlIHave.message_ids` (field 2) encodes it.
pub fn id_field(id: &[u8]) -> BytesMut {
    let mut buf = BytesMut::with_capacity(id_entry_len(id.len()));
    put_id(&mut buf, 2, id);
    buf
}

/// A `ControlMessage.ihave` entry (field 1) for `topic` whose ids are `ids`, already encoded
/// as [`id_field`]s: built once, shared by every peer the gossip goes to.
pub fn ihave_entry(topic: &[u8], ids: &[u8]) -> Bytes {
    let inner = 1 + varint_len(topic.len() as u64) + topic.len() + ids.len();
    let mut buf = BytesMut::with_capacity(inner + 6);
    put_field_header(&mut buf, 1, inner);
    put_field_header(&mut buf, 1, topic.len());
    buf.put_slice(topic);
    buf.put_slice(ids);
    buf.freeze()
}

/// The unsigned-varint length prefix of a frame of `len` bytes.
pub fn length_prefix(len: usize) -> Bytes {
    let mut buf = BytesMut::with_capacity(10);
    put_varint(&mut buf, len as u64);
    buf.freeze()
}

/// The bytes one message-id costs in an IHAVE, IWANT or IDONTWANT (key, length, id).
pub fn id_entry_len(id_len: usize) -> usize {
    1 + varint_len(id_len as u64) + id_len
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const LIMITS: FrameLimits = FrameLimits {
        max_control_bytes: 1 << 16,
        max_messages: 64,
    };

    #[test]
    fn hand_encoded_entries_decode_with_prost() {
        let mut frame = BytesMut::new();
        frame.put_slice(&encode_subscription_entry(b"/t/a", true));
        frame.put_slice(&encode_publish_entry(b"/t/a", &[7; 300]));
        frame.put_slice(&encode_publish_entry(b"/t/b", &[]));
        let control = ControlMessage {
            graft: vec![ControlGraft {
                topic_id: Some(Bytes::from_static(b"/t/a")),
            }],
            ..Default::default()
        };
        frame.put_slice(&encode_control_entry(&control));
        let frame = frame.freeze();
        let rpc = Rpc::decode(frame.clone()).unwrap();
        assert_eq!(rpc.subscriptions[0].subscribe, Some(true));
        assert_eq!(rpc.subscriptions[0].topic_id.as_deref(), Some(&b"/t/a"[..]));
        assert_eq!(rpc.publish.len(), 2);
        assert_eq!(rpc.publish[0].data.as_deref(), Some(&[7u8; 300][..]));
        assert_eq!(rpc.publish[1].topic.as_deref(), Some(&b"/t/b"[..]));
        assert_eq!(rpc.control.as_ref(), Some(&control));
        let parts = split_rpc(&frame, LIMITS).unwrap();
        assert_eq!(
            (
                parts.subscriptions.len(),
                parts.messages.len(),
                parts.control.len()
            ),
            (1, 2, 1)
        );
        assert_eq!(parts.decode_control().unwrap(), control);
        let m = WireMessage::decode(parts.messages[0].clone()).unwrap();
        assert!(!m.is_signed());
    }

    #[test]
    fn partial_flags_and_partial_messages_decode_with_prost() {
        for (partial, flags) in [
            (None, (None, None)),
            (Some(false), (None, Some(true))),
            (Some(true), (Some(true), Some(true))),
        ] {
            let entry = encode_subscription_opts(b"/t/a", true, partial);
            let rpc = Rpc::decode(entry).unwrap();
            let s = &rpc.subscriptions[0];
            assert_eq!((s.requests_partial, s.supports_partial), flags);
            assert_eq!(s.topic_id.as_deref(), Some(&b"/t/a"[..]));
        }
        let m = PartialMessagesExtension {
            topic_id: Some(Bytes::from_static(b"/t/a")),
            group_id: Some(Bytes::from_static(b"\x00g")),
            partial_message: Some(Bytes::from(vec![9u8; 3000])),
            parts_metadata: Some(Bytes::from_static(b"m")),
        };
        let mut frame = BytesMut::new();
        frame.put_slice(&encode_publish_entry(b"/t/a", b"x"));
        frame.put_slice(&encode_partial_entry(&m));
        let frame = frame.freeze();
        assert_eq!(Rpc::decode(frame.clone()).unwrap().partial, Some(m.clone()));
        let parts = split_rpc(&frame, LIMITS).unwrap();
        assert_eq!((parts.messages.len(), parts.unknown_fields), (1, 0));
        assert_eq!(parts.decode_partial().unwrap(), Some(m));
    }

    #[test]
    fn ihave_entries_concatenate_into_a_control_message() {
        let ids: Vec<Bytes> = (0..5u8).map(|i| Bytes::from(vec![i; 20])).collect();
        let pieces: Vec<Bytes> = ids
            .chunks(2)
            .map(|c| {
                let body: Vec<u8> = c.iter().flat_map(|id| id_field(id).to_vec()).collect();
                ihave_entry(b"/t", &body)
            })
            .collect();
        assert_eq!(pieces.len(), 3);
        let head = ControlMessage {
            graft: vec![ControlGraft {
                topic_id: Some(Bytes::from_static(b"/g")),
            }],
            ..Default::default()
        };
        let raw: usize = pieces.iter().map(Bytes::len).sum();
        let mut frame = BytesMut::new();
        frame.put_slice(&encode_control_head(&head, raw));
        for p in &pieces {
            frame.put_slice(p);
        }
        let rpc = Rpc::decode(frame.freeze()).unwrap();
        let c = rpc.control.unwrap();
        assert_eq!(c.graft, head.graft);
        assert_eq!(c.ihave.len(), 3);
        let got: Vec<Bytes> = c.ihave.iter().flat_map(|i| i.message_ids.clone()).collect();
        assert_eq!(got, ids);
        assert!(
            c.ihave
                .iter()
                .all(|i| i.topic_id.as_deref() == Some(&b"/t"[..]))
        );
    }

    #[test]
    fn varint_lengths_match_the_encoder() {
        for v in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut tmp = unsigned_varint::encode::u64_buffer();
            assert_eq!(
                varint_len(v),
                unsigned_varint::encode::u64(v, &mut tmp).len(),
                "{v}"
            );
        }
    }

    #[test]
    fn limits_are_checked_before_decoding() {
        let mut frame = BytesMut::new();
        for _ in 0..65 {
            frame.put_slice(&encode_publish_entry(b"t", b"x"));
        }
        assert_eq!(
            split_rpc(&frame.freeze(), LIMITS),
            Err(WireError::TooManyMessages { limit: 64 })
        );
        let mut frame = BytesMut::new();
        for i in 0..10_000u32 {
            frame.put_slice(&encode_subscription_entry(
                format!("/topic/{i}").as_bytes(),
                true,
            ));
        }
        assert!(matches!(
            split_rpc(&frame.freeze(), LIMITS),
            Err(WireError::ControlTooLarge { .. })
        ));
        // Truncated length, group wire types and bad varints are malformed.
        for bad in [&[0x12, 0x05, 1][..], &[0x0b][..], &[0xff; 11][..]] {
            assert!(matches!(
                split_rpc(&Bytes::copy_from_slice(bad), LIMITS),
                Err(WireError::Malformed { .. })
            ));
        }
    }
}
