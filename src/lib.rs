//! ups2mqtt: a Schneider Electric (MGE / APC) UPS over SNMP, as MQTT topics
//! and Home Assistant entities.
//!
//! Modules by role (see `../shared/DESIGN.md`); arrows run from the edges
//! inward and nothing depends on `main`:
//! - [`oid`]: the OID primitive everything shares.
//! - [`mib`]: the point table, the only place MIB facts live.
//! - [`snmp`]: BER, messages and the async manager.
//! - [`probe`]: which MIBs an agent serves, and which subtrees to walk.
//! - [`pages`]: varbinds → page JSON.
//! - [`ups`]: talking to one UPS (connect, detect, read pages).
//! - [`config`]: figment layers and validation.
//! - [`cli`]: the command line.

pub mod cli;
pub mod config;
pub mod mib;
pub mod oid;
pub mod pages;
pub mod probe;
pub mod snmp;
pub mod ups;
