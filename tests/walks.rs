//! `ups2mqtt probe` against snmpsim serving the real walks in
//! tests/fixtures/walks: the decoded pages must carry the walks' values,
//! scaled, labelled and shaped as the point table says.

mod support;

use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::process::{Command, Output};
use support::Snmpsim;
use ups2mqtt::mib::{self, Decode, RowIndex, Source};

fn probe_command(agent: &str, extra: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ups2mqtt"));
    command.args(["probe", "--agent", agent]);
    if !extra.contains(&"--timeout-ms") {
        command.args(["--timeout-ms", "2000"]);
    }
    command.args(extra).output().expect("run ups2mqtt probe")
}

/// Probes a walk and returns the pages JSON.
fn probe(sim: &Snmpsim, extra: &[&str]) -> Json {
    let out = probe_command(&sim.addr().to_string(), extra);
    assert!(
        out.status.success(),
        "probe of {} failed: {}",
        sim.walk(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("probe prints one JSON object")
}

fn page_names(pages: &Json) -> Vec<&str> {
    pages
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn eaton_9px_le_rfc1628_and_mge() {
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let pages = probe(&sim, &[]);
    assert_eq!(
        page_names(&pages),
        [
            "general",
            "alarms",
            "input",
            "output",
            "battery",
            "config",
            "environment",
            "control",
            "test"
        ]
    );
    let general = &pages["general"];
    assert_eq!(general["manufacturer"], "EATON");
    assert_eq!(general["model"], "Eaton 9PX 1000i RT 2U");
    assert_eq!(general["model_name"], "1000i RT 2U");
    assert_eq!(general["serial_number"], "GA10J05109");
    assert_eq!(
        general["firmware_version"], "01.16.4638",
        "MGE firmware preferred over RFC 'INV: ...'"
    );
    assert_eq!(pages["alarms"], json!({"present": 0}));
    // RFC 1628 input row (whole volts), MGE tenths and the row count.
    // upsInputCurrent.1 = 0 and upsInputTruePower.1 = 0 on a line carrying
    // 228 V while the output draws 360 W: not measured, no reading.
    assert_eq!(
        pages["input"]["lines"],
        json!([{"index": 1, "voltage": 228, "frequency": 50.0, "current": null, "power": null}])
    );
    assert_eq!(pages["input"]["bad"], false);
    assert_eq!(pages["input"]["transfer_reason"], "no");
    // MGE's output table has 3 rows, upsOutputNumLines says 1.
    let output = &pages["output"];
    assert_eq!(output["source"], "normal");
    assert_eq!(output["on_battery"], false);
    assert_eq!(
        output["lines"],
        json!([{"index": 1, "voltage": 230, "current": 1.7, "power": 360, "load": 40, "frequency": 50.0}])
    );
    let battery = &pages["battery"];
    assert_eq!(battery["charge"], 91);
    assert_eq!(
        battery["runtime"], 1132,
        "MGE seconds preferred over RFC minutes (18 min)"
    );
    assert_eq!(battery["voltage"], 55.0);
    assert_eq!(battery["status"], "normal");
    assert_eq!(battery["low"], false);
    let config = &pages["config"];
    assert_eq!(config["low_battery_runtime"], 180);
    assert_eq!(config["low_battery_level"], 20);
    assert_eq!(config["automatic_restart"], "always");
    assert_eq!(config["beeper"], "enabled");
    assert_eq!(
        config["low_transfer_voltage"],
        Json::Null,
        "0 = not supported"
    );
    assert_eq!(config["input_nominal_frequency"], 50.0);
    let sensor = &pages["environment"]["sensors"][0];
    assert_eq!(sensor["name"], "Environment sensor");
    assert_eq!(sensor["communication_lost"], true);
    assert_eq!(sensor["temperature_high_threshold"], 40);
    // upsmgEnvironmentComFailure = yes(1): the sensor's readings (0.0 °C,
    // contacts) are not real; they are null, not numbers.
    assert_eq!(sensor["input_1"], Json::Null);
    assert_eq!(sensor["temperature"], Json::Null);
    assert_eq!(
        pages["control"]["shutdown_after_delay"],
        Json::Null,
        "-1 = idle"
    );
    assert_eq!(pages["control"]["shutdown_type"], "system");
    assert_eq!(pages["test"]["result"], "done_pass");
    assert_eq!(pages["test"]["start_time"], 9_718_707.15);
}

#[test]
fn eaton_9px_older_card() {
    let sim = Snmpsim::start("eaton-mgeups_9px");
    let pages = probe(&sim, &[]);
    assert_eq!(
        page_names(&pages),
        ["general", "input", "output", "battery"]
    );
    assert_eq!(
        pages["general"]["model"], "Eaton 9PX",
        "MGE family when RFC has no model"
    );
    assert_eq!(pages["battery"]["charge"], 100);
    assert_eq!(pages["battery"]["runtime"], 1464);
    assert_eq!(pages["battery"]["voltage"], 52.0);
    assert_eq!(pages["input"]["lines"][0]["voltage"], 237);
    assert_eq!(pages["input"]["lines"][0]["frequency"], 50.1);
    assert_eq!(pages["output"]["frequency"], 50.2);
    assert_eq!(pages["output"]["lines"][0]["load"], 35);
}

#[test]
fn eaton_network_m2_rfc1628_only() {
    let sim = Snmpsim::start("eatonupsm2_9px+empg2");
    let pages = probe(&sim, &["--stats"]);
    assert_eq!(pages["general"]["firmware_version"], "01.20.5072");
    assert_eq!(pages["battery"]["runtime"], 26_280, "RFC 1628 minutes × 60");
    assert_eq!(pages["battery"]["voltage"], 53.1);
    assert_eq!(pages["config"]["low_transfer_voltage"], 100);
    assert_eq!(pages["config"]["high_transfer_voltage"], 276);
    assert_eq!(pages["config"]["automatic_restart"], "on");
    assert_eq!(pages["test"]["id"], "1.3.6.1.2.1.33.1.7.7.4");
    assert_eq!(pages["test"]["result"], "aborted");
    assert!(pages.get("environment").is_none());
}

#[test]
fn generex_three_phase_rfc1628() {
    let sim = Snmpsim::start("generex-ups_cs141");
    let pages = probe(&sim, &[]);
    assert_eq!(pages["general"]["manufacturer"], "Multimatic");
    let input = pages["input"]["lines"].as_array().unwrap();
    assert_eq!(input.len(), 3);
    let volts: Vec<&Json> = input.iter().map(|l| &l["voltage"]).collect();
    assert_eq!(volts, [233, 233, 235]);
    let output = &pages["output"];
    assert_eq!(output["source"], "bypass");
    assert_eq!(
        output["lines"][1],
        json!({"index": 2, "voltage": 233, "current": 2.1, "power": 469, "load": 14})
    );
    assert_eq!(
        output["lines"][2]["power"],
        Json::Null,
        "upsOutputPower is a NonNegativeInteger: the card's -26 is no reading"
    );
    assert_eq!(pages["battery"]["voltage"], 271.6);
    assert_eq!(pages["battery"]["temperature"], 25);
    assert_eq!(pages["battery"]["runtime"], 544 * 60);
}

#[test]
fn cet_power_padded_tables_and_placeholders() {
    let sim = Snmpsim::start("cetpower");
    let pages = probe(&sim, &[]);
    // 3 input rows, upsInputNumLines = 1; 24 alarm rows of 0.0 padding.
    assert_eq!(pages["input"]["lines"].as_array().unwrap().len(), 1);
    assert_eq!(pages["input"]["line_bads"], 140);
    assert_eq!(pages["alarms"], json!({"present": 0}));
    assert_eq!(pages["output"]["source"], "battery");
    assert_eq!(pages["output"]["lines"][0]["current"], 162.9);
    assert_eq!(pages["battery"]["current"], 69.8);
    // -1 / 0 in enumerations mean "not supported".
    assert_eq!(pages["config"]["automatic_restart"], Json::Null);
    assert_eq!(pages["config"]["beeper"], Json::Null);
    assert_eq!(pages["config"]["nominal_apparent_power"], 15_000);
    assert_eq!(pages["test"]["result"], "no_tests_initiated");
}

#[test]
fn apc_smart_ups_powernet() {
    let sim = Snmpsim::start("apc_smx750i");
    let pages = probe(&sim, &[]);
    assert_eq!(
        page_names(&pages),
        ["general", "input", "output", "battery", "environment"]
    );
    assert_eq!(pages["general"]["manufacturer"], "APC");
    assert_eq!(pages["general"]["model"], "Smart-UPS X 750");
    assert_eq!(pages["general"]["firmware_version"], "UPS 09.9 (ID20)");
    assert_eq!(pages["battery"]["charge"], 100.0, "HighPrec tenths");
    assert_eq!(pages["battery"]["runtime"], 5709.0, "TimeTicks → seconds");
    assert_eq!(pages["battery"]["temperature"], 31);
    assert_eq!(pages["battery"]["replace"], false);
    assert_eq!(pages["input"]["voltage"], 232);
    assert_eq!(pages["output"]["status"], "on_line");
    assert_eq!(pages["output"]["load"], 20.2);
    assert_eq!(pages["output"]["current"], 0.6);
    assert_eq!(
        pages["environment"]["probes"],
        json!([
            {"index": 1, "name": "Port 1 Temp 1", "connected": true, "temperature": 23, "humidity": null},
            {"index": 2, "name": "Unknown", "connected": false, "temperature": null, "humidity": null}
        ])
    );
}

#[test]
fn snmp_v1_reads_the_same_pages_as_v2c() {
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let v2c = probe(&sim, &[]);
    let v1 = probe(&sim, &["--snmp-version", "1"]);
    assert_eq!(v1, v2c);
}

#[test]
fn pages_option_and_table_format() {
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let pages = probe(&sim, &["--pages", "battery,output"]);
    assert_eq!(page_names(&pages), ["output", "battery"]);
    let out = probe_command(
        &sim.addr().to_string(),
        &["--pages", "battery", "--format", "table"],
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("battery.charge") && l.ends_with("91 %")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("battery.voltage") && l.ends_with("55.0 V")),
        "{table}"
    );
}

#[test]
fn a_silent_agent_is_a_clear_error() {
    // A bound socket that never answers: a real timeout, not ICMP.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let agent = silent.local_addr().unwrap().to_string();
    let out = probe_command(&agent, &["--timeout-ms", "200", "--retries", "1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&agent), "{stderr}");
    assert!(stderr.contains("no response after 2 attempt"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_closed_port_is_a_clear_error() {
    let agent = format!("127.0.0.1:{}", support::free_udp_port());
    let out = probe_command(&agent, &["--timeout-ms", "200", "--retries", "1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&agent) && stderr.contains("refused"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("refused").count(), 1, "said once: {stderr}");
}

#[test]
fn a_wrong_community_times_out_naming_the_agent() {
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let out = probe_command(
        &sim.addr().to_string(),
        &[
            "--community",
            "nope",
            "--timeout-ms",
            "300",
            "--retries",
            "0",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&sim.addr().to_string()));
}

/// Every walk in tests/fixtures/walks, by file stem.
fn all_walks() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/walks");
    let mut walks: Vec<String> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".snmprec").map(str::to_string)
        })
        .collect();
    walks.sort();
    walks
}

/// Numbers no reading may be published as: what cards send for "not
/// available", seen raw or after the usual scales (tenths, hundredths,
/// TimeTicks).
const SENTINELS: &[f64] = &[
    -1.0,
    -0.1,
    -0.01,
    65_535.0,
    6_553.5,
    4_294_967_295.0,
    42_949_672.95,
    429_496_729.5,
    2_147_483_647.0,
    -2_147_483_648.0,
    -1_999.0,
    -199.9,
];

/// Every number of a page tree with its path.
fn numbers<'a>(path: String, json: &'a Json, out: &mut Vec<(String, &'a Json)>) {
    match json {
        Json::Number(_) => out.push((path, json)),
        Json::Object(map) => map
            .iter()
            .for_each(|(k, v)| numbers(format!("{path}.{k}"), v, out)),
        Json::Array(rows) => rows
            .iter()
            .enumerate()
            .for_each(|(i, v)| numbers(format!("{path}[{i}]"), v, out)),
        _ => {}
    }
}

/// A walk's variables, `OID` (no leading dot) → (snmprec type tag, value).
fn walk_values(walk: &str) -> BTreeMap<String, (String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/walks")
        .join(format!("{walk}.snmprec"));
    let text = std::fs::read_to_string(&path).expect("walk file");
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '|');
            let oid = parts.next()?.trim_start_matches('.').to_string();
            let tag = parts.next()?.to_string();
            Some((oid, (tag, parts.next()?.to_string())))
        })
        .collect()
}

/// The instance OIDs row `row` of a column source may be served at: the
/// MIB's form, with a trailing `.0` (quirk Q1), and the per-feed phase
/// tables' `.<feed>.1.<row>` form.
fn cell_oids(source: &Source, row: u64) -> Vec<String> {
    let row = row as u32;
    let mut arcs = vec![source.index.arcs(row).to_vec()];
    arcs.push([&source.index.arcs(row)[..], &[0]].concat());
    if let RowIndex::FeedThenRow { feed } = source.index {
        arcs.push(vec![feed, 1, row]);
    }
    arcs.iter()
        .map(|a| {
            let tail: Vec<String> = a.iter().map(u32::to_string).collect();
            format!("{}.{}", source.oid, tail.join("."))
        })
        .collect()
}

/// Whether a published cell is what `source` serves at that row in the
/// walk, decoded as the point table says (scale, labels, flags, text; a
/// number may also be the tenths quirk Q2 undone).
fn source_gives(
    walk: &BTreeMap<String, (String, String)>,
    source: &Source,
    row: u64,
    cell: &Json,
) -> bool {
    cell_oids(source, row).iter().any(|oid| {
        let Some((tag, raw)) = walk.get(oid) else {
            return false;
        };
        let integer = raw.trim().parse::<f64>().ok();
        match (source.decode, cell) {
            (Decode::Number { scale }, Json::Number(n)) => {
                let (Some(raw), Some(value)) = (integer, n.as_f64()) else {
                    return false;
                };
                let close = |x: f64| (x - value).abs() < 1e-6 * value.abs().max(1.0) + 0.005;
                close(raw * scale) || (source.tenths_above.is_some() && close(raw * scale / 10.0))
            }
            (Decode::Enum(_), Json::String(label)) => integer
                .and_then(|raw| source.decode.label(raw as i64))
                .is_some_and(|l| l == label),
            (Decode::Flag { on, off }, Json::Bool(b)) => {
                integer.is_some_and(|raw| raw as i64 == if *b { on } else { off })
            }
            (Decode::Text, Json::String(text)) => tag == "4" && raw.trim() == text.trim(),
            // Hex-encoded strings and other decodings: not compared here.
            _ => true,
        }
    })
}

/// The sources of a column that may have published every non-null cell
/// of it (row by row), by object name.
fn column_sources<'a>(
    walk: &BTreeMap<String, (String, String)>,
    field: &'a mib::Field,
    rows: &[Json],
) -> Vec<&'a str> {
    field
        .sources
        .iter()
        .filter(|source| {
            rows.iter().all(|row| match row.get(field.key) {
                None | Some(Json::Null) => true,
                Some(cell) => source_gives(walk, source, row["index"].as_u64().unwrap(), cell),
            })
        })
        .map(|source| source.object)
        .collect()
}

