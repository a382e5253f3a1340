//! The `gossip_decode` fuzz target's body (`fuzz/`), here so that the crashes it finds replay
//! in `cargo test` (`tests/it/fuzz_regressions.rs`) through the same code. Not API.

use std::sync::LazyLock;

use pheme_codec::{GossipTopic, compress_block};
use pheme_spec::{ChainSpec, GossipKind, Network};

use crate::{GossipValidator, NoState, Verdict};

struct Setup {
    chain: ChainSpec,
    /// Per digest of the schedule, the topic strings of every kind live at its fork.
    topics: Vec<Vec<String>>,
}

static SETUP: LazyLock<Option<Setup>> = LazyLock::new(|| {
    let mut chain = Network::Mainnet.chain_spec().ok()?;
    // Gloas and Heze after mainnet's last digest change, so that their topics and decoders are
    // fuzzed too; the earlier digests keep their indices in the schedule.
    let last = chain.digest_schedule().last()?.epoch;
    for f in &mut chain.forks {
        match f.fork {
            pheme_spec::Fork::Gloas => f.epoch = last + 256,
            pheme_spec::Fork::Heze => f.epoch = last + 512,
            _ => {}
        }
    }
    chain.validate().ok()?;
    let topics = chain
        .digest_schedule()
        .into_iter()
        .map(|d| {
            GossipKind::all_for_fork(&chain, d.fork)
                .into_iter()
                .map(|k| GossipTopic::new(d.digest, k).to_string())
                .collect()
        })
        .collect();
    Some(Setup { chain, topics })
});

/// Validates one fuzz input on mainnet (with Gloas and Heze scheduled) with the stateless checks; `Err` says which property
/// failed. Input: `[kind][flags][slot: u64 LE][payload]`: `kind` picks one of the topic kinds
/// live at the chosen digest's fork (every subnet counts), `flags & 0x0f` the digest of the
/// schedule, `flags & 0x80` means the payload is SSZ to compress first (else wire bytes); the
/// clock stands 1 s into `slot` (taken modulo 2^40).
pub fn gossip_decode(data: &[u8]) -> Result<(), String> {
    let [kind, flags, rest @ ..] = data else {
        return Ok(());
    };
    let Some((slot, payload)) = rest.split_first_chunk::<8>() else {
        return Ok(());
    };
    let Some(setup) = SETUP.as_ref() else {
        return Err("mainnet does not load".into());
    };
    let Some(topics) = setup
        .topics
        .get(usize::from(flags & 0x0f) % setup.topics.len().max(1))
    else {
        return Err("an empty digest schedule".into());
    };
    let Some(topic) = topics.get(usize::from(*kind) % topics.len().max(1)) else {
        return Err("a fork without topics".into());
    };
    let slot = u64::from_le_bytes(*slot) % (1 << 40);
    let now_ms = setup.chain.clock().slot_start_ms(slot) + 1_000;
    let compressed;
    let wire = if flags & 0x80 != 0 {
        compressed = compress_block(payload);
        &compressed[..]
    } else {
        payload
    };
    let mut validator = GossipValidator::new(setup.chain.clone(), NoState);
    let first = validator.validate_stateless(topic, wire, now_ms);
    if first.compressed_len != wire.len() {
        return Err(format!(
            "compressed_len {} of {} bytes",
            first.compressed_len,
            wire.len()
        ));
    }
    if first.verdict == Verdict::Accept {
        if first.ssz_len.is_none() {
            return Err(format!("{topic}: accepted without a payload"));
        }
        // Recorded: the same message again is a duplicate, never a second accept.
        let again = validator.validate_stateless(topic, wire, now_ms);
        if again.verdict == Verdict::Accept {
            return Err(format!("{topic}: accepted twice"));
        }
        if again.message_id != first.message_id {
            return Err(format!("{topic}: the message-id changed"));
        }
    }
    Ok(())
}
