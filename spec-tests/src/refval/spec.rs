//! The consensus spec's helper functions the gossip checks need, over [`AnchorState`]:
//! shuffling and committees (phase0 `beacon-chain.md`), proposer sampling (deneb's 8-bit and
//! electra's 16-bit random value), seeds from RANDAO mixes, domains and signing roots, and BLS
//! verification with `blst` (min_pk, the proof-of-possession ciphersuite).

use sha2::{Digest, Sha256};

use super::state::{AnchorState, EPOCHS_PER_HISTORICAL_VECTOR, SYNC_COMMITTEE_SIZE, Validator};

/// `SLOTS_PER_EPOCH` (minimal).
pub const SLOTS_PER_EPOCH: u64 = 8;
/// `MAX_COMMITTEES_PER_SLOT` (minimal).
pub const MAX_COMMITTEES_PER_SLOT: u64 = 4;
/// `TARGET_COMMITTEE_SIZE` (minimal).
pub const TARGET_COMMITTEE_SIZE: u64 = 4;
/// `SHUFFLE_ROUND_COUNT` (minimal).
pub const SHUFFLE_ROUND_COUNT: u8 = 10;
/// `MIN_SEED_LOOKAHEAD`.
pub const MIN_SEED_LOOKAHEAD: u64 = 1;
/// `MAX_EFFECTIVE_BALANCE`.
pub const MAX_EFFECTIVE_BALANCE: u64 = 32_000_000_000;
/// `MAX_EFFECTIVE_BALANCE_ELECTRA`.
pub const MAX_EFFECTIVE_BALANCE_ELECTRA: u64 = 2_048_000_000_000;
/// `EPOCHS_PER_SYNC_COMMITTEE_PERIOD` (minimal).
pub const EPOCHS_PER_SYNC_COMMITTEE_PERIOD: u64 = 8;
/// `SYNC_COMMITTEE_SUBNET_COUNT`.
pub const SYNC_COMMITTEE_SUBNET_COUNT: u64 = 4;
/// `TARGET_AGGREGATORS_PER_COMMITTEE`.
pub const TARGET_AGGREGATORS_PER_COMMITTEE: u64 = 16;
/// `SHARD_COMMITTEE_PERIOD` (minimal config).
pub const SHARD_COMMITTEE_PERIOD: u64 = 64;
/// `FAR_FUTURE_EPOCH`.
pub const FAR_FUTURE_EPOCH: u64 = u64::MAX;

/// `DOMAIN_BEACON_PROPOSER`.
pub const DOMAIN_BEACON_PROPOSER: [u8; 4] = [0, 0, 0, 0];
/// `DOMAIN_BEACON_ATTESTER`.
pub const DOMAIN_BEACON_ATTESTER: [u8; 4] = [1, 0, 0, 0];
/// `DOMAIN_VOLUNTARY_EXIT`.
pub const DOMAIN_VOLUNTARY_EXIT: [u8; 4] = [4, 0, 0, 0];
/// `DOMAIN_SELECTION_PROOF`.
pub const DOMAIN_SELECTION_PROOF: [u8; 4] = [5, 0, 0, 0];
/// `DOMAIN_AGGREGATE_AND_PROOF`.
pub const DOMAIN_AGGREGATE_AND_PROOF: [u8; 4] = [6, 0, 0, 0];
/// `DOMAIN_SYNC_COMMITTEE`.
pub const DOMAIN_SYNC_COMMITTEE: [u8; 4] = [7, 0, 0, 0];
/// `DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF`.
pub const DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF: [u8; 4] = [8, 0, 0, 0];
/// `DOMAIN_CONTRIBUTION_AND_PROOF`.
pub const DOMAIN_CONTRIBUTION_AND_PROOF: [u8; 4] = [9, 0, 0, 0];
/// `DOMAIN_BLS_TO_EXECUTION_CHANGE`.
pub const DOMAIN_BLS_TO_EXECUTION_CHANGE: [u8; 4] = [10, 0, 0, 0];

