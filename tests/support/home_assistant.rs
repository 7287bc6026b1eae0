//! A real Home Assistant Core (the venv of `tests/e2e/setup.sh`) as a test
//! peer: a fresh config dir, HTTP on a free loopback port, onboarded and
//! with its MQTT integration set up on a loopback broker through its own
//! config flow; read and driven through `tests/e2e/ha.py` (its REST and
//! websocket API). Stopped by process group on drop.
//!
//! No `default_config`: no cloud, zeroconf, ssdp, dhcp or bluetooth, and
//! Home Assistant's own network-adapter setting is pinned to `lo`, so
//! nothing leaves loopback (see tests/e2e/README.md).
#![allow(dead_code)]

use serde_json::Value as Json;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The venv `tests/e2e/setup.sh` makes: `UPS2MQTT_HA_REAL_VENV`, else
/// `${UPS2MQTT_PEERS:-~/.cache/ups2mqtt-peers}/ha-real-venv`.
pub fn venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("UPS2MQTT_HA_REAL_VENV") {
        return PathBuf::from(dir);
    }
    let peers = std::env::var_os("UPS2MQTT_PEERS").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
            Path::new(&home).join(".cache/ups2mqtt-peers")
        },
        PathBuf::from,
    );
    peers.join("ha-real-venv")
}

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

pub struct HomeAssistant {
    child: Option<Child>,
    python: PathBuf,
    dir: PathBuf,
    port: u16,
    broker_port: u16,
    /// Peak resident memory (VmHWM, KiB) of every instance stopped so far.
    peak_rss_kib: u64,
    /// Seconds from spawn to "onboarded, MQTT entry loaded", per start.
    pub ready_seconds: Vec<f64>,
    /// Keep the config dir (and `ha.log`) on drop.
    pub keep: bool,
}

