//! The router core's tests, in virtual time: one binary, a module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod control_trace;
mod gossip;
mod harness;
mod hostile;
mod mesh;
mod partial;
mod props;
mod px;
mod scoring;
