//! pheme's integration tests: one test binary, a module per former `tests/*.rs` file
//! (each test binary links the crate's whole dependency tree). Add new tests as modules here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_input;
mod beacon_api;
mod bench;
mod common;
mod dashboard;
mod decode;
mod files;
mod generate;
mod interop;
mod interop_bad_peer;
mod interop_relay;
mod lodestar;
mod loopback;
mod observe;
mod observe_gloas;
mod observe_parquet;
mod observe_partial;
mod prometheus;
mod status_page;
