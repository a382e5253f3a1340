//! The limits a gossip node is measured against, on one core: snappy decompression and the
//! spec's SHA-256 message-id of every wire message; and the same plus the transport's
//! encryption of that traffic (noise's ChaCha20-Poly1305: every copy decrypted, every unique
//! message encrypted once per forward).

use std::sync::Arc;
use std::time::Instant;

use pheme_spec::{ChainSpec, ForkDigest};

use crate::BenchError;
use crate::traffic::{Mix, TrafficGen};

/// One slot of `mix` at `slot`, as the load peers send it.
fn one_slot(
    chain: Arc<ChainSpec>,
    digest: ForkDigest,
    mix: &Mix,
    slot: u64,
    seed: u64,
) -> Result<Vec<crate::traffic::WireMessage>, BenchError> {
    let mut traffic = TrafficGen::new(chain, digest, seed);
    let plan = traffic.plan(mix);
    plan.into_iter().map(|p| traffic.make(p, slot)).collect()
}

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
    let messages = one_slot(chain, digest, mix, slot, seed)?;
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

/// Wire messages per second one core decrypts (ChaCha20-Poly1305, as noise), decompresses and
/// hashes, over one slot of `mix`, each message `copies` times, plus encrypting each unique
/// message `forwards` times: what no gossip node can do without.
pub fn transport_limit_wire_per_sec(
    chain: Arc<ChainSpec>,
    digest: ForkDigest,
    mix: &Mix,
    slot: u64,
    copies: usize,
    forwards: usize,
    seed: u64,
) -> Result<f64, BenchError> {
    use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
    let fork = chain.fork_at(chain.epoch_of(slot));
    let messages = one_slot(chain, digest, mix, slot, seed)?;
    let key = LessSafeKey::new(
        UnboundKey::new(&CHACHA20_POLY1305, &[7u8; 32]).map_err(|_| BenchError::Build("key"))?,
    );
    let nonce = |n: u64| {
        let mut b = [0u8; 12];
        b[4..].copy_from_slice(&n.to_le_bytes());
        Nonce::assume_unique_for_key(b)
    };
    // The ciphertexts the copies arrive as.
    let mut sealed = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let mut c = m.wire.clone();
        key.seal_in_place_append_tag(nonce(i as u64), Aad::empty(), &mut c)
            .map_err(|_| BenchError::Build("seal"))?;
        sealed.push(c);
    }
    let mut decoder = snap::raw::Decoder::new();
    let mut ssz = Vec::new();
    let mut buf = Vec::new();
    let start = Instant::now();
    let mut n = 0u64;
    for (i, m) in messages.iter().enumerate() {
        for _ in 0..copies {
            buf.clear();
            buf.extend_from_slice(&sealed[i]);
            let plain = key
                .open_in_place(nonce(i as u64), Aad::empty(), &mut buf)
                .map_err(|_| BenchError::Build("open"))?;
            let len = snap::raw::decompress_len(plain)?;
            ssz.resize(len, 0);
            decoder.decompress(plain, &mut ssz)?;
            std::hint::black_box(pheme_codec::message_id(fork, &m.topic, Ok(&ssz)));
            n += 1;
        }
        for f in 0..forwards {
            buf.clear();
            buf.extend_from_slice(&m.wire);
            key.seal_in_place_append_tag(
                nonce((f as u64) << 40 | i as u64),
                Aad::empty(),
                &mut buf,
            )
            .map_err(|_| BenchError::Build("seal"))?;
            std::hint::black_box(&buf);
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}
