//! The OID view against the library's own page decoder: what the simulator
//! serves must decode, page by page, into what the state says.

use super::*;
use crate::card::{Card, CardOptions};
use crate::snmprec;
use std::time::Duration;
use ups2mqtt::pages::{ScaleOverrides, Snapshot, decode_all, decode_page};

fn card(mibs: &[Mib], quirks: bool, walk: Option<Walk>) -> Card {
    Card::build(CardOptions {
        mibs: mibs.iter().copied().collect(),
        layout: Layout::default(),
        quirks,
        walk,
        seed: 1,
        test_duration: Duration::from_secs(3),
        start_unix: 1_700_000_000,
    })
}

/// Everything the view serves, walked with GETNEXT from the start.
fn walk_all(card: &Card, state: &UpsState) -> Snapshot {
    let mut cache = ViewCache::default();
    cache.refresh(&card.plan, state);
    let view = View {
        plan: &card.plan,
        state,
        cache: &cache,
    };
    let mut out = Snapshot::new();
    let mut at = oid("0.0");
    while let Some((next, value)) = view.next(&at) {
        assert!(next > at, "GETNEXT must move forward: {next} after {at}");
        out.insert(next.clone(), value);
        at = next;
    }
    out
}

fn fixture(name: &str) -> Walk {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/walks")
        .join(name);
    snmprec::load(&path).unwrap()
}

#[test]
fn every_page_of_every_mib_has_data() {
    for mib in Mib::ALL {
        let card = card(&[mib], false, None);
        let state = card.state(0);
        let data = walk_all(&card, &state);
        let pages = decode_all(&Page::ALL, &data, &ScaleOverrides::new());
        for page in Page::ALL {
            let has_fields = mib::fields_of(page).any(|f| f.sources.iter().any(|s| s.mib == mib));
            let served = pages.contains_key(&page);
            let expect = has_fields && !(page == Page::Alarms && mib != Mib::Rfc1628);
            if expect {
                assert!(served, "{mib}: page {page} has no data");
            }
        }
        for oid in data.keys() {
            for other in Mib::ALL.into_iter().filter(|m| *m != mib) {
                assert!(
                    !oid.starts_with(&Oid::parse(other.root()).unwrap()),
                    "{mib} card serves {oid} of {other}"
                );
            }
        }
    }
}

#[test]
fn every_point_of_every_state_encodes() {
    let card = card(&Mib::ALL, false, None);
    let mut state = card.state(0);
    let check = |state: &UpsState, what: &str| {
        for slot in &card.plan.slots {
            let SlotKind::Point(point) = &slot.kind else {
                continue;
            };
            if let Some(json) = state.field_json(&point.path, point.source, point.row) {
                wire::to_raw(point.source, &json).unwrap_or_else(|e| {
                    panic!("{what}: {} row {}: {json}: {e}", point.path, point.row)
                });
            }
        }
    };
    check(&state, "normal");
    state.set_mains(false);
    state.set_overload(true);
    state.tick(Duration::from_secs(30));
    check(&state, "on battery, overloaded");
    state.set_mains(true);
    state
        .start_test(crate::state::battery_test::TestKind::Battery, 4)
        .unwrap();
    check(&state, "testing");
    state.set_field("battery.charge", None, &json!(0)).unwrap();
    state.set_mains(false);
    state.tick(Duration::from_secs(5));
    check(&state, "depleted");
}

#[test]
fn served_values_decode_to_the_state() {
    let card = card(&Mib::ALL, false, None);
    let mut state = card.state(0);
    let data = walk_all(&card, &state);
    let battery = decode_page(Page::Battery, &data, &ScaleOverrides::new())
        .unwrap()
        .json;
    assert_eq!(battery["charge"], json!(100.0));
    assert_eq!(battery["runtime"], json!(state.runtime().round()));
    let output = decode_page(Page::Output, &data, &ScaleOverrides::new())
        .unwrap()
        .json;
    assert_eq!(output["source"], "normal");

    state.set_mains(false);
    state.tick(Duration::from_secs(120));
    let data = walk_all(&card, &state);
    assert_eq!(
        data[&oid("1.3.6.1.2.1.33.1.4.1.0")],
        Value::Integer(5),
        "upsOutputSource battery"
    );
    let alarms = decode_page(Page::Alarms, &data, &ScaleOverrides::new())
        .unwrap()
        .json;
    let names: Vec<&str> = alarms["active"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alarm"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"on_battery") && names.contains(&"input_bad"),
        "{names:?}"
    );
    assert_eq!(alarms["present"], json!(names.len()));
    let battery = decode_page(Page::Battery, &data, &ScaleOverrides::new())
        .unwrap()
        .json;
    assert!(battery["charge"].as_f64().unwrap() < 100.0);
    assert_eq!(battery["time_on_battery"].as_f64(), Some(120.0));
}

