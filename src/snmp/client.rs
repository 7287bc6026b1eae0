//! The async SNMP manager: one UDP socket per target, GET, parallel walks
//! and SET, with retries and adaptive batch sizes.
//!
//! A [`Client`] owns its socket (bound to an ephemeral port of the target's
//! address family and connected to the target), its request-id counter,
//! its current batch size and its [`ClientStats`]. It does one exchange at
//! a time (`&mut self`), so replies are matched by request id alone:
//!
//! * every request gets the next request id; a retransmission reuses it;
//! * a datagram that does not decode, carries another request id (a late
//!   reply to an earlier request), is not a Response, or comes from
//!   another address is discarded and counted, and reading goes on until
//!   the attempt's timeout;
//! * after `retries + 1` silent attempts the exchange fails with
//!   [`SnmpError::Timeout`] ([`SnmpError::Decode`] when the agent did
//!   answer, but never decodably: a v3-only agent, say);
//! * an ICMP port unreachable (nothing listens on the target port) ends
//!   the exchange at once with [`SnmpError::Io`].
//!
//! Batches start at `max_pdu_bytes / BYTES_PER_VARBIND` varbinds; an
//! agent's `tooBig` halves them for the rest of the client's life.
//!
//! [`Client::get_values`] GETs names that are kept encoded ([`GetName`]):
//! with v2c its requests are written from their bytes and each answer is
//! paired with the name asked by comparing bytes, so a poll builds no
//! `Oid` for what it asks or gets back.
//!
//! With [`ClientOptions::usm`] the client speaks SNMPv3 (v2c PDUs inside
//! USM messages, RFC 3412/3414):
//!
//! * the first request discovers the agent's engine (one noAuthNoPriv
//!   probe answered by a Report carrying engine ID, boots and time); the
//!   user's keys are then localised once for that engine and kept;
//! * every message carries the engine's boots and the time estimated from
//!   the last authentic one; a retransmission gets a new msgID and is
//!   encrypted again; replies are matched by msgID, must be authentic at
//!   the request's level and within the time window;
//! * a Report `notInTimeWindow` (an agent reboot, a clock drift) resyncs
//!   boots/time from the authenticated Report and the request is sent once
//!   more; `unknownEngineID` (a replaced card) discovers again and retries
//!   once; every other Report ends the exchange with a
//!   [`SnmpError::Usm`] naming the problem (unknown user, wrong digest,
//!   decryption error, unsupported security level, unknown context);
//! * when an encrypted request gets no answer at all, one authNoPriv probe
//!   tells a dead agent from one that drops what it cannot decrypt (net-snmp
//!   does so for a wrong AES key instead of reporting it), and one probe in
//!   the default context tells an unknown context apart.

use crate::oid::Oid;
use crate::snmp::ber::{self, EncodeError, tag};
use crate::snmp::message::{
    self, CommonPdu, DecodeError, ErrorStatus, Message, PduHead, PduKind, PduRef, VarbindsRef,
};
use crate::snmp::rtt::RttHistogram;
use crate::snmp::usm::{LocalKeys, SecurityLevel, UsmUser};
use crate::snmp::v3::{self, Incoming, ReportKind, ScopedPdu, UsmParams, V3Error};
use crate::snmp::value::{Value, VarBind};
use crate::snmp::{SnmpVersion, Version};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::time::Instant;
use tracing::{debug, warn};

/// Most varbinds one [`Client::walk`] call may return.
pub const WALK_VARBIND_LIMIT: usize = 20_000;

/// Estimated response bytes per varbind, to size batches from
/// [`ClientOptions::max_pdu_bytes`]. Measured on the shared walks: ~20 bytes
/// on average (MGE/RFC 1628 OIDs with integer values), up to ~60 for long
/// PowerNet OIDs with strings; an agent that finds a batch too big says
/// tooBig (GET, halved here) or truncates (GETBULK, RFC 3416 §4.2.3).
const BYTES_PER_VARBIND: usize = 28;

/// The fewest response bytes per varbind a GETBULK is sized for (a short
/// OID with a small integer), however small the agent's replies were.
const MIN_BYTES_PER_VARBIND: usize = 12;

/// Default response size budget: one Ethernet frame, which embedded UPS
/// cards handle best.
pub const DEFAULT_MAX_PDU_BYTES: usize = 1400;

/// Default GETBULK max-repetitions ceiling: enough for one table to fill a
/// response on its own.
pub const DEFAULT_MAX_REPETITIONS: u32 = 50;

/// Largest UDP payload.
const RECV_BUFFER: usize = 65_535;

/// Reads the datagram waiting on `socket` and hands it to `accept` where it
/// lies: the 64 KiB buffer is on this (synchronous) call's stack, so it is
/// neither part of a UPS task's future nor a heap allocation, and no copy
/// of the datagram is made (with glibc every allocation of 1 KiB or more
/// consolidates the small free chunks first: per reply, that added up).
/// The buffer is left uninitialised: zeroing 64 KiB per reply cost more
/// than reading the reply, and touched every page of each worker's stack.
fn read_waiting_datagram<T>(
    socket: &UdpSocket,
    accept: &mut impl FnMut(&[u8], SocketAddr) -> T,
) -> std::io::Result<(usize, T)> {
    let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); RECV_BUFFER];
    let mut unfilled: &mut [std::mem::MaybeUninit<u8>] = &mut storage;
    let (len, from) = socket.try_recv_buf_from(&mut unfilled)?;
    // SAFETY: the receive wrote the first `len` bytes of `storage` (the
    // buffer advanced by exactly what was written).
    let datagram = unsafe { std::slice::from_raw_parts(storage.as_ptr().cast::<u8>(), len) };
    Ok((len, accept(datagram, from)))
}

/// A name [`Client::get_values`] can ask for without an `Oid` built for
/// it: a point-table cell writes its object's OID bytes, kept encoded
/// once, and its instance arcs (see `model::ServedCell`).
pub trait GetName {
    /// Appends the name's OID content (BER, without tag and length). It
    /// must be a valid OID's: requests are not checked again.
    fn push_content(&self, out: &mut Vec<u8>);
    /// The name as an `Oid` (SNMPv1 and SNMPv3 requests, errors).
    fn oid(&self) -> Oid;
}

impl GetName for Oid {
    fn push_content(&self, out: &mut Vec<u8>) {
        ber::push_oid_content(out, self);
    }

    fn oid(&self) -> Oid {
        self.clone()
    }
}

/// The values of a GET's answers in request order, `None` where the agent
/// returned nothing for a name (or a v2c exception). Answers come in
/// request order with some left out (instances the agent no longer has);
/// an answer whose name was not asked at that point or later (a
/// misbehaving agent) is dropped, so it cannot hide the answers after it.
pub fn answers_in_request_order<A, B: PartialEq<A>>(
    asked: &[A],
    answered: impl IntoIterator<Item = (B, Value)>,
) -> Vec<Option<Value>> {
    let mut values = Vec::with_capacity(asked.len());
    let mut answered = answered.into_iter().peekable();
    for (at, name) in asked.iter().enumerate() {
        loop {
            match answered.peek() {
                Some((answer, _)) if answer == name => {
                    let value = answered.next().map(|(_, value)| value);
                    values.push(value.filter(|value| !value.is_exception()));
                    break;
                }
                // Not asked from here on: a stray, dropped.
                Some((answer, _)) if !asked[at + 1..].iter().any(|later| answer == later) => {
                    answered.next();
                }
                // No answers left, or the next is a later name's: this
                // one was left out.
                _ => {
                    values.push(None);
                    break;
                }
            }
        }
    }
    values
}

/// What the client makes of a Response it accepted (for its log line).
trait Reply {
    fn status(&self) -> ErrorStatus;
    fn varbinds(&self) -> usize;
}

