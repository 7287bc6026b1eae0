//! NUT's variable and instant command names (networkupstools/nut
//! `docs/nut-names.txt`) for what the per-UPS model holds: data, one row
//! per NUT variable, and the one function that renders a model into them.
//!
//! NUT publishes in the same units as the point table (V, A, W, VA, Hz, %,
//! s, °C), so no value is converted: a variable is a point-table field, a
//! phase column row, the model's derived `ups.status`, or a fixed fact of
//! the gateway. Writable fields are NUT RW variables, typed from the
//! serving source's [`Legal`] values.

use crate::mib::commands::{COMMANDS, command_by_name};
use crate::mib::{self, Access, Field, Legal, Mib, Source, Unit};
use crate::model::{Model, Shape};
use crate::pages::Reading;

/// Where a NUT variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Src {
    /// A page-level field (`battery.charge`).
    Field(&'static str),
    /// Row 1 of a line-table column, when the table has exactly one row
    /// (a single-phase UPS that reports its line only in the table).
    SinglePhase(&'static str),
    /// NUT's `ups.status` flags, as the model derives them.
    Status,
    /// The active alarms, space-separated.
    Alarm,
    /// A fact of the gateway.
    Fixed(&'static str),
    /// The gateway's version.
    Version,
}

/// One NUT variable: its name and its sources, first present wins.
#[derive(Debug, Clone, Copy)]
pub struct VarDef {
    pub name: &'static str,
    pub from: &'static [Src],
    /// NUT's description; `None`: the field's label.
    pub desc: Option<&'static str>,
}

const fn described(name: &'static str, desc: &'static str, from: &'static [Src]) -> VarDef {
    VarDef {
        name,
        from,
        desc: Some(desc),
    }
}

use Src::{Field as F, SinglePhase as One};

/// Every UPS-wide NUT variable, in NUT's usual order.
#[rustfmt::skip]
pub const VARS: &[VarDef] = &[
    described("device.mfr", "Device manufacturer", &[F("general.manufacturer")]),
    described("device.model", "Device model", &[F("general.model"), F("general.model_name")]),
    described("device.serial", "Device serial number", &[F("general.serial_number")]),
    described("device.type", "Device type", &[Src::Fixed("ups")]),
    described("driver.name", "Driver name", &[Src::Fixed("ups2mqtt")]),
    described("driver.version", "Driver version", &[Src::Version]),
    described("ups.mfr", "UPS manufacturer", &[F("general.manufacturer")]),
    described("ups.model", "UPS model", &[F("general.model"), F("general.model_name")]),
    described("ups.serial", "UPS serial number", &[F("general.serial_number")]),
    described("ups.firmware", "UPS firmware", &[F("general.firmware_version")]),
    described("ups.firmware.aux", "Auxiliary device firmware", &[F("general.agent_version")]),
    described("ups.mfr.date", "UPS manufacturing date", &[F("general.manufacture_date")]),
    described("ups.id", "UPS system identifier", &[F("general.name")]),
    described("ups.status", "UPS status", &[Src::Status]),
    described("ups.alarm", "UPS alarms", &[Src::Alarm]),
    described("ups.load", "Load on UPS (percent of full)", &[F("output.load"), One("output.lines.load")]),
    described("ups.realpower", "Current value of real power (W)", &[F("output.power"), One("output.lines.power")]),
    described("ups.power", "Current value of apparent power (VA)", &[F("output.apparent_power"), One("output.lines.apparent_power")]),
    described("ups.power.nominal", "UPS nominal apparent power (VA)", &[F("config.nominal_apparent_power")]),
    described("ups.realpower.nominal", "UPS nominal real power (W)", &[F("config.nominal_power")]),
    described("ups.temperature", "UPS temperature (degrees C)", &[F("output.system_temperature")]),
    described("ups.test.result", "Results of last self test", &[F("test.result")]),
    described("ups.test.date", "Date of last self test", &[F("test.last_date")]),
    described("ups.delay.shutdown", "Interval to wait after shutdown with delay command (seconds)", &[F("config.shutoff_delay")]),
    described("ups.delay.start", "Interval to wait before (re)starting the load (seconds)", &[F("config.return_delay")]),
    described("ups.beeper.status", "UPS beeper status", &[F("config.beeper")]),
    described("ups.start.auto", "UPS starts when mains is (re)applied", &[F("config.automatic_restart")]),
    described("battery.charge", "Battery charge (percent of full)", &[F("battery.charge")]),
    described("battery.charge.low", "Remaining battery level when UPS switches to LB (percent)", &[F("config.low_battery_level")]),
    described("battery.charge.restart", "Minimum battery level for UPS restart after power-off", &[F("config.min_return_capacity")]),
    described("battery.runtime", "Battery runtime (seconds)", &[F("battery.runtime")]),
    described("battery.runtime.low", "Remaining battery runtime when UPS switches to LB (seconds)", &[F("config.low_battery_runtime")]),
    described("battery.voltage", "Battery voltage (V)", &[F("battery.voltage")]),
    described("battery.voltage.nominal", "Nominal battery voltage (V)", &[F("battery.nominal_voltage"), F("config.nominal_battery_voltage")]),
    described("battery.current", "Battery current (A)", &[F("battery.current")]),
    described("battery.temperature", "Battery temperature (degrees C)", &[F("battery.temperature")]),
    described("battery.date", "Battery change date", &[F("battery.last_replace_date")]),
    described("battery.packs", "Number of external battery packs", &[F("battery.external_packs")]),
    described("battery.packs.bad", "Number of bad battery packs", &[F("battery.bad_packs")]),
    described("input.voltage", "Input voltage (V)", &[F("input.voltage"), One("input.lines.voltage")]),
    described("input.voltage.maximum", "Maximum incoming voltage seen (V)", &[F("input.voltage_max"), One("input.lines.voltage_max")]),
    described("input.voltage.minimum", "Minimum incoming voltage seen (V)", &[F("input.voltage_min"), One("input.lines.voltage_min")]),
    described("input.voltage.nominal", "Nominal input voltage (V)", &[F("config.input_nominal_voltage")]),
    described("input.frequency", "Input line frequency (Hz)", &[F("input.frequency"), One("input.lines.frequency")]),
    described("input.frequency.nominal", "Nominal input line frequency (Hz)", &[F("config.input_nominal_frequency")]),
    described("input.current", "Input current (A)", &[One("input.lines.current")]),
    described("input.realpower", "Current sum value of all (phases) real power (W)", &[F("input.power"), One("input.lines.power")]),
    described("input.transfer.low", "Low voltage transfer point (V)", &[F("config.low_transfer_voltage")]),
    described("input.transfer.high", "High voltage transfer point (V)", &[F("config.high_transfer_voltage")]),
    described("input.transfer.reason", "Reason for last transfer to battery", &[F("input.transfer_reason")]),
    described("input.sensitivity", "Input power sensitivity", &[F("config.sensitivity")]),
    described("input.bypass.voltage", "Bypass input voltage (V)", &[F("input.bypass_voltage"), One("input.bypass_lines.voltage")]),
    described("input.bypass.frequency", "Bypass input frequency (Hz)", &[F("input.bypass_frequency")]),
    described("output.voltage", "Output voltage (V)", &[F("output.voltage"), One("output.lines.voltage")]),
    described("output.voltage.nominal", "Nominal output voltage (V)", &[F("config.output_nominal_voltage")]),
    described("output.frequency", "Output frequency (Hz)", &[F("output.frequency"), One("output.lines.frequency")]),
    described("output.frequency.nominal", "Nominal output frequency (Hz)", &[F("config.output_nominal_frequency")]),
    described("output.current", "Output current (A)", &[F("output.current"), One("output.lines.current")]),
    described("output.current.nominal", "Nominal output current (A)", &[F("config.output_nominal_current")]),
    described("output.realpower", "Output real power (W)", &[F("output.power"), One("output.lines.power")]),
    described("ambient.temperature", "Ambient temperature (degrees C)", &[F("environment.ambient_temperature")]),
    described("ambient.humidity", "Ambient relative humidity (percent)", &[F("environment.ambient_humidity")]),
];

/// How a phase column's rows are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// `L1`, `L2`, `L3`.
    Line,
    /// `L1-N`: the column is phase-to-neutral by definition.
    PhaseToNeutral,
    /// `L1-L2`, `L2-L3`, `L3-L1`: the column is phase-to-phase by
    /// definition.
    PhaseToPhase,
    /// `L1-N` when served by RFC 1628 (phase-to-neutral by definition),
    /// else `L1-L2`, `L2-L3`, `L3-L1` (MGE and PowerNet report
    /// phase-to-phase on 3-phase cards, quirk Q3).
    AsSourceSays,
}

/// A line-table column published per phase on 3-phase UPSes: `{}` in the
/// name is the phase (`input.L1-N.voltage`, `output.L2.current`).
#[derive(Debug, Clone, Copy)]
pub struct PhaseDef {
    pub column: &'static str,
    pub name: &'static str,
    pub wire: Wire,
}

const fn phase(column: &'static str, name: &'static str, wire: Wire) -> PhaseDef {
    PhaseDef { column, name, wire }
}

/// The per-phase variables; a name already given by an earlier row is
/// skipped (phase-to-neutral columns first).
#[rustfmt::skip]
pub const PHASES: &[PhaseDef] = &[
    phase("input.lines.voltage_phase_to_neutral", "input.{}.voltage", Wire::PhaseToNeutral),
    phase("input.lines.voltage", "input.{}.voltage", Wire::AsSourceSays),
    phase("input.lines.voltage_phase_to_phase", "input.{}.voltage", Wire::PhaseToPhase),
    phase("input.lines.current", "input.{}.current", Wire::Line),
    phase("input.lines.power", "input.{}.realpower", Wire::Line),
    phase("input.lines.apparent_power", "input.{}.power", Wire::Line),
    phase("input.bypass_lines.voltage_phase_to_neutral", "input.bypass.{}.voltage", Wire::PhaseToNeutral),
    phase("input.bypass_lines.voltage", "input.bypass.{}.voltage", Wire::AsSourceSays),
    phase("input.bypass_lines.current", "input.bypass.{}.current", Wire::Line),
    phase("output.lines.voltage_phase_to_neutral", "output.{}.voltage", Wire::PhaseToNeutral),
    phase("output.lines.voltage", "output.{}.voltage", Wire::AsSourceSays),
    phase("output.lines.voltage_phase_to_phase", "output.{}.voltage", Wire::PhaseToPhase),
    phase("output.lines.current", "output.{}.current", Wire::Line),
    phase("output.lines.power", "output.{}.realpower", Wire::Line),
    phase("output.lines.apparent_power", "output.{}.power", Wire::Line),
    phase("output.lines.load", "output.{}.power.percent", Wire::Line),
];

/// `input.phases` / `output.phases`: the rows of these line tables.
pub const PHASE_COUNTS: &[(&str, &str)] = &[
    ("input.phases", "input.lines"),
    ("output.phases", "output.lines"),
];

/// An outlet's variables: `outlet.<N>.<suffix>` from a column of its
/// receptacles-page table.
pub const OUTLET_VARS: &[(&str, &str)] = &[("desc", "name"), ("status", "state")];

/// One rendered variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    pub name: String,
    pub value: String,
    /// The field and the source serving it, for page-level fields (RW
    /// variables, SET VAR).
    pub slot: Option<(&'static Field, &'static Source)>,
    pub desc: &'static str,
}

