//! One UPS: its SNMP client, what it serves, and reading its pages.
//!
//! This module owns the conversation with one agent: resolve its address,
//! detect (or take from the config) which MIBs it serves, and read any set
//! of pages in as few round trips as the point table allows (one parallel
//! walk of the pages' subtrees). The per-UPS task of the gateway builds on
//! [`Ups`]; `ups2mqtt probe` uses it once.

use crate::config::UpsConfig;
use crate::mib::{Mib, Page};
use crate::pages::{self, PageOutcome, ScaleOverrides, Snapshot};
use crate::probe::{self, Capabilities};
use crate::snmp::{Client, ClientOptions, SnmpError};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use tracing::Instrument;

/// Why a UPS could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UpsError {
    #[error("cannot resolve {host}:{port}: {reason}")]
    Resolve {
        host: String,
        port: u16,
        reason: String,
    },
    #[error(transparent)]
    Snmp(#[from] SnmpError),
    /// SNMPv3 credentials that cannot be used (an unvalidated config).
    #[error("SNMPv3 credentials: {0}")]
    Credentials(String),
    #[error(
        "{target} answers SNMP but serves none of the UPS MIBs (RFC 1628 1.3.6.1.2.1.33, MGE 1.3.6.1.4.1.705.1, PowerNet 1.3.6.1.4.1.318.1.1.1)"
    )]
    NotAUps { target: SocketAddr },
}

/// A connected UPS: its client and capabilities.
pub struct Ups {
    client: Client,
    capabilities: Capabilities,
    overrides: ScaleOverrides,
}

impl Ups {
    /// Resolves the agent, opens a client and detects the served MIBs
    /// (unless the config forces them).
    pub async fn connect(config: &UpsConfig) -> Result<Ups, UpsError> {
        let target = resolve(&config.host, config.port).await?;
        let mut client = Client::new(client_options(config, target)?)?;
        let capabilities = match config.forced_mibs() {
            Some(mibs) => Capabilities { mibs },
            None => probe::detect(&mut client).await?,
        };
        if capabilities.mibs.is_empty() {
            return Err(UpsError::NotAUps { target });
        }
        Ok(Ups {
            client,
            capabilities,
            overrides: config.scale.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        })
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    pub fn served_mibs(&self) -> impl Iterator<Item = Mib> + '_ {
        self.capabilities.mibs.iter().copied()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Walks the subtrees of `pages` once and returns the raw snapshot.
    pub async fn snapshot(&mut self, pages: &[Page]) -> Result<Snapshot, SnmpError> {
        let roots = self.capabilities.walk_roots(pages);
        Ok(self.client.walk(&roots).await?.into_iter().collect())
    }

    /// Reads `pages`; pages without data are absent from the result.
    pub async fn read(&mut self, pages: &[Page]) -> Result<BTreeMap<Page, PageOutcome>, SnmpError> {
        let snapshot = self.snapshot(pages).await?;
        Ok(pages::decode_all(pages, &snapshot, &self.overrides))
    }
}

/// The client settings of a UPS entry (SNMPv3: its users, whose master
/// keys are derived from the passwords once per process).
pub fn client_options(config: &UpsConfig, target: SocketAddr) -> Result<ClientOptions, UpsError> {
    let mut options = ClientOptions::new(target);
    if let Some(version) = config.version.community() {
        options.version = version;
    }
    if let Some((user, write_user)) = config.usm_users().map_err(UpsError::Credentials)? {
        options.usm = Some(crate::snmp::UsmOptions {
            user,
            write_user,
            context: config.context.clone(),
        });
    }
    options.community = config.community.clone();
    options.timeout = Duration::from_millis(config.timeout_ms);
    options.retries = config.retries;
    options.max_pdu_bytes = config.max_pdu_bytes;
    options.max_repetitions = config.max_repetitions;
    Ok(options)
}

/// Resolves `host:port` (names, IPv4, IPv6) to the first address.
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, UpsError> {
    let error = |reason: String| UpsError::Resolve {
        host: host.to_string(),
        port,
        reason,
    };
    let host_part = host.trim_start_matches('[').trim_end_matches(']');
    tokio::net::lookup_host((host_part, port))
        .await
        .map_err(|e| error(e.to_string()))?
        .next()
        .ok_or_else(|| error("no address found".to_string()))
}

// ------------------------------------------------------------------ the task

/// Where a UPS task's results go (the gateway maps them to MQTT topics;
/// tests record them). Calls are cheap and never block on the network.
pub trait UpsSink: Send + 'static {
    /// A page's latest JSON; `force` re-publishes it even if unchanged.
    fn page(&mut self, page: Page, json: &serde_json::Map<String, serde_json::Value>, force: bool);
    /// A page the UPS no longer has.
    fn page_gone(&mut self, page: Page);
    /// The set of pages and fields changed: announce them (discovery).
    fn shape(&mut self, pages: &BTreeMap<Page, serde_json::Map<String, serde_json::Value>>);
    fn availability(&mut self, online: bool);
    fn health(&mut self, health: &serde_json::Value);
    /// The answer to a command (not retained).
    fn response(&mut self, response: &serde_json::Value);
    /// The audit record of a command, accepted or refused (not retained).
    fn audit(&mut self, record: &serde_json::Value);
}

