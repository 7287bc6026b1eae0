//! Raw wire values of point-table sources, on top of `ups2mqtt::pages`
//! (`encode_value` / `decode_one`, reused, never rewritten): JSON → raw with
//! the "no reading" sentinels, and the checks a SET value must pass (SMI
//! type, then the point's `Legal` values).

use serde_json::Value as Json;
use ups2mqtt::mib::{self, Decode, Field, Legal, Source, Syntax};
use ups2mqtt::pages::{self, EncodeError};
use ups2mqtt::snmp::Value;

/// A published-unit JSON value → the raw value `source` carries. `null`
/// becomes the source's first "no reading" sentinel (e.g. -1 for idle
/// timers); anything else goes through [`pages::encode_value`].
pub fn to_raw(source: &Source, json: &Json) -> Result<Value, EncodeError> {
    match (json, source.decode, source.null_when.first()) {
        (Json::Null, Decode::Number { scale }, Some(&raw)) => {
            pages::encode_value(source, &serde_json::json!(raw as f64 * scale))
        }
        (Json::Null, _, _) => Err(EncodeError {
            object: source.object,
            reason: "has no \"no reading\" value".to_string(),
        }),
        (json, _, _) => pages::encode_value(source, json),
    }
}

/// The field and source of a MIB object, by its name (`upsmgBatteryLevel`).
pub fn source_by_object(object: &str) -> Option<(&'static Field, &'static Source)> {
    mib::FIELDS.iter().find_map(|f| {
        f.sources
            .iter()
            .find(|s| s.object == object)
            .map(|s| (f, s))
    })
}

/// Multiplies an integer value by `factor`, keeping its SMI type (quirk Q2:
/// a card that serves tenths where its MIB says whole units).
pub fn scaled(value: Value, factor: i64) -> Value {
    match value {
        Value::Integer(n) => Value::Integer(n * factor),
        Value::Gauge32(n) => Value::Gauge32(n.saturating_mul(factor as u32)),
        Value::Counter32(n) => Value::Counter32(n.saturating_mul(factor as u32)),
        other => other,
    }
}

/// True when `value` has the SMI type the object is defined with.
pub fn fits_syntax(syntax: Syntax, value: &Value) -> bool {
    matches!(
        (syntax, value),
        (Syntax::Integer, Value::Integer(_))
            | (Syntax::Gauge32, Value::Gauge32(_))
            | (Syntax::Counter32, Value::Counter32(_))
            | (Syntax::TimeTicks, Value::TimeTicks(_))
            | (Syntax::OctetString, Value::OctetString(_))
            | (Syntax::ObjectId, Value::ObjectId(_))
    )
}

/// Why a SET of one varbind is refused, independent of the SNMP version
/// (the agent maps these to v1 or v2c error statuses).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    #[error("{0}: no access with this community")]
    NoAccess(String),
    #[error("{0}: not writable")]
    NotWritable(String),
    #[error("{0}: no such instance, and rows cannot be created")]
    NoCreation(String),
    #[error("{object}: wrong type, expected {expected:?}, got {got}")]
    WrongType {
        object: String,
        expected: Syntax,
        got: &'static str,
    },
    #[error("{object}: {reason}")]
    WrongLength { object: String, reason: String },
    #[error("{object}: {reason}")]
    WrongValue { object: String, reason: String },
    #[error("{object}: {reason}")]
    Inconsistent { object: String, reason: String },
}

impl SetError {
    pub fn wrong_value(object: &str, reason: impl Into<String>) -> SetError {
        SetError::WrongValue {
            object: object.to_string(),
            reason: reason.into(),
        }
    }

    pub fn inconsistent(object: &str, reason: impl Into<String>) -> SetError {
        SetError::Inconsistent {
            object: object.to_string(),
            reason: reason.into(),
        }
    }
}

