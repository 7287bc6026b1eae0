//! BER encoding of the ASN.1 subset SNMP uses, plus the OBJECT IDENTIFIER
//! content codec.
//!
//! snmp2's encoder types are crate-private, so messages are encoded here:
//! every `push_*` function appends one complete TLV to a `Vec<u8>`. Lengths
//! use the short form below 128 and the minimal long form above.
//!
//! A whole message is written into one buffer: a constructed TLV (and an
//! OBJECT IDENTIFIER) reserves one length byte, writes its content after it
//! and then patches the length in, moving the content up when the length
//! needs the long form. No TLV has a buffer of its own.
//!
//! Decoding is snmp2's job ([`crate::snmp::message`]) except for OID
//! contents: [`decode_oid`] replaces asn1-rs's arc iterator, which misreads
//! a first subidentifier that is not a single byte (e.g. `2.100`) and
//! silently accepts a truncated last arc.

use crate::oid::Oid;
use crate::snmp::value::Value;

/// Tags (identifier octets) of the SNMP types and PDUs.
pub mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OBJECT_IDENTIFIER: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
    pub const IP_ADDRESS: u8 = 0x40;
    pub const COUNTER32: u8 = 0x41;
    /// Gauge32 and Unsigned32 share this tag.
    pub const GAUGE32: u8 = 0x42;
    pub const TIME_TICKS: u8 = 0x43;
    pub const OPAQUE: u8 = 0x44;
    pub const COUNTER64: u8 = 0x46;
    pub const NO_SUCH_OBJECT: u8 = 0x80;
    pub const NO_SUCH_INSTANCE: u8 = 0x81;
    pub const END_OF_MIB_VIEW: u8 = 0x82;
    pub const GET: u8 = 0xa0;
    pub const GET_NEXT: u8 = 0xa1;
    pub const RESPONSE: u8 = 0xa2;
    pub const SET: u8 = 0xa3;
    pub const TRAP_V1: u8 = 0xa4;
    pub const GET_BULK: u8 = 0xa5;
    pub const INFORM: u8 = 0xa6;
    pub const TRAP_V2: u8 = 0xa7;
    pub const REPORT: u8 = 0xa8;
}

/// An OID that BER cannot carry as an OBJECT IDENTIFIER.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode OID {oid}: {reason}")]
pub struct EncodeError {
    /// Boxed: errors travel in `Result`s that should stay small.
    pub oid: Box<Oid>,
    pub reason: &'static str,
}

/// Why OBJECT IDENTIFIER content bytes are not an OID we can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OidDecodeError {
    #[error("empty OBJECT IDENTIFIER")]
    Empty,
    #[error("OBJECT IDENTIFIER ends inside a subidentifier (truncated)")]
    Truncated,
    #[error("OBJECT IDENTIFIER has a non-minimal subidentifier (leading 0x80)")]
    NonMinimal,
    #[error("OBJECT IDENTIFIER arc does not fit in 32 bits")]
    ArcTooLarge,
}

/// Appends a BER length: short form below 128, minimal long form above.
pub fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let significant = &bytes[skip..];
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// Appends a primitive TLV.
pub fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_length(out, content.len());
    out.extend_from_slice(content);
}

/// Appends a constructed TLV whose content `body` writes (after the
/// bytes already in `out`, which it must leave alone).
pub fn push_constructed(out: &mut Vec<u8>, tag: u8, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(tag);
    let length_at = out.len();
    out.push(0);
    body(out);
    patch_length(out, length_at);
}

/// Writes the length of the content that follows the one-byte length slot
/// at `at` (up to the end of `out`), in the minimal form.
fn patch_length(out: &mut Vec<u8>, at: usize) {
    let len = out.len() - at - 1;
    if len < 0x80 {
        out[at] = len as u8;
        return;
    }
    // Long form: 0x80 | n, then n big-endian bytes, which the content
    // moves up to make room for.
    let bytes = len.to_be_bytes();
    let significant = &bytes[bytes.iter().take_while(|&&b| b == 0).count()..];
    let n = significant.len();
    let end = out.len();
    out[at] = 0x80 | n as u8;
    out.resize(end + n, 0);
    out.copy_within(at + 1..end, at + 1 + n);
    out[at + 1..at + 1 + n].copy_from_slice(significant);
}

