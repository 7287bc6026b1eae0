//! SNMP v1/v2c/v3: values, wire encoding, USM and an async manager.
//!
//! This module owns everything that speaks SNMP on the wire:
//!
//! * [`value`]: owned values and varbinds, free of any packet buffer.
//! * [`ber`]: our BER encoder (snmp2 keeps its encoder private) and the
//!   OBJECT IDENTIFIER content codec.
//! * [`message`]: a whole owned SNMP message of any PDU kind, encoded with
//!   [`ber`] and decoded with snmp2's parser. Shared by the client, the trap
//!   listener and the simulator (agent side).
//! * [`usm`]: SNMPv3 users, keys, authentication and privacy.
//! * [`v3`]: SNMPv3 messages on the wire and Report PDUs.
//! * [`rtt`]: the round-trip time histogram a client keeps.
//! * [`client`]: the async manager (GET, parallel walks, SET) with retries,
//!   request ids and adaptive batch sizes, over v1, v2c or v3.
//!
//! [`Version`] (the community-based message versions) and [`SnmpVersion`]
//! (what a UPS is polled with, v3 included) live here because every layer
//! needs them.

pub mod ber;
pub mod client;
pub mod message;
pub mod rtt;
pub mod usm;
pub mod v3;
pub mod value;

pub use client::{Client, ClientOptions, ClientStats, SnmpError, UsmOptions, UsmProblem};
pub use message::{
    CommonPdu, DecodeError, ErrorStatus, Message, Pdu, PduKind, PduRef, TrapV1, VarbindsRef,
};
pub use value::{Value, VarBind};

use std::fmt;
use std::str::FromStr;

/// The community-based SNMP message versions (v3 messages have their own
/// layout: [`v3`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// SNMPv1 (RFC 1157): no GETBULK, no exceptions, `noSuchName` errors.
    V1,
    /// SNMPv2c (RFC 1901/3416): GETBULK and per-varbind exceptions.
    #[default]
    V2c,
}

impl Version {
    /// The value of the message's `version` field on the wire.
    pub fn wire(self) -> i64 {
        match self {
            Version::V1 => 0,
            Version::V2c => 1,
        }
    }

    /// The version for a wire `version` field, if we speak it.
    pub fn from_wire(value: i64) -> Option<Version> {
        match value {
            0 => Some(Version::V1),
            1 => Some(Version::V2c),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V1 => "1",
            Version::V2c => "2c",
        })
    }
}

/// Why a string does not name an SNMP version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SNMP version {0:?}: expected \"1\" or \"2c\" (community-based versions)")]
pub struct ParseVersionError(String);

impl FromStr for Version {
    type Err = ParseVersionError;

    /// Accepts `1`, `v1`, `2`, `2c`, `v2c` (case-insensitive).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "v1" => Ok(Version::V1),
            "2" | "2c" | "v2c" => Ok(Version::V2c),
            _ => Err(ParseVersionError(text.to_string())),
        }
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    /// Accepts the strings of [`FromStr`], and the bare integers 1 and 2
    /// (TOML `version = 2`).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(VersionVisitor)
    }
}

struct VersionVisitor;

impl serde::de::Visitor<'_> for VersionVisitor {
    type Value = Version;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an SNMP version: \"1\" or \"2c\"")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Version, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Version, E> {
        self.visit_str(&n.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Version, E> {
        self.visit_str(&n.to_string())
    }
}

/// The SNMP version a UPS is polled with: a community-based version, or
/// SNMPv3 with USM (PDUs as in v2c: GETBULK, exceptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SnmpVersion {
    V1,
    #[default]
    V2c,
    V3,
}

impl SnmpVersion {
    /// The community-based version, `None` for v3.
    pub fn community(self) -> Option<Version> {
        match self {
            SnmpVersion::V1 => Some(Version::V1),
            SnmpVersion::V2c => Some(Version::V2c),
            SnmpVersion::V3 => None,
        }
    }
}

