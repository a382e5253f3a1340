//! The virtual engine's network model: nodes placed in regions with a one-way latency between
//! each pair (fixed per link, with seeded jitter), an upload link per node through which its
//! frames leave one after another (so a large message queues behind what went before), and a
//! validation queue per node (one message at a time, a cost per kind).

use pheme_spec::GossipKind;
use rand::Rng;
use rand::rngs::StdRng;

use super::cost::FrameCost;

/// Regions and the share of nodes in each (roughly where Ethereum's nodes are).
pub const REGIONS: [(&str, f64); 5] = [
    ("europe", 0.45),
    ("north-america-east", 0.25),
    ("north-america-west", 0.10),
    ("asia", 0.15),
    ("oceania", 0.05),
];

/// One-way latency between regions, milliseconds (half of typical round trips between cloud
/// regions), in [`REGIONS`] order.
pub const REGION_LATENCY_MS: [[u64; 5]; 5] = [
    [10, 40, 70, 110, 140],
    [40, 10, 35, 100, 100],
    [70, 35, 10, 60, 75],
    [110, 100, 60, 20, 60],
    [140, 100, 75, 60, 10],
];

/// Default upload bandwidth of a node, bits a second (a home or small-server uplink).
pub const DEFAULT_UPLOAD_BPS: u64 = 50_000_000;

/// The model's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct NetModel {
    /// Upload bandwidth of every node, bits a second.
    pub upload_bps: u64,
    /// Latency jitter: each link's latency is scaled by a factor drawn once from
    /// `1 ± jitter`.
    pub jitter: f64,
    /// CPU a node spends on each frame it receives, before validation.
    pub frame_cost: FrameCost,
}

impl Default for NetModel {
    fn default() -> Self {
        Self {
            upload_bps: DEFAULT_UPLOAD_BPS,
            jitter: 0.1,
            frame_cost: FrameCost::default(),
        }
    }
}

impl NetModel {
    /// A region for each of `n` nodes, drawn with [`REGIONS`]' shares.
    pub fn place(&self, n: usize, rng: &mut StdRng) -> Vec<u8> {
        (0..n)
            .map(|_| {
                let mut x: f64 = rng.gen_range(0.0..1.0);
                let mut region = REGIONS.len() - 1;
                for (i, (_, share)) in REGIONS.iter().enumerate() {
                    if x < *share {
                        region = i;
                        break;
                    }
                    x -= share;
                }
                region as u8
            })
            .collect()
    }

    /// The one-way latency in microseconds of the link between nodes `a` and `b` in regions
    /// `ra` and `rb`: the regions' latency scaled by a jitter factor that is a hash of the
    /// link and `seed` (the same both ways, and computed, not stored, for millions of links).
    pub fn link_latency_us(&self, seed: u64, (a, ra): (u32, u8), (b, rb): (u32, u8)) -> u64 {
        let base = REGION_LATENCY_MS
            .get(ra as usize)
            .and_then(|row| row.get(rb as usize))
            .copied()
            .unwrap_or(100)
            * 1_000;
        let j = self.jitter.clamp(0.0, 0.9);
        let link = (u64::from(a.min(b)) << 32) | u64::from(a.max(b));
        let unit = (splitmix(seed ^ link) >> 11) as f64 / (1u64 << 53) as f64;
        (base as f64 * (1.0 - j + 2.0 * j * unit)) as u64
    }

    /// Microseconds `bytes` take to leave through the upload link.
    pub fn serialise_us(&self, bytes: usize) -> u64 {
        (bytes as u64 * 8 * 1_000_000).div_ceil(self.upload_bps.max(1))
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// What validating a message costs an honest node, microseconds: signature checks dominate (a
/// block's proposer signature and its body, an aggregate's three signatures, an
/// attestation's one).
pub fn validation_cost_us(kind: Option<GossipKind>) -> u64 {
    match kind {
        Some(GossipKind::BeaconBlock) => 5_000,
        Some(GossipKind::BeaconAggregateAndProof) => 1_500,
        Some(GossipKind::BeaconAttestation(_)) => 800,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn placement_and_latency_are_seeded_and_in_range() {
        let m = NetModel::default();
        let a = m.place(1000, &mut StdRng::seed_from_u64(3));
        assert_eq!(a, m.place(1000, &mut StdRng::seed_from_u64(3)));
        let europe = a.iter().filter(|r| **r == 0).count();
        assert!((380..520).contains(&europe), "{europe}");
        let l = m.link_latency_us(1, (7, 0), (9, 3));
        assert!((99_000..121_000).contains(&l), "{l}");
        assert_eq!(l, m.link_latency_us(1, (9, 3), (7, 0)));
        assert_ne!(l, m.link_latency_us(2, (9, 3), (7, 0)));
        // 50 Mbit/s: 125 kB take 20 ms.
        assert_eq!(m.serialise_us(125_000), 20_000);
    }
}
