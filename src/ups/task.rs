//! The per-UPS task: everything that talks to one agent is serialized
//! here, so one dead agent never blocks another.
//!
//! This module owns the schedule (which pages are due, the poll phase),
//! the UPS's [`Model`] (fed by polls, trap facts and read-backs), health
//! and availability, and what goes to the [`UpsSink`]: changed pages, a new
//! shape for discovery, health. Commands are executed in
//! [`super::execute`].

use super::{Ups, UpsError, WakeGrid};
use crate::config::{CommandsConfig, UpsConfig};
use crate::hub::{Publisher, UpsState};
use crate::messages::{Audit, EnergyTotal, Health, Response};
use crate::mib::{Field, Page};
use crate::model::energy::{self, EnergyMeter};
use crate::model::{Layouts, Model, PollRead, PublishedPage, ServedCell, Shape, Update};
use crate::pages::{Reading, Snapshot};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::Instrument;

/// Where a UPS task's results go (the gateway maps them to MQTT topics;
/// tests record them). Calls are cheap and never block on the network.
pub trait UpsSink: Send + 'static {
    /// A page's latest readings (rendered to JSON as needed); `force`
    /// re-publishes it even if unchanged.
    fn page(&mut self, page: PublishedPage, force: bool);
    /// A page the UPS no longer has.
    fn page_gone(&mut self, page: Page);
    /// What the UPS has and can do changed: announce it (discovery).
    fn shape(&mut self, shape: Arc<Shape>);
    fn availability(&mut self, online: bool);
    fn health(&mut self, health: &Health);
    /// The answer to a command (not retained).
    fn response(&mut self, response: &Response);
    /// The audit record of a command, accepted or refused (not retained).
    fn audit(&mut self, record: &Audit);
    /// The integrated output energy (retained).
    fn energy(&mut self, total: &EnergyTotal);
}

/// What can be asked of a running UPS task.
#[derive(Debug)]
pub enum UpsRequest {
    /// Read these pages now (traps, commands).
    PollNow(Vec<Page>),
    /// A trap arrived: update what it states at once, acknowledge it if
    /// asked (MGE upsmgAgentTrapAck), then re-poll its pages. (Boxed: see
    /// `Command`.)
    Trap(Box<TrapRequest>),
    /// A command from MQTT: validate, SET, read back, answer, audit.
    /// (Boxed, as in `Ask`: every inbox slot is as large as the largest
    /// request, and 500 UPSes keep an inbox each, allocated 32 slots at a
    /// time.)
    Command(Box<crate::command::Request>),
    /// The output energy this gateway published before it started (its
    /// retained message, read back from the broker).
    RestoreEnergy(f64),
    /// The same, for a caller that waits for the outcome (the NUT server,
    /// through [`crate::hub::Hub::command`]).
    Ask {
        request: Box<crate::command::Request>,
        reply: tokio::sync::oneshot::Sender<crate::command::Outcome>,
    },
}

