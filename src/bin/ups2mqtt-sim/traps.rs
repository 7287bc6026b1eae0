//! The trap catalogue and trap messages.
//!
//! [`TRAPS`] is the catalogue as data: every trap the simulator can send,
//! its MIB, its v1 identity (enterprise + specific number), how its v2c
//! snmpTrapOID is formed, its varbinds (read from the agent's OID view when
//! sent) and the state events that fire it. It is deliberately a plain
//! `static` table of `const fn` rows so it can move into the library's
//! point table unchanged.
//!
//! Forms on the wire (PAGES.md section 12, quirk Q10):
//! - v1: enterprise, agent-addr, generic 6 (enterpriseSpecific), specific
//!   N, timestamp, varbinds;
//! - v2c: sysUpTime.0, snmpTrapOID.0, varbinds. RFC 1628 notifications are
//!   their own OIDs (`1.3.6.1.2.1.33.2.N`); the SMIv1 MGE and PowerNet
//!   traps translate to `enterprise.0.N` (RFC 3584), and then also carry
//!   snmpTrapEnterprise.0.

use crate::state::Event;
use crate::state::EventKind::{self, *};
use std::net::SocketAddr;
use ups2mqtt::mib::Mib;
use ups2mqtt::oid::Oid;
use ups2mqtt::snmp::{CommonPdu, Message, Pdu, PduKind, TrapV1, Value, VarBind, Version};

/// How a trap's v2c snmpTrapOID relates to its v1 identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// An SMIv2 NOTIFICATION-TYPE: snmpTrapOID = `enterprise.N`.
    Notification,
    /// An SMIv1 TRAP-TYPE: snmpTrapOID = `enterprise.0.N`.
    TrapType,
}

