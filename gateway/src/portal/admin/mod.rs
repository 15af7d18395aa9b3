//! The admin console: the organisation's MFA policy, who has MFA, the
//! reset for a user who lost their phone, and service tokens ([`tokens`]).
//!
//! Only members of `users.admin_group` get in, and only with the second
//! factor done on this session: the console can strip anyone's MFA, so a
//! stolen password alone must not reach it. Each admin sees only their own
//! organisation and those below it ([`scope`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use gatehouse_templates::Route;
use gatehouse_templates::{
    admin_page, error_page, AdminUserRow, AdminView, AuditRow, AuditView, Enforcement as Shown,
    ErrorView, UserMfa,
};

use super::notice::Notice;
use super::{confirm, date, or_reply, Current};
use crate::accounts::Account;
use crate::auth::authorize::{ProofUsed, Sensitive};
use crate::auth::lifecycle::UserAction;
use crate::gateway::Gateway;
use crate::portal::Request;
use crate::respond::unavailable_reply;
use crate::respond::{wants_html, Reply};
use crate::store::{AuditEvent, AuditFilter, AuditOutcome, AuditPage, UserFactors};
use crate::tokens::service_user;

mod audit;
mod policy;
mod scope;
mod tokens;
pub use audit::filter as filter_audit;
pub use policy::{enforce, set_policy, switch, switch_page};
pub use tokens::{
    create as create_token, end_replaced as end_replaced_token, replace as replace_token,
    revoke as revoke_token,
};

use audit::AuditQuery;
use scope::Scope;

const HERE: &str = Route::Admin.path();

fn store_down(req: &Request, e: impl std::fmt::Display) -> Reply {
    tracing::error!("store unavailable in the admin console: {e}");
    unavailable_reply(req.head())
}

/// The signed-in admin, or the reply for everyone else.
async fn require_admin(gw: &Gateway, req: &Request) -> Result<Current, Reply> {
    let current = gw.require_user(req, false, HERE).await?;
    if !gw.is_admin(&current.account) {
        gw.mfa
            .audit(
                AuditEvent::AdminConsole,
                current.user(),
                req.client_ip(),
                AuditOutcome::Refused,
            )
            .await;
        return Err(Reply::error(
            req.head(),
            403,
            "forbidden",
            "Admins only",
            "The admin console is for members of the gateway's admin group.",
        ));
    }
    if current.session.mfa_done() {
        return Ok(current);
    }
    let enrolled = match gw.mfa.status(current.user()).await {
        Ok(status) => status.is_enrolled(),
        Err(e) => return Err(store_down(req, e)),
    };
    if enrolled {
        return Err(Reply::redirect(302, &Route::Mfa.with_rd(HERE)));
    }
    let enroll = Route::Enroll.with_rd(HERE);
    if !wants_html(req.head()) {
        return Err(Reply::json(
            403,
            &serde_json::json!({ "error": "mfa_required", "mfa": Route::Enroll.path() }),
        ));
    }
    Err(Reply::html(
        403,
        error_page(&ErrorView {
            status: 403,
            title: "Set up two-factor authentication first",
            message: "The admin console can change anyone's sign-in, so it needs your second \
                      factor as well as your password. Set up an authenticator app, then come \
                      back.",
            action: Some(("Set up two-factor authentication", &enroll)),
        }),
    ))
}

/// What the last action did, from a fixed list keyed by `done`. A username
/// or an organisation is only shown if it is a configured one the admin
/// sees, never echoed from the URL as is; a switch names the organisation
/// it changed, or "everyone" for the root.
fn notice(scope: &Scope<'_>, req: &Request) -> Option<String> {
    let user = req.query_param("user").filter(|u| scope.sees_username(u));
    let org = req.query_param("org").filter(|o| scope.sees_org_named(o));
    let whom = org.as_deref().unwrap_or("everyone");
    Some(match (Notice::of(req, Route::Admin)?, user) {
        (Notice::Enforced, _) => format!(
            "Two-factor authentication is now required for {whom}. Users without it are sent \
             to set it up at their next request."
        ),
        (Notice::NotEnforced, _) => match &org {
            Some(org) => format!(
                "Two-factor authentication is now optional for {org}: users choose for \
                 themselves."
            ),
            None => {
                "Two-factor authentication is now optional: users choose for themselves.".to_owned()
            }
        },
        (Notice::OrgMfaOff, _) => match &org {
            Some(org) => format!(
                "Two-factor authentication is now off for {org}: nobody there is asked for a \
                 code, and apps that need it stay closed."
            ),
            None => "Two-factor authentication is now off: nobody is asked for a code, and \
                     apps that need it stay closed."
                .to_owned(),
        },
        (Notice::PolicySaved, _) => "The policy was saved.".to_owned(),
        (Notice::MfaReset, Some(user)) => format!(
            "Two-factor authentication for {user} was reset: their authenticator, recovery \
             codes and remembered browsers are gone, and they were signed out everywhere."
        ),
        (Notice::SignedOut, Some(user)) => format!("{user} was signed out everywhere."),
        (Notice::TokenRevoked, _) => format!(
            "The service token was revoked. It stopped working here at once, and stops on \
             every other replica within {} seconds.",
            crate::tokens::REFRESH.as_secs()
        ),
        (Notice::OldTokenEnded, _) => format!(
            "The old token stopped working here at once, and stops on every other \
             replica within {} seconds. The new one works on.",
            crate::tokens::REFRESH.as_secs()
        ),
        _ => return None,
    })
}