impl Reply for CommonPdu {
    fn status(&self) -> ErrorStatus {
        self.error_status
    }

    fn varbinds(&self) -> usize {
        self.varbinds.len()
    }
}

/// A reply to [`Client::get_values`]'s GET: the values paired with the
/// names asked when the agent had no error.
struct NamedAnswers {
    status: ErrorStatus,
    index: u32,
    values: Vec<Option<Value>>,
}

impl Reply for NamedAnswers {
    fn status(&self) -> ErrorStatus {
        self.status
    }

    fn varbinds(&self) -> usize {
        self.values.len()
    }
}

/// How to reach one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    pub target: SocketAddr,
    /// The community-based version (v1 or v2c); ignored with `usm`, which
    /// always uses v2c PDUs.
    pub version: Version,
    /// Read community, used by GET and walks (not with `usm`).
    pub community: String,
    /// SNMPv3 with these users instead of communities.
    pub usm: Option<UsmOptions>,
    /// How long one attempt waits for its reply.
    pub timeout: Duration,
    /// Retransmissions after the first attempt.
    pub retries: u32,
    /// Response size budget, used to size requests
    /// ([`DEFAULT_MAX_PDU_BYTES`]).
    pub max_pdu_bytes: usize,
    /// GETBULK max-repetitions ceiling ([`DEFAULT_MAX_REPETITIONS`]).
    pub max_repetitions: u32,
}

impl ClientOptions {
    /// v2c, community "public", 1 s timeout, 2 retries, the default
    /// response budget and repetitions.
    pub fn new(target: SocketAddr) -> ClientOptions {
        ClientOptions {
            target,
            version: Version::V2c,
            community: "public".to_string(),
            usm: None,
            timeout: Duration::from_secs(1),
            retries: 2,
            max_pdu_bytes: DEFAULT_MAX_PDU_BYTES,
            max_repetitions: DEFAULT_MAX_REPETITIONS,
        }
    }
}

impl ClientOptions {
    /// The version on the wire.
    pub fn snmp_version(&self) -> SnmpVersion {
        match self.usm {
            Some(_) => SnmpVersion::V3,
            None => self.version.into(),
        }
    }
}

/// SNMPv3 settings of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsmOptions {
    /// The user of GETs and walks (and of SETs without `write_user`).
    pub user: UsmUser,
    /// The user of SETs, when it is another one.
    pub write_user: Option<UsmUser>,
    /// contextName of every request (usually empty).
    pub context: String,
}

/// Counters since the client was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// PDUs sent, retransmissions included.
    pub requests: u64,
    /// PDUs sent again after an attempt timed out.
    pub retransmissions: u64,
    /// Exchanges that gave up after every attempt.
    pub timeouts: u64,
    /// Replies accepted.
    pub responses: u64,
    /// Datagrams dropped: stale request id, foreign sender, undecodable,
    /// not a Response, wrong version.
    pub discarded: u64,
    pub bytes_sent: u64,
    /// Every datagram received, discarded ones included.
    pub bytes_received: u64,
    /// Time from the last transmission to its accepted reply.
    pub last_rtt: Option<Duration>,
    /// Every accepted reply's round trip, by bucket.
    pub rtt: RttHistogram,
    /// SNMPv3 engine discoveries (the first request, a replaced engine).
    pub discoveries: u64,
    /// SNMPv3 boots/time re-synchronisations after `notInTimeWindow`.
    pub resyncs: u64,
}

impl ClientStats {
    /// A reply accepted `rtt` after its (last) transmission.
    fn accepted(&mut self, rtt: Duration) {
        self.responses += 1;
        self.last_rtt = Some(rtt);
        self.rtt.record(rtt);
    }
}

/// What went wrong talking to an agent; every message names the target.
#[derive(Debug, thiserror::Error)]
pub enum SnmpError {
    #[error("SNMP {target}: no response after {attempts} attempt(s) in {after:?}")]
    Timeout {
        target: SocketAddr,
        attempts: u32,
        after: Duration,
    },
    #[error("SNMP {target}: {action}: {source}")]
    Io {
        target: SocketAddr,
        action: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("SNMP {target}: agent error {status} at varbind {index}{}", describe_oid(.oid))]
    Agent {
        target: SocketAddr,
        status: ErrorStatus,
        /// 1-based, as on the wire (0: not about one varbind).
        index: u32,
        /// The requested varbind at `index` (boxed: an inline [`Oid`] would
        /// make every `Result<_, SnmpError>` 80 bytes bigger).
        oid: Option<Box<Oid>>,
    },
    /// The agent answered every attempt, but never with a usable message.
    #[error("SNMP {target}: replies could not be decoded: {source}")]
    Decode {
        target: SocketAddr,
        #[source]
        source: DecodeError,
    },
    /// A well-formed reply that breaks the protocol.
    #[error("SNMP {target}: {reason}")]
    Protocol { target: SocketAddr, reason: String },
    #[error("SNMP {target}: walk returned more than {limit} varbinds")]
    TooManyVarbinds { target: SocketAddr, limit: usize },
    #[error("SNMP {target}: {source}")]
    Encode {
        target: SocketAddr,
        #[source]
        source: EncodeError,
    },
    /// An SNMPv3 security problem: a Report from the agent, or what the
    /// diagnostic probes found.
    #[error("SNMP {target}: SNMPv3 user {user:?}: {problem}")]
    Usm {
        target: SocketAddr,
        user: String,
        problem: UsmProblem,
    },
    /// The agent answered, but every reply had to be discarded (SNMPv3:
    /// not authentic, not decryptable, outside the time window).
    #[error("SNMP {target}: every reply was discarded: {reason}")]
    Discarded { target: SocketAddr, reason: String },
}

/// What an SNMPv3 exchange ran into, for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsmProblem {
    #[error(
        "unknown user name (usmStatsUnknownUserNames): the agent has no such user; check `user`"
    )]
    UnknownUser,
    #[error("wrong digest (usmStatsWrongDigests): wrong auth_password or auth_protocol")]
    WrongDigest,
    #[error("decryption error (usmStatsDecryptionErrors): wrong priv_password or priv_protocol")]
    DecryptionError,
    #[error(
        "decryption error: the agent answers authenticated requests but silently drops every encrypted one: wrong priv_password or priv_protocol (AES-192/256: also try the other key extension, aes256 <-> aes256c)"
    )]
    SilentDecryptionError,
    #[error(
        "not in time window (usmStatsNotInTimeWindows) even after re-synchronising engine boots and time"
    )]
    NotInTimeWindow,
    #[error(
        "unsupported security level (usmStatsUnsupportedSecLevels): the agent's user does not do {level}; check auth_protocol and priv_protocol"
    )]
    UnsupportedSecLevel { level: SecurityLevel },
    #[error(
        "not authorized (authorizationError): the agent's access control refuses this user at {level}; check the user's access level on the card (a user that must use privacy needs priv_protocol)"
    )]
    NotAuthorized { level: SecurityLevel },
    #[error("unknown engine ID (usmStatsUnknownEngineIDs) even after a new discovery")]
    UnknownEngineId,
    #[error(
        "unknown context {0:?}: the agent drops requests for it but answers the default context; check `context`"
    )]
    UnknownContext(String),
    #[error("the agent reported {0} for context {1:?}; check `context`")]
    Context(ReportKind, String),
    #[error("the agent reported {0}")]
    Report(String),
}

fn describe_oid(oid: &Option<Box<Oid>>) -> String {
    oid.as_ref().map(|o| format!(" ({o})")).unwrap_or_default()
}

