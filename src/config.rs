//! Configuration: figment layers (built-in defaults < TOML file <
//! `UPS2MQTT_*` environment variables) and validation that names the key and
//! the reason for every problem.
//!
//! This module owns the shape of `config/example.toml` and nothing else: it
//! knows the point table only to check that overrides name real objects.

use crate::mib::{self, Decode, Mib, Page};
use crate::snmp::Version;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub gateway: Gateway,
    #[serde(default)]
    pub mqtt: MqttConfig,
    #[serde(default)]
    pub traps: TrapsConfig,
    #[serde(default)]
    pub commands: CommandsConfig,
    #[serde(default)]
    pub ups: Vec<UpsConfig>,
}

/// The safety policy for commands (MQTT → SNMP SET).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandsConfig {
    /// Refuse every command.
    pub read_only: bool,
    /// Allow commands that cut power (outlet/receptacle off or reboot, UPS
    /// off, shutdown countdowns).
    pub dangerous: bool,
    /// When > 0, a power-cutting command must be sent twice within this
    /// many seconds: the first arms it, the second executes it.
    pub confirm_seconds: u64,
    /// Only these pages or fields (`config`, `test.start`,
    /// `control.outlet_groups.command`); empty = every writable field.
    pub allow: Vec<String>,
}

/// Per-UPS overrides of [`CommandsConfig`]; unset keys follow `[commands]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandsOverride {
    pub read_only: Option<bool>,
    pub dangerous: Option<bool>,
    pub confirm_seconds: Option<u64>,
    pub allow: Option<Vec<String>>,
}

/// The SNMP trap listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrapsConfig {
    pub enabled: bool,
    /// UDP addresses to listen on. Port 162 needs root or
    /// CAP_NET_BIND_SERVICE (the systemd unit grants it); any high port
    /// works if the cards are told to send there.
    pub listen: Vec<std::net::SocketAddr>,
}

impl Default for TrapsConfig {
    fn default() -> Self {
        TrapsConfig {
            enabled: true,
            listen: vec![std::net::SocketAddr::from(([0, 0, 0, 0], 162))],
        }
    }
}

/// The MQTT broker connection and topic roots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    /// `"3.1.1"` or `"5"`.
    pub protocol: MqttProtocol,
    /// Root of every state topic: `<base_topic>/<ups id>/<page>`.
    pub base_topic: String,
    /// Home Assistant discovery on/off and its prefix.
    pub discovery: bool,
    pub discovery_prefix: String,
    /// Default: `ups2mqtt-<gateway id>`.
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Seconds between MQTT keep-alive pings.
    pub keep_alive: u64,
    /// Seconds between full re-publications of every page, changed or not
    /// (pages are otherwise published only when they change).
    pub refresh: u64,
    /// TLS to the broker (rustls); absent = plain TCP.
    pub tls: Option<TlsConfig>,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            host: "127.0.0.1".to_string(),
            port: 1883,
            protocol: MqttProtocol::V311,
            base_topic: "ups2mqtt".to_string(),
            discovery: true,
            discovery_prefix: "homeassistant".to_string(),
            client_id: None,
            username: None,
            password: None,
            keep_alive: 30,
            refresh: 60,
            tls: None,
        }
    }
}

/// The MQTT protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MqttProtocol {
    #[serde(rename = "3.1.1")]
    V311,
    #[serde(rename = "5")]
    V5,
}

/// PEM files for TLS; `cert_file` + `key_file` enable client certificates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub ca_file: std::path::PathBuf,
    pub cert_file: Option<std::path::PathBuf>,
    pub key_file: Option<std::path::PathBuf>,
}

/// This gateway's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// Stable id of this gateway: part of every MQTT/HA unique id.
    #[serde(default = "default_gateway_id")]
    pub id: String,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            id: default_gateway_id(),
        }
    }
}

fn default_gateway_id() -> String {
    "ups2mqtt".to_string()
}

