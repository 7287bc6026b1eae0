//! Home Assistant MQTT discovery, derived from the point table and the pages
//! a UPS really published.
//!
//! This module owns the discovery *payloads*: which entities a UPS gets, their
//! ids, names, platforms, units and classes, the Jinja templates that read a
//! value out of a page's JSON, and the bridge device that links them. It does
//! not publish anything (the gateway does) and builds every topic and id
//! through [`crate::topics::Naming`].
//!
//! What is announced, and why:
//! - One device-based message per UPS (`<prefix>/device/<device id>/config`,
//!   with `components`) carrying the full device block, the `origin` block and
//!   the availability shared by every component: `<base>/bridge/state`
//!   (`{"state": ...}`) *and* `<base>/<ups>/availability`, mode `all`.
//! - One component per field present in the pages: page-level keys present in
//!   a page's JSON (even when `null`: the UPS has the object, the value is
//!   unknown for now), and for tables one component per (row `index`, column)
//!   present. Fields absent from the pages get nothing. The exception is the
//!   alarm table, whose rows are events, not things: it is summarised by one
//!   "Active alarms" sensor (see [`SUMMARISED_TABLES`]) instead of entities
//!   that would come and go with every alarm.
//! - Ids: `unique_id` = `<device id>_<page>_<key>` or
//!   `<device id>_<page>_<table>_<index>_<key>` (device id = gateway id + UPS
//!   id, never the serial); the component key in `components` is the same
//!   without the device id; `default_entity_id` =
//!   `<platform>.<ups id>_<page>_<key>` (Home Assistant keeps the part after
//!   the dot, so the platform prefix is required). Outlets are
//!   `receptacles_<table>_<index>_load` (and `_load_cycle`), named commands
//!   `command_<name with _ for .>`.
//! - Templates turn every "no value" into Home Assistant's `None` payload
//!   (state `unknown`): a JSON `null`, a key or table row that is gone, a page
//!   whose retained message was cleared, an enum label outside the
//!   announced `options` (`unknown_<n>`, which Home Assistant would reject)
//!   and a number outside a number entity's `min..max`; a text entity shows
//!   an empty string instead (it would show `None` as text). Binary sensors
//!   and switches map JSON `true`/`false` to `ON`/`OFF`.
//!
//! Writable points and commands (the contract of [`crate::command`]):
//! - A field whose source in use on this UPS is writable becomes, by its
//!   decoder and legality ([`Role`], the one place that decides the
//!   platform): a number (`Legal::Range`: min, max, a step from the
//!   source's resolution, unit, mode `box`), a select (enum; `options` are
//!   the words a person reads ([`label_text`]) for the labels that may be
//!   written, shown by the value template and turned back into the label
//!   by a `command_template`, so the set topic and the pages keep the
//!   machine label), a switch
//!   (`Legal::Bool` flag, `ON` / `OFF`) or a text (`max` = the legal
//!   length). Its `command_topic` is
//!   `<base>/<ups>/<page>/<key>/set` or, for a table cell,
//!   `<base>/<ups>/<page>/<table>/<index>/<key>/set`, the payload the raw
//!   value in published units. They are in the `config` category, with
//!   the point table's `enabled_by_default`. The source in use is read from
//!   the pages ([`source_in_use`]): the MIB whose labels the value has, else
//!   the first the UPS serves.
//! - No optimistic state (`optimistic: false`): the state comes from the
//!   page topic, republished after the command's read-back, so an entity
//!   shows what the UPS reports, never what was asked.
//! - Command triggers (fields only ever written with an action label:
//!   outlet control cells, `control.ups_off`, `test.start`, ...; see
//!   [`is_command_trigger`]) get no entity of their own: they are driven by
//!   - one switch (device class `outlet`) per outlet, MGE receptacle or
//!     PowerNet outlet group ([`outlets`]), on `<base>/<ups>/command` with
//!     `outlet.<index>.load.on` / `.off`, its state from the receptacles
//!     page row, plus a reboot button (`outlet.<index>.load.cycle`);
//!   - one button per named command ([`COMMANDS`]) this UPS supports,
//!     `payload_press` the command's name. Commands that cut power to the
//!     load (by the point table's `CutsPower`: load off, shutdown, reboot,
//!     outlet reboot) are `config` and disabled by default; the gateway's
//!     policy refuses them anyway unless dangerous commands are enabled.
//! - Keys the gateway derives (the NUT-style status, [`DERIVED_FIELDS`])
//!   are plain sensors.
//! - Read-only points are sensors / binary sensors, with `config` shown as
//!   `diagnostic` because Home Assistant refuses sensors in the `config`
//!   category; `expire_after` goes on sensors of fast pages only.

use crate::mib::commands::{self, Arg, COMMANDS, NamedCommand, OUTLET_KINDS, Way};
use crate::mib::events::EventName;
use crate::mib::{
    self, Access, Category, Component, Decode, Field, Legal, Page, Source, StateClass, Table, Unit,
};
use crate::model::energy;
use crate::model::shape::Slot;
use crate::model::{Identity, Outlet, Shape};
use crate::topics::Naming;
use serde_json::{Map, Value as Json, json};

/// One retained MQTT message; an empty payload removes a retained topic / a
/// discovered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub topic: String,
    pub payload: String,
}

/// Static facts about this gateway for the origin/bridge blocks.
#[derive(Debug, Clone, Copy)]
pub struct Bridge<'a> {
    pub naming: &'a Naming,
    pub version: &'a str,
}

/// Per-UPS choices that are not in the point table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceOptions {
    /// Seconds; set on fields of fast pages ([`Page::is_fast`]) so stale
    /// values expire.
    pub expire_after: Option<u64>,
    /// The device's display name; default: the UPS id.
    pub name: Option<String>,
    /// `suggested_area`.
    pub area: Option<String>,
    /// The card's web interface.
    pub configuration_url: Option<String>,
}

/// Tables whose rows are events rather than things, announced as one summary
/// sensor: (page, table key, the column whose values the state lists).
pub const SUMMARISED_TABLES: &[(Page, &str, &str)] = &[(Page::Alarms, "active", "alarm")];

/// Page keys the gateway derives instead of reading them (no point table
/// field: [`crate::status`]'s NUT-style status), announced as plain
/// sensors: (page, key, entity name). Named as Home Assistant's NUT
/// integration names them.
pub const DERIVED_FIELDS: &[(Page, &str, &str)] = &[
    (Page::Output, "status_text", "Status"),
    (Page::Output, "ups_status", "Status data"),
];

/// Home Assistant's availability payloads, on both availability topics.
const ONLINE: &str = "online";
const OFFLINE: &str = "offline";

