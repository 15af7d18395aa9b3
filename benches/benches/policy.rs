//! The access decision (`Gateway::decide`) and the pure pieces it is made of.
//!
//! The pieces: service-token lookup (one SHA-256 and a constant-time compare
//! with each of 5 configured hashes), finding the session cookie, checking
//! the id's shape, and the expiry check; then the session half of the
//! decision as one pipeline, cookie header to live session, on a memory store
//! holding 10k sessions. Routing is in `hot_path`.
//!
//! `decide` itself is benched on a gateway built from YAML with memory
//! sessions and a real Pingora session read from a scripted socket. Building
//! that session (parsing the request) happens outside the timing; `decide`
//! reads the request without changing it, so one serves every iteration.
//! A token's use is audited at most once a minute; that write is made by an
//! untimed call before each case, so the token case times the lookup only.
//!
//! Run with `cargo bench -p gatehouse-benches --bench policy`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gatehouse::access::{Original, Verdict};
use gatehouse::config::{Policy, ServiceToken, Settings};
use gatehouse::cookies::cookie_value;
use gatehouse::durable::LazyStore;
use gatehouse::gateway::Gateway;
use gatehouse::session::{now_ms, Expiry, MemoryStore, Session, SessionId, SessionStore};
use gatehouse::tokens::TokenSet;
use gatehouse_benches::ready;
use pingora::http::RequestHeader;
use pingora::proxy::Session as HttpSession;
use sha2::{Digest, Sha256};

const SESSIONS: usize = 10_000;
const COOKIE: &str = "gatehouse_session";
const TOKENS: [&str; 5] = [
    "ci-7f3a9c2e41b8d6f05e2a1c9b8d7f6e5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e",
    "deploy-0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e",
    "backup-f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1",
    "monitor-1234567890abcdef1234567890abcdef1234567890abcdef1234567890a",
    "export-fedcba0987654321fedcba0987654321fedcba0987654321fedcba098765",
];
/// The last configured token with its final character changed.
const WRONG_TOKEN: &str = "export-fedcba0987654321fedcba0987654321fedcba0987654321fedcba098766";

fn expiry() -> Expiry {
    Expiry {
        lifetime: Duration::from_secs(24 * 3600),
        idle_timeout: Duration::from_secs(3600),
    }
}

fn token_names() -> [&'static str; 5] {
    ["ci", "deploy", "backup", "monitor", "export"]
}

fn request_with_cookies(cookie: &str) -> RequestHeader {
    let mut req = RequestHeader::build("GET", b"/wiki/Main_Page", None).unwrap();
    for (k, v) in [
        ("host", "wiki.example.com"),
        ("user-agent", "Mozilla/5.0"),
        ("accept", "text/html,application/xhtml+xml"),
        ("cookie", cookie),
    ] {
        req.append_header(k, v).unwrap();
    }
    req
}

/// A browser's cookie header: the app's own cookies around ours.
fn cookie_header(id: &str) -> String {
    format!("theme=dark; _ga=GA1.2.1234567890.1700000000; {COOKIE}={id}; lang=en-GB")
}

fn pieces(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let _context = rt.enter();
    // A miss re-reads the console's tokens from the store at most once per
    // `tokens::REFRESH`; those iterations finish on the runtime.
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
    let tokens = TokenSet::new(
        &token_names()
            .iter()
            .zip(TOKENS)
            .map(|(name, token)| ServiceToken {
                name: (*name).to_owned(),
                sha256: Sha256::digest(token.as_bytes()).into(),
            })
            .collect::<Vec<_>>(),
        Arc::new(LazyStore::new(&store)),
    );
    assert!(now_or_on(&rt, tokens.find(TOKENS[2])).is_some());
    assert!(now_or_on(&rt, tokens.find(WRONG_TOKEN)).is_none());

    let e = expiry();
    let memory = Arc::new(MemoryStore::new());
    let store = SessionStore::Memory(memory.clone());
    let ids: Vec<SessionId> = (0..SESSIONS)
        .map(|i| {
            let s = Session::after_password(&format!("user{i}"), now_ms(), 0);
            ready(store.create(&s, e)).unwrap()
        })
        .collect();
    let id = ids[SESSIONS / 2].clone();
    let req = request_with_cookies(&cookie_header(id.as_str()));
    let session = memory.get(&id.store_key()).unwrap();

    let mut g = c.benchmark_group("policy");
    g.bench_function("service token find (hit, 5 tokens)", |b| {
        b.iter(|| now_or_on(&rt, tokens.find(black_box(TOKENS[2]))).is_some())
    });
    g.bench_function("service token find (miss, 5 tokens)", |b| {
        b.iter(|| now_or_on(&rt, tokens.find(black_box(WRONG_TOKEN))).is_some())
    });
    g.bench_function("session cookie from the Cookie header (4 cookies)", |b| {
        b.iter(|| cookie_value(black_box(&req), black_box(COOKIE)))
    });
    g.bench_function("SessionId::parse (well-formed)", |b| {
        b.iter(|| SessionId::parse(black_box(id.as_str())))
    });
    g.bench_function("SessionId::parse (junk)", |b| {
        b.iter(|| SessionId::parse(black_box("not-a-session-id; DROP TABLE")))
    });
    g.bench_function("Expiry::is_alive", |b| {
        b.iter(|| e.is_alive(black_box(&session), black_box(now_ms())))
    });
    // What `decide` does for a browser with a session, minus the account
    // lookup: find the cookie, check the id, hash it, look it up, check both
    // clocks (`SessionStore::get` does the last three).
    g.bench_function(
        "pipeline: cookie -> SessionId::parse -> memory get -> expiry (10k sessions)",
        |b| {
            b.iter(|| {
                let found = cookie_value(black_box(&req), COOKIE)
                    .and_then(SessionId::parse)
                    .map(|id| ready(store.get(&id, e)).unwrap());
                assert!(matches!(found, Some(Some(_))));
                found
            })
        },
    );
    g.finish();
}