/// An SNMP manager for one target.
#[derive(Debug)]
pub struct Client {
    opts: ClientOptions,
    socket: UdpSocket,
    next_request_id: i32,
    /// Varbinds per GET (and the GETBULK ceiling once an agent said tooBig).
    max_varbinds: usize,
    /// Response bytes per varbind in this agent's GETBULK replies so far
    /// (smoothed): GETBULK rounds are sized from it.
    bulk_bytes_per_varbind: usize,
    stats: ClientStats,
    /// SNMPv3: the agent's engine, once discovered.
    engine: Option<Engine>,
    next_msg_id: i32,
}

/// An SNMPv3 authoritative engine as this client knows it.
#[derive(Debug)]
struct Engine {
    id: Vec<u8>,
    boots: u32,
    /// latestReceivedEngineTime, taken at `synced`.
    time: u32,
    synced: Instant,
    /// The read user's keys, localised once for this engine.
    read: LocalKeys,
    /// The write user's keys, localised at its first SET.
    write: Option<LocalKeys>,
}

impl Engine {
    /// boots and the estimated engine time now.
    fn now(&self) -> (u32, u32) {
        let elapsed = u32::try_from(self.synced.elapsed().as_secs()).unwrap_or(u32::MAX);
        (
            self.boots,
            self.time.saturating_add(elapsed).min(v3::MAX_ENGINE_VALUE),
        )
    }

    fn set_time(&mut self, boots: u32, time: u32) {
        self.boots = boots;
        self.time = time;
        self.synced = Instant::now();
    }
}

/// A public view of the discovered engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    pub id: Vec<u8>,
    pub boots: u32,
    /// The estimated engine time now.
    pub time: u32,
}

/// What an SNMPv3 request ended with.
enum V3Reply {
    Response(CommonPdu),
    Report(Option<ReportKind>, String),
    /// Nothing usable within every attempt.
    Silent {
        attempts: u32,
        after: Duration,
        last_discard: Option<String>,
    },
}

/// An accepted SNMPv3 datagram.
enum V3Accepted {
    Response(CommonPdu),
    Report(Option<ReportKind>, String),
    /// A discovery answer: engine ID, boots, time.
    Engine(Vec<u8>, u32, u32),
}

/// Why a received datagram was not the reply we wait for.
enum Discard {
    Foreign(SocketAddr),
    Undecodable(DecodeError),
    Unexpected(&'static str),
    Stale(i32),
    V3(V3Error),
    Insecure(&'static str),
}

impl std::fmt::Display for Discard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Discard::Foreign(from) => write!(f, "from foreign address {from}"),
            Discard::Undecodable(err) => write!(f, "undecodable: {err}"),
            Discard::Unexpected(what) => f.write_str(what),
            Discard::Stale(id) => write!(f, "stale request id {id}"),
            Discard::V3(err) => write!(f, "{err}"),
            Discard::Insecure(why) => f.write_str(why),
        }
    }
}

/// The outcome of one GET batch.
enum Batch {
    Done(Vec<VarBind>),
    TooBig,
}

/// The outcome of one walk request; `TooBig` carries the varbinds asked.
enum Round {
    Done,
    TooBig(usize),
}

/// One root of a walk: where it is, and whether it is finished.
struct RootWalk {
    root: Oid,
    cursor: Oid,
    done: bool,
}

/// GET batch size before any `tooBig`: the budget at the estimated bytes
/// per varbind.
fn initial_max_varbinds(opts: &ClientOptions) -> usize {
    (opts.max_pdu_bytes / BYTES_PER_VARBIND).max(1)
}

