//! The second step of signing in: a code from the authenticator or one we
//! sent, or a recovery code when the phone is gone; and the reminder for
//! users who have no second factor yet.

use gatehouse_templates::Route;
use gatehouse_templates::{
    mfa_challenge_page, mfa_reminder_page, recover_page, recovered_page, CodeChannel,
    MfaChallengeView, RecoverView, RecoveredView, ReminderView,
};

use super::form::Form;
use super::login::{locked_message, step_up};
use super::Request;
use super::{or_reply, rd_query, Current};
use crate::auth::mfa::{CodeCheck, MfaError, Status};
use crate::gateway::Gateway;
use crate::limits::{Attempt, Verdict};
use crate::notify::{mask, Channel};
use crate::respond::unavailable_reply;
use crate::respond::Reply;
use crate::session::{now_ms, Proof};
use crate::store::{AuditEvent, AuditOutcome};

const WRONG_CODE: &str =
    "That code didn't work. Enter the newest code from your authenticator app; \
                          if it keeps failing, check that your phone's clock is set automatically.";
const WRONG_SENT_CODE: &str =
    "That code didn't work. Enter the code from the newest message we sent; \
     each code works once and expires.";
const REPLAYED_CODE: &str =
    "That code has already been used. Wait for your app to show a new code, then enter it.";
const WRONG_RECOVERY: &str =
    "That recovery code didn't work. Each code works only once; check for typos.";

/// Why the page asks for a code: the second step of signing in, or a
/// fresh proof before a sensitive action on a signed-in session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    SignIn,
    Confirm,
}

impl Step {
    /// The page that asks, where its forms post.
    pub(super) fn route(self) -> Route {
        match self {
            Step::SignIn => Route::Mfa,
            Step::Confirm => Route::Confirm,
        }
    }
}

/// What the challenge page offers this user: their app, and the channels
/// they enrolled that can still reach them.
pub(super) struct Offer {
    factors: Status,
    channels: Vec<(Channel, String)>,
    pub(super) step: Step,
    /// The organisation's `remember_device_days`.
    remember_days: u32,
}

impl Offer {
    pub(super) async fn load(
        gw: &Gateway,
        current: &Current,
        step: Step,
    ) -> Result<Offer, MfaError> {
        // Only what the organisation allows is offered, or accepted.
        let policy = gw.policy_of(&current.account).await?;
        let status = gw.mfa.status(current.user()).await?.within(policy.methods);
        let channels = gw
            .mfa
            .destinations(&current.account.user)
            .await?
            .into_iter()
            .filter(|(c, _)| status.has(*c))
            .map(|(c, to)| (c, mask(c, &to)))
            .collect();
        Ok(Offer {
            factors: status,
            channels,
            step,
            remember_days: policy.remember_device_days,
        })
    }

    pub(super) fn includes(&self, channel: Channel) -> bool {
        self.channels.iter().any(|(c, _)| *c == channel)
    }
}

