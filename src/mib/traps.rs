//! Traps and notifications of the three MIBs, as data: what each one is
//! called, how severe it is, what it carries and which pages it changes (so
//! the gateway can update state at once and re-poll just those pages).
//!
//! OIDs are the SNMPv2 notification OIDs. SMIv1 traps (MGE, PowerNet) map
//! by RFC 3584: `enterprise.0.specific`; RFC 1628's notifications are
//! `upsTraps.N`, and v1 agents send them as `upsTraps.0.N` (quirk Q10):
//! [`trap_by_oid`] accepts both. The simulator sends from this same table.

use super::Mib::{self, Mge, PowerNet, Rfc1628};
use super::Page::{
    self, Alarms, Battery, Control, Environment, General, Input, Output, Receptacles, Test,
};
use crate::oid::Oid;

pub use super::events::EventName;
use super::events::EventName::*;

/// Severity, from the MIBs' `--#SEVERITY` comments (PowerNet SEVERE →
/// major, WARNING → warning).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Minor,
    Major,
    Critical,
}

impl Severity {
    pub const fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }
}

use Severity::{Critical, Info, Major, Minor, Warning};

/// One notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapDef {
    pub mib: Mib,
    /// The MIB's name, e.g. `upsmgOnBattery`.
    pub object: &'static str,
    /// The fact it reports, published on MQTT: the same fact has the same
    /// name whatever MIB reports it (`on_battery`).
    pub event: EventName,
    /// SNMPv2 notification OID.
    pub oid: &'static str,
    pub severity: Severity,
    /// Pages whose values this trap changes: re-polled at once.
    pub pages: &'static [Page],
    /// OIDs of the objects the trap carries (instances follow in the PDU).
    pub varbinds: &'static [&'static str],
    pub description: &'static str,
}

/// `upsmgTraps`: the enterprise of MGE's SNMPv1 traps (their number is
/// the one `upsmgAgentTrapAck` takes).
pub const MGE_TRAP_ENTERPRISE: &str = "1.3.6.1.4.1.705.1.11";

/// `upsmgAgentTrapAck` (scalar, read at `.0`): SET to a trap's number to
/// stop an MGE card resending it.
pub const MGE_TRAP_ACK: &str = "1.3.6.1.4.1.705.1.12.14";

const POWER: &[Page] = &[Input, Output, Battery, Alarms];
const BATTERY: &[Page] = &[Battery, Output, Alarms];
const OUTPUT: &[Page] = &[Output, Alarms];
const RECEPTACLE: &[Page] = &[Receptacles, Control];
const TEST: &[Page] = &[Test, Battery, Alarms];
const ENVIRONMENT: &[Page] = &[Environment];
const COMMUNICATION: &[Page] = &[General, Alarms];
const CONTROL: &[Page] = &[Output, Control, Alarms];
const CONFIG: &[Page] = &[Page::Config];

#[allow(clippy::too_many_arguments)]
const fn trap(
    mib: Mib,
    object: &'static str,
    event: EventName,
    oid: &'static str,
    severity: Severity,
    pages: &'static [Page],
    varbinds: &'static [&'static str],
    description: &'static str,
) -> TrapDef {
    TrapDef {
        mib,
        object,
        event,
        oid,
        severity,
        pages,
        varbinds,
        description,
    }
}

/// RFC 1628's `upsTraps`, the parent of its notifications.
pub const RFC1628_TRAPS: &str = "1.3.6.1.2.1.33.2";

/// PowerNet's `mtrapargsString`, the text argument most of its traps carry
/// (`.0` on the wire).
pub const MTRAPARGS_STRING: &str = "1.3.6.1.4.1.318.2.3.3";
const ARGS: &[&str] = &[MTRAPARGS_STRING];
/// `upsOutletGroupControlIndex`, then `mtrapargsString`.
const GROUP_ARGS: &[&str] = &["1.3.6.1.4.1.318.1.1.1.12.3.2.1.1", MTRAPARGS_STRING];

