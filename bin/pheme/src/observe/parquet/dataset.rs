//! One table's dataset: rows go into Arrow builders, batches into the open Parquet file's row
//! groups, and each file is written under a temporary name, synced and renamed into its Hive
//! partition once closed, so a reader (or a crash) never meets half a file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use super::rotation::{Action, Policy, Rotation};

/// Rows kept in the builders before they go to the open row group as one batch.
const BATCH_ROWS: usize = 4_096;
/// What unfinished files start with (DuckDB's and Spark's globs skip dot files; the suffix
/// is not `.parquet` either).
pub const TEMP_PREFIX: &str = ".tmp-";
/// What unfinished files end with.
pub const TEMP_SUFFIX: &str = ".partial";

/// A table: its schema, the builders its rows go into, and each row's time.
pub trait Table: Send {
    /// One record.
    type Row: Send;
    /// The table's name (`table=NAME` in paths).
    const NAME: &'static str;
    /// The Arrow schema.
    fn schema(&self) -> SchemaRef;
    /// Appends a row to the builders.
    fn push(&mut self, row: Self::Row);
    /// Rows in the builders.
    fn len(&self) -> usize;
    /// The builders' rows as a batch (the builders are left empty).
    fn finish(&mut self) -> Result<RecordBatch, ArrowError>;
    /// The time that picks a row's partition, unix milliseconds.
    fn time_ms(row: &Self::Row) -> u64;
}

/// Writing a dataset failed.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A directory or file could not be created, synced or renamed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The Parquet writer failed.
    #[error("parquet file {path}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: ParquetError,
    },
    /// A batch could not be built.
    #[error("arrow batch for table {table}")]
    Arrow {
        /// The table.
        table: &'static str,
        /// What failed.
        #[source]
        source: ArrowError,
    },
}

/// A table's counters, shared with the observer's summary and metrics.
#[derive(Debug, Default)]
pub struct TableStats {
    /// Rows in closed (complete, renamed) files.
    pub rows: AtomicU64,
    /// Rows in the open file and the builders: what a crash now would lose.
    pub open_rows: AtomicU64,
    /// Complete files.
    pub files: AtomicU64,
    /// Bytes of complete files.
    pub bytes: AtomicU64,
    /// Rows lost to a write error (the dataset stops at its first error).
    pub lost_rows: AtomicU64,
}

impl TableStats {
    fn add(v: &AtomicU64, n: u64) {
        v.fetch_add(n, Ordering::Relaxed);
    }

    /// A counter's value.
    pub fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }
}

struct OpenFile {
    writer: ArrowWriter<File>,
    temp: PathBuf,
    path: PathBuf,
    /// Rows written to the writer (its row groups, flushed or not).
    rows: u64,
}

/// One table's files under `root/table=NAME/`.
pub struct Dataset<T: Table> {
    table: T,
    root: PathBuf,
    file_prefix: String,
    rotation: Rotation,
    props: WriterProperties,
    open: Option<OpenFile>,
    seq: u64,
    stats: Arc<TableStats>,
    failed: bool,
}

