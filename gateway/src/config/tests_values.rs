//! Whole-config tests for single values: durations, addresses, sessions,
//! secrets, limits, the users file.

use super::*;

#[test]
fn bad_duration_names_the_key_and_quotes_the_value() {
    let lines = error_lines(&minimal_plus("sessions:\n  idle_timeout: 5 parsecs\n"));
    assert_line(
        &lines,
        "sessions.idle_timeout",
        "invalid duration \"5 parsecs\": ",
    );
    let lines = error_lines(&minimal_plus("limits:\n  window: 0s\n"));
    assert_line(&lines, "limits.window", "greater than zero");
}

#[test]
fn idle_timeout_longer_than_lifetime_is_rejected() {
    let lines = error_lines(&minimal_plus(
        "sessions:\n  lifetime: 1h\n  idle_timeout: 2h\n",
    ));
    assert_eq!(
        lines,
        vec!["sessions.idle_timeout: must not exceed sessions.lifetime (2h > 1h)"]
    );
}

#[test]
fn bad_listen_address_asks_for_ip_and_port() {
    let lines = error_lines(&minimal_plus("listen: \"localhost:8080\"\n"));
    assert_line(
        &lines,
        "listen",
        "invalid address \"localhost:8080\": expected IP:PORT",
    );
    let lines = error_lines(&minimal_plus("metrics_listen: \"9464\"\n"));
    assert_line(&lines, "metrics_listen", "expected IP:PORT");
}

#[test]
fn metrics_listener_on_the_proxy_port_is_rejected() {
    let lines = error_lines(&minimal_plus(
        "listen: \"0.0.0.0:8080\"\nmetrics_listen: \"127.0.0.1:8080\"\n",
    ));
    assert_line(&lines, "metrics_listen", "conflicts with listen");
}

#[test]
fn missing_users_file_is_reported_with_its_resolved_path() {
    let config = MINIMAL.replace("file: users.yaml", "file: nope.yaml");
    let lines = error_lines(&config);
    assert_eq!(
        lines,
        vec!["users.file: cannot read \"/etc/gatehouse/nope.yaml\": No such file or directory"]
    );
}

#[test]
fn users_file_key_is_required() {
    let lines = error_lines("apps:\n  - name: a\n    upstream: a:1\n");
    assert_line(&lines, "users.file", "required");
}

#[test]
fn bad_password_hash_in_users_file_names_the_user() {
    let users = "users:\n  bob:\n    password: \"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW\"\n";
    let err = build_with(MINIMAL, users).unwrap_err();
    assert_line(
        &err.lines(),
        "users.bob.password",
        "not an argon2id PHC string",
    );
    assert!(err.lines()[0].contains("gatehouse hash-password"));
}

#[test]
fn unknown_field_in_users_file_names_the_user_and_file() {
    let users = format!("users:\n  alice:\n    password: \"{GOOD_HASH}\"\n    colour: red\n");
    let lines = build_with(MINIMAL, &users).unwrap_err().lines();
    assert_line(&lines, "users.alice.colour", "unknown field `colour`");
    assert_line(
        &lines,
        "users.alice.colour",
        "(in \"/etc/gatehouse/users.yaml\", line 4, column 5)",
    );
}

#[test]
fn unknown_session_backend_is_rejected() {
    let lines = error_lines(&minimal_plus("sessions:\n  backend: mongo\n"));
    assert_eq!(
        lines,
        vec!["sessions.backend: unknown backend \"mongo\" (expected memory or redis)"]
    );
}

#[test]
fn redis_backend_needs_a_redis_url() {
    let lines = error_lines(&minimal_plus("sessions:\n  backend: redis\n"));
    assert_eq!(
        lines,
        vec!["sessions.redis_url: required when sessions.backend is redis"]
    );
    let lines = error_lines(&minimal_plus(
        "sessions:\n  backend: redis\n  redis_url: \"http://cache:6379\"\n",
    ));
    assert_line(
        &lines,
        "sessions.redis_url",
        "must start with redis:// or rediss://",
    );
    let s = build(&minimal_plus(
        "sessions:\n  backend: redis\n  redis_url: \"redis://127.0.0.1:6379\"\n",
    ));
    assert_eq!(
        s.sessions.backend,
        SessionBackend::Redis {
            url: "redis://127.0.0.1:6379".into()
        }
    );
}

#[test]
fn bad_secret_key_is_rejected_without_echoing_it() {
    let lines = error_lines(&minimal_plus("secrets:\n  key: \"s3cr3t\"\n"));
    assert_eq!(
        lines,
        vec!["secrets.key: must be 64 hex characters (32 bytes), got 6 characters"]
    );
}

#[test]
fn zero_limits_are_rejected() {
    let lines = error_lines(&minimal_plus("limits:\n  max_failures_per_user: 0\n"));
    assert_eq!(
        lines,
        vec!["limits.max_failures_per_user: must be greater than zero"]
    );
}

#[test]
fn store_url_must_be_sqlite_or_postgres() {
    let lines = error_lines(&minimal_plus("store:\n  url: \"mysql://db/x\"\n"));
    assert_line(&lines, "store.url", "unsupported URL \"mysql://db/x\"");
    let s = build(&minimal_plus("store:\n  url: \"postgresql://db/x\"\n"));
    assert_eq!(s.store.url, "postgresql://db/x");
}

