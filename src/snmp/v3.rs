//! SNMPv3 messages on the wire (RFC 3412 §6) with USM security parameters
//! (RFC 3414 §2.4), and the Report PDUs USM sends (RFC 3414 §3.2).
//!
//! * [`encode`] builds a whole message: the scoped PDU, encrypted when the
//!   keys have privacy, then signed in place when they have authentication.
//! * [`Incoming::parse`] reads the header and security parameters of a
//!   datagram without trusting anything; [`Incoming::verify`] checks its
//!   MAC and [`Incoming::scoped_pdu`] decrypts and decodes the scoped PDU,
//!   so that a message failing authentication is never decoded further.
//! * [`ReportKind`] names the USM/MPD counters a Report carries.
//!
//! The PDU itself is the common layout of [`crate::snmp::message`].

use crate::oid::Oid;
use crate::snmp::ber::{self, EncodeError, tag};
use crate::snmp::message::{CommonPdu, DecodeError, PduKind, decode_common_pdu, encode_common};
use crate::snmp::usm::{
    CryptoError, FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE, LocalKeys, SecurityLevel,
};
use crate::snmp::value::Value;
use snmp2::AsnReader;
use std::fmt;

/// msgVersion of SNMPv3.
pub const VERSION: i64 = 3;
/// msgSecurityModel of USM.
pub const USM: i64 = 3;
/// The msgMaxSize we announce: the largest UDP payload over IPv4.
pub const MAX_SIZE: i64 = 65_507;
/// Largest engine boots/time (RFC 3414 §2.2.2).
pub const MAX_ENGINE_VALUE: u32 = 2_147_483_647;
/// The time window of RFC 3414 §3.2.7, in seconds.
pub const TIME_WINDOW: u32 = 150;

/// The USM security parameters that are not crypto material.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsmParams {
    /// msgAuthoritativeEngineID.
    pub engine_id: Vec<u8>,
    pub boots: u32,
    pub time: u32,
    pub user: Vec<u8>,
}

/// A scoped PDU (RFC 3412 §6.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedPdu {
    pub context_engine_id: Vec<u8>,
    pub context_name: Vec<u8>,
    pub pdu: CommonPdu,
}

/// Why a datagram is not an SNMPv3 message we can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum V3Error {
    #[error("malformed SNMPv3 message: {0}")]
    Malformed(&'static str),
    #[error("SNMPv3 security model {0} is not USM (3)")]
    UnknownSecurityModel(i64),
    #[error("SNMPv3 msgFlags 0x{0:02x} ask for privacy without authentication")]
    BadFlags(u8),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("SNMPv3 scoped PDU: {0}")]
    Pdu(DecodeError),
}

