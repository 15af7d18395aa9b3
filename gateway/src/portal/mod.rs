//! Everything under `/.gatehouse/`: the pages Gatehouse serves itself.
//!
//! Only these routes read request bodies; proxied traffic streams through
//! untouched. State changes only on POST, and every POST carries a CSRF token.

mod account;
mod admin;
mod challenge;
mod confirm;
mod enroll;
pub(crate) mod form;
pub(crate) mod forward_auth;
mod health;
mod login;
mod notice;
mod phone;
mod request;
mod send;
mod sso;
#[cfg(test)]
mod test_support;

pub use request::Request;

use std::sync::Arc;

use gatehouse_templates::{Route, CSS};
use http::Method;
use pingora::proxy::Session;

use crate::auth::authorize::Decision;
use crate::auth::lifecycle::Actor;
use crate::cookies::cookie_value;
use crate::gateway::{Account, Gateway};
use crate::respond::unavailable_reply;
use crate::respond::Reply;
use crate::session::{self, SessionId};
use challenge::Step;
use form::{Form, FormError};
use pingora::http::RequestHeader;

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
    pub fn actor<'a>(&'a self, gw: &Gateway, req: &Request) -> Actor<'a> {
        self.actor_from(gw, req.client_ip())
    }

    /// [`Current::actor`], asking from `ip`.
    pub fn actor_from<'a>(&'a self, gw: &Gateway, ip: std::net::IpAddr) -> Actor<'a> {
        Actor {
            user: self.user(),
            session: &self.session,
            ip,
            is_admin: gw.is_admin(&self.account),
        }
    }
}

/// The `rd` query parameter, if it is a safe return path.
pub(crate) fn rd_query(gw: &Gateway, req: &Request) -> String {
    gw.return_to(req.query_param("rd").as_deref().unwrap_or(""))
}

/// Whether `path` (normalised) is a forward-auth endpoint.
pub fn is_forward_auth(path: &str) -> bool {
    matches!(
        Route::from_path(path),
        Some(Route::AuthForward | Route::AuthRequest)
    )
}

impl Gateway {
    /// `rd` if it is a safe return path: relative, or absolute on a
    /// configured app host (see [`crate::return_path::validate_on`]); else
    /// the default.
    pub(crate) fn return_to(&self, rd: &str) -> String {
        let is_app_host = |host: &str| self.is_app_host(host);
        crate::return_path::validate_on(rd, is_app_host)
            .unwrap_or(crate::return_path::DEFAULT)
            .to_owned()
    }

    /// Whether `host` (lower case, no port) is some app's `host`, or lies
    /// under `sessions.cookie_domain`.
    pub(crate) fn is_app_host(&self, host: &str) -> bool {
        self.cookies.shares_with(host) || self.live().is_app_host(host)
    }

    pub(crate) fn csrf_nonce(&self, req: &Request) -> Nonce {
        match req.cookie(&self.cookies.csrf).filter(|v| !v.is_empty()) {
            Some(v) => Nonce {
                value: v.to_owned(),
                is_new: false,
            },
            None => Nonce {
                value: crate::csrf::Csrf::new_nonce(),
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

    /// The current session, if the request's cookie names a live one.
    pub(crate) async fn current_session(
        &self,
        head: &RequestHeader,
    ) -> Result<Option<(SessionId, session::Session)>, session::SessionError> {
        let Some(id) = cookie_value(head, &self.cookies.session).and_then(SessionId::parse) else {
            return Ok(None);
        };
        Ok(self.sessions.get(&id, self.expiry).await?.map(|s| (id, s)))
    }

    /// The signed-in user, or the reply that sends them to sign in. With
    /// `allow_owed`, a session still owing a second step is accepted (the
    /// pages that collect that step); otherwise it is sent to pay it.
    pub(crate) async fn require_user(
        &self,
        req: &Request,
        allow_owed: bool,
        here: &str,
    ) -> Result<Current, Reply> {
        let found = match self.current_session(req.head()).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!("session lookup failed: {e}");
                return Err(unavailable_reply(req.head()));
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
            return Err(Reply::redirect(302, &Route::Login.with_rd(here)));
        };
        if !allow_owed {
            match self.step_owed(&current.session) {
                None => {}
                Some(Decision::Enroll) => {
                    return Err(Reply::redirect(302, &Route::Enroll.with_rd(here)))
                }
                Some(_) => return Err(Reply::redirect(302, &Route::Mfa.with_rd(here))),
            }
        }
        Ok(current)
    }

    /// The POSTed form, once its CSRF token checks out; the error is the reply.
    pub(crate) fn checked_form<'r>(&self, req: &'r Request) -> Result<&'r Form, Reply> {
        let form = match req.form() {
            Some(Ok(form)) => form,
            Some(Err(e)) => {
                return Err(Reply::error(
                    req.head(),
                    400,
                    "bad_request",
                    "Bad request",
                    &e.to_string(),
                ))
            }
            None => {
                return Err(Reply::error(
                    req.head(),
                    400,
                    "bad_request",
                    "Bad request",
                    "This page takes a form.",
                ))
            }
        };
        let nonce = self.csrf_nonce(req);
        if nonce.is_new || !self.csrf.verify(&nonce.value, form.get("csrf_token")) {
            let reply = Reply::error(req.head(), 403, "csrf", "This form has expired",
                "For your security the form could not be accepted. Go back, reload the page and try again.");
            return Err(self.with_nonce(reply, &nonce));
        }
        Ok(form)
    }
}

/// Unwraps a `Result<T, Reply>`, returning the reply from the handler.
macro_rules! or_reply {
    ($e:expr) => {
        or_reply!($e, std::convert::identity)
    };
    // With `Err`: for helpers that hand the reply on as `Err(reply)`.
    ($e:expr, $wrap:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return $wrap(reply),
        }
    };
}
pub(crate) use or_reply;

