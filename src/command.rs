//! Commands: MQTT command topics and request JSON → a validated SET plan.
//!
//! This module owns the command vocabulary (`.../<page>/<key>/set` raw
//! values, `.../command` named commands, `.../request` JSON with a
//! transaction id), validation against the point table and what this UPS
//! really serves (the field exists here, is writable, the value has the
//! right type and is legal), the safety policy (read-only mode, allow
//! lists, power-cutting writes), and the response and audit records. It
//! owns no socket: the UPS task executes the plan (one SET PDU, read-back)
//! and publishes what this module builds.

use crate::config::CommandsConfig;
use crate::messages::{Audit, FailureKind, Response};
use crate::mib::commands::{self as named, Arg};
use crate::mib::{self, Access, Decode, Field, Legal, Page, Source};
use crate::model::{Model, Resolved, Shape};
use crate::oid::Oid;
use crate::pages;
use crate::snmp::Value;
use crate::topics::{Naming, Topic, Unparsed};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

/// What was asked, before validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Field paths (`config.beeper`, `control.outlet_groups.2.command`) and
    /// values, written in one PDU.
    Set(Vec<(String, Json)>),
    /// A named command (`test.battery.start`, `outlet.2.load.off`).
    Named(String),
}

/// Which of the gateway's interfaces a command came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Mqtt,
    Nut,
}

impl Via {
    pub const ALL: [Via; 2] = [Via::Mqtt, Via::Nut];

    pub fn as_str(self) -> &'static str {
        match self {
            Via::Mqtt => "mqtt",
            Via::Nut => "nut",
        }
    }
}

/// A command as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub ups_id: String,
    /// The topic it came on (the NUT client's address for NUT).
    pub origin: String,
    pub via: Via,
    pub transaction: Option<Json>,
    /// Free text the sender may add (`"who": "node-red flow 3"`).
    pub who: Option<String>,
    pub action: Result<Action, String>,
}

/// Parses a message on one of the command topics; `None` for any other
/// topic. A malformed payload still gives a request (with an error
/// action), so it gets an error response.
pub fn parse(naming: &Naming, topic: &str, payload: &[u8]) -> Option<Request> {
    from_topic(naming.parse(topic), topic, payload)
}

/// The request a message on a parsed topic makes, if it is a command topic.
pub fn from_topic(
    parsed: Result<Topic, Unparsed>,
    origin: &str,
    payload: &[u8],
) -> Option<Request> {
    let text = || String::from_utf8_lossy(payload).trim().to_string();
    let set = |path: String| Ok(Action::Set(vec![(path, Json::String(text()))]));
    let (ups_id, transaction, who, action) = match parsed {
        Ok(Topic::Command { ups }) => (ups, None, None, named_action(&text())),
        Ok(Topic::Request { ups }) => {
            let (transaction, who, action) = parse_request_json(payload);
            (ups, transaction, who, action)
        }
        Ok(Topic::Set { ups, page, key }) => (ups, None, None, set(format!("{page}.{key}"))),
        Ok(Topic::SetCell {
            ups,
            page,
            table,
            index,
            key,
        }) => (
            ups,
            None,
            None,
            set(format!("{page}.{table}.{index}.{key}")),
        ),
        // Planning refuses the path with its usual error.
        Err(Unparsed::BadSet { ups, path }) => (ups, None, None, set(path)),
        Ok(_) | Err(Unparsed::Foreign) => return None,
    };
    Some(Request {
        ups_id,
        origin: origin.to_string(),
        via: Via::Mqtt,
        transaction,
        who,
        action,
    })
}

fn named_action(text: &str) -> Result<Action, String> {
    if text.is_empty() {
        Err("empty command".to_string())
    } else {
        Ok(Action::Named(text.to_string()))
    }
}

