//! What sits between the gossipsub router and the wire: the bounded snappy transform, the spec's
//! message-id and the subscription filter.

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libp2p::gossipsub::{self, DataTransform, Message, RawMessage, TopicHash};
use pheme_codec::{GossipTopic, SszBounds, compress_block, decompress_block, gossip_bounds};
use pheme_spec::{ChainSpec, DigestEpoch, Fork};

/// Counters the transform keeps for messages the router drops before the application sees them.
#[derive(Debug, Default)]
pub struct TransformCounters {
    /// Per topic base name: messages whose snappy data was corrupt or outside the type's bounds
    /// (REJECTed by the router, which penalises the sender under P4).
    pub refused: Mutex<HashMap<&'static str, u64>>,
    /// Per topic base name: copies of messages already received.
    pub duplicates: Mutex<HashMap<&'static str, u64>>,
    /// Snappy decompressions run (a copy whose first copy is still remembered costs none).
    pub decompressions: AtomicU64,
    /// Message-ids computed with SHA-256 (a remembered copy reuses its first copy's id).
    pub ids_computed: AtomicU64,
}

fn bump(m: &Mutex<HashMap<&'static str, u64>>, base: &'static str) {
    if let Ok(mut m) = m.lock() {
        *m.entry(base).or_default() += 1;
    }
}

impl TransformCounters {
    fn refuse(&self, base: &'static str) {
        bump(&self.refused, base);
    }

    /// A copy of the refusal counts.
    pub fn snapshot(&self) -> HashMap<&'static str, u64> {
        self.refused.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// A copy of the duplicate counts.
    pub fn duplicates(&self) -> HashMap<&'static str, u64> {
        self.duplicates
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// Snappy decompressions run so far.
    pub fn decompressions(&self) -> u64 {
        self.decompressions.load(Ordering::Relaxed)
    }

    /// SHA-256 message-ids computed so far.
    pub fn ids_computed(&self) -> u64 {
        self.ids_computed.load(Ordering::Relaxed)
    }
}

/// How long arrivals are remembered (two generations of this age are kept): copies of a message
/// arrive within a few heartbeats.
pub const ARRIVAL_MEMORY: Duration = Duration::from_secs(12);

/// How long the decompressed bytes and message-id of a message are kept for its copies (two
/// generations of this age): most copies arrive within a heartbeat of the first, and a later
/// copy only costs its decompression and id again. Short, because at mainnet peak this holds
/// every unique message's SSZ bytes.
pub const DECODED_MEMORY: Duration = Duration::from_secs(2);

/// A map whose entries live between one and two periods: two generations, the older dropped
/// whole when the newer one is a period old, so memory is bounded by two periods of traffic.
#[derive(Debug)]
struct Generations<V> {
    period: Duration,
    current: HashMap<u64, V, BuildKey>,
    previous: HashMap<u64, V, BuildKey>,
    rotated: Instant,
}

/// Keys are already keyed hashes: the maps take them as they are.
type BuildKey = std::hash::BuildHasherDefault<KeyHasher>;

/// A hasher for keys that are already uniformly distributed 64-bit hashes.
#[derive(Debug, Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl<V> Generations<V> {
    fn new(period: Duration) -> Self {
        Self {
            period,
            current: HashMap::default(),
            previous: HashMap::default(),
            rotated: Instant::now(),
        }
    }

    fn rotate(&mut self, now: Instant) {
        if now.duration_since(self.rotated) >= self.period {
            self.previous = std::mem::take(&mut self.current);
            self.rotated = now;
        }
    }

    fn get(&self, key: u64) -> Option<&V> {
        self.current.get(&key).or_else(|| self.previous.get(&key))
    }

    /// The entry for `key` in the current generation, moved there from the previous one or
    /// made by `new`.
    fn entry(&mut self, key: u64, new: impl FnOnce() -> V) -> &mut V {
        let old = self.previous.remove(&key);
        self.current
            .entry(key)
            .or_insert_with(|| old.unwrap_or_else(new))
    }
}

