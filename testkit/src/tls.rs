//! A throwaway self-signed certificate, for tests of the TLS listener.

/// A certificate and its key, both PEM.
pub struct SelfSigned {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A fresh self-signed certificate for `localhost` and `127.0.0.1`, made
/// with rcgen, as an operator's `openssl req -x509` would.
pub fn self_signed() -> SelfSigned {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(names).expect("rcgen makes a certificate");
    SelfSigned {
        cert_pem: cert.pem(),
        key_pem: key_pair.serialize_pem(),
    }
}
