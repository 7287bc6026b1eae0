//! Prometheus metrics: every UPS's readings and the gateway's own
//! counters, served over HTTP ([`http`]) when `[metrics]` is enabled.
//!
//! This module owns the metric names and how a scrape is rendered. A
//! scrape reads only what the gateway already holds: each UPS's latest
//! [`crate::hub::UpsState`] (its model, status and health), the trap and
//! MQTT counters, and `/proc/self`; it never polls a card. The UPS
//! families are derived from the point table ([`families`]); the gateway's
//! own metrics are listed once in [`GATEWAY`] (rendered and documented
//! from there).

pub mod families;
pub mod http;
mod process;
pub mod text;

use crate::hub::{Hub, UpsState};
use crate::mib::Decode;
use crate::model::{Column, Identity, Scalar, TableData};
use crate::mqtt::MqttStats;
use crate::pages::Reading;
use crate::trap::TrapStats;
use families::Family;
use std::sync::Arc;
use text::{Kind, header, sample};

/// A metric of the gateway itself (not derived from the point table).
#[derive(Debug)]
pub struct Def {
    pub name: &'static str,
    pub kind: Kind,
    /// Labels besides `ups` (documentation only).
    pub labels: &'static str,
    pub help: &'static str,
}

const fn def(name: &'static str, kind: Kind, labels: &'static str, help: &'static str) -> Def {
    Def {
        name,
        kind,
        labels,
        help,
    }
}

pub const BUILD_INFO: Def = def(
    "ups2mqtt_build_info",
    Kind::Info,
    "version",
    "The running ups2mqtt version",
);
pub const UPS_INFO: Def = def(
    "ups2mqtt_ups_info",
    Kind::Info,
    "ups, manufacturer, model, serial, firmware",
    "Who the UPS says it is (general page)",
);
pub const UPS_UP: Def = def(
    "ups2mqtt_ups_up",
    Kind::Gauge,
    "ups",
    "1 while the UPS's card answers (MQTT availability online)",
);
pub const UPS_STATUS: Def = def(
    "ups2mqtt_ups_status",
    Kind::StateSet,
    "ups, flag",
    "NUT-style ups.status flags, 1 when set",
);
pub const POLLS: Def = def(
    "ups2mqtt_snmp_polls_total",
    Kind::Counter,
    "ups",
    "Successful polls",
);
pub const POLL_FAILURES: Def = def(
    "ups2mqtt_snmp_poll_failures_total",
    Kind::Counter,
    "ups",
    "Failed polls",
);
pub const CONSECUTIVE_FAILURES: Def = def(
    "ups2mqtt_snmp_consecutive_poll_failures",
    Kind::Gauge,
    "ups",
    "Failed polls since the last good one",
);
pub const LAST_GOOD_POLL: Def = def(
    "ups2mqtt_snmp_last_good_poll_timestamp_seconds",
    Kind::Gauge,
    "ups",
    "Unix time of the last good poll",
);
pub const REQUESTS: Def = def(
    "ups2mqtt_snmp_requests_total",
    Kind::Counter,
    "ups",
    "SNMP PDUs sent, retransmissions included (since the card was last detected)",
);
pub const RETRANSMISSIONS: Def = def(
    "ups2mqtt_snmp_retransmissions_total",
    Kind::Counter,
    "ups",
    "SNMP PDUs sent again after a timeout",
);
pub const TIMEOUTS: Def = def(
    "ups2mqtt_snmp_timeouts_total",
    Kind::Counter,
    "ups",
    "SNMP exchanges that gave up after every attempt",
);
pub const RTT: Def = def(
    "ups2mqtt_snmp_last_rtt_seconds",
    Kind::Gauge,
    "ups",
    "Round-trip time of the last SNMP exchange",
);
pub const TRAPS_RECEIVED: Def = def(
    "ups2mqtt_traps_received_total",
    Kind::Counter,
    "",
    "Trap and inform datagrams received",
);
pub const TRAPS_DELIVERED: Def = def(
    "ups2mqtt_traps_delivered_total",
    Kind::Counter,
    "",
    "Traps routed to their UPS and published as events",
);
pub const TRAPS_DROPPED: Def = def(
    "ups2mqtt_traps_dropped_total",
    Kind::Counter,
    "reason",
    "Traps dropped, by reason",
);
pub const MQTT_CONNECTED: Def = def(
    "ups2mqtt_mqtt_connected",
    Kind::Gauge,
    "",
    "1 while the broker connection is up",
);
pub const MQTT_CONNECTS: Def = def(
    "ups2mqtt_mqtt_connects_total",
    Kind::Counter,
    "",
    "Broker connections made",
);
pub const MQTT_PUBLISHES: Def = def(
    "ups2mqtt_mqtt_publishes_total",
    Kind::Counter,
    "",
    "MQTT messages published",
);
pub const MQTT_EVENTS_DROPPED: Def = def(
    "ups2mqtt_mqtt_events_dropped_total",
    Kind::Counter,
    "",
    "Events (traps, responses, audit) dropped while the broker was away too long",
);
pub const MQTT_INCOMING_DROPPED: Def = def(
    "ups2mqtt_mqtt_incoming_dropped_total",
    Kind::Counter,
    "",
    "Incoming MQTT messages dropped (the gateway behind)",
);
pub const MQTT_EVENTS_RESENT: Def = def(
    "ups2mqtt_mqtt_events_resent_total",
    Kind::Counter,
    "",
    "Events sent again after a reconnect",
);
pub const MQTT_COMMANDS_SHED: Def = def(
    "ups2mqtt_mqtt_commands_shed_total",
    Kind::Counter,
    "",
    "Commands left without an answer (the gateway behind, or the response dropped)",
);
pub const MQTT_AUDITS_DROPPED: Def = def(
    "ups2mqtt_mqtt_audits_dropped_total",
    Kind::Counter,
    "",
    "Audit records dropped from a full ring",
);
pub const MQTT_INCOMING_OVERSIZE: Def = def(
    "ups2mqtt_mqtt_incoming_oversize_total",
    Kind::Counter,
    "",
    "Incoming messages over mqtt.max_incoming_bytes, discarded",
);
pub const MQTT_SUBSCRIBE_FAILURES: Def = def(
    "ups2mqtt_mqtt_subscribe_failures_total",
    Kind::Counter,
    "",
    "SUBSCRIBEs the broker refused or left unanswered",
);

