//! Configuration: figment layers (built-in defaults < TOML file <
//! `UPS2MQTT_*` environment variables) and validation that names the key and
//! the reason for every problem.
//!
//! This module owns the shape of `config/example.toml` and nothing else: it
//! knows the point table only to check that overrides name real objects.

use crate::mib::{self, Decode, Mib, Page};
use crate::snmp::SnmpVersion;
use crate::snmp::usm::{AuthProtocol, MIN_PASSWORD_LEN, PrivProtocol, UsmUser};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
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
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub nut: NutConfig,
    #[serde(default)]
    pub ups: Vec<UpsConfig>,
}

/// The Prometheus endpoint (`GET /metrics`, `GET /healthz`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// TCP address of the HTTP listener.
    pub listen: std::net::SocketAddr,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
}

/// The metrics port. Prometheus' "default port allocations" (its wiki) has
/// given out every port of 9100-9999 (9199 is NUT's exporter, 9162
/// apcupsd's), so ups2mqtt stays out of that range, on a port no
/// well-known service or exporter uses.
pub const METRICS_PORT: u16 = 16280;

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: false,
            listen: std::net::SocketAddr::from(([0, 0, 0, 0], METRICS_PORT)),
            max_connections: 16,
        }
    }
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
    /// SNMPv3: the listener's own engine ID in hex (5-32 octets), which
    /// cards sending v3 informs must know; default: derived from the
    /// gateway id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_id: Option<String>,
    /// SNMPv3 users whose traps and informs are accepted, besides the user
    /// of every `version = "3"` UPS.
    pub users: Vec<TrapUserConfig>,
}

impl Default for TrapsConfig {
    fn default() -> Self {
        TrapsConfig {
            enabled: true,
            listen: vec![std::net::SocketAddr::from(([0, 0, 0, 0], 162))],
            engine_id: None,
            users: Vec::new(),
        }
    }
}

/// One SNMPv3 user of the trap listener (`[[traps.users]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapUserConfig {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_protocol: Option<AuthProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priv_protocol: Option<PrivProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priv_password: Option<Secret>,
    /// Accept this user only from the sender engine with this ID (hex);
    /// default: from any engine (keys are localised per sender engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_id: Option<String>,
}

/// The NUT network protocol server (`[nut]`): NUT clients (upsmon, a
/// Synology, TrueNAS, Home Assistant's NUT integration) read every UPS of
/// the gateway as a NUT UPS named by its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NutConfig {
    pub enabled: bool,
    /// TCP addresses to listen on (NUT's port is 3493).
    pub listen: Vec<std::net::SocketAddr>,
    /// Connections served at once; more are closed at accept.
    pub max_connections: usize,
    /// Seconds a connection may stay silent before it is closed (upsmon
    /// asks every few seconds).
    pub idle_timeout: u64,
    /// Users as in upsd.users: without one, a client can only read.
    pub users: Vec<NutUserConfig>,
    /// TLS after `STARTTLS` (upsd's `CERTFILE`); absent = clients asking
    /// for it get `ERR FEATURE-NOT-CONFIGURED` and stay in plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<NutTlsConfig>,
}

/// The NUT server's certificate and key (`[nut.tls]`), PEM files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NutTlsConfig {
    /// The server certificate, then any intermediate certificates.
    pub cert_file: PathBuf,
    /// Its private key (PKCS#8, RSA or EC).
    pub key_file: PathBuf,
}

impl Default for NutConfig {
    fn default() -> Self {
        NutConfig {
            enabled: false,
            listen: vec![std::net::SocketAddr::from(([127, 0, 0, 1], 3493))],
            max_connections: 64,
            idle_timeout: 300,
            users: Vec::new(),
            tls: None,
        }
    }
}

/// One NUT user (`[[nut.users]]`), as in upsd.users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NutUserConfig {
    pub name: String,
    pub password: Secret,
    /// `SET` (SET VAR) and `FSD`.
    #[serde(default)]
    pub actions: Vec<NutAction>,
    /// Instant commands this user may run (`test.battery.start`,
    /// `outlet.2.load.off`), or `all`.
    #[serde(default)]
    pub instcmds: Vec<String>,
    /// `primary` or `secondary`: may LOGIN as upsmon (a primary also
    /// PRIMARY and FSD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upsmon: Option<UpsmonRole>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum NutAction {
    Set,
    Fsd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpsmonRole {
    Primary,
    Secondary,
}

impl NutConfig {
    fn validate(&self, problem: &mut dyn FnMut(String, String)) {
        if self.enabled && self.listen.is_empty() {
            problem(
                "nut.listen".into(),
                "needs at least one address when nut.enabled".into(),
            );
        }
        if !(1..=4096).contains(&self.max_connections) {
            problem("nut.max_connections".into(), "must be 1-4096".into());
        }
        if !(1..=86_400).contains(&self.idle_timeout) {
            problem("nut.idle_timeout".into(), "must be 1-86400 s".into());
        }
        if let Some(Err(error)) = self.tls.as_ref().map(crate::nut::tls::acceptor) {
            problem(error.key().into(), error.to_string());
        }
        let mut names = std::collections::HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            let key = |k: &str| format!("nut.users[{i}].{k}");
            if !crate::nut::line::is_bare(&user.name) || user.name.len() > 64 {
                problem(
                    key("name"),
                    format!(
                        "{:?} must be 1-64 characters without spaces or quotes",
                        user.name
                    ),
                );
            } else if !names.insert(user.name.as_str()) {
                problem(key("name"), format!("{:?} is given twice", user.name));
            }
            if user.password.text().is_some_and(str::is_empty) {
                problem(key("password"), "must not be empty".into());
            }
            for command in &user.instcmds {
                if command != "all" && !crate::nut::vars::is_instcmd_name(command) {
                    problem(
                        key("instcmds"),
                        format!("{command:?} is no instant command (or \"all\")"),
                    );
                }
            }
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
    pub password: Option<Secret>,
    /// Seconds between MQTT keep-alive pings.
    pub keep_alive: u64,
    /// Seconds between full re-publications of every page, changed or not
    /// (pages are otherwise published only when they change).
    pub refresh: u64,
    /// TLS to the broker (rustls); absent = plain TCP.
    pub tls: Option<TlsConfig>,
    /// Largest incoming message payload; larger ones are read, discarded,
    /// counted and (on a command topic) answered with an error.
    pub max_incoming_bytes: usize,
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
            max_incoming_bytes: 64 * 1024,
        }
    }
}

