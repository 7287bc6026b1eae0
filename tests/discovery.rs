//! Home Assistant discovery payloads (src/discovery.rs), checked three ways:
//! - by code, against the rules Home Assistant enforces and ours (ids, topics,
//!   availability, device class / unit pairs, one entity per field present);
//! - by Home Assistant's own discovery code (tests/ha-check, `--strict`), and
//!   every value template rendered with Jinja against real page JSON;
//! - by eye: snapshots under tests/snapshots/discovery/, regenerated with
//!   `UPS2MQTT_BLESS=1 cargo test --test discovery`.
//!
//! Pages come from real walks (snmpsim, read by `ups2mqtt::ups::Ups`), from the
//! project's simulator (`ups2mqtt-sim`: a 3-phase card with all three MIBs,
//! receptacles and outlet groups, and one card per MIB alone), and from a
//! synthetic UPS that has every field of the point table, decoded by
//! `ups2mqtt::pages`. Writable entities and buttons are also checked
//! against the command executor (`ups2mqtt::command`): every payload they
//! can send is a command it accepts. The checker needs the venv
//! `bash .ci/run` creates.

mod support;

use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use ups2mqtt::discovery::{self, Bridge, DeviceOptions, Publication, SUMMARISED_TABLES};
use ups2mqtt::mib::commands::{COMMANDS, command_by_name};
use ups2mqtt::mib::events::EventName;
use ups2mqtt::mib::{self, Access, Decode, Legal, Mib, Page};
use ups2mqtt::model::Model;
use ups2mqtt::oid::Oid;
use ups2mqtt::pages::{ScaleOverrides, Snapshot};
use ups2mqtt::snmp::Value;
use ups2mqtt::topics::Naming;

const VERSION: &str = "0.1.0";
const EXPIRE_AFTER: u64 = 135;
/// Every recorded walk in tests/fixtures/walks.
const WALKS: &[&str] = &[
    "eaton-mgeups_9pxle",
    "apc_smx750i",
    "eaton-mgeups_9px",
    "eatonupsm2_9px+empg2",
    "generex-ups_cs141",
    "cetpower",
];
/// The walks whose payloads are snapshots.
const SNAPSHOT_WALKS: &[&str] = &["eaton-mgeups_9pxle", "apc_smx750i"];
/// A UPS id with a dash: device id and entity ids must turn it into `_`.
const UPS: &str = "rack-1";

fn naming() -> Naming {
    Naming::new("gw1", "ups2mqtt", "homeassistant")
}

fn options() -> DeviceOptions {
    DeviceOptions {
        expire_after: Some(EXPIRE_AFTER),
        ..DeviceOptions::default()
    }
}

fn device(naming: &Naming, ups_id: &str, pages: &Pages) -> Publication {
    let bridge = Bridge {
        naming,
        version: VERSION,
    };
    discovery::ups_device(&bridge, ups_id, &pages.model().shape(), &options())
}

fn bridge(naming: &Naming) -> Publication {
    discovery::bridge_device(&Bridge {
        naming,
        version: VERSION,
    })
}

fn payload(publication: &Publication) -> Json {
    serde_json::from_str(&publication.payload).expect("discovery payload is JSON")
}

fn components(payload: &Json) -> &Map<String, Json> {
    payload["components"]
        .as_object()
        .expect("payload has components")
}

// ------------------------------------------------------------------ pages

/// What one UPS's agent returned (the raw snapshot and the MIBs it serves),
/// with its pages' JSON as the gateway publishes them. Discovery renders
/// from the model of the raw data; the tests read the JSON (which they may
/// edit to feed value templates), and change what the UPS has through the
/// raw data.
#[derive(Clone)]
struct Pages {
    data: Snapshot,
    mibs: BTreeSet<Mib>,
    json: BTreeMap<Page, Map<String, Json>>,
}

impl Pages {
    fn new(data: Snapshot, mibs: BTreeSet<Mib>) -> Pages {
        let json = Model::from_snapshot(mibs.clone(), &data, &ScaleOverrides::new()).pages_json();
        Pages { data, mibs, json }
    }

    fn model(&self) -> Model {
        Model::from_snapshot(self.mibs.clone(), &self.data, &ScaleOverrides::new())
    }

    /// Changes the raw data (and so what the UPS has).
    fn edit(&mut self, edit: impl FnOnce(&mut Snapshot)) {
        edit(&mut self.data);
        *self = Pages::new(std::mem::take(&mut self.data), self.mibs.clone());
    }

    /// Every instance of every source of `fields`, gone from the agent.
    fn drop_fields<'a>(&mut self, fields: impl Iterator<Item = &'a mib::Field>) {
        let objects: Vec<Oid> = fields
            .flat_map(|f| f.sources.iter().map(|s| s.object_oid()))
            .collect();
        self.edit(|data| data.retain(|oid, _| !objects.iter().any(|o| oid.starts_with(o))));
    }

    fn drop_page(&mut self, page: Page) {
        self.drop_fields(mib::fields_of(page));
    }

    fn drop_field(&mut self, path: &str) {
        self.drop_fields(std::iter::once(mib::field_by_path(path).unwrap()));
    }

    /// Row `index` of a table (`page.table`), gone from every column.
    fn drop_row(&mut self, table: &str, index: u32) {
        let objects: Vec<Oid> = mib::FIELDS
            .iter()
            .filter(|f| f.table.is_some() && f.path().starts_with(&format!("{table}.")))
            .flat_map(|f| f.sources.iter().map(|s| s.object_oid().child(index)))
            .collect();
        self.edit(|data| data.retain(|oid, _| !objects.iter().any(|o| oid.starts_with(o))));
    }
}

impl std::ops::Deref for Pages {
    type Target = BTreeMap<Page, Map<String, Json>>;
    fn deref(&self) -> &Self::Target {
        &self.json
    }
}

impl std::ops::DerefMut for Pages {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.json
    }
}

impl<'a> IntoIterator for &'a Pages {
    type Item = (&'a Page, &'a Map<String, Json>);
    type IntoIter = std::collections::btree_map::Iter<'a, Page, Map<String, Json>>;
    fn into_iter(self) -> Self::IntoIter {
        self.json.iter()
    }
}

/// The pages a real walk gives, read from snmpsim (once per walk and test
/// process).
fn walk_pages(walk: &str) -> Pages {
    static CACHE: Mutex<BTreeMap<String, Pages>> = Mutex::new(BTreeMap::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pages) = cache.get(walk) {
        return pages.clone();
    }
    let sim = support::Snmpsim::start(walk);
    let pages = probe(&sim.addr().to_string(), walk);
    cache.insert(walk.to_string(), pages.clone());
    pages
}

/// The simulator's cards: (name, `ups2mqtt-sim` arguments).
const SIM_CARDS: &[(&str, &[&str])] = &[
    // All three MIBs, 3 phases, MGE receptacles and PowerNet outlet groups.
    ("sim-3phase", &["--phases", "3"]),
    ("sim-powernet", &["--mibs", "powernet"]),
    ("sim-mge", &["--mibs", "mge"]),
    ("sim-rfc1628", &["--mibs", "rfc1628"]),
];

/// The pages of a simulated card (`ups2mqtt-sim`, [`SIM_CARDS`]), read
/// once per card and test process.
fn sim_pages(card: &str) -> Pages {
    static CACHE: Mutex<BTreeMap<String, Pages>> = Mutex::new(BTreeMap::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pages) = cache.get(card) {
        return pages.clone();
    }
    let (_, args) = SIM_CARDS
        .iter()
        .find(|(name, _)| *name == card)
        .unwrap_or_else(|| panic!("no simulated card {card}"));
    let sim = support::sim::Sim::start(args);
    let pages = probe(&format!("127.0.0.1:{}", sim.port()), card);
    cache.insert(card.to_string(), pages.clone());
    pages
}

/// Reads every page of an agent with the library's reader (what the
/// gateway and `ups2mqtt probe` do).
fn probe(agent: &str, what: &str) -> Pages {
    let (host, port) = agent.rsplit_once(':').expect("host:port");
    let mut config = ups2mqtt::config::UpsConfig::new("probe", host, port.parse().unwrap());
    config.timeout_ms = 2000;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut ups = ups2mqtt::ups::Ups::connect(&config)
            .await
            .unwrap_or_else(|e| panic!("probe of {what} failed: {e}"));
        let data = ups
            .snapshot(&Page::ALL)
            .await
            .unwrap_or_else(|e| panic!("probe of {what} failed: {e}"));
        Pages::new(data, ups.capabilities().mibs.clone())
    })
}

/// A UPS with every field of the point table: the first source of every
/// field answers (table columns with rows 1 and 2), decoded by the library.
fn every_field_pages() -> Pages {
    let data = support::every_field::every_field_snapshot();
    let pages = Pages::new(data, Mib::ALL.into());
    assert_eq!(pages.len(), Page::ALL.len(), "every page has data");
    pages
}

/// Every UPS the payload tests look at: (name, pages).
fn all_upses() -> Vec<(String, Pages)> {
    let mut upses = vec![("every-field".to_string(), every_field_pages())];
    upses.extend(WALKS.iter().map(|w| (w.to_string(), walk_pages(w))));
    upses.extend(SIM_CARDS.iter().map(|(c, _)| (c.to_string(), sim_pages(c))));
    upses
}

/// The fields only ever written with an action label (GET reads a state
/// or "nothing pending", SET takes an action): the outlet switches and the
/// command buttons drive them, so they get no entity of their own.
const COMMAND_TRIGGERS: &[&str] = &[
    "control.outlet_groups.command",
    "control.receptacles.on",
    "control.receptacles.off",
    "control.receptacles.toggle",
    "control.ups_off",
    "control.reboot",
    "control.ups_on",
    "control.bypass_switch",
    "control.conserve_battery",
    "test.start",
    "test.start_diagnostics",
    "test.calibration",
];

