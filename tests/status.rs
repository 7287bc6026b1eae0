//! NUT-style `ups_status` / `status_text` on the output page follow a real
//! scenario on the simulated card (mains failure, low battery, return).

mod support;

use support::Mosquitto;
use support::gateway::{Gateway, json, ups_toml, wait_retained};
use support::sim::Sim;

#[test]
fn ups_status_follows_mains_failure_low_battery_and_return() {
    let broker = Mosquitto::start();
    let mut sim = Sim::start(&[]);
    let gateway = Gateway::start_with(&broker, &ups_toml("rack1", "127.0.0.1", sim.port(), ""), "");
    let status = |ok: &dyn Fn(&str) -> bool| {
        let output = wait_retained(
            &broker,
            "ups2mqtt/rack1/output",
            |p| json(p)["ups_status"].as_str().is_some_and(ok),
            &gateway,
        );
        json(&output)
    };
    let online = status(&|s| s.starts_with("OL"));
    assert!(
        online["status_text"]
            .as_str()
            .unwrap()
            .starts_with("Online"),
        "{online}"
    );
    assert!(sim.control("mains off").starts_with("ok"));
    let on_battery = status(&|s| s.starts_with("OB") && s.contains("DISCHRG"));
    assert!(
        on_battery["status_text"]
            .as_str()
            .unwrap()
            .starts_with("On battery"),
        "{on_battery}"
    );
    assert!(sim.control("battery low").starts_with("ok"));
    status(&|s| s.contains("OB") && s.contains("LB"));
    assert!(sim.control("mains on").starts_with("ok"));
    status(&|s| s.starts_with("OL") && !s.contains("DISCHRG"));
}

#[test]
fn the_alarms_page_follows_the_alarm_table_between_full_walks() {
    // Between full walks a poll GETs upsAlarmsPresent with the other cells
    // and walks the alarm table only while that count is not 0: the
    // on-battery alarm (upsAlarmOnBattery) must appear when mains fail and
    // go when they return, with no full walk in between.
    let broker = Mosquitto::start();
    let mut sim = Sim::start(&[]);
    let toml = format!(
        "[[ups]]\nid = \"rack1\"\nhost = \"127.0.0.1\"\nport = {}\ntimeout_ms = 300\nretries = 0\npoll = {{ fast = 1, slow = 3600 }}\n",
        sim.port()
    );
    let gateway = Gateway::start_with(&broker, &toml, "");
    let alarms = |ok: &dyn Fn(&serde_json::Value) -> bool| {
        let page = wait_retained(&broker, "ups2mqtt/rack1/alarms", |p| ok(&json(p)), &gateway);
        json(&page)
    };
    let names = |page: &serde_json::Value| -> Vec<String> {
        let rows = page["active"].as_array().into_iter().flatten();
        rows.filter_map(|row| row["alarm"].as_str().map(String::from))
            .collect()
    };
    let quiet = alarms(&|page| page["present"] == 0);
    assert!(names(&quiet).is_empty(), "{quiet}");
    assert!(sim.control("mains off").starts_with("ok"));
    let on_battery = alarms(&|page| names(page).iter().any(|n| n == "on_battery"));
    assert_eq!(
        on_battery["present"],
        names(&on_battery).len(),
        "{on_battery}"
    );
    assert!(sim.control("mains on").starts_with("ok"));
    let cleared = alarms(&|page| page["present"] == 0);
    assert!(names(&cleared).is_empty(), "{cleared}");
}
