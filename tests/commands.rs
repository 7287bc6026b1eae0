//! Commands through MQTT against the simulated card: every writable field
//! round-trips (response read-back, republished page, and net-snmp's
//! `snmpget` as an independent witness); refusals change nothing; the
//! two-step arm; named commands including the RFC 1628 spin-lock test.

mod support;

use serde_json::{Value as Json, json};
use std::process::Command;
use std::time::Duration;
use support::gateway::{Gateway, WAIT, json, ups_toml, wait_retained};
use support::sim::Sim;
use support::{Mosquitto, Subscriber};
use ups2mqtt::mib::{self, Access, CutsPower, Decode, Field, Legal, Source};
use ups2mqtt::pages::encode_value;

struct Rig {
    broker: Mosquitto,
    sim: Sim,
    gateway: Gateway,
    responses: Subscriber,
    audit: Subscriber,
}

impl Rig {
    fn start(sim_args: &[&str], ups_extra: &str, top: &str) -> Rig {
        let broker = Mosquitto::start();
        let sim = Sim::start(sim_args);
        let gateway = Gateway::start_with(
            &broker,
            &ups_toml("rack1", "127.0.0.1", sim.port(), ups_extra),
            top,
        );
        wait_retained(
            &broker,
            "ups2mqtt/rack1/availability",
            |p| p == "online",
            &gateway,
        );
        let responses = Subscriber::start(broker.port(), "ups2mqtt/rack1/response");
        let audit = Subscriber::start(broker.port(), "ups2mqtt/rack1/audit");
        Rig {
            broker,
            sim,
            gateway,
            responses,
            audit,
        }
    }

    fn page(&self, page: &str) -> Json {
        json(&wait_retained(
            &self.broker,
            &format!("ups2mqtt/rack1/{page}"),
            |_| true,
            &self.gateway,
        ))
    }