impl MqttConfig {
    /// The broker password's text (empty if none; read at load).
    pub fn password_text(&self) -> &str {
        text_of(&self.password).unwrap_or_default()
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
    /// Display name of the Home Assistant device; default: the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Home Assistant area suggested for the device (`suggested_area`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// The card's web interface, linked from the Home Assistant device:
    /// a URL, or `false` for none; default `http://<host>/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_url: Option<ConfigurationUrl>,
    #[serde(default = "default_port")]
    pub port: u16,
    /// `"1"`, `"2c"` or `"3"` (SNMPv3: `user` and the keys below).
    #[serde(default = "default_version")]
    pub version: SnmpVersion,
    #[serde(default = "default_community")]
    pub community: String,
    #[serde(default = "default_write_community")]
    pub write_community: String,
    /// SNMPv3: the user of polls (and of SETs without `write_user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// SNMPv3: md5, sha, sha224, sha256, sha384, sha512; absent =
    /// noAuthNoPriv.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_protocol: Option<AuthProtocol>,
    /// SNMPv3 secrets: each a [`Secret`] (inline, `{ file = "…" }` or
    /// `{ env = "…" }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<Secret>,
    /// SNMPv3: des, aes (AES-128), aes192, aes256 (net-snmp's key
    /// extension), aes192c, aes256c (Cisco/Reeder key extension); absent =
    /// no privacy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priv_protocol: Option<PrivProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priv_password: Option<Secret>,
    /// SNMPv3 contextName (usually empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub context: String,
    /// SNMPv3: another user for SETs (commands, trap acknowledgements).
    /// Its protocols default to the read user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_auth_protocol: Option<AuthProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_auth_password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_priv_protocol: Option<PrivProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_priv_password: Option<Secret>,
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
    pub mibs: Vec<Mib>,
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
    /// The card's own SNMPv3 engine ID (hex, 5-32 octets), as its v3 traps
    /// carry it (msgAuthoritativeEngineID) and its informs name it
    /// (contextEngineID): tells apart UPSes that share an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trap_engine_id: Option<String>,
    /// Acknowledge MGE traps (SET upsmgAgentTrapAck) for cards configured to
    /// resend until acknowledged.
    #[serde(default)]
    pub trap_ack: bool,
    /// Command policy overrides for this UPS.
    #[serde(default)]
    pub commands: CommandsOverride,
}

/// `configuration_url`: a URL, or `true` / `false` for the default link or
/// none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfigurationUrl {
    Enabled(bool),
    Url(String),
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
    pub pages: BTreeMap<Page, u64>,
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
        let default = if page.is_fast() { self.fast } else { self.slow };
        Duration::from_secs(self.pages.get(&page).copied().unwrap_or(default))
    }
}

