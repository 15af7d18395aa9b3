//! Error pages (bad gateway, forbidden, CSRF failure, …).

use maud::html;

use crate::layout::page;

/// What an error page says. All strings are escaped on output.
#[derive(Debug, Clone, Copy)]
pub struct ErrorView<'a> {
    /// HTTP status, shown small above the title.
    pub status: u16,
    /// Short name of the problem, e.g. "Bad gateway"; the `<h1>` and `<title>`.
    pub title: &'a str,
    /// What happened and what the user can do about it.
    pub message: &'a str,
    /// Optional `(label, href)` link button, e.g. `("Try again", "/")`.
    pub action: Option<(&'a str, &'a str)>,
}

/// The full error document. The caller sets the HTTP status itself.
pub fn error_page(v: &ErrorView) -> String {
    let body = html! {
        div.card {
            p.eyebrow { "Error " (v.status) }
            h1 { (v.title) }
            p { (v.message) }
            @if let Some((label, href)) = v.action {
                div.actions {
                    a.btn.btn-primary href=(href) { (label) }
                }
            }
        }
    };
    page(v.title, body).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad_gateway() -> ErrorView<'static> {
        ErrorView {
            status: 502,
            title: "Bad gateway",
            message: "The application did not respond. Try again in a moment.",
            action: Some(("Try again", "/")),
        }
    }

    #[test]
    fn shows_status_title_and_message() {
        let html = error_page(&bad_gateway());
        assert!(html.contains("<title>Bad gateway · Gatehouse</title>"));
        assert!(html.contains("<h1>Bad gateway</h1>"));
        assert!(html.contains(">Error 502</p>"));
        assert!(html.contains("<p>The application did not respond. Try again in a moment.</p>"));
        assert!(html.contains(crate::CSS_PATH));
    }

    #[test]
    fn action_is_a_link_button() {
        let html = error_page(&bad_gateway());
        assert!(html.contains(r#"<a class="btn btn-primary" href="/">Try again</a>"#));
    }

    #[test]
    fn no_action_means_no_button() {
        let html = error_page(&ErrorView {
            action: None,
            ..bad_gateway()
        });
        assert!(!html.contains("btn"));
    }

    #[test]
    fn text_and_link_are_escaped() {
        let html = error_page(&ErrorView {
            status: 403,
            title: "<i>Forbidden</i>",
            message: "a & b",
            action: Some(("<go>", "/x?a=1&b=\"2\"")),
        });
        assert!(html.contains("<h1>&lt;i&gt;Forbidden&lt;/i&gt;</h1>"));
        assert!(html.contains("a &amp; b"));
        assert!(html.contains(r#"href="/x?a=1&amp;b=&quot;2&quot;">&lt;go&gt;</a>"#));
        assert!(!html.contains("<i>"));
    }
}
