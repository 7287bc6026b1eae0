//! The model's decisions on raw agent data: expected values come from the
//! MIB texts (units, scales), never from our own output.

use super::*;
use crate::oid::Oid;
use crate::snmp::Value;
use crate::snmp::client::{GetName, answers_in_request_order};

fn snapshot(rows: &[(&str, Value)]) -> Snapshot {
    rows.iter()
        .map(|(oid, v)| (Oid::parse(oid).unwrap(), v.clone()))
        .collect()
}

fn model(rows: &[(&str, Value)]) -> Model {
    Model::from_snapshot(Mib::ALL.into(), &snapshot(rows), &ScaleOverrides::new())
}

fn field(path: &str) -> &'static Field {
    crate::mib::field_by_path(path).unwrap()
}

#[test]
fn a_column_takes_one_source_for_all_rows() {
    // A Galaxy 7000: RFC 1628 upsInputVoltage line 1 only (whole volts,
    // phase-to-neutral), MGE mginputVoltage (tenths, phase-to-phase) and
    // mginputFrequency (tenths of Hz) on lines 1-3. Row by row, line 1
    // would be RFC and lines 2-3 MGE.
    let m = model(&[
        ("1.3.6.1.4.1.705.1.6.2.1.3.1", Value::Integer(500)),
        ("1.3.6.1.4.1.705.1.6.2.1.3.2", Value::Integer(500)),
        ("1.3.6.1.4.1.705.1.6.2.1.3.3", Value::Integer(500)),
        ("1.3.6.1.2.1.33.1.3.3.1.3.1", Value::Integer(236)),
        ("1.3.6.1.4.1.705.1.6.2.1.2.1", Value::Integer(4100)),
        ("1.3.6.1.4.1.705.1.6.2.1.2.2", Value::Integer(4100)),
        ("1.3.6.1.4.1.705.1.6.2.1.2.3", Value::Integer(4100)),
        ("1.3.6.1.4.1.705.1.6.1.0", Value::Integer(3)),
    ]);
    let voltage = field("input.lines.voltage");
    let source = m.source_of(voltage).unwrap();
    assert_eq!(source.object, "upsInputVoltage", "preferred source served");
    let lines = m.page(Page::Input).unwrap().table("lines").unwrap();
    assert_eq!(lines.rows, [1, 2, 3], "upsmgInputPhaseNum = 3");
    assert_eq!(m.reading(voltage, Some(2)), None, "no RFC 1628 line 2");
    // Two quantities, two fields: MGE's phase voltage on a 3-phase card
    // is phase-to-phase, in tenths of V.
    let between_phases = field("input.lines.voltage_phase_to_phase");
    let source = m.source_of(between_phases).unwrap();
    assert_eq!(source.object, "mginputVoltage");
    for line in 1..=3 {
        assert_eq!(
            m.reading(between_phases, Some(line)),
            Some(&Reading::number(410.0, 1))
        );
    }
    let lines = m.page(Page::Input).unwrap().table("lines").unwrap();
    assert_eq!(lines.rows, [1, 2, 3], "upsmgInputPhaseNum = 3");
    let cells: Vec<Option<f64>> = [1, 2, 3]
        .iter()
        .map(|&i| lines.cell(voltage, i).and_then(Reading::as_f64))
        .collect();
    assert_eq!(cells, [Some(236.0), None, None], "no MGE value mixed in");
}

#[test]
fn a_column_falls_to_the_next_source_only_when_the_first_serves_nothing() {
    // No upsOutputCurrent: MGE mgoutputCurrent (tenths of A) serves both
    // rows.
    let m = model(&[
        ("1.3.6.1.4.1.705.1.7.2.1.5.1", Value::Integer(78)),
        ("1.3.6.1.4.1.705.1.7.2.1.5.2", Value::Integer(70)),
        ("1.3.6.1.4.1.705.1.7.1.0", Value::Integer(2)),
    ]);
    let current = field("output.lines.current");
    assert_eq!(m.source_of(current).unwrap().object, "mgoutputCurrent");
    let json = m.page_json(Page::Output).unwrap();
    assert_eq!(
        json["lines"],
        serde_json::json!([{"index": 1, "current": 7.8}, {"index": 2, "current": 7.0}])
    );
}

#[test]
fn a_chosen_source_is_kept_while_it_answers() {
    let battery = field("battery.runtime");
    // upsmgBatteryRemainingTime 1200 s, upsEstimatedMinutesRemaining 24 min.
    let first = snapshot(&[
        ("1.3.6.1.4.1.705.1.5.1.0", Value::Integer(1200)),
        ("1.3.6.1.2.1.33.1.2.3.0", Value::Integer(24)),
    ]);
    let mut m = Model::new(Mib::ALL.into());
    m.apply_read(&[Page::Battery], &first, &ScaleOverrides::new());
    assert_eq!(
        m.source_of(battery).unwrap().object,
        "upsmgBatteryRemainingTime"
    );
    // Then MGE says 65535 (no reading): null, not RFC 1628's value.
    let second = snapshot(&[
        ("1.3.6.1.4.1.705.1.5.2.0", Value::Integer(80)),
        ("1.3.6.1.4.1.705.1.5.1.0", Value::Integer(65_535)),
        ("1.3.6.1.2.1.33.1.2.3.0", Value::Integer(24)),
    ]);
    let update = m.apply_read(&[Page::Battery], &second, &ScaleOverrides::new());
    assert!(update.changed.contains(&Page::Battery));
    assert_eq!(m.reading(battery, None), Some(&Reading::Null));
    assert_eq!(
        m.source_of(battery).unwrap().object,
        "upsmgBatteryRemainingTime"
    );
    // A fresh UPS whose MGE runtime is a sentinel takes RFC 1628 (minutes).
    let fresh = model(&[
        ("1.3.6.1.4.1.705.1.5.1.0", Value::Integer(65_535)),
        ("1.3.6.1.2.1.33.1.2.3.0", Value::Integer(24)),
    ]);
    assert_eq!(
        fresh.reading(battery, None).and_then(Reading::as_f64),
        Some(1440.0)
    );
}

