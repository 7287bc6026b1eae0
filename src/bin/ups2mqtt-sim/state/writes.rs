//! What a SET does to the model, and the `set` control command.
//!
//! The agent checks each varbind's type and legal values first
//! (`wire::check_value`); [`UpsState::validate_set`] then checks what
//! depends on the state and on the whole PDU (a test already running, the
//! RFC 1628 spin lock that must come in the same PDU as `upsTestId`, quirk
//! Q8), and [`UpsState::apply_set`] applies the PDU at once: commands
//! switch receptacles, outlet groups and the output, start tests and
//! countdowns; settings are stored and read back exactly, and mirrored to
//! the other MIBs' objects for the same field where they can carry them.

use super::battery_test::{self, TestKind};
use super::outlets::{CtrlStatus, Tag, Target};
use super::{Calibration, MIN_REBOOT_OFF, OffReason, UpsState};
use crate::defaults;
use crate::wire::{self, SetError};
use serde_json::Value as Json;
use std::time::Duration;
use ups2mqtt::mib::{self, Access, Field, Source};
use ups2mqtt::oid::Oid;
use ups2mqtt::snmp::Value;

/// `upsTestId` and `upsTestSpinLock`: read-only in the point table (the
/// gateway does not offer them), writable on a real card (quirk Q8).
pub const TEST_ID: &str = "upsTestId";
pub const SPIN_LOCK: &str = "upsTestSpinLock";

/// One varbind of a SET, resolved to its point and checked for type and
/// legal value.
#[derive(Debug, Clone)]
pub struct SetTarget {
    pub field: &'static Field,
    pub source: &'static Source,
    /// Table row, 0 for scalars.
    pub row: u32,
    pub value: Value,
    /// The value in published units (`null` for a sentinel).
    pub json: Json,
}

impl SetTarget {
    fn path(&self) -> String {
        self.field.path()
    }

    fn raw(&self) -> i64 {
        self.value.as_i64().unwrap_or(0)
    }
}

/// True for objects a SET may target (point table read-write, or Q8).
pub fn is_writable(source: &Source) -> bool {
    source.is_writable() || [TEST_ID, SPIN_LOCK].contains(&source.object)
}

impl UpsState {
    /// Checks the state-dependent rules of a whole SET PDU; the error names
    /// the (0-based) varbind at fault.
    pub fn validate_set(&self, targets: &[SetTarget]) -> Result<(), (usize, SetError)> {
        let spin_lock_ok = targets
            .iter()
            .any(|t| t.source.object == SPIN_LOCK && self.test.spin_lock_matches(t.raw()));
        for (i, target) in targets.iter().enumerate() {
            self.validate_one(target, spin_lock_ok)
                .map_err(|e| (i, e))?;
        }
        Ok(())
    }

    fn validate_one(&self, target: &SetTarget, spin_lock_ok: bool) -> Result<(), SetError> {
        let object = target.source.object;
        match (target.path().as_str(), target.raw()) {
            (_, value) if object == SPIN_LOCK && !self.test.spin_lock_matches(value) => {
                Err(SetError::inconsistent(
                    object,
                    format!(
                        "TestAndIncr: {value} is not the current value {}",
                        self.test.spin_lock
                    ),
                ))
            }
            _ if object == TEST_ID => self.validate_test_id(target, spin_lock_ok),
            ("test.start" | "test.start_diagnostics", 2) => self.refuse_test(object),
            ("control.conserve_battery", _) if self.mains => {
                Err(SetError::inconsistent(object, "the UPS is not on battery"))
            }
            _ => Ok(()),
        }
    }

    fn refuse_test(&self, object: &str) -> Result<(), SetError> {
        match self.test_refusal() {
            Some(reason) => Err(SetError::inconsistent(object, reason)),
            None => Ok(()),
        }
    }

    fn validate_test_id(&self, target: &SetTarget, spin_lock_ok: bool) -> Result<(), SetError> {
        if !spin_lock_ok {
            return Err(SetError::inconsistent(
                TEST_ID,
                "needs upsTestSpinLock set to its current value in the same PDU",
            ));
        }
        match test_arc(&target.value) {
            Some(battery_test::ABORT_TEST_IN_PROGRESS) => Ok(()),
            Some(battery_test::GENERAL_SYSTEMS_TEST..=battery_test::DEEP_BATTERY_CALIBRATION) => {
                self.refuse_test(TEST_ID)
            }
            _ => Err(SetError::wrong_value(
                TEST_ID,
                "not a test this UPS can run (upsWellKnownTests.2..5)",
            )),
        }
    }