/// The component ids the pages call for, derived from the page JSON alone:
/// `<page>_<key>` per page-level key, `<page>_<table>_<index>_<key>` per
/// table cell (command triggers excepted), `<page>_<table>` for a
/// summarised table, `receptacles_<table>_<index>_load` (and `_load_cycle`)
/// per outlet ([`expected_outlets`]). Named command buttons (`command_*`)
/// are checked on their own.
fn expected_ids(pages: &Pages) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let trigger = |path: String| COMMAND_TRIGGERS.contains(&path.as_str());
    for (page, json) in pages {
        for (key, value) in json {
            let Some(rows) = value.as_array() else {
                if !trigger(format!("{page}.{key}")) {
                    ids.insert(format!("{page}_{key}"));
                }
                continue;
            };
            if SUMMARISED_TABLES
                .iter()
                .any(|&(p, t, _)| p == *page && t == key)
            {
                continue;
            }
            for row in rows {
                let index = &row["index"];
                for column in row.as_object().unwrap().keys().filter(|k| *k != "index") {
                    if !trigger(format!("{page}.{key}.{column}")) {
                        ids.insert(format!("{page}_{key}_{index}_{column}"));
                    }
                }
            }
        }
        for &(p, table, _) in SUMMARISED_TABLES {
            if p == *page {
                ids.insert(format!("{page}_{table}"));
            }
        }
    }
    // Output energy integrated by the gateway: output real power and no
    // counter of the card's own.
    if let Some(output) = pages.get(&Page::Output) {
        let line_power = output
            .get("lines")
            .and_then(Json::as_array)
            .is_some_and(|rows| rows.iter().any(|r| r.get("power").is_some()));
        if !output.contains_key("energy") && (output.contains_key("power") || line_power) {
            ids.insert("output_energy".to_string());
        }
    }
    for (table, index, cycle) in expected_outlets(pages) {
        ids.insert(format!("receptacles_{table}_{index}_load"));
        if cycle {
            ids.insert(format!("receptacles_{table}_{index}_load_cycle"));
        }
    }
    ids
}

/// A page table's rows by index.
fn table_rows<'a>(pages: &'a Pages, page: Page, table: &str) -> BTreeMap<u64, &'a Json> {
    pages
        .get(&page)
        .and_then(|p| p.get(table))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|row| (row["index"].as_u64().expect("rows have an index"), row))
        .collect()
}

/// The outlets a switch is expected for: (receptacles page table, row
/// index, has a reboot button). A PowerNet outlet group with a state whose
/// control row has `command`; an MGE receptacle with a state whose control
/// row has `on` and `off` (a reboot with `toggle`), unless a PowerNet
/// control row of the same index has `command`: the executor resolves
/// `outlet.<index>` to the outlet group then.
fn expected_outlets(pages: &Pages) -> Vec<(&'static str, u64, bool)> {
    let has = |row: Option<&&Json>, key: &str| row.is_some_and(|r| r.get(key).is_some());
    let groups = table_rows(pages, Page::Receptacles, "outlet_groups");
    let group_control = table_rows(pages, Page::Control, "outlet_groups");
    let receptacles = table_rows(pages, Page::Receptacles, "receptacles");
    let receptacle_control = table_rows(pages, Page::Control, "receptacles");
    let mut out = Vec::new();
    for (index, row) in &groups {
        if has(Some(row), "state") && has(group_control.get(index), "command") {
            out.push(("outlet_groups", *index, true));
        }
    }
    for (index, row) in &receptacles {
        let control = receptacle_control.get(index);
        if has(Some(row), "state")
            && has(control, "on")
            && has(control, "off")
            && !has(group_control.get(index), "command")
        {
            out.push(("receptacles", *index, has(control, "toggle")));
        }
    }
    out
}

/// The field and row a field component id names.
fn field_of(page: Page, id: &str) -> (&'static mib::Field, Option<u64>) {
    let rest = id
        .strip_prefix(&format!("{page}_"))
        .unwrap_or_else(|| panic!("{id} is not of page {page}"));
    if let Some(field) = mib::field_by_path(&format!("{page}.{rest}")) {
        return (field, None);
    }
    for table in mib::TABLES.iter().filter(|t| t.page == page) {
        let Some(cell) = rest.strip_prefix(&format!("{}_", table.key)) else {
            continue;
        };
        let (index, key) = cell.split_once('_').unwrap_or_else(|| panic!("{id}"));
        if let (Ok(index), Some(field)) = (
            index.parse::<u64>(),
            mib::field_by_path(&format!("{page}.{}.{key}", table.key)),
        ) {
            return (field, Some(index));
        }
    }
    panic!("{id} names no field")
}

/// An outlet switch's or reboot button's id: (receptacles table, index).
fn outlet_of(id: &str) -> Option<(&'static str, u64)> {
    let rest = id.strip_prefix("receptacles_")?;
    let rest = rest
        .strip_suffix("_load")
        .or(rest.strip_suffix("_load_cycle"))?;
    ["outlet_groups", "receptacles"]
        .into_iter()
        .find_map(|table| {
            let index = rest.strip_prefix(&format!("{table}_"))?.parse().ok()?;
            Some((table, index))
        })
}

// ------------------------------------------------------------ rules by code

/// Units Home Assistant accepts for the device classes the point table uses
/// (a subset of sensor/const.py DEVICE_CLASS_UNITS: ours are SI).
fn unit_ok(device_class: &str, unit: Option<&str>) -> bool {
    match device_class {
        "voltage" => unit == Some("V"),
        "current" => unit == Some("A"),
        "power" => unit == Some("W"),
        "apparent_power" => unit == Some("VA"),
        "frequency" => unit == Some("Hz"),
        "temperature" => unit == Some("°C"),
        "humidity" | "battery" => unit == Some("%"),
        "duration" => unit == Some("s"),
        "energy" => unit == Some("kWh"),
        "reactive_power" => unit == Some("var"),
        "power_factor" => unit.is_none() || unit == Some("%"),
        "enum" => unit.is_none(),
        other => panic!("device class {other} not known to this test"),
    }
}

/// binary_sensor/__init__.py BinarySensorDeviceClass.
const BINARY_SENSOR_CLASSES: &[&str] = &[
    "battery",
    "battery_charging",
    "carbon_monoxide",
    "cold",
    "connectivity",
    "door",
    "garage_door",
    "gas",
    "heat",
    "light",
    "lock",
    "moisture",
    "motion",
    "moving",
    "occupancy",
    "opening",
    "plug",
    "power",
    "presence",
    "problem",
    "running",
    "safety",
    "smoke",
    "sound",
    "tamper",
    "update",
    "vibration",
    "window",
];

fn is_entity_object_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The platforms of writable entities.
const WRITABLE: &[&str] = &["number", "select", "switch", "text"];

/// One component, by the rules Home Assistant enforces (schema and entity
/// set-up) and the naming scheme.
fn check_component(naming: &Naming, ups_id: &str, id: &str, c: &Json, pages: &Pages) {
    let at = format!("{ups_id}/{id}");
    let platform = c["platform"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: platform"));
    if platform == "device_automation" {
        check_trigger(naming, ups_id, &at, id, c, pages);
        return;
    }
    assert!(
        matches!(platform, "sensor" | "binary_sensor" | "button" | "event")
            || WRITABLE.contains(&platform),
        "{at}: platform {platform}"
    );
    assert_eq!(
        c["unique_id"],
        format!("{}_{id}", naming.ups_device_id(ups_id)),
        "{at}: unique id = device id + component id"
    );
    let entity_id = c["default_entity_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}"));
    let object_id = entity_id
        .strip_prefix(&format!("{platform}."))
        .unwrap_or_else(|| panic!("{at}: {entity_id} is not platform-prefixed"));
    assert!(is_entity_object_id(object_id), "{at}: {entity_id}");
    assert!(
        c.get("object_id").is_none(),
        "{at}: object_id is removed in HA 2026.4"
    );
    assert!(!c["name"].as_str().unwrap_or("").is_empty(), "{at}: name");
    if let Some(enabled) = c.get("enabled_by_default") {
        assert_eq!(enabled, false, "{at}: only the non-default value is sent");
    }
    if platform == "button" {
        check_button(naming, ups_id, &at, id, c);
        return;
    }
    if c["state_topic"] == naming.energy(ups_id) {
        assert_eq!(id, "output_energy", "{at}");
        assert_eq!(c["device_class"], "energy", "{at}");
        assert_eq!(c["state_class"], "total_increasing", "{at}");
        assert_eq!(c["unit_of_measurement"], "kWh", "{at}");
        assert!(c.get("enabled_by_default").is_none(), "{at}: enabled");
        return;
    }
    if platform == "event" {
        assert_eq!(id, "event", "{at}: one event entity");
        assert_eq!(c["state_topic"], naming.event(ups_id), "{at}");
        let all: Vec<&str> = EventName::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(c["event_types"], json!(all), "{at}: the whole vocabulary");
        assert!(c.get("enabled_by_default").is_none(), "{at}: enabled");
        return;
    }
    let page = *pages
        .keys()
        .find(|&&p| c["state_topic"] == naming.page(ups_id, p))
        .unwrap_or_else(|| panic!("{at}: state_topic {} is no page topic", c["state_topic"]));
    assert!(c["value_template"].is_string(), "{at}: value_template");
    let sensor = matches!(platform, "sensor" | "binary_sensor");
    assert_eq!(
        c.get("expire_after"),
        (sensor && page.is_fast())
            .then(|| json!(EXPIRE_AFTER))
            .as_ref(),
        "{at}: expire_after exactly on sensors of fast pages"
    );
    if !sensor {
        check_writable(naming, ups_id, &at, id, c, page);
        return;
    }
    assert!(
        c.get("command_topic").is_none(),
        "{at}: read-only entity with a command topic"
    );
    if let Some(category) = c.get("entity_category") {
        // sensor/binary_sensor async_internal_added_to_hass raises on `config`.
        assert_eq!(category, "diagnostic", "{at}: sensors cannot be config");
    }
    let class = c.get("device_class").and_then(Json::as_str);
    let unit = c.get("unit_of_measurement").and_then(Json::as_str);
    if platform == "binary_sensor" {
        if let Some(class) = class {
            assert!(BINARY_SENSOR_CLASSES.contains(&class), "{at}: {class}");
        }
        for key in ["unit_of_measurement", "state_class", "options"] {
            assert!(c.get(key).is_none(), "{at}: {key} on a binary sensor");
        }
        return;
    }
    if let Some(class) = class {
        assert!(
            unit_ok(class, unit),
            "{at}: unit {unit:?} with device class {class}"
        );
    }
    if let Some(options) = c.get("options") {
        let options = options.as_array().unwrap();
        assert_eq!(class, Some("enum"), "{at}: options need device class enum");
        assert!(!options.is_empty(), "{at}: empty options");
        let unique: BTreeSet<&str> = options.iter().filter_map(Json::as_str).collect();
        assert_eq!(unique.len(), options.len(), "{at}: options unique strings");
        assert!(
            unique
                .iter()
                .all(|o| !o.eq_ignore_ascii_case("unknown") && !o.eq_ignore_ascii_case("none")),
            "{at}: Home Assistant's own words for no value as options: {options:?}"
        );
        assert!(
            c.get("state_class").is_none() && unit.is_none(),
            "{at}: options + state_class/unit"
        );
    } else {
        assert_ne!(class, Some("enum"), "{at}: enum sensor without options");
    }
    if let Some(state_class) = c.get("state_class") {
        assert!(
            matches!(
                state_class.as_str(),
                Some("measurement" | "total_increasing")
            ),
            "{at}: {state_class}"
        );
    }
    if c.get("suggested_display_precision").is_some() {
        assert!(
            unit.is_some() || c.get("state_class").is_some(),
            "{at}: precision on a text sensor"
        );
    }
}

