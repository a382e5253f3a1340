//! The swarm task's req/resp side: Status on connect, answers under the in-flight limiter,
//! Goodbye before disconnecting, and the local Status and MetaData kept in line with what the
//! node learned and what it is subscribed to.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;
use libp2p::request_response::{Event, InboundFailure, Message, OutboundFailure, ResponseChannel};
use pheme_spec::{GossipKind, unix_now_ms};
use pheme_types::p2p::MetaDataV3;
use pheme_types::ssz_rs::Bitvector;

use super::Service;
use crate::rpc::{
    BlockCache, CachedBlock, GoodbyeReason, InflightLimiter, LocalNode, RequestFault, ResponseCode,
    RpcBehaviourEvent, RpcCodecError, RpcMethod, RpcRequest, RpcResponse, StatusMessage,
    StatusVerdict, answer, judge_status,
};

/// How long a peer told Goodbye has to acknowledge before it is disconnected anyway.
pub const GOODBYE_GRACE: Duration = Duration::from_millis(1_000);

/// Req/resp strikes at which a peer is told Goodbye (fault) and banned. Strikes are what
/// gossipsub's score is not told about: a peer that sends bytes no honest peer sends
/// ([`STRIKE_FAULT`]), stalls a stream past its timeout ([`STRIKE_TIMEOUT`]), or keeps asking
/// past `MAX_CONCURRENT_REQUESTS` ([`STRIKE_RATE_LIMITED`]).
pub const RPC_STRIKE_LIMIT: f64 = 3.0;
/// A malformed request or response: oversized, lying length prefix, corrupt snappy, an
/// undecodable payload (see `RpcCodecError::is_peer_fault`).
pub const STRIKE_FAULT: f64 = 1.0;
/// A request or response that missed its TTFB or RESP timeout, or the whole-exchange timeout.
pub const STRIKE_TIMEOUT: f64 = 0.5;
/// A request refused with 139 because the peer already had its requests in flight.
pub const STRIKE_RATE_LIMITED: f64 = 0.25;
/// One strike is forgotten per this much time, so a slow link's occasional timeout never adds up.
pub const RPC_STRIKE_DECAY: Duration = Duration::from_secs(60);

/// Req/resp state of the swarm task.
pub(crate) struct RpcState {
    pub limiter: InflightLimiter,
    pub cache: BlockCache,
    pub local: LocalNode,
    /// Peers' last Status.
    pub statuses: HashMap<PeerId, StatusMessage>,
    /// Peers told Goodbye, and when to drop them regardless.
    pub leaving: HashMap<PeerId, (Instant, bool)>,
    /// Peers' MetaData sequence numbers, as last pinged or fetched.
    pub metadata_seqs: HashMap<PeerId, u64>,
    /// Peers' req/resp strikes, as of when they were last counted.
    pub strikes: HashMap<PeerId, (f64, Instant)>,
}

impl RpcState {
    pub fn new(local: LocalNode) -> Self {
        Self {
            limiter: InflightLimiter::default(),
            cache: BlockCache::default(),
            local,
            statuses: HashMap::new(),
            leaving: HashMap::new(),
            metadata_seqs: HashMap::new(),
            strikes: HashMap::new(),
        }
    }
}

/// The local MetaData implied by a set of subscribed kinds of the current digest.
pub(crate) fn metadata_for(kinds: &[GossipKind], custody_groups: u64, seq: u64) -> MetaDataV3 {
    let mut attnets = Bitvector::default();
    let mut syncnets = Bitvector::default();
    for k in kinds {
        match k {
            GossipKind::BeaconAttestation(s) => {
                attnets.set(*s as usize, true);
            }
            GossipKind::SyncCommittee(s) => {
                syncnets.set(*s as usize, true);
            }
            _ => {}
        }
    }
    MetaDataV3 {
        seq_number: seq,
        attnets,
        syncnets,
        custody_group_count: custody_groups,
    }
}

