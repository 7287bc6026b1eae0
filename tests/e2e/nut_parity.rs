//! Parity with Home Assistant's NUT integration, as data: every sensor
//! that integration (Home Assistant 2026.2.3,
//! `homeassistant/components/nut/sensor.py`) can create, with its unit,
//! device class and default, and the ups2mqtt entity that shows the same
//! fact; then its switches, buttons and commands. `tests/home_assistant.rs`
//! checks the equivalents in a real Home Assistant and renders the README's
//! table "Coming from Home Assistant's NUT integration" from this list.
//!
//! `ours` is a component id (the unique id after `<gateway>_<ups>_`), with
//! `|` between alternatives (the first present on the card counts) and
//! `{n}` for a phase (NUT's `L1`..`L3`) or an outlet number.

/// How sure the equivalent is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// The same fact, unit and device class.
    Same,
    /// The same fact in another shape (an enum instead of seconds, flags
    /// instead of a status text, line 1 for the whole): no unit check.
    Near,
    /// No MIB object of the three carries it, or the point table has none.
    None,
}

pub struct Sensor {
    /// NUT variable (`{n}`: phase 1-3 for `L{n}`, else the outlet number).
    pub nut: &'static str,
    pub unit: Option<&'static str>,
    pub class: Option<&'static str>,
    /// Enabled by default in Home Assistant's NUT integration.
    pub nut_enabled: bool,
    pub matches: Match,
    pub ours: &'static str,
    /// The JSON field of the page (`page.key`, `page.table[n].key`).
    pub json: &'static str,
    pub note: &'static str,
}

impl Sensor {
    /// NUT variables this row stands for: three for `L{n}` rows, one
    /// otherwise (an outlet row counts once, as the integration's
    /// description does).
    pub fn nut_count(&self) -> usize {
        if self.nut.contains("L{n}") { 3 } else { 1 }
    }

    /// Enabled by default in ups2mqtt: what the NUT integration enables,
    /// and [`ENABLED_TOO`].
    pub fn enabled(&self) -> bool {
        self.nut_enabled || ENABLED_TOO.contains(&self.nut)
    }
}

/// Enabled here although the NUT integration hides them: the runtime and
/// the output real power (the Energy dashboard's power sensor). The
/// per-line voltages and loads are diagnostic as in NUT: every card with
/// lines has the whole-UPS input/output voltage and load (the card's own,
/// else combined from its lines), which are shown first.
pub const ENABLED_TOO: &[&str] = &["battery.runtime", "ups.realpower", "output.realpower"];

#[allow(clippy::too_many_arguments)]
const fn s(
    nut: &'static str,
    unit: Option<&'static str>,
    class: Option<&'static str>,
    nut_enabled: bool,
    matches: Match,
    ours: &'static str,
    json: &'static str,
    note: &'static str,
) -> Sensor {
    Sensor {
        nut,
        unit,
        class,
        nut_enabled,
        matches,
        ours,
        json,
        note,
    }
}

use Match::{Near, None as No, Same};

const V: Option<&str> = Some("V");
const A: Option<&str> = Some("A");
const W: Option<&str> = Some("W");
const VA: Option<&str> = Some("VA");
const HZ: Option<&str> = Some("Hz");
const PCT: Option<&str> = Some("%");
const SEC: Option<&str> = Some("s");
const DEG: Option<&str> = Some("°C");
const NONE: Option<&str> = None;
const VOLTAGE: Option<&str> = Some("voltage");
const CURRENT: Option<&str> = Some("current");
const POWER: Option<&str> = Some("power");
const APPARENT: Option<&str> = Some("apparent_power");
const FREQUENCY: Option<&str> = Some("frequency");
const DURATION: Option<&str> = Some("duration");
const TEMPERATURE: Option<&str> = Some("temperature");
const ENUM: Option<&str> = Some("enum");