/// Reads `state` out of `{"state": "online"}`, and takes a plain `offline`
/// (a last will that is not JSON) as it is.
const BRIDGE_STATE_TEMPLATE: &str = "{{ value_json.state if value_json is mapping else value }}";

/// The bridge device (this gateway): `<prefix>/device/<gateway>_bridge/config`
/// with a connectivity binary sensor from `<base>/bridge/state`, so that the
/// UPS devices' `via_device` resolves to a named device.
pub fn bridge_device(bridge: &Bridge) -> Publication {
    let naming = bridge.naming;
    let device_id = naming.bridge_device_id();
    let connection = json!({
        "platform": "binary_sensor",
        "unique_id": format!("{device_id}_connection_state"),
        "default_entity_id": format!("binary_sensor.{}_connection_state", slug(&device_id)),
        "name": "Connection state",
        "state_topic": naming.bridge_state(),
        "value_template": BRIDGE_STATE_TEMPLATE,
        "payload_on": ONLINE,
        "payload_off": OFFLINE,
        "device_class": "connectivity",
        "entity_category": "diagnostic",
    });
    let payload = json!({
        "device": {
            "identifiers": [device_id],
            "name": bridge_name(naming),
            "manufacturer": "ups2mqtt",
            "model": "UPS SNMP to MQTT gateway",
            "sw_version": bridge.version,
        },
        "origin": origin(bridge),
        "components": { "connection_state": connection },
    });
    publication(naming, &device_id, &payload)
}

/// Everything one UPS really has: one device-based discovery message at
/// `<prefix>/device/<gateway>_<ups>/config`, rendered from the point table
/// and the UPS's [`Shape`].
///
/// The payload (hundreds of kB for a large UPS) is written straight into
/// its text one component at a time, never held as a JSON tree: a first
/// pass only counts the bytes, so the text is allocated once at its size.
pub fn ups_device(
    bridge: &Bridge,
    ups_id: &str,
    shape: &Shape,
    options: &DeviceOptions,
) -> Publication {
    let naming = bridge.naming;
    let device_id = naming.ups_device_id(ups_id);
    let ups = Ups {
        naming,
        ups_id,
        device_id: &device_id,
        options,
        shape,
    };
    let mut counted = Text::Count(0);
    write_ups_device(&mut counted, bridge, &ups);
    let mut text = Text::Bytes(Vec::with_capacity(counted.len()));
    write_ups_device(&mut text, bridge, &ups);
    Publication {
        topic: naming.discovery(&device_id),
        payload: text.into_string(),
    }
}

/// The device message: device block, origin, availability, components.
fn write_ups_device(text: &mut Text, bridge: &Bridge, ups: &Ups) {
    let naming = ups.naming;
    let mut message = Object::open(text);
    message.put(
        "device",
        &ups_device_block(naming, ups.ups_id, &ups.shape.identity, ups.options),
    );
    message.put("origin", &origin(bridge));
    message.put("availability", &availability(naming, ups.ups_id));
    message.put("availability_mode", "all");
    components(ups, &mut message.object("components"));
}

/// Removal of a UPS's device (empty retained payload at its discovery topic):
/// Home Assistant removes the device and every entity it announced.
pub fn ups_removal(naming: &Naming, ups_id: &str) -> Publication {
    Publication {
        topic: naming.discovery(&naming.ups_device_id(ups_id)),
        payload: String::new(),
    }
}

// ------------------------------------------------------------------ blocks

fn publication(naming: &Naming, device_id: &str, payload: &Json) -> Publication {
    Publication {
        topic: naming.discovery(device_id),
        payload: payload.to_string(),
    }
}

fn origin(bridge: &Bridge) -> Json {
    json!({ "name": "ups2mqtt", "sw_version": bridge.version })
}

/// `ups2mqtt bridge`, plus the gateway id when it is not the default one.
fn bridge_name(naming: &Naming) -> String {
    if naming.gateway_id == "ups2mqtt" {
        "ups2mqtt bridge".to_string()
    } else {
        format!("ups2mqtt bridge {}", naming.gateway_id)
    }
}

/// The device block. The name is the configured display name, else the
/// UPS id: chosen by the user, stable, and short enough to prefix every
/// entity name (the card's own `general.name` is writable over SNMP,
/// absent on many cards and on Eaton cards reads "ID: <serial>, Msg:
/// <model>"). The model carries the rating ("Smart-UPS 3000 (3 kVA)").
fn ups_device_block(
    naming: &Naming,
    ups_id: &str,
    identity: &Identity,
    options: &DeviceOptions,
) -> Json {
    let mut device = Map::new();
    device.insert("identifiers".into(), json!([naming.ups_device_id(ups_id)]));
    device.insert(
        "name".into(),
        json!(options.name.as_deref().unwrap_or(ups_id)),
    );
    let model = match (&identity.model, identity.rating_va) {
        (Some(model), Some(va)) => Some(format!("{model} ({})", rating_text(va))),
        (Some(model), None) => Some(model.clone()),
        (None, Some(va)) => Some(format!("UPS {}", rating_text(va))),
        (None, None) => None,
    };
    for (key, value) in [
        ("manufacturer", &identity.manufacturer),
        ("model", &model),
        ("model_id", &identity.model_id),
        ("serial_number", &identity.serial_number),
        ("sw_version", &identity.firmware),
        ("hw_version", &identity.hw_version),
        ("suggested_area", &options.area),
        ("configuration_url", &options.configuration_url),
    ] {
        if let Some(value) = value {
            device.insert(key.into(), json!(value));
        }
    }
    device.insert("via_device".into(), json!(naming.bridge_device_id()));
    Json::Object(device)
}

/// A rating as people write it: "800 VA", "3 kVA", "1.5 kVA", "20 kVA".
pub fn rating_text(va: u64) -> String {
    if va < 1000 {
        return format!("{va} VA");
    }
    let kva = va as f64 / 1000.0;
    let text = format!("{kva:.1}");
    format!("{} kVA", text.strip_suffix(".0").unwrap_or(&text))
}

/// The gateway must be up *and* the UPS's SNMP agent answering.
fn availability(naming: &Naming, ups_id: &str) -> Json {
    json!([
        {
            "topic": naming.bridge_state(),
            "value_template": BRIDGE_STATE_TEMPLATE,
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
        },
        {
            "topic": naming.availability(ups_id),
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
        },
    ])
}

// --------------------------------------------------------------- JSON text

/// Where a payload's JSON text goes: counted first, then written into a
/// buffer of exactly that size.
enum Text {
    Count(usize),
    Bytes(Vec<u8>),
}

impl Text {
    fn len(&self) -> usize {
        match self {
            Text::Count(len) => *len,
            Text::Bytes(bytes) => bytes.len(),
        }
    }

