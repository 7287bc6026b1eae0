//! SNMPv3 User-based Security Model (RFC 3414, RFC 3826, RFC 7860):
//! protocols, users, key derivation and the per-message transforms.
//!
//! * [`AuthProtocol`]: HMAC-MD5-96, HMAC-SHA-96 and the RFC 7860
//!   HMAC-SHA-2 family (SHA-224/256/384/512), with password-to-key
//!   (1 MiB of hashing) and key localisation.
//! * [`PrivProtocol`]: CBC-DES (RFC 3414 §8), CFB128-AES-128 (RFC 3826)
//!   and AES-192/256 (draft-blumenthal-aes-usm-04), with the two key
//!   extensions agents use when the auth hash is shorter than the AES key:
//!   Blumenthal (net-snmp's `AES-192`/`AES-256`, the draft's own) and Reeder
//!   (net-snmp's `AES-192-C`/`AES-256-C`, Cisco and others).
//! * [`UsmUser`]: a user's name, protocols and master keys (Ku), derived
//!   from the passwords once; [`UsmUser::localize`] gives the
//!   [`LocalKeys`] for one authoritative engine, which the client and the
//!   trap listener compute once per engine and keep.
//! * [`LocalKeys`]: signing, verifying, encrypting and decrypting one
//!   message.
//!
//! Secrets never appear in `Debug` output.

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use cfb_mode::cipher::AsyncStreamCipher;
use hmac::{Hmac, Mac};
use sha2::Digest;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Shortest password RFC 3414 §11.2 allows (and net-snmp enforces).
pub const MIN_PASSWORD_LEN: usize = 8;

/// Bytes of password material hashed by password-to-key (RFC 3414 A.2).
const PASSWORD_TO_KEY_BYTES: usize = 1_048_576;

/// An authentication protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthProtocol {
    /// usmHMACMD5AuthProtocol (RFC 3414): 96-bit MAC.
    Md5,
    /// usmHMACSHAAuthProtocol (RFC 3414): 96-bit MAC.
    Sha1,
    /// usmHMAC128SHA224AuthProtocol (RFC 7860).
    Sha224,
    /// usmHMAC192SHA256AuthProtocol (RFC 7860).
    Sha256,
    /// usmHMAC256SHA384AuthProtocol (RFC 7860).
    Sha384,
    /// usmHMAC384SHA512AuthProtocol (RFC 7860).
    Sha512,
}

impl AuthProtocol {
    pub const ALL: [AuthProtocol; 6] = [
        AuthProtocol::Md5,
        AuthProtocol::Sha1,
        AuthProtocol::Sha224,
        AuthProtocol::Sha256,
        AuthProtocol::Sha384,
        AuthProtocol::Sha512,
    ];