impl<T: Table> Dataset<T> {
    /// A dataset under `root` (the `--out-dir`, with `node=...` when asked), whose files are
    /// named `{file_prefix}-{opened ms}-{seq}.parquet`.
    pub fn new(table: T, root: &Path, file_prefix: &str, policy: Policy) -> Self {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(policy.row_group_rows))
            .build();
        Self {
            table,
            root: root.join(format!("table={}", T::NAME)),
            file_prefix: file_prefix.to_owned(),
            rotation: Rotation::new(policy),
            props,
            open: None,
            seq: 0,
            stats: Arc::default(),
            failed: false,
        }
    }

    /// The table's counters.
    pub fn stats(&self) -> Arc<TableStats> {
        self.stats.clone()
    }

    /// Adds a row at `now_ms`.
    pub fn push(&mut self, now_ms: u64, row: T::Row) -> Result<(), DatasetError> {
        if self.failed {
            TableStats::add(&self.stats.lost_rows, 1);
            return Ok(());
        }
        let row_ms = T::time_ms(&row);
        if self.rotation.before_row(row_ms) == Action::CloseFile {
            self.guard(Self::close)?;
        }
        self.table.push(row);
        TableStats::add(&self.stats.open_rows, 1);
        let bytes = self.open.as_ref().map_or(0, |o| {
            o.writer.bytes_written() as u64 + o.writer.in_progress_size() as u64
        });
        match self.rotation.row_added(now_ms, row_ms, bytes) {
            Action::None if self.table.len() >= BATCH_ROWS => self.guard(Self::write_batch),
            Action::None => Ok(()),
            Action::FlushGroup => self.guard(|d| {
                d.write_batch()?;
                d.flush_group()
            }),
            Action::CloseFile => self.guard(Self::close),
        }
    }

    /// Time passed: closes a file that is old enough or whose hour is over.
    pub fn tick(&mut self, now_ms: u64) -> Result<(), DatasetError> {
        if self.failed || self.rotation.tick(now_ms) != Action::CloseFile {
            return Ok(());
        }
        self.guard(Self::close)
    }

    /// Closes the open file (at exit).
    pub fn finish(mut self) -> Result<Arc<TableStats>, DatasetError> {
        if !self.failed {
            self.guard(Self::close)?;
        }
        Ok(self.stats)
    }

    /// Runs `f`; on an error the dataset stops (its open rows count as lost) and the error is
    /// returned once.
    fn guard(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<(), DatasetError>,
    ) -> Result<(), DatasetError> {
        let r = f(self);
        if r.is_err() {
            self.failed = true;
            let open = self.stats.open_rows.swap(0, Ordering::Relaxed);
            TableStats::add(&self.stats.lost_rows, open);
            if let Some(o) = self.open.take() {
                let _ = std::fs::remove_file(&o.temp);
            }
        }
        r
    }

    /// The builders' rows into the open file (opened in the rotation's partition if need be).
    fn write_batch(&mut self) -> Result<(), DatasetError> {
        if self.table.len() == 0 {
            return Ok(());
        }
        let batch = self.table.finish().map_err(|source| DatasetError::Arrow {
            table: T::NAME,
            source,
        })?;
        if self.open.is_none() {
            self.open = Some(self.create()?);
        }
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        open.rows += batch.num_rows() as u64;
        open.writer
            .write(&batch)
            .map_err(|source| DatasetError::Parquet {
                path: open.temp.clone(),
                source,
            })
    }

    /// Writes the open row group out, and renames the unfinished file to say how many rows
    /// its written row groups hold (what the next start counts if a crash leaves it).
    fn flush_group(&mut self) -> Result<(), DatasetError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        open.writer
            .flush()
            .map_err(|source| DatasetError::Parquet {
                path: open.temp.clone(),
                source,
            })?;
        let renamed = temp_path(&open.path, open.rows);
        std::fs::rename(&open.temp, &renamed).map_err(|source| DatasetError::Io {
            path: renamed.clone(),
            source,
        })?;
        open.temp = renamed;
        Ok(())
    }

    fn create(&mut self) -> Result<OpenFile, DatasetError> {
        let partition = self
            .rotation
            .partition()
            .unwrap_or_else(|| super::rotation::Partition::of(pheme_spec::unix_now_ms()));
        let dir = self.root.join(partition.dir());
        std::fs::create_dir_all(&dir).map_err(|source| DatasetError::Io {
            path: dir.clone(),
            source,
        })?;
        self.seq += 1;
        let name = format!(
            "{}-{}-{:04}.parquet",
            self.file_prefix,
            pheme_spec::unix_now_ms(),
            self.seq
        );
        let temp = temp_path(&dir.join(&name), 0);
        let file = File::create(&temp).map_err(|source| DatasetError::Io {
            path: temp.clone(),
            source,
        })?;
        let writer = ArrowWriter::try_new(file, self.table.schema(), Some(self.props.clone()))
            .map_err(|source| DatasetError::Parquet {
                path: temp.clone(),
                source,
            })?;
        Ok(OpenFile {
            writer,
            temp,
            path: dir.join(name),
            rows: 0,
        })
    }

    /// Writes the last row group and the footer, syncs, renames.
    fn close(&mut self) -> Result<(), DatasetError> {
        self.write_batch()?;
        self.rotation.closed();
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let parquet = |source| DatasetError::Parquet {
            path: open.temp.clone(),
            source,
        };
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| DatasetError::Io { path, source }
        };
        let file = open.writer.into_inner().map_err(parquet)?;
        file.sync_all().map_err(io(&open.temp))?;
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        drop(file);
        std::fs::rename(&open.temp, &open.path).map_err(io(&open.path))?;
        self.stats.open_rows.fetch_sub(
            open.rows.min(TableStats::get(&self.stats.open_rows)),
            Ordering::Relaxed,
        );
        TableStats::add(&self.stats.rows, open.rows);
        TableStats::add(&self.stats.files, 1);
        TableStats::add(&self.stats.bytes, bytes);
        tracing::debug!(target: "pheme::observe::parquet", table = T::NAME, path = %open.path.display(), rows = open.rows, bytes, "file complete");
        Ok(())
    }
}