/// Answers a request under `/.gatehouse/` (its normalised `path`): the
/// route table picks the handler, or the 404 or 405.
pub async fn handle(gw: &Gateway, session: &mut Session, path: &str) -> pingora::Result<()> {
    let peer_trusted = crate::client_ip::peer_ip(session)
        .is_some_and(|ip| gw.settings.server.trusted_proxies.trusts(ip));
    let req = Request::new(session.req_header().clone(), gw.client_ip(session))
        .from_trusted_proxy(peer_trusted);
    let Some(route) = Route::from_path(path) else {
        let reply = Reply::error(
            req.head(),
            404,
            "not_found",
            "Not found",
            "There is no gateway page at this address.",
        );
        return reply.send(session).await;
    };
    let methods = route.methods();
    let method = req.method();
    let post = *method == Method::POST && methods.post();
    let get = (*method == Method::GET || *method == Method::HEAD) && methods.get();
    if !post && !get && !methods.any() {
        return method_not_allowed(&req, methods.allow())
            .send(session)
            .await;
    }
    // Only portal routes read a body, and only forms are read.
    let req = if post {
        let max = gw.settings.server.request_limits.form_bytes;
        match form::read(session, max).await {
            Err(FormError::Read(e)) => return Err(e),
            Err(FormError::TooLarge { max }) => {
                return form_too_large(&req, max).send(session).await
            }
            form => req.with_form(form),
        }
    } else {
        req
    };
    dispatch(gw, &req, route, post).await.send(session).await
}

/// The handler of `route` for a GET (or HEAD), or for a POST.
async fn dispatch(gw: &Gateway, req: &Request, route: Route, post: bool) -> Reply {
    match (route, post) {
        (Route::Root, _) => Reply::redirect(302, Route::Account.path()),
        (Route::Healthz, _) => health::healthz(gw).await,
        (Route::Readyz, _) => health::readyz(gw).await,
        (Route::Css, _) => Reply::text(200, "text/css; charset=utf-8", CSS)
            .header("cache-control", "public, max-age=3600"),
        (Route::Login, false) => login::show(gw, req).await,
        (Route::Login, true) => login::submit(gw, req).await,
        (Route::Logout, _) => login::logout(gw, req).await,
        (Route::Mfa, false) => challenge::show(gw, req, Step::SignIn).await,
        (Route::Mfa, true) => challenge::submit(gw, req, Step::SignIn).await,
        (Route::MfaSend, _) => send::for_challenge(gw, req, Step::SignIn).await,
        (Route::Confirm, false) => challenge::show(gw, req, Step::Confirm).await,
        (Route::Confirm, true) => challenge::submit(gw, req, Step::Confirm).await,
        (Route::Sso, _) => sso::handle(gw, req).await,
        (Route::ConfirmSend, _) => send::for_challenge(gw, req, Step::Confirm).await,
        (Route::Recover, false) => challenge::show_recover(gw, req).await,
        (Route::Recover, true) => challenge::submit_recover(gw, req).await,
        (Route::Remind, _) => challenge::reminder(gw, req).await,
        (Route::Enroll, false) => enroll::show(gw, req).await,
        (Route::Enroll, true) => enroll::submit(gw, req).await,
        (Route::EnrollSend, _) => send::for_enrollment(gw, req).await,
        (Route::EnrollReset, _) => enroll::reset(gw, req).await,
        (Route::RecoveryAck, _) => enroll::acknowledge(gw, req).await,
        (Route::RecoveryRegenerate, _) => account::regenerate(gw, req).await,
        (Route::MfaDisable, _) => account::disable_mfa(gw, req).await,
        (Route::DevicesForget, _) => account::forget_devices(gw, req).await,
        (Route::FactorRemove, _) => account::remove_factor(gw, req).await,
        (Route::Account, _) => account::show(gw, req).await,
        (Route::SignOutEverywhere, _) => login::sign_out_everywhere(gw, req).await,
        (Route::Admin, _) => admin::show(gw, req).await,
        (Route::AdminEnforce, _) => admin::enforce(gw, req).await,
        (Route::AdminMfa, false) => admin::switch_page(gw, req).await,
        (Route::AdminMfa, true) => admin::switch(gw, req).await,
        (Route::AdminPolicy, _) => admin::set_policy(gw, req).await,
        (Route::AdminReset, _) => admin::reset(gw, req).await,
        (Route::AdminSignOut, _) => admin::sign_out(gw, req).await,
        (Route::AdminAudit, _) => admin::filter_audit(gw, req).await,
        (Route::AdminTokens, _) => admin::create_token(gw, req).await,
        (Route::AdminTokenRevoke, _) => admin::revoke_token(gw, req).await,
        (Route::AdminTokenReplace, _) => admin::replace_token(gw, req).await,
        (Route::AdminTokenEndReplaced, _) => admin::end_replaced_token(gw, req).await,
        (Route::AuthForward, _) => {
            forward_auth::answer(gw, req, forward_auth::Flavour::Forward).await
        }
        (Route::AuthRequest, _) => {
            forward_auth::answer(gw, req, forward_auth::Flavour::Request).await
        }
    }
}

/// The 413 for a form over `server.max_form_bytes`: no page reads it.
fn form_too_large(req: &Request, max: usize) -> Reply {
    Reply::error(
        req.head(),
        413,
        "form_too_large",
        "Form too large",
        &format!("The form is larger than {max} bytes, the most this gateway accepts."),
    )
}

fn method_not_allowed(req: &Request, allow: &str) -> Reply {
    Reply::error(
        req.head(),
        405,
        "method_not_allowed",
        "Method not allowed",
        "This page can't be used that way.",
    )
    .header("allow", allow)
}
