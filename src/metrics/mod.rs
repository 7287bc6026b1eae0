//! Prometheus metrics: every UPS's readings and the gateway's own
//! counters, served over HTTP ([`http`]) when `[metrics]` is enabled.
//!
//! This module owns the metric names and how a scrape is rendered. A
//! scrape reads only what the gateway already holds: each UPS's latest
//! [`crate::hub::UpsState`] (its model, status, health and SNMP round-trip
//! histogram) and command counts, the trap, MQTT and NUT counters, and
//! `/proc/self`; it never polls a card. The UPS families are derived from
//! the point table ([`families`]) and rendered by [`readings`], the hot
//! path; the gateway's own metrics are listed once in [`GATEWAY`]
//! (rendered and documented from there). A scrape is handed on in pieces
//! ([`render_to`], [`CHUNK`]) that the endpoint streams.

pub mod families;
pub mod http;
mod process;
mod readings;
pub mod text;

use crate::command::{CommandCounts, Via};
use crate::hub::{Hub, UpsState};
use crate::messages::FailureKind;
use crate::model::Identity;
use crate::mqtt::MqttStats;
use crate::nut::NutStats;
use crate::snmp::rtt::RttHistogram;
use crate::trap::TrapStats;
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
pub const RTT_HISTOGRAM: Def = def(
    "ups2mqtt_snmp_request_duration_seconds",
    Kind::Histogram,
    "ups, le",
    "Round-trip times of the SNMP exchanges the card answered (since it was last detected)",
);
pub const COMMANDS: Def = def(
    "ups2mqtt_commands_total",
    Kind::Counter,
    "ups, via, outcome",
    "Commands by interface (mqtt, nut) and outcome (ok, armed, or why it failed: invalid, refused, unavailable, snmp, busy, too_large)",
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
pub const MQTT_COMMANDS_BUSY: Def = def(
    "ups2mqtt_mqtt_commands_busy_total",
    Kind::Counter,
    "",
    "MQTT commands answered busy (their UPS's inbox was full; the bridge health's commands_busy)",
);
pub const NUT_CLIENTS: Def = def(
    "ups2mqtt_nut_clients_connected",
    Kind::Gauge,
    "",
    "NUT clients connected now (when [nut] is enabled)",
);
pub const NUT_CONNECTIONS: Def = def(
    "ups2mqtt_nut_connections_total",
    Kind::Counter,
    "",
    "NUT connections accepted or refused",
);
pub const NUT_REFUSED: Def = def(
    "ups2mqtt_nut_connections_refused_total",
    Kind::Counter,
    "",
    "NUT connections closed at once: nut.max_connections reached",
);
pub const NUT_BAD_REQUESTS: Def = def(
    "ups2mqtt_nut_bad_requests_total",
    Kind::Counter,
    "",
    "NUT requests that were no known command or could not be parsed",
);
pub const NUT_FAILED_LOGINS: Def = def(
    "ups2mqtt_nut_failed_logins_total",
    Kind::Counter,
    "",
    "NUT access checks failed on an unknown user or a wrong password",
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
    &RTT_HISTOGRAM,
    &COMMANDS,
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
    &MQTT_COMMANDS_BUSY,
    &NUT_CLIENTS,
    &NUT_CONNECTIONS,
    &NUT_REFUSED,
    &NUT_BAD_REQUESTS,
    &NUT_FAILED_LOGINS,
];

/// The gateway-wide counters a scrape reads besides the hub.
#[derive(Debug, Default)]
pub struct Counters {
    pub mqtt: MqttStats,
    pub mqtt_connected: bool,
    /// `None` when traps are disabled.
    pub traps: Option<Arc<TrapStats>>,
    /// `None` when the NUT server is disabled.
    pub nut: Option<Arc<NutStats>>,
}

/// How much of a scrape is written before it is handed on: small enough
/// to stay in the CPU's cache and keep memory flat (a scrape of 500 UPSes
/// is 37 MB), large enough for few writes.
pub const CHUNK: usize = 64 * 1024;

/// One scrape as one text (tests; the endpoint streams [`render_to`]).
pub fn render(hub: &Hub, counters: &Counters) -> String {
    let mut text = String::new();
    render_to(hub, counters, &mut |chunk| text.push_str(chunk));
    text
}

/// One scrape: every family with its samples, in a stable order, handed
/// to `emit` in pieces of about [`CHUNK`] bytes.
pub fn render_to(hub: &Hub, counters: &Counters, emit: &mut dyn FnMut(&str)) {
    let states: Vec<(&str, Arc<UpsState>)> = hub
        .ids()
        .filter_map(|id| Some((id, hub.state(id)?)))
        .collect();
    let mut out = String::with_capacity(2 * CHUNK);
    let mut flush = |out: &mut String| {
        if out.len() >= CHUNK {
            emit(out);
            out.clear();
        }
    };
    render_gateway(&mut out, hub, &states, counters);
    flush(&mut out);
    readings::render(&mut out, &states, &mut flush);
    process::render(&mut out);
    emit(&out);
}

fn family(out: &mut String, def: &Def) {
    header(out, def.name, def.kind, def.help);
}

fn render_gateway(
    out: &mut String,
    hub: &Hub,
    states: &[(&str, Arc<UpsState>)],
    counters: &Counters,
) {
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
    family(out, &RTT_HISTOGRAM);
    for (id, state) in states {
        if let Some(rtt) = &state.rtt {
            histogram(out, RTT_HISTOGRAM.name, id, rtt);
        }
    }
    family(out, &COMMANDS);
    let vias: &[Via] = match counters.nut {
        Some(_) => &Via::ALL,
        None => &[Via::Mqtt],
    };
    for (id, _) in states {
        if let Some(commands) = hub.commands(id) {
            command_counts(out, id, commands, vias);
        }
    }
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
        (
            &MQTT_COMMANDS_BUSY,
            hub.commands_total(Via::Mqtt, FailureKind::Busy.as_str()) as f64,
        ),
    ];
    for (def, value) in gauges {
        family(out, def);
        sample(out, def.name, &[], value);
    }
    if let Some(nut) = &counters.nut {
        let connected = nut.connected.load(std::sync::atomic::Ordering::Relaxed);
        let nut = nut.counters();
        let values = [
            (&NUT_CLIENTS, connected),
            (&NUT_CONNECTIONS, nut.connections),
            (&NUT_REFUSED, nut.refused),
            (&NUT_BAD_REQUESTS, nut.bad_requests),
            (&NUT_FAILED_LOGINS, nut.failed_logins),
        ];
        for (def, value) in values {
            family(out, def);
            sample(out, def.name, &[], value as f64);
        }
    }
}

/// A UPS's histogram samples: cumulative buckets, `+Inf`, sum and count.
fn histogram(out: &mut String, name: &str, ups: &str, histogram: &RttHistogram) {
    let bucket = format!("{name}_bucket");
    let mut le = String::new();
    for (bound, count) in histogram.cumulative() {
        le.clear();
        text::number(&mut le, bound);
        sample(out, &bucket, &[("ups", ups), ("le", &le)], count as f64);
    }
    let count = histogram.count() as f64;
    sample(out, &bucket, &[("ups", ups), ("le", "+Inf")], count);
    sample(
        out,
        &format!("{name}_sum"),
        &[("ups", ups)],
        histogram.sum_seconds(),
    );
    sample(out, &format!("{name}_count"), &[("ups", ups)], count);
}

/// A UPS's command counts, every outcome of every interface in `vias`
/// (zeros too: a rate needs the series before the first command).
fn command_counts(out: &mut String, ups: &str, commands: &CommandCounts, vias: &[Via]) {
    for (via, outcome, n) in commands.all() {
        if vias.contains(&via) {
            let labels = [("ups", ups), ("via", via.as_str()), ("outcome", outcome)];
            sample(out, COMMANDS.name, &labels, n as f64);
        }
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
