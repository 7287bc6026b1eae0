//! Owned SNMP v1/v2c messages: every PDU kind, both directions.
//!
//! A [`Message`] is what the client sends and receives, what the trap
//! listener receives and what the simulator answers. It owns its bytes and
//! values, so it outlives the datagram buffer.
//!
//! * Encoding is ours ([`crate::snmp::ber`]), into one buffer per message.
//!   The client encodes its requests from a borrowed [`PduRef`], so a GET
//!   names its OIDs straight from the caller's slice.
//! * Decoding uses snmp2's parser ([`snmp2::Pdu::from_bytes`]) for the
//!   header, then re-reads the varbind list strictly with snmp2's public
//!   `AsnReader`: snmp2's own varbind iterator stops silently at the first
//!   malformed or unsupported varbind, which would turn garbage into
//!   "fewer varbinds" instead of an error.
//! * SNMPv3 is rejected with [`DecodeError::UnsupportedVersion`].

use crate::oid::Oid;
use crate::snmp::Version;
use crate::snmp::ber::{self, EncodeError, OidDecodeError, tag};
use crate::snmp::value::{Value, VarBind};
use snmp2::AsnReader;
use std::fmt;

/// One SNMP message (community-based: v1 or v2c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub version: Version,
    pub community: Vec<u8>,
    pub pdu: Pdu,
}

/// The PDU of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    /// Every kind but the v1 trap shares one layout (RFC 3416 `PDU` and
    /// `BulkPDU`).
    Common(CommonPdu),
    /// The SNMPv1 Trap-PDU (RFC 1157), which has its own layout.
    TrapV1(TrapV1),
}

/// The PDU kinds with the common layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PduKind {
    Get,
    GetNext,
    GetBulk,
    Set,
    Response,
    TrapV2,
    Inform,
    Report,
}

/// request-id, error-status, error-index, varbinds.
///
/// GetBulk reuses the two error slots on the wire: `error_status` carries
/// non-repeaters and `error_index` carries max-repetitions; use
/// [`CommonPdu::get_bulk`], [`CommonPdu::non_repeaters`] and
/// [`CommonPdu::max_repetitions`] rather than reading them directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonPdu {
    pub kind: PduKind,
    pub request_id: i32,
    pub error_status: ErrorStatus,
    /// 1-based index of the failing varbind, 0 when none.
    pub error_index: u32,
    pub varbinds: Vec<VarBind>,
}

/// A common-layout PDU borrowed for encoding: what the client sends. A
/// GET, GETNEXT or GETBULK names its OIDs (every value NULL) straight from
/// the caller's slice, so a request copies no OID.
#[derive(Debug, Clone, Copy)]
pub struct PduRef<'a> {
    pub kind: PduKind,
    pub request_id: i32,
    /// The error-status code (GetBulk: non-repeaters).
    pub error_status: u32,
    /// The error-index (GetBulk: max-repetitions).
    pub error_index: u32,
    pub varbinds: VarbindsRef<'a>,
}

/// The varbinds of a [`PduRef`].
#[derive(Debug, Clone, Copy)]
pub enum VarbindsRef<'a> {
    /// Names and values (SET, responses, traps).
    Values(&'a [VarBind]),
    /// Names only, each sent with a NULL value (GET, GETNEXT, GETBULK).
    Nulls(&'a [Oid]),
    /// `count` varbinds already encoded: the contents of the list's
    /// SEQUENCE, names that need no `Oid` (see `Client::get_values`).
    Encoded { list: &'a [u8], count: usize },
}

/// An SNMPv1 Trap-PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapV1 {
    pub enterprise: Oid,
    pub agent_addr: [u8; 4],
    /// 0 coldStart .. 5 egpNeighborLoss, 6 enterpriseSpecific.
    pub generic_trap: i64,
    pub specific_trap: i64,
    /// sysUpTime of the agent, in hundredths of a second.
    pub timestamp: u32,
    pub varbinds: Vec<VarBind>,
}

/// Why bytes are not an SNMP v1/v2c message we can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Truncated, wrong ASN.1 type or out-of-range header field.
    #[error("malformed SNMP message: {0}")]
    Malformed(snmp2::Error),
    #[error(
        "unsupported SNMP version field {0} ({name}): only v1 (0) and v2c (1) are supported",
        name = version_name(*.0)
    )]
    UnsupportedVersion(i64),
    #[error("PDU type 0x{tag:02x} is not valid in SNMPv{version}")]
    PduNotInVersion { version: Version, tag: u8 },
    #[error("bad OID in {what}: {source}")]
    BadOid {
        what: &'static str,
        source: OidDecodeError,
    },
    #[error("varbind {index}: {reason}")]
    Varbind { index: usize, reason: String },
}

/// The RFC 3416 error-status values, keeping codes we do not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorStatus {
    NoError,
    TooBig,
    NoSuchName,
    BadValue,
    ReadOnly,
    GenErr,
    NoAccess,
    WrongType,
    WrongLength,
    WrongEncoding,
    WrongValue,
    NoCreation,
    InconsistentValue,
    ResourceUnavailable,
    CommitFailed,
    UndoFailed,
    AuthorizationError,
    NotWritable,
    InconsistentName,
    /// A code outside RFC 3416 (or GetBulk's non-repeaters).
    Other(u32),
}

const KNOWN_STATUSES: [ErrorStatus; 19] = [
    ErrorStatus::NoError,
    ErrorStatus::TooBig,
    ErrorStatus::NoSuchName,
    ErrorStatus::BadValue,
    ErrorStatus::ReadOnly,
    ErrorStatus::GenErr,
    ErrorStatus::NoAccess,
    ErrorStatus::WrongType,
    ErrorStatus::WrongLength,
    ErrorStatus::WrongEncoding,
    ErrorStatus::WrongValue,
    ErrorStatus::NoCreation,
    ErrorStatus::InconsistentValue,
    ErrorStatus::ResourceUnavailable,
    ErrorStatus::CommitFailed,
    ErrorStatus::UndoFailed,
    ErrorStatus::AuthorizationError,
    ErrorStatus::NotWritable,
    ErrorStatus::InconsistentName,
];

impl ErrorStatus {
    /// The status for a wire code; unknown codes are kept as `Other`.
    pub fn from_u32(code: u32) -> ErrorStatus {
        usize::try_from(code)
            .ok()
            .and_then(|i| KNOWN_STATUSES.get(i).copied())
            .unwrap_or(ErrorStatus::Other(code))
    }

    /// The wire code.
    pub fn code(self) -> u32 {
        match self {
            ErrorStatus::Other(code) => code,
            known => KNOWN_STATUSES
                .iter()
                .position(|s| *s == known)
                .map_or(0, |i| i as u32),
        }
    }

