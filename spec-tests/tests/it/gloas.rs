//! Gloas and Heze messages through the gossip validator: the generated spec vectors (real SSZ
//! of the pinned executable spec) decode on their topics of a real Gloas devnet's digests, and,
//! made current, pass the stateless checks; each check then refuses a message changed to fail
//! it, with the spec's verdict.

use std::path::PathBuf;

use pheme_gossip::{GossipValidator, NoState, Outcome, Verdict};
use pheme_spec::{ChainSpec, Fork, ForkVersion, GossipKind, load_network};
use pheme_types::mainnet::{gloas, heze};
use pheme_types::ssz_rs::{self, Deserialize, SimpleSerialize};

/// The devnet's first Gloas slot's successor: epoch 1 of 32-slot epochs.
const SLOT: u64 = 40;

/// glamsterdam devnet-2 (Gloas at epoch 1), with Heze scheduled at epoch 2 for its topic.
fn chain() -> ChainSpec {
    let mut chain = load_network(&format!(
        "{}/../crates/pheme-spec/testdata/glamsterdam-devnet-2/config.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for f in &mut chain.forks {
        if f.fork == Fork::Heze {
            f.epoch = 2;
            f.version = "90467850".parse::<ForkVersion>().unwrap();
        }
    }
    chain.validate().unwrap();
    chain
}

fn vector_dir(fork: &str, ty: &str) -> PathBuf {
    pheme_spec_tests::generated_root()
        .join(format!("mainnet/{fork}/ssz_static/{ty}/ssz_random/case_0"))
}

/// A generated vector's SSZ and `hash_tree_root`.
fn vector(fork: &str, ty: &str) -> (Vec<u8>, String) {
    let dir = vector_dir(fork, ty);
    let compressed = std::fs::read(dir.join("serialized.ssz_snappy")).unwrap();
    let ssz = snap::raw::Decoder::new()
        .decompress_vec(&compressed)
        .unwrap();
    let roots: serde_json::Value =
        serde_yaml_ng::from_slice(&std::fs::read(dir.join("roots.yaml")).unwrap()).unwrap();
    (ssz, roots["root"].as_str().unwrap().to_owned())
}

fn decoded<T: Deserialize>(fork: &str, ty: &str) -> T {
    T::deserialize(&vector(fork, ty).0).unwrap()
}

struct Wire {
    chain: ChainSpec,
    validator: GossipValidator<NoState>,
}

impl Wire {
    fn new() -> Wire {
        let chain = chain();
        Wire {
            validator: GossipValidator::new(chain.clone(), NoState),
            chain,
        }
    }

    /// The topic of `kind` on the digest of `epoch`.
    fn topic(&self, kind: GossipKind, epoch: u64) -> String {
        format!(
            "/eth2/{}/{kind}/ssz_snappy",
            self.chain.fork_digest_at(epoch)
        )
    }

    /// Validates `value` on `kind`'s topic of the digest in force at `SLOT` (or `epoch`), 1 s
    /// into `SLOT`.
    fn send_at<T: SimpleSerialize>(&mut self, kind: GossipKind, epoch: u64, value: &T) -> Outcome {
        let ssz = ssz_rs::serialize(value).unwrap();
        let wire = snap::raw::Encoder::new().compress_vec(&ssz).unwrap();
        let now = self.chain.clock().slot_start_ms(SLOT) + 1_000;
        let topic = self.topic(kind, epoch);
        self.validator.validate_stateless(&topic, &wire, now)
    }

    fn send<T: SimpleSerialize>(&mut self, kind: GossipKind, value: &T) -> (Verdict, &'static str) {
        let out = self.send_at(kind, SLOT / 32, value);
        (out.verdict, out.reason)
    }
}

const ACCEPT: (Verdict, &str) = (Verdict::Accept, "accepted");

#[test]
fn every_gloas_and_heze_wire_type_decodes_on_its_topic() {
    let mut wire = Wire::new();
    // (fork of the vector, type, topic, epoch of the digest, fork of the container it decodes
    // to: gloas keeps electra's `SingleAttestation`, heze gloas's aggregate).
    let cases = [
        (
            "gloas",
            "SignedBeaconBlock",
            GossipKind::BeaconBlock,
            1,
            "gloas",
        ),
        (
            "gloas",
            "SignedAggregateAndProof",
            GossipKind::BeaconAggregateAndProof,
            1,
            "gloas",
        ),
        (
            "gloas",
            "SingleAttestation",
            GossipKind::BeaconAttestation(0),
            1,
            "electra",
        ),
        (
            "gloas",
            "AttesterSlashing",
            GossipKind::AttesterSlashing,
            1,
            "gloas",
        ),
        (
            "gloas",
            "DataColumnSidecar",
            GossipKind::DataColumnSidecar(0),
            1,
            "gloas",
        ),
        (
            "gloas",
            "SignedExecutionPayloadBid",
            GossipKind::ExecutionPayloadBid,
            1,
            "gloas",
        ),
        (
            "gloas",
            "SignedExecutionPayloadEnvelope",
            GossipKind::ExecutionPayload,
            1,
            "gloas",
        ),
        (
            "gloas",
            "PayloadAttestationMessage",
            GossipKind::PayloadAttestationMessage,
            1,
            "gloas",
        ),
        (
            "gloas",
            "SignedProposerPreferences",
            GossipKind::ProposerPreferences,
            1,
            "gloas",
        ),
        (
            "heze",
            "SignedBeaconBlock",
            GossipKind::BeaconBlock,
            2,
            "heze",
        ),
        (
            "heze",
            "SignedAggregateAndProof",
            GossipKind::BeaconAggregateAndProof,
            2,
            "gloas",
        ),
        (
            "heze",
            "SignedExecutionPayloadBid",
            GossipKind::ExecutionPayloadBid,
            2,
            "heze",
        ),
        (
            "heze",
            "SignedInclusionList",
            GossipKind::InclusionList,
            2,
            "heze",
        ),
    ];
    for (fork, ty, kind, epoch, container) in cases {
        let (ssz, root) = vector(fork, ty);
        let wire_bytes = snap::raw::Encoder::new().compress_vec(&ssz).unwrap();
        let topic = wire.topic(kind, epoch);
        let now = wire.chain.clock().slot_start_ms(SLOT) + 1_000;
        let out = wire.validator.validate_stateless(&topic, &wire_bytes, now);
        assert_eq!(out.fork.map(|f| f.name()), Some(fork), "{ty} on {topic}");
        let payload = out
            .payload
            .unwrap_or_else(|| panic!("{fork} {ty} did not decode on {topic}: {}", out.detail));
        assert_eq!(payload.container_fork().name(), container, "{ty}");
        assert_eq!(payload.to_ssz().unwrap(), ssz, "{ty} re-encodes");
        let got = format!("0x{}", hex::encode(payload.hash_tree_root().unwrap()));
        assert_eq!(got, root, "{fork} {ty} hash_tree_root");
        assert!(payload.to_json().is_object(), "{ty} as JSON");
        // The random values are not current: whatever the verdict, it is a check's, not a
        // decoding failure's.
        assert!(!out.reason.contains("decode"), "{ty}: {}", out.reason);
    }
}

#[test]
fn bids_first_and_highest_per_parent_no_payment_current_slot() {
    let mut wire = Wire::new();
    let mut bid: gloas::SignedExecutionPayloadBid = decoded("gloas", "SignedExecutionPayloadBid");
    bid.message.slot = SLOT;
    bid.message.execution_payment = 0;
    bid.message.value = 1_000;
    let commitments = bid.message.blob_kzg_commitments.to_vec();
    bid.message.blob_kzg_commitments = commitments[..commitments.len().min(3)].to_vec().into();
    let kind = GossipKind::ExecutionPayloadBid;
    assert_eq!(wire.send(kind, &bid), ACCEPT);
    assert_eq!(wire.send(kind, &bid), (Verdict::Ignore, "already_seen"));
    // Another builder on the same parent must outbid it.
    bid.message.builder_index += 1;
    bid.message.value = 999;
    assert_eq!(wire.send(kind, &bid), (Verdict::Ignore, "not_highest_bid"));
    bid.message.value = 2_000;
    bid.message.execution_payment = 1;
    assert_eq!(
        wire.send(kind, &bid),
        (Verdict::Reject, "nonzero_execution_payment")
    );
    bid.message.execution_payment = 0;
    bid.message.blob_kzg_commitments = vec![Default::default(); 16].into();
    assert_eq!(wire.send(kind, &bid), (Verdict::Reject, "too_many_blobs"));
    bid.message.blob_kzg_commitments = Vec::new().into();
    // The next slot is fine, two ahead is not.
    bid.message.slot = SLOT + 1;
    assert_eq!(wire.send(kind, &bid), ACCEPT);
    bid.message.slot = SLOT + 2;
    assert_eq!(
        wire.send(kind, &bid),
        (Verdict::Ignore, "not_current_or_next_slot")
    );
}

#[test]
fn envelopes_payload_attestations_and_preferences() {
    let mut wire = Wire::new();
    let mut env: gloas::SignedExecutionPayloadEnvelope =
        decoded("gloas", "SignedExecutionPayloadEnvelope");
    env.message.payload.slot_number = SLOT;
    env.message.execution_requests.consolidations = Vec::new().into();
    env.message.execution_requests.builder_exits = Vec::new().into();
    env.message.payload.withdrawals = Vec::new().into();
    let kind = GossipKind::ExecutionPayload;
    assert_eq!(wire.send(kind, &env), ACCEPT);
    assert_eq!(wire.send(kind, &env), (Verdict::Ignore, "already_seen"));
    env.message.builder_index += 1;
    env.message.execution_requests.consolidations = vec![Default::default(); 3].into();
    assert_eq!(wire.send(kind, &env), (Verdict::Reject, "over_limit"));
    env.message.execution_requests.consolidations = Vec::new().into();
    env.message.payload.withdrawals = vec![Default::default(); 17].into();
    assert_eq!(wire.send(kind, &env), (Verdict::Reject, "over_limit"));
    env.message.payload.withdrawals = Vec::new().into();
    // No clock check (gloas `validate_execution_payload_envelope_gossip` has none): a slot
    // that has not started is the stateful check's to judge against the envelope's block (a
    // REJECT when they differ, as `gossip_execution_payload_envelope__reject_slot_mismatch`).
    env.message.payload.slot_number = SLOT + 2;
    assert_eq!(wire.send(kind, &env), ACCEPT);

    let mut ptc: gloas::PayloadAttestationMessage = decoded("gloas", "PayloadAttestationMessage");
    ptc.data.slot = SLOT;
    let kind = GossipKind::PayloadAttestationMessage;
    assert_eq!(wire.send(kind, &ptc), ACCEPT);
    assert_eq!(wire.send(kind, &ptc), (Verdict::Ignore, "already_seen"));
    ptc.validator_index += 1;
    ptc.data.slot = SLOT - 2;
    assert_eq!(wire.send(kind, &ptc), (Verdict::Ignore, "not_current_slot"));

    let mut prefs: gloas::SignedProposerPreferences = decoded("gloas", "SignedProposerPreferences");
    let kind = GossipKind::ProposerPreferences;
    // A slot of the next epoch: its proposer is known once this epoch has begun.
    prefs.message.proposal_slot = 70;
    assert_eq!(wire.send(kind, &prefs), ACCEPT);
    assert_eq!(wire.send(kind, &prefs), (Verdict::Ignore, "already_seen"));
    prefs.message.proposal_slot = SLOT - 1;
    assert_eq!(wire.send(kind, &prefs), (Verdict::Ignore, "past_slot"));
    prefs.message.proposal_slot = 3 * 32;
    assert_eq!(
        wire.send(kind, &prefs),
        (Verdict::Ignore, "proposer_unknown")
    );
}

#[test]
fn gloas_blocks_columns_and_attestations() {
    let mut wire = Wire::new();
    let mut block: gloas::SignedBeaconBlock = decoded("gloas", "SignedBeaconBlock");
    let m = &mut block.message;
    m.slot = SLOT;
    let body = &mut m.body;
    body.deposits = Vec::new().into();
    body.attester_slashings = Vec::new().into();
    body.attestations = Vec::new().into();
    let ptc = body.payload_attestations.to_vec();
    body.payload_attestations = ptc[..ptc.len().min(4)].to_vec().into();
    body.parent_execution_requests.consolidations = Vec::new().into();
    body.signed_execution_payload_bid
        .message
        .blob_kzg_commitments = Vec::new().into();
    body.signed_execution_payload_bid.message.parent_block_root = m.parent_root.clone();
    assert_eq!(wire.send(GossipKind::BeaconBlock, &block), ACCEPT);
    block.message.proposer_index += 1;
    block.message.body.deposits = vec![Default::default()].into();
    assert_eq!(
        wire.send(GossipKind::BeaconBlock, &block),
        (Verdict::Reject, "over_limit")
    );
    block.message.body.deposits = Vec::new().into();
    block
        .message
        .body
        .signed_execution_payload_bid
        .message
        .parent_block_root
        .0[0] ^= 1;
    // The node's to judge once the parent is known (gloas `validate_beacon_block_gossip`
    // orders it after two IGNOREs), not a stateless REJECT.
    assert_eq!(wire.send(GossipKind::BeaconBlock, &block), ACCEPT);

    let mut column: gloas::DataColumnSidecar = decoded("gloas", "DataColumnSidecar");
    column.index = 5;
    column.slot = SLOT;
    let cells = column.column.to_vec();
    column.column = cells[..1.max(cells.len().min(2))].to_vec().into();
    if column.column.is_empty() {
        column.column = vec![Default::default()].into();
    }
    column.kzg_proofs = vec![Default::default(); column.column.len()].into();
    assert_eq!(wire.send(GossipKind::DataColumnSidecar(5), &column), ACCEPT);
    assert_eq!(
        wire.send(GossipKind::DataColumnSidecar(5), &column),
        (Verdict::Ignore, "already_seen")
    );
    column.index = 6;
    assert_eq!(
        wire.send(GossipKind::DataColumnSidecar(5), &column),
        (Verdict::Reject, "wrong_subnet")
    );
    column.kzg_proofs = Vec::new().into();
    column.column = Vec::new().into();
    assert_eq!(
        wire.send(GossipKind::DataColumnSidecar(6), &column),
        (Verdict::Reject, "malformed_column")
    );

    // data.index is the payload status from gloas on: 0 or 1.
    let mut att: gloas::SingleAttestation = decoded("gloas", "SingleAttestation");
    att.committee_index = 3;
    att.data.slot = SLOT;
    att.data.target.epoch = SLOT / 32;
    att.data.index = 1;
    assert_eq!(wire.send(GossipKind::BeaconAttestation(3), &att), ACCEPT);
    att.attester_index += 1;
    att.data.index = 2;
    assert_eq!(
        wire.send(GossipKind::BeaconAttestation(3), &att),
        (Verdict::Reject, "data_index_above_one")
    );
    // On fulu's digest, a 1 is still electra's nonzero index.
    att.data.index = 1;
    att.data.slot = 20;
    att.data.target.epoch = 0;
    let out = wire.send_at(GossipKind::BeaconAttestation(3), 0, &att);
    assert_eq!(
        (out.verdict, out.reason),
        (Verdict::Reject, "nonzero_data_index")
    );
}

#[test]
fn heze_inclusion_lists_first_or_second_per_validator() {
    let mut wire = Wire::new();
    let mut list: heze::SignedInclusionList = decoded("heze", "SignedInclusionList");
    list.message.slot = SLOT;
    list.message.transactions = vec![vec![7u8; 100].as_slice().into()].into();
    // On Heze's digest (epoch 2 here), a list for the current slot.
    let at = |wire: &mut Wire, l: &heze::SignedInclusionList| {
        let out = wire.send_at(GossipKind::InclusionList, 2, l);
        (out.verdict, out.reason)
    };
    assert_eq!(at(&mut wire, &list), ACCEPT);
    list.signature.0[0] ^= 1;
    assert_eq!(at(&mut wire, &list), ACCEPT, "the second list passes");
    list.signature.0[0] ^= 2;
    assert_eq!(
        at(&mut wire, &list),
        (Verdict::Ignore, "inclusion_lists_seen")
    );
    // Over MAX_TRANSACTIONS_BYTES_PER_INCLUSION_LIST: the wire's MAX_SIGNED_INCLUSION_LIST_SIZE
    // (8,348 bytes, room for one 8,192-byte transaction) refuses it before the handler does.
    list.message.validator_index += 1;
    list.message.transactions = vec![vec![7u8; 8_193].as_slice().into()].into();
    assert_eq!(at(&mut wire, &list), (Verdict::Reject, "snappy_or_size"));
    list.message.transactions = vec![vec![7u8; 8_192].as_slice().into()].into();
    assert_eq!(at(&mut wire, &list), ACCEPT);
    // The handler's own check, for messages that reach it another way (decoded by a router
    // with its own bound).
    let handler = pheme_gossip::InclusionListHandler::default();
    let clock = pheme_gossip::GossipClock::new(&wire.chain, wire.chain.clock().slot_start_ms(SLOT));
    let ctx = pheme_gossip::CheckContext {
        clock,
        fork: Fork::Heze,
        subnet: None,
        committees_per_slot: None,
    };
    let view = pheme_gossip::InclusionListView {
        slot: SLOT,
        validator_index: 1,
        transaction_bytes: 8_193,
    };
    assert_eq!(
        handler.check(&view, &ctx).unwrap_err().to_string(),
        "8193 bytes of transactions, at most 8192"
    );
}

/// Hostile variations of every Gloas and Heze wire vector (bytes flipped, cut, or grown; the
/// progressive lists' offsets among them) through the validator: a verdict for each, never a
/// panic, and never the same message accepted twice.
#[test]
fn mutated_vectors_get_verdicts() {
    let mut wire = Wire::new();
    let cases = [
        ("gloas", "SignedBeaconBlock", GossipKind::BeaconBlock, 1),
        (
            "gloas",
            "SignedAggregateAndProof",
            GossipKind::BeaconAggregateAndProof,
            1,
        ),
        ("gloas", "AttesterSlashing", GossipKind::AttesterSlashing, 1),
        (
            "gloas",
            "DataColumnSidecar",
            GossipKind::DataColumnSidecar(0),
            1,
        ),
        (
            "gloas",
            "SignedExecutionPayloadBid",
            GossipKind::ExecutionPayloadBid,
            1,
        ),
        (
            "gloas",
            "SignedExecutionPayloadEnvelope",
            GossipKind::ExecutionPayload,
            1,
        ),
        (
            "gloas",
            "PayloadAttestationMessage",
            GossipKind::PayloadAttestationMessage,
            1,
        ),
        (
            "gloas",
            "SignedProposerPreferences",
            GossipKind::ProposerPreferences,
            1,
        ),
        ("heze", "SignedBeaconBlock", GossipKind::BeaconBlock, 2),
        (
            "heze",
            "SignedExecutionPayloadBid",
            GossipKind::ExecutionPayloadBid,
            2,
        ),
        ("heze", "SignedInclusionList", GossipKind::InclusionList, 2),
    ];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut verdicts = [0usize; 3];
    for (fork, ty, kind, epoch) in cases {
        let (ssz, _) = vector(fork, ty);
        let topic = wire.topic(kind, epoch);
        let now = wire.chain.clock().slot_start_ms(SLOT) + 1_000;
        for _ in 0..200 {
            let mut m = ssz.clone();
            match next() % 4 {
                0 => {
                    for _ in 0..1 + next() % 4 {
                        let i = (next() as usize) % m.len().max(1);
                        if let Some(b) = m.get_mut(i) {
                            *b ^= 1 << (next() % 8);
                        }
                    }
                }
                1 => m.truncate((next() as usize) % m.len().max(1)),
                2 => m.extend((0..1 + next() % 64).map(|_| next() as u8)),
                _ => {
                    // An offset pointing anywhere: the first four bytes of a variable part.
                    let i = (next() as usize) % m.len().saturating_sub(4).max(1);
                    let v = (next() % (m.len() as u64 * 2 + 1)) as u32;
                    if m.len() >= i + 4 {
                        m[i..i + 4].copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
            let data = snap::raw::Encoder::new().compress_vec(&m).unwrap();
            let out = wire.validator.validate_stateless(&topic, &data, now);
            verdicts[out.verdict as usize] += 1;
            if out.verdict == Verdict::Accept {
                let again = wire.validator.validate_stateless(&topic, &data, now);
                assert_ne!(again.verdict, Verdict::Accept, "{ty} accepted twice");
            }
        }
    }
    println!("mutated vectors: {verdicts:?} (accept, ignore, reject)");
    assert!(verdicts[2] > 0, "some mutations must be undecodable");
}
