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
//!   the dot, so the platform prefix is required).
//! - Templates turn every "no value" into Home Assistant's `None` payload
//!   (state `unknown`): a JSON `null`, a key or table row that is gone, a page
//!   whose retained message was cleared, and an enum label outside the
//!   announced `options` (`unknown_<n>`, which Home Assistant would reject).
//!   Binary sensors map JSON `true`/`false` to `ON`/`OFF`.
//!
//! Writable points are announced read-only for now (sensor / binary sensor,
//! by how the point decodes), with `config` shown as `diagnostic` because
//! Home Assistant refuses sensors in the `config` category. Commands arrive
//! in a later issue: `platform()` is the one place that decides the platform,
//! and `platform_keys()` the one place that adds a platform's keys, so that
//! change swaps the platform for writable points (to the point table's
//! `Ha::component`) and adds their `command_topic` there.

use crate::config::is_fast_page;
use crate::mib::{self, Category, Component, Decode, Field, Page, StateClass, Table, Unit};
use crate::topics::Naming;
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;

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
    /// Seconds; set on fields of fast pages ([`is_fast_page`]) so stale
    /// values expire.
    pub expire_after: Option<u64>,
}

/// The pages one UPS published, as [`ups_device`] takes them.
pub type Pages = BTreeMap<Page, Map<String, Json>>;

/// Tables whose rows are events rather than things, announced as one summary
/// sensor: (page, table key, the column whose values the state lists).
pub const SUMMARISED_TABLES: &[(Page, &str, &str)] = &[(Page::Alarms, "active", "alarm")];

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
/// `<prefix>/device/<gateway>_<ups>/config`, derived from the point table and
/// the pages the UPS published.
pub fn ups_device(
    bridge: &Bridge,
    ups_id: &str,
    pages: &Pages,
    options: &DeviceOptions,
) -> Publication {
    let naming = bridge.naming;
    let device_id = naming.ups_device_id(ups_id);
    let ups = Ups {
        naming,
        ups_id,
        device_id: &device_id,
        options,
    };
    let payload = json!({
        "device": ups_device_block(naming, ups_id, pages.get(&Page::General)),
        "origin": origin(bridge),
        "availability": availability(naming, ups_id),
        "availability_mode": "all",
        "components": components(&ups, pages),
    });
    publication(naming, &device_id, &payload)
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

/// The device block. The name is the configured UPS id: chosen by the user,
/// stable, and short enough to prefix every entity name (the card's own
/// `general.name` is writable over SNMP, absent on many cards and on Eaton
/// cards reads "ID: <serial>, Msg: <model>").
fn ups_device_block(naming: &Naming, ups_id: &str, general: Option<&Map<String, Json>>) -> Json {
    let mut device = Map::new();
    device.insert("identifiers".into(), json!([naming.ups_device_id(ups_id)]));
    device.insert("name".into(), json!(ups_id));
    for (key, field) in [
        ("manufacturer", "manufacturer"),
        ("model", "model"),
        ("serial_number", "serial_number"),
        ("sw_version", "firmware_version"),
    ] {
        let value = general.and_then(|g| g.get(field)).and_then(Json::as_str);
        if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) {
            device.insert(key.into(), json!(value));
        }
    }
    device.insert("via_device".into(), json!(naming.bridge_device_id()));
    Json::Object(device)
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

// -------------------------------------------------------------- components

/// The UPS a payload is built for.
struct Ups<'a> {
    naming: &'a Naming,
    ups_id: &'a str,
    device_id: &'a str,
    options: &'a DeviceOptions,
}

/// Every component, in page order, then the point table's order; table
/// cells row by row.
fn components(ups: &Ups, pages: &Pages) -> Map<String, Json> {
    let mut out = Map::new();
    for (&page, json) in pages {
        for field in mib::fields_of(page).filter(|f| f.table.is_none()) {
            if json.contains_key(field.key) {
                let (id, component) = field_component(ups, field, None);
                out.insert(id, component);
            }
        }
        for table in mib::TABLES.iter().filter(|t| t.page == page) {
            if let Some(&(_, _, column)) = summary_of(table) {
                let (id, component) = summary_component(ups, table, column);
                out.insert(id, component);
                continue;
            }
            for (index, row) in rows(json, table) {
                for field in columns(table).filter(|f| row.contains_key(f.key)) {
                    let (id, component) = field_component(ups, field, Some(index));
                    out.insert(id, component);
                }
            }
        }
    }
    out
}