impl From<Version> for SnmpVersion {
    fn from(version: Version) -> SnmpVersion {
        match version {
            Version::V1 => SnmpVersion::V1,
            Version::V2c => SnmpVersion::V2c,
        }
    }
}

impl fmt::Display for SnmpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SnmpVersion::V1 => "1",
            SnmpVersion::V2c => "2c",
            SnmpVersion::V3 => "3",
        })
    }
}

/// Why a string does not name an SNMP version we poll with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SNMP version {0:?}: expected \"1\", \"2c\" or \"3\"")]
pub struct ParseSnmpVersionError(String);

impl FromStr for SnmpVersion {
    type Err = ParseSnmpVersionError;

    /// Accepts `1`, `v1`, `2`, `2c`, `v2c`, `3`, `v3` (case-insensitive).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "3" | "v3" => Ok(SnmpVersion::V3),
            other => other
                .parse::<Version>()
                .map(SnmpVersion::from)
                .map_err(|_| ParseSnmpVersionError(text.to_string())),
        }
    }
}

impl serde::Serialize for SnmpVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SnmpVersion {
    /// The strings of [`FromStr`], and the bare integers 1, 2 and 3.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SnmpVersionVisitor)
    }
}

struct SnmpVersionVisitor;

impl serde::de::Visitor<'_> for SnmpVersionVisitor {
    type Value = SnmpVersion;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an SNMP version: \"1\", \"2c\" or \"3\"")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SnmpVersion, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<SnmpVersion, E> {
        self.visit_str(&n.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<SnmpVersion, E> {
        self.visit_str(&n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snmp_versions_include_v3() {
        for (text, version) in [
            ("1", SnmpVersion::V1),
            ("2c", SnmpVersion::V2c),
            ("v2c", SnmpVersion::V2c),
            ("3", SnmpVersion::V3),
            ("V3", SnmpVersion::V3),
        ] {
            assert_eq!(text.parse::<SnmpVersion>().unwrap(), version, "{text}");
        }
        assert_eq!(SnmpVersion::V3.to_string(), "3");
        assert_eq!(SnmpVersion::V3.community(), None);
        assert_eq!(SnmpVersion::V1.community(), Some(Version::V1));
        assert!("4".parse::<SnmpVersion>().is_err());
        #[derive(serde::Deserialize)]
        struct Conf {
            version: SnmpVersion,
        }
        let from_int: Conf = serde_json::from_str(r#"{"version":3}"#).unwrap();
        assert_eq!(from_int.version, SnmpVersion::V3);
    }

    #[test]
    fn version_text_round_trip() {
        for (text, version) in [
            ("1", Version::V1),
            ("v1", Version::V1),
            ("2c", Version::V2c),
            ("V2C", Version::V2c),
            ("2", Version::V2c),
        ] {
            assert_eq!(text.parse::<Version>().unwrap(), version, "{text}");
        }
        assert_eq!(Version::V1.to_string(), "1");
        assert_eq!(Version::V2c.to_string(), "2c");
        let err = "3".parse::<Version>().unwrap_err();
        assert!(err.to_string().contains("\"3\""), "{err}");
    }

    #[test]
    fn version_deserializes_from_strings_and_integers() {
        #[derive(serde::Deserialize)]
        struct Conf {
            version: Version,
        }
        let from_str: Conf = serde_json::from_str(r#"{"version":"v2c"}"#).unwrap();
        assert_eq!(from_str.version, Version::V2c);
        let from_int: Conf = serde_json::from_str(r#"{"version":1}"#).unwrap();
        assert_eq!(from_int.version, Version::V1);
        assert!(serde_json::from_str::<Conf>(r#"{"version":"3"}"#).is_err());
    }

    #[test]
    fn version_wire_values() {
        assert_eq!(Version::from_wire(Version::V1.wire()), Some(Version::V1));
        assert_eq!(Version::from_wire(Version::V2c.wire()), Some(Version::V2c));
        assert_eq!(Version::from_wire(3), None);
    }
}
