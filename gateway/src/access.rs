//! The access decision for a routed request: who is calling, and may they.
//!
//! The request becomes a [`Caller`] here; [`authorize`] decides. A service
//! token is checked before the session so machine traffic never touches the
//! session store. `X-Gatehouse-Token` is always Gatehouse's, so a bad one is
//! refused outright; a Bearer token that isn't ours may belong to the
//! upstream app, so it only fails the request when there is no session either.

use std::net::IpAddr;

use gatehouse_templates::Route;
use pingora::http::RequestHeader;

use crate::auth::authorize::{
    authorize, needs_caller, Caller, Clock, Decision, Factors, Need, UserCaller,
};
use crate::config::Policy;
use crate::gateway::{Account, Gateway};
use crate::identity::IdentityHeaders;
use crate::live::Live;
use crate::metrics::Outcome;
use crate::respond::{unavailable_reply, wants_html, Reply};
use crate::return_path;
use crate::route::{Facts, RouteMatch, Ruling};
use crate::store::{AuditEvent, AuditOutcome};
use crate::tokens::service_user;

/// The request being judged: the one in hand when proxying inline, or the
/// one a proxy in front describes to the forward-auth endpoints. Only what
/// the decision reads, so both modes share one decision.
pub struct Original<'a> {
    pub method: &'a http::Method,
    /// The Host as sent (any case, any port).
    pub host: Option<&'a str>,
    /// The path as sent, and normalised (see [`crate::route`]).
    pub raw_path: &'a str,
    pub path: &'a str,
    /// The headers the decision reads: `Cookie`, `Authorization`,
    /// `X-Gatehouse-Token`, `Accept`. A forward-auth proxy copies them from
    /// the original request onto its own.
    pub headers: &'a RequestHeader,
    pub client_ip: IpAddr,
}

/// The access decision for an original request, before any reply is built:
/// inline mode and forward auth answer it each in their own way.
pub enum Verdict {
    Allow {
        identity: Option<IdentityHeaders>,
        outcome: Outcome,
        /// The Authorization header held our token and must not go upstream.
        strip_authorization: bool,
    },
    /// Closed to this caller; `token` when the caller is a service token.
    Forbidden {
        token: bool,
    },
    InvalidToken,
    SignIn,
    /// A session owing a step: the page that collects it.
    StepUp(Route),
    /// A two-factor route for a user whose organisation turned MFA off.
    MfaOff,
    /// The session store did not answer.
    Unavailable,
}

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

/// Always Gatehouse's: removed before anything goes upstream.
pub const TOKEN_HEADER: &str = "x-gatehouse-token";

