//! Service tokens in the admin console: the list (config-file tokens beside
//! console-made ones), the create, replace and revoke forms, and the page
//! that shows a new or replacement token its one and only time.

use maud::{html, Markup};

use crate::components::{alert, csrf_field, field, table_head, AlertKind, Field};
use crate::layout::page;
use crate::{
    ADMIN_PATH, ADMIN_TOKENS_ACTION, ADMIN_TOKEN_END_REPLACED_ACTION, ADMIN_TOKEN_REPLACE_ACTION,
    ADMIN_TOKEN_REVOKE_ACTION,
};

/// Where a service token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenSource<'a> {
    /// `service_tokens` in the config file: listed, but only the file can change it.
    #[default]
    Config,
    /// Created in this console. Dates preformatted by the caller.
    Console {
        created: &'a str,
        created_by: &'a str,
    },
}

impl TokenSource<'_> {
    /// The row's `data-source` value, a stable hook for tests and scripts.
    fn key(self) -> &'static str {
        match self {
            TokenSource::Config => "config",
            TokenSource::Console { .. } => "console",
        }
    }
}

/// One service token as the console lists it. Never holds the token itself:
/// the gateway keeps only its hash, so there is nothing to show twice.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenRow<'a> {
    pub name: &'a str,
    /// The one app it may reach, or None for every app that takes console tokens
    /// (for a Config token: None means every app that doesn't restrict its tokens).
    pub app: Option<&'a str>,
    /// Its app is gone from the config, or now takes only the tokens it
    /// lists: the token reaches nothing.
    pub app_gone: bool,
    pub source: TokenSource<'a>,
    /// Preformatted expiry; None = never expires.
    pub expires: Option<&'a str>,
    pub expired: bool,
    /// Preformatted time of last use seen; None = not used yet (or unknown).
    pub last_used: Option<&'a str>,
    /// Until when the token it replaced still works, preformatted; None
    /// when there is none (or it has ended).
    pub replaced_until: Option<&'a str>,
}

/// The page that shows a new token, once. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenCreatedView<'a> {
    pub name: &'a str,
    /// The token itself: shown only on this page, never stored.
    pub token: &'a str,
    pub app: Option<&'a str>,
    pub expires: Option<&'a str>,
    /// Set when this token replaced another: until when the old one still
    /// works, preformatted.
    pub replaced_until: Option<&'a str>,
}

/// The name pattern for the browser to check; the gateway checks again.
/// `[a-z0-9_-]` would be the natural spelling, but browsers compile `pattern`
/// with the `v` flag, where an unescaped `-` in a class is a syntax error
/// and the whole pattern is silently ignored. `\-` is valid with `u` and `v`.
const NAME_PATTERN: &str = r"[a-z0-9_\-]+";

/// The `<select name="expires">` choices; the gateway maps each value to a
/// lifetime. 90 days is the default: long enough not to be a chore, short
/// enough that a forgotten token does not live for ever.
const EXPIRY_CHOICES: [(&str, &str); 4] = [
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("365d", "1 year"),
    ("never", "Never"),
];
const DEFAULT_EXPIRY: &str = "90d";

/// The admin console's "Service tokens" section: every token, then the
/// create form, offering `apps`. Config tokens get no forms: the console
/// could not honour them (the file would bring the token back), so it does
/// not offer them. Takes only what it shows, as `admin_audit::section`
/// does, so it needs nothing from the page that holds it.
pub(crate) fn section(tokens: &[TokenRow], apps: &[&str], csrf_token: &str) -> Markup {
    html! {
        section.section id="service-tokens" aria-labelledby="tokens-heading" {
            h2 id="tokens-heading" { "Service tokens" }
            p {
                "Integrations pass with " code { "Authorization: Bearer <token>" }
                " or " code { "X-Gatehouse-Token" } ", as "
                code { "Remote-User: service:<name>" } ", never asked for two-factor."
            }
            @if tokens.is_empty() {
                p { "No service tokens yet." }
            } @else {
                div.table-wrap {
                    table id="tokens" {
                        (table_head(&["Name", "Apps", "Created", "Expires", "Last used", "Actions"]))
                        tbody {
                            @for t in tokens {
                                (token_row(t, csrf_token))
                            }
                        }
                    }
                }
            }
            (create_form(apps, csrf_token))
        }
    }
}

