//! `pheme observe --out-dir DIR`: the observer's records as Parquet datasets (`messages`,
//! `control`, `peers`, `payloads` with `--capture` and `partials` with `--partial-columns`),
//! each written by its own thread from a
//! bounded queue, so the node never waits on the disk (full queues drop records and count
//! them). docs/observer.md is the reader's side.

mod capture;
mod dataset;
mod replay;
pub mod rotation;
mod tables;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use pheme_network::{
    Capture, ControlEvent, Metrics, PartialEvent, PeerEvent, RecordSink, ScoreBreakdown,
    SinkHealth, TraceRecord, TraceSink,
};
use pheme_spec::{SlotClock, unix_now_ms};

pub use capture::{CaptureBudget, DEFAULT_CAPTURE_BUDGET};
pub use dataset::DatasetError;
use dataset::{Dataset, Table, TableStats};
pub use replay::{CaptureError, find_captured};
use rotation::Policy;
use tables::{CapturedPayload, Control, Messages, Partials, Payloads, PeerRow, Peers};

/// Records queued per table before new ones are dropped (and counted).
pub const DEFAULT_PARQUET_QUEUE: usize = 65_536;
/// How often a writer thread looks at the clock when no record comes.
const IDLE_WAKE: Duration = Duration::from_millis(250);

/// What `--out-dir` and its options ask for.
#[derive(Debug, Clone)]
pub struct ParquetOptions {
    /// The dataset root.
    pub dir: PathBuf,
    /// Row groups and rotation.
    pub policy: Policy,
    /// Put every table under `node=<peer id>/` (observers sharing one storage).
    pub node_partition: bool,
    /// Which first copies keep their wire data.
    pub capture: Capture,
    /// Bytes of captured data per UTC hour.
    pub capture_budget: u64,
    /// Write the `partials` table (the node records partial messages).
    pub partials: bool,
    /// Records queued per table.
    pub queue: usize,
}

/// One table's writer thread and counters.
struct Writer {
    name: &'static str,
    stats: Arc<TableStats>,
    health: SinkHealth,
    thread: Option<JoinHandle<()>>,
}

/// The running writers and the sinks the node feeds.
pub struct Datasets {
    /// Message records (give to `NetworkConfigBuilder::trace`).
    pub messages: TraceSink,
    /// Control records (`NetworkConfigBuilder::control_trace`).
    pub control: RecordSink<ControlEvent>,
    /// Peer events (`NetworkConfigBuilder::peer_trace`).
    pub peers: RecordSink<PeerEvent>,
    /// Partial-message records (`NetworkConfigBuilder::partial_trace`), when asked for.
    pub partials: Option<RecordSink<PartialEvent>>,
    scores: RecordSink<PeerRow>,
    writers: Vec<Writer>,
    capture: Arc<capture::CaptureStats>,
    removed: dataset::Unfinished,
}

