use super::*;
use crate::test_support::{assert_send_forms, forms};

const SVG: &str = r##"<?xml version="1.0" standalone="yes"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="200" height="200" viewBox="0 0 200 200"><rect x="0" y="0" width="200" height="200" fill="#fff"/><path fill="#000" d="M0 0h8v8H0z"/></svg>"##;

const APP: AppSetup<'static> = AppSetup {
    qr_svg: SVG,
    secret_grouped: "JBSW Y3DP EHPK 3PXP",
    otpauth_uri: "otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP&issuer=Acme",
    two_codes: false,
};

const CHANNELS: [CodeChannel<'static>; 2] = crate::channel::SAMPLE_CHANNELS;

fn view() -> EnrollView<'static> {
    EnrollView {
        csrf_token: "tok",
        rd: "/wiki?a=1&b=2",
        issuer: "Acme",
        account: "alice",
        enforced: false,
        error: None,
        app: Some(APP),
        channels: &[],
        sent: None,
        code_minutes: 10,
        phone: None,
    }
}

fn two_codes() -> Option<AppSetup<'static>> {
    Some(AppSetup {
        two_codes: true,
        ..APP
    })
}

#[test]
fn enroll_form_posts_code_with_csrf_and_rd() {
    let html = enroll_page(&view());
    assert!(html.contains(r#"<form method="post" action="/.gatehouse/enroll">"#));
    assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
    assert!(html.contains(r#"<input type="hidden" name="rd" value="/wiki?a=1&amp;b=2">"#));
    assert!(html.contains(r#"name="code" type="text" autocomplete="one-time-code""#));
    assert!(
        !html.contains("autofocus"),
        "no focus jump on a first visit"
    );
}

#[test]
fn instructions_name_the_common_authenticator_apps() {
    let html = enroll_page(&view());
    for app in APPS {
        assert!(html.contains(&format!("<strong>{app}</strong>")), "{app}");
    }
}

#[test]
fn secret_is_inside_totp_secret() {
    let html = enroll_page(&view());
    assert!(html.contains(r#"<p class="secret" id="totp-secret">JBSW Y3DP EHPK 3PXP</p>"#));
    let details = &html[html.find("<details").unwrap()..html.find("</details>").unwrap()];
    assert!(details.contains("<summary>Can't scan it?</summary>"));
    assert!(details.contains("id=\"totp-secret\""));
    assert!(details.contains("Time-based, 6 digits, every 30 seconds"));
    assert!(details.contains("<dd>alice</dd>") && details.contains("<dd>Acme</dd>"));
}

#[test]
fn svg_is_inlined_without_its_xml_declaration() {
    let html = enroll_page(&view());
    assert!(html.contains(r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="200""#));
    assert!(html.contains(r##"<path fill="#000" d="M0 0h8v8H0z"/></svg></div>"##));
    assert!(!html.contains("<?xml"));
    assert!(html.contains(r#"<div class="qr" role="img" aria-label="QR code to add alice at Acme"#));
}

#[test]
fn user_strings_are_escaped_while_the_svg_is_not() {
    let html = enroll_page(&EnrollView {
        account: "<script>alert(1)</script>",
        issuer: "<b>Acme</b>",
        app: Some(AppSetup {
            secret_grouped: "<i>KEY</i>",
            ..APP
        }),
        rd: r#"/"><script>"#,
        csrf_token: r#""><x"#,
        error: Some("<img src=x>"),
        ..view()
    });
    assert!(!html.contains("<script"), "script tag leaked");
    assert!(!html.contains("<b>Acme") && !html.contains("<i>KEY") && !html.contains("<img"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;b&gt;Acme&lt;/b&gt;"));
    assert!(html.contains(r#"id="totp-secret">&lt;i&gt;KEY&lt;/i&gt;</p>"#));
    assert!(html.contains(r#"value="&quot;&gt;&lt;x""#));
    assert!(html.contains("<svg "), "the trusted SVG is markup");
}

#[test]
fn open_in_app_link_is_the_otpauth_uri() {
    let html = enroll_page(&view());
    assert!(html.contains(
        r#"<a href="otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP&amp;issuer=Acme">Open in authenticator app</a>"#
    ));
    let other = enroll_page(&EnrollView {
        app: Some(AppSetup {
            otpauth_uri: "javascript:alert(1)",
            ..APP
        }),
        ..view()
    });
    assert!(!other.contains("javascript:"));
}

#[test]
fn code2_field_only_when_two_codes() {
    assert!(!enroll_page(&view()).contains("code2"));
    let html = enroll_page(&EnrollView {
        app: two_codes(),
        ..view()
    });
    assert!(html.contains(r#"<label for="code2">Next code</label>"#));
    assert!(html.contains(r#"id="code2" name="code2" type="text" autocomplete="one-time-code""#));
    assert!(html.contains("Wait for the code in the app to change"));
    assert!(html.contains(r#"<label for="code">First code</label>"#));
}

#[test]
fn enforced_enrollment_says_so_and_offers_no_cancel() {
    let plain = enroll_page(&view());
    assert!(!plain.contains("requires two-factor"));
    assert!(plain.contains(r#"<a class="btn btn-secondary" href="/wiki?a=1&amp;b=2">Cancel</a>"#));
    let html = enroll_page(&EnrollView {
        enforced: true,
        ..view()
    });
    assert!(html.contains("Your organisation requires two-factor authentication"));
    assert!(!html.contains(">Cancel<"));
}

#[test]
fn enroll_error_is_an_alert_and_focuses_the_code() {
    let html = enroll_page(&EnrollView {
        error: Some("That code didn't match."),
        app: two_codes(),
        ..view()
    });
    assert!(html.contains(
        r#"role="alert" aria-live="assertive" id="enroll-error">That code didn't match.</div>"#
    ));
    assert_eq!(html.matches(r#"aria-invalid="true""#).count(), 2);
    assert_eq!(html.matches("autofocus").count(), 1);
}

#[test]
fn without_app_setup_only_channels_are_offered() {
    let html = enroll_page(&EnrollView {
        app: None,
        channels: &CHANNELS,
        ..view()
    });
    assert!(!html.contains("totp-secret") && !html.contains(r#"class="qr""#));
    assert!(!html.contains(r#"name="code""#));
    assert!(forms(&html, "/.gatehouse/enroll").is_empty());
    assert!(html.contains("You already have an authenticator app."));
    assert!(html.contains(r#"<h2 id="enroll-channels-heading">Add a way to get codes</h2>"#));
    assert!(html.contains(r#"<a class="btn btn-secondary" href="/wiki?a=1&amp;b=2">Back</a>"#));
}

#[test]
fn each_channel_is_its_own_send_form_with_csrf_rd_and_channel() {
    let html = enroll_page(&EnrollView {
        channels: &CHANNELS,
        ..view()
    });
    assert!(html.contains("totp-secret"), "the app section stays");
    assert!(html.contains(r#"<section class="section" id="enroll-channels""#));
    assert!(html.contains(">Or get codes by email or text message</h2>"));
    assert_send_forms(&html, "/.gatehouse/enroll/send", "enroll-send-");
    let sms_only = enroll_page(&EnrollView {
        channels: &CHANNELS[1..],
        ..view()
    });
    assert!(sms_only.contains(">Or get codes by text message</h2>"));
    assert!(!enroll_page(&view()).contains("enroll-channels"));
}

#[test]
fn sent_code_is_confirmed_above_the_app_with_a_unique_field_id() {
    let html = enroll_page(&EnrollView {
        channels: &CHANNELS,
        sent: Some(CHANNELS[0]),
        ..view()
    });
    let confirm = html
        .find(r#"<section class="section" id="confirm-channel""#)
        .unwrap();
    assert!(confirm < html.find(r#"<ol class="steps">"#).unwrap());
    assert!(html.contains(
        r#"role="status" aria-live="polite" id="code-sent">We sent a code by email to a•••e@example.com. Enter it to turn on codes by email. It expires in 10 minutes.</div>"#
    ));
    let posts = forms(&html, "/.gatehouse/enroll");
    assert_eq!(posts.len(), 2, "the channel's form, then the app's");
    let form = posts[0];
    assert!(form.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
    assert!(form.contains(r#"<input type="hidden" name="rd" value="/wiki?a=1&amp;b=2">"#));
    assert!(form.contains(r#"<input type="hidden" name="channel" value="email">"#));
    assert!(form.contains(r#"<label for="channel-code">6-digit code</label>"#));
    assert!(
        form.contains(r#"id="channel-code" name="code" type="text" autocomplete="one-time-code""#)
    );
    assert!(form.contains("required autofocus"));
    assert!(form.contains(r#"<button class="btn btn-primary" type="submit">Confirm</button>"#));
    assert!(!posts[1].contains(r#"name="channel""#));
    assert_eq!(html.matches(r#"name="code""#).count(), 2);
    assert_eq!(html.matches(r#"id="code""#).count(), 1);
    assert_eq!(html.matches(r#"id="channel-code""#).count(), 1);
    assert_eq!(html.matches("autofocus").count(), 1);
}

#[test]
fn error_goes_with_the_channel_being_confirmed() {
    let sms = enroll_page(&EnrollView {
        sent: Some(CHANNELS[1]),
        code_minutes: 1,
        error: Some("That code didn't match."),
        ..view()
    });
    assert!(sms.contains("by text message to ••• 4567. Enter it to turn on codes by text message. It expires in 1 minute."));
    assert_eq!(sms.matches(r#"id="enroll-error""#).count(), 1);
    assert!(sms.find(r#"id="enroll-error""#) < sms.find(r#"<ol class="steps">"#));
    assert!(sms.contains(r#"id="channel-code" name="code""#));
    assert_eq!(sms.matches(r#"aria-invalid="true""#).count(), 1);

    let no_app = enroll_page(&EnrollView {
        app: None,
        channels: &CHANNELS,
        error: Some("Couldn't send the code."),
        ..view()
    });
    assert!(no_app.contains(r#"id="enroll-error">Couldn't send the code.</div>"#));
}

#[test]
fn destinations_are_escaped() {
    let odd = [CodeChannel {
        channel: "email",
        destination: "<script>alert(1)</script>",
    }];
    let html = enroll_page(&EnrollView {
        channels: &odd,
        sent: Some(odd[0]),
        ..view()
    });
    assert!(!html.contains("<script"));
    assert!(html.contains(r#"<span class="muted">&lt;script&gt;alert(1)&lt;/script&gt;</span>"#));
    assert!(html.contains("by email to &lt;script&gt;alert(1)&lt;/script&gt;. Enter it"));
}

#[test]
fn reminder_offers_setup_with_rd_and_a_later_link_to_rd() {
    let html = mfa_reminder_page(&ReminderView {
        csrf_token: "tok",
        rd: "/app?x=1",
    });
    assert!(html.contains("Protect your account with two-factor authentication"));
    assert!(html.contains(
        r#"<a class="btn btn-primary btn-block" href="/.gatehouse/enroll?rd=%2Fapp%3Fx%3D1">Set up now</a>"#
    ));
    assert!(html
        .contains(r#"<a class="btn btn-secondary btn-block" href="/app?x=1">Remind me later</a>"#));
}

#[test]
fn reminder_never_links_off_site() {
    let html = mfa_reminder_page(&ReminderView {
        csrf_token: "tok",
        rd: "//evil.example/",
    });
    assert!(html.contains(r#"href="/">Remind me later</a>"#));
}

#[test]
fn the_introduction_names_sent_codes_only_when_they_are_offered() {
    let with_channels = enroll_page(&EnrollView {
        channels: &CHANNELS,
        ..view()
    });
    assert!(with_channels.contains("from an app on your phone, or one we send you."));
    let app_only = enroll_page(&EnrollView {
        channels: &[],
        ..view()
    });
    assert!(app_only.contains("a code from an app on your phone. "));
    assert!(!app_only.contains("one we send you"));
}

#[test]
fn typed_numbers_replace_the_sms_button_with_a_phone_field() {
    let phone = PhoneEntry {
        countries: "AU (+61) or NZ (+64)",
        error: Some("That is a US number."),
        offer_app: true,
        ..PhoneEntry::default()
    };
    let html = enroll_page(&EnrollView {
        channels: &CHANNELS,
        phone: Some(phone),
        ..view()
    });
    // Email keeps its one-button form; SMS asks for the number.
    assert_eq!(forms(&html, "/.gatehouse/enroll/send").len(), 2);
    assert!(html.contains(r#"id="enroll-send-email""#));
    assert!(
        html.contains(r#"<form method="post" action="/.gatehouse/enroll/send" id="enroll-phone">"#)
    );
    assert!(html.contains(r#"name="phone" type="tel""#));
    assert!(!html.contains("••• 4567"), "no number on file is shown");
    // The offer points at the app's steps on this page.
    assert!(html.contains(r#"<ol class="steps"><li id="app-setup">"#));
    assert!(html.contains(r#"href="/.gatehouse/enroll?rd=%2Fwiki%3Fa%3D1%26b%3D2#app-setup""#));
    assert_eq!(html.matches(r#"role="alert""#).count(), 1);
}
