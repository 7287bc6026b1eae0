//! The README's page and field reference is generated from the point table,
//! its event list from the trap table, its metric list from src/metrics, its NUT variable list from the NUT table; these tests fail when they drift. Regenerate with
//! `UPS2MQTT_BLESS=1 cargo test --test readme`.

use std::path::Path;

const START: &str = "<!-- reference:start (generated from src/mib/points.rs: UPS2MQTT_BLESS=1 cargo test --test readme) -->\n";
const END: &str = "<!-- reference:end -->";

const EVENTS_START: &str = "<!-- events:start (generated from src/mib/traps.rs: UPS2MQTT_BLESS=1 cargo test --test readme) -->\n";
const EVENTS_END: &str = "<!-- events:end -->";

const METRICS_START: &str = "<!-- metrics:start (generated from src/metrics: UPS2MQTT_BLESS=1 cargo test --test readme) -->\n";
const METRICS_END: &str = "<!-- metrics:end -->";

#[test]
fn readme_metric_list_matches_the_metrics() {
    check_section(METRICS_START, METRICS_END, &ups2mqtt::metrics::markdown());
}

const NUT_START: &str = "<!-- nutvars:start (generated from src/nut/vars.rs: UPS2MQTT_BLESS=1 cargo test --test readme) -->\n";
const NUT_END: &str = "<!-- nutvars:end -->";

#[test]
fn readme_nut_variables_match_the_nut_table() {
    check_section(NUT_START, NUT_END, &ups2mqtt::nut::vars::markdown());
}

#[test]
fn readme_reference_matches_the_point_table() {
    check_section(START, END, &ups2mqtt::mib::reference::markdown());
}

#[test]
fn readme_event_list_matches_the_trap_table() {
    check_section(EVENTS_START, EVENTS_END, &ups2mqtt::mib::events::markdown());
}

/// Compares (or with UPS2MQTT_BLESS, rewrites) one generated section.
fn check_section(start_marker: &str, end_marker: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme
        .find(start_marker)
        .unwrap_or_else(|| panic!("README has the marker {start_marker}"))
        + start_marker.len();
    let end = readme
        .find(end_marker)
        .unwrap_or_else(|| panic!("README has the marker {end_marker}"));
    if std::env::var_os("UPS2MQTT_BLESS").is_some() {
        let updated = format!("{}{generated}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    assert!(
        readme[start..end] == *generated,
        "README section {start_marker:?} is stale: run UPS2MQTT_BLESS=1 cargo test --test readme"
    );
}
