//! Named UPS commands (NUT's vocabulary: `test.battery.start`, `load.off`,
//! ...) as data: each is a list of ways to do it, one per MIB, tried in
//! order; the first way whose point the UPS really serves is used. The
//! outlet kinds say which control cells switch an outlet.

use super::{Access, Decode, Legal, Source};

/// One way to carry a command out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// Write a field (by path) with an enum label or a number, through the
    /// field's source that has that label (or is numeric).
    Set { path: &'static str, arg: Arg },
    /// RFC 1628 test: `upsTestId` = `upsWellKnownTests.N`, with the current
    /// `upsTestSpinLock` in the same PDU (quirk Q8).
    RfcTest { test: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    Label(&'static str),
    Number(i64),
}

/// A named command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamedCommand {
    pub name: &'static str,
    pub label: &'static str,
    pub ways: &'static [Way],
}

/// `upsWellKnownTests` (1.3.6.1.2.1.33.1.7.7.N).
pub const RFC1628_WELL_KNOWN_TESTS: &str = "1.3.6.1.2.1.33.1.7.7";
/// `upsTestId` and `upsTestSpinLock` (scalars).
pub const RFC1628_TEST_ID: &str = "1.3.6.1.2.1.33.1.7.1";
pub const RFC1628_TEST_SPIN_LOCK: &str = "1.3.6.1.2.1.33.1.7.2";
/// `upsWellKnownTests.2`, `testAbortTestInProgress`: the one test that
/// starts nothing.
pub const RFC1628_ABORT_TEST: u32 = 2;
/// The test-page fields whose write starts a battery test, a self test or
/// a runtime calibration: each discharges the battery, so on a UPS that
/// is already on battery it can drop the load (issue 17: dangerous then).
pub const TEST_STARTS: &[&str] = &["test.start", "test.start_diagnostics", "test.calibration"];

const fn set(path: &'static str, label: &'static str) -> Way {
    Way::Set {
        path,
        arg: Arg::Label(label),
    }
}

const fn set_number(path: &'static str, number: i64) -> Way {
    Way::Set {
        path,
        arg: Arg::Number(number),
    }
}

#[rustfmt::skip]
pub static COMMANDS: &[NamedCommand] = &[
    NamedCommand { name: "test.battery.start", label: "Start battery test", ways: &[set("test.start", "test"), set("test.start", "start"), Way::RfcTest { test: 4 }] },
    NamedCommand { name: "test.battery.start.deep", label: "Start deep battery test", ways: &[Way::RfcTest { test: 5 }] },
    NamedCommand { name: "test.battery.stop", label: "Stop battery test", ways: &[Way::RfcTest { test: RFC1628_ABORT_TEST }] },
    NamedCommand { name: "test.system.start", label: "Start self test", ways: &[set("test.start_diagnostics", "start"), Way::RfcTest { test: 3 }] },
    NamedCommand { name: "calibrate.start", label: "Start runtime calibration", ways: &[set("test.calibration", "perform_calibration")] },
    NamedCommand { name: "calibrate.stop", label: "Stop runtime calibration", ways: &[set("test.calibration", "cancel_calibration")] },
    NamedCommand { name: "beeper.enable", label: "Enable beeper", ways: &[set("config.beeper", "enabled")] },
    NamedCommand { name: "beeper.disable", label: "Disable beeper", ways: &[set("config.beeper", "disabled")] },
    NamedCommand { name: "beeper.mute", label: "Mute beeper", ways: &[set("config.beeper", "muted")] },
    NamedCommand { name: "load.off", label: "Turn load off", ways: &[set("control.ups_off", "turn_ups_off"), set_number("control.shutdown_after_delay", 0)] },
    NamedCommand { name: "load.on", label: "Turn load on", ways: &[set("control.ups_on", "turn_on_ups"), set_number("control.startup_after_delay", 0)] },
    NamedCommand { name: "shutdown.return", label: "Shut down, return with mains", ways: &[set("control.conserve_battery", "turn_off_ups_to_conserve_battery")] },
    NamedCommand { name: "shutdown.stayoff", label: "Shut down gracefully, stay off", ways: &[set("control.ups_off", "turn_ups_off_gracefully")] },
    NamedCommand { name: "shutdown.reboot", label: "Reboot", ways: &[set("control.reboot", "reboot_shutdown_ups"), set_number("control.reboot_with_duration", 10)] },
    NamedCommand { name: "bypass.start", label: "Switch to bypass", ways: &[set("control.bypass_switch", "switch_to_bypass")] },
    NamedCommand { name: "bypass.stop", label: "Leave bypass", ways: &[set("control.bypass_switch", "switch_out_of_bypass")] },
];

pub fn command_by_name(name: &str) -> Option<&'static NamedCommand> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// The raw value a writable source is set to for a command's argument, if
/// it takes it (a legal label; a number within range).
pub fn raw_of(source: &Source, arg: Arg) -> Option<i64> {
    let Access::ReadWrite(legal) = source.access else {
        return None;
    };
    match (arg, source.decode, legal) {
        (Arg::Label(label), Decode::Enum(_), Legal::AnyLabel) => source.decode.raw_of_label(label),
        (Arg::Label(label), Decode::Enum(_), Legal::Labels(raws)) => source
            .decode
            .raw_of_label(label)
            .filter(|raw| raws.contains(raw)),
        (Arg::Number(n), Decode::Number { scale }, Legal::Range { min, max }) => {
            let x = n as f64;
            (min..=max).contains(&x).then(|| (x / scale).round() as i64)
        }
        _ => None,
    }
}

/// One kind of switchable outlet: `outlet.<index>.load.on|off|cycle`
/// writes a label into a cell of its control table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutletKind {
    /// Its table on the receptacles page (state, name).
    pub table: &'static str,
    /// Its table on the control page.
    pub control: &'static str,
    /// (control column, label written) for on, off and cycle.
    pub on: (&'static str, &'static str),
    pub off: (&'static str, &'static str),
    pub cycle: (&'static str, &'static str),
}

