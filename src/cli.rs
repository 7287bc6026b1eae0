//! The command line: argument parsing, logging set-up and the subcommands'
//! output. Each subcommand is a thin shell over the library.

#[cfg(feature = "demo")]
mod demo;

use crate::config::UpsConfig;
use crate::mib::{self, Page};
use crate::model::Model;
use crate::snmp::SnmpVersion;
use crate::snmp::usm::{AuthProtocol, PrivProtocol};
use crate::ups::{Ups, WakeGrid};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::process::ExitCode;

#[cfg(feature = "demo")]
pub use demo::{BrokerChoice, DemoArgs};

#[derive(Parser, Debug)]
#[command(
    name = "ups2mqtt",
    version,
    about = "Schneider Electric (MGE / APC) UPS over SNMP to MQTT and Home Assistant",
    after_help = "Examples:\n  \
ups2mqtt demo                                         # simulated UPS + broker + gateway, no setup\n  \
ups2mqtt probe --agent 192.0.2.10                     # read one card once, print its pages\n  \
ups2mqtt check-config --config /etc/ups2mqtt/config.toml\n  \
ups2mqtt run --config /etc/ups2mqtt/config.toml --log-format json\n\n\
`ups2mqtt <command> --help` has examples for each command."
)]
pub struct Cli {
    /// Log format on stderr: `human` (one line per event; no timestamps
    /// or colours under journald) or `json` (one object per line). RUST_LOG
    /// filters (default `info`).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = LogFormat::Human,
        env = "UPS2MQTT_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the gateway: poll every configured UPS and keep MQTT and Home
    /// Assistant in step with it (until SIGINT/SIGTERM).
    #[command(after_help = "Examples:\n  \
ups2mqtt run --config /etc/ups2mqtt/config.toml\n  \
UPS2MQTT_MQTT__HOST=broker.lan UPS2MQTT_GATEWAY__ID=basement ups2mqtt run -c config.toml\n  \
RUST_LOG=ups2mqtt=debug ups2mqtt run -c config.toml --log-format json\n\n\
Under systemd (Type=notify, see systemd/ups2mqtt.service) it reports READY=1 once the broker\n\
session is up, WATCHDOG=1 at half of WatchdogSec, and STOPPING=1 at shutdown.")]
    Run(RunArgs),
    /// Validate the configuration and print the effective result (defaults,
    /// file and environment merged) with secrets masked.
    #[command(after_help = "Examples:\n  \
ups2mqtt check-config --config /etc/ups2mqtt/config.toml\n  \
UPS2MQTT_MQTT__PORT=8883 ups2mqtt check-config -c config.toml   # see an override applied\n\n\
Exit status 0 when valid; otherwise every problem is printed with its key, e.g.\n  \
ups[0].timeout_ms: 5 is outside 10..=60000")]
    CheckConfig(RunArgs),
    /// Read every page of one agent once and print the JSON that would be
    /// published to MQTT.
    #[command(after_help = "Examples:\n  \
ups2mqtt probe --agent 192.0.2.10\n  \
ups2mqtt probe --agent ups.example:1161 --snmp-version 1 --pages battery,output --format table\n  \
ups2mqtt probe --agent [2001:db8::10]:161 --community secret --stats")]
    Probe(ProbeArgs),
    /// Start a simulated UPS card, an MQTT broker and the gateway on
    /// loopback with no setup, and print where to watch (until Ctrl-C).
    #[command(after_help = "Examples:\n  \
cargo build --release && target/release/ups2mqtt demo\n  \
ups2mqtt demo --broker embedded --port 1883 --scenario-secs 10\n  \
ups2mqtt demo --scenario-secs 0                  # no mains failures, just steady readings\n  \
ups2mqtt demo --watch                            # print the topics here (no mosquitto_sub)\n\n\
The simulator is the ups2mqtt-sim binary next to this one (`cargo build` builds both).\n\
The broker is mosquitto when installed (apt-get install mosquitto), otherwise the embedded one\n\
(cargo feature `demo-broker`, on by default).")]
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// TOML configuration (see config/example.toml); UPS2MQTT_<SECTION>__<KEY>
    /// variables override it.
    #[arg(long, short, env = "UPS2MQTT_CONFIG")]
    pub config: Option<std::path::PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ProbeArgs {
    /// Agent address: HOST, HOST:PORT or [IPv6]:PORT (port 161 by default).
    #[arg(long)]
    pub agent: String,
    /// Read community.
    #[arg(long, default_value = "public")]
    pub community: String,
    /// SNMP version: 1, 2c or 3.
    #[arg(long = "snmp-version", default_value = "2c")]
    pub version: SnmpVersion,
    /// SNMPv3 user name.
    #[arg(long)]
    pub user: Option<String>,
    /// SNMPv3 authentication: md5, sha, sha224, sha256, sha384, sha512.
    #[arg(long)]
    pub auth_protocol: Option<AuthProtocol>,
    /// SNMPv3 authentication password (visible to `ps`: prefer the
    /// environment variable).
    #[arg(long, env = "UPS2MQTT_AUTH_PASSWORD", hide_env_values = true)]
    pub auth_password: Option<String>,
    /// SNMPv3 privacy: des, aes, aes192, aes256, aes192c, aes256c.
    #[arg(long)]
    pub priv_protocol: Option<PrivProtocol>,
    /// SNMPv3 privacy password.
    #[arg(long, env = "UPS2MQTT_PRIV_PASSWORD", hide_env_values = true)]
    pub priv_password: Option<String>,
    /// SNMPv3 context name.
    #[arg(long, default_value = "")]
    pub context: String,
    /// Only these pages (comma separated), e.g. `battery,output`.
    #[arg(long, value_delimiter = ',')]
    pub pages: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Per-request timeout in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub timeout_ms: u64,
    /// Retransmissions after the first attempt.
    #[arg(long, default_value_t = 2)]
    pub retries: u32,
    /// Print SNMP statistics (requests, bytes, round trips) to stderr.
    #[arg(long)]
    pub stats: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Table,
}

/// One malloc arena for the whole process on glibc. By default every thread
/// that allocates gets an arena of its own, and memory freed in one is not
/// reused by the others: the runtime is one thread, but blocking helpers
/// (the metrics endpoint's writer) would each get an arena of their own
/// (with two runtime workers, 500 UPSes peaked at 52 MB instead of 48).
/// musl has a single heap anyway.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // the runtime starts any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    one_malloc_arena();
    let cli = Cli::parse();
    let default_filter = match cli.command {
        // The embedded broker logs every connection, and errors for clients
        // that simply disconnected.
        #[cfg(feature = "demo")]
        Command::Demo(_) => "info,rumqttd=off",
        _ => "info",
    };
    init_logging(cli.log_format, default_filter);
    // Taken just before the runtime's timers start counting (see
    // `WakeGrid`).
    let runtime_start = std::time::Instant::now();
    // One thread: the gateway waits on the network, and each wake-up is a
    // few hundred microseconds of work. Two workers woke each other for
    // every reply and cost ~80 kB of stack each; tokio's multi-thread
    // scheduler is also what loaded libm (its `powf`): ~0.6 MB resident.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run(args, WakeGrid::from_runtime_start(runtime_start)).await,
            Command::CheckConfig(args) => check_config(args),
            Command::Probe(args) => probe(args).await,
            #[cfg(feature = "demo")]
            Command::Demo(args) => demo::demo(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat, default_filter: &str) {
    // `Targets` (RUST_LOG as `level,target=level,...`): EnvFilter's span
    // and regex filters would add 200 kB of regex engine to the binary.
    let filter: tracing_subscriber::filter::Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| default_filter.parse().unwrap_or_default());
    // The builder's own ceiling is INFO: lift it to the most `filter`
    // lets through (else RUST_LOG=debug showed nothing more). No higher:
    // the ceiling is also what the `log` records of our dependencies
    // (rumqttc logs every packet) are checked against before they are
    // built and handed to `filter`.
    use tracing_subscriber::layer::Layer;
    let ceiling = Layer::<tracing_subscriber::Registry>::max_level_hint(&filter)
        .unwrap_or(tracing::level_filters::LevelFilter::TRACE);
    let builder = tracing_subscriber::fmt()
        .with_max_level(ceiling)
        .with_writer(std::io::stderr);
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .finish()
            .with(filter)
            .try_init(),
        // The journal stamps every line itself and shows no colours.
        LogFormat::Human if stderr_is_journal() => builder
            .without_time()
            .with_ansi(false)
            .finish()
            .with(filter)
            .try_init(),
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal())
            .finish()
            .with(filter)
            .try_init(),
    };
}

