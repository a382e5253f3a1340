//! Ethereum consensus discovery for Pheme: discv5 (v5.1) with the eth2 ENR.
//!
//! - **ENR fields** ([`Eth2Enr`], [`Eth2Fields`], [`build_enr`]): `eth2` (SSZ `ENRForkID`, see
//!   [`enr_fork_id`]), `attnets` ([`Attnets`]), `syncnets` ([`Syncnets`]), and from Fulu `cgc`
//!   and `nfd`, beside `ip`/`ip6`, `udp`/`udp6`, `tcp`/`tcp6` and `quic`/`quic6`. Reading is
//!   total: a malformed value is an [`EnrFieldError`], never a panic.
//! - **Identity** ([`LocalIdentity`]): one secp256k1 secret for the libp2p keypair and the ENR,
//!   so a record's node id and the libp2p [`PeerId`](libp2p::PeerId) are the same key;
//!   [`peer_id_from_enr`] maps a remote record to the peer to dial.
//! - **Peers** ([`PeerInfo`]): what a remote record says, with TCP and QUIC multiaddrs.
//! - **Service** ([`Discovery`]): discv5 on tokio (IPv4, IPv6 where available), started from the
//!   network's bootnodes; [`Discovery::find_peers`] returns only peers on our fork digest (the
//!   next one too in the last epochs before a digest change), optionally only those on given
//!   subnets ([`PeerPredicate`]); ENR updates on fork and subscription changes.
//!
//! ```
//! use std::net::{Ipv4Addr, SocketAddrV4};
//! use std::sync::Arc;
//! use pheme_discovery::{Discovery, DiscoveryConfig, LocalIdentity, PeerInfo, PeerPredicate};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(async {
//!     let chain = Arc::new(pheme_spec::load_network("mainnet")?);
//!     let config = DiscoveryConfig::builder()
//!         .listen_v4(Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)))
//!         .listen_v6(None)
//!         .bootnodes(Vec::new()) // a lone node; omit to start from mainnet's bootnodes
//!         .build()?;
//!     let identity = LocalIdentity::generate();
//!     let discovery = Discovery::start(config, &identity, chain, 420_000).await?;
//!
//!     // The record others see: same key as the libp2p peer id, our fork digest in `eth2`.
//!     let me = PeerInfo::from_enr_text(&discovery.local_enr_text())?;
//!     assert_eq!(me.peer_id, identity.peer_id());
//!     assert_eq!(me.fork_digest().map(|d| d.to_string()).as_deref(), Some("8c9f62fe"));
//!
//!     // Alone, a query finds nobody; with peers, only those on our fork digest come back.
//!     let peers = discovery.find_peers(&PeerPredicate::any(), 16).await?;
//!     assert!(peers.is_empty());
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })?;
//! # Ok(())
//! # }
//! ```

mod config;
mod error;
mod eth2_enr;
mod identity;
mod peer_info;
mod predicate;
mod service;
mod subnets;

pub use config::{
    DEFAULT_CUSTODY_GROUP_COUNT, DEFAULT_FORK_TRANSITION_EPOCHS, DEFAULT_PING_INTERVAL,
    DEFAULT_QUERY_PARALLELISM, DEFAULT_QUERY_PEER_TIMEOUT, DEFAULT_QUERY_TIMEOUT,
    DEFAULT_QUIC_PORT, DEFAULT_REQUEST_TIMEOUT, DEFAULT_TCP_PORT, DEFAULT_UDP_PORT,
    DiscoveryConfig, DiscoveryConfigBuilder,
};
pub use error::{
    ConfigError, DiscoveryError, EnrFieldError, FieldErrorKind, IdentityError, PeerInfoError,
};
pub use eth2_enr::{
    ENR_FORK_ID_LEN, ENR_KEY_ATTNETS, ENR_KEY_CGC, ENR_KEY_ETH2, ENR_KEY_NFD, ENR_KEY_QUIC,
    ENR_KEY_QUIC6, ENR_KEY_SYNCNETS, EnrAddresses, Eth2Enr, Eth2Fields, build_enr, decode_cgc,
    decode_eth2, decode_nfd, encode_cgc, encode_eth2, enr_fork_id, fork_digest_of, fulu_scheduled,
    next_fork_digest,
};
pub use identity::{
    LocalIdentity, peer_id_from_enr, peer_id_from_public_key, peer_id_from_secp256k1_bytes,
};
pub use peer_info::{MAX_ENR_TEXT_LEN, PeerInfo, parse_enr};
pub use predicate::{PeerPredicate, accepted_fork_digests};
pub use service::{Discovery, DiscoveryMetrics};
pub use subnets::{ATTESTATION_SUBNET_COUNT, Attnets, SYNC_COMMITTEE_SUBNET_COUNT, Syncnets};

/// The record type (discv5's `Enr<CombinedKey>`).
pub use discv5::Enr;
/// The discv5 node id.
pub use discv5::enr::NodeId;
/// The `eth2` ENR value (SSZ `ENRForkID`).
pub use pheme_types::p2p::EnrForkId;
