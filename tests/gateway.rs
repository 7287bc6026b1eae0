//! `ups2mqtt run` against real peers: mosquitto and snmpsim serving real
//! walks. Retained pages, availability, broker restarts, Home Assistant's
//! birth message, ghost removal and clean shutdown.

mod support;

use std::process::Command;
use std::time::Duration;
use support::gateway::{Gateway, WAIT, json, ups_toml, wait_retained, wait_retained_until};
use support::{Mosquitto, Snmpsim, Subscriber, retained};

#[test]
fn pages_availability_health_and_discovery_are_retained() {
    let broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let gateway = Gateway::start(&broker, &[("rack1", &sim)]);
    let battery = json(&wait_retained(
        &broker,
        "ups2mqtt/rack1/battery",
        |_| true,
        &gateway,
    ));
    assert_eq!(battery["charge"], 91);
    assert_eq!(battery["runtime"], 1132);
    let general = json(&wait_retained(
        &broker,
        "ups2mqtt/rack1/general",
        |_| true,
        &gateway,
    ));
    assert_eq!(general["serial_number"], "GA10J05109");
    wait_retained(
        &broker,
        "ups2mqtt/rack1/availability",
        |p| p == "online",
        &gateway,
    );
    wait_retained(
        &broker,
        "ups2mqtt/bridge/state",
        |p| p == r#"{"state":"online"}"#,
        &gateway,
    );
    let health = json(&wait_retained(
        &broker,
        "ups2mqtt/rack1/health",
        |_| true,
        &gateway,
    ));
    assert_eq!(health["online"], true);
    assert_eq!(health["mibs"], serde_json::json!(["rfc1628", "mge"]));
    let all = retained(broker.port(), "ups2mqtt/rack1/#", Duration::from_secs(2));
    let pages: Vec<&str> = all
        .iter()
        .filter_map(|(t, _)| t.strip_prefix("ups2mqtt/rack1/"))
        .collect();
    for page in [
        "general",
        "alarms",
        "input",
        "output",
        "battery",
        "config",
        "environment",
        "control",
        "test",
    ] {
        assert!(pages.contains(&page), "{page} missing from {pages:?}");
    }
    for absent in ["receptacles", "devices"] {
        assert!(
            !pages.contains(&absent),
            "{absent} has no data on this card and must not be published"
        );
    }
    let discovery = json(&wait_retained(
        &broker,
        "homeassistant/device/gwtest_rack1/config",
        |_| true,
        &gateway,
    ));
    assert!(
        discovery.to_string().contains("gwtest_bridge"),
        "via_device links the bridge"
    );
    wait_retained(
        &broker,
        "homeassistant/device/gwtest_bridge/config",
        |_| true,
        &gateway,
    );
    // The health topics, superseded at every poll, are published at QoS
    // 0; pages at QoS 1 (a subscriber at QoS 1 gets the lower of the two).
    let qos = retained_qos(
        broker.port(),
        &[
            "ups2mqtt/rack1/health",
            "ups2mqtt/rack1/battery",
            "ups2mqtt/bridge/health",
        ],
    );
    assert_eq!(
        qos,
        [
            ("ups2mqtt/bridge/health".to_string(), 0),
            ("ups2mqtt/rack1/battery".to_string(), 1),
            ("ups2mqtt/rack1/health".to_string(), 0),
        ]
    );
}

/// The QoS each retained topic of `topics` is delivered with to a QoS 1
/// subscriber, sorted by topic.
fn retained_qos(port: u16, topics: &[&str]) -> Vec<(String, u8)> {
    let mut sub = Command::new("mosquitto_sub");
    sub.args(["-p", &port.to_string(), "-q", "1", "--retained-only"])
        .args(["-F", "%q %t", "-W", "3", "-C", &topics.len().to_string()]);
    for topic in topics {
        sub.args(["-t", topic]);
    }
    let out = sub.output().expect("mosquitto_sub runs");
    let mut qos: Vec<(String, u8)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (qos, topic) = line.split_once(' ')?;
            Some((topic.to_string(), qos.parse().ok()?))
        })
        .collect();
    qos.sort();
    qos
}

