//! The gateway: wires one MQTT connection to one task per UPS.
//!
//! This module owns the mapping from a UPS task's results to topics (the
//! [`MqttSink`]), Home Assistant's birth message (re-announce everything),
//! the removal of ghosts (discovery and state left retained by UPSes no
//! longer configured), backpressure (a command the UPS task has no room for
//! is answered `busy` and counted; trap effects are merged while a task is
//! busy, never dropped), and orderly start and shutdown. Everything is
//! passed in: tests run several gateways in one process.

use crate::command::{self, Via};
use crate::config::{Config, UpsConfig};
use crate::discovery::{self, Bridge, DeviceOptions};
use crate::hub::{Hub, HubBuilder};
use crate::messages::{
    self, Audit, BridgeHealth, EnergyTotal, FailureKind, Health, MqttCounters, Response,
};
use crate::mib::{Field, Page};
use crate::model::{Layouts, PublishedPage, Shape};
use crate::mqtt::{Class, Incoming, IncomingRx, Mqtt, MqttStats, Reply};
use crate::nut::{NutServer, NutStats};
use crate::pages::Reading;
use crate::topics::{Naming, Topic};
use crate::trap::{self, Delivery, Router, TrapStats};
use crate::ups::{TrapRequest, UpsRequest, UpsSink, UpsTask, WakeGrid};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

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
    /// returns once they run (it does not wait for the broker). UPS tasks
    /// wake on a grid from now (see [`Gateway::start_on`]).
    pub async fn start(config: Config) -> anyhow::Result<Gateway> {
        Gateway::start_on(config, WakeGrid::from_now()).await
    }

    /// [`Gateway::start`] with the UPS tasks' polls woken on `grid` (see
    /// [`WakeGrid::from_runtime_start`]).
    pub async fn start_on(config: Config, grid: WakeGrid) -> anyhow::Result<Gateway> {
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
        let walks = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_WALKS));
        let layouts = Layouts::default();
        for ups in &config.ups {
            // Which gateway publishes this UPS: ghost removal by another
            // gateway on the same broker leaves it alone.
            mqtt.set_retained(
                Class::State,
                &naming.owner(&ups.id),
                naming.gateway_id.clone(),
            );
            let (tx, rx) = mpsc::channel(16);
            let sink = MqttSink::new(mqtt.clone(), &config, ups);
            let policy = ups.command_policy(&config.commands);
            let task = UpsTask::new(ups.clone(), sink, refresh, policy)
                .with_publisher(hub.add(&ups.id, tx.clone()))
                .with_walk_limit(walks.clone())
                .with_layouts(layouts.clone())
                .with_wake_grid(grid);
            tasks.spawn(task.run(rx, stop_rx.clone()));
            requests.insert(ups.id.clone(), tx);
        }
        let hub = hub.build();
        let known = KnownIds::new(&naming, &config.ups);
        tasks.spawn(handle_incoming(
            Inbound {
                mqtt: mqtt.clone(),
                known,
                requests: requests.clone(),
                hub: hub.clone(),
                limit: config.mqtt.max_incoming_bytes,
            },
            incoming,
            stop_rx.clone(),
        ));
        let trap_stats = Arc::new(TrapStats::default());
        if config.traps.enabled {
            for problem in config.trap_ambiguities() {
                warn!(key = %problem.key, "{} (such traps are dropped, counted as ambiguous)", problem.reason);
            }
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
            let mut inboxes = HashMap::new();
            for (ups_id, tx) in &requests {
                let inbox = Arc::new(TrapEffects::default());
                tasks.spawn(forward_trap_effects(
                    inbox.clone(),
                    tx.clone(),
                    stop_rx.clone(),
                ));
                inboxes.insert(ups_id.clone(), inbox);
            }
            tasks.spawn(deliver_traps(mqtt.clone(), rx, inboxes, stop_rx.clone()));
        }
        let nut_stats = match config.nut.enabled {
            true => {
                Some(NutServer::start(&config.nut, hub.clone(), stop_rx.clone(), &mut tasks).await?)
            }
            false => None,
        };
        if config.metrics.enabled {
            let listener = crate::metrics::http::bind(config.metrics.listen).await?;
            let endpoint = crate::metrics::http::Endpoint {
                hub: hub.clone(),
                mqtt: mqtt.clone(),
                traps: config.traps.enabled.then(|| trap_stats.clone()),
                nut: nut_stats.clone(),
            };
            let max = config.metrics.max_connections;
            tasks.spawn(crate::metrics::http::serve(
                listener,
                endpoint,
                max,
                stop_rx.clone(),
            ));
        }
        tasks.spawn(publish_bridge_health(
            mqtt.clone(),
            trap_stats,
            hub.clone(),
            nut_stats,
            stop_rx,
        ));
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

