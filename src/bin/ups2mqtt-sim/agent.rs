//! One simulated agent and the SNMP v1/v2c protocol it speaks.
//!
//! [`Agent::handle`] takes a datagram and returns the response datagram (or
//! nothing): messages are decoded and encoded with the library's
//! `ups2mqtt::snmp::Message`; GET, GETNEXT, GETBULK and SET are answered
//! from the agent's OID view with RFC 1157 (v1) and RFC 3416 (v2c) error
//! semantics:
//! - unknown community: no answer (counted), as real agents do;
//! - malformed packets and non-request PDUs: dropped and counted;
//! - v1: a missing object is `noSuchName` with its error-index; v2c:
//!   `noSuchObject` / `noSuchInstance` / `endOfMibView` per varbind;
//! - GETBULK honours non-repeaters and max-repetitions and stops before the
//!   response would exceed `--max-pdu`; other responses over it are
//!   `tooBig`;
//! - SET: read community → noAccess (v2c) / noSuchName (v1); read-only
//!   object → notWritable / noSuchName; wrong SMI type → wrongType /
//!   badValue; outside the point's legal values → wrongValue (wrongLength
//!   for over-long strings) / badValue; state conflicts (a test already
//!   running, the Q8 spin lock) → inconsistentValue / badValue. Every
//!   varbind is checked before any is applied, and the response echoes the
//!   request.
//!
//! It owns no socket: the server feeds it datagrams and sends what it
//! returns, which keeps it testable without the network.

use crate::card::Card;
use crate::state::{self, SetTarget, UpsState};
use crate::traps::{self, Sender, Sink};
use crate::view::{View, ViewCache};
use crate::wire::{self, SetError};
use serde_json::{Value as Json, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use ups2mqtt::mib::traps::TrapDef;
use ups2mqtt::mib::{Access, Legal};
use ups2mqtt::oid::Oid;
use ups2mqtt::snmp::ber::{self, tag};
use ups2mqtt::snmp::{CommonPdu, ErrorStatus, Message, Pdu, PduKind, Value, VarBind, Version};

/// The state is advanced at most this often by requests (the cached OID
/// view is rebuilt at most this often while readings move).
const MIN_TICK: Duration = Duration::from_millis(100);
/// Slack for BER length octets growing as varbinds are added.
const LENGTH_SLACK: usize = 9;

/// What every agent of the process shares besides the card.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub community: Vec<u8>,
    pub write_community: Vec<u8>,
    pub trap_community: Vec<u8>,
    pub max_pdu: usize,
    pub sinks: Vec<Sink>,
}

/// Counters, for the `stats` control command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    pub responses: u64,
    pub bad_community: u64,
    pub malformed: u64,
    pub unexpected_pdu: u64,
    pub dropped_stopped: u64,
    pub sets_applied: u64,
    pub sets_refused: u64,
    pub traps_sent: u64,
}

impl Stats {
    pub fn to_json(self) -> Json {
        json!({
            "requests": self.requests,
            "responses": self.responses,
            "bad_community": self.bad_community,
            "malformed": self.malformed,
            "unexpected_pdu": self.unexpected_pdu,
            "dropped_stopped": self.dropped_stopped,
            "sets_applied": self.sets_applied,
            "sets_refused": self.sets_refused,
            "traps_sent": self.traps_sent,
        })
    }
}

/// Read or read-write, by community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rights {
    Read,
    Write,
}

/// One simulated card on one UDP port.
pub struct Agent {
    pub index: u32,
    card: Arc<Card>,
    config: Arc<AgentConfig>,
    pub state: UpsState,
    cache: ViewCache,
    pub stats: Stats,
    /// `stop` / `start`: a stopped agent answers nothing.
    pub serving: bool,
    /// IPv4 address put in v1 traps.
    pub agent_addr: [u8; 4],
    trap_request_id: i32,
    last_tick: Instant,
}

