//! A deterministic driver for instruction counts: `callgrind <kind> <path> <iterations>` runs one
//! benchmarked message `iterations` times through `path` (`wire`: `validate_stateless`;
//! `decoded`: `validate_decoded`; `limit`: raw snappy + SHA-256). Run it under
//! `valgrind --tool=callgrind` with N and with 0 iterations: the difference over N is the cost
//! of one message in instructions. `kind` is the index in the bench's list (0 =
//! SingleAttestation).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pheme_gossip::{GossipValidator, NoState, Verdict};
use pheme_spec::Network;
use sha2::{Digest, Sha256};

#[path = "../benches/support/mod.rs"]
mod support;
use support::{SLOT, messages};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind: usize = args[1].parse().unwrap();
    let path = args[2].as_str();
    let n: u64 = args[3].parse().unwrap();
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 2_000;
    let (name, topic, ssz) = messages().swap_remove(kind);
    let wire = pheme_codec::compress_block(&ssz);
    let mut validator = GossipValidator::new(chain.clone(), NoState);
    validator.committees_per_slot = Some(64);
    let first = validator.validate_stateless(&topic, &wire, now);
    assert_eq!(first.verdict, Verdict::Accept, "{name}: {}", first.detail);
    let id = pheme_codec::message_id(pheme_spec::Fork::Fulu, &topic, Ok(&ssz));
    let mut sink = 0usize;
    for _ in 0..n {
        sink += match path {
            "wire" => validator
                .validate_stateless(
                    std::hint::black_box(&topic),
                    std::hint::black_box(&wire),
                    now,
                )
                .reason
                .len(),
            "decoded" => validator
                .validate_decoded(
                    std::hint::black_box(&topic),
                    std::hint::black_box(&ssz),
                    id,
                    wire.len(),
                    now,
                )
                .reason
                .len(),
            "limit" => {
                let raw = snap::raw::Decoder::new()
                    .decompress_vec(std::hint::black_box(&wire))
                    .unwrap();
                usize::from(Sha256::digest(&raw)[0])
            }
            other => panic!("unknown path {other}"),
        };
    }
    println!("{name} {path} x{n}: {sink}");
}