/// Builds one message: `keys` decide the security level (no keys:
/// noAuthNoPriv, used for discovery and unauthenticated Reports).
pub fn encode(
    msg_id: i32,
    reportable: bool,
    usm: &UsmParams,
    keys: &LocalKeys,
    scoped: &ScopedPdu,
) -> Result<Vec<u8>, EncodeError> {
    for (oid, value) in &scoped.pdu.varbinds {
        ber::check_oid(oid)?;
        if let Value::ObjectId(inner) = value {
            ber::check_oid(inner)?;
        }
    }
    let level = keys.level();
    let mut plain = Vec::new();
    ber::push_constructed(&mut plain, tag::SEQUENCE, |s| {
        ber::push_octets(s, tag::OCTET_STRING, &scoped.context_engine_id);
        ber::push_octets(s, tag::OCTET_STRING, &scoped.context_name);
        encode_common(s, &scoped.pdu);
    });
    let (data, priv_params) = if level == SecurityLevel::AuthPriv {
        let (cipher_text, params) = keys.encrypt(usm.boots, usm.time, &plain);
        let mut data = Vec::new();
        ber::push_octets(&mut data, tag::OCTET_STRING, &cipher_text);
        (data, params)
    } else {
        (plain, Vec::new())
    };
    let mac_len = keys.mac_len();
    let mut sec = Vec::new();
    ber::push_octets(&mut sec, tag::OCTET_STRING, &usm.engine_id);
    ber::push_integer(&mut sec, i64::from(usm.boots));
    ber::push_integer(&mut sec, i64::from(usm.time));
    ber::push_octets(&mut sec, tag::OCTET_STRING, &usm.user);
    sec.push(tag::OCTET_STRING);
    ber::push_length(&mut sec, mac_len);
    let auth_in_sec = sec.len();
    sec.resize(sec.len() + mac_len, 0);
    ber::push_octets(&mut sec, tag::OCTET_STRING, &priv_params);
    let mut sec_seq = Vec::new();
    ber::push_tlv(&mut sec_seq, tag::SEQUENCE, &sec);
    let auth_in_seq = sec_seq.len() - sec.len() + auth_in_sec;

    let flags = level.flags() | if reportable { FLAG_REPORTABLE } else { 0 };
    let mut body = Vec::new();
    ber::push_integer(&mut body, VERSION);
    ber::push_constructed(&mut body, tag::SEQUENCE, |h| {
        ber::push_integer(h, i64::from(msg_id));
        ber::push_integer(h, MAX_SIZE);
        ber::push_octets(h, tag::OCTET_STRING, &[flags]);
        ber::push_integer(h, USM);
    });
    let before = body.len();
    ber::push_tlv(&mut body, tag::OCTET_STRING, &sec_seq);
    let auth_in_body = body.len() - sec_seq.len() + auth_in_seq;
    debug_assert!(auth_in_body > before);
    body.extend_from_slice(&data);
    let mut out = Vec::new();
    ber::push_tlv(&mut out, tag::SEQUENCE, &body);
    let auth_at = out.len() - body.len() + auth_in_body;
    if mac_len > 0 {
        let mac = keys.sign(&out);
        out[auth_at..auth_at + mac_len].copy_from_slice(&mac);
    }
    Ok(out)
}

/// The msgVersion of a datagram, if it starts like an SNMP message.
pub fn peek_version(bytes: &[u8]) -> Option<i64> {
    let body = AsnReader::from_bytes(bytes).read_raw(tag::SEQUENCE).ok()?;
    AsnReader::from_bytes(body).read_asn_integer().ok()
}

/// A received SNMPv3 message, parsed but neither verified nor decrypted.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub msg_id: i32,
    pub max_size: i64,
    pub flags: u8,
    pub usm: UsmParams,
    auth_params: &'a [u8],
    auth_offset: usize,
    priv_params: &'a [u8],
    data: Data<'a>,
    bytes: &'a [u8],
}

