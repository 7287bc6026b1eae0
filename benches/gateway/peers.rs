//! The processes a benchmark run starts, all on loopback: mosquitto, the
//! simulator (`ups2mqtt-sim --agents N`), `ups2mqtt run`, and a counting UDP
//! relay. Every child is killed by its own pid on drop; temp dirs are removed.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

// ------------------------------------------------------------------------------------ helpers

/// A fresh directory under the system temp dir, removed by [`TempDir`]'s drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(kind: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ups2mqtt-bench-{kind}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        set_mode(&dir, 0o755);
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_tcp_port() -> u16 {
    TcpListener::bind((LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind a loopback TCP port")
        .port()
}

/// A free UDP port on 127.0.0.1, below the ephemeral range (bound, then
/// released).
pub fn free_udp_port() -> u16 {
    // Below the ephemeral range: a port from inside it, free when checked,
    // could be some socket's ephemeral port by the time the gateway binds
    // it (a 500-UPS gateway opens 500 of them; one run lost its trap port
    // so).
    free_udp_range(1, port_seed())
}

/// A seed for [`free_udp_range`] that differs between calls and between
/// benchmark processes.
fn port_seed() -> u64 {
    Instant::now().elapsed().as_nanos() as u64
        ^ u64::from(std::process::id()) << 20
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7)
}

/// `count` consecutive free UDP ports below the ephemeral range; the first.
pub fn free_udp_range(count: u16, seed: u64) -> u16 {
    let low_ephemeral: u16 = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(32768);
    let top = low_ephemeral.saturating_sub(count).max(11_000);
    let mut x = seed | 1;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let base = 10_000 + (x % u64::from(top - 10_000)) as u16;
        if (0..count).all(|i| UdpSocket::bind((LOCALHOST, base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no {count} consecutive free UDP ports found");
}

/// `name` on PATH or in the sbin directories.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// SIGTERM to one pid (a child of ours).
pub fn sigterm(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

/// Waits for a child to exit, SIGKILL after `grace`.
pub fn reap(child: &mut Child, grace: Duration) {
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

// ------------------------------------------------------------------------------- /proc reading

/// Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 if unknown).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// utime + stime of a process, in seconds (all its threads).
pub fn cpu_seconds(pid: u32, ticks: f64) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / ticks)
}

/// CPU time of all live threads of a process, in seconds, from
/// /proc/<pid>/task/*/schedstat (nanoseconds: finer than the 10 ms ticks of
/// utime + stime, which matter for a gateway idling with one UPS).
pub fn cpu_seconds_precise(pid: u32) -> Option<f64> {
    let mut total: u64 = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        if let Ok(text) = fs::read_to_string(path) {
            total += text.split_whitespace().next()?.parse::<u64>().ok()?;
        }
    }
    Some(total as f64 / 1e9)
}

/// A `Vm*` line of /proc/<pid>/status, in KiB (VmHWM: peak RSS, VmRSS: now).
pub fn vm_kib(pid: u32, key: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

// ---------------------------------------------------------------------------------- mosquitto

/// mosquitto on a free loopback port, anonymous, no persistence, little logging.
pub struct Mosquitto {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Mosquitto {
    /// `nagle`: leave TCP_NODELAY off, as in mosquitto's stock configuration
    /// (`set_tcp_nodelay false`); the benchmark's broker sets it otherwise.
    pub fn start(nagle: bool) -> Mosquitto {
        let program = find_program("mosquitto")
            .expect("`mosquitto` not found: apt-get install mosquitto (or run bash .ci/run once)");
        let dir = TempDir::new("mosquitto");
        let port = free_tcp_port();
        let conf = dir.0.join("mosquitto.conf");
        fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 log_dest stderr\nlog_type error\nlog_type warning\n\
                 max_queued_messages 100000\nset_tcp_nodelay {}\n",
                !nagle
            ),
        )
        .expect("write mosquitto.conf");
        set_mode(&conf, 0o644);
        let log = fs::File::create(dir.0.join("mosquitto.log")).expect("mosquitto log");
        let child = Command::new(program)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("spawn mosquitto");
        let broker = Mosquitto {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from((LOCALHOST, port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto does not accept connections on {addr}"
            );
            thread::sleep(Duration::from_millis(20));
        }
        broker
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// -------------------------------------------------------------------------------- simulator

/// `ups2mqtt-sim --agents N` on consecutive ports from `base`, with a control port.
pub struct Sim {
    child: Child,
    pub base: u16,
    control: BufReader<TcpStream>,
}

impl Sim {
    pub fn start(program: &Path, agents: u16, extra: &[&str]) -> Sim {
        let seed = port_seed();
        let mut last_error = String::new();
        for attempt in 0..5u64 {
            let base = free_udp_range(agents, seed.wrapping_add(attempt * 7919));
            match Sim::try_start(program, agents, base, extra) {
                Ok(sim) => return sim,
                Err(e) => last_error = e,
            }
        }
        panic!("ups2mqtt-sim did not start: {last_error}");
    }

    fn try_start(program: &Path, agents: u16, base: u16, extra: &[&str]) -> Result<Sim, String> {
        let mut child = Command::new(program)
            .args(["--listen", &format!("127.0.0.1:{base}")])
            .args(["--agents", &agents.to_string()])
            .args(["--control", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", program.display()))?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut control = None;
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("control tcp ") {
                        control = Some(addr.trim().to_string());
                    } else if line.starts_with("listening udp ") {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("no `listening udp` line (port taken?)".to_string());
                }
            }
        }
        let control = control.ok_or("no control line")?;
        let stream = TcpStream::connect(&control).map_err(|e| format!("control {control}: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Ok(Sim {
            child,
            base,
            control: BufReader::new(stream),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self, agent: u16) -> u16 {
        self.base + agent
    }

    /// One control line → its reply (`ok ...`). The line goes out in one
    /// write on a TCP_NODELAY socket: `writeln!` on the stream writes the
    /// text and the newline separately, and Nagle then holds the newline
    /// until the simulator's delayed ACK (about 40 ms), which the NUT latency
    /// benchmark would count against the servers.
    pub fn control(&mut self, line: &str) -> String {
        self.control
            .get_mut()
            .write_all(format!("{line}\n").as_bytes())
            .expect("write control");
        let mut reply = String::new();
        self.control.read_line(&mut reply).expect("control reply");
        reply.trim_end().to_string()
    }

    /// The `requests` counter of every agent.
    pub fn requests(&mut self) -> Vec<u64> {
        let reply = self.control("stats");
        let json: serde_json::Value = serde_json::from_str(
            reply
                .strip_prefix("ok ")
                .unwrap_or_else(|| panic!("stats: {reply}")),
        )
        .expect("stats JSON");
        let one = |v: &serde_json::Value| v["requests"].as_u64().unwrap_or(0);
        match &json {
            serde_json::Value::Array(all) => all.iter().map(one).collect(),
            single => vec![one(single)],
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --------------------------------------------------------------------------------- gateway

/// `ups2mqtt run --config <generated>`, logging (info) to a file.
pub struct Gateway {
    child: Option<Child>,
    dir: TempDir,
}

impl Gateway {
    pub fn start(program: &Path, toml: &str) -> Gateway {
        let dir = TempDir::new("gateway");
        let config = dir.0.join("config.toml");
        fs::write(&config, toml).expect("write config");
        let log = fs::File::create(dir.0.join("gateway.log")).expect("gateway log");
        let child = Command::new(program)
            .args(["run", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("spawn ups2mqtt run");
        Gateway {
            child: Some(child),
            dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| !matches!(c.try_wait(), Ok(None)))
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = fs::read_to_string(self.dir.0.join("gateway.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Lines of the log at WARN or ERROR: how many, and the first three.
    pub fn warnings(&self) -> (usize, Vec<String>) {
        let log =
            strip_ansi(&fs::read_to_string(self.dir.0.join("gateway.log")).unwrap_or_default());
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
            .collect();
        let first = lines.iter().take(3).map(|l| l.to_string()).collect();
        (lines.len(), first)
    }

    /// SIGTERM, then SIGKILL after 10 s.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            sigterm(child.id());
            reap(&mut child, Duration::from_secs(10));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The text of a log without its colour escapes (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ----------------------------------------------------------------------------------- relay

/// One datagram through the relay.
#[derive(Debug, Clone, Copy)]
pub struct Datagram {
    pub at: Instant,
    /// Manager → agent (a request) or agent → manager (a response).
    pub request: bool,
    /// UDP payload bytes.
    pub bytes: usize,
}

/// A UDP relay in front of one agent that logs every datagram: the same
/// wire count for ups2mqtt and NUT. One manager at a time.
pub struct Relay {
    pub port: u16,
    log: Arc<Mutex<Vec<Datagram>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Relay {
    pub fn start(agent_port: u16) -> Relay {
        let front = UdpSocket::bind((LOCALHOST, 0)).expect("relay front");
        let back = UdpSocket::bind((LOCALHOST, 0)).expect("relay back");
        back.connect((LOCALHOST, agent_port))
            .expect("relay connect");
        let tick = Some(Duration::from_millis(50));
        front.set_read_timeout(tick).unwrap();
        back.set_read_timeout(tick).unwrap();
        let port = front.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
        let mut threads = Vec::new();
        {
            let (front, back) = (front.try_clone().unwrap(), back.try_clone().unwrap());
            let (log, stop, client) = (log.clone(), stop.clone(), client.clone());
            threads.push(thread::spawn(move || {
                let mut buf = vec![0u8; 65_536];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok((n, from)) = front.recv_from(&mut buf) {
                        let at = Instant::now();
                        *client.lock().unwrap() = Some(from);
                        log.lock().unwrap().push(Datagram {
                            at,
                            request: true,
                            bytes: n,
                        });
                        let _ = back.send(&buf[..n]);
                    }
                }
            }));
        }
        {
            let (log, stop) = (log.clone(), stop.clone());
            threads.push(thread::spawn(move || {
                let mut buf = vec![0u8; 65_536];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(n) = back.recv(&mut buf) {
                        let at = Instant::now();
                        log.lock().unwrap().push(Datagram {
                            at,
                            request: false,
                            bytes: n,
                        });
                        if let Some(to) = *client.lock().unwrap() {
                            let _ = front.send_to(&buf[..n], to);
                        }
                    }
                }
            }));
        }
        Relay {
            port,
            log,
            stop,
            threads,
        }
    }

    /// Everything logged so far, and a fresh log.
    pub fn take(&self) -> Vec<Datagram> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Requests and bytes of one burst of datagrams (one poll or one update).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Burst {
    pub requests: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// Splits a datagram log into bursts separated by `gap` without a request;
/// a response belongs to the burst of the request before it.
pub fn bursts(log: &[Datagram], gap: Duration) -> Vec<Burst> {
    let mut sorted = log.to_vec();
    sorted.sort_by_key(|d| d.at);
    let mut out: Vec<Burst> = Vec::new();
    let mut last_request: Option<Instant> = None;
    for d in sorted {
        if d.request {
            if last_request.is_none_or(|t| d.at.duration_since(t) > gap) {
                out.push(Burst::default());
            }
            last_request = Some(d.at);
            let b = out.last_mut().expect("pushed");
            b.requests += 1;
            b.bytes_sent += d.bytes as u64;
        } else if let Some(b) = out.last_mut() {
            b.bytes_received += d.bytes as u64;
        }
    }
    out
}

/// Whether `program` is on the PATH (or in /usr/sbin, where Debian puts
/// snmpd).
pub fn installed(program: &str) -> bool {
    program_path(program).is_some()
}

fn program_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// net-snmp's agent on loopback with the SNMPv3 users of the benchmark's
/// v3 rows and `public` for v2c, proxying the UPS subtrees to `upstream`
/// over v2c.
pub struct Snmpd {
    pub port: u16,
    child: Child,
    dir: TempDir,
}

impl Snmpd {
    pub fn start(upstream: u16) -> Snmpd {
        let dir = TempDir::new("snmpd");
        let persistent = dir.0.join("persistent");
        fs::create_dir(&persistent).expect("snmpd persistent dir");
        let mut conf = String::from(
            "createUser bench SHA bench-auth-pw AES bench-priv-pw\nrouser bench priv\n\
             createUser bench256 SHA-256 bench-auth-pw AES-256 bench-priv-pw\nrouser bench256 priv\n\
             rocommunity public 127.0.0.1\n",
        );
        for subtree in [".1.3.6.1.2.1.33", ".1.3.6.1.4.1.705", ".1.3.6.1.4.1.318"] {
            conf.push_str(&format!(
                "proxy -v 2c -c public -t 2 -r 2 127.0.0.1:{upstream} {subtree}\n"
            ));
        }
        let conf_path = dir.0.join("snmpd.conf");
        fs::write(&conf_path, conf).expect("write snmpd.conf");
        let port = free_udp_port();
        let log = fs::File::create(dir.0.join("snmpd.log")).expect("snmpd log");
        let child = Command::new(program_path("snmpd").expect("snmpd installed"))
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(format!(
                "{},{}",
                conf_path.display(),
                persistent.join("snmpd.conf").display()
            ))
            .arg(format!("--persistentDir={}", persistent.display()))
            .args(["-M", "/nonexistent", "-m", ""])
            .arg(format!("udp:127.0.0.1:{port}"))
            .env("MIBS", "")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup snmpd log"))
            .stderr(log)
            .spawn()
            .expect("spawn snmpd");
        let snmpd = Snmpd { port, child, dir };
        snmpd.wait_ready();
        snmpd
    }

    /// Until it answers a v2c GET through its proxy.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answered = Command::new("snmpget")
                .args(["-v2c", "-c", "public", "-t", "0.3", "-r", "0", "-Oqv"])
                .arg(format!("127.0.0.1:{}", self.port))
                .arg("1.3.6.1.2.1.33.1.1.1.0")
                .env("MIBS", "")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
            if answered {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "snmpd did not answer within 20 s; its log:\n{}",
                fs::read_to_string(self.dir.0.join("snmpd.log")).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
