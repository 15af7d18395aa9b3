//! `/.gatehouse/confirm`: a fresh proof before a sensitive action.
//!
//! Users with a second factor confirm with a code, on the challenge page in
//! its confirm mode ([`super::challenge::Step::Confirm`]). A user with no
//! factor has only their password to give; that form lives here. Either
//! way the session is rotated with the proof's time, and the user goes back
//! to `rd` to do the action again.

use gatehouse_templates::{confirm_password_page, ConfirmPasswordView};
use pingora::proxy::Session;

use super::challenge::step_up;
use super::form::Form;
use super::login::locked_message;
use super::{with_rd, Current};
use crate::auth::lifecycle::{LifecycleError, Refusal};
use crate::auth::PasswordError;
use crate::gateway::Gateway;
use crate::limits::{Attempt, Verdict};
use crate::proxy::access::unavailable_reply;
use crate::respond::Reply;
use crate::session::now_ms;
use crate::store::AuditEvent;

const WRONG_PASSWORD: &str = "That password didn't match. Enter the password you sign in with.";

/// Where a sensitive action without a fresh proof sends the browser: the
/// confirm page, then back to `rd` (the page the action was on).
pub(super) fn ask(rd: &str) -> Reply {
    Reply::redirect(303, &with_rd("/.gatehouse/confirm", rd))
}

/// The reply for a lifecycle operation that was not done because of the
/// store or the session store, or because it needs a proof first; `None`
/// for the refusals each page words for itself.
pub(super) fn unless_refused(
    session: &Session,
    e: LifecycleError,
    rd: &str,
) -> Result<Refusal, Reply> {
    match e {
        LifecycleError::Refused(Refusal::NeedsProof) => Err(ask(rd)),
        LifecycleError::Refused(Refusal::StepOwed) => {
            Err(Reply::redirect(303, &with_rd("/.gatehouse/mfa", rd)))
        }
        LifecycleError::Refused(refusal) => Ok(refusal),
        e => {
            tracing::error!("store unavailable: {e}");
            Err(unavailable_reply(session.req_header()))
        }
    }
}

pub(super) fn password_page(
    gw: &Gateway,
    session: &Session,
    status: u16,
    rd: &str,
    error: Option<&str>,
) -> Reply {
    let nonce = gw.csrf_nonce(session);
    let html = confirm_password_page(&ConfirmPasswordView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
        error,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

/// The password form posted by a user with no factor: checked at the
/// sign-in's cost and rate, then the session's password time moves on.
pub(super) async fn submit_password(
    gw: &Gateway,
    session: &Session,
    form: &Form,
    current: &Current,
    rd: &str,
) -> pingora::Result<Reply> {
    let user = current.user();
    let ip = gw.client_ip(session);
    match gw.limiter.check(Attempt::Password, user, ip).await {
        Ok(Verdict::Allowed) => {}
        Ok(Verdict::Locked(wait)) => {
            let page = password_page(gw, session, 429, rd, Some(&locked_message(wait)));
            return Ok(page.header("retry-after", &wait.as_secs().max(1).to_string()));
        }
        Err(e) => {
            tracing::error!("rate limiter unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    }
    let phc = Some(current.account.user.password_hash.as_str());
    let verified = match gw.passwords.verify(phc, form.get("password")).await {
        Ok(ok) => ok,
        Err(PasswordError::Busy) => {
            let reply = Reply::error(session.req_header(), 503, "busy", "Too many sign-ins right now",
                "The gateway is checking many passwords at once. Please try again in a few seconds.");
            return Ok(reply.header("retry-after", "5"));
        }
        Err(e) => {
            tracing::error!("password verification failed to run: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    };
    if !verified {
        gw.mfa
            .audit_detail(AuditEvent::Confirmed, user, ip, "failed", Some("password"))
            .await;
        if let Err(e) = gw.limiter.record_failure(Attempt::Password, user, ip).await {
            tracing::error!("rate limiter unavailable: {e}");
        }
        return Ok(password_page(gw, session, 401, rd, Some(WRONG_PASSWORD)));
    }
    gw.mfa
        .audit_detail(AuditEvent::Confirmed, user, ip, "ok", Some("password"))
        .await;
    let mut next = current.session.clone();
    next.password_at_ms = now_ms();
    match step_up(gw, session, &next, current, rd).await {
        Ok(cookie) => Ok(Reply::redirect(303, rd).cookie(&cookie)),
        Err(reply) => Ok(reply),
    }
}
