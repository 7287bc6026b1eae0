//! Owned SNMP values: what a varbind carries once it has left the packet
//! buffer. Decoding into page JSON (scale, enums, sentinels) lives in
//! `pages`; this type only says what arrived on the wire.

use crate::oid::Oid;
use std::fmt;

/// One SNMP value with its ASN.1/SMI type.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Integer(i64),
    OctetString(Vec<u8>),
    Null,
    ObjectId(Box<Oid>),
    IpAddress([u8; 4]),
    Counter32(u32),
    /// Gauge32 and Unsigned32 share one tag on the wire.
    Gauge32(u32),
    TimeTicks(u32),
    Counter64(u64),
    Opaque(Vec<u8>),
    /// v2c exception: the object does not exist on this agent.
    NoSuchObject,
    /// v2c exception: the object exists but not this instance.
    NoSuchInstance,
    /// v2c exception: nothing follows in GETNEXT/GETBULK order.
    EndOfMibView,
}

/// A varbind: an instance OID and its value.
pub type VarBind = (Oid, Value);

impl Value {
    /// Any integer-like value (INTEGER, Counter32, Gauge32, TimeTicks,
    /// Counter64) as i64: real cards mix these types for the same object
    /// (quirk Q4: Galaxy returns RFC 1628 integers as Gauge32).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Integer(n) => Some(n),
            Value::Counter32(n) | Value::Gauge32(n) | Value::TimeTicks(n) => Some(i64::from(n)),
            Value::Counter64(n) => i64::try_from(n).ok(),
            _ => None,
        }
    }

    /// The bytes of an OCTET STRING (or Opaque).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::OctetString(b) | Value::Opaque(b) => Some(b),
            _ => None,
        }
    }

    /// An OBJECT IDENTIFIER value (boxed: a `Value` stays 32 bytes, and
    /// OIDs are the rare value).
    pub fn oid(oid: Oid) -> Value {
        Value::ObjectId(Box::new(oid))
    }

    /// True for the three v2c exceptions (noSuchObject, noSuchInstance,
    /// endOfMibView).
    pub fn is_exception(&self) -> bool {
        matches!(
            self,
            Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView
        )
    }

    /// True for the three v2c exceptions and NULL: "no value here".
    pub fn is_absent(&self) -> bool {
        matches!(self, Value::Null) || self.is_exception()
    }

    /// snmpsim/net-snmp style type tag, used in logs and `.snmprec` files.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Integer(_) => "INTEGER",
            Value::OctetString(_) => "OCTET STRING",
            Value::Null => "NULL",
            Value::ObjectId(_) => "OBJECT IDENTIFIER",
            Value::IpAddress(_) => "IpAddress",
            Value::Counter32(_) => "Counter32",
            Value::Gauge32(_) => "Gauge32",
            Value::TimeTicks(_) => "TimeTicks",
            Value::Counter64(_) => "Counter64",
            Value::Opaque(_) => "Opaque",
            Value::NoSuchObject => "noSuchObject",
            Value::NoSuchInstance => "noSuchInstance",
            Value::EndOfMibView => "endOfMibView",
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(n) => write!(f, "INTEGER: {n}"),
            Value::OctetString(b) => write!(f, "STRING: {:?}", String::from_utf8_lossy(b)),
            Value::ObjectId(o) => write!(f, "OID: {o}"),
            Value::IpAddress(ip) => write!(f, "IpAddress: {}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]),
            Value::Counter32(n) => write!(f, "Counter32: {n}"),
            Value::Gauge32(n) => write!(f, "Gauge32: {n}"),
            Value::TimeTicks(n) => write!(f, "TimeTicks: {n}"),
            Value::Counter64(n) => write!(f, "Counter64: {n}"),
            Value::Opaque(b) => write!(f, "Opaque: {b:02x?}"),
            other => f.write_str(other.type_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values are kept by the hundred per UPS and per poll (GET answers,
    /// walks): an OID, the rare value, is boxed so it does not set the size.
    #[test]
    fn a_value_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
        assert_eq!(std::mem::size_of::<Option<Value>>(), 32);
    }
}
