//! Traps from net-snmp's `snmptrap` / `snmpinform` (a peer no one here
//! wrote) through `ups2mqtt run` to MQTT events, page updates and re-polls;
//! what is unknown or malformed is counted and dropped.

mod support;

use serde_json::Value as Json;
use std::time::Duration;
use support::gateway::{Gateway, WAIT, json, ups_toml, wait_retained};
use support::{Mosquitto, Snmpsim, Subscriber};

/// Runs a net-snmp tool and asserts it succeeded.
fn net_snmp(tool: &str, args: &[&str]) {
    let out = support::net_snmp(tool)
        .args(args)
        .output()
        .expect("run net-snmp");
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn event(subscriber: &Subscriber, name: &str) -> Json {
    let message = subscriber
        .wait_message(
            |m| m.topic == "ups2mqtt/rack1/event" && json(&m.payload)["name"] == name,
            WAIT,
        )
        .unwrap_or_else(|| panic!("no {name} event; got {:?}", subscriber.lines()));
    assert!(!message.retain, "events are not retained");
    json(&message.payload)
}

/// Waits until any message so far (in any order) satisfies `pred`.
fn seen(subscriber: &Subscriber, pred: impl Fn(&support::Message) -> bool) -> bool {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if subscriber.messages().iter().any(&pred) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn bridge_health(broker: &Mosquitto, gateway: &Gateway, ok: impl Fn(&Json) -> bool) -> Json {
    json(&wait_retained(
        broker,
        "ups2mqtt/bridge/health",
        |p| ok(&json(p)),
        gateway,
    ))
}

fn ready(broker: &Mosquitto, sim: &Snmpsim) -> (Gateway, Subscriber) {
    let gateway = Gateway::start(broker, &[("rack1", sim)]);
    wait_retained(
        broker,
        "ups2mqtt/rack1/availability",
        |p| p == "online",
        &gateway,
    );
    let events = Subscriber::start(broker.port(), "ups2mqtt/#");
    (gateway, events)
}

#[test]
fn mge_v1_trap_becomes_an_event_updates_the_page_and_repolls() {
    let broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let (gateway, events) = ready(&broker, &sim);
    let target = format!("127.0.0.1:{}", gateway.trap_port);
    sim.reset_requests();
    // upsmgOnBattery (enterprise-specific 11) with its two varbinds.
    net_snmp(
        "snmptrap",
        &[
            "-v1",
            "-c",
            "public",
            &target,
            "1.3.6.1.4.1.705.1.11",
            "",
            "6",
            "11",
            "",
            "1.3.6.1.4.1.705.1.5.1.0",
            "i",
            "1200",
            "1.3.6.1.4.1.705.1.5.2.0",
            "i",
            "80",
        ],
    );
    let on_battery = event(&events, "on_battery");
    assert_eq!(on_battery["severity"], "critical");
    assert_eq!(on_battery["mib"], "mge");
    assert_eq!(on_battery["object"], "upsmgOnBattery");
    assert_eq!(on_battery["oid"], "1.3.6.1.4.1.705.1.11.0.11");
    assert_eq!(on_battery["version"], "1");
    assert_eq!(on_battery["varbinds"][0]["field"], "battery.runtime");
    assert_eq!(on_battery["varbinds"][0]["value"], 1200);
    assert_eq!(on_battery["varbinds"][1]["value"], 80);
    assert!(on_battery["time"].as_str().unwrap().ends_with('Z'));
    // At once: the trap's facts; then the re-poll brings the card's values back.
    let page = |topic: &'static str, key: &'static str, value: Json| {
        move |m: &support::Message| m.topic == topic && json(&m.payload)[key] == value
    };
    assert!(
        seen(
            &events,
            page("ups2mqtt/rack1/output", "on_battery", Json::Bool(true))
        ),
        "output not updated from the trap"
    );
    assert!(
        seen(
            &events,
            page("ups2mqtt/rack1/output", "source", Json::from("battery"))
        ),
        "source not updated"
    );
    assert!(
        seen(
            &events,
            page("ups2mqtt/rack1/battery", "runtime", Json::from(1200))
        ),
        "battery not updated from the varbinds"
    );
    let messages = events.messages();
    let patched = messages
        .iter()
        .rposition(|m| m.topic == "ups2mqtt/rack1/output" && json(&m.payload)["on_battery"] == true)
        .unwrap();
    let repolled = || {
        events.messages()[patched + 1..]
            .iter()
            .any(|m| m.topic == "ups2mqtt/rack1/output" && json(&m.payload)["on_battery"] == false)
    };
    let deadline = std::time::Instant::now() + WAIT;
    while !repolled() {
        assert!(
            std::time::Instant::now() < deadline,
            "no re-poll after the trap"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(sim.request_count() > 0, "the agent was polled again");
}

#[test]
fn rfc1628_v2c_trap_and_inform() {
    let broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let (gateway, events) = ready(&broker, &sim);
    let target = format!("127.0.0.1:{}", gateway.trap_port);
    net_snmp(
        "snmptrap",
        &[
            "-v2c",
            "-c",
            "public",
            &target,
            "",
            "1.3.6.1.2.1.33.2.1",
            "1.3.6.1.2.1.33.1.2.3.0",
            "i",
            "5",
        ],
    );
    let trap = event(&events, "on_battery");
    assert_eq!(trap["object"], "upsTrapOnBattery");
    assert_eq!(trap["version"], "2c");
    assert_eq!(trap["inform"], false);
    assert_eq!(
        trap["varbinds"][0]["value"], 300,
        "minutes decoded to seconds"
    );
    // snmpinform exits 0 only when the listener answered.
    net_snmp(
        "snmpinform",
        &[
            "-v2c",
            "-c",
            "public",
            "-t",
            "2",
            "-r",
            "1",
            &target,
            "",
            "1.3.6.1.2.1.33.2.2",
        ],
    );
    let inform = event(&events, "test_completed");
    assert_eq!(inform["inform"], true);
    let health = bridge_health(&broker, &gateway, |h| h["traps"]["informs_answered"] == 1);
    assert_eq!(health["traps"]["delivered"], 2);
}

#[test]
fn unknown_sources_wrong_communities_and_garbage_are_counted_and_dropped() {
    let broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let (gateway, events) = ready(&broker, &sim);
    let target = format!("127.0.0.1:{}", gateway.trap_port);
    let trap = ["1.3.6.1.4.1.705.1.11", "", "6", "17", ""];
    net_snmp(
        "snmptrap",
        &[&["-v1", "-c", "wrong", &target][..], &trap].concat(),
    );
    net_snmp(
        "snmptrap",
        &[
            &["--clientaddr=127.0.0.2", "-v1", "-c", "public", &target][..],
            &trap,
        ]
        .concat(),
    );
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for garbage in [&b"\x30\x03\x02\x01"[..], b"hello", &[0xff; 300]] {
        socket.send_to(garbage, &target).unwrap();
    }
    let health = bridge_health(&broker, &gateway, |h| {
        h["traps"]["dropped"]["malformed"] == 3
    });
    assert_eq!(health["traps"]["dropped"]["bad_community"], 1, "{health}");
    assert_eq!(health["traps"]["dropped"]["unknown_source"], 1, "{health}");
    assert_eq!(health["traps"]["delivered"], 0, "{health}");
    // The listener is still there: a good trap still gets through.
    net_snmp(
        "snmptrap",
        &[&["-v1", "-c", "public", &target][..], &trap].concat(),
    );
    assert_eq!(event(&events, "utility_failure")["severity"], "major");
}

#[test]
fn nat_agent_addr_and_ipv6_listeners_route_to_their_ups() {
    let broker = Mosquitto::start();
    let v4 = support::free_udp_port();
    let v6 = support::free_udp_port();
    // Neither UPS has an agent: polls fail (on loopback), traps still route.
    let upses = format!(
        "{}{}",
        ups_toml("rack1", "127.0.0.5", support::free_udp_port(), ""),
        ups_toml("rack6", "::1", support::free_udp_port(), "")
    );
    let traps = format!("[traps]\nlisten = [\"127.0.0.1:{v4}\", \"[::1]:{v6}\"]\n");
    let gateway = Gateway::start_with(&broker, &upses, &traps);
    gateway.wait_online(&broker);
    let events = Subscriber::start(broker.port(), "ups2mqtt/+/event");
    // From 127.0.0.1, but the v1 agent-addr names rack1 behind NAT.
    net_snmp(
        "snmptrap",
        &[
            "-v1",
            "-c",
            "public",
            &format!("127.0.0.1:{v4}"),
            "1.3.6.1.4.1.705.1.11",
            "127.0.0.5",
            "6",
            "18",
            "",
        ],
    );
    assert_eq!(
        event(&events, "utility_restored")["source"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some("127.0.0.1")
    );
    net_snmp(
        "snmptrap",
        &[
            "-v2c",
            "-c",
            "public",
            &format!("udp6:[::1]:{v6}"),
            "",
            "1.3.6.1.4.1.318.0.5",
        ],
    );
    let message = events
        .wait_message(|m| m.topic == "ups2mqtt/rack6/event", WAIT)
        .unwrap_or_else(|| panic!("no IPv6 event: {:?}\n{}", events.lines(), gateway.log()));
    let apc = json(&message.payload);
    assert_eq!(apc["name"], "on_battery");
    assert_eq!(apc["mib"], "powernet");
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn events_wait_for_the_broker_oldest_first_with_their_time() {
    let mut broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let (gateway, _events) = ready(&broker, &sim);
    let target = format!("127.0.0.1:{}", gateway.trap_port);
    broker.stop();
    let sent_at = std::time::SystemTime::now();
    for specific in ["17", "18", "21"] {
        net_snmp(
            "snmptrap",
            &[
                "-v1",
                "-c",
                "public",
                &target,
                "1.3.6.1.4.1.705.1.11",
                "",
                "6",
                specific,
                "",
            ],
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(1));
    let restarted_at = ups2mqtt::time::rfc3339(std::time::SystemTime::now());
    broker.restart();
    let events = Subscriber::start(broker.port(), "ups2mqtt/rack1/event");
    let mut names = Vec::new();
    while names.len() < 3 {
        let message = events
            .wait_message(|_| true, WAIT)
            .unwrap_or_else(|| panic!("buffered events lost; got {names:?}\n{}", gateway.log()));
        let event = json(&message.payload);
        let time = event["time"].as_str().unwrap().to_string();
        let sent = ups2mqtt::time::rfc3339(sent_at);
        assert!(
            time.as_str() >= &sent[..19] && time < restarted_at,
            "{time}: not the original trap time"
        );
        names.push(event["name"].as_str().unwrap().to_string());
    }
    assert_eq!(
        names,
        ["utility_failure", "utility_restored", "overload"],
        "oldest first"
    );
}
