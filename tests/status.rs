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
