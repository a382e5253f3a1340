//! ENR fields: round trips, malformed values, the networks' bootnodes.

use std::net::{Ipv4Addr, Ipv6Addr};

use alloy_rlp::{Bytes, Encodable};
use libp2p::multiaddr::{Multiaddr, Protocol};
use pheme_discovery::{
    Attnets, ENR_KEY_ATTNETS, ENR_KEY_CGC, ENR_KEY_ETH2, ENR_KEY_NFD, ENR_KEY_QUIC, ENR_KEY_QUIC6,
    ENR_KEY_SYNCNETS, Enr, EnrAddresses, Eth2Enr, Eth2Fields, FieldErrorKind, LocalIdentity,
    PeerInfo, PeerInfoError, Syncnets, build_enr, enr_fork_id, parse_enr,
};
use pheme_spec::{ForkDigest, Network};

fn addresses() -> EnrAddresses {
    EnrAddresses {
        ip4: Some(Ipv4Addr::new(192, 0, 2, 7)),
        ip6: Some("2001:db8::7".parse::<Ipv6Addr>().unwrap()),
        udp4: Some(9000),
        udp6: Some(9002),
        tcp4: Some(9010),
        tcp6: Some(9012),
        quic4: Some(9001),
        quic6: Some(9003),
    }
}

#[test]
fn every_field_round_trips_through_text() {
    let chain = pheme_spec::load_network("mainnet").unwrap();
    let identity = LocalIdentity::generate();
    let key = identity.enr_key().unwrap();
    let attnets = Attnets::from_subnets([0, 31, 63]).unwrap();
    let syncnets = Syncnets::from_subnets([2]).unwrap();
    // Electra, with Fulu ahead: eth2.next_* and nfd name Fulu.
    let fields = Eth2Fields::for_chain(&chain, 364_032, attnets, syncnets, 128);
    assert_eq!(
        fields.next_fork_digest,
        Some("cc2c5cdb".parse::<ForkDigest>().unwrap())
    );
    let enr = build_enr(&key, &addresses(), &fields).unwrap();
    let text = enr.to_base64();
    assert!(text.starts_with("enr:"));
    assert!(enr.size() <= 300, "{} bytes", enr.size());

    let peer = PeerInfo::from_enr_text(&text).unwrap();
    assert_eq!(peer.node_id, enr.node_id());
    assert_eq!(peer.peer_id, identity.peer_id());
    assert_eq!(peer.fork_id, Some(enr_fork_id(&chain, 364_032)));
    assert_eq!(peer.fork_digest().unwrap().to_string(), "ad532ceb");
    assert_eq!(peer.attnets, attnets);
    assert_eq!(peer.syncnets, syncnets);
    assert_eq!(peer.custody_group_count, Some(128));
    assert_eq!(peer.next_fork_digest, fields.next_fork_digest);
    assert_eq!(peer.seq, enr.seq());
    let a = addresses();
    let ip4 = || Multiaddr::empty().with(Protocol::Ip4(a.ip4.unwrap()));
    let ip6 = || Multiaddr::empty().with(Protocol::Ip6(a.ip6.unwrap()));
    assert_eq!(
        peer.tcp_addrs,
        vec![
            ip4().with(Protocol::Tcp(9010)),
            ip6().with(Protocol::Tcp(9012))
        ]
    );
    assert_eq!(
        peer.quic_addrs,
        vec![
            ip4().with(Protocol::Udp(9001)).with(Protocol::QuicV1),
            ip6().with(Protocol::Udp(9003)).with(Protocol::QuicV1)
        ]
    );
    assert_eq!(peer.dial_addrs().len(), 4);
    assert!(
        peer.dial_addrs()
            .iter()
            .all(|m| m.iter().last() == Some(Protocol::P2p(identity.peer_id())))
    );
    let back = parse_enr(&text).unwrap();
    assert_eq!(back.udp4(), Some(9000));
    assert_eq!(back.udp6(), Some(9002));
    assert_eq!(back.quic4().unwrap(), Some(9001));
    assert_eq!(back.quic6().unwrap(), Some(9003));
}

#[test]
fn cgc_zero_is_the_empty_string_and_absent_fields_are_none() {
    let chain = pheme_spec::load_network("mainnet").unwrap();
    let key = LocalIdentity::generate().enr_key().unwrap();
    let fields = Eth2Fields::for_chain(&chain, 420_000, Attnets::EMPTY, Syncnets::EMPTY, 0);
    let enr = build_enr(&key, &EnrAddresses::default(), &fields).unwrap();
    assert_eq!(enr.get_raw_rlp(ENR_KEY_CGC), Some(&[0x80][..]));
    assert_eq!(enr.custody_group_count().unwrap(), Some(0));
    // After the last scheduled change, nfd is zeros.
    assert_eq!(enr.next_fork_digest().unwrap(), Some(ForkDigest([0; 4])));

    let bare = Enr::builder().build(&key).unwrap();
    let peer = PeerInfo::from_enr(&bare).unwrap();
    assert_eq!(peer.fork_id, None);
    assert_eq!(peer.custody_group_count, None);
    assert_eq!(peer.next_fork_digest, None);
    assert!(peer.attnets.is_empty() && peer.syncnets.is_empty());
    assert!(peer.tcp_addrs.is_empty() && peer.quic_addrs.is_empty());
}

