//! Service tokens: the admin console's section and the shown-once page.

use super::*;
use crate::test_support::forms;
use crate::{admin_page, AdminView};

const CSRF: &str = "tok-42";
const CREATE: &str = "/.gatehouse/admin/tokens";
const REVOKE: &str = "/.gatehouse/admin/tokens/revoke";
const REPLACE: &str = "/.gatehouse/admin/tokens/replace";
const END_REPLACED: &str = "/.gatehouse/admin/tokens/end-replaced";

fn tokens() -> [TokenRow<'static>; 3] {
    [
        TokenRow {
            name: "monitoring",
            source: TokenSource::Config,
            ..TokenRow::default()
        },
        TokenRow {
            name: "ci-deploy",
            app: Some("wiki"),
            source: TokenSource::Console {
                created: "2025-01-02",
                created_by: "alice",
            },
            expires: Some("2025-04-02"),
            last_used: Some("2025-01-05 09:00 UTC"),
            replaced_until: Some("2025-01-03 10:00:00 UTC"),
            ..TokenRow::default()
        },
        TokenRow {
            name: "old_backup",
            source: TokenSource::Console {
                created: "2024-01-01",
                created_by: "bob",
            },
            expires: Some("2024-12-31"),
            expired: true,
            ..TokenRow::default()
        },
    ]
}

fn render(tokens: &[TokenRow], token_apps: &[&str]) -> String {
    admin_page(&AdminView {
        admin: "root",
        csrf_token: CSRF,
        tokens,
        token_apps,
        ..AdminView::default()
    })
}

