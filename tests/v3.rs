//! SNMPv3 against net-snmp's own agent and tools (the reference USM
//! implementation, a peer no one here wrote):
//!
//! * `snmpd` with one user per auth × priv combination proxies the UPS
//!   subtrees to snmpsim serving a real walk: `ups2mqtt probe` over v3
//!   gives the same JSON as over v2c straight from snmpsim;
//! * wrong passwords, protocols, users, levels and contexts fail with the
//!   matching clear error;
//! * an agent reboot (engine boots + 1) and a replaced card (new engine ID)
//!   are handled without a new client;
//! * `ups2mqtt run` polls and SETs over v3 (a separate write user) through
//!   `snmpd` in front of `ups2mqtt-sim`, and names v3 problems on the
//!   health topic;
//! * `snmptrap -v 3` and `snmpinform -v 3` reach the trap listener and
//!   become MQTT events; wrong keys are dropped and counted.

mod support;

use serde_json::Value as Json;
use std::process::{Command, Output};
use std::time::Duration;
use support::gateway::{Gateway, WAIT, json, ups_toml, wait_retained};
use support::sim::Sim;
use support::snmpd::{Snmpd, V3User};
use support::{Mosquitto, Snmpsim, Subscriber};

const WALK: &str = "eaton-mgeups_9pxle";
const AUTH_PASS: &str = "authpass123";
const PRIV_PASS: &str = "privpass123";

/// (ours, net-snmp's) auth protocol names.
const AUTHS: [(&str, &str); 6] = [
    ("md5", "MD5"),
    ("sha", "SHA"),
    ("sha224", "SHA-224"),
    ("sha256", "SHA-256"),
    ("sha384", "SHA-384"),
    ("sha512", "SHA-512"),
];

/// (ours, net-snmp's) priv protocol names; `None`: authNoPriv.
const PRIVS: [Option<(&str, &str)>; 7] = [
    None,
    Some(("des", "DES")),
    Some(("aes", "AES")),
    Some(("aes192", "AES-192")),
    Some(("aes256", "AES-256")),
    Some(("aes192c", "AES-192-C")),
    Some(("aes256c", "AES-256-C")),
];

fn user_name(auth: &str, privacy: Option<&str>) -> String {
    format!("{auth}_{}", privacy.unwrap_or("nopriv"))
}

/// Every auth × priv user, plus a noAuthNoPriv one.
fn matrix_users() -> Vec<V3User> {
    let mut users = vec![V3User::new("noauth")];
    for (auth, net_auth) in AUTHS {
        for privacy in PRIVS {
            let mut user =
                V3User::new(&user_name(auth, privacy.map(|p| p.0))).auth(net_auth, AUTH_PASS);
            if let Some((_, net_priv)) = privacy {
                user = user.privacy(net_priv, PRIV_PASS);
            }
            users.push(user);
        }
    }
    users
}

fn probe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ups2mqtt"))
        .arg("probe")
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("UPS2MQTT_AUTH_PASSWORD")
        .env_remove("UPS2MQTT_PRIV_PASSWORD")
        .output()
        .expect("run ups2mqtt probe")
}