/// Every gateway metric, in the order a scrape shows them (the process
/// metrics follow: [`process::DEFS`]).
pub const GATEWAY: &[&Def] = &[
    &BUILD_INFO,
    &UPS_INFO,
    &UPS_UP,
    &UPS_STATUS,
    &POLLS,
    &POLL_FAILURES,
    &CONSECUTIVE_FAILURES,
    &LAST_GOOD_POLL,
    &REQUESTS,
    &RETRANSMISSIONS,
    &TIMEOUTS,
    &RTT,
    &TRAPS_RECEIVED,
    &TRAPS_DELIVERED,
    &TRAPS_DROPPED,
    &MQTT_CONNECTED,
    &MQTT_CONNECTS,
    &MQTT_PUBLISHES,
    &MQTT_EVENTS_DROPPED,
    &MQTT_INCOMING_DROPPED,
    &MQTT_EVENTS_RESENT,
    &MQTT_COMMANDS_SHED,
    &MQTT_AUDITS_DROPPED,
    &MQTT_INCOMING_OVERSIZE,
    &MQTT_SUBSCRIBE_FAILURES,
];

/// The gateway-wide counters a scrape reads besides the hub.
#[derive(Debug, Default)]
pub struct Counters {
    pub mqtt: MqttStats,
    pub mqtt_connected: bool,
    /// `None` when traps are disabled.
    pub traps: Option<Arc<TrapStats>>,
}

/// One scrape: every family with its samples, in a stable order.
pub fn render(hub: &Hub, counters: &Counters) -> String {
    let states: Vec<(&str, Arc<UpsState>)> = hub
        .ids()
        .filter_map(|id| Some((id, hub.state(id)?)))
        .collect();
    // About what a UPS with all three MIBs takes (the benchmark's card).
    let mut out = String::with_capacity(16 * 1024 + states.len() * 80 * 1024);
    render_gateway(&mut out, &states, counters);
    render_readings(&mut out, &states);
    process::render(&mut out);
    out
}

fn family(out: &mut String, def: &Def) {
    header(out, def.name, def.kind, def.help);
}

