//! Signing in and out.
//!
//! An unknown username and a wrong password get the same words, the same
//! status and the same argon2 work, so neither the page nor its timing says
//! which usernames exist. Lockouts are keyed by the name as typed for the
//! same reason.

use gatehouse_templates::Route;
use gatehouse_templates::{login_page, LoginView};

use super::Request;
use super::{or_reply, rd_query, Current, Nonce};
use crate::auth::mfa::MfaError;
use crate::auth::PasswordError;
use crate::cookies::cookie_value;
use crate::gateway::{Account, Gateway};
use crate::limits::{Attempt, Verdict};
use crate::metrics::METRICS;
use crate::respond::unavailable_reply;
use crate::respond::Reply;
use crate::session::{now_ms, Owed, Proof, Session as UserSession, SessionError};
use crate::store::{AuditEvent, AuditOutcome};

const BAD_CREDENTIALS: &str = "Incorrect username or password.";

fn page(
    gw: &Gateway,
    nonce: &Nonce,
    status: u16,
    rd: &str,
    username: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Reply {
    let html = login_page(&LoginView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
        username,
        error,
        notice,
    });
    gw.with_nonce(Reply::html(status, html), nonce)
}

/// The lockout message: when to come back, and nothing about the account.
pub(super) fn locked_message(wait: std::time::Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    format!(
        "Too many failed sign-in attempts. Try again in {minutes} minute{}.",
        if minutes == 1 { "" } else { "s" }
    )
}

pub async fn show(gw: &Gateway, req: &Request) -> Reply {
    let nonce = gw.csrf_nonce(req);
    let rd = rd_query(gw, req);
    let notice = if req.query_param("logged_out").is_some() {
        Some("You have been signed out.")
    } else if req.query_param("ended").is_some() {
        Some("Your session was ended while you were signing in. Please sign in again.")
    } else {
        None
    };
    page(gw, &nonce, 200, &rd, "", None, notice)
}

pub async fn submit(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let nonce = gw.csrf_nonce(req);
    let rd = &form.rd(gw);
    let username = form.get("username").trim();
    let password = form.get("password");
    let ip = req.client_ip();

    match gw.limiter.check(Attempt::Password, username, ip).await {
        Ok(Verdict::Allowed) => {}
        Ok(Verdict::Locked(wait)) => {
            METRICS.logins.with_label_values(&["locked"]).inc();
            return page(
                gw,
                &nonce,
                429,
                rd,
                username,
                Some(&locked_message(wait)),
                None,
            )
            .header("retry-after", &wait.as_secs().max(1).to_string());
        }
        Err(e) => {
            tracing::error!("rate limiter unavailable: {e}");
            return unavailable_reply(req.head());
        }
    }

    // Read before anything else about the user, so that ending their
    // sessions from here on also ends this sign-in.
    let generation = match gw.sessions.generation(username).await {
        Ok(g) => g,
        Err(e) => return sessions_down(req, e),
    };
    let account = gw.accounts.get(username);
    let phc = account.as_ref().map(|a| a.user.password_hash.as_str());
    let verified = or_reply!(verify_password(gw, req, phc, password).await);
    let Some(account) = account.filter(|_| verified) else {
        METRICS.logins.with_label_values(&["failure"]).inc();
        gw.mfa
            .audit(AuditEvent::Login, username, ip, AuditOutcome::Failed)
            .await;
        if let Err(e) = gw
            .limiter
            .record_failure(Attempt::Password, username, ip)
            .await
        {
            tracing::error!("rate limiter unavailable: {e}");
            return unavailable_reply(req.head());
        }
        return page(gw, &nonce, 401, rd, username, Some(BAD_CREDENTIALS), None);
    };
    if account.user.disabled {
        METRICS.logins.with_label_values(&["disabled"]).inc();
        gw.mfa
            .audit(AuditEvent::Login, username, ip, AuditOutcome::Disabled)
            .await;
        return Reply::error(
            req.head(),
            403,
            "account_disabled",
            "Account disabled",
            "This account is disabled. Contact your administrator if you think this is a mistake.",
        );
    }
    if let Err(e) = gw
        .limiter
        .record_success(Attempt::Password, username, ip)
        .await
    {
        tracing::warn!("could not reset the failure counter: {e}");
    }
    METRICS.logins.with_label_values(&["success"]).inc();
    gw.mfa
        .audit(AuditEvent::Login, username, ip, AuditOutcome::Ok)
        .await;
    after_password(gw, req, &account, rd, generation).await
}

/// Checks a password on the bounded argon2 pool; `phc` is `None` for an
/// unknown user, which costs the same work. The error is the reply: the
/// pool is busy, or the check couldn't run.
pub(super) async fn verify_password(
    gw: &Gateway,
    req: &Request,
    phc: Option<&str>,
    password: &str,
) -> Result<bool, Reply> {
    match gw.passwords.verify(phc, password).await {
        Ok(ok) => Ok(ok),
        Err(PasswordError::Busy) => Err(Reply::error(
            req.head(),
            503,
            "busy",
            "Too many sign-ins right now",
            "The gateway is checking many passwords at once. Please try again in a few seconds.",
        )
        .header("retry-after", "5")),
        Err(e) => {
            tracing::error!("password verification failed to run: {e}");
            Err(Reply::error(
                req.head(),
                500,
                "internal_error",
                "Something went wrong",
                "Your password could not be checked. Please try again.",
            ))
        }
    }
}