fn v3_args<'a>(
    agent: &'a str,
    user: &'a str,
    auth: Option<(&'a str, &'a str)>,
    privacy: Option<(&'a str, &'a str)>,
) -> Vec<&'a str> {
    let mut args = vec!["--agent", agent, "--snmp-version", "3", "--user", user];
    if let Some((protocol, password)) = auth {
        args.extend(["--auth-protocol", protocol, "--auth-password", password]);
    }
    if let Some((protocol, password)) = privacy {
        args.extend(["--priv-protocol", protocol, "--priv-password", password]);
    }
    args
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn probe_over_v3_matches_v2c_for_every_auth_and_priv() {
    let sim = Snmpsim::start(WALK);
    let snmpd = Snmpd::start(&matrix_users(), Some((sim.port(), "public")));
    let agent = snmpd.agent();
    let direct = format!("127.0.0.1:{}", sim.port());
    let reference = probe(&["--agent", &direct]);
    assert!(reference.status.success(), "{}", stderr(&reference));
    let reference = stdout(&reference);
    assert!(reference.contains("\"battery\""), "{reference}");

    let mut cases: Vec<(String, Vec<String>)> = vec![(
        "noauth".into(),
        v3_args(&agent, "noauth", None, None)
            .into_iter()
            .map(String::from)
            .collect(),
    )];
    for (auth, _) in AUTHS {
        for privacy in PRIVS {
            let name = user_name(auth, privacy.map(|p| p.0));
            let args = v3_args(
                &agent,
                &name,
                Some((auth, AUTH_PASS)),
                privacy.map(|(p, _)| (p, PRIV_PASS)),
            );
            let args = args.into_iter().map(String::from).collect();
            cases.push((name, args));
        }
    }
    // Three probes at a time: snmpsim answers one request at a time anyway.
    let mut failures = Vec::new();
    for batch in cases.chunks(3) {
        let handles: Vec<_> = batch
            .iter()
            .cloned()
            .map(|(name, args)| {
                std::thread::spawn(move || {
                    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
                    args.extend(["--timeout-ms", "3000"]);
                    (name, probe(&args))
                })
            })
            .collect();
        for handle in handles {
            let (name, out) = handle.join().unwrap();
            if !out.status.success() {
                failures.push(format!("{name}: {}", stderr(&out)));
            } else if stdout(&out) != reference {
                failures.push(format!("{name}: JSON differs from v2c:\n{}", stdout(&out)));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} combinations failed:\n{}\nsnmpd log:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n"),
        snmpd.log()
    );
}

#[test]
fn wrong_credentials_fail_with_the_matching_clear_error() {
    let sim = Snmpsim::start(WALK);
    let users = [
        V3User::new("shaaes")
            .auth("SHA", AUTH_PASS)
            .privacy("AES", PRIV_PASS),
        V3User::new("md5des")
            .auth("MD5", AUTH_PASS)
            .privacy("DES", PRIV_PASS),
        V3User::new("aes256")
            .auth("SHA", AUTH_PASS)
            .privacy("AES-256", PRIV_PASS),
        V3User::new("authonly").auth("SHA-256", AUTH_PASS),
    ];
    let snmpd = Snmpd::start(&users, Some((sim.port(), "public")));
    let agent = snmpd.agent();
    let auth = |p| Some((p, AUTH_PASS));
    let privacy = |p| Some((p, PRIV_PASS));
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "wrong auth password",
            v3_args(
                &agent,
                "shaaes",
                Some(("sha", "wrongpass1")),
                privacy("aes"),
            ),
            "wrong digest (usmStatsWrongDigests): wrong auth_password or auth_protocol",
        ),
        (
            "wrong auth protocol",
            v3_args(&agent, "shaaes", auth("md5"), privacy("aes")),
            "wrong digest",
        ),
        (
            "wrong auth protocol with another MAC length",
            v3_args(&agent, "shaaes", auth("sha256"), privacy("aes")),
            "wrong digest",
        ),
        (
            "wrong priv password",
            v3_args(&agent, "shaaes", auth("sha"), Some(("aes", "wrongpass1"))),
            "decryption error",
        ),
        (
            "wrong priv protocol (the agent reports it)",
            v3_args(&agent, "md5des", auth("md5"), privacy("aes")),
            "decryption error (usmStatsDecryptionErrors): wrong priv_password or priv_protocol",
        ),
        (
            "wrong priv protocol (the agent drops it)",
            v3_args(&agent, "shaaes", auth("sha"), privacy("des")),
            "decryption error: the agent answers authenticated requests",
        ),
        (
            "the other AES-256 key extension",
            v3_args(&agent, "aes256", auth("sha"), privacy("aes256c")),
            "decryption error",
        ),
        (
            "unknown user",
            v3_args(&agent, "nobody", auth("sha"), privacy("aes")),
            "unknown user name (usmStatsUnknownUserNames)",
        ),
        (
            "no privacy for a user that must use it",
            v3_args(&agent, "shaaes", auth("sha"), None),
            "not authorized (authorizationError)",
        ),
        (
            "privacy for a user without",
            v3_args(&agent, "authonly", auth("sha256"), privacy("aes")),
            "unsupported security level (usmStatsUnsupportedSecLevels)",
        ),
    ];
    let timing = [
        "--timeout-ms",
        "400",
        "--retries",
        "1",
        "--pages",
        "battery",
    ];
    for (what, mut args, expected) in cases {
        args.extend(timing);
        let out = probe(&args);
        let err = stderr(&out);
        assert!(!out.status.success(), "{what}: succeeded");
        assert!(
            err.contains(expected),
            "{what}: expected {expected:?}, got {err}"
        );
        assert!(
            !err.contains(AUTH_PASS) && !err.contains(PRIV_PASS),
            "{err}"
        );
    }
    let mut args = v3_args(&agent, "shaaes", auth("sha"), privacy("aes"));
    args.extend(["--context", "nosuchcontext"]);
    args.extend(timing);
    let err = stderr(&probe(&args));
    assert!(
        err.contains("unknown context \"nosuchcontext\""),
        "context: {err}"
    );
    // Refused before any packet, naming the flag.
    let args = v3_args(&agent, "shaaes", Some(("sha", "short")), privacy("aes"));
    let err = stderr(&probe(&args));
    assert!(
        err.contains("--auth-password: is 5 characters long"),
        "{err}"
    );
}

