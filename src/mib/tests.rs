//! Consistency rules of the point table: what a reviewer would otherwise
//! have to check by eye on every new row.

use super::*;
use crate::oid::Oid;
use std::collections::{HashMap, HashSet};

fn all_sources() -> impl Iterator<Item = (&'static Field, &'static Source)> {
    FIELDS
        .iter()
        .flat_map(|f| f.sources.iter().map(move |s| (f, s)))
}

#[test]
fn every_oid_parses_and_lies_under_its_mib() {
    for (field, source) in all_sources() {
        let oid = Oid::parse(source.oid).unwrap_or_else(|e| panic!("{}: {e}", field.path()));
        let enterprise = match source.mib {
            Mib::Rfc1628 => "1.3.6.1.2.1.33.1",
            Mib::Mge => "1.3.6.1.4.1.705.1",
            Mib::PowerNet => "1.3.6.1.4.1.318.1.1",
            Mib::System => "1.3.6.1.2.1.1",
        };
        assert!(
            oid.starts_with(&Oid::parse(enterprise).unwrap()),
            "{} {} is not under {enterprise}",
            field.path(),
            source.object
        );
    }
}

#[test]
fn no_duplicate_points_objects_or_paths() {
    // One object may feed two fields only through different index rules
    // (PowerNet upsPhase tables: feed 1 main input, feed 2 bypass) or on
    // different cards (MGE's phase voltage: phase-to-neutral on one line,
    // phase-to-phase on three).
    let mut points = HashSet::new();
    let mut objects: HashMap<&str, &str> = HashMap::new();
    for (field, source) in all_sources() {
        assert!(
            points.insert((source.oid, source.index.arcs(0), source.lines)),
            "OID {} with index {:?} used twice (again in {})",
            source.oid,
            source.index,
            field.path()
        );
        let oid = objects.entry(source.object).or_insert(source.oid);
        assert_eq!(*oid, source.oid, "object {} has two OIDs", source.object);
    }
    let mut paths = HashSet::new();
    for field in FIELDS {
        assert!(
            paths.insert(field.path()),
            "field {} defined twice",
            field.path()
        );
        assert!(!field.sources.is_empty(), "{} has no source", field.path());
    }
}

/// Every object of PowerNet-MIB's UPS subtree, as extracted from the MIB
/// text: (name, OID, kind).
fn powernet_ups_objects() -> Vec<(&'static str, Oid, &'static str)> {
    include_str!("powernet_ups_objects.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let (name, oid, kind) = (cols.next(), cols.next(), cols.next());
            let oid = Oid::parse(oid.expect("an OID column")).expect("valid OID");
            (name.expect("a name"), oid, kind.expect("a kind column"))
        })
        .collect()
}

#[test]
fn powernet_sources_have_the_mib_texts_oids() {
    let objects = powernet_ups_objects();
    let ups = Oid::parse(Mib::PowerNet.probe_root()).unwrap();
    for (field, source) in all_sources().filter(|(_, s)| s.mib == Mib::PowerNet) {
        let oid = source.object_oid();
        if !oid.starts_with(&ups) {
            continue;
        }
        let known = objects.iter().find(|(name, _, _)| *name == source.object);
        let (_, mib_oid, kind) = known.unwrap_or_else(|| {
            panic!("{}: {} is not in PowerNet-MIB", field.path(), source.object)
        });
        assert_eq!(&oid, mib_oid, "{}: {}", field.path(), source.object);
        assert!(
            matches!(*kind, "ro" | "rw"),
            "{}: {} is a {kind}, not a value",
            field.path(),
            source.object
        );
        assert!(
            !source.is_writable() || *kind == "rw",
            "{}: {} is read-only in the MIB",
            field.path(),
            source.object
        );
    }
}

