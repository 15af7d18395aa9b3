//! A real browser: Debian's headless chromium, driven over WebDriver by
//! chromedriver, walks through the pages as people do.
//!
//! - With an authenticator app: alice signs in, enrolls an authenticator
//!   (with a code from `oathtool`), saves her recovery codes, signs out, and
//!   signs in again through the code challenge. In the admin console she
//!   resets bob's lost phone, then creates a service token in the "Service
//!   tokens" section (checking that chromium accepts the name field's
//!   `pattern` and posts the name, app and expiry), reads it from the page
//!   that shows it once, sees it pass as `service:<name>`, replaces it
//!   (ending the old one from its row), and revokes it from its row, after
//!   which it is refused.
//! - With codes by email (a real SMTP server, aiosmtpd): bob signs in,
//!   chooses "Email me a code" while setting up two-factor, types the code
//!   from the mail, saves his recovery codes, signs out, and signs in again
//!   with a second emailed code at the challenge.
//!
//! Every page is saved as a screenshot under
//! `target/artifacts/browser/<walk>/NN-page.png` for people (and CI) to
//! look at.

use std::time::Instant;

use fantoccini::{Client as Browser, Locator};
use gatehouse_tests::harness::store::{audit_log, issued_tokens, now_ms, totp_enrollment};
use gatehouse_tests::{one_time_code, Authenticator, Backend, SmtpSink, Stack};
use serde_json::Value;

mod support;
use support::pages::{enroll_an_app, save_recovery_codes, sign_in};
use support::webdriver::{
    click, click_to_next_page, in_chromium, off_runtime, path_and_query, scroll_to, text_of,
    type_into, wait_for, Doing, Screenshots, Step, WAIT,
};

/// The protected page the user asks for first.
const START: &str = "/private/browser?from=test";
/// The service token alice makes in the console: every character class the
/// name's `pattern` allows, `-` included (the one a browser may choke on).
const TOKEN_NAME: &str = "nightly-backup_2";
/// Who the gateway's mail comes from.
const FROM: &str = "Gatehouse <gatehouse@example.test>";
/// bob's address in the standard users file.
const BOB_EMAIL: &str = "bob@example.com";

/// Asking for a protected page leads to the sign-in form; the password
/// leads to the reminder, whose "Set up now" opens enrollment. Screenshots
/// of the form and the reminder.
async fn signed_in_to_set_up(
    browser: &Browser,
    gateway: &str,
    user: &str,
    shots: &mut Screenshots,
) -> Step<()> {
    open_the_app(browser, gateway).await?;
    shots.take(browser, "login").await?;
    sign_in(browser, user).await?;
    let set_up = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::LinkText("Set up now"))
        .await
        .doing("waiting for the reminder")?;
    shots.take(browser, "reminder").await?;
    set_up.click().await.doing("clicking Set up now")
}

