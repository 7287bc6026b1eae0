//! Unit tests of the UPS model, on a deterministic clock.

use super::*;
use crate::wire::{SetError, check_value};
use ups2mqtt::mib::Access;
use ups2mqtt::oid::Oid;

const SEC: Duration = Duration::from_secs(1);

fn state() -> UpsState {
    let layout = Layout::default();
    let defaults = Arc::new(Defaults::build(&layout, None));
    let ratings = Ratings::from_defaults(&defaults);
    let settings = Settings {
        layout,
        ratings,
        test_duration: 3 * SEC,
        start_unix: 1_700_000_000,
        uptime_base: 0,
    };
    UpsState::new(
        settings,
        defaults,
        Readings::seeded(1, 0, &layout, &ratings),
    )
}

fn kinds(events: &[Event]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

fn value(state: &UpsState, path: &str, index: usize, row: u32) -> Json {
    let field = mib::field_by_path(path).unwrap();
    state
        .field_json(path, &field.sources[index], row)
        .unwrap_or_else(|| panic!("{path} is not driven"))
}

/// A SET varbind for `object` at `row`, checked like the agent does.
fn target(object: &str, row: u32, value: Value) -> Result<SetTarget, SetError> {
    let (field, source) = wire::source_by_object(object).unwrap();
    let legal = match source.access {
        Access::ReadWrite(legal) => legal,
        Access::ReadOnly => mib::Legal::Range {
            min: -1e12,
            max: 1e12,
        },
    };
    let json = if source.is_writable() {
        check_value(source, legal, &value)?
    } else {
        Json::Null
    };
    Ok(SetTarget {
        field,
        source,
        row,
        value,
        json,
    })
}

fn set(state: &mut UpsState, targets: Vec<SetTarget>) -> Result<(), (usize, SetError)> {
    state.validate_set(&targets)?;
    state.apply_set(&targets);
    Ok(())
}

#[test]
fn mains_off_discharges_the_battery_over_time_and_mains_on_restores() {
    let mut ups = state();
    let (charge0, runtime0) = (ups.charge(), ups.runtime());
    assert_eq!(charge0, 100.0);
    assert!(ups.set_mains(false));
    assert!(!ups.set_mains(false), "no change the second time");
    let events = kinds(&ups.take_events());
    assert!(
        events.starts_with(&[EventKind::MainsLost, EventKind::OnBattery]),
        "{events:?}"
    );
    assert_eq!(value(&ups, "output.source", 0, 0), "battery");
    assert_eq!(value(&ups, "input.lines.voltage", 0, 1), 0.0);
    assert_eq!(value(&ups, "output.on_battery", 0, 0), true);
    let mut last = (charge0, runtime0);
    for _ in 0..5 {
        ups.tick(60 * SEC);
        let now = (ups.charge(), ups.runtime());
        assert!(now.0 < last.0 && now.1 < last.1, "{now:?} after {last:?}");
        last = now;
    }
    assert_eq!(value(&ups, "battery.time_on_battery", 0, 0), 300.0);
    let names: Vec<u32> = ups.alarms().rows().iter().map(|a| a.arc).collect();
    assert!(
        names.contains(&2) && names.contains(&6),
        "on_battery and input_bad: {names:?}"
    );

    assert!(ups.set_mains(true));
    let events = kinds(&ups.take_events());
    assert!(
        events.contains(&EventKind::MainsRestored) && events.contains(&EventKind::OffBattery),
        "{events:?}"
    );
    assert_eq!(value(&ups, "output.source", 0, 0), "normal");
    assert!(ups.alarms().rows().is_empty());
    let before = ups.charge();
    ups.tick(60 * SEC);
    assert!(ups.charge() > before, "recharges on mains");
}

#[test]
fn on_battery_trap_repeats_every_minute() {
    let mut ups = state();
    ups.set_mains(false);
    ups.take_events();
    ups.tick(30 * SEC);
    assert!(!kinds(&ups.take_events()).contains(&EventKind::OnBatteryRepeat));
    ups.tick(31 * SEC);
    assert!(kinds(&ups.take_events()).contains(&EventKind::OnBatteryRepeat));
    assert!(ups.next_deadline().is_some());
}

#[test]
fn battery_low_raises_flags_alarm_and_event() {
    let mut ups = state();
    ups.battery_low();
    assert!(ups.low_battery());
    let events = ups.take_events();
    assert!(kinds(&events).contains(&EventKind::LowBattery));
    let added = events
        .iter()
        .find(|e| e.kind == EventKind::AlarmAdded)
        .expect("alarm added");
    assert_eq!(added.alarm.unwrap().arc, 3);
    assert_eq!(value(&ups, "battery.status", 0, 0), "low");
    assert_eq!(value(&ups, "battery.low", 0, 0), true);
    ups.set_field("battery.charge", None, &json!(90)).unwrap();
    assert!(!ups.low_battery());
    assert!(kinds(&ups.take_events()).contains(&EventKind::FromLowBattery));
}

#[test]
fn running_flat_turns_the_output_off_until_mains_returns() {
    let mut ups = state();
    ups.set_mains(false);
    ups.set_field("battery.charge", None, &json!(1)).unwrap();
    for _ in 0..60 {
        ups.tick(10 * SEC);
    }
    assert_eq!(ups.charge(), 0.0);
    assert_eq!(value(&ups, "output.source", 0, 0), "none");
    assert!(ups.alarms().contains(21), "awaiting power");
    ups.set_mains(true);
    assert_eq!(value(&ups, "output.source", 0, 0), "normal");
}

#[test]
fn battery_test_runs_then_reports_a_result_in_every_mib() {
    let mut ups = state();
    assert_eq!(value(&ups, "test.result", 2, 0), "no_tests_initiated");
    ups.start_test(TestKind::Battery, battery_test::QUICK_BATTERY_TEST)
        .unwrap();
    assert!(
        ups.start_test(TestKind::Battery, battery_test::QUICK_BATTERY_TEST)
            .is_err()
    );
    assert_eq!(value(&ups, "test.result", 0, 0), "in_progress");
    assert_eq!(value(&ups, "test.result", 2, 0), "in_progress");
    assert!(ups.alarms().contains(24), "test in progress alarm");
    ups.tick(2 * SEC);
    assert_eq!(value(&ups, "test.elapsed_time", 0, 0), 2.0);
    ups.take_events();
    ups.tick(2 * SEC);
    let events = kinds(&ups.take_events());
    assert!(
        events.contains(&EventKind::TestCompleted) && events.contains(&EventKind::TestPassed),
        "{events:?}"
    );
    assert_eq!(value(&ups, "test.result", 0, 0), "ok");
    assert_eq!(value(&ups, "test.result", 1, 0), "main_success");
    assert_eq!(value(&ups, "test.result", 2, 0), "done_pass");
    assert_eq!(value(&ups, "test.id", 0, 0), "1.3.6.1.2.1.33.1.7.7.4");

    ups.set_field("battery.replace", None, &json!(true))
        .unwrap();
    ups.start_test(TestKind::Battery, battery_test::QUICK_BATTERY_TEST)
        .unwrap();
    ups.tick(3 * SEC);
    assert!(kinds(&ups.take_events()).contains(&EventKind::TestFailed));
    assert_eq!(value(&ups, "test.result", 2, 0), "done_error");
    assert!(ups.alarms().contains(19), "diagnostic test failed alarm");
}

#[test]
fn alarm_ids_are_never_reused_across_scenarios() {
    let mut ups = state();
    let mut seen = Vec::new();
    for round in 0..10 {
        ups.set_mains(round % 2 == 1);
        ups.set_overload(round % 3 == 0);
        ups.tick(SEC);
        for event in ups.take_events() {
            if let (EventKind::AlarmAdded, Some(alarm)) = (event.kind, event.alarm) {
                assert!(!seen.contains(&alarm.id), "id {} reused", alarm.id);
                seen.push(alarm.id);
            }
        }
    }
    assert!(seen.len() >= 10, "{seen:?}");
    let mut ids: Vec<u32> = ups.alarms().rows().iter().map(|a| a.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), ups.alarms().len());
}

