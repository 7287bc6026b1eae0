//! The NUT server: TCP listeners, one task per client connection, and the
//! answers to every request of the protocol.
//!
//! This module owns the sessions (USERNAME, PASSWORD, LOGIN, tracking),
//! upsd.users-style access checks, the FSD latch, NUMLOGINS and the client
//! list, tracking ids, and its counters. It reads each UPS from the
//! [`Hub`] and hands `SET VAR` / `INSTCMD` to the UPS task as a
//! [`Request`], so the safety policy and the MQTT audit apply as on MQTT.
//! A client that never reads blocks only itself: answers are written with
//! a timeout, and each connection is its own task.

use super::line::{self, MAX_LINE};
use super::vars::{self, Var};
use crate::command::{Action, Outcome, Request, Via};
use crate::config::{NutAction, NutConfig, NutUserConfig, UpsmonRole};
use crate::hub::{Hub, UpsState};
use crate::messages::{FailureKind, NutCounters};
use crate::mib::Legal;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::{debug, info, warn};

/// NUT's network protocol version spoken here.
pub const PROTOCOL_VERSION: &str = "1.3";
/// How long an answer may wait for a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `SET VAR` / `INSTCMD` without tracking wait for the outcome.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a client may take for its TLS handshake after `OK STARTTLS`.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Tracking results kept for `GET TRACKING <id>`, oldest dropped first.
const TRACKING_KEPT: usize = 1024;

/// The server's counters (the bridge health topic's `nut`) and how many
/// clients are connected now (metrics).
#[derive(Debug, Default)]
pub struct NutStats {
    pub connections: AtomicU64,
    /// Connections being served now (a gauge).
    pub connected: AtomicU64,
    /// Connections closed at accept: `max_connections` reached.
    pub refused: AtomicU64,
    /// Requests that were not a known command or could not be parsed.
    pub bad_requests: AtomicU64,
    /// Access checks failed on an unknown user or a wrong password.
    pub failed_logins: AtomicU64,
    pub commands: AtomicU64,
    /// Connections switched to TLS by `STARTTLS`.
    pub tls: AtomicU64,
    /// TLS handshakes after `OK STARTTLS` that failed or timed out.
    pub tls_failed: AtomicU64,
}

impl NutStats {
    pub fn counters(&self) -> NutCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        NutCounters {
            connections: get(&self.connections),
            refused: get(&self.refused),
            bad_requests: get(&self.bad_requests),
            failed_logins: get(&self.failed_logins),
            commands: get(&self.commands),
            tls: get(&self.tls),
            tls_failed: get(&self.tls_failed),
        }
    }

    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The NUT server of a gateway.
pub struct NutServer;

impl NutServer {
    /// Binds every `nut.listen` address and spawns the server into
    /// `tasks`; it stops when `stop` turns true.
    pub async fn start(
        config: &NutConfig,
        hub: Hub,
        stop: watch::Receiver<bool>,
        tasks: &mut JoinSet<()>,
    ) -> anyhow::Result<Arc<NutStats>> {
        let stats = Arc::new(NutStats::default());
        let tls = match &config.tls {
            Some(tls) => {
                Some(super::tls::acceptor(tls).map_err(|e| anyhow::anyhow!("{}: {e}", e.key()))?)
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            hub,
            users: config.users.clone(),
            idle: Duration::from_secs(config.idle_timeout),
            state: Mutex::new(ServerState::default()),
            tracking: TrackingTable::default(),
            stats: stats.clone(),
            tls,
        });
        let slots = Arc::new(Semaphore::new(config.max_connections));
        for address in &config.listen {
            let listener = TcpListener::bind(address)
                .await
                .map_err(|e| anyhow::anyhow!("nut.listen: cannot bind {address}: {e}"))?;
            info!(%address, "NUT server listening");
            tasks.spawn(accept(
                listener,
                shared.clone(),
                slots.clone(),
                stop.clone(),
            ));
        }
        for id in shared.hub.ids().map(str::to_string).collect::<Vec<_>>() {
            tasks.spawn(release_fsd_on_return(shared.clone(), id, stop.clone()));
        }
        Ok(stats)
    }
}

