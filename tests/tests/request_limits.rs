//! Limits on what a client can send: the request line, the header lines'
//! bytes and count, and a portal form's body. A request exactly at each
//! cap is served; one byte (or one header) more gets a 414, 431 or 413
//! that names the cap, and nothing of it reaches the upstream.

use gatehouse_tests::{raw_keep_alive, raw_send, Backend, Response, Stack, PASSWORD};

/// The caps a gateway runs with, as configured or by default.
#[derive(Clone, Copy)]
struct Caps {
    request_line: usize,
    header_bytes: usize,
    headers: usize,
    form_bytes: usize,
}

/// The documented defaults (README, config/gatehouse.yaml).
const DEFAULTS: Caps = Caps {
    request_line: 8192,
    header_bytes: 32768,
    headers: 100,
    form_bytes: 16384,
};

/// Smaller caps, set in the config.
const CONFIGURED: Caps = Caps {
    request_line: 1024,
    header_bytes: 2048,
    headers: 20,
    form_bytes: 2048,
};

fn configured_stack() -> Stack {
    Stack::start_with(Backend::Memory, |c| {
        c.request_limit("max_request_line", CONFIGURED.request_line)
            .request_limit("max_header_bytes", CONFIGURED.header_bytes)
            .request_limit("max_headers", CONFIGURED.headers)
            .request_limit("max_form_bytes", CONFIGURED.form_bytes)
    })
}

/// The two header lines every request here starts with.
fn base_headers(port: u16) -> [String; 2] {
    [
        format!("Host: 127.0.0.1:{port}\r\n"),
        "Connection: close\r\n".to_string(),
    ]
}

/// A GET whose request line is `length` bytes, line ending excluded.
fn request_line_of(port: u16, length: usize) -> String {
    let fixed = "GET /public/ HTTP/1.1".len();
    let path = format!("/public/{}", "a".repeat(length - fixed));
    let line = format!("GET {path} HTTP/1.1");
    assert_eq!(line.len(), length);
    format!("{line}\r\n{}\r\n", base_headers(port).concat())
}

/// A GET whose header lines come to `bytes`, each with its CRLF.
fn header_bytes_of(port: u16, bytes: usize) -> String {
    let base = base_headers(port).concat();
    let pad = bytes - base.len() - "X-Pad: \r\n".len();
    let headers = format!("{base}X-Pad: {}\r\n", "p".repeat(pad));
    assert_eq!(headers.len(), bytes);
    format!("GET /public/padded HTTP/1.1\r\n{headers}\r\n")
}

/// A GET with `count` header lines.
fn header_count_of(port: u16, count: usize) -> String {
    let mut headers = base_headers(port).concat();
    for n in 2..count {
        headers.push_str(&format!("X-Extra-{n}: {n}\r\n"));
    }
    assert_eq!(headers.matches("\r\n").count(), count);
    format!("GET /public/counted HTTP/1.1\r\n{headers}\r\n")
}

/// Asserts `response` refuses with `status`, naming the cap, and that the
/// upstream saw nothing new.
fn assert_refused(stack: &Stack, response: &Response, status: u16, cap: usize, what: &str) {
    assert_eq!(response.status, status, "{what}: {}", response.body);
    assert!(
        response.body.contains(&cap.to_string()),
        "{what}: the answer does not name the cap {cap}: {}",
        response.body
    );
    assert_eq!(
        response.header("connection"),
        Some("close"),
        "{what}: the connection is not closed"
    );
    assert_eq!(stack.upstream.count(), 0, "{what} reached the upstream");
}

/// Asserts `response` came from the upstream, for `path`.
fn assert_served(stack: &Stack, response: &Response, path_start: &str, what: &str) {
    assert_eq!(response.status, 200, "{what}: {}", response.body);
    let last = stack.upstream.last();
    assert!(
        last.path.starts_with(path_start),
        "{what}: the upstream saw {}",
        last.path
    );
    stack.upstream.clear();
}

fn heads_at_and_past_the_caps(stack: &Stack, caps: Caps) {
    let port = stack.gateway.port();
    let send = |request: String| raw_send(port, request.as_bytes());

    let past = send(request_line_of(port, caps.request_line + 1));
    assert_refused(stack, &past, 414, caps.request_line, "request line +1");
    let at = send(request_line_of(port, caps.request_line));
    assert_served(stack, &at, "/public/aaa", "request line at the cap");

    let past = send(header_bytes_of(port, caps.header_bytes + 1));
    assert_refused(stack, &past, 431, caps.header_bytes, "header bytes +1");
    let at = send(header_bytes_of(port, caps.header_bytes));
    assert_served(stack, &at, "/public/padded", "header bytes at the cap");
    assert_eq!(
        at.json()["headers"]["x-pad"].as_str().map(str::len),
        Some(caps.header_bytes - base_headers(port).concat().len() - "X-Pad: \r\n".len()),
        "the padded header did not reach the upstream whole"
    );

    let past = send(header_count_of(port, caps.headers + 1));
    assert_refused(stack, &past, 431, caps.headers, "header count +1");
    let at = send(header_count_of(port, caps.headers));
    assert_served(stack, &at, "/public/counted", "header count at the cap");
}

