//! `notify:`: where one-time codes are sent, checked before anything starts
//! so that a typo shows at `check-config`, not at a user's first sign-in.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use phonenumber::country::Id;

use super::duration::parse_duration;
use super::error::{quote, Problems};
use super::raw::{RawEmail, RawNotify, RawSms};
use super::settings::{EmailSettings, NotifySettings, SmsSettings};

/// Twilio's own API; the key exists so a compatible provider (or a test's
/// local server) can stand in.
const DEFAULT_SMS_API: &str = "https://api.twilio.com";

/// Seconds are allowed, though a message can take longer to arrive: tests
/// watch a code expire without waiting a minute for it.
const MIN_LIFETIME: Duration = Duration::from_secs(1);
const MAX_LIFETIME: Duration = Duration::from_secs(60 * 60);

pub(crate) fn check_notify(raw: RawNotify, p: &mut Problems) -> NotifySettings {
    let defaults = NotifySettings::default();
    let code_lifetime = p
        .check(parse_duration(
            "notify.code_lifetime",
            raw.code_lifetime.as_deref(),
            defaults.code_lifetime,
        ))
        .unwrap_or(defaults.code_lifetime);
    if !(MIN_LIFETIME..=MAX_LIFETIME).contains(&code_lifetime) {
        p.push(
            "notify.code_lifetime",
            "must be between 1s and 1h: long enough for a slow mail (a few minutes is usual), short enough to be useless when stolen",
        );
    }
    // Zero is allowed here, unlike other durations: it turns the pause off.
    let resend_after = match raw.resend_after.as_deref().map(str::trim) {
        Some(text) if humantime::parse_duration(text).is_ok_and(|d| d.is_zero()) => Duration::ZERO,
        text => p
            .check(parse_duration(
                "notify.resend_after",
                text,
                defaults.resend_after,
            ))
            .unwrap_or(defaults.resend_after),
    };
    if resend_after > code_lifetime {
        p.push(
            "notify.resend_after",
            "must not be longer than notify.code_lifetime, or a user could be left without a usable code",
        );
    }
    NotifySettings {
        email: raw.email.and_then(|e| check_email(e, p)),
        sms: raw.sms.and_then(|s| check_sms(s, p)),
        code_lifetime,
        resend_after,
    }
}

/// A required string at `key`; an absent or blank one is recorded.
fn required(p: &mut Problems, key: &str, value: Option<String>, what: &str) -> Option<String> {
    match value {
        Some(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
        Some(_) => {
            p.push(key, format!("must not be empty: {what}"));
            None
        }
        None => {
            p.push(key, format!("missing: {what}"));
            None
        }
    }
}

fn check_email(raw: RawEmail, p: &mut Problems) -> Option<EmailSettings> {
    let url = required(
        p,
        "notify.email.smtp_url",
        raw.smtp_url,
        "the SMTP server, like smtp://mail.example.com:587?tls=required",
    );
    let from = required(
        p,
        "notify.email.from",
        raw.from,
        "the sender, like \"Gatehouse <gatehouse@example.com>\"",
    );
    if let Some(url) = &url {
        // The URL may carry a password: describe it, never echo it.
        if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
            p.push(
                "notify.email.smtp_url",
                "must start with smtp:// or smtps://",
            );
        } else if let Err(e) = AsyncSmtpTransport::<Tokio1Executor>::from_url(url) {
            p.push(
                "notify.email.smtp_url",
                format!("not a usable SMTP URL: {e}"),
            );
        }
    }
    if let Some(from) = &from {
        if let Err(e) = from.parse::<Mailbox>() {
            p.push(
                "notify.email.from",
                format!(
                    "{} is not a mailbox ({e}); write it like \"Gatehouse <gatehouse@example.com>\"",
                    quote(from)
                ),
            );
        }
    }
    Some(EmailSettings {
        smtp_url: url?,
        from: from?,
    })
}

/// A sender Twilio accepts: an E.164 number or an alphanumeric sender ID.
fn valid_sender(from: &str) -> bool {
    let e164 = from
        .strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
    let alphanumeric = (1..=11).contains(&from.len())
        && from.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && from.bytes().any(|b| b.is_ascii_alphabetic());
    e164 || alphanumeric
}

fn check_sms(raw: RawSms, p: &mut Problems) -> Option<SmsSettings> {
    let api_url = raw
        .api_url
        .unwrap_or_else(|| DEFAULT_SMS_API.to_owned())
        .trim()
        .trim_end_matches('/')
        .to_owned();
    let api_ok = match api_url.parse::<http::Uri>() {
        Ok(uri) => {
            matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.host().is_some_and(|h| !h.is_empty())
        }
        Err(_) => false,
    };
    if !api_ok {
        p.push(
            "notify.sms.api_url",
            format!("{} is not an http:// or https:// URL", quote(&api_url)),
        );
    }
    let account_sid = required(
        p,
        "notify.sms.account_sid",
        raw.account_sid,
        "the provider account's SID",
    );
    if let Some(sid) = &account_sid {
        if !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            p.push(
                "notify.sms.account_sid",
                format!("{} must be letters and digits only", quote(sid)),
            );
        }
    }
    // A secret: its problems are described, never echoed.
    let auth_token = required(
        p,
        "notify.sms.auth_token",
        raw.auth_token,
        "the provider account's auth token",
    );
    let from = required(
        p,
        "notify.sms.from",
        raw.from,
        "the sending number, like \"+15005550006\"",
    );
    if let Some(from) = &from {
        if !valid_sender(from) {
            p.push(
                "notify.sms.from",
                format!(
                    "{} is neither an E.164 number like \"+15005550006\" nor a sender ID of up to 11 letters and digits",
                    quote(from)
                ),
            );
        }
    }
    let countries = raw.countries.map(|list| check_countries(list, p));
    Some(SmsSettings {
        countries,
        api_url: api_ok.then_some(api_url)?,
        account_sid: account_sid?,
        auth_token: auth_token?,
        from: from?,
    })
}

/// `notify.sms.countries`: ISO 3166 alpha-2 codes, in any case.
fn check_countries(list: Vec<String>, p: &mut Problems) -> Vec<Id> {
    if list.is_empty() {
        p.push(
            "notify.sms.countries",
            "must list at least one country, like [AU, NZ, GB]; leave it out to send codes to the phone numbers in the users file",
        );
    }
    let mut ids = Vec::with_capacity(list.len());
    for (i, code) in list.iter().enumerate() {
        let key = format!("notify.sms.countries[{i}]");
        let upper = code.trim().to_ascii_uppercase();
        let id = (upper.len() == 2)
            .then(|| upper.parse::<Id>().ok())
            .flatten();
        match id {
            Some(id) if ids.contains(&id) => p.push(key, format!("{} is listed twice", quote(code))),
            Some(id) => ids.push(id),
            None => p.push(
                key,
                format!(
                    "{} is not an ISO 3166 alpha-2 country code with phone numbers, like AU, NZ or GB",
                    quote(code)
                ),
            ),
        }
    }
    ids
}
