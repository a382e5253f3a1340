//! Test support shared by Pheme's crates, below the network crate so that its tests, the
//! simulation and the benches use one copy:
//!
//! - [`fixtures`]: a mainnet-shaped chain with short slots and a genesis in the recent past,
//!   and real SSZ messages of every topic kind that pass (or fail) the stateless checks.
//! - [`columns`]: real data columns (c-kzg cells and proofs, a valid inclusion proof).
//! - [`raw`]: raw `/meshsub/1.1.0` speakers that send control messages no gossipsub router
//!   would (GRAFT floods, IHAVE spam), over `libp2p-stream`, with the RPC types of
//!   `pheme-router`'s wire module; and a plain libp2p-gossipsub that publishes any bytes.
//! - [`partial`]: a libp2p-gossipsub peer with the Partial Messages extension that speaks
//!   Fulu's partial columns for one column (the reference peer of the partial-column tests).
//!
//! ```
//! use pheme_testkit::fixtures;
//!
//! let chain = fixtures::chain(2_000, 32, 40, 0, &[]).unwrap();
//! let slot = chain.clock().slot_at_ms(pheme_spec::unix_now_ms()).unwrap();
//! let attestation = fixtures::attestation(&chain, slot, 3, 7).unwrap();
//! assert_eq!(attestation.len(), 240); // a SingleAttestation
//! let rpc = pheme_testkit::raw::encode_rpc(&[pheme_testkit::raw::Control::Graft("t".into())]);
//! assert_eq!(rpc[0] as usize, rpc.len() - 1); // one length-prefixed RPC
//! ```

pub mod columns;
pub mod fixtures;
pub mod partial;
pub mod raw;

use std::time::Duration;

/// Polls `f` every 100 ms until it returns `Some`, or `timeout` passes (`None`).
pub async fn wait_for<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