    /// The RFC 3416 name (`noSuchName`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorStatus::NoError => "noError",
            ErrorStatus::TooBig => "tooBig",
            ErrorStatus::NoSuchName => "noSuchName",
            ErrorStatus::BadValue => "badValue",
            ErrorStatus::ReadOnly => "readOnly",
            ErrorStatus::GenErr => "genErr",
            ErrorStatus::NoAccess => "noAccess",
            ErrorStatus::WrongType => "wrongType",
            ErrorStatus::WrongLength => "wrongLength",
            ErrorStatus::WrongEncoding => "wrongEncoding",
            ErrorStatus::WrongValue => "wrongValue",
            ErrorStatus::NoCreation => "noCreation",
            ErrorStatus::InconsistentValue => "inconsistentValue",
            ErrorStatus::ResourceUnavailable => "resourceUnavailable",
            ErrorStatus::CommitFailed => "commitFailed",
            ErrorStatus::UndoFailed => "undoFailed",
            ErrorStatus::AuthorizationError => "authorizationError",
            ErrorStatus::NotWritable => "notWritable",
            ErrorStatus::InconsistentName => "inconsistentName",
            ErrorStatus::Other(_) => "unknown",
        }
    }

    /// What the status means, for people.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorStatus::NoError => "no error",
            ErrorStatus::TooBig => "the response would not fit in one message",
            ErrorStatus::NoSuchName => "no such object (or not accessible with this community)",
            ErrorStatus::BadValue => "bad value for this object",
            ErrorStatus::ReadOnly => "the object is read-only",
            ErrorStatus::GenErr => "general error in the agent",
            ErrorStatus::NoAccess => "access denied to this object",
            ErrorStatus::WrongType => "wrong type for this object",
            ErrorStatus::WrongLength => "wrong length for this object",
            ErrorStatus::WrongEncoding => "wrong encoding for this object",
            ErrorStatus::WrongValue => "value out of range for this object",
            ErrorStatus::NoCreation => "the object does not exist and cannot be created",
            ErrorStatus::InconsistentValue => "value inconsistent with the agent's state",
            ErrorStatus::ResourceUnavailable => "the agent lacks resources for this",
            ErrorStatus::CommitFailed => "the agent failed to commit the change",
            ErrorStatus::UndoFailed => "the agent failed to undo a partial change",
            ErrorStatus::AuthorizationError => "not authorized",
            ErrorStatus::NotWritable => "the object is not writable",
            ErrorStatus::InconsistentName => "the instance name is inconsistent",
            ErrorStatus::Other(_) => "error status not defined by RFC 3416",
        }
    }
}

impl fmt::Display for ErrorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name(), self.code(), self.reason())
    }
}

impl PduKind {
    /// The PDU's context tag on the wire.
    pub fn tag(self) -> u8 {
        match self {
            PduKind::Get => tag::GET,
            PduKind::GetNext => tag::GET_NEXT,
            PduKind::GetBulk => tag::GET_BULK,
            PduKind::Set => tag::SET,
            PduKind::Response => tag::RESPONSE,
            PduKind::TrapV2 => tag::TRAP_V2,
            PduKind::Inform => tag::INFORM,
            PduKind::Report => tag::REPORT,
        }
    }

    /// True for the kinds SNMPv1 has (Get, GetNext, Set, Response).
    pub fn exists_in_v1(self) -> bool {
        matches!(
            self,
            PduKind::Get | PduKind::GetNext | PduKind::Set | PduKind::Response
        )
    }

    fn from_snmp2(kind: snmp2::MessageType) -> Option<PduKind> {
        use snmp2::MessageType as M;
        Some(match kind {
            M::GetRequest => PduKind::Get,
            M::GetNextRequest => PduKind::GetNext,
            M::GetBulkRequest => PduKind::GetBulk,
            M::SetRequest => PduKind::Set,
            M::Response => PduKind::Response,
            M::Trap => PduKind::TrapV2,
            M::InformRequest => PduKind::Inform,
            M::Report => PduKind::Report,
            M::TrapV1 => return None,
        })
    }
}

impl fmt::Display for PduKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl CommonPdu {
    /// A PDU with no error (requests, successful responses, v2 traps).
    pub fn new(kind: PduKind, request_id: i32, varbinds: Vec<VarBind>) -> CommonPdu {
        CommonPdu {
            kind,
            request_id,
            error_status: ErrorStatus::NoError,
            error_index: 0,
            varbinds,
        }
    }

    /// A GetBulk request (the counts travel in the error slots).
    pub fn get_bulk(
        request_id: i32,
        non_repeaters: u32,
        max_repetitions: u32,
        varbinds: Vec<VarBind>,
    ) -> CommonPdu {
        CommonPdu {
            kind: PduKind::GetBulk,
            request_id,
            error_status: ErrorStatus::from_u32(non_repeaters),
            error_index: max_repetitions,
            varbinds,
        }
    }

    /// GetBulk non-repeaters (the error-status slot).
    pub fn non_repeaters(&self) -> u32 {
        self.error_status.code()
    }

    /// GetBulk max-repetitions (the error-index slot).
    pub fn max_repetitions(&self) -> u32 {
        self.error_index
    }

    /// The varbind named by a 1-based `error_index`, if any.
    pub fn error_varbind(&self) -> Option<&VarBind> {
        let index = usize::try_from(self.error_index).ok()?;
        self.varbinds.get(index.checked_sub(1)?)
    }
}

