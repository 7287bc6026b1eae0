//! `ups2mqtt demo`, the README's first command, as a user runs it: it must
//! print where to look (and with --watch, show the topics itself), and there
//! the retained pages and the Home Assistant discovery must appear, the
//! scenario must move them, the example flow's requests and the example
//! dashboard's entities must work against it, and SIGINT must stop it and
//! everything it started.

mod support;

use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use support::{Subscriber, free_tcp_port, retained};

const UPS: &str = "rack1";
const WAIT: Duration = Duration::from_secs(30);

/// A running `ups2mqtt demo`, killed on drop.
struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Arc<Mutex<Vec<String>>>,
    log: PathBuf,
    port: u16,
    control: SocketAddr,
}

impl Demo {
    fn start(args: &[&str]) -> Demo {
        let log = std::env::temp_dir().join(format!(
            "ups2mqtt-demo-test-{}-{}.log",
            std::process::id(),
            free_tcp_port()
        ));
        let mut child = Command::new(env!("CARGO_BIN_EXE_ups2mqtt"))
            .arg("demo")
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start ups2mqtt demo");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        let all = Arc::new(Mutex::new(Vec::new()));
        let keep = all.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                keep.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let mut demo = Demo {
            child,
            lines,
            stdout: all,
            log,
            port: 0,
            control: "127.0.0.1:9".parse().unwrap(),
        };
        let deadline = Instant::now() + WAIT;
        let (mut port, mut control) = (None, None);
        while port.is_none() || control.is_none() {
            let line = demo
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("the demo printed no broker address:\n{}", demo.all()));
            // "  mosquitto_sub -h 127.0.0.1 -p PORT -t 'ups2mqtt/#' -v"
            if let Some(rest) = line.trim().strip_prefix("mosquitto_sub -h 127.0.0.1 -p ") {
                if rest.ends_with("-t 'ups2mqtt/#' -v") {
                    port = rest.split_whitespace().next().and_then(|p| p.parse().ok());
                }
            }
            if let Some((_, addr)) = line.split_once("control port ") {
                control = addr.trim().parse().ok();
            }
        }
        demo.port = port.unwrap();
        demo.control = control.unwrap();
        demo
    }

    fn all(&self) -> String {
        let stdout = self.stdout.lock().unwrap().join("\n");
        let stderr = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("stdout:\n{stdout}\nstderr:\n{stderr}")
    }

    /// Waits until the retained pages are there and the UPS is online.
    fn wait_for_pages(&self) -> Vec<(String, String)> {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = retained(self.port, "ups2mqtt/#", Duration::from_secs(2));
            let has = |topic: &str, ok: &dyn Fn(&str) -> bool| {
                found.iter().any(|(t, p)| t == topic && ok(p))
            };
            let pages = ["general", "alarms", "input", "output", "battery", "config"];
            if pages
                .iter()
                .all(|p| has(&format!("ups2mqtt/{UPS}/{p}"), &|p| p.starts_with('{')))
                && has(&format!("ups2mqtt/{UPS}/availability"), &|p| p == "online")
                && has("ups2mqtt/bridge/state", &|p| p == r#"{"state":"online"}"#)
            {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "pages never all retained: {:?}\n{}",
                found.iter().map(|(t, _)| t).collect::<Vec<_>>(),
                self.all()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// SIGINT, like Ctrl-C; returns once it exited, asserting success.
    fn interrupt(&mut self) {
        self.signal("INT");
    }

    /// Sends `signal` (`INT`, `HUP`, ...); returns once the demo exited,
    /// asserting success and that nothing it started is left running.
    fn signal(&mut self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "ignored SIG{signal}:\n{}",
                self.all()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        // The reader thread sees EOF once the process is gone.
        std::thread::sleep(Duration::from_millis(100));
        assert!(status.success(), "{status}\n{}", self.all());
        assert!(
            self.stdout
                .lock()
                .unwrap()
                .iter()
                .any(|l| l == "demo stopped"),
            "{}",
            self.all()
        );
        // Everything it started is gone: the broker and the card's control port.
        for addr in [SocketAddr::from(([127, 0, 0, 1], self.port)), self.control] {
            assert!(
                TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
                "{addr} still accepts connections after the demo stopped"
            );
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn json(payload: &str) -> Json {
    serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}: {payload}"))
}

/// The `entity: ...` ids of the example dashboard.
fn dashboard_entities() -> BTreeSet<String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/home-assistant-dashboard.yaml");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("entity: "))
        .map(|id| id.trim().to_string())
        .collect()
}

#[test]
fn demo_publishes_pages_and_discovery_moves_and_stops_on_sigint() {
    let mut demo = Demo::start(&["--scenario-secs", "2", "--watch"]);
    let output = Subscriber::start(demo.port, &format!("ups2mqtt/{UPS}/output"));
    let found = demo.wait_for_pages();
    let battery = found
        .iter()
        .find(|(t, _)| *t == format!("ups2mqtt/{UPS}/battery"))
        .map(|(_, p)| json(p))
        .unwrap();
    assert!(battery["charge"].is_number(), "{battery}");

    // Home Assistant discovery: the UPS device and the bridge.
    let discovery = retained(demo.port, "homeassistant/#", Duration::from_secs(3));
    let topics: Vec<&str> = discovery.iter().map(|(t, _)| t.as_str()).collect();
    let device = discovery
        .iter()
        .find(|(t, _)| t == "homeassistant/device/demo_rack1/config")
        .map(|(_, p)| json(p))
        .unwrap_or_else(|| panic!("no UPS discovery in {topics:?}"));
    assert!(
        topics.contains(&"homeassistant/device/demo_bridge/config"),
        "{topics:?}"
    );
    let components = device["components"]
        .as_object()
        .or_else(|| device["cmps"].as_object())
        .expect("device discovery has components");
    assert!(components.len() > 50, "{} components", components.len());
    let entity_ids: BTreeSet<String> = components
        .values()
        .filter_map(|c| c["default_entity_id"].as_str().map(str::to_string))
        .collect();
    let missing: Vec<String> = dashboard_entities()
        .into_iter()
        .filter(|id| !entity_ids.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "the example dashboard names entities the demo's discovery lacks: {missing:?}"
    );

    // The scenario fails the mains: the output page follows.
    let on_battery = output.wait_message(
        |m| serde_json::from_str::<Json>(&m.payload).is_ok_and(|p| p["on_battery"] == true),
        WAIT,
    );
    assert!(
        on_battery.is_some(),
        "output never went on battery: {:?}\n{}",
        output.lines(),
        demo.all()
    );
    assert!(
        demo.stdout
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("scenario: mains off")),
        "{}",
        demo.all()
    );
    // --watch prints the topics on stdout too.
    let watched = |prefix: &str| {
        demo.stdout
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with(prefix))
    };
    assert!(
        watched(&format!("ups2mqtt/{UPS}/battery {{")) && watched("ups2mqtt/bridge/state "),
        "{}",
        demo.all()
    );
    demo.interrupt();
}

/// Issue 17, 8: a closed terminal (SIGHUP) stops the demo like Ctrl-C:
/// no broker or simulator left behind, and a clean stop logs no
/// "connection lost" warning.
#[test]
fn a_closed_terminal_stops_the_demo_and_everything_it_started() {
    let mut demo = Demo::start(&["--scenario-secs", "600"]);
    demo.wait_for_pages();
    demo.signal("HUP");
    let log = demo.all();
    assert!(!log.contains("MQTT connection lost"), "{log}");
}

/// The requests of examples/node-red-flow.json, as (payload, transaction).
fn flow_requests() -> Vec<(String, String)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/node-red-flow.json");
    let flow: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    flow.as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "inject")
        .map(|n| {
            let payload = n["payload"].as_str().unwrap().to_string();
            let transaction = json(&payload)["transaction"].as_str().unwrap().to_string();
            (payload, transaction)
        })
        .collect()
}

