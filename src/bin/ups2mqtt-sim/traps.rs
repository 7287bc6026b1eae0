//! Sending the library's traps.
//!
//! The catalogue (every trap's OID, MIB, severity, description and varbind
//! objects) is `ups2mqtt::mib::traps::TRAPS`. What is the simulator's own
//! lives here: which state events fire which trap ([`fired_by`], by the
//! MIB's trap name), how each varbind gets its instance and value
//! ([`varbinds`]), and the messages ([`message`]).
//!
//! Forms on the wire (PAGES.md section 12, quirk Q10):
//! - v1: enterprise, agent-addr, generic 6 (enterpriseSpecific), specific
//!   N, timestamp, varbinds. Enterprise and N come from the notification
//!   OID ([`traps::v2_to_v1`]): `enterprise.0.N` for the SMIv1 MGE and
//!   PowerNet traps, `upsTraps.N` for RFC 1628's notifications;
//! - v2c: sysUpTime.0, snmpTrapOID.0, varbinds, and for the SMIv1 traps
//!   snmpTrapEnterprise.0 (RFC 3584).

use crate::state::Event;
use crate::state::EventKind::{self, *};
use crate::state::alarms::Alarm;
use crate::view::View;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use ups2mqtt::mib::Mib;
use ups2mqtt::mib::traps::{self, MTRAPARGS_STRING, TRAPS, TrapDef};
use ups2mqtt::oid::Oid;
use ups2mqtt::snmp::{CommonPdu, Message, Pdu, PduKind, TrapV1, Value, VarBind, Version};

/// The traps a state event sends, by MIB name, in table order; each goes
/// out only if the card serves its MIB. (Traps no event names are sent by
/// the `trap` command only.)
pub fn fired_by(kind: EventKind) -> &'static [&'static str] {
    match kind {
        MainsLost => &["upsmgUtilityFailure"],
        MainsRestored => &["upsmgUtilityRestored", "powerRestored"],
        OnBattery => &["upsTrapOnBattery", "upsmgOnBattery", "upsOnBattery"],
        OnBatteryRepeat => &["upsTrapOnBattery"],
        OffBattery => &["upsmgReturnFromBattery"],
        LowBattery => &["upsmgAtLowBattery", "lowBattery"],
        FromLowBattery => &["upsmgFromLowBattery", "returnFromLowBattery"],
        Overload => &["upsmgOverLoad", "upsOverload"],
        OverloadCleared => &["upsmgLoadOK", "upsOverloadCleared"],
        OnBypass => &["upsmgOnByPass", "switchedBypass"],
        OffBypass => &["upsmgReturnFromByPass", "returnFromBypass"],
        OutputOff => &["upsTurnedOff"],
        OutputOn => &["upsTurnedOn"],
        AlarmAdded => &["upsTrapAlarmEntryAdded"],
        AlarmRemoved => &["upsTrapAlarmEntryRemoved"],
        TestCompleted => &["upsTrapTestCompleted"],
        TestPassed => &["upsmgBatteryTestOK", "upsDiagnosticsPassed"],
        TestFailed => &["upsmgBatteryTestFail", "upsDiagnosticsFailed"],
        SelfTestPassed => &["upsmgDiagnosticTestOK", "upsDiagnosticsPassed"],
        SelfTestFailed => &["upsmgDiagnosticTestFail", "upsDiagnosticsFailed"],
        ReceptacleOnScheduled => &["upsmgOnToStart"],
        ReceptacleOffScheduled => &["upsmgOffToStart"],
        ReceptacleOn => &["upsmgOnComplete"],
        ReceptacleOff => &["upsmgOffComplete"],
        OutletGroupOn => &["upsOutletGroupTurnedOn"],
        OutletGroupOff => &["upsOutletGroupTurnedOff"],
    }
}

/// RFC 1628: upsTrapAlarmEntryAdded is not sent for upsAlarmOnBattery (2)
/// and upsAlarmTestInProgress (24); upsTrapAlarmEntryRemoved not for 24.
const SILENT_ON_ADD: &[u32] = &[2, 24];
const SILENT_ON_REMOVE: &[u32] = &[24];

/// Varbind objects the view serves no value for, which carry the row the
/// trap is about: mgreceptacleIndex, mgextAlarmIndex, mgextAlarmUID (no
/// external alarms are simulated: the row stands in) and
/// upsOutletGroupControlIndex. mtrapargsString carries the trap's
/// description; upsAlarmTable columns, the event's alarm row.
const ROW_INDEXES: &[&str] = &[
    "1.3.6.1.4.1.705.1.3.2.1.1",
    "1.3.6.1.4.1.705.1.4.25.1.1",
    "1.3.6.1.4.1.705.1.4.25.1.2",
    "1.3.6.1.4.1.318.1.1.1.12.3.2.1.1",
];

