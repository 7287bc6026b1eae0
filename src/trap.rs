//! The SNMP trap listener: UDP datagrams → named UPS events.
//!
//! This module owns trap decoding (SNMPv1 Trap-PDU, SNMPv2c Trap and
//! InformRequest, which it answers), matching a trap to a configured UPS
//! (by source address, extra configured sources, or the v1 agent-addr field
//! for NAT setups), the community check, the event JSON, and counting what
//! it drops (malformed, unknown source, wrong community) with rate-limited
//! log lines: no datagram can end the listener. It knows nothing of MQTT:
//! deliveries go to a bounded channel the gateway drains.

use crate::config::UpsConfig;
use crate::mib::traps::{self, TrapDef};
use crate::mib::{self, Field, Page, Source};
use crate::oid::Oid;
use crate::pages;
use crate::snmp::{CommonPdu, ErrorStatus, Message, Pdu, PduKind, Value, VarBind, Version};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
const GENERIC_TRAPS: [&str; 6] = [
    "cold_start",
    "warm_start",
    "link_down",
    "link_up",
    "authentication_failure",
    "egp_neighbor_loss",
];

/// A trap as it arrived, before routing.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedTrap {
    pub version: Version,
    pub community: Vec<u8>,
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
            let mge = Oid::parse("1.3.6.1.4.1.705.1.11").expect("valid");
            Ok(ReceivedTrap {
                version: message.version,
                community: message.community,
                mge_specific: (trap.enterprise == mge).then_some(trap.specific_trap),
                oid,
                agent_addr: Some(IpAddr::from(trap.agent_addr)),
                uptime: Some(trap.timestamp),
                varbinds: trap.varbinds,
                inform: None,
            })
        }
        Pdu::Common(pdu) => decode_v2(message.version, message.community, pdu),
    }
}