/// The proof-of-possession ciphersuite's domain separation tag.
const BLS_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// `hash` (SHA-256) of the concatenated parts.
pub fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// `compute_epoch_at_slot`.
pub fn epoch_at(slot: u64) -> u64 {
    slot / SLOTS_PER_EPOCH
}

/// `compute_start_slot_at_epoch`.
pub fn start_slot(epoch: u64) -> u64 {
    epoch.saturating_mul(SLOTS_PER_EPOCH)
}

/// `compute_sync_committee_period`.
pub fn sync_period(epoch: u64) -> u64 {
    epoch / EPOCHS_PER_SYNC_COMMITTEE_PERIOD
}

/// `is_active_validator`.
pub fn is_active(v: &Validator, epoch: u64) -> bool {
    v.activation_epoch <= epoch && epoch < v.exit_epoch
}

/// `is_slashable_validator`.
pub fn is_slashable(v: &Validator, epoch: u64) -> bool {
    !v.slashed && v.activation_epoch <= epoch && epoch < v.withdrawable_epoch
}

/// `is_slashable_attestation_data`: a double vote or a surround vote.
pub fn is_slashable_attestation_data(
    d1: &pheme_types::phase0::AttestationData,
    d2: &pheme_types::phase0::AttestationData,
) -> bool {
    let double = d1 != d2 && d1.target.epoch == d2.target.epoch;
    let surround = d1.source.epoch < d2.source.epoch && d2.target.epoch < d1.target.epoch;
    double || surround
}

/// `compute_shuffled_index` (`index < count`).
pub fn compute_shuffled_index(mut index: u64, count: u64, seed: &[u8; 32]) -> u64 {
    if count == 0 {
        return index;
    }
    for round in 0..SHUFFLE_ROUND_COUNT {
        let h = hash(&[seed, &[round]]);
        let mut pivot = [0u8; 8];
        pivot.copy_from_slice(&h[..8]);
        let pivot = u64::from_le_bytes(pivot) % count;
        let flip = (pivot + count - index) % count;
        let position = index.max(flip);
        let position_bytes = u32::try_from(position / 256)
            .unwrap_or(u32::MAX)
            .to_le_bytes();
        let source = hash(&[seed, &[round], &position_bytes]);
        let byte = source[usize::try_from((position % 256) / 8).unwrap_or(0)];
        if (byte >> (position % 8)) & 1 == 1 {
            index = flip;
        }
    }
    index
}

/// Signing roots and domains for one chain: the state's fork and genesis validators root.
#[derive(Debug, Clone)]
pub struct Domains {
    /// `state.fork`.
    pub fork: super::state::Fork,
    /// `state.genesis_validators_root`.
    pub genesis_validators_root: [u8; 32],
}

impl Domains {
    /// `compute_domain(domain_type, fork_version, genesis_validators_root)`.
    pub fn compute(&self, domain_type: [u8; 4], version: [u8; 4]) -> [u8; 32] {
        let root = pheme_spec::compute_fork_data_root(
            pheme_spec::ForkVersion(version),
            pheme_spec::Root(self.genesis_validators_root),
        );
        let mut domain = [0u8; 32];
        domain[..4].copy_from_slice(&domain_type);
        domain[4..].copy_from_slice(&root.0[..28]);
        domain
    }

    /// `get_domain(state, domain_type, epoch)`.
    pub fn get(&self, domain_type: [u8; 4], epoch: u64) -> [u8; 32] {
        let version = if epoch < self.fork.epoch {
            self.fork.previous_version.0
        } else {
            self.fork.current_version.0
        };
        self.compute(domain_type, version)
    }
}

/// `compute_signing_root` from an object's root.
pub fn signing_root(object_root: [u8; 32], domain: [u8; 32]) -> [u8; 32] {
    hash(&[&object_root, &domain])
}

pub use pheme_types::root_of;

/// `hash_tree_root(uint64)`.
pub fn u64_root(n: u64) -> [u8; 32] {
    let mut r = [0u8; 32];
    r[..8].copy_from_slice(&n.to_le_bytes());
    r
}