/// Whether stderr is systemd's journal stream (`$JOURNAL_STREAM` names its
/// device and inode, see systemd.exec(5)).
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    std::fs::metadata("/proc/self/fd/2")
        .is_ok_and(|m| dev.parse() == Ok(m.dev()) && ino.parse() == Ok(m.ino()))
}

fn check_config(args: RunArgs) -> anyhow::Result<()> {
    let config = crate::config::Config::load(args.config.as_deref())?;
    let ambiguities = config.trap_ambiguities();
    if !ambiguities.is_empty() {
        let lines: Vec<String> = ambiguities
            .iter()
            .map(|p| format!("  {}: {}", p.key, p.reason))
            .collect();
        anyhow::bail!("invalid configuration:\n{}", lines.join("\n"));
    }
    print_stdout(&serde_json::to_string_pretty(&config.masked())?)?;
    if config.ups.is_empty() {
        let hint = if args.config.is_none() {
            " (no --config file given)"
        } else {
            ""
        };
        eprintln!(
            "configuration is valid but lists no UPS{hint}: add [[ups]] entries; without them the gateway publishes only its bridge"
        );
    } else {
        eprintln!("configuration is valid: {} UPS(es)", config.ups.len());
    }
    Ok(())
}

/// Writes `text` and a newline to stdout. A reader that went away
/// (`ups2mqtt check-config | head -1`) ends the output quietly: `println!`
/// would panic on the broken pipe.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