/// Every sensor of the NUT integration, in its order (sensor.py's
/// `SENSOR_TYPES`, then the per-outlet ones).
#[rustfmt::skip]
pub static SENSORS: &[Sensor] = &[
    s("ups.status.display", NONE, NONE, true, Same, "output_status_text", "output.status_text", "Status: \"Online, charging\""),
    s("ups.status", NONE, NONE, true, Same, "output_ups_status", "output.ups_status", "Status data: NUT flags, \"OL CHRG\""),
    s("ups.alarm", NONE, NONE, true, Same, "alarms_active", "alarms.active[].alarm", "Active alarms: the names, comma-separated; rows as attributes"),
    s("ups.temperature", DEG, TEMPERATURE, false, No, "", "", ""),
    s("ups.load", PCT, NONE, true, Same, "output_load|output_lines_1_load", "output.load, output.lines[1].load", ""),
    s("ups.load.high", PCT, NONE, false, No, "", "", ""),
    s("ups.id", NONE, NONE, false, Same, "general_name", "general.name", "text entity (writable)"),
    s("ups.delay.start", SEC, DURATION, false, Same, "config_return_delay", "config.return_delay", "number entity"),
    s("ups.delay.reboot", SEC, DURATION, false, No, "", "", ""),
    s("ups.delay.shutdown", SEC, DURATION, false, Same, "config_shutoff_delay", "config.shutoff_delay", "number entity"),
    s("ups.timer.start", SEC, DURATION, false, Same, "control_startup_after_delay", "control.startup_after_delay", "number entity"),
    s("ups.timer.reboot", SEC, DURATION, false, Same, "control_reboot_with_duration", "control.reboot_with_duration", "number entity"),
    s("ups.timer.shutdown", SEC, DURATION, false, Same, "control_shutdown_after_delay", "control.shutdown_after_delay", "number entity"),
    s("ups.test.interval", SEC, DURATION, false, Near, "test_schedule", "test.schedule", "select: biweekly, weekly, ... instead of seconds"),
    s("ups.test.result", NONE, NONE, false, Same, "test_result", "test.result", "enum"),
    s("ups.test.date", NONE, NONE, false, Same, "test_last_date", "test.last_date", ""),
    s("ups.display.language", NONE, NONE, false, No, "", "", ""),
    s("ups.contacts", NONE, NONE, false, Near, "environment_sensors_1_input_1", "environment.sensors[n].input_1, input_2", "one enum (closed/open) per contact"),
    s("ups.efficiency", PCT, NONE, false, No, "", "", ""),
    s("ups.power", VA, APPARENT, false, Near, "receptacles_receptacles_1_apparent_power", "receptacles.receptacles[1].apparent_power", "MGE receptacle 1 is the whole output"),
    s("ups.power.nominal", VA, APPARENT, false, Same, "config_nominal_apparent_power", "config.nominal_apparent_power", ""),
    s("ups.realpower", W, POWER, false, Same, "output_power", "output.power", ""),
    s("ups.realpower.nominal", W, POWER, false, Same, "config_nominal_power", "config.nominal_power", ""),
    s("ups.beeper.status", NONE, ENUM, false, Same, "config_beeper|config_alarm_audible", "config.beeper, config.alarm_audible", "select disabled/enabled/muted (RFC 1628), switch (MGE)"),
    s("ups.type", NONE, NONE, false, No, "", "", ""),
    s("ups.watchdog.status", NONE, NONE, false, No, "", "", ""),
    s("ups.start.auto", NONE, NONE, false, Same, "config_automatic_restart", "config.automatic_restart", "select"),
    s("ups.start.battery", NONE, NONE, false, No, "", "", ""),
    s("ups.start.reboot", NONE, NONE, false, No, "", "", ""),
    s("ups.shutdown", NONE, NONE, false, No, "", "", ""),
    s("battery.charge", PCT, Some("battery"), true, Same, "battery_charge", "battery.charge", ""),
    s("battery.charge.low", PCT, NONE, false, Same, "config_low_battery_level", "config.low_battery_level", "number entity"),
    s("battery.charge.restart", PCT, NONE, false, Same, "config_min_return_capacity", "config.min_return_capacity", "number entity"),
    s("battery.charge.warning", PCT, NONE, false, No, "", "", ""),
    s("battery.charger.status", NONE, ENUM, true, Near, "output_ups_status", "output.ups_status", "CHRG / DISCHRG flags"),
    s("battery.voltage", V, VOLTAGE, false, Same, "battery_voltage", "battery.voltage", ""),
    s("battery.voltage.nominal", V, VOLTAGE, false, Same, "battery_nominal_voltage|config_nominal_battery_voltage", "battery.nominal_voltage, config.nominal_battery_voltage", ""),
    s("battery.voltage.low", V, VOLTAGE, false, No, "", "", ""),
    s("battery.voltage.high", V, VOLTAGE, false, No, "", "", ""),
    s("battery.capacity", Some("Ah"), NONE, false, No, "", "", ""),
    s("battery.current", A, CURRENT, false, Same, "battery_current", "battery.current", ""),
    s("battery.current.total", A, CURRENT, false, No, "", "", ""),
    s("battery.temperature", DEG, TEMPERATURE, false, Same, "battery_temperature", "battery.temperature", ""),
    s("battery.runtime", SEC, DURATION, false, Same, "battery_runtime", "battery.runtime", "enabled here"),
    s("battery.runtime.low", SEC, DURATION, false, Same, "config_low_battery_runtime", "config.low_battery_runtime", "number entity"),
    s("battery.runtime.restart", SEC, DURATION, false, No, "", "", ""),
    s("battery.alarm.threshold", NONE, NONE, false, No, "", "", ""),
    s("battery.date", NONE, NONE, false, No, "", "", ""),
    s("battery.mfr.date", NONE, NONE, false, No, "", "", ""),
    s("battery.packs", NONE, NONE, false, No, "", "", ""),
    s("battery.packs.bad", NONE, NONE, false, No, "", "", ""),
    s("battery.type", NONE, NONE, false, No, "", "", ""),
    s("input.sensitivity", NONE, NONE, false, No, "", "", "PowerNet upsAdvConfigSensitivity is not in the point table yet"),
    s("input.transfer.low", V, VOLTAGE, false, Same, "config_low_transfer_voltage", "config.low_transfer_voltage", "number entity"),
    s("input.transfer.high", V, VOLTAGE, false, Same, "config_high_transfer_voltage", "config.high_transfer_voltage", "number entity"),
    s("input.transfer.reason", NONE, NONE, false, Same, "input_transfer_reason", "input.transfer_reason", "enum"),
    s("input.voltage", V, VOLTAGE, true, Same, "input_voltage|input_lines_1_voltage", "input.voltage, input.lines[1].voltage", ""),
    s("input.voltage.nominal", V, VOLTAGE, false, Same, "config_input_nominal_voltage", "config.input_nominal_voltage", "number entity"),
    s("input.voltage.status", NONE, NONE, false, No, "", "", ""),
    s("input.L{n}-N.voltage", V, VOLTAGE, false, Same, "input_lines_{n}_voltage", "input.lines[n].voltage", "input_voltage is their mean where the card has no total"),
    s("input.frequency", HZ, FREQUENCY, false, Same, "input_frequency|input_lines_1_frequency", "input.frequency, input.lines[1].frequency", ""),
    s("input.frequency.nominal", HZ, FREQUENCY, false, Same, "config_input_nominal_frequency", "config.input_nominal_frequency", "number entity"),
    s("input.frequency.status", NONE, NONE, false, No, "", "", ""),
    s("input.L{n}.frequency", HZ, FREQUENCY, false, Same, "input_lines_{n}_frequency", "input.lines[n].frequency", ""),
    s("input.bypass.current", A, CURRENT, false, Near, "input_bypass_lines_1_current", "input.bypass_lines[1].current", "line 1: the whole bypass on single-phase cards"),
    s("input.bypass.L{n}.current", A, CURRENT, false, Same, "input_bypass_lines_{n}_current", "input.bypass_lines[n].current", ""),
    s("input.bypass.frequency", HZ, FREQUENCY, false, Same, "input_bypass_frequency", "input.bypass_frequency", ""),
    s("input.bypass.phases", NONE, NONE, false, Same, "input_bypass_num_lines", "input.bypass_num_lines", ""),
    s("input.bypass.realpower", W, POWER, false, Near, "input_bypass_lines_1_power", "input.bypass_lines[1].power", "line 1: the whole bypass on single-phase cards"),
    s("input.bypass.L{n}.realpower", W, POWER, false, Same, "input_bypass_lines_{n}_power", "input.bypass_lines[n].power", ""),
    s("input.bypass.voltage", V, VOLTAGE, false, Near, "input_bypass_lines_1_voltage", "input.bypass_lines[1].voltage", "line 1: the whole bypass on single-phase cards"),
    s("input.bypass.L{n}-N.voltage", V, VOLTAGE, false, Same, "input_bypass_lines_{n}_voltage", "input.bypass_lines[n].voltage", ""),
    s("input.current", A, CURRENT, false, Near, "input_lines_1_current", "input.lines[1].current", "line 1: the whole input on single-phase cards"),
    s("input.current.status", NONE, ENUM, false, No, "", "", ""),
    s("input.L{n}.current", A, CURRENT, false, Same, "input_lines_{n}_current", "input.lines[n].current", ""),
    s("input.load", PCT, NONE, true, No, "", "", ""),
    s("input.phases", NONE, NONE, false, Same, "input_num_lines", "input.num_lines", ""),
    s("input.power", VA, APPARENT, false, No, "", "", ""),
    s("input.realpower", W, POWER, false, Near, "input_lines_1_power", "input.lines[1].power", "line 1: the whole input on single-phase cards"),
    s("input.L{n}.realpower", W, POWER, false, Same, "input_lines_{n}_power", "input.lines[n].power", ""),
    s("outlet.voltage", V, VOLTAGE, true, No, "", "", ""),
    s("outlet.current", A, CURRENT, false, No, "", "", ""),
    s("outlet.power", VA, APPARENT, false, Near, "receptacles_receptacles_1_apparent_power", "receptacles.receptacles[1].apparent_power", "MGE receptacle 1 is the whole output"),
    s("outlet.realpower", W, POWER, false, No, "", "", ""),
    s("output.power.nominal", VA, APPARENT, false, Same, "config_nominal_apparent_power", "config.nominal_apparent_power", ""),
    s("output.L{n}.power.percent", PCT, NONE, false, Same, "output_lines_{n}_load", "output.lines[n].load", "output_load is the highest line where the card has no total"),
    s("output.current", A, CURRENT, false, Same, "output_current", "output.current", ""),
    s("output.current.nominal", A, CURRENT, false, Same, "config_output_nominal_current", "config.output_nominal_current", ""),
    s("output.L{n}.current", A, CURRENT, false, Same, "output_lines_{n}_current", "output.lines[n].current", ""),
    s("output.voltage", V, VOLTAGE, true, Same, "output_voltage|output_lines_1_voltage", "output.voltage, output.lines[1].voltage", ""),
    s("output.voltage.nominal", V, VOLTAGE, false, Same, "config_output_nominal_voltage", "config.output_nominal_voltage", "number entity"),
    s("output.L{n}-N.voltage", V, VOLTAGE, false, Same, "output_lines_{n}_voltage", "output.lines[n].voltage", "output_voltage is their mean where the card has no total"),
    s("output.frequency", HZ, FREQUENCY, false, Same, "output_frequency", "output.frequency", ""),
    s("output.frequency.nominal", HZ, FREQUENCY, false, Same, "config_output_nominal_frequency", "config.output_nominal_frequency", "number entity"),
    s("output.phases", NONE, NONE, false, Same, "output_num_lines", "output.num_lines", ""),
    s("output.power", VA, APPARENT, false, Near, "receptacles_receptacles_1_apparent_power", "receptacles.receptacles[1].apparent_power", "MGE receptacle 1 is the whole output"),
    s("output.realpower", W, POWER, false, Same, "output_power", "output.power", ""),
    s("output.realpower.nominal", W, POWER, false, Same, "config_nominal_power", "config.nominal_power", ""),
    s("output.L{n}.realpower", W, POWER, false, Same, "output_lines_{n}_power", "output.lines[n].power", ""),
    s("ambient.humidity", PCT, Some("humidity"), true, Same, "environment_ambient_humidity", "environment.ambient_humidity", ""),
    s("ambient.humidity.status", NONE, ENUM, true, Near, "environment_sensors_1_humidity_high", "environment.sensors[n].humidity_low, humidity_high", "two problem binary sensors per sensor"),
    s("ambient.temperature", DEG, TEMPERATURE, true, Same, "environment_ambient_temperature", "environment.ambient_temperature", ""),
    s("ambient.temperature.status", NONE, ENUM, true, Near, "environment_sensors_1_temperature_high", "environment.sensors[n].temperature_low, temperature_high", "two problem binary sensors per sensor"),
    s("outlet.{n}.current", A, CURRENT, true, No, "", "", ""),
    s("outlet.{n}.current_status", NONE, NONE, false, No, "", "", ""),
    s("outlet.{n}.desc", NONE, NONE, true, Same, "receptacles_receptacles_{n}_name|receptacles_outlet_groups_{n}_name", "receptacles.receptacles[n].name, receptacles.outlet_groups[n].name", "outlet groups: text entity (writable)"),
    s("outlet.{n}.power", VA, APPARENT, true, Same, "receptacles_receptacles_{n}_apparent_power", "receptacles.receptacles[n].apparent_power", ""),
    s("outlet.{n}.realpower", W, POWER, true, No, "", "", ""),
];