struct Shared {
    hub: Hub,
    users: Vec<NutUserConfig>,
    idle: Duration,
    state: Mutex<ServerState>,
    tracking: TrackingTable,
    stats: Arc<NutStats>,
    /// Set when `[nut.tls]` is: `STARTTLS` is then answered.
    tls: Option<TlsAcceptor>,
}

#[derive(Default)]
struct ServerState {
    next_client: u64,
    /// Logged-in clients: connection → (UPS, address).
    logins: BTreeMap<u64, (String, SocketAddr)>,
    /// UPSes with the FSD flag set → whether the UPS was seen off mains
    /// since.
    fsd: BTreeMap<String, bool>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// FSD is a latch, as in upsd; unlike upsd (which must be restarted), it
/// is released when the UPS is back on mains after having been off it, so
/// a gateway that outlives an outage does not shut its clients down at the
/// next one's first second.
async fn release_fsd_on_return(shared: Arc<Shared>, id: String, mut stop: watch::Receiver<bool>) {
    let Some(mut states) = shared.hub.watch(&id) else {
        return;
    };
    loop {
        tokio::select! {
            changed = states.changed() => if changed.is_err() { return },
            _ = stop.changed() => return,
        }
        let online = states.borrow().model.status().contains(&"OL");
        let mut state = shared.state();
        if let Some(seen_off) = state.fsd.get_mut(&id) {
            if !online {
                *seen_off = true;
            } else if *seen_off {
                state.fsd.remove(&id);
                info!(ups = %id, "FSD released: the UPS is back on mains");
            }
        }
    }
}

async fn accept(
    listener: TcpListener,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let (stream, address) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                warn!(%error, "NUT accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        NutStats::bump(&shared.stats.connections);
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            NutStats::bump(&shared.stats.refused);
            warn!(%address, "NUT connection refused: nut.max_connections reached");
            continue;
        };
        let shared = shared.clone();
        let stop = stop.clone();
        shared.stats.connected.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            serve(stream, address, &shared, stop).await;
            shared.stats.connected.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}

async fn serve(
    stream: TcpStream,
    address: SocketAddr,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let id = {
        let mut state = shared.state();
        state.next_client += 1;
        state.next_client
    };
    let mut session = Session::new(id, address);
    debug!(%address, "NUT client connected");
    let mut plain = BufReader::new(stream);
    let ended = converse(&mut plain, &mut session, shared, &mut stop).await;
    if let (Ended::StartTls, Some(acceptor)) = (ended, &shared.tls) {
        if let Some(tls) = start_tls(plain, acceptor, address, &shared.stats).await {
            let mut secure = BufReader::new(tls);
            converse(&mut secure, &mut session, shared, &mut stop).await;
            let _ = tokio::time::timeout(WRITE_TIMEOUT, secure.get_mut().shutdown()).await;
        }
    }
    shared.state().logins.remove(&id);
    debug!(%address, "NUT client gone");
}

/// How a conversation on one transport ended.
enum Ended {
    Closed,
    /// `OK STARTTLS` was sent: the client's TLS handshake comes next.
    StartTls,
}

/// Answers request lines on `stream` until the client leaves, the server
/// stops, or the client asks for TLS.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    session: &mut Session,
    shared: &Shared,
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    let mut buf = Vec::new();
    loop {
        let read = tokio::select! {
            read = tokio::time::timeout(shared.idle, read_line(stream, &mut buf)) => read,
            _ = stop.changed() => return Ended::Closed,
        };
        let answer = match read {
            Err(_) | Ok(Err(_)) | Ok(Ok(Read::Eof)) => return Ended::Closed,
            Ok(Ok(Read::TooLong)) => {
                NutStats::bump(&shared.stats.bad_requests);
                err("INVALID-ARGUMENT")
            }
            Ok(Ok(Read::Line)) => session.answer(shared, &buf).await,
        };
        let write = async {
            let stream = stream.get_mut();
            stream.write_all(answer.as_bytes()).await?;
            stream.flush().await
        };
        let written = tokio::time::timeout(WRITE_TIMEOUT, write).await;
        if !matches!(written, Ok(Ok(()))) || session.closing {
            return Ended::Closed;
        }
        if session.tls == TlsState::Starting {
            session.tls = TlsState::On;
            return Ended::StartTls;
        }
    }
}

