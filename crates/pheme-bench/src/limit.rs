//! The limit a gossip node is measured against: snappy decompression and the spec's SHA-256
//! message-id of every wire message, nothing else, on one core.

use std::sync::Arc;
use std::time::Instant;

use pheme_spec::{ChainSpec, ForkDigest};

use crate::BenchError;
use crate::traffic::{Mix, TrafficGen};

/// Wire messages per second one core decompresses and hashes, over one slot of `mix` at
/// `slot`, each message `copies` times.
pub fn limit_wire_per_sec(
    chain: Arc<ChainSpec>,
    digest: ForkDigest,
    mix: &Mix,
    slot: u64,
    copies: usize,
    seed: u64,
) -> Result<f64, BenchError> {
    let fork = chain.fork_at(chain.epoch_of(slot));
    let mut traffic = TrafficGen::new(chain, digest, seed);
    let plan = traffic.plan(mix);
    let messages = plan
        .into_iter()
        .map(|p| traffic.make(p, slot))
        .collect::<Result<Vec<_>, _>>()?;
    let mut decoder = snap::raw::Decoder::new();
    let mut ssz = Vec::new();
    let start = Instant::now();
    let mut n = 0u64;
    for m in &messages {
        for _ in 0..copies {
            let len = snap::raw::decompress_len(&m.wire)?;
            ssz.resize(len, 0);
            decoder.decompress(&m.wire, &mut ssz)?;
            std::hint::black_box(pheme_codec::message_id(fork, &m.topic, Ok(&ssz)));
            n += 1;
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}
