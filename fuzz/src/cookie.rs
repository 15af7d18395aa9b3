//! The cookie reader and the session-id parser.

use gatehouse::cookies::cookie_value;
use gatehouse::session::SessionId;
use pingora::http::RequestHeader;

/// Names a request's cookies are looked up by: the gateway's own, with
/// and without the `__Host-` prefix.
const NAMES: &[&str] = &[
    "gatehouse_session",
    "__Host-gatehouse_session",
    "gatehouse_csrf",
    "",
];

/// Each line of the input is one `Cookie` header's value.
pub fn cookie(data: &[u8]) {
    let Ok(mut req) = RequestHeader::build("GET", b"/", None) else {
        return;
    };
    let mut values = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        let Ok(value) = http::HeaderValue::from_bytes(line) else {
            continue;
        };
        if req
            .append_header(http::header::COOKIE, value.clone())
            .is_ok()
        {
            values.push(value);
        }
    }
    for name in NAMES {
        let Some(found) = cookie_value(&req, name) else {
            continue;
        };
        assert!(!found.contains(';'), "cookie {name:?} read as {found:?}");
        assert!(
            values
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.contains(found)),
            "cookie {name:?} read as {found:?}, which no header holds"
        );
        session_id(found);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        session_id(text);
    }
}

/// A session id is accepted only in its exact shape, and then names one
/// store key, the same each time, that its Redis key gives back.
fn session_id(value: &str) {
    let Some(id) = SessionId::parse(value) else {
        return;
    };
    assert_eq!(id.as_str(), value);
    assert_eq!(value.len(), 43, "{value:?} accepted as a session id");
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{value:?} accepted as a session id"
    );
    assert!(
        !format!("{id:?}").contains(value),
        "a session id shows in debug output"
    );
    let key = id.store_key();
    assert_eq!(key, id.store_key());
    let back = gatehouse::session::StoreKey::from_redis_key(&key.redis_key());
    assert_eq!(
        back,
        Some(key),
        "a Redis key does not give its store key back"
    );
}
