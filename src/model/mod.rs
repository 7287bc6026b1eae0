//! One UPS as it really is: the single source every output reads.
//!
//! This module owns the per-UPS facts that every renderer needs and that
//! must be decided once: which source serves each field and each table
//! column (one per column, never mixed row by row: [`page`]), how many
//! lines the card has, which named commands and outlets this UPS supports
//! and exactly how ([`shape`]), its identity, the NUT-style status, and the
//! latest typed readings. Pages JSON, Home Assistant discovery, command
//! validation and planning all render from it; none of them looks at JSON
//! to find out what the UPS can do.
//!
//! It knows nothing of sockets or topic strings: the UPS task feeds it
//! snapshots, trap facts and read-backs, and hands it (or its immutable
//! [`Shape`]) to the renderers.

pub mod energy;
pub mod page;
pub mod shape;

pub use page::{
    Column, PageCells, PageData, PollRead, Scalar, ServedCell, ServedValues, TableData,
};
pub use shape::{Identity, Layouts, Outlet, Resolved, ResolvedCommand, Shape};

use crate::mib::{Field, Mib, Page, Source};
use crate::pages::{Reading, ScaleOverrides, Snapshot};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Keys the model adds to the output page: the NUT-style status.
pub const STATUS_KEY: &str = "ups_status";
pub const STATUS_TEXT_KEY: &str = "status_text";

/// One UPS: what it serves and its latest readings.
///
/// Cheap to clone (pages are shared, copied on write): the UPS task hands
/// a clone to readers (the NUT server, metrics) after every change.
#[derive(Debug, Clone)]
pub struct Model {
    mibs: BTreeSet<Mib>,
    pages: BTreeMap<Page, Arc<PageData>>,
    /// Pages read at least once (the shape is complete when all are).
    read: BTreeSet<Page>,
    /// NUT `ups.status` flags, kept in step with the readings.
    status: Vec<&'static str>,
    /// The current shape; `None` when the layout changed since it was built.
    shape: Option<Arc<Shape>>,
    /// The shape [`Model::new_shape`] last handed out.
    announced: Option<Arc<Shape>>,
    /// Where shapes share their layout with other UPSes' ([`Model::with_layouts`]).
    layouts: Option<Layouts>,
    /// Per page (in [`Page::ALL`] order), what its readings were last
    /// decoded from at a poll ([`PollRead::fingerprints`], odd; 0: not
    /// read by a poll yet, or changed since): a poll that reads the same
    /// again leaves the page as it is, undecoded.
    decoded_from: [u64; Page::ALL.len()],
    /// The quirks noticed when those pages were decoded (pages with any).
    decoded_notes: Vec<(Page, Vec<String>)>,
}

/// A page's place in [`Page::ALL`].
fn page_slot(page: Page) -> usize {
    Page::ALL
        .iter()
        .position(|p| *p == page)
        .expect("every page is in Page::ALL")
}

/// One page of a model as published ([`Model::published_page`]).
#[derive(Debug, Clone)]
pub struct PublishedPage {
    data: Arc<PageData>,
    /// The NUT-style status flags (the output page only).
    status: Option<Vec<&'static str>>,
}

impl PublishedPage {
    pub fn page(&self) -> Page {
        self.data.page
    }

    /// The page's JSON text.
    pub fn text(&self) -> String {
        let mut text = Vec::new();
        self.write_text(&mut text)
            .expect("writing to memory cannot fail");
        String::from_utf8(text).expect("JSON is UTF-8")
    }

    /// Writes the page's JSON text to `out` (a buffer, a hasher); fails
    /// only if `out` does.
    pub fn write_text(&self, out: impl std::io::Write) -> std::io::Result<()> {
        let status = self
            .status
            .as_deref()
            .map(|flags| (flags.join(" "), crate::status::text(flags)));
        let extra: &[(&str, &str)] = match &status {
            Some((flags, text)) => &[(STATUS_KEY, flags), (STATUS_TEXT_KEY, text)],
            None => &[],
        };
        let view = page::PageText {
            page: &self.data,
            extra,
        };
        serde_json::to_writer(out, &view).map_err(std::io::Error::from)
    }
}

/// What a read changed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Update {
    /// Pages whose readings (or derived status) changed.
    pub changed: BTreeSet<Page>,
    /// Pages the UPS no longer has data for.
    pub gone: BTreeSet<Page>,
    /// Quirks applied while decoding (for the health topic).
    pub notes: Vec<String>,
    /// Pages whose layout (fields, sources, rows) changed or that are gone.
    pub relayout: BTreeSet<Page>,
}

impl Model {
    pub fn new(mibs: BTreeSet<Mib>) -> Model {
        Model {
            mibs,
            pages: BTreeMap::new(),
            read: BTreeSet::new(),
            status: Vec::new(),
            shape: None,
            announced: None,
            layouts: None,
            decoded_from: [0; Page::ALL.len()],
            decoded_notes: Vec::new(),
        }
    }