#[test]
fn quirks_q1_and_q2_still_decode_the_same() {
    let card = card(&Mib::ALL, true, None);
    let state = card.state(0);
    let data = walk_all(&card, &state);
    assert!(
        data.contains_key(&oid("1.3.6.1.4.1.705.1.6.2.1.2.1.0")),
        "Q1: MGE input cell with .0"
    );
    assert!(!data.contains_key(&oid("1.3.6.1.4.1.705.1.6.2.1.2.1")));
    let rfc = data[&oid("1.3.6.1.2.1.33.1.3.3.1.3.1")].as_i64().unwrap();
    assert!(
        rfc > 2000,
        "Q2: RFC 1628 input voltage in tenths, got {rfc}"
    );
    let outcome = decode_page(Page::Input, &data, &ScaleOverrides::new()).unwrap();
    let volts = outcome.json["lines"][0]["voltage"].as_f64().unwrap();
    assert!(
        (volts - state.input_voltage(0)).abs() < 0.51,
        "{volts} vs {}",
        state.input_voltage(0)
    );
    assert!(!outcome.notes.is_empty(), "the decoder noticed the tenths");
}

#[test]
fn a_walk_is_served_as_walked_until_the_state_moves() {
    let walk = fixture("eaton-mgeups_9pxle.snmprec");
    let card = card(&Mib::ALL, false, Some(walk.clone()));
    let mut state = card.state(0);
    let data = walk_all(&card, &state);
    for text in [
        "1.3.6.1.2.1.1.1.0",
        "1.3.6.1.4.1.705.1.1.7.0",
        "1.3.6.1.4.1.705.1.5.2.0",
        "1.3.6.1.4.1.705.1.6.2.1.2.1.0",
        "1.3.6.1.2.1.33.1.2.3.0",
        "1.3.6.1.2.1.33.1.3.3.1.3.1",
        "1.3.6.1.4.1.705.1.7.2.1.2.3",
    ] {
        let key = oid(text);
        assert_eq!(data.get(&key), walk.get(&key), "{text}");
    }
    assert!(
        !data.contains_key(&oid("1.3.6.1.4.1.705.1.6.2.1.2.1")),
        "the walk's Q1 form is kept"
    );
    // Writable points the walk lacks are overlaid.
    assert!(
        data.contains_key(&oid("1.3.6.1.4.1.705.1.9.1.1.6.1")),
        "mgreceptacleOffCtrl"
    );
    // The walk's sysUpTime is where the clock starts.
    assert_eq!(data[&oid(SYS_UPTIME)], Value::TimeTicks(971_867_244));

    state.set_mains(false);
    let data = walk_all(&card, &state);
    assert_eq!(
        data[&oid("1.3.6.1.4.1.705.1.6.2.1.2.1.0")],
        Value::Integer(0),
        "mains gone"
    );
    assert_eq!(
        data[&oid("1.3.6.1.4.1.705.1.7.3.0")],
        Value::Integer(1),
        "upsmgOutputOnBattery yes"
    );
}

#[test]
fn disabled_mibs_are_absent_even_from_a_walk() {
    let card = card(
        &[Mib::Rfc1628],
        false,
        Some(fixture("eaton-mgeups_9pxle.snmprec")),
    );
    let data = walk_all(&card, &card.state(0));
    assert!(
        data.keys()
            .any(|o| o.starts_with(&oid(Mib::Rfc1628.root())))
    );
    assert!(!data.keys().any(|o| o.starts_with(&oid(Mib::Mge.root()))));
}

#[test]
fn agents_differ_by_seed_but_share_the_plan() {
    let card = card(&Mib::ALL, false, None);
    let (a, b) = (
        walk_all(&card, &card.state(0)),
        walk_all(&card, &card.state(1)),
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let serial = oid("1.3.6.1.4.1.705.1.1.7.0");
    assert_ne!(a[&serial], b[&serial]);
}
