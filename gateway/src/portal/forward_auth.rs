//! Forward auth: a proxy that stays in front (nginx, Traefik, Caddy) asks
//! whether the request it holds may pass, and with which identity.
//!
//! The proxy describes its original request in headers: Traefik and Caddy
//! in `X-Forwarded-Method`, `-Proto`, `-Host` and `-Uri` (`auth/forward`),
//! nginx's `auth_request` in `X-Original-URL` and `X-Original-Method`
//! (`auth/request`). Those headers are anyone's to write, so they are
//! believed only from `server.trusted_proxies`; from anyone else the request
//! is judged as what it is, a request for this endpoint on its own host,
//! which is never open. The original request is then routed and decided
//! exactly as inline mode would ([`Gateway::decide`]).
//!
//! Every doubt fails closed: a description that is missing, repeated,
//! oversized, not text or not a URL gets a 403, never a 200 (a forward-auth
//! server that read a malformed request as "no rule applies" let anyone in:
//! authentik, CVE-2026-25748).

use gatehouse_templates::Route;
use http::Method;

use super::Request;
use crate::access::{Original, Verdict};
use crate::config::Policy;
use crate::gateway::Gateway;
use crate::identity::IdentityHeaders;
use crate::respond::{wants_html, Reply};

/// Which endpoint, and so which proxy's conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// `auth/forward`: Traefik, Caddy. Browsers are redirected to sign in.
    Forward,
    /// `auth/request`: nginx. Never a redirect (nginx treats a 3xx as an
    /// error); a 401 carries the sign-in page in `Location`.
    Request,
}

/// The longest description believed: nginx's default header buffers take
/// 8 KiB lines, so a longer one was not sent by a proxy in good order.
const MAX_VALUE: usize = 8 * 1024;

/// Why a trusted proxy's description is refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BadForward {
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{0} is sent more than once")]
    Repeated(&'static str),
    #[error("{0} is longer than {MAX_VALUE} bytes")]
    TooLong(&'static str),
    #[error("{0} is not text")]
    NotText(&'static str),
    #[error("{0} is malformed")]
    Malformed(&'static str),
}

/// The original request, as described (or as it is).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Described {
    pub(crate) method: Method,
    pub(crate) scheme: &'static str,
    pub(crate) host: Option<String>,
    /// Path and query as sent.
    pub(crate) target: String,
    /// The path alone, normalised.
    pub(crate) path: String,
}

impl Described {
    fn raw_path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }
}

/// Answers a forward-auth request.
pub async fn answer(gw: &Gateway, req: &Request, flavour: Flavour) -> Reply {
    let trusted = req.is_from_trusted_proxy();
    let described = match describe(req, flavour) {
        Ok(described) => described,
        Err(e) => {
            tracing::warn!("forward auth refused: {e}");
            return Reply::json(
                403,
                &serde_json::json!({ "error": "bad_forward_request", "reason": e.to_string() }),
            );
        }
    };
    let original = Original {
        method: &described.method,
        host: described.host.as_deref(),
        raw_path: described.raw_path(),
        path: &described.path,
        headers: req.head(),
        client_ip: req.client_ip(),
    };
    let live = gw.live();
    let Some(m) = live.route_original(&original) else {
        return Reply::json(403, &serde_json::json!({ "error": "no_app" }));
    };
    // This endpoint's own address is no app's page: never open, whatever
    // the catch-all app's rule for "/".
    let policy = if trusted {
        m.policy
    } else {
        m.policy.at_least(Policy::OneFactor)
    };
    let verdict = gw.decide(&live, &original, m.app, policy).await;
    reply(gw, req, flavour, &described, verdict)
}

/// The original request a forward-auth request asks about: as a trusted
/// proxy describes it in `flavour`'s headers, or else the request itself.
pub(crate) fn describe(req: &Request, flavour: Flavour) -> Result<Described, BadForward> {
    match (req.is_from_trusted_proxy(), flavour) {
        (false, _) => as_it_is(req),
        (true, Flavour::Forward) => from_forwarded(req),
        (true, Flavour::Request) => from_original_url(req),
    }
}

fn reply(
    gw: &Gateway,
    req: &Request,
    flavour: Flavour,
    described: &Described,
    verdict: Verdict,
) -> Reply {
    let to_page = |page: Route, error: &str| {
        let location = page.with_rd(&return_url(gw, described));
        if flavour == Flavour::Forward && wants_html(req.head()) {
            return Reply::redirect(302, &location);
        }
        let reply = Reply::json(
            401,
            &serde_json::json!({ "error": error, "login": location }),
        )
        .header("www-authenticate", "Bearer realm=\"gatehouse\"");
        match flavour {
            Flavour::Request => reply.header("location", &location),
            Flavour::Forward => reply,
        }
    };
    match verdict {
        Verdict::Allow { identity, .. } => allowed(identity.as_ref()),
        Verdict::Forbidden { .. } => Reply::json(403, &serde_json::json!({ "error": "forbidden" })),
        Verdict::MfaOff => Reply::json(403, &serde_json::json!({ "error": "mfa_off" })),
        Verdict::InvalidToken => Reply::json(401, &serde_json::json!({ "error": "invalid_token" }))
            .header(
                "www-authenticate",
                "Bearer realm=\"gatehouse\", error=\"invalid_token\"",
            ),
        Verdict::SignIn => to_page(Route::Login, "unauthenticated"),
        Verdict::StepUp(page) => to_page(page, "mfa_required"),
        Verdict::Unavailable => Reply::json(503, &serde_json::json!({ "error": "unavailable" })),
    }
}

/// 200, with the identity the upstream is to be told, as inline mode would
/// send it.
fn allowed(identity: Option<&IdentityHeaders>) -> Reply {
    let mut reply = Reply::text(200, "text/plain; charset=utf-8", "");
    let Some(identity) = identity else {
        return reply;
    };
    reply = reply.header_value_of("remote-user", identity.user.clone());
    for (name, value) in [
        ("remote-email", &identity.email),
        ("remote-name", &identity.name),
        ("remote-groups", &identity.groups),
    ] {
        if let Some(value) = value {
            reply = reply.header_value_of(name, value.clone());
        }
    }
    reply
}

/// Where to come back to after signing in: the absolute original URL on a
/// configured app host; elsewhere the return path checks would refuse it,
/// and the sign-in page is on the same host anyway (the proxy in front
/// routes `/.gatehouse/` to Gatehouse), so its path and query.
fn return_url(gw: &Gateway, described: &Described) -> String {
    let host = described.host.as_deref().unwrap_or("");
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    if gw.is_app_host(&name.to_ascii_lowercase()) {
        format!("{}://{host}{}", described.scheme, described.target)
    } else {
        described.target.clone()
    }
}

/// From an untrusted peer: the request itself, on the host it came to.
fn as_it_is(req: &Request) -> Result<Described, BadForward> {
    let head = req.head();
    let target = head.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let host = req.header(http::header::HOST).or_else(|| head.uri.host());
    described(head.method.clone(), "http", host, target)
}

/// Traefik's and Caddy's description.
fn from_forwarded(req: &Request) -> Result<Described, BadForward> {
    let method = method(one(req, "x-forwarded-method")?, "X-Forwarded-Method")?;
    let scheme = scheme(one(req, "x-forwarded-proto")?, "X-Forwarded-Proto")?;
    let host = host(one(req, "x-forwarded-host")?, "X-Forwarded-Host")?;
    let uri = one(req, "x-forwarded-uri")?;
    if !uri.starts_with('/') {
        return Err(BadForward::Malformed("X-Forwarded-Uri"));
    }
    described(method, scheme, Some(host), uri)
}

/// nginx's description: an absolute URL, or a path on the host the proxy
/// names in `X-Forwarded-Host` (or, failing that, in `Host`).
fn from_original_url(req: &Request) -> Result<Described, BadForward> {
    const URL: &str = "X-Original-URL";
    let method = method(one(req, "x-original-method")?, "X-Original-Method")?;
    let url = one(req, "x-original-url")?;
    if url.starts_with('/') {
        let scheme = match optional(req, "x-forwarded-proto")? {
            Some(proto) => scheme(proto, "X-Forwarded-Proto")?,
            None => "http",
        };
        let host = match optional(req, "x-forwarded-host")? {
            Some(h) => host(h, "X-Forwarded-Host")?,
            None => host(one(req, "host")?, "Host")?,
        };
        return described(method, scheme, Some(host), url);
    }
    let (scheme_text, rest) = url.split_once("://").ok_or(BadForward::Malformed(URL))?;
    let scheme = scheme(scheme_text, URL)?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(end);
    let host = host(authority, URL)?;
    let target = match target {
        "" => "/".to_owned(),
        t if t.starts_with('?') => format!("/{t}"),
        t => t.to_owned(),
    };
    described(method, scheme, Some(host), &target)
}

fn described(
    method: Method,
    scheme: &'static str,
    host: Option<&str>,
    target: &str,
) -> Result<Described, BadForward> {
    if target.contains('#') || target.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(BadForward::Malformed("the original path"));
    }
    let raw_path = target.split('?').next().unwrap_or("/");
    let path = crate::route::normalise(raw_path)
        .map_err(|_| BadForward::Malformed("the original path"))?;
    Ok(Described {
        method,
        scheme,
        host: host.map(str::to_owned),
        target: target.to_owned(),
        path,
    })
}

