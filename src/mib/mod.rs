//! The point table: every fact ups2mqtt knows about the three UPS MIBs, as
//! static, typed data.
//!
//! This module owns *what* a UPS card can tell us and *how to read it*: for
//! each page field, the MIB objects that carry it (in order of preference),
//! their OIDs, how the raw value decodes (scale to SI, enum labels, yes/no
//! flags, sentinels), whether and how it may be written, and what Home
//! Assistant should call it. Polling (`probe`, `ups`), the JSON pages
//! (`pages`), discovery and command validation are all derived from it.
//!
//! It knows nothing of sockets or MQTT, and depends only on [`crate::oid`].
//! The data itself lives in [`points`]; the RFC 1628 well-known alarms in
//! [`alarms`].

pub mod alarms;
pub mod commands;
pub mod coverage;
pub mod events;
pub mod points;
pub mod reference;
pub mod traps;
pub mod vendors;

use crate::oid::Oid;

pub use points::{FIELDS, TABLES};

/// The eleven pages of the product, in publishing order. Serde reads and
/// writes them by [`Page::name`] (configuration keys).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Page {
    General,
    Alarms,
    Input,
    Output,
    Battery,
    Config,
    Receptacles,
    Devices,
    Environment,
    Control,
    Test,
}

impl Page {
    pub const ALL: [Page; 11] = [
        Page::General,
        Page::Alarms,
        Page::Input,
        Page::Output,
        Page::Battery,
        Page::Config,
        Page::Receptacles,
        Page::Devices,
        Page::Environment,
        Page::Control,
        Page::Test,
    ];

    /// The page's name in JSON, MQTT topics and the CLI.
    pub const fn name(self) -> &'static str {
        match self {
            Page::General => "general",
            Page::Alarms => "alarms",
            Page::Input => "input",
            Page::Output => "output",
            Page::Battery => "battery",
            Page::Config => "config",
            Page::Receptacles => "receptacles",
            Page::Devices => "devices",
            Page::Environment => "environment",
            Page::Control => "control",
            Page::Test => "test",
        }
    }

    /// Looks a page up by its name.
    pub fn from_name(name: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Pages whose values change by the second (polled every `poll.fast`
    /// seconds; their Home Assistant sensors expire).
    pub const fn is_fast(self) -> bool {
        matches!(
            self,
            Page::Alarms | Page::Input | Page::Output | Page::Battery
        )
    }

    /// Pages whose table rows come and go between polls (active alarms):
    /// always walked, never read by a GET of the cells seen before.
    pub const fn rows_come_and_go(self) -> bool {
        matches!(self, Page::Alarms)
    }

    /// The pages a write to this page can change, to read again after a
    /// SET: a control write (outlets, UPS on/off) shows on the receptacles
    /// and output pages too.
    pub const fn changed_by_writes(self) -> &'static [Page] {
        match self {
            Page::Control => &[Page::Control, Page::Receptacles, Page::Output],
            Page::General => &[Page::General],
            Page::Alarms => &[Page::Alarms],
            Page::Input => &[Page::Input],
            Page::Output => &[Page::Output],
            Page::Battery => &[Page::Battery],
            Page::Config => &[Page::Config],
            Page::Receptacles => &[Page::Receptacles],
            Page::Devices => &[Page::Devices],
            Page::Environment => &[Page::Environment],
            Page::Test => &[Page::Test],
        }
    }
}

impl std::fmt::Display for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The MIBs a Schneider/MGE/APC card may serve at once. Serde reads and
/// writes them by [`Mib::name`] (the `mibs` key).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Mib {
    /// RFC 1628 UPS-MIB, `1.3.6.1.2.1.33`.
    Rfc1628,
    /// MG-SNMP-UPS-MIB, enterprise 705.
    Mge,
    /// PowerNet-MIB, enterprise 318.
    PowerNet,
    /// SNMPv2-MIB's system group (`sysDescr`, `sysObjectID`): every agent
    /// has it, so it is read from any UPS whose card serves one of the UPS
    /// MIBs, but it never counts as serving a UPS MIB (it is not in
    /// [`Mib::ALL`], detection and `mibs` in the config ignore it). It
    /// names the device when the vendor ident objects are missing.
    #[serde(skip)]
    System,
}