/// Every copy of every message the transform saw, keyed by a keyed hash of (topic, wire bytes):
/// how many copies came and when the first did, and for recent messages their decompressed
/// bytes and message-id, so that a copy costs a hash and a lookup, not a decompression and a
/// SHA-256 (the router asks for the id of every copy to learn that it is one).
#[derive(Debug)]
pub struct Arrivals {
    hasher: foldhash::quality::RandomState,
    seen: Generations<Arrival>,
    decoded: Generations<Decoded>,
}

/// The SSZ bytes of a recent message and its id.
#[derive(Debug)]
struct Decoded {
    ssz: Vec<u8>,
    id: gossipsub::MessageId,
}

/// What the transform saw of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// Bytes on the wire.
    pub wire_len: usize,
    /// Copies received, the first included.
    pub copies: u64,
    /// When the first copy reached the transform.
    pub first_seen: Instant,
}

impl Default for Arrivals {
    fn default() -> Self {
        Self {
            hasher: foldhash::quality::RandomState::default(),
            seen: Generations::new(ARRIVAL_MEMORY),
            decoded: Generations::new(DECODED_MEMORY),
        }
    }
}

impl Arrivals {
    fn key(&self, topic: &TopicHash, data: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one((topic.as_str(), data))
    }

    /// Records one copy; returns its key, the copies so far and, when the message is recent,
    /// its decompressed bytes.
    fn arrive(&mut self, topic: &TopicHash, data: &[u8]) -> (u64, u64, Option<Vec<u8>>) {
        let now = Instant::now();
        self.seen.rotate(now);
        self.decoded.rotate(now);
        let key = self.key(topic, data);
        let a = self.seen.entry(key, || Arrival {
            wire_len: data.len(),
            copies: 0,
            first_seen: now,
        });
        a.copies += 1;
        let copies = a.copies;
        let ssz = self.decoded.get(key).map(|d| d.ssz.clone());
        (key, copies, ssz)
    }

    fn remember(&mut self, key: u64, ssz: Vec<u8>, id: gossipsub::MessageId) {
        self.decoded.entry(key, || Decoded { ssz, id });
    }

    fn id(&self, key: u64) -> Option<gossipsub::MessageId> {
        self.decoded.get(key).map(|d| d.id.clone())
    }

    /// What was seen of the message with `key`.
    pub fn get(&self, key: u64) -> Option<Arrival> {
        self.seen.get(key).copied()
    }
}

/// Where a topic string leads: its fork and the SSZ bounds of its payload.
#[derive(Debug, Clone, Copy)]
struct TopicInfo {
    fork: Fork,
    base: &'static str,
    bounds: SszBounds,
}

fn topic_info(chain: &ChainSpec, schedule: &[DigestEpoch], topic: &str) -> Option<TopicInfo> {
    let parsed: GossipTopic = topic.parse().ok()?;
    let fork = schedule
        .iter()
        .find(|d| d.digest == parsed.fork_digest)?
        .fork;
    parsed.kind.exists_at(chain, fork).then(|| TopicInfo {
        fork,
        base: parsed.kind.base_name(),
        bounds: gossip_bounds(chain, parsed.kind, fork),
    })
}

/// The gossip data transform: snappy block format, bounded by the topic's SSZ bounds before
/// anything is allocated.
///
/// Inbound, it counts every copy (the router drops duplicates silently), and hands the router
/// the decompressed SSZ bytes (so the message-id and the application see them) with the key of
/// its [`Arrivals`] record in `Message::sequence_number`, which `StrictNoSign` messages never
/// have (the router refuses any that carry one before the transform). The router asks for the
/// id of every copy to learn that it is one: a copy of a recent message gets its first copy's
/// bytes back without a decompression, and its id without a SHA-256: the transform computes the id
/// of the first copy with its decompression, and [`message_id_fn`] looks it up. Outbound, it
/// compresses and refuses payloads outside the topic's bounds.
#[derive(Debug, Clone)]
pub struct SnappyTransform {
    chain: Arc<ChainSpec>,
    schedule: Arc<Vec<DigestEpoch>>,
    topics: Arc<Mutex<HashMap<TopicHash, Option<TopicInfo>>>>,
    counters: Arc<TransformCounters>,
    arrivals: Arc<Mutex<Arrivals>>,
}

