//! `/.gatehouse/confirm`: a fresh proof before a sensitive action.
//!
//! Users with a second factor confirm with a code, on the challenge page in
//! its confirm mode ([`super::challenge::Step::Confirm`]). A user with no
//! factor has only their password to give; that form lives here. Either
//! way the session is rotated with the proof's time, and the user goes back
//! to `rd` to do the action again.

use gatehouse_templates::Route;
use gatehouse_templates::{confirm_password_page, ConfirmPasswordView};

use super::form::Form;
use super::login::{locked_message, step_up, verify_password};
use super::Request;
use super::{or_reply, Current};
use crate::auth::lifecycle::{LifecycleError, Refusal};
use crate::gateway::Gateway;
use crate::limits::{Attempt, Verdict};
use crate::respond::unavailable_reply;
use crate::respond::Reply;
use crate::session::now_ms;
use crate::store::{AuditEvent, AuditOutcome};

const WRONG_PASSWORD: &str = "That password didn't match. Enter the password you sign in with.";

/// Where a sensitive action without a fresh proof sends the browser: the
/// confirm page, then back to `rd` (the page the action was on).
pub(super) fn ask(rd: &str) -> Reply {
    Reply::redirect(303, &Route::Confirm.with_rd(rd))
}

/// The reply for a lifecycle operation that was not done because of the
/// store or the session store, or because it needs a proof first; `None`
/// for the refusals each page words for itself.
pub(super) fn unless_refused(req: &Request, e: LifecycleError, rd: &str) -> Result<Refusal, Reply> {
    match e {
        LifecycleError::Refused(Refusal::NeedsProof) => Err(ask(rd)),
        LifecycleError::Refused(Refusal::StepOwed) => {
            Err(Reply::redirect(303, &Route::Mfa.with_rd(rd)))
        }
        LifecycleError::Refused(refusal) => Ok(refusal),
        e => {
            tracing::error!("store unavailable: {e}");
            Err(unavailable_reply(req.head()))
        }
    }
}

pub(super) fn password_page(
    gw: &Gateway,
    req: &Request,
    status: u16,
    rd: &str,
    error: Option<&str>,
) -> Reply {
    let nonce = gw.csrf_nonce(req);
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
    req: &Request,
    form: &Form,
    current: &Current,
    rd: &str,
) -> Reply {
    let user = current.user();
    let ip = req.client_ip();
    match gw.limiter.check(Attempt::Password, user, ip).await {
        Ok(Verdict::Allowed) => {}
        Ok(Verdict::Locked(wait)) => {
            let page = password_page(gw, req, 429, rd, Some(&locked_message(wait)));
            return page.header("retry-after", &wait.as_secs().max(1).to_string());
        }
        Err(e) => {
            tracing::error!("rate limiter unavailable: {e}");
            return unavailable_reply(req.head());
        }
    }
    let phc = Some(current.account.user.password_hash.as_str());
    let password = form.get("password");
    let verified = or_reply!(verify_password(gw, req, phc, password).await);
    if !verified {
        gw.mfa
            .audit_detail(
                AuditEvent::Confirmed,
                user,
                ip,
                AuditOutcome::Failed,
                Some("password"),
            )
            .await;
        if let Err(e) = gw.limiter.record_failure(Attempt::Password, user, ip).await {
            tracing::error!("rate limiter unavailable: {e}");
        }
        return password_page(gw, req, 401, rd, Some(WRONG_PASSWORD));
    }
    gw.mfa
        .audit_detail(
            AuditEvent::Confirmed,
            user,
            ip,
            AuditOutcome::Ok,
            Some("password"),
        )
        .await;
    let mut next = current.session.clone();
    next.password_at_ms = now_ms();
    match step_up(gw, req, &next, current, rd).await {
        Ok(cookie) => Reply::redirect(303, rd).cookie(&cookie),
        Err(reply) => reply,
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_templates::Route;

    use super::*;
    use crate::portal::challenge::{self, Step};
    use crate::portal::test_support::{gateway, location, request, signed_in};

    #[tokio::test]
    async fn a_user_with_no_factor_confirms_with_the_password() {
        let (gw, _dir) = gateway();
        let alice = signed_in(&gw).await;
        let rd = Route::Account.path();
        let page = request(&gw, "GET", &Route::Confirm.with_rd(rd), Some(&alice), &[]);
        let shown = challenge::show(&gw, &page, Step::Confirm).await;
        assert_eq!(shown.status, 200);

        let wrong = request(
            &gw,
            "POST",
            Route::Confirm.path(),
            Some(&alice),
            &[("password", "not it"), ("rd", rd)],
        );
        assert_eq!(
            challenge::submit(&gw, &wrong, Step::Confirm).await.status,
            401
        );

        let right = request(
            &gw,
            "POST",
            Route::Confirm.path(),
            Some(&alice),
            &[
                ("password", crate::config::tests::GOOD_PASSWORD),
                ("rd", rd),
            ],
        );
        let confirmed = challenge::submit(&gw, &right, Step::Confirm).await;
        assert_eq!((confirmed.status, location(&confirmed)), (303, Some(rd)));
    }

    #[test]
    fn without_a_fresh_proof_an_action_leads_to_the_confirm_page_and_back() {
        let reply = ask("/.gatehouse/admin");
        assert_eq!(reply.status, 303);
        assert_eq!(
            location(&reply),
            Some("/.gatehouse/confirm?rd=%2F%2Egatehouse%2Fadmin")
        );
    }
}