impl Mib {
    pub const ALL: [Mib; 3] = [Mib::Rfc1628, Mib::Mge, Mib::PowerNet];

    /// The subtree whose presence says the agent serves this MIB's UPS part.
    pub const fn probe_root(self) -> &'static str {
        match self {
            Mib::Rfc1628 => "1.3.6.1.2.1.33.1",
            Mib::Mge => "1.3.6.1.4.1.705.1",
            Mib::PowerNet => "1.3.6.1.4.1.318.1.1.1",
            Mib::System => "1.3.6.1.2.1.1",
        }
    }

    /// The whole MIB's registration point.
    pub const fn root(self) -> &'static str {
        match self {
            Mib::Rfc1628 => "1.3.6.1.2.1.33",
            Mib::Mge => "1.3.6.1.4.1.705",
            Mib::PowerNet => "1.3.6.1.4.1.318",
            Mib::System => "1.3.6.1.2.1.1",
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Mib::Rfc1628 => "rfc1628",
            Mib::Mge => "mge",
            Mib::PowerNet => "powernet",
            Mib::System => "system",
        }
    }

    pub fn from_name(name: &str) -> Option<Mib> {
        Mib::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for Mib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// SI units values are published in (after scaling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    Volt,
    Ampere,
    Watt,
    VoltAmpere,
    Hertz,
    Percent,
    Second,
    Celsius,
    /// Energy counters (PowerNet's kWh and hundredths of kWh).
    KiloWattHour,
    /// Battery capacity (PowerNet `upsAdvBatteryTotalCapacity`).
    AmpereHour,
    /// Reactive power (PowerNet `upsAdvOutputReactivePower`).
    VoltAmpereReactive,
}

impl Unit {
    /// The unit as Home Assistant spells it.
    pub const fn symbol(self) -> &'static str {
        match self {
            Unit::Volt => "V",
            Unit::Ampere => "A",
            Unit::Watt => "W",
            Unit::VoltAmpere => "VA",
            Unit::Hertz => "Hz",
            Unit::Percent => "%",
            Unit::Second => "s",
            Unit::Celsius => "°C",
            Unit::KiloWattHour => "kWh",
            Unit::AmpereHour => "Ah",
            Unit::VoltAmpereReactive => "var",
        }
    }
}

/// How a raw SNMP value becomes a JSON value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decode {
    /// DisplayString → trimmed JSON string.
    Text,
    /// Any integer type × `scale` → number in the field's SI unit. TimeTicks
    /// use 0.01, RFC 1628 minutes use 60, tenths use 0.1.
    Number { scale: f64 },
    /// INTEGER enumeration → its label.
    Enum(&'static [(i64, &'static str)]),
    /// Two-valued INTEGER → JSON boolean (`on` → true, `off` → false, any
    /// other value → null). MGE's yes(1)/no(2) is `Flag { on: 1, off: 2 }`.
    Flag { on: i64, off: i64 },
    /// AutonomousType pointing into upsWellKnownAlarms → alarm name; a
    /// vendor OID → its dotted form; `0.0` → null.
    Alarm,
    /// OBJECT IDENTIFIER → dotted string; `0.0` → null.
    ObjectId,
    /// `sysObjectID` → the vendor owning its enterprise arc
    /// (`1.3.6.1.4.1.<n>…`, [`vendors::VENDORS`]); null for an unknown
    /// enterprise or an OID outside `enterprises`.
    Vendor,
}

/// Yes(1)/no(2), the MGE boolean (quirk Q5).
pub const YES_NO: Decode = Decode::Flag { on: 1, off: 2 };

