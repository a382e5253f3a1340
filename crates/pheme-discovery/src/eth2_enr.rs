//! The eth2 ENR fields: keys, value codecs, the local values for a chain and epoch, and building
//! a record.

use std::net::{Ipv4Addr, Ipv6Addr};

use alloy_rlp::Bytes;
use discv5::Enr;
use discv5::enr::CombinedKey;
use pheme_spec::{ChainSpec, Epoch, FAR_FUTURE_EPOCH, Fork, ForkDigest, NUMBER_OF_CUSTODY_GROUPS};
use pheme_types::p2p::EnrForkId;
use pheme_types::primitives::ByteVector;
use pheme_types::ssz_rs::Deserialize;

use crate::error::{EnrFieldError, FieldErrorKind};
use crate::subnets::{Attnets, Syncnets};

/// ENR key of the SSZ `ENRForkID` (phase0).
pub const ENR_KEY_ETH2: &str = "eth2";
/// ENR key of the attestation subnet bitfield (phase0).
pub const ENR_KEY_ATTNETS: &str = "attnets";
/// ENR key of the sync committee subnet bitfield (altair).
pub const ENR_KEY_SYNCNETS: &str = "syncnets";
/// ENR key of the custody group count (fulu).
pub const ENR_KEY_CGC: &str = "cgc";
/// ENR key of the next fork digest (fulu).
pub const ENR_KEY_NFD: &str = "nfd";
/// ENR key of the IPv4 QUIC port.
pub const ENR_KEY_QUIC: &str = "quic";
/// ENR key of the IPv6 QUIC port.
pub const ENR_KEY_QUIC6: &str = "quic6";

/// Length of the SSZ `ENRForkID`.
pub const ENR_FORK_ID_LEN: usize = 16;

/// The `eth2` value a node publishes at `epoch` (its wall-clock epoch):
/// `fork_digest = compute_fork_digest(genesis_validators_root, epoch)`; `next_fork_epoch` is the
/// next epoch at which the digest changes (a fork, or from Fulu on a blob-parameter-only fork) and
/// `next_fork_version` the fork version in force then (so it only changes for regular forks);
/// with nothing scheduled, the current version and `FAR_FUTURE_EPOCH`.
///
/// ```
/// use pheme_discovery::enr_fork_id;
/// let mainnet = pheme_spec::load_network("mainnet").unwrap();
/// // Fulu (411392): the next change is BPO1 at 412672, which keeps Fulu's version.
/// let id = enr_fork_id(&mainnet, 411_392);
/// assert_eq!(hex::encode(&*id.fork_digest), "cc2c5cdb");
/// assert_eq!(id.next_fork_epoch, 412_672);
/// assert_eq!(*id.next_fork_version, mainnet.fork_version_at(411_392).0);
/// ```
pub fn enr_fork_id(chain: &ChainSpec, epoch: Epoch) -> EnrForkId {
    let fork_digest = chain.fork_digest_at(epoch);
    let (next_version, next_epoch) = match chain.next_digest_change(epoch) {
        Some(next) => (chain.fork_version_at(next.epoch), next.epoch),
        None => (chain.fork_version_at(epoch), FAR_FUTURE_EPOCH),
    };
    EnrForkId {
        fork_digest: bytes4(fork_digest.0),
        next_fork_version: bytes4(next_version.0),
        next_fork_epoch: next_epoch,
    }
}

/// The `nfd` value a node publishes at `epoch`: the digest of the next scheduled digest change
/// (regular or blob-parameter-only fork), zeros when none is scheduled.
pub fn next_fork_digest(chain: &ChainSpec, epoch: Epoch) -> ForkDigest {
    chain
        .next_digest_change(epoch)
        .map(|d| d.digest)
        .unwrap_or_default()
}

