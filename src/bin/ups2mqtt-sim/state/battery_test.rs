//! The battery test state machine shared by the three MIBs' test objects
//! (PowerNet upsAdvTestDiagnostics, MGE upsmgTestBatteryCalibration /
//! upsmgTestDiagnostics, RFC 1628 upsTestId): idle → in progress → a result
//! after the configured duration (`--test-duration-ms`), plus the RFC 1628
//! `upsTestSpinLock` (TestAndIncr, quirk Q8).

use std::time::Duration;

/// `upsTestId` values (RFC 1628 `upsWellKnownTests`, 1.3.6.1.2.1.33.1.7.7.N).
pub const WELL_KNOWN_TESTS: &str = "1.3.6.1.2.1.33.1.7.7";
pub const NO_TESTS_INITIATED: u32 = 1;
pub const ABORT_TEST_IN_PROGRESS: u32 = 2;
pub const GENERAL_SYSTEMS_TEST: u32 = 3;
pub const QUICK_BATTERY_TEST: u32 = 4;
pub const DEEP_BATTERY_CALIBRATION: u32 = 5;

/// What was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKind {
    /// A battery test (PowerNet, MGE calibration, RFC quick/deep test).
    Battery,
    /// A self test (MGE upsmgTestDiagnostics, RFC general systems test).
    SelfTest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Aborted,
}

/// A test that ran to its end (or was aborted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    pub kind: TestKind,
    /// The `upsWellKnownTests` arc it ran as.
    pub test: u32,
    pub outcome: Outcome,
    pub started: Duration,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Idle,
    Running {
        kind: TestKind,
        test: u32,
        started: Duration,
    },
    Done(Finished),
}

/// Why a test cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TestRefused {
    #[error("a test is already in progress")]
    InProgress,
}

#[derive(Debug, Clone)]
pub struct BatteryTest {
    duration: Duration,
    phase: Phase,
    /// `upsTestSpinLock`: incremented by every accepted SET of it.
    pub spin_lock: i64,
    /// The last finished battery test (not self test), for the dates.
    pub last_battery: Option<Finished>,
    pub last_battery_success: Option<Duration>,
    /// The last finished self test.
    pub last_self_test: Option<Outcome>,
}

impl BatteryTest {
    pub fn new(duration: Duration) -> BatteryTest {
        BatteryTest {
            duration,
            phase: Phase::Idle,
            spin_lock: 0,
            last_battery: None,
            last_battery_success: None,
            last_self_test: None,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn running(&self) -> bool {
        matches!(self.phase, Phase::Running { .. })
    }

    /// Starts a test now.
    pub fn start(&mut self, kind: TestKind, test: u32, now: Duration) -> Result<(), TestRefused> {
        if self.running() {
            return Err(TestRefused::InProgress);
        }
        self.phase = Phase::Running {
            kind,
            test,
            started: now,
        };
        Ok(())
    }

    /// Aborts a running test; `None` when none was running.
    pub fn abort(&mut self, now: Duration) -> Option<Finished> {
        self.finish(now, Outcome::Aborted)
    }

    /// When the running test will end.
    pub fn deadline(&self) -> Option<Duration> {
        match self.phase {
            Phase::Running { started, .. } => Some(started + self.duration),
            _ => None,
        }
    }

    /// Ends the running test once its time is up, with `passed` deciding
    /// the result.
    pub fn tick(&mut self, now: Duration, passed: bool) -> Option<Finished> {
        let due = self.deadline().is_some_and(|d| now >= d);
        let outcome = if passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        if due { self.finish(now, outcome) } else { None }
    }

    /// TestAndIncr: the SET value must equal the current value.
    pub fn spin_lock_matches(&self, value: i64) -> bool {
        value == self.spin_lock
    }

    pub fn bump_spin_lock(&mut self) {
        self.spin_lock = if self.spin_lock >= i64::from(i32::MAX) {
            0
        } else {
            self.spin_lock + 1
        };
    }

    fn finish(&mut self, now: Duration, outcome: Outcome) -> Option<Finished> {
        let Phase::Running {
            kind,
            test,
            started,
        } = self.phase
        else {
            return None;
        };
        let elapsed = match outcome {
            Outcome::Aborted => now.saturating_sub(started),
            _ => self.duration,
        };
        let finished = Finished {
            kind,
            test,
            outcome,
            started,
            elapsed,
        };
        self.phase = Phase::Done(finished);
        match kind {
            TestKind::Battery => {
                self.last_battery = Some(finished);
                if outcome == Outcome::Passed {
                    self.last_battery_success = Some(started + elapsed);
                }
            }
            TestKind::SelfTest => self.last_self_test = Some(outcome),
        }
        Some(finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn idle_running_done_after_the_duration() {
        let mut test = BatteryTest::new(S(3));
        assert_eq!(test.phase(), Phase::Idle);
        test.start(TestKind::Battery, QUICK_BATTERY_TEST, S(10))
            .unwrap();
        assert!(test.running());
        assert_eq!(test.deadline(), Some(S(13)));
        assert_eq!(test.tick(S(12), true), None, "not yet");
        assert_eq!(
            test.start(TestKind::Battery, QUICK_BATTERY_TEST, S(12)),
            Err(TestRefused::InProgress)
        );
        let done = test.tick(S(14), true).expect("finished");
        assert_eq!(done.outcome, Outcome::Passed);
        assert_eq!(done.elapsed, S(3));
        assert_eq!(test.phase(), Phase::Done(done));
        assert_eq!(test.last_battery_success, Some(S(13)));
        assert_eq!(test.tick(S(20), true), None, "only once");
    }

    #[test]
    fn failures_aborts_and_self_tests() {
        let mut test = BatteryTest::new(S(3));
        test.start(TestKind::Battery, QUICK_BATTERY_TEST, S(0))
            .unwrap();
        assert_eq!(test.tick(S(3), false).unwrap().outcome, Outcome::Failed);
        assert_eq!(test.last_battery_success, None);
        test.start(TestKind::SelfTest, GENERAL_SYSTEMS_TEST, S(5))
            .unwrap();
        let aborted = test.abort(S(6)).unwrap();
        assert_eq!((aborted.outcome, aborted.elapsed), (Outcome::Aborted, S(1)));
        assert_eq!(test.last_self_test, Some(Outcome::Aborted));
        assert_eq!(test.abort(S(7)), None);
    }

    #[test]
    fn spin_lock_is_test_and_increment() {
        let mut test = BatteryTest::new(S(1));
        assert!(test.spin_lock_matches(0));
        test.bump_spin_lock();
        assert!(!test.spin_lock_matches(0));
        assert!(test.spin_lock_matches(1));
        test.spin_lock = i64::from(i32::MAX);
        test.bump_spin_lock();
        assert_eq!(test.spin_lock, 0);
    }
}
