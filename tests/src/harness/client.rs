//! A browser-ish HTTP client: no redirects followed, and cookies kept in an
//! explicit jar the test can read, replace and replay.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::blocking::Client as HttpClient;
use reqwest::redirect::Policy;
use serde_json::Value;

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Lower-cased names, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Time from sending the request to having read the whole body.
    pub elapsed: Duration,
    /// The protocol the answer came in (HTTP/2 when TLS negotiated it).
    pub version: reqwest::Version,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// Where a redirect finally leads: the `Location`, or for a stop at the
    /// optional MFA reminder page (`/.gatehouse/remind?rd=…`, whose "remind
    /// me later" link continues to `rd`) the decoded `rd`.
    pub fn destination(&self) -> Option<String> {
        let location = self.location()?;
        match location.strip_prefix("/.gatehouse/remind?") {
            Some(query) => query
                .split('&')
                .find_map(|pair| pair.strip_prefix("rd="))
                .map(percent_decode),
            None => Some(location.to_string()),
        }
    }

    /// The body as JSON; panics with the body if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "expected a JSON body ({e}), got status {} body {:?}",
                self.status, self.body
            )
        })
    }

    /// Every `Set-Cookie`, parsed.
    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .filter_map(|(_, v)| SetCookie::parse(v))
            .collect()
    }

    /// The `Set-Cookie` for cookie `name`, if this response sets it.
    pub fn set_cookie(&self, name: &str) -> Option<SetCookie> {
        self.set_cookies().into_iter().find(|c| c.name == name)
    }
}

/// One parsed `Set-Cookie` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// Attribute names as sent, with their values if any.
    pub attributes: Vec<(String, Option<String>)>,
    pub raw: String,
}

impl SetCookie {
    pub fn parse(raw: &str) -> Option<SetCookie> {
        let mut parts = raw.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let attributes = parts
            .map(|attr| match attr.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), Some(v.trim().to_string())),
                None => (attr.trim().to_string(), None),
            })
            .filter(|(k, _)| !k.is_empty())
            .collect();
        Some(SetCookie {
            name: name.trim().to_string(),
            value: value.trim().to_string(),
            attributes,
            raw: raw.to_string(),
        })
    }

    /// Whether attribute `name` (any case) is present.
    pub fn has(&self, name: &str) -> bool {
        self.attributes
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    }

    /// The value of attribute `name` (any case).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether this header deletes the cookie rather than setting it.
    pub fn is_removal(&self) -> bool {
        self.value.is_empty()
            || self
                .attr("max-age")
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|age| age <= 0)
    }
}

/// What a login attempt produced.
#[derive(Debug, Clone)]
pub struct LoginResult {
    pub response: Response,
    /// The new session cookie's value, if the response set one.
    pub session: Option<String>,
}

impl LoginResult {
    /// A successful login answers 303 and sets a session cookie.
    pub fn succeeded(&self) -> bool {
        self.response.status == 303 && self.session.is_some()
    }

    pub fn status(&self) -> u16 {
        self.response.status
    }

    pub fn location(&self) -> Option<&str> {
        self.response.location()
    }

    /// See [`Response::destination`].
    pub fn destination(&self) -> Option<String> {
        self.response.destination()
    }
}

/// `builder`, trusting `cert_pem` (a test's self-signed certificate) as a
/// root, as a browser trusts an installed CA.
pub(crate) fn trusting(
    builder: reqwest::blocking::ClientBuilder,
    cert_pem: &str,
) -> reqwest::blocking::ClientBuilder {
    let cert =
        reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("the test certificate parses");
    builder.add_root_certificate(cert)
}

/// A client for one gateway, with its own cookie jar.
pub struct Client {
    http: HttpClient,
    scheme: &'static str,
    port: u16,
    session_cookie_name: String,
    csrf_cookie_name: String,
    jar: Mutex<BTreeMap<String, String>>,
    /// Sent with every request, before the per-request headers.
    default_headers: Vec<(String, String)>,
}

impl Client {
    pub fn new(port: u16, session_cookie_name: &str, csrf_cookie_name: &str) -> Client {
        Client {
            http: Self::builder().build().expect("build the HTTP client"),
            scheme: "http",
            port,
            session_cookie_name: session_cookie_name.to_string(),
            csrf_cookie_name: csrf_cookie_name.to_string(),
            jar: Mutex::new(BTreeMap::new()),
            default_headers: Vec::new(),
        }
    }

    /// This client, sending `name: value` with every request (as a proxy in
    /// front of the gateway would add `X-Forwarded-For`).
    pub fn with_header(mut self, name: &str, value: &str) -> Client {
        self.default_headers
            .push((name.to_string(), value.to_string()));
        self
    }