pub(crate) fn bearer(req: &RequestHeader) -> Option<&str> {
    let value = req.headers.get(http::header::AUTHORIZATION)?;
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The session store did not answer (already logged): fail closed.
struct StoreDown;

/// The caller of a routed request, with what the reply needs of it.
struct Called {
    caller: Caller,
    identity: Option<IdentityHeaders>,
    /// The Authorization header held our token and must not go upstream.
    strip_authorization: bool,
    /// The signed-in user, whose groups rules may name.
    account: Option<std::sync::Arc<Account>>,
}

impl Called {
    fn new(caller: Caller) -> Self {
        Called {
            caller,
            identity: None,
            strip_authorization: false,
            account: None,
        }
    }
}

impl Live {
    /// The app and the strictest policy for an original request, over every
    /// reading of its path.
    pub fn route_original(&self, original: &Original<'_>) -> Option<RouteMatch<'_>> {
        self.router
            .route_request(original.host, original.raw_path, original.path)
    }
}

impl Gateway {
    /// Authenticates the original request into a caller and lets
    /// [`authorize`] decide. The one access decision, for inline proxying
    /// and forward auth alike; `app` is an index into `live`, the config
    /// that routed the request. `route` is the route's policy, or the rules
    /// whose conditions decide it: the method and client address are read
    /// only then, and the caller's groups only when a rule naming groups
    /// could apply, so a deny or bypass decided without them still never
    /// touches the session store.
    pub async fn decide<'r>(
        &self,
        live: &Live,
        original: &Original<'_>,
        app: usize,
        route: impl Into<Ruling<'r>>,
    ) -> Verdict {
        let ruling = route.into();
        let settled = ruling.settle(|| Facts {
            method: original.method.clone(),
            client: original.client_ip,
        });
        let need = Need::Route(settled.policy);
        let called = if settled.asks_groups() || needs_caller(need) {
            match self.caller(live, original, app).await {
                Ok(called) => called,
                Err(StoreDown) => return Verdict::Unavailable,
            }
        } else {
            // Nobody is asked who they are, but our token is still ours to
            // remove.
            let ours = match bearer(original.headers) {
                Some(t) => live.tokens.find(t).await.is_some(),
                None => false,
            };
            Called {
                strip_authorization: ours,
                ..Called::new(Caller::Anonymous)
            }
        };
        let policy = match &called.account {
            Some(account) => settled.for_groups(&account.user.groups),
            None => settled.policy,
        };
        let need = Need::Route(policy);
        let org = self.org_view_now(called.account.as_deref());
        let clock = Clock {
            now_ms: crate::session::now_ms(),
            fresh_for: self.settings.mfa.fresh_for,
        };
        match authorize(need, &called.caller, org, clock) {
            Decision::Allow | Decision::AllowSensitive(_) => Verdict::Allow {
                outcome: if policy == Policy::Bypass {
                    Outcome::Bypassed
                } else {
                    Outcome::Allowed
                },
                identity: called.identity,
                strip_authorization: called.strip_authorization,
            },
            Decision::Forbidden => Verdict::Forbidden {
                token: matches!(called.caller, Caller::Token { .. }),
            },
            Decision::InvalidToken => Verdict::InvalidToken,
            Decision::SignIn => Verdict::SignIn,
            Decision::Challenge | Decision::Confirm => Verdict::StepUp(Route::Mfa),
            Decision::Enroll => Verdict::StepUp(Route::Enroll),
            Decision::MfaOff => Verdict::MfaOff,
        }
    }

    /// Who is calling: a service token is checked before the session, so
    /// machine traffic never touches the session store.
    async fn caller(
        &self,
        live: &Live,
        original: &Original<'_>,
        app: usize,
    ) -> Result<Called, StoreDown> {
        let req = original.headers;
        let header_token = req
            .headers
            .get(TOKEN_HEADER)
            .map(|v| v.to_str().unwrap_or("\u{0}").trim().to_owned());
        let bearer_token = bearer(req);
        let token = match header_token.as_deref() {
            Some(t) => match live.tokens.find(t).await {
                Some(entry) => Some((entry, false)),
                None => return Ok(Called::new(Caller::BadToken)),
            },
            None => match bearer_token {
                Some(t) => live.tokens.find(t).await.map(|entry| (entry, true)),
                None => None,
            },
        };
        if let Some((entry, from_bearer)) = token {
            self.audit_token_use(original.client_ip, &entry).await;
            let reaches = live
                .apps
                .get(app)
                .is_some_and(|a| entry.may_reach(&a.name, a.service_tokens.as_deref()));
            return Ok(Called {
                caller: Caller::Token { reaches },
                identity: Some(entry.identity.clone()),
                strip_authorization: from_bearer,
                account: None,
            });
        }
        let Some((account, s)) = self.signed_in(req).await? else {
            // A Bearer token that isn't ours, and no session either.
            let caller = match bearer_token {
                Some(_) => Caller::BadToken,
                None => Caller::Anonymous,
            };
            return Ok(Called::new(caller));
        };
        Ok(Called {
            caller: Caller::User(UserCaller::from_session(&s, Factors::Unknown)),
            identity: Some(account.identity.clone()),
            strip_authorization: false,
            account: Some(account),
        })
    }

    /// The session's user, if the cookie names a live session of a user who
    /// is still configured and enabled.
    async fn signed_in(
        &self,
        req: &RequestHeader,
    ) -> Result<
        Option<(
            std::sync::Arc<crate::gateway::Account>,
            crate::session::Session,
        )>,
        StoreDown,
    > {
        let found = match self.current_session(req).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!("session lookup failed: {e}");
                return Err(StoreDown);
            }
        };
        let users = self.accounts.load();
        Ok(found.and_then(|(id, s)| match users.get(&s.user) {
            Some(a) if !a.user.disabled => Some((a.clone(), s)),
            _ => {
                // The user was removed or disabled since signing in.
                let sessions = self.sessions.clone();
                tokio::spawn(async move { sessions.delete(&id).await });
                None
            }
        }))
    }

    /// Token uses go to the audit log at most once a minute per token.
    async fn audit_token_use(&self, ip: IpAddr, entry: &crate::tokens::TokenEntry) {
        if entry.audit_due(crate::session::now_ms()) {
            // Uses of a replaced secret say so: the admin sees whether
            // the integration has moved over before the old one ends.
            let detail = entry.replaced.then_some("the replaced secret");
            self.mfa
                .audit_detail(
                    AuditEvent::TokenUsed,
                    &service_user(&entry.name),
                    ip,
                    AuditOutcome::Ok,
                    detail,
                )
                .await;
        }
    }
}

