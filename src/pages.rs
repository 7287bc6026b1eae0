//! Raw varbinds → typed readings, driven by the point table.
//!
//! This module owns the decoding rules of one cell every consumer sees:
//! scaling to SI, enum labels, yes/no flags as booleans, sentinels as
//! `null`, table cells with a trailing `.0` (quirk Q1), tenths detected
//! where a card ignores its MIB (quirk Q2), and the inverse (published
//! value → wire value) for SETs. Which source serves a field, which rows
//! a table has and "a page with no data is absent" are the per-UPS
//! model's ([`crate::model`]); [`decode_page`] renders its JSON for the
//! probe and tests. It knows nothing of sockets: its input is the raw
//! [`Cells`] of a read (a [`Snapshot`] of whatever a walk returned).

use crate::mib::{self, Decode, Field, Page, Source, Syntax};
use crate::oid::Oid;
use crate::snmp::Value;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashMap};

/// Everything one read of an agent returned, by instance OID.
pub type Snapshot = BTreeMap<Oid, Value>;

/// What a page is decoded from: the raw cells of a source, whatever read
/// them (a walk's [`Snapshot`], or the values a GET of a page's served
/// cells returned, see [`crate::model::ServedValues`]).
pub trait Cells {
    /// The raw value of a page-level source (`object.0`, or the fixed row
    /// its index rule names), if the agent sent it.
    fn scalar_cell(&self, source: &Source) -> Option<&Value>;

    /// All cells of one column source, by row index (ascending, one per
    /// row; a row served twice, `.<row>` and `.<row>.0`, keeps the cell
    /// last in OID order).
    fn column_cells(&self, source: &Source) -> Vec<(u32, &Value)>;
}

impl Cells for Snapshot {
    fn scalar_cell(&self, source: &Source) -> Option<&Value> {
        scalar_cell(source, self)
    }

    fn column_cells(&self, source: &Source) -> Vec<(u32, &Value)> {
        column_cells(source, self)
    }
}

/// Per-object raw scale overrides from the config (`upsInputVoltage = 0.1`),
/// for cards that ignore their MIB's units.
pub type ScaleOverrides = HashMap<String, f64>;

/// One decoded page as JSON, and what was noticed while decoding it (the
/// probe, the simulator and tests; the gateway keeps the typed
/// [`crate::model::Model`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PageOutcome {
    pub json: Map<String, Json>,
    /// Which source (index into the field's `sources`) supplied each field:
    /// `key` for page fields, `table.key` for columns.
    pub provenance: BTreeMap<String, usize>,
    /// Quirks applied, for the UPS's health topic and the log.
    pub notes: Vec<String>,
}

/// Decodes one page from a snapshot; `None` when the agent has no data for
/// any of its fields (the page is then not published at all).
pub fn decode_page(page: Page, data: &Snapshot, overrides: &ScaleOverrides) -> Option<PageOutcome> {
    let mut notes = Vec::new();
    let decoded = crate::model::PageData::decode(page, data, overrides, None, &mut notes)?;
    Some(PageOutcome {
        json: decoded.to_json(),
        provenance: decoded.provenance(),
        notes,
    })
}

/// Decodes every page that has data.
pub fn decode_all(
    pages: &[Page],
    data: &Snapshot,
    overrides: &ScaleOverrides,
) -> BTreeMap<Page, PageOutcome> {
    pages
        .iter()
        .filter_map(|&page| decode_page(page, data, overrides).map(|o| (page, o)))
        .collect()
}

/// One reading in published units: what a cell of a page holds.
///
/// Typed so that the poll path never goes through JSON text; rendered to
/// JSON ([`Reading::to_json`]) only when a page is published. 16 bytes
/// (thin pointers for labels and texts): a UPS keeps several hundred.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// The object answered with "no reading" (a sentinel, 0.0, a value the
    /// card marks invalid).
    Null,
    Bool(bool),
    /// A number rounded to `decimals` places (0: an integer in JSON).
    Number {
        value: f64,
        decimals: u8,
    },
    /// An enum label, or a well-known alarm's name.
    Label(Label),
    /// An enum value the MIB does not list, published as `unknown_<n>`.
    UnlistedLabel(i64),
    Text(Box<String>),
}