    /// This client (plain HTTP), giving up on an answer after `timeout`
    /// instead of 10 s: for an app that is slow on purpose.
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.http = Self::builder()
            .timeout(timeout)
            .build()
            .expect("build the HTTP client");
        self
    }

    fn builder() -> reqwest::blocking::ClientBuilder {
        HttpClient::builder()
            .redirect(Policy::none())
            .timeout(Duration::from_secs(10))
    }

    /// This client, speaking HTTPS and trusting `cert_pem` (the gateway's
    /// self-signed certificate) as a browser trusts an installed CA. Like a
    /// browser, it takes HTTP/2 when the server offers it.
    pub fn over_tls(self, cert_pem: &str) -> Client {
        self.with_tls(cert_pem, Self::builder())
    }

    /// [`Client::over_tls`], but offering HTTP/1.1 only, as older clients do.
    pub fn over_tls_http1(self, cert_pem: &str) -> Client {
        self.with_tls(cert_pem, Self::builder().http1_only())
    }

    fn with_tls(mut self, cert_pem: &str, builder: reqwest::blocking::ClientBuilder) -> Client {
        self.http = trusting(builder, cert_pem)
            .build()
            .expect("build the HTTPS client");
        self.scheme = "https";
        self
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://127.0.0.1:{}{}", self.scheme, self.port, path)
    }

    /// Sends a request with the jar's cookies (merged with any `Cookie` in
    /// `headers`) and stores the cookies the response sets.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        form: Option<&[(&str, &str)]>,
    ) -> Response {
        self.try_send(method, path, headers, form)
            .unwrap_or_else(|e| panic!("{method} {path} failed: {e}"))
    }

    /// Like [`Client::send`], but a transport failure (refused, reset,
    /// timeout) is returned instead of panicking.
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        form: Option<&[(&str, &str)]>,
    ) -> Result<Response, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut request = self.http.request(method, self.url(path));
        let mut cookies: Vec<String> = Vec::new();
        for (name, value) in &self.default_headers {
            request = request.header(name, value);
        }
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("cookie") {
                cookies.push(value.to_string());
            } else {
                request = request.header(*name, *value);
            }
        }
        cookies.extend(
            self.jar
                .lock()
                .expect("jar lock")
                .iter()
                .map(|(n, v)| format!("{n}={v}")),
        );
        if !cookies.is_empty() {
            request = request.header("Cookie", cookies.join("; "));
        }
        if let Some(fields) = form {
            request = request.form(fields);
        }
        let started = Instant::now();
        let response = request.send().map_err(|e| format!("{e:?}"))?;
        let status = response.status().as_u16();
        let version = response.version();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.text().unwrap_or_default();
        let response = Response {
            status,
            headers,
            body,
            elapsed: started.elapsed(),
            version,
        };
        self.absorb(&response);
        Ok(response)
    }

    fn absorb(&self, response: &Response) {
        let mut jar = self.jar.lock().expect("jar lock");
        for cookie in response.set_cookies() {
            if cookie.is_removal() {
                jar.remove(&cookie.name);
            } else {
                jar.insert(cookie.name, cookie.value);
            }
        }
    }

    /// GET as an API client would (no `text/html` in Accept).
    pub fn get(&self, path: &str) -> Response {
        self.send("GET", path, &[("Accept", "application/json")], None)
    }

    /// GET as a browser would (`Accept: text/html`).
    pub fn get_html(&self, path: &str) -> Response {
        self.send(
            "GET",
            path,
            &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
            None,
        )
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.send("GET", path, headers, None)
    }

    /// POST an HTML form as a browser would.
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.send("POST", path, &[("Accept", "text/html")], Some(fields))
    }

    /// Loads the login page and returns the CSRF token of its form (the
    /// CSRF cookie lands in the jar).
    pub fn csrf_token(&self) -> String {
        let page = self.get_html("/.gatehouse/login");
        hidden_input(&page.body, "csrf_token").unwrap_or_else(|| {
            panic!(
                "no csrf_token field on the login page (status {}): {}",
                page.status, page.body
            )
        })
    }

    /// The full login flow: load the form, then POST it with the CSRF token.
    pub fn login(&self, username: &str, password: &str, rd: Option<&str>) -> LoginResult {
        let token = self.csrf_token();
        let mut fields = vec![
            ("username", username),
            ("password", password),
            ("csrf_token", token.as_str()),
        ];
        if let Some(rd) = rd {
            fields.push(("rd", rd));
        }
        let response = self.post_form("/.gatehouse/login", &fields);
        let session = response
            .set_cookie(&self.session_cookie_name)
            .filter(|c| !c.is_removal())
            .map(|c| c.value);
        LoginResult { response, session }
    }

    /// Logs in with the harness password and panics unless it worked.
    pub fn login_ok(&self, username: &str) -> String {
        let result = self.login(username, crate::PASSWORD, None);
        assert!(
            result.succeeded(),
            "login as {username} failed: status {} location {:?} body {}",
            result.status(),
            result.location(),
            result.response.body
        );
        result.session.expect("a session cookie")
    }

    /// Signs out through the account page's form (falling back to the login
    /// page's token), as a browser would.
    pub fn logout(&self) -> Response {
        let account = self.get_html("/.gatehouse/account");
        let token = hidden_input(&account.body, "csrf_token").unwrap_or_else(|| self.csrf_token());
        self.post_form("/.gatehouse/logout", &[("csrf_token", &token)])
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().expect("jar lock").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .expect("jar lock")
            .insert(name.to_string(), value.to_string());
    }

    pub fn remove_cookie(&self, name: &str) {
        self.jar.lock().expect("jar lock").remove(name);
    }

    pub fn clear_cookies(&self) {
        self.jar.lock().expect("jar lock").clear();
    }

    pub fn session_cookie_name(&self) -> &str {
        &self.session_cookie_name
    }

    pub fn csrf_cookie_name(&self) -> &str {
        &self.csrf_cookie_name
    }

    /// The session cookie currently in the jar.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookie(&self.session_cookie_name)
    }

    /// Puts `value` in the jar as the session cookie (e.g. to replay one).
    pub fn set_session_cookie(&self, value: &str) {
        let name = self.session_cookie_name.clone();
        self.set_cookie(&name, value);
    }
}

