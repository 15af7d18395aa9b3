//! Steady traffic from several clients at once, for the chaos tests and
//! bench (issue 21): each client (a "lane") sends at its own fixed pace on
//! a thread of its own, and every answer is kept with when it was sent, how
//! long it took and what a user would make of it ([`Class`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{hidden_input, Client, Gateway, Response, PASSWORD, POLL};

/// What a lane does.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Signed in as `user`, GETs as an API client (JSON) or, with `html`,
    /// as a browser. When its session is gone it signs in again, as a
    /// person would.
    Session { user: String, html: bool },
    /// GETs with `Authorization: Bearer <token>`: an integration.
    Token { token: String },
    /// Signs `user` in, again and again: people arriving.
    SignIn { user: String },
}

/// One client of the traffic.
#[derive(Debug, Clone)]
pub struct Lane {
    /// Shown in reports, and part of the paths it asks for.
    pub name: String,
    pub kind: Kind,
    /// Where its GETs go: `{prefix}/{name}/{n}`.
    pub prefix: String,
    /// Its pace: one GET (or one sign-in) per `every`.
    pub every: Duration,
    /// How long it waits for an answer before counting a failure.
    pub timeout: Duration,
}

impl Lane {
    /// A lane sending `per_second` requests a second, waiting 10 s for
    /// each answer: twice the longest an answer may take.
    pub fn new(name: &str, kind: Kind, prefix: &str, per_second: f64) -> Lane {
        Lane {
            name: name.to_owned(),
            kind,
            prefix: prefix.to_owned(),
            every: Duration::from_secs_f64(1.0 / per_second),
            timeout: Duration::from_secs(10),
        }
    }

    pub fn timeout(mut self, timeout: Duration) -> Lane {
        self.timeout = timeout;
        self
    }

    /// Whether `answer` gave this lane's user what they came for: the app
    /// for a signed-in user or an integration, a session for someone
    /// signing in.
    pub fn served_by(&self, answer: &Answer) -> bool {
        match (&self.kind, &answer.class) {
            (Kind::SignIn { .. }, class) => *class == Class::SignedIn,
            (_, Class::Upstream { .. }) => answer.action == Action::Get,
            _ => false,
        }
    }
}

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A GET of the app.
    Get,
    /// Loading the sign-in form.
    Form,
    /// Posting the sign-in form.
    SignIn,
}

/// What a user would make of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// 200 from the upstream named `app`, which saw `Remote-User: user`.
    Upstream { app: String, user: String },
    /// The sign-in form.
    Form,
    /// A sign-in that worked: 303 with a session cookie.
    SignedIn,
    /// No session (any more): 401 JSON, or a 302 to the sign-in page.
    SignedOut,
    /// The gateway's 503: its "temporarily unavailable" page, or
    /// `{"error": "unavailable"}`.
    Unavailable,
    /// The gateway's 502: its "Bad gateway" page, or
    /// `{"error": "bad_gateway"}`.
    BadGateway,
    /// Anything else, described: a failure wherever it happens.
    Other(String),
}

impl Class {
    /// The column it is counted in.
    pub fn label(&self) -> &'static str {
        match self {
            Class::Upstream { .. } => "200 upstream",
            Class::Form => "form",
            Class::SignedIn => "signed in",
            Class::SignedOut => "signed out",
            Class::Unavailable => "503",
            Class::BadGateway => "502",
            Class::Other(_) => "other",
        }
    }
}

/// One answer, as the client saw it.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Index into the traffic's lanes.
    pub lane: usize,
    pub action: Action,
    pub path: String,
    pub sent: Instant,
    /// Until the whole answer was read, or the client gave up.
    pub elapsed: Duration,
    pub class: Class,
    /// For a session lane's GET: when the session it carried was made.
    pub session_from: Option<Instant>,
}

impl Answer {
    pub fn done(&self) -> Instant {
        self.sent + self.elapsed
    }
}

