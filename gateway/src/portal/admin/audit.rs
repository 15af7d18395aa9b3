//! The audit log in the console: which page of it to show, and the filter
//! form.
//!
//! The filter posts (with its CSRF token, like every console form) and is
//! answered with a redirect to `/.gatehouse/admin?audit_user=…&audit_event=…`,
//! so a filtered view is a link that reloads and pages the same way. Pages
//! go back in time by cursor (`audit_before`), not by offset: events
//! written while an admin reads don't shift what "older" means.

use form_urlencoded::Serializer;

use super::{refused, require_admin, HERE};
use crate::gateway::Gateway;
use crate::portal::or_reply;
use crate::portal::Request;
use crate::respond::Reply;
use crate::store::{AuditCursor, AuditEvent, AuditFilter};

/// Entries per page.
pub(super) const PER_PAGE: i64 = 50;

/// Longest user filter taken: a username, or `service:` and a token name.
const MAX_USER: usize = 128;

/// What the console's audit section shows: a filter and where to start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct AuditQuery {
    pub filter: AuditFilter,
    pub before: Option<AuditCursor>,
}

impl AuditQuery {
    /// The query in the console's URL (`audit_user`, `audit_event`,
    /// `audit_before`), or why it can't be read. A filter that matches
    /// nothing is fine; only a malformed one is refused.
    pub fn from_url(req: &Request) -> Result<AuditQuery, &'static str> {
        let filter = checked_filter(
            &req.query_param("audit_user").unwrap_or_default(),
            &req.query_param("audit_event").unwrap_or_default(),
        )?;
        let before = match req.query_param("audit_before") {
            None => None,
            Some(c) => Some(c.parse().map_err(|()| BROKEN_CURSOR)?),
        };
        Ok(AuditQuery { filter, before })
    }

    /// The console's address for this filter from `before` on.
    fn href(&self, before: Option<AuditCursor>) -> String {
        let mut query = Serializer::new(String::new());
        if let Some(user) = &self.filter.user {
            query.append_pair("audit_user", user);
        }
        if let Some(event) = &self.filter.event {
            query.append_pair("audit_event", event);
        }
        if let Some(before) = before {
            query.append_pair("audit_before", &before.to_string());
        }
        match query.finish() {
            q if q.is_empty() => format!("{HERE}#audit"),
            q => format!("{HERE}?{q}#audit"),
        }
    }

    /// Where the page after one ending at `older` is.
    pub fn older_href(&self, older: Option<AuditCursor>) -> Option<String> {
        older.map(|c| self.href(Some(c)))
    }

    /// Where the newest page of this filter is, unless this is it.
    pub fn newest_href(&self) -> Option<String> {
        self.before.map(|_| self.href(None))
    }
}

const UNKNOWN_EVENT: &str = "Gatehouse records no event by that name; showing every event.";
const LONG_USER: &str = "That username is too long to be one; showing everyone's events.";
const BROKEN_CURSOR: &str = "That link to older events is broken; showing the newest.";

/// The filter from the form's or the URL's text: empty means any.
fn checked_filter(user: &str, event: &str) -> Result<AuditFilter, &'static str> {
    let user = user.trim();
    if user.len() > MAX_USER {
        return Err(LONG_USER);
    }
    let event = match event {
        "" => None,
        name => Some(AuditEvent::from_name(name).ok_or(UNKNOWN_EVENT)?),
    };
    Ok(AuditFilter {
        user: (!user.is_empty()).then(|| user.to_owned()),
        event: event.map(|e| e.as_str().to_owned()),
        within: None,
    })
}

/// The filter form (`user`, `event`): on to the filtered page.
pub async fn filter(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(require_admin(gw, req).await);
    match checked_filter(form.get("user"), form.get("event")) {
        Ok(filter) => {
            let query = AuditQuery {
                filter,
                before: None,
            };
            Reply::redirect(303, &query.href(None))
        }
        Err(error) => refused(gw, req, &current, 400, error).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(user: &str, event: &str, before: Option<&str>) -> AuditQuery {
        AuditQuery {
            filter: checked_filter(user, event).expect("a good filter"),
            before: before.map(|b| b.parse().expect("cursor")),
        }
    }

    #[test]
    fn links_keep_the_filter_and_encode_it() {
        let q = query(" bob & co ", "login", None);
        assert_eq!(q.filter.user.as_deref(), Some("bob & co"), "trimmed");
        let older = "5.7".parse().ok();
        assert_eq!(
            q.older_href(older).as_deref(),
            Some(
                "/.gatehouse/admin?audit_user=bob+%26+co&audit_event=login&audit_before=5.7#audit"
            )
        );
        assert_eq!(q.newest_href(), None, "this is the newest page");
        let paged = query("", "", Some("5.7"));
        assert_eq!(
            paged.newest_href().as_deref(),
            Some("/.gatehouse/admin#audit")
        );
        assert_eq!(paged.older_href(None), None);
    }

    #[test]
    fn a_malformed_filter_is_refused_with_a_reason() {
        assert_eq!(checked_filter("", "made_up"), Err(UNKNOWN_EVENT));
        assert_eq!(checked_filter(&"a".repeat(129), ""), Err(LONG_USER));
        let any = checked_filter("  ", "").unwrap();
        assert_eq!(any, AuditFilter::default());
        let tokens = checked_filter("service:ci", "token_used").unwrap();
        assert_eq!(tokens.user.as_deref(), Some("service:ci"));
        assert_eq!(tokens.event.as_deref(), Some("token_used"));
    }
}
