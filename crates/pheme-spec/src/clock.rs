//! Millisecond-precision slot clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Slot;

/// Maps wall-clock time to slots with millisecond precision.
///
/// ```
/// use pheme_spec::SlotClock;
/// let clock = SlotClock::new(1_000, 12_000);
/// assert_eq!(clock.slot_at_ms(1_000_000 + 24_500), Some(2));
/// assert_eq!(clock.slot_at_ms(999_999), None); // before genesis
/// assert_eq!(clock.slot_start_ms(2), 1_024_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotClock {
    genesis_ms: u64,
    slot_duration_ms: u64,
}

impl SlotClock {
    /// A clock for a chain whose genesis is `genesis_time` (unix seconds). `slot_duration_ms` must
    /// not be 0 ([`crate::ChainSpec::validate`] guarantees it for a loaded chain); a zero
    /// duration is treated as 1 ms.
    pub fn new(genesis_time: u64, slot_duration_ms: u64) -> Self {
        Self {
            genesis_ms: genesis_time.saturating_mul(1000),
            slot_duration_ms: slot_duration_ms.max(1),
        }
    }

    /// Slot duration.
    pub fn slot_duration(&self) -> Duration {
        Duration::from_millis(self.slot_duration_ms)
    }

    /// The slot at unix time `now_ms`, or `None` before genesis.
    pub fn slot_at_ms(&self, now_ms: u64) -> Option<Slot> {
        now_ms
            .checked_sub(self.genesis_ms)
            .map(|since| since / self.slot_duration_ms)
    }

    /// Unix time (ms) at which `slot` starts (saturating).
    pub fn slot_start_ms(&self, slot: Slot) -> u64 {
        self.genesis_ms
            .saturating_add(slot.saturating_mul(self.slot_duration_ms))
    }

    /// Milliseconds into the current slot at `now_ms` (`None` before genesis).
    pub fn ms_into_slot(&self, now_ms: u64) -> Option<u64> {
        now_ms
            .checked_sub(self.genesis_ms)
            .map(|since| since % self.slot_duration_ms)
    }

    /// Milliseconds until the next slot starts (until genesis, before it).
    pub fn ms_until_next_slot(&self, now_ms: u64) -> u64 {
        match self.ms_into_slot(now_ms) {
            Some(into) => self.slot_duration_ms - into,
            None => self.genesis_ms - now_ms,
        }
    }

    /// The slot now by the system clock; slot 0 before genesis.
    pub fn now(&self) -> Slot {
        self.slot_at_ms(unix_now_ms()).unwrap_or(0)
    }
}

/// The system clock in unix milliseconds (0 if the clock is before 1970).
pub fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
