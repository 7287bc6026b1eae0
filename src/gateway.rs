//! The gateway: wires one MQTT connection to one task per UPS.
//!
//! This module owns the mapping from a UPS task's results to topics (the
//! [`MqttSink`]), Home Assistant's birth message (re-announce everything),
//! the removal of ghosts (discovery and state left retained by UPSes no
//! longer configured), and orderly start and shutdown. Everything is passed
//! in: tests run several gateways in one process.

use crate::command;
use crate::config::{Config, UpsConfig};
use crate::discovery::{self, Bridge, DeviceOptions};
use crate::hub::{Hub, HubBuilder};
use crate::messages::{self, Audit, FailureKind, Health, Response};
use crate::mib::Page;
use crate::model::Shape;
use crate::mqtt::{Class, Incoming, Mqtt};
use crate::topics::{BRIDGE, Naming, Topic};
use crate::trap::{self, Delivery, Router, TrapStats};
use crate::ups::{UpsRequest, UpsSink, UpsTask};
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::{info, warn};

/// A running gateway.
pub struct Gateway {
    mqtt: Mqtt,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    requests: HashMap<String, mpsc::Sender<UpsRequest>>,
    hub: Hub,
}

impl Gateway {
    /// Starts the MQTT connection, every UPS task and the trap listener;
    /// returns once they run (it does not wait for the broker).
    pub async fn start(config: Config) -> anyhow::Result<Gateway> {
        let naming = Naming::new(
            &config.gateway.id,
            &config.mqtt.base_topic,
            &config.mqtt.discovery_prefix,
        );
        let (mqtt, incoming) = Mqtt::start(&config, naming.clone())?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut requests = HashMap::new();
        if config.mqtt.discovery {
            publish_bridge(&mqtt);
        }
        for filter in naming.subscriptions(config.mqtt.discovery) {
            mqtt.subscribe(&filter);
        }
        let refresh = Duration::from_secs(config.mqtt.refresh);
        let mut hub = HubBuilder::default();
        for ups in &config.ups {
            let (tx, rx) = mpsc::channel(16);
            let sink = MqttSink::new(mqtt.clone(), &config, ups);
            let policy = ups.command_policy(&config.commands);
            let task = UpsTask::new(ups.clone(), sink, refresh, policy)
                .with_publisher(hub.add(&ups.id, tx.clone()));
            tasks.spawn(task.run(rx, stop_rx.clone()));
            requests.insert(ups.id.clone(), tx);
        }
        let hub = hub.build();
        let known = KnownIds::new(&naming, &config.ups);
        tasks.spawn(handle_incoming(
            mqtt.clone(),
            incoming,
            known,
            requests.clone(),
            stop_rx.clone(),
        ));
        let trap_stats = Arc::new(TrapStats::default());
        if config.traps.enabled {
            let (tx, rx) = mpsc::channel(TRAP_QUEUE);
            let router = Arc::new(Router::resolve(&config.ups).await.with_v3_from(&config));
            for address in &config.traps.listen {
                let socket = bind_trap_socket(*address)?;
                info!(%address, "listening for traps");
                tasks.spawn(trap::listen(
                    socket,
                    router.clone(),
                    trap_stats.clone(),
                    tx.clone(),
                    stop_rx.clone(),
                ));
            }
            tasks.spawn(deliver_traps(
                mqtt.clone(),
                rx,
                requests.clone(),
                stop_rx.clone(),
            ));
        }
        tasks.spawn(publish_bridge_health(mqtt.clone(), trap_stats, stop_rx));
        info!(upses = config.ups.len(), "gateway started");
        Ok(Gateway {
            mqtt,
            stop,
            tasks,
            requests,
            hub,
        })
    }

    pub fn mqtt(&self) -> &Mqtt {
        &self.mqtt
    }

    /// Every UPS's latest state, and commands with their outcome.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Asks a UPS task to read pages now; false if the UPS is unknown or
    /// its inbox is full (a poll is then already pending).
    pub fn poll_now(&self, ups_id: &str, pages: Vec<Page>) -> bool {
        self.requests
            .get(ups_id)
            .is_some_and(|tx| tx.try_send(UpsRequest::PollNow(pages)).is_ok())
    }

    /// Stops the UPS tasks, publishes the bridge `offline` and disconnects.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.mqtt.shutdown().await;
        info!("gateway stopped");
    }
}

/// Routed traps waiting for their UPS task; more are dropped and counted.
const TRAP_QUEUE: usize = 256;

fn bind_trap_socket(address: SocketAddr) -> anyhow::Result<UdpSocket> {
    let socket = std::net::UdpSocket::bind(address).map_err(|error| {
        let hint = if error.kind() == std::io::ErrorKind::PermissionDenied {
            " (ports below 1024 need root or CAP_NET_BIND_SERVICE, which the systemd unit grants; or use a high port in traps.listen)"
        } else {
            ""
        };
        anyhow::anyhow!("traps.listen: cannot bind {address}: {error}{hint}")
    })?;
    socket.set_nonblocking(true)?;
    Ok(UdpSocket::from_std(socket)?)
}

