//! `tls`: the certificate and key that make `listen` serve HTTPS.
//!
//! Both files are read and checked here, so a wrong path, a file that is not
//! PEM or a key that belongs to another certificate is a config error naming
//! the key, found by `check-config`, instead of a panic when the listener
//! starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pingora::tls::sign::CertifiedKey;
use pingora::tls::{CertificateDer, CryptoProvider, PrivateKeyDer};
use rustls_pki_types::pem::PemObject;

use super::error::{quote, Problems};
use super::files::{read_text, ReadFile};
use super::raw::RawTls;
use super::settings::TlsListener;

/// Validates `tls`, or records why not.
pub(crate) fn check_tls(
    raw: RawTls,
    base_dir: &Path,
    read: ReadFile<'_>,
    p: &mut Problems,
) -> Option<TlsListener> {
    let cert = file(p, "tls.cert", raw.cert, base_dir, read);
    let key = file(p, "tls.key", raw.key, base_dir, read);
    // Each file is checked on its own, so both problems show at once.
    let chain = cert.and_then(|(path, pem)| Some((chain(p, &path, &pem)?, path)));
    let private = key.and_then(|(path, pem)| Some((private_key(p, &path, &pem)?, path)));
    let ((chain, cert_path), (private, key_path)) = (chain?, private?);

    pingora::tls::install_default_crypto_provider();
    // Never silently drop `tls`: the gateway would then serve plain HTTP.
    let Some(provider) = CryptoProvider::get_default() else {
        p.push("tls", "no TLS crypto provider is available in this build");
        return None;
    };
    match CertifiedKey::from_der(chain, private, provider) {
        Ok(certified) => Some(TlsListener {
            cert: cert_path,
            key: key_path,
            certified: Arc::new(certified),
        }),
        Err(e) => {
            p.push(
                "tls.key",
                format!(
                    "{} cannot serve {}: {e}",
                    quote(&key_path.display().to_string()),
                    quote(&cert_path.display().to_string())
                ),
            );
            None
        }
    }
}

/// The certificates in `pem`, leaf first.
fn chain(p: &mut Problems, path: &Path, pem: &str) -> Option<Vec<CertificateDer<'static>>> {
    match CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>() {
        Ok(chain) if !chain.is_empty() => Some(chain),
        Ok(_) => {
            p.push(
                "tls.cert",
                format!(
                    "{} holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)",
                    quote(&path.display().to_string())
                ),
            );
            None
        }
        Err(e) => {
            p.push(
                "tls.cert",
                format!(
                    "{} is not a PEM certificate chain: {e}",
                    quote(&path.display().to_string())
                ),
            );
            None
        }
    }
}

/// The private key in `pem`.
fn private_key(p: &mut Problems, path: &Path, pem: &str) -> Option<PrivateKeyDer<'static>> {
    match PrivateKeyDer::from_pem_slice(pem.as_bytes()) {
        Ok(private) => Some(private),
        Err(e) => {
            p.push(
                "tls.key",
                format!(
                    "{} holds no usable private key (expected PEM \"BEGIN PRIVATE KEY\", \
                     \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\"): {e}",
                    quote(&path.display().to_string())
                ),
            );
            None
        }
    }
}

/// A required file under `tls`, relative to the config file's folder, and
/// its text.
fn file(
    p: &mut Problems,
    key: &str,
    value: Option<String>,
    base_dir: &Path,
    read: ReadFile<'_>,
) -> Option<(PathBuf, String)> {
    let Some(name) = value.filter(|v| !v.trim().is_empty()) else {
        p.push(
            key,
            "required when tls is set (a PEM file, relative to this config file's folder)",
        );
        return None;
    };
    let path = base_dir.join(name.trim());
    let text = read_text(p, key, &path, read)?;
    Some((path, text))
}
