//! A chunk whose frames have not all arrived costs what they decompress to, not the length its
//! prefix announces. One test in this binary: it reads the process's peak heap.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use peak_alloc::PeakAlloc;
use pheme_codec::{ChunkError, SszBounds, decode_chunk, encode_chunk};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

#[test]
fn a_partial_chunk_allocates_what_its_frames_hold() {
    // 10 MiB of incompressible bytes (xorshift), of which only the first 100 kB of frames
    // have arrived: about a frame and a half.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let ssz: Vec<u8> = (0..10usize << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let wire = encode_chunk(&ssz);
    drop(ssz);
    let partial = &wire[..100_000];
    let bounds = SszBounds::up_to(10 << 20);
    ALLOC.reset_peak_usage();
    let before = ALLOC.current_usage();
    for _ in 0..10 {
        assert_eq!(decode_chunk(partial, bounds), Err(ChunkError::Incomplete));
    }
    let growth = ALLOC.peak_usage().saturating_sub(before);
    assert!(
        growth < 1 << 20,
        "a 10 MiB announcement with 100 kB of frames raised the heap by {growth} bytes"
    );
    // The whole chunk still decodes.
    let (out, used) = decode_chunk(&wire, bounds).unwrap();
    assert_eq!((out.len(), used), (10 << 20, wire.len()));
}
