//! The OID view of a simulated card, built from the point table.
//!
//! A [`Plan`] (one per process, shared read-only by every agent) lists every
//! instance OID the card serves, in GETNEXT order: for every field of every
//! page and every source whose MIB is enabled, one slot per row, plus the
//! system group and, with `--walk`, the walk's other variables. Each slot
//! says where its value comes from:
//! - driven by the state model: `UpsState::field_json` gives the JSON value
//!   and `ups2mqtt::pages::encode_value` (via [`wire::to_raw`]) the wire
//!   value; with a walk, the walk's raw value is served for as long as the
//!   model still reads what the walk said;
//! - writable: the last SET value, else the default;
//! - static: the default (built in, or the walk's value).
//!
//! A [`ViewCache`] (one per agent) holds the driven values and the alarm
//! table rows, recomputed only when the state's generation changes, so a
//! request costs a binary search and a clone.
//!
//! Quirks (`--quirks`): MGE input/output table cells get a trailing `.0`
//! (Q1) and RFC 1628 line voltages are served in tenths (Q2).

use crate::defaults::{self, Defaults};
use crate::layout::Layout;
use crate::snmprec::Walk;
use crate::state::alarms::Alarm;
use crate::state::{self, UpsState};
use crate::wire;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use ups2mqtt::mib::{self, Field, Mib, Page, Source};
use ups2mqtt::oid::Oid;
use ups2mqtt::snmp::Value;

/// sysUpTime.0
pub const SYS_UPTIME: &str = "1.3.6.1.2.1.1.3.0";
/// The RFC 1628 alarm table entry and its upsAlarmId column.
const ALARM_ENTRY: &str = "1.3.6.1.2.1.33.1.6.2.1";
/// MGE tables whose cells real cards serve as `column.index.0` (Q1).
const Q1_TABLES: [&str; 2] = ["1.3.6.1.4.1.705.1.6.2.1", "1.3.6.1.4.1.705.1.7.2.1"];

fn oid(text: &str) -> Oid {
    Oid::parse(text).expect("valid OID literal")
}

/// A point-table source at one row.
#[derive(Debug)]
pub struct Point {
    pub field: &'static Field,
    pub source: &'static Source,
    /// Table row, 0 for scalars.
    pub row: u32,
    path: Box<str>,
    value: PointValue,
    /// Quirk Q2: served ×10.
    tenths: bool,
}

#[derive(Debug)]
enum PointValue {
    /// Computed by the state; `walked` is the walk's raw value and what
    /// the model made of it at start.
    Driven {
        index: usize,
        fallback: Value,
        walked: Option<(Json, Value)>,
    },
    /// The last SET value, else this default.
    Writable(Value),
    Static(Value),
}

#[derive(Debug)]
enum SlotKind {
    Point(Point),
    Fixed(Value),
    Uptime,
}

#[derive(Debug)]
struct Slot {
    oid: Oid,
    kind: SlotKind,
}

/// What a plan is built from.
pub struct PlanOptions<'a> {
    pub mibs: &'a BTreeSet<Mib>,
    pub layout: Layout,
    pub quirks: bool,
    pub walk: Option<&'a Walk>,
    pub defaults: &'a Defaults,
    /// A state as every agent starts (drivenness, walk comparisons).
    pub template: &'a UpsState,
}

/// Every OID a card serves and where its value comes from.
#[derive(Debug)]
pub struct Plan {
    slots: Vec<Slot>,
    driven: Vec<usize>,
    alarm_table: bool,
    alarm_descr: Option<&'static Source>,
    alarm_time: Option<&'static Source>,
}

