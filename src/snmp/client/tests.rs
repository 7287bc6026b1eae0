//! Client tests against a fake agent on 127.0.0.1.
//!
//! The agent answers from a `BTreeMap<Oid, Value>` with RFC 3416 GET,
//! GETNEXT, GETBULK and SET semantics (v1 errors for v1 requests) and can
//! misbehave on demand: drop requests, answer `tooBig`, truncate bulk
//! responses, send stale, garbage and foreign replies first.

use super::*;
use crate::snmp::Pdu;
use std::ops::Bound;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

const READ: &str = "public";
const WRITE: &str = "private";
/// Starting batch size of [`FakeAgent::client`].
const BATCH: usize = 35;

/// How the fake agent misbehaves.
#[derive(Clone, Default)]
struct Quirks {
    /// Silently drop this many requests first.
    drop_first: usize,
    /// Answer `tooBig` when a response would hold more varbinds.
    too_big_above: Option<usize>,
    /// Cut GETBULK responses to this many varbinds (RFC-allowed).
    bulk_truncate_to: Option<usize>,
    /// Before each real reply, send one with a wrong request id.
    stale_first: bool,
    /// Answer v2c GETs with v1's noSuchName (as some cards do).
    v1_errors_in_v2c: bool,
    /// Before each real reply, send bytes that do not decode.
    garbage_first: bool,
    /// Reply with garbage only.
    garbage_only: bool,
    /// Before each real reply, send a reply from another socket.
    foreign_first: Option<SocketAddr>,
}

