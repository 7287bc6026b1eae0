//! The event vocabulary: one name per fact, whatever MIB reports it.
//!
//! Every trap of the table ([`super::traps::TRAPS`]) names the fact it
//! reports with an [`EventName`]; MGE's `upsmgOnBattery`, PowerNet's
//! `upsOnBattery` and RFC 1628's `upsTrapOnBattery` are all
//! [`EventName::OnBattery`]. The name is what clients see (`name` and
//! `event_type` of `<base>/<ups>/event`, snake_case via serde) and what the
//! trap effects are keyed on. Per-trap detail (MIB object, OID, severity,
//! description) travels beside it in the event payload.

use serde::{Deserialize, Serialize};

macro_rules! event_names {
    ($($variant:ident => $wire:literal,)*) => {
        /// One fact a UPS card reports by trap.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EventName {
            $($variant,)*
        }

        impl EventName {
            /// Every name, in documentation order (for Home Assistant's
            /// `event_types`, device triggers, the README).
            pub const ALL: &'static [EventName] = &[$(EventName::$variant,)*];

            /// The name on the wire (the serde form).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventName::$variant => $wire,)*
                }
            }
        }
    };
}

event_names! {
    // Power and battery.
    OnBattery => "on_battery",
    PowerRestored => "power_restored",
    UtilityFailure => "utility_failure",
    UtilityRestored => "utility_restored",
    InputBad => "input_bad",
    InputOk => "input_ok",
    BatteryLow => "battery_low",
    BatteryLowCleared => "battery_low_cleared",
    AtLowCondition => "at_low_condition",
    FromLowCondition => "from_low_condition",
    AtLowRecharge => "at_low_recharge",
    FromLowRecharge => "from_low_recharge",
    BatteryDischarged => "battery_discharged",
    BatteryFault => "battery_fault",
    BatteryOk => "battery_ok",
    BatteryUnavailable => "battery_unavailable",
    BatteryAvailable => "battery_available",
    BatteryReplacementIndicated => "battery_replacement_indicated",
    BatteryReplacementNotIndicated => "battery_replacement_not_indicated",
    ChargerFault => "charger_fault",
    ChargerOk => "charger_ok",
    // Output.
    Overload => "overload",
    LoadOk => "load_ok",
    OverTemperature => "over_temperature",
    TemperatureOk => "temperature_ok",
    OnBypass => "on_bypass",
    ReturnFromBypass => "return_from_bypass",
    BypassUnavailable => "bypass_unavailable",
    BypassAvailable => "bypass_available",
    OnBoost => "on_boost",
    ReturnFromBoost => "return_from_boost",
    OnBuck => "on_buck",
    ReturnFromBuck => "return_from_buck",
    RedundancyLost => "redundancy_lost",
    RedundancyOk => "redundancy_ok",
    ProtectionLost => "protection_lost",
    ProtectionOk => "protection_ok",
    // Tests.
    TestCompleted => "test_completed",
    TestPassed => "test_passed",
    TestFailed => "test_failed",
    BatteryTestPassed => "battery_test_passed",
    BatteryTestFailed => "battery_test_failed",
    // Alarms (RFC 1628's alarm table).
    AlarmAdded => "alarm_added",
    AlarmRemoved => "alarm_removed",
    // The UPS as a whole.
    UpsTurnedOff => "ups_turned_off",
    UpsTurnedOn => "ups_turned_on",
    UpsSleeping => "ups_sleeping",
    UpsWokeUp => "ups_woke_up",
    UpsRebootStarted => "ups_reboot_started",
    DipSwitchChanged => "dip_switch_changed",
    CommunicationLost => "communication_lost",
    CommunicationRestored => "communication_restored",
    // Receptacles and outlet groups.
    OnToStart => "on_to_start",
    OnAbort => "on_abort",
    OnInProgress => "on_in_progress",
    OnComplete => "on_complete",
    OffToStart => "off_to_start",
    OffAbort => "off_abort",
    OffInProgress => "off_in_progress",
    OffComplete => "off_complete",
    ToggleToStart => "toggle_to_start",
    ToggleAbort => "toggle_abort",
    ToggleInProgress => "toggle_in_progress",
    ToggleComplete => "toggle_complete",
    OutletGroupOn => "outlet_group_on",
    OutletGroupOff => "outlet_group_off",
    // Environment probe.
    ExternalAlarmActive => "external_alarm_active",
    ExternalAlarmInactive => "external_alarm_inactive",
    EnvironComFailure => "environ_com_failure",
    EnvironComOk => "environ_com_ok",
    EnvironTemperatureLow => "environ_temperature_low",
    EnvironTemperatureHigh => "environ_temperature_high",
    EnvironTemperatureOk => "environ_temperature_ok",
    EnvironHumidityLow => "environ_humidity_low",
    EnvironHumidityHigh => "environ_humidity_high",
    EnvironHumidityOk => "environ_humidity_ok",
    EnvironInput1Closed => "environ_input1_closed",
    EnvironInput1Open => "environ_input1_open",
    EnvironInput2Closed => "environ_input2_closed",
    EnvironInput2Open => "environ_input2_open",
    // SNMP's generic traps (RFC 3418 snmpTraps), and any trap not in the table.
    ColdStart => "cold_start",
    WarmStart => "warm_start",
    LinkDown => "link_down",
    LinkUp => "link_up",
    AuthenticationFailure => "authentication_failure",
    EgpNeighborLoss => "egp_neighbor_loss",
    Unknown => "unknown",
}