impl Var {
    /// The legal values of a writable variable.
    pub fn legal(&self) -> Option<Legal> {
        match self.slot?.1.access {
            Access::ReadWrite(legal) => Some(legal),
            Access::ReadOnly => None,
        }
    }

    /// `ENUM` labels of a writable enum variable.
    pub fn enum_values(&self) -> Vec<&'static str> {
        let Some((_, source)) = self.slot else {
            return Vec::new();
        };
        match (self.legal(), source.decode) {
            (Some(Legal::AnyLabel), mib::Decode::Enum(labels)) => {
                labels.iter().map(|(_, l)| *l).collect()
            }
            (Some(Legal::Labels(raws)), decode) => {
                raws.iter().filter_map(|r| decode.label(*r)).collect()
            }
            (Some(Legal::Bool), _) => vec!["yes", "no"],
            _ => Vec::new(),
        }
    }

    /// NUT's `TYPE` words.
    pub fn type_words(&self) -> String {
        let mut words = Vec::new();
        let legal = self.legal();
        if legal.is_some() {
            words.push("RW".to_string());
        }
        match legal {
            Some(Legal::AnyLabel | Legal::Labels(_) | Legal::Bool) => {
                words.push("ENUM".to_string())
            }
            Some(Legal::Range { .. }) => words.push("RANGE".to_string()),
            _ => {}
        }
        match (legal, self.slot.map(|(_, s)| s.decode)) {
            (Some(Legal::Text { max_len }), _) => words.push(format!("STRING:{max_len}")),
            (_, Some(mib::Decode::Number { .. })) | (_, None)
                if self.value.parse::<f64>().is_ok() =>
            {
                words.push("NUMBER".to_string())
            }
            _ if legal.is_none() => words.push(format!("STRING:{}", self.value.len().max(1))),
            _ => {}
        }
        words.join(" ")
    }
}

