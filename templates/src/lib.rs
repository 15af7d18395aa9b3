//! Gatehouse's own pages, rendered server-side with maud.
//!
//! Every page is a complete HTML document that works without JavaScript.
//! User-supplied text is only ever interpolated through maud, which escapes it.
//! Portal pages share one shell (`layout::page`) and one stylesheet ([`CSS`]),
//! served by the gateway at [`CSS_PATH`]; the demo upstream app is styled
//! on its own because it stands in for "somebody else's app".

mod account;
mod components;
mod demo;
mod errors;
mod layout;
mod login;

pub use account::{account_page, AccountView};
pub use demo::{demo_app_page, DemoView};
pub use errors::{error_page, ErrorView};
pub use login::{login_page, LoginView};

/// The portal stylesheet, served at [`CSS_PATH`].
pub const CSS: &str = include_str!("../static/gatehouse.css");

/// Where the gateway serves [`CSS`]; every portal page links to it.
pub const CSS_PATH: &str = "/.gatehouse/static/gatehouse.css";

/// Portal form targets, shared by pages and (via the tests) pinned here.
pub(crate) const LOGIN_ACTION: &str = "/.gatehouse/login";
pub(crate) const LOGOUT_ACTION: &str = "/.gatehouse/logout";
pub(crate) const ACCOUNT_PATH: &str = "/.gatehouse/account";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stylesheet_is_small_and_self_contained() {
        assert!(CSS.len() < 8 * 1024, "CSS grew to {} bytes", CSS.len());
        for external in ["@import", "url(", "http:", "https:", "//fonts"] {
            assert!(!CSS.contains(external), "CSS references {external}");
        }
        assert!(CSS.contains("prefers-color-scheme: dark"));
        assert!(CSS.contains(":focus-visible"));
    }

    #[test]
    fn css_path_is_under_the_portal_prefix() {
        assert!(CSS_PATH.starts_with("/.gatehouse/static/"));
        assert!(CSS_PATH.ends_with(".css"));
    }

    /// True if the markup has an attribute like ` onclick=`.
    fn has_inline_handler(html: &str) -> bool {
        html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        })
    }

    #[test]
    fn no_page_needs_javascript() {
        let groups = vec!["dev".to_string()];
        let headers = vec![("Host".to_string(), "app".to_string())];
        let pages = [
            login_page(&LoginView::default()),
            error_page(&ErrorView {
                status: 502,
                title: "Bad gateway",
                message: "m",
                action: Some(("Try again", "/")),
            }),
            account_page(&AccountView {
                groups: &groups,
                ..AccountView::default()
            }),
            demo_app_page(&DemoView {
                headers: &headers,
                ..DemoView::default()
            }),
        ];
        for html in pages {
            assert!(html.starts_with("<!DOCTYPE html>"));
            assert!(html.contains(r#"<html lang="en">"#));
            assert!(!html.to_ascii_lowercase().contains("<script"));
            assert!(!has_inline_handler(&html), "inline event handler in {html}");
        }
    }
}