impl<'a> PduRef<'a> {
    /// A request without error fields (the request id is set on sending).
    pub fn new(kind: PduKind, varbinds: VarbindsRef<'a>) -> PduRef<'a> {
        PduRef {
            kind,
            request_id: 0,
            error_status: 0,
            error_index: 0,
            varbinds,
        }
    }

    /// A GetBulk request for `oids` (the counts travel in the error slots).
    pub fn get_bulk(non_repeaters: u32, max_repetitions: u32, oids: &'a [Oid]) -> PduRef<'a> {
        PduRef {
            error_status: non_repeaters,
            error_index: max_repetitions,
            ..PduRef::new(PduKind::GetBulk, VarbindsRef::Nulls(oids))
        }
    }

    /// Borrows an owned PDU.
    pub fn of(pdu: &'a CommonPdu) -> PduRef<'a> {
        PduRef {
            kind: pdu.kind,
            request_id: pdu.request_id,
            error_status: pdu.error_status.code(),
            error_index: pdu.error_index,
            varbinds: VarbindsRef::Values(&pdu.varbinds),
        }
    }

    /// The same PDU, owned (SNMPv3 wraps an owned PDU).
    pub fn to_owned_pdu(&self) -> CommonPdu {
        let varbinds = match self.varbinds {
            VarbindsRef::Values(varbinds) => varbinds.to_vec(),
            VarbindsRef::Nulls(oids) => oids.iter().map(|oid| (oid.clone(), Value::Null)).collect(),
            // Encoded here, from names that are valid OIDs: decodes.
            VarbindsRef::Encoded { list, .. } => decode_varbinds(list).unwrap_or_default(),
        };
        CommonPdu {
            kind: self.kind,
            request_id: self.request_id,
            error_status: ErrorStatus::from_u32(self.error_status),
            error_index: self.error_index,
            varbinds,
        }
    }

    /// Number of varbinds.
    pub fn len(&self) -> usize {
        match self.varbinds {
            VarbindsRef::Values(varbinds) => varbinds.len(),
            VarbindsRef::Nulls(oids) => oids.len(),
            VarbindsRef::Encoded { count, .. } => count,
        }
    }

    /// True without varbinds.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fails on any OID (name or value) that would not decode back to
    /// itself.
    pub fn check_oids(&self) -> Result<(), EncodeError> {
        match self.varbinds {
            VarbindsRef::Values(varbinds) => check_varbind_oids(varbinds),
            VarbindsRef::Nulls(oids) => oids.iter().try_for_each(ber::check_oid),
            // Written by their owner's encoder, which checks them.
            VarbindsRef::Encoded { .. } => Ok(()),
        }
    }

    /// BER bytes of a v1/v2c message carrying this PDU; fails on any OID
    /// that would not decode back to itself.
    pub fn encode_message(
        &self,
        version: Version,
        community: &[u8],
    ) -> Result<Vec<u8>, EncodeError> {
        self.check_oids()?;
        let mut out =
            Vec::with_capacity(MESSAGE_OVERHEAD + community.len() + self.varbinds.size_hint());
        ber::push_constructed(&mut out, tag::SEQUENCE, |m| {
            ber::push_integer(m, version.wire());
            ber::push_octets(m, tag::OCTET_STRING, community);
            encode_pdu(m, self);
        });
        Ok(out)
    }
}

impl VarbindsRef<'_> {
    /// A guess of the encoded varbind list's size, so that the message
    /// buffer is allocated once.
    fn size_hint(self) -> usize {
        match self {
            VarbindsRef::Values(varbinds) => varbinds
                .iter()
                .map(|(oid, value)| VARBIND_OVERHEAD + oid.len() + value_size_hint(value))
                .sum(),
            VarbindsRef::Nulls(oids) => oids.iter().map(|oid| VARBIND_OVERHEAD + oid.len()).sum(),
            VarbindsRef::Encoded { list, .. } => list.len() + 4,
        }
    }
}

/// Message and PDU headers: tags, lengths, version, request id, errors.
const MESSAGE_OVERHEAD: usize = 32;
/// A varbind's tags and lengths, a NULL value and room for arcs above 127.
const VARBIND_OVERHEAD: usize = 12;

fn value_size_hint(value: &Value) -> usize {
    match value {
        Value::OctetString(bytes) | Value::Opaque(bytes) => bytes.len() + 4,
        Value::ObjectId(oid) => oid.len() + 8,
        _ => 11,
    }
}

fn check_varbind_oids(varbinds: &[VarBind]) -> Result<(), EncodeError> {
    for (oid, value) in varbinds {
        ber::check_oid(oid)?;
        if let Value::ObjectId(inner) = value {
            ber::check_oid(inner)?;
        }
    }
    Ok(())
}

impl Message {
    /// A message carrying a common-layout PDU.
    pub fn new(version: Version, community: impl Into<Vec<u8>>, pdu: CommonPdu) -> Message {
        Message {
            version,
            community: community.into(),
            pdu: Pdu::Common(pdu),
        }
    }

    /// The common-layout PDU, unless this is a v1 trap.
    pub fn common(&self) -> Option<&CommonPdu> {
        match &self.pdu {
            Pdu::Common(pdu) => Some(pdu),
            Pdu::TrapV1(_) => None,
        }
    }

    /// The varbinds, whatever the PDU.
    pub fn varbinds(&self) -> &[VarBind] {
        match &self.pdu {
            Pdu::Common(pdu) => &pdu.varbinds,
            Pdu::TrapV1(trap) => &trap.varbinds,
        }
    }

    /// BER bytes of the message.
    ///
    /// Total: an OID BER cannot carry is written anyway (see
    /// [`ber::push_oid`]); use [`Message::try_encode`] to refuse those.
    pub fn encode(&self) -> Vec<u8> {
        let varbinds = VarbindsRef::Values(self.varbinds());
        // A v1 trap's header is longer: twice the overhead.
        let mut out =
            Vec::with_capacity(2 * MESSAGE_OVERHEAD + self.community.len() + varbinds.size_hint());
        ber::push_constructed(&mut out, tag::SEQUENCE, |m| {
            ber::push_integer(m, self.version.wire());
            ber::push_octets(m, tag::OCTET_STRING, &self.community);
            match &self.pdu {
                Pdu::Common(pdu) => encode_common(m, pdu),
                Pdu::TrapV1(trap) => encode_trap_v1(m, trap),
            }
        });
        out
    }

    /// Like [`Message::encode`], but fails on any OID that would not
    /// decode back to itself.
    pub fn try_encode(&self) -> Result<Vec<u8>, EncodeError> {
        if let Pdu::TrapV1(trap) = &self.pdu {
            ber::check_oid(&trap.enterprise)?;
        }
        check_varbind_oids(self.varbinds())?;
        Ok(self.encode())
    }

    /// Parses one datagram. Bytes after the message are ignored.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        let (version, community, pdu) = Message::decode_parts(bytes)?;
        Ok(Message {
            version,
            community: community.to_vec(),
            pdu,
        })
    }

    /// [`Message::decode`] with the community left in `bytes` (a client
    /// checking a reply has no use for a copy).
    pub fn decode_parts(bytes: &[u8]) -> Result<(Version, &[u8], Pdu), DecodeError> {
        let (version, parsed) = parse_header(bytes)?;
        let varbinds = decode_varbinds(varbind_list(bytes, parsed.message_type)?)?;
        let pdu = match PduKind::from_snmp2(parsed.message_type) {
            Some(kind) => Pdu::Common(common_pdu(version, kind, &parsed, varbinds)?),
            None => Pdu::TrapV1(trap_v1(parsed.v1_trap_info, varbinds)?),
        };
        Ok((version, parsed.community, pdu))
    }

    /// What [`Message::decode_parts`] reads of a message, with the varbind
    /// list left encoded: a reply to a GET is paired with its request by
    /// the names' bytes (see [`varbinds`]), without an `Oid` built
    /// per varbind. A v1 trap has no [`PduHead::kind`].
    pub fn decode_head(bytes: &[u8]) -> Result<(Version, PduHead<'_>), DecodeError> {
        let (version, parsed) = parse_header(bytes)?;
        let list = varbind_list(bytes, parsed.message_type)?;
        let kind = PduKind::from_snmp2(parsed.message_type);
        if let Some(kind) = kind {
            check_kind_in_version(version, kind)?;
        }
        Ok((
            version,
            PduHead {
                kind,
                request_id: parsed.req_id,
                error_status: ErrorStatus::from_u32(parsed.error_status),
                error_index: parsed.error_index,
                list,
            },
        ))
    }
}

/// A PDU's header and its varbind list still encoded (see
/// [`Message::decode_head`]).
#[derive(Debug, Clone, Copy)]
pub struct PduHead<'a> {
    /// `None`: a v1 Trap-PDU.
    pub kind: Option<PduKind>,
    pub request_id: i32,
    pub error_status: ErrorStatus,
    pub error_index: u32,
    pub list: &'a [u8],
}

impl PduHead<'_> {
    /// The common-layout PDU with its varbinds decoded (a v1 trap has
    /// none: [`Message::decode_parts`] reads those).
    pub fn into_common(self) -> Result<CommonPdu, DecodeError> {
        let kind = self
            .kind
            .ok_or(DecodeError::Malformed(snmp2::Error::AsnWrongType))?;
        Ok(CommonPdu {
            kind,
            request_id: self.request_id,
            error_status: self.error_status,
            error_index: self.error_index,
            varbinds: decode_varbinds(self.list)?,
        })
    }
}

/// snmp2's parse of a v1/v2c message's header, and its version.
fn parse_header(bytes: &[u8]) -> Result<(Version, snmp2::Pdu<'_>), DecodeError> {
    let parsed = snmp2::Pdu::from_bytes(bytes).map_err(|e| header_error(bytes, e))?;
    let version = parsed
        .version()
        .ok()
        .and_then(|v| Version::from_wire(v as i64))
        .ok_or_else(|| DecodeError::UnsupportedVersion(peek_version(bytes).unwrap_or(-1)))?;
    Ok((version, parsed))
}

/// Appends a common-layout PDU TLV (also the PDU of an SNMPv3 scoped PDU).
pub(crate) fn encode_common(out: &mut Vec<u8>, pdu: &CommonPdu) {
    encode_pdu(out, &PduRef::of(pdu));
}