/// Every NUT variable this UPS has, in [`VARS`] order, then phases and
/// outlets. `fsd` prefixes `ups.status` with `FSD` (upsd's latch).
pub fn render(model: &Model, shape: &Shape, fsd: bool) -> Vec<Var> {
    let mut vars: Vec<Var> = Vec::new();
    for def in VARS {
        if let Some(var) = render_one(model, def, fsd) {
            vars.push(var);
        }
    }
    for def in PHASES {
        render_phase(model, def, &mut vars);
    }
    for (name, table) in PHASE_COUNTS {
        let (page, key) = table.split_once('.').expect("page.table");
        let rows = mib::Page::from_name(page)
            .and_then(|p| model.page(p))
            .and_then(|p| p.table(key))
            .map_or(0, |t| t.rows.len());
        if rows > 0 {
            vars.push(fixed(name, rows.to_string(), "Number of phases"));
        }
    }
    if !shape.outlets.is_empty() {
        let count = shape.outlets.len().to_string();
        vars.push(fixed("outlet.count", count, "Total number of outlets"));
    }
    for outlet in &shape.outlets {
        for (suffix, column) in OUTLET_VARS {
            let path = format!("receptacles.{}.{column}", outlet.kind.table);
            let Some(field) = mib::field_by_path(&path) else {
                continue;
            };
            if let Some(value) = model
                .reading(field, Some(outlet.index))
                .and_then(|r| field_text(field, r))
            {
                let name = format!("outlet.{}.{suffix}", outlet.index);
                vars.push(fixed(&name, value, field.label));
            }
        }
        let name = format!("outlet.{}.switchable", outlet.index);
        vars.push(fixed(&name, "yes".into(), "Outlet switchability"));
    }
    vars
}

