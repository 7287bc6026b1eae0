//! snmpsim `.snmprec` walks (`OID|TYPE|VALUE`, one variable per line): the
//! `--walk` file a simulated card starts from.
//!
//! Type codes: 2 INTEGER, 4 OCTET STRING (`4x` hex, `4e` Python-escaped),
//! 5 NULL, 6 OBJECT IDENTIFIER, 64 IpAddress, 65 Counter32, 66 Gauge32,
//! 67 TimeTicks, 68 Opaque, 70 Counter64. A trailing `x` on any octet type
//! means hex.

use std::collections::BTreeMap;
use std::path::Path;
use ups2mqtt::oid::Oid;
use ups2mqtt::snmp::Value;

/// A walk: every variable by instance OID.
pub type Walk = BTreeMap<Oid, Value>;

#[derive(Debug, thiserror::Error)]
pub enum SnmprecError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
}

/// Reads and parses a `.snmprec` file.
pub fn load(path: &Path) -> Result<Walk, SnmprecError> {
    let name = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| SnmprecError::Read {
        path: name.clone(),
        source,
    })?;
    parse(&String::from_utf8_lossy(&text), &name)
}

/// Parses `.snmprec` text; `name` is only used in errors.
pub fn parse(text: &str, name: &str) -> Result<Walk, SnmprecError> {
    let mut walk = Walk::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (oid, value) = parse_line(line).map_err(|reason| SnmprecError::Line {
            path: name.to_string(),
            line: number + 1,
            reason,
        })?;
        walk.insert(oid, value);
    }
    Ok(walk)
}

fn parse_line(line: &str) -> Result<(Oid, Value), String> {
    let mut parts = line.splitn(3, '|');
    let (Some(oid), Some(kind), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("expected OID|TYPE|VALUE, got {line:?}"));
    };
    let oid = Oid::parse(oid).map_err(|e| e.to_string())?;
    let value = parse_value(kind, value).map_err(|e| format!("{oid}: {e}"))?;
    Ok((oid, value))
}

fn parse_value(kind: &str, text: &str) -> Result<Value, String> {
    let suffix = kind.trim_start_matches(|c: char| c.is_ascii_digit());
    let code = &kind[..kind.len() - suffix.len()];
    let bytes = || -> Result<Vec<u8>, String> {
        match suffix {
            "x" => hex(text),
            "e" => Ok(unescape(text)),
            "" => Ok(text.as_bytes().to_vec()),
            other => Err(format!("unknown type suffix {other:?}")),
        }
    };
    let number = |t: &str| t.trim().parse::<i64>().map_err(|e| format!("{t:?}: {e}"));
    let unsigned = |t: &str| t.trim().parse::<u32>().map_err(|e| format!("{t:?}: {e}"));
    Ok(match code {
        "2" => Value::Integer(number(text)?),
        "4" => Value::OctetString(bytes()?),
        "5" => Value::Null,
        "6" => Value::oid(Oid::parse(text).map_err(|e| e.to_string())?),
        "64" => Value::IpAddress(ip_address(suffix, text)?),
        "65" => Value::Counter32(unsigned(text)?),
        "66" => Value::Gauge32(unsigned(text)?),
        "67" => Value::TimeTicks(unsigned(text)?),
        "68" => Value::Opaque(bytes()?),
        "70" => Value::Counter64(text.trim().parse().map_err(|e| format!("{text:?}: {e}"))?),
        other => return Err(format!("unknown type code {other:?}")),
    })
}

fn ip_address(suffix: &str, text: &str) -> Result<[u8; 4], String> {
    let octets: Vec<u8> = if suffix == "x" {
        hex(text)?
    } else {
        text.trim()
            .split('.')
            .map(|o| o.parse::<u8>().map_err(|e| format!("{text:?}: {e}")))
            .collect::<Result<_, _>>()?
    };
    octets
        .try_into()
        .map_err(|_| format!("{text:?} is not an IPv4 address"))
}