#[test]
fn request_heads_at_the_default_caps_pass_and_one_byte_more_is_refused() {
    let stack = Stack::start(Backend::Memory);
    heads_at_and_past_the_caps(&stack, DEFAULTS);
}

#[test]
fn request_heads_at_configured_caps_pass_and_one_byte_more_is_refused() {
    let stack = configured_stack();
    heads_at_and_past_the_caps(&stack, CONFIGURED);
}

#[test]
fn heads_past_pingoras_own_limits_get_the_same_clear_answer() {
    // Pingora alone answers a bare 400 past 256 header lines or about
    // 1 MiB of head, after buffering it all.
    let stack = Stack::start(Backend::Memory);
    let port = stack.gateway.port();
    let many = raw_send(port, header_count_of(port, 300).as_bytes());
    assert_refused(&stack, &many, 431, DEFAULTS.headers, "300 header lines");
    let huge = raw_send(port, header_bytes_of(port, 2 * 1024 * 1024).as_bytes());
    assert_refused(
        &stack,
        &huge,
        431,
        DEFAULTS.header_bytes,
        "2 MiB of headers",
    );
    assert_eq!(stack.client().get("/public/after").status, 200);
}

#[test]
fn each_request_on_a_kept_alive_connection_is_measured() {
    let stack = Stack::start(Backend::Memory);
    let long = format!("/public/{}", "b".repeat(DEFAULTS.request_line));
    let answers = raw_keep_alive(stack.gateway.port(), &["/public/first", &long], &[]);
    let statuses: Vec<_> = answers
        .iter()
        .map(|a| a.as_ref().map(|r| r.status).map_err(String::clone))
        .collect();
    assert_eq!(statuses, vec![Ok(200), Ok(414)]);
    assert_eq!(
        stack.upstream.count(),
        1,
        "only the first request is served"
    );
}

/// A sign-in form whose urlencoded body is exactly `length` bytes.
fn login_body(csrf_token: &str, length: usize) -> String {
    let fields: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf_token", csrf_token)
        .append_pair("username", "alice")
        .append_pair("password", PASSWORD)
        .append_pair("pad", "")
        .finish();
    let body = format!("{fields}{}", "x".repeat(length - fields.len()));
    assert_eq!(body.len(), length);
    body
}

fn forms_at_and_past_the_cap(stack: &Stack, cap: usize) {
    let port = stack.gateway.port();
    let client = stack.client();
    let token = client.csrf_token();
    let csrf_cookie = client
        .cookie(client.csrf_cookie_name())
        .expect("csrf cookie");
    let post = |length: usize| {
        let body = login_body(&token, length);
        let request = format!(
            "POST /.gatehouse/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
             Accept: text/html\r\nCookie: {}={csrf_cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n{body}",
            client.csrf_cookie_name()
        );
        raw_send(port, request.as_bytes())
    };
    let session = client.session_cookie_name().to_string();

    let past = post(cap + 1);
    assert_eq!(past.status, 413, "form +1: {}", past.body);
    assert!(past.body.contains(&cap.to_string()), "{}", past.body);
    assert!(past.set_cookie(&session).is_none(), "form +1 signed in");

    let at = post(cap);
    assert_eq!(at.status, 303, "form at the cap: {}", at.body);
    assert!(
        at.set_cookie(&session).is_some_and(|c| !c.is_removal()),
        "the form at the cap did not sign in"
    );
    assert_eq!(
        stack.upstream.count(),
        0,
        "a portal form reached the upstream"
    );
}

#[test]
fn a_form_at_the_default_cap_is_read_and_one_byte_more_gets_413() {
    let stack = Stack::start(Backend::Memory);
    forms_at_and_past_the_cap(&stack, DEFAULTS.form_bytes);
}

#[test]
fn a_form_at_a_configured_cap_is_read_and_one_byte_more_gets_413() {
    let stack = configured_stack();
    forms_at_and_past_the_cap(&stack, CONFIGURED.form_bytes);
}

#[test]
fn http2_heads_past_the_caps_are_refused_with_a_page() {
    let pair = gatehouse_testkit::self_signed();
    let stack = Stack::start_with(Backend::Memory, |c| {
        c.tls(&pair)
            .request_limit("max_headers", CONFIGURED.headers)
    });
    let client = stack.client();
    let names: Vec<String> = (0..CONFIGURED.headers)
        .map(|n| format!("x-extra-{n}"))
        .collect();
    let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let refused = client.get_with("/public/h2", &headers);
    assert_eq!(refused.version, reqwest::Version::HTTP_2);
    assert_eq!(refused.status, 431, "{}", refused.body);
    assert!(
        refused.body.contains("more than 20 headers"),
        "{}",
        refused.body
    );
    assert_eq!(
        stack.upstream.count(),
        0,
        "the refused request reached the app"
    );

    let long = format!("/public/{}", "c".repeat(DEFAULTS.request_line));
    let refused = client.get(&long);
    assert_eq!(refused.status, 414, "{}", refused.body);

    let served = client.get_with("/public/h2", &headers[..10]);
    assert_eq!(
        (served.status, served.version),
        (200, reqwest::Version::HTTP_2)
    );
    assert_eq!(stack.upstream.count(), 1);
}