fn fixed(name: &str, value: String, desc: &'static str) -> Var {
    Var {
        name: name.to_string(),
        value,
        slot: None,
        desc,
    }
}

fn render_one(model: &Model, def: &VarDef, fsd: bool) -> Option<Var> {
    def.from.iter().find_map(|from| {
        let (value, slot, label) = match *from {
            Src::Field(path) => {
                let field = mib::field_by_path(path)?;
                let value = field_text(field, model.reading(field, None)?)?;
                let source = model.source_of(field)?;
                (value, Some((field, source)), field.label)
            }
            Src::SinglePhase(path) => {
                let field = mib::field_by_path(path)?;
                let table = model.page(field.page)?.table(field.table?)?;
                let [row] = table.rows[..] else {
                    return None;
                };
                (
                    field_text(field, model.reading(field, Some(row))?)?,
                    None,
                    field.label,
                )
            }
            Src::Status => {
                let mut flags: Vec<&str> = model.status().to_vec();
                if fsd && !flags.contains(&"FSD") {
                    flags.insert(0, "FSD");
                }
                if flags.is_empty() {
                    return None;
                }
                (flags.join(" "), None, "")
            }
            Src::Alarm => {
                let alarms = crate::status::active_alarms(model);
                if alarms.is_empty() {
                    return None;
                }
                (alarms.join(" "), None, "")
            }
            Src::Fixed(value) => (value.to_string(), None, ""),
            Src::Version => (env!("CARGO_PKG_VERSION").to_string(), None, ""),
        };
        Some(Var {
            name: def.name.to_string(),
            value,
            slot,
            desc: def.desc.unwrap_or(label),
        })
    })
}

