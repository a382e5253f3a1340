//! Which fork digests' topics to be on at a given epoch, and which topics of each.
//!
//! As the spec's fork transition says: the next digest's topics are subscribed
//! [`SUBSCRIBE_EPOCHS_AHEAD`] epochs before its first epoch, and the previous digest's are kept
//! for [`UNSUBSCRIBE_EPOCHS_AFTER`] epochs after it. Fulu's blob-parameter-only forks change the
//! digest too, so they are transitions like any other.

use pheme_spec::{ChainSpec, DigestEpoch, Epoch, GossipKind};

use crate::config::Subnets;

/// Epochs before a digest change its topics are subscribed.
pub const SUBSCRIBE_EPOCHS_AHEAD: u64 = 2;
/// Epochs after a digest change the previous digest's topics are dropped.
pub const UNSUBSCRIBE_EPOCHS_AFTER: u64 = 2;

/// The digests whose topics are in use at `epoch`: the current one first, then the next (ahead
/// of its change) or the previous (just after its change).
pub fn active_digests(chain: &ChainSpec, epoch: Epoch) -> Vec<DigestEpoch> {
    let schedule = chain.digest_schedule();
    let Some(i) = schedule.iter().rposition(|d| d.epoch <= epoch) else {
        return schedule.first().copied().into_iter().collect();
    };
    let mut out = vec![schedule[i]];
    if let Some(next) = schedule.get(i + 1)
        && next.epoch <= epoch.saturating_add(SUBSCRIBE_EPOCHS_AHEAD)
    {
        out.push(*next);
    }
    if i > 0 && epoch < schedule[i].epoch.saturating_add(UNSUBSCRIBE_EPOCHS_AFTER) {
        out.push(schedule[i - 1]);
    }
    out
}

/// The topic kinds of `digest` to subscribe to with `subnets`.
pub fn kinds_for(chain: &ChainSpec, digest: &DigestEpoch, subnets: &Subnets) -> Vec<GossipKind> {
    GossipKind::all_for_fork(chain, digest.fork)
        .into_iter()
        .filter(|k| match (subnets, k) {
            (Subnets::All, _) => true,
            (Subnets::Attestation(list), GossipKind::BeaconAttestation(s)) => list.contains(s),
            (Subnets::Attestation(_), GossipKind::BlobSidecar(_))
            | (Subnets::Attestation(_), GossipKind::DataColumnSidecar(_)) => false,
            (Subnets::Attestation(_), _) => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pheme_spec::{Fork, Network};

    #[test]
    fn transitions_overlap_by_the_spec_margins() {
        let chain = Network::Mainnet.chain_spec().unwrap();
        // BPO2 at 419072.
        let at = |e| {
            active_digests(&chain, e)
                .iter()
                .map(|d| d.digest.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(at(419_000), ["cb0d1acc"]);
        assert_eq!(at(419_070), ["cb0d1acc", "8c9f62fe"]);
        assert_eq!(at(419_072), ["8c9f62fe", "cb0d1acc"]);
        assert_eq!(at(419_073), ["8c9f62fe", "cb0d1acc"]);
        assert_eq!(at(419_074), ["8c9f62fe"]);
    }

    #[test]
    fn subnet_selection() {
        let chain = Network::Mainnet.chain_spec().unwrap();
        let fulu = *chain
            .digest_schedule()
            .iter()
            .rfind(|d| d.fork == Fork::Fulu)
            .unwrap();
        assert_eq!(
            kinds_for(&chain, &fulu, &Subnets::All).len(),
            2 + 64 + 3 + 1 + 4 + 1 + 128
        );
        let some = kinds_for(&chain, &fulu, &Subnets::Attestation(vec![1, 2]));
        assert_eq!(some.len(), 2 + 2 + 3 + 1 + 4 + 1);
    }
}
