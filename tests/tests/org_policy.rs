//! Each organisation's MFA policy (issue 20): the reseller's lock seen
//! from both sides, a stricter child kept, methods turned off, and the
//! guarded switches with "forget all devices", racing a sign-in too.
//!
//! root (alice) ── reseller (rita) ─┬─ acme (ann, andy)
//!                                  └─ globex (gus, gina)

use gatehouse_tests::harness::admin::{ADMIN, POLICY, SWITCH};
use gatehouse_tests::harness::config::UserSpec;
use gatehouse_tests::harness::mfa::{ENROLL, MFA};
use gatehouse_tests::harness::store::{audit_log, totp_enrollment};
use gatehouse_tests::harness::{Authenticator, Client, GatewayConfig, Postgres};
use gatehouse_tests::{with_rd, Backend, Stack, PASSWORD};

const RD: &str = "/private/report";
const TWO_FACTOR: &str = "/secure/x";

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

/// Memory sessions with SQLite, or Redis with PostgreSQL.
fn start(backend: Backend, postgres: Option<&Postgres>) -> Stack {
    Stack::start_with(backend, |c| {
        let c = orgs(c);
        match postgres {
            Some(pg) => c.store_url(&pg.create_database("gatehouse")),
            None => c,
        }
    })
}

/// `name` signed in, with an authenticator just enrolled: a fresh proof.
fn signed_in(stack: &Stack, name: &str) -> (Client, Authenticator) {
    let client = stack.client();
    client.login_ok(name);
    let (app, _) = client.enroll();
    (client, app)
}

/// The switch, confirmed, with `extra` fields (password, forget_devices).
fn switch(admin: &Client, org: &str, mfa: &str, lock: &str, extra: &[(&str, &str)]) -> u16 {
    let mut fields = vec![
        ("org", org),
        ("mfa", mfa),
        ("lock", lock),
        ("confirm", "yes"),
    ];
    fields.extend_from_slice(extra);
    admin.admin_post(SWITCH, &fields).status
}