fn render_phase(model: &Model, def: &PhaseDef, vars: &mut Vec<Var>) {
    let Some(field) = mib::field_by_path(def.column) else {
        return;
    };
    let Some(table) = model
        .page(field.page)
        .and_then(|p| p.table(field.table.unwrap_or_default()))
    else {
        return;
    };
    let lines = table.rows.len() as u32;
    if lines < 2 {
        return;
    }
    let phase_to_neutral = match def.wire {
        Wire::Line => None,
        Wire::PhaseToNeutral => Some(true),
        Wire::PhaseToPhase => Some(false),
        Wire::AsSourceSays => Some(
            model
                .source_of(field)
                .is_some_and(|s| s.mib == Mib::Rfc1628),
        ),
    };
    for &row in &table.rows {
        let Some(value) = model
            .reading(field, Some(row))
            .and_then(|r| field_text(field, r))
        else {
            continue;
        };
        let phase = match phase_to_neutral {
            None => format!("L{row}"),
            Some(true) => format!("L{row}-N"),
            Some(false) => format!("L{row}-L{}", row % lines + 1),
        };
        let name = def.name.replace("{}", &phase);
        if !vars.iter().any(|v| v.name == name) {
            vars.push(fixed(&name, value, field.label));
        }
    }
}

/// A field's reading as NUT shows it: durations in whole seconds (NUT's
/// delays and runtimes are integers), everything else as [`text`].
pub fn field_text(field: &Field, reading: &Reading) -> Option<String> {
    match (field.unit, reading) {
        (Some(Unit::Second), Reading::Number { value, .. }) => Some(format!("{value:.0}")),
        _ => text(reading),
    }
}

/// A reading as NUT shows it; `None` for no reading.
pub fn text(reading: &Reading) -> Option<String> {
    Some(match reading {
        Reading::Null => return None,
        Reading::Bool(true) => "yes".to_string(),
        Reading::Bool(false) => "no".to_string(),
        Reading::Number { value, decimals } => format!("{value:.*}", usize::from(*decimals)),
        Reading::Label(label) => label.to_string(),
        Reading::UnlistedLabel(raw) => format!("unknown_{raw}"),
        Reading::Text(text) => text.to_string(),
    })
}

/// The instant commands of this UPS: its named commands, then
/// `outlet.<N>.load.on|off|cycle` for every switchable outlet.
pub fn instcmds(shape: &Shape) -> Vec<String> {
    let mut names: Vec<String> = shape
        .command_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    for outlet in &shape.outlets {
        let verbs: &[&str] = if outlet.cycle {
            &["on", "off", "cycle"]
        } else {
            &["on", "off"]
        };
        names.extend(
            verbs
                .iter()
                .map(|v| format!("outlet.{}.load.{v}", outlet.index)),
        );
    }
    names
}

/// The description of an instant command.
pub fn instcmd_desc(name: &str) -> Option<String> {
    if let Some(command) = command_by_name(name) {
        return Some(command.label.to_string());
    }
    let (index, verb) = parse_outlet_command(name)?;
    Some(match verb {
        "on" => format!("Turn on outlet {index}"),
        "off" => format!("Turn off outlet {index}"),
        _ => format!("Power cycle outlet {index}"),
    })
}

/// Whether `name` is an instant command some UPS may have (configuration
/// checks: `nut.users[].instcmds`).
pub fn is_instcmd_name(name: &str) -> bool {
    COMMANDS.iter().any(|c| c.name == name) || parse_outlet_command(name).is_some()
}

fn parse_outlet_command(name: &str) -> Option<(u32, &str)> {
    let (index, verb) = name.strip_prefix("outlet.")?.split_once(".load.")?;
    let verb = ["on", "off", "cycle"].into_iter().find(|v| *v == verb)?;
    Some((index.parse().ok()?, verb))
}

