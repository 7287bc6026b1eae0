//! NUT-style status: the `ups.status` flags (OL, OB, LB, HB, RB, CHRG,
//! DISCHRG, BYPASS, CAL, OFF, OVER, TRIM, BOOST, FSD, ALARM, TEST) and a
//! human-readable text, derived from the pages whatever MIB supplied them,
//! so flows and dashboards written for NUT translate directly.
//!
//! This module owns only the derivation (pure functions over page JSON);
//! the UPS task adds the result to the output page as `ups_status`
//! (flags joined by spaces, like NUT) and `status_text`.

use crate::mib::Page;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

type Pages = BTreeMap<Page, Map<String, Json>>;

fn get<'a>(pages: &'a Pages, page: Page, key: &str) -> Option<&'a Json> {
    pages.get(&page)?.get(key).filter(|v| !v.is_null())
}

fn flag(pages: &Pages, page: Page, key: &str) -> bool {
    get(pages, page, key).and_then(Json::as_bool) == Some(true)
}

fn label<'a>(pages: &'a Pages, page: Page, key: &str) -> Option<&'a str> {
    get(pages, page, key).and_then(Json::as_str)
}

fn active_alarms(pages: &Pages) -> Vec<&str> {
    let Some(rows) = get(pages, Page::Alarms, "active").and_then(Json::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|r| r.get("alarm").and_then(Json::as_str))
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

fn feed(pages: &Pages) -> Feed {
    if let Some(source) = label(pages, Page::Output, "source") {
        return match source {
            "normal" | "booster" | "reducer" => Feed::Mains,
            "battery" => Feed::Battery,
            "bypass" => Feed::Bypass,
            "none" => Feed::Off,
            _ => Feed::Unknown,
        };
    }
    if let Some(status) = label(pages, Page::Output, "status") {
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
    if flag(pages, Page::Output, "utility_off") {
        Feed::Off
    } else if flag(pages, Page::Output, "on_bypass") {
        Feed::Bypass
    } else if let Some(on_battery) = get(pages, Page::Output, "on_battery").and_then(Json::as_bool)
    {
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
pub fn flags(pages: &Pages) -> Vec<&'static str> {
    let mut flags = Vec::new();
    let alarms = active_alarms(pages);
    let has = |name: &str| alarms.contains(&name);
    let feed = feed(pages);
    match feed {
        Feed::Mains => flags.push("OL"),
        Feed::Battery => flags.push("OB"),
        Feed::Bypass => flags.extend(["OL", "BYPASS"]),
        Feed::Off => flags.push("OFF"),
        Feed::Unknown => {}
    }
    let battery_status = label(pages, Page::Battery, "status");
    if flag(pages, Page::Battery, "low")
        || flag(pages, Page::Battery, "low_condition")
        || matches!(battery_status, Some("low" | "depleted"))
        || has("low_battery")
    {
        flags.push("LB");
    }
    if flag(pages, Page::Battery, "replace") || has("battery_bad") {
        flags.push("RB");
    }
    match feed {
        Feed::Battery => flags.push("DISCHRG"),
        Feed::Mains | Feed::Bypass if charging(pages) => flags.push("CHRG"),
        _ => {}
    }
    if label(pages, Page::Test, "calibration_result") == Some("in_progress") {
        flags.push("CAL");
    }
    if flag(pages, Page::Output, "overload") || has("output_overload") {
        flags.push("OVER");
    }
    if flag(pages, Page::Output, "on_buck")
        || label(pages, Page::Output, "source") == Some("reducer")
        || label(pages, Page::Output, "status") == Some("on_smart_trim")
    {
        flags.push("TRIM");
    }
    if flag(pages, Page::Output, "on_boost")
        || label(pages, Page::Output, "source") == Some("booster")
        || label(pages, Page::Output, "status") == Some("on_smart_boost")
    {
        flags.push("BOOST");
    }
    if has("shutdown_imminent") {
        flags.push("FSD");
    }
    if !alarms.is_empty() {
        flags.push("ALARM");
    }
    let test = label(pages, Page::Test, "result").unwrap_or("");
    if test == "in_progress" || has("test_in_progress") {
        flags.push("TEST");
    }
    if flag(pages, Page::Battery, "fault") || flag(pages, Page::Output, "over_temperature") {
        // NUT has no flag of its own for these; ALARM carries them.
        if !flags.contains(&"ALARM") {
            flags.push("ALARM");
        }
    }
    flags
}

/// On mains and not full: charging (NUT's CHRG), from the battery current
/// when the card reports one, else from the charge level.
fn charging(pages: &Pages) -> bool {
    if let Some(current) = get(pages, Page::Battery, "current").and_then(Json::as_f64) {
        if current > 0.0 {
            return true;
        }
    }
    get(pages, Page::Battery, "charge")
        .and_then(Json::as_f64)
        .is_some_and(|charge| charge < 99.5)
}

/// A sentence for people, e.g. "Online, charging" or "On battery, low
/// battery, replace battery".
pub fn text(flags: &[&str]) -> String {
    let words: Vec<&str> = flags
        .iter()
        .filter_map(|f| match *f {
            "OL" => Some("online"),
            "OB" => Some("on battery"),
            "OFF" => Some("output off"),
            "BYPASS" => Some("on bypass"),
            "LB" => Some("low battery"),
            "HB" => Some("high battery"),
            "RB" => Some("replace battery"),
            "CHRG" => Some("charging"),
            "DISCHRG" => None,
            "CAL" => Some("calibrating"),
            "OVER" => Some("overload"),
            "TRIM" => Some("trimming voltage"),
            "BOOST" => Some("boosting voltage"),
            "FSD" => Some("forced shutdown"),
            "ALARM" => Some("alarm"),
            "TEST" => Some("testing"),
            _ => None,
        })
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

/// Adds `ups_status` and `status_text` to the output page; true if they
/// changed.
pub fn annotate(pages: &mut Pages) -> bool {
    let flags = flags(pages);
    let Some(output) = pages.get_mut(&Page::Output) else {
        return false;
    };
    let status = Json::String(flags.join(" "));
    let text = Json::String(text(&flags));
    let changed =
        output.get("ups_status") != Some(&status) || output.get("status_text") != Some(&text);
    output.insert("ups_status".to_string(), status);
    output.insert("status_text".to_string(), text);
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pages(entries: &[(Page, Json)]) -> Pages {
        entries
            .iter()
            .map(|(p, j)| (*p, j.as_object().unwrap().clone()))
            .collect()
    }

    #[test]
    fn online_and_charging_from_rfc1628() {
        let p = pages(&[
            (Page::Output, json!({"source": "normal"})),
            (Page::Battery, json!({"charge": 91, "status": "normal"})),
        ]);
        assert_eq!(flags(&p), ["OL", "CHRG"]);
        assert_eq!(text(&flags(&p)), "Online, charging");
    }

    #[test]
    fn on_battery_low_replace_with_alarms_from_mge_flags() {
        let p = pages(&[
            (Page::Output, json!({"on_battery": true, "overload": true})),
            (
                Page::Battery,
                json!({"charge": 12, "low": true, "replace": true}),
            ),
            (
                Page::Alarms,
                json!({"present": 2, "active": [{"index": 3, "alarm": "on_battery"}, {"index": 4, "alarm": "shutdown_imminent"}]}),
            ),
        ]);
        assert_eq!(
            flags(&p),
            ["OB", "LB", "RB", "DISCHRG", "OVER", "FSD", "ALARM"]
        );
        assert_eq!(
            text(&flags(&p)),
            "On battery, low battery, replace battery, overload, forced shutdown, alarm"
        );
    }

    #[test]
    fn powernet_status_bypass_trim_and_tests() {
        let p = pages(&[
            (Page::Output, json!({"status": "on_smart_trim"})),
            (Page::Battery, json!({"charge": 100.0})),
            (
                Page::Test,
                json!({"result": "in_progress", "calibration_result": "in_progress"}),
            ),
        ]);
        assert_eq!(flags(&p), ["OL", "CAL", "TRIM", "TEST"]);
        let bypass = pages(&[(Page::Output, json!({"status": "switched_bypass"}))]);
        assert_eq!(flags(&bypass), ["OL", "BYPASS"]);
        let off = pages(&[(Page::Output, json!({"source": "none"}))]);
        assert_eq!(flags(&off), ["OFF"]);
        assert_eq!(text(&flags(&pages(&[]))), "Unknown");
    }

    #[test]
    fn annotate_reports_changes() {
        let mut p = pages(&[
            (Page::Output, json!({"source": "normal"})),
            (Page::Battery, json!({"charge": 100})),
        ]);
        assert!(annotate(&mut p));
        assert_eq!(p[&Page::Output]["ups_status"], "OL");
        assert!(!annotate(&mut p), "unchanged the second time");
        p.get_mut(&Page::Output)
            .unwrap()
            .insert("source".into(), json!("battery"));
        assert!(annotate(&mut p));
        assert_eq!(p[&Page::Output]["ups_status"], "OB DISCHRG");
    }
}
