//! Everything under `/.gatehouse/`: the pages Gatehouse serves itself.
//!
//! Only these routes read request bodies; proxied traffic streams through
//! untouched. State changes only on POST, and every POST carries a CSRF token.

mod account;
mod admin;
mod challenge;
mod confirm;
pub mod csrf;
mod enroll;
mod form;
mod health;
mod login;
pub mod return_path;
mod send;

use std::sync::Arc;

use gatehouse_templates::CSS;
use http::Method;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use pingora::proxy::Session;

use crate::auth::lifecycle::Actor;
use crate::gateway::{Account, Gateway};
use crate::proxy::access::unavailable_reply;
use crate::proxy::headers::cookie_value;
use crate::respond::Reply;
use crate::session::{self, Owed, SessionId};
use challenge::Step;
use form::{Form, FormError};

/// A portal path with `rd` carried along, percent-encoded.
pub(crate) fn with_rd(path: &str, rd: &str) -> String {
    format!("{path}?rd={}", utf8_percent_encode(rd, NON_ALPHANUMERIC))
}

/// A time (unix ms) as pages show it: `2025-01-02 10:00:00 UTC`.
pub(crate) fn date(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replacen('T', " ", 1)
        .trim_end_matches('Z')
        .to_owned()
        + " UTC"
}

/// The CSRF nonce from the request's cookie, or a fresh one to set.
pub(crate) struct Nonce {
    pub value: String,
    pub is_new: bool,
}

/// A signed-in (or signing-in) user, as a portal page sees them.
pub(crate) struct Current {
    pub id: SessionId,
    pub session: session::Session,
    pub account: Arc<Account>,
}

impl Current {
    pub fn user(&self) -> &str {
        &self.account.user.username
    }

    /// This user as the account operations see them.
    pub fn actor<'a>(&'a self, gw: &Gateway, session: &Session) -> Actor<'a> {
        Actor {
            user: self.user(),
            session: &self.session,
            ip: gw.client_ip(session),
            is_admin: gw.is_admin(&self.account),
        }
    }
}

/// The `rd` query parameter, if it is a safe return path.
pub(crate) fn rd_query(session: &Session) -> String {
    query_param(session, "rd")
        .as_deref()
        .and_then(return_path::validate)
        .unwrap_or(return_path::DEFAULT)
        .to_owned()
}

