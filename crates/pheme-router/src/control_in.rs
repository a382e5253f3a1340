//! A received `ControlMessage` as the router reads it: GRAFT, PRUNE and the extensions decoded
//! by prost, the id lists (IHAVE, IWANT, IDONTWANT) checked and then read in place.
//!
//! An IHAVE at the router's limit lists 5,000 ids. Decoded into `Vec<Bytes>` each id costs a
//! handle on the frame (an atomic increment and decrement), which was half of what the router
//! spent on such a frame; read in place an id costs a varint and a slice.

use std::ops::Range;

use bytes::Bytes;
use prost::Message as _;

use crate::wire::{ControlExtensions, ControlGraft, ControlPrune, RpcParts, WireError, next_field};

/// `ControlMessage` with its id-list entries kept encoded (same tags, so the same bytes decode).
#[derive(Clone, PartialEq, prost::Message)]
struct ControlEncodedLists {
    #[prost(bytes = "bytes", repeated, tag = "1")]
    ihave: Vec<Bytes>,
    #[prost(bytes = "bytes", repeated, tag = "2")]
    iwant: Vec<Bytes>,
    #[prost(message, repeated, tag = "3")]
    graft: Vec<ControlGraft>,
    #[prost(message, repeated, tag = "4")]
    prune: Vec<ControlPrune>,
    #[prost(bytes = "bytes", repeated, tag = "5")]
    idontwant: Vec<Bytes>,
    #[prost(message, optional, tag = "6")]
    extensions: Option<ControlExtensions>,
}

/// A received control message.
#[derive(Debug, Default)]
pub(crate) struct ControlIn {
    pub ihave: Vec<IdList>,
    pub iwant: Vec<IdList>,
    pub graft: Vec<ControlGraft>,
    pub prune: Vec<ControlPrune>,
    pub idontwant: Vec<IdList>,
    pub extensions: Option<ControlExtensions>,
}

/// `ControlIHave.topic_id`; the ids' field in IHAVE, and in IWANT and IDONTWANT.
const TOPIC_FIELD: u64 = 1;
const IHAVE_IDS: u64 = 2;
const LIST_IDS: u64 = 1;

impl RpcParts {
    /// Decodes the control pieces (protobuf merges them) and checks every id list, so that a
    /// malformed one refuses the frame before any of it is acted on, as a full decode would.
    pub(crate) fn read_control(&self) -> Result<ControlIn, WireError> {
        let mut raw = ControlEncodedLists::default();
        for piece in &self.control {
            raw.merge(piece.clone()).map_err(|source| WireError::Part {
                part: "control",
                source,
            })?;
        }
        let lists = |bodies: Vec<Bytes>, ids: u64, topic: bool| {
            bodies
                .into_iter()
                .map(|b| IdList::read(b, ids, topic))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(ControlIn {
            ihave: lists(raw.ihave, IHAVE_IDS, true)?,
            iwant: lists(raw.iwant, LIST_IDS, false)?,
            graft: raw.graft,
            prune: raw.prune,
            idontwant: lists(raw.idontwant, LIST_IDS, false)?,
            extensions: raw.extensions,
        })
    }
}

/// One IHAVE, IWANT or IDONTWANT entry, checked, its ids read where they lie.
#[derive(Debug, Clone)]
pub(crate) struct IdList {
    body: Bytes,
    field: u64,
    topic: Option<Range<usize>>,
    len: usize,
}

impl IdList {
    /// Checks `body` (an encoded entry whose ids are field `field`; `topic`: it may name a
    /// topic in field 1, the last occurrence counting, as protobuf merges a singular field).
    /// Unknown fields are skipped; a field of the wrong wire type or a truncated one is an
    /// error.
    fn read(body: Bytes, field: u64, topic: bool) -> Result<Self, WireError> {
        let mut list = Self {
            body,
            field,
            topic: None,
            len: 0,
        };
        let mut at = 0;
        while let Some((f, value)) = next_field(&list.body, &mut at)? {
            match (f, value) {
                (f, Some(_)) if f == field => list.len += 1,
                (TOPIC_FIELD, Some(v)) if topic => list.topic = Some(v),
                (f, None) if f == field || (topic && f == TOPIC_FIELD) => {
                    return Err(WireError::Malformed { at });
                }
                _ => {}
            }
        }
        Ok(list)
    }

    /// The topic named, if any.
    pub fn topic(&self) -> Option<&[u8]> {
        self.topic.clone().map(|r| &self.body[r])
    }