/// The TLS handshake after `OK STARTTLS`, on the same connection.
async fn start_tls(
    plain: BufReader<TcpStream>,
    acceptor: &TlsAcceptor,
    address: SocketAddr,
    stats: &NutStats,
) -> Option<TlsStream<TcpStream>> {
    // The client speaks TLS only once it has read `OK STARTTLS`: bytes
    // already buffered would be lost in the handshake.
    if !plain.buffer().is_empty() {
        NutStats::bump(&stats.tls_failed);
        warn!(%address, "NUT client sent a request before its TLS handshake: closed");
        return None;
    }
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(plain.into_inner())).await {
        Ok(Ok(tls)) => {
            NutStats::bump(&stats.tls);
            debug!(%address, "NUT client switched to TLS");
            Some(tls)
        }
        Ok(Err(error)) => {
            NutStats::bump(&stats.tls_failed);
            warn!(%address, %error, "NUT TLS handshake failed");
            None
        }
        Err(_) => {
            NutStats::bump(&stats.tls_failed);
            warn!(%address, "NUT TLS handshake timed out");
            None
        }
    }
}

enum Read {
    Line,
    TooLong,
    Eof,
}

/// Reads one line (without `\n` or `\r\n`) into `buf`, never keeping more
/// than [`MAX_LINE`] bytes: a longer line is consumed and reported.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<Read> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Read::Eof);
        }
        let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if !too_long {
            buf.extend_from_slice(chunk);
            if buf.len() > MAX_LINE {
                too_long = true;
                buf.clear();
            }
        }
        reader.consume(used);
        if done {
            break;
        }
    }
    if too_long {
        return Ok(Read::TooLong);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Read::Line)
}

fn err(code: &str) -> String {
    format!("ERR {code}\n")
}

/// One client connection.
struct Session {
    id: u64,
    address: SocketAddr,
    username: Option<String>,
    password: Option<String>,
    login: Option<String>,
    tracking: bool,
    closing: bool,
    tls: TlsState,
}

/// Where a connection stands with TLS.
#[derive(PartialEq)]
enum TlsState {
    Plain,
    /// `OK STARTTLS` is being sent; the handshake follows.
    Starting,
    On,
}

/// What an access check found.
#[derive(PartialEq)]
enum Access {
    Granted,
    /// Unknown user or wrong password (counted as a failed login).
    BadCredentials,
    Denied,
}

impl Session {
    fn new(id: u64, address: SocketAddr) -> Session {
        Session {
            id,
            address,
            username: None,
            password: None,
            login: None,
            tracking: false,
            closing: false,
            tls: TlsState::Plain,
        }
    }

