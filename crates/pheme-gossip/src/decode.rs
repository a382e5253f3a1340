//! SSZ bytes of a topic kind at a fork, with a preset's sizes, to the view its handler reads
//! (and, on request, the whole message as Beacon API JSON).

use pheme_spec::{ChainSpec, Fork, GossipKind, PresetBase};
use pheme_types::ssz_rs::Deserialize;

use crate::GossipMessage;

/// The SSZ bytes are not the topic's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a {kind} payload of {fork}: {reason}")]
pub struct DecodeError {
    /// The topic kind.
    pub kind: GossipKind,
    /// The fork.
    pub fork: Fork,
    /// The SSZ decoder's message.
    pub reason: String,
}

type Decoded = (GossipMessage, Option<serde_json::Value>);

/// Decodes `T`, builds its view, and its JSON when asked.
fn ssz<T: Deserialize + serde::Serialize>(
    bytes: &[u8],
    json: bool,
    view: impl FnOnce(&T) -> GossipMessage,
) -> Result<Decoded, String> {
    fixed(bytes, json, pheme_types::decode_untrusted::<T>, view)
}

/// [`ssz`] with a fixed-offset decoder (see [`crate::fixed`]).
fn fixed<T: serde::Serialize, E: std::fmt::Display>(
    bytes: &[u8],
    json: bool,
    decode: impl FnOnce(&[u8]) -> Result<T, E>,
    view: impl FnOnce(&T) -> GossipMessage,
) -> Result<Decoded, String> {
    let value = decode(bytes).map_err(|e| e.to_string())?;
    let json = if json {
        Some(serde_json::to_value(&value).map_err(|e| e.to_string())?)
    } else {
        None
    };
    Ok((view(&value), json))
}

macro_rules! by_fork {
    ($p:ident, $fork:expr, $kind:expr, $b:expr, $j:expr) => {{
        use pheme_types::$p as p;
        let (b, j) = ($b, $j);
        match ($kind, $fork) {
            (GossipKind::BeaconBlock, Fork::Phase0) => {
                ssz::<p::phase0::SignedBeaconBlock>(b, j, |m| GossipMessage::Block(m.into()))
            }
            (GossipKind::BeaconBlock, Fork::Altair) => {
                ssz::<p::altair::SignedBeaconBlock>(b, j, |m| GossipMessage::Block(m.into()))
            }
            (GossipKind::BeaconBlock, Fork::Bellatrix) => {
                ssz::<p::bellatrix::SignedBeaconBlock>(b, j, |m| GossipMessage::Block(m.into()))
            }
            (GossipKind::BeaconBlock, Fork::Capella) => {
                ssz::<p::capella::SignedBeaconBlock>(b, j, |m| GossipMessage::Block(m.into()))
            }
            (GossipKind::BeaconBlock, Fork::Deneb) => {
                ssz::<p::deneb::SignedBeaconBlock>(b, j, |m| GossipMessage::Block(m.into()))
            }
            (GossipKind::BeaconBlock, _) => {
                ssz::<p::electra::SignedBeaconBlock>(b, j, |m| GossipMessage::Block(m.into()))
            }
            (GossipKind::BeaconAggregateAndProof, f) if f < Fork::Electra => {
                ssz::<p::phase0::SignedAggregateAndProof>(b, j, |m| {
                    GossipMessage::Aggregate(m.into())
                })
            }
            (GossipKind::BeaconAggregateAndProof, _) => {
                ssz::<p::electra::SignedAggregateAndProof>(b, j, |m| {
                    GossipMessage::Aggregate(m.into())
                })
            }
            (GossipKind::BeaconAttestation(_), f) if f < Fork::Electra => {
                ssz::<p::phase0::Attestation>(b, j, |m| GossipMessage::Attestation(m.into()))
            }
            (GossipKind::BeaconAttestation(_), _) => {
                fixed(b, j, crate::fixed::single_attestation, |m| {
                    GossipMessage::Attestation(m.into())
                })
            }
            (GossipKind::VoluntaryExit, _) => {
                fixed(b, j, crate::fixed::signed_voluntary_exit, |m| {
                    GossipMessage::VoluntaryExit(m.clone())
                })
            }
            (GossipKind::ProposerSlashing, _) => ssz::<p::phase0::ProposerSlashing>(b, j, |m| {
                GossipMessage::ProposerSlashing(Box::new(m.clone()))
            }),
            (GossipKind::AttesterSlashing, f) if f < Fork::Electra => {
                ssz::<p::phase0::AttesterSlashing>(b, j, |m| {
                    GossipMessage::AttesterSlashing(Box::new(m.into()))
                })
            }
            (GossipKind::AttesterSlashing, _) => ssz::<p::electra::AttesterSlashing>(b, j, |m| {
                GossipMessage::AttesterSlashing(Box::new(m.into()))
            }),
            (GossipKind::SyncCommittee(_), _) => {
                fixed(b, j, crate::fixed::sync_committee_message, |m| {
                    GossipMessage::SyncCommittee(m.clone())
                })
            }
            (GossipKind::SyncCommitteeContributionAndProof, _) => {
                ssz::<p::altair::SignedContributionAndProof>(b, j, |m| {
                    GossipMessage::Contribution(m.into())
                })
            }
            (GossipKind::BlsToExecutionChange, _) => {
                ssz::<p::capella::SignedBlsToExecutionChange>(b, j, |m| {
                    GossipMessage::BlsChange(Box::new(m.clone()))
                })
            }
            (GossipKind::BlobSidecar(_), _) => {
                ssz::<p::deneb::BlobSidecar>(b, j, |m| GossipMessage::Sidecar(Box::new(m.into())))
            }
            (GossipKind::DataColumnSidecar(_), _) => ssz::<p::fulu::DataColumnSidecar>(b, j, |m| {
                GossipMessage::Sidecar(Box::new(m.into()))
            }),
        }
    }};
}

/// Decodes the SSZ payload of `kind` at `fork` with `chain`'s preset sizes into its view.
pub fn decode_message(
    chain: &ChainSpec,
    kind: GossipKind,
    fork: Fork,
    bytes: &[u8],
) -> Result<GossipMessage, DecodeError> {
    decode_with_json(chain, kind, fork, bytes, false).map(|(view, _)| view)
}

/// [`decode_message`], plus the whole message as Beacon API JSON when `json` is set.
pub fn decode_with_json(
    chain: &ChainSpec,
    kind: GossipKind,
    fork: Fork,
    bytes: &[u8],
    json: bool,
) -> Result<(GossipMessage, Option<serde_json::Value>), DecodeError> {
    let result = match chain.preset.base {
        PresetBase::Mainnet => by_fork!(mainnet, fork, kind, bytes, json),
        PresetBase::Minimal => by_fork!(minimal, fork, kind, bytes, json),
        PresetBase::Gnosis => by_fork!(gnosis, fork, kind, bytes, json),
    };
    result.map_err(|reason| DecodeError { kind, fork, reason })
}
