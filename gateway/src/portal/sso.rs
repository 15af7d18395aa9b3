//! `/.gatehouse/sso`: one sign-in across hosts that share no cookie
//! (`sso.portal_url`), in three legs on one route.
//!
//! 1. On an app's host, a browser with no session arrives with `rd` (the
//!    proxy sends it here): it gets a state cookie and goes to the portal's
//!    `/.gatehouse/sso?to=<this leg's URL>`.
//! 2. On the portal's host, a signed-in browser arrives with `to`: a
//!    single-use handoff code is made for its session and the app host's
//!    state, and the browser goes back to `to` with it. A browser not yet
//!    signed in signs in first, as for any page.
//! 3. On the app's host again, with `code`: the code is taken, its state
//!    must be this browser's, its session must be live, and the host sets
//!    its own cookie for that session before going on to `rd`.
//!
//! The code never works twice, in another browser, or after a minute (see
//! [`crate::session::handoff`]).

use gatehouse_templates::Route;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::{rd_query, Request};
use crate::gateway::Gateway;
use crate::respond::{unavailable_reply, Reply};
use crate::session::handoff::Handoff;
use crate::session::SessionId;

/// GET `/.gatehouse/sso`: whichever leg the query names.
pub async fn handle(gw: &Gateway, req: &Request) -> Reply {
    let Some(sso) = &gw.settings.sso else {
        return refused(req, 404, "There is no single sign-on here.");
    };
    if let Some(to) = req.query_param("to") {
        return issue(gw, req, &to).await;
    }
    if let Some(code) = req.query_param("code") {
        return redeem(gw, req, &code).await;
    }
    // Leg 1: off to the portal, with a state only this browser holds.
    let state = SessionId::generate();
    let back = format!(
        "{}?rd={}&state={}",
        absolute(gw, req, Route::Sso.path()),
        encode(&rd_query(gw, req)),
        state.as_str()
    );
    let location = format!(
        "{}{}?to={}",
        sso.portal_url,
        Route::Sso.path(),
        encode(&back)
    );
    Reply::redirect(302, &location).cookie(&gw.cookies.sso_state_cookie(state.as_str()))
}

/// Leg 2, on the portal: a code for this session and `to`'s state.
async fn issue(gw: &Gateway, req: &Request, to: &str) -> Reply {
    let here = format!("{}?to={}", Route::Sso.path(), encode(to));
    let current = match gw.require_user(req, false, &here).await {
        Ok(current) => current,
        Err(reply) => return reply,
    };
    // Only back to a configured app host's own handoff leg.
    let target = gw.return_to(to);
    let state = query_of(&target)
        .filter(|_| path_of(&target) == Some(Route::Sso.path()))
        .and_then(|q| param(q, "state"));
    let Some(state) = state else {
        return refused(
            req,
            400,
            "That sign-in link doesn't lead to an application.",
        );
    };
    let handoff = Handoff {
        session: current.id.clone(),
        state,
    };
    match gw.handoffs.issue(&handoff).await {
        Ok(code) => Reply::redirect(303, &format!("{target}&code={}", code.as_str())),
        Err(e) => {
            tracing::error!("session store unavailable: {e}");
            unavailable_reply(req.head())
        }
    }
}

/// Leg 3, on the app host: the session, if the code is good for this browser.
async fn redeem(gw: &Gateway, req: &Request, code: &str) -> Reply {
    let handoff = match gw.handoffs.redeem(code).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!("session store unavailable: {e}");
            return unavailable_reply(req.head());
        }
    };
    let state = req.cookie(&gw.cookies.sso_state).unwrap_or("");
    let Some(handoff) = handoff.filter(|h| !state.is_empty() && h.state == state) else {
        return refused(
            req,
            403,
            "This sign-in link has expired, was already used, or was opened in another browser. \
             Open the application again to sign in.",
        );
    };
    match gw.sessions.get(&handoff.session, gw.expiry).await {
        Ok(Some(_)) => {}
        Ok(None) => return refused(req, 403, "That sign-in has ended. Sign in again."),
        Err(e) => {
            tracing::error!("session store unavailable: {e}");
            return unavailable_reply(req.head());
        }
    }
    let rd = rd_query(gw, req);
    Reply::redirect(303, &rd)
        .cookie(&gw.cookies.session_cookie(handoff.session.as_str()))
        .cookie(&gw.cookies.clear_sso_state())
}

fn refused(req: &Request, status: u16, message: &str) -> Reply {
    Reply::error(req.head(), status, "sso", "Single sign-on", message)
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// `path` on this host as an absolute URL, as the browser reached it.
fn absolute(gw: &Gateway, req: &Request, path: &str) -> String {
    let scheme = if gw.settings.tls.is_some() || req.forwarded_https() {
        "https"
    } else {
        "http"
    };
    let host = req.header(http::header::HOST).unwrap_or("");
    format!("{scheme}://{host}{path}")
}

fn path_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let start = rest.find('/')?;
    let path = &rest[start..];
    Some(path.split(['?', '#']).next().unwrap_or(path))
}

fn query_of(url: &str) -> Option<&str> {
    url.split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(q))
}

fn param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}
