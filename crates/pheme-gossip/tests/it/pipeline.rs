//! The validator's whole path: verdict counts, and the stateful verdict deciding what is
//! recorded.

use pheme_gossip::{
    Decision, GossipPayload, GossipValidator, InboundMessage, NoState, StatefulValidator, Verdict,
};
use pheme_spec::Network;
use pheme_types::mainnet::electra::SingleAttestation;

const SLOT: u64 = 13_500_000;
const TOPIC: &str = "/eth2/8c9f62fe/beacon_attestation_3/ssz_snappy";

/// The attester of an electra attestation payload.
fn attester(msg: &InboundMessage) -> Option<u64> {
    use pheme_gossip::payload::mainnet::{Attestation, Payload};
    match &*msg.payload {
        GossipPayload::Mainnet(Payload::Attestation(a)) => match &**a {
            Attestation::Electra(a) => Some(a.attester_index),
            Attestation::Phase0(_) => None,
        },
        _ => None,
    }
}

/// A beacon node's state checks that refuse one attester.
struct RefuseAttester(u64);

impl StatefulValidator for RefuseAttester {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        if attester(msg) == Some(self.0) {
            Decision::reject("bad_signature")
        } else {
            Decision::Accept
        }
    }
}

fn wire(attester: u64) -> Vec<u8> {
    let mut a = SingleAttestation {
        committee_index: 3,
        attester_index: attester,
        ..Default::default()
    };
    a.data.slot = SLOT;
    a.data.target.epoch = SLOT / 32;
    pheme_codec::compress_block(&pheme_types::ssz_rs::serialize(&a).unwrap())
}

#[test]
fn stateful_refusals_are_not_recorded() {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 1_000;
    let mut v = GossipValidator::new(chain, RefuseAttester(5));
    let refused = v.validate(TOPIC, &wire(5), now);
    assert_eq!(
        (refused.verdict, refused.reason),
        (Verdict::Reject, "bad_signature")
    );
    // Not recorded: the same message checks again (and is refused by state again, not by the cache).
    assert_eq!(v.validate(TOPIC, &wire(5), now).reason, "bad_signature");
    assert_eq!(v.validate(TOPIC, &wire(6), now).verdict, Verdict::Accept);
    let dup = v.validate(TOPIC, &wire(6), now);
    assert_eq!((dup.verdict, dup.reason), (Verdict::Ignore, "already_seen"));
    let counts = v.counts();
    assert_eq!(
        counts[&("beacon_attestation", Verdict::Reject, "bad_signature")],
        2
    );
    assert_eq!(
        counts[&("beacon_attestation", Verdict::Accept, "accepted")],
        1
    );
    assert_eq!(
        counts[&("beacon_attestation", Verdict::Ignore, "already_seen")],
        1
    );
}

#[test]
fn the_observer_accepts_what_passes_stateless_checks() {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 1_000;
    let mut v = GossipValidator::new(chain, NoState);
    assert_eq!(v.validate(TOPIC, &wire(9), now).verdict, Verdict::Accept);
    assert_eq!(
        v.validate_stateless(TOPIC, &wire(9), now).verdict,
        Verdict::Ignore
    );
    // A message-id is always there, even for garbage.
    let garbage = v.validate_stateless(TOPIC, b"junk", now);
    assert_eq!(garbage.verdict, Verdict::Reject);
    assert_ne!(garbage.message_id, [0u8; 20]);
}

#[test]
fn router_decoded_messages_take_the_routers_id_and_the_same_checks() {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 1_000;
    let mut v = GossipValidator::new(chain, NoState);
    let w = wire(11);
    let ssz = pheme_codec::decompress_block(&w, pheme_codec::SszBounds::fixed(240)).unwrap();
    let id = [7u8; 20];
    let out = v.validate_decoded(TOPIC, &ssz, id, w.len(), now);
    assert_eq!((out.verdict, out.message_id), (Verdict::Accept, id));
    assert_eq!((out.compressed_len, out.ssz_len), (w.len(), Some(240)));
    // The duplicate cache is shared with the wire path.
    assert_eq!(v.validate_stateless(TOPIC, &w, now).reason, "already_seen");
    // A payload outside the type's bounds is refused before decoding.
    let short = v.validate_decoded(TOPIC, &ssz[..239], id, 10, now);
    assert_eq!(
        (short.verdict, short.reason),
        (Verdict::Reject, "snappy_or_size")
    );
}

#[test]
fn topics_resolve_the_same_from_the_cache() {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 1_000;
    let mut v = GossipValidator::new(chain, NoState);
    // Known topic: parsed once, then cached; both passes see the same topic, kind and fork.
    let first = v.validate_stateless(TOPIC, &wire(1), now);
    let second = v.validate_stateless(TOPIC, &wire(2), now);
    assert_eq!(first.verdict, Verdict::Accept);
    assert_eq!(second.verdict, Verdict::Accept);
    assert_eq!(
        (&*first.topic, first.kind, first.fork),
        (TOPIC, second.kind, second.fork)
    );
    assert_eq!(&*second.topic, TOPIC);
    // Refused topics are never cached: the same reason, kind and fork every time.
    for (topic, reason, kind) in [
        (
            "/eth2/00000000/beacon_attestation_3/ssz_snappy",
            "unknown_fork_digest",
            true,
        ),
        (
            "/eth2/8c9f62fe/beacon_attestations/ssz_snappy",
            "unknown_topic",
            false,
        ),
    ] {
        for _ in 0..2 {
            let out = v.validate_stateless(topic, &wire(3), now);
            assert_eq!((out.verdict, out.reason), (Verdict::Reject, reason));
            assert_eq!(&*out.topic, topic);
            assert_eq!(out.kind.is_some(), kind);
            assert!(!out.detail.is_empty());
        }
    }
}

