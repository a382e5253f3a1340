//! Generation time of one network's preset: `derive` alone, and with the sanity checks that
//! `pheme presets generate|regenerate|check` run on every preset (target: under 50 ms).

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use pheme_scoring::{DeriveInput, Profile, derive, sanity};
use pheme_spec::Network;

fn bench(c: &mut Criterion) {
    let mainnet = Network::Mainnet.chain_spec().unwrap();
    for profile in Profile::ALL {
        let input = DeriveInput {
            chain: &mainnet,
            active_validators: 1_000_000,
            current_slot: 13_500_000,
            mesh_n: None,
            profile,
        };
        c.bench_function(&format!("derive/mainnet/{profile}"), |b| {
            b.iter(|| derive(std::hint::black_box(&input)).unwrap())
        });
        c.bench_function(&format!("derive+sanity/mainnet/{profile}"), |b| {
            b.iter(|| {
                let p = derive(std::hint::black_box(&input)).unwrap();
                sanity::check(&p, &mainnet)
            })
        });
    }
    c.bench_function("chain_spec/mainnet (embedded data)", |b| {
        b.iter(|| Network::Mainnet.chain_spec().unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