/// `bls.Verify`.
pub fn bls_verify(pubkey: &[u8], message: &[u8; 32], signature: &[u8]) -> bool {
    let Ok(pk) = blst::min_pk::PublicKey::key_validate(pubkey) else {
        return false;
    };
    let Ok(sig) = blst::min_pk::Signature::sig_validate(signature, true) else {
        return false;
    };
    sig.verify(true, message, BLS_DST, &[], &pk, true) == blst::BLST_ERROR::BLST_SUCCESS
}

/// `bls.FastAggregateVerify` (false for no keys, as the spec's `eth_` variant is not used
/// where keys can be empty).
pub fn bls_fast_aggregate_verify(pubkeys: &[&[u8]], message: &[u8; 32], signature: &[u8]) -> bool {
    let mut keys = Vec::with_capacity(pubkeys.len());
    for p in pubkeys {
        match blst::min_pk::PublicKey::key_validate(p) {
            Ok(k) => keys.push(k),
            Err(_) => return false,
        }
    }
    if keys.is_empty() {
        return false;
    }
    let Ok(sig) = blst::min_pk::Signature::sig_validate(signature, true) else {
        return false;
    };
    let refs: Vec<&blst::min_pk::PublicKey> = keys.iter().collect();
    sig.fast_aggregate_verify(true, message, BLS_DST, &refs) == blst::BLST_ERROR::BLST_SUCCESS
}

/// A view of the state advanced (by empty slots, plus the RANDAO reveals of known blocks on
/// its chain) to an epoch: the spec's `state` argument of the gossip checks.
#[derive(Debug, Clone)]
pub struct EpochView<'a> {
    /// The anchor state.
    pub anchor: &'a AnchorState,
    /// `randao_mixes` of the advanced state, by index.
    pub mixes: Vec<[u8; 32]>,
}

impl<'a> EpochView<'a> {
    /// The anchor state advanced to `epoch` with `reveals` (slot, `hash(randao_reveal)`) of the
    /// imported blocks after the anchor on the chain it follows.
    pub fn new(anchor: &'a AnchorState, epoch: u64, reveals: &[(u64, [u8; 32])]) -> Self {
        let n = EPOCHS_PER_HISTORICAL_VECTOR as u64;
        let mut mixes = anchor.randao_mixes.clone();
        let anchor_epoch = epoch_at(anchor.slot);
        let mut mix = mixes
            .get(usize::try_from(anchor_epoch % n).unwrap_or(0))
            .copied()
            .unwrap_or_default();
        let mut e = anchor_epoch;
        loop {
            // process_block's process_randao for blocks in epoch `e`.
            for (slot, h) in reveals {
                if epoch_at(*slot) == e && *slot > anchor.slot {
                    for (m, b) in mix.iter_mut().zip(h) {
                        *m ^= b;
                    }
                }
            }
            if let Some(slot) = mixes.get_mut(usize::try_from(e % n).unwrap_or(0)) {
                *slot = mix;
            }
            if e >= epoch {
                break;
            }
            // process_randao_mixes_reset carries the mix into the next epoch.
            e += 1;
        }
        EpochView { anchor, mixes }
    }

    /// `get_randao_mix(state, epoch)`.
    pub fn mix(&self, epoch: u64) -> [u8; 32] {
        let n = EPOCHS_PER_HISTORICAL_VECTOR as u64;
        self.mixes
            .get(usize::try_from(epoch % n).unwrap_or(0))
            .copied()
            .unwrap_or_default()
    }

    /// `get_seed(state, epoch, domain_type)`.
    pub fn seed(&self, epoch: u64, domain_type: [u8; 4]) -> [u8; 32] {
        let n = EPOCHS_PER_HISTORICAL_VECTOR as u64;
        let mix = self.mix(epoch + n - MIN_SEED_LOOKAHEAD - 1);
        hash(&[&domain_type, &epoch.to_le_bytes(), &mix])
    }

    /// `get_active_validator_indices(state, epoch)`.
    pub fn active(&self, epoch: u64) -> Vec<u64> {
        (0u64..)
            .zip(&self.anchor.validators)
            .filter(|(_, v)| is_active(v, epoch))
            .map(|(i, _)| i)
            .collect()
    }

