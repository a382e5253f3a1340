//! What the network service needs to know about a discovered peer.

use std::str::FromStr;

use discv5::Enr;
use discv5::enr::NodeId;
use libp2p::PeerId;
use libp2p::multiaddr::{Multiaddr, Protocol};
use pheme_spec::ForkDigest;
use pheme_types::p2p::EnrForkId;

use crate::error::PeerInfoError;
use crate::eth2_enr::{Eth2Enr, fork_digest_of};
use crate::identity::peer_id_from_enr;
use crate::subnets::{Attnets, Syncnets};

/// A peer as its ENR describes it. Absent optional fields are `None` (or empty bitfields);
/// malformed ones make [`PeerInfo::from_enr`] fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The discv5 node id.
    pub node_id: NodeId,
    /// The libp2p peer id of the same key.
    pub peer_id: PeerId,
    /// `/ip4/../tcp/..` and `/ip6/../tcp/..` (without `/p2p`).
    pub tcp_addrs: Vec<Multiaddr>,
    /// `/ip4/../udp/../quic-v1` and `/ip6/../udp/../quic-v1` (without `/p2p`).
    pub quic_addrs: Vec<Multiaddr>,
    /// The `eth2` field.
    pub fork_id: Option<EnrForkId>,
    /// The `attnets` field (empty when absent).
    pub attnets: Attnets,
    /// The `syncnets` field (empty when absent).
    pub syncnets: Syncnets,
    /// The `cgc` field.
    pub custody_group_count: Option<u64>,
    /// The `nfd` field.
    pub next_fork_digest: Option<ForkDigest>,
    /// The ENR sequence number.
    pub seq: u64,
    /// The record itself.
    pub enr: Enr,
}

impl PeerInfo {
    /// Reads every field of `enr`.
    pub fn from_enr(enr: &Enr) -> Result<Self, PeerInfoError> {
        let peer_id = peer_id_from_enr(enr)?;
        let quic4 = enr.quic4()?;
        let quic6 = enr.quic6()?;
        let mut tcp_addrs = Vec::new();
        let mut quic_addrs = Vec::new();
        if let Some(ip) = enr.ip4() {
            if let Some(port) = enr.tcp4() {
                tcp_addrs.push(
                    Multiaddr::empty()
                        .with(Protocol::Ip4(ip))
                        .with(Protocol::Tcp(port)),
                );
            }
            if let Some(port) = quic4 {
                quic_addrs.push(
                    Multiaddr::empty()
                        .with(Protocol::Ip4(ip))
                        .with(Protocol::Udp(port))
                        .with(Protocol::QuicV1),
                );
            }
        }
        if let Some(ip) = enr.ip6() {
            if let Some(port) = enr.tcp6() {
                tcp_addrs.push(
                    Multiaddr::empty()
                        .with(Protocol::Ip6(ip))
                        .with(Protocol::Tcp(port)),
                );
            }
            if let Some(port) = quic6 {
                quic_addrs.push(
                    Multiaddr::empty()
                        .with(Protocol::Ip6(ip))
                        .with(Protocol::Udp(port))
                        .with(Protocol::QuicV1),
                );
            }
        }
        Ok(PeerInfo {
            node_id: enr.node_id(),
            peer_id,
            tcp_addrs,
            quic_addrs,
            fork_id: enr.eth2()?,
            attnets: enr.attnets()?.unwrap_or_default(),
            syncnets: enr.syncnets()?.unwrap_or_default(),
            custody_group_count: enr.custody_group_count()?,
            next_fork_digest: enr.next_fork_digest()?,
            seq: enr.seq(),
            enr: enr.clone(),
        })
    }

    /// Parses `enr:` text (base64 of the RLP record, signature checked) and reads it.
    pub fn from_enr_text(text: &str) -> Result<Self, PeerInfoError> {
        Self::from_enr(&parse_enr(text)?)
    }

    /// The fork digest of the `eth2` field.
    pub fn fork_digest(&self) -> Option<ForkDigest> {
        self.fork_id.as_ref().map(fork_digest_of)
    }

    /// Every dialable address with `/p2p/<peer id>` appended, QUIC first.
    pub fn dial_addrs(&self) -> Vec<Multiaddr> {
        self.quic_addrs
            .iter()
            .chain(&self.tcp_addrs)
            .map(|a| a.clone().with(Protocol::P2p(self.peer_id)))
            .collect()
    }
}

/// The longest `enr:` text of a valid record: the prefix and unpadded base64 of 300 bytes.
pub const MAX_ENR_TEXT_LEN: usize = 4 + 400;

/// Parses `enr:` text (the prefix is optional) into a signature-checked record; text longer than
/// any valid record is refused before decoding.
pub fn parse_enr(text: &str) -> Result<Enr, PeerInfoError> {
    let text = text.trim();
    if text.len() > MAX_ENR_TEXT_LEN {
        return Err(PeerInfoError::InvalidText(format!(
            "{} characters, more than {MAX_ENR_TEXT_LEN}",
            text.len()
        )));
    }
    Enr::from_str(text).map_err(PeerInfoError::InvalidText)
}
