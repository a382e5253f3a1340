//! Once per epoch: the digests in use, their re-derived presets, the topics subscribed and
//! the custody the node advertises.

use std::collections::{BTreeMap, HashSet};

use pheme_scoring::rederive;
use pheme_spec::unix_now_ms;

use super::build::{derive_for, kinds_by_digest};
use super::{CUSTODY_REQUIREMENT, Service};
use crate::config::Subnets;
use crate::params::topic_name;
use crate::topics::{accepted_digests, active_digests};

impl Service {
    /// Brings the router's subscriptions, filter and topic parameters in line with the plan.
    pub(super) fn sync_topics(&mut self) {
        let mut wanted = HashSet::new();
        let epoch = self.last_epoch.unwrap_or_else(|| {
            let slot = self.chain.clock().slot_at_ms(unix_now_ms()).unwrap_or(0);
            self.chain.epoch_of(slot)
        });
        let allowed: Vec<_> = accepted_digests(&self.chain, epoch)
            .iter()
            .flat_map(|d| {
                pheme_spec::GossipKind::all_for_fork(&self.chain, d.fork)
                    .into_iter()
                    .map(|k| topic_name(d.digest, k))
            })
            .collect();
        for (d, kinds) in &self.kinds {
            for k in kinds.iter().chain(self.extra_kinds.iter()) {
                if !self.removed_kinds.contains(k) && k.exists_at(&self.chain, d.fork) {
                    wanted.insert(topic_name(d.digest, *k));
                }
            }
        }
        self.gs_set_allowed(allowed);
        let stale: Vec<_> = self.subscribed.difference(&wanted).cloned().collect();
        for t in stale {
            self.gs_unsubscribe(&t);
            self.subscribed.remove(&t);
            tracing::debug!(target: "pheme::network::topics", topic = %t, "unsubscribed");
        }
        let mut fresh: Vec<_> = wanted.difference(&self.subscribed).cloned().collect();
        fresh.sort();
        for t in fresh {
            if self.gs_subscribe(&t) {
                self.subscribed.insert(t);
            }
        }
        self.refresh_metadata();
        self.config
            .metrics
            .gauge("pheme_topics_subscribed", &[], self.subscribed.len() as f64);
    }

    /// Pushes the presets' topic parameters into the router and the score tracker.
    pub(super) fn apply_presets(&mut self) {
        if let Err(e) = self.gs_apply_presets() {
            tracing::warn!(target: "pheme::network::scoring", error = %e, "derived parameters refused; keeping the old ones");
        }
    }

    /// Once per epoch: the digests in use, their presets and the topics.
    pub(super) fn on_epoch(&mut self, epoch: u64, slot: u64) {
        let digests = active_digests(&self.chain, epoch);
        let mut changed = false;
        let v = self.config.active_validators;
        let mut presets = BTreeMap::new();
        for d in &digests {
            let preset = match self.presets.get(&d.digest) {
                Some(old) => match rederive(
                    old,
                    &self.chain,
                    v,
                    slot.max(self.chain.start_slot(d.epoch)),
                ) {
                    Ok(Some((new, reason))) => {
                        tracing::info!(target: "pheme::network::scoring", digest = %d.digest, ?reason, validators = v, "score parameters re-derived");
                        changed = true;
                        new
                    }
                    Ok(None) => old.clone(),
                    Err(e) => {
                        tracing::warn!(target: "pheme::network::scoring", error = %e, "re-derivation failed; keeping the old parameters");
                        old.clone()
                    }
                },
                None => match derive_for(&self.chain, d, v, slot, &self.config) {
                    Ok(p) => {
                        changed = true;
                        p
                    }
                    Err(e) => {
                        tracing::warn!(target: "pheme::network::scoring", error = %e, "derivation failed for a new digest");
                        continue;
                    }
                },
            };
            presets.insert(d.digest, preset);
        }
        if presets.len() != self.presets.len() {
            changed = true;
        }
        self.presets = presets;
        let kinds = kinds_by_digest(&self.chain, &digests, &self.config);
        if kinds
            .iter()
            .map(|(d, _)| d.digest)
            .ne(self.kinds.iter().map(|(d, _)| d.digest))
        {
            tracing::info!(target: "pheme::network::topics", epoch, digests = ?digests.iter().map(|d| d.digest.to_string()).collect::<Vec<_>>(), "topic digests changed");
        }
        self.kinds = kinds;
        if changed {
            self.apply_presets();
        }
        self.sync_topics();
    }

    /// Custody groups advertised: every group for an all-subnets node from fulu on (it takes
    /// every data-column subnet) unless its topic selection leaves columns out, the spec's
    /// minimum otherwise; none before fulu.
    pub(super) fn custody_groups(&self) -> u64 {
        let fulu = self
            .kinds
            .first()
            .is_some_and(|(d, _)| d.fork >= pheme_spec::Fork::Fulu);
        match (&self.config.subnets, fulu) {
            (_, false) => 0,
            (Subnets::All, true) if self.config.selects("data_column_sidecar") => {
                pheme_spec::NUMBER_OF_CUSTODY_GROUPS
            }
            (_, true) => CUSTODY_REQUIREMENT,
        }
    }

    /// The MetaData moved: discovery's ENR follows.
    pub(super) fn metadata_changed(&mut self) {
        tracing::debug!(target: "pheme::network::rpc", seq = self.rpc.local.metadata.seq_number, "metadata changed");
    }
}
