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