/// Checks a SET value against the source's SMI type and `legal`, and
/// returns it decoded (JSON in published units; `null` for a sentinel).
pub fn check_value(source: &Source, legal: Legal, value: &Value) -> Result<Json, SetError> {
    let object = source.object;
    if !fits_syntax(source.syntax, value) {
        return Err(SetError::WrongType {
            object: object.to_string(),
            expected: source.syntax,
            got: value.type_name(),
        });
    }
    let raw = value.as_i64();
    if raw.is_some_and(|raw| source.null_when.contains(&raw)) {
        return Ok(Json::Null);
    }
    let json = pages::decode_one(source, value)
        .ok_or_else(|| SetError::wrong_value(object, "no value"))?;
    match legal {
        Legal::Range { min, max } => match json.as_f64() {
            Some(x) if (min..=max).contains(&x) => Ok(json),
            _ => Err(SetError::wrong_value(
                object,
                format!("{json} is outside {min}..={max}"),
            )),
        },
        Legal::AnyLabel => match raw.and_then(|r| source.decode.label(r)) {
            Some(_) => Ok(json),
            None => Err(SetError::wrong_value(
                object,
                format!("{raw:?} is not one of its values"),
            )),
        },
        Legal::Labels(allowed) => match raw {
            Some(r) if allowed.contains(&r) => Ok(json),
            _ => Err(SetError::wrong_value(
                object,
                format!("{raw:?} is not one of {allowed:?}"),
            )),
        },
        Legal::Bool => match json {
            Json::Bool(_) => Ok(json),
            _ => Err(SetError::wrong_value(
                object,
                format!("{raw:?} is not a yes/no value"),
            )),
        },
        Legal::Text { max_len } => match value.as_bytes() {
            Some(bytes) if bytes.len() <= max_len => Ok(json),
            _ => Err(SetError::WrongLength {
                object: object.to_string(),
                reason: format!("longer than {max_len} bytes"),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ups2mqtt::mib::field_by_path;

    fn source(path: &str, index: usize) -> &'static Source {
        &field_by_path(path)
            .unwrap_or_else(|| panic!("{path}"))
            .sources[index]
    }

    fn legal(source: &Source) -> Legal {
        match source.access {
            ups2mqtt::mib::Access::ReadWrite(legal) => legal,
            ups2mqtt::mib::Access::ReadOnly => panic!("{} is read-only", source.object),
        }
    }

    #[test]
    fn null_becomes_the_sentinel() {
        let countdown = source("control.shutdown_after_delay", 0);
        assert_eq!(to_raw(countdown, &Json::Null).unwrap(), Value::Integer(-1));
        assert!(to_raw(source("general.name", 0), &Json::Null).is_err());
        assert_eq!(
            to_raw(countdown, &serde_json::json!(30)).unwrap(),
            Value::Integer(30)
        );
    }

    #[test]
    fn q2_scaling_keeps_the_type() {
        assert_eq!(scaled(Value::Integer(230), 10), Value::Integer(2300));
        assert_eq!(scaled(Value::Gauge32(230), 10), Value::Gauge32(2300));
        assert_eq!(
            scaled(Value::OctetString(vec![1]), 10),
            Value::OctetString(vec![1])
        );
    }

    #[test]
    fn set_checks_type_range_labels_bools_and_length() {
        let runtime = source("config.low_battery_runtime", 0); // TimeTicks, 0..=3600 s
        let l = legal(runtime);
        assert_eq!(
            check_value(runtime, l, &Value::TimeTicks(12_000)).unwrap(),
            serde_json::json!(120.0)
        );
        assert!(matches!(
            check_value(runtime, l, &Value::Integer(12_000)),
            Err(SetError::WrongType { .. })
        ));
        assert!(matches!(
            check_value(runtime, l, &Value::TimeTicks(400_000)),
            Err(SetError::WrongValue { .. })
        ));

        let select = source("config.deep_discharge_protection", 0);
        assert!(check_value(select, legal(select), &Value::Integer(2)).is_ok());
        assert!(matches!(
            check_value(select, legal(select), &Value::Integer(7)),
            Err(SetError::WrongValue { .. })
        ));

        let command = source("control.receptacles.off", 0); // Labels [2, 3]
        assert!(check_value(command, legal(command), &Value::Integer(2)).is_ok());
        assert!(check_value(command, legal(command), &Value::Integer(1)).is_err());

        let flag = source("config.alarm_audible", 0);
        assert_eq!(
            check_value(flag, legal(flag), &Value::Integer(2)).unwrap(),
            Json::Bool(false)
        );
        assert!(check_value(flag, legal(flag), &Value::Integer(3)).is_err());

        let name = source("general.name", 1); // PowerNet, 8 bytes
        assert!(check_value(name, legal(name), &Value::OctetString(b"UPS_1".to_vec())).is_ok());
        let long = check_value(
            name,
            legal(name),
            &Value::OctetString(b"much too long".to_vec()),
        );
        assert!(
            matches!(long, Err(SetError::WrongLength { .. })),
            "{long:?}"
        );

        let timer = source("control.shutdown_after_delay", 0);
        assert_eq!(
            check_value(timer, legal(timer), &Value::Integer(-1)).unwrap(),
            Json::Null
        );
    }
}
