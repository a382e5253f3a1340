//! Which discovered peers a query keeps.

use std::fmt;
use std::sync::Arc;

use pheme_spec::{ChainSpec, Epoch, ForkDigest};

use crate::peer_info::PeerInfo;
use crate::subnets::{Attnets, Syncnets};

/// A caller-supplied extra condition on a peer.
type ExtraCondition = Arc<dyn Fn(&PeerInfo) -> bool + Send + Sync>;

/// What a [`find_peers`](crate::Discovery::find_peers) query keeps beyond the fork-digest check,
/// which [`Discovery`](crate::Discovery) always applies.
///
/// With no subnet given every peer on our fork digest matches; with subnets, a peer matches when
/// it has any of the given `attnets` bits or any of the given `syncnets` bits set. An extra
/// closure, when given, must also accept the peer.
#[derive(Clone, Default)]
pub struct PeerPredicate {
    attnets: Attnets,
    syncnets: Syncnets,
    extra: Option<ExtraCondition>,
}

impl PeerPredicate {
    /// Every peer on our fork digest.
    pub fn any() -> Self {
        PeerPredicate::default()
    }

    /// Peers on any of these attestation subnets.
    pub fn attnets(attnets: Attnets) -> Self {
        PeerPredicate {
            attnets,
            ..PeerPredicate::default()
        }
    }

    /// Peers on any of these sync committee subnets.
    pub fn syncnets(syncnets: Syncnets) -> Self {
        PeerPredicate {
            syncnets,
            ..PeerPredicate::default()
        }
    }

    /// Also accept peers on any of these attestation subnets.
    #[must_use]
    pub fn or_attnets(mut self, attnets: Attnets) -> Self {
        self.attnets = Attnets::from_subnets(self.attnets.iter().chain(attnets.iter()))
            .unwrap_or(Attnets::ALL);
        self
    }

    /// Also accept peers on any of these sync committee subnets.
    #[must_use]
    pub fn or_syncnets(mut self, syncnets: Syncnets) -> Self {
        self.syncnets = Syncnets::from_subnets(self.syncnets.iter().chain(syncnets.iter()))
            .unwrap_or(Syncnets::ALL);
        self
    }

    /// Additionally require `f` (a minimum custody group count, a QUIC address, ...).
    #[must_use]
    pub fn and(mut self, f: impl Fn(&PeerInfo) -> bool + Send + Sync + 'static) -> Self {
        self.extra = Some(match self.extra.take() {
            None => Arc::new(f),
            Some(prev) => Arc::new(move |p: &PeerInfo| prev(p) && f(p)),
        });
        self
    }

    /// Whether `peer` matches (the fork digest is not checked here).
    pub fn matches(&self, peer: &PeerInfo) -> bool {
        let subnets_ok = (self.attnets.is_empty() && self.syncnets.is_empty())
            || peer.attnets.intersects(self.attnets)
            || peer.syncnets.intersects(self.syncnets);
        subnets_ok && self.extra.as_ref().is_none_or(|f| f(peer))
    }
}

impl fmt::Debug for PeerPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerPredicate")
            .field("attnets", &self.attnets)
            .field("syncnets", &self.syncnets)
            .field("extra", &self.extra.is_some())
            .finish()
    }
}

/// The fork digests a peer's `eth2.fork_digest` may have at `epoch`: the current one, and the
/// next one when its change is at most `transition_epochs` away.
pub fn accepted_fork_digests(
    chain: &ChainSpec,
    epoch: Epoch,
    transition_epochs: u64,
) -> Vec<ForkDigest> {
    let mut out = vec![chain.fork_digest_at(epoch)];
    if let Some(next) = chain.next_digest_change(epoch)
        && next.epoch.saturating_sub(epoch) <= transition_epochs
        && !out.contains(&next.digest)
    {
        out.push(next.digest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_window() {
        let chain = pheme_spec::load_network("mainnet").unwrap();
        // BPO1 at 412672.
        assert_eq!(accepted_fork_digests(&chain, 412_660, 2).len(), 1);
        let near = accepted_fork_digests(&chain, 412_670, 2);
        assert_eq!(near.len(), 2);
        assert_eq!(near[1].to_string(), "cb0d1acc");
        assert_eq!(
            accepted_fork_digests(&chain, 412_672, 2)[0].to_string(),
            "cb0d1acc"
        );
    }
}
