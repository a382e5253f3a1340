//! The live status page's data: `/status.json` (and the page, `/status`, that renders it).
//!
//! Nothing here runs per request on the swarm, and nothing per message but a counter and, for a
//! REJECT, a push on a bounded ring:
//! - the observer's event loop counts verdicts per topic kind in its own [`Traffic`] (no lock)
//!   and hands a copy to the [`Board`] every [`REFRESH`];
//! - a task asks the network service for its peers (with score components) and its snapshot
//!   every [`REFRESH`], through the handle's channel, and puts them on the board;
//! - a request locks the board for the time of cloning a few `Arc`s, and serialises outside
//!   the lock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pheme_gossip::Verdict;
use pheme_network::{GossipReceived, NetworkHandle, NetworkSnapshot, PeerSummary};
use pheme_spec::unix_now_ms;
use serde::Serialize;

/// How often the board is refreshed from the network service and the event loop.
pub const REFRESH: Duration = Duration::from_secs(2);
/// Recent REJECTs kept for the page.
pub const RECENT_REJECTIONS: usize = 64;
/// Rates are taken over about this window (the oldest sample at least this old).
const RATE_WINDOW_MS: u64 = 10_000;
/// Counter samples kept for rates.
const RATE_SAMPLES: usize = 16;
/// The status page: one self-contained HTML file (inline CSS and script, no external assets).
pub const PAGE: &str = include_str!("status.html");

/// Verdicts and bytes of one topic kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct KindCounts {
    /// Messages ACCEPTed.
    pub accept: u64,
    /// Messages IGNOREd.
    pub ignore: u64,
    /// Messages REJECTed.
    pub reject: u64,
    /// Bytes on the wire.
    pub bytes: u64,
}

impl KindCounts {
    fn total(&self) -> u64 {
        self.accept + self.ignore + self.reject
    }
}

/// A REJECTed message, as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// Arrival, unix milliseconds.
    pub at_ms: u64,
    /// Topic kind (`unknown` when the topic did not parse).
    pub kind: String,
    /// The topic string.
    pub topic: String,
    /// The peer that delivered it first.
    pub peer: String,
    /// The failed check's label.
    pub reason: &'static str,
    /// The failed check's message.
    pub detail: String,
    /// The message-id, hex (empty when none was computed).
    pub message_id: String,
    /// Bytes on the wire.
    pub bytes: usize,
}

/// What the event loop counts, without a lock.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    kinds: BTreeMap<&'static str, KindCounts>,
    rejections: VecDeque<Rejection>,
}

impl Traffic {
    /// One validated (or refused) message.
    pub fn gossip(&mut self, g: &GossipReceived) {
        let o = &g.outcome;
        let kind = o.kind.map_or("unknown", |k| k.base_name());
        let c = self.kinds.entry(kind).or_default();
        c.bytes += o.compressed_len as u64;
        match o.verdict {
            Verdict::Accept => c.accept += 1,
            Verdict::Ignore => c.ignore += 1,
            Verdict::Reject => {
                c.reject += 1;
                if self.rejections.len() == RECENT_REJECTIONS {
                    self.rejections.pop_front();
                }
                let id = o.message_id;
                self.rejections.push_back(Rejection {
                    at_ms: g.arrival_ms,
                    kind: o.kind.map_or_else(|| "unknown".into(), |k| k.to_string()),
                    topic: o.topic.to_string(),
                    peer: g.source.to_string(),
                    reason: o.reason,
                    detail: o.detail.to_string(),
                    message_id: if id == pheme_codec::MessageId::default() {
                        String::new()
                    } else {
                        hex::encode(id)
                    },
                    bytes: o.compressed_len,
                });
            }
        }
    }
}

/// One topic kind's row: totals since start and rates over the last seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct KindRow {
    kind: &'static str,
    #[serde(flatten)]
    total: KindCounts,
    per_second: f64,
    accept_per_second: f64,
    reject_per_second: f64,
    bytes_per_second: f64,
}

/// One topic's mesh.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct MeshRow {
    topic: String,
    kind: String,
    peers: usize,
}

/// The network side of the board, refreshed by a task.
#[derive(Debug, Clone, Default, Serialize)]
struct NetworkPart {
    updated_ms: u64,
    peers: Vec<PeerSummary>,
    outbound: usize,
    banned: usize,
    filtered: usize,
    topics: usize,
    listen: Vec<String>,
    mesh_by_kind: BTreeMap<&'static str, usize>,
    mesh: Vec<MeshRow>,
    partial: PartialPart,
}

/// Partial messages through Pheme's router since start (`--partial-columns`).
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct PartialPart {
    received: u64,
    bytes_received: u64,
    sent: u64,
    bytes_sent: u64,
}

/// The traffic side of the board, refreshed by the event loop.
#[derive(Debug, Clone, Default, Serialize)]
struct TrafficPart {
    updated_ms: u64,
    messages: Vec<KindRow>,
    rejections: Vec<Rejection>,
}

#[derive(Debug, Default)]
struct State {
    network: Arc<NetworkPart>,
    traffic: Arc<TrafficPart>,
    samples: VecDeque<(u64, BTreeMap<&'static str, KindCounts>)>,
}

/// What the page shows, shared by the event loop, the refresh task and the HTTP thread.
#[derive(Debug)]
pub struct Board {
    node: serde_json::Value,
    started_ms: u64,
    state: Mutex<State>,
}

/// `/status.json`, as serialised.
#[derive(Serialize)]
struct Status<'a> {
    node: &'a serde_json::Value,
    started_ms: u64,
    now_ms: u64,
    network: &'a NetworkPart,
    traffic: &'a TrafficPart,
}