impl OutletKind {
    /// The (control column, label) of a verb: `on`, `off` or `cycle`.
    pub fn action(&self, verb: &str) -> Option<(&'static str, &'static str)> {
        match verb {
            "on" => Some(self.on),
            "off" => Some(self.off),
            "cycle" => Some(self.cycle),
            _ => None,
        }
    }
}

/// The outlet kinds, in the order an index is resolved: a PowerNet outlet
/// group first, then an MGE receptacle (a card with both, numbered alike,
/// switches the outlet group).
pub static OUTLET_KINDS: &[OutletKind] = &[
    OutletKind {
        table: "outlet_groups",
        control: "outlet_groups",
        on: ("command", "immediate_on"),
        off: ("command", "immediate_off"),
        cycle: ("command", "immediate_reboot"),
    },
    OutletKind {
        table: "receptacles",
        control: "receptacles",
        on: ("on", "start"),
        off: ("off", "start"),
        cycle: ("toggle", "start"),
    },
];

#[cfg(test)]
mod tests {
    use super::super::{Decode, field_by_path};
    use super::*;

    #[test]
    fn every_way_names_a_writable_field_that_takes_its_argument() {
        for command in COMMANDS {
            assert!(!command.ways.is_empty(), "{}", command.name);
            for way in command.ways {
                let Way::Set { path, arg } = way else {
                    continue;
                };
                let field = field_by_path(path)
                    .unwrap_or_else(|| panic!("{}: no field {path}", command.name));
                let fits = field.sources.iter().filter(|s| s.is_writable()).any(|s| {
                    match (arg, s.decode) {
                        (Arg::Label(label), Decode::Enum(_)) => {
                            s.decode.raw_of_label(label).is_some()
                        }
                        (Arg::Number(_), Decode::Number { .. }) => true,
                        _ => false,
                    }
                });
                assert!(fits, "{}: {path} takes no {arg:?}", command.name);
            }
        }
        assert!(command_by_name("test.battery.start").is_some());
    }
}
