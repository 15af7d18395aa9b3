//! A portal request as its handlers see it: the request head, the client's
//! address and, for a POST, the form already read. Nothing of the
//! connection, so a handler can be called, and tested, without a live
//! proxy session.

use std::net::IpAddr;

use pingora::http::RequestHeader;

use super::form::{Form, FormError};
use crate::cookies::cookie_value;

pub struct Request {
    head: RequestHeader,
    client_ip: IpAddr,
    /// The TCP peer is one of `server.trusted_proxies`: only then are its
    /// descriptions of another request (forward auth) believed.
    from_trusted_proxy: bool,
    /// The posted form, or why it couldn't be read as one; `None` for a
    /// request that posted nothing.
    form: Option<Result<Form, FormError>>,
}

impl Request {
    pub fn new(head: RequestHeader, client_ip: IpAddr) -> Self {
        Request {
            head,
            client_ip,
            from_trusted_proxy: false,
            form: None,
        }
    }

    /// The same request, saying whether its TCP peer is a trusted proxy.
    pub fn from_trusted_proxy(mut self, trusted: bool) -> Self {
        self.from_trusted_proxy = trusted;
        self
    }

    pub fn is_from_trusted_proxy(&self) -> bool {
        self.from_trusted_proxy
    }

    /// The same request with its posted form.
    pub fn with_form(mut self, form: Result<Form, FormError>) -> Self {
        self.form = Some(form);
        self
    }

    pub fn head(&self) -> &RequestHeader {
        &self.head
    }

    pub fn method(&self) -> &http::Method {
        &self.head.method
    }

    /// The client's address: the TCP peer, or behind a trusted proxy the
    /// address it forwarded.
    pub fn client_ip(&self) -> IpAddr {
        self.client_ip
    }

    /// A trusted proxy in front says the client used HTTPS.
    pub fn forwarded_https(&self) -> bool {
        self.from_trusted_proxy
            && self
                .header(http::header::HeaderName::from_static("x-forwarded-proto"))
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        cookie_value(&self.head, name)
    }

    pub fn header(&self, name: http::header::HeaderName) -> Option<&str> {
        self.head.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.head.uri.query()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub(super) fn form(&self) -> Option<&Result<Form, FormError>> {
        self.form.as_ref()
    }
}