/// Issue 14: every real walk is checked for no mixed-source column (each
/// table column's cells all come from one of the field's sources, checked
/// against the walk itself), no line beyond the card's line count, no
/// sentinel published as a number, no negative reading where the quantity
/// cannot be negative, and a device with a manufacturer and a model.
#[test]
fn every_real_walk_names_its_device_and_publishes_no_sentinel() {
    let walks = all_walks();
    assert!(walks.len() >= 12, "{walks:?}");
    for walk in walks {
        let sim = Snmpsim::start(&walk);
        let pages = probe(&sim, &[]);
        for key in ["manufacturer", "model"] {
            let value = pages["general"][key].as_str().unwrap_or("");
            assert!(!value.is_empty(), "{walk}: general.{key} is {value:?}");
        }
        // One source per column: some one source serves every cell.
        let values = walk_values(&walk);
        let mut columns_checked = 0;
        for (page, tree) in pages.as_object().unwrap() {
            for (table, rows) in tree.as_object().unwrap() {
                let Some(rows) = rows.as_array() else {
                    continue;
                };
                let keys: std::collections::BTreeSet<&String> = rows
                    .iter()
                    .flat_map(|r| r.as_object().unwrap().keys())
                    .filter(|k| *k != "index")
                    .collect();
                for key in keys {
                    let path = format!("{page}.{table}.{key}");
                    let field = mib::field_by_path(&path)
                        .unwrap_or_else(|| panic!("{walk}: {path} is no column"));
                    let sources = column_sources(&values, field, rows);
                    assert!(
                        !sources.is_empty(),
                        "{walk}: {path} mixes sources row by row: {rows:?}"
                    );
                    columns_checked += 1;
                }
            }
        }
        if walk.contains("galaxy") || walk.contains("9pxle") {
            assert!(columns_checked > 5, "{walk}: {columns_checked} columns");
        }
        // No line beyond the line count the card states.
        for (page, table, count) in [
            ("input", "lines", "num_lines"),
            ("input", "bypass_lines", "bypass_num_lines"),
            ("output", "lines", "num_lines"),
        ] {
            let (Some(rows), Some(stated)) =
                (pages[page][table].as_array(), pages[page][count].as_u64())
            else {
                continue;
            };
            assert!(
                rows.iter().all(|r| r["index"].as_u64().unwrap() <= stated),
                "{walk}: {page}.{table} has a row beyond {count} = {stated}"
            );
        }
        // PowerNet's text sentinels ('UNKNOWN', 'NOT SUPPORTED') are no
        // reading either.
        let text = pages.to_string();
        for sentinel in ["\"UNKNOWN\"", "\"NOT SUPPORTED\""] {
            assert!(!text.contains(sentinel), "{walk}: {sentinel} published");
        }
        let mut found = Vec::new();
        numbers(String::new(), &pages, &mut found);
        for (path, value) in found {
            let x = value.as_f64().unwrap();
            assert!(
                !SENTINELS.contains(&x),
                "{walk}: {path} = {x} is a sentinel published as a number"
            );
            // Signed by nature: temperatures and battery currents/power.
            let signed = path.contains("temperature")
                || path.starts_with(".battery.current")
                || path.starts_with(".battery.power");
            assert!(
                signed || x >= 0.0,
                "{walk}: {path} = {x} cannot be negative"
            );
        }
    }
}