impl Datasets {
    /// Sweeps what a crash left under the root, then starts the writers.
    pub fn start(
        opts: &ParquetOptions,
        node: &str,
        clock: SlotClock,
    ) -> Result<Self, DatasetError> {
        std::fs::create_dir_all(&opts.dir).map_err(|source| DatasetError::Io {
            path: opts.dir.clone(),
            source,
        })?;
        let removed = dataset::sweep_unfinished(&opts.dir);
        if removed.finished > 0 {
            tracing::warn!(
                target: "pheme::observe::parquet",
                files = removed.finished,
                rows = removed.finished_rows,
                "finished the files a crash left open from their written row groups (the rows then still in memory are lost)"
            );
        }
        if removed.files > 0 {
            tracing::warn!(
                target: "pheme::observe::parquet",
                files = removed.files,
                bytes = removed.bytes,
                rows = removed.rows,
                "removed unfinished files a crash left before their first row group: their rows are lost"
            );
        }
        let root = if opts.node_partition {
            opts.dir.join(format!("node={node}"))
        } else {
            opts.dir.clone()
        };
        // Unique among a fleet's files even without node partitions.
        let prefix: String = node
            .chars()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let mut writers = Vec::new();
        let capture = Arc::new(capture::CaptureStats::default());

        let (messages, rx) = TraceSink::bounded(opts.queue);
        let msgs = Dataset::new(Messages::new(clock), &root, &prefix, opts.policy);
        let payloads = Dataset::new(Payloads::default(), &root, &prefix, opts.policy);
        let budget = CaptureBudget::new(opts.capture_budget);
        writers.push(Writer {
            name: Messages::NAME,
            stats: msgs.stats(),
            health: messages.health(),
            thread: None,
        });
        writers.push(Writer {
            name: Payloads::NAME,
            stats: payloads.stats(),
            health: messages.health(),
            thread: None,
        });
        let cap = capture.clone();
        writers[0].thread = spawn("messages", move || {
            messages_loop(msgs, payloads, budget, cap, rx)
        });

        let (control, rx) = RecordSink::bounded(opts.queue);
        let ds = Dataset::new(Control::default(), &root, &prefix, opts.policy);
        writers.push(Writer {
            name: Control::NAME,
            stats: ds.stats(),
            health: control.health(),
            thread: spawn("control", move || simple_loop(ds, rx, |e| e)),
        });

        let (peers, events) = RecordSink::<PeerEvent>::bounded(opts.queue);
        let (scores, snapshots) = RecordSink::<PeerRow>::bounded(opts.queue);
        let ds = Dataset::new(Peers::default(), &root, &prefix, opts.policy);
        writers.push(Writer {
            name: Peers::NAME,
            stats: ds.stats(),
            health: peers.health(),
            thread: spawn("peers", move || peers_loop(ds, events, snapshots)),
        });

        let partials = opts.partials.then(|| {
            let (partials, rx) = RecordSink::bounded(opts.queue);
            let ds = Dataset::new(Partials::new(clock), &root, &prefix, opts.policy);
            writers.push(Writer {
                name: Partials::NAME,
                stats: ds.stats(),
                health: partials.health(),
                thread: spawn("partials", move || simple_loop(ds, rx, |e| e)),
            });
            partials
        });
        Ok(Self {
            messages,
            control,
            peers,
            partials,
            scores,
            writers,
            capture,
            removed,
        })
    }

    /// Queues every peer's score at `epoch` (the peers table's snapshots).
    pub fn scores(&self, epoch: u64, scores: Vec<ScoreBreakdown>) {
        let at_ms = unix_now_ms();
        for score in scores {
            self.scores.record(PeerRow::Score {
                at_ms,
                epoch,
                score,
            });
        }
    }

    /// Publishes the writers' counters as metrics.
    pub fn publish(&self, m: &Metrics) {
        for w in &self.writers {
            let l = [("table", w.name)];
            m.absolute(
                "pheme_observer_rows_total",
                &l,
                TableStats::get(&w.stats.rows),
            );
            m.gauge(
                "pheme_observer_open_rows",
                &l,
                TableStats::get(&w.stats.open_rows) as f64,
            );
            m.absolute(
                "pheme_observer_lost_rows_total",
                &l,
                TableStats::get(&w.stats.lost_rows),
            );
            if w.name != Payloads::NAME {
                m.absolute("pheme_observer_records_dropped_total", &l, self.dropped(w));
            }
        }
        m.absolute(
            "pheme_observer_capture_dropped_total",
            &[],
            self.capture.over_budget(),
        );
    }

    fn dropped(&self, w: &Writer) -> u64 {
        if w.name == Peers::NAME {
            w.health.dropped() + self.scores.dropped()
        } else {
            w.health.dropped()
        }
    }

    /// Closes every open file (call once the node has dropped its sinks) and returns the
    /// summary line.
    pub fn finish(self, wait: Duration) -> String {
        let Datasets {
            messages,
            control,
            peers,
            partials,
            scores,
            mut writers,
            capture,
            removed,
        } = self;
        let dropped: Vec<u64> = writers
            .iter()
            .map(|w| match w.name {
                "peers" => w.health.dropped() + scores.dropped(),
                _ => w.health.dropped(),
            })
            .collect();
        drop((messages, control, peers, partials, scores));
        let deadline = std::time::Instant::now() + wait;
        for w in &mut writers {
            if let Some(t) = w.thread.take() {
                while !t.is_finished() && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if t.is_finished() {
                    let _ = t.join();
                } else {
                    tracing::warn!(target: "pheme::observe::parquet", table = w.name, "writer still busy at exit: its open file is lost");
                }
            }
        }
        let mut line = String::from("parquet:");
        for (w, d) in writers.iter().zip(dropped) {
            line.push_str(&format!(
                " {} {} rows in {} files (dropped {}, lost {});",
                w.name,
                TableStats::get(&w.stats.rows),
                TableStats::get(&w.stats.files),
                if w.name == Payloads::NAME {
                    capture.over_budget()
                } else {
                    d
                },
                TableStats::get(&w.stats.lost_rows) + TableStats::get(&w.stats.open_rows),
            ));
        }
        line.push_str(&format!(
            " captured {} bytes; from an earlier crash: {} unfinished files finished ({} rows kept), {} removed ({} rows of their written row groups lost)",
            capture.bytes(),
            removed.finished,
            removed.finished_rows,
            removed.files,
            removed.rows
        ));
        line
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Option<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("pheme-parquet-{name}"))
        .spawn(f)
        .ok()
}