/// What the console shows, as far as `scope` reaches: the policy, every
/// user's factors, the audit page `audit` asks for, the tokens and the
/// users.
async fn load(
    gw: &Gateway,
    scope: &Scope<'_>,
    audit: &AuditQuery,
) -> Result<Loaded, crate::auth::mfa::MfaError> {
    let accounts: Vec<_> = gw.accounts.sorted();
    let accounts: Vec<_> = accounts
        .into_iter()
        .filter(|a| scope.sees_user(a))
        .collect();
    let mut tokens = tokens::listed(gw).await?;
    tokens.retain(|t| scope.sees_token(t.created_by()));
    let filter = AuditFilter {
        within: scope.audit_names(&accounts, &token_users(&tokens)),
        ..audit.filter.clone()
    };
    Ok((
        gw.mfa.policies().await?,
        gw.mfa.overview().await?,
        gw.mfa
            .audit_page(&filter, audit.before, audit::PER_PAGE)
            .await?,
        tokens,
        accounts,
    ))
}

type Loaded = (
    Arc<crate::policy::Table>,
    BTreeMap<String, UserFactors>,
    AuditPage,
    Vec<tokens::Listed>,
    Vec<Arc<Account>>,
);

/// The tokens as the audit log names them.
fn token_users(tokens: &[tokens::Listed]) -> Vec<String> {
    tokens.iter().map(|t| service_user(&t.name)).collect()
}

