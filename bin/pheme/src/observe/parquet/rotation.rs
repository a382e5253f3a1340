//! When a dataset's open file takes a new row group or closes, and where its files go: a
//! state machine fed with times (unix milliseconds), no clock and no IO of its own, so that
//! its decisions are tested in virtual time.

use std::path::PathBuf;
use std::time::Duration;

/// Rows in a row group before it is written out (a Parquet reader's unit of work: 64 Ki rows
/// of messages are about 6 MB before compression).
pub const DEFAULT_ROW_GROUP_ROWS: usize = 65_536;
/// A file is closed (and renamed to its final name) at the latest this long after it was
/// opened (a crash loses at most its open row group: see `dataset::sweep_unfinished`).
pub const DEFAULT_ROTATE_EVERY: Duration = Duration::from_secs(60);
/// A file is closed once this many bytes are written to it.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 << 20;

/// When files and row groups end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Rows per row group.
    pub row_group_rows: usize,
    /// Longest life of an open file.
    pub rotate_every: Duration,
    /// Bytes at which an open file is closed.
    pub max_file_bytes: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            rotate_every: DEFAULT_ROTATE_EVERY,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// A Hive partition: the UTC date and hour of a file's first row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Partition {
    /// Days since 1970-01-01.
    pub day: i64,
    /// 0 to 23.
    pub hour: u8,
}

impl Partition {
    /// The partition of a time in unix milliseconds.
    pub fn of(ms: u64) -> Self {
        let hours = ms / 3_600_000;
        Self {
            day: (hours / 24) as i64,
            hour: (hours % 24) as u8,
        }
    }

    /// `date=YYYY-MM-DD/hour=HH`.
    pub fn dir(&self) -> PathBuf {
        let (y, m, d) = civil_from_days(self.day);
        PathBuf::from(format!("date={y:04}-{m:02}-{d:02}")).join(format!("hour={:02}", self.hour))
    }
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01), Howard Hinnant's
/// `civil_from_days`.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// What the dataset has to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Write out the open row group.
    FlushGroup,
    /// Close the open file (its last row group with it) and rename it.
    CloseFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OpenFile {
    opened_ms: u64,
    partition: Partition,
    group_rows: usize,
}

/// The open file's state.
#[derive(Debug, Clone)]
pub struct Rotation {
    policy: Policy,
    open: Option<OpenFile>,
}

impl Rotation {
    /// No file open yet.
    pub fn new(policy: Policy) -> Self {
        Self { policy, open: None }
    }

    /// The open file's partition.
    pub fn partition(&self) -> Option<Partition> {
        self.open.map(|o| o.partition)
    }

    /// Before a row timed `row_ms` is added at `now_ms`: close the open file first when the
    /// row belongs to a later hour (rows of an earlier hour, late verdicts, stay in the open
    /// file).
    pub fn before_row(&self, row_ms: u64) -> Action {
        match self.open {
            Some(o) if Partition::of(row_ms) > o.partition => Action::CloseFile,
            _ => Action::None,
        }
    }

    /// A row was added at `now_ms` (opening a file for `row_ms`'s partition when none is
    /// open); `file_bytes` is what the open file holds so far, written and buffered.
    pub fn row_added(&mut self, now_ms: u64, row_ms: u64, file_bytes: u64) -> Action {
        let open = self.open.get_or_insert(OpenFile {
            opened_ms: now_ms,
            partition: Partition::of(row_ms),
            group_rows: 0,
        });
        open.group_rows += 1;
        if file_bytes >= self.policy.max_file_bytes {
            return Action::CloseFile;
        }
        if open.group_rows >= self.policy.row_group_rows {
            open.group_rows = 0;
            return Action::FlushGroup;
        }
        Action::None
    }

    /// Time passed: close a file open for `rotate_every`, or one whose hour is over.
    pub fn tick(&self, now_ms: u64) -> Action {
        match self.open {
            Some(o)
                if now_ms.saturating_sub(o.opened_ms)
                    >= self.policy.rotate_every.as_millis() as u64
                    || Partition::of(now_ms) > o.partition =>
            {
                Action::CloseFile
            }
            _ => Action::None,
        }
    }

    /// The open file was closed.
    pub fn closed(&mut self) {
        self.open = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600_000;
    /// 2026-12-07 04:00:00 UTC.
    const T0: u64 = 1_796_616_000_000;

    fn policy() -> Policy {
        Policy {
            row_group_rows: 3,
            rotate_every: Duration::from_secs(60),
            max_file_bytes: 1_000,
        }
    }

    #[test]
    fn partitions_are_utc_date_and_hour() {
        assert_eq!(
            Partition::of(T0).dir(),
            PathBuf::from("date=2026-12-07/hour=04")
        );
        assert_eq!(
            Partition::of(T0 + 20 * HOUR - 1).dir(),
            PathBuf::from("date=2026-12-07/hour=23")
        );
        assert_eq!(
            Partition::of(T0 + 20 * HOUR).dir(),
            PathBuf::from("date=2026-12-08/hour=00")
        );
        assert_eq!(
            Partition::of(0).dir(),
            PathBuf::from("date=1970-01-01/hour=00")
        );
        // A leap day.
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn row_groups_end_at_their_row_count() {
        let mut r = Rotation::new(policy());
        let actions: Vec<Action> = (0..7).map(|i| r.row_added(T0 + i, T0 + i, 10)).collect();
        use Action::*;
        assert_eq!(
            actions,
            [None, None, FlushGroup, None, None, FlushGroup, None]
        );
    }

    #[test]
    fn files_close_by_age_size_and_hour() {
        let mut r = Rotation::new(policy());
        assert_eq!(r.tick(T0), Action::None, "no file open");
        r.row_added(T0, T0, 10);
        assert_eq!(r.tick(T0 + 59_999), Action::None);
        assert_eq!(r.tick(T0 + 60_000), Action::CloseFile);
        r.closed();
        // Size.
        r.row_added(T0 + 61_000, T0 + 61_000, 999);
        assert_eq!(
            r.row_added(T0 + 61_001, T0 + 61_001, 1_000),
            Action::CloseFile
        );
        r.closed();
        // The hour turns: a row of the next hour closes the file first; a late row does not.
        let late = T0 + HOUR - 10;
        r.row_added(late, late, 10);
        assert_eq!(r.partition(), Some(Partition::of(late)));
        assert_eq!(r.before_row(late - 5_000), Action::None);
        assert_eq!(r.before_row(T0 + HOUR), Action::CloseFile);
        // And with no row at all, the tick closes it at the hour.
        assert_eq!(r.tick(T0 + HOUR), Action::CloseFile);
        r.closed();
        r.row_added(T0 + HOUR, T0 + HOUR, 10);
        assert_eq!(r.partition(), Some(Partition::of(T0 + HOUR)));
    }
}
