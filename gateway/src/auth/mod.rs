//! Credentials: password hashing and verification, and the second factor
//! (TOTP, recovery codes, and sealing secrets at rest).

pub mod authorize;
pub mod lifecycle;
pub mod mfa;
pub mod one_time;
pub mod org_admin;
pub mod password;
pub mod recovery;
pub mod secret_box;
pub mod totp;

pub use password::{PasswordError, PasswordHasherPool};
pub use recovery::RecoveryHasher;
pub use secret_box::{SecretBox, SecretBoxError};
pub use totp::{qr_svg, Totp, TotpError, TotpSecret};
