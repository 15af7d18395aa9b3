//! `notify:`: email and SMS delivery of one-time codes.

use std::time::Duration;

use super::*;

const EMAIL: &str = "notify:\n  email:\n    smtp_url: \"smtp://127.0.0.1:2525\"\n    from: \"Gatehouse <gh@example.com>\"\n";

#[test]
fn notify_is_off_unless_configured() {
    let settings = build(MINIMAL);
    assert!(settings.notify.email.is_none());
    assert!(settings.notify.sms.is_none());
    assert_eq!(settings.notify.code_lifetime, Duration::from_secs(600));
    assert_eq!(settings.notify.resend_after, Duration::from_secs(30));
}

#[test]
fn email_and_sms_settings_are_read() {
    let settings = build(&minimal_plus(&format!(
        "{EMAIL}  sms:\n    api_url: \"http://127.0.0.1:9999/\"\n    account_sid: AC123\n    \
         auth_token: secret-token\n    from: \"+15005550006\"\n  code_lifetime: 5m\n  \
         resend_after: 20s\n"
    )));
    let email = settings.notify.email.expect("email");
    assert_eq!(email.smtp_url, "smtp://127.0.0.1:2525");
    assert_eq!(email.from, "Gatehouse <gh@example.com>");
    let sms = settings.notify.sms.expect("sms");
    assert_eq!(
        sms.api_url, "http://127.0.0.1:9999",
        "trailing slash dropped"
    );
    assert_eq!(sms.account_sid, "AC123");
    assert!(
        !format!("{sms:?}").contains("secret-token"),
        "the token stays out of Debug"
    );
    assert_eq!(settings.notify.code_lifetime, Duration::from_secs(300));
    assert_eq!(settings.notify.resend_after, Duration::from_secs(20));
}

#[test]
fn sms_defaults_to_twilio() {
    let settings = build(&minimal_plus(
        "notify:\n  sms:\n    account_sid: AC1\n    auth_token: t\n    from: Acme\n",
    ));
    assert_eq!(
        settings.notify.sms.unwrap().api_url,
        "https://api.twilio.com"
    );
}

#[test]
fn bad_email_settings_name_the_key_without_echoing_the_url() {
    let lines = error_lines(&minimal_plus(
        "notify:\n  email:\n    smtp_url: \"http://user:hunter2@mail\"\n    from: \"not a mailbox\"\n",
    ));
    assert_line(&lines, "notify.email.smtp_url", "must start with smtp://");
    assert_line(
        &lines,
        "notify.email.from",
        "\"not a mailbox\" is not a mailbox",
    );
    assert!(lines.iter().all(|l| !l.contains("hunter2")), "{lines:?}");
    let lines = error_lines(&minimal_plus("notify:\n  email:\n    from: a@b.c\n"));
    assert_line(&lines, "notify.email.smtp_url", "missing");
}

#[test]
fn bad_sms_settings_name_each_key() {
    let lines = error_lines(&minimal_plus(
        "notify:\n  sms:\n    api_url: \"ftp://x\"\n    account_sid: \"AC/../\"\n    \
         auth_token: \"\"\n    from: \"5550006\"\n",
    ));
    assert_line(
        &lines,
        "notify.sms.api_url",
        "not an http:// or https:// URL",
    );
    assert_line(&lines, "notify.sms.account_sid", "letters and digits only");
    assert_line(&lines, "notify.sms.auth_token", "must not be empty");
    assert_line(&lines, "notify.sms.from", "neither an E.164 number");
}

#[test]
fn a_zero_resend_pause_turns_it_off() {
    let settings = build(&minimal_plus("notify:\n  resend_after: 0s\n"));
    assert_eq!(settings.notify.resend_after, Duration::ZERO);
}

#[test]
fn code_timing_is_checked() {
    let lines = error_lines(&minimal_plus("notify:\n  code_lifetime: 500ms\n"));
    assert_line(&lines, "notify.code_lifetime", "between 1s and 1h");
    let lines = error_lines(&minimal_plus("notify:\n  code_lifetime: 2h\n"));
    assert_line(&lines, "notify.code_lifetime", "between 1s and 1h");
    let short = build(&minimal_plus(
        "notify:\n  code_lifetime: 2s\n  resend_after: 1s\n",
    ));
    assert_eq!(short.notify.code_lifetime, Duration::from_secs(2));
    let lines = error_lines(&minimal_plus(
        "notify:\n  code_lifetime: 2m\n  resend_after: 5m\n",
    ));
    assert_line(
        &lines,
        "notify.resend_after",
        "not be longer than notify.code_lifetime",
    );
}

#[test]
fn unknown_notify_key_is_named() {
    let lines = error_lines(&minimal_plus("notify:\n  email:\n    smtp: x\n"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("notify.email"), "{lines:?}");
    assert!(lines[0].contains("smtp"), "{lines:?}");
}

const SMS: &str =
    "notify:\n  sms:\n    account_sid: AC1\n    auth_token: t\n    from: \"+15005550006\"\n";

#[test]
fn sms_countries_are_off_unless_listed() {
    let settings = build(&minimal_plus(SMS));
    assert_eq!(settings.notify.sms.expect("sms").countries, None);
}

#[test]
fn sms_countries_are_read_in_any_case() {
    use phonenumber::country::Id;
    let settings = build(&minimal_plus(&format!(
        "{SMS}    countries: [AU, nz, \" GB \", NO]\n"
    )));
    let sms = settings.notify.sms.expect("sms");
    assert_eq!(sms.countries, Some(vec![Id::AU, Id::NZ, Id::GB, Id::NO]));
    assert!(format!("{sms:?}").contains("AU"));
}

#[test]
fn bad_sms_countries_name_each_entry() {
    let lines = error_lines(&minimal_plus(&format!(
        "{SMS}    countries: [AU, ZZ, AUS, \"\", au, 61]\n"
    )));
    assert_line(
        &lines,
        "notify.sms.countries[1]",
        "\"ZZ\" is not an ISO 3166",
    );
    assert_line(
        &lines,
        "notify.sms.countries[2]",
        "\"AUS\" is not an ISO 3166",
    );
    assert_line(&lines, "notify.sms.countries[3]", "is not an ISO 3166");
    assert_line(&lines, "notify.sms.countries[4]", "\"au\" is listed twice");
    assert_line(
        &lines,
        "notify.sms.countries[5]",
        "\"61\" is not an ISO 3166",
    );
    assert!(
        lines.iter().all(|l| !l.contains("countries[0]")),
        "{lines:?}"
    );
    let lines = error_lines(&minimal_plus(&format!("{SMS}    countries: []\n")));
    assert_line(&lines, "notify.sms.countries", "must list at least one");
    let lines = error_lines(&minimal_plus(&format!("{SMS}    countries: AU\n")));
    assert_line(&lines, "notify.sms.countries", "");
}
