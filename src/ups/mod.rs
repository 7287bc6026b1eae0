//! One UPS: its SNMP connection, its task, and command execution.
//!
//! This module owns the conversation with one agent: resolve its address,
//! detect (or take from the config) which MIBs it serves, and read any set
//! of pages in as few round trips as the point table allows (one parallel
//! walk of the pages' subtrees). `ups2mqtt probe` uses [`Ups`] once; the
//! gateway runs one [`UpsTask`] per UPS ([`task`]: scheduling, health,
//! trap facts), which executes commands ([`execute`]) and wakes on a grid
//! ([`wake`]).

mod execute;
mod task;
mod wake;

pub use task::{TrapRequest, UpsRequest, UpsSink, UpsTask, poll_phase};
pub use wake::WakeGrid;

use crate::config::UpsConfig;
use crate::mib::{Mib, Page};
use crate::model::Model;
use crate::model::ServedCell;
use crate::oid::Oid;
use crate::pages::{ScaleOverrides, Snapshot};
use crate::probe::{self, Capabilities, EveryPollRead};
use crate::snmp::{Client, ClientOptions, SnmpError, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Why a UPS could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UpsError {
    #[error("cannot resolve {host}:{port}: {reason}")]
    Resolve {
        host: String,
        port: u16,
        reason: String,
    },
    #[error(transparent)]
    Snmp(#[from] SnmpError),
    /// SNMPv3 credentials that cannot be used (an unvalidated config).
    #[error("SNMPv3 credentials: {0}")]
    Credentials(String),
    #[error(
        "{target} answers SNMP but serves none of the UPS MIBs (RFC 1628 1.3.6.1.2.1.33, MGE 1.3.6.1.4.1.705.1, PowerNet 1.3.6.1.4.1.318.1.1.1)"
    )]
    NotAUps { target: SocketAddr },
}

/// A connected UPS: its client and capabilities.
pub struct Ups {
    client: Client,
    capabilities: Capabilities,
    overrides: ScaleOverrides,
    /// How the pages read at every poll (their rows come and go) are
    /// read, derived once (see [`EveryPollCells`]).
    every_poll: Option<Arc<EveryPollCells>>,
    /// The most varbinds one of their table columns held at its last walk:
    /// the next walk's first GETBULK asks for one more (see
    /// [`Client::walk_map_sized`]).
    every_poll_most: Option<usize>,
}

/// The pages read at every poll ([`EveryPollRead`]) as GET cells: their
/// page-level objects ride in the poll's GET of the other pages' cells.
struct EveryPollCells {
    read: EveryPollRead,
    /// Each page-level source's cell, and the OID its value is kept under.
    scalars: Vec<(ServedCell, Oid)>,
    /// Page-level objects that have no compact cell: walked instead.
    walked: Vec<Oid>,
}

impl EveryPollCells {
    fn new(read: EveryPollRead) -> EveryPollCells {
        let mut scalars = Vec::with_capacity(read.scalars.len());
        let mut walked = Vec::new();
        for &source in &read.scalars {
            match ServedCell::scalar(source) {
                Some(cell) => scalars.push(cell),
                None => walked.push(source.object_oid()),
            }
        }
        EveryPollCells {
            read,
            scalars,
            walked,
        }
    }
}

/// Whether `pages` are the ones read at every poll (their rows come and
/// go): alarms.
fn is_every_poll(pages: &[Page]) -> bool {
    !pages.is_empty() && pages.iter().all(|page| page.rows_come_and_go())
}

/// The most varbinds `snapshot` holds under one of `roots`.
fn most_under_one_root(roots: &[Oid], snapshot: &Snapshot) -> usize {
    roots
        .iter()
        .map(|root| {
            snapshot
                .range(root..)
                .take_while(|(oid, _)| oid.starts_with(root))
                .count()
        })
        .max()
        .unwrap_or(0)
}