impl Service {
    /// Sends our Status (the dialer's duty on connecting).
    pub(super) fn send_status(&mut self, peer: PeerId) {
        self.refresh_status();
        let status = self.rpc.local.status;
        self.swarm
            .behaviour_mut()
            .rpc
            .send_request(&peer, RpcRequest::Status(status));
        self.count_rpc("status", "outbound", "sent");
    }

    /// Tells `peer` goodbye; it is disconnected on its ack or after [`GOODBYE_GRACE`], and
    /// banned then if `ban`.
    pub(super) fn goodbye(&mut self, peer: PeerId, reason: GoodbyeReason, ban: bool) {
        if self.rpc.leaving.contains_key(&peer) {
            return;
        }
        let code: u64 = reason.into();
        tracing::debug!(target: "pheme::network::rpc", %peer, reason = code, "goodbye");
        self.peer_event(peer, crate::PeerEventKind::GoodbyeSent { reason: code });
        self.config.metrics.count(
            "pheme_goodbyes_sent_total",
            &[("reason", &code.to_string())],
            1,
        );
        self.swarm
            .behaviour_mut()
            .rpc
            .send_request(&peer, RpcRequest::Goodbye(reason));
        self.rpc
            .leaving
            .insert(peer, (Instant::now() + GOODBYE_GRACE, ban));
    }

