//! The agent's SNMP semantics, in process: requests are encoded and
//! responses decoded with the library's `Message`.

use super::*;
use crate::card::CardOptions;
use crate::layout::Layout;
use std::collections::BTreeSet;
use ups2mqtt::mib::Mib;

fn oid(text: &str) -> Oid {
    Oid::parse(text).unwrap()
}

fn agent_with(mibs: &[Mib], max_pdu: usize, sinks: Vec<Sink>) -> Agent {
    let card = Card::build(CardOptions {
        mibs: mibs.iter().copied().collect::<BTreeSet<_>>(),
        layout: Layout::default(),
        quirks: false,
        walk: None,
        seed: 1,
        test_duration: Duration::from_secs(3),
        start_unix: 1_700_000_000,
    });
    let config = AgentConfig {
        community: b"public".to_vec(),
        write_community: b"private".to_vec(),
        trap_community: b"public".to_vec(),
        max_pdu,
        sinks,
    };
    Agent::new(0, Arc::new(card), Arc::new(config), Instant::now())
}

fn agent() -> Agent {
    agent_with(&Mib::ALL, 1472, Vec::new())
}

fn request(
    agent: &mut Agent,
    version: Version,
    community: &str,
    pdu: CommonPdu,
) -> Option<CommonPdu> {
    let bytes = Message::new(version, community.as_bytes().to_vec(), pdu).encode();
    let response = agent.handle(&bytes)?;
    let message = Message::decode(&response).expect("the response decodes");
    assert_eq!(message.version, version);
    message.common().cloned()
}

fn ask(agent: &mut Agent, version: Version, kind: PduKind, oids: &[&str]) -> CommonPdu {
    let varbinds = oids.iter().map(|o| (oid(o), Value::Null)).collect();
    request(agent, version, "public", CommonPdu::new(kind, 42, varbinds)).expect("an answer")
}

fn set(
    agent: &mut Agent,
    version: Version,
    community: &str,
    varbinds: Vec<(&str, Value)>,
) -> CommonPdu {
    let varbinds = varbinds.into_iter().map(|(o, v)| (oid(o), v)).collect();
    request(
        agent,
        version,
        community,
        CommonPdu::new(PduKind::Set, 7, varbinds),
    )
    .expect("an answer")
}

const OUTPUT_SOURCE: &str = "1.3.6.1.2.1.33.1.4.1.0";
const LOW_BATTERY_LEVEL: &str = "1.3.6.1.4.1.705.1.4.8.0";

#[test]
fn get_answers_values_and_per_version_errors() {
    let mut agent = agent();
    let ok = ask(
        &mut agent,
        Version::V2c,
        PduKind::Get,
        &[
            OUTPUT_SOURCE,
            "1.3.6.1.2.1.33.1.2.4.5",
            "1.3.6.1.2.1.33.1.99.0",
        ],
    );
    assert_eq!(ok.kind, PduKind::Response);
    assert_eq!(ok.request_id, 42);
    assert_eq!(ok.varbinds[0].1, Value::Integer(3));
    assert_eq!(ok.varbinds[1].1, Value::NoSuchInstance);
    assert_eq!(ok.varbinds[2].1, Value::NoSuchObject);

    let v1 = ask(
        &mut agent,
        Version::V1,
        PduKind::Get,
        &[OUTPUT_SOURCE, "1.3.6.1.2.1.33.1.99.0"],
    );
    assert_eq!(
        (v1.error_status, v1.error_index),
        (ErrorStatus::NoSuchName, 2)
    );
    assert_eq!(
        v1.varbinds[1],
        (oid("1.3.6.1.2.1.33.1.99.0"), Value::Null),
        "echoes the request"
    );
}

#[test]
fn get_next_walks_in_order_and_ends_per_version() {
    let mut agent = agent();
    let next = ask(
        &mut agent,
        Version::V2c,
        PduKind::GetNext,
        &["1.3.6.1.2.1.33.1.4.1", "2.1"],
    );
    assert_eq!(next.varbinds[0], (oid(OUTPUT_SOURCE), Value::Integer(3)));
    assert_eq!(next.varbinds[1], (oid("2.1"), Value::EndOfMibView));
    let v1 = ask(&mut agent, Version::V1, PduKind::GetNext, &["2.1"]);
    assert_eq!(
        (v1.error_status, v1.error_index),
        (ErrorStatus::NoSuchName, 1)
    );
}

