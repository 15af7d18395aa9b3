//! The forward-auth endpoints called as the dispatch calls them: what a
//! trusted proxy's description decides, what an untrusted one can't, and
//! that nothing malformed ever gets a 200.

use pingora::http::RequestHeader;
use tempfile::TempDir;

use super::*;
use crate::config::tests::GOOD_HASH;
use crate::config::Settings;
use crate::portal::test_support::{location, signed_in, store_url, IP};

/// `wiki.example.com` is forward-only, `/public` open and `/admin` closed;
/// every other host is one catch-all app that is open.
fn gateway() -> (Gateway, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("users.yaml"),
        format!("users:\n  alice:\n    password: \"{GOOD_HASH}\"\n    email: alice@example.com\n"),
    )
    .expect("write users file");
    let config = format!(
        "store:\n  url: \"{}\"\nusers:\n  file: users.yaml\n\
         server:\n  trusted_proxies: [\"127.0.0.1\"]\n\
         apps:\n  - name: wiki\n    host: wiki.example.com\n    rules:\n      \
         - {{path: /public, policy: bypass}}\n      - {{path: /admin, policy: deny}}\n  \
         - name: rest\n    upstream: \"127.0.0.1:3000\"\n    policy: bypass\n",
        store_url(&dir)
    );
    let settings = Settings::from_yaml_str(&config, dir.path()).expect("config");
    let gw = Gateway::new(settings).expect("gateway");
    (gw, dir)
}

fn head(path: &str, headers: &[(&str, &[u8])]) -> RequestHeader {
    let mut head = RequestHeader::build("GET", path.as_bytes(), None).expect("head");
    for (name, value) in headers {
        let value = http::HeaderValue::from_bytes(value).expect("header value");
        head.append_header(name.to_string(), value).expect("header");
    }
    head
}

/// Request headers as sent: names and raw values.
type Headers = Vec<(&'static str, Vec<u8>)>;

/// Traefik's description of `GET http://wiki.example.com{uri}`.
fn traefik(uri: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("x-forwarded-method", b"GET".to_vec()),
        ("x-forwarded-proto", b"http".to_vec()),
        ("x-forwarded-host", b"wiki.example.com".to_vec()),
        ("x-forwarded-uri", uri.as_bytes().to_vec()),
    ]
}

async fn ask(gw: &Gateway, flavour: Flavour, trusted: bool, headers: &[(&str, Vec<u8>)]) -> Reply {
    let path = match flavour {
        Flavour::Forward => Route::AuthForward.path(),
        Flavour::Request => Route::AuthRequest.path(),
    };
    let mut all: Vec<(&str, &[u8])> = vec![("host", b"gatehouse.internal")];
    all.extend(headers.iter().map(|(n, v)| (*n, v.as_slice())));
    let req = Request::new(head(path, &all), IP).from_trusted_proxy(trusted);
    answer(gw, &req, flavour).await
}

fn with_cookie(
    gw: &Gateway,
    id: &str,
    mut headers: Vec<(&'static str, Vec<u8>)>,
) -> Vec<(&'static str, Vec<u8>)> {
    let cookie = format!("{}={id}", gw.cookies.session);
    headers.push(("cookie", cookie.into_bytes()));
    headers
}

#[tokio::test]
async fn a_signed_in_user_passes_with_her_identity() {
    let (gw, _dir) = gateway();
    let alice = signed_in(&gw).await;
    let headers = with_cookie(&gw, alice.id.as_str(), traefik("/page?x=1"));
    let reply = ask(&gw, Flavour::Forward, true, &headers).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header_value("remote-user"), Some("alice"));
    assert_eq!(
        reply.header_value("remote-email"),
        Some("alice@example.com")
    );
    let denied = with_cookie(&gw, alice.id.as_str(), traefik("/admin/x"));
    assert_eq!(ask(&gw, Flavour::Forward, true, &denied).await.status, 403);
}

