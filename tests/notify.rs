//! `ups2mqtt run` under a fake systemd: a unix datagram socket named by
//! `NOTIFY_SOCKET` receives `READY=1` only once the broker session is up,
//! `WATCHDOG=1` at half of `WATCHDOG_USEC` from the start, and
//! `STOPPING=1` on SIGTERM, before a clean exit.

mod support;

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{Mosquitto, free_tcp_port, retained};

/// The fake service manager's socket and what arrived on it.
struct Manager {
    path: PathBuf,
    messages: mpsc::Receiver<(Instant, String)>,
}

impl Manager {
    fn bind() -> Manager {
        let path = std::env::temp_dir().join(format!(
            "ups2mqtt-notify-{}-{}.sock",
            std::process::id(),
            free_tcp_port()
        ));
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(len) = socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..len]).into_owned();
                if tx.send((Instant::now(), text)).is_err() {
                    break;
                }
            }
        });
        Manager { path, messages }
    }

    /// Everything received within `window`.
    fn collect(&self, window: Duration) -> Vec<(Instant, String)> {
        let deadline = Instant::now() + window;
        let mut got = Vec::new();
        while let Ok(m) = self
            .messages
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            got.push(m);
        }
        got
    }

    /// Waits for a message with the line `line`; returns the messages before it too.
    fn wait_for(&self, line: &str, timeout: Duration) -> (Vec<String>, Option<Instant>) {
        let deadline = Instant::now() + timeout;
        let mut before = Vec::new();
        while let Ok((at, text)) = self
            .messages
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if text.lines().any(|l| l == line) {
                return (before, Some(at));
            }
            before.push(text);
        }
        (before, None)
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `ups2mqtt run` with no UPS and traps off, notifying `manager`.
struct Run {
    child: Child,
    dir: PathBuf,
}

impl Run {
    fn start(broker_port: u16, manager: &Manager, watchdog_usec: Option<u64>) -> Run {
        let dir = std::env::temp_dir().join(format!(
            "ups2mqtt-notify-run-{}-{}",
            std::process::id(),
            free_tcp_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[gateway]\nid = \"notifytest\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = {broker_port}\nkeep_alive = 5\n[traps]\nenabled = false\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("run.log")).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_ups2mqtt"));
        command
            .args(["run", "--config"])
            .arg(&config)
            .env("NOTIFY_SOCKET", &manager.path)
            .env("RUST_LOG", "ups2mqtt=debug")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(usec) = watchdog_usec {
            command.env("WATCHDOG_USEC", usec.to_string());
        }
        let child = command.spawn().expect("start ups2mqtt run");
        Run { child, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("run.log")).unwrap_or_default()
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "ignored SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn ready_waits_for_the_broker_and_the_watchdog_pings_meanwhile() {
    let mut broker = Mosquitto::start();
    broker.stop();
    let manager = Manager::bind();
    // 1 s: pings every 500 ms.
    let mut run = Run::start(broker.port(), &manager, Some(1_000_000));

    // The broker is down: watchdog pings, but no READY=1.
    let early = manager.collect(Duration::from_millis(3000));
    let texts: Vec<&str> = early.iter().map(|(_, t)| t.as_str()).collect();
    assert!(
        !texts.iter().any(|t| t.contains("READY=1")),
        "READY=1 before any broker connect: {texts:?}\n{}",
        run.log()
    );
    let pings: Vec<Instant> = early
        .iter()
        .filter(|(_, t)| t == "WATCHDOG=1")
        .map(|(at, _)| *at)
        .collect();
    assert!(
        (4..=8).contains(&pings.len()),
        "expected a WATCHDOG=1 about every 500 ms for 3 s, got {}: {texts:?}\n{}",
        pings.len(),
        run.log()
    );
    let longest = pings
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    assert!(
        longest < Duration::from_millis(1000),
        "pings must come within WATCHDOG_USEC: a gap of {longest:?}"
    );

    // The broker comes up: READY=1 once the gateway is connected.
    broker.restart();
    let (before, ready_at) = manager.wait_for("READY=1", Duration::from_secs(30));
    assert!(
        ready_at.is_some(),
        "no READY=1 after the broker came up; got {before:?}\n{}",
        run.log()
    );
    assert!(
        run.log().contains("MQTT connected"),
        "READY=1 before the MQTT session:\n{}",
        run.log()
    );
    let state = retained(
        broker.port(),
        "ups2mqtt/bridge/state",
        Duration::from_secs(5),
    );
    assert_eq!(
        state,
        [(
            "ups2mqtt/bridge/state".to_string(),
            r#"{"state":"online"}"#.to_string()
        )]
    );
    // Pings go on after READY.
    let after = manager.collect(Duration::from_millis(1600));
    assert!(
        after.iter().filter(|(_, t)| t == "WATCHDOG=1").count() >= 2,
        "{after:?}"
    );

    // SIGTERM: STOPPING=1, then a clean exit.
    let status = run.terminate();
    assert!(status.success(), "{status}\n{}", run.log());
    let rest: Vec<String> = manager
        .collect(Duration::from_millis(300))
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert!(
        rest.iter().any(|t| t.lines().next() == Some("STOPPING=1")),
        "no STOPPING=1 at shutdown: {rest:?}\n{}",
        run.log()
    );
}

#[test]
fn without_watchdog_usec_there_are_no_pings() {
    let broker = Mosquitto::start();
    let manager = Manager::bind();
    let mut run = Run::start(broker.port(), &manager, None);
    let (before, ready_at) = manager.wait_for("READY=1", Duration::from_secs(15));
    assert!(ready_at.is_some(), "no READY=1: {before:?}\n{}", run.log());
    let ready_text = before.clone();
    assert!(
        ready_text.iter().all(|t| t != "WATCHDOG=1"),
        "pings without WATCHDOG_USEC: {ready_text:?}"
    );
    let later = manager.collect(Duration::from_millis(1500));
    assert!(
        later.iter().all(|(_, t)| t != "WATCHDOG=1"),
        "pings without WATCHDOG_USEC: {later:?}"
    );
    assert!(run.terminate().success(), "{}", run.log());
}