fn summary_of(table: &Table) -> Option<&'static (Page, &'static str, &'static str)> {
    SUMMARISED_TABLES
        .iter()
        .find(|(page, key, _)| *page == table.page && *key == table.key)
}

fn columns(table: &Table) -> impl Iterator<Item = &'static Field> {
    let key = table.key;
    mib::fields_of(table.page).filter(move |f| f.table == Some(key))
}

/// A table's rows by their `index`, in index order.
fn rows<'a>(page: &'a Map<String, Json>, table: &Table) -> BTreeMap<u64, &'a Map<String, Json>> {
    page.get(table.key)
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_object)
        .filter_map(|row| Some((row.get("index")?.as_u64()?, row)))
        .collect()
}

/// `<page>_<key>` or `<page>_<table>_<index>_<key>`: the component key and,
/// after the device id, the unique id.
fn component_id(field: &Field, row: Option<u64>) -> String {
    match (field.table, row) {
        (Some(table), Some(index)) => format!("{}_{table}_{index}_{}", field.page, field.key),
        _ => format!("{}_{}", field.page, field.key),
    }
}

/// The keys every component has, in a fixed order.
fn common_keys(
    ups: &Ups,
    id: &str,
    platform: Component,
    name: String,
    page: Page,
) -> Map<String, Json> {
    let mut c = Map::new();
    c.insert("platform".into(), json!(platform.name()));
    c.insert("unique_id".into(), json!(format!("{}_{id}", ups.device_id)));
    c.insert(
        "default_entity_id".into(),
        json!(format!("{}.{}_{id}", platform.name(), slug(ups.ups_id))),
    );
    c.insert("name".into(), json!(name));
    c.insert(
        "state_topic".into(),
        json!(ups.naming.page(ups.ups_id, page)),
    );
    c
}

fn field_component(ups: &Ups, field: &'static Field, row: Option<u64>) -> (String, Json) {
    let id = component_id(field, row);
    let platform = platform(field);
    let kind = Kind::of(field);
    let mut c = common_keys(ups, &id, platform, entity_name(field, row), field.page);
    c.insert(
        "value_template".into(),
        json!(value_template(field, row, &kind)),
    );
    platform_keys(&mut c, field, platform, &kind);
    if let Some(category) = entity_category(field, platform) {
        c.insert("entity_category".into(), json!(category));
    }
    if !field.ha.enabled {
        c.insert("enabled_by_default".into(), json!(false));
    }
    if let Some(seconds) = expire_after(ups.options, field.page) {
        c.insert("expire_after".into(), json!(seconds));
    }
    (id, Json::Object(c))
}

/// The summary sensor of an event table: the `column` values of its rows,
/// comma-separated (`none` when there are none), the rows as attributes.
fn summary_component(ups: &Ups, table: &Table, column: &str) -> (String, Json) {
    let id = format!("{}_{}", table.page, table.key);
    let mut c = common_keys(
        ups,
        &id,
        Component::Sensor,
        table.label.to_string(),
        table.page,
    );
    let rows = format!(
        "(value_json | default({{}})).get({}, [])",
        jinja_str(table.key)
    );
    c.insert(
        "value_template".into(),
        json!(format!(
            "{{% set names = {rows} | map(attribute={}) | list %}}\
             {{{{ (names | join(', '))[:255] if names else 'none' }}}}",
            jinja_str(column)
        )),
    );
    c.insert("json_attributes_topic".into(), c["state_topic"].clone());
    c.insert(
        "json_attributes_template".into(),
        json!(format!(
            "{{{{ {{{}: {rows}}} | tojson }}}}",
            jinja_str(table.key)
        )),
    );
    if let Some(seconds) = expire_after(ups.options, table.page) {
        c.insert("expire_after".into(), json!(seconds));
    }
    (id, Json::Object(c))
}

// ------------------------------------------------------ platform and keys

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

/// The one place that decides a field's platform. For now every field is
/// read-only: binary sensor for flags, sensor for everything else. The
/// "Commands" issue returns `field.ha.component` here for writable points.
fn platform(field: &Field) -> Component {
    match Kind::of(field) {
        Kind::Flag => Component::BinarySensor,
        _ => Component::Sensor,
    }
}