/// Publishes each trap event and hands its effects to the UPS task.
async fn deliver_traps(
    mqtt: Mqtt,
    mut deliveries: mpsc::Receiver<Delivery>,
    requests: HashMap<String, mpsc::Sender<UpsRequest>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let delivery = tokio::select! {
            delivery = deliveries.recv() => match delivery {
                Some(delivery) => delivery,
                None => return,
            },
            _ = stop.changed() => return,
        };
        let topic = mqtt.naming().event(&delivery.ups_id);
        mqtt.publish_event(&topic, messages::text(&delivery.event));
        if let Some(tx) = requests.get(&delivery.ups_id) {
            let request = UpsRequest::Trap {
                facts: delivery.facts,
                pages: delivery.pages,
                ack: delivery.ack,
            };
            if tx.try_send(request).is_err() {
                warn!(ups = %delivery.ups_id, "UPS task busy: trap effects dropped (its next poll catches up)");
            }
        }
    }
}

/// `<base>/bridge/health`: trap and MQTT counters, when they change.
async fn publish_bridge_health(mqtt: Mqtt, traps: Arc<TrapStats>, mut stop: watch::Receiver<bool>) {
    let topic = mqtt.naming().bridge_health();
    loop {
        let stats = mqtt.stats();
        let health = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "traps": traps.to_json(),
            "mqtt": {
                "connects": stats.connects,
                "events_dropped": stats.events_dropped,
                "incoming_dropped": stats.incoming_dropped,
            },
        });
        mqtt.set_retained(Class::State, &topic, health.to_string());
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Runs until SIGINT or SIGTERM, then shuts down cleanly.
pub async fn run_until_signal(config: Config) -> anyhow::Result<()> {
    let gateway = Gateway::start(config).await?;
    // systemd (Type=notify): READY=1 after the first broker connect,
    // WATCHDOG=1 from this loop, STOPPING=1 below; no-ops elsewhere.
    let systemd = crate::notify::SdNotify::from_env();
    systemd.supervise(gateway.mqtt(), wait_for_signal()).await;
    info!("signal received, shutting down");
    systemd.stopping();
    gateway.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn publish_bridge(mqtt: &Mqtt) {
    let bridge = Bridge {
        naming: mqtt.naming(),
        version: env!("CARGO_PKG_VERSION"),
    };
    let publication = discovery::bridge_device(&bridge);
    mqtt.set_retained(Class::Discovery, &publication.topic, publication.payload);
}

/// A UPS task's results, as retained MQTT topics.
pub struct MqttSink {
    mqtt: Mqtt,
    ups_id: String,
    discovery: bool,
    device: DeviceOptions,
}

impl MqttSink {
    pub fn new(mqtt: Mqtt, config: &Config, ups: &UpsConfig) -> MqttSink {
        // Fast pages are re-published at least every `refresh` seconds.
        let expire_after = 2 * config.mqtt.refresh + 3 * ups.poll.fast;
        MqttSink {
            mqtt,
            ups_id: ups.id.clone(),
            discovery: config.mqtt.discovery,
            device: DeviceOptions {
                expire_after: Some(expire_after),
            },
        }
    }

    fn naming(&self) -> &Naming {
        self.mqtt.naming()
    }
}

impl UpsSink for MqttSink {
    fn page(&mut self, page: Page, json: &Map<String, Json>, force: bool) {
        let topic = self.naming().page(&self.ups_id, page);
        let text = serde_json::to_string(json).expect("a JSON map serializes");
        self.mqtt.set_retained(Class::State, &topic, text);
        if force {
            self.mqtt.touch(&topic);
        }
    }

    fn page_gone(&mut self, page: Page) {
        let topic = self.naming().page(&self.ups_id, page);
        self.mqtt.clear_retained(Class::State, &topic);
    }

    /// The discovery message is not kept: it is rendered from the UPS's
    /// shape whenever it is sent (now, on reconnect, on Home Assistant's
    /// birth), outside the store's lock, so 500 UPSes don't hold 75 MB of
    /// it.
    fn shape(&mut self, shape: Arc<Shape>) {
        if !self.discovery {
            return;
        }
        let naming = self.naming().clone();
        let topic = naming.discovery(&naming.ups_device_id(&self.ups_id));
        let (ups_id, device) = (self.ups_id.clone(), self.device.clone());
        let render = move || {
            let bridge = Bridge {
                naming: &naming,
                version: env!("CARGO_PKG_VERSION"),
            };
            discovery::ups_device(&bridge, &ups_id, &shape, &device).payload
        };
        self.mqtt
            .set_rendered(Class::Discovery, &topic, Arc::new(render));
    }

    fn availability(&mut self, online: bool) {
        let topic = self.naming().availability(&self.ups_id);
        let state = if online { "online" } else { "offline" };
        self.mqtt
            .set_retained(Class::State, &topic, state.to_string());
    }

    fn health(&mut self, health: &Health) {
        let topic = self.naming().health(&self.ups_id);
        self.mqtt
            .set_retained(Class::State, &topic, messages::text(health));
    }

    fn response(&mut self, response: &Response) {
        let topic = self.naming().response(&self.ups_id);
        self.mqtt.publish_event(&topic, messages::text(response));
    }

    fn audit(&mut self, record: &Audit) {
        let topic = self.naming().audit(&self.ups_id);
        self.mqtt.publish_event(&topic, messages::text(record));
    }
}

/// The UPS ids and device ids this gateway publishes, to tell ghosts apart.
struct KnownIds {
    naming: Naming,
    ups_ids: HashSet<String>,
    device_ids: HashSet<String>,
}

impl KnownIds {
    fn new(naming: &Naming, upses: &[UpsConfig]) -> KnownIds {
        let mut device_ids: HashSet<String> =
            upses.iter().map(|u| naming.ups_device_id(&u.id)).collect();
        device_ids.insert(naming.bridge_device_id());
        KnownIds {
            naming: naming.clone(),
            ups_ids: upses.iter().map(|u| u.id.clone()).collect(),
            device_ids,
        }
    }
}

async fn handle_incoming(
    mqtt: Mqtt,
    mut incoming: mpsc::Receiver<Incoming>,
    known: KnownIds,
    requests: HashMap<String, mpsc::Sender<UpsRequest>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let message = tokio::select! {
            message = incoming.recv() => match message {
                Some(message) => message,
                None => return,
            },
            _ = stop.changed() => return,
        };
        let topic = mqtt.naming().parse(&message.topic);
        if let Some(request) = command::from_topic(topic.clone(), &message.topic, &message.payload)
        {
            if !message.retain {
                route_command(&mqtt, &requests, request);
            }
            continue;
        }
        if let Ok(topic) = topic {
            on_incoming(&mqtt, &known, &topic, &message);
        }
    }
}