struct FakeAgent {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Message>>>,
    mib: Arc<Mutex<BTreeMap<Oid, Value>>>,
    task: JoinHandle<()>,
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAgent {
    async fn start(mib: BTreeMap<Oid, Value>, quirks: Quirks) -> FakeAgent {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let mib = Arc::new(Mutex::new(mib));
        let task = tokio::spawn(serve(
            socket,
            Arc::clone(&mib),
            Arc::clone(&requests),
            quirks,
        ));
        FakeAgent {
            addr,
            requests,
            mib,
            task,
        }
    }

    fn requests(&self) -> Vec<Message> {
        self.requests.lock().unwrap().clone()
    }

    /// A client whose batches start at [`BATCH`] varbinds, whatever the
    /// bytes-per-varbind estimate, so round-trip counts stay exact.
    fn client(&self, version: Version) -> Client {
        let mut opts = ClientOptions::new(self.addr);
        opts.version = version;
        opts.timeout = Duration::from_millis(300);
        opts.max_pdu_bytes = BATCH * BYTES_PER_VARBIND;
        Client::new(opts).unwrap()
    }
}

async fn serve(
    socket: UdpSocket,
    mib: Arc<Mutex<BTreeMap<Oid, Value>>>,
    log: Arc<Mutex<Vec<Message>>>,
    quirks: Quirks,
) {
    let mut buf = vec![0; 65_535];
    let mut seen = 0;
    loop {
        let Ok((len, from)) = socket.recv_from(&mut buf).await else {
            return;
        };
        let Ok(request) = Message::decode(&buf[..len]) else {
            continue;
        };
        log.lock().unwrap().push(request.clone());
        seen += 1;
        if seen <= quirks.drop_first {
            continue;
        }
        if quirks.garbage_first || quirks.garbage_only {
            socket
                .send_to(&[0x30, 0x03, 0x02, 0x01], from)
                .await
                .unwrap();
        }
        if quirks.garbage_only {
            continue;
        }
        let Some(reply) = answer(&mut mib.lock().unwrap(), &quirks, &request) else {
            continue;
        };
        if quirks.stale_first {
            let mut stale = reply.clone();
            if let Pdu::Common(pdu) = &mut stale.pdu {
                pdu.request_id = pdu.request_id.wrapping_sub(1);
                pdu.varbinds = vec![(oid("1.3.6.1.9.9.9"), Value::Integer(666))];
            }
            socket.send_to(&stale.encode(), from).await.unwrap();
        }
        if let Some(foreign) = quirks.foreign_first {
            let other = std::net::UdpSocket::bind(foreign).unwrap();
            let mut fake = reply.clone();
            if let Pdu::Common(pdu) = &mut fake.pdu {
                pdu.varbinds = vec![(oid("1.3.6.1.9.9.9"), Value::Integer(666))];
            }
            other.send_to(&fake.encode(), from).unwrap();
        }
        socket.send_to(&reply.encode(), from).await.unwrap();
    }
}

/// The agent's reply to one request, or `None` to stay silent.
fn answer(mib: &mut BTreeMap<Oid, Value>, quirks: &Quirks, request: &Message) -> Option<Message> {
    let pdu = request.common()?;
    let community = request.community.as_slice();
    let allowed = match pdu.kind {
        PduKind::Set => community == WRITE.as_bytes(),
        _ => community == READ.as_bytes() || community == WRITE.as_bytes(),
    };
    if !allowed {
        return None;
    }
    let v1 = request.version == Version::V1;
    let mut reply = match pdu.kind {
        PduKind::Get => get(mib, pdu, v1 || quirks.v1_errors_in_v2c),
        PduKind::GetNext => get_next(mib, pdu, v1),
        PduKind::GetBulk => get_bulk(mib, pdu, quirks.bulk_truncate_to),
        PduKind::Set => set(mib, pdu, v1),
        _ => return None,
    };
    if quirks
        .too_big_above
        .is_some_and(|k| reply.varbinds.len() > k)
    {
        reply = error(pdu, ErrorStatus::TooBig, 0);
        if !v1 {
            reply.varbinds.clear();
        }
    }
    reply.request_id = pdu.request_id;
    Some(Message::new(
        request.version,
        request.community.clone(),
        reply,
    ))
}

fn response(varbinds: Vec<VarBind>) -> CommonPdu {
    CommonPdu::new(PduKind::Response, 0, varbinds)
}

/// An error response echoing the request's varbinds.
fn error(request: &CommonPdu, status: ErrorStatus, index: usize) -> CommonPdu {
    let mut pdu = response(request.varbinds.clone());
    pdu.error_status = status;
    pdu.error_index = index as u32;
    pdu
}

fn get(mib: &BTreeMap<Oid, Value>, request: &CommonPdu, v1: bool) -> CommonPdu {
    let mut varbinds = Vec::new();
    for (i, (oid, _)) in request.varbinds.iter().enumerate() {
        match mib.get(oid) {
            Some(value) => varbinds.push((oid.clone(), value.clone())),
            None if v1 => return error(request, ErrorStatus::NoSuchName, i + 1),
            None => varbinds.push((oid.clone(), Value::NoSuchInstance)),
        }
    }
    response(varbinds)
}

fn next_of(mib: &BTreeMap<Oid, Value>, oid: &Oid) -> VarBind {
    mib.range((Bound::Excluded(oid.clone()), Bound::Unbounded))
        .next()
        .map(|(o, v)| (o.clone(), v.clone()))
        .unwrap_or((oid.clone(), Value::EndOfMibView))
}

fn get_next(mib: &BTreeMap<Oid, Value>, request: &CommonPdu, v1: bool) -> CommonPdu {
    let mut varbinds = Vec::new();
    for (i, (oid, _)) in request.varbinds.iter().enumerate() {
        let next = next_of(mib, oid);
        if v1 && next.1 == Value::EndOfMibView {
            return error(request, ErrorStatus::NoSuchName, i + 1);
        }
        varbinds.push(next);
    }
    response(varbinds)
}

fn get_bulk(mib: &BTreeMap<Oid, Value>, request: &CommonPdu, cut: Option<usize>) -> CommonPdu {
    let names: Vec<&Oid> = request.varbinds.iter().map(|(oid, _)| oid).collect();
    let n = (request.non_repeaters() as usize).min(names.len());
    let mut varbinds: Vec<VarBind> = names[..n].iter().map(|o| next_of(mib, o)).collect();
    let mut cursors: Vec<Oid> = names[n..].iter().map(|o| (*o).clone()).collect();
    for _ in 0..request.max_repetitions() {
        if cursors.is_empty() {
            break;
        }
        let row: Vec<VarBind> = cursors.iter().map(|o| next_of(mib, o)).collect();
        let all_ended = row.iter().all(|(_, v)| *v == Value::EndOfMibView);
        cursors = row.iter().map(|(o, _)| o.clone()).collect();
        varbinds.extend(row);
        if all_ended {
            break;
        }
    }
    if let Some(cut) = cut {
        varbinds.truncate(cut);
    }
    response(varbinds)
}

fn set(mib: &mut BTreeMap<Oid, Value>, request: &CommonPdu, v1: bool) -> CommonPdu {
    for (i, (oid, value)) in request.varbinds.iter().enumerate() {
        let status = match mib.get(oid) {
            None if v1 => ErrorStatus::NoSuchName,
            None => ErrorStatus::NotWritable,
            Some(old) if old.type_name() != value.type_name() => {
                if v1 {
                    ErrorStatus::BadValue
                } else {
                    ErrorStatus::WrongType
                }
            }
            Some(_) => continue,
        };
        return error(request, status, i + 1);
    }
    for (oid, value) in &request.varbinds {
        mib.insert(oid.clone(), value.clone());
    }
    response(request.varbinds.clone())
}

fn oid(text: &str) -> Oid {
    Oid::parse(text).unwrap()
}

/// Three 10-row tables (columns of 1.3.6.1.4.1.705.1.{5,6,7}) plus some
/// scalars around them.
fn ups_mib() -> BTreeMap<Oid, Value> {
    let mut mib = BTreeMap::new();
    mib.insert(
        oid("1.3.6.1.2.1.1.1.0"),
        Value::OctetString(b"Galaxy".to_vec()),
    );
    mib.insert(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(4242));
    mib.insert(
        oid("1.3.6.1.2.1.1.5.0"),
        Value::OctetString(b"ups-1".to_vec()),
    );
    for table in [5, 6, 7] {
        for row in 1..=10 {
            let cell = oid("1.3.6.1.4.1.705.1").join(&[table, 1, 2, row]);
            mib.insert(cell, Value::Integer(i64::from(table * 100 + row)));
        }
    }
    mib.insert(oid("1.3.6.1.4.1.705.1.8.1.0"), Value::Gauge32(230));
    mib
}

fn table_roots() -> Vec<Oid> {
    vec![
        oid("1.3.6.1.4.1.705.1.5"),
        oid("1.3.6.1.4.1.705.1.6"),
        oid("1.3.6.1.4.1.705.1.7"),
    ]
}

/// What a correct walk of `roots` returns.
fn expected_walk(mib: &BTreeMap<Oid, Value>, roots: &[Oid]) -> Vec<VarBind> {
    mib.iter()
        .filter(|(o, _)| roots.iter().any(|r| o.starts_with(r) && *o != r))
        .map(|(o, v)| (o.clone(), v.clone()))
        .collect()
}

#[tokio::test]
async fn get_packs_varbinds_and_drops_absent_ones_v2c() {
    let agent = FakeAgent::start(ups_mib(), Quirks::default()).await;
    let mut client = agent.client(Version::V2c);
    let wanted = [
        oid("1.3.6.1.2.1.1.5.0"),
        oid("1.3.6.1.2.1.1.4.0"),
        oid("1.3.6.1.2.1.1.1.0"),
    ];
    let got = client.get(&wanted).await.unwrap();
    assert_eq!(
        got,
        vec![
            (
                oid("1.3.6.1.2.1.1.5.0"),
                Value::OctetString(b"ups-1".to_vec())
            ),
            (
                oid("1.3.6.1.2.1.1.1.0"),
                Value::OctetString(b"Galaxy".to_vec())
            ),
        ]
    );
    assert_eq!(client.stats().requests, 1);
    assert_eq!(client.stats().responses, 1);
    assert!(client.stats().last_rtt.is_some());
    assert_eq!(
        client.stats().rtt.count(),
        1,
        "the reply's round trip counted"
    );
    assert!(client.stats().bytes_sent > 0 && client.stats().bytes_received > 0);
}

#[tokio::test]
async fn get_v1_resends_without_no_such_name_varbinds() {
    let agent = FakeAgent::start(ups_mib(), Quirks::default()).await;
    let mut client = agent.client(Version::V1);
    let wanted = [
        oid("1.3.6.1.2.1.1.9.0"),
        oid("1.3.6.1.2.1.1.1.0"),
        oid("1.3.6.1.2.1.1.4.0"),
        oid("1.3.6.1.2.1.1.3.0"),
    ];
    let got = client.get(&wanted).await.unwrap();
    assert_eq!(
        got,
        vec![
            (
                oid("1.3.6.1.2.1.1.1.0"),
                Value::OctetString(b"Galaxy".to_vec())
            ),
            (oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(4242)),
        ]
    );
    // 4 varbinds, 2 missing: two noSuchName answers, then success.
    assert_eq!(client.stats().requests, 3);
    let sizes: Vec<usize> = agent
        .requests()
        .iter()
        .map(|m| m.varbinds().len())
        .collect();
    assert_eq!(sizes, [4, 3, 2]);

    // Nothing present at all: the batch empties out.
    let none = client.get(&[oid("1.3.6.1.2.1.1.9.0")]).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(client.stats().requests, 4);
}

#[tokio::test]
async fn get_halves_batches_on_too_big_and_remembers() {
    let quirks = Quirks {
        too_big_above: Some(8),
        ..Quirks::default()
    };
    let mib = ups_mib();
    let agent = FakeAgent::start(mib.clone(), quirks).await;
    let mut client = agent.client(Version::V2c);
    assert_eq!(client.max_varbinds(), BATCH);
    let wanted: Vec<Oid> = mib.keys().take(20).cloned().collect();
    let got = client.get(&wanted).await.unwrap();
    let expected: Vec<VarBind> = mib.clone().into_iter().take(20).collect();
    assert_eq!(got, expected);
    // 20 -> tooBig, 10 -> tooBig, then 5 + 5 + 5 + 5.
    assert_eq!(client.max_varbinds(), 5);
    assert_eq!(client.stats().requests, 6);
    // The smaller batch is remembered: 20 more OIDs cost 4 requests.
    client.get(&wanted).await.unwrap();
    assert_eq!(client.stats().requests, 10);
}

#[tokio::test]
async fn a_single_varbind_too_big_is_an_agent_error() {
    let quirks = Quirks {
        too_big_above: Some(0),
        ..Quirks::default()
    };
    let agent = FakeAgent::start(ups_mib(), quirks).await;
    let mut client = agent.client(Version::V2c);
    let err = client.get(&[oid("1.3.6.1.2.1.1.1.0")]).await.unwrap_err();
    assert!(
        matches!(
            &err,
            SnmpError::Agent {
                status: ErrorStatus::TooBig,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn retries_after_dropped_requests_with_the_same_id() {
    let quirks = Quirks {
        drop_first: 2,
        ..Quirks::default()
    };
    let agent = FakeAgent::start(ups_mib(), quirks).await;
    let mut client = agent.client(Version::V2c);
    let got = client.get(&[oid("1.3.6.1.2.1.1.3.0")]).await.unwrap();
    assert_eq!(got.len(), 1);
    let stats = client.stats();
    assert_eq!(
        (stats.requests, stats.retransmissions, stats.timeouts),
        (3, 2, 0)
    );
    let ids: Vec<i32> = agent
        .requests()
        .iter()
        .map(|m| m.common().unwrap().request_id)
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|&id| id == ids[0]), "{ids:?}");

    // The next request gets a new id.
    client.get(&[oid("1.3.6.1.2.1.1.3.0")]).await.unwrap();
    let next_id = agent
        .requests()
        .last()
        .unwrap()
        .common()
        .unwrap()
        .request_id;
    assert_eq!(next_id, ids[0] + 1);
}

#[tokio::test]
async fn times_out_after_every_attempt() {
    let quirks = Quirks {
        drop_first: usize::MAX,
        ..Quirks::default()
    };
    let agent = FakeAgent::start(ups_mib(), quirks).await;
    let mut opts = ClientOptions::new(agent.addr);
    opts.timeout = Duration::from_millis(100);
    opts.retries = 1;
    let mut client = Client::new(opts).unwrap();
    let err = client.get(&[oid("1.3.6.1.2.1.1.3.0")]).await.unwrap_err();
    match &err {
        SnmpError::Timeout {
            target,
            attempts,
            after,
        } => {
            assert_eq!(*target, agent.addr);
            assert_eq!(*attempts, 2);
            assert!(*after >= Duration::from_millis(200), "{after:?}");
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(err.to_string().contains(&agent.addr.to_string()), "{err}");
    let stats = client.stats();
    assert_eq!(
        (stats.requests, stats.retransmissions, stats.timeouts),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn stale_garbage_and_foreign_replies_are_discarded() {
    // A free port to send the foreign reply from.
    let foreign = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let quirks = Quirks {
        stale_first: true,
        garbage_first: true,
        foreign_first: Some(foreign),
        ..Quirks::default()
    };
    let agent = FakeAgent::start(ups_mib(), quirks).await;
    let mut client = agent.client(Version::V2c);
    let got = client.get(&[oid("1.3.6.1.2.1.1.3.0")]).await.unwrap();
    assert_eq!(
        got,
        vec![(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(4242))]
    );
    let stats = client.stats();
    // Garbage and stale are seen and dropped; the kernel already drops the
    // foreign datagram because the socket is connected.
    assert_eq!(
        (stats.requests, stats.responses, stats.discarded),
        (1, 1, 2)
    );
}

#[tokio::test]
async fn undecodable_replies_only_give_a_decode_error() {
    let quirks = Quirks {
        garbage_only: true,
        ..Quirks::default()
    };
    let agent = FakeAgent::start(ups_mib(), quirks).await;
    let mut client = agent.client(Version::V2c);
    let err = client.get(&[oid("1.3.6.1.2.1.1.3.0")]).await.unwrap_err();
    assert!(matches!(err, SnmpError::Decode { .. }), "{err}");
    assert_eq!(client.stats().discarded, 3);
}

#[tokio::test]
async fn parallel_bulk_walk_of_three_tables() {
    let mib = ups_mib();
    let agent = FakeAgent::start(mib.clone(), Quirks::default()).await;
    let mut client = agent.client(Version::V2c);
    let roots = table_roots();
    let got = client.walk(&roots).await.unwrap();
    assert_eq!(got, expected_walk(&mib, &roots));
    assert_eq!(got.len(), 30);
    // max_repetitions = min(25, BATCH / 3) = 11: every table ends in one PDU.
    assert_eq!(client.stats().requests, 1);
    let request = agent.requests()[0].clone();
    let bulk = request.common().unwrap();
    assert_eq!(bulk.kind, PduKind::GetBulk);
    assert_eq!((bulk.non_repeaters(), bulk.max_repetitions()), (0, 11));
    assert_eq!(bulk.varbinds.len(), 3);
}

#[tokio::test]
async fn bulk_walk_round_trips_follow_max_repetitions() {
    let mib = ups_mib();
    let agent = FakeAgent::start(mib.clone(), Quirks::default()).await;
    let mut opts = ClientOptions::new(agent.addr);
    opts.max_repetitions = 4;
    let mut client = Client::new(opts).unwrap();
    let roots = table_roots();
    let got = client.walk(&roots).await.unwrap();
    assert_eq!(got, expected_walk(&mib, &roots));
    // Rows 1-4, 5-8, 9-10 + the first OID past each table.
    assert_eq!(client.stats().requests, 3);
    let cursors: Vec<Vec<Oid>> = agent
        .requests()
        .iter()
        .map(|m| m.varbinds().iter().map(|(o, _)| o.clone()).collect())
        .collect();
    assert_eq!(cursors[1][0], oid("1.3.6.1.4.1.705.1.5.1.2.4"));
    assert_eq!(cursors[2][2], oid("1.3.6.1.4.1.705.1.7.1.2.8"));
}

#[tokio::test]
async fn bulk_walk_survives_truncated_responses() {
    let mib = ups_mib();
    let quirks = Quirks {
        bulk_truncate_to: Some(7),
        ..Quirks::default()
    };
    let agent = FakeAgent::start(mib.clone(), quirks).await;
    let mut client = agent.client(Version::V2c);
    let roots = table_roots();
    let got = client.walk(&roots).await.unwrap();
    assert_eq!(got, expected_walk(&mib, &roots));
    // 7 varbinds per response, in row order: tables 5/6/7 advance 3/2/2
    // per round, table 5 ends in round 4 (11 varbinds incl. the exit),
    // then a 2-root round (17 repetitions, cut to 7) ends tables 6 and 7.
    assert_eq!(client.stats().requests, 5);
}

#[tokio::test]
async fn bulk_walk_shrinks_on_too_big() {
    let mib = ups_mib();
    let quirks = Quirks {
        too_big_above: Some(10),
        ..Quirks::default()
    };
    let agent = FakeAgent::start(mib.clone(), quirks).await;
    let mut client = agent.client(Version::V2c);
    let roots = table_roots();
    let got = client.walk(&roots).await.unwrap();
    assert_eq!(got, expected_walk(&mib, &roots));
    // 3 x 11 -> tooBig, max_varbinds 16; 3 x 5 -> tooBig, max_varbinds 7;
    // then 3 x 2 per round: rows 1-2, ..., 9-10, and the exits.
    assert_eq!(client.max_varbinds(), 7);
    let repetitions: Vec<u32> = agent
        .requests()
        .iter()
        .map(|m| m.common().unwrap().max_repetitions())
        .collect();
    assert_eq!(repetitions, [11, 5, 2, 2, 2, 2, 2, 2]);
}

#[tokio::test]
async fn v1_walk_uses_getnext_per_root_in_parallel() {
    let mib = ups_mib();
    let agent = FakeAgent::start(mib.clone(), Quirks::default()).await;
    let mut client = agent.client(Version::V1);
    let roots = table_roots();
    let got = client.walk(&roots).await.unwrap();
    assert_eq!(got, expected_walk(&mib, &roots));
    // 10 rows and one step out of each table: 11 GETNEXTs of 3 varbinds.
    assert_eq!(client.stats().requests, 11);
    assert!(agent.requests().iter().all(|m| {
        let pdu = m.common().unwrap();
        pdu.kind == PduKind::GetNext && pdu.varbinds.len() == 3
    }));
}

#[tokio::test]
async fn v1_walk_treats_no_such_name_as_end_of_mib() {
    let mib = ups_mib();
    let agent = FakeAgent::start(mib.clone(), Quirks::default()).await;
    let mut client = agent.client(Version::V1);
    // The last root runs into the end of the MIB.
    let roots = vec![oid("1.3.6.1.2.1.1"), oid("1.3.6.1.4.1.705.1.8")];
    let got = client.walk(&roots).await.unwrap();
    assert_eq!(got, expected_walk(&mib, &roots));
    assert_eq!(got.len(), 4);
    // Round 1: 2 varbinds. Round 2: sys 2nd row + 8.1.0's next is the end:
    // noSuchName, resent with 1. Round 3: sys 3rd row. Round 4: sys exits.
    let sizes: Vec<usize> = agent
        .requests()
        .iter()
        .map(|m| m.varbinds().len())
        .collect();
    assert_eq!(sizes, [2, 2, 1, 1, 1]);
}

#[tokio::test]
async fn v2c_walk_ends_on_end_of_mib_view() {
    let mib = ups_mib();
    let agent = FakeAgent::start(mib.clone(), Quirks::default()).await;
    let mut client = agent.client(Version::V2c);
    let roots = vec![oid("1.3.6.1.4.1.705.1.8"), oid("1.3.6.1.4.1.999")];
    let got = client.walk(&roots).await.unwrap();
    assert_eq!(
        got,
        vec![(oid("1.3.6.1.4.1.705.1.8.1.0"), Value::Gauge32(230))]
    );
    assert_eq!(client.stats().requests, 1);
}

#[tokio::test]
async fn walk_dedupes_nested_roots_and_whole_mib_walks() {
    let mib = ups_mib();
    let agent = FakeAgent::start(mib.clone(), Quirks::default()).await;
    let mut client = agent.client(Version::V2c);
    let roots = vec![
        oid("1.3.6.1.4.1.705.1.6.1"),
        oid("1.3.6.1.4.1.705.1"),
        oid("1.3.6.1.4.1.705.1"),
        oid("1.3.6.1.4.1.705.1.7"),
    ];
    let got = client.walk(&roots).await.unwrap();
    assert_eq!(got, expected_walk(&mib, &[oid("1.3.6.1.4.1.705.1")]));
    assert_eq!(agent.requests()[0].varbinds().len(), 1);

    let everything = client.walk(&[oid("1.3")]).await.unwrap();
    assert_eq!(everything, mib.into_iter().collect::<Vec<_>>());
    assert!(client.walk(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn walk_stops_on_non_increasing_oids() {
    // An agent that always answers GETBULK with the same OID.
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = vec![0; 2048];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            let Ok(request) = Message::decode(&buf[..len]) else {
                continue;
            };
            let id = request.common().unwrap().request_id;
            let stuck = vec![(oid("1.3.6.1.2.1.1.1.0"), Value::Integer(1))];
            let reply = CommonPdu::new(PduKind::Response, id, stuck);
            let msg = Message::new(Version::V2c, READ, reply);
            socket.send_to(&msg.encode(), from).await.unwrap();
        }
    });
    let mut client = Client::new(ClientOptions::new(addr)).unwrap();
    let roots = [oid("1.3.6.1.2.1.1")];
    let walk = client.walk(&roots);
    let got = tokio::time::timeout(Duration::from_secs(5), walk)
        .await
        .expect("the walk must end")
        .unwrap();
    assert_eq!(got, vec![(oid("1.3.6.1.2.1.1.1.0"), Value::Integer(1))]);
    assert_eq!(client.stats().requests, 2);
    task.abort();
}

#[tokio::test]
async fn walk_refuses_more_than_the_limit() {
    let mut mib = BTreeMap::new();
    for row in 0..=WALK_VARBIND_LIMIT as u32 {
        mib.insert(oid("1.3.6.1.4.1.705.2").child(row), Value::Integer(1));
    }
    let agent = FakeAgent::start(mib, Quirks::default()).await;
    let mut client = agent.client(Version::V2c);
    let err = client.walk(&[oid("1.3.6.1.4.1.705.2")]).await.unwrap_err();
    assert!(
        matches!(err, SnmpError::TooManyVarbinds { limit: 20_000, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn set_writes_with_the_write_community() {
    let agent = FakeAgent::start(ups_mib(), Quirks::default()).await;
    let mut client = agent.client(Version::V2c);
    let name = oid("1.3.6.1.2.1.1.5.0");
    let new = (name.clone(), Value::OctetString(b"ups-2".to_vec()));
    let echoed = client.set(WRITE, std::slice::from_ref(&new)).await.unwrap();
    assert_eq!(echoed, vec![new.clone()]);
    assert_eq!(agent.mib.lock().unwrap()[&name], new.1);
    assert_eq!(agent.requests()[0].community, WRITE.as_bytes());

    // Wrong type on the second varbind: the error names it.
    let bad = [
        (oid("1.3.6.1.2.1.1.1.0"), Value::OctetString(b"x".to_vec())),
        (name.clone(), Value::Integer(3)),
    ];
    let err = client.set(WRITE, &bad).await.unwrap_err();
    match &err {
        SnmpError::Agent {
            status,
            index,
            oid: Some(at),
            ..
        } => {
            assert_eq!((*status, *index), (ErrorStatus::WrongType, 2));
            assert_eq!(**at, name);
        }
        other => panic!("expected an agent error, got {other}"),
    }
    assert!(err.to_string().contains("wrongType"), "{err}");
}

#[tokio::test]
async fn set_v1_reports_no_such_name_with_the_oid() {
    let agent = FakeAgent::start(ups_mib(), Quirks::default()).await;
    let mut client = agent.client(Version::V1);
    let missing = oid("1.3.6.1.2.1.1.77.0");
    let err = client
        .set(WRITE, &[(missing.clone(), Value::Integer(1))])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SnmpError::Agent { status: ErrorStatus::NoSuchName, index: 1, oid: Some(o), .. } if **o == missing),
        "{err}"
    );
}

#[tokio::test]
async fn unencodable_oids_are_refused_before_sending() {
    let agent = FakeAgent::start(ups_mib(), Quirks::default()).await;
    let mut client = agent.client(Version::V2c);
    let err = client.get(&[Oid::from_arcs(vec![7, 1])]).await.unwrap_err();
    assert!(matches!(err, SnmpError::Encode { .. }), "{err}");
    assert_eq!(client.stats().requests, 0);
}

#[tokio::test]
async fn get_next_returns_successors_and_skips_the_end_of_mib() {
    let agent = FakeAgent::start(ups_mib(), Quirks::default()).await;
    let wanted = [oid("1.3.6.1.2.1.1.1.0"), oid("1.3.6.1.4.1.705.1.8.1.0")];
    for version in [Version::V2c, Version::V1] {
        let mut client = agent.client(version);
        let got = client.get_next(&wanted).await.unwrap();
        assert_eq!(
            got,
            vec![(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(4242))],
            "{version}"
        );
    }
    // v2c: one PDU with endOfMibView; v1: noSuchName, then the rest again.
    let sizes: Vec<usize> = agent
        .requests()
        .iter()
        .map(|m| m.varbinds().len())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
}

#[tokio::test]
async fn a_closed_port_is_an_io_error_naming_the_target() {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut client = Client::new(ClientOptions::new(closed)).unwrap();
    let started = std::time::Instant::now();
    let err = client.get(&[oid("1.3.6.1.2.1.1.3.0")]).await.unwrap_err();
    // Loopback answers with ICMP port unreachable: no need to wait 3 s.
    assert!(matches!(&err, SnmpError::Io { .. }), "{err}");
    assert!(err.to_string().contains(&closed.to_string()), "{err}");
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn talks_to_an_ipv6_agent() {
    // Skip where the sandbox has no IPv6 loopback.
    let Ok(socket) = UdpSocket::bind("[::1]:0").await else {
        return;
    };
    let addr = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut mib = ups_mib();
        let mut buf = vec![0; 65_535];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            let Ok(request) = Message::decode(&buf[..len]) else {
                continue;
            };
            if let Some(reply) = answer(&mut mib, &Quirks::default(), &request) {
                socket.send_to(&reply.encode(), from).await.unwrap();
            }
        }
    });
    let mut client = Client::new(ClientOptions::new(addr)).unwrap();
    let got = client.get(&[oid("1.3.6.1.2.1.1.3.0")]).await.unwrap();
    assert_eq!(
        got,
        vec![(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(4242))]
    );
    task.abort();
}

#[tokio::test]
async fn batch_size_starts_from_the_response_budget() {
    let target: SocketAddr = "127.0.0.1:161".parse().unwrap();
    let client = Client::new(ClientOptions::new(target)).unwrap();
    assert_eq!(client.max_varbinds(), 1400 / BYTES_PER_VARBIND);
    let mut tiny = ClientOptions::new(target);
    tiny.max_pdu_bytes = 10;
    assert_eq!(Client::new(tiny).unwrap().max_varbinds(), 1);
}

#[test]
fn distinct_roots_drops_duplicates_and_nested_roots() {
    let roots = [
        oid("1.3.6.1.2.1.1"),
        oid("1.3.6.1.2.1.1.5"),
        oid("1.3.6.1.2.1.10"),
        oid("1.3.6.1.2.1.1"),
        oid("1.3.6.1.2.1.2"),
    ];
    assert_eq!(
        distinct_roots(&roots),
        [
            oid("1.3.6.1.2.1.1"),
            oid("1.3.6.1.2.1.2"),
            oid("1.3.6.1.2.1.10")
        ]
    );
}

/// A table of `rows` small integers under 1.3.6.1.4.1.705.1.9.
fn long_table(rows: u32) -> BTreeMap<Oid, Value> {
    (1..=rows)
        .map(|row| {
            let cell = oid("1.3.6.1.4.1.705.1.9").join(&[1, 2, row]);
            (cell, Value::Integer(i64::from(row % 100)))
        })
        .collect()
}

#[tokio::test]
async fn bulk_rounds_grow_to_the_budget_when_replies_are_small() {
    let mib = long_table(600);
    let agent = FakeAgent::start(mib.clone(), Quirks::default()).await;
    let mut client = Client::new(ClientOptions::new(agent.addr)).unwrap();
    let roots = [oid("1.3.6.1.4.1.705.1.9")];
    let got = client.walk(&roots).await.unwrap();
    assert_eq!(got, expected_walk(&mib, &roots));
    let repetitions: Vec<u32> = agent
        .requests()
        .iter()
        .map(|m| m.common().unwrap().max_repetitions())
        .collect();
    // The first round is sized from the estimate (1400 / 28 = 50); the
    // replies (~20 bytes per varbind here) let later rounds ask for more,
    // up to the repetitions ceiling.
    assert_eq!(repetitions[0], 50, "{repetitions:?}");
    let mut options = ClientOptions::new(agent.addr);
    options.max_repetitions = 200;
    let mut wide = Client::new(options).unwrap();
    let before = agent.requests().len();
    assert_eq!(wide.walk(&roots).await.unwrap(), got);
    let wide_repetitions: Vec<u32> = agent.requests()[before..]
        .iter()
        .map(|m| m.common().unwrap().max_repetitions())
        .collect();
    assert!(
        wide_repetitions[1..].iter().all(|&r| r > 50),
        "{wide_repetitions:?}"
    );
    // ... and the replies stay within the 1400-byte budget on average.
    let stats = wide.stats();
    assert!(
        stats.bytes_received / stats.requests <= 1400,
        "{} bytes in {} replies",
        stats.bytes_received,
        stats.requests
    );
    assert!(
        wide_repetitions.len() < repetitions.len(),
        "{wide_repetitions:?} vs {repetitions:?}"
    );
}

/// `get_values` writes its GET from the names' bytes and pairs each answer
/// with the name asked: the agent sees exactly the OIDs asked, in order,
/// and an instance it does not have (noSuchInstance) is `None`.
#[tokio::test]
async fn get_values_pairs_answers_with_the_names_asked() {
    let agent = FakeAgent::start(ups_mib(), Quirks::default()).await;
    let mut client = agent.client(Version::V2c);
    let wanted = [
        oid("1.3.6.1.4.1.705.1.6.1.2.3"),
        oid("1.3.6.1.2.1.1.9.0"),
        oid("1.3.6.1.4.1.705.1.8.1.0"),
        oid("1.3.6.1.2.1.1.5.0"),
    ];
    let got = client.get_values(&wanted).await.unwrap();
    assert_eq!(
        got,
        [
            Some(Value::Integer(603)),
            None,
            Some(Value::Gauge32(230)),
            Some(Value::OctetString(b"ups-1".to_vec())),
        ]
    );
    let requests = agent.requests();
    assert_eq!(requests.len(), 1);
    let asked: Vec<Oid> = requests[0]
        .varbinds()
        .iter()
        .map(|(o, _)| o.clone())
        .collect();
    assert_eq!(asked, wanted);
    assert_eq!(requests[0].common().unwrap().kind, PduKind::Get);
}

/// Batches, tooBig halving and stale or undecodable datagrams work as for
/// [`Client::get`]: 20 names, tooBig above 8 varbinds.
#[tokio::test]
async fn get_values_halves_on_too_big_and_skips_stale_replies() {
    let quirks = Quirks {
        too_big_above: Some(8),
        stale_first: true,
        garbage_first: true,
        ..Quirks::default()
    };
    let mib = ups_mib();
    let agent = FakeAgent::start(mib.clone(), quirks).await;
    let mut client = agent.client(Version::V2c);
    let wanted: Vec<Oid> = mib.keys().take(20).cloned().collect();
    let got = client.get_values(&wanted).await.unwrap();
    let expected: Vec<Option<Value>> = mib.values().take(20).cloned().map(Some).collect();
    assert_eq!(got, expected);
    // 20 -> tooBig, 10 -> tooBig, then 5 + 5 + 5 + 5.
    assert_eq!(client.max_varbinds(), 5);
    assert_eq!(client.stats().requests, 6);
}

/// SNMPv1 has no exceptions: a name the agent lacks is dropped by
/// `noSuchName` and resent without it, and still comes back `None`.
#[tokio::test]
async fn get_values_v1_leaves_no_such_name_out() {
    let agent = FakeAgent::start(ups_mib(), Quirks::default()).await;
    let mut client = agent.client(Version::V1);
    let wanted = [oid("1.3.6.1.2.1.1.9.0"), oid("1.3.6.1.2.1.1.3.0")];
    let got = client.get_values(&wanted).await.unwrap();
    assert_eq!(got, [None, Some(Value::TimeTicks(4242))]);
    assert_eq!(client.stats().requests, 2);
}

/// A walk told how many varbinds its roots held last time asks for one
/// repetition more in its first round: an unchanged table ends there; a
/// grown one goes on with full rounds and is still read whole.
#[tokio::test]
async fn a_sized_walk_asks_one_repetition_more_than_last_time() {
    let mib = ups_mib();
    let agent = FakeAgent::start(mib.clone(), Quirks::default()).await;
    let mut client = agent.client(Version::V2c);
    let roots = table_roots();
    let repetitions = |agent: &FakeAgent| -> Vec<u32> {
        agent
            .requests()
            .iter()
            .map(|m| m.common().unwrap().max_repetitions())
            .collect()
    };

    let got = client.walk_map_sized(&roots, Some(10)).await.unwrap();
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        expected_walk(&mib, &roots)
    );
    assert_eq!(repetitions(&agent), [11], "10 rows + the first OID past");

    // Tables of 10 rows expected empty: 1 repetition, then full rounds
    // (min(25, BATCH / 3) = 11).
    let got = client.walk_map_sized(&roots, Some(0)).await.unwrap();
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        expected_walk(&mib, &roots)
    );
    assert_eq!(repetitions(&agent)[1..], [1, 11]);
}

/// A card that answers a v2c GET of a cell it lacks with v1's noSuchName:
/// `get_values` goes on as `get` does (the cell left out, the rest asked
/// again) instead of failing the poll.
#[tokio::test]
async fn get_values_survives_no_such_name_in_v2c() {
    let quirks = Quirks {
        v1_errors_in_v2c: true,
        ..Quirks::default()
    };
    let agent = FakeAgent::start(ups_mib(), quirks).await;
    let mut client = agent.client(Version::V2c);
    let wanted = [
        oid("1.3.6.1.2.1.1.5.0"),
        oid("1.3.6.1.2.1.1.9.0"),
        oid("1.3.6.1.2.1.1.3.0"),
    ];
    let got = client.get_values(&wanted).await.unwrap();
    assert_eq!(
        got,
        [
            Some(Value::OctetString(b"ups-1".to_vec())),
            None,
            Some(Value::TimeTicks(4242)),
        ]
    );
}

/// A misbehaving agent's answer for an OID not asked (here `.1.0` for
/// `.1`) is dropped: the answers after it still pair with their OIDs, and
/// one left out is `None`.
#[test]
fn answers_pair_with_their_oids_past_a_stray_one() {
    let asked = [
        oid("1.3.6.1.2.1.33.1.2.3.0"),
        oid("1.3.6.1.2.1.33.1.2.4.0"),
        oid("1.3.6.1.2.1.33.1.3.2.0"),
    ];
    let answered = vec![
        (oid("1.3.6.1.2.1.33.1.2.3.0.0"), Value::Integer(1)),
        (oid("1.3.6.1.2.1.33.1.2.4.0"), Value::Integer(95)),
        (oid("1.3.6.1.2.1.33.1.3.2.0"), Value::Integer(3)),
    ];
    assert_eq!(
        answers_in_request_order(&asked, answered),
        [None, Some(Value::Integer(95)), Some(Value::Integer(3))]
    );
    let answered = vec![
        (oid("1.3.6.1.2.1.33.1.2.3.0"), Value::Integer(30)),
        (oid("1.3.6.1.2.1.33.1.3.2.0"), Value::Integer(3)),
        (oid("1.9"), Value::Integer(7)),
    ];
    assert_eq!(
        answers_in_request_order(&asked, answered),
        [Some(Value::Integer(30)), None, Some(Value::Integer(3))]
    );
}

#[test]
fn a_get_list_knows_where_each_name_lies_even_past_long_lengths() {
    // The third name's content is over 127 bytes: its varbind and OID
    // lengths take the long form, which moves the content while encoding.
    let long = Oid::from_arcs([1, 3].into_iter().chain([300; 70]).collect::<Vec<u32>>());
    let names = [
        oid("1.3.6.1.2.1.33.1.1.1.0"),
        oid("1.3.6.1.4.1.705.1.5.1.0"),
        long,
        oid("1.3.6.1.2.1.1.3.0"),
    ];
    let (list, spans) = encode_get_list(&names);
    let listed: Vec<&[u8]> = message::varbinds(&list).map(|v| v.unwrap().0).collect();
    let spanned: Vec<&[u8]> = spans.into_iter().map(|span| &list[span]).collect();
    assert_eq!(spanned, listed);
    for (name, bytes) in names.iter().zip(&spanned) {
        assert_eq!(&ber::decode_oid(bytes).unwrap(), name);
    }
    assert!(spanned[2].len() > 127);
}

#[test]
fn a_get_list_is_well_formed_on_both_sides_of_the_one_byte_lengths() {
    // Content of 123 bytes: the varbind's length is 127, the last in one
    // byte; 124 and 125 take the long form for the varbind only.
    let of_content = |bytes: usize| {
        Oid::from_arcs(
            [1, 3]
                .into_iter()
                .chain(std::iter::repeat_n(1, bytes - 1))
                .collect::<Vec<u32>>(),
        )
    };
    let names = [
        of_content(122),
        of_content(123),
        of_content(124),
        of_content(125),
    ];
    let (list, spans) = encode_get_list(&names);
    let listed: Vec<(&[u8], Value)> = message::varbinds(&list).map(Result::unwrap).collect();
    assert_eq!(listed.len(), names.len());
    for ((name, (bytes, value)), span) in names.iter().zip(&listed).zip(spans) {
        assert_eq!(&ber::decode_oid(bytes).unwrap(), name);
        assert_eq!(*value, Value::Null);
        assert_eq!(&list[span], *bytes);
    }
}
