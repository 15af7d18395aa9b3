//! Enrolling a second factor (an authenticator app, or codes by email or
//! text message), and showing recovery codes once.

use gatehouse_templates::Route;
use std::net::IpAddr;

use gatehouse_templates::{
    enroll_page, recovery_codes_page, AppSetup, EnrollView, RecoveryCodesView,
};

use super::challenge::{code_channels, minutes};
use super::form::Form;
use super::login::{ended_meanwhile, locked_message};
use super::phone::{self, Typed};
use super::Request;
use super::{confirm, or_reply, rd_query, Current};
use crate::auth::authorize::{Factors, OrgView, Sensitive};
use crate::auth::lifecycle::LifecycleError;
use crate::auth::mfa::{CodeCheck, Factor, MfaError, Status};
use crate::gateway::Gateway;
use crate::limits::{Attempt, Verdict};
use crate::notify::{mask, Channel};
use crate::policy::{Method, UserPolicy};
use crate::respond::unavailable_reply;
use crate::respond::Reply;
use crate::session::{SessionError, SessionId};
use crate::store::{AuditEvent, AuditOutcome};

const WRONG_CODE: &str =
    "That code didn't match. Enter the 6-digit code your app shows now for Gatehouse; \
                          if it keeps failing, check that your phone's clock is set automatically.";
const WRONG_CODES: &str =
    "Those codes didn't match. Enter the code your app shows now, wait for it to change, \
                           then enter the next one.";

const WRONG_SENT_CODE: &str =
    "That code didn't match. Enter the 6-digit code from the newest message we sent.";
const NO_SENT_CODE: &str =
    "That code has expired or was replaced by a newer one. Send yourself a new code.";

pub(super) fn store_down(req: &Request, e: impl std::fmt::Display) -> Reply {
    tracing::error!("store unavailable during enrollment: {e}");
    unavailable_reply(req.head())
}

/// The user's factors, and their organisation's policy, which must offer
/// a second factor at all: where MFA is off, the page says so.
async fn factors_and_policy(
    gw: &Gateway,
    req: &Request,
    current: &Current,
) -> Result<(Status, UserPolicy), Reply> {
    let loaded = async {
        let policy = gw.policy_of(&current.account).await?;
        Ok::<_, MfaError>((gw.mfa.status(current.user()).await?, policy))
    };
    match loaded.await {
        Ok((_, policy)) if !policy.offered() => Err(Reply::error(
            req.head(),
            403,
            "mfa_off",
            "Two-factor authentication is off",
            "Your organisation has turned two-factor authentication off, so there is \
             nothing to set up. Ask your organisation's admin if you need it.",
        )),
        Ok(loaded) => Ok(loaded),
        Err(e) => Err(store_down(req, e)),
    }
}

/// Whether this session may add a factor: anyone without one, or a user
/// with one who proved it freshly on this session. Otherwise the password
/// alone, or a stolen session, could add an attacker's phone; the reply
/// sends them to the challenge, or to confirm.
pub(super) fn may_enroll(
    gw: &Gateway,
    current: &Current,
    status: &Status,
    rd: &str,
) -> Result<(), Reply> {
    if !status.is_enrolled() {
        return Ok(());
    }
    if !current.session.mfa_done() {
        return Err(Reply::redirect(303, &Route::Mfa.with_rd(rd)));
    }
    // Whether MFA is required changes nothing for a session that has done
    // its second step, so the store need not be asked.
    const OPTIONAL: OrgView = OrgView {
        mfa_required: false,
        mfa_offered: true,
    };
    match gw
        .lifecycle()
        .fresh(&current.session, Factors::Some, OPTIONAL, Sensitive::Other)
    {
        Ok(_) => Ok(()),
        Err(_) => Err(confirm::ask(&Route::Enroll.with_rd(rd))),
    }
}

