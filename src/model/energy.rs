//! Output energy for Home Assistant's Energy dashboard, where the card has
//! no energy counter of its own.
//!
//! This module owns the rule (the card's `output.energy` counter wins; else
//! output real power integrated between polls) and the integration itself:
//! a trapezoid of output real power (`output.power`, else the sum of
//! `output.lines.power`) between consecutive polls, not bridged across a
//! gap longer than [`EnergyMeter::max_gap`] (missed polls, the UPS
//! offline, a gateway restart). The total starts from the value the
//! gateway published before (read back from the broker, see
//! [`EnergyMeter::restore`]), so it survives restarts without a state file.

use super::{Model, Shape};
use crate::mib::{self, Page};
use std::time::Duration;
use tokio::time::Instant;

/// The output page's key of the card's own counter.
const CARD_COUNTER: &str = "energy";

/// Whether this UPS gets an integrated energy sensor: it has output real
/// power and no energy counter of its own.
pub fn integrated(shape: &Shape) -> bool {
    let Some(output) = shape.page(Page::Output) else {
        return false;
    };
    !output.has_scalar(CARD_COUNTER)
        && (output.has_scalar("power")
            || output
                .table("lines")
                .is_some_and(|t| t.columns.iter().any(|c| c.slot.field.key == "power")))
}

/// Output real power in W: `output.power`, else the sum of every line's
/// `power` (none if a line has no reading).
pub fn output_watts(model: &Model) -> Option<f64> {
    let scalar = mib::field_by_path("output.power")?;
    if let Some(watts) = model.reading(scalar, None).and_then(|r| r.as_f64()) {
        return Some(watts);
    }
    let column = mib::field_by_path("output.lines.power")?;
    let lines = model.page(Page::Output)?.table("lines")?;
    if lines.rows.is_empty() {
        return None;
    }
    lines
        .rows
        .iter()
        .map(|&row| model.reading(column, Some(row))?.as_f64())
        .sum()
}

/// The running total of one UPS.
#[derive(Debug, Clone)]
pub struct EnergyMeter {
    kwh: f64,
    last: Option<(Instant, f64)>,
    max_gap: Duration,
    restored: bool,
}

impl EnergyMeter {
    /// `max_gap`: the longest time between two power readings that is
    /// still integrated (a few polls).
    pub fn new(max_gap: Duration) -> EnergyMeter {
        EnergyMeter {
            kwh: 0.0,
            last: None,
            max_gap,
            restored: false,
        }
    }

    /// A power reading (W) at `at`; `None` (no reading) breaks the curve.
    pub fn sample(&mut self, at: Instant, watts: Option<f64>) {
        let watts = watts.filter(|w| w.is_finite() && *w >= 0.0);
        if let (Some((then, before)), Some(now)) = (self.last, watts) {
            let dt = at.saturating_duration_since(then);
            if dt <= self.max_gap {
                self.kwh += (before + now) / 2.0 * dt.as_secs_f64() / 3_600_000.0;
            }
        }
        self.last = watts.map(|w| (at, w));
    }

    /// Adds the total published before this start, once: the gateway
    /// subscribes to its energy topics before it publishes anything, so
    /// the first retained copy is the previous run's; later copies (after
    /// a reconnect) are its own publications.
    pub fn restore(&mut self, kwh: f64) -> bool {
        if self.restored || !kwh.is_finite() || kwh < 0.0 {
            return false;
        }
        self.restored = true;
        self.kwh += kwh;
        true
    }

    /// Whether the previous total was read back.
    pub fn is_restored(&self) -> bool {
        self.restored
    }

    /// The total in kWh, to the Wh.
    pub fn kwh(&self) -> f64 {
        (self.kwh * 1_000_000.0).round() / 1_000_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trapezoid_between_polls_and_no_bridging_of_gaps() {
        let t0 = Instant::now();
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        let mut meter = EnergyMeter::new(Duration::from_secs(30));
        meter.sample(s(0), Some(1000.0));
        meter.sample(s(10), Some(2000.0));
        // (1000 + 2000) / 2 W × 10 s = 15 000 J = 1/240 kWh.
        assert!((meter.kwh - 15_000.0 / 3_600_000.0).abs() < 1e-12);
        // A 60 s gap is not bridged; the next interval counts again.
        meter.sample(s(70), Some(2000.0));
        meter.sample(s(80), Some(2000.0));
        let expected = (15_000.0 + 20_000.0) / 3_600_000.0;
        assert!((meter.kwh - expected).abs() < 1e-12);
        // No reading breaks the curve.
        meter.sample(s(90), None);
        meter.sample(s(100), Some(2000.0));
        assert!((meter.kwh - expected).abs() < 1e-12);
        // The read-back adds once.
        assert!(meter.restore(5.0));
        assert!(!meter.restore(5.0));
        assert!((meter.kwh - 5.0 - expected).abs() < 1e-12);
        assert_eq!(meter.kwh(), 5.009722);
    }
}
