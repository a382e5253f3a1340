//! Test support shared by Pheme's crates, below the network crate so that its tests, the
//! simulation and the benches use one copy:
//!
//! - [`fixtures`]: a mainnet-shaped chain with short slots and a genesis in the recent past,
//!   and real SSZ messages of every topic kind that pass (or fail) the stateless checks.
//! - [`raw`]: raw `/meshsub/1.1.0` speakers that send control messages no gossipsub router
//!   would (GRAFT floods, IHAVE spam), over `libp2p-stream`, with the RPC types of
//!   `pheme-router`'s wire module.
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

pub mod fixtures;
pub mod raw;