    fn publish(&self, topic: &str, payload: &str) {
        let status = Command::new("mosquitto_pub")
            .args([
                "-p",
                &self.broker.port().to_string(),
                "-t",
                topic,
                "-m",
                payload,
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Publishes and returns the next response.
    fn command(&self, topic: &str, payload: &str) -> Json {
        self.publish(topic, payload);
        let message = self
            .responses
            .wait_message(|_| true, WAIT)
            .unwrap_or_else(|| panic!("no response to {topic} {payload}\n{}", self.gateway.log()));
        json(&message.payload)
    }

    fn snmpget(&self, oid: &str) -> String {
        let out = support::net_snmp("snmpget")
            .args([
                "-v2c",
                "-c",
                "public",
                "-Oqvt",
                &format!("127.0.0.1:{}", self.sim.port()),
                oid,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .trim_matches('"')
            .to_string()
    }
}

fn writable_source(field: &Field) -> &'static Source {
    field
        .sources
        .iter()
        .find(|s| s.is_writable())
        .expect("writable")
}

fn same(a: &Json, b: &Json) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

/// A legal value different from `current`.
fn new_value(field: &Field, source: &Source, current: &Json) -> Json {
    let Access::ReadWrite(legal) = source.access else {
        unreachable!()
    };
    match (legal, source.decode) {
        (Legal::Range { min, max }, Decode::Number { scale }) => {
            let step = scale.max(1.0);
            let mut v = ((min + (max - min) / 3.0) / step).round() * step;
            if current.as_f64() == Some(v) {
                v += step;
            }
            json!(v as i64)
        }
        (Legal::AnyLabel, Decode::Enum(labels)) => {
            json!(
                labels
                    .iter()
                    .map(|(_, l)| *l)
                    .find(|l| current.as_str() != Some(l))
                    .unwrap()
            )
        }
        (Legal::Bool, _) => json!(!current.as_bool().unwrap_or(false)),
        (Legal::Text { max_len }, _) => json!(&"ups2mqtt-test"[..max_len.min(13)]),
        other => panic!("{}: no test value for {other:?}", field.path()),
    }
}

/// The raw text the `set` topic carries (what Home Assistant sends).
fn raw_payload(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Bool(true) => "ON".into(),
        Json::Bool(false) => "OFF".into(),
        other => other.to_string(),
    }
}

/// Fields the round trip covers: writable settings, not a command trigger;
/// settings that change when or how the load is powered (every value
/// dangerous) are written with `dangerous = true`, commands and countdowns
/// that cut power for some values are not.
fn round_trip_fields() -> impl Iterator<Item = &'static Field> {
    mib::FIELDS.iter().filter(|f| {
        f.sources.iter().any(|s| {
            matches!(s.access, Access::ReadWrite(l) if !matches!(l, Legal::Labels(_)))
                && matches!(s.cuts_power, CutsPower::Never | CutsPower::AllBut([]))
        }) && f
            .sources
            .iter()
            .find(|s| s.is_writable())
            .is_some_and(|s| !matches!(s.access, Access::ReadWrite(Legal::Labels(_))))
    })
}

#[test]
fn every_writable_field_round_trips_through_mqtt() {
    let rig = Rig::start(&["--phases", "3"], "", "[commands]\ndangerous = true\n");
    let mut tested = Vec::new();
    for field in round_trip_fields() {
        let page = rig.page(field.page.name());
        let (current, index) = match field.table {
            None => (page.get(field.key).cloned(), None),
            Some(table) => {
                let row = page
                    .get(table)
                    .and_then(|t| t.get(0))
                    .cloned()
                    .unwrap_or(Json::Null);
                (
                    row.get(field.key).cloned(),
                    row["index"].as_u64().map(|i| i as u32),
                )
            }
        };
        let Some(current) = current else { continue };
        let source = writable_source(field);
        let value = new_value(field, source, &current);
        let (topic, path) = match (field.table, index) {
            (None, _) => (
                format!("ups2mqtt/rack1/{}/{}/set", field.page, field.key),
                format!("{}.{}", field.page, field.key),
            ),
            (Some(t), Some(i)) => (
                format!("ups2mqtt/rack1/{}/{t}/{i}/{}/set", field.page, field.key),
                format!("{}.{t}.{i}.{}", field.page, field.key),
            ),
            _ => continue,
        };
        let response = rig.command(&topic, &raw_payload(&value));
        assert_eq!(response["status"], "ok", "{path} = {value}: {response}");
        assert!(
            same(&response["readback"][&path], &value),
            "{path}: read back {response}"
        );
        // The page is republished with the new value at once.
        let page_topic = format!("ups2mqtt/rack1/{}", field.page);
        wait_retained(
            &rig.broker,
            &page_topic,
            |p| {
                let page = json(p);
                let cell = match (field.table, index) {
                    (None, _) => page.get(field.key).cloned(),
                    (Some(t), Some(i)) => page[t].as_array().and_then(|rows| {
                        rows.iter()
                            .find(|r| r["index"] == i)
                            .and_then(|r| r.get(field.key).cloned())
                    }),
                    _ => None,
                };
                cell.is_some_and(|c| same(&c, &value))
            },
            &rig.gateway,
        );
        // And the card itself holds it (net-snmp as the witness).
        let oid = match index {
            Some(i) => format!("{}.{i}", source.oid),
            None => format!("{}.0", source.oid),
        };
        let raw = encode_value(source, &value).unwrap();
        let expected = match &raw {
            ups2mqtt::snmp::Value::OctetString(b) => String::from_utf8_lossy(b).into_owned(),
            other => other.as_i64().unwrap().to_string(),
        };
        assert_eq!(
            rig.snmpget(&oid),
            expected,
            "{path}: the card holds something else"
        );
        tested.push(path);
    }
    println!("{} writable fields round-tripped: {tested:?}", tested.len());
    assert!(
        tested.len() >= 40,
        "only {} fields tested: {tested:?}",
        tested.len()
    );
    let audits = rig.audit.messages();
    assert_eq!(audits.len(), tested.len(), "one audit record per command");
    assert!(audits.iter().all(|m| json(&m.payload)["result"] == "ok"));
}

#[test]
fn refusals_get_clear_errors_and_change_nothing() {
    let rig = Rig::start(&[], "", "");
    let before = rig.page("config");
    let cases: [(&str, &str, &str); 8] = [
        ("ups2mqtt/rack1/battery/charge/set", "50", "read-only"),
        (
            "ups2mqtt/rack1/config/low_battery_level/set",
            "150",
            "out of range 0..100",
        ),
        (
            "ups2mqtt/rack1/config/beeper/set",
            "loud",
            "is not one of disabled, enabled, muted",
        ),
        ("ups2mqtt/rack1/config/nope/set", "1", "unknown field"),
        ("ups2mqtt/rack1/request", "{not json", "not JSON"),
        (
            "ups2mqtt/rack1/request",
            r#"{"transaction":"t1","set":{"config.beeper":"muted"},"command":"x"}"#,
            "not both",
        ),
        (
            "ups2mqtt/rack1/command",
            "outlet.1.load.off",
            "enable commands.dangerous",
        ),
        ("ups2mqtt/rack1/command", "warp.drive", "unknown command"),
    ];
    for (topic, payload, expected) in cases {
        let response = rig.command(topic, payload);
        assert_eq!(response["status"], "error", "{topic} {payload}: {response}");
        let error = response["error"].as_str().unwrap();
        assert!(
            error.contains(expected),
            "{topic} {payload}: {error:?} lacks {expected:?}"
        );
    }
    let request = rig.command(
        "ups2mqtt/rack1/request",
        r#"{"transaction":"t-42","set":{"config.beeper":"loud"}}"#,
    );
    assert_eq!(request["transaction"], "t-42");
    assert_eq!(rig.page("config"), before, "nothing changed");
    let refused: Vec<Json> = rig
        .audit
        .messages()
        .iter()
        .map(|m| json(&m.payload))
        .collect();
    assert_eq!(refused.len(), 9);
    assert!(refused.iter().all(|a| a["result"] != "ok"), "{refused:?}");
    assert_eq!(
        refused[6]["result"].as_str().unwrap().split(':').next(),
        Some("refused")
    );
}

#[test]
fn a_wrong_write_community_is_an_error_with_a_hint() {
    let rig = Rig::start(&[], "write_community = \"wrong\"", "");
    let response = rig.command("ups2mqtt/rack1/config/beeper/set", "muted");
    assert_eq!(response["status"], "error", "{response}");
    assert!(
        response["error"]
            .as_str()
            .unwrap()
            .contains("write_community"),
        "{response}"
    );
    assert_eq!(rig.page("config")["beeper"], "enabled");
}

#[test]
fn a_json_request_sets_several_fields_in_one_pdu() {
    // The low-battery level decides when the load is cut: dangerous.
    let rig = Rig::start(&[], "", "[commands]\ndangerous = true\n");
    let response = rig.command(
        "ups2mqtt/rack1/request",
        r#"{"transaction": 7, "who": "test", "set": {"config.low_battery_level": 30, "config.beeper": "disabled"}}"#,
    );
    assert_eq!(response["status"], "ok", "{response}");
    assert_eq!(response["transaction"], 7);
    assert_eq!(response["readback"]["config.low_battery_level"], 30);
    assert_eq!(response["readback"]["config.beeper"], "disabled");
    let audit = rig.audit.wait_message(|_| true, WAIT).unwrap();
    assert_eq!(json(&audit.payload)["who"], "test");
}

#[test]
fn power_cutting_commands_need_permission_and_a_confirmation() {
    let rig = Rig::start(
        &["--outlet-groups", "2"],
        "",
        "[commands]\ndangerous = true\nconfirm_seconds = 2\n",
    );
    let outlets = || rig.page("receptacles")["outlet_groups"].clone();
    assert_eq!(outlets()[1]["state"], "on");
    let armed = rig.command("ups2mqtt/rack1/command", "outlet.2.load.off");
    assert_eq!(armed["status"], "armed", "{armed}");
    assert_eq!(outlets()[1]["state"], "on", "arming changes nothing");
    let done = rig.command("ups2mqtt/rack1/command", "outlet.2.load.off");
    assert_eq!(done["status"], "ok", "{done}");
    wait_retained(
        &rig.broker,
        "ups2mqtt/rack1/receptacles",
        |p| json(p)["outlet_groups"][1]["state"] == "off",
        &rig.gateway,
    );
    // An arm expires.
    assert_eq!(
        rig.command("ups2mqtt/rack1/command", "outlet.2.load.on")["status"],
        "ok",
        "switching on cuts nothing"
    );
    assert_eq!(
        rig.command("ups2mqtt/rack1/command", "outlet.1.load.off")["status"],
        "armed"
    );
    std::thread::sleep(Duration::from_millis(2_300));
    assert_eq!(
        rig.command("ups2mqtt/rack1/command", "outlet.1.load.off")["status"],
        "armed",
        "expired arm"
    );
}

#[test]
fn battery_tests_start_on_every_mib() {
    for mibs in ["powernet", "mge", "rfc1628"] {
        let rig = Rig::start(&["--mibs", mibs, "--test-duration-ms", "1500"], "", "");
        let before = rig.page("test")["result"].clone();
        let pages = Subscriber::start(rig.broker.port(), "ups2mqtt/rack1/test");
        let response = rig.command("ups2mqtt/rack1/command", "test.battery.start");
        assert_eq!(response["status"], "ok", "{mibs}: {response}");
        // The result changes (in progress, then a verdict): seen in the pages published.
        let changed = pages.wait_message(|m| json(&m.payload)["result"] != before, WAIT);
        let during = json(
            &changed
                .unwrap_or_else(|| panic!("{mibs}: result stayed {before}"))
                .payload,
        )["result"]
            .clone();
        let finished = |result: &Json| !result.as_str().unwrap_or("").contains("progress");
        let after = if finished(&during) {
            during.clone()
        } else {
            let done = pages.wait_message(|m| finished(&json(&m.payload)["result"]), WAIT);
            json(
                &done
                    .unwrap_or_else(|| panic!("{mibs}: test never finished"))
                    .payload,
            )["result"]
                .clone()
        };
        println!("{mibs}: test result {before} -> {during} -> {after}");
    }
}

#[test]
fn read_only_mode_and_allow_lists() {
    let rig = Rig::start(
        &[],
        "commands = { allow = [\"config.beeper\"] }",
        "[commands]\nread_only = false\n",
    );
    assert_eq!(
        rig.command("ups2mqtt/rack1/config/beeper/set", "muted")["status"],
        "ok"
    );
    let refused = rig.command("ups2mqtt/rack1/config/low_battery_level/set", "25");
    assert!(
        refused["error"].as_str().unwrap().contains("allow list"),
        "{refused}"
    );
    drop(rig);
    let rig = Rig::start(&[], "", "[commands]\nread_only = true\n");
    let refused = rig.command("ups2mqtt/rack1/config/beeper/set", "muted");
    assert!(
        refused["error"].as_str().unwrap().contains("read-only"),
        "{refused}"
    );
}

/// Issue 17 item 5: the writes that were accepted with the default policy
/// although they change whether, when or at what voltage the load is
/// powered are refused, and the card keeps its settings.
#[test]
fn power_affecting_settings_are_refused_by_default() {
    let rig = Rig::start(&[], "", "");
    let config = rig.page("config");
    for (topic, payload) in [
        ("ups2mqtt/rack1/control/day_off/set", "monday"),
        ("ups2mqtt/rack1/config/output_nominal_voltage/set", "100"),
        ("ups2mqtt/rack1/config/low_battery_level/set", "100"),
        ("ups2mqtt/rack1/control/receptacles/2/off_delay/set", "0"),
    ] {
        let response = rig.command(topic, payload);
        assert_eq!(response["status"], "error", "{topic}: {response}");
        assert_eq!(response["kind"], "refused", "{topic}: {response}");
    }
    assert_eq!(rig.page("config"), config, "nothing changed");
}

/// Issue 17 item 5: a battery test while the UPS runs on its battery can
/// drop the load: refused by default while the card says so (mains off),
/// accepted again once the mains are back.
#[test]
fn a_battery_test_is_refused_while_the_ups_is_on_battery() {
    let mut rig = Rig::start(&[], "", "");
    assert!(rig.sim.control("mains off").starts_with("ok"));
    wait_retained(
        &rig.broker,
        "ups2mqtt/rack1/output",
        |p| json(p)["on_battery"] == true,
        &rig.gateway,
    );
    let refused = rig.command("ups2mqtt/rack1/command", "test.battery.start");
    assert_eq!(refused["status"], "error", "{refused}");
    assert_eq!(refused["kind"], "refused", "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("on battery"),
        "{refused}"
    );
    assert!(rig.sim.control("mains on").starts_with("ok"));
    wait_retained(
        &rig.broker,
        "ups2mqtt/rack1/output",
        |p| json(p)["on_battery"] == false,
        &rig.gateway,
    );
    let started = rig.command("ups2mqtt/rack1/command", "test.battery.start");
    assert_eq!(started["status"], "ok", "{started}");
}
