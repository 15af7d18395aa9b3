//! "Email me a code" / "Text me a code": sending a one-time code, for the
//! challenge or to confirm a channel being enrolled.
//!
//! Both answer with a redirect to their page carrying `sent=<channel>`, so
//! a reload shows the page again instead of sending another code.

use gatehouse_templates::Route;
use std::time::Duration;

use super::challenge::{challenge, Challenged, Step};
use super::enroll::{addable, page, render, store_down, Enrolling, Shown};
use super::form::Form;
use super::phone::{self, Typed};
use super::Request;
use super::{or_reply, Current};
use crate::auth::mfa::SendOutcome;
use crate::auth::one_time::Purpose;
use crate::gateway::Gateway;
use crate::notify::Channel;
use crate::respond::Reply;
use crate::store::{AuditEvent, AuditOutcome};

const NOT_OFFERED: &str = "That way of getting codes isn't available for your account.";
const SEND_FAILED: &str = "We couldn't send the code just now. Try again in a minute, \
                           or use another way to sign in.";

fn too_soon(wait: Duration) -> String {
    format!(
        "We sent a code moments ago. Check for it, or ask for a new one in {} seconds.",
        wait.as_secs().max(1)
    )
}

fn too_many(wait: Duration) -> String {
    format!(
        "Too many codes were sent lately. You can ask for another in {} minutes.",
        wait.as_secs().div_ceil(60).max(1)
    )
}

/// The channel the form names, if it is one at all.
fn channel(form: &Form) -> Option<Channel> {
    Channel::from_name(form.get("channel"))
}

/// What an outcome means for the page: the redirect when sent, else the
/// status, message and any Retry-After.
enum Answer {
    Sent,
    Refused(u16, String, Option<Duration>),
}

/// Sends the code; `typed` is the number typed to enroll SMS, if any.
async fn send(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    channel: Channel,
    purpose: Purpose,
    typed: Option<&str>,
) -> Result<Answer, Reply> {
    let ip = req.client_ip();
    let user = current.user();
    let outcome = gw
        .mfa
        .send_code(&current.account.user, channel, purpose, typed, ip)
        .await
        .map_err(|e| store_down(req, e))?;
    let detail = Some(channel.as_str());
    Ok(match outcome {
        SendOutcome::Sent => {
            gw.mfa
                .audit_detail(AuditEvent::CodeSent, user, ip, AuditOutcome::Ok, detail)
                .await;
            Answer::Sent
        }
        SendOutcome::TooSoon(wait) => Answer::Refused(429, too_soon(wait), Some(wait)),
        SendOutcome::TooMany(wait) => {
            gw.mfa
                .audit_detail(
                    AuditEvent::CodeSent,
                    user,
                    ip,
                    AuditOutcome::RefusedLimit,
                    detail,
                )
                .await;
            Answer::Refused(429, too_many(wait), Some(wait))
        }
        SendOutcome::NotOffered => Answer::Refused(400, NOT_OFFERED.to_owned(), None),
        SendOutcome::Failed(e) => {
            // The error names the server or provider, never the code.
            tracing::error!(user, "could not send a code by {channel}: {e}");
            gw.mfa
                .audit_detail(AuditEvent::CodeSent, user, ip, AuditOutcome::Failed, detail)
                .await;
            Answer::Refused(503, SEND_FAILED.to_owned(), None)
        }
    })
}

fn sent_location(page: Route, rd: &str, channel: Channel) -> String {
    format!("{}&sent={}", page.with_rd(rd), channel.as_str())
}

fn with_retry(reply: Reply, wait: Option<Duration>) -> Reply {
    match wait {
        Some(wait) => reply.header("retry-after", &wait.as_secs().max(1).to_string()),
        None => reply,
    }
}

/// POST `/.gatehouse/mfa/send`: a sign-in code to a channel the user has.
pub async fn for_challenge(gw: &Gateway, req: &Request, step: Step) -> Reply {
    let Challenged {
        form,
        rd,
        current,
        offer,
    } = or_reply!(Challenged::read(gw, req, step).await);
    let Some(channel) = channel(&form).filter(|c| offer.includes(*c)) else {
        let error = Some(NOT_OFFERED);
        return challenge(gw, req, &offer, None, 400, &rd, error);
    };
    match or_reply!(send(gw, req, &current, channel, Purpose::SignIn, None).await) {
        Answer::Sent => Reply::redirect(303, &sent_location(step.route(), &rd, channel)),
        Answer::Refused(status, error, wait) => with_retry(
            challenge(gw, req, &offer, None, status, &rd, Some(&error)),
            wait,
        ),
    }
}

/// POST `/.gatehouse/enroll/send`: a code to prove a channel being added.
pub async fn for_enrollment(gw: &Gateway, req: &Request) -> Reply {
    let Enrolling {
        form,
        rd,
        current,
        factors,
        policy,
    } = or_reply!(Enrolling::read(gw, req).await);
    let offered = addable(gw, &current, &factors, &policy);
    let Some(channel) = channel(&form).filter(|c| offered.iter().any(|(o, _)| o == c)) else {
        return page(gw, req, &current, None, 400, &rd, Some(NOT_OFFERED)).await;
    };
    // A typed number that can't get codes is refused before anything is
    // sent or counted; the page keeps it and says why.
    let typed = match phone::read(gw, &form, channel) {
        Ok(typed) => typed,
        Err(refused) => return phone_page(gw, req, &current, 400, &rd, refused).await,
    };
    match or_reply!(
        send(
            gw,
            req,
            &current,
            channel,
            Purpose::Enroll,
            typed.as_deref()
        )
        .await
    ) {
        Answer::Sent => Reply::redirect(303, &sent_location(Route::Enroll, &rd, channel)),
        // Too soon, too many, or the provider failed: said at the number.
        Answer::Refused(status, error, wait) if typed.is_some() => {
            let refused = Typed {
                typed: form.get("phone"),
                error: Some(error),
                offer_app: false,
            };
            with_retry(
                phone_page(gw, req, &current, status, &rd, refused).await,
                wait,
            )
        }
        Answer::Refused(status, error, wait) => with_retry(
            page(gw, req, &current, None, status, &rd, Some(&error)).await,
            wait,
        ),
    }
}

/// The enrollment page with the SMS form showing what was typed.
async fn phone_page(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    status: u16,
    rd: &str,
    typed: Typed<'_>,
) -> Reply {
    let shown = Shown {
        sent: None,
        error: None,
        phone: Some(typed),
    };
    render(gw, req, current, status, rd, &shown).await
}