#[test]
fn single_phase_cards_without_a_line_count_get_one_line() {
    // A Delta-like card: upsOutputVoltage on 3 rows, lines 2-3 zero, no
    // upsOutputNumLines.
    let m = model(&[
        ("1.3.6.1.2.1.33.1.4.4.1.2.1", Value::Integer(230)),
        ("1.3.6.1.2.1.33.1.4.4.1.2.2", Value::Integer(0)),
        ("1.3.6.1.2.1.33.1.4.4.1.2.3", Value::Integer(0)),
        ("1.3.6.1.2.1.33.1.4.4.1.5.1", Value::Integer(59)),
        ("1.3.6.1.2.1.33.1.4.4.1.5.2", Value::Integer(0)),
        ("1.3.6.1.2.1.33.1.4.4.1.5.3", Value::Integer(0)),
    ]);
    let lines = m.page(Page::Output).unwrap().table("lines").unwrap();
    assert_eq!(lines.rows, [1]);
    // A 5PX-like card: mgoutputFrequency (tenths of Hz) 50.0 on three
    // rows, mgoutputVoltage (tenths of V) on line 1 only.
    let padded = model(&[
        ("1.3.6.1.4.1.705.1.7.2.1.2.1", Value::Integer(2300)),
        ("1.3.6.1.4.1.705.1.7.2.1.3.1", Value::Integer(500)),
        ("1.3.6.1.4.1.705.1.7.2.1.3.2", Value::Integer(500)),
        ("1.3.6.1.4.1.705.1.7.2.1.3.3", Value::Integer(500)),
    ]);
    let lines = padded.page(Page::Output).unwrap().table("lines").unwrap();
    assert_eq!(lines.rows, [1], "a repeated frequency proves no line");
    // Single phase: MGE's phase voltage is the line's (phase-to-neutral)
    // voltage, and there is no phase-to-phase voltage.
    let voltage = field("output.lines.voltage");
    assert_eq!(padded.source_of(voltage).unwrap().object, "mgoutputVoltage");
    assert_eq!(
        padded.reading(voltage, Some(1)),
        Some(&Reading::number(230.0, 1))
    );
    assert!(
        padded
            .source_of(field("output.lines.voltage_phase_to_phase"))
            .is_none()
    );
    // The stated count wins over the data: upsOutputNumLines = 1 with 3 rows.
    let stated = model(&[
        ("1.3.6.1.2.1.33.1.4.3.0", Value::Integer(1)),
        ("1.3.6.1.2.1.33.1.4.4.1.5.1", Value::Integer(59)),
        ("1.3.6.1.2.1.33.1.4.4.1.5.2", Value::Integer(59)),
        ("1.3.6.1.2.1.33.1.4.4.1.5.3", Value::Integer(59)),
    ]);
    let lines = stated.page(Page::Output).unwrap().table("lines").unwrap();
    assert_eq!(lines.rows, [1]);
}

#[test]
fn lines_stay_when_the_output_goes_to_zero() {
    let mut m = Model::new(Mib::ALL.into());
    let on = snapshot(&[
        ("1.3.6.1.2.1.33.1.4.4.1.2.1", Value::Integer(230)),
        ("1.3.6.1.2.1.33.1.4.4.1.2.2", Value::Integer(231)),
        ("1.3.6.1.2.1.33.1.4.4.1.2.3", Value::Integer(229)),
    ]);
    m.apply_read(&[Page::Output], &on, &ScaleOverrides::new());
    let off = snapshot(&[
        ("1.3.6.1.2.1.33.1.4.4.1.2.1", Value::Integer(0)),
        ("1.3.6.1.2.1.33.1.4.4.1.2.2", Value::Integer(0)),
        ("1.3.6.1.2.1.33.1.4.4.1.2.3", Value::Integer(0)),
    ]);
    m.apply_read(&[Page::Output], &off, &ScaleOverrides::new());
    let lines = m.page(Page::Output).unwrap().table("lines").unwrap();
    assert_eq!(lines.rows, [1, 2, 3]);
}

#[test]
fn shape_changes_only_with_layout_or_identity() {
    let mut m = Model::new(Mib::ALL.into());
    let read = |m: &mut Model, charge: i64, model_name: &str| {
        let data = snapshot(&[
            ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(charge)),
            (
                "1.3.6.1.2.1.33.1.1.2.0",
                Value::OctetString(model_name.into()),
            ),
        ]);
        m.apply_read(&Page::ALL, &data, &ScaleOverrides::new())
    };
    read(&mut m, 90, "Galaxy");
    assert!(m.is_complete());
    let first = m.new_shape().expect("first shape");
    assert_eq!(first.identity.model.as_deref(), Some("Galaxy"));
    read(&mut m, 80, "Galaxy");
    assert!(m.new_shape().is_none(), "a reading is no new shape");
    read(&mut m, 80, "Galaxy 7000");
    assert_eq!(
        m.new_shape().unwrap().identity.model.as_deref(),
        Some("Galaxy 7000")
    );
}

