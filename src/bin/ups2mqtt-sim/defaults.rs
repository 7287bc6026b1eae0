//! Fixed values for every point the state model does not drive: identity
//! strings, nominal ratings, the factory settings of every writable point,
//! table rows such as device names. With `--walk`, the walk's own value
//! wins wherever it has one, so a simulated card looks like the real one.
//!
//! [`Defaults`] holds one raw wire value per source and row, for all three
//! MIBs (enabled or not), and is shared read-only by every agent.

use crate::layout::Layout;
use crate::snmprec::Walk;
use crate::wire;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use ups2mqtt::mib::{self, Decode, Field, Legal, Mib, RowIndex, Source, Unit};
use ups2mqtt::oid::Oid;
use ups2mqtt::snmp::Value;

/// A source object, the feed or fixed row its index rule names (0 for the
/// usual single index) and a row (0 for scalars): one object can feed two
/// fields (PowerNet's input table: feed 1 main, feed 2 bypass).
pub type Key = (&'static str, u32, u32);

fn key(source: &Source, row: u32) -> Key {
    let feed = match source.index {
        RowIndex::Single => 0,
        RowIndex::Row(fixed) => fixed,
        RowIndex::FeedThenRow { feed } => feed,
    };
    (source.object, feed, row)
}

/// Default raw values by source object and row.
#[derive(Debug, Default)]
pub struct Defaults {
    values: HashMap<Key, Value>,
}

impl Defaults {
    /// Built-in defaults for `layout`, overridden by the walk's values.
    pub fn build(layout: &Layout, walk: Option<&Walk>) -> Defaults {
        let mut values = HashMap::new();
        for field in mib::FIELDS {
            for &row in &rows_of(field, layout) {
                for source in field.sources {
                    let walked = walk.and_then(|w| walk_value(w, source, row));
                    let value = walked.unwrap_or_else(|| builtin_raw(field, source, row));
                    values.insert(key(source, row), value);
                }
            }
        }
        Defaults { values }
    }

    /// The default raw value of a single-index source's row.
    pub fn get(&self, object: &'static str, row: u32) -> Option<&Value> {
        self.values.get(&(object, 0, row))
    }

    /// The default raw value of any source's row.
    pub fn get_for(&self, source: &Source, row: u32) -> Option<&Value> {
        self.values.get(&key(source, row))
    }

    /// The default of a field in published units (first source that has
    /// one), for the state model's own reading of its settings.
    pub fn json(&self, field: &Field, row: u32) -> Option<Json> {
        field.sources.iter().find_map(|s| {
            let raw = self.get_for(s, row)?;
            ups2mqtt::pages::decode_one(s, raw)
        })
    }
}

/// The rows a field has on this card: `[0]` for scalars.
pub fn rows_of(field: &Field, layout: &Layout) -> Vec<u32> {
    match mib::table_of(field) {
        Some(table) => (1..=layout.rows(table)).collect(),
        None => vec![0],
    }
}

/// The instance OID of a source's row: `.0` for scalars, `.row` for
/// columns (`.row.0` with quirk Q1).
pub fn instance(source: &Source, row: u32, trailing_zero: bool) -> Oid {
    match (row, trailing_zero, source.index) {
        (row, true, RowIndex::Single) if row > 0 => source.instance(row).child(0),
        _ => source.instance(row),
    }
}

/// A walk's value for a source's row, in either instance form (Q1).
pub fn walk_value(walk: &Walk, source: &Source, row: u32) -> Option<Value> {
    let plain = walk.get(&instance(source, row, false));
    let quirky = || walk.get(&instance(source, row, true));
    plain.or_else(|| (row > 0).then(quirky).flatten()).cloned()
}

/// The built-in raw default; never fails (the table test checks that every
/// built-in value encodes).
fn builtin_raw(field: &Field, source: &Source, row: u32) -> Value {
    let json = builtin_json(field, source, row);
    wire::to_raw(source, &json)
        .or_else(|_| wire::to_raw(source, &generic_json(field, source)))
        .unwrap_or(Value::Null)
}

/// Plausible values for a 3 kVA single-phase-in card; `generic_json` for
/// any field not listed (new point-table rows still get data).
pub fn builtin_json(field: &Field, source: &Source, row: u32) -> Json {
    let path = field.path();
    let group = row.saturating_sub(1);
    match (path.as_str(), source.mib) {
        ("general.manufacturer", Mib::System) => json!("APC"),
        ("general.manufacturer", _) => json!("Schneider Electric"),
        ("general.model", Mib::Rfc1628) => json!("Simulated UPS 3000 RT"),
        ("general.model", Mib::PowerNet) => json!("Simulated UPS 3000"),
        ("general.model", Mib::Mge) => json!("Simulated UPS"),
        ("general.model_name", _) => json!("3000 RT"),
        ("general.firmware_version", Mib::PowerNet) => json!("UPS 15.5 (ID1015)"),
        ("general.firmware_version", _) => json!("SIM 1.0"),
        ("general.agent_version", _) => json!(concat!("ups2mqtt-sim ", env!("CARGO_PKG_VERSION"))),
        ("general.name", Mib::PowerNet) => json!("UPS_SIM"),
        ("general.name", _) => json!("ups2mqtt simulated UPS"),
        ("general.attached_devices", _) => json!("Rack A servers"),
        ("general.revision_level", _) => json!("A"),
        ("general.user_id", _) => json!("ups2mqtt"),
        ("general.installation_date", _) => json!("01/03/24"),
        ("general.manufacture_date", _) => json!("01/15/2024"),
        ("general.serial_number", _) => json!("SIM0000000"),
        ("general.mib_version", _) => json!(170),
        ("config.low_battery_runtime", _) => json!(120),
        ("config.low_battery_level", _) => json!(20),
        ("config.deep_discharge_protection", _) => json!("disabled"),
        ("config.mains_setting", _) => json!("single_input"),
        ("config.ac_wiring", _) => json!("three_wire"),
        ("config.automatic_restart", Mib::PowerNet) => json!("enabled"),
        ("config.automatic_restart", Mib::Mge) => json!("always"),
        ("config.automatic_restart", Mib::Rfc1628) => json!("on"),
        ("config.shutoff_delay", _) => json!(90),
        ("config.return_delay", _) => json!(0),
        ("config.min_return_capacity", _) => json!(0),
        ("config.alarm_mode", _) => json!("timed"),
        ("config.beeper", _) => json!("enabled"),
        ("config.alarm_audible", _) => json!(true),
        ("config.alarm_time_delay", _) => json!(0),
        ("config.battery_installed", _) => json!(true),
        ("config.nominal_battery_voltage", _) => json!(48),
        ("config.nominal_battery_time", _) => json!(600),
        ("config.nominal_recharge_time", _) => json!(10_800),
        ("config.max_recharge_time", _) => json!(28_800),
        ("config.shutdown_duration", _) => json!(120),
        ("config.nominal_apparent_power", _) => json!(3000),
        ("config.nominal_power", _) => json!(2700),
        ("config.low_transfer_voltage", _) => json!(160),
        ("config.high_transfer_voltage", _) => json!(294),
        ("config.input_nominal_voltage" | "config.output_nominal_voltage", _) => json!(230),
        ("config.input_nominal_frequency" | "config.output_nominal_frequency", _) => json!(50),
        ("config.output_nominal_current", _) => json!(13),
        ("config.bypass_type", _) => json!("static"),
        (
            "config.emergency_on_test_fail"
            | "config.emergency_on_bypass"
            | "config.emergency_on_overload",
            _,
        ) => {
            json!(false)
        }
        ("battery.nominal_voltage", _) => json!(48),
        ("battery.recharge_level", _) => json!(0),
        ("battery.full_recharge_time", _) => json!(10_800),
        ("receptacles.receptacles.name", _) if row == 1 => json!("UPS output"),
        ("receptacles.receptacles.name", _) => json!(format!("Group {group}")),
        ("receptacles.receptacles.type", _) if row == 1 => json!("Master"),
        ("receptacles.receptacles.type", _) => json!("Group"),
        ("receptacles.receptacles.level", _) => json!(if row == 1 { 5 } else { 3 }),
        ("receptacles.receptacles.on_power_up" | "receptacles.receptacles.on_mains_return", _) => {
            json!("on")
        }
        ("receptacles.receptacles.on_discharge", _) => json!("on"),
        ("receptacles.receptacles.shutoff_level" | "receptacles.receptacles.restart_level", _) => {
            json!(0)
        }
        ("receptacles.receptacles.shutoff_timer" | "receptacles.receptacles.restart_delay", _) => {
            json!(0)
        }
        ("receptacles.receptacles.shutdown_duration", _) => json!(120),
        ("receptacles.receptacles.bootup_duration", _) => json!(60),
        ("receptacles.outlet_groups.name", _) if row == 1 => json!("Main Outlets"),
        ("receptacles.outlet_groups.name", _) => json!(format!("Outlet Group {group}")),
        ("receptacles.outlet_groups.type" | "control.outlet_groups.type", _) => {
            json!(if row == 1 { "main" } else { "switched" })
        }
        ("receptacles.outlet_groups.power_on_delay", _) => json!(0),
        ("receptacles.outlet_groups.power_off_delay", _) => json!(90),
        ("receptacles.outlet_groups.reboot_duration", _) => json!(8),
        ("receptacles.outlet_groups.min_return_runtime", _) => json!(0),
        ("receptacles.outlet_groups.load_shed_on_battery_time", _) => json!(0),
        ("receptacles.outlet_groups.load_shed_runtime_remaining", _) => json!(0),
        ("devices.devices.name", _) => json!(format!("Server {row}")),
        ("devices.devices.va_rating", _) => json!(500),
        ("devices.devices.receptacle", _) => json!(1 + group % 3),
        ("devices.devices.sequence_off" | "devices.devices.sequence_on", _) => json!(row),
        ("devices.devices.shutdown_duration", _) => json!(120),
        ("devices.devices.bootup_duration", _) => json!(60),
        ("devices.devices.accepted", _) => json!(true),
        ("environment.sensors.name", _) => json!("Environment sensor"),
        ("environment.sensors.communication_lost", _) => json!(false),
        ("environment.sensors.input_1", _) => json!("closed"),
        ("environment.sensors.input_2", _) => json!("open"),
        ("environment.sensors.temperature_low_threshold", _) => json!(5),
        ("environment.sensors.temperature_high_threshold", _) => json!(40),
        ("environment.sensors.humidity_low_threshold", _) => json!(5),
        ("environment.sensors.humidity_high_threshold", _) => json!(90),
        ("environment.probes.name", _) => json!("Probe 1"),
        ("environment.probes.connected", _) => json!(true),
        ("control.receptacles.on_delay" | "control.receptacles.off_delay", _) => json!(0),
        ("control.receptacles.toggle_delay", _) => json!(0),
        ("control.receptacles.toggle_duration", _) => json!(10),
        ("control.day_off" | "control.day_on", _) => json!("none"),
        ("control.shutdown_type", _) => json!("output"),
        ("control.shutdown_after_delay" | "control.startup_after_delay", _) => Json::Null,
        ("control.reboot_with_duration", _) => Json::Null,
        ("test.diagnostic_time", _) => json!("03:00"),
        ("test.diagnostic_day", _) => json!("sunday"),
        ("test.schedule", Mib::PowerNet) => json!("biweekly"),
        ("test.schedule", _) => json!("weekly"),
        ("test.battery_interval", _) => json!("biweekly"),
        ("test.diagnostics_interval", _) => json!("biweekly"),
        ("test.id", _) => json!("1.3.6.1.2.1.33.1.7.7.1"),
        _ => generic_json(field, source),
    }
}

/// A value of the right kind for any field: the label of raw 1 (the "do
/// nothing" state of commands), `false`, a unit-typical number, the label.
pub fn generic_json(field: &Field, source: &Source) -> Json {
    match source.decode {
        Decode::Text => json!(field.label),
        // A healthy card knows its states: value 1, unless that is the
        // MIB's `unknown`.
        Decode::Enum(labels) => {
            let known = |l: &&str| *l != "unknown";
            let label = source
                .decode
                .label(1)
                .filter(known)
                .or(labels.iter().map(|(_, l)| *l).find(known));
            label.map_or(Json::Null, |l| json!(l))
        }
        Decode::Flag { .. } => json!(false),
        Decode::Alarm | Decode::ObjectId => json!("0.0"),
        Decode::Vendor => json!("APC"),
        Decode::Number { .. } => {
            let typical: f64 = match field.unit {
                Some(Unit::Volt) => 230.0,
                Some(Unit::Hertz) => 50.0,
                Some(Unit::Percent) => 50.0,
                Some(Unit::Celsius) => 25.0,
                Some(Unit::Ampere) => 5.0,
                Some(Unit::Watt | Unit::VoltAmpere) => 1000.0,
                Some(Unit::VoltAmpereReactive) => 100.0,
                Some(Unit::KiloWattHour) => 1234.5,
                Some(Unit::AmpereHour) => 9.0,
                Some(Unit::Second) => 60.0,
                None => 1.0,
            };
            match source.access {
                mib::Access::ReadWrite(Legal::Range { min, max }) => json!(typical.clamp(min, max)),
                _ => json!(typical),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmprec;

    #[test]
    fn every_builtin_default_encodes_and_is_legal() {
        let layout = Layout::default();
        for field in mib::FIELDS {
            for row in rows_of(field, &layout) {
                for source in field.sources {
                    let json = builtin_json(field, source, row);
                    let raw = wire::to_raw(source, &json).unwrap_or_else(|e| {
                        panic!("{} row {row}: {json} does not encode: {e}", field.path())
                    });
                    // Commands read back as their idle state, which is not a legal SET.
                    if let mib::Access::ReadWrite(
                        legal @ (Legal::Range { .. }
                        | Legal::AnyLabel
                        | Legal::Bool
                        | Legal::Text { .. }),
                    ) = source.access
                    {
                        wire::check_value(source, legal, &raw).unwrap_or_else(|e| {
                            panic!(
                                "{} row {row}: default {raw:?} is not legal: {e}",
                                field.path()
                            )
                        });
                    }
                }
            }
        }
    }

    #[test]
    fn walk_values_win_in_either_instance_form() {
        let walk = snmprec::parse(
            "1.3.6.1.4.1.705.1.1.7.0|4|GA10J05109\n1.3.6.1.4.1.705.1.6.2.1.2.1.0|2|2290\n",
            "w",
        )
        .unwrap();
        let defaults = Defaults::build(&Layout::default(), Some(&walk));
        assert_eq!(
            defaults.get("upsmgIdentSerialNumber", 0),
            Some(&Value::OctetString(b"GA10J05109".to_vec()))
        );
        assert_eq!(
            defaults.get("mginputVoltage", 1),
            Some(&Value::Integer(2290))
        );
        assert_eq!(
            defaults.get("upsIdentManufacturer", 0),
            Some(&Value::OctetString(b"Schneider Electric".to_vec()))
        );
        let low = mib::field_by_path("config.low_battery_runtime").unwrap();
        assert_eq!(defaults.json(low, 0), Some(json!(120.0)));
    }
}
