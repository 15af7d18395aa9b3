//! Entry points for the fuzz targets (`fuzz/`): the parsers a client's or
//! an operator's bytes reach, callable without a socket, a store or a
//! running gateway. Not an API: hidden from the docs, and free to change
//! with the targets.
//!
//! What is already public (`route`, `return_path`, `cookies`,
//! `session::SessionId`) the targets call directly.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use pingora::http::RequestHeader;

use crate::config::{ConfigError, RequestLimits, Settings};
use crate::portal::form::Form;
use crate::portal::forward_auth::{self, Flavour};
use crate::portal::Request;
use crate::server::head_limits::{HeadMeter, Measure, Over};

/// The first value of field `name` in a urlencoded form body, as a portal
/// page reads it (empty when missing).
pub fn form_field(body: &[u8], name: &str) -> String {
    Form::parse(body).get(name).to_owned()
}

/// The original request a forward-auth endpoint reads from `head`, as
/// `nginx`'s `auth/request` or else Traefik's and Caddy's `auth/forward`,
/// from a `trusted` proxy or not.
pub fn forward_auth(head: RequestHeader, trusted: bool, nginx: bool) -> Result<Described, String> {
    let req = Request::new(head, IpAddr::V4(Ipv4Addr::LOCALHOST)).from_trusted_proxy(trusted);
    let flavour = if nginx {
        Flavour::Request
    } else {
        Flavour::Forward
    };
    forward_auth::describe(&req, flavour)
        .map(|d| Described {
            method: d.method.to_string(),
            scheme: d.scheme,
            host: d.host,
            target: d.target,
            path: d.path,
        })
        .map_err(|e| e.to_string())
}

/// What [`forward_auth`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub method: String,
    pub scheme: &'static str,
    pub host: Option<String>,
    /// Path and query, as described.
    pub target: String,
    /// The path, normalised.
    pub path: String,
}

/// The service token an `Authorization: Bearer` header carries.
pub fn bearer(req: &RequestHeader) -> Option<&str> {
    crate::access::bearer(req)
}

/// The file a fuzzed config may name as its users file, beside it.
const USERS_FILE: &str = "users.yaml";

/// Validates config text as `gatehouse check-config` would, as if it lived
/// in `/etc/gatehouse` beside a users file holding `users`; no other file
/// exists, and nothing is read from disk.
pub fn config(yaml: &str, users: &str) -> Result<Settings, ConfigError> {
    let base = Path::new("/etc/gatehouse");
    let users_path = base.join(USERS_FILE);
    let read = |path: &Path| {
        if path == users_path {
            Ok(users.to_owned())
        } else {
            Err(io::Error::from(io::ErrorKind::NotFound))
        }
    };
    crate::config::from_yaml_with_files(yaml, base, &read)
}

/// What the request-head meter made of some chunks of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// Not over yet, within the caps.
    More,
    /// Ended within the caps.
    Ended,
    /// Refused with this status (414 or 431).
    Over(u16),
}

/// Feeds `chunks` to a fresh request-head meter, as reads would, until it
/// decides.
pub fn measure_head<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, limits: RequestLimits) -> Head {
    let mut meter = HeadMeter::default();
    for chunk in chunks {
        match meter.feed(chunk, &limits) {
            Measure::More => {}
            Measure::Ended => return Head::Ended,
            Measure::Over(over) => return Head::Over(Over::status(over)),
        }
    }
    Head::More
}
