//! [`DiscoveryConfig`] and its builder.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::time::Duration;

use discv5::Enr;

use crate::error::ConfigError;
use crate::peer_info::parse_enr;
use crate::subnets::{Attnets, Syncnets};

/// Default UDP port of discv5 (also the default TCP port of libp2p, as in every eth2 client).
pub const DEFAULT_UDP_PORT: u16 = 9000;
/// Default libp2p TCP port published in the ENR.
pub const DEFAULT_TCP_PORT: u16 = 9000;
/// Default libp2p QUIC port published in the ENR.
pub const DEFAULT_QUIC_PORT: u16 = 9001;
/// Default bound on one `find_peers` query.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a query waits for one peer's answer before moving on.
pub const DEFAULT_QUERY_PEER_TIMEOUT: Duration = Duration::from_secs(2);
/// Default discv5 request timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// Default number of peers a query asks at once.
pub const DEFAULT_QUERY_PARALLELISM: usize = 3;
/// Default interval between discv5 liveness pings of routing-table peers; pings carry the ENR
/// sequence number, which is how peers learn of an updated record.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(30);
/// Default number of epochs before a digest change from which peers already advertising the next
/// digest are accepted (the gossip spec subscribes to the next fork's topics two epochs ahead).
pub const DEFAULT_FORK_TRANSITION_EPOCHS: u64 = 2;
/// Default custody group count published once Fulu is scheduled (`CUSTODY_REQUIREMENT`).
pub const DEFAULT_CUSTODY_GROUP_COUNT: u64 = 4;

/// Configuration of the [`Discovery`](crate::Discovery) service; build it with
/// [`DiscoveryConfig::builder`].
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    pub(crate) listen_v4: Option<SocketAddrV4>,
    pub(crate) listen_v6: Option<SocketAddrV6>,
    pub(crate) enr_ip4: Option<Ipv4Addr>,
    pub(crate) enr_ip6: Option<Ipv6Addr>,
    pub(crate) tcp_port: Option<u16>,
    pub(crate) quic_port: Option<u16>,
    pub(crate) bootnodes: Option<Vec<Enr>>,
    pub(crate) attnets: Attnets,
    pub(crate) syncnets: Syncnets,
    pub(crate) custody_group_count: u64,
    pub(crate) query_timeout: Duration,
    pub(crate) query_peer_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) query_parallelism: usize,
    pub(crate) ping_interval: Duration,
    pub(crate) fork_transition_epochs: u64,
    pub(crate) enr_update: bool,
}

impl DiscoveryConfig {
    /// A builder with the defaults: UDP on `0.0.0.0:9000` and `[::]:9000` (IPv6 dropped at start
    /// where the host has none), TCP 9000 and QUIC 9001 in the ENR, the network's bootnodes, no
    /// subnets, `DEFAULT_*` timings.
    pub fn builder() -> DiscoveryConfigBuilder {
        DiscoveryConfigBuilder::default()
    }

    /// The IPv4 UDP listen address.
    pub fn listen_v4(&self) -> Option<SocketAddrV4> {
        self.listen_v4
    }

    /// The IPv6 UDP listen address.
    pub fn listen_v6(&self) -> Option<SocketAddrV6> {
        self.listen_v6
    }

    /// Explicit bootnodes (`None`: the network's).
    pub fn bootnodes(&self) -> Option<&[Enr]> {
        self.bootnodes.as_deref()
    }

    /// The bound on one query.
    pub fn query_timeout(&self) -> Duration {
        self.query_timeout
    }
}

/// Builder of [`DiscoveryConfig`].
#[derive(Debug, Clone)]
pub struct DiscoveryConfigBuilder {
    config: DiscoveryConfig,
    bootnode_texts: Option<Vec<String>>,
}

impl Default for DiscoveryConfigBuilder {
    fn default() -> Self {
        DiscoveryConfigBuilder {
            config: DiscoveryConfig {
                listen_v4: Some(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, DEFAULT_UDP_PORT)),
                listen_v6: Some(SocketAddrV6::new(
                    Ipv6Addr::UNSPECIFIED,
                    DEFAULT_UDP_PORT,
                    0,
                    0,
                )),
                enr_ip4: None,
                enr_ip6: None,
                tcp_port: Some(DEFAULT_TCP_PORT),
                quic_port: Some(DEFAULT_QUIC_PORT),
                bootnodes: None,
                attnets: Attnets::EMPTY,
                syncnets: Syncnets::EMPTY,
                custody_group_count: DEFAULT_CUSTODY_GROUP_COUNT,
                query_timeout: DEFAULT_QUERY_TIMEOUT,
                query_peer_timeout: DEFAULT_QUERY_PEER_TIMEOUT,
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
                query_parallelism: DEFAULT_QUERY_PARALLELISM,
                ping_interval: DEFAULT_PING_INTERVAL,
                fork_transition_epochs: DEFAULT_FORK_TRANSITION_EPOCHS,
                enr_update: true,
            },
            bootnode_texts: None,
        }
    }
}

impl DiscoveryConfigBuilder {
    /// IPv4 UDP listen address (`None`: no IPv4). Port 0 takes a free port. A specific
    /// (not unspecified) IP is also published in the ENR unless [`enr_ip4`](Self::enr_ip4) says
    /// otherwise.
    pub fn listen_v4(&mut self, addr: Option<SocketAddrV4>) -> &mut Self {
        self.config.listen_v4 = addr;
        self
    }

    /// IPv6 UDP listen address (`None`: no IPv6). Port 0 takes a free port.
    pub fn listen_v6(&mut self, addr: Option<SocketAddrV6>) -> &mut Self {
        self.config.listen_v6 = addr;
        self
    }