/// PowerNet coverage is a visible decision: every readable object of the
/// UPS subtree is read by the point table or left out with a reason.
#[test]
fn every_powernet_ups_object_is_mapped_or_left_out_with_a_reason() {
    let objects = powernet_ups_objects();
    let mapped: HashSet<&str> = all_sources()
        .filter(|(_, s)| s.mib == Mib::PowerNet)
        .map(|(_, s)| s.object)
        .collect();
    let oid_of = |name: &str| {
        objects
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, oid, _)| oid.clone())
            .unwrap_or_else(|| panic!("left-out entry {name} is not in the MIB"))
    };
    let left_out: Vec<(Oid, &str)> = coverage::POWERNET_LEFT_OUT
        .iter()
        .map(|(name, reason)| {
            assert!(!reason.is_empty(), "{name}: a reason is required");
            assert!(!mapped.contains(name), "{name} is mapped and left out");
            (oid_of(name), *name)
        })
        .collect();
    let mut missing = Vec::new();
    for (name, oid, kind) in &objects {
        if !matches!(*kind, "ro" | "rw") || mapped.contains(name) {
            continue;
        }
        if !left_out.iter().any(|(group, _)| oid.starts_with(group)) {
            missing.push(format!("{name} ({oid})"));
        }
    }
    assert!(
        missing.is_empty(),
        "PowerNet objects neither mapped nor left out with a reason:\n{}",
        missing.join("\n")
    );
    // A left-out entry that covers nothing readable is stale.
    for (group, name) in &left_out {
        assert!(
            objects.iter().any(|(n, o, k)| o.starts_with(group)
                && matches!(*k, "ro" | "rw")
                && !mapped.contains(n)),
            "left-out entry {name} covers no unmapped object"
        );
    }
}

#[test]
fn keys_are_snake_case() {
    let snake = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    for field in FIELDS {
        assert!(snake(field.key), "{}", field.path());
        assert!(
            field.key != "index",
            "{}: `index` is reserved for row indexes",
            field.path()
        );
    }
    for table in TABLES {
        assert!(snake(table.key), "{}", table.key);
    }
    for (_, source) in all_sources() {
        if let Decode::Enum(labels) = source.decode {
            for (_, label) in labels {
                assert!(snake(label), "{}: label {label}", source.object);
            }
        }
    }
}

#[test]
fn every_writable_point_has_a_legal_set_that_fits_its_decoding() {
    for (field, source) in all_sources() {
        let Access::ReadWrite(legal) = source.access else {
            continue;
        };
        let path = field.path();
        match (legal, source.decode) {
            (Legal::Range { min, max }, Decode::Number { .. }) => {
                assert!(min < max, "{path}: empty range");
                // Unit-less writable numbers are counts (external
                // batteries, redundancy) or say their unit in a note.
                assert!(
                    field.unit.is_some()
                        || field.key.contains("batteries")
                        || !source.note.is_empty()
                        || field.key.contains("redundancy"),
                    "{path}: a writable number needs a unit or a note"
                );
            }
            (Legal::AnyLabel, Decode::Enum(labels)) => assert!(!labels.is_empty(), "{path}"),
            (Legal::Labels(raws), Decode::Enum(_)) => {
                assert!(!raws.is_empty(), "{path}: no legal values");
                for raw in raws {
                    assert!(
                        source.decode.label(*raw).is_some(),
                        "{path}: legal value {raw} has no label"
                    );
                }
            }
            (Legal::Bool, Decode::Flag { .. }) => {}
            (Legal::Text { max_len }, Decode::Text) => assert!(max_len > 0, "{path}"),
            (legal, decode) => panic!("{path}: legal {legal:?} does not fit decode {decode:?}"),
        }
    }
}

#[test]
fn enum_labels_are_unique_per_source() {
    for (field, source) in all_sources() {
        if let Decode::Enum(labels) = source.decode {
            let values: HashSet<_> = labels.iter().map(|(v, _)| v).collect();
            let names: HashSet<_> = labels.iter().map(|(_, l)| l).collect();
            assert_eq!(
                values.len(),
                labels.len(),
                "{}: duplicate value",
                field.path()
            );
            assert_eq!(
                names.len(),
                labels.len(),
                "{}: duplicate label",
                field.path()
            );
        }
    }
}