#[derive(Debug, Clone, Copy)]
enum Data<'a> {
    /// The scoped PDU SEQUENCE's contents.
    Plain(&'a [u8]),
    /// encryptedPDU's octets.
    Encrypted(&'a [u8]),
}

impl<'a> Incoming<'a> {
    /// Parses the header and USM parameters (RFC 3412 §7.2, RFC 3414
    /// §3.2 steps 1-2). Bytes after the message are ignored.
    pub fn parse(bytes: &'a [u8]) -> Result<Incoming<'a>, V3Error> {
        use V3Error::Malformed as M;
        let body = AsnReader::from_bytes(bytes)
            .read_raw(tag::SEQUENCE)
            .map_err(|_| M("not a SEQUENCE"))?;
        let mut msg = AsnReader::from_bytes(body);
        if msg.read_asn_integer().ok() != Some(VERSION) {
            return Err(M("msgVersion is not 3"));
        }
        let header = msg
            .read_raw(tag::SEQUENCE)
            .map_err(|_| M("msgGlobalData"))?;
        let mut h = AsnReader::from_bytes(header);
        let msg_id = h
            .read_asn_integer()
            .ok()
            .filter(|n| (0..=i64::from(i32::MAX)).contains(n))
            .ok_or(M("msgID"))? as i32;
        let max_size = h
            .read_asn_integer()
            .ok()
            .filter(|n| (484..=i64::from(i32::MAX)).contains(n))
            .ok_or(M("msgMaxSize"))?;
        let flags = match h.read_asn_octetstring() {
            Ok([flags]) => *flags,
            _ => return Err(M("msgFlags")),
        };
        let model = h.read_asn_integer().map_err(|_| M("msgSecurityModel"))?;
        if model != USM {
            return Err(V3Error::UnknownSecurityModel(model));
        }
        if SecurityLevel::from_flags(flags).is_none() {
            return Err(V3Error::BadFlags(flags));
        }
        let sec = msg
            .read_asn_octetstring()
            .map_err(|_| M("msgSecurityParameters"))?;
        let sec = AsnReader::from_bytes(sec)
            .read_raw(tag::SEQUENCE)
            .map_err(|_| M("UsmSecurityParameters"))?;
        let mut s = AsnReader::from_bytes(sec);
        let engine_id = s.read_asn_octetstring().map_err(|_| M("engine ID"))?;
        let mut engine_value = |what| {
            s.read_asn_integer()
                .ok()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n <= MAX_ENGINE_VALUE)
                .ok_or(M(what))
        };
        let boots = engine_value("engine boots")?;
        let time = engine_value("engine time")?;
        let user = s.read_asn_octetstring().map_err(|_| M("user name"))?;
        let auth_params = s.read_asn_octetstring().map_err(|_| M("auth params"))?;
        let priv_params = s.read_asn_octetstring().map_err(|_| M("priv params"))?;
        if engine_id.len() > 32 || user.len() > 32 {
            return Err(M("engine ID or user name longer than 32 octets"));
        }
        let data = if flags & FLAG_PRIV != 0 {
            Data::Encrypted(msg.read_asn_octetstring().map_err(|_| M("encryptedPDU"))?)
        } else {
            Data::Plain(msg.read_raw(tag::SEQUENCE).map_err(|_| M("scopedPDU"))?)
        };
        // The slices borrow from `bytes`: their offset locates the MAC.
        let auth_offset = (auth_params.as_ptr() as usize).wrapping_sub(bytes.as_ptr() as usize);
        if auth_offset
            .checked_add(auth_params.len())
            .is_none_or(|end| end > bytes.len())
        {
            return Err(M("auth params outside the message"));
        }
        Ok(Incoming {
            msg_id,
            max_size,
            flags,
            usm: UsmParams {
                engine_id: engine_id.to_vec(),
                boots,
                time,
                user: user.to_vec(),
            },
            auth_params,
            auth_offset,
            priv_params,
            data,
            bytes,
        })
    }

    /// The security level of msgFlags.
    pub fn level(&self) -> SecurityLevel {
        SecurityLevel::from_flags(self.flags).expect("checked in parse")
    }

    /// The reportableFlag: the sender wants a Report on failure.
    pub fn reportable(&self) -> bool {
        self.flags & FLAG_REPORTABLE != 0
    }

    pub fn is_authenticated(&self) -> bool {
        self.flags & FLAG_AUTH != 0
    }

    /// Checks the MAC with `keys` (RFC 3414 §3.2 step 6).
    pub fn verify(&self, keys: &LocalKeys) -> Result<(), CryptoError> {
        let mut zeroed = self.bytes.to_vec();
        zeroed[self.auth_offset..self.auth_offset + self.auth_params.len()].fill(0);
        keys.verify(&zeroed, self.auth_params)
    }

    /// Decrypts (when encrypted) and decodes the scoped PDU. Call only
    /// after [`Incoming::verify`] for authenticated messages. Plaintext
    /// that is not a scoped PDU after decryption is a decryption error
    /// (a wrong AES key yields noise, not a failure of the cipher).
    pub fn scoped_pdu(&self, keys: &LocalKeys) -> Result<ScopedPdu, V3Error> {
        match self.data {
            Data::Plain(content) => decode_scoped(content).map_err(V3Error::Pdu),
            Data::Encrypted(cipher_text) => {
                let plain =
                    keys.decrypt(self.usm.boots, self.usm.time, self.priv_params, cipher_text)?;
                let content = AsnReader::from_bytes(&plain)
                    .read_raw(tag::SEQUENCE)
                    .map_err(|_| CryptoError::Decryption)?;
                decode_scoped(content).map_err(|_| V3Error::Crypto(CryptoError::Decryption))
            }
        }
    }
}

fn decode_scoped(content: &[u8]) -> Result<ScopedPdu, DecodeError> {
    let mut rdr = AsnReader::from_bytes(content);
    let context_engine_id = rdr.read_asn_octetstring().map_err(DecodeError::Malformed)?;
    let context_name = rdr.read_asn_octetstring().map_err(DecodeError::Malformed)?;
    let pdu_tag = rdr.peek_byte().map_err(DecodeError::Malformed)?;
    let body = rdr.read_raw(pdu_tag).map_err(DecodeError::Malformed)?;
    if rdr.bytes_left() > 0 {
        return Err(DecodeError::Malformed(snmp2::Error::AsnParse));
    }
    Ok(ScopedPdu {
        context_engine_id: context_engine_id.to_vec(),
        context_name: context_name.to_vec(),
        pdu: decode_common_pdu(pdu_tag, body)?,
    })
}

/// The counters a Report PDU names (RFC 3414 §5, RFC 3412 §5, RFC 3411).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    UnsupportedSecLevel,
    NotInTimeWindow,
    UnknownUserName,
    UnknownEngineId,
    WrongDigest,
    DecryptionError,
    UnknownSecurityModel,
    InvalidMsg,
    UnknownPduHandler,
    UnavailableContext,
    UnknownContext,
}