pub(crate) fn query_param(session: &Session, name: &str) -> Option<String> {
    let query = session.req_header().uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Gateway {
    pub(crate) fn csrf_nonce(&self, session: &Session) -> Nonce {
        match cookie_value(session.req_header(), &self.cookies.csrf).filter(|v| !v.is_empty()) {
            Some(v) => Nonce {
                value: v.to_owned(),
                is_new: false,
            },
            None => Nonce {
                value: csrf::Csrf::new_nonce(),
                is_new: true,
            },
        }
    }

    /// A page reply that also sets the CSRF cookie if the browser had none.
    pub(crate) fn with_nonce(&self, reply: Reply, nonce: &Nonce) -> Reply {
        if nonce.is_new {
            reply.cookie(&self.cookies.csrf_cookie(&nonce.value))
        } else {
            reply
        }
    }

    /// `reply`, moving the browser to a new session if there is one.
    pub(crate) fn with_session(&self, reply: Reply, id: Option<&SessionId>) -> Reply {
        match id {
            Some(id) => reply.cookie(&self.cookies.session_cookie(id.as_str())),
            None => reply,
        }
    }

    /// The current session, if the cookie names a live one.
    pub(crate) async fn current_session(
        &self,
        session: &Session,
    ) -> Result<Option<(SessionId, session::Session)>, session::SessionError> {
        let Some(id) =
            cookie_value(session.req_header(), &self.cookies.session).and_then(SessionId::parse)
        else {
            return Ok(None);
        };
        Ok(self.sessions.get(&id, self.expiry).await?.map(|s| (id, s)))
    }

    /// The signed-in user, or the reply that sends them to sign in. With
    /// `allow_owed`, a session still owing a second step is accepted (the
    /// pages that collect that step); otherwise it is sent to pay it.
    pub(crate) async fn require_user(
        &self,
        session: &Session,
        allow_owed: bool,
        here: &str,
    ) -> Result<Current, Reply> {
        let found = match self.current_session(session).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!("session lookup failed: {e}");
                return Err(unavailable_reply(session.req_header()));
            }
        };
        let current = found.and_then(|(id, s)| {
            let account = self.accounts.get(&s.user).filter(|a| !a.user.disabled)?;
            Some(Current {
                id,
                session: s,
                account,
            })
        });
        let Some(current) = current else {
            return Err(Reply::redirect(302, &with_rd("/.gatehouse/login", here)));
        };
        if !allow_owed {
            match self.owed(&current.session) {
                Owed::Nothing => {}
                Owed::Challenge => {
                    return Err(Reply::redirect(302, &with_rd("/.gatehouse/mfa", here)))
                }
                Owed::Enrollment => {
                    return Err(Reply::redirect(302, &with_rd("/.gatehouse/enroll", here)))
                }
            }
        }
        Ok(current)
    }

    /// Reads a POSTed form and checks its CSRF token; the error is the reply.
    pub(crate) async fn checked_form(
        &self,
        session: &mut Session,
    ) -> pingora::Result<Result<Form, Reply>> {
        let form = match form::read(session).await {
            Ok(f) => f,
            Err(FormError::Read(e)) => return Err(e),
            Err(e) => {
                return Ok(Err(Reply::error(
                    session.req_header(),
                    400,
                    "bad_request",
                    "Bad request",
                    &e.to_string(),
                )));
            }
        };
        let nonce = self.csrf_nonce(session);
        if nonce.is_new || !self.csrf.verify(&nonce.value, form.get("csrf_token")) {
            let reply = Reply::error(session.req_header(), 403, "csrf", "This form has expired",
                "For your security the form could not be accepted. Go back, reload the page and try again.");
            return Ok(Err(self.with_nonce(reply, &nonce)));
        }
        Ok(Ok(form))
    }
}

/// Unwraps a `Result<T, Reply>`, returning the reply from the handler.
macro_rules! or_reply {
    ($e:expr) => {
        or_reply!($e, std::convert::identity)
    };
    // With `Err`: for helpers that hand the reply on as `Ok(Err(reply))`.
    ($e:expr, $wrap:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return Ok($wrap(reply)),
        }
    };
}
pub(crate) use or_reply;