/// sysUpTime.0, snmpTrapOID.0 and snmpTrapEnterprise.0 (RFC 3418/3584).
const SYS_UPTIME_0: &str = "1.3.6.1.2.1.1.3.0";
const SNMP_TRAP_OID_0: &str = "1.3.6.1.6.3.1.1.4.1.0";
const SNMP_TRAP_ENTERPRISE_0: &str = "1.3.6.1.6.3.1.1.4.3.0";

fn oid(text: &str) -> Oid {
    Oid::parse(text).expect("the trap table's OIDs are valid (checked by the library's tests)")
}

/// A trap of the library's table by MIB name, any case.
pub fn by_name(name: &str) -> Option<&'static TrapDef> {
    TRAPS.iter().find(|t| t.object.eq_ignore_ascii_case(name))
}

/// The traps an event sends, for the MIBs the card serves.
pub fn for_event<'a>(
    event: &'a Event,
    mibs: &'a BTreeSet<Mib>,
) -> impl Iterator<Item = &'static TrapDef> + 'a {
    let names = if silent_alarm(event) {
        &[][..]
    } else {
        fired_by(event.kind)
    };
    names
        .iter()
        .filter_map(|name| by_name(name))
        .filter(move |t| mibs.contains(&t.mib))
}

fn silent_alarm(event: &Event) -> bool {
    let silent = match event.kind {
        AlarmAdded => SILENT_ON_ADD,
        AlarmRemoved => SILENT_ON_REMOVE,
        _ => return false,
    };
    event.alarm.is_some_and(|a| silent.contains(&a.arc))
}

/// A trap's varbinds, about table row `row` and `alarm`; values are read
/// from `view` (objects it has no value for are left out).
pub fn varbinds(def: &TrapDef, row: u32, alarm: Option<&Alarm>, view: &View<'_>) -> Vec<VarBind> {
    def.varbinds
        .iter()
        .filter_map(|&text| {
            let object = oid(text);
            if ROW_INDEXES.contains(&text) {
                return Some((object.child(row), Value::Integer(i64::from(row))));
            }
            if text == MTRAPARGS_STRING {
                let description = def.description.as_bytes().to_vec();
                return Some((object.child(0), Value::OctetString(description)));
            }
            if let Some(cell) = alarm.and_then(|a| view.plan.alarm_cell(&object, a)) {
                return Some(cell);
            }
            served(view, &object, row)
        })
        .collect()
}

/// A scalar at `object.0`, else a column at `object.row` (also found at
/// `object.row.0`, quirk Q1).
fn served(view: &View<'_>, object: &Oid, row: u32) -> Option<VarBind> {
    let scalar = object.child(0);
    if let Some(value) = view.get(&scalar) {
        return Some((scalar, value));
    }
    let cell = object.child(row);
    view.get(&cell)
        .or_else(|| view.get(&cell.child(0)))
        .map(|value| (cell, value))
}

/// The trap as a message in `version`'s form.
pub fn message(
    def: &TrapDef,
    version: Version,
    community: &[u8],
    sender: &Sender,
    varbinds: Vec<VarBind>,
) -> Message {
    let notification = oid(def.oid);
    let (enterprise, specific) = traps::v2_to_v1(&notification)
        .expect("notification OIDs have a parent (checked by the library's tests)");
    match version {
        Version::V1 => Message {
            version,
            community: community.to_vec(),
            pdu: Pdu::TrapV1(TrapV1 {
                enterprise,
                agent_addr: sender.agent_addr,
                generic_trap: 6,
                specific_trap: i64::from(specific),
                timestamp: sender.uptime,
                varbinds,
            }),
        },
        Version::V2c => {
            let smiv1 = notification.len() == enterprise.len() + 2;
            let mut all = Vec::with_capacity(varbinds.len() + 3);
            all.push((oid(SYS_UPTIME_0), Value::TimeTicks(sender.uptime)));
            all.push((oid(SNMP_TRAP_OID_0), Value::oid(notification)));
            all.extend(varbinds);
            if smiv1 {
                all.push((oid(SNMP_TRAP_ENTERPRISE_0), Value::oid(enterprise)));
            }
            Message::new(
                version,
                community.to_vec(),
                CommonPdu::new(PduKind::TrapV2, sender.request_id, all),
            )
        }
    }
}

/// Who sends a trap and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    pub agent_addr: [u8; 4],
    /// sysUpTime, hundredths of a second.
    pub uptime: u32,
    pub request_id: i32,
}

/// Where traps go, and in which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sink {
    pub addr: SocketAddr,
    pub version: Version,
}

/// Why a `--trap-sink` value is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad trap sink {text:?}: {reason} (expected HOST:PORT[,v1|v2c])")]
pub struct SinkParseError {
    text: String,
    reason: String,
}

impl std::str::FromStr for Sink {
    type Err = SinkParseError;

