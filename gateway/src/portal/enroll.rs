//! Enrolling an authenticator app, and showing recovery codes once.

use gatehouse_templates::{enroll_page, recovery_codes_page, EnrollView, RecoveryCodesView};
use pingora::proxy::Session;

use super::{or_reply, rd_query, with_rd, Current};
use crate::auth::mfa::CodeCheck;
use crate::gateway::Gateway;
use crate::proxy::access::unavailable_reply;
use crate::respond::Reply;
use crate::session::now_ms;

const WRONG_CODE: &str =
    "That code didn't match. Enter the 6-digit code your app shows now for Gatehouse; \
                          if it keeps failing, check that your phone's clock is set automatically.";
const WRONG_CODES: &str =
    "Those codes didn't match. Enter the code your app shows now, wait for it to change, \
                           then enter the next one.";

fn store_down(session: &Session, e: impl std::fmt::Display) -> Reply {
    tracing::error!("store unavailable during enrollment: {e}");
    unavailable_reply(session.req_header())
}

/// The enrollment page for the user's pending secret.
async fn page(
    gw: &Gateway,
    session: &Session,
    current: &Current<'_>,
    status: u16,
    rd: &str,
    error: Option<&str>,
) -> Reply {
    let pending = match gw.mfa.begin_enrollment(current.user()).await {
        Ok(Some(p)) => p,
        // Enrolled since this session signed in (elsewhere, say): what it
        // lacks is the code, not an authenticator.
        Ok(None) if !current.session.mfa_done() => {
            return Reply::redirect(303, &with_rd("/.gatehouse/mfa", rd))
        }
        Ok(None) => return Reply::redirect(303, "/.gatehouse/account"),
        Err(e) => return store_down(session, e),
    };
    let enforced = match gw.mfa.enforcement().await {
        Ok(e) => e.is_on(),
        Err(e) => return store_down(session, e),
    };
    let nonce = gw.csrf_nonce(session);
    let grouped = pending.secret.grouped();
    let html = enroll_page(&EnrollView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
        qr_svg: &pending.qr_svg,
        secret_grouped: &grouped,
        otpauth_uri: &pending.uri,
        issuer: &gw.settings.mfa.issuer,
        account: current.user(),
        two_codes: gw.settings.mfa.enroll_two_codes,
        enforced,
        error,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

/// The one-time display of fresh recovery codes.
pub(super) fn codes_page(gw: &Gateway, session: &Session, codes: &[String], rd: &str) -> Reply {
    let nonce = gw.csrf_nonce(session);
    let html = recovery_codes_page(&RecoveryCodesView {
        codes,
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
    });
    gw.with_nonce(Reply::html(200, html), &nonce)
}

pub async fn show(gw: &Gateway, session: &mut Session) -> Reply {
    let rd = rd_query(session);
    match gw
        .require_user(session, true, &with_rd("/.gatehouse/enroll", &rd))
        .await
    {
        Ok(current) => page(gw, session, &current, 200, &rd, None).await,
        Err(reply) => reply,
    }
}

pub async fn submit(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    let form = or_reply!(gw.checked_form(session).await?);
    let rd = form.rd();
    let current = or_reply!(
        gw.require_user(session, true, &with_rd("/.gatehouse/enroll", &rd))
            .await
    );
    let user = current.user().to_owned();
    let ip = gw.client_ip(session);
    let next_code = gw.settings.mfa.enroll_two_codes.then(|| form.get("code2"));
    let codes = match gw
        .mfa
        .confirm_enrollment(&user, form.get("code"), next_code)
        .await
    {
        Ok(Ok(codes)) => codes,
        Ok(Err(CodeCheck::NotEnrolled)) => return Ok(Reply::redirect(303, "/.gatehouse/account")),
        Ok(Err(_)) => {
            gw.mfa.audit("mfa_enrolled", &user, ip, "failed").await;
            let error = if next_code.is_some() {
                WRONG_CODES
            } else {
                WRONG_CODE
            };
            return Ok(page(gw, session, &current, 400, &rd, Some(error)).await);
        }
        Err(e) => return Ok(store_down(session, e)),
    };
    gw.mfa.audit("mfa_enrolled", &user, ip, "ok").await;
    // Enrolling proves the second factor: the session steps up with a new id.
    let next = current.session.with_mfa(now_ms());
    let id = match gw.sessions.rotate(&current.id, &next, gw.expiry).await {
        Ok(id) => id,
        Err(e) => return Ok(store_down(session, e)),
    };
    Ok(codes_page(gw, session, &codes, &rd).cookie(&gw.cookies.session_cookie(id.as_str())))
}

/// "I have saved these": on to where the user was going.
pub async fn acknowledge(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    let form = or_reply!(gw.checked_form(session).await?);
    Ok(Reply::redirect(303, &form.rd()))
}

/// After a recovery code: drop the lost authenticator and enroll anew.
pub async fn reset(gw: &Gateway, session: &mut Session) -> pingora::Result<Reply> {
    let form = or_reply!(gw.checked_form(session).await?);
    let rd = form.rd();
    let current = or_reply!(gw.require_user(session, false, "/.gatehouse/account").await);
    if !current.session.mfa_done() {
        return Ok(Reply::redirect(303, &with_rd("/.gatehouse/mfa", &rd)));
    }
    let user = current.user().to_owned();
    if let Err(e) = gw.mfa.remove(&user).await {
        return Ok(store_down(session, e));
    }
    gw.mfa
        .audit("mfa_reset", &user, gw.client_ip(session), "ok")
        .await;
    Ok(
        Reply::redirect(303, &with_rd("/.gatehouse/enroll", &rd))
            .cookie(&gw.cookies.clear_device()),
    )
}
