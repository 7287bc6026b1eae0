//! One page of one UPS as typed readings: which source serves each field
//! and each table column (one per column, never mixed row by row), which
//! rows exist (no line beyond the card's line count), and the readings.
//!
//! Built by [`PageData::decode`] from the raw cells of a read
//! ([`pages::Cells`]: a walk's [`Snapshot`], or the [`ServedValues`] a GET
//! of the page's served cells returned); a previous decode of
//! the same page keeps its source choices, so a column's source is chosen
//! once, when the card first serves it, and only chosen again when that
//! source stops answering altogether.

use crate::mib::{self, Field, Page, Source, Table};
use crate::oid::Oid;
use crate::pages::{self, Cells, Reading, ScaleOverrides, Snapshot};
use crate::snmp::Value;
use crate::snmp::ber;
use crate::snmp::client::GetName;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// A page-level field this UPS has, with the source that serves it.
#[derive(Debug, Clone)]
pub struct Scalar {
    pub field: &'static Field,
    pub source: &'static Source,
    pub value: Reading,
}

/// A table column this UPS has: one source for all its rows.
#[derive(Debug, Clone)]
pub struct Column {
    pub field: &'static Field,
    pub source: &'static Source,
    /// One cell per row of the table (same order); `None` where the row
    /// has no cell of this column.
    pub cells: Vec<Option<Reading>>,
}

/// A table this UPS has: its rows (SNMP indexes, ascending) and columns.
#[derive(Debug, Clone)]
pub struct TableData {
    pub table: &'static Table,
    pub rows: Vec<u32>,
    pub columns: Vec<Column>,
}

// Point-table entries compare by identity: one field, one source, one
// table each (comparing their contents on every poll would be wasted work).

impl PartialEq for Scalar {
    fn eq(&self, other: &Scalar) -> bool {
        std::ptr::eq(self.field, other.field)
            && std::ptr::eq(self.source, other.source)
            && self.value == other.value
    }
}

impl PartialEq for Column {
    fn eq(&self, other: &Column) -> bool {
        std::ptr::eq(self.field, other.field)
            && std::ptr::eq(self.source, other.source)
            && self.cells == other.cells
    }
}

impl PartialEq for TableData {
    fn eq(&self, other: &TableData) -> bool {
        std::ptr::eq(self.table, other.table)
            && self.rows == other.rows
            && self.columns == other.columns
    }
}

impl TableData {
    /// The cell of `field` in row `index`.
    pub fn cell(&self, field: &Field, index: u32) -> Option<&Reading> {
        let row = self.rows.iter().position(|&r| r == index)?;
        let column = self.columns.iter().find(|c| std::ptr::eq(c.field, field))?;
        column.cells[row].as_ref()
    }

    /// Whether row `index` has a cell in the column `key`.
    pub fn has_cell(&self, key: &str, index: u32) -> bool {
        let Some(row) = self.rows.iter().position(|&r| r == index) else {
            return false;
        };
        self.columns
            .iter()
            .any(|c| c.field.key == key && c.cells[row].is_some())
    }

    fn cell_mut(&mut self, field: &Field, index: u32) -> Option<&mut Reading> {
        let row = self.rows.iter().position(|&r| r == index)?;
        let column = self
            .columns
            .iter_mut()
            .find(|c| std::ptr::eq(c.field, field))?;
        column.cells[row].as_mut()
    }
}

/// One cell a page was decoded from, kept small (a UPS keeps several
/// hundred between walks): its object's number in the point table and the
/// instance arcs after it (10 bytes).
#[derive(Debug, Clone, Copy)]
pub struct ServedCell {
    object: mib::ObjectId,
    arcs: u8,
    instance: [u16; ServedCell::MAX_ARCS],
}

impl ServedCell {
    /// Longest instance a source is read at (`feed.1.row`).
    const MAX_ARCS: usize = 3;

    /// `None` for a cell that does not fit (more than three instance arcs,
    /// or one above 65,535).
    fn of(source: &'static Source, oid: &Oid) -> Option<ServedCell> {
        let object = source.object_id()?;
        let suffix = oid.suffix_after(mib::object_by_id(object))?;
        let mut instance = [0; ServedCell::MAX_ARCS];
        for (arc, slot) in suffix.iter().zip(instance.get_mut(..suffix.len())?) {
            *slot = u16::try_from(*arc).ok()?;
        }
        Some(ServedCell {
            object,
            arcs: suffix.len() as u8,
            instance,
        })
    }