/// A device trigger: the event topic, matched on the event's `name`, for
/// an event a trap of a MIB the UPS serves reports (the trap table).
fn check_trigger(naming: &Naming, ups_id: &str, at: &str, id: &str, c: &Json, pages: &Pages) {
    assert_eq!(c["automation_type"], "trigger", "{at}");
    assert_eq!(c["topic"], naming.event(ups_id), "{at}");
    assert_eq!(c["value_template"], "{{ value_json.name }}", "{at}");
    let name = c["payload"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: payload"));
    assert_eq!(id, format!("trigger_{name}"), "{at}");
    let event = EventName::from_name(name).unwrap_or_else(|| panic!("{at}: {name}"));
    assert!(
        mib::traps::TRAPS
            .iter()
            .any(|t| t.event == event && pages.mibs.contains(&t.mib)),
        "{at}: no trap of this UPS's MIBs reports {name}"
    );
    assert!(!c["type"].as_str().unwrap_or("").is_empty(), "{at}: type");
    assert!(
        !c["subtype"].as_str().unwrap_or("").is_empty(),
        "{at}: subtype"
    );
}

/// A button: a named command or an outlet's reboot, on the command topic.
fn check_button(naming: &Naming, ups_id: &str, at: &str, id: &str, c: &Json) {
    for key in ["state_topic", "value_template", "expire_after"] {
        assert!(c.get(key).is_none(), "{at}: {key} on a button");
    }
    assert_eq!(c["command_topic"], naming.command(ups_id), "{at}");
    let press = c["payload_press"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: payload_press"));
    if id.starts_with("command_") {
        let command = command_by_name(press).unwrap_or_else(|| panic!("{at}: {press}"));
        assert_eq!(id, format!("command_{}", press.replace('.', "_")), "{at}");
        assert_eq!(c["name"], command.label, "{at}");
    } else {
        let (_, index) = outlet_of(id).unwrap_or_else(|| panic!("{at}: no command, no outlet"));
        assert!(id.ends_with("_load_cycle"), "{at}");
        assert_eq!(press, format!("outlet.{index}.load.cycle"), "{at}");
        assert_eq!(c["entity_category"], "config", "{at}: cuts power");
        assert_eq!(c["enabled_by_default"], false, "{at}: cuts power");
    }
    if let Some(category) = c.get("entity_category") {
        assert_eq!(category, "config", "{at}");
    }
}

/// A writable entity: the contract's command topic and payloads, no
/// optimistic state, limits from the point table.
fn check_writable(naming: &Naming, ups_id: &str, at: &str, id: &str, c: &Json, page: Page) {
    let platform = c["platform"].as_str().unwrap();
    assert_eq!(
        c["optimistic"], false,
        "{at}: state only from the read-back"
    );
    if let Some((table, index)) = outlet_of(id) {
        assert_eq!(platform, "switch", "{at}");
        assert_eq!(
            page,
            Page::Receptacles,
            "{at}: state from the receptacles page"
        );
        assert!(
            c["value_template"].as_str().unwrap().contains(&format!(
                "get('{table}', []) | selectattr('index', 'eq', {index})"
            )),
            "{at}: state from its own row"
        );
        assert_eq!(c["command_topic"], naming.command(ups_id), "{at}");
        assert_eq!(c["payload_on"], format!("outlet.{index}.load.on"), "{at}");
        assert_eq!(c["payload_off"], format!("outlet.{index}.load.off"), "{at}");
        assert_eq!(
            (&c["state_on"], &c["state_off"]),
            (&json!("ON"), &json!("OFF"))
        );
        assert_eq!(c["device_class"], "outlet", "{at}");
        return;
    }
    let (field, row) = field_of(page, id);
    assert!(
        !COMMAND_TRIGGERS.contains(&field.path().as_str()),
        "{at}: a command trigger as an entity"
    );
    let topic = match (field.table, row) {
        (Some(table), Some(index)) => naming.set_cell(ups_id, page, table, index as u32, field.key),
        _ => naming.set(ups_id, page, field.key),
    };
    assert_eq!(c["command_topic"], topic, "{at}: the field's set topic");
    assert_eq!(c["entity_category"], "config", "{at}");
    assert_eq!(
        c.get("enabled_by_default").is_none(),
        field.ha.enabled,
        "{at}: the point table's enabled_by_default"
    );
    let legal: Vec<(Decode, Legal)> = field
        .sources
        .iter()
        .filter_map(|s| match s.access {
            Access::ReadWrite(legal) => Some((s.decode, legal)),
            Access::ReadOnly => None,
        })
        .collect();
    let class = c.get("device_class").and_then(Json::as_str);
    match platform {
        "number" => {
            let (min, max) = (c["min"].as_f64().unwrap(), c["max"].as_f64().unwrap());
            assert!(
                legal
                    .iter()
                    .any(|(d, l)| matches!(d, Decode::Number { .. })
                        && *l == Legal::Range { min, max }),
                "{at}: {min}..{max} is no range of the point table"
            );
            let step = c["step"].as_f64().unwrap();
            assert!(step >= 0.001 && step <= max - min, "{at}: step {step}");
            assert_eq!(c["mode"], "box", "{at}");
            let unit = c.get("unit_of_measurement").and_then(Json::as_str);
            assert_eq!(unit, field.unit.map(|u| u.symbol()), "{at}: unit");
            if let Some(class) = class {
                assert!(unit_ok(class, unit), "{at}: {unit:?} with {class}");
            }
        }
        "select" => {
            let options: Vec<&str> = c["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap())
                .collect();
            assert!(!options.is_empty(), "{at}: empty options");
            // Home Assistant's own words for no value are no option.
            assert!(
                options
                    .iter()
                    .all(|o| !o.eq_ignore_ascii_case("unknown") && !o.eq_ignore_ascii_case("none")),
                "{at}: {options:?}"
            );
            let unique: BTreeSet<&str> = options.iter().copied().collect();
            assert_eq!(unique.len(), options.len(), "{at}: options unique");
            let writable_labels = |decode: &Decode, legal: &Legal| -> Vec<&'static str> {
                let Decode::Enum(pairs) = decode else {
                    return vec![];
                };
                pairs
                    .iter()
                    .filter(|(raw, _)| match legal {
                        Legal::AnyLabel => true,
                        Legal::Labels(raws) => raws.contains(raw),
                        _ => false,
                    })
                    .map(|(_, label)| *label)
                    .collect()
            };
            assert!(
                legal.iter().any(|(d, l)| {
                    let labels = writable_labels(d, l);
                    options
                        .iter()
                        .all(|o| labels.contains(&sent_option(c, o).as_str()))
                }),
                "{at}: options {options:?} are not labels one source may write"
            );
            assert!(class.is_none(), "{at}: selects have no device class");
        }
        "switch" => {
            assert!(
                legal
                    .iter()
                    .any(|(d, l)| matches!(d, Decode::Flag { .. }) && *l == Legal::Bool),
                "{at}: a switch needs a Bool flag"
            );
            for key in ["payload_on", "payload_off", "state_on", "state_off"] {
                assert!(c.get(key).is_none(), "{at}: {key}: ON/OFF is the default");
            }
        }
        "text" => {
            let max = c["max"].as_u64().unwrap() as usize;
            assert!(
                legal.iter().any(|(d, l)| *d == Decode::Text
                    && matches!(l, Legal::Text { max_len } if (*max_len).min(255) == max)),
                "{at}: max {max} is no length of the point table"
            );
        }
        other => panic!("{at}: {other}"),
    }
}

/// A UPS's whole payload.
fn check_device(naming: &Naming, ups_id: &str, publication: &Publication, pages: &Pages) {
    let device_id = naming.ups_device_id(ups_id);
    assert_eq!(publication.topic, naming.discovery(&device_id));
    let p = payload(publication);
    let device = &p["device"];
    assert_eq!(device["identifiers"], json!([device_id]));
    assert_eq!(device["name"], ups_id);
    assert_eq!(device["via_device"], naming.bridge_device_id());
    assert_eq!(
        p["origin"],
        json!({"name": "ups2mqtt", "sw_version": VERSION})
    );
    let availability = p["availability"].as_array().expect("availability list");
    let topics: Vec<&Json> = availability.iter().map(|a| &a["topic"]).collect();
    assert_eq!(
        topics,
        [
            &json!(naming.bridge_state()),
            &json!(naming.availability(ups_id))
        ]
    );
    for a in availability {
        assert_eq!(a["payload_available"], "online");
        assert_eq!(a["payload_not_available"], "offline");
    }
    assert_eq!(p["availability_mode"], "all");
    let components = components(&p);
    let ids: BTreeSet<String> = components
        .keys()
        .filter(|id| !id.starts_with("command_") && !id.starts_with("trigger_") && *id != "event")
        .cloned()
        .collect();
    assert_eq!(
        ids,
        expected_ids(pages),
        "{ups_id}: one component per field present and per outlet"
    );
    for (id, c) in components {
        check_component(naming, ups_id, id, c, pages);
    }
    let names: BTreeSet<&str> = components
        .values()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names.len(),
        components
            .values()
            .filter(|c| c.get("name").is_some())
            .count(),
        "{ups_id}: entity names unique in the device"
    );
    assert!(
        components.contains_key("event"),
        "{ups_id}: the event entity"
    );
}

#[test]
fn every_payload_follows_home_assistant_rules() {
    let naming = naming();
    for (name, pages) in all_upses() {
        let publication = device(&naming, UPS, &pages);
        check_device(&naming, UPS, &publication, &pages);
        assert!(!components(&payload(&publication)).is_empty(), "{name}");
        // The gateway's MQTT client refuses packets over 1 MiB (src/mqtt.rs
        // MAX_PACKET); "every-field" serves every field of all three MIBs.
        assert!(
            publication.payload.len() < 800 * 1024,
            "{name}: {} bytes of discovery is close to the MQTT packet limit",
            publication.payload.len()
        );
    }
}

#[test]
fn unique_ids_are_disjoint_across_upses_and_gateways() {
    let pages = walk_pages("eaton-mgeups_9pxle");
    let gw1 = naming();
    let gw2 = Naming::new("gw2", "ups2mqtt", "homeassistant");
    let mut seen = BTreeSet::new();
    for (naming, ups_id) in [(&gw1, "rack-1"), (&gw1, "rack-2"), (&gw2, "rack-1")] {
        let p = payload(&device(naming, ups_id, &pages));
        for c in components(&p).values() {
            let Some(id) = c["unique_id"].as_str().map(str::to_string) else {
                assert_eq!(c["platform"], "device_automation");
                continue;
            };
            assert!(seen.insert(id.clone()), "{id} announced twice");
        }
        assert!(seen.insert(p["device"]["identifiers"][0].as_str().unwrap().to_string()));
    }
    // Same UPS on two gateways: same serial, different devices.
    let a = payload(&device(&gw1, "rack-1", &pages));
    let b = payload(&device(&gw2, "rack-1", &pages));
    assert_eq!(a["device"]["serial_number"], b["device"]["serial_number"]);
    assert_ne!(a["device"]["identifiers"], b["device"]["identifiers"]);
}

#[test]
fn nothing_is_announced_for_fields_a_ups_lacks() {
    let naming = naming();
    let apc = payload(&device(&naming, UPS, &walk_pages("apc_smx750i")));
    let ids: Vec<&String> = components(&apc).keys().collect();
    // PowerNet only: no MGE flags, no RFC 1628 lines or alarms, no config page.
    for absent in [
        "output_on_battery",
        "input_lines_1_voltage",
        "alarms_active",
        "config_beeper",
    ] {
        assert!(
            !ids.iter().any(|id| *id == absent),
            "{absent} on an APC card"
        );
    }
    let mge = payload(&device(&naming, UPS, &walk_pages("eaton-mgeups_9pxle")));
    assert!(components(&mge).contains_key("output_on_battery"));
    // A page that is gone takes its entities with it.
    let mut pages = walk_pages("eaton-mgeups_9pxle");
    pages.drop_page(Page::Environment);
    let fewer = payload(&device(&naming, UPS, &pages));
    assert!(
        !components(&fewer)
            .keys()
            .any(|id| id.starts_with("environment_"))
    );
}

#[test]
fn device_block_comes_from_the_general_page() {
    let naming = naming();
    let p = payload(&device(&naming, UPS, &walk_pages("eaton-mgeups_9pxle")));
    // The model with the rating of upsmgConfigVARating (1000 VA in the walk).
    assert_eq!(
        p["device"],
        json!({
            "identifiers": ["gw1_rack_1"],
            "name": "rack-1",
            "manufacturer": "EATON",
            "model": "Eaton 9PX 1000i RT 2U (1 kVA)",
            "serial_number": "GA10J05109",
            "sw_version": "01.16.4638",
            "via_device": "gw1_bridge",
        })
    );
    // A display name, an area and the card's web page, as configured.
    let bridge_ = Bridge {
        naming: &naming,
        version: VERSION,
    };
    let named = DeviceOptions {
        name: Some("Rack 1 UPS".into()),
        area: Some("Server room".into()),
        configuration_url: Some("http://192.0.2.7/".into()),
        ..options()
    };
    let pages = sim_pages("sim-powernet");
    let p = payload(&discovery::ups_device(
        &bridge_,
        UPS,
        &pages.model().shape(),
        &named,
    ));
    let block = &p["device"];
    assert_eq!(block["name"], "Rack 1 UPS");
    assert_eq!(block["suggested_area"], "Server room");
    assert_eq!(block["configuration_url"], "http://192.0.2.7/");
    let general = &pages[&Page::General];
    assert!(general["sku"].is_string(), "{general:?}");
    assert_eq!(block["model_id"], general["sku"], "{general:?}");
    assert_eq!(block["hw_version"], general["hardware_revision"]);
    assert_eq!(
        components(&p)["output_power"].get("enabled_by_default"),
        None
    );
    // No general page: identifiers, name and via_device only.
    let mut pages = walk_pages("eaton-mgeups_9pxle");
    pages.drop_page(Page::General);
    let p = payload(&device(&naming, UPS, &pages));
    let keys: Vec<&String> = p["device"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["identifiers", "name", "model", "via_device"]);
    assert_eq!(p["device"]["model"], "UPS 1 kVA", "the rating alone");
}

#[test]
fn expire_after_only_when_asked() {
    let naming = naming();
    let pages = walk_pages("eaton-mgeups_9pxle");
    let bridge = Bridge {
        naming: &naming,
        version: VERSION,
    };
    let p = payload(&discovery::ups_device(
        &bridge,
        UPS,
        &pages.model().shape(),
        &DeviceOptions::default(),
    ));
    assert!(
        components(&p)
            .values()
            .all(|c| c.get("expire_after").is_none())
    );
}

#[test]
fn bridge_device_and_removal() {
    let naming = naming();
    let publication = bridge(&naming);
    assert_eq!(publication.topic, "homeassistant/device/gw1_bridge/config");
    let p = payload(&publication);
    assert_eq!(p["device"]["identifiers"], json!(["gw1_bridge"]));
    assert_eq!(p["device"]["name"], "ups2mqtt bridge gw1");
    let connection = &p["components"]["connection_state"];
    assert_eq!(connection["platform"], "binary_sensor");
    assert_eq!(connection["device_class"], "connectivity");
    assert_eq!(connection["state_topic"], naming.bridge_state());
    assert!(
        p.get("availability").is_none(),
        "the bridge shows offline, not unavailable"
    );

    let removal = discovery::ups_removal(&naming, UPS);
    assert_eq!(removal.topic, "homeassistant/device/gw1_rack_1/config");
    assert!(
        removal.payload.is_empty(),
        "an empty retained payload removes the device"
    );
    assert_eq!(
        removal.topic,
        device(&naming, UPS, &walk_pages("apc_smx750i")).topic
    );
}

#[test]
fn payloads_are_deterministic() {
    let naming = naming();
    let pages = every_field_pages();
    assert_eq!(device(&naming, UPS, &pages), device(&naming, UPS, &pages));
    // Shape, not values: a changed reading does not change the payload.
    let mut changed = pages.clone();
    let charge = &mib::field_by_path("battery.charge").unwrap().sources[0];
    changed.edit(|data| {
        data.insert(charge.object_oid().child(0), Value::Integer(555));
    });
    assert_ne!(
        changed[&Page::Battery]["charge"],
        pages[&Page::Battery]["charge"]
    );
    assert_eq!(device(&naming, UPS, &pages), device(&naming, UPS, &changed));
}

/// The `payload_press` of every named command button of a payload.
fn command_buttons(p: &Json) -> Vec<&str> {
    components(p)
        .iter()
        .filter(|(id, _)| id.starts_with("command_"))
        .map(|(_, c)| c["payload_press"].as_str().unwrap())
        .collect()
}

#[test]
fn buttons_only_for_commands_the_ups_supports() {
    let naming = naming();
    let every: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    let cases: Vec<(&str, Pages, Vec<&str>)> = vec![
        // PowerNet: upsAdvTest*, upsAdvControl*; no beeper, no RFC tests.
        (
            "sim-powernet",
            sim_pages("sim-powernet"),
            vec![
                "test.battery.start",
                "calibrate.start",
                "calibrate.stop",
                "load.off",
                "load.on",
                "shutdown.return",
                "shutdown.stayoff",
                "shutdown.reboot",
                "bypass.start",
                "bypass.stop",
            ],
        ),
        // MGE: upsmgTest battery calibration and diagnostics only.
        (
            "sim-mge",
            sim_pages("sim-mge"),
            vec!["test.battery.start", "test.system.start"],
        ),
        // RFC 1628: upsTestId tests, the audible status, upsControl delays.
        (
            "sim-rfc1628",
            sim_pages("sim-rfc1628"),
            vec![
                "test.battery.start",
                "test.battery.start.deep",
                "test.battery.stop",
                "test.system.start",
                "beeper.enable",
                "beeper.disable",
                "beeper.mute",
                "load.off",
                "load.on",
                "shutdown.reboot",
            ],
        ),
        ("sim-3phase", sim_pages("sim-3phase"), every.clone()),
        // A real Eaton card without upsTestId: no test buttons.
        (
            "eaton-mgeups_9pxle",
            walk_pages("eaton-mgeups_9pxle"),
            vec![
                "beeper.enable",
                "beeper.disable",
                "beeper.mute",
                "load.off",
                "load.on",
                "shutdown.reboot",
            ],
        ),
        ("apc_smx750i", walk_pages("apc_smx750i"), vec![]),
        ("every-field", every_field_pages(), every.clone()),
    ];
    // Dangerous by the safety class (a write that changes whether, when or
    // at what voltage the load is powered): hidden until enabled.
    let cuts_power = [
        "load.off",
        "load.on",
        "shutdown.return",
        "shutdown.stayoff",
        "shutdown.reboot",
        "bypass.start",
        "calibrate.start",
    ];
    for (name, pages, want) in cases {
        let p = payload(&device(&naming, UPS, &pages));
        assert_eq!(command_buttons(&p), want, "{name}: buttons");
        for command in want {
            let c = &components(&p)[&format!("command_{}", command.replace('.', "_"))];
            let (category, enabled) = (c.get("entity_category"), c.get("enabled_by_default"));
            if cuts_power.contains(&command) {
                assert_eq!(category, Some(&json!("config")), "{name}: {command}");
                assert_eq!(enabled, Some(&json!(false)), "{name}: {command}");
            } else if command.starts_with("test.") {
                assert!(category.is_none() && enabled.is_none(), "{name}: {command}");
            } else {
                assert_eq!(category, Some(&json!("config")), "{name}: {command}");
                assert!(enabled.is_none(), "{name}: {command}");
            }
        }
    }
    // The RFC 1628 test needs upsTestId or upsTestSpinLock on the test page.
    let mut pages = sim_pages("sim-rfc1628");
    pages.drop_field("test.id");
    pages.drop_field("test.spin_lock");
    let p = payload(&device(&naming, UPS, &pages));
    assert!(
        !command_buttons(&p).iter().any(|c| c.starts_with("test.")),
        "{:?}",
        command_buttons(&p)
    );
}

#[test]
fn one_switch_per_outlet() {
    let naming = naming();
    let outlets = |p: &Json| -> Vec<(String, String, Option<String>)> {
        components(p)
            .iter()
            .filter(|(_, c)| c["device_class"] == "outlet")
            .map(|(id, c)| {
                let cycle = components(p)
                    .get(&format!("{id}_cycle"))
                    .map(|b| b["payload_press"].as_str().unwrap().to_string());
                (
                    id.clone(),
                    c["payload_off"].as_str().unwrap().to_string(),
                    cycle,
                )
            })
            .collect()
    };
    let expect = |table: &str, indexes: &[u64]| -> Vec<(String, String, Option<String>)> {
        indexes
            .iter()
            .map(|i| {
                (
                    format!("receptacles_{table}_{i}_load"),
                    format!("outlet.{i}.load.off"),
                    Some(format!("outlet.{i}.load.cycle")),
                )
            })
            .collect()
    };
    let mge = payload(&device(&naming, UPS, &sim_pages("sim-mge")));
    assert_eq!(outlets(&mge), expect("receptacles", &[1, 2, 3]));
    let powernet = payload(&device(&naming, UPS, &sim_pages("sim-powernet")));
    assert_eq!(outlets(&powernet), expect("outlet_groups", &[1, 2, 3]));
    // Both kinds numbered alike: `outlet.<i>` is the outlet group's (the
    // executor resolves PowerNet first), so receptacles get no switch that
    // would drive the outlet group.
    let both = payload(&device(&naming, UPS, &sim_pages("sim-3phase")));
    assert_eq!(outlets(&both), expect("outlet_groups", &[1, 2, 3]));
    for walk in ["eaton-mgeups_9pxle", "apc_smx750i"] {
        let p = payload(&device(&naming, UPS, &walk_pages(walk)));
        assert!(outlets(&p).is_empty(), "{walk}");
    }
    // No control row, no switch: the executor could not drive it.
    let mut pages = sim_pages("sim-powernet");
    pages.drop_row("control.outlet_groups", 2);
    let p = payload(&device(&naming, UPS, &pages));
    let ids: Vec<String> = outlets(&p).into_iter().map(|o| o.0).collect();
    assert_eq!(
        ids,
        [
            "receptacles_outlet_groups_1_load",
            "receptacles_outlet_groups_3_load"
        ]
    );
    // The command triggers appear as nothing else.
    for (name, pages) in all_upses() {
        let p = payload(&device(&naming, UPS, &pages));
        for id in components(&p).keys() {
            let dotted = id.replacen('_', ".", 1);
            assert!(
                !COMMAND_TRIGGERS.iter().any(|t| {
                    let (page_table, key) = t.rsplit_once('.').unwrap();
                    dotted == *t
                        || (dotted.starts_with(&format!("{page_table}."))
                            && id.ends_with(&format!("_{key}"))
                            && field_of(Page::from_name(t.split('.').next().unwrap()).unwrap(), id)
                                .0
                                .path()
                                == *t)
                }),
                "{name}: {id} duplicates a command"
            );
        }
    }
}

#[test]
fn writable_entities_follow_the_source_in_use() {
    let naming = naming();
    let component = |pages: &Pages, id: &str| -> Json {
        components(&payload(&device(&naming, UPS, pages)))
            .get(id)
            .unwrap_or_else(|| panic!("no {id}"))
            .clone()
    };
    // The published label says which MIB's select it is.
    for (pages, options) in [
        (sim_pages("sim-3phase"), json!(["Enabled", "Disabled"])),
        (
            walk_pages("eaton-mgeups_9pxle"),
            json!(["Always", "Never", "On mains"]),
        ),
        (walk_pages("eatonupsm2_9px+empg2"), json!(["On", "Off"])),
    ] {
        let c = component(&pages, "config_automatic_restart");
        assert_eq!(c["platform"], "select");
        assert_eq!(c["options"], options);
    }
    // Legal::Labels: "unknown" is read, never written.
    let schedule = component(&sim_pages("sim-powernet"), "test_schedule");
    let options = schedule["options"].as_array().unwrap();
    assert!(!options.is_empty());
    assert!(
        options
            .iter()
            .all(|o| !o.as_str().unwrap().eq_ignore_ascii_case("unknown")),
        "{options:?}"
    );
    // A text's length is its source's: 63 (RFC 1628) or 8 (PowerNet).
    assert_eq!(
        component(&sim_pages("sim-3phase"), "general_name")["max"],
        63
    );
    assert_eq!(
        component(&sim_pages("sim-powernet"), "general_name")["max"],
        8
    );
    // A number's step is its source's resolution.
    let step = |pages: &Pages, id: &str| component(pages, id)["step"].clone();
    assert_eq!(
        step(&sim_pages("sim-rfc1628"), "config_low_battery_runtime"),
        60.0
    );
    assert_eq!(
        step(&sim_pages("sim-3phase"), "config_low_battery_runtime"),
        1.0
    );
    assert_eq!(
        step(&sim_pages("sim-3phase"), "config_input_nominal_frequency"),
        0.1
    );
    // Number limits, unit and class from the point table.
    let c = component(
        &walk_pages("eaton-mgeups_9pxle"),
        "config_high_transfer_voltage",
    );
    assert_eq!(
        (
            &c["min"],
            &c["max"],
            &c["unit_of_measurement"],
            &c["device_class"]
        ),
        (&json!(0.0), &json!(500.0), &json!("V"), &json!("voltage"))
    );
    assert_eq!(
        c["command_topic"],
        naming.set(UPS, Page::Config, "high_transfer_voltage")
    );
    let cell = component(
        &sim_pages("sim-3phase"),
        "receptacles_outlet_groups_2_power_off_delay",
    );
    assert_eq!(
        cell["command_topic"],
        naming.set_cell(
            UPS,
            Page::Receptacles,
            "outlet_groups",
            2,
            "power_off_delay"
        )
    );
    assert_eq!(
        (&cell["min"], &cell["max"]),
        (&json!(-1.0), &json!(86400.0))
    );
    // Read-only where the source in use is: the outlet group status name
    // on a card without the config table's.
    let switch = component(&sim_pages("sim-mge"), "config_alarm_audible");
    assert_eq!(switch["platform"], "switch");
    assert_eq!(switch["entity_category"], "config");
}

/// Discovery builds entities for the command executor ([`ups2mqtt::command`]):
/// every payload an entity can send, on its command topic, is a command the
/// executor accepts for this UPS (dangerous commands enabled), and the
/// buttons are exactly the named commands it supports.
#[test]
fn every_entity_sends_what_the_executor_accepts() {
    use ups2mqtt::command::{self, UpsView};
    use ups2mqtt::config::CommandsConfig;
    let naming = naming();
    let policy = CommandsConfig {
        read_only: false,
        dangerous: true,
        confirm_seconds: 0,
        allow: Vec::new(),
    };
    let cards: &[(&str, &[Mib])] = &[
        ("sim-3phase", &[Mib::Rfc1628, Mib::Mge, Mib::PowerNet]),
        ("sim-powernet", &[Mib::PowerNet]),
        ("sim-mge", &[Mib::Mge]),
        ("sim-rfc1628", &[Mib::Rfc1628]),
    ];
    let mut sent = 0;
    for (card, mibs) in cards {
        let pages = sim_pages(card);
        let mibs: BTreeSet<Mib> = mibs.iter().copied().collect();
        assert_eq!(pages.mibs, mibs, "{card}: the MIBs detected");
        let mut model = pages.model();
        let shape = model.shape();
        let view = UpsView {
            model: &model,
            shape: &shape,
        };
        let p = payload(&device(&naming, UPS, &pages));
        assert_eq!(
            command_buttons(&p),
            shape.command_names(),
            "{card}: buttons = the executor's named commands"
        );
        for (id, c) in components(&p) {
            let Some(topic) = c.get("command_topic").and_then(Json::as_str) else {
                continue;
            };
            let payloads: Vec<String> = match c["platform"].as_str().unwrap() {
                "button" => vec![c["payload_press"].as_str().unwrap().into()],
                "switch" => ["payload_on", "payload_off"]
                    .map(|k| {
                        c.get(k)
                            .and_then(Json::as_str)
                            .unwrap_or(&k[8..].to_uppercase())
                            .to_string()
                    })
                    .into(),
                "select" => c["options"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| sent_option(c, o.as_str().unwrap()))
                    .collect(),
                "number" => {
                    let (min, max) = (c["min"].as_f64().unwrap(), c["max"].as_f64().unwrap());
                    let step = c["step"].as_f64().unwrap();
                    let mid = min + ((max - min) / 2.0 / step).round() * step;
                    // As Home Assistant formats it: whole numbers without ".0".
                    [min, mid, max].map(|x| format!("{x}")).into()
                }
                "text" => vec!["x".repeat(c["max"].as_u64().unwrap() as usize)],
                other => panic!("{card}/{id}: {other} with a command topic"),
            };
            for text in payloads {
                let request = command::parse(&naming, topic, text.as_bytes())
                    .unwrap_or_else(|| panic!("{card}/{id}: {topic} is no command topic"));
                assert_eq!(request.ups_id, UPS, "{card}/{id}: {topic}");
                let action = request
                    .action
                    .unwrap_or_else(|e| panic!("{card}/{id}: {text:?} on {topic}: {e}"));
                if let Err(e) = command::plan(&action, &view, &policy) {
                    panic!("{card}/{id}: {text:?} on {topic} refused: {e}");
                }
                sent += 1;
            }
        }
    }
    assert!(sent > 100, "{sent} payloads checked");
}

/// What the platforms need from the point table; the payload tests above
/// only see fields some UPS has, this sees every field's metadata.
#[test]
fn point_table_metadata_fits_the_platforms() {
    use ups2mqtt::mib::commands::{Arg, Way};
    use ups2mqtt::mib::{Category, Component};
    let mut wrong = Vec::new();
    for field in mib::FIELDS {
        let all = |f: fn(&Decode) -> bool| field.sources.iter().all(|s| f(&s.decode));
        let flags = all(|d| matches!(d, Decode::Flag { .. }));
        let enums = all(|d| matches!(d, Decode::Enum(_)));
        let numbers = all(|d| matches!(d, Decode::Number { .. }));
        let ha = &field.ha;
        let mut why = Vec::new();
        if ha.component == Component::BinarySensor && !flags {
            why.push("binary sensor that does not decode as a flag");
        }
        if ha.device_class == Some("enum") && !enums {
            why.push("enum device class without enum labels");
        }
        if (field.unit.is_some() || ha.state_class.is_some()) && !numbers {
            why.push("unit or state class on a value that is not a number");
        }
        if matches!(ha.component, Component::Sensor | Component::BinarySensor)
            && ha.category == Some(Category::Config)
        {
            why.push("Home Assistant refuses sensors in the config category");
        }
        // A writable source's decoder and legality imply the entity the
        // table names (command triggers have none of their own).
        let trigger = COMMAND_TRIGGERS.contains(&field.path().as_str());
        let writable: Vec<Component> = field
            .sources
            .iter()
            .filter_map(|s| match (s.decode, s.access) {
                (Decode::Number { .. }, Access::ReadWrite(Legal::Range { .. })) => {
                    Some(Component::Number)
                }
                (Decode::Enum(_), Access::ReadWrite(Legal::AnyLabel | Legal::Labels(_))) => {
                    Some(Component::Select)
                }
                (Decode::Flag { .. }, Access::ReadWrite(Legal::Bool)) => Some(Component::Switch),
                (Decode::Text, Access::ReadWrite(Legal::Text { .. })) => Some(Component::Text),
                (_, Access::ReadWrite(_)) => Some(Component::Sensor),
                (_, Access::ReadOnly) => None,
            })
            .collect();
        if !trigger && writable.iter().any(|c| *c != ha.component) {
            why.push("a writable source whose entity is not the table's component");
        }
        let settable = matches!(
            ha.component,
            Component::Number | Component::Select | Component::Switch | Component::Text
        );
        if settable && !trigger && writable.is_empty() {
            why.push("a writable platform for a read-only field");
        }
        // The trigger list is what the data says: written by a command with
        // a label, and only action labels are writable.
        let path = field.path();
        let commanded = COMMANDS
            .iter()
            .flat_map(|c| c.ways)
            .any(|w| matches!(w, Way::Set { path: p, arg: Arg::Label(_) } if *p == path))
            || path.starts_with("control.outlet_groups.command")
            || ["on", "off", "toggle"]
                .map(|k| format!("control.receptacles.{k}"))
                .contains(&path);
        let actions = field
            .sources
            .iter()
            .filter(|s| s.is_writable())
            .all(|s| matches!(s.access, Access::ReadWrite(Legal::Labels(_))));
        if trigger != (commanded && actions) {
            why.push("COMMAND_TRIGGERS disagrees with the point table and mib::commands");
        }
        if !why.is_empty() {
            wrong.push(format!("{}: {}", field.path(), why.join(", ")));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------- snapshots

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/discovery")
}

fn pretty(publication: &Publication) -> String {
    let doc = json!({"topic": publication.topic, "payload": payload(publication)});
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

/// The snapshot files and their expected contents.
fn snapshots() -> BTreeMap<PathBuf, String> {
    let naming = naming();
    let mut files = BTreeMap::new();
    files.insert(PathBuf::from("bridge.json"), pretty(&bridge(&naming)));
    for walk in SNAPSHOT_WALKS {
        let publication = device(&naming, UPS, &walk_pages(walk));
        files.insert(PathBuf::from(format!("{walk}.json")), pretty(&publication));
    }
    // The UPS with every field, one file per page for review.
    let p = payload(&device(&naming, UPS, &every_field_pages()));
    let mut head = p.as_object().unwrap().clone();
    head.remove("components");
    let head = serde_json::to_string_pretty(&head).unwrap() + "\n";
    files.insert(PathBuf::from("every-field/device.json"), head);
    for page in Page::ALL {
        let topic = json!(naming.page(UPS, page));
        let of_page: Map<String, Json> = components(&p)
            .iter()
            .filter(|(_, c)| c["state_topic"] == topic)
            .map(|(id, c)| (id.clone(), c.clone()))
            .collect();
        let text = serde_json::to_string_pretty(&of_page).unwrap() + "\n";
        files.insert(PathBuf::from(format!("every-field/{page}.json")), text);
    }
    // Buttons have no state topic: named commands and outlet reboots.
    let buttons: Map<String, Json> = components(&p)
        .iter()
        .filter(|(_, c)| c.get("state_topic").is_none())
        .map(|(id, c)| (id.clone(), c.clone()))
        .collect();
    let text = serde_json::to_string_pretty(&buttons).unwrap() + "\n";
    files.insert(PathBuf::from("every-field/buttons.json"), text);
    files
}

#[test]
fn snapshots_match() {
    let dir = snapshot_dir();
    let files = snapshots();
    if std::env::var_os("UPS2MQTT_BLESS").is_some() {
        for (path, text) in &files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
        return;
    }
    let bless = "run UPS2MQTT_BLESS=1 cargo test --test discovery, review and commit the diff";
    for (path, text) in &files {
        let on_disk = std::fs::read_to_string(dir.join(path))
            .unwrap_or_else(|e| panic!("{}: {e}: {bless}", path.display()));
        assert!(on_disk == *text, "{} is stale: {bless}", path.display());
    }
    let mut on_disk = Vec::new();
    for sub in [dir.clone(), dir.join("every-field")] {
        for entry in std::fs::read_dir(&sub).unwrap().flatten() {
            if entry.path().is_file() {
                on_disk.push(entry.path().strip_prefix(&dir).unwrap().to_path_buf());
            }
        }
    }
    for path in on_disk {
        assert!(
            files.contains_key(&path),
            "{} is no snapshot any more: delete it",
            path.display()
        );
    }
}

// ------------------------------------------------- Home Assistant's own code

fn ha_check_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ha-check")
}

/// The checker venv's python: `$UPS2MQTT_HA_CHECK_PYTHON`, else the venv
/// `.ci/run` creates under `${UPS2MQTT_PEERS:-$HOME/.cache/ups2mqtt-peers}`.
/// Missing is a failure, not a skip.
fn ha_check_python() -> PathBuf {
    const MISSING: &str = "Home Assistant checker venv not found: run `bash .ci/run` once \
        (or tests/ha-check/setup.sh and set UPS2MQTT_HA_CHECK_PYTHON)";
    if let Some(p) = std::env::var_os("UPS2MQTT_HA_CHECK_PYTHON").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{MISSING} (UPS2MQTT_HA_CHECK_PYTHON={} does not exist)",
            p.display()
        );
        return p;
    }
    let peers = std::env::var_os("UPS2MQTT_PEERS")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ups2mqtt-peers"))
        })
        .expect("HOME or UPS2MQTT_PEERS is set");
    let python = peers.join("ha-check-venv/bin/python");
    assert!(
        python.is_file(),
        "{MISSING} ({} does not exist)",
        python.display()
    );
    python
}

