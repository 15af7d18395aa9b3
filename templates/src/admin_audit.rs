//! The audit log in the admin console: one page of security events, a
//! filter by user and event, and links to older pages.
//!
//! The filter is a POST like every other console form (with its CSRF
//! token); the gateway answers it with a redirect to the filtered page, so
//! the filtered view is a plain link an admin can reload or share.

use maud::{html, Markup};

use crate::components::{csrf_field, table_head};
use crate::ADMIN_AUDIT_ACTION;

/// One audit-log line. Every field is escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditRow<'a> {
    pub at: &'a str,
    pub user: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub event: &'a str,
    pub outcome: &'a str,
    pub detail: Option<&'a str>,
    /// The fresh proof a sensitive action was allowed on, if it was one.
    pub proof: Option<&'a str>,
}

/// One page of the audit log, with its filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditView<'a> {
    /// Newest first.
    pub rows: &'a [AuditRow<'a>],
    /// The user filter as set; empty for everyone.
    pub user: &'a str,
    /// The event filter as set; empty for every event.
    pub event: &'a str,
    /// Every event the log records, for the event filter's choices.
    pub events: &'a [&'a str],
    /// Usernames the user filter suggests.
    pub users: &'a [&'a str],
    /// Where the next, older page is, if there is one.
    pub older: Option<&'a str>,
    /// Where the newest page of this filter is, when this page isn't it.
    pub newest: Option<&'a str>,
    /// How many days entries are kept before they are deleted.
    pub kept_days: Option<u64>,
}

impl AuditView<'_> {
    fn filtered(&self) -> bool {
        !self.user.is_empty() || !self.event.is_empty()
    }
}

pub(crate) fn section(v: &AuditView, csrf_token: &str) -> Markup {
    html! {
        section.section id="audit" aria-labelledby="audit-heading" {
            h2 id="audit-heading" { "Security events" }
            @if let Some(days) = v.kept_days {
                p.muted {
                    "Events are kept for " (days) @if days == 1 { " day" } @else { " days" }
                    ", then deleted."
                }
            }
            (filter(v, csrf_token))
            @if !v.rows.is_empty() {
                (table(v.rows))
            } @else if v.filtered() || v.newest.is_some() {
                p { "No events match." }
            } @else {
                p { "No events yet." }
            }
            @if v.older.is_some() || v.newest.is_some() {
                nav.actions aria-label="Audit log pages" {
                    @if let Some(href) = v.newest {
                        a.btn.btn-secondary href=(href) { "Newest events" }
                    }
                    @if let Some(href) = v.older {
                        a.btn.btn-secondary href=(href) rel="next" { "Older events" }
                    }
                }
            }
        }
    }
}

fn filter(v: &AuditView, csrf_token: &str) -> Markup {
    html! {
        form method="post" action=(ADMIN_AUDIT_ACTION) id="audit-filter" aria-label="Filter events" {
            (csrf_field(csrf_token))
            div.inline {
                div.field {
                    label for="audit-user" { "User" }
                    input.input id="audit-user" name="user" type="text" value=(v.user)
                        list="audit-users" maxlength="128" autocomplete="off"
                        autocapitalize="none" spellcheck="false" placeholder="Everyone";
                    datalist id="audit-users" {
                        @for user in v.users {
                            option value=(user) {}
                        }
                    }
                }
                div.field {
                    label for="audit-event" { "Event" }
                    select.input id="audit-event" name="event" {
                        option value="" selected[v.event.is_empty()] { "Every event" }
                        @for event in v.events {
                            option value=(event) selected[*event == v.event] { (event) }
                        }
                    }
                }
                button.btn.btn-secondary type="submit" { "Show" }
            }
        }
    }
}

fn table(rows: &[AuditRow]) -> Markup {
    html! {
        div.table-wrap {
            table {
                (table_head(&["Time", "User", "Event", "Outcome", "IP", "Detail"]))
                tbody {
                    @for r in rows {
                        tr {
                            td { (r.at) }
                            td { (or_dash(r.user)) }
                            td { (r.event) }
                            td { (r.outcome) }
                            td { (or_dash(r.ip)) }
                            td {
                                (or_dash(r.detail))
                                @if let Some(proof) = r.proof {
                                    " " span.muted.proof { "(proof: " (proof) ")" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The value, or a muted dash so an empty cell reads as "none", not "missing".
fn or_dash(value: Option<&str>) -> Markup {
    html! {
        @match value {
            Some(value) => (value),
            None => span.muted { "—" },
        }
    }
}

#[cfg(test)]
#[path = "admin_audit_tests.rs"]
mod tests;
