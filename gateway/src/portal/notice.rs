//! What the last action did, said once on the page it lands on. The URL
//! carries only the notice's key (`done=`); the words come from the page's
//! own list, never from the URL, so a link can't put text on our pages.

use gatehouse_templates::Route;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    MfaOff,
    DevicesForgotten,
    FactorAdded,
    FactorRemoved,
    Enforced,
    NotEnforced,
    MfaReset,
    SignedOut,
    TokenRevoked,
    OldTokenEnded,
    OrgMfaOff,
    PolicySaved,
}

impl Notice {
    const ALL: [Notice; 12] = [
        Notice::MfaOff,
        Notice::DevicesForgotten,
        Notice::FactorAdded,
        Notice::FactorRemoved,
        Notice::Enforced,
        Notice::NotEnforced,
        Notice::MfaReset,
        Notice::SignedOut,
        Notice::TokenRevoked,
        Notice::OldTokenEnded,
        Notice::OrgMfaOff,
        Notice::PolicySaved,
    ];

    fn key(self) -> &'static str {
        match self {
            Notice::MfaOff => "mfa_off",
            Notice::DevicesForgotten => "devices_forgotten",
            Notice::FactorAdded => "factor_added",
            Notice::FactorRemoved => "factor_removed",
            Notice::Enforced => "enforced",
            Notice::NotEnforced => "not_enforced",
            Notice::MfaReset => "mfa_reset",
            Notice::SignedOut => "signed_out",
            Notice::TokenRevoked => "token_revoked",
            Notice::OldTokenEnded => "old_token_ended",
            Notice::OrgMfaOff => "org_mfa_off",
            Notice::PolicySaved => "policy_saved",
        }
    }

    /// The page that shows it.
    fn page(self) -> Route {
        match self {
            Notice::MfaOff
            | Notice::DevicesForgotten
            | Notice::FactorAdded
            | Notice::FactorRemoved => Route::Account,
            _ => Route::Admin,
        }
    }

    /// Where the browser goes after the action: the page, with the key.
    pub(crate) fn location(self) -> String {
        format!("{}?done={}", self.page().path(), self.key())
    }

    /// [`Notice::location`] for an admin's action on one user, named on
    /// the page only if they are a configured user.
    pub(crate) fn location_for(self, user: &str) -> String {
        format!(
            "{}&user={}",
            self.location(),
            utf8_percent_encode(user, NON_ALPHANUMERIC)
        )
    }

    /// [`Notice::location`] for a change of the organisation `org` (its
    /// name; empty for the root, which the notice calls everyone), named on
    /// the page only if the admin administers it.
    pub(crate) fn location_for_org(self, org: &str) -> String {
        if org.is_empty() {
            return self.location();
        }
        format!(
            "{}&org={}",
            self.location(),
            utf8_percent_encode(org, NON_ALPHANUMERIC)
        )
    }

    /// The notice a page was reached with, if its key is one of `page`'s.
    pub(crate) fn of(req: &Request, page: Route) -> Option<Notice> {
        let key = req.query_param("done")?;
        Notice::ALL
            .into_iter()
            .find(|n| n.key() == key && n.page() == page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_has_its_own_key_on_its_own_page() {
        for notice in Notice::ALL {
            let location = notice.location();
            assert!(location.starts_with(notice.page().path()), "{location}");
            let others = Notice::ALL.iter().filter(|n| n.key() == notice.key());
            assert_eq!(others.count(), 1, "{location}");
        }
        assert_eq!(
            Notice::MfaReset.location_for("bob & co"),
            "/.gatehouse/admin?done=mfa_reset&user=bob%20%26%20co"
        );
        assert_eq!(
            Notice::Enforced.location_for_org("acme"),
            "/.gatehouse/admin?done=enforced&org=acme"
        );
        assert_eq!(
            Notice::Enforced.location_for_org(""),
            "/.gatehouse/admin?done=enforced"
        );
    }
}
