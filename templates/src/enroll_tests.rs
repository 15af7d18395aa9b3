use super::*;

const SVG: &str = r##"<?xml version="1.0" standalone="yes"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="200" height="200" viewBox="0 0 200 200"><rect x="0" y="0" width="200" height="200" fill="#fff"/><path fill="#000" d="M0 0h8v8H0z"/></svg>"##;

fn view() -> EnrollView<'static> {
    EnrollView {
        csrf_token: "tok",
        rd: "/wiki?a=1&b=2",
        qr_svg: SVG,
        secret_grouped: "JBSW Y3DP EHPK 3PXP",
        otpauth_uri: "otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP&issuer=Acme",
        issuer: "Acme",
        account: "alice",
        two_codes: false,
        enforced: false,
        error: None,
    }
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
        secret_grouped: "<i>KEY</i>",
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
        otpauth_uri: "javascript:alert(1)",
        ..view()
    });
    assert!(!other.contains("javascript:"));
}

#[test]
fn code2_field_only_when_two_codes() {
    assert!(!enroll_page(&view()).contains("code2"));
    let html = enroll_page(&EnrollView {
        two_codes: true,
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
        two_codes: true,
        ..view()
    });
    assert!(html.contains(
        r#"role="alert" aria-live="assertive" id="enroll-error">That code didn't match.</div>"#
    ));
    assert_eq!(html.matches(r#"aria-invalid="true""#).count(), 2);
    assert_eq!(html.matches("autofocus").count(), 1);
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