/// The `<section id="service-tokens">`.
fn section_of(html: &str) -> &str {
    let start = html
        .find(r#"<section class="section" id="service-tokens""#)
        .unwrap();
    &html[start..start + html[start..].find("</section>").unwrap()]
}

/// The `<tr>` of token `name`.
fn row<'h>(html: &'h str, name: &str) -> &'h str {
    let start = html.find(&format!(r#"<tr data-token="{name}""#)).unwrap();
    &html[start..start + html[start..].find("</tr>").unwrap()]
}

/// The `<select>` with id `id`.
fn select<'h>(html: &'h str, id: &str) -> &'h str {
    let start = html.find(&format!(r#"id="{id}""#)).unwrap();
    &html[start..start + html[start..].find("</select>").unwrap()]
}

#[test]
fn section_sits_between_users_and_audit_and_explains_itself() {
    let html = render(&tokens(), &[]);
    let users = html.find(r#"id="users-heading""#).unwrap();
    let tokens = html.find(r#"id="service-tokens""#).unwrap();
    let audit = html.find(r#"id="audit""#).unwrap();
    assert!(users < tokens && tokens < audit);
    let section = section_of(&html);
    assert!(section.contains(r#"<h2 id="tokens-heading">Service tokens</h2>"#));
    assert!(section.contains("<code>Authorization: Bearer &lt;token&gt;</code>"));
    assert!(section.contains("<code>X-Gatehouse-Token</code>"));
    assert!(section.contains("<code>Remote-User: service:&lt;name&gt;</code>"));
    assert!(section.contains("never asked for two-factor"));
    for col in ["Name", "Apps", "Created", "Expires", "Last used", "Actions"] {
        assert!(
            section.contains(&format!(r#"<th scope="col">{col}</th>"#)),
            "{col}"
        );
    }
}

#[test]
fn rows_carry_name_source_and_expiry_hooks() {
    let html = render(&tokens(), &[]);
    assert!(html.contains(r#"<table id="tokens">"#));
    assert!(
        html.contains(r#"<tr data-token="monitoring" data-source="config" data-expired="false">"#)
    );
    assert!(
        html.contains(r#"<tr data-token="ci-deploy" data-source="console" data-expired="false">"#)
    );
    assert!(
        html.contains(r#"<tr data-token="old_backup" data-source="console" data-expired="true">"#)
    );
}

#[test]
fn rows_show_reach_origin_expiry_and_last_use() {
    let html = render(&tokens(), &[]);
    let monitoring = row(&html, "monitoring");
    assert!(monitoring.contains(r#"<th scope="row"><code>monitoring</code></th>"#));
    assert!(monitoring.contains(
        r#"<td>Every app</td><td>In the config file</td><td>Never</td><td><span class="muted">Never</span></td>"#
    ));
    let ci = row(&html, "ci-deploy");
    assert!(ci.contains(
        "<td>wiki</td><td>2025-01-02 by alice<div class=\"hint\">The token it replaced works until 2025-01-03 10:00:00 UTC.</div></td><td>2025-04-02</td><td>2025-01-05 09:00 UTC</td>"
    ));
    assert!(!ci.contains("Expired"));
}

#[test]
fn expired_tokens_are_badged() {
    let html = render(&tokens(), &[]);
    assert!(row(&html, "old_backup")
        .contains(r#"<td>2024-12-31 <span class="badge badge-bad">Expired</span></td>"#));
    assert_eq!(section_of(&html).matches(">Expired</span>").count(), 1);
}

#[test]
fn a_token_whose_app_is_gone_says_it_reaches_nothing() {
    let mut rows = tokens();
    rows[1].app_gone = true;
    let html = render(&rows, &[]);
    let ci = row(&html, "ci-deploy");
    assert!(ci.contains(r#"<td>wiki <span class="badge badge-bad">Reaches nothing</span>"#));
    assert!(ci.contains("No longer in the config"));
    assert_eq!(section_of(&html).matches("Reaches nothing").count(), 1);
    assert!(!render(&tokens(), &[]).contains("Reaches nothing"));
}

#[test]
fn config_rows_have_no_revoke_form() {
    let html = render(&tokens(), &[]);
    let monitoring = row(&html, "monitoring");
    assert!(!monitoring.contains("<form"));
    assert!(monitoring.contains(r#"<span class="muted">Change in the config file</span>"#));
}

#[test]
fn console_rows_can_be_replaced_and_revoked_with_a_csrf_token() {
    let html = render(&tokens(), &[]);
    for name in ["ci-deploy", "old_backup"] {
        for (action, button) in [
            (
                REPLACE,
                format!(
                    r#"<button class="btn btn-secondary btn-small" type="submit" aria-label="Replace token {name}">Replace</button>"#
                ),
            ),
            (
                REVOKE,
                format!(
                    r#"<button class="btn btn-danger btn-small" type="submit" aria-label="Revoke token {name}">Revoke</button>"#
                ),
            ),
        ] {
            let found = forms(row(&html, name), action);
            assert_eq!(found.len(), 1, "{name} {action}");
            let form = found[0];
            assert!(form.contains(r#"<input type="hidden" name="csrf_token" value="tok-42">"#));
            assert!(form.contains(&format!(
                r#"<input type="hidden" name="name" value="{name}">"#
            )));
            assert!(form.contains(&button), "{form}");
        }
    }
    assert_eq!(forms(&html, REVOKE).len(), 2);
    assert_eq!(forms(&html, REPLACE).len(), 2);
}

#[test]
fn a_replaced_token_says_until_when_the_old_one_works_and_offers_to_end_it() {
    let html = render(&tokens(), &[]);
    let ci = row(&html, "ci-deploy");
    assert!(ci.contains(
        r#"<div class="hint">The token it replaced works until 2025-01-03 10:00:00 UTC.</div>"#
    ));
    let end = forms(ci, END_REPLACED);
    assert_eq!(end.len(), 1);
    assert!(end[0].contains(r#"<input type="hidden" name="name" value="ci-deploy">"#));
    assert!(
        end[0].contains(r#"aria-label="End the old token of ci-deploy">End old token</button>"#)
    );
    // Only where there is an old token to end.
    assert!(!row(&html, "old_backup").contains("works until"));
    assert_eq!(forms(&html, END_REPLACED).len(), 1);
}

#[test]
fn no_tokens_says_so_and_still_offers_the_create_form() {
    let html = render(&[], &[]);
    let section = section_of(&html);
    assert!(section.contains("<p>No service tokens yet.</p>"));
    assert!(!html.contains(r#"id="tokens""#));
    assert_eq!(forms(&html, CREATE).len(), 1);
}

#[test]
fn create_form_asks_for_a_name() {
    let html = render(&[], &[]);
    let create = forms(&html, CREATE);
    assert_eq!(create.len(), 1);
    let create = create[0];
    assert!(create
        .starts_with(r#"<form method="post" action="/.gatehouse/admin/tokens" id="new-token""#));
    assert!(create.contains(r#"<input type="hidden" name="csrf_token" value="tok-42">"#));
    assert!(create.contains(r#"<label for="token-name">Name</label>"#));
    assert!(create.contains(r#"id="token-name" name="name" type="text" autocomplete="off""#));
    assert!(create.contains(r#"pattern="[a-z0-9_\-]+" maxlength="64""#));
    assert!(create.contains(r#"spellcheck="false" required"#));
    assert!(create.contains(r#"aria-describedby="token-name-hint""#));
    assert!(create.contains(
        r#"<p class="hint" id="token-name-hint">Lower-case letters, digits, '_' and '-'. The upstream sees it as Remote-User: service:NAME.</p>"#
    ));
    assert!(
        create.contains(r#"<button class="btn btn-primary" type="submit">Create token</button>"#)
    );
    assert!(section_of(&html).contains("The token is shown once, on the next page."));
    assert!(section_of(&html).contains("<code>apps[].service_tokens</code>"));
}

#[test]
fn app_select_lists_exactly_the_token_apps_after_every_app() {
    let html = render(&[], &["wiki", "grafana"]);
    let apps = select(&html, "token-app");
    assert!(apps.starts_with(r#"id="token-app" name="app">"#));
    assert_eq!(apps.matches("<option").count(), 3);
    assert!(apps.contains(
        r#"<option value="" selected>Every app that takes console tokens</option><option value="wiki">wiki</option><option value="grafana">grafana</option>"#
    ));
    let none = render(&[], &[]);
    assert_eq!(select(&none, "token-app").matches("<option").count(), 1);
}

#[test]
fn expiry_select_defaults_to_ninety_days() {
    let html = render(&[], &[]);
    let expires = select(&html, "token-expires");
    assert!(expires.starts_with(r#"id="token-expires" name="expires">"#));
    assert!(expires.contains(concat!(
        r#"<option value="30d">30 days</option>"#,
        r#"<option value="90d" selected>90 days</option>"#,
        r#"<option value="365d">1 year</option>"#,
        r#"<option value="never">Never</option>"#,
    )));
    assert_eq!(expires.matches("selected").count(), 1);
}

#[test]
fn every_token_form_carries_the_csrf_token() {
    let html = render(&tokens(), &["wiki"]);
    let section = section_of(&html);
    let all: Vec<&str> = [CREATE, REPLACE, END_REPLACED, REVOKE]
        .iter()
        .flat_map(|action| forms(section, action))
        .collect();
    assert_eq!(all.len(), 1 + 2 + 1 + 2);
    assert_eq!(all.len(), section.matches("<form").count());
    for f in all {
        assert!(f.contains(r#"name="csrf_token" value="tok-42""#), "{f}");
    }
}

#[test]
fn token_and_app_names_are_escaped() {
    let tokens = [
        TokenRow {
            name: "<script>n</script>",
            app: Some("<script>a</script>"),
            source: TokenSource::Console {
                created: "<c>",
                created_by: "<script>by</script>",
            },
            expires: Some("<e>"),
            last_used: Some("<u>"),
            ..TokenRow::default()
        },
        TokenRow {
            name: "\"cfg\"",
            ..TokenRow::default()
        },
    ];
    let html = render(&tokens, &["<script>app</script>", "\"q\""]);
    assert!(!html.contains("<script>"));
    let evil = "&lt;script&gt;n&lt;/script&gt;";
    assert!(html.contains(&format!(r#"<tr data-token="{evil}""#)));
    assert!(html.contains(&format!("<code>{evil}</code>")));
    assert!(html.contains(&format!(r#"name="name" value="{evil}""#)));
    assert!(html.contains(&format!(r#"aria-label="Revoke token {evil}""#)));
    assert!(html.contains("<td>&lt;script&gt;a&lt;/script&gt;</td>"));
    assert!(html.contains("<td>&lt;c&gt; by &lt;script&gt;by&lt;/script&gt;</td>"));
    assert!(html.contains("<td>&lt;e&gt;</td><td>&lt;u&gt;</td>"));
    assert!(html.contains(r#"<tr data-token="&quot;cfg&quot;""#));
    assert!(html.contains(
        r#"<option value="&lt;script&gt;app&lt;/script&gt;">&lt;script&gt;app&lt;/script&gt;</option>"#
    ));
    assert!(html.contains(r#"<option value="&quot;q&quot;">"#));
}

fn created(app: Option<&'static str>, expires: Option<&'static str>) -> String {
    token_created_page(&TokenCreatedView {
        name: "ci-deploy",
        token: "ght_Zm9vYmFyYmF6cXV4",
        app,
        expires,
        replaced_until: None,
    })
}

#[test]
fn created_page_shows_the_token_once_in_service_token() {
    let html = created(None, None);
    assert!(html.contains("<title>Service token created · Gatehouse</title>"));
    assert!(html.contains(r#"<p class="eyebrow">Gatehouse administration</p>"#));
    assert!(html.contains("<h1>Service token created</h1>"));
    assert!(html
        .contains(r#"<p class="secret"><code id="service-token">ght_Zm9vYmFyYmF6cXV4</code></p>"#));
    assert_eq!(html.matches(r#"id="service-token""#).count(), 1);
    // The element, then one per usage example: nowhere else (not the title).
    assert_eq!(html.matches("ght_Zm9vYmFyYmF6cXV4").count(), 3);
    assert!(html.contains(
        "<pre><code>curl -H 'Authorization: Bearer ght_Zm9vYmFyYmF6cXV4' https://gateway.example/…</code></pre>"
    ));
    assert!(html.contains(
        "<pre><code>curl -H 'X-Gatehouse-Token: ght_Zm9vYmFyYmF6cXV4' https://gateway.example/…</code></pre>"
    ));
}

#[test]
fn created_page_warns_it_is_shown_once() {
    let html = created(None, None);
    assert!(html.contains(
        r#"<div class="alert alert-warn" role="alert" aria-live="assertive" id="token-warning">Copy this token now. It is shown only once: Gatehouse keeps only its SHA-256 hash.</div>"#
    ));
    let warning = html.find("token-warning").unwrap();
    assert!(warning < html.find(r#"id="service-token""#).unwrap());
}

#[test]
fn created_page_has_no_form_and_a_done_link() {
    let html = created(Some("wiki"), Some("2025-04-02"));
    assert!(!html.contains("<form"));
    assert!(!html.contains("csrf_token"));
    assert!(html.contains(r#"<a class="btn btn-primary" href="/.gatehouse/admin">Done</a>"#));
}

#[test]
fn created_page_says_what_the_token_reaches_and_when_it_expires() {
    let html = created(None, None);
    assert!(html.contains(
        "The token <code>ci-deploy</code> reaches every app that takes console tokens and never expires."
    ));
    assert!(html.contains("<code>Remote-User: service:ci-deploy</code>"));
    let html = created(Some("wiki"), Some("2025-04-02"));
    assert!(html.contains(
        "The token <code>ci-deploy</code> reaches only the app <code>wiki</code> and expires 2025-04-02."
    ));
}

#[test]
fn replaced_page_says_until_when_the_old_token_works() {
    let html = token_created_page(&TokenCreatedView {
        name: "ci-deploy",
        token: "ght_Zm9vYmFyYmF6cXV4",
        replaced_until: Some("2025-01-03 10:00:00 UTC"),
        ..TokenCreatedView::default()
    });
    assert!(html.contains("<title>Service token replaced · Gatehouse</title>"));
    assert!(html.contains("<h1>Service token replaced</h1>"));
    assert!(html.contains(
        r#"<p id="token-replaced">The token it replaced keeps working until 2025-01-03 10:00:00 UTC, so the integration can move over. If it leaked, end it now: &quot;End old token&quot; in the console.</p>"#
    ));
    assert!(html.contains(r#"<code id="service-token">ght_Zm9vYmFyYmF6cXV4</code>"#));
    assert!(!html.contains("<form"));
    assert!(!created(None, None).contains("token-replaced"));
}

#[test]
fn created_page_escapes_everything() {
    let html = token_created_page(&TokenCreatedView {
        name: "<script>n</script>",
        token: "<script>t</script>",
        app: Some("<script>a</script>"),
        expires: Some("<e>"),
        replaced_until: Some("<u>"),
    });
    assert!(!html.contains("<script>"));
    assert!(html.contains(r#"<code id="service-token">&lt;script&gt;t&lt;/script&gt;</code>"#));
    assert_eq!(html.matches("&lt;script&gt;t&lt;/script&gt;").count(), 3);
    assert!(html.contains("<code>&lt;script&gt;n&lt;/script&gt;</code>"));
    assert!(html.contains("<code>&lt;script&gt;a&lt;/script&gt;</code>"));
    assert!(html.contains("expires &lt;e&gt;."));
    assert!(html.contains("keeps working until &lt;u&gt;,"));
}
