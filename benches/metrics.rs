//! `cargo bench --bench metrics`: how long one Prometheus scrape takes to
//! render for 1, 100 and 500 UPSes (streamed in pieces, as the endpoint
//! does, minus the socket), and how big it is. Each UPS is the
//! simulated 3-phase card (`ups2mqtt-sim --phases 3`, all three MIBs), read
//! once over SNMP on loopback by the library's reader; a second table is
//! the worst case, a UPS with every field of the point table. A plain
//! program that prints a table (no bench framework).

#[path = "../tests/support/every_field.rs"]
mod every_field;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use ups2mqtt::hub::{HubBuilder, UpsState};
use ups2mqtt::messages::Health;
use ups2mqtt::metrics::{Counters, render, render_to};
use ups2mqtt::mib::{Mib, Page};
use ups2mqtt::model::Model;
use ups2mqtt::pages::{ScaleOverrides, Snapshot};

/// The snapshot of the simulated 3-phase card and the MIBs it serves.
fn sim_snapshot() -> (Snapshot, BTreeSet<Mib>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ups2mqtt-sim"))
        .args(["--listen", "127.0.0.1:0", "--phases", "3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ups2mqtt-sim");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let port: u16 = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.strip_prefix("listening udp ")?;
            rest.split_whitespace()
                .next()?
                .rsplit(':')
                .next()?
                .parse()
                .ok()
        })
        .expect("ups2mqtt-sim announces its port");
    let mut config = ups2mqtt::config::UpsConfig::new("bench", "127.0.0.1", port);
    config.timeout_ms = 2000;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let read = runtime.block_on(async {
        let mut ups = ups2mqtt::ups::Ups::connect(&config).await.expect("connect");
        let data = ups.snapshot(&Page::ALL).await.expect("read every page");
        (data, ups.capabilities().mibs.clone())
    });
    let _ = child.kill();
    let _ = child.wait();
    read
}

/// A UPS with every field: the first source of each answers (rows 1, 2).
fn every_field_snapshot() -> (Snapshot, BTreeSet<Mib>) {
    (every_field::every_field_snapshot(), Mib::ALL.into())
}

/// Time this thread has spent on a CPU (the machine may be shared: wall
/// time then says more about the neighbours than about the render).
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn table(title: &str, (data, mibs): &(Snapshot, BTreeSet<Mib>)) {
    println!("\n{title}");
    println!(
        "{:>6} {:>10} {:>10} {:>12} {:>10} {:>10}",
        "upses", "median ms", "max ms", "median cpu ms", "samples", "KiB"
    );
    let model = Model::from_snapshot(mibs.clone(), data, &ScaleOverrides::new());
    for n in [1usize, 100, 500] {
        let mut hub = HubBuilder::default();
        let mut publishers = Vec::new();
        for i in 0..n {
            let (tx, _rx) = mpsc::channel(1);
            publishers.push(hub.add(&format!("ups{i:03}"), tx));
        }
        let hub = hub.build();
        let mut rtt = ups2mqtt::snmp::rtt::RttHistogram::default();
        for ms in [0.8, 1.2, 3.0, 40.0] {
            rtt.record(Duration::from_secs_f64(ms / 1000.0));
        }
        for publisher in &publishers {
            publisher.publish(UpsState {
                online: true,
                model: model.clone(),
                health: Health {
                    online: true,
                    polls: 1234,
                    requests: Some(5678),
                    rtt_ms: Some(1.2),
                    ..Health::default()
                },
                rtt: Some(rtt),
            });
        }
        let counters = Counters::default();
        let (mut times, mut cpu): (Vec<Duration>, Vec<Duration>) = (0..21)
            .map(|_| {
                let (started, cpu) = (Instant::now(), cpu_time());
                // As the endpoint does: piece by piece (into a socket there).
                let mut bytes = 0;
                render_to(&hub, &counters, &mut |chunk| {
                    bytes += std::hint::black_box(chunk).len();
                });
                std::hint::black_box(bytes);
                (started.elapsed(), cpu_time() - cpu)
            })
            .unzip();
        times.sort();
        cpu.sort();
        let text = render(&hub, &counters);
        let samples = text.lines().filter(|l| !l.starts_with('#')).count();
        println!(
            "{n:>6} {:>10.2} {:>10.2} {:>12.2} {samples:>10} {:>10}",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
            cpu[cpu.len() / 2].as_secs_f64() * 1e3,
            text.len() / 1024
        );
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` builds and runs benches without --bench:
        // performance is measured under `cargo bench`, never in tests.
        println!("metrics benchmark: skipped outside `cargo bench --bench metrics`");
        return;
    }
    println!(
        "One /metrics scrape rendered (median and max of 21 wall, median CPU), release build under cargo bench."
    );
    table("simulated 3-phase card (all three MIBs)", &sim_snapshot());
    table(
        "worst case: every field of the point table",
        &every_field_snapshot(),
    );
}