/// The unfinished name of the file `path` will be, whose written row groups hold `rows`:
/// `.tmp-{name}.r{rows}.partial` beside it.
fn temp_path(path: &Path, rows: u64) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    path.with_file_name(format!("{TEMP_PREFIX}{name}.r{rows}{TEMP_SUFFIX}"))
}

/// The rows an unfinished file's name says its written row groups hold.
fn temp_rows(name: &str) -> u64 {
    name.strip_suffix(TEMP_SUFFIX)
        .and_then(|n| n.rsplit_once(".r"))
        .and_then(|(_, rows)| rows.parse().ok())
        .unwrap_or(0)
}

/// What a crash left: unfinished files, their bytes, and the rows of their written row groups
/// (the rows still in memory then are not known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unfinished {
    /// Files.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Rows in their written row groups.
    pub rows: u64,
}

/// Unfinished files left under `dir` by a crash: removes them and says what they held.
pub fn sweep_unfinished(dir: &Path) -> Unfinished {
    let mut found = Unfinished::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        let name = e.file_name().to_str().unwrap_or("").to_owned();
        if meta.is_dir() {
            let more = sweep_unfinished(&path);
            found.files += more.files;
            found.bytes += more.bytes;
            found.rows += more.rows;
        } else if name.starts_with(TEMP_PREFIX)
            && name.ends_with(TEMP_SUFFIX)
            && std::fs::remove_file(&path).is_ok()
        {
            found.files += 1;
            found.bytes += meta.len();
            found.rows += temp_rows(&name);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use parquet::file::reader::{FileReader, SerializedFileReader};
    use pheme_network::{ControlDirection, ControlEvent, ControlKind, ControlRecord};

    use super::*;
    use crate::observe::parquet::tables::Control;

    /// 2026-12-07 04:59:00 UTC.
    const T0: u64 = 1_796_619_540_000;

    fn event(at_ms: u64) -> ControlEvent {
        ControlEvent {
            at_ms,
            record: ControlRecord {
                at: std::time::Instant::now(),
                peer: pheme_network::libp2p::PeerId::random(),
                direction: ControlDirection::In,
                kind: ControlKind::IHave,
                topic: None,
                message_ids: 3,
                backoff_secs: None,
                px_peers: 0,
            },
        }
    }

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
        out.sort();
        out
    }

    #[test]
    fn files_appear_complete_in_their_partition_with_their_row_groups() {
        let dir = std::env::temp_dir().join(format!("pheme-dataset-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let policy = Policy {
            row_group_rows: 10,
            rotate_every: Duration::from_secs(30),
            max_file_bytes: 1 << 30,
        };
        let mut ds = Dataset::new(Control::default(), &dir, "node", policy);
        let stats = ds.stats();
        // 25 rows in the last minute of hour 04, one at 05:00:10 (closes the first file).
        for i in 0..25 {
            ds.push(T0 + i, event(T0 + i * 1_000)).unwrap();
        }
        let open = files(&dir);
        assert_eq!(open.len(), 1);
        let name = open[0].file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX),
            "{name}"
        );
        assert_eq!(temp_rows(name), 20, "two row groups written: {name}");
        assert_eq!(TableStats::get(&stats.open_rows), 25);
        ds.push(T0 + 70_000, event(T0 + 70_000)).unwrap();
        // 30 s later the second file is closed by the tick.
        ds.tick(T0 + 100_000).unwrap();
        let done = files(&dir);
        let rel: Vec<String> = done
            .iter()
            .map(|p| {
                p.strip_prefix(&dir)
                    .unwrap()
                    .parent()
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(
            rel,
            [
                "table=control/date=2026-12-07/hour=04",
                "table=control/date=2026-12-07/hour=05"
            ]
        );
        let first = SerializedFileReader::new(File::open(&done[0]).unwrap()).unwrap();
        let meta = first.metadata();
        assert_eq!(meta.file_metadata().num_rows(), 25);
        assert_eq!(meta.num_row_groups(), 3, "10 + 10 + 5 rows");
        assert_eq!(TableStats::get(&stats.rows), 26);
        assert_eq!(TableStats::get(&stats.files), 2);
        assert_eq!(TableStats::get(&stats.open_rows), 0);
        // What a crash leaves is swept at the next start.
        std::fs::write(done[0].with_file_name(".tmp-x.parquet.r0.partial"), b"PAR1").unwrap();
        std::fs::write(
            done[1].with_file_name(".tmp-y.parquet.r20.partial"),
            b"PAR1x",
        )
        .unwrap();
        let swept = sweep_unfinished(&dir);
        assert_eq!((swept.files, swept.bytes, swept.rows), (2, 9, 20));
        assert_eq!(files(&dir).len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