/// The one value of header `name`, as text.
fn one<'r>(req: &'r Request, name: &'static str) -> Result<&'r str, BadForward> {
    optional(req, name)?.ok_or(BadForward::Missing(name))
}

/// The value of header `name` if sent once, as text; sent twice is an error,
/// since two proxies' or a client's and a proxy's copies can't be told apart.
fn optional<'r>(req: &'r Request, name: &'static str) -> Result<Option<&'r str>, BadForward> {
    let mut values = req.head().headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(BadForward::Repeated(name));
    }
    if value.len() > MAX_VALUE {
        return Err(BadForward::TooLong(name));
    }
    let text = value.to_str().map_err(|_| BadForward::NotText(name))?;
    Ok(Some(text.trim()))
}

fn method(text: &str, name: &'static str) -> Result<Method, BadForward> {
    let known = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    // Only methods HTTP defines: a rule keyed on methods must not meet a
    // spelling it has never heard of.
    known
        .into_iter()
        .find(|m| m.as_str() == text)
        .ok_or(BadForward::Malformed(name))
}

fn scheme(text: &str, name: &'static str) -> Result<&'static str, BadForward> {
    if text.eq_ignore_ascii_case("https") {
        Ok("https")
    } else if text.eq_ignore_ascii_case("http") {
        Ok("http")
    } else {
        Err(BadForward::Malformed(name))
    }
}

/// A Host as a proxy passes it: a host name or address, maybe a port. No
/// user info, no path, nothing encoded.
fn host<'a>(text: &'a str, name: &'static str) -> Result<&'a str, BadForward> {
    let ok = !text.is_empty()
        && text.len() <= 255
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':' | b'[' | b']')
        });
    ok.then_some(text).ok_or(BadForward::Malformed(name))
}

#[cfg(test)]
#[path = "forward_auth_tests.rs"]
mod tests;