/// APC Galaxy VS 40 kW (centreon-plugins test data): PowerNet only, three
/// phases in upsPhase tables indexed input feed (1 main, 2 bypass) then
/// phase, as the MIB's INDEX says.
#[test]
fn apc_galaxy_vs_three_phase_powernet() {
    let sim = Snmpsim::start("apc_galaxy-vs-40kw");
    let pages = probe(&sim, &[]);
    let general = &pages["general"];
    // sysObjectID 1.3.6.1.4.1.318.1.3.28.75: enterprise 318 is APC.
    assert_eq!(general["manufacturer"], "APC");
    assert_eq!(general["model"], "Galaxy VS 40kW"); // upsBasicIdentModel
    assert_eq!(general["family"], "Galaxy VS"); // upsBasicIdentFamilyName
    assert_eq!(general["phase_configuration"], "three_phase_in_out"); // upsAdvIdentUpsPhaseConfigType = 2
    let input = &pages["input"];
    assert_eq!(input["num_lines"], 3); // upsPhaseNumInputPhases.1 = 3
    assert_eq!(input["bypass_num_lines"], 3); // upsPhaseNumInputPhases.2 = 3
    assert_eq!(input["num_feeds"], 2); // upsPhaseNumInputs = 2
    // upsPhaseInputFrequency.1 = -1 ("-1 if unsupported"): the card's whole
    // Hz upsAdvInputFrequency = 50 answers instead.
    assert_eq!(input["frequency"], 50);
    assert_eq!(input["bypass_frequency"], Json::Null); // upsPhaseInputFrequency.2 = -1
    let line1 = &input["lines"][0];
    assert_eq!(line1["voltage"], 389); // upsPhaseInputVoltage.1.1 = 389 VAC
    assert_eq!(line1["voltage_phase_to_neutral"], 223); // upsPhaseInputVoltagePN.1.1 = 223 VAC
    assert_eq!(line1["current"], 10.2); // upsPhaseInputCurrent.1.1 = 102 (0.1 A)
    assert_eq!(line1["power"], 2318); // upsPhaseInputPower.1.1 = 2318 W
    assert_eq!(line1["apparent_power"], 2000); // upsPhaseInputApparentPower.1.1 = 2 kVA
    assert_eq!(line1["power_factor"], 1.0); // upsPhaseInputPowerFactor.1.1 = 100 (hundredths)
    assert_eq!(line1["voltage_max"], Json::Null); // upsPhaseInputMaxVoltage.1.1 = -1
    assert_eq!(input["lines"].as_array().unwrap().len(), 3);
    assert_eq!(input["lines"][2]["power_factor"], 0.99); // upsPhaseInputPowerFactor.1.3 = 99
    assert_eq!(input["bypass_lines"][1]["voltage"], 389); // upsPhaseInputVoltage.2.2 = 389 VAC
    assert_eq!(input["power"], 7000); // upsAdvInputTotalActivePower = 7 kW
    let output = &pages["output"];
    assert_eq!(output["num_lines"], 3); // upsPhaseNumOutputPhases.1 = 3
    assert_eq!(output["frequency"], 50.0); // upsPhaseOutputFrequency.1 = 500 (0.1 Hz)
    assert_eq!(output["power"], 6632); // upsAdvOutputActivePower = 6632 W
    assert_eq!(output["apparent_power"], 7768); // upsAdvOutputApparentPower = 7768 VA
    let out3 = &output["lines"][2];
    assert_eq!(out3["voltage"], 399); // upsPhaseOutputVoltage.1.3 = 399 VAC
    assert_eq!(out3["voltage_phase_to_neutral"], 230); // upsPhaseOutputVoltagePN.1.3 = 230 VAC
    assert_eq!(out3["current"], 9.2); // upsPhaseOutputCurrent.1.3 = 92 (0.1 A)
    assert_eq!(out3["apparent_power"], 2137); // upsPhaseOutputLoad.1.3 = 2137 VA
    assert_eq!(out3["power"], 1773); // upsPhaseOutputPower.1.3 = 1773 W
    assert_eq!(out3["power_factor"], 0.82); // upsPhaseOutputPowerFactor.1.3 = 82 (hundredths)
    assert_eq!(out3["load"], Json::Null); // upsPhaseOutputPercentLoad.1.3 = -1
    assert_eq!(out3["energy"], Json::Null); // upsPhaseOutputEnergyUsage.1.3 = 4294967295
    assert_eq!(out3["inverter_voltage"], Json::Null); // upsPhaseOutputInverterVoltage.1.3 = -1
    let battery = &pages["battery"];
    assert_eq!(battery["runtime"], 6108.0); // upsAdvBatteryRunTimeRemaining = 610800 ticks
    assert_eq!(battery["voltage"], 542); // upsAdvBatteryActualVoltage = 542 V
    assert_eq!(battery["nominal_voltage"], 480); // upsAdvBatteryNominalVoltage = 480 V
    assert_eq!(battery["charger_status"], "float_charging"); // upsAdvBatteryChargerStatus = 4
    assert_eq!(battery["total_capacity"], 36); // upsAdvBatteryTotalCapacity = 36 Ah
    let cabinet = &battery["cabinets"][0];
    assert_eq!(cabinet["voltage"], Json::Null); // upsBatteryCabinetVoltagePolarity1.1 = -1
    assert_eq!(cabinet["temperature"], 28.0); // upsBatteryCabinetTemperature.1 = 280 (0.1 °C)
    assert_eq!(cabinet["strings"], 4); // upsBatteryCabinetNumberOfStrings.1 = 4
    assert_eq!(battery["strings"][3]["current"], Json::Null); // upsBatteryCabStringCurrent.4 = -1
    let config = &pages["config"];
    assert_eq!(config["output_nominal_voltage"], 400); // upsAdvConfigRatedOutputVoltage = 400 VAC
    assert_eq!(config["low_battery_runtime"], 240.0); // upsAdvConfigLowBatteryRunTime = 24000 ticks
    assert_eq!(config["ac_wiring"], "four_wire"); // upsAdvConfigACWiringSetting = 2
    assert_eq!(config["output_frequency_range"], "50_var10"); // upsAdvConfigOutputFreqRange = 8
    assert_eq!(config["out_of_sync_bypass_transfer_delay"], 0.01); // 10 ms
    assert_eq!(config["nominal_apparent_power"], 40_000); // upsAdvOutputKVACapacity = 40 kVA
    // upsDiagnosticTemperatureAmbientTemperature = 210 (0.1 °C)
    assert_eq!(pages["environment"]["ambient_temperature"], 21.0);
    assert_eq!(pages["test"]["schedule"], "four_weeks"); // upsAdvTestDiagnosticSchedule = 6
    // upsAdvTestLastDiagnosticsDate = "" (no test yet): no reading. The
    // writable upsBasicIdentName = "" is the name as set: kept.
    assert_eq!(pages["test"]["last_date"], Json::Null);
    assert_eq!(general["name"], "");
}