/// A label of the point table's static tables, by a thin reference to the
/// table's own text. Equal when the texts are.
#[derive(Clone, Copy)]
pub struct Label(&'static &'static str);

impl Label {
    pub const fn new(text: &'static &'static str) -> Label {
        Label(text)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for Label {
    type Target = str;

    fn deref(&self) -> &str {
        self.0
    }
}

impl PartialEq for Label {
    fn eq(&self, other: &Label) -> bool {
        *self.0 == *other.0
    }
}

impl std::fmt::Debug for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(*self.0, f)
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Reading {
    /// A text reading.
    pub fn text(text: impl Into<String>) -> Reading {
        Reading::Text(Box::new(text.into()))
    }
}

impl Reading {
    pub fn is_null(&self) -> bool {
        matches!(self, Reading::Null)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Reading::Number { value, .. } => Some(*value),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Reading::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A label or a text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Reading::Label(label) => Some(label),
            Reading::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The JSON a page publishes for this reading.
    pub fn to_json(&self) -> Json {
        match self {
            Reading::Null => Json::Null,
            Reading::Bool(b) => Json::Bool(*b),
            Reading::Number { value, decimals } => rounded(*value, u32::from(*decimals)),
            Reading::Label(label) => Json::String(label.to_string()),
            Reading::UnlistedLabel(raw) => Json::String(format!("unknown_{raw}")),
            Reading::Text(text) => Json::String(text.to_string()),
        }
    }

    /// The reading's JSON as a serde value (page texts serialize readings
    /// straight, see [`crate::model::page::PageText`]).
    fn serialize_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::Serialize;
        match self {
            Reading::Null => serializer.serialize_unit(),
            Reading::Bool(b) => serializer.serialize_bool(*b),
            Reading::Number { value, decimals: 0 } => (value.round() as i64).serialize(serializer),
            Reading::Number { .. } | Reading::UnlistedLabel(_) => {
                self.to_json().serialize(serializer)
            }
            Reading::Label(label) => serializer.serialize_str(label),
            Reading::Text(text) => serializer.serialize_str(text),
        }
    }

    /// A number reading, rounded to `decimals` places.
    pub fn number(value: f64, decimals: u32) -> Reading {
        let factor = 10f64.powi(decimals as i32);
        let value = if decimals == 0 {
            value.round()
        } else {
            (value * factor).round() / factor
        };
        Reading::Number {
            value,
            decimals: decimals.min(9) as u8,
        }
    }
}

impl serde::Serialize for Reading {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_json(serializer)
    }
}

/// The row index of a single-index table cell: the first arc after the
/// column. A single trailing `.0` is tolerated (`column.1.0`, quirk Q1); a
/// bare `column.0` (5PX placeholders) is no row. Anything else is not a
/// cell of this column. Two-arc tables follow their source's
/// [`mib::RowIndex`].
pub fn row_index(suffix: &[u32]) -> Option<u32> {
    mib::RowIndex::Single.row_of(suffix)
}

/// All cells of one column source, by row index (ascending, one per row).
pub fn column_cells<'a>(source: &Source, data: &'a Snapshot) -> Vec<(u32, &'a Value)> {
    let mut cells: Vec<(u32, &Value)> = Vec::new();
    each_column_cell(source, data, |row, _, value| cells.push((row, value)));
    by_row_last_wins(cells)
}

/// Cells in OID order → by row; a row served twice (`.<row>` and
/// `.<row>.0`) keeps the cell that comes last in OID order.
pub fn by_row_last_wins(mut cells: Vec<(u32, &Value)>) -> Vec<(u32, &Value)> {
    cells.sort_by_key(|(row, _)| *row);
    cells.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 = later.1;
        }
        same
    });
    cells
}

/// The cells of one column source as the agent served them: row index and
/// the cell's own OID (a row may be served as `.<row>.0`, quirk Q1).
pub fn column_cell_oids<'a>(source: &Source, data: &'a Snapshot) -> Vec<(u32, &'a Oid)> {
    let mut oids = Vec::new();
    each_column_cell(source, data, |row, oid, _| oids.push((row, oid)));
    oids
}

