//! The one MQTT connection: retained state, last will, reconnect and replay.
//!
//! This module owns the broker session and nothing about UPSes or MIBs. It
//! keeps **the latest payload of every retained topic** (bounded by the
//! number of topics, by construction) and a bounded ring of non-retained
//! events, and a pump publishes what changed whenever the broker is there.
//! On every (re)connect it re-subscribes and replays the whole store in
//! order: bridge state, then discovery, then states. So a broker that is
//! down for minutes loses nothing that matters, and memory stays bounded
//! while it is down.
//!
//! A retained payload that can be derived from the others (a UPS's Home
//! Assistant discovery, ~150 kB of JSON derived from its ~8 kB of pages)
//! is kept as a [`Render`] and built only when it is sent, so the store
//! holds each fact once.

use crate::config::MqttProtocol;
use crate::config::{Config, MqttConfig};
use crate::topics::Naming;
use rumqttc::{TlsConfiguration, Transport};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tracing::{debug, info, warn};

/// How many non-retained events are kept while the broker is away.
pub const EVENT_BUFFER: usize = 64;
/// Incoming messages waiting for the gateway; more are dropped and counted.
const INCOMING_BUFFER: usize = 256;
/// Largest MQTT packet sent or accepted.
const MAX_PACKET: usize = 1024 * 1024;
/// rumqttc's request channel. Small: what waits here is a copy of what
/// the store already holds, and a discovery payload is ~150 kB.
const REQUEST_CHANNEL: usize = 8;
/// QoS 1 publishes awaiting their PUBACK (rumqttc keeps each one for a
/// resend); with the channel, it bounds the payloads in flight.
const MAX_INFLIGHT: u16 = 8;

/// Replay order of retained topics after a (re)connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Bridge,
    Discovery,
    State,
}

/// A message from the broker for the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

/// Counters for the health topic and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqttStats {
    pub connects: u64,
    pub publishes: u64,
    pub events_dropped: u64,
    pub incoming_dropped: u64,
}

/// Builds a retained payload each time it is sent (called outside the
/// store's lock).
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// A retained topic's latest payload: kept as sent, or rendered when sent.
#[derive(Clone)]
enum Payload {
    /// Empty: cleared at the broker, forgotten once that is sent.
    Text(String),
    Rendered(Render),
}

impl Payload {
    fn is_cleared(&self) -> bool {
        matches!(self, Payload::Text(text) if text.is_empty())
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::Text(text) => write!(f, "Text({} bytes)", text.len()),
            Payload::Rendered(_) => f.write_str("Rendered"),
        }
    }
}

#[derive(Debug)]
struct Store {
    retained: HashMap<String, (Class, Payload)>,
    dirty: BTreeSet<(Class, String)>,
    events: heapless::Deque<(String, String), EVENT_BUFFER>,
    subscriptions: BTreeSet<String>,
    stats: MqttStats,
}

struct Shared {
    store: Mutex<Store>,
    wake: Notify,
    connected: watch::Sender<bool>,
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
    pub fn start(
        config: &Config,
        naming: Naming,
    ) -> Result<(Mqtt, mpsc::Receiver<Incoming>), MqttError> {
        let (client, eventloop) = connect(config, &naming)?;
        let shared = Arc::new(Shared {
            store: Mutex::new(Store {
                retained: HashMap::new(),
                dirty: BTreeSet::new(),
                events: heapless::Deque::new(),
                subscriptions: BTreeSet::new(),
                stats: MqttStats::default(),
            }),
            wake: Notify::new(),
            connected: watch::channel(false).0,
        });
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
        tokio::spawn(drive(mqtt.clone(), eventloop, incoming_tx, stop_rx.clone()));
        tokio::spawn(pump(mqtt.clone(), stop_rx));
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
        // Kept for the topic's life: no spare capacity (a discovery payload
        // is built in a buffer twice its size).
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

    /// Re-publishes one retained topic even if unchanged (full refresh).
    pub fn touch(&self, topic: &str) {
        let mut store = self.store();
        let Some((class, _)) = store.retained.get(topic) else {
            return;
        };
        let class = *class;
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

    /// Queues a non-retained event; while the broker is away the oldest is
    /// dropped (and counted) once the ring is full.
    pub fn publish_event(&self, topic: &str, payload: String) {
        let mut store = self.store();
        if store.events.is_full() {
            store.events.pop_front();
            store.stats.events_dropped += 1;
        }
        let _ = store.events.push_back((topic.to_string(), payload));
        drop(store);
        self.shared.wake.notify_one();
    }

    /// Subscribes now and after every reconnect.
    ///
    /// The store lock is held across the check of the connected flag, and
    /// `on_connect` raises that flag under the same lock, so a filter added
    /// while a connection comes up is sent exactly by one of the two.
    pub fn subscribe(&self, filter: &str) {
        let mut store = self.store();
        store.subscriptions.insert(filter.to_string());
        if self.is_connected() {
            let _ = self.client.try_subscribe(filter.to_string());
        }
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
        Some(match payload {
            Payload::Text(text) => text,
            Payload::Rendered(render) => render(),
        })
    }

    /// Publishes the bridge `offline` state and disconnects cleanly.
    pub async fn shutdown(&self) {
        let topic = self.naming.bridge_state();
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

/// `{"state":"online"}` / `{"state":"offline"}`.
pub fn bridge_payload(state: &str) -> String {
    serde_json::json!({ "state": state }).to_string()
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
    Other,
    Error(String),
}

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

    fn try_subscribe(&self, filter: String) -> Result<(), String> {
        match self {
            Client::V4(c) => c
                .try_subscribe(filter, rumqttc::QoS::AtLeastOnce)
                .map_err(|e| e.to_string()),
            Client::V5(c) => c
                .try_subscribe(filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce)
                .map_err(|e| e.to_string()),
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
        use rumqttc::v5::mqttbytes::v5::Packet as Packet5;
        match self {
            EventLoop::V4(l) => match l.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => Polled::ConnAck,
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    Polled::Publish(Incoming {
                        topic: p.topic,
                        payload: p.payload.to_vec(),
                        retain: p.retain,
                    })
                }
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
                    })
                }
                Ok(_) => Polled::Other,
                Err(e) => Polled::Error(e.to_string()),
            },
        }
    }
}