/// The challenge page; `sent` names the channel a code just went to.
pub(super) fn challenge(
    gw: &Gateway,
    req: &Request,
    offer: &Offer,
    sent: Option<Channel>,
    status: u16,
    rd: &str,
    error: Option<&str>,
) -> Reply {
    let nonce = gw.csrf_nonce(req);
    let (channels, sent) = code_channels(&offer.channels, sent);
    let html = mfa_challenge_page(&MfaChallengeView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
        error,
        remember_days: offer.remember_days,
        has_app: offer.factors.has_app(),
        channels: &channels,
        sent,
        code_minutes: minutes(gw),
        confirm: offer.step == Step::Confirm,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

/// Channels as pages show them, with the one a code just went to, if it
/// is among them.
pub(super) fn code_channels(
    offered: &[(Channel, String)],
    sent: Option<Channel>,
) -> (Vec<CodeChannel<'_>>, Option<CodeChannel<'_>>) {
    let channels: Vec<CodeChannel> = offered
        .iter()
        .map(|(c, to)| CodeChannel {
            channel: c.as_str(),
            destination: to,
        })
        .collect();
    let sent = sent.and_then(|s| channels.iter().copied().find(|c| c.channel == s.as_str()));
    (channels, sent)
}

/// How long a sent code lives, as pages say it.
pub(super) fn minutes(gw: &Gateway) -> u32 {
    gw.mfa.notify.code_lifetime.as_secs().div_ceil(60) as u32
}

fn recover(gw: &Gateway, req: &Request, status: u16, rd: &str, error: Option<&str>) -> Reply {
    let nonce = gw.csrf_nonce(req);
    let html = recover_page(&RecoverView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
        error,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

/// Checks the failed-attempt limits for a code; `Some` is the reply.
async fn locked(
    gw: &Gateway,
    req: &Request,
    kind: Attempt,
    user: &str,
    page: impl Fn(&str) -> Reply,
) -> Option<Reply> {
    match gw.limiter.check(kind, user, req.client_ip()).await {
        Ok(Verdict::Allowed) => None,
        Ok(Verdict::Locked(wait)) => Some(
            page(&locked_message(wait)).header("retry-after", &wait.as_secs().max(1).to_string()),
        ),
        Err(e) => {
            tracing::error!("rate limiter unavailable: {e}");
            Some(unavailable_reply(req.head()))
        }
    }
}

pub async fn show(gw: &Gateway, req: &Request, step: Step) -> Reply {
    let rd = rd_query(gw, req);
    let current = match gw
        .require_user(req, step == Step::SignIn, &step.route().with_rd(&rd))
        .await
    {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    if step == Step::SignIn && current.session.mfa_done() {
        return Reply::redirect(302, &rd);
    }
    let offer = match Offer::load(gw, &current, step).await {
        Ok(offer) => offer,
        Err(e) => {
            tracing::error!("store unavailable: {e}");
            return unavailable_reply(req.head());
        }
    };
    // No factor yet: nothing to challenge with. (Channels the config no
    // longer offers still count: recovery codes work from this page.)
    if !offer.factors.is_enrolled() {
        return match step {
            Step::SignIn => Reply::redirect(302, &Route::Enroll.with_rd(&rd)),
            Step::Confirm => super::confirm::password_page(gw, req, 200, &rd, None),
        };
    }
    // Only a channel the page offers: the parameter picks a notice, it
    // never puts text on the page.
    let sent = req
        .query_param("sent")
        .as_deref()
        .and_then(Channel::from_name)
        .filter(|c| offer.includes(*c));
    challenge(gw, req, &offer, sent, 200, &rd, None)
}

/// A POST to a challenge action, read and checked: its form and return
/// path, and the user who still owes the second step, with what the page
/// offers them. A session that already passed goes on to `rd`.
pub(super) struct Challenged {
    pub form: Form,
    pub rd: String,
    pub current: Current,
    pub offer: Offer,
}

impl Challenged {
    pub(super) async fn read(gw: &Gateway, req: &Request, step: Step) -> Result<Challenged, Reply> {
        let form = or_reply!(gw.checked_form(req), Err);
        let rd = form.rd(gw);
        let current = or_reply!(
            gw.require_user(req, step == Step::SignIn, &step.route().with_rd(&rd))
                .await,
            Err
        );
        if step == Step::SignIn && current.session.mfa_done() {
            return Err(Reply::redirect(303, &rd));
        }
        let offer = match Offer::load(gw, &current, step).await {
            Ok(offer) => offer,
            Err(e) => {
                tracing::error!("store unavailable: {e}");
                return Err(unavailable_reply(req.head()));
            }
        };
        Ok(Challenged {
            form: form.clone(),
            rd,
            current,
            offer,
        })
    }
}

pub async fn submit(gw: &Gateway, req: &Request, step: Step) -> Reply {
    let Challenged {
        form,
        rd,
        current,
        offer,
    } = or_reply!(Challenged::read(gw, req, step).await);
    if step == Step::Confirm && !offer.factors.is_enrolled() {
        return super::confirm::submit_password(gw, req, &form, &current, &rd).await;
    }
    let user = current.user().to_owned();
    let ip = req.client_ip();
    // App codes and sent codes share one counter: it is one form, and
    // guesses must not get twice the budget by alternating.
    if let Some(reply) = locked(gw, req, Attempt::Totp, &user, |m| {
        challenge(gw, req, &offer, None, 429, &rd, Some(m))
    })
    .await
    {
        return reply;
    }
    let (check, via) = match gw
        .mfa
        .check_sign_in_code(&user, &offer.factors, form.get("code"))
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("MFA check failed: {e}");
            return unavailable_reply(req.head());
        }
    };
    let error = match check {
        CodeCheck::Accepted => None,
        CodeCheck::Wrong if !offer.factors.has_app() => Some(WRONG_SENT_CODE),
        CodeCheck::Wrong => Some(WRONG_CODE),
        CodeCheck::Replayed => Some(REPLAYED_CODE),
        CodeCheck::NotEnrolled => return Reply::redirect(303, &Route::Enroll.with_rd(&rd)),
    };
    let event = match step {
        Step::SignIn => AuditEvent::MfaChallenge,
        Step::Confirm => AuditEvent::Confirmed,
    };
    if let Some(error) = error {
        let event = if check == CodeCheck::Replayed {
            AuditEvent::CodeReplayRefused
        } else {
            event
        };
        gw.mfa.audit(event, &user, ip, AuditOutcome::Failed).await;
        if let Err(e) = gw.limiter.record_failure(Attempt::Totp, &user, ip).await {
            tracing::error!("rate limiter unavailable: {e}");
        }
        return challenge(gw, req, &offer, None, 401, &rd, Some(error));
    }
    let _ = gw.limiter.record_success(Attempt::Totp, &user, ip).await;
    gw.mfa
        .audit_detail(event, &user, ip, AuditOutcome::Ok, Some(via))
        .await;
    let next = current.session.with_proof(now_ms(), Proof::Code);
    let cookie = or_reply!(step_up(gw, req, &next, &current, &rd).await);
    let mut reply = Reply::redirect(303, &rd).cookie(&cookie);
    let remember = step == Step::SignIn && form.get("remember_device") == "1";
    let days = offer.remember_days;
    if remember && days > 0 {
        let label = req
            .header(http::header::USER_AGENT)
            .unwrap_or("a browser")
            .to_owned();
        match gw.mfa.remember_device(&user, &label, days).await {
            Ok(value) => {
                gw.mfa
                    .audit(AuditEvent::DeviceRemembered, &user, ip, AuditOutcome::Ok)
                    .await;
                reply = reply.cookie(&gw.cookies.device_cookie(&value, days));
            }
            Err(e) => tracing::error!("could not remember the device: {e}"),
        }
    }
    reply
}

pub async fn show_recover(gw: &Gateway, req: &Request) -> Reply {
    let rd = rd_query(gw, req);
    match gw
        .require_user(req, true, &Route::Recover.with_rd(&rd))
        .await
    {
        Ok(current) if current.session.mfa_done() => Reply::redirect(302, &rd),
        Ok(_) => recover(gw, req, 200, &rd, None),
        Err(reply) => reply,
    }
}

pub async fn submit_recover(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let rd = form.rd(gw);
    let current = or_reply!(
        gw.require_user(req, true, &Route::Recover.with_rd(&rd))
            .await
    );
    if current.session.mfa_done() {
        return Reply::redirect(303, &rd);
    }
    let user = current.user().to_owned();
    let ip = req.client_ip();
    if let Some(reply) = locked(gw, req, Attempt::Recovery, &user, |m| {
        recover(gw, req, 429, &rd, Some(m))
    })
    .await
    {
        return reply;
    }
    let used = match gw.mfa.use_recovery_code(&user, form.get("code")).await {
        Ok(used) => used,
        Err(e) => {
            tracing::error!("recovery code check failed: {e}");
            return unavailable_reply(req.head());
        }
    };
    if !used {
        gw.mfa
            .audit(
                AuditEvent::RecoveryCodeUsed,
                &user,
                ip,
                AuditOutcome::Failed,
            )
            .await;
        if let Err(e) = gw
            .limiter
            .record_failure(Attempt::Recovery, &user, ip)
            .await
        {
            tracing::error!("rate limiter unavailable: {e}");
        }
        return recover(gw, req, 401, &rd, Some(WRONG_RECOVERY));
    }
    let _ = gw
        .limiter
        .record_success(Attempt::Recovery, &user, ip)
        .await;
    gw.mfa
        .audit(AuditEvent::RecoveryCodeUsed, &user, ip, AuditOutcome::Ok)
        .await;
    let next = current.session.with_proof(now_ms(), Proof::Recovery);
    let cookie = or_reply!(step_up(gw, req, &next, &current, &rd).await);
    let remaining = gw.mfa.recovery_remaining(&user).await.unwrap_or(0);
    let nonce = gw.csrf_nonce(req);
    let html = recovered_page(&RecoveredView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd: &rd,
        remaining,
    });
    gw.with_nonce(Reply::html(200, html), &nonce)
        .cookie(&cookie)
}

/// Shown after the password to users without MFA when it isn't enforced.
pub async fn reminder(gw: &Gateway, req: &Request) -> Reply {
    let rd = rd_query(gw, req);
    if let Err(reply) = gw
        .require_user(req, false, &Route::Remind.with_rd(&rd))
        .await
    {
        return reply;
    }
    let nonce = gw.csrf_nonce(req);
    let html = mfa_reminder_page(&ReminderView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd: &rd,
    });
    gw.with_nonce(Reply::html(200, html), &nonce)
}