fn each_column_cell<'a>(
    source: &Source,
    data: &'a Snapshot,
    mut cell: impl FnMut(u32, &'a Oid, &'a Value),
) {
    let column = source.object();
    for (oid, value) in under(&column, data) {
        if let Some(row) = oid
            .suffix_after(&column)
            .and_then(|suffix| source.index.row_of(suffix))
        {
            cell(row, oid, value);
        }
    }
}

/// The raw value of a page-level source (`object.0`, or the fixed row its
/// index rule names), if the agent sent it.
pub fn scalar_cell<'a>(source: &Source, data: &'a Snapshot) -> Option<&'a Value> {
    scalar_entry(source, data).map(|(_, value)| value)
}

/// [`scalar_cell`] with the OID the agent served it under.
pub fn scalar_entry<'a>(source: &Source, data: &'a Snapshot) -> Option<(&'a Oid, &'a Value)> {
    let object = source.object();
    let instance = source.index.arcs(0);
    under(&object, data).find(|(oid, _)| oid.suffix_after(&object) == Some(instance.as_slice()))
}

/// The instances below `object` in a snapshot, in OID order.
fn under<'a>(object: &Oid, data: &'a Snapshot) -> impl Iterator<Item = (&'a Oid, &'a Value)> {
    use std::ops::Bound;
    data.range::<Oid, _>((Bound::Excluded(object), Bound::Unbounded))
        .take_while(move |(oid, _)| oid.starts_with(object))
}

/// Decodes one raw value of `source`: `None` when the value is an SNMP
/// exception (the object is absent), `Some(Reading::Null)` for a sentinel.
/// `field` names the value in `notes` (quirks applied).
pub fn decode_cell(
    source: &Source,
    value: &Value,
    overrides: &ScaleOverrides,
    field: Option<&Field>,
    notes: &mut Vec<String>,
) -> Option<Reading> {
    match decode_value(source, value, overrides, field, notes) {
        Cell::Absent => None,
        Cell::Null => Some(Reading::Null),
        Cell::Value(reading) => Some(reading),
    }
}

/// A decoded cell: absent (no source answered), present but "no reading"
/// (a sentinel), or a value.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Absent,
    Null,
    Value(Reading),
}

fn decode_value(
    source: &Source,
    value: &Value,
    overrides: &ScaleOverrides,
    field: Option<&Field>,
    notes: &mut Vec<String>,
) -> Cell {
    if matches!(
        value,
        Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView
    ) {
        return Cell::Absent;
    }
    match source.decode {
        Decode::Text => match text(value) {
            Cell::Value(Reading::Text(t)) if is_no_text(source, &t) => Cell::Null,
            cell => cell,
        },
        Decode::Number { scale } => {
            let scale = overrides.get(source.object).copied().unwrap_or(scale);
            let guarded = !overrides.contains_key(source.object);
            number(source, value, scale, guarded, field, notes)
        }
        Decode::Enum(_) => match integer(source, value) {
            Some(raw) => enum_label(source, raw),
            None => Cell::Null,
        },
        Decode::Flag { on, off } => match integer(source, value) {
            Some(raw) if raw == on => Cell::Value(Reading::Bool(true)),
            Some(raw) if raw == off => Cell::Value(Reading::Bool(false)),
            _ => Cell::Null,
        },
        Decode::Alarm => object_id(value, |oid| match mib::alarms::well_known_alarm(oid) {
            Some(alarm) => Reading::Label(Label::new(&alarm.name)),
            None => Reading::text(oid.to_string()),
        }),
        Decode::ObjectId => object_id(value, |oid| Reading::text(oid.to_string())),
        Decode::Vendor => match value {
            Value::ObjectId(oid) => match mib::vendors::vendor_label(oid) {
                Some(vendor) => Cell::Value(Reading::Label(vendor)),
                None => Cell::Null,
            },
            _ => Cell::Null,
        },
    }
}

/// Decodes one raw value of `source` on its own (no overrides, no notes):
/// `None` when the value is an SNMP exception, `Some(Reading::Null)` for a
/// sentinel. Used for read-backs and trap facts.
pub fn decode_reading(source: &Source, value: &Value) -> Option<Reading> {
    decode_cell(source, value, &ScaleOverrides::new(), None, &mut Vec::new())
}

