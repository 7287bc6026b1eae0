//! Real test peers for the integration tests: an SNMP agent (snmpsim) serving a recorded walk, an
//! MQTT broker (mosquitto) and MQTT clients (mosquitto_sub), each on a free loopback port.
//!
//! Every peer is a child process that is killed and reaped (and its temp dir removed) on `Drop`,
//! including when the test panics. The programs come from `bash .ci/run` (apt packages
//! `mosquitto mosquitto-clients snmp` and an snmpsim venv); a missing program makes the test panic
//! with a message saying so.
//!
//! Use from an integration test with `mod support;`. Std only, no dev-dependencies.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// How long snmpsim may take to index its data file and answer a first GET.
const SNMPSIM_READY: Duration = Duration::from_secs(30);
/// Ports tried before [`Snmpsim::start`] gives up (another process answering on each).
const PORT_ATTEMPTS: usize = 5;
/// How long mosquitto may take to accept TCP connections.
const MOSQUITTO_READY: Duration = Duration::from_secs(10);
/// How long mosquitto_sub may take to get its SUBACK.
const SUBSCRIBE_READY: Duration = Duration::from_secs(10);

// ------------------------------------------------------------------------------------------------
// Ports, temp dirs, programs
// ------------------------------------------------------------------------------------------------

/// Ports already handed out by this process (TCP and UDP share the set).
fn handed_out() -> MutexGuard<'static, HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Low end of the kernel's ephemeral port range (outgoing connections and `bind(0)` use it).
fn ephemeral_low() -> u16 {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(32768)
}

/// A free loopback port. Ports are drawn at random below the ephemeral range (so a client's
/// source port can never land on a stopped broker's port, and other processes' `bind(0)` never
/// collide), are checked by binding them, and are never handed out twice within a process.
fn free_port(udp: bool) -> u16 {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let bind_ok = |port: u16| {
        if udp {
            UdpSocket::bind((LOCALHOST, port)).is_ok()
        } else {
            TcpListener::bind((LOCALHOST, port)).is_ok()
        }
    };
    let mut used = handed_out();
    let low = ephemeral_low();
    if low > 12_000 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut x = nanos
            ^ (u64::from(std::process::id()) << 32)
            ^ (SEQ.fetch_add(1, Ordering::Relaxed) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            | 1;
        let span = u64::from(low - 10_000);
        for _ in 0..2000 {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let port = 10_000 + (x % span) as u16;
            if !used.contains(&port) && bind_ok(port) {
                used.insert(port);
                return port;
            }
        }
    }
    for _ in 0..1000 {
        let port = if udp {
            UdpSocket::bind((LOCALHOST, 0)).and_then(|s| s.local_addr())
        } else {
            TcpListener::bind((LOCALHOST, 0)).and_then(|s| s.local_addr())
        }
        .expect("bind a loopback port")
        .port();
        if used.insert(port) {
            return port;
        }
    }
    panic!("no free loopback port found");
}

/// A UDP port free on 127.0.0.1 (bound and released), never the same twice in this process.
pub fn free_udp_port() -> u16 {
    free_port(true)
}

/// A TCP port free on 127.0.0.1 (bound and released), never the same twice in this process.
pub fn free_tcp_port() -> u16 {
    free_port(false)
}

/// A fresh, empty directory under the system temp dir, unique to this process and call.
fn unique_temp_dir(kind: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ups2mqtt-test-{kind}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    set_mode(&dir, 0o755);
    dir
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {:o} {}: {e}", mode, path.display()));
}

/// Whether this process runs with effective uid 0.
fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        // "Uid: real effective saved fs"
        let effective = fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|l| l.starts_with("Uid:"))?;
                line.split_whitespace().nth(2).map(|uid| uid == "0")
            });
        if let Some(root) = effective {
            return root;
        }
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false)
    })
}

/// `name` on `PATH`, then in the sbin directories (mosquitto lives in /usr/sbin).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `name` or a panic naming the Debian package that provides it.
fn require_program(name: &str, package: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| {
        panic!(
            "`{name}` not found (Debian package `{package}`): run `bash .ci/run` once, \
             or `apt-get install {package}`"
        )
    })
}