    /// The cell of a page-level `source` (at its instance, `.0` for
    /// nearly all) and its OID; `None` as for [`ServedCell::of`].
    pub fn scalar(source: &'static Source) -> Option<(ServedCell, Oid)> {
        let oid = source.object().join(&source.index.arcs(0));
        Some((ServedCell::of(source, &oid)?, oid))
    }

    /// The cell in one word (16 bits of object, 8 of arc count, 16 of each
    /// of the first two instance arcs) and the third arc: what [`Hash`]
    /// writes.
    fn packed(&self) -> (u64, u16) {
        let [first, second, third] = self.instance;
        let word = u64::from(self.object)
            | u64::from(self.arcs) << 16
            | u64::from(first) << 24
            | u64::from(second) << 40;
        (word, third)
    }

    /// The instance arcs after the object, widened.
    fn suffix(&self) -> ([u32; ServedCell::MAX_ARCS], usize) {
        let mut arcs = [0; ServedCell::MAX_ARCS];
        for (wide, &arc) in arcs.iter_mut().zip(&self.instance) {
            *wide = u32::from(arc);
        }
        (arcs, usize::from(self.arcs))
    }
}

/// What a GET of some pages' served cells returned, kept by object: the
/// cells of a page read without a walk (see [`PollRead`]). Found by the
/// object's number, so decoding a page from them costs no OID compares
/// and no ordered map.
#[derive(Debug, Default)]
pub struct ServedValues {
    /// Sorted by object; in the order asked within one object.
    cells: Vec<(ServedCell, Value)>,
}

impl ServedValues {
    /// `cells` with the values a GET of them returned (`values[i]` for
    /// `cells[i]`; `None`: the agent returned nothing for it), see
    /// [`crate::snmp::client::answers_in_request_order`].
    pub fn new(
        cells: &[ServedCell],
        values: impl IntoIterator<Item = Option<Value>>,
    ) -> ServedValues {
        let mut paired: Vec<(ServedCell, Value)> = cells
            .iter()
            .zip(values)
            .filter_map(|(cell, value)| Some((*cell, value?)))
            .collect();
        paired.sort_by_key(|(cell, _)| cell.object);
        ServedValues { cells: paired }
    }

    /// The cells of `source`'s object.
    fn of(&self, source: &Source) -> &[(ServedCell, Value)] {
        let Some(object) = source.object_id() else {
            return &[];
        };
        let start = self.cells.partition_point(|(c, _)| c.object < object);
        let end = start + self.cells[start..].partition_point(|(c, _)| c.object == object);
        &self.cells[start..end]
    }
}

/// Two words per cell, not one per field: a GET's fingerprint hashes
/// every cell it asked for, at every poll.
impl std::hash::Hash for ServedCell {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (word, last) = self.packed();
        state.write_u64(word);
        state.write_u16(last);
    }
}

/// A poll GETs a cell from its object's OID bytes, encoded once for the
/// point table, and its instance arcs: no `Oid` is built for it.
impl GetName for ServedCell {
    fn push_content(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(mib::object_ber(self.object));
        for &arc in &self.instance[..usize::from(self.arcs)] {
            ber::push_arc(out, u32::from(arc));
        }
    }

    fn oid(&self) -> Oid {
        let mut oid = mib::object_by_id(self.object).clone();
        for &arc in &self.instance[..usize::from(self.arcs)] {
            oid.push(u32::from(arc));
        }
        oid
    }
}

impl Cells for ServedValues {
    fn scalar_cell(&self, source: &Source) -> Option<&Value> {
        let instance = source.index.arcs(0);
        self.of(source)
            .iter()
            .find(|(cell, _)| {
                let (arcs, len) = cell.suffix();
                arcs[..len] == *instance
            })
            .map(|(_, value)| value)
    }

    fn column_cells(&self, source: &Source) -> Vec<(u32, &Value)> {
        let cells = self
            .of(source)
            .iter()
            .filter_map(|(cell, value)| {
                let (arcs, len) = cell.suffix();
                Some((source.index.row_of(&arcs[..len])?, value))
            })
            .collect();
        pages::by_row_last_wins(cells)
    }
}