    /// The configuration name (net-snmp's `-a` spelling, lower case).
    pub fn name(self) -> &'static str {
        match self {
            AuthProtocol::Md5 => "md5",
            AuthProtocol::Sha1 => "sha",
            AuthProtocol::Sha224 => "sha224",
            AuthProtocol::Sha256 => "sha256",
            AuthProtocol::Sha384 => "sha384",
            AuthProtocol::Sha512 => "sha512",
        }
    }

    /// Hash output length: also the localised key length.
    pub fn digest_len(self) -> usize {
        match self {
            AuthProtocol::Md5 => 16,
            AuthProtocol::Sha1 => 20,
            AuthProtocol::Sha224 => 28,
            AuthProtocol::Sha256 => 32,
            AuthProtocol::Sha384 => 48,
            AuthProtocol::Sha512 => 64,
        }
    }

    /// Length of msgAuthenticationParameters (the truncated MAC).
    pub fn mac_len(self) -> usize {
        match self {
            AuthProtocol::Md5 | AuthProtocol::Sha1 => 12,
            AuthProtocol::Sha224 => 16,
            AuthProtocol::Sha256 => 24,
            AuthProtocol::Sha384 => 32,
            AuthProtocol::Sha512 => 48,
        }
    }

    /// One hash over the concatenation of `parts`.
    pub fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for part in parts {
                d.update(part);
            }
            d.finalize().to_vec()
        }
        match self {
            AuthProtocol::Md5 => run::<md5::Md5>(parts),
            AuthProtocol::Sha1 => run::<sha1::Sha1>(parts),
            AuthProtocol::Sha224 => run::<sha2::Sha224>(parts),
            AuthProtocol::Sha256 => run::<sha2::Sha256>(parts),
            AuthProtocol::Sha384 => run::<sha2::Sha384>(parts),
            AuthProtocol::Sha512 => run::<sha2::Sha512>(parts),
        }
    }

    /// Password-to-key (RFC 3414 A.2, RFC 7860 §9.3): the hash of 1 MiB of
    /// the password repeated. Expensive (milliseconds): do it once.
    pub fn password_to_key(self, password: &[u8]) -> Vec<u8> {
        fn run<D: Digest>(password: &[u8]) -> Vec<u8> {
            let mut d = D::new();
            if password.is_empty() {
                return d.finalize().to_vec();
            }
            let mut block = [0u8; 64];
            let mut at = 0;
            for _ in 0..PASSWORD_TO_KEY_BYTES / 64 {
                for byte in &mut block {
                    *byte = password[at];
                    at = (at + 1) % password.len();
                }
                d.update(block);
            }
            d.finalize().to_vec()
        }
        match self {
            AuthProtocol::Md5 => run::<md5::Md5>(password),
            AuthProtocol::Sha1 => run::<sha1::Sha1>(password),
            AuthProtocol::Sha224 => run::<sha2::Sha224>(password),
            AuthProtocol::Sha256 => run::<sha2::Sha256>(password),
            AuthProtocol::Sha384 => run::<sha2::Sha384>(password),
            AuthProtocol::Sha512 => run::<sha2::Sha512>(password),
        }
    }

    /// Key localisation (RFC 3414 A.2.2): `H(Ku || engineID || Ku)`.
    pub fn localize(self, master: &[u8], engine_id: &[u8]) -> Vec<u8> {
        self.hash(&[master, engine_id, master])
    }

    /// The full (untruncated) HMAC of `message` under `key`.
    fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            AuthProtocol::Md5 => run::<Hmac<md5::Md5>>(key, message),
            AuthProtocol::Sha1 => run::<Hmac<sha1::Sha1>>(key, message),
            AuthProtocol::Sha224 => run::<Hmac<sha2::Sha224>>(key, message),
            AuthProtocol::Sha256 => run::<Hmac<sha2::Sha256>>(key, message),
            AuthProtocol::Sha384 => run::<Hmac<sha2::Sha384>>(key, message),
            AuthProtocol::Sha512 => run::<Hmac<sha2::Sha512>>(key, message),
        }
    }
}

impl fmt::Display for AuthProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthProtocol::Md5 => "MD5",
            AuthProtocol::Sha1 => "SHA-1",
            AuthProtocol::Sha224 => "SHA-224",
            AuthProtocol::Sha256 => "SHA-256",
            AuthProtocol::Sha384 => "SHA-384",
            AuthProtocol::Sha512 => "SHA-512",
        })
    }
}

/// A protocol name that is not one we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}: expected one of {expected}")]
pub struct ParseProtocolError {
    what: &'static str,
    given: String,
    expected: &'static str,
}

/// Lower case without `-`, `_` and spaces: `SHA-256` → `sha256`.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

impl FromStr for AuthProtocol {
    type Err = ParseProtocolError;

    /// `md5`, `sha` (`sha1`), `sha224`, `sha256`, `sha384`, `sha512`; case,
    /// `-` and `_` ignored (`SHA-256` works).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match squash(text).as_str() {
            "md5" => AuthProtocol::Md5,
            "sha" | "sha1" => AuthProtocol::Sha1,
            "sha224" => AuthProtocol::Sha224,
            "sha256" => AuthProtocol::Sha256,
            "sha384" => AuthProtocol::Sha384,
            "sha512" => AuthProtocol::Sha512,
            _ => {
                return Err(ParseProtocolError {
                    what: "auth protocol",
                    given: text.to_string(),
                    expected: "md5, sha, sha224, sha256, sha384, sha512",
                });
            }
        })
    }
}

/// How a localised privacy key shorter than the cipher's key is extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyExtension {
    /// draft-blumenthal-aes-usm-04 §3.1.2.1: `Kul || H(Kul) || ...`.
    /// net-snmp's `AES-192`/`AES-256`.
    Blumenthal,
    /// draft-reeder-snmpv3-usm-3desede-00: `Kul || localize(Ku(Kul))`.
    /// net-snmp's `AES-192-C`/`AES-256-C`, Cisco and others.
    Reeder,
}

/// A privacy protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrivProtocol {
    /// CBC-DES (RFC 3414 §8).
    Des,
    /// CFB128-AES-128 (RFC 3826).
    Aes128,
    /// CFB128-AES-192, Blumenthal key extension.
    Aes192,
    /// CFB128-AES-256, Blumenthal key extension.
    Aes256,
    /// CFB128-AES-192, Reeder ("Cisco") key extension.
    Aes192C,
    /// CFB128-AES-256, Reeder ("Cisco") key extension.
    Aes256C,
}

