//! Hostile snappy: bombs, lying preambles, truncation and garbage give errors, never a large
//! allocation or a panic; chunks round-trip and report what they consumed.

use pheme_codec::{
    ChunkError, SnappyError, SszBounds, compress_block, decode_chunk, decompress_block,
    encode_chunk, max_compressed_len,
};

/// A varint preamble announcing `n` bytes.
fn preamble(n: u64) -> Vec<u8> {
    unsigned_varint::encode::u64(n, &mut unsigned_varint::encode::u64_buffer()).to_vec()
}

#[test]
fn block_round_trip_within_bounds() {
    let ssz: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let wire = compress_block(&ssz);
    assert_eq!(
        decompress_block(&wire, SszBounds::up_to(100_000)).unwrap(),
        ssz
    );
    assert_eq!(
        decompress_block(&wire, SszBounds::fixed(100_000)).unwrap(),
        ssz
    );
}

#[test]
fn a_bomb_is_refused_from_its_preamble() {
    // 4 GiB announced in six bytes: refused before any allocation.
    let mut bomb = preamble(u64::from(u32::MAX));
    bomb.extend([0u8; 16]);
    assert!(matches!(
        decompress_block(&bomb, SszBounds::up_to(10 << 20)),
        Err(SnappyError::OutOfBounds {
            len: 4_294_967_295,
            ..
        })
    ));
    // A real, highly compressible 11 MiB payload against the 10 MiB limit.
    let zeros = compress_block(&vec![0u8; 11 << 20]);
    assert!(zeros.len() < 600_000);
    assert!(matches!(
        decompress_block(&zeros, SszBounds::up_to(10 << 20)),
        Err(SnappyError::OutOfBounds { .. })
    ));
}

#[test]
fn lies_truncation_and_garbage() {
    let wire = compress_block(&[7u8; 1000]);
    // Preamble claims fewer bytes than the stream holds, and more.
    let mut short = preamble(10);
    short.extend(&wire[2..]);
    assert!(matches!(
        decompress_block(&short, SszBounds::up_to(5000)),
        Err(SnappyError::Corrupt(_))
    ));
    let mut long = preamble(2000);
    long.extend(&wire[2..]);
    assert!(matches!(
        decompress_block(&long, SszBounds::up_to(5000)),
        Err(SnappyError::Corrupt(_))
    ));
    // Truncated stream.
    assert!(decompress_block(&wire[..wire.len() / 2], SszBounds::up_to(5000)).is_err());
    // Garbage and an empty message.
    assert!(decompress_block(&[0xff; 12], SszBounds::up_to(5000)).is_err());
    assert!(matches!(
        decompress_block(&[], SszBounds::up_to(5000)),
        Err(SnappyError::BadPreamble | SnappyError::Corrupt(_))
    ));
    // Wrong size for a fixed-size type.
    assert!(matches!(
        decompress_block(&compress_block(&[0u8; 239]), SszBounds::fixed(240)),
        Err(SnappyError::OutOfBounds { len: 239, .. })
    ));
    // More compressed bytes than the type could ever need.
    let padded = vec![0u8; max_compressed_len(240) + 1];
    assert!(matches!(
        decompress_block(&padded, SszBounds::fixed(240)),
        Err(SnappyError::CompressedTooLarge { .. })
    ));
}

#[test]
fn chunks_round_trip_and_report_their_length() {
    for len in [0usize, 1, 240, 65_535, 65_536, 200_000] {
        let ssz: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
        let mut wire = encode_chunk(&ssz);
        let chunk_len = wire.len();
        wire.extend([0xAA; 5]); // the next chunk's bytes
        let (out, used) = decode_chunk(&wire, SszBounds::up_to(1 << 20)).unwrap();
        assert_eq!((out.len(), used), (len, chunk_len), "len {len}");
        assert_eq!(out, ssz);
    }
}

#[test]
fn hostile_chunks() {
    let wire = encode_chunk(&[1u8; 5000]);
    assert_eq!(
        decode_chunk(&wire[..1], SszBounds::up_to(10_000)),
        Err(ChunkError::Incomplete)
    );
    assert_eq!(
        decode_chunk(&wire[..wire.len() - 3], SszBounds::up_to(10_000)),
        Err(ChunkError::Incomplete)
    );
    assert!(matches!(
        decode_chunk(&wire, SszBounds::up_to(4999)),
        Err(ChunkError::OutOfBounds { len: 5000, .. })
    ));
    // A length prefix over 64 bits, and one announcing 2^63 bytes.
    assert_eq!(
        decode_chunk(&[0xff; 11], SszBounds::up_to(10)),
        Err(ChunkError::BadPrefix)
    );
    let mut huge = preamble(1 << 63);
    huge.extend([0u8; 8]);
    assert!(matches!(
        decode_chunk(&huge, SszBounds::up_to(10 << 20)),
        Err(ChunkError::OutOfBounds { .. })
    ));
    // Frames that are not snappy.
    let mut garbage = preamble(100);
    garbage.extend([0x42u8; 200]);
    assert!(matches!(
        decode_chunk(&garbage, SszBounds::up_to(1000)),
        Err(ChunkError::Corrupt(_))
    ));
}

#[test]
fn a_reused_buffer_decodes_like_a_fresh_one() {
    use pheme_codec::{SszBounds, decompress_block, decompress_block_into};
    let bounds = SszBounds::up_to(1_000);
    let mut buf = Vec::new();
    for payload in [vec![7u8; 600], vec![1u8; 20], vec![], (0..=255u8).collect()] {
        let wire = compress_block(&payload);
        decompress_block_into(&wire, bounds, &mut buf).unwrap();
        assert_eq!(buf, payload);
        assert_eq!(decompress_block(&wire, bounds).unwrap(), payload);
    }
    // Refused before decompressing: the buffer does not grow to the announced size.
    let big = compress_block(&[0u8; 2_000]);
    assert!(decompress_block_into(&big, bounds, &mut buf).is_err());
    assert!(buf.len() <= 1_000);
}
