//! The spec's gossip message-id.

use pheme_spec::Fork;
use sha2::{Digest, Sha256};

/// `MESSAGE_DOMAIN_INVALID_SNAPPY`.
pub const MESSAGE_DOMAIN_INVALID_SNAPPY: [u8; 4] = [0, 0, 0, 0];
/// `MESSAGE_DOMAIN_VALID_SNAPPY`.
pub const MESSAGE_DOMAIN_VALID_SNAPPY: [u8; 4] = [1, 0, 0, 0];

/// A 20-byte gossip message-id.
pub type MessageId = [u8; 20];

/// The message-id of a message on `topic` (the full topic string) of a `fork` digest:
/// `SHA256(domain ++ [uint64_le(len(topic)) ++ topic, from altair on] ++ bytes)[:20]`, where
/// `bytes` is the decompressed payload with the valid-snappy domain, or the raw data with the
/// invalid-snappy domain when it could not (or may not) be decompressed.
pub fn message_id(fork: Fork, topic: &str, payload: Result<&[u8], &[u8]>) -> MessageId {
    let mut hasher = Sha256::new();
    let bytes = match payload {
        Ok(decompressed) => {
            hasher.update(MESSAGE_DOMAIN_VALID_SNAPPY);
            decompressed
        }
        Err(raw) => {
            hasher.update(MESSAGE_DOMAIN_INVALID_SNAPPY);
            raw
        }
    };
    if fork >= Fork::Altair {
        hasher.update((topic.len() as u64).to_le_bytes());
        hasher.update(topic.as_bytes());
    }
    hasher.update(bytes);
    let digest = hasher.finalize();
    let mut id = [0u8; 20];
    id.copy_from_slice(&digest[..20]);
    id
}
