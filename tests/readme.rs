//! The README's page and field reference is generated from the point table;
//! this test fails when they drift. Regenerate with
//! `UPS2MQTT_BLESS=1 cargo test --test readme`.

use std::path::Path;

const START: &str = "<!-- reference:start (generated from src/mib/points.rs: UPS2MQTT_BLESS=1 cargo test --test readme) -->\n";
const END: &str = "<!-- reference:end -->";

#[test]
fn readme_reference_matches_the_point_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme
        .find(START)
        .expect("README has the reference start marker")
        + START.len();
    let end = readme
        .find(END)
        .expect("README has the reference end marker");
    let generated = ups2mqtt::mib::reference::markdown();
    if std::env::var_os("UPS2MQTT_BLESS").is_some() {
        let updated = format!("{}{generated}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    assert!(
        readme[start..end] == generated,
        "README reference is stale: run UPS2MQTT_BLESS=1 cargo test --test readme"
    );
}