/// One varbind of a trap; its value is read when the trap is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapVar {
    /// A scalar object: `OID.0`.
    Scalar(&'static str),
    /// A table column at the event's row: `OID.row`.
    Column(&'static str),
    /// A table's index column at the event's row: INTEGER row.
    Index(&'static str),
    /// A DisplayString argument (PowerNet mtrapargsString.0): the trap's
    /// summary.
    Text(&'static str),
    /// RFC 1628 upsAlarmId.id of the event's alarm.
    AlarmId(&'static str),
    /// RFC 1628 upsAlarmDescr.id of the event's alarm.
    AlarmDescr(&'static str),
}

use TrapVar::*;

/// One trap of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapDef {
    pub name: &'static str,
    pub mib: Mib,
    /// v1 enterprise (and v2c OID prefix).
    pub enterprise: &'static str,
    /// v1 specific-trap number (generic is always 6).
    pub specific: u32,
    pub form: Form,
    pub varbinds: &'static [TrapVar],
    /// State events that send it (empty: only the `trap` command does).
    pub on: &'static [EventKind],
    pub summary: &'static str,
}

const RFC1628_TRAPS: &str = "1.3.6.1.2.1.33.2";
const MGE_TRAPS: &str = "1.3.6.1.4.1.705.1.11";
const APC: &str = "1.3.6.1.4.1.318";

const fn rfc(
    specific: u32,
    name: &'static str,
    varbinds: &'static [TrapVar],
    on: &'static [EventKind],
    summary: &'static str,
) -> TrapDef {
    TrapDef {
        name,
        mib: Mib::Rfc1628,
        enterprise: RFC1628_TRAPS,
        specific,
        form: Form::Notification,
        varbinds,
        on,
        summary,
    }
}

const fn mge(
    specific: u32,
    name: &'static str,
    varbinds: &'static [TrapVar],
    on: &'static [EventKind],
    summary: &'static str,
) -> TrapDef {
    TrapDef {
        name,
        mib: Mib::Mge,
        enterprise: MGE_TRAPS,
        specific,
        form: Form::TrapType,
        varbinds,
        on,
        summary,
    }
}

const fn apc(
    specific: u32,
    name: &'static str,
    varbinds: &'static [TrapVar],
    on: &'static [EventKind],
    summary: &'static str,
) -> TrapDef {
    TrapDef {
        name,
        mib: Mib::PowerNet,
        enterprise: APC,
        specific,
        form: Form::TrapType,
        varbinds,
        on,
        summary,
    }
}

// Varbind objects.
const UPS_ESTIMATED_MINUTES_REMAINING: &str = "1.3.6.1.2.1.33.1.2.3";
const UPS_SECONDS_ON_BATTERY: &str = "1.3.6.1.2.1.33.1.2.2";
const UPS_CONFIG_LOW_BATT_TIME: &str = "1.3.6.1.2.1.33.1.9.7";
const UPS_TEST_ID: &str = "1.3.6.1.2.1.33.1.7.1";
const UPS_TEST_SPIN_LOCK: &str = "1.3.6.1.2.1.33.1.7.2";
const UPS_TEST_RESULTS_SUMMARY: &str = "1.3.6.1.2.1.33.1.7.3";
const UPS_TEST_RESULTS_DETAIL: &str = "1.3.6.1.2.1.33.1.7.4";
const UPS_TEST_START_TIME: &str = "1.3.6.1.2.1.33.1.7.5";
const UPS_TEST_ELAPSED_TIME: &str = "1.3.6.1.2.1.33.1.7.6";
const UPS_ALARM_ID: &str = "1.3.6.1.2.1.33.1.6.2.1.1";
const UPS_ALARM_DESCR: &str = "1.3.6.1.2.1.33.1.6.2.1.2";
const MGE_BATTERY_TIME: &str = "1.3.6.1.4.1.705.1.5.1";
const MGE_BATTERY_LEVEL: &str = "1.3.6.1.4.1.705.1.5.2";
const MGE_RECEPTACLE_INDEX: &str = "1.3.6.1.4.1.705.1.3.2.1.1";
const MGE_RECEPTACLE_STATE: &str = "1.3.6.1.4.1.705.1.3.2.1.5";
const MGE_ON_DELAY: &str = "1.3.6.1.4.1.705.1.9.1.1.2";
const MGE_OFF_DELAY: &str = "1.3.6.1.4.1.705.1.9.1.1.5";
const MGE_TOGGLE_DELAY: &str = "1.3.6.1.4.1.705.1.9.1.1.8";
const MGE_TOGGLE_DURATION: &str = "1.3.6.1.4.1.705.1.9.1.1.11";
const MGE_SHUTOFF_TIMER: &str = "1.3.6.1.4.1.705.1.4.23.1.6";
const MGE_RESTART_DELAY: &str = "1.3.6.1.4.1.705.1.4.23.1.8";
const MGE_SHUTDOWN_DURATION: &str = "1.3.6.1.4.1.705.1.4.23.1.9";
const MGE_BOOTUP_DURATION: &str = "1.3.6.1.4.1.705.1.4.23.1.10";
const MGE_SYS_SHUT_DURATION: &str = "1.3.6.1.4.1.705.1.4.11";
const MGE_EXT_ALARM_INDEX: &str = "1.3.6.1.4.1.705.1.4.25.1.1";
const MGE_EXT_ALARM_UID: &str = "1.3.6.1.4.1.705.1.4.25.1.2";
const APC_GROUP_INDEX: &str = "1.3.6.1.4.1.318.1.1.1.12.3.2.1.1";
/// mtrapargsString.0
const APC_TEXT: TrapVar = Text("1.3.6.1.4.1.318.2.3.3.0");

/// RFC 1628: upsTrapAlarmEntryAdded is not sent for upsAlarmOnBattery (2)
/// and upsAlarmTestInProgress (24); upsTrapAlarmEntryRemoved not for 24.
pub const SILENT_ON_ADD: &[u32] = &[2, 24];
pub const SILENT_ON_REMOVE: &[u32] = &[24];

/// The catalogue.
#[rustfmt::skip]
pub static TRAPS: &[TrapDef] = &[
    // RFC 1628 UPS-MIB notifications (upsTraps = 1.3.6.1.2.1.33.2).
    rfc(1, "upsTrapOnBattery", &[Scalar(UPS_ESTIMATED_MINUTES_REMAINING), Scalar(UPS_SECONDS_ON_BATTERY), Scalar(UPS_CONFIG_LOW_BATT_TIME)], &[OnBattery, OnBatteryRepeat], "The UPS is operating on battery power."),
    rfc(2, "upsTrapTestCompleted", &[Scalar(UPS_TEST_ID), Scalar(UPS_TEST_SPIN_LOCK), Scalar(UPS_TEST_RESULTS_SUMMARY), Scalar(UPS_TEST_RESULTS_DETAIL), Scalar(UPS_TEST_START_TIME), Scalar(UPS_TEST_ELAPSED_TIME)], &[TestCompleted], "A UPS diagnostic test completed."),
    rfc(3, "upsTrapAlarmEntryAdded", &[AlarmId(UPS_ALARM_ID), AlarmDescr(UPS_ALARM_DESCR)], &[AlarmAdded], "An alarm was added to the alarm table."),
    rfc(4, "upsTrapAlarmEntryRemoved", &[AlarmId(UPS_ALARM_ID), AlarmDescr(UPS_ALARM_DESCR)], &[AlarmRemoved], "An alarm was removed from the alarm table."),
    // MG-SNMP-UPS-MIB TRAP-TYPEs (upsmgTraps = 1.3.6.1.4.1.705.1.11).
    mge(1, "upsmgBatteryFault", &[], &[], "Trap UPS Battery entering Fault status."),
    mge(2, "upsmgBatteryOK", &[], &[], "Trap UPS Battery returned to OK status."),
    mge(3, "upsmgBatteryReplacementIndicated", &[], &[], "Trap UPS battery need to be replaced."),
    mge(4, "upsmgBatteryReplaceNotIndicated", &[], &[], "Trap UPS battery does not need to be replaced."),
    mge(5, "upsmgAtLowBattery", &[Scalar(MGE_BATTERY_TIME), Scalar(MGE_BATTERY_LEVEL)], &[LowBattery], "Trap UPS battery reached low condition."),
    mge(6, "upsmgFromLowBattery", &[Scalar(MGE_BATTERY_TIME), Scalar(MGE_BATTERY_LEVEL)], &[FromLowBattery], "Trap UPS battery returned from low condition."),
    mge(7, "upsmgChargerFault", &[], &[], "Trap UPS battery charger is not active."),
    mge(8, "upsmgChargerOK", &[], &[], "Trap UPS battery charger is active."),
    mge(9, "upsmgAtLowCondition", &[Scalar(MGE_BATTERY_TIME), Scalar(MGE_BATTERY_LEVEL)], &[], "Trap UPS entering low condition."),
    mge(10, "upsmgFromLowCondition", &[Scalar(MGE_BATTERY_TIME), Scalar(MGE_BATTERY_LEVEL)], &[], "Trap UPS exiting low condition."),
    mge(11, "upsmgOnBattery", &[Scalar(MGE_BATTERY_TIME), Scalar(MGE_BATTERY_LEVEL)], &[OnBattery], "Trap UPS is on Battery."),
    mge(12, "upsmgReturnFromBattery", &[Scalar(MGE_BATTERY_TIME), Scalar(MGE_BATTERY_LEVEL)], &[OffBattery], "Trap UPS returned from battery."),
    mge(13, "upsmgOnByPass", &[], &[OnBypass], "Trap UPS is on by pass."),
    mge(14, "upsmgReturnFromByPass", &[], &[OffBypass], "Trap UPS return from by pass."),
    mge(15, "upsmgByPassUnavailable", &[], &[], "Trap UPS by pass unavailable."),
    mge(16, "upsmgByPassAvailable", &[], &[], "Trap UPS by pass available."),
    mge(17, "upsmgUtilityFailure", &[], &[MainsLost], "Trap UPS utility power failed."),
    mge(18, "upsmgUtilityRestored", &[], &[MainsRestored], "Trap UPS utility power restored."),
    mge(19, "upsmgOnBoost", &[], &[], "Trap UPS is on boost."),
    mge(20, "upsmgReturnFromBoost", &[], &[], "Trap UPS has returned from boost."),
    mge(21, "upsmgOverLoad", &[], &[Overload], "Trap UPS has overload condition."),
    mge(22, "upsmgLoadOK", &[], &[OverloadCleared], "Trap UPS quit overload condition."),
    mge(23, "upsmgOverTemperature", &[], &[], "Trap UPS has overtemperature condition."),
    mge(24, "upsmgTemperatureOK", &[], &[], "Trap UPS quit overtemperature condition."),
    mge(25, "upsmgOnToStart", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_RECEPTACLE_STATE), Column(MGE_ON_DELAY), Column(MGE_RESTART_DELAY)], &[ReceptacleOnScheduled], "Trap UPS on sequence started."),
    mge(26, "upsmgOnAbort", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_ON_DELAY)], &[], "Trap UPS on sequence cancelled."),
    mge(27, "upsmgOnInProgress", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_RECEPTACLE_STATE), Column(MGE_BOOTUP_DURATION)], &[], "Trap UPS on sequence in progress in ups."),
    mge(28, "upsmgOnComplete", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_ON_DELAY)], &[ReceptacleOn], "Trap UPS on sequence completed."),
    mge(29, "upsmgOffToStart", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_RECEPTACLE_STATE), Column(MGE_OFF_DELAY), Column(MGE_SHUTOFF_TIMER), Scalar(MGE_SYS_SHUT_DURATION)], &[ReceptacleOffScheduled], "Trap UPS off sequence started."),
    mge(30, "upsmgOffAbort", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_OFF_DELAY)], &[], "Trap UPS off sequence cancelled."),
    mge(31, "upsmgOffInProgress", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_RECEPTACLE_STATE), Column(MGE_SHUTDOWN_DURATION)], &[], "Trap UPS off sequence in progress in ups."),
    mge(32, "upsmgOffComplete", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_OFF_DELAY)], &[ReceptacleOff], "Trap UPS off sequence completed."),
    mge(33, "upsmgToggleToStart", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_TOGGLE_DELAY)], &[], "Trap UPS toggle (off/on) sequence started."),
    mge(34, "upsmgToggleAbort", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_TOGGLE_DELAY)], &[], "Trap UPS toggle (off/on) sequence cancelled."),
    mge(35, "upsmgToggleInProgress", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_TOGGLE_DURATION)], &[], "Trap UPS toggle (off/on) sequence in progress in ups."),
    mge(36, "upsmgToggleComplete", &[Index(MGE_RECEPTACLE_INDEX), Column(MGE_TOGGLE_DURATION)], &[], "Trap UPS toggle (off/on) sequence completed."),
    mge(37, "upsmgCommunicationFailure", &[], &[], "Trap UPS serial communication failed."),
    mge(38, "upsmgCommunicationRestored", &[], &[], "Trap UPS serial communication restored."),
    mge(39, "upsmgInputBad", &[], &[], "Trap UPS input has bad condition."),
    mge(40, "upsmgInputOK", &[], &[], "Trap UPS input quit bad condition."),
    mge(41, "upsmgBatteryUnavailable", &[], &[], "Trap UPS battery is unavailable."),
    mge(42, "upsmgBatteryAvailable", &[], &[], "Trap UPS battery return from unavailable condition."),
    mge(43, "upsmgAtLowRecharge", &[Scalar(MGE_BATTERY_TIME), Scalar(MGE_BATTERY_LEVEL)], &[], "Trap UPS waiting for battery charging condition."),
    mge(44, "upsmgFromLowRecharge", &[Scalar(MGE_BATTERY_TIME), Scalar(MGE_BATTERY_LEVEL)], &[], "Trap UPS reached battery charging condition."),
    mge(45, "upsmgDiagnosticTestFail", &[], &[SelfTestFailed], "Trap UPS self test failed."),
    mge(46, "upsmgDiagnosticTestOK", &[], &[SelfTestPassed], "Trap UPS self test succeeded."),
    mge(47, "upsmgBatteryTestOK", &[], &[TestPassed], "Trap UPS passed battery test."),
    mge(48, "upsmgBatteryTestFail", &[], &[TestFailed], "Trap UPS failed battery test."),
    mge(49, "upsmgExternalAlarmActive", &[Index(MGE_EXT_ALARM_INDEX), Index(MGE_EXT_ALARM_UID)], &[], "Trap UPS enter environment external alarm."),
    mge(50, "upsmgExternalAlarmInactive", &[Index(MGE_EXT_ALARM_INDEX), Index(MGE_EXT_ALARM_UID)], &[], "Trap UPS exit environment external alarm."),
    mge(51, "upsmgOnBuck", &[], &[], "Trap UPS is on buck."),
    mge(52, "upsmgReturnFromBuck", &[], &[], "Trap UPS has returned from buck."),
    mge(53, "upsmgEnvironComFailure", &[], &[], "Environment Probe communication failure."),
    mge(54, "upsmgEnvironComOK", &[], &[], "Environment Probe communication restored."),
    mge(55, "upsmgEnvironTemperatureLow", &[], &[], "Temperature is below low threshold."),
    mge(56, "upsmgEnvironTemperatureHigh", &[], &[], "Temperature is above high threshold."),
    mge(57, "upsmgEnvironTemperatureOK", &[], &[], "Temperature is in normal range."),
    mge(58, "upsmgEnvironHumidityLow", &[], &[], "Humidity is below low threshold."),
    mge(59, "upsmgEnvironHumidityHigh", &[], &[], "Humidity is above high threshold."),
    mge(60, "upsmgEnvironHumidityOK", &[], &[], "Humidity is in normal range."),
    mge(61, "upsmgEnvironInput1Closed", &[], &[], "Input #1 is Closed."),
    mge(62, "upsmgEnvironInput1Open", &[], &[], "Input #1 is Open."),
    mge(63, "upsmgEnvironInput2Closed", &[], &[], "Input #2 is Closed."),
    mge(64, "upsmgEnvironInput2Open", &[], &[], "Input #2 is Open."),
    mge(65, "upsRedundancyLost", &[], &[], "Redundancy Lost."),
    mge(66, "upsRedundancyOK", &[], &[], "Redundancy Recovered."),
    mge(67, "upsProtectionLost", &[], &[], "Protection Lost."),
    mge(68, "upsProtectionOK", &[], &[], "Protection Recovered."),
    // PowerNet-MIB TRAP-TYPEs (enterprise apc = 1.3.6.1.4.1.318), the UPS ones.
    apc(2, "upsOverload", &[APC_TEXT], &[Overload], "SEVERE: The UPS has sensed a load greater than 100 percent of its rated capacity."),
    apc(3, "upsDiagnosticsFailed", &[APC_TEXT], &[TestFailed, SelfTestFailed], "SEVERE: The UPS failed its internal diagnostic self-test."),
    apc(4, "upsDischarged", &[APC_TEXT], &[], "SEVERE: The UPS batteries are discharged."),
    apc(5, "upsOnBattery", &[APC_TEXT], &[OnBattery], "WARNING: The UPS has switched to battery backup power."),
    apc(7, "lowBattery", &[APC_TEXT], &[LowBattery], "SEVERE: The UPS batteries are low and will soon be exhausted."),
    apc(9, "powerRestored", &[APC_TEXT], &[MainsRestored], "INFORMATIONAL: Utility power has been restored."),
    apc(10, "upsDiagnosticsPassed", &[APC_TEXT], &[TestPassed, SelfTestPassed], "INFORMATIONAL: The UPS passed its internal self-test."),
    apc(11, "returnFromLowBattery", &[APC_TEXT], &[FromLowBattery], "INFORMATIONAL: The UPS has returned from a low battery condition."),
    apc(12, "upsTurnedOff", &[APC_TEXT], &[OutputOff], "WARNING: The UPS has been turned off."),
    apc(17, "upsBatteryNeedsReplacement", &[APC_TEXT], &[], "SEVERE: The UPS batteries require immediate replacement."),
    apc(22, "switchedBypass", &[APC_TEXT], &[OnBypass], "WARNING: The UPS has been switched into bypass mode."),
    apc(23, "returnFromBypass", &[APC_TEXT], &[OffBypass], "INFORMATIONAL: The UPS has returned from bypass mode."),
    apc(30, "upsTurnedOn", &[APC_TEXT], &[OutputOn], "INFORMATIONAL: The UPS has been turned on."),
    apc(33, "upsOverloadCleared", &[APC_TEXT], &[OverloadCleared], "INFORMATIONAL: The overload condition has been cleared."),
    apc(298, "upsOutletGroupTurnedOn", &[Index(APC_GROUP_INDEX), APC_TEXT], &[OutletGroupOn], "INFORMATIONAL: The specified Outlet Group turned on."),
    apc(299, "upsOutletGroupTurnedOff", &[Index(APC_GROUP_INDEX), APC_TEXT], &[OutletGroupOff], "WARNING: The specified Outlet Group turned off."),
];

