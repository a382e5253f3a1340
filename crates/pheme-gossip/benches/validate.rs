//! Per topic kind: Pheme's stateless path (snappy within bounds, message-id, SSZ decode, the
//! handler's checks) against the physical limit on the same bytes (raw snappy decompression
//! plus one SHA-256 over them, also into a reused buffer), the spec's transform alone (the
//! wire path's floor: the message-id also hashes the domain and the topic, 58 more bytes for a
//! mainnet attestation topic), and the network service's path (`validate_decoded`: the router
//! already decompressed and identified the message). Realistic mainnet messages, built with
//! random signatures and payloads of mainnet sizes.
//!
//! Instruction counts of the same messages: `examples/callgrind.rs`.

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pheme_gossip::{GossipValidator, NoState};
use pheme_spec::{Fork, Network};
use sha2::{Digest, Sha256};

mod support;
use support::{SLOT, messages};

fn bench(c: &mut Criterion) {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let now = chain.clock().slot_start_ms(SLOT) + 2_000;
    for (name, topic, ssz) in messages() {
        let wire = pheme_codec::compress_block(&ssz);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(1));
        group.bench_function("limit: snappy + sha256", |b| {
            b.iter(|| {
                let raw = snap::raw::Decoder::new()
                    .decompress_vec(std::hint::black_box(&wire))
                    .unwrap();
                Sha256::digest(&raw)
            })
        });
        // The same work into one reused buffer (Pheme's validator reuses its buffer too), so
        // the ratio can be read without the allocator on either side.
        let mut buf = Vec::new();
        group.bench_function("limit: snappy + sha256, reused buffer", |b| {
            b.iter(|| {
                let wire = std::hint::black_box(&wire);
                let len = snap::raw::decompress_len(wire).unwrap();
                buf.clear();
                buf.resize(len, 0);
                snap::raw::Decoder::new()
                    .decompress(wire, &mut buf)
                    .unwrap();
                Sha256::digest(&buf)
            })
        });
        // The spec's transform alone (snappy within bounds, message-id over domain, topic and
        // payload), into a reused buffer: the floor of the wire path, before any decoding.
        let bounds = pheme_codec::gossip_bounds(
            &chain,
            topic.parse::<pheme_codec::GossipTopic>().unwrap().kind,
            Fork::Fulu,
        );
        group.bench_function("floor: spec transform (decode_gossip_into)", |b| {
            b.iter(|| {
                pheme_codec::decode_gossip_into(
                    std::hint::black_box(&topic),
                    Fork::Fulu,
                    std::hint::black_box(&wire),
                    bounds,
                    &mut buf,
                )
                .0
            })
        });
        let mut validator = GossipValidator::new(chain.clone(), NoState);
        validator.committees_per_slot = Some(64);
        // Warm: the first pass accepts, the rest go through every check to the duplicate cache.
        let first = validator.validate_stateless(&topic, &wire, now);
        assert_eq!(
            first.verdict,
            pheme_gossip::Verdict::Accept,
            "{name}: {}",
            first.detail
        );
        group.bench_function("pheme: transform + decode + checks", |b| {
            b.iter(|| {
                validator.validate_stateless(
                    std::hint::black_box(&topic),
                    std::hint::black_box(&wire),
                    now,
                )
            })
        });
        let id = pheme_codec::message_id(Fork::Fulu, &topic, Ok(&ssz));
        group.bench_function("pheme: validate_decoded (router path)", |b| {
            b.iter(|| {
                validator.validate_decoded(
                    std::hint::black_box(&topic),
                    std::hint::black_box(&ssz),
                    id,
                    wire.len(),
                    now,
                )
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