/// Appends an INTEGER (minimal two's complement).
pub fn push_integer(out: &mut Vec<u8>, n: i64) {
    push_tlv(out, tag::INTEGER, minimal_signed(n).as_slice());
}

/// Appends an unsigned application type (Counter32, Gauge32, TimeTicks,
/// Counter64): minimal bytes, with a leading 0x00 when the top bit is set
/// so that the value does not read as negative.
pub fn push_unsigned(out: &mut Vec<u8>, tag: u8, n: u64) {
    push_tlv(out, tag, minimal_unsigned(n).as_slice());
}

/// Appends an OCTET STRING (or any octet-content type such as Opaque).
pub fn push_octets(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    push_tlv(out, tag, bytes);
}

/// Appends a zero-length TLV: NULL or a v2c exception.
pub fn push_empty(out: &mut Vec<u8>, tag: u8) {
    out.extend_from_slice(&[tag, 0]);
}

/// Appends an OBJECT IDENTIFIER.
///
/// Encoding is total: an OID that [`check_oid`] rejects is still written
/// (missing arcs read as 0, the first two arcs combined as `40 * a + b`),
/// but will not decode to the same arcs. Callers that care check first.
pub fn push_oid(out: &mut Vec<u8>, oid: &Oid) {
    out.push(tag::OBJECT_IDENTIFIER);
    let length_at = out.len();
    out.push(0);
    push_oid_content(out, oid);
    patch_length(out, length_at);
}

/// Appends one value with its SMI tag.
pub fn push_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Integer(n) => push_integer(out, *n),
        Value::OctetString(b) => push_octets(out, tag::OCTET_STRING, b),
        Value::Null => push_empty(out, tag::NULL),
        Value::ObjectId(oid) => push_oid(out, oid),
        Value::IpAddress(ip) => push_octets(out, tag::IP_ADDRESS, ip),
        Value::Counter32(n) => push_unsigned(out, tag::COUNTER32, u64::from(*n)),
        Value::Gauge32(n) => push_unsigned(out, tag::GAUGE32, u64::from(*n)),
        Value::TimeTicks(n) => push_unsigned(out, tag::TIME_TICKS, u64::from(*n)),
        Value::Counter64(n) => push_unsigned(out, tag::COUNTER64, *n),
        Value::Opaque(b) => push_octets(out, tag::OPAQUE, b),
        Value::NoSuchObject => push_empty(out, tag::NO_SUCH_OBJECT),
        Value::NoSuchInstance => push_empty(out, tag::NO_SUCH_INSTANCE),
        Value::EndOfMibView => push_empty(out, tag::END_OF_MIB_VIEW),
    }
}

/// Checks that BER can carry `oid` faithfully (X.690 8.19: at least two
/// arcs, first arc 0..=2, second arc below 40 under arcs 0 and 1).
pub fn check_oid(oid: &Oid) -> Result<(), EncodeError> {
    let err = |reason| EncodeError {
        oid: Box::new(oid.clone()),
        reason,
    };
    match oid.arcs() {
        [] | [_] => Err(err("needs at least two arcs")),
        [first, ..] if *first > 2 => Err(err("first arc must be 0, 1 or 2")),
        [first, second, ..] if *first < 2 && *second >= 40 => {
            Err(err("second arc must be below 40 under arcs 0 and 1"))
        }
        _ => Ok(()),
    }
}

/// Decodes OBJECT IDENTIFIER content bytes (without tag and length).
pub fn decode_oid(content: &[u8]) -> Result<Oid, OidDecodeError> {
    // No allocation for OIDs of up to `oid::INLINE_ARCS` arcs.
    let mut oid = Oid::default();
    for_each_subidentifier(content, |subid| {
        if oid.is_empty() {
            let (a, b) = match subid {
                0..40 => (0, subid),
                40..80 => (1, subid - 40),
                _ => (2, subid - 80),
            };
            oid.push(a);
            oid.push(arc_u32(b)?);
        } else {
            oid.push(arc_u32(subid)?);
        }
        Ok(())
    })?;
    if oid.is_empty() {
        return Err(OidDecodeError::Empty);
    }
    Ok(oid)
}

fn arc_u32(value: u64) -> Result<u32, OidDecodeError> {
    u32::try_from(value).map_err(|_| OidDecodeError::ArcTooLarge)
}