/// sysUpTime.0, snmpTrapOID.0 and snmpTrapEnterprise.0 (RFC 3418/3584).
const SYS_UPTIME_0: &str = "1.3.6.1.2.1.1.3.0";
const SNMP_TRAP_OID_0: &str = "1.3.6.1.6.3.1.1.4.1.0";
const SNMP_TRAP_ENTERPRISE_0: &str = "1.3.6.1.6.3.1.1.4.3.0";

fn oid(text: &str) -> Oid {
    Oid::parse(text).expect("the catalogue's OIDs are valid (checked by a test)")
}

/// A catalogue trap by name.
pub fn by_name(name: &str) -> Option<&'static TrapDef> {
    TRAPS.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// The traps an event sends, for the MIBs the card serves.
pub fn for_event<'a>(
    event: &'a Event,
    mibs: &'a std::collections::BTreeSet<Mib>,
) -> impl Iterator<Item = &'static TrapDef> + 'a {
    TRAPS
        .iter()
        .filter(move |t| mibs.contains(&t.mib) && t.on.contains(&event.kind))
        .filter(move |_| !silent_alarm(event))
}

fn silent_alarm(event: &Event) -> bool {
    let silent = match event.kind {
        EventKind::AlarmAdded => SILENT_ON_ADD,
        EventKind::AlarmRemoved => SILENT_ON_REMOVE,
        _ => return false,
    };
    event.alarm.is_some_and(|a| silent.contains(&a.arc))
}