/// The README's variable list (`UPS2MQTT_BLESS=1 cargo test --test readme`).
pub fn markdown() -> String {
    let mut out = String::from("| NUT variable | From |\n|---|---|\n");
    for def in VARS {
        let from: Vec<String> = def
            .from
            .iter()
            .map(|f| match f {
                Src::Field(path) => format!("`{path}`"),
                Src::SinglePhase(path) => format!("`{path}` (single-phase)"),
                Src::Status => "the status flags (as `ups_status`)".to_string(),
                Src::Alarm => "the active alarms".to_string(),
                Src::Fixed(value) => format!("always `{value}`"),
                Src::Version => "the gateway's version".to_string(),
            })
            .collect();
        out.push_str(&format!("| `{}` | {} |\n", def.name, from.join(", else ")));
    }
    for def in PHASES {
        let phases = match def.wire {
            Wire::Line => "L1, L2, L3",
            Wire::PhaseToNeutral => "L1-N, L2-N, L3-N",
            Wire::PhaseToPhase => "L1-L2, L2-L3, L3-L1",
            Wire::AsSourceSays => "L1-N… (RFC 1628) or L1-L2, L2-L3, L3-L1",
        };
        out.push_str(&format!(
            "| `{}` | `{}` per row, 3-phase only ({phases}) |\n",
            def.name.replace("{}", "<phase>"),
            def.column
        ));
    }
    for (name, table) in PHASE_COUNTS {
        out.push_str(&format!("| `{name}` | rows of `{table}` |\n"));
    }
    out.push_str("| `outlet.count` | the number of outlets (clients such as Home Assistant's NUT integration walk `outlet.1` to `outlet.<count>`) |\n");
    for (suffix, column) in OUTLET_VARS {
        out.push_str(&format!(
            "| `outlet.<N>.{suffix}` | `{column}` of the outlet's receptacles-page row |\n"
        ));
    }
    out.push_str("| `outlet.<N>.switchable` | `yes` for every switchable outlet |\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> Vec<&'static str> {
        let mut paths = Vec::new();
        for def in VARS {
            for from in def.from {
                if let Src::Field(p) | Src::SinglePhase(p) = from {
                    paths.push(*p);
                }
            }
        }
        paths.extend(PHASES.iter().map(|p| p.column));
        paths
    }

    #[test]
    fn every_path_is_a_field_of_the_point_table() {
        for path in paths() {
            let field = mib::field_by_path(path).unwrap_or_else(|| panic!("{path}: no such field"));
            let scalar = VARS
                .iter()
                .flat_map(|d| d.from)
                .any(|f| *f == Src::Field(path));
            if scalar {
                assert!(field.table.is_none(), "{path}: F() takes page-level fields");
            }
        }
        for (_, table) in PHASE_COUNTS {
            let (page, key) = table.split_once('.').unwrap();
            assert!(
                mib::TABLES
                    .iter()
                    .any(|t| t.page.name() == page && t.key == key),
                "{table}: no such table"
            );
        }
        for kind in crate::mib::commands::OUTLET_KINDS {
            for (_, column) in OUTLET_VARS {
                let path = format!("receptacles.{}.{column}", kind.table);
                assert!(mib::field_by_path(&path).is_some(), "{path}: no such field");
            }
        }
    }

    #[test]
    fn names_are_unique_and_follow_nut_naming() {
        let mut seen = std::collections::HashSet::new();
        for def in VARS {
            assert!(seen.insert(def.name), "{} twice", def.name);
            assert!(def.name.split('.').all(|w| !w.is_empty()), "{}", def.name);
        }
    }

    #[test]
    fn outlet_commands_are_instant_commands() {
        assert!(is_instcmd_name("outlet.2.load.off"));
        assert!(is_instcmd_name("test.battery.start"));
        assert!(!is_instcmd_name("outlet.x.load.off"));
        assert!(!is_instcmd_name("rm -rf"));
        assert_eq!(
            instcmd_desc("outlet.1.load.cycle").unwrap(),
            "Power cycle outlet 1"
        );
    }

    #[test]
    fn readings_render_as_nut_text() {
        assert_eq!(
            text(&Reading::Number {
                value: 230.04,
                decimals: 1
            })
            .unwrap(),
            "230.0"
        );
        assert_eq!(
            text(&Reading::Number {
                value: 100.0,
                decimals: 0
            })
            .unwrap(),
            "100"
        );
        assert_eq!(text(&Reading::Bool(true)).unwrap(), "yes");
        assert_eq!(text(&Reading::Null), None);
    }
}
