//! SSZ bytes of a topic kind at a fork, with a preset's sizes, to the view its handler reads.

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

fn ssz<T: Deserialize>(bytes: &[u8]) -> Result<T, String> {
    T::deserialize(bytes).map_err(|e| e.to_string())
}

macro_rules! by_fork {
    ($p:ident, $fork:expr, $kind:expr, $bytes:expr) => {{
        use pheme_types::$p as p;
        let b = $bytes;
        match ($kind, $fork) {
            (GossipKind::BeaconBlock, Fork::Phase0) => {
                ssz::<p::phase0::SignedBeaconBlock>(b).map(|m| GossipMessage::Block((&m).into()))
            }
            (GossipKind::BeaconBlock, Fork::Altair) => {
                ssz::<p::altair::SignedBeaconBlock>(b).map(|m| GossipMessage::Block((&m).into()))
            }
            (GossipKind::BeaconBlock, Fork::Bellatrix) => {
                ssz::<p::bellatrix::SignedBeaconBlock>(b).map(|m| GossipMessage::Block((&m).into()))
            }
            (GossipKind::BeaconBlock, Fork::Capella) => {
                ssz::<p::capella::SignedBeaconBlock>(b).map(|m| GossipMessage::Block((&m).into()))
            }
            (GossipKind::BeaconBlock, Fork::Deneb) => {
                ssz::<p::deneb::SignedBeaconBlock>(b).map(|m| GossipMessage::Block((&m).into()))
            }
            (GossipKind::BeaconBlock, _) => {
                ssz::<p::electra::SignedBeaconBlock>(b).map(|m| GossipMessage::Block((&m).into()))
            }
            (GossipKind::BeaconAggregateAndProof, f) if f < Fork::Electra => {
                ssz::<p::phase0::SignedAggregateAndProof>(b)
                    .map(|m| GossipMessage::Aggregate((&m).into()))
            }
            (GossipKind::BeaconAggregateAndProof, _) => {
                ssz::<p::electra::SignedAggregateAndProof>(b)
                    .map(|m| GossipMessage::Aggregate((&m).into()))
            }
            (GossipKind::BeaconAttestation(_), f) if f < Fork::Electra => {
                ssz::<p::phase0::Attestation>(b).map(|m| GossipMessage::Attestation((&m).into()))
            }
            (GossipKind::BeaconAttestation(_), _) => ssz::<p::electra::SingleAttestation>(b)
                .map(|m| GossipMessage::Attestation((&m).into())),
            (GossipKind::VoluntaryExit, _) => {
                ssz::<p::phase0::SignedVoluntaryExit>(b).map(GossipMessage::VoluntaryExit)
            }
            (GossipKind::ProposerSlashing, _) => {
                ssz::<p::phase0::ProposerSlashing>(b).map(GossipMessage::ProposerSlashing)
            }
            (GossipKind::AttesterSlashing, f) if f < Fork::Electra => {
                ssz::<p::phase0::AttesterSlashing>(b)
                    .map(|m| GossipMessage::AttesterSlashing((&m).into()))
            }
            (GossipKind::AttesterSlashing, _) => ssz::<p::electra::AttesterSlashing>(b)
                .map(|m| GossipMessage::AttesterSlashing((&m).into())),
            (GossipKind::SyncCommittee(_), _) => {
                ssz::<p::altair::SyncCommitteeMessage>(b).map(GossipMessage::SyncCommittee)
            }
            (GossipKind::SyncCommitteeContributionAndProof, _) => {
                ssz::<p::altair::SignedContributionAndProof>(b)
                    .map(|m| GossipMessage::Contribution((&m).into()))
            }
            (GossipKind::BlsToExecutionChange, _) => {
                ssz::<p::capella::SignedBlsToExecutionChange>(b).map(GossipMessage::BlsChange)
            }
            (GossipKind::BlobSidecar(_), _) => {
                ssz::<p::deneb::BlobSidecar>(b).map(|m| GossipMessage::Sidecar((&m).into()))
            }
            (GossipKind::DataColumnSidecar(_), _) => {
                ssz::<p::fulu::DataColumnSidecar>(b).map(|m| GossipMessage::Sidecar((&m).into()))
            }
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
    let result = match chain.preset.base {
        PresetBase::Mainnet => by_fork!(mainnet, fork, kind, bytes),
        PresetBase::Minimal => by_fork!(minimal, fork, kind, bytes),
        PresetBase::Gnosis => by_fork!(gnosis, fork, kind, bytes),
    };
    result.map_err(|reason| DecodeError { kind, fork, reason })
}
