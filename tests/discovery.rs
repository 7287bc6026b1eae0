//! Home Assistant discovery payloads (src/discovery.rs), checked three ways:
//! - by code, against the rules Home Assistant enforces and ours (ids, topics,
//!   availability, device class / unit pairs, one entity per field present);
//! - by Home Assistant's own discovery code (tests/ha-check, `--strict`), and
//!   every value template rendered with Jinja against real page JSON;
//! - by eye: snapshots under tests/snapshots/discovery/, regenerated with
//!   `UPS2MQTT_BLESS=1 cargo test --test discovery`.
//!
//! Pages come from real walks (snmpsim + `ups2mqtt probe`) and from a
//! synthetic UPS that has every field of the point table, decoded by
//! `ups2mqtt::pages`. The checker needs the venv `bash .ci/run` creates.

mod support;

use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use ups2mqtt::config::is_fast_page;
use ups2mqtt::discovery::{self, Bridge, DeviceOptions, Pages, Publication, SUMMARISED_TABLES};
use ups2mqtt::mib::{self, Decode, Page};
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
    }
}

fn device(naming: &Naming, ups_id: &str, pages: &Pages) -> Publication {
    let bridge = Bridge {
        naming,
        version: VERSION,
    };
    discovery::ups_device(&bridge, ups_id, pages, &options())
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

/// The pages a real walk gives, read by `ups2mqtt probe` from snmpsim
/// (probed once per walk and test process).
fn walk_pages(walk: &str) -> Pages {
    static CACHE: Mutex<BTreeMap<String, Pages>> = Mutex::new(BTreeMap::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pages) = cache.get(walk) {
        return pages.clone();
    }
    let sim = support::Snmpsim::start(walk);
    let out = Command::new(env!("CARGO_BIN_EXE_ups2mqtt"))
        .args([
            "probe",
            "--agent",
            &sim.addr().to_string(),
            "--timeout-ms",
            "2000",
        ])
        .output()
        .expect("run ups2mqtt probe");
    assert!(
        out.status.success(),
        "probe of {walk} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Map<String, Json> = serde_json::from_slice(&out.stdout).expect("probe prints JSON");
    let pages: Pages = json
        .into_iter()
        .map(|(name, page)| {
            let page_id = Page::from_name(&name).unwrap_or_else(|| panic!("unknown page {name}"));
            (
                page_id,
                page.as_object().expect("a page is an object").clone(),
            )
        })
        .collect();
    cache.insert(walk.to_string(), pages.clone());
    pages
}

/// A UPS with every field of the point table: the first source of every
/// field answers (table columns with rows 1 and 2), decoded by the library.
fn every_field_pages() -> Pages {
    let mut data = Snapshot::new();
    for field in mib::FIELDS {
        let source = &field.sources[0];
        let value = match source.decode {
            Decode::Text => Value::OctetString(format!("{} text", field.key).into_bytes()),
            Decode::Number { .. } => Value::Integer(2),
            Decode::Enum(labels) => Value::Integer(labels[0].0),
            Decode::Flag { on, .. } => Value::Integer(on),
            Decode::Alarm => Value::ObjectId(Oid::parse("1.3.6.1.2.1.33.1.6.3.2").unwrap()),
            Decode::ObjectId => Value::ObjectId(Oid::parse("1.3.6.1.2.1.33.1.7.7.4").unwrap()),
        };
        let instances: &[u32] = if field.table.is_some() { &[1, 2] } else { &[0] };
        for &instance in instances {
            data.insert(source.object_oid().child(instance), value.clone());
        }
    }
    let pages = ups2mqtt::pages::decode_all(&Page::ALL, &data, &ScaleOverrides::new());
    assert_eq!(pages.len(), Page::ALL.len(), "every page has data");
    pages.into_iter().map(|(page, o)| (page, o.json)).collect()
}

/// Every UPS the payload tests look at: (name, pages).
fn all_upses() -> Vec<(String, Pages)> {
    let mut upses = vec![("every-field".to_string(), every_field_pages())];
    upses.extend(WALKS.iter().map(|w| (w.to_string(), walk_pages(w))));
    upses
}

/// The component ids the pages call for, derived from the page JSON alone:
/// `<page>_<key>` per page-level key, `<page>_<table>_<index>_<key>` per
/// table cell, `<page>_<table>` for a summarised table.
fn expected_ids(pages: &Pages) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (page, json) in pages {
        for (key, value) in json {
            let Some(rows) = value.as_array() else {
                ids.insert(format!("{page}_{key}"));
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
                    ids.insert(format!("{page}_{key}_{index}_{column}"));
                }
            }
        }
        for &(p, table, _) in SUMMARISED_TABLES {
            if p == *page {
                ids.insert(format!("{page}_{table}"));
            }
        }
    }
    ids
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

/// One component, by the rules Home Assistant enforces (schema and entity
/// set-up) and the naming scheme.
fn check_component(naming: &Naming, ups_id: &str, id: &str, c: &Json, pages: &Pages) {
    let at = format!("{ups_id}/{id}");
    let platform = c["platform"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: platform"));
    assert!(
        matches!(platform, "sensor" | "binary_sensor"),
        "{at}: read-only platforms only"
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
    let page = pages
        .keys()
        .find(|&&p| c["state_topic"] == naming.page(ups_id, p))
        .unwrap_or_else(|| panic!("{at}: state_topic {} is no page topic", c["state_topic"]));
    assert!(c["value_template"].is_string(), "{at}: value_template");
    assert_eq!(
        c.get("expire_after"),
        is_fast_page(*page).then(|| json!(EXPIRE_AFTER)).as_ref(),
        "{at}: expire_after exactly on fast pages"
    );
    if let Some(category) = c.get("entity_category") {
        // sensor/binary_sensor async_internal_added_to_hass raises on `config`.
        assert_eq!(category, "diagnostic", "{at}: sensors cannot be config");
    }
    if let Some(enabled) = c.get("enabled_by_default") {
        assert_eq!(enabled, false, "{at}: only the non-default value is sent");
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
    let ids: BTreeSet<String> = components.keys().cloned().collect();
    assert_eq!(
        ids,
        expected_ids(pages),
        "{ups_id}: one component per field present"
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
        components.len(),
        "{ups_id}: entity names unique in the device"
    );
}

#[test]
fn every_payload_follows_home_assistant_rules() {
    let naming = naming();
    for (name, pages) in all_upses() {
        let publication = device(&naming, UPS, &pages);
        check_device(&naming, UPS, &publication, &pages);
        assert!(!components(&payload(&publication)).is_empty(), "{name}");
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
            let id = c["unique_id"].as_str().unwrap().to_string();
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
    pages.remove(&Page::Environment);
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
    assert_eq!(
        p["device"],
        json!({
            "identifiers": ["gw1_rack_1"],
            "name": "rack-1",
            "manufacturer": "EATON",
            "model": "Eaton 9PX 1000i RT 2U",
            "serial_number": "GA10J05109",
            "sw_version": "01.16.4638",
            "via_device": "gw1_bridge",
        })
    );
    // No general page: identifiers, name and via_device only.
    let mut pages = walk_pages("eaton-mgeups_9pxle");
    pages.remove(&Page::General);
    let p = payload(&device(&naming, UPS, &pages));
    let keys: Vec<&String> = p["device"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["identifiers", "name", "via_device"]);
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
        &pages,
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
    changed.get_mut(&Page::Battery).unwrap()["charge"] = json!(55.5);
    assert_eq!(device(&naming, UPS, &pages), device(&naming, UPS, &changed));
}

/// What the read-only platforms need from the point table; the payload tests
/// above only see fields some UPS has, this sees every field's metadata.
#[test]
fn point_table_metadata_fits_the_read_only_platforms() {
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
        entities += components(&payload(&publication)).len();
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
}

/// What Home Assistant should show for a JSON value, by component.
fn expected_state(c: &Json, value: Option<&Json>) -> String {
    let value = value.unwrap_or(&Json::Null);
    if c["platform"] == "binary_sensor" {
        return match value {
            Json::Bool(true) => "ON",
            Json::Bool(false) => "OFF",
            _ => "None",
        }
        .to_string();
    }
    match value {
        Json::Null => "None".to_string(),
        Json::String(s) => match c.get("options").and_then(Json::as_array) {
            Some(options) if !options.contains(value) => "None".to_string(),
            _ => s.clone(),
        },
        other => other.to_string(),
    }
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
    upses.push(("odd".to_string(), odd));
    for (_, pages) in &upses {
        let p = payload(&device(&naming, UPS, pages));
        for (id, c) in components(&p) {
            let page = pages
                .iter()
                .find(|(page, _)| c["state_topic"] == naming.page(UPS, **page))
                .unwrap();
            let text = Json::Object(page.1.clone()).to_string();
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
                "none"
            } else {
                "None"
            };
            push(template, "", gone.into());
            push(template, "{}", gone.into());
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
            push(template, &Json::Object(no_rows).to_string(), "None".into());
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
        ("battery_status", Page::Battery, &|_| {}, "normal"),
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
    ];
    for (id, page, edit, want) in cases {
        push(
            &p["components"][id]["value_template"],
            &page_text(*page, edit),
            want.to_string(),
        );
    }
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