fn hex(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    if text.len() % 2 != 0 {
        return Err(format!("odd-length hex string {text:?}"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| format!("bad hex {text:?}")))
        .collect()
}

/// Python-style escapes (`\xNN`, `\t`, `\n`, `\r`, `\\`, `\'`, `\"`).
fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 >= bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let (byte, used) = match bytes[i + 1] {
            b'x' => match text
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => (b, 4),
                None => (b'\\', 1),
            },
            b't' => (b'\t', 2),
            b'n' => (b'\n', 2),
            b'r' => (b'\r', 2),
            b'0' => (0, 2),
            c @ (b'\\' | b'\'' | b'"') => (c, 2),
            _ => (b'\\', 1),
        };
        out.push(byte);
        i += used;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        Oid::parse(s).unwrap()
    }

    #[test]
    fn parses_every_type_code() {
        let text = "1.3.6.1.2.1.1.1.0|4|Eaton 9PX | rack\n\
                    1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.705.1\n\
                    1.3.6.1.2.1.1.3.0|67|971867244\n\
                    1.3.6.1.2.1.1.6.0|4x|3C70\n\
                    1.3.6.1.2.1.1.7.0|2|-72\n\
                    1.3.6.1.2.1.1.8.0|5|\n\
                    1.3.6.1.4.1.1.1.0|4e|\\x07\\xe4\\t(\n\
                    1.3.6.1.4.1.1.2.0|64|10.240.15.71\n\
                    1.3.6.1.4.1.1.3.0|65|2\n\
                    1.3.6.1.4.1.1.4.0|66|0\n\
                    1.3.6.1.4.1.1.5.0|70|18446744073709551615\n\
                    \n";
        let walk = parse(text, "t").unwrap();
        assert_eq!(walk.len(), 11);
        assert_eq!(
            walk[&oid("1.3.6.1.2.1.1.1.0")],
            Value::OctetString(b"Eaton 9PX | rack".to_vec())
        );
        assert_eq!(
            walk[&oid("1.3.6.1.2.1.1.2.0")],
            Value::oid(oid("1.3.6.1.4.1.705.1"))
        );
        assert_eq!(
            walk[&oid("1.3.6.1.2.1.1.3.0")],
            Value::TimeTicks(971_867_244)
        );
        assert_eq!(
            walk[&oid("1.3.6.1.2.1.1.6.0")],
            Value::OctetString(vec![0x3c, 0x70])
        );
        assert_eq!(walk[&oid("1.3.6.1.2.1.1.7.0")], Value::Integer(-72));
        assert_eq!(walk[&oid("1.3.6.1.2.1.1.8.0")], Value::Null);
        assert_eq!(
            walk[&oid("1.3.6.1.4.1.1.1.0")],
            Value::OctetString(vec![7, 0xe4, b'\t', b'('])
        );
        assert_eq!(
            walk[&oid("1.3.6.1.4.1.1.2.0")],
            Value::IpAddress([10, 240, 15, 71])
        );
        assert_eq!(walk[&oid("1.3.6.1.4.1.1.5.0")], Value::Counter64(u64::MAX));
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("1.3.6.1.2.1.1.1.0|4|ok\n1.3.6|99|x\n", "walk.snmprec").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("walk.snmprec:2:"), "{text}");
        assert!(text.contains("99"), "{text}");
        assert!(parse("garbage\n", "w").is_err());
        assert!(parse("1.3.6.1|2|abc\n", "w").is_err());
    }

    #[test]
    fn reads_the_fixture_walks() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/walks");
        let walk = load(&dir.join("eaton-mgeups_9pxle.snmprec")).unwrap();
        assert_eq!(
            walk[&oid("1.3.6.1.4.1.705.1.1.7.0")],
            Value::OctetString(b"GA10J05109".to_vec())
        );
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "snmprec") {
                load(&path).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
}
