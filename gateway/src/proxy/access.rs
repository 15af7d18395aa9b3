//! The access decision for a routed request: who is calling, and may they.
//!
//! Order matters. Deny rules win over everything. A service token is checked
//! before the session so machine traffic never touches the session store.
//! `X-Gatehouse-Token` is always Gatehouse's, so a bad one is refused
//! outright; a Bearer token that isn't ours may belong to the upstream app,
//! so it only fails the request when there is no session either.

use pingora::proxy::Session;

use crate::config::Policy;
use crate::gateway::Gateway;
use crate::metrics::Outcome;
use crate::portal::return_path;
use crate::proxy::headers::IdentityHeaders;
use crate::respond::{wants_html, Reply};
use crate::session::Owed;
use crate::store::AuditEvent;
use crate::tokens::service_user;

/// What to do with the request.
pub enum Access {
    /// Send it upstream, with these identity headers if any.
    Allow {
        identity: Option<IdentityHeaders>,
        outcome: Outcome,
        /// The Authorization header held our token and must not go upstream.
        strip_authorization: bool,
    },
    /// Answer it here.
    Refuse(Reply, Outcome),
}

const TOKEN_HEADER: &str = "x-gatehouse-token";

fn bearer(session: &Session) -> Option<&str> {
    let value = session
        .req_header()
        .headers
        .get(http::header::AUTHORIZATION)?;
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl Gateway {
    pub async fn decide(&self, session: &mut Session, app: usize, policy: Policy) -> Access {
        let req = session.req_header();
        if policy == Policy::Deny {
            return refuse(
                req,
                403,
                "forbidden",
                Outcome::Forbidden,
                "Access denied",
                "This address is closed by the gateway's policy.",
            );
        }

        // Tokens: ours in X-Gatehouse-Token, possibly ours in Authorization.
        let header_token = req
            .headers
            .get(TOKEN_HEADER)
            .map(|v| v.to_str().unwrap_or("\u{0}").trim().to_owned());
        let bearer_token = bearer(session).map(str::to_owned);
        session.req_header_mut().remove_header(TOKEN_HEADER);

        let bearer_match = match bearer_token.as_deref() {
            Some(t) => self.tokens.find(t).await,
            None => None,
        };
        if policy == Policy::Bypass {
            return Access::Allow {
                identity: None,
                outcome: Outcome::Bypassed,
                strip_authorization: bearer_match.is_some(),
            };
        }
        let token = match header_token.as_deref() {
            Some(t) => match self.tokens.find(t).await {
                Some(entry) => Some((entry, false)),
                None => return invalid_token(),
            },
            None => bearer_match.map(|entry| (entry, true)),
        };
        if let Some((entry, from_bearer)) = token {
            if entry.audit_due(crate::session::now_ms()) {
                let ip = self.client_ip(session);
                // Uses of a replaced secret say so: the admin sees whether
                // the integration has moved over before the old one ends.
                let detail = entry.replaced.then_some("the replaced secret");
                self.mfa
                    .audit_detail(
                        AuditEvent::TokenUsed,
                        &service_user(&entry.name),
                        ip,
                        "ok",
                        detail,
                    )
                    .await;
            }
            let listed = self.settings.apps[app].service_tokens.as_deref();
            if !entry.may_reach(app, listed) {
                return Access::Refuse(
                    Reply::json(403, &serde_json::json!({ "error": "forbidden" })),
                    Outcome::Forbidden,
                );
            }
            return Access::Allow {
                identity: Some(entry.identity.clone()),
                outcome: Outcome::Allowed,
                strip_authorization: from_bearer,
            };
        }

        // Sessions.
        let found = match self.current_session(session).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!("session lookup failed: {e}");
                return unavailable(session.req_header());
            }
        };
        let req = session.req_header();
        let users = self.accounts.load();
        let account = found.and_then(|(id, s)| match users.get(&s.user) {
            Some(a) if !a.user.disabled => Some((a, s)),
            _ => {
                // The user was removed or disabled since signing in.
                let sessions = self.sessions.clone();
                tokio::spawn(async move { sessions.delete(&id).await });
                None
            }
        });
        let Some((account, s)) = account else {
            if bearer_token.is_some() {
                return invalid_token();
            }
            return unauthenticated(req);
        };
        // A second step still owed blocks everything; so does having none
        // once the organisation requires it. two_factor routes also need it
        // done on this session.
        let step = match self.owed(&s) {
            Owed::Challenge => Some("/.gatehouse/mfa"),
            Owed::Enrollment => Some("/.gatehouse/enroll"),
            Owed::Nothing if !s.mfa_done() && self.mfa.enforced_now() => Some("/.gatehouse/enroll"),
            Owed::Nothing if policy == Policy::TwoFactor && !s.mfa_done() => {
                Some("/.gatehouse/mfa")
            }
            Owed::Nothing => None,
        };
        if let Some(page) = step {
            return step_up(req, page);
        }
        Access::Allow {
            identity: Some(account.identity.clone()),
            outcome: Outcome::Allowed,
            strip_authorization: false,
        }
    }
}