#[test]
fn receptacle_off_switches_that_receptacle_and_index_1_the_whole_output() {
    let mut ups = state();
    set(
        &mut ups,
        vec![target("mgreceptacleOffCtrl", 2, Value::Integer(2)).unwrap()],
    )
    .unwrap();
    assert_eq!(
        value(&ups, "receptacles.receptacles.state", 0, 2),
        "control_off"
    );
    assert_eq!(
        value(&ups, "receptacles.receptacles.state", 0, 3),
        "normal_on"
    );
    assert_eq!(
        value(&ups, "control.receptacles.off_status", 0, 2),
        "completed"
    );
    assert_eq!(
        value(&ups, "control.receptacles.off", 0, 2),
        "nothing",
        "commands read back as idle"
    );
    let events = ups.take_events();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::ReceptacleOff && e.row == 2)
    );
    assert_eq!(value(&ups, "output.source", 0, 0), "normal");

    set(
        &mut ups,
        vec![target("mgreceptacleOffCtrl", 1, Value::Integer(2)).unwrap()],
    )
    .unwrap();
    assert_eq!(value(&ups, "output.source", 0, 0), "none");
    assert_eq!(
        value(&ups, "receptacles.receptacles.state", 0, 3),
        "normal_off"
    );
    set(
        &mut ups,
        vec![target("mgreceptacleOnCtrl", 1, Value::Integer(2)).unwrap()],
    )
    .unwrap();
    assert_eq!(value(&ups, "output.source", 0, 0), "normal");
}

