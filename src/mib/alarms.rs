//! RFC 1628 `upsWellKnownAlarms` (1.3.6.1.2.1.33.1.6.3.N): the identities an
//! alarm table row's `upsAlarmDescr` points at, with a stable snake_case name
//! (the JSON value and HA/NUT vocabulary) and the MIB's description.

/// `upsWellKnownAlarms`, the parent of every well-known alarm identity.
pub const WELL_KNOWN_ALARMS_ROOT: &str = "1.3.6.1.2.1.33.1.6.3";

/// A well-known alarm: its last arc under [`WELL_KNOWN_ALARMS_ROOT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WellKnownAlarm {
    pub arc: u32,
    pub name: &'static str,
    pub object: &'static str,
    pub description: &'static str,
}

const fn alarm(
    arc: u32,
    name: &'static str,
    object: &'static str,
    description: &'static str,
) -> WellKnownAlarm {
    WellKnownAlarm {
        arc,
        name,
        object,
        description,
    }
}

#[rustfmt::skip]
pub static WELL_KNOWN_ALARMS: &[WellKnownAlarm] = &[
    alarm(1, "battery_bad", "upsAlarmBatteryBad", "One or more batteries have been determined to require replacement."),
    alarm(2, "on_battery", "upsAlarmOnBattery", "The UPS is drawing power from the batteries."),
    alarm(3, "low_battery", "upsAlarmLowBattery", "The remaining battery run-time is less than or equal to upsConfigLowBattTime."),
    alarm(4, "depleted_battery", "upsAlarmDepletedBattery", "The UPS will be unable to sustain the present load when and if the utility power is lost."),
    alarm(5, "temperature_bad", "upsAlarmTempBad", "A temperature is out of tolerance."),
    alarm(6, "input_bad", "upsAlarmInputBad", "An input condition is out of tolerance."),
    alarm(7, "output_bad", "upsAlarmOutputBad", "An output condition (other than OutputOverload) is out of tolerance."),
    alarm(8, "output_overload", "upsAlarmOutputOverload", "The output load exceeds the UPS output capacity."),
    alarm(9, "on_bypass", "upsAlarmOnBypass", "The Bypass is presently engaged on the UPS."),
    alarm(10, "bypass_bad", "upsAlarmBypassBad", "The Bypass is out of tolerance."),
    alarm(11, "output_off_as_requested", "upsAlarmOutputOffAsRequested", "The UPS has shutdown as requested, i.e., the output is off."),
    alarm(12, "ups_off_as_requested", "upsAlarmUpsOffAsRequested", "The entire UPS has shutdown as commanded."),
    alarm(13, "charger_failed", "upsAlarmChargerFailed", "An uncorrected problem has been detected within the UPS charger subsystem."),
    alarm(14, "ups_output_off", "upsAlarmUpsOutputOff", "The output of the UPS is in the off state."),
    alarm(15, "ups_system_off", "upsAlarmUpsSystemOff", "The UPS system is in the off state."),
    alarm(16, "fan_failure", "upsAlarmFanFailure", "The failure of one or more fans in the UPS has been detected."),
    alarm(17, "fuse_failure", "upsAlarmFuseFailure", "The failure of one or more fuses has been detected."),
    alarm(18, "general_fault", "upsAlarmGeneralFault", "A general fault in the UPS has been detected."),
    alarm(19, "diagnostic_test_failed", "upsAlarmDiagnosticTestFailed", "The result of the last diagnostic test indicates a failure."),
    alarm(20, "communications_lost", "upsAlarmCommunicationsLost", "A problem has been encountered in the communications between the agent and the UPS."),
    alarm(21, "awaiting_power", "upsAlarmAwaitingPower", "The UPS output is off and the UPS is awaiting the return of input power."),
    alarm(22, "shutdown_pending", "upsAlarmShutdownPending", "A upsShutdownAfterDelay countdown is underway."),
    alarm(23, "shutdown_imminent", "upsAlarmShutdownImminent", "The UPS will turn off power to the load in less than 5 seconds."),
    alarm(24, "test_in_progress", "upsAlarmTestInProgress", "A test is in progress, as initiated and indicated by the Test Group."),
];

/// The well-known alarm an `upsAlarmDescr` OID (as arcs) points at.
pub fn well_known_alarm(oid: &crate::oid::Oid) -> Option<&'static WellKnownAlarm> {
    let root = crate::oid::Oid::parse(WELL_KNOWN_ALARMS_ROOT).ok()?;
    match oid.suffix_after(&root)? {
        [arc] => WELL_KNOWN_ALARMS.iter().find(|a| a.arc == *arc),
        _ => None,
    }
}

/// The well-known alarm with this name.
pub fn alarm_by_name(name: &str) -> Option<&'static WellKnownAlarm> {
    WELL_KNOWN_ALARMS.iter().find(|a| a.name == name)
}