/// Runs a python script of tests/ha-check with `stdin`; (success, stdout).
fn run_python(script: &str, args: &[&str], stdin: &[u8]) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(ha_check_python())
        .arg(ha_check_dir().join(script))
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {script}: {e}"));
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.trim().is_empty() || out.status.success(),
        "{script}: {stderr}"
    );
    (out.status.success(), stdout)
}

/// Runs Home Assistant's discovery code on publications, strictly.
fn ha_check(publications: &[Publication]) -> (bool, String) {
    let lines: String = publications
        .iter()
        .map(|p| json!({"topic": p.topic, "payload": p.payload}).to_string() + "\n")
        .collect();
    run_python(
        "ha_discovery_check.py",
        &["--strict", "-"],
        lines.as_bytes(),
    )
}

#[test]
fn home_assistant_accepts_every_payload() {
    let naming = naming();
    let mut publications = vec![bridge(&naming)];
    let mut entities = 1;
    for (n, (_, pages)) in all_upses().iter().enumerate() {
        let publication = device(&naming, &format!("ups-{n}"), pages);
        // Device triggers are no entities.
        entities += components(&payload(&publication))
            .values()
            .filter(|c| c["platform"] != "device_automation")
            .count();
        publications.push(publication);
    }
    // A custom prefix and base topic work the same way.
    let custom = Naming::new("gw-2", "site/ups", "ha");
    let custom_pages = walk_pages("eaton-mgeups_9pxle");
    let (ok, out) = run_python(
        "ha_discovery_check.py",
        &["--strict", "--prefix", "ha", "-"],
        [bridge(&custom), device(&custom, UPS, &custom_pages)]
            .iter()
            .map(|p| json!({"topic": p.topic, "payload": p.payload}).to_string() + "\n")
            .collect::<String>()
            .as_bytes(),
    );
    assert!(
        ok && !out.contains("FAIL") && !out.contains("WARN"),
        "{out}"
    );

    let (ok, out) = ha_check(&publications);
    assert!(ok, "Home Assistant rejected a payload:\n{out}");
    assert!(!out.contains("FAIL") && !out.contains("WARN"), "{out}");
    assert!(
        out.contains(&format!("{} passed, 0 failed", publications.len())),
        "{out}"
    );
    let created: usize = out
        .lines()
        .filter_map(|l| {
            l.rsplit_once(" (")?
                .1
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert_eq!(
        created, entities,
        "Home Assistant built every entity:\n{out}"
    );
}

#[test]
fn the_checker_rejects_what_home_assistant_rejects() {
    // Negative control: the checker is not a rubber stamp.
    let naming = naming();
    let good = device(&naming, UPS, &walk_pages("eaton-mgeups_9pxle"));
    let mut p = payload(&good);
    p["components"]["battery_voltage"]["unit_of_measurement"] = json!("%");
    let bad = Publication {
        topic: good.topic.clone(),
        payload: p.to_string(),
    };
    let (ok, out) = ha_check(&[bad]);
    assert!(!ok && out.contains("FAIL"), "{out}");
    assert!(out.contains("device class `voltage`"), "{out}");
    // The writable platforms are validated too (text included).
    let edits: &[(&str, &str, Json, &str)] = &[
        (
            "general_name",
            "max",
            json!(300),
            "max text length must be <= 255",
        ),
        (
            "config_low_battery_level",
            "min",
            json!(200),
            "max must be >= min",
        ),
        ("config_beeper", "command_topic", json!("a/+/set"), "topic"),
        (
            "command_load_off",
            "payload_press",
            json!(["x"]),
            "payload_press",
        ),
    ];
    for (id, key, value, error) in edits {
        let mut p = payload(&good);
        p["components"][id][key] = value.clone();
        let bad = Publication {
            topic: good.topic.clone(),
            payload: p.to_string(),
        };
        let (ok, out) = ha_check(&[bad]);
        assert!(!ok && out.contains("FAIL"), "{id}.{key}: {out}");
        assert!(out.contains(error), "{id}.{key}: {out}");
    }
}

/// What Home Assistant should show for a JSON value, by component: `None`
/// is "unknown" (a text shows an empty string instead), and so is a value
/// the entity could not take (a label outside `options`, a number outside
/// `min..max`).
fn expected_state(c: &Json, value: Option<&Json>) -> String {
    let value = value.unwrap_or(&Json::Null);
    let none = || "None".to_string();
    match (c["platform"].as_str().unwrap(), c.get("device_class")) {
        ("switch", Some(class)) if class == "outlet" => {
            return match value.as_str() {
                Some(s) if s == "on" || s.ends_with("_on") => "ON".into(),
                Some(s) if s == "off" || s.ends_with("_off") => "OFF".into(),
                _ => none(),
            };
        }
        ("binary_sensor" | "switch", _) => {
            return match value {
                Json::Bool(true) => "ON",
                Json::Bool(false) => "OFF",
                _ => "None",
            }
            .to_string();
        }
        ("number", _) => {
            let (min, max) = (c["min"].as_f64().unwrap(), c["max"].as_f64().unwrap());
            return match value.as_f64() {
                Some(x) if (min..=max).contains(&x) => value.to_string(),
                _ => none(),
            };
        }
        ("text", _) => {
            let max = c["max"].as_u64().unwrap() as usize;
            return match value {
                Json::Null => String::new(),
                Json::String(s) => s.chars().take(max).collect(),
                other => other.to_string(),
            };
        }
        _ => {}
    }
    match value {
        Json::Null => none(),
        Json::String(s) => match c.get("options").and_then(Json::as_array) {
            // An enum sensor or a select shows the label's words; `unknown`
            // is unknown.
            Some(options) => match discovery::label_text(s) {
                Some(text) if options.contains(&json!(text)) => text,
                _ => none(),
            },
            _ => s.clone(),
        },
        other => other.to_string(),
    }
}

/// What Home Assistant sends for a select option: what the component's
/// `command_template` (`{{ {'Words': 'label', ...}.get(value, value) }}`)
/// makes of it, read from its dict literal here;
/// `value_templates_read_the_page_json` renders every one with Jinja.
fn sent_option(c: &Json, option: &str) -> String {
    let template = c["command_template"]
        .as_str()
        .expect("a select maps its words back to labels");
    let strings = jinja_strings(template);
    assert!(
        strings.len() % 2 == 0 && !strings.is_empty(),
        "{template}: a dict of strings"
    );
    strings
        .chunks(2)
        .find(|pair| pair[0] == option)
        .map(|pair| pair[1].clone())
        .unwrap_or_else(|| option.to_string())
}

/// The single-quoted string literals of a Jinja template, unescaped.
fn jinja_strings(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut literal = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => literal.extend(chars.next()),
                '\'' => break,
                c => literal.push(c),
            }
        }
        out.push(literal);
    }
    out
}

