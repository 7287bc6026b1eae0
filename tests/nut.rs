//! The NUT server against NUT's own clients (Debian `nut-client`: upsc,
//! upsrw, upscmd, upsmon) and hostile input, with the simulated card behind
//! a real `ups2mqtt run`.

mod support;

use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::gateway::{Gateway, WAIT, json, ups_toml, wait_retained};
use support::sim::Sim;
use support::{Mosquitto, Pki, free_tcp_port, free_udp_port};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

const USERS: &str = r#"
[[nut.users]]
name = "admin"
password = "s3cret"
actions = ["SET", "FSD"]
instcmds = ["all"]
upsmon = "primary"

[[nut.users]]
name = "observer"
password = { env = "UPS2MQTT_TEST_NUT_OBSERVER" }
upsmon = "secondary"
"#;

struct Rig {
    broker: Mosquitto,
    sims: Vec<Sim>,
    gateway: Gateway,
    nut_port: u16,
}

impl Rig {
    /// A gateway serving NUT on a free port, one simulated card per id
    /// (traps from each card to the gateway).
    fn start(ids: &[&str], sim_args: &[&str], nut_extra: &str) -> Rig {
        let cards: Vec<(&str, &[&str])> = ids.iter().map(|id| (*id, sim_args)).collect();
        Rig::start_cards(&cards, nut_extra)
    }

    /// As [`Rig::start`], each card with its own simulator arguments.
    fn start_cards(cards: &[(&str, &[&str])], nut_extra: &str) -> Rig {
        let ids: Vec<&str> = cards.iter().map(|(id, _)| *id).collect();
        // SAFETY: set before any thread of this test reads the environment
        // of the child it spawns.
        unsafe { std::env::set_var("UPS2MQTT_TEST_NUT_OBSERVER", "watching") };
        let broker = Mosquitto::start();
        let trap_port = free_udp_port();
        let sink = format!("127.0.0.1:{trap_port},v2c");
        let sims: Vec<Sim> = cards
            .iter()
            .map(|(_, args)| Sim::start(&[args, &["--trap-sink", &sink][..]].concat()))
            .collect();
        let upses: String = ids
            .iter()
            .zip(&sims)
            .map(|(id, sim)| ups_toml(id, "127.0.0.1", sim.port(), ""))
            .collect();
        let nut_port = free_tcp_port();
        let top = format!(
            "[traps]\nlisten = [\"127.0.0.1:{trap_port}\"]\n[commands]\ndangerous = true\n[nut]\nenabled = true\nlisten = [\"127.0.0.1:{nut_port}\"]\n{nut_extra}\n{USERS}"
        );
        let gateway = Gateway::start_with(&broker, &upses, &top);
        for id in &ids {
            wait_retained(
                &broker,
                &format!("ups2mqtt/{id}/availability"),
                |p| p == "online",
                &gateway,
            );
        }
        Rig {
            broker,
            sims,
            gateway,
            nut_port,
        }
    }

    fn server(&self) -> String {
        format!("127.0.0.1:{}", self.nut_port)
    }

    fn ups(&self, id: &str) -> String {
        format!("{id}@127.0.0.1:{}", self.nut_port)
    }

    fn client(&self) -> Client {
        Client::connect(self.nut_port)
    }

    /// Waits until `upsc <ups> <var>` prints a value satisfying `ok`.
    fn wait_var(&self, id: &str, var: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = upsc(&[&self.ups(id), var]).unwrap_or_default();
            if ok(&value) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "{id} {var} stayed {value:?}\ngateway log:\n{}",
                self.gateway.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn nut_health(&self, ok: impl Fn(&Json) -> bool) -> Json {
        let health = wait_retained(
            &self.broker,
            "ups2mqtt/bridge/health",
            |p| ok(&json(p)["nut"]),
            &self.gateway,
        );
        json(&health)["nut"].clone()
    }
}

/// A NUT protocol client, plain (`S` = `TcpStream`) or over TLS.
struct Client<S = TcpStream> {
    reader: BufReader<S>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the NUT server");
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    /// `STARTTLS`, then a TLS handshake that verifies the server's
    /// certificate for `localhost` against the CA in `ca_file`.
    fn start_tls(mut self, ca_file: &str) -> Client<TlsStream> {
        assert_eq!(self.ask("STARTTLS"), "OK STARTTLS");
        assert!(self.reader.buffer().is_empty());
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(ca_file).expect("the test CA"))
            .unwrap();
        let config = ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").unwrap();
        let connection = ClientConnection::new(Arc::new(config), name).unwrap();
        Client {
            reader: BufReader::new(StreamOwned::new(connection, self.reader.into_inner())),
        }
    }
}