impl HomeAssistant {
    /// Starts a fresh Home Assistant connected to the broker on
    /// `127.0.0.1:broker_port`; returns once its MQTT entry is loaded.
    pub fn start(broker_port: u16) -> HomeAssistant {
        let venv = venv();
        let python = venv.join("bin/python");
        assert!(
            python.exists(),
            "no Home Assistant venv at {}: run `bash tests/e2e/setup.sh` (or set UPS2MQTT_HA_REAL_VENV)",
            venv.display()
        );
        let port = super::free_tcp_port();
        let dir = std::env::temp_dir().join(format!("ups2mqtt-ha-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(".storage")).unwrap();
        std::fs::write(dir.join("configuration.yaml"), configuration(port)).unwrap();
        // What the automation editor (config API) writes to.
        std::fs::write(dir.join("automations.yaml"), "[]\n").unwrap();
        // Home Assistant's own "Network adapters" setting: loopback only. Without it
        // the zeroconf instance its HTTP client helper always creates binds eth0.
        std::fs::write(
            dir.join(".storage/core.network"),
            r#"{"version": 1, "minor_version": 1, "key": "core.network", "data": {"configured_adapters": ["lo"]}}"#,
        )
        .unwrap();
        let mut ha = HomeAssistant {
            child: None,
            python,
            dir,
            port,
            broker_port,
            peak_rss_kib: 0,
            ready_seconds: Vec::new(),
            keep: false,
        };
        let t0 = Instant::now();
        ha.spawn();
        let pid = ha.pid().to_string();
        let out = ha.ha_py(&[
            "onboard",
            "--broker-port",
            &broker_port.to_string(),
            "--pid",
            &pid,
        ]);
        ha.ready_seconds.push(t0.elapsed().as_secs_f64());
        eprintln!("Home Assistant up on 127.0.0.1:{port} ({out})");
        ha
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.join("stdout.log")).unwrap();
        let mut command = Command::new(&self.python);
        command
            .arg(e2e_dir().join("ha_launch.py"))
            .arg("--config")
            .arg(&self.dir)
            .args(["--skip-pip", "--log-file"])
            .arg(self.dir.join("ha.log"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            // Its own process group, so that stopping it stops exactly it.
            .process_group(0);
        // setup.sh writes HA_REAL_IGNORE_PY_MIN=1 here when it installed a release
        // newer than the interpreter's patch level allows (see ha_launch.py).
        let env_file = self
            .python
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("ha-real.env");
        if let Ok(text) = std::fs::read_to_string(env_file) {
            for (key, value) in text.lines().filter_map(|l| l.split_once('=')) {
                command.env(key.trim(), value.trim());
            }
        }
        self.child = Some(command.spawn().expect("start Home Assistant"));
    }

    /// SIGTERM to its process group, SIGKILL after 30 s; records its peak
    /// memory first.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(kib) = vm_hwm_kib(child.id()) {
            self.peak_rss_kib = self.peak_rss_kib.max(kib);
        }
        let group = format!("-{}", child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = child.wait();
    }

    /// Stops it and starts it again on the same config dir (already
    /// onboarded); returns once its MQTT entry is loaded again.
    pub fn restart(&mut self) {
        self.stop();
        let t0 = Instant::now();
        self.spawn();
        let pid = self.pid().to_string();
        self.ha_py(&["ready", "--pid", &pid]);
        self.ready_seconds.push(t0.elapsed().as_secs_f64());
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("Home Assistant running").id()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The highest VmHWM of the instances so far, the running one included.
    pub fn peak_rss_kib(&self) -> u64 {
        let running = self.child.as_ref().and_then(|c| vm_hwm_kib(c.id()));
        self.peak_rss_kib.max(running.unwrap_or(0))
    }

    /// Its log file (`ha.log`), across restarts of this config dir only
    /// from the latest start (Home Assistant rotates it to `ha.log.1`).
    pub fn log(&self) -> String {
        let mut text = std::fs::read_to_string(self.dir.join("ha.log.1")).unwrap_or_default();
        text.push_str(&std::fs::read_to_string(self.dir.join("ha.log")).unwrap_or_default());
        text
    }

    pub fn config_dir(&self) -> &Path {
        &self.dir
    }

    /// `ha.py --url .. --token-file .. ARGS`: its stdout; panics on failure.
    pub fn ha_py(&self, args: &[&str]) -> String {
        let out = Command::new(&self.python)
            .arg(e2e_dir().join("ha.py"))
            .args(["--url", &format!("http://127.0.0.1:{}", self.port)])
            .arg("--token-file")
            .arg(self.dir.join("token"))
            .args(args)
            .output()
            .expect("run tests/e2e/ha.py");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ha.py {args:?} failed: {}\n{stdout}\nlast log lines:\n{}",
            String::from_utf8_lossy(&out.stderr),
            tail(&self.log(), 30)
        );
        stdout
    }

    /// Devices and entities of the MQTT integration (registry, state and
    /// attributes).
    pub fn dump(&self) -> Dump {
        let json: Json = serde_json::from_str(&self.ha_py(&["dump"])).expect("dump is JSON");
        Dump { json }
    }

    /// Calls a service on one entity; `data` is a JSON object or empty.
    pub fn call(&self, service: &str, entity_id: &str, data: &str) {
        let mut args = vec!["call", service, entity_id];
        if !data.is_empty() {
            args.extend(["--data", data]);
        }
        self.ha_py(&args);
    }

    /// Home Assistant's system log entries (WARNING and up).
    pub fn system_log(&self) -> Vec<Json> {
        serde_json::from_str(&self.ha_py(&["logs"])).expect("logs are JSON")
    }

    /// One websocket command: `kind` (its `type`) with the fields of
    /// `data` (a JSON object); its result.
    pub fn ws(&self, kind: &str, data: &Json) -> Json {
        let out = self.ha_py(&["ws", kind, "--data", &data.to_string()]);
        serde_json::from_str(&out).expect("a websocket result is JSON")
    }

    /// One REST call on its API (`path` under `/api/`); the JSON body.
    pub fn rest(&self, method: &str, path: &str, data: Option<&Json>) -> Json {
        let data = data.map(Json::to_string);
        let mut args = vec!["rest", method, path];
        if let Some(data) = &data {
            args.extend(["--data", data.as_str()]);
        }
        serde_json::from_str(&self.ha_py(&args)).expect("a REST body is JSON")
    }

    /// Enables every MQTT entity its integration disabled by default
    /// (`enabled_by_default: false`); effective at the next start.
    pub fn enable_all(&self) -> u64 {
        let out: Json = serde_json::from_str(&self.ha_py(&["enable-all"])).unwrap();
        out["enabled"].as_u64().unwrap_or(0)
    }
}

impl Drop for HomeAssistant {
    fn drop(&mut self) {
        self.stop();
        if self.keep || std::thread::panicking() || std::env::var_os("UPS2MQTT_E2E_KEEP").is_some()
        {
            eprintln!(
                "Home Assistant config and log kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn configuration(port: u16) -> String {
    format!(
        "homeassistant:
  name: ups2mqtt-e2e
  latitude: 0
  longitude: 0
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: DE
  currency: EUR
  language: en
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: info
# A device-trigger automation turns this on (tests/home_assistant.rs).
automation: !include automations.yaml
input_boolean:
  ups_on_battery:
    name: UPS on battery
# The Energy dashboard's validation and statistics of the energy and power
# sensors; only those are recorded.
recorder:
  commit_interval: 1
  include:
    entity_globs:
      - sensor.*_output_energy
      - sensor.*_output_power
energy:
history:
"
    )
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// One `ha.py dump`.
pub struct Dump {
    pub json: Json,
}

impl Dump {
    pub fn entities(&self) -> &[Json] {
        self.json["entities"].as_array().map_or(&[], Vec::as_slice)
    }

    pub fn devices(&self) -> &[Json] {
        self.json["devices"].as_array().map_or(&[], Vec::as_slice)
    }

    pub fn entity(&self, unique_id: &str) -> Option<&Json> {
        self.entities().iter().find(|e| e["unique_id"] == unique_id)
    }

    /// The state of the entity with this unique id (`None`: no such
    /// entity, or disabled).
    pub fn state(&self, unique_id: &str) -> Option<&str> {
        self.entity(unique_id)?["state"].as_str()
    }

    pub fn entity_id(&self, unique_id: &str) -> Option<&str> {
        self.entity(unique_id)?["entity_id"].as_str()
    }

    pub fn device(&self, identifier: &str) -> Option<&Json> {
        self.devices().iter().find(|d| {
            d["identifiers"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i == identifier))
        })
    }
}

/// Peak resident set size (VmHWM) of a process, KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// This process's children as (pid, command name), for memory figures of
/// peers started through other helpers.
pub fn children() -> Vec<(u32, String)> {
    let me = std::process::id();
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(me) {
            out.push((pid, comm));
        }
    }
    out
}