    async fn answer(&mut self, shared: &Shared, line: &[u8]) -> String {
        let words = match line::split(line) {
            Ok(words) if !words.is_empty() => words,
            Ok(_) => {
                NutStats::bump(&shared.stats.bad_requests);
                return err("UNKNOWN-COMMAND");
            }
            Err(error) => {
                NutStats::bump(&shared.stats.bad_requests);
                debug!(address = %self.address, %error, "bad NUT request line");
                return err("INVALID-ARGUMENT");
            }
        };
        let command = words[0].to_ascii_uppercase();
        let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        let needs_user = matches!(
            command.as_str(),
            "LOGIN" | "PRIMARY" | "MASTER" | "FSD" | "SET" | "INSTCMD"
        );
        if needs_user && self.username.is_none() {
            return err("USERNAME-REQUIRED");
        }
        if needs_user && self.password.is_none() {
            return err("PASSWORD-REQUIRED");
        }
        match command.as_str() {
            "VER" if args.is_empty() => format!(
                "ups2mqtt {} - NUT network protocol {PROTOCOL_VERSION}\n",
                env!("CARGO_PKG_VERSION")
            ),
            "NETVER" | "PROTVER" if args.is_empty() => format!("{PROTOCOL_VERSION}\n"),
            "HELP" if args.is_empty() => "Commands: HELP VER PROTVER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS\n".to_string(),
            "VER" | "NETVER" | "PROTVER" | "HELP" => err("INVALID-ARGUMENT"),
            "STARTTLS" => self.start_tls(shared),
            "USERNAME" => self.set_once(args, true),
            "PASSWORD" => self.set_once(args, false),
            "LOGOUT" if args.is_empty() => {
                self.closing = true;
                "OK Goodbye\n".to_string()
            }
            "LOGOUT" => err("INVALID-ARGUMENT"),
            "LOGIN" => self.login(shared, &args),
            "PRIMARY" | "MASTER" => self.primary(shared, &args, &command),
            "FSD" => self.fsd(shared, &args),
            "GET" => self.get(shared, &args),
            "LIST" => self.list(shared, &args),
            "SET" => self.set(shared, &args).await,
            "INSTCMD" => self.instcmd(shared, &args).await,
            _ => {
                NutStats::bump(&shared.stats.bad_requests);
                err("UNKNOWN-COMMAND")
            }
        }
    }

    /// upsd's `net_starttls`: arguments are ignored, as there.
    fn start_tls(&mut self, shared: &Shared) -> String {
        if self.tls != TlsState::Plain {
            return err("ALREADY-SSL-MODE");
        }
        if shared.tls.is_none() {
            return err("FEATURE-NOT-CONFIGURED");
        }
        self.tls = TlsState::Starting;
        "OK STARTTLS\n".to_string()
    }

    fn set_once(&mut self, args: Vec<&str>, username: bool) -> String {
        let [value] = args[..] else {
            return err("INVALID-ARGUMENT");
        };
        let slot = if username {
            &mut self.username
        } else {
            &mut self.password
        };
        match (slot.is_some(), username) {
            (true, true) => err("ALREADY-SET-USERNAME"),
            (true, false) => err("ALREADY-SET-PASSWORD"),
            (false, _) => {
                *slot = Some(value.to_string());
                "OK\n".to_string()
            }
        }
    }

    /// upsd's `user_checkaction`: the user, its password, then the right.
    fn check(&self, shared: &Shared, allowed: impl Fn(&NutUserConfig) -> bool) -> Access {
        let (Some(name), Some(password)) = (&self.username, &self.password) else {
            return Access::BadCredentials;
        };
        let user = shared.users.iter().find(|u| u.name == *name);
        let matches = user.is_some_and(|u| {
            u.password
                .text()
                .is_some_and(|p| constant_time_eq(p.as_bytes(), password.as_bytes()))
        });
        match user {
            Some(user) if matches => {
                if allowed(user) {
                    Access::Granted
                } else {
                    Access::Denied
                }
            }
            _ => {
                NutStats::bump(&shared.stats.failed_logins);
                warn!(address = %self.address, user = %name, "NUT: unknown user or wrong password");
                Access::BadCredentials
            }
        }
    }

    fn login(&mut self, shared: &Shared, args: &[&str]) -> String {
        let [ups] = args[..] else {
            return err("INVALID-ARGUMENT");
        };
        if self.login.is_some() {
            return err("ALREADY-LOGGED-IN");
        }
        if !shared.hub.contains(ups) {
            return err("UNKNOWN-UPS");
        }
        if self.check(shared, |u| u.upsmon.is_some()) != Access::Granted {
            return err("ACCESS-DENIED");
        }
        self.login = Some(ups.to_string());
        shared
            .state()
            .logins
            .insert(self.id, (ups.to_string(), self.address));
        info!(address = %self.address, user = ?self.username, ups, "NUT client logged in");
        "OK\n".to_string()
    }