#[test]
fn a_page_is_published_when_it_changes_and_replayed_as_it_was() {
    let mut broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    // No refresh within the test: a page goes out again only if its text
    // changes, and this walk's readings never do.
    let ups = ups_toml("rack1", "127.0.0.1", sim.port(), "");
    let gateway = Gateway::start_with_mqtt(&broker, &ups, "refresh = 3600\n");
    let topic = "ups2mqtt/rack1/battery";
    let first = wait_retained(&broker, topic, |_| true, &gateway);
    let live = Subscriber::start(broker.port(), "ups2mqtt/rack1/#");
    let polls = |health: &str| json(health)["polls"].as_u64().unwrap_or(0);
    let health = live
        .wait_message(|m| m.topic == "ups2mqtt/rack1/health", WAIT)
        .expect("health");
    let start = polls(&health.payload);
    // Five more polls of the battery page (a fast page: every poll).
    live.wait_message(
        |m| m.topic == "ups2mqtt/rack1/health" && polls(&m.payload) >= start + 5,
        WAIT,
    )
    .expect("five more polls");
    let battery: Vec<_> = live
        .messages()
        .into_iter()
        .filter(|m| m.topic == topic)
        .collect();
    assert_eq!(battery.len(), 1, "only the retained copy: {battery:?}");
    assert!(battery[0].retain);
    // A broker without persistence gets the page again from the gateway
    // (rendered from the readings, not kept as text): the same bytes.
    broker.stop();
    broker.restart();
    let again = wait_retained(&broker, topic, |_| true, &gateway);
    assert_eq!(again, first);
}

#[test]
fn availability_follows_the_agent() {
    let broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let gateway = Gateway::start(&broker, &[("rack1", &sim)]);
    wait_retained(
        &broker,
        "ups2mqtt/rack1/availability",
        |p| p == "online",
        &gateway,
    );
    sim.pause();
    wait_retained(
        &broker,
        "ups2mqtt/rack1/availability",
        |p| p == "offline",
        &gateway,
    );
    let health = json(&wait_retained(
        &broker,
        "ups2mqtt/rack1/health",
        |p| p.contains("\"online\":false"),
        &gateway,
    ));
    assert!(
        health["consecutive_failures"].as_u64().unwrap() >= 2,
        "{health}"
    );
    assert!(
        health["last_error"]
            .as_str()
            .unwrap()
            .contains("no response"),
        "{health}"
    );
    sim.resume();
    wait_retained(
        &broker,
        "ups2mqtt/rack1/availability",
        |p| p == "online",
        &gateway,
    );
}

#[test]
fn a_broker_restart_loses_nothing_that_matters() {
    let mut broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let gateway = Gateway::start(&broker, &[("rack1", &sim)]);
    wait_retained(
        &broker,
        "homeassistant/device/gwtest_rack1/config",
        |_| true,
        &gateway,
    );
    let before = retained(broker.port(), "#", Duration::from_secs(2));
    broker.stop();
    std::thread::sleep(Duration::from_secs(3));
    broker.restart();
    // The broker has no persistence: everything must come back from the gateway.
    for (topic, _) in &before {
        wait_retained(&broker, topic, |_| true, &gateway);
    }
    // Discovery is not stored but rendered again from the retained pages
    // (a static walk): the same message, byte for byte.
    let discovery = |retained: &[(String, String)]| {
        retained
            .iter()
            .find(|(t, _)| t == "homeassistant/device/gwtest_rack1/config")
            .map(|(_, p)| p.clone())
            .expect("discovery retained")
    };
    let again = discovery(&retained(broker.port(), "#", Duration::from_secs(2)));
    assert!(again.len() > 10_000, "{again}");
    assert_eq!(again, discovery(&before));
    gateway.wait_online(&broker);
}