/// APC Smart-UPS X 750 on an NMC2 (LibreNMS): PowerNet only, no RFC 1628
/// ident: the manufacturer comes from sysObjectID.
#[test]
fn apc_smart_ups_powernet_only() {
    let sim = Snmpsim::start("apc_smt750x-nmc2");
    let pages = probe(&sim, &[]);
    // sysObjectID 1.3.6.1.4.1.318.1.3.27: enterprise 318 is APC.
    assert_eq!(pages["general"]["manufacturer"], "APC");
    assert_eq!(pages["general"]["model"], "Smart-UPS X 750"); // upsBasicIdentModel
    assert_eq!(pages["general"]["serial_number"], "AS1907242163"); // upsAdvIdentSerialNumber
    assert_eq!(pages["input"]["voltage"], 119.1); // upsHighPrecInputLineVoltage = 1191 (0.1 VAC)
    assert_eq!(pages["input"]["frequency"], 60.0); // upsHighPrecInputFrequency = 600 (0.1 Hz)
    assert_eq!(pages["battery"]["temperature"], 23.4); // upsHighPrecBatteryTemperature = 234 (0.1 °C)
    assert_eq!(pages["battery"]["runtime"], 109_762.0); // upsAdvBatteryRunTimeRemaining ticks / 100
    assert!(pages["input"].get("lines").is_none(), "no phase table");
}

