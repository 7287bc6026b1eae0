//! The SNMP trap listener: UDP datagrams → named UPS events.
//!
//! This module owns trap decoding (SNMPv1 Trap-PDU, SNMPv2c Trap and
//! InformRequest, which it answers), matching a trap to a configured UPS
//! (by source address, extra configured sources, or the v1 agent-addr field
//! for NAT setups), the community check, the event JSON, and counting what
//! it drops (malformed, unknown source, wrong community) with rate-limited
//! log lines: no datagram can end the listener. It knows nothing of MQTT:
//! deliveries go to a bounded channel the gateway drains.
//!
//! SNMPv3 ([`V3Receiver`]): a table of USM users authenticates v3 traps
//! with keys localised for each sender's engine ID (computed once per
//! engine, then cached), and answers informs as the authoritative engine
//! it is for them (RFC 3414 §3.2: its own engine ID, discovery Reports,
//! `notInTimeWindow` Reports, a Response at the inform's security level).
//! A message that fails authentication, decryption or the time window is
//! dropped and counted, never decoded further.

use crate::config::{Config, UpsConfig};
use crate::messages::{Event, EventVarbind, TrapCounters, TrapDrops, TrapV3Counters};
use crate::mib::traps::{self, EventName, TrapDef};
use crate::mib::{self, Field, Page, Source};
use crate::oid::Oid;
use crate::pages::{self, Reading};
use crate::snmp::usm::{LocalKeys, SecurityLevel, UsmUser};
use crate::snmp::v3::{self, Incoming, ReportKind, ScopedPdu, UsmParams, V3Error};
use crate::snmp::{CommonPdu, ErrorStatus, Message, Pdu, PduKind, SnmpVersion, Value, VarBind};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// `sysUpTime.0`, first varbind of every v2 notification.
const SYS_UPTIME: &str = "1.3.6.1.2.1.1.3.0";
/// `snmpTrapOID.0`, second varbind of every v2 notification.
const SNMP_TRAP_OID: &str = "1.3.6.1.6.3.1.1.4.1.0";
/// `snmpTrapAddress.0` (RFC 3584): the original agent behind a proxy/NAT.
const SNMP_TRAP_ADDRESS: &str = "1.3.6.1.6.3.18.1.3.0";
/// `snmpTraps`: the generic traps (coldStart.. = .1..).
const SNMP_TRAPS: &str = "1.3.6.1.6.3.1.1.5";

/// A trap as it arrived, before routing.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedTrap {
    pub version: SnmpVersion,
    /// v1/v2c community (empty for v3).
    pub community: Vec<u8>,
    /// The SNMPv3 user that authenticated it.
    pub user: Option<String>,
    /// The sending SNMPv3 engine: a trap's msgAuthoritativeEngineID, an
    /// inform's contextEngineID (its authoritative engine is the listener).
    pub engine_id: Option<Vec<u8>>,
    /// The notification OID (v1 traps translated per RFC 3584).
    pub oid: Oid,
    /// v1 agent-addr, or v2 snmpTrapAddress.0.
    pub agent_addr: Option<IpAddr>,
    /// Agent uptime in hundredths of a second.
    pub uptime: Option<u32>,
    /// The trap's own varbinds (v2: after sysUpTime and snmpTrapOID).
    pub varbinds: Vec<VarBind>,
    /// Request id of an InformRequest, which must be answered.
    pub inform: Option<i32>,
    /// MGE enterprise-specific trap number (for upsmgAgentTrapAck).
    pub mge_specific: Option<i64>,
}

/// Why a datagram is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("not a notification ({0})")]
    NotATrap(String),
    #[error("no UPS is configured for source {0}")]
    UnknownSource(IpAddr),
    #[error("wrong community from {0}")]
    BadCommunity(IpAddr),
    /// Several UPSes share the source and the trap names none of them
    /// apart (see `check-config`).
    #[error("from {from}: cannot tell which of {upses} sent it")]
    Ambiguous { from: IpAddr, upses: String },
    #[error("SNMPv3: unknown user {0:?}")]
    UnknownUser(String),
    #[error("SNMPv3: user {user:?} is not configured for {level}")]
    UnsupportedSecLevel { user: String, level: SecurityLevel },
    #[error("SNMPv3: wrong digest for user {0:?} (wrong auth password or protocol)")]
    WrongDigest(String),
    #[error("SNMPv3: decryption error for user {0:?} (wrong priv password or protocol)")]
    DecryptionError(String),
    #[error("SNMPv3: not in time window (engine {engine}, boots {boots}, time {time})")]
    NotInTimeWindow {
        engine: String,
        boots: u32,
        time: u32,
    },
    /// A discovery probe (an inform sender learning our engine ID):
    /// answered with a Report, nothing to deliver.
    #[error("SNMPv3 discovery probe, answered")]
    Discovery,
}

/// Decodes one datagram into a trap (pure: tests and the fuzz test call it).
pub fn decode_trap(bytes: &[u8]) -> Result<ReceivedTrap, Rejected> {
    let message = Message::decode(bytes).map_err(|e| Rejected::Malformed(e.to_string()))?;
    match message.pdu {
        Pdu::TrapV1(trap) => {
            let oid = if trap.generic_trap == 6 {
                traps::v1_to_v2(&trap.enterprise, trap.specific_trap).ok_or_else(|| {
                    Rejected::Malformed(format!("specific trap {}", trap.specific_trap))
                })?
            } else {
                let generic = u32::try_from(trap.generic_trap + 1)
                    .map_err(|_| Rejected::Malformed("generic trap".into()))?;
                Oid::parse(SNMP_TRAPS).expect("valid").child(generic)
            };
            let mge = Oid::parse(traps::MGE_TRAP_ENTERPRISE).expect("valid");
            Ok(ReceivedTrap {
                version: message.version.into(),
                community: message.community,
                user: None,
                engine_id: None,
                mge_specific: (trap.enterprise == mge).then_some(trap.specific_trap),
                oid,
                agent_addr: Some(IpAddr::from(trap.agent_addr)),
                uptime: Some(trap.timestamp),
                varbinds: trap.varbinds,
                inform: None,
            })
        }
        Pdu::Common(pdu) => decode_v2(message.version.into(), message.community, pdu),
    }
}