impl Plan {
    pub fn build(options: &PlanOptions<'_>) -> Plan {
        let mut slots: BTreeMap<Oid, SlotKind> = BTreeMap::new();
        let mut driven_count = 0;
        for field in mib::FIELDS.iter().filter(|f| !is_alarm_row(f)) {
            let path = field.path();
            let rows = defaults::rows_of(field, &options.layout);
            for &row in &rows {
                // MGE's phase voltage serves `voltage` on one line and
                // `voltage_phase_to_phase` on three: one point per OID.
                for source in field
                    .sources
                    .iter()
                    .filter(|s| options.mibs.contains(&s.mib) && s.lines.fits(rows.len()))
                {
                    let point = point(options, field, source, row, &path, &mut driven_count);
                    let q1 = row > 0 && trailing_zero(options, source);
                    slots.insert(defaults::instance(source, row, q1), SlotKind::Point(point));
                }
            }
        }
        for (oid, value) in fixed_entries(options) {
            slots.entry(oid).or_insert(SlotKind::Fixed(value));
        }
        slots.insert(self::oid(SYS_UPTIME), SlotKind::Uptime);
        let slots: Vec<Slot> = slots
            .into_iter()
            .map(|(oid, kind)| Slot { oid, kind })
            .collect();
        let driven = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                matches!(
                    &s.kind,
                    SlotKind::Point(Point {
                        value: PointValue::Driven { .. },
                        ..
                    })
                )
            })
            .map(|(i, _)| i)
            .collect();
        let alarm_source = |path| mib::field_by_path(path).map(|f| &f.sources[0]);
        Plan {
            slots,
            driven,
            alarm_table: options.mibs.contains(&Mib::Rfc1628),
            alarm_descr: alarm_source("alarms.active.alarm"),
            alarm_time: alarm_source("alarms.active.since"),
        }
    }

    /// Number of OIDs served (alarm rows not counted).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The point served at exactly `oid` (for SET).
    pub fn point_at(&self, oid: &Oid) -> Option<&Point> {
        let i = self.slots.binary_search_by(|s| s.oid.cmp(oid)).ok()?;
        match &self.slots[i].kind {
            SlotKind::Point(point) => Some(point),
            _ => None,
        }
    }

    /// True when `oid` is served as a fixed (walk, system) value or the
    /// uptime: such objects exist but are never writable.
    pub fn serves(&self, oid: &Oid) -> bool {
        self.slots.binary_search_by(|s| s.oid.cmp(oid)).is_ok()
    }
}

fn is_alarm_row(field: &Field) -> bool {
    field.page == Page::Alarms && field.table.is_some()
}

fn trailing_zero(options: &PlanOptions<'_>, source: &Source) -> bool {
    let column = source.object_oid();
    let quirky_table = || Q1_TABLES.iter().any(|t| column.starts_with(&oid(t)));
    let walk_says = || {
        options.walk.is_some_and(|w| {
            w.range(column.clone()..)
                .take_while(|(o, _)| o.starts_with(&column))
                .any(|(o, _)| matches!(o.suffix_after(&column), Some([_, 0])))
        })
    };
    (options.quirks && quirky_table()) || walk_says()
}

fn point(
    options: &PlanOptions<'_>,
    field: &'static Field,
    source: &'static Source,
    row: u32,
    path: &str,
    driven_count: &mut usize,
) -> Point {
    let default = options
        .defaults
        .get_for(source, row)
        .cloned()
        .unwrap_or(Value::Null);
    let value = match options.template.field_json(path, source, row) {
        Some(initial) => {
            let walked = options
                .walk
                .and_then(|w| defaults::walk_value(w, source, row))
                .map(|raw| (initial, raw));
            *driven_count += 1;
            PointValue::Driven {
                index: *driven_count - 1,
                fallback: default,
                walked,
            }
        }
        None if state::is_writable(source) => PointValue::Writable(default),
        None => PointValue::Static(default),
    };
    Point {
        field,
        source,
        row,
        path: path.into(),
        value,
        tenths: options.quirks && source.tenths_above.is_some(),
    }
}

