//! Shared arithmetic: decays, committee structure and expected message rates.

use pheme_spec::{
    ChainSpec, GossipKind, SYNC_COMMITTEE_SUBNET_COUNT, TARGET_AGGREGATORS_PER_COMMITTEE,
    TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE,
};

/// Every profile decays a counter to this fraction of its value over the stated period.
pub const DECAY_TARGET: f64 = 0.01;

/// The per-tick decay that takes a counter to [`DECAY_TARGET`] of its value over
/// `period_ms`, ticking every `interval_ms`.
pub fn decay(period_ms: f64, interval_ms: f64) -> f64 {
    DECAY_TARGET.powf(interval_ms / period_ms)
}

/// Steady state of a counter gaining `rate` per tick and decaying by `d` per tick.
pub fn convergence(d: f64, rate: f64) -> f64 {
    rate / (1.0 - d)
}

/// The counter's value just after a decay at steady state.
pub fn threshold(d: f64, rate: f64) -> f64 {
    convergence(d, rate) * d
}

/// Expected aggregators per slot, exactly as the committee shuffling makes them: committees of
/// `s` and `s + 1` members, each member an aggregator with probability `1 / max(1, size / 16)`.
pub fn aggregators_per_slot(chain: &ChainSpec, active_validators: u64) -> f64 {
    aggregators(chain, active_validators, false)
}

/// The same expectation, `floored` per committee size and per slot (at least 1) as Lodestar
/// counts it, or exact.
pub(crate) fn aggregators(chain: &ChainSpec, active_validators: u64, floored: bool) -> f64 {
    let (committees, small, n_large) = committee_shape(chain, active_validators);
    let modulo = |size: u64| (size / TARGET_AGGREGATORS_PER_COMMITTEE).max(1) as f64;
    let n_small = committees - n_large;
    // Each client's own float order: Lighthouse divides the member count, Lodestar multiplies the
    // per-committee expectation and floors it.
    let (small_epoch, large_epoch) = if floored {
        (
            (small as f64 / modulo(small) * n_small as f64).floor(),
            ((small + 1) as f64 / modulo(small + 1) * n_large as f64).floor(),
        )
    } else {
        (
            (n_small * small) as f64 / modulo(small),
            (n_large * (small + 1)) as f64 / modulo(small + 1),
        )
    };
    let per_slot = (small_epoch + large_epoch) / chain.slots_per_epoch() as f64;
    if floored {
        per_slot.floor().max(1.0)
    } else {
        per_slot
    }
}

/// `(committees per epoch, smaller committee size, committees of the larger size)`.
pub fn committee_shape(chain: &ChainSpec, active_validators: u64) -> (u64, u64, u64) {
    let committees = chain.committees_per_slot(active_validators) * chain.slots_per_epoch();
    let small = active_validators / committees;
    (committees, small, active_validators - small * committees)
}

/// Expected messages per slot on one topic of `kind`, from the committee structure.
///
/// Attestations: every active validator attests once an epoch, spread over the subnets. Sync
/// committee: each member signs every slot, spread over 4 subnets. Contributions: 16 expected
/// aggregators per subcommittee. Operations use Lighthouse's and Lodestar's estimates (4 exits,
/// 1/5 slashing per epoch). Blob sidecars: a full block's blobs over the subnets. Columns: one
/// sidecar per column subnet per block. Gloas: one envelope and one proposer's preferences a
/// slot, the payload timeliness committee's votes, and at least the winning bid (builders'
/// competition is not modelled); Heze: one inclusion list per committee member.
pub fn expected_rate(chain: &ChainSpec, active_validators: u64, kind: GossipKind) -> f64 {
    let v = active_validators as f64;
    let spe = chain.slots_per_epoch() as f64;
    match kind {
        GossipKind::BeaconBlock => 1.0,
        GossipKind::BeaconAggregateAndProof => aggregators_per_slot(chain, active_validators),
        GossipKind::BeaconAttestation(_) => v / spe / chain.attestation_subnet_count as f64,
        GossipKind::SyncCommittee(_) => {
            sync_committee_members(chain, active_validators) / SYNC_COMMITTEE_SUBNET_COUNT as f64
        }
        GossipKind::SyncCommitteeContributionAndProof => {
            let sub = chain.preset.sync_committee_size / SYNC_COMMITTEE_SUBNET_COUNT;
            let per_sub = (sub as f64
                / (sub / TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE).max(1) as f64)
                .min(sub as f64);
            per_sub * SYNC_COMMITTEE_SUBNET_COUNT as f64
        }
        GossipKind::VoluntaryExit | GossipKind::BlsToExecutionChange => 4.0 / spe,
        GossipKind::ProposerSlashing | GossipKind::AttesterSlashing => 1.0 / 5.0 / spe,
        GossipKind::BlobSidecar(_) => {
            let subnets = chain.blob_sidecar_subnet_count_electra.max(1) as f64;
            chain.max_blobs_per_block_electra as f64 / subnets
        }
        GossipKind::DataColumnSidecar(_) => 1.0,
        GossipKind::ExecutionPayload
        | GossipKind::ExecutionPayloadBid
        | GossipKind::ProposerPreferences => 1.0,
        GossipKind::PayloadAttestationMessage => {
            active_validators.min(chain.preset.ptc_size) as f64
        }
        GossipKind::InclusionList => {
            active_validators.min(pheme_spec::INCLUSION_LIST_COMMITTEE_SIZE) as f64
        }
    }
}

/// Distinct validators signing in the sync committee each slot.
fn sync_committee_members(chain: &ChainSpec, active_validators: u64) -> f64 {
    active_validators.min(chain.preset.sync_committee_size) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use pheme_spec::Network;

    #[test]
    fn aggregators_match_the_document_where_it_is_exact() {
        let mainnet = Network::Mainnet.chain_spec().unwrap();
        // V/256 holds at V = 262,144: 64 committees of 128, 16 aggregators each.
        assert!((aggregators_per_slot(&mainnet, 262_144) - 1024.0).abs() < 1e-9);
        // At 1M validators committees are 488/489 members: 64 * (488/30, 489/30) ~ 1041.67.
        assert!((aggregators_per_slot(&mainnet, 1_000_000) - 1041.666).abs() < 0.01);
        // Tiny chains: one committee of 2, both members aggregate.
        assert!((aggregators_per_slot(&mainnet, 64) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn decays_match_the_documents_values() {
        let slot = 12_000.0;
        assert!((decay(640.0 * slot, slot) - 0.992830).abs() < 1e-6);
        assert!((decay(10.0 * slot, slot) - 0.630957).abs() < 1e-6);
        assert!((decay(7680.0 * slot, slot) - 0.9994).abs() < 1e-5);
    }
}