#[test]
fn upses_with_the_same_layout_share_it_and_keep_their_identity() {
    let layouts = Layouts::default();
    let card = |charge: i64, serial: &str, outlet_groups: bool| {
        let mut rows = vec![
            ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(charge)),
            (
                "1.3.6.1.4.1.318.1.1.1.1.2.3.0",
                Value::OctetString(serial.into()),
            ),
        ];
        if outlet_groups {
            rows.push(("1.3.6.1.4.1.318.1.1.1.12.3.2.1.3.1", Value::Integer(1)));
        }
        let data = snapshot(&rows);
        let mut model = Model::new(Mib::ALL.into()).with_layouts(layouts.clone());
        model.apply_read(&Page::ALL, &data, &ScaleOverrides::new());
        model.shape()
    };
    let a = card(90, "AS0001", false);
    let b = card(40, "AS0002", false);
    assert!(a.shares_layout(&b), "one copy for one layout");
    assert_eq!(a.identity.serial_number.as_deref(), Some("AS0001"));
    assert_eq!(b.identity.serial_number.as_deref(), Some("AS0002"));
    assert_ne!(*a, *b, "identities differ");
    assert_eq!(layouts.len(), 1);
    let c = card(90, "AS0003", true);
    assert!(!a.shares_layout(&c), "outlet groups: another layout");
    let outlets: Vec<u32> = c.outlets.iter().map(|o| o.index).collect();
    assert_eq!(outlets, [1]);
    assert_eq!(layouts.len(), 2);
    drop(c);
    assert_eq!(layouts.len(), 1, "a layout no shape holds is not kept");
}

#[test]
fn a_shape_rebuilt_the_same_is_kept_once() {
    // upsIdentName: a general-page reading that is not part of the
    // identity, so a new one rebuilds the shape the same.
    let data = |name: &str| {
        snapshot(&[
            (
                "1.3.6.1.2.1.33.1.1.2.0",
                Value::OctetString("Galaxy".into()),
            ),
            ("1.3.6.1.2.1.33.1.1.5.0", Value::OctetString(name.into())),
        ])
    };
    let mut m = Model::new(Mib::ALL.into());
    m.apply_read(&Page::ALL, &data("rack 1"), &ScaleOverrides::new());
    let first = m.new_shape().expect("first shape");
    m.apply_read(&Page::ALL, &data("rack 2"), &ScaleOverrides::new());
    assert!(m.new_shape().is_none());
    assert!(
        Arc::ptr_eq(&first, &m.shape()),
        "the announced copy is kept"
    );
}

#[test]
fn commands_and_outlets_resolve_to_the_source_in_use() {
    // RFC 1628 upsConfigAudibleStatus (enabled(2)) and PowerNet outlet
    // groups 1-2 (sPDU-like upsOutletGroupControlCommand, immediateOn(1)).
    let mut m = model(&[
        ("1.3.6.1.2.1.33.1.9.8.0", Value::Integer(2)),
        ("1.3.6.1.4.1.318.1.1.1.12.3.2.1.3.1", Value::Integer(1)),
        ("1.3.6.1.4.1.318.1.1.1.12.3.2.1.3.2", Value::Integer(1)),
    ]);
    let shape = m.shape();
    let mute = shape.command("beeper.mute").expect("RFC 1628 beeper");
    let Resolved::Set { slot, .. } = &mute.how else {
        panic!("{mute:?}")
    };
    assert_eq!(slot.source.object, "upsConfigAudibleStatus");
    assert!(
        shape.command("test.battery.start").is_none(),
        "no test page"
    );
    let outlets: Vec<u32> = shape.outlets.iter().map(|o| o.index).collect();
    assert_eq!(outlets, [1, 2]);
    assert_eq!(shape.outlets[0].kind.control, "outlet_groups");
}

#[test]
fn page_texts_are_the_page_json() {
    // Every field of the point table answers (first source; rows 1 and 2),
    // with numbers of every precision, texts, labels and flags.
    let mut data = Snapshot::new();
    for field in crate::mib::FIELDS {
        let source = &field.sources[0];
        let value = match source.decode {
            crate::mib::Decode::Text => Value::OctetString(b"x \"y\"".to_vec()),
            crate::mib::Decode::Number { .. } => Value::Integer(1234),
            crate::mib::Decode::Enum(labels) => Value::Integer(labels[0].0 + 100),
            crate::mib::Decode::Flag { on, .. } => Value::Integer(on),
            _ => Value::oid(Oid::parse("1.3.6.1.2.1.33.1.6.3.2").unwrap()),
        };
        let rows: &[u32] = if field.table.is_some() { &[1, 2] } else { &[0] };
        for &row in rows {
            data.insert(source.instance(row), value.clone());
        }
    }
    let m = Model::from_snapshot(Mib::ALL.into(), &data, &ScaleOverrides::new());
    assert!(m.pages().count() >= 10);
    for page in m.pages() {
        let json = serde_json::Value::Object(m.page_json(page.page).unwrap());
        let text = m.page_text(page.page).unwrap();
        assert_eq!(text, json.to_string(), "{}", page.page);
    }
}