impl Decode {
    /// Decimal places a scaled number keeps (0.1 → 1, 0.01 → 2, 60 → 0):
    /// -log10(scale) rounded, counted in tenfold steps up to 10^-½ instead
    /// of calling log10, the gateway's last use of libm (not loading libm
    /// saves ~0.6 MB of resident memory).
    pub fn decimals(self) -> u32 {
        match self {
            Decode::Number { scale } if scale < 1.0 => {
                const TEN_TO_MINUS_HALF: f64 = 0.316_227_766_016_837_94;
                let (mut x, mut decimals) = (scale, 0);
                while x > 0.0 && x < TEN_TO_MINUS_HALF {
                    x *= 10.0;
                    decimals += 1;
                }
                decimals
            }
            _ => 0,
        }
    }

    /// The label of a raw enum value.
    pub fn label(self, raw: i64) -> Option<&'static str> {
        self.reading_label(raw).map(crate::pages::Label::as_str)
    }

    /// [`Decode::label`] as a reading's label.
    pub fn reading_label(self, raw: i64) -> Option<crate::pages::Label> {
        match self {
            Decode::Enum(labels) => labels
                .iter()
                .find(|(v, _)| *v == raw)
                .map(|(_, l)| crate::pages::Label::new(l)),
            _ => None,
        }
    }

    /// The raw value of an enum label.
    pub fn raw_of_label(self, label: &str) -> Option<i64> {
        match self {
            Decode::Enum(labels) => labels.iter().find(|(_, l)| *l == label).map(|(v, _)| *v),
            _ => None,
        }
    }
}

/// What values a writable point accepts, in the field's published units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Legal {
    /// A number within `min..=max` (SI units; scaled back before the SET).
    Range { min: f64, max: f64 },
    /// Any of the enum's labels.
    AnyLabel,
    /// Only these raw enum values may be written (e.g. commands: GET
    /// returns states, SET takes actions).
    Labels(&'static [i64]),
    /// A boolean, for `Decode::Flag` points.
    Bool,
    /// A string of at most this many bytes.
    Text { max_len: usize },
}

/// Whether a point may be written, and with what.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Access {
    ReadOnly,
    ReadWrite(Legal),
}

/// The SMI type an object has on the wire (what a SET must send and what
/// the simulator serves). Readers accept any integer type (quirk Q4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Integer,
    Gauge32,
    Counter32,
    TimeTicks,
    OctetString,
    ObjectId,
}

/// Which written values cut power to the load (outlet/UPS off, reboot,
/// shutdown countdowns): refused unless dangerous commands are enabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutsPower {
    Never,
    /// These raw values.
    Values(&'static [i64]),
    /// Any raw value but these (e.g. `-1` aborts a countdown).
    AllBut(&'static [i64]),
}

impl CutsPower {
    pub fn includes(self, raw: i64) -> bool {
        match self {
            CutsPower::Never => false,
            CutsPower::Values(values) => values.contains(&raw),
            CutsPower::AllBut(values) => !values.contains(&raw),
        }
    }
}

/// Where a source's instances live below its object OID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowIndex {
    /// The usual shape: a scalar at `.0`, a column cell at `.<row>`
    /// (tolerating a trailing `.0`, quirk Q1).
    Single,
    /// A column of a per-feed phase table, of which only the cells of one
    /// feed belong here (PowerNet `upsPhase` tables: input feed 1 is the
    /// main input, feed 2 the bypass; output feed 1). The MIB's INDEX and
    /// a real Galaxy VS serve `.<feed>.<phase>`; NUT's apc-mib, LibreNMS and
    /// Zabbix read `.<feed>.1.<phase>`, which some NMC firmware serves: both
    /// are accepted, the MIB's form is what we address.
    FeedThenRow { feed: u32 },
    /// A page-level value read from one row of a table, `.<row>` (the
    /// per-feed PowerNet `upsPhaseInputTable`: phase counts, frequency).
    Row(u32),
}