/// Reads OID content as base-128 subidentifiers, handing each to `each`.
fn for_each_subidentifier(
    content: &[u8],
    mut each: impl FnMut(u64) -> Result<(), OidDecodeError>,
) -> Result<(), OidDecodeError> {
    let mut current: u64 = 0;
    let mut in_subid = false;
    for &byte in content {
        if !in_subid && byte == 0x80 {
            return Err(OidDecodeError::NonMinimal);
        }
        if current > (u64::MAX >> 7) {
            return Err(OidDecodeError::ArcTooLarge);
        }
        current = (current << 7) | u64::from(byte & 0x7f);
        in_subid = byte & 0x80 != 0;
        if !in_subid {
            each(current)?;
            current = 0;
        }
    }
    if in_subid {
        return Err(OidDecodeError::Truncated);
    }
    Ok(())
}

/// Appends OID content: first two arcs combined, every subidentifier
/// base-128.
pub fn push_oid_content(out: &mut Vec<u8>, oid: &Oid) {
    let arcs = oid.arcs();
    let a = u64::from(arcs.first().copied().unwrap_or(0));
    let b = u64::from(arcs.get(1).copied().unwrap_or(0));
    push_base128(out, a * 40 + b);
    for &arc in arcs.iter().skip(2) {
        push_base128(out, u64::from(arc));
    }
}

/// Appends one arc after an OID's content (an instance arc: never one of
/// the first two, which share a subidentifier).
pub fn push_arc(out: &mut Vec<u8>, arc: u32) {
    push_base128(out, u64::from(arc));
}

fn push_base128(out: &mut Vec<u8>, value: u64) {
    if value < 0x80 {
        // Most arcs: one byte.
        out.push(value as u8);
        return;
    }
    let groups = (64 - value.leading_zeros()).div_ceil(7).max(1);
    for group in (0..groups).rev() {
        let bits = ((value >> (7 * group)) & 0x7f) as u8;
        out.push(if group == 0 { bits } else { bits | 0x80 });
    }
}

