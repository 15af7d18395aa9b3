//! The `sso` keys: one sign-in across hosts that share no cookie.

use super::error::{quote, Problem};
use super::settings::SsoSettings;

/// `sso.portal_url`: an http or https origin (`https://auth.example.com`,
/// a port allowed), since the sign-in pages live at its root.
pub(crate) fn parse_portal_url(url: &str) -> Result<SsoSettings, Problem> {
    let problem = |why: &str| Problem::new("sso.portal_url", format!("{} {why}", quote(url)));
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| problem("must start with https:// or http://"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) || authority.is_empty() {
        return Err(problem(
            "must be an origin such as https://auth.example.com, with no path, query or user",
        ));
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !host.starts_with('[') || host.ends_with(']') => {
            port.parse::<u16>()
                .map_err(|_| problem("has a port that is not a number"))?;
            host
        }
        _ => authority,
    };
    let valid = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    if host.is_empty() || !valid {
        return Err(problem("has no valid host name"));
    }
    let scheme = &url[..url.len() - rest.len()];
    Ok(SsoSettings {
        portal_url: format!("{scheme}{}", authority.to_ascii_lowercase()),
        portal_host: host.trim_matches(['[', ']']).to_ascii_lowercase(),
    })
}