#[test]
fn home_assistant_birth_triggers_rediscovery() {
    let broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let gateway = Gateway::start(&broker, &[("rack1", &sim)]);
    wait_retained(
        &broker,
        "homeassistant/device/gwtest_rack1/config",
        |_| true,
        &gateway,
    );
    let live = Subscriber::start(broker.port(), "homeassistant/device/#");
    // Retained copies arrive first on subscribe; only fresh ones count.
    std::thread::sleep(Duration::from_millis(500));
    let baseline = live.messages().len();
    let status = Command::new("mosquitto_pub")
        .args([
            "-p",
            &broker.port().to_string(),
            "-t",
            "homeassistant/status",
            "-m",
            "online",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let fresh = live.wait_message(
        |m| m.topic == "homeassistant/device/gwtest_rack1/config" && !m.retain,
        WAIT,
    );
    assert!(
        fresh.is_some(),
        "no re-announce after the birth message; got {:?}\n{}",
        &live.messages()[baseline..],
        gateway.log()
    );
    // The gateway reads discovery configs at start-up only (ghosts): none
    // of its own announcements, first or again, comes back to it.
    let echoes: Vec<String> = broker
        .log()
        .lines()
        .filter(|l| {
            l.contains("Sending PUBLISH to ups2mqtt-gwtest") && l.contains("'homeassistant/device/")
        })
        .map(str::to_string)
        .collect();
    assert!(
        echoes.is_empty(),
        "{echoes:#?}\n--- broker ---\n{}\n--- gateway ---\n{}",
        broker.log(),
        gateway.log()
    );
}

/// Publishes a retained message with `mosquitto_pub`.
fn publish_retained(broker: &Mosquitto, topic: &str, payload: &str) {
    let port = broker.port().to_string();
    let status = Command::new("mosquitto_pub")
        .args(["-p", &port, "-q", "1", "-r", "-t", topic, "-m", payload])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A retained discovery config linked to this gateway's bridge device
/// whose device the gateway no longer has (no owner topic left to say so,
/// e.g. after a change of `mqtt.base_topic`) is removed at start-up; one
/// linked to another gateway's bridge is left alone.
#[test]
fn discovery_of_a_device_gone_from_this_bridge_is_removed_at_start_up() {
    let broker = Mosquitto::start();
    let ghost = "homeassistant/device/gwtest_gone/config";
    let foreign = "homeassistant/device/other_gone/config";
    let config = |id: &str, via: &str| {
        format!(
            r#"{{"device":{{"identifiers":["{id}"],"name":"{id}","via_device":"{via}"}},"components":{{}}}}"#
        )
    };
    publish_retained(&broker, ghost, &config("gwtest_gone", "gwtest_bridge"));
    publish_retained(&broker, foreign, &config("other_gone", "other_bridge"));
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let gateway = Gateway::start(&broker, &[("rack1", &sim)]);
    wait_retained(
        &broker,
        "homeassistant/device/gwtest_rack1/config",
        |_| true,
        &gateway,
    );
    // The ghost goes; the other gateway's config stays all along.
    wait_retained_until(
        &broker,
        "homeassistant/device/+/config",
        |left| {
            let topics: Vec<&str> = left.iter().map(|(t, _)| t.as_str()).collect();
            assert!(topics.contains(&foreign), "{topics:?}");
            !topics.contains(&ghost)
        },
        &gateway,
    );
}

#[test]
fn a_removed_ups_leaves_no_ghosts_and_shutdown_says_offline() {
    let broker = Mosquitto::start();
    let sim1 = Snmpsim::start("eaton-mgeups_9pxle");
    let sim2 = Snmpsim::start("generex-ups_cs141");
    let mut gateway = Gateway::start(&broker, &[("rack1", &sim1), ("rack2", &sim2)]);
    wait_retained(
        &broker,
        "homeassistant/device/gwtest_rack2/config",
        |_| true,
        &gateway,
    );
    wait_retained(&broker, "ups2mqtt/rack2/battery", |_| true, &gateway);
    let status = gateway.terminate();
    assert!(status.success(), "exit status {status}:\n{}", gateway.log());
    wait_retained(
        &broker,
        "ups2mqtt/bridge/state",
        |p| p == r#"{"state":"offline"}"#,
        &gateway,
    );

    let gateway = Gateway::start(&broker, &[("rack1", &sim1)]);
    gateway.wait_online(&broker);
    // No rack2 topic left.
    wait_retained_until(
        &broker,
        "#",
        |all| !all.iter().any(|(t, _)| t.contains("rack2")),
        &gateway,
    );
    wait_retained(
        &broker,
        "homeassistant/device/gwtest_rack1/config",
        |_| true,
        &gateway,
    );
}
