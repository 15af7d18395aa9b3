//! The SMS provider: a real HTTP/1.1 server on an ephemeral port speaking
//! Twilio's documented Messages API (`POST /2010-04-01/Accounts/{AccountSid}/
//! Messages.json`, form-encoded `To`/`From`/`Body`, HTTP Basic auth with the
//! account SID and auth token), including its error codes and JSON shapes, so
//! the gateway's SMS client is tested against the protocol it will meet in
//! production. It records what it accepted, counts every attempt, and can
//! simulate an outage.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::upstream::{read_body, read_head, serve_connections};
use crate::harness::wait_until;

/// How long [`SmsProvider::wait_for_sms`] waits.
const DEADLINE: Duration = Duration::from_secs(10);

/// One message the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub to: String,
    pub from: String,
    pub body: String,
    /// The `Authorization` header as sent (`Basic …`).
    pub authorization: String,
}

impl Sms {
    /// The one-time code in the body, if any (see [`crate::one_time_code`]).
    pub fn code(&self) -> Option<String> {
        crate::harness::one_time_code(&self.body)
    }
}

struct Shared {
    account_sid: String,
    auth_token: String,
    messages: Mutex<Vec<Sms>>,
    attempts: AtomicUsize,
    outage: AtomicBool,
    stopping: AtomicBool,
    /// Feeds the message SIDs, so each is distinct.
    counter: AtomicU64,
}

/// A running Twilio-compatible SMS provider. Stops accepting on drop.
pub struct SmsProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SmsProvider {
    /// Starts a provider that accepts Basic auth `account_sid:auth_token`.
    pub fn start(account_sid: &str, auth_token: &str) -> SmsProvider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMS provider");
        let addr = listener.local_addr().expect("SMS provider address");
        let shared = Arc::new(Shared {
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            messages: Mutex::new(Vec::new()),
            attempts: AtomicUsize::new(0),
            outage: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            counter: AtomicU64::new(0),
        });
        serve_connections(listener, Arc::clone(&shared), |s| &s.stopping, serve);
        SmsProvider { addr, shared }
    }

    /// `http://127.0.0.1:PORT`, no trailing slash: the API base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn account_sid(&self) -> String {
        self.shared.account_sid.clone()
    }

    /// The Messages endpoint for this account, e.g. for a test's own request.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.url(),
            self.shared.account_sid
        )
    }

    /// While `on`, every request gets 503 (attempts are still counted).
    pub fn set_outage(&self, on: bool) {
        self.shared.outage.store(on, Ordering::SeqCst);
    }

    /// The accepted messages (201), oldest first.
    pub fn messages(&self) -> Vec<Sms> {
        self.shared.messages.lock().expect("messages lock").clone()
    }

    /// The accepted messages to `to`, oldest first.
    pub fn messages_to(&self, to: &str) -> Vec<Sms> {
        self.messages().into_iter().filter(|m| m.to == to).collect()
    }

    /// Every POST to a Messages endpoint, accepted or not (bad auth,
    /// validation errors and outages included).
    pub fn attempts(&self) -> usize {
        self.shared.attempts.load(Ordering::SeqCst)
    }

    /// Blocks until at least `nth` (1-based) messages to `to` were accepted,
    /// and returns the `nth`; panics after 10 s, listing what arrived.
    pub fn wait_for_sms(&self, to: &str, nth: usize) -> Sms {
        assert!(nth >= 1, "wait_for_sms counts from 1, got nth = 0");
        if wait_until(DEADLINE, || self.messages_to(to).len() >= nth) {
            return self.messages_to(to).swap_remove(nth - 1);
        }
        let accepted: Vec<String> = self
            .messages()
            .iter()
            .map(|m| format!("  to {}: {:?}", m.to, m.body))
            .collect();
        panic!(
            "timed out after {DEADLINE:?} waiting for SMS #{nth} to {to}; the provider \
             saw {} attempt(s) and accepted {}:\n{}",
            self.attempts(),
            accepted.len(),
            accepted.join("\n")
        );
    }
}