/// What a trap asks of its UPS task ([`UpsRequest::Trap`]).
#[derive(Debug, Default)]
pub struct TrapRequest {
    pub facts: Vec<(&'static Field, Reading)>,
    pub pages: Vec<Page>,
    pub ack: Option<i64>,
}

/// Diagnostics published on the health topic.
#[derive(Debug, Default, Clone)]
struct HealthState {
    online: Option<bool>,
    failures: u32,
    last_good_poll: Option<u64>,
    last_error: Option<String>,
    polls: u64,
    poll_failures: u64,
    notes: Vec<String>,
}

/// The per-UPS task.
pub struct UpsTask<S: UpsSink> {
    pub(super) config: UpsConfig,
    pub(super) sink: S,
    refresh: Duration,
    pub(super) ups: Option<Ups>,
    next_due: BTreeMap<Page, Instant>,
    last_refresh: Instant,
    pub(super) model: Model,
    health: HealthState,
    pub(super) policy: CommandsConfig,
    /// Power-cutting commands waiting for their confirmation.
    pub(super) armed: HashMap<String, Instant>,
    /// Whether the polls were moved to this UPS's [`poll_phase`] (once,
    /// after the first good poll).
    phased: bool,
    /// Where the state goes for the NUT server and metrics, if anywhere.
    publisher: Option<Publisher>,
    /// Output energy, where the card has no counter ([`energy`]).
    energy: EnergyMeter,
    started: Instant,
    /// Per page, the cells its last walk was decoded from: polls between
    /// walks GET only these ([`UpsTask::read_plan`]).
    served: BTreeMap<Page, Vec<ServedCell>>,
    /// Walks in progress across the gateway, bounded (see
    /// [`UpsTask::with_walk_limit`]).
    walks: Option<Arc<tokio::sync::Semaphore>>,
    /// The instants polls wake at (see [`UpsTask::with_wake_grid`]).
    wake_grid: Option<WakeGrid>,
}

/// How long a task waits for its retained energy total before it
/// publishes one of its own.
const ENERGY_READ_BACK: Duration = Duration::from_secs(10);
/// Power readings further apart than this many fast polls are not
/// integrated.
const ENERGY_MAX_GAP_POLLS: u32 = 3;

impl<S: UpsSink> UpsTask<S> {
    /// `refresh`: how often every page is re-published even if unchanged.
    pub fn new(
        config: UpsConfig,
        sink: S,
        refresh: Duration,
        policy: CommandsConfig,
    ) -> UpsTask<S> {
        let now = Instant::now();
        let energy_gap = Duration::from_secs(config.poll.fast) * ENERGY_MAX_GAP_POLLS
            + Duration::from_millis(500);
        UpsTask {
            config,
            sink,
            refresh,
            ups: None,
            next_due: Page::ALL.iter().map(|&p| (p, now)).collect(),
            last_refresh: now,
            model: Model::new(BTreeSet::new()),
            health: HealthState::default(),
            policy,
            armed: HashMap::new(),
            phased: false,
            publisher: None,
            energy: EnergyMeter::new(energy_gap),
            started: now,
            served: BTreeMap::new(),
            walks: None,
            wake_grid: None,
        }
    }

    /// Shares the layouts of this UPS's shapes with the other UPS tasks'
    /// (UPSes of one make and firmware keep one copy).
    pub fn with_layouts(mut self, layouts: Layouts) -> UpsTask<S> {
        self.model = Model::new(self.model.mibs().clone()).with_layouts(layouts);
        self
    }

    /// Shares a bound on the walks running at once with other UPS tasks: a
    /// walk of every page holds tens of kB of raw replies until it is
    /// decoded, and at start every UPS walks everything at the same moment
    /// (500 UPSes: the gateway's peak memory). Polls between walks are GETs
    /// of a few cells and need no permit.
    pub fn with_walk_limit(mut self, walks: Arc<tokio::sync::Semaphore>) -> UpsTask<S> {
        self.walks = Some(walks);
        self
    }

    /// Wakes for polls on `grid` (see [`super::wake`]).
    pub fn with_wake_grid(mut self, grid: WakeGrid) -> UpsTask<S> {
        self.wake_grid = Some(grid);
        self
    }

    /// `deadline` on the wake grid, if the task has one.
    fn on_grid(&self, deadline: Instant) -> Instant {
        match &self.wake_grid {
            Some(grid) => grid.round_up(deadline),
            None => deadline,
        }
    }

    /// Publishes the state after every change (see [`crate::hub`]).
    pub fn with_publisher(mut self, publisher: Publisher) -> UpsTask<S> {
        self.publisher = Some(publisher);
        self
    }

    /// Counts a command's outcome where the metrics read it.
    pub(super) fn count_command(
        &self,
        via: crate::command::Via,
        outcome: &crate::command::Outcome,
    ) {
        if let Some(publisher) = &self.publisher {
            publisher.count_command(via, outcome);
        }
    }

    /// Hands the latest state to the hub's readers.
    pub(super) fn publish_state(&self) {
        if self.publisher.is_some() {
            self.publish_state_with(self.health_message());
        }
    }

    /// [`UpsTask::publish_state`] with the health message just built.
    fn publish_state_with(&self, health: Health) {
        if let Some(publisher) = &self.publisher {
            publisher.publish(UpsState {
                online: self.health.online == Some(true),
                model: self.model.clone(),
                health,
                rtt: self.ups.as_ref().map(|u| u.client().stats().rtt),
            });
        }
    }