/// Decodes one raw value of `source` on its own (no overrides, no notes):
/// `None` when the value is an SNMP exception, `Some(Json::Null)` for a
/// sentinel. Used for read-backs and by the simulator.
pub fn decode_one(source: &Source, value: &Value) -> Option<Json> {
    decode_cell(source, value, &ScaleOverrides::new(), None, &mut Vec::new())
        .map(|reading| reading.to_json())
}

/// Why a JSON value cannot be written to a source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{object}: {reason}")]
pub struct EncodeError {
    pub object: &'static str,
    pub reason: String,
}

/// The inverse of decoding: a published-unit JSON value → the raw SNMP value
/// `source` takes on the wire (scaled back, label → number, bool → flag).
/// Legal ranges are the command module's business, not checked here.
pub fn encode_value(source: &Source, value: &Json) -> Result<Value, EncodeError> {
    let error = |reason: String| EncodeError {
        object: source.object,
        reason,
    };
    let raw = match (source.decode, value) {
        (Decode::Text, Json::String(s)) => return Ok(Value::OctetString(s.as_bytes().to_vec())),
        (Decode::Number { scale }, Json::Number(n)) => {
            let x = n
                .as_f64()
                .ok_or_else(|| error(format!("{n} is not a number")))?;
            (x / scale).round() as i64
        }
        (Decode::Enum(labels), Json::String(label)) => {
            source.decode.raw_of_label(label).ok_or_else(|| {
                let names: Vec<&str> = labels.iter().map(|(_, l)| *l).collect();
                error(format!("{label:?} is not one of {}", names.join(", ")))
            })?
        }
        (Decode::Flag { on, off }, Json::Bool(b)) => {
            if *b {
                on
            } else {
                off
            }
        }
        (Decode::Alarm | Decode::ObjectId, Json::String(text)) => {
            let oid = match mib::alarms::alarm_by_name(text) {
                Some(alarm) => Oid::parse(mib::alarms::WELL_KNOWN_ALARMS_ROOT)
                    .expect("valid root")
                    .child(alarm.arc),
                None => Oid::parse(text).map_err(|e| error(e.to_string()))?,
            };
            return Ok(Value::oid(oid));
        }
        (Decode::Vendor, Json::String(name)) => {
            return mib::vendors::enterprise_of(name)
                .map(Value::oid)
                .ok_or_else(|| error(format!("{name:?} is no known vendor")));
        }
        (decode, other) => return Err(error(format!("{other} does not fit {}", expected(decode)))),
    };
    wire_integer(source, raw)
        .ok_or_else(|| error(format!("raw value {raw} does not fit {:?}", source.syntax)))
}

fn expected(decode: Decode) -> &'static str {
    match decode {
        Decode::Text => "a string",
        Decode::Number { .. } => "a number",
        Decode::Enum(_) => "one of the labels (a string)",
        Decode::Flag { .. } => "true or false",
        Decode::Alarm | Decode::ObjectId => "an OID string",
        Decode::Vendor => "a vendor name",
    }
}

/// An integer in the source's wire type.
fn wire_integer(source: &Source, raw: i64) -> Option<Value> {
    let unsigned = || u32::try_from(raw).ok();
    Some(match source.syntax {
        Syntax::Integer => Value::Integer(i64::from(i32::try_from(raw).ok()?)),
        Syntax::Gauge32 => Value::Gauge32(unsigned()?),
        Syntax::Counter32 => Value::Counter32(unsigned()?),
        Syntax::TimeTicks => Value::TimeTicks(unsigned()?),
        Syntax::OctetString | Syntax::ObjectId => return None,
    })
}

/// An enum's label; an unlisted positive value is kept as `unknown_<n>`,
/// while 0 and negatives (CE+T cards' "not supported") are no reading:
/// every enumeration of these MIBs starts at 1.
fn enum_label(source: &Source, raw: i64) -> Cell {
    match source.decode.reading_label(raw) {
        Some(label) => Cell::Value(Reading::Label(label)),
        None if raw < 1 => Cell::Null,
        None => Cell::Value(Reading::UnlistedLabel(raw)),
    }
}

fn text(value: &Value) -> Cell {
    let text = match value {
        Value::OctetString(bytes) | Value::Opaque(bytes) => {
            String::from_utf8_lossy(bytes).into_owned()
        }
        Value::Null => return Cell::Null,
        other => match other.as_i64() {
            Some(n) => n.to_string(),
            None => return Cell::Null,
        },
    };
    Cell::Value(Reading::text(
        text.trim_matches(|c: char| c == '\0' || c.is_whitespace()),
    ))
}

