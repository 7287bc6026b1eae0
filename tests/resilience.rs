//! A hostile or flapping broker and hostile clients against `ups2mqtt run`
//! (real mosquitto): the gateway never goes deaf, never loses a trap event,
//! answers or counts every command, and reconnects promptly.
//!
//! Each test prints the figures it measured (`cargo test --test resilience
//! -- --nocapture`).

mod support;

use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::io::Write;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::gateway::{Gateway, json, ups_toml, wait_retained};
use support::{Mosquitto, Snmpsim, Subscriber, free_udp_port};

// ------------------------------------------------------------ small helpers

/// BER: tag, definite length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn ber_int(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 7
        && ((bytes[start] == 0 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    tlv(0x02, &bytes[start..])
}

fn ber_oid(text: &str) -> Vec<u8> {
    let arcs: Vec<u64> = text.split('.').map(|a| a.parse().unwrap()).collect();
    let mut content = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        content.extend(groups.into_iter().rev());
    }
    tlv(0x06, &content)
}

fn varbind(oid: &str, value: Vec<u8>) -> Vec<u8> {
    tlv(0x30, &[ber_oid(oid), value].concat())
}

/// `upsTrapOnBattery` (RFC 1628 upsTraps.1).
const ON_BATTERY: &str = "1.3.6.1.2.1.33.2.1";
/// An object no MIB of ours knows, to carry a marker in the event.
const MARKER: &str = "1.3.6.1.4.1.99999.1.0";

/// An SNMPv2c trap: sysUpTime.0, snmpTrapOID.0, then a marker string.
fn v2c_trap(community: &str, request_id: i64, trap_oid: &str, marker: &str) -> Vec<u8> {
    let varbinds = [
        varbind("1.3.6.1.2.1.1.3.0", tlv(0x43, &[100])),
        varbind("1.3.6.1.6.3.1.1.4.1.0", ber_oid(trap_oid)),
        varbind(MARKER, tlv(0x04, marker.as_bytes())),
    ]
    .concat();
    let pdu = tlv(
        0xa7,
        &[
            ber_int(request_id),
            ber_int(0),
            ber_int(0),
            tlv(0x30, &varbinds),
        ]
        .concat(),
    );
    tlv(
        0x30,
        &[ber_int(1), tlv(0x04, community.as_bytes()), pdu].concat(),
    )
}

/// An SNMPv1 trap carrying `agent_addr`: RFC 1628 `upsTraps` enterprise,
/// specific trap 1 (on battery), and a marker string.
fn v1_trap(community: &str, agent_addr: [u8; 4], marker: &str) -> Vec<u8> {
    let varbinds = varbind(MARKER, tlv(0x04, marker.as_bytes()));
    let pdu = tlv(
        0xa4,
        &[
            ber_oid("1.3.6.1.2.1.33.2"),
            tlv(0x40, &agent_addr),
            ber_int(6),
            ber_int(1),
            tlv(0x43, &[100]),
            tlv(0x30, &varbinds),
        ]
        .concat(),
    );
    tlv(
        0x30,
        &[ber_int(0), tlv(0x04, community.as_bytes()), pdu].concat(),
    )
}

/// The marker string an event carries (see [`v2c_trap`]).
fn marker_of(payload: &str) -> Option<String> {
    let event: Json = serde_json::from_str(payload).ok()?;
    event["varbinds"]
        .as_array()?
        .iter()
        .find(|v| v["oid"] == MARKER)
        .and_then(|v| v["value"].as_str().map(str::to_string))
}

/// Publishes one message with `mosquitto_pub` (payload from stdin: `-s`).
fn publish(broker: &Mosquitto, topic: &str, payload: &[u8], retain: bool) {
    let mut args = vec![
        "-h".to_string(),
        "127.0.0.1".to_string(),
        "-p".to_string(),
        broker.port().to_string(),
        "-q".to_string(),
        "1".to_string(),
        "-t".to_string(),
        topic.to_string(),
    ];
    args.push(if payload.is_empty() { "-n" } else { "-s" }.to_string());
    if retain {
        args.push("-r".to_string());
    }
    let mut child = Command::new("mosquitto_pub")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto_pub");
    child.stdin.take().unwrap().write_all(payload).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "mosquitto_pub {topic} failed");
}

fn bridge_health(broker: &Mosquitto, gateway: &Gateway, ok: impl Fn(&Json) -> bool) -> Json {
    json(&wait_retained(
        broker,
        "ups2mqtt/bridge/health",
        |p| ok(&json(p)),
        gateway,
    ))
}

/// A small xorshift generator seeded from the clock (the seed is printed).
struct Random(u64);

