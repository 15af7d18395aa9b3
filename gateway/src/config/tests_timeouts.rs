//! `store.timeout`, `server.header_timeout` and `server.keepalive_timeout`.

use super::*;

#[test]
fn store_timeout_defaults_to_three_seconds() {
    assert_eq!(build(MINIMAL).store.timeout, Duration::from_secs(3));
}

#[test]
fn store_timeout_is_read() {
    let s = build(&minimal_plus("store:\n  timeout: 1500ms\n"));
    assert_eq!(s.store.timeout, Duration::from_millis(1500));
}

#[test]
fn bad_store_timeouts_name_the_key() {
    let lines = error_lines(&minimal_plus("store:\n  timeout: 1m\n"));
    assert_eq!(
        lines,
        vec!["store.timeout: 1m is out of range: 100ms to 30s"]
    );
    let lines = error_lines(&minimal_plus("store:\n  timeout: soon\n"));
    assert_line(&lines, "store.timeout", "invalid duration \"soon\"");
}

#[test]
fn connection_timeouts_have_documented_defaults() {
    let s = build(MINIMAL);
    assert_eq!(s.server.header_timeout, Duration::from_secs(10));
    assert_eq!(s.server.keepalive_timeout, Duration::from_secs(60));
}

#[test]
fn connection_timeouts_are_read() {
    let s = build(&minimal_plus(
        "server:\n  header_timeout: 2500ms\n  keepalive_timeout: 5m\n",
    ));
    assert_eq!(s.server.header_timeout, Duration::from_millis(2500));
    assert_eq!(s.server.keepalive_timeout, Duration::from_secs(300));
}

#[test]
fn bad_connection_timeouts_name_their_key() {
    let lines = error_lines(&minimal_plus(
        "server:\n  header_timeout: 500ms\n  keepalive_timeout: 2h\n",
    ));
    assert_eq!(
        lines,
        vec![
            "server.header_timeout: 500ms is out of range: 1s to 1h",
            "server.keepalive_timeout: 2h is out of range: 1s to 1h",
        ]
    );
    let lines = error_lines(&minimal_plus(
        "server:\n  header_timeout: 0s\n  keepalive_timeout: 1500ms\n",
    ));
    assert_line(&lines, "server.header_timeout", "greater than zero");
    assert_line(
        &lines,
        "server.keepalive_timeout",
        "1s 500ms is not a whole number of seconds",
    );
}