/// The snmpsim agent program: `$UPS2MQTT_SNMPSIM`, else the venv `.ci/run` creates
/// (`${UPS2MQTT_PEERS:-$HOME/.cache/ups2mqtt-peers}/venv`), else `PATH`.
fn snmpsim_program() -> PathBuf {
    const MISSING: &str = "snmpsim not found: run `bash .ci/run` once, or set UPS2MQTT_SNMPSIM";
    if let Some(p) = std::env::var_os("UPS2MQTT_SNMPSIM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{MISSING} (UPS2MQTT_SNMPSIM={} does not exist)",
            p.display()
        );
        return p;
    }
    let peers = std::env::var_os("UPS2MQTT_PEERS")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ups2mqtt-peers"))
        });
    if let Some(p) = peers
        .map(|p| p.join("venv/bin/snmpsim-command-responder"))
        .filter(|p| p.is_file())
    {
        return p;
    }
    find_program("snmpsim-command-responder").unwrap_or_else(|| panic!("{MISSING}"))
}

/// A net-snmp command-line tool (`snmpget`, `snmpwalk`, `snmpbulkget`, `snmpset`, ...), ready for
/// arguments. Panics when net-snmp is not installed.
pub fn net_snmp(tool: &str) -> Command {
    let mut cmd = Command::new(require_program(tool, "snmp"));
    cmd.stdin(Stdio::null());
    cmd
}

/// Path of a recorded walk: `tests/fixtures/walks/<walk>.snmprec`.
pub fn walk_path(walk: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/walks")
        .join(format!("{walk}.snmprec"))
}

