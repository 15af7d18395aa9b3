//! The reseller's lock in a real browser (issue 20): Debian's headless
//! chromium, driven over WebDriver, as two people at two browsers.
//!
//! - rita, the reseller's admin, signs in, sets up an authenticator (the
//!   console needs her second factor), and in the console's
//!   "Organisations" makes MFA required for acme, then locks it there,
//!   each through its confirmation page.
//! - ann, acme's admin, signs in next: acme now requires MFA, so she is
//!   sent to set up an authenticator first. Her console shows acme's MFA
//!   as required and locked by rita, and offers no way to loosen or lift
//!   it.
//!
//! root ── reseller (rita) ─┬─ acme (ann, andy)
//!                          └─ globex (gus, gina)
//!
//! Every page is saved as a screenshot under
//! `target/artifacts/browser/<walk>/NN-page.png`.

use fantoccini::{Client as Browser, Locator};
use gatehouse_tests::harness::config::UserSpec;
use gatehouse_tests::harness::store::{audit_log, totp_enrollment};
use gatehouse_tests::harness::GatewayConfig;
use gatehouse_tests::{Backend, Stack};

mod support;
use support::pages::{enroll_an_app, sign_in};
use support::webdriver::{
    click_to_next_page, follow_link, in_chromium, path_and_query, scroll_to, text_of, wait_for,
    Doing, Screenshots, Step, WAIT,
};

const ADMIN: &str = "/.gatehouse/admin";
/// The button of the switch's confirmation page.
const CONFIRM: &str = r#"form[action="/.gatehouse/admin/mfa"] button[type="submit"]"#;
/// acme's card in the console's "Organisations".
const ACME: &str = "#org-acme";
/// How the console names who locked acme's MFA.
const LOCKED_BY_RITA: &str = "Locked by rita (reseller)";

fn orgs(c: GatewayConfig) -> GatewayConfig {
    let admin = |name: &str, org: &str| UserSpec::new(name).groups(&["admins"]).org(org);
    c.organisation("reseller", None)
        .organisation("acme", Some("reseller"))
        .organisation("globex", Some("reseller"))
        .user(admin("rita", "reseller"))
        .user(admin("ann", "acme"))
        .user(UserSpec::new("andy").org("acme"))
        .user(admin("gus", "globex"))
        .user(UserSpec::new("gina").org("globex"))
}