fn default_port() -> u16 {
    161
}
fn default_version() -> SnmpVersion {
    SnmpVersion::V2c
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
    crate::snmp::client::DEFAULT_MAX_PDU_BYTES
}
fn default_max_repetitions() -> u32 {
    crate::snmp::client::DEFAULT_MAX_REPETITIONS
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
            name: None,
            area: None,
            configuration_url: None,
            port,
            version: default_version(),
            community: default_community(),
            write_community: default_write_community(),
            user: None,
            auth_protocol: None,
            auth_password: None,
            priv_protocol: None,
            priv_password: None,
            context: String::new(),
            write_user: None,
            write_auth_protocol: None,
            write_auth_password: None,
            write_priv_protocol: None,
            write_priv_password: None,
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
            trap_engine_id: None,
            trap_ack: false,
            commands: CommandsOverride::default(),
        }
    }

    /// The Home Assistant device name: `name`, else the id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// The link to the card's web interface: the configured URL, none when
    /// turned off, else `http://<host>/` (IPv6 literals in brackets).
    pub fn device_url(&self) -> Option<String> {
        match &self.configuration_url {
            Some(ConfigurationUrl::Url(url)) => Some(url.clone()),
            Some(ConfigurationUrl::Enabled(false)) => None,
            Some(ConfigurationUrl::Enabled(true)) | None => {
                let host = self.host.trim();
                Some(if host.contains(':') {
                    format!("http://[{host}]/")
                } else {
                    format!("http://{host}/")
                })
            }
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

    /// The community traps from this UPS must carry; `None` for a v3 UPS
    /// without an explicit `trap_community` (v1/v2c traps refused).
    pub fn trap_community(&self) -> Option<&str> {
        match (&self.trap_community, self.version) {
            (Some(community), _) => Some(community),
            (None, SnmpVersion::V3) => None,
            (None, _) => Some(&self.community),
        }
    }

    /// `trap_engine_id` as octets (`None` when absent or invalid: the
    /// configuration check reports the latter).
    pub fn trap_engine(&self) -> Option<Vec<u8>> {
        self.trap_engine_id
            .as_deref()
            .and_then(|e| crate::snmp::v3::parse_engine_id(e).ok())
    }

    /// The SNMPv3 read and write users (master keys derived here, cached
    /// per password); `None` unless `version = "3"`. Needs resolved
    /// secrets ([`Config::load`] does that).
    pub fn usm_users(&self) -> Result<Option<(UsmUser, Option<UsmUser>)>, String> {
        if self.version != SnmpVersion::V3 {
            return Ok(None);
        }
        let name = self.user.as_deref().unwrap_or_default();
        let user = usm_user(
            name,
            self.auth_protocol,
            text_of(&self.auth_password),
            self.priv_protocol,
            text_of(&self.priv_password),
        )
        .map_err(|e| format!("ups {:?}: user {name:?}: {e}", self.id))?;
        let writer = match &self.write_user {
            Some(name) => Some(
                usm_user(
                    name,
                    self.write_auth_protocol.or(self.auth_protocol),
                    text_of(&self.write_auth_password),
                    self.write_priv_protocol.or(self.priv_protocol),
                    text_of(&self.write_priv_password),
                )
                .map_err(|e| format!("ups {:?}: write_user {name:?}: {e}", self.id))?,
            ),
            None => None,
        };
        Ok(Some((user, writer)))
    }

    /// Every secret of this UPS, by key.
    fn secrets_mut(&mut self) -> [(&'static str, &mut Option<Secret>); 4] {
        [
            ("auth_password", &mut self.auth_password),
            ("priv_password", &mut self.priv_password),
            ("write_auth_password", &mut self.write_auth_password),
            ("write_priv_password", &mut self.write_priv_password),
        ]
    }

    /// The v3-only keys that are set (for "only with version 3").
    fn v3_keys_set(&self) -> Vec<&'static str> {
        [
            ("user", self.user.is_some()),
            ("auth_protocol", self.auth_protocol.is_some()),
            ("auth_password", self.auth_password.is_some()),
            ("priv_protocol", self.priv_protocol.is_some()),
            ("priv_password", self.priv_password.is_some()),
            ("context", !self.context.is_empty()),
            ("write_user", self.write_user.is_some()),
            ("write_auth_protocol", self.write_auth_protocol.is_some()),
            ("write_auth_password", self.write_auth_password.is_some()),
            ("write_priv_protocol", self.write_priv_protocol.is_some()),
            ("write_priv_password", self.write_priv_password.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect()
    }

    /// The problems of the v3 keys of a `version = "3"` entry.
    /// The Home Assistant device keys: what Home Assistant would refuse.
    fn validate_device(
        &self,
        key: &dyn Fn(&str) -> String,
        problem: &mut dyn FnMut(String, String),
    ) {
        for (name, value) in [("name", &self.name), ("area", &self.area)] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                problem(
                    key(name),
                    "must not be empty (leave it out for the default)".into(),
                );
            }
        }
        if let Some(ConfigurationUrl::Url(url)) = &self.configuration_url {
            let scheme_ok = ["http://", "https://"]
                .iter()
                .any(|s| url.strip_prefix(s).is_some_and(|rest| !rest.is_empty()));
            if !scheme_ok || url.chars().any(char::is_whitespace) {
                problem(
                    key("configuration_url"),
                    format!("{url:?} is no http:// or https:// URL (or false for none)"),
                );
            }
        }
    }

    fn validate_v3(&self, key: &dyn Fn(&str) -> String, problem: &mut dyn FnMut(String, String)) {
        if self.version != SnmpVersion::V3 {
            for set in self.v3_keys_set() {
                problem(key(set), "only used with version = \"3\"".into());
            }
            return;
        }
        match self.user.as_deref() {
            None => problem(key("user"), "required with version = \"3\"".into()),
            Some(name) => check_user_name(name, &key("user"), problem),
        }
        check_usm_levels(
            &UsmKeys {
                auth_protocol: self.auth_protocol,
                auth_password: self.auth_password.as_ref(),
                auth_key: key("auth_password"),
                auth_protocol_key: key("auth_protocol"),
                priv_protocol: self.priv_protocol,
                priv_password: self.priv_password.as_ref(),
                priv_key: key("priv_password"),
                priv_protocol_key: key("priv_protocol"),
            },
            problem,
        );
        match &self.write_user {
            Some(name) => {
                check_user_name(name, &key("write_user"), problem);
                check_usm_levels(
                    &UsmKeys {
                        auth_protocol: self.write_auth_protocol.or(self.auth_protocol),
                        auth_password: self.write_auth_password.as_ref(),
                        auth_key: key("write_auth_password"),
                        auth_protocol_key: key("write_auth_protocol"),
                        priv_protocol: self.write_priv_protocol.or(self.priv_protocol),
                        priv_password: self.write_priv_password.as_ref(),
                        priv_key: key("write_priv_password"),
                        priv_protocol_key: key("write_priv_protocol"),
                    },
                    problem,
                );
            }
            None => {
                for set in self.v3_keys_set() {
                    if set.starts_with("write_") {
                        problem(key(set), "needs write_user".into());
                    }
                }
            }
        }
    }

    /// The forced MIB set, if any (validated).
    pub fn forced_mibs(&self) -> Option<std::collections::BTreeSet<Mib>> {
        (!self.mibs.is_empty()).then(|| self.mibs.iter().copied().collect())
    }
}

/// A secret of the configuration (SNMPv3 passwords, the MQTT password),
/// given one of three ways:
/// - inline: `auth_password = "…"`;
/// - `auth_password = { file = "…" }`: read at load, one trailing newline
///   dropped; a relative path is looked up in `$CREDENTIALS_DIRECTORY` when
///   set, as systemd's `LoadCredential=` provides;
/// - `auth_password = { env = "…" }`: the named environment variable.
///
/// `Debug` never prints the text (`***`, or where it comes from), so that
/// no stray `{:?}` of a configuration shows it. [`Config::load`] reads
/// every file and variable ([`Secret::text`] is `None` before).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    from: SecretFrom,
    text: Option<String>,
}

/// Where a secret comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SecretFrom {
    Inline,
    File(PathBuf),
    Env(String),
}

impl Secret {
    /// The secret text: inline, or once read from its file or variable.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// A secret read from a file.
    pub fn from_file(path: impl Into<PathBuf>) -> Secret {
        Secret {
            from: SecretFrom::File(path.into()),
            text: None,
        }
    }

    /// A secret read from an environment variable.
    pub fn from_env(variable: impl Into<String>) -> Secret {
        Secret {
            from: SecretFrom::Env(variable.into()),
            text: None,
        }
    }

    /// Reads the secret from its file or variable (inline: nothing to do).
    fn resolve(&mut self) -> Result<(), String> {
        let text = match &self.from {
            SecretFrom::Inline => return Ok(()),
            SecretFrom::File(path) => read_secret_file(path)?,
            SecretFrom::Env(var) => std::env::var(var)
                .map_err(|_| format!("environment variable {var} is not set (or not UTF-8)"))?,
        };
        self.text = Some(text);
        Ok(())
    }

    /// The same secret for printing: inline text replaced by `***`.
    fn masked(&self) -> Secret {
        match self.from {
            SecretFrom::Inline => Secret::from(MASK),
            _ => Secret {
                from: self.from.clone(),
                text: None,
            },
        }
    }
}

