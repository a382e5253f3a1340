//! The one-line summary printed every slot.

use std::collections::BTreeMap;
use std::time::Instant;

use pheme_gossip::{Outcome, Verdict};
use pheme_network::{NetworkEvent, NetworkSnapshot};

/// Counts since the last line and since start.
#[derive(Debug)]
pub struct Tally {
    since: Instant,
    start: Instant,
    messages: u64,
    verdicts: [u64; 3],
    total: [u64; 3],
    reasons: BTreeMap<&'static str, u64>,
    connects: u64,
    disconnects: u64,
    bans: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            since: Instant::now(),
            start: Instant::now(),
            messages: 0,
            verdicts: [0; 3],
            total: [0; 3],
            reasons: BTreeMap::new(),
            connects: 0,
            disconnects: 0,
            bans: 0,
        }
    }
}

fn index(v: Verdict) -> usize {
    match v {
        Verdict::Accept => 0,
        Verdict::Ignore => 1,
        Verdict::Reject => 2,
    }
}

/// Short labels for the mesh summary, in display order.
const MESH_LABELS: &[(&str, &str)] = &[
    ("beacon_block", "block"),
    ("beacon_aggregate_and_proof", "agg"),
    ("beacon_attestation", "att"),
    ("sync_committee_contribution_and_proof", "contrib"),
    ("sync_committee", "sync"),
    ("blob_sidecar", "blob"),
    ("data_column_sidecar", "column"),
];

impl Tally {
    /// A validated message.
    pub fn gossip(&mut self, o: &Outcome) {
        self.messages += 1;
        self.verdicts[index(o.verdict)] += 1;
        self.total[index(o.verdict)] += 1;
        if o.verdict != Verdict::Accept {
            *self.reasons.entry(o.reason).or_default() += 1;
        }
    }

    /// Any other event.
    pub fn other(&mut self, e: &NetworkEvent) {
        match e {
            NetworkEvent::PeerConnected { .. } => self.connects += 1,
            NetworkEvent::PeerDisconnected { .. } => self.disconnects += 1,
            NetworkEvent::PeerBanned { .. } => self.bans += 1,
            _ => {}
        }
    }

    /// The line for `slot`, and a fresh interval.
    pub fn line(&mut self, slot: u64, s: &NetworkSnapshot) -> String {
        let secs = self.since.elapsed().as_secs_f64().max(1e-3);
        let mesh: Vec<String> = MESH_LABELS
            .iter()
            .filter_map(|(kind, label)| s.mesh.get(kind).map(|n| format!("{label} {n}")))
            .collect();
        let top_reason = self
            .reasons
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(r, n)| format!(" (top refusal: {r} x{n})"))
            .unwrap_or_default();
        let p = &s.partial;
        let partial = if p.received + p.sent > 0 {
            format!(
                " | partial messages in {} ({} B) out {} ({} B) since start",
                p.received, p.bytes_received, p.sent, p.bytes_sent
            )
        } else {
            String::new()
        };
        let line = format!(
            "slot {slot} | peers {} (out {}, +{} -{}, banned {}) | topics {} | mesh {} | {:.0} msg/s | accept {} ignore {} reject {}{}{partial}",
            s.peers,
            s.outbound,
            self.connects,
            self.disconnects,
            s.banned,
            s.topics,
            if mesh.is_empty() {
                "-".into()
            } else {
                mesh.join(", ")
            },
            self.messages as f64 / secs,
            self.verdicts[0],
            self.verdicts[1],
            self.verdicts[2],
            top_reason
        );
        self.since = Instant::now();
        self.messages = 0;
        self.verdicts = [0; 3];
        self.reasons.clear();
        self.connects = 0;
        self.disconnects = 0;
        self.bans = 0;
        line
    }

    /// The totals at exit.
    pub fn total_line(&self) -> String {
        format!(
            "ran {:.0} s: accept {} ignore {} reject {}",
            self.start.elapsed().as_secs_f64(),
            self.total[0],
            self.total[1],
            self.total[2]
        )
    }
}
