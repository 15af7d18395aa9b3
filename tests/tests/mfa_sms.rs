//! Codes by text message to a number the user types (issue 20, item 6):
//! `notify.sms.countries` is the allow-list, the enrollment page reads the
//! number with libphonenumber's rules, and a texted code expires after
//! `notify.code_lifetime` and is paused `notify.resend_after` between sends.
//! A local server speaking Twilio's Messages API receives what the gateway
//! sends; the tests read the codes from it the way a phone would.

use std::time::{Duration, Instant};

use gatehouse_tests::harness::mfa::{alert_text, recovery_codes, ACCOUNT, ENROLL, MFA};
use gatehouse_tests::harness::store::{audit_log, contact_destinations};
use gatehouse_tests::{
    eventually, link_href, with_rd, Authenticator, Backend, Client, GatewayConfig, Postgres,
    Response, SmsProvider, Stack, UserSpec, PASSWORD,
};

const RD: &str = "/secure/report";
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token";
const SENDER: &str = "+15005550006";
/// Dave's phone in the users file: once users type their number, codes
/// must not go there.
const ON_FILE: &str = "+15555550123";
/// The number dave types, spaced as people write it, and as it is kept.
const TYPED: &str = "+61 412 345 678";
const E164: &str = "+61412345678";
/// How the pages name `notify.sms.countries` below.
const COUNTRIES: &str = "AU (+61), NZ (+64) or GB (+44)";
const APP_INSTEAD: &str = "Set up an authenticator app instead";

/// Where the gateway keeps sessions and durable state.
#[derive(Debug, Clone, Copy)]
enum Setup {
    MemorySqlite,
    RedisPostgres,
}

/// One `#[test]` per [`Setup`] for a function taking one.
macro_rules! on_both_setups {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn memory_sqlite() {
                super::$name(super::Setup::MemorySqlite);
            }

            #[test]
            fn redis_postgres() {
                super::$name(super::Setup::RedisPostgres);
            }
        }
    )+};
}

/// A gateway texting through a local provider, with dave (who has a phone
/// in the users file) and typed numbers from AU, NZ and GB.
struct World {
    // Field order is drop order: the gateway goes first.
    stack: Stack,
    provider: SmsProvider,
    _postgres: Option<Postgres>,
}

fn start(setup: Setup, tweak: impl FnOnce(GatewayConfig) -> GatewayConfig) -> World {
    let provider = SmsProvider::start(SID, TOKEN);
    let postgres = matches!(setup, Setup::RedisPostgres).then(Postgres::start);
    let store_url = postgres.as_ref().map(|p| p.create_database("gatehouse"));
    let backend = match setup {
        Setup::MemorySqlite => Backend::Memory,
        Setup::RedisPostgres => Backend::Redis,
    };
    let stack = Stack::start_with(backend, |c| {
        let c = tweak(
            c.sms_via(&provider.url(), SID, TOKEN, SENDER)
                .sms_countries(&["AU", "NZ", "GB"])
                .user(UserSpec::new("dave").phone(ON_FILE)),
        );
        match &store_url {
            Some(url) => c.store_url(url),
            None => c,
        }
    });
    World {
        stack,
        provider,
        _postgres: postgres,
    }
}

impl World {
    /// A browser with dave signed in with his password, no factor yet.
    fn dave(&self) -> Client {
        let browser = self.stack.client();
        browser.login_ok("dave");
        browser
    }

    /// The code in the `nth` text to dave's typed number.
    fn code(&self, nth: usize) -> String {
        let sms = self.provider.wait_for_sms(E164, nth);
        assert_eq!(sms.from, SENDER);
        sms.code().expect("a code in the text")
    }
}

/// A form on `page` posted with its CSRF token and `rd`.
fn post(client: &Client, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
    let token = client.token_from(page);
    let mut all = vec![("csrf_token", token.as_str()), ("rd", RD)];
    all.extend_from_slice(fields);
    client.post_form(action, &all)
}

