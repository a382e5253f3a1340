//! Snappy, bounded before it allocates: the block format of gossip payloads, and the framed
//! format with a varint length prefix of req/resp chunks.

use std::io::Read;

use crate::bounds::SszBounds;

/// The snappy worst case for `n` input bytes (`max_compressed_len` of the p2p spec).
pub fn max_compressed_len(n: usize) -> usize {
    32usize.saturating_add(n).saturating_add(n / 6)
}

/// Why a payload was not decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnappyError {
    /// More compressed bytes than any allowed payload can need.
    #[error("{len} compressed bytes, more than the {max} any allowed payload needs")]
    CompressedTooLarge {
        /// Compressed length.
        len: usize,
        /// `max_compressed_len` of the bound.
        max: usize,
    },
    /// The length preamble is unreadable.
    #[error("unreadable snappy length preamble")]
    BadPreamble,
    /// The preamble announces a length the type does not allow (read before allocating).
    #[error("snappy preamble announces {len} bytes; the type allows {}..={}", bounds.min, bounds.max)]
    OutOfBounds {
        /// Announced length.
        len: usize,
        /// What the type allows.
        bounds: SszBounds,
    },
    /// The compressed stream is corrupt.
    #[error("corrupt snappy data")]
    Corrupt(#[source] snap::Error),
    /// The stream decompressed to another length than its preamble announced.
    #[error("{written} bytes where the preamble said {announced}")]
    LengthMismatch {
        /// Bytes produced.
        written: usize,
        /// Bytes announced.
        announced: usize,
    },
}

/// Decompresses a gossip payload (snappy block format) whose SSZ must fit `bounds`: the length
/// preamble is checked before anything is allocated.
pub fn decompress_block(data: &[u8], bounds: SszBounds) -> Result<Vec<u8>, SnappyError> {
    let mut out = Vec::new();
    decompress_block_into(data, bounds, &mut out)?;
    Ok(out)
}

/// [`decompress_block`] into `out` (cleared first), reusing its allocation: a validator that
/// keeps one buffer allocates nothing per message. `out` holds the SSZ bytes on success; on
/// error its contents are unspecified. It never grows beyond `bounds.max`.
pub fn decompress_block_into(
    data: &[u8],
    bounds: SszBounds,
    out: &mut Vec<u8>,
) -> Result<(), SnappyError> {
    out.clear();
    let max = max_compressed_len(bounds.max);
    if data.len() > max {
        return Err(SnappyError::CompressedTooLarge {
            len: data.len(),
            max,
        });
    }
    let len = snap::raw::decompress_len(data).map_err(|_| SnappyError::BadPreamble)?;
    if !bounds.admits(len) {
        return Err(SnappyError::OutOfBounds { len, bounds });
    }
    out.resize(len, 0);
    let written = snap::raw::Decoder::new()
        .decompress(data, out)
        .map_err(SnappyError::Corrupt)?;
    if written != len {
        return Err(SnappyError::LengthMismatch {
            written,
            announced: len,
        });
    }
    Ok(())
}

/// Compresses an SSZ payload for gossip.
pub fn compress_block(ssz: &[u8]) -> Vec<u8> {
    // Compression of in-memory bytes fails only for inputs above snappy's 4 GiB limit.
    snap::raw::Encoder::new()
        .compress_vec(ssz)
        .unwrap_or_default()
}

/// Why a req/resp chunk did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The buffer ends before the chunk does: read more.
    #[error("incomplete chunk")]
    Incomplete,
    /// The varint length prefix is malformed (over 10 bytes or over 64 bits).
    #[error("malformed length prefix")]
    BadPrefix,
    /// The prefix announces a length the type does not allow.
    #[error("chunk announces {len} bytes; the type allows {}..={}", bounds.min, bounds.max)]
    OutOfBounds {
        /// Announced length.
        len: u64,
        /// What the type allows.
        bounds: SszBounds,
    },
    /// The snappy frames are corrupt.
    #[error("corrupt snappy frames")]
    Corrupt(#[source] pheme_types::SharedError<std::io::Error>),
    /// The frames end before the announced length, within the bytes they may take.
    #[error("frames end before the announced length")]
    EndsEarly,
}

/// Encodes a req/resp chunk payload: `uvarint(len(ssz)) ++ snappy_frames(ssz)`.
pub fn encode_chunk(ssz: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(10 + max_compressed_len(ssz.len()));
    out.extend_from_slice(unsigned_varint::encode::u64(
        ssz.len() as u64,
        &mut unsigned_varint::encode::u64_buffer(),
    ));
    let mut encoder = snap::write::FrameEncoder::new(out);
    // Writing into a Vec cannot fail.
    let _ = std::io::Write::write_all(&mut encoder, ssz);
    encoder.into_inner().unwrap_or_default()
}

/// Uncompressed bytes in one snappy frame: what a chunk's output reserves up front.
const FIRST_FRAME_CAPACITY: usize = 65_536;

/// Decodes one req/resp chunk payload from the start of `buf`; returns the SSZ bytes and how many
/// bytes of `buf` the chunk took. The length is checked against `bounds` before allocating, and
/// no more compressed bytes are read than that length can need.
pub fn decode_chunk(buf: &[u8], bounds: SszBounds) -> Result<(Vec<u8>, usize), ChunkError> {
    let mut len: u64 = 0;
    let mut prefix = 0;
    loop {
        let Some(&byte) = buf.get(prefix) else {
            return Err(ChunkError::Incomplete);
        };
        if prefix == 10 || (prefix == 9 && byte > 1) {
            return Err(ChunkError::BadPrefix);
        }
        len |= u64::from(byte & 0x7f) << (7 * prefix);
        prefix += 1;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let len_usize = usize::try_from(len).map_err(|_| ChunkError::OutOfBounds { len, bounds })?;
    if !bounds.admits(len_usize) {
        return Err(ChunkError::OutOfBounds { len, bounds });
    }
    let body = &buf[prefix..];
    // Stream identifier (10) plus, per 64 KiB frame, an 8-byte header around its compressed data.
    let frames = len_usize / 65_536 + 1;
    let limit = body
        .len()
        .min(10 + max_compressed_len(len_usize) + 8 * frames);
    let mut cursor = std::io::Cursor::new(&body[..limit]);
    // The output grows with what the frames at hand decompress to (at most `len`), so a
    // partial buffer under a large announced length costs no large allocation.
    let mut out = Vec::with_capacity(len_usize.min(FIRST_FRAME_CAPACITY));
    let mut decoder = snap::read::FrameDecoder::new(&mut cursor).take(len);
    let ended_early = match decoder.read_to_end(&mut out) {
        Ok(_) => out.len() < len_usize,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => true,
        Err(e) => return Err(ChunkError::Corrupt(pheme_types::SharedError::new(e))),
    };
    if ended_early {
        return Err(if limit == body.len() {
            ChunkError::Incomplete
        } else {
            ChunkError::EndsEarly
        });
    }
    drop(decoder);
    let used = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
    Ok((out, prefix + used))
}
