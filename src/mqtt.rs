//! The one MQTT connection: retained state, last will, reconnect and replay.
//!
//! This module owns the broker session and nothing about UPSes or MIBs. It
//! keeps **the latest payload of every retained topic** (bounded by the
//! number of topics, by construction), a bounded ring of trap events and a
//! bounded ring of command replies, and a pump publishes what changed
//! whenever the broker is there.
//!
//! The session is this module's state, not rumqttc's: on every (re)connect
//! it subscribes again (and checks the SUBACK, retrying until the broker
//! grants every filter), then replays the whole store in order: bridge
//! state, then discovery, then states. Start-up filters
//! ([`Naming::startup_subscriptions`], known from the start so that no
//! session begins without them) are part of each session's SUBSCRIBE and
//! unsubscribed once their retained messages came, before anything but the
//! bridge state is replayed: what the gateway publishes under them (its
//! discovery) never comes back to it. Events stay in their ring until the
//! broker acknowledges them (QoS 1 PUBACK) and are sent again after a
//! reconnect; replies (responses, audit records) are sent once. Nothing is
//! handed to rumqttc while the broker is away, so a broker that is down for
//! minutes loses nothing that matters, and memory stays bounded meanwhile.
//! Reconnects are immediate, then retried at most a second apart.
//!
//! Incoming messages above `mqtt.max_incoming_bytes` are read and
//! discarded (counted, and passed on without their payload so a command
//! can be answered): rumqttc itself would drop the session on an oversize
//! packet, so its own limit is MQTT's maximum.
//!
//! A retained payload that can be derived from facts kept elsewhere is
//! built only when it is sent, so the store holds each fact once: a UPS's
//! Home Assistant discovery (a [`Render`]: ~300 kB of JSON derived from
//! its shape) and its pages (a [`Derived`]: written from the model's
//! readings, which the store shares instead of copying). A page is
//! compared with the last one by a hash of its text, so only what changed
//! is published; the text itself is not kept. At most `MAX_RENDERED`
//! rendered payloads exist at once (built and not yet acknowledged by the
//! broker): the next waits, in replay order, for a PUBACK, so a room of
//! UPSes announcing themselves together never fills rumqttc's channel and
//! inflight window with them.

use crate::config::MqttProtocol;
use crate::config::{Config, MqttConfig};
use crate::topics::{Naming, Topic};
use rumqttc::{TlsConfiguration, Transport};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tracing::{debug, info, warn};

/// How many trap events are kept until the broker acknowledges them.
pub const EVENT_BUFFER: usize = 1024;
/// How many command replies (responses, audit records) wait for the broker.
pub const REPLY_BUFFER: usize = 1024;
/// Incoming messages waiting for the gateway (a burst of commands); more
/// are dropped and counted.
const INCOMING_BUFFER: usize = 4096;
/// Payload bytes of the incoming messages waiting for the gateway; more
/// are dropped and counted.
const INCOMING_BYTES: usize = 4 * 1024 * 1024;
/// Largest MQTT packet sent.
const MAX_PACKET: usize = 1024 * 1024;
/// Largest packet rumqttc reads: MQTT's own maximum (remaining length
/// 268,435,455 plus the fixed header), so no incoming message can make it
/// drop the session; our own limit discards above `max_incoming_bytes`.
const MQTT_MAX_PACKET: usize = 268_435_455 + 5;
/// rumqttc's request channel. Small: what waits here is a copy of what
/// the store already holds, and a discovery payload is ~150 kB.
const REQUEST_CHANNEL: usize = 8;
/// QoS 1 publishes awaiting their PUBACK (rumqttc keeps each one for a
/// resend); with the channel, it bounds the payloads in flight.
const MAX_INFLIGHT: u16 = 8;
/// Rendered payloads (discovery, hundreds of kB each) that exist at once:
/// rendered and not yet acknowledged by the broker. Two keep the link busy
/// (one is written while the other waits for its PUBACK) without 500 UPSes
/// starting together filling the channel and the inflight window with them.
const MAX_RENDERED: usize = 2;
/// Publishes the pump hands over before it lets other tasks run.
const HAND_OVER_TURN: u32 = 64;
/// How long a SUBSCRIBE may wait for its SUBACK before it is sent again.
const SUBACK_TIMEOUT: Duration = Duration::from_secs(5);
/// A session's start-up filters are read when no retained message came for
/// this long after their SUBACK (a broker sends them right after it).
const STARTUP_SETTLE: Duration = Duration::from_millis(500);
/// Longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// First wait after a failed attempt (the first retry is immediate).
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Replay order of retained topics after a (re)connect, and how each is
/// delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Bridge,
    Discovery,
    State,
    /// Diagnostics superseded within seconds (a UPS's health at every
    /// poll, the bridge's health): QoS 0, so no PUBACK comes back for
    /// each. Like every retained topic, replayed after a reconnect.
    Health,
}

impl Class {
    /// Whether the broker acknowledges its publishes (QoS 1) or not (0).
    fn acknowledged(self) -> bool {
        self != Class::Health
    }
}

/// A message from the broker for the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub topic: String,
    /// Empty when the message was over the size limit.
    pub payload: Vec<u8>,
    pub retain: bool,
    /// The payload's size when it was over `mqtt.max_incoming_bytes` (and
    /// discarded).
    pub oversize: Option<usize>,
}

/// What a reply to a command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// `<base>/<ups>/response`: the answer the sender waits for.
    Response,
    /// `<base>/<ups>/audit`: the record of it.
    Audit,
}

/// A reply waiting for the broker.
#[derive(Debug)]
struct Queued {
    kind: Reply,
    topic: String,
    payload: String,
}

