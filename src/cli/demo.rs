//! `ups2mqtt demo`: everything on loopback with no setup. It starts the
//! simulated UPS card (the `ups2mqtt-sim` binary next to this one), an MQTT
//! broker (mosquitto when installed, otherwise rumqttd in-process with the
//! `demo-broker` feature) and the gateway in this process, prints where to
//! look, optionally fails and restores the mains now and then so the topics
//! move, and on Ctrl-C stops the gateway (bridge `offline`), then the broker
//! and the card.
//!
//! The children run in their own process group, so a terminal's Ctrl-C
//! reaches only this process, which then shuts them down in order.

use crate::config::{
    self, Config, MetricsConfig, MqttConfig, NutAction, NutConfig, NutUserConfig, PollConfig,
    TrapsConfig, UpsConfig, UpsmonRole,
};
use crate::gateway::Gateway;
use anyhow::{Context, bail};
use clap::ValueEnum;
use std::fs::File;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tracing::warn;

/// The gateway id and UPS id of the demo (the dashboard example in
/// `examples/` uses the same UPS id).
pub const GATEWAY_ID: &str = "demo";
pub const UPS_ID: &str = "rack1";

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// How long a child may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// MQTT broker: `auto` (mosquitto if installed, else the embedded one),
    /// `mosquitto`, or `embedded` (rumqttd, cargo feature `demo-broker`).
    #[arg(long, value_enum, default_value_t = BrokerChoice::Auto)]
    pub broker: BrokerChoice,
    /// Broker port on 127.0.0.1 (0: a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Every this many seconds the simulated mains fail, or come back
    /// (0: never; drive the card yourself through its control port).
    #[arg(long, default_value_t = 30)]
    pub scenario_secs: u64,
    /// The simulator binary (default: `ups2mqtt-sim` next to this executable).
    #[arg(long)]
    pub sim: Option<PathBuf>,
    /// Also print every message under `ups2mqtt/#` here (no mosquitto_sub
    /// needed), each cut to one line.
    #[arg(long)]
    pub watch: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum BrokerChoice {
    Auto,
    Mosquitto,
    Embedded,
}

pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let sim_path = match &args.sim {
        Some(path) => path.clone(),
        None => sibling_sim()?,
    };
    let trap_port = free_port(false)?;
    let sim = Sim::start(&sim_path, trap_port)?;
    let broker = Broker::start(args.broker, args.port)?;
    // A free port, like the others: several demos may run at once.
    let metrics_port = free_port(true)?;
    let nut_port = nut_port()?;
    let config = demo_config(broker.port, sim.agent, trap_port, metrics_port, nut_port)?;
    let gateway = Gateway::start(config).await?;
    if tokio::time::timeout(Duration::from_secs(10), gateway.mqtt().connected())
        .await
        .is_err()
    {
        warn!(
            port = broker.port,
            "the gateway has not reached the broker yet"
        );
    }
    say(&banner(&sim, &broker, args.scenario_secs, metrics_port));
    say(&format!(
        "NUT clients: upsc {UPS_ID}@127.0.0.1:{nut_port}; upscmd/upsrw/upsmon as user {NUT_USER:?}, password {NUT_USER:?}"
    ));
    let watcher = args.watch.then(|| tokio::spawn(watch(broker.port)));
    let scenario = Scenario::new(sim.control, args.scenario_secs);
    tokio::select! {
        () = wait_for_signal() => {}
        () = scenario.run() => {}
    }
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    say("stopping: gateway, then broker and simulated UPS");
    gateway.shutdown().await;
    drop(broker);
    drop(sim);
    say("demo stopped");
    Ok(())
}

/// Prints to stdout; a closed stdout (e.g. `| head`) must not abort the demo
/// with its children still running.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