#[test]
fn tables_and_their_columns_agree() {
    for field in FIELDS.iter().filter(|f| f.table.is_some()) {
        assert!(table_of(field).is_some(), "{}: no such table", field.path());
    }
    for table in TABLES {
        let columns: Vec<_> = FIELDS
            .iter()
            .filter(|f| f.page == table.page && f.table == Some(table.key))
            .collect();
        assert!(!columns.is_empty(), "table {} has no columns", table.key);
        if let Some(limit) = table.row_limit {
            let limit_field = fields_of(table.page).find(|f| f.key == limit && f.table.is_none());
            assert!(
                limit_field.is_some(),
                "table {}: row limit {limit} is not a page field",
                table.key
            );
        }
        if let Some(count) = table.counted_by {
            let count_field = fields_of(table.page).find(|f| f.key == count && f.table.is_none());
            let count_field = count_field
                .unwrap_or_else(|| panic!("table {}: count {count} is no page field", table.key));
            // The count can only vouch for columns of its own MIB.
            for source in count_field.sources {
                let column_mibs = columns.iter().flat_map(|c| c.sources).map(|s| s.mib);
                for mib in column_mibs {
                    assert_eq!(mib, source.mib, "table {}: counted across MIBs", table.key);
                }
            }
        }
        if let Some(required) = table.required {
            assert!(
                columns.iter().any(|c| c.key == required),
                "table {}: {required} is no column",
                table.key
            );
        }
        assert!(
            fields_of(table.page).all(|f| f.table.is_some() || f.key != table.key),
            "table {} collides with a page field",
            table.key
        );
    }
}

/// Home Assistant 2026.x rejects a unit that does not fit the device class
/// and `state_class` on enum sensors (../shared/home-assistant/README.md).
#[test]
fn home_assistant_device_classes_fit_units() {
    let units: HashMap<&str, &[Option<Unit>]> = HashMap::from([
        ("voltage", &[Some(Unit::Volt)][..]),
        ("current", &[Some(Unit::Ampere)][..]),
        ("power", &[Some(Unit::Watt)][..]),
        ("apparent_power", &[Some(Unit::VoltAmpere)][..]),
        ("frequency", &[Some(Unit::Hertz)][..]),
        ("temperature", &[Some(Unit::Celsius)][..]),
        ("duration", &[Some(Unit::Second)][..]),
        ("battery", &[Some(Unit::Percent)][..]),
        ("humidity", &[Some(Unit::Percent)][..]),
        ("enum", &[None][..]),
        ("power_factor", &[None][..]),
        ("energy", &[Some(Unit::KiloWattHour)][..]),
        ("reactive_power", &[Some(Unit::VoltAmpereReactive)][..]),
    ]);
    let binary_classes = ["problem", "battery", "connectivity", "power", "plug"];
    for field in FIELDS {
        let path = field.path();
        let ha = field.ha;
        match ha.component {
            Component::Sensor | Component::Number => {
                if let Some(class) = ha.device_class {
                    let allowed = units
                        .get(class)
                        .unwrap_or_else(|| panic!("{path}: unknown class {class}"));
                    assert!(
                        allowed.contains(&field.unit),
                        "{path}: {class} with {:?}",
                        field.unit
                    );
                }
                if ha.device_class == Some("enum") {
                    assert!(
                        ha.state_class.is_none(),
                        "{path}: enum sensors take no state_class"
                    );
                    assert!(
                        field
                            .sources
                            .iter()
                            .all(|s| matches!(s.decode, Decode::Enum(_))),
                        "{path}"
                    );
                }
            }
            Component::BinarySensor => {
                if let Some(class) = ha.device_class {
                    assert!(
                        binary_classes.contains(&class),
                        "{path}: binary class {class}"
                    );
                }
                assert!(
                    field
                        .sources
                        .iter()
                        .all(|s| matches!(s.decode, Decode::Flag { .. })),
                    "{path}: binary sensor needs flags"
                );
            }
            Component::Switch => assert!(
                ha.device_class.is_none() || ha.device_class == Some("outlet"),
                "{path}"
            ),
            _ => {}
        }
        if ha.state_class.is_some() {
            assert!(
                field
                    .sources
                    .iter()
                    .all(|s| matches!(s.decode, Decode::Number { .. })),
                "{path}: state_class on a non-numeric field"
            );
        }
    }
}

#[test]
fn entity_components_that_write_have_writable_sources() {
    for field in FIELDS {
        let writes = matches!(
            field.ha.component,
            Component::Number
                | Component::Select
                | Component::Switch
                | Component::Text
                | Component::Button
        );
        if writes {
            assert!(
                field.is_writable(),
                "{}: {} needs a writable source",
                field.path(),
                field.ha.component.name()
            );
        }
    }
}

#[test]
fn decimals_follow_scale() {
    assert_eq!(Decode::Number { scale: 0.1 }.decimals(), 1);
    assert_eq!(Decode::Number { scale: 0.01 }.decimals(), 2);
    assert_eq!(Decode::Number { scale: 60.0 }.decimals(), 0);
    assert_eq!(Decode::Number { scale: 1.0 }.decimals(), 0);
}

