//! pheme-gossip's integration tests: one test binary, a module per former `tests/*.rs` file
//! (each test binary links the crate's whole dependency tree). Add new tests as modules here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fuzz_regressions;
mod handlers;
mod partial_columns;
mod pipeline;