async fn run(args: RunArgs, grid: WakeGrid) -> anyhow::Result<()> {
    let config = crate::config::Config::load(args.config.as_deref())?;
    if config.ups.is_empty() {
        tracing::warn!("no [[ups]] configured: only the bridge is published");
    }
    crate::gateway::run_until_signal(config, grid).await
}

async fn probe(args: ProbeArgs) -> anyhow::Result<()> {
    let pages = parse_pages(&args.pages)?;
    let (host, port) = split_agent(&args.agent)?;
    let mut config = UpsConfig::new("probe", &host, port);
    config.community = args.community;
    config.version = args.version;
    config.user = args.user;
    config.auth_protocol = args.auth_protocol;
    config.auth_password = args.auth_password.map(Into::into);
    config.priv_protocol = args.priv_protocol;
    config.priv_password = args.priv_password.map(Into::into);
    config.context = args.context;
    let v3_problems: Vec<String> = crate::config::Config {
        ups: vec![config.clone()],
        ..Default::default()
    }
    .validate()
    .err()
    .unwrap_or_default()
    .iter()
    .filter(|p| p.key.starts_with("ups[0]."))
    .map(|p| format!("{}: {}", as_flags(&p.key), as_flags(&p.reason)))
    .collect();
    anyhow::ensure!(v3_problems.is_empty(), "{}", v3_problems.join("; "));
    config.timeout_ms = args.timeout_ms;
    config.retries = args.retries;
    let mut ups = Ups::connect(&config).await?;
    let snapshot = ups.snapshot(&pages).await?;
    let mut model = Model::new(ups.capabilities().mibs.clone());
    for note in model.apply_read(&pages, &snapshot, ups.overrides()).notes {
        tracing::warn!("{note}");
    }
    let outcomes = model.pages_json();
    if args.stats {
        let stats = ups.client().stats();
        let mibs: Vec<&str> = ups.served_mibs().map(|m| m.name()).collect();
        eprintln!(
            "mibs: {}; requests: {} (retransmissions {}), bytes sent {}, received {}",
            mibs.join(","),
            stats.requests,
            stats.retransmissions,
            stats.bytes_sent,
            stats.bytes_received
        );
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&pages_json(&outcomes))?,
        Format::Table => render_table(&outcomes),
    };
    print_stdout(&text)
}

/// `ups[0].auth_password` → `--auth-password` wherever it occurs (config
/// keys in validation messages, said in the probe's terms).
fn as_flags(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("ups[0].") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + "ups[0].".len()..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        out.push_str("--");
        out.push_str(&tail[..end].replace('_', "-"));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The probe's JSON: `{ "<page>": <page JSON>, ... }` in page order.
pub fn pages_json(pages: &BTreeMap<Page, Map<String, Json>>) -> Json {
    let map: Map<String, Json> = pages
        .iter()
        .map(|(page, json)| (page.name().to_string(), Json::Object(json.clone())))
        .collect();
    Json::Object(map)
}

/// `--pages a,b` → pages; empty → all.
pub fn parse_pages(names: &[String]) -> anyhow::Result<Vec<Page>> {
    if names.is_empty() {
        return Ok(Page::ALL.to_vec());
    }
    names
        .iter()
        .map(|name| {
            Page::from_name(name.trim()).ok_or_else(|| {
                let all: Vec<&str> = Page::ALL.iter().map(|p| p.name()).collect();
                anyhow::anyhow!("unknown page {name:?}; pages are {}", all.join(", "))
            })
        })
        .collect()
}

/// `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
pub fn split_agent(agent: &str) -> anyhow::Result<(String, u16)> {
    let bad_port = |p: &str| anyhow::anyhow!("--agent {agent:?}: port {p:?} is not 1-65535");
    let parse_port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| bad_port(p))
    };
    if let Some(rest) = agent.strip_prefix('[') {
        let (host, tail) = rest
            .split_once(']')
            .ok_or_else(|| anyhow::anyhow!("--agent {agent:?}: missing ']'"))?;
        return match tail.strip_prefix(':') {
            Some(port) => Ok((host.to_string(), parse_port(port)?)),
            None if tail.is_empty() => Ok((host.to_string(), 161)),
            None => anyhow::bail!("--agent {agent:?}: unexpected {tail:?} after ']'"),
        };
    }
    match agent.matches(':').count() {
        0 if !agent.is_empty() => Ok((agent.to_string(), 161)),
        1 => {
            let (host, port) = agent.split_once(':').expect("one colon");
            anyhow::ensure!(!host.is_empty(), "--agent {agent:?}: empty host");
            Ok((host.to_string(), parse_port(port)?))
        }
        0 => anyhow::bail!("--agent must not be empty"),
        _ => Ok((agent.to_string(), 161)),
    }
}