    fn primary(&self, shared: &Shared, args: &[&str], command: &str) -> String {
        let [ups] = args[..] else {
            return err("INVALID-ARGUMENT");
        };
        if !shared.hub.contains(ups) {
            return err("UNKNOWN-UPS");
        }
        if self.check(shared, |u| u.upsmon == Some(UpsmonRole::Primary)) != Access::Granted {
            return err("ACCESS-DENIED");
        }
        format!("OK {command}-GRANTED\n")
    }

    fn fsd(&self, shared: &Shared, args: &[&str]) -> String {
        let [ups] = args[..] else {
            return err("INVALID-ARGUMENT");
        };
        if !shared.hub.contains(ups) {
            return err("UNKNOWN-UPS");
        }
        let allowed = |u: &NutUserConfig| {
            u.upsmon == Some(UpsmonRole::Primary) || u.actions.contains(&NutAction::Fsd)
        };
        if self.check(shared, allowed) != Access::Granted {
            return err("ACCESS-DENIED");
        }
        warn!(address = %self.address, user = ?self.username, ups, "NUT: forced shutdown (FSD) set");
        shared.state().fsd.entry(ups.to_string()).or_insert(false);
        "OK FSD-SET\n".to_string()
    }

    fn get(&self, shared: &Shared, args: &[&str]) -> String {
        match args {
            [sub] if sub.eq_ignore_ascii_case("TRACKING") => {
                if self.tracking { "ON\n" } else { "OFF\n" }.to_string()
            }
            [sub, id] if sub.eq_ignore_ascii_case("TRACKING") => {
                if self.tracking {
                    format!("{}\n", shared.tracking.get(id))
                } else {
                    err("FEATURE-NOT-CONFIGURED")
                }
            }
            [sub, ups, ..] if sub.eq_ignore_ascii_case("UPSDESC") && args.len() == 2 => {
                if !shared.hub.contains(ups) {
                    return err("UNKNOWN-UPS");
                }
                format!("UPSDESC {ups} {}\n", line::quote(&describe(shared, ups)))
            }
            [sub, ups] if sub.eq_ignore_ascii_case("NUMLOGINS") => {
                let available = available(shared, ups);
                if let Err(e) = available {
                    return e;
                }
                let count = shared
                    .state()
                    .logins
                    .values()
                    .filter(|(u, _)| u == ups)
                    .count();
                format!("NUMLOGINS {ups} {count}\n")
            }
            [sub, ups, name] => {
                let sub = sub.to_ascii_uppercase();
                match sub.as_str() {
                    "VAR" | "TYPE" | "DESC" | "CMDDESC" => {}
                    _ => return err("INVALID-ARGUMENT"),
                }
                if !line::is_bare(name) {
                    return err("INVALID-ARGUMENT");
                }
                if sub == "VAR" && name.to_ascii_lowercase().starts_with("server.") {
                    return server_var(ups, name);
                }
                let state = match available(shared, ups) {
                    Ok(state) => state,
                    Err(e) => return e,
                };
                match sub.as_str() {
                    "CMDDESC" => {
                        let desc = vars::instcmd_desc(name)
                            .unwrap_or_else(|| "Description unavailable".to_string());
                        format!("CMDDESC {ups} {name} {}\n", line::quote(&desc))
                    }
                    "DESC" => {
                        let desc = variables(shared, ups, &state)
                            .into_iter()
                            .find(|v| v.name == *name)
                            .map_or("Description unavailable", |v| v.desc);
                        format!("DESC {ups} {name} {}\n", line::quote(desc))
                    }
                    _ => {
                        let Some(var) = variables(shared, ups, &state)
                            .into_iter()
                            .find(|v| v.name == *name)
                        else {
                            return err("VAR-NOT-SUPPORTED");
                        };
                        if sub == "VAR" {
                            format!("VAR {ups} {name} {}\n", line::quote(&var.value))
                        } else {
                            format!("TYPE {ups} {name} {}\n", var.type_words())
                        }
                    }
                }
            }
            _ => err("INVALID-ARGUMENT"),
        }
    }