/// Kill and reap; never panics.
fn kill_child(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// The last `lines` lines of a file, for panic messages.
fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ------------------------------------------------------------------------------------------------
// snmpsim
// ------------------------------------------------------------------------------------------------

/// An SNMP agent (snmpsim 1.2) on `127.0.0.1:<free UDP port>` serving one recorded walk with the
/// community `public` (SNMP v1 and v2c).
///
/// It runs with pysnmp's dispatcher debug log (`--debug=dsp`) on stderr, which gets one line per
/// SNMP message the agent accepts, naming its PDU type:
///
/// ```text
/// 2026-11-25 02:42:38,371 pysnmp: receiveMessage: PDU GetBulkRequestPDU:
/// ```
///
/// [`Snmpsim::requests`] parses these lines, so counts are exact per PDU (a GETBULK of 30
/// repetitions is one request, a `snmpwalk` of n objects is n+1 GETNEXTs). Messages the agent
/// decodes but drops (unknown community, ...) have a `receiveMessage: msgVersion N, msg decoded`
/// line and no PDU line: see [`Snmpsim::dropped_count`].
pub struct Snmpsim {
    child: Child,
    port: u16,
    walk: String,
    dir: PathBuf,
    log: PathBuf,
    parsed: Mutex<AgentLog>,
}

/// Incremental parse of the agent's log file.
#[derive(Default)]
struct AgentLog {
    offset: u64,
    partial: Vec<u8>,
    /// PDU kind of each accepted message, in order (`GET`, `GETNEXT`, `GETBULK`, `SET`, ...).
    kinds: Vec<String>,
    /// Messages decoded (accepted or not).
    decoded: usize,
    /// `kinds` before this index are not reported (readiness probes, `reset_requests`).
    baseline: usize,
    decoded_baseline: usize,
}

const PDU_MARK: &str = " pysnmp: receiveMessage: PDU ";
const DECODED_MARK: &str = " pysnmp: receiveMessage: msgVersion ";

impl AgentLog {
    fn update(&mut self, path: &Path) {
        let Ok(mut file) = File::open(path) else {
            return;
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if file.read_to_end(&mut buf).is_err() {
            return;
        }
        self.offset += buf.len() as u64;
        self.partial.extend_from_slice(&buf);
        let Some(last_nl) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        let rest = self.partial.split_off(last_nl + 1);
        let complete = std::mem::replace(&mut self.partial, rest);
        for line in complete.split(|&b| b == b'\n') {
            // Log records start with a timestamp; pretty-printed PDU bodies are indented.
            if !line.first().is_some_and(u8::is_ascii_digit) {
                continue;
            }
            let line = String::from_utf8_lossy(line);
            if let Some(i) = line.find(PDU_MARK) {
                let pdu = line[i + PDU_MARK.len()..].trim().trim_end_matches(':');
                self.kinds.push(pdu_kind(pdu));
            } else if line.contains(DECODED_MARK) && line.ends_with("msg decoded") {
                self.decoded += 1;
            }
        }
    }
}

/// `GetRequestPDU` → `GET`, `GetNextRequestPDU` → `GETNEXT`, `GetBulkRequestPDU` → `GETBULK`,
/// `SetRequestPDU` → `SET`; anything else upper-cased without the `PDU` suffix.
fn pdu_kind(pdu: &str) -> String {
    match pdu {
        "GetRequestPDU" => "GET".into(),
        "GetNextRequestPDU" => "GETNEXT".into(),
        "GetBulkRequestPDU" => "GETBULK".into(),
        "SetRequestPDU" => "SET".into(),
        other => other.trim_end_matches("PDU").to_ascii_uppercase(),
    }
}

impl Snmpsim {
    /// Serve `tests/fixtures/walks/<walk>.snmprec` (e.g. `"eaton-mgeups_9pxle"`) with the
    /// community `public`; returns once the agent answers a GET (at most 30 s).
    ///
    /// snmpsim does not fail when its port is taken: it says it listens, and whoever bound the
    /// port first answers. The port is free when drawn, but another process (other test runs on
    /// the same machine: a simulated card on 50 consecutive ports) may bind it before the agent
    /// does, a second or more later. An answer the agent did not log is that other process's:
    /// the agent is started again on another port.
    pub fn start(walk: &str) -> Snmpsim {
        for _ in 0..PORT_ATTEMPTS {
            if let Some(sim) = Snmpsim::start_on_a_free_port(walk) {
                return sim;
            }
        }
        panic!("snmpsim ({walk}): another process answered on each of {PORT_ATTEMPTS} ports");
    }

    /// One start: `None` if another process answered on the port drawn.
    fn start_on_a_free_port(walk: &str) -> Option<Snmpsim> {
        let src = walk_path(walk);
        if !src.is_file() {
            let known: Vec<String> = fs::read_dir(src.parent().unwrap())
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter_map(|e| {
                            e.file_name()
                                .to_str()?
                                .strip_suffix(".snmprec")
                                .map(String::from)
                        })
                        .collect()
                })
                .unwrap_or_default();
            panic!("no walk fixture {} (known: {known:?})", src.display());
        }
        let program = snmpsim_program();
        let snmpget = require_program("snmpget", "snmp");

        let dir = unique_temp_dir("snmpsim");
        let data = dir.join("data");
        let cache = dir.join("cache");
        fs::create_dir(&data).expect("create snmpsim data dir");
        fs::create_dir(&cache).expect("create snmpsim cache dir");
        set_mode(&data, 0o755);
        // As root the agent drops to nobody, who must write the index there.
        set_mode(&cache, 0o777);
        let served = data.join("public.snmprec");
        fs::copy(&src, &served).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
        set_mode(&served, 0o644);

        // The log file is opened here (by us) and inherited, so the agent needs no write access.
        let log = dir.join("snmpsim.log");
        let log_file = File::create(&log).expect("create snmpsim log");
        let out_file = log_file.try_clone().expect("dup snmpsim log");

        let port = free_udp_port();
        let mut cmd = Command::new(&program);
        cmd.arg(format!("--data-dir={}", data.display()))
            .arg(format!("--cache-dir={}", cache.display()))
            .arg(format!("--agent-udpv4-endpoint=127.0.0.1:{port}"))
            .arg("--logging-method=stderr")
            .arg("--debug=dsp");
        if is_root() {
            let group = if fs::read_to_string("/etc/group")
                .is_ok_and(|g| g.lines().any(|l| l.starts_with("nogroup:")))
            {
                "nogroup"
            } else {
                "nobody"
            };
            cmd.arg("--process-user=nobody")
                .arg(format!("--process-group={group}"));
        }
        cmd.env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(out_file)
            .stderr(log_file);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));

        // From here on, a panic drops `sim`, which kills the agent and removes `dir`.
        let mut sim = Snmpsim {
            child,
            port,
            walk: walk.to_string(),
            dir,
            log,
            parsed: Mutex::new(AgentLog::default()),
        };
        sim.wait_ready(&snmpget).then_some(sim)
    }

    /// Waits for an answer on the port: true if this agent gave it, false if another process
    /// holds the port (the agent logs a request before it answers it).
    fn wait_ready(&mut self, snmpget: &Path) -> bool {
        let deadline = Instant::now() + SNMPSIM_READY;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "snmpsim ({}) exited during start-up with {status}; its log:\n{}",
                    self.walk,
                    tail(&self.log, 40)
                );
            }
            // Any answer (even noSuchObject) proves the agent is up and has indexed the file.
            let probe = Command::new(snmpget)
                .args(["-v2c", "-c", "public", "-t", "0.3", "-r", "0"])
                .arg(format!("127.0.0.1:{}", self.port))
                .arg("1.3.6.1.2.1.1.1.0")
                .stdin(Stdio::null())
                .output();
            if probe.is_ok_and(|o| !o.stdout.is_empty()) {
                if self.parsed().kinds.is_empty() {
                    eprintln!(
                        "snmpsim ({}): udp/127.0.0.1:{} is another process's; another port",
                        self.walk, self.port
                    );
                    return false;
                }
                break;
            }
            if Instant::now() > deadline {
                panic!(
                    "snmpsim ({}) on udp/127.0.0.1:{} did not answer within {SNMPSIM_READY:?}; \
                     its log:\n{}",
                    self.walk,
                    self.port,
                    tail(&self.log, 40)
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
        // The probes are logged before they are answered: exclude them from the counts.
        self.reset_requests();
        true
    }

    /// Freezes the agent (SIGSTOP): it stops answering, as a card that lost
    /// power, on the same port. [`Snmpsim::resume`] brings it back.
    #[allow(dead_code)]
    pub fn pause(&self) {
        signal(self.child.id(), "-STOP");
    }

    /// Resumes a paused agent (SIGCONT).
    #[allow(dead_code)]
    pub fn resume(&self) {
        signal(self.child.id(), "-CONT");
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((LOCALHOST, self.port))
    }

    /// The agent's UDP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The community it serves the walk with: `public`.
    pub fn community(&self) -> &'static str {
        "public"
    }

    /// The agent's process id (gone once the `Snmpsim` is dropped).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The fixture name it serves.
    pub fn walk(&self) -> &str {
        &self.walk
    }

    fn parsed(&self) -> MutexGuard<'_, AgentLog> {
        let mut log = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        log.update(&self.log);
        log
    }

    /// PDU kinds of the requests the agent accepted since it became ready (or since the last
    /// [`Snmpsim::reset_requests`]), in arrival order: `"GET"`, `"GETNEXT"`, `"GETBULK"`, `"SET"`.
    /// A request is logged before it is answered, so once a client has its response, the request
    /// is counted.
    pub fn requests(&self) -> Vec<String> {
        let log = self.parsed();
        log.kinds[log.baseline..].to_vec()
    }

    /// Number of request PDUs the agent accepted since it became ready (or since the last
    /// [`Snmpsim::reset_requests`]). Retries count: each is a PDU on the wire.
    pub fn request_count(&self) -> usize {
        let log = self.parsed();
        log.kinds.len() - log.baseline
    }

    /// `request_count` of one kind (`"GET"`, `"GETNEXT"`, `"GETBULK"`, `"SET"`).
    pub fn request_count_of(&self, kind: &str) -> usize {
        self.requests().iter().filter(|k| *k == kind).count()
    }

    /// Messages the agent decoded but did not serve (unknown community, SNMPv3 discovery or
    /// decryption failure), over the same window as `request_count`.
    pub fn dropped_count(&self) -> usize {
        let log = self.parsed();
        (log.decoded - log.decoded_baseline).saturating_sub(log.kinds.len() - log.baseline)
    }

    /// Start counting from zero again.
    pub fn reset_requests(&self) {
        let mut log = self.parsed();
        log.baseline = log.kinds.len();
        log.decoded_baseline = log.decoded;
    }

    /// The agent's whole log so far (for assertion messages).
    pub fn log(&self) -> String {
        fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

/// A stopped process must be continued to die on SIGTERM-like kills.
fn signal_quietly(pid: u32) {
    let _ = Command::new("kill")
        .args(["-CONT", &pid.to_string()])
        .status();
}

fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}

