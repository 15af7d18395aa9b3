//! Responses Gatehouse writes itself: portal pages, redirects, errors.
//!
//! Every one carries Content-Length (Pingora would otherwise chunk it, and
//! some clients and load balancers treat that badly), `no-store`, and
//! headers that stop the pages being framed, sniffed or leaking referrers.

use bytes::Bytes;
use gatehouse_templates::{error_page, ErrorView};
use http::header::{HeaderName, HeaderValue};
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;

/// Whether the client reads HTML (a browser) rather than an API client.
pub fn wants_html(req: &RequestHeader) -> bool {
    req.headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// A response that hasn't been written yet.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    content_type: &'static str,
    body: Bytes,
    headers: Vec<(HeaderName, HeaderValue)>,
}

const CSP: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

impl Reply {
    pub fn html(status: u16, body: String) -> Self {
        Self {
            status,
            content_type: "text/html; charset=utf-8",
            body: Bytes::from(body),
            headers: Vec::new(),
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: Bytes::from(value.to_string()),
            headers: Vec::new(),
        }
    }

    pub fn text(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    /// A redirect; `location` is always a path built by Gatehouse.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::text(status, "text/plain; charset=utf-8", Bytes::new()).header("location", location)
    }

    /// An error as a page for browsers, or `{"error": code}` for API clients.
    pub fn error(req: &RequestHeader, status: u16, code: &str, title: &str, message: &str) -> Self {
        if wants_html(req) {
            let action =
                matches!(status, 401 | 403).then_some(("Go to sign-in", "/.gatehouse/login"));
            Self::html(
                status,
                error_page(&ErrorView {
                    status,
                    title,
                    message,
                    action,
                }),
            )
        } else {
            Self::json(status, &serde_json::json!({ "error": code }))
        }
    }

    /// Adds a header; a value that isn't a valid header is dropped, since
    /// every caller passes text Gatehouse built.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((HeaderName::from_static(name), v));
        }
        self
    }

    /// Adds a header whose value is already one (identity headers, which
    /// may hold non-ASCII names that [`Reply::header`] would drop).
    pub fn header_value_of(mut self, name: &'static str, value: HeaderValue) -> Self {
        self.headers.push((HeaderName::from_static(name), value));
        self
    }

    /// The first value of a header set on the reply.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.to_str().ok())
    }

    pub fn cookie(self, set_cookie: &str) -> Self {
        self.header("set-cookie", set_cookie)
    }

    /// Writes the response; the caller then returns `Ok(true)` from the
    /// filter so that nothing goes upstream.
    pub async fn send(self, session: &mut Session) -> pingora::Result<()> {
        let mut resp = ResponseHeader::build(self.status, Some(self.headers.len() + 8))?;
        resp.insert_header("content-type", self.content_type)?;
        resp.insert_header("content-length", self.body.len().to_string())?;
        resp.insert_header("cache-control", "no-store")?;
        resp.insert_header("x-content-type-options", "nosniff")?;
        resp.insert_header("x-frame-options", "DENY")?;
        resp.insert_header("referrer-policy", "same-origin")?;
        resp.insert_header("content-security-policy", CSP)?;
        for (name, value) in self.headers {
            resp.append_header(name, value)?;
        }
        let head_only = session.req_header().method == http::Method::HEAD;
        session
            .write_response_header(Box::new(resp), head_only || self.body.is_empty())
            .await?;
        if !head_only && !self.body.is_empty() {
            session.write_response_body(Some(self.body), true).await?;
        }
        Ok(())
    }
}

/// The 503 for a session store that doesn't answer: fail closed, say so.
pub fn unavailable_reply(req: &pingora::http::RequestHeader) -> Reply {
    Reply::error(
        req,
        503,
        "unavailable",
        "Sign-in is temporarily unavailable",
        "The gateway cannot reach its session store. Nobody can get in until it is back; \
         please try again in a minute.",
    )
    .header("retry-after", "5")
}