    /// Shares the layout of this model's shapes with the other UPSes'
    /// through `layouts` (see [`shape::Layouts`]).
    pub fn with_layouts(mut self, layouts: Layouts) -> Model {
        self.layouts = Some(layouts);
        self
    }

    /// A new, empty model for `mibs` (another card behind the same
    /// address), sharing this one's layouts.
    pub fn for_mibs(&self, mibs: BTreeSet<Mib>) -> Model {
        Model {
            layouts: self.layouts.clone(),
            ..Model::new(mibs)
        }
    }

    /// A model of everything `data` holds, as if every page was read once.
    pub fn from_snapshot(
        mibs: BTreeSet<Mib>,
        data: &Snapshot,
        overrides: &ScaleOverrides,
    ) -> Model {
        let mut model = Model::new(mibs);
        model.apply_read(&Page::ALL, data, overrides);
        model
    }

    pub fn mibs(&self) -> &BTreeSet<Mib> {
        &self.mibs
    }

    /// Decodes the pages of a walk into the model.
    pub fn apply_read(
        &mut self,
        due: &[Page],
        data: &Snapshot,
        overrides: &ScaleOverrides,
    ) -> Update {
        self.apply(due, |_| PageCells::Walked(data), |_| None, overrides)
    }

    /// Decodes the pages of a poll (walked, or read by a GET of their
    /// served cells) into the model.
    pub fn apply_poll(
        &mut self,
        due: &[Page],
        read: &PollRead,
        overrides: &ScaleOverrides,
    ) -> Update {
        self.apply(due, |page| read.cells(page), read.fingerprints(), overrides)
    }

