//! SSZ size bounds of every gossip payload, per fork and preset: the exact size of fixed-size
//! types, the largest serialization of variable-size ones, never above `MAX_PAYLOAD_SIZE`.

use pheme_spec::{ChainSpec, Fork, GossipKind, PresetBase};
use pheme_types::ssz_rs::Sized as SszSized;

/// The sizes a payload's SSZ serialization may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SszBounds {
    /// Smallest allowed length.
    pub min: usize,
    /// Largest allowed length.
    pub max: usize,
}

impl SszBounds {
    /// Exactly `n` bytes (fixed-size types).
    pub const fn fixed(n: usize) -> SszBounds {
        SszBounds { min: n, max: n }
    }

    /// At most `n` bytes.
    pub const fn up_to(n: usize) -> SszBounds {
        SszBounds { min: 0, max: n }
    }

    /// Whether a serialization of `len` bytes may be this type.
    pub fn admits(&self, len: usize) -> bool {
        (self.min..=self.max).contains(&len)
    }
}

fn fixed<T: SszSized>() -> SszBounds {
    SszBounds::fixed(T::size_hint())
}

const SIGNATURE: usize = 96;
const ATTESTATION_DATA: usize = 128;
const OFFSET: usize = 4;

/// Largest `Attestation` (phase0 form with `bits` aggregation bits; electra form adds
/// `committees` committee bits).
fn attestation_max(bits: usize, committees: Option<usize>) -> usize {
    OFFSET + ATTESTATION_DATA + SIGNATURE + committees.map_or(0, |c| c.div_ceil(8)) + bits / 8 + 1
}

/// Largest `IndexedAttestation` with up to `n` indices.
fn indexed_attestation_max(n: usize) -> usize {
    OFFSET + ATTESTATION_DATA + SIGNATURE + 8 * n
}

/// `MAX_SIGNED_INCLUSION_LIST_SIZE` (heze p2p).
pub const MAX_SIGNED_INCLUSION_LIST_SIZE: usize = 8348;

/// Largest `SignedExecutionPayloadBid` with up to `commitments` blob commitments (gloas p2p's
/// `MAX_SIGNED_EXECUTION_PAYLOAD_BID_SIZE`, 196,932 bytes; heze's bid adds the two bytes of
/// `inclusion_list_bits`, `MAX_SIGNED_EXECUTION_PAYLOAD_BID_SIZE_HEZE`).
fn signed_bid_max(commitments: usize, heze: bool) -> usize {
    // offset + signature; four roots and hashes, fee recipient, five uint64, one list offset,
    // the requests root; then the commitments.
    let fixed = OFFSET + SIGNATURE + 4 * 32 + 20 + 5 * 8 + OFFSET + 32 + if heze { 2 } else { 0 };
    commitments.saturating_mul(48).saturating_add(fixed)
}

