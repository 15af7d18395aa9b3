//! Test support shared by the gateway crate's own tests and the end-to-end
//! suites in `tests/`, so each real server is started one way only, on a
//! port the kernel chose.
//!
//! Std, `tempfile` and `rcgen` only: it is a dev-dependency of the gateway,
//! and must not pull a runtime or a driver into it.

pub mod ports;
pub mod postgres;
pub mod tls;

pub use ports::free_port;
pub use postgres::Postgres;
pub use tls::{self_signed, SelfSigned};