/// The JSON value a component reads, found the way a reader would: by the
/// component id's parts.
fn value_of<'a>(id: &str, pages: &'a Pages) -> Option<&'a Json> {
    let (page, json) = pages
        .iter()
        .find(|(p, _)| id.starts_with(&format!("{p}_")))?;
    let rest = &id[page.name().len() + 1..];
    if let Some(v) = json.get(rest) {
        return Some(v);
    }
    for table in mib::TABLES.iter().filter(|t| t.page == *page) {
        let Some(cell) = rest.strip_prefix(&format!("{}_", table.key)) else {
            continue;
        };
        let (index, key) = cell.split_once('_')?;
        let index: u64 = index.parse().ok()?;
        // An outlet switch (`<table>_<index>_load`) reads its row's state.
        let key = match (page, key) {
            (Page::Receptacles, "load") => "state",
            _ => key,
        };
        let rows = json.get(table.key)?.as_array()?;
        let row = rows.iter().find(|r| r["index"] == json!(index))?;
        return row.get(key);
    }
    None
}

/// A change made to a page's JSON before rendering.
type PageEdit<'a> = &'a dyn Fn(&mut Map<String, Json>);

#[test]
fn value_templates_read_the_page_json() {
    let naming = naming();
    let mut items = Vec::new();
    let mut expected = Vec::new();
    let mut push = |template: &Json, page: &str, want: String| {
        items.push(json!({"template": template, "payload": page}));
        expected.push(want);
    };
    let mut upses = all_upses();
    // Values pages.rs publishes but no walk has: unknown enum values and nulls.
    let mut odd = walk_pages("eaton-mgeups_9pxle");
    let output = odd.get_mut(&Page::Output).unwrap();
    output["source"] = json!("unknown_42");
    output["on_battery"] = Json::Null;
    output["lines"][0]["voltage"] = Json::Null;
    let alarms = odd.get_mut(&Page::Alarms).unwrap();
    alarms.insert(
        "active".into(),
        json!([{"index": 7, "alarm": "on_battery", "since": 1.5}, {"index": 9, "alarm": "low_battery"}]),
    );
    // Writable fields with values their entities cannot take.
    let config = odd.get_mut(&Page::Config).unwrap();
    config["automatic_restart"] = json!("unknown_7");
    config["low_battery_level"] = json!(150);
    config["low_battery_runtime"] = Json::Null;
    odd.get_mut(&Page::General).unwrap()["name"] = Json::Null;
    upses.push(("odd".to_string(), odd));
    let mut odd_outlets = sim_pages("sim-mge");
    let receptacles = odd_outlets.get_mut(&Page::Receptacles).unwrap();
    receptacles["receptacles"][1]["state"] = json!("manual_off");
    receptacles["receptacles"][2]["state"] = json!("unknown_9");
    odd_outlets.get_mut(&Page::Config).unwrap()["alarm_audible"] = Json::Null;
    upses.push(("odd-outlets".to_string(), odd_outlets));
    for (_, pages) in &upses {
        let p = payload(&device(&naming, UPS, pages));
        for (id, c) in components(&p) {
            if matches!(
                c["platform"].as_str(),
                Some("button" | "event" | "device_automation")
            ) || c["state_topic"] == naming.energy(UPS)
            {
                continue;
            }
            let page = pages
                .iter()
                .find(|(page, _)| c["state_topic"] == naming.page(UPS, **page))
                .unwrap();
            let text = Json::Object(page.1.clone()).to_string();
            // A select sends the label of the words chosen.
            if c["platform"] == "select" {
                for option in c["options"].as_array().unwrap() {
                    let option = option.as_str().unwrap();
                    push(&c["command_template"], option, sent_option(c, option));
                }
            }
            let template = &c["value_template"];
            let want = if id == "alarms_active" {
                let names: Vec<&str> = page
                    .1
                    .get("active")
                    .and_then(Json::as_array)
                    .map_or(vec![], |rows| {
                        rows.iter().filter_map(|r| r["alarm"].as_str()).collect()
                    });
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            } else {
                expected_state(c, value_of(id, pages))
            };
            push(template, &text, want.clone());
            // A cleared page and an empty page.
            let gone = if id == "alarms_active" {
                "none".to_string()
            } else {
                expected_state(c, None)
            };
            push(template, "", gone.clone());
            push(template, "{}", gone.clone());
            let rest = &id[page.0.name().len() + 1..];
            if id == "alarms_active" || page.1.contains_key(rest) {
                continue;
            }
            // Table cells: rows are found by index, not position, and a row
            // that is gone reads as unknown.
            let mut reversed = page.1.clone();
            let mut no_rows = page.1.clone();
            for value in reversed.values_mut() {
                if let Some(rows) = value.as_array_mut() {
                    rows.reverse();
                }
            }
            no_rows.retain(|_, v| !v.is_array());
            push(template, &Json::Object(reversed).to_string(), want);
            push(template, &Json::Object(no_rows).to_string(), gone);
        }
    }
    // The same rules, spelled out on the 9PX's real page JSON.
    let real = walk_pages("eaton-mgeups_9pxle");
    let p = payload(&device(&naming, UPS, &real));
    let page_text = |page: Page, edit: &dyn Fn(&mut Map<String, Json>)| {
        let mut json = real[&page].clone();
        edit(&mut json);
        Json::Object(json).to_string()
    };
    let cases: &[(&str, Page, PageEdit, &str)] = &[
        ("battery_charge", Page::Battery, &|_| {}, "91"),
        ("battery_voltage", Page::Battery, &|_| {}, "55.0"),
        // An enum sensor shows words; the label `unknown` is unknown.
        ("battery_status", Page::Battery, &|_| {}, "Normal"),
        (
            "battery_status",
            Page::Battery,
            &|j| j["status"] = json!("unknown"),
            "None",
        ),
        (
            "battery_status",
            Page::Battery,
            &|j| j["status"] = json!("not_present"),
            "Not present",
        ),
        ("battery_low", Page::Battery, &|_| {}, "OFF"),
        (
            "battery_low",
            Page::Battery,
            &|j| j["low"] = json!(true),
            "ON",
        ),
        (
            "battery_low",
            Page::Battery,
            &|j| j["low"] = Json::Null,
            "None",
        ),
        (
            "battery_low",
            Page::Battery,
            &|j| {
                j.remove("low");
            },
            "None",
        ),
        (
            "output_source",
            Page::Output,
            &|j| j["source"] = json!("unknown_42"),
            "None",
        ),
        ("config_low_transfer_voltage", Page::Config, &|_| {}, "None"),
        ("input_lines_1_voltage", Page::Input, &|_| {}, "228"),
        (
            "input_lines_1_voltage",
            Page::Input,
            &|j| j["lines"] = json!([{"index": 2, "voltage": 1}, {"index": 1, "voltage": 229}]),
            "229",
        ),
        (
            "input_lines_1_voltage",
            Page::Input,
            &|j| j["lines"] = json!([{"index": 2, "voltage": 1}]),
            "None",
        ),
        ("alarms_active", Page::Alarms, &|_| {}, "none"),
        // Writable fields: the state is the published value, or unknown.
        ("config_beeper", Page::Config, &|_| {}, "Enabled"),
        ("config_automatic_restart", Page::Config, &|_| {}, "Always"),
        (
            "config_automatic_restart",
            Page::Config,
            &|j| j["automatic_restart"] = json!("on"),
            "None",
        ),
        ("config_low_battery_level", Page::Config, &|_| {}, "20"),
        (
            "config_low_battery_level",
            Page::Config,
            &|j| j["low_battery_level"] = json!(101),
            "None",
        ),
        ("config_low_battery_runtime", Page::Config, &|_| {}, "180"),
        (
            "control_shutdown_after_delay",
            Page::Control,
            &|j| j["shutdown_after_delay"] = json!(-1),
            "-1",
        ),
        (
            "general_name",
            Page::General,
            &|_| {},
            "ID: GA10J05109 , Msg: 9PX1000iRT2U",
        ),
        (
            "general_name",
            Page::General,
            &|j| j["name"] = Json::Null,
            "",
        ),
    ];
    for (id, page, edit, want) in cases {
        push(
            &p["components"][id]["value_template"],
            &page_text(*page, edit),
            want.to_string(),
        );
    }
    // A select sends the label of the words chosen (the MIB's
    // upsmgConfigAutoRestart of MG-SNMP-UPS-MIB: always, never, onMains).
    let restart = &p["components"]["config_automatic_restart"]["command_template"];
    for (option, label) in [
        ("Always", "always"),
        ("Never", "never"),
        ("On mains", "on_mains"),
    ] {
        push(restart, option, label.into());
    }
    // Outlet and flag switches on a real MGE receptacle page.
    let mge = sim_pages("sim-mge");
    let p = payload(&device(&naming, UPS, &mge));
    let receptacles = |states: [&str; 3]| {
        let mut json = mge[&Page::Receptacles].clone();
        for (row, state) in json["receptacles"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .zip(states)
        {
            row["state"] = json!(state);
        }
        Json::Object(json).to_string()
    };
    for (id, states, want) in [
        (
            "receptacles_receptacles_2_load",
            ["manual_off", "normal_on", "x"],
            "ON",
        ),
        (
            "receptacles_receptacles_2_load",
            ["normal_on", "control_off", "x"],
            "OFF",
        ),
        (
            "receptacles_receptacles_2_load",
            ["normal_on", "schedule_on", "x"],
            "ON",
        ),
        (
            "receptacles_receptacles_3_load",
            ["normal_on", "normal_on", "unknown_9"],
            "None",
        ),
    ] {
        push(
            &p["components"][id]["value_template"],
            &receptacles(states),
            want.to_string(),
        );
    }
    let config = |audible: Json| {
        let mut json = mge[&Page::Config].clone();
        json["alarm_audible"] = audible;
        Json::Object(json).to_string()
    };
    let audible = &p["components"]["config_alarm_audible"]["value_template"];
    push(audible, &config(json!(true)), "ON".into());
    push(audible, &config(json!(false)), "OFF".into());
    push(audible, &config(Json::Null), "None".into());
    let bridge_template =
        &payload(&bridge(&naming))["components"]["connection_state"]["value_template"];
    push(bridge_template, r#"{"state":"online"}"#, "online".into());
    push(bridge_template, r#"{"state":"offline"}"#, "offline".into());
    push(bridge_template, "offline", "offline".into());

    let (ok, out) = run_python(
        "render_templates.py",
        &[],
        serde_json::to_string(&items).unwrap().as_bytes(),
    );
    assert!(ok, "{out}");
    let rendered: Vec<Json> = serde_json::from_str(&out).expect("rendered JSON");
    assert_eq!(rendered.len(), items.len());
    let mut wrong = Vec::new();
    for ((item, want), got) in items.iter().zip(&expected).zip(&rendered) {
        if got != &json!(want) {
            wrong.push(format!(
                "{}\n  payload {}\n  want {want:?} got {got}",
                item["template"], item["payload"]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} renderings wrong:\n{}",
        wrong.len(),
        items.len(),
        wrong.join("\n")
    );
}