/// Whether the chain schedules Fulu, from which on `cgc` and `nfd` MUST be in the ENR.
pub fn fulu_scheduled(chain: &ChainSpec) -> bool {
    chain
        .fork_entry(Fork::Fulu)
        .is_some_and(|f| f.is_scheduled())
}

/// The fork digest of an `ENRForkID`.
pub fn fork_digest_of(id: &EnrForkId) -> ForkDigest {
    let mut out = [0u8; 4];
    for (o, b) in out.iter_mut().zip(id.fork_digest.iter()) {
        *o = *b;
    }
    ForkDigest(out)
}

fn bytes4(b: [u8; 4]) -> ByteVector<4> {
    ByteVector::try_from(&b[..]).unwrap_or_default()
}

/// SSZ-encodes an `ENRForkID` (16 bytes).
pub fn encode_eth2(id: &EnrForkId) -> [u8; ENR_FORK_ID_LEN] {
    let mut out = [0u8; ENR_FORK_ID_LEN];
    for (o, b) in out[..4].iter_mut().zip(id.fork_digest.iter()) {
        *o = *b;
    }
    for (o, b) in out[4..8].iter_mut().zip(id.next_fork_version.iter()) {
        *o = *b;
    }
    out[8..].copy_from_slice(&id.next_fork_epoch.to_le_bytes());
    out
}

/// Decodes the `eth2` value (SSZ `ENRForkID`, exactly 16 bytes).
pub fn decode_eth2(bytes: &[u8]) -> Result<EnrForkId, EnrFieldError> {
    let wrong_length = || {
        EnrFieldError::new(
            ENR_KEY_ETH2,
            FieldErrorKind::WrongLength {
                expected: ENR_FORK_ID_LEN,
                actual: bytes.len(),
            },
        )
    };
    if bytes.len() != ENR_FORK_ID_LEN {
        return Err(wrong_length());
    }
    EnrForkId::deserialize(bytes).map_err(|_| wrong_length())
}

/// Decodes the `nfd` value (a 4-byte `ForkDigest`).
pub fn decode_nfd(bytes: &[u8]) -> Result<ForkDigest, EnrFieldError> {
    let raw: [u8; 4] = bytes.try_into().map_err(|_| {
        EnrFieldError::new(
            ENR_KEY_NFD,
            FieldErrorKind::WrongLength {
                expected: 4,
                actual: bytes.len(),
            },
        )
    })?;
    Ok(ForkDigest(raw))
}

/// Decodes the `cgc` value: a big-endian integer without leading zero bytes (`0` is the empty
/// string), at most `NUMBER_OF_CUSTODY_GROUPS`.
pub fn decode_cgc(bytes: &[u8]) -> Result<u64, EnrFieldError> {
    let err = |kind| EnrFieldError::new(ENR_KEY_CGC, kind);
    if bytes.first() == Some(&0) {
        return Err(err(FieldErrorKind::LeadingZero));
    }
    if bytes.len() > 8 {
        return Err(err(FieldErrorKind::OutOfRange {
            value: u64::MAX,
            max: NUMBER_OF_CUSTODY_GROUPS,
        }));
    }
    let value = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if value > NUMBER_OF_CUSTODY_GROUPS {
        return Err(err(FieldErrorKind::OutOfRange {
            value,
            max: NUMBER_OF_CUSTODY_GROUPS,
        }));
    }
    Ok(value)
}

/// Encodes a `cgc` value: big-endian without leading zero bytes.
pub fn encode_cgc(value: u64) -> Vec<u8> {
    let be = value.to_be_bytes();
    let skip = be.iter().take_while(|b| **b == 0).count();
    be[skip..].to_vec()
}