impl SnappyTransform {
    /// A transform for `chain`'s topics.
    pub fn new(chain: Arc<ChainSpec>) -> Self {
        let schedule = Arc::new(chain.digest_schedule());
        Self {
            chain,
            schedule,
            topics: Arc::default(),
            counters: Arc::default(),
            arrivals: Arc::default(),
        }
    }

    /// The arrival records (shared with clones).
    pub fn arrivals(&self) -> Arc<Mutex<Arrivals>> {
        self.arrivals.clone()
    }

    /// The counters of refused messages (shared with clones).
    pub fn counters(&self) -> Arc<TransformCounters> {
        self.counters.clone()
    }

    /// The spec's message-id of decompressed `ssz` on `topic`, counted.
    fn message_id(&self, fork: Fork, topic: &TopicHash, ssz: &[u8]) -> gossipsub::MessageId {
        self.counters.ids_computed.fetch_add(1, Ordering::Relaxed);
        gossipsub::MessageId::new(&pheme_codec::message_id(fork, topic.as_str(), Ok(ssz)))
    }

    fn info(&self, topic: &TopicHash) -> Option<TopicInfo> {
        let Ok(mut cache) = self.topics.lock() else {
            return topic_info(&self.chain, &self.schedule, topic.as_str());
        };
        if let Some(info) = cache.get(topic) {
            return *info;
        }
        let info = topic_info(&self.chain, &self.schedule, topic.as_str());
        // Topics reach the transform only after the subscription filter, so the cache holds
        // at most the filter's topics; bound it anyway.
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(topic.clone(), info);
        info
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl DataTransform for SnappyTransform {
    fn inbound_transform(&self, raw: RawMessage) -> Result<Message, io::Error> {
        let Some(info) = self.info(&raw.topic) else {
            self.counters.refuse("unknown");
            return Err(invalid(format!("not a topic of this chain: {}", raw.topic)));
        };
        let (key, known) = match self.arrivals.lock() {
            Ok(mut a) => {
                let (key, copies, known) = a.arrive(&raw.topic, &raw.data);
                if copies > 1 {
                    bump(&self.counters.duplicates, info.base);
                }
                (Some(key), known)
            }
            Err(_) => (None, None),
        };
        if let Some(ssz) = known {
            return Ok(Message {
                source: raw.source,
                data: ssz,
                sequence_number: key,
                topic: raw.topic,
            });
        }
        self.counters.decompressions.fetch_add(1, Ordering::Relaxed);
        match decompress_block(&raw.data, info.bounds) {
            Ok(ssz) => {
                // The router asks for the id next: computed here, once, for this and every copy.
                let id = self.message_id(info.fork, &raw.topic, &ssz);
                if let (Some(key), Ok(mut a)) = (key, self.arrivals.lock()) {
                    a.remember(key, ssz.clone(), id);
                }
                Ok(Message {
                    source: raw.source,
                    data: ssz,
                    sequence_number: key,
                    topic: raw.topic,
                })
            }
            Err(e) => {
                self.counters.refuse(info.base);
                Err(invalid(e.to_string()))
            }
        }
    }

    fn outbound_transform(&self, topic: &TopicHash, data: Vec<u8>) -> Result<Vec<u8>, io::Error> {
        let info = self
            .info(topic)
            .ok_or_else(|| invalid(format!("not a topic of this chain: {topic}")))?;
        if !info.bounds.admits(data.len()) {
            return Err(invalid(format!(
                "{} SSZ bytes on {topic}; the type allows {}..={}",
                data.len(),
                info.bounds.min,
                info.bounds.max
            )));
        }
        Ok(compress_block(&data))
    }
}

/// The transform Pheme's own router runs: the same bounded snappy and spec message-id, called
/// once per unique message (the router recognises copies before it asks). A refused message
/// gets the spec's invalid-snappy id, so its copies are known and its senders penalised.
#[derive(Debug, Clone)]
pub struct Eth2Transform {
    chain: Arc<ChainSpec>,
    schedule: Arc<Vec<DigestEpoch>>,
    topics: HashMap<Arc<str>, Option<TopicInfo>>,
    counters: Arc<TransformCounters>,
}

/// A short name for a snappy refusal, for metrics and traces.
fn refusal_reason(e: &pheme_codec::SnappyError) -> &'static str {
    match e {
        pheme_codec::SnappyError::CompressedTooLarge { .. } => "compressed_too_large",
        pheme_codec::SnappyError::BadPreamble => "bad_snappy_preamble",
        pheme_codec::SnappyError::OutOfBounds { .. } => "ssz_size_out_of_bounds",
        pheme_codec::SnappyError::Corrupt(_) | pheme_codec::SnappyError::LengthMismatch { .. } => {
            "corrupt_snappy"
        }
    }
}

impl Eth2Transform {
    /// A transform for `chain`'s topics.
    pub fn new(chain: Arc<ChainSpec>) -> Self {
        let schedule = Arc::new(chain.digest_schedule());
        Self {
            chain,
            schedule,
            topics: HashMap::new(),
            counters: Arc::default(),
        }
    }

