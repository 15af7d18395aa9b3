//! What the portal's unit tests share: a gateway built in-process (memory
//! sessions, a SQLite store in a temporary folder, alice in the users
//! file), her sessions, and requests as the dispatch would hand them over.

use std::net::{IpAddr, Ipv4Addr};

use pingora::http::RequestHeader;
use tempfile::TempDir;

use super::form::Form;
use super::{Current, Request};
use crate::auth::totp::Totp;
use crate::config::tests::GOOD_HASH;
use crate::config::Settings;
use crate::gateway::Gateway;
use crate::respond::Reply;
use crate::session::{now_ms, Session};

pub(super) const IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A gateway whose users file holds alice (an admin), and the folder its
/// files live in.
pub(super) fn gateway() -> (Gateway, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("users.yaml"),
        format!(
            "users:\n  alice:\n    password: \"{GOOD_HASH}\"\n    email: alice@example.com\n    \
             groups: [admins]\n"
        ),
    )
    .expect("write users file");
    let config = format!(
        "store:\n  url: \"{}\"\nusers:\n  file: users.yaml\n\
         apps:\n  - name: wiki\n    upstream: \"127.0.0.1:3000\"\n",
        store_url(&dir)
    );
    let settings = Settings::from_yaml_str(&config, dir.path()).expect("config");
    let gw = Gateway::new(settings).expect("gateway");
    (gw, dir)
}

pub(super) fn store_url(dir: &TempDir) -> String {
    format!("sqlite://{}", dir.path().join("gatehouse.db").display())
}

/// Alice with a live session as given (see [`Session`]).
pub(super) async fn signed_in_as(gw: &Gateway, session: Session) -> Current {
    let id = gw
        .sessions
        .create(&session, gw.expiry)
        .await
        .expect("create");
    let account = gw.accounts.get("alice").expect("alice");
    Current {
        id,
        session,
        account,
    }
}

/// Alice, signed in with her password.
pub(super) async fn signed_in(gw: &Gateway) -> Current {
    let generation = gw.sessions.generation("alice").await.expect("generation");
    signed_in_as(gw, Session::after_password("alice", now_ms(), generation)).await
}

/// A browser's request for `path` with `current`'s session cookie and a
/// CSRF nonce; a POST carries `fields` and a valid CSRF token.
pub(super) fn request(
    gw: &Gateway,
    method: &str,
    path: &str,
    current: Option<&Current>,
    fields: &[(&str, &str)],
) -> Request {
    let mut head = RequestHeader::build(method, path.as_bytes(), None).expect("request head");
    let nonce = "test-nonce";
    let mut cookies = format!("{}={nonce}", gw.cookies.csrf);
    if let Some(current) = current {
        cookies.push_str(&format!("; {}={}", gw.cookies.session, current.id.as_str()));
    }
    head.insert_header("cookie", cookies)
        .expect("cookie header");
    head.insert_header("accept", "text/html")
        .expect("accept header");
    let req = Request::new(head, IP);
    if method != "POST" {
        return req;
    }
    let token = gw.csrf.token(nonce);
    let mut pairs: Vec<(String, String)> = vec![("csrf_token".into(), token)];
    pairs.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    req.with_form(Ok(Form::from_pairs(pairs)))
}

/// Where a redirect sends the browser.
pub(super) fn location(reply: &Reply) -> Option<&str> {
    reply.header_value("location")
}

/// Alice's authenticator, confirmed with a code as her phone shows it
/// `ahead` time steps from now; returns her new recovery codes.
pub(super) async fn confirm_app(gw: &Gateway, ahead: u64) -> Vec<String> {
    let pending = gw
        .mfa
        .begin_enrollment("alice")
        .await
        .expect("store")
        .expect("not enrolled yet");
    let code =
        Totp::new(&pending.secret, "Gatehouse", "alice").code_at(now_ms() / 1000 + 30 * ahead);
    gw.mfa
        .confirm_enrollment("alice", &code, None)
        .await
        .expect("store")
        .expect("code accepted")
        .expect("a first factor comes with recovery codes")
}
