//! The `attnets` and `syncnets` ENR bitfields.

use std::fmt;

use crate::error::{EnrFieldError, FieldErrorKind};

/// `ATTESTATION_SUBNET_COUNT`: bits in the `attnets` field.
pub const ATTESTATION_SUBNET_COUNT: usize = 64;
/// `SYNC_COMMITTEE_SUBNET_COUNT`: bits in the `syncnets` field.
pub const SYNC_COMMITTEE_SUBNET_COUNT: usize = 4;

/// The `attnets` ENR field: SSZ `Bitvector[ATTESTATION_SUBNET_COUNT]`, 8 bytes.
///
/// Bit `i` is attestation subnet `i`; in SSZ it is bit `i % 8` of byte `i / 8`, which is bit `i`
/// of the little-endian `u64` held here.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Attnets(u64);

impl Attnets {
    /// No subnet set.
    pub const EMPTY: Attnets = Attnets(0);
    /// Every subnet set.
    pub const ALL: Attnets = Attnets(u64::MAX);

    /// The set of the given subnets; `None` if one is `>= ATTESTATION_SUBNET_COUNT`.
    pub fn from_subnets(subnets: impl IntoIterator<Item = u64>) -> Option<Self> {
        let mut out = Attnets::EMPTY;
        for subnet in subnets {
            out = out.with(subnet, true)?;
        }
        Some(out)
    }

    /// Decodes the 8 SSZ bytes.
    pub fn from_ssz_bytes(bytes: &[u8]) -> Result<Self, EnrFieldError> {
        let raw: [u8; 8] = bytes.try_into().map_err(|_| {
            EnrFieldError::new(
                crate::ENR_KEY_ATTNETS,
                FieldErrorKind::WrongLength {
                    expected: 8,
                    actual: bytes.len(),
                },
            )
        })?;
        Ok(Attnets(u64::from_le_bytes(raw)))
    }

    /// The 8 SSZ bytes.
    pub fn to_ssz_bytes(self) -> [u8; 8] {
        self.0.to_le_bytes()
    }

    /// Whether subnet `subnet` is set (false when out of range).
    pub fn contains(self, subnet: u64) -> bool {
        subnet < ATTESTATION_SUBNET_COUNT as u64 && self.0 & (1 << subnet) != 0
    }

    /// A copy with subnet `subnet` set or cleared; `None` when out of range.
    #[must_use]
    pub fn with(self, subnet: u64, on: bool) -> Option<Self> {
        if subnet >= ATTESTATION_SUBNET_COUNT as u64 {
            return None;
        }
        let bit = 1u64 << subnet;
        Some(Attnets(if on { self.0 | bit } else { self.0 & !bit }))
    }

    /// Whether any subnet of `other` is also set here.
    pub fn intersects(self, other: Attnets) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no subnet is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set subnets, ascending.
    pub fn iter(self) -> impl Iterator<Item = u64> {
        (0..ATTESTATION_SUBNET_COUNT as u64).filter(move |i| self.contains(*i))
    }
}

impl fmt::Debug for Attnets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Attnets(0x{})", hex::encode(self.to_ssz_bytes()))
    }
}

/// The `syncnets` ENR field: SSZ `Bitvector[SYNC_COMMITTEE_SUBNET_COUNT]`, 1 byte whose four high
/// bits must be zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Syncnets(u8);

impl Syncnets {
    /// No subnet set.
    pub const EMPTY: Syncnets = Syncnets(0);
    /// Every subnet set.
    pub const ALL: Syncnets = Syncnets(0x0f);

    /// The set of the given subnets; `None` if one is `>= SYNC_COMMITTEE_SUBNET_COUNT`.
    pub fn from_subnets(subnets: impl IntoIterator<Item = u64>) -> Option<Self> {
        let mut out = Syncnets::EMPTY;
        for subnet in subnets {
            out = out.with(subnet, true)?;
        }
        Some(out)
    }