/// One read through a v3 client that lives across agent restarts.
async fn read_model(client: &mut ups2mqtt::snmp::Client) -> Result<String, String> {
    let oid = ups2mqtt::oid::Oid::parse("1.3.6.1.2.1.33.1.1.1.0").unwrap();
    let varbinds = client
        .get(std::slice::from_ref(&oid))
        .await
        .map_err(|e| e.to_string())?;
    match varbinds.first() {
        Some((_, ups2mqtt::snmp::Value::OctetString(text))) => {
            Ok(String::from_utf8_lossy(text).into_owned())
        }
        other => Err(format!("unexpected {other:?}")),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn agent_reboots_and_replacements_are_followed_without_a_new_client() {
    use ups2mqtt::snmp::usm::{AuthProtocol, PrivProtocol, UsmUser};
    use ups2mqtt::snmp::{Client, ClientOptions, UsmOptions};
    let sim = Snmpsim::start(WALK);
    let users = [V3User::new("ups")
        .auth("SHA-256", AUTH_PASS)
        .privacy("AES", PRIV_PASS)];
    let mut snmpd = Snmpd::start(&users, Some((sim.port(), "public")));
    let mut opts = ClientOptions::new(snmpd.agent().parse().unwrap());
    opts.timeout = Duration::from_millis(500);
    opts.usm = Some(UsmOptions {
        user: UsmUser::new(
            "ups",
            Some((AuthProtocol::Sha256, AUTH_PASS)),
            Some((PrivProtocol::Aes128, PRIV_PASS)),
        )
        .unwrap(),
        write_user: None,
        context: String::new(),
    });
    let mut client = Client::new(opts).unwrap();
    assert_eq!(read_model(&mut client).await, Ok("EATON".to_string()));
    let before = client.engine().expect("engine discovered");
    assert_eq!(client.stats().discoveries, 1);
    assert_eq!(
        client.stats().requests,
        2,
        "one discovery, then one GET (boots/time came with the discovery Report)"
    );

    // A reboot: same engine ID, boots + 1, time from 0.
    snmpd.restart();
    assert_eq!(read_model(&mut client).await, Ok("EATON".to_string()));
    let after = client.engine().unwrap();
    assert_eq!(after.id, before.id);
    assert!(after.boots > before.boots, "{before:?} -> {after:?}");
    assert_eq!(
        (client.stats().discoveries, client.stats().resyncs),
        (1, 1),
        "re-synchronised from the notInTimeWindow Report, not rediscovered"
    );

    // A replaced card: a new engine ID on the same address.
    snmpd.replace_engine();
    assert_eq!(read_model(&mut client).await, Ok("EATON".to_string()));
    let replaced = client.engine().unwrap();
    assert_ne!(replaced.id, before.id, "new engine");
    assert_eq!(
        client.stats().discoveries,
        2,
        "unknownEngineID: rediscovered"
    );
}

/// `ups2mqtt run` against snmpd in front of the simulator.
struct V3Rig {
    broker: Mosquitto,
    sim: Sim,
    _snmpd: Snmpd,
    gateway: Gateway,
}

const WRITER_AUTH: &str = "writerauth1";
const WRITER_PRIV: &str = "writerpriv1";

impl V3Rig {
    /// `reader` (SHA-256/AES, read-only) and `writer` (SHA-512/AES-256,
    /// read-write) on the agent; the UPS entry is `ups_extra`.
    fn start(ups_extra: &str) -> V3Rig {
        let broker = Mosquitto::start();
        let sim = Sim::start(&[]);
        let users = [
            V3User::new("reader")
                .auth("SHA-256", AUTH_PASS)
                .privacy("AES", PRIV_PASS),
            V3User::new("writer")
                .auth("SHA-512", WRITER_AUTH)
                .privacy("AES-256", WRITER_PRIV)
                .writer(),
        ];
        // The proxy forwards with the simulator's read-write community.
        let snmpd = Snmpd::start(&users, Some((sim.port(), "private")));
        let gateway = Gateway::start_with(
            &broker,
            &ups_toml("rack1", "127.0.0.1", snmpd.port(), ups_extra),
            "",
        );
        V3Rig {
            broker,
            sim,
            _snmpd: snmpd,
            gateway,
        }
    }

    fn health(&self, ok: impl Fn(&Json) -> bool) -> Json {
        json(&wait_retained(
            &self.broker,
            "ups2mqtt/rack1/health",
            |p| ok(&json(p)),
            &self.gateway,
        ))
    }
}

fn reader_toml(secret_dir: &std::path::Path) -> String {
    let auth_file = secret_dir.join("reader-auth");
    std::fs::write(&auth_file, format!("{AUTH_PASS}\n")).unwrap();
    format!(
        "version = \"3\"\nuser = \"reader\"\nauth_protocol = \"sha256\"\nauth_password = {{ file = \"{}\" }}\npriv_protocol = \"aes\"\npriv_password = \"{PRIV_PASS}\"\n",
        auth_file.display()
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ups2mqtt-v3-{name}-{}-{}",
        std::process::id(),
        support::free_tcp_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Publishes `payload` on `topic` and returns the next command response.
fn command(rig: &V3Rig, responses: &Subscriber, topic: &str, payload: &str) -> Json {
    let status = Command::new("mosquitto_pub")
        .args([
            "-p",
            &rig.broker.port().to_string(),
            "-t",
            topic,
            "-m",
            payload,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let message = responses
        .wait_message(|_| true, WAIT)
        .unwrap_or_else(|| panic!("no response\n{}", rig.gateway.log()));
    json(&message.payload)
}

/// The simulator's own view of a scalar, over v2c (net-snmp as witness).
fn sim_value(sim: &Sim, path: &str) -> String {
    let field = ups2mqtt::mib::field_by_path(path).unwrap();
    let source = field.sources.iter().find(|s| s.is_writable()).unwrap();
    let oid = source.object_oid().child(0).to_string();
    let out = support::net_snmp("snmpget")
        .args(["-v2c", "-c", "public", "-Oqv"])
        .arg(format!("127.0.0.1:{}", sim.port()))
        .arg(oid)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_gateway_polls_and_sets_over_v3_with_a_write_user() {
    let dir = temp_dir("set");
    let extra = format!(
        "{}write_user = \"writer\"\nwrite_auth_protocol = \"sha512\"\nwrite_auth_password = \"{WRITER_AUTH}\"\nwrite_priv_protocol = \"aes256\"\nwrite_priv_password = \"{WRITER_PRIV}\"\n",
        reader_toml(&dir)
    );
    let rig = V3Rig::start(&extra);
    wait_retained(
        &rig.broker,
        "ups2mqtt/rack1/availability",
        |p| p == "online",
        &rig.gateway,
    );
    let config = json(&wait_retained(
        &rig.broker,
        "ups2mqtt/rack1/config",
        |_| true,
        &rig.gateway,
    ));
    assert_eq!(config["beeper"], "enabled", "{config}");
    let before = sim_value(&rig.sim, "config.beeper");
    let responses = Subscriber::start(rig.broker.port(), "ups2mqtt/rack1/response");
    let response = command(
        &rig,
        &responses,
        "ups2mqtt/rack1/config/beeper/set",
        "muted",
    );
    assert_eq!(
        response["status"],
        "ok",
        "{response}\n{}",
        rig.gateway.log()
    );
    assert_eq!(response["readback"]["config.beeper"], "muted", "{response}");
    let after = sim_value(&rig.sim, "config.beeper");
    assert_ne!(before, after, "the card holds the new value");
    wait_retained(
        &rig.broker,
        "ups2mqtt/rack1/config",
        |p| json(p)["beeper"] == "muted",
        &rig.gateway,
    );
    let log = rig.gateway.log();
    for secret in [AUTH_PASS, PRIV_PASS, WRITER_AUTH, WRITER_PRIV] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_read_only_user_and_wrong_keys_are_named_in_responses_and_health() {
    let dir = temp_dir("ro");
    // No write_user: SETs go as the read-only reader.
    let rig = V3Rig::start(&reader_toml(&dir));
    wait_retained(
        &rig.broker,
        "ups2mqtt/rack1/availability",
        |p| p == "online",
        &rig.gateway,
    );
    let responses = Subscriber::start(rig.broker.port(), "ups2mqtt/rack1/response");
    let response = command(
        &rig,
        &responses,
        "ups2mqtt/rack1/config/beeper/set",
        "muted",
    );
    assert_eq!(response["status"], "error", "{response}");
    let error = response["error"].as_str().unwrap();
    assert!(error.contains("needs write access"), "{response}");
    drop(rig);

    // A wrong privacy password: the health topic says so.
    let wrong = reader_toml(&dir).replace(PRIV_PASS, "wrongpriv1");
    let rig = V3Rig::start(&wrong);
    let health = rig.health(|h| h["last_error"].is_string());
    let last_error = health["last_error"].as_str().unwrap();
    assert!(last_error.contains("decryption error"), "{health}");
    assert!(last_error.contains("\"reader\""), "{health}");
    assert!(rig.gateway.log().contains("decryption error"), "logged too");
    let _ = std::fs::remove_dir_all(dir);
}

// ------------------------------------------------------------------ traps

const TRAP_AUTH: &str = "trapauth123";
const TRAP_PRIV: &str = "trappriv123";

/// A net-snmp tool with its own empty configuration and state.
fn net_snmp_isolated(tool: &str, state: &std::path::Path) -> Command {
    let mut cmd = support::net_snmp(tool);
    cmd.env("SNMP_PERSISTENT_DIR", state)
        .env("SNMPCONFPATH", state)
        .env("MIBS", "");
    cmd
}

fn run_ok(mut cmd: Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn v3_traps_and_informs_become_events_and_bad_keys_are_counted() {
    let broker = Mosquitto::start();
    let port = support::free_udp_port();
    let traps = format!(
        "[traps]\nlisten = [\"127.0.0.1:{port}\"]\n[[traps.users]]\nuser = \"trapper\"\nauth_protocol = \"sha\"\nauth_password = \"{TRAP_AUTH}\"\npriv_protocol = \"aes\"\npriv_password = \"{TRAP_PRIV}\"\n"
    );
    // No agent behind the UPS: traps route by source address all the same.
    let upses = ups_toml("rack1", "127.0.0.1", support::free_udp_port(), "");
    let gateway = Gateway::start_with(&broker, &upses, &traps);
    gateway.wait_online(&broker);
    let events = Subscriber::start(broker.port(), "ups2mqtt/rack1/event");
    let state = temp_dir("net-snmp-state");
    let target = format!("127.0.0.1:{port}");
    let v3 = |tool: &str, auth: &str, privacy: &str| {
        let mut cmd = net_snmp_isolated(tool, &state);
        cmd.args(["-v", "3", "-l", "authPriv", "-u", "trapper"])
            .args(["-a", "SHA", "-A", auth, "-x", "AES", "-X", privacy]);
        cmd
    };
    let event = |name: &str| {
        let message = events
            .wait_message(|m| json(&m.payload)["name"] == name, WAIT)
            .unwrap_or_else(|| panic!("no {name} event: {:?}\n{}", events.lines(), gateway.log()));
        json(&message.payload)
    };

    // A trap: the sender is authoritative and names its engine ID.
    let mut trap = v3("snmptrap", TRAP_AUTH, TRAP_PRIV);
    trap.args(["-e", "0x8000000001020304", &target, ""]).args([
        "1.3.6.1.2.1.33.2.1",
        "1.3.6.1.2.1.33.1.2.3.0",
        "i",
        "5",
    ]);
    run_ok(trap);
    let on_battery = event("on_battery");
    assert_eq!(on_battery["version"], "3");
    assert_eq!(on_battery["user"], "trapper");
    assert_eq!(on_battery["inform"], false);
    assert_eq!(on_battery["varbinds"][0]["value"], 300);

    // An inform: snmpinform discovers the listener's engine, then gets its
    // Response (it exits 0 only then).
    let mut inform = v3("snmpinform", TRAP_AUTH, TRAP_PRIV);
    inform
        .args(["-t", "2", "-r", "1", &target, ""])
        .arg("1.3.6.1.2.1.33.2.2");
    run_ok(inform);
    let completed = event("test_completed");
    assert_eq!(completed["inform"], true);
    assert_eq!(completed["version"], "3");

    // The same trap with a wrong auth key, then a wrong priv key, then an
    // unknown user: dropped and counted, never delivered.
    for (auth, privacy) in [("wrongauth12", TRAP_PRIV), (TRAP_AUTH, "wrongpriv12")] {
        let mut bad = v3("snmptrap", auth, privacy);
        bad.args(["-e", "0x8000000001020304", &target, ""])
            .arg("1.3.6.1.2.1.33.2.1");
        run_ok(bad);
    }
    let mut stranger = net_snmp_isolated("snmptrap", &state);
    stranger
        .args(["-v", "3", "-l", "authNoPriv", "-u", "stranger", "-a", "SHA"])
        .args(["-A", TRAP_AUTH, "-e", "0x8000000001020304", &target, ""])
        .arg("1.3.6.1.2.1.33.2.1");
    run_ok(stranger);
    let health = json(&wait_retained(
        &broker,
        "ups2mqtt/bridge/health",
        |p| json(p)["traps"]["dropped"]["unknown_user"] == 1,
        &gateway,
    ));
    let traps = &health["traps"];
    assert_eq!(traps["dropped"]["wrong_digest"], 1, "{health}");
    assert_eq!(traps["dropped"]["decryption_error"], 1, "{health}");
    assert_eq!(traps["delivered"], 2, "{health}");
    assert_eq!(traps["informs_answered"], 1, "{health}");
    assert!(traps["v3"]["discoveries"].as_u64() >= Some(1), "{health}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        events
            .messages()
            .iter()
            .filter(|m| json(&m.payload)["name"] == "on_battery")
            .count(),
        1,
        "the bad traps became no event"
    );
    let _ = std::fs::remove_dir_all(state);
}

/// Issue 17, 7: two SNMPv3 cards behind one address (NAT, a multi-card
/// proxy), signing their traps with the same user: each trap is published
/// as the event of the UPS whose `trap_engine_id` is the engine ID the
/// trap carries (net-snmp's `snmptrap -e`); a trap from an engine neither
/// names is dropped as ambiguous, never credited to the wrong UPS; and
/// `check-config` refuses the pair until both engine IDs are given.
#[test]
fn v3_traps_on_a_shared_address_go_to_the_ups_of_their_engine_id() {
    const CARD_A: &str = "0x80001f8803000c29aa0001";
    const CARD_B: &str = "0x80001f8803000c29bb0002";
    let broker = Mosquitto::start();
    let dead = support::free_udp_port;
    let card = |id: &str, engine: Option<&str>| {
        let engine = engine.map_or(String::new(), |e| format!("trap_engine_id = \"{e}\"\n"));
        ups_toml(
            id,
            "127.0.0.1",
            dead(),
            &format!(
                "version = \"3\"\nuser = \"card\"\nauth_protocol = \"sha\"\nauth_password = \"{TRAP_AUTH}\"\npriv_protocol = \"aes\"\npriv_password = \"{TRAP_PRIV}\"\n{engine}"
            ),
        )
    };
    let check = |toml: &str| {
        let dir = temp_dir("engine-check");
        let path = dir.join("config.toml");
        std::fs::write(&path, toml).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_ups2mqtt"))
            .args(["check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(dir);
        out
    };
    let refused = check(&(card("a1", Some(CARD_A)) + &card("b1", None)));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("\"a1\"") && stderr.contains("\"b1\"") && stderr.contains("trap_engine_id"),
        "{stderr}"
    );
    let upses = card("a1", Some(CARD_A)) + &card("b1", Some(CARD_B));
    let accepted = check(&upses);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );

    let gateway = Gateway::start_with(&broker, &upses, "");
    gateway.wait_online(&broker);
    let events = Subscriber::start(broker.port(), "ups2mqtt/+/event");
    let state = temp_dir("net-snmp-state");
    let target = format!("127.0.0.1:{}", gateway.trap_port);
    // Both cards send from 127.0.0.1; each trap carries a marker string.
    let send = |engine: &str, marker: &str| {
        let mut trap = net_snmp_isolated("snmptrap", &state);
        trap.args(["-v", "3", "-l", "authPriv", "-u", "card"])
            .args(["-a", "SHA", "-A", TRAP_AUTH, "-x", "AES", "-X", TRAP_PRIV])
            .args(["-e", engine, &target, "", "1.3.6.1.2.1.33.2.1"])
            .args(["1.3.6.1.4.1.99999.1.0", "s", marker]);
        run_ok(trap);
    };
    for round in 0..3 {
        send(CARD_B, &format!("from-b-{round}"));
        send(CARD_A, &format!("from-a-{round}"));
    }
    send("0x80001f8803000c29cc0003", "from-c");
    let health = json(&wait_retained(
        &broker,
        "ups2mqtt/bridge/health",
        |p| json(p)["traps"]["received"].as_u64() >= Some(7),
        &gateway,
    ));
    let credited = |expected: usize| {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let got: Vec<(String, String, String)> = events
                .messages()
                .iter()
                .map(|m| {
                    let event = json(&m.payload);
                    (
                        m.topic.clone(),
                        event["varbinds"][0]["value"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        event["engine_id"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            if got.len() >= expected || std::time::Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let got = credited(6);
    eprintln!(
        "shared address, SNMPv3: events {got:?}; dropped {}",
        health["traps"]["dropped"]
    );
    assert_eq!(got.len(), 6, "{got:?}\n{}", gateway.log());
    for (topic, marker, engine) in &got {
        let (ups, card) = if marker.starts_with("from-a") {
            ("a1", CARD_A)
        } else {
            ("b1", CARD_B)
        };
        assert_eq!(topic, &format!("ups2mqtt/{ups}/event"), "{marker}");
        assert_eq!(
            format!("0x{engine}"),
            card.to_lowercase(),
            "the event names the card's engine"
        );
    }
    let health = json(&wait_retained(
        &broker,
        "ups2mqtt/bridge/health",
        |p| json(p)["traps"]["dropped"]["ambiguous"] == 1,
        &gateway,
    ));
    assert_eq!(health["traps"]["delivered"], 6, "{health}");
    let _ = std::fs::remove_dir_all(state);
}
