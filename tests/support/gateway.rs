//! `ups2mqtt run` as a child process with a generated configuration, and
//! helpers to wait for retained topics.
#![allow(dead_code)]

use super::{Mosquitto, Snmpsim, free_tcp_port, free_udp_port, retained};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `[[ups]]` table with the test defaults (fast polls, short timeouts).
pub fn ups_toml(id: &str, host: &str, port: u16, extra: &str) -> String {
    format!(
        "[[ups]]\nid = \"{id}\"\nhost = \"{host}\"\nport = {port}\ntimeout_ms = 300\nretries = 0\noffline_after = 2\npoll = {{ fast = 1, slow = 2 }}\n{extra}\n"
    )
}

/// A running `ups2mqtt run`, killed on drop.
pub struct Gateway {
    child: Child,
    dir: PathBuf,
    /// The loopback UDP port traps go to (default settings).
    pub trap_port: u16,
}

impl Gateway {
    /// Starts with one `[[ups]]` per (id, agent) and the default test settings.
    pub fn start(broker: &Mosquitto, upses: &[(&str, &Snmpsim)]) -> Gateway {
        let toml: String = upses
            .iter()
            .map(|(id, sim)| ups_toml(id, "127.0.0.1", sim.port(), ""))
            .collect();
        Gateway::start_with(broker, &toml, "")
    }

    /// Starts with raw `[[ups]]` TOML and extra top-level TOML (e.g. a
    /// `[traps]` table); traps listen on a free loopback port unless given.
    pub fn start_with(broker: &Mosquitto, ups_toml: &str, extra: &str) -> Gateway {
        Gateway::start_full(broker, ups_toml, extra, "")
    }

    /// Starts with more `[mqtt]` keys (`protocol = "5"`, `tls = {...}`,
    /// `host = ...` replacing the default loopback address, `refresh = ...`
    /// replacing the default 3 s).
    pub fn start_with_mqtt(broker: &Mosquitto, ups_toml: &str, mqtt: &str) -> Gateway {
        Gateway::start_full(broker, ups_toml, "", mqtt)
    }

    /// Waits until the gateway's bridge state on `broker` says online.
    pub fn wait_online(&self, broker: &Mosquitto) {
        wait_retained(
            broker,
            "ups2mqtt/bridge/state",
            |p| p.contains("online"),
            self,
        );
    }

    /// Starts with gateway id `id` instead of `gwtest` (several gateways
    /// on one broker).
    pub fn start_named(broker: &Mosquitto, id: &str, ups_toml: &str) -> Gateway {
        Gateway::start_full_as(broker, id, ups_toml, "", "")
    }

    /// Starts like [`Gateway::start_with`], logging at `RUST_LOG=<log>`
    /// instead of debug (long runs, where debug logging is most of the work).
    pub fn start_logging(broker: &Mosquitto, ups_toml: &str, extra: &str, log: &str) -> Gateway {
        Gateway::launch(broker, "gwtest", ups_toml, extra, "", log)
    }

    fn start_full(broker: &Mosquitto, ups_toml: &str, extra: &str, mqtt: &str) -> Gateway {
        Gateway::start_full_as(broker, "gwtest", ups_toml, extra, mqtt)
    }

    fn start_full_as(
        broker: &Mosquitto,
        id: &str,
        ups_toml: &str,
        extra: &str,
        mqtt: &str,
    ) -> Gateway {
        Gateway::launch(broker, id, ups_toml, extra, mqtt, "ups2mqtt=debug")
    }

    fn launch(
        broker: &Mosquitto,
        id: &str,
        ups_toml: &str,
        extra: &str,
        mqtt: &str,
        log_filter: &str,
    ) -> Gateway {
        let dir = std::env::temp_dir().join(format!(
            "ups2mqtt-gw-{}-{}",
            std::process::id(),
            free_tcp_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let host = if mqtt.contains("host =") {
            ""
        } else {
            "host = \"127.0.0.1\"\n"
        };
        // Every page re-published every 3 s, unless the test says otherwise.
        let refresh = if mqtt.contains("refresh =") {
            ""
        } else {
            "refresh = 3\n"
        };
        let trap_port = free_udp_port();
        let traps = if extra.contains("[traps]") {
            String::new()
        } else {
            format!("[traps]\nlisten = [\"127.0.0.1:{trap_port}\"]\n")
        };
        let toml = format!(
            "[gateway]\nid = \"{id}\"\n[mqtt]\n{host}port = {}\n{refresh}keep_alive = 5\n{mqtt}\n{traps}{extra}\n{ups_toml}",
            broker.port()
        );
        let config = dir.join("config.toml");
        std::fs::write(&config, toml).unwrap();
        let log = std::fs::File::create(dir.join("gateway.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_ups2mqtt"))
            .args(["run", "--config"])
            .arg(&config)
            .env("RUST_LOG", log_filter)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start ups2mqtt run");
        Gateway {
            child,
            dir,
            trap_port,
        }
    }

    /// The gateway's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("gateway.log")).unwrap_or_default()
    }

    /// SIGTERM, then wait for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "gateway ignored SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub const WAIT: Duration = Duration::from_secs(15);

/// Waits until a retained topic has a payload satisfying `ok`.
pub fn wait_retained(
    broker: &Mosquitto,
    topic: &str,
    ok: impl Fn(&str) -> bool,
    gateway: &Gateway,
) -> String {
    let found = wait_retained_until(
        broker,
        topic,
        |found| found.iter().any(|(t, p)| t == topic && ok(p)),
        gateway,
    );
    let (_, payload) = found
        .into_iter()
        .find(|(t, p)| t == topic && ok(p))
        .expect("the condition held");
    payload
}

/// The retained messages under `filter`, read again until `done` holds
/// for them (failing the test if it does not within [`WAIT`]).
pub fn wait_retained_until(
    broker: &Mosquitto,
    filter: &str,
    done: impl Fn(&[(String, String)]) -> bool,
    gateway: &Gateway,
) -> Vec<(String, String)> {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = retained(broker.port(), filter, Duration::from_secs(2));
        if done(&found) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{filter} never satisfied the condition; retained: {found:?}\ngateway log:\n{}",
            gateway.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn json(payload: &str) -> Json {
    serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}: {payload}"))
}
