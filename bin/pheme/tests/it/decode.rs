//! `pheme decode` on real mainnet bytes, and on hostile files: a clean verdict and exit code,
//! never a panic or a large allocation.

use crate::common::{pheme, temp_dir};
use pheme_types::mainnet::electra::SingleAttestation;

const SLOT: u64 = 13_500_000;
/// BPO2's digest: mainnet at SLOT.
const TOPIC: &str = "/eth2/8c9f62fe/beacon_attestation_3/ssz_snappy";

fn attestation() -> Vec<u8> {
    let mut a = SingleAttestation {
        committee_index: 3,
        attester_index: 77,
        ..Default::default()
    };
    a.data.slot = SLOT;
    a.data.target.epoch = SLOT / 32;
    pheme_types::ssz_rs::serialize(&a).unwrap()
}

fn now_ms() -> String {
    let chain = pheme_spec::Network::Mainnet.chain_spec().unwrap();
    (chain.clock().slot_start_ms(SLOT) + 2_000).to_string()
}

fn decode(file: &std::path::Path, topic: &str) -> (i32, serde_json::Value) {
    let run = pheme(&[
        "decode",
        "--topic",
        topic,
        "--file",
        file.to_str().unwrap(),
        "--now-ms",
        &now_ms(),
    ]);
    let json = serde_json::from_str(&run.stdout).unwrap_or(serde_json::Value::Null);
    (run.code, json)
}

#[test]
fn a_valid_attestation_is_accepted_and_printed() {
    let dir = temp_dir("decode-ok");
    let file = dir.join("att.ssz_snappy");
    let wire = pheme_codec::compress_block(&attestation());
    std::fs::write(&file, &wire).unwrap();
    let (code, out) = decode(&file, TOPIC);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["verdict"], "accept");
    assert_eq!(out["fork"], "fulu");
    assert_eq!(out["size"]["uncompressed"], 240);
    assert_eq!(out["size"]["compressed"], wire.len());
    assert_eq!(out["value"]["attester_index"], "77");
    assert_eq!(out["value"]["data"]["slot"], SLOT.to_string());
    let id = pheme_codec::message_id(pheme_spec::Fork::Fulu, TOPIC, Ok(&attestation()));
    assert_eq!(
        out["message_id"],
        format!(
            "0x{}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn hostile_files_get_clean_verdicts() {
    let dir = temp_dir("decode-hostile");
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        // A snappy preamble claiming 4 GiB.
        (
            "bomb",
            vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0],
            TOPIC,
            "snappy_or_size",
        ),
        // The preamble says 240 bytes, the stream holds fewer.
        (
            "lying length",
            {
                let mut w = pheme_codec::compress_block(&attestation());
                w.truncate(w.len() - 20);
                w
            },
            TOPIC,
            "snappy_or_size",
        ),
        // Valid snappy of 239 bytes: not a SingleAttestation.
        (
            "truncated ssz",
            pheme_codec::compress_block(&attestation()[..239]),
            TOPIC,
            "snappy_or_size",
        ),
        (
            "garbage",
            b"this is not snappy at all".to_vec(),
            TOPIC,
            "snappy_or_size",
        ),
        // An electra attestation on a phase0 digest topic: the phase0 type does not decode it.
        (
            "wrong fork",
            pheme_codec::compress_block(&attestation()),
            "/eth2/b5303f2a/beacon_attestation_3/ssz_snappy",
            "ssz_decode",
        ),
        // A digest of another network.
        (
            "other network",
            pheme_codec::compress_block(&attestation()),
            "/eth2/d31f6191/beacon_attestation_3/ssz_snappy",
            "unknown_fork_digest",
        ),
        (
            "unknown topic",
            pheme_codec::compress_block(&attestation()),
            "/eth2/8c9f62fe/beacon_attestation_99/ssz_snappy",
            "topic_not_in_fork",
        ),
    ];
    for (name, bytes, topic, reason) in cases {
        let file = dir.join("m.bin");
        std::fs::write(&file, bytes).unwrap();
        let (code, out) = decode(&file, topic);
        assert_eq!(code, 1, "{name}: {out}");
        assert_eq!(
            (out["verdict"].as_str(), out["reason"].as_str()),
            (Some("reject"), Some(reason)),
            "{name}: {out}"
        );
    }
    // A file far larger than any gossip payload: read only up to the limit, then refused.
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![0u8; 13 << 20]).unwrap();
    let (code, out) = decode(&big, TOPIC);
    assert_eq!((code, out["reason"].as_str()), (1, Some("snappy_or_size")));
    assert!(out["size"]["compressed"].as_u64().unwrap() < 13 << 20);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    let run = pheme(&["decode", "--topic", TOPIC, "--file", "/no/such/file"]);
    assert_eq!(run.code, 2);
    let run = pheme(&[
        "decode",
        "--network",
        "mainnett",
        "--topic",
        TOPIC,
        "--file",
        "-",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown network"));
    assert_eq!(pheme(&["decode", "--file", "x"]).code, 2, "missing --topic");
}

/// A Gloas devnet's config.yaml: a builder's bid on Gloas's digest decodes and is judged by
/// the bid rules (here: a non-zero execution payment is a REJECT), printed as Beacon API JSON.
#[test]
fn a_gloas_bid_on_a_gloas_devnet() {
    use pheme_types::mainnet::gloas::SignedExecutionPayloadBid;

    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/pheme-spec/testdata/glamsterdam-devnet-2/config.yaml"
    );
    let chain = pheme_spec::load_network(config).unwrap();
    let slot = 40;
    let mut bid = SignedExecutionPayloadBid::default();
    bid.message.slot = slot;
    bid.message.value = 5;
    bid.message.builder_index = 9;
    let dir = temp_dir("decode-gloas");
    let file = dir.join("bid.ssz_snappy");
    let now = (chain.clock().slot_start_ms(slot) + 1_000).to_string();
    let topic = "/eth2/6b014b38/execution_payload_bid/ssz_snappy";
    let mut run_with = |payment: u64| {
        bid.message.execution_payment = payment;
        let ssz = pheme_types::ssz_rs::serialize(&bid).unwrap();
        std::fs::write(&file, pheme_codec::compress_block(&ssz)).unwrap();
        let run = pheme(&[
            "decode",
            "--network",
            config,
            "--topic",
            topic,
            "--file",
            file.to_str().unwrap(),
            "--now-ms",
            &now,
        ]);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        (run.code, json)
    };
    let (code, out) = run_with(0);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["fork"], "gloas");
    assert_eq!(out["verdict"], "accept");
    assert_eq!(out["value"]["message"]["builder_index"], "9");
    assert_eq!(
        out["value"]["message"]["blob_kzg_commitments"],
        serde_json::json!([])
    );
    let (code, out) = run_with(1);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["verdict"], "reject");
    assert_eq!(out["reason"], "nonzero_execution_payment");
    std::fs::remove_dir_all(dir).unwrap();
}