impl RowIndex {
    /// The arcs after the object OID for a row (`0` for scalars).
    pub fn arcs(self, row: u32) -> InstanceArcs {
        match self {
            RowIndex::Single => InstanceArcs::one(row),
            RowIndex::FeedThenRow { feed } => InstanceArcs {
                arcs: [feed, row],
                len: 2,
            },
            RowIndex::Row(fixed) => InstanceArcs::one(fixed),
        }
    }

    /// The row a cell suffix belongs to, if it is a cell of this source:
    /// `[index]` or `[index, 0]` (quirk Q1) for a single index;
    /// `[feed, index]` or `[feed, 1, index]` for the per-feed phase tables.
    /// A bare `[0]` is no row: MGE agents (5PX, Galaxy 7000) serve
    /// placeholders there (`mginputMinimumVoltage.0` = 50.0 V beside a
    /// maximum of 0.0 V), which must not become line 1.
    pub fn row_of(self, suffix: &[u32]) -> Option<u32> {
        match (self, suffix) {
            (RowIndex::Single | RowIndex::Row(_), [0]) => None,
            (RowIndex::Single | RowIndex::Row(_), [index] | [index, 0]) => Some(*index),
            (RowIndex::FeedThenRow { feed }, [f, index] | [f, 1, index]) if f == &feed => {
                Some(*index)
            }
            _ => None,
        }
    }
}

/// The arcs after an object's OID that name one of its cells (one or two:
/// a row, or a feed and a row), kept inline: decoding looks them up for
/// every cell of every poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceArcs {
    arcs: [u32; 2],
    len: u8,
}

impl InstanceArcs {
    const fn one(arc: u32) -> InstanceArcs {
        InstanceArcs {
            arcs: [arc, 0],
            len: 1,
        }
    }

    pub fn as_slice(&self) -> &[u32] {
        &self.arcs[..usize::from(self.len)]
    }
}

impl std::ops::Deref for InstanceArcs {
    type Target = [u32];

    fn deref(&self) -> &[u32] {
        self.as_slice()
    }
}

/// One MIB object that can supply a field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Source {
    pub mib: Mib,
    /// The MIB's object name, e.g. `upsmgBatteryLevel`.
    pub object: &'static str,
    /// The object's OID without instance: scalars are read at `.0`, table
    /// columns at `.<index>` (and tolerate a trailing `.0`, quirk Q1).
    pub oid: &'static str,
    pub decode: Decode,
    pub syntax: Syntax,
    pub access: Access,
    pub cuts_power: CutsPower,
    /// Raw values that mean "no reading" (idle timers, placeholders).
    pub null_when: &'static [i64],
    /// Texts that mean "no reading" (PowerNet's `UNKNOWN` and `NOT
    /// SUPPORTED` flag strings), compared trimmed and without case. An
    /// empty read-only text is no reading on every source.
    pub null_texts: &'static [&'static str],
    /// Decoded values above this are taken as tenths the card forgot to
    /// declare (quirk Q2, e.g. 2303 "V" mains): the value is divided by 10
    /// and the UPS's health notes it.
    pub tenths_above: Option<f64>,
    /// Where its instances live ([`RowIndex::Single`] for nearly all).
    pub index: RowIndex,
    /// Decoded values outside `min..=max` are no reading (a card's
    /// placeholder such as 0 V while the value is not measured, or a
    /// sentinel the MIB does not name).
    pub valid: Option<(f64, f64)>,
    /// On which cards this source measures its field's quantity (a line
    /// table column only): MGE's per-phase voltage is phase-to-neutral on a
    /// single-phase card and phase-to-phase on a 3-phase Galaxy.
    pub lines: Lines,
    /// Why this source is where it is, quirks, and so on.
    pub note: &'static str,
}

/// The cards a line-table source serves its field on, by their number of
/// lines. A source limited to some cards proves no line itself: the line
/// count comes from the other columns (and the card's stated count), then
/// the source's column is kept only where the count fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lines {
    /// Every card.
    Any,
    /// Single-phase cards (one line) only.
    Single,
    /// Polyphase cards (more than one line) only.
    Several,
}

