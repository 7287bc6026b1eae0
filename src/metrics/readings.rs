//! The UPS readings of a scrape, family by family (the format wants a
//! family's samples together), UPS by UPS within a family.
//!
//! This is the hot path of a scrape: 500 UPSes are half a million samples.
//! Every line is copied together from pieces made before the loop (the
//! family's name and its states' `,state="..."} ` from [`families`], the
//! UPS's `{ups="..."` once per scrape), the value written without float
//! formatting ([`text::fixed`]); nothing is allocated per sample, and the
//! text is handed on in pieces ([`super::CHUNK`]) that stay in the CPU's
//! cache. Values come from the UPS models the tasks published; nothing
//! here polls.

use super::families::{self, Family};
use super::text::{self, header};
use crate::hub::UpsState;
use crate::mib::{Field, Source};
use crate::model::{Model, Scalar, TableData};
use crate::pages::Reading;
use std::sync::Arc;

/// Where a UPS keeps one field's readings.
#[derive(Clone, Copy)]
enum Slot<'a> {
    Scalar(&'a Scalar),
    Column(&'a TableData, usize),
}

/// One UPS as the loop reads it.
struct Ups<'a> {
    /// `{ups="<id>"`: how each of its samples begins its label set.
    labels: String,
    /// Its fields with a family, by family position ([`families::all`]).
    slots: Vec<(usize, Slot<'a>)>,
}

impl<'a> Ups<'a> {
    fn of(id: &str, model: &'a Model) -> Ups<'a> {
        let mut labels = String::with_capacity(id.len() + 8);
        text::label(&mut labels, '{', "ups", id);
        let mut slots = Vec::new();
        for page in model.pages() {
            for scalar in &page.scalars {
                if let Some(at) = family_at(scalar.field) {
                    slots.push((at, Slot::Scalar(scalar)));
                }
            }
            for table in &page.tables {
                for (column, data) in table.columns.iter().enumerate() {
                    if let Some(at) = family_at(data.field) {
                        slots.push((at, Slot::Column(table, column)));
                    }
                }
            }
        }
        // Nearly in order already (pages, and their scalars and columns,
        // follow the point table: a UPS with every field has some 400
        // pairs out of order), so an insertion sort, which also keeps the
        // binary free of another sort.
        for end in 1..slots.len() {
            let mut at = end;
            while at > 0 && slots[at - 1].0 > slots[at].0 {
                slots.swap(at - 1, at);
                at -= 1;
            }
        }
        Ups { labels, slots }
    }
}

/// The position of a field's family in [`families::all`], if it has one
/// (texts have none).
fn family_at(field: &Field) -> Option<usize> {
    let at = families::index_of(field)?;
    families::all()[at].as_ref().map(|_| at)
}

/// Every reading of every UPS; `flush` is called after each UPS's samples
/// of a family (it may hand `out` on and clear it).
pub fn render(
    out: &mut String,
    states: &[(&str, Arc<UpsState>)],
    flush: &mut dyn FnMut(&mut String),
) {
    let all = families::all();
    let upses: Vec<Ups> = states
        .iter()
        .map(|(id, state)| Ups::of(id, &state.model))
        .collect();
    // Only the families some UPS has (a few hundred of the table's).
    let mut present = vec![false; all.len()];
    for ups in &upses {
        for (at, _) in &ups.slots {
            present[*at] = true;
        }
    }
    // Each UPS's next slot: its slots and the families are in one order.
    let mut next = vec![0usize; upses.len()];
    let mut line = String::with_capacity(256);
    for (at, family) in all.iter().enumerate() {
        let Some(family) = family.as_ref().filter(|_| present[at]) else {
            continue;
        };
        header(out, &family.name, family.kind, &family.help);
        for (ups, next) in upses.iter().zip(&mut next) {
            let Some(&(slot_at, slot)) = ups.slots.get(*next) else {
                continue;
            };
            if slot_at != at {
                continue;
            }
            *next += 1;
            samples(out, &mut line, family, &ups.labels, slot);
            flush(out);
        }
    }
}

/// The samples of one UPS's field; `line` is scratch space for the start
/// of a line (name and labels) that several samples share.
fn samples(out: &mut String, line: &mut String, family: &Family, labels: &str, slot: Slot) {
    match slot {
        Slot::Scalar(scalar) => {
            line.clear();
            line.push_str(&family.name);
            line.push_str(labels);
            reading(out, line, family, scalar.source, &scalar.value);
        }
        Slot::Column(table, column) => {
            let column = &table.columns[column];
            let row_label = family.row.unwrap_or("row");
            for (row, cell) in table.rows.iter().zip(&column.cells) {
                let Some(cell) = cell else { continue };
                line.clear();
                line.push_str(&family.name);
                line.push_str(labels);
                line.push(',');
                line.push_str(row_label);
                line.push_str("=\"");
                text::integer(line, i64::from(*row));
                line.push('"');
                reading(out, line, family, column.source, cell);
            }
        }
    }
}

/// The samples of one reading (none for a null or a text); `line` is the
/// name and the labels so far, without the closing brace.
fn reading(out: &mut String, line: &str, family: &Family, source: &Source, value: &Reading) {
    match value {
        Reading::Number { value, decimals } => {
            let (value, decimals) = family.scale.apply(*value, u32::from(*decimals));
            out.push_str(line);
            out.push_str("} ");
            text::fixed(out, value, decimals);
            out.push('\n');
        }
        Reading::Bool(set) => {
            out.push_str(line);
            out.push_str(if *set { "} 1\n" } else { "} 0\n" });
        }
        Reading::Label(current) => {
            let states = family.states_of(source);
            if !states.iter().any(|state| state.label == current.as_str()) {
                other_state(out, line, current);
            }
            for state in states {
                out.push_str(line);
                out.push_str(&state.suffix);
                out.push_str(if state.label == current.as_str() {
                    "1\n"
                } else {
                    "0\n"
                });
            }
        }
        Reading::UnlistedLabel(raw) => {
            for state in family.states_of(source) {
                out.push_str(line);
                out.push_str(&state.suffix);
                out.push_str("0\n");
            }
            other_state(out, line, &format!("unknown_{raw}"));
        }
        Reading::Null | Reading::Text(_) => {}
    }
}

/// The sample of a current state the source does not list (an alarm's
/// name, an unknown value): 1.
fn other_state(out: &mut String, line: &str, state: &str) {
    out.push_str(line);
    out.push_str(&text::state_suffix(state));
    out.push_str("1\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mib::Mib;
    use crate::oid::Oid;
    use crate::pages::{ScaleOverrides, Snapshot};
    use crate::snmp::Value;

    /// An RFC 1628 card: upsEstimatedChargeRemaining 57 (percent),
    /// upsInputVoltage 230 and 207 V on input lines 1 and 2, and
    /// upsBatteryStatus batteryNormal(2) (values and meanings from the MIB).
    fn rfc1628_card() -> UpsState {
        let mut data = Snapshot::new();
        let mut set = |oid: &str, value: i64| {
            data.insert(Oid::parse(oid).unwrap(), Value::Integer(value));
        };
        set("1.3.6.1.2.1.33.1.2.4.0", 57);
        set("1.3.6.1.2.1.33.1.3.2.0", 2);
        set("1.3.6.1.2.1.33.1.3.3.1.3.1", 230);
        set("1.3.6.1.2.1.33.1.3.3.1.3.2", 207);
        set("1.3.6.1.2.1.33.1.2.1.0", 2);
        let model = Model::from_snapshot([Mib::Rfc1628].into(), &data, &ScaleOverrides::new());
        UpsState {
            online: true,
            model,
            health: Default::default(),
            rtt: None,
        }
    }

    fn rendered(states: &[(&str, Arc<UpsState>)]) -> (String, usize) {
        let (mut out, mut pieces) = (String::new(), 0);
        let mut text = String::new();
        render(&mut out, states, &mut |out: &mut String| {
            text.push_str(out);
            out.clear();
            pieces += 1;
        });
        text.push_str(&out);
        (text, pieces)
    }

    #[test]
    fn readings_are_samples_with_their_labels() {
        let card = Arc::new(rfc1628_card());
        let (text, _) = rendered(&[("rack\"1", card.clone()), ("rack2", card)]);
        let lines: Vec<&str> = text.lines().collect();
        for expected in [
            "ups2mqtt_battery_charge_ratio{ups=\"rack\\\"1\"} 0.57",
            "ups2mqtt_battery_charge_ratio{ups=\"rack2\"} 0.57",
            "ups2mqtt_input_lines_voltage_volts{ups=\"rack2\",phase=\"1\"} 230",
            "ups2mqtt_input_lines_voltage_volts{ups=\"rack2\",phase=\"2\"} 207",
            "ups2mqtt_battery_status{ups=\"rack2\",state=\"normal\"} 1",
            "ups2mqtt_battery_status{ups=\"rack2\",state=\"low\"} 0",
        ] {
            assert!(lines.contains(&expected), "{expected} in\n{text}");
        }
        let status: Vec<&&str> = lines
            .iter()
            .filter(|l| l.starts_with("ups2mqtt_battery_status{ups=\"rack2\""))
            .collect();
        assert_eq!(status.len(), 4, "one sample per state the MIB lists");
        // A family's samples follow its header, UPS after UPS.
        let header = lines
            .iter()
            .position(|l| *l == "# TYPE ups2mqtt_battery_charge_ratio gauge")
            .unwrap();
        assert!(lines[header + 1].starts_with("ups2mqtt_battery_charge_ratio{ups=\"rack\\\"1\"}"));
        assert!(lines[header + 2].starts_with("ups2mqtt_battery_charge_ratio{ups=\"rack2\"}"));
        let headers = lines.iter().filter(|l| l.starts_with("# TYPE ")).count();
        let families: std::collections::BTreeSet<&str> = lines
            .iter()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('{').next().unwrap())
            .collect();
        assert_eq!(headers, families.len(), "one header per family");
    }

    /// A card with every field of the point table (its first source), in
    /// table rows 1 and 2.
    fn every_field_card() -> UpsState {
        use crate::mib::{Decode, FIELDS};
        let mut data = Snapshot::new();
        for field in FIELDS {
            let source = &field.sources[0];
            let value = match source.decode {
                Decode::Text => Value::OctetString(b"text".to_vec()),
                Decode::Number { .. } => Value::Integer(2),
                Decode::Enum(labels) => Value::Integer(labels[0].0),
                Decode::Flag { on, .. } => Value::Integer(on),
                _ => Value::oid(Oid::parse("1.3.6.1.2.1.33.1.6.3.2").unwrap()),
            };
            let rows: &[u32] = if field.table.is_some() { &[1, 2] } else { &[0] };
            for &row in rows {
                data.insert(source.object_oid().child(row), value.clone());
            }
        }
        UpsState {
            online: true,
            model: Model::from_snapshot(Mib::ALL.into(), &data, &ScaleOverrides::new()),
            health: Default::default(),
            rtt: None,
        }
    }

    #[test]
    fn every_field_of_every_ups_is_under_its_family() {
        let card = Arc::new(every_field_card());
        let (text, _) = rendered(&[("a", card.clone()), ("b", card.clone())]);
        // Each sample follows its own family's header.
        let mut family = "";
        let mut seen = std::collections::BTreeSet::new();
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("# TYPE ") {
                family = name.split(' ').next().unwrap();
            } else if !line.starts_with('#') {
                assert!(
                    line.starts_with(&format!("{family}{{")),
                    "{line} under {family}"
                );
                let ups = line
                    .split("ups=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                seen.insert((family, ups));
            }
        }
        // Every field with a non-null reading has its samples, for both.
        let mut expected = std::collections::BTreeSet::new();
        for page in card.model.pages() {
            let scalars = page.scalars.iter().map(|s| (s.field, s.value.is_null()));
            let columns = page.tables.iter().flat_map(|t| t.columns.iter()).map(|c| {
                (
                    c.field,
                    c.cells
                        .iter()
                        .all(|c| c.as_ref().is_none_or(Reading::is_null)),
                )
            });
            for (field, null) in scalars.chain(columns) {
                match families::of(field) {
                    Some(f)
                        if !null
                            && !matches!(page.reading(field, None), Some(Reading::Text(_))) =>
                    {
                        expected.insert((f.name.as_str(), "a"));
                        expected.insert((f.name.as_str(), "b"));
                    }
                    _ => {}
                }
            }
        }
        assert!(expected.len() > 400, "{}", expected.len());
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_scrape_is_handed_on_after_each_ups() {
        let card = Arc::new(rfc1628_card());
        let upses: Vec<String> = (0..50).map(|i| format!("ups{i}")).collect();
        let states: Vec<(&str, Arc<UpsState>)> =
            upses.iter().map(|id| (id.as_str(), card.clone())).collect();
        let (text, pieces) = rendered(&states);
        assert!(text.lines().count() > 50 * 8, "{text}");
        assert!(pieces >= 50 * 4, "{pieces} hand-overs");
    }
}
