//! The semantic UPS model behind one simulated card: mains, input lines,
//! load, output source, battery (discharging on battery, recharging on
//! mains), temperatures, overload, receptacles and outlet groups, the
//! battery test, the RFC 1628 alarm table and the writable settings.
//!
//! It knows nothing of OIDs or sockets. Time only moves through
//! [`UpsState::tick`], so tests drive it deterministically; the agent calls
//! `tick` with the real elapsed time. Every observable change bumps
//! [`UpsState::generation`] (the OID view caches on it) and may queue
//! [`Event`]s, which the agent turns into traps.
//!
//! Submodules: [`alarms`] (the alarm table), [`battery_test`] (the test
//! state machine), [`outlets`] (receptacles, groups, timed actions),
//! `fields` (field path → JSON value) and `writes` (SET side effects and
//! the `set` control command).

pub mod alarms;
pub mod battery_test;
mod fields;
pub mod outlets;
mod writes;

pub use writes::{SPIN_LOCK, SetTarget, is_writable};

use crate::defaults::Defaults;
use crate::layout::Layout;
use crate::rng::Rng;
use crate::wire;
use alarms::{Alarm, AlarmChange, AlarmTable};
use battery_test::{BatteryTest, Finished, Outcome, TestKind, TestRefused};
use outlets::{CtrlStatus, OutletGroup, Receptacle, Schedule, Tag, Target, Timed};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use ups2mqtt::mib::{self, Page};
use ups2mqtt::pages::PageOutcome;
use ups2mqtt::snmp::Value;
use ups2mqtt::time::civil_from_days;

/// How often `upsTrapOnBattery` is repeated while on battery (RFC 1628).
const ON_BATTERY_REPEAT: Duration = Duration::from_secs(60);
/// Full recharge from empty, in seconds.
const FULL_RECHARGE_S: f64 = 3.0 * 3600.0;
/// The load an overload forces, in percent.
const OVERLOAD_PERCENT: f64 = 115.0;
const POWER_FACTOR: f64 = 0.9;
/// Hysteresis above the low battery thresholds before "low" clears.
const LOW_CLEAR_MARGIN_PERCENT: f64 = 2.0;
const LOW_CLEAR_MARGIN_S: f64 = 30.0;
/// A PowerNet reboot keeps the output off this long at least.
const MIN_REBOOT_OFF: Duration = Duration::from_secs(5);

/// What happened, for the traps (`traps::fired_by` lists which traps each
/// kind sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    MainsLost,
    MainsRestored,
    OnBattery,
    /// `upsTrapOnBattery` is persistent: resent every minute on battery.
    OnBatteryRepeat,
    OffBattery,
    LowBattery,
    FromLowBattery,
    Overload,
    OverloadCleared,
    OnBypass,
    OffBypass,
    OutputOff,
    OutputOn,
    AlarmAdded,
    AlarmRemoved,
    /// Any test end, including aborts (RFC 1628 upsTrapTestCompleted).
    TestCompleted,
    TestPassed,
    TestFailed,
    SelfTestPassed,
    SelfTestFailed,
    ReceptacleOnScheduled,
    ReceptacleOffScheduled,
    ReceptacleOn,
    ReceptacleOff,
    OutletGroupOn,
    OutletGroupOff,
}

/// An event with what its traps need: the table row it concerns, or the
/// alarm row added/removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub row: u32,
    pub alarm: Option<Alarm>,
}

impl Event {
    pub fn new(kind: EventKind) -> Event {
        Event {
            kind,
            row: 0,
            alarm: None,
        }
    }

    pub fn row(kind: EventKind, row: u32) -> Event {
        Event {
            kind,
            row,
            alarm: None,
        }
    }
}

/// Nominal ratings, read once from the defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratings {
    pub apparent_power: f64,
    pub real_power: f64,
    pub voltage: f64,
    pub frequency: f64,
    pub battery_voltage: f64,
}

impl Ratings {
    pub fn from_defaults(defaults: &Defaults) -> Ratings {
        let number = |path: &str, fallback: f64| {
            mib::field_by_path(path)
                .and_then(|f| defaults.json(f, 0))
                .and_then(|j| j.as_f64())
                .filter(|x| *x > 0.0)
                .unwrap_or(fallback)
        };
        Ratings {
            apparent_power: number("config.nominal_apparent_power", 3000.0),
            real_power: number("config.nominal_power", 2700.0),
            voltage: number("config.output_nominal_voltage", 230.0),
            frequency: number("config.output_nominal_frequency", 50.0),
            battery_voltage: number("battery.nominal_voltage", 48.0),
        }
    }
}

