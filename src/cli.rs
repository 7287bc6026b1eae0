//! The command line: argument parsing, logging set-up and the subcommands'
//! output. Each subcommand is a thin shell over the library.

use crate::config::UpsConfig;
use crate::mib::{self, Page};
use crate::pages::PageOutcome;
use crate::snmp::Version;
use crate::ups::Ups;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "ups2mqtt",
    version,
    about = "Schneider Electric (MGE / APC) UPS over SNMP to MQTT and Home Assistant",
    after_help = "Examples:\n  ups2mqtt probe --agent 192.0.2.10\n  ups2mqtt probe --agent ups.example:1161 --snmp-version 1 --pages battery,output --format table"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the gateway: poll every configured UPS and keep MQTT and Home
    /// Assistant in step with it (until SIGINT/SIGTERM).
    Run(RunArgs),
    /// Validate the configuration and print the effective result (defaults,
    /// file and environment merged) with secrets masked.
    CheckConfig(RunArgs),
    /// Read every page of one agent once and print the JSON that would be
    /// published to MQTT.
    Probe(ProbeArgs),
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
    /// SNMP version: 1 or 2c.
    #[arg(long = "snmp-version", default_value = "2c")]
    pub version: Version,
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

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
            Command::Run(args) => run(args).await,
            Command::CheckConfig(args) => check_config(args),
            Command::Probe(args) => probe(args).await,
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

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn check_config(args: RunArgs) -> anyhow::Result<()> {
    let config = crate::config::Config::load(args.config.as_deref())?;
    println!("{}", serde_json::to_string_pretty(&config.masked())?);
    eprintln!("configuration is valid: {} UPS(es)", config.ups.len());
    Ok(())
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = crate::config::Config::load(args.config.as_deref())?;
    if config.ups.is_empty() {
        tracing::warn!("no [[ups]] configured: only the bridge is published");
    }
    crate::gateway::run_until_signal(config).await
}

async fn probe(args: ProbeArgs) -> anyhow::Result<()> {
    let pages = parse_pages(&args.pages)?;
    let (host, port) = split_agent(&args.agent)?;
    let mut config = UpsConfig::new("probe", &host, port);
    config.community = args.community;
    config.version = args.version;
    config.timeout_ms = args.timeout_ms;
    config.retries = args.retries;
    let mut ups = Ups::connect(&config).await?;
    let mut outcomes = ups.read(&pages).await?;
    annotate_status(&mut outcomes);
    for outcome in outcomes.values() {
        for note in &outcome.notes {
            tracing::warn!("{note}");
        }
    }
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
    println!("{text}");
    Ok(())
}

/// Adds the NUT-style status to the output page, as the gateway publishes it.
fn annotate_status(outcomes: &mut BTreeMap<Page, PageOutcome>) {
    let mut pages: BTreeMap<Page, Map<String, Json>> =
        outcomes.iter().map(|(p, o)| (*p, o.json.clone())).collect();
    crate::status::annotate(&mut pages);
    if let (Some(outcome), Some(json)) =
        (outcomes.get_mut(&Page::Output), pages.remove(&Page::Output))
    {
        outcome.json = json;
    }
}

/// The probe's JSON: `{ "<page>": <page JSON>, ... }` in page order.
pub fn pages_json(outcomes: &BTreeMap<Page, PageOutcome>) -> Json {
    let map: Map<String, Json> = outcomes
        .iter()
        .map(|(page, outcome)| (page.name().to_string(), Json::Object(outcome.json.clone())))
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
pub fn render_table(outcomes: &BTreeMap<Page, PageOutcome>) -> String {
    let mut lines: Vec<(String, String)> = Vec::new();
    for (page, outcome) in outcomes {
        for (key, value) in &outcome.json {
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
        let outcomes = BTreeMap::from([
            (
                Page::Battery,
                PageOutcome {
                    json,
                    provenance: BTreeMap::new(),
                    notes: vec![],
                },
            ),
            (
                Page::Input,
                PageOutcome {
                    json: input,
                    provenance: BTreeMap::new(),
                    notes: vec![],
                },
            ),
        ]);
        let table = render_table(&outcomes);
        assert!(
            table.contains("battery.charge") && table.contains("91 %"),
            "{table}"
        );
        assert!(table.contains("input.lines[1].voltage  229.5 V"), "{table}");
    }
}