/// Appends a common-layout PDU TLV from a borrowed PDU.
pub(crate) fn encode_pdu(out: &mut Vec<u8>, pdu: &PduRef<'_>) {
    ber::push_constructed(out, pdu.kind.tag(), |p| {
        ber::push_integer(p, i64::from(pdu.request_id));
        ber::push_integer(p, i64::from(pdu.error_status));
        ber::push_integer(p, i64::from(pdu.error_index));
        match pdu.varbinds {
            VarbindsRef::Values(varbinds) => encode_varbinds(p, varbinds),
            VarbindsRef::Nulls(oids) => encode_null_varbinds(p, oids),
            VarbindsRef::Encoded { list, .. } => ber::push_octets(p, tag::SEQUENCE, list),
        }
    });
}

fn encode_trap_v1(out: &mut Vec<u8>, trap: &TrapV1) {
    ber::push_constructed(out, tag::TRAP_V1, |p| {
        ber::push_oid(p, &trap.enterprise);
        ber::push_octets(p, tag::IP_ADDRESS, &trap.agent_addr);
        ber::push_integer(p, trap.generic_trap);
        ber::push_integer(p, trap.specific_trap);
        ber::push_unsigned(p, tag::TIME_TICKS, u64::from(trap.timestamp));
        encode_varbinds(p, &trap.varbinds);
    });
}

fn encode_null_varbinds(out: &mut Vec<u8>, oids: &[Oid]) {
    ber::push_constructed(out, tag::SEQUENCE, |list| {
        for oid in oids {
            ber::push_constructed(list, tag::SEQUENCE, |vb| {
                ber::push_oid(vb, oid);
                ber::push_empty(vb, tag::NULL);
            });
        }
    });
}

fn encode_varbinds(out: &mut Vec<u8>, varbinds: &[VarBind]) {
    ber::push_constructed(out, tag::SEQUENCE, |list| {
        for (oid, value) in varbinds {
            ber::push_constructed(list, tag::SEQUENCE, |vb| {
                ber::push_oid(vb, oid);
                ber::push_value(vb, value);
            });
        }
    });
}

fn version_name(wire: i64) -> &'static str {
    match wire {
        0 => "v1",
        1 => "v2c",
        2 => "v2u/v2*, obsolete",
        3 => "v3, which has its own decoder: snmp::v3",
        _ => "unknown",
    }
}

/// Maps snmp2's header error, naming the version when that was the cause.
fn header_error(bytes: &[u8], err: snmp2::Error) -> DecodeError {
    match (err, peek_version(bytes)) {
        (snmp2::Error::UnsupportedVersion, Some(version)) => {
            DecodeError::UnsupportedVersion(version)
        }
        (snmp2::Error::AsnWrongType, Some(0..=1)) => {
            wrong_pdu_error(bytes).unwrap_or(DecodeError::Malformed(snmp2::Error::AsnWrongType))
        }
        (err, _) => DecodeError::Malformed(err),
    }
}

/// snmp2 reports a v1 Trap-PDU inside a v2c message as a wrong type.
fn wrong_pdu_error(bytes: &[u8]) -> Option<DecodeError> {
    let (version, pdu_tag) = peek_version_and_tag(bytes)?;
    (version == Version::V2c && pdu_tag == tag::TRAP_V1).then_some(DecodeError::PduNotInVersion {
        version,
        tag: pdu_tag,
    })
}

fn peek_version(bytes: &[u8]) -> Option<i64> {
    let body = AsnReader::from_bytes(bytes).read_raw(tag::SEQUENCE).ok()?;
    AsnReader::from_bytes(body).read_asn_integer().ok()
}

fn peek_version_and_tag(bytes: &[u8]) -> Option<(Version, u8)> {
    let body = AsnReader::from_bytes(bytes).read_raw(tag::SEQUENCE).ok()?;
    let mut rdr = AsnReader::from_bytes(body);
    let version = Version::from_wire(rdr.read_asn_integer().ok()?)?;
    rdr.read_asn_octetstring().ok()?;
    Some((version, rdr.peek_byte().ok()?))
}

/// Finds the varbind list's content bytes (snmp2 does not expose them).
fn varbind_list(bytes: &[u8], kind: snmp2::MessageType) -> Result<&[u8], DecodeError> {
    let fields_before = if kind == snmp2::MessageType::TrapV1 {
        5
    } else {
        3
    };
    let locate = || -> Result<&[u8], snmp2::Error> {
        let body = AsnReader::from_bytes(bytes).read_raw(tag::SEQUENCE)?;
        let mut msg = AsnReader::from_bytes(body);
        msg.read_asn_integer()?;
        msg.read_asn_octetstring()?;
        let pdu_tag = msg.peek_byte()?;
        let mut pdu = AsnReader::from_bytes(msg.read_raw(pdu_tag)?);
        for _ in 0..fields_before {
            pdu.next().ok_or(snmp2::Error::AsnParse)?;
        }
        pdu.read_raw(tag::SEQUENCE)
    };
    locate().map_err(DecodeError::Malformed)
}

/// Decodes the contents of one common-layout PDU whose tag is `pdu_tag`
/// (the PDU of an SNMPv3 scoped PDU), strictly: trailing bytes inside the
/// PDU are an error.
pub(crate) fn decode_common_pdu(pdu_tag: u8, body: &[u8]) -> Result<CommonPdu, DecodeError> {
    let kind = [
        PduKind::Get,
        PduKind::GetNext,
        PduKind::GetBulk,
        PduKind::Set,
        PduKind::Response,
        PduKind::TrapV2,
        PduKind::Inform,
        PduKind::Report,
    ]
    .into_iter()
    .find(|k| k.tag() == pdu_tag)
    .ok_or(DecodeError::PduNotInVersion {
        version: Version::V2c,
        tag: pdu_tag,
    })?;
    let mut pdu = AsnReader::from_bytes(body);
    let malformed = |_| DecodeError::Malformed(snmp2::Error::ValueOutOfRange);
    let request_id = pdu
        .read_asn_integer()
        .map_err(DecodeError::Malformed)
        .and_then(|n| i32::try_from(n).map_err(malformed))?;
    let error_status = pdu
        .read_asn_integer()
        .map_err(DecodeError::Malformed)
        .and_then(|n| u32::try_from(n).map_err(malformed))?;
    let error_index = pdu
        .read_asn_integer()
        .map_err(DecodeError::Malformed)
        .and_then(|n| u32::try_from(n).map_err(malformed))?;
    let list = pdu
        .read_raw(tag::SEQUENCE)
        .map_err(DecodeError::Malformed)?;
    if pdu.bytes_left() > 0 {
        return Err(DecodeError::Malformed(snmp2::Error::AsnParse));
    }
    Ok(CommonPdu {
        kind,
        request_id,
        error_status: ErrorStatus::from_u32(error_status),
        error_index,
        varbinds: decode_varbinds(list)?,
    })
}

fn decode_varbinds(list: &[u8]) -> Result<Vec<VarBind>, DecodeError> {
    let mut decoded = Vec::with_capacity(count_varbinds(list));
    for (index, varbind) in varbinds(list).enumerate() {
        let (name, value) = varbind?;
        let oid = ber::decode_oid(name).map_err(|e| DecodeError::Varbind {
            index: index + 1,
            reason: format!("name: {e}"),
        })?;
        decoded.push((oid, value));
    }
    Ok(decoded)
}