fn banner(sim: &Sim, broker: &Broker, scenario_secs: u64, metrics_port: u16) -> String {
    let port = broker.port;
    let control = sim.control;
    let scenario = if scenario_secs > 0 {
        format!(
            "Every {scenario_secs} s the simulated mains fail or come back (--scenario-secs 0: never).\n"
        )
    } else {
        String::new()
    };
    format!(
        "\nups2mqtt demo is running (Ctrl-C stops it and everything it started)\n\
         \n  simulated UPS  SNMP v1/v2c agent on {agent} (community public), control port {control}\
         \n  MQTT broker    {kind} on 127.0.0.1:{port}\
         \n  gateway        id {GATEWAY_ID:?}, UPS {UPS_ID:?}: ups2mqtt/{UPS_ID}/<page>, Home Assistant discovery under homeassistant/\n\
         \nWatch the topics (or run the demo with --watch):\
         \n  mosquitto_sub -h 127.0.0.1 -p {port} -t 'ups2mqtt/#' -v\
         \nSend a command and see its response:\
         \n  mosquitto_pub -h 127.0.0.1 -p {port} -t ups2mqtt/{UPS_ID}/command -m test.battery.start\
         \n  mosquitto_sub -h 127.0.0.1 -p {port} -t ups2mqtt/{UPS_ID}/response -C 1 -v\
         \nDrive the UPS (mains off|on, battery low, overload on|off, test start):\
         \n  ups2mqtt-sim's control port: exec 3<>/dev/tcp/127.0.0.1/{control_port}; echo 'mains off' >&3; head -1 <&3\n\
         \nPrometheus metrics:\
         \n  curl -s http://127.0.0.1:{metrics_port}/metrics | grep ups2mqtt_battery\n\
         {scenario}",
        agent = sim.agent,
        kind = broker.kind,
        control_port = control.port(),
    )
}

/// `ups2mqtt-sim` in the directory of this executable.
fn sibling_sim() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot locate this executable")?;
    let dir = exe.parent().context("this executable has no directory")?;
    let sim = dir.join(format!("ups2mqtt-sim{}", std::env::consts::EXE_SUFFIX));
    if !sim.is_file() {
        bail!(
            "the simulated UPS card {} does not exist: `cargo build --release` builds it next to \
             ups2mqtt (`cargo run` builds only one binary), or pass --sim PATH",
            sim.display()
        );
    }
    Ok(sim)
}

/// The demo's NUT user (password alike): upsmon primary, every command.
const NUT_USER: &str = "demo";

/// A free loopback port for the NUT server (not NUT's 3493, which a local
/// upsd or a second demo may hold; the banner prints it).
fn nut_port() -> anyhow::Result<u16> {
    free_port(true)
}

/// The gateway's configuration: one UPS, the broker, traps from the card,
/// the NUT server.
fn demo_config(
    broker_port: u16,
    agent: SocketAddr,
    trap_port: u16,
    metrics_port: u16,
    nut_port: u16,
) -> anyhow::Result<Config> {
    let mut ups = UpsConfig::new(UPS_ID, &agent.ip().to_string(), agent.port());
    ups.timeout_ms = 500;
    ups.retries = 1;
    ups.poll = PollConfig {
        fast: 2,
        slow: 10,
        ..PollConfig::default()
    };
    let config = Config {
        gateway: config::Gateway {
            id: GATEWAY_ID.to_string(),
        },
        mqtt: MqttConfig {
            host: LOCALHOST.to_string(),
            port: broker_port,
            refresh: 30,
            ..MqttConfig::default()
        },
        traps: TrapsConfig {
            enabled: true,
            listen: vec![SocketAddr::from((LOCALHOST, trap_port))],
            ..TrapsConfig::default()
        },
        metrics: MetricsConfig {
            enabled: true,
            listen: SocketAddr::from((LOCALHOST, metrics_port)),
            ..MetricsConfig::default()
        },
        nut: NutConfig {
            enabled: true,
            listen: vec![SocketAddr::from((LOCALHOST, nut_port))],
            users: vec![NutUserConfig {
                name: NUT_USER.to_string(),
                password: NUT_USER.into(),
                actions: vec![NutAction::Set, NutAction::Fsd],
                instcmds: vec!["all".to_string()],
                upsmon: Some(UpsmonRole::Primary),
            }],
            ..NutConfig::default()
        },
        ups: vec![ups],
        ..Config::default()
    };
    if let Err(problems) = config.validate() {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!("demo configuration: {}", text.join("; "));
    }
    Ok(config)
}

/// A free loopback port (TCP or UDP), released for the child to take.
fn free_port(tcp: bool) -> anyhow::Result<u16> {
    let port = if tcp {
        TcpListener::bind((LOCALHOST, 0))?.local_addr()?.port()
    } else {
        UdpSocket::bind((LOCALHOST, 0))?.local_addr()?.port()
    };
    Ok(port)
}

