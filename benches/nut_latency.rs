//! `cargo bench --bench nut_latency`: how soon NUT clients learn of a mains
//! failure, from ups2mqtt's NUT server and from NUT's own `snmp-ups` + `upsd`
//! reading the same simulated card, in the same run, on loopback.
//!
//!     cargo bench --bench nut_latency                 # 20 rounds, about 20 minutes
//!     cargo bench --bench nut_latency -- --rounds 30  # or UPS2MQTT_BENCH_ROUNDS
//!
//! One `ups2mqtt-sim` (an MGE card: RFC 1628 + MG-SNMP-UPS-MIB) sends its
//! traps to `ups2mqtt run` (NUT server on); NUT 2.8's `snmp-ups` (`mibs=mge`,
//! every other driver setting default: status re-read on its full update every
//! `pollfreq` = 30 s) feeds NUT's `upsd`. Each round waits a random time, turns
//! the card's mains off, and times, for each server, until:
//! - a client polling `GET VAR <ups> ups.status` every 100 ms sees `OB`
//!   (and one polling every 10 ms: the server's own delay, without most of the
//!   client's polling phase);
//! - `upsmon` runs its NOTIFYCMD for ONBATT, once with upsmon's defaults
//!   (`POLLFREQ 5`) and once with `POLLFREQ 1` / `POLLFREQALERT 1`. Each
//!   upsmon monitors both servers, so both see the same polling phase.
//!
//! Then mains come back and the round ends when every observer has seen OL
//! (and ONLINE). The next mains failure is a uniform random time (0 to 30 s,
//! NUT's full update period) after NUT's upsd showed OL, so that it falls at a
//! random phase of snmp-ups's update cycle: a round takes about a minute.
//!
//! Needs root (each upsmon gets a private /run/nut in its own mount namespace,
//! as in tests/nut.rs), `mosquitto`, and Debian's `nut-server`, `nut-snmp` and
//! `nut-client`. Prints a table and writes `target/bench/nut-latency.json`.
//! Under `cargo test --all-targets` it only says it was skipped: performance
//! is measured here, never in timed tests.

#[allow(dead_code)]
#[path = "gateway/peers.rs"]
mod peers;

