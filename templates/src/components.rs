//! Building blocks shared by portal pages: alerts, labelled fields, CSRF field.

use maud::{html, Markup};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlertKind {
    Error,
    Info,
    #[allow(dead_code)] // used by the MFA pages (issue 3)
    Success,
}

/// A message box. Errors are `role="alert"` (announced at once); info and
/// success are `role="status"` (announced politely). `id` lets fields point
/// at the message with `aria-describedby`.
pub(crate) fn alert(kind: AlertKind, id: Option<&str>, message: &str) -> Markup {
    let (class, role, live) = match kind {
        AlertKind::Error => ("alert alert-error", "alert", "assertive"),
        AlertKind::Info => ("alert alert-info", "status", "polite"),
        AlertKind::Success => ("alert alert-success", "status", "polite"),
    };
    html! {
        div class=(class) role=(role) aria-live=(live) id=[id] { (message) }
    }
}

/// A labelled input. `id` doubles as the form field name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    pub id: &'a str,
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
}

impl Default for Field<'_> {
    fn default() -> Self {
        Field {
            id: "",
            label: "",
            input_type: "text",
            value: "",
            autocomplete: "off",
            autofocus: false,
            error_id: None,
            hint: None,
            inputmode: None,
            verbatim: false,
        }
    }
}

pub(crate) fn field(f: &Field) -> Markup {
    let hint_id = f.hint.map(|_| format!("{}-hint", f.id));
    let described_by: Vec<&str> = f.error_id.into_iter().chain(hint_id.as_deref()).collect();
    let described_by = (!described_by.is_empty()).then(|| described_by.join(" "));
    let value = (!f.value.is_empty()).then_some(f.value);
    html! {
        div.field {
            label for=(f.id) { (f.label) }
            input.input id=(f.id) name=(f.id) type=(f.input_type) value=[value]
                autocomplete=(f.autocomplete) inputmode=[f.inputmode]
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

/// The hidden CSRF field every state-changing form carries.
pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(token); }
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