/// A child process killed and reaped on drop.
struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    fn spawn(command: &mut Command, what: &str) -> anyhow::Result<ChildGuard> {
        let child = command
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {what} ({:?})", command.get_program()))?;
        Ok(ChildGuard { child })
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The simulated card: its SNMP agent and control port.
struct Sim {
    _child: ChildGuard,
    agent: SocketAddr,
    control: SocketAddr,
}

impl Sim {
    /// Starts `ups2mqtt-sim` on free loopback ports, sending its traps to
    /// `trap_port`, and reads the ports it announces on stdout.
    fn start(path: &Path, trap_port: u16) -> anyhow::Result<Sim> {
        let mut command = Command::new(path);
        command
            .args(["--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"])
            .arg("--trap-sink")
            .arg(format!("127.0.0.1:{trap_port},v2c"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = ChildGuard::spawn(&mut command, "the simulated UPS")?;
        let stdout = child.child.stdout.take().context("simulator stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            // Keeps draining after the announcements.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let (mut agent, mut control) = (None, None);
        while agent.is_none() || control.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match lines.recv_timeout(left) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    bail!(
                        "{} did not announce its ports within {START_TIMEOUT:?}",
                        path.display()
                    )
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => bail!(
                    "{} exited before announcing its ports ({:?})",
                    path.display(),
                    child.exited()
                ),
            };
            if let Some(addr) = line.strip_prefix("control tcp ") {
                control = Some(parse_addr(addr, &line)?);
            } else if let Some(rest) = line.strip_prefix("listening udp ") {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                agent = Some(parse_addr(addr, &line)?);
            }
        }
        Ok(Sim {
            _child: child,
            agent: agent.expect("loop ends with both"),
            control: control.expect("loop ends with both"),
        })
    }
}

fn parse_addr(text: &str, line: &str) -> anyhow::Result<SocketAddr> {
    text.trim()
        .parse()
        .with_context(|| format!("ups2mqtt-sim announced an address I cannot read: {line:?}"))
}

/// The running broker.
struct Broker {
    kind: &'static str,
    port: u16,
    _child: Option<ChildGuard>,
    _dir: Option<TempDir>,
}

impl Broker {
    fn start(choice: BrokerChoice, port: u16) -> anyhow::Result<Broker> {
        let mosquitto = find_program("mosquitto");
        match (choice, mosquitto) {
            (BrokerChoice::Auto | BrokerChoice::Mosquitto, Some(program)) => {
                start_mosquitto(&program, port)
            }
            (BrokerChoice::Mosquitto, None) => bail!(
                "mosquitto is not installed: `sudo apt-get install mosquitto mosquitto-clients`{}",
                if cfg!(feature = "demo-broker") {
                    ", or use --broker embedded"
                } else {
                    ""
                }
            ),
            (BrokerChoice::Auto | BrokerChoice::Embedded, _) => start_embedded(port),
        }
    }
}

/// A program on `PATH` or in the sbin directories (mosquitto lives in
/// /usr/sbin, which a user's PATH often lacks).
fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> anyhow::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "ups2mqtt-demo-{what}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start_mosquitto(program: &Path, port: u16) -> anyhow::Result<Broker> {
    let dir = TempDir::new("mosquitto")?;
    // A free port can be taken by someone else before mosquitto binds it:
    // then try another one.
    let attempts = if port == 0 { 3 } else { 1 };
    let mut last_error = None;
    for _ in 0..attempts {
        let port = if port == 0 { free_port(true)? } else { port };
        let conf = dir.0.join("mosquitto.conf");
        let log = dir.0.join("mosquitto.log");
        // Logs go to stderr, a file opened here: as root mosquitto drops to
        // its own user, which could not open a file in this directory.
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 log_dest stderr\nlog_type error\nlog_type warning\n"
            ),
        )?;
        let out = File::create(&log)?;
        let mut command = Command::new(program);
        command
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let mut child = ChildGuard::spawn(&mut command, "mosquitto")?;
        match wait_listening(port, || child.exited()) {
            Ok(()) => {
                return Ok(Broker {
                    kind: "mosquitto",
                    port,
                    _child: Some(child),
                    _dir: Some(dir),
                });
            }
            Err(error) => {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                last_error = Some(error.context(format!("mosquitto on port {port}: {log}")));
            }
        }
    }
    Err(last_error.expect("at least one attempt"))
}