    /// How many ids the entry lists.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The ids, in the order listed.
    pub fn ids(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            // Checked by `read`: an error cannot occur here, and would end the list.
            while let Ok(Some((f, value))) = next_field(&self.body, &mut at) {
                if f == self.field
                    && let Some(v) = value
                {
                    return Some(&self.body[v]);
                }
            }
            None
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use bytes::BytesMut;
    use proptest::prelude::*;

    use super::*;
    use crate::wire::{
        ControlIDontWant, ControlIHave, ControlIWant, ControlMessage, FrameLimits, split_rpc,
    };

    const LIMITS: FrameLimits = FrameLimits {
        max_control_bytes: 1 << 20,
        max_messages: 64,
    };

    fn parts_of(control: &ControlMessage) -> RpcParts {
        let frame = Bytes::from(crate::wire::encode_control_entry(control).to_vec());
        split_rpc(&frame, LIMITS).unwrap()
    }

    fn ids(list: &IdList) -> Vec<Vec<u8>> {
        list.ids().map(<[u8]>::to_vec).collect()
    }

    proptest! {
        /// What prost decodes from a control message, the reader reads in place.
        #[test]
        fn reads_what_prost_decodes(
            have in prop::collection::vec(
                (prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
                 prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..20)),
                0..4),
            want in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..20),
            dont in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..20),
        ) {
            let b = |v: &Vec<u8>| Bytes::from(v.clone());
            let control = ControlMessage {
                ihave: have.iter().map(|(t, ids)| ControlIHave {
                    topic_id: t.as_ref().map(b),
                    message_ids: ids.iter().map(b).collect(),
                }).collect(),
                iwant: vec![ControlIWant { message_ids: want.iter().map(b).collect() }],
                idontwant: vec![ControlIDontWant { message_ids: dont.iter().map(b).collect() }],
                ..ControlMessage::default()
            };
            let read = parts_of(&control).read_control().unwrap();
            prop_assert_eq!(read.ihave.len(), have.len());
            for (list, (topic, listed)) in read.ihave.iter().zip(&have) {
                prop_assert_eq!(list.topic().map(<[u8]>::to_vec), topic.clone());
                prop_assert_eq!(list.len(), listed.len());
                prop_assert_eq!(&ids(list), listed);
            }
            prop_assert_eq!(&ids(&read.iwant[0]), &want);
            prop_assert_eq!(&ids(&read.idontwant[0]), &dont);
        }

        /// Any bytes: an error or lists whose ids all lie within the entry, never a panic.
        #[test]
        fn arbitrary_entries_never_panic(body in prop::collection::vec(any::<u8>(), 0..200)) {
            let body = Bytes::from(body);
            if let Ok(list) = IdList::read(body.clone(), IHAVE_IDS, true) {
                prop_assert_eq!(list.ids().count(), list.len());
                prop_assert!(list.ids().all(|id| id.len() <= body.len()));
            }
        }
    }

    #[test]
    fn unknown_fields_are_skipped_and_the_last_topic_counts() {
        let mut body = BytesMut::new();
        for (key, value) in [
            (TOPIC_FIELD, &b"first"[..]),
            (IHAVE_IDS, b"id-1"),
            (9, b"an extension's field"),
            (TOPIC_FIELD, b"second"),
            (IHAVE_IDS, b"id-2"),
        ] {
            body.extend_from_slice(&[((key << 3) | 2) as u8, value.len() as u8]);
            body.extend_from_slice(value);
        }
        body.extend_from_slice(&[(7 << 3) as u8, 0x96, 0x01]); // a varint field 7
        let list = IdList::read(body.freeze(), IHAVE_IDS, true).unwrap();
        assert_eq!(list.topic(), Some(&b"second"[..]));
        assert_eq!(ids(&list), vec![b"id-1".to_vec(), b"id-2".to_vec()]);
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn a_truncated_or_mistyped_id_refuses_the_entry() {
        // An id claiming 10 bytes with 3 left.
        let truncated = Bytes::from_static(&[(2 << 3) | 2, 10, 1, 2, 3]);
        assert!(matches!(
            IdList::read(truncated, IHAVE_IDS, true),
            Err(WireError::Malformed { at: 0 })
        ));
        // The ids' field as a varint.
        let mistyped = Bytes::from_static(&[2 << 3, 5]);
        assert!(IdList::read(mistyped, IHAVE_IDS, true).is_err());
        // Wire type 3 (a group) is not protobuf 3.
        let group = Bytes::from_static(&[(4 << 3) | 3]);
        assert!(IdList::read(group, LIST_IDS, false).is_err());
    }
}