    fn raw(&mut self, text: &[u8]) {
        match self {
            Text::Count(len) => *len += text.len(),
            Text::Bytes(bytes) => bytes.extend_from_slice(text),
        }
    }

    fn value<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        serde_json::to_writer(&mut *self, value).expect("JSON of plain values into memory");
    }

    fn into_string(self) -> String {
        match self {
            Text::Count(_) => String::new(),
            Text::Bytes(bytes) => String::from_utf8(bytes).expect("serde_json writes UTF-8"),
        }
    }
}

impl std::io::Write for Text {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.raw(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One JSON object being written: each member goes out as it is put, the
/// closing brace when the object is dropped.
struct Object<'a> {
    text: &'a mut Text,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(text: &'a mut Text) -> Object<'a> {
        text.raw(b"{");
        Object { text, empty: true }
    }

    fn key(&mut self, key: &str) {
        if !std::mem::take(&mut self.empty) {
            self.text.raw(b",");
        }
        self.text.value(key);
        self.text.raw(b":");
    }

    fn put<T: serde::Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.key(key);
        self.text.value(value);
    }

    /// A member that is an object itself, written until it is dropped.
    fn object(&mut self, key: &str) -> Object<'_> {
        self.key(key);
        Object::open(self.text)
    }
}

impl Drop for Object<'_> {
    fn drop(&mut self) {
        self.text.raw(b"}");
    }
}

// -------------------------------------------------------------- components

/// The UPS a payload is built for, and what its pages say about it.
struct Ups<'a> {
    naming: &'a Naming,
    ups_id: &'a str,
    device_id: &'a str,
    options: &'a DeviceOptions,
    shape: &'a Shape,
}

/// Every component, in page order, then the point table's order; table
/// cells row by row; the outlets after the receptacles page's tables; the
/// named commands last, in [`COMMANDS`] order. Each is written into `out`
/// as it is built.
fn components(ups: &Ups, out: &mut Object) {
    for page in &ups.shape.pages {
        for slot in &page.scalars {
            field_component(ups, *slot, None, out);
        }
        for &(_, key, name) in DERIVED_FIELDS.iter().filter(|d| d.0 == page.page) {
            derived_component(ups, page.page, key, name, out);
        }
        // A summarised table's sensor exists with its page, rows or none.
        for &(_, key, column) in SUMMARISED_TABLES.iter().filter(|s| s.0 == page.page) {
            summary_component(ups, table_by_key(page.page, key), column, out);
        }
        for table in &page.tables {
            if summary_of(table.table).is_some() {
                continue;
            }
            for &index in &table.rows {
                for column in table.columns_of(index) {
                    field_component(ups, column.slot, Some(index), out);
                }
            }
        }
        if page.page == Page::Receptacles {
            for outlet in ups.shape.outlets.iter().filter(|o| o.has_state) {
                outlet_components(ups, outlet, out);
            }
        }
    }
    if energy::integrated(ups.shape) {
        energy_component(ups, out);
    }
    for resolved in &ups.shape.commands {
        command_button(ups, resolved.command, out);
    }
    event_component(ups, out);
    for &event in TRIGGERS.iter().filter(|e| reports(ups.shape, **e)) {
        trigger_component(ups, event, out);
    }
}

/// The output energy the gateway integrates ([`energy`]) on
/// `<base>/<ups>/energy`, for the Energy dashboard; the same component id
/// as the card's own counter (`output.energy`) where a card has one.
fn energy_component(ups: &Ups, out: &mut Object) {
    let id = "output_energy";
    let mut c = out.object(id);
    common_keys(&mut c, ups, id, Component::Sensor, "Output energy", None);
    c.put("state_topic", &ups.naming.energy(ups.ups_id));
    c.put(
        "value_template",
        "{{ (value_json | default({})).get('output_energy') }}",
    );
    c.put("device_class", "energy");
    c.put("state_class", "total_increasing");
    c.put("unit_of_measurement", Unit::KiloWattHour.symbol());
    c.put("suggested_display_precision", &3);
}

// ------------------------------------------------------------ events

/// The events a person automates on, announced as device triggers ("UPS
/// rack1: On battery" in the automation editor) when a trap of a MIB the
/// UPS serves reports them.
pub const TRIGGERS: &[EventName] = &[
    EventName::OnBattery,
    EventName::PowerRestored,
    EventName::BatteryLow,
    EventName::Overload,
    EventName::TestCompleted,
    EventName::TestPassed,
    EventName::TestFailed,
    EventName::BatteryTestPassed,
    EventName::BatteryTestFailed,
    EventName::CommunicationLost,
    EventName::CommunicationRestored,
];

/// Whether a trap of a MIB this UPS serves reports `event`.
fn reports(shape: &Shape, event: EventName) -> bool {
    mib::traps::TRAPS
        .iter()
        .any(|t| t.event == event && shape.mibs.contains(&t.mib))
}

/// The `event` entity: fired by every trap on `<base>/<ups>/event`, whose
/// JSON carries `event_type` (one of the whole vocabulary) and the trap's
/// details as the event's attributes.
fn event_component(ups: &Ups, out: &mut Object) {
    let id = "event";
    let mut c = out.object(id);
    common_keys(&mut c, ups, id, Component::Event, "Last event", None);
    c.put("state_topic", &ups.naming.event(ups.ups_id));
    let types: Vec<&str> = EventName::ALL.iter().map(|e| e.as_str()).collect();
    c.put("event_types", &types);
}

/// A device trigger for one event: the event topic, matched on `name`.
fn trigger_component(ups: &Ups, event: EventName, out: &mut Object) {
    let mut c = out.object(&format!("trigger_{}", event.as_str()));
    c.put("platform", "device_automation");
    c.put("automation_type", "trigger");
    c.put("topic", &ups.naming.event(ups.ups_id));
    c.put("type", &event_text(event));
    c.put("subtype", "UPS");
    c.put("payload", event.as_str());
    c.put("value_template", "{{ value_json.name }}");
}

/// An event as a person reads it: "On battery", "Battery test failed".
pub fn event_text(event: EventName) -> String {
    sentence(event.as_str())
}

fn summary_of(table: &Table) -> Option<&'static (Page, &'static str, &'static str)> {
    SUMMARISED_TABLES
        .iter()
        .find(|(page, key, _)| *page == table.page && *key == table.key)
}

fn table_by_key(page: Page, key: &str) -> &'static Table {
    mib::TABLES
        .iter()
        .find(|t| t.page == page && t.key == key)
        .expect("a table of the point table")
}

