//! The point table data: every field of every page and the MIB objects that
//! supply it, most precise source first. Sources: `../shared/mib/PAGES.md`
//! and the MIB texts (UPS-MIB = RFC 1628, MG-SNMP-UPS-MIB 1.7,
//! PowerNet-MIB 4.5.8).
//!
//! Conventions:
//! - Values are published in SI base units (V, A, W, VA, Hz, %, s, °C);
//!   `Number { scale }` converts the raw integer (tenths → 0.1, TimeTicks →
//!   0.01, RFC 1628 minutes → 60).
//! - Where MIBs agree on a fact, the order of `sources` is the preference:
//!   PowerNet "HighPrec" (tenths) before MGE before RFC 1628 where that is
//!   more precise; RFC 1628 first for line voltages because it is
//!   phase-to-neutral by definition.
//! - Where two sources mean different quantities they are different
//!   fields: MGE's per-phase voltage is phase-to-phase on 3-phase Galaxy
//!   cards (quirk Q3), so there it is `voltage_phase_to_phase` and only on
//!   single-phase cards `voltage` (see [`super::Lines`]).
//! - Enum labels are the MIB's names in snake_case.

use super::Component::{
    BinarySensor, Button, Number as NumberEntity, Select, Sensor, Switch, Text as TextEntity,
};
use super::Mib::{Mge, PowerNet, Rfc1628, System};
use super::Unit::*;
use super::{CutsPower, Decode, Field, Ha, Legal, Page, Source, Table, Unit, YES_NO, src};

// ---------------------------------------------------------------- decoders

const TEXT: Decode = Decode::Text;
const INT: Decode = Decode::Number { scale: 1.0 };
const TENTHS: Decode = Decode::Number { scale: 0.1 };
const TICKS: Decode = Decode::Number { scale: 0.01 };
const MINUTES: Decode = Decode::Number { scale: 60.0 };
const HUNDREDTHS: Decode = Decode::Number { scale: 0.01 };
const MILLI: Decode = Decode::Number { scale: 0.001 };
/// kW, kVA, kVAr → W, VA, var.
const KILO: Decode = Decode::Number { scale: 1_000.0 };
const DAYS: Decode = Decode::Number { scale: 86_400.0 };

const fn labels(l: &'static [(i64, &'static str)]) -> Decode {
    Decode::Enum(l)
}

const ENABLED_DISABLED: &[(i64, &str)] = &[(1, "enabled"), (2, "disabled")];
const RECEPTACLE_POLICY: &[(i64, &str)] = &[(1, "on"), (2, "off"), (3, "last"), (4, "schedule")];
const CTRL: &[(i64, &str)] = &[(1, "nothing"), (2, "start"), (3, "stop")];
const CTRL_STATUS: &[(i64, &str)] = &[
    (1, "none"),
    (2, "started"),
    (3, "in_progress_in_ups"),
    (4, "completed"),
];
const MGE_DAYS: &[(i64, &str)] = &[
    (1, "sunday"),
    (2, "monday"),
    (3, "tuesday"),
    (4, "wednesday"),
    (5, "thursday"),
    (6, "friday"),
    (7, "saturday"),
    (8, "none"),
];
const OUTLET_TYPE: &[(i64, &str)] = &[(1, "switched"), (2, "main")];

// ------------------------------------------------------------- HA presets

const MEASURE: Ha = Ha::new(Sensor).measurement();
const VOLTAGE: Ha = Ha::new(Sensor).class("voltage").measurement();
const CURRENT: Ha = Ha::new(Sensor).class("current").measurement();
const POWER: Ha = Ha::new(Sensor).class("power").measurement();
const APPARENT: Ha = Ha::new(Sensor).class("apparent_power").measurement();
const FREQUENCY: Ha = Ha::new(Sensor).class("frequency").measurement();
const TEMPERATURE: Ha = Ha::new(Sensor).class("temperature").measurement();
const HUMIDITY: Ha = Ha::new(Sensor).class("humidity").measurement();
const DURATION: Ha = Ha::new(Sensor).class("duration").measurement();
const BATTERY: Ha = Ha::new(Sensor).class("battery").measurement();
const STATE: Ha = Ha::new(Sensor).class("enum");
const ENERGY: Ha = Ha::new(Sensor).class("energy").total();
const POWER_FACTOR: Ha = Ha::new(Sensor).class("power_factor").measurement();
const REACTIVE: Ha = Ha::new(Sensor).class("reactive_power").measurement();
const INFO: Ha = Ha::new(Sensor).diagnostic();
const PROBLEM: Ha = Ha::new(BinarySensor).class("problem");
const FLAG: Ha = Ha::new(BinarySensor);
const SET_NUMBER: Ha = Ha::new(NumberEntity).config();
const SET_SELECT: Ha = Ha::new(Select).config();
const SET_TEXT: Ha = Ha::new(TextEntity).config().disabled();
const SET_SWITCH: Ha = Ha::new(Switch).config();
const OUTLET: Ha = Ha::new(Switch).class("outlet");
const COMMAND: Ha = Ha::new(Select).config().disabled();
const PRESS: Ha = Ha::new(Button);

// ------------------------------------------------------------ field forms

#[rustfmt::skip]
const fn scalar(page: Page, key: &'static str, label: &'static str, unit: Option<Unit>, ha: Ha, sources: &'static [Source]) -> Field {
    Field { page, table: None, key, label, unit, ha, sources, void_when: None, zero_unmeasured_while: None }
}

#[rustfmt::skip]
const fn column(page: Page, table: &'static str, key: &'static str, label: &'static str, unit: Option<Unit>, ha: Ha, sources: &'static [Source]) -> Field {
    Field { page, table: Some(table), key, label, unit, ha, sources, void_when: None, zero_unmeasured_while: None }
}

#[rustfmt::skip]
const fn table(page: Page, key: &'static str, label: &'static str, row_limit: Option<&'static str>, required: Option<&'static str>) -> Table {
    Table { page, key, label, row_limit, required, counted_by: None, row: "row" }
}

const TIMER_RANGE: Legal = Legal::Range {
    min: -1.0,
    max: 86_400.0,
};
const DELAY_RANGE: Legal = Legal::Range {
    min: 0.0,
    max: 86_400.0,
};
const PERCENT_RANGE: Legal = Legal::Range {
    min: 0.0,
    max: 100.0,
};
const VOLT_RANGE: Legal = Legal::Range {
    min: 0.0,
    max: 500.0,
};
const HZ_RANGE: Legal = Legal::Range {
    min: 40.0,
    max: 70.0,
};
/// Line-to-line (phase-to-phase) voltages of 3-phase systems.
const LL_VOLT_RANGE: Legal = Legal::Range {
    min: 0.0,
    max: 900.0,
};
/// Every written value changes whether, when or at what voltage the load
/// is powered (transfer points, schedules, shutdown thresholds): refused
/// unless dangerous commands are enabled.
const POWER_AFFECTING: CutsPower = CutsPower::AllBut(&[]);
const IDENT_32: Legal = Legal::Text { max_len: 32 };
const IDENT_63: Legal = Legal::Text { max_len: 63 };

/// What PowerNet flag and state strings read when the card cannot tell
/// ('UNKNOWN') or the UPS does not use the object ('NOT SUPPORTED'), as the
/// MIB's DESCRIPTIONs say (upsAdvStateAbnormalConditions and others).
const POWERNET_NO_TEXT: &[&str] = &["UNKNOWN", "NOT SUPPORTED"];

/// A plausibility limit for RFC 1628 line voltages: above it the card sent
/// tenths (Galaxy, Delta Mini-SNMP: 2303 = 230.3 V).
const LINE_VOLTS_MAX: f64 = 1_000.0;

use Page::*;

#[rustfmt::skip]
pub static TABLES: &[Table] = &[
    table(Alarms, "active", "Active alarms", None, Some("alarm")).row("entry").counted_by("present"),
    table(Input, "lines", "Input lines", Some("num_lines"), None).row("phase"),
    table(Input, "bypass_lines", "Bypass lines", Some("bypass_num_lines"), None).row("phase"),
    table(Output, "lines", "Output lines", Some("num_lines"), None).row("phase"),
    table(Battery, "packs", "Battery packs", None, None).row("pack"),
    table(Battery, "cabinets", "Battery cabinets", Some("num_cabinets"), None).row("cabinet"),
    table(Battery, "strings", "Battery strings", None, None).row("string"),
    table(Config, "dip_switches", "DIP switches", None, None).row("switch"),
    table(Receptacles, "receptacles", "Receptacles", None, None).row("receptacle"),
    table(Receptacles, "outlet_groups", "Outlet groups", None, None).row("outlet_group"),
    table(Devices, "devices", "Connected devices", None, None).row("device"),
    table(Environment, "sensors", "Environment sensors", None, None).row("sensor"),
    table(Environment, "probes", "Temperature probes", None, None).row("probe"),
    table(Control, "outlet_groups", "Outlet group control", None, None).row("outlet_group"),
    table(Control, "receptacles", "Receptacle control", None, None).row("receptacle"),
];