impl Lines {
    /// Whether a source with this condition serves a table of `count` lines.
    pub const fn fits(self, count: usize) -> bool {
        match self {
            Lines::Any => true,
            Lines::Single => count <= 1,
            Lines::Several => count > 1,
        }
    }
}

/// Builds a read-only source; chain the `const fn`s below to refine it.
pub const fn src(mib: Mib, object: &'static str, oid: &'static str, decode: Decode) -> Source {
    Source {
        mib,
        object,
        oid,
        decode,
        syntax: match decode {
            Decode::Text => Syntax::OctetString,
            Decode::Alarm | Decode::ObjectId | Decode::Vendor => Syntax::ObjectId,
            _ => Syntax::Integer,
        },
        access: Access::ReadOnly,
        cuts_power: CutsPower::Never,
        null_when: &[],
        null_texts: &[],
        tenths_above: None,
        index: RowIndex::Single,
        valid: None,
        lines: Lines::Any,
        note: "",
    }
}

impl Source {
    pub const fn rw(mut self, legal: Legal) -> Self {
        self.access = Access::ReadWrite(legal);
        self
    }
    pub const fn cuts_power(mut self, cuts: CutsPower) -> Self {
        self.cuts_power = cuts;
        self
    }
    /// TimeTicks (hundredths of a second) on the wire.
    pub const fn ticks(mut self) -> Self {
        self.syntax = Syntax::TimeTicks;
        self
    }
    pub const fn gauge(mut self) -> Self {
        self.syntax = Syntax::Gauge32;
        self
    }
    pub const fn counter(mut self) -> Self {
        self.syntax = Syntax::Counter32;
        self
    }
    pub const fn null_when(mut self, raw: &'static [i64]) -> Self {
        self.null_when = raw;
        self
    }
    pub const fn null_text(mut self, texts: &'static [&'static str]) -> Self {
        self.null_texts = texts;
        self
    }
    pub const fn tenths_above(mut self, limit: f64) -> Self {
        self.tenths_above = Some(limit);
        self
    }
    pub const fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }
    /// Cells `.<feed>.<row>` of a two-arc table.
    pub const fn feed(mut self, feed: u32) -> Self {
        self.index = RowIndex::FeedThenRow { feed };
        self
    }
    /// A page-level value read at `.<row>` of a table.
    pub const fn at_row(mut self, row: u32) -> Self {
        self.index = RowIndex::Row(row);
        self
    }
    /// Only on single-phase cards (see [`Lines`]).
    pub const fn single_phase_only(mut self) -> Self {
        self.lines = Lines::Single;
        self
    }
    /// Only on polyphase cards (see [`Lines`]).
    pub const fn polyphase_only(mut self) -> Self {
        self.lines = Lines::Several;
        self
    }
    /// Decoded values outside `min..=max` are no reading.
    pub const fn valid(mut self, min: f64, max: f64) -> Self {
        self.valid = Some((min, max));
        self
    }
    /// A MIB `NonNegativeInteger`: a negative value (-1 on many cards) is
    /// no reading.
    pub const fn non_negative(self) -> Self {
        self.valid(0.0, f64::INFINITY)
    }
    /// A frequency: 0 Hz (and anything below 1 Hz) means "not measured"
    /// (a bypass without supply, a card without the sensor).
    pub const fn frequency(self) -> Self {
        self.valid(1.0, f64::INFINITY)
    }

    /// The instance OID of a row (`0` for page-level values).
    pub fn instance(&self, row: u32) -> Oid {
        self.object_oid().join(self.index.arcs(row).as_slice())
    }

    /// The parsed object OID. The table's OIDs are checked by a unit test.
    pub fn object_oid(&self) -> Oid {
        self.object().into_owned()
    }

    /// The parsed object OID, without parsing it again: every source of
    /// the point table is parsed once per process (polls and traps look
    /// sources up by OID all the time).
    pub fn object(&self) -> std::borrow::Cow<'static, Oid> {
        match self.object_id() {
            Some(id) => std::borrow::Cow::Borrowed(object_by_id(id)),
            None => std::borrow::Cow::Owned(
                Oid::parse(self.oid).expect("point table OIDs are valid (checked by tests)"),
            ),
        }
    }

    /// The number of this source's object among the point table's parsed
    /// objects: a two-byte handle for what is kept per cell (see
    /// [`object_by_id`]). `None` only for a source outside the table.
    pub fn object_id(&self) -> Option<ObjectId> {
        OBJECTS.by_address.get(&text_key(self.oid)).copied()
    }

    pub fn is_writable(&self) -> bool {
        matches!(self.access, Access::ReadWrite(_))
    }
}

