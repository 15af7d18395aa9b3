//! The shell shared by every portal page: document head, brand header, footer.

use maud::{html, Markup, DOCTYPE};

use crate::CSS_PATH;

/// A complete portal document titled "`title` · Gatehouse", with `body`
/// placed in `<main>`. Pages put their content in a `.card` (or `.card.card-wide`).
pub(crate) fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                // Portal pages are never worth indexing, and their URLs carry `rd`.
                meta name="robots" content="noindex, nofollow";
                meta name="referrer" content="no-referrer";
                title { (title) " · Gatehouse" }
                // An empty icon stops browsers from asking the upstream for /favicon.ico.
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(CSS_PATH);
            }
            body {
                header.brand {
                    (brand_mark())
                    span { "Gatehouse" }
                }
                main { (body) }
                footer { "Protected by Gatehouse" }
            }
        }
    }
}

/// A small shield with a keyhole, inline so the page needs no image request.
fn brand_mark() -> Markup {
    html! {
        svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2"
            stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false" {
            path d="M12 2.5 4.5 5.5v6c0 4.6 3.2 8.7 7.5 10 4.3-1.3 7.5-5.4 7.5-10v-6z" {}
            circle cx="12" cy="10.5" r="2" {}
            path d="M12 12.5v3.5" {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_title_stylesheet_and_brand() {
        let html = page("Sign <in>", html! { p { "body" } }).into_string();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>Sign &lt;in&gt; · Gatehouse</title>"));
        assert!(html.contains(&format!(r#"<link rel="stylesheet" href="{CSS_PATH}">"#)));
        assert!(html.contains(r#"<meta name="viewport""#));
        assert!(html.contains("<main><p>body</p></main>"));
        assert!(html.contains("<span>Gatehouse</span>"));
    }
}