/// Reads the eth2 fields of a record. Every getter is total: an absent key is `Ok(None)`, a
/// malformed value an [`EnrFieldError`].
pub trait Eth2Enr {
    /// The `eth2` field.
    fn eth2(&self) -> Result<Option<EnrForkId>, EnrFieldError>;
    /// The `attnets` field.
    fn attnets(&self) -> Result<Option<Attnets>, EnrFieldError>;
    /// The `syncnets` field.
    fn syncnets(&self) -> Result<Option<Syncnets>, EnrFieldError>;
    /// The `cgc` field.
    fn custody_group_count(&self) -> Result<Option<u64>, EnrFieldError>;
    /// The `nfd` field.
    fn next_fork_digest(&self) -> Result<Option<ForkDigest>, EnrFieldError>;
    /// The `quic` field (IPv4 QUIC port).
    fn quic4(&self) -> Result<Option<u16>, EnrFieldError>;
    /// The `quic6` field (IPv6 QUIC port).
    fn quic6(&self) -> Result<Option<u16>, EnrFieldError>;
}

fn byte_field(enr: &Enr, key: &'static str) -> Result<Option<Bytes>, EnrFieldError> {
    enr.get_decodable::<Bytes>(key)
        .transpose()
        .map_err(|e| EnrFieldError::new(key, FieldErrorKind::Rlp(e)))
}

fn port_field(enr: &Enr, key: &'static str) -> Result<Option<u16>, EnrFieldError> {
    enr.get_decodable::<u16>(key)
        .transpose()
        .map_err(|e| EnrFieldError::new(key, FieldErrorKind::Rlp(e)))
}

impl Eth2Enr for Enr {
    fn eth2(&self) -> Result<Option<EnrForkId>, EnrFieldError> {
        byte_field(self, ENR_KEY_ETH2)?
            .map(|b| decode_eth2(&b))
            .transpose()
    }

    fn attnets(&self) -> Result<Option<Attnets>, EnrFieldError> {
        byte_field(self, ENR_KEY_ATTNETS)?
            .map(|b| Attnets::from_ssz_bytes(&b))
            .transpose()
    }

    fn syncnets(&self) -> Result<Option<Syncnets>, EnrFieldError> {
        byte_field(self, ENR_KEY_SYNCNETS)?
            .map(|b| Syncnets::from_ssz_bytes(&b))
            .transpose()
    }

    fn custody_group_count(&self) -> Result<Option<u64>, EnrFieldError> {
        byte_field(self, ENR_KEY_CGC)?
            .map(|b| decode_cgc(&b))
            .transpose()
    }

    fn next_fork_digest(&self) -> Result<Option<ForkDigest>, EnrFieldError> {
        byte_field(self, ENR_KEY_NFD)?
            .map(|b| decode_nfd(&b))
            .transpose()
    }

    fn quic4(&self) -> Result<Option<u16>, EnrFieldError> {
        port_field(self, ENR_KEY_QUIC)
    }

    fn quic6(&self) -> Result<Option<u16>, EnrFieldError> {
        port_field(self, ENR_KEY_QUIC6)
    }
}

/// The eth2 values of the local record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eth2Fields {
    /// `eth2`.
    pub fork_id: EnrForkId,
    /// `attnets` (always published, empty when no long-lived subnet).
    pub attnets: Attnets,
    /// `syncnets` (always published).
    pub syncnets: Syncnets,
    /// `cgc`; published when `Some` (once Fulu is scheduled).
    pub custody_group_count: Option<u64>,
    /// `nfd`; published when `Some` (once Fulu is scheduled; zeros when no next fork).
    pub next_fork_digest: Option<ForkDigest>,
}

impl Eth2Fields {
    /// The values for `chain` at wall-clock `epoch`, with `cgc` and `nfd` when the chain schedules
    /// Fulu.
    pub fn for_chain(
        chain: &ChainSpec,
        epoch: Epoch,
        attnets: Attnets,
        syncnets: Syncnets,
        custody_group_count: u64,
    ) -> Self {
        let fulu = fulu_scheduled(chain);
        Eth2Fields {
            fork_id: enr_fork_id(chain, epoch),
            attnets,
            syncnets,
            custody_group_count: fulu.then_some(custody_group_count),
            next_fork_digest: fulu.then(|| next_fork_digest(chain, epoch)),
        }
    }
}

