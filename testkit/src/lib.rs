//! Test support shared by the gateway crate's own tests and the end-to-end
//! suites in `tests/`, so each real server is started one way only.
//!
//! Std and `tempfile` only: it is a dev-dependency of the gateway, and must
//! not pull a runtime or a driver into it.

pub mod postgres;

pub use postgres::Postgres;
