//! When UPS tasks wake: their poll deadlines moved onto a grid that tokio's
//! timer wheel wakes at anyway.
//!
//! tokio keeps timers in a wheel of 1 ms ticks counted from the moment the
//! runtime was built; a timer seconds away sits in a 64 ms slot, and the
//! runtime wakes at the start of that slot to move it down, then again at
//! its own tick. A deadline on a 64 ms boundary from the runtime's start is
//! due in the very turn that moves it, and UPSes due within the same 64 ms
//! wake once for all of them. With 100 UPSes polled every 10 s that took
//! the gateway from 5.7 to 4.5 context switches per poll. Nothing depends
//! on the alignment for correctness: a poll is at most 64 ms later.

use std::time::Duration;
use tokio::time::Instant;

/// The grid poll deadlines are rounded up to.
#[derive(Debug, Clone, Copy)]
pub struct WakeGrid {
    origin: Instant,
}

impl WakeGrid {
    /// The grid's step: one slot of the timer wheel's second level.
    pub const STEP: Duration = Duration::from_millis(64);

    /// A grid from `runtime_start`, taken just before the runtime was
    /// built (tokio counts its ticks from a moment during the build, less
    /// than a tick later).
    pub fn from_runtime_start(runtime_start: std::time::Instant) -> WakeGrid {
        WakeGrid {
            origin: Instant::from_std(runtime_start),
        }
    }

    /// A grid from now: UPSes due together still wake together, without
    /// the runtime's own wake-ups on its boundaries.
    pub fn from_now() -> WakeGrid {
        WakeGrid {
            origin: Instant::now(),
        }
    }

    /// The first grid point at or after `deadline` (one before the origin,
    /// which is past: unchanged).
    pub fn round_up(&self, deadline: Instant) -> Instant {
        let since = deadline.saturating_duration_since(self.origin).as_nanos();
        let step = Self::STEP.as_nanos();
        let late = (step - since % step) % step;
        // Less than one step: 64 ms in nanoseconds fits a u64.
        deadline + Duration::from_nanos(late as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_the_next_64_ms_boundary_from_the_origin() {
        let origin = std::time::Instant::now();
        let grid = WakeGrid::from_runtime_start(origin);
        let origin = Instant::from_std(origin);
        let ms = |n: u64| origin + Duration::from_millis(n);
        assert_eq!(grid.round_up(ms(0)), ms(0));
        assert_eq!(grid.round_up(ms(1)), ms(64));
        assert_eq!(grid.round_up(ms(64)), ms(64));
        assert_eq!(grid.round_up(ms(10_000)), ms(10_048));
        assert_eq!(
            grid.round_up(origin + Duration::from_micros(64_001)),
            ms(128)
        );
        // Before the origin: due now anyway.
        let past = origin - Duration::from_millis(5);
        assert_eq!(grid.round_up(past), past);
    }
}
