//! NUT's network protocol (networkupstools/nut `docs/net-protocol.txt`,
//! protocol 1.3): every UPS of the gateway served to NUT clients (upsmon,
//! upsc, a Synology, TrueNAS, Home Assistant's NUT integration) as a NUT
//! UPS named by its id.
//!
//! [`line`] splits request lines, [`vars`] holds NUT's names for the
//! point table's fields, [`server`] answers the requests from the
//! [`crate::hub::Hub`] (the same per-UPS model MQTT renders) and runs
//! `SET VAR` and `INSTCMD` through the same command path as MQTT.

pub mod line;
pub mod server;
pub mod tls;
pub mod vars;

pub use server::{NutServer, NutStats};