fn decode_v2(
    version: SnmpVersion,
    community: Vec<u8>,
    pdu: CommonPdu,
) -> Result<ReceivedTrap, Rejected> {
    let inform = match pdu.kind {
        PduKind::TrapV2 => None,
        PduKind::Inform => Some(pdu.request_id),
        other => return Err(Rejected::NotATrap(other.to_string())),
    };
    let uptime_oid = Oid::parse(SYS_UPTIME).expect("valid");
    let trap_oid = Oid::parse(SNMP_TRAP_OID).expect("valid");
    let address_oid = Oid::parse(SNMP_TRAP_ADDRESS).expect("valid");
    let mut uptime = None;
    let mut oid = None;
    let mut agent_addr = None;
    let mut varbinds = Vec::new();
    for (name, value) in pdu.varbinds {
        match value {
            Value::TimeTicks(t) if name == uptime_oid => uptime = Some(t),
            Value::ObjectId(o) if name == trap_oid => oid = Some(*o),
            Value::IpAddress(ip) if name == address_oid => agent_addr = Some(IpAddr::from(ip)),
            value => varbinds.push((name, value)),
        }
    }
    let oid = oid.ok_or_else(|| Rejected::Malformed("no snmpTrapOID.0".into()))?;
    let mge = Oid::parse(traps::MGE_TRAP_ENTERPRISE).expect("valid");
    let mge_specific = match oid.suffix_after(&mge) {
        Some([0, n]) => Some(i64::from(*n)),
        _ => None,
    };
    Ok(ReceivedTrap {
        version,
        community,
        user: None,
        engine_id: None,
        oid,
        agent_addr,
        uptime,
        varbinds,
        inform,
        mge_specific,
    })
}

/// The response an InformRequest is owed (same id and varbinds).
pub fn inform_response(bytes: &[u8]) -> Option<Vec<u8>> {
    let message = Message::decode(bytes).ok()?;
    let pdu = message.common()?;
    if pdu.kind != PduKind::Inform {
        return None;
    }
    let mut response = CommonPdu::new(PduKind::Response, pdu.request_id, pdu.varbinds.clone());
    response.error_status = ErrorStatus::NoError;
    Message::new(message.version, message.community.clone(), response)
        .try_encode()
        .ok()
}

/// One configured UPS as the trap listener sees it.
#[derive(Debug, Clone)]
pub struct Route {
    pub ups_id: String,
    /// The community v1/v2c traps must carry; `None`: refused (a v3 UPS).
    pub community: Option<String>,
    /// The SNMPv3 user of a version 3 UPS (its traps are signed by it).
    pub user: Option<String>,
    /// `trap_engine_id`: the card's own SNMPv3 engine ID.
    pub engine: Option<Vec<u8>>,
    /// `trap_sources`: the card's own addresses, as a v1 agent-addr or
    /// snmpTrapAddress.0 carries them behind NAT or a proxy.
    pub sources: Vec<IpAddr>,
    pub ack: bool,
}

/// Source address → UPS, and the SNMPv3 receiver.
///
/// Several UPSes may share an address (NAT, a multi-card proxy, one host
/// with cards on several ports): a trap from it goes to the one its own
/// content names, by agent-addr (in that UPS's `trap_sources`), community,
/// SNMPv3 engine ID (`trap_engine_id`) or SNMPv3 user. If that still
/// leaves several, it is dropped and counted
/// as `ambiguous`, never credited to the wrong UPS (`check-config` refuses
/// such a configuration, see [`crate::config::Config::trap_ambiguities`]).
#[derive(Debug, Clone, Default)]
pub struct Router {
    by_addr: HashMap<IpAddr, Vec<usize>>,
    /// `trap_engine_id` → UPSes: v3 traps from an address no UPS has.
    by_engine: HashMap<Vec<u8>, Vec<usize>>,
    routes: Vec<Route>,
    v3: Option<Arc<V3Receiver>>,
}

impl Router {
    /// Resolves every UPS host once (a name that does not resolve only
    /// loses its own traps, with a warning).
    pub async fn resolve(upses: &[UpsConfig]) -> Router {
        let mut router = Router::default();
        for ups in upses {
            let mut addrs = ups.trap_sources.clone();
            match tokio::net::lookup_host((ups.host.trim_matches(['[', ']']), ups.port)).await {
                Ok(found) => addrs.extend(found.map(|a| a.ip())),
                Err(error) => {
                    warn!(ups = %ups.id, %error, "cannot resolve host: its traps will be dropped")
                }
            }
            router.add(ups, &addrs);
        }
        router
    }

    /// Accepts SNMPv3 traps and informs with `receiver`'s users.
    pub fn with_v3(mut self, receiver: V3Receiver) -> Router {
        self.v3 = Some(Arc::new(receiver));
        self
    }

    /// Adds the SNMPv3 receiver the configuration asks for, if any
    /// (`[[traps.users]]`, version 3 UPSes), and logs its engine ID.
    pub fn with_v3_from(self, config: &Config) -> Router {
        match V3Receiver::from_config(config) {
            Some(receiver) => {
                tracing::info!(
                    engine_id = %v3::hex(receiver.engine_id()),
                    users = receiver.users.len(),
                    "SNMPv3 traps and informs accepted (informs: this is the engine ID)"
                );
                self.with_v3(receiver)
            }
            None => self,
        }
    }

    /// The SNMPv3 receiver, if any.
    pub fn v3(&self) -> Option<&V3Receiver> {
        self.v3.as_deref()
    }

    pub fn add(&mut self, ups: &UpsConfig, addrs: &[IpAddr]) {
        let index = self.routes.len();
        self.routes.push(Route {
            ups_id: ups.id.clone(),
            community: ups.trap_community().map(str::to_string),
            user: (ups.version == SnmpVersion::V3)
                .then(|| ups.user.clone())
                .flatten(),
            engine: ups.trap_engine(),
            sources: ups.trap_sources.iter().copied().map(canonical).collect(),
            ack: ups.trap_ack,
        });
        if let Some(engine) = ups.trap_engine() {
            self.by_engine.entry(engine).or_default().push(index);
        }
        for addr in addrs {
            let routes = self.by_addr.entry(canonical(*addr)).or_default();
            if !routes.contains(&index) {
                routes.push(index);
            }
        }
    }

    /// The UPS a trap belongs to: by source, else by agent-addr (NAT),
    /// else by SNMPv3 engine ID; among UPSes sharing that address, by what
    /// the trap carries.
    pub fn route(&self, source: IpAddr, trap: &ReceivedTrap) -> Result<&Route, Rejected> {
        let candidates = self
            .by_addr
            .get(&canonical(source))
            .or_else(|| {
                trap.agent_addr
                    .and_then(|a| self.by_addr.get(&canonical(a)))
            })
            .or_else(|| trap.engine_id.as_ref().and_then(|e| self.by_engine.get(e)))
            .ok_or(Rejected::UnknownSource(source))?;
        let index = match candidates.as_slice() {
            [only] => *only,
            several => self.attribute(several, source, trap)?,
        };
        let route = &self.routes[index];
        // A v3 trap was authenticated by its user already.
        if trap.version != SnmpVersion::V3
            && route.community.as_deref().map(str::as_bytes) != Some(trap.community.as_slice())
        {
            return Err(Rejected::BadCommunity(source));
        }
        Ok(route)
    }
}