/// One poll's reads: what its walks returned, and what its GET of the
/// served cells of the pages read so returned.
#[derive(Debug, Default)]
pub struct PollRead {
    pub walked: Snapshot,
    /// The cells the GET asked for, pages one after the other.
    pub asked: Vec<ServedCell>,
    /// What it returned for each (`None`: nothing).
    pub values: Vec<Option<Value>>,
    /// The pages read by that GET, and where their cells are in `asked`.
    pub got: Vec<(Page, std::ops::Range<usize>)>,
}

/// A hash of what a GET of `cells` returned (`values`, in the same order):
/// equal for two GETs that returned the same.
pub fn got_fingerprint<'a>(
    cells: &[ServedCell],
    values: impl IntoIterator<Item = Option<&'a Value>>,
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = crate::hash::FastHasher::default();
    for (cell, value) in cells.iter().zip(values) {
        if let Some(value) = value {
            cell.hash(&mut hasher);
            value.hash(&mut hasher);
        }
    }
    hasher.finish()
}

/// The fingerprint a GET of `cells` (a page's served cells in the walk
/// that gave `data`) has when it returns what that walk did.
pub fn walk_fingerprint(cells: &[ServedCell], data: &Snapshot) -> u64 {
    got_fingerprint(cells, cells.iter().map(|cell| data.get(&cell.oid())))
}

impl PollRead {
    /// Adds `page`'s served `cells` to what the GET asks for (their values
    /// go in [`PollRead::values`], in the same order).
    pub fn ask(&mut self, page: Page, cells: &[ServedCell]) {
        let start = self.asked.len();
        self.asked.extend_from_slice(cells);
        self.got.push((page, start..self.asked.len()));
    }

    /// Adds the GET of `page`'s served `cells` and what it returned.
    pub fn push_got(&mut self, page: Page, cells: &[ServedCell], values: Vec<Option<Value>>) {
        self.ask(page, cells);
        self.values.extend(values);
    }

    /// For each page, a hash of what it decodes from: the cells a GET of
    /// its served cells returned if it was read so (hashed where they lie:
    /// a page that read the same as last time costs no copy of them), else
    /// everything the poll walked (hashed once, here). A walked page (the
    /// alarms, walked at every poll) that got the same varbinds as last
    /// time is not decoded again either.
    pub fn fingerprints(&self) -> impl Fn(Page) -> Option<u64> + '_ {
        use std::hash::{Hash, Hasher};
        let mut walked = crate::hash::FastHasher::default();
        self.walked.hash(&mut walked);
        let walked = walked.finish();
        move |page| {
            Some(match self.got_of(page) {
                Some((cells, values)) => got_fingerprint(cells, values.iter().map(Option::as_ref)),
                None => walked,
            })
        }
    }

    /// What `page` decodes from.
    pub fn cells(&self, page: Page) -> PageCells<'_> {
        match self.got_of(page) {
            Some((cells, values)) => {
                PageCells::Got(ServedValues::new(cells, values.iter().cloned()))
            }
            None => PageCells::Walked(&self.walked),
        }
    }

    /// The cells of `page`'s GET and what it returned, if it was read so.
    fn got_of(&self, page: Page) -> Option<(&[ServedCell], &[Option<Value>])> {
        let (_, range) = self.got.iter().find(|(p, _)| *p == page)?;
        let cells = self.asked.get(range.clone())?;
        let values = self.values.get(range.clone())?;
        Some((cells, values))
    }
}

/// The cells one page decodes from: those a GET of its served cells
/// returned, if it was read so (a GET of them decodes as a walk of the
/// whole page would, see [`PageData::served_cells`]), else what the
/// poll's walks returned.
#[derive(Debug)]
pub enum PageCells<'a> {
    Got(ServedValues),
    Walked(&'a Snapshot),
}

impl Cells for PageCells<'_> {
    fn scalar_cell(&self, source: &Source) -> Option<&Value> {
        match self {
            PageCells::Got(got) => got.scalar_cell(source),
            PageCells::Walked(walked) => walked.scalar_cell(source),
        }
    }

    fn column_cells(&self, source: &Source) -> Vec<(u32, &Value)> {
        match self {
            PageCells::Got(got) => got.column_cells(source),
            PageCells::Walked(walked) => walked.column_cells(source),
        }
    }
}