/// The client and event loop for the configured protocol, with the last
/// will, keep-alive, credentials and TLS.
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
        options.set_max_packet_size(Some(MAX_PACKET as u32));
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
        let (client, eventloop) = rumqttc::v5::AsyncClient::new(options, REQUEST_CHANNEL);
        return Ok((Client::V5(client), EventLoop::V5(Box::new(eventloop))));
    }
    let mut options = rumqttc::MqttOptions::new(config.client_id(), mqtt.host.clone(), mqtt.port);
    options.set_keep_alive(keep_alive);
    options.set_clean_session(true);
    options.set_max_packet_size(MAX_PACKET, MAX_PACKET);
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
    let (client, eventloop) = rumqttc::AsyncClient::new(options, REQUEST_CHANNEL);
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

/// Polls the event loop: connection state, replay on connect, incoming
/// messages, reconnect with backoff.
async fn drive(
    mqtt: Mqtt,
    mut eventloop: EventLoop,
    incoming: mpsc::Sender<Incoming>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let event = tokio::select! {
            event = eventloop.poll() => event,
            _ = stop.changed() => return,
        };
        match event {
            Polled::ConnAck => {
                backoff = Duration::from_millis(500);
                on_connect(&mqtt);
            }
            Polled::Publish(message) => {
                if incoming.try_send(message).is_err() {
                    mqtt.store().stats.incoming_dropped += 1;
                }
            }
            Polled::Other => {}
            Polled::Error(error) => {
                if mqtt.shared.connected.send_replace(false) {
                    warn!(%error, "MQTT connection lost; reconnecting");
                } else {
                    debug!(%error, "MQTT connect failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
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
    // Subscriptions are queued before the flag goes up (so before any
    // replayed publish), and both happen under the store lock (see
    // `Mqtt::subscribe`).
    for filter in &store.subscriptions {
        if let Err(error) = mqtt.client.try_subscribe(filter.clone()) {
            warn!(%filter, %error, "MQTT subscribe failed");
        }
    }
    mqtt.shared.connected.send_replace(true);
    drop(store);
    info!(host = %mqtt.naming.base, "MQTT connected; replaying retained state");
    mqtt.shared.wake.notify_one();
}

/// Publishes dirty retained topics (in replay order) and queued events
/// while connected.
async fn pump(mqtt: Mqtt, mut stop: watch::Receiver<bool>) {
    let mut connected = mqtt.shared.connected.subscribe();
    loop {
        if mqtt.is_connected() {
            while let Some((topic, payload, retain)) = next_message(&mqtt) {
                if mqtt.client.publish(topic, retain, payload).await.is_err() {
                    return;
                }
                mqtt.store().stats.publishes += 1;
            }
        }
        tokio::select! {
            _ = mqtt.shared.wake.notified() => {}
            _ = connected.changed() => {}
            _ = stop.changed() => return,
        }
    }
}

/// The next message to send: events first (a trap should reach MQTT in
/// milliseconds, and buffered ones go out oldest first), then dirty
/// retained topics in replay order. A rendered payload is rendered after
/// the store's lock is released.
fn next_message(mqtt: &Mqtt) -> Option<(String, String, bool)> {
    let mut store = mqtt.store();
    if let Some((topic, payload)) = store.events.pop_front() {
        return Some((topic, payload, false));
    }
    let (class, topic) = store.dirty.pop_first()?;
    let payload = store.retained.get(&topic).map(|(_, p)| p.clone());
    if payload.as_ref().is_none_or(Payload::is_cleared) {
        store.retained.remove(&topic);
    }
    drop(store);
    let payload = match payload {
        Some(Payload::Text(text)) => text,
        Some(Payload::Rendered(render)) => render(),
        None => String::new(),
    };
    debug!(?class, %topic, "publish retained");
    Some((topic, payload, true))
}
