//! SSZ containers of every payload on Ethereum consensus gossip and of the req/resp messages
//! Pheme speaks, phase0 to heze, built on `ssz_rs`, with the Beacon API's JSON (integers as
//! decimal strings, bytes as 0x-hex).
//!
//! Containers whose sizes depend on the preset take them as const generics; [`mainnet`],
//! [`minimal`] and [`gnosis`] fill them in per fork, each fork re-exporting the previous one's
//! types: `mainnet::electra::SingleAttestation`, `minimal::deneb::BlobSidecar`.
//!
//! Each fork's containers are written out field by field, as the spec writes them, repeating
//! what a fork inherits: `ssz_rs`'s derive builds its identifiers from the field tokens' spans,
//! so it cannot run inside a `macro_rules!` that would share the repeated parts.
//!
//! ```
//! use pheme_types::mainnet::electra::SingleAttestation;
//! use ssz_rs::prelude::*;
//!
//! let mut att = SingleAttestation { committee_index: 3, attester_index: 1_000, ..Default::default() };
//! let bytes = ssz_rs::serialize(&att).unwrap();
//! assert_eq!(bytes.len(), 240); // fixed size, as the spec says
//! assert_eq!(SingleAttestation::deserialize(&bytes).unwrap(), att);
//! let json = serde_json::to_value(&att).unwrap();
//! assert_eq!(json["attester_index"], "1000");
//! assert_eq!(att.hash_tree_root().unwrap().as_ref().len(), 32);
//! ```

pub mod altair;
pub mod bellatrix;
pub mod capella;
pub mod deneb;
pub mod electra;
pub mod fulu;
pub mod gloas;
pub mod heze;
pub mod p2p;
pub mod phase0;
mod presets;
pub mod primitives;
pub mod progressive;

pub use presets::{gnosis, mainnet, minimal};
pub use ssz_rs;

/// Decodes SSZ bytes from the network. `ssz_rs` 0.9 indexes past the end of its input when a
/// list of variable-size elements (a block's attestations or transactions) holds an offset
/// beyond the list's bytes (`de.rs`, `deserialize_variable_homogeneous_composite`): a panic on
/// hostile bytes, in release builds too. Until that is fixed upstream, the decode runs under
/// `catch_unwind` and such a panic is an error like any other undecodable payload.
pub fn decode_untrusted<T: ssz_rs::Deserialize>(bytes: &[u8]) -> Result<T, UntrustedSszError> {
    match std::panic::catch_unwind(|| T::deserialize(bytes)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(UntrustedSszError::Invalid(SharedError::new(e))),
        Err(_) => Err(UntrustedSszError::DecoderPanicked),
    }
}

/// `hash_tree_root` of a container as 32 bytes (`None` when it cannot be merkleized: a list
/// over its bound). ssz_rs 0.9 merkleizes through `&mut self` (it caches); the clone keeps a
/// shared value immutable.
pub fn root_of<T: ssz_rs::Merkleized + Clone>(value: &T) -> Option<[u8; 32]> {
    let mut v = value.clone();
    let node = v.hash_tree_root().ok()?;
    node.as_ref().try_into().ok()
}

/// Why [`decode_untrusted`] refused bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UntrustedSszError {
    /// The SSZ decoder's error.
    #[error(transparent)]
    Invalid(SharedError<ssz_rs::DeserializeError>),
    /// The decoder panicked (an offset beyond the bytes of a list of variable-size elements).
    #[error("an SSZ offset beyond the end of its list")]
    DecoderPanicked,
}

/// An error of a crate whose errors are neither `Clone` nor `PartialEq` (ssz_rs, std::io),
/// shared so that the errors holding it can be both. Two are equal when their messages are
/// (rendered only when compared). `Display` and `source` are the inner error's.
#[derive(Debug)]
pub struct SharedError<E>(std::sync::Arc<E>);

impl<E> SharedError<E> {
    /// Wraps `error`.
    pub fn new(error: E) -> Self {
        SharedError(std::sync::Arc::new(error))
    }

    /// The inner error.
    pub fn get(&self) -> &E {
        &self.0
    }
}

impl<E> Clone for SharedError<E> {
    fn clone(&self) -> Self {
        SharedError(self.0.clone())
    }
}

impl<E: std::fmt::Display> PartialEq for SharedError<E> {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl<E: std::fmt::Display> Eq for SharedError<E> {}

impl<E: std::fmt::Display> std::fmt::Display for SharedError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: std::error::Error> std::error::Error for SharedError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
