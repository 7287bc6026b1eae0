//! The simulator's product personalities, read by `ups2mqtt probe` the way
//! a user would: a 3-phase PowerNet card (Galaxy VS-like) and a
//! single-phase PowerNet Smart-UPS with outlet groups.

mod support;

use serde_json::Value as Json;
use std::process::Command;
use support::sim::Sim;

fn probe(sim: &Sim) -> Json {
    let out = Command::new(env!("CARGO_BIN_EXE_ups2mqtt"))
        .args(["probe", "--agent", &format!("127.0.0.1:{}", sim.port())])
        .args(["--timeout-ms", "2000"])
        .output()
        .expect("run ups2mqtt probe");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("probe prints JSON")
}

fn rows(json: &Json) -> &Vec<Json> {
    json.as_array().expect("a table")
}

#[test]
fn galaxy_vs_personality_is_three_phase_powernet() {
    let sim = Sim::start(&["--personality", "galaxy-vs"]);
    let pages = probe(&sim);
    // PowerNet only: named from upsBasicIdentModel and sysObjectID (318).
    assert_eq!(pages["general"]["manufacturer"], "APC");
    assert!(pages["general"]["model"].is_string());
    assert!(pages["output"].get("source").is_none(), "no RFC 1628");
    for (page, table, count, orientation) in [
        ("input", "lines", "num_lines", "voltage_orientation"),
        (
            "input",
            "bypass_lines",
            "bypass_num_lines",
            "bypass_voltage_orientation",
        ),
        ("output", "lines", "num_lines", "voltage_orientation"),
    ] {
        assert_eq!(pages[page][count], 3, "{page}.{count}");
        assert_eq!(pages[page][orientation], "three_phase_phase_to_phase");
        let lines = rows(&pages[page][table]);
        assert_eq!(lines.len(), 3, "{page}.{table}");
        for line in lines {
            // Phase-to-phase is √3 × phase-to-neutral: two fields, two
            // quantities.
            let ll = line["voltage"].as_f64().unwrap();
            let ln = line["voltage_phase_to_neutral"].as_f64().unwrap();
            assert!(ln > 100.0, "{page}.{table}: {line}");
            assert!(
                (ll - ln * 3f64.sqrt()).abs() <= 2.0,
                "{page}.{table}: {line}"
            );
        }
    }
}

#[test]
fn smart_ups_personality_is_single_phase_with_outlet_groups() {
    let sim = Sim::start(&["--personality", "smart-ups"]);
    let pages = probe(&sim);
    assert_eq!(pages["general"]["manufacturer"], "APC");
    assert_eq!(pages["input"]["num_lines"], 1);
    assert_eq!(pages["input"]["voltage_orientation"], "single_phase");
    assert_eq!(rows(&pages["input"]["lines"]).len(), 1, "no phantom phase");
    assert_eq!(rows(&pages["output"]["lines"]).len(), 1, "no phantom phase");
    let groups = rows(&pages["receptacles"]["outlet_groups"]);
    assert_eq!(groups.len(), 3);
    assert_eq!(rows(&pages["control"]["outlet_groups"]).len(), 3);
    assert!(pages.get("devices").is_none() || pages["devices"].get("devices").is_none());
    // PowerNet settings a user sets from Home Assistant are served.
    for key in [
        "high_transfer_voltage",
        "low_transfer_voltage",
        "sensitivity",
    ] {
        assert!(
            !pages["config"][key].is_null(),
            "config.{key}: {}",
            pages["config"]
        );
    }
}
