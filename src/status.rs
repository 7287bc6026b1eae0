//! NUT-style status: the `ups.status` flags (OL, OB, LB, HB, RB, CHRG,
//! DISCHRG, BYPASS, CAL, OFF, OVER, TRIM, BOOST, FSD, ALARM, TEST) and a
//! human-readable text, derived from the pages whatever MIB supplied them,
//! so flows and dashboards written for NUT translate directly.
//!
//! This module owns only the derivation (pure functions over the UPS
//! [`Model`], which keeps the flags in step with its readings and adds them
//! to the output page as `ups_status`, flags joined by spaces like NUT, and
//! `status_text`). The fields and labels it reads are listed once
//! ([`FIELDS_READ`], `LABELS`) and checked against the point table.

use crate::mib::{self, Field};
use crate::model::Model;
use crate::pages::Reading;

/// Every field the status is derived from, by path: one place, checked
/// against the point table by a test (with the labels matched below).
const SOURCE: &str = "output.source";
const OUTPUT_STATUS: &str = "output.status";
const UTILITY_OFF: &str = "output.utility_off";
const ON_BYPASS: &str = "output.on_bypass";
const ON_BATTERY: &str = "output.on_battery";
const ON_BUCK: &str = "output.on_buck";
const ON_BOOST: &str = "output.on_boost";
const OVERLOAD: &str = "output.overload";
const OVER_TEMPERATURE: &str = "output.over_temperature";
const BATTERY_LOW: &str = "battery.low";
const BATTERY_LOW_CONDITION: &str = "battery.low_condition";
const BATTERY_STATUS: &str = "battery.status";
const BATTERY_REPLACE: &str = "battery.replace";
const BATTERY_FAULT: &str = "battery.fault";
const BATTERY_CURRENT: &str = "battery.current";
const BATTERY_CHARGE: &str = "battery.charge";
const CALIBRATION_RESULT: &str = "test.calibration_result";
const TEST_RESULT: &str = "test.result";
const ALARM: &str = "alarms.active.alarm";

/// The labels matched per field (checked against the point table).
pub const LABELS: &[(&str, &[&str])] = &[
    (
        SOURCE,
        &["normal", "booster", "reducer", "battery", "bypass", "none"],
    ),
    (
        OUTPUT_STATUS,
        &[
            "on_battery",
            "on_battery_test",
            "battery_discharge_spot_mode",
            "software_bypass",
            "switched_bypass",
            "hardware_failure_bypass",
            "emergency_static_bypass",
            "off",
            "timed_sleeping",
            "sleeping_until_power_return",
            "rebooting",
            "unknown",
            "on_smart_trim",
            "on_smart_boost",
        ],
    ),
    (BATTERY_STATUS, &["low", "depleted"]),
    (CALIBRATION_RESULT, &["in_progress"]),
    (TEST_RESULT, &["in_progress"]),
    (
        ALARM,
        &[
            "low_battery",
            "battery_bad",
            "output_overload",
            "shutdown_imminent",
            "test_in_progress",
        ],
    ),
];

/// Every field path the status reads.
pub const FIELDS_READ: &[&str] = &[
    SOURCE,
    OUTPUT_STATUS,
    UTILITY_OFF,
    ON_BYPASS,
    ON_BATTERY,
    ON_BUCK,
    ON_BOOST,
    OVERLOAD,
    OVER_TEMPERATURE,
    BATTERY_LOW,
    BATTERY_LOW_CONDITION,
    BATTERY_STATUS,
    BATTERY_REPLACE,
    BATTERY_FAULT,
    BATTERY_CURRENT,
    BATTERY_CHARGE,
    CALIBRATION_RESULT,
    TEST_RESULT,
    ALARM,
];

fn field(path: &str) -> &'static Field {
    mib::field_by_path(path).expect("status paths are point-table paths (tested)")
}

fn get<'a>(model: &'a Model, path: &str) -> Option<&'a Reading> {
    model.reading(field(path), None).filter(|r| !r.is_null())
}

fn flag(model: &Model, path: &str) -> bool {
    get(model, path).and_then(Reading::as_bool) == Some(true)
}

fn label<'a>(model: &'a Model, path: &str) -> Option<&'a str> {
    get(model, path).and_then(Reading::as_str)
}

pub fn active_alarms(model: &Model) -> Vec<&str> {
    let field = field(ALARM);
    let Some(table) = model.page(field.page).and_then(|p| p.table("active")) else {
        return Vec::new();
    };
    table
        .rows
        .iter()
        .filter_map(|&index| table.cell(field, index)?.as_str())
        .collect()
}

/// Where the load is fed from, from the most direct source available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    Mains,
    Battery,
    Bypass,
    Off,
    Unknown,
}