fn parse_request_json(payload: &[u8]) -> (Option<Json>, Option<String>, Result<Action, String>) {
    let json: Json = match serde_json::from_slice(payload) {
        Ok(json) => json,
        Err(e) => return (None, None, Err(format!("request is not JSON: {e}"))),
    };
    let Some(object) = json.as_object() else {
        return (None, None, Err("request must be a JSON object".to_string()));
    };
    let transaction = object.get("transaction").cloned();
    let who = object.get("who").and_then(Json::as_str).map(str::to_string);
    let unknown: Vec<&String> = object
        .keys()
        .filter(|k| !["transaction", "who", "set", "command"].contains(&k.as_str()))
        .collect();
    let action = match (object.get("set"), object.get("command"), unknown.first()) {
        (_, _, Some(key)) => Err(format!(
            "unknown request key {key:?} (transaction, who, set, command)"
        )),
        (Some(Json::Object(set)), None, None) if !set.is_empty() => Ok(Action::Set(
            set.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        )),
        (Some(_), None, None) => {
            Err("\"set\" must be a non-empty object of \"<page>.<field>\": value".to_string())
        }
        (None, Some(Json::String(name)), None) => named_action(name),
        (None, Some(_), None) => Err("\"command\" must be a string".to_string()),
        (Some(_), Some(_), None) => {
            Err("a request has either \"set\" or \"command\", not both".to_string())
        }
        (None, None, None) => Err("a request needs \"set\" or \"command\"".to_string()),
    };
    (transaction, who, action)
}

/// What a UPS really has, for validation: its model (fields, the source
/// serving each, readings) and shape (resolved commands, outlets).
pub struct UpsView<'a> {
    pub model: &'a Model,
    pub shape: &'a Shape,
}

/// One varbind of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// `page.key` or `page.table.index.key`.
    pub path: String,
    pub field: &'static Field,
    pub source: &'static Source,
    /// Table row, for cells.
    pub index: Option<u32>,
    pub oid: Oid,
    pub value: Value,
    /// The value as the sender meant it (published units).
    pub requested: Json,
}

/// A validated command: one SET PDU.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub writes: Vec<Write>,
    /// RFC 1628 test to start: `upsTestId` = this OID with the current
    /// `upsTestSpinLock` in the same PDU.
    pub rfc_test: Option<Oid>,
    /// Whether it cuts power to the load or changes whether, when or at
    /// what voltage the load is powered (dangerous by the policy).
    pub cuts_power: bool,
    /// Why it is dangerous, worded for its safety class ("cuts power to
    /// the load", "changes whether, when or at what voltage the load is
    /// powered"); empty when it is not.
    pub danger: &'static str,
    /// What was asked, for responses and the audit.
    pub summary: Json,
}

impl Plan {
    /// Pages to re-read after the SET.
    pub fn pages(&self) -> Vec<Page> {
        let mut pages: BTreeSet<Page> = self
            .writes
            .iter()
            .flat_map(|w| w.field.page.changed_by_writes())
            .copied()
            .collect();
        if self.rfc_test.is_some() {
            pages.extend(Page::Test.changed_by_writes());
        }
        pages.into_iter().collect()
    }

    /// A stable key for the two-step arm: the same command twice.
    pub fn arm_key(&self) -> String {
        self.summary.to_string()
    }
}

/// Why a command was not executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The request itself is wrong (unknown field, bad value, ...).
    #[error("{0}")]
    Invalid(String),
    /// The safety policy says no.
    #[error("refused: {0}")]
    Refused(String),
}

impl CommandError {
    /// The reason without the kind prefix (responses carry `kind` apart).
    pub fn message(&self) -> &str {
        match self {
            CommandError::Invalid(m) | CommandError::Refused(m) => m,
        }
    }

    pub fn kind(&self) -> FailureKind {
        match self {
            CommandError::Invalid(_) => FailureKind::Invalid,
            CommandError::Refused(_) => FailureKind::Refused,
        }
    }
}

fn invalid(message: impl Into<String>) -> CommandError {
    CommandError::Invalid(message.into())
}

/// Validates an action against the UPS and the policy.
pub fn plan(
    action: &Action,
    view: &UpsView,
    policy: &CommandsConfig,
) -> Result<Plan, CommandError> {
    if policy.read_only {
        return Err(CommandError::Refused(
            "commands are disabled (read-only mode)".to_string(),
        ));
    }
    let plan = match action {
        Action::Set(items) => plan_set(items, view)?,
        Action::Named(name) => plan_named(name, view)?,
    };
    check_allowed(&plan, action, policy)?;
    let plan = on_battery_rule(plan, view.model);
    if plan.cuts_power && !policy.dangerous {
        return Err(CommandError::Refused(format!(
            "{}; enable commands.dangerous to allow it",
            plan.danger
        )));
    }
    Ok(plan)
}

