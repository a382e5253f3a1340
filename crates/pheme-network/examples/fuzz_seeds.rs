//! Writes the seed inputs of the `gossip_decode`, `rpc_chunk` and `router_rpc` fuzz targets
//! (`fuzz/`) from real encodings: every gossip kind's valid message at a mainnet slot, as wire
//! bytes and as SSZ (the targets' input layouts are described in their sources), a request and
//! a response of every req/resp protocol as Pheme's codec writes them, and sequences of
//! gossipsub RPCs (subscriptions, messages, control) into the router.
//!
//! `cargo run -p pheme-network --example fuzz_seeds -- fuzz/corpus` (run by `scripts/fuzz.sh
//! --seed`); the spec-test vectors and bootnode ENRs are added by the script.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pheme_testkit::fixtures as common;

use std::path::{Path, PathBuf};

use futures::executor::block_on;
use futures::io::Cursor;
use pheme_network::{
    rpc::BlockChunk, rpc::GoodbyeReason, rpc::MetaData, rpc::ResponseCode, rpc::RpcCodec,
    rpc::RpcConfig, rpc::RpcProtocol, rpc::RpcRequest, rpc::RpcResponse, rpc::StatusMessage,
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
    let mut messages = common::valid_messages(&chain, SLOT, 42).unwrap();
    messages.extend(common::invalid_messages(SLOT, 43).unwrap());
    messages.push((
        GossipKind::AttesterSlashing,
        common::attester_slashing(&chain, SLOT, 44).unwrap(),
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
            pheme_network::rpc::RpcMethod::Status => RpcRequest::Status(status),
            pheme_network::rpc::RpcMethod::Goodbye => {
                RpcRequest::Goodbye(GoodbyeReason::TooManyPeers)
            }
            pheme_network::rpc::RpcMethod::Ping => RpcRequest::Ping(9),
            pheme_network::rpc::RpcMethod::MetaData => RpcRequest::MetaData,
            pheme_network::rpc::RpcMethod::BlocksByRange => {
                RpcRequest::BlocksByRange(range.clone())
            }
            pheme_network::rpc::RpcMethod::BlocksByRoot => {
                RpcRequest::BlocksByRoot(vec![[7; 32], [8; 32]])
            }
        };
        let response = match protocol.method() {
            pheme_network::rpc::RpcMethod::Status => RpcResponse::Status(status),
            pheme_network::rpc::RpcMethod::Goodbye => RpcResponse::GoodbyeAck,
            pheme_network::rpc::RpcMethod::Ping => RpcResponse::Pong(11),
            pheme_network::rpc::RpcMethod::MetaData => RpcResponse::MetaData(metadata.clone()),
            _ => {
                let mut blocks = vec![block(1), block(2)];
                if !protocol.has_context_bytes() {
                    for b in &mut blocks {
                        b.fork_digest = None;
                    }
                }
                RpcResponse::Blocks {
                    blocks,
                    error: Some(pheme_network::rpc::RpcErrorResponse {
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

/// Router inputs: `[peer][len u16 LE][frame]` for a frame, `[4][n]` for time, `[5][v]` for a
/// verdict (see `fuzz/fuzz_targets/router_rpc.rs`).
fn router(dir: &Path) -> usize {
    use bytes::Bytes;
    use pheme_router::wire::{
        ControlGraft, ControlIDontWant, ControlIHave, ControlIWant, ControlMessage, ControlPrune,
        PeerInfo, Rpc, SubOpts, WireMessage,
    };
    use prost::Message as _;
    let chain = Network::Mainnet.chain_spec().unwrap();
    let digest = chain.fork_digest_at(SLOT / chain.slots_per_epoch());
    let topic = |k| Bytes::from(pheme_network::params::topic_name(digest, k));
    let kinds = [
        GossipKind::BeaconBlock,
        GossipKind::BeaconAggregateAndProof,
        GossipKind::BeaconAttestation(3),
        GossipKind::VoluntaryExit,
        GossipKind::SyncCommittee(1),
    ];
    let frame = |peer: u8, rpc: Rpc| {
        let body = rpc.encode_to_vec();
        let mut out = vec![peer];
        out.extend_from_slice(&(body.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out
    };
    let subs = Rpc {
        subscriptions: kinds
            .iter()
            .map(|k| SubOpts {
                subscribe: Some(true),
                topic_id: Some(topic(*k)),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let messages = Rpc {
        publish: common::valid_messages(&chain, SLOT, 42)
            .unwrap()
            .into_iter()
            .filter(|(k, _)| kinds.contains(k))
            .map(|(k, ssz)| WireMessage {
                data: Some(Bytes::from(pheme_codec::compress_block(&ssz))),
                topic: Some(topic(k)),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let id = Bytes::from(vec![7u8; 20]);
    let control = Rpc {
        control: Some(ControlMessage {
            ihave: vec![ControlIHave {
                topic_id: Some(topic(kinds[0])),
                message_ids: vec![id.clone()],
            }],
            iwant: vec![ControlIWant {
                message_ids: vec![id.clone()],
            }],
            graft: vec![ControlGraft {
                topic_id: Some(topic(kinds[1])),
            }],
            prune: vec![ControlPrune {
                topic_id: Some(topic(kinds[2])),
                peers: vec![PeerInfo {
                    peer_id: Some(Bytes::from(libp2p::PeerId::random().to_bytes())),
                    signed_peer_record: None,
                }],
                backoff: Some(60),
            }],
            idontwant: vec![ControlIDontWant {
                message_ids: vec![id],
            }],
            extensions: Some(pheme_router::wire::ControlExtensions {
                partial_messages: Some(true),
            }),
        }),
        ..Default::default()
    };
    let mut n = 0;
    let mut all = Vec::new();
    for (name, seq) in [
        ("subscribe", vec![frame(0, subs.clone())]),
        (
            "messages",
            vec![
                frame(0, subs.clone()),
                frame(1, messages.clone()),
                vec![5, 0],
                vec![4, 80],
                frame(2, messages.clone()),
            ],
        ),
        (
            "control",
            vec![
                frame(1, subs.clone()),
                frame(1, control.clone()),
                vec![4, 255],
                vec![4, 255],
            ],
        ),
    ] {
        let bytes: Vec<u8> = seq.concat();
        all.extend_from_slice(&bytes);
        write(dir, name, &bytes);
        n += 1;
    }
    write(dir, "everything", &all);
    n + 1
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let g = gossip(&root.join("gossip_decode"));
    let r = rpc(&root.join("rpc_chunk"));
    let m = router(&root.join("router_rpc"));
    println!(
        "{g} gossip_decode seeds, {r} rpc_chunk seeds, {m} router_rpc seeds under {}",
        root.display()
    );
}
