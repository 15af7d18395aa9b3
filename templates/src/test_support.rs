//! Helpers shared by the templates' unit tests.

/// Every form posting to `action`, from its opening tag to `</form>`.
pub(crate) fn forms<'h>(html: &'h str, action: &str) -> Vec<&'h str> {
    let open = format!(r#"<form method="post" action="{action}""#);
    html.match_indices(&open)
        .map(|(start, _)| &html[start..start + html[start..].find("</form>").unwrap()])
        .collect()
}