/// Opens the app, which sends the browser to the sign-in form.
async fn open_the_app(browser: &Browser, gateway: &str) -> Step<()> {
    browser
        .goto(&format!("{gateway}{START}"))
        .await
        .doing("open the app")?;
    wait_for(browser, r#"input[name="username"]"#).await?;
    let here = path_and_query(browser).await?;
    if !here.starts_with("/.gatehouse/login?rd=") {
        return Err(format!("expected the sign-in page, at {here}"));
    }
    Ok(())
}

/// Waits for the echo app's answer and checks it is the page first asked
/// for, reached as `user`.
async fn at_the_app(browser: &Browser, user: &str) -> Step<()> {
    let echo = text_of(browser, "pre").await?;
    let here = path_and_query(browser).await?;
    let seen: Value = serde_json::from_str(&echo).unwrap_or_default();
    if here != START || seen["path"] != START || seen["headers"]["remote-user"] != user {
        return Err(format!(
            "not the app as {user} at {START}: at {here}: {echo}"
        ));
    }
    Ok(())
}

/// Signs out from the account page; `factor` must be listed there.
async fn sign_out(
    browser: &Browser,
    gateway: &str,
    factor: &str,
    shots: &mut Screenshots,
) -> Step<()> {
    browser
        .goto(&format!("{gateway}/.gatehouse/account"))
        .await
        .doing("open the account page")?;
    wait_for(browser, r#"form[action="/.gatehouse/logout"] button"#).await?;
    let listed = browser
        .find_all(Locator::Css(&format!(r#"[data-factor="{factor}"]"#)))
        .await
        .doing("looking for the factor")?;
    if listed.is_empty() {
        return Err(format!(
            "the account page does not list the {factor} factor"
        ));
    }
    shots.take(browser, "account").await?;
    click(browser, r#"form[action="/.gatehouse/logout"] button"#).await?;
    wait_for(browser, r#"input[name="username"]"#).await?;
    let source = browser.source().await.doing("page source")?;
    if !source.contains("You have been signed out.") {
        return Err("no signed-out notice".into());
    }
    shots.take(browser, "signed-out").await
}

async fn walk_through(browser: &Browser, gateway: &str, shots: &mut Screenshots) -> Step<()> {
    signed_in_to_set_up(browser, gateway, "alice", shots).await?;

    // Enrollment with the manual key, then the recovery codes.
    let app = enroll_an_app(browser, shots).await?;
    at_the_app(browser, "alice").await?;
    shots.take(browser, "app").await?;

    sign_out(browser, gateway, "app", shots).await?;

    // Signing in again asks for a code; the app's next code gets in. (The
    // gateway accepts ±1 step, so the code for the step after the one used
    // to enroll works at once: no waiting for the phone.)
    sign_in_with_code(browser, gateway, &app, Some((shots, "challenge"))).await?;
    shots.take(browser, "app-again").await
}

/// Opens the app, signs alice in with her password and the app's next
/// code, and checks she reached the app; `shot` names a screenshot of the
/// challenge page.
async fn sign_in_with_code(
    browser: &Browser,
    gateway: &str,
    app: &Authenticator,
    shot: Option<(&mut Screenshots, &str)>,
) -> Step<()> {
    open_the_app(browser, gateway).await?;
    sign_in(browser, "alice").await?;
    wait_for(browser, r#"form[action="/.gatehouse/mfa"] input#code"#).await?;
    if let Some((shots, name)) = shot {
        shots.take(browser, name).await?;
    }
    type_into(browser, "input#code", &app.code()).await?;
    click(
        browser,
        r#"form[action="/.gatehouse/mfa"] button[type="submit"]"#,
    )
    .await?;
    at_the_app(browser, "alice").await
}

/// alice, signed in with her second factor, resets bob's two-factor in the
/// admin console.
async fn admin_resets_bob(browser: &Browser, gateway: &str, shots: &mut Screenshots) -> Step<()> {
    browser
        .goto(&format!("{gateway}/.gatehouse/admin"))
        .await
        .doing("open the admin console")?;
    wait_for(browser, r#"tr[data-username="bob"][data-mfa="on"]"#).await?;
    shots.take(browser, "admin").await?;
    click(
        browser,
        r#"tr[data-username="bob"] form[action="/.gatehouse/admin/reset"] button"#,
    )
    .await?;
    let notice = text_of(browser, "#admin-notice").await?;
    if !notice.contains("for bob was reset") {
        return Err(format!("unexpected notice: {notice}"));
    }
    wait_for(browser, r#"tr[data-username="bob"][data-mfa="off"]"#).await?;
    shots.take(browser, "admin-reset").await
}

/// Once the second step is older than `mfa.fresh_for`, "new recovery
/// codes" leads to the confirm page; a code there brings the browser back,
/// and the same button then works.
async fn confirm_then_new_codes(
    browser: &Browser,
    gateway: &str,
    app: &Authenticator,
    shots: &mut Screenshots,
) -> Step<()> {
    sign_in_with_code(browser, gateway, app, None).await?;
    let regenerate = r#"form[action="/.gatehouse/recovery-codes/regenerate"] button"#;
    let deadline = Instant::now() + WAIT;
    loop {
        browser
            .goto(&format!("{gateway}/.gatehouse/account"))
            .await
            .doing("open the account page")?;
        click_to_next_page(browser, regenerate).await?;
        let here = path_and_query(browser).await?;
        if here.starts_with("/.gatehouse/confirm?rd=") {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("the proof never went stale: at {here}"));
        }
    }
    wait_for(browser, "#confirm-why").await?;
    shots.take(browser, "confirm").await?;
    type_into(browser, "input#code", &app.code()).await?;
    click_to_next_page(
        browser,
        r#"form[action="/.gatehouse/confirm"] button[type="submit"]"#,
    )
    .await?;
    let here = path_and_query(browser).await?;
    if here != "/.gatehouse/account" {
        return Err(format!("the confirm page did not lead back: at {here}"));
    }
    click_to_next_page(browser, regenerate).await?;
    wait_for(browser, "#recovery-codes").await?;
    shots.take(browser, "new-codes").await
}

/// From an app on wiki.test, through the sign-in portal on portal.test and
/// back: one sign-in across hosts that share no cookie.
async fn cross_host_sign_in(browser: &Browser, port: u16, shots: &mut Screenshots) -> Step<()> {
    browser
        .goto(&format!("http://wiki.test:{port}{START}"))
        .await
        .doing("open the app on its own host")?;
    wait_for(browser, r#"input[name="username"]"#).await?;
    let url = browser
        .current_url()
        .await
        .doing("the sign-in page's URL")?;
    if url.host_str() != Some("portal.test") {
        return Err(format!("signing in is not on the portal: {url}"));
    }
    shots.take(browser, "portal-login").await?;
    sign_in(browser, "bob").await?;
    let later = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::LinkText("Remind me later"))
        .await
        .doing("waiting for the reminder")?;
    later.click().await.doing("clicking Remind me later")?;
    at_the_app(browser, "bob").await?;
    let url = browser.current_url().await.doing("the app's URL")?;
    if url.host_str() != Some("wiki.test") {
        return Err(format!("not back on the app's host: {url}"));
    }
    shots.take(browser, "app-on-its-host").await
}

/// What chromium makes of the token name field: its own validity, and the
/// whole form's (the form is not submitted unless that is true).
async fn name_validity(browser: &Browser) -> Step<Value> {
    browser
        .execute(
            "const input = document.getElementById('token-name');
             return {
                 pattern: input.getAttribute('pattern'),
                 patternMismatch: input.validity.patternMismatch,
                 valid: input.validity.valid,
                 message: input.validationMessage,
                 formValid: document.getElementById('new-token').checkValidity(),
             };",
            Vec::new(),
        )
        .await
        .doing("asking chromium whether the token name is valid")
}

/// alice, still in the admin console, creates a service token for the app
/// with 30 days to live, sees it pass as `service:<name>`, replaces it,
/// and revokes it.
async fn admin_makes_and_revokes_a_token(
    browser: &Browser,
    stack: &Stack,
    shots: &mut Screenshots,
) -> Step<()> {
    scroll_to(browser, "#service-tokens").await?;
    let section = text_of(browser, "#service-tokens").await?;
    if !section.contains("No service tokens yet.") {
        return Err(format!("tokens before any was made: {section}"));
    }
    shots.take(browser, "admin-tokens").await?;

    // The name's pattern is in force: a name it forbids makes the form
    // invalid. (A pattern chromium cannot compile is silently ignored, and
    // would let this through.)
    type_into(browser, "#token-name", "Nightly Backup").await?;
    let refused = name_validity(browser).await?;
    if refused["patternMismatch"] != true || refused["formValid"] != false {
        return Err(format!(
            "chromium let a name with capitals and a space through: {refused}"
        ));
    }
    // A name within the pattern (with '-', '_' and a digit) is valid, so the
    // form can be submitted.
    wait_for(browser, "#token-name")
        .await?
        .clear()
        .await
        .doing("clearing the name")?;
    type_into(browser, "#token-name", TOKEN_NAME).await?;
    let accepted = name_validity(browser).await?;
    if accepted["valid"] != true || accepted["formValid"] != true {
        return Err(format!(
            "chromium refuses the name {TOKEN_NAME}: {accepted}"
        ));
    }
    wait_for(browser, "select#token-app")
        .await?
        .select_by_value("app")
        .await
        .doing("choosing the app")?;
    wait_for(browser, "select#token-expires")
        .await?
        .select_by_value("30d")
        .await
        .doing("choosing the expiry")?;
    shots.take(browser, "admin-token-form").await?;
    click(browser, r#"form#new-token button[type="submit"]"#).await?;

    // The token, shown once, with what the browser posted.
    let token = text_of(browser, "#service-token").await?;
    if !token.starts_with("gatehouse_") {
        return Err(format!("not a token: {token:?}"));
    }
    let summary = text_of(browser, "#token-summary").await?;
    for part in [
        format!("The token {TOKEN_NAME} reaches only the app app and expires "),
        format!("Remote-User: service:{TOKEN_NAME}"),
    ] {
        if !summary.contains(&part) {
            return Err(format!("the summary lacks {part:?}: {summary}"));
        }
    }
    shots.take(browser, "token-created").await?;

    // It passes as service:<name>, and the store says 30 days.
    let bearer = format!("Bearer {token}");
    let store = stack.gateway.store_url();
    let (status, seen, stored) = off_runtime("using the token", || {
        let status = stack
            .client()
            .get_with("/private/x", &[("Authorization", &bearer)])
            .status;
        let seen = stack.upstream.last().header("remote-user");
        (status, seen, issued_tokens(&store))
    })?;
    let service = format!("service:{TOKEN_NAME}");
    if status != 200 || seen.as_deref() != Some(service.as_str()) {
        return Err(format!(
            "the new token got {status}, upstream saw Remote-User {seen:?}"
        ));
    }
    let now_ms = now_ms();
    let days = |n: i64| n * 24 * 60 * 60 * 1000;
    let made = stored.iter().find(|t| t.name == TOKEN_NAME);
    let thirty_days = made
        .and_then(|t| t.expires_at)
        .is_some_and(|at| at - now_ms > days(29) && at - now_ms <= days(30));
    if made.map(|t| t.app.as_deref()) != Some(Some("app")) || !thirty_days {
        return Err(format!(
            "not stored for the app with 30 days to live (now {now_ms}): {stored:?}"
        ));
    }

    // "Done" leads back to the console, which lists it, used just now.
    browser
        .find(Locator::LinkText("Done"))
        .await
        .doing("finding Done")?
        .click()
        .await
        .doing("clicking Done")?;
    let row = format!(r#"tr[data-token="{TOKEN_NAME}"][data-source="console"]"#);
    let listed = text_of(browser, &row).await?;
    if listed.contains("Never") || !listed.contains("alice") {
        return Err(format!(
            "the row should say alice made it and when it was used: {listed}"
        ));
    }
    let source = browser.source().await.doing("page source")?;
    if source.contains(&token) {
        return Err("the console shows the token again".into());
    }
    scroll_to(browser, "#service-tokens").await?;
    shots.take(browser, "admin-token-listed").await?;
    let bearer = admin_replaces_the_token(browser, stack, shots, &row, &bearer).await?;

    // Revoke from its row: gone from the list, and refused at once.
    click_to_next_page(
        browser,
        &format!(r#"{row} form[action="/.gatehouse/admin/tokens/revoke"] button"#),
    )
    .await?;
    let notice = text_of(browser, "#admin-notice").await?;
    if !notice.contains("The service token was revoked.") {
        return Err(format!("unexpected notice: {notice}"));
    }
    let rows = browser
        .find_all(Locator::Css(&row))
        .await
        .doing("looking for the revoked row")?;
    if !rows.is_empty() {
        return Err("the revoked token is still listed".into());
    }
    scroll_to(browser, "#service-tokens").await?;
    shots.take(browser, "admin-token-revoked").await?;
    let refused = off_runtime("using the revoked token", || {
        stack
            .client()
            .get_with("/private/x", &[("Authorization", &bearer)])
    })?;
    if refused.status != 401 || !refused.body.contains("invalid_token") {
        return Err(format!(
            "the revoked token got {}: {}",
            refused.status, refused.body
        ));
    }
    Ok(())
}

/// alice replaces the token from its row: a new one shown once, the old
/// one still listed as working until she ends it from the row. Returns the
/// new token's `Authorization` value.
async fn admin_replaces_the_token(
    browser: &Browser,
    stack: &Stack,
    shots: &mut Screenshots,
    row: &str,
    old_bearer: &str,
) -> Step<String> {
    click_to_next_page(
        browser,
        &format!(r#"{row} form[action="/.gatehouse/admin/tokens/replace"] button"#),
    )
    .await?;
    let replaced = text_of(browser, "#token-replaced").await?;
    let heading = text_of(browser, "h1").await?;
    let token = text_of(browser, "#service-token").await?;
    if heading != "Service token replaced" || !token.starts_with("gatehouse_") {
        return Err(format!("not a replacement page: {heading:?}, {token:?}"));
    }
    if !replaced.contains("The token it replaced keeps working until") {
        return Err(format!(
            "the page doesn't say the old one works: {replaced}"
        ));
    }
    if format!("Bearer {token}") == old_bearer {
        return Err("the replacement is the old token".into());
    }
    shots.take(browser, "token-replaced").await?;
    browser
        .find(Locator::LinkText("Done"))
        .await
        .doing("finding Done")?
        .click()
        .await
        .doing("clicking Done")?;
    let listed = text_of(browser, row).await?;
    if !listed.contains("The token it replaced works until") {
        return Err(format!("the row doesn't say the old one works: {listed}"));
    }
    scroll_to(browser, "#service-tokens").await?;
    shots.take(browser, "admin-token-replaced").await?;

    click_to_next_page(
        browser,
        &format!(r#"{row} form[action="/.gatehouse/admin/tokens/end-replaced"] button"#),
    )
    .await?;
    let notice = text_of(browser, "#admin-notice").await?;
    if !notice.contains("The old token stopped working here at once") {
        return Err(format!("unexpected notice: {notice}"));
    }
    let bearer = format!("Bearer {token}");
    let (old, new) = off_runtime("using the old and the new token", || {
        let status = |value: &str| {
            stack
                .client()
                .get_with("/private/x", &[("Authorization", value)])
                .status
        };
        (status(old_bearer), status(&bearer))
    })?;
    if (old, new) != (401, 200) {
        return Err(format!("after ending: old token {old}, new token {new}"));
    }
    Ok(bearer)
}

/// The code in the `nth` mail to `to`, waiting (with the sink's deadline)
/// for it to arrive.
fn code_from_mail(sink: &SmtpSink, to: &str, nth: usize) -> Step<String> {
    let mail = off_runtime("waiting for the mail", || sink.wait_for_mail(to, nth))?;
    if mail.from != "gatehouse@example.test" {
        return Err(format!("mail from {}", mail.from));
    }
    one_time_code(&mail.body).ok_or_else(|| format!("no code in the mail: {}", mail.body))
}

/// The notice that a code went out by email; it must not show the whole
/// address.
async fn code_sent_notice(browser: &Browser) -> Step<()> {
    let notice = text_of(browser, "#code-sent").await?;
    if !notice.contains("We sent a code by email to b") || notice.contains(BOB_EMAIL) {
        return Err(format!("unexpected notice: {notice}"));
    }
    Ok(())
}

/// bob turns on codes by email from the enrollment page, signs out, and
/// signs in again with an emailed code.
async fn email_walk_through(
    browser: &Browser,
    gateway: &str,
    sink: &SmtpSink,
    shots: &mut Screenshots,
) -> Step<()> {
    signed_in_to_set_up(browser, gateway, "bob", shots).await?;

    // Enrollment offers codes by email below the authenticator steps.
    let send = text_of(browser, "#enroll-send-email").await?;
    if !send.contains("Email me a code") {
        return Err(format!("the send button says {send:?}"));
    }
    scroll_to(browser, "#enroll-channels").await?;
    shots.take(browser, "enroll").await?;
    click(browser, "#enroll-send-email").await?;

    // The page now asks for the code from the mail.
    wait_for(browser, "#confirm-channel input#channel-code").await?;
    let here = path_and_query(browser).await?;
    if !(here.starts_with("/.gatehouse/enroll?rd=") && here.ends_with("&sent=email")) {
        return Err(format!("expected the confirmation, at {here}"));
    }
    code_sent_notice(browser).await?;
    shots.take(browser, "enroll-code-sent").await?;
    let code = code_from_mail(sink, BOB_EMAIL, 1)?;
    type_into(browser, "#confirm-channel input#channel-code", &code).await?;
    shots.take(browser, "enroll-code").await?;
    click(browser, r#"#confirm-channel button[type="submit"]"#).await?;
    save_recovery_codes(browser, shots).await?;
    at_the_app(browser, "bob").await?;
    shots.take(browser, "app").await?;

    sign_out(browser, gateway, "email", shots).await?;

    // Signing in again: no app, so the page offers to send a code first.
    open_the_app(browser, gateway).await?;
    sign_in(browser, "bob").await?;
    wait_for(browser, "#code-channels #send-email").await?;
    let here = path_and_query(browser).await?;
    if !here.starts_with("/.gatehouse/mfa?rd=") {
        return Err(format!("expected the challenge, at {here}"));
    }
    shots.take(browser, "challenge").await?;
    click(browser, "#send-email").await?;
    code_sent_notice(browser).await?;
    shots.take(browser, "challenge-code-sent").await?;
    let code = code_from_mail(sink, BOB_EMAIL, 2)?;
    type_into(
        browser,
        r#"form[action="/.gatehouse/mfa"] input#code"#,
        &code,
    )
    .await?;
    shots.take(browser, "challenge-code").await?;
    click(
        browser,
        r#"form[action="/.gatehouse/mfa"] button[type="submit"]"#,
    )
    .await?;
    at_the_app(browser, "bob").await?;
    shots.take(browser, "app-again").await
}

#[test]
fn a_browser_signs_in_enrolls_passes_the_challenge_and_administers_users_and_tokens() {
    let stack = Stack::start(Backend::Memory);
    stack.enrolled("bob");
    let gateway = stack.gateway.url("");
    let names = in_chromium(
        "authenticator-and-admin",
        async |browser: &Browser, shots: &mut Screenshots| {
            walk_through(browser, &gateway, shots).await?;
            admin_resets_bob(browser, &gateway, shots).await?;
            admin_makes_and_revokes_a_token(browser, &stack, shots).await
        },
    );

    assert_eq!(
        names,
        [
            "01-login.png",
            "02-reminder.png",
            "03-enroll.png",
            "04-enroll-code.png",
            "05-recovery-codes.png",
            "06-app.png",
            "07-account.png",
            "08-signed-out.png",
            "09-challenge.png",
            "10-app-again.png",
            "11-admin.png",
            "12-admin-reset.png",
            "13-admin-tokens.png",
            "14-admin-token-form.png",
            "15-token-created.png",
            "16-admin-token-listed.png",
            "17-token-replaced.png",
            "18-admin-token-replaced.png",
            "19-admin-token-revoked.png",
        ]
    );
    assert!(
        totp_enrollment(&stack.gateway.store_url(), "bob").is_none(),
        "bob's authenticator outlived the reset"
    );
    assert!(
        issued_tokens(&stack.gateway.store_url()).is_empty(),
        "the revoked token is still stored"
    );
    // The app saw alice's pages, then the token's two requests: the token
    // as made, then its replacement (the ended old one was refused).
    let mut identities: Vec<Option<String>> = stack
        .upstream
        .requests()
        .iter()
        .map(|r| r.header("remote-user"))
        .collect();
    let service = Some(format!("service:{TOKEN_NAME}"));
    let tail = identities.split_off(identities.len().saturating_sub(2));
    assert_eq!(tail, [service.clone(), service], "the token's requests");
    assert!(
        identities.iter().all(|u| u.as_deref() == Some("alice")),
        "the app saw a request without alice's identity: {identities:?}"
    );
}

#[test]
fn a_browser_turns_on_codes_by_email_and_signs_in_with_one() {
    let sink = SmtpSink::start();
    // No pause between codes: the sign-in code follows the enrollment one
    // within seconds.
    let stack = Stack::start_with(Backend::Memory, |c| {
        c.email_via(&sink.url(), FROM).resend_after("0s")
    });
    let gateway = stack.gateway.url("");
    let names = in_chromium(
        "email-codes",
        async |browser: &Browser, shots: &mut Screenshots| {
            email_walk_through(browser, &gateway, &sink, shots).await
        },
    );

    assert_eq!(
        names,
        [
            "01-login.png",
            "02-reminder.png",
            "03-enroll.png",
            "04-enroll-code-sent.png",
            "05-enroll-code.png",
            "06-recovery-codes.png",
            "07-app.png",
            "08-account.png",
            "09-signed-out.png",
            "10-challenge.png",
            "11-challenge-code-sent.png",
            "12-challenge-code.png",
            "13-app-again.png",
        ]
    );
    assert_eq!(sink.mails_to(BOB_EMAIL).len(), 2, "{:?}", sink.mails());
    assert_eq!(sink.mails().len(), 2, "mail to someone else");
    let log = audit_log(&stack.gateway.store_url(), "bob");
    for event in ["mfa_enrolled", "mfa_challenge"] {
        assert!(
            log.iter().any(|e| e.event == event
                && e.outcome == "ok"
                && e.detail.as_deref() == Some("email")),
            "no {event} by email: {log:?}"
        );
    }
    assert!(
        stack
            .upstream
            .requests()
            .iter()
            .all(|r| r.header("remote-user").as_deref() == Some("bob")),
        "the app saw a request without bob's identity"
    );
}

#[test]
fn a_browser_confirms_with_a_fresh_code_before_new_recovery_codes() {
    let stack = Stack::start_with(Backend::Memory, |c| c.fresh_for("1s"));
    let (app, _) = stack.enrolled("alice");
    let gateway = stack.gateway.url("");
    let names = in_chromium(
        "fresh-proof",
        async |browser: &Browser, shots: &mut Screenshots| {
            confirm_then_new_codes(browser, &gateway, &app, shots).await
        },
    );
    assert_eq!(names, ["01-confirm.png", "02-new-codes.png"]);
    let entries = audit_log(&stack.gateway.store_url(), "alice");
    let confirmed = entries
        .iter()
        .rposition(|e| e.event == "confirmed" && e.outcome == "ok")
        .expect("the confirm page's code is audited");
    assert!(
        entries[confirmed..]
            .iter()
            .any(|e| e.event == "recovery_codes_regenerated" && e.proof.as_deref() == Some("code")),
        "no new codes after the confirmation: {entries:?}"
    );
}

#[test]
fn a_browser_signs_in_on_the_portal_and_comes_back_to_an_app_on_another_host() {
    let other = gatehouse_tests::Upstream::start();
    let stack = Stack::start_with(Backend::Memory, |c| {
        c.sso_portal("portal.test").app(
            gatehouse_tests::AppConfig::new("wiki", &[other.url()])
                .host("wiki.test")
                .policy("one_factor"),
        )
    });
    let port = stack.gateway.port();
    let names = in_chromium(
        "cross-host",
        async |browser: &Browser, shots: &mut Screenshots| {
            cross_host_sign_in(browser, port, shots).await
        },
    );
    assert_eq!(names, ["01-portal-login.png", "02-app-on-its-host.png"]);
    assert_eq!(
        other.last().header("remote-user").as_deref(),
        Some("bob"),
        "the app on wiki.test did not see bob"
    );
}