/// Walks running at once across all UPSes (see
/// [`UpsTask::with_walk_limit`]): a rack's worth, so only a room of UPSes
/// starting together ever waits (500 on loopback: about a second longer),
/// and the raw replies of at most 16 whole-card walks are held at once.
const CONCURRENT_WALKS: usize = 16;

/// Routed traps waiting for their UPS task; more are dropped and counted.
const TRAP_QUEUE: usize = 256;

/// The trap socket's receive buffer: a burst of traps waits there while
/// the listener catches up (the kernel caps it at net.core.rmem_max).
const TRAP_SOCKET_BUFFER: usize = 4 * 1024 * 1024;

fn bind_trap_socket(address: SocketAddr) -> anyhow::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    if let Err(error) = socket.set_recv_buffer_size(TRAP_SOCKET_BUFFER) {
        warn!(%address, %error, "cannot enlarge the trap socket's receive buffer");
    }
    let socket = socket
        .bind(&address.into())
        .map(|()| std::net::UdpSocket::from(socket));
    let socket = socket.map_err(|error| {
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

/// Publishes each trap event and hands its effects to the UPS task's
/// forwarder (merged with earlier ones it has not taken yet).
async fn deliver_traps(
    mqtt: Mqtt,
    mut deliveries: mpsc::Receiver<Delivery>,
    inboxes: HashMap<String, Arc<TrapEffects>>,
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
        if let Some(inbox) = inboxes.get(&delivery.ups_id) {
            inbox.merge(delivery.facts, delivery.pages, delivery.ack);
        }
    }
}

/// A UPS's trap effects its task has not taken yet, merged: the latest
/// value per field, the union of pages to re-poll, each distinct MGE trap
/// number to acknowledge. Bounded by the point table, whatever the rate.
#[derive(Default)]
struct TrapEffects {
    pending: Mutex<Option<MergedEffects>>,
    ready: Notify,
}

#[derive(Default)]
struct MergedEffects {
    facts: Vec<(&'static Field, Reading)>,
    pages: BTreeSet<Page>,
    acks: BTreeSet<i64>,
}

impl TrapEffects {
    fn merge(&self, facts: Vec<(&'static Field, Reading)>, pages: Vec<Page>, ack: Option<i64>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let merged = pending.get_or_insert_with(MergedEffects::default);
        for (field, reading) in facts {
            merged.facts.retain(|(f, _)| !std::ptr::eq(*f, field));
            merged.facts.push((field, reading));
        }
        merged.pages.extend(pages);
        merged.acks.extend(ack);
        drop(pending);
        self.ready.notify_one();
    }

    fn take(&self) -> Option<MergedEffects> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

/// Hands merged trap effects to one UPS task, waiting for room in its
/// inbox (commands, which do not wait, are answered `busy` instead).
async fn forward_trap_effects(
    inbox: Arc<TrapEffects>,
    tx: mpsc::Sender<UpsRequest>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = inbox.ready.notified() => {}
            _ = stop.changed() => return,
        }
        let Some(merged) = inbox.take() else {
            continue;
        };
        let mut acks = merged.acks.into_iter();
        let mut requests = vec![UpsRequest::Trap(Box::new(TrapRequest {
            facts: merged.facts,
            pages: merged.pages.into_iter().collect(),
            ack: acks.next(),
        }))];
        requests.extend(acks.map(|ack| {
            UpsRequest::Trap(Box::new(TrapRequest {
                ack: Some(ack),
                ..TrapRequest::default()
            }))
        }));
        for request in requests {
            tokio::select! {
                sent = tx.send(request) => if sent.is_err() { return },
                _ = stop.changed() => return,
            }
        }
    }
}

/// `<base>/bridge/health`: trap and MQTT counters, when they change
/// (looked at every 2 s; the text is only built for a change).
async fn publish_bridge_health(
    mqtt: Mqtt,
    traps: Arc<TrapStats>,
    hub: Hub,
    nut: Option<Arc<NutStats>>,
    mut stop: watch::Receiver<bool>,
) {
    let topic = mqtt.naming().bridge_health();
    let mut published: Option<BridgeHealth> = None;
    loop {
        let health = BridgeHealth {
            version: env!("CARGO_PKG_VERSION"),
            traps: traps.counters(),
            mqtt: MqttCounters {
                connection: MqttStats {
                    // Not published: every publish would count as a change.
                    publishes: 0,
                    ..mqtt.stats()
                },
                commands_busy: hub.commands_total(Via::Mqtt, FailureKind::Busy.as_str()),
            },
            nut: nut.as_ref().map(|n| n.counters()),
        };
        if published.as_ref() != Some(&health) {
            mqtt.set_retained(Class::Health, &topic, messages::text(&health));
            published = Some(health);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Runs until SIGINT or SIGTERM, then shuts down cleanly; polls wake on
/// `grid`.
pub async fn run_until_signal(config: Config, grid: WakeGrid) -> anyhow::Result<()> {
    let gateway = Gateway::start_on(config, grid).await?;
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
                name: Some(ups.display_name().to_string()),
                area: ups.area.clone(),
                configuration_url: ups.device_url(),
            },
        }
    }

    fn naming(&self) -> &Naming {
        self.mqtt.naming()
    }
}

impl UpsSink for MqttSink {
    /// The page's text is not kept: the store renders it from the
    /// readings (shared with the model) whenever it is sent.
    fn page(&mut self, page: PublishedPage, force: bool) {
        let topic = self.naming().page(&self.ups_id, page.page());
        self.mqtt
            .set_derived(Class::State, &topic, Arc::new(page), force);
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
            .set_retained(Class::Health, &topic, messages::text(health));
    }

    fn response(&mut self, response: &Response) {
        let topic = self.naming().response(&self.ups_id);
        publish_reply(
            &self.mqtt,
            Reply::Response,
            &topic,
            messages::json(response),
        );
    }

    fn audit(&mut self, record: &Audit) {
        let topic = self.naming().audit(&self.ups_id);
        publish_reply(&self.mqtt, Reply::Audit, &topic, messages::json(record));
    }

    fn energy(&mut self, total: &EnergyTotal) {
        let topic = self.naming().energy(&self.ups_id);
        self.mqtt
            .set_retained(Class::State, &topic, messages::text(total));
    }
}

impl crate::mqtt::Derived for PublishedPage {
    fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.write_text(out)
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

/// What the incoming-message handler needs.
struct Inbound {
    mqtt: Mqtt,
    known: KnownIds,
    requests: HashMap<String, mpsc::Sender<UpsRequest>>,
    /// Where commands the gateway answers itself are counted.
    hub: Hub,
    limit: usize,
}

async fn handle_incoming(
    inbound: Inbound,
    mut incoming: IncomingRx,
    mut stop: watch::Receiver<bool>,
) {
    let mqtt = &inbound.mqtt;
    loop {
        let message = tokio::select! {
            message = incoming.recv() => match message {
                Some(message) => message,
                None => return,
            },
            _ = stop.changed() => return,
        };
        let topic = mqtt.naming().parse(&message.topic);
        if let Some(mut request) =
            command::from_topic(topic.clone(), &message.topic, &message.payload)
        {
            if message.retain {
                continue;
            }
            if let Some(size) = message.oversize {
                request.transaction = None;
                request.action = Err(format!(
                    "message too large: {size} bytes (mqtt.max_incoming_bytes = {})",
                    inbound.limit
                ));
                answer_now(&inbound, &request, FailureKind::TooLarge);
                continue;
            }
            route_command(&inbound, request);
            continue;
        }
        if let Ok(Topic::Energy { ups }) = &topic {
            restore_energy(&inbound.requests, ups, &message);
            continue;
        }
        if let (Ok(topic), None) = (topic, message.oversize) {
            on_incoming(mqtt, &inbound.known, &topic, &message);
        }
    }
}

/// A retained energy total (this gateway's own, from before it started)
/// goes to its UPS task, which adds it once.
fn restore_energy(
    requests: &HashMap<String, mpsc::Sender<UpsRequest>>,
    ups_id: &str,
    message: &Incoming,
) {
    if !message.retain {
        return;
    }
    let (Some(tx), Ok(total)) = (
        requests.get(ups_id),
        serde_json::from_slice::<EnergyTotal>(&message.payload),
    ) else {
        return;
    };
    if tx
        .try_send(UpsRequest::RestoreEnergy(total.output_energy))
        .is_err()
    {
        warn!(%ups_id, "UPS task busy: retained energy total not read back");
    }
}

/// Hands a command to its UPS task; a full inbox gets a `busy` error
/// response at once (and an audit record, and a count) instead of waiting.
fn route_command(inbound: &Inbound, request: command::Request) {
    let ups_id = request.ups_id.clone();
    let Some(tx) = inbound.requests.get(&ups_id) else {
        warn!(%ups_id, topic = %request.origin, "command for an unknown UPS ignored");
        return;
    };
    if let Err(error) = tx.try_send(UpsRequest::Command(Box::new(request))) {
        let UpsRequest::Command(request) = error.into_inner() else {
            return;
        };
        answer_now(inbound, &request, FailureKind::Busy);
        debug!(%ups_id, "command refused: busy");
    }
}

/// Answers a command the gateway refuses itself (`busy`, `too_large`),
/// with its response and audit record, and counts it.
fn answer_now(inbound: &Inbound, request: &command::Request, kind: FailureKind) {
    let mqtt = &inbound.mqtt;
    let time = crate::time::rfc3339(std::time::SystemTime::now());
    let message = match (kind, &request.action) {
        (FailureKind::Busy, _) => "this UPS is still executing earlier commands".to_string(),
        (_, Err(message)) => message.clone(),
        (_, Ok(_)) => kind.as_str().to_string(),
    };
    let outcome = command::Outcome::failed(kind, message);
    inbound
        .hub
        .count_command(&request.ups_id, request.via, &outcome);
    let naming = mqtt.naming();
    publish_reply(
        mqtt,
        Reply::Response,
        &naming.response(&request.ups_id),
        messages::json(&command::response(request, &outcome, &time)),
    );
    publish_reply(
        mqtt,
        Reply::Audit,
        &naming.audit(&request.ups_id),
        messages::json(&command::audit(request, &outcome, &time)),
    );
}

/// Longest string (and key) a reply echoes; longer ones are cut.
const ECHO_CHARS: usize = 200;
/// Most array items or object members a reply echoes per level.
const ECHO_ITEMS: usize = 32;

/// Publishes a response or audit record, never echoing more than a short
/// prefix of what the sender put in it.
fn publish_reply(mqtt: &Mqtt, kind: Reply, topic: &str, reply: Json) {
    mqtt.publish_reply(kind, topic, bounded_echo(&reply).to_string());
}

/// `json` with every string and key cut to [`ECHO_CHARS`] characters and
/// every array and object to [`ECHO_ITEMS`] entries (cuts end in `…`).
fn bounded_echo(json: &Json) -> Json {
    let cut = |text: &str| -> String {
        match text.char_indices().nth(ECHO_CHARS) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text.to_string(),
        }
    };
    match json {
        Json::String(text) => Json::String(cut(text)),
        Json::Array(items) => {
            let mut out: Vec<Json> = items.iter().take(ECHO_ITEMS).map(bounded_echo).collect();
            if items.len() > ECHO_ITEMS {
                out.push(Json::String(format!("… {} more", items.len() - ECHO_ITEMS)));
            }
            Json::Array(out)
        }
        Json::Object(members) => {
            let mut out: Map<String, Json> = members
                .iter()
                .take(ECHO_ITEMS)
                .map(|(k, v)| (cut(k), bounded_echo(v)))
                .collect();
            if members.len() > ECHO_ITEMS {
                out.insert(
                    "…".to_string(),
                    Json::String(format!("{} more", members.len() - ECHO_ITEMS)),
                );
            }
            Json::Object(out)
        }
        other => other.clone(),
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
    } else if let Some(ups_id) = ghost_ups(known, topic, &message.payload) {
        warn!(%ups_id, "removing retained state of a UPS no longer configured");
        for page in Page::ALL {
            mqtt.clear_retained(Class::State, &naming.page(ups_id, page));
        }
        mqtt.clear_retained(Class::Health, &naming.health(ups_id));
        mqtt.clear_retained(Class::State, &naming.availability(ups_id));
        mqtt.clear_retained(Class::State, &naming.owner(ups_id));
        mqtt.clear_retained(Class::State, &naming.energy(ups_id));
        // Its Home Assistant device too: this gateway published it (the
        // owner record says so), and its discovery config may be too large
        // to be read back for the device check above.
        let device = naming.discovery(&naming.ups_device_id(ups_id));
        mqtt.clear_retained(Class::Discovery, &device);
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

/// A UPS this gateway published (its retained `<base>/<ups>/gateway` says
/// so) that is no longer configured. Another gateway's UPSes on the same
/// broker are never ghosts; one of ours published by another gateway too
/// is an error in the configurations.
fn ghost_ups<'a>(known: &KnownIds, topic: &'a Topic, payload: &[u8]) -> Option<&'a str> {
    let Topic::Owner { ups } = topic else {
        return None;
    };
    let ours = payload == known.naming.gateway_id.as_bytes();
    match (ours, known.ups_ids.contains(ups)) {
        (true, false) => Some(ups.as_str()),
        (false, true) => {
            let other = String::from_utf8_lossy(payload);
            error!(ups = %ups, gateway = %other, "this UPS id is also published by another gateway on this broker: UPS ids must differ across gateways sharing a base topic");
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_echo_only_a_short_prefix() {
        let long = "x".repeat(100_000);
        let many: Vec<Json> = (0..1000).map(Json::from).collect();
        let reply = serde_json::json!({
            "error": format!("unknown command {long:?}"),
            "transaction": { long.clone(): many },
        });
        let bounded = bounded_echo(&reply);
        let text = bounded.to_string();
        assert!(text.len() < 2_000, "{} bytes", text.len());
        let error = bounded["error"].as_str().unwrap();
        assert!(error.starts_with("unknown command \"xxx") && error.ends_with('…'));
        let (key, items) = bounded["transaction"]
            .as_object()
            .unwrap()
            .iter()
            .next()
            .unwrap();
        assert_eq!(key.chars().count(), ECHO_CHARS + 1);
        assert_eq!(items.as_array().unwrap().len(), ECHO_ITEMS + 1);
        // Short replies are untouched.
        let short = serde_json::json!({ "status": "ok", "readback": { "config.beeper": "muted" } });
        assert_eq!(bounded_echo(&short), short);
    }
}