#[rustfmt::skip]
pub static FIELDS: &[Field] = &[
    // ================================================================ general
    scalar(General, "manufacturer", "Manufacturer", None, INFO, &[
        src(Rfc1628, "upsIdentManufacturer", "1.3.6.1.2.1.33.1.1.1", TEXT),
        src(System, "sysObjectID", "1.3.6.1.2.1.1.2", Decode::Vendor).note("the vendor of the card's enterprise number, when the UPS MIBs name none"),
    ]),
    scalar(General, "model", "Model", None, INFO, &[
        src(Rfc1628, "upsIdentModel", "1.3.6.1.2.1.33.1.1.2", TEXT),
        src(PowerNet, "upsBasicIdentModel", "1.3.6.1.4.1.318.1.1.1.1.1.1", TEXT),
        src(Mge, "upsmgIdentFamilyName", "1.3.6.1.4.1.705.1.1.1", TEXT).note("family only, e.g. \"Eaton 9PX\"; the rest is model_name"),
        src(System, "sysDescr", "1.3.6.1.2.1.1.1", TEXT).note("the card's own description (\"Mini-SNMP\", \"Netman 204\") when no UPS MIB names the model"),
    ]),
    scalar(General, "model_name", "Model name", None, INFO, &[
        src(Mge, "upsmgIdentModelName", "1.3.6.1.4.1.705.1.1.2", TEXT),
    ]),
    scalar(General, "firmware_version", "Firmware version", None, INFO, &[
        src(Mge, "upsmgIdentFirmwareVersion", "1.3.6.1.4.1.705.1.1.4", TEXT),
        src(PowerNet, "upsAdvIdentFirmwareRevision", "1.3.6.1.4.1.318.1.1.1.1.2.1", TEXT),
        src(Rfc1628, "upsIdentUPSSoftwareVersion", "1.3.6.1.2.1.33.1.1.3", TEXT),
    ]),
    scalar(General, "agent_version", "Network card software version", None, INFO, &[
        src(Rfc1628, "upsIdentAgentSoftwareVersion", "1.3.6.1.2.1.33.1.1.4", TEXT),
        src(Mge, "upsmgAgentFirmwareVersion", "1.3.6.1.4.1.705.1.12.12", TEXT),
    ]),
    scalar(General, "name", "Name", None, SET_TEXT, &[
        src(Rfc1628, "upsIdentName", "1.3.6.1.2.1.33.1.1.5", TEXT).rw(IDENT_63).note("Eaton NMC puts \"ID: <serial>, Msg: <model>\" here"),
        src(PowerNet, "upsBasicIdentName", "1.3.6.1.4.1.318.1.1.1.1.1.2", TEXT).rw(Legal::Text { max_len: 8 }),
    ]),
    scalar(General, "attached_devices", "Attached devices", None, SET_TEXT, &[
        src(Rfc1628, "upsIdentAttachedDevices", "1.3.6.1.2.1.33.1.1.6", TEXT).rw(IDENT_63),
    ]),
    scalar(General, "revision_level", "Revision level", None, INFO, &[
        src(Mge, "upsmgIdentRevisionLevel", "1.3.6.1.4.1.705.1.1.3", TEXT),
    ]),
    scalar(General, "user_id", "User ID", None, SET_TEXT, &[
        src(Mge, "upsmgIdentUserID", "1.3.6.1.4.1.705.1.1.5", TEXT).rw(IDENT_32),
    ]),
    scalar(General, "installation_date", "Installation date", None, SET_TEXT, &[
        src(Mge, "upsmgIdentInstallationDate", "1.3.6.1.4.1.705.1.1.6", TEXT).rw(IDENT_32).note("dd/mm/yy"),
    ]),
    scalar(General, "manufacture_date", "Date of manufacture", None, INFO, &[
        src(PowerNet, "upsAdvIdentDateOfManufacture", "1.3.6.1.4.1.318.1.1.1.1.2.2", TEXT).note("mm/dd/yy"),
    ]),
    scalar(General, "serial_number", "Serial number", None, INFO, &[
        src(Mge, "upsmgIdentSerialNumber", "1.3.6.1.4.1.705.1.1.7", TEXT),
        src(PowerNet, "upsAdvIdentSerialNumber", "1.3.6.1.4.1.318.1.1.1.1.2.3", TEXT),
    ]),
    scalar(General, "mib_version", "MGE MIB version", None, INFO, &[
        src(Mge, "upsmgAgentMibVersion", "1.3.6.1.4.1.705.1.12.11", INT),
    ]),

    scalar(General, "family", "Model family", None, INFO, &[
        src(PowerNet, "upsBasicIdentFamilyName", "1.3.6.1.4.1.318.1.1.1.1.1.3", TEXT),
    ]),
    scalar(General, "model_type", "Model type", None, INFO, &[
        src(PowerNet, "upsBasicIdentModelType", "1.3.6.1.4.1.318.1.1.1.1.1.4", TEXT),
    ]),
    scalar(General, "firmware_version_2", "Co-processor firmware version", None, INFO, &[
        src(PowerNet, "upsAdvIdentFirmwareRevision2", "1.3.6.1.4.1.318.1.1.1.1.2.4", TEXT),
    ]),
    scalar(General, "sku", "SKU", None, INFO, &[
        src(PowerNet, "upsAdvIdentSkuNumber", "1.3.6.1.4.1.318.1.1.1.1.2.5", TEXT),
    ]),
    scalar(General, "hardware_revision", "Hardware revision", None, INFO, &[
        src(PowerNet, "upsAdvIdentHardwareRevision", "1.3.6.1.4.1.318.1.1.1.1.2.6", TEXT),
    ]),
    scalar(General, "phase_configuration", "Phase configuration", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvIdentUpsPhaseConfigType", "1.3.6.1.4.1.318.1.1.1.1.2.7", labels(&[(1, "unknown"), (2, "three_phase_in_out"), (3, "one_phase_in_out"), (4, "three_phase_in_one_out")])),
    ]),
    scalar(General, "energy_storage", "Energy storage", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvEnergyStorageType", "1.3.6.1.4.1.318.1.1.1.1.2.8", labels(&[(1, "unknown"), (2, "vrla_or_wet_cells"), (3, "ni_cd_batteries"), (4, "li_ion_batteries"), (5, "no_energy_storage"), (6, "flywheel"), (7, "ultracaps")])),
    ]),
    scalar(General, "ups_communication", "Card to UPS communication", None, Ha::new(BinarySensor).class("connectivity").diagnostic(), &[
        src(PowerNet, "upsCommStatus", "1.3.6.1.4.1.318.1.1.1.8.1", Decode::Flag { on: 1, off: 2 }),
    ]),

    // ================================================================= alarms
    scalar(Alarms, "present", "Alarms present", None, MEASURE, &[
        src(Rfc1628, "upsAlarmsPresent", "1.3.6.1.2.1.33.1.6.1", INT).gauge(),
    ]),
    column(Alarms, "active", "alarm", "Alarm", None, Ha::new(Sensor), &[
        src(Rfc1628, "upsAlarmDescr", "1.3.6.1.2.1.33.1.6.2.1.2", Decode::Alarm).note("rows whose descr is 0.0 are padding (CE+T) and dropped"),
    ]),
    column(Alarms, "active", "since", "Detected at agent uptime", Some(Second), INFO, &[
        src(Rfc1628, "upsAlarmTime", "1.3.6.1.2.1.33.1.6.2.1.3", TICKS).ticks().note("TimeStamp: sysUpTime when detected"),
    ]),

    scalar(Alarms, "severity", "Alarm severity", None, STATE, &[
        src(PowerNet, "upsBasicStateAlarmStatus", "1.3.6.1.4.1.318.1.1.1.11.1.2", labels(&[(1, "no_alarms"), (2, "info_alarm"), (3, "warning_alarm"), (4, "critical_alarm")])),
    ]),
    scalar(Alarms, "abnormal_conditions", "Abnormal condition flags", None, INFO, &[
        src(PowerNet, "upsAdvStateAbnormalConditions", "1.3.6.1.4.1.318.1.1.1.11.2.1", TEXT).null_text(POWERNET_NO_TEXT).note("32 flags, \"1\" = active, numbered from the left; see the MIB"),
    ]),
    scalar(Alarms, "system_message", "System message", None, INFO, &[
        src(PowerNet, "upsAdvStateSystemMessages", "1.3.6.1.4.1.318.1.1.1.11.2.6", TEXT).null_text(POWERNET_NO_TEXT),
    ]),
    scalar(Alarms, "life_cycle_alerts", "Life cycle alert flags", None, INFO, &[
        src(PowerNet, "upsAdvStateLifeCycleManagement", "1.3.6.1.4.1.318.1.1.1.11.2.14", TEXT).null_text(POWERNET_NO_TEXT),
    ]),

    // ================================================================== input
    scalar(Input, "num_lines", "Input lines", None, INFO, &[
        src(Rfc1628, "upsInputNumLines", "1.3.6.1.2.1.33.1.3.2", INT),
        src(Mge, "upsmgInputPhaseNum", "1.3.6.1.4.1.705.1.6.1", INT),
        src(PowerNet, "upsPhaseNumInputPhases", "1.3.6.1.4.1.318.1.1.1.9.2.2.1.2", INT).null_when(&[-1]).at_row(1).note("phases of input feed 1 (main)"),
        src(PowerNet, "upsBasicInputPhase", "1.3.6.1.4.1.318.1.1.1.3.1.1", INT),
    ]),
    scalar(Input, "line_bads", "Input out of tolerance count", None, Ha::new(Sensor).total().diagnostic(), &[
        src(Rfc1628, "upsInputLineBads", "1.3.6.1.2.1.33.1.3.1", INT).counter(),
    ]),
    scalar(Input, "bad", "Input bad", None, PROBLEM, &[
        src(Mge, "upsmgInputBadStatus", "1.3.6.1.4.1.705.1.6.3", YES_NO),
    ]),
    scalar(Input, "transfer_reason", "Last transfer reason", None, STATE.diagnostic(), &[
        src(Mge, "upsmgInputLineFailCause", "1.3.6.1.4.1.705.1.6.4", labels(&[(1, "no"), (2, "out_of_tolerance_voltage"), (3, "out_of_tolerance_frequency"), (4, "utility_off")])),
        src(PowerNet, "upsAdvInputLineFailCause", "1.3.6.1.4.1.318.1.1.1.3.2.5", labels(&[
            (1, "no_transfer"), (2, "high_line_voltage"), (3, "brownout"), (4, "blackout"), (5, "small_momentary_sag"),
            (6, "deep_momentary_sag"), (7, "small_momentary_spike"), (8, "large_momentary_spike"), (9, "self_test"), (10, "rate_of_voltage_change"),
        ])),
    ]),
    scalar(Input, "voltage", "Input voltage", Some(Volt), VOLTAGE, &[
        src(PowerNet, "upsHighPrecInputLineVoltage", "1.3.6.1.4.1.318.1.1.1.3.3.1", TENTHS).gauge(),
        src(PowerNet, "upsAdvInputLineVoltage", "1.3.6.1.4.1.318.1.1.1.3.2.1", INT).gauge(),
    ]),
    scalar(Input, "voltage_max", "Input voltage maximum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsHighPrecInputMaxLineVoltage", "1.3.6.1.4.1.318.1.1.1.3.3.2", TENTHS).gauge(),
        src(PowerNet, "upsAdvInputMaxLineVoltage", "1.3.6.1.4.1.318.1.1.1.3.2.2", INT).gauge(),
    ]),
    scalar(Input, "voltage_min", "Input voltage minimum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsHighPrecInputMinLineVoltage", "1.3.6.1.4.1.318.1.1.1.3.3.3", TENTHS).gauge(),
        src(PowerNet, "upsAdvInputMinLineVoltage", "1.3.6.1.4.1.318.1.1.1.3.2.3", INT).gauge(),
    ]),
    scalar(Input, "frequency", "Input frequency", Some(Hertz), FREQUENCY.diagnostic(), &[
        src(PowerNet, "upsHighPrecInputFrequency", "1.3.6.1.4.1.318.1.1.1.3.3.4", TENTHS).frequency().gauge(),
        src(PowerNet, "upsPhaseInputFrequency", "1.3.6.1.4.1.318.1.1.1.9.2.2.1.4", TENTHS).frequency().at_row(1).null_when(&[-1]),
        src(PowerNet, "upsAdvInputFrequency", "1.3.6.1.4.1.318.1.1.1.3.2.4", INT).frequency().gauge(),
    ]),
    column(Input, "lines", "voltage", "Input voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Rfc1628, "upsInputVoltage", "1.3.6.1.2.1.33.1.3.3.1.3", INT).non_negative().tenths_above(LINE_VOLTS_MAX).note("whole V per MIB; Galaxy/Delta send tenths (Q2)"),
        src(Mge, "mginputVoltage", "1.3.6.1.4.1.705.1.6.2.1.2", TENTHS).single_phase_only().note("phase-to-neutral on one line; on 3-phase cards it is voltage_phase_to_phase (Q3)"),
        src(PowerNet, "upsPhaseInputVoltage", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.3", INT).feed(1).null_when(&[-1]).note("as the card reports it: phase-to-phase on a Galaxy VS although voltage_orientation says phase-to-neutral; voltage_phase_to_neutral is upsPhase*VoltagePN"),
    ]),
    column(Input, "lines", "frequency", "Input frequency", Some(Hertz), FREQUENCY.diagnostic(), &[
        src(Rfc1628, "upsInputFrequency", "1.3.6.1.2.1.33.1.3.3.1.2", TENTHS).frequency(),
        src(Mge, "mginputFrequency", "1.3.6.1.4.1.705.1.6.2.1.3", TENTHS).frequency(),
    ]),
    column(Input, "lines", "current", "Input current", Some(Ampere), CURRENT.diagnostic(), &[
        src(Rfc1628, "upsInputCurrent", "1.3.6.1.2.1.33.1.3.3.1.4", TENTHS).non_negative(),
        src(Mge, "mginputCurrent", "1.3.6.1.4.1.705.1.6.2.1.6", TENTHS).note("the MIB names no unit; tenths of A on real cards, as RFC 1628's 0.1 RMS Amp (Galaxy 7000: 370 = 37.0 A at 9 % of 250 kVA)"),
        src(PowerNet, "upsPhaseInputCurrent", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.6", TENTHS).feed(1).null_when(&[-1]),
    ]).zero_unmeasured_while("voltage"),
    column(Input, "lines", "power", "Input power", Some(Watt), POWER.diagnostic(), &[
        src(Rfc1628, "upsInputTruePower", "1.3.6.1.2.1.33.1.3.3.1.5", INT).non_negative(),
        src(PowerNet, "upsPhaseInputPower", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.9", INT).feed(1).null_when(&[-1]),
    ]).zero_unmeasured_while("voltage"),
    column(Input, "lines", "voltage_min", "Input voltage minimum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Mge, "mginputMinimumVoltage", "1.3.6.1.4.1.705.1.6.2.1.4", TENTHS).single_phase_only().note("the same quantity as mginputVoltage: phase-to-phase on 3-phase cards (voltage_phase_to_phase_min there)"),
        src(PowerNet, "upsPhaseInputMinVoltage", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.5", INT).feed(1).null_when(&[-1]),
    ]),
    column(Input, "lines", "voltage_max", "Input voltage maximum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Mge, "mginputMaximumVoltage", "1.3.6.1.4.1.705.1.6.2.1.5", TENTHS).single_phase_only().note("the same quantity as mginputVoltage: phase-to-phase on 3-phase cards (voltage_phase_to_phase_max there)"),
        src(PowerNet, "upsPhaseInputMaxVoltage", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.4", INT).feed(1).null_when(&[-1]),
    ]),
    column(Input, "lines", "voltage_phase_to_phase", "Input voltage phase to phase", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Mge, "mginputVoltage", "1.3.6.1.4.1.705.1.6.2.1.2", TENTHS).polyphase_only().note("\"The input phase voltage\": phase-to-phase on a 3-phase card (Galaxy 7000: 409.0 V beside RFC 1628's 236.3 V phase-to-neutral on line 1, Q3)"),
    ]),
    column(Input, "lines", "voltage_phase_to_phase_min", "Input voltage phase to phase minimum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Mge, "mginputMinimumVoltage", "1.3.6.1.4.1.705.1.6.2.1.4", TENTHS).polyphase_only().note("over the last minute"),
    ]),
    column(Input, "lines", "voltage_phase_to_phase_max", "Input voltage phase to phase maximum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Mge, "mginputMaximumVoltage", "1.3.6.1.4.1.705.1.6.2.1.5", TENTHS).polyphase_only().note("over the last minute"),
    ]),
    scalar(Input, "bypass_frequency", "Bypass frequency", Some(Hertz), FREQUENCY.diagnostic(), &[
        src(PowerNet, "upsHighPrecInputBypassFrequency", "1.3.6.1.4.1.318.1.1.1.3.3.7", TENTHS).frequency().gauge(),
        src(Rfc1628, "upsBypassFrequency", "1.3.6.1.2.1.33.1.5.1", TENTHS).frequency(),
        src(PowerNet, "upsPhaseInputFrequency", "1.3.6.1.4.1.318.1.1.1.9.2.2.1.4", TENTHS).frequency().at_row(2).null_when(&[-1]),
    ]),
    scalar(Input, "bypass_num_lines", "Bypass lines", None, INFO, &[
        src(Rfc1628, "upsBypassNumLines", "1.3.6.1.2.1.33.1.5.2", INT),
        src(PowerNet, "upsPhaseNumInputPhases", "1.3.6.1.4.1.318.1.1.1.9.2.2.1.2", INT).null_when(&[-1]).at_row(2).note("phases of input feed 2 (bypass)"),
    ]),
    column(Input, "bypass_lines", "voltage", "Bypass voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Rfc1628, "upsBypassVoltage", "1.3.6.1.2.1.33.1.5.3.1.2", INT).non_negative().tenths_above(LINE_VOLTS_MAX),
        src(PowerNet, "upsPhaseInputVoltage", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.3", INT).feed(2).null_when(&[-1]).note("as the card reports it (phase-to-phase on a Galaxy VS)"),
    ]),
    column(Input, "bypass_lines", "current", "Bypass current", Some(Ampere), CURRENT.diagnostic(), &[
        src(Rfc1628, "upsBypassCurrent", "1.3.6.1.2.1.33.1.5.3.1.3", TENTHS).non_negative(),
        src(PowerNet, "upsPhaseInputCurrent", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.6", TENTHS).feed(2).null_when(&[-1]),
    ]),
    column(Input, "bypass_lines", "power", "Bypass power", Some(Watt), POWER.diagnostic(), &[
        src(Rfc1628, "upsBypassPower", "1.3.6.1.2.1.33.1.5.3.1.4", INT).non_negative(),
        src(PowerNet, "upsPhaseInputPower", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.9", INT).feed(2).null_when(&[-1]),
    ]),

    scalar(Input, "num_feeds", "Input feeds", None, INFO, &[
        src(PowerNet, "upsPhaseNumInputs", "1.3.6.1.4.1.318.1.1.1.9.2.1", INT).null_when(&[-1]).note("feed 1 is the main input, feed 2 the bypass"),
    ]),
    scalar(Input, "voltage_orientation", "Input voltage orientation", None, STATE.diagnostic(), &[
        src(PowerNet, "upsPhaseInputVoltageOrientation", "1.3.6.1.4.1.318.1.1.1.9.2.2.1.3", labels(&[(1, "unknown"), (2, "single_phase"), (3, "split_phase"), (4, "three_phase_phase_to_neutral"), (5, "three_phase_phase_to_phase")])).at_row(1).note("says what lines[].voltage measures"),
    ]),
    scalar(Input, "bypass_voltage_orientation", "Bypass voltage orientation", None, STATE.diagnostic(), &[
        src(PowerNet, "upsPhaseInputVoltageOrientation", "1.3.6.1.4.1.318.1.1.1.9.2.2.1.3", labels(&[(1, "unknown"), (2, "single_phase"), (3, "split_phase"), (4, "three_phase_phase_to_neutral"), (5, "three_phase_phase_to_phase")])).at_row(2),
    ]),
    scalar(Input, "apparent_power", "Input apparent power", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(PowerNet, "upsAdvInputTotalApparentPower", "1.3.6.1.4.1.318.1.1.1.3.2.11", KILO).note("kVA, sum of the phases"),
    ]),
    scalar(Input, "power", "Input power", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsAdvInputTotalActivePower", "1.3.6.1.4.1.318.1.1.1.3.2.12", KILO).null_when(&[-1]).note("kW, sum of the phases; -1 = not supported"),
    ]),
    scalar(Input, "bypass_apparent_power", "Bypass apparent power", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(PowerNet, "upsAdvInputBypassTotalApparentPower", "1.3.6.1.4.1.318.1.1.1.3.2.13", KILO).note("kVA"),
    ]),
    scalar(Input, "bypass_power", "Bypass power", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsAdvInputBypassTotalActivePower", "1.3.6.1.4.1.318.1.1.1.3.2.14", KILO).note("kW"),
    ]),
    scalar(Input, "energy", "Input energy", Some(KiloWattHour), ENERGY, &[
        src(PowerNet, "upsHighPrecInputEnergyUsage", "1.3.6.1.4.1.318.1.1.1.3.3.5", HUNDREDTHS).gauge().null_when(&[4_294_967_295]).note("hundredths of kWh"),
        src(PowerNet, "upsAdvInputEnergyUsage", "1.3.6.1.4.1.318.1.1.1.3.2.15", INT).gauge().null_when(&[4_294_967_295]),
    ]),
    scalar(Input, "dc_voltage", "DC input voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsHighPrecInputDCVoltage", "1.3.6.1.4.1.318.1.1.1.3.3.8", TENTHS).null_when(&[-1]),
        src(PowerNet, "upsAdvInputDCVoltage", "1.3.6.1.4.1.318.1.1.1.3.2.16", INT),
    ]),
    scalar(Input, "dc_current", "DC input current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsHighPrecInputDCCurrent", "1.3.6.1.4.1.318.1.1.1.3.3.9", TENTHS).gauge(),
        src(PowerNet, "upsAdvInputDCCurrent", "1.3.6.1.4.1.318.1.1.1.3.2.17", INT),
    ]),
    scalar(Input, "bypass_voltage", "Bypass voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsHighPrecInputBypassVoltage", "1.3.6.1.4.1.318.1.1.1.3.3.6", TENTHS).gauge(),
    ]),
    scalar(Input, "voltage_thd", "Input voltage THD", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvInputVoltageTHD", "1.3.6.1.4.1.318.1.1.1.3.2.10.1.3", INT).at_row(1),
    ]),
    scalar(Input, "bypass_voltage_thd", "Bypass voltage THD", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvInputBypassVoltageTHD", "1.3.6.1.4.1.318.1.1.1.3.2.10.1.4", INT).at_row(1),
    ]),
    scalar(Input, "peak_current", "Input peak current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsAdvInputPeakCurrent", "1.3.6.1.4.1.318.1.1.1.3.2.10.1.5", INT).at_row(1),
    ]),
    scalar(Input, "bypass_peak_current", "Bypass peak current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsAdvInputBypassPeakCurrent", "1.3.6.1.4.1.318.1.1.1.3.2.10.1.6", INT).at_row(1),
    ]),
    column(Input, "lines", "voltage_phase_to_neutral", "Input voltage phase to neutral", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsPhaseInputVoltagePN", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.14", INT).feed(1).null_when(&[-1]),
    ]),
    column(Input, "lines", "current_max", "Input current maximum", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMaxCurrent", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.7", TENTHS).feed(1).null_when(&[-1]).note("since upsPhaseResetMaxMinValues"),
    ]),
    column(Input, "lines", "current_min", "Input current minimum", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMinCurrent", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.8", TENTHS).feed(1).null_when(&[-1]),
    ]),
    column(Input, "lines", "power_max", "Input power maximum", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMaxPower", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.10", INT).feed(1).null_when(&[-1]),
    ]),
    column(Input, "lines", "power_min", "Input power minimum", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMinPower", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.11", INT).feed(1).null_when(&[-1]),
    ]),
    column(Input, "lines", "apparent_power", "Input apparent power", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(PowerNet, "upsPhaseInputApparentPower", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.12", KILO).null_when(&[-1]).feed(1).note("kVA"),
    ]),
    column(Input, "lines", "power_factor", "Input power factor", None, POWER_FACTOR.diagnostic(), &[
        src(PowerNet, "upsPhaseInputPowerFactor", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.13", HUNDREDTHS).null_when(&[-1]).feed(1),
    ]),
    column(Input, "bypass_lines", "voltage_phase_to_neutral", "Bypass voltage phase to neutral", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsPhaseInputVoltagePN", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.14", INT).feed(2).null_when(&[-1]),
    ]),
    column(Input, "bypass_lines", "current_max", "Bypass current maximum", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMaxCurrent", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.7", TENTHS).feed(2).null_when(&[-1]).note("since upsPhaseResetMaxMinValues"),
    ]),
    column(Input, "bypass_lines", "current_min", "Bypass current minimum", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMinCurrent", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.8", TENTHS).feed(2).null_when(&[-1]),
    ]),
    column(Input, "bypass_lines", "power_max", "Bypass power maximum", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMaxPower", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.10", INT).feed(2).null_when(&[-1]),
    ]),
    column(Input, "bypass_lines", "power_min", "Bypass power minimum", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMinPower", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.11", INT).feed(2).null_when(&[-1]),
    ]),
    column(Input, "bypass_lines", "apparent_power", "Bypass apparent power", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(PowerNet, "upsPhaseInputApparentPower", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.12", KILO).null_when(&[-1]).feed(2).note("kVA"),
    ]),
    column(Input, "bypass_lines", "power_factor", "Bypass power factor", None, POWER_FACTOR.diagnostic(), &[
        src(PowerNet, "upsPhaseInputPowerFactor", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.13", HUNDREDTHS).null_when(&[-1]).feed(2),
    ]),
    column(Input, "bypass_lines", "voltage_max", "Bypass voltage maximum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMaxVoltage", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.4", INT).feed(2).null_when(&[-1]),
    ]),
    column(Input, "bypass_lines", "voltage_min", "Bypass voltage minimum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsPhaseInputMinVoltage", "1.3.6.1.4.1.318.1.1.1.9.2.3.1.5", INT).feed(2).null_when(&[-1]),
    ]),

    // ================================================================= output
    scalar(Output, "source", "Output source", None, STATE, &[
        src(Rfc1628, "upsOutputSource", "1.3.6.1.2.1.33.1.4.1", labels(&[
            (1, "other"), (2, "none"), (3, "normal"), (4, "bypass"), (5, "battery"), (6, "booster"), (7, "reducer"),
        ])),
    ]),
    scalar(Output, "status", "Output status", None, STATE, &[
        src(PowerNet, "upsBasicOutputStatus", "1.3.6.1.4.1.318.1.1.1.4.1.1", labels(&[
            (1, "unknown"), (2, "on_line"), (3, "on_battery"), (4, "on_smart_boost"), (5, "timed_sleeping"), (6, "software_bypass"),
            (7, "off"), (8, "rebooting"), (9, "switched_bypass"), (10, "hardware_failure_bypass"), (11, "sleeping_until_power_return"),
            (12, "on_smart_trim"), (13, "eco_mode"), (14, "hot_standby"), (15, "on_battery_test"), (16, "emergency_static_bypass"),
            (17, "static_bypass_standby"), (18, "power_saving_mode"), (19, "spot_mode"), (20, "e_conversion"), (21, "charger_spot_mode"),
            (22, "inverter_spot_mode"), (23, "active_load"), (24, "battery_discharge_spot_mode"), (25, "inverter_standby"),
            (26, "charger_only"), (27, "distributed_energy_reserve"), (28, "self_test"),
        ])),
    ]),
    scalar(Output, "num_lines", "Output lines", None, INFO, &[
        src(Rfc1628, "upsOutputNumLines", "1.3.6.1.2.1.33.1.4.3", INT),
        src(Mge, "upsmgOutputPhaseNum", "1.3.6.1.4.1.705.1.7.1", INT),
        src(PowerNet, "upsPhaseNumOutputPhases", "1.3.6.1.4.1.318.1.1.1.9.3.2.1.2", INT).null_when(&[-1]).at_row(1),
        src(PowerNet, "upsBasicOutputPhase", "1.3.6.1.4.1.318.1.1.1.4.1.2", INT),
    ]),
    scalar(Output, "frequency", "Output frequency", Some(Hertz), FREQUENCY.diagnostic(), &[
        src(PowerNet, "upsHighPrecOutputFrequency", "1.3.6.1.4.1.318.1.1.1.4.3.2", TENTHS).frequency().gauge(),
        src(Rfc1628, "upsOutputFrequency", "1.3.6.1.2.1.33.1.4.2", TENTHS).frequency(),
        src(PowerNet, "upsPhaseOutputFrequency", "1.3.6.1.4.1.318.1.1.1.9.3.2.1.4", TENTHS).frequency().at_row(1).null_when(&[-1]),
        src(PowerNet, "upsAdvOutputFrequency", "1.3.6.1.4.1.318.1.1.1.4.2.2", INT).frequency().gauge(),
    ]),
    scalar(Output, "voltage", "Output voltage", Some(Volt), VOLTAGE, &[
        src(PowerNet, "upsHighPrecOutputVoltage", "1.3.6.1.4.1.318.1.1.1.4.3.1", TENTHS).gauge(),
        src(PowerNet, "upsAdvOutputVoltage", "1.3.6.1.4.1.318.1.1.1.4.2.1", INT).gauge(),
    ]),
    scalar(Output, "current", "Output current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsHighPrecOutputCurrent", "1.3.6.1.4.1.318.1.1.1.4.3.4", TENTHS).gauge(),
        src(PowerNet, "upsAdvOutputCurrent", "1.3.6.1.4.1.318.1.1.1.4.2.4", INT).gauge(),
    ]),
    scalar(Output, "load", "Load", Some(Percent), MEASURE, &[
        src(PowerNet, "upsHighPrecOutputLoad", "1.3.6.1.4.1.318.1.1.1.4.3.3", TENTHS).gauge(),
        src(PowerNet, "upsAdvOutputLoad", "1.3.6.1.4.1.318.1.1.1.4.2.3", INT).gauge(),
        src(PowerNet, "upsAdvOutputPercentLoad", "1.3.6.1.4.1.318.1.1.1.4.2.18", INT).null_when(&[-1]).note("% of rated kVA"),
    ]),
    scalar(Output, "power", "Output power", Some(Watt), POWER, &[
        src(PowerNet, "upsAdvOutputActivePower", "1.3.6.1.4.1.318.1.1.1.4.2.8", INT),
    ]),
    scalar(Output, "on_battery", "On battery", None, FLAG, &[
        src(Mge, "upsmgOutputOnBattery", "1.3.6.1.4.1.705.1.7.3", YES_NO),
    ]),
    scalar(Output, "on_bypass", "On bypass", None, FLAG, &[
        src(Mge, "upsmgOutputOnByPass", "1.3.6.1.4.1.705.1.7.4", YES_NO),
    ]),
    scalar(Output, "bypass_unavailable", "Bypass unavailable", None, PROBLEM.diagnostic(), &[
        src(Mge, "upsmgOutputUnavailableByPass", "1.3.6.1.4.1.705.1.7.5", YES_NO),
    ]),
    scalar(Output, "no_bypass", "No bypass", None, FLAG.diagnostic(), &[
        src(Mge, "upsmgOutputNoByPass", "1.3.6.1.4.1.705.1.7.6", YES_NO),
    ]),
    scalar(Output, "utility_off", "Output off", None, FLAG, &[
        src(Mge, "upsmgOutputUtilityOff", "1.3.6.1.4.1.705.1.7.7", YES_NO),
    ]),
    scalar(Output, "on_boost", "On boost", None, FLAG.diagnostic(), &[
        src(Mge, "upsmgOutputOnBoost", "1.3.6.1.4.1.705.1.7.8", YES_NO),
    ]),
    scalar(Output, "inverter_off", "Inverter off", None, FLAG.diagnostic(), &[
        src(Mge, "upsmgOutputInverterOff", "1.3.6.1.4.1.705.1.7.9", YES_NO),
    ]),
    scalar(Output, "overload", "Overload", None, PROBLEM, &[
        src(Mge, "upsmgOutputOverLoad", "1.3.6.1.4.1.705.1.7.10", YES_NO),
    ]),
    scalar(Output, "over_temperature", "Over temperature", None, PROBLEM, &[
        src(Mge, "upsmgOutputOverTemp", "1.3.6.1.4.1.705.1.7.11", YES_NO),
    ]),
    scalar(Output, "on_buck", "On buck (trim)", None, FLAG.diagnostic(), &[
        src(Mge, "upsmgOutputOnBuck", "1.3.6.1.4.1.705.1.7.12", YES_NO).note("declared plain INTEGER, uses yes(1)/no(2)"),
    ]),
    column(Output, "lines", "voltage", "Output voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Rfc1628, "upsOutputVoltage", "1.3.6.1.2.1.33.1.4.4.1.2", INT).non_negative().tenths_above(LINE_VOLTS_MAX).note("whole V per MIB; Galaxy sends tenths (Q2)"),
        src(Mge, "mgoutputVoltage", "1.3.6.1.4.1.705.1.7.2.1.2", TENTHS).single_phase_only().note("phase-to-neutral on one line; on 3-phase cards it is voltage_phase_to_phase (Q3)"),
        src(PowerNet, "upsPhaseOutputVoltage", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.3", INT).feed(1).null_when(&[-1]).note("as the card reports it: phase-to-phase on a Galaxy VS although voltage_orientation says phase-to-neutral; voltage_phase_to_neutral is upsPhase*VoltagePN"),
    ]),
    column(Output, "lines", "voltage_phase_to_phase", "Output voltage phase to phase", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Mge, "mgoutputVoltage", "1.3.6.1.4.1.705.1.7.2.1.2", TENTHS).polyphase_only().note("\"The output phase voltage\": phase-to-phase on a 3-phase card (Galaxy 7000: 400.0 V beside RFC 1628's 230.3 V phase-to-neutral on line 1, Q3)"),
    ]),
    column(Output, "lines", "current", "Output current", Some(Ampere), CURRENT.diagnostic(), &[
        src(Rfc1628, "upsOutputCurrent", "1.3.6.1.2.1.33.1.4.4.1.3", TENTHS).non_negative(),
        src(Mge, "mgoutputCurrent", "1.3.6.1.4.1.705.1.7.2.1.5", TENTHS).note("the MIB names no unit; tenths of A on real cards (5PX: 70 = 7.0 A beside RFC 1628's upsOutputCurrent 78 = 7.8 A, one source per column decides which is shown)"),
        src(PowerNet, "upsPhaseOutputCurrent", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.4", TENTHS).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "power", "Output power", Some(Watt), POWER.diagnostic(), &[
        src(Rfc1628, "upsOutputPower", "1.3.6.1.2.1.33.1.4.4.1.4", INT).non_negative(),
        src(PowerNet, "upsPhaseOutputPower", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.13", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "load", "Load", Some(Percent), MEASURE.diagnostic(), &[
        src(Rfc1628, "upsOutputPercentLoad", "1.3.6.1.2.1.33.1.4.4.1.5", INT).non_negative(),
        src(Mge, "mgoutputLoadPerPhase", "1.3.6.1.4.1.705.1.7.2.1.4", INT).note("a percentage (LibreNMS wrongly reads kVA, Q6)"),
        src(PowerNet, "upsPhaseOutputPercentLoad", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.10", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "frequency", "Output frequency", Some(Hertz), FREQUENCY.diagnostic(), &[
        src(Mge, "mgoutputFrequency", "1.3.6.1.4.1.705.1.7.2.1.3", TENTHS).frequency(),
    ]),

    scalar(Output, "num_feeds", "Output feeds", None, INFO, &[
        src(PowerNet, "upsPhaseNumOutputs", "1.3.6.1.4.1.318.1.1.1.9.3.1", INT).null_when(&[-1]),
    ]),
    scalar(Output, "voltage_orientation", "Output voltage orientation", None, STATE.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputVoltageOrientation", "1.3.6.1.4.1.318.1.1.1.9.3.2.1.3", labels(&[(1, "unknown"), (2, "single_phase"), (3, "split_phase"), (4, "three_phase_phase_to_neutral"), (5, "three_phase_phase_to_phase")])).at_row(1).note("says what lines[].voltage measures"),
    ]),
    scalar(Output, "system_status", "System status", None, STATE.diagnostic(), &[
        src(PowerNet, "upsBasicSystemStatus", "1.3.6.1.4.1.318.1.1.1.4.1.3", labels(&[(1, "unknown"), (2, "on_line"), (3, "on_battery"), (4, "on_smart_boost"), (5, "timed_sleeping"), (6, "software_bypass"), (7, "off"), (8, "rebooting"), (9, "switched_bypass"), (10, "hardware_failure_bypass"), (11, "sleeping_until_power_return"), (12, "on_smart_trim"), (13, "eco_mode"), (14, "inverter"), (15, "e_conversion"), (16, "static_bypass_standby"), (17, "efficiency_booster_mode")])),
    ]),
    scalar(Output, "system_temperature", "UPS internal temperature", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsBasicSystemInternalTemperature", "1.3.6.1.4.1.318.1.1.1.4.1.4", INT),
    ]),
    scalar(Output, "inverter_status", "Inverter status", None, STATE.diagnostic(), &[
        src(PowerNet, "upsBasicSystemInverterStatus", "1.3.6.1.4.1.318.1.1.1.4.1.5", labels(&[(1, "unknown"), (2, "ok"), (3, "in_fault_condition")])),
    ]),
    scalar(Output, "pfc_status", "Power factor correction status", None, STATE.diagnostic(), &[
        src(PowerNet, "upsBasicSystemPFCStatus", "1.3.6.1.4.1.318.1.1.1.4.1.6", labels(&[(1, "unknown"), (2, "ok"), (3, "in_fault_condition")])),
    ]),
    scalar(Output, "neutral_wiring", "Output neutral wiring", None, STATE.diagnostic(), &[
        src(PowerNet, "upsBasicOutputACwiringConfiguration", "1.3.6.1.4.1.318.1.1.1.4.1.7", labels(&[(1, "unknown"), (2, "no_neutral_wired"), (3, "neutral_supplies_load")])),
    ]),
    scalar(Output, "redundancy", "Redundant power modules", None, INFO, &[
        src(PowerNet, "upsAdvOutputRedundancy", "1.3.6.1.4.1.318.1.1.1.4.2.5", INT).gauge(),
    ]),
    scalar(Output, "apparent_power", "Output apparent power", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(PowerNet, "upsAdvOutputApparentPower", "1.3.6.1.4.1.318.1.1.1.4.2.9", INT).null_when(&[-1]),
    ]),
    scalar(Output, "reactive_power", "Output reactive power", Some(VoltAmpereReactive), REACTIVE.diagnostic(), &[
        src(PowerNet, "upsAdvOutputReactivePower", "1.3.6.1.4.1.318.1.1.1.4.2.20", INT).null_when(&[-1]),
    ]),
    scalar(Output, "neutral_current", "Neutral current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsAdvOutputNeutralCurrent", "1.3.6.1.4.1.318.1.1.1.4.2.11", INT),
    ]),
    scalar(Output, "energy", "Output energy", Some(KiloWattHour), ENERGY, &[
        src(PowerNet, "upsHighPrecOutputEnergyUsage", "1.3.6.1.4.1.318.1.1.1.4.3.6", HUNDREDTHS).gauge().null_when(&[4_294_967_295]).note("hundredths of kWh"),
        src(PowerNet, "upsAdvOutputEnergyUsage", "1.3.6.1.4.1.318.1.1.1.4.2.12", INT).gauge().null_when(&[4_294_967_295]),
    ]),
    scalar(Output, "source_synchronization", "Inverter synchronization source", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvOutputSourceSynchronization", "1.3.6.1.4.1.318.1.1.1.4.2.13", labels(&[(1, "main"), (2, "internal"), (3, "external"), (4, "on_ac_bypass"), (5, "external_on_bypass")])).note("plain INTEGER; labels from its description"),
    ]),
    scalar(Output, "inverter_frequency", "Inverter frequency", Some(Hertz), FREQUENCY.diagnostic(), &[
        src(PowerNet, "upsAdvOutputInverterFrequency", "1.3.6.1.4.1.318.1.1.1.4.2.14", INT).frequency().gauge(),
    ]),
    scalar(Output, "inverter_load", "Inverter load", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvOutputInverterLoad", "1.3.6.1.4.1.318.1.1.1.4.2.15", INT).null_when(&[-1]).note("% of rated kW"),
    ]),
    scalar(Output, "power_percent", "Output power of rating", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvOutputPercentPower", "1.3.6.1.4.1.318.1.1.1.4.2.16", INT).null_when(&[-1]).note("% of rated kW"),
    ]),
    scalar(Output, "inverter_power", "Inverter power", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsAdvOutputInverterActivePower", "1.3.6.1.4.1.318.1.1.1.4.2.17", KILO).null_when(&[-1]).note("kW"),
    ]),
    scalar(Output, "inverter_current", "Inverter current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsAdvOutputInverterCurrent", "1.3.6.1.4.1.318.1.1.1.4.2.19", INT),
    ]),
    scalar(Output, "inverter_voltage", "Inverter voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsAdvOutputInverterVoltage", "1.3.6.1.4.1.318.1.1.1.4.2.21", INT),
    ]),
    scalar(Output, "efficiency", "Efficiency", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsHighPrecOutputEfficiency", "1.3.6.1.4.1.318.1.1.1.4.3.5", TENTHS).valid(0.0, 100.0).note("negative codes say why there is no reading (load too low, on battery, ...)"),
    ]),
    scalar(Output, "peak_current", "Output peak current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsAdvOutputPeakCurrent", "1.3.6.1.4.1.318.1.1.1.4.2.10.1.2", INT).at_row(1),
    ]),
    scalar(Output, "current_thd", "Output current THD", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvOutputCurrentTHD", "1.3.6.1.4.1.318.1.1.1.4.2.10.1.3", INT).at_row(1),
    ]),
    scalar(Output, "crest_factor", "Output crest factor", None, MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvOutputCrestFactor", "1.3.6.1.4.1.318.1.1.1.4.2.10.1.4", TENTHS).at_row(1),
    ]),
    scalar(Output, "eco_mode", "On eco mode", None, FLAG, &[
        src(PowerNet, "upsAdvStateEcomode", "1.3.6.1.4.1.318.1.1.1.11.2.13", Decode::Flag { on: 1, off: 2 }),
    ]),
    scalar(Output, "state_flags", "UPS state flags", None, INFO, &[
        src(PowerNet, "upsBasicStateOutputState", "1.3.6.1.4.1.318.1.1.1.11.1.1", TEXT).null_text(POWERNET_NO_TEXT).note("64 flags, \"1\" = set, numbered from the left; see the MIB"),
    ]),
    scalar(Output, "total_time_on_battery", "Total time on battery", None, INFO, &[
        src(PowerNet, "upsAdvStateTotaltimeonbattery", "1.3.6.1.4.1.318.1.1.1.11.2.7", TEXT),
    ]),
    scalar(Output, "total_time_on_bypass", "Total time on bypass", None, INFO, &[
        src(PowerNet, "upsAdvStateTotaltimeonbypass", "1.3.6.1.4.1.318.1.1.1.11.2.8", TEXT),
    ]),
    scalar(Output, "total_time_normal", "Total time in normal operation", None, INFO, &[
        src(PowerNet, "upsAdvStateTotaltimeonNormal", "1.3.6.1.4.1.318.1.1.1.11.2.9", TEXT),
    ]),
    scalar(Output, "times_on_battery", "Transfers to battery", None, Ha::new(Sensor).total().diagnostic(), &[
        src(PowerNet, "upsAdvStateNumberoftimesonbattery", "1.3.6.1.4.1.318.1.1.1.11.2.10", INT),
    ]),
    scalar(Output, "times_on_bypass", "Transfers to bypass", None, Ha::new(Sensor).total().diagnostic(), &[
        src(PowerNet, "upsAdvStateNumberoftimesbypass", "1.3.6.1.4.1.318.1.1.1.11.2.11", INT),
    ]),
    scalar(Output, "times_normal", "Returns to normal operation", None, Ha::new(Sensor).total().diagnostic(), &[
        src(PowerNet, "upsAdvStateNumberoftimesNormal", "1.3.6.1.4.1.318.1.1.1.11.2.12", INT),
    ]),
    column(Output, "lines", "voltage_phase_to_neutral", "Output voltage phase to neutral", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputVoltagePN", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.22", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "current_max", "Output current maximum", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMaxCurrent", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.5", TENTHS).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "current_min", "Output current minimum", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMinCurrent", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.6", TENTHS).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "apparent_power", "Output apparent power", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputLoad", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.7", INT).feed(1).null_when(&[-1]).note("\"load\" in VA"),
        src(PowerNet, "upsPhaseOutputApparentPower", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.20", KILO).null_when(&[-1]).feed(1).note("kVA"),
    ]),
    column(Output, "lines", "apparent_power_max", "Output apparent power maximum", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMaxLoad", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.8", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "apparent_power_min", "Output apparent power minimum", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMinLoad", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.9", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "load_max", "Load maximum", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMaxPercentLoad", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.11", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "load_min", "Load minimum", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMinPercentLoad", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.12", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "power_max", "Output power maximum", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMaxPower", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.14", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "power_min", "Output power minimum", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMinPower", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.15", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "power_percent", "Output power of rating", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputPercentPower", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.16", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "power_percent_max", "Output power of rating maximum", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMaxPercentPower", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.17", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "power_percent_min", "Output power of rating minimum", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputMinPercentPower", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.18", INT).feed(1).null_when(&[-1]),
    ]),
    column(Output, "lines", "power_factor", "Output power factor", None, POWER_FACTOR.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputPowerFactor", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.19", HUNDREDTHS).null_when(&[-1]).feed(1),
    ]),
    column(Output, "lines", "inverter_voltage", "Inverter voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputInverterVoltage", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.21", INT).null_when(&[-1]).feed(1),
    ]),
    column(Output, "lines", "energy", "Output energy", Some(KiloWattHour), ENERGY.diagnostic(), &[
        src(PowerNet, "upsPhaseOutputEnergyUsage", "1.3.6.1.4.1.318.1.1.1.9.3.3.1.23", HUNDREDTHS).gauge().null_when(&[4_294_967_295]).feed(1).note("hundredths of kWh"),
    ]),

    // ================================================================ battery
    scalar(Battery, "charge", "Battery charge", Some(Percent), BATTERY, &[
        src(PowerNet, "upsHighPrecBatteryCapacity", "1.3.6.1.4.1.318.1.1.1.2.3.1", TENTHS).gauge(),
        src(Mge, "upsmgBatteryLevel", "1.3.6.1.4.1.705.1.5.2", INT),
        src(Rfc1628, "upsEstimatedChargeRemaining", "1.3.6.1.2.1.33.1.2.4", INT),
        src(PowerNet, "upsAdvBatteryCapacity", "1.3.6.1.4.1.318.1.1.1.2.2.1", INT).gauge(),
    ]),
    scalar(Battery, "runtime", "Battery runtime", Some(Second), DURATION, &[
        src(PowerNet, "upsAdvBatteryRunTimeRemaining", "1.3.6.1.4.1.318.1.1.1.2.2.3", TICKS).ticks().null_when(&[4_294_967_295]).note("2^32-1 = not present"),
        src(Mge, "upsmgBatteryRemainingTime", "1.3.6.1.4.1.705.1.5.1", INT).null_when(&[-1, 65_535]),
        src(Rfc1628, "upsEstimatedMinutesRemaining", "1.3.6.1.2.1.33.1.2.3", MINUTES).null_when(&[-1, 999, 65_535]).note("minutes"),
    ]),
    scalar(Battery, "status", "Battery status", None, STATE, &[
        src(Rfc1628, "upsBatteryStatus", "1.3.6.1.2.1.33.1.2.1", labels(&[(1, "unknown"), (2, "normal"), (3, "low"), (4, "depleted")])),
        src(PowerNet, "upsBasicBatteryStatus", "1.3.6.1.4.1.318.1.1.1.2.1.1", labels(&[(1, "unknown"), (2, "normal"), (3, "low"), (4, "fault"), (5, "not_present")])),
    ]),
    scalar(Battery, "voltage", "Battery voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsHighPrecBatteryActualVoltage", "1.3.6.1.4.1.318.1.1.1.2.3.4", TENTHS),
        src(Mge, "upsmgBatteryVoltage", "1.3.6.1.4.1.705.1.5.5", TENTHS),
        src(Rfc1628, "upsBatteryVoltage", "1.3.6.1.2.1.33.1.2.5", TENTHS),
        src(PowerNet, "upsAdvBatteryActualVoltage", "1.3.6.1.4.1.318.1.1.1.2.2.8", INT).null_when(&[-1]),
    ]),
    scalar(Battery, "current", "Battery current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsHighPrecBatteryCurrent", "1.3.6.1.4.1.318.1.1.1.2.3.5", TENTHS).null_when(&[-1]),
        src(Rfc1628, "upsBatteryCurrent", "1.3.6.1.2.1.33.1.2.6", TENTHS).null_when(&[-1]).note("signed: negative while discharging; -1 (-0.1 A) is what cards without the sensor send (NetMan 204 on line at 100 %)"),
        src(Mge, "upsmgBatteryCurrent", "1.3.6.1.4.1.705.1.5.6", TENTHS),
        src(PowerNet, "upsAdvBatteryCurrent", "1.3.6.1.4.1.318.1.1.1.2.2.9", INT).null_when(&[-1]),
    ]),
    scalar(Battery, "temperature", "Battery temperature", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsHighPrecExtdBatteryTemperature", "1.3.6.1.4.1.318.1.1.1.2.3.13", TENTHS).note("can be negative, unlike the others"),
        src(PowerNet, "upsHighPrecBatteryTemperature", "1.3.6.1.4.1.318.1.1.1.2.3.2", TENTHS).gauge().null_when(&[2_550]).note("2550 = no sensor"),
        src(Rfc1628, "upsBatteryTemperature", "1.3.6.1.2.1.33.1.2.7", INT).null_when(&[0]).note("0 = no sensor on Eaton/MGE/Delta cards; a battery in service is never at exactly 0 °C"),
        src(Mge, "upsmgBatteryTemperature", "1.3.6.1.4.1.705.1.5.7", INT).null_when(&[0]).note("0 = no sensor"),
        src(PowerNet, "upsAdvBatteryTemperature", "1.3.6.1.4.1.318.1.1.1.2.2.2", INT).gauge().null_when(&[255]).note("255 = no sensor"),
    ]),
    scalar(Battery, "time_on_battery", "Time on battery", Some(Second), DURATION, &[
        src(PowerNet, "upsBasicBatteryTimeOnBattery", "1.3.6.1.4.1.318.1.1.1.2.1.2", TICKS).ticks(),
        src(Rfc1628, "upsSecondsOnBattery", "1.3.6.1.2.1.33.1.2.2", INT),
    ]),
    scalar(Battery, "nominal_voltage", "Battery nominal voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsHighPrecBatteryNominalVoltage", "1.3.6.1.4.1.318.1.1.1.2.3.3", TENTHS),
        src(PowerNet, "upsAdvBatteryNominalVoltage", "1.3.6.1.4.1.318.1.1.1.2.2.7", INT),
    ]),
    scalar(Battery, "recharge_time", "Recharge time", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "upsmgBatteryRechargeTime", "1.3.6.1.4.1.705.1.5.3", INT),
    ]),
    scalar(Battery, "recharge_level", "Recharge level", Some(Percent), MEASURE.diagnostic(), &[
        src(Mge, "upsmgBatteryRechargeLevel", "1.3.6.1.4.1.705.1.5.4", INT),
    ]),
    scalar(Battery, "full_recharge_time", "Full recharge time", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "upsmgBatteryFullRechargeTime", "1.3.6.1.4.1.705.1.5.8", INT),
    ]),
    scalar(Battery, "fault", "Battery fault", None, PROBLEM, &[
        src(Mge, "upsmgBatteryFaultBattery", "1.3.6.1.4.1.705.1.5.9", YES_NO),
    ]),
    scalar(Battery, "missing", "No battery", None, PROBLEM.diagnostic(), &[
        src(Mge, "upsmgBatteryNoBattery", "1.3.6.1.4.1.705.1.5.10", YES_NO),
    ]),
    scalar(Battery, "replace", "Replace battery", None, PROBLEM, &[
        src(Mge, "upsmgBatteryReplacement", "1.3.6.1.4.1.705.1.5.11", YES_NO),
        src(PowerNet, "upsAdvBatteryReplaceIndicator", "1.3.6.1.4.1.318.1.1.1.2.2.4", Decode::Flag { on: 2, off: 1 }),
    ]),
    scalar(Battery, "unavailable", "Battery unavailable", None, PROBLEM.diagnostic(), &[
        src(Mge, "upsmgBatteryUnavailableBattery", "1.3.6.1.4.1.705.1.5.12", YES_NO),
    ]),
    scalar(Battery, "not_high_charge", "Battery not fully charged", None, FLAG.diagnostic(), &[
        src(Mge, "upsmgBatteryNotHighCharge", "1.3.6.1.4.1.705.1.5.13", YES_NO),
    ]),
    scalar(Battery, "low", "Battery low", None, Ha::new(BinarySensor).class("battery"), &[
        src(Mge, "upsmgBatteryLowBattery", "1.3.6.1.4.1.705.1.5.14", YES_NO),
    ]),
    scalar(Battery, "charger_fault", "Charger fault", None, PROBLEM, &[
        src(Mge, "upsmgBatteryChargerFault", "1.3.6.1.4.1.705.1.5.15", YES_NO),
    ]),
    scalar(Battery, "low_condition", "Low battery condition", None, FLAG.diagnostic(), &[
        src(Mge, "upsmgBatteryLowCondition", "1.3.6.1.4.1.705.1.5.16", YES_NO),
    ]),
    scalar(Battery, "low_recharge", "Waiting for recharge", None, FLAG.diagnostic(), &[
        src(Mge, "upsmgBatteryLowRecharge", "1.3.6.1.4.1.705.1.5.17", YES_NO),
    ]),

    scalar(Battery, "last_replace_date", "Battery last replaced", None, INFO, &[
        src(PowerNet, "upsBasicBatteryLastReplaceDate", "1.3.6.1.4.1.318.1.1.1.2.1.3", TEXT),
    ]),
    scalar(Battery, "external_packs", "External battery packs", None, INFO, &[
        src(PowerNet, "upsAdvBatteryNumOfBattPacks", "1.3.6.1.4.1.318.1.1.1.2.2.5", INT),
    ]),
    scalar(Battery, "bad_packs", "Defective battery packs", None, MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryNumOfBadBattPacks", "1.3.6.1.4.1.318.1.1.1.2.2.6", INT),
    ]),
    scalar(Battery, "dc_current_total", "Total DC current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsHighPrecTotalDCCurrent", "1.3.6.1.4.1.318.1.1.1.2.3.6", TENTHS),
        src(PowerNet, "upsAdvTotalDCCurrent", "1.3.6.1.4.1.318.1.1.1.2.2.10", INT),
    ]),
    scalar(Battery, "full_capacity", "Full chargeable capacity", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryFullCapacity", "1.3.6.1.4.1.318.1.1.1.2.2.11", INT),
    ]),
    scalar(Battery, "charge_time", "Time to full charge", Some(Second), DURATION.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryEstimatedChargeTime", "1.3.6.1.4.1.318.1.1.1.2.2.15", TICKS).ticks().null_when(&[4_294_967_295]).note("2^32-1 = not present"),
    ]),
    scalar(Battery, "power", "Battery power", Some(Watt), POWER.diagnostic(), &[
        src(PowerNet, "upsHighPrecActivePower", "1.3.6.1.4.1.318.1.1.1.2.3.12", Decode::Number { scale: 100.0 }).note("tenths of kW"),
        src(PowerNet, "upsAdvBatteryPower", "1.3.6.1.4.1.318.1.1.1.2.2.16", KILO).note("kW"),
    ]),
    scalar(Battery, "charger_status", "Charger status", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryChargerStatus", "1.3.6.1.4.1.318.1.1.1.2.2.17", labels(&[(1, "unknown"), (2, "ok"), (3, "in_fault_condition"), (4, "float_charging"), (5, "boost_charging"), (6, "resting"), (7, "not_charging"), (8, "equalization_charging"), (9, "test_in_progress"), (10, "cyclic_float_charging")])),
    ]),
    scalar(Battery, "internal_sku", "Internal battery SKU", None, INFO, &[
        src(PowerNet, "upsAdvBatteryInternalSKU", "1.3.6.1.4.1.318.1.1.1.2.2.19", TEXT),
    ]),
    scalar(Battery, "external_sku", "External battery SKU", None, INFO, &[
        src(PowerNet, "upsAdvBatteryExternalSKU", "1.3.6.1.4.1.318.1.1.1.2.2.20", TEXT),
    ]),
    scalar(Battery, "recommended_replace_date", "Recommended replacement date", None, INFO, &[
        src(PowerNet, "upsAdvBatteryRecommendedReplaceDate", "1.3.6.1.4.1.318.1.1.1.2.2.21", TEXT),
    ]),
    scalar(Battery, "nominal_backup_time", "Nominal backup time", Some(Second), DURATION.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryNominalBackupTime", "1.3.6.1.4.1.318.1.1.1.2.2.22", MINUTES).note("minutes"),
    ]),
    scalar(Battery, "condition", "Battery health", None, STATE, &[
        src(PowerNet, "upsAdvBatteryCondition", "1.3.6.1.4.1.318.1.1.1.2.2.23", labels(&[(1, "unknown"), (2, "ok"), (3, "weak"), (4, "poor")])),
    ]),
    scalar(Battery, "charging_current_restricted", "Charging current restricted", None, FLAG.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryChargingCurrentRestricted", "1.3.6.1.4.1.318.1.1.1.2.2.24", Decode::Flag { on: 1, off: 2 }),
    ]),
    scalar(Battery, "total_capacity", "Available battery capacity", Some(AmpereHour), MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryTotalCapacity", "1.3.6.1.4.1.318.1.1.1.2.2.25", INT).gauge(),
    ]),
    scalar(Battery, "fuse", "Battery fuse", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryFuseStatus", "1.3.6.1.4.1.318.1.1.1.2.2.26", labels(&[(1, "fuse_open"), (2, "fuse_ok"), (3, "not_present")])),
    ]),
    scalar(Battery, "breaker", "Battery breakers", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryBreakerStatus", "1.3.6.1.4.1.318.1.1.1.2.2.27", labels(&[(1, "disconnected"), (2, "closed"), (3, "not_present")])),
    ]),
    scalar(Battery, "wiring", "Battery wiring", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvBatteryWiringConfiguration", "1.3.6.1.4.1.318.1.1.1.2.2.28", labels(&[(1, "two_wire"), (2, "three_wire")])),
    ]),
    scalar(Battery, "module_temperature_max", "Battery module temperature maximum", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsHighPrecMaximumModuleTemperature", "1.3.6.1.4.1.318.1.1.1.2.3.14", TENTHS),
    ]),
    scalar(Battery, "module_temperature_min", "Battery module temperature minimum", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsHighPrecMinimumModuleTemperature", "1.3.6.1.4.1.318.1.1.1.2.3.15", TENTHS),
    ]),
    scalar(Battery, "cell_voltage_max", "Cell voltage maximum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsHighPrecMaximumCellVoltage", "1.3.6.1.4.1.318.1.1.1.2.3.16", MILLI).note("mV"),
    ]),
    scalar(Battery, "cell_voltage_min", "Cell voltage minimum", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsHighPrecMinimumCellVoltage", "1.3.6.1.4.1.318.1.1.1.2.3.17", MILLI).note("mV"),
    ]),
    scalar(Battery, "num_cabinets", "Battery cabinets", None, INFO, &[
        src(PowerNet, "upsBatteryNumberOfCabinets", "1.3.6.1.4.1.318.1.1.1.2.4", INT),
    ]),
    column(Battery, "packs", "firmware_version", "Firmware version", None, INFO, &[
        src(PowerNet, "upsHighPrecBatteryPackOnlyFirmwareRevision", "1.3.6.1.4.1.318.1.1.1.2.3.10.4.1.2", TEXT),
    ]),
    column(Battery, "packs", "serial_number", "Serial number", None, INFO, &[
        src(PowerNet, "upsHighPrecBatteryPackOnlySerialNumber", "1.3.6.1.4.1.318.1.1.1.2.3.10.4.1.3", TEXT),
    ]),
    column(Battery, "packs", "temperature", "Temperature", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsHighPrecBatteryPackOnlyTemperature", "1.3.6.1.4.1.318.1.1.1.2.3.10.4.1.4", TENTHS),
    ]),
    column(Battery, "packs", "replace_date", "Estimated replacement date", None, INFO, &[
        src(PowerNet, "upsHighPrecBatteryPackOnlyReplaceDate", "1.3.6.1.4.1.318.1.1.1.2.3.10.4.1.7", TEXT),
    ]),
    column(Battery, "packs", "install_date", "Install date", None, INFO, &[
        src(PowerNet, "upsHighPrecBatteryPackOnlyInstallDate", "1.3.6.1.4.1.318.1.1.1.2.3.10.4.1.8", TEXT).note("MIB says read-write; not offered"),
    ]),
    column(Battery, "packs", "manufacture_date", "Manufacture date", None, INFO, &[
        src(PowerNet, "upsHighPrecBatteryPackOnlyManufactureDate", "1.3.6.1.4.1.318.1.1.1.2.3.10.4.1.9", TEXT).note("MIB says read-write; not offered"),
    ]),
    column(Battery, "packs", "sku", "SKU", None, INFO, &[
        src(PowerNet, "upsHighPrecBatteryPackOnlySKU", "1.3.6.1.4.1.318.1.1.1.2.3.10.4.1.10", TEXT).note("MIB says read-write; not offered"),
    ]),
    column(Battery, "cabinets", "number", "Cabinet number", None, INFO, &[
        src(PowerNet, "upsBatteryCabinetLocalIndex", "1.3.6.1.4.1.318.1.1.1.2.5.1.2", INT).null_when(&[-1]).note("0 = internal batteries"),
    ]),
    column(Battery, "cabinets", "wiring", "Wiring", None, STATE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetWiringConfiguration", "1.3.6.1.4.1.318.1.1.1.2.5.1.3", labels(&[(1, "two_wire"), (2, "three_wire")])),
    ]),
    column(Battery, "cabinets", "voltage", "Voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetVoltagePolarity1", "1.3.6.1.4.1.318.1.1.1.2.5.1.4", INT).null_when(&[-1]),
    ]),
    column(Battery, "cabinets", "voltage_2", "Voltage (second half)", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetVoltagePolarity2", "1.3.6.1.4.1.318.1.1.1.2.5.1.5", INT).null_when(&[-1]).note("-1 = not a split battery"),
    ]),
    column(Battery, "cabinets", "current", "Current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetCurrentPolarity1", "1.3.6.1.4.1.318.1.1.1.2.5.1.6", INT).null_when(&[-1]),
    ]),
    column(Battery, "cabinets", "current_2", "Current (second half)", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetCurrentPolarity2", "1.3.6.1.4.1.318.1.1.1.2.5.1.7", INT).null_when(&[-1]),
    ]),
    column(Battery, "cabinets", "temperature", "Temperature", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetTemperature", "1.3.6.1.4.1.318.1.1.1.2.5.1.8", TENTHS).null_when(&[-1]),
    ]),
    column(Battery, "cabinets", "temperature_max", "Temperature maximum", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetMaxTemperature", "1.3.6.1.4.1.318.1.1.1.2.5.1.9", TENTHS).null_when(&[-1]),
    ]),
    column(Battery, "cabinets", "temperature_min", "Temperature minimum", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetMinTemperature", "1.3.6.1.4.1.318.1.1.1.2.5.1.10", TENTHS).null_when(&[-1]),
    ]),
    column(Battery, "cabinets", "temperature_average", "Temperature average", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetAverageTemperature", "1.3.6.1.4.1.318.1.1.1.2.5.1.11", TENTHS).null_when(&[-1]),
    ]),
    column(Battery, "cabinets", "fuse", "Fuse", None, STATE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetFuse", "1.3.6.1.4.1.318.1.1.1.2.5.1.12", labels(&[(1, "fuse_open"), (2, "fuse_ok"), (3, "not_present")])),
    ]),
    column(Battery, "cabinets", "breaker", "Breaker", None, STATE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabinetBreaker", "1.3.6.1.4.1.318.1.1.1.2.5.1.13", labels(&[(1, "no_breaker"), (2, "unknown"), (3, "breaker_open"), (4, "breaker_closed")])),
    ]),
    column(Battery, "cabinets", "strings", "Battery strings", None, INFO, &[
        src(PowerNet, "upsBatteryCabinetNumberOfStrings", "1.3.6.1.4.1.318.1.1.1.2.5.1.14", INT).null_when(&[-1]),
    ]),
    column(Battery, "strings", "cabinet", "Cabinet", None, INFO, &[
        src(PowerNet, "upsBatteryCabStringCabReference", "1.3.6.1.4.1.318.1.1.1.2.6.1.2", INT).null_when(&[-1]).note("row of the cabinets table"),
    ]),
    column(Battery, "strings", "number", "String number in its cabinet", None, INFO, &[
        src(PowerNet, "upsBatteryCabStringLocalIndex", "1.3.6.1.4.1.318.1.1.1.2.6.1.3", INT).null_when(&[-1]),
    ]),
    column(Battery, "strings", "current", "Current", Some(Ampere), CURRENT.diagnostic(), &[
        src(PowerNet, "upsBatteryCabStringCurrent", "1.3.6.1.4.1.318.1.1.1.2.6.1.4", TENTHS).null_when(&[-1]),
    ]),
    column(Battery, "strings", "temperature_average", "Temperature average", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabStringAverageTemperature", "1.3.6.1.4.1.318.1.1.1.2.6.1.5", TENTHS).null_when(&[-1]),
    ]),
    column(Battery, "strings", "temperature_max", "Temperature maximum", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabStringMaxTemperature", "1.3.6.1.4.1.318.1.1.1.2.6.1.6", TENTHS).null_when(&[-1]),
    ]),
    column(Battery, "strings", "temperature_min", "Temperature minimum", Some(Celsius), TEMPERATURE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabStringMinTemperature", "1.3.6.1.4.1.318.1.1.1.2.6.1.7", TENTHS).null_when(&[-1]),
    ]),
    column(Battery, "strings", "fuse", "Fuse", None, STATE.diagnostic(), &[
        src(PowerNet, "upsBatteryCabStringFuseStatus", "1.3.6.1.4.1.318.1.1.1.2.6.1.8", labels(&[(1, "fuse_open"), (2, "fuse_ok"), (3, "not_present")])),
    ]),
    column(Battery, "strings", "blocks", "Battery blocks", None, INFO, &[
        src(PowerNet, "upsBatteryCabStringNumberOfBlocks", "1.3.6.1.4.1.318.1.1.1.2.6.1.9", INT).null_when(&[-1]),
    ]),

    // ================================================================= config
    scalar(Config, "low_battery_runtime", "Low battery runtime", Some(Second), SET_NUMBER, &[
        src(PowerNet, "upsAdvConfigLowBatteryRunTime", "1.3.6.1.4.1.318.1.1.1.5.2.8", TICKS).ticks().rw(Legal::Range { min: 0.0, max: 3_600.0 }).cuts_power(POWER_AFFECTING).note("TimeTicks although described as seconds (Q7); the card rounds up"),
        src(Mge, "upsmgConfigLowBatteryTime", "1.3.6.1.4.1.705.1.4.7", INT).rw(Legal::Range { min: 0.0, max: 3_600.0 }).cuts_power(POWER_AFFECTING),
        src(Rfc1628, "upsConfigLowBattTime", "1.3.6.1.2.1.33.1.9.7", MINUTES).rw(Legal::Range { min: 0.0, max: 3_600.0 }).cuts_power(POWER_AFFECTING).note("minutes"),
    ]),
    scalar(Config, "low_battery_level", "Low battery level", Some(Percent), SET_NUMBER, &[
        src(Mge, "upsmgConfigLowBatteryLevel", "1.3.6.1.4.1.705.1.4.8", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "deep_discharge_protection", "Deep discharge protection", None, SET_SELECT, &[
        src(PowerNet, "upsAdvConfigDeepDischargeProtection", "1.3.6.1.4.1.318.1.1.1.5.2.56", labels(ENABLED_DISABLED)).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "mains_setting", "Mains setting", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvConfigMainsSetting", "1.3.6.1.4.1.318.1.1.1.5.2.35", labels(&[(1, "single_input"), (2, "dual_input")])).note("read-only despite \"Configure\" in its description"),
    ]),
    scalar(Config, "ac_wiring", "AC wiring", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvConfigACWiringSetting", "1.3.6.1.4.1.318.1.1.1.5.2.36", labels(&[(1, "three_wire"), (2, "four_wire"), (3, "four_wire_hrg")])),
    ]),
    scalar(Config, "automatic_restart", "Automatic restart", None, SET_SELECT, &[
        src(PowerNet, "upsAdvConfigAutomaticRestart", "1.3.6.1.4.1.318.1.1.1.5.2.55", labels(ENABLED_DISABLED)).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
        src(Mge, "upsmgConfigAutoRestart", "1.3.6.1.4.1.705.1.4.9", labels(&[(1, "always"), (2, "never"), (3, "on_mains")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
        src(Rfc1628, "upsAutoRestart", "1.3.6.1.2.1.33.1.8.5", labels(&[(1, "on"), (2, "off")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "shutoff_delay", "Shutoff delay", Some(Second), SET_NUMBER, &[
        src(PowerNet, "upsAdvConfigShutoffDelay", "1.3.6.1.4.1.318.1.1.1.5.2.10", TICKS).ticks().rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
        src(Mge, "upsmgConfigShutdownTimer", "1.3.6.1.4.1.705.1.4.10", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "return_delay", "Return delay", Some(Second), SET_NUMBER, &[
        src(PowerNet, "upsAdvConfigReturnDelay", "1.3.6.1.4.1.318.1.1.1.5.2.9", TICKS).ticks().rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "min_return_capacity", "Minimum return capacity", Some(Percent), SET_NUMBER, &[
        src(PowerNet, "upsAdvConfigMinReturnCapacity", "1.3.6.1.4.1.318.1.1.1.5.2.6", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING),
        src(Mge, "upsmgConfigMinRechargeLevel", "1.3.6.1.4.1.705.1.4.5", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "alarm_mode", "Audible alarm mode", None, SET_SELECT, &[
        src(PowerNet, "upsAdvConfigAlarm", "1.3.6.1.4.1.318.1.1.1.5.2.4", labels(&[(1, "timed"), (2, "at_low_battery"), (3, "never"), (4, "mute")])).rw(Legal::AnyLabel),
    ]),
    scalar(Config, "beeper", "Beeper", None, SET_SELECT, &[
        src(Rfc1628, "upsConfigAudibleStatus", "1.3.6.1.2.1.33.1.9.8", labels(&[(1, "disabled"), (2, "enabled"), (3, "muted")])).rw(Legal::AnyLabel),
    ]),
    scalar(Config, "alarm_audible", "Audible alarm", None, SET_SWITCH, &[
        src(Mge, "upsmgConfigAlarmAudible", "1.3.6.1.4.1.705.1.4.19", YES_NO).rw(Legal::Bool),
    ]),
    scalar(Config, "alarm_time_delay", "Audible alarm delay", Some(Second), SET_NUMBER.disabled(), &[
        src(Mge, "upsmgConfigAlarmTimeDelay", "1.3.6.1.4.1.705.1.4.20", INT).rw(DELAY_RANGE),
        src(PowerNet, "upsAdvConfigAlarmTimer", "1.3.6.1.4.1.318.1.1.1.5.2.5", TICKS).ticks().rw(DELAY_RANGE).note("0 or 30 s on most models"),
    ]),
    scalar(Config, "battery_installed", "Battery installed", None, FLAG.diagnostic(), &[
        src(Mge, "upsmgConfigBatteryInstalled", "1.3.6.1.4.1.705.1.4.1", YES_NO),
    ]),
    scalar(Config, "nominal_battery_voltage", "Nominal battery voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(Mge, "upsmgConfigNominalBatteryVoltage", "1.3.6.1.4.1.705.1.4.2", INT),
    ]),
    scalar(Config, "nominal_battery_time", "Nominal battery time", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "upsmgConfigNominalBatteryTime", "1.3.6.1.4.1.705.1.4.3", INT),
    ]),
    scalar(Config, "nominal_recharge_time", "Nominal recharge time", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "upsmgConfigNominalRechargeTime", "1.3.6.1.4.1.705.1.4.4", INT),
    ]),
    scalar(Config, "max_recharge_time", "Maximum recharge time", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "upsmgConfigMaxRechargeTime", "1.3.6.1.4.1.705.1.4.6", INT),
    ]),
    scalar(Config, "shutdown_duration", "System shutdown duration", Some(Second), SET_NUMBER.disabled(), &[
        src(Mge, "upsmgConfigSysShutDuration", "1.3.6.1.4.1.705.1.4.11", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "nominal_apparent_power", "Nominal apparent power", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(Mge, "upsmgConfigVARating", "1.3.6.1.4.1.705.1.4.12", INT),
        src(Rfc1628, "upsConfigOutputVA", "1.3.6.1.2.1.33.1.9.5", INT),
        src(PowerNet, "upsAdvIdentApparentPowerRating", "1.3.6.1.4.1.318.1.1.1.1.2.9", INT).note("a DisplayString holding VA"),
        src(PowerNet, "upsAdvOutputKVACapacity", "1.3.6.1.4.1.318.1.1.1.4.2.6", KILO).note("kVA"),
    ]),
    scalar(Config, "nominal_power", "Nominal real power", Some(Watt), POWER.diagnostic(), &[
        src(Rfc1628, "upsConfigOutputPower", "1.3.6.1.2.1.33.1.9.6", INT),
    ]),
    scalar(Config, "low_transfer_voltage", "Low transfer voltage", Some(Volt), SET_NUMBER, &[
        src(Rfc1628, "upsConfigLowVoltageTransferPoint", "1.3.6.1.2.1.33.1.9.9", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING).null_when(&[0]).note("0 = not supported (Eaton NMC)"),
        src(Mge, "upsmgConfigLowTransfer", "1.3.6.1.4.1.705.1.4.13", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
        src(PowerNet, "upsAdvConfigLowTransferVolt", "1.3.6.1.4.1.318.1.1.1.5.2.3", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "high_transfer_voltage", "High transfer voltage", Some(Volt), SET_NUMBER, &[
        src(Rfc1628, "upsConfigHighVoltageTransferPoint", "1.3.6.1.2.1.33.1.9.10", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING).null_when(&[0]).note("0 = not supported (Eaton NMC)"),
        src(Mge, "upsmgConfigHighTransfer", "1.3.6.1.4.1.705.1.4.14", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
        src(PowerNet, "upsAdvConfigHighTransferVolt", "1.3.6.1.4.1.318.1.1.1.5.2.2", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "input_nominal_voltage", "Input nominal voltage", Some(Volt), SET_NUMBER.disabled(), &[
        src(Rfc1628, "upsConfigInputVoltage", "1.3.6.1.2.1.33.1.9.1", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
        src(PowerNet, "upsAdvInputNominalVoltage", "1.3.6.1.4.1.318.1.1.1.3.2.7", INT),
    ]),
    scalar(Config, "input_nominal_frequency", "Input nominal frequency", Some(Hertz), SET_NUMBER.disabled(), &[
        src(Rfc1628, "upsConfigInputFreq", "1.3.6.1.2.1.33.1.9.2", TENTHS).rw(HZ_RANGE).cuts_power(POWER_AFFECTING),
        src(PowerNet, "upsAdvInputNominalFrequency", "1.3.6.1.4.1.318.1.1.1.3.2.6", INT),
    ]),
    scalar(Config, "output_nominal_voltage", "Output nominal voltage", Some(Volt), SET_NUMBER.disabled(), &[
        src(Rfc1628, "upsConfigOutputVoltage", "1.3.6.1.2.1.33.1.9.3", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
        src(Mge, "upsmgConfigOutputNominalVoltage", "1.3.6.1.4.1.705.1.4.15", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
        src(PowerNet, "upsAdvConfigRatedOutputVoltage", "1.3.6.1.4.1.318.1.1.1.5.2.1", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "output_nominal_frequency", "Output nominal frequency", Some(Hertz), SET_NUMBER.disabled(), &[
        src(Rfc1628, "upsConfigOutputFreq", "1.3.6.1.2.1.33.1.9.4", TENTHS).rw(HZ_RANGE).cuts_power(POWER_AFFECTING),
        src(PowerNet, "upsAdvOutputNominalFrequency", "1.3.6.1.4.1.318.1.1.1.4.2.7", INT),
    ]),
    scalar(Config, "output_nominal_current", "Output nominal current", Some(Ampere), CURRENT.diagnostic(), &[
        src(Mge, "upsmgConfigOutputNominalCurrent", "1.3.6.1.4.1.705.1.4.16", INT),
    ]),
    scalar(Config, "bypass_type", "Bypass type", None, STATE.diagnostic(), &[
        src(Mge, "upsmgConfigByPassType", "1.3.6.1.4.1.705.1.4.18", labels(&[(1, "none"), (2, "relay"), (3, "static")])),
    ]),
    scalar(Config, "emergency_on_test_fail", "Emergency on test failure", None, SET_SWITCH.disabled(), &[
        src(Mge, "upsmgConfigEmergencyTestFail", "1.3.6.1.4.1.705.1.4.26", YES_NO).rw(Legal::Bool).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "emergency_on_bypass", "Emergency on bypass", None, SET_SWITCH.disabled(), &[
        src(Mge, "upsmgConfigEmergencyOnByPass", "1.3.6.1.4.1.705.1.4.27", YES_NO).rw(Legal::Bool).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "emergency_on_overload", "Emergency on overload", None, SET_SWITCH.disabled(), &[
        src(Mge, "upsmgConfigEmergencyOverload", "1.3.6.1.4.1.705.1.4.28", YES_NO).rw(Legal::Bool).cuts_power(POWER_AFFECTING),
    ]),

    scalar(Config, "sensitivity", "Line sensitivity", None, SET_SELECT, &[
        src(PowerNet, "upsAdvConfigSensitivity", "1.3.6.1.4.1.318.1.1.1.5.2.7", labels(&[(1, "auto"), (2, "low"), (3, "medium"), (4, "high")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "sleep_time", "Sleep time", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigUpsSleepTime", "1.3.6.1.4.1.318.1.1.1.5.2.11", TICKS).ticks().rw(Legal::Range { min: 0.0, max: 604_800.0 }).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "battery_exhaust_threshold", "Off before battery exhaustion", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigBattExhaustThresh", "1.3.6.1.4.1.318.1.1.1.5.2.14", TICKS).ticks().rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "battery_capacity_setting", "Configured battery capacity", Some(AmpereHour), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigBattCabAmpHour", "1.3.6.1.4.1.318.1.1.1.5.2.17", INT).rw(Legal::Range { min: 0.0, max: 100_000.0 }).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "position", "Mounting position", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigPositionSelector", "1.3.6.1.4.1.318.1.1.1.5.2.18", labels(&[(1, "unknown"), (2, "rack"), (3, "tower")])).rw(Legal::Labels(&[2, 3])),
    ]),
    scalar(Config, "output_frequency_range", "Output frequency tolerance", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigOutputFreqRange", "1.3.6.1.4.1.318.1.1.1.5.2.19", labels(&[(1, "unknown"), (2, "a_uto"), (3, "60_var1"), (4, "60_var3"), (5, "50_var1"), (6, "50_var3"), (7, "60_var10"), (8, "50_var10"), (9, "60_var1dot0"), (10, "50_var1dot0"), (11, "50_pct0dot5"), (12, "50_pct1"), (13, "50_pct2"), (14, "50_pct4"), (15, "50_pct6"), (16, "50_pct8"), (17, "60_pct0dot5"), (18, "60_pct1"), (19, "60_pct2"), (20, "60_pct4"), (21, "60_pct6"), (22, "60_pct8"), (23, "50_var4"), (24, "60_var4")])).rw(Legal::Labels(&[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24])).cuts_power(POWER_AFFECTING).note("60_var1 = 60 ±0.1 Hz, 60_var1dot0 = 60 ±1.0 Hz, 50_pct2 = 50 Hz ±2 %"),
    ]),
    scalar(Config, "ups_fail_action", "Action on UPS failure", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigUPSFail", "1.3.6.1.4.1.318.1.1.1.5.2.20", labels(&[(1, "unknown"), (2, "goto_bypass"), (3, "drop_load")])).rw(Legal::Labels(&[2, 3])).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "alarm_redundancy", "Alarm below redundancy", None, SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigAlarmRedundancy", "1.3.6.1.4.1.318.1.1.1.5.2.21", INT).rw(Legal::Range { min: 0.0, max: 10.0 }).note("0 = never"),
    ]),
    scalar(Config, "alarm_load_over", "Alarm above load", Some(VoltAmpere), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigAlarmLoadOver", "1.3.6.1.4.1.318.1.1.1.5.2.22", KILO).rw(Legal::Range { min: -1000.0, max: 10_000_000.0 }).null_when(&[-1]).note("kVA; -1 = never"),
    ]),
    scalar(Config, "alarm_runtime_under", "Alarm below runtime", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigAlarmRuntimeUnder", "1.3.6.1.4.1.318.1.1.1.5.2.23", MINUTES).rw(Legal::Range { min: -60.0, max: 86_400.0 }).null_when(&[-1]).note("minutes; -1 = never"),
    ]),
    scalar(Config, "vout_reporting", "Output voltage reporting", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigVoutReporting", "1.3.6.1.4.1.318.1.1.1.5.2.24", labels(&[(1, "unknown"), (2, "a_uto"), (3, "208"), (4, "240")])).rw(Legal::Labels(&[2, 3, 4])),
    ]),
    scalar(Config, "external_batteries", "External batteries", None, SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigNumExternalBatteries", "1.3.6.1.4.1.318.1.1.1.5.2.25", INT).rw(Legal::Range { min: 0.0, max: 100.0 }).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "simple_signal_shutdowns", "Simple signal shutdowns", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigSimpleSignalShutdowns", "1.3.6.1.4.1.318.1.1.1.5.2.26", labels(&[(1, "unknown"), (2, "disabled"), (3, "enabled")])).rw(Legal::Labels(&[2, 3])).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "max_shutdown_time", "Maximum server shutdown time", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigMaxShutdownTime", "1.3.6.1.4.1.318.1.1.1.5.2.27", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING).note("seconds (no unit in the MIB; as the NMC shows it)"),
    ]),
    scalar(Config, "min_return_runtime", "Minimum return runtime", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigMinReturnRuntime", "1.3.6.1.4.1.318.1.1.1.5.2.29", TICKS).ticks().rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "low_battery_signal_duration", "Basic low battery signal runtime", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigBasicSignalLowBatteryDuration", "1.3.6.1.4.1.318.1.1.1.5.2.30", TICKS).ticks().rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "bypass_phase_lock", "Bypass phase lock", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigBypassPhaseLockRequired", "1.3.6.1.4.1.318.1.1.1.5.2.31", labels(&[(1, "unknown"), (2, "disabled"), (3, "enabled"), (4, "always_acceptable"), (5, "never_acceptable")])).rw(Legal::Labels(&[2, 3, 4, 5])).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "output_frequency_slew_rate", "Output frequency slew rate", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigOutputFreqSlewRate", "1.3.6.1.4.1.318.1.1.1.5.2.32", labels(&[(1, "unknown"), (2, "quarter_hz_per_sec"), (3, "half_hz_per_sec"), (4, "1_hz_per_sec"), (5, "2_hz_per_sec"), (6, "4_hz_per_sec"), (7, "6_hz_per_sec")])).rw(Legal::Labels(&[2, 3, 4, 5, 6, 7])),
    ]),
    scalar(Config, "charger_level", "Charger level", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigChargerLevel", "1.3.6.1.4.1.318.1.1.1.5.2.33", labels(&[(1, "unknown"), (2, "low"), (3, "high")])).rw(Legal::Labels(&[2, 3])),
    ]),
    scalar(Config, "bypass_tolerance", "Bypass tolerance", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigBypassToleranceSetting", "1.3.6.1.4.1.318.1.1.1.5.2.34", labels(&[(1, "unknown"), (2, "wide"), (3, "medium"), (4, "narrow"), (5, "custom")])).rw(Legal::Labels(&[2, 3, 4, 5])).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "output_voltage_tolerance_upper", "Output voltage tolerance upper", Some(Percent), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigUpperOutputVoltTolerance", "1.3.6.1.4.1.318.1.1.1.5.2.37", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING).note("% of nominal voltage"),
    ]),
    scalar(Config, "output_voltage_tolerance_lower", "Output voltage tolerance lower", Some(Percent), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigLowerOutputVoltTolerance", "1.3.6.1.4.1.318.1.1.1.5.2.38", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING).note("% of nominal voltage"),
    ]),
    scalar(Config, "bypass_voltage_tolerance_upper", "Bypass voltage tolerance upper", Some(Percent), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigUpperBypassVoltTolerance", "1.3.6.1.4.1.318.1.1.1.5.2.39", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING).note("% of nominal voltage"),
    ]),
    scalar(Config, "bypass_voltage_tolerance_lower", "Bypass voltage tolerance lower", Some(Percent), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigLowerBypassVoltTolerance", "1.3.6.1.4.1.318.1.1.1.5.2.40", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING).note("% of nominal voltage"),
    ]),
    scalar(Config, "out_of_sync_bypass_transfer_delay", "Asynchronous bypass transfer gap", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigOutofSyncBypassTransferDelay", "1.3.6.1.4.1.318.1.1.1.5.2.41", MILLI).rw(Legal::Range { min: 0.0, max: 10.0 }).cuts_power(POWER_AFFECTING).note("milliseconds"),
    ]),
    scalar(Config, "warning_alarm_delay", "Warning alarm delay", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigWarningAlarmDelay", "1.3.6.1.4.1.318.1.1.1.5.2.43", INT).rw(DELAY_RANGE),
    ]),
    scalar(Config, "informational_alarm_delay", "Informational alarm delay", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigInformationalAlarmDelay", "1.3.6.1.4.1.318.1.1.1.5.2.44", INT).rw(DELAY_RANGE),
    ]),
    scalar(Config, "green_mode", "Green mode", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigGreenMode", "1.3.6.1.4.1.318.1.1.1.5.2.45", labels(&[(1, "disable"), (2, "enable")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "lcd_language", "Display language", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigLCDLocalLanguage", "1.3.6.1.4.1.318.1.1.1.5.2.46", labels(&[(1, "english"), (2, "french"), (3, "italian"), (4, "german"), (5, "spanish"), (6, "portuguese"), (7, "japanese"), (8, "russian")])).rw(Legal::AnyLabel),
    ]),
    scalar(Config, "lcd_lockout", "Display control lockout", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigLCDLockOut", "1.3.6.1.4.1.318.1.1.1.5.2.47", labels(&[(1, "disable"), (2, "enable")])).rw(Legal::AnyLabel),
    ]),
    scalar(Config, "charger_rate", "Charger rate", Some(Percent), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigChargerRate", "1.3.6.1.4.1.318.1.1.1.5.2.48", INT).rw(Legal::Range { min: 0.0, max: 1000.0 }).note("100 % = the recommended rate"),
    ]),
    scalar(Config, "battery_type", "Battery type", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigBatterySelection", "1.3.6.1.4.1.318.1.1.1.5.2.49", labels(&[(1, "vrla"), (2, "ventedcell"), (3, "nicd"), (4, "li_ion")])).rw(Legal::AnyLabel),
    ]),
    scalar(Config, "battery_health_alarm_warning_time", "Battery health alarm warning time", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigBatteryHealthAlarmWarningTime", "1.3.6.1.4.1.318.1.1.1.5.2.50", DAYS).rw(Legal::Range { min: -86_400.0, max: 31_536_000.0 }).null_when(&[-1]).note("days; -1 = alarm suppressed"),
    ]),
    scalar(Config, "battery_health_alarm_sleep_time", "Battery health alarm sleep time", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigBatteryHealthAlarmSleepTime", "1.3.6.1.4.1.318.1.1.1.5.2.51", DAYS).rw(Legal::Range { min: -86_400.0, max: 31_536_000.0 }).null_when(&[-1]).note("days; -1 = no reminder"),
    ]),
    scalar(Config, "signal_flash_voltage", "Signal flash voltage", Some(Volt), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigSignalFlashVoltage", "1.3.6.1.4.1.318.1.1.1.5.2.52", TENTHS).rw(VOLT_RANGE),
    ]),
    scalar(Config, "battery_temperature_compensation", "Battery temperature compensation", None, SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigBatteryTemperatureCompensation", "1.3.6.1.4.1.318.1.1.1.5.2.53", HUNDREDTHS).rw(Legal::Range { min: 0.0, max: 10.0 }).note("V per °C per cell, in hundredths"),
    ]),
    scalar(Config, "battery_charger_type", "Battery charger type", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvConfigBatteryChargerType", "1.3.6.1.4.1.318.1.1.1.5.2.54", labels(&[(1, "internal"), (2, "extended_cla"), (3, "large_extension"), (4, "extra_large_extension"), (5, "double_extra_large_extension")])).note("plain INTEGER, labels from its description; MIB says read-write: not offered"),
    ]),
    scalar(Config, "bypass_frequency_tolerance", "Bypass frequency tolerance", Some(Percent), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigFreqBypassTransferRange", "1.3.6.1.4.1.318.1.1.1.5.2.57", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING).note("±% of nominal"),
    ]),
    scalar(Config, "power_converter_type", "Power converter type", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvConfigUpsPowerconverterType", "1.3.6.1.4.1.318.1.1.1.5.2.58", labels(&[(2, "galaxy_7000_unitary_3_3"), (3, "galaxy_7000_redundant_3_3"), (4, "galaxy_7000_parallel_ssc_3_3"), (6, "galaxy_7000_ssc_3_3"), (10, "galaxy_300_unitary_3_3"), (11, "galaxy_300_unitary_3_1"), (12, "galaxy_300_redundant_3_3"), (13, "galaxy_300_redundant_3_1"), (14, "galaxy_5000_unitary"), (15, "galaxy_5000_parallel"), (16, "galaxy_5000_unitary_frequency_converter"), (17, "galaxy_5000_parallel_frequency_converter")])).note("plain INTEGER, labels from its description; MIB says read-write: not offered"),
    ]),
    scalar(Config, "frequency_converter_mode", "Frequency converter mode", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvConfigFrequencyConverterMode", "1.3.6.1.4.1.318.1.1.1.5.2.59", labels(&[(1, "auto_ranging"), (2, "frequency_converter"), (3, "unknown")])).note("MIB says read-write: not offered"),
    ]),
    scalar(Config, "ac_qualification_time", "Input qualification time", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigACQualificationTime", "1.3.6.1.4.1.318.1.1.1.5.2.60", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "reboot_duration", "Reboot off time", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigRebootDuration", "1.3.6.1.4.1.318.1.1.1.5.2.61", TICKS).ticks().rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_skip_off_delay", "Automatic shutdown skips off delay", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownControlSkipOffDelay", "1.3.6.1.4.1.318.1.1.1.5.2.62", labels(&[(1, "skip_off_delay"), (2, "use_off_delay")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_restart", "Restart after automatic shutdown", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownControlAutoRestart", "1.3.6.1.4.1.318.1.1.1.5.2.63", labels(&[(1, "auto_restart"), (2, "manual_restart")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_on_time_on_battery", "Automatic shutdown after time on battery", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownControlTimeOnBattery", "1.3.6.1.4.1.318.1.1.1.5.2.64", labels(&[(1, "disabled"), (2, "enabled")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_on_runtime", "Automatic shutdown at runtime remaining", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownControlRuntimeRemaining", "1.3.6.1.4.1.318.1.1.1.5.2.65", labels(&[(1, "disabled"), (2, "enabled")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_time_on_battery", "Automatic shutdown time on battery", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownTimeOnBattery", "1.3.6.1.4.1.318.1.1.1.5.2.66", TICKS).ticks().rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_runtime", "Automatic shutdown runtime remaining", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownRuntimeRemaining", "1.3.6.1.4.1.318.1.1.1.5.2.67", TICKS).ticks().rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "high_transfer_voltage_phase_to_phase", "High transfer voltage phase to phase", Some(Volt), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigHighLLTransferVolt", "1.3.6.1.4.1.318.1.1.1.5.2.68", INT).rw(LL_VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "low_transfer_voltage_phase_to_phase", "Low transfer voltage phase to phase", Some(Volt), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigLowLLTransferVolt", "1.3.6.1.4.1.318.1.1.1.5.2.69", INT).rw(LL_VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "bypass_high_transfer_voltage", "Bypass high transfer voltage", Some(Volt), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigHighBypassTransferVolt", "1.3.6.1.4.1.318.1.1.1.5.2.70", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "bypass_low_transfer_voltage", "Bypass low transfer voltage", Some(Volt), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigLowBypassTransferVolt", "1.3.6.1.4.1.318.1.1.1.5.2.71", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "bypass_high_transfer_voltage_phase_to_phase", "Bypass high transfer voltage phase to phase", Some(Volt), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigHighBypassLLTransferVolt", "1.3.6.1.4.1.318.1.1.1.5.2.72", INT).rw(LL_VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "bypass_low_transfer_voltage_phase_to_phase", "Bypass low transfer voltage phase to phase", Some(Volt), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigLowBypassLLTransferVolt", "1.3.6.1.4.1.318.1.1.1.5.2.73", INT).rw(LL_VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_on_battery_capacity", "Automatic shutdown at battery capacity", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownControlBatteryCapacity", "1.3.6.1.4.1.318.1.1.1.5.2.74", labels(&[(1, "disabled"), (2, "enabled")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_battery_capacity", "Automatic shutdown battery capacity", Some(Percent), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownBatteryCapacity", "1.3.6.1.4.1.318.1.1.1.5.2.75", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_on_load_percent", "Automatic shutdown below load", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownControlLoadPercentOnUps", "1.3.6.1.4.1.318.1.1.1.5.2.76", labels(&[(1, "disabled"), (2, "enabled")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "auto_shutdown_load_percent", "Automatic shutdown load", Some(Percent), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigAutoShutdownLoadPercentOnUps", "1.3.6.1.4.1.318.1.1.1.5.2.77", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "bypass_frequency_min", "Bypass frequency lower limit", Some(Hertz), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigBypassFrequencyRangeLowerLimit", "1.3.6.1.4.1.318.1.1.1.5.2.78", INT).rw(HZ_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "bypass_frequency_max", "Bypass frequency upper limit", Some(Hertz), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigBypassFrequencyRangeUpperLimit", "1.3.6.1.4.1.318.1.1.1.5.2.79", INT).rw(HZ_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "eco_voltage_min", "Eco mode voltage lower limit", Some(Volt), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigEcoVoltageRangeLowerLimit", "1.3.6.1.4.1.318.1.1.1.5.2.80", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "eco_voltage_max", "Eco mode voltage upper limit", Some(Volt), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsAdvConfigEcoVoltageRangeUpperLimit", "1.3.6.1.4.1.318.1.1.1.5.2.81", INT).rw(VOLT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Config, "bypass_nominal_voltage", "Bypass nominal voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsAdvInputBypassNominalVoltage", "1.3.6.1.4.1.318.1.1.1.3.2.9", INT),
    ]),
    scalar(Config, "bypass_nominal_frequency", "Bypass nominal frequency", Some(Hertz), FREQUENCY.diagnostic(), &[
        src(PowerNet, "upsAdvInputBypassNominalFrequency", "1.3.6.1.4.1.318.1.1.1.3.2.8", INT),
    ]),
    scalar(Config, "input_nominal_dc_voltage", "Nominal DC input voltage", Some(Volt), VOLTAGE.diagnostic(), &[
        src(PowerNet, "upsAdvInputNominalDCVoltage", "1.3.6.1.4.1.318.1.1.1.3.2.18", INT).null_when(&[-1]),
    ]),
    scalar(Config, "upper_accept_voltage", "Upper acceptable voltage", Some(Percent), MEASURE.diagnostic(), &[
        src(PowerNet, "upsAdvOutputUpperAcceptPowerSettingPct", "1.3.6.1.4.1.318.1.1.1.4.2.22", INT).note("% of nominal voltage"),
    ]),
    column(Config, "dip_switches", "on", "On", None, FLAG.diagnostic(), &[
        src(PowerNet, "dipSwitchStatus", "1.3.6.1.4.1.318.1.1.1.5.2.13.1.2", Decode::Flag { on: 1, off: 2 }),
    ]),

    // ============================================================ receptacles
    scalar(Receptacles, "count", "Receptacles", None, INFO, &[
        src(Mge, "upsmgReceptaclesNum", "1.3.6.1.4.1.705.1.3.1", INT),
        src(PowerNet, "upsOutletGroupStatusTableSize", "1.3.6.1.4.1.318.1.1.1.12.1.1", INT),
    ]),
    column(Receptacles, "receptacles", "name", "Name", None, Ha::new(Sensor), &[
        src(Mge, "mgreceptacleIdent", "1.3.6.1.4.1.705.1.3.2.1.4", TEXT).note("MIB says read-write; not offered"),
    ]),
    column(Receptacles, "receptacles", "type", "Type", None, INFO, &[
        src(Mge, "mgreceptacleType", "1.3.6.1.4.1.705.1.3.2.1.3", TEXT),
    ]),
    column(Receptacles, "receptacles", "level", "Level", None, INFO, &[
        src(Mge, "mgreceptacleLevel", "1.3.6.1.4.1.705.1.3.2.1.2", INT).note("3 = simple receptacle, >4 = group; writing restructures groups: not offered"),
    ]),
    column(Receptacles, "receptacles", "state", "State", None, STATE, &[
        src(Mge, "mgreceptacleState", "1.3.6.1.4.1.705.1.3.2.1.5", labels(&[
            (1, "manual_on"), (2, "manual_off"), (3, "normal_on"), (4, "normal_off"),
            (5, "control_on"), (6, "control_off"), (7, "schedule_on"), (8, "schedule_off"),
        ])),
    ]),
    column(Receptacles, "receptacles", "apparent_power", "Power", Some(VoltAmpere), APPARENT, &[
        src(Mge, "mgreceptaclePowerCons", "1.3.6.1.4.1.705.1.3.2.1.7", INT),
    ]),
    column(Receptacles, "receptacles", "runtime", "Runtime", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "mgreceptacleAutonomy", "1.3.6.1.4.1.705.1.3.2.1.9", INT),
    ]),
    column(Receptacles, "receptacles", "on_power_up", "State at power up", None, SET_SELECT.disabled(), &[
        src(Mge, "mgreceptacleStateTurnOn", "1.3.6.1.4.1.705.1.4.23.1.2", labels(RECEPTACLE_POLICY)).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "receptacles", "on_mains_return", "State at mains return", None, SET_SELECT.disabled(), &[
        src(Mge, "mgreceptacleStateMainReturn", "1.3.6.1.4.1.705.1.4.23.1.3", labels(RECEPTACLE_POLICY)).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "receptacles", "on_discharge", "State on battery discharge", None, SET_SELECT.disabled(), &[
        src(Mge, "mgreceptacleStateDischarge", "1.3.6.1.4.1.705.1.4.23.1.4", labels(RECEPTACLE_POLICY)).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "receptacles", "shutoff_level", "Shutoff battery level", Some(Percent), SET_NUMBER.disabled(), &[
        src(Mge, "mgreceptacleShutoffLevel", "1.3.6.1.4.1.705.1.4.23.1.5", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "receptacles", "shutoff_timer", "Shutoff timer", Some(Second), SET_NUMBER.disabled(), &[
        src(Mge, "mgreceptacleShutoffTimer", "1.3.6.1.4.1.705.1.4.23.1.6", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "receptacles", "restart_level", "Restart battery level", Some(Percent), SET_NUMBER.disabled(), &[
        src(Mge, "mgreceptacleRestartLevel", "1.3.6.1.4.1.705.1.4.23.1.7", INT).rw(PERCENT_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "receptacles", "restart_delay", "Restart delay", Some(Second), SET_NUMBER.disabled(), &[
        src(Mge, "mgreceptacleRestartDelay", "1.3.6.1.4.1.705.1.4.23.1.8", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "receptacles", "shutdown_duration", "Shutdown duration", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "mgreceptacleShutdownDuration", "1.3.6.1.4.1.705.1.4.23.1.9", INT),
    ]),
    column(Receptacles, "receptacles", "bootup_duration", "Boot-up duration", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "mgreceptacleBootUpDuration", "1.3.6.1.4.1.705.1.4.23.1.10", INT),
    ]),
    column(Receptacles, "outlet_groups", "name", "Name", None, SET_TEXT, &[
        src(PowerNet, "upsOutletGroupConfigName", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.2", TEXT).rw(Legal::Text { max_len: 32 }),
        src(PowerNet, "upsOutletGroupStatusName", "1.3.6.1.4.1.318.1.1.1.12.1.2.1.2", TEXT),
    ]),
    column(Receptacles, "outlet_groups", "state", "State", None, STATE, &[
        src(PowerNet, "upsOutletGroupStatusGroupState", "1.3.6.1.4.1.318.1.1.1.12.1.2.1.3", labels(&[(1, "on"), (2, "off"), (3, "unknown")])),
    ]),
    column(Receptacles, "outlet_groups", "command_pending", "Command pending", None, FLAG.diagnostic(), &[
        src(PowerNet, "upsOutletGroupStatusCommandPending", "1.3.6.1.4.1.318.1.1.1.12.1.2.1.4", YES_NO),
    ]),
    column(Receptacles, "outlet_groups", "type", "Outlet type", None, STATE.diagnostic(), &[
        src(PowerNet, "upsOutletGroupStatusOutletType", "1.3.6.1.4.1.318.1.1.1.12.1.2.1.5", labels(OUTLET_TYPE)),
    ]),
    column(Receptacles, "outlet_groups", "full_state", "Full state", None, INFO, &[
        src(PowerNet, "upsOutletGroupStatusGroupFullState", "1.3.6.1.4.1.318.1.1.1.12.1.2.1.6", TEXT).null_text(POWERNET_NO_TEXT),
    ]),
    column(Receptacles, "outlet_groups", "power_on_delay", "Power on delay", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigPowerOnDelay", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.3", INT).rw(TIMER_RANGE).cuts_power(POWER_AFFECTING).null_when(&[-1]).note("-1 = never"),
    ]),
    column(Receptacles, "outlet_groups", "power_off_delay", "Power off delay", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigPowerOffDelay", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.4", INT).rw(TIMER_RANGE).cuts_power(POWER_AFFECTING).null_when(&[-1]).note("-1 = never"),
    ]),
    column(Receptacles, "outlet_groups", "reboot_duration", "Reboot duration", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigRebootDuration", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.5", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "outlet_groups", "min_return_runtime", "Minimum return runtime", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigMinReturnRuntime", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.6", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "outlet_groups", "load_shed_on_battery_time", "Load shed after time on battery", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigLoadShedTimeOnBattery", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.13", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "outlet_groups", "load_shed_runtime_remaining", "Load shed at runtime remaining", Some(Second), SET_NUMBER.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigLoadShedRuntimeRemaining", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.14", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),

    column(Receptacles, "outlet_groups", "load_shed_skip_off_delay", "Load shed skips off delay", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigLoadShedControlSkipOffDelay", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.8", labels(&[(1, "skip_off_delay"), (2, "use_off_delay")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "outlet_groups", "load_shed_restart", "Restart after load shed", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigLoadShedControlAutoRestart", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.9", labels(&[(1, "auto_restart"), (2, "manual_restart")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "outlet_groups", "load_shed_on_time_on_battery", "Load shed on time on battery", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigLoadShedControlTimeOnBattery", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.10", labels(&[(1, "disabled"), (2, "enabled")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "outlet_groups", "load_shed_on_runtime", "Load shed on runtime remaining", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigLoadShedControlRuntimeRemaining", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.11", labels(&[(1, "disabled"), (2, "enabled")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    column(Receptacles, "outlet_groups", "load_shed_in_overload", "Load shed in overload", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsOutletGroupConfigLoadShedControlInOverload", "1.3.6.1.4.1.318.1.1.1.12.2.2.1.12", labels(&[(1, "disabled"), (2, "enabled")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),

    // ================================================================ devices
    scalar(Devices, "count", "Connected devices", None, INFO, &[
        src(Mge, "upsmgConfigDevicesNum", "1.3.6.1.4.1.705.1.4.21", INT),
        src(PowerNet, "upsBasicConfigNumDevices", "1.3.6.1.4.1.318.1.1.1.5.1.1", INT),
    ]),
    column(Devices, "devices", "name", "Identification", None, INFO, &[
        src(Mge, "mgdeviceIdent", "1.3.6.1.4.1.705.1.4.22.1.3", TEXT),
        src(PowerNet, "deviceName", "1.3.6.1.4.1.318.1.1.1.5.1.2.1.2", TEXT),
    ]),
    column(Devices, "devices", "va_rating", "VA rating", Some(VoltAmpere), APPARENT.diagnostic(), &[
        src(Mge, "mgdeviceVaRating", "1.3.6.1.4.1.705.1.4.22.1.4", INT),
        src(PowerNet, "vaRating", "1.3.6.1.4.1.318.1.1.1.5.1.2.1.3", INT),
    ]),
    column(Devices, "devices", "receptacle", "Receptacle", None, INFO, &[
        src(Mge, "mgdeviceReceptacleNum", "1.3.6.1.4.1.705.1.4.22.1.2", INT).note("0 invalidates the row"),
    ]),
    column(Devices, "devices", "sequence_off", "Off sequence position", None, INFO, &[
        src(Mge, "mgdeviceSequenceOff", "1.3.6.1.4.1.705.1.4.22.1.5", INT),
    ]),
    column(Devices, "devices", "sequence_on", "On sequence position", None, INFO, &[
        src(Mge, "mgdeviceSequenceOn", "1.3.6.1.4.1.705.1.4.22.1.6", INT),
    ]),
    column(Devices, "devices", "shutdown_duration", "Shutdown duration", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "mgdeviceShutdownDuration", "1.3.6.1.4.1.705.1.4.22.1.7", INT),
    ]),
    column(Devices, "devices", "bootup_duration", "Boot-up duration", Some(Second), DURATION.diagnostic(), &[
        src(Mge, "mgdeviceBootUpDuration", "1.3.6.1.4.1.705.1.4.22.1.8", INT),
    ]),
    column(Devices, "devices", "accepted", "Accepted", None, FLAG.diagnostic(), &[
        src(PowerNet, "acceptThisDevice", "1.3.6.1.4.1.318.1.1.1.5.1.2.1.4", YES_NO),
    ]),

    // ============================================================ environment
    scalar(Environment, "ambient_temperature", "Ambient temperature", Some(Celsius), TEMPERATURE, &[
        src(Mge, "upsmgEnvironAmbientTemp", "1.3.6.1.4.1.705.1.8.1", TENTHS).note("no unit in the MIB; tenths as NUT reads it"),
        src(PowerNet, "upsDiagnosticTemperatureAmbientTemperature", "1.3.6.1.4.1.318.1.1.1.13.11.1", TENTHS).null_when(&[-1_999]).note("-1999 = not available"),
    ]),
    scalar(Environment, "ambient_humidity", "Ambient humidity", Some(Percent), HUMIDITY, &[
        src(Mge, "upsmgEnvironAmbientHumidity", "1.3.6.1.4.1.705.1.8.2", TENTHS),
        src(PowerNet, "upsDiagnosticRelativeHumidityPct", "1.3.6.1.4.1.318.1.1.1.13.13.1", INT).null_when(&[-1]),
    ]),
    column(Environment, "sensors", "name", "Name", None, INFO, &[
        src(Mge, "upsmgConfigSensorName", "1.3.6.1.4.1.705.1.4.34.1.2", TEXT),
    ]),
    column(Environment, "sensors", "communication_lost", "Sensor communication lost", None, PROBLEM, &[
        src(Mge, "upsmgEnvironmentComFailure", "1.3.6.1.4.1.705.1.8.7.1.2", YES_NO),
    ]),
    column(Environment, "sensors", "temperature", "Temperature", Some(Celsius), TEMPERATURE, &[
        src(Mge, "upsmgEnvironmentTemperature", "1.3.6.1.4.1.705.1.8.7.1.3", TENTHS).note("0.1 °C (walk: 287)"),
    ]).void_when("communication_lost", true),
    column(Environment, "sensors", "temperature_low", "Temperature low", None, PROBLEM, &[
        src(Mge, "upsmgEnvironmentTemperatureLow", "1.3.6.1.4.1.705.1.8.7.1.4", YES_NO),
    ]).void_when("communication_lost", true),
    column(Environment, "sensors", "temperature_high", "Temperature high", None, PROBLEM, &[
        src(Mge, "upsmgEnvironmentTemperatureHigh", "1.3.6.1.4.1.705.1.8.7.1.5", YES_NO),
    ]).void_when("communication_lost", true),
    column(Environment, "sensors", "humidity", "Humidity", Some(Percent), HUMIDITY, &[
        src(Mge, "upsmgEnvironmentHumidity", "1.3.6.1.4.1.705.1.8.7.1.6", TENTHS),
    ]).void_when("communication_lost", true),
    column(Environment, "sensors", "humidity_low", "Humidity low", None, PROBLEM, &[
        src(Mge, "upsmgEnvironmentHumidityLow", "1.3.6.1.4.1.705.1.8.7.1.7", YES_NO),
    ]).void_when("communication_lost", true),
    column(Environment, "sensors", "humidity_high", "Humidity high", None, PROBLEM, &[
        src(Mge, "upsmgEnvironmentHumidityHigh", "1.3.6.1.4.1.705.1.8.7.1.8", YES_NO),
    ]).void_when("communication_lost", true),
    column(Environment, "sensors", "input_1", "Contact 1", None, STATE, &[
        src(Mge, "upsmgEnvironmentInput1State", "1.3.6.1.4.1.705.1.8.7.1.9", labels(&[(1, "closed"), (2, "open")])),
    ]).void_when("communication_lost", true),
    column(Environment, "sensors", "input_2", "Contact 2", None, STATE, &[
        src(Mge, "upsmgEnvironmentInput2State", "1.3.6.1.4.1.705.1.8.7.1.10", labels(&[(1, "closed"), (2, "open")])),
    ]).void_when("communication_lost", true),
    column(Environment, "sensors", "temperature_low_threshold", "Temperature low threshold", Some(Celsius), SET_NUMBER.disabled(), &[
        src(Mge, "upsmgConfigTemperatureLow", "1.3.6.1.4.1.705.1.4.34.1.3", INT).rw(Legal::Range { min: -20.0, max: 80.0 }).note("MIB says 0.1 °C; real NMC returns whole °C (Q6)"),
    ]),
    column(Environment, "sensors", "temperature_high_threshold", "Temperature high threshold", Some(Celsius), SET_NUMBER.disabled(), &[
        src(Mge, "upsmgConfigTemperatureHigh", "1.3.6.1.4.1.705.1.4.34.1.4", INT).rw(Legal::Range { min: -20.0, max: 80.0 }).note("whole °C (Q6)"),
    ]),
    column(Environment, "sensors", "humidity_low_threshold", "Humidity low threshold", Some(Percent), SET_NUMBER.disabled(), &[
        src(Mge, "upsmgConfigHumidityLow", "1.3.6.1.4.1.705.1.4.34.1.6", INT).rw(PERCENT_RANGE),
    ]),
    column(Environment, "sensors", "humidity_high_threshold", "Humidity high threshold", Some(Percent), SET_NUMBER.disabled(), &[
        src(Mge, "upsmgConfigHumidityHigh", "1.3.6.1.4.1.705.1.4.34.1.7", INT).rw(PERCENT_RANGE),
    ]),
    column(Environment, "probes", "name", "Name", None, INFO, &[
        src(PowerNet, "iemStatusProbeName", "1.3.6.1.4.1.318.1.1.10.2.3.2.1.2", TEXT),
    ]),
    column(Environment, "probes", "connected", "Connected", None, Ha::new(BinarySensor).class("connectivity").diagnostic(), &[
        src(PowerNet, "iemStatusProbeStatus", "1.3.6.1.4.1.318.1.1.10.2.3.2.1.3", Decode::Flag { on: 2, off: 1 }),
    ]),
    column(Environment, "probes", "temperature", "Temperature", Some(Celsius), TEMPERATURE, &[
        src(PowerNet, "iemStatusProbeCurrentTemp", "1.3.6.1.4.1.318.1.1.10.2.3.2.1.4", INT).null_when(&[-1]).note("in the probe's configured unit; the NMC default is Celsius"),
    ]).void_when("connected", false),
    column(Environment, "probes", "humidity", "Humidity", Some(Percent), HUMIDITY, &[
        src(PowerNet, "iemStatusProbeCurrentHumid", "1.3.6.1.4.1.318.1.1.10.2.3.2.1.6", INT).null_when(&[-1, 0]).note("0 when the probe has no humidity sensor"),
    ]).void_when("connected", false),

    // ================================================================ control
    column(Control, "outlet_groups", "name", "Name", None, INFO, &[
        src(PowerNet, "upsOutletGroupControlName", "1.3.6.1.4.1.318.1.1.1.12.3.2.1.2", TEXT),
    ]),
    column(Control, "outlet_groups", "command", "Command", None, OUTLET, &[
        src(PowerNet, "upsOutletGroupControlCommand", "1.3.6.1.4.1.318.1.1.1.12.3.2.1.3", labels(&[
            (1, "immediate_on"), (2, "immediate_off"), (3, "immediate_reboot"), (4, "delayed_on"), (5, "delayed_off"),
            (6, "delayed_reboot"), (7, "cancel_pending"), (8, "unknown"), (9, "immediate_reboot_shutdown"), (10, "delayed_reboot_shutdown"),
        ])).rw(Legal::Labels(&[1, 2, 3, 4, 5, 6, 7, 9, 10])).note("GET returns 1 (on) / 2 (off) / 8 (unknown)").cuts_power(CutsPower::Values(&[2, 3, 5, 6, 9, 10])),
    ]),
    column(Control, "outlet_groups", "type", "Outlet type", None, STATE.diagnostic(), &[
        src(PowerNet, "upsOutletGroupControlOutletType", "1.3.6.1.4.1.318.1.1.1.12.3.2.1.4", labels(OUTLET_TYPE)),
    ]),
    column(Control, "receptacles", "on_delay", "On delay", Some(Second), SET_NUMBER.disabled(), &[
        src(Mge, "mgreceptacleOnDelay", "1.3.6.1.4.1.705.1.9.1.1.2", INT).rw(TIMER_RANGE).cuts_power(CutsPower::AllBut(&[-1])).null_when(&[-1]),
    ]),
    column(Control, "receptacles", "on", "Switch on", None, COMMAND, &[
        src(Mge, "mgreceptacleOnCtrl", "1.3.6.1.4.1.705.1.9.1.1.3", labels(CTRL)).rw(Legal::Labels(&[2, 3])),
    ]),
    column(Control, "receptacles", "on_status", "Switch on status", None, STATE.diagnostic(), &[
        src(Mge, "mgreceptacleOnStatus", "1.3.6.1.4.1.705.1.9.1.1.4", labels(CTRL_STATUS)),
    ]),
    column(Control, "receptacles", "off_delay", "Off delay", Some(Second), SET_NUMBER.disabled(), &[
        src(Mge, "mgreceptacleOffDelay", "1.3.6.1.4.1.705.1.9.1.1.5", INT).rw(TIMER_RANGE).cuts_power(CutsPower::AllBut(&[-1])).null_when(&[-1]),
    ]),
    column(Control, "receptacles", "off", "Switch off", None, COMMAND, &[
        src(Mge, "mgreceptacleOffCtrl", "1.3.6.1.4.1.705.1.9.1.1.6", labels(CTRL)).rw(Legal::Labels(&[2, 3])).note("index 1 is the whole UPS output on single-receptacle models (Q9)").cuts_power(CutsPower::Values(&[2])),
    ]),
    column(Control, "receptacles", "off_status", "Switch off status", None, STATE.diagnostic(), &[
        src(Mge, "mgreceptacleOffStatus", "1.3.6.1.4.1.705.1.9.1.1.7", labels(CTRL_STATUS)),
    ]),
    column(Control, "receptacles", "toggle_delay", "Toggle delay", Some(Second), SET_NUMBER.disabled(), &[
        src(Mge, "mgreceptacleToggleDelay", "1.3.6.1.4.1.705.1.9.1.1.8", INT).rw(TIMER_RANGE).cuts_power(CutsPower::AllBut(&[-1])).null_when(&[-1]),
    ]),
    column(Control, "receptacles", "toggle", "Toggle (off/on)", None, COMMAND, &[
        src(Mge, "mgreceptacleToggleCtrl", "1.3.6.1.4.1.705.1.9.1.1.9", labels(CTRL)).rw(Legal::Labels(&[2, 3])).cuts_power(CutsPower::Values(&[2])),
    ]),
    column(Control, "receptacles", "toggle_status", "Toggle status", None, STATE.diagnostic(), &[
        src(Mge, "mgreceptacleToggleStatus", "1.3.6.1.4.1.705.1.9.1.1.10", labels(CTRL_STATUS)),
    ]),
    column(Control, "receptacles", "toggle_duration", "Toggle duration", Some(Second), SET_NUMBER.disabled(), &[
        src(Mge, "mgreceptacleToggleDuration", "1.3.6.1.4.1.705.1.9.1.1.11", INT).rw(DELAY_RANGE).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Control, "day_off", "Scheduled off day", None, SET_SELECT.disabled(), &[
        src(Mge, "upsmgControlDayOff", "1.3.6.1.4.1.705.1.9.2", labels(MGE_DAYS)).rw(Legal::AnyLabel).cuts_power(CutsPower::AllBut(&[8])),
    ]),
    scalar(Control, "day_on", "Scheduled on day", None, SET_SELECT.disabled(), &[
        src(Mge, "upsmgControlDayOn", "1.3.6.1.4.1.705.1.9.3", labels(MGE_DAYS)).rw(Legal::AnyLabel).cuts_power(CutsPower::AllBut(&[8])),
    ]),
    scalar(Control, "shutdown_type", "Shutdown type", None, SET_SELECT.disabled(), &[
        src(Rfc1628, "upsShutdownType", "1.3.6.1.2.1.33.1.8.1", labels(&[(1, "output"), (2, "system")])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Control, "shutdown_after_delay", "Shutdown after delay", Some(Second), SET_NUMBER.disabled(), &[
        src(Rfc1628, "upsShutdownAfterDelay", "1.3.6.1.2.1.33.1.8.2", INT).rw(TIMER_RANGE).null_when(&[-1]).note("-1 = no countdown / abort, 0 = now").cuts_power(CutsPower::AllBut(&[-1])),
    ]),
    scalar(Control, "startup_after_delay", "Startup after delay", Some(Second), SET_NUMBER.disabled(), &[
        src(Rfc1628, "upsStartupAfterDelay", "1.3.6.1.2.1.33.1.8.3", INT).rw(TIMER_RANGE).cuts_power(CutsPower::AllBut(&[-1])).null_when(&[-1]),
    ]),
    scalar(Control, "reboot_with_duration", "Reboot with duration", Some(Second), SET_NUMBER.disabled(), &[
        src(Rfc1628, "upsRebootWithDuration", "1.3.6.1.2.1.33.1.8.4", INT).rw(Legal::Range { min: -1.0, max: 300.0 }).null_when(&[-1]).cuts_power(CutsPower::AllBut(&[-1])),
    ]),
    scalar(Control, "ups_off", "Turn UPS off", None, COMMAND, &[
        src(PowerNet, "upsAdvControlUpsOff", "1.3.6.1.4.1.318.1.1.1.6.2.1", labels(&[
            (1, "no_turn_ups_off"), (2, "turn_ups_off"), (3, "turn_ups_off_gracefully"), (4, "turn_ups_sync_group_off"),
            (5, "turn_ups_sync_group_off_after_delay"), (6, "turn_ups_sync_group_off_gracefully"),
        ])).rw(Legal::Labels(&[2, 3])).cuts_power(CutsPower::Values(&[2, 3])),
    ]),
    scalar(Control, "reboot", "Reboot UPS", None, COMMAND, &[
        src(PowerNet, "upsAdvControlRebootShutdownUps", "1.3.6.1.4.1.318.1.1.1.6.2.2", labels(&[
            (1, "no_reboot_shutdown_ups"), (2, "reboot_shutdown_ups"), (3, "reboot_shutdown_ups_gracefully"),
            (4, "reboot_shutdown_sync_group_ups"), (5, "reboot_shutdown_sync_group_ups_gracefully"),
        ])).rw(Legal::Labels(&[2, 3])).cuts_power(CutsPower::Values(&[2, 3])),
    ]),
    scalar(Control, "ups_on", "Turn UPS on", None, COMMAND, &[
        src(PowerNet, "upsAdvControlTurnOnUPS", "1.3.6.1.4.1.318.1.1.1.6.2.6", labels(&[
            (1, "no_turn_on_ups"), (2, "turn_on_ups"), (3, "turn_on_ups_sync_group"), (4, "turn_on_ups_delayed"),
        ])).rw(Legal::Labels(&[2, 4])),
    ]),
    scalar(Control, "bypass_switch", "Bypass switch", None, COMMAND, &[
        src(PowerNet, "upsAdvControlBypassSwitch", "1.3.6.1.4.1.318.1.1.1.6.2.7", labels(&[
            (1, "no_bypass_switch"), (2, "switch_to_bypass"), (3, "switch_out_of_bypass"),
        ])).rw(Legal::Labels(&[2, 3])).cuts_power(CutsPower::Values(&[2])),
    ]),
    scalar(Control, "conserve_battery", "Turn off to conserve battery", None, COMMAND, &[
        src(PowerNet, "upsBasicControlConserveBattery", "1.3.6.1.4.1.318.1.1.1.6.1.1", labels(&[
            (1, "no_turn_off_ups"), (2, "turn_off_ups_to_conserve_battery"),
        ])).rw(Legal::Labels(&[2])).cuts_power(CutsPower::Values(&[2])),
    ]),

    scalar(Control, "sleep", "Put UPS to sleep", None, COMMAND, &[
        src(PowerNet, "upsAdvControlUpsSleep", "1.3.6.1.4.1.318.1.1.1.6.2.3", labels(&[(1, "no_put_ups_to_sleep"), (2, "put_ups_to_sleep"), (3, "put_ups_to_sleep_gracefully"), (4, "put_ups_sync_group_to_sleep"), (5, "put_ups_sync_group_to_sleep_gracefully")])).rw(Legal::Labels(&[2, 3])).cuts_power(CutsPower::Values(&[2, 3])),
    ]),
    scalar(Control, "simulate_power_failure", "Simulate power failure", None, COMMAND, &[
        src(PowerNet, "upsAdvControlSimulatePowerFail", "1.3.6.1.4.1.318.1.1.1.6.2.4", labels(&[(1, "no_simulate_power_failure"), (2, "simulate_power_failure")])).rw(Legal::Labels(&[2])).cuts_power(CutsPower::Values(&[2])).note("transfers the load to battery"),
    ]),
    scalar(Control, "flash_and_beep", "Flash and beep", None, COMMAND, &[
        src(PowerNet, "upsAdvControlFlashAndBeep", "1.3.6.1.4.1.318.1.1.1.6.2.5", labels(&[(1, "no_flash_and_beep"), (2, "flash_and_beep"), (3, "flash_and_beep_sync_group"), (4, "flash_and_beep_cont"), (5, "flash_and_beep_cancel")])).rw(Legal::Labels(&[2, 4, 5])),
    ]),
    scalar(Control, "reboot_with_or_without_ac", "Reboot with or without AC", None, COMMAND, &[
        src(PowerNet, "upsAdvControlRebootUpsWithOrWithoutAC", "1.3.6.1.4.1.318.1.1.1.6.2.8", labels(&[(1, "no_reboot_ups_with_or_without_ac"), (2, "reboot_ups_immediately_with_or_without_ac"), (3, "reboot_ups_delayed_with_or_without_ac")])).rw(Legal::Labels(&[2, 3])).cuts_power(CutsPower::Values(&[2, 3])),
    ]),
    scalar(Control, "reset_min_max", "Reset phase minimum and maximum", None, COMMAND, &[
        src(PowerNet, "upsPhaseResetMaxMinValues", "1.3.6.1.4.1.318.1.1.1.9.1.1", labels(&[(1, "none"), (2, "reset")])).rw(Legal::Labels(&[2])),
    ]),
    scalar(Control, "server_shutdown", "Server shutdown sequence", None, COMMAND, &[
        src(PowerNet, "upsAsiUpsControlServerRequestShutdown", "1.3.6.1.4.1.318.1.1.1.5.2.28", labels(&[(1, "server_shutdown_off"), (2, "server_shutdown_reboot")])).rw(Legal::Labels(&[1, 2])).cuts_power(CutsPower::Values(&[1, 2])).note("both values start a shutdown; reads back the last request"),
    ]),
    scalar(Control, "reset_to_defaults", "Reset UPS settings to defaults", None, COMMAND, &[
        src(PowerNet, "upsAdvConfigSetEEPROMDefaults", "1.3.6.1.4.1.318.1.1.1.5.2.12", labels(&[(1, "no_set_eeprom_defaults"), (2, "set_eeprom_defaults")])).rw(Legal::Labels(&[2])).cuts_power(CutsPower::Values(&[2])).note("resets transfer voltages, delays and thresholds"),
    ]),

    // =================================================================== test
    scalar(Test, "diagnostic_time", "Battery test time", None, SET_TEXT.disabled(), &[
        src(PowerNet, "upsAdvTestDiagnosticTime", "1.3.6.1.4.1.318.1.1.1.7.2.8", TEXT).rw(Legal::Text { max_len: 5 }).cuts_power(POWER_AFFECTING).note("\"hh:mm\", 24 h"),
    ]),
    scalar(Test, "diagnostic_day", "Battery test day", None, SET_SELECT.disabled(), &[
        src(PowerNet, "upsAdvTestDiagnosticDay", "1.3.6.1.4.1.318.1.1.1.7.2.9", labels(&[
            (1, "monday"), (2, "tuesday"), (3, "wednesday"), (4, "thursday"), (5, "friday"), (6, "saturday"), (7, "sunday"),
        ])).rw(Legal::AnyLabel).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Test, "schedule", "Automatic battery test interval", None, SET_SELECT, &[
        src(PowerNet, "upsAdvTestDiagnosticSchedule", "1.3.6.1.4.1.318.1.1.1.7.2.1", labels(&[
            (1, "unknown"), (2, "biweekly"), (3, "weekly"), (4, "at_turn_on"), (5, "never"), (6, "four_weeks"), (7, "twelve_weeks"),
            (8, "biweekly_since_last_test"), (9, "weekly_since_last_test"), (10, "eight_weeks"), (11, "twentysix_weeks"), (12, "fiftytwo_weeks"),
        ])).rw(Legal::Labels(&[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])).cuts_power(POWER_AFFECTING),
        src(Mge, "upsmgTestBatterySchedule", "1.3.6.1.4.1.705.1.10.1", labels(&[
            (1, "unknown"), (2, "weekly"), (3, "monthly"), (4, "at_turn_on"), (5, "none"), (6, "daily"),
        ])).rw(Legal::Labels(&[2, 3, 4, 5, 6])).cuts_power(POWER_AFFECTING),
    ]),
    scalar(Test, "battery_interval", "Battery test interval (text)", None, INFO, &[
        src(PowerNet, "upsAdvTestBatteryInterval", "1.3.6.1.4.1.318.1.1.1.7.2.10", TEXT).note("free text, e.g. \"weekly\""),
    ]),
    scalar(Test, "diagnostics_interval", "Battery test interval", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvTestDiagnosticsBatteryInterval", "1.3.6.1.4.1.318.1.1.1.7.2.16", labels(&[
            (1, "never"), (2, "weekly"), (3, "biweekly"), (4, "every_4_weeks"), (5, "every_8_weeks"), (6, "every_12_weeks"),
            (7, "every_26_weeks"), (8, "every_52_weeks"),
        ])),
    ]),
    scalar(Test, "start", "Start battery test", None, PRESS, &[
        src(PowerNet, "upsAdvTestDiagnostics", "1.3.6.1.4.1.318.1.1.1.7.2.2", labels(&[(1, "no_test"), (2, "test")])).rw(Legal::Labels(&[2])),
        src(Mge, "upsmgTestBatteryCalibration", "1.3.6.1.4.1.705.1.10.4", labels(&[(1, "default"), (2, "start")])).rw(Legal::Labels(&[2])).note("NUT's test.battery.start for MGE"),
    ]),
    scalar(Test, "start_diagnostics", "Start self test", None, PRESS.disabled(), &[
        src(Mge, "upsmgTestDiagnostics", "1.3.6.1.4.1.705.1.10.2", labels(&[(1, "default"), (2, "start")])).rw(Legal::Labels(&[2])),
    ]),
    scalar(Test, "result", "Battery test result", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvTestDiagnosticsResults", "1.3.6.1.4.1.318.1.1.1.7.2.3", labels(&[(1, "ok"), (2, "failed"), (3, "invalid_test"), (4, "in_progress")])),
        src(Mge, "upsmgTestBatteryResult", "1.3.6.1.4.1.705.1.10.11", labels(&[(1, "main_success"), (2, "main_failed"), (3, "secondary_success"), (4, "secondary_failed"), (5, "none")])),
        src(Rfc1628, "upsTestResultsSummary", "1.3.6.1.2.1.33.1.7.3", labels(&[
            (1, "done_pass"), (2, "done_warning"), (3, "done_error"), (4, "aborted"), (5, "in_progress"), (6, "no_tests_initiated"),
        ])),
    ]),
    scalar(Test, "diagnostics_result", "Self test result", None, STATE.diagnostic(), &[
        src(Mge, "upsmgTestDiagResult", "1.3.6.1.4.1.705.1.10.3", labels(&[(1, "success"), (2, "failed"), (3, "none")])),
    ]),
    scalar(Test, "result_detail", "Test result detail", None, INFO, &[
        src(Rfc1628, "upsTestResultsDetail", "1.3.6.1.2.1.33.1.7.4", TEXT),
    ]),
    scalar(Test, "last_date", "Last battery test", None, INFO, &[
        src(PowerNet, "upsAdvTestLastDiagnosticsDate", "1.3.6.1.4.1.318.1.1.1.7.2.4", TEXT),
    ]),
    scalar(Test, "id", "Test in progress or last run", None, INFO, &[
        src(Rfc1628, "upsTestId", "1.3.6.1.2.1.33.1.7.1", Decode::ObjectId).note("SET only with upsTestSpinLock in the same PDU (Q8); may read NULL"),
    ]),
    scalar(Test, "spin_lock", "Test spin lock", None, INFO, &[
        src(Rfc1628, "upsTestSpinLock", "1.3.6.1.2.1.33.1.7.2", INT).note("TestAndIncr"),
    ]),
    scalar(Test, "start_time", "Test started at agent uptime", Some(Second), INFO, &[
        src(Rfc1628, "upsTestStartTime", "1.3.6.1.2.1.33.1.7.5", TICKS).ticks(),
    ]),
    scalar(Test, "elapsed_time", "Test elapsed time", Some(Second), DURATION.diagnostic(), &[
        src(Rfc1628, "upsTestElapsedTime", "1.3.6.1.2.1.33.1.7.6", TICKS),
    ]),
    scalar(Test, "calibration", "Runtime calibration", None, COMMAND, &[
        src(PowerNet, "upsAdvTestRuntimeCalibration", "1.3.6.1.4.1.318.1.1.1.7.2.5", labels(&[(1, "no_calibration"), (2, "perform_calibration"), (3, "cancel_calibration")])).rw(Legal::Labels(&[2, 3])).cuts_power(CutsPower::Values(&[2])),
    ]),
    scalar(Test, "calibration_result", "Calibration result", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvTestCalibrationResults", "1.3.6.1.4.1.318.1.1.1.7.2.6", labels(&[
            (1, "ok"), (2, "invalid_calibration"), (3, "in_progress"), (4, "refused"), (5, "aborted"), (6, "pending"), (7, "unknown"),
        ])),
    ]),
    scalar(Test, "calibration_date", "Last calibration", None, INFO, &[
        src(PowerNet, "upsAdvTestCalibrationDate", "1.3.6.1.4.1.318.1.1.1.7.2.7", TEXT),
    ]),
    scalar(Test, "battery_last_date", "Last battery test date", None, INFO, &[
        src(PowerNet, "upsAdvTestBatteryLastDate", "1.3.6.1.4.1.318.1.1.1.7.2.13", TEXT),
    ]),
    scalar(Test, "battery_last_success_date", "Last successful battery test", None, INFO, &[
        src(PowerNet, "upsAdvTestBatteryLastSuccessfulDate", "1.3.6.1.4.1.318.1.1.1.7.2.12", TEXT),
    ]),
    scalar(Test, "process_status", "Battery test process", None, STATE.diagnostic(), &[
        src(PowerNet, "upsAdvTestBatteryProcessStatus", "1.3.6.1.4.1.318.1.1.1.7.2.14", labels(&[
            (1, "ok"), (2, "precondition_not_met"), (3, "in_progress"), (4, "refused"), (5, "aborted"), (6, "pending"), (7, "unknown"), (8, "no_battery_present"),
        ])),
    ]),
    scalar(Test, "battery_condition", "Battery condition", None, STATE, &[
        src(PowerNet, "upsAdvTestBatteryConditionStatus", "1.3.6.1.4.1.318.1.1.1.7.2.15", labels(&[
            (1, "unknown"), (2, "ok"), (3, "capacity_decreased"), (4, "defect"), (5, "no_battery_present"),
        ])),
    ]),
    scalar(Test, "calibration_last_success_date", "Last successful calibration", None, INFO, &[
        src(PowerNet, "upsAdvTestCalibrationLastSuccessfulDate", "1.3.6.1.4.1.318.1.1.1.7.2.11", TEXT),
    ]),
];
