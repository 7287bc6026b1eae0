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

use crate::oid::Oid;
use crate::snmp::Version;
use crate::snmp::ber::EncodeError;
use crate::snmp::message::{CommonPdu, DecodeError, ErrorStatus, Message, Pdu, PduKind};
use crate::snmp::value::{Value, VarBind};
use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
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

/// Largest UDP payload.
const RECV_BUFFER: usize = 65_535;

/// How to reach one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    pub target: SocketAddr,
    pub version: Version,
    /// Read community, used by GET and walks.
    pub community: String,
    /// How long one attempt waits for its reply.
    pub timeout: Duration,
    /// Retransmissions after the first attempt.
    pub retries: u32,
    /// Response size budget, used to size requests (default 1400: one
    /// Ethernet frame, which embedded UPS cards handle best).
    pub max_pdu_bytes: usize,
    /// GETBULK max-repetitions ceiling (default 25).
    pub max_repetitions: u32,
}

impl ClientOptions {
    /// v2c, community "public", 1 s timeout, 2 retries, 1400 bytes, 25
    /// repetitions.
    pub fn new(target: SocketAddr) -> ClientOptions {
        ClientOptions {
            target,
            version: Version::V2c,
            community: "public".to_string(),
            timeout: Duration::from_secs(1),
            retries: 2,
            max_pdu_bytes: 1400,
            max_repetitions: 25,
        }
    }
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
        /// The requested varbind at `index`.
        oid: Option<Oid>,
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
}

fn describe_oid(oid: &Option<Oid>) -> String {
    oid.as_ref().map(|o| format!(" ({o})")).unwrap_or_default()
}

/// An SNMP manager for one target.
#[derive(Debug)]
pub struct Client {
    opts: ClientOptions,
    socket: UdpSocket,
    next_request_id: i32,
    max_varbinds: usize,
    stats: ClientStats,
    buf: Vec<u8>,
}

