//! The cookies Gatehouse sets, and their flags.
//!
//! HttpOnly so scripts can't read them, SameSite=Lax so cross-site posts
//! don't carry them, Path=/ and, when served securely, Secure and the
//! `__Host-` prefix, which also forbids a Domain attribute and so stops a
//! sibling subdomain from planting one.

use cookie::{Cookie, SameSite};

use pingora::http::RequestHeader;

use crate::config::SessionSettings;

/// Finds one cookie's value among the request's `Cookie` headers.
pub fn cookie_value<'a>(req: &'a RequestHeader, name: &str) -> Option<&'a str> {
    req.headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (n, v) = pair.trim().split_once('=')?;
            (n.trim() == name).then(|| v.trim().trim_matches('"'))
        })
}

#[derive(Debug, Clone)]
pub struct CookieJar {
    pub session: String,
    pub csrf: String,
    /// The remembered-device cookie, which outlives sessions.
    pub device: String,
    /// A handoff's state, on the host that set out to sign in.
    pub sso_state: String,
    secure: bool,
    /// Where the session cookie is shared, for one sign-in across subdomains.
    domain: Option<String>,
}

impl CookieJar {
    pub fn new(settings: &SessionSettings) -> Self {
        let prefix = if settings.cookie_secure {
            "__Host-"
        } else {
            ""
        };
        let base = settings
            .cookie_name
            .strip_prefix("__Host-")
            .unwrap_or(&settings.cookie_name);
        // A shared cookie names its domain, which `__Host-` forbids;
        // `__Secure-` still keeps an insecure page from setting it.
        let session_prefix = match (&settings.cookie_domain, settings.cookie_secure) {
            (Some(_), true) => "__Secure-",
            _ => prefix,
        };
        Self {
            session: format!("{session_prefix}{base}"),
            csrf: format!("{prefix}gatehouse_csrf"),
            device: format!("{prefix}gatehouse_device"),
            sso_state: format!("{prefix}gatehouse_sso"),
            secure: settings.cookie_secure,
            domain: settings.cookie_domain.clone(),
        }
    }

    /// Every name, for stripping from upstream requests.
    pub fn names(&self) -> [&str; 4] {
        [&self.session, &self.csrf, &self.device, &self.sso_state]
    }

    fn build(&self, name: &str, value: &str) -> Cookie<'static> {
        Cookie::build((name.to_owned(), value.to_owned()))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .path("/")
            .build()
    }

    /// A session cookie; a browser-session cookie, since the server decides
    /// when the session ends. With `sessions.cookie_domain` it is sent to
    /// every host under that domain.
    pub fn session_cookie(&self, id: &str) -> String {
        self.shared(self.build(&self.session, id)).to_string()
    }

    fn shared(&self, mut c: Cookie<'static>) -> Cookie<'static> {
        if let Some(domain) = &self.domain {
            c.set_domain(domain.clone());
        }
        c
    }

    pub fn csrf_cookie(&self, nonce: &str) -> String {
        self.build(&self.csrf, nonce).to_string()
    }

    /// Whether `host` (lower case, no port) gets the session cookie of
    /// this host too: it lies under `sessions.cookie_domain`.
    pub fn shares_with(&self, host: &str) -> bool {
        self.domain.as_deref().is_some_and(|d| {
            host == d || host.strip_suffix(d).is_some_and(|rest| rest.ends_with('.'))
        })
    }

    /// The state a host gives a browser it sends to the sign-in portal,
    /// for the handoff that brings it back (see `session::handoff`); gone
    /// after ten minutes.
    pub fn sso_state_cookie(&self, state: &str) -> String {
        let mut c = self.build(&self.sso_state, state);
        c.set_max_age(cookie::time::Duration::minutes(10));
        c.to_string()
    }

    pub fn clear_sso_state(&self) -> String {
        let mut c = self.build(&self.sso_state, "");
        c.make_removal();
        c.to_string()
    }

    /// A remembered-device cookie, kept by the browser for `days`.
    pub fn device_cookie(&self, value: &str, days: u32) -> String {
        let mut c = self.build(&self.device, value);
        c.set_max_age(cookie::time::Duration::days(i64::from(days)));
        c.to_string()
    }

    pub fn clear_device(&self) -> String {
        let mut c = self.build(&self.device, "");
        c.make_removal();
        c.to_string()
    }

    /// Tells the browser to drop the session cookie.
    pub fn clear_session(&self) -> String {
        let mut c = self.shared(self.build(&self.session, ""));
        c.make_removal();
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SessionBackend;
    use std::time::Duration;

    fn settings(secure: bool) -> SessionSettings {
        SessionSettings {
            backend: SessionBackend::Memory,
            cookie_name: "gatehouse_session".into(),
            cookie_secure: secure,
            cookie_domain: None,
            lifetime: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            cache_ttl: Duration::ZERO,
        }
    }

    #[test]
    fn cookies_are_httponly_lax_and_scoped_to_the_site() {
        let c = CookieJar::new(&settings(false)).session_cookie("abc");
        assert!(c.starts_with("gatehouse_session=abc"), "{c}");
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(c.contains(flag), "{c} lacks {flag}");
        }
        assert!(!c.contains("Secure"));
    }

    #[test]
    fn secure_cookies_get_the_host_prefix() {
        let jar = CookieJar::new(&settings(true));
        let c = jar.session_cookie("abc");
        assert!(c.starts_with("__Host-gatehouse_session=abc"), "{c}");
        assert!(c.contains("Secure"));
        assert!(jar.csrf_cookie("n").starts_with("__Host-gatehouse_csrf="));
    }

    #[test]
    fn clearing_expires_the_cookie() {
        let c = CookieJar::new(&settings(false)).clear_session();
        assert!(c.contains("Max-Age=0") || c.contains("Expires="), "{c}");
    }

    #[test]
    fn a_shared_session_cookie_names_its_domain_and_drops_the_host_prefix() {
        let jar = CookieJar::new(&SessionSettings {
            cookie_domain: Some("example.com".into()),
            ..settings(true)
        });
        let c = jar.session_cookie("abc");
        assert!(c.starts_with("__Secure-gatehouse_session=abc"), "{c}");
        assert!(c.contains("Domain=example.com"), "{c}");
        assert!(c.contains("Secure"), "{c}");
        let cleared = jar.clear_session();
        assert!(cleared.contains("Domain=example.com"), "{cleared}");
        // Only the session is shared: the form and device cookies stay on
        // the host that set them.
        assert!(jar.csrf_cookie("n").starts_with("__Host-"));
        assert!(!jar.csrf_cookie("n").contains("Domain"));
    }
}