/// One UPS network card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsConfig {
    /// Stable id: MQTT topic level and HA id part (`[a-z0-9_-]`).
    pub id: String,
    /// Agent host name or address.
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_version")]
    pub version: Version,
    #[serde(default = "default_community")]
    pub community: String,
    #[serde(default = "default_write_community")]
    pub write_community: String,
    /// Per-request timeout in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Retransmissions after the first attempt.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Response size budget used to pack varbinds into one request.
    #[serde(default = "default_max_pdu_bytes")]
    pub max_pdu_bytes: usize,
    /// GETBULK max-repetitions ceiling (v2c).
    #[serde(default = "default_max_repetitions")]
    pub max_repetitions: u32,
    /// Serve these MIBs without asking the agent (`rfc1628`, `mge`,
    /// `powernet`); empty = detect.
    #[serde(default)]
    pub mibs: Vec<String>,
    /// Raw-value scale per MIB object, for cards that ignore their MIB's
    /// units, e.g. `upsInputVoltage = 0.1`.
    #[serde(default)]
    pub scale: BTreeMap<String, f64>,
    #[serde(default)]
    pub poll: PollConfig,
    /// Consecutive failed polls before the UPS is published `offline`.
    #[serde(default = "default_offline_after")]
    pub offline_after: u32,
    /// Community its traps must carry; default: `community`.
    #[serde(default)]
    pub trap_community: Option<String>,
    /// More source addresses its traps may come from (NAT, a second card
    /// address); the v1 agent-addr field is matched as well.
    #[serde(default)]
    pub trap_sources: Vec<std::net::IpAddr>,
    /// Acknowledge MGE traps (SET upsmgAgentTrapAck) for cards configured to
    /// resend until acknowledged.
    #[serde(default)]
    pub trap_ack: bool,
    /// Command policy overrides for this UPS.
    #[serde(default)]
    pub commands: CommandsOverride,
}

/// Poll intervals in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollConfig {
    /// Pages that change by the second: alarms, input, output, battery.
    #[serde(default = "default_fast")]
    pub fast: u64,
    /// Everything else.
    #[serde(default = "default_slow")]
    pub slow: u64,
    /// Per-page overrides, e.g. `{ environment = 30 }`.
    #[serde(default)]
    pub pages: BTreeMap<String, u64>,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            fast: default_fast(),
            slow: default_slow(),
            pages: BTreeMap::new(),
        }
    }
}

impl PollConfig {
    /// The poll interval of a page.
    pub fn interval(&self, page: Page) -> Duration {
        let default = if is_fast_page(page) {
            self.fast
        } else {
            self.slow
        };
        Duration::from_secs(self.pages.get(page.name()).copied().unwrap_or(default))
    }
}

/// Pages whose values change by the second.
pub fn is_fast_page(page: Page) -> bool {
    matches!(
        page,
        Page::Alarms | Page::Input | Page::Output | Page::Battery
    )
}

fn default_port() -> u16 {
    161
}
fn default_version() -> Version {
    Version::V2c
}
fn default_community() -> String {
    "public".to_string()
}
fn default_write_community() -> String {
    "private".to_string()
}
fn default_timeout_ms() -> u64 {
    1_000
}
fn default_retries() -> u32 {
    2
}
fn default_max_pdu_bytes() -> usize {
    1_400
}
fn default_max_repetitions() -> u32 {
    25
}
fn default_offline_after() -> u32 {
    3
}
fn default_fast() -> u64 {
    5
}
fn default_slow() -> u64 {
    300
}

impl UpsConfig {
    /// A UPS entry with every default, for the CLI and tests.
    pub fn new(id: &str, host: &str, port: u16) -> UpsConfig {
        UpsConfig {
            id: id.to_string(),
            host: host.to_string(),
            port,
            version: default_version(),
            community: default_community(),
            write_community: default_write_community(),
            timeout_ms: default_timeout_ms(),
            retries: default_retries(),
            max_pdu_bytes: default_max_pdu_bytes(),
            max_repetitions: default_max_repetitions(),
            mibs: Vec::new(),
            scale: BTreeMap::new(),
            poll: PollConfig::default(),
            offline_after: default_offline_after(),
            trap_community: None,
            trap_sources: Vec::new(),
            trap_ack: false,
            commands: CommandsOverride::default(),
        }
    }

