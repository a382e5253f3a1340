//! Gossip topic kinds: a closed enum and the one table of names used both to print and to parse.

use std::fmt;
use std::str::FromStr;

use crate::SpecError;
use crate::chain::{ChainSpec, SYNC_COMMITTEE_SUBNET_COUNT};
use crate::fork::Fork;

/// What a gossip topic carries, without the fork digest or encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GossipKind {
    /// `beacon_block`.
    BeaconBlock,
    /// `beacon_aggregate_and_proof`.
    BeaconAggregateAndProof,
    /// `beacon_attestation_{subnet_id}`.
    BeaconAttestation(u64),
    /// `voluntary_exit`.
    VoluntaryExit,
    /// `proposer_slashing`.
    ProposerSlashing,
    /// `attester_slashing`.
    AttesterSlashing,
    /// `sync_committee_contribution_and_proof` (altair).
    SyncCommitteeContributionAndProof,
    /// `sync_committee_{subnet_id}` (altair).
    SyncCommittee(u64),
    /// `bls_to_execution_change` (capella).
    BlsToExecutionChange,
    /// `blob_sidecar_{subnet_id}` (deneb, electra).
    BlobSidecar(u64),
    /// `data_column_sidecar_{subnet_id}` (fulu; gloas's sidecar drops the header and proof).
    DataColumnSidecar(u64),
    /// `execution_payload_bid` (gloas): builders' signed bids.
    ExecutionPayloadBid,
    /// `execution_payload` (gloas): signed execution payload envelopes.
    ExecutionPayload,
    /// `payload_attestation_message` (gloas): the payload timeliness committee's votes.
    PayloadAttestationMessage,
    /// `proposer_preferences` (gloas): proposers' fee recipient and gas limit target.
    ProposerPreferences,
    /// `inclusion_list` (heze): signed inclusion lists.
    InclusionList,
}

/// The name table: `(name or name prefix, takes a subnet id)`, in [`GossipKind`] order.
const NAMES: [(&str, bool); 16] = [
    ("beacon_block", false),
    ("beacon_aggregate_and_proof", false),
    ("beacon_attestation", true),
    ("voluntary_exit", false),
    ("proposer_slashing", false),
    ("attester_slashing", false),
    ("sync_committee_contribution_and_proof", false),
    ("sync_committee", true),
    ("bls_to_execution_change", false),
    ("blob_sidecar", true),
    ("data_column_sidecar", true),
    ("execution_payload_bid", false),
    ("execution_payload", false),
    ("payload_attestation_message", false),
    ("proposer_preferences", false),
    ("inclusion_list", false),
];

impl GossipKind {
    fn row(self) -> (usize, Option<u64>) {
        match self {
            Self::BeaconBlock => (0, None),
            Self::BeaconAggregateAndProof => (1, None),
            Self::BeaconAttestation(s) => (2, Some(s)),
            Self::VoluntaryExit => (3, None),
            Self::ProposerSlashing => (4, None),
            Self::AttesterSlashing => (5, None),
            Self::SyncCommitteeContributionAndProof => (6, None),
            Self::SyncCommittee(s) => (7, Some(s)),
            Self::BlsToExecutionChange => (8, None),
            Self::BlobSidecar(s) => (9, Some(s)),
            Self::DataColumnSidecar(s) => (10, Some(s)),
            Self::ExecutionPayloadBid => (11, None),
            Self::ExecutionPayload => (12, None),
            Self::PayloadAttestationMessage => (13, None),
            Self::ProposerPreferences => (14, None),
            Self::InclusionList => (15, None),
        }
    }

    fn from_row(row: usize, subnet: Option<u64>) -> Option<Self> {
        Some(match (row, subnet) {
            (0, None) => Self::BeaconBlock,
            (1, None) => Self::BeaconAggregateAndProof,
            (2, Some(s)) => Self::BeaconAttestation(s),
            (3, None) => Self::VoluntaryExit,
            (4, None) => Self::ProposerSlashing,
            (5, None) => Self::AttesterSlashing,
            (6, None) => Self::SyncCommitteeContributionAndProof,
            (7, Some(s)) => Self::SyncCommittee(s),
            (8, None) => Self::BlsToExecutionChange,
            (9, Some(s)) => Self::BlobSidecar(s),
            (10, Some(s)) => Self::DataColumnSidecar(s),
            (11, None) => Self::ExecutionPayloadBid,
            (12, None) => Self::ExecutionPayload,
            (13, None) => Self::PayloadAttestationMessage,
            (14, None) => Self::ProposerPreferences,
            (15, None) => Self::InclusionList,
            _ => return None,
        })
    }