    /// Polls until `stop` turns true; `requests` asks for early polls.
    ///
    /// The task's state (~2 kB) lives in a box the future points to: an
    /// `async fn` taking it by value holds it twice in its future (the
    /// argument, then the local), and every UPS keeps its future resident.
    pub fn run(
        self,
        mut requests: mpsc::Receiver<UpsRequest>,
        mut stop: watch::Receiver<bool>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut task = Box::new(self);
        async move {
            let span = tracing::info_span!("ups", id = %task.config.id);
            task.run_loop(&mut requests, &mut stop)
                .instrument(span)
                .await;
        }
    }

    async fn run_loop(
        &mut self,
        requests: &mut mpsc::Receiver<UpsRequest>,
        stop: &mut watch::Receiver<bool>,
    ) {
        loop {
            let due = self.due_pages();
            if due.is_empty() {
                let wake = self
                    .next_due
                    .values()
                    .min()
                    .copied()
                    .unwrap_or_else(Instant::now);
                tokio::select! {
                    _ = tokio::time::sleep_until(self.on_grid(wake)) => {}
                    // A request's future is boxed (commands are rare): the
                    // task's own future, resident for every UPS, stays small.
                    request = requests.recv() => match request {
                        Some(request) => Box::pin(self.handle(request)).await,
                        None => return,
                    },
                    _ = stop.changed() => return,
                }
                continue;
            }
            // Not boxed: a poll's future (about 1.3 kB, with connecting,
            // walks and SNMPv3 boxed where they happen) is above the size
            // glibc's per-thread cache serves, and a fresh one per poll
            // sent every allocator into a full consolidation (8% of the
            // gateway's CPU at 500 UPSes).
            tokio::select! {
                _ = self.poll(&due) => {}
                _ = stop.changed() => return,
            }
        }
    }

    async fn handle(&mut self, request: UpsRequest) {
        match request {
            UpsRequest::PollNow(pages) => self.make_due(&pages),
            UpsRequest::RestoreEnergy(kwh) => {
                if self.energy.restore(kwh) {
                    tracing::info!(kwh, "output energy read back");
                }
            }
            UpsRequest::Trap(trap) => {
                let TrapRequest { facts, pages, ack } = *trap;
                self.apply_facts(facts);
                if let Some(specific) = ack {
                    self.acknowledge(specific).await;
                }
                self.make_due(&pages);
            }
            UpsRequest::Command(request) => {
                self.execute(*request).await;
            }
            UpsRequest::Ask { request, reply } => {
                let outcome = self.execute(*request).await;
                let _ = reply.send(outcome);
            }
        }
    }

