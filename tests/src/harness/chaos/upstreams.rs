//! Apps failing under load: three apps behind one gateway, with signed-in
//! users on each. One app dies (its connections cut) and comes back; then
//! another stalls, holding every request for a long while (30 s).
//!
//! What each kind of answer may be, and when:
//! - the main app's users see nothing of it: every answer is the app, for
//!   them, within [`UNAFFECTED`];
//! - the dying app's users get the gateway's 502 page or JSON while it is
//!   dead (within [`ANSWER_LIMIT`]), and the app again within
//!   [`RECOVERY_LIMIT`] of its return;
//! - the stalled app's clients wait for it: the gateway neither cuts them
//!   off nor fails them, and they get its answer when it comes.

use std::time::{Duration, Instant};

use super::{describe, recoveries, run_for, shared_rules, Report, Window};
use super::{ANSWER_LIMIT, RECOVERY_LIMIT};
use crate::harness::load::{Action, Answer, Class, Kind, Lane, Traffic};
use crate::harness::{AppConfig, Gateway, GatewayConfig, Upstream, UserSpec};

/// The slowest a main-app answer may be while the other apps fail: far
/// above a quiet answer (milliseconds), far below what waiting on a dead
/// or stalled app would cost (seconds).
pub const UNAFFECTED: Duration = Duration::from_secs(1);

/// The integrations' token for the stalled app.
const TOKEN: &str = "chaos-token-for-the-slow-app";

/// How hard and how long to run.
#[derive(Debug, Clone)]
pub struct UpstreamRun {
    /// Signed-in API clients of the main app.
    pub api_clients: usize,
    /// Signed-in browsers on the main app.
    pub browsers: usize,
    /// Signed-in API clients of the app that dies.
    pub flaky_clients: usize,
    /// Integrations of the app that stalls: each holds one request
    /// through the stall.
    pub slow_clients: usize,
    /// Requests a second from each main-app and dying-app client.
    pub per_second: f64,
    /// Requests a second from each integration of the stalling app.
    pub slow_per_second: f64,
    pub steady: Duration,
    /// How long the dying app stays dead.
    pub outage: Duration,
    /// How long the stalling app holds its requests.
    pub stall: Duration,
    pub settle: Duration,
}

impl UpstreamRun {
    /// The end-to-end test's run: 150 req/s on the main app, 50 on the
    /// app that dies, and a 30 s stall of a third with eight requests
    /// held in it.
    pub fn brief() -> UpstreamRun {
        UpstreamRun {
            api_clients: 2,
            browsers: 1,
            flaky_clients: 1,
            slow_clients: 8,
            per_second: 50.0,
            slow_per_second: 2.0,
            steady: Duration::from_secs(2),
            outage: Duration::from_secs(3),
            stall: Duration::from_secs(30),
            settle: Duration::from_secs(1),
        }
    }
}

/// The three apps, by upstream name and path prefix.
const MAIN: (&str, &str) = ("main", "/private");
const FLAKY: (&str, &str) = ("flaky", "/flaky");
const SLOW: (&str, &str) = ("slow", "/slow");

fn make_lanes(run: &UpstreamRun) -> Vec<Lane> {
    let session = |name: String, html, (_, prefix): (&str, &str)| {
        let user = name.clone();
        Lane::new(&name, Kind::Session { user, html }, prefix, run.per_second)
    };
    let mut lanes: Vec<Lane> = (1..=run.api_clients)
        .map(|i| session(format!("main-api-{i}"), false, MAIN))
        .chain((1..=run.browsers).map(|i| session(format!("main-browser-{i}"), true, MAIN)))
        .chain((1..=run.flaky_clients).map(|i| session(format!("flaky-api-{i}"), false, FLAKY)))
        .collect();
    for i in 1..=run.slow_clients {
        let kind = Kind::Token {
            token: TOKEN.to_owned(),
        };
        let lane = Lane::new(
            &format!("slow-token-{i}"),
            kind,
            SLOW.1,
            run.slow_per_second,
        );
        lanes.push(lane.timeout(run.stall + ANSWER_LIMIT * 2));
    }
    lanes
}

/// The app a lane uses.
fn app_of(lane: &Lane) -> &'static str {
    [MAIN, FLAKY, SLOW]
        .iter()
        .find(|(_, prefix)| *prefix == lane.prefix)
        .map_or("?", |(app, _)| app)
}

struct Bed {
    // Field order is drop order: the gateway goes first.
    gateway: Gateway,
    main: Upstream,
    flaky: Upstream,
    slow: Upstream,
}

impl Bed {
    fn start(lanes: &[Lane]) -> Bed {
        let main = Upstream::start_named(MAIN.0);
        let flaky = Upstream::start_named(FLAKY.0);
        let slow = Upstream::start_named(SLOW.0);
        let app = |(name, prefix): (&str, &str), upstream: &Upstream| {
            AppConfig::new(name, &[upstream.url()])
                .path(prefix)
                .policy("one_factor")
        };
        let mut config = GatewayConfig::new()
            .app(app(MAIN, &main))
            .app(app(FLAKY, &flaky))
            .app(app(SLOW, &slow))
            .service_token("chaos", TOKEN);
        for lane in lanes {
            if let Kind::Session { user, .. } = &lane.kind {
                config = config.user(UserSpec::new(user));
            }
        }
        Bed {
            gateway: Gateway::start(config),
            main,
            flaky,
            slow,
        }
    }
}