    /// Every kind's base name (without subnet), in [`GossipKind`] order: the names a topic
    /// selection (`pheme observe --topics`) is made of.
    pub fn base_names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(name, _)| *name)
    }

    /// The kind's base name without subnet (`beacon_attestation` for every attestation subnet).
    pub fn base_name(self) -> &'static str {
        NAMES[self.row().0].0
    }

    /// The subnet id, for subnet topics.
    pub fn subnet(self) -> Option<u64> {
        self.row().1
    }

    /// Whether this topic is live at `fork` on `chain` (its family exists, its subnet is in
    /// range): the membership test of [`GossipKind::all_for_fork`] without building the list.
    pub fn exists_at(self, chain: &ChainSpec, fork: Fork) -> bool {
        match self {
            Self::BeaconBlock
            | Self::BeaconAggregateAndProof
            | Self::VoluntaryExit
            | Self::ProposerSlashing
            | Self::AttesterSlashing => true,
            Self::BeaconAttestation(s) => s < chain.attestation_subnet_count,
            Self::SyncCommitteeContributionAndProof => fork >= Fork::Altair,
            Self::SyncCommittee(s) => fork >= Fork::Altair && s < SYNC_COMMITTEE_SUBNET_COUNT,
            Self::BlsToExecutionChange => fork >= Fork::Capella,
            Self::BlobSidecar(s) => s < chain.blob_sidecar_subnets(fork),
            Self::DataColumnSidecar(s) => {
                fork >= Fork::Fulu && s < chain.data_column_sidecar_subnet_count
            }
            Self::ExecutionPayloadBid
            | Self::ExecutionPayload
            | Self::PayloadAttestationMessage
            | Self::ProposerPreferences => fork >= Fork::Gloas,
            Self::InclusionList => fork >= Fork::Heze,
        }
    }

    /// Every topic kind live at `fork` on `chain`, in table order, subnets ascending.
    pub fn all_for_fork(chain: &ChainSpec, fork: Fork) -> Vec<GossipKind> {
        let mut out = vec![Self::BeaconBlock, Self::BeaconAggregateAndProof];
        out.extend((0..chain.attestation_subnet_count).map(Self::BeaconAttestation));
        out.extend([
            Self::VoluntaryExit,
            Self::ProposerSlashing,
            Self::AttesterSlashing,
        ]);
        if fork >= Fork::Altair {
            out.push(Self::SyncCommitteeContributionAndProof);
            out.extend((0..SYNC_COMMITTEE_SUBNET_COUNT).map(Self::SyncCommittee));
        }
        if fork >= Fork::Capella {
            out.push(Self::BlsToExecutionChange);
        }
        out.extend((0..chain.blob_sidecar_subnets(fork)).map(Self::BlobSidecar));
        if fork >= Fork::Fulu {
            out.extend((0..chain.data_column_sidecar_subnet_count).map(Self::DataColumnSidecar));
        }
        if fork >= Fork::Gloas {
            out.extend([
                Self::ExecutionPayloadBid,
                Self::ExecutionPayload,
                Self::PayloadAttestationMessage,
                Self::ProposerPreferences,
            ]);
        }
        if fork >= Fork::Heze {
            out.push(Self::InclusionList);
        }
        out
    }
}

impl fmt::Display for GossipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.subnet() {
            Some(subnet) => write!(f, "{}_{subnet}", self.base_name()),
            None => f.write_str(self.base_name()),
        }
    }
}

impl FromStr for GossipKind {
    type Err = SpecError;

