//! `server.max_request_line`, `server.max_header_bytes`, `server.max_headers`
//! and `server.max_form_bytes`.

use super::*;

#[test]
fn request_limits_have_documented_defaults() {
    let limits = build(MINIMAL).server.request_limits;
    assert_eq!(limits.request_line, 8192);
    assert_eq!(limits.header_bytes, 32768);
    assert_eq!(limits.headers, 100);
    assert_eq!(limits.form_bytes, 16384);
}

#[test]
fn request_limits_are_read() {
    let s = build(&minimal_plus(
        "server:\n  max_request_line: 4096\n  max_header_bytes: 65536\n  \
         max_headers: 50\n  max_form_bytes: 2048\n",
    ));
    let limits = s.server.request_limits;
    assert_eq!(
        (
            limits.request_line,
            limits.header_bytes,
            limits.headers,
            limits.form_bytes
        ),
        (4096, 65536, 50, 2048)
    );
}

#[test]
fn request_limits_out_of_range_name_the_key() {
    let lines = error_lines(&minimal_plus(
        "server:\n  max_request_line: 100\n  max_header_bytes: 2000000\n  \
         max_headers: 300\n  max_form_bytes: 0\n",
    ));
    assert_eq!(
        lines,
        vec![
            "server.max_request_line: 100 is out of range: 256 to 65536 bytes",
            "server.max_header_bytes: 2000000 is out of range: 1024 to 524288 bytes",
            "server.max_headers: 300 is out of range: 8 to 256 header lines",
            "server.max_form_bytes: 0 is out of range: 1024 to 1048576 bytes",
        ]
    );
}

#[test]
fn a_request_limit_that_is_not_a_number_names_the_key() {
    let lines = error_lines(&minimal_plus("server:\n  max_headers: lots\n"));
    assert_line(&lines, "server.max_headers", "");
}