    fn list(&self, shared: &Shared, args: &[&str]) -> String {
        let Some(sub) = args.first().map(|s| s.to_ascii_uppercase()) else {
            return err("INVALID-ARGUMENT");
        };
        let mut out = String::new();
        match (sub.as_str(), &args[1..]) {
            ("UPS", []) => {
                out.push_str("BEGIN LIST UPS\n");
                for id in shared.hub.ids() {
                    let _ = writeln!(out, "UPS {id} {}", line::quote(&describe(shared, id)));
                }
                out.push_str("END LIST UPS\n");
            }
            ("CLIENT", [ups]) => {
                if !shared.hub.contains(ups) {
                    return err("UNKNOWN-UPS");
                }
                let _ = writeln!(out, "BEGIN LIST CLIENT {ups}");
                for (login, address) in shared.state().logins.values() {
                    if login == ups {
                        let _ = writeln!(out, "CLIENT {ups} {}", address.ip());
                    }
                }
                let _ = writeln!(out, "END LIST CLIENT {ups}");
            }
            ("VAR" | "RW" | "CMD", [ups]) => {
                let state = match available(shared, ups) {
                    Ok(state) => state,
                    Err(e) => return e,
                };
                let _ = writeln!(out, "BEGIN LIST {sub} {ups}");
                if sub == "CMD" {
                    for name in vars::instcmds(&shape(&state)) {
                        let _ = writeln!(out, "CMD {ups} {name}");
                    }
                } else {
                    for var in variables(shared, ups, &state) {
                        if sub == "VAR" || var.legal().is_some() {
                            let _ = writeln!(
                                out,
                                "{sub} {ups} {} {}",
                                var.name,
                                line::quote(&var.value)
                            );
                        }
                    }
                }
                let _ = writeln!(out, "END LIST {sub} {ups}");
            }
            ("ENUM" | "RANGE", [ups, name]) => {
                let state = match available(shared, ups) {
                    Ok(state) => state,
                    Err(e) => return e,
                };
                let Some(var) = variables(shared, ups, &state)
                    .into_iter()
                    .find(|v| v.name == *name)
                else {
                    return err("VAR-NOT-SUPPORTED");
                };
                let _ = writeln!(out, "BEGIN LIST {sub} {ups} {name}");
                if sub == "ENUM" {
                    for value in var.enum_values() {
                        let _ = writeln!(out, "ENUM {ups} {name} {}", line::quote(value));
                    }
                } else if let Some(Legal::Range { min, max }) = var.legal() {
                    let _ = writeln!(
                        out,
                        "RANGE {ups} {name} {} {}",
                        line::quote(&number(min)),
                        line::quote(&number(max))
                    );
                }
                let _ = writeln!(out, "END LIST {sub} {ups} {name}");
            }
            _ => return err("INVALID-ARGUMENT"),
        }
        out
    }

    async fn set(&mut self, shared: &Shared, args: &[&str]) -> String {
        match args {
            [sub, value] if sub.eq_ignore_ascii_case("TRACKING") => {
                if value.eq_ignore_ascii_case("ON") {
                    self.tracking = true;
                } else if value.eq_ignore_ascii_case("OFF") {
                    self.tracking = false;
                } else {
                    return err("INVALID-ARGUMENT");
                }
                "OK\n".to_string()
            }
            [sub, ups, name, value] if sub.eq_ignore_ascii_case("VAR") => {
                self.set_var(shared, ups, name, value).await
            }
            _ => err("INVALID-ARGUMENT"),
        }
    }