impl PrivProtocol {
    pub const ALL: [PrivProtocol; 6] = [
        PrivProtocol::Des,
        PrivProtocol::Aes128,
        PrivProtocol::Aes192,
        PrivProtocol::Aes256,
        PrivProtocol::Aes192C,
        PrivProtocol::Aes256C,
    ];

    /// The configuration name.
    pub fn name(self) -> &'static str {
        match self {
            PrivProtocol::Des => "des",
            PrivProtocol::Aes128 => "aes",
            PrivProtocol::Aes192 => "aes192",
            PrivProtocol::Aes256 => "aes256",
            PrivProtocol::Aes192C => "aes192c",
            PrivProtocol::Aes256C => "aes256c",
        }
    }

    /// Key material the cipher takes from the localised key (DES: the
    /// 8-byte key and the 8-byte pre-IV).
    pub fn key_len(self) -> usize {
        match self {
            PrivProtocol::Des | PrivProtocol::Aes128 => 16,
            PrivProtocol::Aes192 | PrivProtocol::Aes192C => 24,
            PrivProtocol::Aes256 | PrivProtocol::Aes256C => 32,
        }
    }

    /// The extension used when the auth hash is shorter than the key.
    pub fn key_extension(self) -> Option<KeyExtension> {
        match self {
            PrivProtocol::Des | PrivProtocol::Aes128 => None,
            PrivProtocol::Aes192 | PrivProtocol::Aes256 => Some(KeyExtension::Blumenthal),
            PrivProtocol::Aes192C | PrivProtocol::Aes256C => Some(KeyExtension::Reeder),
        }
    }
}

impl fmt::Display for PrivProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrivProtocol::Des => "DES",
            PrivProtocol::Aes128 => "AES-128",
            PrivProtocol::Aes192 => "AES-192",
            PrivProtocol::Aes256 => "AES-256",
            PrivProtocol::Aes192C => "AES-192-C",
            PrivProtocol::Aes256C => "AES-256-C",
        })
    }
}

impl FromStr for PrivProtocol {
    type Err = ParseProtocolError;

    /// `des`, `aes` (`aes128`), `aes192`, `aes256`, `aes192c`, `aes256c`
    /// (also `aes192-cisco`, `aes256-cisco`); case, `-` and `_` ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match squash(text).as_str() {
            "des" | "cbcdes" => PrivProtocol::Des,
            "aes" | "aes128" => PrivProtocol::Aes128,
            "aes192" => PrivProtocol::Aes192,
            "aes256" => PrivProtocol::Aes256,
            "aes192c" | "aes192cisco" => PrivProtocol::Aes192C,
            "aes256c" | "aes256cisco" => PrivProtocol::Aes256C,
            _ => {
                return Err(ParseProtocolError {
                    what: "priv protocol",
                    given: text.to_string(),
                    expected: "des, aes, aes192, aes256, aes192c, aes256c",
                });
            }
        })
    }
}

macro_rules! serde_by_name {
    ($ty:ty, $expecting:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$ty, E> {
                        text.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(Visitor)
            }
        }
    };
}

serde_by_name!(
    AuthProtocol,
    "an SNMPv3 auth protocol: md5, sha, sha224, sha256, sha384, sha512"
);
serde_by_name!(
    PrivProtocol,
    "an SNMPv3 priv protocol: des, aes, aes192, aes256, aes192c, aes256c"
);

/// msgSecurityLevel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecurityLevel {
    NoAuthNoPriv,
    AuthNoPriv,
    AuthPriv,
}

impl SecurityLevel {
    /// The auth and priv bits of msgFlags.
    pub fn flags(self) -> u8 {
        match self {
            SecurityLevel::NoAuthNoPriv => 0,
            SecurityLevel::AuthNoPriv => FLAG_AUTH,
            SecurityLevel::AuthPriv => FLAG_AUTH | FLAG_PRIV,
        }
    }

    /// The level of msgFlags; `None` for the invalid priv-without-auth.
    pub fn from_flags(flags: u8) -> Option<SecurityLevel> {
        match flags & (FLAG_AUTH | FLAG_PRIV) {
            0 => Some(SecurityLevel::NoAuthNoPriv),
            FLAG_AUTH => Some(SecurityLevel::AuthNoPriv),
            f if f == FLAG_AUTH | FLAG_PRIV => Some(SecurityLevel::AuthPriv),
            _ => None,
        }
    }
}

impl fmt::Display for SecurityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecurityLevel::NoAuthNoPriv => "noAuthNoPriv",
            SecurityLevel::AuthNoPriv => "authNoPriv",
            SecurityLevel::AuthPriv => "authPriv",
        })
    }
}