/// `<page>_<key>` or `<page>_<table>_<index>_<key>`: the component key and,
/// after the device id, the unique id.
fn component_id(field: &Field, row: Option<u32>) -> String {
    match (field.table, row) {
        (Some(table), Some(index)) => format!("{}_{table}_{index}_{}", field.page, field.key),
        _ => format!("{}_{}", field.page, field.key),
    }
}

/// The keys every component has, in a fixed order; `state` is the page
/// whose JSON carries the entity's state (buttons have none).
fn common_keys(
    c: &mut Object,
    ups: &Ups,
    id: &str,
    platform: Component,
    name: &str,
    state: Option<Page>,
) {
    c.put("platform", platform.name());
    c.put("unique_id", &format!("{}_{id}", ups.device_id));
    c.put(
        "default_entity_id",
        &format!("{}.{}_{id}", platform.name(), slug(ups.ups_id)),
    );
    c.put("name", name);
    if let Some(page) = state {
        c.put("state_topic", &ups.naming.page(ups.ups_id, page));
    }
}

/// A field's component, or none for a command trigger ([`Role::of`]).
fn field_component(ups: &Ups, slot: Slot, row: Option<u32>, out: &mut Object) {
    let field = slot.field;
    let Some(role) = Role::of(field, slot.source) else {
        return;
    };
    let id = component_id(field, row);
    let platform = role.platform();
    let mut c = out.object(&id);
    common_keys(
        &mut c,
        ups,
        &id,
        platform,
        &entity_name(field, row),
        Some(field.page),
    );
    c.put("value_template", &value_template(field, row, &role));
    if role.is_writable() {
        let topic = match (field.table, row) {
            (Some(table), Some(index)) => ups
                .naming
                .set_cell(ups.ups_id, field.page, table, index, field.key),
            _ => ups.naming.set(ups.ups_id, field.page, field.key),
        };
        c.put("command_topic", &topic);
        c.put("optimistic", &false);
    }
    role_keys(&mut c, slot, &role);
    let category = match role {
        Role::Read(_) => entity_category(field, platform),
        _ => Some("config"),
    };
    if let Some(category) = category {
        c.put("entity_category", category);
    }
    if !field.ha.enabled {
        c.put("enabled_by_default", &false);
    }
    if let (Role::Read(_), Some(seconds)) = (&role, expire_after(ups.options, field.page)) {
        c.put("expire_after", &seconds);
    }
}

/// A derived page key's sensor: its value as published.
fn derived_component(ups: &Ups, page: Page, key: &str, name: &str, out: &mut Object) {
    let id = format!("{page}_{key}");
    let mut c = out.object(&id);
    common_keys(&mut c, ups, &id, Component::Sensor, name, Some(page));
    c.put(
        "value_template",
        &format!(
            "{{{{ (value_json | default({{}})).get({}) }}}}",
            jinja_str(key)
        ),
    );
    if let Some(seconds) = expire_after(ups.options, page) {
        c.put("expire_after", &seconds);
    }
}

/// The summary sensor of an event table: the `column` values of its rows,
/// comma-separated (`none` when there are none), the rows as attributes.
fn summary_component(ups: &Ups, table: &Table, column: &str, out: &mut Object) {
    let id = format!("{}_{}", table.page, table.key);
    let mut c = out.object(&id);
    common_keys(
        &mut c,
        ups,
        &id,
        Component::Sensor,
        table.label,
        Some(table.page),
    );
    let rows = format!(
        "(value_json | default({{}})).get({}, [])",
        jinja_str(table.key)
    );
    c.put(
        "value_template",
        &format!(
            "{{% set names = {rows} | map(attribute={}) | list %}}\
             {{{{ (names | join(', '))[:255] if names else 'none' }}}}",
            jinja_str(column)
        ),
    );
    c.put(
        "json_attributes_topic",
        &ups.naming.page(ups.ups_id, table.page),
    );
    c.put(
        "json_attributes_template",
        &format!("{{{{ {{{}: {rows}}} | tojson }}}}", jinja_str(table.key)),
    );
    if let Some(seconds) = expire_after(ups.options, table.page) {
        c.put("expire_after", &seconds);
    }
}

// ------------------------------------------------------ roles and keys

/// How a field's values look in the page JSON, from its sources' decoders.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// JSON booleans.
    Flag,
    /// Labels: the union of every source's labels, in source order.
    Enum(Vec<&'static str>),
    /// JSON numbers.
    Number,
    /// Strings (texts, OIDs, alarm names).
    Text,
}

impl Kind {
    fn of(field: &Field) -> Kind {
        let decodes = || field.sources.iter().map(|s| s.decode);
        if decodes().all(|d| matches!(d, Decode::Flag { .. })) {
            return Kind::Flag;
        }
        let mut labels: Vec<&'static str> = Vec::new();
        for decode in decodes() {
            if let Decode::Enum(pairs) = decode {
                for &(_, label) in pairs {
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
            }
        }
        if !labels.is_empty() {
            Kind::Enum(labels)
        } else if decodes().any(|d| matches!(d, Decode::Number { .. })) {
            Kind::Number
        } else {
            Kind::Text
        }
    }
}

/// What a field is in Home Assistant on this UPS: the one place that
/// decides the platform.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    /// Read-only: binary sensor for flags, sensor for everything else.
    Read(Kind),
    /// A writable number (`Legal::Range`), in the field's published unit.
    Number { min: f64, max: f64, step: f64 },
    /// A writable enum: the labels that may be written.
    Select(Vec<&'static str>),
    /// A writable flag (`Legal::Bool`): `ON` / `OFF`.
    Switch,
    /// A writable string of at most `max` bytes.
    Text { max: usize },
}

impl Role {
    /// The role of a field supplied by `source`; `None` for a command
    /// trigger ([`is_command_trigger`]), which the outlet switches and
    /// command buttons drive instead. A field is writable when the source in
    /// use is, with a legality its platform can express; anything else is
    /// read-only.
    fn of(field: &'static Field, source: &Source) -> Option<Role> {
        if is_command_trigger(field) {
            return None;
        }
        let Access::ReadWrite(legal) = source.access else {
            return Some(Role::Read(Kind::of(field)));
        };
        Some(match (source.decode, legal) {
            (Decode::Number { .. }, Legal::Range { min, max }) => Role::Number {
                min,
                max,
                step: step(field, source),
            },
            (Decode::Enum(pairs), Legal::AnyLabel) => {
                Role::Select(pairs.iter().map(|(_, l)| *l).collect())
            }
            (Decode::Enum(pairs), Legal::Labels(raws)) => Role::Select(
                pairs
                    .iter()
                    .filter(|(raw, _)| raws.contains(raw))
                    .map(|(_, l)| *l)
                    .collect(),
            ),
            (Decode::Flag { .. }, Legal::Bool) => Role::Switch,
            (Decode::Text, Legal::Text { max_len }) => Role::Text {
                max: max_len.min(MAX_STATE_LENGTH),
            },
            _ => Role::Read(Kind::of(field)),
        })
    }

