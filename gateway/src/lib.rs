//! Gatehouse: an MFA gateway in front of apps with weak or no login.
//!
//! A Pingora reverse proxy that serves its own sign-in pages under
//! `/.gatehouse/`, keeps sessions in memory or Redis, and forwards signed-in
//! traffic with identity headers. See `DESIGN.md` for the contract and the
//! README for a guided tour of the request phases.

pub mod access;
pub mod accounts;
pub mod auth;
pub mod client_ip;
pub mod config;
pub mod cookies;
pub mod csrf;
pub mod demo;
pub mod durable;
pub mod forwarded;
#[doc(hidden)]
pub mod fuzzing;
pub mod gateway;
pub mod identity;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod notify;
pub mod orgs;
pub mod policy;
pub mod portal;
pub mod proxy;
pub mod redis_client;
pub mod reload;
pub mod respond;
pub mod retention;
pub mod return_path;
pub mod route;
pub mod server;
pub mod session;
pub mod store;
pub mod tokens;
pub mod upstream;