/// A record whose `key` holds the raw RLP item `rlp`.
fn with_raw(key: &str, rlp: Vec<u8>) -> Enr {
    let signer = LocalIdentity::generate().enr_key().unwrap();
    Enr::builder()
        .ip4(Ipv4Addr::LOCALHOST)
        .udp4(9000)
        .add_value_rlp(key, rlp.into())
        .build(&signer)
        .unwrap()
}

fn bytes_rlp(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Bytes::copy_from_slice(value).encode(&mut out);
    out
}

fn list_rlp() -> Vec<u8> {
    let mut out = Vec::new();
    alloy_rlp::encode_list::<u16, u16>(&[1, 2], &mut out);
    out
}

fn field_error(enr: &Enr) -> (&'static str, FieldErrorKind) {
    // Through text too: what a peer receives is text or RLP, never our Enr value.
    let via_text = PeerInfo::from_enr_text(&enr.to_base64()).unwrap_err();
    match (PeerInfo::from_enr(enr).unwrap_err(), via_text) {
        (PeerInfoError::Field(e), PeerInfoError::Field(t)) => {
            assert_eq!(e, t);
            (e.key, e.kind)
        }
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn malformed_field_bytes_are_typed_errors() {
    let wrong = |expected, actual| FieldErrorKind::WrongLength { expected, actual };
    let cases: Vec<(&str, Vec<u8>, FieldErrorKind)> = vec![
        (ENR_KEY_ETH2, bytes_rlp(&[0; 15]), wrong(16, 15)),
        (ENR_KEY_ETH2, bytes_rlp(&[0; 17]), wrong(16, 17)),
        (ENR_KEY_ETH2, bytes_rlp(&[]), wrong(16, 0)),
        (ENR_KEY_ATTNETS, bytes_rlp(&[0xff; 7]), wrong(8, 7)),
        (ENR_KEY_ATTNETS, bytes_rlp(&[0xff; 64]), wrong(8, 64)),
        (
            ENR_KEY_SYNCNETS,
            bytes_rlp(&[0x10]),
            FieldErrorKind::PaddingBitsSet,
        ),
        (ENR_KEY_SYNCNETS, bytes_rlp(&[1, 0]), wrong(1, 2)),
        (ENR_KEY_CGC, bytes_rlp(&[0, 4]), FieldErrorKind::LeadingZero),
        (
            ENR_KEY_CGC,
            bytes_rlp(&[1, 0]),
            FieldErrorKind::OutOfRange {
                value: 256,
                max: 128,
            },
        ),
        (ENR_KEY_NFD, bytes_rlp(&[1, 2, 3]), wrong(4, 3)),
    ];
    for (key, rlp, kind) in cases {
        let enr = with_raw(key, rlp.clone());
        assert_eq!(
            field_error(&enr),
            (key, kind),
            "{key} = {}",
            hex::encode(&rlp)
        );
    }
    // A list where a byte string belongs, and a port too long for u16: RLP errors.
    for key in [
        ENR_KEY_ETH2,
        ENR_KEY_ATTNETS,
        ENR_KEY_SYNCNETS,
        ENR_KEY_CGC,
        ENR_KEY_NFD,
        ENR_KEY_QUIC,
        ENR_KEY_QUIC6,
    ] {
        let (k, kind) = field_error(&with_raw(key, list_rlp()));
        assert_eq!(k, key);
        assert!(matches!(kind, FieldErrorKind::Rlp(_)), "{key}: {kind:?}");
    }
    let (k, kind) = field_error(&with_raw(ENR_KEY_QUIC, bytes_rlp(&[1, 2, 3])));
    assert_eq!(k, ENR_KEY_QUIC);
    assert!(matches!(kind, FieldErrorKind::Rlp(_)));
}

#[test]
fn malformed_text_is_an_error() {
    for text in [
        "",
        "enr:",
        "enr:!!!",
        "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0",
    ] {
        assert!(matches!(
            PeerInfo::from_enr_text(text),
            Err(PeerInfoError::InvalidText(_))
        ));
    }
    let long = format!("enr:{}", "A".repeat(100_000));
    assert!(matches!(
        PeerInfo::from_enr_text(&long),
        Err(PeerInfoError::InvalidText(_))
    ));
}

#[test]
fn every_network_bootnode_parses_into_peer_info() {
    for network in Network::ALL {
        let chain = network.chain_spec().unwrap();
        assert!(
            !chain.bootnodes.is_empty(),
            "{} has no bootnodes",
            network.name()
        );
        for (i, text) in chain.bootnodes.iter().enumerate() {
            let peer = PeerInfo::from_enr_text(text)
                .unwrap_or_else(|e| panic!("{} bootnode {i}: {e}", network.name()));
            assert_eq!(
                peer.peer_id,
                pheme_discovery::peer_id_from_enr(&peer.enr).unwrap()
            );
            assert!(
                peer.enr.udp4_socket().is_some() || peer.enr.udp6_socket().is_some(),
                "{} bootnode {i} has no UDP socket",
                network.name()
            );
        }
    }
}