fn feed(model: &Model) -> Feed {
    if let Some(source) = label(model, SOURCE) {
        return match source {
            "normal" | "booster" | "reducer" => Feed::Mains,
            "battery" => Feed::Battery,
            "bypass" => Feed::Bypass,
            "none" => Feed::Off,
            _ => Feed::Unknown,
        };
    }
    if let Some(status) = label(model, OUTPUT_STATUS) {
        return match status {
            "on_battery" | "on_battery_test" | "battery_discharge_spot_mode" => Feed::Battery,
            "software_bypass"
            | "switched_bypass"
            | "hardware_failure_bypass"
            | "emergency_static_bypass" => Feed::Bypass,
            "off" | "timed_sleeping" | "sleeping_until_power_return" | "rebooting" => Feed::Off,
            "unknown" => Feed::Unknown,
            _ => Feed::Mains,
        };
    }
    if flag(model, UTILITY_OFF) {
        Feed::Off
    } else if flag(model, ON_BYPASS) {
        Feed::Bypass
    } else if let Some(on_battery) = get(model, ON_BATTERY).and_then(Reading::as_bool) {
        if on_battery {
            Feed::Battery
        } else {
            Feed::Mains
        }
    } else {
        Feed::Unknown
    }
}

/// NUT's `ups.status` flags, in NUT's usual order; empty when nothing is
/// known yet.
pub fn flags(model: &Model) -> Vec<&'static str> {
    let mut flags = Vec::new();
    let alarms = active_alarms(model);
    let has = |name: &str| alarms.contains(&name);
    let feed = feed(model);
    match feed {
        Feed::Mains => flags.push("OL"),
        Feed::Battery => flags.push("OB"),
        Feed::Bypass => flags.extend(["OL", "BYPASS"]),
        Feed::Off => flags.push("OFF"),
        Feed::Unknown => {}
    }
    let battery_status = label(model, BATTERY_STATUS);
    if flag(model, BATTERY_LOW)
        || flag(model, BATTERY_LOW_CONDITION)
        || matches!(battery_status, Some("low" | "depleted"))
        || has("low_battery")
    {
        flags.push("LB");
    }
    if flag(model, BATTERY_REPLACE) || has("battery_bad") {
        flags.push("RB");
    }
    match feed {
        Feed::Battery => flags.push("DISCHRG"),
        Feed::Mains | Feed::Bypass if charging(model) => flags.push("CHRG"),
        _ => {}
    }
    if label(model, CALIBRATION_RESULT) == Some("in_progress") {
        flags.push("CAL");
    }
    if flag(model, OVERLOAD) || has("output_overload") {
        flags.push("OVER");
    }
    if flag(model, ON_BUCK)
        || label(model, SOURCE) == Some("reducer")
        || label(model, OUTPUT_STATUS) == Some("on_smart_trim")
    {
        flags.push("TRIM");
    }
    if flag(model, ON_BOOST)
        || label(model, SOURCE) == Some("booster")
        || label(model, OUTPUT_STATUS) == Some("on_smart_boost")
    {
        flags.push("BOOST");
    }
    if has("shutdown_imminent") {
        flags.push("FSD");
    }
    if !alarms.is_empty() {
        flags.push("ALARM");
    }
    let test = label(model, TEST_RESULT).unwrap_or("");
    if test == "in_progress" || has("test_in_progress") {
        flags.push("TEST");
    }
    if flag(model, BATTERY_FAULT) || flag(model, OVER_TEMPERATURE) {
        // NUT has no flag of its own for these; ALARM carries them.
        if !flags.contains(&"ALARM") {
            flags.push("ALARM");
        }
    }
    flags
}

/// On mains and not full: charging (NUT's CHRG), from the battery current
/// when the card reports one, else from the charge level.
fn charging(model: &Model) -> bool {
    if let Some(current) = get(model, BATTERY_CURRENT).and_then(Reading::as_f64) {
        if current > 0.0 {
            return true;
        }
    }
    get(model, BATTERY_CHARGE)
        .and_then(Reading::as_f64)
        .is_some_and(|charge| charge < 99.5)
}

/// Every flag [`flags`] can produce, with its words for people (`None`:
/// said by another flag), in NUT's order.
pub const FLAGS: &[(&str, Option<&str>)] = &[
    ("OL", Some("online")),
    ("OB", Some("on battery")),
    ("OFF", Some("output off")),
    ("BYPASS", Some("on bypass")),
    ("LB", Some("low battery")),
    ("HB", Some("high battery")),
    ("RB", Some("replace battery")),
    ("CHRG", Some("charging")),
    ("DISCHRG", None),
    ("CAL", Some("calibrating")),
    ("OVER", Some("overload")),
    ("TRIM", Some("trimming voltage")),
    ("BOOST", Some("boosting voltage")),
    ("FSD", Some("forced shutdown")),
    ("ALARM", Some("alarm")),
    ("TEST", Some("testing")),
];