/// Big-endian two's complement without redundant leading 0x00/0xff bytes.
fn minimal_signed(n: i64) -> SmallBytes {
    let bytes = n.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let redundant = (bytes[start] == 0x00 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    SmallBytes::from_slice(&bytes[start..])
}

/// Big-endian magnitude, with a 0x00 pad when the top bit would be set.
fn minimal_unsigned(n: u64) -> SmallBytes {
    let bytes = n.to_be_bytes();
    let start = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let digits = &bytes[start..];
    if digits[0] & 0x80 != 0 {
        let mut padded = SmallBytes::from_slice(&[0]);
        padded.extend(digits);
        padded
    } else {
        SmallBytes::from_slice(digits)
    }
}

/// Up to nine content bytes of an integer, without a heap allocation.
struct SmallBytes {
    buf: [u8; 9],
    len: usize,
}

impl SmallBytes {
    fn from_slice(bytes: &[u8]) -> Self {
        let mut small = SmallBytes {
            buf: [0; 9],
            len: 0,
        };
        small.extend(bytes);
        small
    }

    fn extend(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        push_value(&mut out, value);
        out
    }

    fn oid(text: &str) -> Oid {
        Oid::parse(text).unwrap()
    }

    #[test]
    fn integers_are_minimal_twos_complement() {
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x02, 0x01, 0x00]),
            (1, &[0x02, 0x01, 0x01]),
            (127, &[0x02, 0x01, 0x7f]),
            (128, &[0x02, 0x02, 0x00, 0x80]),
            (256, &[0x02, 0x02, 0x01, 0x00]),
            (-1, &[0x02, 0x01, 0xff]),
            (-128, &[0x02, 0x01, 0x80]),
            (-129, &[0x02, 0x02, 0xff, 0x7f]),
            // A typical net-snmp request-id.
            (1_804_289_383, &[0x02, 0x04, 0x6b, 0x8b, 0x45, 0x67]),
            (
                i64::MAX,
                &[0x02, 0x08, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
            (
                i64::MIN,
                &[0x02, 0x08, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
            ),
        ];
        for (n, bytes) in cases {
            assert_eq!(enc(&Value::Integer(*n)), *bytes, "INTEGER {n}");
        }
    }

    #[test]
    fn unsigned_types_pad_when_top_bit_set() {
        assert_eq!(enc(&Value::Counter32(0)), [0x41, 0x01, 0x00]);
        assert_eq!(enc(&Value::Gauge32(200)), [0x42, 0x02, 0x00, 0xc8]);
        assert_eq!(
            enc(&Value::Counter32(u32::MAX)),
            [0x41, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff]
        );
        // sysUpTime 12345678 = 0xbc614e: top bit set, so net-snmp pads.
        assert_eq!(
            enc(&Value::TimeTicks(12_345_678)),
            [0x43, 0x04, 0x00, 0xbc, 0x61, 0x4e]
        );
        assert_eq!(
            enc(&Value::TimeTicks(0x7f_ffff)),
            [0x43, 0x03, 0x7f, 0xff, 0xff]
        );
        assert_eq!(
            enc(&Value::Counter64(u64::MAX)),
            [
                0x46, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
            ]
        );
        assert_eq!(
            enc(&Value::Counter64(1 << 32)),
            [0x46, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00]
        );
    }

    #[test]
    fn strings_null_ip_opaque_exceptions() {
        assert_eq!(
            enc(&Value::OctetString(b"public".to_vec())),
            [0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c']
        );
        assert_eq!(enc(&Value::OctetString(vec![])), [0x04, 0x00]);
        assert_eq!(enc(&Value::Null), [0x05, 0x00]);
        assert_eq!(
            enc(&Value::IpAddress([192, 168, 1, 10])),
            [0x40, 0x04, 0xc0, 0xa8, 0x01, 0x0a]
        );
        assert_eq!(
            enc(&Value::Opaque(vec![0x9f, 0x78, 0x04])),
            [0x44, 0x03, 0x9f, 0x78, 0x04]
        );
        assert_eq!(enc(&Value::NoSuchObject), [0x80, 0x00]);
        assert_eq!(enc(&Value::NoSuchInstance), [0x81, 0x00]);
        assert_eq!(enc(&Value::EndOfMibView), [0x82, 0x00]);
    }

    #[test]
    fn oids_combine_first_arcs_and_use_base128() {
        // sysDescr.0, as in every net-snmp capture.
        assert_eq!(
            enc(&Value::oid(oid("1.3.6.1.2.1.1.1.0"))),
            [0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00]
        );
        // enterprises.705 (MGE): 705 = 0x05 0x41 in base 128.
        assert_eq!(
            enc(&Value::oid(oid("1.3.6.1.4.1.705"))),
            [0x06, 0x07, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x41]
        );
        // enterprises.318 (APC), arc 4294967295.
        assert_eq!(
            enc(&Value::oid(oid("1.3.6.1.4.1.318.4294967295"))),
            [
                0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e, 0x8f, 0xff, 0xff, 0xff, 0x7f
            ]
        );
        // First subidentifier above 127: 2.100 -> 180 -> 0x81 0x34.
        assert_eq!(
            enc(&Value::oid(oid("2.100.3"))),
            [0x06, 0x03, 0x81, 0x34, 0x03]
        );
    }

    #[test]
    fn oid_content_decodes_back() {
        for text in [
            "1.3.6.1.2.1.1.1.0",
            "0.0",
            "0.39",
            "1.0",
            "2.0",
            "2.100.3",
            "2.4294967215",
            "1.3.6.1.4.1.705.1.6.2.1.2.1.0",
            "1.3.4294967295.0",
        ] {
            let o = oid(text);
            check_oid(&o).unwrap();
            let mut content = Vec::new();
            push_oid_content(&mut content, &o);
            assert_eq!(decode_oid(&content), Ok(o), "{text}");
        }
    }

    #[test]
    fn oid_decode_rejects_garbage() {
        assert_eq!(decode_oid(&[]), Err(OidDecodeError::Empty));
        assert_eq!(decode_oid(&[0x2b, 0x86]), Err(OidDecodeError::Truncated));
        assert_eq!(
            decode_oid(&[0x2b, 0x80, 0x01]),
            Err(OidDecodeError::NonMinimal)
        );
        assert_eq!(
            decode_oid(&[0x2b, 0x90, 0x80, 0x80, 0x80, 0x00]),
            Err(OidDecodeError::ArcTooLarge)
        );
        assert_eq!(decode_oid(&[0xff; 20]), Err(OidDecodeError::ArcTooLarge));
    }

    #[test]
    fn check_oid_rejects_what_ber_cannot_carry() {
        assert!(check_oid(&Oid::from_arcs(vec![1])).is_err());
        assert!(check_oid(&Oid::from_arcs(vec![3, 1])).is_err());
        assert!(check_oid(&Oid::from_arcs(vec![1, 40])).is_err());
        assert!(check_oid(&Oid::from_arcs(vec![2, 40])).is_ok());
        // Still encodes, totally.
        assert_eq!(enc(&Value::oid(Oid::from_arcs(vec![]))), [0x06, 0x01, 0x00]);
    }

    #[test]
    fn lengths_use_long_form_above_127() {
        let mut out = Vec::new();
        push_length(&mut out, 127);
        push_length(&mut out, 128);
        push_length(&mut out, 300);
        push_length(&mut out, 70_000);
        assert_eq!(
            out,
            [0x7f, 0x81, 0x80, 0x82, 0x01, 0x2c, 0x83, 0x01, 0x11, 0x70]
        );
        let long = enc(&Value::OctetString(vec![b'x'; 200]));
        assert_eq!(&long[..3], &[0x04, 0x81, 0xc8]);
        assert_eq!(long.len(), 203);
    }

    #[test]
    fn patched_lengths_take_the_long_form_when_needed() {
        // X.690 8.1.3.5: 300 = 0x012c needs 0x82 0x01 0x2c; the content
        // moves up behind the longer length, nested twice.
        let mut out = vec![0xee];
        push_constructed(&mut out, tag::SEQUENCE, |outer| {
            push_constructed(outer, tag::SEQUENCE, |inner| {
                push_octets(inner, tag::OCTET_STRING, &[b'x'; 300]);
            });
            push_empty(outer, tag::NULL);
        });
        let mut expected = vec![0xee, 0x30, 0x82, 0x01, 0x36, 0x30, 0x82, 0x01, 0x30];
        expected.extend_from_slice(&[0x04, 0x82, 0x01, 0x2c]);
        expected.extend_from_slice(&[b'x'; 300]);
        expected.extend_from_slice(&[0x05, 0x00]);
        assert_eq!(out, expected);
        // 1.3 then 130 arcs of 1: 131 content bytes, length 0x81 0x83.
        let long = Oid::from_arcs([&[1, 3][..], &[1; 130]].concat());
        let mut out = Vec::new();
        push_oid(&mut out, &long);
        assert_eq!(&out[..4], &[0x06, 0x81, 0x83, 0x2b]);
        assert_eq!(&out[4..], &[0x01; 130]);
        // Exactly 127 and 128 content bytes: the edge of the short form.
        for (content, header) in [(127, &[0x30, 0x7f][..]), (128, &[0x30, 0x81, 0x80])] {
            let mut out = Vec::new();
            push_constructed(&mut out, tag::SEQUENCE, |c| {
                c.extend(std::iter::repeat_n(0x05, content))
            });
            assert_eq!(&out[..header.len()], header);
            assert_eq!(out.len(), header.len() + content);
        }
    }

    #[test]
    fn get_request_matches_net_snmp_capture() {
        // `snmpget -v2c -c public host sysDescr.0` with request-id 0x6b8b4567:
        // 30 29 02 01 01 04 06 "public" a0 1c 02 04 6b 8b 45 67 02 01 00
        // 02 01 00 30 0e 30 0c 06 08 2b 06 01 02 01 01 01 00 05 00
        let expected: &[u8] = &[
            0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0,
            0x1c, 0x02, 0x04, 0x6b, 0x8b, 0x45, 0x67, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30,
            0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05,
            0x00,
        ];
        let mut out = Vec::new();
        push_constructed(&mut out, tag::SEQUENCE, |m| {
            push_integer(m, 1);
            push_octets(m, tag::OCTET_STRING, b"public");
            push_constructed(m, tag::GET, |p| {
                push_integer(p, 0x6b8b_4567);
                push_integer(p, 0);
                push_integer(p, 0);
                push_constructed(p, tag::SEQUENCE, |list| {
                    push_constructed(list, tag::SEQUENCE, |vb| {
                        push_oid(vb, &oid("1.3.6.1.2.1.1.1.0"));
                        push_empty(vb, tag::NULL);
                    });
                });
            });
        });
        assert_eq!(out, expected);
    }
}
