//! Service tokens in the admin console: the list (config and console
//! tokens), creating one (shown once), replacing its secret (the new one
//! shown once, the old one working a day longer unless ended) and revoking
//! one.
//!
//! Creating a token is audited with the admin's name; the token itself is
//! only ever in the reply that shows it, which no cache keeps.

use gatehouse_templates::{token_created_page, TokenCreatedView, TokenRow, TokenSource};

use super::scope::{out_of_reach, Scope};
use super::{fresh_proof, refused, require_admin, store_down, Current};
use crate::config::check_name;
use crate::gateway::Gateway;
use crate::portal::notice::Notice;
use crate::portal::Request;
use crate::portal::{date, or_reply};
use crate::respond::Reply;
use crate::session::now_ms;
use crate::store::{AuditEvent, AuditOutcome, StoreError};
use crate::tokens::{IssueError, NewToken};

/// Longest name the console takes: it ends up in headers and metrics.
const MAX_NAME: usize = 64;
const DAY_MS: i64 = 86_400_000;

/// One listed token, owned, so the page's rows can borrow from it.
pub(super) struct Listed {
    pub(super) name: String,
    app: Option<String>,
    app_gone: bool,
    /// `(created, created_by)` for console tokens.
    console: Option<(String, String)>,
    expires: Option<String>,
    expired: bool,
    last_used: Option<String>,
    /// Until when the token it replaced works, while it does.
    replaced_until: Option<String>,
}

impl Listed {
    /// Who created it in the console; `None` for a config token.
    pub(super) fn created_by(&self) -> Option<&str> {
        self.console.as_ref().map(|(_, by)| by.as_str())
    }

    pub(super) fn row(&self) -> TokenRow<'_> {
        TokenRow {
            name: &self.name,
            app: self.app.as_deref(),
            app_gone: self.app_gone,
            source: match &self.console {
                Some((created, by)) => TokenSource::Console {
                    created,
                    created_by: by,
                },
                None => TokenSource::Config,
            },
            expires: self.expires.as_deref(),
            expired: self.expired,
            last_used: self.last_used.as_deref(),
            replaced_until: self.replaced_until.as_deref(),
        }
    }
}

/// Every token: the config's first, then the console's by name, each with
/// when it was last used (from the audit log).
pub(super) async fn listed(gw: &Gateway) -> Result<Vec<Listed>, StoreError> {
    let live = gw.live();
    let issued = live.tokens.issued();
    let now = now_ms() as i64;
    let mut out: Vec<Listed> = live
        .tokens
        .config_names()
        .map(|name| Listed {
            name: name.to_owned(),
            app: None,
            app_gone: false,
            console: None,
            expires: None,
            expired: false,
            last_used: None,
            replaced_until: None,
        })
        .collect();
    let apps = token_apps(gw);
    out.extend(issued.list().await?.into_iter().map(|t| Listed {
        app_gone: t.app.as_ref().is_some_and(|app| !apps.contains(app)),
        app: t.app,
        console: Some((day(t.created_at), t.created_by)),
        expires: t.expires_at.map(day),
        expired: t.expires_at.is_some_and(|at| at <= now),
        last_used: None,
        replaced_until: t.previous.filter(|p| p.until > now).map(|p| date(p.until)),
        name: t.name,
    }));
    for token in &mut out {
        token.last_used = issued.last_used(&token.name).await?.map(date);
    }
    Ok(out)
}

fn day(ms: i64) -> String {
    date(ms).chars().take(10).collect()
}

/// The apps a console token may be limited to: those that don't list
/// their own tokens in the config.
pub(super) fn token_apps(gw: &Gateway) -> Vec<String> {
    gw.live()
        .apps
        .iter()
        .filter(|a| a.service_tokens.is_none())
        .map(|a| a.name.clone())
        .collect()
}

/// Creates a token from the form (`name`, `app`, `expires`) and shows it once.
pub async fn create(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(require_admin(gw, req).await);
    let proof = or_reply!(fresh_proof(gw, req, &current).await);
    // A refusal shows the console again, with the reason.
    macro_rules! refuse {
        ($status:expr, $error:expr) => {{
            let error: &str = &$error;
            return refused(gw, req, &current, $status, error).await;
        }};
    }
    let name = form.get("name").trim();
    if let Err(problem) = check_name(name) {
        refuse!(400, format!("Token name: {problem}."));
    }
    if name.len() > MAX_NAME {
        refuse!(
            400,
            format!("Token name: longer than {MAX_NAME} characters.")
        );
    }
    let app = match form.get("app") {
        "" => None,
        app if token_apps(gw).iter().any(|a| a == app) => Some(app),
        _ => {
            refuse!(
                400,
                "Choose an app from the list: the others take only the tokens their \
                 configuration lists (apps[].service_tokens)."
            );
        }
    };
    let now = now_ms() as i64;
    let expires_at_ms = match form.get("expires") {
        "30d" => Some(now + 30 * DAY_MS),
        "90d" => Some(now + 90 * DAY_MS),
        "365d" => Some(now + 365 * DAY_MS),
        "never" => None,
        _ => {
            refuse!(
                400,
                "Choose when the token expires: 30 days, 90 days, 1 year or never."
            );
        }
    };
    let issued = gw
        .live()
        .tokens
        .issue(NewToken {
            name,
            app,
            expires_at_ms,
            created_by: current.user(),
            now_ms: now,
        })
        .await;
    let token = match issued {
        Ok(token) => token,
        Err(e @ (IssueError::NameInConfig | IssueError::NameTaken)) => {
            refuse!(409, format!("There is already a token called {name}: {e}."));
        }
        Err(IssueError::Store(e)) => return store_down(req, e),
    };
    let detail = format!(
        "token {name} by admin {}; app {}; {}",
        current.user(),
        app.unwrap_or("any"),
        expires_at_ms.map_or("never expires".to_owned(), |at| format!(
            "expires {}",
            day(at)
        ))
    );
    gw.mfa
        .audit_proof(
            AuditEvent::TokenCreated,
            current.user(),
            req.client_ip(),
            AuditOutcome::Ok,
            Some(&detail),
            Some(proof.as_str()),
        )
        .await;
    let expires = expires_at_ms.map(day);
    Reply::html(
        200,
        token_created_page(&TokenCreatedView {
            name,
            token: &token,
            app,
            expires: expires.as_deref(),
            replaced_until: None,
        }),
    )
}

