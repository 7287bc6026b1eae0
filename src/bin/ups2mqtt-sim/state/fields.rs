//! Field path → published JSON value, for every point the model drives.
//!
//! [`UpsState::field_json`] answers in the field's published units and,
//! where the MIBs name the same fact differently (test results, transfer
//! causes, battery status), in the vocabulary of the asking source; the
//! OID view turns the answer into the wire value with
//! `ups2mqtt::pages::encode_value`. Whether a path is driven depends on the
//! path alone (never on the state), so the view can classify points once.

use super::battery_test::{self, Outcome, Phase, TestKind};
use super::outlets::Tag;
use super::{OutputSource, Transfer, UpsState, round_to};
use serde_json::{Value as Json, json};
use ups2mqtt::mib::{Mib, Source};

impl UpsState {
    /// The value of a driven field for `source` and table `row` (1-based,
    /// 0 for scalars); `None` when the model does not drive `path`.
    pub fn field_json(&self, path: &str, source: &Source, row: u32) -> Option<Json> {
        let (page, rest) = path.split_once('.')?;
        let i = row.saturating_sub(1) as usize;
        match page {
            "general" => self.general(rest),
            "alarms" => (rest == "present").then(|| json!(self.alarms.len())),
            "input" => self.input(rest, source.mib, i),
            "output" => self.output(rest, source.mib, i),
            "battery" => self.battery(rest, source.mib),
            "receptacles" => self.receptacle(rest, source.mib, i),
            "devices" => (rest == "count").then(|| json!(self.settings.layout.devices)),
            "environment" => self.environment(rest, row),
            "control" => self.control(rest, i),
            "test" => self.test(rest, source.mib),
            _ => None,
        }
    }

    fn general(&self, key: &str) -> Option<Json> {
        match key {
            "serial_number" => Some(match &self.serial {
                Some(serial) => json!(serial),
                None => ups2mqtt::mib::field_by_path("general.serial_number")
                    .and_then(|f| self.defaults.json(f, 0))
                    .unwrap_or(Json::Null),
            }),
            _ => None,
        }
    }

    fn input(&self, key: &str, mib: Mib, i: usize) -> Option<Json> {
        let volts = self.input_voltage(i);
        let bypass = self.output_source() == OutputSource::Bypass;
        Some(match key {
            "num_lines" | "bypass_num_lines" => json!(self.phases()),
            "line_bads" => json!(self.line_bads),
            "bad" => json!(!self.mains),
            "transfer_reason" => json!(self.transfer_label(mib)),
            "voltage" => json!(round_to(volts, 1)),
            "lines.voltage" | "bypass_lines.voltage" => json!(self.line_volts(volts, mib)),
            "lines.voltage_phase_to_neutral" | "bypass_lines.voltage_phase_to_neutral" => {
                json!(volts.round())
            }
            "voltage_orientation" | "bypass_voltage_orientation" => json!(self.orientation()),
            "lines.voltage_phase_to_phase" => json!(round_to(volts * 3f64.sqrt(), 1)),
            "lines.voltage_phase_to_phase_max" => {
                json!(round_to(
                    if volts > 0.0 {
                        (volts + 3.0) * 3f64.sqrt()
                    } else {
                        0.0
                    },
                    1
                ))
            }
            "lines.voltage_phase_to_phase_min" => {
                json!(round_to(
                    if volts > 0.0 {
                        (volts - 2.0) * 3f64.sqrt()
                    } else {
                        0.0
                    },
                    1
                ))
            }
            "voltage_max" | "lines.voltage_max" => {
                json!(round_to(if volts > 0.0 { volts + 3.0 } else { 0.0 }, 1))
            }
            "voltage_min" | "lines.voltage_min" => {
                json!(round_to(if volts > 0.0 { volts - 2.0 } else { 0.0 }, 1))
            }
            "frequency" | "lines.frequency" | "bypass_frequency" => json!(self.input_frequency()),
            "lines.current" => json!(round_to(self.input_current(i), 1)),
            "lines.power" => json!((self.input_current(i) * volts * 0.95).round()),
            "bypass_lines.current" => json!(if bypass {
                round_to(self.output_current(i), 1)
            } else {
                0.0
            }),
            "bypass_lines.power" => json!(if bypass {
                self.phase_watts(i).round()
            } else {
                0.0
            }),
            _ => return None,
        })
    }