impl TrapDef {
    /// The v2c snmpTrapOID.
    pub fn notification(&self) -> Oid {
        match self.form {
            Form::Notification => oid(self.enterprise).child(self.specific),
            Form::TrapType => oid(self.enterprise).join(&[0, self.specific]),
        }
    }

    /// The trap's varbinds for `event`, values read through `lookup`
    /// (varbinds the view has no value for are left out).
    pub fn varbinds(&self, event: &Event, lookup: impl Fn(&Oid) -> Option<Value>) -> Vec<VarBind> {
        let alarm = event.alarm.unwrap_or(crate::state::alarms::Alarm {
            id: 0,
            arc: 0,
            since: 0,
        });
        self.varbinds
            .iter()
            .filter_map(|var| match *var {
                Scalar(object) => {
                    let at = oid(object).child(0);
                    lookup(&at).map(|v| (at, v))
                }
                Column(object) => {
                    let at = oid(object).child(event.row);
                    lookup(&at)
                        .or_else(|| lookup(&at.child(0)))
                        .map(|v| (at, v))
                }
                Index(object) => Some((
                    oid(object).child(event.row),
                    Value::Integer(i64::from(event.row)),
                )),
                Text(at) => Some((
                    oid(at),
                    Value::OctetString(self.summary.as_bytes().to_vec()),
                )),
                AlarmId(column) => Some((
                    oid(column).child(alarm.id),
                    Value::Integer(i64::from(alarm.id)),
                )),
                AlarmDescr(column) => {
                    let descr = oid(ups2mqtt::mib::alarms::WELL_KNOWN_ALARMS_ROOT).child(alarm.arc);
                    Some((oid(column).child(alarm.id), Value::ObjectId(descr)))
                }
            })
            .collect()
    }

