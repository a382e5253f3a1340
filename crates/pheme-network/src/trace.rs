//! `--trace FILE`: one JSON line per received gossip message (and, with partial columns, one
//! per partial message: `"record": "partial"`), written by its own thread so the swarm and the
//! validator never wait on the disk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Records queued before new ones are dropped (and counted).
pub const DEFAULT_TRACE_QUEUE: usize = 65_536;

/// How often buffered records reach the file, at the latest.
pub const TRACE_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// One received gossip message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceRecord {
    /// Arrival, unix milliseconds.
    pub arrival_ms: u64,
    /// Verdict time, unix milliseconds.
    pub verdict_ms: u64,
    /// The topic string.
    pub topic: String,
    /// The message-id, hex.
    pub message_id: String,
    /// The peer that delivered it first.
    pub source: String,
    /// Bytes on the wire.
    pub wire_bytes: usize,
    /// SSZ bytes.
    pub ssz_bytes: Option<usize>,
    /// Where the verdict was taken: `transform` (bounded snappy, size), `router` (signed or
    /// malformed messages), `queue` (IGNOREd unvalidated: the validation queue was full) or
    /// `validation` (the topic's checks and the node's).
    pub stage: &'static str,
    /// `accept`, `ignore` or `reject`.
    pub verdict: &'static str,
    /// The failed check's label, `accepted` otherwise.
    pub reason: &'static str,
    /// Copies of this message received while it was being validated.
    pub duplicates: u64,
    /// Who delivered those copies, first to last (Pheme's router; empty with libp2p's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicate_from: Vec<String>,
    /// The message's data as it came on the wire (snappy), when the node captures payloads
    /// with this verdict (not in the JSON lines).
    #[serde(skip)]
    pub payload: Option<bytes::Bytes>,
    /// For an accepted block: its slot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_slot: Option<u64>,
    /// For an accepted block: `hash_tree_root` of its message, 0x-hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_root: Option<String>,
}

/// A partial message's JSON line: a [`PartialEvent`](crate::PartialEvent) with
/// `"record": "partial"` first (message lines have no `record` field), the peer as its peer id,
/// the block root 0x-hex.
#[derive(Serialize)]
struct PartialLine<'a> {
    record: &'static str,
    at_ms: u64,
    peer: String,
    topic: &'a str,
    column: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    block_root: Option<String>,
    wire_bytes: usize,
    header: bool,
    cells: &'a [u32],
    novel_cells: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    has: Option<&'a [u32]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wants: Option<&'a [u32]>,
    verdict: &'static str,
    reason: &'static str,
    completed: bool,
}

impl<'a> From<&'a crate::PartialEvent> for PartialLine<'a> {
    fn from(e: &'a crate::PartialEvent) -> Self {
        Self {
            record: "partial",
            at_ms: e.at_ms,
            peer: e.peer.to_string(),
            topic: &e.topic,
            column: e.column,
            block_root: e.block_root.map(|r| format!("0x{}", hex::encode(r))),
            wire_bytes: e.wire_bytes,
            header: e.header,
            cells: &e.cells,
            novel_cells: e.novel_cells,
            has: e.has.as_deref(),
            wants: e.wants.as_deref(),
            verdict: e.verdict,
            reason: e.reason,
            completed: e.completed,
        }
    }
}

/// A trace file failed: the node keeps running without traces.
#[derive(Debug, thiserror::Error)]
#[error("trace file {path}: {source}")]
pub struct TraceError {
    /// The file.
    pub path: PathBuf,
    /// What failed.
    #[source]
    pub source: std::io::Error,
}

/// The sending side of a bounded record queue: the node's tasks queue records without ever
/// waiting; what does not fit is dropped and counted. [`TraceSink`] feeds `--trace`'s JSON
/// lines; observers build their own with [`RecordSink::bounded`] for any record type
/// ([`TraceRecord`], [`ControlEvent`](crate::ControlEvent), [`PeerEvent`](crate::PeerEvent)).
#[derive(Debug)]
pub struct RecordSink<T> {
    tx: SyncSender<T>,
    dropped: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
}

impl<T> Clone for RecordSink<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            dropped: self.dropped.clone(),
            failed: self.failed.clone(),
        }
    }
}