/// The number of a point-table object (see [`Source::object_id`]).
pub type ObjectId = u16;

/// The parsed object OID of every source in the point table, numbered.
struct Objects {
    /// Keys are addresses, distinct by construction: SipHash, the default,
    /// cost more than the lookup it serves (every cell of every poll).
    by_address: std::collections::HashMap<(usize, usize), ObjectId, crate::hash::FastHash>,
    oids: Vec<Oid>,
    /// Each OID's BER content, what a GET of one of its cells starts with.
    ber: Vec<Box<[u8]>>,
}

static OBJECTS: std::sync::LazyLock<Objects> = std::sync::LazyLock::new(|| {
    let mut objects = Objects {
        by_address: Default::default(),
        oids: Vec::new(),
        ber: Vec::new(),
    };
    // One number per OID, whatever text (address) names it: cells are
    // matched by number (see `model::ServedValues`) as a snapshot matches
    // them by OID.
    let mut by_oid = std::collections::BTreeMap::new();
    for source in FIELDS.iter().flat_map(|f| f.sources) {
        let key = text_key(source.oid);
        if objects.by_address.contains_key(&key) {
            continue;
        }
        let Ok(oid) = Oid::parse(source.oid) else {
            continue;
        };
        let id = match by_oid.get(&oid) {
            Some(&id) => id,
            None => {
                let Ok(id) = objects.oids.len().try_into() else {
                    continue;
                };
                by_oid.insert(oid.clone(), id);
                objects.oids.push(oid);
                id
            }
        };
        objects.by_address.insert(key, id);
    }
    objects.ber = objects
        .oids
        .iter()
        .map(|oid| {
            let mut content = Vec::new();
            crate::snmp::ber::push_oid_content(&mut content, oid);
            content.into_boxed_slice()
        })
        .collect();
    objects
});

/// The object OID numbered `id` by [`Source::object_id`].
pub fn object_by_id(id: ObjectId) -> &'static Oid {
    &OBJECTS.oids[usize::from(id)]
}

/// The BER content of [`object_by_id`]'s OID (no tag, no length).
pub fn object_ber(id: ObjectId) -> &'static [u8] {
    &OBJECTS.ber[usize::from(id)]
}

/// A static text's identity (address and length): the cache key of
/// [`Source::object`].
fn text_key(text: &'static str) -> (usize, usize) {
    (text.as_ptr() as usize, text.len())
}

/// Home Assistant entity platforms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    Sensor,
    BinarySensor,
    Number,
    Select,
    Switch,
    Text,
    Button,
    /// A stream of events (traps), not a state.
    Event,
}

