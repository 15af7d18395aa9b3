//! Identity headers: who the upstream is told is calling.
//!
//! A signed-in user passes as `Remote-User` (with `Remote-Email`,
//! `Remote-Name` and `Remote-Groups` when known), a service token as its
//! service user. The values are built once, when the users file or the
//! token list is loaded, so the request path only clones ref-counted
//! header values. Stripping a client's own copies is header hygiene, in
//! `proxy::headers`.

use http::HeaderValue;
use pingora::http::RequestHeader;

use crate::config::User;

/// A caller's identity headers, built once at start-up so the hot path only
/// clones ref-counted values.
#[derive(Debug, Clone)]
pub struct IdentityHeaders {
    pub user: HeaderValue,
    pub email: Option<HeaderValue>,
    pub name: Option<HeaderValue>,
    pub groups: Option<HeaderValue>,
}

impl IdentityHeaders {
    /// Values that can't be headers (control characters) are left out rather
    /// than failing the request; validation already refuses most of them.
    pub fn for_user(user: &User) -> Option<Self> {
        let value = |s: &str| HeaderValue::from_str(s).ok();
        Some(Self {
            user: value(&user.username)?,
            email: user.email.as_deref().and_then(value),
            name: value(user.display_name.as_deref().unwrap_or(&user.username)),
            groups: (!user.groups.is_empty())
                .then(|| user.groups.join(","))
                .and_then(|g| value(&g)),
        })
    }

    /// A service token named `name`, passing as `user`. The caller spells
    /// `user` (`tokens::service_user`), so that the token rules stay in
    /// `tokens` and this module needs nothing from it.
    pub fn for_service(user: &str, name: &str) -> Option<Self> {
        Some(Self {
            user: HeaderValue::from_str(user).ok()?,
            email: None,
            name: HeaderValue::from_str(name).ok(),
            groups: None,
        })
    }

    /// Sets the headers on the upstream request.
    pub fn apply(&self, req: &mut RequestHeader) -> pingora::Result<()> {
        req.insert_header("Remote-User", self.user.clone())?;
        if let Some(v) = &self.email {
            req.insert_header("Remote-Email", v.clone())?;
        }
        if let Some(v) = &self.name {
            req.insert_header("Remote-Name", v.clone())?;
        }
        if let Some(v) = &self.groups {
            req.insert_header("Remote-Groups", v.clone())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(identity: &IdentityHeaders) -> Vec<(String, String)> {
        let mut req = RequestHeader::build("GET", b"/", None).unwrap();
        identity.apply(&mut req).unwrap();
        let mut headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        headers.sort();
        headers
    }

    #[test]
    fn a_user_passes_with_every_known_detail() {
        let user = User {
            username: "alice".into(),
            password_hash: String::new(),
            email: Some("alice@example.com".into()),
            phone: None,
            display_name: None,
            groups: vec!["dev".into(), "ops".into()],
            disabled: false,
            org: crate::orgs::OrgId::ROOT,
        };
        let identity = IdentityHeaders::for_user(&user).unwrap();
        assert_eq!(
            sent(&identity),
            [
                ("remote-email".into(), "alice@example.com".into()),
                ("remote-groups".into(), "dev,ops".into()),
                ("remote-name".into(), "alice".into()),
                ("remote-user".into(), "alice".into()),
            ]
        );
    }

    #[test]
    fn a_service_passes_as_the_user_it_is_given() {
        let identity = IdentityHeaders::for_service("service:ci", "ci").unwrap();
        assert_eq!(
            sent(&identity),
            [
                ("remote-name".into(), "ci".into()),
                ("remote-user".into(), "service:ci".into()),
            ]
        );
        assert!(IdentityHeaders::for_service("bad\nname", "x").is_none());
    }
}