/// The text of an optional secret.
fn text_of(secret: &Option<Secret>) -> Option<&str> {
    secret.as_ref().and_then(Secret::text)
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.from {
            SecretFrom::Inline => f.write_str(MASK),
            SecretFrom::File(path) => write!(f, "{{ file = {path:?} }}"),
            SecretFrom::Env(var) => write!(f, "{{ env = {var:?} }}"),
        }
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Secret {
        Secret {
            from: SecretFrom::Inline,
            text: Some(text),
        }
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Secret {
        Secret::from(text.to_string())
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match &self.from {
            SecretFrom::Inline => serializer.serialize_str(self.text().unwrap_or_default()),
            SecretFrom::File(path) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("file", path)?;
                map.end()
            }
            SecretFrom::Env(var) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("env", var)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl<'de> serde::de::Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a secret: "…", { file = "…" } or { env = "…" }"#)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Secret, E> {
        Ok(Secret::from(text))
    }

    /// Digits only (`UPS2MQTT_MQTT__PASSWORD=12345678` reads as a number).
    fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<Secret, E> {
        Ok(Secret::from(number.to_string()))
    }

    fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<Secret, E> {
        Ok(Secret::from(number.to_string()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
        use serde::de::Error;
        let mut secret = None;
        while let Some(key) = map.next_key::<String>()? {
            if secret.is_some() {
                return Err(A::Error::custom(
                    "a secret comes from one place: give only one of file, env",
                ));
            }
            secret = Some(match key.as_str() {
                "file" => Secret::from_file(map.next_value::<PathBuf>()?),
                "env" => Secret::from_env(map.next_value::<String>()?),
                other => return Err(A::Error::unknown_field(other, &["file", "env"])),
            });
        }
        secret.ok_or_else(|| {
            A::Error::custom(r#"an empty table: give { file = "…" } or { env = "…" }"#)
        })
    }
}

/// A secret file's contents without one trailing newline. A relative
/// path is looked up in `$CREDENTIALS_DIRECTORY` (systemd's
/// `LoadCredential=`) when that is set.
fn read_secret_file(path: &Path) -> Result<String, String> {
    let full = match std::env::var_os("CREDENTIALS_DIRECTORY") {
        Some(dir) if path.is_relative() => Path::new(&dir).join(path),
        _ => path.to_path_buf(),
    };
    let text = std::fs::read_to_string(&full)
        .map_err(|e| format!("cannot read {}: {e}", full.display()))?;
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    Ok(text.to_string())
}

/// The keys of one USM user, for validation.
struct UsmKeys<'a> {
    auth_protocol: Option<AuthProtocol>,
    auth_password: Option<&'a Secret>,
    auth_key: String,
    auth_protocol_key: String,
    priv_protocol: Option<PrivProtocol>,
    priv_password: Option<&'a Secret>,
    priv_key: String,
    priv_protocol_key: String,
}

/// Levels and passwords of one USM user; passwords are never shown.
fn check_usm_levels(k: &UsmKeys<'_>, problem: &mut dyn FnMut(String, String)) {
    /// An unread file or variable was reported when it was read.
    fn check_password(
        key: &str,
        password: Option<&Secret>,
        needed_by: &str,
        problem: &mut dyn FnMut(String, String),
    ) {
        match password.map(Secret::text) {
            None => problem(key.to_string(), format!("required with {needed_by}")),
            Some(Some(p)) if p.chars().count() < MIN_PASSWORD_LEN => problem(
                key.to_string(),
                format!(
                    "is {} characters long: SNMPv3 passwords need at least {MIN_PASSWORD_LEN}",
                    p.chars().count()
                ),
            ),
            Some(_) => {}
        }
    }
    match k.auth_protocol {
        Some(_) => check_password(&k.auth_key, k.auth_password, &k.auth_protocol_key, problem),
        None if k.auth_password.is_some() => {
            problem(k.auth_key.clone(), format!("needs {}", k.auth_protocol_key))
        }
        None => {}
    }
    match (k.priv_protocol, k.auth_protocol) {
        (Some(_), None) => problem(
            k.priv_protocol_key.clone(),
            format!(
                "needs {} (privacy without authentication is no SNMPv3 security level)",
                k.auth_protocol_key
            ),
        ),
        (Some(_), Some(_)) => {
            check_password(&k.priv_key, k.priv_password, &k.priv_protocol_key, problem)
        }
        (None, _) if k.priv_password.is_some() => {
            problem(k.priv_key.clone(), format!("needs {}", k.priv_protocol_key))
        }
        (None, _) => {}
    }
}

/// usmUserName is an SnmpAdminString of 1-32 octets.
fn check_user_name(name: &str, key: &str, problem: &mut dyn FnMut(String, String)) {
    if name.is_empty() || name.len() > 32 {
        problem(key.to_string(), format!("{name:?} must be 1-32 octets"));
    }
}

/// A USM user from config keys (validated before).
fn usm_user(
    name: &str,
    auth_protocol: Option<AuthProtocol>,
    auth_password: Option<&str>,
    priv_protocol: Option<PrivProtocol>,
    priv_password: Option<&str>,
) -> Result<UsmUser, crate::snmp::usm::UserError> {
    UsmUser::new(
        name,
        auth_protocol.map(|p| (p, auth_password.unwrap_or_default())),
        priv_protocol.map(|p| (p, priv_password.unwrap_or_default())),
    )
}

impl TrapUserConfig {
    /// The USM user (needs resolved secrets).
    pub fn usm_user(&self) -> Result<UsmUser, String> {
        usm_user(
            &self.user,
            self.auth_protocol,
            text_of(&self.auth_password),
            self.priv_protocol,
            text_of(&self.priv_password),
        )
        .map_err(|e| format!("trap user {:?}: {e}", self.user))
    }

    /// The only sender engine accepted, if restricted.
    pub fn engine(&self) -> Option<Vec<u8>> {
        self.engine_id
            .as_deref()
            .and_then(|e| crate::snmp::v3::parse_engine_id(e).ok())
    }

    fn secrets_mut(&mut self) -> [(&'static str, &mut Option<Secret>); 2] {
        [
            ("auth_password", &mut self.auth_password),
            ("priv_password", &mut self.priv_password),
        ]
    }

    fn validate(&self, prefix: &str, problem: &mut dyn FnMut(String, String)) {
        let key = |k: &str| format!("{prefix}{k}");
        check_user_name(&self.user, &key("user"), problem);
        check_usm_levels(
            &UsmKeys {
                auth_protocol: self.auth_protocol,
                auth_password: self.auth_password.as_ref(),
                auth_key: key("auth_password"),
                auth_protocol_key: key("auth_protocol"),
                priv_protocol: self.priv_protocol,
                priv_password: self.priv_password.as_ref(),
                priv_key: key("priv_password"),
                priv_protocol_key: key("priv_protocol"),
            },
            problem,
        );
        if let Some(Err(reason)) = self
            .engine_id
            .as_deref()
            .map(crate::snmp::v3::parse_engine_id)
        {
            problem(key("engine_id"), reason);
        }
    }
}

impl TrapsConfig {
    /// The listener's SNMPv3 engine ID: `engine_id`, or by default
    /// `80000000 04` (no enterprise, text format) + `ups2mqtt:<gateway id>`,
    /// stable across restarts.
    pub fn engine_id(&self, gateway_id: &str) -> Vec<u8> {
        if let Some(id) = self
            .engine_id
            .as_deref()
            .and_then(|e| crate::snmp::v3::parse_engine_id(e).ok())
        {
            return id;
        }
        let mut id = vec![0x80, 0x00, 0x00, 0x00, 0x04];
        id.extend(format!("ups2mqtt:{gateway_id}").bytes().take(27));
        id
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
            // Figment takes a missing file for an empty one: say it plainly.
            if let Err(error) = std::fs::read_to_string(file) {
                let reason = match error.kind() {
                    std::io::ErrorKind::NotFound => {
                        format!("file {} does not exist", file.display())
                    }
                    _ => format!("cannot read {}: {error}", file.display()),
                };
                return Err(ConfigError::Invalid(vec![Problem {
                    key: "--config".to_string(),
                    reason,
                }]));
            }
            figment = figment.merge(Toml::file(file));
        }
        Self::from_figment(figment.merge(config_env()))
    }

    /// Extracts a configuration from any figment (tests use inline TOML),
    /// reads its secrets from their files and variables, and validates it.
    pub fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(Box::new(e)))?;
        let mut problems = config.resolve_secrets();
        if let Err(more) = config.validate() {
            problems.extend(more);
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Reads every secret given as `{ file = … }` or `{ env = … }`.
    pub fn resolve_secrets(&mut self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut resolve = |key: String, secret: &mut Option<Secret>| {
            if let Some(Err(reason)) = secret.as_mut().map(Secret::resolve) {
                problems.push(Problem { key, reason });
            }
        };
        resolve("mqtt.password".to_string(), &mut self.mqtt.password);
        for (i, ups) in self.ups.iter_mut().enumerate() {
            for (key, secret) in ups.secrets_mut() {
                resolve(format!("ups[{i}].{key}"), secret);
            }
        }
        for (i, user) in self.traps.users.iter_mut().enumerate() {
            for (key, secret) in user.secrets_mut() {
                resolve(format!("traps.users[{i}].{key}"), secret);
            }
        }
        for (i, user) in self.nut.users.iter_mut().enumerate() {
            if let Err(reason) = user.password.resolve() {
                problems.push(Problem {
                    key: format!("nut.users[{i}].password"),
                    reason,
                });
            }
        }
        problems
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
        if let Some(Err(reason)) = self
            .traps
            .engine_id
            .as_deref()
            .map(crate::snmp::v3::parse_engine_id)
        {
            problem("traps.engine_id".into(), reason);
        }
        for (i, user) in self.traps.users.iter().enumerate() {
            user.validate(&format!("traps.users[{i}]."), &mut problem);
        }
        if self.metrics.listen.port() == 0 {
            problem("metrics.listen".into(), "needs a port (1-65535)".into());
        }
        if !(1..=1024).contains(&self.metrics.max_connections) {
            problem(
                "metrics.max_connections".into(),
                format!("{} is outside 1..=1024", self.metrics.max_connections),
            );
        }
        self.nut.validate(&mut problem);
        // Home Assistant device id slug → the first UPS id that has it.
        let mut slugs: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
        for (i, ups) in self.ups.iter().enumerate() {
            let key = |k: &str| format!("ups[{i}].{k}");
            if !is_topic_id(&ups.id) {
                problem(
                    key("id"),
                    format!("{:?} must be 1-64 of [a-z0-9_-]", ups.id),
                );
            } else if ups.id == crate::topics::BRIDGE {
                problem(
                    key("id"),
                    format!("{:?} is reserved for the gateway's own topics", ups.id),
                );
            } else if let Some(first) = slugs.get(&crate::topics::slug(&ups.id)) {
                let reason = if *first == ups.id {
                    format!("{:?} is used by another [[ups]]", ups.id)
                } else {
                    format!(
                        "{:?} and {first:?} would be one Home Assistant device ({:?}): '-' and '_' are the same there",
                        ups.id,
                        crate::topics::slug(&ups.id)
                    )
                };
                problem(key("id"), reason);
            } else {
                slugs.insert(crate::topics::slug(&ups.id), &ups.id);
            }
            if ups.host.trim().is_empty() {
                problem(key("host"), "must not be empty".into());
            }
            ups.validate_device(&key, &mut problem);
            if ups.port == 0 {
                problem(key("port"), "must be 1-65535".into());
            }
            if ups.community.is_empty() {
                problem(key("community"), "must not be empty".into());
            }
            ups.validate_v3(&key, &mut problem);
            if let Some(Err(reason)) = ups
                .trap_engine_id
                .as_deref()
                .map(crate::snmp::v3::parse_engine_id)
            {
                problem(key("trap_engine_id"), reason);
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
                if !(1..=86_400).contains(secs) {
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

/// Both accept v1/v2c traps with the same community.
fn community_traps_clash(a: &UpsConfig, b: &UpsConfig) -> bool {
    a.trap_community().is_some() && a.trap_community() == b.trap_community()
}

/// Both are version 3 UPSes whose traps are signed by the same user and
/// whose engine IDs do not tell them apart (both set and different).
fn v3_traps_clash(a: &UpsConfig, b: &UpsConfig) -> bool {
    fn v3_user(ups: &UpsConfig) -> Option<&Option<String>> {
        (ups.version == SnmpVersion::V3).then_some(&ups.user)
    }
    let distinct_engines = matches!(
        (a.trap_engine(), b.trap_engine()),
        (Some(x), Some(y)) if x != y
    );
    v3_user(a).is_some() && v3_user(a) == v3_user(b) && !distinct_engines
}

/// IPv4-mapped IPv6 compares as IPv4 (as the trap listener sees it).
fn canonical_ip(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    }
}

impl Config {
    /// Pairs of UPSes whose traps the listener cannot tell apart: they
    /// share an address (host or `trap_sources`), accept the same traps
    /// (v1/v2c: the same community; SNMPv3: two version 3 UPSes with the
    /// same user and not both a `trap_engine_id` of their own), and do not
    /// both list an address of their own in `trap_sources` (what a v1
    /// agent-addr or snmpTrapAddress.0 names). `check-config` refuses
    /// them; `run` warns and drops such traps (counted `ambiguous`) rather
    /// than crediting the wrong UPS. Host names are compared as written
    /// (not resolved).
    pub fn trap_ambiguities(&self) -> Vec<Problem> {
        if !self.traps.enabled {
            return Vec::new();
        }
        let addresses = |ups: &UpsConfig| -> BTreeSet<String> {
            let host = ups.host.trim_matches(['[', ']']);
            let host = host
                .parse::<std::net::IpAddr>()
                .map_or_else(|_| host.to_lowercase(), |ip| canonical_ip(ip).to_string());
            std::iter::once(host)
                .chain(
                    ups.trap_sources
                        .iter()
                        .map(|ip| canonical_ip(*ip).to_string()),
                )
                .collect()
        };
        let own_source = |ups: &UpsConfig, other: &BTreeSet<String>| {
            ups.trap_sources
                .iter()
                .any(|ip| !other.contains(&canonical_ip(*ip).to_string()))
        };
        // One problem per UPS, naming the first earlier one it clashes with:
        // 500 UPSes behind one address are 500 lines, not 124,750.
        let at: Vec<BTreeSet<String>> = self.ups.iter().map(addresses).collect();
        let clash = |i: usize, j: usize| {
            let (a, b) = (&self.ups[i], &self.ups[j]);
            let shared = at[i].intersection(&at[j]).next()?;
            if own_source(a, &at[j]) && own_source(b, &at[i]) {
                return None;
            }
            let (key, fix) = if community_traps_clash(a, b) {
                (
                    "trap_sources",
                    "give one its own trap_community, or both trap_sources with the card's own address (its v1 agent-addr)",
                )
            } else if v3_traps_clash(a, b) {
                (
                    "trap_engine_id",
                    "give both their card's trap_engine_id (the engine ID its SNMPv3 traps carry), or one another user",
                )
            } else {
                return None;
            };
            Some((shared, key, fix))
        };
        let mut problems = Vec::new();
        for (j, b) in self.ups.iter().enumerate() {
            let mut clashes = (0..j).filter_map(|i| Some((i, clash(i, j)?)));
            let Some((i, (shared, key, fix))) = clashes.next() else {
                continue;
            };
            let more = match clashes.count() {
                0 => String::new(),
                n => format!(" (and {n} more before it)"),
            };
            problems.push(Problem {
                key: format!("ups[{j}].{key}"),
                reason: format!(
                    "traps from {shared} cannot be told apart between {:?} (ups[{i}]) and {:?} (ups[{j}]){more}: {fix}",
                    self.ups[i].id, b.id
                ),
            });
        }
        problems
    }

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
        if !(1_024..=16 * 1024 * 1024).contains(&mqtt.max_incoming_bytes) {
            problem(
                "mqtt.max_incoming_bytes".into(),
                format!("{} is outside 1024..=16777216", mqtt.max_incoming_bytes),
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
        let mask = |secret: &mut Option<Secret>| *secret = secret.as_ref().map(Secret::masked);
        mask(&mut copy.mqtt.password);
        for ups in &mut copy.ups {
            ups.community = MASK.to_string();
            ups.write_community = MASK.to_string();
            for (_, secret) in ups.secrets_mut() {
                mask(secret);
            }
        }
        for user in &mut copy.traps.users {
            for (_, secret) in user.secrets_mut() {
                mask(secret);
            }
        }
        for user in &mut copy.nut.users {
            user.password = user.password.masked();
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

    /// A room of UPSes behind one address (NAT, a proxy, the benchmark's
    /// simulator): one problem per UPS, not one per pair.
    #[test]
    fn upses_sharing_an_address_are_reported_once_each() {
        let toml: String = (0..500)
            .map(|i| {
                format!(
                    "[[ups]]\nid = \"u{i}\"\nhost = \"127.0.0.1\"\nport = {}\n",
                    2000 + i
                )
            })
            .collect();
        let problems = parse(&toml).unwrap().trap_ambiguities();
        assert_eq!(problems.len(), 499);
        assert_eq!(problems[0].key, "ups[1].trap_sources");
        assert!(
            problems[0]
                .reason
                .contains("\"u0\" (ups[0]) and \"u1\" (ups[1]): ")
        );
        let last = &problems[498].reason;
        assert!(
            last.contains("\"u0\" (ups[0]) and \"u499\" (ups[499]) (and 498 more before it)"),
            "{last}"
        );
    }

    /// Two SNMPv3 cards behind one address, signing with the same user:
    /// only both engine IDs (different) tell their traps apart.
    #[test]
    fn v3_upses_on_one_address_need_their_engine_ids() {
        let pair = |a: &str, b: &str| {
            let ups = |id: &str, port: u16, extra: &str| {
                format!(
                    "[[ups]]\nid = \"{id}\"\nhost = \"192.0.2.9\"\nport = {port}\nversion = \"3\"\nuser = \"card\"\n{extra}\n"
                )
            };
            let config = parse(&(ups("left", 161, a) + &ups("right", 1161, b))).unwrap();
            config.trap_ambiguities()
        };
        let engine = |hex: &str| format!("trap_engine_id = \"{hex}\"");
        let refused = pair("", "");
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].key, "ups[1].trap_engine_id");
        assert!(refused[0].reason.contains("\"left\"") && refused[0].reason.contains("\"right\""));
        assert_eq!(
            pair(&engine("0x8000000004aa"), "").len(),
            1,
            "one is not enough"
        );
        assert_eq!(
            pair(&engine("0x8000000004aa"), &engine("80:00:00:00:04:aa")).len(),
            1,
            "the same engine"
        );
        assert!(pair(&engine("0x8000000004aa"), &engine("0x8000000004bb")).is_empty());
        // A community both accept still clashes, whatever the engines.
        let both = "trap_community = \"shared\"";
        assert_eq!(
            pair(
                &format!("{both}\n{}", engine("0x8000000004aa")),
                &format!("{both}\n{}", engine("0x8000000004bb"))
            )[0]
            .key,
            "ups[1].trap_sources"
        );
        let err = parse("[[ups]]\nid = \"x\"\nhost = \"h\"\ntrap_engine_id = \"0x12\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ups[0].trap_engine_id"), "{err}");
    }

    #[test]
    fn metrics_are_off_by_default_and_validated() {
        let config = parse("[[ups]]\nid = \"rack1\"\nhost = \"10.0.0.5\"\n").unwrap();
        assert!(!config.metrics.enabled);
        assert_eq!(config.metrics.listen.port(), METRICS_PORT);
        let config = parse("[metrics]\nenabled = true\nlisten = \"127.0.0.1:9999\"\n").unwrap();
        assert_eq!(config.metrics.listen, "127.0.0.1:9999".parse().unwrap());
        let err = parse("[metrics]\nlisten = \"127.0.0.1:0\"\nmax_connections = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("metrics.listen: needs a port"), "{err}");
        assert!(
            err.contains("metrics.max_connections: 0 is outside"),
            "{err}"
        );
        let err = parse("[metrics]\nlisten = \"nowhere\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("metrics") && err.contains("listen"), "{err}");
    }

    #[test]
    fn nut_users_are_checked_and_their_passwords_masked() {
        let config = parse(
            r#"
            [nut]
            enabled = true
            [[nut.users]]
            name = "upsmon"
            password = "hunter22"
            upsmon = "primary"
            actions = ["SET", "FSD"]
            instcmds = ["test.battery.start", "outlet.2.load.off", "all"]
            "#,
        )
        .unwrap();
        assert_eq!(config.nut.users[0].upsmon, Some(UpsmonRole::Primary));
        assert!(!config.masked().to_string().contains("hunter22"));
        let err = parse(
            r#"
            [nut]
            enabled = true
            listen = []
            max_connections = 0
            [[nut.users]]
            name = "a b"
            password = ""
            instcmds = ["rm.everything"]
            [[nut.users]]
            name = "x"
            password = { env = "UPS2MQTT_TEST_NO_SUCH_VARIABLE" }
            [[nut.users]]
            name = "x"
            password = "p"
            [nut.tls]
            cert_file = "/nonexistent/ups2mqtt/cert.pem"
            key_file = "/nonexistent/ups2mqtt/key.pem"
            "#,
        )
        .unwrap_err()
        .to_string();
        for key in [
            "nut.tls.cert_file",
            "nut.listen",
            "nut.max_connections",
            "nut.users[0].name",
            "nut.users[0].password",
            "nut.users[0].instcmds",
            "nut.users[1].password",
            "nut.users[2].name",
        ] {
            assert!(err.contains(key), "{key} missing in {err}");
        }
        let err = parse("[[nut.users]]\nname = \"u\"\npassword = \"p\"\nactions = [\"LOGIN\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("LOGIN"), "{err}");
    }

    #[test]
    fn defaults_fill_a_minimal_ups() {
        let config = parse("[[ups]]\nid = \"rack1\"\nhost = \"10.0.0.5\"\n").unwrap();
        let ups = &config.ups[0];
        assert_eq!(
            (ups.port, ups.version, ups.community.as_str()),
            (161, SnmpVersion::V2c, "public")
        );
        assert_eq!(ups.write_community, "private");
        assert_eq!(ups.poll.interval(Page::Battery), Duration::from_secs(5));
        assert_eq!(ups.poll.interval(Page::General), Duration::from_secs(300));
        assert_eq!(config.gateway.id, "ups2mqtt");
    }

    #[test]
    fn device_name_area_and_link() {
        let config = parse(
            "[[ups]]\nid = \"a\"\nhost = \"10.0.0.5\"\n\
             [[ups]]\nid = \"b\"\nhost = \"fe80::1\"\nname = \"Rack B\"\narea = \"Server room\"\n\
             [[ups]]\nid = \"c\"\nhost = \"h\"\nconfiguration_url = false\n\
             [[ups]]\nid = \"d\"\nhost = \"h\"\nconfiguration_url = \"https://card.example/ui\"\n",
        )
        .unwrap();
        let [a, b, c, d] = &config.ups[..] else {
            panic!("four UPSes")
        };
        assert_eq!((a.display_name(), a.area.as_deref()), ("a", None));
        assert_eq!(a.device_url().as_deref(), Some("http://10.0.0.5/"));
        assert_eq!(
            (b.display_name(), b.area.as_deref()),
            ("Rack B", Some("Server room"))
        );
        assert_eq!(b.device_url().as_deref(), Some("http://[fe80::1]/"));
        assert_eq!(c.device_url(), None);
        assert_eq!(d.device_url().as_deref(), Some("https://card.example/ui"));
        let err = parse(
            "[[ups]]\nid = \"a\"\nhost = \"h\"\nname = \" \"\narea = \"\"\nconfiguration_url = \"ftp://x\"\n",
        )
        .unwrap_err();
        let ConfigError::Invalid(problems) = err else {
            panic!("{err}")
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["ups[0].name", "ups[0].area", "ups[0].configuration_url"]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let err = parse(
            r#"
            [[ups]]
            id = "Bad Id"
            host = ""
            timeout_ms = 5
            scale = { upsInputVoltage = 0.1, upsIdentModel = 2.0, upsOutputVoltage = -1.0 }
            poll = { pages = { battery = 0 } }
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
                "ups[0].scale.upsIdentModel",
                "ups[0].scale.upsOutputVoltage",
                "ups[0].poll.pages.battery",
                "ups[2].id",
            ]
        );
    }

    #[test]
    fn mibs_and_pages_read_into_their_enums_and_unknown_names_name_their_key() {
        let config = parse(
            "[[ups]]\nid = \"a\"\nhost = \"h\"\nmibs = [\"powernet\", \"rfc1628\"]\npoll = { pages = { environment = 30 } }\n",
        )
        .unwrap();
        let ups = &config.ups[0];
        assert_eq!(ups.mibs, [Mib::PowerNet, Mib::Rfc1628]);
        assert_eq!(
            ups.forced_mibs(),
            Some([Mib::Rfc1628, Mib::PowerNet].into_iter().collect())
        );
        assert_eq!(
            ups.poll.interval(Page::Environment),
            Duration::from_secs(30)
        );
        for (toml, name, key) in [
            ("mibs = [\"mge\", \"snmpv9\"]", "snmpv9", "mibs"),
            ("poll = { pages = { batery = 3 } }", "batery", "pages"),
        ] {
            let err = parse(&format!("[[ups]]\nid = \"a\"\nhost = \"h\"\n{toml}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name) && err.contains(key), "{err}");
        }
    }

    #[test]
    fn config_names_of_mibs_and_pages_are_their_names() {
        for mib in Mib::ALL {
            assert_eq!(serde_json::to_value(mib).unwrap(), mib.name());
        }
        for page in Page::ALL {
            assert_eq!(serde_json::to_value(page).unwrap(), page.name());
        }
    }

    #[test]
    fn ups_ids_that_are_one_home_assistant_device_are_refused_with_both_names() {
        let err = parse(
            "[[ups]]\nid = \"rack-1\"\nhost = \"h\"\n[[ups]]\nid = \"rack_1\"\nhost = \"h\"\n[[ups]]\nid = \"bridge\"\nhost = \"h\"\n",
        )
        .unwrap_err();
        let ConfigError::Invalid(problems) = err else {
            panic!("{err}")
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].key, "ups[1].id");
        assert!(
            problems[0].reason.contains("\"rack_1\"") && problems[0].reason.contains("\"rack-1\""),
            "{}",
            problems[0]
        );
        assert_eq!(problems[1].key, "ups[2].id");
        assert!(problems[1].reason.contains("reserved"), "{}", problems[1]);
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's signature
    fn the_mqtt_password_is_a_secret_too() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("MQTT_PW_FOR_TEST", "hunter22");
            jail.create_file(
                "c.toml",
                "[mqtt]\nusername = \"u\"\npassword = { env = \"MQTT_PW_FOR_TEST\" }\n",
            )?;
            let config = Config::load(Some(Path::new("c.toml"))).unwrap();
            assert_eq!(config.mqtt.password_text(), "hunter22");
            let text = format!("{} {config:?}", config.masked());
            assert!(!text.contains("hunter22"), "{text}");
            assert!(text.contains("MQTT_PW_FOR_TEST"), "{text}");
            Ok(())
        });
    }

    #[test]
    fn a_secret_comes_from_one_place_and_old_keys_are_named() {
        let ups = "[[ups]]\nid = \"a\"\nhost = \"h\"\nversion = \"3\"\nuser = \"u\"\nauth_protocol = \"sha\"\n";
        for (secret, expected) in [
            (
                "auth_password = { file = \"f\", env = \"E\" }",
                "only one of",
            ),
            ("auth_password = { path = \"f\" }", "path"),
            ("auth_password = {}", "empty table"),
            ("auth_password = [\"x\"]", "{ file = "),
            // The `_file`/`_env` keys of earlier versions.
            ("auth_password_file = \"f\"", "auth_password_file"),
        ] {
            let err = parse(&format!("{ups}{secret}\n")).unwrap_err().to_string();
            assert!(err.contains(expected), "{secret}: {err}");
        }
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
    #[allow(clippy::result_large_err)] // figment::Jail's signature
    fn v3_secrets_come_from_files_and_variables_and_are_masked() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("auth.secret", "fromafile1\n")?;
            jail.set_env("V3_PRIV_SECRET", "fromavariable");
            jail.create_file(
                "c.toml",
                r#"
                [traps]
                engine_id = "0x80000000 04 74 65 73 74"
                [[traps.users]]
                user = "trapper"
                auth_protocol = "SHA-512"
                auth_password = "trapsecret1"
                [[ups]]
                id = "nmc"
                host = "h"
                version = "3"
                user = "ups2mqtt"
                auth_protocol = "sha256"
                auth_password = { file = "auth.secret" }
                priv_protocol = "AES-256-C"
                priv_password = { env = "V3_PRIV_SECRET" }
                context = "ctx"
                write_user = "admin"
                write_auth_password = "writesecret1"
                write_priv_password = "writesecret2"
                "#,
            )?;
            let config = Config::load(Some(Path::new("c.toml"))).unwrap();
            let ups = &config.ups[0];
            assert_eq!(ups.version, SnmpVersion::V3);
            assert_eq!(text_of(&ups.auth_password), Some("fromafile1"));
            assert_eq!(text_of(&ups.priv_password), Some("fromavariable"));
            assert_eq!(ups.priv_protocol, Some(PrivProtocol::Aes256C));
            let (user, writer) = ups.usm_users().unwrap().unwrap();
            assert_eq!(user.level(), crate::snmp::usm::SecurityLevel::AuthPriv);
            let writer = writer.unwrap();
            assert_eq!(writer.display_name(), "admin");
            assert_eq!(
                writer.auth_protocol(),
                Some(AuthProtocol::Sha256),
                "inherited"
            );
            assert_eq!(ups.trap_community(), None, "v3: community traps refused");
            assert_eq!(
                config.traps.engine_id("gw"),
                vec![0x80, 0, 0, 0, 4, b't', b'e', b's', b't']
            );
            let text = format!("{} {config:?}", config.masked());
            for secret in [
                "fromafile1",
                "fromavariable",
                "trapsecret1",
                "writesecret1",
                "writesecret2",
            ] {
                assert!(!text.contains(secret), "{secret} leaked: {text}");
            }
            assert!(
                text.contains("auth.secret") && text.contains("V3_PRIV_SECRET"),
                "{text}"
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's signature
    fn v3_problems_name_their_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("short.secret", "abc\n")?;
            jail.create_file(
                "c.toml",
                r#"
                [traps]
                engine_id = "0x12"
                [[traps.users]]
                user = "trapper"
                auth_protocol = "md5"
                auth_password = "1234567"
                engine_id = "nothex"
                [[ups]]
                id = "a"
                host = "h"
                version = "3"
                auth_protocol = "sha"
                auth_password = { file = "short.secret" }
                priv_protocol = "aes"
                [[ups]]
                id = "b"
                host = "h"
                version = "3"
                user = "u"
                priv_protocol = "des"
                priv_password = "longenough"
                write_auth_password = "longenough"
                [[ups]]
                id = "c"
                host = "h"
                user = "u"
                [[ups]]
                id = "d"
                host = "h"
                version = "3"
                user = "u"
                auth_protocol = "sha"
                auth_password = { file = "no-such.secret" }
                priv_protocol = "aes"
                priv_password = { env = "V3_NOT_SET_ANYWHERE" }
                "#,
            )?;
            let err = Config::load(Some(Path::new("c.toml"))).unwrap_err();
            let ConfigError::Invalid(problems) = err else {
                panic!("{err}")
            };
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            let has = |key: &str, reason: &str| {
                assert!(
                    problems
                        .iter()
                        .any(|p| p.key == key && p.reason.contains(reason)),
                    "no {key}: {reason} in {text:#?}"
                )
            };
            has("ups[0].user", "required with version = \"3\"");
            has("ups[0].auth_password", "is 3 characters long");
            has("ups[0].priv_password", "required with ups[0].priv_protocol");
            has("ups[1].priv_protocol", "needs ups[1].auth_protocol");
            has("ups[1].write_auth_password", "needs write_user");
            has("ups[2].user", "only used with version = \"3\"");
            has("ups[3].auth_password", "cannot read");
            has("ups[3].priv_password", "V3_NOT_SET_ANYWHERE is not set");
            assert!(
                !problems
                    .iter()
                    .any(|p| p.key.starts_with("ups[3].") && p.reason.contains("required")),
                "an unreadable secret is reported once: {text:#?}"
            );
            has("traps.engine_id", "5-32");
            has("traps.users[0].auth_password", "is 7 characters long");
            has("traps.users[0].engine_id", "hex");
            assert!(
                !text.join("\n").contains("1234567"),
                "passwords are never shown"
            );
            // A protocol name that does not exist names its key too.
            let err = parse("[[ups]]\nid = \"a\"\nhost = \"h\"\nversion = 3\nuser = \"u\"\nauth_protocol = \"sha3\"\n")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("auth_protocol") && err.contains("sha256"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn the_example_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
        let config = Config::load(Some(&path)).unwrap();
        assert!(!config.ups.is_empty());
    }
}