fn check_allowed(
    plan: &Plan,
    action: &Action,
    policy: &CommandsConfig,
) -> Result<(), CommandError> {
    if policy.allow.is_empty() {
        return Ok(());
    }
    let allowed = |field: &Field| {
        policy
            .allow
            .iter()
            .any(|entry| *entry == field.page.name() || *entry == field.path())
    };
    let named_allowed = matches!(action, Action::Named(name) if policy.allow.contains(name));
    let test_allowed = plan.rfc_test.is_none()
        || policy
            .allow
            .iter()
            .any(|e| e == "test" || e == "test.start");
    if named_allowed || (plan.writes.iter().all(|w| allowed(w.field)) && test_allowed) {
        Ok(())
    } else {
        Err(CommandError::Refused(format!(
            "not in this UPS's allow list {:?}",
            policy.allow
        )))
    }
}

fn plan_set(items: &[(String, Json)], view: &UpsView) -> Result<Plan, CommandError> {
    let writes = items
        .iter()
        .map(|(path, value)| plan_write(path, value, view))
        .collect::<Result<Vec<_>, _>>()?;
    let summary =
        json!({ "set": items.iter().map(|(p, v)| (p.clone(), v.clone())).collect::<Map<_, _>>() });
    Ok(finish(writes, None, summary))
}

fn finish(writes: Vec<Write>, rfc_test: Option<Oid>, summary: Json) -> Plan {
    let dangerous: Vec<&Write> = writes
        .iter()
        .filter(|w| {
            w.value
                .as_i64()
                .is_some_and(|raw| w.source.cuts_power.includes(raw))
        })
        .collect();
    let danger = danger_text(&dangerous);
    Plan {
        cuts_power: !dangerous.is_empty(),
        danger,
        writes,
        rfc_test,
        summary,
    }
}

/// The state rule of the policy: a test that discharges the battery (a
/// battery or self test, a calibration) started while the UPS is on
/// battery can drop the load, so it is dangerous then.
fn on_battery_rule(mut plan: Plan, model: &Model) -> Plan {
    let starts_a_test = plan
        .writes
        .iter()
        .any(|w| named::TEST_STARTS.contains(&w.field.path().as_str()) && !is_stop(w))
        || plan
            .rfc_test
            .as_ref()
            .is_some_and(|oid| oid.arcs().last() != Some(&named::RFC1628_ABORT_TEST));
    if starts_a_test && model.status().contains(&"OB") {
        plan.cuts_power = true;
        plan.danger = "a test started while the UPS is on battery can drop the load";
    }
    plan
}

/// A write that stops rather than starts (`cancel_calibration`).
fn is_stop(write: &Write) -> bool {
    write
        .requested
        .as_str()
        .is_some_and(|label| label.starts_with("cancel"))
}

/// The refusal reason of dangerous writes, by safety class: a setting
/// every value of which is power-affecting (transfer points, schedules,
/// thresholds) changes how the load is powered; a test may drop it; any
/// other (UPS or outlet off, reboot, shutdown countdowns) cuts power.
fn danger_text(dangerous: &[&Write]) -> &'static str {
    let setting = |w: &&Write| matches!(w.source.cuts_power, mib::CutsPower::AllBut([]));
    if dangerous.is_empty() {
        ""
    } else if dangerous.iter().all(|w| w.field.page == Page::Test) {
        "this test can drop the load"
    } else if dangerous.iter().all(setting) {
        "this setting changes whether, when or at what voltage the load is powered"
    } else {
        "this command cuts power to the load"
    }
}

/// `page.key` or `page.table.index.key` → field and row.
fn resolve_path(path: &str) -> Result<(&'static Field, Option<u32>), CommandError> {
    let parts: Vec<&str> = path.split('.').collect();
    let (field, index) = match parts.as_slice() {
        [page, key] => (mib::field_by_path(&format!("{page}.{key}")), None),
        [page, table, index, key] => {
            let index: u32 = index
                .parse()
                .map_err(|_| invalid(format!("{path}: row index {index:?} is not a number")))?;
            (
                mib::field_by_path(&format!("{page}.{table}.{key}")),
                Some(index),
            )
        }
        [page, table, key] if mib::field_by_path(&format!("{page}.{table}.{key}")).is_some() => {
            return Err(invalid(format!(
                "{path}: a table field needs its row: {page}.{table}.<index>.{key}"
            )));
        }
        _ => (None, None),
    };
    field
        .map(|f| (f, index))
        .ok_or_else(|| invalid(format!("unknown field {path:?}")))
}