pub async fn handle(gw: &Gateway, session: &mut Session, path: &str) -> pingora::Result<()> {
    let method = session.req_header().method.clone();
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    let reply = match (path, get, post) {
        ("/.gatehouse/healthz", true, _) => health::healthz(gw).await,
        ("/.gatehouse/readyz", true, _) => health::readyz(gw).await,
        ("/.gatehouse/static/gatehouse.css", true, _) => {
            Reply::text(200, "text/css; charset=utf-8", CSS)
                .header("cache-control", "public, max-age=3600")
        }
        ("/.gatehouse/login", true, _) => login::show(gw, session).await,
        ("/.gatehouse/login", _, true) => login::submit(gw, session).await?,
        ("/.gatehouse/logout", _, true) => login::logout(gw, session).await?,
        ("/.gatehouse/mfa", true, _) => challenge::show(gw, session, Step::SignIn).await,
        ("/.gatehouse/mfa", _, true) => challenge::submit(gw, session, Step::SignIn).await?,
        ("/.gatehouse/mfa/send", _, true) => send::for_challenge(gw, session, Step::SignIn).await?,
        ("/.gatehouse/confirm", true, _) => challenge::show(gw, session, Step::Confirm).await,
        ("/.gatehouse/confirm", _, true) => challenge::submit(gw, session, Step::Confirm).await?,
        ("/.gatehouse/confirm/send", _, true) => {
            send::for_challenge(gw, session, Step::Confirm).await?
        }
        ("/.gatehouse/recover", true, _) => challenge::show_recover(gw, session).await,
        ("/.gatehouse/recover", _, true) => challenge::submit_recover(gw, session).await?,
        ("/.gatehouse/remind", true, _) => challenge::reminder(gw, session).await,
        ("/.gatehouse/enroll", true, _) => enroll::show(gw, session).await,
        ("/.gatehouse/enroll", _, true) => enroll::submit(gw, session).await?,
        ("/.gatehouse/enroll/send", _, true) => send::for_enrollment(gw, session).await?,
        ("/.gatehouse/enroll/reset", _, true) => enroll::reset(gw, session).await?,
        ("/.gatehouse/recovery-codes/ack", _, true) => enroll::acknowledge(gw, session).await?,
        ("/.gatehouse/recovery-codes/regenerate", _, true) => {
            account::regenerate(gw, session).await?
        }
        ("/.gatehouse/mfa/disable", _, true) => account::disable_mfa(gw, session).await?,
        ("/.gatehouse/devices/forget", _, true) => account::forget_devices(gw, session).await?,
        ("/.gatehouse/account/factor/remove", _, true) => {
            account::remove_factor(gw, session).await?
        }
        ("/.gatehouse/account", true, _) => account::show(gw, session).await,
        ("/.gatehouse/admin", true, _) => admin::show(gw, session).await,
        ("/.gatehouse/admin/enforce", _, true) => admin::enforce(gw, session).await?,
        ("/.gatehouse/admin/reset", _, true) => admin::reset(gw, session).await?,
        ("/.gatehouse/admin/sign-out", _, true) => admin::sign_out(gw, session).await?,
        ("/.gatehouse/admin/audit", _, true) => admin::filter_audit(gw, session).await?,
        ("/.gatehouse/admin/tokens", _, true) => admin::create_token(gw, session).await?,
        ("/.gatehouse/admin/tokens/revoke", _, true) => admin::revoke_token(gw, session).await?,
        ("/.gatehouse/admin/tokens/replace", _, true) => admin::replace_token(gw, session).await?,
        ("/.gatehouse/admin/tokens/end-replaced", _, true) => {
            admin::end_replaced_token(gw, session).await?
        }
        ("/.gatehouse/account/sign-out-everywhere", _, true) => {
            login::sign_out_everywhere(gw, session).await?
        }
        ("/.gatehouse" | "/.gatehouse/", true, _) => Reply::redirect(302, "/.gatehouse/account"),
        _ => match allowed_methods(path) {
            Some(allow) => method_not_allowed(session, allow),
            None => Reply::error(
                session.req_header(),
                404,
                "not_found",
                "Not found",
                "There is no gateway page at this address.",
            ),
        },
    };
    reply.send(session).await
}

/// The methods a known portal path takes, for 405 answers.
fn allowed_methods(path: &str) -> Option<&'static str> {
    Some(match path {
        "/.gatehouse/healthz"
        | "/.gatehouse/readyz"
        | "/.gatehouse/static/gatehouse.css"
        | "/.gatehouse/account"
        | "/.gatehouse/admin"
        | "/.gatehouse/remind" => "GET, HEAD",
        "/.gatehouse/login"
        | "/.gatehouse/mfa"
        | "/.gatehouse/confirm"
        | "/.gatehouse/recover"
        | "/.gatehouse/enroll" => "GET, HEAD, POST",
        "/.gatehouse/logout"
        | "/.gatehouse/mfa/send"
        | "/.gatehouse/confirm/send"
        | "/.gatehouse/enroll/send"
        | "/.gatehouse/account/factor/remove"
        | "/.gatehouse/enroll/reset"
        | "/.gatehouse/recovery-codes/ack"
        | "/.gatehouse/recovery-codes/regenerate"
        | "/.gatehouse/mfa/disable"
        | "/.gatehouse/devices/forget"
        | "/.gatehouse/admin/enforce"
        | "/.gatehouse/admin/reset"
        | "/.gatehouse/admin/sign-out"
        | "/.gatehouse/admin/audit"
        | "/.gatehouse/admin/tokens"
        | "/.gatehouse/admin/tokens/revoke"
        | "/.gatehouse/admin/tokens/replace"
        | "/.gatehouse/admin/tokens/end-replaced"
        | "/.gatehouse/account/sign-out-everywhere" => "POST",
        _ => return None,
    })
}

fn method_not_allowed(session: &Session, allow: &str) -> Reply {
    Reply::error(
        session.req_header(),
        405,
        "method_not_allowed",
        "Method not allowed",
        "This page can't be used that way.",
    )
    .header("allow", allow)
}