/// The bounds of the payload of `kind` at `fork` on `chain`.
///
/// ```
/// use pheme_codec::{SszBounds, gossip_bounds};
/// use pheme_spec::{Fork, GossipKind, Network};
///
/// let mainnet = Network::Mainnet.chain_spec().unwrap();
/// assert_eq!(gossip_bounds(&mainnet, GossipKind::BeaconAttestation(3), Fork::Electra), SszBounds::fixed(240));
/// // The spec's MAX_SIGNED_AGGREGATE_AND_PROOF_SIZE.
/// assert_eq!(gossip_bounds(&mainnet, GossipKind::BeaconAggregateAndProof, Fork::Fulu).max, 16_829);
/// // Gloas's own table: MAX_SIGNED_EXECUTION_PAYLOAD_BID_SIZE, MAX_DATA_COLUMN_SIDECAR_SIZE.
/// assert_eq!(gossip_bounds(&mainnet, GossipKind::ExecutionPayloadBid, Fork::Gloas).max, 196_932);
/// assert_eq!(gossip_bounds(&mainnet, GossipKind::DataColumnSidecar(0), Fork::Gloas).max, 8_585_272);
/// ```
pub fn gossip_bounds(chain: &ChainSpec, kind: GossipKind, fork: Fork) -> SszBounds {
    let payload_max = usize::try_from(chain.max_payload_size).unwrap_or(usize::MAX);
    let preset = &chain.preset;
    let committees = usize::try_from(preset.max_committees_per_slot).unwrap_or(usize::MAX);
    let electra = fork >= Fork::Electra;
    let bits = if electra { 2048 * committees } else { 2048 };
    let commitments = usize::try_from(preset.max_blob_commitments_per_block).unwrap_or(usize::MAX);
    let bounds = match kind {
        GossipKind::BeaconBlock => SszBounds::up_to(payload_max),
        GossipKind::BeaconAggregateAndProof => {
            // SignedAggregateAndProof: offset + signature, then index + offset + selection proof.
            let attestation = attestation_max(bits, electra.then_some(committees));
            SszBounds::up_to(OFFSET + SIGNATURE + 8 + OFFSET + SIGNATURE + attestation)
        }
        GossipKind::BeaconAttestation(_) if electra => {
            fixed::<pheme_types::electra::SingleAttestation>()
        }
        GossipKind::BeaconAttestation(_) => SszBounds::up_to(attestation_max(bits, None)),
        GossipKind::AttesterSlashing => {
            SszBounds::up_to(2 * OFFSET + 2 * indexed_attestation_max(bits))
        }
        GossipKind::ProposerSlashing => fixed::<pheme_types::phase0::ProposerSlashing>(),
        GossipKind::VoluntaryExit => fixed::<pheme_types::phase0::SignedVoluntaryExit>(),
        GossipKind::BlsToExecutionChange => {
            fixed::<pheme_types::capella::SignedBlsToExecutionChange>()
        }
        GossipKind::SyncCommittee(_) => fixed::<pheme_types::altair::SyncCommitteeMessage>(),
        GossipKind::SyncCommitteeContributionAndProof => match preset.base {
            PresetBase::Minimal => {
                fixed::<pheme_types::minimal::altair::SignedContributionAndProof>()
            }
            PresetBase::Mainnet | PresetBase::Gnosis => {
                fixed::<pheme_types::mainnet::altair::SignedContributionAndProof>()
            }
        },
        // The same inclusion-proof depth (17) in every preset of this spec version.
        GossipKind::BlobSidecar(_) => fixed::<pheme_types::mainnet::deneb::BlobSidecar>(),
        GossipKind::DataColumnSidecar(_) if fork >= Fork::Gloas => {
            // index, two list offsets, slot, block root; per commitment a cell and a proof
            // (the commitments are the bid's).
            let fixed_part = 8 + 2 * OFFSET + 8 + 32;
            SszBounds::up_to(
                commitments
                    .saturating_mul(2048 + 48)
                    .saturating_add(fixed_part),
            )
        }
        GossipKind::DataColumnSidecar(_) => {
            // index, three list offsets, signed header (208), inclusion proof (4 x 32), then per
            // commitment a cell, a commitment and a proof.
            let fixed_part = 8 + 3 * OFFSET + 208 + 4 * 32;
            SszBounds::up_to(
                commitments
                    .saturating_mul(2048 + 48 + 48)
                    .saturating_add(fixed_part),
            )
        }
        GossipKind::ExecutionPayloadBid => {
            SszBounds::up_to(signed_bid_max(commitments, fork >= Fork::Heze))
        }
        // The envelope carries the payload: only MAX_PAYLOAD_SIZE bounds it.
        GossipKind::ExecutionPayload => SszBounds::up_to(payload_max),
        GossipKind::PayloadAttestationMessage => {
            fixed::<pheme_types::gloas::PayloadAttestationMessage>()
        }
        GossipKind::ProposerPreferences => fixed::<pheme_types::gloas::SignedProposerPreferences>(),
        GossipKind::InclusionList => SszBounds::up_to(MAX_SIGNED_INCLUSION_LIST_SIZE),
    };
    SszBounds {
        min: bounds.min.min(payload_max),
        max: bounds.max.min(payload_max),
    }
}