/// Lanes running against one gateway.
pub struct Traffic {
    lanes: Vec<Lane>,
    answers: Arc<Mutex<Vec<Answer>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Traffic {
    /// Starts every lane, each on a fresh client of `gateway`.
    pub fn start(gateway: &Gateway, lanes: Vec<Lane>) -> Traffic {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = lanes
            .iter()
            .enumerate()
            .map(|(index, lane)| {
                let worker = Worker {
                    index,
                    lane: lane.clone(),
                    client: gateway.client().with_timeout(lane.timeout),
                    answers: Arc::clone(&answers),
                    session_from: None,
                    seq: 0,
                };
                let stop = Arc::clone(&stop);
                thread::spawn(move || worker.run(&stop))
            })
            .collect();
        Traffic {
            lanes,
            answers,
            stop,
            threads,
        }
    }

    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// Every answer so far, in the order they came.
    pub fn answers(&self) -> Vec<Answer> {
        lock(&self.answers).clone()
    }

    /// Whether every lane has been served by a request sent at or after
    /// `since`.
    pub fn all_served_since(&self, since: Instant) -> bool {
        let answers = lock(&self.answers);
        self.lanes.iter().enumerate().all(|(index, lane)| {
            answers
                .iter()
                .any(|a| a.lane == index && a.sent >= since && lane.served_by(a))
        })
    }

    /// Polls until [`Traffic::all_served_since`]; false at the deadline.
    pub fn wait_all_served_since(&self, since: Instant, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if self.all_served_since(since) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(POLL);
        }
    }