    /// The counters (shared with clones).
    pub fn counters(&self) -> Arc<TransformCounters> {
        self.counters.clone()
    }

    fn info(&mut self, topic: &str) -> Option<TopicInfo> {
        if let Some(info) = self.topics.get(topic) {
            return *info;
        }
        let info = topic_info(&self.chain, &self.schedule, topic);
        // The router only asks about topics it holds (bounded by its topic filter).
        if self.topics.len() >= 4096 {
            self.topics.clear();
        }
        self.topics.insert(Arc::from(topic), info);
        info
    }
}

impl pheme_router::MessageTransform for Eth2Transform {
    fn inbound(
        &mut self,
        topic: &str,
        data: &bytes::Bytes,
    ) -> Result<pheme_router::Decoded, pheme_router::TransformRefusal> {
        let Some(info) = self.info(topic) else {
            self.counters.refuse("unknown");
            return Err(pheme_router::TransformRefusal {
                reason: "unknown_topic",
                id: None,
            });
        };
        self.counters.decompressions.fetch_add(1, Ordering::Relaxed);
        self.counters.ids_computed.fetch_add(1, Ordering::Relaxed);
        match decompress_block(data, info.bounds) {
            Ok(ssz) => Ok(pheme_router::Decoded {
                id: pheme_router::MessageId::new(&pheme_codec::message_id(
                    info.fork,
                    topic,
                    Ok(&ssz),
                )),
                payload: bytes::Bytes::from(ssz),
            }),
            Err(e) => {
                self.counters.refuse(info.base);
                Err(pheme_router::TransformRefusal {
                    reason: refusal_reason(&e),
                    id: Some(pheme_router::MessageId::new(&pheme_codec::message_id(
                        info.fork,
                        topic,
                        Err(data),
                    ))),
                })
            }
        }
    }

