//! The second step of signing in: a code from the authenticator, or a
//! recovery code when the phone is gone; and the reminder for users who
//! have no second factor yet.

use gatehouse_templates::{
    mfa_challenge_page, mfa_reminder_page, recover_page, recovered_page, MfaChallengeView,
    RecoverView, RecoveredView, ReminderView,
};
use pingora::proxy::Session;

use super::login::locked_message;
use super::{or_reply, rd_query, with_rd, Current};
use crate::auth::mfa::CodeCheck;
use crate::gateway::Gateway;
use crate::limits::{Attempt, Verdict};
use crate::proxy::access::unavailable_reply;
use crate::respond::Reply;
use crate::session::now_ms;

const WRONG_CODE: &str =
    "That code didn't work. Enter the newest code from your authenticator app; \
                          if it keeps failing, check that your phone's clock is set automatically.";
const REPLAYED_CODE: &str =
    "That code has already been used. Wait for your app to show a new code, then enter it.";
const WRONG_RECOVERY: &str =
    "That recovery code didn't work. Each code works only once; check for typos.";

fn challenge(gw: &Gateway, session: &Session, status: u16, rd: &str, error: Option<&str>) -> Reply {
    let nonce = gw.csrf_nonce(session);
    let html = mfa_challenge_page(&MfaChallengeView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
        error,
        remember_days: gw.settings.mfa.remember_device_days,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

fn recover(gw: &Gateway, session: &Session, status: u16, rd: &str, error: Option<&str>) -> Reply {
    let nonce = gw.csrf_nonce(session);
    let html = recover_page(&RecoverView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
        error,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

/// Checks the failed-attempt limits for a code; `Some` is the reply.
async fn locked(
    gw: &Gateway,
    session: &Session,
    kind: Attempt,
    user: &str,
    page: impl Fn(&str) -> Reply,
) -> Option<Reply> {
    match gw.limiter.check(kind, user, gw.client_ip(session)).await {
        Ok(Verdict::Allowed) => None,
        Ok(Verdict::Locked(wait)) => Some(
            page(&locked_message(wait)).header("retry-after", &wait.as_secs().max(1).to_string()),
        ),
        Err(e) => {
            tracing::error!("rate limiter unavailable: {e}");
            Some(unavailable_reply(session.req_header()))
        }
    }
}

/// The session steps up: a new id with the second factor recorded.
async fn step_up(gw: &Gateway, session: &Session, current: &Current<'_>) -> Result<String, Reply> {
    let next = current.session.with_mfa(now_ms());
    gw.sessions
        .rotate(&current.id, &next, gw.expiry)
        .await
        .map(|id| gw.cookies.session_cookie(id.as_str()))
        .map_err(|e| {
            tracing::error!("session store unavailable: {e}");
            unavailable_reply(session.req_header())
        })
}

pub async fn show(gw: &Gateway, session: &mut Session) -> Reply {
    let rd = rd_query(session);
    let current = match gw
        .require_user(session, true, &with_rd("/.gatehouse/mfa", &rd))
        .await
    {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    if current.session.mfa_done() {
        return Reply::redirect(302, &rd);
    }
    match gw.mfa.status(current.user()).await {
        Ok(s) if s.enrolled_at.is_some() => challenge(gw, session, 200, &rd, None),
        Ok(_) => Reply::redirect(302, &with_rd("/.gatehouse/enroll", &rd)),
        Err(e) => {
            tracing::error!("store unavailable: {e}");
            unavailable_reply(session.req_header())
        }
    }
}

pub async fn submit(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    let form = or_reply!(gw.checked_form(session).await?);
    let rd = form.rd();
    let current = or_reply!(
        gw.require_user(session, true, &with_rd("/.gatehouse/mfa", &rd))
            .await
    );
    if current.session.mfa_done() {
        return Ok(Reply::redirect(303, &rd));
    }
    let user = current.user().to_owned();
    let ip = gw.client_ip(session);
    if let Some(reply) = locked(gw, session, Attempt::Totp, &user, |m| {
        challenge(gw, session, 429, &rd, Some(m))
    })
    .await
    {
        return Ok(reply);
    }
    let check = match gw.mfa.check_code(&user, form.get("code")).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("MFA check failed: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    };
    let error = match check {
        CodeCheck::Accepted => None,
        CodeCheck::Wrong => Some(WRONG_CODE),
        CodeCheck::Replayed => Some(REPLAYED_CODE),
        CodeCheck::NotEnrolled => {
            return Ok(Reply::redirect(303, &with_rd("/.gatehouse/enroll", &rd)))
        }
    };
    if let Some(error) = error {
        let event = if check == CodeCheck::Replayed {
            "code_replay_refused"
        } else {
            "mfa_challenge"
        };
        gw.mfa.audit(event, &user, ip, "failed").await;
        if let Err(e) = gw.limiter.record_failure(Attempt::Totp, &user, ip).await {
            tracing::error!("rate limiter unavailable: {e}");
        }
        return Ok(challenge(gw, session, 401, &rd, Some(error)));
    }
    let _ = gw.limiter.record_success(Attempt::Totp, &user, ip).await;
    gw.mfa.audit("mfa_challenge", &user, ip, "ok").await;
    let cookie = or_reply!(step_up(gw, session, &current).await);
    let mut reply = Reply::redirect(303, &rd).cookie(&cookie);
    if form.get("remember_device") == "1" && gw.settings.mfa.remember_device_days > 0 {
        let label = session
            .req_header()
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("a browser")
            .to_owned();
        match gw.mfa.remember_device(&user, &label).await {
            Ok(value) => {
                gw.mfa.audit("device_remembered", &user, ip, "ok").await;
                reply = reply.cookie(
                    &gw.cookies
                        .device_cookie(&value, gw.settings.mfa.remember_device_days),
                );
            }
            Err(e) => tracing::error!("could not remember the device: {e}"),
        }
    }
    Ok(reply)
}

pub async fn show_recover(gw: &Gateway, session: &mut Session) -> Reply {
    let rd = rd_query(session);
    match gw
        .require_user(session, true, &with_rd("/.gatehouse/recover", &rd))
        .await
    {
        Ok(current) if current.session.mfa_done() => Reply::redirect(302, &rd),
        Ok(_) => recover(gw, session, 200, &rd, None),
        Err(reply) => reply,
    }
}

pub async fn submit_recover(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    let form = or_reply!(gw.checked_form(session).await?);
    let rd = form.rd();
    let current = or_reply!(
        gw.require_user(session, true, &with_rd("/.gatehouse/recover", &rd))
            .await
    );
    if current.session.mfa_done() {
        return Ok(Reply::redirect(303, &rd));
    }
    let user = current.user().to_owned();
    let ip = gw.client_ip(session);
    if let Some(reply) = locked(gw, session, Attempt::Recovery, &user, |m| {
        recover(gw, session, 429, &rd, Some(m))
    })
    .await
    {
        return Ok(reply);
    }
    let used = match gw.mfa.use_recovery_code(&user, form.get("code")).await {
        Ok(used) => used,
        Err(e) => {
            tracing::error!("recovery code check failed: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    };
    if !used {
        gw.mfa
            .audit("recovery_code_used", &user, ip, "failed")
            .await;
        if let Err(e) = gw
            .limiter
            .record_failure(Attempt::Recovery, &user, ip)
            .await
        {
            tracing::error!("rate limiter unavailable: {e}");
        }
        return Ok(recover(gw, session, 401, &rd, Some(WRONG_RECOVERY)));
    }
    let _ = gw
        .limiter
        .record_success(Attempt::Recovery, &user, ip)
        .await;
    gw.mfa.audit("recovery_code_used", &user, ip, "ok").await;
    let cookie = or_reply!(step_up(gw, session, &current).await);
    let remaining = gw.mfa.recovery_remaining(&user).await.unwrap_or(0);
    let nonce = gw.csrf_nonce(session);
    let html = recovered_page(&RecoveredView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd: &rd,
        remaining,
    });
    Ok(gw
        .with_nonce(Reply::html(200, html), &nonce)
        .cookie(&cookie))
}

/// Shown after the password to users without MFA when it isn't enforced.
pub async fn reminder(gw: &Gateway, session: &mut Session) -> Reply {
    let rd = rd_query(session);
    if let Err(reply) = gw
        .require_user(session, false, &with_rd("/.gatehouse/remind", &rd))
        .await
    {
        return reply;
    }
    let nonce = gw.csrf_nonce(session);
    let html = mfa_reminder_page(&ReminderView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd: &rd,
    });
    gw.with_nonce(Reply::html(200, html), &nonce)
}
