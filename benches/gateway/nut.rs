//! NUT's `snmp-ups` driver (Debian `nut-snmp`) against the same simulated
//! agent, through the counting relay: no systemd, no upsd, no ups.conf.
//!
//! The driver is started in the foreground (`-F`) with every setting on the
//! command line (`-s NAME -x port=... -x mibs=mge`), its state socket in a temp
//! dir (`NUT_STATEPATH`, world-writable because the driver drops root for the
//! `nut` user). `-i 1 -x pollfreq=2` compress NUT's timing (defaults: poll every
//! 2 s, full update every 30 s) so that a few seconds hold its start-up, several
//! full updates and the quick status updates between them; the number of
//! requests per update does not depend on the intervals.

use crate::peers::{self, Burst, Relay, TempDir};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, serde::Serialize)]
pub struct NutRun {
    pub driver: String,
    pub version: String,
    pub command: String,
    /// Initialisation + the first full update (everything read once).
    pub startup: Burst,
    /// A later full update (median; semi-static values are re-read only
    /// every `semistaticfreq` = 10 full updates).
    pub full_update: Burst,
    /// A quick status update between full updates.
    pub quick_update: Option<Burst>,
    pub bursts: Vec<u64>,
    pub peak_rss_kib: u64,
    pub seconds: f64,
}

pub fn driver() -> Option<PathBuf> {
    ["/lib/nut/snmp-ups", "/usr/lib/nut/snmp-ups"]
        .map(PathBuf::from)
        .into_iter()
        .find(|p| p.is_file())
}

pub fn run(relay: &Relay, seconds: f64) -> Result<NutRun, String> {
    let driver = driver()
        .ok_or("NUT's snmp-ups not found: apt-get install nut-snmp (then re-run the benchmark)")?;
    let version = Command::new(&driver)
        .arg("-V")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .chain(String::from_utf8_lossy(&o.stderr).lines())
                .find(|l| l.contains("Network UPS Tools"))
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default();
    let state = TempDir::new("nut");
    peers::set_mode(state.path(), 0o1777);
    let args = [
        "-s".to_string(),
        "ups2mqttbench".to_string(),
        "-x".to_string(),
        format!("port=127.0.0.1:{}", relay.port),
        "-x".to_string(),
        "mibs=mge".to_string(),
        "-x".to_string(),
        "snmp_version=v2c".to_string(),
        "-x".to_string(),
        "pollfreq=2".to_string(),
        "-i".to_string(),
        "1".to_string(),
        "-F".to_string(),
    ];
    let command = format!(
        "NUT_STATEPATH=<tmp, mode 1777> {} {}",
        driver.display(),
        args.join(" ")
    );
    relay.take();
    let log = std::fs::File::create(state.path().join("driver.log")).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(&driver)
        .args(&args)
        .env("NUT_STATEPATH", state.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", driver.display()))?;
    let pid = child.id();
    let mut peak = 0;
    while started.elapsed() < Duration::from_secs_f64(seconds) {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(state.path().join("driver.log")).unwrap_or_default();
            return Err(format!("snmp-ups exited early ({status}):\n{log}"));
        }
        if let Some(hwm) = peers::vm_kib(pid, "VmHWM") {
            peak = peak.max(hwm);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if let Some(hwm) = peers::vm_kib(pid, "VmHWM") {
        peak = peak.max(hwm);
    }
    peers::sigterm(pid);
    peers::reap(&mut child, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(100));
    let bursts = peers::bursts(&relay.take(), Duration::from_millis(300));
    let Some((startup, rest)) = bursts.split_first() else {
        return Err("snmp-ups sent nothing".to_string());
    };
    let max = rest.iter().map(|b| b.requests).max().unwrap_or(0);
    let min = rest.iter().map(|b| b.requests).min().unwrap_or(0);
    let mid = (max + min).div_ceil(2);
    let mut full: Vec<Burst> = rest
        .iter()
        .filter(|b| b.requests >= mid.max(1))
        .copied()
        .collect();
    let quick: Vec<Burst> = rest
        .iter()
        .filter(|b| b.requests < mid && max != min)
        .copied()
        .collect();
    full.sort_by_key(|b| b.requests);
    let full_update = *full
        .get(full.len() / 2)
        .ok_or("no full update seen after start-up: run longer")?;
    Ok(NutRun {
        driver: driver.display().to_string(),
        version,
        command,
        startup: *startup,
        full_update,
        quick_update: quick.first().copied(),
        bursts: bursts.iter().map(|b| b.requests).collect(),
        peak_rss_kib: peak,
        seconds,
    })
}
