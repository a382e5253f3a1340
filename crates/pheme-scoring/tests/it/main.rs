//! pheme-scoring's integration tests: one test binary, a module per former `tests/*.rs` file
//! (each test binary links the crate's whole dependency tree). Add new tests as modules here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod lighthouse;
mod lodestar;
mod next_forks;
mod properties;
mod prysm;
mod recommendations;
mod rederive;
mod sanity;