/// Revokes the console token the form names (`name`).
pub async fn revoke(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(require_admin(gw, req).await);
    let name = form.get("name");
    or_reply!(in_reach(gw, req, &current, name).await);
    let proof = or_reply!(fresh_proof(gw, req, &current).await);
    match gw.live().tokens.issued().revoke(name).await {
        Ok(true) => {}
        Ok(false) => return not_a_console_token(gw, req, &current, name, "remove").await,
        Err(e) => return store_down(req, e),
    }
    let detail = format!("token {name} by admin {}", current.user());
    gw.mfa
        .audit_proof(
            AuditEvent::TokenRevoked,
            current.user(),
            req.client_ip(),
            AuditOutcome::Ok,
            Some(&detail),
            Some(proof.as_str()),
        )
        .await;
    Reply::redirect(303, &Notice::TokenRevoked.location())
}

/// Gives the console token the form names (`name`) a new secret, shown
/// once. The old secret keeps working for
/// [`REPLACED_WORKS_FOR`](crate::tokens::REPLACED_WORKS_FOR) so the
/// integration can move over; "End old token" stops it sooner.
pub async fn replace(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(require_admin(gw, req).await);
    let name = form.get("name");
    or_reply!(in_reach(gw, req, &current, name).await);
    let proof = or_reply!(fresh_proof(gw, req, &current).await);
    let now = now_ms() as i64;
    let (token, stored) = match gw
        .live()
        .tokens
        .issued()
        .replace(name, current.user(), now)
        .await
    {
        Ok(Some(replaced)) => replaced,
        Ok(None) => return not_a_console_token(gw, req, &current, name, "replace").await,
        Err(e) => return store_down(req, e),
    };
    let until = stored.previous.map(|p| date(p.until));
    let detail = format!(
        "token {name} by admin {}; the old one works until {}",
        current.user(),
        until.as_deref().unwrap_or("now")
    );
    gw.mfa
        .audit_proof(
            AuditEvent::TokenReplaced,
            current.user(),
            req.client_ip(),
            AuditOutcome::Ok,
            Some(&detail),
            Some(proof.as_str()),
        )
        .await;
    let expires = stored.expires_at.map(day);
    Reply::html(
        200,
        token_created_page(&TokenCreatedView {
            name,
            token: &token,
            app: stored.app.as_deref(),
            expires: expires.as_deref(),
            replaced_until: until.as_deref(),
        }),
    )
}

/// Ends, now, the old secret of the console token the form names (`name`):
/// for a leaked token, or once the integration has moved over.
pub async fn end_replaced(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(require_admin(gw, req).await);
    let name = form.get("name");
    or_reply!(in_reach(gw, req, &current, name).await);
    let proof = or_reply!(fresh_proof(gw, req, &current).await);
    match gw.live().tokens.issued().end_replaced(name).await {
        Ok(true) => {}
        Ok(false) => {
            let error = "That token has no old token still working.";
            return refused(gw, req, &current, 404, error).await;
        }
        Err(e) => return store_down(req, e),
    }
    let detail = format!("the token {name} replaced, by admin {}", current.user());
    gw.mfa
        .audit_proof(
            AuditEvent::TokenRevoked,
            current.user(),
            req.client_ip(),
            AuditOutcome::Ok,
            Some(&detail),
            Some(proof.as_str()),
        )
        .await;
    Reply::redirect(303, &Notice::OldTokenEnded.location())
}

/// Nothing, if the admin may act on token `name`; else the reply that
/// says there is no such token.
async fn in_reach(gw: &Gateway, req: &Request, current: &Current, name: &str) -> Result<(), Reply> {
    match Scope::of(gw, current).reaches_token(name).await {
        Ok(true) => Ok(()),
        Ok(false) => {
            let what = format!("token {name}");
            Err(out_of_reach(gw, req, current, &what, NO_SUCH_TOKEN).await)
        }
        Err(e) => Err(store_down(req, e)),
    }
}

const NO_SUCH_TOKEN: &str = "There is no token by that name created in this console.";

/// The console again, saying why `name` can't be acted on: it is in the
/// config file, or there is no such console token.
async fn not_a_console_token(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    name: &str,
    verb: &str,
) -> Reply {
    let error = if gw.live().has_config_token(name) {
        format!("That token is in the configuration file; {verb} it there.")
    } else {
        NO_SUCH_TOKEN.to_owned()
    };
    refused(gw, req, current, 404, &error).await
}