/// One decoded page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageData {
    pub page: Page,
    /// In point-table order.
    pub scalars: Vec<Scalar>,
    /// In point-table order; only tables with at least one row.
    pub tables: Vec<TableData>,
}

/// Source choices of an earlier decode, to keep them.
#[derive(Debug, Default)]
struct Choices<'a> {
    previous: Option<&'a PageData>,
}

impl Choices<'_> {
    /// The source chosen before, if it is one of the field's own (a
    /// whole-UPS value combined from lines names the line column's).
    fn scalar(&self, field: &Field) -> Option<&'static Source> {
        let previous = self.previous?;
        previous
            .scalars
            .iter()
            .find(|s| std::ptr::eq(s.field, field))
            .map(|s| s.source)
            .filter(|source| field.sources.iter().any(|own| std::ptr::eq(own, *source)))
    }

    /// The rows an earlier decode kept in `table`.
    fn rows(&self, table: &Table) -> &[u32] {
        self.previous
            .and_then(|p| p.table(table.key))
            .map_or(&[], |t| &t.rows)
    }

    fn column(&self, field: &Field) -> Option<&'static Source> {
        let previous = self.previous?;
        previous
            .tables
            .iter()
            .flat_map(|t| &t.columns)
            .find(|c| std::ptr::eq(c.field, field))
            .map(|c| c.source)
    }
}

impl PageData {
    /// Decodes `page` from a snapshot; `None` when the agent has no data
    /// for any of its fields. `previous` is this page's last decode (its
    /// source choices are kept); `notes` collects the quirks applied.
    pub fn decode(
        page: Page,
        data: &dyn Cells,
        overrides: &ScaleOverrides,
        previous: Option<&PageData>,
        notes: &mut Vec<String>,
    ) -> Option<PageData> {
        let choices = Choices { previous };
        let index = mib::page_index(page);
        let scalars: Vec<Scalar> = index
            .scalars
            .iter()
            .filter_map(|field| decode_scalar(field, data, overrides, &choices, notes))
            .collect();
        let tables = index
            .tables
            .iter()
            .filter_map(|(table, columns)| {
                decode_table(table, columns, data, overrides, &scalars, &choices, notes)
            })
            .collect();
        let mut page = PageData {
            page,
            scalars,
            tables,
        };
        page.add_whole_ups_values();
        // Kept until the next poll, for every UPS: no spare capacity.
        page.scalars.shrink_to_fit();
        page.tables.shrink_to_fit();
        page.has_data().then_some(page)
    }

    /// The whole-UPS fields ([`mib::WHOLE_UPS`]) the card states no total
    /// for, combined from its lines; served by the line column's source
    /// (the provenance says so).
    fn add_whole_ups_values(&mut self) {
        for rule in mib::WHOLE_UPS {
            let (Some(total), Some(lines)) = (
                mib::field_by_path(rule.total),
                mib::field_by_path(rule.lines),
            ) else {
                continue;
            };
            if total.page != self.page || self.scalar(total).is_some() {
                continue;
            }
            let Some(table) = lines.table.and_then(|key| self.table(key)) else {
                continue;
            };
            let Some(column) = table.columns.iter().find(|c| std::ptr::eq(c.field, lines)) else {
                continue;
            };
            let Some(value) = combine(rule.combine, column.cells.iter().flatten()) else {
                continue;
            };
            let scalar = Scalar {
                field: total,
                source: column.source,
                value,
            };
            let order = |field: &Field| {
                mib::page_index(self.page)
                    .scalars
                    .iter()
                    .position(|f| std::ptr::eq(*f, field))
            };
            let at = self
                .scalars
                .iter()
                .position(|s| order(s.field) > order(total))
                .unwrap_or(self.scalars.len());
            self.scalars.insert(at, scalar);
        }
    }

    fn has_data(&self) -> bool {
        self.scalars.iter().any(|s| !s.value.is_null())
            || self
                .tables
                .iter()
                .flat_map(|t| &t.columns)
                .flat_map(|c| &c.cells)
                .any(|c| c.as_ref().is_some_and(|r| !r.is_null()))
    }