    /// Applies a validated SET PDU.
    pub fn apply_set(&mut self, targets: &[SetTarget]) {
        for target in targets {
            self.apply_one(target);
        }
        self.refresh();
    }

    fn apply_one(&mut self, t: &SetTarget) {
        let (row, raw) = (t.row, t.raw());
        let now = self.uptime;
        match t.path().as_str() {
            "test.spin_lock" => self.test.bump_spin_lock(),
            "test.id" => match test_arc(&t.value) {
                Some(battery_test::ABORT_TEST_IN_PROGRESS) => {
                    if let Some(finished) = self.test.abort(now) {
                        self.test_finished(finished);
                    }
                }
                Some(battery_test::GENERAL_SYSTEMS_TEST) => {
                    self.begin_test(TestKind::SelfTest, battery_test::GENERAL_SYSTEMS_TEST)
                }
                Some(arc) => self.begin_test(TestKind::Battery, arc),
                None => {}
            },
            "test.start" => {
                let arc = if t.source.mib == mib::Mib::Mge {
                    battery_test::DEEP_BATTERY_CALIBRATION
                } else {
                    battery_test::QUICK_BATTERY_TEST
                };
                self.begin_test(TestKind::Battery, arc);
            }
            "test.start_diagnostics" => {
                self.begin_test(TestKind::SelfTest, battery_test::GENERAL_SYSTEMS_TEST)
            }
            "test.calibration" => self.calibrate(raw == 2),
            "control.receptacles.on" => self.receptacle_command(row, Ctrl::On, raw),
            "control.receptacles.off" => self.receptacle_command(row, Ctrl::Off, raw),
            "control.receptacles.toggle" => self.receptacle_command(row, Ctrl::Toggle, raw),
            "control.outlet_groups.command" => self.group_command(row, raw),
            "control.shutdown_after_delay" => {
                self.start_countdown(Tag::RfcShutdown, &t.json, false)
            }
            "control.startup_after_delay" => self.start_countdown(Tag::RfcStartup, &t.json, true),
            "control.reboot_with_duration" => self.reboot_with_duration(&t.json),
            "control.ups_off" => self.powernet_off(raw == 3),
            "control.reboot" => self.powernet_reboot(),
            "control.ups_on" => self.powernet_on(raw == 4),
            "control.bypass_switch" => self.bypass = raw == 2,
            "control.conserve_battery" => self.set_output(false, Some(OffReason::Conserve)),
            "receptacles.outlet_groups.name" => {
                if let (Some(group), Json::String(name)) =
                    (self.groups.get_mut(row as usize - 1), &t.json)
                {
                    group.name = name.clone();
                }
                self.store(t);
            }
            _ => self.store(t),
        }
    }

    /// Stores a setting and mirrors it to the field's other sources that
    /// can carry the same value legally.
    fn store(&mut self, t: &SetTarget) {
        self.stored
            .insert((t.source.object, t.row), t.value.clone());
        for sibling in t
            .field
            .sources
            .iter()
            .filter(|s| s.object != t.source.object)
        {
            let Access::ReadWrite(legal) = sibling.access else {
                continue;
            };
            let Ok(raw) = wire::to_raw(sibling, &t.json) else {
                continue;
            };
            if wire::check_value(sibling, legal, &raw).is_ok() {
                self.stored.insert((sibling.object, t.row), raw);
            }
        }
    }

    fn begin_test(&mut self, kind: TestKind, arc: u32) {
        if let Err(reason) = self.start_test(kind, arc) {
            tracing::debug!(%reason, "test not started");
        }
    }

    fn calibrate(&mut self, start: bool) {
        self.calibration = match (start, self.calibration.running_since) {
            (true, _) => Calibration {
                running_since: Some(self.uptime),
                result: "in_progress",
                ..self.calibration
            },
            (false, Some(_)) => Calibration {
                running_since: None,
                result: "aborted",
                ..self.calibration
            },
            (false, None) => self.calibration,
        };
    }