    fn outbound(
        &mut self,
        topic: &str,
        payload: &[u8],
    ) -> Result<(bytes::Bytes, pheme_router::MessageId), pheme_router::TransformRefusal> {
        let refuse = |reason| pheme_router::TransformRefusal { reason, id: None };
        let info = self.info(topic).ok_or(refuse("unknown_topic"))?;
        if !info.bounds.admits(payload.len()) {
            return Err(refuse("ssz_size_out_of_bounds"));
        }
        let id = pheme_codec::message_id(info.fork, topic, Ok(payload));
        Ok((
            bytes::Bytes::from(compress_block(payload)),
            pheme_router::MessageId::new(&id),
        ))
    }
}

/// What the transform recorded of a received message: its wire length and copies so far.
#[cfg(test)]
pub(crate) fn arrival(arrivals: &Mutex<Arrivals>, message: &Message) -> Option<Arrival> {
    let key = message.sequence_number?;
    arrivals.lock().ok()?.get(key)
}

/// The spec's message-id function for the router: called on the transformed (decompressed)
/// message, so always in the valid-snappy domain (the router refuses messages whose transform
/// failed before it asks for an id). The transform already computed the id of every message it
/// remembers (copies included), so this is a lookup; it computes one only for a message the
/// transform did not keep, with the topic's fork from the transform's cache of resolved topics.
pub fn message_id_fn(
    transform: &SnappyTransform,
) -> impl Fn(&Message) -> gossipsub::MessageId + Send + Sync + 'static {
    let transform = transform.clone();
    move |message: &Message| {
        let known = message
            .sequence_number
            .and_then(|k| transform.arrivals.lock().ok()?.id(k));
        known.unwrap_or_else(|| {
            // Topics whose digest is unknown never pass the transform; altair's rule is the
            // default for any that would.
            let fork = transform
                .info(&message.topic)
                .map_or(Fork::Altair, |i| i.fork);
            transform.message_id(fork, &message.topic, &message.data)
        })
    }
}

/// Accepts subscriptions to exactly the topics of the fork digests in use (the current one and,
/// around a transition, the next or the previous), so peers on all subnets of two digests are
/// accepted, unlike the router's default filter that stops at 100 topics. The allowed set is
/// itself the bound: a peer can hold at most every topic of the digests in use.
#[derive(Debug, Clone, Default)]
pub struct Eth2SubscriptionFilter {
    allowed: Arc<Mutex<HashSet<TopicHash>>>,
}

impl Eth2SubscriptionFilter {
    /// Replaces the set of allowed topics (shared with clones).
    pub fn set_allowed(&self, topics: impl IntoIterator<Item = TopicHash>) {
        if let Ok(mut allowed) = self.allowed.lock() {
            *allowed = topics.into_iter().collect();
        }
    }
}