/// Hands a command to its UPS task; a full inbox or an unknown UPS gets an
/// error response at once (and an audit record) instead of waiting.
fn route_command(
    mqtt: &Mqtt,
    requests: &HashMap<String, mpsc::Sender<UpsRequest>>,
    request: command::Request,
) {
    let ups_id = request.ups_id.clone();
    let Some(tx) = requests.get(&ups_id) else {
        warn!(%ups_id, topic = %request.origin, "command for an unknown UPS ignored");
        return;
    };
    if let Err(error) = tx.try_send(UpsRequest::Command(request)) {
        let UpsRequest::Command(request) = error.into_inner() else {
            return;
        };
        let time = crate::time::rfc3339(std::time::SystemTime::now());
        let outcome = command::Outcome::failed(
            FailureKind::Busy,
            "this UPS is still executing earlier commands",
        );
        let naming = mqtt.naming();
        mqtt.publish_event(
            &naming.response(&ups_id),
            messages::text(&command::response(&request, &outcome, &time)),
        );
        mqtt.publish_event(
            &naming.audit(&ups_id),
            messages::text(&command::audit(&request, &outcome, &time)),
        );
        warn!(%ups_id, "command refused: busy");
    }
}

fn on_incoming(mqtt: &Mqtt, known: &KnownIds, topic: &Topic, message: &Incoming) {
    let naming = &known.naming;
    if *topic == Topic::HaStatus {
        if message.payload == b"online" {
            info!("Home Assistant is online: re-announcing discovery and state");
            mqtt.refresh(Class::Discovery);
            mqtt.refresh(Class::State);
        }
        return;
    }
    if !message.retain || message.payload.is_empty() {
        return;
    }
    if let Some(device_id) = ghost_device(naming, known, topic, &message.payload) {
        warn!(%device_id, "removing discovery of a device this gateway no longer has");
        mqtt.clear_retained(Class::Discovery, &message.topic);
    } else if let Some(ups_id) = ghost_ups(known, topic) {
        warn!(%ups_id, "removing retained state of a UPS no longer configured");
        for page in Page::ALL {
            mqtt.clear_retained(Class::State, &naming.page(ups_id, page));
        }
        mqtt.clear_retained(Class::State, &naming.health(ups_id));
        mqtt.clear_retained(Class::State, &naming.availability(ups_id));
    }
}

/// A retained discovery message of a device linked to this gateway's bridge
/// that the gateway no longer publishes.
fn ghost_device<'a>(
    naming: &Naming,
    known: &KnownIds,
    topic: &'a Topic,
    payload: &[u8],
) -> Option<&'a str> {
    let Topic::Discovery { device_id } = topic else {
        return None;
    };
    if known.device_ids.contains(device_id) {
        return None;
    }
    let payload: Json = serde_json::from_slice(payload).ok()?;
    let device = payload.get("device").or_else(|| payload.get("dev"))?;
    let via = device.get("via_device").or_else(|| device.get("via_dev"))?;
    (via.as_str() == Some(naming.bridge_device_id().as_str())).then_some(device_id.as_str())
}

/// A retained `<base>/<ups>/availability` of a UPS not configured here.
fn ghost_ups<'a>(known: &KnownIds, topic: &'a Topic) -> Option<&'a str> {
    let Topic::Availability { ups } = topic else {
        return None;
    };
    (ups != BRIDGE && !known.ups_ids.contains(ups)).then_some(ups.as_str())
}