    /// MGE mgreceptacleOn/Off/ToggleCtrl: start(2) after the row's delay,
    /// stop(3) cancels.
    fn receptacle_command(&mut self, row: u32, ctrl: Ctrl, raw: i64) {
        let tag = ctrl.tag(row);
        let Some(receptacle) = self.receptacles.get_mut(row as usize - 1) else {
            return;
        };
        let status = match ctrl {
            Ctrl::On => &mut receptacle.on_status,
            Ctrl::Off => &mut receptacle.off_status,
            Ctrl::Toggle => &mut receptacle.toggle_status,
        };
        if raw != 2 {
            *status = CtrlStatus::None;
            self.schedule.cancel(tag);
            return;
        }
        *status = CtrlStatus::Started;
        let delay = self
            .setting_delay(ctrl.delay_object(), row)
            .unwrap_or_default();
        let target = Target::Receptacle(row);
        let on = ctrl == Ctrl::On;
        if ctrl == Ctrl::Toggle {
            let duration = self
                .setting_delay("mgreceptacleToggleDuration", row)
                .unwrap_or_default();
            self.schedule_switch(delay, tag, target, false);
            self.schedule_switch(delay + duration, tag, target, true);
        } else {
            self.schedule_switch(delay, tag, target, on);
        }
        if !delay.is_zero() {
            let kind = if on {
                super::EventKind::ReceptacleOnScheduled
            } else {
                super::EventKind::ReceptacleOffScheduled
            };
            self.events.push(super::Event::row(kind, row));
        }
        for item in self.schedule.take_due(self.uptime) {
            self.run_timed(item);
        }
    }

    /// PowerNet upsOutletGroupControlCommand.
    fn group_command(&mut self, row: u32, raw: i64) {
        let tag = Tag::Group(row);
        let target = Target::Group(row);
        let delay = |state: &UpsState, object| state.setting_delay(object, row);
        let reboot = self
            .setting_delay("upsOutletGroupConfigRebootDuration", row)
            .unwrap_or(MIN_REBOOT_OFF);
        self.schedule.cancel(tag);
        match raw {
            1 => self.switch(target, true),
            2 => self.switch(target, false),
            3 | 9 => {
                self.switch(target, false);
                self.schedule_switch(reboot, tag, target, true);
            }
            4 => {
                if let Some(after) = delay(self, "upsOutletGroupConfigPowerOnDelay") {
                    self.schedule_switch(after, tag, target, true);
                }
            }
            5 => {
                if let Some(after) = delay(self, "upsOutletGroupConfigPowerOffDelay") {
                    self.schedule_switch(after, tag, target, false);
                }
            }
            6 | 10 => {
                let off = delay(self, "upsOutletGroupConfigPowerOffDelay").unwrap_or_default();
                self.schedule_switch(off, tag, target, false);
                self.schedule_switch(off + reboot, tag, target, true);
            }
            _ => {}
        }
        for item in self.schedule.take_due(self.uptime) {
            self.run_timed(item);
        }
    }

    /// RFC 1628 upsShutdownAfterDelay / upsStartupAfterDelay: -1 cancels,
    /// N switches the output after N seconds (0: now).
    fn start_countdown(&mut self, tag: Tag, seconds: &Json, on: bool) {
        self.schedule.cancel(tag);
        if let Some(secs) = seconds.as_f64().filter(|s| *s >= 0.0) {
            self.schedule_switch(Duration::from_secs_f64(secs), tag, Target::Output, on);
            for item in self.schedule.take_due(self.uptime) {
                self.run_timed(item);
            }
        }
    }

    /// RFC 1628 upsRebootWithDuration: off now, on after N seconds.
    fn reboot_with_duration(&mut self, seconds: &Json) {
        self.schedule.cancel(Tag::RfcReboot);
        if let Some(secs) = seconds.as_f64().filter(|s| *s >= 0.0) {
            self.set_output(false, Some(OffReason::Requested));
            self.schedule_switch(
                Duration::from_secs_f64(secs),
                Tag::RfcReboot,
                Target::Output,
                true,
            );
        }
    }

    fn powernet_off(&mut self, gracefully: bool) {
        let after = if gracefully {
            self.setting_delay("upsAdvConfigShutoffDelay", 0)
                .unwrap_or_default()
        } else {
            Duration::ZERO
        };
        self.schedule.cancel(Tag::PowerNet);
        self.schedule_switch(after, Tag::PowerNet, Target::Output, false);
        for item in self.schedule.take_due(self.uptime) {
            self.run_timed(item);
        }
    }

