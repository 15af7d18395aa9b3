//! Prometheus metrics, registered in the default registry that
//! `pingora_prometheus`'s HTTP service serves.

use std::sync::LazyLock;

use pingora_prometheus::prometheus::{
    register_histogram_vec, register_int_counter_vec, Histogram, HistogramVec, IntCounter,
    IntCounterVec,
};

pub struct Metrics {
    /// Requests by app and what Gatehouse did with them.
    pub requests: IntCounterVec,
    /// Sign-in attempts by result.
    pub logins: IntCounterVec,
    /// Whole-request latency as the client saw it, by app.
    pub latency: HistogramVec,
    /// Failures to reach or read from an upstream, by app.
    pub upstream_errors: IntCounterVec,
    /// Changes to the users file, applied or refused.
    pub users_reloads: IntCounterVec,
    /// Config files re-read on SIGHUP, applied or refused.
    pub config_reloads: IntCounterVec,
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics {
    requests: register_int_counter_vec!(
        "gatehouse_requests_total",
        "Requests handled, by app and outcome",
        &["app", "outcome"]
    )
    .expect("metric registers once"),
    logins: register_int_counter_vec!(
        "gatehouse_logins_total",
        "Sign-in attempts, by result",
        &["result"]
    )
    .expect("metric registers once"),
    latency: register_histogram_vec!(
        "gatehouse_request_duration_seconds",
        "Request latency, from the request's arrival to the end of the response",
        &["app"],
        vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
    )
    .expect("metric registers once"),
    upstream_errors: register_int_counter_vec!(
        "gatehouse_upstream_errors_total",
        "Failures to connect to or read from an upstream, by app",
        &["app"]
    )
    .expect("metric registers once"),
    users_reloads: register_int_counter_vec!(
        "gatehouse_users_reloads_total",
        "Changes to the users file seen while running, by result (applied or refused)",
        &["result"]
    )
    .expect("metric registers once"),
    config_reloads: register_int_counter_vec!(
        "gatehouse_config_reloads_total",
        "Config files re-read on SIGHUP, by result (applied or refused)",
        &["result"]
    )
    .expect("metric registers once"),
});

/// What happened to a request, for the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Sent upstream with an identity.
    Allowed,
    /// Sent upstream without one (a bypass rule).
    Bypassed,
    /// Sent to the login page.
    LoginRedirect,
    /// 401 for an API client without a session.
    Unauthenticated,
    /// A bad service token.
    InvalidToken,
    /// A deny rule, a token the app doesn't take, or a missing factor.
    Forbidden,
    /// The session store was down.
    Unavailable,
    /// No app, or a malformed path.
    NotFound,
    BadRequest,
    /// Served by the portal.
    Portal,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::Allowed,
        Outcome::Bypassed,
        Outcome::LoginRedirect,
        Outcome::Unauthenticated,
        Outcome::InvalidToken,
        Outcome::Forbidden,
        Outcome::Unavailable,
        Outcome::NotFound,
        Outcome::BadRequest,
        Outcome::Portal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Bypassed => "bypassed",
            Outcome::LoginRedirect => "login_redirect",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::InvalidToken => "invalid_token",
            Outcome::Forbidden => "forbidden",
            Outcome::Unavailable => "unavailable",
            Outcome::NotFound => "not_found",
            Outcome::BadRequest => "bad_request",
            Outcome::Portal => "portal",
        }
    }
}

/// One app's request metrics, resolved once: looking a label set up in a
/// metric vector hashes the labels and takes a lock, on every request.
pub struct AppMetrics {
    /// Indexed by `Outcome as usize`.
    requests: Vec<IntCounter>,
    latency: Histogram,
    upstream_errors: IntCounter,
}

impl AppMetrics {
    /// The handles for `app` (`-` for requests no app took).
    pub fn new(app: &str) -> Self {
        let m = &*METRICS;
        AppMetrics {
            requests: Outcome::ALL
                .iter()
                .map(|o| m.requests.with_label_values(&[app, o.as_str()]))
                .collect(),
            latency: m.latency.with_label_values(&[app]),
            upstream_errors: m.upstream_errors.with_label_values(&[app]),
        }
    }

    pub fn request(&self, outcome: Outcome, seconds: f64) {
        self.requests[outcome as usize].inc();
        self.latency.observe(seconds);
    }

    pub fn upstream_error(&self) {
        self.upstream_errors.inc();
    }
}

/// Makes the metrics exist (with zero values) before the first request, so
/// dashboards and scrapes see them from the start.
pub fn init() {
    let m = &*METRICS;
    for result in ["success", "failure", "locked", "disabled"] {
        m.logins.with_label_values(&[result]);
    }
    for result in ["applied", "refused"] {
        m.config_reloads.with_label_values(&[result]);
    }
}
