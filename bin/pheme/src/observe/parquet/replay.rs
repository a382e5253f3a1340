//! Finding a captured message again: `pheme decode --capture DIR --message-id ID` reads the
//! `payloads` files under DIR with the Parquet crate's Arrow reader.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMillisecondType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::errors::ParquetError;

/// A captured first copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Arrival, unix milliseconds.
    pub arrival_ms: u64,
    /// The topic string.
    pub topic: String,
    /// The first copy's sender.
    pub source: String,
    /// Where the observer judged it.
    pub stage: String,
    /// The observer's verdict.
    pub verdict: String,
    /// The observer's reason.
    pub reason: String,
    /// The data as it came on the wire.
    pub data: Vec<u8>,
}

/// A captured message could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// A directory or file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a `payloads` Parquet file.
    #[error("{}: not a payloads file", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: ParquetError,
    },
    /// A column is missing or has another type.
    #[error("{}: no column {column} of the payloads schema", path.display())]
    Schema {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
    },
    /// No captured message has the id.
    #[error("no captured message {id} under {}", dir.display())]
    NotFound {
        /// The id asked for.
        id: String,
        /// Where it was looked for.
        dir: PathBuf,
    },
}

/// Parquet files under `path` (itself when it is a file), skipping unfinished ones and, in an
/// observer's root, every table but `payloads`.
fn files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), CaptureError> {
    let meta = std::fs::metadata(path).map_err(|source| CaptureError::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|source| CaptureError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || (name.starts_with("table=") && name != "table=payloads") {
            continue;
        }
        if p.is_dir() {
            files(&p, out)?;
        } else if name.ends_with(".parquet") {
            out.push(p);
        }
    }
    Ok(())
}

/// The captured message `id` (hex, 0x optional) in the payloads files under `dir`.
pub fn find_captured(dir: &Path, id: &str) -> Result<Captured, CaptureError> {
    let want = id.trim_start_matches("0x").to_ascii_lowercase();
    let mut paths = Vec::new();
    files(dir, &mut paths)?;
    for path in paths {
        if let Some(c) = find_in(&path, &want)? {
            return Ok(c);
        }
    }
    Err(CaptureError::NotFound {
        id: id.to_owned(),
        dir: dir.to_owned(),
    })
}

fn find_in(path: &Path, want: &str) -> Result<Option<Captured>, CaptureError> {
    let file = File::open(path).map_err(|source| CaptureError::Io {
        path: path.to_owned(),
        source,
    })?;
    let parquet = |source| CaptureError::Parquet {
        path: path.to_owned(),
        source,
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet)?
        .build()
        .map_err(parquet)?;
    for batch in reader {
        let batch = batch.map_err(|e| parquet(ParquetError::ArrowError(e.to_string())))?;
        let column = |name: &'static str| {
            batch.column_by_name(name).ok_or(CaptureError::Schema {
                path: path.to_owned(),
                column: name,
            })
        };
        let text = |name: &'static str| {
            column(name)?
                .as_string_opt::<i32>()
                .ok_or(CaptureError::Schema {
                    path: path.to_owned(),
                    column: name,
                })
        };
        let ids = text("message_id")?;
        let Some(row) = (0..batch.num_rows()).find(|&i| ids.is_valid(i) && ids.value(i) == want)
        else {
            continue;
        };
        let arrival = column("arrival_time")?
            .as_primitive_opt::<TimestampMillisecondType>()
            .ok_or(CaptureError::Schema {
                path: path.to_owned(),
                column: "arrival_time",
            })?;
        let data = column("data")?
            .as_binary_opt::<i32>()
            .ok_or(CaptureError::Schema {
                path: path.to_owned(),
                column: "data",
            })?;
        return Ok(Some(Captured {
            arrival_ms: u64::try_from(arrival.value(row)).unwrap_or(0),
            topic: text("topic")?.value(row).to_owned(),
            source: text("source")?.value(row).to_owned(),
            stage: text("stage")?.value(row).to_owned(),
            verdict: text("verdict")?.value(row).to_owned(),
            reason: text("reason")?.value(row).to_owned(),
            data: data.value(row).to_vec(),
        }));
    }
    Ok(None)
}
