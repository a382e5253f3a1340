//! Peers: bans and graylisting, static peers kept dialled, score events, and what discovery
//! is asked for and finds.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Instant;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use pheme_discovery::PeerInfo;
use pheme_spec::GossipKind;
use tokio::sync::mpsc;

use super::{REDIAL_INTERVAL, SCORE_EVENT_DELTA, Service};
use crate::config::{DEFAULT_FILTER_BACKOFF, DEFAULT_IDENTIFY_TIMEOUT};
use crate::discovery::Wants;
use crate::handle::NetworkEvent;
use crate::rpc::GoodbyeReason;

pub(super) struct PeerState {
    pub(super) addr: Multiaddr,
    pub(super) outbound: bool,
    /// The agent version from identify.
    pub(super) agent: Option<String>,
    pub(super) since: Instant,
    /// When it connected, unix milliseconds.
    pub(super) since_ms: u64,
    /// Whether an observer was told the gossipsub protocol the router negotiated with it.
    pub(super) protocol_reported: bool,
}

pub(crate) fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

pub(super) async fn next_found(
    rx: &mut Option<mpsc::Receiver<Vec<PeerInfo>>>,
) -> Option<Vec<PeerInfo>> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

pub(super) fn strip_p2p(addr: &Multiaddr) -> Multiaddr {
    addr.iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect()
}

