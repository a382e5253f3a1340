//! pheme-spec's integration tests: one test binary, a module per former `tests/*.rs` file
//! (each test binary links the crate's whole dependency tree). Add new tests as modules here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod clock;
mod config_yaml;
mod digests;
mod gloas;