impl Component {
    pub const fn name(self) -> &'static str {
        match self {
            Component::Sensor => "sensor",
            Component::BinarySensor => "binary_sensor",
            Component::Number => "number",
            Component::Select => "select",
            Component::Switch => "switch",
            Component::Text => "text",
            Component::Button => "button",
            Component::Event => "event",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateClass {
    Measurement,
    TotalIncreasing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Diagnostic,
    Config,
}

/// What Home Assistant should call a field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ha {
    pub component: Component,
    pub device_class: Option<&'static str>,
    pub state_class: Option<StateClass>,
    pub category: Option<Category>,
    /// Entities a user of the NUT integration expects to see by default.
    pub enabled: bool,
}

impl Ha {
    pub const fn new(component: Component) -> Ha {
        Ha {
            component,
            device_class: None,
            state_class: None,
            category: None,
            enabled: true,
        }
    }
    pub const fn class(mut self, device_class: &'static str) -> Ha {
        self.device_class = Some(device_class);
        self
    }
    pub const fn measurement(mut self) -> Ha {
        self.state_class = Some(StateClass::Measurement);
        self
    }
    pub const fn total(mut self) -> Ha {
        self.state_class = Some(StateClass::TotalIncreasing);
        self
    }
    pub const fn diagnostic(mut self) -> Ha {
        self.category = Some(Category::Diagnostic);
        self.enabled = false;
        self
    }
    pub const fn config(mut self) -> Ha {
        self.category = Some(Category::Config);
        self
    }
    pub const fn disabled(mut self) -> Ha {
        self.enabled = false;
        self
    }
}

/// One field of a page: a JSON key with its unit, Home Assistant metadata
/// and the MIB objects that can supply it, most precise first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    pub page: Page,
    /// `None` for a page-level value; `Some(key)` for a column of the table
    /// published as the JSON array `key` (see [`TABLES`]).
    pub table: Option<&'static str>,
    /// snake_case, stable: the JSON key and part of MQTT/HA ids.
    pub key: &'static str,
    /// Human name, for Home Assistant and `--format table`.
    pub label: &'static str,
    pub unit: Option<Unit>,
    pub ha: Ha,
    pub sources: &'static [Source],
    /// A reading the card itself marks invalid: this cell is no reading
    /// when another column of the same row says so (an environment sensor
    /// whose communication is lost still reports 0.0 °C).
    pub void_when: Option<VoidWhen>,
    /// A zero in this column is no reading while the named column of the
    /// same row reads more than zero: the card does not measure it (a 5PX
    /// reports 0 A and 0 W on an input line carrying 229 V while its
    /// output draws 1.6 kW; a UPS on mains always draws current).
    pub zero_unmeasured_while: Option<&'static str>,
}

/// "Null when column `column` of the same row reads `flag`".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoidWhen {
    pub column: &'static str,
    pub flag: bool,
}

impl Field {
    /// This column is no reading while `column` of its row reads `flag`.
    pub const fn void_when(mut self, column: &'static str, flag: bool) -> Field {
        self.void_when = Some(VoidWhen { column, flag });
        self
    }

    /// A zero here is no reading while `column` of its row reads more
    /// than zero.
    pub const fn zero_unmeasured_while(mut self, column: &'static str) -> Field {
        self.zero_unmeasured_while = Some(column);
        self
    }

    /// `page.key` or `page.table.key`: the field's stable path.
    pub fn path(&self) -> String {
        match self.table {
            Some(table) => format!("{}.{}.{}", self.page, table, self.key),
            None => format!("{}.{}", self.page, self.key),
        }
    }

    pub fn is_writable(&self) -> bool {
        self.sources.iter().any(Source::is_writable)
    }
}

/// A table published as a JSON array of rows, each with its SNMP `index`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Table {
    pub page: Page,
    pub key: &'static str,
    pub label: &'static str,
    /// A page-level field of the same page holding the number of rows;
    /// rows with a higher index are dropped (cards pad tables with zeros).
    pub row_limit: Option<&'static str>,
    /// A row without a value for this column is dropped (empty alarm rows).
    pub required: Option<&'static str>,
    /// A page-level field of the same page (and MIB) saying how many rows
    /// the table has now: while it reads 0 the table is empty, and a poll
    /// that reads the page every time does not walk it (RFC 1628
    /// upsAlarmsPresent: "the present number of active alarm conditions").
    pub counted_by: Option<&'static str>,
    /// What one row is (`phase`, `outlet_group`, `sensor`): the label that
    /// carries the row's index in Prometheus metrics.
    pub row: &'static str,
}

