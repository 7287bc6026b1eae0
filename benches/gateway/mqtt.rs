//! The benchmark's own MQTT client (rumqttc, already a dependency of the
//! crate): it keeps the latest `<base>/<ups>/health` of every UPS, times trap
//! events and command responses as they arrive, and publishes requests.

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The OID of the varbind that carries a trap's sequence number.
pub const SEQ_OID: &str = "1.3.6.1.4.1.99999.1.0";

/// Health of one UPS, as last published.
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub polls: u64,
    pub requests: u64,
    pub retransmissions: u64,
    pub timeouts: u64,
    pub online: bool,
    /// `requests` when `polls` was first seen at 1: the first (full) poll,
    /// with the capability GETNEXT.
    pub first_poll_requests: Option<u64>,
}

#[derive(Default)]
struct State {
    health: HashMap<String, Health>,
    /// Trap sequence number → send time.
    traps_sent: HashMap<u64, Instant>,
    /// Trap latencies, in ms.
    trap_latency: Vec<f64>,
    /// Transaction → waiter.
    responses: HashMap<String, oneshot::Sender<(Instant, Json)>>,
}

/// A connected, subscribed client.
pub struct Observer {
    client: AsyncClient,
    state: Arc<Mutex<State>>,
    base: String,
    task: tokio::task::JoinHandle<()>,
    closing: Arc<AtomicBool>,
}

impl Observer {
    /// Connects to the broker and subscribes to health, events and responses
    /// under `base`; returns once the broker has acknowledged the subscriptions.
    pub async fn connect(port: u16, base: &str) -> Observer {
        let mut options = MqttOptions::new(
            format!("ups2mqtt-bench-{}", std::process::id()),
            "127.0.0.1",
            port,
        );
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
        // No Nagle delay on the benchmark's own side of the latencies.
        let mut network = eventloop.network_options();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let closing = Arc::new(AtomicBool::new(false));
        let state = Arc::new(Mutex::new(State::default()));
        let filters = ["health", "event", "response"].map(|t| format!("{base}/+/{t}"));
        for filter in &filters {
            client
                .subscribe(filter.as_str(), QoS::AtLeastOnce)
                .await
                .expect("subscribe");
        }
        let (subscribed_tx, subscribed_rx) = oneshot::channel();
        let shared = state.clone();
        let quiet = closing.clone();
        let task = tokio::spawn(async move {
            let mut subscribed = Some((subscribed_tx, filters.len()));
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(publish))) => {
                        let at = Instant::now();
                        on_publish(&shared, &publish.topic, &publish.payload, at);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some((tx, left)) = subscribed.take() {
                            if left == 1 {
                                let _ = tx.send(());
                            } else {
                                subscribed = Some((tx, left - 1));
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(_) if quiet.load(Ordering::Relaxed) => return,
                    Err(error) => {
                        eprintln!("bench MQTT client: {error}; reconnecting");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), subscribed_rx)
            .await
            .expect("SUBACK within 10 s")
            .expect("subscribed");
        Observer {
            client,
            state,
            base: base.to_string(),
            task,
            closing,
        }
    }

    pub fn health(&self) -> HashMap<String, Health> {
        self.state.lock().unwrap().health.clone()
    }

    /// Records the send time of trap `seq` (call just before sending it).
    pub fn trap_sent(&self, seq: u64, at: Instant) {
        self.state.lock().unwrap().traps_sent.insert(seq, at);
    }

    /// Trap latencies so far (ms), and how many sent traps never arrived.
    pub fn trap_results(&self) -> (Vec<f64>, usize) {
        let state = self.state.lock().unwrap();
        (state.trap_latency.clone(), state.traps_sent.len())
    }

    /// Publishes `payload` on `<base>/<ups>/request` and waits for the
    /// response with `transaction`: the latency, and the response.
    pub async fn request(
        &self,
        ups: &str,
        transaction: &str,
        payload: String,
        timeout: Duration,
    ) -> Option<(Duration, Json)> {
        let (tx, rx) = oneshot::channel();
        self.state
            .lock()
            .unwrap()
            .responses
            .insert(transaction.to_string(), tx);
        let topic = format!("{}/{ups}/request", self.base);
        let sent = Instant::now();
        self.client
            .publish(topic, QoS::AtMostOnce, false, payload)
            .await
            .expect("publish");
        let answer = tokio::time::timeout(timeout, rx).await;
        self.state.lock().unwrap().responses.remove(transaction);
        match answer {
            Ok(Ok((at, json))) => Some((at.duration_since(sent), json)),
            _ => None,
        }
    }

    pub async fn close(self) {
        self.closing.store(true, Ordering::Relaxed);
        let _ = self.client.disconnect().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.task.abort();
    }
}

fn on_publish(state: &Mutex<State>, topic: &str, payload: &[u8], at: Instant) {
    let mut parts = topic.rsplitn(3, '/');
    let (Some(kind), Some(ups)) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(json) = serde_json::from_slice::<Json>(payload) else {
        return;
    };
    let mut state = state.lock().unwrap();
    match kind {
        // <base>/bridge/health is the gateway's own.
        "health" if ups == "bridge" => {}
        "health" => {
            let n = |key: &str| json[key].as_u64().unwrap_or(0);
            let entry = state.health.entry(ups.to_string()).or_default();
            entry.polls = n("polls");
            entry.requests = n("requests");
            entry.retransmissions = n("retransmissions");
            entry.timeouts = n("timeouts");
            entry.online = json["online"].as_bool().unwrap_or(false);
            if entry.polls == 1 && entry.first_poll_requests.is_none() {
                entry.first_poll_requests = Some(entry.requests);
            }
        }
        "event" => {
            let seq = json["varbinds"].as_array().and_then(|vbs| {
                vbs.iter()
                    .find(|vb| vb["oid"] == SEQ_OID)
                    .and_then(|vb| vb["value"].as_u64())
            });
            if let Some(seq) = seq {
                if let Some(sent) = state.traps_sent.remove(&seq) {
                    state
                        .trap_latency
                        .push(at.duration_since(sent).as_secs_f64() * 1000.0);
                }
            }
        }
        "response" => {
            if let Some(transaction) = json["transaction"].as_str() {
                if let Some(tx) = state.responses.remove(transaction) {
                    let _ = tx.send((at, json));
                }
            }
        }
        _ => {}
    }
}