#[test]
fn whole_ups_values_follow_from_the_lines_without_a_card_total() {
    // RFC 1628 only, 3 phases: upsOutputVoltage 230/232/234 V,
    // upsOutputPercentLoad 40/55/47 %, upsOutputPower 900/1200/1000 W.
    let rows = [(1, 230, 40, 900), (2, 232, 55, 1200), (3, 234, 47, 1000)];
    let mut data = vec![("1.3.6.1.2.1.33.1.4.3.0".to_string(), Value::Integer(3))];
    for (line, volts, load, watts) in rows {
        data.push((
            format!("1.3.6.1.2.1.33.1.4.4.1.2.{line}"),
            Value::Integer(volts),
        ));
        data.push((
            format!("1.3.6.1.2.1.33.1.4.4.1.5.{line}"),
            Value::Integer(load),
        ));
        data.push((
            format!("1.3.6.1.2.1.33.1.4.4.1.4.{line}"),
            Value::Integer(watts),
        ));
    }
    let rows: Vec<(&str, Value)> = data.iter().map(|(o, v)| (o.as_str(), v.clone())).collect();
    let m = model(&rows);
    let number = |path: &str| m.reading(field(path), None).and_then(Reading::as_f64);
    assert_eq!(number("output.voltage"), Some(232.0), "mean of the phases");
    assert_eq!(number("output.load"), Some(55.0), "the highest phase");
    assert_eq!(
        number("output.power"),
        Some(3100.0),
        "the sum of the phases"
    );
    assert_eq!(
        m.source_of(field("output.voltage")).unwrap().object,
        "upsOutputVoltage"
    );
    // A card with its own total keeps it: upsHighPrecOutputVoltage 229.5 V.
    let mut own = rows.clone();
    own.push(("1.3.6.1.4.1.318.1.1.1.4.3.1.0", Value::Gauge32(2295)));
    let m = model(&own);
    assert_eq!(
        m.reading(field("output.voltage"), None)
            .and_then(Reading::as_f64),
        Some(229.5)
    );
}

#[test]
fn a_zero_the_card_does_not_measure_is_no_reading() {
    // A 5PX: upsInputVoltage.1 = 229 V (whole V), upsInputCurrent.1 = 0
    // (0.1 RMS Amp) and upsInputTruePower.1 = 0 W while it runs on mains:
    // a UPS on mains always draws current, so these zeros are unmeasured.
    let m = model(&[
        ("1.3.6.1.2.1.33.1.3.3.1.3.1", Value::Integer(229)),
        ("1.3.6.1.2.1.33.1.3.3.1.4.1", Value::Integer(0)),
        ("1.3.6.1.2.1.33.1.3.3.1.5.1", Value::Integer(0)),
    ]);
    let current = field("input.lines.current");
    let power = field("input.lines.power");
    assert_eq!(m.reading(current, Some(1)), Some(&Reading::Null));
    assert_eq!(m.reading(power, Some(1)), Some(&Reading::Null));
    // A blackout: no input voltage, and then 0 A is a real zero.
    let m = model(&[
        ("1.3.6.1.2.1.33.1.3.3.1.3.1", Value::Integer(0)),
        ("1.3.6.1.2.1.33.1.3.3.1.4.1", Value::Integer(0)),
        ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(90)),
    ]);
    assert_eq!(m.reading(current, Some(1)), Some(&Reading::number(0.0, 1)));
    // A real reading stays: 1.5 A on 229 V.
    let m = model(&[
        ("1.3.6.1.2.1.33.1.3.3.1.3.1", Value::Integer(229)),
        ("1.3.6.1.2.1.33.1.3.3.1.4.1", Value::Integer(15)),
    ]);
    assert_eq!(m.reading(current, Some(1)), Some(&Reading::number(1.5, 1)));
}

#[test]
fn a_column_takes_the_source_that_serves_every_line() {
    // A Galaxy 7000: RFC 1628 upsOutputPercentLoad on line 1 only, MGE
    // mgoutputLoadPerPhase (a percentage) and mgoutputCurrent on lines 1-3.
    let m = model(&[
        ("1.3.6.1.2.1.33.1.4.4.1.5.1", Value::Integer(9)),
        ("1.3.6.1.4.1.705.1.7.2.1.5.1", Value::Integer(350)),
        ("1.3.6.1.4.1.705.1.7.2.1.5.2", Value::Integer(270)),
        ("1.3.6.1.4.1.705.1.7.2.1.5.3", Value::Integer(410)),
        ("1.3.6.1.4.1.705.1.7.2.1.4.1", Value::Integer(9)),
        ("1.3.6.1.4.1.705.1.7.2.1.4.2", Value::Integer(7)),
        ("1.3.6.1.4.1.705.1.7.2.1.4.3", Value::Integer(11)),
        ("1.3.6.1.4.1.705.1.7.1.0", Value::Integer(3)),
    ]);
    let load = field("output.lines.load");
    assert_eq!(m.source_of(load).unwrap().object, "mgoutputLoadPerPhase");
    assert_eq!(m.reading(load, Some(3)), Some(&Reading::number(11.0, 0)));
    // One line: the preferred RFC 1628 source stays.
    let m = model(&[
        ("1.3.6.1.2.1.33.1.4.4.1.5.1", Value::Integer(9)),
        ("1.3.6.1.4.1.705.1.7.2.1.4.1", Value::Integer(8)),
        ("1.3.6.1.4.1.705.1.7.1.0", Value::Integer(1)),
    ]);
    assert_eq!(m.source_of(load).unwrap().object, "upsOutputPercentLoad");
}

