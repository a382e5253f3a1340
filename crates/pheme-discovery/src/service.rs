//! The [`Discovery`] service: discv5 on tokio with the eth2 ENR and fork-digest filtering.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use discv5::enr::NodeId;
use discv5::{ConfigBuilder, Discv5, Enr, ListenConfig};
use pheme_spec::{ChainSpec, Epoch, ForkDigest};
use tracing::{debug, warn};

use crate::config::DiscoveryConfig;
use crate::error::DiscoveryError;
use crate::eth2_enr::{EnrAddresses, Eth2Fields, build_enr, field_values};
use crate::identity::LocalIdentity;
use crate::peer_info::{PeerInfo, parse_enr};
use crate::predicate::{PeerPredicate, accepted_fork_digests};
use crate::subnets::{Attnets, Syncnets};

/// Counters of a [`Discovery`] service since start, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiscoveryMetrics {
    /// `find_peers` queries run (finished, with or without results).
    pub queries: u64,
    /// Peers returned by `find_peers` (summed over queries; a peer found twice counts twice).
    pub peers_found: u64,
    /// Records refused because their `eth2` fork digest is not one we accept (or absent);
    /// counted once per record and query.
    pub filtered_fork_digest: u64,
    /// Records refused because a field is malformed or the key is not secp256k1.
    pub filtered_invalid: u64,
    /// Records on our fork digest refused by the query's subnet / custom predicate.
    pub filtered_predicate: u64,
    /// Peers discv5 currently has a session with.
    pub connected_peers: u64,
    /// The local ENR sequence number.
    pub enr_seq: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queries: AtomicU64,
    peers_found: AtomicU64,
    filtered_fork_digest: AtomicU64,
    filtered_invalid: AtomicU64,
    filtered_predicate: AtomicU64,
}

#[derive(Debug)]
struct LocalState {
    epoch: Epoch,
    fields: Eth2Fields,
    accepted: Vec<ForkDigest>,
}

/// Ethereum discovery: a running discv5 node whose ENR carries the eth2 fields, queried for peers
/// on our fork digest.
///
/// Every method takes `&self`; share it behind an `Arc`. Dropping it stops discv5.
pub struct Discovery {
    discv5: Discv5,
    chain: Arc<ChainSpec>,
    state: Mutex<LocalState>,
    counters: Arc<Counters>,
    fork_transition_epochs: u64,
    local_peer_id: libp2p::PeerId,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("local_peer_id", &self.local_peer_id)
            .field("enr_seq", &self.enr_seq())
            .finish_non_exhaustive()
    }
}

/// Picks the port: the configured one, or a free one found by binding port 0 when it is 0.
fn resolve_port(ip: IpAddr, port: u16) -> std::io::Result<u16> {
    if port != 0 {
        return Ok(port);
    }
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0))?;
    Ok(socket.local_addr()?.port())
}

fn ipv6_available(ip: Ipv6Addr) -> bool {
    UdpSocket::bind(SocketAddr::new(IpAddr::V6(ip), 0)).is_ok()
}