/// What can be asked of a running UPS task.
#[derive(Debug, Clone, PartialEq)]
pub enum UpsRequest {
    /// Read these pages now (traps, commands).
    PollNow(Vec<Page>),
    /// A trap arrived: update what it states at once, acknowledge it if
    /// asked (MGE upsmgAgentTrapAck), then re-poll its pages.
    Trap {
        patch: Vec<(Page, String, serde_json::Value)>,
        pages: Vec<Page>,
        ack: Option<i64>,
    },
    /// A command from MQTT: validate, SET, read back, answer, audit.
    Command(crate::command::Request),
}

/// How a command ended, if not with "ok".
enum Outcome {
    /// Waiting for the confirmation of a power-cutting command.
    Armed(String),
    Failed {
        kind: &'static str,
        message: String,
    },
}

impl Outcome {
    fn failed(kind: &'static str, message: String) -> Outcome {
        Outcome::Failed { kind, message }
    }
}

/// The agent's refusal, with the likely cause for the usual suspects.
fn describe_set_error(error: &SnmpError, v3: bool) -> String {
    use crate::snmp::ErrorStatus;
    let hint = match error {
        SnmpError::Agent {
            status:
                ErrorStatus::NoAccess | ErrorStatus::AuthorizationError | ErrorStatus::NotWritable,
            ..
        } if v3 => " (the SNMPv3 write_user, or user, needs write access on the card)",
        _ if v3 => "",
        SnmpError::Agent {
            status: ErrorStatus::NoAccess | ErrorStatus::AuthorizationError,
            ..
        } => " (check the UPS's write_community)",
        SnmpError::Agent {
            status: ErrorStatus::NoSuchName | ErrorStatus::ReadOnly,
            ..
        } => " (SNMPv1 agents say this for a wrong write community or a read-only object)",
        SnmpError::Timeout { .. } => {
            " (agents silently ignore a wrong write community: check write_community)"
        }
        _ => "",
    };
    format!("{error}{hint}")
}

/// upsmgAgentTrapAck.0: SET to the trap number to stop resends.
const MGE_TRAP_ACK: &str = "1.3.6.1.4.1.705.1.12.14.0";

/// The per-UPS task: everything that talks to one agent is serialized here,
/// so one dead agent never blocks another.
pub struct UpsTask<S: UpsSink> {
    config: UpsConfig,
    sink: S,
    refresh: Duration,
    ups: Option<Ups>,
    next_due: BTreeMap<Page, tokio::time::Instant>,
    last_refresh: tokio::time::Instant,
    pages: PageTexts,
    provenance: BTreeMap<Page, BTreeMap<String, usize>>,
    /// A digest of the page and column keys discovery was announced for.
    shape: Option<u64>,
    health: Health,
    policy: crate::config::CommandsConfig,
    /// Power-cutting commands waiting for their confirmation.
    armed: std::collections::HashMap<String, tokio::time::Instant>,
    /// Whether the polls were moved to this UPS's [`poll_phase`] (once,
    /// after the first good poll).
    phased: bool,
}

/// Diagnostics published on the health topic.
#[derive(Debug, Default, Clone)]
struct Health {
    online: Option<bool>,
    failures: u32,
    last_good_poll: Option<u64>,
    last_error: Option<String>,
    polls: u64,
    notes: Vec<String>,
}

impl<S: UpsSink> UpsTask<S> {
    /// `refresh`: how often every page is re-published even if unchanged.
    pub fn new(
        config: UpsConfig,
        sink: S,
        refresh: Duration,
        policy: crate::config::CommandsConfig,
    ) -> UpsTask<S> {
        let now = tokio::time::Instant::now();
        UpsTask {
            config,
            sink,
            refresh,
            ups: None,
            next_due: Page::ALL.iter().map(|&p| (p, now)).collect(),
            last_refresh: now,
            pages: PageTexts::default(),
            provenance: BTreeMap::new(),
            shape: None,
            health: Health::default(),
            policy,
            armed: std::collections::HashMap::new(),
            phased: false,
        }
    }

