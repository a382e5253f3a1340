//! Gossip topic strings: `/eth2/{fork_digest}/{name}/{encoding}`.

use std::fmt;
use std::str::FromStr;

use pheme_spec::{ForkDigest, GossipKind};

/// The payload encoding named in a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `ssz_snappy`: SSZ, snappy block-compressed (the only encoding the spec defines).
    SszSnappy,
}

const ENCODINGS: [(Encoding, &str); 1] = [(Encoding::SszSnappy, "ssz_snappy")];

impl Encoding {
    /// The encoding's name in topics.
    pub fn name(self) -> &'static str {
        ENCODINGS
            .iter()
            .find(|(e, _)| *e == self)
            .map_or("ssz_snappy", |(_, n)| n)
    }
}

/// A parsed gossip topic.
///
/// ```
/// use pheme_codec::GossipTopic;
/// use pheme_spec::GossipKind;
///
/// let topic: GossipTopic = "/eth2/8c9f62fe/beacon_attestation_17/ssz_snappy".parse().unwrap();
/// assert_eq!(topic.kind, GossipKind::BeaconAttestation(17));
/// assert_eq!(topic.to_string(), "/eth2/8c9f62fe/beacon_attestation_17/ssz_snappy");
/// assert!("/eth2/8c9f62fe/beacon_blocks/ssz_snappy".parse::<GossipTopic>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GossipTopic {
    /// The fork digest the topic belongs to.
    pub fork_digest: ForkDigest,
    /// What it carries.
    pub kind: GossipKind,
    /// How it is encoded.
    pub encoding: Encoding,
}

impl GossipTopic {
    /// A `ssz_snappy` topic.
    pub fn new(fork_digest: ForkDigest, kind: GossipKind) -> GossipTopic {
        GossipTopic {
            fork_digest,
            kind,
            encoding: Encoding::SszSnappy,
        }
    }
}

impl fmt::Display for GossipTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/eth2/{}/{}/{}",
            self.fork_digest,
            self.kind,
            self.encoding.name()
        )
    }
}

/// A topic string that is not an eth2 topic Pheme knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an eth2 gossip topic Pheme knows: {topic:?} ({reason})")]
pub struct TopicError {
    /// The topic string.
    pub topic: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for GossipTopic {
    type Err = TopicError;

    fn from_str(topic: &str) -> Result<Self, Self::Err> {
        let err = |reason| TopicError {
            topic: topic.to_owned(),
            reason,
        };
        let mut parts = topic.split('/');
        let (Some(""), Some("eth2"), Some(digest), Some(name), Some(encoding), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(err("expected /eth2/<digest>/<name>/<encoding>"));
        };
        if digest.len() != 8 || digest.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(err("the fork digest must be 8 lower-case hex digits"));
        }
        let fork_digest = digest
            .parse()
            .map_err(|_| err("the fork digest must be 8 lower-case hex digits"))?;
        let kind = name.parse().map_err(|_| err("unknown topic name"))?;
        let encoding = ENCODINGS
            .iter()
            .find(|(_, n)| *n == encoding)
            .map(|(e, _)| *e)
            .ok_or_else(|| err("unknown encoding"))?;
        Ok(GossipTopic {
            fork_digest,
            kind,
            encoding,
        })
    }
}