    fn powernet_reboot(&mut self) {
        let off_for = self
            .setting_delay("upsAdvConfigReturnDelay", 0)
            .unwrap_or_default()
            .max(MIN_REBOOT_OFF);
        self.schedule.cancel(Tag::PowerNet);
        self.set_output(false, Some(OffReason::Requested));
        self.schedule_switch(off_for, Tag::PowerNet, Target::Output, true);
    }

    fn powernet_on(&mut self, delayed: bool) {
        let after = if delayed {
            self.setting_delay("upsAdvConfigReturnDelay", 0)
                .unwrap_or_default()
        } else {
            Duration::ZERO
        };
        self.schedule.cancel(Tag::PowerNet);
        self.schedule_switch(after, Tag::PowerNet, Target::Output, true);
        for item in self.schedule.take_due(self.uptime) {
            self.run_timed(item);
        }
    }

    // ------------------------------------------------ `set` control

    /// The `set <field path> <json>` control command: a semantic reading
    /// (`battery.charge 40`), a setting (stored as if SET), or, for any
    /// other point, a value pinned until `unpin`. `row` limits a table
    /// column to one row (all rows otherwise).
    pub fn set_field(
        &mut self,
        path: &str,
        row: Option<u32>,
        json: &Json,
    ) -> Result<String, String> {
        let field = mib::field_by_path(path).ok_or_else(|| format!("no field {path:?}"))?;
        let result = match self.set_reading(path, row, json) {
            Some(result) => result,
            None if field.is_writable() => self.set_setting(field, row, json),
            None => self.pin(field, row, json),
        };
        self.refresh();
        result
    }

    /// Removes the pins of a field.
    pub fn unpin(&mut self, path: &str) -> Result<String, String> {
        let field = mib::field_by_path(path).ok_or_else(|| format!("no field {path:?}"))?;
        let before = self.pins.len();
        self.pins
            .retain(|(object, _), _| !field.sources.iter().any(|s| s.object == *object));
        self.refresh();
        Ok(format!(
            "unpinned {} value(s) of {path}",
            before - self.pins.len()
        ))
    }

    /// Readings the model computes from: `None` when `path` is not one.
    fn set_reading(
        &mut self,
        path: &str,
        row: Option<u32>,
        json: &Json,
    ) -> Option<Result<String, String>> {
        let reading = Reading::of(path)?;
        let number = || {
            json.as_f64()
                .ok_or_else(|| format!("{path} takes a number, not {json}"))
        };
        let flag = || {
            json.as_bool()
                .ok_or_else(|| format!("{path} takes true or false, not {json}"))
        };
        let phases: Vec<usize> = match row {
            Some(r) => (1..=self.phases())
                .filter(|p| *p == r as usize)
                .map(|p| p - 1)
                .collect(),
            None => (0..self.phases()).collect(),
        };
        let result = match reading {
            Reading::Charge => number().map(|x| self.charge = x.clamp(0.0, 100.0)),
            Reading::Runtime => number().map(|x| {
                let load = self.total_load().max(5.0);
                self.autonomy = x.max(1.0) / (self.charge.max(1.0) / 100.0) * (load / 100.0);
            }),
            Reading::BatteryTemperature => number().map(|x| self.battery_temperature = x),
            Reading::Replace => flag().map(|b| self.replace = b),
            Reading::Fault => flag().map(|b| self.fault = b),
            Reading::Overload => flag().map(|b| {
                self.set_overload(b);
            }),
            Reading::InputVoltage => {
                number().map(|x| phases.iter().for_each(|&p| self.input_voltage[p] = x))
            }
            Reading::Frequency => number().map(|x| self.frequency = x),
            Reading::Load => {
                number().map(|x| phases.iter().for_each(|&p| self.base_load[p] = x.max(0.0)))
            }
            Reading::Temperature => number().map(|x| self.ambient_temperature = x),
            Reading::Humidity => number().map(|x| self.ambient_humidity = x.clamp(0.0, 100.0)),
        };
        Some(result.map(|()| format!("{path} = {json}")))
    }

