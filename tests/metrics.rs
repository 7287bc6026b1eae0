//! Prometheus metrics against a real Prometheus (Debian's `prometheus`):
//! it scrapes `ups2mqtt run` on loopback, and PromQL through its HTTP API
//! must return what the simulated card was told (the battery charge, a
//! phase's voltage), the status flag a mains failure sets, and the trap
//! the card sent; `promtool check metrics` finds nothing to say about the
//! exposition. The gateway's own metrics: the SNMP round-trip histogram
//! (cumulative buckets, `+Inf` equal to the count), commands over MQTT
//! counted by the outcome their response reports, NUT clients connected.
//! Also: /healthz follows the broker, 404 elsewhere, and a client that
//! never sends its request does not stop a scrape.

mod support;

use serde_json::Value as Json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::gateway::{Gateway, WAIT, ups_toml, wait_retained};
use support::sim::Sim;
use support::{Mosquitto, Subscriber, free_tcp_port, free_udp_port};

/// One HTTP/1.0 GET on loopback: (status code, body).
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, body.to_string())
}

/// Percent-encodes a PromQL query for a URL.
fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A Prometheus server on loopback scraping one target every second.
struct Prometheus {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Prometheus {
    fn start(target_port: u16) -> Prometheus {
        let port = free_tcp_port();
        let dir = std::env::temp_dir().join(format!("ups2mqtt-prom-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: ups2mqtt\n    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("prometheus (Debian package `prometheus`; bash .ci/run installs it)");
        let prometheus = Prometheus { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() || get(port, "/-/ready").0 != 200 {
            assert!(
                Instant::now() < deadline,
                "prometheus not ready:\n{}",
                prometheus.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        prometheus
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    /// The instant vector of a PromQL query.
    fn query(&self, query: &str) -> Vec<Json> {
        let (status, body) = get(self.port, &format!("/api/v1/query?query={}", encode(query)));
        assert_eq!(status, 200, "{query}: {body}");
        let json: Json = serde_json::from_str(&body).unwrap();
        json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until `query` returns exactly one sample satisfying `ok`;
    /// returns its labels and value.
    fn wait_value(&self, query: &str, ok: impl Fn(f64) -> bool) -> (Json, f64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let result = self.query(query);
            if let [one] = result.as_slice() {
                let value: f64 = one["value"][1].as_str().unwrap().parse().unwrap();
                if ok(value) {
                    return (one["metric"].clone(), value);
                }
            }
            assert!(
                Instant::now() < deadline,
                "{query} never satisfied the condition: {result:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn prometheus_scrapes_readings_status_and_traps() {
    let mut broker = Mosquitto::start();
    let trap_port = free_udp_port();
    let mut sim = Sim::start(&[
        "--phases",
        "3",
        "--trap-sink",
        &format!("127.0.0.1:{trap_port}"),
    ]);
    assert!(sim.control("set battery.charge 57").starts_with("ok"));
    assert!(
        sim.control("set input.lines.2.voltage 207")
            .starts_with("ok")
    );
    let metrics_port = free_tcp_port();
    let nut_port = free_tcp_port();
    let gateway = Gateway::start_with(
        &broker,
        &ups_toml("rack1", "127.0.0.1", sim.port(), ""),
        &format!(
            "[traps]\nlisten = [\"127.0.0.1:{trap_port}\"]\n[metrics]\nenabled = true\nlisten = \"127.0.0.1:{metrics_port}\"\n[nut]\nenabled = true\nlisten = [\"127.0.0.1:{nut_port}\"]\n"
        ),
    );
    wait_retained(
        &broker,
        "ups2mqtt/rack1/availability",
        |p| p == "online",
        &gateway,
    );
    // A client that connects and says nothing holds one slot, not the endpoint.
    let _silent = TcpStream::connect(("127.0.0.1", metrics_port)).unwrap();
    let (status, exposition) = get(metrics_port, "/metrics");
    assert_eq!(status, 200, "{exposition}");
    assert_eq!(get(metrics_port, "/nope").0, 404);
    assert_eq!(get(metrics_port, "/healthz").0, 200);

    // promtool: the exposition parses and follows the naming rules.
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package `prometheus`)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        checked.status.success() && said.trim().is_empty(),
        "promtool check metrics: {said}"
    );

    let prometheus = Prometheus::start(metrics_port);
    // Two scrapes at least.
    prometheus.wait_value("count_over_time(up{job=\"ups2mqtt\"}[5m])", |n| n >= 2.0);
    prometheus.wait_value("up{job=\"ups2mqtt\"}", |v| v == 1.0);
    // Percentages are ratios: the card's 57 % is 0.57 (charging on from
    // there while on mains).
    prometheus.wait_value("ups2mqtt_battery_charge_ratio{ups=\"rack1\"}", |v| {
        (0.57..0.65).contains(&v)
    });
    let (labels, _) = prometheus.wait_value(
        "ups2mqtt_input_lines_voltage_volts{ups=\"rack1\",phase=\"2\"}",
        |v| v == 207.0,
    );
    assert_eq!(labels["phase"], "2");
    assert_eq!(
        prometheus
            .query("ups2mqtt_input_lines_voltage_volts{ups=\"rack1\"}")
            .len(),
        3,
        "one series per phase"
    );
    prometheus.wait_value("ups2mqtt_ups_status{ups=\"rack1\",flag=\"OL\"}", |v| {
        v == 1.0
    });
    prometheus.wait_value("ups2mqtt_ups_status{ups=\"rack1\",flag=\"OB\"}", |v| {
        v == 0.0
    });

    // SNMP round trips: a histogram per UPS with cumulative buckets.
    prometheus.wait_value(
        "ups2mqtt_snmp_request_duration_seconds_count{ups=\"rack1\"}",
        |n| n >= 1.0,
    );
    let buckets = prometheus.query("ups2mqtt_snmp_request_duration_seconds_bucket{ups=\"rack1\"}");
    let mut buckets: Vec<(f64, f64)> = buckets
        .iter()
        .map(|b| {
            let le = b["metric"]["le"].as_str().unwrap();
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            (le, b["value"][1].as_str().unwrap().parse().unwrap())
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.len() >= 10, "{buckets:?}");
    assert_eq!(buckets.last().unwrap().0, f64::INFINITY, "{buckets:?}");
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "buckets are cumulative: {buckets:?}"
    );
    // Evaluated at one instant: +Inf is the count.
    prometheus.wait_value(
        "ups2mqtt_snmp_request_duration_seconds_bucket{ups=\"rack1\",le=\"+Inf\"} - ignoring(le) ups2mqtt_snmp_request_duration_seconds_count{ups=\"rack1\"}",
        |d| d == 0.0,
    );
    // Loopback answers well within a second.
    prometheus.wait_value(
        "histogram_quantile(0.5, ups2mqtt_snmp_request_duration_seconds_bucket{ups=\"rack1\"})",
        |s| s > 0.0 && s < 1.0,
    );

    // Commands over MQTT, counted by the outcome their response reports.
    let responses = Subscriber::start(broker.port(), "ups2mqtt/rack1/response");
    let mut kinds = Vec::new();
    for (topic, payload) in [
        ("ups2mqtt/rack1/config/beeper/set", "muted"),
        ("ups2mqtt/rack1/command", "warp.drive"),
    ] {
        let sent = Command::new("mosquitto_pub")
            .args(["-p", &broker.port().to_string(), "-t", topic, "-m", payload])
            .status()
            .unwrap();
        assert!(sent.success());
        let response = responses
            .wait_message(|_| true, WAIT)
            .unwrap_or_else(|| panic!("no response to {payload}\n{}", gateway.log()));
        let response: Json = serde_json::from_str(&response.payload).unwrap();
        let outcome = match response["status"].as_str().unwrap() {
            "error" => response["kind"].as_str().unwrap().to_string(),
            status => status.to_string(),
        };
        kinds.push(outcome);
    }
    assert_eq!(kinds[0], "ok", "the beeper is writable: {kinds:?}");
    assert_ne!(kinds[1], "ok", "no such command: {kinds:?}");
    for outcome in &kinds {
        prometheus.wait_value(
            &format!("ups2mqtt_commands_total{{ups=\"rack1\",via=\"mqtt\",outcome=\"{outcome}\"}}"),
            |n| n == 1.0,
        );
    }
    prometheus.wait_value(
        "sum(ups2mqtt_commands_total{ups=\"rack1\",via=\"nut\"})",
        |n| n == 0.0,
    );
    prometheus.wait_value("ups2mqtt_mqtt_commands_busy_total", |n| n == 0.0);

    // A NUT client connected, then gone.
    prometheus.wait_value("ups2mqtt_nut_clients_connected", |n| n == 0.0);
    let nut_client = TcpStream::connect(("127.0.0.1", nut_port)).unwrap();
    prometheus.wait_value("ups2mqtt_nut_clients_connected", |n| n == 1.0);
    drop(nut_client);
    prometheus.wait_value("ups2mqtt_nut_clients_connected", |n| n == 0.0);
    prometheus.wait_value("ups2mqtt_nut_connections_total", |n| n == 1.0);

    // Mains off: the card sends its trap and reads on battery.
    assert!(sim.control("mains off").starts_with("ok"));
    prometheus.wait_value("ups2mqtt_ups_status{ups=\"rack1\",flag=\"OB\"}", |v| {
        v == 1.0
    });
    prometheus.wait_value("ups2mqtt_traps_received_total", |v| v >= 1.0);
    prometheus.wait_value("ups2mqtt_traps_delivered_total", |v| v >= 1.0);

    // /healthz follows the broker.
    broker.stop();
    let deadline = Instant::now() + WAIT;
    while get(metrics_port, "/healthz").0 != 503 {
        assert!(
            Instant::now() < deadline,
            "healthz stays 200 without a broker"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        get(metrics_port, "/metrics").0,
        200,
        "metrics without a broker"
    );
}
