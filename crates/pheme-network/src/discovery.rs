//! The discovery task: discv5 with the eth2 ENR, beside the swarm. The swarm tells it what it
//! wants (how many peers, which subnets are thin, the epoch and the local subnets); it answers
//! with peers to dial, and keeps the ENR in line with the node's MetaData.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pheme_discovery::{
    Attnets, Discovery, DiscoveryConfigBuilder, LocalIdentity, PeerInfo, PeerPredicate, Syncnets,
};
use pheme_spec::ChainSpec;
use tokio::sync::{mpsc, watch};

use crate::metrics::Metrics;

/// How often discovery looks for peers when the node has fewer than it wants.
pub const DISCOVERY_INTERVAL: Duration = Duration::from_secs(3);

/// What the swarm wants of discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Wants {
    /// Peers short of the target.
    pub needed: usize,
    /// Attestation subnets whose meshes are thin.
    pub thin_attnets: Vec<u64>,
    /// Sync committee subnets whose meshes are thin.
    pub thin_syncnets: Vec<u64>,
    /// The wall-clock epoch.
    pub epoch: u64,
    /// The subnets and custody groups the node serves (its MetaData).
    pub attnets: Vec<u64>,
    /// Sync committee subnets served.
    pub syncnets: Vec<u64>,
    /// Custody group count.
    pub cgc: u64,
}

pub(crate) struct DiscoveryTask {
    pub builder: DiscoveryConfigBuilder,
    pub identity: LocalIdentity,
    pub chain: Arc<ChainSpec>,
    pub wants: watch::Receiver<Wants>,
    pub tcp_port: watch::Receiver<Option<u16>>,
    pub found: mpsc::Sender<Vec<PeerInfo>>,
    pub enr: Arc<Mutex<Option<String>>>,
    pub metrics: Metrics,
}

impl DiscoveryTask {
    pub async fn run(mut self) {
        // The ENR carries the TCP port the swarm actually listens on.
        let port = tokio::time::timeout(
            Duration::from_secs(5),
            self.tcp_port.wait_for(Option::is_some),
        )
        .await
        .ok()
        .and_then(|r| r.ok().and_then(|p| *p));
        if let Some(p) = port {
            self.builder.tcp_port(Some(p));
        }
        let config = match self.builder.build() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(target: "pheme::network::discovery", error = %e, "discovery not started");
                return;
            }
        };
        let epoch = self.wants.borrow().epoch;
        let disc = match Discovery::start(config, &self.identity, self.chain.clone(), epoch).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(target: "pheme::network::discovery", error = %e, "discovery not started");
                return;
            }
        };
        tracing::info!(target: "pheme::network::discovery", enr = %disc.local_enr_text(), "discovery started");
        let mut tick = tokio::time::interval(DISCOVERY_INTERVAL);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                changed = self.wants.changed() => if changed.is_err() { break },
            }
            let w = self.wants.borrow_and_update().clone();
            self.update_enr(&disc, &w);
            let mut peers = Vec::new();
            if w.needed > 0 {
                peers.extend(disc.cached_peers(&PeerPredicate::any()));
                match disc.find_peers(&PeerPredicate::any(), w.needed).await {
                    Ok(p) => peers.extend(p),
                    Err(e) => {
                        tracing::debug!(target: "pheme::network::discovery", error = %e, "query failed")
                    }
                }
            }
            let thin_att = Attnets::from_subnets(w.thin_attnets.iter().copied());
            let thin_sync = Syncnets::from_subnets(w.thin_syncnets.iter().copied());
            let predicate = match (thin_att, thin_sync) {
                (Some(a), Some(s)) if a.iter().next().is_some() || s.iter().next().is_some() => {
                    Some(PeerPredicate::attnets(a).or_syncnets(s))
                }
                _ => None,
            };
            if let Some(p) = predicate {
                match disc.find_peers(&p, 8).await {
                    Ok(found) => peers.extend(found),
                    Err(e) => {
                        tracing::debug!(target: "pheme::network::discovery", error = %e, "subnet query failed")
                    }
                }
            }
            let m = disc.metrics();
            self.metrics
                .absolute("pheme_discovery_queries_total", &[], m.queries);
            for (outcome, n) in [
                ("found", m.peers_found),
                ("other_fork_digest", m.filtered_fork_digest),
                ("invalid_enr", m.filtered_invalid),
                ("not_on_subnets", m.filtered_predicate),
            ] {
                self.metrics.absolute(
                    "pheme_discovery_peers_found_total",
                    &[("outcome", outcome)],
                    n,
                );
            }
            if !peers.is_empty() && self.found.send(peers).await.is_err() {
                break;
            }
        }
    }

    fn update_enr(&self, disc: &Discovery, w: &Wants) {
        let mut changed = false;
        let mut apply = |r: Result<bool, pheme_discovery::DiscoveryError>| match r {
            Ok(c) => changed |= c,
            Err(e) => {
                tracing::warn!(target: "pheme::network::discovery", error = %e, "ENR update failed")
            }
        };
        apply(disc.set_epoch(w.epoch));
        if let Some(a) = Attnets::from_subnets(w.attnets.iter().copied()) {
            apply(disc.set_attnets(a));
        }
        if let Some(s) = Syncnets::from_subnets(w.syncnets.iter().copied()) {
            apply(disc.set_syncnets(s));
        }
        if pheme_discovery::fulu_scheduled(&self.chain) {
            apply(disc.set_custody_group_count(w.cgc));
        }
        if let Ok(mut e) = self.enr.lock()
            && (changed || e.is_none())
        {
            *e = Some(disc.local_enr_text());
        }
    }
}