#[tokio::test]
async fn a_browser_without_a_session_is_sent_to_sign_in_and_back() {
    let (gw, _dir) = gateway();
    let mut headers = traefik("/page?x=1");
    headers.push(("accept", b"text/html".to_vec()));
    let reply = ask(&gw, Flavour::Forward, true, &headers).await;
    assert_eq!(reply.status, 302);
    assert_eq!(
        location(&reply),
        Some(
            Route::Login
                .with_rd("http://wiki.example.com/page?x=1")
                .as_str()
        )
    );
    // nginx: never a redirect, but the same way in, in Location.
    let nginx = vec![
        (
            "x-original-url",
            b"http://wiki.example.com/page?x=1".to_vec(),
        ),
        ("x-original-method", b"POST".to_vec()),
        ("accept", b"text/html".to_vec()),
    ];
    let reply = ask(&gw, Flavour::Request, true, &nginx).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        location(&reply),
        Some(
            Route::Login
                .with_rd("http://wiki.example.com/page?x=1")
                .as_str()
        )
    );
    // An API client gets a 401.
    assert_eq!(
        ask(&gw, Flavour::Forward, true, &traefik("/page"))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn rules_apply_to_every_reading_of_the_original_path() {
    let (gw, _dir) = gateway();
    assert_eq!(
        ask(&gw, Flavour::Forward, true, &traefik("/public/x"))
            .await
            .status,
        200
    );
    for uri in [
        "/admin",
        "/public/..;/admin",
        "/ADMIN",
        "/public/%2e%2e/admin",
        "/admin.",
    ] {
        let reply = ask(&gw, Flavour::Forward, true, &traefik(uri)).await;
        assert_eq!(reply.status, 403, "{uri}");
    }
}

#[tokio::test]
async fn an_untrusted_peer_is_judged_as_its_own_request() {
    let (gw, _dir) = gateway();
    // The catch-all app is open, but this address is not; the description
    // of an open path is ignored.
    let reply = ask(&gw, Flavour::Forward, false, &traefik("/public/x")).await;
    assert_eq!(reply.status, 401);
    let alice = signed_in(&gw).await;
    let headers = with_cookie(&gw, alice.id.as_str(), traefik("/admin"));
    // Nor can a closed path be named: alice is judged on this address.
    let reply = ask(&gw, Flavour::Forward, false, &headers).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn a_malformed_description_never_passes() {
    let (gw, _dir) = gateway();
    let alice = signed_in(&gw).await;
    let id = alice.id.as_str().to_owned();
    let mut cases: Vec<(&str, Flavour, Headers)> = Vec::new();
    let mut twice = traefik("/public");
    twice.push(("x-forwarded-uri", b"/admin".to_vec()));
    cases.push(("repeated uri", Flavour::Forward, twice));
    let mut missing = traefik("/public");
    missing.retain(|(n, _)| *n != "x-forwarded-uri");
    cases.push(("missing uri", Flavour::Forward, missing));
    let mut no_method = traefik("/public");
    no_method.retain(|(n, _)| *n != "x-forwarded-method");
    cases.push(("missing method", Flavour::Forward, no_method));
    cases.push(("not text", Flavour::Forward, traefik("/public/\u{ff}")));
    let mut binary = traefik("/public");
    binary[3].1 = b"/public/\xff".to_vec();
    cases.push(("not UTF-8", Flavour::Forward, binary));
    cases.push((
        "oversized",
        Flavour::Forward,
        traefik(&format!("/public/{}", "a".repeat(9000))),
    ));
    cases.push(("relative uri", Flavour::Forward, traefik("public")));
    let mut bad_host = traefik("/public");
    bad_host[2].1 = b"evil.com/@wiki.example.com".to_vec();
    cases.push(("bad host", Flavour::Forward, bad_host));
    let mut bad_method = traefik("/public");
    bad_method[0].1 = b"G E T".to_vec();
    cases.push(("bad method", Flavour::Forward, bad_method));
    for url in [
        "not a url",
        "wiki.example.com/public",
        "ftp://wiki.example.com/public",
        "http://u@wiki.example.com/public",
        "http:///public",
    ] {
        let nginx = vec![
            ("x-original-url", url.as_bytes().to_vec()),
            ("x-original-method", b"GET".to_vec()),
        ];
        cases.push(("bad X-Original-URL", Flavour::Request, nginx));
    }
    cases.push((
        "no X-Original-URL",
        Flavour::Request,
        vec![("x-original-method", b"GET".to_vec())],
    ));
    for (what, flavour, headers) in cases {
        let headers = with_cookie(&gw, &id, headers);
        let reply = ask(&gw, flavour, true, &headers).await;
        assert_eq!(reply.status, 403, "{what}");
    }
}

#[tokio::test]
async fn a_garbage_cookie_is_no_session() {
    let (gw, _dir) = gateway();
    for cookie in ["x", &"a".repeat(5000), "=;=;="] {
        let headers = with_cookie(&gw, cookie, traefik("/page"));
        let reply = ask(&gw, Flavour::Forward, true, &headers).await;
        assert_eq!(reply.status, 401, "{cookie:?}");
    }
}

#[tokio::test]
async fn a_path_in_x_original_url_takes_the_forwarded_host() {
    let (gw, _dir) = gateway();
    let nginx = vec![
        ("x-original-url", b"/admin".to_vec()),
        ("x-original-method", b"GET".to_vec()),
        ("x-forwarded-host", b"wiki.example.com".to_vec()),
    ];
    assert_eq!(ask(&gw, Flavour::Request, true, &nginx).await.status, 403);
}