fn decode_v2(
    version: Version,
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
            Value::ObjectId(o) if name == trap_oid => oid = Some(o),
            Value::IpAddress(ip) if name == address_oid => agent_addr = Some(IpAddr::from(ip)),
            value => varbinds.push((name, value)),
        }
    }
    let oid = oid.ok_or_else(|| Rejected::Malformed("no snmpTrapOID.0".into()))?;
    let mge = Oid::parse("1.3.6.1.4.1.705.1.11").expect("valid");
    let mge_specific = match oid.suffix_after(&mge) {
        Some([0, n]) => Some(i64::from(*n)),
        _ => None,
    };
    Ok(ReceivedTrap {
        version,
        community,
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
    pub community: String,
    pub ack: bool,
}

/// Source address → UPS.
#[derive(Debug, Clone, Default)]
pub struct Router {
    by_addr: HashMap<IpAddr, usize>,
    routes: Vec<Route>,
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

    pub fn add(&mut self, ups: &UpsConfig, addrs: &[IpAddr]) {
        let index = self.routes.len();
        self.routes.push(Route {
            ups_id: ups.id.clone(),
            community: ups.trap_community().to_string(),
            ack: ups.trap_ack,
        });
        for addr in addrs {
            self.by_addr.insert(canonical(*addr), index);
        }
    }

    /// The UPS a trap belongs to: by source, else by agent-addr (NAT).
    pub fn route(&self, source: IpAddr, trap: &ReceivedTrap) -> Result<&Route, Rejected> {
        let index = self
            .by_addr
            .get(&canonical(source))
            .or_else(|| {
                trap.agent_addr
                    .and_then(|a| self.by_addr.get(&canonical(a)))
            })
            .ok_or(Rejected::UnknownSource(source))?;
        let route = &self.routes[*index];
        if trap.community != route.community.as_bytes() {
            return Err(Rejected::BadCommunity(source));
        }
        Ok(route)
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
    /// The event JSON for `<base>/<ups>/event`.
    pub event: Json,
    /// Pages to re-poll at once.
    pub pages: Vec<Page>,
    /// Page fields to update at once, before the re-poll answers.
    pub patch: Vec<(Page, String, Json)>,
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
    let decoded: Vec<Json> = trap.varbinds.iter().map(varbind_json).collect();
    let mut patch = effects(def);
    patch.extend(trap.varbinds.iter().filter_map(varbind_patch));
    let event = json!({
        "time": crate::time::rfc3339(now),
        "name": def.map_or_else(|| generic_name(&trap.oid), |d| d.event.to_string()),
        "event_type": def.map_or_else(|| generic_name(&trap.oid), |d| d.event.to_string()),
        "severity": def.map_or("info", |d| d.severity.name()),
        "description": def.map_or("", |d| d.description),
        "mib": def.map(|d| d.mib.name()),
        "object": def.map(|d| d.object),
        "oid": trap.oid.to_string(),
        "source": source.to_string(),
        "version": trap.version.to_string(),
        "inform": trap.inform.is_some(),
        "uptime": trap.uptime.map(|t| f64::from(t) / 100.0),
        "varbinds": decoded,
    });
    Delivery {
        ups_id: route.ups_id.clone(),
        event,
        pages: def.map_or_else(|| Page::ALL.to_vec(), |d| d.pages.to_vec()),
        patch,
        ack: if route.ack { trap.mge_specific } else { None },
    }
}

fn generic_name(oid: &Oid) -> String {
    let generic = Oid::parse(SNMP_TRAPS).expect("valid");
    match oid.suffix_after(&generic) {
        Some([n]) if (1..=6).contains(n) => GENERIC_TRAPS[*n as usize - 1].to_string(),
        _ => "unknown".to_string(),
    }
}

/// What a few traps say outright, applied to fields the UPS already has.
fn effects(def: Option<&TrapDef>) -> Vec<(Page, String, Json)> {
    let Some(def) = def else { return Vec::new() };
    traps::effects_of(def.event)
        .iter()
        .filter_map(|(path, value)| {
            let field = mib::field_by_path(path)?;
            let value = match value {
                traps::Fact::Bool(b) => Json::Bool(*b),
                traps::Fact::Label(l) => Json::String((*l).to_string()),
            };
            Some((field.page, field.key.to_string(), value))
        })
        .collect()
}

/// The point-table source a varbind instance belongs to.
fn point_of(oid: &Oid) -> Option<(&'static Field, &'static Source)> {
    let parent = oid.parent()?;
    let grandparent = parent.parent();
    mib::FIELDS.iter().find_map(|field| {
        field.sources.iter().find_map(|source| {
            let object = source.object_oid();
            (object == parent || grandparent.as_ref() == Some(&object)).then_some((field, source))
        })
    })
}

fn varbind_json((oid, value): &VarBind) -> Json {
    let point = point_of(oid);
    let decoded = point.and_then(|(_, source)| pages::decode_one(source, value));
    json!({
        "oid": oid.to_string(),
        "name": point.map(|(_, source)| source.object),
        "field": point.map(|(field, _)| field.path()),
        "value": decoded.unwrap_or_else(|| raw_json(value)),
    })
}

/// A scalar varbind the point table knows updates its page field at once.
fn varbind_patch((oid, value): &VarBind) -> Option<(Page, String, Json)> {
    let (field, source) = point_of(oid)?;
    if field.table.is_some() || oid.parent()? != source.object_oid() {
        return None;
    }
    let json = pages::decode_one(source, value)?;
    Some((field.page, field.key.to_string(), json))
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
    /// Deliveries lost because the gateway's queue was full.
    pub overflow: AtomicU64,
}

impl TrapStats {
    pub fn to_json(&self) -> Json {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "received": get(&self.received),
            "delivered": get(&self.delivered),
            "informs_answered": get(&self.informs_answered),
            "dropped": {
                "malformed": get(&self.malformed),
                "not_a_trap": get(&self.not_a_trap),
                "unknown_source": get(&self.unknown_source),
                "bad_community": get(&self.bad_community),
                "overflow": get(&self.overflow),
            },
        })
    }

    /// Counts a drop; logs the 1st, 10th, 100th... of each kind.
    fn dropped(&self, why: &Rejected, source: SocketAddr) {
        let counter = match why {
            Rejected::Malformed(_) => &self.malformed,
            Rejected::NotATrap(_) => &self.not_a_trap,
            Rejected::UnknownSource(_) => &self.unknown_source,
            Rejected::BadCommunity(_) => &self.bad_community,
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
        match accept(bytes, source, &router) {
            Ok((trap, route)) => {
                if trap.inform.is_some() {
                    if let Some(response) = inform_response(bytes) {
                        if socket.send_to(&response, source).await.is_ok() {
                            stats.informs_answered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                let delivery = deliver(route, &trap, source, SystemTime::now());
                if out.try_send(delivery).is_ok() {
                    stats.delivered.fetch_add(1, Ordering::Relaxed);
                } else {
                    stats.overflow.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(why) => stats.dropped(&why, source),
        }
    }
}

fn accept<'r>(
    bytes: &[u8],
    source: SocketAddr,
    router: &'r Router,
) -> Result<(ReceivedTrap, &'r Route), Rejected> {
    let trap = decode_trap(bytes)?;
    let route = router.route(source.ip(), &trap)?;
    Ok((trap, route))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmp::TrapV1;

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
                Value::ObjectId(Oid::parse("1.3.6.1.2.1.33.2.3").unwrap()),
            ),
            (
                Oid::parse("1.3.6.1.2.1.33.1.6.2.1.2.5").unwrap(),
                Value::ObjectId(Oid::parse("1.3.6.1.2.1.33.1.6.3.8").unwrap()),
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
        assert_eq!(delivery.event["name"], "on_battery");
        assert_eq!(delivery.ack, Some(11));
        assert!(delivery.pages.contains(&Page::Battery));
        assert!(
            delivery
                .patch
                .contains(&(Page::Battery, "charge".to_string(), Json::from(55)))
        );
        assert!(delivery.patch.contains(&(
            Page::Output,
            "on_battery".to_string(),
            Json::Bool(true)
        )));
        assert_eq!(delivery.event["time"], "1970-01-01T00:00:00.000Z");
        let wrong = decode_trap(&v1_trap("nope", 11)).unwrap();
        assert_eq!(
            router
                .route("127.0.0.1".parse().unwrap(), &wrong)
                .unwrap_err(),
            Rejected::BadCommunity("127.0.0.1".parse().unwrap())
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
        assert_eq!(delivery.event["name"], "alarm_added");
        assert_eq!(delivery.event["varbinds"][0]["value"], "output_overload");
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
        assert_eq!(generic_name(&trap.oid), "cold_start");
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

    #[test]
    fn powers_of_ten_rate_limit_logs() {
        let logged: Vec<u64> = (1..=2000).filter(|n| is_power_of_ten(*n)).collect();
        assert_eq!(logged, [1, 10, 100, 1000]);
    }
}