    /// `HOST:PORT`, `HOST:PORT,v1` or `HOST:PORT,v2c` (v2c by default).
    fn from_str(text: &str) -> Result<Sink, SinkParseError> {
        let err = |reason: String| SinkParseError {
            text: text.to_string(),
            reason,
        };
        let (address, version) = match text.split_once(',') {
            Some((address, version)) => (
                address,
                version.parse::<Version>().map_err(|e| err(e.to_string()))?,
            ),
            None => (text, Version::V2c),
        };
        let addr = std::net::ToSocketAddrs::to_socket_addrs(address)
            .map_err(|e| err(e.to_string()))?
            .next()
            .ok_or_else(|| err("the host has no address".to_string()))?;
        Ok(Sink { addr, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Card, CardOptions};
    use crate::layout::Layout;
    use crate::view::ViewCache;
    use std::time::Duration;

    const KINDS: [EventKind; 26] = [
        MainsLost,
        MainsRestored,
        OnBattery,
        OnBatteryRepeat,
        OffBattery,
        LowBattery,
        FromLowBattery,
        Overload,
        OverloadCleared,
        OnBypass,
        OffBypass,
        OutputOff,
        OutputOn,
        AlarmAdded,
        AlarmRemoved,
        TestCompleted,
        TestPassed,
        TestFailed,
        SelfTestPassed,
        SelfTestFailed,
        ReceptacleOnScheduled,
        ReceptacleOffScheduled,
        ReceptacleOn,
        ReceptacleOff,
        OutletGroupOn,
        OutletGroupOff,
    ];

    fn card() -> Card {
        Card::build(CardOptions {
            mibs: Mib::ALL.into_iter().collect(),
            layout: Layout::default(),
            quirks: false,
            walk: None,
            seed: 1,
            test_duration: Duration::from_secs(3),
            start_unix: 1_700_000_000,
        })
    }

    /// The varbinds `def` carries for `row` and `alarm` on a fresh card.
    fn varbinds_of(def: &TrapDef, row: u32, alarm: Option<&Alarm>) -> Vec<VarBind> {
        let card = card();
        let state = card.state(0);
        let mut cache = ViewCache::default();
        cache.refresh(&card.plan, &state);
        let view = View {
            plan: &card.plan,
            state: &state,
            cache: &cache,
        };
        varbinds(def, row, alarm, &view)
    }

    fn sender() -> Sender {
        Sender {
            agent_addr: [127, 0, 0, 1],
            uptime: 1234,
            request_id: 9,
        }
    }

    fn encoded(def: &TrapDef, version: Version, varbinds: Vec<VarBind>) -> Message {
        let message = message(def, version, b"public", &sender(), varbinds);
        Message::decode(&message.encode()).unwrap()
    }

    #[test]
    fn every_fired_trap_is_in_the_library_table() {
        for kind in KINDS {
            let names = fired_by(kind);
            assert!(!names.is_empty(), "{kind:?} fires nothing");
            let defs: Vec<&TrapDef> = names
                .iter()
                .map(|n| by_name(n).unwrap_or_else(|| panic!("{kind:?}: no trap {n}")))
                .collect();
            let index = |d: &TrapDef| TRAPS.iter().position(|t| t == d);
            assert!(
                defs.windows(2).all(|w| index(w[0]) < index(w[1])),
                "{kind:?}: not in table order"
            );
        }
        assert_eq!(
            by_name("upsmgutilityfailure").unwrap().oid,
            "1.3.6.1.4.1.705.1.11.0.17"
        );
        assert!(by_name("nope").is_none());
    }

    #[test]
    fn events_pick_their_traps_per_served_mib() {
        let all: BTreeSet<Mib> = Mib::ALL.into_iter().collect();
        let names = |event: Event, mibs: &BTreeSet<Mib>| {
            for_event(&event, mibs)
                .map(|t| t.object)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(Event::new(OnBattery), &all),
            ["upsTrapOnBattery", "upsmgOnBattery", "upsOnBattery"]
        );
        assert_eq!(names(Event::new(MainsLost), &all), ["upsmgUtilityFailure"]);
        let rfc_only = BTreeSet::from([Mib::Rfc1628]);
        assert_eq!(
            names(Event::new(OnBattery), &rfc_only),
            ["upsTrapOnBattery"]
        );
        let added = |arc| Event {
            kind: AlarmAdded,
            row: 1,
            alarm: Some(Alarm {
                id: 1,
                arc,
                since: 0,
            }),
        };
        assert!(
            names(added(2), &all).is_empty(),
            "no upsTrapAlarmEntryAdded for on battery"
        );
        assert_eq!(names(added(6), &all), ["upsTrapAlarmEntryAdded"]);
    }

    #[test]
    fn every_trap_carries_every_varbind() {
        let alarm = Alarm {
            id: 1,
            arc: 6,
            since: 0,
        };
        for def in TRAPS {
            let got = varbinds_of(def, 1, Some(&alarm));
            let objects: Vec<Oid> = def.varbinds.iter().map(|o| oid(o)).collect();
            let instances_of: Vec<Oid> = got.iter().filter_map(|(at, _)| at.parent()).collect();
            assert_eq!(instances_of, objects, "{}: {got:?}", def.object);
        }
    }

    #[test]
    fn smiv1_traps_in_v1_and_v2c_forms() {
        let def = by_name("upsmgOffComplete").unwrap();
        let varbinds = varbinds_of(def, 2, None);
        assert_eq!(varbinds.len(), 2, "index and off delay: {varbinds:?}");
        assert_eq!(
            varbinds[0],
            (oid("1.3.6.1.4.1.705.1.3.2.1.1.2"), Value::Integer(2))
        );
        assert_eq!(varbinds[1].0, oid("1.3.6.1.4.1.705.1.9.1.1.5.2"));
        let Pdu::TrapV1(trap) = encoded(def, Version::V1, varbinds.clone()).pdu else {
            panic!("not a v1 trap")
        };
        assert_eq!(
            (
                trap.enterprise.to_string().as_str(),
                trap.generic_trap,
                trap.specific_trap,
                trap.timestamp,
            ),
            ("1.3.6.1.4.1.705.1.11", 6, 32, 1234)
        );
        assert_eq!(trap.varbinds, varbinds);
        let v2 = encoded(def, Version::V2c, varbinds);
        let vb = v2.varbinds();
        assert_eq!(vb[0], (oid(SYS_UPTIME_0), Value::TimeTicks(1234)));
        assert_eq!(
            vb[1],
            (
                oid(SNMP_TRAP_OID_0),
                Value::oid(oid("1.3.6.1.4.1.705.1.11.0.32"))
            )
        );
        assert_eq!(
            vb.last().unwrap(),
            &(
                oid(SNMP_TRAP_ENTERPRISE_0),
                Value::oid(oid("1.3.6.1.4.1.705.1.11"))
            )
        );

        let group_off = by_name("upsOutletGroupTurnedOff").unwrap();
        let varbinds = varbinds_of(group_off, 2, None);
        assert_eq!(
            varbinds,
            [
                (oid("1.3.6.1.4.1.318.1.1.1.12.3.2.1.1.2"), Value::Integer(2)),
                (
                    oid("1.3.6.1.4.1.318.2.3.3.0"),
                    Value::OctetString(group_off.description.as_bytes().to_vec())
                ),
            ]
        );
        let Pdu::TrapV1(trap) = encoded(group_off, Version::V1, varbinds).pdu else {
            panic!("not a v1 trap")
        };
        assert_eq!(
            (trap.enterprise.to_string().as_str(), trap.specific_trap),
            ("1.3.6.1.4.1.318", 299)
        );
    }

    #[test]
    fn rfc1628_notifications_in_v1_and_v2c_forms() {
        let def = by_name("upsTrapAlarmEntryRemoved").unwrap();
        let alarm = Alarm {
            id: 7,
            arc: 6,
            since: 0,
        };
        let varbinds = varbinds_of(def, 0, Some(&alarm));
        assert_eq!(
            varbinds,
            [
                (oid("1.3.6.1.2.1.33.1.6.2.1.1.7"), Value::Integer(7)),
                (
                    oid("1.3.6.1.2.1.33.1.6.2.1.2.7"),
                    Value::oid(oid("1.3.6.1.2.1.33.1.6.3.6"))
                ),
            ],
            "an alarm no longer in the table"
        );
        let Pdu::TrapV1(trap) = encoded(def, Version::V1, varbinds.clone()).pdu else {
            panic!("not a v1 trap")
        };
        assert_eq!(
            (trap.enterprise.to_string().as_str(), trap.specific_trap),
            ("1.3.6.1.2.1.33.2", 4)
        );
        let v2 = encoded(def, Version::V2c, varbinds);
        let vb = v2.varbinds();
        assert_eq!(
            vb[1],
            (oid(SNMP_TRAP_OID_0), Value::oid(oid("1.3.6.1.2.1.33.2.4")))
        );
        assert_eq!(vb.len(), 4, "no snmpTrapEnterprise.0: {vb:?}");
    }

    #[test]
    fn sinks_parse() {
        let sink: Sink = "127.0.0.1:162,v1".parse().unwrap();
        assert_eq!((sink.addr.port(), sink.version), (162, Version::V1));
        assert_eq!(
            "127.0.0.1:1162".parse::<Sink>().unwrap().version,
            Version::V2c
        );
        assert!("127.0.0.1:162,v3".parse::<Sink>().is_err());
        assert!("nonsense".parse::<Sink>().is_err());
    }
}