/// Waits until 127.0.0.1:port accepts TCP connections; `exited` tells
/// whether the process that should listen there is gone.
fn wait_listening(
    port: u16,
    mut exited: impl FnMut() -> Option<std::process::ExitStatus>,
) -> anyhow::Result<()> {
    let addr = SocketAddr::from((LOCALHOST, port));
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Some(status) = exited() {
            bail!("exited with {status}");
        }
        if Instant::now() > deadline {
            bail!("not listening on {addr} within {START_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(feature = "demo-broker")]
fn start_embedded(port: u16) -> anyhow::Result<Broker> {
    use std::collections::HashMap;
    let port = if port == 0 { free_port(true)? } else { port };
    // rumqttd reports a port it cannot bind only in its log: check first.
    drop(
        TcpListener::bind((LOCALHOST, port))
            .with_context(|| format!("embedded broker: cannot listen on 127.0.0.1:{port}"))?,
    );
    let server = rumqttd::ServerSettings {
        name: "demo".to_string(),
        listen: SocketAddr::from((LOCALHOST, port)),
        tls: None,
        next_connection_delay_ms: 1,
        connections: rumqttd::ConnectionSettings {
            connection_timeout_ms: 60_000,
            // Home Assistant device discovery payloads run to 100 kB.
            max_payload_size: 1 << 20,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: 64,
            max_outgoing_packet_count: 200,
            max_segment_size: 1 << 20,
            max_segment_count: 10,
            ..rumqttd::RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_string(), server)])),
        ..rumqttd::Config::default()
    };
    let mut broker = rumqttd::Broker::new(config);
    std::thread::Builder::new()
        .name("demo-broker".to_string())
        .spawn(move || {
            if let Err(error) = broker.start() {
                tracing::error!(%error, "embedded MQTT broker stopped");
            }
        })?;
    wait_listening(port, || None).context("embedded broker")?;
    Ok(Broker {
        kind: "embedded broker (rumqttd)",
        port,
        _child: None,
        _dir: None,
    })
}

#[cfg(not(feature = "demo-broker"))]
fn start_embedded(_port: u16) -> anyhow::Result<Broker> {
    bail!(
        "no MQTT broker: install mosquitto (`sudo apt-get install mosquitto mosquitto-clients`), \
         or build with the embedded one (`cargo build --release --features demo-broker`)"
    )
}

/// `--watch`: prints `topic payload` for every message under `ups2mqtt/#`,
/// each cut to 160 characters.
async fn watch(port: u16) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let mut options = MqttOptions::new(
        format!("ups2mqtt-demo-watch-{}", std::process::id()),
        LOCALHOST.to_string(),
        port,
    );
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut events) = AsyncClient::new(options, 16);
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                let _ = client.try_subscribe("ups2mqtt/#", QoS::AtMostOnce);
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let payload = String::from_utf8_lossy(&publish.payload);
                let line = format!("{} {payload}", publish.topic);
                say(&line.chars().take(160).collect::<String>());
            }
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// Mains off, mains on, ... through the card's control port.
struct Scenario {
    control: SocketAddr,
    period: Option<Duration>,
}

impl Scenario {
    fn new(control: SocketAddr, secs: u64) -> Scenario {
        Scenario {
            control,
            period: (secs > 0).then(|| Duration::from_secs(secs)),
        }
    }

    async fn run(&self) {
        let Some(period) = self.period else {
            return std::future::pending().await;
        };
        let mut mains_on = true;
        loop {
            tokio::time::sleep(period).await;
            mains_on = !mains_on;
            let line = if mains_on { "mains on" } else { "mains off" };
            match control(self.control, line).await {
                Ok(reply) => say(&format!("scenario: {line} -> {reply}")),
                Err(error) => warn!(%error, "scenario: {line} failed"),
            }
        }
    }
}

/// One control line to the card, and its reply line.
async fn control(addr: SocketAddr, line: &str) -> anyhow::Result<String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(format!("{line}\n").as_bytes()).await?;
        let mut reply = String::new();
        tokio::io::BufReader::new(stream)
            .read_line(&mut reply)
            .await?;
        anyhow::Ok(reply.trim_end().to_string())
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .context("no reply within 5 s")?
}

/// Ctrl-C, SIGTERM, or SIGHUP (its terminal closed): all stop the demo
/// the same way, so the broker and the simulator never outlive it.
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hangup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hangup.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_configuration_is_valid() {
        let config =
            demo_config(1883, "127.0.0.1:1161".parse().unwrap(), 1162, 16280, 3493).unwrap();
        assert_eq!(config.ups[0].id, UPS_ID);
        assert_eq!(config.gateway.id, GATEWAY_ID);
        assert_eq!(config.traps.listen, ["127.0.0.1:1162".parse().unwrap()]);
        assert!(config.nut.enabled);
    }

    #[test]
    fn programs_are_found_in_sbin_too() {
        assert!(find_program("sh").is_some());
        assert!(find_program("no-such-program-ups2mqtt").is_none());
    }
}
