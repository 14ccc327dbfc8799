//! The last hour of activity for the dashboard's charts: the engine's totals and live counts,
//! sampled at a fixed interval and kept in memory (a restart starts a new hour).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use smb_core::EngineHandle;

use crate::model::overview::ActivityPoint;

/// How often the engine is sampled.
pub const INTERVAL: Duration = Duration::from_secs(15);
/// Samples kept: one hour.
const KEPT: usize = 3600 / 15 + 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sample {
    at: i64,
    read: u64,
    written: u64,
    sessions: u64,
    connections: u64,
}

#[derive(Debug, Default)]
pub struct History {
    samples: Mutex<VecDeque<Sample>>,
}

impl History {
    fn push(&self, sample: Sample) {
        let mut samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        if samples.len() == KEPT {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    pub fn record(&self, engine: &EngineHandle, at: i64) {
        let counters = engine.counters();
        let (tcp, quic) = engine.connection_counts();
        self.push(Sample {
            at,
            read: counters.bytes_read,
            written: counters.bytes_written,
            sessions: engine.sessions().len() as u64,
            connections: (tcp + quic) as u64,
        });
    }

    /// One point per interval: bytes per second read and written during it, and the sessions
    /// and connections open at its end.
    pub fn points(&self) -> Vec<ActivityPoint> {
        let samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        samples
            .iter()
            .zip(samples.iter().skip(1))
            .map(|(before, after)| {
                let seconds = (after.at - before.at).max(1) as u64;
                ActivityPoint {
                    at: after.at,
                    read_per_second: after.read.saturating_sub(before.read) / seconds,
                    written_per_second: after.written.saturating_sub(before.written) / seconds,
                    sessions: after.sessions,
                    connections: after.connections,
                }
            })
            .collect()
    }
}

/// Samples `engine` into `history` every [`INTERVAL`] until the history is dropped.
pub fn spawn_sampler(history: &Arc<History>, engine: EngineHandle) {
    let history: Weak<History> = Arc::downgrade(history);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        loop {
            ticks.tick().await;
            let Some(history) = history.upgrade() else { return };
            history.record(&engine, crate::backend::now());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: i64, read: u64, sessions: u64) -> Sample {
        Sample { at, read, written: 0, sessions, connections: sessions }
    }

    #[test]
    fn points_are_rates_between_samples_and_an_hour_is_kept() {
        let history = History::default();
        history.push(sample(0, 0, 0));
        history.push(sample(15, 15_000, 2));
        history.push(sample(30, 15_000, 1));
        let points = history.points();
        assert_eq!(points.len(), 2);
        assert_eq!((points[0].read_per_second, points[0].sessions), (1_000, 2));
        assert_eq!((points[1].read_per_second, points[1].sessions), (0, 1));
        for i in 0..1000 {
            history.push(sample(45 + i * 15, 15_000, 0));
        }
        assert_eq!(history.points().len(), KEPT - 1);
    }
}