/// A real walk (snmpsim `.snmprec`: `OID|TYPE|VALUE`) as a snapshot; types
/// this test does not need are skipped.
fn snmprec(path: &std::path::Path) -> Snapshot {
    let text = std::fs::read_to_string(path).unwrap();
    let hex = |v: &str| {
        (0..v.len() / 2)
            .map(|i| u8::from_str_radix(&v[2 * i..2 * i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
    };
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '|');
            let (oid, tag, v) = (parts.next()?, parts.next()?, parts.next()?);
            let value = match tag {
                "2" => Value::Integer(v.parse().ok()?),
                "4" => Value::OctetString(v.as_bytes().to_vec()),
                "4x" => Value::OctetString(hex(v)),
                "6" => Value::oid(Oid::parse(v).ok()?),
                "65" => Value::Counter32(v.parse().ok()?),
                "66" => Value::Gauge32(v.parse().ok()?),
                "67" => Value::TimeTicks(v.parse().ok()?),
                "70" => Value::Counter64(v.parse().ok()?),
                _ => return None,
            };
            Some((Oid::parse(oid).ok()?, value))
        })
        .collect()
}

/// What a GET of `served` returns from an agent holding `data`, kept as a
/// poll keeps it (each answer paired with its request by OID).
fn get_of(served: &[ServedCell], data: &Snapshot) -> Vec<Option<Value>> {
    let asked: Vec<Oid> = served.iter().map(ServedCell::oid).collect();
    let answered: Vec<(Oid, Value)> = asked
        .iter()
        .map(|oid| (oid.clone(), data[oid].clone()))
        .collect();
    answers_in_request_order(&asked, answered)
}

/// Between walks a poll GETs only the cells a page was decoded from
/// (`PageData::served_cells`): on every real walk, every page decodes from
/// those cells alone to exactly what the walk gave.
/// The real card walks (`tests/fixtures/walks/*.snmprec`), sorted.
fn real_walks() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/walks");
    let mut walks: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "snmprec"))
        .collect();
    walks.sort();
    assert!(walks.len() >= 10, "the real walks are in {}", dir.display());
    walks
}

#[test]
fn the_alarms_read_at_every_poll_decode_like_the_group_walk_on_every_real_walk() {
    // A poll GETs the alarm objects and walks the alarm table's columns
    // only while upsAlarmsPresent is not 0 (`every_poll_read`); the page
    // must come out as from the walk of their groups, single- and
    // three-phase cards alike.
    let overrides = ScaleOverrides::new();
    let capabilities = crate::probe::Capabilities {
        mibs: Mib::ALL.into(),
    };
    let plan = capabilities.every_poll_read(&[Page::Alarms]);
    let mut with_alarms = Vec::new();
    let mut table_not_walked = Vec::new();
    for walk in &real_walks() {
        let data = snmprec(walk);
        let model = Model::from_snapshot(Mib::ALL.into(), &data, &overrides);
        let mut read: Snapshot = plan
            .scalars
            .iter()
            .filter_map(|&source| {
                let (_, oid) = ServedCell::scalar(source)?;
                let value = data.get(&oid)?.clone();
                Some((oid, value))
            })
            .collect();
        let roots = plan.walk_roots(&read);
        read.extend(
            data.iter()
                .filter(|(oid, _)| roots.iter().any(|root| oid.starts_with(root)))
                .map(|(oid, value)| (oid.clone(), value.clone())),
        );
        let name = walk.file_stem().unwrap().to_string_lossy().into_owned();
        if roots.is_empty()
            && data
                .keys()
                .any(|oid| oid.starts_with(&plan.tables[0].columns[0]))
        {
            table_not_walked.push(name.clone());
        }
        let decoded = PageData::decode(Page::Alarms, &read, &overrides, None, &mut Vec::new());
        assert_eq!(
            decoded.as_ref(),
            model.page(Page::Alarms),
            "{}",
            walk.display()
        );
        if name == "apc_galaxy-vs-40kw" {
            // The walk's upsBasicStateAlarmStatus.0 = 1, noAlarms(1), and
            // upsAdvStateAbnormalConditions.0 = 32 flags, none set.
            let polled = Model::from_snapshot(Mib::ALL.into(), &read, &overrides);
            let page = polled.page_json(Page::Alarms).unwrap();
            assert_eq!(page["severity"], "no_alarms");
            assert_eq!(page["abnormal_conditions"], "0".repeat(32));
        }
        if decoded.is_some() {
            with_alarms.push(name);
        }
    }
    // Three-phase (Galaxy VS, CET) and single-phase (9PX) cards.
    assert_eq!(
        with_alarms,
        [
            "apc_galaxy-vs-40kw",
            "cetpower",
            "eaton-mgeups_9pxle",
            "eatonupsm2_9px+empg2"
        ]
    );
    // CE+T's table holds 24 rows of padding (upsAlarmDescr 0.0) while its
    // upsAlarmsPresent.0 = 0: no walk, and the same empty table.
    assert_eq!(table_not_walked, ["cetpower"]);
}

