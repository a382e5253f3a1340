//! How Ethereum consensus messages travel: gossip topic strings, the SSZ size bounds of every
//! gossip payload, snappy decompression that checks those bounds before it allocates (block
//! format for gossip, framed with a varint prefix for req/resp chunks), and the spec's
//! message-id, computed once per message together with the decompressed payload.
//!
//! ```
//! use pheme_codec::{GossipTopic, compress_block, decode_gossip, gossip_bounds};
//! use pheme_spec::{Fork, GossipKind, Network};
//!
//! let mainnet = Network::Mainnet.chain_spec().unwrap();
//! let topic: GossipTopic = "/eth2/8c9f62fe/beacon_attestation_5/ssz_snappy".parse().unwrap();
//! let bounds = gossip_bounds(&mainnet, topic.kind, Fork::Fulu);
//! let wire = compress_block(&[0u8; 240]); // a SingleAttestation's size
//! let decoded = decode_gossip(&topic.to_string(), Fork::Fulu, &wire, bounds);
//! assert_eq!(decoded.ssz.unwrap().len(), 240);
//! // A payload of the wrong size is refused from its preamble, before decompression.
//! let bad = decode_gossip(&topic.to_string(), Fork::Fulu, &compress_block(&[0u8; 241]), bounds);
//! assert!(bad.ssz.is_err());
//! ```

mod bounds;
mod message_id;
mod snappy;
mod topic;

pub use bounds::{MAX_SIGNED_INCLUSION_LIST_SIZE, SszBounds, gossip_bounds};
pub use message_id::{
    MESSAGE_DOMAIN_INVALID_SNAPPY, MESSAGE_DOMAIN_VALID_SNAPPY, MessageId, message_id,
};
pub use snappy::{
    ChunkError, SnappyError, compress_block, decode_chunk, decompress_block, decompress_block_into,
    encode_chunk, max_compressed_len,
};
pub use topic::{Encoding, GossipTopic, TopicError};

/// A gossip message after the transform: its id and, if the snappy data was within bounds and
/// sound, the SSZ bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedGossip {
    /// The message-id, from the decompressed bytes when they could be had, else from the raw data.
    pub message_id: MessageId,
    /// The SSZ payload, or why there is none (the message is then REJECTed).
    pub ssz: Result<Vec<u8>, SnappyError>,
}

/// Decompresses a gossip message within `bounds` and computes its message-id, in one pass over
/// the payload. Data that is not decompressed (out of bounds or corrupt) gets the
/// invalid-snappy message-id, as the spec's implementations do.
pub fn decode_gossip(
    topic: &str,
    fork: pheme_spec::Fork,
    data: &[u8],
    bounds: SszBounds,
) -> DecodedGossip {
    let mut ssz = Vec::new();
    let (message_id, result) = decode_gossip_into(topic, fork, data, bounds, &mut ssz);
    DecodedGossip {
        message_id,
        ssz: result.map(|()| ssz),
    }
}

/// [`decode_gossip`] into a reused buffer: `ssz` holds the payload when the result is `Ok`
/// (see [`decompress_block_into`]).
pub fn decode_gossip_into(
    topic: &str,
    fork: pheme_spec::Fork,
    data: &[u8],
    bounds: SszBounds,
    ssz: &mut Vec<u8>,
) -> (MessageId, Result<(), SnappyError>) {
    let result = decompress_block_into(data, bounds, ssz);
    let message_id = match &result {
        Ok(()) => message_id(fork, topic, Ok(ssz)),
        Err(_) => message_id(fork, topic, Err(data)),
    };
    (message_id, result)
}