impl Random {
    fn new() -> Random {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("random seed {seed}");
        Random(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Lines of the broker log saying the gateway connected.
fn gateway_connects(broker: &Mosquitto) -> usize {
    broker
        .log()
        .lines()
        .filter(|l| l.contains("New client connected") && l.contains("ups2mqtt-gwtest"))
        .count()
}

/// Sends commands until one is answered on `response` (the gateway may
/// still be reconnecting); the time it took, or `None` after `limit`.
fn answered_within(broker: &Mosquitto, ups: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let responses = Subscriber::start(broker.port(), &format!("ups2mqtt/{ups}/response"));
    while start.elapsed() < limit {
        publish(
            broker,
            &format!("ups2mqtt/{ups}/command"),
            b"no.such.command",
            false,
        );
        if responses
            .wait_message(|_| true, Duration::from_millis(500))
            .is_some()
        {
            return Some(start.elapsed());
        }
    }
    None
}

// ------------------------------------------------------------------ tests

/// Issue 17, 1: a broker killed at random points of the gateway's replay
/// of its retained state (20 rounds); every round ends with commands
/// answered.
#[test]
fn a_broker_flapping_during_replay_never_leaves_the_gateway_deaf() {
    let mut broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let gateway = Gateway::start(&broker, &[("rack1", &sim)]);
    wait_retained(
        &broker,
        "homeassistant/device/gwtest_rack1/config",
        |_| true,
        &gateway,
    );
    let mut random = Random::new();
    let (mut answered, mut slowest) = (0, Duration::ZERO);
    let started = Instant::now();
    for round in 0..20 {
        let connects = gateway_connects(&broker);
        broker.restart();
        // The gateway reconnects and replays (~200 kB): kill the broker
        // somewhere in there.
        let deadline = Instant::now() + Duration::from_secs(4);
        while gateway_connects(&broker) == connects && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(random.below(40)));
        broker.restart();
        match answered_within(&broker, "rack1", Duration::from_secs(4)) {
            Some(took) => {
                answered += 1;
                slowest = slowest.max(took);
            }
            None => eprintln!("round {round}: no answer within 4 s"),
        }
    }
    eprintln!(
        "flapping broker: {answered}/20 rounds answered, slowest answer {slowest:?}, total {:?}",
        started.elapsed()
    );
    assert_eq!(answered, 20, "gateway log:\n{}", gateway.log());
    assert!(
        !gateway.log().contains("subscribe failed"),
        "{}",
        gateway.log()
    );
}

/// Issue 17, 2: oversize messages on command topics are read, discarded,
/// counted and answered; the session never drops (retained or not), and
/// no response echoes more than a short prefix.
#[test]
fn oversize_messages_are_discarded_answered_and_never_drop_the_session() {
    let broker = Mosquitto::start();
    let toml = ups_toml("rack1", "127.0.0.1", free_udp_port(), "");
    let gateway = Gateway::start_with(&broker, &toml, "");
    gateway.wait_online(&broker);
    let responses = Subscriber::start(broker.port(), "ups2mqtt/rack1/response");
    let huge = vec![b'x'; 1_500_000];
    publish(&broker, "ups2mqtt/rack1/command", &huge, false);
    let first = responses.wait_message(|_| true, Duration::from_secs(5));
    // 200 kB that the old code echoed escaped (x6) into its error.
    let quotes = format!("{{\"command\":\"{}\"}}", "\\u0001".repeat(200_000 / 6));
    publish(&broker, "ups2mqtt/rack1/request", quotes.as_bytes(), false);
    let second = responses.wait_message(|_| true, Duration::from_secs(5));
    publish(&broker, "ups2mqtt/rack1/command", &huge, true);
    std::thread::sleep(Duration::from_secs(3));
    let connects = gateway_connects(&broker);
    let answered = answered_within(&broker, "rack1", Duration::from_secs(10));
    publish(&broker, "ups2mqtt/rack1/command", b"", true);
    let sizes: Vec<Option<usize>> = [&first, &second]
        .iter()
        .map(|m| m.as_ref().map(|m| m.payload.len()))
        .collect();
    eprintln!(
        "oversize: responses {sizes:?} bytes, gateway connects {connects}, valid command answered after {answered:?}"
    );
    if answered.is_none() {
        let log = broker.log();
        let tail: Vec<&str> = log.lines().rev().take(80).collect();
        eprintln!("broker log tail (newest first):\n{}", tail.join("\n"));
    }
    let health = bridge_health(&broker, &gateway, |h| {
        h["mqtt"]["incoming_oversize"].as_u64() >= Some(2)
    });
    eprintln!("bridge health: {}", health["mqtt"]);
    assert_eq!(connects, 1, "session dropped:\n{}", gateway.log());
    assert!(answered.is_some(), "deaf:\n{}", gateway.log());
    for (message, size) in [(&first, 1_500_000), (&second, quotes.len())] {
        let message = message.as_ref().expect("an oversize command is answered");
        assert!(
            message.payload.len() < 1024,
            "{size}-byte input answered with {} bytes",
            message.payload.len()
        );
        let response = json(&message.payload);
        assert_eq!(response["status"], "error", "{response}");
    }
    assert_eq!(json(&first.unwrap().payload)["kind"], "too_large");
}

/// Room at the broker for the test's own subscriber (mosquitto_sub) to fall
/// behind a burst of thousands of responses: past mosquitto's default of
/// 1,000 queued messages per client it drops deliveries *to the subscriber*
/// ("Outgoing messages are being dropped"), which a loaded machine showed as
/// responses missing although the gateway had published every one.
const SUBSCRIBER_QUEUE: &str = "max_queued_messages 100000";

/// Issue 17, 3: 300 traps in one burst publish 300 events; a burst of 2,000
/// requests gets an answer or a `busy` count for each and loses no trap
/// event sent meanwhile.
#[test]
fn bursts_of_traps_and_requests_lose_no_event_and_answer_every_request() {
    let broker = Mosquitto::start_with(SUBSCRIBER_QUEUE);
    let toml = ups_toml("rack1", "127.0.0.1", free_udp_port(), "");
    let gateway = Gateway::start_with(&broker, &toml, "");
    gateway.wait_online(&broker);
    let events = Subscriber::start_with(broker.port(), "ups2mqtt/rack1/event", &["-q", "1"]);
    let responses = Subscriber::start_with(broker.port(), "ups2mqtt/rack1/response", &["-q", "1"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = ("127.0.0.1", gateway.trap_port);
    let sent = Instant::now();
    for i in 0..300 {
        let trap = v2c_trap("public", i, ON_BATTERY, &format!("burst-{i}"));
        socket.send_to(&trap, target).unwrap();
    }
    let burst_took = sent.elapsed();
    let markers = |prefix: &str| -> BTreeSet<String> {
        events
            .messages()
            .iter()
            .filter_map(|m| marker_of(&m.payload))
            .filter(|m| m.starts_with(prefix))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while markers("burst-").len() < 300 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let burst_events = markers("burst-").len();
    eprintln!("300 traps in {burst_took:?}: {burst_events} events published");

    let requests: Vec<String> = (0..2000)
        .map(|i| format!("{{\"transaction\":{i},\"command\":\"no.such.command\"}}"))
        .collect();
    let publisher = {
        let port = broker.port();
        std::thread::spawn(move || {
            let broker_port = port;
            let mut child = Command::new("mosquitto_pub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &broker_port.to_string(),
                    "-q",
                    "1",
                    "-t",
                    "ups2mqtt/rack1/request",
                    "-l",
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("mosquitto_pub");
            let mut stdin = child.stdin.take().unwrap();
            for line in &requests {
                writeln!(stdin, "{line}").unwrap();
            }
            drop(stdin);
            child.wait().unwrap();
        })
    };
    for i in 0..10 {
        std::thread::sleep(Duration::from_millis(20));
        let trap = v2c_trap("public", 1000 + i, ON_BATTERY, &format!("during-{i}"));
        socket.send_to(&trap, target).unwrap();
    }
    publisher.join().unwrap();
    let transactions = || -> BTreeSet<i64> {
        responses
            .messages()
            .iter()
            .filter_map(|m| serde_json::from_str::<Json>(&m.payload).ok())
            .filter_map(|r| r["transaction"].as_i64())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let health = loop {
        let health = bridge_health(&broker, &gateway, |_| true);
        let shed = health["mqtt"]["commands_shed"].as_u64().unwrap_or(0) as usize;
        let done = transactions().len() + shed >= 2000 && markers("during-").len() == 10;
        if done || Instant::now() > deadline {
            break health;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let answered = transactions().len();
    let busy = responses
        .messages()
        .iter()
        .filter(|m| m.payload.contains("\"kind\":\"busy\""))
        .count();
    let during = markers("during-").len();
    eprintln!(
        "2000 requests: {answered} answered ({busy} of them busy), bridge health mqtt {}; {during}/10 trap events during the burst",
        health["mqtt"]
    );
    assert_eq!(burst_events, 300, "gateway log:\n{}", gateway.log());
    let shed = health["mqtt"]["commands_shed"].as_u64().unwrap_or(0) as usize;
    assert!(
        answered + shed >= 2000,
        "{answered} answered + {shed} shed < 2000"
    );
    assert_eq!(during, 10);
    assert_eq!(health["mqtt"]["events_dropped"], 0, "{health}");
}

/// Sizes of the event PUBLISHes the broker received from the gateway, in
/// its log (across restarts).
fn event_sizes_received(broker: &Mosquitto) -> BTreeSet<usize> {
    broker
        .log()
        .lines()
        .filter(|l| {
            l.contains("Received PUBLISH from ups2mqtt-gwtest")
                && l.contains("'ups2mqtt/rack1/event'")
        })
        .filter_map(|l| {
            let (_, tail) = l.rsplit_once("... (")?;
            tail.strip_suffix(" bytes))")?.parse().ok()
        })
        .collect()
}

/// Issue 17, 4: 80 traps sent across a broker crash all reach the broker
/// (kept until PUBACK, sent again after the reconnect), and the gateway is
/// back within a second of the broker. Trap `i` carries a marker of `i + 1`
/// bytes, so the broker's log tells by the event sizes which arrived.
#[test]
fn no_event_is_lost_across_a_broker_crash_and_reconnect_is_prompt() {
    let mut broker = Mosquitto::start();
    let toml = ups_toml("rack1", "127.0.0.1", free_udp_port(), "");
    let gateway = Gateway::start_with(&broker, &toml, "");
    gateway.wait_online(&broker);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = ("127.0.0.1", gateway.trap_port);
    let send = |i: usize| {
        let trap = v2c_trap("public", i as i64, ON_BATTERY, &"c".repeat(i + 1));
        socket.send_to(&trap, target).unwrap();
    };
    for i in 0..40 {
        send(i);
        std::thread::sleep(Duration::from_millis(2));
    }
    // Crash right in the middle of the stream: some events are in flight.
    broker.stop();
    for i in 40..80 {
        send(i);
        std::thread::sleep(Duration::from_millis(5));
    }
    // Down long enough for a naive backoff to grow.
    std::thread::sleep(Duration::from_secs(4));
    let connects_before = gateway_connects(&broker);
    broker.restart();
    let up = Instant::now();
    let reconnect = loop {
        if gateway_connects(&broker) > connects_before {
            break Some(up.elapsed());
        }
        if up.elapsed() > Duration::from_secs(20) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let sizes = loop {
        let sizes = event_sizes_received(&broker);
        if sizes.len() >= 80 || Instant::now() > deadline {
            break sizes;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let smallest = sizes.first().copied().unwrap_or(0);
    let missing: Vec<usize> = (0..80)
        .filter(|i| !sizes.contains(&(smallest + i)))
        .collect();
    eprintln!(
        "broker crash: {}/80 events reached the broker (missing traps {missing:?}); reconnect {reconnect:?} after the broker was back",
        80 - missing.len()
    );
    let reconnect = reconnect.expect("the gateway never reconnected");
    assert!(
        reconnect < Duration::from_secs(3),
        "reconnect took {reconnect:?}"
    );
    assert!(missing.is_empty(), "gateway log:\n{}", gateway.log());
}

/// Retained topics of one UPS published by `gateway` (its state and its
/// Home Assistant device).
fn ups_topics(broker: &Mosquitto, gateway: &str, ups: &str) -> BTreeSet<String> {
    support::retained(broker.port(), "#", Duration::from_secs(2))
        .into_iter()
        .map(|(topic, _)| topic)
        .filter(|t| {
            t.starts_with(&format!("ups2mqtt/{ups}/"))
                || *t == format!("homeassistant/device/{gateway}_{ups}/config")
        })
        .collect()
}

/// Issue 17, 7: two gateways on one broker, same base topic, distinct UPS
/// ids; each is restarted twice and nothing the other published goes away.
#[test]
fn two_gateways_on_one_broker_never_remove_each_others_upses() {
    let broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let start = |id: &str, ups: &str| {
        let toml = ups_toml(ups, "127.0.0.1", sim.port(), "");
        let gateway = Gateway::start_named(&broker, id, &toml);
        wait_retained(
            &broker,
            &format!("homeassistant/device/{id}_{ups}/config"),
            |_| true,
            &gateway,
        );
        wait_retained(
            &broker,
            &format!("ups2mqtt/{ups}/battery"),
            |_| true,
            &gateway,
        );
        gateway
    };
    let mut alpha = start("alpha", "a1");
    let alpha_topics = ups_topics(&broker, "alpha", "a1");
    assert!(alpha_topics.len() > 5, "{alpha_topics:?}");
    let mut beta = start("beta", "b1");
    std::thread::sleep(Duration::from_secs(2));
    let beta_topics = ups_topics(&broker, "beta", "b1");
    let gone: Vec<String> = alpha_topics
        .difference(&ups_topics(&broker, "alpha", "a1"))
        .cloned()
        .collect();
    eprintln!(
        "beta start: {} of alpha's {} topics gone {gone:?}",
        gone.len(),
        alpha_topics.len()
    );
    let mut lost = gone;
    for (restarted, round) in [("beta", 1), ("beta", 2), ("alpha", 1), ("alpha", 2)] {
        let stop = |gateway: &mut Gateway| {
            assert!(gateway.terminate().success());
            // Issue 17, 8: a clean stop is not a lost connection.
            let log = gateway.log();
            assert!(!log.contains("MQTT connection lost"), "{log}");
        };
        let (other, other_ups, other_topics) = if restarted == "beta" {
            stop(&mut beta);
            beta = start("beta", "b1");
            ("alpha", "a1", &alpha_topics)
        } else {
            stop(&mut alpha);
            alpha = start("alpha", "a1");
            ("beta", "b1", &beta_topics)
        };
        // Give ghost removal (on the retained messages at subscribe) time.
        std::thread::sleep(Duration::from_secs(2));
        let now = ups_topics(&broker, other, other_ups);
        let gone: Vec<&String> = other_topics.difference(&now).collect();
        eprintln!(
            "{restarted} restart {round}: {} of {other}'s {} topics gone {gone:?}",
            gone.len(),
            other_topics.len()
        );
        lost.extend(gone.into_iter().cloned());
    }
    assert!(
        lost.is_empty(),
        "lost {lost:?}\nalpha:\n{}\nbeta:\n{}",
        alpha.log(),
        beta.log()
    );
}

/// Issue 17, 6: UPSes sharing an address (NAT, a proxy, cards on one host)
/// get the traps that name them: by v1 agent-addr in `trap_sources`, by
/// community; a trap naming none of them apart is dropped and counted,
/// never credited to the wrong UPS.
#[test]
fn traps_on_a_shared_address_go_to_the_ups_they_name() {
    let broker = Mosquitto::start();
    let dead = || free_udp_port();
    let toml = [
        ups_toml(
            "a1",
            "127.0.0.1",
            dead(),
            "trap_community = \"ca\"\ntrap_sources = [\"10.0.0.1\"]",
        ),
        ups_toml(
            "b1",
            "127.0.0.1",
            dead(),
            "trap_community = \"ca\"\ntrap_sources = [\"10.0.0.2\"]",
        ),
        ups_toml("c1", "127.0.0.1", dead(), "trap_community = \"cc\""),
        ups_toml("d1", "127.0.0.1", dead(), "trap_community = \"cd\""),
    ]
    .concat();
    let gateway = Gateway::start_with(&broker, &toml, "");
    gateway.wait_online(&broker);
    let events = Subscriber::start_with(broker.port(), "ups2mqtt/+/event", &["-q", "1"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = ("127.0.0.1", gateway.trap_port);
    for trap in [
        v1_trap("ca", [10, 0, 0, 2], "to-b1"),
        v1_trap("ca", [10, 0, 0, 1], "to-a1"),
        v2c_trap("cd", 1, ON_BATTERY, "to-d1"),
        v2c_trap("cc", 2, ON_BATTERY, "to-c1"),
        // Community "ca" alone names a1 and b1 both.
        v2c_trap("ca", 3, ON_BATTERY, "to-nobody"),
    ] {
        socket.send_to(&trap, target).unwrap();
    }
    let health = bridge_health(&broker, &gateway, |h| {
        h["traps"]["received"].as_u64() >= Some(5)
    });
    std::thread::sleep(Duration::from_millis(500));
    let credited: BTreeSet<(String, String)> = events
        .messages()
        .iter()
        .filter_map(|m| {
            let ups = m.topic.strip_prefix("ups2mqtt/")?.strip_suffix("/event")?;
            Some((ups.to_string(), marker_of(&m.payload)?))
        })
        .collect();
    eprintln!(
        "shared address: events {credited:?}; dropped {}",
        health["traps"]["dropped"]
    );
    let expected: BTreeSet<(String, String)> = [
        ("a1", "to-a1"),
        ("b1", "to-b1"),
        ("c1", "to-c1"),
        ("d1", "to-d1"),
    ]
    .iter()
    .map(|(u, m)| (u.to_string(), m.to_string()))
    .collect();
    assert_eq!(credited, expected, "{}", gateway.log());
    assert_eq!(health["traps"]["dropped"]["ambiguous"], 1, "{health}");
}

/// Issue 17, 6: `check-config` refuses UPSes whose traps cannot be told
/// apart, naming both; a trap community or own `trap_sources` fixes it.
#[test]
fn check_config_refuses_upses_whose_traps_cannot_be_told_apart() {
    let dir = std::env::temp_dir().join(format!("ups2mqtt-ambiguous-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let check = |extra_a: &str, extra_b: &str| {
        let toml = format!(
            "[[ups]]\nid = \"left\"\nhost = \"192.0.2.7\"\nport = 161\n{extra_a}\n[[ups]]\nid = \"right\"\nhost = \"192.0.2.7\"\nport = 1161\n{extra_b}\n"
        );
        let path = dir.join("config.toml");
        std::fs::write(&path, toml).unwrap();
        Command::new(env!("CARGO_BIN_EXE_ups2mqtt"))
            .args(["check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap()
    };
    let refused = check("", "");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("\"left\"") && stderr.contains("\"right\"") && stderr.contains("192.0.2.7"),
        "{stderr}"
    );
    for (a, b) in [
        ("trap_community = \"l\"", ""),
        (
            "trap_sources = [\"10.1.0.1\"]",
            "trap_sources = [\"10.1.0.2\"]",
        ),
    ] {
        let fixed = check(a, b);
        assert!(
            fixed.status.success(),
            "{a} / {b}: {}",
            String::from_utf8_lossy(&fixed.stderr)
        );
    }
    // One own address is not enough: the other card's traps name no one.
    let half = check("trap_sources = [\"10.1.0.1\"]", "");
    assert!(!half.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The gateway's resident set size in kB (`VmRSS`).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Home Assistant discovery messages the broker received from the
/// gateway so far (its log, across restarts).
fn discovery_publishes(broker: &Mosquitto) -> usize {
    broker
        .log()
        .lines()
        .filter(|l| {
            l.contains("Received PUBLISH from ups2mqtt-gwtest")
                && l.contains("'homeassistant/device/")
        })
        .count()
}

/// CPU time the process used so far, in clock ticks (user + system).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name in parentheses: state is field 3; utime and
    // stime are fields 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    field(14).unwrap_or(0) + field(15).unwrap_or(0)
}

/// `n` consecutive free UDP ports on loopback (the simulator's agents).
fn consecutive_udp_ports(n: u16) -> u16 {
    (0..200)
        .map(|_| free_udp_port())
        .find(|&p| p < 60_000 && (1..n).all(|i| UdpSocket::bind(("127.0.0.1", p + i)).is_ok()))
        .expect("consecutive free ports")
}

/// Issue 17, 3: 50 UPSes (simulated cards) polled every second while
/// traps arrive for all of them without pause (each card sending from an
/// address of its own, in its `trap_sources`): every trap is received,
/// delivered and published as its UPS's event, no event is dropped, and
/// the gateway never logs that it dropped trap effects or was busy.
/// `UPS2MQTT_SOAK_SECS` lengthens it (default 60 s; 600 for the
/// 10-minute soak of the issue), `UPS2MQTT_SOAK_RATE` sets the traps a
/// second (default 50: one a second for each UPS), `UPS2MQTT_SOAK_KEEP`
/// keeps the gateway's and the broker's logs.
#[test]
fn fifty_upses_with_continuous_traps_lose_no_event() {
    const UPSES: u16 = 50;
    let seconds: u64 = std::env::var("UPS2MQTT_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    // Traps a second, to all UPSes in turn (one a second each by default).
    let rate: u64 = std::env::var("UPS2MQTT_SOAK_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let broker = Mosquitto::start();
    let base = consecutive_udp_ports(UPSES);
    let listen = format!("127.0.0.1:{base}");
    let _sim = support::sim::Sim::start(&["--listen", &listen, "--agents", &UPSES.to_string()]);
    let card_address = |i: u16| format!("127.0.1.{}", i + 1);
    let toml: String = (0..UPSES)
        .map(|i| {
            let sources = format!("trap_sources = [\"{}\"]", card_address(i));
            ups_toml(&format!("u{i}"), "127.0.0.1", base + i, &sources)
        })
        .collect();
    // Logging as a user runs it: debug logs of 50 UPSes polled every
    // second would be most of the gateway's work.
    let gateway = Gateway::start_logging(&broker, &toml, "", "info");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let online = support::retained(
            broker.port(),
            "ups2mqtt/+/availability",
            Duration::from_secs(2),
        )
        .iter()
        .filter(|(_, p)| p == "online")
        .count();
        if online == UPSES as usize {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{online}/{UPSES} online\n{}",
            gateway.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let events = Subscriber::start_with(broker.port(), "ups2mqtt/+/event", &["-q", "1"]);
    let rss_start = rss_kib(gateway.pid());
    let cpu_start = cpu_ticks(gateway.pid());
    let discovery_start = discovery_publishes(&broker);
    let sockets: Vec<UdpSocket> = (0..UPSES)
        .map(|i| UdpSocket::bind((card_address(i).as_str(), 0)).expect("a loopback address"))
        .collect();
    let target = ("127.0.0.1", gateway.trap_port);
    // Alternating upsTrapOnBattery and upsTrapTestCompleted (RFC 1628
    // upsTraps 1 and 2): each a re-poll (and a fact) for its UPS task.
    let kinds = [ON_BATTERY, "1.3.6.1.2.1.33.2.2"];
    let started = Instant::now();
    let mut sent = 0usize;
    // Events sent but not yet at the subscriber, sampled every second.
    let mut backlog = 0usize;
    while started.elapsed() < Duration::from_secs(seconds) {
        if sent % 50 == 0 {
            backlog = backlog.max(sent.saturating_sub(events.count()));
        }
        let ups = (sent % UPSES as usize) as u16;
        let trap = v2c_trap(
            "public",
            sent as i64,
            kinds[(sent / UPSES as usize) % 2],
            &format!("u{ups}-{sent}"),
        );
        sockets[ups as usize].send_to(&trap, target).unwrap();
        sent += 1;
        let due = started + Duration::from_micros(1_000_000 * sent as u64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let credited = || -> usize {
        events
            .messages()
            .iter()
            .filter(|m| {
                let ups = m
                    .topic
                    .trim_start_matches("ups2mqtt/")
                    .trim_end_matches("/event");
                marker_of(&m.payload).is_some_and(|k| k.split('-').next() == Some(ups))
            })
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let health = loop {
        // Published every 2 s: the latest, whatever it says.
        let health = bridge_health(&broker, &gateway, |_| true);
        let counted = health["traps"]["received"].as_u64() >= Some(sent as u64);
        if (counted && credited() >= sent) || Instant::now() > deadline {
            break health;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let rss_end = rss_kib(gateway.pid());
    let cpu = (cpu_ticks(gateway.pid()) - cpu_start) as f64 / 100.0;
    let rediscovered = discovery_publishes(&broker) - discovery_start;
    let delivered = credited();
    let distinct: BTreeSet<String> = events
        .messages()
        .iter()
        .filter_map(|m| marker_of(&m.payload))
        .collect();
    let log = gateway.log();
    let complaints: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("trap effects dropped")
                || l.contains("UPS task busy")
                || (l.contains("WARN") && l.contains("dropped"))
        })
        .collect();
    eprintln!(
        "soak {seconds} s, {UPSES} UPSes at 1 s polls, {rate} traps/s: {sent} traps sent, {} received, {} delivered, {delivered} events published to the right UPS ({} distinct), events_dropped {}, traps dropped {}, largest event backlog {backlog}, RSS {rss_start} kB -> {rss_end} kB, gateway CPU {cpu:.1} s, {rediscovered} discovery publishes, {} warnings about drops",
        health["traps"]["received"],
        health["traps"]["delivered"],
        distinct.len(),
        health["mqtt"]["events_dropped"],
        health["traps"]["dropped"],
        complaints.len()
    );
    let lost = health["mqtt"]["events_dropped"] != 0 || delivered != sent || !complaints.is_empty();
    if lost || std::env::var_os("UPS2MQTT_SOAK_KEEP").is_some() {
        let kept = std::env::temp_dir().join(format!("ups2mqtt-soak-{}.log", std::process::id()));
        std::fs::write(&kept, &log).unwrap();
        std::fs::write(kept.with_extension("broker.log"), broker.log()).unwrap();
        eprintln!("gateway log kept in {}", kept.display());
    }
    assert_eq!(health["mqtt"]["events_dropped"], 0, "{health}");
    assert_eq!(health["traps"]["delivered"], sent as u64, "{health}");
    assert_eq!(distinct.len(), sent, "every trap's event, once each");
    assert_eq!(delivered, sent, "every event on its UPS's topic");
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
}

/// Issue 17, 6: two gateways on one base topic configured with the same
/// UPS id cannot both own its topics: the one that sees the other's owner
/// record logs an error naming the UPS and the other gateway (README,
/// "Scaling out"), and neither treats the other's UPS as a ghost.
#[test]
fn the_same_ups_id_on_two_gateways_is_reported_naming_both() {
    let broker = Mosquitto::start();
    let toml = ups_toml("same", "127.0.0.1", free_udp_port(), "");
    let alpha = Gateway::start_named(&broker, "alpha", &toml);
    wait_retained(&broker, "ups2mqtt/same/gateway", |p| p == "alpha", &alpha);
    let beta = Gateway::start_named(&broker, "beta", &toml);
    let deadline = Instant::now() + Duration::from_secs(15);
    let reported = |log: &str| {
        log.lines().any(|l| {
            l.contains("ERROR")
                && l.contains("also published by another gateway")
                && l.contains("same")
                && l.contains("alpha")
        })
    };
    while !reported(&beta.log()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("same UPS id: beta reported it: {}", reported(&beta.log()));
    assert!(reported(&beta.log()), "beta:\n{}", beta.log());
    for log in [alpha.log(), beta.log()] {
        assert!(!log.contains("no longer configured"), "{log}");
    }
}

/// Issue 17, 3: requests at 1,000 a second for 3 s (with trap events
/// meanwhile): each of the 3,000 is answered or counted as shed, and no
/// event is dropped.
#[test]
fn a_sustained_request_rate_is_answered_or_counted_and_loses_no_event() {
    let broker = Mosquitto::start_with(SUBSCRIBER_QUEUE);
    let toml = ups_toml("rack1", "127.0.0.1", free_udp_port(), "");
    let gateway = Gateway::start_with(&broker, &toml, "");
    gateway.wait_online(&broker);
    let events = Subscriber::start_with(broker.port(), "ups2mqtt/rack1/event", &["-q", "1"]);
    let responses = Subscriber::start_with(broker.port(), "ups2mqtt/rack1/response", &["-q", "1"]);
    let mut publisher = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &broker.port().to_string()])
        .args(["-q", "1", "-t", "ups2mqtt/rack1/request", "-l"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto_pub");
    let mut stdin = publisher.stdin.take().unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = Instant::now();
    for i in 0..3000u64 {
        writeln!(
            stdin,
            "{{\"transaction\":{i},\"command\":\"no.such.command\"}}"
        )
        .unwrap();
        if i % 100 == 0 {
            let trap = v2c_trap("public", i as i64, ON_BATTERY, &format!("rate-{i}"));
            socket
                .send_to(&trap, ("127.0.0.1", gateway.trap_port))
                .unwrap();
        }
        let due = started + Duration::from_millis(i + 1);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    drop(stdin);
    publisher.wait().unwrap();
    let took = started.elapsed();
    let answered = || -> BTreeSet<i64> {
        responses
            .messages()
            .iter()
            .filter_map(|m| serde_json::from_str::<Json>(&m.payload).ok())
            .filter_map(|r| r["transaction"].as_i64())
            .collect()
    };
    let delivered = || {
        events
            .messages()
            .iter()
            .filter_map(|m| marker_of(&m.payload))
            .filter(|m| m.starts_with("rate-"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let health = loop {
        let health = bridge_health(&broker, &gateway, |_| true);
        let shed = health["mqtt"]["commands_shed"].as_u64().unwrap_or(0) as usize;
        if (answered().len() + shed >= 3000 && delivered() == 30) || Instant::now() > deadline {
            break health;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let shed = health["mqtt"]["commands_shed"].as_u64().unwrap_or(0) as usize;
    eprintln!(
        "3000 requests in {took:?}: {} answered, {shed} shed; {}/30 trap events; bridge health mqtt {}",
        answered().len(),
        delivered(),
        health["mqtt"]
    );
    assert!(answered().len() + shed >= 3000, "{health}");
    assert_eq!(delivered(), 30);
    assert_eq!(health["mqtt"]["events_dropped"], 0, "{health}");
}

/// Sends `signal` (`STOP`, `CONT`) to a process.
fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Rendered payloads (a UPS's Home Assistant discovery: hundreds of kB
/// each) are built only while fewer than two wait for their PUBACK: with
/// the broker frozen (SIGSTOP: it reads nothing and acknowledges nothing),
/// ten dirty rendered topics are not all built into rumqttc's channel and
/// inflight window; once it runs again every one arrives, retained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_payloads_wait_for_the_broker_two_at_a_time() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use ups2mqtt::mqtt::{Class, Mqtt};
    let broker = Mosquitto::start();
    let mut config = ups2mqtt::config::Config::default();
    config.mqtt.host = "127.0.0.1".into();
    config.mqtt.port = broker.port();
    // No start-up read of retained discovery configs: with it, a session
    // publishes nothing retained until that read is over (500 ms after
    // its SUBACK), and a broker frozen right after the connect holds the
    // read, so nothing would be rendered whatever the bound.
    config.mqtt.discovery = false;
    let naming = ups2mqtt::topics::Naming::new("gwtest", "ups2mqtt", "homeassistant");
    let (mqtt, _incoming) = Mqtt::start(&config, naming).unwrap();
    tokio::time::timeout(Duration::from_secs(10), mqtt.connected())
        .await
        .expect("connected to the broker");
    let pid = broker.pid().unwrap();
    signal(pid, "STOP");
    let rendered = Arc::new(AtomicUsize::new(0));
    const TOPICS: usize = 10;
    for i in 0..TOPICS {
        let count = rendered.clone();
        let render = move || {
            count.fetch_add(1, Ordering::SeqCst);
            format!("{i}:{}", "x".repeat(100_000))
        };
        mqtt.set_rendered(
            Class::Discovery,
            &format!("test/rendered/{i}"),
            Arc::new(render),
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let while_frozen = rendered.load(Ordering::SeqCst);
    signal(pid, "CONT");
    let deadline = Instant::now() + Duration::from_secs(20);
    let arrived = loop {
        let arrived = tokio::task::spawn_blocking({
            let port = broker.port();
            move || support::retained(port, "test/rendered/#", Duration::from_secs(2))
        })
        .await
        .unwrap();
        if arrived.len() == TOPICS || Instant::now() > deadline {
            break arrived;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("rendered while the broker was frozen: {while_frozen} of {TOPICS}");
    assert!(
        (1..=2).contains(&while_frozen),
        "{while_frozen} payloads rendered for a frozen broker"
    );
    assert_eq!(
        arrived.len(),
        TOPICS,
        "{:?}",
        arrived.iter().map(|a| &a.0).collect::<Vec<_>>()
    );
    for (topic, payload) in arrived {
        let i = topic.rsplit('/').next().unwrap();
        assert!(
            payload.starts_with(&format!("{i}:")) && payload.len() > 100_000,
            "{topic}"
        );
    }
}
