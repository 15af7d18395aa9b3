//! The account page and what it can change: MFA off, one email or SMS
//! factor off, new recovery codes, forgetting remembered devices.

use gatehouse_templates::{
    account_page, AccountMfa, AccountView, CodeChannel, ContactFactorRow, DeviceRow,
};

use super::enroll::codes_page;
use super::login::locked_message;
use super::notice::Notice;
use super::Request;
use super::{confirm, date, or_reply, Current};
use crate::auth::lifecycle::Refusal;
use crate::gateway::Gateway;
use crate::notify::{mask, Channel};
use crate::respond::unavailable_reply;
use crate::respond::Reply;
use gatehouse_templates::Route;

const HERE: &str = Route::Account.path();

/// What the account page says after an action.
fn notice(req: &Request) -> Option<&'static str> {
    Some(match Notice::of(req, Route::Account)? {
        Notice::MfaOff => "Two-factor authentication is off.",
        Notice::DevicesForgotten => "Every remembered browser will be asked for a code again.",
        Notice::FactorAdded => "Your new way to get codes is on.",
        Notice::FactorRemoved => "That way of getting codes is off.",
        _ => return None,
    })
}

async fn page(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    status: u16,
    error: Option<&str>,
) -> Reply {
    let user = current.user();
    let loaded = async {
        let status = gw.mfa.status(user).await?;
        let remaining = gw.mfa.recovery_remaining(user).await?;
        let devices = gw.mfa.devices(user).await?;
        let policy = gw.policy_of(&current.account).await?;
        let sent_to = gw.mfa.destinations(&current.account.user).await?;
        Ok::<_, crate::auth::mfa::MfaError>((status, remaining, devices, policy, sent_to))
    };
    let (mfa_status, remaining, devices, policy, sent_to) = match loaded.await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!("store unavailable: {e}");
            return unavailable_reply(req.head());
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
    // (channel, masked destination, since), so rows can borrow them.
    let contact: Vec<(Channel, String, String)> = mfa_status
        .contact
        .iter()
        .map(|(c, at)| {
            let to = sent_to.iter().find(|(r, _)| r == c).map_or_else(
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
    let can_add = gw
        .mfa
        .enrollable(&current.account.user)
        .iter()
        .any(|(c, _)| !mfa_status.has(*c));
    let signed_in_at = date(current.session.password_at_ms as i64);
    let nonce = gw.csrf_nonce(req);
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
            enforced: policy.required(),
            recovery_remaining: remaining,
            devices: &rows,
            remember_days: policy.remember_device_days,
        },
        notice: notice(req),
        error,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

pub async fn show(gw: &Gateway, req: &Request) -> Reply {
    match gw.require_user(req, false, HERE).await {
        Ok(current) => page(gw, req, &current, 200, None).await,
        Err(reply) => reply,
    }
}

pub async fn disable_mfa(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(gw.require_user(req, false, HERE).await);
    let actor = current.actor(gw, req);
    let error = match gw.lifecycle().turn_off(&actor, form.get("code")).await {
        Ok(removed) => {
            let reply =
                Reply::redirect(303, &Notice::MfaOff.location()).cookie(&gw.cookies.clear_device());
            return gw.with_session(reply, removed.session.as_ref());
        }
        Err(e) => or_reply!(confirm::unless_refused(req, e, HERE)),
    };
    let (status, error) = match error {
        Refusal::Enforced => (
            403,
            "Your organisation requires two-factor authentication, so it can't be turned off."
                .to_owned(),
        ),
        Refusal::WrongCode { replayed: true } => (
            401,
            "That code has already been used. Wait for a new one.".to_owned(),
        ),
        Refusal::Locked(wait) => (429, locked_message(wait)),
        Refusal::NotEnrolled => return Reply::redirect(303, HERE),
        _ => (
            401,
            "That code didn't work, so two-factor authentication is still on.".to_owned(),
        ),
    };
    page(gw, req, &current, status, Some(&error)).await
}

/// Removing one email or SMS factor while another factor remains.
pub async fn remove_factor(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(gw.require_user(req, false, HERE).await);
    let actor = current.actor(gw, req);
    let channel = Channel::from_name(form.get("channel"));
    let refusal = match gw.lifecycle().remove_factor(&actor, channel).await {
        Ok(_) => return Reply::redirect(303, &Notice::FactorRemoved.location()),
        Err(e) => or_reply!(confirm::unless_refused(req, e, HERE)),
    };
    let (status, error) = match refusal {
        Refusal::LastFactor => (
            409,
            "That is your only second factor: to stop using it, turn two-factor \
             authentication off, or add another way first.",
        ),
        _ => (400, "That way of getting codes isn't on for your account."),
    };
    page(gw, req, &current, status, Some(error)).await
}

pub async fn regenerate(gw: &Gateway, req: &Request) -> Reply {
    or_reply!(gw.checked_form(req));
    let current = or_reply!(gw.require_user(req, false, HERE).await);
    let actor = current.actor(gw, req);
    match gw.lifecycle().regenerate_recovery_codes(&actor).await {
        Ok(codes) => codes_page(gw, req, &codes, HERE),
        Err(e) => {
            or_reply!(confirm::unless_refused(req, e, HERE));
            let error = "Recovery codes come with two-factor authentication; set it up first.";
            page(gw, req, &current, 400, Some(error)).await
        }
    }
}

pub async fn forget_devices(gw: &Gateway, req: &Request) -> Reply {
    or_reply!(gw.checked_form(req));
    let current = or_reply!(gw.require_user(req, false, HERE).await);
    let actor = current.actor(gw, req);
    if let Err(e) = gw.lifecycle().forget_devices(&actor).await {
        or_reply!(confirm::unless_refused(req, e, HERE));
    }
    Reply::redirect(303, &Notice::DevicesForgotten.location()).cookie(&gw.cookies.clear_device())
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