#[test]
fn a_get_of_the_served_cells_decodes_like_the_walk_on_every_real_walk() {
    let overrides = ScaleOverrides::new();
    for walk in &real_walks() {
        let data = snmprec(walk);
        let model = Model::from_snapshot(Mib::ALL.into(), &data, &overrides);
        let mut pages = 0;
        for page in Page::ALL {
            let Some(walked) = model.page(page) else {
                continue;
            };
            let served = model.served_cells(page, &data);
            assert!(
                !served.is_empty(),
                "{}: {page:?} read from no cell",
                walk.display()
            );
            // What a poll's GET writes for each cell is its OID's BER.
            for cell in &served {
                let (mut written, mut encoded) = (Vec::new(), Vec::new());
                cell.push_content(&mut written);
                crate::snmp::ber::push_oid_content(&mut encoded, &cell.oid());
                assert_eq!(written, encoded, "{}: {}", walk.display(), cell.oid());
            }
            let got: Snapshot = served
                .iter()
                .map(|cell| (cell.oid(), data[&cell.oid()].clone()))
                .collect();
            let again = PageData::decode(page, &got, &overrides, Some(walked), &mut Vec::new());
            assert_eq!(again.as_ref(), Some(walked), "{}: {page:?}", walk.display());
            // The same GET kept by object number, as a poll keeps it.
            let by_number = ServedValues::new(&served, get_of(&served, &data));
            let again =
                PageData::decode(page, &by_number, &overrides, Some(walked), &mut Vec::new());
            assert_eq!(
                again.as_ref(),
                Some(walked),
                "{}: {page:?} by number",
                walk.display()
            );
            pages += 1;
        }
        assert!(pages > 0, "{}: no page", walk.display());
    }
}

#[test]
fn a_page_with_a_cell_too_big_to_keep_is_walked_not_read_in_part() {
    // RFC 1628 upsInputVoltage (upsInputLineIndex 1..65535 in the MIB,
    // but an agent may send anything): rows 1 and 2 are kept as cells to
    // GET; a row 70000 does not fit a kept cell, so the page keeps none
    // (walked at every poll) rather than a GET that would miss that row.
    let small = snapshot(&[
        ("1.3.6.1.2.1.33.1.3.3.1.3.1", Value::Integer(230)),
        ("1.3.6.1.2.1.33.1.3.3.1.3.2", Value::Integer(231)),
    ]);
    let m = Model::from_snapshot(Mib::ALL.into(), &small, &ScaleOverrides::new());
    let cells = m.served_cells(Page::Input, &small);
    let oids: Vec<String> = cells.iter().map(|c| c.oid().to_string()).collect();
    assert_eq!(
        oids,
        ["1.3.6.1.2.1.33.1.3.3.1.3.1", "1.3.6.1.2.1.33.1.3.3.1.3.2"]
    );

    let big = snapshot(&[
        ("1.3.6.1.2.1.33.1.3.3.1.3.1", Value::Integer(230)),
        ("1.3.6.1.2.1.33.1.3.3.1.3.70000", Value::Integer(231)),
    ]);
    let m = Model::from_snapshot(Mib::ALL.into(), &big, &ScaleOverrides::new());
    let input = m.page(Page::Input).expect("the input page decodes");
    assert!(
        input
            .table("lines")
            .is_some_and(|t| t.rows.contains(&70000)),
        "the row is a line of the page: {input:?}"
    );
    assert!(m.served_cells(Page::Input, &big).is_empty());
}

/// A GET's reply lacks the cells the agent no longer has: the others
/// still pair with their cells, and the page decodes as a walk without
/// those cells would.
#[test]
fn served_values_pair_by_oid_past_a_missing_cell() {
    let rows = [
        ("1.3.6.1.2.1.33.1.3.3.1.3.1", Value::Integer(230)),
        ("1.3.6.1.2.1.33.1.3.3.1.3.2", Value::Integer(231)),
        ("1.3.6.1.2.1.33.1.3.3.1.3.3", Value::Integer(232)),
        ("1.3.6.1.2.1.33.1.3.2.0", Value::Integer(3)),
    ];
    let all = snapshot(&rows);
    let m = Model::from_snapshot(Mib::ALL.into(), &all, &ScaleOverrides::new());
    let served = m.served_cells(Page::Input, &all);
    assert_eq!(served.len(), 4, "{served:?}");
    let asked: Vec<Oid> = served.iter().map(ServedCell::oid).collect();
    // Line 2's voltage is gone from the agent.
    let line_2 = Oid::parse("1.3.6.1.2.1.33.1.3.3.1.3.2").unwrap();
    let answered: Vec<(Oid, Value)> = asked
        .iter()
        .filter(|oid| **oid != line_2)
        .map(|oid| (oid.clone(), all[oid].clone()))
        .collect();
    let values = answers_in_request_order(&asked, answered);
    assert_eq!(
        values.iter().map(Option::is_some).collect::<Vec<_>>(),
        asked.iter().map(|oid| *oid != line_2).collect::<Vec<_>>(),
        "every answer paired with its OID"
    );
    let got = ServedValues::new(&served, values);
    let mut without = all.clone();
    without.remove(&line_2);
    let expected = PageData::decode(
        Page::Input,
        &without,
        &ScaleOverrides::new(),
        m.page(Page::Input),
        &mut Vec::new(),
    );
    let decoded = PageData::decode(
        Page::Input,
        &got,
        &ScaleOverrides::new(),
        m.page(Page::Input),
        &mut Vec::new(),
    );
    assert_eq!(decoded, expected);
    let voltage = crate::mib::field_by_path("input.lines.voltage").expect("a field");
    let decoded = decoded.expect("the input page decodes");
    assert_eq!(
        decoded.reading(voltage, Some(2)),
        None,
        "line 2 has no voltage"
    );
    assert!(
        decoded.reading(voltage, Some(3)).is_some(),
        "line 3 kept its voltage"
    );
}

