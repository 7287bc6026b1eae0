//! Whatever an agent answers for the point table's OIDs (any type, any
//! value, any instance suffix, within the config's scale overrides) decodes
//! into pages, NUT-style status and Home Assistant discovery without a
//! panic, and the discovery payload is valid JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ups2mqtt::discovery::{self, Bridge, DeviceOptions};
use ups2mqtt::mib::{FIELDS, Mib, Page};
use ups2mqtt::oid::Oid;
use ups2mqtt::pages::{ScaleOverrides, Snapshot};
use ups2mqtt::snmp::Value;
use ups2mqtt::topics::Naming;

/// Reads the fuzzer's bytes as a stream of small choices.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>().map_or(0, |[b]| b)
    }
    fn u32(&mut self) -> u32 {
        self.take::<4>().map_or(0, u32::from_le_bytes)
    }
    fn i64(&mut self) -> i64 {
        self.take::<8>().map_or(0, i64::from_le_bytes)
    }
    fn bytes(&mut self) -> Vec<u8> {
        let len = (self.u8() as usize % 40).min(self.0.len());
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        head.to_vec()
    }
    fn value(&mut self) -> Value {
        match self.u8() % 14 {
            0 => Value::Integer(self.i64()),
            1 => Value::Integer(i64::from(self.u8() as i8)),
            2 => Value::OctetString(self.bytes()),
            3 => Value::Null,
            4 => Value::oid(Oid::from_arcs(
                self.bytes().into_iter().map(u32::from).collect::<Vec<_>>(),
            )),
            5 => Value::IpAddress(self.take::<4>().unwrap_or_default()),
            6 => Value::Counter32(self.u32()),
            7 => Value::Gauge32(self.u32()),
            8 => Value::TimeTicks(self.u32()),
            9 => Value::Counter64(self.i64() as u64),
            10 => Value::Opaque(self.bytes()),
            11 => Value::NoSuchObject,
            12 => Value::NoSuchInstance,
            _ => Value::EndOfMibView,
        }
    }
    /// A finite, positive scale, as `config` accepts.
    fn scale(&mut self) -> f64 {
        let x = f64::from_bits(self.i64() as u64).abs();
        if x.is_finite() && x > 0.0 { x } else { 0.1 }
    }
}

fuzz_target!(|bytes: &[u8]| {
    let mut input = Input(bytes);
    let mut data = Snapshot::new();
    let mut overrides = ScaleOverrides::new();
    while !input.0.is_empty() {
        let pick = u16::from_le_bytes(input.take::<2>().unwrap_or_default());
        let field = &FIELDS[usize::from(pick) % FIELDS.len()];
        let source = &field.sources[usize::from(input.u8()) % field.sources.len()];
        let object = source.object_oid();
        let instance = match input.u8() % 5 {
            0 => object.child(0),
            1 => object.child(u32::from(input.u8())),
            2 => object.join(&[u32::from(input.u8()), 0]),
            3 => object.join(&[input.u32(), input.u32()]),
            _ => {
                overrides.insert(source.object.to_string(), input.scale());
                object.child(0)
            }
        };
        data.insert(instance, input.value());
    }
    let mut model = ups2mqtt::model::Model::from_snapshot(Mib::ALL.into(), &data, &overrides);
    for page in Page::ALL {
        if let (Some(json), Some(text)) = (model.page_json(page), model.page_text(page)) {
            assert_eq!(serde_json::Value::Object(json).to_string(), text, "{page}");
        }
    }
    let naming = Naming::new("fuzz", "ups2mqtt", "homeassistant");
    let bridge = Bridge {
        naming: &naming,
        version: "fuzz",
    };
    let device = discovery::ups_device(&bridge, "ups", &model.shape(), &DeviceOptions::default());
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&device.payload) {
        panic!("discovery is not JSON ({e}): {}", device.payload);
    }
});