#[test]
fn receptacle_delays_and_outlet_group_reboots_take_time() {
    let mut ups = state();
    set(
        &mut ups,
        vec![target("mgreceptacleOffDelay", 3, Value::Integer(10)).unwrap()],
    )
    .unwrap();
    set(
        &mut ups,
        vec![target("mgreceptacleOffCtrl", 3, Value::Integer(2)).unwrap()],
    )
    .unwrap();
    assert_eq!(
        value(&ups, "control.receptacles.off_status", 0, 3),
        "started"
    );
    ups.tick(9 * SEC);
    assert_eq!(
        value(&ups, "receptacles.receptacles.state", 0, 3),
        "normal_on"
    );
    ups.tick(SEC);
    assert_eq!(
        value(&ups, "receptacles.receptacles.state", 0, 3),
        "control_off"
    );

    set(
        &mut ups,
        vec![target("upsOutletGroupControlCommand", 2, Value::Integer(3)).unwrap()],
    )
    .unwrap();
    assert_eq!(value(&ups, "receptacles.outlet_groups.state", 0, 2), "off");
    assert_eq!(
        value(&ups, "receptacles.outlet_groups.command_pending", 0, 2),
        true
    );
    assert_eq!(
        value(&ups, "control.outlet_groups.command", 0, 2),
        "immediate_off"
    );
    ups.tick(8 * SEC);
    assert_eq!(value(&ups, "receptacles.outlet_groups.state", 0, 2), "on");
    assert_eq!(
        value(&ups, "receptacles.outlet_groups.command_pending", 0, 2),
        false
    );
    let events = kinds(&ups.take_events());
    assert!(
        events.contains(&EventKind::OutletGroupOff) && events.contains(&EventKind::OutletGroupOn)
    );
}

#[test]
fn settings_read_back_exactly_and_mirror_to_the_other_mibs() {
    let mut ups = state();
    set(
        &mut ups,
        vec![target("upsmgConfigLowBatteryTime", 0, Value::Integer(300)).unwrap()],
    )
    .unwrap();
    assert_eq!(
        ups.stored_raw("upsmgConfigLowBatteryTime", 0),
        Some(&Value::Integer(300))
    );
    assert_eq!(
        ups.stored_raw("upsAdvConfigLowBatteryRunTime", 0),
        Some(&Value::TimeTicks(30_000))
    );
    assert_eq!(
        ups.stored_raw("upsConfigLowBattTime", 0),
        Some(&Value::Integer(5))
    );
    set(
        &mut ups,
        vec![target("upsAdvConfigDeepDischargeProtection", 0, Value::Integer(1)).unwrap()],
    )
    .unwrap();
    assert_eq!(
        ups.stored_raw("upsAdvConfigDeepDischargeProtection", 0),
        Some(&Value::Integer(1))
    );
    // Labels that do not exist in another MIB are not mirrored.
    set(
        &mut ups,
        vec![target("upsmgConfigAutoRestart", 0, Value::Integer(3)).unwrap()],
    )
    .unwrap();
    assert_eq!(ups.stored_raw("upsAutoRestart", 0), None);
    // A setting the model uses: a higher low battery level makes it low.
    set(
        &mut ups,
        vec![target("upsmgConfigLowBatteryLevel", 0, Value::Integer(100)).unwrap()],
    )
    .unwrap();
    assert!(ups.low_battery());
}