fn plan_write(path: &str, value: &Json, view: &UpsView) -> Result<Write, CommandError> {
    let (field, index) = resolve_path(path)?;
    if view.model.reading(field, index).is_none() {
        return Err(invalid(format!("{path}: this UPS has no such field")));
    }
    let source = view
        .model
        .source_of(field)
        .filter(|s| s.is_writable())
        .ok_or_else(|| invalid(format!("{path}: read-only on this UPS")))?;
    let canonical = coerce(path, field, source, value)?;
    let wire =
        pages::encode_value(source, &canonical).map_err(|e| invalid(format!("{path}: {e}")))?;
    Ok(Write {
        path: path.to_string(),
        field,
        source,
        index,
        oid: source.instance(index.unwrap_or(0)),
        value: wire,
        requested: canonical,
    })
}

/// A value as sent (HA sends text) → the canonical JSON of the field, with
/// its legality checked.
fn coerce(path: &str, field: &Field, source: &Source, value: &Json) -> Result<Json, CommandError> {
    let Access::ReadWrite(legal) = source.access else {
        return Err(invalid(format!("{path}: read-only")));
    };
    let text = value.as_str().map(str::trim);
    let canonical = match source.decode {
        Decode::Number { .. } => {
            let x = value
                .as_f64()
                .or_else(|| text.and_then(|t| t.parse::<f64>().ok()))
                .filter(|x| x.is_finite())
                .ok_or_else(|| invalid(format!("{path}: expects a number, got {value}")))?;
            if let Legal::Range { min, max } = legal {
                if x < min || x > max {
                    let unit = field.unit.map_or("", |u| u.symbol());
                    return Err(invalid(format!(
                        "{path}: {x} is out of range {min}..{max} {unit}"
                    )));
                }
            }
            serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
        }
        Decode::Enum(labels) => {
            let label = text
                .map(str::to_string)
                .or_else(|| {
                    value
                        .as_i64()
                        .and_then(|raw| source.decode.label(raw))
                        .map(str::to_string)
                })
                .ok_or_else(|| {
                    invalid(format!("{path}: expects one of the labels, got {value}"))
                })?;
            let raw = source.decode.raw_of_label(&label);
            let legal_raws: Vec<i64> = match legal {
                Legal::Labels(raws) => raws.to_vec(),
                _ => labels.iter().map(|(v, _)| *v).collect(),
            };
            if !raw.is_some_and(|r| legal_raws.contains(&r)) {
                let names: Vec<&str> = legal_raws
                    .iter()
                    .filter_map(|r| source.decode.label(*r))
                    .collect();
                return Err(invalid(format!(
                    "{path}: {label:?} is not one of {}",
                    names.join(", ")
                )));
            }
            Json::String(label)
        }
        Decode::Flag { .. } => {
            let on = match (value, text.map(str::to_ascii_lowercase).as_deref()) {
                (Json::Bool(b), _) => *b,
                (_, Some("on" | "true" | "1" | "yes")) => true,
                (_, Some("off" | "false" | "0" | "no")) => false,
                (Json::Number(n), _) if n.as_i64() == Some(1) => true,
                (Json::Number(n), _) if n.as_i64() == Some(0) => false,
                _ => {
                    return Err(invalid(format!(
                        "{path}: expects ON/OFF or true/false, got {value}"
                    )));
                }
            };
            Json::Bool(on)
        }
        Decode::Text => {
            let text = match value {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                other => return Err(invalid(format!("{path}: expects text, got {other}"))),
            };
            if let Legal::Text { max_len } = legal {
                if text.len() > max_len {
                    return Err(invalid(format!(
                        "{path}: {} bytes is longer than {max_len}",
                        text.len()
                    )));
                }
            }
            Json::String(text)
        }
        Decode::Alarm | Decode::ObjectId | Decode::Vendor => {
            return Err(invalid(format!("{path}: not writable")));
        }
    };
    Ok(canonical)
}