#[test]
fn every_page_has_fields_and_lookups_work() {
    for page in Page::ALL {
        assert!(fields_of(page).next().is_some(), "{page} has no fields");
        assert_eq!(Page::from_name(page.name()), Some(page));
    }
    assert_eq!(
        field_by_path("battery.charge").unwrap().unit,
        Some(Unit::Percent)
    );
    assert!(field_by_path("input.lines.voltage").is_some());
    assert!(field_by_path("battery.nope").is_none());
}

#[test]
fn well_known_alarms_resolve() {
    let oid = Oid::parse("1.3.6.1.2.1.33.1.6.3.2").unwrap();
    assert_eq!(alarms::well_known_alarm(&oid).unwrap().name, "on_battery");
    assert!(alarms::well_known_alarm(&Oid::parse("1.3.6.1.2.1.33.1.6.3.99").unwrap()).is_none());
    assert_eq!(alarms::WELL_KNOWN_ALARMS.len(), 24);
}

/// How a written value of a source is classed by the safety policy.
fn safety_class(source: &Source) -> String {
    let names = |raws: &[i64]| {
        raws.iter()
            .map(|r| {
                source
                    .decode
                    .label(*r)
                    .map_or(r.to_string(), str::to_string)
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    match source.cuts_power {
        CutsPower::Never => "safe".to_string(),
        CutsPower::AllBut([]) => "dangerous".to_string(),
        CutsPower::AllBut(safe) => format!("dangerous except {}", names(safe)),
        CutsPower::Values(values) => format!("dangerous: {}", names(values)),
    }
}

/// Every writable field and its safety class (issue 17 item 5): whatever
/// can change whether, when or at what voltage the load is powered is
/// dangerous (schedules, delays, nominal and transfer voltages, low-battery
/// thresholds, restart and shutdown conditions, outlet policies, battery
/// test scheduling and calibration). A new writable field fails this test
/// until its class is decided here.
fn writable_classes() -> Vec<(String, String)> {
    FIELDS
        .iter()
        .filter(|f| f.is_writable())
        .map(|f| {
            let mut classes: Vec<String> = f
                .sources
                .iter()
                .filter(|s| s.is_writable())
                .map(safety_class)
                .collect();
            classes.dedup();
            (f.path(), classes.join(" | "))
        })
        .collect()
}

#[test]
fn every_writable_field_has_a_visible_safety_class() {
    let actual = writable_classes();
    let listed: Vec<(String, String)> = WRITABLE_CLASSES
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect();
    let text = |rows: &[(String, String)]| {
        rows.iter()
            .map(|(p, c)| format!("    (\"{p}\", \"{c}\"),"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        actual == listed,
        "the safety classes changed; review and update WRITABLE_CLASSES:\n{}",
        text(&actual)
    );
    // The policy's floor: these facts are never writable without the
    // dangerous switch.
    for path in [
        "control.day_off",
        "control.day_on",
        "config.output_nominal_voltage",
        "config.low_battery_level",
        "config.low_transfer_voltage",
        "config.high_transfer_voltage",
        "config.sensitivity",
        "control.receptacles.off_delay",
        "control.shutdown_after_delay",
    ] {
        let (_, class) = actual.iter().find(|(p, _)| p == path).unwrap();
        assert!(class.starts_with("dangerous"), "{path}: {class}");
    }
}
/// The decided class of every writable field, in point-table order
/// ("dangerous" = every written value; "dangerous: a,b" = these values;
/// "dangerous except x" = every value but x). Notes: a battery test
/// (test.start) is classed safe here; refusing it while the UPS is on
/// battery is a state-dependent rule of the command policy.
#[rustfmt::skip]
static WRITABLE_CLASSES: &[(&str, &str)] = &[
    ("general.name", "safe"),
    ("general.attached_devices", "safe"),
    ("general.user_id", "safe"),
    ("general.installation_date", "safe"),
    ("config.low_battery_runtime", "dangerous"),
    ("config.low_battery_level", "dangerous"),
    ("config.deep_discharge_protection", "dangerous"),
    ("config.automatic_restart", "dangerous"),
    ("config.shutoff_delay", "dangerous"),
    ("config.return_delay", "dangerous"),
    ("config.min_return_capacity", "dangerous"),
    ("config.alarm_mode", "safe"),
    ("config.beeper", "safe"),
    ("config.alarm_audible", "safe"),
    ("config.alarm_time_delay", "safe"),
    ("config.shutdown_duration", "dangerous"),
    ("config.low_transfer_voltage", "dangerous"),
    ("config.high_transfer_voltage", "dangerous"),
    ("config.input_nominal_voltage", "dangerous"),
    ("config.input_nominal_frequency", "dangerous"),
    ("config.output_nominal_voltage", "dangerous"),
    ("config.output_nominal_frequency", "dangerous"),
    ("config.emergency_on_test_fail", "dangerous"),
    ("config.emergency_on_bypass", "dangerous"),
    ("config.emergency_on_overload", "dangerous"),
    ("config.sensitivity", "dangerous"),
    ("config.sleep_time", "dangerous"),
    ("config.battery_exhaust_threshold", "dangerous"),
    ("config.battery_capacity_setting", "dangerous"),
    ("config.position", "safe"),
    ("config.output_frequency_range", "dangerous"),
    ("config.ups_fail_action", "dangerous"),
    ("config.alarm_redundancy", "safe"),
    ("config.alarm_load_over", "safe"),
    ("config.alarm_runtime_under", "safe"),
    ("config.vout_reporting", "safe"),
    ("config.external_batteries", "dangerous"),
    ("config.simple_signal_shutdowns", "dangerous"),
    ("config.max_shutdown_time", "dangerous"),
    ("config.min_return_runtime", "dangerous"),
    ("config.low_battery_signal_duration", "dangerous"),
    ("config.bypass_phase_lock", "dangerous"),
    ("config.output_frequency_slew_rate", "safe"),
    ("config.charger_level", "safe"),
    ("config.bypass_tolerance", "dangerous"),
    ("config.output_voltage_tolerance_upper", "dangerous"),
    ("config.output_voltage_tolerance_lower", "dangerous"),
    ("config.bypass_voltage_tolerance_upper", "dangerous"),
    ("config.bypass_voltage_tolerance_lower", "dangerous"),
    ("config.out_of_sync_bypass_transfer_delay", "dangerous"),
    ("config.warning_alarm_delay", "safe"),
    ("config.informational_alarm_delay", "safe"),
    ("config.green_mode", "dangerous"),
    ("config.lcd_language", "safe"),
    ("config.lcd_lockout", "safe"),
    ("config.charger_rate", "safe"),
    ("config.battery_type", "safe"),
    ("config.battery_health_alarm_warning_time", "safe"),
    ("config.battery_health_alarm_sleep_time", "safe"),
    ("config.signal_flash_voltage", "safe"),
    ("config.battery_temperature_compensation", "safe"),
    ("config.bypass_frequency_tolerance", "dangerous"),
    ("config.ac_qualification_time", "dangerous"),
    ("config.reboot_duration", "dangerous"),
    ("config.auto_shutdown_skip_off_delay", "dangerous"),
    ("config.auto_shutdown_restart", "dangerous"),
    ("config.auto_shutdown_on_time_on_battery", "dangerous"),
    ("config.auto_shutdown_on_runtime", "dangerous"),
    ("config.auto_shutdown_time_on_battery", "dangerous"),
    ("config.auto_shutdown_runtime", "dangerous"),
    ("config.high_transfer_voltage_phase_to_phase", "dangerous"),
    ("config.low_transfer_voltage_phase_to_phase", "dangerous"),
    ("config.bypass_high_transfer_voltage", "dangerous"),
    ("config.bypass_low_transfer_voltage", "dangerous"),
    ("config.bypass_high_transfer_voltage_phase_to_phase", "dangerous"),
    ("config.bypass_low_transfer_voltage_phase_to_phase", "dangerous"),
    ("config.auto_shutdown_on_battery_capacity", "dangerous"),
    ("config.auto_shutdown_battery_capacity", "dangerous"),
    ("config.auto_shutdown_on_load_percent", "dangerous"),
    ("config.auto_shutdown_load_percent", "dangerous"),
    ("config.bypass_frequency_min", "dangerous"),
    ("config.bypass_frequency_max", "dangerous"),
    ("config.eco_voltage_min", "dangerous"),
    ("config.eco_voltage_max", "dangerous"),
    ("receptacles.receptacles.on_power_up", "dangerous"),
    ("receptacles.receptacles.on_mains_return", "dangerous"),
    ("receptacles.receptacles.on_discharge", "dangerous"),
    ("receptacles.receptacles.shutoff_level", "dangerous"),
    ("receptacles.receptacles.shutoff_timer", "dangerous"),
    ("receptacles.receptacles.restart_level", "dangerous"),
    ("receptacles.receptacles.restart_delay", "dangerous"),
    ("receptacles.outlet_groups.name", "safe"),
    ("receptacles.outlet_groups.power_on_delay", "dangerous"),
    ("receptacles.outlet_groups.power_off_delay", "dangerous"),
    ("receptacles.outlet_groups.reboot_duration", "dangerous"),
    ("receptacles.outlet_groups.min_return_runtime", "dangerous"),
    ("receptacles.outlet_groups.load_shed_on_battery_time", "dangerous"),
    ("receptacles.outlet_groups.load_shed_runtime_remaining", "dangerous"),
    ("receptacles.outlet_groups.load_shed_skip_off_delay", "dangerous"),
    ("receptacles.outlet_groups.load_shed_restart", "dangerous"),
    ("receptacles.outlet_groups.load_shed_on_time_on_battery", "dangerous"),
    ("receptacles.outlet_groups.load_shed_on_runtime", "dangerous"),
    ("receptacles.outlet_groups.load_shed_in_overload", "dangerous"),
    ("environment.sensors.temperature_low_threshold", "safe"),
    ("environment.sensors.temperature_high_threshold", "safe"),
    ("environment.sensors.humidity_low_threshold", "safe"),
    ("environment.sensors.humidity_high_threshold", "safe"),
    ("control.outlet_groups.command", "dangerous: immediate_off,immediate_reboot,delayed_off,delayed_reboot,immediate_reboot_shutdown,delayed_reboot_shutdown"),
    ("control.receptacles.on_delay", "dangerous except -1"),
    ("control.receptacles.on", "safe"),
    ("control.receptacles.off_delay", "dangerous except -1"),
    ("control.receptacles.off", "dangerous: start"),
    ("control.receptacles.toggle_delay", "dangerous except -1"),
    ("control.receptacles.toggle", "dangerous: start"),
    ("control.receptacles.toggle_duration", "dangerous"),
    ("control.day_off", "dangerous except none"),
    ("control.day_on", "dangerous except none"),
    ("control.shutdown_type", "dangerous"),
    ("control.shutdown_after_delay", "dangerous except -1"),
    ("control.startup_after_delay", "dangerous except -1"),
    ("control.reboot_with_duration", "dangerous except -1"),
    ("control.ups_off", "dangerous: turn_ups_off,turn_ups_off_gracefully"),
    ("control.reboot", "dangerous: reboot_shutdown_ups,reboot_shutdown_ups_gracefully"),
    ("control.ups_on", "safe"),
    ("control.bypass_switch", "dangerous: switch_to_bypass"),
    ("control.conserve_battery", "dangerous: turn_off_ups_to_conserve_battery"),
    ("control.sleep", "dangerous: put_ups_to_sleep,put_ups_to_sleep_gracefully"),
    ("control.simulate_power_failure", "dangerous: simulate_power_failure"),
    ("control.flash_and_beep", "safe"),
    ("control.reboot_with_or_without_ac", "dangerous: reboot_ups_immediately_with_or_without_ac,reboot_ups_delayed_with_or_without_ac"),
    ("control.reset_min_max", "safe"),
    ("control.server_shutdown", "dangerous: server_shutdown_off,server_shutdown_reboot"),
    ("control.reset_to_defaults", "dangerous: set_eeprom_defaults"),
    ("test.diagnostic_time", "dangerous"),
    ("test.diagnostic_day", "dangerous"),
    ("test.schedule", "dangerous"),
    ("test.start", "safe"),
    ("test.start_diagnostics", "safe"),
    ("test.calibration", "dangerous: perform_calibration"),
];

#[test]
fn whole_ups_totals_are_shown_first_their_lines_are_diagnostic() {
    for rule in WHOLE_UPS {
        let total = field_by_path(rule.total).expect(rule.total);
        let lines = field_by_path(rule.lines).expect(rule.lines);
        assert!(
            total.ha.enabled && total.ha.category.is_none(),
            "{}: enabled, primary",
            rule.total
        );
        assert!(
            !lines.ha.enabled && lines.ha.category == Some(Category::Diagnostic),
            "{}: diagnostic beside {}",
            rule.lines,
            rule.total
        );
        assert_eq!(total.unit, lines.unit, "{}", rule.total);
    }
}