type TlsStream = StreamOwned<ClientConnection, TcpStream>;

impl<S: Read + Write> Client<S> {
    fn send(&mut self, line: &[u8]) {
        let stream = self.reader.get_mut();
        stream.write_all(line).unwrap();
        stream.write_all(b"\n").unwrap();
        stream.flush().unwrap();
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("an answer line");
        line.trim_end_matches('\n').to_string()
    }

    /// One request, one answer line.
    fn ask(&mut self, line: &str) -> String {
        self.send(line.as_bytes());
        self.line()
    }

    /// A LIST request: the lines between BEGIN and END.
    fn list(&mut self, what: &str) -> Vec<String> {
        let first = self.ask(&format!("LIST {what}"));
        assert_eq!(first, format!("BEGIN LIST {what}"));
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            if line == format!("END LIST {what}") {
                return lines;
            }
            lines.push(line);
        }
    }
}

/// Runs a nut-client tool; its stdout on success (with its stderr, where
/// upsrw and upscmd print the tracking result), both as the error.
fn nut_tool(tool: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian package nut-client): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && tool == "upsc" {
        Ok(stdout)
    } else if out.status.success() {
        Ok(format!("{stdout}\n{stderr}"))
    } else {
        Err(format!("{stdout}\n{stderr}"))
    }
}

fn upsc(args: &[&str]) -> Result<String, String> {
    nut_tool("upsc", args)
}

