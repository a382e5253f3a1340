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

/// Epochs of slack, either side, between the digests subscribed to and the digests whose topics
/// peers may subscribe to (see [`accepted_digests`]).
pub const FILTER_SLACK_EPOCHS: u64 = 1;

/// The digests whose topics are in use at `epoch`: the current one first, then every later one
/// due within [`SUBSCRIBE_EPOCHS_AHEAD`] epochs (a fork and a blob-parameter change can both be
/// that close), then the previous one for [`UNSUBSCRIBE_EPOCHS_AFTER`] epochs after its change.
pub fn active_digests(chain: &ChainSpec, epoch: Epoch) -> Vec<DigestEpoch> {
    digests_around(
        chain,
        epoch,
        SUBSCRIBE_EPOCHS_AHEAD,
        UNSUBSCRIBE_EPOCHS_AFTER,
    )
}

/// The digests whose topics peers may subscribe to at `epoch`: [`active_digests`] widened by
/// [`FILTER_SLACK_EPOCHS`] either side. A peer whose clock, or whose once-per-tick epoch check,
/// runs a little ahead subscribes to the next digest's topics before this node does; the router
/// never asks again, so a subscription refused then would keep that peer out of the new meshes
/// for the whole fork.
pub fn accepted_digests(chain: &ChainSpec, epoch: Epoch) -> Vec<DigestEpoch> {
    digests_around(
        chain,
        epoch,
        SUBSCRIBE_EPOCHS_AHEAD + FILTER_SLACK_EPOCHS,
        UNSUBSCRIBE_EPOCHS_AFTER + FILTER_SLACK_EPOCHS,
    )
}

fn digests_around(chain: &ChainSpec, epoch: Epoch, ahead: u64, after: u64) -> Vec<DigestEpoch> {
    let schedule = chain.digest_schedule();
    let Some(i) = schedule.iter().rposition(|d| d.epoch <= epoch) else {
        return schedule.first().copied().into_iter().collect();
    };
    let mut out = vec![schedule[i]];
    out.extend(
        schedule[i + 1..]
            .iter()
            .take_while(|next| next.epoch <= epoch.saturating_add(ahead)),
    );
    if i > 0 && epoch < schedule[i].epoch.saturating_add(after) {
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
    fn every_digest_due_soon_is_subscribed_and_the_filter_has_slack() {
        let mut chain = Network::Mainnet.chain_spec().unwrap();
        let schedule = chain.digest_schedule();
        // Two changes one epoch apart (a fork then a blob-parameter change).
        let (a, b) = (schedule[schedule.len() - 2], schedule[schedule.len() - 1]);
        chain.blob_schedule.push(pheme_spec::BlobParameters {
            epoch: b.epoch + 1,
            max_blobs_per_block: 99,
        });
        let schedule = chain.digest_schedule();
        let c = schedule[schedule.len() - 1];
        assert_eq!(c.epoch, b.epoch + 1);
        let names = |v: Vec<DigestEpoch>| v.iter().map(|d| d.digest).collect::<Vec<_>>();
        // Two epochs before b, both b and c are due.
        assert_eq!(
            names(active_digests(&chain, b.epoch - 1)),
            [a.digest, b.digest, c.digest]
        );
        assert_eq!(names(active_digests(&chain, b.epoch - 3)), [a.digest]);
        // The filter accepts b one epoch before this node subscribes, and keeps a one after.
        assert_eq!(
            names(accepted_digests(&chain, b.epoch - 3)),
            [a.digest, b.digest]
        );
        assert!(!active_digests(&chain, c.epoch + 2).contains(&b));
        assert!(accepted_digests(&chain, c.epoch + 2).contains(&b));
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