/// MGE Galaxy 7000 (LibreNMS): MGE MIB with three RFC 1628 objects, no
/// RFC ident: manufacturer from sysObjectID 1.3.6.1.4.1.705.1.2.
#[test]
fn mge_galaxy_7000() {
    let sim = Snmpsim::start("apc-mgeups_galaxy7000");
    let pages = probe(&sim, &[]);
    assert_eq!(pages["general"]["manufacturer"], "MGE UPS Systems");
    assert_eq!(pages["general"]["model"], "Galaxy 7000"); // upsmgIdentFamilyName
    assert_eq!(pages["general"]["serial_number"], "2Q1L200001"); // upsmgIdentSerialNumber
    assert_eq!(pages["battery"]["voltage"], 594.0); // upsmgBatteryVoltage = 5940 (0.1 V)
    assert_eq!(pages["battery"]["runtime"], 7260); // upsmgBatteryRemainingTime = 7260 s
    // mginputCurrent.n.0 = 370/370/380 (0.1 A, quirk Q1 trailing .0)
    let currents: Vec<&Json> = pages["input"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["current"])
        .collect();
    assert_eq!(currents, [37.0, 37.0, 38.0]);
    // Two voltages, two fields. Line 1 phase-to-neutral from RFC 1628
    // (upsInputVoltage.1 = 2363, tenths: quirk Q2); lines 1-3 phase to
    // phase from MGE mginputVoltage.n.0 = 4090/4100/4100 (0.1 V).
    let input = pages["input"]["lines"].as_array().unwrap();
    assert_eq!(input[0]["voltage"], 236.3);
    assert!(input[1].get("voltage").is_none(), "{input:?}");
    let between: Vec<&Json> = input.iter().map(|l| &l["voltage_phase_to_phase"]).collect();
    assert_eq!(between, [409.0, 410.0, 410.0]);
    // upsOutputVoltage.1 = 2303 (tenths, Q2); mgoutputVoltage.n.0 = 4000.
    let output = pages["output"]["lines"].as_array().unwrap();
    assert_eq!(output[0]["voltage"], 230.3);
    let between: Vec<&Json> = output
        .iter()
        .map(|l| &l["voltage_phase_to_phase"])
        .collect();
    assert_eq!(between, [400.0, 400.0, 400.0]);
    // The whole-UPS voltage is phase-to-neutral (RFC 1628's line 1).
    assert_eq!(pages["input"]["voltage"], 236.3);
    // The load of every line from the one source that serves all three:
    // mgoutputLoadPerPhase.n.0 = 9/7/11 % (RFC 1628 has line 1 only); the
    // whole-UPS load is the highest line.
    let loads: Vec<&Json> = output.iter().map(|l| &l["load"]).collect();
    assert_eq!(loads, [9, 7, 11]);
    assert_eq!(pages["output"]["load"], 11);
}