/// msgFlags bits (RFC 3412 §6.4).
pub const FLAG_AUTH: u8 = 0x01;
pub const FLAG_PRIV: u8 = 0x02;
pub const FLAG_REPORTABLE: u8 = 0x04;

/// Why a user cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("user name must be 1-32 octets")]
    BadName,
    #[error("{what} password is shorter than {MIN_PASSWORD_LEN} characters")]
    ShortPassword { what: &'static str },
    #[error("privacy needs authentication")]
    PrivWithoutAuth,
}

/// A USM user: name, protocols and master keys (never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct UsmUser {
    name: Vec<u8>,
    auth: Option<(AuthProtocol, Arc<[u8]>)>,
    privacy: Option<(PrivProtocol, Arc<[u8]>)>,
}

impl fmt::Debug for UsmUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsmUser")
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("auth", &self.auth.as_ref().map(|(p, _)| *p))
            .field("privacy", &self.privacy.as_ref().map(|(p, _)| *p))
            .finish_non_exhaustive()
    }
}

impl UsmUser {
    /// Derives the master keys from the passwords (cached per protocol
    /// and password, so building the same user twice costs nothing).
    pub fn new(
        name: &str,
        auth: Option<(AuthProtocol, &str)>,
        privacy: Option<(PrivProtocol, &str)>,
    ) -> Result<UsmUser, UserError> {
        if name.is_empty() || name.len() > 32 {
            return Err(UserError::BadName);
        }
        if privacy.is_some() && auth.is_none() {
            return Err(UserError::PrivWithoutAuth);
        }
        let auth = auth
            .map(|(protocol, password)| {
                if password.chars().count() < MIN_PASSWORD_LEN {
                    return Err(UserError::ShortPassword { what: "auth" });
                }
                Ok((protocol, master_key(protocol, password.as_bytes())))
            })
            .transpose()?;
        let privacy = match (privacy, &auth) {
            (Some((protocol, password)), Some((hash, _))) => {
                if password.chars().count() < MIN_PASSWORD_LEN {
                    return Err(UserError::ShortPassword { what: "priv" });
                }
                // The privacy key is derived with the auth protocol's hash.
                Some((protocol, master_key(*hash, password.as_bytes())))
            }
            _ => None,
        };
        Ok(UsmUser {
            name: name.as_bytes().to_vec(),
            auth,
            privacy,
        })
    }

    /// msgUserName.
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// The name for messages.
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    pub fn auth_protocol(&self) -> Option<AuthProtocol> {
        self.auth.as_ref().map(|(p, _)| *p)
    }

    pub fn priv_protocol(&self) -> Option<PrivProtocol> {
        self.privacy.as_ref().map(|(p, _)| *p)
    }

    /// The level this user speaks at.
    pub fn level(&self) -> SecurityLevel {
        match (&self.auth, &self.privacy) {
            (None, _) => SecurityLevel::NoAuthNoPriv,
            (Some(_), None) => SecurityLevel::AuthNoPriv,
            (Some(_), Some(_)) => SecurityLevel::AuthPriv,
        }
    }

    /// The keys for one authoritative engine (RFC 3414 §2.6), with the
    /// privacy key extended for AES-192/256 when the hash is too short.
    pub fn localize(&self, engine_id: &[u8]) -> LocalKeys {
        let auth = self
            .auth
            .as_ref()
            .map(|(protocol, ku)| (*protocol, protocol.localize(ku, engine_id)));
        let privacy = match (&self.privacy, &self.auth) {
            (Some((cipher, ku)), Some((hash, _))) => {
                let mut kul = hash.localize(ku, engine_id);
                extend_key(&mut kul, *hash, *cipher, engine_id);
                kul.truncate(cipher.key_len());
                Some((*cipher, kul))
            }
            _ => None,
        };
        LocalKeys { auth, privacy }
    }
}

/// Ku for a password, computed once per (protocol, password) per process.
fn master_key(protocol: AuthProtocol, password: &[u8]) -> Arc<[u8]> {
    type Cache = Mutex<HashMap<(AuthProtocol, Vec<u8>), Arc<[u8]>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    // Keyed by a digest of the password, not the password itself.
    let fingerprint = sha2::Sha256::digest(password).to_vec();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(key) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(protocol, fingerprint.clone()))
    {
        return key.clone();
    }
    let key: Arc<[u8]> = protocol.password_to_key(password).into();
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert((protocol, fingerprint), key.clone());
    key
}