impl Client {
    /// Binds a socket for `opts.target`. Needs a tokio runtime with IO.
    pub fn new(opts: ClientOptions) -> Result<Client, SnmpError> {
        let socket = connected_socket(opts.target).map_err(|source| SnmpError::Io {
            target: opts.target,
            action: "open UDP socket",
            source,
        })?;
        let max_varbinds = initial_max_varbinds(&opts);
        Ok(Client {
            next_request_id: initial_request_id(),
            max_varbinds,
            bulk_bytes_per_varbind: BYTES_PER_VARBIND,
            stats: ClientStats::default(),
            socket,
            opts,
            engine: None,
            next_msg_id: initial_request_id(),
        })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    /// Current varbinds per request (shrinks on `tooBig`).
    pub fn max_varbinds(&self) -> usize {
        self.max_varbinds
    }

    /// Varbinds the next GETBULK round asks for in all: the response
    /// budget over the bytes per varbind this agent's replies took (so a
    /// card that answers with short integers gets fuller rounds), never
    /// more than a `tooBig` left.
    pub fn bulk_varbinds(&self) -> usize {
        let from_bytes = (self.opts.max_pdu_bytes / self.bulk_bytes_per_varbind).max(1);
        let after_too_big = self.max_varbinds < initial_max_varbinds(&self.opts);
        if after_too_big {
            from_bytes.min(self.max_varbinds)
        } else {
            from_bytes
        }
    }

    /// Folds one GETBULK reply (`bytes` for `varbinds`) into the estimate.
    fn learn_bulk_size(&mut self, bytes: u64, varbinds: usize) {
        let Some(per_varbind) = (bytes as usize).checked_div(varbinds) else {
            return;
        };
        let smoothed = (self.bulk_bytes_per_varbind + per_varbind).div_ceil(2);
        self.bulk_bytes_per_varbind = smoothed.max(MIN_BYTES_PER_VARBIND);
    }

    /// SNMPv3: the agent's engine, once discovered.
    pub fn engine(&self) -> Option<EngineInfo> {
        self.engine.as_ref().map(|e| {
            let (boots, time) = e.now();
            EngineInfo {
                id: e.id.clone(),
                boots,
                time,
            }
        })
    }

    /// The PDU rules in use: v1, or v2c (also inside v3 messages).
    fn pdu_version(&self) -> Version {
        if self.opts.usm.is_some() {
            Version::V2c
        } else {
            self.opts.version
        }
    }

    /// GETs `oids`, packing many per PDU. Returns the varbinds that exist,
    /// in request order (absent objects are left out).
    pub async fn get(&mut self, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        let mut found = Vec::with_capacity(oids.len());
        let mut rest = oids;
        while !rest.is_empty() {
            let size = self.max_varbinds.min(rest.len());
            match self.get_batch(&rest[..size]).await? {
                Batch::Done(varbinds) => {
                    found.extend(varbinds);
                    rest = &rest[size..];
                }
                Batch::TooBig => self.shrink(size, rest.first())?,
            }
        }
        Ok(found)
    }

    /// GETs `names`, packing many per PDU: for each, its value, or `None`
    /// where the agent has no such instance (see
    /// [`answers_in_request_order`]). With v2c the requests are written
    /// from the names' bytes and the answers paired with them by bytes;
    /// SNMPv1 (whose `noSuchName` drops a name and resends) and SNMPv3 go
    /// through [`Client::get`].
    pub async fn get_values<N: GetName>(
        &mut self,
        names: &[N],
    ) -> Result<Vec<Option<Value>>, SnmpError> {
        if self.pdu_version() == Version::V1 || self.opts.usm.is_some() {
            let oids: Vec<Oid> = names.iter().map(GetName::oid).collect();
            let answered = self.get(&oids).await?;
            return Ok(answers_in_request_order(&oids, answered));
        }
        let mut values = Vec::with_capacity(names.len());
        let mut rest = names;
        while !rest.is_empty() {
            let size = self.max_varbinds.min(rest.len());
            match self.get_values_batch(&rest[..size]).await? {
                Some(batch) => {
                    values.extend(batch);
                    rest = &rest[size..];
                }
                None => self.shrink(size, rest.first().map(GetName::oid).as_ref())?,
            }
        }
        Ok(values)
    }

    /// One v2c GET of `names`; `None` when the agent says tooBig.
    async fn get_values_batch<N: GetName>(
        &mut self,
        names: &[N],
    ) -> Result<Option<Vec<Option<Value>>>, SnmpError> {
        let (list, spans) = encode_get_list(names);
        let asked: Vec<&[u8]> = spans.into_iter().map(|span| &list[span]).collect();
        let request = PduRef::new(
            PduKind::Get,
            VarbindsRef::Encoded {
                list: &list,
                count: names.len(),
            },
        );
        let reply = self
            .exchange_community(None, request, |head| pair_answers(head, &asked))
            .await?;
        match reply.status {
            ErrorStatus::NoError => Ok(Some(reply.values)),
            ErrorStatus::TooBig => Ok(None),
            // Some cards answer a v2c GET of a cell they lack with v1's
            // noSuchName: `get_batch` drops it and asks for the rest
            // (boxed: a rare path, kept out of every poll's future).
            ErrorStatus::NoSuchName => {
                let oids: Vec<Oid> = names.iter().map(GetName::oid).collect();
                Ok(match Box::pin(self.get_batch(&oids)).await? {
                    Batch::Done(answered) => Some(answers_in_request_order(&oids, answered)),
                    Batch::TooBig => None,
                })
            }
            status => Err(SnmpError::Agent {
                target: self.opts.target,
                status,
                index: reply.index,
                oid: varbind_at(reply.index)
                    .and_then(|i| names.get(i))
                    .map(|n| Box::new(n.oid())),
            }),
        }
    }

    /// One GETNEXT PDU for all `oids` (capability probes): the successor of
    /// each, in request order; successors past the end of the MIB (v2c
    /// endOfMibView, v1 noSuchName) are left out.
    pub async fn get_next(&mut self, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        let mut pending = Cow::Borrowed(oids);
        while !pending.is_empty() {
            let request = PduRef::new(PduKind::GetNext, VarbindsRef::Nulls(&pending));
            let reply = self.exchange(None, request).await?;
            match reply.error_status {
                ErrorStatus::NoError => return Ok(present(reply.varbinds)),
                ErrorStatus::NoSuchName => {
                    let at = self.error_position(&reply, &pending)?;
                    pending.to_mut().remove(at);
                }
                _ => return Err(self.agent_error(&reply, &pending)),
            }
        }
        Ok(Vec::new())
    }

    /// Walks every subtree in `roots` at once and returns the varbinds
    /// inside them, sorted by OID, without duplicates. A root itself is
    /// never returned (GETNEXT starts after it): walk `sysDescr`, not
    /// `sysDescr.0`. Roots inside other roots are walked once.
    pub async fn walk(&mut self, roots: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        Ok(self.walk_map(roots).await?.into_iter().collect())
    }

    /// [`Client::walk`], as a map by OID (what a page decode looks up).
    pub async fn walk_map(&mut self, roots: &[Oid]) -> Result<BTreeMap<Oid, Value>, SnmpError> {
        self.walk_map_sized(roots, None).await
    }

    /// [`Client::walk_map`] of subtrees that held at most `expected`
    /// varbinds each at their last walk. The first GETBULK asks for one
    /// repetition more than that, so a table that did not grow (often an
    /// empty alarm table) ends in that round, and the agent does not fill
    /// the reply with what lies after it; the rounds after the first (a
    /// table that grew) are full-sized.
    pub async fn walk_map_sized(
        &mut self,
        roots: &[Oid],
        expected: Option<usize>,
    ) -> Result<BTreeMap<Oid, Value>, SnmpError> {
        let mut repetitions_cap = expected.map(|most| most + 1);
        let mut walks: Vec<RootWalk> = distinct_roots(roots)
            .into_iter()
            .map(RootWalk::new)
            .collect();
        let mut found = BTreeMap::new();
        loop {
            let active: Vec<usize> = (0..walks.len()).filter(|&i| !walks[i].done).collect();
            let per_round = match self.pdu_version() {
                Version::V2c => self.bulk_varbinds(),
                Version::V1 => self.max_varbinds,
            };
            let Some(chunk) = active.chunks(per_round).next() else {
                break;
            };
            let round = match self.pdu_version() {
                Version::V2c => {
                    let cap = repetitions_cap.take();
                    self.bulk_round(&mut walks, chunk, cap, &mut found).await?
                }
                Version::V1 => self.next_round(&mut walks, chunk, &mut found).await?,
            };
            if let Round::TooBig(asked) = round {
                self.shrink(asked, walks.get(chunk[0]).map(|w| &w.cursor))?;
            }
            if found.len() > WALK_VARBIND_LIMIT {
                return Err(SnmpError::TooManyVarbinds {
                    target: self.opts.target,
                    limit: WALK_VARBIND_LIMIT,
                });
            }
        }
        Ok(found)
    }

    /// Sends one SET with `community` (SNMPv3: as the write user, else the
    /// user; `community` is not used) and returns the agent's varbinds.
    ///
    /// A retransmitted SET may be applied twice by agents that do not
    /// cache replies; set `retries` to 0 for non-idempotent writes.
    pub async fn set(
        &mut self,
        community: &str,
        varbinds: &[VarBind],
    ) -> Result<Vec<VarBind>, SnmpError> {
        let request = PduRef::new(PduKind::Set, VarbindsRef::Values(varbinds));
        let reply = self.exchange(Some(community), request).await?;
        if reply.error_status != ErrorStatus::NoError {
            let oids: Vec<Oid> = varbinds.iter().map(|(oid, _)| oid.clone()).collect();
            return Err(self.agent_error(&reply, &oids));
        }
        Ok(reply.varbinds)
    }

    /// One GET batch; v1 `noSuchName` drops the named varbind and resends
    /// the rest.
    async fn get_batch(&mut self, oids: &[Oid]) -> Result<Batch, SnmpError> {
        let mut pending = Cow::Borrowed(oids);
        while !pending.is_empty() {
            let request = PduRef::new(PduKind::Get, VarbindsRef::Nulls(&pending));
            let reply = self.exchange(None, request).await?;
            match reply.error_status {
                ErrorStatus::NoError => return Ok(Batch::Done(present(reply.varbinds))),
                ErrorStatus::TooBig => return Ok(Batch::TooBig),
                ErrorStatus::NoSuchName => {
                    let at = self.error_position(&reply, &pending)?;
                    debug!(target_addr = %self.opts.target, oid = %pending[at], "noSuchName, dropped");
                    pending.to_mut().remove(at);
                }
                _ => return Err(self.agent_error(&reply, &pending)),
            }
        }
        Ok(Batch::Done(Vec::new()))
    }

    /// One GETBULK for the roots in `chunk` (v2c), of at most
    /// `repetitions_cap` repetitions when given.
    async fn bulk_round(
        &mut self,
        walks: &mut [RootWalk],
        chunk: &[usize],
        repetitions_cap: Option<usize>,
        found: &mut BTreeMap<Oid, Value>,
    ) -> Result<Round, SnmpError> {
        let roots = chunk.len();
        let repetitions = (self.bulk_varbinds() / roots)
            .min(self.opts.max_repetitions as usize)
            .min(repetitions_cap.unwrap_or(usize::MAX))
            .max(1);
        let cursors: Vec<Oid> = chunk.iter().map(|&i| walks[i].cursor.clone()).collect();
        let request = PduRef::get_bulk(0, repetitions as u32, &cursors);
        let received_before = self.stats.bytes_received;
        let reply = self.exchange(None, request).await?;
        // A capped round's headers weigh more per varbind than a full one's.
        if repetitions_cap.is_none() {
            self.learn_bulk_size(
                self.stats.bytes_received - received_before,
                reply.varbinds.len(),
            );
        }
        match reply.error_status {
            ErrorStatus::NoError => {}
            ErrorStatus::TooBig => return Ok(Round::TooBig(roots * repetitions)),
            _ => return Err(self.agent_error(&reply, &cursors)),
        }
        if reply.varbinds.is_empty() {
            return Err(self.protocol_error("empty GETBULK response"));
        }
        // Row order: repetition r holds roots 0..n at r*n..(r+1)*n.
        for (k, (oid, value)) in reply.varbinds.into_iter().enumerate() {
            walks[chunk[k % roots]].accept(oid, value, found);
        }
        Ok(Round::Done)
    }

    /// One GETNEXT for the roots in `chunk` (v1); `noSuchName` ends the
    /// named root and resends the others.
    async fn next_round(
        &mut self,
        walks: &mut [RootWalk],
        chunk: &[usize],
        found: &mut BTreeMap<Oid, Value>,
    ) -> Result<Round, SnmpError> {
        let mut pending = chunk.to_vec();
        while !pending.is_empty() {
            let cursors: Vec<Oid> = pending.iter().map(|&i| walks[i].cursor.clone()).collect();
            let request = PduRef::new(PduKind::GetNext, VarbindsRef::Nulls(&cursors));
            let reply = self.exchange(None, request).await?;
            match reply.error_status {
                ErrorStatus::NoError => {
                    if reply.varbinds.is_empty() {
                        return Err(self.protocol_error("empty GETNEXT response"));
                    }
                    for (&i, (oid, value)) in pending.iter().zip(reply.varbinds) {
                        walks[i].accept(oid, value, found);
                    }
                    return Ok(Round::Done);
                }
                ErrorStatus::NoSuchName => {
                    let at = self.error_position(&reply, &cursors)?;
                    walks[pending[at]].done = true;
                    pending.remove(at);
                }
                ErrorStatus::TooBig => return Ok(Round::TooBig(pending.len())),
                _ => return Err(self.agent_error(&reply, &cursors)),
            }
        }
        Ok(Round::Done)
    }

    /// Halves the batch size after `tooBig` on a request of `asked`
    /// varbinds; a single varbind that is too big is the agent's error.
    fn shrink(&mut self, asked: usize, first: Option<&Oid>) -> Result<(), SnmpError> {
        if asked <= 1 {
            return Err(SnmpError::Agent {
                target: self.opts.target,
                status: ErrorStatus::TooBig,
                index: 0,
                oid: first.cloned().map(Box::new),
            });
        }
        self.max_varbinds = self.max_varbinds.min(asked / 2).max(1);
        debug!(target_addr = %self.opts.target, max_varbinds = self.max_varbinds, "tooBig, batch size halved");
        Ok(())
    }

    /// Sends `pdu` (with a fresh request id) until its reply arrives or
    /// every attempt timed out; `write` is the SET community (`None`: read).
    async fn exchange(
        &mut self,
        write: Option<&str>,
        pdu: PduRef<'_>,
    ) -> Result<CommonPdu, SnmpError> {
        if self.opts.usm.is_some() {
            // Boxed: the v1/v2c exchange's future stays small (a poll's
            // future is inline in every UPS task, see `UpsTask::run_loop`).
            return Box::pin(self.exchange_v3(write.is_some(), pdu.to_owned_pdu())).await;
        }
        self.exchange_community(write, pdu, |head| head.into_common())
            .await
    }

    /// One v1/v2c exchange of `pdu` (with a fresh request id, sent with
    /// the `write` community or the read one); `decode` makes the reply of
    /// the Response accepted.
    async fn exchange_community<R: Reply>(
        &mut self,
        write: Option<&str>,
        pdu: PduRef<'_>,
        mut decode: impl FnMut(PduHead<'_>) -> Result<R, DecodeError>,
    ) -> Result<R, SnmpError> {
        let target = self.opts.target;
        let request_id = self.take_request_id();
        let pdu = PduRef { request_id, ..pdu };
        let community = write.unwrap_or(&self.opts.community).as_bytes();
        let bytes = pdu
            .encode_message(self.opts.version, community)
            .map_err(|source| SnmpError::Encode { target, source })?;
        let bytes = bytes.as_slice();
        let (kind, count) = (pdu.kind, pdu.len());
        let started = Instant::now();
        let attempts = self.opts.retries.saturating_add(1);
        let mut last_undecodable = None;
        for attempt in 1..=attempts {
            self.send(bytes, attempt).await?;
            debug!(target_addr = %target, %kind, request_id, varbinds = count, bytes = bytes.len(), attempt, "SNMP request");
            let sent_at = Instant::now();
            let deadline = sent_at + self.opts.timeout;
            if let Some(reply) = self
                .receive(request_id, deadline, &mut last_undecodable, &mut decode)
                .await?
            {
                let rtt = sent_at.elapsed();
                self.stats.accepted(rtt);
                debug!(target_addr = %target, request_id, ?rtt, status = %reply.status().name(), varbinds = reply.varbinds(), "SNMP response");
                return Ok(reply);
            }
        }
        self.stats.timeouts += 1;
        Err(match last_undecodable {
            Some(source) => SnmpError::Decode { target, source },
            None => SnmpError::Timeout {
                target,
                attempts,
                after: started.elapsed(),
            },
        })
    }

    async fn send(&mut self, bytes: &[u8], attempt: u32) -> Result<(), SnmpError> {
        self.socket
            .send(bytes)
            .await
            .map_err(|source| self.io_error("send", source))?;
        self.stats.requests += 1;
        self.stats.bytes_sent += bytes.len() as u64;
        if attempt > 1 {
            self.stats.retransmissions += 1;
        }
        Ok(())
    }

    /// Hands the next datagram before `deadline` to `accept` (its bytes and
    /// sender) and returns what that made of it with the datagram's size.
    /// A UPS waiting for its agent holds no receive buffer (500 UPSes would
    /// otherwise hold 32 MiB of them): see [`read_waiting_datagram`].
    async fn next_datagram<T>(
        &self,
        deadline: Instant,
        mut accept: impl FnMut(&[u8], SocketAddr) -> T,
    ) -> Result<Option<(usize, T)>, SnmpError> {
        loop {
            // A receive while the socket is not known readable costs no
            // system call (tokio answers WouldBlock from its readiness);
            // ICMP errors (port unreachable) come out of the receive.
            match read_waiting_datagram(&self.socket, &mut accept) {
                Ok(accepted) => return Ok(Some(accepted)),
                Err(source) if source.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(source) => return Err(self.io_error("receive", source)),
            }
            // Waits without a buffer.
            let ready = self.socket.ready(Interest::READABLE | Interest::ERROR);
            match tokio::time::timeout_at(deadline, ready).await {
                Err(_) => return Ok(None),
                Ok(Err(source)) => return Err(self.io_error("receive", source)),
                Ok(Ok(ready)) if ready.is_error() => self.take_socket_error()?,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The error an ICMP message left on the socket (port unreachable),
    /// which makes it ready without a datagram to read.
    fn take_socket_error(&self) -> Result<(), SnmpError> {
        let pending = self.socket.take_error();
        if let Some(source) = pending.unwrap_or_else(Some) {
            return Err(self.io_error("receive", source));
        }
        // Nothing pending after all: forget the readiness, or the wait
        // above would not wait again.
        let forget = || Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock));
        let _ = self.socket.try_io(Interest::ERROR, forget);
        Ok(())
    }

    /// Reads datagrams until the reply to `request_id` or the deadline.
    async fn receive<R>(
        &mut self,
        request_id: i32,
        deadline: Instant,
        last_undecodable: &mut Option<DecodeError>,
        decode: &mut impl FnMut(PduHead<'_>) -> Result<R, DecodeError>,
    ) -> Result<Option<R>, SnmpError> {
        loop {
            let opts = &self.opts;
            let read = self.next_datagram(deadline, |datagram, from| {
                accept_reply(opts, request_id, from, datagram, &mut *decode)
            });
            let Some((size, accepted)) = read.await? else {
                return Ok(None);
            };
            self.stats.bytes_received += size as u64;
            match accepted {
                Ok(reply) => return Ok(Some(reply)),
                Err(why) => {
                    self.stats.discarded += 1;
                    debug!(target_addr = %self.opts.target, %why, "SNMP datagram discarded");
                    if let Discard::Undecodable(err) = why {
                        *last_undecodable = Some(err);
                    }
                }
            }
        }
    }

    fn take_request_id(&mut self) -> i32 {
        let id = self.next_request_id;
        self.next_request_id = if id == i32::MAX { 1 } else { id + 1 };
        id
    }

    fn take_msg_id(&mut self) -> i32 {
        let id = self.next_msg_id;
        self.next_msg_id = if id == i32::MAX { 1 } else { id + 1 };
        id
    }

    /// The 0-based position of the varbind a `noSuchName` names. With one
    /// varbind pending, a missing or bad index can only mean that one.
    fn error_position(&self, reply: &CommonPdu, pending: &[Oid]) -> Result<usize, SnmpError> {
        if pending.len() == 1 {
            return Ok(0);
        }
        varbind_at(reply.error_index)
            .filter(|&i| i < pending.len())
            .ok_or_else(|| self.agent_error(reply, pending))
    }

    fn agent_error(&self, reply: &CommonPdu, requested: &[Oid]) -> SnmpError {
        let oid = varbind_at(reply.error_index)
            .and_then(|i| requested.get(i).cloned())
            .or_else(|| reply.error_varbind().map(|(oid, _)| oid.clone()));
        SnmpError::Agent {
            target: self.opts.target,
            status: reply.error_status,
            index: reply.error_index,
            oid: oid.map(Box::new),
        }
    }

    fn protocol_error(&self, reason: &str) -> SnmpError {
        SnmpError::Protocol {
            target: self.opts.target,
            reason: reason.to_string(),
        }
    }

    fn io_error(&self, action: &'static str, source: io::Error) -> SnmpError {
        SnmpError::Io {
            target: self.opts.target,
            action,
            source,
        }
    }
}

// ------------------------------------------------------------------ SNMPv3

impl Client {
    fn usm(&self) -> &UsmOptions {
        self.opts.usm.as_ref().expect("an SNMPv3 client")
    }

    /// The user of reads, or of SETs.
    fn user_for(&self, write: bool) -> &UsmUser {
        let usm = self.usm();
        match (&usm.write_user, write) {
            (Some(writer), true) => writer,
            _ => &usm.user,
        }
    }

    /// The user's keys for the discovered engine (the write user's are
    /// localised at its first SET, then kept).
    fn keys_for(&mut self, write: bool) -> LocalKeys {
        let writer = self.usm().write_user.clone().filter(|_| write);
        let engine = self.engine.as_mut().expect("engine discovered");
        match writer {
            Some(writer) => engine
                .write
                .get_or_insert_with(|| writer.localize(&engine.id))
                .clone(),
            None => engine.read.clone(),
        }
    }

    fn usm_error(&self, write: bool, problem: UsmProblem) -> SnmpError {
        SnmpError::Usm {
            target: self.opts.target,
            user: self.user_for(write).display_name(),
            problem,
        }
    }

    /// One SNMPv3 exchange: discovery when needed, one resync or
    /// re-discovery when the agent asks for it, diagnostics on silence.
    async fn exchange_v3(
        &mut self,
        write: bool,
        mut pdu: CommonPdu,
    ) -> Result<CommonPdu, SnmpError> {
        let target = self.opts.target;
        pdu.request_id = self.take_request_id();
        let mut recovered = false;
        loop {
            if self.engine.is_none() {
                self.discover().await?;
            }
            let keys = self.keys_for(write);
            let user = self.user_for(write).name().to_vec();
            let context = self.usm().context.as_bytes().to_vec();
            let attempts = self.opts.retries.saturating_add(1);
            match self
                .v3_request(&user, &keys, &context, &pdu, attempts)
                .await?
            {
                V3Reply::Response(reply)
                    if !write && reply.error_status == ErrorStatus::AuthorizationError =>
                {
                    let level = keys.level();
                    return Err(self.usm_error(write, UsmProblem::NotAuthorized { level }));
                }
                V3Reply::Response(reply) => return Ok(reply),
                V3Reply::Report(Some(ReportKind::NotInTimeWindow), _) if !recovered => {
                    recovered = true;
                    self.stats.resyncs += 1;
                    let engine = self.engine();
                    debug!(target_addr = %target, boots = engine.as_ref().map(|e| e.boots), time = engine.as_ref().map(|e| e.time), "SNMPv3 not in time window: boots/time re-synchronised, sending again");
                }
                V3Reply::Report(Some(ReportKind::UnknownEngineId), _) if !recovered => {
                    recovered = true;
                    self.engine = None;
                    debug!(target_addr = %target, "SNMPv3 unknown engine ID: discovering again");
                }
                V3Reply::Report(kind, text) => {
                    let problem = report_problem(kind, text, keys.level(), &self.usm().context);
                    return Err(self.usm_error(write, problem));
                }
                V3Reply::Silent {
                    attempts,
                    after,
                    last_discard,
                } => {
                    if let Some(reason) = last_discard {
                        return Err(SnmpError::Discarded { target, reason });
                    }
                    if let Some(problem) = self.diagnose_silence(&user, &keys, &context).await {
                        return Err(self.usm_error(write, problem));
                    }
                    return Err(SnmpError::Timeout {
                        target,
                        attempts,
                        after,
                    });
                }
            }
        }
    }

    /// Engine discovery (RFC 3414 §4): a noAuthNoPriv GET without varbinds,
    /// engine ID or user; the agent's Report carries its engine ID, boots
    /// and time. The user's keys are localised here, once per engine.
    async fn discover(&mut self) -> Result<(), SnmpError> {
        let target = self.opts.target;
        self.stats.discoveries += 1;
        let scoped = ScopedPdu {
            context_engine_id: Vec::new(),
            context_name: Vec::new(),
            pdu: CommonPdu::new(PduKind::Get, self.take_request_id(), Vec::new()),
        };
        let attempts = self.opts.retries.saturating_add(1);
        let started = Instant::now();
        let mut sent = Vec::new();
        let mut last_discard = None;
        for attempt in 1..=attempts {
            let msg_id = self.take_msg_id();
            sent.push(msg_id);
            let bytes = v3::encode(
                msg_id,
                true,
                &UsmParams::default(),
                &LocalKeys::none(),
                &scoped,
            )
            .map_err(|source| SnmpError::Encode { target, source })?;
            self.send(&bytes, attempt).await?;
            debug!(target_addr = %target, msg_id, attempt, "SNMPv3 engine discovery");
            let sent_at = Instant::now();
            let deadline = sent_at + self.opts.timeout;
            let accepted = self
                .receive_v3(
                    &sent,
                    scoped.pdu.request_id,
                    &LocalKeys::none(),
                    deadline,
                    &mut last_discard,
                )
                .await?;
            if let Some(V3Accepted::Engine(id, boots, time)) = accepted {
                self.stats.accepted(sent_at.elapsed());
                let read = self.usm().user.localize(&id);
                debug!(target_addr = %target, engine_id = %v3::hex(&id), boots, time, "SNMPv3 engine discovered");
                self.engine = Some(Engine {
                    id,
                    boots,
                    time,
                    synced: Instant::now(),
                    read,
                    write: None,
                });
                return Ok(());
            }
        }
        self.stats.timeouts += 1;
        Err(match last_discard {
            Some(reason) => SnmpError::Discarded { target, reason },
            None => SnmpError::Timeout {
                target,
                attempts,
                after: started.elapsed(),
            },
        })
    }

    /// Sends `pdu` as `user` with `keys` until a Response or Report
    /// arrives or every attempt timed out. Each attempt is a new message
    /// (new msgID, current engine time, new salt); a reply to any of them
    /// is accepted.
    async fn v3_request(
        &mut self,
        user: &[u8],
        keys: &LocalKeys,
        context: &[u8],
        pdu: &CommonPdu,
        attempts: u32,
    ) -> Result<V3Reply, SnmpError> {
        let target = self.opts.target;
        let started = Instant::now();
        let mut sent = Vec::new();
        let mut last_discard = None;
        for attempt in 1..=attempts {
            let engine = self.engine.as_ref().expect("engine discovered");
            let (boots, time) = engine.now();
            let usm = UsmParams {
                engine_id: engine.id.clone(),
                boots,
                time,
                user: user.to_vec(),
            };
            let scoped = ScopedPdu {
                context_engine_id: engine.id.clone(),
                context_name: context.to_vec(),
                pdu: pdu.clone(),
            };
            let msg_id = self.take_msg_id();
            sent.push(msg_id);
            let bytes = v3::encode(msg_id, true, &usm, keys, &scoped)
                .map_err(|source| SnmpError::Encode { target, source })?;
            self.send(&bytes, attempt).await?;
            debug!(target_addr = %target, kind = %pdu.kind, request_id = pdu.request_id, msg_id, level = %keys.level(), varbinds = pdu.varbinds.len(), bytes = bytes.len(), attempt, "SNMPv3 request");
            let sent_at = Instant::now();
            let deadline = sent_at + self.opts.timeout;
            if let Some(accepted) = self
                .receive_v3(&sent, pdu.request_id, keys, deadline, &mut last_discard)
                .await?
            {
                let rtt = sent_at.elapsed();
                self.stats.accepted(rtt);
                return Ok(match accepted {
                    V3Accepted::Response(reply) => {
                        debug!(target_addr = %target, request_id = reply.request_id, ?rtt, status = %reply.error_status.name(), varbinds = reply.varbinds.len(), "SNMPv3 response");
                        V3Reply::Response(reply)
                    }
                    V3Accepted::Report(kind, text) => {
                        debug!(target_addr = %target, report = %text, "SNMPv3 report");
                        V3Reply::Report(kind, text)
                    }
                    V3Accepted::Engine(..) => {
                        V3Reply::Report(None, "an unexpected discovery reply".into())
                    }
                });
            }
        }
        self.stats.timeouts += 1;
        Ok(V3Reply::Silent {
            attempts,
            after: started.elapsed(),
            last_discard,
        })
    }

    /// Reads datagrams until an acceptable SNMPv3 reply or the deadline.
    async fn receive_v3(
        &mut self,
        sent: &[i32],
        request_id: i32,
        keys: &LocalKeys,
        deadline: Instant,
        last_discard: &mut Option<String>,
    ) -> Result<Option<V3Accepted>, SnmpError> {
        loop {
            let check = V3Check {
                target: self.opts.target,
                sent,
                request_id,
                keys,
                engine: self.engine.as_ref(),
            };
            let read = self.next_datagram(deadline, |datagram, from| check.accept(from, datagram));
            let Some((size, accepted)) = read.await? else {
                return Ok(None);
            };
            self.stats.bytes_received += size as u64;
            match accepted {
                Ok((accepted, update)) => {
                    if let (Some((boots, time)), Some(engine)) = (update, self.engine.as_mut()) {
                        engine.set_time(boots, time);
                    }
                    return Ok(Some(accepted));
                }
                Err(why) => {
                    self.stats.discarded += 1;
                    debug!(target_addr = %self.opts.target, %why, "SNMPv3 datagram discarded");
                    if matches!(why, Discard::V3(_) | Discard::Insecure(_)) {
                        *last_discard = Some(why.to_string());
                    }
                }
            }
        }
    }

    /// After an authenticated request went unanswered: does the agent
    /// answer without privacy (then it dropped what it could not decrypt),
    /// or in the default context (then the context is unknown)?
    async fn diagnose_silence(
        &mut self,
        user: &[u8],
        keys: &LocalKeys,
        context: &[u8],
    ) -> Option<UsmProblem> {
        let plain = keys.without_privacy();
        if keys.level() == SecurityLevel::AuthPriv && self.v3_answers(user, &plain, context).await {
            return Some(UsmProblem::SilentDecryptionError);
        }
        if !context.is_empty() && self.v3_answers(user, &plain, b"").await {
            let context = String::from_utf8_lossy(context).into_owned();
            return Some(UsmProblem::UnknownContext(context));
        }
        None
    }

    /// One attempt of an empty GET: true if the agent answered at all.
    async fn v3_answers(&mut self, user: &[u8], keys: &LocalKeys, context: &[u8]) -> bool {
        let probe = CommonPdu::new(PduKind::Get, self.take_request_id(), Vec::new());
        debug!(target_addr = %self.opts.target, level = %keys.level(), context = %String::from_utf8_lossy(context), "SNMPv3 diagnostic probe");
        matches!(
            self.v3_request(user, keys, context, &probe, 1).await,
            Ok(V3Reply::Response(_) | V3Reply::Report(..))
        )
    }
}

/// The problem a Report names.
fn report_problem(
    kind: Option<ReportKind>,
    text: String,
    level: SecurityLevel,
    context: &str,
) -> UsmProblem {
    match kind {
        Some(ReportKind::UnknownUserName) => UsmProblem::UnknownUser,
        Some(ReportKind::WrongDigest) => UsmProblem::WrongDigest,
        Some(ReportKind::DecryptionError) => UsmProblem::DecryptionError,
        Some(ReportKind::NotInTimeWindow) => UsmProblem::NotInTimeWindow,
        Some(ReportKind::UnsupportedSecLevel) => UsmProblem::UnsupportedSecLevel { level },
        Some(ReportKind::UnknownEngineId) => UsmProblem::UnknownEngineId,
        Some(kind @ (ReportKind::UnknownContext | ReportKind::UnavailableContext)) => {
            UsmProblem::Context(kind, context.to_string())
        }
        _ => UsmProblem::Report(text),
    }
}

/// What a reply to an SNMPv3 request must match.
struct V3Check<'a> {
    target: SocketAddr,
    /// msgIDs of the attempts so far.
    sent: &'a [i32],
    request_id: i32,
    keys: &'a LocalKeys,
    /// `None` while discovering.
    engine: Option<&'a Engine>,
}

impl V3Check<'_> {
    /// Accepts a datagram (with the engine boots/time it authenticates),
    /// or says why not. Nothing of an authenticated message is decoded
    /// before its MAC checks out.
    fn accept(
        &self,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<(V3Accepted, Option<(u32, u32)>), Discard> {
        if from != self.target {
            return Err(Discard::Foreign(from));
        }
        let incoming = Incoming::parse(datagram).map_err(Discard::V3)?;
        if !self.sent.contains(&incoming.msg_id) {
            return Err(Discard::Stale(incoming.msg_id));
        }
        let usm = &incoming.usm;
        let Some(engine) = self.engine else {
            if usm.engine_id.is_empty() {
                return Err(Discard::Insecure("discovery reply without an engine ID"));
            }
            return Ok((
                V3Accepted::Engine(usm.engine_id.clone(), usm.boots, usm.time),
                None,
            ));
        };
        let authentic = incoming.is_authenticated();
        if authentic {
            if self.keys.level() == SecurityLevel::NoAuthNoPriv {
                return Err(Discard::Insecure(
                    "authenticated reply to an unauthenticated request",
                ));
            }
            if usm.engine_id != engine.id {
                return Err(Discard::Insecure("reply from another engine ID"));
            }
            incoming
                .verify(self.keys)
                .map_err(|_| Discard::Insecure("reply failed authentication (wrong digest)"))?;
        }
        let scoped = incoming.scoped_pdu(self.keys).map_err(Discard::V3)?;
        let pdu = scoped.pdu;
        match pdu.kind {
            PduKind::Report => {
                let kind = ReportKind::of(&pdu);
                let text = match (kind, pdu.varbinds.first()) {
                    (Some(kind), _) => kind.name().to_string(),
                    (None, Some((oid, value))) => format!("{oid} = {value:?}"),
                    (None, None) => "an empty Report".to_string(),
                };
                // An authentic Report tells the agent's boots/time, whatever
                // they are (a reboot may have reset them).
                let update = authentic.then_some((usm.boots, usm.time));
                Ok((V3Accepted::Report(kind, text), update))
            }
            PduKind::Response => {
                if incoming.level() != self.keys.level() {
                    return Err(Discard::Insecure(
                        "reply at another security level than the request",
                    ));
                }
                if pdu.request_id != self.request_id {
                    return Err(Discard::Stale(pdu.request_id));
                }
                let mut update = None;
                if authentic {
                    // RFC 3414 §3.2.7.b, as the non-authoritative side.
                    let newer = usm.boots > engine.boots
                        || (usm.boots == engine.boots && usm.time > engine.time);
                    let outside = usm.boots == v3::MAX_ENGINE_VALUE
                        || usm.boots < engine.boots
                        || (usm.boots == engine.boots
                            && usm.time.saturating_add(v3::TIME_WINDOW) < engine.time);
                    if outside {
                        return Err(Discard::Insecure("reply outside the time window"));
                    }
                    update = newer.then_some((usm.boots, usm.time));
                }
                Ok((V3Accepted::Response(pdu), update))
            }
            _ => Err(Discard::Unexpected("not a Response or Report PDU")),
        }
    }
}

impl RootWalk {
    fn new(root: Oid) -> RootWalk {
        RootWalk {
            cursor: root.clone(),
            root,
            done: false,
        }
    }

    /// Takes one GETNEXT/GETBULK result for this root: records it and
    /// moves on, or finishes the root (left the subtree, end of MIB, or an
    /// OID that does not increase).
    fn accept(&mut self, oid: Oid, value: Value, found: &mut BTreeMap<Oid, Value>) {
        if self.done {
            return;
        }
        let exception = matches!(
            value,
            Value::EndOfMibView | Value::NoSuchObject | Value::NoSuchInstance
        );
        if exception || !oid.starts_with(&self.root) {
            self.done = true;
            return;
        }
        if oid <= self.cursor {
            warn!(root = %self.root, after = %self.cursor, got = %oid, "agent returned a non-increasing OID, root ended");
            self.done = true;
            return;
        }
        self.cursor = oid.clone();
        found.insert(oid, value);
    }
}

/// Checks an incoming datagram against the exchange in progress.
/// The reply `decode` makes of `datagram` if it is the Response to
/// `request_id` from the target.
fn accept_reply<R>(
    opts: &ClientOptions,
    request_id: i32,
    from: SocketAddr,
    datagram: &[u8],
    decode: impl FnOnce(PduHead<'_>) -> Result<R, DecodeError>,
) -> Result<R, Discard> {
    if from != opts.target {
        return Err(Discard::Foreign(from));
    }
    let (version, head) = Message::decode_head(datagram).map_err(Discard::Undecodable)?;
    if version != opts.version {
        return Err(Discard::Unexpected("reply in another SNMP version"));
    }
    let Some(kind) = head.kind else {
        return Err(Discard::Unexpected("v1 trap on the request socket"));
    };
    if kind != PduKind::Response {
        return Err(Discard::Unexpected("not a Response PDU"));
    }
    if head.request_id != request_id {
        return Err(Discard::Stale(head.request_id));
    }
    decode(head).map_err(Discard::Undecodable)
}

/// The varbind list (contents of its SEQUENCE) of a GET of `names`, and
/// where each name's OID content lies in it (what the answers are paired
/// with).
fn encode_get_list<N: GetName>(names: &[N]) -> (Vec<u8>, Vec<std::ops::Range<usize>>) {
    // A PowerNet cell's varbind is 21 bytes: no growth on the way.
    let mut list = Vec::with_capacity(names.len() * 24);
    let mut spans = Vec::with_capacity(names.len());
    for name in names {
        let start = list.len();
        // SEQUENCE { name, NULL } with both lengths in one byte, patched
        // in place: every name a UPS reads is far shorter than the 123
        // content bytes that allows.
        list.extend_from_slice(&[tag::SEQUENCE, 0, tag::OBJECT_IDENTIFIER, 0]);
        name.push_content(&mut list);
        let content = list.len() - start - 4;
        if content + 4 < 0x80 {
            list[start + 1] = (content + 4) as u8;
            list[start + 3] = content as u8;
            list.extend_from_slice(&[tag::NULL, 0]);
            spans.push(start + 4..start + 4 + content);
        } else {
            list.truncate(start);
            spans.push(push_long_get_varbind(&mut list, name));
        }
    }
    (list, spans)
}

/// Appends the varbind of a name too long for one-byte lengths; returns
/// where the name's content lies.
fn push_long_get_varbind<N: GetName>(list: &mut Vec<u8>, name: &N) -> std::ops::Range<usize> {
    let mut content_len = 0;
    ber::push_constructed(list, tag::SEQUENCE, |varbind| {
        ber::push_constructed(varbind, tag::OBJECT_IDENTIFIER, |oid| {
            let before = oid.len();
            name.push_content(oid);
            content_len = oid.len() - before;
        });
        ber::push_empty(varbind, tag::NULL);
    });
    // The varbind ends with the name's content and the NULL after it
    // (its tag and zero length).
    let end = list.len() - 2;
    end - content_len..end
}

/// A GET's Response paired with the names asked (their BER contents).
fn pair_answers(head: PduHead<'_>, asked: &[&[u8]]) -> Result<NamedAnswers, DecodeError> {
    let mut answers = NamedAnswers {
        status: head.error_status,
        index: head.error_index,
        values: Vec::new(),
    };
    if head.error_status == ErrorStatus::NoError {
        // Paired as they are decoded: no list of the answers in between.
        let mut undecodable = None;
        let answered = message::varbinds(head.list)
            .map_while(|varbind| varbind.map_err(|e| undecodable = Some(e)).ok());
        answers.values = answers_in_request_order(asked, answered);
        if let Some(error) = undecodable {
            return Err(error);
        }
    }
    Ok(answers)
}

/// The 0-based place of the varbind an error-index names (1-based; 0
/// names none).
fn varbind_at(error_index: u32) -> Option<usize> {
    usize::try_from(error_index).ok()?.checked_sub(1)
}

/// Sorted roots without duplicates or roots inside other roots.
fn distinct_roots(roots: &[Oid]) -> Vec<Oid> {
    let mut sorted = roots.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut distinct: Vec<Oid> = Vec::with_capacity(sorted.len());
    for root in sorted {
        // Sorted order puts a prefix right before the roots inside it.
        if distinct.last().is_none_or(|last| !root.starts_with(last)) {
            distinct.push(root);
        }
    }
    distinct
}

/// GET results without the v2c exceptions.
fn present(varbinds: Vec<VarBind>) -> Vec<VarBind> {
    varbinds
        .into_iter()
        .filter(|(_, value)| !value.is_exception())
        .collect()
}

/// A UDP socket on an ephemeral port of the target's family, connected.
fn connected_socket(target: SocketAddr) -> io::Result<UdpSocket> {
    tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let local: SocketAddr = match target {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = std::net::UdpSocket::bind(local)?;
    socket.connect(target)?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

/// A starting request id that differs between runs, so an agent that
/// caches replies by id does not answer a new process from its cache.
fn initial_request_id() -> i32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    ((nanos & 0x3fff_ffff) as i32).max(1)
}

#[cfg(test)]
mod tests;