    async fn set_var(&self, shared: &Shared, ups: &str, name: &str, value: &str) -> String {
        if !shared.hub.contains(ups) {
            return err("UNKNOWN-UPS");
        }
        let state = match available(shared, ups) {
            Ok(state) => state,
            Err(e) => return e,
        };
        if self.check(shared, |u| u.actions.contains(&NutAction::Set)) != Access::Granted {
            return err("ACCESS-DENIED");
        }
        let Some(var) = variables(shared, ups, &state)
            .into_iter()
            .find(|v| v.name == name)
        else {
            return err("VAR-NOT-SUPPORTED");
        };
        let (Some(legal), Some((field, _))) = (var.legal(), var.slot) else {
            return err("READONLY");
        };
        match legal {
            Legal::Text { max_len } if value.len() > max_len => return err("TOO-LONG"),
            Legal::Range { min, max } => {
                let Ok(x) = value.trim().parse::<f64>() else {
                    return err("INVALID-VALUE");
                };
                if !(min..=max).contains(&x) {
                    return err("INVALID-VALUE");
                }
            }
            Legal::AnyLabel | Legal::Labels(_) | Legal::Bool => {
                if !var.enum_values().contains(&value) {
                    return err("INVALID-VALUE");
                }
            }
            Legal::Text { .. } => {}
        }
        let action = Action::Set(vec![(field.path(), Json::String(value.to_string()))]);
        self.run(shared, ups, action, "SET-FAILED").await
    }

    async fn instcmd(&self, shared: &Shared, args: &[&str]) -> String {
        let (ups, name, param) = match args {
            [ups, name] => (*ups, *name, None),
            [ups, name, param] => (*ups, *name, Some(*param)),
            _ => return err("INVALID-ARGUMENT"),
        };
        if !shared.hub.contains(ups) {
            return err("UNKNOWN-UPS");
        }
        let state = match available(shared, ups) {
            Ok(state) => state,
            Err(e) => return e,
        };
        let names = vars::instcmds(&shape(&state));
        let Some(name) = names.iter().find(|n| n.eq_ignore_ascii_case(name)) else {
            return err("CMD-NOT-SUPPORTED");
        };
        let allowed = |u: &NutUserConfig| u.instcmds.iter().any(|c| c == "all" || c == name);
        if self.check(shared, allowed) != Access::Granted {
            return err("ACCESS-DENIED");
        }
        if param.is_some() {
            // Our commands take no parameter (upsd passes it to the driver,
            // which refuses what it does not use).
            return err("INVALID-ARGUMENT");
        }
        self.run(shared, ups, Action::Named(name.clone()), "INSTCMD-FAILED")
            .await
    }

    /// Hands a command to the UPS task: with tracking, answers at once
    /// and records the outcome under a tracking id; without, waits for it.
    async fn run(&self, shared: &Shared, ups: &str, action: Action, failed: &str) -> String {
        NutStats::bump(&shared.stats.commands);
        let request = Request {
            ups_id: ups.to_string(),
            origin: format!("nut://{}", self.address),
            via: Via::Nut,
            transaction: None,
            who: self.username.clone(),
            action: Ok(action),
        };
        if self.tracking {
            let id = shared.tracking.add();
            let hub = shared.hub.clone();
            let tracking = shared.tracking.clone();
            let tracked = id.clone();
            tokio::spawn(async move {
                let outcome = hub.command(request).await;
                tracking.record(&tracked, tracking_status(&outcome));
            });
            return format!("OK TRACKING {id}\n");
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, shared.hub.command(request)).await {
            Ok(Ok(Outcome::Done(_))) => "OK\n".to_string(),
            Ok(Ok(Outcome::Armed(message))) => {
                info!(ups, %message, "NUT command armed");
                format!("ERR {failed} ARMED-SEND-AGAIN-TO-CONFIRM\n")
            }
            Ok(Ok(Outcome::Failed { kind, message })) => {
                info!(ups, %message, "NUT command failed");
                match kind {
                    FailureKind::Refused => err("ACCESS-DENIED"),
                    FailureKind::Invalid | FailureKind::TooLarge => err("INVALID-VALUE"),
                    FailureKind::Unavailable => err("DATA-STALE"),
                    FailureKind::Snmp | FailureKind::Busy => err(failed),
                }
            }
            Ok(Err(_)) | Err(_) => err(failed),
        }
    }
}