/// The NUT integration's switches, buttons and commands (device actions),
/// and the ups2mqtt entity for each: (NUT, ups2mqtt component id or "",
/// what it sends).
#[rustfmt::skip]
pub static CONTROLS: &[(&str, &str, &str)] = &[
    ("outlet.{n}.load.poweronoff (switch)", "receptacles_outlet_groups_{n}_load|receptacles_receptacles_{n}_load", "switch (outlet): `outlet.<n>.load.on` / `.off` on `<base>/<ups>/command`; state from `receptacles.outlet_groups[n].state` / `receptacles.receptacles[n].state`"),
    ("outlet.{n}.load.cycle (button)", "receptacles_outlet_groups_{n}_load_cycle|receptacles_receptacles_{n}_load_cycle", "button: `outlet.<n>.load.cycle` (dangerous)"),
    ("beeper.enable", "command_beeper_enable", "button: `beeper.enable`"),
    ("beeper.disable", "command_beeper_disable", "button: `beeper.disable`"),
    ("beeper.mute", "command_beeper_mute", "button: `beeper.mute`"),
    ("beeper.toggle", "", ""),
    ("bypass.start", "command_bypass_start", "button: `bypass.start` (dangerous)"),
    ("bypass.stop", "command_bypass_stop", "button: `bypass.stop`"),
    ("calibrate.start", "command_calibrate_start", "button: `calibrate.start` (dangerous)"),
    ("calibrate.stop", "command_calibrate_stop", "button: `calibrate.stop`"),
    ("load.off", "command_load_off", "button: `load.off` (dangerous)"),
    ("load.on", "command_load_on", "button: `load.on` (dangerous)"),
    ("reset.input.minmax", "", ""),
    ("reset.watchdog", "", ""),
    ("shutdown.reboot", "command_shutdown_reboot", "button: `shutdown.reboot` (dangerous)"),
    ("shutdown.reboot.graceful", "", ""),
    ("shutdown.return", "command_shutdown_return", "button: `shutdown.return` (dangerous)"),
    ("shutdown.stayoff", "command_shutdown_stayoff", "button: `shutdown.stayoff` (dangerous)"),
    ("shutdown.stop", "", ""),
    ("test.battery.start", "command_test_battery_start", "button: `test.battery.start`"),
    ("test.battery.start.deep", "command_test_battery_start_deep", "button: `test.battery.start.deep`"),
    ("test.battery.start.quick", "command_test_battery_start", "button: `test.battery.start` (the cards' battery test is the quick one)"),
    ("test.battery.stop", "command_test_battery_stop", "button: `test.battery.stop`"),
    ("test.failure.start", "", ""),
    ("test.failure.stop", "", ""),
    ("test.panel.start", "", ""),
    ("test.panel.stop", "", ""),
    ("test.system.start", "command_test_system_start", "button: `test.system.start`"),
];

