//! What Pheme's router spends on one inbound frame, by kind, and the line (per frame + per
//! byte) the virtual engine charges for it: `cargo run --release -p pheme-sim --example
//! frame_cost [frames]`.

use pheme_sim::vsim::{FrameCost, cost};
use pheme_sim::{Scenario, SimConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frames = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2_000);
    let cfg = SimConfig::new(Scenario::Baseline);
    let unscored = cost::measure(&cfg, frames, false)?;
    let measured = cost::measure(&cfg, frames, true)?;
    println!("| frame | bytes | frames | median µs, scored | p90 µs | median µs, unscored |");
    println!("|---|---|---|---|---|---|");
    for m in &measured {
        let other = unscored
            .iter()
            .find(|u| u.kind == m.kind)
            .map_or("-".to_string(), |u| {
                format!("{:.1}", u.median_ns as f64 / 1e3)
            });
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {other} |",
            m.kind,
            m.bytes,
            m.frames,
            m.median_ns as f64 / 1e3,
            m.p90_ns as f64 / 1e3
        );
    }
    let model = FrameCost::default();
    println!("\nthe engine's model ({model:?}) against the measurements:");
    for m in &measured {
        println!(
            "  {}: {:.1} µs measured, {} µs charged",
            m.kind,
            m.median_ns as f64 / 1e3,
            m.charged_us
        );
    }
    Ok(())
}
