//! The message-id rules: the domain, the topic prefix from altair on, and one id per message.

use pheme_codec::{SszBounds, compress_block, decode_gossip, message_id};
use pheme_spec::Fork;
use sha2::{Digest, Sha256};

const TOPIC: &str = "/eth2/8c9f62fe/voluntary_exit/ssz_snappy";

fn sha20(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    let mut out = [0u8; 20];
    out.copy_from_slice(&h.finalize()[..20]);
    out
}

#[test]
fn altair_and_later_prefix_the_topic() {
    let ssz = [3u8; 112];
    let id = message_id(Fork::Fulu, TOPIC, Ok(&ssz));
    let len = (TOPIC.len() as u64).to_le_bytes();
    assert_eq!(id, sha20(&[&[1, 0, 0, 0], &len, TOPIC.as_bytes(), &ssz]));
    assert_eq!(message_id(Fork::Altair, TOPIC, Ok(&ssz)), id);
}

#[test]
fn phase0_does_not() {
    let ssz = [3u8; 112];
    assert_eq!(
        message_id(Fork::Phase0, TOPIC, Ok(&ssz)),
        sha20(&[&[1, 0, 0, 0], &ssz])
    );
}

#[test]
fn undecodable_data_uses_the_invalid_domain_over_the_raw_bytes() {
    let raw = [0xffu8; 30];
    let decoded = decode_gossip(TOPIC, Fork::Electra, &raw, SszBounds::fixed(112));
    assert!(decoded.ssz.is_err());
    let len = (TOPIC.len() as u64).to_le_bytes();
    assert_eq!(
        decoded.message_id,
        sha20(&[&[0, 0, 0, 0], &len, TOPIC.as_bytes(), &raw])
    );
    // Valid data: the id of the decompressed bytes, not of the wire bytes.
    let ssz = [9u8; 112];
    let decoded = decode_gossip(
        TOPIC,
        Fork::Electra,
        &compress_block(&ssz),
        SszBounds::fixed(112),
    );
    assert_eq!(decoded.ssz.as_deref().unwrap(), &ssz[..]);
    assert_eq!(
        decoded.message_id,
        message_id(Fork::Electra, TOPIC, Ok(&ssz))
    );
}
