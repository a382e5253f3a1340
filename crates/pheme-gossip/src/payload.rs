//! Every gossip payload of every fork, decoded once into the spec's types of its preset.
//!
//! A [`GossipPayload`] is the preset (chosen once per chain, as a beacon node's `EthSpec` is)
//! around that preset's [`mainnet::Payload`]: one variant per topic kind, each holding the
//! fork's container. A node that runs one preset unwraps the preset once
//! ([`GossipPayload::mainnet`]) and matches kinds and forks from there; code that runs on any
//! preset reads the accessors shared by every variant (slot, signing root, SSZ, JSON).
//!
//! The handlers' views ([`GossipMessage`]) are built from the payload, so stateless checks,
//! the node's stateful checks and the node's event all read the one decoded value.

use pheme_spec::{ChainSpec, Fork, GossipKind, PresetBase};
use pheme_types::ssz_rs;

use crate::GossipMessage;
use crate::decode::DecodeError;

/// Bytes that are not the topic's SSZ type, kept as the decoder's typed error (rendered only
/// when displayed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SszError {
    /// A general container decode failed (or its decoder refused hostile offsets).
    #[error(transparent)]
    Untrusted(#[from] pheme_types::UntrustedSszError),
    /// A fixed-size container had the wrong length.
    #[error(transparent)]
    Fixed(FixedLengthError),
}

/// A fixed-size payload of the wrong length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provided} bytes, the type is {expected} bytes long")]
pub struct FixedLengthError {
    /// Bytes given.
    pub provided: usize,
    /// The type's size.
    pub expected: usize,
}

/// The payload is not of the kind (or fork) it is published on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The payload's kind differs from the topic's.
    #[error("a {payload} payload cannot be published on {topic}")]
    WrongKind {
        /// The payload's topic base name.
        payload: &'static str,
        /// The topic's kind.
        topic: GossipKind,
    },
    /// The payload's container is not the one the topic carries at `fork`.
    #[error("{kind} at {fork} carries a {expected} container, the payload is {got}")]
    WrongFork {
        /// The topic's kind.
        kind: GossipKind,
        /// The fork of the digest it would be published on.
        fork: Fork,
        /// The fork whose container the topic carries at `fork`.
        expected: Fork,
        /// The fork whose container the payload holds.
        got: Fork,
    },
    /// The payload's preset is not the chain's.
    #[error("a {got} payload on a {expected} chain")]
    WrongPreset {
        /// The chain's preset.
        expected: &'static str,
        /// The payload's.
        got: &'static str,
    },
    /// Serialising failed (a list over its bound).
    #[error("SSZ serialisation failed")]
    Serialize(#[source] pheme_types::SharedError<ssz_rs::SerializeError>),
}

/// The fork whose container `kind` carries at `fork` (blocks change at every fork but fulu;
/// aggregates and attester slashings at electra and gloas; attestations at electra; column
/// sidecars at gloas; bids at heze; the rest never).
pub fn container_fork(kind: GossipKind, fork: Fork) -> Fork {
    let since = |forks: &[Fork]| {
        forks
            .iter()
            .rev()
            .find(|f| fork >= **f)
            .copied()
            .unwrap_or(forks[0])
    };
    match kind {
        GossipKind::BeaconBlock if fork >= Fork::Gloas => fork,
        GossipKind::BeaconBlock => fork.min(Fork::Electra),
        GossipKind::BeaconAggregateAndProof | GossipKind::AttesterSlashing => {
            since(&[Fork::Phase0, Fork::Electra, Fork::Gloas])
        }
        GossipKind::BeaconAttestation(_) => since(&[Fork::Phase0, Fork::Electra]),
        GossipKind::VoluntaryExit | GossipKind::ProposerSlashing => Fork::Phase0,
        GossipKind::SyncCommittee(_) | GossipKind::SyncCommitteeContributionAndProof => {
            Fork::Altair
        }
        GossipKind::BlsToExecutionChange => Fork::Capella,
        GossipKind::BlobSidecar(_) => Fork::Deneb,
        GossipKind::DataColumnSidecar(_) => since(&[Fork::Fulu, Fork::Gloas]),
        GossipKind::ExecutionPayloadBid => since(&[Fork::Gloas, Fork::Heze]),
        GossipKind::ExecutionPayload
        | GossipKind::PayloadAttestationMessage
        | GossipKind::ProposerPreferences => Fork::Gloas,
        GossipKind::InclusionList => Fork::Heze,
    }
}

