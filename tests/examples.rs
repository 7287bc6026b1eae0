//! The files in `examples/` stay true to what ups2mqtt publishes and accepts:
//! the Node-RED flow is valid JSON wired to existing nodes that uses only the
//! README's topics and sends requests the gateway parses, and the Home
//! Assistant dashboard is valid YAML naming only entity ids the discovery
//! produces (as in tests/snapshots/discovery; tests/demo.rs checks them
//! against a live discovery too).

use serde_json::Value as Json;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use ups2mqtt::command::{self, Action};
use ups2mqtt::mib::{self, Page};
use ups2mqtt::topics::Naming;

const UPS: &str = "rack1";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn naming() -> Naming {
    Naming::new("demo", "ups2mqtt", "homeassistant")
}

/// Topics a client may subscribe to (README, MQTT topics).
fn is_state_topic(topic: &str) -> bool {
    let Some(rest) = topic.strip_prefix("ups2mqtt/") else {
        return false;
    };
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["bridge", "state" | "health"] => true,
        [ups, what] if *ups != "bridge" => {
            Page::from_name(what).is_some()
                || ["availability", "event", "health", "response", "audit"].contains(what)
        }
        _ => false,
    }
}

/// A request payload the gateway accepts, naming only real fields and
/// documented commands.
fn check_request(topic: &str, payload: &[u8], readme: &str) {
    let request = command::parse(&naming(), topic, payload)
        .unwrap_or_else(|| panic!("{topic} is not a command topic"));
    match request.action {
        Ok(Action::Named(name)) => assert!(
            readme.contains(&format!("`{name}`")),
            "command {name:?} is not documented in the README"
        ),
        Ok(Action::Set(fields)) => {
            for (path, _) in fields {
                let field = mib::field_by_path(&path)
                    .unwrap_or_else(|| panic!("{path} is not a field of the point table"));
                assert!(field.is_writable(), "{path} is not writable");
            }
        }
        Err(error) => panic!(
            "request on {topic} is refused: {error}: {}",
            String::from_utf8_lossy(payload)
        ),
    }
    let json: Json = serde_json::from_slice(payload).unwrap();
    assert!(
        json.get("transaction").is_some(),
        "a request carries a transaction: {json}"
    );
}

#[test]
fn node_red_flow_is_wired_and_uses_documented_topics() {
    let text = read("examples/node-red-flow.json");
    let readme = read("README.md");
    let flow: Json = serde_json::from_str(&text).expect("node-red-flow.json is JSON");
    let nodes = flow.as_array().expect("a flow is an array of nodes");
    let ids: Vec<&str> = nodes
        .iter()
        .map(|n| n["id"].as_str().expect("every node has an id"))
        .collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "node ids are unique");
    let of_type = |t: &str| -> Vec<&Json> { nodes.iter().filter(|n| n["type"] == t).collect() };
    let tabs: HashSet<&str> = of_type("tab")
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    let brokers: HashSet<&str> = of_type("mqtt-broker")
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(tabs.len(), 1, "one tab");
    assert_eq!(brokers.len(), 1, "one broker configuration");
    for node in nodes {
        let id = node["id"].as_str().unwrap();
        if let Some(z) = node.get("z") {
            assert!(tabs.contains(z.as_str().unwrap()), "{id}: unknown tab {z}");
        }
        for output in node["wires"].as_array().into_iter().flatten() {
            for target in output.as_array().expect("wires are arrays of ids") {
                let target = target.as_str().unwrap();
                assert!(unique.contains(target), "{id} is wired to missing {target}");
            }
        }
        if node["type"].as_str().unwrap().starts_with("mqtt ") {
            let broker = node["broker"].as_str().unwrap_or_default();
            assert!(brokers.contains(broker), "{id}: unknown broker {broker:?}");
        }
    }

    let subscribed: BTreeSet<&str> = of_type("mqtt in")
        .iter()
        .map(|n| n["topic"].as_str().unwrap())
        .collect();
    for topic in &subscribed {
        assert!(is_state_topic(topic), "{topic} is not a documented topic");
    }
    let page = format!("ups2mqtt/{UPS}/battery");
    let response = format!("ups2mqtt/{UPS}/response");
    assert!(subscribed.contains(page.as_str()), "shows a page");
    assert!(
        subscribed.contains(response.as_str()),
        "shows the responses"
    );

    // What is sent: injected payloads, through the mqtt out nodes they are
    // wired to, must be requests the gateway accepts.
    let mut sent = 0;
    for out in of_type("mqtt out") {
        let topic = out["topic"].as_str().unwrap();
        let out_id = out["id"].as_str().unwrap();
        assert!(
            command::parse(&naming(), topic, b"x").is_some(),
            "{topic} is not a command topic"
        );
        for inject in of_type("inject") {
            let wired = inject["wires"][0]
                .as_array()
                .is_some_and(|w| w.iter().any(|t| t == out_id));
            if !wired {
                continue;
            }
            assert_eq!(inject["payloadType"], "json");
            let payload = inject["payload"].as_str().unwrap();
            check_request(topic, payload.as_bytes(), &readme);
            sent += 1;
        }
    }
    assert!(sent >= 1, "the flow sends at least one command");
}