fn token_row(t: &TokenRow, csrf_token: &str) -> Markup {
    html! {
        tr data-token=(t.name) data-source=(t.source.key()) data-expired=(t.expired) {
            th scope="row" { code { (t.name) } }
            td {
                @match t.app {
                    Some(app) => (app),
                    None => "Every app",
                }
                @if t.app_gone {
                    " " span.badge.badge-bad { "Reaches nothing" }
                    div.hint {
                        "No longer in the config, or it now takes only the tokens it lists."
                    }
                }
            }
            td {
                @match t.source {
                    TokenSource::Config => "In the config file",
                    TokenSource::Console { created, created_by } => {
                        (created) " by " (created_by)
                    }
                }
                @if let Some(until) = t.replaced_until {
                    div.hint { "The token it replaced works until " (until) "." }
                }
            }
            td {
                @match t.expires {
                    Some(at) => (at),
                    None => "Never",
                }
                // The caller's flag, not a date comparison: dates arrive preformatted.
                @if t.expired {
                    " " span.badge.badge-bad { "Expired" }
                }
            }
            td {
                @match t.last_used {
                    Some(at) => (at),
                    None => span.muted { "Never" },
                }
            }
            td {
                @match t.source {
                    TokenSource::Config => span.muted { "Change in the config file" },
                    TokenSource::Console { .. } => {
                        div.row-actions {
                            (token_action(t.name, csrf_token, ADMIN_TOKEN_REPLACE_ACTION,
                                ("Replace", "Replace token")))
                            @if t.replaced_until.is_some() {
                                (token_action(t.name, csrf_token, ADMIN_TOKEN_END_REPLACED_ACTION,
                                    ("End old token", "End the old token of")))
                            }
                            (token_action(t.name, csrf_token, ADMIN_TOKEN_REVOKE_ACTION,
                                ("Revoke", "Revoke token")))
                        }
                    }
                }
            }
        }
    }
}

/// One of a console token's buttons: a form posting its `name`. Its
/// accessible name is `label` then the token's name, since screen readers
/// may announce a button without its row.
fn token_action(name: &str, csrf_token: &str, action: &str, (text, label): (&str, &str)) -> Markup {
    let class = if action == ADMIN_TOKEN_REVOKE_ACTION {
        "btn btn-danger btn-small"
    } else {
        "btn btn-secondary btn-small"
    };
    html! {
        form method="post" action=(action) {
            (csrf_field(csrf_token))
            input type="hidden" name="name" value=(name);
            button class=(class) type="submit" aria-label={ (label) " " (name) } {
                (text)
            }
        }
    }
}

/// `method` and `action` come first so the form reads like every other
/// console form (and the tests find it the same way).
fn create_form(apps: &[&str], csrf_token: &str) -> Markup {
    html! {
        h3 id="new-token-heading" { "Create a token" }
        form method="post" action=(ADMIN_TOKENS_ACTION) id="new-token" class="narrow"
            aria-labelledby="new-token-heading" {
            (csrf_field(csrf_token))
            (field(&Field {
                id: "token-name",
                name: Some("name"),
                label: "Name",
                hint: Some("Lower-case letters, digits, '_' and '-'. \
                    The upstream sees it as Remote-User: service:NAME."),
                pattern: Some(NAME_PATTERN),
                maxlength: Some(64),
                verbatim: true,
                ..Field::default()
            }))
            div.field {
                label for="token-app" { "Apps" }
                select.input id="token-app" name="app" {
                    option value="" selected { "Every app that takes console tokens" }
                    @for app in apps {
                        option value=(app) { (app) }
                    }
                }
            }
            div.field {
                label for="token-expires" { "Expires after" }
                select.input id="token-expires" name="expires" {
                    @for (value, label) in EXPIRY_CHOICES {
                        option value=(value) selected[value == DEFAULT_EXPIRY] { (label) }
                    }
                }
            }
            button.btn.btn-primary type="submit" { "Create token" }
        }
        p.muted {
            "The token is shown once, on the next page. Apps that list their own tokens "
            "in the config (" code { "apps[].service_tokens" } ") take only those."
        }
    }
}

/// The full document showing a new token its only time, like the recovery
/// codes page: the token in `<code id="service-token">`, two ready-to-paste
/// examples, and a "Done" link back to the console. No form: nothing here
/// changes state, and a reload shows nothing new (the gateway keeps only
/// the token's hash).
pub fn token_created_page(v: &TokenCreatedView) -> String {
    let title = match v.replaced_until {
        Some(_) => "Service token replaced",
        None => "Service token created",
    };
    let body = html! {
        div.card.card-wide {
            p.eyebrow { "Gatehouse administration" }
            h1 { (title) }
            (alert(AlertKind::Warning, Some("token-warning"),
                "Copy this token now. It is shown only once: Gatehouse keeps only its SHA-256 hash."))
            p.secret { code id="service-token" { (v.token) } }
            p id="token-summary" {
                "The token " code { (v.name) } " reaches "
                @match v.app {
                    Some(app) => { "only the app " code { (app) } }
                    None => "every app that takes console tokens",
                }
                " and "
                @match v.expires {
                    Some(at) => { "expires " (at) }
                    None => "never expires",
                }
                ". Upstreams see it as " code { "Remote-User: service:" (v.name) } "."
            }
            @if let Some(until) = v.replaced_until {
                p id="token-replaced" {
                    "The token it replaced keeps working until " (until)
                    ", so the integration can move over. If it leaked, end it now: "
                    "\"End old token\" in the console."
                }
            }
            h2 { "Using it" }
            p { "Send it as a bearer token:" }
            pre {
                code { "curl -H 'Authorization: Bearer " (v.token) "' https://gateway.example/…" }
            }
            p { "or in Gatehouse's own header:" }
            pre {
                code { "curl -H 'X-Gatehouse-Token: " (v.token) "' https://gateway.example/…" }
            }
            div.actions {
                a.btn.btn-primary href=(ADMIN_PATH) { "Done" }
            }
        }
    };
    page(title, body).into_string()
}

#[cfg(test)]
#[path = "admin_tokens_tests.rs"]
mod tests;