/// Counters for the health topic (`mqtt` in [`crate::messages::BridgeHealth`])
/// and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MqttStats {
    pub connects: u64,
    #[serde(skip)]
    pub publishes: u64,
    /// Trap events dropped from a full ring (the broker away too long).
    pub events_dropped: u64,
    /// Events sent again after a reconnect (not acknowledged before).
    pub events_resent: u64,
    /// Commands left without an answer: dropped as they came in (the
    /// gateway behind) or their response dropped from a full ring.
    pub commands_shed: u64,
    /// Audit records dropped from a full ring (responses go first).
    pub audits_dropped: u64,
    /// Incoming messages dropped because the gateway was behind.
    pub incoming_dropped: u64,
    /// Incoming messages over `mqtt.max_incoming_bytes`, discarded.
    pub incoming_oversize: u64,
    /// SUBSCRIBEs the broker refused or left unanswered (then retried).
    pub subscribe_failures: u64,
}

/// Builds a retained payload each time it is sent (called outside the
/// store's lock).
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// A retained payload derived from facts kept elsewhere, written out
/// whenever it is needed: to compare it with the last one (into a hash)
/// and to send it.
pub trait Derived: Send + Sync + 'static {
    /// Writes the payload; the same facts always write the same bytes.
    /// (The store writes only to memory; an error is `out`'s.)
    fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

/// Hashes what is written to it.
struct HashWriter<H>(H);

impl<H: std::hash::Hasher> std::io::Write for HashWriter<H> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A retained topic's latest payload: kept as sent, or rendered when sent.
#[derive(Clone)]
enum Payload {
    /// Empty: cleared at the broker, forgotten once that is sent.
    Text(String),
    Rendered(Render),
    /// Written out when sent, and compared with the next one by the hash
    /// of its text ([`Mqtt::set_derived`]).
    Derived {
        payload: Arc<dyn Derived>,
        hash: u64,
    },
}

impl Payload {
    fn is_cleared(&self) -> bool {
        matches!(self, Payload::Text(text) if text.is_empty())
    }

    /// The payload's bytes, rendered or written out if it is kept so.
    fn bytes(&self) -> Vec<u8> {
        match self {
            Payload::Text(text) => text.clone().into_bytes(),
            Payload::Rendered(render) => render().into_bytes(),
            Payload::Derived { payload, .. } => {
                let mut out = Vec::new();
                payload
                    .write(&mut out)
                    .expect("writing to memory cannot fail");
                out
            }
        }
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::Text(text) => write!(f, "Text({} bytes)", text.len()),
            Payload::Rendered(_) => f.write_str("Rendered"),
            Payload::Derived { hash, .. } => write!(f, "Derived({hash:016x})"),
        }
    }
}

/// A publish handed to rumqttc, until it writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handed {
    /// A trap event, by id: kept until its PUBACK.
    Event(u64),
    /// A rendered payload: counted until its PUBACK ([`MAX_RENDERED`]).
    Rendered,
    /// Anything else: sent once.
    Other,
}

/// A trap event, kept until the broker acknowledges it.
#[derive(Debug)]
struct Event {
    id: u64,
    topic: String,
    payload: String,
    /// Handed to rumqttc in this session (waiting for its PUBACK).
    sent: bool,
}

/// Where the start-up filters ([`Naming::startup_subscriptions`]) of the
/// current session stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Startup {
    /// Subscribed with the others, for their retained messages: no
    /// retained topic but the bridge state is published until this instant
    /// ([`STARTUP_SETTLE`] after the SUBACK or the last retained message;
    /// [`SUBACK_TIMEOUT`] after the connect without a SUBACK).
    Reading(tokio::time::Instant),
    /// Unsubscribed (or there are none).
    Done,
}

/// Where the subscriptions of the current session stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subscribed {
    /// To be sent (a new session, or a filter added).
    Needed,
    /// Sent at this instant; waiting for the SUBACK.
    Sent(tokio::time::Instant),
    /// Every filter granted.
    Granted,
}

#[derive(Debug)]
struct Store {
    retained: HashMap<String, (Class, Payload)>,
    dirty: BTreeSet<(Class, String)>,
    events: VecDeque<Event>,
    next_event: u64,
    replies: VecDeque<Queued>,
    subscriptions: BTreeSet<String>,
    subscribed: Subscribed,
    /// Filters subscribed at the start of each session only.
    startup_filters: BTreeSet<String>,
    startup: Startup,
    /// Publishes handed to rumqttc this session, in order, until it writes
    /// them.
    handed: VecDeque<Handed>,
    /// Events written, by packet id, until their PUBACK.
    inflight: HashMap<u16, u64>,
    /// Rendered payloads written, by packet id, until their PUBACK.
    rendered_inflight: Vec<u16>,
    stats: MqttStats,
}

impl Store {
    /// The session ended: nothing handed over will be acknowledged, every
    /// event still kept goes out again, subscriptions are needed again.
    fn end_session(&mut self) {
        self.handed.clear();
        self.inflight.clear();
        self.rendered_inflight.clear();
        for event in &mut self.events {
            if event.sent {
                event.sent = false;
                self.stats.events_resent += 1;
            }
        }
        self.subscribed = Subscribed::Needed;
        self.startup = self.new_startup();
    }

    /// A session's start-up reading: none without start-up filters.
    fn new_startup(&self) -> Startup {
        match self.startup_filters.is_empty() {
            true => Startup::Done,
            false => Startup::Reading(tokio::time::Instant::now() + SUBACK_TIMEOUT),
        }
    }

    /// Every filter this session subscribes to now.
    fn filters(&self) -> BTreeSet<String> {
        let mut filters = self.subscriptions.clone();
        if let Startup::Reading(_) = self.startup {
            filters.extend(self.startup_filters.iter().cloned());
        }
        filters
    }