/// A poll that walks one page (alarms) and GETs another's served cells
/// decodes each as a walk of both would.
#[test]
fn a_poll_read_decodes_got_pages_beside_walked_ones() {
    let rows = [
        ("1.3.6.1.2.1.33.1.3.3.1.3.1", Value::Integer(230)),
        ("1.3.6.1.2.1.33.1.3.2.0", Value::Integer(1)),
        ("1.3.6.1.2.1.33.1.6.1.0", Value::Integer(1)),
        (
            "1.3.6.1.2.1.33.1.6.2.1.2.1",
            Value::oid(Oid::parse("1.3.6.1.2.1.33.1.6.3.2").unwrap()),
        ),
        ("1.3.6.1.2.1.33.1.6.2.1.3.1", Value::TimeTicks(100)),
    ];
    let all = snapshot(&rows);
    let overrides = ScaleOverrides::new();
    let walked_model = Model::from_snapshot(Mib::ALL.into(), &all, &overrides);
    let served = walked_model.served_cells(Page::Input, &all);
    let alarms: Snapshot = all
        .iter()
        .filter(|(oid, _)| oid.to_string().starts_with("1.3.6.1.2.1.33.1.6."))
        .map(|(o, v)| (o.clone(), v.clone()))
        .collect();
    let mut read = PollRead {
        walked: alarms,
        ..PollRead::default()
    };
    read.push_got(Page::Input, &served, get_of(&served, &all));
    let mut polled = Model::new(Mib::ALL.into());
    polled.apply_poll(&[Page::Alarms, Page::Input], &read, &overrides);
    for page in [Page::Alarms, Page::Input] {
        assert!(
            walked_model.page(page).is_some(),
            "{page:?} decodes from the walk"
        );
        assert_eq!(polled.page(page), walked_model.page(page), "{page:?}");
    }
}

/// Every page of `data` a poll would GET (fast, rows that stay), read as
/// that GET would return its served cells.
fn poll_of_served_cells(model: &Model, data: &Snapshot) -> (Vec<Page>, PollRead) {
    let mut read = PollRead::default();
    let mut due = Vec::new();
    for page in Page::ALL {
        let served = model.served_cells(page, data);
        if served.is_empty() || !page.is_fast() || page.rows_come_and_go() {
            continue;
        }
        read.push_got(page, &served, get_of(&served, data));
        due.push(page);
    }
    (due, read)
}

fn number(model: &Model, field: &Field) -> Option<f64> {
    match model.reading(field, None)? {
        Reading::Number { value, .. } => Some(*value),
        _ => None,
    }
}

/// A poll that reads what the last one read leaves its pages as they are
/// (not decoded again): on every real walk, the pages and the quirks noted
/// are what decoding them gave.
#[test]
fn a_poll_that_reads_the_same_again_keeps_the_pages_and_their_notes() {
    let overrides = ScaleOverrides::new();
    let mut polled = 0;
    for walk in real_walks() {
        let data = snmprec(&walk);
        let mut model = Model::from_snapshot(Mib::ALL.into(), &data, &overrides);
        let walked = model.pages().cloned().collect::<Vec<PageData>>();
        let (due, read) = poll_of_served_cells(&model, &data);
        let first = model.apply_poll(&due, &read, &overrides);
        let second = model.apply_poll(&due, &read, &overrides);
        assert_eq!(
            model.pages().cloned().collect::<Vec<PageData>>(),
            walked,
            "{}",
            walk.display()
        );
        assert!(first.changed.is_empty() && second.changed.is_empty());
        assert_eq!(second.notes, first.notes, "{}", walk.display());
        polled += due.len();
    }
    assert!(polled > 10, "{polled} pages polled");
}

/// After a walk, a GET of the served cells that returns what the walk did
/// is expected ([`Model::expect_get`]): on every real walk, the fingerprint
/// the walk leaves for each page is the one that GET's read has, so the
/// page is kept as it is, undecoded (the poll right after every slow
/// walk).
#[test]
fn the_get_after_a_walk_is_expected_on_every_real_walk() {
    let overrides = ScaleOverrides::new();
    let mut expected = 0;
    for walk in real_walks() {
        let data = snmprec(&walk);
        let mut model = Model::new(Mib::ALL.into());
        let walked = PollRead {
            walked: data.clone(),
            ..PollRead::default()
        };
        model.apply_poll(&Page::ALL, &walked, &overrides);
        let (due, read) = poll_of_served_cells(&model, &data);
        for &page in &due {
            let cells = model.served_cells(page, &data);
            model.expect_get(page, &cells, &data);
        }
        let fingerprints = read.fingerprints();
        for &page in &due {
            assert_eq!(
                model.decoded_from[page_slot(page)],
                fingerprints(page).unwrap() | 1,
                "{page:?} of {}",
                walk.display()
            );
        }
        let pages = model.pages().cloned().collect::<Vec<PageData>>();
        let update = model.apply_poll(&due, &read, &overrides);
        assert!(update.changed.is_empty(), "{}", walk.display());
        assert_eq!(model.pages().cloned().collect::<Vec<PageData>>(), pages);
        expected += due.len();
    }
    assert!(expected > 10, "{expected} pages expected");
}