/// Whether a (trimmed) text is the source's "no reading": one of its
/// [`Source::null_texts`], or empty where the text is only read (a
/// writable text such as a name may well be empty on purpose).
fn is_no_text(source: &Source, text: &str) -> bool {
    (text.is_empty() && !source.is_writable())
        || source
            .null_texts
            .iter()
            .any(|sentinel| sentinel.eq_ignore_ascii_case(text))
}

/// An integer reading, whatever integer type the card chose (quirk Q4);
/// numeric strings are accepted too. Sentinels give `None`.
fn integer(source: &Source, value: &Value) -> Option<i64> {
    let raw = value.as_i64().or_else(|| {
        let text = String::from_utf8_lossy(value.as_bytes()?)
            .trim()
            .to_string();
        text.parse().ok()
    })?;
    (!source.null_when.contains(&raw)).then_some(raw)
}

fn number(
    source: &Source,
    value: &Value,
    scale: f64,
    guarded: bool,
    field: Option<&Field>,
    notes: &mut Vec<String>,
) -> Cell {
    let Some(raw) = integer(source, value) else {
        return Cell::Null;
    };
    let mut x = raw as f64 * scale;
    let mut decimals = Decode::Number { scale }.decimals();
    if let (true, Some(limit)) = (guarded, source.tenths_above) {
        if x > limit {
            x /= 10.0;
            decimals += 1;
            let path = field.map_or_else(String::new, Field::path);
            let note = format!("{path}: {} read {raw}, taken as tenths", source.object);
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    if source
        .valid
        .is_some_and(|(min, max)| !(min..=max).contains(&x))
    {
        return Cell::Null;
    }
    Cell::Value(Reading::number(x, decimals))
}

/// A JSON number with `decimals` places: integers stay integers.
pub fn rounded(x: f64, decimals: u32) -> Json {
    if decimals == 0 {
        return Json::from(x.round() as i64);
    }
    let factor = 10f64.powi(decimals as i32);
    serde_json::Number::from_f64((x * factor).round() / factor).map_or(Json::Null, Json::Number)
}

fn object_id(value: &Value, name: impl Fn(&Oid) -> Reading) -> Cell {
    match value {
        Value::ObjectId(oid) if oid.arcs().iter().all(|&a| a == 0) => Cell::Null,
        Value::ObjectId(oid) => Cell::Value(name(oid)),
        _ => Cell::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_two_words_and_labels_compare_by_text() {
        // A UPS keeps several hundred readings: no fat pointers inside.
        assert_eq!(std::mem::size_of::<Reading>(), 16);
        assert_eq!(std::mem::size_of::<Option<Reading>>(), 16);
        // The same text from two tables is the same label.
        static ONE: &str = "onBattery";
        static TWO: &str = "onBattery";
        assert_eq!(Label::new(&ONE), Label::new(&TWO));
        assert_ne!(Label::new(&ONE), Label::new(&"onLine"));
    }

    fn snapshot(rows: &[(&str, Value)]) -> Snapshot {
        rows.iter()
            .map(|(oid, v)| (Oid::parse(oid).unwrap(), v.clone()))
            .collect()
    }

    fn page(page: Page, data: &Snapshot) -> Map<String, Json> {
        decode_page(page, data, &ScaleOverrides::new())
            .expect("page has data")
            .json
    }

    #[test]
    fn texts_that_mean_no_reading_are_null() {
        let text = |s: &str| Value::OctetString(s.as_bytes().to_vec());
        // PowerNet-MIB upsAdvStateAbnormalConditions: "set to 'UNKNOWN'"
        // when the card cannot tell, "'NOT SUPPORTED'" when the UPS does
        // not use it. upsAdvTestLastDiagnosticsDate: empty, never tested.
        // upsIdentAttachedDevices is writable: empty is its value.
        for (sentinel, expected) in [
            ("UNKNOWN", Json::Null),
            ("NOT SUPPORTED", Json::Null),
            (" not supported ", Json::Null),
            (
                "00000000000000000000000000000000",
                Json::from("00000000000000000000000000000000"),
            ),
        ] {
            let data = snapshot(&[
                ("1.3.6.1.4.1.318.1.1.1.11.2.1.0", text(sentinel)),
                ("1.3.6.1.4.1.318.1.1.1.11.1.2.0", Value::Integer(1)),
            ]);
            let alarms = page(Page::Alarms, &data);
            assert_eq!(alarms["abnormal_conditions"], expected, "{sentinel:?}");
        }
        let data = snapshot(&[
            ("1.3.6.1.4.1.318.1.1.1.7.2.4.0", text("")),
            ("1.3.6.1.4.1.318.1.1.1.7.2.3.0", Value::Integer(1)),
        ]);
        assert_eq!(page(Page::Test, &data)["last_date"], Json::Null);
        let data = snapshot(&[
            ("1.3.6.1.2.1.33.1.1.6.0", text("")),
            ("1.3.6.1.2.1.33.1.1.1.0", text("EATON")),
        ]);
        assert_eq!(
            page(Page::General, &data)["attached_devices"],
            Json::from("")
        );
    }

    #[test]
    fn prefers_the_more_precise_source_and_scales() {
        let data = snapshot(&[
            ("1.3.6.1.2.1.33.1.2.4.0", Value::Integer(91)),
            ("1.3.6.1.4.1.705.1.5.2.0", Value::Integer(92)),
            ("1.3.6.1.4.1.318.1.1.1.2.3.1.0", Value::Gauge32(935)),
            ("1.3.6.1.2.1.33.1.2.3.0", Value::Integer(18)),
        ]);
        let outcome = decode_page(Page::Battery, &data, &ScaleOverrides::new()).unwrap();
        assert_eq!(
            outcome.provenance["charge"], 0,
            "PowerNet HighPrec supplied it"
        );
        assert_eq!(
            outcome.provenance["runtime"], 2,
            "RFC 1628 minutes supplied it"
        );
        let battery = outcome.json;
        assert_eq!(battery["charge"], serde_json::json!(93.5));
        assert_eq!(battery["runtime"], serde_json::json!(1080));
    }

    #[test]
    fn sentinels_fall_through_to_the_next_source_then_null() {
        let data = snapshot(&[
            ("1.3.6.1.4.1.705.1.5.1.0", Value::Integer(65535)),
            ("1.3.6.1.2.1.33.1.2.3.0", Value::Integer(24)),
        ]);
        assert_eq!(
            page(Page::Battery, &data)["runtime"],
            serde_json::json!(1440)
        );
        let idle = snapshot(&[
            ("1.3.6.1.2.1.33.1.8.2.0", Value::Integer(-1)),
            ("1.3.6.1.2.1.33.1.8.1.0", Value::Integer(2)),
        ]);
        let control = page(Page::Control, &idle);
        assert_eq!(control["shutdown_after_delay"], Json::Null);
        assert_eq!(control["shutdown_type"], "system");
    }

    #[test]
    fn flags_enums_and_unknown_enum_values() {
        let data = snapshot(&[
            ("1.3.6.1.4.1.705.1.7.3.0", Value::Integer(1)),
            ("1.3.6.1.4.1.705.1.7.4.0", Value::Integer(2)),
            ("1.3.6.1.4.1.705.1.7.10.0", Value::Integer(0)),
            ("1.3.6.1.2.1.33.1.4.1.0", Value::Integer(42)),
            ("1.3.6.1.2.1.33.1.9.8.0", Value::Integer(0)),
        ]);
        let output = page(Page::Output, &data);
        assert_eq!(output["on_battery"], true);
        assert_eq!(output["on_bypass"], false);
        assert_eq!(output["overload"], Json::Null);
        assert_eq!(output["source"], "unknown_42");
        // 0 is CE+T's "not supported": null, and a page of nulls is absent.
        assert!(decode_page(Page::Config, &data, &ScaleOverrides::new()).is_none());
    }

    #[test]
    fn table_cells_with_trailing_zero_and_row_limits() {
        let data = snapshot(&[
            ("1.3.6.1.2.1.33.1.3.2.0", Value::Integer(1)),
            ("1.3.6.1.4.1.705.1.6.2.1.2.1.0", Value::Integer(2290)),
            ("1.3.6.1.4.1.705.1.6.2.1.3.1.0", Value::Integer(500)),
            ("1.3.6.1.2.1.33.1.3.3.1.4.1", Value::Integer(12)),
            ("1.3.6.1.2.1.33.1.3.3.1.4.2", Value::Integer(0)),
        ]);
        let input = page(Page::Input, &data);
        assert_eq!(
            input["lines"],
            serde_json::json!([{"index": 1, "voltage": 229.0, "frequency": 50.0, "current": 1.2}])
        );
    }

    #[test]
    fn implausible_rfc_voltages_are_taken_as_tenths_unless_overridden() {
        let data = snapshot(&[("1.3.6.1.2.1.33.1.4.4.1.2.1", Value::Gauge32(2303))]);
        let outcome = decode_page(Page::Output, &data, &ScaleOverrides::new()).unwrap();
        assert_eq!(
            outcome.json["lines"][0]["voltage"],
            serde_json::json!(230.3)
        );
        assert_eq!(outcome.notes.len(), 1, "{:?}", outcome.notes);
        let overrides = ScaleOverrides::from([("upsOutputVoltage".to_string(), 0.01)]);
        let outcome = decode_page(Page::Output, &data, &overrides).unwrap();
        assert_eq!(
            outcome.json["lines"][0]["voltage"],
            serde_json::json!(23.03)
        );
        assert!(outcome.notes.is_empty());
    }

    #[test]
    fn empty_alarm_rows_are_dropped_and_names_decoded() {
        let zero = Oid::parse("0.0").unwrap();
        let data = snapshot(&[
            ("1.3.6.1.2.1.33.1.6.1.0", Value::Gauge32(1)),
            ("1.3.6.1.2.1.33.1.6.2.1.2.1", Value::oid(zero)),
            (
                "1.3.6.1.2.1.33.1.6.2.1.2.7",
                Value::oid(Oid::parse("1.3.6.1.2.1.33.1.6.3.2").unwrap()),
            ),
            ("1.3.6.1.2.1.33.1.6.2.1.3.7", Value::TimeTicks(12345)),
        ]);
        let alarms = page(Page::Alarms, &data);
        assert_eq!(
            alarms["active"],
            serde_json::json!([{"index": 7, "alarm": "on_battery", "since": 123.45}])
        );
    }

    #[test]
    fn a_page_without_data_is_absent() {
        let data = snapshot(&[(
            "1.3.6.1.2.1.33.1.1.1.0",
            Value::OctetString(b"APC".to_vec()),
        )]);
        assert!(decode_page(Page::Battery, &data, &ScaleOverrides::new()).is_none());
        let general = page(Page::General, &data);
        assert_eq!(general["manufacturer"], "APC");
        assert_eq!(general.len(), 1);
    }

    #[test]
    fn encoding_inverts_decoding() {
        let field = mib::field_by_path("config.low_battery_runtime").unwrap();
        let powernet = &field.sources[0];
        assert_eq!(
            encode_value(powernet, &serde_json::json!(120)).unwrap(),
            Value::TimeTicks(12_000)
        );
        let rfc = &field.sources[2];
        assert_eq!(
            encode_value(rfc, &serde_json::json!(180)).unwrap(),
            Value::Integer(3)
        );
        let flag = &mib::field_by_path("config.alarm_audible").unwrap().sources[0];
        assert_eq!(
            encode_value(flag, &Json::Bool(false)).unwrap(),
            Value::Integer(2)
        );
        let select = &mib::field_by_path("config.deep_discharge_protection")
            .unwrap()
            .sources[0];
        assert_eq!(
            encode_value(select, &serde_json::json!("disabled")).unwrap(),
            Value::Integer(2)
        );
        let err = encode_value(select, &serde_json::json!("off"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("enabled, disabled"), "{err}");
        assert!(encode_value(select, &serde_json::json!(2)).is_err());
        for (source, raw) in [
            (powernet, Value::TimeTicks(12_000)),
            (select, Value::Integer(2)),
        ] {
            let json = decode_one(source, &raw).unwrap();
            assert_eq!(encode_value(source, &json).unwrap(), raw);
        }
    }

    /// PowerNet-MIB upsPhaseInputPhaseTable is indexed by input feed then
    /// phase: `.1.<phase>` is the main input, `.2.<phase>` the bypass; the
    /// per-feed upsPhaseInputTable holds the phase counts at `.<feed>`.
    #[test]
    fn two_arc_phase_tables_split_by_feed() {
        let data = snapshot(&[
            // upsPhaseNumInputPhases.1 = 3 (main), .2 = 3 (bypass)
            ("1.3.6.1.4.1.318.1.1.1.9.2.2.1.2.1", Value::Integer(3)),
            ("1.3.6.1.4.1.318.1.1.1.9.2.2.1.2.2", Value::Integer(3)),
            // upsPhaseInputFrequency.1 = 500 (0.1 Hz), .2 = -1 (unsupported)
            ("1.3.6.1.4.1.318.1.1.1.9.2.2.1.4.1", Value::Integer(500)),
            ("1.3.6.1.4.1.318.1.1.1.9.2.2.1.4.2", Value::Integer(-1)),
            // upsPhaseInputVoltage (VAC): main 400/401/399 in the NMC's
            // three-arc form, bypass 402 (phase 1) in the MIB's two-arc form
            ("1.3.6.1.4.1.318.1.1.1.9.2.3.1.3.1.1.1", Value::Integer(400)),
            ("1.3.6.1.4.1.318.1.1.1.9.2.3.1.3.1.1.2", Value::Integer(401)),
            ("1.3.6.1.4.1.318.1.1.1.9.2.3.1.3.1.1.3", Value::Integer(399)),
            ("1.3.6.1.4.1.318.1.1.1.9.2.3.1.3.2.1", Value::Integer(402)),
            // upsPhaseInputCurrent (0.1 A) main phase 1 = 123, -1 on phase 2
            ("1.3.6.1.4.1.318.1.1.1.9.2.3.1.6.1.1", Value::Integer(123)),
            ("1.3.6.1.4.1.318.1.1.1.9.2.3.1.6.1.2", Value::Integer(-1)),
            // upsPhaseInputVoltagePN (VAC) main phase 1 = 231
            ("1.3.6.1.4.1.318.1.1.1.9.2.3.1.14.1.1", Value::Integer(231)),
        ]);
        let input = page(Page::Input, &data);
        assert_eq!(input["num_lines"], 3);
        assert_eq!(input["bypass_num_lines"], 3);
        assert_eq!(input["frequency"], serde_json::json!(50.0));
        assert_eq!(input["bypass_frequency"], Json::Null, "-1 = unsupported");
        assert_eq!(
            input["lines"],
            serde_json::json!([
                {"index": 1, "voltage": 400, "current": 12.3, "voltage_phase_to_neutral": 231},
                {"index": 2, "voltage": 401, "current": null},
                {"index": 3, "voltage": 399},
            ])
        );
        assert_eq!(
            input["bypass_lines"],
            serde_json::json!([{"index": 1, "voltage": 402}])
        );
        let field = mib::field_by_path("input.lines.voltage").unwrap();
        let powernet = field
            .sources
            .iter()
            .find(|s| s.mib == mib::Mib::PowerNet)
            .unwrap();
        assert_eq!(
            powernet.instance(2).to_string(),
            "1.3.6.1.4.1.318.1.1.1.9.2.3.1.3.1.2",
            "the MIB's form, as a Galaxy VS serves it"
        );
    }

    /// upsHighPrecOutputEfficiency: tenths of a percent, negative codes
    /// (-2 = load too low, ...) mean no reading.
    #[test]
    fn values_outside_the_valid_range_are_null() {
        let at = "1.3.6.1.4.1.318.1.1.1.4.3.5.0";
        let output = page(Page::Output, &snapshot(&[(at, Value::Integer(953))]));
        assert_eq!(output["efficiency"], serde_json::json!(95.3));
        let data = snapshot(&[
            (at, Value::Integer(-2)),
            ("1.3.6.1.4.1.318.1.1.1.4.3.3.0", Value::Gauge32(10)),
        ]);
        assert_eq!(page(Page::Output, &data)["efficiency"], Json::Null);
    }

    #[test]
    fn row_index_rules() {
        assert_eq!(row_index(&[3]), Some(3));
        assert_eq!(row_index(&[3, 0]), Some(3));
        assert_eq!(row_index(&[0]), None, "MGE placeholders are no line");
        assert_eq!(row_index(&[3, 1]), None);
        assert_eq!(row_index(&[]), None);
    }
}
