//! SSZ bytes of a topic kind at a fork, with a preset's sizes, to the view its handler reads
//! (and, on request, the whole message as Beacon API JSON). The decoding itself is
//! [`GossipPayload::decode`]; these are the shortcuts for callers that want only the view.

use pheme_spec::{ChainSpec, Fork, GossipKind};

use crate::GossipMessage;
use crate::payload::{GossipPayload, SszError};

/// The SSZ bytes are not the topic's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a {kind} payload of {fork}")]
pub struct DecodeError {
    /// The topic kind.
    pub kind: GossipKind,
    /// The fork.
    pub fork: Fork,
    /// The SSZ decoder's error.
    #[source]
    pub source: SszError,
}

/// Decodes the SSZ payload of `kind` at `fork` with `chain`'s preset sizes into its view.
pub fn decode_message(
    chain: &ChainSpec,
    kind: GossipKind,
    fork: Fork,
    bytes: &[u8],
) -> Result<GossipMessage, DecodeError> {
    GossipPayload::decode(chain, kind, fork, bytes).map(|p| p.view())
}

/// [`decode_message`], plus the whole message as Beacon API JSON when `json` is set.
pub fn decode_with_json(
    chain: &ChainSpec,
    kind: GossipKind,
    fork: Fork,
    bytes: &[u8],
    json: bool,
) -> Result<(GossipMessage, Option<serde_json::Value>), DecodeError> {
    let payload = GossipPayload::decode(chain, kind, fork, bytes)?;
    let json = json.then(|| payload.to_json());
    Ok((payload.view(), json))
}
