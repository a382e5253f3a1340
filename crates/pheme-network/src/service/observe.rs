//! The service's side of an observer's records: completing each message's trace record from
//! the router (who delivered copies, the wire data when capturing), peer events and the
//! router's control trace. Every record goes into a bounded queue; none is waited for.

use std::time::Instant;

use libp2p::PeerId;
use pheme_gossip::Verdict;
use pheme_router::MessageId;
use pheme_spec::unix_now_ms;

use super::Service;
use crate::observer::{ControlEvent, PeerEvent, PeerEventKind};
use crate::trace::TraceRecord;

impl Service {
    /// Completes a validated message's trace record from the router (call before the verdict
    /// reaches the router, which forgets the wire data then) and queues it.
    pub(super) fn trace_verdict(&mut self, id: &MessageId, verdict: Verdict, mut r: TraceRecord) {
        if let Some((peers, wire)) = self.pheme_ref().and_then(|ro| ro.pending_delivery(id)) {
            r.duplicates = r.duplicates.max(peers.len().saturating_sub(1) as u64);
            r.duplicate_from = peers.iter().skip(1).map(PeerId::to_string).collect();
            if self.config.observer.capture.wants(verdict) {
                // A copy: the router's slice would keep its whole frame alive.
                r.payload = wire.map(|w| bytes::Bytes::copy_from_slice(&w));
            }
        }
        self.send_trace(r);
    }

    /// Queues a trace record to every sink (counting drops).
    pub(super) fn send_trace(&self, r: TraceRecord) {
        let Some((last, rest)) = self.config.traces.split_last() else {
            return;
        };
        let mut dropped = 0;
        for sink in rest {
            dropped += u64::from(!sink.record(r.clone()));
        }
        dropped += u64::from(!last.record(r));
        if dropped > 0 {
            self.config
                .metrics
                .count("pheme_trace_records_dropped_total", &[], dropped);
        }
    }

    /// Queues a peer event, when an observer wants them.
    pub(super) fn peer_event(&self, peer: PeerId, kind: PeerEventKind) {
        let Some(sink) = &self.config.observer.peers else {
            return;
        };
        let event = PeerEvent {
            at_ms: unix_now_ms(),
            peer,
            kind,
        };
        // A drop is counted by the sink (the observer publishes it).
        let _ = sink.record(event);
    }

    /// Tells the observer the gossipsub protocol Pheme's router negotiated with each new peer
    /// (once a peer, at the first tick after its stream is up).
    pub(super) fn report_protocols(&mut self) {
        if self.config.observer.peers.is_none() {
            return;
        }
        let Some(router) = self.pheme_ref() else {
            return;
        };
        let found: Vec<(PeerId, &'static str)> = self
            .peers
            .iter()
            .filter(|(_, s)| !s.protocol_reported)
            .filter_map(|(p, _)| Some((*p, router.peer_protocol(p)?.as_str())))
            .collect();
        for (peer, protocol) in found {
            if let Some(s) = self.peers.get_mut(&peer) {
                s.protocol_reported = true;
            }
            self.peer_event(peer, PeerEventKind::Gossipsub { protocol });
        }
    }

    /// Moves the router's control records to the observer's queue (at every tick and when
    /// the router's buffer fills).
    pub(super) fn drain_control(&mut self) {
        let Some(sink) = self.config.observer.control.clone() else {
            return;
        };
        let now = Instant::now();
        let now_ms = unix_now_ms();
        if let Some(r) = self.pheme() {
            // A drop is counted by the sink (the observer publishes it).
            for record in r.drain_control() {
                let ago = now.saturating_duration_since(record.at).as_millis() as u64;
                let _ = sink.record(ControlEvent {
                    at_ms: now_ms.saturating_sub(ago),
                    record,
                });
            }
        }
        if let Some(r) = self.pheme_ref() {
            let lost = r.control_dropped();
            self.config
                .metrics
                .absolute("pheme_router_control_trace_dropped_total", &[], lost);
        }
    }

    /// At exit: the router's last control records, and its control counters, which the
    /// records equal (less what the trace dropped), logged for the observer's records.
    pub(super) fn final_control_drain(&mut self) {
        if self.config.observer.control.is_none() {
            return;
        }
        self.drain_control();
        if let Some(r) = self.pheme_ref() {
            let s = r.stats();
            tracing::info!(
                target: "pheme::network::control",
                graft_in = s.graft_received,
                graft_out = s.graft_sent,
                prune_in = s.prune_received,
                prune_out = s.prune_sent,
                ihave_in = s.ihave_received,
                ihave_out = s.ihave_sent,
                iwant_in = s.iwant_received,
                iwant_out = s.iwant_sent,
                idontwant_in = s.idontwant_received,
                idontwant_out = s.idontwant_sent,
                trace_dropped = r.control_dropped(),
                "router control totals"
            );
        }
    }
}