    fn platform(&self) -> Component {
        match self {
            Role::Read(Kind::Flag) => Component::BinarySensor,
            Role::Read(_) => Component::Sensor,
            Role::Number { .. } => Component::Number,
            Role::Select(_) => Component::Select,
            Role::Switch => Component::Switch,
            Role::Text { .. } => Component::Text,
        }
    }

    fn is_writable(&self) -> bool {
        !matches!(self, Role::Read(_))
    }
}

/// Home Assistant's longest state (and so text entity value).
const MAX_STATE_LENGTH: usize = 255;

/// A command trigger: a field that a named command (`mib::commands`) or
/// an outlet command writes with an action label, and whose writable
/// values are an action vocabulary (`Legal::Labels`: GET returns a state
/// or "nothing pending", SET takes an action). Its reading is no useful
/// state and writing it by hand is what the buttons and outlet switches
/// do, so it gets no entity of its own. A setting that commands also
/// write (`config.beeper`, any label writable) stays a select.
fn is_command_trigger(field: &Field) -> bool {
    let path = field.path();
    let outlet = OUTLET_KINDS.iter().any(|kind| {
        [kind.on.0, kind.off.0, kind.cycle.0]
            .iter()
            .any(|column| path == format!("control.{}.{column}", kind.control))
    });
    let named = COMMANDS
        .iter()
        .flat_map(|c| c.ways)
        .any(|way| matches!(way, Way::Set { path: p, arg: Arg::Label(_) } if *p == path));
    (outlet || named)
        && field
            .sources
            .iter()
            .filter(|s| s.is_writable())
            .all(|s| matches!(s.access, Access::ReadWrite(Legal::Labels(_))))
}

/// A number entity's step: the source's resolution in published units
/// (0.1 for tenths, 60 s for RFC 1628 minutes), whole seconds for
/// TimeTicks (hundredths are the wire format, not precision).
fn step(field: &Field, source: &Source) -> f64 {
    match source.decode {
        Decode::Number { scale } if scale >= 1.0 => scale,
        Decode::Number { .. } if field.unit == Some(Unit::Second) => 1.0,
        decode => 10f64.powi(-(decode.decimals() as i32)),
    }
}

/// The platform's own keys.
fn role_keys(c: &mut Object, slot: Slot, role: &Role) {
    let field = slot.field;
    let platform = role.platform();
    let class = (field.ha.component == platform)
        .then_some(field.ha.device_class)
        .flatten();
    match role {
        Role::Read(Kind::Enum(labels)) => {
            c.put("device_class", "enum");
            c.put("options", &option_texts(labels));
        }
        Role::Read(Kind::Number) => numeric_sensor_keys(c, slot, platform, class),
        Role::Read(_) | Role::Switch => {
            if let Some(class) = class {
                c.put("device_class", class);
            }
        }
        Role::Number { min, max, step } => {
            c.put("min", min);
            c.put("max", max);
            c.put("step", step);
            c.put("mode", "box");
            if let Some(unit) = field.unit {
                c.put("unit_of_measurement", unit.symbol());
            }
            if let Some(class) = class.or_else(|| number_class(field.unit?)) {
                c.put("device_class", class);
            }
        }
        Role::Select(labels) => {
            let readable = readable_options(labels);
            let texts: Vec<&str> = readable.iter().map(|(_, text)| text.as_str()).collect();
            c.put("options", &texts);
            let to_label: Vec<(&str, String)> = readable
                .iter()
                .map(|(label, text)| (text.as_str(), label.to_string()))
                .collect();
            c.put(
                "command_template",
                &format!("{{{{ {}.get(value, value) }}}}", jinja_dict(&to_label)),
            );
        }
        Role::Text { max } => {
            c.put("max", max);
        }
    }
}

/// The number device class a unit implies, where it is unambiguous and
/// Home Assistant's number platform has it (a percentage may be a battery
/// level, a humidity or a load: the point table says which).
fn number_class(unit: Unit) -> Option<&'static str> {
    match unit {
        Unit::Volt => Some("voltage"),
        Unit::Ampere => Some("current"),
        Unit::Watt => Some("power"),
        Unit::VoltAmpere => Some("apparent_power"),
        Unit::Hertz => Some("frequency"),
        Unit::Second => Some("duration"),
        Unit::Celsius => Some("temperature"),
        Unit::KiloWattHour => Some("energy"),
        Unit::VoltAmpereReactive => Some("reactive_power"),
        Unit::Percent | Unit::AmpereHour => None,
    }
}

/// Device class, state class and unit come from the point table; the state
/// class only when the table means this field as a sensor (a read-only
/// config value is no measurement).
fn numeric_sensor_keys(c: &mut Object, slot: Slot, platform: Component, class: Option<&str>) {
    let field = slot.field;
    if let Some(class) = class {
        c.put("device_class", class);
    }
    let state_class = (field.ha.component == platform)
        .then_some(field.ha.state_class)
        .flatten();
    if let Some(state_class) = state_class {
        let name = match state_class {
            StateClass::Measurement => "measurement",
            StateClass::TotalIncreasing => "total_increasing",
        };
        c.put("state_class", name);
    }
    if let Some(unit) = field.unit {
        c.put("unit_of_measurement", unit.symbol());
    }
    let numeric = field.unit.is_some() || state_class.is_some();
    if let Some(decimals) = display_precision(field, slot.source).filter(|_| numeric) {
        c.put("suggested_display_precision", &decimals);
    }
}

/// The decimals the source in use keeps (where cards disagree, the
/// display follows the card: PowerNet's HighPrec tenths of V show one
/// decimal, its whole-volt objects none). Whole-unit sources are left to
/// Home Assistant's default, and so is a source whose card may send
/// undeclared tenths (quirk Q2). Seconds are shown whole: TimeTicks'
/// hundredths are the wire format, not precision.
fn display_precision(field: &Field, source: &Source) -> Option<u32> {
    if !matches!(source.decode, Decode::Number { .. }) || source.tenths_above.is_some() {
        return None;
    }
    let decimals = source.decode.decimals();
    if decimals == 0 {
        return None;
    }
    if field.unit == Some(Unit::Second) {
        return Some(0);
    }
    Some(decimals)
}

/// Home Assistant refuses sensors and binary sensors in the `config`
/// category: read-only representations of config points are `diagnostic`.
fn entity_category(field: &Field, platform: Component) -> Option<&'static str> {
    let read_only = matches!(platform, Component::Sensor | Component::BinarySensor);
    match field.ha.category? {
        Category::Diagnostic => Some("diagnostic"),
        Category::Config if read_only => Some("diagnostic"),
        Category::Config => Some("config"),
    }
}

