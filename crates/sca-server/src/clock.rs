//! The server's one source of time. Every timeout, expiry, step window and lockout reads it, so
//! tests drive time with a [`ManualClock`] instead of sleeping.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in seconds.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;

    /// Moves the clock `seconds` forward, if it can be moved: whether it was.
    fn move_forward(&self, seconds: u64) -> bool {
        let _ = seconds;
        false
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    }
}

/// The system clock, moved forward by what a sandbox was told (`POST /dev/clock`): how a browser
/// test sees a date come, on a real server.
#[derive(Debug, Default)]
pub struct ShiftedClock(AtomicU64);

impl Clock for ShiftedClock {
    fn now(&self) -> u64 {
        SystemClock.now().saturating_add(self.0.load(Ordering::SeqCst))
    }

    fn move_forward(&self, seconds: u64) -> bool {
        self.0.fetch_add(seconds, Ordering::SeqCst);
        true
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// Starts at `unix_seconds`.
    pub fn new(unix_seconds: u64) -> Self {
        Self(AtomicU64::new(unix_seconds))
    }

    /// Moves the clock forward.
    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the time.
    pub fn set(&self, unix_seconds: u64) {
        self.0.store(unix_seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn move_forward(&self, seconds: u64) -> bool {
        self.advance(seconds);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(100);
        assert_eq!(clock.now(), 100);
        clock.advance(301);
        assert_eq!(clock.now(), 401);
        clock.set(5);
        assert_eq!(clock.now(), 5);
        assert!(SystemClock.now() > 1_700_000_000);
    }
}
