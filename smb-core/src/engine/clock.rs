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

    /// The wall clock as a FILETIME (MS-DTYP 2.3.3): 100 ns units since 1601.
    pub fn filetime(self) -> u64 {
        let since_epoch = self.system.duration_since(UNIX_EPOCH).unwrap_or_default();
        crate::proto::fscc::filetime(since_epoch.as_secs() as i64, since_epoch.subsec_nanos())
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