impl Table {
    pub const fn row(mut self, row: &'static str) -> Table {
        self.row = row;
        self
    }

    pub const fn counted_by(mut self, field: &'static str) -> Table {
        self.counted_by = Some(field);
        self
    }
}

/// The table a column belongs to.
pub fn table_of(field: &Field) -> Option<&'static Table> {
    let key = field.table?;
    TABLES.iter().find(|t| t.page == field.page && t.key == key)
}

/// All fields of one page, in table order.
pub fn fields_of(page: Page) -> impl Iterator<Item = &'static Field> {
    FIELDS.iter().filter(move |f| f.page == page)
}

/// How a whole-UPS value follows from its lines when the card states no
/// total of its own (on a single-phase UPS every rule gives line 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// The mean of the lines (phase voltages).
    Mean,
    /// The highest line (load: the phase that trips first).
    Max,
    /// The sum of the lines (power).
    Sum,
}

/// A whole-UPS field a person automates on, and the line column it follows
/// from where the card has no total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WholeUps {
    /// `page.key` of the page-level field.
    pub total: &'static str,
    /// `page.table.key` of the line column.
    pub lines: &'static str,
    pub combine: Combine,
}

/// The whole-UPS fields: the card's own total when it serves one,
/// otherwise combined from its lines by the rule here. So a UPS with lines
/// always has the total: the total is what Home Assistant shows by
/// default, the line column is diagnostic (hidden until enabled).
pub static WHOLE_UPS: &[WholeUps] = &[
    WholeUps {
        total: "input.voltage",
        lines: "input.lines.voltage",
        combine: Combine::Mean,
    },
    WholeUps {
        total: "output.voltage",
        lines: "output.lines.voltage",
        combine: Combine::Mean,
    },
    WholeUps {
        total: "output.load",
        lines: "output.lines.load",
        combine: Combine::Max,
    },
    WholeUps {
        total: "output.power",
        lines: "output.lines.power",
        combine: Combine::Sum,
    },
];

/// The point table of one page, indexed once per process (every poll
/// decodes pages through it).
#[derive(Debug)]
pub struct PageIndex {
    /// Page-level fields, in table order.
    pub scalars: Vec<&'static Field>,
    /// The page's tables in [`TABLES`] order, each with its columns in
    /// table order.
    pub tables: Vec<(&'static Table, Vec<&'static Field>)>,
}

/// The [`PageIndex`] of a page.
pub fn page_index(page: Page) -> &'static PageIndex {
    static INDEX: std::sync::LazyLock<Vec<PageIndex>> = std::sync::LazyLock::new(|| {
        Page::ALL
            .iter()
            .map(|&page| PageIndex {
                scalars: fields_of(page).filter(|f| f.table.is_none()).collect(),
                tables: TABLES
                    .iter()
                    .filter(|t| t.page == page)
                    .map(|t| {
                        let columns = fields_of(page).filter(|f| f.table == Some(t.key));
                        (t, columns.collect())
                    })
                    .collect(),
            })
            .collect()
    });
    &INDEX[Page::ALL
        .iter()
        .position(|&p| p == page)
        .expect("every page")]
}

/// Looks up a field by its path (`battery.charge`, `input.lines.voltage`):
/// a hash lookup in an index of the point table built once per process
/// (status, trap effects and commands look fields up on every poll).
pub fn field_by_path(path: &str) -> Option<&'static Field> {
    type ByPath = std::collections::HashMap<String, &'static Field, crate::hash::FastHash>;
    static BY_PATH: std::sync::LazyLock<ByPath> =
        std::sync::LazyLock::new(|| FIELDS.iter().map(|f| (f.path(), f)).collect());
    BY_PATH.get(path).copied()
}

#[cfg(test)]
mod tests;
