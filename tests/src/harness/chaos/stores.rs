//! The stores killed under load: Redis, then PostgreSQL, then both, each
//! killed like a crash and brought back, then Redis frozen and let go,
//! while signed-in users, an integration and people signing in keep
//! coming.
//!
//! What each kind of answer may be, and when:
//! - a signed-in user's GET needs only the session store (Redis): the app
//!   (200, with their identity) unless Redis is down; a 503 while it is;
//!   the app again within the session cache's bound after Redis went down
//!   (a copy taken before), never later; after Redis comes back empty,
//!   "signed out" for a session made before, then the app again once they
//!   sign in again. A PostgreSQL outage does not concern them. A frozen
//!   Redis is the case where the cache's bound is all there is: nothing
//!   tells the gateway, so copies are served until their TTL runs out.
//! - an integration's console token is kept in each replica's copy of the
//!   console's tokens, which a store outage leaves as it was (neither
//!   revoking every token nor reviving a revoked one): always the app.
//! - a sign-in needs both stores: a session, or a 503 around an outage of
//!   either; never a session while one was down.
//!
//! Anything else, or any answer slower than [`ANSWER_LIMIT`], breaks a rule.

use std::time::{Duration, Instant};

use super::{describe, recoveries, run_for, shared_rules, Recovery, Report, Window};
use super::{ANSWER_LIMIT, RECOVERY_LIMIT};
use crate::harness::load::{Action, Answer, Class, Kind, Lane, Traffic};
use crate::harness::store::Durable;
use crate::harness::{
    eventually, AppConfig, Gateway, GatewayConfig, Postgres, Redis, Upstream, UserSpec, PASSWORD,
};

/// How hard and how long to run.
#[derive(Debug, Clone)]
pub struct StoreRun {
    /// Signed-in API clients (JSON), each its own user.
    pub api_clients: usize,
    /// Signed-in browsers (HTML), each its own user.
    pub browsers: usize,
    /// Integrations with a console token.
    pub integrations: usize,
    /// Requests a second from each of the above.
    pub per_second: f64,
    /// Sign-ins a second, by one client.
    pub sign_ins_per_second: f64,
    /// Traffic with every store up, before the first outage.
    pub steady: Duration,
    /// How long each outage lasts.
    pub outage: Duration,
    /// Traffic after each recovery, once every client is served again.
    pub settle: Duration,
    /// `sessions.cache_ttl`: how long a copy of a session may be used.
    pub cache_ttl: Duration,
}

impl StoreRun {
    /// The end-to-end test's run: four clients at 50 req/s (200 req/s)
    /// and two sign-ins a second, a few seconds a phase: short enough for
    /// CI on two cores.
    pub fn brief() -> StoreRun {
        StoreRun {
            api_clients: 2,
            browsers: 1,
            integrations: 1,
            per_second: 50.0,
            sign_ins_per_second: 2.0,
            steady: Duration::from_secs(2),
            outage: Duration::from_secs(3),
            settle: Duration::from_secs(1),
            cache_ttl: Duration::from_millis(500),
        }
    }
}

/// What befalls a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Redis killed, and started again empty (no persistence): every
    /// session is gone.
    KillRedis,
    /// PostgreSQL killed, and started again on its data.
    KillPostgres,
    /// Redis frozen, then let go with everything it held: connections
    /// stay open and nothing answers, so nothing tells the gateway, and
    /// only timeouts and the session cache's TTL bound what it does.
    FreezeRedis,
}

impl Fault {
    fn on_sessions(self) -> bool {
        matches!(self, Fault::KillRedis | Fault::FreezeRedis)
    }
}

/// The outages, in order: each store killed alone, then both at once,
/// then Redis frozen.
const OUTAGES: [(&str, &[Fault]); 4] = [
    ("Redis", &[Fault::KillRedis]),
    ("PostgreSQL", &[Fault::KillPostgres]),
    (
        "Redis and PostgreSQL",
        &[Fault::KillRedis, Fault::KillPostgres],
    ),
    ("Redis (frozen)", &[Fault::FreezeRedis]),
];

/// The stores, as the run kills and restores them.
struct Stores {
    redis: Redis,
    postgres: Postgres,
}

impl Stores {
    fn strike(&mut self, faults: &[Fault]) {
        for fault in faults {
            match fault {
                Fault::KillRedis => self.redis.stop(),
                Fault::KillPostgres => self.postgres.kill(),
                Fault::FreezeRedis => self.redis.freeze(),
            }
        }
    }

