//! Req/resp and discovery containers Pheme speaks (defined in the p2p spec, not the executable
//! spec: there are no ssz_static vectors for them).

use ssz_rs::prelude::*;

use crate::primitives::{ForkDigest, Root, Version, quoted};

/// `ATTESTATION_SUBNET_COUNT`.
pub const ATTESTATION_SUBNET_COUNT: usize = 64;
/// `SYNC_COMMITTEE_SUBNET_COUNT`.
pub const SYNC_COMMITTEE_SUBNET_COUNT: usize = 4;

/// `Status` v1.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct Status {
    pub fork_digest: ForkDigest,
    pub finalized_root: Root,
    #[serde(with = "quoted")]
    pub finalized_epoch: u64,
    pub head_root: Root,
    #[serde(with = "quoted")]
    pub head_slot: u64,
}

/// `Status` v2 (fulu): adds the earliest slot the node can serve.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct StatusV2 {
    pub fork_digest: ForkDigest,
    pub finalized_root: Root,
    #[serde(with = "quoted")]
    pub finalized_epoch: u64,
    pub head_root: Root,
    #[serde(with = "quoted")]
    pub head_slot: u64,
    #[serde(with = "quoted")]
    pub earliest_available_slot: u64,
}

/// `MetaData` v1 (phase0).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct MetaDataV1 {
    #[serde(with = "quoted")]
    pub seq_number: u64,
    pub attnets: Bitvector<ATTESTATION_SUBNET_COUNT>,
}

/// `MetaData` v2 (altair): adds sync committee subnets.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct MetaDataV2 {
    #[serde(with = "quoted")]
    pub seq_number: u64,
    pub attnets: Bitvector<ATTESTATION_SUBNET_COUNT>,
    pub syncnets: Bitvector<SYNC_COMMITTEE_SUBNET_COUNT>,
}

/// `MetaData` v3 (fulu): adds the custody group count.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct MetaDataV3 {
    #[serde(with = "quoted")]
    pub seq_number: u64,
    pub attnets: Bitvector<ATTESTATION_SUBNET_COUNT>,
    pub syncnets: Bitvector<SYNC_COMMITTEE_SUBNET_COUNT>,
    #[serde(with = "quoted")]
    pub custody_group_count: u64,
}

/// `ENRForkID`, the `eth2` ENR field.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct EnrForkId {
    pub fork_digest: ForkDigest,
    pub next_fork_version: Version,
    #[serde(with = "quoted")]
    pub next_fork_epoch: u64,
}

/// `BeaconBlocksByRange` request.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[allow(missing_docs)] // fields are the spec's, by the spec's names
pub struct BeaconBlocksByRangeRequest {
    #[serde(with = "quoted")]
    pub start_slot: u64,
    #[serde(with = "quoted")]
    pub count: u64,
    #[serde(with = "quoted")]
    pub step: u64,
}