/// Logs a dataset's first error (the dataset stops; the node goes on).
fn report<T: Table>(r: Result<(), DatasetError>) {
    if let Err(e) = r {
        tracing::error!(target: "pheme::observe::parquet", table = T::NAME, error = %e, source = ?std::error::Error::source(&e), "dataset stopped; the node keeps running");
    }
}

/// What a writer thread is handed: a row, or the time to check its files' age.
enum Turn<R> {
    Row(R),
    Tick,
}

/// Receives rows until every sender is gone, and ticks at least every [`IDLE_WAKE`].
fn recv_loop<R>(rx: &Receiver<R>, mut turn: impl FnMut(u64, Turn<R>)) {
    let mut last_tick = 0;
    loop {
        let row = match rx.recv_timeout(IDLE_WAKE) {
            Ok(r) => Some(r),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let now = unix_now_ms();
        if let Some(r) = row {
            turn(now, Turn::Row(r));
        }
        if now.saturating_sub(last_tick) >= IDLE_WAKE.as_millis() as u64 {
            last_tick = now;
            turn(now, Turn::Tick);
        }
    }
}

fn simple_loop<T: Table, R>(mut ds: Dataset<T>, rx: Receiver<R>, map: impl Fn(R) -> T::Row) {
    recv_loop(&rx, |now, turn| match turn {
        Turn::Row(r) => report::<T>(ds.push(now, map(r))),
        Turn::Tick => report::<T>(ds.tick(now)),
    });
    report::<T>(ds.finish().map(drop));
}

fn messages_loop(
    mut msgs: Dataset<Messages>,
    mut payloads: Dataset<Payloads>,
    mut budget: CaptureBudget,
    stats: Arc<capture::CaptureStats>,
    rx: Receiver<TraceRecord>,
) {
    recv_loop(&rx, |now, turn| match turn {
        Turn::Row(mut r) => {
            if let Some(data) = r.payload.take() {
                if budget.admit(r.arrival_ms, data.len() as u64) {
                    stats.captured(data.len() as u64);
                    report::<Payloads>(payloads.push(
                        now,
                        CapturedPayload {
                            arrival_ms: r.arrival_ms,
                            message_id: r.message_id.clone(),
                            topic: r.topic.clone(),
                            source: r.source.clone(),
                            stage: r.stage,
                            verdict: r.verdict,
                            reason: r.reason,
                            data,
                        },
                    ));
                } else {
                    stats.refused();
                }
            }
            report::<Messages>(msgs.push(now, r));
        }
        Turn::Tick => {
            report::<Messages>(msgs.tick(now));
            report::<Payloads>(payloads.tick(now));
        }
    });
    report::<Messages>(msgs.finish().map(drop));
    report::<Payloads>(payloads.finish().map(drop));
}

fn peers_loop(mut ds: Dataset<Peers>, events: Receiver<PeerEvent>, scores: Receiver<PeerRow>) {
    recv_loop(&events, |now, turn| match turn {
        Turn::Row(e) => report::<Peers>(ds.push(now, PeerRow::Event(e))),
        Turn::Tick => {
            while let Ok(row) = scores.try_recv() {
                report::<Peers>(ds.push(now, row));
            }
            report::<Peers>(ds.tick(now));
        }
    });
    // The node is gone: the last snapshots.
    while let Ok(row) = scores.try_recv() {
        report::<Peers>(ds.push(unix_now_ms(), row));
    }
    report::<Peers>(ds.finish().map(drop));
}
