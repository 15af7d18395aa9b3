//! Chaos under load (issue 21, item 1): steady signed-in traffic while the
//! stores ([`stores`]) or the apps ([`upstreams`]) behind the gateway fail
//! and come back, every answer judged as a user would see it. The
//! end-to-end tests run these briefly; the bench (`benches/load/chaos`)
//! runs them longer and harder against the release binary, and prints the
//! same [`Report`].

mod figures;
pub mod stores;
pub mod upstreams;

use std::time::{Duration, Instant};

use crate::harness::load::{Action, Answer, Lane};

pub use stores::StoreRun;
pub use upstreams::UpstreamRun;

/// The longest any answer may take (issue 21): a hang fails.
pub const ANSWER_LIMIT: Duration = Duration::from_secs(5);
/// How soon after a store or an app is back every client must be served
/// again, without anyone restarting the gateway.
pub const RECOVERY_LIMIT: Duration = Duration::from_secs(5);

/// A time when something the gateway relies on was down.
#[derive(Debug, Clone)]
pub struct Window {
    /// What was down, e.g. "Redis" or "Redis and PostgreSQL".
    pub name: String,
    /// Just before it was killed.
    pub down: Instant,
    /// Once the kill had finished.
    pub killed: Instant,
    /// When its restart began.
    pub restarting: Instant,
    /// Once it answered again.
    pub up: Instant,
}

impl Window {
    /// Whether `answer` could have met the outage or its aftermath: it
    /// finished after the outage began and was sent before `grace` after
    /// it ended.
    pub fn touches(&self, answer: &Answer, grace: Duration) -> bool {
        answer.done() >= self.down && answer.sent < self.up + grace
    }

    /// Whether `answer` was sent and answered while it was certainly dead:
    /// after the kill had finished and before the restart began.
    pub fn holds(&self, answer: &Answer) -> bool {
        answer.sent >= self.killed && answer.done() < self.restarting
    }
}

/// How long one lane took to be served again after one outage.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub window: String,
    pub lane: usize,
    /// From the moment the part answered again to the end of the first
    /// answer that served the lane; `None` if none did.
    pub after: Option<Duration>,
}

/// What a run saw, and what in it broke the rules.
#[derive(Debug)]
pub struct Report {
    pub title: String,
    /// Each phase's name and start, in order; the last ends at `end`.
    pub phases: Vec<(String, Instant)>,
    pub end: Instant,
    pub lanes: Vec<Lane>,
    pub answers: Vec<Answer>,
    pub windows: Vec<Window>,
    pub recoveries: Vec<Recovery>,
    /// One line per broken rule; empty when the run held.
    pub violations: Vec<String>,
}

impl Report {
    /// Panics with the broken rules (the first 30) and the figures, unless
    /// every rule held.
    pub fn assert_held(&self) {
        if self.violations.is_empty() {
            return;
        }
        let shown: Vec<&str> = self
            .violations
            .iter()
            .take(30)
            .map(String::as_str)
            .collect();
        panic!(
            "{}: {} rule(s) broken:\n{}\n\n{}",
            self.title,
            self.violations.len(),
            shown.join("\n"),
            self.figures()
        );
    }

    /// The figures, as markdown: answers by class for each phase and kind
    /// of client, the slowest answer, and how long recovery took.
    pub fn figures(&self) -> String {
        figures::markdown(self)
    }

    /// Describes `answer` for a violation line: phase, lane, what and when.
    pub fn describe(&self, answer: &Answer) -> String {
        describe(&self.phases, &self.lanes, answer)
    }
}

fn describe(phases: &[(String, Instant)], lanes: &[Lane], answer: &Answer) -> String {
    let (phase, start) = phase_of(phases, answer.sent);
    format!(
        "[{phase} +{:.2}s] {} {:?} {}: {:?} in {:.2}s",
        answer.sent.saturating_duration_since(start).as_secs_f64(),
        lanes[answer.lane].name,
        answer.action,
        answer.path,
        answer.class,
        answer.elapsed.as_secs_f64()
    )
}

/// The phase `t` falls in, and when that phase began.
fn phase_of(phases: &[(String, Instant)], t: Instant) -> (&str, Instant) {
    phases
        .iter()
        .rev()
        .find(|(_, start)| *start <= t)
        .or(phases.first())
        .map_or(("?", t), |(name, start)| (name.as_str(), *start))
}

/// For each window, each lane that went unserved in it: how long after the
/// part came back the lane was first served again. A lane that was served
/// throughout is not listed.
pub fn recoveries(windows: &[Window], lanes: &[Lane], answers: &[Answer]) -> Vec<Recovery> {
    let mut found = Vec::new();
    for window in windows {
        for (index, lane) in lanes.iter().enumerate() {
            let mine = || answers.iter().filter(move |a| a.lane == index);
            let lost = mine().any(|a| window.touches(a, Duration::ZERO) && !lane.served_by(a));
            if !lost {
                continue;
            }
            let after = mine()
                .filter(|a| a.sent >= window.up && lane.served_by(a))
                .map(|a| a.done().saturating_duration_since(window.up))
                .min();
            found.push(Recovery {
                window: window.name.clone(),
                lane: index,
                after,
            });
        }
    }
    found
}

/// The rules every run shares: no answer slower than its lane's `limit`
/// ([`ANSWER_LIMIT`] but for an app that is slow on purpose), and each
/// lane served again within [`RECOVERY_LIMIT`] of every outage it felt.
fn shared_rules(report: &Report, limit: impl Fn(&Lane) -> Duration) -> Vec<String> {
    let mut broken: Vec<String> = report
        .answers
        .iter()
        .filter_map(|a| {
            // A sign-in is an argon2 check, slower on a busy machine: it
            // gets the gateway's own bound, not a lane's tighter one.
            let limit = match a.action {
                Action::SignIn | Action::Form => ANSWER_LIMIT.max(limit(&report.lanes[a.lane])),
                _ => limit(&report.lanes[a.lane]),
            };
            (a.elapsed > limit)
                .then(|| format!("took longer than {limit:?}: {}", report.describe(a)))
        })
        .collect();
    for recovery in &report.recoveries {
        let lane = &report.lanes[recovery.lane].name;
        match recovery.after {
            Some(after) if after <= RECOVERY_LIMIT => {}
            Some(after) => broken.push(format!(
                "{lane} was served again only {after:.2?} after {} came back",
                recovery.window
            )),
            None => broken.push(format!(
                "{lane} was never served again after {} came back",
                recovery.window
            )),
        }
    }
    broken
}

/// Sleeps through a phase of the run: the traffic is what runs meanwhile.
/// Never used to wait for an outcome; the checks poll with deadlines.
fn run_for(phase: Duration) {
    std::thread::sleep(phase);
}