#[test]
fn set_validation_rejects_each_case() {
    // Type, range, label and length errors come from wire::check_value.
    assert!(matches!(
        target(
            "upsmgConfigLowBatteryLevel",
            0,
            Value::OctetString(b"x".to_vec())
        ),
        Err(SetError::WrongType { .. })
    ));
    assert!(matches!(
        target("upsmgConfigLowBatteryLevel", 0, Value::Integer(101)),
        Err(SetError::WrongValue { .. })
    ));
    assert!(matches!(
        target("mgreceptacleOffCtrl", 1, Value::Integer(1)),
        Err(SetError::WrongValue { .. })
    ));
    assert!(matches!(
        target(
            "upsBasicIdentName",
            0,
            Value::OctetString(b"far too long".to_vec())
        ),
        Err(SetError::WrongLength { .. })
    ));

    let mut ups = state();
    // The spin lock must hold its current value (TestAndIncr).
    let wrong_lock = set(
        &mut ups,
        vec![target("upsTestSpinLock", 0, Value::Integer(5)).unwrap()],
    );
    assert!(
        matches!(wrong_lock, Err((0, SetError::Inconsistent { .. }))),
        "{wrong_lock:?}"
    );
    // upsTestId alone is refused (quirk Q8)...
    let quick = Value::oid(Oid::parse("1.3.6.1.2.1.33.1.7.7.4").unwrap());
    let alone = set(
        &mut ups,
        vec![target("upsTestId", 0, quick.clone()).unwrap()],
    );
    assert!(
        matches!(alone, Err((0, SetError::Inconsistent { .. }))),
        "{alone:?}"
    );
    // ...and so is an unknown test.
    let unknown = Value::oid(Oid::parse("1.3.6.1.2.1.33.1.7.7.9").unwrap());
    let bad = set(
        &mut ups,
        vec![
            target("upsTestSpinLock", 0, Value::Integer(0)).unwrap(),
            target("upsTestId", 0, unknown).unwrap(),
        ],
    );
    assert!(
        matches!(bad, Err((1, SetError::WrongValue { .. }))),
        "{bad:?}"
    );
    // With the spin lock in the same PDU the test starts and the lock moves.
    set(
        &mut ups,
        vec![
            target("upsTestId", 0, quick.clone()).unwrap(),
            target("upsTestSpinLock", 0, Value::Integer(0)).unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(value(&ups, "test.result", 2, 0), "in_progress");
    assert_eq!(value(&ups, "test.spin_lock", 0, 0), 1);
    // A second start while running is inconsistent, whichever MIB asks.
    let again = set(
        &mut ups,
        vec![target("upsAdvTestDiagnostics", 0, Value::Integer(2)).unwrap()],
    );
    assert!(
        matches!(again, Err((0, SetError::Inconsistent { .. }))),
        "{again:?}"
    );
    // Conserving battery only makes sense on battery.
    let conserve = set(
        &mut ups,
        vec![target("upsBasicControlConserveBattery", 0, Value::Integer(2)).unwrap()],
    );
    assert!(matches!(conserve, Err((0, SetError::Inconsistent { .. }))));
}

#[test]
fn a_set_pdu_is_atomic() {
    let ups = state();
    let targets = vec![
        target("upsmgConfigLowBatteryLevel", 0, Value::Integer(30)).unwrap(),
        target("upsTestSpinLock", 0, Value::Integer(7)).unwrap(),
    ];
    assert!(ups.validate_set(&targets).is_err());
    assert_eq!(
        ups.stored_raw("upsmgConfigLowBatteryLevel", 0),
        None,
        "nothing applied"
    );
}

#[test]
fn rfc_countdowns_read_back_and_switch_the_output() {
    let mut ups = state();
    assert_eq!(
        value(&ups, "control.shutdown_after_delay", 0, 0),
        Json::Null
    );
    set(
        &mut ups,
        vec![target("upsShutdownAfterDelay", 0, Value::Integer(30)).unwrap()],
    )
    .unwrap();
    assert!(ups.alarms().contains(22), "shutdown pending");
    ups.tick(10 * SEC);
    assert_eq!(value(&ups, "control.shutdown_after_delay", 0, 0), 20.0);
    ups.tick(20 * SEC);
    assert_eq!(value(&ups, "output.source", 0, 0), "none");
    assert_eq!(
        value(&ups, "control.shutdown_after_delay", 0, 0),
        Json::Null
    );
    set(
        &mut ups,
        vec![target("upsStartupAfterDelay", 0, Value::Integer(0)).unwrap()],
    )
    .unwrap();
    assert_eq!(value(&ups, "output.source", 0, 0), "normal");
}

#[test]
fn set_control_command_pins_points_the_model_does_not_compute() {
    let mut ups = state();
    assert!(
        ups.set_field("general.model", None, &json!("X"))
            .unwrap()
            .contains("pinned")
    );
    assert_eq!(
        ups.pinned("upsIdentModel", 0),
        Some(&Value::OctetString(b"X".to_vec()))
    );
    ups.unpin("general.model").unwrap();
    assert_eq!(ups.pinned("upsIdentModel", 0), None);
    assert!(
        ups.set_field("battery.charge", None, &json!("much"))
            .is_err()
    );
    assert!(ups.set_field("no.such", None, &json!(1)).is_err());
    ups.set_field("input.lines.voltage", Some(1), &json!(212.5))
        .unwrap();
    assert_eq!(value(&ups, "input.lines.voltage", 0, 1), 212.5);
    ups.set_field("config.low_battery_level", None, &json!(30))
        .unwrap();
    assert_eq!(
        ups.stored_raw("upsmgConfigLowBatteryLevel", 0),
        Some(&Value::Integer(30))
    );
    assert!(
        ups.set_field("config.low_battery_level", None, &json!(300))
            .is_err()
    );
}
