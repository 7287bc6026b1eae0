//! The payloads ups2mqtt publishes, as serde structs: the MQTT contract in
//! one place (pages are the model's JSON, see
//! [`crate::model::Model::page_json`]).
//!
//! - [`BridgeState`] on `<base>/bridge/state` (retained; also the last will),
//! - [`BridgeHealth`] on `<base>/bridge/health` (retained),
//! - [`Event`] on `<base>/<ups>/event` (a trap, not retained),
//! - [`Health`] on `<base>/<ups>/health` (retained),
//! - [`Response`] on `<base>/<ups>/response` (every command gets one),
//! - [`Audit`] on `<base>/<ups>/audit` (every command, accepted or not).

use crate::mib::events::EventName;
use serde::Serialize;
use serde_json::{Map, Value as Json};

/// One trap, as an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// When the gateway received it (RFC 3339, UTC).
    pub time: String,
    /// The event vocabulary's name (one per fact, whatever MIB said it).
    pub name: EventName,
    /// The same as `name` (Home Assistant's `event` entity reads it).
    pub event_type: EventName,
    /// `critical`, `warning` or `info`.
    pub severity: &'static str,
    pub description: &'static str,
    /// The MIB that defines the trap (`null` for an unknown trap).
    pub mib: Option<&'static str>,
    /// The trap's MIB name, e.g. `upsmgOnBattery`.
    pub object: Option<&'static str>,
    /// The trap's OID (`snmpTrapOID` form).
    pub oid: String,
    /// The sender's address and port.
    pub source: String,
    /// SNMP version: `1`, `2c` or `3`.
    pub version: String,
    /// Whether it was an inform (answered).
    pub inform: bool,
    /// The agent's sysUpTime at the trap, in seconds.
    pub uptime: Option<f64>,
    pub varbinds: Vec<EventVarbind>,
    /// The SNMPv3 user it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The sending SNMPv3 engine's ID in hex (what `trap_engine_id` takes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_id: Option<String>,
}

/// One varbind of a trap, decoded where the point table knows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventVarbind {
    pub oid: String,
    /// The MIB object name.
    pub name: Option<&'static str>,
    /// The page field it is (`battery.charge`).
    pub field: Option<String>,
    /// In published units when the point table knows it, raw otherwise.
    pub value: Json,
}

/// `<base>/<ups>/energy`: the output energy the gateway integrates, kWh
/// (retained, read back at start).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct EnergyTotal {
    pub output_energy: f64,
}

/// SNMP diagnostics of one UPS.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Health {
    pub online: bool,
    /// The MIBs the agent serves (`rfc1628`, `mge`, `powernet`).
    pub mibs: Vec<&'static str>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    /// Unix seconds.
    pub last_good_poll: Option<u64>,
    pub polls: u64,
    /// Polls that failed, since the gateway started.
    pub poll_failures: u64,
    /// The last round trip, in milliseconds (0.1 ms resolution).
    pub rtt_ms: Option<f64>,
    pub requests: Option<u64>,
    pub retransmissions: Option<u64>,
    pub timeouts: Option<u64>,
    /// Quirks applied while decoding (e.g. tenths detected).
    pub notes: Vec<String>,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// A power-cutting command waits for its confirmation.
    Armed,
    Error,
}

/// Why a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The request itself is wrong (unknown field, bad value, ...).
    Invalid,
    /// The safety policy says no.
    Refused,
    /// The UPS is not reachable.
    Unavailable,
    /// The agent refused or did not answer the SET.
    Snmp,
    /// The UPS's command queue is full.
    Busy,
    /// The message was over `mqtt.max_incoming_bytes` (discarded unread).
    TooLarge,
}

impl FailureKind {
    pub const ALL: [FailureKind; 6] = [
        FailureKind::Invalid,
        FailureKind::Refused,
        FailureKind::Unavailable,
        FailureKind::Snmp,
        FailureKind::Busy,
        FailureKind::TooLarge,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            FailureKind::Invalid => "invalid",
            FailureKind::Refused => "refused",
            FailureKind::Unavailable => "unavailable",
            FailureKind::Snmp => "snmp",
            FailureKind::Busy => "busy",
            FailureKind::TooLarge => "too_large",
        }
    }
}

