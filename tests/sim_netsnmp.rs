//! `ups2mqtt-sim` against net-snmp's own tools (snmpget, snmpgetnext,
//! snmpbulkget, snmpwalk, snmpset, snmptrapd): a peer nobody here wrote.
//!
//! Each test starts the built simulator on loopback (UDP port 0: the port
//! it reports on stdout is used, so parallel tests never collide), drives
//! it through its control port or stdin, and checks what the net-snmp
//! tools see. The helpers are local to this file on purpose.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};
use ups2mqtt::mib::{self, Mib, Page};

const START_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- helpers

/// A child process killed and reaped on drop, with its stdout lines
/// collected by a thread.
struct Proc {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    fn spawn(mut command: Command, stdin: Stdio) -> Proc {
        let program = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a stdout line matching `pred`; panics with what was seen.
    fn wait_for(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out; output so far:\n{}", self.seen.join("\n"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("process exited; output:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    /// Everything printed so far (without waiting).
    fn drain(&mut self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running simulator.
struct Sim {
    proc: Proc,
    /// `127.0.0.1:PORT` of agent 0.
    agent: String,
    control: Option<BufReader<TcpStream>>,
    stdin: Option<ChildStdin>,
}

impl Sim {
    /// Starts the simulator with a control port and `args`.
    fn start(args: &[&str]) -> Sim {
        Sim::launch(args, true)
    }

    fn launch(args: &[&str], with_control: bool) -> Sim {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ups2mqtt-sim"));
        if !args.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        if with_control {
            command.args(["--control", "127.0.0.1:0"]);
        }
        command.args(args).env("RUST_LOG", "warn");
        // Without a control port, stdin is closed: the agents must keep serving.
        let stdin = if with_control {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut proc = Proc::spawn(command, stdin);
        let stdin = proc.child.stdin.take();
        let mut control_port = None;
        let listening = proc.wait_for(START_TIMEOUT, |l| l.starts_with("listening udp "));
        if with_control {
            let line = proc
                .seen
                .iter()
                .find(|l| l.starts_with("control tcp "))
                .expect("control line first")
                .clone();
            control_port = Some(line["control tcp ".len()..].to_string());
        }
        let agent = listening["listening udp ".len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let control = control_port.map(|addr| {
            let stream = TcpStream::connect(&addr).expect("control port accepts");
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            BufReader::new(stream)
        });
        Sim {
            proc,
            agent,
            control,
            stdin,
        }
    }

    /// Sends a control line on the TCP port and returns the reply line.
    fn control(&mut self, line: &str) -> String {
        let control = self.control.as_mut().expect("started with a control port");
        writeln!(control.get_mut(), "{line}").unwrap();
        let mut reply = String::new();
        control.read_line(&mut reply).expect("a reply line");
        let reply = reply.trim_end().to_string();
        assert!(reply.starts_with("ok"), "{line:?} → {reply:?}");
        reply
    }

    /// Sends a control line on stdin and returns the reply line.
    fn stdin_command(&mut self, line: &str) -> String {
        writeln!(self.stdin.as_mut().expect("stdin"), "{line}").unwrap();
        self.proc.wait_for(Duration::from_secs(10), |l| {
            l.starts_with("ok") || l.starts_with("error")
        })
    }
}

/// Runs a net-snmp tool with numeric OIDs, no MIB loading and short
/// timeouts.
fn net_snmp(tool: &str, args: &[&str]) -> Output {
    Command::new(tool)
        .args(["-m", "", "-On", "-t", "2", "-r", "1"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} (apt package snmp): {e}"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `OID = TYPE: value` lines → OID → `TYPE: value`.
fn parse_vars(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.contains("No more variables left"))
        .filter_map(|l| l.split_once(" = "))
        .map(|(oid, value)| {
            (
                oid.trim().trim_start_matches('.').to_string(),
                value.trim().to_string(),
            )
        })
        .collect()
}

/// snmpget of one OID → `TYPE: value`.
fn get(agent: &str, community: &str, oid: &str) -> String {
    let output = net_snmp("snmpget", &["-v2c", "-c", community, agent, oid]);
    assert!(
        output.status.success(),
        "snmpget {oid}: {}",
        stderr(&output)
    );
    parse_vars(&stdout(&output))
        .remove(oid)
        .unwrap_or_else(|| panic!("{oid} missing: {}", stdout(&output)))
}

fn get_int(agent: &str, oid: &str) -> i64 {
    let value = get(agent, "public", oid);
    let number = value.rsplit(' ').next().unwrap();
    number.parse().unwrap_or_else(|_| panic!("{oid} = {value}"))
}

fn walk(agent: &str, version: &str, root: &str) -> BTreeMap<String, String> {
    let output = net_snmp("snmpwalk", &[version, "-c", "public", agent, root]);
    assert!(
        output.status.success(),
        "snmpwalk {root}: {}",
        stderr(&output)
    );
    parse_vars(&stdout(&output))
}

fn set(agent: &str, version: &str, community: &str, vars: &[&str]) -> Output {
    let mut args = vec![version, "-c", community, agent];
    args.extend_from_slice(vars);
    net_snmp("snmpset", &args)
}

/// A loopback UDP port free right now.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` until it holds or `timeout` passes.
fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

// ------------------------------------------------------------------ tests

#[test]
fn walking_each_mib_root_returns_data_for_every_page() {
    let sim = Sim::start(&[]);
    for mib in Mib::ALL {
        let vars = walk(&sim.agent, "-v2c", mib.root());
        assert!(
            vars.keys().all(|o| o.starts_with(mib.root())),
            "{mib}: walk left its root"
        );
        for page in Page::ALL {
            let sources: Vec<&str> = mib::fields_of(page)
                .filter(|f| f.page != Page::Alarms || f.table.is_none())
                .flat_map(|f| f.sources.iter())
                .filter(|s| s.mib == mib)
                .map(|s| s.oid)
                .collect();
            if sources.is_empty() {
                continue;
            }
            let served = sources
                .iter()
                .filter(|s| vars.keys().any(|o| o.starts_with(&format!("{s}."))))
                .count();
            assert_eq!(
                served,
                sources.len(),
                "{mib} page {page}: {served} of {} objects served",
                sources.len()
            );
        }
    }
    // v1 (GETNEXT) and v2c (GETBULK) walks see the same tree.
    let v1 = walk(&sim.agent, "-v1", "1.3.6.1.4.1.705");
    let bulk = net_snmp(
        "snmpbulkwalk",
        &[
            "-v2c",
            "-c",
            "public",
            "-Cr25",
            &sim.agent,
            "1.3.6.1.4.1.705",
        ],
    );
    assert_eq!(v1, parse_vars(&stdout(&bulk)));
}

#[test]
fn mains_off_moves_the_output_to_battery_and_mains_on_restores() {
    let mut sim = Sim::start(&[]);
    assert_eq!(get_int(&sim.agent, "1.3.6.1.2.1.33.1.4.1.0"), 3, "normal");
    sim.control("mains off");
    assert_eq!(get_int(&sim.agent, "1.3.6.1.2.1.33.1.4.1.0"), 5, "battery");
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.2.1.33.1.3.3.1.3.1"),
        0,
        "no input voltage"
    );
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.4.1.705.1.7.3.0"),
        1,
        "upsmgOutputOnBattery yes"
    );
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.4.1.318.1.1.1.4.1.1.0"),
        3,
        "upsBasicOutputStatus onBattery"
    );
    let alarms = walk(&sim.agent, "-v2c", "1.3.6.1.2.1.33.1.6.2.1.2");
    assert!(
        alarms
            .values()
            .any(|v| v.ends_with(".1.3.6.1.2.1.33.1.6.3.2")),
        "on battery alarm: {alarms:?}"
    );
    let runtime = get_int(&sim.agent, "1.3.6.1.4.1.705.1.5.1.0");
    eventually(
        Duration::from_secs(10),
        "runtime to go down on battery",
        || get_int(&sim.agent, "1.3.6.1.4.1.705.1.5.1.0") < runtime,
    );
    sim.control("set battery.charge 40");
    assert_eq!(get_int(&sim.agent, "1.3.6.1.2.1.33.1.2.4.0"), 40);
    sim.control("mains on");
    assert_eq!(get_int(&sim.agent, "1.3.6.1.2.1.33.1.4.1.0"), 3);
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.2.1.33.1.6.1.0"),
        0,
        "alarms cleared"
    );
}

#[test]
fn setting_a_receptacle_or_outlet_group_off_changes_its_state() {
    let sim = Sim::start(&[]);
    let state = "1.3.6.1.4.1.705.1.3.2.1.5.2";
    assert_eq!(get_int(&sim.agent, state), 3, "normal_on");
    let output = set(
        &sim.agent,
        "-v2c",
        "private",
        &["1.3.6.1.4.1.705.1.9.1.1.6.2", "i", "2"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(get_int(&sim.agent, state), 6, "control_off");
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.4.1.705.1.9.1.1.7.2"),
        4,
        "off status completed"
    );
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.2.1.33.1.4.1.0"),
        3,
        "the rest of the output stays on"
    );

    let group = "1.3.6.1.4.1.318.1.1.1.12.1.2.1.3.3";
    let output = set(
        &sim.agent,
        "-v1",
        "private",
        &["1.3.6.1.4.1.318.1.1.1.12.3.2.1.3.3", "i", "2"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(get_int(&sim.agent, group), 2, "outlet group off");
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.4.1.318.1.1.1.12.3.2.1.3.3"),
        2,
        "command reads immediateOff"
    );

    // Receptacle 1 is the whole UPS output (Q9).
    let output = set(
        &sim.agent,
        "-v2c",
        "private",
        &["1.3.6.1.4.1.705.1.9.1.1.6.1", "i", "2"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.2.1.33.1.4.1.0"),
        2,
        "output source none"
    );
}

#[test]
fn settings_read_back_exactly() {
    let sim = Sim::start(&[]);
    let output = set(
        &sim.agent,
        "-v2c",
        "private",
        &[
            "1.3.6.1.4.1.318.1.1.1.5.2.8.0",
            "t",
            "30000",
            "1.3.6.1.2.1.33.1.9.8.0",
            "i",
            "3",
            "1.3.6.1.4.1.318.1.1.1.5.2.56.0",
            "i",
            "1",
            "1.3.6.1.2.1.33.1.1.5.0",
            "s",
            "rack 7",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        get(&sim.agent, "public", "1.3.6.1.4.1.318.1.1.1.5.2.8.0"),
        "Timeticks: (30000) 0:05:00.00"
    );
    assert_eq!(get_int(&sim.agent, "1.3.6.1.2.1.33.1.9.8.0"), 3);
    assert_eq!(get_int(&sim.agent, "1.3.6.1.4.1.318.1.1.1.5.2.56.0"), 1);
    assert_eq!(
        get(&sim.agent, "public", "1.3.6.1.2.1.33.1.1.5.0"),
        "STRING: \"rack 7\""
    );
    // The same setting in the other MIBs follows (5 minutes, 300 s).
    assert_eq!(get_int(&sim.agent, "1.3.6.1.2.1.33.1.9.7.0"), 5);
    assert_eq!(get_int(&sim.agent, "1.3.6.1.4.1.705.1.4.7.0"), 300);
}

#[test]
fn refused_sets_report_the_right_error() {
    let sim = Sim::start(&[]);
    let cases: [(&str, &str, [&str; 3], &str); 8] = [
        (
            "-v2c",
            "public",
            ["1.3.6.1.4.1.705.1.4.8.0", "i", "30"],
            "noAccess",
        ),
        (
            "-v1",
            "public",
            ["1.3.6.1.4.1.705.1.4.8.0", "i", "30"],
            "noSuchName",
        ),
        (
            "-v2c",
            "private",
            ["1.3.6.1.4.1.705.1.4.8.0", "i", "130"],
            "wrongValue",
        ),
        (
            "-v1",
            "private",
            ["1.3.6.1.4.1.705.1.4.8.0", "i", "130"],
            "badValue",
        ),
        (
            "-v2c",
            "private",
            ["1.3.6.1.2.1.33.1.4.1.0", "i", "5"],
            "notWritable",
        ),
        (
            "-v1",
            "private",
            ["1.3.6.1.2.1.33.1.4.1.0", "i", "5"],
            "noSuchName",
        ),
        (
            "-v2c",
            "private",
            ["1.3.6.1.4.1.705.1.4.8.0", "s", "30"],
            "wrongType",
        ),
        (
            "-v2c",
            "private",
            ["1.3.6.1.4.1.705.1.9.1.1.6.2", "i", "1"],
            "wrongValue",
        ),
    ];
    for (version, community, vars, expected) in cases {
        let output = set(&sim.agent, version, community, &vars);
        let err = stderr(&output);
        assert!(
            !output.status.success(),
            "{version} {community} {vars:?} succeeded"
        );
        assert!(
            err.contains(expected),
            "{version} {community} {vars:?}: expected {expected}, got {err}"
        );
        assert!(err.contains(vars[0]), "names the failed object: {err}");
    }
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.4.1.705.1.4.8.0"),
        20,
        "nothing changed"
    );
}

#[test]
fn a_set_pdu_is_all_or_nothing() {
    let sim = Sim::start(&[]);
    let output = set(
        &sim.agent,
        "-v2c",
        "private",
        &[
            "1.3.6.1.4.1.705.1.4.8.0",
            "i",
            "30",
            "1.3.6.1.4.1.705.1.4.7.0",
            "i",
            "99999",
        ],
    );
    let err = stderr(&output);
    assert!(
        err.contains("wrongValue") && err.contains("1.3.6.1.4.1.705.1.4.7.0"),
        "{err}"
    );
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.4.1.705.1.4.8.0"),
        20,
        "the first varbind was not applied"
    );
}

#[test]
fn missing_objects_per_version() {
    let sim = Sim::start(&[]);
    let v1 = net_snmp(
        "snmpget",
        &[
            "-v1",
            "-c",
            "public",
            &sim.agent,
            "1.3.6.1.2.1.33.1.4.1.0",
            "1.3.6.1.2.1.33.1.99.0",
        ],
    );
    assert!(
        stderr(&v1).contains("noSuchName") && stderr(&v1).contains("1.3.6.1.2.1.33.1.99.0"),
        "{}",
        stderr(&v1)
    );
    let v2 = net_snmp(
        "snmpget",
        &[
            "-v2c",
            "-c",
            "public",
            &sim.agent,
            "1.3.6.1.2.1.33.1.99.0",
            "1.3.6.1.2.1.33.1.4.1.7",
        ],
    );
    let text = stdout(&v2);
    assert!(text.contains("No Such Object"), "{text}");
    assert!(text.contains("No Such Instance"), "{text}");
    let end = net_snmp(
        "snmpgetnext",
        &["-v2c", "-c", "public", &sim.agent, "1.3.6.1.4.1.705.99"],
    );
    assert!(
        stdout(&end).contains("No more variables left in this MIB View"),
        "{}",
        stdout(&end)
    );
}

#[test]
fn getbulk_respects_counts_and_the_pdu_limit() {
    let sim = Sim::start(&["--max-pdu", "600"]);
    let output = net_snmp(
        "snmpbulkget",
        &[
            "-v2c",
            "-c",
            "public",
            "-Cn1",
            "-Cr4",
            &sim.agent,
            "1.3.6.1.2.1.1.1",
            "1.3.6.1.2.1.33.1.2",
        ],
    );
    let vars = parse_vars(&stdout(&output));
    assert_eq!(vars.len(), 5, "{vars:?}");
    assert!(vars.contains_key("1.3.6.1.2.1.1.1.0") && vars.contains_key("1.3.6.1.2.1.33.1.2.4.0"));
    let big = net_snmp(
        "snmpbulkget",
        &[
            "-v2c",
            "-c",
            "public",
            "-Cr200",
            &sim.agent,
            "1.3.6.1.2.1.33",
        ],
    );
    let count = parse_vars(&stdout(&big)).len();
    assert!(
        big.status.success() && (5..200).contains(&count),
        "truncated to fit 600 bytes: {count}"
    );
}

#[test]
fn rfc1628_only_card_has_no_mge_or_powernet_subtree() {
    let sim = Sim::start(&["--mibs", "rfc1628"]);
    assert!(!walk(&sim.agent, "-v2c", "1.3.6.1.2.1.33").is_empty());
    for root in ["1.3.6.1.4.1.705", "1.3.6.1.4.1.318"] {
        let output = net_snmp("snmpwalk", &["-v2c", "-c", "public", &sim.agent, root]);
        let text = stdout(&output);
        assert!(
            !text.contains(&format!(".{root}.")),
            "{root} served: {text}"
        );
    }
    let next = net_snmp(
        "snmpgetnext",
        &["-v2c", "-c", "public", &sim.agent, "1.3.6.1.4.1.705"],
    );
    assert!(
        !stdout(&next).contains(".1.3.6.1.4.1.705."),
        "{}",
        stdout(&next)
    );
}

#[test]
fn serves_a_recorded_walk_and_overlays_writable_state() {
    let walk_file = fixture("walks/eaton-mgeups_9pxle.snmprec");
    // No control port and stdin closed: the agent must keep serving.
    let sim = Sim::launch(&["--walk", walk_file.to_str().unwrap()], false);
    assert_eq!(
        get(&sim.agent, "public", "1.3.6.1.2.1.1.1.0"),
        "STRING: \"Eaton 9PX 1000i RT 2U\""
    );
    assert_eq!(
        get(&sim.agent, "public", "1.3.6.1.4.1.705.1.1.7.0"),
        "STRING: \"GA10J05109\""
    );
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.4.1.705.1.6.2.1.2.1.0"),
        2290,
        "the walk's Q1 cell"
    );
    assert_eq!(get_int(&sim.agent, "1.3.6.1.4.1.705.1.5.2.0"), 91);
    assert_eq!(
        get(&sim.agent, "public", "1.3.6.1.2.1.2.2.1.6.2"),
        "Hex-STRING: 00 20 85 E1 04 E0",
        "non-UPS walk data too"
    );
    let output = set(
        &sim.agent,
        "-v2c",
        "private",
        &["1.3.6.1.4.1.705.1.4.8.0", "i", "25"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(get_int(&sim.agent, "1.3.6.1.4.1.705.1.4.8.0"), 25);
    let off = set(
        &sim.agent,
        "-v2c",
        "private",
        &["1.3.6.1.4.1.705.1.9.1.1.6.1", "i", "2"],
    );
    assert!(
        off.status.success(),
        "receptacle control is overlaid: {}",
        stderr(&off)
    );
}

#[test]
fn powernet_battery_test_reports_its_result_after_the_duration() {
    let sim = Sim::start(&["--test-duration-ms", "1500"]);
    let result = "1.3.6.1.4.1.318.1.1.1.7.2.3.0";
    let output = set(
        &sim.agent,
        "-v2c",
        "private",
        &["1.3.6.1.4.1.318.1.1.1.7.2.2.0", "i", "2"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(get_int(&sim.agent, result), 4, "in progress");
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.2.1.33.1.7.3.0"),
        5,
        "RFC 1628 summary in progress"
    );
    let again = set(
        &sim.agent,
        "-v2c",
        "private",
        &["1.3.6.1.4.1.705.1.10.4.0", "i", "2"],
    );
    assert!(
        stderr(&again).contains("inconsistentValue"),
        "{}",
        stderr(&again)
    );
    eventually(Duration::from_secs(10), "the test result", || {
        get_int(&sim.agent, result) == 1
    });
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.4.1.705.1.10.11.0"),
        1,
        "MGE main success"
    );
}

#[test]
fn rfc1628_test_start_needs_the_spin_lock_in_the_same_pdu() {
    let sim = Sim::start(&["--test-duration-ms", "500"]);
    let lock = get_int(&sim.agent, "1.3.6.1.2.1.33.1.7.2.0");
    let alone = set(
        &sim.agent,
        "-v2c",
        "private",
        &["1.3.6.1.2.1.33.1.7.1.0", "o", "1.3.6.1.2.1.33.1.7.7.4"],
    );
    assert!(
        stderr(&alone).contains("inconsistentValue"),
        "{}",
        stderr(&alone)
    );
    let lock_text = lock.to_string();
    let both = set(
        &sim.agent,
        "-v2c",
        "private",
        &[
            "1.3.6.1.2.1.33.1.7.1.0",
            "o",
            "1.3.6.1.2.1.33.1.7.7.4",
            "1.3.6.1.2.1.33.1.7.2.0",
            "i",
            &lock_text,
        ],
    );
    assert!(both.status.success(), "{}", stderr(&both));
    assert_eq!(
        get_int(&sim.agent, "1.3.6.1.2.1.33.1.7.2.0"),
        lock + 1,
        "TestAndIncr"
    );
    eventually(Duration::from_secs(10), "done_pass", || {
        get_int(&sim.agent, "1.3.6.1.2.1.33.1.7.3.0") == 1
    });
    assert_eq!(
        get(&sim.agent, "public", "1.3.6.1.2.1.33.1.7.1.0"),
        "OID: .1.3.6.1.2.1.33.1.7.7.4"
    );
    let stale = set(
        &sim.agent,
        "-v2c",
        "private",
        &[
            "1.3.6.1.2.1.33.1.7.1.0",
            "o",
            "1.3.6.1.2.1.33.1.7.7.4",
            "1.3.6.1.2.1.33.1.7.2.0",
            "i",
            &lock_text,
        ],
    );
    assert!(
        stderr(&stale).contains("inconsistentValue"),
        "a stale lock is refused: {}",
        stderr(&stale)
    );
}

#[test]
fn snmptrapd_receives_v1_and_v2c_traps_for_mains_off() {
    let dir = std::env::temp_dir().join(format!("ups2mqtt-sim-trapd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("snmptrapd.conf");
    std::fs::write(&conf, "disableAuthorization yes\n").unwrap();
    let port = free_udp_port();
    let mut trapd_command = Command::new("snmptrapd");
    trapd_command.args([
        "-f",
        "-Lo",
        "-n",
        "-On",
        "-m",
        "",
        "-C",
        "-c",
        conf.to_str().unwrap(),
        &format!("udp:127.0.0.1:{port}"),
    ]);
    let mut trapd = Proc::spawn(trapd_command, Stdio::null());
    trapd.wait_for(START_TIMEOUT, |l| l.starts_with("NET-SNMP version"));

    let v1 = format!("127.0.0.1:{port},v1");
    let v2c = format!("127.0.0.1:{port},v2c");
    let mut sim = Sim::start(&[
        "--trap-sink",
        &v1,
        "--trap-sink",
        &v2c,
        "--test-duration-ms",
        "500",
    ]);
    sim.control("mains off");
    // v2c notifications (snmpTrapOID.0) and their v1 forms.
    for expected in [
        "OID: .1.3.6.1.2.1.33.2.1",        // upsTrapOnBattery
        "OID: .1.3.6.1.2.1.33.2.3",        // upsTrapAlarmEntryAdded (input bad)
        "OID: .1.3.6.1.4.1.705.1.11.0.11", // upsmgOnBattery
        "OID: .1.3.6.1.4.1.705.1.11.0.17", // upsmgUtilityFailure
        "OID: .1.3.6.1.4.1.318.0.5",       // upsOnBattery
        ".1.3.6.1.2.1.33.2 Enterprise Specific Trap (1)",
        ".1.3.6.1.4.1.705.1.11 Enterprise Specific Trap (17)",
        ".1.3.6.1.4.1.705.1.11 Enterprise Specific Trap (11)",
        ".1.3.6.1.4.1.318 Enterprise Specific Trap (5)",
        ".1.3.6.1.4.1.318.2.3.3.0 = STRING:", // PowerNet's mtrapargsString
    ] {
        if !trapd.drain().contains(expected) {
            trapd.wait_for(Duration::from_secs(10), |l| l.contains(expected));
        }
    }
    assert!(
        trapd.drain().contains(".1.3.6.1.2.1.33.1.2.3.0 = INTEGER:"),
        "upsTrapOnBattery carries its varbinds"
    );

    sim.control("mains on");
    for expected in [
        "OID: .1.3.6.1.4.1.705.1.11.0.18",
        "OID: .1.3.6.1.2.1.33.2.4",
        ".1.3.6.1.4.1.318 Enterprise Specific Trap (9)",
    ] {
        if !trapd.drain().contains(expected) {
            trapd.wait_for(Duration::from_secs(10), |l| l.contains(expected));
        }
    }

    // Low battery, a battery test, a receptacle switched off by SET.
    sim.control("battery low");
    sim.control("test start");
    let off = set(
        &sim.agent,
        "-v2c",
        "private",
        &["1.3.6.1.4.1.705.1.9.1.1.6.2", "i", "2"],
    );
    assert!(off.status.success(), "{}", stderr(&off));
    for expected in [
        "OID: .1.3.6.1.4.1.705.1.11.0.5",                // upsmgAtLowBattery
        ".1.3.6.1.4.1.318 Enterprise Specific Trap (7)", // lowBattery
        "OID: .1.3.6.1.2.1.33.2.2",                      // upsTrapTestCompleted
        "OID: .1.3.6.1.4.1.705.1.11.0.47",               // upsmgBatteryTestOK
        ".1.3.6.1.4.1.705.1.3.2.1.1.2 = INTEGER: 2",     // upsmgOffComplete's receptacle
    ] {
        if !trapd.drain().contains(expected) {
            trapd.wait_for(Duration::from_secs(10), |l| l.contains(expected));
        }
    }
    assert!(
        trapd.drain().contains("OID: .1.3.6.1.4.1.705.1.11.0.32"),
        "upsmgOffComplete"
    );

    let reply = sim.control("trap upsmgBatteryFault");
    assert!(reply.contains("2 sink(s)"), "{reply}");
    trapd.wait_for(Duration::from_secs(10), |l| {
        l.contains(".1.3.6.1.4.1.705.1.11 Enterprise Specific Trap (1)")
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stop_and_start_availability_and_stdin_control() {
    let mut sim = Sim::start(&[]);
    assert!(sim.stdin_command("state").starts_with("ok {\""));
    assert_eq!(sim.stdin_command("stop"), "ok stopped answering SNMP");
    let output = Command::new("snmpget")
        .args([
            "-m",
            "",
            "-On",
            "-t",
            "1",
            "-r",
            "0",
            "-v2c",
            "-c",
            "public",
            &sim.agent,
            "1.3.6.1.2.1.1.3.0",
        ])
        .output()
        .unwrap();
    assert!(stderr(&output).contains("Timeout"), "{}", stderr(&output));
    sim.control("start");
    assert!(get(&sim.agent, "public", "1.3.6.1.2.1.1.3.0").starts_with("Timeticks:"));
    let stats = sim.control("stats");
    assert!(stats.contains("\"dropped_stopped\":1"), "{stats}");
    assert!(
        sim.stdin_command("fly away")
            .starts_with("error: unknown command")
    );
    // A wrong community gets no answer at all.
    let wrong = Command::new("snmpget")
        .args([
            "-m",
            "",
            "-t",
            "1",
            "-r",
            "0",
            "-v2c",
            "-c",
            "nope",
            &sim.agent,
            "1.3.6.1.2.1.1.3.0",
        ])
        .output()
        .unwrap();
    assert!(stderr(&wrong).contains("Timeout"), "{}", stderr(&wrong));
}

#[test]
fn several_agents_on_consecutive_ports_with_their_own_state() {
    // Find three consecutive free ports.
    let base = (0..50)
        .map(|_| free_udp_port())
        .find(|&p| p < 65_000 && (1..3).all(|i| UdpSocket::bind(("127.0.0.1", p + i)).is_ok()))
        .expect("three consecutive free ports");
    let listen = format!("127.0.0.1:{base}");
    let mut sim = Sim::start(&["--listen", &listen, "--agents", "3", "--seed", "5"]);
    assert_eq!(sim.agent, listen);
    let at = |i: u16| format!("127.0.0.1:{}", base + i);
    let serials: Vec<String> = (0..3)
        .map(|i| get(&at(i), "public", "1.3.6.1.4.1.705.1.1.7.0"))
        .collect();
    assert!(
        serials[0] != serials[1] && serials[1] != serials[2],
        "{serials:?}"
    );
    sim.control("@1 mains off");
    assert_eq!(get_int(&at(1), "1.3.6.1.2.1.33.1.4.1.0"), 5);
    assert_eq!(get_int(&at(0), "1.3.6.1.2.1.33.1.4.1.0"), 3);
    assert_eq!(get_int(&at(2), "1.3.6.1.2.1.33.1.4.1.0"), 3);
    let states = sim.control("state");
    assert!(
        states.starts_with("ok [") && states.matches("\"mains\"").count() == 3,
        "{states}"
    );
}

#[test]
fn quirks_serve_trailing_zero_cells_and_tenths() {
    let sim = Sim::start(&["--quirks"]);
    let cell = get_int(&sim.agent, "1.3.6.1.4.1.705.1.6.2.1.2.1.0");
    assert!((2200..2400).contains(&cell), "Q1 cell in tenths: {cell}");
    let rfc = get_int(&sim.agent, "1.3.6.1.2.1.33.1.3.3.1.3.1");
    assert!(
        (2200..2400).contains(&rfc),
        "Q2: RFC 1628 voltage in tenths: {rfc}"
    );
    let plain = net_snmp(
        "snmpget",
        &[
            "-v2c",
            "-c",
            "public",
            &sim.agent,
            "1.3.6.1.4.1.705.1.6.2.1.2.1",
        ],
    );
    assert!(
        stdout(&plain).contains("No Such Instance"),
        "{}",
        stdout(&plain)
    );
}