fn expire_after(options: &DeviceOptions, page: Page) -> Option<u64> {
    options.expire_after.filter(|_| page.is_fast())
}

// ------------------------------------------------------------- outlets

/// An outlet's switch (device class `outlet`, state from the receptacles
/// page row) and, when it can be cycled, its reboot button.
fn outlet_components(ups: &Ups, outlet: &Outlet, out: &mut Object) {
    let kind = outlet.kind;
    let index = outlet.index;
    let table = table_by_key(Page::Receptacles, kind.table);
    let row_label = table.label.strip_suffix('s').unwrap_or(table.label);
    let state = mib::field_by_path(&format!("receptacles.{}.state", kind.table))
        .expect("outlet tables have a state column");
    let command = |verb: &str| format!("outlet.{index}.load.{verb}");
    let id = format!("{}_{}_{index}_load", table.page, table.key);
    let mut switch = out.object(&id);
    common_keys(
        &mut switch,
        ups,
        &id,
        Component::Switch,
        &format!("{row_label} {index}"),
        Some(Page::Receptacles),
    );
    let (on, off) = on_off_labels(state);
    let raw = raw_value(state, Some(index));
    switch.put(
        "value_template",
        &format!(
            "{{% set v = {raw} %}}{{{{ 'ON' if v in {} else 'OFF' if v in {} else None }}}}",
            jinja_list(&on),
            jinja_list(&off)
        ),
    );
    switch.put("command_topic", &ups.naming.command(ups.ups_id));
    switch.put("optimistic", &false);
    switch.put("payload_on", &command("on"));
    switch.put("payload_off", &command("off"));
    switch.put("state_on", "ON");
    switch.put("state_off", "OFF");
    switch.put("device_class", "outlet");
    drop(switch);
    if outlet.cycle {
        let id = format!("{id}_cycle");
        let mut button = out.object(&id);
        common_keys(
            &mut button,
            ups,
            &id,
            Component::Button,
            &format!("{row_label} {index} reboot"),
            None,
        );
        button.put("command_topic", &ups.naming.command(ups.ups_id));
        button.put("payload_press", &command("cycle"));
        button.put("device_class", "restart");
        let cuts = label_cuts_power(
            &format!("control.{}.{}", kind.control, kind.cycle.0),
            kind.cycle.1,
        );
        dangerous_keys(&mut button, cuts);
    }
}

/// A state column's labels that mean on (`on`, `*_on`) and off.
fn on_off_labels(state: &Field) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut on = Vec::new();
    let mut off = Vec::new();
    for source in state.sources {
        if let Decode::Enum(pairs) = source.decode {
            for &(_, label) in pairs {
                if label == "on" || label.ends_with("_on") {
                    on.push(label);
                } else if label == "off" || label.ends_with("_off") {
                    off.push(label);
                }
            }
        }
    }
    (on, off)
}

/// Whether writing `label` to the field at `path` cuts power, by any of
/// its sources.
fn label_cuts_power(path: &str, label: &'static str) -> bool {
    let field = mib::field_by_path(path).expect("a point table path");
    field.sources.iter().any(|s| {
        commands::raw_of(s, Arg::Label(label)).is_some_and(|raw| s.cuts_power.includes(raw))
    })
}

/// Power-cutting commands are configuration, hidden until enabled.
fn dangerous_keys(c: &mut Object, cuts_power: bool) {
    if cuts_power {
        c.put("entity_category", "config");
        c.put("enabled_by_default", &false);
    }
}

// ------------------------------------------------------ named commands

/// `command_<name>`: the component id of a named command's button.
fn command_id(name: &str) -> String {
    format!("command_{}", slug(name))
}

/// A named command's button. Battery tests are primary controls; other
/// commands are configuration; power-cutting ones are also disabled by
/// default.
fn command_button(ups: &Ups, command: &NamedCommand, out: &mut Object) {
    let id = command_id(command.name);
    let mut c = out.object(&id);
    common_keys(&mut c, ups, &id, Component::Button, command.label, None);
    c.put("command_topic", &ups.naming.command(ups.ups_id));
    c.put("payload_press", command.name);
    if command.name == "shutdown.reboot" {
        c.put("device_class", "restart");
    }
    let cuts = command_cuts_power(command);
    if !cuts && !command.name.starts_with("test.") {
        c.put("entity_category", "config");
    }
    dangerous_keys(&mut c, cuts);
}

/// Whether any way of a command writes a value that cuts power.
fn command_cuts_power(command: &NamedCommand) -> bool {
    command.ways.iter().any(|way| match *way {
        Way::Set { path, arg } => mib::field_by_path(path).is_some_and(|f| {
            f.sources
                .iter()
                .any(|s| commands::raw_of(s, arg).is_some_and(|raw| s.cuts_power.includes(raw)))
        }),
        Way::RfcTest { .. } => false,
    })
}

// --------------------------------------------------------- names, templates

/// The field label; a table cell is named after its row first:
/// "Input line 2 voltage", "Environment sensor 1 temperature".
fn entity_name(field: &Field, row: Option<u32>) -> String {
    let (Some(index), Some(table)) = (row, mib::table_of(field)) else {
        return field.label.to_string();
    };
    let row_label = table.label.strip_suffix('s').unwrap_or(table.label);
    format!(
        "{row_label} {index} {}",
        column_label(field.label, row_label)
    )
}

/// A column label without a first word the row label already says
/// ("Input voltage" in "Input line 1 …" → "voltage"), first letter lowered
/// unless it is an acronym ("VA rating").
fn column_label(label: &str, row_label: &str) -> String {
    let row_words: Vec<String> = row_label.split(' ').map(str::to_lowercase).collect();
    let label = match label.split_once(' ') {
        Some((first, rest)) if row_words.contains(&first.to_lowercase()) => rest,
        _ => label,
    };
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if b.is_uppercase() => format!("{a}{b}{}", chars.as_str()),
        (Some(a), _) => a
            .to_lowercase()
            .chain(label[a.len_utf8()..].chars())
            .collect(),
        (None, _) => String::new(),
    }
}

/// A Jinja expression for the field's raw JSON value (`None` when absent).
/// Table rows are selected by their `index` value, never by position.
fn raw_value(field: &Field, row: Option<u32>) -> String {
    let page = "(value_json | default({}))";
    let key = jinja_str(field.key);
    match (field.table, row) {
        (Some(table), Some(index)) => format!(
            "({page}.get({}, []) | selectattr('index', 'eq', {index}) | first | default({{}})).get({key})",
            jinja_str(table)
        ),
        _ => format!("{page}.get({key})"),
    }
}

