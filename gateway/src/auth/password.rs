//! argon2id password hashing on a bounded, low-priority pool.
//!
//! An argon2 verification costs tens of milliseconds of CPU and 19 MiB of
//! memory. On the proxy's event loop it would stall every request on that
//! thread. So it runs on a few threads of its own, which lower their
//! scheduling priority: when a storm of sign-ins meets signed-in traffic on
//! the same cores, the kernel runs the proxy first and sign-ins queue. The
//! queue is bounded too, so a flood gets "busy" answers rather than memory
//! growth.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use tokio::sync::oneshot;

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// How much lower than the proxy's the pool threads' priority is (nice).
const NICENESS: i32 = 19;
/// Jobs waiting per pool thread before new ones are turned away.
const QUEUE_PER_THREAD: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("too many sign-ins are waiting for a password check")]
    Busy,
    #[error("the password hashing pool has stopped")]
    Stopped,
    #[error("cannot start the password hashing pool: {0}")]
    Spawn(std::io::Error),
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

type Job = Box<dyn FnOnce() + Send>;

/// Runs argon2 off the event loop on `limit` low-priority threads.
#[derive(Clone)]
pub struct PasswordHasherPool {
    jobs: SyncSender<Job>,
    /// Verified against when the username is unknown, so that an unknown user
    /// costs the same time as a wrong password.
    dummy_hash: Arc<str>,
}

fn worker(jobs: Arc<Mutex<Receiver<Job>>>) {
    // Best effort: without the permission to renice, argon2 still runs, at
    // the same priority as the proxy.
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), NICENESS) {
        tracing::debug!("argon2 pool thread keeps normal priority: {e}");
    }
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => job(),
            Err(_) => return, // every sender is gone
        }
    }
}

impl PasswordHasherPool {
    /// Starts the pool; computes the dummy hash, which takes one argon2 run.
    pub fn new(limit: usize) -> Result<Self, PasswordError> {
        let limit = limit.max(1);
        let (tx, rx) = sync_channel::<Job>(limit * QUEUE_PER_THREAD);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..limit {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("gatehouse-argon2-{i}"))
                .spawn(move || worker(rx))
                .map_err(PasswordError::Spawn)?;
        }
        let dummy = hash_blocking("gatehouse-dummy-password-for-unknown-users")?;
        Ok(Self {
            jobs: tx,
            dummy_hash: dummy.into(),
        })
    }

    /// Queues `f` on the pool; the receiver yields its result.
    fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<T>, PasswordError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => PasswordError::Busy,
            TrySendError::Disconnected(_) => PasswordError::Stopped,
        })?;
        Ok(result)
    }

    /// Runs `f` on the pool and waits for its result without blocking the
    /// caller's thread.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        self.submit(f)?.await.map_err(|_| PasswordError::Stopped)
    }

    /// Verifies `password` against `phc`, or against the dummy hash when the
    /// user is unknown (`phc` is `None`), in which case it always fails.
    pub async fn verify(&self, phc: Option<&str>, password: &str) -> Result<bool, PasswordError> {
        let known = phc.is_some();
        let phc: Arc<str> = phc
            .map(Arc::from)
            .unwrap_or_else(|| self.dummy_hash.clone());
        let password = password.to_owned();
        let ok = self.run(move || verify_blocking(&phc, &password)).await?;
        Ok(known && ok)
    }

    /// Hashes a password on the pool.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let password = password.to_owned();
        self.run(move || hash_blocking(&password)).await?
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

    #[tokio::test]
    async fn the_pool_runs_on_its_own_threads() {
        let pool = PasswordHasherPool::new(1).unwrap();
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("gatehouse-argon2-0"));
    }

    #[tokio::test]
    async fn the_pool_threads_run_at_the_lowest_priority() {
        let niceness = || rustix::process::getpriority_process(Some(rustix::thread::gettid()));
        let before = niceness().unwrap();
        let pool = PasswordHasherPool::new(1).unwrap();
        assert_eq!(pool.run(niceness).await.unwrap().unwrap(), NICENESS);
        // The caller's own priority is untouched.
        assert_eq!(niceness().unwrap(), before);
    }

    #[tokio::test]
    async fn a_full_queue_says_busy_instead_of_growing() {
        let pool = PasswordHasherPool::new(1).unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        // Occupy the only thread, then fill the queue behind it.
        let blocker = pool.submit(move || wait.recv().is_ok()).unwrap();
        let mut queued = Vec::new();
        let outcome = loop {
            match pool.submit(|| ()) {
                Ok(job) if queued.len() <= QUEUE_PER_THREAD + 1 => queued.push(job),
                other => break other.map(|_| ()),
            }
        };
        assert!(matches!(outcome, Err(PasswordError::Busy)), "{outcome:?}");
        release.send(()).unwrap();
        assert!(blocker.await.unwrap());
        for job in queued {
            job.await.unwrap();
        }
    }
}