/// The card of `org` in the console `html`.
fn card<'h>(html: &'h str, org: &str) -> &'h str {
    let start = html
        .find(&format!(r#"id="org-{org}""#))
        .unwrap_or_else(|| panic!("no card for {org}: {html}"));
    let rest = &html[start..];
    let end = rest.find("</form>").unwrap_or(rest.len());
    &rest[..end]
}

fn reseller_locks_mfa_and_the_company_sees_it_locked(backend: Backend, pg: Option<&Postgres>) {
    let stack = start(backend, pg);
    let andy = stack.client();
    andy.login_ok("andy");
    let gina = stack.client();
    gina.login_ok("gina");
    let (rita, _) = signed_in(&stack, "rita");

    // The confirmation names the company and counts who must enroll.
    let page = rita.get_html(&format!("{SWITCH}?org=acme&mfa=required&lock=1"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("Require two-factor authentication for acme?"));
    assert!(
        page.body.contains(r#"data-to-enroll="2""#),
        "ann and andy: {}",
        page.body
    );
    // Without the confirmation nothing happens.
    let unconfirmed = rita.admin_post(
        SWITCH,
        &[("org", "acme"), ("mfa", "required"), ("lock", "1")],
    );
    assert_eq!(unconfirmed.status, 303);
    assert_eq!(andy.get(RD).status, 200, "not yet");
    assert_eq!(switch(&rita, "acme", "required", "1", &[]), 303);

    // andy's live session is sent to enroll; globex is untouched.
    assert_eq!(
        andy.get_html(RD).location(),
        Some(with_rd(ENROLL, RD).as_str())
    );
    assert_eq!(gina.get(RD).status, 200);

    // The company's admin: must enroll, sees the lock and by whom, and
    // can't loosen it, though she may tighten the rest.
    let (ann, _) = signed_in(&stack, "ann");
    let console = ann.get_html(ADMIN);
    let acme = card(&console.body, "acme");
    assert!(
        acme.contains(r#"data-mfa="required" data-locked="true""#),
        "{acme}"
    );
    assert!(acme.contains("Locked by rita (reseller)"), "{acme}");
    assert!(!acme.contains("Unlock"), "{acme}");
    // Nor does the console offer a looser switch, here or as her own
    // policy's "Stop requiring": it would only be refused.
    assert!(!acme.contains("mfa=optional"), "{acme}");
    assert!(!acme.contains("mfa=off"), "{acme}");
    assert!(!console.body.contains("Stop requiring"), "{}", console.body);
    let refused = ann.admin_post(
        SWITCH,
        &[
            ("org", "acme"),
            ("mfa", "optional"),
            ("confirm", "yes"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("locked by rita (reseller)"),
        "{}",
        refused.body
    );
    let tighter = ann.admin_post(
        POLICY,
        &[
            ("org", "acme"),
            ("methods", "totp"),
            ("remember_device_days", "7"),
        ],
    );
    assert_eq!(tighter.status, 303, "{}", tighter.body);
    // The reseller's side: the lock is theirs to lift.
    let theirs = rita.get_html(ADMIN);
    assert!(card(&theirs.body, "acme").contains("Unlock"));

    let entries = audit_log(&stack.gateway.store_url(), "rita");
    let changed: Vec<_> = entries
        .iter()
        .filter(|e| e.event == "mfa_policy_changed")
        .collect();
    assert_eq!(changed.len(), 1, "{entries:?}");
    assert_eq!(changed[0].outcome, "enforced");
    assert_eq!(
        changed[0].detail.as_deref(),
        Some("acme: mfa optional -> required, locked")
    );
    assert_eq!(changed[0].proof.as_deref(), Some("code"));
}

#[test]
fn reseller_locks_mfa_and_the_company_sees_it_locked_memory_sqlite() {
    reseller_locks_mfa_and_the_company_sees_it_locked(Backend::Memory, None);
}

#[test]
fn reseller_locks_mfa_and_the_company_sees_it_locked_redis_postgres() {
    let pg = Postgres::start();
    reseller_locks_mfa_and_the_company_sees_it_locked(Backend::Redis, Some(&pg));
}

#[test]
fn the_console_says_which_organisation_a_switch_changed() {
    let stack = start(Backend::Memory, None);
    let (ann, _) = signed_in(&stack, "ann");
    let done = ann.admin_post(
        SWITCH,
        &[("org", "acme"), ("mfa", "required"), ("confirm", "yes")],
    );
    let landed = format!("{ADMIN}?done=enforced&org=acme");
    assert_eq!(done.location(), Some(landed.as_str()));
    let console = ann.get_html(&landed);
    assert!(
        console
            .body
            .contains("Two-factor authentication is now required for acme."),
        "{}",
        console.body
    );
    // An organisation she doesn't administer is never named.
    let beside = ann.get_html(&format!("{ADMIN}?done=enforced&org=globex"));
    assert!(!beside.body.contains("globex"), "{}", beside.body);
}

#[test]
fn a_stricter_company_keeps_its_setting_when_the_reseller_changes() {
    let stack = start(Backend::Memory, None);
    let (rita, _) = signed_in(&stack, "rita");
    let (ann, _) = signed_in(&stack, "ann");
    let policy = |client: &Client, days: &str, lock: &str| {
        let mut fields = vec![
            ("org", "acme"),
            ("methods", "totp"),
            ("methods", "email"),
            ("remember_device_days", days),
        ];
        if !lock.is_empty() {
            fields.push(("lock", lock));
        }
        client.admin_post(POLICY, &fields)
    };
    assert_eq!(policy(&rita, "7", "remember_device_days").status, 303);
    assert_eq!(policy(&ann, "1", "").status, 303, "tighter is fine");
    let looser = policy(&ann, "30", "");
    assert_eq!(looser.status, 409, "{}", looser.body);
    assert!(looser.body.contains("locked by rita"), "{}", looser.body);
    // The reseller relaxes the floor; acme stays at its own, stricter, 1.
    assert_eq!(policy(&rita, "14", "remember_device_days").status, 303);
    let console = ann.get_html(ADMIN);
    let acme = card(&console.body, "acme");
    assert!(
        acme.contains(r#"name="remember_device_days" value="1""#),
        "{acme}"
    );
}

#[test]
fn a_method_turned_off_is_no_longer_offered_or_accepted() {
    let stack = start(Backend::Memory, None);
    let andy = stack.client();
    andy.login_ok("andy");
    let (app, _) = andy.enroll();
    let (ann, _) = signed_in(&stack, "ann");
    assert_eq!(switch(&ann, "acme", "required", "", &[]), 303);
    // Only email is allowed now: andy's authenticator no longer counts.
    let saved = ann.admin_post(
        POLICY,
        &[
            ("org", "acme"),
            ("methods", "email"),
            ("remember_device_days", "30"),
        ],
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    // Signed in already, andy keeps his session until it ends...
    assert_eq!(andy.get(RD).status, 200);
    // ...but a new sign-in isn't asked for the app's code: it must enroll
    // another way, and the app isn't offered.
    let again = stack.client();
    let login = again.login("andy", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(ENROLL, RD).as_str()));
    let enroll = again.get_html(&with_rd(ENROLL, RD));
    assert!(
        !enroll.body.contains(r#"id="totp-secret""#),
        "{}",
        enroll.body
    );
    // A code from the app is refused where the challenge would take it.
    let tried = again.submit_code(RD, &app.code(), false);
    assert_ne!(tried.location(), Some(RD), "the app's code got andy in");
    assert_ne!(again.get(RD).status, 200);
}

#[test]
fn turning_mfa_off_needs_the_password_and_can_forget_every_device() {
    let stack = start(Backend::Memory, None);
    let store = stack.gateway.store_url();
    let andy = stack.client();
    andy.login_ok("andy");
    andy.enroll();
    let (rita, _) = signed_in(&stack, "rita");
    assert_eq!(switch(&rita, "acme", "required", "", &[]), 303);

    // Loosening asks for the password, and offers forgetting devices.
    let page = rita.get_html(&format!("{SWITCH}?org=acme&mfa=off"));
    assert!(page.body.contains(r#"name="password""#), "{}", page.body);
    assert!(
        page.body.contains(r#"name="forget_devices""#),
        "{}",
        page.body
    );
    assert_eq!(switch(&rita, "acme", "off", "", &[]), 403, "no password");
    assert_eq!(
        switch(&rita, "acme", "off", "", &[("password", "wrong")]),
        403
    );
    assert!(
        totp_enrollment(&store, "andy").is_some(),
        "nothing changed yet"
    );
    let off = switch(
        &rita,
        "acme",
        "off",
        "",
        &[("password", PASSWORD), ("forget_devices", "1")],
    );
    assert_eq!(off, 303);

    // Every factor of acme's users is gone, and their sessions with it.
    assert!(totp_enrollment(&store, "andy").is_none());
    assert_ne!(andy.get(RD).status, 200, "andy's session ended");
    // With MFA off nobody is asked for a code; a two-factor app stays shut.
    let again = stack.client();
    assert_eq!(again.login("andy", PASSWORD, Some(RD)).location(), Some(RD));
    assert_eq!(again.get(RD).status, 200);
    let shut = again.get_html(TWO_FACTOR);
    assert_eq!(shut.status, 403);
    assert!(shut.body.contains("turned off"), "{}", shut.body);
    assert_eq!(again.get_html(ENROLL).status, 403, "nothing to set up");

    let entries = audit_log(&store, "rita");
    let last = entries
        .iter()
        .rev()
        .find(|e| e.event == "mfa_policy_changed")
        .expect("audited");
    assert_eq!(last.outcome, "turned_off");
    assert_eq!(
        last.detail.as_deref(),
        Some("acme: mfa required -> off, devices of 2 users forgotten")
    );
}

#[test]
fn forgetting_every_device_while_a_user_signs_in_leaves_no_way_through() {
    let stack = start(Backend::Memory, None);
    let (app, _) = stack.enrolled("andy");
    let (rita, _) = signed_in(&stack, "rita");
    assert_eq!(switch(&rita, "acme", "required", "", &[]), 303);
    // andy typed his password and owes the code when the devices go.
    let andy = stack.at_challenge("andy", RD);
    let forgot = switch(
        &rita,
        "acme",
        "optional",
        "",
        &[("password", PASSWORD), ("forget_devices", "1")],
    );
    assert_eq!(forgot, 303);
    let tried = andy.submit_code(RD, &app.code(), false);
    assert_ne!(
        tried.location(),
        Some(RD),
        "the forgotten app's code worked"
    );
    assert_ne!(andy.get(RD).status, 200);
    // A fresh sign-in is one with no factor: the reminder, not the code.
    let fresh = stack.client();
    let login = fresh.login("andy", PASSWORD, Some(RD));
    assert_ne!(login.location(), Some(with_rd(MFA, RD).as_str()));
}
