//! Every decoder is total: arbitrary input gives a value or a typed error, never a panic.

use alloy_rlp::{Bytes, Encodable};
use pheme_discovery::{
    Attnets, ENR_KEY_ATTNETS, ENR_KEY_CGC, ENR_KEY_ETH2, ENR_KEY_NFD, ENR_KEY_QUIC, ENR_KEY_QUIC6,
    ENR_KEY_SYNCNETS, Enr, LocalIdentity, PeerInfo, Syncnets, decode_cgc, decode_eth2, decode_nfd,
    encode_cgc,
};
use proptest::prelude::*;

const KEYS: [&str; 7] = [
    ENR_KEY_ETH2,
    ENR_KEY_ATTNETS,
    ENR_KEY_SYNCNETS,
    ENR_KEY_CGC,
    ENR_KEY_NFD,
    ENR_KEY_QUIC,
    ENR_KEY_QUIC6,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn value_decoders_are_total(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_eth2(&bytes);
        let _ = decode_nfd(&bytes);
        let _ = Attnets::from_ssz_bytes(&bytes);
        let _ = Syncnets::from_ssz_bytes(&bytes);
        if let Ok(v) = decode_cgc(&bytes) {
            prop_assert_eq!(encode_cgc(v), bytes);
        }
    }

    #[test]
    fn enr_text_parsing_is_total(text in "(enr:)?[A-Za-z0-9_-]{0,500}") {
        let _ = PeerInfo::from_enr_text(&text);
    }

    #[test]
    fn arbitrary_field_values_never_panic(
        key in 0..KEYS.len(),
        value in proptest::collection::vec(any::<u8>(), 0..40),
        as_list in any::<bool>(),
    ) {
        let mut rlp = Vec::new();
        if as_list {
            alloy_rlp::encode_list::<Bytes, Bytes>(&[Bytes::from(value)], &mut rlp);
        } else {
            Bytes::from(value).encode(&mut rlp);
        }
        let signer = LocalIdentity::generate().enr_key().unwrap();
        let enr = Enr::builder().add_value_rlp(KEYS[key], rlp.into()).build(&signer).unwrap();
        let direct = PeerInfo::from_enr(&enr);
        let via_text = PeerInfo::from_enr_text(&enr.to_base64());
        prop_assert_eq!(direct.is_ok(), via_text.is_ok());
    }
}
