//! `ups2mqtt probe` against snmpsim serving the real walks in
//! tests/fixtures/walks: the decoded pages must carry the walks' values,
//! scaled, labelled and shaped as the point table says.

mod support;

use serde_json::{Value as Json, json};
use std::process::{Command, Output};
use support::Snmpsim;

fn probe_command(agent: &str, extra: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ups2mqtt"));
    command.args(["probe", "--agent", agent]);
    if !extra.contains(&"--timeout-ms") {
        command.args(["--timeout-ms", "2000"]);
    }
    command.args(extra).output().expect("run ups2mqtt probe")
}

/// Probes a walk and returns the pages JSON.
fn probe(sim: &Snmpsim, extra: &[&str]) -> Json {
    let out = probe_command(&sim.addr().to_string(), extra);
    assert!(
        out.status.success(),
        "probe of {} failed: {}",
        sim.walk(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("probe prints one JSON object")
}

fn page_names(pages: &Json) -> Vec<&str> {
    pages
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn eaton_9px_le_rfc1628_and_mge() {
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let pages = probe(&sim, &[]);
    assert_eq!(
        page_names(&pages),
        [
            "general",
            "alarms",
            "input",
            "output",
            "battery",
            "config",
            "environment",
            "control",
            "test"
        ]
    );
    let general = &pages["general"];
    assert_eq!(general["manufacturer"], "EATON");
    assert_eq!(general["model"], "Eaton 9PX 1000i RT 2U");
    assert_eq!(general["model_name"], "1000i RT 2U");
    assert_eq!(general["serial_number"], "GA10J05109");
    assert_eq!(
        general["firmware_version"], "01.16.4638",
        "MGE firmware preferred over RFC 'INV: ...'"
    );
    assert_eq!(pages["alarms"], json!({"present": 0}));
    // RFC 1628 input row (whole volts), MGE tenths and the row count.
    assert_eq!(
        pages["input"]["lines"],
        json!([{"index": 1, "voltage": 228, "frequency": 50.0, "current": 0.0, "power": 0}])
    );
    assert_eq!(pages["input"]["bad"], false);
    assert_eq!(pages["input"]["transfer_reason"], "no");
    // MGE's output table has 3 rows, upsOutputNumLines says 1.
    let output = &pages["output"];
    assert_eq!(output["source"], "normal");
    assert_eq!(output["on_battery"], false);
    assert_eq!(
        output["lines"],
        json!([{"index": 1, "voltage": 230, "current": 1.7, "power": 360, "load": 40, "frequency": 50.0}])
    );
    let battery = &pages["battery"];
    assert_eq!(battery["charge"], 91);
    assert_eq!(
        battery["runtime"], 1132,
        "MGE seconds preferred over RFC minutes (18 min)"
    );
    assert_eq!(battery["voltage"], 55.0);
    assert_eq!(battery["status"], "normal");
    assert_eq!(battery["low"], false);
    let config = &pages["config"];
    assert_eq!(config["low_battery_runtime"], 180);
    assert_eq!(config["low_battery_level"], 20);
    assert_eq!(config["automatic_restart"], "always");
    assert_eq!(config["beeper"], "enabled");
    assert_eq!(
        config["low_transfer_voltage"],
        Json::Null,
        "0 = not supported"
    );
    assert_eq!(config["input_nominal_frequency"], 50.0);
    let sensor = &pages["environment"]["sensors"][0];
    assert_eq!(sensor["name"], "Environment sensor");
    assert_eq!(sensor["communication_lost"], true);
    assert_eq!(sensor["temperature_high_threshold"], 40);
    // upsmgEnvironmentComFailure = yes(1): the sensor's readings (0.0 °C,
    // contacts) are not real; they are null, not numbers.
    assert_eq!(sensor["input_1"], Json::Null);
    assert_eq!(sensor["temperature"], Json::Null);
    assert_eq!(
        pages["control"]["shutdown_after_delay"],
        Json::Null,
        "-1 = idle"
    );
    assert_eq!(pages["control"]["shutdown_type"], "system");
    assert_eq!(pages["test"]["result"], "done_pass");
    assert_eq!(pages["test"]["start_time"], 9_718_707.15);
}

#[test]
fn eaton_9px_older_card() {
    let sim = Snmpsim::start("eaton-mgeups_9px");
    let pages = probe(&sim, &[]);
    assert_eq!(
        page_names(&pages),
        ["general", "input", "output", "battery"]
    );
    assert_eq!(
        pages["general"]["model"], "Eaton 9PX",
        "MGE family when RFC has no model"
    );
    assert_eq!(pages["battery"]["charge"], 100);
    assert_eq!(pages["battery"]["runtime"], 1464);
    assert_eq!(pages["battery"]["voltage"], 52.0);
    assert_eq!(pages["input"]["lines"][0]["voltage"], 237);
    assert_eq!(pages["input"]["lines"][0]["frequency"], 50.1);
    assert_eq!(pages["output"]["frequency"], 50.2);
    assert_eq!(pages["output"]["lines"][0]["load"], 35);
}

#[test]
fn eaton_network_m2_rfc1628_only() {
    let sim = Snmpsim::start("eatonupsm2_9px+empg2");
    let pages = probe(&sim, &["--stats"]);
    assert_eq!(pages["general"]["firmware_version"], "01.20.5072");
    assert_eq!(pages["battery"]["runtime"], 26_280, "RFC 1628 minutes × 60");
    assert_eq!(pages["battery"]["voltage"], 53.1);
    assert_eq!(pages["config"]["low_transfer_voltage"], 100);
    assert_eq!(pages["config"]["high_transfer_voltage"], 276);
    assert_eq!(pages["config"]["automatic_restart"], "on");
    assert_eq!(pages["test"]["id"], "1.3.6.1.2.1.33.1.7.7.4");
    assert_eq!(pages["test"]["result"], "aborted");
    assert!(pages.get("environment").is_none());
}

#[test]
fn generex_three_phase_rfc1628() {
    let sim = Snmpsim::start("generex-ups_cs141");
    let pages = probe(&sim, &[]);
    assert_eq!(pages["general"]["manufacturer"], "Multimatic");
    let input = pages["input"]["lines"].as_array().unwrap();
    assert_eq!(input.len(), 3);
    let volts: Vec<&Json> = input.iter().map(|l| &l["voltage"]).collect();
    assert_eq!(volts, [233, 233, 235]);
    let output = &pages["output"];
    assert_eq!(output["source"], "bypass");
    assert_eq!(
        output["lines"][1],
        json!({"index": 2, "voltage": 233, "current": 2.1, "power": 469, "load": 14})
    );
    assert_eq!(
        output["lines"][2]["power"],
        Json::Null,
        "upsOutputPower is a NonNegativeInteger: the card's -26 is no reading"
    );
    assert_eq!(pages["battery"]["voltage"], 271.6);
    assert_eq!(pages["battery"]["temperature"], 25);
    assert_eq!(pages["battery"]["runtime"], 544 * 60);
}

#[test]
fn cet_power_padded_tables_and_placeholders() {
    let sim = Snmpsim::start("cetpower");
    let pages = probe(&sim, &[]);
    // 3 input rows, upsInputNumLines = 1; 24 alarm rows of 0.0 padding.
    assert_eq!(pages["input"]["lines"].as_array().unwrap().len(), 1);
    assert_eq!(pages["input"]["line_bads"], 140);
    assert_eq!(pages["alarms"], json!({"present": 0}));
    assert_eq!(pages["output"]["source"], "battery");
    assert_eq!(pages["output"]["lines"][0]["current"], 162.9);
    assert_eq!(pages["battery"]["current"], 69.8);
    // -1 / 0 in enumerations mean "not supported".
    assert_eq!(pages["config"]["automatic_restart"], Json::Null);
    assert_eq!(pages["config"]["beeper"], Json::Null);
    assert_eq!(pages["config"]["nominal_apparent_power"], 15_000);
    assert_eq!(pages["test"]["result"], "no_tests_initiated");
}

#[test]
fn apc_smart_ups_powernet() {
    let sim = Snmpsim::start("apc_smx750i");
    let pages = probe(&sim, &[]);
    assert_eq!(
        page_names(&pages),
        ["general", "input", "output", "battery", "environment"]
    );
    assert_eq!(pages["general"]["manufacturer"], "APC");
    assert_eq!(pages["general"]["model"], "Smart-UPS X 750");
    assert_eq!(pages["general"]["firmware_version"], "UPS 09.9 (ID20)");
    assert_eq!(pages["battery"]["charge"], 100.0, "HighPrec tenths");
    assert_eq!(pages["battery"]["runtime"], 5709.0, "TimeTicks → seconds");
    assert_eq!(pages["battery"]["temperature"], 31);
    assert_eq!(pages["battery"]["replace"], false);
    assert_eq!(pages["input"]["voltage"], 232);
    assert_eq!(pages["output"]["status"], "on_line");
    assert_eq!(pages["output"]["load"], 20.2);
    assert_eq!(pages["output"]["current"], 0.6);
    assert_eq!(
        pages["environment"]["probes"],
        json!([
            {"index": 1, "name": "Port 1 Temp 1", "connected": true, "temperature": 23, "humidity": null},
            {"index": 2, "name": "Unknown", "connected": false, "temperature": null, "humidity": null}
        ])
    );
}

#[test]
fn snmp_v1_reads_the_same_pages_as_v2c() {
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let v2c = probe(&sim, &[]);
    let v1 = probe(&sim, &["--snmp-version", "1"]);
    assert_eq!(v1, v2c);
}

#[test]
fn pages_option_and_table_format() {
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let pages = probe(&sim, &["--pages", "battery,output"]);
    assert_eq!(page_names(&pages), ["output", "battery"]);
    let out = probe_command(
        &sim.addr().to_string(),
        &["--pages", "battery", "--format", "table"],
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("battery.charge") && l.ends_with("91 %")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("battery.voltage") && l.ends_with("55.0 V")),
        "{table}"
    );
}

#[test]
fn a_silent_agent_is_a_clear_error() {
    // A bound socket that never answers: a real timeout, not ICMP.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let agent = silent.local_addr().unwrap().to_string();
    let out = probe_command(&agent, &["--timeout-ms", "200", "--retries", "1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&agent), "{stderr}");
    assert!(stderr.contains("no response after 2 attempt"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_closed_port_is_a_clear_error() {
    let agent = format!("127.0.0.1:{}", support::free_udp_port());
    let out = probe_command(&agent, &["--timeout-ms", "200", "--retries", "1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&agent) && stderr.contains("refused"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("refused").count(), 1, "said once: {stderr}");
}

#[test]
fn a_wrong_community_times_out_naming_the_agent() {
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let out = probe_command(
        &sim.addr().to_string(),
        &[
            "--community",
            "nope",
            "--timeout-ms",
            "300",
            "--retries",
            "0",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&sim.addr().to_string()));
}