/// A gateway with memory sessions, one app (`/static` bypassed, the rest
/// one_factor) and the 5 service tokens. Returns the temp dir holding its
/// users file and (never opened) store, which must outlive it.
fn gateway() -> (Gateway, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let users = r#"
users:
  alice:
    password: "$argon2id$v=19$m=19456,t=2,p=1$KkqRF0+HlxFWnOyfnhoIVg$MGmLmtIAY9TYL2jrhvm9NzWOXefazdpheiNNFyHnNGA"
    email: alice@example.com
    display_name: Alice Liddell
    groups: [admins, dev]
"#;
    std::fs::write(dir.path().join("users.yaml"), users).expect("write users.yaml");
    let tokens: String = token_names()
        .iter()
        .zip(TOKENS)
        .map(|(name, token)| {
            format!(
                "  - name: {name}\n    token_sha256: \"{}\"\n",
                hex::encode(Sha256::digest(token.as_bytes()))
            )
        })
        .collect();
    let yaml = format!(
        r#"
listen: "127.0.0.1:8080"
server:
  threads: 1
store:
  url: "sqlite://{store}"
sessions:
  backend: memory
  cookie_name: {COOKIE}
users:
  file: users.yaml
secrets:
  key: "{key}"
apps:
  - name: wiki
    host: wiki.example.com
    upstream: "127.0.0.1:9"
    policy: one_factor
    rules:
      - path: /static
        policy: bypass
      - path: /admin
        policy: two_factor
service_tokens:
{tokens}"#,
        store = dir.path().join("gatehouse.db").display(),
        key = "ab".repeat(32),
    );
    let settings = Settings::from_yaml_str(&yaml, dir.path()).expect("a valid bench config");
    let gateway = Gateway::new(settings).expect("the gateway builds");
    (gateway, dir)
}

/// Polls `fut` once, as [`ready`] does, but finishes it on `rt` if it
/// waits: a service token's use is written to the audit log at most once a
/// minute, and that iteration awaits the store.
fn now_or_on<F: Future>(rt: &tokio::runtime::Runtime, fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => rt.block_on(fut),
    }
}

/// A Pingora session that has read `request` from a scripted socket.
fn http_session(rt: &tokio::runtime::Runtime, request: &[u8]) -> HttpSession {
    let mock = tokio_test::io::Builder::new().read(request).build();
    let mut session = HttpSession::new_h1(Box::new(mock));
    assert!(rt
        .block_on(session.read_request())
        .expect("the request parses"));
    session
}

/// The request in hand as `decide` reads it (its paths are already
/// normalised).
fn original(head: &RequestHeader) -> Original<'_> {
    Original {
        method: &head.method,
        host: None,
        raw_path: head.uri.path(),
        path: head.uri.path(),
        headers: head,
        client_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
    }
}

fn request(path: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: wiki.example.com\r\nUser-Agent: Mozilla/5.0\r\n\
         Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-GB,en;q=0.9\r\n\
         {extra}\r\n"
    )
    .into_bytes()
}

fn decide(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // For whatever `decide` spawns (the audit write's connection pool).
    let _context = rt.enter();
    let (gw, _dir) = gateway();
    for i in 0..SESSIONS {
        let s = Session::after_password(&format!("user{i}"), now_ms(), 0);
        ready(gw.sessions.create(&s, gw.expiry)).unwrap();
    }
    let alice = Session::after_password("alice", now_ms(), 0);
    let id = ready(gw.sessions.create(&alice, gw.expiry)).unwrap();

    let cases: [(&str, Vec<u8>, Policy, bool); 4] = [
        (
            "decide: signed in, memory (allow)",
            request(
                "/wiki/Main_Page",
                &format!("Cookie: {}\r\n", cookie_header(id.as_str())),
            ),
            Policy::OneFactor,
            true,
        ),
        (
            "decide: service token, X-Gatehouse-Token (allow)",
            request(
                "/api/pages",
                &format!("X-Gatehouse-Token: {}\r\n", TOKENS[4]),
            ),
            Policy::OneFactor,
            true,
        ),
        (
            "decide: bypass route (allow)",
            request("/static/app.css", ""),
            Policy::Bypass,
            true,
        ),
        (
            "decide: no session (redirect to login)",
            request("/wiki/Main_Page?action=edit", ""),
            Policy::OneFactor,
            false,
        ),
    ];
    // The proxy loads the live config once per request, before deciding.
    let live = gw.live();
    let mut g = c.benchmark_group("policy");
    for (name, raw, policy, allowed) in &cases {
        let probe = http_session(&rt, raw);
        let original = original(probe.req_header());
        // Untimed: also makes the token case's once-a-minute audit write.
        let verdict = now_or_on(&rt, gw.decide(&live, &original, 0, *policy));
        assert_eq!(matches!(verdict, Verdict::Allow { .. }), *allowed, "{name}");
        g.bench_function(*name, |b| {
            b.iter(|| now_or_on(&rt, gw.decide(&live, &original, 0, *policy)))
        });
    }
    g.finish();
}

criterion_group!(benches, pieces, decide);
criterion_main!(benches);