/// The answer to one command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    /// The sender's `transaction`, echoed (`null` when it sent none).
    pub transaction: Option<Json>,
    pub status: Status,
    /// RFC 3339, UTC.
    pub time: String,
    /// What was executed (`{"set": {...}}` or `{"command": name}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Json>,
    /// The values written, in published units, by field path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested: Option<Map<String, Json>>,
    /// What the UPS reports after the SET, by field path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readback: Option<Map<String, Json>>,
    /// For `armed`: what to do to confirm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<FailureKind>,
}

impl Response {
    fn new(transaction: Option<Json>, status: Status, time: String) -> Response {
        Response {
            transaction,
            status,
            time,
            command: None,
            requested: None,
            readback: None,
            message: None,
            error: None,
            kind: None,
        }
    }

    pub fn done(
        transaction: Option<Json>,
        time: String,
        command: Json,
        requested: Map<String, Json>,
        readback: Map<String, Json>,
    ) -> Response {
        Response {
            command: Some(command),
            requested: Some(requested),
            readback: Some(readback),
            ..Response::new(transaction, Status::Ok, time)
        }
    }

    pub fn armed(transaction: Option<Json>, time: String, message: String) -> Response {
        Response {
            message: Some(message),
            ..Response::new(transaction, Status::Armed, time)
        }
    }

    pub fn failed(
        transaction: Option<Json>,
        time: String,
        kind: FailureKind,
        error: String,
    ) -> Response {
        Response {
            error: Some(error),
            kind: Some(kind),
            ..Response::new(transaction, Status::Error, time)
        }
    }
}

/// The audit record of one command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Audit {
    pub time: String,
    pub ups: String,
    /// The topic the command came on.
    pub origin: String,
    pub who: Option<String>,
    pub transaction: Option<Json>,
    /// `{"set": {...}}`, `{"command": name}` or `{"malformed": reason}`.
    pub what: Json,
    /// `ok`, `armed`, or `<kind>: <message>`.
    pub result: String,
}

/// The JSON text of a message (these structs always serialize).
pub fn text<T: Serialize>(message: &T) -> String {
    serde_json::to_string(message).expect("messages serialize")
}

/// A message as a JSON value.
pub fn json<T: Serialize>(message: &T) -> Json {
    serde_json::to_value(message).expect("messages serialize")
}

impl std::fmt::Display for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&text(self))
    }
}

/// The gateway's own state: `online`, or `offline` (a clean stop and the
/// MQTT last will).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BridgeState {
    pub state: &'static str,
}

/// The gateway's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BridgeHealth {
    pub version: &'static str,
    pub traps: TrapCounters,
    pub mqtt: MqttCounters,
    /// The NUT server's counters, when `[nut]` is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nut: Option<NutCounters>,
}

/// The NUT server's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NutCounters {
    pub connections: u64,
    /// Connections closed at accept: `nut.max_connections` reached.
    pub refused: u64,
    /// Requests that were no known command or could not be parsed.
    pub bad_requests: u64,
    /// Access checks failed on an unknown user or a wrong password.
    pub failed_logins: u64,
    pub commands: u64,
    /// Connections switched to TLS by `STARTTLS`.
    pub tls: u64,
    /// TLS handshakes after `OK STARTTLS` that failed or timed out.
    pub tls_failed: u64,
}

/// The trap listener's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrapCounters {
    pub received: u64,
    pub delivered: u64,
    pub informs_answered: u64,
    pub dropped: TrapDrops,
    pub v3: TrapV3Counters,
}

/// Traps dropped, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrapDrops {
    pub malformed: u64,
    pub not_a_trap: u64,
    pub unknown_source: u64,
    pub bad_community: u64,
    /// The trap could belong to two configured UPSes.
    pub ambiguous: u64,
    pub overflow: u64,
    pub unknown_user: u64,
    pub unsupported_security_level: u64,
    pub wrong_digest: u64,
    pub decryption_error: u64,
    pub not_in_time_window: u64,
}

/// SNMPv3 trap receiver counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrapV3Counters {
    /// Engine discovery probes answered (inform senders).
    pub discoveries: u64,
    pub reports_sent: u64,
}

/// The MQTT counters: the connection's, and commands a full UPS inbox
/// answered `busy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MqttCounters {
    #[serde(flatten)]
    pub connection: crate::mqtt::MqttStats,
    pub commands_busy: u64,
}