    /// The effective command policy of this UPS.
    pub fn command_policy(&self, global: &CommandsConfig) -> CommandsConfig {
        let o = &self.commands;
        CommandsConfig {
            read_only: o.read_only.unwrap_or(global.read_only),
            dangerous: o.dangerous.unwrap_or(global.dangerous),
            confirm_seconds: o.confirm_seconds.unwrap_or(global.confirm_seconds),
            allow: o.allow.clone().unwrap_or_else(|| global.allow.clone()),
        }
    }

    /// The community traps from this UPS must carry.
    pub fn trap_community(&self) -> &str {
        self.trap_community.as_deref().unwrap_or(&self.community)
    }

    /// The forced MIB set, if any (validated).
    pub fn forced_mibs(&self) -> Option<std::collections::BTreeSet<Mib>> {
        (!self.mibs.is_empty())
            .then(|| self.mibs.iter().filter_map(|m| Mib::from_name(m)).collect())
    }
}

/// A configuration problem: which key, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct Problem {
    pub key: String,
    pub reason: String,
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Parse(Box<figment::Error>),
    #[error("invalid configuration:\n  {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Invalid(Vec<Problem>),
}

impl Config {
    /// Loads defaults, then `file` (if given), then `UPS2MQTT_*` variables
    /// (`UPS2MQTT_GATEWAY__ID=x`), and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid(vec![Problem {
                    key: "--config".to_string(),
                    reason: format!("file {} does not exist", file.display()),
                }]));
            }
            figment = figment.merge(Toml::file(file));
        }
        Self::from_figment(figment.merge(config_env()))
    }

    /// Extracts and validates a configuration from any figment (tests use
    /// inline TOML).
    pub fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(Box::new(e)))?;
        config.validate().map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    /// Every problem at once, each with its key.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |key: String, reason: String| problems.push(Problem { key, reason });
        if !is_topic_id(&self.gateway.id) {
            problem(
                "gateway.id".into(),
                format!("{:?} must be 1-64 of [a-z0-9_-]", self.gateway.id),
            );
        }
        self.validate_mqtt(&mut problem);
        let allow_lists = std::iter::once(("commands.allow".to_string(), &self.commands.allow))
            .chain(self.ups.iter().enumerate().filter_map(|(i, u)| {
                u.commands
                    .allow
                    .as_ref()
                    .map(|a| (format!("ups[{i}].commands.allow"), a))
            }));
        for (key, allow) in allow_lists {
            for entry in allow {
                if !is_allow_entry(entry) {
                    problem(
                        key.clone(),
                        format!("{entry:?} names no page or writable field"),
                    );
                }
            }
        }
        if self.commands.confirm_seconds > 3_600 {
            problem("commands.confirm_seconds".into(), "more than 3600 s".into());
        }
        if self.traps.enabled && self.traps.listen.is_empty() {
            problem(
                "traps.listen".into(),
                "needs at least one address when traps.enabled".into(),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (i, ups) in self.ups.iter().enumerate() {
            let key = |k: &str| format!("ups[{i}].{k}");
            if !is_topic_id(&ups.id) {
                problem(
                    key("id"),
                    format!("{:?} must be 1-64 of [a-z0-9_-]", ups.id),
                );
            } else if !seen.insert(ups.id.clone()) {
                problem(
                    key("id"),
                    format!("{:?} is used by another [[ups]]", ups.id),
                );
            }
            if ups.host.trim().is_empty() {
                problem(key("host"), "must not be empty".into());
            }
            if ups.port == 0 {
                problem(key("port"), "must be 1-65535".into());
            }
            if ups.community.is_empty() {
                problem(key("community"), "must not be empty".into());
            }
            if !(10..=60_000).contains(&ups.timeout_ms) {
                problem(
                    key("timeout_ms"),
                    format!("{} is outside 10..=60000", ups.timeout_ms),
                );
            }
            if ups.retries > 10 {
                problem(key("retries"), format!("{} is more than 10", ups.retries));
            }
            if !(484..=65_507).contains(&ups.max_pdu_bytes) {
                problem(
                    key("max_pdu_bytes"),
                    format!("{} is outside 484..=65507", ups.max_pdu_bytes),
                );
            }
            if !(1..=200).contains(&ups.max_repetitions) {
                problem(
                    key("max_repetitions"),
                    format!("{} is outside 1..=200", ups.max_repetitions),
                );
            }
            for name in &ups.mibs {
                if Mib::from_name(name).is_none() {
                    problem(
                        key("mibs"),
                        format!("unknown MIB {name:?} (rfc1628, mge, powernet)"),
                    );
                }
            }
            for (object, scale) in &ups.scale {
                if !is_numeric_object(object) {
                    problem(
                        key(&format!("scale.{object}")),
                        "not a numeric object of the point table".into(),
                    );
                } else if !(scale.is_finite() && *scale > 0.0) {
                    problem(
                        key(&format!("scale.{object}")),
                        format!("{scale} must be a positive number"),
                    );
                }
            }
            if !(1..=1000).contains(&ups.offline_after) {
                problem(
                    key("offline_after"),
                    format!("{} is outside 1..=1000", ups.offline_after),
                );
            }
            for (interval_key, secs) in [("poll.fast", ups.poll.fast), ("poll.slow", ups.poll.slow)]
            {
                if !(1..=86_400).contains(&secs) {
                    problem(key(interval_key), format!("{secs} s is outside 1..=86400"));
                }
            }
            for (page, secs) in &ups.poll.pages {
                if Page::from_name(page).is_none() {
                    problem(key(&format!("poll.pages.{page}")), "no such page".into());
                } else if !(1..=86_400).contains(secs) {
                    problem(
                        key(&format!("poll.pages.{page}")),
                        format!("{secs} s is outside 1..=86400"),
                    );
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

impl Config {
    fn validate_mqtt(&self, problem: &mut impl FnMut(String, String)) {
        let mqtt = &self.mqtt;
        if mqtt.host.trim().is_empty() {
            problem("mqtt.host".into(), "must not be empty".into());
        }
        if mqtt.port == 0 {
            problem("mqtt.port".into(), "must be 1-65535".into());
        }
        for (key, topic) in [
            ("mqtt.base_topic", &mqtt.base_topic),
            ("mqtt.discovery_prefix", &mqtt.discovery_prefix),
        ] {
            if topic.is_empty()
                || topic.contains(['+', '#'])
                || topic.starts_with('/')
                || topic.ends_with('/')
            {
                problem(
                    key.into(),
                    format!("{topic:?} must be a topic without wildcards or leading/trailing '/'"),
                );
            }
        }
        if mqtt.username.is_none() && mqtt.password.is_some() {
            problem("mqtt.password".into(), "needs mqtt.username".into());
        }
        if !(5..=3_600).contains(&mqtt.keep_alive) {
            problem(
                "mqtt.keep_alive".into(),
                format!("{} s is outside 5..=3600", mqtt.keep_alive),
            );
        }
        if !(1..=86_400).contains(&mqtt.refresh) {
            problem(
                "mqtt.refresh".into(),
                format!("{} s is outside 1..=86400", mqtt.refresh),
            );
        }
        if let Some(tls) = &mqtt.tls {
            for (key, file) in [
                ("mqtt.tls.ca_file", Some(&tls.ca_file)),
                ("mqtt.tls.cert_file", tls.cert_file.as_ref()),
                ("mqtt.tls.key_file", tls.key_file.as_ref()),
            ] {
                if let Some(file) = file.filter(|f| !f.exists()) {
                    problem(
                        key.into(),
                        format!("file {} does not exist", file.display()),
                    );
                }
            }
            if tls.cert_file.is_some() != tls.key_file.is_some() {
                problem(
                    "mqtt.tls".into(),
                    "cert_file and key_file go together".into(),
                );
            }
        }
    }

    /// The configuration as JSON with every secret replaced by `"***"`.
    pub fn masked(&self) -> serde_json::Value {
        let mut copy = self.clone();
        if copy.mqtt.password.is_some() {
            copy.mqtt.password = Some(MASK.to_string());
        }
        for ups in &mut copy.ups {
            ups.community = MASK.to_string();
            ups.write_community = MASK.to_string();
        }
        serde_json::to_value(copy).unwrap_or(serde_json::Value::Null)
    }

    /// The MQTT client id.
    pub fn client_id(&self) -> String {
        self.mqtt
            .client_id
            .clone()
            .unwrap_or_else(|| format!("ups2mqtt-{}", self.gateway.id))
    }
}

/// What secrets are replaced with in printed configurations.
pub const MASK: &str = "***";

/// `UPS2MQTT_<SECTION>__<KEY>` variables. Others with the prefix (e.g.
/// `UPS2MQTT_SNMPSIM` for the tests) are not configuration.
fn config_env() -> Env {
    Env::prefixed("UPS2MQTT_")
        .filter(|key| key.as_str().contains("__"))
        .split("__")
}

/// An id usable as one MQTT topic level and in HA unique ids.
pub fn is_topic_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// `page` or a writable field path (`page.key`, `page.table.key`).
fn is_allow_entry(entry: &str) -> bool {
    Page::from_name(entry).is_some() || mib::field_by_path(entry).is_some_and(|f| f.is_writable())
}

fn is_numeric_object(object: &str) -> bool {
    mib::FIELDS
        .iter()
        .flat_map(|f| f.sources.iter())
        .any(|s| s.object == object && matches!(s.decode, Decode::Number { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<Config, ConfigError> {
        Config::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml)),
        )
    }

    #[test]
    fn defaults_fill_a_minimal_ups() {
        let config = parse("[[ups]]\nid = \"rack1\"\nhost = \"10.0.0.5\"\n").unwrap();
        let ups = &config.ups[0];
        assert_eq!(
            (ups.port, ups.version, ups.community.as_str()),
            (161, Version::V2c, "public")
        );
        assert_eq!(ups.write_community, "private");
        assert_eq!(ups.poll.interval(Page::Battery), Duration::from_secs(5));
        assert_eq!(ups.poll.interval(Page::General), Duration::from_secs(300));
        assert_eq!(config.gateway.id, "ups2mqtt");
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let err = parse(
            r#"
            [[ups]]
            id = "Bad Id"
            host = ""
            timeout_ms = 5
            mibs = ["mge", "snmpv9"]
            scale = { upsInputVoltage = 0.1, upsIdentModel = 2.0, upsOutputVoltage = -1.0 }
            poll = { pages = { batery = 3 } }
            [[ups]]
            id = "a"
            host = "h"
            [[ups]]
            id = "a"
            host = "h"
            "#,
        )
        .unwrap_err();
        let ConfigError::Invalid(problems) = err else {
            panic!("{err}")
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ups[0].id",
                "ups[0].host",
                "ups[0].timeout_ms",
                "ups[0].mibs",
                "ups[0].scale.upsIdentModel",
                "ups[0].scale.upsOutputVoltage",
                "ups[0].poll.pages.batery",
                "ups[2].id",
            ]
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_key() {
        let err = parse("[[ups]]\nid = \"a\"\nhost = \"h\"\nprot = 161\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot"), "{err}");
        let err = parse("[[ups]]\nid = \"a\"\nhost = \"h\"\nport = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("port"), "{err}");
        let err = parse("[[ups]]\nid = \"a\"\nhost = \"h\"\nversion = \"4\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("version"), "{err}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's signature
    fn environment_layers_over_files_and_ignores_foreign_variables() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("c.toml", "[gateway]\nid = \"file\"\n")?;
            jail.set_env("UPS2MQTT_SNMPSIM", "/usr/bin/whatever");
            let config = Config::load(Some(Path::new("c.toml"))).expect("foreign variable ignored");
            assert_eq!(config.gateway.id, "file");
            jail.set_env("UPS2MQTT_GATEWAY__ID", "env");
            assert_eq!(
                Config::load(Some(Path::new("c.toml"))).unwrap().gateway.id,
                "env"
            );
            jail.set_env("UPS2MQTT_GATEWAY__ID", "Not Valid");
            let err = Config::load(Some(Path::new("c.toml")))
                .unwrap_err()
                .to_string();
            assert!(err.contains("gateway.id"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn masking_hides_every_secret() {
        let config = parse(
            "[mqtt]\nusername = \"u\"\npassword = \"hunter22\"\n[[ups]]\nid = \"a\"\nhost = \"h\"\ncommunity = \"c0mm\"\nwrite_community = \"wr1te\"\n",
        )
        .unwrap();
        let text = config.masked().to_string();
        for secret in ["hunter22", "c0mm", "wr1te"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("\"username\":\"u\""), "{text}");
    }

    #[test]
    fn the_example_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
        let config = Config::load(Some(&path)).unwrap();
        assert!(!config.ups.is_empty());
    }
}
