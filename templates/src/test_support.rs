//! Helpers shared by the templates' unit tests.

/// Every form posting to `action`, from its opening tag to `</form>`.
pub(crate) fn forms<'h>(html: &'h str, action: &str) -> Vec<&'h str> {
    let open = format!(r#"<form method="post" action="{action}""#);
    html.match_indices(&open)
        .map(|(start, _)| &html[start..start + html[start..].find("</form>").unwrap()])
        .collect()
}

/// The two send-a-code forms a page offers for the tests' channels (email,
/// then SMS): each posts to `action` with the page's CSRF token, return path
/// and channel, on a button `{id_prefix}{channel}` naming the masked address.
pub(crate) fn assert_send_forms(html: &str, action: &str, id_prefix: &str) {
    let sends = forms(html, action);
    assert_eq!(sends.len(), 2);
    for (form, (channel, label, to)) in sends.iter().zip([
        ("email", "Email me a code", "a•••e@example.com"),
        ("sms", "Text me a code", "••• 4567"),
    ]) {
        assert!(form.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
        assert!(form.contains(r#"<input type="hidden" name="rd" value="/wiki?a=1&amp;b=2">"#));
        assert!(form.contains(&format!(
            r#"<input type="hidden" name="channel" value="{channel}">"#
        )));
        assert!(form.contains(&format!(
            r#"id="{id_prefix}{channel}"><span>{label}</span><span class="muted">{to}</span>"#
        )));
    }
}
