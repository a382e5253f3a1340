//! `--capture`'s byte budget: captured wire data per UTC hour, so that a flood of large
//! invalid messages cannot fill the disk. What is over the budget is counted and not kept
//! (its `messages` row is still written).

use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of captured data per hour by default: mainnet's blocks (~300 an hour, ~100 KB each
/// compressed) and every rejected message of a normal hour fit many times; capturing every
/// accepted attestation does not (~5 GB an hour) and needs a budget of its own.
pub const DEFAULT_CAPTURE_BUDGET: u64 = 256 << 20;

/// The budget of the current hour.
#[derive(Debug, Clone)]
pub struct CaptureBudget {
    budget: u64,
    hour: u64,
    used: u64,
}

impl CaptureBudget {
    /// `budget` bytes per hour.
    pub fn new(budget: u64) -> Self {
        Self {
            budget,
            hour: 0,
            used: 0,
        }
    }

    /// Whether `len` more bytes of a message that arrived at `at_ms` fit this hour's budget
    /// (and takes them if so).
    pub fn admit(&mut self, at_ms: u64, len: u64) -> bool {
        let hour = at_ms / 3_600_000;
        if hour > self.hour {
            self.hour = hour;
            self.used = 0;
        }
        if self.used.saturating_add(len) > self.budget {
            return false;
        }
        self.used += len;
        true
    }
}

/// What capture kept and refused.
#[derive(Debug, Default)]
pub struct CaptureStats {
    bytes: AtomicU64,
    over_budget: AtomicU64,
}

impl CaptureStats {
    pub(super) fn captured(&self, len: u64) {
        self.bytes.fetch_add(len, Ordering::Relaxed);
    }

    pub(super) fn refused(&self) {
        self.over_budget.fetch_add(1, Ordering::Relaxed);
    }

    /// Bytes captured.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Payloads not kept because the hour's budget was spent.
    pub fn over_budget(&self) -> u64 {
        self.over_budget.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_per_hour() {
        let h = 3_600_000;
        let mut b = CaptureBudget::new(100);
        assert!(b.admit(10 * h, 60));
        assert!(!b.admit(10 * h + 1, 41), "over the hour's budget");
        assert!(b.admit(10 * h + 2, 40), "a smaller one still fits");
        assert!(!b.admit(11 * h - 1, 1));
        // A new hour, a new budget; a late message of the old hour counts in the new one.
        assert!(b.admit(11 * h, 100));
        assert!(!b.admit(10 * h, 1));
        assert!(!b.admit(11 * h, 101 - 100 + 100));
    }
}
