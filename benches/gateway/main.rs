//! How cheap is a UPS: `ups2mqtt run` (release build) against N simulated
//! agents on loopback, side by side with NUT's snmp-ups driver.
//!
//!     cargo bench --bench gateway --no-default-features
//!     cargo bench --bench gateway --no-default-features -- --secs 60 --n 1,10,100,500 --samples 500
//!     cargo bench --bench gateway --no-default-features -- --baseline ../old/target/release/ups2mqtt
//!
//! (`--no-default-features`: the gateway build, without the demo broker.)
//!
//! (or UPS2MQTT_BENCH_SECS, UPS2MQTT_BENCH_N, UPS2MQTT_BENCH_SAMPLES,
//! UPS2MQTT_BENCH_FAST, UPS2MQTT_BENCH_NUT=0, UPS2MQTT_BENCH_BASELINE).
//! `--baseline <gateway binary>` runs every scale row with that binary too
//! (an older build, in the same session on the same machine: before and
//! after side by side; the simulator is this build's). Prints a table and writes
//! `target/bench/report.json`. Needs `mosquitto` (and `nut-snmp` for the NUT
//! column). Under `cargo test --all-targets` it only says it was skipped:
//! performance is measured here, never in timed tests.
//!
//! Phases:
//! 1. wire: one agent behind a counting UDP relay; the gateway polls it (fast
//!    pages every 1 s, all pages every 2 s) and then NUT's driver reads the same
//!    agent: requests and bytes per start-up, full update and fast/quick update.
//! 2. scale, for each N: `ups2mqtt-sim --agents N`, mosquitto, the gateway with
//!    `poll.fast` = 10 s (other settings default). After every UPS has polled
//!    once and a short settle, CPU time (/proc/<pid>/stat) and polls (the
//!    health topics) are counted over a fixed window; then trap-to-MQTT and
//!    command-to-response latencies are sampled; peak RSS is VmHWM at the end.

mod mqtt;
mod nut;
mod peers;

use peers::{Burst, Gateway, Mosquitto, Relay, Sim};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use ups2mqtt::oid::Oid;
use ups2mqtt::snmp::{CommonPdu, Message, PduKind, Value, Version};

const GATEWAY: &str = env!("CARGO_BIN_EXE_ups2mqtt");
const SIMULATOR: &str = env!("CARGO_BIN_EXE_ups2mqtt-sim");
const BASE: &str = "bench";
/// Traps and commands go to this many UPSes in turn.
const LATENCY_UPSES: usize = 8;
const UPS_ON_BATTERY: &str = "1.3.6.1.4.1.705.1.11.0.11";
const UPS_RETURN_FROM_BATTERY: &str = "1.3.6.1.4.1.705.1.11.0.12";
/// The `[[ups]]` lines of the SNMPv3 rows (users of [`peers::Snmpd`]).
const V3_UPS: &str = "version = \"3\"\nuser = \"bench\"\nauth_protocol = \"sha\"\n\
    auth_password = \"bench-auth-pw\"\npriv_protocol = \"aes\"\npriv_password = \"bench-priv-pw\"\n";
const V3_UPS_STRONG: &str = "version = \"3\"\nuser = \"bench256\"\nauth_protocol = \"sha256\"\n\
    auth_password = \"bench-auth-pw\"\npriv_protocol = \"aes256\"\npriv_password = \"bench-priv-pw\"\n";

