//! End-to-end test harness for Gatehouse.
//!
//! Every test starts real processes (the `gatehouse` binary, `redis-server`)
//! and a real HTTP echo upstream on ephemeral ports, then drives the gateway
//! over HTTP like a browser or an API client would.
//!
//! Run from the workspace root with `cargo test -p gatehouse-tests` (add
//! `--test security` etc. for one file). The first test in each test binary
//! runs `cargo build -p gatehouse --bin gatehouse` so the binary is fresh;
//! set `GATEHOUSE_BIN=/path/to/gatehouse` to test a prebuilt binary instead.
//! `redis-server` must be on `PATH`.

pub mod harness;

pub use harness::*;