    /// Brings them back; returns once each answers.
    fn restore(&mut self, faults: &[Fault]) {
        for fault in faults {
            match fault {
                Fault::KillRedis => self.redis.restart(),
                Fault::KillPostgres => self.postgres.restart(),
                Fault::FreezeRedis => self.redis.thaw(),
            }
        }
    }
}

/// What the run writes before the outages, to find after them.
struct Written {
    token: String,
    recovery_codes: Vec<String>,
}

/// alice signs in, enrolls an authenticator (an enrollment, recovery
/// codes, audit entries) and creates a console token.
fn write_durable(gateway: &Gateway) -> Written {
    let admin = gateway.client();
    admin.login_ok("alice");
    let (_, recovery_codes) = admin.enroll();
    let token = admin.create_token("chaos", "", "90d");
    Written {
        token,
        recovery_codes,
    }
}

/// The signed-in clients' names, each its own user: API clients, then
/// browsers (`true`).
fn session_clients(run: &StoreRun) -> Vec<(String, bool)> {
    (1..=run.api_clients)
        .map(|i| (format!("api-{i}"), false))
        .chain((1..=run.browsers).map(|i| (format!("browser-{i}"), true)))
        .collect()
}

fn make_lanes(run: &StoreRun, token: &str) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = session_clients(run)
        .into_iter()
        .map(|(name, html)| {
            let user = name.clone();
            Lane::new(
                &name,
                Kind::Session { user, html },
                "/private",
                run.per_second,
            )
        })
        .collect();
    for i in 1..=run.integrations {
        let kind = Kind::Token {
            token: token.to_owned(),
        };
        lanes.push(Lane::new(
            &format!("token-{i}"),
            kind,
            "/private",
            run.per_second,
        ));
    }
    // Two, so an argon2 check slowed by a busy machine can't keep every
    // sign-in away from an outage's window.
    for i in 1..=2 {
        let kind = Kind::SignIn { user: "bob".into() };
        let name = format!("sign-in-{i}");
        lanes.push(Lane::new(&name, kind, "/", run.sign_ins_per_second / 2.0));
    }
    lanes
}

/// Everything the run starts, torn down in reverse order on drop.
struct Bed {
    // Field order is drop order: the gateway goes first.
    gateway: Gateway,
    stores: Stores,
    upstream: Upstream,
    store_url: String,
    written: Written,
}

impl Bed {
    fn start(run: &StoreRun) -> Bed {
        let postgres = Postgres::start();
        let store_url = postgres.create_database("gatehouse");
        let redis = Redis::start();
        let upstream = Upstream::start_named("app");
        let mut config = GatewayConfig::new()
            .redis_url(&redis.url())
            .store_url(&store_url)
            .cache_ttl(run.cache_ttl)
            .app(AppConfig::standard(&upstream.url()));
        for (user, _) in session_clients(run) {
            config = config.user(UserSpec::new(&user));
        }
        let gateway = Gateway::start(config);
        let written = write_durable(&gateway);
        Bed {
            gateway,
            stores: Stores { redis, postgres },
            upstream,
            store_url,
            written,
        }
    }
}