#[test]
fn get_bulk_honours_counts_and_the_size_limit() {
    let mut agent = agent();
    let pdu = CommonPdu::get_bulk(
        1,
        1,
        5,
        vec![
            (oid("1.3.6.1.2.1.1.1"), Value::Null),
            (oid("1.3.6.1.2.1.33.1.2"), Value::Null),
        ],
    );
    let bulk = request(&mut agent, Version::V2c, "public", pdu).unwrap();
    assert_eq!(bulk.varbinds.len(), 6, "1 non-repeater + 5 repetitions");
    assert_eq!(bulk.varbinds[0].0, oid("1.3.6.1.2.1.1.1.0"));
    assert_eq!(bulk.varbinds[1].0, oid("1.3.6.1.2.1.33.1.2.1.0"));
    assert_eq!(bulk.varbinds[2].0, oid("1.3.6.1.2.1.33.1.2.2.0"));

    let pdu = CommonPdu::get_bulk(2, 0, 10_000, vec![(oid("1.3"), Value::Null)]);
    let bytes = Message::new(Version::V2c, b"public".to_vec(), pdu).encode();
    let response = agent.handle(&bytes).unwrap();
    assert!(response.len() <= 1472, "{} bytes", response.len());
    let big = Message::decode(&response).unwrap();
    assert!(big.varbinds().len() > 20);

    let pdu = CommonPdu::get_bulk(3, 0, 3, vec![(oid("2.1"), Value::Null)]);
    let end = request(&mut agent, Version::V2c, "public", pdu).unwrap();
    assert_eq!(
        end.varbinds,
        vec![(oid("2.1"), Value::EndOfMibView)],
        "stops once every repeater ended"
    );
}

#[test]
fn a_small_max_pdu_truncates_bulk_and_refuses_big_gets() {
    let mut agent = agent_with(&Mib::ALL, 200, Vec::new());
    let pdu = CommonPdu::get_bulk(1, 0, 50, vec![(oid("1.3.6.1.2.1.33"), Value::Null)]);
    let bytes = Message::new(Version::V2c, b"public".to_vec(), pdu).encode();
    assert!(agent.handle(&bytes).unwrap().len() <= 200);
    let oids: Vec<String> = (1..=6)
        .map(|i| format!("1.3.6.1.2.1.33.1.1.{i}.0"))
        .collect();
    let refs: Vec<&str> = oids.iter().map(String::as_str).collect();
    let get = ask(&mut agent, Version::V2c, PduKind::Get, &refs);
    assert_eq!(get.error_status, ErrorStatus::TooBig);
    assert!(get.varbinds.is_empty());
}