/// The tracking table, shared with the tasks that record outcomes.
#[derive(Clone, Default)]
struct TrackingTable(Arc<Mutex<Tracking>>);

impl TrackingTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tracking> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self) -> String {
        self.lock().add()
    }

    fn record(&self, id: &str, status: &'static str) {
        self.lock().set(id, status);
    }

    fn get(&self, id: &str) -> &'static str {
        self.lock().get(id)
    }
}

fn tracking_status(outcome: &Result<Outcome, crate::hub::HandOver>) -> &'static str {
    match outcome {
        Ok(Outcome::Done(_)) => "SUCCESS",
        Ok(Outcome::Failed {
            kind: FailureKind::Invalid,
            ..
        }) => "ERR INVALID-ARGUMENT",
        _ => "ERR FAILED",
    }
}

/// Tracking ids and their status (`PENDING`, `SUCCESS`, `ERR …`).
#[derive(Default)]
struct Tracking {
    status: HashMap<String, &'static str>,
    order: VecDeque<String>,
}

impl Tracking {
    fn add(&mut self) -> String {
        let id = uuid4();
        if self.order.len() == TRACKING_KEPT {
            if let Some(oldest) = self.order.pop_front() {
                self.status.remove(&oldest);
            }
        }
        self.order.push_back(id.clone());
        self.status.insert(id.clone(), "PENDING");
        id
    }

    fn set(&mut self, id: &str, status: &'static str) {
        if let Some(entry) = self.status.get_mut(id) {
            *entry = status;
        }
    }

    fn get(&self, id: &str) -> &'static str {
        self.status.get(id).copied().unwrap_or("ERR UNKNOWN")
    }
}

/// A random (version 4) UUID, as upsd's tracking ids.
fn uuid4() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 16];
    for half in bytes.chunks_mut(8) {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        half.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The latest state of a UPS that has data, or the NUT error upsd gives.
fn available(shared: &Shared, ups: &str) -> Result<Arc<UpsState>, String> {
    let state = shared.hub.state(ups).ok_or_else(|| err("UNKNOWN-UPS"))?;
    if !state.online || state.model.status().is_empty() && state.model.pages().next().is_none() {
        return Err(err("DATA-STALE"));
    }
    Ok(state)
}

fn shape(state: &UpsState) -> Arc<crate::model::Shape> {
    state.model.clone().shape()
}

fn variables(shared: &Shared, ups: &str, state: &UpsState) -> Vec<Var> {
    let fsd = shared.state().fsd.contains_key(ups);
    vars::render(&state.model, &shape(state), fsd)
}

/// A UPS's description: its model as it reports it, else "Unavailable".
fn describe(shared: &Shared, ups: &str) -> String {
    let Some(state) = shared.hub.state(ups) else {
        return "Unavailable".to_string();
    };
    let identity = shape(&state).identity.clone();
    match (identity.manufacturer, identity.model) {
        (Some(mfr), Some(model)) => format!("{mfr} {model}"),
        (None, Some(model)) => model,
        _ => "Unavailable".to_string(),
    }
}

fn server_var(ups: &str, name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "server.info" => format!(
            "VAR {ups} {name} {}\n",
            line::quote(&format!(
                "ups2mqtt {} - NUT network protocol {PROTOCOL_VERSION}",
                env!("CARGO_PKG_VERSION")
            ))
        ),
        "server.version" => format!(
            "VAR {ups} {name} {}\n",
            line::quote(env!("CARGO_PKG_VERSION"))
        ),
        _ => err("VAR-NOT-SUPPORTED"),
    }
}

/// A range bound as NUT shows numbers: no exponent, no trailing `.0`.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