/// The channels the user can still add: reachable, not on yet, and
/// allowed by their organisation. SMS has no address when users type
/// their number.
pub(super) fn addable(
    gw: &Gateway,
    current: &Current,
    status: &Status,
    policy: &UserPolicy,
) -> Vec<(Channel, String)> {
    gw.mfa
        .enrollable(&current.account.user)
        .into_iter()
        .filter(|(c, _)| !status.has(*c))
        .filter(|(c, _)| policy.methods.contains(Factor::Contact(*c).method()))
        .map(|(c, to)| (c, to.map(|to| mask(c, &to)).unwrap_or_default()))
        .collect()
}

/// The enrollment page: the user's pending authenticator secret (unless
/// they have an app) and the channels they can still add. `sent` names
/// the channel a confirmation code just went to.
pub(super) async fn page(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    sent: Option<Channel>,
    status: u16,
    rd: &str,
    error: Option<&str>,
) -> Reply {
    let shown = Shown {
        sent,
        error,
        phone: None,
    };
    render(gw, req, current, status, rd, &shown).await
}

/// What the enrollment page shows besides the user's factors.
pub(super) struct Shown<'a> {
    pub sent: Option<Channel>,
    pub error: Option<&'a str>,
    /// The number typed for SMS, again, with why it was not used.
    pub phone: Option<Typed<'a>>,
}

