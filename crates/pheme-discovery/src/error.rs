//! Error types.

use std::fmt;

/// What is wrong with one ENR field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ENR field `{key}`: {kind}")]
pub struct EnrFieldError {
    /// The ENR key (`eth2`, `attnets`, ...).
    pub key: &'static str,
    /// What is wrong with its value.
    pub kind: FieldErrorKind,
}

impl EnrFieldError {
    pub(crate) fn new(key: &'static str, kind: FieldErrorKind) -> Self {
        EnrFieldError { key, kind }
    }
}

/// The ways an ENR field value can be malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// The RLP item is not what the key holds (a list where a byte string belongs, a
    /// non-canonical integer, ...).
    Rlp(alloy_rlp::Error),
    /// A fixed-size value of the wrong length.
    WrongLength {
        /// Bytes the field must have.
        expected: usize,
        /// Bytes it has.
        actual: usize,
    },
    /// An SSZ bitvector with bits set beyond its length.
    PaddingBitsSet,
    /// A big-endian integer with a leading zero byte (`0` must be the empty string).
    LeadingZero,
    /// An integer above the field's bound.
    OutOfRange {
        /// The value (saturated at `u64::MAX` when longer than 8 bytes).
        value: u64,
        /// The largest value allowed.
        max: u64,
    },
}

impl fmt::Display for FieldErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldErrorKind::Rlp(e) => write!(f, "bad RLP: {e}"),
            FieldErrorKind::WrongLength { expected, actual } => {
                write!(f, "{actual} bytes where {expected} are required")
            }
            FieldErrorKind::PaddingBitsSet => f.write_str("bitvector padding bits are set"),
            FieldErrorKind::LeadingZero => f.write_str("integer has a leading zero byte"),
            FieldErrorKind::OutOfRange { value, max } => {
                write!(f, "value {value} is above {max}")
            }
        }
    }
}

/// Key conversion failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The ENR is signed with a key other than secp256k1 (eth2 requires secp256k1).
    #[error("ENR key is not secp256k1")]
    NotSecp256k1,
    /// The bytes are not a valid secp256k1 public key.
    #[error("invalid secp256k1 public key")]
    InvalidPublicKey,
    /// The bytes are not a valid secp256k1 secret key.
    #[error("invalid secp256k1 secret key")]
    InvalidSecretKey,
}

/// Why an ENR could not be turned into a [`PeerInfo`](crate::PeerInfo).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerInfoError {
    /// The text is not a valid, correctly signed `enr:` record.
    #[error("invalid ENR text: {0}")]
    InvalidText(String),
    /// A field of the record is malformed.
    #[error(transparent)]
    Field(#[from] EnrFieldError),
    /// The record's key cannot be a libp2p peer id.
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// An invalid [`DiscoveryConfig`](crate::DiscoveryConfig).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Neither an IPv4 nor an IPv6 listen address.
    #[error("no UDP listen address")]
    NoListenAddress,
    /// A duration that must be positive is zero.
    #[error("{0} must be positive")]
    ZeroDuration(&'static str),
    /// `query_parallelism` is zero.
    #[error("query parallelism must be positive")]
    ZeroParallelism,
    /// A custody group count above `NUMBER_OF_CUSTODY_GROUPS`.
    #[error("custody group count {0} is above {max}", max = pheme_spec::NUMBER_OF_CUSTODY_GROUPS)]
    CustodyGroupCount(u64),
    /// A bootnode ENR that does not parse.
    #[error("bootnode {index}: {reason}")]
    Bootnode {
        /// Position in the list.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// Failures of the running [`Discovery`](crate::Discovery) service.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The local key is unusable.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The local ENR could not be built or updated (it would exceed 300 bytes, ...).
    #[error("local ENR: {0}")]
    Enr(#[from] discv5::enr::Error),
    /// A bootnode from the network's list does not parse.
    #[error("network bootnode {index}: {reason}")]
    Bootnode {
        /// Position in the list.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Binding the UDP socket(s) or starting discv5 failed.
    #[error("starting discv5: {0}")]
    Start(String),
    /// A discv5 query failed (service stopped, channel closed).
    #[error("discv5 query: {0}")]
    Query(String),
    /// An argument out of range (a subnet id, a custody group count).
    #[error("{0}")]
    InvalidArgument(String),
}