/// "Text me a code" on the enrollment page, with `phone` typed.
fn text_me(client: &Client, phone: &str) -> Response {
    post(
        client,
        &with_rd(ENROLL, RD),
        "/.gatehouse/enroll/send",
        &[("channel", "sms"), ("phone", phone)],
    )
}

fn confirm(client: &Client, code: &str) -> Response {
    post(
        client,
        &with_rd(ENROLL, RD),
        ENROLL,
        &[("channel", "sms"), ("code", code)],
    )
}

fn text_me_at_sign_in(client: &Client) -> Response {
    post(
        client,
        &with_rd(MFA, RD),
        "/.gatehouse/mfa/send",
        &[("channel", "sms")],
    )
}

fn enter_code(client: &Client, code: &str) -> Response {
    post(client, &with_rd(MFA, RD), MFA, &[("code", code)])
}

fn sent_location(path: &str) -> String {
    format!("{}&sent=sms", with_rd(path, RD))
}

/// dave's next sign-in, up to the code challenge.
fn at_challenge(world: &World) -> Client {
    let next = world.stack.client();
    let login = next.login("dave", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(MFA, RD).as_str()));
    next
}

fn a_typed_number_with_spaces_receives_the_codes(setup: Setup) {
    let world = start(setup, |c| c.resend_after("0s"));
    let browser = world.dave();
    let page = browser.get_html(&with_rd(ENROLL, RD));
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"id="enroll-phone""#), "{}", page.body);
    assert!(page.body.contains(r#"name="phone" type="tel""#));
    assert!(
        page.body.contains(COUNTRIES),
        "the page names the countries"
    );
    assert!(!page.body.contains("••• 0123"), "the users file's number");

    let sent = text_me(&browser, TYPED);
    assert_eq!(
        (sent.status, sent.location()),
        (303, Some(sent_location(ENROLL).as_str())),
        "{}",
        sent.body
    );
    let code = world.code(1);
    let notice = browser.get_html(&sent_location(ENROLL));
    assert!(
        notice
            .body
            .contains("We sent a code by text message to ••• 5678."),
        "{}",
        notice.body
    );
    let done = confirm(&browser, &code);
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(recovery_codes(&done.body).len(), 10, "{}", done.body);
    let store = world.stack.gateway.store_url();
    assert_eq!(
        contact_destinations(&store, "dave"),
        [("sms".to_owned(), E164.to_owned())]
    );
    let account = browser.get_html(ACCOUNT);
    assert!(
        account.body.contains(r#"data-factor="sms""#),
        "{}",
        account.body
    );
    assert!(account.body.contains("••• 5678"), "{}", account.body);
    assert!(
        !account.body.contains(E164) && !account.body.contains("412 345"),
        "the number is shown masked"
    );

    signs_in_by_text(&world, 2);
    let log = audit_log(&store, "dave");
    let has = |event: &str| {
        log.iter()
            .any(|e| e.event == event && e.outcome == "ok" && e.detail.as_deref() == Some("sms"))
    };
    assert!(has("mfa_enrolled") && has("mfa_challenge"), "{log:?}");
}

/// dave signs in again with a code texted to his typed number, the
/// `nth` text to it; none goes to the users file's number.
fn signs_in_by_text(world: &World, nth: usize) {
    let next = at_challenge(world);
    let challenge = next.get_html(&with_rd(MFA, RD));
    assert!(
        challenge.body.contains(r#"id="send-sms""#),
        "{}",
        challenge.body
    );
    assert!(challenge.body.contains("••• 5678"), "{}", challenge.body);
    assert_eq!(text_me_at_sign_in(&next).status, 303);
    let code = world.code(nth);
    assert_eq!(enter_code(&next, &code).location(), Some(RD));
    assert_eq!(next.get(RD).status, 200);
    assert!(world.provider.messages_to(ON_FILE).is_empty());
}

#[test]
fn a_number_from_another_country_is_refused_and_the_app_offered() {
    let world = start(Setup::MemorySqlite, |c| c);
    let browser = world.dave();
    let refused = text_me(&browser, "+1 201 555 0123");
    assert_eq!(refused.status, 400, "{}", refused.body);
    let message = alert_text(&refused.body);
    assert_eq!(
        message,
        format!("That is a US number. Codes by text message go only to numbers in {COUNTRIES}.")
    );
    assert!(
        refused.body.contains(r#"value="+1 201 555 0123""#),
        "what was typed stays in the field: {}",
        refused.body
    );
    assert_eq!(world.provider.attempts(), 0, "nothing was sent");

    // The offer leads to the authenticator app's setup, which works.
    let offer = link_href(&refused.body, APP_INSTEAD).expect("the app is offered");
    assert_eq!(offer, format!("{}#app-setup", with_rd(ENROLL, RD)));
    let page = browser.get_html(&with_rd(ENROLL, RD));
    assert!(page.body.contains(r#"id="app-setup""#), "{}", page.body);
    let app = Authenticator::from_enroll_page(&page.body);
    let done = post(
        &browser,
        &with_rd(ENROLL, RD),
        ENROLL,
        &[("code", &app.code())],
    );
    assert_eq!(recovery_codes(&done.body).len(), 10, "{}", done.body);
}

#[test]
fn an_unreadable_number_is_refused_without_sending() {
    let world = start(Setup::MemorySqlite, |c| c.resend_after("0s"));
    let browser = world.dave();
    let long = format!("+61 412 345 678{}", " 0".repeat(20));
    for typed in [
        "",
        "hello",
        "+61 412",
        "0412 345",
        "+61 412 345 678 ext. 9",
        long.as_str(),
    ] {
        let refused = text_me(&browser, typed);
        assert_eq!(refused.status, 400, "{typed:?}: {}", refused.body);
        let message = alert_text(&refused.body);
        assert!(
            message.starts_with("That isn't a phone number we can read."),
            "{typed:?}: {message}"
        );
        assert!(message.contains(COUNTRIES), "{message}");
        assert!(link_href(&refused.body, APP_INSTEAD).is_some(), "{typed:?}");
    }
    // Typed text comes back escaped, never as markup.
    let markup = text_me(&browser, "<b>0412</b>");
    assert_eq!(markup.status, 400);
    assert!(
        markup.body.contains("&lt;b&gt;0412&lt;/b&gt;"),
        "{}",
        markup.body
    );
    assert!(!markup.body.contains("<b>0412"));
    assert_eq!(world.provider.attempts(), 0, "nothing was sent");
    // No code is outstanding, so no guess can confirm one.
    let guess = confirm(&browser, "123456");
    assert_eq!(guess.status, 400);
    assert!(alert_text(&guess.body).contains("expired or was replaced"));
}

/// Long enough to see a code alive on the page first, on a busy machine.
const LIFETIME: Duration = Duration::from_secs(3);

fn a_texted_code_expires_after_the_code_lifetime(setup: Setup) {
    let world = start(setup, |c| c.code_lifetime("3s").resend_after("0s"));
    let browser = world.dave();
    assert_eq!(text_me(&browser, TYPED).status, 303);
    let stale = world.code(1);
    // The page asks for the code while it lives, and stops once it is gone.
    let confirming = |client: &Client| {
        let page = client.get_html(&sent_location(ENROLL));
        page.body.contains(r#"id="confirm-channel""#)
    };
    assert!(confirming(&browser), "the code is asked for");
    eventually(LIFETIME * 3, "the enrollment code to expire", || {
        (!confirming(&browser)).then_some(())
    });
    let expired = confirm(&browser, &stale);
    assert_eq!(expired.status, 400, "{}", expired.body);
    assert!(alert_text(&expired.body).contains("expired or was replaced"));
    let store = world.stack.gateway.store_url();
    assert!(
        contact_destinations(&store, "dave").is_empty(),
        "not enrolled"
    );
    assert_eq!(text_me(&browser, TYPED).status, 303);
    let fresh = world.code(2);
    assert_eq!(confirm(&browser, &fresh).status, 200);

    // At sign-in too. The code was made before its text arrived, so it is
    // gone a lifetime after that: no page shows it, so wait exactly that.
    let next = at_challenge(&world);
    assert_eq!(text_me_at_sign_in(&next).status, 303);
    let stale = world.code(3);
    let arrived = Instant::now();
    std::thread::sleep(LIFETIME.saturating_sub(arrived.elapsed()));
    let expired = enter_code(&next, &stale);
    assert_eq!(expired.status, 401, "{}", expired.body);
    assert!(
        alert_text(&expired.body).contains("expires"),
        "{}",
        expired.body
    );
    assert_eq!(next.get(RD).status, 403, "not in with an expired code");
    assert_eq!(text_me_at_sign_in(&next).status, 303);
    let fresh = world.code(4);
    assert_eq!(enter_code(&next, &fresh).location(), Some(RD));
}

/// `notify.resend_after` below: short, but long enough for a second
/// request to land inside it on a busy machine.
const PAUSE: u64 = 3;

/// A refused resend: 429, how long to wait, said in words and in
/// `Retry-After`.
fn assert_too_soon(refused: &Response) {
    assert_eq!(refused.status, 429, "{}", refused.body);
    let wait: u64 = refused
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=PAUSE).contains(&wait), "{wait}");
    let message = alert_text(&refused.body);
    assert!(message.contains("moments ago"), "{message}");
    assert!(message.contains(&format!("in {wait} seconds")), "{message}");
}

/// Asks with `ask` until the pause is over; every refusal is a 429.
fn once_the_pause_is_over(what: &str, ask: impl Fn() -> Response) -> Response {
    eventually(Duration::from_secs(PAUSE * 3), what, || {
        let answer = ask();
        if answer.status == 429 {
            return None;
        }
        Some(answer)
    })
}

fn a_resend_waits_for_resend_after(setup: Setup) {
    let world = start(setup, |c| c.resend_after(&format!("{PAUSE}s")));
    let browser = world.dave();
    assert_eq!(text_me(&browser, TYPED).status, 303);
    let first = world.code(1);
    let again = text_me(&browser, TYPED);
    assert_too_soon(&again);
    assert!(
        again.body.contains(r#"value="+61 412 345 678""#),
        "{}",
        again.body
    );
    assert!(
        link_href(&again.body, APP_INSTEAD).is_none(),
        "a pause is no reason to switch"
    );
    assert_eq!(world.provider.messages_to(E164).len(), 1, "no second text");
    let resent = once_the_pause_is_over("a resend", || text_me(&browser, TYPED));
    assert_eq!(resent.status, 303, "{}", resent.body);
    let second = world.code(2);
    if first != second {
        let replaced = confirm(&browser, &first);
        assert_eq!(replaced.status, 400, "the replaced code still worked");
    }
    assert_eq!(confirm(&browser, &second).status, 200);

    // At sign-in the same pause holds (the enrollment's may still run).
    let next = at_challenge(&world);
    let sent = once_the_pause_is_over("a sign-in code", || text_me_at_sign_in(&next));
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_too_soon(&text_me_at_sign_in(&next));
    assert_eq!(world.provider.messages_to(E164).len(), 3);
    let resent = once_the_pause_is_over("a sign-in resend", || text_me_at_sign_in(&next));
    assert_eq!(resent.status, 303, "{}", resent.body);
    let code = world.code(4);
    assert_eq!(enter_code(&next, &code).location(), Some(RD));
}

on_both_setups!(
    a_typed_number_with_spaces_receives_the_codes,
    a_texted_code_expires_after_the_code_lifetime,
    a_resend_waits_for_resend_after,
);
