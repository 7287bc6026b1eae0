//! Self-test of the test-peer harness (`tests/support`) against the real programs: snmpsim and
//! net-snmp, mosquitto and mosquitto-clients. Needs `bash .ci/run` once (or the same packages
//! and `UPS2MQTT_SNMPSIM`).

mod support;

use std::collections::HashSet;
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::{Mosquitto, Snmpsim, Subscriber};

const SECS: Duration = Duration::from_secs(5);

/// Run a net-snmp tool against the agent (v2c, community public, no retries).
fn snmp(tool: &str, agent: &Snmpsim, args: &[&str]) -> Output {
    let out = support::net_snmp(tool)
        .args(["-v2c", "-c", "public", "-r", "0", "-t", "2", "-On"])
        .args(args_before_agent(args))
        .arg(agent.addr().to_string())
        .args(args_after_agent(args))
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Options (`-C…`, `-O…`) go before the agent address, OIDs and values after it.
fn args_before_agent<'a>(args: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    args.iter().copied().filter(|a| a.starts_with('-'))
}

fn args_after_agent<'a>(args: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    args.iter().copied().filter(|a| !a.starts_with('-'))
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// OIDs of the walk fixture strictly under `prefix`.
fn fixture_oids_under(walk: &str, prefix: &str) -> usize {
    let text = std::fs::read_to_string(support::walk_path(walk)).unwrap();
    let dotted = format!("{prefix}.");
    text.lines().filter(|l| l.starts_with(&dotted)).count()
}