impl Service {
    /// Identify told the peer's agent version: the agent filter keeps the peer or drops it.
    pub(super) fn on_identified(&mut self, peer: PeerId, agent: String) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        let keep = self.config.agent_filter.keeps(&agent);
        state.agent = Some(agent);
        if !keep {
            self.filter_out(peer, "agent");
        }
    }

    /// Says goodbye to a peer the agent filter does not keep, and keeps it out for
    /// [`DEFAULT_FILTER_BACKOFF`].
    fn filter_out(&mut self, peer: PeerId, reason: &'static str) {
        let Some(state) = self.peers.get(&peer) else {
            return;
        };
        if self.filtered.contains_key(&peer) {
            return;
        }
        tracing::info!(target: "pheme::network::peers", %peer, agent = ?state.agent, reason, "dropped by the agent filter");
        self.config
            .metrics
            .count("pheme_peers_filtered_total", &[("reason", reason)], 1);
        let addr = state.addr.clone();
        self.filtered
            .insert(peer, (Instant::now() + DEFAULT_FILTER_BACKOFF, addr));
        self.goodbye(peer, GoodbyeReason::IrrelevantNetwork, true);
    }

    pub(super) fn manage_peers(&mut self, now: Instant) {
        // Bans and agent-filter backoffs run out.
        let expired: Vec<PeerId> = self
            .banned
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for p in expired {
            self.banned.remove(&p);
            if !self.filtered.contains_key(&p) {
                self.swarm.behaviour_mut().blocked.unblock_peer(p);
            }
        }
        let expired: Vec<PeerId> = self
            .filtered
            .iter()
            .filter(|(_, (until, _))| *until <= now)
            .map(|(p, _)| *p)
            .collect();
        for p in expired {
            self.filtered.remove(&p);
            if !self.banned.contains_key(&p) {
                self.swarm.behaviour_mut().blocked.unblock_peer(p);
            }
        }
        // With a keep-list, peers that never say who they are go.
        if self.config.agent_filter.needs_agent() {
            let silent: Vec<PeerId> = self
                .peers
                .iter()
                .filter(|(_, s)| {
                    s.agent.is_none() && now.duration_since(s.since) >= DEFAULT_IDENTIFY_TIMEOUT
                })
                .map(|(p, _)| *p)
                .collect();
            for p in silent {
                self.filter_out(p, "unidentified");
            }
        }
        // Graylisted peers go.
        if self.config.scoring {
            let graylist = self.graylist;
            let bad: Vec<(PeerId, f64)> = self
                .peers
                .keys()
                .filter(|p| !self.banned.contains_key(p))
                .filter_map(|p| {
                    let s = self.gs_score(p)?;
                    (s < graylist).then_some((*p, s))
                })
                .collect();
            for (peer, score) in bad {
                tracing::info!(target: "pheme::network::peers", %peer, score, "graylisted: banned and disconnected");
                self.config.metrics.count(
                    "pheme_peers_banned_total",
                    &[("reason", "graylisted")],
                    1,
                );
                self.banned.insert(peer, now + self.config.ban_duration);
                self.goodbye(peer, GoodbyeReason::BadScore, true);
                self.peer_event(peer, crate::PeerEventKind::Banned { score });
                self.emit(NetworkEvent::PeerBanned { peer, score });
            }
        }
        // Static peers stay dialled.
        let mut connected: HashSet<Multiaddr> =
            self.peers.values().map(|p| strip_p2p(&p.addr)).collect();
        // A static peer the agent filter dropped waits for its backoff like any other.
        connected.extend(self.filtered.values().map(|(_, a)| strip_p2p(a)));
        for i in 0..self.static_peers.len() {
            let (addr, last) = self.static_peers[i].clone();
            if connected.contains(&strip_p2p(&addr))
                || last.is_some_and(|t| now.duration_since(t) < REDIAL_INTERVAL)
            {
                continue;
            }
            self.static_peers[i].1 = Some(now);
            let outcome = match self.swarm.dial(addr.clone()) {
                Ok(()) => "started",
                Err(e) => {
                    tracing::debug!(target: "pheme::network::peers", %addr, error = %e, "dial refused");
                    "refused"
                }
            };
            self.config
                .metrics
                .count("pheme_dials_total", &[("outcome", outcome)], 1);
        }
        // Score events.
        let scores: Vec<(PeerId, f64)> = self
            .peers
            .keys()
            .map(|p| (*p, self.gs_score(p).unwrap_or(0.0)))
            .collect();
        for (peer, score) in scores {
            let last = self.last_scores.get(&peer).copied().unwrap_or(0.0);
            if (score - last).abs() >= SCORE_EVENT_DELTA || (score < 0.0) != (last < 0.0) {
                self.last_scores.insert(peer, score);
                self.emit(NetworkEvent::ScoreChanged { peer, score });
            }
        }
    }

    /// What discovery should look for now, and what the ENR should say.
    pub(super) fn tell_discovery(&mut self, epoch: u64) {
        let Some(wants) = &self.wants else { return };
        let mesh_low = self
            .kinds
            .first()
            .and_then(|(d, _)| self.presets.get(&d.digest))
            .map_or(6, |p| p.gossipsub.mesh_n_low);
        let current = self.kinds.first().map(|(d, _)| d.digest);
        let mut thin_attnets = Vec::new();
        let mut thin_syncnets = Vec::new();
        for t in &self.subscribed {
            let Ok(topic) = t.as_str().parse::<pheme_codec::GossipTopic>() else {
                continue;
            };
            if Some(topic.fork_digest) != current || self.gs_mesh(t).len() >= mesh_low {
                continue;
            }
            match topic.kind {
                GossipKind::BeaconAttestation(s) => thin_attnets.push(s),
                GossipKind::SyncCommittee(s) => thin_syncnets.push(s),
                _ => {}
            }
        }
        let m = &self.rpc.local.metadata;
        let next = Wants {
            needed: self.config.target_peers.saturating_sub(self.peers.len()),
            thin_attnets,
            thin_syncnets,
            epoch,
            attnets: (0..64).filter(|i| m.attnets[*i as usize]).collect(),
            syncnets: (0..4).filter(|i| m.syncnets[*i as usize]).collect(),
            cgc: m.custody_group_count,
        };
        wants.send_if_modified(|w| {
            let changed = *w != next;
            *w = next;
            changed
        });
    }

    /// Dials discovered peers, up to the target.
    pub(super) fn on_found(&mut self, peers: Vec<PeerInfo>) {
        let me = *self.swarm.local_peer_id();
        let mut room = self.config.target_peers.saturating_sub(self.peers.len());
        for info in peers {
            if room == 0 {
                break;
            }
            if info.peer_id == me
                || self.peers.contains_key(&info.peer_id)
                || self.banned.contains_key(&info.peer_id)
                || self.filtered.contains_key(&info.peer_id)
                || self.swarm.is_connected(&info.peer_id)
            {
                continue;
            }
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(info.peer_id)
                .addresses(info.dial_addrs())
                .build();
            let outcome = match self.swarm.dial(opts) {
                Ok(()) => {
                    room -= 1;
                    "started"
                }
                Err(_) => "refused",
            };
            self.config
                .metrics
                .count("pheme_dials_total", &[("outcome", outcome)], 1);
        }
    }
}
