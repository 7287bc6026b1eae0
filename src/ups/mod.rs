//! One UPS: its SNMP connection, its task, and command execution.
//!
//! This module owns the conversation with one agent: resolve its address,
//! detect (or take from the config) which MIBs it serves, and read any set
//! of pages in as few round trips as the point table allows (one parallel
//! walk of the pages' subtrees). `ups2mqtt probe` uses [`Ups`] once; the
//! gateway runs one [`UpsTask`] per UPS ([`task`]: scheduling, health,
//! trap facts), which executes commands ([`execute`]).

mod execute;
mod task;

pub use task::{TrapRequest, UpsRequest, UpsSink, UpsTask, poll_phase};

use crate::config::UpsConfig;
use crate::mib::{Mib, Page};
use crate::model::Model;
use crate::model::ServedCell;
use crate::oid::Oid;
use crate::pages::{ScaleOverrides, Snapshot};
use crate::probe::{self, Capabilities};
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
    /// The walk roots of the pages walked at every poll (their rows come
    /// and go): their objects, not their groups (see
    /// [`Capabilities::object_roots`]), derived once. Other sets are walked
    /// by group once per slow interval and derived each time (an OID is 80
    /// bytes: a UPS does not keep a few kB of roots it needs once a
    /// minute).
    every_poll_roots: Option<Arc<[Oid]>>,
    /// The most varbinds one of those roots held at its last walk: the
    /// next walk's first GETBULK asks for one more (see
    /// [`Client::walk_map_sized`]).
    every_poll_most: Option<usize>,
}

/// Whether `pages` are the ones walked at every poll (their rows come and
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
            every_poll_roots: None,
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
    /// the agent no longer has it).
    pub async fn read(
        &mut self,
        walk: &[Page],
        get: &[ServedCell],
    ) -> Result<(Snapshot, Vec<Option<Value>>), SnmpError> {
        let snapshot = if walk.is_empty() {
            Snapshot::new()
        } else {
            let every_poll = is_every_poll(walk);
            let roots = self.walk_roots(walk, every_poll);
            let expected = self.every_poll_most.filter(|_| every_poll);
            // Boxed: walks are the rare case, and the GET path's future
            // stays small (see `UpsTask::run_loop`).
            let snapshot = Box::pin(self.client.walk_map_sized(&roots, expected)).await?;
            if every_poll {
                self.every_poll_most = Some(most_under_one_root(&roots, &snapshot));
            }
            snapshot
        };
        let got = if get.is_empty() {
            Vec::new()
        } else {
            self.client.get_values(get).await?
        };
        Ok((snapshot, got))
    }

    /// The walk roots of `pages`, kept when they are the pages walked at
    /// `every_poll` (see [`Ups::every_poll_roots`]).
    fn walk_roots(&mut self, pages: &[Page], every_poll: bool) -> Arc<[Oid]> {
        if !every_poll {
            return self.capabilities.walk_roots(pages).into();
        }
        if let Some(roots) = &self.every_poll_roots {
            return roots.clone();
        }
        let roots: Arc<[Oid]> = self.capabilities.object_roots(pages).into();
        self.every_poll_roots = Some(roots.clone());
        roots
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