/// The value template. A rendered `None` is "unknown" for every platform
/// but text, which shows an empty string instead (its `None` would be the
/// text "None"); a value outside what the entity accepts (an enum label
/// not in `options`, a number out of `min..max`) is unknown too, where
/// Home Assistant would otherwise reject the state.
fn value_template(field: &Field, row: Option<u32>, role: &Role) -> String {
    let raw = raw_value(field, row);
    match role {
        Role::Read(Kind::Flag) | Role::Switch => format!(
            "{{% set v = {raw} %}}{{{{ 'ON' if v is true else 'OFF' if v is false else None }}}}"
        ),
        Role::Read(Kind::Enum(labels)) | Role::Select(labels) => format!(
            "{{% set v = {raw} %}}{{{{ {}.get(v) }}}}",
            jinja_dict(&readable_options(labels))
        ),
        Role::Read(Kind::Number | Kind::Text) => format!("{{{{ {raw} }}}}"),
        Role::Number { min, max, .. } => format!(
            "{{% set v = {raw} %}}{{{{ v if v is number and {min} <= v <= {max} else None }}}}"
        ),
        Role::Text { max } => {
            format!("{{% set v = {raw} %}}{{{{ '' if v is none else (v | string)[:{max}] }}}}")
        }
    }
}

/// An enum sensor's or a select's labels and the text a person reads for
/// each, for every label but `unknown` (Home Assistant's own unknown). Two
/// labels of a sensor may read the same ("no" and "no_transfer": "No
/// transfer"); a select's never do (its command template maps each text
/// back to one label).
fn readable_options(labels: &[&'static str]) -> Vec<(&'static str, String)> {
    labels
        .iter()
        .filter_map(|&label| Some((label, label_text(label)?)))
        .collect()
}

/// The `options` of an enum sensor: each text once.
fn option_texts(labels: &[&'static str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, text) in readable_options(labels) {
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// Labels the rule of [`label_text`] would spell badly.
const LABEL_TEXTS: &[(&str, &str)] = &[
    ("done_pass", "Done, passed"),
    ("done_warning", "Done, with warnings"),
    ("done_error", "Done, failed"),
    ("no", "No transfer"),
    // Home Assistant's MQTT sensor takes a rendered "None" for unknown, and
    // its select a state `none`.
    ("none", "(none)"),
    ("ok", "OK"),
    ("on_line", "Online"),
    ("a_uto", "Auto"),
    ("vrla", "VRLA"),
    ("vrla_or_wet_cells", "VRLA or wet cells"),
    ("li_ion", "Li-ion"),
    ("li_ion_batteries", "Li-ion batteries"),
    ("nicd", "NiCd"),
    ("ni_cd_batteries", "NiCd batteries"),
    // PowerNet upsAdvConfigOutputFreqRange, as its DESCRIPTION words them
    // (freqRange60Var1: "60 +/- 0.1 Hz", freqRange50Pct2: "50 Hz +/- 2.0 %").
    ("50_var1", "50 Hz ± 0.1 Hz"),
    ("50_var3", "50 Hz ± 3.0 Hz"),
    ("50_var10", "50 Hz ± 10 Hz"),
    ("50_var1dot0", "50 Hz ± 1.0 Hz"),
    ("50_var4", "50 Hz ± 4.0 Hz"),
    ("50_pct0dot5", "50 Hz ± 0.5 %"),
    ("50_pct1", "50 Hz ± 1.0 %"),
    ("50_pct2", "50 Hz ± 2.0 %"),
    ("50_pct4", "50 Hz ± 4.0 %"),
    ("50_pct6", "50 Hz ± 6.0 %"),
    ("50_pct8", "50 Hz ± 8.0 %"),
    ("60_var1", "60 Hz ± 0.1 Hz"),
    ("60_var3", "60 Hz ± 3.0 Hz"),
    ("60_var10", "60 Hz ± 10 Hz"),
    ("60_var1dot0", "60 Hz ± 1.0 Hz"),
    ("60_var4", "60 Hz ± 4.0 Hz"),
    ("60_pct0dot5", "60 Hz ± 0.5 %"),
    ("60_pct1", "60 Hz ± 1.0 %"),
    ("60_pct2", "60 Hz ± 2.0 %"),
    ("60_pct4", "60 Hz ± 4.0 %"),
    ("60_pct6", "60 Hz ± 6.0 %"),
    ("60_pct8", "60 Hz ± 8.0 %"),
    // upsAdvConfigOutputFreqSlewRate (slewRateQuarterHzPerSec, ...).
    ("quarter_hz_per_sec", "0.25 Hz/s"),
    ("half_hz_per_sec", "0.5 Hz/s"),
    ("1_hz_per_sec", "1 Hz/s"),
    ("2_hz_per_sec", "2 Hz/s"),
    ("4_hz_per_sec", "4 Hz/s"),
    ("6_hz_per_sec", "6 Hz/s"),
    // upsAdvConfigVoutReporting: "for 208 Volts", "for 240 Volts".
    ("208", "208 V"),
    ("240", "240 V"),
    // upsAdvConfigUpsPowerconverterType: "Galaxy 300 Unitary 3:1", ...
    ("galaxy_7000_unitary_3_3", "Galaxy 7000 unitary 3:3"),
    ("galaxy_7000_redundant_3_3", "Galaxy 7000 redundant 3:3"),
    (
        "galaxy_7000_parallel_ssc_3_3",
        "Galaxy 7000 parallel SSC 3:3",
    ),
    ("galaxy_7000_ssc_3_3", "Galaxy 7000 SSC 3:3"),
    ("galaxy_300_unitary_3_3", "Galaxy 300 unitary 3:3"),
    ("galaxy_300_unitary_3_1", "Galaxy 300 unitary 3:1"),
    ("galaxy_300_redundant_3_3", "Galaxy 300 redundant 3:3"),
    ("galaxy_300_redundant_3_1", "Galaxy 300 redundant 3:1"),
];

/// What an enum sensor shows for a label: a sentence-case phrase ("On
/// battery", "Done, passed"), `None` for `unknown` (and the
/// `unknown_<n>` of values outside the MIB's list): Home Assistant's own
/// "unknown", never an option of that name. The JSON pages keep the
/// label.
pub fn label_text(label: &str) -> Option<String> {
    if label == "unknown" || label.starts_with("unknown_") {
        return None;
    }
    Some(match LABEL_TEXTS.iter().find(|(l, _)| *l == label) {
        Some((_, text)) => text.to_string(),
        None => sentence(label),
    })
}

/// `snake_case` → "Snake case"; "On battery", never "None" (Home
/// Assistant's MQTT sensor takes it for "unknown").
fn sentence(snake: &str) -> String {
    let words = snake.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A Jinja dict literal from (key, value) strings.
fn jinja_dict(pairs: &[(&str, String)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}: {}", jinja_str(k), jinja_str(v)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// A Jinja list of string literals.
fn jinja_list(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|s| jinja_str(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A single-quoted Jinja string literal.
fn jinja_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// An entity-id-safe version of an id: lowercase `[a-z0-9_]`.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_are_named_after_their_row() {
        let name = |path: &str, row| entity_name(mib::field_by_path(path).unwrap(), row);
        assert_eq!(name("input.lines.voltage", Some(2)), "Input line 2 voltage");
        assert_eq!(name("output.lines.load", Some(1)), "Output line 1 load");
        assert_eq!(
            name("environment.sensors.communication_lost", Some(1)),
            "Environment sensor 1 communication lost"
        );
        assert_eq!(
            name("environment.probes.temperature", Some(3)),
            "Temperature probe 3 temperature"
        );
        assert_eq!(
            name("devices.devices.va_rating", Some(1)),
            "Connected device 1 VA rating"
        );
        assert_eq!(
            name("receptacles.outlet_groups.type", Some(1)),
            "Outlet group 1 type"
        );
        assert_eq!(name("battery.charge", None), "Battery charge");
    }

    #[test]
    fn kinds_follow_the_decoders() {
        let kind = |path: &str| Kind::of(mib::field_by_path(path).unwrap());
        assert_eq!(kind("battery.replace"), Kind::Flag);
        assert_eq!(kind("battery.charge"), Kind::Number);
        assert_eq!(kind("general.model"), Kind::Text);
        let Kind::Enum(labels) = kind("battery.status") else {
            panic!("battery.status is an enum")
        };
        assert_eq!(
            labels,
            [
                "unknown",
                "normal",
                "low",
                "depleted",
                "fault",
                "not_present"
            ],
            "union of both sources' labels, each once"
        );
    }

    #[test]
    fn precision_follows_the_source_in_use() {
        let precision = |path: &str, object: &str| {
            let field = mib::field_by_path(path).unwrap();
            let source = field.sources.iter().find(|s| s.object == object).unwrap();
            display_precision(field, source)
        };
        // PowerNet-MIB: upsHighPrecBatteryActualVoltage "in tenths of VDC",
        // upsAdvBatteryActualVoltage "in VDC".
        assert_eq!(
            precision("battery.voltage", "upsHighPrecBatteryActualVoltage"),
            Some(1)
        );
        assert_eq!(
            precision("battery.voltage", "upsAdvBatteryActualVoltage"),
            None
        );
        assert_eq!(
            precision("input.lines.frequency", "upsInputFrequency"),
            Some(1),
            "RFC 1628: 0.1 Hertz"
        );
        assert_eq!(
            precision("input.lines.voltage", "upsInputVoltage"),
            None,
            "whole V, but Galaxy and Delta cards send tenths (Q2)"
        );
        assert_eq!(
            precision("test.elapsed_time", "upsTestElapsedTime"),
            Some(0),
            "TimeTicks, shown whole"
        );
        assert_eq!(
            precision("battery.runtime", "upsAdvBatteryRunTimeRemaining"),
            Some(0),
            "TimeTicks, shown whole"
        );
        assert_eq!(
            precision("config.low_battery_level", "upsmgConfigLowBatteryLevel"),
            None,
            "whole %"
        );
    }

    #[test]
    fn enum_sensors_read_as_words() {
        assert_eq!(label_text("done_pass").as_deref(), Some("Done, passed"));
        assert_eq!(label_text("on_battery").as_deref(), Some("On battery"));
        assert_eq!(label_text("normal").as_deref(), Some("Normal"));
        // PowerNet-MIB upsAdvConfigOutputFreqRange: "freqRange60Var1(3)
        // configure the output frequency range for 60 +/- 0.1 Hz".
        assert_eq!(label_text("60_var1").as_deref(), Some("60 Hz ± 0.1 Hz"));
        assert_eq!(label_text("50_pct0dot5").as_deref(), Some("50 Hz ± 0.5 %"));
        assert_eq!(label_text("unknown"), None);
        assert_eq!(label_text("unknown_7"), None);
        // Every override names a real label, and no option reads "None"
        // or "unknown" (Home Assistant's own words for no value).
        let labels: Vec<&str> = mib::FIELDS
            .iter()
            .flat_map(|f| f.sources)
            .filter_map(|s| match s.decode {
                Decode::Enum(pairs) => Some(pairs.iter().map(|(_, l)| *l)),
                _ => None,
            })
            .flatten()
            .collect();
        for (label, _) in LABEL_TEXTS {
            assert!(labels.contains(label), "{label} is no label");
        }
        for label in labels {
            if let Some(text) = label_text(label) {
                assert!(
                    !text.eq_ignore_ascii_case("none") && !text.eq_ignore_ascii_case("unknown"),
                    "{label}"
                );
            }
        }
        let transfer = Kind::of(mib::field_by_path("input.transfer_reason").unwrap());
        let Kind::Enum(labels) = transfer else {
            panic!("an enum")
        };
        let options = option_texts(&labels);
        assert!(options.contains(&"No transfer".to_string()));
        assert_eq!(
            options.len(),
            options
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
    }

    #[test]
    fn selects_offer_words_that_map_back_to_one_label() {
        let mut selects = 0;
        for field in mib::FIELDS.iter() {
            for source in field.sources {
                let Some(Role::Select(labels)) = Role::of(field, source) else {
                    continue;
                };
                selects += 1;
                let readable = readable_options(&labels);
                let texts: std::collections::BTreeSet<&str> =
                    readable.iter().map(|(_, t)| t.as_str()).collect();
                assert_eq!(
                    texts.len(),
                    readable.len(),
                    "{}: {readable:?}",
                    field.path()
                );
                assert!(!texts.is_empty(), "{}", field.path());
                for text in texts {
                    assert!(
                        !text.eq_ignore_ascii_case("unknown") && !text.eq_ignore_ascii_case("none"),
                        "{}: {text}",
                        field.path()
                    );
                }
            }
        }
        assert!(selects > 10, "{selects} selects");
    }

    #[test]
    fn ratings_read_as_people_write_them() {
        assert_eq!(rating_text(750), "750 VA");
        assert_eq!(rating_text(1000), "1 kVA");
        assert_eq!(rating_text(1500), "1.5 kVA");
        assert_eq!(rating_text(20_000), "20 kVA");
    }

    #[test]
    fn slugs_and_literals() {
        assert_eq!(slug("Rack-1.a"), "rack_1_a");
        assert_eq!(jinja_str("it's"), r"'it\'s'");
    }
}
