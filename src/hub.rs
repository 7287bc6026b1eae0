//! The gateway's UPSes as the outputs other than MQTT see them (the NUT
//! server, metrics): each UPS's latest state, updated by its task after
//! every change, and a way to hand it a command and wait for the outcome.
//!
//! This module owns only the hand-over. A UPS task publishes an
//! `Arc<UpsState>` (its [`Model`] is cheap to clone: pages are shared and
//! copied on write) into a `watch` channel; readers take the latest
//! without locking the task, and can wait for the next change (a trap
//! reaches a NUT client in milliseconds). Nothing here polls a card.
//! Each UPS also has its [`CommandCounts`], counted by whoever answers a
//! command (the task, or the hub and the gateway when its inbox is full).

use crate::command::{CommandCounts, Outcome, Request, Via};
use crate::messages::{FailureKind, Health};
use crate::model::Model;
use crate::snmp::rtt::RttHistogram;
use crate::ups::UpsRequest;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// One UPS as its task last published it.
#[derive(Debug, Clone)]
pub struct UpsState {
    /// Whether the card answers (the MQTT availability).
    pub online: bool,
    pub model: Model,
    pub health: Health,
    /// The SNMP client's round trips (`None` before the card is detected).
    pub rtt: Option<RttHistogram>,
}

impl UpsState {
    fn empty() -> UpsState {
        UpsState {
            online: false,
            model: Model::new(Default::default()),
            health: Health::default(),
            rtt: None,
        }
    }
}

/// Where one UPS task publishes its state and counts its commands.
#[derive(Debug, Clone)]
pub struct Publisher {
    state: Arc<watch::Sender<Arc<UpsState>>>,
    commands: Arc<CommandCounts>,
}

impl Publisher {
    /// Replaces the published state.
    pub fn publish(&self, state: UpsState) {
        self.state.send_replace(Arc::new(state));
    }

    /// Counts a command the task answered.
    pub fn count_command(&self, via: Via, outcome: &Outcome) {
        self.commands.count(via, outcome);
    }
}

struct Entry {
    state: Arc<watch::Sender<Arc<UpsState>>>,
    requests: mpsc::Sender<UpsRequest>,
    commands: Arc<CommandCounts>,
}

/// Every UPS of the gateway, by id (cheap to clone).
#[derive(Clone, Default)]
pub struct Hub {
    upses: Arc<BTreeMap<String, Entry>>,
}

/// Builds a [`Hub`]: one [`Hub::add`] per UPS, then [`HubBuilder::build`].
#[derive(Default)]
pub struct HubBuilder {
    upses: BTreeMap<String, Entry>,
}

impl HubBuilder {
    /// Registers a UPS and its task's inbox; returns where its task
    /// publishes.
    pub fn add(&mut self, id: &str, requests: mpsc::Sender<UpsRequest>) -> Publisher {
        let (state, _) = watch::channel(Arc::new(UpsState::empty()));
        let publisher = Publisher {
            state: Arc::new(state),
            commands: Arc::default(),
        };
        self.upses.insert(
            id.to_string(),
            Entry {
                state: publisher.state.clone(),
                requests,
                commands: publisher.commands.clone(),
            },
        );
        publisher
    }

    pub fn build(self) -> Hub {
        Hub {
            upses: Arc::new(self.upses),
        }
    }
}

/// Why a command could not even be handed to its UPS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandOver {
    #[error("no UPS {0:?}")]
    UnknownUps(String),
    #[error("the gateway is stopping")]
    Stopped,
}

impl Hub {
    /// The UPS ids, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.upses.keys().map(String::as_str)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.upses.contains_key(id)
    }

    /// The latest state of a UPS.
    pub fn state(&self, id: &str) -> Option<Arc<UpsState>> {
        Some(self.upses.get(id)?.state.borrow().clone())
    }

    /// A receiver that wakes at every new state of a UPS.
    pub fn watch(&self, id: &str) -> Option<watch::Receiver<Arc<UpsState>>> {
        Some(self.upses.get(id)?.state.subscribe())
    }

    /// A UPS's command counts.
    pub fn commands(&self, id: &str) -> Option<&CommandCounts> {
        Some(&self.upses.get(id)?.commands)
    }

    /// Counts a command answered outside its UPS task (an unknown UPS is
    /// not counted).
    pub fn count_command(&self, id: &str, via: Via, outcome: &Outcome) {
        if let Some(entry) = self.upses.get(id) {
            entry.commands.count(via, outcome);
        }
    }

    /// Every UPS's commands of one interface and outcome, added up.
    pub fn commands_total(&self, via: Via, outcome: &str) -> u64 {
        let Some(at) = Outcome::name_index(outcome) else {
            return 0;
        };
        self.upses
            .values()
            .map(|entry| entry.commands.get_at(via, at))
            .sum()
    }

    /// Hands a command to its UPS task and waits for its outcome. A full
    /// inbox is answered `busy` at once, as on MQTT.
    pub async fn command(&self, request: Request) -> Result<Outcome, HandOver> {
        let entry = self
            .upses
            .get(&request.ups_id)
            .ok_or_else(|| HandOver::UnknownUps(request.ups_id.clone()))?;
        let via = request.via;
        let (reply, outcome) = oneshot::channel();
        match entry.requests.try_send(UpsRequest::Ask {
            request: Box::new(request),
            reply,
        }) {
            Ok(()) => outcome.await.map_err(|_| HandOver::Stopped),
            Err(mpsc::error::TrySendError::Full(_)) => {
                let busy = Outcome::failed(
                    FailureKind::Busy,
                    "this UPS is still executing earlier commands",
                );
                entry.commands.count(via, &busy);
                Ok(busy)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(HandOver::Stopped),
        }
    }
}