/// The system group and the walk's variables outside the point table.
fn fixed_entries(options: &PlanOptions<'_>) -> Vec<(Oid, Value)> {
    // Walk entries under a disabled MIB are not served.
    let disabled: Vec<Oid> = Mib::ALL
        .into_iter()
        .filter(|m| !options.mibs.contains(m))
        .map(|m| oid(m.root()))
        .collect();
    let alarm_rows = oid("1.3.6.1.2.1.33.1.6.2");
    let mut entries: Vec<(Oid, Value)> = match options.walk {
        Some(walk) => walk
            .iter()
            .filter(|(o, _)| !disabled.iter().any(|root| o.starts_with(root)))
            .filter(|(o, _)| !(options.mibs.contains(&Mib::Rfc1628) && o.starts_with(&alarm_rows)))
            .map(|(o, v)| (o.clone(), v.clone()))
            .collect(),
        None => Vec::new(),
    };
    let names: Vec<&str> = options.mibs.iter().map(|m| m.name()).collect();
    let object_id = if options.mibs.contains(&Mib::Mge) {
        "1.3.6.1.4.1.705.1"
    } else if options.mibs.contains(&Mib::PowerNet) {
        "1.3.6.1.4.1.318.1.3.27"
    } else {
        "1.3.6.1.2.1.33"
    };
    let text = |s: String| Value::OctetString(s.into_bytes());
    entries.extend([
        (
            oid("1.3.6.1.2.1.1.1.0"),
            text(format!(
                "ups2mqtt-sim simulated UPS network card ({})",
                names.join(", ")
            )),
        ),
        (oid("1.3.6.1.2.1.1.2.0"), Value::oid(oid(object_id))),
        (oid("1.3.6.1.2.1.1.4.0"), text("ups2mqtt".to_string())),
        (oid("1.3.6.1.2.1.1.5.0"), text("ups2mqtt-sim".to_string())),
        (oid("1.3.6.1.2.1.1.6.0"), text("simulation".to_string())),
        (oid("1.3.6.1.2.1.1.7.0"), Value::Integer(72)),
    ]);
    // The walk's own system group wins over ours (first entry kept).
    let mut seen = BTreeSet::new();
    entries.retain(|(o, _)| seen.insert(o.clone()));
    entries
}

/// One agent's computed values: the driven points and the alarm rows.
#[derive(Debug, Default)]
pub struct ViewCache {
    generation: Option<u64>,
    driven: Vec<Value>,
    alarms: Vec<(Oid, Value)>,
}

impl ViewCache {
    /// Recomputes the driven values when the state changed.
    pub fn refresh(&mut self, plan: &Plan, state: &UpsState) {
        if self.generation == Some(state.generation()) {
            return;
        }
        self.generation = Some(state.generation());
        self.driven.resize(plan.driven.len(), Value::Null);
        for &i in &plan.driven {
            let SlotKind::Point(point) = &plan.slots[i].kind else {
                continue;
            };
            let PointValue::Driven {
                index,
                fallback,
                walked,
            } = &point.value
            else {
                continue;
            };
            self.driven[*index] = driven_value(point, state, fallback, walked.as_ref());
        }
        self.alarms = if plan.alarm_table {
            alarm_rows(plan, state)
        } else {
            Vec::new()
        };
    }
}

fn driven_value(
    point: &Point,
    state: &UpsState,
    fallback: &Value,
    walked: Option<&(Json, Value)>,
) -> Value {
    let Some(json) = state.field_json(&point.path, point.source, point.row) else {
        return fallback.clone();
    };
    if let Some((initial, raw)) = walked {
        if *initial == json {
            return raw.clone();
        }
    }
    match wire::to_raw(point.source, &json) {
        Ok(raw) if point.tenths => wire::scaled(raw, 10),
        Ok(raw) => raw,
        Err(error) => {
            tracing::debug!(%error, path = %point.path, "driven value does not encode; serving the default");
            fallback.clone()
        }
    }
}