/// Why a received datagram was not the reply we wait for.
enum Discard {
    Foreign(SocketAddr),
    Undecodable(DecodeError),
    Unexpected(&'static str),
    Stale(i32),
}

impl std::fmt::Display for Discard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Discard::Foreign(from) => write!(f, "from foreign address {from}"),
            Discard::Undecodable(err) => write!(f, "undecodable: {err}"),
            Discard::Unexpected(what) => f.write_str(what),
            Discard::Stale(id) => write!(f, "stale request id {id}"),
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

impl Client {
    /// Binds a socket for `opts.target`. Needs a tokio runtime with IO.
    pub fn new(opts: ClientOptions) -> Result<Client, SnmpError> {
        let socket = connected_socket(opts.target).map_err(|source| SnmpError::Io {
            target: opts.target,
            action: "open UDP socket",
            source,
        })?;
        let max_varbinds = (opts.max_pdu_bytes / BYTES_PER_VARBIND).max(1);
        Ok(Client {
            next_request_id: initial_request_id(),
            max_varbinds,
            stats: ClientStats::default(),
            buf: vec![0; RECV_BUFFER],
            socket,
            opts,
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

    /// One GETNEXT PDU for all `oids` (capability probes): the successor of
    /// each, in request order; successors past the end of the MIB (v2c
    /// endOfMibView, v1 noSuchName) are left out.
    pub async fn get_next(&mut self, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        let mut pending = oids.to_vec();
        while !pending.is_empty() {
            let request = CommonPdu::new(PduKind::GetNext, 0, null_varbinds(&pending));
            let reply = self.exchange(self.read_community(), request).await?;
            match reply.error_status {
                ErrorStatus::NoError => return Ok(present(reply.varbinds)),
                ErrorStatus::NoSuchName => {
                    let at = self.error_position(&reply, &pending)?;
                    pending.remove(at);
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
        let mut walks: Vec<RootWalk> = distinct_roots(roots)
            .into_iter()
            .map(RootWalk::new)
            .collect();
        let mut found = BTreeMap::new();
        loop {
            let active: Vec<usize> = (0..walks.len()).filter(|&i| !walks[i].done).collect();
            let Some(chunk) = active.chunks(self.max_varbinds).next() else {
                break;
            };
            let round = match self.opts.version {
                Version::V2c => self.bulk_round(&mut walks, chunk, &mut found).await?,
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
        Ok(found.into_iter().collect())
    }

    /// Sends one SET with `community` and returns the agent's varbinds.
    ///
    /// A retransmitted SET may be applied twice by agents that do not
    /// cache replies; set `retries` to 0 for non-idempotent writes.
    pub async fn set(
        &mut self,
        community: &str,
        varbinds: &[VarBind],
    ) -> Result<Vec<VarBind>, SnmpError> {
        let request = CommonPdu::new(PduKind::Set, 0, varbinds.to_vec());
        let reply = self
            .exchange(community.as_bytes().to_vec(), request)
            .await?;
        if reply.error_status != ErrorStatus::NoError {
            let oids: Vec<Oid> = varbinds.iter().map(|(oid, _)| oid.clone()).collect();
            return Err(self.agent_error(&reply, &oids));
        }
        Ok(reply.varbinds)
    }

    /// One GET batch; v1 `noSuchName` drops the named varbind and resends
    /// the rest.
    async fn get_batch(&mut self, oids: &[Oid]) -> Result<Batch, SnmpError> {
        let mut pending = oids.to_vec();
        while !pending.is_empty() {
            let request = CommonPdu::new(PduKind::Get, 0, null_varbinds(&pending));
            let reply = self.exchange(self.read_community(), request).await?;
            match reply.error_status {
                ErrorStatus::NoError => return Ok(Batch::Done(present(reply.varbinds))),
                ErrorStatus::TooBig => return Ok(Batch::TooBig),
                ErrorStatus::NoSuchName => {
                    let at = self.error_position(&reply, &pending)?;
                    debug!(target_addr = %self.opts.target, oid = %pending[at], "noSuchName, dropped");
                    pending.remove(at);
                }
                _ => return Err(self.agent_error(&reply, &pending)),
            }
        }
        Ok(Batch::Done(Vec::new()))
    }

    /// One GETBULK for the roots in `chunk` (v2c).
    async fn bulk_round(
        &mut self,
        walks: &mut [RootWalk],
        chunk: &[usize],
        found: &mut BTreeMap<Oid, Value>,
    ) -> Result<Round, SnmpError> {
        let roots = chunk.len();
        let repetitions = (self.max_varbinds / roots)
            .min(self.opts.max_repetitions as usize)
            .max(1);
        let cursors: Vec<Oid> = chunk.iter().map(|&i| walks[i].cursor.clone()).collect();
        let request = CommonPdu::get_bulk(0, 0, repetitions as u32, null_varbinds(&cursors));
        let reply = self.exchange(self.read_community(), request).await?;
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
            let request = CommonPdu::new(PduKind::GetNext, 0, null_varbinds(&cursors));
            let reply = self.exchange(self.read_community(), request).await?;
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
                oid: first.cloned(),
            });
        }
        self.max_varbinds = self.max_varbinds.min(asked / 2).max(1);
        debug!(target_addr = %self.opts.target, max_varbinds = self.max_varbinds, "tooBig, batch size halved");
        Ok(())
    }

    /// Sends `pdu` (with a fresh request id) until its reply arrives or
    /// every attempt timed out.
    async fn exchange(
        &mut self,
        community: Vec<u8>,
        mut pdu: CommonPdu,
    ) -> Result<CommonPdu, SnmpError> {
        let target = self.opts.target;
        let request_id = self.take_request_id();
        pdu.request_id = request_id;
        let (kind, count) = (pdu.kind, pdu.varbinds.len());
        let bytes = Message::new(self.opts.version, community, pdu)
            .try_encode()
            .map_err(|source| SnmpError::Encode { target, source })?;
        let started = Instant::now();
        let attempts = self.opts.retries.saturating_add(1);
        let mut last_undecodable = None;
        for attempt in 1..=attempts {
            self.send(&bytes, attempt).await?;
            debug!(target_addr = %target, %kind, request_id, varbinds = count, bytes = bytes.len(), attempt, "SNMP request");
            let sent_at = Instant::now();
            let deadline = sent_at + self.opts.timeout;
            if let Some(reply) = self
                .receive(request_id, deadline, &mut last_undecodable)
                .await?
            {
                let rtt = sent_at.elapsed();
                self.stats.responses += 1;
                self.stats.last_rtt = Some(rtt);
                debug!(target_addr = %target, request_id, ?rtt, status = %reply.error_status.name(), varbinds = reply.varbinds.len(), "SNMP response");
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

    /// Reads datagrams until the reply to `request_id` or the deadline.
    async fn receive(
        &mut self,
        request_id: i32,
        deadline: Instant,
        last_undecodable: &mut Option<DecodeError>,
    ) -> Result<Option<CommonPdu>, SnmpError> {
        loop {
            let received =
                tokio::time::timeout_at(deadline, self.socket.recv_from(&mut self.buf)).await;
            let Ok(received) = received else {
                return Ok(None);
            };
            let (len, from) = received.map_err(|source| self.io_error("receive", source))?;
            self.stats.bytes_received += len as u64;
            let datagram = self.buf.get(..len).unwrap_or_default();
            match accept_reply(&self.opts, request_id, from, datagram) {
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

    fn read_community(&self) -> Vec<u8> {
        self.opts.community.as_bytes().to_vec()
    }

    /// The 0-based position of the varbind a `noSuchName` names. With one
    /// varbind pending, a missing or bad index can only mean that one.
    fn error_position(&self, reply: &CommonPdu, pending: &[Oid]) -> Result<usize, SnmpError> {
        if pending.len() == 1 {
            return Ok(0);
        }
        usize::try_from(reply.error_index)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .filter(|&i| i < pending.len())
            .ok_or_else(|| self.agent_error(reply, pending))
    }

    fn agent_error(&self, reply: &CommonPdu, requested: &[Oid]) -> SnmpError {
        let at = usize::try_from(reply.error_index)
            .ok()
            .and_then(|i| i.checked_sub(1));
        let oid = at
            .and_then(|i| requested.get(i).cloned())
            .or_else(|| reply.error_varbind().map(|(oid, _)| oid.clone()));
        SnmpError::Agent {
            target: self.opts.target,
            status: reply.error_status,
            index: reply.error_index,
            oid,
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
fn accept_reply(
    opts: &ClientOptions,
    request_id: i32,
    from: SocketAddr,
    datagram: &[u8],
) -> Result<CommonPdu, Discard> {
    if from != opts.target {
        return Err(Discard::Foreign(from));
    }
    let Message { version, pdu, .. } = Message::decode(datagram).map_err(Discard::Undecodable)?;
    if version != opts.version {
        return Err(Discard::Unexpected("reply in another SNMP version"));
    }
    let Pdu::Common(pdu) = pdu else {
        return Err(Discard::Unexpected("v1 trap on the request socket"));
    };
    if pdu.kind != PduKind::Response {
        return Err(Discard::Unexpected("not a Response PDU"));
    }
    if pdu.request_id != request_id {
        return Err(Discard::Stale(pdu.request_id));
    }
    Ok(pdu)
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

fn null_varbinds(oids: &[Oid]) -> Vec<VarBind> {
    oids.iter().map(|oid| (oid.clone(), Value::Null)).collect()
}

/// GET results without the v2c exceptions.
fn present(varbinds: Vec<VarBind>) -> Vec<VarBind> {
    varbinds
        .into_iter()
        .filter(|(_, value)| {
            !matches!(
                value,
                Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView
            )
        })
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
