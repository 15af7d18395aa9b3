//! "Acme Legacy App": the built-in demo upstream that shows what Gatehouse
//! sends. It stands in for somebody else's app, so it has its own look and
//! does not use the portal stylesheet.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::components::{csrf_field, table_head};
use crate::{ACCOUNT_PATH, LOGOUT_ACTION};

/// What the demo app received. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoView<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Every header the demo app received, in order.
    pub headers: &'a [(String, String)],
    /// When set, the page also offers a sign-out form carrying this token.
    pub logout_csrf: Option<&'a str>,
}

/// The headers Gatehouse sets for the upstream.
const IDENTITY_HEADERS: [&str; 4] = [
    "Remote-User",
    "Remote-Email",
    "Remote-Name",
    "Remote-Groups",
];

/// A constant stylesheet (never user data), so it is safe to emit unescaped.
const STYLE: &str = "\
:root{color-scheme:light dark;--bg:#fbf8f3;--fg:#2b2118;--muted:#6b5d50;--line:#e4dccf;\
--accent:#8a3b12;--hl:#fff1d6;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
@media (prefers-color-scheme:dark){:root{--bg:#1b1714;--fg:#f1e9df;--muted:#bcae9f;\
--line:#3b332c;--accent:#f2a36b;--hl:#3a2c17}}\
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);line-height:1.5}\
.bar{background:var(--accent);color:var(--bg);padding:.75rem 0}\
.wrap{max-width:52rem;margin:0 auto;padding:0 1rem}\
.bar .wrap{display:flex;gap:.75rem;align-items:center;flex-wrap:wrap}\
.tag{font-size:.75rem;border:1px solid currentColor;border-radius:4px;padding:0 .4rem}\
main{padding:2rem 0 3rem}h1{margin:.5rem 0}h2{font-size:1.1rem;margin:2rem 0 .5rem}\
a{color:var(--accent)}a:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}\
.muted{color:var(--muted)}table{width:100%;border-collapse:collapse;font-size:.9rem}\
th,td{text-align:left;vertical-align:top;padding:.4rem .6rem;border-bottom:1px solid var(--line);\
overflow-wrap:anywhere}th{color:var(--muted)}tr.id th,tr.id td{background:var(--hl)}\
th:first-child,td:first-child{width:1%;white-space:nowrap}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}\
.links{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}.links form{margin:0}\
button{font:inherit;padding:.35rem .9rem;border-radius:4px;border:1px solid var(--accent);\
background:transparent;color:var(--accent);cursor:pointer}";

fn is_identity(name: &str) -> bool {
    IDENTITY_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// First value of a header; names are case-insensitive as in HTTP.
fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The full demo-app document.
pub fn demo_app_page(v: &DemoView) -> String {
    let user = header(v.headers, "Remote-User").filter(|u| !u.is_empty());
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Acme Legacy App" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.bar {
                    div.wrap { strong { "Acme Legacy App" } span.tag { "demo upstream" } }
                }
                main.wrap {
                    @if let Some(user) = user {
                        h1 { "Hello, " (user) }
                        p.muted {
                            "This app has no login of its own: it trusts the identity "
                            "headers that Gatehouse set on your request."
                        }
                    } @else {
                        h1 { "Hello, anonymous visitor" }
                        p.muted {
                            "No Remote-User header arrived, so Gatehouse did not sign this "
                            "request in (a bypass route, or the app was reached directly)."
                        }
                    }
                    div.links {
                        a href=(ACCOUNT_PATH) { "Your Gatehouse account" }
                        @if let Some(token) = v.logout_csrf {
                            form method="post" action=(LOGOUT_ACTION) {
                                (csrf_field(token))
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                    h2 { "Identity headers" }
                    (identity_table(v.headers))
                    h2 { "Request" }
                    p { code { (v.method) " " (v.path) } }
                    h2 { "All received headers (" (v.headers.len()) ")" }
                    (all_headers_table(v.headers))
                }
            }
        }
    }
    .into_string()
}

fn identity_table(headers: &[(String, String)]) -> Markup {
    html! {
        table {
            (table_head(&["Header", "Value"]))
            tbody {
                @for name in IDENTITY_HEADERS {
                    tr.id {
                        th scope="row" { code { (name) } }
                        td {
                            @match header(headers, name) {
                                Some(value) => (value),
                                None => span.muted { "not sent" },
                            }
                        }
                    }
                }
            }
        }
    }
}

fn all_headers_table(headers: &[(String, String)]) -> Markup {
    html! {
        table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Value" } } }
            tbody {
                @for (name, value) in headers {
                    tr class=[is_identity(name).then_some("id")] {
                        td { code { (name) } }
                        td { (value) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn render(headers: &[(String, String)]) -> String {
        demo_app_page(&DemoView {
            method: "GET",
            path: "/reports?q=1",
            headers,
            logout_csrf: None,
        })
    }

    #[test]
    fn greets_remote_user() {
        let h = headers(&[("host", "app"), ("remote-user", "alice")]);
        assert!(render(&h).contains("<h1>Hello, alice</h1>"));
    }

    #[test]
    fn without_remote_user_says_so() {
        let html = render(&headers(&[("Host", "app")]));
        assert!(html.contains("Hello, anonymous visitor"));
        assert_eq!(html.matches("not sent").count(), 4);
    }

    #[test]
    fn lists_every_received_header_in_order() {
        let h = headers(&[
            ("X-First", "one"),
            ("Accept", "text/html"),
            ("X-Last", "two"),
        ]);
        let html = render(&h);
        assert!(html.contains("All received headers (3)"));
        let first = html.find("<code>X-First</code></td><td>one</td>").unwrap();
        let accept = html
            .find("<code>Accept</code></td><td>text/html</td>")
            .unwrap();
        let last = html.find("<code>X-Last</code></td><td>two</td>").unwrap();
        assert!(first < accept && accept < last);
    }

    #[test]
    fn highlights_identity_headers() {
        let h = headers(&[("Remote-Groups", "admins,dev"), ("Remote-Email", "a@x")]);
        let html = render(&h);
        assert!(
            html.contains(r#"<th scope="row"><code>Remote-Groups</code></th><td>admins,dev</td>"#)
        );
        assert!(html.contains(r#"<tr class="id"><td><code>Remote-Email</code></td><td>a@x</td>"#));
    }

    #[test]
    fn shows_request_and_links_to_account() {
        let html = render(&[]);
        assert!(html.contains("<code>GET /reports?q=1</code>"));
        assert!(html.contains(r#"<a href="/.gatehouse/account">"#));
        assert!(!html.contains("/.gatehouse/logout"));
    }

    #[test]
    fn has_its_own_style_not_the_portal_css() {
        let html = render(&[]);
        assert!(!html.contains(crate::CSS_PATH));
        assert!(!html.contains("<link"));
        assert!(html.contains("<style>"));
        assert!(html.contains("<title>Acme Legacy App</title>"));
    }

    #[test]
    fn header_names_and_values_are_escaped() {
        let h = headers(&[("Remote-User", "<script>x</script>"), ("X-<b>", "a&b")]);
        let html = render(&h);
        assert!(!html.contains("<script>"));
        assert!(html.contains("Hello, &lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("<code>X-&lt;b&gt;</code></td><td>a&amp;b</td>"));
    }

    #[test]
    fn offers_sign_out_when_given_a_token() {
        let html = demo_app_page(&DemoView {
            logout_csrf: Some("tok"),
            ..DemoView::default()
        });
        assert!(html.contains(r#"<form method="post" action="/.gatehouse/logout">"#));
        assert!(html.contains(r#"name="csrf_token" value="tok""#));
    }
}
