//! What an admin sees in the console: their own organisation and every one
//! below it, never a parent or a sibling (issue 20). Without
//! `organisations`, every admin is at the root and sees everything, as
//! before.
//!
//! A user's organisation is the users file's `org`. A token's is decided
//! here: a console token belongs to the organisation of the admin who
//! created it, as the users file places them now; a config token, and one
//! whose creator is no longer in the users file, to the root, so only
//! admins at the root see it.

use std::sync::Arc;

use super::{refused, Current};
use crate::accounts::Account;
use crate::gateway::Gateway;
use crate::orgs::{OrgId, Organisations};
use crate::portal::Request;
use crate::respond::Reply;
use crate::store::{AuditEvent, AuditOutcome, StoreError};

/// The signed-in admin's reach.
pub(super) struct Scope<'g> {
    gw: &'g Gateway,
    orgs: &'g Organisations,
    org: OrgId,
}

impl<'g> Scope<'g> {
    pub fn of(gw: &'g Gateway, current: &Current) -> Self {
        Scope {
            gw,
            orgs: &gw.settings.organisations,
            org: current.account.user.org,
        }
    }

    /// Whether the admin administers `org`.
    fn reaches(&self, org: OrgId) -> bool {
        self.orgs.administers(self.org, org)
    }

    /// Whether `name` is an organisation the admin administers.
    pub fn sees_org_named(&self, name: &str) -> bool {
        self.orgs.find(name).is_some_and(|org| self.reaches(org))
    }

    pub fn sees_user(&self, account: &Account) -> bool {
        self.reaches(account.user.org)
    }

    /// Whether `username` is a configured user the admin sees.
    pub fn sees_username(&self, username: &str) -> bool {
        self.gw
            .accounts
            .get(username)
            .is_some_and(|a| self.sees_user(&a))
    }

    /// Whether the admin sees a token made by `created_by` (`None`: a
    /// config token).
    pub fn sees_token(&self, created_by: Option<&str>) -> bool {
        self.reaches(self.token_org(created_by))
    }

    /// Where a token belongs, by who created it (`None`: the config).
    fn token_org(&self, created_by: Option<&str>) -> OrgId {
        created_by
            .and_then(|name| self.gw.accounts.get(name))
            .map_or(OrgId::ROOT, |creator| creator.user.org)
    }

    /// Whether the admin may act on the token named `name`: a console
    /// token of their organisations, or, at the root, a config token. A
    /// name that is neither is left to the action to refuse as unknown.
    pub async fn reaches_token(&self, name: &str) -> Result<bool, StoreError> {
        let live = self.gw.live();
        if live.has_config_token(name) {
            return Ok(self.reaches(OrgId::ROOT));
        }
        let issued = live.tokens.issued().list().await?;
        Ok(match issued.iter().find(|t| t.name == name) {
            Some(token) => self.reaches(self.token_org(Some(&token.created_by))),
            None => true,
        })
    }

    /// Whose audit entries the admin sees: `None` at the root, which sees
    /// every entry, those about nobody in particular included; else the
    /// users and tokens (as the log names them) they see.
    pub fn audit_names(&self, users: &[Arc<Account>], tokens: &[String]) -> Option<Vec<String>> {
        if self.org == OrgId::ROOT {
            return None;
        }
        let users = users.iter().map(|a| a.user.username.clone());
        Some(users.chain(tokens.iter().cloned()).collect())
    }
}

/// The reply to an action on a user or token outside the admin's
/// organisations: the same as for one that doesn't exist (`unknown`), so
/// an admin can't probe for names in other organisations, and audited, so
/// the attempt is seen above them.
pub(super) async fn out_of_reach(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    what: &str,
    unknown: &str,
) -> Reply {
    let detail = format!("{what}: outside the admin's organisations");
    gw.mfa
        .audit_detail(
            AuditEvent::AdminConsole,
            current.user(),
            req.client_ip(),
            AuditOutcome::Refused,
            Some(&detail),
        )
        .await;
    refused(gw, req, current, 404, unknown).await
}