/// The varbinds of an encoded list, each as its name's BER content (no tag
/// or length) and its value; one that is not a varbind is an error naming
/// its position, and ends the list.
pub fn varbinds(list: &[u8]) -> impl Iterator<Item = Result<(&[u8], Value), DecodeError>> {
    let mut rest = list;
    let mut index = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        index += 1;
        let varbind_err = |reason: String| DecodeError::Varbind { index, reason };
        let varbind = next_sequence(&mut rest)
            .map_err(|e| varbind_err(format!("not a SEQUENCE: {e}")))
            .and_then(|seq| split_varbind(seq).map_err(varbind_err));
        if varbind.is_err() {
            // Nothing after an undecodable varbind is read.
            rest = &[];
        }
        Some(varbind)
    })
}

/// The content of the SEQUENCE `rest` starts with; `rest` moves past it.
fn next_sequence<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], snmp2::Error> {
    if let Some((seq, after)) = short_tlv(rest, tag::SEQUENCE) {
        *rest = after;
        return Ok(seq);
    }
    let mut rdr = AsnReader::from_bytes(rest);
    let seq = rdr.read_raw(tag::SEQUENCE)?;
    *rest = &rest[rest.len() - rdr.bytes_left()..];
    Ok(seq)
}

/// How many varbinds `list` holds (a cheap first pass over the headers),
/// so that the varbind vector is allocated once instead of grown.
fn count_varbinds(list: &[u8]) -> usize {
    let mut rest = list;
    let mut count = 0;
    while !rest.is_empty() && next_sequence(&mut rest).is_ok() {
        count += 1;
    }
    count
}

/// One varbind's name (BER content) and value.
fn split_varbind(seq: &[u8]) -> Result<(&[u8], Value), String> {
    match split_plain_varbind(seq) {
        Some(varbind) => Ok(varbind),
        None => split_any_varbind(seq),
    }
}

/// [`split_varbind`] by hand for what nearly every answer is: one-byte
/// lengths and a number, a string, NULL or an exception. `None` for
/// anything else (snmp2 decodes it, and words the errors). A poll decodes
/// a few hundred of these; this decodes each exactly as snmp2 would.
fn split_plain_varbind(seq: &[u8]) -> Option<(&[u8], Value)> {
    let (name, rest) = short_tlv(seq, tag::OBJECT_IDENTIFIER)?;
    let (&value_tag, _) = rest.split_first()?;
    let (content, trailing) = short_tlv(rest, value_tag)?;
    if !trailing.is_empty() {
        return None;
    }
    let value = match value_tag {
        tag::INTEGER => Value::Integer(signed(content)?),
        // snmp2 reads these as signed and keeps the low 32 bits.
        tag::COUNTER32 => Value::Counter32(signed(content)? as u32),
        tag::GAUGE32 => Value::Gauge32(signed(content)? as u32),
        tag::TIME_TICKS => Value::TimeTicks(signed(content)? as u32),
        tag::OCTET_STRING => Value::OctetString(content.to_vec()),
        tag::NULL if content.is_empty() => Value::Null,
        tag::NO_SUCH_OBJECT if content.is_empty() => Value::NoSuchObject,
        tag::NO_SUCH_INSTANCE if content.is_empty() => Value::NoSuchInstance,
        tag::END_OF_MIB_VIEW if content.is_empty() => Value::EndOfMibView,
        _ => return None,
    };
    Some((name, value))
}

/// The content of a TLV tagged `expected` whose length is one byte, and
/// what follows it.
fn short_tlv(bytes: &[u8], expected: u8) -> Option<(&[u8], &[u8])> {
    match *bytes {
        [found, len, ref rest @ ..] if found == expected && len < 0x80 => {
            let len = usize::from(len);
            (len <= rest.len()).then(|| rest.split_at(len))
        }
        _ => None,
    }
}

/// A two's complement INTEGER of 1 to 8 bytes, sign-extended.
fn signed(content: &[u8]) -> Option<i64> {
    if content.is_empty() || content.len() > 8 {
        return None;
    }
    let mut bytes = [0u8; 8];
    bytes[8 - content.len()..].copy_from_slice(content);
    let shift = (8 - content.len()) * 8;
    Some((i64::from_be_bytes(bytes) << shift) >> shift)
}

/// [`split_varbind`] through snmp2, for every form BER allows.
fn split_any_varbind(seq: &[u8]) -> Result<(&[u8], Value), String> {
    let mut pair = AsnReader::from_bytes(seq);
    let name = pair
        .read_raw(tag::OBJECT_IDENTIFIER)
        .map_err(|e| format!("name is not an OBJECT IDENTIFIER: {e}"))?;
    // The name in words only for an error (decoding it costs an `Oid`).
    let named = |what: String| match ber::decode_oid(name) {
        Ok(oid) => format!("{oid}: {what}"),
        Err(e) => format!("name: {e}"),
    };
    let value_tag = pair
        .peek_byte()
        .map_err(|_| named("value missing".to_string()))?;
    let value = pair
        .next()
        .ok_or_else(|| {
            named(format!(
                "malformed or unsupported value (tag 0x{value_tag:02x})"
            ))
        })
        .and_then(|v| owned_value(v).map_err(named))?;
    if pair.bytes_left() > 0 {
        return Err(named("trailing bytes after the value".to_string()));
    }
    Ok((name, value))
}

/// Converts snmp2's borrowed value into ours; SNMP has no other types.
fn owned_value(value: snmp2::Value<'_>) -> Result<Value, String> {
    use snmp2::Value as V;
    Ok(match value {
        V::Null => Value::Null,
        V::Integer(n) => Value::Integer(n),
        V::OctetString(b) => Value::OctetString(b.to_vec()),
        V::ObjectIdentifier(oid) => {
            Value::oid(ber::decode_oid(oid.as_bytes()).map_err(|e| e.to_string())?)
        }
        V::IpAddress(ip) => Value::IpAddress(ip),
        V::Counter32(n) => Value::Counter32(n),
        V::Unsigned32(n) => Value::Gauge32(n),
        V::Timeticks(n) => Value::TimeTicks(n),
        V::Opaque(b) => Value::Opaque(b.to_vec()),
        V::Counter64(n) => Value::Counter64(n),
        V::NoSuchObject => Value::NoSuchObject,
        V::NoSuchInstance => Value::NoSuchInstance,
        V::EndOfMibView => Value::EndOfMibView,
        other => return Err(format!("not an SNMP value type: {other:?}")),
    })
}

fn common_pdu(
    version: Version,
    kind: PduKind,
    parsed: &snmp2::Pdu<'_>,
    varbinds: Vec<VarBind>,
) -> Result<CommonPdu, DecodeError> {
    check_kind_in_version(version, kind)?;
    Ok(CommonPdu {
        kind,
        request_id: parsed.req_id,
        error_status: ErrorStatus::from_u32(parsed.error_status),
        error_index: parsed.error_index,
        varbinds,
    })
}

fn check_kind_in_version(version: Version, kind: PduKind) -> Result<(), DecodeError> {
    if version == Version::V1 && !kind.exists_in_v1() {
        return Err(DecodeError::PduNotInVersion {
            version,
            tag: kind.tag(),
        });
    }
    Ok(())
}