/// A sentence for people, e.g. "Online, charging" or "On battery, low
/// battery, replace battery".
pub fn text(flags: &[&str]) -> String {
    let words: Vec<&str> = flags
        .iter()
        .filter_map(|f| FLAGS.iter().find(|(flag, _)| flag == f)?.1)
        .collect();
    let mut sentence = words.join(", ");
    if let Some(first) = sentence.get(..1) {
        sentence = first.to_uppercase() + &sentence[1..];
    }
    if sentence.is_empty() {
        "Unknown".to_string()
    } else {
        sentence
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mib::{Decode, Mib};
    use crate::oid::Oid;
    use crate::pages::{ScaleOverrides, Snapshot};
    use crate::snmp::Value;

    /// A model of raw agent values (numeric OIDs, values as the MIB
    /// defines them).
    fn model(rows: &[(&str, Value)]) -> Model {
        let data: Snapshot = rows
            .iter()
            .map(|(oid, v)| (Oid::parse(oid).unwrap(), v.clone()))
            .collect();
        Model::from_snapshot(Mib::ALL.into(), &data, &ScaleOverrides::new())
    }

    #[test]
    fn every_path_and_label_read_is_in_the_point_table() {
        for path in FIELDS_READ {
            assert!(mib::field_by_path(path).is_some(), "{path}");
        }
        for (path, labels) in LABELS {
            assert!(FIELDS_READ.contains(path), "{path} not in FIELDS_READ");
            let field = mib::field_by_path(path).unwrap();
            for label in *labels {
                let known = field.sources.iter().any(|s| match s.decode {
                    Decode::Enum(pairs) => pairs.iter().any(|(_, l)| l == label),
                    Decode::Alarm => mib::alarms::alarm_by_name(label).is_some(),
                    _ => false,
                });
                assert!(known, "{path}: no label {label:?}");
            }
        }
    }

    #[test]
    fn online_and_charging_from_rfc1628() {
        // upsOutputSource normal(3); upsEstimatedChargeRemaining 91 %.
        let m = model(&[
            ("1.3.6.1.2.1.33.1.4.1.0", Value::Integer(3)),
            ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(91)),
        ]);
        assert_eq!(m.status(), ["OL", "CHRG"]);
        assert_eq!(text(m.status()), "Online, charging");
    }

    #[test]
    fn on_battery_low_replace_with_alarms_from_mge_flags() {
        let on_battery = Oid::parse("1.3.6.1.2.1.33.1.6.3.2").unwrap();
        let shutdown_imminent = Oid::parse("1.3.6.1.2.1.33.1.6.3.23").unwrap();
        let m = model(&[
            // upsmgOutputOnBattery yes(1), upsmgOutputOverLoad yes(1)
            ("1.3.6.1.4.1.705.1.7.3.0", Value::Integer(1)),
            ("1.3.6.1.4.1.705.1.7.10.0", Value::Integer(1)),
            // upsmgBatteryLevel 12 %, upsmgBatteryLowBattery yes, upsmgBatteryReplacement yes
            ("1.3.6.1.4.1.705.1.5.2.0", Value::Integer(12)),
            ("1.3.6.1.4.1.705.1.5.14.0", Value::Integer(1)),
            ("1.3.6.1.4.1.705.1.5.11.0", Value::Integer(1)),
            ("1.3.6.1.2.1.33.1.6.1.0", Value::Gauge32(2)),
            ("1.3.6.1.2.1.33.1.6.2.1.2.3", Value::oid(on_battery)),
            ("1.3.6.1.2.1.33.1.6.2.1.2.4", Value::oid(shutdown_imminent)),
        ]);
        assert_eq!(
            m.status(),
            ["OB", "LB", "RB", "DISCHRG", "OVER", "FSD", "ALARM"]
        );
        assert_eq!(
            text(m.status()),
            "On battery, low battery, replace battery, overload, forced shutdown, alarm"
        );
    }

    #[test]
    fn powernet_status_bypass_trim_and_off() {
        // upsBasicOutputStatus onSmartTrim(12), switchedBypass(9); upsOutputSource none(2).
        let trim = model(&[
            ("1.3.6.1.4.1.318.1.1.1.4.1.1.0", Value::Integer(12)),
            ("1.3.6.1.4.1.318.1.1.1.2.3.1.0", Value::Gauge32(1000)),
        ]);
        assert_eq!(trim.status(), ["OL", "TRIM"]);
        let bypass = model(&[("1.3.6.1.4.1.318.1.1.1.4.1.1.0", Value::Integer(9))]);
        assert_eq!(bypass.status(), ["OL", "BYPASS"]);
        let off = model(&[("1.3.6.1.2.1.33.1.4.1.0", Value::Integer(2))]);
        assert_eq!(off.status(), ["OFF"]);
        assert_eq!(text(&[]), "Unknown");
    }
}