/// Addresses and ports of the local record; `None` leaves the key out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EnrAddresses {
    /// `ip`.
    pub ip4: Option<Ipv4Addr>,
    /// `ip6`.
    pub ip6: Option<Ipv6Addr>,
    /// `udp` (discv5).
    pub udp4: Option<u16>,
    /// `udp6` (discv5).
    pub udp6: Option<u16>,
    /// `tcp` (libp2p TCP).
    pub tcp4: Option<u16>,
    /// `tcp6` (libp2p TCP).
    pub tcp6: Option<u16>,
    /// `quic` (libp2p QUIC).
    pub quic4: Option<u16>,
    /// `quic6` (libp2p QUIC).
    pub quic6: Option<u16>,
}

/// Builds and signs a record with the given addresses and eth2 fields (sequence number 1).
pub fn build_enr(
    key: &CombinedKey,
    addresses: &EnrAddresses,
    fields: &Eth2Fields,
) -> Result<Enr, discv5::enr::Error> {
    let mut builder = Enr::builder();
    if let Some(ip) = addresses.ip4 {
        builder.ip4(ip);
    }
    if let Some(ip) = addresses.ip6 {
        builder.ip6(ip);
    }
    if let Some(p) = addresses.udp4 {
        builder.udp4(p);
    }
    if let Some(p) = addresses.udp6 {
        builder.udp6(p);
    }
    if let Some(p) = addresses.tcp4 {
        builder.tcp4(p);
    }
    if let Some(p) = addresses.tcp6 {
        builder.tcp6(p);
    }
    if let Some(p) = addresses.quic4 {
        builder.add_value(ENR_KEY_QUIC, &p);
    }
    if let Some(p) = addresses.quic6 {
        builder.add_value(ENR_KEY_QUIC6, &p);
    }
    for (key, value) in field_values(fields) {
        builder.add_value(key, &value);
    }
    builder.build(key)
}

