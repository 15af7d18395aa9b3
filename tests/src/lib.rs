//! End-to-end test harness for Gatehouse.
//!
//! Every test starts real processes (the `gatehouse` binary, `redis-server`)
//! and a real HTTP echo upstream on ephemeral ports, then drives the gateway
//! over HTTP like a browser or an API client would.

pub mod harness;

pub use harness::*;