impl Agent {
    pub fn new(index: u32, card: Arc<Card>, config: Arc<AgentConfig>, now: Instant) -> Agent {
        Agent {
            index,
            state: card.state(index),
            card,
            config,
            cache: ViewCache::default(),
            stats: Stats::default(),
            serving: true,
            agent_addr: [127, 0, 0, 1],
            trap_request_id: 0,
            last_tick: now,
        }
    }

    /// Moves the state's clock to `now` (in steps of at least [`MIN_TICK`],
    /// unless a deadline has passed).
    pub fn advance(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last_tick);
        let due = self
            .state
            .next_deadline()
            .is_some_and(|d| self.state.uptime() + dt >= d);
        if dt >= MIN_TICK || due {
            self.state.tick(dt);
            self.last_tick = now;
        }
    }

    /// When the agent next needs [`Agent::advance`] without a request.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let deadline = self.state.next_deadline()?;
        Some(self.last_tick + deadline.saturating_sub(self.state.uptime()))
    }

    // -------------------------------------------------------- requests

    /// Answers one datagram; `None` when nothing is to be sent back.
    pub fn handle(&mut self, packet: &[u8]) -> Option<Vec<u8>> {
        if !self.serving {
            self.stats.dropped_stopped += 1;
            return None;
        }
        let message = match Message::decode(packet) {
            Ok(message) => message,
            Err(error) => {
                self.stats.malformed += 1;
                tracing::debug!(agent = self.index, %error, "dropped a malformed packet");
                return None;
            }
        };
        let rights = self.rights(&message.community)?;
        let Pdu::Common(pdu) = &message.pdu else {
            self.stats.unexpected_pdu += 1;
            return None;
        };
        self.stats.requests += 1;
        let version = message.version;
        let response = match pdu.kind {
            PduKind::Get => self.get(version, pdu),
            PduKind::GetNext => self.get_next(version, pdu),
            PduKind::GetBulk => self.get_bulk(pdu, message.community.len()),
            PduKind::Set => self.set(version, pdu, rights),
            _ => {
                self.stats.unexpected_pdu += 1;
                return None;
            }
        };
        self.stats.responses += 1;
        Some(self.encode_response(version, &message.community, pdu, response))
    }

    fn rights(&mut self, community: &[u8]) -> Option<Rights> {
        if community == self.config.write_community.as_slice() {
            Some(Rights::Write)
        } else if community == self.config.community.as_slice() {
            Some(Rights::Read)
        } else {
            self.stats.bad_community += 1;
            tracing::debug!(
                agent = self.index,
                "ignored a request with an unknown community"
            );
            None
        }
    }

    /// Encodes the response, or `tooBig` when it exceeds the PDU limit.
    fn encode_response(
        &self,
        version: Version,
        community: &[u8],
        request: &CommonPdu,
        response: CommonPdu,
    ) -> Vec<u8> {
        let bytes = Message::new(version, community.to_vec(), response).encode();
        if bytes.len() <= self.config.max_pdu {
            return bytes;
        }
        // v2c: empty varbinds (RFC 3416 4.2.1); v1: the request's (RFC 1157).
        let varbinds = match version {
            Version::V1 => request.varbinds.clone(),
            Version::V2c => Vec::new(),
        };
        let too_big = error_pdu(request.request_id, ErrorStatus::TooBig, 0, varbinds);
        Message::new(version, community.to_vec(), too_big).encode()
    }

    fn view(&mut self) -> View<'_> {
        self.cache.refresh(&self.card.plan, &self.state);
        View {
            plan: &self.card.plan,
            state: &self.state,
            cache: &self.cache,
        }
    }

    fn get(&mut self, version: Version, pdu: &CommonPdu) -> CommonPdu {
        let view = self.view();
        let mut out = Vec::with_capacity(pdu.varbinds.len());
        for (i, (oid, _)) in pdu.varbinds.iter().enumerate() {
            let value = view
                .get(oid)
                .filter(|v| version == Version::V2c || fits_v1(v));
            match (value, version) {
                (Some(value), _) => out.push((oid.clone(), value)),
                (None, Version::V1) => return v1_no_such_name(pdu, i),
                (None, Version::V2c) => {
                    let exception = if view.object_exists(oid) {
                        Value::NoSuchInstance
                    } else {
                        Value::NoSuchObject
                    };
                    out.push((oid.clone(), exception));
                }
            }
        }
        CommonPdu::new(PduKind::Response, pdu.request_id, out)
    }

    fn get_next(&mut self, version: Version, pdu: &CommonPdu) -> CommonPdu {
        let view = self.view();
        let mut out = Vec::with_capacity(pdu.varbinds.len());
        for (i, (oid, _)) in pdu.varbinds.iter().enumerate() {
            match (next_for(&view, oid, version), version) {
                (Some(varbind), _) => out.push(varbind),
                (None, Version::V1) => return v1_no_such_name(pdu, i),
                (None, Version::V2c) => out.push((oid.clone(), Value::EndOfMibView)),
            }
        }
        CommonPdu::new(PduKind::Response, pdu.request_id, out)
    }

    /// GETBULK (v2c only; the decoder refuses it in v1).
    fn get_bulk(&mut self, pdu: &CommonPdu, community_len: usize) -> CommonPdu {
        let max_pdu = self.config.max_pdu;
        let view = self.view();
        let non_repeaters = (pdu.non_repeaters() as usize).min(pdu.varbinds.len());
        let max_repetitions = pdu.max_repetitions() as usize;
        let mut budget = Budget::new(max_pdu, community_len, pdu.request_id);
        let mut out = Vec::new();
        for (oid, _) in &pdu.varbinds[..non_repeaters] {
            let varbind = next_for(&view, oid, Version::V2c)
                .unwrap_or_else(|| (oid.clone(), Value::EndOfMibView));
            if !budget.take(&varbind) {
                return error_pdu(pdu.request_id, ErrorStatus::TooBig, 0, Vec::new());
            }
            out.push(varbind);
        }
        let mut cursors: Vec<Oid> = pdu.varbinds[non_repeaters..]
            .iter()
            .map(|(o, _)| o.clone())
            .collect();
        'rounds: for _ in 0..max_repetitions {
            if cursors.is_empty() {
                break;
            }
            let mut moved = false;
            for cursor in &mut cursors {
                let varbind = match view.next(cursor) {
                    Some((next, value)) => {
                        moved = true;
                        *cursor = next.clone();
                        (next, value)
                    }
                    None => (cursor.clone(), Value::EndOfMibView),
                };
                if !budget.take(&varbind) {
                    break 'rounds;
                }
                out.push(varbind);
            }
            if !moved {
                break;
            }
        }
        CommonPdu::new(PduKind::Response, pdu.request_id, out)
    }

    fn set(&mut self, version: Version, pdu: &CommonPdu, rights: Rights) -> CommonPdu {
        let checked = match rights {
            Rights::Read => Err((0, SetError::NoAccess("write".to_string()))),
            Rights::Write => self
                .set_targets(pdu)
                .and_then(|targets| self.state.validate_set(&targets).map(|()| targets)),
        };
        match checked {
            Ok(targets) => {
                self.state.apply_set(&targets);
                self.stats.sets_applied += 1;
                let objects: Vec<String> = targets
                    .iter()
                    .map(|t| format!("{}.{}", t.source.object, t.row))
                    .collect();
                tracing::info!(agent = self.index, objects = %objects.join(","), "SET applied");
                CommonPdu::new(PduKind::Response, pdu.request_id, pdu.varbinds.clone())
            }
            Err((i, error)) => {
                self.stats.sets_refused += 1;
                tracing::info!(agent = self.index, varbind = i + 1, %error, "SET refused");
                error_pdu(
                    pdu.request_id,
                    set_status(&error, version),
                    i as u32 + 1,
                    pdu.varbinds.clone(),
                )
            }
        }
    }

    /// Resolves and checks every varbind of a SET (type and legal value).
    fn set_targets(&mut self, pdu: &CommonPdu) -> Result<Vec<SetTarget>, (usize, SetError)> {
        let view = self.view();
        let mut targets = Vec::with_capacity(pdu.varbinds.len());
        for (i, (oid, value)) in pdu.varbinds.iter().enumerate() {
            let target = set_target(&view, oid, value).map_err(|e| (i, e))?;
            targets.push(target);
        }
        Ok(targets)
    }

    // ----------------------------------------------------------- traps

    /// Turns the state's queued events into trap datagrams for every sink.
    pub fn drain_traps(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let events = self.state.take_events();
        if events.is_empty() || self.config.sinks.is_empty() {
            return Vec::new();
        }
        let card = self.card.clone();
        let mut out = Vec::new();
        for event in &events {
            for def in traps::for_event(event, &card.mibs) {
                out.extend(self.encode_trap(def, event.row, event.alarm.as_ref()));
            }
        }
        out
    }

    /// A trap of the library's table now (the `trap` control command);
    /// `row` for the traps about a receptacle or outlet group, and the
    /// first alarm row (or an on-battery one) for the alarm traps.
    pub fn trap_now(
        &mut self,
        name: &str,
        row: Option<u32>,
    ) -> Result<Vec<(SocketAddr, Vec<u8>)>, String> {
        let def = traps::by_name(name).ok_or_else(|| format!("no trap {name:?} in the table"))?;
        if self.config.sinks.is_empty() {
            return Err("no --trap-sink configured".to_string());
        }
        let alarm = self
            .state
            .alarms()
            .rows()
            .first()
            .copied()
            .unwrap_or(state::alarms::Alarm {
                id: 1,
                arc: 2,
                since: self.state.sys_uptime(),
            });
        Ok(self.encode_trap(def, row.unwrap_or(1), Some(&alarm)))
    }

    fn encode_trap(
        &mut self,
        def: &TrapDef,
        row: u32,
        alarm: Option<&state::alarms::Alarm>,
    ) -> Vec<(SocketAddr, Vec<u8>)> {
        let varbinds = traps::varbinds(def, row, alarm, &self.view());
        let config = self.config.clone();
        config
            .sinks
            .iter()
            .map(|sink| {
                self.trap_request_id = self.trap_request_id.wrapping_add(1) & i32::MAX;
                let sender = Sender {
                    agent_addr: self.agent_addr,
                    uptime: self.state.sys_uptime(),
                    request_id: self.trap_request_id,
                };
                let message = traps::message(def, sink.version, &config.trap_community, &sender, varbinds.clone());
                self.stats.traps_sent += 1;
                tracing::debug!(agent = self.index, trap = def.object, sink = %sink.addr, version = %sink.version, "trap");
                (sink.addr, message.encode())
            })
            .collect()
    }
}