impl gossipsub::TopicSubscriptionFilter for Eth2SubscriptionFilter {
    fn can_subscribe(&mut self, topic_hash: &TopicHash) -> bool {
        self.allowed
            .lock()
            .map(|a| a.contains(topic_hash))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pheme_spec::{GossipKind, Network};

    fn raw(topic: &str, data: Vec<u8>) -> RawMessage {
        RawMessage {
            source: None,
            data,
            sequence_number: None,
            topic: TopicHash::from_raw(topic),
            signature: None,
            key: None,
            validated: false,
        }
    }

    #[test]
    fn inbound_is_bounded_and_ids_follow_the_spec() {
        let chain = Arc::new(Network::Mainnet.chain_spec().unwrap());
        let t = SnappyTransform::new(chain.clone());
        let topic = "/eth2/8c9f62fe/beacon_attestation_3/ssz_snappy";
        let wire = compress_block(&[1u8; 240]);
        let msg = t.inbound_transform(raw(topic, wire.clone())).unwrap();
        assert_eq!(msg.data, vec![1u8; 240]);
        let first = arrival(&t.arrivals(), &msg).unwrap();
        assert_eq!((first.wire_len, first.copies), (wire.len(), 1));
        let id = message_id_fn(&t)(&msg);
        let expected = pheme_codec::message_id(Fork::Fulu, topic, Ok(&[1u8; 240]));
        assert_eq!(id.0, expected.to_vec());
        // A copy: same bytes and id, from memory, with no decompression and no SHA-256.
        let again = t.inbound_transform(raw(topic, wire.clone())).unwrap();
        let seen = arrival(&t.arrivals(), &again).unwrap();
        assert_eq!((seen.copies, seen.first_seen), (2, first.first_seen));
        assert_eq!(again.data, msg.data);
        assert_eq!(message_id_fn(&t)(&again), id);
        assert_eq!(t.counters().duplicates()["beacon_attestation"], 1);
        assert_eq!(t.counters().decompressions(), 1);
        assert_eq!(t.counters().ids_computed(), 1);
        // The same payload on another topic is another message, with another id.
        let other_topic = "/eth2/8c9f62fe/beacon_attestation_4/ssz_snappy";
        let other = t.inbound_transform(raw(other_topic, wire.clone())).unwrap();
        assert_ne!(message_id_fn(&t)(&other), id);
        assert_eq!(t.counters().ids_computed(), 2);
        // 241 bytes is not a SingleAttestation: refused from the preamble.
        assert!(
            t.inbound_transform(raw(topic, compress_block(&[1u8; 241])))
                .is_err()
        );
        // A foreign digest is refused.
        assert!(
            t.inbound_transform(raw("/eth2/00000000/beacon_block/ssz_snappy", wire))
                .is_err()
        );
        assert_eq!(t.counters().snapshot()["beacon_attestation"], 1);
        assert_eq!(t.counters().snapshot()["unknown"], 1);
    }

    #[test]
    fn outbound_round_trips_and_refuses_wrong_sizes() {
        let chain = Arc::new(Network::Mainnet.chain_spec().unwrap());
        let t = SnappyTransform::new(chain);
        let topic = crate::params::topic_hash(
            pheme_spec::ForkDigest([0x8c, 0x9f, 0x62, 0xfe]),
            GossipKind::SyncCommittee(1),
        );
        let out = t.outbound_transform(&topic, vec![7u8; 144]).unwrap();
        let back = t.inbound_transform(raw(topic.as_str(), out)).unwrap();
        assert_eq!(back.data, vec![7u8; 144]);
        assert!(t.outbound_transform(&topic, vec![7u8; 145]).is_err());
    }

    #[test]
    fn the_router_transform_decodes_identifies_and_refuses() {
        use pheme_router::MessageTransform;
        let chain = Arc::new(Network::Mainnet.chain_spec().unwrap());
        let mut t = Eth2Transform::new(chain);
        let topic = "/eth2/8c9f62fe/beacon_attestation_3/ssz_snappy";
        let (wire, id) = t.outbound(topic, &[1u8; 240]).unwrap();
        let d = t.inbound(topic, &wire).unwrap();
        assert_eq!(&d.payload[..], &[1u8; 240]);
        assert_eq!(d.id, id);
        assert_eq!(
            d.id.as_bytes(),
            &pheme_codec::message_id(Fork::Fulu, topic, Ok(&[1u8; 240]))[..]
        );
        // 241 bytes is no SingleAttestation: refused from the preamble, with the
        // invalid-snappy id.
        let bad = bytes::Bytes::from(compress_block(&[1u8; 241]));
        let r = t.inbound(topic, &bad).unwrap_err();
        assert_eq!(r.reason, "ssz_size_out_of_bounds");
        assert_eq!(
            r.id.unwrap().as_bytes(),
            &pheme_codec::message_id(Fork::Fulu, topic, Err(&bad))[..]
        );
        assert!(t.outbound(topic, &[1u8; 241]).is_err());
        assert_eq!(
            t.inbound("/eth2/00000000/beacon_block/ssz_snappy", &bad)
                .unwrap_err()
                .reason,
            "unknown_topic"
        );
        assert_eq!(t.counters().snapshot()["beacon_attestation"], 1);
    }

    #[test]
    fn the_filter_admits_only_allowed_topics() {
        use gossipsub::TopicSubscriptionFilter;
        let mut f = Eth2SubscriptionFilter::default();
        let a = TopicHash::from_raw("/eth2/8c9f62fe/beacon_block/ssz_snappy");
        f.set_allowed([a.clone()]);
        assert!(f.can_subscribe(&a));
        assert!(!f.can_subscribe(&TopicHash::from_raw(
            "/eth2/00000000/beacon_block/ssz_snappy"
        )));
    }
}