impl Board {
    /// A board for this node (`node`: its peer id, network, selection, ...).
    pub fn new(node: serde_json::Value) -> Self {
        Self {
            node,
            started_ms: unix_now_ms(),
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The event loop's counts, with rates over the last [`RATE_WINDOW_MS`].
    pub fn set_traffic(&self, t: &Traffic) {
        let now = unix_now_ms();
        let mut state = self.lock();
        let base = state
            .samples
            .iter()
            .find(|(at, _)| now.saturating_sub(*at) <= RATE_WINDOW_MS)
            .or(state.samples.front())
            .cloned();
        let messages = t
            .kinds
            .iter()
            .map(|(kind, c)| {
                let (secs, old) = match &base {
                    Some((at, old)) if now > *at => (
                        (now - at) as f64 / 1000.0,
                        old.get(kind).copied().unwrap_or_default(),
                    ),
                    _ => (1.0, *c),
                };
                let rate = |a: u64, b: u64| a.saturating_sub(b) as f64 / secs;
                KindRow {
                    kind,
                    total: *c,
                    per_second: rate(c.total(), old.total()),
                    accept_per_second: rate(c.accept, old.accept),
                    reject_per_second: rate(c.reject, old.reject),
                    bytes_per_second: rate(c.bytes, old.bytes),
                }
            })
            .collect();
        if state.samples.len() == RATE_SAMPLES {
            state.samples.pop_front();
        }
        state.samples.push_back((now, t.kinds.clone()));
        state.traffic = Arc::new(TrafficPart {
            updated_ms: now,
            messages,
            rejections: t.rejections.iter().rev().cloned().collect(),
        });
    }

    /// The network service's peers and snapshot.
    pub fn set_network(&self, mut peers: Vec<PeerSummary>, snap: &NetworkSnapshot) {
        peers.sort_by(|a, b| b.score.total.total_cmp(&a.score.total));
        let mesh = snap
            .mesh_by_topic
            .iter()
            .map(|(topic, n)| MeshRow {
                topic: topic.clone(),
                kind: topic
                    .parse::<pheme_codec::GossipTopic>()
                    .map_or_else(|_| topic.clone(), |t| t.kind.to_string()),
                peers: *n,
            })
            .collect();
        let part = NetworkPart {
            updated_ms: unix_now_ms(),
            peers,
            outbound: snap.outbound,
            banned: snap.banned,
            filtered: snap.filtered,
            topics: snap.topics,
            listen: snap.listen.iter().map(ToString::to_string).collect(),
            mesh_by_kind: snap.mesh.clone(),
            mesh,
            partial: PartialPart {
                received: snap.partial.received,
                bytes_received: snap.partial.bytes_received,
                sent: snap.partial.sent,
                bytes_sent: snap.partial.bytes_sent,
            },
        };
        self.lock().network = Arc::new(part);
    }

    /// `/status.json`.
    pub fn json(&self) -> String {
        let (network, traffic) = {
            let s = self.lock();
            (s.network.clone(), s.traffic.clone())
        };
        let status = Status {
            node: &self.node,
            started_ms: self.started_ms,
            now_ms: unix_now_ms(),
            network: &network,
            traffic: &traffic,
        };
        serde_json::to_string(&status).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// Refreshes the board's network side every [`REFRESH`] until the service stops.
pub async fn refresh_network(board: Arc<Board>, handle: NetworkHandle) {
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (Ok(peers), Ok(snap)) = (handle.peers().await, handle.snapshot().await) else {
            break;
        };
        board.set_network(peers, &snap);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pheme_gossip::{Detail, Outcome};
    use pheme_network::libp2p::PeerId;
    use pheme_spec::GossipKind;

    fn received(kind: GossipKind, verdict: Verdict, n: u8) -> GossipReceived {
        GossipReceived {
            outcome: Outcome {
                topic: Arc::from(format!("/eth2/01020304/{kind}/ssz_snappy")),
                kind: Some(kind),
                fork: None,
                message_id: [n; 20],
                verdict,
                reason: if verdict == Verdict::Accept {
                    "accepted"
                } else {
                    "bad_signature"
                },
                detail: Detail::Static("the signature does not verify"),
                compressed_len: 100,
                ssz_len: Some(120),
                json: None,
                payload: None,
            },
            source: PeerId::random(),
            arrival_ms: 1_000 + u64::from(n),
            verdict_latency: Duration::ZERO,
            ssz: Vec::new(),
        }
    }

    #[test]
    fn counts_kinds_and_keeps_the_latest_rejections() {
        let mut t = Traffic::default();
        for n in 0..100u8 {
            t.gossip(&received(GossipKind::BeaconBlock, Verdict::Accept, n));
            t.gossip(&received(
                GossipKind::BeaconAttestation(3),
                Verdict::Reject,
                n,
            ));
        }
        let board = Board::new(serde_json::json!({"peer_id": "me"}));
        board.set_traffic(&t);
        let v: serde_json::Value = serde_json::from_str(&board.json()).unwrap();
        let rows = v["traffic"]["messages"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["kind"], "beacon_attestation");
        assert_eq!(rows[0]["reject"], 100);
        assert_eq!(rows[1]["accept"], 100);
        assert_eq!(rows[1]["bytes"], 100 * 100);
        let rej = v["traffic"]["rejections"].as_array().unwrap();
        assert_eq!(rej.len(), RECENT_REJECTIONS);
        // Newest first.
        assert_eq!(rej[0]["at_ms"], 1_099);
        assert_eq!(rej[0]["kind"], "beacon_attestation_3");
        assert_eq!(rej[0]["reason"], "bad_signature");
        assert_eq!(rej[0]["detail"], "the signature does not verify");
        assert_eq!(rej[0]["message_id"], hex::encode([99u8; 20]));
        assert_eq!(v["node"]["peer_id"], "me");
    }
}