/// The example flow's requests get `"status":"ok"` from the demo's gateway
/// (on whichever broker `args` choose).
fn flow_requests_succeed(args: &[&str]) {
    let mut demo = Demo::start(args);
    demo.wait_for_pages();
    let responses = Subscriber::start(demo.port, &format!("ups2mqtt/{UPS}/response"));
    let requests = flow_requests();
    assert!(requests.len() >= 2, "{requests:?}");
    for (payload, transaction) in requests {
        let status = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &demo.port.to_string(), "-q", "1"])
            .args(["-t", &format!("ups2mqtt/{UPS}/request"), "-m", &payload])
            .status()
            .expect("mosquitto_pub (apt-get install mosquitto-clients)");
        assert!(status.success());
        let response = responses
            .wait_message(
                |m| json(&m.payload)["transaction"] == transaction.as_str(),
                WAIT,
            )
            .unwrap_or_else(|| panic!("no response to {payload}\n{}", demo.all()));
        let response = json(&response.payload);
        assert_eq!(response["status"], "ok", "{payload} -> {response}");
    }
    demo.interrupt();
}

#[test]
fn the_example_flow_commands_work_against_the_demo() {
    flow_requests_succeed(&["--scenario-secs", "0", "--broker", "mosquitto"]);
}

#[cfg(feature = "demo-broker")]
#[test]
fn the_embedded_broker_serves_the_demo() {
    flow_requests_succeed(&["--scenario-secs", "0", "--broker", "embedded"]);
}

#[test]
fn without_the_simulator_the_demo_says_how_to_build_it() {
    let dir = std::env::temp_dir().join(format!(
        "ups2mqtt-demo-nosim-{}-{}",
        std::process::id(),
        free_tcp_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let lone = dir.join("ups2mqtt");
    std::fs::copy(env!("CARGO_BIN_EXE_ups2mqtt"), &lone).unwrap();
    let output = Command::new(&lone)
        .arg("demo")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("ups2mqtt-sim") && stderr.contains("cargo build --release"),
        "{stderr}"
    );
}