    /// Polls until `stop` turns true; `requests` asks for early polls.
    pub async fn run(
        mut self,
        mut requests: tokio::sync::mpsc::Receiver<UpsRequest>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let span = tracing::info_span!("ups", id = %self.config.id);
        self.run_loop(&mut requests, &mut stop)
            .instrument(span)
            .await;
    }

    async fn run_loop(
        &mut self,
        requests: &mut tokio::sync::mpsc::Receiver<UpsRequest>,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            let due = self.due_pages();
            if due.is_empty() {
                let wake = self
                    .next_due
                    .values()
                    .min()
                    .copied()
                    .unwrap_or_else(tokio::time::Instant::now);
                tokio::select! {
                    _ = tokio::time::sleep_until(wake) => {}
                    request = requests.recv() => match request {
                        Some(request) => self.handle(request).await,
                        None => return,
                    },
                    _ = stop.changed() => return,
                }
                continue;
            }
            tokio::select! {
                _ = self.poll(&due) => {}
                _ = stop.changed() => return,
            }
        }
    }

    async fn handle(&mut self, request: UpsRequest) {
        match request {
            UpsRequest::PollNow(pages) => self.make_due(&pages),
            UpsRequest::Trap { patch, pages, ack } => {
                self.apply_patch(patch);
                if let Some(specific) = ack {
                    self.acknowledge(specific).await;
                }
                self.make_due(&pages);
            }
            UpsRequest::Command(request) => self.execute(request).await,
        }
    }

    /// Runs one command and publishes its response and audit record.
    async fn execute(&mut self, request: crate::command::Request) {
        let time = crate::time::rfc3339(std::time::SystemTime::now());
        let (status, detail, result) = match self.run_command(&request).await {
            Ok(detail) => ("ok", detail, "ok".to_string()),
            Err(Outcome::Armed(message)) => (
                "armed",
                serde_json::json!({ "message": message }),
                "armed".to_string(),
            ),
            Err(Outcome::Failed { kind, message }) => (
                "error",
                serde_json::json!({ "error": message, "kind": kind }),
                format!("{kind}: {message}"),
            ),
        };
        let audit = crate::command::audit(&request, &result, &time);
        if status == "error" {
            tracing::warn!(audit = %audit, "command");
        } else {
            tracing::info!(audit = %audit, "command");
        }
        self.sink
            .response(&crate::command::response(&request, status, detail, &time));
        self.sink.audit(&audit);
    }

    async fn run_command(
        &mut self,
        request: &crate::command::Request,
    ) -> Result<serde_json::Value, Outcome> {
        use crate::command::{self, UpsView};
        let action = request
            .action
            .clone()
            .map_err(|message| Outcome::failed("invalid", message))?;
        let ups = self.ups.as_ref().ok_or_else(|| {
            Outcome::failed("unavailable", "the UPS is not reachable".to_string())
        })?;
        let pages = self.pages.parse();
        let view = UpsView {
            pages: &pages,
            provenance: &self.provenance,
            mibs: &ups.capabilities().mibs,
        };
        let plan = command::plan(&action, &view, &self.policy)
            .map_err(|e| Outcome::failed(e.kind(), e.message().to_string()))?;
        self.confirm(&plan)?;
        let varbinds = self.plan_varbinds(&plan).await?;
        let community = self.config.write_community.clone();
        let ups = self.ups.as_mut().expect("checked above");
        ups.client_mut()
            .set(&community, &varbinds)
            .await
            .map_err(|e| {
                let v3 = self.config.version == crate::snmp::SnmpVersion::V3;
                Outcome::failed("snmp", describe_set_error(&e, v3))
            })?;
        let readback = self.read_back(&plan).await;
        self.make_due(&plan.pages());
        let requested: serde_json::Map<String, serde_json::Value> = plan
            .writes
            .iter()
            .map(|w| (w.path.clone(), w.requested.clone()))
            .collect();
        Ok(
            serde_json::json!({ "command": plan.summary, "requested": requested, "readback": readback }),
        )
    }

    /// The two-step arm for power-cutting commands, when configured.
    fn confirm(&mut self, plan: &crate::command::Plan) -> Result<(), Outcome> {
        let window = Duration::from_secs(self.policy.confirm_seconds);
        if !plan.cuts_power || window.is_zero() {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        self.armed
            .retain(|_, armed_at| now.duration_since(*armed_at) < window);
        let key = plan.arm_key();
        if self.armed.remove(&key).is_some() {
            return Ok(());
        }
        self.armed.insert(key, now);
        Err(Outcome::Armed(format!(
            "this command cuts power: send it again within {} s to confirm",
            window.as_secs()
        )))
    }

    /// The SET varbinds: the plan's writes, or for an RFC 1628 test the
    /// test id with the current spin lock (TestAndIncr) in the same PDU.
    async fn plan_varbinds(
        &mut self,
        plan: &crate::command::Plan,
    ) -> Result<Vec<crate::snmp::VarBind>, Outcome> {
        use crate::mib::commands::{RFC1628_TEST_ID, RFC1628_TEST_SPIN_LOCK};
        let Some(test) = &plan.rfc_test else {
            return Ok(plan
                .writes
                .iter()
                .map(|w| (w.oid.clone(), w.value.clone()))
                .collect());
        };
        let spin_lock = crate::oid::Oid::parse(RFC1628_TEST_SPIN_LOCK)
            .expect("valid")
            .child(0);
        let ups = self.ups.as_mut().expect("connected");
        let current = ups
            .client_mut()
            .get(std::slice::from_ref(&spin_lock))
            .await
            .map_err(|e| Outcome::failed("snmp", e.to_string()))?;
        let value = current.into_iter().next().map(|(_, v)| v).ok_or_else(|| {
            Outcome::failed("snmp", "the agent has no upsTestSpinLock".to_string())
        })?;
        let test_id = crate::oid::Oid::parse(RFC1628_TEST_ID)
            .expect("valid")
            .child(0);
        Ok(vec![
            (test_id, crate::snmp::Value::ObjectId(test.clone())),
            (spin_lock, value),
        ])
    }

    /// GETs what was written, updates the pages at once and returns the
    /// values the UPS reports (published units).
    async fn read_back(
        &mut self,
        plan: &crate::command::Plan,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut readback = serde_json::Map::new();
        let oids: Vec<crate::oid::Oid> = plan.writes.iter().map(|w| w.oid.clone()).collect();
        if oids.is_empty() {
            return readback;
        }
        let ups = self.ups.as_mut().expect("connected");
        let values: BTreeMap<crate::oid::Oid, crate::snmp::Value> =
            match ups.client_mut().get(&oids).await {
                Ok(values) => values.into_iter().collect(),
                Err(error) => {
                    tracing::warn!(%error, "read-back after SET failed");
                    return readback;
                }
            };
        let mut pages = self.pages.parse();
        let mut changed = std::collections::BTreeSet::new();
        for write in &plan.writes {
            let Some(value) = values
                .get(&write.oid)
                .and_then(|v| crate::pages::decode_one(write.source, v))
            else {
                continue;
            };
            readback.insert(write.path.clone(), value.clone());
            if update_cell(&mut pages, write.field, write.index, value) {
                changed.insert(write.field.page);
            }
        }
        self.publish(&mut pages, changed, false);
        self.pages.store(&pages);
        readback
    }

    /// Updates fields a trap states outright, on pages that have them.
    fn apply_patch(&mut self, patch: Vec<(Page, String, serde_json::Value)>) {
        let mut pages = self.pages.parse();
        let mut changed = std::collections::BTreeSet::new();
        for (page, key, value) in patch {
            let Some(json) = pages.get_mut(&page) else {
                continue;
            };
            if let Some(slot) = json.get_mut(&key) {
                if *slot != value {
                    *slot = value;
                    changed.insert(page);
                }
            }
        }
        self.publish(&mut pages, changed, false);
        self.pages.store(&pages);
    }

    /// Publishes `pages` after refreshing the NUT-style status on the
    /// output page (published too when only the status changed).
    fn publish(
        &mut self,
        all: &mut PageMap,
        mut pages: std::collections::BTreeSet<Page>,
        force: bool,
    ) {
        if crate::status::annotate(all) {
            pages.insert(Page::Output);
        }
        for page in pages {
            if let Some(json) = all.get(&page) {
                self.sink.page(page, json, force);
            }
        }
    }

    /// SET upsmgAgentTrapAck.0 = the trap number (MGE cards configured to
    /// resend until acknowledged).
    async fn acknowledge(&mut self, specific: i64) {
        let Some(ups) = self.ups.as_mut() else { return };
        let oid = crate::oid::Oid::parse(MGE_TRAP_ACK).expect("valid OID");
        let community = self.config.write_community.clone();
        if let Err(error) = ups
            .client_mut()
            .set(&community, &[(oid, crate::snmp::Value::Integer(specific))])
            .await
        {
            tracing::warn!(%error, specific, "MGE trap acknowledgement failed");
        }
    }

    fn due_pages(&self) -> Vec<Page> {
        let now = tokio::time::Instant::now();
        self.next_due
            .iter()
            .filter(|(_, due)| **due <= now)
            .map(|(p, _)| *p)
            .collect()
    }

    fn make_due(&mut self, pages: &[Page]) {
        let now = tokio::time::Instant::now();
        for page in pages {
            self.next_due.insert(*page, now);
        }
    }

    /// One poll of the due pages, then their next due times.
    async fn poll(&mut self, due: &[Page]) {
        let started = tokio::time::Instant::now();
        match self.read(due).await {
            Ok(outcomes) => self.on_success(due, outcomes),
            Err(error) => self.on_failure(error),
        }
        let retry = Duration::from_secs(self.config.poll.fast);
        let online = self.health.online == Some(true);
        // The same shift for every page keeps slow pages riding along with
        // a fast poll.
        let phase = if online && !self.phased {
            self.phased = true;
            poll_phase(&self.config.id, retry)
        } else {
            Duration::ZERO
        };
        for &page in due {
            let interval = if online {
                self.config.poll.interval(page)
            } else {
                retry.min(self.config.poll.interval(page))
            };
            self.next_due.insert(page, started + interval + phase);
        }
        self.publish_health();
    }

    async fn read(&mut self, due: &[Page]) -> Result<BTreeMap<Page, PageOutcome>, UpsError> {
        if self.ups.is_none() {
            let ups = Ups::connect(&self.config).await?;
            tracing::info!(mibs = ?ups.capabilities().mibs, "agent detected");
            self.ups = Some(ups);
        }
        let ups = self.ups.as_mut().expect("connected above");
        Ok(ups.read(due).await?)
    }

    fn on_success(&mut self, due: &[Page], mut outcomes: BTreeMap<Page, PageOutcome>) {
        let refresh = self.last_refresh.elapsed() >= self.refresh;
        if refresh {
            self.last_refresh = tokio::time::Instant::now();
        }
        self.health.notes.clear();
        let mut pages = self.pages.parse();
        let mut read = std::collections::BTreeSet::new();
        for &page in due {
            match outcomes.remove(&page) {
                Some(outcome) => {
                    self.health.notes.extend(outcome.notes);
                    pages.insert(page, outcome.json);
                    self.provenance.insert(page, outcome.provenance);
                    read.insert(page);
                }
                None => {
                    if pages.remove(&page).is_some() {
                        self.sink.page_gone(page);
                    }
                }
            }
        }
        // A refresh re-publishes every page, not only those read now: fast
        // pages must not wait for the next refresh (HA's expire_after).
        let publish = if refresh {
            pages.keys().copied().collect()
        } else {
            read
        };
        self.publish(&mut pages, publish, refresh);
        self.announce_shape_if_changed(&pages, due);
        self.pages.store(&pages);
        self.health.failures = 0;
        self.health.last_error = None;
        self.health.polls += 1;
        self.health.last_good_poll = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs());
        if self.health.online != Some(true) {
            self.health.online = Some(true);
            self.sink.availability(true);
        }
    }

    /// Discovery follows the fields the UPS really has: announced after the
    /// first read of all pages, again whenever a field or table row appears
    /// or goes.
    fn announce_shape_if_changed(&mut self, pages: &PageMap, due: &[Page]) {
        if self.shape.is_none() && due.len() < Page::ALL.len() {
            return;
        }
        let shape = shape_digest(pages);
        if self.shape != Some(shape) {
            self.sink.shape(pages);
            self.shape = Some(shape);
        }
    }

    fn on_failure(&mut self, error: UpsError) {
        self.health.failures += 1;
        tracing::warn!(failures = self.health.failures, %error, "poll failed");
        self.health.last_error = Some(error.to_string());
        if self.health.failures >= self.config.offline_after && self.health.online != Some(false) {
            self.health.online = Some(false);
            self.sink.availability(false);
            // Re-detect the MIBs when the agent comes back (it may have
            // been replaced or reconfigured).
            self.ups = None;
        }
    }

    fn publish_health(&mut self) {
        let stats = self.ups.as_ref().map(|u| u.client().stats().clone());
        let mibs: Vec<&str> = self
            .ups
            .iter()
            .flat_map(|u| u.served_mibs())
            .map(|m| m.name())
            .collect();
        let health = serde_json::json!({
            "online": self.health.online.unwrap_or(false),
            "mibs": mibs,
            "consecutive_failures": self.health.failures,
            "last_error": self.health.last_error,
            "last_good_poll": self.health.last_good_poll,
            "polls": self.health.polls,
            "rtt_ms": stats.as_ref().and_then(|s| s.last_rtt).map(|d| (d.as_secs_f64() * 10_000.0).round() / 10.0),
            "requests": stats.as_ref().map(|s| s.requests),
            "retransmissions": stats.as_ref().map(|s| s.retransmissions),
            "timeouts": stats.as_ref().map(|s| s.timeouts),
            "notes": self.health.notes,
        });
        self.sink.health(&health);
    }
}