/// [`page`], with all it can show.
pub(super) async fn render(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    status: u16,
    rd: &str,
    shown: &Shown<'_>,
) -> Reply {
    let (factors, policy) = or_reply!(factors_and_policy(gw, req, current).await);
    if let Err(reply) = may_enroll(gw, current, &factors.within(policy.methods), rd) {
        return reply;
    }
    let pending = if factors.has_app() || !policy.methods.contains(Method::Totp) {
        None
    } else {
        // `None` here: confirmed in the meantime, elsewhere.
        match gw.mfa.begin_enrollment(current.user()).await {
            Ok(p) => p,
            Err(e) => return store_down(req, e),
        }
    };
    let mut offered = addable(gw, current, &factors, &policy);
    if let Err(e) = phone::name_pending(gw, current.user(), &mut offered).await {
        return store_down(req, e);
    }
    if pending.is_none() && offered.is_empty() {
        return Reply::redirect(303, Route::Account.path());
    }
    let enforced = policy.required();
    let (channels, sent) = code_channels(&offered, shown.sent);
    // A typed number's notice needs the number: none once its code is gone.
    let sent = sent.filter(|c| !c.destination.is_empty());
    let countries = gw.mfa.typed_numbers().map(phone::countries);
    let grouped = pending.as_ref().map(|p| p.secret.grouped());
    let app = pending
        .as_ref()
        .zip(grouped.as_deref())
        .map(|(p, grouped)| AppSetup {
            qr_svg: &p.qr_svg,
            secret_grouped: grouped,
            otpauth_uri: &p.uri,
            two_codes: gw.settings.mfa.enroll_two_codes,
        });
    let nonce = gw.csrf_nonce(req);
    let html = enroll_page(&EnrollView {
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
        issuer: &gw.settings.mfa.issuer,
        account: current.user(),
        enforced,
        error: shown.error,
        app,
        channels: &channels,
        sent,
        code_minutes: minutes(gw),
        phone: phone::entry(countries.as_deref(), shown.phone.as_ref()),
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

/// The one-time display of fresh recovery codes.
pub(super) fn codes_page(gw: &Gateway, req: &Request, codes: &[String], rd: &str) -> Reply {
    let nonce = gw.csrf_nonce(req);
    let html = recovery_codes_page(&RecoveryCodesView {
        codes,
        csrf_token: &gw.csrf.token(&nonce.value),
        rd,
    });
    gw.with_nonce(Reply::html(200, html), &nonce)
}

pub async fn show(gw: &Gateway, req: &Request) -> Reply {
    let rd = rd_query(gw, req);
    // Picks a notice among the offered channels; never echoed.
    let sent = req
        .query_param("sent")
        .as_deref()
        .and_then(Channel::from_name);
    match gw
        .require_user(req, true, &Route::Enroll.with_rd(&rd))
        .await
    {
        Ok(current) => page(gw, req, &current, sent, 200, &rd, None).await,
        Err(reply) => reply,
    }
}

/// A POST to an enrollment action, read and checked: its form and return
/// path, and the user with their factors, once this session may add one.
pub(super) struct Enrolling {
    pub form: Form,
    pub rd: String,
    pub current: Current,
    pub factors: Status,
    pub policy: UserPolicy,
}

impl Enrolling {
    pub(super) async fn read(gw: &Gateway, req: &Request) -> Result<Enrolling, Reply> {
        let form = or_reply!(gw.checked_form(req), Err);
        let rd = form.rd(gw);
        let current = or_reply!(
            gw.require_user(req, true, &Route::Enroll.with_rd(&rd))
                .await,
            Err
        );
        let (factors, policy) = or_reply!(factors_and_policy(gw, req, &current).await, Err);
        or_reply!(
            may_enroll(gw, &current, &factors.within(policy.methods), &rd),
            Err
        );
        let method = match form.get("channel") {
            "" => Some(Method::Totp),
            name => Channel::from_name(name).map(|c| Factor::Contact(c).method()),
        };
        if method.is_some_and(|m| !policy.methods.contains(m)) {
            let reply = page(gw, req, &current, None, 400, &rd, Some(UNKNOWN_CHANNEL)).await;
            return Err(reply);
        }
        Ok(Enrolling {
            form: form.clone(),
            rd,
            current,
            factors,
            policy,
        })
    }
}

pub async fn submit(gw: &Gateway, req: &Request) -> Reply {
    let Enrolling {
        form, rd, current, ..
    } = or_reply!(Enrolling::read(gw, req).await);
    match form.get("channel") {
        "" => submit_app(gw, req, &current, &form, &rd).await,
        name => match Channel::from_name(name) {
            Some(channel) => submit_channel(gw, req, &current, channel, &form, &rd).await,
            None => page(gw, req, &current, None, 400, &rd, Some(UNKNOWN_CHANNEL)).await,
        },
    }
}

const UNKNOWN_CHANNEL: &str = "That way of getting codes isn't available for your account.";

/// Confirming the authenticator app with its code(s).
async fn submit_app(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    form: &Form,
    rd: &str,
) -> Reply {
    let user = current.user();
    let ip = req.client_ip();
    let next_code = gw.settings.mfa.enroll_two_codes.then(|| form.get("code2"));
    let codes = match gw
        .mfa
        .confirm_enrollment(user, form.get("code"), next_code)
        .await
    {
        Ok(Ok(codes)) => codes,
        Ok(Err(CodeCheck::NotEnrolled)) => return Reply::redirect(303, Route::Account.path()),
        Ok(Err(_)) => {
            gw.mfa
                .audit(AuditEvent::MfaEnrolled, user, ip, AuditOutcome::Failed)
                .await;
            let error = if next_code.is_some() {
                WRONG_CODES
            } else {
                WRONG_CODE
            };
            return page(gw, req, current, None, 400, rd, Some(error)).await;
        }
        Err(e) => return store_down(req, e),
    };
    enrolled(gw, req, current, Factor::App, codes, rd).await
}

/// Confirming an email address or phone with the code sent there.
async fn submit_channel(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    channel: Channel,
    form: &Form,
    rd: &str,
) -> Reply {
    let user = current.user();
    let ip = req.client_ip();
    match gw.limiter.check(Attempt::OneTimeCode, user, ip).await {
        Ok(Verdict::Allowed) => {}
        Ok(Verdict::Locked(wait)) => {
            let error = locked_message(wait);
            let reply = page(gw, req, current, None, 429, rd, Some(&error)).await;
            return reply.header("retry-after", &wait.as_secs().max(1).to_string());
        }
        Err(e) => return store_down(req, e),
    }
    let codes = match gw
        .mfa
        .confirm_contact(user, channel, form.get("code"))
        .await
    {
        Ok(Ok(codes)) => codes,
        Ok(Err(check)) => {
            gw.mfa
                .audit_detail(
                    AuditEvent::MfaEnrolled,
                    user,
                    ip,
                    AuditOutcome::Failed,
                    Some(channel.as_str()),
                )
                .await;
            if let Err(e) = gw
                .limiter
                .record_failure(Attempt::OneTimeCode, user, ip)
                .await
            {
                tracing::error!("rate limiter unavailable: {e}");
            }
            let (sent, error) = match check {
                CodeCheck::NotEnrolled => (None, NO_SENT_CODE),
                _ => (Some(channel), WRONG_SENT_CODE),
            };
            return page(gw, req, current, sent, 400, rd, Some(error)).await;
        }
        Err(e) => return store_down(req, e),
    };
    let _ = gw
        .limiter
        .record_success(Attempt::OneTimeCode, user, ip)
        .await;
    enrolled(gw, req, current, Factor::Contact(channel), codes, rd).await
}

/// A factor is on. Proving it is a second step: the session steps up with
/// a new id. A first factor shows its recovery codes; another one goes
/// back to the account page.
async fn enrolled(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    factor: Factor,
    codes: Option<Vec<String>>,
    rd: &str,
) -> Reply {
    let id = match step_up(gw, current, factor, req.client_ip()).await {
        Ok(id) => id,
        Err(NotSteppedUp::Ended) => return ended_meanwhile(gw, rd),
        Err(NotSteppedUp::Down(e)) => return store_down(req, e),
    };
    let cookie = gw.cookies.session_cookie(id.as_str());
    match codes {
        Some(codes) => codes_page(gw, req, &codes, rd).cookie(&cookie),
        None => {
            Reply::redirect(303, &super::notice::Notice::FactorAdded.location()).cookie(&cookie)
        }
    }
}

/// Why an enrollment saved no stepped-up session.
#[derive(Debug)]
enum NotSteppedUp {
    /// The user's sessions were ended meanwhile; the factor was taken back.
    Ended,
    /// A store failed; this says which and how.
    Down(String),
}

/// Steps the session up now that `factor` is on (see
/// [`crate::auth::lifecycle::Lifecycle::step_up_enrolled`]).
async fn step_up(
    gw: &Gateway,
    current: &Current,
    factor: Factor,
    ip: IpAddr,
) -> Result<SessionId, NotSteppedUp> {
    let actor = current.actor_from(gw, ip);
    match gw
        .lifecycle()
        .step_up_enrolled(&actor, &current.id, factor)
        .await
    {
        Ok(id) => Ok(id),
        Err(LifecycleError::Sessions(SessionError::Ended)) => Err(NotSteppedUp::Ended),
        Err(e) => Err(NotSteppedUp::Down(e.to_string())),
    }
}

/// "I have saved these": on to where the user was going.
pub async fn acknowledge(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    Reply::redirect(303, &form.rd(gw))
}

/// "Replace your authenticator": every factor goes, and the user enrolls
/// again. After a recovery code this is the one change allowed.
pub async fn reset(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let rd = form.rd(gw);
    let current = or_reply!(gw.require_user(req, false, Route::Account.path()).await);
    let actor = current.actor(gw, req);
    let removed = match gw.lifecycle().replace_authenticator(&actor).await {
        Ok(removed) => removed,
        Err(e) => {
            or_reply!(confirm::unless_refused(req, e, &rd));
            return Reply::redirect(303, &Route::Enroll.with_rd(&rd));
        }
    };
    let reply =
        Reply::redirect(303, &Route::Enroll.with_rd(&rd)).cookie(&gw.cookies.clear_device());
    gw.with_session(reply, removed.session.as_ref())
}

#[cfg(test)]
#[path = "enroll_races.rs"]
mod races;