/// Eaton 5PX 3000 (LibreNMS): single phase; its MGE tables carry
/// placeholder cells without a row index (`column.0`), which are no line.
#[test]
fn eaton_5px_cells_without_row_index_are_no_line() {
    let sim = Snmpsim::start("eaton-mgeups_5px");
    let pages = probe(&sim, &[]);
    assert_eq!(pages["general"]["manufacturer"], "EATON"); // upsIdentManufacturer
    assert_eq!(pages["general"]["model"], "Eaton 5PX"); // upsmgIdentFamilyName
    let line1 = &pages["input"]["lines"][0];
    assert_eq!(line1["voltage"], 229); // upsInputVoltage.1 = 229 V
    // Single phase: no phase-to-phase voltage, although the MGE output
    // table repeats 229.0 V on rows 2 and 3.
    assert!(line1.get("voltage_phase_to_phase").is_none(), "{line1}");
    let out1 = &pages["output"]["lines"][0];
    assert!(out1.get("voltage_phase_to_phase").is_none(), "{out1}");
    // mginputMinimumVoltage.0 / mginputMaximumVoltage.0 have no row index.
    assert!(line1.get("voltage_min").is_none(), "{line1}");
    assert!(line1.get("voltage_max").is_none(), "{line1}");
    assert_eq!(pages["output"]["lines"][0]["current"], 7.8); // upsOutputCurrent.1 = 78 (0.1 A)
    // upsInputCurrent.1 = 0, upsInputTruePower.1 = 0 on a 229 V line while
    // upsOutputPower.1 = 1593 W: the card does not measure them.
    assert_eq!(line1["current"], Json::Null);
    assert_eq!(line1["power"], Json::Null);
    assert_eq!(pages["output"]["power"], 1593);
    assert_eq!(pages["battery"]["temperature"], Json::Null); // upsBatteryTemperature = 0: no sensor
    // A 3 kVA single-phase UPS: no line count anywhere, and its MGE output
    // table repeats the frequency on rows 2 and 3. One line each way.
    assert_eq!(
        pages["input"]["lines"].as_array().unwrap().len(),
        1,
        "{pages}"
    );
    assert_eq!(
        pages["output"]["lines"].as_array().unwrap().len(),
        1,
        "{pages}"
    );
}

