//! ENR field decoding (`pheme-discovery`): the eth2 / attnets / syncnets / cgc / nfd / quic
//! values, in three ways picked by the first byte:
//! - 0: the bytes as `enr:` text (base64, RLP, signature), read into a `PeerInfo`;
//! - 1: the bytes as one field's value, through each field decoder, which must round-trip;
//! - 2: a record signed with a fixed key whose fields hold the fuzzed RLP values, so that field
//!   decoding is reached behind a valid signature; read both directly and via its text.
#![no_main]

use std::sync::LazyLock;

use discv5::enr::CombinedKey;
use libfuzzer_sys::fuzz_target;
use pheme_discovery::{
    Attnets, ENR_KEY_ATTNETS, ENR_KEY_CGC, ENR_KEY_ETH2, ENR_KEY_NFD, ENR_KEY_QUIC,
    ENR_KEY_SYNCNETS, Enr, PeerInfo, Syncnets, decode_cgc, decode_eth2, decode_nfd, encode_cgc,
    encode_eth2,
};

static KEY: LazyLock<CombinedKey> =
    LazyLock::new(|| CombinedKey::secp256k1_from_bytes(&mut [7u8; 32]).expect("a valid key"));

const KEYS: [&str; 6] = [
    ENR_KEY_ETH2,
    ENR_KEY_ATTNETS,
    ENR_KEY_SYNCNETS,
    ENR_KEY_CGC,
    ENR_KEY_NFD,
    ENR_KEY_QUIC,
];

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = PeerInfo::from_enr_text(text);
            }
        }
        1 => fields(rest),
        _ => signed(rest),
    }
});

fn fields(bytes: &[u8]) {
    if let Ok(id) = decode_eth2(bytes) {
        assert_eq!(&encode_eth2(&id)[..], bytes);
    }
    if let Ok(digest) = decode_nfd(bytes) {
        assert_eq!(&digest.0[..], bytes);
    }
    if let Ok(cgc) = decode_cgc(bytes) {
        assert_eq!(encode_cgc(cgc), bytes);
    }
    if let Ok(a) = Attnets::from_ssz_bytes(bytes) {
        assert_eq!(&a.to_ssz_bytes()[..], bytes);
        assert!(a.iter().all(|s| a.contains(s)));
    }
    if let Ok(s) = Syncnets::from_ssz_bytes(bytes) {
        assert_eq!(&s.to_ssz_bytes()[..], bytes);
        assert!(s.iter().all(|n| s.contains(n)));
    }
}

/// `[key index][len][value bytes]...`: raw RLP values under eth2 keys.
fn signed(mut bytes: &[u8]) {
    let mut builder = Enr::builder();
    builder.ip4(std::net::Ipv4Addr::LOCALHOST).tcp4(9000);
    while let [key, len, rest @ ..] = bytes {
        let len = usize::from(*len).min(rest.len());
        let (value, tail) = rest.split_at(len);
        builder.add_value_rlp(KEYS[usize::from(*key) % KEYS.len()], value.to_vec().into());
        bytes = tail;
    }
    // Records over 300 bytes are refused by the builder. Values that are not one RLP item make a
    // record that does not parse back (the builder takes raw RLP on trust): skip those.
    let Ok(built) = builder.build(&KEY) else {
        return;
    };
    let text = built.to_base64();
    let Ok(enr) = text.parse::<Enr>() else {
        return;
    };
    let direct = PeerInfo::from_enr(&enr);
    let via_text = PeerInfo::from_enr_text(&text);
    match (direct, via_text) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("the record reads {a:?}, its text {b:?}"),
    }
}