    /// The SUBACK came: the retained messages follow it, the start-up
    /// reading ends [`STARTUP_SETTLE`] after the last of them.
    fn granted(&mut self) {
        if let Startup::Reading(until) = &mut self.startup {
            *until = tokio::time::Instant::now() + STARTUP_SETTLE;
        }
    }

    /// A retained message came: the start-up reading goes on for
    /// [`STARTUP_SETTLE`] more.
    fn retained_arrived(&mut self) {
        if let Startup::Reading(until) = &mut self.startup {
            *until = (*until).max(tokio::time::Instant::now() + STARTUP_SETTLE);
        }
    }

    /// Rendered payloads handed to rumqttc and not acknowledged yet.
    fn rendered_unacknowledged(&self) -> usize {
        let handed = self.handed.iter().filter(|h| **h == Handed::Rendered);
        handed.count() + self.rendered_inflight.len()
    }

    /// The broker acknowledged the event with this id.
    fn acknowledged(&mut self, id: u64) {
        if let Some(index) = self.events.iter().position(|e| e.id == id) {
            self.events.remove(index);
        }
    }
}

struct Shared {
    store: Mutex<Store>,
    /// Keys the hashes of derived payloads ([`Mqtt::set_derived`]).
    hashes: std::hash::RandomState,
    /// Payload bytes sent to the gateway and not yet received by it.
    incoming_bytes: std::sync::atomic::AtomicUsize,
    wake: Notify,
    connected: watch::Sender<bool>,
    /// Set by [`Mqtt::shutdown`]: the connection closing is expected.
    closing: std::sync::atomic::AtomicBool,
}

/// Handle to the connection; cheap to clone, shared by every UPS task.
#[derive(Clone)]
pub struct Mqtt {
    shared: Arc<Shared>,
    client: Client,
    naming: Arc<Naming>,
    stop: watch::Sender<bool>,
}

/// Why the connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("mqtt.tls: cannot read {path}: {source}")]
    TlsFile {
        path: String,
        source: std::io::Error,
    },
}

impl Mqtt {
    /// Connects in the background; returns the handle and the stream of
    /// incoming messages (subscriptions made with [`Mqtt::subscribe`]).
    ///
    /// The start-up filters ([`Naming::startup_subscriptions`]) are set
    /// here, before the connection runs: added later, a session already
    /// under way would publish retained discovery (the bridge's) before
    /// subscribing to it, and read it back as soon as it did.
    pub fn start(config: &Config, naming: Naming) -> Result<(Mqtt, IncomingRx), MqttError> {
        let (client, eventloop) = connect(config, &naming)?;
        let startup_filters = naming
            .startup_subscriptions(config.mqtt.discovery)
            .into_iter()
            .collect();
        let shared = Arc::new(Shared {
            store: Mutex::new(Store {
                retained: HashMap::new(),
                dirty: BTreeSet::new(),
                events: VecDeque::new(),
                next_event: 0,
                replies: VecDeque::new(),
                subscriptions: BTreeSet::new(),
                subscribed: Subscribed::Needed,
                startup_filters,
                // Each session's reading starts at its CONNACK.
                startup: Startup::Done,
                handed: VecDeque::new(),
                inflight: HashMap::new(),
                rendered_inflight: Vec::new(),
                stats: MqttStats::default(),
            }),
            hashes: std::hash::RandomState::new(),
            wake: Notify::new(),
            connected: watch::channel(false).0,
            closing: std::sync::atomic::AtomicBool::new(false),
            incoming_bytes: std::sync::atomic::AtomicUsize::new(0),
        });
        let limit = config.mqtt.max_incoming_bytes;
        let (incoming_tx, incoming_rx) = mpsc::channel(INCOMING_BUFFER);
        let (stop, stop_rx) = watch::channel(false);
        let mqtt = Mqtt {
            shared,
            client,
            naming: Arc::new(naming),
            stop,
        };
        mqtt.set_retained(
            Class::Bridge,
            &mqtt.naming.bridge_state(),
            bridge_payload("online"),
        );
        tokio::spawn(drive(
            mqtt.clone(),
            eventloop,
            incoming_tx,
            limit,
            stop_rx.clone(),
        ));
        tokio::spawn(pump(mqtt.clone(), stop_rx));
        let incoming_rx = IncomingRx {
            rx: incoming_rx,
            shared: mqtt.shared.clone(),
        };
        Ok((mqtt, incoming_rx))
    }