    /// Sets what a trap states outright, on fields the UPS has.
    fn apply_facts(&mut self, facts: Vec<(&'static Field, Reading)>) {
        let mut changed = BTreeSet::new();
        for (field, value) in facts {
            changed.extend(self.model.set(field, None, value));
        }
        if !changed.is_empty() {
            self.publish_state();
        }
        self.publish(changed, false);
    }

    /// Publishes the JSON of `pages` (those the UPS has).
    pub(super) fn publish(&mut self, pages: BTreeSet<Page>, force: bool) {
        for page in pages {
            if let Some(published) = self.model.published_page(page) {
                self.sink.page(published, force);
            }
        }
    }

    fn due_pages(&self) -> Vec<Page> {
        let now = Instant::now();
        self.next_due
            .iter()
            .filter(|(_, due)| **due <= now)
            .map(|(p, _)| *p)
            .collect()
    }

    pub(super) fn make_due(&mut self, pages: &[Page]) {
        let now = Instant::now();
        for page in pages {
            self.next_due.insert(*page, now);
        }
    }

    /// One poll of the due pages, then their next due times.
    async fn poll(&mut self, due: &[Page]) {
        let started = Instant::now();
        match self.read(due).await {
            Ok((read, walked)) => {
                self.on_success(due, &read, &walked);
            }
            Err(error) => self.on_failure(error),
        }
        let retry = Duration::from_secs(self.config.poll.fast);
        let online = self.health.online == Some(true);
        // The same shift for every page keeps slow pages riding along with
        // a fast poll.
        let phase = if online && !self.phased {
            self.phased = true;
            poll_phase(&self.config.id, retry)
        } else {
            Duration::ZERO
        };
        for &page in due {
            let interval = if online {
                self.config.poll.interval(page)
            } else {
                retry.min(self.config.poll.interval(page))
            };
            self.next_due.insert(page, started + interval + phase);
        }
        let health = self.health_message();
        self.sink.health(&health);
        self.publish_state_with(health);
    }

    /// Reads the due pages; returns what was read and the pages walked.
    async fn read(&mut self, due: &[Page]) -> Result<(PollRead, Vec<Page>), UpsError> {
        if self.ups.is_none() {
            // Boxed: connecting is rare, and its probe would make every
            // poll's future larger (see `run_loop`).
            let ups = Box::pin(Ups::connect(&self.config)).await?;
            tracing::info!(mibs = ?ups.capabilities().mibs, "agent detected");
            if ups.capabilities().mibs != *self.model.mibs() {
                self.model = self.model.for_mibs(ups.capabilities().mibs.clone());
            }
            // A new session may be another card: walk everything first.
            self.served.clear();
            self.ups = Some(ups);
        }
        let (walk, got) = self.read_plan(due);
        let mut read = PollRead::default();
        // Sized once: the cells (a few kB) are copied in without a
        // reallocation on the way.
        let cells = got.iter().map(|page| self.served[page].len()).sum();
        read.asked.reserve_exact(cells);
        read.got.reserve_exact(got.len());
        for page in got {
            read.ask(page, &self.served[&page]);
        }
        tracing::debug!(?walk, cells = read.asked.len(), "reading");
        let _permit = match (&self.walks, walk.is_empty()) {
            (Some(walks), false) => walks.clone().acquire_owned().await.ok(),
            _ => None,
        };
        let ups = self.ups.as_mut().expect("connected above");
        (read.walked, read.values) = ups.read(&walk, &read.asked).await?;
        Ok((read, walk))
    }

    /// Which due pages are walked, and which are read by a GET of their
    /// served cells.
    ///
    /// A page is walked when it has not been walked yet, its layout changed
    /// at its last read, its rows come and go (alarms), or a slow page is
    /// due too: so every new row, source or field a card grows shows up at
    /// the latest one slow interval later. In between, the cells the last
    /// walk was decoded from are all a poll asks for: one or two GETs
    /// instead of a walk of every MIB's subtrees.
    fn read_plan(&self, due: &[Page]) -> (Vec<Page>, Vec<Page>) {
        let full = due.iter().any(|page| !page.is_fast());
        due.iter().partition(|&&page| match self.served.get(&page) {
            Some(cells) => full || page.rows_come_and_go() || cells.is_empty(),
            None => true,
        })
    }

    /// Keeps the cells each walked page was decoded from, and forgets those
    /// of a page whose layout changed (walked again at its next poll).
    fn remember_served(&mut self, walked: &[Page], relayout: &BTreeSet<Page>, data: &Snapshot) {
        // Only fast pages are ever read by a GET of their cells (a slow
        // page due makes the poll a walk, see `read_plan`), and of those
        // not the ones whose rows come and go.
        let kept = |page: &&Page| page.is_fast() && !page.rows_come_and_go();
        for &page in walked.iter().filter(kept) {
            let cells = self.model.served_cells(page, data);
            self.model.expect_get(page, &cells, data);
            self.served.insert(page, cells);
        }
        for page in relayout {
            if !walked.contains(page) {
                self.served.remove(page);
            }
        }
    }

    fn on_success(&mut self, due: &[Page], read: &PollRead, walked: &[Page]) {
        let refresh = self.last_refresh.elapsed() >= self.refresh;
        if refresh {
            self.last_refresh = Instant::now();
        }
        let overrides = self.ups.as_ref().expect("connected").overrides();
        let Update {
            changed,
            gone,
            notes,
            relayout,
        } = self.model.apply_poll(due, read, overrides);
        self.remember_served(walked, &relayout, &read.walked);
        self.health.notes = notes;
        for page in gone {
            self.sink.page_gone(page);
        }
        // A refresh re-publishes every page, not only those that changed:
        // fast pages must not wait for the next refresh (HA's expire_after).
        let publish = if refresh {
            self.model.pages().map(|p| p.page).collect()
        } else {
            changed
        };
        self.publish(publish, refresh);
        self.announce_shape_if_changed();
        if due.contains(&Page::Output) {
            self.energy
                .sample(Instant::now(), energy::output_watts(&self.model));
            self.publish_energy();
        }
        self.health.failures = 0;
        self.health.last_error = None;
        self.health.polls += 1;
        self.health.last_good_poll = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs());
        if self.health.online != Some(true) {
            self.health.online = Some(true);
            self.sink.availability(true);
        }
    }