/// What driving the outages left to judge.
struct Driven {
    phases: Vec<(String, Instant)>,
    windows: Vec<(Window, &'static [Fault])>,
    /// The durable state just before each outage, by its name.
    before: Vec<(String, Durable)>,
    violations: Vec<String>,
}

/// Steady traffic, then each outage and its recovery, in turn.
fn drive(run: &StoreRun, bed: &mut Bed, traffic: &Traffic) -> Driven {
    let started = Instant::now();
    let mut phases = vec![("steady".to_owned(), started)];
    let (mut windows, mut before, mut violations) = (Vec::new(), Vec::new(), Vec::new());
    if !traffic.wait_all_served_since(started, Duration::from_secs(30)) {
        violations.push("not every client was served before the outages".to_owned());
    }
    run_for(run.steady);
    for (name, faults) in OUTAGES {
        let name = name.to_owned();
        before.push((name.clone(), Durable::read(&bed.store_url, "alice")));
        let down = Instant::now();
        bed.stores.strike(faults);
        let killed = Instant::now();
        phases.push((format!("{name} down"), down));
        run_for(run.outage);
        let restarting = Instant::now();
        bed.stores.restore(faults);
        let up = Instant::now();
        phases.push((format!("{name} back"), up));
        if !traffic.wait_all_served_since(up, RECOVERY_LIMIT * 3) {
            violations.push(format!("not every client was served again after {name}"));
        }
        let window = Window {
            name,
            down,
            killed,
            restarting,
            up,
        };
        windows.push((window, faults));
        run_for(run.settle);
    }
    Driven {
        phases,
        windows,
        before,
        violations,
    }
}

/// Runs the store outages under load and judges every answer.
pub fn stores(run: &StoreRun) -> Report {
    let mut bed = Bed::start(run);
    let lanes = make_lanes(run, &bed.written.token);
    let traffic = Traffic::start(&bed.gateway, lanes.clone());
    let Driven {
        phases,
        windows,
        before,
        mut violations,
    } = drive(run, &mut bed, &traffic);
    let answers = traffic.stop();
    let end = Instant::now();

    let rules = Rules {
        windows: &windows,
        cache_ttl: run.cache_ttl,
        phases: &phases,
        lanes: &lanes,
    };
    violations.extend(answers.iter().filter_map(|a| rules.judge(a)));
    violations.extend(rules.exercised(&answers));
    let upstream_answers = answers
        .iter()
        .filter(|a| matches!(a.class, Class::Upstream { .. }))
        .count();
    if bed.upstream.count() != upstream_answers {
        violations.push(format!(
            "the app received {} requests, and clients saw {upstream_answers} of its answers",
            bed.upstream.count()
        ));
    }
    violations.extend(kept_durable(&bed, &before));

    let windows: Vec<Window> = windows.into_iter().map(|(w, _)| w).collect();
    let recoveries: Vec<Recovery> = recoveries(&windows, &lanes, &answers);
    let mut report = Report {
        title: "Stores killed under load".to_owned(),
        phases,
        end,
        lanes,
        answers,
        windows,
        recoveries,
        violations,
    };
    let shared = shared_rules(&report, |_| ANSWER_LIMIT);
    report.violations.extend(shared);
    report
}

/// Nothing written before each outage is lost: the same enrollment,
/// tokens and audit entries, and a recovery code from before still works.
fn kept_durable(bed: &Bed, before: &[(String, Durable)]) -> Vec<String> {
    let client = bed.gateway.client();
    eventually(Duration::from_secs(15), "readyz after the outages", || {
        (client.get("/.gatehouse/readyz").status == 200).then_some(())
    });
    let mut lost = Vec::new();
    let rd = "/private/after";
    let login = client.login("alice", PASSWORD, Some(rd));
    let recovered = login
        .succeeded()
        .then(|| client.submit_recovery_code(rd, &bed.written.recovery_codes[0]));
    let used = match recovered {
        Some(page) if page.status == 200 && page.body.contains("Recovery code accepted") => 1,
        other => {
            lost.push(format!(
                "alice could not sign in with a recovery code from before: password {}, code {:?}",
                login.status(),
                other.map(|p| p.status)
            ));
            0
        }
    };
    let now = Durable::read(&bed.store_url, "alice");
    for (outage, before) in before {
        let gone = before.lost_in(&now, used);
        lost.extend(
            gone.into_iter()
                .map(|line| format!("written before {outage}: {line}")),
        );
    }
    lost
}

struct Rules<'a> {
    windows: &'a [(Window, &'static [Fault])],
    cache_ttl: Duration,
    phases: &'a [(String, Instant)],
    lanes: &'a [Lane],
}