fn untrusted<T: ssz_rs::Deserialize>(bytes: &[u8]) -> Result<T, SszError> {
    Ok(pheme_types::decode_untrusted::<T>(bytes)?)
}

fn fixed<T>(
    bytes: &[u8],
    decode: fn(&[u8]) -> Result<T, ssz_rs::DeserializeError>,
    expected: usize,
) -> Result<T, SszError> {
    decode(bytes).map_err(|_| {
        SszError::Fixed(FixedLengthError {
            provided: bytes.len(),
            expected,
        })
    })
}

fn serialize<T: ssz_rs::SimpleSerialize>(value: &T) -> Result<Vec<u8>, PayloadError> {
    ssz_rs::serialize(value).map_err(|e| PayloadError::Serialize(pheme_types::SharedError::new(e)))
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // Every container serialises (plain structs of integers, bytes and lists).
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

use pheme_types::root_of as root;

/// One preset's payload types. Generated once per preset so every preset has the same shape.
macro_rules! preset_payload {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub mod $name {
            use pheme_types::$name as p;

            use super::*;

            /// A `beacon_block` payload, by the fork of its container (fulu's is electra's).
            #[derive(Debug, Clone, PartialEq, Eq)]
            #[allow(missing_docs)]
            pub enum SignedBlock {
                Phase0(p::phase0::SignedBeaconBlock),
                Altair(p::altair::SignedBeaconBlock),
                Bellatrix(p::bellatrix::SignedBeaconBlock),
                Capella(p::capella::SignedBeaconBlock),
                Deneb(p::deneb::SignedBeaconBlock),
                Electra(p::electra::SignedBeaconBlock),
                Gloas(p::gloas::SignedBeaconBlock),
                Heze(p::heze::SignedBeaconBlock),
            }

            /// A `beacon_aggregate_and_proof` payload.
            #[derive(Debug, Clone, PartialEq, Eq)]
            #[allow(missing_docs)]
            pub enum SignedAggregate {
                Phase0(p::phase0::SignedAggregateAndProof),
                Electra(p::electra::SignedAggregateAndProof),
                Gloas(p::gloas::SignedAggregateAndProof),
            }

            /// A `beacon_attestation_{subnet_id}` payload: an `Attestation` up to deneb, a
            /// `SingleAttestation` from electra on.
            #[derive(Debug, Clone, PartialEq, Eq)]
            #[allow(missing_docs)]
            pub enum Attestation {
                Phase0(p::phase0::Attestation),
                Electra(p::electra::SingleAttestation),
            }

            /// An `attester_slashing` payload.
            #[derive(Debug, Clone, PartialEq, Eq)]
            #[allow(missing_docs)]
            pub enum AttesterSlashing {
                Phase0(p::phase0::AttesterSlashing),
                Electra(p::electra::AttesterSlashing),
                Gloas(p::gloas::AttesterSlashing),
            }

            /// A `data_column_sidecar_{subnet_id}` payload: fulu's, or gloas's without the
            /// header and commitments. Always boxed in [`Payload`], so the sizes may differ.
            #[derive(Debug, Clone, PartialEq, Eq)]
            #[allow(missing_docs, clippy::large_enum_variant)]
            pub enum DataColumnSidecar {
                Fulu(p::fulu::DataColumnSidecar),
                Gloas(p::gloas::DataColumnSidecar),
            }

            /// An `execution_payload_bid` payload.
            #[derive(Debug, Clone, PartialEq, Eq)]
            #[allow(missing_docs)]
            pub enum SignedBid {
                Gloas(p::gloas::SignedExecutionPayloadBid),
                Heze(p::heze::SignedExecutionPayloadBid),
            }

            /// Every gossip payload with this preset's sizes: one variant per topic kind.
            /// Large containers are boxed so that the frequent small ones stay small.
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub enum Payload {
                /// `beacon_block`.
                Block(Box<SignedBlock>),
                /// `beacon_aggregate_and_proof`.
                Aggregate(Box<SignedAggregate>),
                /// `beacon_attestation_{subnet_id}`.
                Attestation(Box<Attestation>),
                /// `voluntary_exit`.
                VoluntaryExit(p::phase0::SignedVoluntaryExit),
                /// `proposer_slashing`.
                ProposerSlashing(Box<p::phase0::ProposerSlashing>),
                /// `attester_slashing`.
                AttesterSlashing(Box<AttesterSlashing>),
                /// `sync_committee_{subnet_id}`.
                SyncCommittee(p::altair::SyncCommitteeMessage),
                /// `sync_committee_contribution_and_proof`.
                Contribution(Box<p::altair::SignedContributionAndProof>),
                /// `bls_to_execution_change`.
                BlsChange(Box<p::capella::SignedBlsToExecutionChange>),
                /// `blob_sidecar_{subnet_id}`.
                BlobSidecar(Box<p::deneb::BlobSidecar>),
                /// `data_column_sidecar_{subnet_id}`.
                DataColumnSidecar(Box<DataColumnSidecar>),
                /// `execution_payload_bid`.
                Bid(Box<SignedBid>),
                /// `execution_payload`.
                Envelope(Box<p::gloas::SignedExecutionPayloadEnvelope>),
                /// `payload_attestation_message`.
                PayloadAttestation(Box<p::gloas::PayloadAttestationMessage>),
                /// `proposer_preferences`.
                ProposerPreferences(Box<p::gloas::SignedProposerPreferences>),
                /// `inclusion_list`.
                InclusionList(Box<p::heze::SignedInclusionList>),
            }

            /// Runs `$f` on the container inside any variant.
            macro_rules! each {
                ($self:expr, $v:ident => $f:expr) => {
                    match $self {
                        Payload::Block(b) => match &**b {
                            SignedBlock::Phase0($v) => $f,
                            SignedBlock::Altair($v) => $f,
                            SignedBlock::Bellatrix($v) => $f,
                            SignedBlock::Capella($v) => $f,
                            SignedBlock::Deneb($v) => $f,
                            SignedBlock::Electra($v) => $f,
                            SignedBlock::Gloas($v) => $f,
                            SignedBlock::Heze($v) => $f,
                        },
                        Payload::Aggregate(a) => match &**a {
                            SignedAggregate::Phase0($v) => $f,
                            SignedAggregate::Electra($v) => $f,
                            SignedAggregate::Gloas($v) => $f,
                        },
                        Payload::Attestation(a) => match &**a {
                            Attestation::Phase0($v) => $f,
                            Attestation::Electra($v) => $f,
                        },
                        Payload::VoluntaryExit($v) => $f,
                        Payload::ProposerSlashing($v) => {
                            let $v = &**$v;
                            $f
                        }
                        Payload::AttesterSlashing(s) => match &**s {
                            AttesterSlashing::Phase0($v) => $f,
                            AttesterSlashing::Electra($v) => $f,
                            AttesterSlashing::Gloas($v) => $f,
                        },
                        Payload::SyncCommittee($v) => $f,
                        Payload::Contribution($v) => {
                            let $v = &**$v;
                            $f
                        }
                        Payload::BlsChange($v) => {
                            let $v = &**$v;
                            $f
                        }
                        Payload::BlobSidecar($v) => {
                            let $v = &**$v;
                            $f
                        }
                        Payload::DataColumnSidecar(c) => match &**c {
                            DataColumnSidecar::Fulu($v) => $f,
                            DataColumnSidecar::Gloas($v) => $f,
                        },
                        Payload::Bid(b) => match &**b {
                            SignedBid::Gloas($v) => $f,
                            SignedBid::Heze($v) => $f,
                        },
                        Payload::Envelope($v) => {
                            let $v = &**$v;
                            $f
                        }
                        Payload::PayloadAttestation($v) => {
                            let $v = &**$v;
                            $f
                        }
                        Payload::ProposerPreferences($v) => {
                            let $v = &**$v;
                            $f
                        }
                        Payload::InclusionList($v) => {
                            let $v = &**$v;
                            $f
                        }
                    }
                };
            }

            impl Payload {
                /// Decodes the SSZ payload of `kind` at `fork`.
                pub fn decode(kind: GossipKind, fork: Fork, bytes: &[u8]) -> Result<Self, SszError> {
                    use crate::fixed;
                    Ok(match (kind, container_fork(kind, fork)) {
                        (GossipKind::BeaconBlock, f) => Payload::Block(Box::new(match f {
                            Fork::Phase0 => SignedBlock::Phase0(untrusted(bytes)?),
                            Fork::Altair => SignedBlock::Altair(untrusted(bytes)?),
                            Fork::Bellatrix => SignedBlock::Bellatrix(untrusted(bytes)?),
                            Fork::Capella => SignedBlock::Capella(untrusted(bytes)?),
                            Fork::Deneb => SignedBlock::Deneb(untrusted(bytes)?),
                            Fork::Gloas => SignedBlock::Gloas(untrusted(bytes)?),
                            Fork::Heze => SignedBlock::Heze(untrusted(bytes)?),
                            _ => SignedBlock::Electra(untrusted(bytes)?),
                        })),
                        (GossipKind::BeaconAggregateAndProof, Fork::Phase0) => {
                            Payload::Aggregate(Box::new(SignedAggregate::Phase0(untrusted(bytes)?)))
                        }
                        (GossipKind::BeaconAggregateAndProof, Fork::Gloas) => {
                            Payload::Aggregate(Box::new(SignedAggregate::Gloas(untrusted(bytes)?)))
                        }
                        (GossipKind::BeaconAggregateAndProof, _) => {
                            Payload::Aggregate(Box::new(SignedAggregate::Electra(untrusted(bytes)?)))
                        }
                        (GossipKind::BeaconAttestation(_), Fork::Phase0) => {
                            Payload::Attestation(Box::new(Attestation::Phase0(untrusted(bytes)?)))
                        }
                        (GossipKind::BeaconAttestation(_), _) => Payload::Attestation(Box::new(
                            Attestation::Electra(super::fixed(bytes, fixed::single_attestation, 240)?),
                        )),
                        (GossipKind::VoluntaryExit, _) => Payload::VoluntaryExit(super::fixed(
                            bytes,
                            fixed::signed_voluntary_exit,
                            112,
                        )?),
                        (GossipKind::ProposerSlashing, _) => {
                            Payload::ProposerSlashing(Box::new(untrusted(bytes)?))
                        }
                        (GossipKind::AttesterSlashing, Fork::Phase0) => Payload::AttesterSlashing(
                            Box::new(AttesterSlashing::Phase0(untrusted(bytes)?)),
                        ),
                        (GossipKind::AttesterSlashing, Fork::Gloas) => Payload::AttesterSlashing(
                            Box::new(AttesterSlashing::Gloas(untrusted(bytes)?)),
                        ),
                        (GossipKind::AttesterSlashing, _) => Payload::AttesterSlashing(Box::new(
                            AttesterSlashing::Electra(untrusted(bytes)?),
                        )),
                        (GossipKind::SyncCommittee(_), _) => Payload::SyncCommittee(super::fixed(
                            bytes,
                            fixed::sync_committee_message,
                            144,
                        )?),
                        (GossipKind::SyncCommitteeContributionAndProof, _) => {
                            Payload::Contribution(Box::new(untrusted(bytes)?))
                        }
                        (GossipKind::BlsToExecutionChange, _) => {
                            Payload::BlsChange(Box::new(untrusted(bytes)?))
                        }
                        (GossipKind::BlobSidecar(_), _) => {
                            Payload::BlobSidecar(Box::new(untrusted(bytes)?))
                        }
                        (GossipKind::DataColumnSidecar(_), Fork::Gloas) => Payload::DataColumnSidecar(
                            Box::new(DataColumnSidecar::Gloas(untrusted(bytes)?)),
                        ),
                        (GossipKind::DataColumnSidecar(_), _) => Payload::DataColumnSidecar(
                            Box::new(DataColumnSidecar::Fulu(untrusted(bytes)?)),
                        ),
                        (GossipKind::ExecutionPayloadBid, Fork::Heze) => {
                            Payload::Bid(Box::new(SignedBid::Heze(untrusted(bytes)?)))
                        }
                        (GossipKind::ExecutionPayloadBid, _) => {
                            Payload::Bid(Box::new(SignedBid::Gloas(untrusted(bytes)?)))
                        }
                        (GossipKind::ExecutionPayload, _) => {
                            Payload::Envelope(Box::new(untrusted(bytes)?))
                        }
                        (GossipKind::PayloadAttestationMessage, _) => {
                            Payload::PayloadAttestation(Box::new(untrusted(bytes)?))
                        }
                        (GossipKind::ProposerPreferences, _) => {
                            Payload::ProposerPreferences(Box::new(untrusted(bytes)?))
                        }
                        (GossipKind::InclusionList, _) => {
                            Payload::InclusionList(Box::new(untrusted(bytes)?))
                        }
                    })
                }

                /// The view the topic's handler reads.
                pub fn view(&self) -> GossipMessage {
                    match self {
                        Payload::Block(b) => GossipMessage::Block(match &**b {
                            SignedBlock::Phase0(m) => m.into(),
                            SignedBlock::Altair(m) => m.into(),
                            SignedBlock::Bellatrix(m) => m.into(),
                            SignedBlock::Capella(m) => m.into(),
                            SignedBlock::Deneb(m) => m.into(),
                            SignedBlock::Electra(m) => m.into(),
                            SignedBlock::Gloas(m) => m.into(),
                            SignedBlock::Heze(m) => m.into(),
                        }),
                        Payload::Aggregate(a) => GossipMessage::Aggregate(match &**a {
                            SignedAggregate::Phase0(m) => m.into(),
                            SignedAggregate::Electra(m) => m.into(),
                            SignedAggregate::Gloas(m) => m.into(),
                        }),
                        Payload::Attestation(a) => GossipMessage::Attestation(match &**a {
                            Attestation::Phase0(m) => m.into(),
                            Attestation::Electra(m) => m.into(),
                        }),
                        Payload::VoluntaryExit(m) => GossipMessage::VoluntaryExit(m.clone()),
                        Payload::ProposerSlashing(m) => GossipMessage::ProposerSlashing(m.clone()),
                        Payload::AttesterSlashing(s) => {
                            GossipMessage::AttesterSlashing(Box::new(match &**s {
                                AttesterSlashing::Phase0(m) => m.into(),
                                AttesterSlashing::Electra(m) => m.into(),
                                AttesterSlashing::Gloas(m) => m.into(),
                            }))
                        }
                        Payload::SyncCommittee(m) => GossipMessage::SyncCommittee(m.clone()),
                        Payload::Contribution(m) => GossipMessage::Contribution((&**m).into()),
                        Payload::BlsChange(m) => GossipMessage::BlsChange(m.clone()),
                        Payload::BlobSidecar(m) => {
                            GossipMessage::Sidecar(Box::new((&**m).into()))
                        }
                        Payload::DataColumnSidecar(c) => match &**c {
                            DataColumnSidecar::Fulu(m) => GossipMessage::Sidecar(Box::new(m.into())),
                            DataColumnSidecar::Gloas(m) => GossipMessage::Column(Box::new(m.into())),
                        },
                        Payload::Bid(b) => GossipMessage::Bid(Box::new(match &**b {
                            SignedBid::Gloas(m) => m.into(),
                            SignedBid::Heze(m) => m.into(),
                        })),
                        Payload::Envelope(m) => GossipMessage::Envelope(Box::new((&**m).into())),
                        Payload::PayloadAttestation(m) => GossipMessage::PayloadAttestation(m.clone()),
                        Payload::ProposerPreferences(m) => GossipMessage::ProposerPreferences(m.clone()),
                        Payload::InclusionList(m) => {
                            GossipMessage::InclusionList(Box::new((&**m).into()))
                        }
                    }
                }

                /// The fork whose container this is.
                pub fn container_fork(&self) -> Fork {
                    match self {
                        Payload::Block(b) => match &**b {
                            SignedBlock::Phase0(_) => Fork::Phase0,
                            SignedBlock::Altair(_) => Fork::Altair,
                            SignedBlock::Bellatrix(_) => Fork::Bellatrix,
                            SignedBlock::Capella(_) => Fork::Capella,
                            SignedBlock::Deneb(_) => Fork::Deneb,
                            SignedBlock::Electra(_) => Fork::Electra,
                            SignedBlock::Gloas(_) => Fork::Gloas,
                            SignedBlock::Heze(_) => Fork::Heze,
                        },
                        Payload::Aggregate(a) => match &**a {
                            SignedAggregate::Phase0(_) => Fork::Phase0,
                            SignedAggregate::Electra(_) => Fork::Electra,
                            SignedAggregate::Gloas(_) => Fork::Gloas,
                        },
                        Payload::Attestation(a) => match &**a {
                            Attestation::Phase0(_) => Fork::Phase0,
                            Attestation::Electra(_) => Fork::Electra,
                        },
                        Payload::AttesterSlashing(s) => match &**s {
                            AttesterSlashing::Phase0(_) => Fork::Phase0,
                            AttesterSlashing::Electra(_) => Fork::Electra,
                            AttesterSlashing::Gloas(_) => Fork::Gloas,
                        },
                        Payload::VoluntaryExit(_) | Payload::ProposerSlashing(_) => Fork::Phase0,
                        Payload::SyncCommittee(_) | Payload::Contribution(_) => Fork::Altair,
                        Payload::BlsChange(_) => Fork::Capella,
                        Payload::BlobSidecar(_) => Fork::Deneb,
                        Payload::DataColumnSidecar(c) => match &**c {
                            DataColumnSidecar::Fulu(_) => Fork::Fulu,
                            DataColumnSidecar::Gloas(_) => Fork::Gloas,
                        },
                        Payload::Bid(b) => match &**b {
                            SignedBid::Gloas(_) => Fork::Gloas,
                            SignedBid::Heze(_) => Fork::Heze,
                        },
                        Payload::Envelope(_)
                        | Payload::PayloadAttestation(_)
                        | Payload::ProposerPreferences(_) => Fork::Gloas,
                        Payload::InclusionList(_) => Fork::Heze,
                    }
                }

                /// The topic base name it travels on (`beacon_block`, `beacon_attestation`, ...).
                pub fn base_name(&self) -> &'static str {
                    match self {
                        Payload::Block(_) => "beacon_block",
                        Payload::Aggregate(_) => "beacon_aggregate_and_proof",
                        Payload::Attestation(_) => "beacon_attestation",
                        Payload::VoluntaryExit(_) => "voluntary_exit",
                        Payload::ProposerSlashing(_) => "proposer_slashing",
                        Payload::AttesterSlashing(_) => "attester_slashing",
                        Payload::SyncCommittee(_) => "sync_committee",
                        Payload::Contribution(_) => "sync_committee_contribution_and_proof",
                        Payload::BlsChange(_) => "bls_to_execution_change",
                        Payload::BlobSidecar(_) => "blob_sidecar",
                        Payload::DataColumnSidecar(_) => "data_column_sidecar",
                        Payload::Bid(_) => "execution_payload_bid",
                        Payload::Envelope(_) => "execution_payload",
                        Payload::PayloadAttestation(_) => "payload_attestation_message",
                        Payload::ProposerPreferences(_) => "proposer_preferences",
                        Payload::InclusionList(_) => "inclusion_list",
                    }
                }

                /// The SSZ bytes.
                pub fn to_ssz(&self) -> Result<Vec<u8>, PayloadError> {
                    each!(self, v => serialize(v))
                }

                /// The Beacon API JSON of the container.
                pub fn to_json(&self) -> serde_json::Value {
                    each!(self, v => json(v))
                }

                /// The container's `hash_tree_root` (a block's is the signed block's; its
                /// block root is [`SignedBlock::block_root`]).
                pub fn hash_tree_root(&self) -> Option<[u8; 32]> {
                    each!(self, v => root(v))
                }
            }

            impl Payload {
                /// A block's root (`hash_tree_root(signed_block.message)`), for blocks.
                pub fn block_root(&self) -> Option<[u8; 32]> {
                    match self {
                        Payload::Block(b) => b.block_root(),
                        _ => None,
                    }
                }

                /// A block's slot and root, for blocks.
                pub fn block_slot_and_root(&self) -> Option<(u64, [u8; 32])> {
                    match self {
                        Payload::Block(b) => Some((b.slot(), b.block_root()?)),
                        _ => None,
                    }
                }

                /// A Fulu `DataColumnSidecar`, if this is one.
                pub fn fulu_data_column(&self) -> Option<&p::fulu::DataColumnSidecar> {
                    match self {
                        Payload::DataColumnSidecar(c) => match &**c {
                            DataColumnSidecar::Fulu(s) => Some(s),
                            DataColumnSidecar::Gloas(_) => None,
                        },
                        _ => None,
                    }
                }
            }

            impl SignedBlock {
                /// `block.message.slot`.
                pub fn slot(&self) -> u64 {
                    match self {
                        SignedBlock::Phase0(b) => b.message.slot,
                        SignedBlock::Altair(b) => b.message.slot,
                        SignedBlock::Bellatrix(b) => b.message.slot,
                        SignedBlock::Capella(b) => b.message.slot,
                        SignedBlock::Deneb(b) => b.message.slot,
                        SignedBlock::Electra(b) => b.message.slot,
                        SignedBlock::Gloas(b) => b.message.slot,
                        SignedBlock::Heze(b) => b.message.slot,
                    }
                }

                /// `hash_tree_root(block.message)`: the block root, and what the proposer signs.
                pub fn block_root(&self) -> Option<[u8; 32]> {
                    match self {
                        SignedBlock::Phase0(b) => root(&b.message),
                        SignedBlock::Altair(b) => root(&b.message),
                        SignedBlock::Bellatrix(b) => root(&b.message),
                        SignedBlock::Capella(b) => root(&b.message),
                        SignedBlock::Deneb(b) => root(&b.message),
                        SignedBlock::Electra(b) => root(&b.message),
                        SignedBlock::Gloas(b) => root(&b.message),
                        SignedBlock::Heze(b) => root(&b.message),
                    }
                }
            }
        }
    };
}