    pub fn naming(&self) -> &Naming {
        &self.naming
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.shared
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets the latest payload of a retained topic; published only if it
    /// differs from the last one.
    pub fn set_retained(&self, class: Class, topic: &str, mut payload: String) {
        // Kept for the topic's life: no spare capacity (serde_json writes
        // into a buffer that grows by doubling).
        payload.shrink_to_fit();
        let mut store = self.store();
        if store
            .retained
            .get(topic)
            .is_some_and(|(_, p)| matches!(p, Payload::Text(text) if *text == payload))
        {
            return;
        }
        store
            .retained
            .insert(topic.to_string(), (class, Payload::Text(payload)));
        store.dirty.insert((class, topic.to_string()));
        drop(store);
        self.shared.wake.notify_one();
    }

    /// Sets a retained topic whose payload `render` builds each time it is
    /// sent (now, and on every replay).
    pub fn set_rendered(&self, class: Class, topic: &str, render: Render) {
        let mut store = self.store();
        store
            .retained
            .insert(topic.to_string(), (class, Payload::Rendered(render)));
        store.dirty.insert((class, topic.to_string()));
        drop(store);
        self.shared.wake.notify_one();
    }

    /// Sets a retained topic whose payload is derived from facts kept
    /// elsewhere: published if its text differs from the last one's (or
    /// if `force`), and written out again for every replay. The store
    /// keeps `payload` and the hash of its text, never the text: it is
    /// written once into the hash now (by the caller, outside the store's
    /// lock) and once more each time it is sent.
    pub fn set_derived(&self, class: Class, topic: &str, payload: Arc<dyn Derived>, force: bool) {
        use std::hash::BuildHasher;
        let mut hasher = HashWriter(self.shared.hashes.build_hasher());
        payload
            .write(&mut hasher)
            .expect("writing to a hasher cannot fail");
        let hash = std::hash::Hasher::finish(&hasher.0);
        let mut store = self.store();
        let dirty = match store.retained.get_mut(topic) {
            // The same text: only the payload is replaced (so the store
            // shares the facts the caller has now, not older ones).
            Some((
                _,
                Payload::Derived {
                    payload: kept,
                    hash: last,
                },
            )) if *last == hash => {
                *kept = payload;
                force
            }
            _ => {
                store.retained.insert(
                    topic.to_string(),
                    (class, Payload::Derived { payload, hash }),
                );
                true
            }
        };
        if !dirty {
            return;
        }
        store.dirty.insert((class, topic.to_string()));
        drop(store);
        self.shared.wake.notify_one();
    }

    /// Clears a retained topic at the broker (empty retained payload) and
    /// forgets it.
    pub fn clear_retained(&self, class: Class, topic: &str) {
        let mut store = self.store();
        store
            .retained
            .insert(topic.to_string(), (class, Payload::Text(String::new())));
        store.dirty.insert((class, topic.to_string()));
        drop(store);
        self.shared.wake.notify_one();
    }

    /// Re-publishes every retained topic of `class`, changed or not.
    pub fn refresh(&self, class: Class) {
        let mut store = self.store();
        let topics: Vec<String> = store
            .retained
            .iter()
            .filter(|(_, (c, p))| *c == class && !p.is_cleared())
            .map(|(t, _)| t.clone())
            .collect();
        store.dirty.extend(topics.into_iter().map(|t| (class, t)));
        drop(store);
        self.shared.wake.notify_one();
    }

    /// Queues a trap event (not retained), kept until the broker
    /// acknowledges it; once the ring is full (the broker away for long)
    /// the oldest is dropped and counted.
    pub fn publish_event(&self, topic: &str, payload: String) {
        let mut store = self.store();
        if store.events.len() >= EVENT_BUFFER {
            store.events.pop_front();
            store.stats.events_dropped += 1;
        }
        let id = store.next_event;
        store.next_event += 1;
        store.events.push_back(Event {
            id,
            topic: topic.to_string(),
            payload,
            sent: false,
        });
        drop(store);
        self.shared.wake.notify_one();
    }

    /// Queues a reply to a command (not retained), sent once. A full ring
    /// makes room by dropping an audit record first, else the oldest
    /// response (counted as a shed command).
    pub fn publish_reply(&self, kind: Reply, topic: &str, payload: String) {
        let mut store = self.store();
        if store.replies.len() >= REPLY_BUFFER {
            let audit = store.replies.iter().position(|r| r.kind == Reply::Audit);
            match (kind, audit) {
                (Reply::Audit, _) => {
                    store.stats.audits_dropped += 1;
                    return;
                }
                (Reply::Response, Some(index)) => {
                    store.replies.remove(index);
                    store.stats.audits_dropped += 1;
                }
                (Reply::Response, None) => {
                    store.replies.pop_front();
                    store.stats.commands_shed += 1;
                }
            }
        }
        store.replies.push_back(Queued {
            kind,
            topic: topic.to_string(),
            payload,
        });
        drop(store);
        self.shared.wake.notify_one();
    }

    /// Subscribes now (if connected) and in every later session.
    pub fn subscribe(&self, filter: &str) {
        let mut store = self.store();
        if store.subscriptions.insert(filter.to_string()) {
            store.subscribed = Subscribed::Needed;
        }
        drop(store);
        self.shared.wake.notify_one();
    }

    /// Whether every subscription of the current session was granted.
    pub fn is_subscribed(&self) -> bool {
        self.is_connected() && self.store().subscribed == Subscribed::Granted
    }

    pub fn is_connected(&self) -> bool {
        *self.shared.connected.borrow()
    }

    /// Resolves once the broker session is up.
    pub async fn connected(&self) {
        let mut rx = self.shared.connected.subscribe();
        let _ = rx.wait_for(|up| *up).await;
    }

    pub fn stats(&self) -> MqttStats {
        self.store().stats.clone()
    }

    /// The latest payload of a retained topic (tests, health), rendered if
    /// it is.
    pub fn retained(&self, topic: &str) -> Option<String> {
        let payload = self.store().retained.get(topic)?.1.clone();
        Some(String::from_utf8_lossy(&payload.bytes()).into_owned())
    }

    /// Publishes the bridge `offline` state and disconnects cleanly.
    pub async fn shutdown(&self) {
        let topic = self.naming.bridge_state();
        self.shared
            .closing
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if self.is_connected() {
            let sent = self
                .client
                .publish(topic, true, bridge_payload("offline"))
                .await;
            if sent.is_ok() {
                self.client.disconnect().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        let _ = self.stop.send(true);
    }
}

/// The stream of incoming messages, bounded in count and in bytes.
pub struct IncomingRx {
    rx: mpsc::Receiver<Incoming>,
    shared: Arc<Shared>,
}

impl IncomingRx {
    /// The next message; `None` once the connection is gone.
    pub async fn recv(&mut self) -> Option<Incoming> {
        let message = self.rx.recv().await?;
        self.shared
            .incoming_bytes
            .fetch_sub(message.payload.len(), std::sync::atomic::Ordering::Relaxed);
        Some(message)
    }
}

/// `{"state":"online"}` / `{"state":"offline"}`.
pub fn bridge_payload(state: &'static str) -> String {
    crate::messages::text(&crate::messages::BridgeState { state })
}

/// MQTT 3.1.1 or 5, as configured: rumqttc has one client per protocol;
/// this is the small part of them the connection uses.
#[derive(Clone)]
enum Client {
    V4(rumqttc::AsyncClient),
    V5(rumqttc::v5::AsyncClient),
}

enum EventLoop {
    V4(Box<rumqttc::EventLoop>),
    V5(Box<rumqttc::v5::EventLoop>),
}

/// What the connection cares about in an event.
enum Polled {
    ConnAck,
    Publish(Incoming),
    /// rumqttc wrote a publish with this packet id (0: QoS 0).
    Written(u16),
    PubAck(u16),
    /// The SUBACK: whether every filter was granted.
    SubAck(bool),
    /// rumqttc took a request from its channel (room for the next).
    Taken,
    Other,
    Error(String),
}

/// A request rumqttc's channel had no room for; the payload comes back.
struct Full(Vec<u8>);

impl Client {
    async fn publish(&self, topic: String, retain: bool, payload: String) -> Result<(), ()> {
        match self {
            Client::V4(c) => c
                .publish(topic, rumqttc::QoS::AtLeastOnce, retain, payload)
                .await
                .map_err(drop),
            Client::V5(c) => c
                .publish(
                    topic,
                    rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                    retain,
                    payload,
                )
                .await
                .map_err(drop),
        }
    }

    /// Hands a publish to rumqttc without waiting: QoS 1 if
    /// `acknowledged`, else QoS 0.
    fn try_publish(
        &self,
        topic: String,
        retain: bool,
        payload: Vec<u8>,
        acknowledged: bool,
    ) -> Result<(), Full> {
        // The payload's own buffer comes back (no copy of a large one).
        let payload_of = |bytes| Full(Vec::from(bytes));
        let (qos, qos5) = match acknowledged {
            true => (
                rumqttc::QoS::AtLeastOnce,
                rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
            ),
            false => (
                rumqttc::QoS::AtMostOnce,
                rumqttc::v5::mqttbytes::QoS::AtMostOnce,
            ),
        };
        match self {
            Client::V4(c) => c
                .try_publish(topic, qos, retain, payload)
                .map_err(|e| match e {
                    rumqttc::ClientError::Request(rumqttc::Request::Publish(p))
                    | rumqttc::ClientError::TryRequest(rumqttc::Request::Publish(p)) => {
                        payload_of(p.payload)
                    }
                    _ => Full(Vec::new()),
                }),
            Client::V5(c) => c
                .try_publish(topic, qos5, retain, payload)
                .map_err(|e| match e {
                    rumqttc::v5::ClientError::Request(rumqttc::v5::Request::Publish(p))
                    | rumqttc::v5::ClientError::TryRequest(rumqttc::v5::Request::Publish(p)) => {
                        payload_of(p.payload)
                    }
                    _ => Full(Vec::new()),
                }),
        }
    }

    /// One UNSUBSCRIBE per filter.
    fn try_unsubscribe_all(&self, filters: &BTreeSet<String>) -> Result<(), ()> {
        for filter in filters {
            match self {
                Client::V4(c) => c.try_unsubscribe(filter.clone()).map_err(drop)?,
                Client::V5(c) => c.try_unsubscribe(filter.clone()).map_err(drop)?,
            }
        }
        Ok(())
    }

    /// One SUBSCRIBE with every filter (one SUBACK to check).
    fn try_subscribe_all(&self, filters: &BTreeSet<String>) -> Result<(), ()> {
        match self {
            Client::V4(c) => c
                .try_subscribe_many(
                    filters.iter().map(|f| {
                        rumqttc::SubscribeFilter::new(f.clone(), rumqttc::QoS::AtLeastOnce)
                    }),
                )
                .map_err(drop),
            Client::V5(c) => c
                .try_subscribe_many(filters.iter().map(|f| {
                    rumqttc::v5::mqttbytes::v5::Filter::new(
                        f.clone(),
                        rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                    )
                }))
                .map_err(drop),
        }
    }

    async fn disconnect(&self) {
        match self {
            Client::V4(c) => drop(c.disconnect().await),
            Client::V5(c) => drop(c.disconnect().await),
        }
    }
}

impl EventLoop {
    async fn poll(&mut self) -> Polled {
        use rumqttc::Outgoing;
        use rumqttc::v5::mqttbytes::v5::{Packet as Packet5, SubscribeReasonCode as Code5};
        match self {
            EventLoop::V4(l) => match l.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => Polled::ConnAck,
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    Polled::Publish(Incoming {
                        topic: p.topic,
                        payload: p.payload.to_vec(),
                        retain: p.retain,
                        oversize: None,
                    })
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(ack))) => {
                    Polled::PubAck(ack.pkid)
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(ack))) => Polled::SubAck(
                    ack.return_codes
                        .iter()
                        .all(|code| matches!(code, rumqttc::SubscribeReasonCode::Success(_))),
                ),
                Ok(rumqttc::Event::Outgoing(Outgoing::Publish(pkid))) => Polled::Written(pkid),
                Ok(rumqttc::Event::Outgoing(_)) => Polled::Taken,
                Ok(_) => Polled::Other,
                Err(e) => Polled::Error(e.to_string()),
            },
            EventLoop::V5(l) => match l.poll().await {
                Ok(rumqttc::v5::Event::Incoming(Packet5::ConnAck(_))) => Polled::ConnAck,
                Ok(rumqttc::v5::Event::Incoming(Packet5::Publish(p))) => {
                    Polled::Publish(Incoming {
                        topic: String::from_utf8_lossy(&p.topic).into_owned(),
                        payload: p.payload.to_vec(),
                        retain: p.retain,
                        oversize: None,
                    })
                }
                Ok(rumqttc::v5::Event::Incoming(Packet5::PubAck(ack))) => Polled::PubAck(ack.pkid),
                Ok(rumqttc::v5::Event::Incoming(Packet5::SubAck(ack))) => Polled::SubAck(
                    ack.return_codes
                        .iter()
                        .all(|code| matches!(code, Code5::Success(_))),
                ),
                Ok(rumqttc::v5::Event::Outgoing(Outgoing::Publish(pkid))) => Polled::Written(pkid),
                Ok(rumqttc::v5::Event::Outgoing(_)) => Polled::Taken,
                Ok(_) => Polled::Other,
                Err(e) => Polled::Error(e.to_string()),
            },
        }
    }

    /// Forgets the network and moves every request still in rumqttc's
    /// channel into its pending list, which the next clean session clears:
    /// after this, nothing of the old session is sent in the new one.
    ///
    /// rumqttc also keeps the events it read but did not yield yet and
    /// yields them after the next CONNACK: a SUBACK or PUBACK of the old
    /// session would be taken for one of the new. They are dropped too.
    fn clean(&mut self) {
        match self {
            EventLoop::V4(l) => {
                l.clean();
                l.state.events.clear();
            }
            EventLoop::V5(l) => {
                l.clean();
                l.state.events.clear();
            }
        }
    }
}