    /// IPv4 address to publish (the public one behind NAT). Without it, discv5 learns it from
    /// peers' PONGs.
    pub fn enr_ip4(&mut self, ip: Option<Ipv4Addr>) -> &mut Self {
        self.config.enr_ip4 = ip;
        self
    }

    /// IPv6 address to publish.
    pub fn enr_ip6(&mut self, ip: Option<Ipv6Addr>) -> &mut Self {
        self.config.enr_ip6 = ip;
        self
    }

    /// libp2p TCP port to publish (`tcp`, and `tcp6` when IPv6 is on); `None` leaves it out.
    pub fn tcp_port(&mut self, port: Option<u16>) -> &mut Self {
        self.config.tcp_port = port;
        self
    }

    /// libp2p QUIC port to publish (`quic`, and `quic6` when IPv6 is on); `None` leaves it out.
    pub fn quic_port(&mut self, port: Option<u16>) -> &mut Self {
        self.config.quic_port = port;
        self
    }

    /// Bootnodes to start from instead of the network's (an empty list: none, as for a
    /// bootnode itself).
    pub fn bootnodes(&mut self, enrs: Vec<Enr>) -> &mut Self {
        self.config.bootnodes = Some(enrs);
        self.bootnode_texts = None;
        self
    }

    /// Bootnodes as `enr:` text, parsed by [`build`](Self::build).
    pub fn bootnode_texts<S: AsRef<str>>(&mut self, texts: &[S]) -> &mut Self {
        self.bootnode_texts = Some(texts.iter().map(|t| t.as_ref().to_owned()).collect());
        self
    }

    /// Long-lived attestation subnets to publish at start.
    pub fn attnets(&mut self, attnets: Attnets) -> &mut Self {
        self.config.attnets = attnets;
        self
    }

    /// Sync committee subnets to publish at start.
    pub fn syncnets(&mut self, syncnets: Syncnets) -> &mut Self {
        self.config.syncnets = syncnets;
        self
    }

    /// Custody group count to publish (`cgc`) once Fulu is scheduled.
    pub fn custody_group_count(&mut self, cgc: u64) -> &mut Self {
        self.config.custody_group_count = cgc;
        self
    }

    /// Bound on one query.
    pub fn query_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.config.query_timeout = timeout;
        self
    }

    /// Time a query waits for one peer.
    pub fn query_peer_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.config.query_peer_timeout = timeout;
        self
    }

    /// discv5 request timeout.
    pub fn request_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Peers a query asks at once.
    pub fn query_parallelism(&mut self, parallelism: usize) -> &mut Self {
        self.config.query_parallelism = parallelism;
        self
    }

    /// Interval of liveness pings to routing-table peers.
    pub fn ping_interval(&mut self, interval: Duration) -> &mut Self {
        self.config.ping_interval = interval;
        self
    }

    /// Epochs before a digest change from which the next digest is accepted too.
    pub fn fork_transition_epochs(&mut self, epochs: u64) -> &mut Self {
        self.config.fork_transition_epochs = epochs;
        self
    }

    /// Whether discv5 may rewrite the ENR's IP and UDP port from what peers observe (on by
    /// default; turn off when the published address is fixed).
    pub fn enr_update(&mut self, on: bool) -> &mut Self {
        self.config.enr_update = on;
        self
    }

    /// Checks the invariants and returns the configuration.
    pub fn build(&self) -> Result<DiscoveryConfig, ConfigError> {
        let mut config = self.config.clone();
        if config.listen_v4.is_none() && config.listen_v6.is_none() {
            return Err(ConfigError::NoListenAddress);
        }
        for (name, d) in [
            ("query timeout", config.query_timeout),
            ("query peer timeout", config.query_peer_timeout),
            ("request timeout", config.request_timeout),
            ("ping interval", config.ping_interval),
        ] {
            if d.is_zero() {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        if config.query_parallelism == 0 {
            return Err(ConfigError::ZeroParallelism);
        }
        if config.custody_group_count > pheme_spec::NUMBER_OF_CUSTODY_GROUPS {
            return Err(ConfigError::CustodyGroupCount(config.custody_group_count));
        }
        if let Some(texts) = &self.bootnode_texts {
            let mut enrs = Vec::with_capacity(texts.len());
            for (index, text) in texts.iter().enumerate() {
                let enr = parse_enr(text).map_err(|e| ConfigError::Bootnode {
                    index,
                    reason: e.to_string(),
                })?;
                enrs.push(enr);
            }
            config.bootnodes = Some(enrs);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_build() {
        let c = DiscoveryConfig::builder().build().unwrap();
        assert_eq!(c.listen_v4().unwrap().port(), DEFAULT_UDP_PORT);
        assert!(c.bootnodes().is_none());
    }

    #[test]
    fn invariants_are_checked() {
        let mut b = DiscoveryConfig::builder();
        b.listen_v4(None).listen_v6(None);
        assert_eq!(b.build().unwrap_err(), ConfigError::NoListenAddress);
        let mut b = DiscoveryConfig::builder();
        b.query_timeout(Duration::ZERO);
        assert!(matches!(b.build(), Err(ConfigError::ZeroDuration(_))));
        let mut b = DiscoveryConfig::builder();
        b.query_parallelism(0);
        assert_eq!(b.build().unwrap_err(), ConfigError::ZeroParallelism);
        let mut b = DiscoveryConfig::builder();
        b.custody_group_count(129);
        assert_eq!(b.build().unwrap_err(), ConfigError::CustodyGroupCount(129));
        let mut b = DiscoveryConfig::builder();
        b.bootnode_texts(&["enr:-not-an-enr"]);
        assert!(matches!(
            b.build(),
            Err(ConfigError::Bootnode { index: 0, .. })
        ));
    }
}