impl EventName {
    /// SNMP's generic traps 1-6 (`snmpTraps.N`, or v1 generic-trap N-1).
    pub const GENERIC: [EventName; 6] = [
        EventName::ColdStart,
        EventName::WarmStart,
        EventName::LinkDown,
        EventName::LinkUp,
        EventName::AuthenticationFailure,
        EventName::EgpNeighborLoss,
    ];

    /// Looks a name up by its wire form.
    pub fn from_name(name: &str) -> Option<EventName> {
        EventName::ALL.iter().copied().find(|e| e.as_str() == name)
    }
}

/// SNMPv2-MIB's names of the generic traps, in [`EventName::GENERIC`] order.
const GENERIC_OBJECTS: [&str; 6] = [
    "coldStart",
    "warmStart",
    "linkDown",
    "linkUp",
    "authenticationFailure",
    "egpNeighborLoss",
];

/// The README's event list: every name and the traps that report it.
pub fn markdown() -> String {
    let mut out = String::from("| event | reported by |\n| --- | --- |\n");
    for &event in EventName::ALL {
        let traps: Vec<String> = super::traps::TRAPS
            .iter()
            .filter(|t| t.event == event)
            .map(|t| format!("{} `{}`", t.mib, t.object))
            .collect();
        let generic = EventName::GENERIC.iter().position(|&g| g == event);
        let by = match (generic, traps.is_empty()) {
            (Some(i), _) => format!("SNMPv2-MIB `{}`", GENERIC_OBJECTS[i]),
            (None, true) => "any other trap".to_string(),
            (None, false) => traps.join(", "),
        };
        out.push_str(&format!("| `{event}` | {by} |\n"));
    }
    out
}

impl std::fmt::Display for EventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn serde_and_as_str_agree_and_names_are_snake_case() {
        let mut seen = HashSet::new();
        for &event in EventName::ALL {
            let wire = serde_json::to_value(event).unwrap();
            assert_eq!(wire, event.as_str(), "{event:?}");
            assert_eq!(
                serde_json::from_value::<EventName>(wire).unwrap(),
                event,
                "{event:?}"
            );
            assert!(seen.insert(event.as_str()), "{event} twice");
            assert!(
                event.as_str().split('_').all(|word| !word.is_empty()
                    && word
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
                "{event}"
            );
            assert_eq!(EventName::from_name(event.as_str()), Some(event));
        }
        assert_eq!(EventName::from_name("load_o_k"), None);
    }
}