/// The client and event loop for the configured protocol, with the last
/// will, keep-alive, credentials and TLS. `TCP_NODELAY` is set: each QoS 1
/// publish is small and waits for its PUBACK, and Nagle's algorithm held
/// every next one back until the broker's delayed TCP ACK (40-200 ms), which
/// capped events at a few a second while the broker was healthy.
fn connect(config: &Config, naming: &Naming) -> Result<(Client, EventLoop), MqttError> {
    let mqtt: &MqttConfig = &config.mqtt;
    let (will_topic, will) = (naming.bridge_state(), bridge_payload("offline"));
    let transport = transport(mqtt)?;
    let keep_alive = Duration::from_secs(mqtt.keep_alive);
    let credentials = mqtt
        .username
        .as_ref()
        .map(|user| (user.clone(), mqtt.password_text().to_string()));
    if mqtt.protocol == MqttProtocol::V5 {
        use rumqttc::v5::mqttbytes::{QoS, v5::LastWill};
        let mut options =
            rumqttc::v5::MqttOptions::new(config.client_id(), mqtt.host.clone(), mqtt.port);
        options.set_keep_alive(keep_alive);
        options.set_clean_start(true);
        // The limit the broker is told; our own limit discards above
        // `max_incoming_bytes` without losing the session.
        options.set_max_packet_size(Some(MQTT_MAX_PACKET as u32));
        options.set_outgoing_inflight_upper_limit(MAX_INFLIGHT);
        options.set_last_will(LastWill::new(
            will_topic,
            will,
            QoS::AtLeastOnce,
            true,
            None,
        ));
        if let Some((user, password)) = credentials {
            options.set_credentials(user, password);
        }
        if let Some(transport) = transport {
            options.set_transport(transport);
        }
        let mut network = options.network_options();
        network.set_tcp_nodelay(true);
        options.set_network_options(network);
        let (client, eventloop) = rumqttc::v5::AsyncClient::new(options, REQUEST_CHANNEL);
        return Ok((Client::V5(client), EventLoop::V5(Box::new(eventloop))));
    }
    let mut options = rumqttc::MqttOptions::new(config.client_id(), mqtt.host.clone(), mqtt.port);
    options.set_keep_alive(keep_alive);
    options.set_clean_session(true);
    options.set_max_packet_size(MQTT_MAX_PACKET, MAX_PACKET);
    options.set_inflight(MAX_INFLIGHT);
    options.set_last_will(rumqttc::LastWill::new(
        will_topic,
        will,
        rumqttc::QoS::AtLeastOnce,
        true,
    ));
    if let Some((user, password)) = credentials {
        options.set_credentials(user, password);
    }
    if let Some(transport) = transport {
        options.set_transport(transport);
    }
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, REQUEST_CHANNEL);
    let mut network = eventloop.network_options();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    Ok((Client::V4(client), EventLoop::V4(Box::new(eventloop))))
}