/// What an agent's state is built with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub layout: Layout,
    pub ratings: Ratings,
    pub test_duration: Duration,
    /// Unix time at uptime 0, for the dates the MIBs show.
    pub start_unix: u64,
    /// sysUpTime (hundredths) at uptime 0: a walk's own sysUpTime.
    pub uptime_base: u32,
}

/// The readings a card starts with: seeded per agent, or a walk's.
#[derive(Debug, Clone, PartialEq)]
pub struct Readings {
    /// `None`: the default (or walked) serial number.
    pub serial: Option<String>,
    /// Per phase.
    pub input_voltage: Vec<f64>,
    pub frequency: f64,
    /// Per phase, percent.
    pub load: Vec<f64>,
    pub charge: f64,
    /// Runtime at 100 % load on a full battery, seconds.
    pub autonomy: f64,
    pub battery_temperature: f64,
    pub ambient_temperature: f64,
    pub ambient_humidity: f64,
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (x * factor).round() / factor
}

impl Readings {
    /// Plausible, different readings for agent `index` of a `seed` fleet.
    pub fn seeded(seed: u64, index: u32, layout: &Layout, ratings: &Ratings) -> Readings {
        let mut rng = Rng::for_agent(seed, index);
        let phases = layout.phases as usize;
        Readings {
            serial: Some(format!("SIM{:07}", rng.next_u64() % 10_000_000)),
            input_voltage: (0..phases)
                .map(|_| round_to(ratings.voltage + rng.range(-4.0, 4.0), 1))
                .collect(),
            frequency: round_to(ratings.frequency + rng.range(-0.1, 0.1), 1),
            load: (0..phases).map(|_| rng.range(20.0, 45.0).round()).collect(),
            charge: 100.0,
            autonomy: rng.range(480.0, 720.0).round(),
            battery_temperature: rng.range(22.0, 28.0).round(),
            ambient_temperature: round_to(rng.range(20.0, 26.0), 1),
            ambient_humidity: round_to(rng.range(35.0, 55.0), 1),
        }
    }

    /// The readings of a walk, decoded with the library's page decoder;
    /// what the walk lacks comes from `fallback`.
    pub fn from_pages(
        pages: &BTreeMap<Page, PageOutcome>,
        layout: &Layout,
        fallback: &Readings,
    ) -> Readings {
        let get = |page: Page, key: &str| {
            pages
                .get(&page)
                .and_then(|p| p.json.get(key))
                .and_then(Json::as_f64)
        };
        let column = |page: Page, table: &str, key: &str, i: usize| {
            let rows = pages.get(&page)?.json.get(table)?.as_array()?;
            rows.get(i)?.get(key)?.as_f64()
        };
        let phases = layout.phases as usize;
        let per_phase = |page: Page,
                         table: &str,
                         key: &str,
                         scalar: Option<f64>,
                         fallback: &[f64]|
         -> Vec<f64> {
            (0..phases)
                .map(|i| {
                    column(page, table, key, i)
                        .or(scalar)
                        .or(fallback.get(i).copied())
                        .unwrap_or(fallback[0])
                })
                .collect()
        };
        let input_voltage = per_phase(
            Page::Input,
            "lines",
            "voltage",
            get(Page::Input, "voltage"),
            &fallback.input_voltage,
        );
        let load = per_phase(
            Page::Output,
            "lines",
            "load",
            get(Page::Output, "load"),
            &fallback.load,
        );
        let charge = get(Page::Battery, "charge").unwrap_or(fallback.charge);
        let mean_load = load.iter().sum::<f64>() / load.len().max(1) as f64;
        let autonomy = match get(Page::Battery, "runtime") {
            Some(runtime) if charge > 0.0 && runtime > 0.0 => {
                runtime / (charge / 100.0) * (mean_load.max(5.0) / 100.0)
            }
            _ => fallback.autonomy,
        };
        let frequency = column(Page::Input, "lines", "frequency", 0)
            .or(get(Page::Input, "frequency"))
            .unwrap_or(fallback.frequency);
        let ambient = |key: &str, fallback: f64| {
            get(Page::Environment, &format!("ambient_{key}"))
                .or(column(Page::Environment, "sensors", key, 0))
                .unwrap_or(fallback)
        };
        Readings {
            serial: None,
            input_voltage,
            frequency,
            load,
            charge,
            autonomy,
            battery_temperature: get(Page::Battery, "temperature")
                .unwrap_or(fallback.battery_temperature),
            ambient_temperature: ambient("temperature", fallback.ambient_temperature),
            ambient_humidity: ambient("humidity", fallback.ambient_humidity),
        }
    }
}