impl Access {
    /// Inline mode's answer to a verdict on `req`, the request in hand.
    /// `sign_in` is where a browser with no session starts signing in.
    pub fn inline(req: &RequestHeader, verdict: Verdict, sign_in: Route) -> Access {
        match verdict {
            Verdict::Allow {
                identity,
                outcome,
                strip_authorization,
            } => Access::Allow {
                identity,
                outcome,
                strip_authorization,
            },
            Verdict::Forbidden { token: true } => Access::Refuse(
                Reply::json(403, &serde_json::json!({ "error": "forbidden" })),
                Outcome::Forbidden,
            ),
            Verdict::Forbidden { token: false } => refuse(
                req,
                403,
                "forbidden",
                Outcome::Forbidden,
                "Access denied",
                "This address is closed by the gateway's policy.",
            ),
            Verdict::MfaOff => refuse(
                req,
                403,
                "mfa_off",
                Outcome::Forbidden,
                "Two-factor authentication needed",
                "This address needs two-factor authentication, which your organisation has \
                 turned off. Ask your organisation's admin to allow it.",
            ),
            Verdict::InvalidToken => invalid_token(),
            Verdict::SignIn => unauthenticated(req, sign_in),
            Verdict::StepUp(page) => step_up(req, page),
            Verdict::Unavailable => unavailable(req),
        }
    }
}

fn refuse(
    req: &RequestHeader,
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

fn unavailable(req: &RequestHeader) -> Access {
    Access::Refuse(unavailable_reply(req), Outcome::Unavailable)
}

/// The request's own path and query, as a return path.
fn return_here(req: &RequestHeader) -> String {
    return_path::for_request(req.uri.path_and_query().map_or("/", |pq| pq.as_str()))
}

/// Browsers go to the page that collects the missing factor; API clients,
/// which can't fill it in, get a 403 that says what is missing.
fn step_up(req: &RequestHeader, page: Route) -> Access {
    if wants_html(req) {
        let location = page.with_rd(&return_here(req));
        Access::Refuse(Reply::redirect(302, &location), Outcome::LoginRedirect)
    } else {
        Access::Refuse(
            Reply::json(
                403,
                &serde_json::json!({ "error": "mfa_required", "mfa": page.path() }),
            ),
            Outcome::Forbidden,
        )
    }
}

/// Browsers go to sign in (`sign_in`: the login page, or the handoff to
/// the sign-in portal's host) with a way back; API clients get a 401.
fn unauthenticated(req: &RequestHeader, sign_in: Route) -> Access {
    if wants_html(req) {
        let location = sign_in.with_rd(&return_here(req));
        Access::Refuse(Reply::redirect(302, &location), Outcome::LoginRedirect)
    } else {
        Access::Refuse(
            Reply::json(
                401,
                &serde_json::json!({
                    "error": "unauthenticated",
                    "login": Route::Login.path(),
                }),
            )
            .header("www-authenticate", "Bearer realm=\"gatehouse\""),
            Outcome::Unauthenticated,
        )
    }
}