fn refuse(
    req: &pingora::http::RequestHeader,
    status: u16,
    code: &str,
    outcome: Outcome,
    title: &str,
    message: &str,
) -> Access {
    Access::Refuse(Reply::error(req, status, code, title, message), outcome)
}

fn invalid_token() -> Access {
    Access::Refuse(
        Reply::json(401, &serde_json::json!({ "error": "invalid_token" })).header(
            "www-authenticate",
            "Bearer realm=\"gatehouse\", error=\"invalid_token\"",
        ),
        Outcome::InvalidToken,
    )
}

fn unavailable(req: &pingora::http::RequestHeader) -> Access {
    Access::Refuse(unavailable_reply(req), Outcome::Unavailable)
}

/// The 503 for a session store that doesn't answer: fail closed, say so.
pub fn unavailable_reply(req: &pingora::http::RequestHeader) -> Reply {
    Reply::error(
        req,
        503,
        "unavailable",
        "Sign-in is temporarily unavailable",
        "The gateway cannot reach its session store. Nobody can get in until it is back; \
         please try again in a minute.",
    )
    .header("retry-after", "5")
}

/// The request's own path and query, as a return path.
fn return_here(req: &pingora::http::RequestHeader) -> String {
    return_path::for_request(req.uri.path_and_query().map_or("/", |pq| pq.as_str()))
}

/// Browsers go to the page that collects the missing factor; API clients,
/// which can't fill it in, get a 403 that says what is missing.
fn step_up(req: &pingora::http::RequestHeader, page: &str) -> Access {
    if wants_html(req) {
        let location = crate::portal::with_rd(page, &return_here(req));
        Access::Refuse(Reply::redirect(302, &location), Outcome::LoginRedirect)
    } else {
        Access::Refuse(
            Reply::json(
                403,
                &serde_json::json!({ "error": "mfa_required", "mfa": page }),
            ),
            Outcome::Forbidden,
        )
    }
}

/// Browsers go to the login page with a way back; API clients get a 401.
fn unauthenticated(req: &pingora::http::RequestHeader) -> Access {
    if wants_html(req) {
        let target = req.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let rd = return_path::for_request(target);
        let location = format!(
            "/.gatehouse/login?rd={}",
            percent_encoding::utf8_percent_encode(&rd, percent_encoding::NON_ALPHANUMERIC)
        );
        Access::Refuse(Reply::redirect(302, &location), Outcome::LoginRedirect)
    } else {
        Access::Refuse(
            Reply::json(
                401,
                &serde_json::json!({
                    "error": "unauthenticated",
                    "login": "/.gatehouse/login",
                }),
            )
            .header("www-authenticate", "Bearer realm=\"gatehouse\""),
            Outcome::Unauthenticated,
        )
    }
}