    fn transfer_label(&self, mib: Mib) -> &'static str {
        match (mib, self.last_transfer) {
            (Mib::Mge, _) if !self.mains => "utility_off",
            (Mib::Mge, _) => "no",
            (_, Transfer::None) => "no_transfer",
            (_, Transfer::Blackout) => "blackout",
            (_, Transfer::SelfTest) => "self_test",
        }
    }

    /// A line voltage as the MIB reports it: PowerNet's upsPhase tables of
    /// a 3-phase card carry phase-to-phase volts (as a Galaxy VS does),
    /// every other source phase-to-neutral.
    fn line_volts(&self, phase_to_neutral: f64, mib: Mib) -> f64 {
        if mib == Mib::PowerNet && self.phases() == 3 {
            (phase_to_neutral * 3f64.sqrt()).round()
        } else {
            round_to(phase_to_neutral, 1)
        }
    }

    /// upsPhase*VoltageOrientation of this card.
    fn orientation(&self) -> &'static str {
        if self.phases() == 3 {
            "three_phase_phase_to_phase"
        } else {
            "single_phase"
        }
    }

    fn output(&self, key: &str, mib: Mib, i: usize) -> Option<Json> {
        let source = self.output_source();
        Some(match key {
            "source" => json!(match source {
                OutputSource::None => "none",
                OutputSource::Normal => "normal",
                OutputSource::Bypass => "bypass",
                OutputSource::Battery => "battery",
            }),
            "status" => json!(match source {
                OutputSource::None => "off",
                OutputSource::Normal => "on_line",
                OutputSource::Bypass => "switched_bypass",
                OutputSource::Battery => "on_battery",
            }),
            "num_lines" => json!(self.phases()),
            "frequency" | "lines.frequency" => json!(self.output_frequency()),
            "voltage" => json!(round_to(self.output_voltage(i), 1)),
            "lines.voltage" => json!(self.line_volts(self.output_voltage(i), mib)),
            "lines.voltage_phase_to_neutral" => json!(self.output_voltage(i).round()),
            "lines.voltage_phase_to_phase" => {
                json!(round_to(self.output_voltage(i) * 3f64.sqrt(), 1))
            }
            "voltage_orientation" => json!(self.orientation()),
            "current" | "lines.current" => json!(round_to(self.output_current(i), 1)),
            "load" => json!(round_to(self.total_load(), 1)),
            "lines.load" => json!(self.load(i).round()),
            "power" => json!(
                (0..self.phases())
                    .map(|p| self.phase_watts(p))
                    .sum::<f64>()
                    .round()
            ),
            "lines.power" => json!(self.phase_watts(i).round()),
            "on_battery" => json!(source == OutputSource::Battery),
            "on_bypass" => json!(source == OutputSource::Bypass),
            "bypass_unavailable" => json!(!self.mains),
            "utility_off" => json!(!self.output_on),
            "inverter_off" => json!(matches!(source, OutputSource::None | OutputSource::Bypass)),
            "overload" => json!(self.overload),
            "no_bypass" | "on_boost" | "on_buck" | "over_temperature" => json!(false),
            _ => return None,
        })
    }

    fn battery(&self, key: &str, mib: Mib) -> Option<Json> {
        let on_battery = self.output_source() == OutputSource::Battery;
        Some(match key {
            "charge" => json!(round_to(self.charge, 1)),
            "runtime" => json!(self.runtime().round()),
            "status" => json!(match (mib, self.low) {
                (Mib::PowerNet, _) if self.fault => "fault",
                (_, _) if self.charge <= 0.0 && mib == Mib::Rfc1628 => "depleted",
                (_, true) => "low",
                (_, false) => "normal",
            }),
            "voltage" => json!(round_to(self.battery_voltage(), 1)),
            "current" => match mib {
                Mib::Rfc1628 => json!(round_to(self.battery_current(), 1)),
                _ => json!(round_to(self.battery_current().abs(), 1)),
            },
            "temperature" => json!(self.battery_temperature),
            "time_on_battery" => json!(self.seconds_on_battery()),
            "recharge_time" => json!(self.recharge_time().round()),
            "fault" => json!(self.fault),
            "replace" => json!(self.replace),
            "not_high_charge" => json!(self.charge < 95.0),
            "low" => json!(self.low),
            "low_condition" => json!(self.low && on_battery),
            "missing" | "unavailable" | "charger_fault" | "low_recharge" => json!(false),
            _ => return None,
        })
    }

    fn receptacle(&self, key: &str, mib: Mib, i: usize) -> Option<Json> {
        let receptacle = self.receptacles.get(i);
        let group = self.groups.get(i);
        let on = receptacle.is_some_and(|r| r.on) && self.output_powered();
        let switched = self.receptacles.len().saturating_sub(1).max(1) as f64;
        let total_va: f64 = (0..self.phases()).map(|p| self.phase_va(p)).sum();
        Some(match key {
            "count" => json!(if mib == Mib::PowerNet {
                self.groups.len()
            } else {
                self.receptacles.len()
            }),
            "receptacles.state" => json!(receptacle.map_or("normal_off", |r| r.state_label())),
            "receptacles.apparent_power" => {
                let share = if i == 0 {
                    total_va
                } else {
                    total_va / switched
                };
                json!(if on { share.round() } else { 0.0 })
            }
            "receptacles.runtime" => json!(if on { self.runtime().round() } else { 0.0 }),
            "outlet_groups.name" => json!(group.map_or("", |g| g.name.as_str())),
            "outlet_groups.state" => json!(if group.is_some_and(|g| g.on) {
                "on"
            } else {
                "off"
            }),
            "outlet_groups.command_pending" => json!(self.group_pending(i)),
            "outlet_groups.full_state" => {
                let state = if group.is_some_and(|g| g.on) {
                    "On"
                } else {
                    "Off"
                };
                let pending = if self.group_pending(i) {
                    ", Pending"
                } else {
                    ""
                };
                json!(format!("{state}{pending}"))
            }
            _ => return None,
        })
    }

    fn group_pending(&self, i: usize) -> bool {
        self.schedule.find(Tag::Group(i as u32 + 1)).is_some()
    }

    fn environment(&self, key: &str, row: u32) -> Option<Json> {
        let threshold = |object: &'static str| self.setting_f64(object, row.max(1));
        let (t, h) = (self.ambient_temperature, self.ambient_humidity);
        let below = |x: f64, object| threshold(object).is_some_and(|limit| x < limit);
        let above = |x: f64, object| threshold(object).is_some_and(|limit| x > limit);
        Some(match key {
            "ambient_temperature" | "sensors.temperature" => json!(t),
            "ambient_humidity" | "sensors.humidity" => json!(h),
            "probes.temperature" => json!(t.round()),
            "probes.humidity" => json!(h.round()),
            "sensors.temperature_low" => json!(below(t, "upsmgConfigTemperatureLow")),
            "sensors.temperature_high" => json!(above(t, "upsmgConfigTemperatureHigh")),
            "sensors.humidity_low" => json!(below(h, "upsmgConfigHumidityLow")),
            "sensors.humidity_high" => json!(above(h, "upsmgConfigHumidityHigh")),
            _ => return None,
        })
    }

    fn control(&self, key: &str, i: usize) -> Option<Json> {
        let receptacle = self.receptacles.get(i);
        let status = |f: fn(&super::outlets::Receptacle) -> super::outlets::CtrlStatus| {
            json!(receptacle.map_or("none", |r| f(r).label()))
        };
        Some(match key {
            "outlet_groups.name" => json!(self.groups.get(i).map_or("", |g| g.name.as_str())),
            "outlet_groups.command" => {
                json!(if self.groups.get(i).is_some_and(|g| g.on) {
                    "immediate_on"
                } else {
                    "immediate_off"
                })
            }
            "receptacles.on" | "receptacles.off" | "receptacles.toggle" => json!("nothing"),
            "receptacles.on_status" => status(|r| r.on_status),
            "receptacles.off_status" => status(|r| r.off_status),
            "receptacles.toggle_status" => status(|r| r.toggle_status),
            "shutdown_after_delay" => self.countdown(Tag::RfcShutdown),
            "startup_after_delay" => self.countdown(Tag::RfcStartup),
            "reboot_with_duration" => self.countdown(Tag::RfcReboot),
            "ups_off" => json!("no_turn_ups_off"),
            "reboot" => json!("no_reboot_shutdown_ups"),
            "ups_on" => json!("no_turn_on_ups"),
            "bypass_switch" => json!("no_bypass_switch"),
            "conserve_battery" => json!("no_turn_off_ups"),
            _ => return None,
        })
    }

    /// Seconds left of an RFC 1628 countdown, `null` (-1) when idle.
    fn countdown(&self, tag: Tag) -> Json {
        match self.schedule.find(tag) {
            Some(item) => json!(item.at.saturating_sub(self.uptime).as_secs_f64().ceil()),
            None => Json::Null,
        }
    }

    fn test(&self, key: &str, mib: Mib) -> Option<Json> {
        let phase = self.test.phase();
        let running_or_last = match phase {
            Phase::Running { test, started, .. } => {
                Some((test, started, self.uptime.saturating_sub(started)))
            }
            Phase::Done(f) => Some((f.test, f.started, f.elapsed)),
            Phase::Idle => None,
        };
        let battery_date =
            |at: Option<std::time::Duration>| json!(self.date(at.unwrap_or_default()));
        Some(match key {
            "start" => json!(if mib == Mib::Mge {
                "default"
            } else {
                "no_test"
            }),
            "start_diagnostics" => json!("default"),
            "result" => json!(self.result_label(mib)),
            "diagnostics_result" => json!(match self.test.last_self_test {
                Some(Outcome::Passed) => "success",
                Some(Outcome::Failed) => "failed",
                _ => "none",
            }),
            "result_detail" => json!(self.result_detail()),
            "last_date" | "battery_last_date" => {
                battery_date(self.test.last_battery.map(|f| f.started + f.elapsed))
            }
            "battery_last_success_date" => battery_date(self.test.last_battery_success),
            "id" => {
                let arc =
                    running_or_last.map_or(battery_test::NO_TESTS_INITIATED, |(test, ..)| test);
                json!(format!("{}.{arc}", battery_test::WELL_KNOWN_TESTS))
            }
            "spin_lock" => json!(self.test.spin_lock),
            "start_time" => {
                let ticks = running_or_last.map_or(0, |(_, started, _)| self.ticks_at(started));
                json!(f64::from(ticks) / 100.0)
            }
            "elapsed_time" => {
                json!(running_or_last.map_or(0.0, |(.., elapsed)| elapsed.as_secs_f64()))
            }
            "calibration" => json!("no_calibration"),
            "calibration_result" => json!(self.calibration.result),
            "calibration_date" => json!(match self.calibration.finished_at {
                Some(at) => self.date(at),
                None => "Unknown".to_string(),
            }),
            "process_status" => json!(if self.test.running() {
                "in_progress"
            } else {
                "ok"
            }),
            "battery_condition" => json!(if self.replace {
                "capacity_decreased"
            } else {
                "ok"
            }),
            _ => return None,
        })
    }

    /// The test result in each MIB's vocabulary.
    fn result_label(&self, mib: Mib) -> &'static str {
        let battery = |f: &battery_test::Finished| f.kind == TestKind::Battery;
        match (mib, self.test.phase()) {
            (Mib::PowerNet, Phase::Running { .. }) => "in_progress",
            (Mib::PowerNet, Phase::Done(f)) if f.outcome == Outcome::Failed => "failed",
            (Mib::PowerNet, Phase::Done(f)) if f.outcome == Outcome::Aborted => "invalid_test",
            (Mib::PowerNet, _) => "ok",
            (Mib::Mge, _) => match self.test.last_battery {
                Some(f) if battery(&f) && f.outcome == Outcome::Passed => "main_success",
                Some(f) if battery(&f) && f.outcome == Outcome::Failed => "main_failed",
                _ => "none",
            },
            (Mib::Rfc1628, Phase::Idle) => "no_tests_initiated",
            (Mib::Rfc1628, Phase::Running { .. }) => "in_progress",
            (Mib::Rfc1628, Phase::Done(f)) => match f.outcome {
                Outcome::Passed => "done_pass",
                Outcome::Failed => "done_error",
                Outcome::Aborted => "aborted",
            },
            (Mib::System, _) => "none",
        }
    }

    fn result_detail(&self) -> &'static str {
        match self.test.phase() {
            Phase::Idle => "",
            Phase::Running { .. } => "Test in progress",
            Phase::Done(f) => match f.outcome {
                Outcome::Passed => "Test passed",
                Outcome::Failed if self.fault => "Test failed: battery fault",
                Outcome::Failed => "Test failed: battery needs replacement",
                Outcome::Aborted => "Test aborted",
            },
        }
    }
}