fn render_gateway(out: &mut String, states: &[(&str, Arc<UpsState>)], counters: &Counters) {
    family(out, &BUILD_INFO);
    sample(
        out,
        BUILD_INFO.name,
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    family(out, &UPS_INFO);
    for (id, state) in states {
        let Identity {
            manufacturer,
            model,
            serial_number,
            firmware,
            ..
        } = Identity::of(&state.model);
        let text = |t: &Option<String>| t.clone().unwrap_or_default();
        let labels = [
            ("ups", *id),
            ("manufacturer", &text(&manufacturer)),
            ("model", &text(&model)),
            ("serial", &text(&serial_number)),
            ("firmware", &text(&firmware)),
        ];
        sample(out, UPS_INFO.name, &labels, 1.0);
    }
    per_ups(out, &UPS_UP, states, |s| {
        Some(f64::from(u8::from(s.online)))
    });
    family(out, &UPS_STATUS);
    for (id, state) in states {
        if state.model.status().is_empty() {
            continue;
        }
        for (flag, _) in crate::status::FLAGS {
            let set = state.model.status().contains(flag);
            let labels = [("ups", *id), ("flag", flag)];
            sample(out, UPS_STATUS.name, &labels, f64::from(u8::from(set)));
        }
    }
    per_ups(out, &POLLS, states, |s| Some(s.health.polls as f64));
    per_ups(out, &POLL_FAILURES, states, |s| {
        Some(s.health.poll_failures as f64)
    });
    per_ups(out, &CONSECUTIVE_FAILURES, states, |s| {
        Some(f64::from(s.health.consecutive_failures))
    });
    per_ups(out, &LAST_GOOD_POLL, states, |s| {
        s.health.last_good_poll.map(|t| t as f64)
    });
    per_ups(out, &REQUESTS, states, |s| {
        s.health.requests.map(|n| n as f64)
    });
    per_ups(out, &RETRANSMISSIONS, states, |s| {
        s.health.retransmissions.map(|n| n as f64)
    });
    per_ups(out, &TIMEOUTS, states, |s| {
        s.health.timeouts.map(|n| n as f64)
    });
    per_ups(out, &RTT, states, |s| s.health.rtt_ms.map(|ms| ms / 1000.0));
    if let Some(traps) = &counters.traps {
        let traps = traps.counters();
        family(out, &TRAPS_RECEIVED);
        sample(out, TRAPS_RECEIVED.name, &[], traps.received as f64);
        family(out, &TRAPS_DELIVERED);
        sample(out, TRAPS_DELIVERED.name, &[], traps.delivered as f64);
        family(out, &TRAPS_DROPPED);
        // The reasons are the bridge health topic's keys (one list).
        if let Ok(serde_json::Value::Object(drops)) = serde_json::to_value(&traps.dropped) {
            for (reason, n) in drops {
                let n = n.as_f64().unwrap_or(0.0);
                sample(out, TRAPS_DROPPED.name, &[("reason", &reason)], n);
            }
        }
    }
    let mqtt = &counters.mqtt;
    let gauges = [
        (
            &MQTT_CONNECTED,
            f64::from(u8::from(counters.mqtt_connected)),
        ),
        (&MQTT_CONNECTS, mqtt.connects as f64),
        (&MQTT_PUBLISHES, mqtt.publishes as f64),
        (&MQTT_EVENTS_DROPPED, mqtt.events_dropped as f64),
        (&MQTT_INCOMING_DROPPED, mqtt.incoming_dropped as f64),
        (&MQTT_EVENTS_RESENT, mqtt.events_resent as f64),
        (&MQTT_COMMANDS_SHED, mqtt.commands_shed as f64),
        (&MQTT_AUDITS_DROPPED, mqtt.audits_dropped as f64),
        (&MQTT_INCOMING_OVERSIZE, mqtt.incoming_oversize as f64),
        (&MQTT_SUBSCRIBE_FAILURES, mqtt.subscribe_failures as f64),
    ];
    for (def, value) in gauges {
        family(out, def);
        sample(out, def.name, &[], value);
    }
}

/// A family with one sample per UPS that has a value.
fn per_ups(
    out: &mut String,
    def: &Def,
    states: &[(&str, Arc<UpsState>)],
    value: impl Fn(&UpsState) -> Option<f64>,
) {
    family(out, def);
    for (id, state) in states {
        if let Some(value) = value(state) {
            sample(out, def.name, &[("ups", id)], value);
        }
    }
}

/// Where a UPS keeps one field's readings.
#[derive(Clone, Copy)]
enum Slot<'a> {
    Scalar(&'a Scalar),
    Column(&'a TableData, &'a Column),
}

/// Every reading of every UPS, family by family (the format wants a
/// family's samples together): each UPS's fields are first indexed by
/// their point-table position, then each family is written UPS by UPS
/// straight into the output.
fn render_readings(out: &mut String, states: &[(&str, Arc<UpsState>)]) {
    let all = families::all();
    let slots: Vec<Vec<Option<Slot>>> = states
        .iter()
        .map(|(_, state)| slots_of(&state.model, all.len()))
        .collect();
    for (at, family) in all.iter().enumerate() {
        let Some(family) = family else { continue };
        let mut header_written = false;
        for ((id, _), slots) in states.iter().zip(&slots) {
            let Some(slot) = slots[at] else { continue };
            if !header_written {
                header(out, &family.name, family.kind, &family.help);
                header_written = true;
            }
            slot_samples(out, family, id, slot);
        }
    }
}

fn slots_of(model: &crate::model::Model, len: usize) -> Vec<Option<Slot<'_>>> {
    let mut slots = vec![None; len];
    for page in model.pages() {
        for scalar in &page.scalars {
            if let Some(at) = families::index_of(scalar.field) {
                slots[at] = Some(Slot::Scalar(scalar));
            }
        }
        for table in &page.tables {
            for column in &table.columns {
                if let Some(at) = families::index_of(column.field) {
                    slots[at] = Some(Slot::Column(table, column));
                }
            }
        }
    }
    slots
}