/// `ours` with `{n}` replaced, as alternatives.
pub fn alternatives(ours: &str, n: u32) -> Vec<String> {
    ours.split('|')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("{n}", &n.to_string()))
        .collect()
}

/// The README table (markdown), generated from [`SENSORS`] and
/// [`CONTROLS`].
pub fn markdown() -> String {
    let count = |m: Match| -> usize {
        SENSORS
            .iter()
            .filter(|s| s.matches == m)
            .map(Sensor::nut_count)
            .sum()
    };
    let (same, near) = (count(Same), count(Near));
    let all: usize = SENSORS.iter().map(Sensor::nut_count).sum();
    let code = |list: &str, sep: &str, join: &str| -> String {
        list.split(sep)
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(join)
    };
    let mut out = format!(
        "Of the {all} sensors Home Assistant 2026.2.3's NUT integration can create (an `L{{n}}` row\n\
         counts three, a per-outlet row once), ups2mqtt has {same} as the same fact with the same unit\n\
         and device class, and {near} in another shape (≈); the others are in none of the three MIBs,\n\
         or not yet in the point table. Entity: the unique id is `<gateway>_<ups>_<entity>`, the\n\
         default entity id `<platform>.<ups>_<entity>`. Default: **on** = enabled by default, then\n\
         the entity category. Source: `tests/e2e/nut_parity.rs`; `tests/home_assistant.rs` checks\n\
         every row in a real Home Assistant.\n\n\
         | NUT variable | NUT unit, class | ups2mqtt entity | topic | JSON field | default | note |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for row in SENSORS {
        let unit = [row.unit, row.class]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let (entity, topic, json, default) = match row.matches {
            Match::None => ("—".into(), "—".into(), "—".into(), String::new()),
            _ => (
                code(row.ours, "|", " or "),
                format!(
                    "`<base>/<ups>/{}`",
                    row.json.split('.').next().unwrap_or("")
                ),
                code(row.json, ", ", ", "),
                default_of(row.json),
            ),
        };
        let near = if row.matches == Near { "≈ " } else { "" };
        out.push_str(&format!(
            "| `{}` | {unit} | {near}{entity} | {topic} | {json} | {default} | {} |\n",
            row.nut, row.note
        ));
    }
    out.push_str(
        "\nButtons and outlet switches send on `<base>/<ups>/command`. (dangerous): disabled by\n\
         default, and refused unless `commands.dangerous = true`.\n\n\
         | NUT switch, button or command | ups2mqtt entity | what it sends |\n|---|---|---|\n",
    );
    for (nut, ours, what) in CONTROLS {
        let entity = if ours.is_empty() {
            "—".to_string()
        } else {
            code(ours, "|", " or ")
        };
        out.push_str(&format!("| `{nut}` | {entity} | {what} |\n"));
    }
    out
}

/// What the point table makes of the first JSON field of a row: **on**
/// when enabled by default, then the entity category of its entity
/// (`config` for a writable field, `diagnostic` for a read-only one in a
/// category), e.g. "**on**, config" or "diagnostic".
pub fn default_of(json: &str) -> String {
    let first = json.split(", ").next().unwrap_or("");
    let path: String = first
        .split('.')
        .map(|part| part.split('[').next().unwrap_or(part))
        .collect::<Vec<_>>()
        .join(".");
    let Some(field) = ups2mqtt::mib::field_by_path(&path) else {
        return "**on**".to_string(); // derived keys and the alarm summary
    };
    let category = if field.sources.iter().any(|s| s.is_writable()) {
        Some("config")
    } else {
        field.ha.category.map(|_| "diagnostic")
    };
    match (field.ha.enabled, category) {
        (true, None) => "**on**".to_string(),
        (true, Some(c)) => format!("**on**, {c}"),
        (false, Some(c)) => c.to_string(),
        (false, None) => "off".to_string(),
    }
}