/// `upsc <ups>` as name → value.
fn upsc_all(ups: &str) -> Vec<(String, String)> {
    upsc(&[ups])
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sim_stats(sim: &mut Sim) -> Json {
    let reply = sim.control("stats");
    json(reply.strip_prefix("ok ").expect("ok stats"))
}

#[test]
fn upsc_lists_every_ups_and_its_variables() {
    let mut rig = Rig::start(&["rack1", "rack2"], &[], "");
    let listed = upsc(&["-l", &rig.server()]).unwrap();
    assert_eq!(listed.lines().collect::<Vec<_>>(), ["rack1", "rack2"]);

    // Values the card is told to have, as NUT names them.
    assert!(
        rig.sims[0]
            .control("set battery.charge 57")
            .starts_with("ok")
    );
    rig.wait_var("rack1", "battery.charge", |v| {
        v.parse::<f64>().ok() == Some(57.0)
    });
    let vars = upsc_all(&rig.ups("rack1"));
    let get = |name: &str| {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("upsc has no {name}: {vars:?}"))
    };
    assert_eq!(get("ups.status").split(' ').next(), Some("OL"));
    for name in [
        "device.mfr",
        "device.model",
        "ups.load",
        "battery.runtime",
        "input.voltage",
        "output.voltage",
        "ups.beeper.status",
    ] {
        assert!(!get(name).is_empty(), "{name}");
    }
    assert!(
        get("battery.runtime").parse::<u64>().is_ok(),
        "whole seconds"
    );

    // Every variable answers GET TYPE and GET DESC, as clients that walk
    // them all expect.
    let mut client = rig.client();
    for (name, value) in &vars {
        let answer = client.ask(&format!("GET VAR rack1 {name}"));
        if name.starts_with("device.") {
            assert_eq!(answer, format!("VAR rack1 {name} \"{value}\""));
        }
        assert!(
            answer.starts_with(&format!("VAR rack1 {name} \"")),
            "{answer}"
        );
        let answer = client.ask(&format!("GET TYPE rack1 {name}"));
        assert!(
            answer.starts_with(&format!("TYPE rack1 {name} ")),
            "{answer}"
        );
        let answer = client.ask(&format!("GET DESC rack1 {name}"));
        assert!(
            answer.starts_with(&format!("DESC rack1 {name} \"")),
            "{answer}"
        );
    }
    assert_eq!(
        client.ask("GET VAR rack1 no.such.var"),
        "ERR VAR-NOT-SUPPORTED"
    );
    assert_eq!(client.ask("GET VAR nosuch ups.status"), "ERR UNKNOWN-UPS");
    assert_eq!(client.ask("PROTVER"), "1.3");
    assert_eq!(client.ask("NETVER"), "1.3");
    assert_eq!(client.ask("STARTTLS"), "ERR FEATURE-NOT-CONFIGURED");

    // A trap moves ups.status at once; the card going silent is DATA-STALE.
    assert!(rig.sims[1].control("mains off").starts_with("ok"));
    rig.wait_var("rack2", "ups.status", |v| v.split(' ').any(|f| f == "OB"));
    assert!(rig.sims[1].control("stop").starts_with("ok"));
    let deadline = Instant::now() + WAIT;
    while client.ask("GET VAR rack2 ups.status") != "ERR DATA-STALE" {
        assert!(Instant::now() < deadline, "{}", rig.gateway.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(client.ask("LIST VAR rack2"), "ERR DATA-STALE");
    assert_eq!(client.ask("LOGOUT"), "OK Goodbye");
}

#[test]
fn upsrw_sets_a_variable_and_the_card_sees_the_set() {
    let mut rig = Rig::start(&["rack1"], &[], "");
    let listing = nut_tool("upsrw", &[&rig.ups("rack1")]).unwrap();
    assert!(listing.contains("[battery.charge.low]"), "{listing}");
    let before = sim_stats(&mut rig.sims[0])["sets_applied"]
        .as_u64()
        .unwrap();
    let out = nut_tool(
        "upsrw",
        &[
            "-s",
            "battery.charge.low=35",
            "-u",
            "admin",
            "-p",
            "s3cret",
            "-w",
            &rig.ups("rack1"),
        ],
    )
    .unwrap();
    assert!(out.contains("SUCCESS"), "{out}");
    assert!(
        sim_stats(&mut rig.sims[0])["sets_applied"]
            .as_u64()
            .unwrap()
            > before
    );
    rig.wait_var("rack1", "battery.charge.low", |v| v == "35");

    // Refusals, with NUT's error codes and nothing sent to the card.
    let before = sim_stats(&mut rig.sims[0])["sets_applied"]
        .as_u64()
        .unwrap();
    let refused = |args: &[&str]| nut_tool("upsrw", args).unwrap_err();
    let ups = rig.ups("rack1");
    assert!(
        refused(&["-s", "ups.load=3", "-u", "admin", "-p", "s3cret", &ups]).contains("READONLY")
    );
    assert!(
        refused(&[
            "-s",
            "battery.charge.low=35",
            "-u",
            "admin",
            "-p",
            "nope",
            &ups
        ])
        .contains("ACCESS-DENIED")
    );
    assert!(
        refused(&[
            "-s",
            "battery.charge.low=35",
            "-u",
            "observer",
            "-p",
            "watching",
            &ups
        ])
        .contains("ACCESS-DENIED")
    );
    assert!(
        refused(&[
            "-s",
            "battery.charge.low=1000",
            "-u",
            "admin",
            "-p",
            "s3cret",
            &ups
        ])
        .contains("INVALID-VALUE")
    );
    assert!(
        refused(&[
            "-s",
            "ups.beeper.status=loud",
            "-u",
            "admin",
            "-p",
            "s3cret",
            &ups
        ])
        .contains("INVALID-VALUE")
    );
    assert_eq!(
        sim_stats(&mut rig.sims[0])["sets_applied"]
            .as_u64()
            .unwrap(),
        before
    );
}

#[test]
fn upscmd_runs_an_instant_command_with_tracking() {
    let mut rig = Rig::start(&["rack1"], &[], "");
    let ups = rig.ups("rack1");
    let commands = nut_tool("upscmd", &["-l", &ups]).unwrap();
    for name in [
        "test.battery.start",
        "beeper.mute",
        "load.off",
        "outlet.2.load.off",
    ] {
        assert!(commands.contains(name), "{name} missing: {commands}");
    }
    let before = sim_stats(&mut rig.sims[0])["sets_applied"]
        .as_u64()
        .unwrap();
    let out = nut_tool(
        "upscmd",
        &["-u", "admin", "-p", "s3cret", "-w", &ups, "beeper.mute"],
    )
    .unwrap();
    assert!(out.contains("SUCCESS"), "{out}");
    assert!(
        sim_stats(&mut rig.sims[0])["sets_applied"]
            .as_u64()
            .unwrap()
            > before
    );
    rig.wait_var("rack1", "ups.beeper.status", |v| v == "muted");

    let out = nut_tool(
        "upscmd",
        &[
            "-u",
            "admin",
            "-p",
            "s3cret",
            "-w",
            &ups,
            "outlet.2.load.off",
        ],
    )
    .unwrap();
    assert!(out.contains("SUCCESS"), "{out}");
    rig.wait_var("rack1", "outlet.2.status", |v| v != "on");

    let denied = nut_tool(
        "upscmd",
        &["-u", "observer", "-p", "watching", &ups, "load.off"],
    )
    .unwrap_err();
    assert!(denied.contains("ACCESS-DENIED"), "{denied}");
    let unknown = nut_tool(
        "upscmd",
        &["-u", "admin", "-p", "s3cret", &ups, "no.such.cmd"],
    )
    .unwrap_err();
    assert!(unknown.contains("CMD-NOT-SUPPORTED"), "{unknown}");

    let mut client = rig.client();
    assert_eq!(client.ask("GET TRACKING"), "OFF");
    assert_eq!(
        client.ask("INSTCMD rack1 beeper.enable"),
        "ERR USERNAME-REQUIRED"
    );
    assert_eq!(client.ask("USERNAME admin"), "OK");
    assert_eq!(
        client.ask("INSTCMD rack1 beeper.enable"),
        "ERR PASSWORD-REQUIRED"
    );
    assert_eq!(client.ask("PASSWORD s3cret"), "OK");
    assert_eq!(client.ask("SET TRACKING ON"), "OK");
    let answer = client.ask("INSTCMD rack1 beeper.enable");
    let id = answer
        .strip_prefix("OK TRACKING ")
        .expect(&answer)
        .to_string();
    let deadline = Instant::now() + WAIT;
    loop {
        let status = client.ask(&format!("GET TRACKING {id}"));
        if status == "SUCCESS" {
            break;
        }
        assert_eq!(status, "PENDING");
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        client.ask("GET TRACKING 00000000-0000-4000-8000-000000000000"),
        "ERR UNKNOWN"
    );
}

/// One upsmon process with a NOTIFYCMD and a SHUTDOWNCMD writing to files.
struct Upsmon {
    child: Child,
    dir: PathBuf,
}

impl Upsmon {
    /// Each upsmon runs in its own mount namespace with a private
    /// /run/nut: upsmon refuses to start beside another (its PID file path
    /// is compiled in).
    fn start(name: &str, monitor: &str, extra: &str) -> Upsmon {
        let dir =
            std::env::temp_dir().join(format!("ups2mqtt-upsmon-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        let notify = dir.join("notify.sh");
        std::fs::write(
            &notify,
            format!("#!/bin/sh\necho \"$NOTIFYTYPE\" >> {d}/events\n"),
        )
        .unwrap();
        Command::new("chmod")
            .args(["+x"])
            .arg(&notify)
            .status()
            .unwrap();
        let flags: String = ["ONBATT", "ONLINE", "LOWBATT", "FSD", "SHUTDOWN"]
            .iter()
            .map(|f| format!("NOTIFYFLAG {f} SYSLOG+EXEC\n"))
            .collect();
        std::fs::write(
            dir.join("upsmon.conf"),
            format!(
                "MONITOR {monitor}\nMINSUPPLIES 1\nSHUTDOWNCMD \"/bin/sh -c 'echo shutdown >> {d}/shutdown'\"\nNOTIFYCMD {d}/notify.sh\n{flags}POLLFREQ 1\nPOLLFREQALERT 1\nHOSTSYNC 5\nDEADTIME 15\nFINALDELAY 0\nPOWERDOWNFLAG {d}/killpower\n{extra}"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("upsmon.log")).unwrap();
        let child = Command::new("unshare")
            .args([
                "-m",
                "sh",
                "-c",
                "mkdir -p /run/nut && mount -t tmpfs tmpfs /run/nut && exec /lib/nut/upsmon -D -p",
            ])
            .env("NUT_CONFPATH", &dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("unshare + upsmon");
        Upsmon { child, dir }
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    fn wait_file(&self, name: &str, needle: &str, rig: &Rig) {
        let deadline = Instant::now() + Duration::from_secs(40);
        while !self.file(name).lines().any(|l| l == needle) {
            assert!(
                Instant::now() < deadline,
                "{} never got {needle:?}: {:?}\nupsmon log:\n{}\ngateway log tail:\n{}",
                self.dir.join(name).display(),
                self.file(name),
                self.file("upsmon.log"),
                tail(&rig.gateway.log(), 30)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Upsmon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn upsmon_primary_and_secondary_follow_the_card_and_shut_down_on_low_battery() {
    if !is_root() || !Path::new("/lib/nut/upsmon").exists() {
        eprintln!("skipped: needs root (a mount namespace per upsmon) and /lib/nut/upsmon");
        return;
    }
    let mut rig = Rig::start(&["rack1"], &[], "");
    let ups = rig.ups("rack1");
    let primary = Upsmon::start("primary", &format!("{ups} 1 admin s3cret primary"), "");
    let secondary = Upsmon::start(
        "secondary",
        &format!("{ups} 1 observer watching secondary"),
        "",
    );
    let mut client = rig.client();
    let deadline = Instant::now() + WAIT;
    while client.ask("GET NUMLOGINS rack1") != "NUMLOGINS rack1 2" {
        assert!(Instant::now() < deadline, "{}", primary.file("upsmon.log"));
        std::thread::sleep(Duration::from_millis(100));
    }
    let clients = client.list("CLIENT rack1");
    assert_eq!(
        clients,
        ["CLIENT rack1 127.0.0.1", "CLIENT rack1 127.0.0.1"]
    );

    rig.sims[0].control("mains off");
    primary.wait_file("events", "ONBATT", &rig);
    secondary.wait_file("events", "ONBATT", &rig);
    rig.sims[0].control("mains on");
    primary.wait_file("events", "ONLINE", &rig);
    secondary.wait_file("events", "ONLINE", &rig);
    assert!(primary.file("shutdown").is_empty());

    rig.sims[0].control("mains off");
    rig.sims[0].control("battery low");
    secondary.wait_file("events", "FSD", &rig);
    secondary.wait_file("shutdown", "shutdown", &rig);
    primary.wait_file("shutdown", "shutdown", &rig);
    assert!(
        client.ask("GET VAR rack1 ups.status").contains("FSD"),
        "FSD is set for every client"
    );
}

#[test]
fn hostile_lines_get_err_answers_and_failed_logins_are_counted() {
    let rig = Rig::start(&["rack1"], &[], "");
    let mut client = rig.client();
    // Wrong credentials: every access check afterwards fails and counts.
    assert_eq!(client.ask("LOGIN rack1"), "ERR USERNAME-REQUIRED");
    assert_eq!(client.ask("USERNAME admin"), "OK");
    assert_eq!(client.ask("PASSWORD wrong"), "OK");

    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut wrong_logins = 0;
    for i in 0..10_000 {
        let line = match i % 8 {
            0 => vec![b'A'; 2_000 + (random() % 5_000) as usize],
            1 => (0..1 + random() % 60)
                .map(|_| (random() % 256) as u8 | 0x80)
                .collect(),
            2 => format!("FROB{} x y", random() % 1000).into_bytes(),
            3 => b"GET VAR \"rack1 ups.status".to_vec(),
            4 => {
                wrong_logins += 1;
                b"LOGIN rack1".to_vec()
            }
            5 => b"USERNAME again".to_vec(),
            6 => b"GET VAR rack1 ups.status\\".to_vec(),
            _ => format!("LIST ENUM rack1 x{}", random() % 100).into_bytes(),
        };
        lines.push(line);
    }
    let mut writer = client.reader.get_ref().try_clone().unwrap();
    let sent = lines.clone();
    let sender = std::thread::spawn(move || {
        for line in sent {
            writer.write_all(&line).unwrap();
            writer.write_all(b"\n").unwrap();
        }
    });
    for (i, line) in lines.iter().enumerate() {
        let answer = client.line();
        assert!(
            answer.starts_with("ERR "),
            "line {i} ({:?}) got {answer:?}",
            String::from_utf8_lossy(&line[..line.len().min(40)])
        );
    }
    sender.join().unwrap();
    // Still serving, this client and others.
    assert_eq!(client.ask("PROTVER"), "1.3");
    assert_eq!(rig.client().list("UPS").len(), 1);
    let health = rig.nut_health(|n| n["failed_logins"] == wrong_logins);
    assert!(
        health["bad_requests"].as_u64().unwrap() >= 5_000,
        "{health}"
    );
}

#[test]
fn a_client_that_never_reads_blocks_no_one_and_max_connections_holds() {
    let rig = Rig::start(&["rack1"], &[], "max_connections = 4\n");
    // A client that asks for lists and never reads what it gets.
    let mut greedy = TcpStream::connect(("127.0.0.1", rig.nut_port)).unwrap();
    greedy
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let flood = "LIST VAR rack1\n".repeat(20_000);
    let _ = greedy.write_all(flood.as_bytes());

    let started = Instant::now();
    let mut other = rig.client();
    assert_eq!(
        other.ask("GET VAR rack1 device.type"),
        "VAR rack1 device.type \"ups\""
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // greedy + other + 2 more = 4: the fifth is closed at once.
    let _third = rig.client();
    let _fourth = rig.client();
    std::thread::sleep(Duration::from_millis(300));
    let mut fifth = TcpStream::connect(("127.0.0.1", rig.nut_port)).unwrap();
    fifth
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = fifth.write_all(b"VER\n");
    let mut buf = [0u8; 64];
    let n = fifth.read(&mut buf).unwrap_or(0);
    assert_eq!(
        n,
        0,
        "the fifth connection got {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    rig.nut_health(|n| n["refused"].as_u64() >= Some(1));
    // Closing one frees its slot.
    drop(other);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(rig.client().ask("PROTVER"), "1.3");
}

#[test]
fn starttls_serves_upsc_upsmon_and_a_verifying_rustls_client() {
    let pki = Pki::generate();
    let tls = format!(
        "[nut.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        pki.path("server.pem"),
        pki.path("server.key")
    );
    let mut rig = Rig::start(&["rack1"], &[], &tls);

    // A client that verifies the certificate: the whole session over TLS.
    let mut secure = rig.client().start_tls(&pki.path("ca.pem"));
    assert_eq!(secure.list("UPS").len(), 1);
    assert_eq!(secure.ask("STARTTLS"), "ERR ALREADY-SSL-MODE");
    assert_eq!(secure.ask("USERNAME admin"), "OK");
    assert_eq!(secure.ask("PASSWORD s3cret"), "OK");
    assert_eq!(secure.ask("LOGIN rack1"), "OK");
    assert_eq!(secure.ask("GET NUMLOGINS rack1"), "NUMLOGINS rack1 1");
    rig.nut_health(|n| n["tls"] == 1);

    // Plain clients still work beside it.
    assert_eq!(
        rig.client().ask("GET VAR rack1 device.type"),
        "VAR rack1 device.type \"ups\""
    );

    // NUT's upsc (2.8.0, NSS) tries STARTTLS on every connection.
    let status = upsc(&[&rig.ups("rack1"), "ups.status"]).unwrap();
    assert_eq!(status.split(' ').next(), Some("OL"), "{status}");
    rig.nut_health(|n| n["tls"] == 2);

    // A client that answers OK STARTTLS with plain text is dropped alone.
    let mut confused = rig.client();
    assert_eq!(confused.ask("STARTTLS"), "OK STARTTLS");
    confused.send(b"LIST UPS");
    let mut rest = Vec::new();
    let _ = confused.reader.read_to_end(&mut rest);
    rig.nut_health(|n| n["tls_failed"] == 1);
    assert_eq!(secure.ask("GET NUMLOGINS rack1"), "NUMLOGINS rack1 1");

    // upsmon with FORCESSL 1 refuses a server without TLS, so its
    // notifications prove the whole session ran over TLS.
    if !is_root() || !Path::new("/lib/nut/upsmon").exists() {
        eprintln!("upsmon part skipped: needs root and /lib/nut/upsmon");
        return;
    }
    let ups = rig.ups("rack1");
    let primary = Upsmon::start(
        "tls",
        &format!("{ups} 1 admin s3cret primary"),
        "FORCESSL 1\nCERTVERIFY 0\n",
    );
    let deadline = Instant::now() + WAIT;
    while secure.ask("GET NUMLOGINS rack1") != "NUMLOGINS rack1 2" {
        assert!(Instant::now() < deadline, "{}", primary.file("upsmon.log"));
        std::thread::sleep(Duration::from_millis(100));
    }
    rig.sims[0].control("mains off");
    primary.wait_file("events", "ONBATT", &rig);
    assert!(
        primary.file("upsmon.log").contains("in SSL"),
        "{}",
        primary.file("upsmon.log")
    );
}

/// `snmpget` of one OID from a simulated card, as an independent witness
/// of what the card serves.
fn snmpget(sim: &Sim, oid: &str) -> String {
    let out = support::net_snmp("snmpget")
        .args([
            "-v2c",
            "-c",
            "public",
            "-Oqv",
            &format!("127.0.0.1:{}", sim.port()),
            oid,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// PowerNet-MIB upsPhase (1.3.6.1.4.1.318.1.1.1.9): input table 2.3.1,
/// output table 3.3.1, indexed by table index (1) and phase.
const UPS_PHASE: &str = "1.3.6.1.4.1.318.1.1.1.9";

#[test]
fn a_three_phase_card_has_per_phase_variables_and_a_single_phase_one_none() {
    let mut rig = Rig::start_cards(
        &[
            ("galaxy", &["--personality", "galaxy-vs"]),
            ("smart", &["--personality", "smart-ups"]),
        ],
        "",
    );
    // Different voltages and loads per phase (phase to neutral), so that a
    // phase served under another's name shows.
    let galaxy = &mut rig.sims[0];
    for (phase, volts, load) in [(1, 226, 31), (2, 231, 42), (3, 236, 53)] {
        for set in [
            format!("set input.lines.{phase}.voltage {volts}"),
            format!("set output.lines.{phase}.load {load}"),
        ] {
            let reply = galaxy.control(&set);
            assert!(reply.starts_with("ok"), "{set}: {reply}");
        }
    }
    let galaxy = &rig.sims[0];
    // The MIB's upsPhaseInputVoltagePN (phase to neutral, VAC) of phase 3.
    let l3 = snmpget(galaxy, &format!("{UPS_PHASE}.2.3.1.14.1.3"));
    assert_eq!(l3, "236");
    rig.wait_var("galaxy", "input.L3-N.voltage", |v| v == l3);
    rig.wait_var("galaxy", "output.L3.power.percent", |v| {
        v.parse::<f64>().ok() == Some(53.0)
    });

    let vars = upsc_all(&rig.ups("galaxy"));
    let get = |name: &str| -> f64 {
        let text = vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("upsc has no {name}: {vars:?}"));
        text.parse()
            .unwrap_or_else(|_| panic!("{name} = {text:?} is no number"))
    };
    // An integer of the card scaled as its MIB DESCRIPTION says.
    let card = |oid: String, scale: f64| -> f64 {
        let raw = snmpget(galaxy, &oid);
        raw.parse::<f64>()
            .unwrap_or_else(|_| panic!("{oid} = {raw:?}"))
            * scale
    };
    // upsPhaseNumInputPhases / upsPhaseNumOutputPhases of table 1.
    assert_eq!(
        get("input.phases"),
        card(format!("{UPS_PHASE}.2.2.1.2.1"), 1.0)
    );
    assert_eq!(
        get("output.phases"),
        card(format!("{UPS_PHASE}.3.2.1.2.1"), 1.0)
    );
    assert_eq!(get("input.phases"), 3.0);
    let pairs = ["L1-L2", "L2-L3", "L3-L1"];
    for (n, set_volts, set_load) in [(1, 226.0, 31.0), (2, 231.0, 42.0), (3, 236.0, 53.0)] {
        let row = |table: &str, column: u32| format!("{UPS_PHASE}.{table}.1.{column}.1.{n}");
        let line = format!("L{n}");
        let to_neutral = format!("L{n}-N");
        let pair = pairs[n - 1];
        // Input: upsPhaseInputVoltagePN (14) and upsPhaseInputVoltage (3),
        // VAC; upsPhaseInputCurrent (6), 0.1 A.
        let input_pn = get(&format!("input.{to_neutral}.voltage"));
        assert_eq!(input_pn, card(row("2.3", 14), 1.0), "input {to_neutral}");
        assert_eq!(
            input_pn, set_volts,
            "input {to_neutral}: what the card was told"
        );
        let input_pp = get(&format!("input.{pair}.voltage"));
        assert_eq!(input_pp, card(row("2.3", 3), 1.0), "input {pair}");
        assert!(
            input_pp > input_pn * 1.6,
            "{pair} is phase to phase: {input_pp} vs {input_pn}"
        );
        let current = get(&format!("input.{line}.current"));
        assert!(
            (current - card(row("2.3", 6), 0.1)).abs() < 1e-6,
            "input {line} current {current}"
        );
        // Output: upsPhaseOutputVoltagePN (22), upsPhaseOutputVoltage (3),
        // VAC; upsPhaseOutputCurrent (4), 0.1 A; upsPhaseOutputPercentLoad
        // (10), percent.
        let output_pn = get(&format!("output.{to_neutral}.voltage"));
        assert_eq!(output_pn, card(row("3.3", 22), 1.0), "output {to_neutral}");
        assert_eq!(
            get(&format!("output.{pair}.voltage")),
            card(row("3.3", 3), 1.0),
            "output {pair}"
        );
        let current = get(&format!("output.{line}.current"));
        assert!(
            (current - card(row("3.3", 4), 0.1)).abs() < 1e-6,
            "output {line} current {current}"
        );
        let load = get(&format!("output.{line}.power.percent"));
        assert_eq!(load, card(row("3.3", 10), 1.0), "output {line} load");
        assert_eq!(load, set_load, "output {line} load: what the card was told");
    }

    // The single-phase Smart-UPS serves the same upsPhase tables with one
    // row: no per-phase names, as NUT's for one phase.
    let single = upsc_all(&rig.ups("smart"));
    assert!(
        single.iter().any(|(k, _)| k == "input.voltage"),
        "{single:?}"
    );
    // outlet.count, which clients walk: the personalities' outlet groups
    // (Galaxy VS one, Smart-UPS three: main and two switched).
    let count = |vars: &[(String, String)]| {
        vars.iter()
            .find(|(k, _)| k == "outlet.count")
            .map(|(_, v)| v.clone())
    };
    assert_eq!(count(&vars).as_deref(), Some("1"), "{vars:?}");
    assert_eq!(count(&single).as_deref(), Some("3"), "{single:?}");
    let phased: Vec<_> = single
        .iter()
        .filter(|(k, _)| {
            k.split('.')
                .any(|part| part.starts_with('L') && part[1..].starts_with(['1', '2', '3']))
        })
        .collect();
    assert!(phased.is_empty(), "single phase with {phased:?}");
    assert!(
        single
            .iter()
            .all(|(k, v)| !k.ends_with(".phases") || v == "1"),
        "{single:?}"
    );
}