    /// The cells in `data` this page's readings were decoded from: the
    /// chosen source of each field and column (as the agent served each
    /// cell), in the rows kept. While the card's layout stays the same, a
    /// GET of these decodes to what a walk of the whole page would.
    pub fn served_cells(&self, data: &Snapshot) -> Vec<ServedCell> {
        let own = |s: &Scalar| s.field.sources.iter().any(|o| std::ptr::eq(o, s.source));
        let scalars = self
            .scalars
            .iter()
            .filter(|s| own(s))
            .filter_map(|s| Some((s.source, pages::scalar_entry(s.source, data)?.0)));
        let columns = self.tables.iter().flat_map(|table| {
            table.columns.iter().flat_map(move |column| {
                pages::column_cell_oids(column.source, data)
                    .into_iter()
                    .filter(|(row, _)| table.rows.contains(row))
                    .map(move |(_, oid)| (column.source, oid))
            })
        });
        // A cell that cannot be kept compactly leaves the page to walks
        // (no cells: the page is walked at every poll).
        scalars
            .chain(columns)
            .map(|(source, oid)| ServedCell::of(source, oid))
            .collect::<Option<Vec<ServedCell>>>()
            .unwrap_or_default()
    }

    /// The scalar of `field`, if this page has it.
    pub fn scalar(&self, field: &Field) -> Option<&Scalar> {
        self.scalars.iter().find(|s| std::ptr::eq(s.field, field))
    }

    /// The table `key` of this page, if it has rows.
    pub fn table(&self, key: &str) -> Option<&TableData> {
        self.tables.iter().find(|t| t.table.key == key)
    }

    /// The reading of a scalar (`index` `None`) or a table cell.
    pub fn reading(&self, field: &Field, index: Option<u32>) -> Option<&Reading> {
        match (field.table, index) {
            (None, None) => self.scalar(field).map(|s| &s.value),
            (Some(table), Some(index)) => self.table(table)?.cell(field, index),
            _ => None,
        }
    }

    /// Replaces the reading of a field or cell this page has; true if it
    /// changed (a field the page lacks is left alone).
    pub fn set(&mut self, field: &Field, index: Option<u32>, value: Reading) -> bool {
        let slot = match (field.table, index) {
            (None, None) => self
                .scalars
                .iter_mut()
                .find(|s| std::ptr::eq(s.field, field))
                .map(|s| &mut s.value),
            (Some(table), Some(index)) => self
                .tables
                .iter_mut()
                .find(|t| t.table.key == table)
                .and_then(|t| t.cell_mut(field, index)),
            _ => None,
        };
        match slot {
            Some(slot) if *slot != value => {
                *slot = value;
                true
            }
            _ => false,
        }
    }

    /// The page's JSON, as published: scalars in point-table order, then
    /// each table as an array of rows `{"index": n, <column>: value, ...}`.
    pub fn to_json(&self) -> Map<String, Json> {
        let mut json = Map::new();
        for scalar in &self.scalars {
            json.insert(scalar.field.key.to_string(), scalar.value.to_json());
        }
        for table in &self.tables {
            json.insert(table.table.key.to_string(), Json::Array(table_json(table)));
        }
        json
    }

    /// Which source (index into the field's `sources`) serves each field:
    /// `key` for scalars, `table.key` for columns.
    pub fn provenance(&self) -> BTreeMap<String, usize> {
        let index_of = |field: &Field, source: &Source| {
            field
                .sources
                .iter()
                .position(|s| std::ptr::eq(s, source))
                .unwrap_or(0)
        };
        let scalars = self
            .scalars
            .iter()
            .map(|s| (s.field.key.to_string(), index_of(s.field, s.source)));
        let columns = self.tables.iter().flat_map(|t| {
            t.columns.iter().map(|c| {
                (
                    format!("{}.{}", t.table.key, c.field.key),
                    index_of(c.field, c.source),
                )
            })
        });
        scalars.chain(columns).collect()
    }
}

/// A page serialized straight from its readings (the poll path: no JSON
/// tree is built), the same text as `serde_json::to_string(&to_json())`.
pub struct PageText<'a> {
    pub page: &'a PageData,
    /// Extra string keys after the page's own (the NUT-style status).
    pub extra: &'a [(&'static str, &'a str)],
}