impl Drop for Snmpsim {
    fn drop(&mut self) {
        signal_quietly(self.child.id());
        kill_child(&mut self.child);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

// ------------------------------------------------------------------------------------------------
// mosquitto
// ------------------------------------------------------------------------------------------------

/// An MQTT broker (mosquitto 2) on `127.0.0.1:<free TCP port>`, anonymous, no persistence (so a
/// restart loses retained messages), logging everything to a file in its temp dir.
pub struct Mosquitto {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    conf: PathBuf,
    log: PathBuf,
    program: PathBuf,
}

impl Mosquitto {
    /// Start a broker on a free port; returns once it accepts TCP connections (at most 10 s).
    pub fn start() -> Mosquitto {
        Mosquitto::start_with("")
    }

    /// Like [`Mosquitto::start`], with more lines for the listener (e.g. TLS `cafile`,
    /// `certfile`, `keyfile`; files must be readable by the `mosquitto` user).
    pub fn start_with(listener_options: &str) -> Mosquitto {
        let program = require_program("mosquitto", "mosquitto");
        let port = free_tcp_port();
        let dir = unique_temp_dir("mosquitto");
        let conf = dir.join("mosquitto.conf");
        let log = dir.join("mosquitto.log");
        // Logs go to stderr, which is the log file opened by us: as root mosquitto drops to the
        // `mosquitto` user, which could not open a file in our temp dir itself.
        fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\n\
                 {listener_options}\n\
                 allow_anonymous true\n\
                 persistence false\n\
                 log_dest stderr\n\
                 log_type all\n\
                 log_timestamp_format %Y-%m-%dT%H:%M:%S\n\
                 connection_messages true\n"
            ),
        )
        .expect("write mosquitto.conf");
        set_mode(&conf, 0o644);
        let mut broker = Mosquitto {
            child: None,
            port,
            dir,
            conf,
            log,
            program,
        };
        broker.spawn_ready();
        broker
    }

