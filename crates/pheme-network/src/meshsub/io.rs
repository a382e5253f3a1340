//! Frames on a stream: gossipsub's unsigned-varint length prefix and protobuf body.
//!
//! Reading is bounded before anything is allocated: a frame's length is checked against the
//! limit before its buffer is reserved, and an over-long frame is skipped through a fixed
//! buffer (reported, so the router can charge the sender), or ends the stream when it is
//! absurd. Small frames are cut out of one shared read buffer, so a read of 64 KiB holding
//! hundreds of attestations costs one allocation.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures::{AsyncRead, AsyncWrite};
use pheme_router::Frame;

/// Bytes read from the stream at a time.
const READ_CHUNK: usize = 64 * 1024;
/// An announced length this many times the limit ends the stream instead of being skipped.
const ABSURD_FACTOR: usize = 4;
/// Frames up to this size are gathered into one buffer for a single write; larger ones are
/// written part by part (a block's bytes are not copied).
const GATHER_LIMIT: usize = 64 * 1024;

/// What the reader found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadItem {
    /// A whole frame, without its prefix.
    Frame(Bytes),
    /// A frame over the limit, skipped unread.
    Oversized(usize),
}

/// Reads length-prefixed frames.
#[derive(Debug)]
pub(crate) struct FrameReader {
    buf: BytesMut,
    /// Where reads land (zeroed once, reused), before the bytes read join `buf`.
    scratch: Vec<u8>,
    skip: usize,
    max: usize,
}

impl FrameReader {
    pub fn new(max: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            scratch: Vec::new(),
            skip: 0,
            max,
        }
    }

    /// The next frame, `None` at the end of the stream.
    pub fn poll_next<S: AsyncRead + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<ReadItem>>> {
        loop {
            if self.skip > 0 {
                let n = self.skip.min(self.buf.len());
                self.buf.advance(n);
                self.skip -= n;
            }
            if self.skip == 0 {
                match unsigned_varint::decode::usize(&self.buf) {
                    Ok((len, rest)) => {
                        let prefix = self.buf.len() - rest.len();
                        if len > self.max {
                            if len / ABSURD_FACTOR > self.max {
                                return Poll::Ready(Some(Err(io::Error::new(
                                    io::ErrorKind::InvalidData,
                                    format!("frame of {len} bytes announced"),
                                ))));
                            }
                            self.buf.advance(prefix);
                            self.skip = len;
                            return Poll::Ready(Some(Ok(ReadItem::Oversized(len))));
                        }
                        if rest.len() >= len {
                            self.buf.advance(prefix);
                            return Poll::Ready(Some(Ok(ReadItem::Frame(
                                self.buf.split_to(len).freeze(),
                            ))));
                        }
                        // Room for the whole frame (bounded by the limit checked above).
                        self.buf.reserve(prefix + len - self.buf.len());
                    }
                    Err(unsigned_varint::decode::Error::Insufficient) => {}
                    Err(e) => {
                        return Poll::Ready(Some(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("bad length prefix: {e}"),
                        ))));
                    }
                }
            }
            // Read more, into the scratch buffer (zeroed once: a read of a few bytes costs a
            // copy of those bytes, not the zeroing of a whole chunk).
            let chunk = if self.skip > 0 {
                READ_CHUNK.min(self.skip)
            } else {
                READ_CHUNK
            };
            if self.scratch.len() < chunk {
                self.scratch.resize(READ_CHUNK, 0);
            }
            match Pin::new(&mut *io).poll_read(cx, &mut self.scratch[..chunk]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(None),
                Poll::Ready(Ok(n)) => self.buf.extend_from_slice(&self.scratch[..n]),
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// One frame being written: the parts left, and how far into the first one.
#[derive(Debug, Default)]
pub(crate) struct FrameWriter {
    parts: Vec<Bytes>,
    at: usize,
}

impl FrameWriter {
    /// Starts writing `frame`: gathered into one buffer when small.
    pub fn start(frame: &Frame) -> Self {
        let parts = if frame.len() <= GATHER_LIMIT {
            vec![frame.to_bytes()]
        } else {
            frame.parts().to_vec()
        };
        Self { parts, at: 0 }
    }

    /// Writes until done (`Ready(Ok)`), blocked or failed; the caller flushes.
    pub fn poll_write<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while let Some(part) = self.parts.get(self.at) {
            if part.is_empty() {
                self.at += 1;
                continue;
            }
            match Pin::new(&mut *io).poll_write(cx, part) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    if n == part.len() {
                        self.at += 1;
                    } else {
                        self.parts[self.at] = part.slice(n..);
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures::io::Cursor;
    use futures::task::noop_waker_ref;

    fn read_all(bytes: Vec<u8>, max: usize) -> Vec<Result<ReadItem, io::ErrorKind>> {
        let mut io = Cursor::new(bytes);
        let mut r = FrameReader::new(max);
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut out = Vec::new();
        while let Poll::Ready(Some(item)) = r.poll_next(&mut io, &mut cx) {
            let stop = item.is_err();
            out.push(item.map_err(|e| e.kind()));
            if stop {
                break;
            }
        }
        out
    }

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut b = pheme_router::wire::length_prefix(body.len()).to_vec();
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn frames_come_out_whole_and_oversized_ones_are_skipped() {
        let mut stream = framed(b"one");
        stream.extend(framed(&[7u8; 100_000]));
        stream.extend(framed(&vec![1u8; 300_000]));
        stream.extend(framed(b"four"));
        let items = read_all(stream, 200_000);
        assert_eq!(
            items,
            vec![
                Ok(ReadItem::Frame(Bytes::from_static(b"one"))),
                Ok(ReadItem::Frame(Bytes::from(vec![7u8; 100_000]))),
                Ok(ReadItem::Oversized(300_000)),
                Ok(ReadItem::Frame(Bytes::from_static(b"four"))),
            ]
        );
    }

    #[test]
    fn absurd_lengths_and_bad_prefixes_end_the_stream() {
        let mut stream = pheme_router::wire::length_prefix(1 << 40).to_vec();
        stream.extend([0u8; 16]);
        assert_eq!(
            read_all(stream, 1000),
            vec![Err(io::ErrorKind::InvalidData)]
        );
        assert_eq!(
            read_all(vec![0xff; 12], 1000),
            vec![Err(io::ErrorKind::InvalidData)]
        );
    }

    #[test]
    fn the_writer_writes_every_part() {
        let big = Frame::from_parts(vec![
            Bytes::from(vec![5u8; 100_000]),
            Bytes::from_static(b"x"),
        ]);
        for frame in [Frame::from_parts(vec![Bytes::from_static(b"abc")]), big] {
            let mut io = Cursor::new(Vec::new());
            let mut w = FrameWriter::start(&frame);
            let mut cx = Context::from_waker(noop_waker_ref());
            assert!(matches!(
                w.poll_write(&mut io, &mut cx),
                Poll::Ready(Ok(()))
            ));
            assert_eq!(io.into_inner(), frame.to_bytes().to_vec());
        }
    }
}
