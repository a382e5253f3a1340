//! Writes the seed inputs of the `gossip_decode` and `rpc_chunk` fuzz targets (`fuzz/`) from
//! real encodings: every gossip kind's valid message at a mainnet slot, as wire bytes and as SSZ
//! (the targets' input layouts are described in their sources), and a request and a response of
//! every req/resp protocol as Pheme's codec writes them.
//!
//! `cargo run -p pheme-network --example fuzz_seeds -- fuzz/corpus` (run by `scripts/fuzz.sh
//! --seed`); the spec-test vectors and bootnode ENRs are added by the script.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use futures::executor::block_on;
use futures::io::Cursor;
use pheme_network::{
    BlockChunk, GoodbyeReason, MetaData, ResponseCode, RpcCodec, RpcConfig, RpcProtocol,
    RpcRequest, RpcResponse, StatusMessage,
};
use pheme_spec::{GossipKind, Network};
use pheme_types::p2p::{BeaconBlocksByRangeRequest, MetaDataV3};

/// A mainnet slot in Fulu, after BPO2.
const SLOT: u64 = 13_500_000;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn gossip(dir: &Path) -> usize {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let epoch = SLOT / chain.slots_per_epoch();
    let schedule = chain.digest_schedule();
    let digest = schedule.iter().rposition(|d| d.epoch <= epoch).unwrap();
    let kinds = GossipKind::all_for_fork(&chain, schedule[digest].fork);
    let mut messages = common::valid_messages(&chain, SLOT, 42);
    messages.extend(common::invalid_messages(SLOT, 43));
    messages.push((
        GossipKind::AttesterSlashing,
        common::attester_slashing(&chain, SLOT, 44),
    ));
    let mut n = 0;
    for (kind, ssz) in messages {
        let index = kinds.iter().position(|k| *k == kind).unwrap();
        for (raw, payload) in [
            (false, pheme_codec::compress_block(&ssz)),
            (true, ssz.clone()),
        ] {
            let mut input = vec![index as u8, digest as u8 | if raw { 0x80 } else { 0 }];
            input.extend_from_slice(&SLOT.to_le_bytes());
            input.extend_from_slice(&payload);
            let mode = if raw { "ssz" } else { "wire" };
            write(dir, &format!("{}-{mode}", kind.base_name()), &input);
            n += 1;
        }
    }
    n
}

fn rpc(dir: &Path) -> usize {
    let chain = Network::Mainnet.chain_spec().unwrap();
    let codec = RpcCodec::new(RpcConfig::for_chain(&chain));
    let digest = chain.fork_digest_at(SLOT / chain.slots_per_epoch());
    let status = StatusMessage {
        fork_digest: digest,
        finalized_root: [1; 32],
        finalized_epoch: 2,
        head_root: [3; 32],
        head_slot: SLOT,
        earliest_available_slot: Some(5),
    };
    let block = |tag: u8| BlockChunk {
        fork_digest: Some(digest),
        ssz: vec![tag; 600],
    };
    let range = BeaconBlocksByRangeRequest {
        start_slot: SLOT,
        count: 3,
        step: 1,
    };
    let metadata = MetaData::V3(MetaDataV3 {
        seq_number: 3,
        custody_group_count: 4,
        ..Default::default()
    });
    let mut n = 0;
    for protocol in RpcProtocol::ALL {
        let index = RpcProtocol::ALL
            .iter()
            .position(|p| *p == protocol)
            .unwrap() as u8;
        let request = match protocol.method() {
            pheme_network::RpcMethod::Status => RpcRequest::Status(status),
            pheme_network::RpcMethod::Goodbye => RpcRequest::Goodbye(GoodbyeReason::TooManyPeers),
            pheme_network::RpcMethod::Ping => RpcRequest::Ping(9),
            pheme_network::RpcMethod::MetaData => RpcRequest::MetaData,
            pheme_network::RpcMethod::BlocksByRange => RpcRequest::BlocksByRange(range.clone()),
            pheme_network::RpcMethod::BlocksByRoot => {
                RpcRequest::BlocksByRoot(vec![[7; 32], [8; 32]])
            }
        };
        let response = match protocol.method() {
            pheme_network::RpcMethod::Status => RpcResponse::Status(status),
            pheme_network::RpcMethod::Goodbye => RpcResponse::GoodbyeAck,
            pheme_network::RpcMethod::Ping => RpcResponse::Pong(11),
            pheme_network::RpcMethod::MetaData => RpcResponse::MetaData(metadata.clone()),
            _ => {
                let mut blocks = vec![block(1), block(2)];
                if !protocol.has_context_bytes() {
                    for b in &mut blocks {
                        b.fork_digest = None;
                    }
                }
                RpcResponse::Blocks {
                    blocks,
                    error: Some(pheme_network::RpcErrorResponse {
                        code: ResponseCode::ResourceUnavailable,
                        message: b"pruned".to_vec(),
                    }),
                }
            }
        };
        let mut wire = Cursor::new(Vec::new());
        block_on(codec.encode_request(protocol, &mut wire, &request)).unwrap();
        let mut input = vec![index, 3];
        input.extend(wire.into_inner());
        write(
            dir,
            &format!("{protocol}-request").replace('/', "_"),
            &input,
        );
        let mut wire = Cursor::new(Vec::new());
        block_on(codec.encode_response(protocol, &mut wire, &response)).unwrap();
        let mut input = vec![index | 0x80, 3];
        input.extend(wire.into_inner());
        write(
            dir,
            &format!("{protocol}-response").replace('/', "_"),
            &input,
        );
        let error = RpcResponse::error(ResponseCode::RateLimited, "slow down");
        let mut wire = Cursor::new(Vec::new());
        block_on(codec.encode_response(protocol, &mut wire, &error)).unwrap();
        let mut input = vec![index | 0x80, 1];
        input.extend(wire.into_inner());
        write(dir, &format!("{protocol}-error").replace('/', "_"), &input);
        n += 3;
    }
    n
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let g = gossip(&root.join("gossip_decode"));
    let r = rpc(&root.join("rpc_chunk"));
    println!(
        "{g} gossip_decode seeds, {r} rpc_chunk seeds under {}",
        root.display()
    );
}