    /// Stops every lane (each finishes the request in hand) and returns
    /// all the answers.
    pub fn stop(mut self) -> Vec<Answer> {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        self.answers()
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One lane's thread.
struct Worker {
    index: usize,
    lane: Lane,
    client: Client,
    answers: Arc<Mutex<Vec<Answer>>>,
    /// When the session in the jar was made; none when there is none.
    session_from: Option<Instant>,
    seq: u64,
}

impl Worker {
    fn run(mut self, stop: &AtomicBool) {
        let mut next = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            if next > now {
                // Short naps, so a stop is noticed between slow ticks.
                thread::sleep((next - now).min(POLL));
                continue;
            }
            let answers = self.step();
            lock(&self.answers).extend(answers);
            // A lane that fell behind (a slow answer) skips the ticks it
            // missed rather than bursting: a person waits for the page.
            next = (next + self.lane.every).max(Instant::now());
        }
    }

    fn step(&mut self) -> Vec<Answer> {
        match self.lane.kind.clone() {
            Kind::Session { user, html } => match self.session_from {
                None => self.sign_in(&user),
                Some(from) => {
                    let accept = if html {
                        "text/html,application/xhtml+xml,*/*;q=0.8"
                    } else {
                        "application/json"
                    };
                    let mut answer = self.get(&[("Accept", accept)]);
                    answer.session_from = Some(from);
                    if answer.class == Class::SignedOut {
                        self.client.clear_cookies();
                        self.session_from = None;
                    }
                    vec![answer]
                }
            },
            Kind::Token { token } => {
                let bearer = format!("Bearer {token}");
                vec![self.get(&[("Accept", "application/json"), ("Authorization", &bearer)])]
            }
            Kind::SignIn { user } => {
                // A new person each time: nothing kept from the last one.
                self.client.clear_cookies();
                self.sign_in(&user)
            }
        }
    }

    fn get(&mut self, headers: &[(&str, &str)]) -> Answer {
        self.seq += 1;
        let path = format!("{}/{}/{}", self.lane.prefix, self.lane.name, self.seq);
        let (sent, elapsed, response) = self.send("GET", &path, headers, None);
        let class = match &response {
            Ok(response) => classify(Action::Get, response),
            Err(e) => Class::Other(e.clone()),
        };
        self.answer(Action::Get, path, sent, elapsed, class)
    }

    /// Loads the sign-in form and posts it: one answer for each.
    fn sign_in(&mut self, user: &str) -> Vec<Answer> {
        const LOGIN: &str = "/.gatehouse/login";
        let html = [("Accept", "text/html")];
        let (sent, elapsed, form) = self.send("GET", LOGIN, &html, None);
        let token = form
            .as_ref()
            .ok()
            .filter(|page| page.status == 200)
            .and_then(|page| hidden_input(&page.body, "csrf_token"));
        let class = match (&form, &token) {
            (Ok(_), Some(_)) => Class::Form,
            (Ok(page), None) => classify(Action::Form, page),
            (Err(e), _) => Class::Other(e.clone()),
        };
        let mut answers = vec![self.answer(Action::Form, LOGIN.into(), sent, elapsed, class)];
        let Some(token) = token else {
            return answers;
        };
        let fields = [
            ("username", user),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ];
        let (sent, elapsed, posted) = self.send("POST", LOGIN, &html, Some(&fields));
        let session_name = self.client.session_cookie_name().to_owned();
        let class = match &posted {
            Ok(page) if page.status == 303 && page.set_cookie(&session_name).is_some() => {
                self.session_from = Some(sent);
                Class::SignedIn
            }
            Ok(page) => classify(Action::SignIn, page),
            Err(e) => Class::Other(e.clone()),
        };
        answers.push(self.answer(Action::SignIn, LOGIN.into(), sent, elapsed, class));
        answers
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        form: Option<&[(&str, &str)]>,
    ) -> (Instant, Duration, Result<Response, String>) {
        let sent = Instant::now();
        let response = self.client.try_send(method, path, headers, form);
        (sent, sent.elapsed(), response)
    }

    fn answer(
        &self,
        action: Action,
        path: String,
        sent: Instant,
        elapsed: Duration,
        class: Class,
    ) -> Answer {
        Answer {
            lane: self.index,
            action,
            path,
            sent,
            elapsed,
            class,
            session_from: None,
        }
    }
}

/// What a user would make of `response` to an `action`.
pub fn classify(action: Action, response: &Response) -> Class {
    let location = response.location().unwrap_or("");
    match response.status {
        200 if action == Action::Get => from_upstream(response),
        503 if gateway_error(response, "unavailable", "temporarily unavailable") => {
            Class::Unavailable
        }
        502 if gateway_error(response, "bad_gateway", "bad gateway") => Class::BadGateway,
        401 if gateway_error(response, "unauthenticated", "") => Class::SignedOut,
        302 if action == Action::Get && location.starts_with("/.gatehouse/login") => {
            Class::SignedOut
        }
        _ => other(response),
    }
}

/// The echo upstream's description of the request, naming the app and the
/// user it was told about.
fn from_upstream(response: &Response) -> Class {
    let Ok(echo) = serde_json::from_str::<Value>(&response.body) else {
        return other(response);
    };
    match (
        echo["upstream"].as_str(),
        echo["headers"]["remote-user"].as_str(),
    ) {
        (Some(app), Some(user)) => Class::Upstream {
            app: app.to_owned(),
            user: user.to_owned(),
        },
        _ => other(response),
    }
}

/// Whether `response` is the gateway's own error: `{"error": code}` for an
/// API client, or an HTML page with `words` in it for a browser.
fn gateway_error(response: &Response, code: &str, words: &str) -> bool {
    let html = response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"));
    if html {
        return !words.is_empty() && response.body.to_lowercase().contains(words);
    }
    serde_json::from_str::<Value>(&response.body)
        .is_ok_and(|body| body["error"].as_str() == Some(code))
}

fn other(response: &Response) -> Class {
    let start: String = response.body.chars().take(160).collect();
    Class::Other(format!("{} {start:?}", response.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, content_type: &str, body: &str, location: Option<&str>) -> Response {
        let mut headers = vec![("content-type".to_owned(), content_type.to_owned())];
        if let Some(location) = location {
            headers.push(("location".to_owned(), location.to_owned()));
        }
        Response {
            status,
            headers,
            body: body.to_owned(),
            elapsed: Duration::ZERO,
            version: reqwest::Version::HTTP_11,
        }
    }

    #[test]
    fn answers_are_classed_as_their_user_would_read_them() {
        let json = "application/json";
        let html = "text/html; charset=utf-8";
        let echo = r#"{"upstream":"app","headers":{"remote-user":"alice"}}"#;
        let cases = [
            (
                response(200, json, echo, None),
                Class::Upstream {
                    app: "app".into(),
                    user: "alice".into(),
                },
            ),
            (
                response(503, json, r#"{"error":"unavailable"}"#, None),
                Class::Unavailable,
            ),
            (
                response(
                    503,
                    html,
                    "<h1>Sign-in is temporarily unavailable</h1>",
                    None,
                ),
                Class::Unavailable,
            ),
            (
                response(502, json, r#"{"error":"bad_gateway"}"#, None),
                Class::BadGateway,
            ),
            (
                response(502, html, "<h1>Bad gateway</h1>", None),
                Class::BadGateway,
            ),
            (
                response(401, json, r#"{"error":"unauthenticated"}"#, None),
                Class::SignedOut,
            ),
            (
                response(302, html, "", Some("/.gatehouse/login?rd=%2Fx")),
                Class::SignedOut,
            ),
        ];
        for (answer, class) in cases {
            assert_eq!(classify(Action::Get, &answer), class, "{answer:?}");
        }
        // Not the gateway's own pages: failures, whatever their status.
        for odd in [
            response(200, json, r#"{"hello":"world"}"#, None),
            response(503, html, "<h1>Service Unavailable</h1>", None),
            response(502, "text/plain", "upstream went away", None),
            response(500, json, r#"{"error":"internal_error"}"#, None),
            response(302, html, "", Some("/elsewhere")),
        ] {
            assert!(
                matches!(classify(Action::Get, &odd), Class::Other(_)),
                "{odd:?}"
            );
        }
    }
}