fn plan_named(name: &str, view: &UpsView) -> Result<Plan, CommandError> {
    let summary = json!({ "command": name });
    if let Some((index, verb)) = parse_outlet(name) {
        let outlet = view
            .shape
            .outlet(index)
            .ok_or_else(|| invalid(format!("{name}: this UPS has no switchable outlet {index}")))?;
        let (column, label) = outlet
            .kind
            .action(verb)
            .expect("parse_outlet checked the verb");
        let path = format!("control.{}.{index}.{column}", outlet.kind.control);
        let write = plan_write(&path, &Json::String(label.to_string()), view)?;
        return Ok(finish(vec![write], None, summary));
    }
    if named::command_by_name(name).is_none() {
        return Err(invalid(format!(
            "unknown command {name:?}; this UPS has: {}",
            view.shape.command_names().join(", ")
        )));
    }
    let resolved = view
        .shape
        .command(name)
        .ok_or_else(|| invalid(format!("{name}: not supported by this UPS")))?;
    match resolved.how {
        Resolved::Set { slot, arg } => {
            let value = match arg {
                Arg::Label(label) => Json::String(label.to_string()),
                Arg::Number(n) => Json::from(n),
            };
            let write = plan_write(&slot.field.path(), &value, view)?;
            Ok(finish(vec![write], None, summary))
        }
        Resolved::RfcTest { test } => {
            let oid = Oid::parse(named::RFC1628_WELL_KNOWN_TESTS)
                .expect("valid")
                .child(test);
            Ok(finish(Vec::new(), Some(oid), summary))
        }
    }
}

/// `outlet.<index>.load.<on|off|cycle>`.
fn parse_outlet(name: &str) -> Option<(u32, &str)> {
    let rest = name.strip_prefix("outlet.")?;
    let (index, verb) = rest.split_once(".load.")?;
    let verb = ["on", "off", "cycle"].into_iter().find(|v| *v == verb)?;
    Some((index.parse().ok()?, verb))
}

/// An executed command: what was asked and what the UPS reports after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    pub command: Json,
    pub requested: Map<String, Json>,
    pub readback: Map<String, Json>,
}

/// How a command's execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Executed: what was asked and what the UPS reports after it.
    Done(Box<Done>),
    /// Waiting for the confirmation of a power-cutting command.
    Armed(String),
    Failed {
        kind: FailureKind,
        message: String,
    },
}

impl Outcome {
    pub fn failed(kind: FailureKind, message: impl Into<String>) -> Outcome {
        Outcome::Failed {
            kind,
            message: message.into(),
        }
    }

    /// The audit's `result`: `ok`, `armed` or `<kind>: <message>`.
    pub fn result(&self) -> String {
        match self {
            Outcome::Failed { kind, message } => format!("{}: {message}", kind.as_str()),
            done_or_armed => done_or_armed.name().to_string(),
        }
    }

    /// `ok`, `armed` or the failure kind: one of [`Outcome::NAMES`].
    pub fn name(&self) -> &'static str {
        Outcome::NAMES[self.index()]
    }

    /// Every [`Outcome::name`], in [`Outcome::index`] order.
    pub const NAMES: [&'static str; 2 + FailureKind::ALL.len()] = {
        let mut names = ["ok", "armed", "", "", "", "", "", ""];
        let mut at = 0;
        while at < FailureKind::ALL.len() {
            names[2 + at] = FailureKind::ALL[at].as_str();
            at += 1;
        }
        names
    };

    /// Where `name` is in [`Outcome::NAMES`].
    pub fn name_index(name: &str) -> Option<usize> {
        Outcome::NAMES.iter().position(|n| *n == name)
    }

    fn index(&self) -> usize {
        match self {
            Outcome::Done(_) => 0,
            Outcome::Armed(_) => 1,
            Outcome::Failed { kind, .. } => {
                2 + FailureKind::ALL.iter().position(|k| k == kind).unwrap_or(0)
            }
        }
    }
}

/// How many commands one UPS got, by interface and outcome (shared by
/// everything that answers a command: the UPS task, and the gateway and
/// the hub when they answer `busy` or `too_large` themselves).
#[derive(Debug, Default)]
pub struct CommandCounts {
    counts: [[AtomicU64; Outcome::NAMES.len()]; Via::ALL.len()],
}