impl serde::Serialize for PageText<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let page = self.page;
        let mut map = serializer.serialize_map(None)?;
        for scalar in &page.scalars {
            map.serialize_entry(scalar.field.key, &scalar.value)?;
        }
        for table in &page.tables {
            map.serialize_entry(table.table.key, &Rows(table))?;
        }
        for (key, value) in self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A table's rows, serialized as `[{"index": n, <column>: value, ...}]`.
struct Rows<'a>(&'a TableData);

impl serde::Serialize for Rows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        let table = self.0;
        let mut seq = serializer.serialize_seq(Some(table.rows.len()))?;
        for (at, &index) in table.rows.iter().enumerate() {
            struct Row<'a>(&'a TableData, usize, u32);
            impl serde::Serialize for Row<'_> {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    let Row(table, at, index) = *self;
                    let mut map = s.serialize_map(None)?;
                    map.serialize_entry("index", &index)?;
                    for column in &table.columns {
                        if let Some(cell) = &column.cells[at] {
                            map.serialize_entry(column.field.key, cell)?;
                        }
                    }
                    map.end()
                }
            }
            seq.serialize_element(&Row(table, at, index))?;
        }
        seq.end()
    }
}

/// Lines combined into a whole-UPS value; `None` without a number.
fn combine<'a>(how: mib::Combine, cells: impl Iterator<Item = &'a Reading>) -> Option<Reading> {
    let mut values = Vec::new();
    let mut decimals = 0;
    for cell in cells {
        if let Reading::Number { value, decimals: d } = cell {
            values.push(*value);
            decimals = decimals.max(u32::from(*d));
        }
    }
    let first = *values.first()?;
    let value = match how {
        mib::Combine::Mean => values.iter().sum::<f64>() / values.len() as f64,
        mib::Combine::Max => values.iter().copied().fold(first, f64::max),
        mib::Combine::Sum => values.iter().sum(),
    };
    Some(Reading::number(value, decimals))
}

fn table_json(table: &TableData) -> Vec<Json> {
    table
        .rows
        .iter()
        .enumerate()
        .map(|(at, &index)| {
            let mut row = Map::new();
            row.insert("index".to_string(), Json::from(index));
            for column in &table.columns {
                if let Some(cell) = &column.cells[at] {
                    row.insert(column.field.key.to_string(), cell.to_json());
                }
            }
            Json::Object(row)
        })
        .collect()
}

/// A scalar keeps the source chosen before while that source answers (even
/// with a sentinel); otherwise the first source, in the point table's order
/// of preference, with a real reading wins, else the first that answered.
fn decode_scalar(
    field: &'static Field,
    data: &dyn Cells,
    overrides: &ScaleOverrides,
    choices: &Choices,
    notes: &mut Vec<String>,
) -> Option<Scalar> {
    let mut decode = |source: &'static Source| {
        let raw = data.scalar_cell(source)?;
        pages::decode_cell(source, raw, overrides, Some(field), notes)
    };
    if let Some(source) = choices.scalar(field) {
        if let Some(value) = decode(source) {
            return Some(Scalar {
                field,
                source,
                value,
            });
        }
    }
    let mut first_null = None;
    for source in field.sources {
        match decode(source) {
            Some(Reading::Null) => first_null = first_null.or(Some(source)),
            Some(value) => {
                return Some(Scalar {
                    field,
                    source,
                    value,
                });
            }
            None => {}
        }
    }
    first_null.map(|source| Scalar {
        field,
        source,
        value: Reading::Null,
    })
}

/// A column's decoded cells by row index: ascending, one per row (a few
/// rows: a sorted `Vec`, not a map, on the path of every poll).
type RowCells = Vec<(u32, Reading)>;

/// The cell of `row`, if any.
fn cell_of(cells: &RowCells, row: u32) -> Option<&Reading> {
    let at = cells.binary_search_by_key(&row, |(r, _)| *r).ok()?;
    Some(&cells[at].1)
}

/// The cells of `rows` (ascending), in that order.
fn cells_in_rows(cells: RowCells, rows: &[u32]) -> Vec<Option<Reading>> {
    let mut cells = cells.into_iter().peekable();
    rows.iter()
        .map(|&row| {
            while cells.next_if(|(r, _)| *r < row).is_some() {}
            cells
                .next_if(|(r, _)| *r == row)
                .map(|(_, reading)| reading)
        })
        .collect()
}