impl Drop for SmsProvider {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One HTTP request, as much of it as the API needs.
struct Request {
    method: String,
    path: String,
    /// Lower-cased names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// HTTP/1.0 closes after each reply unless asked to keep alive.
    http10: bool,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response: status, JSON body, extra headers.
struct Reply {
    status: u16,
    body: Value,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn new(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// Twilio's error shape: code, message, more_info, status.
    fn error(status: u16, code: u32, message: &str) -> Reply {
        Reply::new(
            status,
            json!({
                "code": code,
                "message": message,
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                "status": status,
            }),
        )
    }

    fn not_found(path: &str) -> Reply {
        Reply::error(
            404,
            20404,
            &format!("The requested resource {path} was not found"),
        )
    }
}

/// Serves one keep-alive connection until the peer closes it (or asks to).
fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader, &mut writer) {
        let connection = request.header("connection").map(str::to_ascii_lowercase);
        let close = match connection.as_deref() {
            Some(c) if c.split(',').any(|t| t.trim() == "close") => true,
            Some(c) if c.split(',').any(|t| t.trim() == "keep-alive") => false,
            _ => request.http10,
        };
        let close = close || shared.stopping.load(Ordering::SeqCst);
        let reply = handle(&request, shared);
        if write_reply(&mut writer, &reply, close).is_err() || close {
            return;
        }
    }
}

fn write_reply(writer: &mut TcpStream, reply: &Reply, close: bool) -> std::io::Result<()> {
    let body = reply.body.to_string();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        reply.status,
        reason(reply.status),
        body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    writer.write_all(body.as_bytes())?;
    writer.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// The API itself.
fn handle(request: &Request, shared: &Shared) -> Reply {
    let path = request.path.split('?').next().unwrap_or_default();
    let path_sid = path
        .strip_prefix("/2010-04-01/Accounts/")
        .and_then(|rest| rest.strip_suffix("/Messages.json"))
        .filter(|sid| !sid.is_empty() && !sid.contains('/'));
    let messages_post = request.method == "POST" && path_sid.is_some();
    if messages_post {
        shared.attempts.fetch_add(1, Ordering::SeqCst);
    }
    if shared.outage.load(Ordering::SeqCst) {
        return Reply::new(
            503,
            json!({"code": 20503, "message": "Service unavailable", "status": 503}),
        );
    }
    let (Some(path_sid), true) = (path_sid, messages_post) else {
        return Reply::not_found(path);
    };

    let authorization = request.header("authorization").unwrap_or_default();
    let Some((user, password)) = basic_credentials(authorization) else {
        return unauthorized();
    };
    if user != shared.account_sid || password != shared.auth_token {
        return unauthorized();
    }
    if path_sid != user {
        return Reply::not_found(path);
    }

    let form = parse_form(&request.body);
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let Some(to) = field("To") else {
        return Reply::error(400, 21604, "A 'To' phone number is required.");
    };
    if !is_e164(&to) {
        return Reply::error(
            400,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    let Some(body) = field("Body") else {
        return Reply::error(400, 21602, "Message body is required.");
    };
    let Some(from) = field("From") else {
        return Reply::error(400, 21603, "A 'From' phone number is required.");
    };

    let sid = message_sid(shared);
    let date = rfc2822_now();
    let uri = format!("/2010-04-01/Accounts/{user}/Messages/{sid}.json");
    shared.messages.lock().expect("messages lock").push(Sms {
        to: to.clone(),
        from: from.clone(),
        body: body.clone(),
        authorization: authorization.to_string(),
    });
    Reply::new(
        201,
        json!({
            "sid": sid,
            "account_sid": user,
            "to": to,
            "from": from,
            "body": body,
            "status": "queued",
            "num_segments": "1",
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": date,
            "date_updated": date,
            "date_sent": null,
            "price": null,
            "price_unit": "USD",
            "messaging_service_sid": null,
            "uri": uri,
            "subresource_uris": {
                "media": format!("/2010-04-01/Accounts/{user}/Messages/{sid}/Media.json"),
            },
            "error_code": null,
            "error_message": null,
        }),
    )
}

fn unauthorized() -> Reply {
    let mut reply = Reply::error(401, 20003, "Authenticate");
    reply.headers.push((
        "www-authenticate",
        r#"Basic realm="Twilio API""#.to_string(),
    ));
    reply
}

/// `SM` and 32 hex digits, distinct per message.
fn message_sid(shared: &Shared) -> String {
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{}:{n}:{nanos}", shared.account_sid));
    format!("SM{}", hex::encode(&digest[..16]))
}

/// `+` then 8 to 15 digits.
fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// `(user, password)` from `Basic base64(user:password)`.
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Standard base64 (padding optional); `None` on anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in text.trim_end_matches('=').bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `application/x-www-form-urlencoded`: `+` is a space, then percent-decoding.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(name), form_decode(value))
        })
        .collect()
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex_pair(bytes[i + 1], bytes[i + 2]).is_some() => {
                out.push(hex_pair(bytes[i + 1], bytes[i + 2]).expect("checked"));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_pair(high: u8, low: u8) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

/// Now as Twilio writes dates: `Wed, 18 Aug 2010 20:01:40 +0000`.
fn rfc2822_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    rfc2822(secs)
}

fn rfc2822(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs / 86_400;
    let rem = unix_secs % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (>= 0).
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Reads one request (Content-Length or chunked body); `None` at EOF or on
/// garbage. Answers `Expect: 100-continue` so such clients send the body.
fn read_request(reader: &mut BufReader<TcpStream>, writer: &mut TcpStream) -> Option<Request> {
    let head = read_head(reader)?;
    if head
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    let body = read_body(reader, &head)?;
    Some(Request {
        method: head.method,
        path: head.path,
        headers: head.headers,
        body,
        http10: head.http10,
    })
}

#[cfg(test)]
#[path = "sms_tests.rs"]
mod tests;
