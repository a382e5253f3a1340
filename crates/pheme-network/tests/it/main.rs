//! The network crate's integration tests, one binary (each module was a binary of its own:
//! one link of libp2p and the crate per module made the cold CI build slow).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod discovery;
mod embed;
mod fork;
mod gossip;
mod interop_libp2p;
mod interop_partial;
mod libp2p_accepts_presets;
mod logging;
mod reqresp;
mod rpc_codec;
mod rpc_swarm;
mod stateful;
mod trace;
mod transports;
