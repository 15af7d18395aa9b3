//! Reading the gateway's durable store from a test, through the gateway's
//! own `Store` (the same SQL, SQLite or PostgreSQL). SQLite runs in WAL
//! mode, so reading while the gateway runs is fine.

use std::future::Future;

pub use gatehouse::store::{AuditEntry, Device, IssuedToken, TotpEnrollment};
use gatehouse::store::{Store, StoreError};

/// Now, in the store's unit (unix ms).
pub fn now_ms() -> i64 {
    gatehouse::session::now_ms() as i64
}

/// Runs `work` against the store at `url` on a runtime of its own.
fn with_store<T, F, Fut>(url: &str, work: F) -> T
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime to read the store");
    runtime.block_on(async {
        let store = Store::connect(url)
            .await
            .unwrap_or_else(|e| panic!("open the gateway's store {url}: {e}"));
        let result = work(store.clone()).await;
        store.close().await;
        result.unwrap_or_else(|e| panic!("read the gateway's store {url}: {e}"))
    })
}

/// The user's audit entries, oldest first (at most 500).
pub fn audit_log(url: &str, user: &str) -> Vec<AuditEntry> {
    let mut entries = with_store(url, |store| async move {
        store.audit_recent(Some(user), 500).await
    });
    entries.reverse();
    entries
}

/// Appends entries to the audit log, as the gateway would have written them.
pub fn write_audit(url: &str, entries: &[AuditEntry]) {
    with_store(url, |store| async move {
        for entry in entries {
            store.audit(entry).await?;
        }
        Ok(())
    })
}

/// The service tokens created in the console, as stored (by name).
pub fn issued_tokens(url: &str) -> Vec<IssuedToken> {
    with_store(url, |store| async move { store.tokens_list().await })
}

/// Every audit entry, oldest first (at most 5000).
pub fn audit_log_all(url: &str) -> Vec<AuditEntry> {
    let mut entries = with_store(
        url,
        |store| async move { store.audit_recent(None, 5000).await },
    );
    entries.reverse();
    entries
}

/// The user's authenticator record, if any.
pub fn totp_enrollment(url: &str, user: &str) -> Option<TotpEnrollment> {
    with_store(url, |store| async move { store.totp_get(user).await })
}

/// Where the user's codes go by channel, for the numbers they typed
/// themselves (factors using the users file's address are not listed).
pub fn contact_destinations(url: &str, user: &str) -> Vec<(String, String)> {
    with_store(url, |store| async move {
        store.contact_destinations(user).await
    })
}

/// The user's unexpired remembered devices.
pub fn remembered_devices(url: &str, user: &str) -> Vec<Device> {
    let now = now_ms();
    with_store(
        url,
        |store| async move { store.devices_list(user, now).await },
    )
}

/// How many unused recovery codes the user has.
pub fn recovery_codes_left(url: &str, user: &str) -> i64 {
    with_store(
        url,
        |store| async move { store.recovery_remaining(user).await },
    )
}

/// What a store outage must not lose: one user's enrollment and recovery
/// codes, the console's tokens and the whole audit log, read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Durable {
    pub user: String,
    pub enrollment: Option<TotpEnrollment>,
    pub recovery_codes_left: i64,
    pub tokens: Vec<IssuedToken>,
    pub audit: Vec<AuditEntry>,
}

impl Durable {
    /// Reads it all from the store at `url`.
    pub fn read(url: &str, user: &str) -> Durable {
        Durable {
            user: user.to_owned(),
            enrollment: totp_enrollment(url, user),
            recovery_codes_left: recovery_codes_left(url, user),
            tokens: issued_tokens(url),
            audit: audit_log_all(url),
        }
    }

    /// What of `self` (read earlier) `now` no longer has, one line each;
    /// empty when nothing was lost. Audit entries may only have been added,
    /// and recovery codes only used by the caller, so `codes_used` says how
    /// many it used in between.
    pub fn lost_in(&self, now: &Durable, codes_used: i64) -> Vec<String> {
        let mut lost = Vec::new();
        if self.enrollment != now.enrollment {
            lost.push(format!(
                "{}'s enrollment changed: {:?} became {:?}",
                self.user, self.enrollment, now.enrollment
            ));
        }
        if now.recovery_codes_left != self.recovery_codes_left - codes_used {
            lost.push(format!(
                "{} had {} recovery codes, used {codes_used}, and has {}",
                self.user, self.recovery_codes_left, now.recovery_codes_left
            ));
        }
        for token in &self.tokens {
            if !now.tokens.contains(token) {
                lost.push(format!("console token {:?} is gone or changed", token.name));
            }
        }
        for entry in &self.audit {
            if !now.audit.contains(entry) {
                lost.push(format!("audit entry lost: {entry:?}"));
            }
        }
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Postgres;

    fn entry(event: &str) -> AuditEntry {
        AuditEntry {
            at_ms: now_ms(),
            username: Some("alice".to_owned()),
            ip: None,
            event: event.to_owned(),
            outcome: "ok".to_owned(),
            detail: None,
            proof: None,
        }
    }

    /// The chaos tests kill PostgreSQL like a crash; what was committed
    /// before must be read back after it restarts on the same data.
    #[test]
    fn committed_entries_survive_a_postgresql_kill() {
        let postgres = Postgres::start();
        let url = postgres.create_database("gatehouse");
        let written = [entry("login"), entry("mfa_enrolled")];
        write_audit(&url, &written);
        let before = Durable::read(&url, "alice");
        assert_eq!(before.audit, written);

        postgres.kill();
        postgres.restart();
        let after = Durable::read(&url, "alice");
        assert_eq!(before.lost_in(&after, 0), Vec::<String>::new());
        let mut changed = after.clone();
        changed.audit.pop();
        assert_eq!(before.lost_in(&changed, 0).len(), 1, "a loss is reported");
    }
}
