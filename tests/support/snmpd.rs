//! net-snmp's own agent (`snmpd`, the reference USM implementation) as a
//! test peer: SNMPv3 users from `createUser` lines, `rouser`/`rwuser`
//! access, and `proxy` lines forwarding the UPS subtrees to another agent
//! (snmpsim or `ups2mqtt-sim`) over v2c.
//!
//! Started with `snmpd -f -Lo -C -c FILE,DIR/snmpd.conf --persistentDir=DIR
//! udp:127.0.0.1:PORT` (no system configuration; the persistent file is
//! named because `-C` skips it too), killed and its directory removed on
//! drop.
//! [`Snmpd::restart`] stops it with SIGTERM and starts it again on the
//! same port and persistent directory: the same engine ID with engine
//! boots one higher, as a rebooted card.
#![allow(dead_code)]

use super::{free_udp_port, require_program, tail, unique_temp_dir};
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The UPS subtrees the proxy forwards: RFC 1628, MGE, PowerNet.
pub const UPS_SUBTREES: [&str; 3] = [".1.3.6.1.2.1.33", ".1.3.6.1.4.1.705", ".1.3.6.1.4.1.318"];

/// How long snmpd may take to answer its first request.
const READY: Duration = Duration::from_secs(20);

/// One USM user of the agent.
#[derive(Debug, Clone)]
pub struct V3User {
    pub name: String,
    /// net-snmp's name (`MD5`, `SHA`, `SHA-256`, ...) and the password.
    pub auth: Option<(String, String)>,
    /// net-snmp's name (`DES`, `AES`, `AES-192`, `AES-256-C`, ...) and the
    /// password.
    pub privacy: Option<(String, String)>,
    /// `rwuser` instead of `rouser`.
    pub write: bool,
}

impl V3User {
    pub fn new(name: &str) -> V3User {
        V3User {
            name: name.to_string(),
            auth: None,
            privacy: None,
            write: false,
        }
    }

    pub fn auth(mut self, protocol: &str, password: &str) -> V3User {
        self.auth = Some((protocol.to_string(), password.to_string()));
        self
    }

    pub fn privacy(mut self, protocol: &str, password: &str) -> V3User {
        self.privacy = Some((protocol.to_string(), password.to_string()));
        self
    }

    pub fn writer(mut self) -> V3User {
        self.write = true;
        self
    }

    /// The lowest level the agent lets this user in with.
    fn level(&self) -> &'static str {
        match (&self.auth, &self.privacy) {
            (None, _) => "noauth",
            (Some(_), None) => "auth",
            (Some(_), Some(_)) => "priv",
        }
    }

    fn config_lines(&self) -> String {
        let mut create = format!("createUser {}", self.name);
        if let Some((protocol, password)) = &self.auth {
            create.push_str(&format!(" {protocol} {password}"));
            if let Some((protocol, password)) = &self.privacy {
                create.push_str(&format!(" {protocol} {password}"));
            }
        }
        let access = if self.write { "rwuser" } else { "rouser" };
        format!("{create}\n{access} {} {}\n", self.name, self.level())
    }
}

/// A running `snmpd` on `127.0.0.1:<free UDP port>`.
pub struct Snmpd {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    conf: PathBuf,
    log: PathBuf,
    ready_user: String,
}

impl Snmpd {
    /// Starts the agent with `users`, proxying [`UPS_SUBTREES`] with
    /// `community` to `upstream_port` on 127.0.0.1 (when given).
    pub fn start(users: &[V3User], upstream: Option<(u16, &str)>) -> Snmpd {
        let dir = unique_temp_dir("snmpd");
        let persistent = dir.join("persistent");
        fs::create_dir(&persistent).expect("create snmpd persistent dir");
        let ready_user = "readiness".to_string();
        let mut conf = String::from("# written by tests/support/snmpd.rs\n");
        for user in users
            .iter()
            .chain(std::iter::once(&V3User::new(&ready_user)))
        {
            conf.push_str(&user.config_lines());
        }
        if let Some((port, community)) = upstream {
            for subtree in UPS_SUBTREES {
                conf.push_str(&format!(
                    "proxy -v 2c -c {community} -t 2 -r 2 127.0.0.1:{port} {subtree}\n"
                ));
            }
        }
        let conf_path = dir.join("snmpd.conf");
        fs::write(&conf_path, conf).expect("write snmpd.conf");
        let mut snmpd = Snmpd {
            child: None,
            port: free_udp_port(),
            log: dir.join("snmpd.log"),
            conf: conf_path,
            dir,
            ready_user,
        };
        snmpd.spawn();
        snmpd
    }

    fn spawn(&mut self) {
        let program = require_program("snmpd", "snmpd");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open snmpd log");
        // `-C` also skips the persistent file (engine ID, boots): name it
        // after the configuration so that a restart keeps both.
        let persistent = self.dir.join("persistent");
        let child = Command::new(program)
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(format!(
                "{},{}",
                self.conf.display(),
                persistent.join("snmpd.conf").display()
            ))
            .arg(format!("--persistentDir={}", persistent.display()))
            // No MIB files: quicker start-up, a quieter log.
            .args(["-M", "/nonexistent", "-m", ""])
            .arg(format!("udp:127.0.0.1:{}", self.port))
            .env("MIBS", "")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup snmpd log"))
            .stderr(log)
            .spawn()
            .expect("spawn snmpd");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let snmpget = require_program("snmpget", "snmp");
        let deadline = Instant::now() + READY;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "snmpd exited during start-up with {status}; its log:\n{}",
                    tail(&self.log, 40)
                );
            }
            // sysUpTime.0 is snmpd's own: an answer means it is up.
            let probe = Command::new(&snmpget)
                .args(["-v3", "-l", "noAuthNoPriv", "-u", &self.ready_user])
                .args(["-t", "0.3", "-r", "0", "-Oqv"])
                .arg(format!("127.0.0.1:{}", self.port))
                .arg("1.3.6.1.2.1.1.3.0")
                .env("MIBS", "")
                .stdin(Stdio::null())
                .output();
            if probe.is_ok_and(|o| o.status.success() && !o.stdout.is_empty()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "snmpd on udp/127.0.0.1:{} did not answer within {READY:?}; its log:\n{}",
                self.port,
                tail(&self.log, 40)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the agent cleanly (SIGTERM: it saves its engine boots) and
    /// starts it again on the same port and persistent directory.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// A replaced card on the same address: the agent starts again
    /// without its persistent state, so with a new engine ID.
    pub fn replace_engine(&mut self) {
        self.stop();
        let persistent = self.dir.join("persistent");
        let _ = fs::remove_dir_all(&persistent);
        fs::create_dir(&persistent).expect("recreate snmpd persistent dir");
        self.spawn();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, as `--agent` takes it.
    pub fn agent(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
