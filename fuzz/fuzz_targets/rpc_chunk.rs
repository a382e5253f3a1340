//! Req/resp decoding through `RpcCodec` (length prefix, snappy frames, result codes, context
//! bytes), both directions, every protocol: whatever decodes re-encodes and decodes to the same
//! value.
//!
//! Input: `[selector][max_chunks][stream]`. `selector % 11` picks the protocol;
//! `selector & 0x80` reads a response (of at most `max_chunks` chunks), else a request.
#![no_main]

use futures::executor::block_on;
use futures::io::Cursor;
use libfuzzer_sys::fuzz_target;
use pheme_network::{RpcCodec, RpcConfig, RpcProtocol};
use std::sync::LazyLock;

static CODEC: LazyLock<RpcCodec> = LazyLock::new(|| {
    // Mainnet's MAX_PAYLOAD_SIZE and fork digests, as the node runs.
    let chain = pheme_spec::Network::Mainnet.chain_spec().expect("mainnet");
    let mut config = RpcConfig::for_chain(&chain);
    // A blocks response may not hold more than 4 MiB here, so that one input stays fast.
    config = config.with_max_response_bytes(4 << 20);
    RpcCodec::new(config)
});

fuzz_target!(|data: &[u8]| {
    let [selector, max_chunks, stream @ ..] = data else {
        return;
    };
    let protocol = RpcProtocol::ALL[usize::from(selector & 0x7f) % RpcProtocol::ALL.len()];
    let codec = &*CODEC;
    if selector & 0x80 == 0 {
        let Ok(request) = block_on(codec.decode_request(protocol, &mut Cursor::new(stream))) else {
            return;
        };
        let mut wire = Cursor::new(Vec::new());
        block_on(codec.encode_request(protocol, &mut wire, &request))
            .expect("a decoded request re-encodes");
        let again = block_on(codec.decode_request(protocol, &mut Cursor::new(wire.into_inner())))
            .expect("a re-encoded request decodes");
        assert_eq!(again, request);
    } else {
        let max_chunks = u64::from(*max_chunks);
        let Ok(response) =
            block_on(codec.decode_response(protocol, &mut Cursor::new(stream), max_chunks))
        else {
            return;
        };
        let mut wire = Cursor::new(Vec::new());
        if block_on(codec.encode_response(protocol, &mut wire, &response)).is_err() {
            // Only a local mismatch may refuse (e.g. a Goodbye ack read from an empty stream
            // on another method); a decoded payload is always in bounds.
            return;
        }
        let again = block_on(codec.decode_response(
            protocol,
            &mut Cursor::new(wire.into_inner()),
            max_chunks,
        ))
        .expect("a re-encoded response decodes");
        assert_eq!(again, response);
    }
});
