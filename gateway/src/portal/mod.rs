//! Everything under `/.gatehouse/`: the pages Gatehouse serves itself.
//!
//! Only these routes read request bodies; proxied traffic streams through
//! untouched. State changes only on POST, and every POST carries a CSRF token.

pub mod csrf;
mod form;
mod login;
pub mod return_path;

use std::net::{IpAddr, Ipv4Addr};

use gatehouse_templates::{account_page, AccountView, CSS};
use http::Method;
use pingora::proxy::Session;

use crate::gateway::Gateway;
use crate::proxy::headers::cookie_value;
use crate::respond::Reply;
use crate::session::{self, SessionId};

/// The client's IP, for rate limits; loopback if the socket has none.
pub(crate) fn client_ip(session: &Session) -> IpAddr {
    session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |a| a.ip())
}

/// The CSRF nonce from the request's cookie, or a fresh one to set.
pub(crate) struct Nonce {
    pub value: String,
    pub is_new: bool,
}

impl Gateway {
    pub(crate) fn csrf_nonce(&self, session: &Session) -> Nonce {
        match cookie_value(session.req_header(), &self.cookies.csrf).filter(|v| !v.is_empty()) {
            Some(v) => Nonce {
                value: v.to_owned(),
                is_new: false,
            },
            None => Nonce {
                value: csrf::Csrf::new_nonce(),
                is_new: true,
            },
        }
    }

    /// The current session, if the cookie names a live one.
    pub(crate) async fn current_session(
        &self,
        session: &Session,
    ) -> Result<Option<(SessionId, session::Session)>, session::SessionError> {
        let Some(id) =
            cookie_value(session.req_header(), &self.cookies.session).and_then(SessionId::parse)
        else {
            return Ok(None);
        };
        Ok(self.sessions.get(&id, self.expiry).await?.map(|s| (id, s)))
    }
}

pub async fn handle(gw: &Gateway, session: &mut Session, path: &str) -> pingora::Result<()> {
    let method = session.req_header().method.clone();
    let read = method == Method::GET || method == Method::HEAD;
    let reply = match (path, read, method == Method::POST) {
        ("/.gatehouse/healthz", true, _) => healthz(gw).await,
        ("/.gatehouse/static/gatehouse.css", true, _) => {
            Reply::text(200, "text/css; charset=utf-8", CSS)
                .header("cache-control", "public, max-age=3600")
        }
        ("/.gatehouse/login", true, _) => login::show(gw, session).await,
        ("/.gatehouse/login", _, true) => login::submit(gw, session).await?,
        ("/.gatehouse/logout", _, true) => login::logout(gw, session).await?,
        ("/.gatehouse/account", true, _) => account(gw, session).await,
        ("/.gatehouse" | "/.gatehouse/", true, _) => Reply::redirect(302, "/.gatehouse/account"),
        (
            "/.gatehouse/healthz" | "/.gatehouse/static/gatehouse.css" | "/.gatehouse/account",
            ..,
        ) => method_not_allowed(session, "GET, HEAD"),
        ("/.gatehouse/login", ..) => method_not_allowed(session, "GET, HEAD, POST"),
        ("/.gatehouse/logout", ..) => method_not_allowed(session, "POST"),
        _ => Reply::error(
            session.req_header(),
            404,
            "not_found",
            "Not found",
            "There is no gateway page at this address.",
        ),
    };
    reply.send(session).await
}

fn method_not_allowed(session: &Session, allow: &str) -> Reply {
    Reply::error(
        session.req_header(),
        405,
        "method_not_allowed",
        "Method not allowed",
        "This page can't be used that way.",
    )
    .header("allow", allow)
}

async fn healthz(gw: &Gateway) -> Reply {
    match gw.sessions.ping().await {
        Ok(()) => Reply::json(
            200,
            &serde_json::json!({ "status": "ok", "sessions": "ok" }),
        ),
        Err(e) => {
            tracing::warn!("health check: {e}");
            Reply::json(
                503,
                &serde_json::json!({ "status": "unavailable", "sessions": "unavailable" }),
            )
        }
    }
}

async fn account(gw: &Gateway, session: &mut Session) -> Reply {
    let current = match gw.current_session(session).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("session lookup failed: {e}");
            return crate::proxy::access::unavailable_reply(session.req_header());
        }
    };
    let Some(account) = current.and_then(|(_, s)| Some((gw.accounts.get(&s.user)?, s))) else {
        return Reply::redirect(302, "/.gatehouse/login?rd=%2F.gatehouse%2Faccount");
    };
    let (account, s) = account;
    let nonce = gw.csrf_nonce(session);
    let signed_in_at = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(s.password_at_ms),
    )
    .to_string();
    let user = &account.user;
    let page = account_page(&AccountView {
        username: &user.username,
        display_name: user.display_name.as_deref().unwrap_or(&user.username),
        email: user.email.as_deref(),
        groups: &user.groups,
        csrf_token: &gw.csrf.token(&nonce.value),
        signed_in_at: &signed_in_at,
        mfa_done: s.mfa_done(),
    });
    let reply = Reply::html(200, page);
    if nonce.is_new {
        reply.cookie(&gw.cookies.csrf_cookie(&nonce.value))
    } else {
        reply
    }
}