/// Extends a localised privacy key to the cipher's length, as net-snmp's
/// `netsnmp_extend_kul` does (the extension applies only when needed).
fn extend_key(kul: &mut Vec<u8>, hash: AuthProtocol, cipher: PrivProtocol, engine_id: &[u8]) {
    let need = cipher.key_len();
    let Some(method) = cipher.key_extension() else {
        return;
    };
    while kul.len() < need {
        let more = match method {
            KeyExtension::Blumenthal => hash.hash(&[kul]),
            KeyExtension::Reeder => {
                let ku = hash.password_to_key(kul);
                hash.localize(&ku, engine_id)
            }
        };
        let take = more.len().min(need - kul.len());
        kul.extend_from_slice(&more[..take]);
    }
}

/// Why a message failed a USM check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the message's authentication parameters are not a valid MAC")]
    WrongDigest,
    #[error("the message could not be decrypted")]
    Decryption,
}

/// One user's keys localised for one engine.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalKeys {
    auth: Option<(AuthProtocol, Vec<u8>)>,
    privacy: Option<(PrivProtocol, Vec<u8>)>,
}

impl fmt::Debug for LocalKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeys")
            .field("auth", &self.auth.as_ref().map(|(p, _)| *p))
            .field("privacy", &self.privacy.as_ref().map(|(p, _)| *p))
            .finish_non_exhaustive()
    }
}

impl LocalKeys {
    /// No keys (noAuthNoPriv).
    pub fn none() -> LocalKeys {
        LocalKeys {
            auth: None,
            privacy: None,
        }
    }

    /// The localised authentication key (tests compare with RFC vectors).
    pub fn auth_key(&self) -> Option<&[u8]> {
        self.auth.as_ref().map(|(_, k)| k.as_slice())
    }

    /// The localised (and extended) privacy key.
    pub fn priv_key(&self) -> Option<&[u8]> {
        self.privacy.as_ref().map(|(_, k)| k.as_slice())
    }

    pub fn auth_protocol(&self) -> Option<AuthProtocol> {
        self.auth.as_ref().map(|(p, _)| *p)
    }

    pub fn level(&self) -> SecurityLevel {
        match (&self.auth, &self.privacy) {
            (None, _) => SecurityLevel::NoAuthNoPriv,
            (Some(_), None) => SecurityLevel::AuthNoPriv,
            (Some(_), Some(_)) => SecurityLevel::AuthPriv,
        }
    }

    /// The same keys without privacy (authNoPriv diagnostics and Reports).
    pub fn without_privacy(&self) -> LocalKeys {
        LocalKeys {
            auth: self.auth.clone(),
            privacy: None,
        }
    }

    /// Length of msgAuthenticationParameters at `level` (0 without auth).
    pub fn mac_len(&self) -> usize {
        self.auth.as_ref().map_or(0, |(p, _)| p.mac_len())
    }

    /// The MAC of a whole message whose authentication parameters are
    /// still zero.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let Some((protocol, key)) = &self.auth else {
            return Vec::new();
        };
        let mut mac = protocol.hmac(key, message);
        mac.truncate(protocol.mac_len());
        mac
    }

    /// Checks `mac` (the received msgAuthenticationParameters) against
    /// `message` with those parameters zeroed, in constant time.
    pub fn verify(&self, zeroed_message: &[u8], mac: &[u8]) -> Result<(), CryptoError> {
        let Some((protocol, _)) = &self.auth else {
            return Err(CryptoError::WrongDigest);
        };
        let expected = self.sign(zeroed_message);
        if mac.len() != protocol.mac_len() || !constant_time_eq(&expected, mac) {
            return Err(CryptoError::WrongDigest);
        }
        Ok(())
    }

    /// Encrypts a scoped PDU; returns (ciphertext, msgPrivacyParameters).
    /// `boots`/`time` are the authoritative engine's, as in the message.
    pub fn encrypt(&self, boots: u32, time: u32, plaintext: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let Some((cipher, key)) = &self.privacy else {
            return (plaintext.to_vec(), Vec::new());
        };
        let salt = next_salt();
        match cipher {
            PrivProtocol::Des => {
                // Salt: engine boots, then a local counter (RFC 3414 §8.1.1.1).
                let mut params = [0u8; 8];
                params[..4].copy_from_slice(&boots.to_be_bytes());
                params[4..].copy_from_slice(&(salt as u32).to_be_bytes());
                let mut data = plaintext.to_vec();
                data.resize(plaintext.len().div_ceil(8).max(1) * 8, 0);
                des_cbc(key, &params, &mut data, true);
                (data, params.to_vec())
            }
            _ => {
                let params = salt.to_be_bytes();
                let mut data = plaintext.to_vec();
                aes_cfb(*cipher, key, boots, time, &params, &mut data, true);
                (data, params.to_vec())
            }
        }
    }

    /// Decrypts an encryptedPDU (RFC 3414 §8.3.2, RFC 3826 §3.1.4).
    pub fn decrypt(
        &self,
        boots: u32,
        time: u32,
        params: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let Some((cipher, key)) = &self.privacy else {
            return Err(CryptoError::Decryption);
        };
        if params.len() != 8 {
            return Err(CryptoError::Decryption);
        }
        let mut data = ciphertext.to_vec();
        match cipher {
            PrivProtocol::Des => {
                if data.is_empty() || data.len() % 8 != 0 {
                    return Err(CryptoError::Decryption);
                }
                des_cbc(key, params, &mut data, false);
            }
            _ => aes_cfb(*cipher, key, boots, time, params, &mut data, false),
        }
        Ok(data)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A process-wide salt counter (RFC 3826 §3.1.2.1: a 64-bit integer
/// initialised to a pseudo-random value, incremented per message).
fn next_salt() -> u64 {
    static SALT: OnceLock<AtomicU64> = OnceLock::new();
    SALT.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let local = 0u8;
        let seed = nanos
            ^ (u64::from(std::process::id()) << 32)
            ^ (&local as *const u8 as u64).rotate_left(17);
        let mixed = sha2::Sha256::digest(seed.to_be_bytes());
        AtomicU64::new(u64::from_be_bytes(mixed[..8].try_into().expect("8 bytes")))
    })
    .fetch_add(1, Ordering::Relaxed)
}