/// The platform's own keys. The "Commands" issue adds the arms for number,
/// select, switch, text and button (with `command_topic`) here.
fn platform_keys(c: &mut Map<String, Json>, field: &Field, platform: Component, kind: &Kind) {
    let class = (field.ha.component == platform)
        .then_some(field.ha.device_class)
        .flatten();
    match (platform, kind) {
        (Component::BinarySensor, _) => {
            if let Some(class) = class {
                c.insert("device_class".into(), json!(class));
            }
        }
        (_, Kind::Enum(labels)) => {
            c.insert("device_class".into(), json!("enum"));
            c.insert("options".into(), json!(labels));
        }
        (_, Kind::Number) => numeric_sensor_keys(c, field, platform, class),
        (_, Kind::Flag | Kind::Text) => {
            if let Some(class) = class {
                c.insert("device_class".into(), json!(class));
            }
        }
    }
}

/// Device class, state class and unit come from the point table; the state
/// class only when the table means this field as a sensor (a read-only
/// config value is no measurement).
fn numeric_sensor_keys(
    c: &mut Map<String, Json>,
    field: &Field,
    platform: Component,
    class: Option<&str>,
) {
    if let Some(class) = class {
        c.insert("device_class".into(), json!(class));
    }
    let state_class = (field.ha.component == platform)
        .then_some(field.ha.state_class)
        .flatten();
    if let Some(state_class) = state_class {
        let name = match state_class {
            StateClass::Measurement => "measurement",
            StateClass::TotalIncreasing => "total_increasing",
        };
        c.insert("state_class".into(), json!(name));
    }
    if let Some(unit) = field.unit {
        c.insert("unit_of_measurement".into(), json!(unit.symbol()));
    }
    let numeric = field.unit.is_some() || state_class.is_some();
    if let Some(decimals) = display_precision(field).filter(|_| numeric) {
        c.insert("suggested_display_precision".into(), json!(decimals));
    }
}

/// The decimals every numeric source of the field keeps, when they agree
/// and are not zero (a field that is whole volts on one card and tenths on
/// another is left to Home Assistant's default). Seconds are shown whole:
/// TimeTicks' hundredths are the wire format, not precision.
fn display_precision(field: &Field) -> Option<u32> {
    let decimals: Vec<u32> = field
        .sources
        .iter()
        .filter(|s| matches!(s.decode, Decode::Number { .. }))
        .map(|s| s.decode.decimals())
        .collect();
    let most = decimals.iter().copied().max().filter(|&d| d > 0)?;
    if field.unit == Some(Unit::Second) {
        return Some(0);
    }
    decimals.iter().all(|&d| d == most).then_some(most)
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
    options.expire_after.filter(|_| is_fast_page(page))
}

// --------------------------------------------------------- names, templates

/// The field label; a table cell is named after its row first:
/// "Input line 2 voltage", "Environment sensor 1 temperature".
fn entity_name(field: &Field, row: Option<u64>) -> String {
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
fn raw_value(field: &Field, row: Option<u64>) -> String {
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

/// The value template: a rendered `None` is Home Assistant's "unknown".
fn value_template(field: &Field, row: Option<u64>, kind: &Kind) -> String {
    let raw = raw_value(field, row);
    match kind {
        Kind::Flag => format!(
            "{{% set v = {raw} %}}{{{{ 'ON' if v is true else 'OFF' if v is false else None }}}}"
        ),
        Kind::Enum(labels) => {
            let options: Vec<String> = labels.iter().map(|l| jinja_str(l)).collect();
            format!(
                "{{% set v = {raw} %}}{{{{ v if v in [{}] else None }}}}",
                options.join(", ")
            )
        }
        Kind::Number | Kind::Text => format!("{{{{ {raw} }}}}"),
    }
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
    fn precision_only_where_every_source_agrees() {
        let precision = |path: &str| display_precision(mib::field_by_path(path).unwrap());
        assert_eq!(precision("output.frequency"), None, "tenths and whole Hz");
        assert_eq!(precision("input.lines.frequency"), Some(1));
        assert_eq!(precision("battery.voltage"), None, "whole and tenths of V");
        assert_eq!(
            precision("test.elapsed_time"),
            Some(0),
            "TimeTicks, shown whole"
        );
        assert_eq!(precision("battery.runtime"), Some(0));
        assert_eq!(precision("config.low_battery_level"), None, "whole %");
    }

    #[test]
    fn slugs_and_literals() {
        assert_eq!(slug("Rack-1.a"), "rack_1_a");
        assert_eq!(jinja_str("it's"), r"'it\'s'");
    }
}