/// The sending side of a trace file.
pub type TraceSink = RecordSink<TraceRecord>;

impl<T> RecordSink<T> {
    /// A queue of at most `queue` records: the sink, and the receiver its consumer reads
    /// (dropping the receiver makes every later record count as dropped).
    pub fn bounded(queue: usize) -> (Self, Receiver<T>) {
        let (tx, rx) = sync_channel(queue.max(1));
        let sink = Self {
            tx,
            dropped: Arc::default(),
            failed: Arc::default(),
        };
        (sink, rx)
    }

    /// Queues a record; never blocks. Returns false when the record was dropped (queue full or
    /// the consumer failed or is gone).
    pub fn record(&self, r: T) -> bool {
        if self.failed.load(Ordering::Relaxed) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        match self.tx.try_send(r) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Records dropped because the queue was full, or the consumer failed or is gone.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Whether the consumer failed (the error was logged once).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// The sink's counters without its sending side, for the consumer (which must not hold a
    /// sender, or the queue would never close).
    pub fn health(&self) -> SinkHealth {
        SinkHealth {
            dropped: self.dropped.clone(),
            failed: self.failed.clone(),
        }
    }
}

/// A [`RecordSink`]'s drop counter and failure flag, shared with its consumer.
#[derive(Debug, Clone)]
pub struct SinkHealth {
    dropped: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
}

impl SinkHealth {
    /// Marks the consumer failed: later records are refused at once (and counted). Returns
    /// whether it had failed before.
    pub fn fail(&self) -> bool {
        self.failed.swap(true, Ordering::Relaxed)
    }

