//! The moment the caller hands the engine with each message or wake-up: the monotonic clock
//! (deadlines, timers, idle times) and the wall clock (timestamps on the wire). The engine reads
//! neither clock itself, so that a test can drive it on virtual time.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    pub instant: Instant,
    pub system: SystemTime,
}

impl Now {
    /// The real clocks, as a transport reads them.
    pub fn read() -> Now {
        Now { instant: Instant::now(), system: SystemTime::now() }
    }

    /// `by` later, on both clocks.
    pub fn later(self, by: Duration) -> Now {
        Now { instant: self.instant + by, system: self.system + by }
    }

    /// The wall clock as Unix seconds and microseconds (Kerberos times, RFC 4120 5.2.3).
    pub fn unix(self) -> (i64, u32) {
        unix(self.system)
    }

    /// The wall clock as a FILETIME (MS-DTYP 2.3.3): 100 ns units since 1601.
    pub fn filetime(self) -> u64 {
        let since_epoch = self.system.duration_since(UNIX_EPOCH).unwrap_or_default();
        crate::proto::fscc::filetime(since_epoch.as_secs() as i64, since_epoch.subsec_nanos())
    }
}

/// A wall-clock time as Unix seconds and microseconds, rounded down also before 1970 (1.5 s
/// before is second -2 and 500,000 microseconds) and saturating.
pub fn unix(time: SystemTime) -> (i64, u32) {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => (i64::try_from(since.as_secs()).unwrap_or(i64::MAX), since.subsec_micros()),
        Err(before) => {
            let before = before.duration();
            let seconds = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            match before.subsec_nanos() {
                0 => (-seconds, 0),
                nanos => (-seconds - 1, (1_000_000_000 - nanos) / 1_000),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_moves_both_clocks_and_the_filetime_by_the_same_amount() {
        let now = Now::read();
        let then = now.later(Duration::from_secs(35));
        assert_eq!(then.instant - now.instant, Duration::from_secs(35));
        assert_eq!(then.filetime() - now.filetime(), 35 * 10_000_000);
    }
}