impl Rules<'_> {
    /// The windows with a fault for which `hit` holds.
    fn windows_where(&self, hit: fn(&Fault) -> bool) -> impl Iterator<Item = &Window> {
        self.windows
            .iter()
            .filter(move |(_, faults)| faults.iter().any(hit))
            .map(|(w, _)| w)
    }

    /// When the session store was down, killed or frozen.
    fn redis_windows(&self) -> impl Iterator<Item = &Window> {
        self.windows_where(|f| f.on_sessions())
    }

    /// When Redis was killed, and came back without the sessions.
    fn emptied_windows(&self) -> impl Iterator<Item = &Window> {
        self.windows_where(|f| *f == Fault::KillRedis)
    }

    fn all_windows(&self) -> impl Iterator<Item = &Window> {
        self.windows.iter().map(|(w, _)| w)
    }

    /// Why `answer` breaks a rule, if it does.
    fn judge(&self, answer: &Answer) -> Option<String> {
        let lane = &self.lanes[answer.lane];
        let why = match (&lane.kind, answer.action, &answer.class) {
            (_, Action::Form, Class::Form) => None,
            (Kind::Token { .. }, _, Class::Upstream { user, .. }) => {
                (!user.starts_with("service:")).then(|| format!("the app was told {user}"))
            }
            (Kind::Token { .. }, _, _) => Some("an integration was not served".to_owned()),
            (Kind::Session { user, .. }, Action::Get, Class::Upstream { user: seen, .. }) => {
                self.vouched(answer, user, seen)
            }
            (Kind::Session { .. }, Action::Get, Class::SignedOut) => {
                let from = answer.session_from.unwrap_or(answer.sent);
                let lost = self
                    .emptied_windows()
                    .any(|w| from < w.down && answer.done() >= w.up);
                (!lost).then(|| "signed out though no session was lost".to_owned())
            }
            (Kind::Session { .. }, Action::Get, Class::Unavailable) => {
                let near = self
                    .redis_windows()
                    .any(|w| w.touches(answer, RECOVERY_LIMIT));
                (!near).then(|| "503 with the session store up".to_owned())
            }
            // A sign-in sent while a store was down may wait for it and
            // succeed once it is back; one answered before it was is wrong.
            (_, Action::SignIn, Class::SignedIn) => self
                .all_windows()
                .find(|w| w.holds(answer))
                .map(|w| format!("signed in while {} was down", w.name)),
            (_, Action::Form | Action::SignIn, Class::Unavailable) => {
                let near = self
                    .all_windows()
                    .any(|w| w.touches(answer, RECOVERY_LIMIT));
                (!near).then(|| "503 with every store up".to_owned())
            }
            _ => Some("not an answer this client should get".to_owned()),
        };
        why.map(|why| format!("{why}: {}", describe(self.phases, self.lanes, answer)))
    }

    /// A signed-in user's 200 from the app: for them, and while Redis
    /// could vouch for their session.
    fn vouched(&self, answer: &Answer, user: &str, seen: &str) -> Option<String> {
        if seen != user {
            return Some(format!("the app was told {seen}, not {user}"));
        }
        for w in self.redis_windows() {
            // A copy may have been taken until the fault had struck, and
            // serves for the TTL after; a request sent later was looked up
            // later still. One that waited for the store and was answered
            // once it was back, the store vouched for.
            if answer.sent >= w.killed + self.cache_ttl && answer.done() < w.restarting {
                return Some(format!(
                    "served {:.2?} into \"{}\", past the session cache's {:?}",
                    answer.sent - w.killed,
                    w.name,
                    self.cache_ttl
                ));
            }
        }
        let from = answer.session_from.unwrap_or(answer.sent);
        self.emptied_windows()
            .find(|w| from < w.down && answer.sent >= w.up)
            .map(|w| {
                format!(
                    "a session from before {} restarted empty was honoured",
                    w.name
                )
            })
    }

    /// The outages were felt: around each one the sign-ins met a 503, and
    /// around each Redis outage so did every signed-in client; a frozen
    /// Redis, which nothing announces, had the session cache serve its
    /// copies for a while.
    fn exercised(&self, answers: &[Answer]) -> Vec<String> {
        let mut missing = Vec::new();
        for (window, faults) in self.windows {
            let on_sessions = faults.iter().any(|f| f.on_sessions());
            if faults.contains(&Fault::FreezeRedis) && !self.copies_served(window, answers) {
                missing.push(format!("no copy of a session was served: {}", window.name));
            }
            let felt_by = |index: usize| {
                answers.iter().any(|a| {
                    a.lane == index
                        && a.class == Class::Unavailable
                        && window.touches(a, Duration::ZERO)
                })
            };
            for (index, lane) in self.lanes.iter().enumerate() {
                if matches!(lane.kind, Kind::Session { .. }) && on_sessions && !felt_by(index) {
                    missing.push(format!(
                        "{} met no 503 while {} was down",
                        lane.name, window.name
                    ));
                }
            }
            // Sign-ins take turns, each an argon2 check: one of them
            // meeting the outage shows it was felt.
            let sign_ins = self.lanes.iter().enumerate();
            let mut sign_ins = sign_ins.filter(|(_, l)| matches!(l.kind, Kind::SignIn { .. }));
            if !sign_ins.any(|(index, _)| felt_by(index)) {
                missing.push(format!(
                    "no sign-in met a 503 while {} was down",
                    window.name
                ));
            }
        }
        missing
    }

    /// Whether a signed-in client was let in on a request sent after
    /// `window`'s fault struck: from the session cache, since the store
    /// no longer answered.
    fn copies_served(&self, window: &Window, answers: &[Answer]) -> bool {
        answers.iter().any(|a| {
            matches!(self.lanes[a.lane].kind, Kind::Session { .. })
                && matches!(a.class, Class::Upstream { .. })
                && a.sent >= window.killed
                && a.sent < window.up
        })
    }
}