/// CBC-DES in place: key = first 8 bytes, IV = pre-IV (bytes 8..16) XOR salt.
fn des_cbc(key: &[u8], salt: &[u8], data: &mut [u8], encrypt: bool) {
    let mut iv = [0u8; 8];
    for (i, b) in iv.iter_mut().enumerate() {
        *b = key[8 + i] ^ salt[i];
    }
    let key = &key[..8];
    if encrypt {
        let mut enc = cbc::Encryptor::<des::Des>::new_from_slices(key, &iv).expect("8-byte key");
        for block in data.chunks_exact_mut(8) {
            enc.encrypt_block_mut(block.into());
        }
    } else {
        let mut dec = cbc::Decryptor::<des::Des>::new_from_slices(key, &iv).expect("8-byte key");
        for block in data.chunks_exact_mut(8) {
            dec.decrypt_block_mut(block.into());
        }
    }
}

/// CFB128-AES in place: IV = boots || time || salt (RFC 3826 §3.1.2.1).
fn aes_cfb(
    cipher: PrivProtocol,
    key: &[u8],
    boots: u32,
    time: u32,
    salt: &[u8],
    data: &mut [u8],
    encrypt: bool,
) {
    let mut iv = [0u8; 16];
    iv[..4].copy_from_slice(&boots.to_be_bytes());
    iv[4..8].copy_from_slice(&time.to_be_bytes());
    iv[8..].copy_from_slice(salt);
    macro_rules! run {
        ($aes:ty) => {
            if encrypt {
                cfb_mode::Encryptor::<$aes>::new_from_slices(key, &iv)
                    .expect("key length matches the cipher")
                    .encrypt(data)
            } else {
                cfb_mode::Decryptor::<$aes>::new_from_slices(key, &iv)
                    .expect("key length matches the cipher")
                    .decrypt(data)
            }
        };
    }
    match cipher.key_len() {
        16 => run!(Aes128),
        24 => run!(Aes192),
        _ => run!(Aes256),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        let text: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 3414 A.3.1 / A.3.2: "maplesyrup" with engine 000000000000000000000002.
    #[test]
    fn rfc3414_key_localization_vectors() {
        let engine = hex("00 00 00 00 00 00 00 00 00 00 00 02");
        let md5 = AuthProtocol::Md5.password_to_key(b"maplesyrup");
        assert_eq!(md5, hex("9f af 32 83 88 4e 92 83 4e bc 98 47 d8 ed d9 63"));
        assert_eq!(
            AuthProtocol::Md5.localize(&md5, &engine),
            hex("52 6f 5e ed 9f cc e2 6f 89 64 c2 93 07 87 d8 2b")
        );
        let sha = AuthProtocol::Sha1.password_to_key(b"maplesyrup");
        assert_eq!(
            sha,
            hex("9f b5 cc 03 81 49 7b 37 93 52 89 39 ff 78 8d 5d 79 14 52 11")
        );
        assert_eq!(
            AuthProtocol::Sha1.localize(&sha, &engine),
            hex("66 95 fe bc 92 88 e3 62 82 23 5f c7 15 1f 12 84 97 b3 8f 3f")
        );
    }

    /// Keys net-snmp 5.9's `snmpd` stored in its persistent file for
    /// `createUser` lines with "authpass123"/"privpass123" on engine
    /// 80001f88808f712f204c5e066b00000000: AES-192/256 use the Blumenthal
    /// extension, AES-192-C/256-C the Reeder one.
    #[test]
    fn localized_keys_match_net_snmp_snmpd() {
        let engine = hex("80001f88808f712f204c5e066b00000000");
        let keys = |auth, privacy: Option<PrivProtocol>| {
            UsmUser::new(
                "u",
                Some((auth, "authpass123")),
                privacy.map(|p| (p, "privpass123")),
            )
            .unwrap()
            .localize(&engine)
        };
        let auth_cases = [
            (AuthProtocol::Md5, "1914238a032dfea613f6f1ea81a02161"),
            (
                AuthProtocol::Sha1,
                "e255b6c55461619eed3ffab7d345ce84e9d5e12b",
            ),
            (
                AuthProtocol::Sha256,
                "f7fb28229b1d2906588d286db61e333665d6da3ff3518d7e3be464155e61ba32",
            ),
            (
                AuthProtocol::Sha512,
                "9dbf58ac09ad22fda10ce5f5522eb5fe8abbfc51a973df9cd89aa21cb7fea075\
                 275e1604eb42362c2299453ee4bcd6046bcbec84b01b58628af7678484be7a50",
            ),
        ];
        for (auth, expected) in auth_cases {
            assert_eq!(
                keys(auth, None).auth_key().unwrap(),
                hex(expected),
                "{auth}"
            );
        }
        let priv_cases = [
            (
                AuthProtocol::Md5,
                PrivProtocol::Des,
                "37adc92c8a9c389a4238b560a4bc2909",
            ),
            (
                AuthProtocol::Md5,
                PrivProtocol::Aes256,
                "37adc92c8a9c389a4238b560a4bc29093daddb31878d93151c0a5b58e5d3631f",
            ),
            (
                AuthProtocol::Md5,
                PrivProtocol::Aes256C,
                "37adc92c8a9c389a4238b560a4bc290997b40e390c76e905976c6146f2b54beb",
            ),
            (
                AuthProtocol::Sha1,
                PrivProtocol::Aes128,
                "b7508cf1d0c8c7528f101e5d5466f976",
            ),
            (
                AuthProtocol::Sha1,
                PrivProtocol::Aes192,
                "b7508cf1d0c8c7528f101e5d5466f9762275086bdcd2257c",
            ),
            (
                AuthProtocol::Sha1,
                PrivProtocol::Aes192C,
                "b7508cf1d0c8c7528f101e5d5466f9762275086bea5546be",
            ),
            (
                AuthProtocol::Sha256,
                PrivProtocol::Aes256,
                "06bc92da945cd1c6de0d94f65e39ddad5c7123f76c657233f76d396b855757e7",
            ),
        ];
        for (auth, cipher, expected) in priv_cases {
            assert_eq!(
                keys(auth, Some(cipher)).priv_key().unwrap(),
                hex(expected),
                "{auth} {cipher}"
            );
        }
    }

    #[test]
    fn protocol_names_parse_and_print() {
        for p in AuthProtocol::ALL {
            assert_eq!(p.name().parse::<AuthProtocol>().unwrap(), p);
            assert_eq!(p.to_string().parse::<AuthProtocol>().unwrap(), p);
        }
        for p in PrivProtocol::ALL {
            assert_eq!(p.name().parse::<PrivProtocol>().unwrap(), p);
            assert_eq!(p.to_string().parse::<PrivProtocol>().unwrap(), p);
        }
        assert_eq!("SHA1".parse::<AuthProtocol>().unwrap(), AuthProtocol::Sha1);
        assert_eq!(
            "AES-128".parse::<PrivProtocol>().unwrap(),
            PrivProtocol::Aes128
        );
        assert_eq!(
            "aes256_cisco".parse::<PrivProtocol>().unwrap(),
            PrivProtocol::Aes256C
        );
        let err = "sha3".parse::<AuthProtocol>().unwrap_err().to_string();
        assert!(err.contains("sha3") && err.contains("sha256"), "{err}");
        assert!("3des".parse::<PrivProtocol>().is_err());
    }

    #[test]
    fn users_refuse_short_passwords_and_priv_without_auth() {
        assert_eq!(
            UsmUser::new("u", Some((AuthProtocol::Sha1, "short")), None).unwrap_err(),
            UserError::ShortPassword { what: "auth" }
        );
        assert_eq!(
            UsmUser::new(
                "u",
                Some((AuthProtocol::Sha1, "longenough")),
                Some((PrivProtocol::Des, "1234567"))
            )
            .unwrap_err(),
            UserError::ShortPassword { what: "priv" }
        );
        assert_eq!(
            UsmUser::new("", None, None).unwrap_err(),
            UserError::BadName
        );
        let user = UsmUser::new(
            "ups",
            Some((AuthProtocol::Sha256, "authpass123")),
            Some((PrivProtocol::Aes256, "privpass123")),
        )
        .unwrap();
        let debug = format!("{user:?} {:?}", user.localize(b"e"));
        assert!(
            !debug.contains("authpass") && debug.contains("Sha256"),
            "{debug}"
        );
        assert_eq!(user.level(), SecurityLevel::AuthPriv);
    }

    #[test]
    fn key_extensions_match_net_snmp() {
        let engine = hex("80 00 1f 88 80 12 34 56 78");
        // MD5 (16 bytes) + AES-256: both extensions, different results.
        let blumenthal = UsmUser::new(
            "u",
            Some((AuthProtocol::Md5, "authpass123")),
            Some((PrivProtocol::Aes256, "privpass123")),
        )
        .unwrap()
        .localize(&engine);
        let reeder = UsmUser::new(
            "u",
            Some((AuthProtocol::Md5, "authpass123")),
            Some((PrivProtocol::Aes256C, "privpass123")),
        )
        .unwrap()
        .localize(&engine);
        let kb = blumenthal.priv_key().unwrap();
        let kr = reeder.priv_key().unwrap();
        assert_eq!((kb.len(), kr.len()), (32, 32));
        assert_eq!(kb[..16], kr[..16]);
        assert_ne!(kb[16..], kr[16..]);
        // Blumenthal: the second half is H(first half).
        assert_eq!(kb[16..], AuthProtocol::Md5.hash(&[&kb[..16]])[..]);
        // SHA-512 keys are long enough: no extension, both agree.
        let a = UsmUser::new(
            "u",
            Some((AuthProtocol::Sha512, "authpass123")),
            Some((PrivProtocol::Aes256, "privpass123")),
        )
        .unwrap()
        .localize(&engine);
        let b = UsmUser::new(
            "u",
            Some((AuthProtocol::Sha512, "authpass123")),
            Some((PrivProtocol::Aes256C, "privpass123")),
        )
        .unwrap()
        .localize(&engine);
        assert_eq!(a.priv_key(), b.priv_key());
    }

    #[test]
    fn sign_verify_encrypt_decrypt_round_trip() {
        for auth in AuthProtocol::ALL {
            for cipher in PrivProtocol::ALL {
                let user = UsmUser::new(
                    "u",
                    Some((auth, "authpass123")),
                    Some((cipher, "privpass123")),
                )
                .unwrap();
                let keys = user.localize(b"\x80\x00\x00\x00\x04engine");
                for len in [0, 1, 7, 8, 9, 100] {
                    let plain: Vec<u8> = (0..len as u8).collect();
                    let (cipher_text, params) = keys.encrypt(5, 1234, &plain);
                    let back = keys.decrypt(5, 1234, &params, &cipher_text).unwrap();
                    assert_eq!(&back[..len], &plain[..], "{auth} {cipher} {len}");
                    assert!(back[len..].iter().all(|&b| b == 0));
                }
                let message = b"a message with zeroed auth params".to_vec();
                let mac = keys.sign(&message);
                assert_eq!(mac.len(), auth.mac_len());
                keys.verify(&message, &mac).unwrap();
                let mut bad = mac.clone();
                bad[0] ^= 1;
                assert_eq!(
                    keys.verify(&message, &bad).unwrap_err(),
                    CryptoError::WrongDigest
                );
            }
        }
    }

    #[test]
    fn salts_differ_per_message() {
        let keys = UsmUser::new(
            "u",
            Some((AuthProtocol::Sha1, "authpass123")),
            Some((PrivProtocol::Aes128, "privpass123")),
        )
        .unwrap()
        .localize(b"engine");
        let (a, pa) = keys.encrypt(1, 1, b"same");
        let (b, pb) = keys.encrypt(1, 1, b"same");
        assert_ne!(pa, pb);
        assert_ne!(a, b);
        let des = UsmUser::new(
            "u",
            Some((AuthProtocol::Md5, "authpass123")),
            Some((PrivProtocol::Des, "privpass123")),
        )
        .unwrap()
        .localize(b"engine");
        let (_, params) = des.encrypt(0x0102_0304, 1, b"x");
        assert_eq!(params[..4], [1, 2, 3, 4]);
        assert!(des.decrypt(1, 1, &params, &[0; 7]).is_err());
    }
}
