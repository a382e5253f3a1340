//! The req/resp and ENR containers (no spec vectors exist for them): sizes from the p2p spec,
//! SSZ and JSON round trips.

use pheme_types::p2p::{
    BeaconBlocksByRangeRequest, EnrForkId, MetaDataV1, MetaDataV2, MetaDataV3, Status, StatusV2,
};
use pheme_types::primitives::ForkDigest;
use pheme_types::ssz_rs::{Deserialize, SimpleSerialize, serialize};

fn round_trip<T>(v: T, size: usize)
where
    T: SimpleSerialize
        + PartialEq
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    let bytes = serialize(&v).unwrap();
    assert_eq!(bytes.len(), size, "{v:?}");
    assert_eq!(<T as Deserialize>::deserialize(&bytes).unwrap(), v);
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(serde_json::from_value::<T>(json).unwrap(), v);
    assert!(
        <T as Deserialize>::deserialize(&bytes[..size - 1]).is_err(),
        "truncated"
    );
}

#[test]
fn sizes_and_round_trips() {
    let digest = ForkDigest::try_from(&[0x8c, 0x9f, 0x62, 0xfe][..]).unwrap();
    round_trip(
        Status {
            fork_digest: digest.clone(),
            finalized_epoch: 7,
            head_slot: 9,
            ..Default::default()
        },
        84,
    );
    round_trip(
        StatusV2 {
            fork_digest: digest.clone(),
            earliest_available_slot: 3,
            ..Default::default()
        },
        92,
    );
    let mut attnets = pheme_types::ssz_rs::Bitvector::<64>::default();
    attnets.set(5, true);
    round_trip(
        MetaDataV1 {
            seq_number: 2,
            attnets: attnets.clone(),
        },
        16,
    );
    round_trip(
        MetaDataV2 {
            seq_number: 2,
            attnets: attnets.clone(),
            ..Default::default()
        },
        17,
    );
    round_trip(
        MetaDataV3 {
            seq_number: 2,
            attnets,
            custody_group_count: 4,
            ..Default::default()
        },
        25,
    );
    round_trip(
        EnrForkId {
            fork_digest: digest,
            next_fork_epoch: u64::MAX,
            ..Default::default()
        },
        16,
    );
    round_trip(
        BeaconBlocksByRangeRequest {
            start_slot: 100,
            count: 64,
            step: 1,
        },
        24,
    );
}

#[test]
fn json_is_the_beacon_api_convention() {
    let v = serde_json::to_value(EnrForkId {
        next_fork_epoch: u64::MAX,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(v["next_fork_epoch"], "18446744073709551615");
    assert_eq!(v["fork_digest"], "0x00000000");
}