impl Discovery {
    /// Binds UDP, builds and signs the local ENR for `chain` at wall-clock `epoch`, starts discv5
    /// and adds the bootnodes (the configured ones, else the network's). Needs a tokio runtime.
    ///
    /// A listen port of 0 takes a free port, found by binding and releasing it just before
    /// discv5 binds it again.
    pub async fn start(
        config: DiscoveryConfig,
        identity: &LocalIdentity,
        chain: Arc<ChainSpec>,
        epoch: Epoch,
    ) -> Result<Self, DiscoveryError> {
        let start_err = |e: std::io::Error| DiscoveryError::Start(e.to_string());
        let v6 = config.listen_v6.filter(|a| {
            let ok = ipv6_available(*a.ip());
            if !ok {
                warn!(addr = %a, "IPv6 unavailable; discovery runs on IPv4 only");
            }
            ok
        });
        let v4 = match config.listen_v4 {
            Some(a) => Some(SocketAddrVx4 {
                ip: *a.ip(),
                port: resolve_port(IpAddr::V4(*a.ip()), a.port()).map_err(start_err)?,
            }),
            None => None,
        };
        let v6 = match v6 {
            Some(a) => Some(SocketAddrVx6 {
                ip: *a.ip(),
                port: resolve_port(IpAddr::V6(*a.ip()), a.port()).map_err(start_err)?,
            }),
            None => None,
        };
        let listen_config = match (v4, v6) {
            (Some(a), Some(b)) => ListenConfig::DualStack {
                ipv4: a.ip,
                ipv4_port: a.port,
                ipv6: b.ip,
                ipv6_port: b.port,
            },
            (Some(a), None) => ListenConfig::Ipv4 {
                ip: a.ip,
                port: a.port,
            },
            (None, Some(b)) => ListenConfig::Ipv6 {
                ip: b.ip,
                port: b.port,
            },
            (None, None) => {
                return Err(DiscoveryError::Start(
                    "no usable UDP listen address (IPv6 unavailable)".into(),
                ));
            }
        };

        let enr_ip4 = config
            .enr_ip4
            .or(v4.map(|a| a.ip).filter(|ip| !ip.is_unspecified()));
        let enr_ip6 = config
            .enr_ip6
            .or(v6.map(|a| a.ip).filter(|ip| !ip.is_unspecified()));
        let addresses = EnrAddresses {
            ip4: enr_ip4,
            ip6: enr_ip6,
            udp4: v4.map(|a| a.port),
            udp6: v6.map(|a| a.port),
            tcp4: v4.and(config.tcp_port),
            tcp6: v6.and(config.tcp_port),
            quic4: v4.and(config.quic_port),
            quic6: v6.and(config.quic_port),
        };
        let fields = Eth2Fields::for_chain(
            &chain,
            epoch,
            config.attnets,
            config.syncnets,
            config.custody_group_count,
        );
        let key = identity.enr_key()?;
        let enr = build_enr(&key, &addresses, &fields)?;
        let local_node_id = enr.node_id();

        let mut builder = ConfigBuilder::new(listen_config);
        builder
            .query_timeout(config.query_timeout)
            .query_peer_timeout(config.query_peer_timeout)
            .request_timeout(config.request_timeout)
            .query_parallelism(config.query_parallelism)
            .ping_interval(config.ping_interval);
        if !config.enr_update {
            builder.disable_enr_update();
        }
        let mut discv5 = Discv5::new(enr, key, builder.build())
            .map_err(|e| DiscoveryError::Start(e.to_owned()))?;
        discv5
            .start()
            .await
            .map_err(|e| DiscoveryError::Start(format!("{e:?}")))?;

        let bootnodes = match config.bootnodes {
            Some(enrs) => enrs,
            None => {
                let mut enrs = Vec::with_capacity(chain.bootnodes.len());
                for (index, text) in chain.bootnodes.iter().enumerate() {
                    enrs.push(parse_enr(text).map_err(|e| DiscoveryError::Bootnode {
                        index,
                        reason: e.to_string(),
                    })?);
                }
                enrs
            }
        };
        for enr in bootnodes {
            if enr.node_id() == local_node_id {
                continue;
            }
            if let Err(reason) = discv5.add_enr(enr.clone()) {
                warn!(%reason, enr = %enr.to_base64(), "bootnode not added");
            }
        }

        let accepted = accepted_fork_digests(&chain, epoch, config.fork_transition_epochs);
        Ok(Discovery {
            discv5,
            chain,
            state: Mutex::new(LocalState {
                epoch,
                fields,
                accepted,
            }),
            counters: Arc::new(Counters::default()),
            fork_transition_epochs: config.fork_transition_epochs,
            local_peer_id: identity.peer_id(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LocalState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one discv5 query towards a random node id and returns up to `target` peers that are
    /// on an accepted fork digest (see [`accepted_fork_digests`]), have well-formed eth2 fields
    /// and a secp256k1 key, and match `predicate`. Peers on another fork digest are never
    /// returned. Bounded by the configured query timeout.
    pub async fn find_peers(
        &self,
        predicate: &PeerPredicate,
        target: usize,
    ) -> Result<Vec<PeerInfo>, DiscoveryError> {
        let accepted = self.state().accepted.clone();
        let counters = Arc::clone(&self.counters);
        let seen: Mutex<HashSet<NodeId>> = Mutex::new(HashSet::new());
        let query_predicate = predicate.clone();
        let query_accepted = accepted.clone();
        let filter = move |enr: &Enr| -> bool {
            let first_time = seen
                .lock()
                .map(|mut s| s.insert(enr.node_id()))
                .unwrap_or(false);
            match classify(enr, &query_accepted, &query_predicate) {
                Ok(_) => true,
                Err(reason) => {
                    if first_time {
                        counters.count(reason);
                    }
                    false
                }
            }
        };
        let found = self
            .discv5
            .find_node_predicate(NodeId::random(), Box::new(filter), target)
            .await;
        self.counters.queries.fetch_add(1, Ordering::Relaxed);
        let enrs = found.map_err(|e| DiscoveryError::Query(e.to_string()))?;
        let mut out = Vec::with_capacity(enrs.len().min(target));
        let mut ids = HashSet::new();
        for enr in enrs {
            // The predicate already ran inside the query; checking again keeps the guarantee
            // independent of how discv5 applies it.
            match classify(&enr, &accepted, predicate) {
                Ok(info) if ids.insert(info.node_id) && out.len() < target => out.push(info),
                Ok(_) => {}
                Err(reason) => debug!(?reason, "query result refused on re-check"),
            }
        }
        self.counters
            .peers_found
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        Ok(out)
    }

    /// The routing-table peers that pass the same checks as [`find_peers`](Self::find_peers)
    /// (accepted fork digest, well-formed record, `predicate`), without a network round trip:
    /// candidates to dial right away, e.g. after a restart of the libp2p side.
    pub fn cached_peers(&self, predicate: &PeerPredicate) -> Vec<PeerInfo> {
        let accepted = self.state().accepted.clone();
        self.discv5
            .table_entries_enr()
            .iter()
            .filter_map(|enr| classify(enr, &accepted, predicate).ok())
            .collect()
    }

    /// Moves to wall-clock `epoch`: recomputes `eth2` and `nfd` and the accepted fork digests.
    /// The ENR changes (and its sequence number grows) only when a value changes, so calling it
    /// every epoch is cheap. Returns whether the ENR changed.
    pub fn set_epoch(&self, epoch: Epoch) -> Result<bool, DiscoveryError> {
        let mut state = self.state();
        let new = Eth2Fields::for_chain(
            &self.chain,
            epoch,
            state.fields.attnets,
            state.fields.syncnets,
            state.fields.custody_group_count.unwrap_or_default(),
        );
        state.epoch = epoch;
        state.accepted = accepted_fork_digests(&self.chain, epoch, self.fork_transition_epochs);
        self.apply(&mut state, new)
    }

    /// Publishes new long-lived attestation subnets. Returns whether the ENR changed.
    pub fn set_attnets(&self, attnets: Attnets) -> Result<bool, DiscoveryError> {
        let mut state = self.state();
        let mut new = state.fields.clone();
        new.attnets = attnets;
        self.apply(&mut state, new)
    }

    /// Publishes new sync committee subnets. Returns whether the ENR changed.
    pub fn set_syncnets(&self, syncnets: Syncnets) -> Result<bool, DiscoveryError> {
        let mut state = self.state();
        let mut new = state.fields.clone();
        new.syncnets = syncnets;
        self.apply(&mut state, new)
    }

    /// Publishes a new custody group count (only where the chain schedules Fulu; elsewhere the
    /// ENR has no `cgc` and this returns `Ok(false)`). Returns whether the ENR changed.
    pub fn set_custody_group_count(&self, cgc: u64) -> Result<bool, DiscoveryError> {
        if cgc > pheme_spec::NUMBER_OF_CUSTODY_GROUPS {
            return Err(DiscoveryError::InvalidArgument(format!(
                "custody group count {cgc} is above {}",
                pheme_spec::NUMBER_OF_CUSTODY_GROUPS
            )));
        }
        let mut state = self.state();
        let mut new = state.fields.clone();
        if new.custody_group_count.is_some() {
            new.custody_group_count = Some(cgc);
        }
        self.apply(&mut state, new)
    }

    fn apply(&self, state: &mut LocalState, new: Eth2Fields) -> Result<bool, DiscoveryError> {
        if new == state.fields {
            return Ok(false);
        }
        let old_values = field_values(&state.fields);
        for (key, value) in field_values(&new) {
            if !old_values.iter().any(|(k, v)| *k == key && *v == value) {
                self.discv5.enr_insert(key, &value)?;
            }
        }
        state.fields = new;
        self.announce_update();
        Ok(true)
    }

    /// Pings every connected routing-table peer so it sees the new sequence number and fetches
    /// the updated record (discv5 does the same when its own IP vote changes the record).
    fn announce_update(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for (_, enr, status) in self.discv5.table_entries() {
            if status.is_connected() {
                let ping = self.discv5.send_ping(enr);
                runtime.spawn(async move {
                    if let Err(e) = ping.await {
                        debug!(error = %e, "ENR update ping failed");
                    }
                });
            }
        }
    }

    /// The local ENR.
    pub fn local_enr(&self) -> Enr {
        self.discv5.local_enr()
    }

    /// The local ENR as `enr:` text.
    pub fn local_enr_text(&self) -> String {
        self.discv5.local_enr().to_base64()
    }

    /// The local ENR sequence number.
    pub fn enr_seq(&self) -> u64 {
        self.discv5.local_enr().seq()
    }

    /// The local libp2p peer id (the same key as the ENR).
    pub fn local_peer_id(&self) -> libp2p::PeerId {
        self.local_peer_id
    }

    /// The eth2 values currently published.
    pub fn local_fields(&self) -> Eth2Fields {
        self.state().fields.clone()
    }

    /// The epoch last given to [`start`](Self::start) or [`set_epoch`](Self::set_epoch).
    pub fn epoch(&self) -> Epoch {
        self.state().epoch
    }

    /// The fork digests a returned peer may have right now.
    pub fn accepted_fork_digests(&self) -> Vec<ForkDigest> {
        self.state().accepted.clone()
    }

    /// Adds a known record to the routing table (a peer met over libp2p, a static peer).
    pub fn add_enr(&self, enr: Enr) -> Result<(), DiscoveryError> {
        self.discv5
            .add_enr(enr)
            .map_err(|e| DiscoveryError::InvalidArgument(e.to_owned()))
    }

    /// Counters since start.
    pub fn metrics(&self) -> DiscoveryMetrics {
        let c = &self.counters;
        DiscoveryMetrics {
            queries: c.queries.load(Ordering::Relaxed),
            peers_found: c.peers_found.load(Ordering::Relaxed),
            filtered_fork_digest: c.filtered_fork_digest.load(Ordering::Relaxed),
            filtered_invalid: c.filtered_invalid.load(Ordering::Relaxed),
            filtered_predicate: c.filtered_predicate.load(Ordering::Relaxed),
            connected_peers: self.discv5.connected_peers() as u64,
            enr_seq: self.enr_seq(),
        }
    }

    /// Stops discv5 (also done on drop).
    pub fn shutdown(&mut self) {
        self.discv5.shutdown();
    }
}

#[derive(Debug, Clone, Copy)]
struct SocketAddrVx4 {
    ip: Ipv4Addr,
    port: u16,
}

#[derive(Debug, Clone, Copy)]
struct SocketAddrVx6 {
    ip: Ipv6Addr,
    port: u16,
}

#[derive(Debug, Clone, Copy)]
enum Refusal {
    ForkDigest,
    Invalid,
    Predicate,
}

impl Counters {
    fn count(&self, reason: Refusal) {
        let counter = match reason {
            Refusal::ForkDigest => &self.filtered_fork_digest,
            Refusal::Invalid => &self.filtered_invalid,
            Refusal::Predicate => &self.filtered_predicate,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The standard filter: an accepted fork digest first (so peers of other networks are counted as
/// such even when another field is malformed), then well-formedness, then the predicate.
fn classify(
    enr: &Enr,
    accepted: &[ForkDigest],
    predicate: &PeerPredicate,
) -> Result<PeerInfo, Refusal> {
    use crate::eth2_enr::{Eth2Enr, fork_digest_of};
    match enr.eth2() {
        Ok(Some(id)) if accepted.contains(&fork_digest_of(&id)) => {}
        Ok(_) => return Err(Refusal::ForkDigest),
        Err(_) => return Err(Refusal::Invalid),
    }
    let info = PeerInfo::from_enr(enr).map_err(|_| Refusal::Invalid)?;
    if predicate.matches(&info) {
        Ok(info)
    } else {
        Err(Refusal::Predicate)
    }
}
