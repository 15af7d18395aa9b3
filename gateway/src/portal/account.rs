//! The account page and what it can change: MFA off, new recovery codes,
//! forgetting remembered devices.

use gatehouse_templates::{account_page, AccountMfa, AccountView, DeviceRow};
use pingora::proxy::Session;

use super::enroll::codes_page;
use super::login::locked_message;
use super::{date, or_reply, query_param, Current};
use crate::auth::mfa::CodeCheck;
use crate::gateway::Gateway;
use crate::limits::{Attempt, Verdict};
use crate::proxy::access::unavailable_reply;
use crate::respond::Reply;

const HERE: &str = "/.gatehouse/account";

/// Notices come from a fixed list keyed by `done`, never echoed from the URL.
fn notice(done: Option<String>) -> Option<&'static str> {
    Some(match done?.as_str() {
        "mfa_off" => "Two-factor authentication is off.",
        "devices_forgotten" => "Every remembered browser will be asked for a code again.",
        _ => return None,
    })
}

async fn page(
    gw: &Gateway,
    session: &Session,
    current: &Current<'_>,
    status: u16,
    error: Option<&str>,
) -> Reply {
    let user = current.user();
    let loaded = async {
        let status = gw.mfa.status(user).await?;
        let remaining = gw.mfa.recovery_remaining(user).await?;
        let devices = gw.mfa.devices(user).await?;
        let enforcement = gw.mfa.enforcement().await?;
        Ok::<_, crate::auth::mfa::MfaError>((status, remaining, devices, enforcement))
    };
    let (mfa_status, remaining, devices, enforcement) = match loaded.await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!("store unavailable: {e}");
            return unavailable_reply(session.req_header());
        }
    };
    let dates: Vec<(String, Option<String>, String)> = devices
        .iter()
        .map(|d| {
            (
                date(d.created_at),
                d.last_used_at.map(date),
                date(d.expires_at),
            )
        })
        .collect();
    let rows: Vec<DeviceRow> = devices
        .iter()
        .zip(&dates)
        .map(|(d, (created, last, expires))| DeviceRow {
            label: &d.label,
            created,
            last_used: last.as_deref(),
            expires,
        })
        .collect();
    let enabled_since = mfa_status.enrolled_at.map(date);
    let signed_in_at = date(current.session.password_at_ms as i64);
    let nonce = gw.csrf_nonce(session);
    let account = &current.account.user;
    let html = account_page(&AccountView {
        username: &account.username,
        display_name: account.display_name.as_deref().unwrap_or(&account.username),
        email: account.email.as_deref(),
        groups: &account.groups,
        is_admin: gw.is_admin(current.account),
        csrf_token: &gw.csrf.token(&nonce.value),
        signed_in_at: &signed_in_at,
        mfa_done: current.session.mfa_done(),
        mfa: AccountMfa {
            enabled_since: enabled_since.as_deref(),
            enforced: enforcement.is_on(),
            recovery_remaining: remaining,
            devices: &rows,
            remember_days: gw.settings.mfa.remember_device_days,
        },
        notice: notice(query_param(session, "done")),
        error,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

pub async fn show(gw: &Gateway, session: &mut Session) -> Reply {
    match gw.require_user(session, false, HERE).await {
        Ok(current) => page(gw, session, &current, 200, None).await,
        Err(reply) => reply,
    }
}

pub async fn disable_mfa(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    let form = or_reply!(gw.checked_form(session).await?);
    let current = or_reply!(gw.require_user(session, false, HERE).await);
    let user = current.user().to_owned();
    let ip = gw.client_ip(session);
    let enforced = match gw.mfa.enforcement().await {
        Ok(e) => e.is_on(),
        Err(e) => {
            tracing::error!("store unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    };
    if enforced {
        gw.mfa
            .audit("mfa_disabled", &user, ip, "refused_enforced")
            .await;
        let error =
            "Your organisation requires two-factor authentication, so it can't be turned off.";
        return Ok(page(gw, session, &current, 403, Some(error)).await);
    }
    // Guessing codes here must cost what it costs on the challenge.
    match gw.limiter.check(Attempt::Totp, &user, ip).await {
        Ok(Verdict::Allowed) => {}
        Ok(Verdict::Locked(wait)) => {
            let error = locked_message(wait);
            return Ok(page(gw, session, &current, 429, Some(&error)).await);
        }
        Err(e) => {
            tracing::error!("rate limiter unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    }
    let error = match gw.mfa.check_code(&user, form.get("code")).await {
        Ok(CodeCheck::Accepted) => None,
        Ok(CodeCheck::NotEnrolled) => return Ok(Reply::redirect(303, HERE)),
        Ok(CodeCheck::Replayed) => Some("That code has already been used. Wait for a new one."),
        Ok(CodeCheck::Wrong) => {
            Some("That code didn't work, so two-factor authentication is still on.")
        }
        Err(e) => {
            tracing::error!("MFA check failed: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    };
    if let Some(error) = error {
        gw.mfa.audit("mfa_disabled", &user, ip, "failed").await;
        if let Err(e) = gw.limiter.record_failure(Attempt::Totp, &user, ip).await {
            tracing::error!("rate limiter unavailable: {e}");
        }
        return Ok(page(gw, session, &current, 401, Some(error)).await);
    }
    if let Err(e) = gw.mfa.remove(&user).await {
        tracing::error!("store unavailable: {e}");
        return Ok(unavailable_reply(session.req_header()));
    }
    gw.mfa.audit("mfa_disabled", &user, ip, "ok").await;
    Ok(Reply::redirect(303, "/.gatehouse/account?done=mfa_off").cookie(&gw.cookies.clear_device()))
}

pub async fn regenerate(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    or_reply!(gw.checked_form(session).await?);
    let current = or_reply!(gw.require_user(session, false, HERE).await);
    let user = current.user().to_owned();
    let enrolled = matches!(gw.mfa.status(&user).await, Ok(s) if s.enrolled_at.is_some());
    if !enrolled || !current.session.mfa_done() {
        let error = "Recovery codes come with two-factor authentication; set it up first.";
        return Ok(page(gw, session, &current, 400, Some(error)).await);
    }
    let codes = match gw.mfa.regenerate_recovery_codes(&user).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("store unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    };
    gw.mfa
        .audit(
            "recovery_codes_regenerated",
            &user,
            gw.client_ip(session),
            "ok",
        )
        .await;
    Ok(codes_page(gw, session, &codes, HERE))
}

pub async fn forget_devices(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    or_reply!(gw.checked_form(session).await?);
    let current = or_reply!(gw.require_user(session, false, HERE).await);
    let user = current.user().to_owned();
    if let Err(e) = gw.mfa.forget_devices(&user).await {
        tracing::error!("store unavailable: {e}");
        return Ok(unavailable_reply(session.req_header()));
    }
    gw.mfa
        .audit("devices_forgotten", &user, gw.client_ip(session), "ok")
        .await;
    Ok(
        Reply::redirect(303, "/.gatehouse/account?done=devices_forgotten")
            .cookie(&gw.cookies.clear_device()),
    )
}