    /// Parses a topic name (`beacon_attestation_12`); subnet ids are decimal without padding.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        for (row, (name, subnetted)) in NAMES.iter().enumerate() {
            let subnet = if *subnetted {
                let Some(digits) = s.strip_prefix(name).and_then(|r| r.strip_prefix('_')) else {
                    continue;
                };
                match digits.parse::<u64>() {
                    Ok(n) if n.to_string() == digits => Some(n),
                    _ => continue,
                }
            } else if s == *name {
                None
            } else {
                continue;
            };
            if let Some(kind) = Self::from_row(row, subnet) {
                return Ok(kind);
            }
        }
        Err(SpecError::UnknownTopic(s.to_owned()))
    }
}

impl serde::Serialize for GossipKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GossipKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Network;

    #[test]
    fn names_round_trip_for_every_fork() {
        let chain = Network::Mainnet.chain_spec().unwrap();
        for fork in [
            Fork::Phase0,
            Fork::Altair,
            Fork::Capella,
            Fork::Deneb,
            Fork::Electra,
            Fork::Fulu,
            Fork::Gloas,
            Fork::Heze,
        ] {
            for kind in GossipKind::all_for_fork(&chain, fork) {
                assert_eq!(kind.to_string().parse::<GossipKind>().unwrap(), kind);
            }
        }
    }

    #[test]
    fn topic_counts_per_fork() {
        let chain = Network::Mainnet.chain_spec().unwrap();
        let count = |f| GossipKind::all_for_fork(&chain, f).len();
        assert_eq!(count(Fork::Phase0), 2 + 64 + 3);
        assert_eq!(count(Fork::Altair), 69 + 1 + 4);
        assert_eq!(count(Fork::Capella), 74 + 1);
        assert_eq!(count(Fork::Deneb), 75 + 6);
        assert_eq!(count(Fork::Electra), 75 + 9);
        assert_eq!(count(Fork::Fulu), 75 + 128);
        // Gloas: bids, envelopes, payload attestations, proposer preferences; Heze: inclusion lists.
        assert_eq!(count(Fork::Gloas), 203 + 4);
        assert_eq!(count(Fork::Heze), 207 + 1);
        let gnosis = Network::Gnosis.chain_spec().unwrap();
        assert_eq!(
            GossipKind::all_for_fork(&gnosis, Fork::Electra).len(),
            75 + 2
        );
    }

    #[test]
    fn exists_at_agrees_with_all_for_fork() {
        let chain = Network::Mainnet.chain_spec().unwrap();
        for fork in [
            Fork::Phase0,
            Fork::Altair,
            Fork::Capella,
            Fork::Deneb,
            Fork::Electra,
            Fork::Fulu,
            Fork::Gloas,
            Fork::Heze,
        ] {
            let live = GossipKind::all_for_fork(&chain, fork);
            let candidates = GossipKind::all_for_fork(&chain, Fork::Electra)
                .into_iter()
                .chain(GossipKind::all_for_fork(&chain, Fork::Heze))
                .chain([
                    GossipKind::BeaconAttestation(64),
                    GossipKind::SyncCommittee(4),
                    GossipKind::DataColumnSidecar(128),
                ]);
            for kind in candidates {
                assert_eq!(
                    kind.exists_at(&chain, fork),
                    live.contains(&kind),
                    "{kind} at {fork}"
                );
            }
        }
    }

    #[test]
    fn unknown_and_padded_names_are_errors() {
        for bad in [
            "beacon_attestation_01",
            "beacon_attestation_",
            "beacon_attestation",
            "sync_committee_x",
            "blocks",
            "beacon_block_1",
            "",
        ] {
            assert!(bad.parse::<GossipKind>().is_err(), "{bad}");
        }
        assert_eq!(
            "sync_committee_contribution_and_proof"
                .parse::<GossipKind>()
                .unwrap(),
            GossipKind::SyncCommitteeContributionAndProof
        );
        assert_eq!(
            "sync_committee_3".parse::<GossipKind>().unwrap(),
            GossipKind::SyncCommittee(3)
        );
        // `execution_payload` is a prefix of `execution_payload_bid`: both parse exactly.
        assert_eq!(
            "execution_payload".parse::<GossipKind>().unwrap(),
            GossipKind::ExecutionPayload
        );
        assert_eq!(
            "execution_payload_bid".parse::<GossipKind>().unwrap(),
            GossipKind::ExecutionPayloadBid
        );
        assert!("execution_payload_0".parse::<GossipKind>().is_err());
    }
}