impl Router {
    /// The one of several UPSes sharing an address that the trap names:
    /// its agent-addr among a UPS's `trap_sources`, then its community
    /// (v1/v2c), or (v3) its engine ID (a UPS with that `trap_engine_id`,
    /// else none with another one) and its user.
    fn attribute(
        &self,
        candidates: &[usize],
        source: IpAddr,
        trap: &ReceivedTrap,
    ) -> Result<usize, Rejected> {
        let mut left: Vec<usize> = candidates.to_vec();
        let narrow = |left: &mut Vec<usize>, keep: &dyn Fn(&Route) -> bool| {
            let kept: Vec<usize> = left
                .iter()
                .copied()
                .filter(|&i| keep(&self.routes[i]))
                .collect();
            if !kept.is_empty() {
                *left = kept;
            }
        };
        if let Some(agent) = trap.agent_addr.map(canonical) {
            narrow(&mut left, &|route| route.sources.contains(&agent));
        }
        if trap.version == SnmpVersion::V3 {
            if let Some(engine) = &trap.engine_id {
                narrow(&mut left, &|route| route.engine.as_ref() == Some(engine));
                narrow(&mut left, &|route| {
                    route.engine.as_ref().is_none_or(|e| e == engine)
                });
            }
            narrow(&mut left, &|route| {
                route.user.is_some() && route.user == trap.user
            });
        } else {
            narrow(&mut left, &|route| {
                route.community.as_deref().map(str::as_bytes) == Some(trap.community.as_slice())
            });
        }
        match left.as_slice() {
            [only] => Ok(*only),
            several => Err(Rejected::Ambiguous {
                from: source,
                upses: several
                    .iter()
                    .map(|&i| self.routes[i].ups_id.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// IPv4-mapped IPv6 (dual-stack sockets) compares as IPv4.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// What the gateway does with a routed trap.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub ups_id: String,
    /// The event for `<base>/<ups>/event`.
    pub event: Event,
    /// Pages to re-poll at once.
    pub pages: Vec<Page>,
    /// Fields to update at once, before the re-poll answers.
    pub facts: Vec<(&'static Field, Reading)>,
    /// MGE trap number to acknowledge (upsmgAgentTrapAck), if enabled.
    pub ack: Option<i64>,
}

/// Builds the delivery of a routed trap.
pub fn deliver(
    route: &Route,
    trap: &ReceivedTrap,
    source: SocketAddr,
    now: SystemTime,
) -> Delivery {
    let def = traps::trap_by_oid(&trap.oid);
    let mut facts = effects(def);
    facts.extend(trap.varbinds.iter().filter_map(varbind_fact));
    let name = def.map_or_else(|| generic_name(&trap.oid), |d| d.event);
    let event = Event {
        time: crate::time::rfc3339(now),
        name,
        event_type: name,
        severity: def.map_or("info", |d| d.severity.name()),
        description: def.map_or("", |d| d.description),
        mib: def.map(|d| d.mib.name()),
        object: def.map(|d| d.object),
        oid: trap.oid.to_string(),
        source: source.to_string(),
        version: trap.version.to_string(),
        inform: trap.inform.is_some(),
        uptime: trap.uptime.map(|t| f64::from(t) / 100.0),
        varbinds: trap.varbinds.iter().map(varbind_event).collect(),
        user: trap.user.clone(),
        engine_id: trap.engine_id.as_deref().map(v3::hex),
    };
    Delivery {
        ups_id: route.ups_id.clone(),
        event,
        pages: def.map_or_else(|| Page::ALL.to_vec(), |d| d.pages.to_vec()),
        facts,
        ack: if route.ack { trap.mge_specific } else { None },
    }
}

fn generic_name(oid: &Oid) -> EventName {
    let generic = Oid::parse(SNMP_TRAPS).expect("valid");
    match oid.suffix_after(&generic) {
        Some([n]) if (1..=6).contains(n) => EventName::GENERIC[*n as usize - 1],
        _ => EventName::Unknown,
    }
}

/// What a few traps say outright, applied to fields the UPS already has.
fn effects(def: Option<&TrapDef>) -> Vec<(&'static Field, Reading)> {
    let Some(def) = def else { return Vec::new() };
    traps::effects_of(def.event)
        .iter()
        .filter_map(|(path, value)| {
            let field = mib::field_by_path(path)?;
            let value = match value {
                traps::Fact::Bool(b) => Reading::Bool(*b),
                traps::Fact::Label(l) => Reading::Label(crate::pages::Label::new(l)),
            };
            Some((field, value))
        })
        .collect()
}

/// The point-table source a varbind instance belongs to.
fn point_of(oid: &Oid) -> Option<(&'static Field, &'static Source)> {
    let parent = oid.parent()?;
    let grandparent = parent.parent();
    mib::FIELDS.iter().find_map(|field| {
        field.sources.iter().find_map(|source| {
            let object = source.object();
            (*object == parent || grandparent.as_ref() == Some(&*object)).then_some((field, source))
        })
    })
}

fn varbind_event((oid, value): &VarBind) -> EventVarbind {
    let point = point_of(oid);
    let decoded = point.and_then(|(_, source)| pages::decode_one(source, value));
    EventVarbind {
        oid: oid.to_string(),
        name: point.map(|(_, source)| source.object),
        field: point.map(|(field, _)| field.path()),
        value: decoded.unwrap_or_else(|| raw_json(value)),
    }
}

/// A scalar varbind the point table knows updates its field at once.
fn varbind_fact((oid, value): &VarBind) -> Option<(&'static Field, Reading)> {
    let (field, source) = point_of(oid)?;
    if field.table.is_some() || oid.parent()? != *source.object() {
        return None;
    }
    Some((field, pages::decode_reading(source, value)?))
}

fn raw_json(value: &Value) -> Json {
    match value {
        Value::OctetString(bytes) | Value::Opaque(bytes) => {
            Json::String(String::from_utf8_lossy(bytes).into_owned())
        }
        Value::ObjectId(oid) => Json::String(oid.to_string()),
        Value::IpAddress(ip) => Json::String(IpAddr::from(*ip).to_string()),
        other => other.as_i64().map_or(Json::Null, Json::from),
    }
}

/// Counters of the listener, for the bridge health topic.
#[derive(Debug, Default)]
pub struct TrapStats {
    pub received: AtomicU64,
    pub delivered: AtomicU64,
    pub informs_answered: AtomicU64,
    pub malformed: AtomicU64,
    pub not_a_trap: AtomicU64,
    pub unknown_source: AtomicU64,
    pub bad_community: AtomicU64,
    /// From an address several UPSes share, naming none of them apart.
    pub ambiguous: AtomicU64,
    /// Deliveries lost because the gateway was no longer taking them.
    pub overflow: AtomicU64,
    /// SNMPv3 drops.
    pub unknown_user: AtomicU64,
    pub unsupported_security_level: AtomicU64,
    pub wrong_digest: AtomicU64,
    pub decryption_error: AtomicU64,
    pub not_in_time_window: AtomicU64,
    /// SNMPv3 discovery probes answered (inform senders).
    pub discoveries: AtomicU64,
    /// SNMPv3 Reports sent (discovery included).
    pub reports_sent: AtomicU64,
}

impl TrapStats {
    /// The counters, as published on the bridge health topic.
    pub fn counters(&self) -> TrapCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TrapCounters {
            received: get(&self.received),
            delivered: get(&self.delivered),
            informs_answered: get(&self.informs_answered),
            dropped: TrapDrops {
                malformed: get(&self.malformed),
                not_a_trap: get(&self.not_a_trap),
                unknown_source: get(&self.unknown_source),
                bad_community: get(&self.bad_community),
                ambiguous: get(&self.ambiguous),
                overflow: get(&self.overflow),
                unknown_user: get(&self.unknown_user),
                unsupported_security_level: get(&self.unsupported_security_level),
                wrong_digest: get(&self.wrong_digest),
                decryption_error: get(&self.decryption_error),
                not_in_time_window: get(&self.not_in_time_window),
            },
            v3: TrapV3Counters {
                discoveries: get(&self.discoveries),
                reports_sent: get(&self.reports_sent),
            },
        }
    }

    /// Counts a drop; logs the 1st, 10th, 100th... of each kind.
    fn dropped(&self, why: &Rejected, source: SocketAddr) {
        let counter = match why {
            Rejected::Malformed(_) => &self.malformed,
            Rejected::NotATrap(_) => &self.not_a_trap,
            Rejected::UnknownSource(_) => &self.unknown_source,
            Rejected::BadCommunity(_) => &self.bad_community,
            Rejected::Ambiguous { .. } => &self.ambiguous,
            Rejected::UnknownUser(_) => &self.unknown_user,
            Rejected::UnsupportedSecLevel { .. } => &self.unsupported_security_level,
            Rejected::WrongDigest(_) => &self.wrong_digest,
            Rejected::DecryptionError(_) => &self.decryption_error,
            Rejected::NotInTimeWindow { .. } => &self.not_in_time_window,
            Rejected::Discovery => {
                self.discoveries.fetch_add(1, Ordering::Relaxed);
                debug!(%source, "SNMPv3 discovery probe answered");
                return;
            }
        };
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        if is_power_of_ten(n) {
            warn!(%source, count = n, "trap dropped: {why}");
        } else {
            debug!(%source, "trap dropped: {why}");
        }
    }
}

fn is_power_of_ten(mut n: u64) -> bool {
    while n % 10 == 0 && n > 1 {
        n /= 10;
    }
    n == 1
}

/// Receives datagrams until `stop`; never ends on bad input.
pub async fn listen(
    socket: UdpSocket,
    router: Arc<Router>,
    stats: Arc<TrapStats>,
    out: mpsc::Sender<Delivery>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buf) => received,
            _ = stop.changed() => return,
        };
        let (len, source) = match received {
            Ok(received) => received,
            Err(error) => {
                warn!(%error, "trap socket receive failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        stats.received.fetch_add(1, Ordering::Relaxed);
        let bytes = &buf[..len];
        let (accepted, report) = accept(bytes, source, &router);
        if let Some(report) = report {
            if socket.send_to(&report, source).await.is_ok() {
                stats.reports_sent.fetch_add(1, Ordering::Relaxed);
            }
        }
        match accepted {
            Ok((trap, route, v3_response)) => {
                if trap.inform.is_some() {
                    if let Some(response) = v3_response.or_else(|| inform_response(bytes)) {
                        if socket.send_to(&response, source).await.is_ok() {
                            stats.informs_answered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                let delivery = deliver(route, &trap, source, SystemTime::now());
                // A burst waits here (the socket's receive buffer holds the
                // datagrams behind it) rather than losing events.
                let sent = tokio::select! {
                    sent = out.send(delivery) => sent.is_ok(),
                    _ = stop.changed() => return,
                };
                if sent {
                    stats.delivered.fetch_add(1, Ordering::Relaxed);
                } else {
                    stats.overflow.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(why) => stats.dropped(&why, source),
        }
    }
}

/// A routed trap, with the SNMPv3 Response an inform is owed.
type Accepted<'r> = (ReceivedTrap, &'r Route, Option<Vec<u8>>);

/// Decodes and routes one datagram; the second value is a Report to send
/// back whatever happens (SNMPv3 discovery and failures of informs).
fn accept<'r>(
    bytes: &[u8],
    source: SocketAddr,
    router: &'r Router,
) -> (Result<Accepted<'r>, Rejected>, Option<Vec<u8>>) {
    if v3::peek_version(bytes) != Some(v3::VERSION) {
        let accepted = decode_trap(bytes).and_then(|trap| {
            router
                .route(source.ip(), &trap)
                .map(|route| (trap, route, None))
        });
        return (accepted, None);
    }
    let Some(receiver) = router.v3() else {
        let why = Rejected::UnknownUser(
            "(none configured: add [[traps.users]] or a version 3 UPS)".to_string(),
        );
        return (Err(why), None);
    };
    let received = receiver.receive(bytes);
    let accepted = received.trap.and_then(|trap| {
        router
            .route(source.ip(), &trap)
            .map(|route| (trap, route, received.response))
    });
    (accepted, received.report)
}

// ------------------------------------------------------------------ SNMPv3

/// Most (user, engine) key sets and sender engines remembered.
const V3_CACHE_LIMIT: usize = 1024;

/// One user of the listener's table.
#[derive(Debug, Clone)]
struct TrapUser {
    user: UsmUser,
    /// Only from this sender engine (v3 traps).
    engine: Option<Vec<u8>>,
}

/// The SNMPv3 side of the trap listener.
pub struct V3Receiver {
    engine_id: Vec<u8>,
    boots: u32,
    started: std::time::Instant,
    users: Vec<TrapUser>,
    state: Mutex<V3State>,
}

#[derive(Default)]
struct V3State {
    /// Keys per (user index, engine ID): localised once per engine.
    keys: HashMap<(usize, Vec<u8>), LocalKeys>,
    /// Latest (boots, time) per sender engine (RFC 3414 §3.2.7.b).
    senders: HashMap<Vec<u8>, (u32, u32)>,
    /// Report counter values.
    reports: HashMap<ReportKind, u32>,
}

impl std::fmt::Debug for V3Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V3Receiver")
            .field("engine_id", &v3::hex(&self.engine_id))
            .field("boots", &self.boots)
            .field("users", &self.users)
            .finish_non_exhaustive()
    }
}

/// What the listener makes of one SNMPv3 datagram.
#[derive(Debug)]
pub struct V3Received {
    pub trap: Result<ReceivedTrap, Rejected>,
    /// The Response an accepted inform is owed (sent once routed).
    pub response: Option<Vec<u8>>,
    /// A Report to send back at once.
    pub report: Option<Vec<u8>>,
}

impl V3Receiver {
    /// A receiver with its own `engine_id` and `users` (each optionally
    /// restricted to one sender engine). Engine boots come from the clock
    /// (seconds since 2020), so they grow across restarts without storage.
    pub fn new(engine_id: Vec<u8>, users: Vec<(UsmUser, Option<Vec<u8>>)>) -> V3Receiver {
        let since_2020 = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .saturating_sub(1_577_836_800);
        V3Receiver {
            engine_id,
            boots: u32::try_from(since_2020)
                .unwrap_or(v3::MAX_ENGINE_VALUE - 1)
                .clamp(1, v3::MAX_ENGINE_VALUE - 1),
            started: std::time::Instant::now(),
            users: users
                .into_iter()
                .map(|(user, engine)| TrapUser { user, engine })
                .collect(),
            state: Mutex::new(V3State::default()),
        }
    }

    /// From the configuration: `[[traps.users]]` and the user of every
    /// `version = "3"` UPS. `None` when there is no v3 user at all.
    pub fn from_config(config: &Config) -> Option<V3Receiver> {
        let mut users = Vec::new();
        for user in &config.traps.users {
            match user.usm_user() {
                Ok(usm) => users.push((usm, user.engine())),
                Err(error) => warn!(%error, "trap user skipped"),
            }
        }
        for ups in &config.ups {
            match ups.usm_users() {
                Ok(Some((user, _))) => users.push((user, None)),
                Ok(None) => {}
                Err(error) => warn!(%error, "v3 user of the UPS skipped for traps"),
            }
        }
        if users.is_empty() {
            return None;
        }
        let engine_id = config.traps.engine_id(&config.gateway.id);
        Some(V3Receiver::new(engine_id, users))
    }

    /// The listener's engine ID (cards sending informs need it).
    pub fn engine_id(&self) -> &[u8] {
        &self.engine_id
    }

    /// The listener's (boots, time) now.
    pub fn engine_time(&self) -> (u32, u32) {
        let time = u32::try_from(self.started.elapsed().as_secs()).unwrap_or(u32::MAX);
        (self.boots, time.min(v3::MAX_ENGINE_VALUE))
    }

    /// Processes one SNMPv3 datagram (pure apart from the key and time
    /// caches: tests call it directly).
    pub fn receive(&self, bytes: &[u8]) -> V3Received {
        let mut report = None;
        let trap = self.process(bytes, &mut report);
        let (trap, response) = match trap {
            Ok((trap, response)) => (Ok(trap), response),
            Err(why) => (Err(why), None),
        };
        V3Received {
            trap,
            response,
            report,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, V3State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn process(
        &self,
        bytes: &[u8],
        report: &mut Option<Vec<u8>>,
    ) -> Result<(ReceivedTrap, Option<Vec<u8>>), Rejected> {
        let incoming = Incoming::parse(bytes).map_err(|e| Rejected::Malformed(e.to_string()))?;
        let user_name = String::from_utf8_lossy(&incoming.usm.user).into_owned();
        let ours = incoming.usm.engine_id == self.engine_id;
        let confirmed = incoming.reportable();
        // RFC 3414 §3.2.3: a confirmed-class message (an inform, or a
        // discovery probe for one) names us, or learns our engine ID.
        if confirmed && !ours {
            *report = self.report(&incoming, ReportKind::UnknownEngineId, &LocalKeys::none());
            return Err(Rejected::Discovery);
        }
        let fail =
            |kind: ReportKind, keys: &LocalKeys, why: Rejected, report: &mut Option<Vec<u8>>| {
                if confirmed {
                    *report = self.report(&incoming, kind, keys);
                }
                why
            };
        let named: Vec<usize> = (0..self.users.len())
            .filter(|&i| self.users[i].user.name() == incoming.usm.user.as_slice())
            .filter(|&i| {
                ours || self.users[i]
                    .engine
                    .as_ref()
                    .is_none_or(|e| *e == incoming.usm.engine_id)
            })
            .collect();
        if named.is_empty() {
            let why = Rejected::UnknownUser(user_name);
            return Err(fail(
                ReportKind::UnknownUserName,
                &LocalKeys::none(),
                why,
                report,
            ));
        }
        let level = incoming.level();
        let candidates: Vec<usize> = named
            .into_iter()
            .filter(|&i| self.users[i].user.level() == level)
            .collect();
        if candidates.is_empty() {
            let why = Rejected::UnsupportedSecLevel {
                user: user_name,
                level,
            };
            return Err(fail(
                ReportKind::UnsupportedSecLevel,
                &LocalKeys::none(),
                why,
                report,
            ));
        }
        let engine = if ours {
            self.engine_id.clone()
        } else {
            incoming.usm.engine_id.clone()
        };
        if engine.is_empty() {
            return Err(Rejected::Malformed(
                "SNMPv3 trap without an engine ID".into(),
            ));
        }
        let keys = candidates
            .iter()
            .map(|&i| self.keys(i, &engine))
            .find(|keys| level == SecurityLevel::NoAuthNoPriv || incoming.verify(keys).is_ok());
        let Some(keys) = keys else {
            let why = Rejected::WrongDigest(user_name);
            return Err(fail(
                ReportKind::WrongDigest,
                &LocalKeys::none(),
                why,
                report,
            ));
        };
        if level != SecurityLevel::NoAuthNoPriv {
            self.check_time(&incoming, ours).map_err(|why| {
                fail(
                    ReportKind::NotInTimeWindow,
                    &keys.without_privacy(),
                    why,
                    report,
                )
            })?;
        }
        let scoped = incoming.scoped_pdu(&keys).map_err(|e| match e {
            V3Error::Crypto(_) => fail(
                ReportKind::DecryptionError,
                &LocalKeys::none(),
                Rejected::DecryptionError(user_name.clone()),
                report,
            ),
            other => Rejected::Malformed(other.to_string()),
        })?;
        let request_id = scoped.pdu.request_id;
        let varbinds = scoped.pdu.varbinds.clone();
        // An inform's authoritative engine is this listener: the sender
        // names itself (if at all) as the contextEngineID.
        let sender = match ours {
            true if scoped.context_engine_id != self.engine_id => scoped.context_engine_id.clone(),
            true => Vec::new(),
            false => incoming.usm.engine_id.clone(),
        };
        let mut trap = decode_v2(SnmpVersion::V3, Vec::new(), scoped.pdu)?;
        trap.user = Some(user_name);
        trap.engine_id = (!sender.is_empty()).then_some(sender);
        let response = match trap.inform {
            Some(_) => {
                let (boots, time) = self.engine_time();
                let usm = UsmParams {
                    engine_id: self.engine_id.clone(),
                    boots,
                    time,
                    user: incoming.usm.user.clone(),
                };
                let pdu = CommonPdu::new(PduKind::Response, request_id, varbinds);
                let scoped = ScopedPdu {
                    context_engine_id: scoped.context_engine_id,
                    context_name: scoped.context_name,
                    pdu,
                };
                v3::encode(incoming.msg_id, false, &usm, &keys, &scoped).ok()
            }
            None => None,
        };
        Ok((trap, response))
    }

    /// The keys of user `index` for `engine`, localised once.
    fn keys(&self, index: usize, engine: &[u8]) -> LocalKeys {
        let mut state = self.state();
        if state.keys.len() >= V3_CACHE_LIMIT {
            state.keys.clear();
        }
        state
            .keys
            .entry((index, engine.to_vec()))
            .or_insert_with(|| self.users[index].user.localize(engine))
            .clone()
    }

    /// RFC 3414 §3.2.7: as the authoritative engine for informs (`ours`),
    /// and as the non-authoritative one for traps.
    fn check_time(&self, incoming: &Incoming<'_>, ours: bool) -> Result<(), Rejected> {
        let (boots, time) = (incoming.usm.boots, incoming.usm.time);
        let outside = || Rejected::NotInTimeWindow {
            engine: v3::hex(&incoming.usm.engine_id),
            boots,
            time,
        };
        if ours {
            let (our_boots, our_time) = self.engine_time();
            if boots != our_boots || time.abs_diff(our_time) > v3::TIME_WINDOW {
                return Err(outside());
            }
            return Ok(());
        }
        let mut state = self.state();
        if state.senders.len() >= V3_CACHE_LIMIT {
            state.senders.clear();
        }
        let latest = state
            .senders
            .entry(incoming.usm.engine_id.clone())
            .or_insert((boots, time));
        if boots == v3::MAX_ENGINE_VALUE
            || boots < latest.0
            || (boots == latest.0 && time.saturating_add(v3::TIME_WINDOW) < latest.1)
        {
            return Err(outside());
        }
        if boots > latest.0 || (boots == latest.0 && time > latest.1) {
            *latest = (boots, time);
        }
        Ok(())
    }

    /// A Report for a confirmed-class message (RFC 3414 §3.2 step 3-8):
    /// unauthenticated, except `notInTimeWindow` (authNoPriv with `keys`).
    fn report(
        &self,
        incoming: &Incoming<'_>,
        kind: ReportKind,
        keys: &LocalKeys,
    ) -> Option<Vec<u8>> {
        let value = {
            let mut state = self.state();
            let counter = state.reports.entry(kind).or_insert(0);
            *counter = counter.wrapping_add(1);
            *counter
        };
        // The request id, when the scoped PDU can be read in the clear.
        let request_id = incoming
            .scoped_pdu(&LocalKeys::none())
            .map_or(0, |s| s.pdu.request_id);
        let (boots, time) = self.engine_time();
        let usm = UsmParams {
            engine_id: self.engine_id.clone(),
            boots,
            time,
            user: incoming.usm.user.clone(),
        };
        let scoped = ScopedPdu {
            context_engine_id: self.engine_id.clone(),
            context_name: Vec::new(),
            pdu: kind.report(request_id, value),
        };
        v3::encode(incoming.msg_id, false, &usm, keys, &scoped).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_json(delivery: &Delivery) -> Json {
        serde_json::to_value(&delivery.event).unwrap()
    }
    use crate::snmp::TrapV1;
    use crate::snmp::Version;

    fn v1_trap(community: &str, specific: i64) -> Vec<u8> {
        let trap = TrapV1 {
            enterprise: Oid::parse("1.3.6.1.4.1.705.1.11").unwrap(),
            agent_addr: [10, 0, 0, 7],
            generic_trap: 6,
            specific_trap: specific,
            timestamp: 4242,
            varbinds: vec![(
                Oid::parse("1.3.6.1.4.1.705.1.5.2.0").unwrap(),
                Value::Integer(55),
            )],
        };
        Message {
            version: Version::V1,
            community: community.as_bytes().to_vec(),
            pdu: Pdu::TrapV1(trap),
        }
        .encode()
    }

    fn v2_inform(request_id: i32) -> Vec<u8> {
        let varbinds = vec![
            (Oid::parse(SYS_UPTIME).unwrap(), Value::TimeTicks(7)),
            (
                Oid::parse(SNMP_TRAP_OID).unwrap(),
                Value::oid(Oid::parse("1.3.6.1.2.1.33.2.3").unwrap()),
            ),
            (
                Oid::parse("1.3.6.1.2.1.33.1.6.2.1.2.5").unwrap(),
                Value::oid(Oid::parse("1.3.6.1.2.1.33.1.6.3.8").unwrap()),
            ),
        ];
        Message::new(
            Version::V2c,
            "public",
            CommonPdu::new(PduKind::Inform, request_id, varbinds),
        )
        .encode()
    }

    fn router() -> Router {
        let mut ups = UpsConfig::new("rack1", "127.0.0.1", 161);
        ups.trap_ack = true;
        let mut router = Router::default();
        router.add(
            &ups,
            &["127.0.0.1".parse().unwrap(), "10.0.0.7".parse().unwrap()],
        );
        router
    }

    #[test]
    fn v1_enterprise_traps_translate_and_route_by_agent_addr() {
        let trap = decode_trap(&v1_trap("public", 11)).unwrap();
        assert_eq!(trap.oid.to_string(), "1.3.6.1.4.1.705.1.11.0.11");
        assert_eq!(trap.mge_specific, Some(11));
        let router = router();
        let route = router
            .route("192.0.2.1".parse().unwrap(), &trap)
            .expect("agent-addr 10.0.0.7 routes");
        let delivery = deliver(
            route,
            &trap,
            "192.0.2.1:5000".parse().unwrap(),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(event_json(&delivery)["name"], "on_battery");
        assert_eq!(delivery.ack, Some(11));
        assert!(delivery.pages.contains(&Page::Battery));
        let fact = |path: &str| {
            let field = mib::field_by_path(path).unwrap();
            delivery
                .facts
                .iter()
                .find(|(f, _)| std::ptr::eq(*f, field))
                .map(|(_, reading)| reading.to_json())
        };
        // upsmgBatteryLevel 55 (%) in the varbinds; upsmgOnBattery means on battery.
        assert_eq!(fact("battery.charge"), Some(Json::from(55)));
        assert_eq!(fact("output.on_battery"), Some(Json::Bool(true)));
        assert_eq!(event_json(&delivery)["time"], "1970-01-01T00:00:00.000Z");
        let wrong = decode_trap(&v1_trap("nope", 11)).unwrap();
        assert_eq!(
            router
                .route("127.0.0.1".parse().unwrap(), &wrong)
                .unwrap_err(),
            Rejected::BadCommunity("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn mge_load_ok_clears_the_overload_at_once() {
        // MG-SNMP-UPS-MIB: upsmgLoadOK is TRAP-TYPE 22 of upsmgTraps,
        // "Trap UPS quit overload condition".
        let trap = decode_trap(&v1_trap("public", 22)).unwrap();
        let delivery = deliver(
            &router().routes[0],
            &trap,
            "127.0.0.1:1".parse().unwrap(),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(event_json(&delivery)["name"], "load_ok");
        assert_eq!(event_json(&delivery)["object"], "upsmgLoadOK");
        let overload = mib::field_by_path("output.overload").unwrap();
        assert!(
            delivery
                .facts
                .iter()
                .any(|(f, r)| std::ptr::eq(*f, overload) && *r == Reading::Bool(false)),
            "{:?}",
            delivery.facts
        );
    }

    #[test]
    fn informs_are_answered_with_their_request_id() {
        let bytes = v2_inform(77);
        let trap = decode_trap(&bytes).unwrap();
        assert_eq!(trap.inform, Some(77));
        assert_eq!(trap.uptime, Some(7));
        let response = Message::decode(&inform_response(&bytes).unwrap()).unwrap();
        let pdu = response.common().unwrap();
        assert_eq!((pdu.kind, pdu.request_id), (PduKind::Response, 77));
        let delivery = deliver(
            &router().routes[0],
            &trap,
            "127.0.0.1:1".parse().unwrap(),
            SystemTime::now(),
        );
        assert_eq!(event_json(&delivery)["name"], "alarm_added");
        assert_eq!(
            event_json(&delivery)["varbinds"][0]["value"],
            "output_overload"
        );
        assert!(inform_response(&v1_trap("public", 11)).is_none());
    }

    #[test]
    fn requests_and_generic_traps() {
        let get = Message::new(
            Version::V2c,
            "public",
            CommonPdu::new(PduKind::Get, 1, vec![]),
        )
        .encode();
        assert!(matches!(decode_trap(&get), Err(Rejected::NotATrap(_))));
        let mut cold = TrapV1 {
            enterprise: Oid::parse("1.3.6.1.4.1.705.1").unwrap(),
            agent_addr: [127, 0, 0, 1],
            generic_trap: 0,
            specific_trap: 0,
            timestamp: 0,
            varbinds: vec![],
        };
        let bytes = |t: &TrapV1| {
            Message {
                version: Version::V1,
                community: b"public".to_vec(),
                pdu: Pdu::TrapV1(t.clone()),
            }
            .encode()
        };
        let trap = decode_trap(&bytes(&cold)).unwrap();
        assert_eq!(generic_name(&trap.oid), EventName::ColdStart);
        cold.generic_trap = 6;
        cold.specific_trap = -3;
        assert!(matches!(
            decode_trap(&bytes(&cold)),
            Err(Rejected::Malformed(_))
        ));
    }

    /// Random bytes and mutated real traps: the decoder answers, never
    /// panics (a cheap, deterministic fuzz run on every `cargo test`).
    #[test]
    fn the_decoder_survives_random_and_mutated_input() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let seeds = [v1_trap("public", 11), v2_inform(5)];
        let (mut accepted, mut rejected) = (0, 0);
        for round in 0..40_000 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                let len = (next() % 200) as usize;
                (0..len).map(|_| next() as u8).collect()
            } else {
                let mut bytes = seeds[round % 4 / 2].clone();
                for _ in 0..=(next() % 4) {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
                bytes.truncate(bytes.len() - (next() as usize % 3));
                bytes
            };
            match decode_trap(&bytes) {
                Ok(_) => accepted += 1,
                Err(_) => rejected += 1,
            }
            let _ = inform_response(&bytes);
        }
        assert!(
            accepted > 100 && rejected > 20_000,
            "accepted {accepted}, rejected {rejected}"
        );
    }

    mod v3_listener {
        use super::*;
        use crate::snmp::usm::{AuthProtocol, PrivProtocol};

        const LISTENER: &[u8] = b"\x80\x00\x00\x00\x04listener";
        const SENDER: &[u8] = b"\x80\x00\x00\x00\x04card-1";

        fn user(auth: &str) -> UsmUser {
            UsmUser::new(
                "trapper",
                Some((AuthProtocol::Sha256, auth)),
                Some((PrivProtocol::Aes128, "privpass123")),
            )
            .unwrap()
        }

        fn receiver(restrict: Option<&[u8]>) -> V3Receiver {
            V3Receiver::new(
                LISTENER.to_vec(),
                vec![(user("authpass123"), restrict.map(<[u8]>::to_vec))],
            )
        }

        fn notification(kind: PduKind) -> CommonPdu {
            let varbinds = vec![
                (Oid::parse(SYS_UPTIME).unwrap(), Value::TimeTicks(7)),
                (
                    Oid::parse(SNMP_TRAP_OID).unwrap(),
                    Value::oid(Oid::parse("1.3.6.1.2.1.33.2.1").unwrap()),
                ),
            ];
            CommonPdu::new(kind, 31, varbinds)
        }

        fn message(
            engine: &[u8],
            boots: u32,
            time: u32,
            user: &UsmUser,
            kind: PduKind,
            reportable: bool,
        ) -> Vec<u8> {
            let usm = UsmParams {
                engine_id: engine.to_vec(),
                boots,
                time,
                user: user.name().to_vec(),
            };
            let scoped = ScopedPdu {
                context_engine_id: SENDER.to_vec(),
                context_name: Vec::new(),
                pdu: notification(kind),
            };
            v3::encode(9, reportable, &usm, &user.localize(engine), &scoped).unwrap()
        }

        fn report_kind(bytes: &[u8]) -> (ReportKind, Vec<u8>) {
            let incoming = Incoming::parse(bytes).unwrap();
            let engine = incoming.usm.engine_id.clone();
            let scoped = incoming.scoped_pdu(&LocalKeys::none()).unwrap();
            (ReportKind::of(&scoped.pdu).unwrap(), engine)
        }

        #[test]
        fn traps_are_authenticated_per_sender_engine() {
            let receiver = receiver(None);
            for engine in [SENDER, b"\x80\x00\x00\x00\x04card-2".as_slice()] {
                let bytes = message(engine, 3, 100, &user("authpass123"), PduKind::TrapV2, false);
                let received = receiver.receive(&bytes);
                let trap = received.trap.unwrap();
                assert_eq!(trap.version, SnmpVersion::V3);
                assert_eq!(trap.user.as_deref(), Some("trapper"));
                assert_eq!(trap.oid.to_string(), "1.3.6.1.2.1.33.2.1");
                assert!(received.report.is_none() && received.response.is_none());
            }
            // Wrong key: dropped before decoding, no Report for a trap.
            let bad = message(SENDER, 3, 100, &user("wrongpass1"), PduKind::TrapV2, false);
            let received = receiver.receive(&bad);
            assert_eq!(
                received.trap.unwrap_err(),
                Rejected::WrongDigest("trapper".into())
            );
            assert!(received.report.is_none());
            // An old message of the same engine (boots went back): replay.
            let old = message(SENDER, 2, 100, &user("authpass123"), PduKind::TrapV2, false);
            assert!(matches!(
                receiver.receive(&old).trap,
                Err(Rejected::NotInTimeWindow { boots: 2, .. })
            ));
            // Keys were localised once per engine.
            assert_eq!(receiver.state().keys.len(), 2);
        }

        #[test]
        fn a_user_restricted_to_an_engine_is_unknown_elsewhere() {
            let receiver = receiver(Some(SENDER));
            let ok = message(SENDER, 1, 1, &user("authpass123"), PduKind::TrapV2, false);
            assert!(receiver.receive(&ok).trap.is_ok());
            let other = message(
                b"\x80\x00\x00\x00\x04other",
                1,
                1,
                &user("authpass123"),
                PduKind::TrapV2,
                false,
            );
            assert_eq!(
                receiver.receive(&other).trap.unwrap_err(),
                Rejected::UnknownUser("trapper".into())
            );
        }

        #[test]
        fn informs_discover_the_listener_and_get_a_response() {
            let receiver = receiver(None);
            // Discovery probe: empty engine ID, reportable, noAuthNoPriv.
            let probe = v3::encode(
                5,
                true,
                &UsmParams::default(),
                &LocalKeys::none(),
                &ScopedPdu {
                    context_engine_id: Vec::new(),
                    context_name: Vec::new(),
                    pdu: CommonPdu::new(PduKind::Get, 5, Vec::new()),
                },
            )
            .unwrap();
            let received = receiver.receive(&probe);
            assert_eq!(received.trap.unwrap_err(), Rejected::Discovery);
            let (kind, engine) = report_kind(&received.report.unwrap());
            assert_eq!(
                (kind, engine.as_slice()),
                (ReportKind::UnknownEngineId, LISTENER)
            );

            // The inform itself, in the listener's time window.
            let (boots, time) = receiver.engine_time();
            let inform = message(
                LISTENER,
                boots,
                time,
                &user("authpass123"),
                PduKind::Inform,
                true,
            );
            let received = receiver.receive(&inform);
            let trap = received.trap.unwrap();
            assert_eq!(trap.inform, Some(31));
            let response = received.response.unwrap();
            let incoming = Incoming::parse(&response).unwrap();
            let keys = user("authpass123").localize(LISTENER);
            incoming.verify(&keys).unwrap();
            assert_eq!(incoming.level(), SecurityLevel::AuthPriv);
            let pdu = incoming.scoped_pdu(&keys).unwrap().pdu;
            assert_eq!((pdu.kind, pdu.request_id), (PduKind::Response, 31));

            // Out of the window: an authenticated notInTimeWindow Report.
            let stale = message(
                LISTENER,
                boots,
                time + 1000,
                &user("authpass123"),
                PduKind::Inform,
                true,
            );
            let received = receiver.receive(&stale);
            assert!(matches!(
                received.trap,
                Err(Rejected::NotInTimeWindow { .. })
            ));
            let report = received.report.unwrap();
            let incoming = Incoming::parse(&report).unwrap();
            assert_eq!(incoming.level(), SecurityLevel::AuthNoPriv);
            incoming.verify(&keys).unwrap();
            assert_eq!(
                (incoming.usm.boots, incoming.usm.time),
                receiver.engine_time()
            );

            // A wrong key on an inform: a wrongDigest Report.
            let bad = message(
                LISTENER,
                boots,
                time,
                &user("wrongpass1"),
                PduKind::Inform,
                true,
            );
            let received = receiver.receive(&bad);
            assert_eq!(
                report_kind(&received.report.unwrap()).0,
                ReportKind::WrongDigest
            );
        }

        /// Two cards behind one address, one user: each trap goes to the
        /// UPS whose `trap_engine_id` its engine ID is; an engine no UPS
        /// names is ambiguous; a v3 trap from an unknown address still
        /// finds its UPS by engine ID.
        #[test]
        fn shared_address_v3_traps_are_attributed_by_engine_id() {
            let card_2 = b"\x80\x00\x00\x00\x04card-2".as_slice();
            let mut router = Router::default();
            for (id, port, engine) in [("left", 161, SENDER), ("right", 1161, card_2)] {
                let mut ups = UpsConfig::new(id, "127.0.0.1", port);
                ups.version = SnmpVersion::V3;
                ups.user = Some("trapper".into());
                ups.trap_engine_id = Some(v3::hex(engine));
                router.add(&ups, &["127.0.0.1".parse().unwrap()]);
            }
            let router = router.with_v3(receiver(None));
            let source: SocketAddr = "127.0.0.1:4000".parse().unwrap();
            let routed = |engine: &[u8], source: SocketAddr| {
                let bytes = message(engine, 1, 1, &user("authpass123"), PduKind::TrapV2, false);
                accept(&bytes, source, &router)
                    .0
                    .map(|(trap, route, _)| (route.ups_id.clone(), trap))
            };
            let (ups, trap) = routed(card_2, source).unwrap();
            assert_eq!(ups, "right");
            let delivery = deliver(&router.routes[1], &trap, source, SystemTime::UNIX_EPOCH);
            assert_eq!(event_json(&delivery)["engine_id"], v3::hex(card_2));
            assert_eq!(routed(SENDER, source).unwrap().0, "left");
            assert!(matches!(
                routed(b"\x80\x00\x00\x00\x04card-3", source),
                Err(Rejected::Ambiguous { .. })
            ));
            let elsewhere: SocketAddr = "192.0.2.50:4000".parse().unwrap();
            assert_eq!(routed(card_2, elsewhere).unwrap().0, "right");
            // v1/v2c events carry no engine ID.
            let v1 = decode_trap(&v1_trap("public", 11)).unwrap();
            assert_eq!(v1.engine_id, None);
        }

        #[test]
        fn routed_v3_traps_skip_the_community_check() {
            let mut ups = UpsConfig::new("rack1", "127.0.0.1", 161);
            ups.version = SnmpVersion::V3;
            let mut router = Router::default();
            router.add(&ups, &["127.0.0.1".parse().unwrap()]);
            let router = router.with_v3(receiver(None));
            let bytes = message(SENDER, 1, 1, &user("authpass123"), PduKind::TrapV2, false);
            let source: SocketAddr = "127.0.0.1:4000".parse().unwrap();
            let (accepted, report) = accept(&bytes, source, &router);
            assert!(report.is_none());
            let (trap, route, _) = accepted.unwrap();
            let delivery = deliver(route, &trap, source, SystemTime::UNIX_EPOCH);
            assert_eq!(event_json(&delivery)["version"], "3");
            assert_eq!(event_json(&delivery)["user"], "trapper");
            // v1/v2c traps for a v3 UPS without trap_community: refused.
            let (refused, _) = accept(&v1_trap("public", 11), source, &router);
            assert!(matches!(refused, Err(Rejected::BadCommunity(_))));
        }
    }

    #[test]
    fn powers_of_ten_rate_limit_logs() {
        let logged: Vec<u64> = (1..=2000).filter(|n| is_power_of_ten(*n)).collect();
        assert_eq!(logged, [1, 10, 100, 1000]);
    }
}