    /// Disconnects (and bans) peers whose goodbye grace ran out.
    pub(super) fn finish_goodbyes(&mut self, now: Instant) {
        let due: Vec<(PeerId, bool)> = self
            .rpc
            .leaving
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(p, (_, ban))| (*p, *ban))
            .collect();
        for (peer, ban) in due {
            self.drop_peer(peer, ban);
        }
    }

    fn drop_peer(&mut self, peer: PeerId, ban: bool) {
        self.rpc.leaving.remove(&peer);
        if ban {
            self.swarm.behaviour_mut().blocked.block_peer(peer);
        } else {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    /// Counts a strike against `peer` (decayed since its last one); at [`RPC_STRIKE_LIMIT`] the
    /// peer is told Goodbye (fault) and banned.
    fn strike(&mut self, peer: PeerId, weight: f64, why: &'static str) {
        let now = Instant::now();
        let (strikes, at) = self.rpc.strikes.entry(peer).or_insert((0.0, now));
        let forgotten = now.duration_since(*at).as_secs_f64() / RPC_STRIKE_DECAY.as_secs_f64();
        *strikes = (*strikes - forgotten).max(0.0) + weight;
        *at = now;
        let total = *strikes;
        self.config
            .metrics
            .count("pheme_rpc_strikes_total", &[("reason", why)], 1);
        tracing::debug!(target: "pheme::network::rpc", %peer, why, strikes = total, "req/resp strike");
        // Within a thousandth of a strike (60 ms of decay): three faults in a row are three.
        if total + 1e-3 >= RPC_STRIKE_LIMIT && !self.banned.contains_key(&peer) {
            tracing::info!(target: "pheme::network::peers", %peer, why, strikes = total, "req/resp strikes: banned and disconnected");
            self.config
                .metrics
                .count("pheme_peers_banned_total", &[("reason", "rpc_strikes")], 1);
            self.banned.insert(peer, now + self.config.ban_duration);
            match self.rpc.leaving.get_mut(&peer) {
                // Already told Goodbye (say, for another network): it goes banned now.
                Some((_, ban)) => *ban = true,
                None => self.goodbye(peer, GoodbyeReason::Fault, true),
            }
        }
    }

    /// A request the peer got wrong: answered `InvalidRequest` if its bytes were malformed
    /// (a stalled one just has its stream closed), and a strike.
    fn on_request_fault(
        &mut self,
        peer: PeerId,
        name: &'static str,
        fault: RequestFault,
        channel: ResponseChannel<RpcResponse>,
    ) {
        tracing::debug!(target: "pheme::network::rpc", %peer, method = name, %fault, "bad request");
        if fault.timeout {
            self.count_rpc(name, "inbound", "timeout");
            drop(channel);
            self.strike(peer, STRIKE_TIMEOUT, "timeout");
        } else {
            self.count_rpc(name, "inbound", "invalid");
            let _ = self.swarm.behaviour_mut().rpc.send_response(
                channel,
                RpcResponse::error(ResponseCode::InvalidRequest, "malformed request"),
            );
            self.strike(peer, STRIKE_FAULT, "fault");
        }
    }

    /// The strike a failed exchange earns its peer, if any: faults and timeouts count, stream
    /// failures (a closed connection, an unsupported protocol) do not.
    fn strike_for(error: &std::io::Error) -> Option<(f64, &'static str)> {
        let e = RpcCodecError::from_io(error)?;
        if e.is_peer_fault() {
            Some((STRIKE_FAULT, "fault"))
        } else if e.is_timeout() {
            Some((STRIKE_TIMEOUT, "timeout"))
        } else {
            None
        }
    }

    fn count_rpc(&self, protocol: &str, direction: &'static str, result: &str) {
        self.config.metrics.count(
            "pheme_rpc_requests_total",
            &[
                ("protocol", protocol),
                ("direction", direction),
                ("result", result),
            ],
            1,
        );
    }

    /// Our Status: the current digest, and the best head and finality learned from peers and
    /// accepted blocks.
    pub(super) fn refresh_status(&mut self) {
        if let Some(d) = self.current_digest() {
            self.rpc.local.status.fork_digest = d;
        }
        let slot = self.chain.clock().slot_at_ms(unix_now_ms()).unwrap_or(0);
        if let Some(earliest) = self.rpc.cache.earliest_slot() {
            self.rpc.local.status.earliest_available_slot = Some(earliest);
        } else {
            self.rpc.local.status.earliest_available_slot = Some(slot);
        }
    }

    /// A block was accepted: cache it and follow it as head.
    pub(super) fn on_block(&mut self, block: CachedBlock) {
        let s = &mut self.rpc.local.status;
        if block.slot > s.head_slot {
            s.head_slot = block.slot;
            s.head_root = block.root;
        }
        self.rpc.cache.insert(block);
    }

    fn learn(&mut self, peer: PeerId, remote: StatusMessage) {
        let s = &mut self.rpc.local.status;
        if remote.finalized_epoch > s.finalized_epoch {
            s.finalized_epoch = remote.finalized_epoch;
            s.finalized_root = remote.finalized_root;
        }
        if remote.head_slot > s.head_slot {
            s.head_slot = remote.head_slot;
            s.head_root = remote.head_root;
        }
        self.rpc.statuses.insert(peer, remote);
    }

    /// Judges a peer's Status; Goodbye if it is on another network.
    fn on_status(&mut self, peer: PeerId, remote: StatusMessage) {
        self.refresh_status();
        // Around a digest change a peer may already (or still) be on the neighbouring digest.
        let ours: Vec<_> = self.kinds.iter().map(|(d, _)| d.digest).collect();
        let verdict = if ours.contains(&remote.fork_digest) {
            StatusVerdict::Relevant
        } else {
            judge_status(&self.rpc.local.status, &remote)
        };
        match verdict {
            StatusVerdict::Relevant => self.learn(peer, remote),
            StatusVerdict::Disconnect(reason) => {
                tracing::info!(target: "pheme::network::rpc", %peer, digest = %remote.fork_digest, "peer on another network");
                self.goodbye(peer, reason, false);
            }
        }
    }

    pub(super) fn on_rpc(&mut self, event: RpcBehaviourEvent) {
        let (method, event) = event.into_parts();
        match event {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request_id,
                        request,
                        channel,
                    },
                ..
            } => {
                let Some(protocol) = request.protocol else {
                    return;
                };
                let name = method.name();
                let request = match request.request {
                    Ok(request) => request,
                    Err(fault) => {
                        self.on_request_fault(peer, name, fault, channel);
                        return;
                    }
                };
                if let Err(refused) = self.rpc.limiter.try_start(peer, protocol, request_id) {
                    self.count_rpc(name, "inbound", "rate_limited");
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .rpc
                        .send_response(channel, refused.response());
                    self.strike(peer, STRIKE_RATE_LIMITED, "rate_limited");
                    return;
                }
                self.refresh_status();
                let response = answer(protocol, &request, &self.rpc.local, &self.rpc.cache);
                let result = match &response {
                    RpcResponse::Error(e) => format!("error_{}", e.code.byte()),
                    _ => "ok".to_owned(),
                };
                self.count_rpc(name, "inbound", &result);
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .rpc
                    .send_response(channel, response);
                match request {
                    RpcRequest::Status(remote) => self.on_status(peer, remote),
                    RpcRequest::Goodbye(reason) => {
                        let code: u64 = reason.into();
                        tracing::debug!(target: "pheme::network::rpc", %peer, reason = code, "peer said goodbye");
                        self.peer_event(
                            peer,
                            crate::PeerEventKind::GoodbyeReceived { reason: code },
                        );
                        self.rpc
                            .leaving
                            .insert(peer, (Instant::now() + GOODBYE_GRACE / 4, false));
                    }
                    // A peer whose metadata moved: ask for it (keeps its view fresh).
                    RpcRequest::Ping(seq)
                        if self.rpc.metadata_seqs.insert(peer, seq) != Some(seq) =>
                    {
                        let _ = self
                            .swarm
                            .behaviour_mut()
                            .rpc
                            .send_request(&peer, RpcRequest::MetaData);
                    }
                    _ => {}
                }
            }
            Event::Message {
                peer,
                message: Message::Response { response, .. },
                ..
            } => {
                self.count_rpc(method.name(), "outbound", "ok");
                match (method, response) {
                    (RpcMethod::Status, RpcResponse::Status(remote)) => {
                        self.on_status(peer, remote)
                    }
                    (RpcMethod::Goodbye, _) => {
                        if let Some((_, ban)) = self.rpc.leaving.get(&peer).copied() {
                            self.drop_peer(peer, ban);
                        }
                    }
                    _ => {}
                }
            }
            Event::ResponseSent {
                peer, request_id, ..
            } => self.rpc.limiter.finish(peer, method, request_id),
            Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                self.rpc.limiter.finish(peer, method, request_id);
                self.count_rpc(method.name(), "inbound", "failure");
                tracing::debug!(target: "pheme::network::rpc", %peer, method = method.name(), %error, "inbound failure");
                let strike = match &error {
                    InboundFailure::Io(e) => Self::strike_for(e),
                    InboundFailure::Timeout => Some((STRIKE_TIMEOUT, "timeout")),
                    _ => None,
                };
                if let Some((weight, why)) = strike {
                    self.strike(peer, weight, why);
                }
            }
            Event::OutboundFailure { peer, error, .. } => {
                self.count_rpc(method.name(), "outbound", "failure");
                tracing::debug!(target: "pheme::network::rpc", %peer, method = method.name(), %error, "outbound failure");
                let strike = match &error {
                    OutboundFailure::Io(e) => Self::strike_for(e),
                    OutboundFailure::Timeout => Some((STRIKE_TIMEOUT, "timeout")),
                    _ => None,
                };
                if let Some((weight, why)) = strike
                    && method != RpcMethod::Goodbye
                {
                    self.strike(peer, weight, why);
                }
                if method == RpcMethod::Goodbye
                    && let Some((_, ban)) = self.rpc.leaving.get(&peer).copied()
                {
                    self.drop_peer(peer, ban);
                }
            }
        }
    }

    /// Recomputes MetaData from the subscriptions of the current digest; bumps its sequence
    /// number when the subnets moved.
    pub(super) fn refresh_metadata(&mut self) {
        let Some(current) = self.current_digest() else {
            return;
        };
        let kinds: Vec<GossipKind> = self
            .subscribed
            .iter()
            .filter_map(|t| t.as_str().parse::<pheme_codec::GossipTopic>().ok())
            .filter(|t| t.fork_digest == current)
            .map(|t| t.kind)
            .collect();
        let old = &self.rpc.local.metadata;
        let mut next = metadata_for(&kinds, self.custody_groups(), old.seq_number);
        if next.attnets != old.attnets
            || next.syncnets != old.syncnets
            || next.custody_group_count != old.custody_group_count
        {
            next.seq_number = old.seq_number + 1;
            self.rpc.local.metadata = next;
            self.metadata_changed();
        }
    }
}
