//! `store.timeout`.

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