/// Version, community, varbinds, expected status and index.
type SetCase = (
    Version,
    &'static str,
    Vec<(&'static str, Value)>,
    ErrorStatus,
    u32,
);

#[test]
fn set_statuses_for_each_refusal() {
    let mut agent = agent();
    let level = |n| (LOW_BATTERY_LEVEL, Value::Integer(n));
    let cases: Vec<SetCase> = vec![
        (
            Version::V2c,
            "public",
            vec![level(30)],
            ErrorStatus::NoAccess,
            1,
        ),
        (
            Version::V1,
            "public",
            vec![level(30)],
            ErrorStatus::NoSuchName,
            1,
        ),
        (
            Version::V2c,
            "private",
            vec![level(30), (OUTPUT_SOURCE, Value::Integer(5))],
            ErrorStatus::NotWritable,
            2,
        ),
        (
            Version::V1,
            "private",
            vec![(OUTPUT_SOURCE, Value::Integer(5))],
            ErrorStatus::NoSuchName,
            1,
        ),
        (
            Version::V2c,
            "private",
            vec![(LOW_BATTERY_LEVEL, Value::OctetString(b"x".to_vec()))],
            ErrorStatus::WrongType,
            1,
        ),
        (
            Version::V1,
            "private",
            vec![(LOW_BATTERY_LEVEL, Value::Gauge32(3))],
            ErrorStatus::BadValue,
            1,
        ),
        (
            Version::V2c,
            "private",
            vec![level(101)],
            ErrorStatus::WrongValue,
            1,
        ),
        (
            Version::V1,
            "private",
            vec![level(101)],
            ErrorStatus::BadValue,
            1,
        ),
        (
            Version::V2c,
            "private",
            vec![(
                "1.3.6.1.4.1.318.1.1.1.1.1.2.0",
                Value::OctetString(b"123456789".to_vec()),
            )],
            ErrorStatus::WrongLength,
            1,
        ),
        (
            Version::V2c,
            "private",
            vec![("1.3.6.1.4.1.705.1.9.1.1.6.99", Value::Integer(2))],
            ErrorStatus::NoCreation,
            1,
        ),
        (
            Version::V2c,
            "private",
            vec![("1.3.6.1.4.1.99.1.0", Value::Integer(2))],
            ErrorStatus::NotWritable,
            1,
        ),
        (
            Version::V2c,
            "private",
            vec![("1.3.6.1.2.1.33.1.7.2.0", Value::Integer(99))],
            ErrorStatus::InconsistentValue,
            1,
        ),
    ];
    for (version, community, varbinds, status, index) in cases {
        let what = format!("{version} {community} {varbinds:?}");
        let sent: Vec<VarBind> = varbinds.iter().map(|(o, v)| (oid(o), v.clone())).collect();
        let response = set(&mut agent, version, community, varbinds);
        assert_eq!(
            (response.error_status, response.error_index),
            (status, index),
            "{what}"
        );
        assert_eq!(response.varbinds, sent, "echoes the request: {what}");
    }
    assert_eq!(
        agent.state.stored_raw("upsmgConfigLowBatteryLevel", 0),
        None,
        "nothing was applied"
    );
    assert_eq!(agent.stats.sets_refused, 12);
}

#[test]
fn set_applies_reads_back_and_drives_the_state() {
    let mut agent = agent();
    let ok = set(
        &mut agent,
        Version::V2c,
        "private",
        vec![(LOW_BATTERY_LEVEL, Value::Integer(35))],
    );
    assert_eq!(ok.error_status, ErrorStatus::NoError);
    assert_eq!(
        ask(&mut agent, Version::V2c, PduKind::Get, &[LOW_BATTERY_LEVEL]).varbinds[0].1,
        Value::Integer(35)
    );

    let off = set(
        &mut agent,
        Version::V1,
        "private",
        vec![("1.3.6.1.4.1.705.1.9.1.1.6.2", Value::Integer(2))],
    );
    assert_eq!(off.error_status, ErrorStatus::NoError);
    let state = ask(
        &mut agent,
        Version::V2c,
        PduKind::Get,
        &["1.3.6.1.4.1.705.1.3.2.1.5.2"],
    );
    assert_eq!(
        state.varbinds[0].1,
        Value::Integer(6),
        "mgreceptacleState control_off"
    );

    // Q8: upsTestId with the spin lock in the same PDU.
    let lock = ask(
        &mut agent,
        Version::V2c,
        PduKind::Get,
        &["1.3.6.1.2.1.33.1.7.2.0"],
    )
    .varbinds[0]
        .1
        .clone();
    let test = Value::oid(oid("1.3.6.1.2.1.33.1.7.7.4"));
    let started = set(
        &mut agent,
        Version::V2c,
        "private",
        vec![
            ("1.3.6.1.2.1.33.1.7.2.0", lock),
            ("1.3.6.1.2.1.33.1.7.1.0", test),
        ],
    );
    assert_eq!(started.error_status, ErrorStatus::NoError);
    let summary = ask(
        &mut agent,
        Version::V2c,
        PduKind::Get,
        &["1.3.6.1.2.1.33.1.7.3.0"],
    )
    .varbinds[0]
        .1
        .clone();
    assert_eq!(summary, Value::Integer(5), "in progress");
}

#[test]
fn bad_communities_garbage_and_stopped_agents_get_no_answer() {
    let mut agent = agent();
    let pdu = CommonPdu::new(PduKind::Get, 1, vec![(oid(OUTPUT_SOURCE), Value::Null)]);
    assert!(request(&mut agent, Version::V2c, "wrong", pdu.clone()).is_none());
    assert_eq!(agent.stats.bad_community, 1);
    assert!(agent.handle(&[0x30, 0x03, 0x02, 0x01]).is_none());
    assert_eq!(agent.stats.malformed, 1);
    let response = CommonPdu::new(PduKind::Response, 1, vec![]);
    assert!(request(&mut agent, Version::V2c, "public", response).is_none());
    assert_eq!(agent.stats.unexpected_pdu, 1);
    agent.serving = false;
    assert!(request(&mut agent, Version::V2c, "public", pdu.clone()).is_none());
    agent.serving = true;
    assert!(request(&mut agent, Version::V2c, "public", pdu).is_some());
}

/// xorshift64: deterministic noise.
fn noise(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn mutated_requests_never_panic() {
    let mut agent = agent();
    let mut seed = 0x1234_5678_9abc_def1;
    let seeds: Vec<Vec<u8>> = [PduKind::Get, PduKind::GetNext, PduKind::Set]
        .into_iter()
        .map(|kind| {
            let pdu = CommonPdu::new(kind, 3, vec![(oid(LOW_BATTERY_LEVEL), Value::Integer(30))]);
            Message::new(Version::V2c, b"private".to_vec(), pdu).encode()
        })
        .chain([Message::new(
            Version::V2c,
            b"public".to_vec(),
            CommonPdu::get_bulk(4, 1, 9, vec![(oid("1.3"), Value::Null)]),
        )
        .encode()])
        .collect();
    for round in 0..20_000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..=noise(&mut seed) % 3 {
            let at = (noise(&mut seed) as usize) % bytes.len();
            bytes[at] = noise(&mut seed) as u8;
        }
        let _ = agent.handle(&bytes);
    }
    assert!(agent.stats.malformed > 0 && agent.stats.responses > 0);
}

#[test]
fn state_changes_become_traps_for_each_sink() {
    let sinks = vec![
        "127.0.0.1:9,v1".parse().unwrap(),
        "127.0.0.1:10,v2c".parse().unwrap(),
    ];
    let mut agent = agent_with(&Mib::ALL, 1472, sinks);
    agent.state.set_mains(false);
    let traps = agent.drain_traps();
    let mut v1_specifics = Vec::new();
    let mut v2_oids = Vec::new();
    for (addr, bytes) in &traps {
        let message = Message::decode(bytes).unwrap();
        match (&message.pdu, addr.port()) {
            (Pdu::TrapV1(trap), 9) => {
                v1_specifics.push((trap.enterprise.to_string(), trap.specific_trap))
            }
            (Pdu::Common(pdu), 10) => v2_oids.push(match &pdu.varbinds[1].1 {
                Value::ObjectId(o) => o.to_string(),
                other => panic!("{other:?}"),
            }),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        v1_specifics.contains(&("1.3.6.1.2.1.33.2".to_string(), 1)),
        "{v1_specifics:?}"
    );
    assert!(
        v1_specifics.contains(&("1.3.6.1.4.1.705.1.11".to_string(), 17)),
        "{v1_specifics:?}"
    );
    for expected in [
        "1.3.6.1.2.1.33.2.1",
        "1.3.6.1.4.1.705.1.11.0.11",
        "1.3.6.1.4.1.705.1.11.0.17",
        "1.3.6.1.4.1.318.0.5",
        "1.3.6.1.2.1.33.2.3",
    ] {
        assert!(
            v2_oids.iter().any(|o| o == expected),
            "{expected} missing from {v2_oids:?}"
        );
    }
    assert_eq!(agent.stats.traps_sent as usize, traps.len());
    assert!(agent.drain_traps().is_empty(), "each event once");
    assert!(agent.trap_now("upsmgBatteryFault", None).unwrap().len() == 2);
    assert!(agent.trap_now("nope", None).is_err());
}
