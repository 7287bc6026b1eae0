//! What one UPS has and can do, without its readings: the pages, fields,
//! table rows and columns it serves (each with its one source), its
//! identity, the named commands it supports resolved to the exact write,
//! and its switchable outlets.
//!
//! A [`Shape`] is immutable and shared (`Arc`): Home Assistant discovery
//! renders from it whenever it is sent, outside the UPS task and outside
//! any lock, and command planning resolves named commands and outlets
//! through it. It is rebuilt only when the layout or identity changes.
//!
//! A shape is the UPS's identity and its [`Layout`] (everything else, ~11
//! kB for a card with three MIBs). UPSes of the same make and firmware have
//! the same layout: [`Layouts`], shared by the gateway's UPSes, keeps one
//! copy of each layout in use.

use super::{Model, PageData, TableData};
use crate::mib::commands::{self, Arg, COMMANDS, NamedCommand, OUTLET_KINDS, OutletKind, Way};
use crate::mib::{self, Field, Mib, Page, Source, Table};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, Weak};

/// A field of this UPS and the one source that serves it.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub field: &'static Field,
    pub source: &'static Source,
}

impl PartialEq for Slot {
    fn eq(&self, other: &Slot) -> bool {
        std::ptr::eq(self.field, other.field) && std::ptr::eq(self.source, other.source)
    }
}

/// A table column: its slot and the rows that have a cell in it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnShape {
    pub slot: Slot,
    pub rows: RowSet,
}

/// The rows of a table a column has cells in: usually all of them (kept
/// without a list: 500 UPSes hold their shapes).
#[derive(Debug, Clone, PartialEq)]
pub enum RowSet {
    All,
    Only(Vec<u32>),
}