/// v1 cannot carry Counter64 (RFC 3584 4.2.2.1): such variables are
/// skipped by GETNEXT and missing for GET.
fn fits_v1(value: &Value) -> bool {
    !matches!(value, Value::Counter64(_))
}

fn next_for(view: &View<'_>, oid: &Oid, version: Version) -> Option<VarBind> {
    let mut at = oid.clone();
    loop {
        let (next, value) = view.next(&at)?;
        if version == Version::V2c || fits_v1(&value) {
            return Some((next, value));
        }
        at = next;
    }
}

fn error_pdu(
    request_id: i32,
    status: ErrorStatus,
    index: u32,
    varbinds: Vec<VarBind>,
) -> CommonPdu {
    CommonPdu {
        kind: PduKind::Response,
        request_id,
        error_status: status,
        error_index: index,
        varbinds,
    }
}

fn v1_no_such_name(pdu: &CommonPdu, i: usize) -> CommonPdu {
    error_pdu(
        pdu.request_id,
        ErrorStatus::NoSuchName,
        i as u32 + 1,
        pdu.varbinds.clone(),
    )
}

/// The error status of a refused SET (RFC 3584 4.4 maps v2 errors to v1).
pub fn set_status(error: &SetError, version: Version) -> ErrorStatus {
    match (version, error) {
        (
            Version::V1,
            SetError::NoAccess(_) | SetError::NotWritable(_) | SetError::NoCreation(_),
        ) => ErrorStatus::NoSuchName,
        (Version::V1, _) => ErrorStatus::BadValue,
        (Version::V2c, SetError::NoAccess(_)) => ErrorStatus::NoAccess,
        (Version::V2c, SetError::NotWritable(_)) => ErrorStatus::NotWritable,
        (Version::V2c, SetError::NoCreation(_)) => ErrorStatus::NoCreation,
        (Version::V2c, SetError::WrongType { .. }) => ErrorStatus::WrongType,
        (Version::V2c, SetError::WrongLength { .. }) => ErrorStatus::WrongLength,
        (Version::V2c, SetError::WrongValue { .. }) => ErrorStatus::WrongValue,
        (Version::V2c, SetError::Inconsistent { .. }) => ErrorStatus::InconsistentValue,
    }
}