/// Where in the fast interval a UPS's polls fall: a fixed fraction of it,
/// from the UPS id. UPSes started together (a gateway's start, a broker
/// back) would otherwise poll in the same instant every interval, and a
/// trap or command arriving then would wait behind hundreds of polls.
pub fn poll_phase(ups_id: &str, fast: Duration) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    ups_id.hash(&mut hasher);
    fast.mul_f64((hasher.finish() % 1000) as f64 / 1000.0)
}

/// The pages of one UPS, parsed.
type PageMap = BTreeMap<Page, serde_json::Map<String, serde_json::Value>>;

/// One UPS's latest pages, kept as their JSON text and parsed around a poll,
/// a trap or a command: with every page, ~8 kB per UPS where the parsed
/// trees took ~60 kB (the gateway holds 500 UPSes in under 64 MiB).
#[derive(Debug, Default)]
struct PageTexts(BTreeMap<Page, Box<str>>);

impl PageTexts {
    fn parse(&self) -> PageMap {
        self.0
            .iter()
            .filter_map(|(&page, text)| Some((page, serde_json::from_str(text).ok()?)))
            .collect()
    }

    fn store(&mut self, pages: &PageMap) {
        self.0 = pages
            .iter()
            .map(|(&page, json)| (page, json_text(json).into()))
            .collect();
    }
}

