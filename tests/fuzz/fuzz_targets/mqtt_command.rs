//! Any MQTT message on a command topic (`<base>/<ups>/command`, `.../request`,
//! `.../<page>/<field>/set`, or a topic made up by the fuzzer) is parsed and
//! validated against a UPS that has every point, without a panic. A plan
//! that passes only writes the points it names, and power is never cut
//! unless the policy allows it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use ups2mqtt::command::{self, UpsView};
use ups2mqtt::config::CommandsConfig;
use ups2mqtt::mib::{Decode, FIELDS, Mib};
use ups2mqtt::model::{Model, Shape};
use ups2mqtt::oid::Oid;
use ups2mqtt::pages::{ScaleOverrides, Snapshot};
use ups2mqtt::snmp::Value;
use ups2mqtt::topics::Naming;

/// A card that answers every point of every MIB, tables with three rows.
fn full_card() -> &'static (Model, std::sync::Arc<Shape>) {
    static CARD: OnceLock<(Model, std::sync::Arc<Shape>)> = OnceLock::new();
    CARD.get_or_init(|| {
        let mut data = Snapshot::new();
        for field in FIELDS {
            for source in field.sources {
                let value = match source.decode {
                    Decode::Text => Value::OctetString(b"fuzz".to_vec()),
                    Decode::Alarm | Decode::ObjectId => {
                        Value::oid(Oid::parse("1.3.6.1.2.1.33.1.6.3.3").unwrap())
                    }
                    _ => Value::Integer(1),
                };
                let rows: &[u32] = if field.table.is_some() {
                    &[1, 2, 3]
                } else {
                    &[0]
                };
                for &row in rows {
                    data.insert(source.instance(row), value.clone());
                }
            }
        }
        let mut model = Model::from_snapshot(Mib::ALL.into(), &data, &ScaleOverrides::new());
        let shape = model.shape();
        (model, shape)
    })
}

const FIXED_TOPICS: [&str; 3] = [
    "ups2mqtt/ups/command",
    "ups2mqtt/ups/request",
    "ups2mqtt/ups",
];

fuzz_target!(|input: &[u8]| {
    let Some((&choice, rest)) = input.split_first() else {
        return;
    };
    let (topic, payload) = match choice % 4 {
        0..=1 => (FIXED_TOPICS[usize::from(choice % 4)].to_string(), rest),
        2 => {
            let field = &FIELDS[usize::from(rest.first().copied().unwrap_or(0)) % FIELDS.len()];
            let path = field.path().replace('.', "/");
            (
                format!("ups2mqtt/ups/{path}/set"),
                rest.get(1..).unwrap_or_default(),
            )
        }
        _ => {
            let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let topic = String::from_utf8_lossy(&rest[..split]).to_string();
            (topic, rest.get(split + 1..).unwrap_or_default())
        }
    };
    let naming = Naming::new("fuzz", "ups2mqtt", "homeassistant");
    let Some(request) = command::parse(&naming, &topic, payload) else {
        return;
    };
    let Ok(action) = &request.action else {
        return;
    };
    let (model, shape) = full_card();
    let view = UpsView { model, shape };
    for dangerous in [false, true] {
        let policy = CommandsConfig {
            dangerous,
            ..CommandsConfig::default()
        };
        if let Ok(plan) = command::plan(action, &view, &policy) {
            assert!(
                dangerous || !plan.cuts_power,
                "power cut without permission: {action:?}"
            );
            for write in &plan.writes {
                assert!(write.source.is_writable(), "{} is not writable", write.path);
                assert!(
                    write.oid.starts_with(&write.source.object_oid()),
                    "{} written at {}",
                    write.path,
                    write.oid
                );
            }
        }
    }
});