/// One SET varbind → its point, checked for writability, type and value.
fn set_target(view: &View<'_>, oid: &Oid, value: &Value) -> Result<SetTarget, SetError> {
    let Some(point) = view.plan.point_at(oid) else {
        let name = oid.to_string();
        return Err(if !view.plan.serves(oid) && view.object_exists(oid) {
            SetError::NoCreation(name)
        } else {
            SetError::NotWritable(name)
        });
    };
    let source = point.source;
    if !state::is_writable(source) {
        return Err(SetError::NotWritable(source.object.to_string()));
    }
    let json = match source.access {
        Access::ReadWrite(legal) => wire::check_value(source, legal, value)?,
        // upsTestSpinLock is TestAndIncr (0..2147483647); upsTestId takes a
        // test OID, checked against the state (Q8).
        Access::ReadOnly if source.object == state::SPIN_LOCK => wire::check_value(
            source,
            Legal::Range {
                min: 0.0,
                max: f64::from(i32::MAX),
            },
            value,
        )?,
        Access::ReadOnly if wire::fits_syntax(source.syntax, value) => Json::Null,
        Access::ReadOnly => {
            return Err(SetError::WrongType {
                object: source.object.to_string(),
                expected: source.syntax,
                got: value.type_name(),
            });
        }
    };
    Ok(SetTarget {
        field: point.field,
        source,
        row: point.row,
        value: value.clone(),
        json,
    })
}

/// The room left in a response for varbinds.
struct Budget {
    left: usize,
    scratch: Vec<u8>,
}

impl Budget {
    fn new(max_pdu: usize, community_len: usize, request_id: i32) -> Budget {
        let empty = Message::new(
            Version::V2c,
            vec![0; community_len],
            CommonPdu::new(PduKind::Response, request_id, Vec::new()),
        )
        .encode();
        Budget {
            left: max_pdu.saturating_sub(empty.len() + LENGTH_SLACK),
            scratch: Vec::with_capacity(128),
        }
    }

    /// Reserves room for one varbind; false when it does not fit.
    fn take(&mut self, (oid, value): &VarBind) -> bool {
        self.scratch.clear();
        ber::push_constructed(&mut self.scratch, tag::SEQUENCE, |vb| {
            ber::push_oid(vb, oid);
            ber::push_value(vb, value);
        });
        match self.left.checked_sub(self.scratch.len()) {
            Some(left) => {
                self.left = left;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests;