impl Ups {
    /// Resolves the agent, opens a client and detects the served MIBs
    /// (unless the config forces them).
    pub async fn connect(config: &UpsConfig) -> Result<Ups, UpsError> {
        let target = resolve(&config.host, config.port).await?;
        let mut client = Client::new(client_options(config, target)?)?;
        let capabilities = match config.forced_mibs() {
            Some(mibs) => Capabilities { mibs },
            None => probe::detect(&mut client).await?,
        };
        if capabilities.mibs.is_empty() {
            return Err(UpsError::NotAUps { target });
        }
        Ok(Ups {
            client,
            capabilities,
            overrides: config.scale.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            every_poll: None,
            every_poll_most: None,
        })
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    pub fn served_mibs(&self) -> impl Iterator<Item = Mib> + '_ {
        self.capabilities.mibs.iter().copied()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Walks the subtrees of `pages` once and returns the raw snapshot.
    pub async fn snapshot(&mut self, pages: &[Page]) -> Result<Snapshot, SnmpError> {
        Ok(self.read(pages, &[]).await?.0)
    }

    /// Walks the subtrees of `walk` and GETs the instances `get` (the cells
    /// a page was decoded from before, see [`crate::model::PageData::served_cells`]):
    /// the walk's snapshot, and for each cell of `get` its value (`None`:
    /// the agent no longer has it). The pages read at every poll are read
    /// as [`Ups::read_every_poll`] says.
    pub async fn read(
        &mut self,
        walk: &[Page],
        get: &[ServedCell],
    ) -> Result<(Snapshot, Vec<Option<Value>>), SnmpError> {
        if is_every_poll(walk) {
            return self.read_every_poll(walk, get).await;
        }
        let snapshot = if walk.is_empty() {
            Snapshot::new()
        } else {
            let roots = self.capabilities.walk_roots(walk);
            // Boxed: walks are the rare case, and the GET path's future
            // stays small (see `UpsTask::run_loop`).
            Box::pin(self.client.walk_map_sized(&roots, None)).await?
        };
        let got = if get.is_empty() {
            Vec::new()
        } else {
            self.client.get_values(get).await?
        };
        Ok((snapshot, got))
    }

    /// Reads `pages`, those read at every poll, with the cells `get`: their
    /// page-level objects are GET with those cells, and their tables are
    /// walked only where the count just read is not 0 (see
    /// [`EveryPollRead`]). With no alarm active, a fast poll is its GETs.
    async fn read_every_poll(
        &mut self,
        pages: &[Page],
        get: &[ServedCell],
    ) -> Result<(Snapshot, Vec<Option<Value>>), SnmpError> {
        let plan = self.every_poll_cells(pages);
        let mut names = Vec::with_capacity(get.len() + plan.scalars.len());
        names.extend_from_slice(get);
        names.extend(plan.scalars.iter().map(|(cell, _)| *cell));
        let mut got = self.client.get_values(&names).await?;
        let mut snapshot = Snapshot::new();
        for ((_, oid), value) in plan.scalars.iter().zip(got.drain(get.len()..)) {
            if let Some(value) = value {
                snapshot.insert(oid.clone(), value);
            }
        }
        let mut roots = plan.read.walk_roots(&snapshot);
        roots.extend(plan.walked.iter().cloned());
        if !roots.is_empty() {
            // Boxed: the GET path's future stays small (see
            // `UpsTask::run_loop`).
            let walked = Box::pin(self.client.walk_map_sized(&roots, self.every_poll_most)).await?;
            self.every_poll_most = Some(most_under_one_root(&roots, &walked));
            snapshot.extend(walked);
        }
        Ok((snapshot, got))
    }

    /// The every-poll read of `pages`, derived at the first poll.
    fn every_poll_cells(&mut self, pages: &[Page]) -> Arc<EveryPollCells> {
        let capabilities = &self.capabilities;
        self.every_poll
            .get_or_insert_with(|| {
                Arc::new(EveryPollCells::new(capabilities.every_poll_read(pages)))
            })
            .clone()
    }

    /// Reads `pages` into a new model of this UPS.
    pub async fn read_model(&mut self, pages: &[Page]) -> Result<Model, SnmpError> {
        let snapshot = self.snapshot(pages).await?;
        let mut model = Model::new(self.capabilities.mibs.clone());
        model.apply_read(pages, &snapshot, &self.overrides);
        Ok(model)
    }

    /// The per-object scale overrides of the config.
    pub fn overrides(&self) -> &ScaleOverrides {
        &self.overrides
    }
}

/// The client settings of a UPS entry (SNMPv3: its users, whose master
/// keys are derived from the passwords once per process).
pub fn client_options(config: &UpsConfig, target: SocketAddr) -> Result<ClientOptions, UpsError> {
    let mut options = ClientOptions::new(target);
    if let Some(version) = config.version.community() {
        options.version = version;
    }
    if let Some((user, write_user)) = config.usm_users().map_err(UpsError::Credentials)? {
        options.usm = Some(crate::snmp::UsmOptions {
            user,
            write_user,
            context: config.context.clone(),
        });
    }
    options.community = config.community.clone();
    options.timeout = Duration::from_millis(config.timeout_ms);
    options.retries = config.retries;
    options.max_pdu_bytes = config.max_pdu_bytes;
    options.max_repetitions = config.max_repetitions;
    Ok(options)
}

/// Resolves `host:port` (names, IPv4, IPv6) to the first address.
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, UpsError> {
    let error = |reason: String| UpsError::Resolve {
        host: host.to_string(),
        port,
        reason,
    };
    let host_part = host.trim_start_matches('[').trim_end_matches(']');
    tokio::net::lookup_host((host_part, port))
        .await
        .map_err(|e| error(e.to_string()))?
        .next()
        .ok_or_else(|| error("no address found".to_string()))
}