use peers::{Gateway, LOCALHOST, Mosquitto, Sim, TempDir};
use serde::Serialize;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const GATEWAY: &str = env!("CARGO_BIN_EXE_ups2mqtt");
const SIMULATOR: &str = env!("CARGO_BIN_EXE_ups2mqtt-sim");
/// The UPS's name on both servers.
const UPS: &str = "bench";
const NUT_USER: &str = "monitor";
const NUT_PASSWORD: &str = "bench";
/// snmp-ups's default `pollfreq`: its full update (the only one that re-reads
/// the status with `mibs=mge`) runs this often.
const NUT_FULL_UPDATE: Duration = Duration::from_secs(30);
/// How long one observer may take before its sample counts as lost.
const ROUND_TIMEOUT: Duration = Duration::from_secs(80);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` builds and runs benches without --bench.
        println!("NUT latency benchmark: skipped outside `cargo bench --bench nut_latency`");
        return;
    }
    let rounds = rounds(&args);
    let nut = match NutPrograms::find() {
        Ok(nut) => nut,
        Err(why) => {
            println!("NUT latency benchmark not run: {why}");
            return;
        }
    };
    let started = Instant::now();
    let report = run(&nut, rounds);
    let text = render(&report, started.elapsed());
    println!("\n{text}");
    let dir = target_dir().join("bench");
    fs::create_dir_all(&dir).expect("create target/bench");
    let path = dir.join("nut-latency.json");
    fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).expect("write report");
    println!("JSON: {}", path.display());
}

/// `--rounds N` or UPS2MQTT_BENCH_ROUNDS; 20 by default (issue 19's minimum).
fn rounds(args: &[String]) -> usize {
    let flag = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1).cloned());
    flag.or_else(|| std::env::var("UPS2MQTT_BENCH_ROUNDS").ok())
        .map(|v| v.parse().expect("--rounds: a count"))
        .unwrap_or(20)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

// --------------------------------------------------------------------------------- programs

/// NUT's driver, server and upsmon (Debian's paths), and its version.
struct NutPrograms {
    driver: PathBuf,
    upsd: PathBuf,
    upsmon: PathBuf,
    version: String,
}

impl NutPrograms {
    fn find() -> Result<NutPrograms, String> {
        let find = |name: &str, package: &str| {
            ["/lib/nut", "/usr/lib/nut"]
                .iter()
                .map(|dir| Path::new(dir).join(name))
                .find(|p| p.is_file())
                .ok_or(format!("no {name}: apt-get install {package}"))
        };
        let driver = find("snmp-ups", "nut-snmp")?;
        // Debian's /sbin/upsd is a wrapper that exits unless /etc/nut/nut.conf
        // enables it: run the program itself.
        let upsd = find("upsd", "nut-server")?;
        let upsmon = find("upsmon", "nut-client")?;
        if !is_root() {
            return Err("needs root: each upsmon runs in its own mount namespace".into());
        }
        if peers::find_program("mosquitto").is_none() {
            return Err("no mosquitto: apt-get install mosquitto".into());
        }
        let version = version_of(&upsd);
        Ok(NutPrograms {
            driver,
            upsd,
            upsmon,
            version,
        })
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `Network UPS Tools upsd 2.8.0` → `2.8.0`.
fn version_of(program: &Path) -> String {
    Command::new(program)
        .arg("-V")
        .output()
        .map(|o| {
            let text = [o.stdout, o.stderr].concat();
            String::from_utf8_lossy(&text)
                .lines()
                .find(|l| l.contains("Network UPS Tools"))
                .and_then(|l| l.split_whitespace().last())
                .unwrap_or("unknown")
                .to_string()
        })
        .unwrap_or_else(|_| "unknown".to_string())
}

/// NUT's `snmp-ups` + `upsd` serving the card as UPS `bench`, configured in
/// a temp dir (NUT_CONFPATH, NUT_STATEPATH): no systemd, nothing under /etc.
/// Both drop root for the `nut` user, so the state dir is world-writable.
struct NutServer {
    driver: Child,
    upsd: Child,
    port: u16,
    dir: TempDir,
}

impl NutServer {
    fn start(programs: &NutPrograms, agent_port: u16) -> NutServer {
        let dir = TempDir::new("nut-server");
        let state = dir.path().join("state");
        fs::create_dir(&state).expect("state dir");
        peers::set_mode(&state, 0o1777);
        let port = peers::free_tcp_port();
        let files = [
            ("nut.conf", "MODE=netserver\n".to_string()),
            (
                "ups.conf",
                format!(
                    "[{UPS}]\ndriver = snmp-ups\nport = 127.0.0.1:{agent_port}\nmibs = mge\n\
                     community = public\nsnmp_version = v2c\n"
                ),
            ),
            ("upsd.conf", format!("LISTEN 127.0.0.1 {port}\n")),
            (
                "upsd.users",
                format!("[{NUT_USER}]\npassword = {NUT_PASSWORD}\nupsmon secondary\n"),
            ),
        ];
        for (name, text) in files {
            let path = dir.path().join(name);
            fs::write(&path, text).unwrap_or_else(|e| panic!("write {name}: {e}"));
            peers::set_mode(&path, 0o644);
        }
        let spawn = |program: &Path, args: &[&str], log: &str| {
            let log = fs::File::create(dir.path().join(log)).expect("log file");
            Command::new(program)
                .args(args)
                .env("NUT_CONFPATH", dir.path())
                .env("NUT_STATEPATH", &state)
                .env("NUT_ALTPIDPATH", &state)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("dup log"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()))
        };
        let driver = spawn(&programs.driver, &["-a", UPS, "-F"], "driver.log");
        let socket = state.join(format!("snmp-ups-{UPS}"));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "snmp-ups made no socket in 60 s:\n{}",
                fs::read_to_string(dir.path().join("driver.log")).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(50));
        }
        let upsd = spawn(&programs.upsd, &["-F"], "upsd.log");
        NutServer {
            driver,
            upsd,
            port,
            dir,
        }
    }

    fn log(&self, name: &str) -> String {
        fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }
}

impl Drop for NutServer {
    fn drop(&mut self) {
        for child in [&mut self.upsd, &mut self.driver] {
            peers::sigterm(child.id());
            peers::reap(child, Duration::from_secs(5));
        }
    }
}

/// The gateway with its NUT server on, the card's traps and default polling.
fn start_gateway(broker: u16, trap_port: u16, agent_port: u16, nut_port: u16) -> Gateway {
    let toml = format!(
        "[gateway]\nid = \"bench\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = {broker}\n\
         [traps]\nlisten = [\"127.0.0.1:{trap_port}\"]\n\
         [nut]\nenabled = true\nlisten = [\"127.0.0.1:{nut_port}\"]\n\
         [[nut.users]]\nname = \"{NUT_USER}\"\npassword = \"{NUT_PASSWORD}\"\nupsmon = \"secondary\"\n\
         [[ups]]\nid = \"{UPS}\"\nhost = \"127.0.0.1\"\nport = {agent_port}\n"
    );
    Gateway::start(Path::new(GATEWAY), &toml)
}

// ---------------------------------------------------------------------------------- observers

/// A NUT client asking `GET VAR bench ups.status` every `period`, keeping
/// each change of "OB or not" with the time its answer arrived.
struct Poller {
    changes: Arc<Mutex<Vec<(Instant, bool)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Poller {
    fn start(port: u16, period: Duration) -> Poller {
        let changes = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (changes, stop) = (changes.clone(), stop.clone());
            thread::spawn(move || poll_loop(port, period, &changes, &stop))
        };
        Poller {
            changes,
            stop,
            thread: Some(thread),
        }
    }

    /// The first answer with OB at or after `since`.
    fn first_ob(&self, since: Instant) -> Option<Instant> {
        self.first(since, true)
    }

    /// The first answer without OB at or after `since`.
    fn first_ol(&self, since: Instant) -> Option<Instant> {
        self.first(since, false)
    }

    /// The first change to `ob` at or after `since` (the state must change:
    /// a round starts from the other one).
    fn first(&self, since: Instant, ob: bool) -> Option<Instant> {
        let changes = self.changes.lock().unwrap();
        changes
            .iter()
            .find(|(at, b)| *at >= since && *b == ob)
            .map(|(at, _)| *at)
    }

    fn answered(&self) -> bool {
        !self.changes.lock().unwrap().is_empty()
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn poll_loop(
    port: u16,
    period: Duration,
    changes: &Mutex<Vec<(Instant, bool)>>,
    stop: &AtomicBool,
) {
    let mut client: Option<BufReader<TcpStream>> = None;
    let mut next = Instant::now();
    let mut last = None;
    while !stop.load(Ordering::Relaxed) {
        if client.is_none() {
            client = TcpStream::connect((LOCALHOST, port)).ok().map(|s| {
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let _ = s.set_nodelay(true);
                BufReader::new(s)
            });
        }
        match client.as_mut().map(ask_status) {
            Some(Ok(Some(ob))) => {
                if last != Some(ob) {
                    changes.lock().unwrap().push((Instant::now(), ob));
                    last = Some(ob);
                }
            }
            Some(Ok(None)) => {} // ERR (no data yet, stale): no state
            Some(Err(_)) | None => client = None,
        }
        next += period;
        let now = Instant::now();
        if next <= now {
            // Behind (a loaded machine): keep the period from now.
            next = now + period;
        }
        thread::sleep(next - now);
    }
}

/// One `GET VAR`: whether `ups.status` holds OB (`None` for an ERR answer).
fn ask_status(client: &mut BufReader<TcpStream>) -> std::io::Result<Option<bool>> {
    client
        .get_mut()
        .write_all(format!("GET VAR {UPS} ups.status\n").as_bytes())?;
    let mut line = String::new();
    if client.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let Some(value) = line
        .trim_end()
        .strip_prefix(&format!("VAR {UPS} ups.status "))
    else {
        return Ok(None);
    };
    Ok(Some(value.trim_matches('"').split(' ').any(|f| f == "OB")))
}

/// One upsmon monitoring both servers as a secondary, its NOTIFYCMD
/// appending `<epoch seconds> <NOTIFYTYPE> <UPSNAME>` to a file.
struct Upsmon {
    child: Child,
    dir: TempDir,
}

impl Upsmon {
    /// `timing`: upsmon.conf lines for POLLFREQ / POLLFREQALERT ("" for the defaults).
    fn start(programs: &NutPrograms, servers: [u16; 2], timing: &str) -> Upsmon {
        let dir = TempDir::new("upsmon");
        let d = dir.path().display();
        let notify = dir.path().join("notify.sh");
        fs::write(
            &notify,
            format!("#!/bin/sh\necho \"$(date +%s.%N) $NOTIFYTYPE $UPSNAME\" >> {d}/events\n"),
        )
        .expect("write notify.sh");
        peers::set_mode(&notify, 0o755);
        let monitors: String = servers
            .iter()
            .map(|port| {
                format!("MONITOR {UPS}@127.0.0.1:{port} 1 {NUT_USER} {NUT_PASSWORD} secondary\n")
            })
            .collect();
        fs::write(
            dir.path().join("upsmon.conf"),
            format!(
                "{monitors}MINSUPPLIES 1\nSHUTDOWNCMD \"/bin/true\"\nNOTIFYCMD {d}/notify.sh\n\
                 NOTIFYFLAG ONBATT EXEC\nNOTIFYFLAG ONLINE EXEC\nPOWERDOWNFLAG {d}/killpower\n{timing}"
            ),
        )
        .expect("write upsmon.conf");
        let log = fs::File::create(dir.path().join("upsmon.log")).expect("upsmon log");
        // upsmon's PID file path is compiled in: a private /run/nut each.
        let child = Command::new("unshare")
            .args([
                "-m",
                "sh",
                "-c",
                &format!(
                    "mkdir -p /run/nut && mount -t tmpfs tmpfs /run/nut && exec {} -D -p",
                    programs.upsmon.display()
                ),
            ])
            .env("NUT_CONFPATH", dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("unshare + upsmon");
        Upsmon { child, dir }
    }

    /// The first `kind` notification for the server on `port` at or after
    /// `since` (seconds since the epoch), in seconds since the epoch.
    fn first(&self, kind: &str, port: u16, since: f64) -> Option<f64> {
        let events = fs::read_to_string(self.dir.path().join("events")).unwrap_or_default();
        let ups = format!("{UPS}@127.0.0.1:{port}");
        events.lines().find_map(|line| {
            let mut words = line.split_whitespace();
            let at: f64 = words.next()?.parse().ok()?;
            (at >= since && words.next()? == kind && words.next()? == ups).then_some(at)
        })
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.path().join("upsmon.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Upsmon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

// --------------------------------------------------------------------------------------- run

/// The two servers under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Side {
    #[serde(rename = "ups2mqtt")]
    Ours,
    #[serde(rename = "nut")]
    Nut,
}

const SIDES: [Side; 2] = [Side::Ours, Side::Nut];

/// What saw the mains failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Observer {
    Poll100ms,
    Poll10ms,
    UpsmonDefault,
    UpsmonPoll1,
}

const OBSERVERS: [Observer; 4] = [
    Observer::Poll100ms,
    Observer::UpsmonDefault,
    Observer::UpsmonPoll1,
    Observer::Poll10ms,
];

impl Observer {
    fn label(self) -> &'static str {
        match self {
            Observer::Poll100ms => "(a) client polling `ups.status` every 100 ms sees OB",
            Observer::UpsmonDefault => "(b) upsmon ONBATT, defaults (POLLFREQ 5)",
            Observer::UpsmonPoll1 => "(b) upsmon ONBATT, POLLFREQ 1 / POLLFREQALERT 1",
            Observer::Poll10ms => "client polling every 10 ms sees OB (the server's own delay)",
        }
    }
}

/// Everything a round watches.
struct Rig {
    pollers_100: [Poller; 2],
    pollers_10: [Poller; 2],
    upsmon_default: Upsmon,
    upsmon_fast: Upsmon,
    ports: [u16; 2],
}

impl Rig {
    fn poller(&self, observer: Observer, side: Side) -> Option<&Poller> {
        let i = side as usize;
        match observer {
            Observer::Poll100ms => Some(&self.pollers_100[i]),
            Observer::Poll10ms => Some(&self.pollers_10[i]),
            _ => None,
        }
    }

    fn upsmon(&self, observer: Observer) -> Option<&Upsmon> {
        match observer {
            Observer::UpsmonDefault => Some(&self.upsmon_default),
            Observer::UpsmonPoll1 => Some(&self.upsmon_fast),
            _ => None,
        }
    }

    /// Seconds from `t0` until `observer` on `side` saw the failure (`ob`)
    /// or the return, if it has.
    fn seen(
        &self,
        observer: Observer,
        side: Side,
        ob: bool,
        t0: (Instant, SystemTime),
    ) -> Option<f64> {
        if let Some(poller) = self.poller(observer, side) {
            let at = if ob {
                poller.first_ob(t0.0)
            } else {
                poller.first_ol(t0.0)
            }?;
            return Some(at.duration_since(t0.0).as_secs_f64());
        }
        let upsmon = self.upsmon(observer)?;
        let kind = if ob { "ONBATT" } else { "ONLINE" };
        let at = upsmon.first(kind, self.ports[side as usize], epoch(t0.1))?;
        Some(at - epoch(t0.1))
    }
}

#[derive(Debug, Serialize)]
struct Sample {
    side: Side,
    observer: Observer,
    /// Seconds from mains off to OB / ONBATT; `None`: not within the timeout.
    seconds: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Round {
    /// Random wait before mains off, counted from NUT's upsd showing OL.
    delay_seconds: f64,
    samples: Vec<Sample>,
}

#[derive(Debug, Serialize)]
struct Report {
    nut_version: String,
    cpus: usize,
    cpu_model: String,
    loadavg_start: String,
    loadavg_end: String,
    rounds: Vec<Round>,
    seconds: f64,
}

fn run(programs: &NutPrograms, rounds: usize) -> Report {
    eprintln!(
        "NUT latency benchmark: {rounds} rounds, NUT {}",
        programs.version
    );
    let loadavg_start = loadavg();
    let broker = Mosquitto::start(false);
    let trap_port = peers::free_udp_port();
    let sink = format!("127.0.0.1:{trap_port},v2c");
    let mut sim = Sim::start(
        Path::new(SIMULATOR),
        1,
        &["--mibs", "rfc1628,mge", "--trap-sink", &sink],
    );
    let ours_port = peers::free_tcp_port();
    let gateway = start_gateway(broker.port, trap_port, sim.port(0), ours_port);
    let nut = NutServer::start(programs, sim.port(0));
    let ports = [ours_port, nut.port];
    let rig = Rig {
        pollers_100: ports.map(|p| Poller::start(p, Duration::from_millis(100))),
        pollers_10: ports.map(|p| Poller::start(p, Duration::from_millis(10))),
        upsmon_default: Upsmon::start(programs, ports, ""),
        upsmon_fast: Upsmon::start(programs, ports, "POLLFREQ 1\nPOLLFREQALERT 1\n"),
        ports,
    };
    wait_ready(&rig, &gateway, &nut);
    let started = Instant::now();
    let mut rng = XorShift::seeded();
    let mut ol_at = Instant::now();
    let mut out = Vec::new();
    for n in 0..rounds {
        let delay = NUT_FULL_UPDATE.mul_f64(rng.unit());
        let off_at = ol_at + delay;
        thread::sleep(off_at.saturating_duration_since(Instant::now()));
        let t0 = (Instant::now(), SystemTime::now());
        let reply = sim.control("mains off");
        assert!(reply.starts_with("ok"), "mains off: {reply}");
        let samples = wait_all(&rig, true, t0);
        let t1 = (Instant::now(), SystemTime::now());
        let reply = sim.control("mains on");
        assert!(reply.starts_with("ok"), "mains on: {reply}");
        let back = wait_all(&rig, false, t1);
        if back.iter().any(|s| s.seconds.is_none()) {
            eprintln!(
                "round {n}: not every observer saw mains return: {back:?}\nupsmon (defaults):\n{}",
                rig.upsmon_default.log_tail()
            );
        }
        ol_at = rig.pollers_10[Side::Nut as usize]
            .first_ol(t1.0)
            .unwrap_or_else(Instant::now);
        eprintln!(
            "round {}/{rounds} (delay {:.1} s, {:.0} s so far): {}",
            n + 1,
            delay.as_secs_f64(),
            started.elapsed().as_secs_f64(),
            samples
                .iter()
                .map(|s| format!("{:?}/{:?} {}", s.side, s.observer, seconds(s.seconds)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push(Round {
            delay_seconds: delay.as_secs_f64(),
            samples,
        });
    }
    let cpu_model = fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("")
        .trim()
        .to_string();
    Report {
        nut_version: programs.version.clone(),
        cpus: thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model,
        loadavg_start,
        loadavg_end: loadavg(),
        rounds: out,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Until both servers answer OL and both upsmons are logged in to both.
fn wait_ready(rig: &Rig, gateway: &Gateway, nut: &NutServer) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let logged_in = |port| numlogins(port) == Some(2);
    while !(rig.pollers_10.iter().all(Poller::answered) && rig.ports.iter().all(|&p| logged_in(p)))
    {
        assert!(
            Instant::now() < deadline,
            "not ready in 90 s (ups.status answered: {:?}, NUMLOGINS: {:?})\n\
             gateway log:\n{}\nupsd log:\n{}\ndriver log:\n{}\nupsmon log:\n{}",
            rig.pollers_10
                .iter()
                .map(Poller::answered)
                .collect::<Vec<_>>(),
            rig.ports.map(numlogins),
            gateway.log_tail(20),
            nut.log("upsd.log"),
            nut.log("driver.log"),
            rig.upsmon_default.log_tail()
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// `GET NUMLOGINS bench` on a server.
fn numlogins(port: u16) -> Option<u32> {
    let stream = TcpStream::connect((LOCALHOST, port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut client = BufReader::new(stream);
    client
        .get_mut()
        .write_all(format!("GET NUMLOGINS {UPS}\n").as_bytes())
        .ok()?;
    let mut line = String::new();
    client.read_line(&mut line).ok()?;
    line.trim_end()
        .strip_prefix(&format!("NUMLOGINS {UPS} "))?
        .parse()
        .ok()
}

/// Waits until every observer on both sides saw the change (or the round
/// timeout passed); the delay of each.
fn wait_all(rig: &Rig, ob: bool, t0: (Instant, SystemTime)) -> Vec<Sample> {
    let pairs = || {
        SIDES
            .iter()
            .flat_map(|&side| OBSERVERS.iter().map(move |&observer| (side, observer)))
    };
    while t0.0.elapsed() < ROUND_TIMEOUT
        && pairs().any(|(side, observer)| rig.seen(observer, side, ob, t0).is_none())
    {
        thread::sleep(Duration::from_millis(20));
    }
    pairs()
        .map(|(side, observer)| Sample {
            side,
            observer,
            seconds: rig.seen(observer, side, ob, t0),
        })
        .collect()
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn seconds(s: Option<f64>) -> String {
    s.map_or("lost".to_string(), |s| format!("{s:.3} s"))
}

/// xorshift64*: the random delays (no crate for one number per round).
struct XorShift(u64);

impl XorShift {
    fn seeded() -> XorShift {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        XorShift((nanos ^ (u64::from(std::process::id()) << 32)) | 1)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

// ------------------------------------------------------------------------------------ render

/// p50 / p90 / p99 (nearest rank) and the number of lost samples.
#[derive(Debug)]
struct Percentiles {
    p50: f64,
    p90: f64,
    p99: f64,
    lost: usize,
}

impl Percentiles {
    fn of(report: &Report, side: Side, observer: Observer) -> Percentiles {
        let all: Vec<Option<f64>> = report
            .rounds
            .iter()
            .flat_map(|r| &r.samples)
            .filter(|s| s.side == side && s.observer == observer)
            .map(|s| s.seconds)
            .collect();
        let mut got: Vec<f64> = all.iter().flatten().copied().collect();
        got.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            if got.is_empty() {
                f64::NAN
            } else {
                got[((p * got.len() as f64).ceil() as usize).clamp(1, got.len()) - 1]
            }
        };
        Percentiles {
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            lost: all.len() - got.len(),
        }
    }

    fn cell(&self) -> String {
        let lost = if self.lost > 0 {
            format!(" ({} lost)", self.lost)
        } else {
            String::new()
        };
        format!(
            "{} / {} / {}{lost}",
            human(self.p50),
            human(self.p90),
            human(self.p99)
        )
    }
}

/// Milliseconds below 10 s, seconds above.
fn human(s: f64) -> String {
    if s < 10.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.1} s")
    }
}

fn render(report: &Report, total: Duration) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "NUT clients: mains off → OB / ONBATT, {} rounds ({} CPUs, {}, load {} at start, {} at end; {:.0} s in all)\n",
        report.rounds.len(),
        report.cpus,
        report.cpu_model,
        report.loadavg_start,
        report.loadavg_end,
        total.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "| p50 / p90 / p99 | ups2mqtt NUT server (traps) | NUT {} snmp-ups (mibs=mge, defaults) + upsd |",
        report.nut_version
    );
    let _ = writeln!(s, "|---|---|---|");
    for observer in OBSERVERS {
        let [ours, nut] = SIDES.map(|side| Percentiles::of(report, side, observer));
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            observer.label(),
            ours.cell(),
            nut.cell()
        );
    }
    let poll = Percentiles::of(report, Side::Ours, Observer::Poll100ms);
    let upsmon = Percentiles::of(report, Side::Ours, Observer::UpsmonPoll1);
    let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
    let _ = writeln!(s, "\n| target (ups2mqtt) | measured p99 | limit | |");
    let _ = writeln!(s, "|---|---|---|---|");
    let _ = writeln!(
        s,
        "| (a) OB to a client polling every 100 ms | {} | < 100 ms | {} |",
        human(poll.p99),
        verdict(poll.p99 < 0.1 && poll.lost == 0)
    );
    let _ = writeln!(
        s,
        "| (b) upsmon ONBATT, POLLFREQ 1 | {} | < 1.5 s | {} |",
        human(upsmon.p99),
        verdict(upsmon.p99 < 1.5 && upsmon.lost == 0)
    );
    s
}