    fn field_rows(&self, field: &Field, row: Option<u32>) -> Vec<u32> {
        let all = defaults::rows_of(field, &self.settings.layout);
        match row {
            Some(r) if all.contains(&r) => vec![r],
            Some(_) => Vec::new(),
            None => all,
        }
    }

    fn set_setting(
        &mut self,
        field: &'static Field,
        row: Option<u32>,
        json: &Json,
    ) -> Result<String, String> {
        let rows = self.field_rows(field, row);
        let mut errors = Vec::new();
        for source in field.sources {
            let Access::ReadWrite(legal) = source.access else {
                continue;
            };
            let checked = wire::to_raw(source, json)
                .map_err(|e| e.to_string())
                .and_then(|raw| {
                    wire::check_value(source, legal, &raw)
                        .map(|_| raw)
                        .map_err(|e| e.to_string())
                });
            match checked {
                Ok(raw) => {
                    let targets: Vec<SetTarget> = rows
                        .iter()
                        .map(|&row| SetTarget {
                            field,
                            source,
                            row,
                            value: raw.clone(),
                            json: json.clone(),
                        })
                        .collect();
                    targets.iter().for_each(|t| self.apply_one(t));
                    return Ok(format!(
                        "{} = {json} ({} row(s))",
                        field.path(),
                        targets.len()
                    ));
                }
                Err(e) => errors.push(e),
            }
        }
        Err(errors.join("; "))
    }

    fn pin(
        &mut self,
        field: &'static Field,
        row: Option<u32>,
        json: &Json,
    ) -> Result<String, String> {
        let rows = self.field_rows(field, row);
        let mut pinned = 0;
        let mut errors = Vec::new();
        for source in field.sources {
            match wire::to_raw(source, json) {
                Ok(raw) => {
                    for &row in &rows {
                        self.pins.insert((source.object, row), raw.clone());
                        pinned += 1;
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        if pinned == 0 {
            return Err(format!(
                "cannot pin {}: {}",
                field.path(),
                errors.join("; ")
            ));
        }
        Ok(format!(
            "{} pinned to {json} ({pinned} value(s))",
            field.path()
        ))
    }
}

/// The readings the model computes from, settable with `set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Charge,
    Runtime,
    BatteryTemperature,
    Replace,
    Fault,
    Overload,
    InputVoltage,
    Frequency,
    Load,
    Temperature,
    Humidity,
}

impl Reading {
    fn of(path: &str) -> Option<Reading> {
        Some(match path {
            "battery.charge" => Reading::Charge,
            "battery.runtime" => Reading::Runtime,
            "battery.temperature" => Reading::BatteryTemperature,
            "battery.replace" => Reading::Replace,
            "battery.fault" => Reading::Fault,
            "output.overload" => Reading::Overload,
            "input.voltage" | "input.lines.voltage" => Reading::InputVoltage,
            "input.frequency" | "input.lines.frequency" => Reading::Frequency,
            "output.load" | "output.lines.load" => Reading::Load,
            "environment.ambient_temperature"
            | "environment.sensors.temperature"
            | "environment.probes.temperature" => Reading::Temperature,
            "environment.ambient_humidity"
            | "environment.sensors.humidity"
            | "environment.probes.humidity" => Reading::Humidity,
            _ => return None,
        })
    }
}

/// The MGE receptacle commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctrl {
    On,
    Off,
    Toggle,
}

impl Ctrl {
    fn tag(self, row: u32) -> Tag {
        match self {
            Ctrl::On => Tag::ReceptacleOn(row),
            Ctrl::Off => Tag::ReceptacleOff(row),
            Ctrl::Toggle => Tag::ReceptacleToggle(row),
        }
    }

    fn delay_object(self) -> &'static str {
        match self {
            Ctrl::On => "mgreceptacleOnDelay",
            Ctrl::Off => "mgreceptacleOffDelay",
            Ctrl::Toggle => "mgreceptacleToggleDelay",
        }
    }
}

/// The `upsWellKnownTests` arc of an `upsTestId` value.
fn test_arc(value: &Value) -> Option<u32> {
    let Value::ObjectId(oid) = value else {
        return None;
    };
    let root = Oid::parse(battery_test::WELL_KNOWN_TESTS).ok()?;
    match oid.suffix_after(&root)? {
        [arc] => Some(*arc),
        _ => None,
    }
}