/// A GET after a walk that returns another value than the walk did is
/// decoded.
#[test]
fn a_get_after_a_walk_with_a_new_value_is_decoded() {
    let mut data = snapshot(&[
        ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(95)),
        ("1.3.6.1.2.1.33.1.2.3.0", Value::Integer(30)),
    ]);
    let overrides = ScaleOverrides::new();
    let mut model = Model::new(Mib::ALL.into());
    let walked = PollRead {
        walked: data.clone(),
        ..PollRead::default()
    };
    model.apply_poll(&Page::ALL, &walked, &overrides);
    let cells = model.served_cells(Page::Battery, &data);
    model.expect_get(Page::Battery, &cells, &data);
    data.insert(
        Oid::parse("1.3.6.1.2.1.33.1.2.4.0").unwrap(),
        Value::Integer(94),
    );
    let (due, read) = poll_of_served_cells(&model, &data);
    let update = model.apply_poll(&due, &read, &overrides);
    assert!(update.changed.contains(&Page::Battery));
    assert_eq!(number(&model, field("battery.charge")), Some(94.0));
}

/// A trap's fact (or a read-back) set between two polls that read the
/// same is replaced by the polled reading again: the page is decoded, not
/// kept.
#[test]
fn a_poll_after_a_set_decodes_the_page_again() {
    let data = snapshot(&[
        ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(95)),
        ("1.3.6.1.2.1.33.1.2.3.0", Value::Integer(30)),
    ]);
    let overrides = ScaleOverrides::new();
    let mut model = Model::from_snapshot(Mib::ALL.into(), &data, &overrides);
    let charge = field("battery.charge");
    assert_eq!(number(&model, charge), Some(95.0));
    let (due, read) = poll_of_served_cells(&model, &data);
    assert!(due.contains(&Page::Battery));
    model.apply_poll(&due, &read, &overrides);
    model.set(
        charge,
        None,
        Reading::Number {
            value: 10.0,
            decimals: 0,
        },
    );
    assert_eq!(number(&model, charge), Some(10.0));
    let update = model.apply_poll(&due, &read, &overrides);
    assert_eq!(number(&model, charge), Some(95.0));
    assert!(update.changed.contains(&Page::Battery));
}

/// A poll that reads a changed value decodes it.
#[test]
fn a_poll_that_reads_a_new_value_decodes_it() {
    let mut data = snapshot(&[
        ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(95)),
        ("1.3.6.1.2.1.33.1.2.3.0", Value::Integer(30)),
    ]);
    let overrides = ScaleOverrides::new();
    let mut model = Model::from_snapshot(Mib::ALL.into(), &data, &overrides);
    let (due, read) = poll_of_served_cells(&model, &data);
    model.apply_poll(&due, &read, &overrides);
    data.insert(
        Oid::parse("1.3.6.1.2.1.33.1.2.4.0").unwrap(),
        Value::Integer(94),
    );
    let (due, read) = poll_of_served_cells(&model, &data);
    let update = model.apply_poll(&due, &read, &overrides);
    assert!(update.changed.contains(&Page::Battery));
    let charge = field("battery.charge");
    assert_eq!(number(&model, charge), Some(94.0));
}

/// The alarms are walked at every poll: a walk that returns what the last
/// one did keeps the page (and its notes), a new alarm row is decoded, and
/// so is the same walk after a trap's fact was set on the page.
#[test]
fn a_walked_page_is_decoded_again_only_when_its_walk_changed() {
    let alarm = |row: u32, kind: &str| {
        [
            (
                format!("1.3.6.1.2.1.33.1.6.2.1.2.{row}"),
                Value::oid(Oid::parse(kind).unwrap()),
            ),
            (
                format!("1.3.6.1.2.1.33.1.6.2.1.3.{row}"),
                Value::TimeTicks(100 * row),
            ),
        ]
    };
    let walk_of = |rows: &[(String, Value)]| PollRead {
        walked: rows
            .iter()
            .map(|(oid, value)| (Oid::parse(oid).unwrap(), value.clone()))
            .collect(),
        ..PollRead::default()
    };
    let on_battery = "1.3.6.1.2.1.33.1.6.3.2";
    let low_battery = "1.3.6.1.2.1.33.1.6.3.3";
    let mut rows: Vec<(String, Value)> =
        vec![("1.3.6.1.2.1.33.1.6.1.0".to_string(), Value::Integer(1))];
    rows.extend(alarm(1, on_battery));
    let overrides = ScaleOverrides::new();
    let mut model = Model::new(Mib::ALL.into());
    let first = model.apply_poll(&[Page::Alarms], &walk_of(&rows), &overrides);
    assert!(first.changed.contains(&Page::Alarms));
    let page = model.page(Page::Alarms).cloned();
    let again = model.apply_poll(&[Page::Alarms], &walk_of(&rows), &overrides);
    assert!(again.changed.is_empty());
    assert_eq!(again.notes, first.notes);
    assert_eq!(model.page(Page::Alarms).cloned(), page);

    rows[0].1 = Value::Integer(2);
    rows.extend(alarm(2, low_battery));
    let grown = model.apply_poll(&[Page::Alarms], &walk_of(&rows), &overrides);
    assert!(grown.changed.contains(&Page::Alarms), "a new alarm row");
    let count = field("alarms.present");
    assert_eq!(number(&model, count), Some(2.0));

    model.set(
        count,
        None,
        Reading::Number {
            value: 0.0,
            decimals: 0,
        },
    );
    let after_set = model.apply_poll(&[Page::Alarms], &walk_of(&rows), &overrides);
    assert!(
        after_set.changed.contains(&Page::Alarms),
        "decoded after the set"
    );
    assert_eq!(number(&model, count), Some(2.0));
}
