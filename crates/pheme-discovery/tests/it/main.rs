//! pheme-discovery's integration tests: one test binary, a module per former `tests/*.rs` file
//! (each test binary links the crate's whole dependency tree). Add new tests as modules here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Shared helpers, not all of them used (`eventually` is used by no test today).
#[allow(dead_code)]
mod common;
mod discovery;
mod enr;
mod forks;
mod totality;
