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
    // (PowerNet upsPhase tables: feed 1 main input, feed 2 bypass).
    let mut points = HashSet::new();
    let mut objects: HashMap<&str, &str> = HashMap::new();
    for (field, source) in all_sources() {
        assert!(
            points.insert((source.oid, source.index.arcs(0))),
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
