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
//!
//! Programs the tests run (`scripts/test` and CI install them): `redis-server`
//! and `oathtool` on `PATH` (the MFA tests' "phone"), PostgreSQL's server
//! binaries (`/usr/lib/postgresql/*/bin` or `PATH`; a private cluster per
//! test), `chromium` with `chromedriver` for `tests/browser*.rs`, which
//! save their screenshots under `target/artifacts/browser/`, and Python 3
//! with `aiosmtpd` (Debian's `python3-aiosmtpd`) for the SMTP server of
//! `tests/mfa_codes.rs`.

pub mod harness;

pub use harness::*;