    fn spawn_ready(&mut self) {
        let deadline = Instant::now() + MOSQUITTO_READY;
        loop {
            let log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .expect("open mosquitto log");
            let out = log.try_clone().expect("dup mosquitto log");
            let child = Command::new(&self.program)
                .arg("-c")
                .arg(&self.conf)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", self.program.display()));
            self.child = Some(child);
            loop {
                if TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200)).is_ok() {
                    return;
                }
                let child = self.child.as_mut().unwrap();
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    // E.g. the port is still held by the previous instance's sockets: retry.
                    if Instant::now() > deadline {
                        panic!(
                            "mosquitto on 127.0.0.1:{} exited with {status}; its log:\n{}",
                            self.port,
                            tail(&self.log, 30)
                        );
                    }
                    thread::sleep(Duration::from_millis(200));
                    break;
                }
                if Instant::now() > deadline {
                    panic!(
                        "mosquitto on 127.0.0.1:{} not accepting connections within \
                         {MOSQUITTO_READY:?}; its log:\n{}",
                        self.port,
                        tail(&self.log, 30)
                    );
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// The broker's TCP port on 127.0.0.1 (the same across `stop`/`restart`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((LOCALHOST, self.port))
    }

    /// The broker's process id while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the broker process is running (between `start`/`restart` and `stop`).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kill the broker (SIGKILL, like a crash: clients see their connection drop) and wait for
    /// it to be gone. The port stays reserved for `restart`. No-op when already stopped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_child(&mut child);
        }
    }

    /// Stop the broker if running, then start it again on the same port; returns once it
    /// accepts connections. Retained messages are gone (no persistence).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn_ready();
    }

    /// The broker's log so far, across restarts (for assertion messages).
    pub fn log(&self) -> String {
        fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

// ------------------------------------------------------------------------------------------------
// mosquitto_sub
// ------------------------------------------------------------------------------------------------

/// One message as `mosquitto_sub -v` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: String,
    /// The retain flag as received (set for retained messages sent on subscription).
    pub retain: bool,
}

