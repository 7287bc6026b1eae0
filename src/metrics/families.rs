//! Metric families of the UPS readings, derived from the point table: one
//! family per numeric, flag or enum field, named
//! `ups2mqtt_<page>_[<table>_]<key>[_<unit>][_total]`.
//!
//! The rules, in one place:
//! - units are Prometheus base units: `_volts`, `_amperes`, `_watts`,
//!   `_volt_amperes`, `_volt_amperes_reactive`, `_hertz`, `_seconds`,
//!   `_celsius`; percentages are ratios (`_ratio`, 0-1: a published 85 %
//!   is 0.85), energy is `_joules_total` (kWh × 3.6e6), battery capacity
//!   `_coulombs` (Ah × 3600);
//! - a gauge never ends in a suffix Prometheus reserves for other types:
//!   a key `count` is named `number` (`ups2mqtt_receptacles_number`);
//! - fields Home Assistant sums (`total_increasing`) are counters;
//! - flags are gauges of 0 or 1; enums are state sets (label `state`, one
//!   sample per value the MIB lists, 1 for the current one);
//! - a table's rows carry their index in the table's row label
//!   ([`crate::mib::Table::row`]: `phase`, `outlet_group`, `sensor`...);
//! - texts are not metrics (the identity is in `ups2mqtt_ups_info`).

use super::text::Kind;
use crate::mib::{self, Decode, FIELDS, Field, Source, Unit};
use std::sync::LazyLock;

/// One field's metric family.
#[derive(Debug, Clone)]
pub struct Family {
    pub field: &'static Field,
    pub name: String,
    pub kind: Kind,
    pub help: String,
    /// Published value × scale = metric value.
    pub scale: Scale,
    /// The label of the row index, for table columns.
    pub row: Option<&'static str>,
    /// The samples of a state set, per source of the field (same order;
    /// empty for a source that lists no states).
    pub states: Vec<Box<[State]>>,
}

/// One state a source lists, as a state set sample writes it.
#[derive(Debug, Clone)]
pub struct State {
    pub label: &'static str,
    /// `,state="<label>"} `: the end of the sample's label set, escaped.
    pub suffix: String,
}

impl Family {
    /// The states `source` (one of the field's) lists.
    pub fn states_of(&self, source: &Source) -> &[State] {
        self.field
            .sources
            .iter()
            .position(|s| std::ptr::eq(s, source))
            .and_then(|at| self.states.get(at))
            .map_or(&[], |states| states)
    }
}

/// From published units to base units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Times(f64),
    /// Division keeps decimals exact where × 0.01 would not (57.2 % is
    /// 0.572, not 0.5720000000000001).
    Over(f64),
}

impl Scale {
    /// The value in base units, and the decimal places it keeps (a
    /// reading's precision, two more for a percentage as a ratio).
    pub fn apply(self, value: f64, decimals: u32) -> (f64, u32) {
        match self {
            Scale::Times(factor) => (value * factor, decimals),
            Scale::Over(divisor) => (value / divisor, decimals + tens_up_to(divisor)),
        }
    }
}

/// ceil(log10(x)) for x ≥ 1 without libm's log10 (see [`mib::Decode::decimals`]).
fn tens_up_to(x: f64) -> u32 {
    let (mut power, mut tens) = (1.0, 0);
    while power < x {
        power *= 10.0;
        tens += 1;
    }
    tens
}

/// The prefix of every metric.
pub const PREFIX: &str = "ups2mqtt";

/// Every field's family (`None`: a text), in [`FIELDS`] order.
pub fn all() -> &'static [Option<Family>] {
    static FAMILIES: LazyLock<Vec<Option<Family>>> =
        LazyLock::new(|| FIELDS.iter().map(family).collect());
    &FAMILIES
}

/// The position of a point-table field in [`FIELDS`] (and [`all`]).
pub fn index_of(field: &Field) -> Option<usize> {
    let base = FIELDS.as_ptr() as usize;
    let at = (field as *const Field as usize).checked_sub(base)?;
    let size = std::mem::size_of::<Field>();
    (at % size == 0 && at / size < FIELDS.len()).then_some(at / size)
}

/// The family of a field, if it has one.
pub fn of(field: &Field) -> Option<&'static Family> {
    all().get(index_of(field)?)?.as_ref()
}

fn family(field: &'static Field) -> Option<Family> {
    let kind = kind(field)?;
    let (suffix, scale) = match (kind, field.unit) {
        (Kind::Gauge | Kind::Counter, Some(unit)) => unit_suffix(unit),
        _ => ("", Scale::Times(1.0)),
    };
    let mut name = format!("{PREFIX}_{}_", field.page);
    if let Some(table) = field.table {
        name.push_str(table);
        name.push('_');
    }
    name.push_str(match field.key {
        "count" => "number",
        key => key,
    });
    if !suffix.is_empty() {
        name.push('_');
        name.push_str(suffix);
    }
    if kind == Kind::Counter {
        name.push_str("_total");
    }
    let row = mib::table_of(field).map(|t| t.row);
    let what = match kind {
        Kind::StateSet => ", 1 for the current state".to_string(),
        _ if is_flag(field) => ", 1 = true".to_string(),
        _ => field
            .unit
            .map(|u| format!(" ({})", unit_words(u)))
            .unwrap_or_default(),
    };
    Some(Family {
        field,
        help: format!("{} ({}){what}", field.label, field.path()),
        name,
        kind,
        scale,
        row,
        states: field.sources.iter().map(states).collect(),
    })
}