fn trap_v1(
    info: Option<snmp2::pdu::V1TrapInfo<'_>>,
    varbinds: Vec<VarBind>,
) -> Result<TrapV1, DecodeError> {
    let info = info.ok_or(DecodeError::Malformed(snmp2::Error::AsnWrongType))?;
    let enterprise =
        ber::decode_oid(info.enterprise.as_bytes()).map_err(|source| DecodeError::BadOid {
            what: "trap enterprise",
            source,
        })?;
    let agent_addr = match info.agent_addr {
        std::net::IpAddr::V4(v4) => v4.octets(),
        std::net::IpAddr::V6(_) => return Err(DecodeError::Malformed(snmp2::Error::AsnWrongType)),
    };
    Ok(TrapV1 {
        enterprise,
        agent_addr,
        generic_trap: info.generic_trap,
        specific_trap: info.specific_trap,
        timestamp: info.timestamp,
        varbinds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(text: &str) -> Oid {
        Oid::parse(text).unwrap()
    }

    /// Every value tag, content lengths 0 to 10 (with and without trailing
    /// bytes) and contents of both signs: wherever the hand-read path
    /// answers, snmp2 decodes the same, and it answers for exactly the
    /// forms it is meant to (the count at the end).
    #[test]
    fn plain_varbinds_decode_as_snmp2_decodes_them() {
        let name = [0x06, 0x03, 0x2b, 0x06, 0x01];
        let mut read_by_hand = 0;
        for value_tag in (0u8..=0x0a).chain(0x40..=0x47).chain(0x80..=0x83) {
            for len in 0..=10u8 {
                for fill in [0x00u8, 0x01, 0x7f, 0x80, 0xff] {
                    for trailing in [&[][..], &[0x05, 0x00][..]] {
                        let mut seq = name.to_vec();
                        seq.extend([value_tag, len]);
                        seq.extend((0..len).map(|i| fill.wrapping_add(i)));
                        seq.extend_from_slice(trailing);
                        let by_hand = split_plain_varbind(&seq);
                        let by_snmp2 = split_any_varbind(&seq);
                        if let Some(varbind) = by_hand {
                            read_by_hand += 1;
                            assert_eq!(Ok(varbind), by_snmp2, "{seq:02x?}");
                        }
                    }
                }
            }
        }
        // Numbers of 1-8 bytes (4 tags), strings of 0-10, NULL and the
        // exceptions, each without trailing bytes, for 5 fills.
        assert_eq!(read_by_hand, 5 * (4 * 8 + 11 + 4));
    }

    /// One varbind of every value variant.
    fn every_value() -> Vec<VarBind> {
        let base = oid("1.3.6.1.4.1.705.1.7");
        let values = vec![
            Value::Integer(-42),
            Value::Integer(i64::MAX),
            Value::Integer(i64::MIN),
            Value::OctetString(b"Galaxy 5500".to_vec()),
            Value::OctetString(vec![0xff; 300]),
            Value::Null,
            Value::oid(oid("1.3.6.1.4.1.705.1")),
            Value::oid(oid("2.100.3")),
            Value::IpAddress([10, 0, 0, 1]),
            Value::Counter32(u32::MAX),
            Value::Gauge32(230),
            Value::TimeTicks(123_456),
            Value::Counter64(u64::MAX),
            Value::Opaque(vec![0x9f, 0x78, 0x04, 0x42, 0xf6, 0x00, 0x00]),
            Value::NoSuchObject,
            Value::NoSuchInstance,
            Value::EndOfMibView,
        ];
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (base.join(&[i as u32 + 1, 0]), v))
            .collect()
    }

    fn round_trip(msg: &Message) {
        let bytes = msg.encode();
        assert_eq!(msg.try_encode().as_ref(), Ok(&bytes));
        let back = Message::decode(&bytes).unwrap_or_else(|e| panic!("{e} for {msg:?}"));
        assert_eq!(&back, msg);
        assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn every_common_kind_round_trips_with_every_value() {
        let kinds = [
            PduKind::Get,
            PduKind::GetNext,
            PduKind::GetBulk,
            PduKind::Set,
            PduKind::Response,
            PduKind::TrapV2,
            PduKind::Inform,
            PduKind::Report,
        ];
        for kind in kinds {
            for version in [Version::V1, Version::V2c] {
                if version == Version::V1 && !kind.exists_in_v1() {
                    continue;
                }
                let mut pdu = CommonPdu::new(kind, 0x1234_5678, every_value());
                if kind == PduKind::Response {
                    pdu.error_status = ErrorStatus::NotWritable;
                    pdu.error_index = 3;
                }
                round_trip(&Message::new(version, b"public".to_vec(), pdu));
            }
        }
    }

    #[test]
    fn extreme_headers_round_trip() {
        for request_id in [0, 1, -1, i32::MIN, i32::MAX] {
            let pdu = CommonPdu::new(PduKind::Get, request_id, vec![]);
            round_trip(&Message::new(Version::V2c, Vec::new(), pdu));
        }
        let mut pdu = CommonPdu::new(PduKind::Response, 7, every_value());
        pdu.error_status = ErrorStatus::Other(99);
        pdu.error_index = 17;
        round_trip(&Message::new(Version::V2c, vec![0u8; 200], pdu));
    }

    #[test]
    fn get_bulk_counts_survive_the_error_slots() {
        let varbinds = vec![(oid("1.3.6.1.2.1.2.2.1.2"), Value::Null)];
        for (non_repeaters, max_repetitions) in [(0, 25), (1, 10), (2, 0), (30, 1_000_000)] {
            let pdu = CommonPdu::get_bulk(9, non_repeaters, max_repetitions, varbinds.clone());
            let msg = Message::new(Version::V2c, b"public".to_vec(), pdu);
            round_trip(&msg);
            let back = Message::decode(&msg.encode()).unwrap();
            let back = back.common().unwrap();
            assert_eq!(back.non_repeaters(), non_repeaters);
            assert_eq!(back.max_repetitions(), max_repetitions);
        }
    }

    #[test]
    fn trap_v1_round_trips() {
        let trap = TrapV1 {
            enterprise: oid("1.3.6.1.4.1.705.1.11"),
            agent_addr: [192, 168, 0, 42],
            generic_trap: 6,
            specific_trap: 13,
            timestamp: u32::MAX,
            varbinds: every_value(),
        };
        round_trip(&Message {
            version: Version::V1,
            community: b"public".to_vec(),
            pdu: Pdu::TrapV1(trap),
        });
    }

    #[test]
    fn decodes_a_net_snmp_response_capture() {
        // snmpget -v2c sysUpTime.0 reply: Timeticks 12345678.
        let bytes: &[u8] = &[
            0x30, 0x2d, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa2,
            0x20, 0x02, 0x04, 0x6b, 0x8b, 0x45, 0x67, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30,
            0x12, 0x30, 0x10, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00, 0x43,
            0x04, 0x00, 0xbc, 0x61, 0x4e,
        ];
        let msg = Message::decode(bytes).unwrap();
        assert_eq!(msg.encode(), bytes);
        assert_eq!(msg.version, Version::V2c);
        assert_eq!(msg.community, b"public");
        let pdu = msg.common().unwrap();
        assert_eq!(pdu.kind, PduKind::Response);
        assert_eq!(pdu.request_id, 0x6b8b_4567);
        assert_eq!(
            pdu.varbinds,
            vec![(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(12_345_678))]
        );
    }

    /// Requests as net-snmp 5.9 sends them, captured with `-d` against a
    /// closed loopback port: `snmpget -v2c` of 20 OIDs (0x82 long-form
    /// lengths), `snmpgetnext -v1` of the first 8 (0x81 long form) and
    /// `snmpbulkget -v2c -c private -Cn1 -Cr25` (short form). Both the
    /// borrowed request encoder and the owned one must give these bytes.
    #[test]
    fn requests_match_net_snmp_captures() {
        let get_oids: Vec<Oid> = [
            "1.3.6.1.4.1.318.1.1.1.2.2.1.0",
            "1.3.6.1.4.1.705.1.5.1.0",
            "1.3.6.1.4.1.318.1.1.1.2.2.2.0",
            "1.3.6.1.4.1.705.1.5.2.0",
            "1.3.6.1.4.1.318.1.1.1.2.2.3.0",
            "1.3.6.1.4.1.705.1.5.3.0",
            "1.3.6.1.4.1.318.1.1.1.2.2.4.0",
            "1.3.6.1.4.1.705.1.5.4.0",
            "1.3.6.1.4.1.318.1.1.1.2.2.5.0",
            "1.3.6.1.4.1.705.1.5.5.0",
            "1.3.6.1.4.1.318.1.1.1.2.2.6.0",
            "1.3.6.1.4.1.705.1.5.6.0",
            "1.3.6.1.4.1.318.1.1.1.2.2.7.0",
            "1.3.6.1.4.1.705.1.5.7.0",
            "1.3.6.1.4.1.318.1.1.1.2.2.8.0",
            "1.3.6.1.4.1.705.1.5.8.0",
            "1.3.6.1.2.1.33.1.4.4.1.2.1",
            "1.3.6.1.4.1.318.1.1.1.9.3.3.1.6.1.1.2",
            "1.3.6.1.2.1.1.3.0",
            "2.100.3",
        ]
        .iter()
        .map(|text| oid(text))
        .collect();
        let get: &[u8] = &[
            0x30, 0x82, 0x01, 0x88, 0x02, 0x01, 0x01, 0x04, 0x06, 0x70, 0x75, 0x62, 0x6c, 0x69,
            0x63, 0xa0, 0x82, 0x01, 0x79, 0x02, 0x04, 0x6e, 0xa2, 0x15, 0xd1, 0x02, 0x01, 0x00,
            0x02, 0x01, 0x00, 0x30, 0x82, 0x01, 0x69, 0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01,
            0x04, 0x01, 0x82, 0x3e, 0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x00, 0x05, 0x00, 0x30,
            0x0f, 0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x41, 0x01, 0x05, 0x01, 0x00,
            0x05, 0x00, 0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e, 0x01,
            0x01, 0x01, 0x02, 0x02, 0x02, 0x00, 0x05, 0x00, 0x30, 0x0f, 0x06, 0x0b, 0x2b, 0x06,
            0x01, 0x04, 0x01, 0x85, 0x41, 0x01, 0x05, 0x02, 0x00, 0x05, 0x00, 0x30, 0x12, 0x06,
            0x0e, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e, 0x01, 0x01, 0x01, 0x02, 0x02, 0x03,
            0x00, 0x05, 0x00, 0x30, 0x0f, 0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x41,
            0x01, 0x05, 0x03, 0x00, 0x05, 0x00, 0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01, 0x04,
            0x01, 0x82, 0x3e, 0x01, 0x01, 0x01, 0x02, 0x02, 0x04, 0x00, 0x05, 0x00, 0x30, 0x0f,
            0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x41, 0x01, 0x05, 0x04, 0x00, 0x05,
            0x00, 0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e, 0x01, 0x01,
            0x01, 0x02, 0x02, 0x05, 0x00, 0x05, 0x00, 0x30, 0x0f, 0x06, 0x0b, 0x2b, 0x06, 0x01,
            0x04, 0x01, 0x85, 0x41, 0x01, 0x05, 0x05, 0x00, 0x05, 0x00, 0x30, 0x12, 0x06, 0x0e,
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e, 0x01, 0x01, 0x01, 0x02, 0x02, 0x06, 0x00,
            0x05, 0x00, 0x30, 0x0f, 0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x41, 0x01,
            0x05, 0x06, 0x00, 0x05, 0x00, 0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01, 0x04, 0x01,
            0x82, 0x3e, 0x01, 0x01, 0x01, 0x02, 0x02, 0x07, 0x00, 0x05, 0x00, 0x30, 0x0f, 0x06,
            0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x41, 0x01, 0x05, 0x07, 0x00, 0x05, 0x00,
            0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e, 0x01, 0x01, 0x01,
            0x02, 0x02, 0x08, 0x00, 0x05, 0x00, 0x30, 0x0f, 0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04,
            0x01, 0x85, 0x41, 0x01, 0x05, 0x08, 0x00, 0x05, 0x00, 0x30, 0x10, 0x06, 0x0c, 0x2b,
            0x06, 0x01, 0x02, 0x01, 0x21, 0x01, 0x04, 0x04, 0x01, 0x02, 0x01, 0x05, 0x00, 0x30,
            0x16, 0x06, 0x12, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e, 0x01, 0x01, 0x01, 0x09,
            0x03, 0x03, 0x01, 0x06, 0x01, 0x01, 0x02, 0x05, 0x00, 0x30, 0x0c, 0x06, 0x08, 0x2b,
            0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00, 0x05, 0x00, 0x30, 0x07, 0x06, 0x03, 0x81,
            0x34, 0x03, 0x05, 0x00,
        ];
        let next: &[u8] = &[
            0x30, 0x81, 0xb1, 0x02, 0x01, 0x00, 0x04, 0x06, 0x70, 0x75, 0x62, 0x6c, 0x69, 0x63,
            0xa1, 0x81, 0xa3, 0x02, 0x04, 0x20, 0x64, 0xc7, 0xa1, 0x02, 0x01, 0x00, 0x02, 0x01,
            0x00, 0x30, 0x81, 0x94, 0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82,
            0x3e, 0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x00, 0x05, 0x00, 0x30, 0x0f, 0x06, 0x0b,
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x41, 0x01, 0x05, 0x01, 0x00, 0x05, 0x00, 0x30,
            0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e, 0x01, 0x01, 0x01, 0x02,
            0x02, 0x02, 0x00, 0x05, 0x00, 0x30, 0x0f, 0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01,
            0x85, 0x41, 0x01, 0x05, 0x02, 0x00, 0x05, 0x00, 0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06,
            0x01, 0x04, 0x01, 0x82, 0x3e, 0x01, 0x01, 0x01, 0x02, 0x02, 0x03, 0x00, 0x05, 0x00,
            0x30, 0x0f, 0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x41, 0x01, 0x05, 0x03,
            0x00, 0x05, 0x00, 0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e,
            0x01, 0x01, 0x01, 0x02, 0x02, 0x04, 0x00, 0x05, 0x00, 0x30, 0x0f, 0x06, 0x0b, 0x2b,
            0x06, 0x01, 0x04, 0x01, 0x85, 0x41, 0x01, 0x05, 0x04, 0x00, 0x05, 0x00,
        ];
        let bulk: &[u8] = &[
            0x30, 0x4d, 0x02, 0x01, 0x01, 0x04, 0x07, 0x70, 0x72, 0x69, 0x76, 0x61, 0x74, 0x65,
            0xa5, 0x3f, 0x02, 0x04, 0x02, 0x24, 0xa7, 0x3f, 0x02, 0x01, 0x01, 0x02, 0x01, 0x19,
            0x30, 0x31, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00,
            0x05, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x41, 0x01,
            0x07, 0x05, 0x00, 0x30, 0x12, 0x06, 0x0e, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x3e,
            0x01, 0x01, 0x01, 0x0c, 0x03, 0x02, 0x01, 0x05, 0x00,
        ];
        let bulk_oids = [
            oid("1.3.6.1.2.1.1.3.0"),
            oid("1.3.6.1.4.1.705.1.7"),
            oid("1.3.6.1.4.1.318.1.1.1.12.3.2.1"),
        ];
        let cases = [
            (
                Version::V2c,
                &b"public"[..],
                PduRef {
                    request_id: 0x6ea215d1,
                    ..PduRef::new(PduKind::Get, VarbindsRef::Nulls(&get_oids))
                },
                get,
            ),
            (
                Version::V1,
                &b"public"[..],
                PduRef {
                    request_id: 0x2064c7a1,
                    ..PduRef::new(PduKind::GetNext, VarbindsRef::Nulls(&get_oids[..8]))
                },
                next,
            ),
            (
                Version::V2c,
                &b"private"[..],
                PduRef {
                    request_id: 0x224a73f,
                    ..PduRef::get_bulk(1, 25, &bulk_oids)
                },
                bulk,
            ),
        ];
        for (version, community, pdu, bytes) in cases {
            assert_eq!(
                pdu.encode_message(version, community).unwrap(),
                bytes,
                "{pdu:?}"
            );
            let owned = Message::new(version, community.to_vec(), pdu.to_owned_pdu());
            assert_eq!(owned.encode(), bytes, "{pdu:?}");
            assert_eq!(Message::decode(bytes).unwrap(), owned);
        }
    }

    #[test]
    fn rejects_v3_with_a_clear_error() {
        // msgVersion 3, then a header we never look at.
        let bytes = [0x30, 0x05, 0x02, 0x01, 0x03, 0x30, 0x00];
        let err = Message::decode(&bytes).unwrap_err();
        assert_eq!(err, DecodeError::UnsupportedVersion(3));
        assert!(err.to_string().contains("v3"), "{err}");
        let v2 = [0x30, 0x03, 0x02, 0x01, 0x02];
        assert_eq!(
            Message::decode(&v2).unwrap_err(),
            DecodeError::UnsupportedVersion(2)
        );
    }

    #[test]
    fn rejects_pdus_that_do_not_exist_in_the_version() {
        let pdu = CommonPdu::get_bulk(1, 0, 10, vec![(oid("1.3.6.1"), Value::Null)]);
        let bulk_v1 = Message::new(Version::V1, b"public".to_vec(), pdu).encode();
        assert_eq!(
            Message::decode(&bulk_v1).unwrap_err(),
            DecodeError::PduNotInVersion {
                version: Version::V1,
                tag: tag::GET_BULK
            }
        );
        let trap = TrapV1 {
            enterprise: oid("1.3.6.1.4.1.705"),
            agent_addr: [127, 0, 0, 1],
            generic_trap: 0,
            specific_trap: 0,
            timestamp: 0,
            varbinds: vec![],
        };
        let mut msg = Message {
            version: Version::V2c,
            community: b"public".to_vec(),
            pdu: Pdu::TrapV1(trap),
        };
        let trap_v2c = msg.encode();
        let err = Message::decode(&trap_v2c).unwrap_err();
        assert!(matches!(err, DecodeError::PduNotInVersion { .. }), "{err}");
        msg.version = Version::V1;
        assert!(Message::decode(&msg.encode()).is_ok());
    }

    #[test]
    fn a_bad_varbind_is_an_error_not_a_shorter_list() {
        let pdu = CommonPdu::new(
            PduKind::Response,
            5,
            vec![
                (oid("1.3.6.1.2.1.1.1.0"), Value::Integer(1)),
                (oid("1.3.6.1.2.1.1.2.0"), Value::Integer(2)),
            ],
        );
        let mut bytes = Message::new(Version::V2c, b"public".to_vec(), pdu).encode();
        // Change the second value's tag to an unknown application type.
        let pos = bytes.len() - 3;
        assert_eq!(bytes[pos], tag::INTEGER);
        bytes[pos] = 0x47;
        let err = Message::decode(&bytes).unwrap_err();
        assert!(
            matches!(&err, DecodeError::Varbind { index: 2, reason } if reason.contains("0x47")),
            "{err}"
        );
    }

    #[test]
    fn varbind_with_trailing_bytes_or_bad_oid_is_rejected() {
        // SEQUENCE { OID 1.3, INTEGER 1, NULL }
        let list = [0x30, 0x08, 0x06, 0x01, 0x2b, 0x02, 0x01, 0x01, 0x05, 0x00];
        let err = decode_varbinds(&list).unwrap_err();
        assert!(err.to_string().contains("trailing"), "{err}");
        // The same without the NULL is fine.
        let ok = [0x30, 0x06, 0x06, 0x01, 0x2b, 0x02, 0x01, 0x01];
        assert_eq!(
            decode_varbinds(&ok).unwrap(),
            vec![(oid("1.3"), Value::Integer(1))]
        );
        // SEQUENCE { OID (empty), NULL }
        let empty_oid = [0x30, 0x04, 0x06, 0x00, 0x05, 0x00];
        let err = decode_varbinds(&empty_oid).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn error_status_codes_and_text() {
        for code in 0..19 {
            let status = ErrorStatus::from_u32(code);
            assert!(!matches!(status, ErrorStatus::Other(_)), "{code}");
            assert_eq!(status.code(), code);
        }
        assert_eq!(ErrorStatus::from_u32(2), ErrorStatus::NoSuchName);
        assert_eq!(ErrorStatus::from_u32(17), ErrorStatus::NotWritable);
        assert_eq!(ErrorStatus::from_u32(4242), ErrorStatus::Other(4242));
        assert_eq!(ErrorStatus::Other(4242).code(), 4242);
        assert_eq!(
            ErrorStatus::NotWritable.to_string(),
            "notWritable (17): the object is not writable"
        );
    }

    /// xorshift64*: deterministic noise for the no-panic test.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn malformed_bytes_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut seeds: Vec<Vec<u8>> = Vec::new();
        for kind in [PduKind::GetBulk, PduKind::Response, PduKind::TrapV2] {
            let pdu = CommonPdu::new(kind, 77, every_value());
            seeds.push(Message::new(Version::V2c, b"public".to_vec(), pdu).encode());
        }
        seeds.push(
            Message {
                version: Version::V1,
                community: b"public".to_vec(),
                pdu: Pdu::TrapV1(TrapV1 {
                    enterprise: oid("1.3.6.1.4.1.705"),
                    agent_addr: [1, 2, 3, 4],
                    generic_trap: 6,
                    specific_trap: 1,
                    timestamp: 5,
                    varbinds: every_value(),
                }),
            }
            .encode(),
        );
        let mut decoded = 0;
        // Every truncation of every seed.
        for seed in &seeds {
            for len in 0..seed.len() {
                decoded += usize::from(Message::decode(&seed[..len]).is_ok());
            }
        }
        // Random bit flips, byte replacements and splices.
        for round in 0..20_000 {
            let mut bytes = seeds[round % seeds.len()].clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(bytes.len());
                match rng.below(3) {
                    0 => bytes[at] ^= 1 << rng.below(8),
                    1 => bytes[at] = rng.next() as u8,
                    _ => bytes.truncate(at.max(1)),
                }
            }
            decoded += usize::from(Message::decode(&bytes).is_ok());
        }
        // Pure noise, with a plausible first byte half of the time.
        for _ in 0..20_000 {
            let len = rng.below(64);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if len > 0 && rng.below(2) == 0 {
                bytes[0] = 0x30;
            }
            decoded += usize::from(Message::decode(&bytes).is_ok());
        }
        // Some mutations are harmless (e.g. a flipped value byte): the
        // decoder must accept those, so the count is not zero.
        assert!(decoded > 0);
    }
}