impl Message {
    /// `"<topic> <payload>"`, the `mosquitto_sub -v` line.
    pub fn line(&self) -> String {
        format!("{} {}", self.topic, self.payload)
    }
}

#[derive(Default)]
struct SubState {
    messages: Vec<Message>,
    subacks: usize,
    eof: bool,
    last_event: Option<Instant>,
}

#[derive(Default)]
struct SubShared {
    state: Mutex<SubState>,
    cond: Condvar,
}

impl SubShared {
    fn lock(&self) -> MutexGuard<'_, SubState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running `mosquitto_sub -d -v` with a reader thread. With `-d` each message is announced by
/// `Client … received PUBLISH (d0, q0, r1, m0, 'TOPIC', … (N bytes))`, which gives the exact
/// payload length (payloads may hold newlines) and the retain flag; `stdbuf -oL` makes the
/// debug lines (e.g. `received SUBACK`) arrive as they happen.
struct SubProcess {
    child: Child,
    shared: Arc<SubShared>,
    reader: Option<JoinHandle<()>>,
}

impl SubProcess {
    fn spawn(port: u16, topic_filter: &str, extra: &[&str]) -> SubProcess {
        let sub = require_program("mosquitto_sub", "mosquitto-clients");
        let mut cmd = match find_program("stdbuf") {
            Some(stdbuf) => {
                let mut c = Command::new(stdbuf);
                c.arg("-oL").arg(&sub);
                c
            }
            None => Command::new(&sub),
        };
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-d",
            "-v",
            "-t",
            topic_filter,
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn mosquitto_sub: {e}"));
        let stdout = child.stdout.take().expect("mosquitto_sub stdout");
        let shared = Arc::new(SubShared::default());
        let reader = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || read_sub_output(stdout, &shared))
        };
        SubProcess {
            child,
            shared,
            reader: Some(reader),
        }
    }

    /// Wait until `n` SUBACKs were received (or the process ended, or the timeout).
    fn wait_subacks(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            if st.subacks >= n {
                return true;
            }
            let now = Instant::now();
            if st.eof || now >= deadline {
                return false;
            }
            st = self
                .shared
                .cond
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for SubProcess {
    fn drop(&mut self) {
        kill_child(&mut self.child);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// `Client <id> received PUBLISH (d0, q0, r1, m0, 'a/b', ... (11 bytes))` → (topic, retain, len).
fn parse_publish_line(line: &str) -> Option<(String, bool, usize)> {
    let rest = line.strip_prefix("Client ")?;
    let (_, rest) = rest.split_once(" received PUBLISH (")?;
    let rest = rest.strip_suffix(" bytes))")?;
    let (head, len) = rest.rsplit_once("', ... (")?;
    let len = len.parse().ok()?;
    let mut fields = head.splitn(5, ", ");
    let _dup = fields.next()?;
    let _qos = fields.next()?;
    let retain = fields.next()? == "r1";
    let _mid = fields.next()?;
    let topic = fields.next()?.strip_prefix('\'')?;
    Some((topic.to_string(), retain, len))
}

fn is_debug_line(line: &str) -> bool {
    line.starts_with("Client ") && (line.contains(" sending ") || line.contains(" received "))
        || line.starts_with("Subscribed (mid:")
}

fn read_sub_output(stdout: ChildStdout, shared: &SubShared) {
    fn read_line(rd: &mut BufReader<ChildStdout>, buf: &mut Vec<u8>) -> bool {
        buf.clear();
        matches!(rd.read_until(b'\n', buf), Ok(n) if n > 0)
    }
    let mut rd = BufReader::new(stdout);
    let mut buf = Vec::new();
    'outer: while read_line(&mut rd, &mut buf) {
        let line = String::from_utf8_lossy(&buf)
            .trim_end_matches('\n')
            .to_string();
        if line.starts_with("Client ") && line.ends_with(" received SUBACK") {
            let mut st = shared.lock();
            st.subacks += 1;
            st.last_event = Some(Instant::now());
            shared.cond.notify_all();
            continue;
        }
        let Some((topic, retain, len)) = parse_publish_line(&line) else {
            continue;
        };
        // The message follows: "<topic> <payload>\n" (payload "(null)" when empty), possibly
        // after other debug lines (e.g. a PUBACK for QoS 1).
        let mut text = loop {
            if !read_line(&mut rd, &mut buf) {
                break 'outer;
            }
            let l = String::from_utf8_lossy(&buf);
            if !is_debug_line(l.trim_end_matches('\n')) {
                break buf.clone();
            }
        };
        let payload = if len == 0 {
            String::new()
        } else {
            let want = topic.len() + 1 + len + 1;
            if text.len() < want {
                let mut more = vec![0; want - text.len()];
                if rd.read_exact(&mut more).is_err() {
                    break;
                }
                text.extend_from_slice(&more);
            }
            if text.last() == Some(&b'\n') {
                text.pop();
            }
            let prefix = format!("{topic} ");
            let body = text.strip_prefix(prefix.as_bytes()).unwrap_or(&text);
            String::from_utf8_lossy(body).into_owned()
        };
        let mut st = shared.lock();
        st.messages.push(Message {
            topic,
            payload,
            retain,
        });
        st.last_event = Some(Instant::now());
        shared.cond.notify_all();
    }
    let mut st = shared.lock();
    st.eof = true;
    shared.cond.notify_all();
}

/// An MQTT subscriber (`mosquitto_sub -v -t <filter>`) collecting messages on a background
/// thread. `start` returns once the broker acknowledged the subscription, so anything published
/// afterwards is seen. It reconnects and resubscribes by itself after a broker restart.
pub struct Subscriber {
    proc_: SubProcess,
    port: u16,
    topic_filter: String,
    /// Messages before this index were consumed by `wait_for`/`wait_message`.
    cursor: Mutex<usize>,
}

impl Subscriber {
    /// Subscribe to `topic_filter` (MQTT wildcards allowed) on `127.0.0.1:port`; waits up to
    /// 10 s for the SUBACK.
    pub fn start(port: u16, topic_filter: &str) -> Subscriber {
        Subscriber::start_with(port, topic_filter, &[])
    }

    /// Like [`Subscriber::start`], with more `mosquitto_sub` arguments (e.g. `-q 1`).
    pub fn start_with(port: u16, topic_filter: &str, extra: &[&str]) -> Subscriber {
        let sub = Subscriber {
            proc_: SubProcess::spawn(port, topic_filter, extra),
            port,
            topic_filter: topic_filter.to_string(),
            cursor: Mutex::new(0),
        };
        assert!(
            sub.proc_.wait_subacks(1, SUBSCRIBE_READY),
            "mosquitto_sub -t '{topic_filter}' on 127.0.0.1:{port}: no SUBACK within \
             {SUBSCRIBE_READY:?}"
        );
        sub
    }

    /// Wait for the next message, after the last one a `wait_*` call returned, whose
    /// `"<topic> <payload>"` line satisfies `pred`; returns that line, or `None` on timeout.
    /// Messages skipped over are still in `messages()`.
    pub fn wait_for(
        &self,
        mut pred: impl FnMut(&str) -> bool,
        timeout: Duration,
    ) -> Option<String> {
        self.wait_message(|m| pred(&m.line()), timeout)
            .map(|m| m.line())
    }

    /// Like `wait_for`, on the parsed message (topic, payload, retain flag).
    pub fn wait_message(
        &self,
        mut pred: impl FnMut(&Message) -> bool,
        timeout: Duration,
    ) -> Option<Message> {
        let deadline = Instant::now() + timeout;
        let mut cursor = self.cursor.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = self.proc_.shared.lock();
        loop {
            while *cursor < st.messages.len() {
                let i = *cursor;
                *cursor += 1;
                if pred(&st.messages[i]) {
                    return Some(st.messages[i].clone());
                }
            }
            let now = Instant::now();
            if st.eof || now >= deadline {
                return None;
            }
            st = self
                .proc_
                .shared
                .cond
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// How many messages were received so far.
    pub fn count(&self) -> usize {
        self.proc_.shared.lock().messages.len()
    }

    /// All messages received so far, in order.
    pub fn messages(&self) -> Vec<Message> {
        self.proc_.shared.lock().messages.clone()
    }

    /// All messages received so far as `"<topic> <payload>"` lines.
    pub fn lines(&self) -> Vec<String> {
        self.proc_
            .shared
            .lock()
            .messages
            .iter()
            .map(Message::line)
            .collect()
    }

    /// Wait until the subscription was acknowledged `n` times in all (1 after `start`; one more
    /// after each broker restart, once mosquitto_sub has reconnected).
    pub fn wait_subscribed(&self, n: usize, timeout: Duration) -> bool {
        self.proc_.wait_subacks(n, timeout)
    }

    /// The broker port it is connected to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its topic filter.
    pub fn topic_filter(&self) -> &str {
        &self.topic_filter
    }
}

/// The retained messages on the broker at `127.0.0.1:port` matching `topic_filter`, as
/// `(topic, payload)` pairs in the order the broker sends them. Runs
/// `mosquitto_sub -v -t <filter> -W <secs> --retained-only`; returns once the burst of retained
/// messages that follows the SUBACK has been quiet for 300 ms, or at `timeout` (rounded up to
/// whole seconds for `-W`), whichever is first. Panics when the broker does not acknowledge the
/// subscription within `timeout` (e.g. it is stopped), so "no retained message" is never a
/// false negative.
pub fn retained(port: u16, topic_filter: &str, timeout: Duration) -> Vec<(String, String)> {
    retained_messages(port, topic_filter, timeout)
        .into_iter()
        .map(|m| (m.topic, m.payload))
        .collect()
}

/// `retained` with the parsed messages.
pub fn retained_messages(port: u16, topic_filter: &str, timeout: Duration) -> Vec<Message> {
    const QUIET: Duration = Duration::from_millis(300);
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    let secs = secs.max(1).to_string();
    let sub = SubProcess::spawn(port, topic_filter, &["-W", &secs, "--retained-only"]);
    let deadline = Instant::now() + timeout;
    let shared = Arc::clone(&sub.shared);
    let mut st = shared.lock();
    loop {
        let now = Instant::now();
        if st.eof || now >= deadline {
            break;
        }
        let mut wait = deadline - now;
        if st.subacks > 0 {
            let quiet_until = st.last_event.map_or(now, |t| t + QUIET);
            if now >= quiet_until {
                break;
            }
            wait = wait.min(quiet_until - now);
        }
        st = shared
            .cond
            .wait_timeout(st, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    let subscribed = st.subacks > 0;
    let messages: Vec<Message> = st.messages.iter().filter(|m| m.retain).cloned().collect();
    drop(st);
    drop(sub);
    assert!(
        subscribed,
        "retained: mosquitto_sub could not subscribe to '{topic_filter}' on 127.0.0.1:{port} \
         within {timeout:?} (is the broker running?)"
    );
    messages
}

pub mod every_field;
pub mod gateway;
pub mod home_assistant;
pub mod sim;
pub mod snmpd;

/// A private CA and a server certificate it signed for `localhost` and
/// 127.0.0.1 (RSA, made with the openssl command line), in a temp dir
/// removed on `Drop`: `ca.pem`, `server.pem`, `server.key`.
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    pub fn generate() -> Pki {
        let dir = unique_temp_dir("pki");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .current_dir(&dir)
                .args(args)
                .output()
                .expect("run openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let new_key = ["-newkey", "rsa:2048", "-nodes"];
        let ca_subject = ["-days", "2", "-subj", "/CN=ups2mqtt test CA"];
        let ca_out = ["-keyout", "ca.key", "-out", "ca.pem"];
        openssl(&[&["req", "-x509"][..], &new_key, &ca_subject, &ca_out].concat());
        let server = [
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ];
        openssl(&[&["req"][..], &new_key, &server].concat());
        fs::write(
            dir.join("san.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ]);
        // Readable by peers that drop privileges (mosquitto).
        Command::new("chmod")
            .args(["-R", "a+rX"])
            .arg(&dir)
            .status()
            .unwrap();
        Pki { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