/// The states an enum source lists, each with its sample's label suffix.
fn states(source: &Source) -> Box<[State]> {
    let Decode::Enum(listed) = source.decode else {
        return Box::default();
    };
    listed
        .iter()
        .map(|&(_, label)| State {
            label,
            suffix: super::text::state_suffix(label),
        })
        .collect()
}

fn is_flag(field: &Field) -> bool {
    field
        .sources
        .iter()
        .all(|s| matches!(s.decode, Decode::Flag { .. }))
}

/// Numbers and flags are gauges (counters when Home Assistant sums them),
/// enums and alarm names state sets, texts nothing. A field whose sources
/// decode differently follows its first source (checked by a test: none
/// mixes numbers with labels).
fn kind(field: &Field) -> Option<Kind> {
    match field.sources.first()?.decode {
        Decode::Number { .. } if field.ha.state_class == Some(mib::StateClass::TotalIncreasing) => {
            Some(Kind::Counter)
        }
        Decode::Number { .. } | Decode::Flag { .. } => Some(Kind::Gauge),
        Decode::Enum(_) | Decode::Alarm => Some(Kind::StateSet),
        Decode::Text | Decode::ObjectId | Decode::Vendor => None,
    }
}

/// The base-unit suffix of a unit and the factor from published units.
pub fn unit_suffix(unit: Unit) -> (&'static str, Scale) {
    match unit {
        Unit::Volt => ("volts", Scale::Times(1.0)),
        Unit::Ampere => ("amperes", Scale::Times(1.0)),
        Unit::Watt => ("watts", Scale::Times(1.0)),
        Unit::VoltAmpere => ("volt_amperes", Scale::Times(1.0)),
        Unit::VoltAmpereReactive => ("volt_amperes_reactive", Scale::Times(1.0)),
        Unit::Hertz => ("hertz", Scale::Times(1.0)),
        Unit::Percent => ("ratio", Scale::Over(100.0)),
        Unit::Second => ("seconds", Scale::Times(1.0)),
        Unit::Celsius => ("celsius", Scale::Times(1.0)),
        Unit::KiloWattHour => ("joules", Scale::Times(3_600_000.0)),
        Unit::AmpereHour => ("coulombs", Scale::Times(3_600.0)),
    }
}

fn unit_words(unit: Unit) -> &'static str {
    match unit {
        Unit::Percent => "ratio 0-1",
        Unit::KiloWattHour => "joules",
        Unit::AmpereHour => "coulombs",
        _ => unit_suffix(unit).0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn valid_name(name: &str) -> bool {
        name.chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_lowercase() || (i > 0 && c.is_ascii_digit()))
    }

    #[test]
    fn every_family_has_a_unique_valid_name() {
        let mut seen = HashSet::new();
        for family in all().iter().flatten() {
            assert!(valid_name(&family.name), "{}", family.name);
            assert!(seen.insert(&family.name), "{} twice", family.name);
            assert!(
                valid_name(family.row.unwrap_or("ups")) && family.row != Some("ups"),
                "{}",
                family.name
            );
            let reserved = ["_total", "_count", "_sum", "_bucket", "_info", "_created"];
            if family.kind != Kind::Counter {
                assert!(
                    !reserved.iter().any(|r| family.name.ends_with(r)),
                    "{} ends with a reserved suffix",
                    family.name
                );
            }
        }
        assert!(seen.len() > 300, "{} families", seen.len());
    }

    #[test]
    fn no_field_mixes_numbers_and_labels() {
        let class = |d: Decode| match d {
            Decode::Number { .. } | Decode::Flag { .. } => 0,
            Decode::Enum(_) | Decode::Alarm => 1,
            Decode::Text | Decode::ObjectId | Decode::Vendor => 2,
        };
        for field in FIELDS {
            let first = class(field.sources[0].decode);
            for source in field.sources {
                assert_eq!(class(source.decode), first, "{}", field.path());
            }
        }
    }

    #[test]
    fn names_follow_the_rules() {
        let name = |path: &str| of(mib::field_by_path(path).unwrap()).map(|f| f.name.as_str());
        assert_eq!(
            name("battery.charge"),
            Some("ups2mqtt_battery_charge_ratio")
        );
        assert_eq!(
            name("input.lines.voltage"),
            Some("ups2mqtt_input_lines_voltage_volts")
        );
        assert_eq!(
            name("input.energy"),
            Some("ups2mqtt_input_energy_joules_total")
        );
        assert_eq!(name("general.model"), None);
        let voltage = of(mib::field_by_path("output.lines.voltage").unwrap()).unwrap();
        assert_eq!(voltage.row, Some("phase"));
        for field in FIELDS {
            assert_eq!(index_of(field).map(|i| &FIELDS[i]), Some(field));
        }
        let copy = FIELDS[3];
        assert_eq!(index_of(&copy), None, "only the point table's own fields");
    }
}