/// `<platform>.<ups>_<page>_<field>` ids in the discovery snapshots, with
/// the snapshots' UPS (`rack-1`, slug `rack_1`) renamed to `rack1`.
fn snapshot_entity_ids() -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut stack = vec![root().join("tests/snapshots/discovery")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                collect_entity_ids(&json_file(&path), &mut ids);
            }
        }
    }
    ids.into_iter()
        .map(|id| id.replacen(".rack_1_", &format!(".{UPS}_"), 1))
        .collect()
}

fn json_file(path: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn collect_entity_ids(json: &Json, ids: &mut BTreeSet<String>) {
    match json {
        Json::Object(map) => {
            if let Some(Json::String(id)) = map.get("default_entity_id") {
                ids.insert(id.clone());
            }
            map.values().for_each(|v| collect_entity_ids(v, ids));
        }
        Json::Array(items) => items.iter().for_each(|v| collect_entity_ids(v, ids)),
        _ => {}
    }
}

/// The dashboard as JSON, parsed by PyYAML (Debian's python3-yaml, which
/// `bash .ci/run` installs).
fn dashboard_json() -> Json {
    let path = root().join("examples/home-assistant-dashboard.yaml");
    let output = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(&path)
        .output()
        .expect("/usr/bin/python3 (apt-get install python3-yaml, or run `bash .ci/run`)");
    assert!(
        output.status.success(),
        "PyYAML could not load {} (apt-get install python3-yaml): {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every `entity:` (and entity-like string) the dashboard names.
fn dashboard_entities(dashboard: &Json) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    fn walk(json: &Json, ids: &mut BTreeSet<String>) {
        match json {
            Json::Object(map) => map.values().for_each(|v| walk(v, ids)),
            Json::Array(items) => items.iter().for_each(|v| walk(v, ids)),
            Json::String(s) => {
                let platforms = ["sensor", "binary_sensor", "number", "select", "switch"];
                if platforms
                    .iter()
                    .any(|p| s.strip_prefix(p).is_some_and(|r| r.starts_with('.')))
                {
                    ids.insert(s.clone());
                }
            }
            _ => {}
        }
    }
    walk(dashboard, &mut ids);
    ids
}

#[test]
fn dashboard_is_yaml_with_entities_the_discovery_produces() {
    let dashboard = dashboard_json();
    assert_eq!(dashboard["type"], "vertical-stack");
    let cards = dashboard["cards"].as_array().expect("cards");
    assert!(cards.iter().all(|c| c["type"].is_string()), "typed cards");
    let used = dashboard_entities(&dashboard);
    assert!(used.len() >= 10, "{used:?}");
    let known = snapshot_entity_ids();
    let unknown: Vec<&String> = used.iter().filter(|id| !known.contains(*id)).collect();
    assert!(
        unknown.is_empty(),
        "entity ids the discovery does not produce: {unknown:?}"
    );
    // The button publishes a request the gateway accepts.
    let readme = read("README.md");
    let button = cards
        .iter()
        .find(|c| c["type"] == "button")
        .expect("a button card");
    let data = &button["tap_action"]["data"];
    assert_eq!(button["tap_action"]["perform_action"], "mqtt.publish");
    let topic = data["topic"].as_str().unwrap();
    assert_eq!(topic, format!("ups2mqtt/{UPS}/request"));
    check_request(topic, data["payload"].as_str().unwrap().as_bytes(), &readme);
}

#[test]
fn documented_topic_rules_reject_others() {
    assert!(is_state_topic("ups2mqtt/rack1/battery"));
    assert!(is_state_topic("ups2mqtt/bridge/state"));
    assert!(!is_state_topic("ups2mqtt/rack1/batery"));
    assert!(!is_state_topic("ups2mqtt/rack1/battery/charge"));
    assert!(!is_state_topic("other/rack1/battery"));
}