/// upsAlarmId / upsAlarmDescr / upsAlarmTime cells, in OID order.
fn alarm_rows(plan: &Plan, state: &UpsState) -> Vec<(Oid, Value)> {
    let entry = oid(ALARM_ENTRY);
    let rows = state.alarms().rows();
    (1..=3)
        .flat_map(|column| {
            let column = entry.child(column);
            rows.iter()
                .filter_map(move |alarm| plan.alarm_cell(&column, alarm))
        })
        .collect()
}

impl Plan {
    /// The cell of the upsAlarmTable `column` (upsAlarmId, upsAlarmDescr or
    /// upsAlarmTime) for `alarm`, whether or not the alarm is still in the
    /// table (traps about removed alarms carry them too).
    pub fn alarm_cell(&self, column: &Oid, alarm: &Alarm) -> Option<(Oid, Value)> {
        let value = match column.suffix_after(&oid(ALARM_ENTRY))? {
            [1] => Value::Integer(i64::from(alarm.id)),
            [2] => {
                let name = mib::alarms::WELL_KNOWN_ALARMS
                    .iter()
                    .find(|w| w.arc == alarm.arc)
                    .map(|w| w.name);
                let json = name.map_or_else(
                    || {
                        json!(format!(
                            "{}.{}",
                            mib::alarms::WELL_KNOWN_ALARMS_ROOT,
                            alarm.arc
                        ))
                    },
                    |n| json!(n),
                );
                wire::to_raw(self.alarm_descr?, &json).ok()?
            }
            [3] => wire::to_raw(self.alarm_time?, &json!(f64::from(alarm.since) / 100.0)).ok()?,
            _ => return None,
        };
        Some((column.child(alarm.id), value))
    }
}

/// A plan, a state and its cache: what one agent answers from.
pub struct View<'a> {
    pub plan: &'a Plan,
    pub state: &'a UpsState,
    pub cache: &'a ViewCache,
}

impl View<'_> {
    /// The value served at exactly `oid`.
    pub fn get(&self, oid: &Oid) -> Option<Value> {
        if let Ok(i) = self.plan.slots.binary_search_by(|s| s.oid.cmp(oid)) {
            return Some(self.value(&self.plan.slots[i].kind));
        }
        let i = self
            .cache
            .alarms
            .binary_search_by(|(o, _)| o.cmp(oid))
            .ok()?;
        Some(self.cache.alarms[i].1.clone())
    }

    /// The first variable after `oid` in GETNEXT order.
    pub fn next(&self, oid: &Oid) -> Option<(Oid, Value)> {
        let slots = &self.plan.slots;
        let s = slots.partition_point(|slot| slot.oid <= *oid);
        let a = self.cache.alarms.partition_point(|(o, _)| o <= oid);
        match (slots.get(s), self.cache.alarms.get(a)) {
            (Some(slot), Some((alarm, value))) if *alarm < slot.oid => {
                Some((alarm.clone(), value.clone()))
            }
            (Some(slot), _) => Some((slot.oid.clone(), self.value(&slot.kind))),
            (None, Some((alarm, value))) => Some((alarm.clone(), value.clone())),
            (None, None) => None,
        }
    }

    /// True when the object (the OID without its last arc) has instances:
    /// noSuchInstance rather than noSuchObject.
    pub fn object_exists(&self, oid: &Oid) -> bool {
        let Some(object) = oid.parent() else {
            return false;
        };
        self.next(&object)
            .is_some_and(|(next, _)| next.starts_with(&object))
    }

    fn value(&self, kind: &SlotKind) -> Value {
        let point = match kind {
            SlotKind::Uptime => return Value::TimeTicks(self.state.sys_uptime()),
            SlotKind::Fixed(value) => return value.clone(),
            SlotKind::Point(point) => point,
        };
        if let Some(pinned) = self.state.pinned(point.source.object, point.row) {
            return pinned.clone();
        }
        match &point.value {
            PointValue::Driven { index, .. } => self.cache.driven[*index].clone(),
            PointValue::Writable(default) => self
                .state
                .stored_raw(point.source.object, point.row)
                .unwrap_or(default)
                .clone(),
            PointValue::Static(value) => value.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
