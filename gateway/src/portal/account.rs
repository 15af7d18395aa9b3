//! The account page and what it can change: MFA off, one email or SMS
//! factor off, new recovery codes, forgetting remembered devices.

use std::net::IpAddr;

use gatehouse_templates::{
    account_page, AccountMfa, AccountView, CodeChannel, ContactFactorRow, DeviceRow,
};
use pingora::proxy::Session;

use super::enroll::codes_page;
use super::login::locked_message;
use super::{date, or_reply, query_param, with_rd, Current};
use crate::auth::mfa::CodeCheck;
use crate::gateway::Gateway;
use crate::limits::{Attempt, Verdict};
use crate::notify::{mask, Channel};
use crate::proxy::access::unavailable_reply;
use crate::respond::Reply;
use crate::store::AuditEvent;

const HERE: &str = "/.gatehouse/account";

/// Notices come from a fixed list keyed by `done`, never echoed from the URL.
fn notice(done: Option<String>) -> Option<&'static str> {
    Some(match done?.as_str() {
        "mfa_off" => "Two-factor authentication is off.",
        "devices_forgotten" => "Every remembered browser will be asked for a code again.",
        "factor_added" => "Your new way to get codes is on.",
        "factor_removed" => "That way of getting codes is off.",
        _ => return None,
    })
}

async fn page(
    gw: &Gateway,
    session: &Session,
    current: &Current,
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
    let enabled_since = mfa_status.enrolled_at().map(date);
    let app_since = mfa_status.app_at.map(date);
    let reachable = gw.mfa.reachable(&current.account.user);
    // (channel, masked destination, since), so rows can borrow them.
    let contact: Vec<(Channel, String, String)> = mfa_status
        .contact
        .iter()
        .map(|(c, at)| {
            let to = reachable.iter().find(|(r, _)| r == c).map_or_else(
                || "(no longer configured)".to_owned(),
                |(_, to)| mask(*c, to),
            );
            (*c, to, date(*at))
        })
        .collect();
    let factor_count = contact.len() + usize::from(app_since.is_some());
    let contact_rows: Vec<ContactFactorRow> = contact
        .iter()
        .map(|(c, to, since)| ContactFactorRow {
            channel: CodeChannel {
                channel: c.as_str(),
                destination: to,
            },
            since,
            // The last factor goes only by turning MFA off, where the
            // organisation's requirement is checked.
            removable: factor_count > 1,
        })
        .collect();
    let can_add = reachable.iter().any(|(c, _)| !mfa_status.has(*c));
    let signed_in_at = date(current.session.password_at_ms as i64);
    let nonce = gw.csrf_nonce(session);
    let account = &current.account.user;
    let html = account_page(&AccountView {
        username: &account.username,
        display_name: account.display_name.as_deref().unwrap_or(&account.username),
        email: account.email.as_deref(),
        groups: &account.groups,
        is_admin: gw.is_admin(&current.account),
        csrf_token: &gw.csrf.token(&nonce.value),
        signed_in_at: &signed_in_at,
        mfa_done: current.session.mfa_done(),
        mfa: AccountMfa {
            enabled_since: enabled_since.as_deref(),
            app_since: app_since.as_deref(),
            contact_factors: &contact_rows,
            can_add,
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
            .audit(AuditEvent::MfaDisabled, &user, ip, "refused_enforced")
            .await;
        let error =
            "Your organisation requires two-factor authentication, so it can't be turned off.";
        return Ok(page(gw, session, &current, 403, Some(error)).await);
    }
    let has_app = match gw.mfa.status(&user).await {
        Ok(status) => status.has_app(),
        Err(e) => {
            tracing::error!("store unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    };
    if !has_app {
        return Ok(disable_without_app(gw, session, &current, ip).await);
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
        gw.mfa
            .audit(AuditEvent::MfaDisabled, &user, ip, "failed")
            .await;
        if let Err(e) = gw.limiter.record_failure(Attempt::Totp, &user, ip).await {
            tracing::error!("rate limiter unavailable: {e}");
        }
        return Ok(page(gw, session, &current, 401, Some(error)).await);
    }
    Ok(turn_off(gw, session, &user, ip).await)
}

/// Without an app there is no code to type on the spot: the second step
/// this session passed at sign-in stands in for it.
async fn disable_without_app(
    gw: &Gateway,
    session: &Session,
    current: &Current,
    ip: IpAddr,
) -> Reply {
    if !current.session.mfa_done() {
        return Reply::redirect(303, &with_rd("/.gatehouse/mfa", HERE));
    }
    turn_off(gw, session, current.user(), ip).await
}

async fn turn_off(gw: &Gateway, session: &Session, user: &str, ip: IpAddr) -> Reply {
    if let Err(e) = gw.mfa.remove(user).await {
        tracing::error!("store unavailable: {e}");
        return unavailable_reply(session.req_header());
    }
    gw.mfa.audit(AuditEvent::MfaDisabled, user, ip, "ok").await;
    Reply::redirect(303, "/.gatehouse/account?done=mfa_off").cookie(&gw.cookies.clear_device())
}

/// Removing one email or SMS factor while another factor remains.
pub async fn remove_factor(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    let form = or_reply!(gw.checked_form(session).await?);
    let current = or_reply!(gw.require_user(session, false, HERE).await);
    if !current.session.mfa_done() {
        return Ok(Reply::redirect(303, &with_rd("/.gatehouse/mfa", HERE)));
    }
    let user = current.user().to_owned();
    let ip = gw.client_ip(session);
    let status = match gw.mfa.status(&user).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("store unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    };
    let Some(channel) = Channel::from_name(form.get("channel")).filter(|c| status.has(*c)) else {
        let error = "That way of getting codes isn't on for your account.";
        return Ok(page(gw, session, &current, 400, Some(error)).await);
    };
    let others = status.contact.len() - 1 + usize::from(status.has_app());
    if others == 0 {
        let error = "That is your only second factor: to stop using it, turn two-factor \
                     authentication off, or add another way first.";
        return Ok(page(gw, session, &current, 409, Some(error)).await);
    }
    if let Err(e) = gw.mfa.remove_contact(&user, channel).await {
        tracing::error!("store unavailable: {e}");
        return Ok(unavailable_reply(session.req_header()));
    }
    gw.mfa
        .audit_detail(
            AuditEvent::MfaDisabled,
            &user,
            ip,
            "ok",
            Some(channel.as_str()),
        )
        .await;
    Ok(Reply::redirect(
        303,
        "/.gatehouse/account?done=factor_removed",
    ))
}

pub async fn regenerate(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    or_reply!(gw.checked_form(session).await?);
    let current = or_reply!(gw.require_user(session, false, HERE).await);
    let user = current.user().to_owned();
    let enrolled = matches!(gw.mfa.status(&user).await, Ok(s) if s.is_enrolled());
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
            AuditEvent::RecoveryCodesRegenerated,
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
        .audit(
            AuditEvent::DevicesForgotten,
            &user,
            gw.client_ip(session),
            "ok",
        )
        .await;
    Ok(
        Reply::redirect(303, "/.gatehouse/account?done=devices_forgotten")
            .cookie(&gw.cookies.clear_device()),
    )
}