/// The password is right: start a session and send the user to the step
/// they owe, if any, under their organisation's policy. Where MFA is off,
/// none. A remembered browser skips the code; a user with a factor the
/// organisation allows owes the code; where MFA is required a user
/// without one owes enrollment; otherwise they see a reminder they may
/// postpone.
async fn after_password(
    gw: &Gateway,
    req: &Request,
    account: &Account,
    rd: &str,
    generation: u64,
) -> Reply {
    let user = &account.user.username;
    let ip = req.client_ip();
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::error!("store unavailable during sign-in: {e}");
        unavailable_reply(req.head())
    };
    let loaded = async {
        let policy = gw.policy_of(account).await?;
        Ok::<_, MfaError>((gw.mfa.status(user).await?.within(policy.methods), policy))
    };
    let (status, policy) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return unavailable(&e),
    };
    let now = now_ms();
    let mut next = UserSession::after_password(user, now, generation);
    let location = if !policy.offered() {
        // The organisation turned MFA off: nobody is asked for a code.
        rd.to_owned()
    } else if status.is_enrolled() {
        let days = policy.remember_device_days;
        let remembered = match cookie_value(req.head(), &gw.cookies.device) {
            Some(cookie) => match gw.mfa.device_remembered(user, cookie, days).await {
                Ok(ok) => ok,
                Err(e) => return unavailable(&e),
            },
            None => false,
        };
        if remembered {
            next = next.with_proof(now, Proof::Device);
            gw.mfa
                .audit(
                    AuditEvent::MfaChallenge,
                    user,
                    ip,
                    AuditOutcome::SkippedRememberedDevice,
                )
                .await;
            rd.to_owned()
        } else {
            next.owed = Owed::Challenge;
            Route::Mfa.with_rd(rd)
        }
    } else if policy.required() {
        // No factor, or none the organisation still allows.
        next.owed = Owed::Enrollment;
        Route::Enroll.with_rd(rd)
    } else {
        Route::Remind.with_rd(rd)
    };

    // A new id at every step up: a session id seen before login is worthless after.
    let created = match gw.current_session(req.head()).await {
        Ok(Some((old, _))) => gw.sessions.rotate(&old, &next, gw.expiry).await,
        Ok(None) => gw.sessions.create(&next, gw.expiry).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(id) => Reply::redirect(303, &location).cookie(&gw.cookies.session_cookie(id.as_str())),
        Err(SessionError::Ended) => {
            gw.mfa
                .audit(AuditEvent::Login, user, ip, AuditOutcome::EndedMeanwhile)
                .await;
            ended_meanwhile(gw, rd)
        }
        Err(e) => unavailable(&e),
    }
}

pub async fn logout(gw: &Gateway, req: &Request) -> Reply {
    or_reply!(gw.checked_form(req));
    match gw.current_session(req.head()).await {
        Ok(Some((id, s))) => {
            if let Err(e) = gw.sessions.delete(&id).await {
                return sessions_down(req, e);
            }
            gw.mfa
                .audit(
                    AuditEvent::Logout,
                    &s.user,
                    req.client_ip(),
                    AuditOutcome::Ok,
                )
                .await;
        }
        Ok(None) => {}
        Err(e) => return sessions_down(req, e),
    }
    signed_out(gw)
}

/// Ends every session of the signed-in user, this one included, on every
/// replica: for the user who signed in somewhere they shouldn't have.
pub async fn sign_out_everywhere(gw: &Gateway, req: &Request) -> Reply {
    or_reply!(gw.checked_form(req));
    let current = or_reply!(gw.require_user(req, false, Route::Account.path()).await);
    match gw
        .lifecycle()
        .sign_out_everywhere(&current.actor(gw, req))
        .await
    {
        Ok(_) => signed_out(gw),
        Err(e) => sessions_down(req, e),
    }
}

/// The session steps up: a new id with the second factor recorded, and
/// how it was proven.
pub(super) async fn step_up(
    gw: &Gateway,
    req: &Request,
    next: &crate::session::Session,
    current: &Current,
    rd: &str,
) -> Result<String, Reply> {
    match gw.sessions.rotate(&current.id, next, gw.expiry).await {
        Ok(id) => Ok(gw.cookies.session_cookie(id.as_str())),
        Err(SessionError::Ended) => Err(ended_meanwhile(gw, rd)),
        Err(e) => {
            tracing::error!("session store unavailable: {e}");
            Err(unavailable_reply(req.head()))
        }
    }
}

/// A sign-in or step-up that lost a race with a sign-out or an admin's
/// reset: no session was saved, so back to the sign-in page, which says why.
pub(super) fn ended_meanwhile(gw: &Gateway, rd: &str) -> Reply {
    Reply::redirect(303, &(Route::Login.with_rd(rd) + "&ended=1"))
        .cookie(&gw.cookies.clear_session())
}

/// The sign-in page with its "signed out" notice, and the cookie gone.
fn signed_out(gw: &Gateway) -> Reply {
    Reply::redirect(303, "/.gatehouse/login?logged_out=1").cookie(&gw.cookies.clear_session())
}

fn sessions_down(req: &Request, e: impl std::fmt::Display) -> Reply {
    tracing::error!("session store unavailable: {e}");
    unavailable_reply(req.head())
}
