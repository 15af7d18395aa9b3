//! Building blocks shared by portal pages: alerts, labelled fields, hidden
//! fields, and the little URL helpers the pages need for links that carry `rd`.

use maud::{html, Markup};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlertKind {
    Error,
    Info,
    Success,
    /// Nothing failed, but the reader must act now (e.g. copy a secret shown once).
    Warning,
}

/// A message box. Errors and warnings are `role="alert"` (announced at once);
/// info and success are `role="status"` (announced politely). `id` lets
/// fields point at the message with `aria-describedby`.
pub(crate) fn alert(kind: AlertKind, id: Option<&str>, message: &str) -> Markup {
    let (class, role, live) = match kind {
        AlertKind::Error => ("alert alert-error", "alert", "assertive"),
        AlertKind::Info => ("alert alert-info", "status", "polite"),
        AlertKind::Success => ("alert alert-success", "status", "polite"),
        AlertKind::Warning => ("alert alert-warn", "alert", "assertive"),
    };
    html! {
        div class=(class) role=(role) aria-live=(live) id=[id] { (message) }
    }
}

/// A labelled input. `id` doubles as the form field name unless `name` is set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    pub id: &'a str,
    /// The form field name when it must differ from `id`: two forms on one
    /// page that both post `code` still need unique element ids.
    pub name: Option<&'a str>,
    pub label: &'a str,
    /// `text`, `password`, `email`, …
    pub input_type: &'a str,
    /// Prefilled value; never pass one for a password.
    pub value: &'a str,
    pub autocomplete: &'a str,
    pub autofocus: bool,
    /// `id` of the error message about this field: marks it `aria-invalid`.
    pub error_id: Option<&'a str>,
    /// Help text under the field, linked with `aria-describedby`.
    pub hint: Option<&'a str>,
    /// e.g. `numeric` for one-time codes.
    pub inputmode: Option<&'a str>,
    /// An identifier or code: no auto-capitalisation or spell checking.
    pub verbatim: bool,
    /// Shown in a monospace font with wide spacing (codes, keys).
    pub mono: bool,
    /// Browser-side validation only; the server checks again.
    pub pattern: Option<&'a str>,
    pub maxlength: Option<u32>,
}

impl Default for Field<'_> {
    fn default() -> Self {
        Field {
            id: "",
            name: None,
            label: "",
            input_type: "text",
            value: "",
            autocomplete: "off",
            autofocus: false,
            error_id: None,
            hint: None,
            inputmode: None,
            verbatim: false,
            mono: false,
            pattern: None,
            maxlength: None,
        }
    }
}

pub(crate) fn field(f: &Field) -> Markup {
    let hint_id = f.hint.map(|_| format!("{}-hint", f.id));
    let described_by: Vec<&str> = f.error_id.into_iter().chain(hint_id.as_deref()).collect();
    let described_by = (!described_by.is_empty()).then(|| described_by.join(" "));
    let value = (!f.value.is_empty()).then_some(f.value);
    let class = if f.mono { "input input-mono" } else { "input" };
    html! {
        div.field {
            label for=(f.id) { (f.label) }
            input class=(class) id=(f.id) name=(f.name.unwrap_or(f.id)) type=(f.input_type) value=[value]
                autocomplete=(f.autocomplete) inputmode=[f.inputmode]
                pattern=[f.pattern] maxlength=[f.maxlength]
                autocapitalize=[f.verbatim.then_some("none")]
                spellcheck=[f.verbatim.then_some("false")]
                required autofocus[f.autofocus]
                aria-invalid=[f.error_id.map(|_| "true")]
                aria-describedby=[described_by];
            @if let (Some(hint), Some(hint_id)) = (f.hint, &hint_id) {
                p.hint id=(hint_id) { (hint) }
            }
        }
    }
}

/// A field for a 6-digit authenticator code. Up to 7 characters so that
/// "123 456", as some apps show it, fits; the server drops the space.
pub(crate) fn totp_field(f: Field) -> Markup {
    field(&Field {
        autocomplete: "one-time-code",
        inputmode: Some("numeric"),
        pattern: Some("[0-9 ]*"),
        maxlength: Some(7),
        verbatim: true,
        mono: true,
        ..f
    })
}

/// The hidden CSRF field every state-changing form carries.
/// A table's header row: one column header per name.
pub(crate) fn table_head(columns: &[&str]) -> Markup {
    html! {
        thead {
            tr {
                @for column in columns {
                    th scope="col" { (column) }
                }
            }
        }
    }
}

pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(token); }
}

/// The hidden `rd` (return path) field.
pub(crate) fn rd_field(rd: &str) -> Markup {
    html! { input type="hidden" name="rd" value=(rd); }
}

