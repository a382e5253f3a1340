//! Peer exchange with signed peer records.

use bytes::Bytes;
use libp2p_core::{Multiaddr, PeerRecord};
use libp2p_identity::Keypair;
use pheme_router::wire::PeerInfo;
use pheme_router::{Event, PxError, PxPeer, RouterConfig, verify_px_entry};

use crate::harness::*;

fn addr(port: u16) -> Multiaddr {
    format!("/ip4/192.0.2.7/tcp/{port}").parse().unwrap()
}

fn entry(peer: &Keypair, signer: &Keypair, interop: bool, port: u16) -> PeerInfo {
    let record = if interop {
        PeerRecord::new_interop(signer, vec![addr(port)])
    } else {
        PeerRecord::new(signer, vec![addr(port)])
    }
    .unwrap();
    PeerInfo {
        peer_id: Some(Bytes::from(peer.public().to_peer_id().to_bytes())),
        signed_peer_record: Some(Bytes::from(
            record.into_signed_envelope().into_protobuf_encoding(),
        )),
    }
}

#[test]
fn records_are_checked_against_the_peer_they_name() {
    let (a, b) = (Keypair::generate_ed25519(), Keypair::generate_secp256k1());
    let ok = verify_px_entry(&entry(&a, &a, true, 1)).unwrap();
    assert_eq!(
        ok,
        PxPeer {
            peer: a.public().to_peer_id(),
            addrs: vec![addr(1)]
        }
    );
    // rust-libp2p's identify signs under the legacy domain: accepted too.
    assert_eq!(
        verify_px_entry(&entry(&b, &b, false, 2)).unwrap().addrs,
        vec![addr(2)]
    );
    assert_eq!(
        verify_px_entry(&entry(&a, &b, true, 3)),
        Err(PxError::Mismatch)
    );
    let mut garbage = entry(&a, &a, true, 4);
    garbage.signed_peer_record = Some(Bytes::from_static(b"not an envelope"));
    assert_eq!(verify_px_entry(&garbage), Err(PxError::Envelope));
    // A flipped byte in the signed payload breaks the signature.
    let mut tampered = entry(&a, &a, true, 5);
    let mut raw = tampered.signed_peer_record.take().unwrap().to_vec();
    let n = raw.len();
    raw[n - 70] ^= 1;
    tampered.signed_peer_record = Some(Bytes::from(raw));
    assert!(verify_px_entry(&tampered).is_err());
    assert_eq!(
        verify_px_entry(&PeerInfo {
            peer_id: Some(Bytes::from_static(b"\x00\x01")),
            signed_peer_record: None
        }),
        Err(PxError::PeerId)
    );
    // No record: the peer alone (the spec allows it), no addresses.
    let bare = PeerInfo {
        peer_id: Some(Bytes::from(a.public().to_peer_id().to_bytes())),
        signed_peer_record: None,
    };
    assert!(verify_px_entry(&bare).unwrap().addrs.is_empty());
}

#[test]
fn px_is_taken_only_from_peers_above_accept_px_threshold() {
    let mut lab = Lab::scored();
    let good = lab.peer_on(true, &[TOPIC]);
    let low = lab.peer_on(true, &[TOPIC]);
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    lab.take_events();
    lab.r.set_application_score(&good, 6.0); // accept_px_threshold is 5
    let (x, y, z) = (
        Keypair::generate_ed25519(),
        Keypair::generate_ed25519(),
        Keypair::generate_ed25519(),
    );
    let offer = vec![
        entry(&x, &x, true, 10),
        entry(&y, &z, true, 11), // signed by someone else
        entry(&z, &z, false, 12),
    ];
    lab.recv(low, prune(TOPIC, Some(60), offer.clone()));
    assert!(
        !lab.take_events()
            .iter()
            .any(|e| matches!(e, Event::PeerExchange { .. }))
    );
    lab.recv(good, prune(TOPIC, Some(60), offer));
    let px: Vec<_> = lab
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::PeerExchange { from, peers, .. } => Some((from, peers)),
            _ => None,
        })
        .collect();
    assert_eq!(px.len(), 1);
    assert_eq!(px[0].0, good);
    let mut got: Vec<_> = px[0].1.iter().map(|p| p.peer).collect();
    got.sort();
    let mut want = vec![x.public().to_peer_id(), z.public().to_peer_id()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(lab.r.stats().px_record_invalid, 1);
}

#[test]
fn prunes_for_oversubscription_offer_peers_with_their_records() {
    let cfg = RouterConfig::builder()
        .do_px(true)
        .mesh_n_high(9)
        .build()
        .unwrap();
    let mut lab = Lab::new(cfg, None);
    let keys: Vec<_> = (0..12).map(|_| Keypair::generate_ed25519()).collect();
    let mut peers = Vec::new();
    for k in &keys {
        let p = k.public().to_peer_id();
        lab.r.add_peer(
            lab.now,
            p,
            pheme_router::PeerConnection {
                protocol: pheme_router::Protocol::V1_2,
                outbound: false,
                ip: None,
            },
        );
        let record = PeerRecord::new_interop(k, vec![addr(20)]).unwrap();
        lab.r.set_peer_record(
            p,
            Bytes::from(record.into_signed_envelope().into_protobuf_encoding()),
        );
        lab.recv(p, subs(&[TOPIC]));
        peers.push(p);
    }
    lab.r.subscribe(lab.now, TOPIC);
    lab.pump();
    for p in &peers {
        lab.recv(*p, graft(TOPIC));
    }
    let refused: Vec<_> = peers
        .iter()
        .filter_map(|p| {
            flatten(&lab.take(p))
                .prunes
                .first()
                .cloned()
                .map(|x| (*p, x))
        })
        .collect();
    assert!(!refused.is_empty());
    for (to, prune) in refused {
        assert!(!prune.peers.is_empty());
        for info in &prune.peers {
            let checked = verify_px_entry(info).unwrap();
            assert_ne!(checked.peer, to);
            assert_eq!(checked.addrs, vec![addr(20)]);
        }
    }
}