preset_payload! {
    /// Payloads with the `mainnet` preset's sizes.
    mainnet
}
preset_payload! {
    /// Payloads with the `minimal` preset's sizes.
    minimal
}
preset_payload! {
    /// Payloads with Gnosis's preset sizes.
    gnosis
}

/// A decoded gossip payload: the spec's container of its topic, fork and preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GossipPayload {
    /// The `mainnet` preset (Ethereum mainnet, its testnets).
    Mainnet(mainnet::Payload),
    /// The `minimal` preset (spec tests, some devnets).
    Minimal(minimal::Payload),
    /// Gnosis chain's preset.
    Gnosis(gnosis::Payload),
}

macro_rules! any_preset {
    ($self:expr, $p:ident => $f:expr) => {
        match $self {
            GossipPayload::Mainnet($p) => $f,
            GossipPayload::Minimal($p) => $f,
            GossipPayload::Gnosis($p) => $f,
        }
    };
}

impl GossipPayload {
    /// Decodes the SSZ payload of `kind` at `fork` with `chain`'s preset.
    pub fn decode(
        chain: &ChainSpec,
        kind: GossipKind,
        fork: Fork,
        bytes: &[u8],
    ) -> Result<Self, DecodeError> {
        let decoded = match chain.preset.base {
            PresetBase::Mainnet => mainnet::Payload::decode(kind, fork, bytes).map(Self::Mainnet),
            PresetBase::Minimal => minimal::Payload::decode(kind, fork, bytes).map(Self::Minimal),
            PresetBase::Gnosis => gnosis::Payload::decode(kind, fork, bytes).map(Self::Gnosis),
        };
        decoded.map_err(|source| DecodeError { kind, fork, source })
    }