/// Opens the console, which sends the browser to the sign-in form; a
/// screenshot of it.
async fn open_the_console(browser: &Browser, gateway: &str, shots: &mut Screenshots) -> Step<()> {
    browser
        .goto(&format!("{gateway}{ADMIN}"))
        .await
        .doing("open the admin console")?;
    wait_for(browser, r#"input[name="username"]"#).await?;
    let here = path_and_query(browser).await?;
    if !here.starts_with("/.gatehouse/login?rd=") {
        return Err(format!("expected the sign-in page, at {here}"));
    }
    shots.take(browser, "login").await
}

/// Waits for the console with acme's card as `card` (its attributes) says.
async fn at_the_console(browser: &Browser, card: &str) -> Step<String> {
    wait_for(browser, &format!("{ACME}{card}")).await?;
    let here = path_and_query(browser).await?;
    if !here.starts_with(ADMIN) || here.starts_with(&format!("{ADMIN}/")) {
        return Err(format!("expected the console, at {here}"));
    }
    text_of(browser, ACME).await
}

/// The links in acme's card that read `text`.
async fn links_in_acme(browser: &Browser, text: &str) -> Step<usize> {
    let links = wait_for(browser, ACME)
        .await?
        .find_all(Locator::LinkText(text))
        .await
        .doing(&format!("looking for {text:?} in acme's card"))?;
    Ok(links.len())
}

/// The console's notice, which must say `what`.
async fn notice_says(browser: &Browser, what: &str) -> Step<()> {
    let notice = text_of(browser, "#admin-notice").await?;
    if !notice.contains(what) {
        return Err(format!("the notice doesn't say {what:?}: {notice}"));
    }
    Ok(())
}

/// rita signs in, sets up her authenticator on the way to the console,
/// and makes acme's MFA required, then locks it there.
async fn reseller_locks_mfa(browser: &Browser, gateway: &str, shots: &mut Screenshots) -> Step<()> {
    open_the_console(browser, gateway, shots).await?;
    sign_in(browser, "rita").await?;
    // The reseller's own MFA is optional: the reminder, and she sets it up.
    let set_up = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::LinkText("Set up now"))
        .await
        .doing("waiting for the reminder")?;
    shots.take(browser, "reminder").await?;
    set_up.click().await.doing("clicking Set up now")?;
    enroll_an_app(browser, shots).await?;

    // acme's card: optional, unlocked, with the switch and the lock.
    let card = at_the_console(browser, r#"[data-mfa="optional"][data-locked="false"]"#).await?;
    if !card.contains("MFA Optional") || links_in_acme(browser, "Lock at optional").await? != 1 {
        return Err(format!("acme's card before: {card}"));
    }
    scroll_to(browser, "#org-policies").await?;
    shots.take(browser, "admin-organisations").await?;

    // "Make required": the page names acme and counts ann and andy.
    follow_link(browser, ACME, "Make required").await?;
    let title = text_of(browser, "h1").await?;
    let effect = text_of(browser, r#"#switch-effect[data-to-enroll="2"]"#).await?;
    if title != "Require two-factor authentication for acme?"
        || !effect.starts_with("2 of the 2 users of acme")
    {
        return Err(format!(
            "not acme's switch for 2 users: {title:?}, {effect:?}"
        ));
    }
    shots.take(browser, "switch-required").await?;
    click_to_next_page(browser, CONFIRM).await?;
    notice_says(browser, "now required for acme.").await?;
    at_the_console(browser, r#"[data-mfa="required"][data-locked="false"]"#).await?;
    if links_in_acme(browser, "Lock at required").await? != 1 {
        return Err("acme's card offers no lock at required".into());
    }
    scroll_to(browser, ACME).await?;
    shots.take(browser, "admin-required").await?;

    // "Lock at required": the page says what a lock means for acme.
    follow_link(browser, ACME, "Lock at required").await?;
    let page = text_of(browser, ".card").await?;
    if !page
        .contains("The setting will be locked: acme's admins may make it stricter, never looser.")
    {
        return Err(format!("the page doesn't say it locks: {page}"));
    }
    shots.take(browser, "switch-lock").await?;
    click_to_next_page(browser, CONFIRM).await?;
    notice_says(browser, "now required for acme.").await?;
    // Locked by her: to loosen it she lifts the lock first.
    let card = at_the_console(browser, r#"[data-mfa="required"][data-locked="true"]"#).await?;
    if !card.contains(LOCKED_BY_RITA) || links_in_acme(browser, "Unlock").await? != 1 {
        return Err(format!("acme's card after the lock: {card}"));
    }
    for link in ["Make optional", "Make off"] {
        if links_in_acme(browser, link).await? != 0 {
            return Err(format!("the locked card offers {link:?}: {card}"));
        }
    }
    // Nothing else moved.
    wait_for(
        browser,
        r#"#org-globex[data-mfa="optional"][data-locked="false"]"#,
    )
    .await?;
    wait_for(
        browser,
        r#"#org-reseller[data-mfa="optional"][data-locked="false"]"#,
    )
    .await?;
    scroll_to(browser, ACME).await?;
    shots.take(browser, "admin-locked").await
}

/// ann signs in after the lock: sent to set up an authenticator first,
/// then her console shows the lock and whose it is, and offers no switch
/// the lock would refuse.
async fn company_admin_sees_the_lock(
    browser: &Browser,
    gateway: &str,
    shots: &mut Screenshots,
) -> Step<()> {
    open_the_console(browser, gateway, shots).await?;
    sign_in(browser, "ann").await?;
    // Required: straight to enrollment, no "Remind me later".
    wait_for(browser, "#totp-secret").await?;
    let here = path_and_query(browser).await?;
    if !here.starts_with("/.gatehouse/enroll?rd=") {
        return Err(format!("expected enrollment, at {here}"));
    }
    let later = browser
        .find_all(Locator::LinkText("Remind me later"))
        .await
        .doing("looking for Remind me later")?;
    if !later.is_empty() {
        return Err("enrollment may be put off though acme requires it".into());
    }
    enroll_an_app(browser, shots).await?;

    // Her policy: required, and not hers to stop.
    let policy = text_of(browser, r#"#mfa-policy[data-enforced="true"]"#).await?;
    let stop = browser
        .find_all(Locator::Css("#mfa-policy form"))
        .await
        .doing("looking for the policy's form")?;
    if !stop.is_empty() || !policy.contains("An organisation above yours requires it") {
        return Err(format!("ann's policy section: {policy}"));
    }
    shots.take(browser, "admin").await?;

    // Her organisation's card: required, locked by rita, and no switch,
    // lock or unlock that the lock would refuse.
    let card = at_the_console(browser, r#"[data-mfa="required"][data-locked="true"]"#).await?;
    if !card.contains(LOCKED_BY_RITA) {
        return Err(format!("acme's card doesn't say who locked it: {card}"));
    }
    for link in ["Make optional", "Make off", "Unlock", "Lock at required"] {
        if links_in_acme(browser, link).await? != 0 {
            return Err(format!("ann's card offers {link:?}: {card}"));
        }
    }
    let others = browser
        .find_all(Locator::Css("#org-reseller, #org-globex"))
        .await
        .doing("looking for other organisations' cards")?;
    if !others.is_empty() {
        return Err("ann sees organisations above or beside hers".into());
    }
    scroll_to(browser, "#org-policies").await?;
    shots.take(browser, "admin-locked").await
}

#[test]
fn a_reseller_locks_mfa_required_on_a_company_whose_admin_sees_it_locked() {
    let stack = Stack::start_with(Backend::Memory, orgs);
    let gateway = stack.gateway.url("");
    let store = stack.gateway.store_url();

    let rita = in_chromium(
        "reseller-locks-mfa",
        async |browser: &Browser, shots: &mut Screenshots| {
            reseller_locks_mfa(browser, &gateway, shots).await
        },
    );
    assert_eq!(
        rita,
        [
            "01-login.png",
            "02-reminder.png",
            "03-enroll.png",
            "04-enroll-code.png",
            "05-recovery-codes.png",
            "06-admin-organisations.png",
            "07-switch-required.png",
            "08-admin-required.png",
            "09-switch-lock.png",
            "10-admin-locked.png",
        ]
    );

    let ann = in_chromium(
        "company-admin-sees-the-lock",
        async |browser: &Browser, shots: &mut Screenshots| {
            company_admin_sees_the_lock(browser, &gateway, shots).await
        },
    );
    assert_eq!(
        ann,
        [
            "01-login.png",
            "02-enroll.png",
            "03-enroll-code.png",
            "04-recovery-codes.png",
            "05-admin.png",
            "06-admin-locked.png",
        ]
    );

    // The store: rita's two changes, each with her fresh code; ann's
    // authenticator; and no change by ann.
    let changes = |user: &str| -> Vec<_> {
        audit_log(&store, user)
            .into_iter()
            .filter(|e| e.event == "mfa_policy_changed")
            .collect()
    };
    let by_rita = changes("rita");
    let details: Vec<_> = by_rita.iter().map(|e| e.detail.as_deref()).collect();
    assert_eq!(
        details,
        [
            Some("acme: mfa optional -> required"),
            Some("acme: mfa required -> required, locked"),
        ],
        "{by_rita:?}"
    );
    for change in &by_rita {
        assert_eq!(change.outcome, "enforced", "{change:?}");
        assert_eq!(change.proof.as_deref(), Some("code"), "{change:?}");
    }
    assert!(changes("ann").is_empty(), "ann changed acme's policy");
    assert!(
        totp_enrollment(&store, "ann").is_some(),
        "ann has no authenticator"
    );
}