    /// Decodes the SSZ byte; padding bits set is an error, as SSZ requires.
    pub fn from_ssz_bytes(bytes: &[u8]) -> Result<Self, EnrFieldError> {
        match bytes {
            [b] if b & 0xf0 == 0 => Ok(Syncnets(*b)),
            [_] => Err(EnrFieldError::new(
                crate::ENR_KEY_SYNCNETS,
                FieldErrorKind::PaddingBitsSet,
            )),
            _ => Err(EnrFieldError::new(
                crate::ENR_KEY_SYNCNETS,
                FieldErrorKind::WrongLength {
                    expected: 1,
                    actual: bytes.len(),
                },
            )),
        }
    }

    /// The SSZ byte.
    pub fn to_ssz_bytes(self) -> [u8; 1] {
        [self.0]
    }

    /// Whether subnet `subnet` is set (false when out of range).
    pub fn contains(self, subnet: u64) -> bool {
        subnet < SYNC_COMMITTEE_SUBNET_COUNT as u64 && self.0 & (1 << subnet) != 0
    }

    /// A copy with subnet `subnet` set or cleared; `None` when out of range.
    #[must_use]
    pub fn with(self, subnet: u64, on: bool) -> Option<Self> {
        if subnet >= SYNC_COMMITTEE_SUBNET_COUNT as u64 {
            return None;
        }
        let bit = 1u8 << subnet;
        Some(Syncnets(if on { self.0 | bit } else { self.0 & !bit }))
    }

    /// Whether any subnet of `other` is also set here.
    pub fn intersects(self, other: Syncnets) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no subnet is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set subnets, ascending.
    pub fn iter(self) -> impl Iterator<Item = u64> {
        (0..SYNC_COMMITTEE_SUBNET_COUNT as u64).filter(move |i| self.contains(*i))
    }
}

impl fmt::Debug for Syncnets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Syncnets(0x{:02x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pheme_types::ssz_rs::prelude::{Bitvector, Deserialize, serialize};

    #[test]
    fn attnets_bit_order_matches_ssz_bitvector() {
        let ours = Attnets::from_subnets([0, 9, 63]).unwrap();
        let mut theirs = Bitvector::<64>::default();
        for i in [0, 9, 63] {
            theirs.set(i, true);
        }
        assert_eq!(serialize(&theirs).unwrap(), ours.to_ssz_bytes().to_vec());
        let back = Bitvector::<64>::deserialize(&ours.to_ssz_bytes()).unwrap();
        assert_eq!(back, theirs);
        assert_eq!(ours.iter().collect::<Vec<_>>(), vec![0, 9, 63]);
    }

    #[test]
    fn syncnets_bit_order_matches_ssz_bitvector() {
        let ours = Syncnets::from_subnets([1, 3]).unwrap();
        let mut theirs = Bitvector::<4>::default();
        theirs.set(1, true);
        theirs.set(3, true);
        assert_eq!(serialize(&theirs).unwrap(), ours.to_ssz_bytes().to_vec());
    }

    #[test]
    fn out_of_range_subnets_are_refused() {
        assert!(Attnets::from_subnets([64]).is_none());
        assert!(Syncnets::from_subnets([4]).is_none());
        assert!(!Attnets::ALL.contains(64));
        assert!(!Syncnets::ALL.contains(4));
    }

    #[test]
    fn malformed_bytes_are_errors() {
        assert!(Attnets::from_ssz_bytes(&[0; 7]).is_err());
        assert!(Attnets::from_ssz_bytes(&[0; 9]).is_err());
        assert!(Attnets::from_ssz_bytes(&[]).is_err());
        assert!(Syncnets::from_ssz_bytes(&[]).is_err());
        assert!(Syncnets::from_ssz_bytes(&[0, 0]).is_err());
        let padding = Syncnets::from_ssz_bytes(&[0x10]).unwrap_err();
        assert_eq!(padding.kind, FieldErrorKind::PaddingBitsSet);
        assert_eq!(Syncnets::from_ssz_bytes(&[0x0f]).unwrap(), Syncnets::ALL);
    }
}