    /// The integrated output energy, once the previous total was read back
    /// (or none came in time), on UPSes without their own counter.
    fn publish_energy(&mut self) {
        if !self.model.is_complete() || !energy::integrated(&self.model.shape()) {
            return;
        }
        if !self.energy.is_restored() && self.started.elapsed() < ENERGY_READ_BACK {
            return;
        }
        self.sink.energy(&EnergyTotal {
            output_energy: self.energy.kwh(),
        });
    }

    /// Discovery follows what the UPS really has: announced once every
    /// page was read, again whenever a field, table row, source or the
    /// identity changes.
    pub(super) fn announce_shape_if_changed(&mut self) {
        if !self.model.is_complete() {
            return;
        }
        if let Some(shape) = self.model.new_shape() {
            self.sink.shape(shape);
        }
    }

    fn on_failure(&mut self, error: UpsError) {
        self.health.failures += 1;
        self.health.poll_failures += 1;
        tracing::warn!(failures = self.health.failures, %error, "poll failed");
        self.health.last_error = Some(error.to_string());
        if self.health.failures >= self.config.offline_after && self.health.online != Some(false) {
            self.health.online = Some(false);
            self.sink.availability(false);
            // Re-detect the MIBs when the agent comes back (it may have
            // been replaced or reconfigured).
            self.ups = None;
        }
    }

    fn health_message(&self) -> Health {
        let stats = self.ups.as_ref().map(|u| u.client().stats().clone());
        Health {
            online: self.health.online.unwrap_or(false),
            mibs: self
                .ups
                .iter()
                .flat_map(|u| u.served_mibs())
                .map(|m| m.name())
                .collect(),
            consecutive_failures: self.health.failures,
            last_error: self.health.last_error.clone(),
            last_good_poll: self.health.last_good_poll,
            polls: self.health.polls,
            poll_failures: self.health.poll_failures,
            rtt_ms: stats
                .as_ref()
                .and_then(|s| s.last_rtt)
                .map(|d| (d.as_secs_f64() * 10_000.0).round() / 10.0),
            requests: stats.as_ref().map(|s| s.requests),
            retransmissions: stats.as_ref().map(|s| s.retransmissions),
            timeouts: stats.as_ref().map(|s| s.timeouts),
            notes: self.health.notes.clone(),
        }
    }
}

/// Where in the fast interval a UPS's polls fall: a fixed fraction of it,
/// from the UPS id. UPSes started together (a gateway's start, a broker
/// back) would otherwise poll in the same instant every interval, and a
/// trap or command arriving then would wait behind hundreds of polls.
pub fn poll_phase(ups_id: &str, fast: Duration) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    ups_id.hash(&mut hasher);
    fast.mul_f64((hasher.finish() % 1000) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_phases_spread_upses_over_the_fast_interval() {
        let fast = Duration::from_secs(10);
        let mut per_second = [0u32; 10];
        for i in 0..500 {
            let phase = poll_phase(&format!("ups{i:03}"), fast);
            assert!(phase < fast);
            assert_eq!(phase, poll_phase(&format!("ups{i:03}"), fast), "stable");
            per_second[phase.as_secs() as usize] += 1;
        }
        // 50 per second if even; no second gets a burst.
        assert!(
            per_second.iter().all(|&n| (25..=75).contains(&n)),
            "{per_second:?}"
        );
    }
}