#[test]
fn audit_retention_is_whole_days_from_one_to_a_hundred_years() {
    for bad in ["0", "36501"] {
        let lines = error_lines(&minimal_plus(&format!(
            "store:\n  audit_retention_days: {bad}\n"
        )));
        assert_line(
            &lines,
            "store.audit_retention_days",
            &format!("{bad} is out of range: keep entries 1 to 36500 days"),
        );
    }
    // "30d" reads like a duration but isn't a number of days.
    let lines = error_lines(&minimal_plus("store:\n  audit_retention_days: 30d\n"));
    assert!(
        lines.iter().any(|l| l.contains("audit_retention_days")),
        "{lines:?}"
    );
    let s = build(&minimal_plus("store:\n  audit_retention_days: 36500\n"));
    assert_eq!(s.store.audit_retention.as_secs(), 36_500 * 86_400);
}

#[test]
fn cookie_name_charset_is_enforced() {
    let lines = error_lines(&minimal_plus("sessions:\n  cookie_name: \"my session\"\n"));
    assert_line(
        &lines,
        "sessions.cookie_name",
        "letters, digits, '_' and '-' only",
    );
    let lines = error_lines(&minimal_plus("sessions:\n  cookie_name: __Host-x\n"));
    assert_line(&lines, "sessions.cookie_name", "prefix");
}

#[test]
fn trusted_proxies_take_addresses_and_ranges() {
    let s = build(&minimal_plus(
        "server:\n  trusted_proxies: [10.0.0.0/8, 192.0.2.7, \"fd00::/8\", 10.1.2.3/16]\n",
    ));
    let proxies = &s.server.trusted_proxies;
    for trusted in ["10.200.0.1", "192.0.2.7", "fd00::1", "::ffff:10.0.0.1"] {
        assert!(proxies.trusts(trusted.parse().unwrap()), "{trusted}");
    }
    for untrusted in ["192.0.2.8", "11.0.0.1", "2001:db8::1"] {
        assert!(!proxies.trusts(untrusted.parse().unwrap()), "{untrusted}");
    }
}

#[test]
fn a_trusted_proxy_that_is_not_an_address_is_named() {
    let lines = error_lines(&minimal_plus(
        "server:\n  trusted_proxies: [10.0.0.1, 10.0.0/8, lb.internal]\n",
    ));
    assert_line(
        &lines,
        "server.trusted_proxies[1]",
        "\"10.0.0/8\" is not an IP address or CIDR range",
    );
    assert_line(
        &lines,
        "server.trusted_proxies[2]",
        "\"lb.internal\" is not an IP address",
    );
}

#[test]
fn trusting_every_address_is_refused() {
    for everyone in ["0.0.0.0/0", "::/0"] {
        let lines = error_lines(&minimal_plus(&format!(
            "server:\n  trusted_proxies: [\"{everyone}\"]\n"
        )));
        assert_line(
            &lines,
            "server.trusted_proxies[0]",
            "any client could choose its own",
        );
    }
}

#[test]
fn zero_threads_means_one_per_core() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(
        build(&minimal_plus("server:\n  threads: 0\n"))
            .server
            .threads,
        cores
    );
    assert_eq!(
        build(&minimal_plus("server:\n  threads: 2\n"))
            .server
            .threads,
        2
    );
}

#[test]
fn a_cookie_domain_is_a_dns_name_of_two_labels_or_more() {
    use super::sessions::parse_cookie_domain;
    assert_eq!(
        parse_cookie_domain(".Example.COM").as_deref(),
        Ok("example.com")
    );
    assert_eq!(
        parse_cookie_domain("a.b.example.com").as_deref(),
        Ok("a.b.example.com")
    );
    for bad in [
        "com",
        "127.0.0.1",
        "::1",
        "exa mple.com",
        "-x.com",
        "x..com",
        "",
    ] {
        assert!(parse_cookie_domain(bad).is_err(), "{bad:?} was taken");
    }
}

#[test]
fn a_bad_cookie_domain_is_named_by_its_key() {
    let lines = error_lines(&minimal_plus("sessions:\n  cookie_domain: \"127.0.0.1\"\n"));
    assert_line(&lines, "sessions.cookie_domain", "an address");
    let s = build(&minimal_plus("sessions:\n  cookie_domain: example.com\n"));
    assert_eq!(s.sessions.cookie_domain.as_deref(), Some("example.com"));
}

#[test]
fn the_sso_portal_is_an_http_origin() {
    use super::sso::parse_portal_url;
    let ok = parse_portal_url("https://Auth.Example.com/").expect("origin");
    assert_eq!(ok.portal_url, "https://auth.example.com");
    assert_eq!(ok.portal_host, "auth.example.com");
    let port = parse_portal_url("http://auth.test:8443").expect("with a port");
    assert_eq!(
        (port.portal_url.as_str(), port.portal_host.as_str()),
        ("http://auth.test:8443", "auth.test")
    );
    for bad in [
        "auth.example.com",
        "ftp://auth.example.com",
        "https://auth.example.com/login",
        "https://user@auth.example.com",
        "https://auth.example.com?x=1",
        "https://",
        "https://auth.example.com:port",
    ] {
        let problem = parse_portal_url(bad).expect_err(bad);
        assert_eq!(problem.key, "sso.portal_url", "{bad}");
    }
    let lines = error_lines(&minimal_plus("sso:\n  portal_url: \"auth.example.com\"\n"));
    assert_line(&lines, "sso.portal_url", "https://");
}
