//! One table's dataset: rows go into Arrow builders, batches into the open Parquet file's row
//! groups, and each file is written under a temporary name, synced and renamed into its Hive
//! partition once closed, so a reader (or a crash) never meets half a file.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::metadata::{
    FileMetaData, ParquetMetaData, ParquetMetaDataWriter, RowGroupMetaData,
};
use parquet::file::properties::WriterProperties;

use super::rotation::{Action, Policy, Rotation};

/// Rows kept in the builders before they go to the open row group as one batch.
const BATCH_ROWS: usize = 4_096;
/// What unfinished files start with (DuckDB's and Spark's globs skip dot files; the suffix
/// is not `.parquet` either).
pub const TEMP_PREFIX: &str = ".tmp-";
/// What unfinished files end with.
pub const TEMP_SUFFIX: &str = ".partial";
/// What the footer beside an unfinished file ends with (`.tmp-{name}.footer`): the Parquet
/// footer its written row groups need, rewritten after each one, so the next start finishes
/// the file instead of losing them.
pub const FOOTER_SUFFIX: &str = ".footer";

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
                let _ = std::fs::remove_file(footer_path(&o.path));
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
        let parquet = |source| DatasetError::Parquet {
            path: open.temp.clone(),
            source,
        };
        open.writer.flush().map_err(parquet)?;
        open.writer.sync().map_err(|source| DatasetError::Io {
            path: open.temp.clone(),
            source,
        })?;
        let footer = footer_sidecar(
            open.writer.flushed_row_groups(),
            open.writer.bytes_written(),
        )
        .map_err(parquet)?;
        write_replacing(&footer_path(&open.path), &footer)?;
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
        let _ = std::fs::remove_file(footer_path(&open.path));
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

/// `.tmp-{name}.footer` beside the unfinished file whose final path is `path`.
fn footer_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    path.with_file_name(format!("{TEMP_PREFIX}{name}{FOOTER_SUFFIX}"))
}

/// The sidecar for an unfinished file whose written row groups are `groups`, ending at byte
/// `end`: `end` and the groups' rows (little-endian u64 each), then the Parquet footer (file
/// metadata, its length, `PAR1`) that makes the file's first `end` bytes a complete file.
fn footer_sidecar(groups: &[RowGroupMetaData], end: usize) -> Result<Vec<u8>, ParquetError> {
    let Some(first) = groups.first() else {
        return Ok(Vec::new());
    };
    let rows: i64 = groups.iter().map(RowGroupMetaData::num_rows).sum();
    let file = FileMetaData::new(
        1,
        rows,
        Some(format!("pheme {}", env!("CARGO_PKG_VERSION"))),
        None,
        first.schema_descr_ptr(),
        None,
    );
    let metadata = ParquetMetaData::new(file, groups.to_vec());
    let mut out = Vec::with_capacity(4_096);
    out.extend_from_slice(&(end as u64).to_le_bytes());
    out.extend_from_slice(&(rows as u64).to_le_bytes());
    ParquetMetaDataWriter::new(&mut out, &metadata).finish()?;
    Ok(out)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash leaves the old
/// content or the new, never half of it.
fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DatasetError::Io { path, source }
    };
    let mut new = path.as_os_str().to_owned();
    new.push(".new");
    let new = PathBuf::from(new);
    let mut file = File::create(&new).map_err(io(&new))?;
    file.write_all(bytes).map_err(io(&new))?;
    file.sync_all().map_err(io(&new))?;
    std::fs::rename(&new, path).map_err(io(path))
}

/// Finishes the unfinished file `partial` with the sidecar `footer`: cuts it after its last
/// written row group, appends the footer and renames it to `dest`. Returns its rows.
fn finish_unfinished(partial: &Path, footer: &Path, dest: &Path) -> std::io::Result<u64> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not a Pheme footer");
    let side = std::fs::read(footer)?;
    if side.len() < 24 || !side.ends_with(b"PAR1") {
        return Err(bad());
    }
    let word = |i: usize| {
        side.get(i..i + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes)
    };
    let (Some(end), Some(rows)) = (word(0), word(8)) else {
        return Err(bad());
    };
    let mut file = std::fs::OpenOptions::new().write(true).open(partial)?;
    if file.metadata()?.len() < end {
        return Err(bad());
    }
    file.set_len(end)?;
    file.seek(SeekFrom::End(0))?;
    file.write_all(&side[16..])?;
    file.sync_all()?;
    std::fs::rename(partial, dest)?;
    std::fs::remove_file(footer)?;
    Ok(rows)
}

