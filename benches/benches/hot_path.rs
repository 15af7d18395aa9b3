//! Micro-benchmarks of the per-request hot path: path normalisation,
//! routing, header hygiene and forwarding headers, return-path validation, and rendering the login
//! and MFA challenge pages. Sessions, the access decision and the second
//! factor have their own targets (`session_lookup`, `policy`, `totp`).
//!
//! Run with `cargo bench -p gatehouse-benches`. Timing goals live here and in
//! the load benchmark, never in the test suite.

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gatehouse::client_ip::TrustedProxies;
use gatehouse::config::{AppSettings, Conditions, Policy, Rule};
use gatehouse::forwarded::Forwarding;
use gatehouse::proxy::headers::strip_forged;
use gatehouse::return_path;
use gatehouse::route::{normalise, Router};
use gatehouse_templates::{login_page, mfa_challenge_page, LoginView, MfaChallengeView};
use pingora::http::RequestHeader;

fn apps() -> Vec<AppSettings> {
    let rule = |path: &str, policy| Rule {
        path: path.to_owned(),
        policy,
        conditions: Conditions::default(),
    };
    (0..10)
        .map(|i| AppSettings {
            name: format!("app{i}"),
            host: (i % 2 == 0).then(|| format!("app{i}.example.com")),
            // The apps without a host share it by path.
            path: if i % 2 == 0 {
                "/".to_owned()
            } else {
                format!("/app{i}")
            },
            upstreams: vec![],
            policy: Policy::OneFactor,
            rules: vec![
                rule(&format!("/app{i}/public"), Policy::Bypass),
                rule(&format!("/app{i}/admin"), Policy::TwoFactor),
                rule(&format!("/app{i}/admin/danger"), Policy::Deny),
            ],
            service_tokens: None,
            health_check_interval: Duration::from_secs(5),
            health_check: Default::default(),
        })
        .collect()
}

fn routing(c: &mut Criterion) {
    let router = Router::new(&apps());
    c.bench_function("normalise a typical path", |b| {
        b.iter(|| normalise(black_box("/app3/admin/users/42?tab=roles")))
    });
    c.bench_function("normalise a hostile path", |b| {
        b.iter(|| normalise(black_box("/app3/public/..%2F..%2Fadmin//./danger")))
    });
    c.bench_function("route a normalised path", |b| {
        b.iter(|| {
            router.route(
                black_box(Some("app4.example.com:8080")),
                black_box("/app4/admin/users/42"),
            )
        })
    });
    // What the proxy calls: the case-blind reading too, and the
    // segment-wise one when an encoded separator is present.
    c.bench_function("route a request, every reading (typical path)", |b| {
        b.iter(|| {
            router.route_request(
                black_box(Some("app4.example.com:8080")),
                black_box("/app4/admin/users/42"),
                black_box("/app4/admin/users/42"),
            )
        })
    });
    c.bench_function("route a request, every reading (encoded slash)", |b| {
        b.iter(|| {
            router.route_request(
                black_box(Some("app4.example.com:8080")),
                black_box("/app4/Admin%2F..%2Fpublic"),
                black_box("/app4/public"),
            )
        })
    });
}

fn headers(c: &mut Criterion) {
    let mut req = RequestHeader::build("GET", b"/app/page", None).unwrap();
    for (k, v) in [
        ("host", "app.example.com"),
        ("user-agent", "Mozilla/5.0"),
        ("accept", "text/html,application/xhtml+xml"),
        ("accept-language", "en-GB,en;q=0.9"),
        ("accept-encoding", "gzip, br"),
        ("cookie", "gatehouse_session=abc; theme=dark"),
    ] {
        req.append_header(k, v).unwrap();
    }
    c.bench_function("strip forged headers (none present)", |b| {
        b.iter_batched(
            || req.clone(),
            |mut r| strip_forged(&mut r),
            criterion::BatchSize::SmallInput,
        )
    });
    let forwarding = Forwarding::new(false, TrustedProxies::default());
    let peer = Some("192.0.2.10".parse().unwrap());
    c.bench_function("set the forwarding headers (from a client)", |b| {
        b.iter_batched(
            || req.clone(),
            |mut r| forwarding.apply(&mut r, black_box(peer)).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
}

fn pages(c: &mut Criterion) {
    c.bench_function("validate a return path", |b| {
        b.iter(|| return_path::validate(black_box("/wiki/Some_Page?action=edit")))
    });
    c.bench_function("render the login page", |b| {
        b.iter(|| {
            login_page(black_box(&LoginView {
                csrf_token: "tQK96PNdSSOJecg-WFH46vpYzJ-OBwjYzjxKIFCjrFA",
                rd: "/wiki",
                username: "alice",
                error: Some("Incorrect username or password."),
                notice: None,
            }))
        })
    });
    c.bench_function("render the MFA challenge page", |b| {
        b.iter(|| {
            mfa_challenge_page(black_box(&MfaChallengeView {
                csrf_token: "tQK96PNdSSOJecg-WFH46vpYzJ-OBwjYzjxKIFCjrFA",
                rd: "/wiki/Some_Page?action=edit",
                error: Some("That code didn't work. Check the time on your phone and try again."),
                remember_days: 30,
                has_app: true,
                ..MfaChallengeView::default()
            }))
        })
    });
}

criterion_group!(benches, routing, headers, pages);
criterion_main!(benches);
