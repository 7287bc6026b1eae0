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

use crate::config::{Config, MqttConfig};
use crate::topics::Naming;
use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, Packet, QoS, TlsConfiguration, Transport,
};
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
/// rumqttc's request channel.
const REQUEST_CHANNEL: usize = 128;

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

#[derive(Debug)]
struct Store {
    retained: HashMap<String, (Class, String)>,
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
    client: AsyncClient,
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
        let options = mqtt_options(config, &naming)?;
        let (client, eventloop) = AsyncClient::new(options, REQUEST_CHANNEL);
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
    pub fn set_retained(&self, class: Class, topic: &str, payload: String) {
        let mut store = self.store();
        if store
            .retained
            .get(topic)
            .is_some_and(|(_, p)| *p == payload)
        {
            return;
        }
        store.retained.insert(topic.to_string(), (class, payload));
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
            .insert(topic.to_string(), (class, String::new()));
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
            .filter(|(_, (c, p))| *c == class && !p.is_empty())
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
    pub fn subscribe(&self, filter: &str) {
        self.store().subscriptions.insert(filter.to_string());
        if self.is_connected() {
            let _ = self.client.try_subscribe(filter, QoS::AtLeastOnce);
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

    /// The latest payload of a retained topic (tests, health).
    pub fn retained(&self, topic: &str) -> Option<String> {
        self.store().retained.get(topic).map(|(_, p)| p.clone())
    }

    /// Publishes the bridge `offline` state and disconnects cleanly.
    pub async fn shutdown(&self) {
        let topic = self.naming.bridge_state();
        if self.is_connected() {
            let sent = self
                .client
                .publish(topic, QoS::AtLeastOnce, true, bridge_payload("offline"))
                .await;
            if sent.is_ok() {
                let _ = self.client.disconnect().await;
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

fn mqtt_options(config: &Config, naming: &Naming) -> Result<MqttOptions, MqttError> {
    let mqtt: &MqttConfig = &config.mqtt;
    let mut options = MqttOptions::new(config.client_id(), mqtt.host.clone(), mqtt.port);
    options.set_keep_alive(Duration::from_secs(mqtt.keep_alive));
    options.set_clean_session(true);
    // A 3-phase card with receptacles, outlet groups and devices announces
    // ~330 entities in one device discovery message (~175 KB).
    options.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    options.set_last_will(LastWill::new(
        naming.bridge_state(),
        bridge_payload("offline"),
        QoS::AtLeastOnce,
        true,
    ));
    if let Some(user) = &mqtt.username {
        options.set_credentials(user.clone(), mqtt.password.clone().unwrap_or_default());
    }
    if let Some(tls) = &mqtt.tls {
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
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Simple {
            ca: read(&tls.ca_file)?,
            alpn: None,
            client_auth,
        }));
    }
    Ok(options)
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
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = Duration::from_millis(500);
                on_connect(&mqtt);
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let message = Incoming {
                    topic: publish.topic.clone(),
                    payload: publish.payload.to_vec(),
                    retain: publish.retain,
                };
                if incoming.try_send(message).is_err() {
                    mqtt.store().stats.incoming_dropped += 1;
                }
            }
            Ok(_) => {}
            Err(error) => {
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
    let subscriptions: Vec<String> = {
        let mut store = mqtt.store();
        store.stats.connects += 1;
        let all: Vec<(Class, String)> = store
            .retained
            .iter()
            .filter(|(_, (_, p))| !p.is_empty())
            .map(|(t, (c, _))| (*c, t.clone()))
            .collect();
        store.dirty.extend(all);
        store.subscriptions.iter().cloned().collect()
    };
    for filter in subscriptions {
        if let Err(error) = mqtt.client.try_subscribe(filter.clone(), QoS::AtLeastOnce) {
            warn!(%filter, %error, "MQTT subscribe failed");
        }
    }
    info!(host = %mqtt.naming.base, "MQTT connected; replaying retained state");
    mqtt.shared.connected.send_replace(true);
    mqtt.shared.wake.notify_one();
}

/// Publishes dirty retained topics (in replay order) and queued events
/// while connected.
async fn pump(mqtt: Mqtt, mut stop: watch::Receiver<bool>) {
    let mut connected = mqtt.shared.connected.subscribe();
    loop {
        if mqtt.is_connected() {
            while let Some((topic, payload, retain)) = next_message(&mqtt) {
                if mqtt
                    .client
                    .publish(topic, QoS::AtLeastOnce, retain, payload)
                    .await
                    .is_err()
                {
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
/// retained topics in replay order.
fn next_message(mqtt: &Mqtt) -> Option<(String, String, bool)> {
    let mut store = mqtt.store();
    if let Some((topic, payload)) = store.events.pop_front() {
        return Some((topic, payload, false));
    }
    if let Some((class, topic)) = store.dirty.pop_first() {
        let payload = store
            .retained
            .get(&topic)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        if payload.is_empty() {
            store.retained.remove(&topic);
        }
        debug!(?class, %topic, "publish retained");
        return Some((topic, payload, true));
    }
    None
}
