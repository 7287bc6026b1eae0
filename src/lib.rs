//! ups2mqtt: a Schneider Electric (MGE / APC) UPS over SNMP, as MQTT topics
//! and Home Assistant entities.
//!
//! Modules by role (see `../shared/DESIGN.md`); arrows run from the edges
//! inward and nothing depends on `main`:
//! - [`oid`]: the OID primitive everything shares.
//! - [`mib`]: the point table, the only place MIB facts live.
//! - [`snmp`]: BER, messages and the async manager.
//! - [`probe`]: which MIBs an agent serves, and which subtrees to walk.
//! - [`pages`]: varbinds → typed readings (and back, for SETs).
//! - [`model`]: one UPS as it really is: sources, lines, commands, readings.
//! - [`messages`]: the payloads published on MQTT, as serde structs.
//! - [`status`]: NUT-style `ups.status` flags derived from the model.
//! - [`ups`]: one UPS: connect, detect, read; its task and command execution.
//! - [`mqtt`]: the one broker connection, retained store and replay.
//! - [`gateway`]: MQTT + one task per UPS, HA birth, ghosts, shutdown.
//! - [`hub`]: every UPS's latest state and a command hand-over, for the NUT server and metrics.
//! - [`metrics`]: Prometheus metrics rendered from the hub and the gateway's counters, over HTTP.
//! - [`notify`]: systemd readiness, watchdog and stopping notifications.
//! - [`topics`]: every MQTT topic and Home Assistant id.
//! - [`discovery`]: Home Assistant discovery payloads from the point table.
//! - [`command`]: command topics and requests → validated SET plans, safety, audit.
//! - [`trap`]: the trap listener: datagrams → routed UPS events.
//! - [`config`]: figment layers and validation.
//! - [`cli`]: the command line.

pub mod cli;
pub mod command;
pub mod config;
pub mod discovery;
pub mod gateway;
pub mod hash;
pub mod hub;
pub mod messages;
pub mod metrics;
pub mod mib;
pub mod model;
pub mod mqtt;
pub mod notify;
pub mod nut;
pub mod oid;
pub mod pages;
pub mod probe;
pub mod snmp;
pub mod status;
pub mod time;
pub mod topics;
pub mod trap;
pub mod ups;
