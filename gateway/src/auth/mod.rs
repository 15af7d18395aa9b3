//! Credentials: password hashing and verification.
//!
//! The second factor (TOTP, one-time and recovery codes) lands here too.

pub mod password;

pub use password::{PasswordError, PasswordHasherPool};