/// The eth2 key/value pairs of `fields`, values as the byte strings stored under each key.
pub(crate) fn field_values(fields: &Eth2Fields) -> Vec<(&'static str, Bytes)> {
    let mut out = vec![
        (
            ENR_KEY_ETH2,
            Bytes::copy_from_slice(&encode_eth2(&fields.fork_id)),
        ),
        (
            ENR_KEY_ATTNETS,
            Bytes::copy_from_slice(&fields.attnets.to_ssz_bytes()),
        ),
        (
            ENR_KEY_SYNCNETS,
            Bytes::copy_from_slice(&fields.syncnets.to_ssz_bytes()),
        ),
    ];
    if let Some(cgc) = fields.custody_group_count {
        out.push((ENR_KEY_CGC, Bytes::from(encode_cgc(cgc))));
    }
    if let Some(nfd) = fields.next_fork_digest {
        out.push((ENR_KEY_NFD, Bytes::copy_from_slice(&nfd.0)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pheme_spec::load_network;
    use pheme_types::ssz_rs::serialize;

    #[test]
    fn eth2_encoding_is_the_ssz_container() {
        let id = EnrForkId {
            fork_digest: bytes4([1, 2, 3, 4]),
            next_fork_version: bytes4([5, 6, 7, 8]),
            next_fork_epoch: 0x0102_0304_0506_0708,
        };
        assert_eq!(encode_eth2(&id).to_vec(), serialize(&id).unwrap());
        assert_eq!(decode_eth2(&encode_eth2(&id)).unwrap(), id);
    }

    #[test]
    fn eth2_wrong_length_is_an_error() {
        for len in [0, 15, 17, 300] {
            let e = decode_eth2(&vec![0; len]).unwrap_err();
            assert_eq!(e.key, ENR_KEY_ETH2);
            assert!(matches!(e.kind, FieldErrorKind::WrongLength { actual, .. } if actual == len));
        }
    }

    #[test]
    fn cgc_codec() {
        assert_eq!(encode_cgc(0), Vec::<u8>::new());
        assert_eq!(encode_cgc(4), vec![4]);
        assert_eq!(encode_cgc(128), vec![128]);
        assert_eq!(encode_cgc(0x1234), vec![0x12, 0x34]);
        assert_eq!(decode_cgc(&[]).unwrap(), 0);
        assert_eq!(decode_cgc(&[128]).unwrap(), 128);
        assert_eq!(
            decode_cgc(&[0, 4]).unwrap_err().kind,
            FieldErrorKind::LeadingZero
        );
        assert_eq!(
            decode_cgc(&[0]).unwrap_err().kind,
            FieldErrorKind::LeadingZero
        );
        assert!(matches!(
            decode_cgc(&[129]).unwrap_err().kind,
            FieldErrorKind::OutOfRange { value: 129, .. }
        ));
        assert!(matches!(
            decode_cgc(&[1; 9]).unwrap_err().kind,
            FieldErrorKind::OutOfRange { .. }
        ));
    }

    #[test]
    fn nfd_wrong_length_is_an_error() {
        assert!(decode_nfd(&[1, 2, 3]).is_err());
        assert!(decode_nfd(&[1, 2, 3, 4, 5]).is_err());
        assert_eq!(decode_nfd(&[1, 2, 3, 4]).unwrap(), ForkDigest([1, 2, 3, 4]));
    }

    #[test]
    fn mainnet_fork_ids() {
        let chain = load_network("mainnet").unwrap();
        // Electra, before Fulu: the next fork is Fulu, a regular fork.
        let electra = enr_fork_id(&chain, 364_032);
        assert_eq!(fork_digest_of(&electra).to_string(), "ad532ceb");
        let fulu = chain.fork_entry(Fork::Fulu).unwrap();
        assert_eq!(electra.next_fork_epoch, fulu.epoch);
        assert_eq!(*electra.next_fork_version, fulu.version.0);
        assert_eq!(next_fork_digest(&chain, 364_032).to_string(), "cc2c5cdb");
        // Fulu: the next change is BPO1, which keeps the Fulu version.
        let at_fulu = enr_fork_id(&chain, fulu.epoch);
        assert_eq!(at_fulu.next_fork_epoch, 412_672);
        assert_eq!(*at_fulu.next_fork_version, fulu.version.0);
        assert_eq!(next_fork_digest(&chain, fulu.epoch).to_string(), "cb0d1acc");
        // After the last scheduled change: current version, FAR_FUTURE_EPOCH, zero nfd.
        let last = chain.digest_schedule().last().copied().unwrap();
        let mature = enr_fork_id(&chain, last.epoch + 10);
        assert_eq!(fork_digest_of(&mature), last.digest);
        assert_eq!(mature.next_fork_epoch, FAR_FUTURE_EPOCH);
        assert_eq!(
            *mature.next_fork_version,
            chain.fork_version_at(last.epoch).0
        );
        assert_eq!(
            next_fork_digest(&chain, last.epoch + 10),
            ForkDigest([0; 4])
        );
    }

    #[test]
    fn fields_follow_the_fulu_schedule() {
        let chain = load_network("mainnet").unwrap();
        let f = Eth2Fields::for_chain(&chain, 0, Attnets::EMPTY, Syncnets::EMPTY, 4);
        assert_eq!(f.custody_group_count, Some(4));
        assert!(f.next_fork_digest.is_some());
        let mut no_fulu = chain.clone();
        no_fulu.forks.retain(|f| f.fork < Fork::Fulu);
        let f = Eth2Fields::for_chain(&no_fulu, 0, Attnets::EMPTY, Syncnets::EMPTY, 4);
        assert_eq!(f.custody_group_count, None);
        assert_eq!(f.next_fork_digest, None);
    }
}
