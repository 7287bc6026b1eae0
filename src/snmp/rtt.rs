//! Round-trip times of one client's SNMP exchanges, counted into fixed
//! buckets (what the Prometheus histogram
//! `ups2mqtt_snmp_request_duration_seconds` shows).
//!
//! This module owns the bucket bounds: from 1 ms (a card on the same
//! switch answers a GET in a few) to 5 s (the longest `timeout_ms` worth
//! waiting for). A fixed array, no allocation: a client records every
//! reply it accepts.

use std::time::Duration;

/// The upper bounds of the buckets, in microseconds (`le` of the metric;
/// `+Inf` is [`RttHistogram::count`]).
pub const BOUNDS_MICROS: [u64; 12] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000,
];

/// Counts of round-trip times by bucket, their sum and their number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RttHistogram {
    /// Round trips at or under each bound and over the one before (not
    /// cumulative; [`RttHistogram::cumulative`] adds them up).
    within: [u64; BOUNDS_MICROS.len()],
    count: u64,
    sum_micros: u64,
}

impl RttHistogram {
    /// Counts one round trip.
    pub fn record(&mut self, rtt: Duration) {
        let micros = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX);
        if let Some(at) = BOUNDS_MICROS.iter().position(|&bound| micros <= bound) {
            self.within[at] += 1;
        }
        self.count += 1;
        self.sum_micros = self.sum_micros.saturating_add(micros);
    }

    /// Round trips counted, of any duration.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The sum of every round trip counted, in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_micros as f64 / 1e6
    }

    /// Each bound in seconds with the round trips at or under it.
    pub fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        BOUNDS_MICROS
            .iter()
            .zip(&self.within)
            .scan(0, |total, (&bound, &n)| {
                *total += n;
                Some((bound as f64 / 1e6, *total))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_land_in_their_bucket_and_add_up() {
        let mut histogram = RttHistogram::default();
        for ms in [0.4, 1.0, 1.2, 30.0, 4_000.0, 9_000.0] {
            histogram.record(Duration::from_secs_f64(ms / 1000.0));
        }
        let buckets: Vec<(f64, u64)> = histogram.cumulative().collect();
        assert_eq!(buckets.len(), BOUNDS_MICROS.len());
        assert_eq!(buckets[0], (0.001, 2), "1 ms is at or under 1 ms");
        assert_eq!(buckets[1], (0.0025, 3));
        assert_eq!(buckets[4], (0.025, 3));
        assert_eq!(buckets[5], (0.05, 4));
        assert_eq!(buckets[11], (5.0, 5), "9 s only in +Inf");
        assert_eq!(histogram.count(), 6);
        assert!((histogram.sum_seconds() - 13.0326).abs() < 1e-9);
    }
}
