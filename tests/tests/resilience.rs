//! How Gatehouse behaves over time and when things around it fail: session
//! expiry, restarts, several replicas on one Redis, Redis, PostgreSQL and
//! upstream outages, signals.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use gatehouse_tests::{
    both_backends, eventually, raw_keep_alive, AppConfig, Backend, Client, Gateway, GatewayConfig,
    Postgres, Redis, Stack, Upstream, PASSWORD,
};
use serde_json::json;

/// Waits without touching the session: the one place where letting time pass
/// *is* the behaviour under test (any request would refresh the idle timer).
fn stay_idle_for(duration: Duration) {
    std::thread::sleep(duration);
}

fn idle_timeout_ends_an_unused_session(backend: Backend) {
    let stack = Stack::start_with(backend, |c| c.idle_timeout("2s").lifetime("1h"));
    let client = stack.client();
    client.login_ok("alice");
    assert_eq!(
        client.get("/private/x").status,
        200,
        "valid right after login"
    );

    stay_idle_for(Duration::from_millis(3000));
    eventually(
        Duration::from_secs(5),
        "the idle session to be refused",
        || (client.get("/private/x").status == 401).then_some(()),
    );
    assert_eq!(stack.upstream.count(), 1);
}

fn activity_keeps_a_session_alive_past_the_idle_timeout(backend: Backend) {
    let stack = Stack::start_with(backend, |c| c.idle_timeout("2s").lifetime("1h"));
    let client = stack.client();
    client.login_ok("alice");
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        assert_eq!(client.get("/private/x").status, 200, "active session ended");
        // A user clicking around now and then, well inside the idle timeout.
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn absolute_lifetime_ends_even_an_active_session(backend: Backend) {
    let stack = Stack::start_with(backend, |c| c.idle_timeout("3s").lifetime("4s"));
    let client = stack.client();
    let started = Instant::now();
    client.login_ok("alice");
    assert_eq!(
        client.get("/private/x").status,
        200,
        "valid right after login"
    );

    // Requests keep the session active, so only the lifetime can end it.
    eventually(
        Duration::from_secs(12),
        "the session to reach its lifetime",
        || (client.get("/private/x").status == 401).then_some(()),
    );
    let lasted = started.elapsed();
    assert!(
        lasted >= Duration::from_millis(3500),
        "session ended after {lasted:?}, before its 4s lifetime"
    );
}

both_backends!(
    idle_timeout_ends_an_unused_session,
    activity_keeps_a_session_alive_past_the_idle_timeout,
    absolute_lifetime_ends_even_an_active_session,
);

#[test]
fn restart_with_redis_keeps_the_session() {
    let mut stack = Stack::start(Backend::Redis);
    let client = stack.client();
    client.login_ok("alice");
    assert_eq!(client.get("/private/x").status, 200);

    stack.gateway.restart();
    let after = client.get("/private/x");
    assert_eq!(after.status, 200, "session lost across a restart");
    assert_eq!(
        stack.upstream.last().header("remote-user").as_deref(),
        Some("alice")
    );
}

#[test]
fn gateways_sharing_redis_accept_each_others_sessions() {
    let redis = Redis::start();
    let upstream = Upstream::start();
    let config = GatewayConfig::new()
        .redis_url(&redis.url())
        .app(AppConfig::standard(&upstream.url()));
    let first = Gateway::start(config.clone());
    let second = Gateway::start(config);

    let on_first = first.client();
    let session = on_first.login_ok("alice");
    let on_second = second.client();
    on_second.set_session_cookie(&session);
    assert_eq!(on_second.get("/private/x").status, 200);
    assert_eq!(
        upstream.last().header("remote-user").as_deref(),
        Some("alice")
    );

    // Signing out on one replica ends the session on the other within a
    // second, even though each replica briefly caches sessions.
    let logout = on_second.logout();
    assert!(logout.status < 400, "logout failed: {}", logout.status);
    eventually(
        Duration::from_secs(1),
        "the other replica to refuse the signed-out session",
        || (on_first.get("/private/x").status == 401).then_some(()),
    );
}

#[test]
fn redis_outage_fails_closed_and_recovers() {
    let mut stack = Stack::start(Backend::Redis);
    let client = stack.client();
    client.login_ok("alice");
    assert_eq!(client.get("/private/x").status, 200);
    let reached = stack.upstream.count();

    stack.redis().stop();
    let stopped = Instant::now();
    let mut served_from_copy = 0;
    let api = eventually(Duration::from_secs(10), "a 503 while Redis is down", || {
        let response = client.get("/private/x");
        if response.status == 200 {
            // A copy cached just before the outage serves until the gateway
            // sees its invalidation subscription drop: a moment, and never
            // past the cache's TTL (at most 1 s).
            assert!(
                stopped.elapsed() < Duration::from_secs(1),
                "let in {:?} after Redis went down",
                stopped.elapsed()
            );
            served_from_copy += 1;
        }
        (response.status == 503).then_some(response)
    });
    assert_eq!(api.json(), json!({"error": "unavailable"}));
    let page = client.get_html("/private/x");
    assert_eq!(page.status, 503);
    assert!(
        page.elapsed < Duration::from_secs(5),
        "the 503 took {:?}",
        page.elapsed
    );
    assert!(
        page.body.to_lowercase().contains("temporarily unavailable"),
        "{}",
        page.body
    );
    assert_eq!(client.get("/.gatehouse/healthz").status, 503);
    assert_eq!(
        readyz(&client),
        (
            503,
            json!({"status": "unavailable", "sessions": "unavailable", "store": "ok"})
        )
    );
    // The 503 does not break a kept-alive connection either.
    let cookie = format!(
        "{}={}",
        client.session_cookie_name(),
        client.session_cookie().expect("a session cookie")
    );
    for answer in raw_keep_alive(
        stack.gateway.port(),
        &["/private/a", "/private/b"],
        &[("Cookie", &cookie)],
    ) {
        let response = answer.unwrap_or_else(|e| panic!("kept-alive request failed: {e}"));
        assert_eq!(response.status, 503);
    }
    let login = stack.client().login("alice", PASSWORD, None);
    assert_eq!(login.status(), 503, "login while Redis is down");
    assert!(login.session.is_none());
    assert_eq!(
        stack.upstream.count(),
        reached + served_from_copy,
        "a request reached the app"
    );

    stack.redis().restart();
    eventually(Duration::from_secs(15), "healthz to recover", || {
        (client.get("/.gatehouse/healthz").status == 200).then_some(())
    });
    // Redis came back empty: the old session is gone, a new login works.
    eventually(
        Duration::from_secs(10),
        "the old session to be refused",
        || {
            let status = client.get("/private/x").status;
            assert_ne!(status, 200, "a session survived an empty Redis");
            (status == 401).then_some(())
        },
    );
    let fresh = stack.client();
    fresh.login_ok("alice");
    assert_eq!(fresh.get("/private/x").status, 200);
}

/// A sign-in with the right password, timed by the server's answer alone.
/// The client gives up after 10 s: a hang fails the test there.
fn timed_sign_in(client: &Client, user: &str) -> (u16, Duration, bool) {
    let login = client.login(user, PASSWORD, None);
    let page = &login.response;
    if login.status() == 503 {
        assert!(
            page.body.to_lowercase().contains("temporarily unavailable"),
            "the 503 is not the unavailable page: {}",
            page.body
        );
    }
    (login.status(), page.elapsed, login.session.is_some())
}

fn readyz(client: &Client) -> (u16, serde_json::Value) {
    let response = client.get("/.gatehouse/readyz");
    (response.status, response.json())
}

/// PostgreSQL stopped under a running gateway: sign-ins answer the 503
/// page within the store's timeout (3 s by default) instead of hanging,
/// nobody gets in, readyz names the store while healthz (liveness) stays
/// up, and everything comes back by itself when PostgreSQL does.
fn store_outage_fails_sign_in_fast_and_recovers(backend: Backend) {
    let postgres = Postgres::start();
    let url = postgres.create_database("gatehouse");
    let stack = Stack::start_with(backend, |c| c.store_url(&url));
    let client = stack.client();
    client.login_ok("alice");
    assert_eq!(
        readyz(&client),
        (
            200,
            json!({"status": "ok", "sessions": "ok", "store": "ok"})
        )
    );

    postgres.stop();
    let reached = stack.upstream.count();
    for attempt in ["first", "second"] {
        let (status, took, signed_in) = timed_sign_in(&stack.client(), "bob");
        println!("{backend:?}: {attempt} sign-in with PostgreSQL down: {status} in {took:?}");
        assert_eq!(status, 503, "{attempt} sign-in with PostgreSQL down");
        assert!(!signed_in, "a session was handed out with the store down");
    }
    let (status, body) = readyz(&client);
    assert_eq!(
        (status, body),
        (
            503,
            json!({"status": "unavailable", "sessions": "ok", "store": "unavailable"})
        )
    );
    assert_eq!(client.get("/.gatehouse/healthz").status, 200, "liveness");
    let signed_out = stack.client();
    assert_eq!(signed_out.get("/private/x").status, 401);
    assert_eq!(stack.upstream.count(), reached, "a request reached the app");

    postgres.restart();
    let back = Instant::now();
    eventually(Duration::from_secs(15), "readyz to recover", || {
        (readyz(&client).0 == 200).then_some(())
    });
    println!(
        "{backend:?}: readyz 200 {:?} after PostgreSQL",
        back.elapsed()
    );
    let (status, took) = eventually(Duration::from_secs(15), "a sign-in to work again", || {
        let (status, took, signed_in) = timed_sign_in(&stack.client(), "bob");
        signed_in.then_some((status, took))
    });
    println!(
        "{backend:?}: signed in {:?} after PostgreSQL returned: {status} in {took:?}",
        back.elapsed()
    );
}

both_backends!(store_outage_fails_sign_in_fast_and_recovers);

#[test]
fn dead_upstream_gives_a_bad_gateway_page_quickly() {
    let gateway = Gateway::start(
        GatewayConfig::new()
            .app(AppConfig::new("app", &[Upstream::dead_address()]).policy("bypass")),
    );
    let page = gateway.client().get_html("/anything");
    assert_eq!(page.status, 502);
    assert!(page.body.contains("Bad gateway"), "{}", page.body);
    assert!(
        page.elapsed < Duration::from_secs(5),
        "took {:?}",
        page.elapsed
    );
    let api = gateway.client().get("/anything");
    assert_eq!(api.status, 502);
    assert_eq!(api.json(), json!({"error": "bad_gateway"}));
}

#[test]
fn an_upstream_that_starts_after_the_gateway_is_served_as_soon_as_it_listens() {
    // The health check runs at start, finds nothing, and with this interval
    // would not look again during the test.
    let address = Upstream::dead_address();
    let gateway = Gateway::start(
        GatewayConfig::new().app(
            AppConfig::new("app", std::slice::from_ref(&address))
                .policy("bypass")
                .health_check_interval("1h"),
        ),
    );
    let client = gateway.client();
    assert_eq!(client.get("/early").status, 502);
    let upstream = Upstream::start_at(&address, "late");
    assert_eq!(client.get("/late").status, 200);
    assert_eq!(upstream.last().path, "/late");
}

#[test]
fn connection_stays_usable_after_a_bad_gateway_answer() {
    let gateway = Gateway::start(
        GatewayConfig::new()
            .app(AppConfig::new("app", &[Upstream::dead_address()]).policy("bypass")),
    );
    // Browsers and API clients reuse keep-alive connections: after a 502
    // the connection either still works or the 502 said `Connection: close`;
    // a reset on the next request is an error the client sees.
    let paths = ["/first", "/second", "/third"];
    for accept in ["text/html", "application/json"] {
        let answers = raw_keep_alive(gateway.port(), &paths, &[("Accept", accept)]);
        for (path, answer) in paths.iter().zip(&answers) {
            match answer {
                Ok(response) => assert_eq!(response.status, 502, "{path}"),
                Err(e) => panic!(
                    "Accept {accept}: {path} on a connection kept alive after a 502 failed: {e}"
                ),
            }
        }
    }
}

fn assert_stops_on(signal: &str) {
    let upstream = Upstream::start();
    let mut gateway =
        Gateway::start(GatewayConfig::new().app(AppConfig::standard(&upstream.url())));
    let port = gateway.port();
    let status = gateway.signal_and_wait(signal, Duration::from_secs(10));
    let status =
        status.unwrap_or_else(|| panic!("still running 10s after SIG{signal}\n{}", gateway.logs()));
    assert!(
        status.success(),
        "SIG{signal} gave {status}\n{}",
        gateway.logs()
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still accepts connections"
    );
}

#[test]
fn sigterm_stops_an_idle_gateway() {
    assert_stops_on("TERM");
}

#[test]
fn sigint_stops_an_idle_gateway() {
    assert_stops_on("INT");
}