    /// The trap as a message in `version`'s form.
    pub fn message(
        &self,
        version: Version,
        community: &[u8],
        sender: &Sender,
        varbinds: Vec<VarBind>,
    ) -> Message {
        match version {
            Version::V1 => Message {
                version,
                community: community.to_vec(),
                pdu: Pdu::TrapV1(TrapV1 {
                    enterprise: oid(self.enterprise),
                    agent_addr: sender.agent_addr,
                    generic_trap: 6,
                    specific_trap: i64::from(self.specific),
                    timestamp: sender.uptime,
                    varbinds,
                }),
            },
            Version::V2c => {
                let mut all = Vec::with_capacity(varbinds.len() + 3);
                all.push((oid(SYS_UPTIME_0), Value::TimeTicks(sender.uptime)));
                all.push((oid(SNMP_TRAP_OID_0), Value::ObjectId(self.notification())));
                all.extend(varbinds);
                if self.form == Form::TrapType {
                    all.push((
                        oid(SNMP_TRAP_ENTERPRISE_0),
                        Value::ObjectId(oid(self.enterprise)),
                    ));
                }
                Message::new(
                    version,
                    community.to_vec(),
                    CommonPdu::new(PduKind::TrapV2, sender.request_id, all),
                )
            }
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
    use crate::state::alarms::Alarm;
    use std::collections::BTreeSet;

    #[test]
    fn catalogue_is_well_formed() {
        let mut names = BTreeSet::new();
        for t in TRAPS {
            assert!(names.insert(t.name), "duplicate trap {}", t.name);
            Oid::parse(t.enterprise).unwrap();
            for var in t.varbinds {
                let (Scalar(o) | Column(o) | Index(o) | Text(o) | AlarmId(o) | AlarmDescr(o)) =
                    *var;
                Oid::parse(o).unwrap_or_else(|e| panic!("{}: {e}", t.name));
            }
        }
        assert_eq!(TRAPS.iter().filter(|t| t.mib == Mib::Mge).count(), 68);
        assert_eq!(
            by_name("upsTrapOnBattery")
                .unwrap()
                .notification()
                .to_string(),
            "1.3.6.1.2.1.33.2.1"
        );
        assert_eq!(
            by_name("upsmgutilityfailure")
                .unwrap()
                .notification()
                .to_string(),
            "1.3.6.1.4.1.705.1.11.0.17"
        );
        assert_eq!(
            by_name("upsOnBattery").unwrap().notification().to_string(),
            "1.3.6.1.4.1.318.0.5"
        );
    }

    #[test]
    fn events_pick_their_traps_per_served_mib() {
        let all: BTreeSet<Mib> = Mib::ALL.into_iter().collect();
        let names = |event: Event, mibs: &BTreeSet<Mib>| {
            for_event(&event, mibs).map(|t| t.name).collect::<Vec<_>>()
        };
        assert_eq!(
            names(Event::new(EventKind::OnBattery), &all),
            ["upsTrapOnBattery", "upsmgOnBattery", "upsOnBattery"]
        );
        assert_eq!(
            names(Event::new(EventKind::MainsLost), &all),
            ["upsmgUtilityFailure"]
        );
        let rfc_only = BTreeSet::from([Mib::Rfc1628]);
        assert_eq!(
            names(Event::new(EventKind::OnBattery), &rfc_only),
            ["upsTrapOnBattery"]
        );
        let added = |arc| Event {
            kind: EventKind::AlarmAdded,
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
    fn v1_and_v2c_forms() {
        let def = by_name("upsmgOffComplete").unwrap();
        let event = Event::row(EventKind::ReceptacleOff, 2);
        let varbinds = def.varbinds(&event, |o| {
            (o.to_string() == "1.3.6.1.4.1.705.1.9.1.1.5.2.0").then_some(Value::Integer(0))
        });
        assert_eq!(
            varbinds.len(),
            2,
            "index, and the off delay found at its Q1 form: {varbinds:?}"
        );
        assert_eq!(
            varbinds[0],
            (oid("1.3.6.1.4.1.705.1.3.2.1.1.2"), Value::Integer(2))
        );
        let sender = Sender {
            agent_addr: [127, 0, 0, 1],
            uptime: 1234,
            request_id: 9,
        };
        let v1 = def.message(Version::V1, b"public", &sender, varbinds.clone());
        let decoded = Message::decode(&v1.encode()).unwrap();
        let Pdu::TrapV1(trap) = decoded.pdu else {
            panic!("not a v1 trap")
        };
        assert_eq!(
            (
                trap.enterprise.to_string().as_str(),
                trap.generic_trap,
                trap.specific_trap
            ),
            ("1.3.6.1.4.1.705.1.11", 6, 32)
        );
        let v2 = Message::decode(
            &def.message(Version::V2c, b"public", &sender, varbinds)
                .encode(),
        )
        .unwrap();
        let vb = v2.varbinds();
        assert_eq!(vb[0], (oid(SYS_UPTIME_0), Value::TimeTicks(1234)));
        assert_eq!(
            vb[1],
            (
                oid(SNMP_TRAP_OID_0),
                Value::ObjectId(oid("1.3.6.1.4.1.705.1.11.0.32"))
            )
        );
        assert_eq!(vb.last().unwrap().0, oid(SNMP_TRAP_ENTERPRISE_0));
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