/// Every cell one source serves for a column, by row index.
fn source_cells(
    field: &Field,
    source: &Source,
    data: &dyn Cells,
    overrides: &ScaleOverrides,
    notes: &mut Vec<String>,
) -> RowCells {
    data.column_cells(source)
        .into_iter()
        .filter_map(|(index, raw)| {
            Some((
                index,
                pages::decode_cell(source, raw, overrides, Some(field), notes)?,
            ))
        })
        .collect()
}

/// A column's one source: the one chosen before while it still serves
/// any row; otherwise the first source with a real reading in any row,
/// else the first that serves any row at all.
fn choose_column(
    field: &'static Field,
    data: &dyn Cells,
    overrides: &ScaleOverrides,
    choices: &Choices,
    notes: &mut Vec<String>,
) -> Option<(&'static Source, RowCells)> {
    if let Some(source) = choices.column(field) {
        let cells = source_cells(field, source, data, overrides, notes);
        if !cells.is_empty() {
            return Some((source, cells));
        }
    }
    let mut first_null = None;
    for source in field.sources {
        let cells = source_cells(field, source, data, overrides, notes);
        if cells.iter().any(|(_, c)| !c.is_null()) {
            return Some((source, cells));
        }
        if first_null.is_none() && !cells.is_empty() {
            first_null = Some((source, cells));
        }
    }
    first_null
}

