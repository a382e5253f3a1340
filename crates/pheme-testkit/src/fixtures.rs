//! Short-slot chains and real gossip messages (SSZ that passes Pheme's stateless checks at the
//! current slot, and messages whose right verdict is REJECT). Shared by the simulation and the
//! network crate's tests.

use pheme_spec::{ChainSpec, FAR_FUTURE_EPOCH, Fork, GossipKind, Network, unix_now_ms};
use pheme_types::mainnet::fulu as t;
use pheme_types::primitives::{BlsSignature, Root, WrongLength};
use pheme_types::ssz_rs::{Bitlist, Bitvector, SerializeError, serialize};

/// A fixture could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The built-in chain or the modified one is inconsistent.
    #[error(transparent)]
    Chain(#[from] pheme_spec::SpecError),
    /// SSZ serialisation failed.
    #[error("ssz: {0}")]
    Ssz(#[from] SerializeError),
    /// A fixed-length field got the wrong length.
    #[error(transparent)]
    Length(#[from] WrongLength),
    /// A bitlist could not be built.
    #[error("bitlist: {0}")]
    Bits(String),
    /// No selection proof makes a sync committee aggregator (cannot happen in practice).
    #[error("no sync committee aggregator proof found")]
    NoAggregatorProof,
    /// A transaction did not fit its type.
    #[error("transaction {0} does not fit")]
    Transaction(usize),
}

/// Mainnet types with `slot_ms` slots and `slots_per_epoch`, genesis `slots_ago` slots back,
/// every fork up to electra at genesis and fulu at `fulu_epoch` (0 = genesis), with the given
/// BPO epochs after it.
pub fn chain(
    slot_ms: u64,
    slots_per_epoch: u64,
    slots_ago: u64,
    fulu_epoch: u64,
    bpo: &[u64],
) -> Result<ChainSpec, FixtureError> {
    let mut c = Network::Mainnet.chain_spec()?;
    c.name = "pheme-test".into();
    c.slot_duration_ms = slot_ms;
    c.preset.slots_per_epoch = slots_per_epoch;
    let now = unix_now_ms();
    c.genesis_time = now.saturating_sub(slots_ago * slot_ms) / 1000;
    for f in &mut c.forks {
        f.epoch = match f.fork {
            Fork::Fulu => fulu_epoch,
            f if f > Fork::Fulu => FAR_FUTURE_EPOCH,
            _ => 0,
        };
    }
    c.blob_schedule = bpo
        .iter()
        .zip(10u64..)
        .map(|(e, max)| pheme_spec::BlobParameters {
            epoch: *e,
            max_blobs_per_block: max,
        })
        .collect();
    c.validate()?;
    Ok(c)
}

/// The slot now (0 before genesis).
pub fn slot_now(chain: &ChainSpec) -> u64 {
    chain.clock().slot_at_ms(unix_now_ms()).unwrap_or(0)
}

/// Deterministic pseudo-random bytes (xorshift).
pub fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sig(seed: u64) -> Result<BlsSignature, FixtureError> {
    Ok(BlsSignature::try_from(&bytes(seed, 96)[..])?)
}

fn root(seed: u64) -> Result<Root, FixtureError> {
    Ok(Root::try_from(&bytes(seed, 32)[..])?)
}

fn data(spe: u64, slot: u64, seed: u64) -> Result<t::AttestationData, FixtureError> {
    let mut d = t::AttestationData {
        slot,
        ..Default::default()
    };
    d.target.epoch = slot / spe;
    d.source.epoch = (slot / spe).saturating_sub(1);
    d.beacon_block_root = root(seed)?;
    Ok(d)
}

/// A SingleAttestation of `attester` in committee `committee` at `slot` (its subnet follows
/// from the committees per slot: see [`pheme_gossip`]'s `subnet_for_attestation`).
pub fn attestation(
    chain: &ChainSpec,
    slot: u64,
    committee: u64,
    attester: u64,
) -> Result<Vec<u8>, FixtureError> {
    Ok(serialize(&t::SingleAttestation {
        committee_index: committee,
        attester_index: attester,
        data: data(chain.slots_per_epoch(), slot, attester)?,
        signature: sig(attester)?,
    })?)
}

/// A signed block at `slot` by proposer `seed`.
pub fn block(chain: &ChainSpec, slot: u64, seed: u64) -> Result<Vec<u8>, FixtureError> {
    large_block(chain, slot, seed, 0)
}

/// A signed block at `slot` by proposer `seed` carrying `tx_bytes` of incompressible
/// transactions (a block large enough on the wire for IDONTWANT).
pub fn large_block(
    chain: &ChainSpec,
    slot: u64,
    seed: u64,
    tx_bytes: usize,
) -> Result<Vec<u8>, FixtureError> {
    let mut block = t::SignedBeaconBlock::default();
    block.message.slot = slot;
    block.message.proposer_index = seed;
    block.message.parent_root = root(seed + 1)?;
    block.message.body.randao_reveal = sig(seed + 2)?;
    let payload = &mut block.message.body.execution_payload;
    payload.timestamp = chain.genesis_time + slot * chain.slot_duration_ms / 1000;
    payload.block_hash = root(seed + 3)?;
    for (i, chunk) in bytes(seed ^ 0x7478, tx_bytes).chunks(1000).enumerate() {
        payload.transactions.push(
            pheme_types::primitives::Transaction::try_from(chunk)
                .map_err(|_| FixtureError::Transaction(i))?,
        );
    }
    Ok(serialize(&block)?)
}

/// An aggregate by aggregator `seed` at `slot` for committee `committee`.
pub fn aggregate(
    chain: &ChainSpec,
    slot: u64,
    committee: usize,
    seed: u64,
) -> Result<Vec<u8>, FixtureError> {
    let mut agg = t::SignedAggregateAndProof::default();
    agg.message.aggregator_index = seed;
    agg.message.selection_proof = sig(seed + 4)?;
    agg.message.aggregate.data = data(chain.slots_per_epoch(), slot, seed)?;
    agg.message.aggregate.signature = sig(seed + 5)?;
    let bits: Vec<bool> = (0..100).map(|i| i % 10 != 0).collect();
    agg.message.aggregate.aggregation_bits =
        Bitlist::try_from(&bits[..]).map_err(|e| FixtureError::Bits(format!("{e:?}")))?;
    let mut committees = Bitvector::default();
    committees.set(committee, true);
    agg.message.aggregate.committee_bits = committees;
    agg.signature = sig(seed + 6)?;
    Ok(serialize(&agg)?)
}

/// One message per topic kind that passes the stateless checks at `slot` on `chain`, seeded by
/// `seed` so that repeated calls give distinct messages.
pub fn valid_messages(
    chain: &ChainSpec,
    slot: u64,
    seed: u64,
) -> Result<Vec<(GossipKind, Vec<u8>)>, FixtureError> {
    let mut out = vec![
        (GossipKind::BeaconBlock, block(chain, slot, seed)?),
        (
            GossipKind::BeaconAggregateAndProof,
            aggregate(chain, slot, 7, seed)?,
        ),
        (
            GossipKind::BeaconAttestation(3),
            attestation(chain, slot, 3, seed)?,
        ),
    ];
    let sync = t::SyncCommitteeMessage {
        slot,
        beacon_block_root: root(seed + 7)?,
        validator_index: seed,
        signature: sig(seed + 8)?,
    };
    out.push((GossipKind::SyncCommittee(1), serialize(&sync)?));

    let mut c = t::SignedContributionAndProof::default();
    c.message.aggregator_index = seed;
    c.message.contribution.slot = slot;
    c.message.contribution.subcommittee_index = 2;
    c.message.contribution.beacon_block_root = root(seed + 9)?;
    for i in 0..128 {
        c.message.contribution.aggregation_bits.set(i, i % 3 != 0);
    }
    c.message.selection_proof = (seed * 1000..seed * 1000 + 100_000)
        .filter_map(|s| sig(s).ok())
        .find(|s| pheme_gossip::is_sync_committee_aggregator(s, 512))
        .ok_or(FixtureError::NoAggregatorProof)?;
    c.signature = sig(seed + 10)?;
    out.push((
        GossipKind::SyncCommitteeContributionAndProof,
        serialize(&c)?,
    ));

    let exit = t::SignedVoluntaryExit {
        message: t::VoluntaryExit {
            epoch: slot / chain.slots_per_epoch(),
            validator_index: seed,
        },
        signature: sig(seed + 11)?,
    };
    out.push((GossipKind::VoluntaryExit, serialize(&exit)?));

    let mut ps = t::ProposerSlashing::default();
    ps.signed_header_1.message.slot = slot;
    ps.signed_header_1.message.proposer_index = seed;
    ps.signed_header_1.message.body_root = root(seed + 12)?;
    ps.signed_header_2.message.slot = slot;
    ps.signed_header_2.message.proposer_index = seed;
    ps.signed_header_2.message.body_root = root(seed + 13)?;
    out.push((GossipKind::ProposerSlashing, serialize(&ps)?));
    Ok(out)
}

/// A double vote by `seed` at `slot`: slashable, with a validator nobody slashed yet.
pub fn attester_slashing(chain: &ChainSpec, slot: u64, seed: u64) -> Result<Vec<u8>, FixtureError> {
    let mut s = t::AttesterSlashing::default();
    s.attestation_1.data = data(chain.slots_per_epoch(), slot, seed)?;
    s.attestation_2.data = data(chain.slots_per_epoch(), slot, seed + 1)?;
    s.attestation_1.attesting_indices.push(seed);
    s.attestation_2.attesting_indices.push(seed);
    s.attestation_1.signature = sig(seed + 20)?;
    s.attestation_2.signature = sig(seed + 21)?;
    Ok(serialize(&s)?)
}

/// Messages whose right verdict is REJECT, with the topic they go on: a BLS change whose
/// signature does not verify, and a data-column sidecar that fails its stateless checks
/// (empty proofs and cells that match no block).
pub fn invalid_messages(slot: u64, seed: u64) -> Result<Vec<(GossipKind, Vec<u8>)>, FixtureError> {
    let mut change = t::SignedBlsToExecutionChange::default();
    change.message.validator_index = seed;
    change.signature = sig(seed + 30)?;
    let mut column = t::DataColumnSidecar {
        index: 5,
        ..Default::default()
    };
    column.signed_block_header.message.slot = slot;
    column.signed_block_header.message.proposer_index = seed;
    column.kzg_commitments.push(Default::default());
    column.column.push(Default::default());
    column.kzg_proofs.push(Default::default());
    Ok(vec![
        (GossipKind::BlsToExecutionChange, serialize(&change)?),
        (GossipKind::DataColumnSidecar(5), serialize(&column)?),
    ])
}

/// A block whose execution payload timestamp is one second off its slot's: well-formed SSZ
/// whose right verdict is REJECT (`wrong_timestamp`), so P4 for the sender.
pub fn wrong_timestamp_block(
    chain: &ChainSpec,
    slot: u64,
    seed: u64,
) -> Result<Vec<u8>, FixtureError> {
    let mut block = t::SignedBeaconBlock::default();
    block.message.slot = slot;
    block.message.proposer_index = seed;
    block.message.parent_root = root(seed + 1)?;
    block.message.body.execution_payload.timestamp =
        chain.genesis_time + slot * chain.slot_duration_ms / 1000 + 1;
    block.message.body.execution_payload.block_hash = root(seed + 3)?;
    Ok(serialize(&block)?)
}