impl ReportKind {
    pub const ALL: [ReportKind; 11] = [
        ReportKind::UnsupportedSecLevel,
        ReportKind::NotInTimeWindow,
        ReportKind::UnknownUserName,
        ReportKind::UnknownEngineId,
        ReportKind::WrongDigest,
        ReportKind::DecryptionError,
        ReportKind::UnknownSecurityModel,
        ReportKind::InvalidMsg,
        ReportKind::UnknownPduHandler,
        ReportKind::UnavailableContext,
        ReportKind::UnknownContext,
    ];

    /// The counter instance the Report carries.
    pub fn oid(self) -> &'static str {
        match self {
            ReportKind::UnsupportedSecLevel => "1.3.6.1.6.3.15.1.1.1.0",
            ReportKind::NotInTimeWindow => "1.3.6.1.6.3.15.1.1.2.0",
            ReportKind::UnknownUserName => "1.3.6.1.6.3.15.1.1.3.0",
            ReportKind::UnknownEngineId => "1.3.6.1.6.3.15.1.1.4.0",
            ReportKind::WrongDigest => "1.3.6.1.6.3.15.1.1.5.0",
            ReportKind::DecryptionError => "1.3.6.1.6.3.15.1.1.6.0",
            ReportKind::UnknownSecurityModel => "1.3.6.1.6.3.11.2.1.1.0",
            ReportKind::InvalidMsg => "1.3.6.1.6.3.11.2.1.2.0",
            ReportKind::UnknownPduHandler => "1.3.6.1.6.3.11.2.1.3.0",
            ReportKind::UnavailableContext => "1.3.6.1.6.3.12.1.4.0",
            ReportKind::UnknownContext => "1.3.6.1.6.3.12.1.5.0",
        }
    }

    /// The counter's MIB name.
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::UnsupportedSecLevel => "usmStatsUnsupportedSecLevels",
            ReportKind::NotInTimeWindow => "usmStatsNotInTimeWindows",
            ReportKind::UnknownUserName => "usmStatsUnknownUserNames",
            ReportKind::UnknownEngineId => "usmStatsUnknownEngineIDs",
            ReportKind::WrongDigest => "usmStatsWrongDigests",
            ReportKind::DecryptionError => "usmStatsDecryptionErrors",
            ReportKind::UnknownSecurityModel => "snmpUnknownSecurityModels",
            ReportKind::InvalidMsg => "snmpInvalidMsgs",
            ReportKind::UnknownPduHandler => "snmpUnknownPDUHandlers",
            ReportKind::UnavailableContext => "snmpUnavailableContexts",
            ReportKind::UnknownContext => "snmpUnknownContexts",
        }
    }

    /// The kind of a Report PDU, by its first varbind (`None`: a counter
    /// we do not know, or no varbind at all).
    pub fn of(pdu: &CommonPdu) -> Option<ReportKind> {
        let (oid, _) = pdu.varbinds.first()?;
        ReportKind::ALL
            .into_iter()
            .find(|k| Oid::parse(k.oid()).is_ok_and(|o| &o == oid))
    }

    /// A Report PDU carrying this counter's `value`.
    pub fn report(self, request_id: i32, value: u32) -> CommonPdu {
        let oid = Oid::parse(self.oid()).expect("report OIDs are valid");
        CommonPdu::new(
            PduKind::Report,
            request_id,
            vec![(oid, Value::Counter32(value))],
        )
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Engine IDs are shown in hex, as net-snmp's `-e` takes them.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses an engine ID written in hex (`0x` prefix, `:` and spaces
/// allowed): 5-32 octets (RFC 3411 SnmpEngineID).
pub fn parse_engine_id(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text
        .trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X")
        .chars()
        .filter(|c| !matches!(c, ':' | ' '))
        .collect();
    if digits.len() % 2 != 0 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not an even number of hex digits"));
    }
    let bytes: Vec<u8> = (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex checked"))
        .collect();
    if !(5..=32).contains(&bytes.len()) {
        return Err(format!(
            "{text:?} is {} octets: an engine ID has 5-32",
            bytes.len()
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmp::usm::{AuthProtocol, PrivProtocol, UsmUser};

    fn scoped(kind: PduKind) -> ScopedPdu {
        ScopedPdu {
            context_engine_id: b"\x80\x00\x1f\x88\x04agent".to_vec(),
            context_name: b"ctx".to_vec(),
            pdu: CommonPdu::new(
                kind,
                42,
                vec![(
                    Oid::parse("1.3.6.1.2.1.33.1.1.1.0").unwrap(),
                    Value::OctetString(b"EATON".to_vec()),
                )],
            ),
        }
    }

    fn usm() -> UsmParams {
        UsmParams {
            engine_id: b"\x80\x00\x1f\x88\x04agent".to_vec(),
            boots: 7,
            time: 1234,
            user: b"ups".to_vec(),
        }
    }

    #[test]
    fn every_level_round_trips() {
        let users = [
            UsmUser::new("ups", None, None).unwrap(),
            UsmUser::new("ups", Some((AuthProtocol::Sha256, "authpass123")), None).unwrap(),
            UsmUser::new(
                "ups",
                Some((AuthProtocol::Md5, "authpass123")),
                Some((PrivProtocol::Des, "privpass123")),
            )
            .unwrap(),
            UsmUser::new(
                "ups",
                Some((AuthProtocol::Sha1, "authpass123")),
                Some((PrivProtocol::Aes256C, "privpass123")),
            )
            .unwrap(),
        ];
        for user in users {
            let keys = user.localize(&usm().engine_id);
            let bytes = encode(99, true, &usm(), &keys, &scoped(PduKind::Get)).unwrap();
            let incoming = Incoming::parse(&bytes).unwrap();
            assert_eq!(incoming.msg_id, 99);
            assert_eq!(incoming.usm, usm());
            assert_eq!(incoming.level(), user.level());
            assert!(incoming.reportable());
            if user.level() != SecurityLevel::NoAuthNoPriv {
                incoming.verify(&keys).unwrap();
                let other = UsmUser::new(
                    "ups",
                    Some((user.auth_protocol().unwrap(), "wrongpass1")),
                    None,
                )
                .unwrap()
                .localize(&usm().engine_id);
                assert_eq!(incoming.verify(&other), Err(CryptoError::WrongDigest));
            }
            assert_eq!(incoming.scoped_pdu(&keys).unwrap(), scoped(PduKind::Get));
        }
    }

    #[test]
    fn a_flipped_byte_fails_authentication() {
        let user = UsmUser::new("ups", Some((AuthProtocol::Sha1, "authpass123")), None).unwrap();
        let keys = user.localize(&usm().engine_id);
        let bytes = encode(1, false, &usm(), &keys, &scoped(PduKind::TrapV2)).unwrap();
        let mut tampered = bytes.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x01;
        let incoming = Incoming::parse(&tampered).unwrap();
        assert_eq!(incoming.verify(&keys), Err(CryptoError::WrongDigest));
    }

    #[test]
    fn a_wrong_privacy_key_is_a_decryption_error() {
        let good = UsmUser::new(
            "ups",
            Some((AuthProtocol::Sha1, "authpass123")),
            Some((PrivProtocol::Aes128, "privpass123")),
        )
        .unwrap();
        let bad = UsmUser::new(
            "ups",
            Some((AuthProtocol::Sha1, "authpass123")),
            Some((PrivProtocol::Aes128, "wrongpriv1")),
        )
        .unwrap();
        let engine = usm().engine_id;
        let bytes = encode(
            1,
            false,
            &usm(),
            &good.localize(&engine),
            &scoped(PduKind::TrapV2),
        )
        .unwrap();
        let incoming = Incoming::parse(&bytes).unwrap();
        incoming.verify(&bad.localize(&engine)).unwrap();
        assert_eq!(
            incoming.scoped_pdu(&bad.localize(&engine)),
            Err(V3Error::Crypto(CryptoError::Decryption))
        );
    }

    /// net-snmp 5.9 `snmpget -v3 -l authPriv -u shaaes ...` against
    /// `snmpd`: the discovery probe (noAuthNoPriv, reportable, empty
    /// engine ID and user) and the agent's Report (captured with `-d`).
    #[test]
    fn parses_a_net_snmp_discovery_exchange() {
        let probe = [
            0x30, 0x3e, 0x02, 0x01, 0x03, 0x30, 0x11, 0x02, 0x04, 0x43, 0x31, 0x62, 0x5c, 0x02,
            0x03, 0x00, 0xff, 0xe3, 0x04, 0x01, 0x04, 0x02, 0x01, 0x03, 0x04, 0x10, 0x30, 0x0e,
            0x04, 0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0x04, 0x00,
            0x30, 0x14, 0x04, 0x00, 0x04, 0x00, 0xa0, 0x0e, 0x02, 0x04, 0x47, 0xf0, 0xde, 0xff,
            0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x00,
        ];
        let incoming = Incoming::parse(&probe).unwrap();
        assert_eq!(incoming.msg_id, 0x4331_625c);
        assert_eq!(incoming.level(), SecurityLevel::NoAuthNoPriv);
        assert!(incoming.reportable());
        assert!(incoming.usm.engine_id.is_empty() && incoming.usm.user.is_empty());
        let scoped = incoming.scoped_pdu(&LocalKeys::none()).unwrap();
        assert_eq!(scoped.pdu.kind, PduKind::Get);
        assert!(scoped.pdu.varbinds.is_empty());
        // Our encoder writes the same bytes for the same message.
        let usm = UsmParams::default();
        assert_eq!(
            encode(0x4331_625c, true, &usm, &LocalKeys::none(), &scoped).unwrap()[..24],
            probe[..24]
        );

        let report = [
            0x30, 0x72, 0x02, 0x01, 0x03, 0x30, 0x11, 0x02, 0x04, 0x43, 0x31, 0x62, 0x5c, 0x02,
            0x03, 0x00, 0xff, 0xe3, 0x04, 0x01, 0x00, 0x02, 0x01, 0x03, 0x04, 0x22, 0x30, 0x20,
            0x04, 0x11, 0x80, 0x00, 0x1f, 0x88, 0x80, 0xa1, 0x17, 0x8a, 0x0a, 0xbb, 0x59, 0x06,
            0x6b, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x02, 0x02, 0x01, 0x6c, 0x04, 0x00,
            0x04, 0x00, 0x04, 0x00, 0x30, 0x36, 0x04, 0x11, 0x80, 0x00, 0x1f, 0x88, 0x80, 0xa1,
            0x17, 0x8a, 0x0a, 0xbb, 0x59, 0x06, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0xa8,
            0x1f, 0x02, 0x04, 0x47, 0xf0, 0xde, 0xff, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30,
            0x11, 0x30, 0x0f, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x06, 0x03, 0x0f, 0x01, 0x01, 0x04,
            0x00, 0x41, 0x01, 0x19,
        ];
        let incoming = Incoming::parse(&report).unwrap();
        assert_eq!(incoming.msg_id, 0x4331_625c);
        assert!(!incoming.reportable() && !incoming.is_authenticated());
        assert_eq!(
            hex(&incoming.usm.engine_id),
            "80001f8880a1178a0abb59066b00000000"
        );
        assert_eq!((incoming.usm.boots, incoming.usm.time), (1, 364));
        let scoped = incoming.scoped_pdu(&LocalKeys::none()).unwrap();
        assert_eq!(scoped.pdu.kind, PduKind::Report);
        assert_eq!(
            ReportKind::of(&scoped.pdu),
            Some(ReportKind::UnknownEngineId)
        );
        assert_eq!(scoped.pdu.varbinds[0].1, Value::Counter32(25));
    }

    #[test]
    fn reports_classify_by_their_counter() {
        for kind in ReportKind::ALL {
            assert_eq!(ReportKind::of(&kind.report(1, 5)), Some(kind));
        }
        let other = CommonPdu::new(PduKind::Report, 1, vec![]);
        assert_eq!(ReportKind::of(&other), None);
    }

    #[test]
    fn engine_ids_parse_from_hex() {
        assert_eq!(
            parse_engine_id("0x8000 1f88:04").unwrap(),
            vec![0x80, 0x00, 0x1f, 0x88, 0x04]
        );
        assert!(parse_engine_id("800").is_err());
        assert!(parse_engine_id("80001f").is_err());
        assert!(parse_engine_id("zz00000000").is_err());
        assert_eq!(hex(&[0x80, 0x0a]), "800a");
    }

    #[test]
    fn garbage_never_panics() {
        let user = UsmUser::new(
            "ups",
            Some((AuthProtocol::Sha1, "authpass123")),
            Some((PrivProtocol::Des, "privpass123")),
        )
        .unwrap();
        let keys = user.localize(&usm().engine_id);
        let seed = encode(5, true, &usm(), &keys, &scoped(PduKind::Inform)).unwrap();
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for round in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut bytes = seed.clone();
            let at = (x as usize) % bytes.len();
            bytes[at] = (x >> 32) as u8;
            if round % 3 == 0 {
                bytes.truncate((x >> 40) as usize % bytes.len());
            }
            if let Ok(incoming) = Incoming::parse(&bytes) {
                let _ = incoming.verify(&keys);
                let _ = incoming.scoped_pdu(&keys);
            }
        }
    }
}