fn mosquitto_pub(port: u16, args: &[&str]) {
    let status = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .status()
        .expect("run mosquitto_pub");
    assert!(status.success(), "mosquitto_pub {args:?}: {status}");
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Bind, retrying for up to 1 s: a child another test thread forks at the moment `free_*_port`
/// holds its probe socket keeps a copy of it until it execs.
fn bindable<S>(mut bind: impl FnMut() -> std::io::Result<S>) -> bool {
    for _ in 0..50 {
        if bind().is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn free_ports_are_distinct_and_bindable() {
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let t = support::free_tcp_port();
        let u = support::free_udp_port();
        assert!(seen.insert(t), "tcp port {t} handed out twice");
        assert!(seen.insert(u), "udp port {u} handed out twice");
        assert!(
            bindable(|| std::net::TcpListener::bind(("127.0.0.1", t))),
            "tcp port {t} busy"
        );
        assert!(
            bindable(|| UdpSocket::bind(("127.0.0.1", u))),
            "udp port {u} busy"
        );
    }
}

#[test]
fn snmpsim_serves_the_9pxle_walk() {
    let agent = Snmpsim::start("eaton-mgeups_9pxle");
    assert_eq!(agent.addr().ip().to_string(), "127.0.0.1");
    assert_eq!(agent.addr().port(), agent.port());
    assert_eq!(agent.community(), "public");

    // upsmgIdentFamilyName.0 and sysDescr.0, as recorded.
    let out = snmp(
        "snmpget",
        &agent,
        &["-Oqv", "1.3.6.1.4.1.705.1.1.1.0", "1.3.6.1.2.1.1.1.0"],
    );
    assert_eq!(
        stdout_lines(&out),
        ["\"Eaton 9PX\"", "\"Eaton 9PX 1000i RT 2U\""]
    );

    // SNMPv1 too.
    let out = support::net_snmp("snmpget")
        .args(["-v1", "-c", "public", "-r", "0", "-On", "-Oqv"])
        .arg(agent.addr().to_string())
        .arg("1.3.6.1.4.1.705.1.1.1.0")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "\"Eaton 9PX\"");

    // An OID not in the walk.
    let out = snmp("snmpget", &agent, &["1.3.6.1.4.1.705.1.99.0"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No Such"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(agent.requests(), ["GET", "GET", "GET"], "{}", agent.log());

    // A wrong community is not answered, and not counted as a request.
    let out = support::net_snmp("snmpget")
        .args(["-v2c", "-c", "private", "-r", "0", "-t", "0.5"])
        .arg(agent.addr().to_string())
        .arg("1.3.6.1.4.1.705.1.1.1.0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Timeout"));
    assert_eq!(agent.request_count(), 3);
    assert_eq!(agent.dropped_count(), 1);
}

#[test]
fn snmpsim_counts_every_request_pdu() {
    const WALK: &str = "eaton-mgeups_9pxle";
    const IDENT: &str = "1.3.6.1.4.1.705.1.1"; // upsmgIdent
    const BATTERY: &str = "1.3.6.1.4.1.705.1.5"; // upsmgBattery
    let agent = Snmpsim::start(WALK);
    assert_eq!(agent.request_count(), 0, "readiness probes must not count");
    assert!(agent.requests().is_empty());

    // 2 GETs (one with 3 varbinds: still one PDU).
    snmp("snmpget", &agent, &["1.3.6.1.4.1.705.1.1.1.0"]);
    snmp(
        "snmpget",
        &agent,
        &[
            "1.3.6.1.4.1.705.1.1.1.0",
            "1.3.6.1.4.1.705.1.1.2.0",
            "1.3.6.1.2.1.1.1.0",
        ],
    );
    assert_eq!(agent.request_count(), 2);
    // 1 GETNEXT, 1 GETBULK of 10 repetitions.
    snmp("snmpgetnext", &agent, &[IDENT]);
    let out = snmp("snmpbulkget", &agent, &["-Cr10", IDENT]);
    assert_eq!(
        stdout_lines(&out).len(),
        10,
        "one GETBULK brings 10 varbinds"
    );
    assert_eq!(agent.requests(), ["GET", "GET", "GETNEXT", "GETBULK"]);

    // snmpwalk: one GETNEXT per object, plus the one that leaves the subtree.
    let n = fixture_oids_under(WALK, IDENT);
    assert!(n >= 3, "fixture has {n} objects under {IDENT}");
    let out = snmp("snmpwalk", &agent, &[IDENT]);
    assert_eq!(stdout_lines(&out).len(), n);
    assert_eq!(agent.request_count(), 4 + n + 1);

    // snmpbulkwalk with 5 repetitions: m objects take m/5 + 1 GETBULKs.
    let m = fixture_oids_under(WALK, BATTERY);
    assert!(m >= 5, "fixture has {m} objects under {BATTERY}");
    let out = snmp("snmpbulkwalk", &agent, &["-Cr5", BATTERY]);
    assert_eq!(stdout_lines(&out).len(), m);
    assert_eq!(agent.request_count(), 4 + n + 1 + m / 5 + 1);

    // A SET (refused: the walk is read-only) is a request too.
    let out = support::net_snmp("snmpset")
        .args(["-v2c", "-c", "public", "-r", "0"])
        .arg(agent.addr().to_string())
        .args(["1.3.6.1.4.1.705.1.1.1.0", "s", "x"])
        .output()
        .unwrap();
    assert!(
        !out.stdout.is_empty() || !out.stderr.is_empty(),
        "snmpset got an answer"
    );

    let kinds = agent.requests();
    assert_eq!(kinds.len(), 4 + n + 1 + m / 5 + 1 + 1, "{kinds:?}");
    assert_eq!(agent.request_count_of("GET"), 2);
    assert_eq!(agent.request_count_of("GETNEXT"), 1 + n + 1);
    assert_eq!(agent.request_count_of("GETBULK"), 1 + m / 5 + 1);
    assert_eq!(agent.request_count_of("SET"), 1);
    assert_eq!(kinds.last().map(String::as_str), Some("SET"));
    assert_eq!(agent.dropped_count(), 0);

    // reset_requests starts over.
    agent.reset_requests();
    assert_eq!(agent.request_count(), 0);
    snmp("snmpget", &agent, &["1.3.6.1.2.1.1.1.0"]);
    assert_eq!(agent.requests(), ["GET"]);
}

#[test]
fn snmpsim_agents_run_side_by_side_and_die_on_drop() {
    let apc = Snmpsim::start("apc_smx750i");
    let cs141 = Snmpsim::start("generex-ups_cs141");
    assert_ne!(apc.port(), cs141.port());
    // Each serves its own walk: upsIdentManufacturer.0 differs, PowerNet only on the APC.
    let out = snmp("snmpget", &cs141, &["-Oqv", "1.3.6.1.2.1.33.1.1.1.0"]);
    assert_eq!(stdout_lines(&out), ["\"Multimatic\""]);
    let out = snmp("snmpget", &apc, &["-Oqv", "1.3.6.1.2.1.33.1.1.1.0"]);
    assert_eq!(stdout_lines(&out), ["\"APC\""]);
    // upsBasicIdentModel.0 (PowerNet-MIB).
    let out = snmp("snmpget", &apc, &["-Oqv", "1.3.6.1.4.1.318.1.1.1.1.1.1.0"]);
    assert_eq!(stdout_lines(&out), ["\"Smart-UPS X 750\""]);
    let out = snmp(
        "snmpget",
        &cs141,
        &["-Oqv", "1.3.6.1.4.1.318.1.1.1.1.1.1.0"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("No Such"));
    assert_eq!(apc.requests(), ["GET", "GET"]);
    assert_eq!(cs141.requests(), ["GET", "GET"]);

    let (pid_a, pid_b) = (apc.pid(), cs141.pid());
    assert!(process_exists(pid_a) && process_exists(pid_b));
    drop(apc);
    drop(cs141);
    assert!(!process_exists(pid_a), "snmpsim {pid_a} left behind");
    assert!(!process_exists(pid_b), "snmpsim {pid_b} left behind");
}

#[test]
fn mosquitto_retained_stop_and_restart_on_the_same_port() {
    let mut broker = Mosquitto::start();
    let port = broker.port();
    assert!(broker.is_running());
    TcpStream::connect(broker.addr()).expect("broker accepts connections");

    let sub = Subscriber::start(port, "selftest/#");
    assert_eq!(sub.port(), port);
    assert_eq!(sub.topic_filter(), "selftest/#");

    mosquitto_pub(port, &["-r", "-t", "selftest/state", "-m", "online"]);
    mosquitto_pub(
        port,
        &["-r", "-t", "selftest/multi", "-m", "line 1\nline 2"],
    );
    mosquitto_pub(port, &["-t", "selftest/empty", "-n"]); // not retained, empty payload
    mosquitto_pub(port, &["-t", "other/topic", "-m", "not for us"]);

    assert_eq!(
        sub.wait_for(|l| l.starts_with("selftest/state "), SECS)
            .as_deref(),
        Some("selftest/state online")
    );
    let multi = sub
        .wait_message(|m| m.topic == "selftest/multi", SECS)
        .expect("multi-line message");
    assert_eq!(multi.payload, "line 1\nline 2");
    assert!(!multi.retain, "a live message is not flagged retained");
    let empty = sub
        .wait_message(|m| m.topic == "selftest/empty", SECS)
        .expect("empty message");
    assert_eq!(empty.payload, "");
    assert_eq!(
        sub.wait_for(|_| true, Duration::from_millis(300)),
        None,
        "nothing more"
    );
    assert_eq!(sub.lines().len(), 3);

    let mut got = support::retained(port, "selftest/#", SECS);
    got.sort();
    assert_eq!(
        got,
        [
            ("selftest/multi".to_string(), "line 1\nline 2".to_string()),
            ("selftest/state".to_string(), "online".to_string()),
        ]
    );
    assert_eq!(support::retained(port, "selftest/state", SECS).len(), 1);
    assert!(support::retained(port, "nothing/#", Duration::from_secs(1)).is_empty());

    // Kill the broker (the subscriber is connected), it is gone.
    let pid = broker.pid().unwrap();
    broker.stop();
    assert!(!broker.is_running());
    assert_eq!(broker.pid(), None);
    assert!(!process_exists(pid), "mosquitto {pid} left behind");
    let down = std::panic::catch_unwind(|| support::retained(port, "#", Duration::from_secs(1)));
    assert!(
        down.is_err(),
        "retained() must panic when the broker is down"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still answers"
    );

    // Back on the same port, empty (no persistence); the subscriber comes back by itself.
    broker.restart();
    assert_eq!(broker.port(), port);
    assert!(broker.is_running());
    TcpStream::connect(("127.0.0.1", port)).expect("restarted broker accepts connections");
    assert!(support::retained(port, "selftest/#", Duration::from_secs(1)).is_empty());
    assert!(
        sub.wait_subscribed(2, Duration::from_secs(15)),
        "mosquitto_sub did not resubscribe; broker log:\n{}",
        broker.log()
    );
    mosquitto_pub(port, &["-r", "-t", "selftest/state", "-m", "online again"]);
    assert_eq!(
        sub.wait_for(|l| l.starts_with("selftest/state"), SECS)
            .as_deref(),
        Some("selftest/state online again")
    );
    assert_eq!(
        support::retained(port, "selftest/state", SECS),
        [("selftest/state".to_string(), "online again".to_string())]
    );
    assert!(
        broker
            .log()
            .contains(&format!("listen socket on port {port}"))
    );

    let pid = broker.pid().unwrap();
    drop(sub);
    drop(broker);
    assert!(!process_exists(pid), "mosquitto {pid} left behind");
}
