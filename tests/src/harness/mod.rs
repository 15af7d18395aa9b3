//! Building blocks: processes (gateway, Redis, PostgreSQL, chromedriver),
//! ports, an echo upstream, an HTTP client, and the MFA flows with an
//! `oathtool` authenticator.

pub mod admin;
pub mod binary;
pub mod chaos;
pub mod chromedriver;
pub mod client;
pub mod config;
pub mod fronts;
pub mod gateway;
pub mod load;
pub mod mfa;
pub mod raw;
pub mod redis;
pub mod sms;
pub mod smtp;
pub mod stack;
pub mod store;
pub mod totp;
pub mod upstream;

use std::time::{Duration, Instant};

pub use binary::{
    gatehouse_bin, gatehouse_command, hash_password, password_hash, target_dir, workspace_root,
    PASSWORD,
};
pub use chromedriver::ChromeDriver;
pub use client::{hidden_input, percent_decode, Client, LoginResult, Response, SetCookie};
pub use config::{AppConfig, Backend, GatewayConfig, UserSpec};
pub use fronts::Front;
pub use gatehouse_testkit::{free_port, Postgres};
pub use gateway::{metric_value, Gateway};
pub use mfa::{link_href, recovery_codes, with_rd, Enrollment};
pub use raw::{raw_get, raw_keep_alive, raw_send};
pub use redis::Redis;
pub use sms::{Sms, SmsProvider};
pub use smtp::{one_time_code, Mail, SmtpSink};
pub use stack::{Replicas, Stack};
pub use totp::{otpauth_uri, totp_secret, Authenticator};
pub use upstream::{Recorded, Upstream};

/// How often the polling helpers look again: tight, so tests stay fast.
pub const POLL: Duration = Duration::from_millis(50);

/// Polls `check` every [`POLL`] until it yields `Some`, or panics with `what`
/// once `within` has passed. This is how tests wait: never a blind sleep.
pub fn eventually<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting for: {what}");
        }
        std::thread::sleep(POLL);
    }
}

/// Like [`eventually`] but for a plain condition; returns whether it became
/// true before the deadline instead of panicking.
pub fn wait_until(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Generates one `#[test]` per session backend for a function taking a
/// [`Backend`], so session behaviour is pinned for memory and Redis alike:
/// `both_backends!(logout_invalidates_the_session);` gives
/// `logout_invalidates_the_session::memory` and `…::redis`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn memory() {
                    super::$name($crate::Backend::Memory);
                }

                #[test]
                fn redis() {
                    super::$name($crate::Backend::Redis);
                }
            }
        )+
    };
}