/// The value of the `<input>` named `name` in `html`, HTML entities decoded.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let mut rest = html;
    while let Some(start) = rest.find("<input") {
        let tag_and_more = &rest[start..];
        let end = tag_and_more.find('>')?;
        let tag = &tag_and_more[..end];
        if attribute(tag, "name").as_deref() == Some(name) {
            return Some(attribute(tag, "value").unwrap_or_default());
        }
        rest = &tag_and_more[end..];
    }
    None
}

/// One attribute of an HTML tag, quoted with `"` or `'` or unquoted.
pub(crate) fn attribute(tag: &str, attr: &str) -> Option<String> {
    let bytes = tag.as_bytes();
    let needle = format!("{attr}=");
    let mut from = 0;
    while let Some(pos) = tag[from..].find(&needle) {
        let at = from + pos;
        from = at + needle.len();
        // Must be a whole attribute name, not the end of another one.
        if at > 0 && !bytes[at - 1].is_ascii_whitespace() {
            continue;
        }
        let value = &tag[from..];
        let raw = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_ascii_whitespace() || c == '/')
                .next()
                .unwrap_or(""),
        };
        return Some(unescape_html(raw));
    }
    None
}

pub(crate) fn unescape_html(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Decodes `%XX` escapes (and nothing else).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = [bytes[i + 1], bytes[i + 2]];
            let hex = std::str::from_utf8(&hex).expect("ascii hex digits");
            out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_input_finds_the_named_field_in_any_attribute_order() {
        let html = r#"<form><input type="hidden" name="rd" value="/x">
            <input value='a&amp;b' type=hidden name="csrf_token"></form>"#;
        assert_eq!(hidden_input(html, "csrf_token").as_deref(), Some("a&b"));
        assert_eq!(hidden_input(html, "rd").as_deref(), Some("/x"));
        assert_eq!(hidden_input(html, "missing"), None);
    }

    #[test]
    fn set_cookie_parses_flags_and_removals() {
        let cookie =
            SetCookie::parse("__Host-s=abc; Path=/; HttpOnly; Secure; SameSite=Lax").unwrap();
        assert_eq!(
            (cookie.name.as_str(), cookie.value.as_str()),
            ("__Host-s", "abc")
        );
        assert!(cookie.has("httponly") && cookie.has("Secure"));
        assert_eq!(cookie.attr("samesite"), Some("Lax"));
        assert!(!cookie.is_removal());
        assert!(SetCookie::parse("s=; Max-Age=0").unwrap().is_removal());
    }

    #[test]
    fn percent_decode_decodes_escapes_only() {
        assert_eq!(percent_decode("%2Fa%3Fb%3dc+d%zz"), "/a?b=c+d%zz");
    }
}