/// Steady traffic; the dying app dies and comes back; the stalling app
/// stalls. Returns the phases and the two windows.
fn drive(
    run: &UpstreamRun,
    bed: &mut Bed,
    traffic: &Traffic,
) -> (Vec<(String, Instant)>, Vec<Window>, Vec<String>) {
    let started = Instant::now();
    let mut phases = vec![("steady".to_owned(), started)];
    let mut broken = Vec::new();
    if !traffic.wait_all_served_since(started, Duration::from_secs(30)) {
        broken.push("not every client was served before the failures".to_owned());
    }
    run_for(run.steady);

    let down = Instant::now();
    bed.flaky.kill();
    let killed = Instant::now();
    phases.push(("flaky app dead".to_owned(), down));
    run_for(run.outage);
    let restarting = Instant::now();
    bed.flaky.revive();
    let up = Instant::now();
    phases.push(("flaky app back".to_owned(), up));
    if !traffic.wait_all_served_since(up, RECOVERY_LIMIT * 3) {
        broken.push("not every client was served again after the flaky app".to_owned());
    }
    run_for(run.settle);
    let flaky = Window {
        name: "the flaky app".to_owned(),
        down,
        killed,
        restarting,
        up,
    };

    let stalled = Instant::now();
    bed.slow.stall_for(run.stall);
    phases.push(("slow app stalled".to_owned(), stalled));
    run_for(run.stall);
    let answering = Instant::now();
    phases.push(("slow app answers".to_owned(), answering));
    if !traffic.wait_all_served_since(answering, RECOVERY_LIMIT * 3) {
        broken.push("not every client was served after the stall".to_owned());
    }
    run_for(run.settle);
    let slow = Window {
        name: "the slow app".to_owned(),
        down: stalled,
        killed: stalled,
        restarting: answering,
        up: answering,
    };
    (phases, vec![flaky, slow], broken)
}

/// Runs the app failures under load and judges every answer.
pub fn upstreams(run: &UpstreamRun) -> Report {
    let lanes = make_lanes(run);
    let mut bed = Bed::start(&lanes);
    let traffic = Traffic::start(&bed.gateway, lanes.clone());
    let (phases, windows, mut violations) = drive(run, &mut bed, &traffic);
    let answers = traffic.stop();
    let end = Instant::now();

    let judge = |a: &Answer| judge(&windows[0], &phases, &lanes, a);
    violations.extend(answers.iter().filter_map(judge));
    violations.extend(exercised(run, &windows, &lanes, &answers));
    // Requests in hand when the flaky app died reached it, and their
    // clients got a 502: the only requests an app may receive unseen.
    let cut_off = answers
        .iter()
        .filter(|a| a.class == Class::BadGateway && a.sent < windows[0].killed)
        .count();
    for (app, upstream, unseen) in [
        (MAIN.0, &bed.main, 0),
        (FLAKY.0, &bed.flaky, cut_off),
        (SLOW.0, &bed.slow, 0),
    ] {
        let seen = answers
            .iter()
            .filter(|a| matches!(&a.class, Class::Upstream { app: name, .. } if name == app))
            .count();
        let received = upstream.count();
        if received < seen || received > seen + unseen {
            violations.push(format!(
                "the {app} app received {received} requests; clients saw {seen} of its answers"
            ));
        }
    }
    let recoveries = recoveries(&windows, &lanes, &answers);
    let mut report = Report {
        title: "Apps failing under load".to_owned(),
        phases,
        end,
        lanes,
        answers,
        windows,
        recoveries,
        violations,
    };
    let stall_limit = run.stall + ANSWER_LIMIT;
    let shared = shared_rules(&report, |lane| match app_of(lane) {
        "main" => UNAFFECTED,
        "slow" => stall_limit,
        _ => ANSWER_LIMIT,
    });
    report.violations.extend(shared);
    report
}

/// Why `answer` breaks a rule, if it does.
fn judge(
    flaky: &Window,
    phases: &[(String, Instant)],
    lanes: &[Lane],
    answer: &Answer,
) -> Option<String> {
    let lane = &lanes[answer.lane];
    let app = app_of(lane);
    let expected_user = match &lane.kind {
        Kind::Session { user, .. } => user.clone(),
        _ => "service:chaos".to_owned(),
    };
    let why = match (&answer.class, answer.action) {
        (Class::Upstream { app: seen, user }, Action::Get) => (seen != app
            || *user != expected_user)
            .then(|| format!("answered by {seen} for {user}")),
        (Class::Form | Class::SignedIn, Action::Form | Action::SignIn) => None,
        (Class::BadGateway, Action::Get) if app == FLAKY.0 => {
            (!flaky.touches(answer, RECOVERY_LIMIT)).then(|| "502 with the app up".to_owned())
        }
        _ => Some(format!("not an answer the {app} app's clients should get")),
    };
    why.map(|why| format!("{why}: {}", describe(phases, lanes, answer)))
}

/// The failures were felt: the dying app's clients met a 502, and the
/// stalling app's waited through its stall.
fn exercised(
    run: &UpstreamRun,
    windows: &[Window],
    lanes: &[Lane],
    answers: &[Answer],
) -> Vec<String> {
    let mut missing = Vec::new();
    for (index, lane) in lanes.iter().enumerate() {
        let mine = || answers.iter().filter(move |a| a.lane == index);
        let felt = match app_of(lane) {
            "flaky" => mine()
                .any(|a| a.class == Class::BadGateway && windows[0].touches(a, Duration::ZERO)),
            "slow" => {
                mine().any(|a| a.elapsed >= run.stall / 2 && windows[1].touches(a, Duration::ZERO))
            }
            _ => true,
        };
        if !felt {
            missing.push(format!("{} did not feel its app fail", lane.name));
        }
    }
    missing
}
