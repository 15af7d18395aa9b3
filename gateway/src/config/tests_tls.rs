//! `tls`: the listener's certificate and key, read from real files.

use std::fs;

use gatehouse_testkit::self_signed;

use super::*;

/// A folder holding users.yaml, the given files, and gatehouse.yaml made
/// of MINIMAL plus `extra`; returns the config's error lines, or panics if
/// it was accepted.
fn load_lines(files: &[(&str, &str)], extra: &str) -> Vec<String> {
    match load(files, extra) {
        Ok(_) => panic!("accepted:\n{extra}"),
        Err(err) => err.lines(),
    }
}

fn load(files: &[(&str, &str)], extra: &str) -> Result<Settings, ConfigError> {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("users.yaml"), users_yaml()).expect("write users");
    for (name, text) in files {
        fs::write(dir.path().join(name), text).expect("write file");
    }
    let config = dir.path().join("gatehouse.yaml");
    fs::write(&config, format!("{MINIMAL}{extra}")).expect("write config");
    Settings::load(&config)
}

const TLS: &str = "tls:\n  cert: cert.pem\n  key: key.pem\n";

#[test]
fn a_matching_certificate_and_key_are_loaded_next_to_the_config() {
    let pair = self_signed();
    let s = load(
        &[("cert.pem", &pair.cert_pem), ("key.pem", &pair.key_pem)],
        TLS,
    )
    .unwrap_or_else(|err| panic!("rejected:\n{err}"));
    let tls = s.tls.expect("tls is set");
    assert!(tls.cert.ends_with("cert.pem") && tls.cert.is_absolute());
    assert!(tls.key.ends_with("key.pem"));
    assert_eq!(tls.certified.cert.len(), 1);
}

#[test]
fn serving_tls_makes_cookies_secure_by_default() {
    let pair = self_signed();
    let files = [("cert.pem", &*pair.cert_pem), ("key.pem", &*pair.key_pem)];
    let s = load(&files, TLS).unwrap_or_else(|err| panic!("rejected:\n{err}"));
    assert!(s.sessions.cookie_secure);

    let lines = load_lines(&files, &format!("{TLS}sessions:\n  cookie_secure: false\n"));
    assert_line(
        &lines,
        "sessions.cookie_secure",
        "cannot be false when tls is set",
    );
}

#[test]
fn a_missing_file_or_key_is_named() {
    let lines = load_lines(&[], "tls:\n  cert: nowhere.pem\n");
    assert_line(&lines, "tls.cert", "cannot read");
    assert_line(&lines, "tls.cert", "nowhere.pem");
    assert_line(&lines, "tls.key", "required when tls is set");
}

#[test]
fn files_that_are_not_pem_are_named() {
    let lines = load_lines(
        &[
            ("cert.pem", "not a certificate\n"),
            ("key.pem", "not a key\n"),
        ],
        TLS,
    );
    assert_line(&lines, "tls.cert", "holds no certificate");
    assert_line(&lines, "tls.key", "holds no usable private key");
}

#[test]
fn a_key_from_another_certificate_is_refused() {
    let (one, other) = (self_signed(), self_signed());
    let lines = load_lines(
        &[("cert.pem", &one.cert_pem), ("key.pem", &other.key_pem)],
        TLS,
    );
    assert_line(&lines, "tls.key", "cannot serve");
}

#[test]
fn an_unknown_key_under_tls_is_named() {
    let lines = load_lines(&[], "tls:\n  certificate: cert.pem\n");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("tls") && l.contains("certificate")),
        "{lines:#?}"
    );
}