impl RowSet {
    pub fn contains(&self, index: u32) -> bool {
        match self {
            RowSet::All => true,
            RowSet::Only(rows) => rows.contains(&index),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableShape {
    pub table: &'static Table,
    pub rows: Vec<u32>,
    pub columns: Vec<ColumnShape>,
}

impl TableShape {
    /// The columns row `index` has a cell in, in point-table order.
    pub fn columns_of(&self, index: u32) -> impl Iterator<Item = &ColumnShape> {
        self.columns.iter().filter(move |c| c.rows.contains(index))
    }

    pub fn has_cell(&self, key: &str, index: u32) -> bool {
        self.columns
            .iter()
            .any(|c| c.slot.field.key == key && c.rows.contains(index))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageShape {
    pub page: Page,
    pub scalars: Vec<Slot>,
    pub tables: Vec<TableShape>,
}

impl PageShape {
    pub fn table(&self, key: &str) -> Option<&TableShape> {
        self.tables.iter().find(|t| t.table.key == key)
    }

    pub fn has_scalar(&self, key: &str) -> bool {
        self.scalars.iter().any(|s| s.field.key == key)
    }
}

/// Who the UPS says it is (the general page), for the device block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub firmware: Option<String>,
    /// The card's model identifier (PowerNet SKU).
    pub model_id: Option<String>,
    pub hw_version: Option<String>,
    /// The rating in VA (`config.nominal_apparent_power`).
    pub rating_va: Option<u64>,
}

/// How this UPS carries a named command out.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// Write `arg` into this field through its source.
    Set { slot: Slot, arg: Arg },
    /// RFC 1628 test `upsWellKnownTests.<test>` with the spin lock.
    RfcTest { test: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedCommand {
    pub command: &'static NamedCommand,
    pub how: Resolved,
}

/// A switchable outlet: `outlet.<index>.load.*` writes its control cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlet {
    pub kind: &'static OutletKind,
    pub index: u32,
    /// Its receptacles-page row has a `state` (what a switch shows).
    pub has_state: bool,
    /// Its control row has the cycle (reboot) cell.
    pub cycle: bool,
}

/// Everything one UPS has and can do: who it is, and its [`Layout`] (its
/// fields: `shape.pages`, `shape.commands`…).
#[derive(Debug, Clone)]
pub struct Shape {
    pub identity: Identity,
    layout: Arc<Layout>,
}

impl PartialEq for Shape {
    fn eq(&self, other: &Shape) -> bool {
        self.identity == other.identity
            && (Arc::ptr_eq(&self.layout, &other.layout) || self.layout == other.layout)
    }
}

impl std::ops::Deref for Shape {
    type Target = Layout;

    fn deref(&self) -> &Layout {
        &self.layout
    }
}

/// What a UPS has and can do, apart from who it is: the same for UPSes of
/// the same make and firmware (shared through [`Layouts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub mibs: BTreeSet<Mib>,
    pub pages: Vec<PageShape>,
    /// In [`COMMANDS`] order.
    pub commands: Vec<ResolvedCommand>,
    pub outlets: Vec<Outlet>,
}

/// The layouts in use, shared by the UPSes that have the same (cheap to
/// clone: one table for the gateway). A layout is kept while a shape holds
/// it.
#[derive(Debug, Clone, Default)]
pub struct Layouts {
    table: Arc<Mutex<Vec<Weak<Layout>>>>,
}

impl Layouts {
    /// The layout in use equal to `layout`, or `layout`, now in use.
    fn intern(&self, layout: Layout) -> Arc<Layout> {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.retain(|kept| kept.strong_count() > 0);
        if let Some(kept) = table
            .iter()
            .filter_map(Weak::upgrade)
            .find(|kept| **kept == layout)
        {
            return kept;
        }
        let layout = Arc::new(layout);
        table.push(Arc::downgrade(&layout));
        layout
    }

    /// How many different layouts are in use.
    pub fn len(&self) -> usize {
        let table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.iter().filter(|kept| kept.strong_count() > 0).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Shape {
    /// The shape of a model; its layout shared with the same in `layouts`
    /// (if given).
    pub fn of(model: &Model, layouts: Option<&Layouts>) -> Shape {
        let layout = Layout {
            mibs: model.mibs().clone(),
            pages: model.pages().map(page_shape).collect(),
            commands: COMMANDS
                .iter()
                .filter_map(|command| {
                    let how = resolve(model, command)?;
                    Some(ResolvedCommand { command, how })
                })
                .collect(),
            outlets: outlets(model),
        };
        Shape {
            identity: identity(model),
            layout: match layouts {
                Some(layouts) => layouts.intern(layout),
                None => Arc::new(layout),
            },
        }
    }

    /// Whether two shapes share one layout (not only an equal one).
    pub fn shares_layout(&self, other: &Shape) -> bool {
        Arc::ptr_eq(&self.layout, &other.layout)
    }
}

impl Layout {
    pub fn page(&self, page: Page) -> Option<&PageShape> {
        self.pages.iter().find(|p| p.page == page)
    }

    pub fn command(&self, name: &str) -> Option<&ResolvedCommand> {
        self.commands.iter().find(|c| c.command.name == name)
    }

    pub fn outlet(&self, index: u32) -> Option<&Outlet> {
        self.outlets.iter().find(|o| o.index == index)
    }

    /// The names of the commands this UPS supports.
    pub fn command_names(&self) -> Vec<&'static str> {
        self.commands.iter().map(|c| c.command.name).collect()
    }
}

fn page_shape(page: &PageData) -> PageShape {
    PageShape {
        page: page.page,
        scalars: page
            .scalars
            .iter()
            .map(|s| Slot {
                field: s.field,
                source: s.source,
            })
            .collect(),
        tables: page
            .tables
            .iter()
            .map(|t| TableShape {
                table: t.table,
                rows: t.rows.clone(),
                columns: t
                    .columns
                    .iter()
                    .map(|c| ColumnShape {
                        slot: Slot {
                            field: c.field,
                            source: c.source,
                        },
                        rows: if c.cells.iter().all(Option::is_some) {
                            RowSet::All
                        } else {
                            RowSet::Only(
                                t.rows
                                    .iter()
                                    .zip(&c.cells)
                                    .filter(|(_, cell)| cell.is_some())
                                    .map(|(&index, _)| index)
                                    .collect(),
                            )
                        },
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Whether two decodes of a page have the same fields, sources, rows and
/// cells (readings aside): what discovery and commands depend on. Checked
/// on every poll, so without building shapes.
pub fn same_layout(a: &PageData, b: &PageData) -> bool {
    let same_slot = |f1: &Field, s1: &Source, f2: &Field, s2: &Source| {
        std::ptr::eq(f1, f2) && std::ptr::eq(s1, s2)
    };
    let same_table = |x: &TableData, y: &TableData| {
        std::ptr::eq(x.table, y.table)
            && x.rows == y.rows
            && x.columns.len() == y.columns.len()
            && x.columns.iter().zip(&y.columns).all(|(c, d)| {
                same_slot(c.field, c.source, d.field, d.source)
                    && c.cells
                        .iter()
                        .map(Option::is_some)
                        .eq(d.cells.iter().map(Option::is_some))
            })
    };
    a.scalars.len() == b.scalars.len()
        && a.scalars
            .iter()
            .zip(&b.scalars)
            .all(|(x, y)| same_slot(x.field, x.source, y.field, y.source))
        && a.tables.len() == b.tables.len()
        && a.tables
            .iter()
            .zip(&b.tables)
            .all(|(x, y)| same_table(x, y))
}

fn identity(model: &Model) -> Identity {
    Identity::of(model)
}

impl Identity {
    /// Who the UPS says it is, from its general page and its rating (also
    /// read at every metrics scrape: the fields are looked up once per
    /// process).
    pub fn of(model: &Model) -> Identity {
        static FIELDS: std::sync::LazyLock<[Option<&'static Field>; 7]> =
            std::sync::LazyLock::new(|| {
                [
                    "general.manufacturer",
                    "general.model",
                    "general.serial_number",
                    "general.firmware_version",
                    "general.sku",
                    "general.hardware_revision",
                    "config.nominal_apparent_power",
                ]
                .map(mib::field_by_path)
            });
        let text = |at: usize| {
            let value = model.reading(FIELDS[at]?, None)?.as_str()?.trim();
            (!value.is_empty()).then(|| value.to_string())
        };
        Identity {
            manufacturer: text(0),
            model: text(1),
            serial_number: text(2),
            firmware: text(3),
            model_id: text(4),
            hw_version: text(5),
            rating_va: FIELDS[6]
                .and_then(|field| model.reading(field, None)?.as_f64())
                .filter(|va| *va > 0.0)
                .map(|va| va.round() as u64),
        }
    }
}

/// The first way of a command this UPS can carry out: a page-level field
/// it has whose source takes the argument, or the RFC 1628 test when the
/// UPS serves RFC 1628 and its test page has the test id or spin lock.
fn resolve(model: &Model, command: &NamedCommand) -> Option<Resolved> {
    command.ways.iter().find_map(|way| match *way {
        Way::Set { path, arg } => {
            let field = mib::field_by_path(path)?;
            if field.table.is_some() {
                return None;
            }
            model.reading(field, None)?;
            let source = model.source_of(field)?;
            commands::raw_of(source, arg)?;
            Some(Resolved::Set {
                slot: Slot { field, source },
                arg,
            })
        }
        Way::RfcTest { test } => {
            let test_page = model.page(Page::Test)?;
            let has = |key: &str| test_page.scalars.iter().any(|s| s.field.key == key);
            (model.mibs().contains(&Mib::Rfc1628) && (has("id") || has("spin_lock")))
                .then_some(Resolved::RfcTest { test })
        }
    })
}

/// The outlets this UPS can switch: control rows with both the on and the
/// off cell, by kind in [`OUTLET_KINDS`] order; an index an earlier kind
/// claimed (its control row has the on cell) is that kind's.
fn outlets(model: &Model) -> Vec<Outlet> {
    let mut claimed: BTreeSet<u32> = BTreeSet::new();
    let mut out = Vec::new();
    for kind in OUTLET_KINDS {
        let Some(control) = model
            .page(Page::Control)
            .and_then(|p| p.table(kind.control))
        else {
            continue;
        };
        let status = model
            .page(Page::Receptacles)
            .and_then(|p| p.table(kind.table));
        for &index in &control.rows {
            let driven = control.has_cell(kind.on.0, index) && control.has_cell(kind.off.0, index);
            if driven && !claimed.contains(&index) {
                out.push(Outlet {
                    kind,
                    index,
                    has_state: status.as_ref().is_some_and(|s| s.has_cell("state", index)),
                    cycle: control.has_cell(kind.cycle.0, index),
                });
            }
        }
        claimed.extend(
            control
                .rows
                .iter()
                .filter(|&&index| control.has_cell(kind.on.0, index)),
        );
    }
    out
}