/// Percent-encodes `s` for use as one query parameter value: everything but
/// RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` of
/// its UTF-8 bytes, so `/`, `?`, `&`, `#` and `%` in `rd` survive the trip.
pub(crate) fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `rd` as a link target, if it is a same-site path; else `/`. The gateway
/// validates `rd` already; this keeps a `javascript:` or `//host` value from
/// ever becoming a clickable link should a caller forget.
pub(crate) fn local_href(rd: &str) -> &str {
    let mut chars = rd.chars();
    match (chars.next(), chars.next()) {
        (Some('/'), Some('/' | '\\')) => "/",
        (Some('/'), _) => rd,
        _ => "/",
    }
}

/// "1 day", "30 days": `word` gets an `s` unless `n` is 1.
pub(crate) fn count(n: i64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_alert_is_announced_and_escaped() {
        let html = alert(AlertKind::Error, Some("e"), "<b>no</b>").into_string();
        assert_eq!(
            html,
            r#"<div class="alert alert-error" role="alert" aria-live="assertive" id="e">&lt;b&gt;no&lt;/b&gt;</div>"#
        );
    }

    #[test]
    fn warning_alert_is_announced_at_once() {
        let html = alert(AlertKind::Warning, None, "now").into_string();
        assert_eq!(
            html,
            r#"<div class="alert alert-warn" role="alert" aria-live="assertive">now</div>"#
        );
    }

    #[test]
    fn info_alert_is_a_polite_status() {
        let html = alert(AlertKind::Info, None, "ok").into_string();
        assert!(html.contains(r#"role="status" aria-live="polite""#));
        assert!(!html.contains("id="));
    }

    #[test]
    fn field_links_label_hint_and_error() {
        let html = field(&Field {
            id: "code",
            label: "Code",
            error_id: Some("err"),
            hint: Some("6 digits"),
            inputmode: Some("numeric"),
            ..Field::default()
        })
        .into_string();
        assert!(html.contains(r#"<label for="code">Code</label>"#));
        assert!(html.contains(r#"id="code" name="code""#));
        assert!(html.contains(r#"inputmode="numeric""#));
        assert!(html.contains(r#"aria-invalid="true" aria-describedby="err code-hint""#));
        assert!(html.contains(r#"<p class="hint" id="code-hint">6 digits</p>"#));
        assert!(!html.contains("autofocus"));
    }

    #[test]
    fn totp_field_asks_for_a_short_numeric_one_time_code() {
        let html = totp_field(Field {
            id: "code",
            label: "Code",
            autofocus: true,
            ..Field::default()
        })
        .into_string();
        assert!(html.contains(r#"class="input input-mono" id="code" name="code" type="text""#));
        assert!(html.contains(r#"autocomplete="one-time-code" inputmode="numeric""#));
        assert!(html.contains(r#"pattern="[0-9 ]*" maxlength="7""#));
        assert!(html.contains("autofocus"));
    }

    #[test]
    fn query_value_encodes_everything_but_unreserved_characters() {
        assert_eq!(query_value("/a-b_c.d~e"), "%2Fa-b_c.d~e");
        assert_eq!(
            query_value("/wiki?x=1&y=%20#top"),
            "%2Fwiki%3Fx%3D1%26y%3D%2520%23top"
        );
        assert_eq!(query_value("/é"), "%2F%C3%A9");
    }

    #[test]
    fn local_href_only_lets_same_site_paths_through() {
        assert_eq!(local_href("/wiki?x=1"), "/wiki?x=1");
        assert_eq!(local_href("/"), "/");
        for bad in [
            "",
            "//evil.example",
            "/\\evil",
            "javascript:alert(1)",
            "https://x",
        ] {
            assert_eq!(local_href(bad), "/", "{bad}");
        }
    }

    #[test]
    fn count_pluralises() {
        assert_eq!(count(1, "code"), "1 code");
        assert_eq!(count(0, "code"), "0 codes");
        assert_eq!(count(30, "day"), "30 days");
    }

    #[test]
    fn field_name_can_differ_from_its_id() {
        let html = totp_field(Field {
            id: "channel-code",
            name: Some("code"),
            label: "Code",
            ..Field::default()
        })
        .into_string();
        assert!(html.contains(r#"<label for="channel-code">Code</label>"#));
        assert!(html.contains(r#"id="channel-code" name="code" type="text""#));
    }

    #[test]
    fn field_without_error_is_not_marked_invalid() {
        let html = field(&Field {
            id: "x",
            autofocus: true,
            ..Field::default()
        })
        .into_string();
        assert!(!html.contains("aria-invalid"));
        assert!(!html.contains("aria-describedby"));
        assert!(!html.contains("value="));
        assert!(html.contains("required autofocus"));
    }
}