#[rustfmt::skip]
pub static TRAPS: &[TrapDef] = &[
    trap(Rfc1628, "upsTrapOnBattery", OnBattery, "1.3.6.1.2.1.33.2.1", Critical, POWER, &["1.3.6.1.2.1.33.1.2.3", "1.3.6.1.2.1.33.1.2.2", "1.3.6.1.2.1.33.1.9.7"], "The UPS is operating on battery power; resent every minute while on battery."),
    trap(Rfc1628, "upsTrapTestCompleted", TestCompleted, "1.3.6.1.2.1.33.2.2", Info, TEST, &["1.3.6.1.2.1.33.1.7.1", "1.3.6.1.2.1.33.1.7.2", "1.3.6.1.2.1.33.1.7.3", "1.3.6.1.2.1.33.1.7.4", "1.3.6.1.2.1.33.1.7.5", "1.3.6.1.2.1.33.1.7.6"], "A UPS diagnostic test completed."),
    trap(Rfc1628, "upsTrapAlarmEntryAdded", AlarmAdded, "1.3.6.1.2.1.33.2.3", Major, POWER, &["1.3.6.1.2.1.33.1.6.2.1.1", "1.3.6.1.2.1.33.1.6.2.1.2"], "An alarm was added to the alarm table."),
    trap(Rfc1628, "upsTrapAlarmEntryRemoved", AlarmRemoved, "1.3.6.1.2.1.33.2.4", Info, POWER, &["1.3.6.1.2.1.33.1.6.2.1.1", "1.3.6.1.2.1.33.1.6.2.1.2"], "An alarm was removed from the alarm table."),
    trap(Mge, "upsmgBatteryFault", BatteryFault, "1.3.6.1.4.1.705.1.11.0.1", Major, BATTERY, &[], "Trap UPS Battery entering Fault status."),
    trap(Mge, "upsmgBatteryOK", BatteryOk, "1.3.6.1.4.1.705.1.11.0.2", Info, BATTERY, &[], "Trap UPS Battery returned to OK status."),
    trap(Mge, "upsmgBatteryReplacementIndicated", BatteryReplacementIndicated, "1.3.6.1.4.1.705.1.11.0.3", Minor, BATTERY, &[], "Trap UPS battery need to be replaced."),
    trap(Mge, "upsmgBatteryReplaceNotIndicated", BatteryReplacementNotIndicated, "1.3.6.1.4.1.705.1.11.0.4", Info, BATTERY, &[], "Trap UPS battery does not need to be replaced."),
    trap(Mge, "upsmgAtLowBattery", BatteryLow, "1.3.6.1.4.1.705.1.11.0.5", Critical, BATTERY, &["1.3.6.1.4.1.705.1.5.1", "1.3.6.1.4.1.705.1.5.2"], "Trap UPS battery reached low condition."),
    trap(Mge, "upsmgFromLowBattery", BatteryLowCleared, "1.3.6.1.4.1.705.1.11.0.6", Info, BATTERY, &["1.3.6.1.4.1.705.1.5.1", "1.3.6.1.4.1.705.1.5.2"], "Trap UPS battery returned from low condition."),
    trap(Mge, "upsmgChargerFault", ChargerFault, "1.3.6.1.4.1.705.1.11.0.7", Minor, BATTERY, &[], "Trap UPS battery charger is not active."),
    trap(Mge, "upsmgChargerOK", ChargerOk, "1.3.6.1.4.1.705.1.11.0.8", Info, BATTERY, &[], "Trap UPS battery charger is active."),
    trap(Mge, "upsmgAtLowCondition", AtLowCondition, "1.3.6.1.4.1.705.1.11.0.9", Critical, BATTERY, &["1.3.6.1.4.1.705.1.5.1", "1.3.6.1.4.1.705.1.5.2"], "Trap UPS entering low condition."),
    trap(Mge, "upsmgFromLowCondition", FromLowCondition, "1.3.6.1.4.1.705.1.11.0.10", Info, BATTERY, &["1.3.6.1.4.1.705.1.5.1", "1.3.6.1.4.1.705.1.5.2"], "Trap UPS exiting low condition."),
    trap(Mge, "upsmgOnBattery", OnBattery, "1.3.6.1.4.1.705.1.11.0.11", Critical, POWER, &["1.3.6.1.4.1.705.1.5.1", "1.3.6.1.4.1.705.1.5.2"], "Trap UPS is on Battery."),
    trap(Mge, "upsmgReturnFromBattery", PowerRestored, "1.3.6.1.4.1.705.1.11.0.12", Info, POWER, &["1.3.6.1.4.1.705.1.5.1", "1.3.6.1.4.1.705.1.5.2"], "Trap UPS returned from battery."),
    trap(Mge, "upsmgOnByPass", OnBypass, "1.3.6.1.4.1.705.1.11.0.13", Major, OUTPUT, &[], "Trap UPS is on by pass."),
    trap(Mge, "upsmgReturnFromByPass", ReturnFromBypass, "1.3.6.1.4.1.705.1.11.0.14", Info, OUTPUT, &[], "Trap UPS return from by pass."),
    trap(Mge, "upsmgByPassUnavailable", BypassUnavailable, "1.3.6.1.4.1.705.1.11.0.15", Minor, OUTPUT, &[], "Trap UPS by pass unavailable."),
    trap(Mge, "upsmgByPassAvailable", BypassAvailable, "1.3.6.1.4.1.705.1.11.0.16", Info, OUTPUT, &[], "Trap UPS by pass available."),
    trap(Mge, "upsmgUtilityFailure", UtilityFailure, "1.3.6.1.4.1.705.1.11.0.17", Major, POWER, &[], "Trap UPS utility power failed."),
    trap(Mge, "upsmgUtilityRestored", UtilityRestored, "1.3.6.1.4.1.705.1.11.0.18", Info, POWER, &[], "Trap UPS utility power restored."),
    trap(Mge, "upsmgOnBoost", OnBoost, "1.3.6.1.4.1.705.1.11.0.19", Minor, OUTPUT, &[], "Trap UPS is on boost."),
    trap(Mge, "upsmgReturnFromBoost", ReturnFromBoost, "1.3.6.1.4.1.705.1.11.0.20", Info, OUTPUT, &[], "Trap UPS has returned from boost."),
    trap(Mge, "upsmgOverLoad", Overload, "1.3.6.1.4.1.705.1.11.0.21", Major, OUTPUT, &[], "Trap UPS has overload condition."),
    trap(Mge, "upsmgLoadOK", LoadOk, "1.3.6.1.4.1.705.1.11.0.22", Info, OUTPUT, &[], "Trap UPS quit overload condition."),
    trap(Mge, "upsmgOverTemperature", OverTemperature, "1.3.6.1.4.1.705.1.11.0.23", Major, OUTPUT, &[], "Trap UPS has overtemperature condition."),
    trap(Mge, "upsmgTemperatureOK", TemperatureOk, "1.3.6.1.4.1.705.1.11.0.24", Info, OUTPUT, &[], "Trap UPS quit overtemperature condition."),
    trap(Mge, "upsmgOnToStart", OnToStart, "1.3.6.1.4.1.705.1.11.0.25", Major, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.3.2.1.5", "1.3.6.1.4.1.705.1.9.1.1.2", "1.3.6.1.4.1.705.1.4.23.1.8"], "Trap UPS on sequence started."),
    trap(Mge, "upsmgOnAbort", OnAbort, "1.3.6.1.4.1.705.1.11.0.26", Info, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.9.1.1.2"], "Trap UPS on sequence cancelled."),
    trap(Mge, "upsmgOnInProgress", OnInProgress, "1.3.6.1.4.1.705.1.11.0.27", Critical, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.3.2.1.5", "1.3.6.1.4.1.705.1.4.23.1.10"], "Trap UPS on sequence in progress in ups."),
    trap(Mge, "upsmgOnComplete", OnComplete, "1.3.6.1.4.1.705.1.11.0.28", Info, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.9.1.1.2"], "Trap UPS on sequence completed."),
    trap(Mge, "upsmgOffToStart", OffToStart, "1.3.6.1.4.1.705.1.11.0.29", Major, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.3.2.1.5", "1.3.6.1.4.1.705.1.9.1.1.5", "1.3.6.1.4.1.705.1.4.23.1.6", "1.3.6.1.4.1.705.1.4.11"], "Trap UPS off sequence started."),
    trap(Mge, "upsmgOffAbort", OffAbort, "1.3.6.1.4.1.705.1.11.0.30", Info, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.9.1.1.5"], "Trap UPS off sequence cancelled."),
    trap(Mge, "upsmgOffInProgress", OffInProgress, "1.3.6.1.4.1.705.1.11.0.31", Critical, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.3.2.1.5", "1.3.6.1.4.1.705.1.4.23.1.9"], "Trap UPS off sequence in progress in ups."),
    trap(Mge, "upsmgOffComplete", OffComplete, "1.3.6.1.4.1.705.1.11.0.32", Info, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.9.1.1.5"], "Trap UPS off sequence completed."),
    trap(Mge, "upsmgToggleToStart", ToggleToStart, "1.3.6.1.4.1.705.1.11.0.33", Major, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.9.1.1.8"], "Trap UPS toggle (off/on) sequence started."),
    trap(Mge, "upsmgToggleAbort", ToggleAbort, "1.3.6.1.4.1.705.1.11.0.34", Info, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.9.1.1.8"], "Trap UPS toggle (off/on) sequence cancelled."),
    trap(Mge, "upsmgToggleInProgress", ToggleInProgress, "1.3.6.1.4.1.705.1.11.0.35", Major, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.9.1.1.11"], "Trap UPS toggle (off/on) sequence in progress in ups."),
    trap(Mge, "upsmgToggleComplete", ToggleComplete, "1.3.6.1.4.1.705.1.11.0.36", Info, RECEPTACLE, &["1.3.6.1.4.1.705.1.3.2.1.1", "1.3.6.1.4.1.705.1.9.1.1.11"], "Trap UPS toggle (off/on) sequence completed."),
    trap(Mge, "upsmgCommunicationFailure", CommunicationLost, "1.3.6.1.4.1.705.1.11.0.37", Critical, COMMUNICATION, &[], "Trap UPS serial communication failed."),
    trap(Mge, "upsmgCommunicationRestored", CommunicationRestored, "1.3.6.1.4.1.705.1.11.0.38", Info, COMMUNICATION, &[], "Trap UPS serial communication restored."),
    trap(Mge, "upsmgInputBad", InputBad, "1.3.6.1.4.1.705.1.11.0.39", Minor, POWER, &[], "Trap UPS input has bad condition."),
    trap(Mge, "upsmgInputOK", InputOk, "1.3.6.1.4.1.705.1.11.0.40", Info, POWER, &[], "Trap UPS input quit bad condition."),
    trap(Mge, "upsmgBatteryUnavailable", BatteryUnavailable, "1.3.6.1.4.1.705.1.11.0.41", Minor, BATTERY, &[], "Trap UPS battery is unavailable."),
    trap(Mge, "upsmgBatteryAvailable", BatteryAvailable, "1.3.6.1.4.1.705.1.11.0.42", Info, BATTERY, &[], "Trap UPS battery return from unavailable condition."),
    trap(Mge, "upsmgAtLowRecharge", AtLowRecharge, "1.3.6.1.4.1.705.1.11.0.43", Info, BATTERY, &["1.3.6.1.4.1.705.1.5.1", "1.3.6.1.4.1.705.1.5.2"], "Trap UPS waiting for battery charging condition."),
    trap(Mge, "upsmgFromLowRecharge", FromLowRecharge, "1.3.6.1.4.1.705.1.11.0.44", Info, BATTERY, &["1.3.6.1.4.1.705.1.5.1", "1.3.6.1.4.1.705.1.5.2"], "Trap UPS reached battery charging condition."),
    trap(Mge, "upsmgDiagnosticTestFail", TestFailed, "1.3.6.1.4.1.705.1.11.0.45", Minor, TEST, &[], "Trap UPS self test failed."),
    trap(Mge, "upsmgDiagnosticTestOK", TestPassed, "1.3.6.1.4.1.705.1.11.0.46", Info, TEST, &[], "Trap UPS self test succeeded."),
    trap(Mge, "upsmgBatteryTestOK", BatteryTestPassed, "1.3.6.1.4.1.705.1.11.0.47", Info, TEST, &[], "Trap UPS passed battery test."),
    trap(Mge, "upsmgBatteryTestFail", BatteryTestFailed, "1.3.6.1.4.1.705.1.11.0.48", Major, TEST, &[], "Trap UPS failed battery test."),
    trap(Mge, "upsmgExternalAlarmActive", ExternalAlarmActive, "1.3.6.1.4.1.705.1.11.0.49", Major, ENVIRONMENT, &["1.3.6.1.4.1.705.1.4.25.1.1", "1.3.6.1.4.1.705.1.4.25.1.2"], "Trap UPS enter environment external alarm."),
    trap(Mge, "upsmgExternalAlarmInactive", ExternalAlarmInactive, "1.3.6.1.4.1.705.1.11.0.50", Info, ENVIRONMENT, &["1.3.6.1.4.1.705.1.4.25.1.1", "1.3.6.1.4.1.705.1.4.25.1.2"], "Trap UPS exit environment external alarm."),
    trap(Mge, "upsmgOnBuck", OnBuck, "1.3.6.1.4.1.705.1.11.0.51", Minor, OUTPUT, &[], "Trap UPS is on buck."),
    trap(Mge, "upsmgReturnFromBuck", ReturnFromBuck, "1.3.6.1.4.1.705.1.11.0.52", Info, OUTPUT, &[], "Trap UPS has returned from buck."),
    trap(Mge, "upsmgEnvironComFailure", EnvironComFailure, "1.3.6.1.4.1.705.1.11.0.53", Major, ENVIRONMENT, &[], "Environment Probe communication failure."),
    trap(Mge, "upsmgEnvironComOK", EnvironComOk, "1.3.6.1.4.1.705.1.11.0.54", Info, ENVIRONMENT, &[], "Environment Probe communication restored."),
    trap(Mge, "upsmgEnvironTemperatureLow", EnvironTemperatureLow, "1.3.6.1.4.1.705.1.11.0.55", Major, ENVIRONMENT, &[], "Temperature is below low threshold."),
    trap(Mge, "upsmgEnvironTemperatureHigh", EnvironTemperatureHigh, "1.3.6.1.4.1.705.1.11.0.56", Major, ENVIRONMENT, &[], "Temperature is above high threshold."),
    trap(Mge, "upsmgEnvironTemperatureOK", EnvironTemperatureOk, "1.3.6.1.4.1.705.1.11.0.57", Info, ENVIRONMENT, &[], "Temperature is in normal range."),
    trap(Mge, "upsmgEnvironHumidityLow", EnvironHumidityLow, "1.3.6.1.4.1.705.1.11.0.58", Major, ENVIRONMENT, &[], "Humidity is below low threshold."),
    trap(Mge, "upsmgEnvironHumidityHigh", EnvironHumidityHigh, "1.3.6.1.4.1.705.1.11.0.59", Major, ENVIRONMENT, &[], "Humidity is above high threshold."),
    trap(Mge, "upsmgEnvironHumidityOK", EnvironHumidityOk, "1.3.6.1.4.1.705.1.11.0.60", Info, ENVIRONMENT, &[], "Humidity is in normal range."),
    trap(Mge, "upsmgEnvironInput1Closed", EnvironInput1Closed, "1.3.6.1.4.1.705.1.11.0.61", Info, ENVIRONMENT, &[], "Input #1 is Closed."),
    trap(Mge, "upsmgEnvironInput1Open", EnvironInput1Open, "1.3.6.1.4.1.705.1.11.0.62", Info, ENVIRONMENT, &[], "Input #1 is Open."),
    trap(Mge, "upsmgEnvironInput2Closed", EnvironInput2Closed, "1.3.6.1.4.1.705.1.11.0.63", Info, ENVIRONMENT, &[], "Input #2 is Closed."),
    trap(Mge, "upsmgEnvironInput2Open", EnvironInput2Open, "1.3.6.1.4.1.705.1.11.0.64", Info, ENVIRONMENT, &[], "Input #2 is Open."),
    trap(Mge, "upsRedundancyLost", RedundancyLost, "1.3.6.1.4.1.705.1.11.0.65", Major, OUTPUT, &[], "Redundancy Lost."),
    trap(Mge, "upsRedundancyOK", RedundancyOk, "1.3.6.1.4.1.705.1.11.0.66", Info, OUTPUT, &[], "Redundancy Recovered."),
    trap(Mge, "upsProtectionLost", ProtectionLost, "1.3.6.1.4.1.705.1.11.0.67", Major, OUTPUT, &[], "Protection Lost."),
    trap(Mge, "upsProtectionOK", ProtectionOk, "1.3.6.1.4.1.705.1.11.0.68", Info, OUTPUT, &[], "Protection Recovered."),
    trap(PowerNet, "upsOverload", Overload, "1.3.6.1.4.1.318.0.2", Major, OUTPUT, ARGS, "The UPS has sensed a load greater than 100 percent of its rated capacity."),
    trap(PowerNet, "upsDiagnosticsFailed", TestFailed, "1.3.6.1.4.1.318.0.3", Major, TEST, ARGS, "The UPS has failed its internal self-test."),
    trap(PowerNet, "upsDischarged", BatteryDischarged, "1.3.6.1.4.1.318.0.4", Major, BATTERY, ARGS, "The UPS batteries are discharged."),
    trap(PowerNet, "upsOnBattery", OnBattery, "1.3.6.1.4.1.318.0.5", Warning, POWER, ARGS, "The UPS has switched to battery backup power."),
    trap(PowerNet, "lowBattery", BatteryLow, "1.3.6.1.4.1.318.0.7", Major, BATTERY, ARGS, "The UPS system's batteries are low and will soon be exhausted."),
    trap(PowerNet, "powerRestored", PowerRestored, "1.3.6.1.4.1.318.0.9", Info, POWER, ARGS, "Returned from battery backup power; utility power restored."),
    trap(PowerNet, "upsDiagnosticsPassed", TestPassed, "1.3.6.1.4.1.318.0.10", Info, TEST, ARGS, "The UPS passed internal self-test."),
    trap(PowerNet, "returnFromLowBattery", BatteryLowCleared, "1.3.6.1.4.1.318.0.11", Info, BATTERY, ARGS, "The UPS has returned from a Low-Battery condition."),
    trap(PowerNet, "upsTurnedOff", UpsTurnedOff, "1.3.6.1.4.1.318.0.12", Warning, CONTROL, ARGS, "The UPS has been switched off by a management station."),
    trap(PowerNet, "upsSleeping", UpsSleeping, "1.3.6.1.4.1.318.0.13", Warning, CONTROL, ARGS, "The UPS entered sleep mode. Power to the load will be cut off."),
    trap(PowerNet, "upsWokeUp", UpsWokeUp, "1.3.6.1.4.1.318.0.14", Info, CONTROL, ARGS, "The UPS has returned from sleep mode. Power to the load has been restored."),
    trap(PowerNet, "upsRebootStarted", UpsRebootStarted, "1.3.6.1.4.1.318.0.15", Warning, CONTROL, ARGS, "The UPS has started its reboot sequence."),
    trap(PowerNet, "upsDipSwitchChanged", DipSwitchChanged, "1.3.6.1.4.1.318.0.16", Warning, CONFIG, ARGS, "The DIP switch settings on the UPS have been changed."),
    trap(PowerNet, "upsBatteryNeedsReplacement", BatteryReplacementIndicated, "1.3.6.1.4.1.318.0.17", Major, BATTERY, ARGS, "The UPS batteries require immediate replacement."),
    trap(PowerNet, "switchedBypass", OnBypass, "1.3.6.1.4.1.318.0.22", Warning, OUTPUT, ARGS, "UPS put on bypass by user."),
    trap(PowerNet, "returnFromBypass", ReturnFromBypass, "1.3.6.1.4.1.318.0.23", Info, OUTPUT, ARGS, "The UPS has returned from bypass mode."),
    trap(PowerNet, "upsTurnedOn", UpsTurnedOn, "1.3.6.1.4.1.318.0.30", Info, CONTROL, ARGS, "A UPS is turned on."),
    trap(PowerNet, "upsOverloadCleared", LoadOk, "1.3.6.1.4.1.318.0.33", Info, OUTPUT, ARGS, "The overload condition has been cleared."),
    trap(PowerNet, "upsOutletGroupTurnedOn", OutletGroupOn, "1.3.6.1.4.1.318.0.298", Info, RECEPTACLE, GROUP_ARGS, "Outlet Group turned on."),
    trap(PowerNet, "upsOutletGroupTurnedOff", OutletGroupOff, "1.3.6.1.4.1.318.0.299", Warning, RECEPTACLE, GROUP_ARGS, "Outlet Group turned off."),
];

/// A value a trap states outright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fact {
    Bool(bool),
    Label(&'static str),
}

/// What some events say about page fields (`page.key` paths), whatever MIB
/// sent them; the gateway applies only those the UPS's pages already have,
/// then re-polls the trap's pages.
#[rustfmt::skip]
static EFFECTS: &[(EventName, &[(&str, Fact)])] = &[
    (OnBattery, &[("output.on_battery", Fact::Bool(true)), ("output.source", Fact::Label("battery")), ("output.status", Fact::Label("on_battery"))]),
    (PowerRestored, &[("output.on_battery", Fact::Bool(false)), ("output.source", Fact::Label("normal")), ("output.status", Fact::Label("on_line"))]),
    (UtilityFailure, &[("input.bad", Fact::Bool(true))]),
    (UtilityRestored, &[("input.bad", Fact::Bool(false))]),
    (BatteryLow, &[("battery.low", Fact::Bool(true))]),
    (BatteryLowCleared, &[("battery.low", Fact::Bool(false))]),
    (Overload, &[("output.overload", Fact::Bool(true))]),
    (LoadOk, &[("output.overload", Fact::Bool(false))]),
    (OnBypass, &[("output.on_bypass", Fact::Bool(true)), ("output.source", Fact::Label("bypass"))]),
    (ReturnFromBypass, &[("output.on_bypass", Fact::Bool(false)), ("output.source", Fact::Label("normal"))]),
];

/// The effects of an event name (empty for most).
pub fn effects_of(event: EventName) -> &'static [(&'static str, Fact)] {
    EFFECTS
        .iter()
        .find(|(e, _)| *e == event)
        .map_or(&[], |(_, facts)| facts)
}

/// The notification an OID names, in its v2 form or (RFC 1628) the
/// v1-translated `upsTraps.0.N` form.
pub fn trap_by_oid(oid: &Oid) -> Option<&'static TrapDef> {
    if let Some(def) = TRAPS
        .iter()
        .find(|t| Oid::parse(t.oid).ok().as_ref() == Some(oid))
    {
        return Some(def);
    }
    let rfc = Oid::parse(RFC1628_TRAPS).ok()?;
    match oid.suffix_after(&rfc)? {
        [0, n] => {
            let direct = rfc.child(*n);
            TRAPS
                .iter()
                .find(|t| Oid::parse(t.oid).ok().as_ref() == Some(&direct))
        }
        _ => None,
    }
}

/// The v2 notification OID of an SMIv1 trap (RFC 3584 §3.1).
pub fn v1_to_v2(enterprise: &Oid, specific: i64) -> Option<Oid> {
    let specific = u32::try_from(specific).ok()?;
    Some(enterprise.join(&[0, specific]))
}

/// The SMIv1 form of a notification OID (RFC 3584 §3.2): enterprise and
/// specific-trap. `enterprise.0.N` (an SMIv1 TRAP-TYPE) → (`enterprise`,
/// N); any other OID, e.g. RFC 1628's `upsTraps.N`, → (its parent, N).
pub fn v2_to_v1(oid: &Oid) -> Option<(Oid, u32)> {
    match oid.arcs() {
        [enterprise @ .., 0, specific] if !enterprise.is_empty() => {
            Some((Oid::from_arcs(enterprise), *specific))
        }
        [parent @ .., specific] if !parent.is_empty() => Some((Oid::from_arcs(parent), *specific)),
        _ => None,
    }
}

/// The trap the simulator or a test sends by event name and MIB.
pub fn trap_by_event(mib: Mib, event: EventName) -> Option<&'static TrapDef> {
    TRAPS.iter().find(|t| t.mib == mib && t.event == event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn trap_oids_and_objects_are_unique_and_valid() {
        let mut oids = HashSet::new();
        let mut objects = HashSet::new();
        for t in TRAPS {
            let oid = Oid::parse(t.oid).unwrap_or_else(|e| panic!("{}: {e}", t.object));
            assert!(oids.insert(oid), "{} twice", t.oid);
            assert!(objects.insert(t.object), "{} twice", t.object);
            assert!(!t.pages.is_empty(), "{} changes no page", t.object);
            for v in t.varbinds {
                Oid::parse(v).unwrap_or_else(|e| panic!("{}: {e}", t.object));
            }
        }
        assert_eq!(TRAPS.iter().filter(|t| t.mib == Mib::Mge).count(), 68);
    }

    #[test]
    fn effects_name_real_events_fields_and_labels() {
        for (event, facts) in EFFECTS {
            assert!(
                TRAPS.iter().any(|t| t.event == *event),
                "no trap is named {event}"
            );
            assert_eq!(
                EFFECTS.iter().filter(|(e, _)| e == event).count(),
                1,
                "{event}: effects listed twice (the first would hide the second)"
            );
            for (path, fact) in *facts {
                let field = super::super::field_by_path(path).unwrap_or_else(|| panic!("{path}"));
                match fact {
                    Fact::Bool(_) => assert!(
                        field
                            .sources
                            .iter()
                            .all(|s| matches!(s.decode, super::super::Decode::Flag { .. })),
                        "{path}"
                    ),
                    Fact::Label(l) => assert!(
                        field
                            .sources
                            .iter()
                            .any(|s| s.decode.raw_of_label(l).is_some()),
                        "{path}: {l}"
                    ),
                }
            }
        }
    }

    #[test]
    fn v1_and_v2_forms_resolve() {
        let mge = Oid::parse("1.3.6.1.4.1.705.1.11").unwrap();
        let on_battery = v1_to_v2(&mge, 11).unwrap();
        assert_eq!(trap_by_oid(&on_battery).unwrap().object, "upsmgOnBattery");
        let rfc_v1 = Oid::parse("1.3.6.1.2.1.33.2.0.1").unwrap();
        assert_eq!(trap_by_oid(&rfc_v1).unwrap().object, "upsTrapOnBattery");
        let rfc_v2 = Oid::parse("1.3.6.1.2.1.33.2.3").unwrap();
        assert_eq!(trap_by_oid(&rfc_v2).unwrap().event, EventName::AlarmAdded);
        let apc = v1_to_v2(&Oid::parse("1.3.6.1.4.1.318").unwrap(), 5).unwrap();
        assert_eq!(trap_by_oid(&apc).unwrap().event, EventName::OnBattery);
        assert!(trap_by_oid(&Oid::parse("1.3.6.1.4.1.705.1.11.0.99").unwrap()).is_none());
        assert!(v1_to_v2(&mge, -1).is_none());
    }

    #[test]
    fn v2_oids_have_a_v1_form() {
        let v1 = |oid: &str| {
            let (enterprise, specific) = v2_to_v1(&Oid::parse(oid).unwrap()).unwrap();
            (enterprise.to_string(), specific)
        };
        assert_eq!(
            v1("1.3.6.1.4.1.705.1.11.0.32"),
            ("1.3.6.1.4.1.705.1.11".to_string(), 32)
        );
        assert_eq!(
            v1("1.3.6.1.4.1.318.0.5"),
            ("1.3.6.1.4.1.318".to_string(), 5)
        );
        assert_eq!(v1("1.3.6.1.2.1.33.2.1"), (RFC1628_TRAPS.to_string(), 1));
        for t in TRAPS {
            let oid = Oid::parse(t.oid).unwrap();
            let (enterprise, specific) = v2_to_v1(&oid).unwrap();
            if t.mib == Mib::Rfc1628 {
                assert_eq!(enterprise.to_string(), RFC1628_TRAPS, "{}", t.object);
            } else {
                assert_eq!(
                    v1_to_v2(&enterprise, specific.into()),
                    Some(oid),
                    "{}",
                    t.object
                );
            }
        }
        assert!(v2_to_v1(&Oid::from_arcs(vec![1])).is_none());
        assert!(v2_to_v1(&Oid::from_arcs(vec![])).is_none());
    }

    /// Traps of different MIBs that report the same fact, read from the MIB
    /// texts (/work/shared/mib): the `DESCRIPTION`/`--#SUMMARY` of each
    /// pair says the same thing. Kept apart from the table on purpose: the
    /// table's `event` column must agree with it.
    const SAME_FACT: &[(&str, &str)] = &[
        // "The UPS is operating on battery power" / "Trap UPS is on
        // Battery" / "switched to battery backup power".
        ("upsTrapOnBattery", "upsmgOnBattery"),
        ("upsmgOnBattery", "upsOnBattery"),
        // "returned from battery" / "Returned from battery backup power".
        ("upsmgReturnFromBattery", "powerRestored"),
        // "battery reached low condition" / "batteries are low".
        ("upsmgAtLowBattery", "lowBattery"),
        ("upsmgFromLowBattery", "returnFromLowBattery"),
        // "overload condition" / "load greater than 100 percent".
        ("upsmgOverLoad", "upsOverload"),
        // "quit overload condition" / "overload condition has been cleared".
        ("upsmgLoadOK", "upsOverloadCleared"),
        ("upsmgOnByPass", "switchedBypass"),
        ("upsmgReturnFromByPass", "returnFromBypass"),
        // "battery need to be replaced" / "require immediate replacement".
        (
            "upsmgBatteryReplacementIndicated",
            "upsBatteryNeedsReplacement",
        ),
        // "self test succeeded/failed" / "passed/failed internal self-test".
        ("upsmgDiagnosticTestOK", "upsDiagnosticsPassed"),
        ("upsmgDiagnosticTestFail", "upsDiagnosticsFailed"),
    ];

    fn by_object(object: &str) -> &'static TrapDef {
        TRAPS
            .iter()
            .find(|t| t.object == object)
            .unwrap_or_else(|| panic!("no trap {object}"))
    }

    #[test]
    fn traps_that_report_one_fact_share_its_name() {
        for (a, b) in SAME_FACT {
            let (a, b) = (by_object(a), by_object(b));
            assert_ne!(a.mib, b.mib, "{} and {}: one MIB", a.object, b.object);
            assert_eq!(a.event, b.event, "{} and {}", a.object, b.object);
        }
        // Conversely, traps of one name are listed as the same fact.
        let same = |a: &TrapDef, b: &TrapDef| {
            let mut group = vec![a.object];
            loop {
                let before = group.len();
                for (x, y) in SAME_FACT {
                    if group.contains(x) && !group.contains(y) {
                        group.push(y);
                    } else if group.contains(y) && !group.contains(x) {
                        group.push(x);
                    }
                }
                if group.len() == before {
                    return group.contains(&b.object);
                }
            }
        };
        for (i, a) in TRAPS.iter().enumerate() {
            for b in &TRAPS[i + 1..] {
                if a.event == b.event {
                    assert!(
                        same(a, b),
                        "{} and {} are both {}: add them to SAME_FACT from the MIB texts",
                        a.object,
                        b.object,
                        a.event
                    );
                }
            }
        }
    }

    #[test]
    fn every_event_name_is_reported_by_a_trap() {
        for &event in EventName::ALL {
            let generic = EventName::GENERIC.contains(&event) || event == EventName::Unknown;
            assert_eq!(TRAPS.iter().any(|t| t.event == event), !generic, "{event}");
        }
    }

    #[test]
    fn the_mge_ok_traps_clear_what_their_pair_set() {
        // MG-SNMP-UPS-MIB: upsmgLoadOK "Trap UPS quit overload condition".
        let load_ok = effects_of(by_object("upsmgLoadOK").event);
        assert!(load_ok.contains(&("output.overload", Fact::Bool(false))));
        assert_eq!(load_ok, effects_of(by_object("upsOverloadCleared").event));
        assert_eq!(
            effects_of(by_object("upsmgReturnFromBattery").event),
            effects_of(by_object("powerRestored").event)
        );
    }
}