/// TLS (rustls) with the configured CA and optional client certificate.
fn transport(mqtt: &MqttConfig) -> Result<Option<Transport>, MqttError> {
    let Some(tls) = &mqtt.tls else {
        return Ok(None);
    };
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| MqttError::TlsFile {
            path: path.display().to_string(),
            source,
        })
    };
    let client_auth = match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
        _ => None,
    };
    Ok(Some(Transport::tls_with_config(TlsConfiguration::Simple {
        ca: read(&tls.ca_file)?,
        alpn: None,
        client_auth,
    })))
}

/// Polls the event loop: connection state, subscriptions, acknowledged
/// events, incoming messages, reconnect with backoff.
async fn drive(
    mqtt: Mqtt,
    mut eventloop: EventLoop,
    incoming: mpsc::Sender<Incoming>,
    limit: usize,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::ZERO;
    loop {
        let event = tokio::select! {
            event = eventloop.poll() => event,
            _ = stop.changed() => return,
        };
        match event {
            Polled::ConnAck => {
                backoff = Duration::ZERO;
                on_connect(&mqtt);
            }
            Polled::Publish(message) => on_message(&mqtt, &incoming, message, limit),
            Polled::Written(pkid) => {
                let mut store = mqtt.store();
                match store.handed.pop_front() {
                    Some(Handed::Event(id)) => drop(store.inflight.insert(pkid, id)),
                    Some(Handed::Rendered) => store.rendered_inflight.push(pkid),
                    Some(Handed::Other) | None => {}
                }
                drop(store);
                mqtt.shared.wake.notify_one();
            }
            Polled::PubAck(pkid) => {
                let mut store = mqtt.store();
                if let Some(id) = store.inflight.remove(&pkid) {
                    store.acknowledged(id);
                }
                if let Some(at) = store.rendered_inflight.iter().position(|p| *p == pkid) {
                    // Room for the next rendered payload.
                    store.rendered_inflight.swap_remove(at);
                    drop(store);
                    mqtt.shared.wake.notify_one();
                }
            }
            Polled::SubAck(granted) => on_suback(&mqtt, granted),
            Polled::Taken => mqtt.shared.wake.notify_one(),
            Polled::Other => {}
            Polled::Error(error) => {
                let closing = mqtt
                    .shared
                    .closing
                    .load(std::sync::atomic::Ordering::Relaxed);
                let was_up = {
                    // Under the store lock, so the pump cannot hand over
                    // anything between the clean and the flag.
                    let mut store = mqtt.store();
                    eventloop.clean();
                    store.end_session();
                    mqtt.shared.connected.send_replace(false)
                };
                if closing {
                    debug!(%error, "MQTT connection closed");
                } else if was_up {
                    warn!(%error, "MQTT connection lost; reconnecting");
                } else {
                    debug!(%error, "MQTT connect failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF);
            }
        }
    }
}

/// Passes a message on to the gateway; one over `limit` without its
/// payload (and counted), so a command still gets its answer.
fn on_message(mqtt: &Mqtt, incoming: &mpsc::Sender<Incoming>, mut message: Incoming, limit: usize) {
    if message.retain {
        mqtt.store().retained_arrived();
    }
    if message.payload.len() > limit {
        let size = message.payload.len();
        // Discovery configs are large by nature (ours among them, read
        // back retained at start-up for the ghost check): not a
        // misbehaving client.
        let discovery = matches!(
            mqtt.naming.parse(&message.topic),
            Ok(Topic::Discovery { .. })
        );
        if discovery {
            debug!(topic = %message.topic, size, limit, "retained discovery config over mqtt.max_incoming_bytes: not read");
        } else {
            warn!(topic = %message.topic, size, limit, "incoming MQTT message over mqtt.max_incoming_bytes: discarded");
            mqtt.store().stats.incoming_oversize += 1;
        }
        message.payload = Vec::new();
        message.oversize = Some(size);
    }
    use std::sync::atomic::Ordering::Relaxed;
    let size = message.payload.len();
    let queued = mqtt.shared.incoming_bytes.fetch_add(size, Relaxed);
    let sent = if queued + size > INCOMING_BYTES {
        Err(message)
    } else {
        incoming.try_send(message).map_err(|e| e.into_inner())
    };
    if let Err(message) = sent {
        mqtt.shared.incoming_bytes.fetch_sub(size, Relaxed);
        let mut store = mqtt.store();
        store.stats.incoming_dropped += 1;
        if crate::command::parse(&mqtt.naming, &message.topic, b"").is_some() {
            store.stats.commands_shed += 1;
        }
    }
}

/// The broker answered a SUBSCRIBE of this session. While a filter added
/// since waits to be sent (`Needed`), an answer changes nothing; a refusal
/// is sent again once [`SUBACK_TIMEOUT`] has passed.
fn on_suback(mqtt: &Mqtt, granted: bool) {
    let mut store = mqtt.store();
    match (store.subscribed, granted) {
        (Subscribed::Needed, _) | (Subscribed::Granted, true) => {}
        (Subscribed::Sent(_), true) => {
            store.subscribed = Subscribed::Granted;
            store.granted();
            debug!(
                filters = store.subscriptions.len(),
                "MQTT subscriptions granted"
            );
            // The start-up reading now ends sooner than the pump, asleep
            // until the SUBACK's deadline, would look again.
            drop(store);
            mqtt.shared.wake.notify_one();
        }
        (_, false) => {
            store.subscribed = Subscribed::Sent(tokio::time::Instant::now());
            store.stats.subscribe_failures += 1;
            warn!("MQTT broker refused a subscription; retrying");
        }
    }
}

fn on_connect(mqtt: &Mqtt) {
    let mut store = mqtt.store();
    store.stats.connects += 1;
    let all: Vec<(Class, String)> = store
        .retained
        .iter()
        .filter(|(_, (_, p))| !p.is_cleared())
        .map(|(t, (c, _))| (*c, t.clone()))
        .collect();
    store.dirty.extend(all);
    // A new session: the pump subscribes first, then replays.
    store.end_session();
    mqtt.shared.connected.send_replace(true);
    drop(store);
    info!(host = %mqtt.naming.base, "MQTT connected; replaying retained state");
    mqtt.shared.wake.notify_one();
}

/// Hands subscriptions, events, replies and dirty retained topics to
/// rumqttc while connected, as fast as it takes them.
async fn pump(mqtt: Mqtt, mut stop: watch::Receiver<bool>) {
    let mut connected = mqtt.shared.connected.subscribe();
    // A rendered retained payload rumqttc had no room for yet.
    let mut held: Option<Held> = None;
    loop {
        // As much as rumqttc takes, in one turn: yielding after each
        // publish let every busy UPS task run between two of them, which
        // cut publishing to a few a second under load (events piled up
        // in their ring). A long run still lets the others in.
        let mut handed = 0u32;
        while hand_over(&mqtt, &mut held) {
            handed += 1;
            if handed % HAND_OVER_TURN == 0 {
                tokio::task::yield_now().await;
            }
        }
        let read_until = match mqtt.store().startup {
            Startup::Reading(until) => Some(until),
            Startup::Done => None,
        };
        let startup_read = async {
            match read_until {
                Some(until) => tokio::time::sleep_until(until).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = mqtt.shared.wake.notified() => {}
            _ = connected.changed() => {}
            // Unanswered SUBSCRIBEs are sent again.
            _ = tokio::time::sleep(SUBACK_TIMEOUT) => {}
            _ = startup_read => {}
            _ = stop.changed() => return,
        }
    }
}

/// Hands the next request to rumqttc; false when there is nothing to send,
/// no connection, or no room in its channel (a wake follows when there is).
///
/// Runs under the store lock: `drive` ends a session under the same lock,
/// so nothing handed over here can leak into the next session unnoticed.
fn hand_over(mqtt: &Mqtt, held: &mut Option<Held>) -> bool {
    let mut store = mqtt.store();
    if !mqtt.is_connected() {
        // The next session replays every kept topic; a clearing must be
        // kept for it too (unless the topic was set again meanwhile).
        if let Some(Held {
            class,
            topic,
            payload,
            ..
        }) = held.take()
        {
            if payload.is_empty() && !store.retained.contains_key(&topic) {
                store
                    .retained
                    .insert(topic.clone(), (class, Payload::Text(String::new())));
                store.dirty.insert((class, topic));
            }
        }
        return false;
    }
    let now = tokio::time::Instant::now();
    let resubscribe = match store.subscribed {
        Subscribed::Needed => true,
        Subscribed::Sent(at) => now.duration_since(at) >= SUBACK_TIMEOUT,
        Subscribed::Granted => false,
    };
    let filters = resubscribe.then(|| store.filters());
    if let Some(filters) = filters.filter(|f| !f.is_empty()) {
        if let Subscribed::Sent(_) = store.subscribed {
            store.stats.subscribe_failures += 1;
            warn!("no SUBACK from the MQTT broker; subscribing again");
        }
        if mqtt.client.try_subscribe_all(&filters).is_err() {
            return false;
        }
        store.subscribed = Subscribed::Sent(now);
        return true;
    }
    if let Startup::Reading(until) = store.startup {
        if now >= until {
            if mqtt
                .client
                .try_unsubscribe_all(&store.startup_filters)
                .is_err()
            {
                return false;
            }
            store.startup = Startup::Done;
            debug!("start-up subscriptions read; unsubscribed");
            return true;
        }
    }
    let mut store_guard = store;
    let store = &mut *store_guard;
    if let Some(event) = store.events.iter_mut().find(|e| !e.sent) {
        let payload = event.payload.clone().into_bytes();
        if mqtt
            .client
            .try_publish(event.topic.clone(), false, payload, true)
            .is_err()
        {
            return false;
        }
        event.sent = true;
        store.handed.push_back(Handed::Event(event.id));
        store.stats.publishes += 1;
        return true;
    }
    if let Some(reply) = store.replies.pop_front() {
        let (kind, topic) = (reply.kind, reply.topic);
        match mqtt
            .client
            .try_publish(topic.clone(), false, reply.payload.into_bytes(), true)
        {
            Ok(()) => {
                store.handed.push_back(Handed::Other);
                store.stats.publishes += 1;
                return true;
            }
            Err(Full(payload)) => {
                let payload = String::from_utf8(payload).unwrap_or_default();
                store.replies.push_front(Queued {
                    kind,
                    topic,
                    payload,
                });
                return false;
            }
        }
    }
    let next = match held.take() {
        Some(held) => held,
        None => {
            // Nothing but the bridge state while start-up filters are read.
            let reading = matches!(store.startup, Startup::Reading(_));
            if reading
                && store
                    .dirty
                    .first()
                    .is_some_and(|(c, _)| *c != Class::Bridge)
            {
                return false;
            }
            // Rendered payloads wait (and everything after them, to keep
            // the replay order) until fewer than MAX_RENDERED exist.
            if next_is_rendered(store) && store.rendered_unacknowledged() >= MAX_RENDERED {
                return false;
            }
            // Rendered outside the store's lock (a discovery message is
            // hundreds of kB of JSON), then handed over under it.
            let Some((class, topic, payload)) = next_retained(store) else {
                return false;
            };
            drop(store_guard);
            let rendered = matches!(payload, Some(Payload::Rendered(_)));
            let payload = match payload {
                Some(Payload::Text(text)) => text.into_bytes(),
                Some(payload) => payload.bytes(),
                None => Vec::new(),
            };
            debug!(?class, %topic, "publish retained");
            *held = Some(Held {
                class,
                topic,
                payload,
                rendered,
            });
            // Handed over on the next call, under the lock again.
            return true;
        }
    };
    let Held {
        class,
        topic,
        payload,
        rendered,
    } = next;
    match mqtt
        .client
        .try_publish(topic.clone(), true, payload, class.acknowledged())
    {
        Ok(()) => {
            store.handed.push_back(match rendered {
                true => Handed::Rendered,
                false => Handed::Other,
            });
            store.stats.publishes += 1;
            true
        }
        Err(Full(payload)) => {
            *held = Some(Held {
                class,
                topic,
                payload,
                rendered,
            });
            false
        }
    }
}

/// A retained publish taken from the store that rumqttc had no room for.
struct Held {
    class: Class,
    topic: String,
    payload: Vec<u8>,
    /// Rendered: one of the [`MAX_RENDERED`].
    rendered: bool,
}

/// Whether the next dirty retained topic is rendered when sent.
fn next_is_rendered(store: &Store) -> bool {
    store.dirty.first().is_some_and(|(_, topic)| {
        matches!(store.retained.get(topic), Some((_, Payload::Rendered(_))))
    })
}

/// The next dirty retained topic (in replay order) and its payload, to be
/// rendered (`None`, or cleared: an empty payload clears it at the broker).
fn next_retained(store: &mut Store) -> Option<(Class, String, Option<Payload>)> {
    let (class, topic) = store.dirty.pop_first()?;
    let payload = store.retained.get(&topic).map(|(_, p)| p.clone());
    if payload.as_ref().is_none_or(Payload::is_cleared) {
        store.retained.remove(&topic);
    }
    Some((class, topic, payload))
}
