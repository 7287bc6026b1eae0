//! TLS for the NUT server (`STARTTLS`, as upsd's `CERTFILE`): the
//! certificate chain and private key of `[nut.tls]` loaded from PEM files
//! into a rustls acceptor (ring, the same provider as the MQTT client's
//! TLS).
//!
//! This module owns reading and checking those files, so that
//! `check-config` and the server report the same clear errors.

use crate::config::NutTlsConfig;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, InconsistentKeys, ServerConfig};

/// Why `[nut.tls]` cannot be used; [`TlsError::key`] names the config key.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    CertFile { path: String, reason: String },
    #[error("{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate { path: String },
    #[error("cannot read {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("{path} holds no PEM private key (PKCS#8, RSA or EC)")]
    NoKey { path: String },
    #[error("the key in key_file is not the key of the certificate in cert_file")]
    KeyMismatch,
    #[error("the certificate and key cannot serve TLS: {0}")]
    Rejected(rustls::Error),
}

impl TlsError {
    /// The configuration key the error is about.
    pub fn key(&self) -> &'static str {
        match self {
            TlsError::CertFile { .. } | TlsError::NoCertificate { .. } => "nut.tls.cert_file",
            TlsError::KeyFile { .. } | TlsError::NoKey { .. } => "nut.tls.key_file",
            TlsError::KeyMismatch | TlsError::Rejected(_) => "nut.tls",
        }
    }
}

/// The acceptor for `STARTTLS`: the chain of `cert_file` (server
/// certificate first) and the key of `key_file`, which must match.
pub fn acceptor(tls: &NutTlsConfig) -> Result<TlsAcceptor, TlsError> {
    let certs = certificates(&tls.cert_file)?;
    let key = private_key(&tls.key_file)?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => TlsError::KeyMismatch,
            e => TlsError::Rejected(e),
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let failed = |e: pem::Error| TlsError::CertFile {
        path: path.display().to_string(),
        reason: reason(e),
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(failed)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.display().to_string(),
        });
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey {
            path: path.display().to_string(),
        },
        e => TlsError::KeyFile {
            path: path.display().to_string(),
            reason: reason(e),
        },
    })
}

/// A PEM error as a reason: I/O errors without the "I/O error:" prefix.
fn reason(error: pem::Error) -> String {
    match error {
        pem::Error::Io(e) => e.to_string(),
        e => format!("not PEM ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(cert: &Path, key: &Path) -> NutTlsConfig {
        NutTlsConfig {
            cert_file: cert.to_path_buf(),
            key_file: key.to_path_buf(),
        }
    }

    #[test]
    fn missing_and_empty_files_name_their_key() {
        let dir = std::env::temp_dir().join(format!("ups2mqtt-nut-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no pem here\n").unwrap();
        let missing = dir.join("missing.pem");

        let error = acceptor(&config(&missing, &empty)).err().unwrap();
        assert_eq!(error.key(), "nut.tls.cert_file");
        assert!(error.to_string().contains("missing.pem"), "{error}");

        let error = acceptor(&config(&empty, &empty)).err().unwrap();
        assert!(matches!(error, TlsError::NoCertificate { .. }), "{error}");

        let cert = dir.join("cert.pem");
        std::fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let error = acceptor(&config(&cert, &empty)).err().unwrap();
        assert_eq!(error.key(), "nut.tls.key_file");
        assert!(matches!(error, TlsError::NoKey { .. }), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