    fn apply<'a>(
        &mut self,
        due: &[Page],
        cells_of: impl Fn(Page) -> PageCells<'a>,
        fingerprint_of: impl Fn(Page) -> Option<u64>,
        overrides: &ScaleOverrides,
    ) -> Update {
        let mut update = Update::default();
        for &page in due {
            self.read.insert(page);
            // Odd, so that 0 means "not decoded from a poll".
            let fingerprint = fingerprint_of(page).map_or(0, |f| f | 1);
            let slot = page_slot(page);
            if fingerprint != 0
                && self.decoded_from[slot] == fingerprint
                && self.pages.contains_key(&page)
            {
                update.notes.extend(self.notes_of(page).iter().cloned());
                continue;
            }
            let previous = self.pages.get(&page).map(|p| &**p);
            let cells = cells_of(page);
            let notes_before = update.notes.len();
            let decoded = PageData::decode(page, &cells, overrides, previous, &mut update.notes);
            self.decoded_from[slot] = fingerprint;
            self.decoded_notes.retain(|(p, _)| *p != page);
            if fingerprint != 0 && update.notes.len() > notes_before {
                let notes = update.notes[notes_before..].to_vec();
                self.decoded_notes.push((page, notes));
            }
            match (decoded, previous) {
                (None, None) => {}
                (None, Some(_)) => {
                    self.pages.remove(&page);
                    update.gone.insert(page);
                    update.relayout.insert(page);
                    self.shape = None;
                }
                (Some(new), previous) => {
                    if previous != Some(&new) {
                        let relayout = !previous.is_some_and(|p| shape::same_layout(p, &new));
                        if relayout {
                            update.relayout.insert(page);
                        }
                        if relayout || page == Page::General {
                            self.shape = None;
                        }
                        update.changed.insert(page);
                        self.pages.insert(page, Arc::new(new));
                    }
                }
            }
        }
        // The status is read from the pages: none changed, it stands.
        let any_page_changed = !update.changed.is_empty() || !update.gone.is_empty();
        if any_page_changed && self.refresh_status() {
            update.changed.insert(Page::Output);
        }
        update.changed.retain(|p| self.pages.contains_key(p));
        update
    }

    /// Sets a field or table cell the UPS has (a trap's fact, a read-back);
    /// returns the pages that changed (the output page too when the status
    /// did).
    pub fn set(&mut self, field: &Field, index: Option<u32>, value: Reading) -> BTreeSet<Page> {
        let mut changed = BTreeSet::new();
        let Some(page) = self.pages.get_mut(&field.page) else {
            return changed;
        };
        if page.reading(field, index).is_some_and(|r| *r != value)
            && Arc::make_mut(page).set(field, index, value)
        {
            // The page no longer is what its last read decoded to.
            self.decoded_from[page_slot(field.page)] = 0;
            changed.insert(field.page);
            if field.page == Page::General {
                self.shape = None;
            }
        }
        if !changed.is_empty() && self.refresh_status() && self.pages.contains_key(&Page::Output) {
            changed.insert(Page::Output);
        }
        changed
    }

    /// `page` was just decoded from a walk (`data`), and the polls after
    /// it read the page by a GET of `cells`, its served cells in that walk:
    /// a GET that returns what the walk did leaves the page as it is, with
    /// its notes, undecoded (as a second GET of the same would).
    pub fn expect_get(&mut self, page: Page, cells: &[ServedCell], data: &Snapshot) {
        let slot = page_slot(page);
        // 0: the page is not what a poll decoded (a trap's fact since).
        if cells.is_empty() || self.decoded_from[slot] == 0 || !self.pages.contains_key(&page) {
            return;
        }
        self.decoded_from[slot] = page::walk_fingerprint(cells, data) | 1;
    }

    /// The quirks noticed when `page` was last decoded from a GET.
    fn notes_of(&self, page: Page) -> &[String] {
        self.decoded_notes
            .iter()
            .find(|(p, _)| *p == page)
            .map_or(&[], |(_, notes)| notes)
    }

    fn refresh_status(&mut self) -> bool {
        let flags = crate::status::flags(self);
        let changed = flags != self.status;
        self.status = flags;
        changed
    }

    /// NUT's `ups.status` flags, in NUT's order.
    pub fn status(&self) -> &[&'static str] {
        &self.status
    }

    /// The pages this UPS has, in page order.
    pub fn pages(&self) -> impl Iterator<Item = &PageData> {
        self.pages.values().map(|p| &**p)
    }

    pub fn page(&self, page: Page) -> Option<&PageData> {
        self.pages.get(&page).map(|p| &**p)
    }

    /// The reading of a scalar (`index` `None`) or a table cell, if this
    /// UPS has it.
    pub fn reading(&self, field: &Field, index: Option<u32>) -> Option<&Reading> {
        self.pages.get(&field.page)?.reading(field, index)
    }

    /// The source that serves `field` (scalar or column) on this UPS.
    pub fn source_of(&self, field: &Field) -> Option<&'static Source> {
        let page = self.pages.get(&field.page)?;
        match field.table {
            None => page.scalar(field).map(|s| s.source),
            Some(table) => page
                .table(table)?
                .columns
                .iter()
                .find(|c| std::ptr::eq(c.field, field))
                .map(|c| c.source),
        }
    }

    /// A page's JSON as published (the output page with the NUT-style
    /// status), `None` when the UPS has no data for it.
    pub fn page_json(&self, page: Page) -> Option<Map<String, Json>> {
        let mut json = self.pages.get(&page)?.to_json();
        if page == Page::Output {
            json.insert(STATUS_KEY.to_string(), Json::String(self.status.join(" ")));
            json.insert(
                STATUS_TEXT_KEY.to_string(),
                Json::String(crate::status::text(&self.status)),
            );
        }
        Some(json)
    }

    /// A page's JSON text as published (the output page with the NUT-style
    /// status), serialized straight from the readings.
    pub fn page_text(&self, page: Page) -> Option<String> {
        Some(self.published_page(page)?.text())
    }

    /// A page as published, apart from the model: its readings shared (not
    /// copied), its text rendered whenever it is asked for.
    pub fn published_page(&self, page: Page) -> Option<PublishedPage> {
        Some(PublishedPage {
            data: self.pages.get(&page)?.clone(),
            status: (page == Page::Output).then(|| self.status.clone()),
        })
    }

    /// The cells in `data` that `page`'s readings came from (none when the
    /// UPS has no data for it): what a later poll of the page GETs.
    pub fn served_cells(&self, page: Page, data: &Snapshot) -> Vec<ServedCell> {
        self.pages
            .get(&page)
            .map_or_else(Vec::new, |p| p.served_cells(data))
    }

    /// Every page's JSON, in page order.
    pub fn pages_json(&self) -> BTreeMap<Page, Map<String, Json>> {
        self.pages
            .keys()
            .filter_map(|&page| Some((page, self.page_json(page)?)))
            .collect()
    }

    /// Whether every page was read at least once (what discovery waits for).
    pub fn is_complete(&self) -> bool {
        self.read.len() == Page::ALL.len()
    }

    /// The shape (what this UPS has and can do), rebuilt only after a
    /// change of layout or identity.
    pub fn shape(&mut self) -> Arc<Shape> {
        if let Some(shape) = &self.shape {
            return shape.clone();
        }
        let shape = Arc::new(Shape::of(self, self.layouts.as_ref()));
        self.shape = Some(shape.clone());
        shape
    }

    /// A new shape if the layout or identity changed since the last one
    /// this returned.
    pub fn new_shape(&mut self) -> Option<Arc<Shape>> {
        let shape = self.shape();
        // The same `Arc` while nothing changed: no deep comparison per poll.
        let announced = self
            .announced
            .as_ref()
            .filter(|announced| Arc::ptr_eq(announced, &shape) || ***announced == *shape);
        if let Some(announced) = announced {
            // Rebuilt the same (a reading of the general page changed):
            // one copy is kept, not two.
            self.shape = Some(announced.clone());
            return None;
        }
        self.announced = Some(shape.clone());
        Some(shape)
    }
}

#[cfg(test)]
mod tests;
