//! Connecting, migrating, restarting and settings.

use super::{connect, T0};
use crate::store::{AuditEntry, Device};

on_both_backends!(
    migrations_are_idempotent,
    data_survives_a_restart,
    setting_insert_if_absent_keeps_the_first_value,
    setting_put_replaces_the_value_for_every_replica,
);

async fn migrations_are_idempotent(url: String) {
    let first = connect(&url).await;
    first.ping().await.unwrap();
    assert!(first.setting_insert_if_absent("k", "v").await.is_ok());
    // A second replica (or a restart) runs the migrations again: a no-op.
    let second = connect(&url).await;
    let third = connect(&url).await;
    assert_eq!(second.setting("k").await.unwrap().as_deref(), Some("v"));
    assert_eq!(third.setting("k").await.unwrap().as_deref(), Some("v"));
    first.close().await;
    second.close().await;
    third.close().await;
}

async fn data_survives_a_restart(url: String) {
    let store = connect(&url).await;
    assert!(store.totp_begin("alice", "sealed-1", T0).await.unwrap());
    assert!(store.totp_confirm("alice", T0 + 1).await.unwrap());
    let hashes = vec!["h1".to_owned(), "h2".to_owned()];
    store.recovery_replace("alice", &hashes, T0).await.unwrap();
    assert!(store.recovery_consume("alice", "h1", T0 + 2).await.unwrap());
    store
        .device_add(&Device {
            id: "dev-1".into(),
            username: "alice".into(),
            label: "Firefox".into(),
            created_at: T0,
            expires_at: T0 + 1_000_000,
            last_used_at: None,
        })
        .await
        .unwrap();
    let entry = AuditEntry {
        at_ms: T0,
        username: Some("alice".into()),
        ip: Some("192.0.2.1".into()),
        event: "mfa_enrolled".into(),
        outcome: "ok".into(),
        detail: None,
        proof: None,
    };
    store.audit(&entry).await.unwrap();
    store
        .setting_insert_if_absent("secret", "s3")
        .await
        .unwrap();
    store.close().await;

    let store = connect(&url).await;
    let enrollment = store.totp_get("alice").await.unwrap().expect("enrollment");
    assert_eq!(enrollment.secret_sealed, "sealed-1");
    assert_eq!(enrollment.confirmed_at, Some(T0 + 1));
    assert_eq!(store.recovery_remaining("alice").await.unwrap(), 1);
    assert!(!store.recovery_consume("alice", "h1", T0 + 3).await.unwrap());
    assert!(store
        .device_is_valid("alice", "dev-1", T0 + 5, 0)
        .await
        .unwrap());
    assert_eq!(store.audit_recent(None, 10).await.unwrap(), vec![entry]);
    assert_eq!(
        store.setting("secret").await.unwrap().as_deref(),
        Some("s3")
    );
    assert_eq!(
        store.factor_overview(T0 + 5).await.unwrap()["alice"].totp_confirmed_at,
        Some(T0 + 1)
    );
    store.close().await;
}

async fn setting_insert_if_absent_keeps_the_first_value(url: String) {
    let store = connect(&url).await;
    assert_eq!(store.setting("cookie_key").await.unwrap(), None);
    let first = store
        .setting_insert_if_absent("cookie_key", "first")
        .await
        .unwrap();
    assert_eq!(first, "first");
    // A second replica starting at the same time agrees on the first value.
    let other = connect(&url).await;
    let second = other
        .setting_insert_if_absent("cookie_key", "second")
        .await
        .unwrap();
    assert_eq!(second, "first");
    assert_eq!(
        store.setting("cookie_key").await.unwrap().as_deref(),
        Some("first")
    );
    // Racing inserts of a new key all see one winner.
    let racers = (0..8).map(|i| {
        let store = store.clone();
        async move {
            store
                .setting_insert_if_absent("raced", &format!("v{i}"))
                .await
                .unwrap()
        }
    });
    let seen = futures_join_all(racers).await;
    assert!(seen.iter().all(|v| v == &seen[0]), "{seen:?}");
    store.close().await;
    other.close().await;
}

/// Runs futures concurrently on tasks (no `futures` crate in the tree).
pub(super) async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

async fn setting_put_replaces_the_value_for_every_replica(url: String) {
    let store = connect(&url).await;
    let other = connect(&url).await;
    store.setting_put("mfa.enforce", "true").await.unwrap();
    assert_eq!(
        other.setting("mfa.enforce").await.unwrap().as_deref(),
        Some("true")
    );
    other.setting_put("mfa.enforce", "false").await.unwrap();
    assert_eq!(
        store.setting("mfa.enforce").await.unwrap().as_deref(),
        Some("false")
    );
    store.close().await;
    other.close().await;
}
