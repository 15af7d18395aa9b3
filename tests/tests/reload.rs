//! Reloading the config with SIGHUP while the gateway runs: requests under
//! way all complete, the new apps, rules and tokens apply, a broken file
//! changes nothing, and keys that need a restart are named.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gatehouse_tests::{eventually, AppConfig, Backend, Gateway, Stack, Upstream};

const APPLIED: &str = "gatehouse_config_reloads_total{result=\"applied\"}";
const REFUSED: &str = "gatehouse_config_reloads_total{result=\"refused\"}";

/// A reload is quick; this leaves room for a busy machine.
const WITHIN: Duration = Duration::from_secs(20);

const KEEP: &str = "keep-token-0123456789";
const OLD: &str = "old-token-0123456789";
const NEW: &str = "new-token-0123456789";

/// Client threads in the steady stream, and how long each may run at most.
const THREADS: usize = 4;
const STREAM_LIMIT: Duration = Duration::from_secs(90);
/// Reloads of an unchanged file after the first, each a new set of pools.
const RELOADS: usize = 5;

fn stack() -> Stack {
    Stack::start_with(Backend::Memory, |config| {
        config
            .metrics()
            .service_token("keep", KEEP)
            .service_token("old", OLD)
    })
}

/// Waits until the gateway has counted one more reload of this kind.
fn counted(gateway: &Gateway, series: &str, before: f64) {
    eventually(WITHIN, series, || {
        (gateway.metric(series) > before).then_some(())
    });
}

/// A GET with a service token (and a Host, if given): its status.
fn with_token(gateway: &Gateway, token: &str, path: &str, host: Option<&str>) -> u16 {
    let mut headers = vec![("X-Gatehouse-Token", token)];
    headers.extend(host.map(|h| ("Host", h)));
    gateway.client().get_with(path, &headers).status
}

/// Requests sent by a steady stream, and every answer that wasn't the
/// expected one (a transport error included).
#[derive(Default)]
struct Tally {
    sent: AtomicUsize,
    wrong: Mutex<Vec<String>>,
}

/// One client thread: a bypassed page (200), a page through a service
/// token (200) and a browser without a session (302 to sign in), in turn,
/// over one kept-alive connection, until `stop` or the limit.
fn stream(port: u16, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let started = Instant::now();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) || started.elapsed() > STREAM_LIMIT {
            return;
        }
        let (request, expected) = match i % 3 {
            0 => (http.get(url("/public/x")), 200),
            1 => (
                http.get(url("/private/x"))
                    .header("X-Gatehouse-Token", KEEP),
                200,
            ),
            _ => (
                http.get(url("/private/x")).header("Accept", "text/html"),
                302,
            ),
        };
        let outcome = request.send().map(|r| r.status().as_u16());
        tally.sent.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok(status) if status == expected => {}
            other => tally
                .wrong
                .lock()
                .expect("tally lock")
                .push(format!("request {i}: expected {expected}, got {other:?}")),
        }
    }
}

/// Waits until the stream has sent `more` requests beyond what it had.
fn stream_sends(tally: &Tally, more: usize) {
    let target = tally.sent.load(Ordering::Relaxed) + more;
    eventually(WITHIN, "the stream to keep going", || {
        (tally.sent.load(Ordering::Relaxed) >= target).then_some(())
    });
}