/// The console, showing the audit log as `audit` asks.
async fn page(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    audit: &AuditQuery,
    status: u16,
    error: Option<&str>,
) -> Reply {
    let scope = Scope::of(gw, current);
    let (table, factors, events, tokens, accounts) = match load(gw, &scope, audit).await {
        Ok(v) => v,
        Err(e) => return store_down(req, e),
    };
    let none = UserFactors::default();
    // Dates are formatted first, so the rows can borrow them.
    let users: Vec<_> = accounts
        .iter()
        .map(|account| {
            let user = &account.user;
            let f = factors.get(&user.username).unwrap_or(&none);
            (
                user,
                f,
                // The day is enough in a table cell.
                f.mfa_since()
                    .map(|ms| date(ms).chars().take(10).collect::<String>()),
                f.last_sign_in.map(date),
                factor_keys(f),
            )
        })
        .collect();
    let rows: Vec<AdminUserRow> = users
        .iter()
        .map(|(user, f, since, last, keys)| AdminUserRow {
            username: &user.username,
            display_name: user.display_name.as_deref().unwrap_or(""),
            email: user.email.as_deref(),
            groups: &user.groups,
            disabled: user.disabled,
            mfa: match (since, f.totp_pending) {
                (Some(since), _) => UserMfa::On { since },
                (None, true) => UserMfa::Pending,
                (None, false) => UserMfa::Off,
            },
            recovery_remaining: f.recovery_remaining,
            devices: f.devices,
            last_sign_in: last.as_deref(),
            factors: keys,
        })
        .collect();
    let times: Vec<String> = events.entries.iter().map(|e| date(e.at_ms)).collect();
    let audit_rows: Vec<AuditRow> = events
        .entries
        .iter()
        .zip(&times)
        .map(|(e, at)| AuditRow {
            at,
            user: e.username.as_deref(),
            ip: e.ip.as_deref(),
            event: &e.event,
            outcome: &e.outcome,
            detail: e.detail.as_deref(),
            proof: e.proof.as_deref(),
        })
        .collect();
    // The user filter suggests every user, and every token as the log
    // names it, that the admin sees.
    let token_users = token_users(&tokens);
    let audit_users: Vec<&str> = accounts
        .iter()
        .map(|a| a.user.username.as_str())
        .chain(token_users.iter().map(String::as_str))
        .collect();
    let audit_events = AuditEvent::ALL.map(AuditEvent::as_str);
    let (older, newest) = (audit.older_href(events.older), audit.newest_href());
    let token_rows: Vec<_> = tokens.iter().map(tokens::Listed::row).collect();
    let token_apps = tokens::token_apps(gw);
    let token_apps: Vec<&str> = token_apps.iter().map(String::as_str).collect();
    let cards = policy::org_rows(gw, current, &table);
    let org_rows: Vec<_> = cards.iter().map(policy::OrgCard::row).collect();
    let nonce = gw.csrf_nonce(req);
    let notice = notice(&scope, req);
    let html = admin_page(&AdminView {
        admin: current.user(),
        csrf_token: &gw.csrf.token(&nonce.value),
        enforcement: shown(table.get(current.account.user.org)),
        orgs: &org_rows,
        users: &rows,
        audit: AuditView {
            rows: &audit_rows,
            user: audit.filter.user.as_deref().unwrap_or(""),
            event: audit.filter.event.as_deref().unwrap_or(""),
            events: &audit_events,
            users: &audit_users,
            older: older.as_deref(),
            newest: newest.as_deref(),
            kept_days: Some(gw.settings.store.audit_retention.as_secs() / 86_400),
        },
        tokens: &token_rows,
        token_apps: &token_apps,
        notice: notice.as_deref(),
        error,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

/// The console again, showing the newest events, with why the last
/// action was refused.
async fn refused(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    status: u16,
    error: &str,
) -> Reply {
    page(
        gw,
        req,
        current,
        &AuditQuery::default(),
        status,
        Some(error),
    )
    .await
}

pub async fn show(gw: &Gateway, req: &Request) -> Reply {
    match require_admin(gw, req).await {
        Ok(current) => match AuditQuery::from_url(req) {
            Ok(audit) => page(gw, req, &current, &audit, 200, None).await,
            Err(error) => refused(gw, req, &current, 400, error).await,
        },
        Err(reply) => reply,
    }
}

/// The admin's own organisation's requirement, as the policy section shows
/// it: held by the config, by a lock from above (the only locks on the
/// admin's own organisation), or theirs to stop.
fn shown(policy: &crate::policy::OrgPolicy) -> Shown {
    use crate::policy::MfaMode::Required;
    match (
        policy.effective.mfa,
        policy.config_floor.mfa,
        policy.floor.mfa,
    ) {
        (Required, Some(_), _) => Shown::OnByConfig,
        (Required, None, Some(Required)) => Shown::OnByLock,
        (Required, None, _) => Shown::OnByAdmin,
        _ => Shown::Off,
    }
}

/// The configured user a form names in `username`, or the error page.
async fn target<'f>(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    username: &'f str,
) -> Result<&'f str, Reply> {
    let error = "There is no such user in the users file.";
    match gw.accounts.get(username) {
        Some(account) if Scope::of(gw, current).sees_user(&account) => Ok(username),
        Some(_) => {
            let what = format!("user {username}");
            Err(scope::out_of_reach(gw, req, current, &what, error).await)
        }
        None => Err(refused(gw, req, current, 404, error).await),
    }
}

/// The lost phone: removes the user's authenticator, recovery codes and
/// remembered browsers, and signs them out everywhere, so nobody holding
/// the old phone or an old session keeps a way in.
pub async fn reset(gw: &Gateway, req: &Request) -> Reply {
    act_on_user(gw, req, UserAction::ResetMfa).await
}

/// Ends every session of the user, on every replica.
pub async fn sign_out(gw: &Gateway, req: &Request) -> Reply {
    act_on_user(gw, req, UserAction::SignOut).await
}

/// The notice shown after `action`.
fn done_notice(action: UserAction) -> Notice {
    match action {
        UserAction::ResetMfa => Notice::MfaReset,
        UserAction::SignOut => Notice::SignedOut,
    }
}

/// An admin action on the user the form names, audited with the admin's
/// name and proof.
async fn act_on_user(gw: &Gateway, req: &Request, action: UserAction) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(require_admin(gw, req).await);
    let user = or_reply!(target(gw, req, &current, form.get("username")).await);
    let actor = current.actor(gw, req);
    if let Err(e) = gw.lifecycle().act_on_user(&actor, user, action).await {
        or_reply!(confirm::unless_refused(req, e, HERE));
        return refused(gw, req, &current, 403, "Admins only.").await;
    }
    Reply::redirect(303, &done_notice(action).location_for(user))
}

/// The admin's fresh proof for a change that has no account operation of
/// its own (the policy switch, tokens), or the reply that asks for one.
pub(super) async fn fresh_proof(
    gw: &Gateway,
    req: &Request,
    current: &Current,
) -> Result<ProofUsed, Reply> {
    fresh_proof_for(gw, req, current, HERE).await
}

/// [`fresh_proof`], coming back to `back` once confirmed.
pub(super) async fn fresh_proof_for(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    back: &str,
) -> Result<ProofUsed, Reply> {
    let actor = current.actor(gw, req);
    match gw.lifecycle().proof(&actor, Sensitive::Other).await {
        Ok(proof) => Ok(proof),
        Err(e) => match confirm::unless_refused(req, e, back) {
            Err(reply) => Err(reply),
            Ok(_) => Err(confirm::ask(back)),
        },
    }
}

/// The user's confirmed factors as the console names them: `app`, then
/// channels in the store's order.
fn factor_keys(f: &UserFactors) -> Vec<&str> {
    f.totp_confirmed_at
        .map(|_| "app")
        .into_iter()
        .chain(f.contact.iter().map(|(channel, _)| channel.as_str()))
        .collect()
}