    /// The `mainnet` payload, if this is one.
    pub fn mainnet(&self) -> Option<&mainnet::Payload> {
        match self {
            GossipPayload::Mainnet(p) => Some(p),
            _ => None,
        }
    }

    /// The `minimal` payload, if this is one.
    pub fn minimal(&self) -> Option<&minimal::Payload> {
        match self {
            GossipPayload::Minimal(p) => Some(p),
            _ => None,
        }
    }

    /// The Gnosis payload, if this is one.
    pub fn gnosis(&self) -> Option<&gnosis::Payload> {
        match self {
            GossipPayload::Gnosis(p) => Some(p),
            _ => None,
        }
    }

    /// The preset's name.
    pub fn preset(&self) -> &'static str {
        match self {
            GossipPayload::Mainnet(_) => PresetBase::Mainnet.name(),
            GossipPayload::Minimal(_) => PresetBase::Minimal.name(),
            GossipPayload::Gnosis(_) => PresetBase::Gnosis.name(),
        }
    }

    /// A Fulu `DataColumnSidecar`, if this is one (its lists are bounded alike in every
    /// preset).
    pub fn fulu_data_column(&self) -> Option<&pheme_types::fulu::DataColumnSidecar<4096>> {
        any_preset!(self, p => p.fulu_data_column())
    }

    /// The view the topic's handler reads.
    pub fn view(&self) -> GossipMessage {
        any_preset!(self, p => p.view())
    }

    /// The fork whose container this is.
    pub fn container_fork(&self) -> Fork {
        any_preset!(self, p => p.container_fork())
    }

    /// The topic base name it travels on.
    pub fn base_name(&self) -> &'static str {
        any_preset!(self, p => p.base_name())
    }

    /// The SSZ bytes.
    pub fn to_ssz(&self) -> Result<Vec<u8>, PayloadError> {
        any_preset!(self, p => p.to_ssz())
    }

    /// The Beacon API JSON of the container.
    pub fn to_json(&self) -> serde_json::Value {
        any_preset!(self, p => p.to_json())
    }

    /// The container's `hash_tree_root`.
    pub fn hash_tree_root(&self) -> Option<[u8; 32]> {
        any_preset!(self, p => p.hash_tree_root())
    }

    /// A block's root (`hash_tree_root(signed_block.message)`), for `beacon_block` payloads.
    pub fn block_root(&self) -> Option<[u8; 32]> {
        any_preset!(self, p => p.block_root())
    }

    /// A block's slot and root (`hash_tree_root(signed_block.message)`), for `beacon_block`
    /// payloads: what the req/resp block cache keys by.
    pub fn block_slot_and_root(&self) -> Option<(u64, [u8; 32])> {
        any_preset!(self, p => p.block_slot_and_root())
    }

    /// Checks that the payload may be published on `kind` at `fork` of `chain`, and encodes it.
    pub fn encode_for(
        &self,
        chain: &ChainSpec,
        kind: GossipKind,
        fork: Fork,
    ) -> Result<Vec<u8>, PayloadError> {
        if self.preset() != chain.preset.base.name() {
            return Err(PayloadError::WrongPreset {
                expected: chain.preset.base.name(),
                got: self.preset(),
            });
        }
        if self.base_name() != kind.base_name() {
            return Err(PayloadError::WrongKind {
                payload: self.base_name(),
                topic: kind,
            });
        }
        let expected = container_fork(kind, fork);
        let got = self.container_fork();
        if expected != got {
            return Err(PayloadError::WrongFork {
                kind,
                fork,
                expected,
                got,
            });
        }
        self.to_ssz()
    }
}