/// What a crash left: unfinished files finished with their footers (their written row
/// groups kept), and unfinished files removed with the rows of their written row groups (the
/// rows still in memory then are not known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unfinished {
    /// Files removed.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Rows in their written row groups.
    pub rows: u64,
    /// Files finished from their footers and renamed.
    pub finished: u64,
    /// Their rows.
    pub finished_rows: u64,
}

/// Unfinished files left under `dir` by a crash: finishes those whose written row groups have
/// a footer beside them, removes the rest, and says what they held.
pub fn sweep_unfinished(dir: &Path) -> Unfinished {
    let mut found = Unfinished::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    let mut leftovers = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        let name = e.file_name().to_str().unwrap_or("").to_owned();
        if meta.is_dir() {
            let more = sweep_unfinished(&path);
            found.files += more.files;
            found.bytes += more.bytes;
            found.rows += more.rows;
            found.finished += more.finished;
            found.finished_rows += more.finished_rows;
        } else if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) {
            let dest = name
                .strip_prefix(TEMP_PREFIX)
                .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
                .and_then(|n| n.rsplit_once(".r"))
                .map(|(n, _)| path.with_file_name(n));
            let finished = dest.and_then(|d| finish_unfinished(&path, &footer_path(&d), &d).ok());
            if let Some(rows) = finished {
                found.finished += 1;
                found.finished_rows += rows;
            } else if std::fs::remove_file(&path).is_ok() {
                found.files += 1;
                found.bytes += meta.len();
                found.rows += temp_rows(&name);
            }
        } else if name.starts_with(TEMP_PREFIX) {
            leftovers.push(path);
        }
    }
    // Footers of files finished above are gone; the rest belong to no file.
    for path in leftovers {
        let _ = std::fs::remove_file(path);
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
        // The unfinished file, and the footer its two written row groups need.
        let (footers, open): (Vec<PathBuf>, Vec<PathBuf>) = files(&dir)
            .into_iter()
            .partition(|p| p.to_str().unwrap().ends_with(FOOTER_SUFFIX));
        assert_eq!((open.len(), footers.len()), (1, 1));
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

    #[test]
    fn a_crash_loses_only_the_open_row_group() {
        let dir = std::env::temp_dir().join(format!("pheme-crash-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let policy = Policy {
            row_group_rows: 10,
            rotate_every: Duration::from_secs(60),
            max_file_bytes: 1 << 30,
        };
        let mut ds = Dataset::new(Control::default(), &dir, "node", policy);
        for i in 0..27 {
            ds.push(T0 + i, event(T0 + i * 100)).unwrap();
        }
        // Two row groups written, 7 rows in memory: the process dies here.
        std::mem::forget(ds);
        let left: Vec<String> = files(&dir)
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert!(left.iter().all(|n| n.starts_with(TEMP_PREFIX)), "{left:?}");
        assert!(left.iter().any(|n| n.ends_with(FOOTER_SUFFIX)), "{left:?}");
        let swept = sweep_unfinished(&dir);
        assert_eq!(
            (swept.finished, swept.finished_rows, swept.files),
            (1, 20, 0)
        );
        let done = files(&dir);
        assert_eq!(done.len(), 1, "{done:?}");
        assert!(done[0].extension().is_some_and(|e| e == "parquet"));
        let reader = SerializedFileReader::new(File::open(&done[0]).unwrap()).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 2);
        assert_eq!(reader.metadata().file_metadata().num_rows(), 20);
        let rows = reader.get_row_iter(None).unwrap().count();
        assert_eq!(rows, 20);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