    /// Whether the consumer failed.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Counts records the consumer dropped after taking them (they count as the sink's).
    pub fn count_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Records dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The writing thread; dropping every [`TraceSink`] ends it, [`TraceWriter::finish`] waits for
/// the last flush.
#[derive(Debug)]
pub struct TraceWriter {
    thread: Option<JoinHandle<()>>,
    partials: RecordSink<crate::PartialEvent>,
}

impl TraceWriter {
    /// Creates (truncates) `path` and starts the writer.
    pub fn create(path: &Path, queue: usize) -> Result<(TraceSink, TraceWriter), TraceError> {
        let file = std::fs::File::create(path).map_err(|source| TraceError {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::start(path.to_owned(), Box::new(file), queue))
    }

    /// Starts a writer on any byte sink (tests use one that fails).
    pub fn start(
        path: PathBuf,
        out: Box<dyn Write + Send>,
        queue: usize,
    ) -> (TraceSink, TraceWriter) {
        let (sink, rx) = TraceSink::bounded(queue);
        let failed = sink.health();
        let (partials, partial_rx) = sync_channel(queue.max(1));
        // The file's failure stops both kinds of record; each kind counts its own drops.
        let partials = RecordSink {
            tx: partials,
            dropped: Arc::default(),
            failed: failed.failed.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("pheme-trace".into())
            .spawn(move || write_loop(path, out, rx, partial_rx, failed))
            .ok();
        (sink, TraceWriter { thread, partials })
    }

    /// A sink whose partial-message records become lines of this file (give it to
    /// `NetworkConfigBuilder::partial_trace`). They are written as the writer wakes for message
    /// records or its flush, at most [`TRACE_FLUSH_INTERVAL`] after they are queued.
    pub fn partial_sink(&self) -> RecordSink<crate::PartialEvent> {
        self.partials.clone()
    }

    /// Waits until every queued record is written and flushed (call after dropping the sinks).
    pub fn finish(self) {
        let Self { thread, partials } = self;
        drop(partials);
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

fn write_loop(
    path: PathBuf,
    out: Box<dyn Write + Send>,
    rx: Receiver<TraceRecord>,
    partials: Receiver<crate::PartialEvent>,
    failed: SinkHealth,
) {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut last_flush = Instant::now();
    let fail = |e: std::io::Error| {
        if !failed.fail() {
            let err = TraceError {
                path: path.clone(),
                source: e,
            };
            tracing::error!(target: "pheme::trace", error = %err, "tracing stopped; the node keeps running");
        }
    };
    loop {
        let timeout = TRACE_FLUSH_INTERVAL.saturating_sub(last_flush.elapsed());
        let record = match rx.recv_timeout(timeout) {
            Ok(r) => Some(r),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if failed.failed() {
            while partials.try_recv().is_ok() {}
            continue; // drain and drop
        }
        let lines = record.map(|r| serde_json::to_vec(&r)).into_iter().chain(
            partials
                .try_iter()
                .map(|p| serde_json::to_vec(&PartialLine::from(&p))),
        );
        if let Err(e) = write_lines(&mut out, lines) {
            fail(e);
            continue;
        }
        if last_flush.elapsed() >= TRACE_FLUSH_INTERVAL {
            last_flush = Instant::now();
            if let Err(e) = out.flush() {
                fail(e);
            }
        }
    }
    if !failed.failed() {
        let rest = partials
            .try_iter()
            .map(|p| serde_json::to_vec(&PartialLine::from(&p)));
        if let Err(e) = write_lines(&mut out, rest).and_then(|()| out.flush()) {
            fail(e);
        }
    }
}

/// Writes each serialised record and a newline.
fn write_lines(
    out: &mut impl Write,
    lines: impl Iterator<Item = serde_json::Result<Vec<u8>>>,
) -> std::io::Result<()> {
    for line in lines {
        out.write_all(&line.map_err(std::io::Error::other)?)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn record(i: u64) -> TraceRecord {
        TraceRecord {
            arrival_ms: i,
            verdict_ms: i + 1,
            topic: "/eth2/8c9f62fe/beacon_block/ssz_snappy".into(),
            message_id: "00".into(),
            source: "peer".into(),
            wire_bytes: 10,
            ssz_bytes: Some(20),
            stage: "validation",
            verdict: "accept",
            reason: "accepted",
            duplicates: 0,
            duplicate_from: Vec::new(),
            payload: None,
            block_slot: None,
            block_root: None,
        }
    }

    #[test]
    fn records_are_json_lines() {
        let dir = std::env::temp_dir().join(format!("pheme-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.jsonl");
        let (sink, writer) = TraceWriter::create(&path, 16).unwrap();
        let partials = writer.partial_sink();
        for i in 0..5 {
            assert!(sink.record(record(i)));
        }
        let peer = libp2p::PeerId::random();
        assert!(partials.record(crate::PartialEvent {
            at_ms: 7,
            peer,
            topic: "/eth2/8c9f62fe/data_column_sidecar_5/ssz_snappy".into(),
            column: 5,
            block_root: Some([0xab; 32]),
            wire_bytes: 900,
            header: true,
            cells: vec![0, 2],
            novel_cells: 2,
            has: None,
            wants: Some(vec![1]),
            verdict: "accept",
            reason: "accepted",
            completed: false,
        }));
        drop((sink, partials));
        writer.finish();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 6);
        // Partial lines go out as the writer wakes, between message lines.
        let (partial, messages): (Vec<_>, Vec<_>) =
            lines.iter().partition(|l| l.get("record").is_some());
        assert_eq!((partial.len(), messages.len()), (1, 5));
        assert_eq!(messages[4]["arrival_ms"], 4);
        assert_eq!(messages[0]["verdict"], "accept");
        let p = partial[0];
        assert_eq!(p["record"], "partial");
        assert_eq!(p["peer"], peer.to_string());
        assert_eq!(p["block_root"], format!("0x{}", "ab".repeat(32)));
        assert_eq!(p["cells"], serde_json::json!([0, 2]));
        assert_eq!(p["wants"], serde_json::json!([1]));
        assert!(p.get("has").is_none());
        assert_eq!(
            (p["header"].as_bool(), p["novel_cells"].as_u64()),
            (Some(true), Some(2))
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("no space left on device"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::other("no space left on device"))
        }
    }

    #[test]
    fn a_full_disk_stops_tracing_once_and_never_blocks() {
        let (sink, writer) = TraceWriter::start("full".into(), Box::new(Full), 4);
        // Enough records to pass the 64 KiB buffer and hit the failing sink.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sink.failed() && Instant::now() < deadline {
            sink.record(record(0));
        }
        assert!(sink.failed());
        // After the failure records are refused at once.
        assert!(!sink.record(record(1)));
        drop(sink);
        writer.finish();
    }
}