/// Where the output is fed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputSource {
    /// Output off.
    None,
    Normal,
    Bypass,
    Battery,
}

/// Why the output is off, for what happens when mains returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffReason {
    /// A command (MGE receptacle 1, PowerNet, RFC shutdown).
    Requested,
    /// The battery ran out on battery.
    Depleted,
    /// PowerNet "turn off to conserve battery".
    Conserve,
}

/// The last transfer to battery, for PowerNet upsAdvInputLineFailCause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    None,
    Blackout,
    SelfTest,
}

/// PowerNet runtime calibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    pub running_since: Option<Duration>,
    /// upsAdvTestCalibrationResults label.
    pub result: &'static str,
    pub finished_at: Option<Duration>,
}

/// One simulated UPS.
#[derive(Debug, Clone)]
pub struct UpsState {
    settings: Settings,
    defaults: Arc<Defaults>,
    uptime: Duration,
    generation: u64,
    events: Vec<Event>,
    serial: Option<String>,
    mains: bool,
    last_transfer: Transfer,
    line_bads: u32,
    input_voltage: Vec<f64>,
    frequency: f64,
    base_load: Vec<f64>,
    overload: bool,
    output_on: bool,
    off_reason: Option<OffReason>,
    bypass: bool,
    charge: f64,
    autonomy: f64,
    battery_temperature: f64,
    replace: bool,
    fault: bool,
    low: bool,
    ambient_temperature: f64,
    ambient_humidity: f64,
    receptacles: Vec<Receptacle>,
    groups: Vec<OutletGroup>,
    schedule: Schedule,
    test: BatteryTest,
    calibration: Calibration,
    alarms: AlarmTable,
    on_battery_since: Option<Duration>,
    next_on_battery_trap: Option<Duration>,
    was_bypass: bool,
    /// Writable points as last SET (raw), by source object and row.
    stored: HashMap<(&'static str, u32), Value>,
    /// Values forced with the `set` control command on points the model
    /// does not compute, by source object and row.
    pins: HashMap<(&'static str, u32), Value>,
}

impl UpsState {
    pub fn new(settings: Settings, defaults: Arc<Defaults>, readings: Readings) -> UpsState {
        let layout = settings.layout;
        let group_name = |row: u32| {
            let name = mib::field_by_path("receptacles.outlet_groups.name")
                .and_then(|f| defaults.json(f, row));
            name.and_then(|j| j.as_str().map(str::to_string))
                .unwrap_or_else(|| format!("Outlet Group {row}"))
        };
        let groups = (1..=layout.outlet_groups)
            .map(|row| OutletGroup {
                on: true,
                name: group_name(row),
            })
            .collect();
        let mut state = UpsState {
            test: BatteryTest::new(settings.test_duration),
            settings,
            defaults,
            uptime: Duration::ZERO,
            generation: 0,
            events: Vec::new(),
            serial: readings.serial,
            mains: true,
            last_transfer: Transfer::None,
            line_bads: 0,
            input_voltage: readings.input_voltage,
            frequency: readings.frequency,
            base_load: readings.load,
            overload: false,
            output_on: true,
            off_reason: None,
            bypass: false,
            charge: readings.charge.clamp(0.0, 100.0),
            autonomy: readings.autonomy.max(1.0),
            battery_temperature: readings.battery_temperature,
            replace: false,
            fault: false,
            low: false,
            ambient_temperature: readings.ambient_temperature,
            ambient_humidity: readings.ambient_humidity,
            receptacles: vec![Receptacle::default(); layout.receptacles as usize],
            groups,
            schedule: Schedule::default(),
            calibration: Calibration {
                running_since: None,
                result: "ok",
                finished_at: None,
            },
            alarms: AlarmTable::default(),
            on_battery_since: None,
            next_on_battery_trap: None,
            was_bypass: false,
            stored: HashMap::new(),
            pins: HashMap::new(),
        };
        state.refresh();
        state.events.clear();
        state
    }

    // ------------------------------------------------------------ clock

    /// Time since the agent started.
    pub fn uptime(&self) -> Duration {
        self.uptime
    }

    /// sysUpTime in hundredths of a second (wraps like the real counter).
    pub fn sys_uptime(&self) -> u32 {
        self.ticks_at(self.uptime)
    }

    /// The TimeStamp (sysUpTime) of an uptime.
    pub fn ticks_at(&self, at: Duration) -> u32 {
        let centis = (at.as_millis() / 10) as u64;
        self.settings.uptime_base.wrapping_add(centis as u32)
    }

    /// Changes with every observable change of the state.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Takes the events queued since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Advances time: the battery discharges or recharges, tests and timed
    /// actions complete, persistent traps repeat.
    pub fn tick(&mut self, dt: Duration) {
        if dt.is_zero() {
            return;
        }
        let active = self.is_active();
        self.uptime += dt;
        let secs = dt.as_secs_f64();
        match self.output_source() {
            OutputSource::Battery => {
                self.charge = (self.charge - self.discharge_rate() * secs).max(0.0)
            }
            _ if self.mains && self.charge < 100.0 => {
                self.charge = (self.charge + 100.0 / FULL_RECHARGE_S * secs).min(100.0);
            }
            _ => {}
        }
        for item in self.schedule.take_due(self.uptime) {
            self.run_timed(item);
        }
        let passes = self.test_passes();
        if let Some(finished) = self.test.tick(self.uptime, passes) {
            self.test_finished(finished);
        }
        self.tick_calibration();
        if self
            .next_on_battery_trap
            .is_some_and(|at| self.uptime >= at)
        {
            self.events.push(Event::new(EventKind::OnBatteryRepeat));
            self.next_on_battery_trap = Some(self.uptime + ON_BATTERY_REPEAT);
        }
        if active || !self.events.is_empty() {
            self.refresh();
        }
    }

    /// True while something changes with time alone.
    fn is_active(&self) -> bool {
        self.output_source() == OutputSource::Battery
            || (self.mains && self.charge < 100.0)
            || self.test.running()
            || self.schedule.len() > 0
            || self.calibration.running_since.is_some()
    }

    /// When the state next needs a tick even without requests: a test or
    /// timed action ending, a trap repeat, or every second while readings
    /// move (so that low battery and depletion are noticed on time).
    pub fn next_deadline(&self) -> Option<Duration> {
        let moving = (self.output_source() == OutputSource::Battery
            || (self.mains && self.charge < 100.0))
            .then_some(self.uptime + Duration::from_secs(1));
        let calibration = self
            .calibration
            .running_since
            .map(|s| s + self.settings.test_duration);
        [
            moving,
            self.test.deadline(),
            self.schedule.next_deadline(),
            self.next_on_battery_trap,
            calibration,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ------------------------------------------------------- scenarios

    /// Mains failure (`false`) or return (`true`). Returns whether it
    /// changed anything.
    pub fn set_mains(&mut self, on: bool) -> bool {
        if self.mains == on {
            return false;
        }
        self.mains = on;
        if on {
            self.events.push(Event::new(EventKind::MainsRestored));
            if matches!(
                self.off_reason,
                Some(OffReason::Depleted | OffReason::Conserve)
            ) {
                self.set_output(true, None);
            }
        } else {
            self.line_bads = self.line_bads.wrapping_add(1);
            self.last_transfer = Transfer::Blackout;
            self.events.push(Event::new(EventKind::MainsLost));
            if let Some(finished) = self.test.abort(self.uptime) {
                self.test_finished(finished);
            }
        }
        self.refresh();
        true
    }

    /// Brings the battery down to its low threshold (a low battery alarm
    /// follows).
    pub fn battery_low(&mut self) {
        let level = self.low_battery_level();
        self.charge = self.charge.min((level - 1.0).max(1.0));
        self.refresh();
    }

    pub fn set_overload(&mut self, on: bool) -> bool {
        if self.overload == on {
            return false;
        }
        self.overload = on;
        let kind = if on {
            EventKind::Overload
        } else {
            EventKind::OverloadCleared
        };
        self.events.push(Event::new(kind));
        self.refresh();
        true
    }

    /// Starts a battery test (or self test) as if asked through a MIB.
    pub fn start_test(&mut self, kind: TestKind, test: u32) -> Result<(), String> {
        self.test_refusal().map_or(Ok(()), Err)?;
        self.test
            .start(kind, test, self.uptime)
            .map_err(|e: TestRefused| e.to_string())?;
        if kind == TestKind::Battery {
            self.last_transfer = Transfer::SelfTest;
        }
        self.refresh();
        Ok(())
    }

    /// Why a test cannot start now.
    fn test_refusal(&self) -> Option<String> {
        if self.test.running() {
            Some("a test is already in progress".to_string())
        } else if !self.mains {
            Some("the UPS is on battery".to_string())
        } else {
            None
        }
    }

    fn test_passes(&self) -> bool {
        !self.replace && !self.fault
    }

    fn test_finished(&mut self, finished: Finished) {
        self.events.push(Event::new(EventKind::TestCompleted));
        let kind = match (finished.kind, finished.outcome) {
            (_, Outcome::Aborted) => None,
            (TestKind::Battery, Outcome::Passed) => Some(EventKind::TestPassed),
            (TestKind::Battery, Outcome::Failed) => Some(EventKind::TestFailed),
            (TestKind::SelfTest, Outcome::Passed) => Some(EventKind::SelfTestPassed),
            (TestKind::SelfTest, Outcome::Failed) => Some(EventKind::SelfTestFailed),
        };
        self.events.extend(kind.map(Event::new));
    }

    fn tick_calibration(&mut self) {
        let Some(started) = self.calibration.running_since else {
            return;
        };
        if self.uptime >= started + self.settings.test_duration {
            self.calibration = Calibration {
                running_since: None,
                result: "ok",
                finished_at: Some(self.uptime),
            };
        }
    }

    // ---------------------------------------------------- the output

    pub fn output_source(&self) -> OutputSource {
        match (self.output_on, self.mains, self.bypass) {
            (false, _, _) => OutputSource::None,
            (true, false, _) => OutputSource::Battery,
            (true, true, true) => OutputSource::Bypass,
            (true, true, false) => OutputSource::Normal,
        }
    }

    /// Switches the whole output; `reason` says why it goes off.
    fn set_output(&mut self, on: bool, reason: Option<OffReason>) {
        if self.output_on == on {
            return;
        }
        self.output_on = on;
        self.off_reason = if on {
            None
        } else {
            reason.or(Some(OffReason::Requested))
        };
        for receptacle in &mut self.receptacles {
            receptacle.on = on;
        }
        for group in &mut self.groups {
            group.on = on;
        }
        let kind = if on {
            EventKind::OutputOn
        } else {
            EventKind::OutputOff
        };
        self.events.push(Event::new(kind));
    }

    /// Applies one switch of a receptacle, group or the whole output.
    fn switch(&mut self, target: Target, on: bool) {
        match target {
            Target::Output => self.set_output(on, None),
            Target::Receptacle(row) => {
                if row == 1 {
                    self.set_output(on, None);
                }
                if let Some(r) = self.receptacles.get_mut(row as usize - 1) {
                    r.on = on;
                    r.controlled = true;
                }
                let kind = if on {
                    EventKind::ReceptacleOn
                } else {
                    EventKind::ReceptacleOff
                };
                self.events.push(Event::row(kind, row));
            }
            Target::Group(row) => {
                if row == 1 {
                    self.set_output(on, None);
                }
                if let Some(g) = self.groups.get_mut(row as usize - 1) {
                    g.on = on;
                }
                let kind = if on {
                    EventKind::OutletGroupOn
                } else {
                    EventKind::OutletGroupOff
                };
                self.events.push(Event::row(kind, row));
            }
        }
    }

    /// Runs a timed action that is due.
    fn run_timed(&mut self, item: Timed) {
        self.switch(item.target, item.on);
        let (row, completed) = match item.tag {
            Tag::ReceptacleOn(row) | Tag::ReceptacleOff(row) => (row, CtrlStatus::Completed),
            Tag::ReceptacleToggle(row) if item.on => (row, CtrlStatus::Completed),
            Tag::ReceptacleToggle(row) => (row, CtrlStatus::InProgress),
            Tag::Group(_) | Tag::RfcShutdown | Tag::RfcStartup | Tag::RfcReboot | Tag::PowerNet => {
                return;
            }
        };
        let Some(receptacle) = self.receptacles.get_mut(row as usize - 1) else {
            return;
        };
        match item.tag {
            Tag::ReceptacleOn(_) => receptacle.on_status = completed,
            Tag::ReceptacleOff(_) => receptacle.off_status = completed,
            _ => receptacle.toggle_status = completed,
        }
    }

    fn schedule_switch(&mut self, after: Duration, tag: Tag, target: Target, on: bool) {
        self.schedule.add(Timed {
            at: self.uptime + after,
            tag,
            target,
            on,
        });
    }

    // ------------------------------------------------- derived values

    fn phases(&self) -> usize {
        self.base_load.len().max(1)
    }

    fn output_powered(&self) -> bool {
        self.output_source() != OutputSource::None
    }

    /// Load of one phase, percent.
    pub fn load(&self, phase: usize) -> f64 {
        if !self.output_powered() {
            return 0.0;
        }
        let base = self.base_load.get(phase).copied().unwrap_or(0.0);
        if self.overload {
            base.max(OVERLOAD_PERCENT)
        } else {
            base
        }
    }

    pub fn total_load(&self) -> f64 {
        (0..self.phases()).map(|p| self.load(p)).sum::<f64>() / self.phases() as f64
    }

    /// Apparent power of one phase, VA.
    fn phase_va(&self, phase: usize) -> f64 {
        self.load(phase) / 100.0 * self.settings.ratings.apparent_power / self.phases() as f64
    }

    fn phase_watts(&self, phase: usize) -> f64 {
        self.phase_va(phase) * POWER_FACTOR
    }

    pub fn input_voltage(&self, phase: usize) -> f64 {
        if self.mains {
            self.input_voltage.get(phase).copied().unwrap_or(0.0)
        } else {
            0.0
        }
    }

    pub fn input_frequency(&self) -> f64 {
        if self.mains { self.frequency } else { 0.0 }
    }

    fn input_current(&self, phase: usize) -> f64 {
        let volts = self.input_voltage(phase);
        let charging = if self.charge < 100.0 { 1.05 } else { 1.0 };
        match self.output_source() {
            OutputSource::Normal if volts > 0.0 => self.phase_va(phase) / volts * charging,
            OutputSource::Bypass if volts > 0.0 => self.phase_va(phase) / volts,
            _ => 0.0,
        }
    }

    fn output_voltage(&self, phase: usize) -> f64 {
        match self.output_source() {
            OutputSource::None => 0.0,
            OutputSource::Bypass => self.input_voltage(phase),
            _ => self.settings.ratings.voltage,
        }
    }

    fn output_frequency(&self) -> f64 {
        match self.output_source() {
            OutputSource::None => 0.0,
            OutputSource::Battery => self.settings.ratings.frequency,
            _ => self.frequency,
        }
    }

    fn output_current(&self, phase: usize) -> f64 {
        let volts = self.output_voltage(phase);
        if volts > 0.0 {
            self.phase_va(phase) / volts
        } else {
            0.0
        }
    }

    /// Percent per second lost on battery at the present load.
    fn discharge_rate(&self) -> f64 {
        self.total_load().max(5.0) / self.autonomy
    }

    /// Estimated runtime at the present load, seconds.
    pub fn runtime(&self) -> f64 {
        self.charge / 100.0 * self.autonomy * 100.0 / self.total_load().max(5.0)
    }

    pub fn charge(&self) -> f64 {
        self.charge
    }

    #[cfg(test)]
    pub fn low_battery(&self) -> bool {
        self.low
    }

    fn battery_voltage(&self) -> f64 {
        let nominal = self.settings.ratings.battery_voltage;
        match self.output_source() {
            OutputSource::Battery => nominal * (0.88 + 0.17 * self.charge / 100.0),
            _ if self.charge < 100.0 => nominal * 1.1,
            _ => nominal * 1.135,
        }
    }

    /// Battery current, amperes: positive charging, negative discharging.
    fn battery_current(&self) -> f64 {
        match self.output_source() {
            OutputSource::Battery => {
                let watts: f64 = (0..self.phases()).map(|p| self.phase_watts(p)).sum();
                -watts / self.battery_voltage()
            }
            _ if self.mains && self.charge < 100.0 => 2.5,
            _ => 0.0,
        }
    }

    fn seconds_on_battery(&self) -> f64 {
        self.on_battery_since
            .map_or(0.0, |since| (self.uptime - since).as_secs_f64().floor())
    }

    /// Seconds to full charge at the present rate.
    fn recharge_time(&self) -> f64 {
        if self.mains {
            (100.0 - self.charge) / 100.0 * FULL_RECHARGE_S
        } else {
            0.0
        }
    }

    /// "mm/dd/yyyy" of an uptime (the MIBs' date format).
    fn date(&self, at: Duration) -> String {
        let unix = self.settings.start_unix + at.as_secs();
        let (y, m, d) = civil_from_days((unix / 86_400) as i64);
        format!("{m:02}/{d:02}/{y:04}")
    }

    // ------------------------------------------------------ settings

    /// A writable setting (stored, else default) in published units.
    pub fn setting(&self, object: &'static str, row: u32) -> Option<Json> {
        let (_, source) = wire::source_by_object(object)?;
        let raw = self
            .stored_raw(object, row)
            .or_else(|| self.defaults.get(object, row))?;
        ups2mqtt::pages::decode_one(source, raw)
    }

    fn setting_f64(&self, object: &'static str, row: u32) -> Option<f64> {
        self.setting(object, row).and_then(|j| j.as_f64())
    }

    /// A delay setting as a duration (`None` for -1 / "never").
    fn setting_delay(&self, object: &'static str, row: u32) -> Option<Duration> {
        let secs = self.setting_f64(object, row)?;
        (secs >= 0.0).then(|| Duration::from_secs_f64(secs))
    }

    fn low_battery_level(&self) -> f64 {
        self.setting_f64("upsmgConfigLowBatteryLevel", 0)
            .unwrap_or(20.0)
    }

    fn low_battery_runtime(&self) -> f64 {
        self.setting_f64("upsAdvConfigLowBatteryRunTime", 0)
            .or_else(|| self.setting_f64("upsmgConfigLowBatteryTime", 0))
            .unwrap_or(120.0)
    }

    /// A writable point's last SET value.
    pub fn stored_raw(&self, object: &'static str, row: u32) -> Option<&Value> {
        self.stored.get(&(object, row))
    }

    /// A value forced with the `set` control command.
    pub fn pinned(&self, object: &'static str, row: u32) -> Option<&Value> {
        if self.pins.is_empty() {
            None
        } else {
            self.pins.get(&(object, row))
        }
    }

    // ------------------------------------------- derived flags, alarms

    /// Recomputes latched flags and the alarm table after any change, and
    /// bumps the generation.
    fn refresh(&mut self) {
        self.generation += 1;
        if self.output_source() == OutputSource::Battery && self.charge <= 0.0 {
            self.set_output(false, Some(OffReason::Depleted));
        }
        self.update_low_battery();
        self.update_source_events();
        let now = self.sys_uptime();
        let wanted = self.wanted_alarms();
        for change in self.alarms.sync(&wanted, now) {
            let (kind, alarm) = match change {
                AlarmChange::Added(a) => (EventKind::AlarmAdded, a),
                AlarmChange::Removed(a) => (EventKind::AlarmRemoved, a),
            };
            self.events.push(Event {
                kind,
                row: alarm.id,
                alarm: Some(alarm),
            });
        }
    }

    fn update_low_battery(&mut self) {
        let (level, low_runtime) = (self.low_battery_level(), self.low_battery_runtime());
        let runtime = self.runtime();
        let is_low = self.charge <= level || runtime <= low_runtime;
        let recovered = self.charge > level + LOW_CLEAR_MARGIN_PERCENT
            && runtime > low_runtime + LOW_CLEAR_MARGIN_S;
        if !self.low && is_low {
            self.low = true;
            self.events.push(Event::new(EventKind::LowBattery));
        } else if self.low && recovered {
            self.low = false;
            self.events.push(Event::new(EventKind::FromLowBattery));
        }
    }

    /// On battery / on bypass transitions, whatever caused them.
    fn update_source_events(&mut self) {
        let source = self.output_source();
        let on_battery = source == OutputSource::Battery;
        if on_battery != self.on_battery_since.is_some() {
            if on_battery {
                self.on_battery_since = Some(self.uptime);
                self.next_on_battery_trap = Some(self.uptime + ON_BATTERY_REPEAT);
                self.events.push(Event::new(EventKind::OnBattery));
            } else {
                self.on_battery_since = None;
                self.next_on_battery_trap = None;
                self.events.push(Event::new(EventKind::OffBattery));
            }
        }
        let bypass = source == OutputSource::Bypass;
        if bypass != self.was_bypass {
            self.was_bypass = bypass;
            let kind = if bypass {
                EventKind::OnBypass
            } else {
                EventKind::OffBypass
            };
            self.events.push(Event::new(kind));
        }
    }

    /// The well-known alarms (arcs) that hold now, in arc order.
    fn wanted_alarms(&self) -> Vec<u32> {
        let source = self.output_source();
        let test_failed = self
            .test
            .last_battery
            .is_some_and(|t| t.outcome == Outcome::Failed);
        let off = |reason: OffReason| !self.output_on && self.off_reason == Some(reason);
        [
            (1, self.replace),
            (2, source == OutputSource::Battery),
            (3, self.low),
            (4, self.charge <= 0.0),
            (6, !self.mains),
            (8, self.overload && self.output_powered()),
            (9, source == OutputSource::Bypass),
            (11, off(OffReason::Requested)),
            (14, !self.output_on),
            (18, self.fault),
            (19, test_failed),
            (21, !self.output_on && !self.mains),
            (22, self.schedule.find(Tag::RfcShutdown).is_some()),
            (24, self.test.running()),
        ]
        .into_iter()
        .filter_map(|(arc, on)| on.then_some(arc))
        .collect()
    }

    pub fn alarms(&self) -> &AlarmTable {
        &self.alarms
    }

    // ---------------------------------------------------------- JSON

    /// The semantic state, for the `state` control command.
    pub fn to_json(&self) -> Json {
        let source = match self.output_source() {
            OutputSource::None => "none",
            OutputSource::Normal => "normal",
            OutputSource::Bypass => "bypass",
            OutputSource::Battery => "battery",
        };
        let phases: Vec<Json> = (0..self.phases())
            .map(|p| json!({"input_voltage": self.input_voltage(p), "load": self.load(p)}))
            .collect();
        let alarms: Vec<Json> = self
            .alarms
            .rows()
            .iter()
            .map(|a| {
                let name = mib::alarms::WELL_KNOWN_ALARMS
                    .iter()
                    .find(|w| w.arc == a.arc)
                    .map_or("unknown", |w| w.name);
                json!({"id": a.id, "alarm": name, "since": a.since})
            })
            .collect();
        let receptacles: Vec<Json> = self
            .receptacles
            .iter()
            .enumerate()
            .map(|(i, r)| json!({"index": i + 1, "on": r.on, "state": r.state_label()}))
            .collect();
        let groups: Vec<Json> = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let pending = self.schedule.find(Tag::Group(i as u32 + 1)).is_some();
                json!({"index": i + 1, "name": g.name, "on": g.on, "pending": pending})
            })
            .collect();
        let pins: serde_json::Map<String, Json> = self
            .pins
            .iter()
            .map(|((object, row), value)| (format!("{object}.{row}"), json!(format!("{value:?}"))))
            .collect();
        json!({
            "uptime_s": self.uptime.as_secs_f64(),
            "generation": self.generation,
            "mains": self.mains,
            "output_on": self.output_on,
            "output_source": source,
            "bypass": self.bypass,
            "overload": self.overload,
            "frequency": self.input_frequency(),
            "phases": phases,
            "load": round_to(self.total_load(), 1),
            "battery": {
                "charge": round_to(self.charge, 2),
                "runtime_s": self.runtime().round(),
                "low": self.low,
                "replace": self.replace,
                "fault": self.fault,
                "temperature": self.battery_temperature,
                "seconds_on_battery": self.seconds_on_battery(),
            },
            "environment": {"temperature": self.ambient_temperature, "humidity": self.ambient_humidity},
            "receptacles": receptacles,
            "outlet_groups": groups,
            "test": self.test_json(),
            "alarms": alarms,
            "pending_actions": self.schedule.len(),
            "pins": pins,
        })
    }

    fn test_json(&self) -> Json {
        use battery_test::Phase;
        match self.test.phase() {
            Phase::Idle => json!({"phase": "idle", "spin_lock": self.test.spin_lock}),
            Phase::Running { test, .. } => {
                json!({"phase": "in_progress", "test": test, "spin_lock": self.test.spin_lock})
            }
            Phase::Done(f) => {
                let result = match f.outcome {
                    Outcome::Passed => "passed",
                    Outcome::Failed => "failed",
                    Outcome::Aborted => "aborted",
                };
                json!({"phase": "done", "test": f.test, "result": result, "spin_lock": self.test.spin_lock})
            }
        }
    }
}

#[cfg(test)]
mod tests;