fn decode_table(
    table: &'static Table,
    columns: &[&'static Field],
    data: &dyn Cells,
    overrides: &ScaleOverrides,
    scalars: &[Scalar],
    choices: &Choices,
    notes: &mut Vec<String>,
) -> Option<TableData> {
    let columns: Vec<(&'static Field, &'static Source, RowCells)> = columns
        .iter()
        .filter_map(|&field| {
            let (source, cells) = choose_column(field, data, overrides, choices, notes)?;
            Some((field, source, cells))
        })
        .collect();
    let mut all_rows: Vec<u32> = columns
        .iter()
        .flat_map(|(_, _, cells)| cells.iter().map(|(row, _)| *row))
        .collect();
    all_rows.sort_unstable();
    all_rows.dedup();
    let limit = row_limit(table, scalars, &columns, choices);
    let rows: Vec<u32> = all_rows
        .into_iter()
        .filter(|index| limit.is_none_or(|n| *index <= n))
        .filter(|index| required_present(table, &columns, *index))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let columns = columns
        .into_iter()
        .map(|(field, source, cells)| {
            let (source, cells) =
                cover_the_lines(table, field, source, cells, &rows, data, overrides, notes);
            (field, source, cells)
        })
        .map(|(field, source, cells)| Column {
            field,
            source,
            cells: cells_in_rows(cells, &rows),
        })
        .filter(|column| column.cells.iter().any(Option::is_some))
        .filter(|column| column.source.lines.fits(rows.len()))
        .collect();
    let columns = void_invalid_cells(columns);
    let mut table = TableData {
        table,
        rows,
        columns,
    };
    table.rows.shrink_to_fit();
    table.columns.shrink_to_fit();
    Some(table)
}

/// A line column whose source misses some of the card's lines takes,
/// for all its rows, the first other source that serves every line (a
/// Galaxy 7000's RFC 1628 table has line 1 only, its MGE table the load of
/// all three): still one source per column, now covering the lines.
#[allow(clippy::too_many_arguments)]
fn cover_the_lines(
    table: &Table,
    field: &'static Field,
    source: &'static Source,
    cells: RowCells,
    rows: &[u32],
    data: &dyn Cells,
    overrides: &ScaleOverrides,
    notes: &mut Vec<String>,
) -> (&'static Source, RowCells) {
    let covers = |cells: &RowCells| {
        rows.iter()
            .all(|row| cell_of(cells, *row).is_some_and(|c| !c.is_null()))
    };
    if table.row_limit.is_none() || rows.len() < 2 || covers(&cells) {
        return (source, cells);
    }
    for other in field.sources {
        if std::ptr::eq(other, source) || !other.lines.fits(rows.len()) {
            continue;
        }
        let mut quirks = Vec::new();
        let candidate = source_cells(field, other, data, overrides, &mut quirks);
        if covers(&candidate) {
            notes.extend(quirks);
            return (other, candidate);
        }
    }
    (source, cells)
}

/// Cells the card itself marks invalid (the point table's
/// [`mib::VoidWhen`]: "sensor communication lost", "probe disconnected")
/// become no reading, whatever number the card sent.
fn void_invalid_cells(mut columns: Vec<Column>) -> Vec<Column> {
    let voided: Vec<(usize, Vec<bool>)> = columns
        .iter()
        .enumerate()
        .filter_map(|(at, column)| {
            let rule = column.field.void_when?;
            let marker = columns.iter().find(|c| c.field.key == rule.column)?;
            let rows = marker
                .cells
                .iter()
                .map(|cell| matches!(cell, Some(Reading::Bool(b)) if *b == rule.flag))
                .collect();
            Some((at, rows))
        })
        .collect();
    for (at, rows) in voided {
        for (cell, void) in columns[at].cells.iter_mut().zip(rows) {
            if void && cell.is_some() {
                *cell = Some(Reading::Null);
            }
        }
    }
    void_unmeasured_zeros(columns)
}

/// Zeros the card does not measure (the point table's
/// [`mib::Field::zero_unmeasured_while`]: 0 A on an input line that
/// carries voltage) become no reading.
fn void_unmeasured_zeros(mut columns: Vec<Column>) -> Vec<Column> {
    let live: Vec<(usize, Vec<bool>)> = columns
        .iter()
        .enumerate()
        .filter_map(|(at, column)| {
            let key = column.field.zero_unmeasured_while?;
            let marker = columns.iter().find(|c| c.field.key == key)?;
            let rows = marker
                .cells
                .iter()
                .map(|cell| {
                    cell.as_ref()
                        .and_then(Reading::as_f64)
                        .is_some_and(|v| v > 0.0)
                })
                .collect();
            Some((at, rows))
        })
        .collect();
    for (at, rows) in live {
        for (cell, live) in columns[at].cells.iter_mut().zip(rows) {
            let zero = cell.as_ref().and_then(Reading::as_f64) == Some(0.0);
            if live && zero {
                *cell = Some(Reading::Null);
            }
        }
    }
    columns
}

/// The number of rows a line table really has: the card's own line count
/// (the page-level field the table names) when it states one; otherwise
/// the last row that ever carried real data (a voltage, current, power or
/// load that is neither null nor zero: cards pad line tables with rows of
/// zeros, and repeat the frequency on every row), at least one
/// line, and never fewer than the previous decode kept (a UPS whose output
/// is off reads zeros on every line). Tables without a line count keep
/// all their rows.
fn row_limit(
    table: &Table,
    scalars: &[Scalar],
    columns: &[(&'static Field, &'static Source, RowCells)],
    choices: &Choices,
) -> Option<u32> {
    let key = table.row_limit?;
    let stated = scalars
        .iter()
        .find(|s| s.field.key == key)
        .and_then(|s| s.value.as_f64())
        .filter(|n| *n >= 1.0);
    if let Some(count) = stated {
        return Some(count as u32);
    }
    let real = |reading: &Reading| match reading {
        Reading::Null => false,
        Reading::Number { value, .. } => *value != 0.0,
        _ => true,
    };
    // A line's frequency is the system's, repeated on every row a card
    // pads (a single-phase 5PX reports 50 Hz on lines 2 and 3): it proves
    // no line. Voltage, current, power and load do.
    // A source served only on some cards (MGE's phase voltage, whose
    // meaning depends on the line count) proves no line either.
    let proves_a_line = |field: &Field, source: &Source| {
        field.unit != Some(crate::mib::Unit::Hertz) && source.lines == crate::mib::Lines::Any
    };
    columns
        .iter()
        .filter(|(field, source, _)| proves_a_line(field, source))
        .flat_map(|(_, _, cells)| cells.iter())
        .filter(|(_, reading)| real(reading))
        .map(|(index, _)| *index)
        .chain(choices.rows(table).last().copied())
        .max()
        .map(|n| n.max(1))
        .or(Some(1))
}

/// A row without a reading in the table's required column is dropped.
fn required_present(
    table: &Table,
    columns: &[(&'static Field, &'static Source, RowCells)],
    index: u32,
) -> bool {
    let Some(key) = table.required else {
        return true;
    };
    columns
        .iter()
        .find(|(field, _, _)| field.key == key)
        .and_then(|(_, _, cells)| cell_of(cells, index))
        .is_some_and(|reading| !reading.is_null())
}
