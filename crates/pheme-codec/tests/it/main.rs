//! pheme-codec's integration tests: one test binary, a module per former `tests/*.rs` file
//! (each test binary links the crate's whole dependency tree). Add new tests as modules here.
//!
//! `tests/allocation.rs` stays its own binary: it installs a `#[global_allocator]` and reads the
//! process's peak heap, which other tests running on parallel threads would disturb.

#![allow(clippy::unwrap_used)]

mod bounds;
mod message_id;
mod snappy;
mod topics;
