//! How many SNMP requests a full read of all pages takes, counted by the
//! agent (snmpsim's own log) for every shared walk. Prints the README table
//! with `cargo test --test requests -- --nocapture`.
//!
//! Reference: NUT's snmp-ups driver (2.8.0, mibs=mge) sends one OID per
//! request, 76 requests to start and read an Eaton 5PX card once. The aim is
//! 10x fewer.

mod support;

use std::process::Command;
use support::Snmpsim;

const NUT_REQUESTS_5PX: usize = 76;

struct Count {
    walk: &'static str,
    agent: usize,
    client: usize,
    kinds: Vec<String>,
    mibs: String,
}

fn full_read(walk: &'static str, version: &str) -> Count {
    let sim = Snmpsim::start(walk);
    sim.reset_requests();
    let out = Command::new(env!("CARGO_BIN_EXE_ups2mqtt"))
        .args([
            "probe",
            "--agent",
            &sim.addr().to_string(),
            "--stats",
            "--snmp-version",
            version,
        ])
        .output()
        .expect("run probe");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stats = stderr
        .lines()
        .find(|l| l.starts_with("mibs: "))
        .expect("--stats line");
    let client: usize = stats
        .split("requests: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("request count in --stats");
    let mibs = stats
        .trim_start_matches("mibs: ")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    Count {
        walk,
        agent: sim.request_count(),
        client,
        kinds: sim.requests(),
        mibs,
    }
}

const WALKS: [&str; 6] = [
    "eaton-mgeups_9pxle",
    "eaton-mgeups_9px",
    "eatonupsm2_9px+empg2",
    "generex-ups_cs141",
    "cetpower",
    "apc_smx750i",
];

#[test]
fn a_full_read_takes_a_handful_of_requests_counted_by_the_agent() {
    println!("| walk | MIBs served | requests, v2c (agent count) | PDUs |");
    println!("|---|---|---|---|");
    for walk in WALKS {
        let count = full_read(walk, "2c");
        println!(
            "| {} | {} | {} | {} |",
            count.walk,
            count.mibs,
            count.agent,
            count.kinds.join(" ")
        );
        assert_eq!(
            count.agent, count.client,
            "{walk}: the agent saw what the client sent"
        );
        assert_eq!(
            count.kinds.first().map(String::as_str),
            Some("GETNEXT"),
            "{walk}: capability probe first"
        );
        assert!(
            count.kinds[1..].iter().all(|k| k == "GETBULK"),
            "{walk}: then bulk walks only: {:?}",
            count.kinds
        );
        assert!(
            count.agent * 10 <= NUT_REQUESTS_5PX,
            "{walk}: {} requests is not 10x fewer than NUT's {NUT_REQUESTS_5PX}",
            count.agent
        );
    }
}

#[test]
fn snmp_v1_walks_with_multi_varbind_getnext() {
    let count = full_read("eaton-mgeups_9pxle", "1");
    println!("v1 eaton-mgeups_9pxle: {} requests", count.agent);
    assert_eq!(count.agent, count.client);
    assert!(
        count.kinds.iter().all(|k| k == "GETNEXT"),
        "{:?}",
        count.kinds
    );
    // One GETNEXT per row of the deepest subtree, never one per object.
    assert!(count.agent < 40, "{} requests", count.agent);
}