#[test]
fn counts_follow_every_message_after_being_read() {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 1_000;
    let mut v = GossipValidator::new(chain, NoState);
    let key = ("beacon_attestation", Verdict::Accept, "accepted");
    for n in 1..=3u64 {
        v.validate_stateless(TOPIC, &wire(100 + n), now);
        assert_eq!(v.counts()[&key], n);
        assert_eq!(v.counts().len(), 1);
    }
}

/// A beacon node's state checks with a bug: they panic on one attester.
struct PanicsOnAttester(u64);

impl StatefulValidator for PanicsOnAttester {
    fn validate(&self, msg: &InboundMessage) -> Decision {
        if attester(msg) == Some(self.0) {
            panic!("a bug in the node's state checks");
        }
        Decision::Accept
    }
}

#[test]
fn a_panicking_stateful_check_ignores_the_message_and_validation_goes_on() {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 1_000;
    let mut v = GossipValidator::new(chain, PanicsOnAttester(5));
    let hit = v.validate(TOPIC, &wire(5), now);
    assert_eq!(
        (hit.verdict, hit.reason),
        (Verdict::Ignore, "stateful_panicked")
    );
    // Not recorded, and the validator keeps working.
    assert_eq!(v.validate(TOPIC, &wire(5), now).reason, "stateful_panicked");
    assert_eq!(v.validate(TOPIC, &wire(6), now).verdict, Verdict::Accept);
    assert_eq!(
        v.counts()[&("beacon_attestation", Verdict::Ignore, "stateful_panicked")],
        2
    );
}

/// A node whose own cache refuses attester 7, and whose `record` panics on attester 9.
struct NodeCache;

impl StatefulValidator for NodeCache {
    fn validate(&self, _msg: &InboundMessage) -> Decision {
        Decision::Accept
    }

    fn record(&self, msg: &InboundMessage) -> Result<(), pheme_gossip::Reason> {
        match attester(msg) {
            Some(7) => Err(pheme_gossip::Reason::new("node_seen")),
            Some(9) => panic!("a bug in the node's cache"),
            _ => Ok(()),
        }
    }
}

#[test]
fn the_nodes_record_decides_last_and_a_refusal_is_not_recorded() {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 1_000;
    let mut v = GossipValidator::new(chain, NodeCache);
    let refused = v.validate(TOPIC, &wire(7), now);
    assert_eq!(
        (refused.verdict, refused.reason),
        (Verdict::Ignore, "node_seen")
    );
    let panicked = v.validate(TOPIC, &wire(9), now);
    assert_eq!(
        (panicked.verdict, panicked.reason),
        (Verdict::Ignore, "stateful_panicked")
    );
    // Neither was recorded in Pheme's cache (it would say `already_seen`).
    assert_eq!(v.validate(TOPIC, &wire(7), now).reason, "node_seen");
    assert_eq!(v.validate(TOPIC, &wire(9), now).reason, "stateful_panicked");
    assert_eq!(v.validate(TOPIC, &wire(8), now).verdict, Verdict::Accept);
    assert_eq!(v.validate(TOPIC, &wire(8), now).reason, "already_seen");
}

#[test]
fn concurrent_checks_of_one_attester_record_only_the_first() {
    use pheme_gossip::Begun;
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 1_000;
    let mut v = GossipValidator::new(chain, NoState);
    // Two different messages of attester 5 (votes for two blocks), both past the stateless
    // checks before either is decided.
    let ssz = |root: u8| {
        let mut a = SingleAttestation {
            committee_index: 3,
            attester_index: 5,
            ..Default::default()
        };
        a.data.slot = SLOT;
        a.data.target.epoch = SLOT / 32;
        a.data.beacon_block_root.0[0] = root;
        pheme_types::ssz_rs::serialize(&a).unwrap()
    };
    let (first, second) = (ssz(0), ssz(1));
    let mut begin = |ssz: &[u8], id: u8| match v.begin_decoded(TOPIC, ssz, [id; 20], 100, now, None)
    {
        Begun::Check(c) => c,
        Begun::Done(o) => panic!("refused: {o:?}"),
    };
    let a = begin(&first, 1);
    let b = begin(&second, 2);
    assert_eq!(
        v.conclude(a, Some(Decision::Accept)).verdict,
        Verdict::Accept
    );
    let late = v.conclude(b, Some(Decision::Accept));
    assert_eq!(
        (late.verdict, late.reason),
        (Verdict::Ignore, "already_seen")
    );
}

#[test]
fn a_blocks_slot_and_root_are_its_messages() {
    use pheme_types::ssz_rs::{Merkleized, serialize};
    let chain = Network::Mainnet.chain_spec().unwrap();
    let mut b = pheme_types::mainnet::fulu::SignedBeaconBlock::default();
    b.message.slot = 77;
    let ssz = serialize(&b).unwrap();
    let kind = pheme_spec::GossipKind::BeaconBlock;
    let payload = GossipPayload::decode(&chain, kind, pheme_spec::Fork::Fulu, &ssz).unwrap();
    let (slot, root) = payload.block_slot_and_root().unwrap();
    assert_eq!(slot, 77);
    assert_eq!(
        root.as_slice(),
        b.message.hash_tree_root().unwrap().as_ref()
    );
    assert!(GossipPayload::decode(&chain, kind, pheme_spec::Fork::Fulu, &ssz[1..]).is_err());
}