impl CommandCounts {
    pub fn count(&self, via: Via, outcome: &Outcome) {
        self.counts[via as usize][outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// The count of one interface and the [`Outcome::NAMES`] entry at `at`.
    pub fn get_at(&self, via: Via, at: usize) -> u64 {
        self.counts[via as usize]
            .get(at)
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }

    /// Every interface's counts, by outcome name.
    pub fn all(&self) -> impl Iterator<Item = (Via, &'static str, u64)> + '_ {
        Via::ALL.into_iter().flat_map(move |via| {
            Outcome::NAMES
                .iter()
                .zip(&self.counts[via as usize])
                .map(move |(name, n)| (via, *name, n.load(Ordering::Relaxed)))
        })
    }
}

/// The response to a command.
pub fn response(request: &Request, outcome: &Outcome, time: &str) -> Response {
    let transaction = request.transaction.clone();
    let time = time.to_string();
    match outcome {
        Outcome::Done(done) => Response::done(
            transaction,
            time,
            done.command.clone(),
            done.requested.clone(),
            done.readback.clone(),
        ),
        Outcome::Armed(message) => Response::armed(transaction, time, message.clone()),
        Outcome::Failed { kind, message } => {
            Response::failed(transaction, time, *kind, message.clone())
        }
    }
}

/// The audit record of a command, accepted or refused.
pub fn audit(request: &Request, outcome: &Outcome, time: &str) -> Audit {
    let what = match &request.action {
        Ok(Action::Set(items)) => {
            json!({ "set": items.iter().map(|(p, v)| (p.clone(), v.clone())).collect::<Map<_, _>>() })
        }
        Ok(Action::Named(name)) => json!({ "command": name }),
        Err(error) => json!({ "malformed": error }),
    };
    Audit {
        time: time.to_string(),
        ups: request.ups_id.clone(),
        origin: request.origin.clone(),
        who: request.who.clone(),
        transaction: request.transaction.clone(),
        what,
        result: outcome.result(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mib::Mib;
    use crate::pages::{ScaleOverrides, Snapshot};

    fn naming() -> Naming {
        Naming::new("gw", "ups2mqtt", "homeassistant")
    }

    #[test]
    fn commands_are_counted_by_interface_and_outcome() {
        assert_eq!(
            Outcome::NAMES,
            [
                "ok",
                "armed",
                "invalid",
                "refused",
                "unavailable",
                "snmp",
                "busy",
                "too_large"
            ]
        );
        let counts = CommandCounts::default();
        let busy = Outcome::failed(FailureKind::Busy, "full");
        counts.count(Via::Mqtt, &busy);
        counts.count(Via::Mqtt, &busy);
        counts.count(Via::Nut, &Outcome::Armed("again".into()));
        assert_eq!(busy.name(), "busy");
        assert_eq!(busy.result(), "busy: full");
        let at = |name| Outcome::name_index(name).expect("an outcome name");
        assert_eq!(counts.get_at(Via::Mqtt, at("busy")), 2);
        assert_eq!(counts.get_at(Via::Nut, at("busy")), 0);
        assert_eq!(counts.get_at(Via::Nut, at("armed")), 1);
        let all: Vec<(Via, &str, u64)> = counts.all().filter(|(_, _, n)| *n > 0).collect();
        assert_eq!(all, [(Via::Mqtt, "busy", 2), (Via::Nut, "armed", 1)]);
        assert_eq!(counts.all().count(), 16, "every interface and outcome");
    }

    #[test]
    fn topics_parse_into_actions() {
        let n = naming();
        let set = parse(&n, "ups2mqtt/r1/config/beeper/set", b" muted ").unwrap();
        assert_eq!(set.ups_id, "r1");
        assert_eq!(
            set.action,
            Ok(Action::Set(vec![("config.beeper".into(), json!("muted"))]))
        );
        let cell = parse(
            &n,
            "ups2mqtt/r1/control/outlet_groups/2/command/set",
            b"immediate_on",
        )
        .unwrap();
        assert_eq!(
            cell.action,
            Ok(Action::Set(vec![(
                "control.outlet_groups.2.command".into(),
                json!("immediate_on")
            )]))
        );
        let named = parse(&n, "ups2mqtt/r1/command", b"test.battery.start").unwrap();
        assert_eq!(named.action, Ok(Action::Named("test.battery.start".into())));
        let request = parse(
            &n,
            "ups2mqtt/r1/request",
            br#"{"transaction":"a","who":"me","command":"beeper.mute"}"#,
        )
        .unwrap();
        assert_eq!(
            (request.transaction, request.who),
            (Some(json!("a")), Some("me".to_string()))
        );
        assert!(parse(&n, "ups2mqtt/r1/battery", b"{}").is_none());
        assert!(parse(&n, "other/r1/command", b"x").is_none());
        for (payload, error) in [
            (&b"[]"[..], "JSON object"),
            (b"{\"set\":{}}", "non-empty"),
            (b"{\"transaction\":1}", "needs"),
            (b"{\"command\":1}", "string"),
            (b"{\"sett\":{}}", "unknown request key"),
        ] {
            let action = parse(&n, "ups2mqtt/r1/request", payload).unwrap().action;
            assert!(
                action.unwrap_err().contains(error),
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    /// A card serving RFC 1628 config + PowerNet outlet control.
    fn model() -> Model {
        let oid = |s: &str| Oid::parse(s).unwrap();
        let data: Snapshot = [
            ("1.3.6.1.2.1.33.1.9.8.0", Value::Integer(2)),
            ("1.3.6.1.2.1.33.1.9.7.0", Value::Integer(3)),
            ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(90)),
            ("1.3.6.1.4.1.318.1.1.1.12.3.2.1.3.1", Value::Integer(1)),
            ("1.3.6.1.4.1.318.1.1.1.12.3.2.1.3.2", Value::Integer(1)),
        ]
        .into_iter()
        .map(|(o, v)| (oid(o), v))
        .collect();
        let mibs = BTreeSet::from([Mib::Rfc1628, Mib::PowerNet]);
        Model::from_snapshot(mibs, &data, &ScaleOverrides::new())
    }

    fn plan_of(action: Action, policy: &CommandsConfig) -> Result<Plan, CommandError> {
        let mut model = model();
        let shape = model.shape();
        let view = UpsView {
            model: &model,
            shape: &shape,
        };
        plan(&action, &view, policy)
    }

    fn set(path: &str, value: Json) -> Action {
        Action::Set(vec![(path.to_string(), value)])
    }

    #[test]
    fn values_are_validated_and_scaled_back_to_the_mib() {
        // The low-battery runtime decides when the load is cut: a dangerous
        // write, allowed here so that validation and scaling are tested.
        let policy = CommandsConfig {
            dangerous: true,
            ..CommandsConfig::default()
        };
        let plan = plan_of(set("config.low_battery_runtime", json!("240")), &policy).unwrap();
        assert_eq!(plan.writes[0].oid.to_string(), "1.3.6.1.2.1.33.1.9.7.0");
        assert_eq!(
            plan.writes[0].value,
            Value::Integer(4),
            "240 s = 4 minutes on RFC 1628"
        );
        assert!(plan.cuts_power);
        let errors = [
            (
                set("config.low_battery_runtime", json!("abc")),
                "expects a number",
            ),
            (
                set("config.low_battery_runtime", json!(99_999)),
                "out of range",
            ),
            (set("config.beeper", json!("loud")), "not one of"),
            (set("battery.charge", json!(50)), "read-only"),
            (
                set("config.low_battery_level", json!(20)),
                "has no such field",
            ),
            (
                set("control.outlet_groups.command", json!("immediate_on")),
                "needs its row",
            ),
            (
                set("control.outlet_groups.9.command", json!("immediate_on")),
                "has no such field",
            ),
            (
                set("control.outlet_groups.1.command", json!("unknown")),
                "not one of",
            ),
            (
                Action::Named("outlet.7.load.on".into()),
                "no switchable outlet 7",
            ),
            (Action::Named("bogus".into()), "unknown command"),
        ];
        for (action, expected) in errors {
            let error = plan_of(action.clone(), &policy).unwrap_err().to_string();
            assert!(error.contains(expected), "{action:?}: {error}");
        }
    }

    #[test]
    fn refusals_say_what_the_write_would_do() {
        // upsConfigLowBattTime decides when the load is cut: a setting, it
        // cuts no power itself.
        let refused = plan_of(
            set("config.low_battery_runtime", json!(240)),
            &CommandsConfig::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            refused
                .contains("setting changes whether, when or at what voltage the load is powered")
                && !refused.contains("cuts power"),
            "{refused}"
        );
        let refused = plan_of(
            Action::Named("outlet.2.load.off".into()),
            &CommandsConfig::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(refused.contains("cuts power to the load"), "{refused}");
    }

    #[test]
    fn a_battery_test_on_battery_is_dangerous() {
        // RFC 1628 upsOutputSource: normal(3), battery(5); PowerNet
        // upsAdvTestDiagnostics: testDiagnostics(2) starts a battery test.
        let plan_on = |source: i64, policy: &CommandsConfig| {
            let oid = |s: &str| Oid::parse(s).unwrap();
            let data: Snapshot = [
                ("1.3.6.1.2.1.33.1.4.1.0", Value::Integer(source)),
                ("1.3.6.1.4.1.318.1.1.1.7.2.2.0", Value::Integer(1)),
                ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(90)),
            ]
            .into_iter()
            .map(|(o, v)| (oid(o), v))
            .collect();
            let mibs = BTreeSet::from([Mib::Rfc1628, Mib::PowerNet]);
            let mut model = Model::from_snapshot(mibs, &data, &ScaleOverrides::new());
            let shape = model.shape();
            let view = UpsView {
                model: &model,
                shape: &shape,
            };
            plan(&Action::Named("test.battery.start".into()), &view, policy)
        };
        let on_mains = plan_on(3, &CommandsConfig::default()).unwrap();
        assert!(!on_mains.cuts_power);
        assert_eq!(on_mains.writes[0].value, Value::Integer(2));
        let refused = plan_on(5, &CommandsConfig::default()).unwrap_err();
        assert!(
            matches!(refused, CommandError::Refused(ref m) if m.contains("on battery")),
            "{refused}"
        );
        let dangerous = CommandsConfig {
            dangerous: true,
            ..CommandsConfig::default()
        };
        assert!(plan_on(5, &dangerous).unwrap().cuts_power, "and armed");
    }

    #[test]
    fn the_safety_policy() {
        let off = Action::Named("outlet.2.load.off".into());
        let refused = plan_of(off.clone(), &CommandsConfig::default()).unwrap_err();
        assert!(
            matches!(refused, CommandError::Refused(ref m) if m.contains("cuts power")),
            "{refused}"
        );
        let dangerous = CommandsConfig {
            dangerous: true,
            ..CommandsConfig::default()
        };
        let plan = plan_of(off, &dangerous).unwrap();
        assert!(plan.cuts_power);
        assert_eq!(
            plan.writes[0].oid.to_string(),
            "1.3.6.1.4.1.318.1.1.1.12.3.2.1.3.2"
        );
        assert_eq!(plan.writes[0].value, Value::Integer(2));
        let on = plan_of(
            Action::Named("outlet.2.load.on".into()),
            &CommandsConfig::default(),
        )
        .unwrap();
        assert!(!on.cuts_power, "switching on is always allowed");
        let read_only = CommandsConfig {
            read_only: true,
            ..CommandsConfig::default()
        };
        assert!(plan_of(set("config.beeper", json!("muted")), &read_only).is_err());
        let allow = CommandsConfig {
            allow: vec!["config.beeper".into()],
            ..CommandsConfig::default()
        };
        assert!(plan_of(set("config.beeper", json!("muted")), &allow).is_ok());
        assert!(plan_of(set("config.low_battery_runtime", json!(60)), &allow).is_err());
        let by_page = CommandsConfig {
            allow: vec!["config".into()],
            ..CommandsConfig::default()
        };
        assert!(plan_of(set("config.beeper", json!("muted")), &by_page).is_ok());
        // Issue 17: a setting that changes when the load is cut is refused
        // without the dangerous switch, even where its page is allowed.
        assert!(plan_of(set("config.low_battery_runtime", json!(60)), &by_page).is_err());
        let dangerous_config = CommandsConfig {
            dangerous: true,
            ..by_page
        };
        assert!(
            plan_of(
                set("config.low_battery_runtime", json!(60)),
                &dangerous_config
            )
            .is_ok()
        );
    }

    #[test]
    fn named_commands_pick_the_way_this_ups_serves() {
        let policy = CommandsConfig::default();
        let mute = plan_of(Action::Named("beeper.mute".into()), &policy).unwrap();
        assert_eq!(mute.writes[0].value, Value::Integer(3));
        // No test page: neither PowerNet's nor RFC 1628's test is available.
        assert!(plan_of(Action::Named("test.battery.start".into()), &policy).is_err());
    }
}