#[derive(Debug, Clone)]
struct Options {
    /// Length of the CPU window per N, in seconds.
    secs: f64,
    ns: Vec<u16>,
    samples: usize,
    fast: u64,
    nut: bool,
    /// Another gateway binary to run every scale row with, for comparison.
    baseline: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> Options {
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        let arg = |key: &str| {
            args.iter()
                .position(|a| a == key)
                .and_then(|i| args.get(i + 1).cloned())
        };
        let pick = |flag: &str, var: &str| arg(flag).or_else(|| env(var));
        Options {
            secs: pick("--secs", "UPS2MQTT_BENCH_SECS")
                .map(|v| v.parse().expect("--secs: seconds"))
                .unwrap_or(20.0),
            ns: pick("--n", "UPS2MQTT_BENCH_N")
                .map(|v| {
                    v.split(',')
                        .map(|n| n.trim().parse().expect("--n: 1,10,100,500"))
                        .collect()
                })
                .unwrap_or_else(|| vec![1, 10, 100, 500]),
            samples: pick("--samples", "UPS2MQTT_BENCH_SAMPLES")
                .map(|v| v.parse().expect("--samples: count"))
                .unwrap_or(300),
            fast: pick("--fast", "UPS2MQTT_BENCH_FAST")
                .map(|v| v.parse().expect("--fast: seconds"))
                .unwrap_or(10),
            nut: !args.iter().any(|a| a == "--no-nut")
                && env("UPS2MQTT_BENCH_NUT").is_none_or(|v| v != "0"),
            baseline: pick("--baseline", "UPS2MQTT_BENCH_BASELINE").map(PathBuf::from),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` builds and runs benches without --bench.
        println!("gateway benchmark: skipped outside `cargo bench --bench gateway`");
        return;
    }
    let options = Options::parse(&args);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let report = runtime.block_on(run(&options));
    let total = started.elapsed().as_secs_f64();
    let text = render(&report, &options, total);
    println!("\n{text}");
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let path = dir.join("report.json");
    let mut json = serde_json::to_value(&report).expect("report JSON");
    json["options"] = json!({
        "window_seconds": options.secs, "n": options.ns, "samples": options.samples,
        "poll_fast_seconds": options.fast, "nut": options.nut, "total_seconds": total,
    });
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).expect("write report");
    println!("JSON: {}", path.display());
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

// ------------------------------------------------------------------------------------ report

#[derive(Debug, Serialize)]
struct Report {
    machine: Machine,
    binary: BinarySize,
    wire: Vec<WireRow>,
    nut: Option<nut::NutRun>,
    nut_error: Option<String>,
    scale: Vec<ScaleRow>,
    /// Command latency, N = 1, with mosquitto's default `set_tcp_nodelay
    /// false` (the scale runs set it true).
    command_stock_broker: Option<Latency>,
    targets: Vec<Target>,
}

#[derive(Debug, Serialize)]
struct Machine {
    cpus: usize,
    cpu_model: String,
    kernel: String,
    /// /proc/loadavg when the benchmark started (other work on the machine).
    loadavg: String,
}

#[derive(Debug, Serialize)]
struct BinarySize {
    /// Cargo features the benchmark (and so the binaries) were built with.
    features: String,
    path: String,
    bytes: u64,
    /// Size after `strip --strip-all` of a copy (equal when already stripped).
    stripped_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
struct WireRow {
    label: String,
    mibs: String,
    /// The capability GETNEXT + the first poll of all pages.
    startup: Burst,
    /// A later poll of all eleven pages.
    full_poll: Burst,
    /// A poll of the four fast pages (alarms, input, output, battery).
    fast_poll: Burst,
    bursts: Vec<u64>,
    peak_rss_kib: u64,
    /// Gateway CPU time per poll from poll 1 to poll 7 (three full polls,
    /// three fast ones), all threads.
    cpu_us_per_poll: f64,
}

#[derive(Debug, Serialize, Default, Clone)]
struct Latency {
    samples: usize,
    lost: usize,
    errors: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Latency {
    fn of(mut ms: Vec<f64>, lost: usize, errors: usize) -> Latency {
        ms.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            if ms.is_empty() {
                f64::NAN
            } else {
                ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1]
            }
        };
        Latency {
            samples: ms.len(),
            lost,
            errors,
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: ms.last().copied().unwrap_or(f64::NAN),
        }
    }
}

#[derive(Debug, Serialize, Default)]
struct ScaleRow {
    /// `this build` or `baseline` (`--baseline`).
    gateway: String,
    n: u16,
    /// Gateway start → every UPS has published a first good poll.
    startup_seconds: f64,
    gateway_cpu_startup_seconds: f64,
    /// Mean over the UPSes of the requests of their first poll (all pages +
    /// the capability GETNEXT), from the health topics.
    first_poll_requests_per_ups: f64,
    window_seconds: f64,
    polls_in_window: u64,
    /// Requests per poll per UPS in the window (gateway's count; the window
    /// holds fast-page polls).
    requests_per_poll: f64,
    /// The same, counted by the simulated agents.
    agent_requests_per_poll: f64,
    /// Gateway CPU time in the window: schedstat of its threads (ns).
    gateway_cpu_window_seconds: f64,
    /// The same from utime + stime of /proc/<pid>/stat (10 ms ticks).
    gateway_cpu_window_seconds_stat: f64,
    /// Gateway CPU in the window, percent of one core.
    cpu_percent_of_core: f64,
    cpu_us_per_ups_poll: f64,
    simulator_cpu_percent_of_core: f64,
    broker_cpu_percent_of_core: f64,
    peak_rss_kib: u64,
    rss_end_kib: u64,
    /// At the end: anonymous memory (heap) and file-backed pages (the binary).
    rss_anon_end_kib: u64,
    rss_file_end_kib: u64,
    trap: Latency,
    command: Latency,
    retransmissions: u64,
    timeouts: u64,
    offline_upses: usize,
    gateway_warnings: usize,
    gateway_warning_samples: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Target {
    name: String,
    measured: String,
    limit: String,
    pass: Option<bool>,
}

// --------------------------------------------------------------------------------------- run

async fn run(options: &Options) -> Report {
    eprintln!("gateway benchmark: {options:?}");
    let machine = machine();
    let binary = binary_size(Path::new(GATEWAY));
    let mut wire = Vec::new();
    let mut nut_run = None;
    let mut nut_error = None;

    // An MGE/Eaton card serves RFC 1628 + MG-SNMP-UPS-MIB: the agent NUT's
    // `mibs=mge` is meant for. Then the simulator's default (all three MIBs).
    {
        eprintln!("wire: MGE card (rfc1628,mge), ups2mqtt");
        let sim = Sim::start(Path::new(SIMULATOR), 1, &["--mibs", "rfc1628,mge"]);
        let relay = Relay::start(sim.port(0));
        wire.push(wire_gateway("ups2mqtt, MGE card", "rfc1628,mge", &relay, "").await);
        if options.nut {
            eprintln!("wire: MGE card (rfc1628,mge), NUT snmp-ups mibs=mge");
            match nut::run(&relay, 7.5) {
                Ok(run) => nut_run = Some(run),
                Err(e) => {
                    eprintln!("NUT: {e}");
                    nut_error = Some(e);
                }
            }
        }
        drop(relay);
        drop(sim);
    }
    {
        eprintln!("wire: simulator default (rfc1628,mge,powernet), ups2mqtt");
        let sim = Sim::start(Path::new(SIMULATOR), 1, &[]);
        let relay = Relay::start(sim.port(0));
        wire.push(wire_gateway("ups2mqtt, 3-MIB card", "rfc1628,mge,powernet", &relay, "").await);
    }
    // SNMPv3 beside v2c: the same card behind net-snmp's snmpd (a `proxy`
    // to the simulator, as a v3 card would serve it), read once over v2c
    // and once over v3 authPriv.
    if peers::installed("snmpd") {
        let sim = Sim::start(Path::new(SIMULATOR), 1, &[]);
        let snmpd = peers::Snmpd::start(sim.port(0));
        for (label, extra) in [
            ("ups2mqtt v2c, via snmpd", ""),
            ("ups2mqtt v3 SHA/AES, via snmpd", V3_UPS),
            ("ups2mqtt v3 SHA-256/AES-256, via snmpd", V3_UPS_STRONG),
        ] {
            eprintln!("wire: {label}");
            let relay = Relay::start(snmpd.port);
            wire.push(wire_gateway(label, "rfc1628,mge,powernet", &relay, extra).await);
        }
    } else {
        eprintln!("wire: no snmpd (apt-get install snmpd): no SNMPv3 rows");
    }

    let mut scale = Vec::new();
    for &n in &options.ns {
        if let Some(baseline) = &options.baseline {
            eprintln!("scale: N = {n}, baseline {}", baseline.display());
            scale.push(scale_run(n, options, baseline, "baseline").await);
        }
        eprintln!("scale: N = {n}");
        scale.push(scale_run(n, options, Path::new(GATEWAY), "this build").await);
    }
    eprintln!("commands with mosquitto's stock TCP settings (Nagle on), N = 1");
    let command_stock_broker = Some(stock_broker_commands(options.samples.min(100)).await);
    let targets = targets(&wire, nut_run.as_ref(), &scale, options);
    Report {
        machine,
        binary,
        wire,
        nut: nut_run,
        nut_error,
        scale,
        command_stock_broker,
        targets,
    }
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    Machine {
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model: cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .unwrap_or("")
            .trim()
            .to_string(),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_string(),
        loadavg: std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn binary_size(path: &Path) -> BinarySize {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let copy = std::env::temp_dir().join(format!("ups2mqtt-bench-strip-{}", std::process::id()));
    let stripped_bytes = std::process::Command::new("strip")
        .args(["--strip-all", "-o"])
        .arg(&copy)
        .arg(path)
        .status()
        .ok()
        .filter(|s| s.success())
        .and_then(|_| std::fs::metadata(&copy).ok())
        .map(|m| m.len());
    let _ = std::fs::remove_file(&copy);
    let features = if cfg!(feature = "demo-broker") {
        "default (with the demo broker: add --no-default-features for the gateway build)"
    } else {
        "--no-default-features (the gateway build)"
    };
    BinarySize {
        features: features.to_string(),
        path: path.display().to_string(),
        bytes,
        stripped_bytes,
    }
}

/// `[gateway]`, `[mqtt]` and `[traps]` for a run.
fn config_head(broker: u16, trap_port: u16) -> String {
    format!(
        "[gateway]\nid = \"bench\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = {broker}\nbase_topic = \"{BASE}\"\n\
         [traps]\nlisten = [\"127.0.0.1:{trap_port}\"]\n"
    )
}

/// The gateway against one agent behind the relay: fast pages every 1 s, all
/// pages every 2 s, until 7 polls are done.
async fn wire_gateway(label: &str, mibs: &str, relay: &Relay, ups_extra: &str) -> WireRow {
    let broker = Mosquitto::start(false);
    let observer = mqtt::Observer::connect(broker.port, BASE).await;
    let toml = format!(
        "{}[[ups]]\nid = \"ups\"\nhost = \"127.0.0.1\"\nport = {}\npoll = {{ fast = 1, slow = 2 }}\n{ups_extra}",
        config_head(broker.port, peers::free_udp_port()),
        relay.port
    );
    relay.take();
    let mut gateway = Gateway::start(Path::new(GATEWAY), &toml);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut cpu_after_first_poll = None;
    loop {
        let polls = observer.health().get("ups").map_or(0, |h| h.polls);
        if polls >= 1 && cpu_after_first_poll.is_none() {
            cpu_after_first_poll = peers::cpu_seconds_precise(gateway.pid());
        }
        if polls >= 7 {
            break;
        }
        assert!(
            Instant::now() < deadline && !gateway.exited(),
            "wire run: the gateway did 7 polls within 30 s (did {polls}); log:\n{}",
            gateway.log_tail(30)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let peak_rss_kib = peers::vm_kib(gateway.pid(), "VmHWM").unwrap_or(0);
    let cpu_us_per_poll = match (
        cpu_after_first_poll,
        peers::cpu_seconds_precise(gateway.pid()),
    ) {
        (Some(first), Some(last)) => (last - first) / 6.0 * 1e6,
        _ => 0.0,
    };
    gateway.stop();
    observer.close().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let bursts = peers::bursts(&relay.take(), Duration::from_millis(300));
    assert!(
        bursts.len() >= 5,
        "wire run: expected ≥ 5 bursts of requests, got {bursts:?}"
    );
    // Burst 0: detect + all pages; then fast pages (odd) and all pages (even).
    let median = |pick: &dyn Fn(usize) -> bool| {
        let mut these: Vec<Burst> = bursts
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(i, _)| pick(*i))
            .map(|(_, b)| *b)
            .collect();
        these.sort_by_key(|b| b.requests);
        these[these.len() / 2]
    };
    WireRow {
        label: label.to_string(),
        mibs: mibs.to_string(),
        startup: bursts[0],
        full_poll: median(&|i| i % 2 == 0),
        fast_poll: median(&|i| i % 2 == 1),
        bursts: bursts.iter().map(|b| b.requests).collect(),
        peak_rss_kib,
        cpu_us_per_poll,
    }
}

fn ups_id(i: usize) -> String {
    format!("ups{i:03}")
}

fn trap_source(k: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 3, k as u8 + 1)
}

async fn scale_run(n: u16, options: &Options, binary: &Path, label: &str) -> ScaleRow {
    let ticks = peers::clock_ticks();
    let broker = Mosquitto::start(false);
    let mut sim = Sim::start(Path::new(SIMULATOR), n, &[]);
    let observer = mqtt::Observer::connect(broker.port, BASE).await;
    let trap_port = peers::free_udp_port();
    let latency_upses = LATENCY_UPSES.min(n as usize);
    let mut toml = config_head(broker.port, trap_port);
    for i in 0..n as usize {
        let sources = if i < latency_upses {
            format!("trap_sources = [\"{}\"]\n", trap_source(i))
        } else {
            String::new()
        };
        let _ = write!(
            toml,
            "[[ups]]\nid = \"{}\"\nhost = \"127.0.0.1\"\nport = {}\n{sources}poll = {{ fast = {} }}\n",
            ups_id(i),
            sim.port(i as u16),
            options.fast
        );
    }
    let started = Instant::now();
    let mut gateway = Gateway::start(binary, &toml);
    let pid = gateway.pid();
    wait_polled(
        &observer,
        &mut gateway,
        n as usize,
        Duration::from_secs(180),
    )
    .await;
    let mut row = ScaleRow {
        gateway: label.to_string(),
        n,
        startup_seconds: started.elapsed().as_secs_f64(),
        gateway_cpu_startup_seconds: peers::cpu_seconds(pid, ticks).unwrap_or(0.0),
        ..ScaleRow::default()
    };
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The CPU window.
    let cpu = |pid| peers::cpu_seconds_precise(pid).unwrap_or(0.0);
    let stat = |pid| peers::cpu_seconds(pid, ticks).unwrap_or(0.0);
    let (g0, s0, b0) = (cpu(pid), cpu(sim.pid()), cpu(broker.pid()));
    let stat0 = stat(pid);
    let health0 = observer.health();
    let agents0 = sim.requests();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(options.secs)).await;
    let wall = t0.elapsed().as_secs_f64();
    let (g1, s1, b1) = (cpu(pid), cpu(sim.pid()), cpu(broker.pid()));
    let stat1 = stat(pid);
    let agents1 = sim.requests();
    let health1 = observer.health();
    assert!(!gateway.exited(), "the gateway exited during the window");
    let sum = |h: &std::collections::HashMap<String, mqtt::Health>, f: fn(&mqtt::Health) -> u64| {
        h.values().map(f).sum::<u64>()
    };
    let polls = sum(&health1, |h| h.polls) - sum(&health0, |h| h.polls);
    let requests = sum(&health1, |h| h.requests) - sum(&health0, |h| h.requests);
    let agent_requests: u64 = agents1.iter().sum::<u64>() - agents0.iter().sum::<u64>();
    let firsts: Vec<u64> = health1
        .values()
        .filter_map(|h| h.first_poll_requests)
        .collect();
    row.first_poll_requests_per_ups =
        firsts.iter().sum::<u64>() as f64 / firsts.len().max(1) as f64;
    row.window_seconds = wall;
    row.polls_in_window = polls;
    row.requests_per_poll = requests as f64 / polls.max(1) as f64;
    row.agent_requests_per_poll = agent_requests as f64 / polls.max(1) as f64;
    row.gateway_cpu_window_seconds = g1 - g0;
    row.gateway_cpu_window_seconds_stat = stat1 - stat0;
    row.cpu_percent_of_core = (g1 - g0) / wall * 100.0;
    // No poll in the window (a window shorter than poll.fast): no per-poll figure.
    row.cpu_us_per_ups_poll = if polls == 0 {
        f64::NAN
    } else {
        (g1 - g0) / polls as f64 * 1e6
    };
    row.simulator_cpu_percent_of_core = (s1 - s0) / wall * 100.0;
    row.broker_cpu_percent_of_core = (b1 - b0) / wall * 100.0;

    row.trap = trap_latency(&observer, trap_port, latency_upses, options.samples).await;
    row.command = command_latency(&observer, n, latency_upses, options.samples).await;

    let health = observer.health();
    row.retransmissions = sum(&health, |h| h.retransmissions);
    row.timeouts = sum(&health, |h| h.timeouts);
    row.offline_upses = health.values().filter(|h| !h.online).count();
    row.peak_rss_kib = peers::vm_kib(pid, "VmHWM").unwrap_or(0);
    row.rss_end_kib = peers::vm_kib(pid, "VmRSS").unwrap_or(0);
    row.rss_anon_end_kib = peers::vm_kib(pid, "RssAnon").unwrap_or(0);
    row.rss_file_end_kib = peers::vm_kib(pid, "RssFile").unwrap_or(0);
    // Before the stop, which logs its own "connection lost".
    (row.gateway_warnings, row.gateway_warning_samples) = gateway.warnings();
    gateway.stop();
    observer.close().await;
    eprintln!("  {row:?}");
    row
}

/// Waits until `n` UPSes have published a health topic with a good poll.
async fn wait_polled(
    observer: &mqtt::Observer,
    gateway: &mut Gateway,
    n: usize,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let done = observer.health().values().filter(|h| h.polls >= 1).count();
        if done >= n {
            return;
        }
        assert!(
            Instant::now() < deadline && !gateway.exited(),
            "only {done} of {n} UPSes polled within {timeout:?}; log:\n{}",
            gateway.log_tail(30)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Command latency with one UPS and mosquitto's stock TCP settings: the
/// broker's Nagle algorithm holds a request while the gateway's delayed ACK
/// of the broker's PUBACKs (for its QoS 1 publishes) is pending.
async fn stock_broker_commands(samples: usize) -> Latency {
    let broker = Mosquitto::start(true);
    let sim = Sim::start(Path::new(SIMULATOR), 1, &[]);
    let observer = mqtt::Observer::connect(broker.port, BASE).await;
    let toml = format!(
        "{}[[ups]]\nid = \"{}\"\nhost = \"127.0.0.1\"\nport = {}\n",
        config_head(broker.port, peers::free_udp_port()),
        ups_id(0),
        sim.port(0)
    );
    let mut gateway = Gateway::start(Path::new(GATEWAY), &toml);
    wait_polled(&observer, &mut gateway, 1, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let latency = command_latency(&observer, 1, 1, samples).await;
    gateway.stop();
    observer.close().await;
    eprintln!("  {latency:?}");
    latency
}

/// `samples` v2c traps, one every 10 ms, to `upses` UPSes in turn (each from
/// its own loopback source address): on-battery and return alternately, each
/// with its sequence number in an extra varbind. Latency: send → event on MQTT.
async fn trap_latency(
    observer: &mqtt::Observer,
    trap_port: u16,
    upses: usize,
    samples: usize,
) -> Latency {
    let mut sockets = Vec::new();
    for k in 0..upses {
        sockets.push(
            tokio::net::UdpSocket::bind((trap_source(k), 0))
                .await
                .expect("bind a trap source"),
        );
    }
    let target = (Ipv4Addr::LOCALHOST, trap_port);
    let sys_uptime = Oid::parse("1.3.6.1.2.1.1.3.0").unwrap();
    let trap_oid = Oid::parse("1.3.6.1.6.3.1.1.4.1.0").unwrap();
    let seq_oid = Oid::parse(mqtt::SEQ_OID).unwrap();
    let kinds = [
        Oid::parse(UPS_ON_BATTERY).unwrap(),
        Oid::parse(UPS_RETURN_FROM_BATTERY).unwrap(),
    ];
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    for seq in 0..samples {
        ticker.tick().await;
        let k = seq % upses;
        let varbinds = vec![
            (sys_uptime.clone(), Value::TimeTicks(100_000 + seq as u32)),
            (
                trap_oid.clone(),
                Value::oid(kinds[(seq / upses) % 2].clone()),
            ),
            (seq_oid.clone(), Value::Integer(seq as i64)),
        ];
        let pdu = CommonPdu::new(PduKind::TrapV2, seq as i32 + 1, varbinds);
        let bytes = Message::new(Version::V2c, "public", pdu).encode();
        observer.trap_sent(seq as u64, Instant::now());
        sockets[k].send_to(&bytes, target).await.expect("send trap");
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (got, missing) = observer.trap_results();
        if missing == 0 || Instant::now() > deadline {
            return Latency::of(got, missing, 0);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `samples` requests, one at a time, to `upses` UPSes in turn: a SET of
/// `general.name` (upsIdentName) with a transaction id; latency: publish →
/// response with that transaction (SET, read-back GET, then the response).
async fn command_latency(
    observer: &mqtt::Observer,
    n: u16,
    upses: usize,
    samples: usize,
) -> Latency {
    let mut ms = Vec::new();
    let (mut lost, mut errors) = (0, 0);
    for seq in 0..samples {
        let ups = ups_id(seq % upses);
        let transaction = format!("bench-{n}-{seq}");
        let payload = json!({
            "transaction": transaction,
            "who": "benchmark",
            "set": { "general.name": format!("bench {seq}") },
        })
        .to_string();
        match observer
            .request(&ups, &transaction, payload, Duration::from_secs(5))
            .await
        {
            Some((latency, response)) if response["status"] == "ok" => {
                ms.push(latency.as_secs_f64() * 1000.0)
            }
            Some((_, response)) => {
                if errors == 0 {
                    eprintln!("  command error: {response}");
                }
                errors += 1;
            }
            None => lost += 1,
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Latency::of(ms, lost, errors)
}

// ----------------------------------------------------------------------------------- targets

fn targets(
    wire: &[WireRow],
    nut: Option<&nut::NutRun>,
    scale: &[ScaleRow],
    options: &Options,
) -> Vec<Target> {
    let mut out = Vec::new();
    let mge = wire.first();
    let ratio = |nut: u64, ours: u64| nut as f64 / ours.max(1) as f64;
    match (mge, nut) {
        (Some(ours), Some(nut)) => {
            let cold = ratio(nut.startup.requests, ours.startup.requests);
            out.push(Target {
                name: "SNMP requests, NUT ÷ ups2mqtt: everything read once (start-up)".into(),
                measured: format!(
                    "{:.1}x ({} vs {})",
                    cold, nut.startup.requests, ours.startup.requests
                ),
                limit: "≥ 10x".into(),
                pass: Some(cold >= 10.0),
            });
            let steady = ratio(nut.full_update.requests, ours.full_poll.requests);
            out.push(Target {
                name: "SNMP requests, NUT ÷ ups2mqtt: NUT full update vs a poll of all 11 pages"
                    .into(),
                measured: format!(
                    "{:.1}x ({} vs {})",
                    steady, nut.full_update.requests, ours.full_poll.requests
                ),
                limit: "≥ 10x".into(),
                pass: Some(steady >= 10.0),
            });
            let live = ratio(nut.full_update.requests, ours.fast_poll.requests);
            out.push(Target {
                name:
                    "SNMP requests, NUT ÷ ups2mqtt: NUT full update vs a poll of the 4 fast pages"
                        .into(),
                measured: format!(
                    "{:.1}x ({} vs {})",
                    live, nut.full_update.requests, ours.fast_poll.requests
                ),
                limit: "≥ 10x".into(),
                pass: Some(live >= 10.0),
            });
        }
        _ => out.push(Target {
            name: "SNMP requests, NUT ÷ ups2mqtt".into(),
            measured: "NUT not run".into(),
            limit: "≥ 10x".into(),
            pass: None,
        }),
    }
    let mib = |kib: u64| kib as f64 / 1024.0;
    let baseline = |n: u16| scale.iter().find(|r| r.n == n && r.gateway == "baseline");
    let scale: Vec<&ScaleRow> = scale.iter().filter(|r| r.gateway != "baseline").collect();
    for (n, limit) in [(1u16, 6.0), (500, 32.0)] {
        let row = scale.iter().find(|r| r.n == n);
        out.push(Target {
            name: format!("peak RSS with {n} UPS{}", if n == 1 { "" } else { "es" }),
            measured: row.map_or("not run".into(), |r| {
                format!("{:.1} MiB", mib(r.peak_rss_kib))
            }),
            limit: format!("< {limit} MiB"),
            pass: row.map(|r| mib(r.peak_rss_kib) < limit),
        });
    }
    for &row in &scale {
        let Some(before) = baseline(row.n) else {
            continue;
        };
        let ratio = before.cpu_us_per_ups_poll / row.cpu_us_per_ups_poll;
        out.push(Target {
            name: format!("CPU per UPS per poll, baseline ÷ this build, N = {}", row.n),
            measured: format!(
                "{ratio:.1}x ({:.0} vs {:.0} µs)",
                before.cpu_us_per_ups_poll, row.cpu_us_per_ups_poll
            ),
            limit: "≥ 3x".into(),
            pass: Some(ratio >= 3.0),
        });
    }
    let row = scale.iter().find(|r| r.n == 500);
    out.push(Target {
        name: format!("CPU, 500 UPSes, poll.fast = {} s", options.fast),
        measured: row.map_or("not run".into(), |r| {
            format!("{:.1} % of one core", r.cpu_percent_of_core)
        }),
        limit: if options.fast == 10 {
            "< 25 % of one core".into()
        } else {
            "< 25 % (target is for 10 s)".into()
        },
        pass: row
            .filter(|_| options.fast == 10)
            .map(|r| r.cpu_percent_of_core < 25.0),
    });
    for row in &scale {
        let limit = if row.n >= 500 { 2.0 } else { 5.0 };
        out.push(Target {
            name: format!("trap-to-MQTT p99, N = {}", row.n),
            measured: format!("{:.2} ms", row.trap.p99_ms),
            limit: format!("< {limit} ms"),
            pass: Some(row.trap.p99_ms < limit && row.trap.lost == 0),
        });
    }
    out
}

// ------------------------------------------------------------------------------------ render

fn render(report: &Report, options: &Options, total: f64) -> String {
    let mut s = String::new();
    let kib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
    let _ = writeln!(
        s,
        "ups2mqtt gateway benchmark ({} CPUs, {}, load {} at start; window {} s per N, poll.fast = {} s, {} samples; {:.0} s in all)\n",
        report.machine.cpus,
        report.machine.cpu_model,
        report.machine.loadavg,
        options.secs,
        options.fast,
        options.samples,
        total
    );
    let _ = writeln!(
        s,
        "Binary: {} bytes ({:.2} MiB){}; features: {}\n",
        report.binary.bytes,
        report.binary.bytes as f64 / 1_048_576.0,
        match report.binary.stripped_bytes {
            Some(b) if b == report.binary.bytes => " stripped".to_string(),
            Some(b) => format!(", {b} bytes after strip"),
            None => String::new(),
        },
        report.binary.features
    );
    let _ = writeln!(
        s,
        "SNMP on the wire, one UPS (counted by a UDP relay; requests, bytes sent/received):\n"
    );
    let _ = writeln!(
        s,
        "| manager | agent MIBs | start-up: everything once | full update | fast / quick update | CPU per poll | peak RSS |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    let cell = |b: &Burst| {
        format!(
            "{} req, {}/{} B",
            b.requests, b.bytes_sent, b.bytes_received
        )
    };
    for w in &report.wire {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} (all 11 pages) | {} (4 fast pages) | {:.0} µs | {} |",
            w.label,
            w.mibs,
            cell(&w.startup),
            cell(&w.full_poll),
            cell(&w.fast_poll),
            w.cpu_us_per_poll,
            kib(w.peak_rss_kib)
        );
    }
    if let Some(nut) = &report.nut {
        let _ = writeln!(
            s,
            "| NUT snmp-ups 2.8.0 (mibs=mge, v2c) | rfc1628,mge | {} | {} | {} | | {} |",
            cell(&nut.startup),
            cell(&nut.full_update),
            nut.quick_update
                .as_ref()
                .map_or("none: no request between full updates".to_string(), cell),
            kib(nut.peak_rss_kib)
        );
    } else if let Some(e) = &report.nut_error {
        let _ = writeln!(s, "\nNUT not measured: {e}");
    }
    let _ = writeln!(
        s,
        "\nScale (ups2mqtt-sim --agents N, 3 MIBs each; gateway with poll.fast = {} s):\n",
        options.fast
    );
    let _ = writeln!(
        s,
        "| gateway | N | start-up | req/UPS first poll | req/UPS/poll | CPU % of a core | CPU µs/UPS/poll | peak RSS | trap→MQTT p50 / p99 | command→response p50 / p99 |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|");
    for r in &report.scale {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} s | {:.1} | {:.2} | {:.1} % | {:.0} | {} | {:.2} / {:.2} ms{} | {:.2} / {:.2} ms{} |",
            r.gateway,
            r.n,
            r.startup_seconds,
            r.first_poll_requests_per_ups,
            r.requests_per_poll,
            r.cpu_percent_of_core,
            r.cpu_us_per_ups_poll,
            kib(r.peak_rss_kib),
            r.trap.p50_ms,
            r.trap.p99_ms,
            lost(&r.trap),
            r.command.p50_ms,
            r.command.p99_ms,
            lost(&r.command),
        );
    }
    if let Some(l) = &report.command_stock_broker {
        let _ = writeln!(
            s,
            "\nThe broker runs with `set_tcp_nodelay true`; with mosquitto's default (Nagle on), command→response at N = 1 is {:.2} / {:.2} ms (p50 / p99, {} samples).",
            l.p50_ms, l.p99_ms, l.samples
        );
    }
    let _ = writeln!(s, "\nTargets:\n");
    let _ = writeln!(s, "| target | measured | limit | |");
    let _ = writeln!(s, "|---|---|---|---|");
    for t in &report.targets {
        let verdict = match t.pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "n/a",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {verdict} |",
            t.name, t.measured, t.limit
        );
    }
    let mut notes = BTreeMap::new();
    for r in &report.scale {
        if r.retransmissions + r.timeouts > 0 || r.offline_upses > 0 {
            notes.insert(
                (r.n, r.gateway.clone()),
                format!(
                    "{}, N = {}: {} retransmissions, {} timeouts, {} UPSes offline at the end",
                    r.gateway, r.n, r.retransmissions, r.timeouts, r.offline_upses
                ),
            );
        }
    }
    for note in notes.values() {
        let _ = writeln!(s, "\n{note}");
    }
    s
}

fn lost(l: &Latency) -> String {
    match (l.lost, l.errors) {
        (0, 0) => String::new(),
        (lost, errors) => format!(" ({lost} lost, {errors} errors)"),
    }
}