/// Sets one page field or table cell; true if it changed.
fn update_cell(
    pages: &mut PageMap,
    field: &crate::mib::Field,
    index: Option<u32>,
    value: serde_json::Value,
) -> bool {
    let Some(page) = pages.get_mut(&field.page) else {
        return false;
    };
    let slot = match (field.table, index) {
        (None, None) => page.get_mut(field.key),
        (Some(table), Some(index)) => page
            .get_mut(table)
            .and_then(|rows| rows.as_array_mut())
            .and_then(|rows| {
                rows.iter_mut()
                    .find(|row| row.get("index").and_then(|i| i.as_u64()) == Some(u64::from(index)))
            })
            .and_then(|row| row.get_mut(field.key)),
        _ => None,
    };
    match slot {
        Some(slot) if *slot != value => {
            *slot = value;
            true
        }
        _ => false,
    }
}

/// A page's JSON text (a map of JSON values always serializes).
pub fn json_text(json: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string(json).expect("a JSON map serializes")
}

/// A digest of the keys of every page and of their table rows: what
/// discovery depends on (a digest, not the keys: 500 UPSes would otherwise
/// keep 5 MB of key strings to compare against).
fn shape_digest(pages: &BTreeMap<Page, serde_json::Map<String, serde_json::Value>>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    for (page, json) in pages {
        page.hash(&mut hasher);
        for (key, value) in json {
            key.hash(&mut hasher);
            for row in value.as_array().into_iter().flatten() {
                row.get("index").map(ToString::to_string).hash(&mut hasher);
                for column in row.as_object().into_iter().flat_map(|r| r.keys()) {
                    column.hash(&mut hasher);
                }
            }
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_phases_spread_upses_over_the_fast_interval() {
        let fast = Duration::from_secs(10);
        let mut per_second = [0u32; 10];
        for i in 0..500 {
            let phase = poll_phase(&format!("ups{i:03}"), fast);
            assert!(phase < fast);
            assert_eq!(phase, poll_phase(&format!("ups{i:03}"), fast), "stable");
            per_second[phase.as_secs() as usize] += 1;
        }
        // 50 per second if even; no second gets a burst.
        assert!(
            per_second.iter().all(|&n| (25..=75).contains(&n)),
            "{per_second:?}"
        );
    }
}