/// `--format table`: one line per value, `page.field[index]  value unit`.
pub fn render_table(pages: &BTreeMap<Page, Map<String, Json>>) -> String {
    let mut lines: Vec<(String, String)> = Vec::new();
    for (page, json) in pages {
        for (key, value) in json {
            match value {
                Json::Array(rows) => {
                    for row in rows {
                        let index = row.get("index").cloned().unwrap_or(Json::Null);
                        for (column, cell) in row
                            .as_object()
                            .into_iter()
                            .flatten()
                            .filter(|(k, _)| *k != "index")
                        {
                            let path = format!("{page}.{key}.{column}");
                            lines.push((
                                format!("{page}.{key}[{index}].{column}"),
                                with_unit(&path, cell),
                            ));
                        }
                    }
                }
                cell => lines.push((
                    format!("{page}.{key}"),
                    with_unit(&format!("{page}.{key}"), cell),
                )),
            }
        }
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in lines {
        let _ = writeln!(out, "{key:<width$}  {value}");
    }
    out.trim_end().to_string()
}

fn with_unit(path: &str, value: &Json) -> String {
    let unit = mib::field_by_path(path)
        .and_then(|f| f.unit)
        .map(|u| u.symbol());
    let text = match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match (unit, value) {
        (Some(unit), Json::Number(_)) => format!("{text} {unit}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_examples_and_log_format_is_global() {
        use clap::CommandFactory;
        let command = Cli::command();
        command.clone().debug_assert();
        for sub in command.get_subcommands() {
            let help = sub.get_after_help().map(ToString::to_string);
            let help = help.unwrap_or_default();
            let example = format!("ups2mqtt {}", sub.get_name());
            assert!(
                help.starts_with("Examples:") && help.contains(&example),
                "{}: {help}",
                sub.get_name()
            );
        }
        for args in [
            &["ups2mqtt", "--log-format", "json", "check-config"][..],
            &["ups2mqtt", "check-config", "--log-format", "json"][..],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.log_format, LogFormat::Json);
        }
        let cli = Cli::try_parse_from(["ups2mqtt", "check-config"]).unwrap();
        assert_eq!(cli.log_format, LogFormat::Human);
        assert!(Cli::try_parse_from(["ups2mqtt", "--log-format", "xml", "run"]).is_err());
    }

    #[test]
    fn agent_addresses() {
        assert_eq!(split_agent("ups1").unwrap(), ("ups1".to_string(), 161));
        assert_eq!(
            split_agent("10.0.0.1:1161").unwrap(),
            ("10.0.0.1".to_string(), 1161)
        );
        assert_eq!(
            split_agent("[::1]:1161").unwrap(),
            ("::1".to_string(), 1161)
        );
        assert_eq!(split_agent("[::1]").unwrap(), ("::1".to_string(), 161));
        assert_eq!(
            split_agent("fe80::1").unwrap(),
            ("fe80::1".to_string(), 161)
        );
        assert!(split_agent("host:0").is_err());
        assert!(split_agent("host:x").is_err());
        assert!(split_agent("").is_err());
        assert!(split_agent("[::1").is_err());
    }

    #[test]
    fn pages_by_name() {
        assert_eq!(parse_pages(&[]).unwrap().len(), 11);
        assert_eq!(
            parse_pages(&["battery".into(), " output".into()]).unwrap(),
            [Page::Battery, Page::Output]
        );
        let err = parse_pages(&["batery".into()]).unwrap_err().to_string();
        assert!(err.contains("batery") && err.contains("battery"), "{err}");
    }

    #[test]
    fn table_rendering_has_units_and_indexes() {
        let mut json = Map::new();
        json.insert("charge".into(), Json::from(91));
        let mut input = Map::new();
        input.insert(
            "lines".into(),
            serde_json::json!([{"index": 1, "voltage": 229.5}]),
        );
        let outcomes = BTreeMap::from([(Page::Battery, json), (Page::Input, input)]);
        let table = render_table(&outcomes);
        assert!(
            table.contains("battery.charge") && table.contains("91 %"),
            "{table}"
        );
        assert!(table.contains("input.lines[1].voltage  229.5 V"), "{table}");
    }
}
