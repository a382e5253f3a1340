//! Peer exchange (gossipsub v1.1): what a PRUNE offers, and what is taken from one.
//!
//! A record in a PRUNE is a libp2p signed envelope holding a peer record. It is opened with
//! libp2p-core: first under the standard `libp2p-peer-record` domain (go and js libp2p),
//! then under rust-libp2p's legacy `libp2p-routing-state` domain (what rust-libp2p's identify
//! signs); the record's signer must be the peer id the entry names, else the entry is dropped.

use bytes::Bytes;
use libp2p_core::{PeerRecord, SignedEnvelope};
use libp2p_identity::PeerId;
use rand::seq::SliceRandom;

use super::Router;
use crate::event::{Event, PxPeer};
use crate::types::MessageTransform;
use crate::wire;

/// Why a PX entry was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PxError {
    /// No peer id, or one that does not parse.
    PeerId,
    /// The envelope does not open (bad encoding, signature, domain or payload type).
    Envelope,
    /// The record was signed by another peer than the entry names.
    Mismatch,
}

/// Checks one PX entry: the peer it names and, when it carries one, its signed record.
pub fn verify_px_entry(info: &wire::PeerInfo) -> Result<PxPeer, PxError> {
    let peer = info
        .peer_id
        .as_ref()
        .and_then(|b| PeerId::from_bytes(b).ok())
        .ok_or(PxError::PeerId)?;
    let Some(record) = &info.signed_peer_record else {
        return Ok(PxPeer {
            peer,
            addrs: Vec::new(),
        });
    };
    let envelope = SignedEnvelope::from_protobuf_encoding(record).map_err(|_| PxError::Envelope)?;
    let record = PeerRecord::from_signed_envelope_interop(envelope.clone())
        .or_else(|_| PeerRecord::from_signed_envelope(envelope))
        .map_err(|_| PxError::Envelope)?;
    if record.peer_id() != peer {
        return Err(PxError::Mismatch);
    }
    Ok(PxPeer {
        peer,
        addrs: record.addresses().to_vec(),
    })
}

impl<T: MessageTransform> Router<T> {
    /// Up to `prune_peers` random peers of `t` with a non-negative score, other than `to`,
    /// with their signed records when known.
    pub(crate) fn px_offer(&mut self, t: u32, to: u32) -> Vec<wire::PeerInfo> {
        let mut candidates: Vec<u32> = self.topics[t as usize]
            .peers
            .iter()
            .copied()
            .filter(|&i| i != to && self.score_of(i) >= 0.0)
            .collect();
        candidates.shuffle(&mut self.rng);
        candidates.truncate(self.config.prune_peers);
        candidates
            .into_iter()
            .filter_map(|i| {
                let id = self.peer(i)?.id;
                Some(wire::PeerInfo {
                    peer_id: Some(Bytes::from(id.to_bytes())),
                    signed_peer_record: self.peer_records.get(&id).cloned(),
                })
            })
            .collect()
    }

    /// PX from a peer above `accept_px_threshold`: at most `prune_peers` entries, not
    /// connected, records checked.
    pub(crate) fn accept_px(&mut self, from: u32, t: u32, mut entries: Vec<wire::PeerInfo>) {
        let Some(from_peer) = self.peer(from).map(|p| p.id) else {
            return;
        };
        entries.shuffle(&mut self.rng);
        entries.truncate(self.config.prune_peers);
        let mut peers = Vec::new();
        for e in &entries {
            match verify_px_entry(e) {
                Ok(p) if !self.peer_ids.contains_key(&p.peer) => peers.push(p),
                Ok(_) => {}
                Err(error) => {
                    self.stats.px_record_invalid += 1;
                    tracing::debug!(target: "pheme::router::px", from = %from_peer, ?error, "PX entry dropped");
                }
            }
        }
        if peers.is_empty() {
            return;
        }
        self.stats.px_peers_accepted += peers.len() as u64;
        self.events.push_back(Event::PeerExchange {
            from: from_peer,
            topic: self.topics[t as usize].name.clone(),
            peers,
        });
    }
}