    /// `get_committee_count_per_slot(state, epoch)`.
    pub fn committees_per_slot(&self, epoch: u64) -> u64 {
        let active = self.active(epoch).len() as u64;
        (active / SLOTS_PER_EPOCH / TARGET_COMMITTEE_SIZE).clamp(1, MAX_COMMITTEES_PER_SLOT)
    }

    /// `get_beacon_committee(state, slot, index)`.
    pub fn beacon_committee(&self, slot: u64, index: u64) -> Vec<u64> {
        let epoch = epoch_at(slot);
        let per_slot = self.committees_per_slot(epoch);
        let indices = self.active(epoch);
        let seed = self.seed(epoch, DOMAIN_BEACON_ATTESTER);
        let count = per_slot * SLOTS_PER_EPOCH;
        let which = (slot % SLOTS_PER_EPOCH) * per_slot + index;
        let len = indices.len() as u64;
        let start = len * which / count;
        let end = len * (which + 1) / count;
        (start..end)
            .filter_map(|i| {
                let j = compute_shuffled_index(i, len, &seed);
                indices.get(usize::try_from(j).ok()?).copied()
            })
            .collect()
    }

    /// `get_beacon_proposer_index(state)` for a state at `slot`.
    pub fn proposer(&self, slot: u64) -> Option<u64> {
        // Fulu: the anchor state's lookahead names its epoch's and the next epoch's proposers.
        let first = start_slot(epoch_at(self.anchor.slot));
        if let Some(p) = slot
            .checked_sub(first)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.anchor.proposer_lookahead.get(i))
        {
            return Some(*p);
        }
        let epoch = epoch_at(slot);
        let seed = hash(&[
            &self.seed(epoch, DOMAIN_BEACON_PROPOSER),
            &slot.to_le_bytes(),
        ]);
        let indices = self.active(epoch);
        let total = indices.len() as u64;
        if total == 0 {
            return None;
        }
        // A bound far above any sampling's length (the loop ends with probability 1).
        for i in 0..total.saturating_mul(1_000) {
            let candidate = *indices
                .get(usize::try_from(compute_shuffled_index(i % total, total, &seed)).ok()?)?;
            let balance = self
                .anchor
                .validators
                .get(usize::try_from(candidate).ok()?)?
                .effective_balance;
            let pass = if self.anchor.electra {
                let bytes = hash(&[&seed, &(i / 16).to_le_bytes()]);
                let off = usize::try_from(i % 16 * 2).ok()?;
                let value = u64::from(u16::from_le_bytes([bytes[off], bytes[off + 1]]));
                u128::from(balance) * 65_535
                    >= u128::from(MAX_EFFECTIVE_BALANCE_ELECTRA) * u128::from(value)
            } else {
                let bytes = hash(&[&seed, &(i / 32).to_le_bytes()]);
                let value = bytes[usize::try_from(i % 32).ok()?];
                u128::from(balance) * 255 >= u128::from(MAX_EFFECTIVE_BALANCE) * u128::from(value)
            };
            if pass {
                return Some(candidate);
            }
        }
        None
    }

    /// The sync committee pubkeys a state at `slot` reads (`get_sync_subcommittee_pubkeys`'s
    /// choice between current and next), or `None` when `slot` is beyond the anchor's next
    /// period.
    pub fn sync_committee(&self, slot: u64) -> Option<&'a [[u8; 48]]> {
        let anchor_period = sync_period(epoch_at(self.anchor.slot));
        let state_period = sync_period(epoch_at(slot));
        let next_slot_period = sync_period(epoch_at(slot + 1));
        // At the state's slot, its current committee is the anchor's current (same period)
        // or the anchor's next (one period later).
        let wanted = if state_period == next_slot_period {
            state_period
        } else {
            state_period + 1
        };
        let committee = match wanted.checked_sub(anchor_period) {
            Some(0) => &self.anchor.current_sync_committee,
            Some(1) => &self.anchor.next_sync_committee,
            _ => return None,
        };
        (committee.len() == SYNC_COMMITTEE_SIZE).then_some(committee.as_slice())
    }
}
