//! A UPS with every field of the point table: the first source of every
//! field answers (table columns with rows 1 and 2). Shared by the discovery
//! tests and the metrics benchmark (`#[path]`), so it uses only the library.

use ups2mqtt::mib::{self, Decode};
use ups2mqtt::oid::Oid;
use ups2mqtt::pages::Snapshot;
use ups2mqtt::snmp::Value;

/// The raw agent data of a UPS that serves every field once.
pub fn every_field_snapshot() -> Snapshot {
    let mut data = Snapshot::new();
    for field in mib::FIELDS {
        let source = &field.sources[0];
        let value = match source.decode {
            Decode::Text => Value::OctetString(format!("{} text", field.key).into_bytes()),
            Decode::Number { .. } => Value::Integer(2),
            Decode::Enum(labels) => Value::Integer(labels[0].0),
            Decode::Flag { on, .. } => Value::Integer(on),
            Decode::Alarm => Value::oid(Oid::parse("1.3.6.1.2.1.33.1.6.3.2").unwrap()),
            Decode::ObjectId => Value::oid(Oid::parse("1.3.6.1.2.1.33.1.7.7.4").unwrap()),
            Decode::Vendor => Value::oid(Oid::parse("1.3.6.1.4.1.318.1.3.27").unwrap()),
        };
        let instances: &[u32] = if field.table.is_some() { &[1, 2] } else { &[0] };
        for &instance in instances {
            data.insert(source.instance(instance), value.clone());
        }
    }
    data
}