/// Delta UPS on a Mini-SNMP card (LibreNMS): RFC 1628 only, in tenths, and
/// no ident at all: named from sysObjectID (2254) and sysDescr.
#[test]
fn delta_mini_snmp_named_from_the_system_group() {
    let sim = Snmpsim::start("deltaups_rfc1628string");
    let pages = probe(&sim, &[]);
    assert_eq!(pages["general"]["manufacturer"], "Delta Electronics");
    assert_eq!(pages["general"]["model"], "Mini-SNMP"); // sysDescr
    assert_eq!(pages["output"]["lines"][0]["power"], 122); // upsOutputPower.1 = 122 W
    assert_eq!(pages["battery"]["voltage"], 55.4); // upsBatteryVoltage = 554 (0.1 V)
}

/// Riello NetMan 204 (LibreNMS): RFC 1628 with the manufacturer and the
/// card's sysDescr as model (upsIdentModel is empty).
#[test]
fn riello_netman_204() {
    let sim = Snmpsim::start("netmanplus_204");
    let pages = probe(&sim, &[]);
    assert_eq!(pages["general"]["manufacturer"], "RPS SpA"); // upsIdentManufacturer
    assert_eq!(pages["general"]["model"], "Netman 204"); // sysDescr
    assert_eq!(pages["input"]["lines"][0]["voltage"], 242); // upsInputVoltage.1 = 242 V
    assert_eq!(pages["input"]["lines"][0]["current"], Json::Null); // upsInputCurrent.1 = -1
    assert_eq!(pages["battery"]["current"], Json::Null); // upsBatteryCurrent = -1
    assert_eq!(pages["battery"]["voltage"], 122.5); // upsBatteryVoltage = 1225 (0.1 V)
}

#[test]
#[ignore = "prints every walk's pages"]
fn dump_all_walks() {
    for walk in all_walks() {
        let sim = Snmpsim::start(&walk);
        let pages = probe(&sim, &[]);
        println!("=== {walk}\n{}", serde_json::to_string(&pages).unwrap());
    }
}

/// The one-source check can fail: the Galaxy 7000's input voltages as
/// published row by row before issue 14 (line 1 from RFC 1628, lines 2-3
/// from MGE) match no single source of the walk.
#[test]
fn the_one_source_check_sees_a_mixed_column() {
    let values = walk_values("apc-mgeups_galaxy7000");
    let field = mib::field_by_path("input.lines.voltage").unwrap();
    let mixed = [
        json!({"index": 1, "voltage": 236.3}),
        json!({"index": 2, "voltage": 410.0}),
        json!({"index": 3, "voltage": 410.0}),
    ];
    assert_eq!(column_sources(&values, field, &mixed), Vec::<&str>::new());
    assert_eq!(
        column_sources(&values, field, &mixed[..1]),
        ["upsInputVoltage"]
    );
}