fn slot_samples(out: &mut String, family: &Family, ups: &str, slot: Slot) {
    match slot {
        Slot::Scalar(scalar) => {
            reading(out, family, ups, None, scalar.source.decode, &scalar.value);
        }
        Slot::Column(table, column) => {
            let label = family.row.unwrap_or("row");
            for (row, cell) in table.rows.iter().zip(&column.cells) {
                if let Some(cell) = cell {
                    let mut index = String::new();
                    text::integer(&mut index, i64::from(*row));
                    let row = Some((label, index.as_str()));
                    reading(out, family, ups, row, column.source.decode, cell);
                }
            }
        }
    }
}

/// The samples of one reading (none for a null).
fn reading(
    out: &mut String,
    family: &Family,
    ups: &str,
    row: Option<(&str, &str)>,
    decode: Decode,
    value: &Reading,
) {
    let n = if row.is_some() { 2 } else { 1 };
    let labels = [("ups", ups), row.unwrap_or(("", "")), ("state", "")];
    let name = family.name.as_str();
    let state = |out: &mut String, state: &str, set: bool| {
        let mut labels = labels;
        labels[n] = ("state", state);
        sample(out, name, &labels[..=n], f64::from(u8::from(set)));
    };
    let listed = match decode {
        Decode::Enum(listed) => listed,
        _ => &[],
    };
    match value {
        Reading::Number { value, decimals } => {
            let (value, decimals) = family.scale.apply(*value, u32::from(*decimals));
            text::sample_with(out, name, &labels[..n], |out| {
                text::fixed(out, value, decimals)
            });
        }
        Reading::Bool(b) => sample(out, name, &labels[..n], f64::from(u8::from(*b))),
        Reading::Label(current) => {
            if !listed.iter().any(|(_, l)| l == current) {
                state(out, current, true);
            }
            for (_, label) in listed {
                state(out, label, label == current);
            }
        }
        Reading::UnlistedLabel(raw) => {
            for (_, label) in listed {
                state(out, label, false);
            }
            state(out, &format!("unknown_{raw}"), true);
        }
        Reading::Null | Reading::Text(_) => {}
    }
}

/// The README's metric list (tests/readme.rs keeps it in step).
pub fn markdown() -> String {
    let mut out = String::from("| metric | type | labels | what |\n|---|---|---|---|\n");
    let row = |out: &mut String, name: &str, kind: Kind, labels: &str, help: &str| {
        let kind = match kind {
            Kind::StateSet => "state set",
            Kind::Info => "info",
            other => other.type_name(),
        };
        out.push_str(&format!("| `{name}` | {kind} | {labels} | {help} |\n"));
    };
    for def in GATEWAY.iter().chain(process::DEFS) {
        row(&mut out, def.name, def.kind, def.labels, def.help);
    }
    for family in families::all().iter().flatten() {
        let labels = match (family.row, family.kind) {
            (Some(row), Kind::StateSet) => format!("ups, {row}, state"),
            (Some(row), _) => format!("ups, {row}"),
            (None, Kind::StateSet) => "ups, state".to_string(),
            (None, _) => "ups".to_string(),
        };
        row(&mut out, &family.name, family.kind, &labels, &family.help);
    }
    let count = GATEWAY.len() + process::DEFS.len() + families::all().iter().flatten().count();
    out.push_str(&format!("\n{count} metrics.\n"));
    out
}
