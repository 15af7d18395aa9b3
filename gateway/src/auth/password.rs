//! argon2id password hashing on a bounded pool.
//!
//! An argon2 verification costs tens of milliseconds of CPU and 19 MiB of
//! memory. Running it on the proxy's event loop would stall every request on
//! that thread, so each one runs on tokio's blocking pool, and a semaphore
//! bounds how many run at once: a login storm queues instead of eating every
//! core and all the memory.

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use tokio::sync::Semaphore;

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task did not finish: {0}")]
    Task(String),
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string, on the calling thread.
///
/// For the CLI and start-up; request handlers use [`PasswordHasherPool`].
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Verifies a password against a PHC string, on the calling thread.
///
/// The parameters come from the hash itself, so stronger hashes verify too.
pub fn verify_blocking(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// Runs argon2 off the event loop, at most `limit` at a time.
#[derive(Clone)]
pub struct PasswordHasherPool {
    permits: Arc<Semaphore>,
    /// Verified against when the username is unknown, so that an unknown user
    /// costs the same time as a wrong password.
    dummy_hash: Arc<str>,
}

impl PasswordHasherPool {
    /// Creates the pool; computes the dummy hash, which takes one argon2 run.
    pub fn new(limit: usize) -> Result<Self, PasswordError> {
        let dummy = hash_blocking("gatehouse-dummy-password-for-unknown-users")?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
            dummy_hash: dummy.into(),
        })
    }

    /// Verifies `password` against `phc`, or against the dummy hash when the
    /// user is unknown (`phc` is `None`), in which case it always fails.
    pub async fn verify(&self, phc: Option<&str>, password: &str) -> Result<bool, PasswordError> {
        let known = phc.is_some();
        let phc: Arc<str> = phc
            .map(Arc::from)
            .unwrap_or_else(|| self.dummy_hash.clone());
        let password = password.to_owned();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))?;
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&phc, &password))
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))?;
        Ok(known && ok)
    }

    /// Hashes a password on the pool.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let password = password.to_owned();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))?;
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let phc = hash_blocking("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking(&phc, "correct horse"));
        assert!(!verify_blocking(&phc, "wrong horse"));
    }

    #[test]
    fn a_malformed_hash_never_verifies() {
        assert!(!verify_blocking("not-a-hash", ""));
    }

    #[tokio::test]
    async fn unknown_users_never_verify_even_with_the_dummy_password() {
        let pool = PasswordHasherPool::new(1).unwrap();
        let dummy = "gatehouse-dummy-password-for-unknown-users";
        assert!(!pool.verify(None, dummy).await.unwrap());
        let phc = pool.hash("pw").await.unwrap();
        assert!(pool.verify(Some(&phc), "pw").await.unwrap());
    }
}
