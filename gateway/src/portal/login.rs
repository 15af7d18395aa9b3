//! Signing in and out.
//!
//! An unknown username and a wrong password get the same words, the same
//! status and the same argon2 work, so neither the page nor its timing says
//! which usernames exist. Lockouts are keyed by the name as typed for the
//! same reason.

use gatehouse_templates::{login_page, LoginView};
use pingora::proxy::Session;

use super::form::{self, FormError};
use super::{client_ip, return_path, Nonce};
use crate::gateway::Gateway;
use crate::limits::{Attempt, Verdict};
use crate::metrics::METRICS;
use crate::proxy::access::unavailable_reply;
use crate::respond::Reply;
use crate::session::{now_ms, Session as UserSession};

const BAD_CREDENTIALS: &str = "Incorrect username or password.";

fn query_param(session: &Session, name: &str) -> Option<String> {
    let query = session.req_header().uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The login page, with a CSRF cookie set if the browser had none.
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
    let reply = Reply::html(status, html);
    if nonce.is_new {
        reply.cookie(&gw.cookies.csrf_cookie(&nonce.value))
    } else {
        reply
    }
}

pub async fn show(gw: &Gateway, session: &mut Session) -> Reply {
    let nonce = gw.csrf_nonce(session);
    let rd = query_param(session, "rd");
    let rd = rd
        .as_deref()
        .and_then(return_path::validate)
        .unwrap_or(return_path::DEFAULT);
    let notice = query_param(session, "logged_out").map(|_| "You have been signed out.");
    page(gw, &nonce, 200, rd, "", None, notice)
}

pub async fn submit(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    let form = match form::read(session).await {
        Ok(f) => f,
        Err(FormError::Read(e)) => return Err(e),
        Err(e) => {
            return Ok(Reply::error(
                session.req_header(),
                400,
                "bad_request",
                "Bad request",
                &e.to_string(),
            ));
        }
    };
    let nonce = gw.csrf_nonce(session);
    if nonce.is_new || !gw.csrf.verify(&nonce.value, form.get("csrf_token")) {
        return Ok(csrf_failed(gw, session, &nonce));
    }
    let rd = return_path::validate(form.get("rd")).unwrap_or(return_path::DEFAULT);
    let username = form.get("username").trim();
    let password = form.get("password");
    let ip = client_ip(session);

    match gw.limiter.check(Attempt::Password, username, ip).await {
        Ok(Verdict::Allowed) => {}
        Ok(Verdict::Locked(wait)) => {
            METRICS.logins.with_label_values(&["locked"]).inc();
            let minutes = wait.as_secs().div_ceil(60).max(1);
            let message = format!(
                "Too many failed sign-in attempts. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            return Ok(page(gw, &nonce, 429, rd, username, Some(&message), None)
                .header("retry-after", &wait.as_secs().max(1).to_string()));
        }
        Err(e) => {
            tracing::error!("rate limiter unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    }

    let account = gw.accounts.get(username);
    let phc = account.map(|a| a.user.password_hash.as_str());
    let verified = match gw.passwords.verify(phc, password).await {
        Ok(ok) => ok,
        Err(e) => {
            tracing::error!("password verification failed to run: {e}");
            return Ok(Reply::error(
                session.req_header(),
                500,
                "internal_error",
                "Something went wrong",
                "Your password could not be checked. Please try again.",
            ));
        }
    };
    let Some(account) = account.filter(|_| verified) else {
        METRICS.logins.with_label_values(&["failure"]).inc();
        tracing::info!(target: "audit", event = "login_failed", user = %username, %ip);
        if let Err(e) = gw
            .limiter
            .record_failure(Attempt::Password, username, ip)
            .await
        {
            tracing::error!("rate limiter unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
        return Ok(page(
            gw,
            &nonce,
            401,
            rd,
            username,
            Some(BAD_CREDENTIALS),
            None,
        ));
    };
    if account.user.disabled {
        METRICS.logins.with_label_values(&["disabled"]).inc();
        tracing::info!(target: "audit", event = "login_refused_disabled", user = %username, %ip);
        return Ok(Reply::error(
            session.req_header(),
            403,
            "account_disabled",
            "Account disabled",
            "This account is disabled. Contact your administrator if you think this is a mistake.",
        ));
    }
    if let Err(e) = gw
        .limiter
        .record_success(Attempt::Password, username, ip)
        .await
    {
        tracing::warn!("could not reset the failure counter: {e}");
    }

    // A new id at every step up: a session id seen before login is worthless after.
    match gw.current_session(session).await {
        Ok(Some((old, _))) => {
            let _ = gw.sessions.delete(&old).await;
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!("session store unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    }
    let new = UserSession::after_password(&account.user.username, now_ms());
    let id = match gw.sessions.create(&new, gw.expiry).await {
        Ok(id) => id,
        Err(e) => {
            tracing::error!("session store unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    };
    METRICS.logins.with_label_values(&["success"]).inc();
    tracing::info!(target: "audit", event = "login_ok", user = %account.user.username, %ip);
    Ok(Reply::redirect(303, rd).cookie(&gw.cookies.session_cookie(id.as_str())))
}

pub async fn logout(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    let form = match form::read(session).await {
        Ok(f) => f,
        Err(FormError::Read(e)) => return Err(e),
        Err(e) => {
            return Ok(Reply::error(
                session.req_header(),
                400,
                "bad_request",
                "Bad request",
                &e.to_string(),
            ));
        }
    };
    let nonce = gw.csrf_nonce(session);
    if nonce.is_new || !gw.csrf.verify(&nonce.value, form.get("csrf_token")) {
        return Ok(csrf_failed(gw, session, &nonce));
    }
    match gw.current_session(session).await {
        Ok(Some((id, s))) => {
            if let Err(e) = gw.sessions.delete(&id).await {
                tracing::error!("session store unavailable: {e}");
                return Ok(unavailable_reply(session.req_header()));
            }
            tracing::info!(target: "audit", event = "logout", user = %s.user, ip = %client_ip(session));
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!("session store unavailable: {e}");
            return Ok(unavailable_reply(session.req_header()));
        }
    }
    Ok(Reply::redirect(303, "/.gatehouse/login?logged_out=1").cookie(&gw.cookies.clear_session()))
}

/// A form without a valid token: refuse, and hand out a fresh nonce so a
/// reload works.
fn csrf_failed(gw: &Gateway, session: &Session, nonce: &Nonce) -> Reply {
    let reply = Reply::error(
        session.req_header(),
        403,
        "csrf",
        "This form has expired",
        "For your security the form could not be accepted. Go back, reload the page and try again.",
    );
    if nonce.is_new {
        reply.cookie(&gw.cookies.csrf_cookie(&nonce.value))
    } else {
        reply
    }
}