#[test]
fn requests_under_way_through_reloads_all_complete_and_the_new_config_applies() {
    let mut stack = stack();
    let second = Upstream::start_named("second");
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (port, stop, tally) = (stack.gateway.port(), stop.clone(), tally.clone());
            std::thread::spawn(move || stream(port, stop, tally))
        })
        .collect();
    stream_sends(&tally, 50);
    assert_eq!(with_token(&stack.gateway, KEEP, "/blocked", None), 200);
    assert_eq!(with_token(&stack.gateway, OLD, "/private/x", None), 200);

    let applied = stack.gateway.metric(APPLIED);
    stack.gateway.reload(|config| {
        config.apps[0]
            .rules
            .push(serde_json::json!({"path": "/blocked", "policy": "deny"}));
        config.apps.insert(
            0,
            AppConfig::new("second", &[second.url()]).host("second.test"),
        );
        config.service_tokens.retain(|(name, _)| name != "old");
        config.service_tokens.push(("new".into(), NEW.into()));
    });
    counted(&stack.gateway, APPLIED, applied);
    let gw = &stack.gateway;
    assert_eq!(with_token(gw, KEEP, "/blocked", None), 403, "a new rule");
    assert_eq!(with_token(gw, NEW, "/private/x", None), 200, "a new token");
    assert_eq!(
        with_token(gw, OLD, "/private/x", None),
        401,
        "a removed one"
    );
    let routed = gw.client().get_with(
        "/x",
        &[("X-Gatehouse-Token", KEEP), ("Host", "second.test")],
    );
    assert_eq!(routed.status, 200);
    assert_eq!(routed.json()["upstream"], "second", "a new app host");

    // More, one after another, while the stream runs on. Each waits for
    // the last: signals sent together may arrive as one.
    let sent_before = tally.sent.load(Ordering::Relaxed);
    for _ in 0..RELOADS {
        let applied = stack.gateway.metric(APPLIED);
        stack.gateway.signal("HUP");
        counted(&stack.gateway, APPLIED, applied);
    }
    let during = tally.sent.load(Ordering::Relaxed) - sent_before;
    assert!(during > 0, "the stream ran through the reloads");
    stream_sends(&tally, 200);
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().expect("a stream thread");
    }
    let sent = tally.sent.load(Ordering::Relaxed);
    let wrong = tally.wrong.lock().expect("tally lock");
    eprintln!(
        "reload stream: {sent} requests, {during} during the last {} of {} reloads, {} wrong",
        RELOADS,
        RELOADS + 1,
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "{} of {sent} wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    assert_eq!(stack.gateway.metric(REFUSED), 0.0);
}

#[test]
fn a_broken_config_changes_nothing_and_restart_only_keys_are_named() {
    let mut stack = stack();
    let alice = stack.client();
    alice.login_ok("alice");

    let refused = stack.gateway.metric(REFUSED);
    stack.gateway.reload(|config| {
        config.apps[0].policy = Some("maybe".into());
        config.service_tokens.clear();
    });
    counted(&stack.gateway, REFUSED, refused);
    let logs = stack.gateway.full_logs();
    assert!(logs.contains("apps[0].policy"), "names the key: {logs}");
    assert!(
        logs.contains("config not reloaded, nothing changed"),
        "{logs}"
    );
    let gw = &stack.gateway;
    assert_eq!(with_token(gw, KEEP, "/private/x", None), 200, "tokens stay");
    assert_eq!(with_token(gw, KEEP, "/admin", None), 403, "rules stay");

    let applied = stack.gateway.metric(APPLIED);
    stack.gateway.reload(|config| {
        config.apps[0].policy = Some("one_factor".into());
        config.apps[0]
            .rules
            .push(serde_json::json!({"path": "/blocked", "policy": "deny"}));
        config.cookie_name = Some("other_session".into());
        config.service_tokens.push(("keep".into(), KEEP.into()));
    });
    counted(&stack.gateway, APPLIED, applied);
    let logs = stack.gateway.full_logs();
    assert!(
        logs.contains("sessions.cookie_name changed; restart to apply"),
        "{logs}"
    );
    let gw = &stack.gateway;
    assert_eq!(
        with_token(gw, KEEP, "/blocked", None),
        403,
        "the rest applies"
    );
    assert_eq!(with_token(gw, OLD, "/private/x", None), 401, "a token gone");
    assert_eq!(
        alice.get("/private/x").status,
        200,
        "the old cookie name stays"
    );
}

/// Ten requests in a row that all reach the live upstream: the health
/// checks have marked the dead one down (round-robin would alternate).
fn dead_one_skipped(gateway: &Gateway) -> Option<()> {
    let client = gateway.client();
    (0..10)
        .all(|_| client.get("/page").status == 200)
        .then_some(())
}

#[test]
fn health_checks_run_for_the_first_config_and_each_reload() {
    let live = Upstream::start();
    let mut gateway = Gateway::start(
        gatehouse_tests::GatewayConfig::new()
            .metrics()
            .app(AppConfig::new("app", &[live.url(), Upstream::dead_address()]).policy("bypass")),
    );
    eventually(WITHIN, "the dead upstream marked down", || {
        dead_one_skipped(&gateway)
    });
    let applied = gateway.metric(APPLIED);
    gateway.reload(|config| {
        config.apps[0].upstreams.push(Upstream::dead_address());
    });
    counted(&gateway, APPLIED, applied);
    eventually(
        WITHIN,
        "both dead upstreams of the new pool marked down",
        || dead_one_skipped(&gateway),
    );
}
