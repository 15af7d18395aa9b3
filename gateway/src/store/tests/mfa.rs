//! TOTP enrollments and recovery codes.

use super::basics::futures_join_all;
use super::{connect, T0};

on_both_backends!(
    totp_begin_confirm_delete,
    confirmed_enrollment_is_not_overwritten_by_begin,
    pending_enrollment_is_replaced_by_begin,
    recovery_codes_are_single_use,
    recovery_code_is_used_once_under_a_race,
    recovery_replace_invalidates_old_codes,
    factor_overview_counts_each_users_factors,
);

async fn totp_begin_confirm_delete(url: String) {
    let store = connect(&url).await;
    assert_eq!(store.totp_get("bob").await.unwrap(), None);
    assert!(
        !store.totp_confirm("bob", T0).await.unwrap(),
        "nothing pending"
    );

    assert!(store.totp_begin("bob", "sealed", T0).await.unwrap());
    let pending = store.totp_get("bob").await.unwrap().unwrap();
    assert_eq!(pending.secret_sealed, "sealed");
    assert_eq!(pending.created_at, T0);
    assert!(!pending.is_confirmed());

    assert!(store.totp_confirm("bob", T0 + 10).await.unwrap());
    let confirmed = store.totp_get("bob").await.unwrap().unwrap();
    assert_eq!(confirmed.confirmed_at, Some(T0 + 10));
    assert!(confirmed.is_confirmed());
    assert!(
        !store.totp_confirm("bob", T0 + 20).await.unwrap(),
        "already confirmed"
    );
    assert_eq!(
        store.totp_get("bob").await.unwrap().unwrap().confirmed_at,
        Some(T0 + 10)
    );

    assert!(store.totp_delete("bob").await.unwrap());
    assert_eq!(store.totp_get("bob").await.unwrap(), None);
    assert!(!store.totp_delete("bob").await.unwrap());
    store.close().await;
}

async fn confirmed_enrollment_is_not_overwritten_by_begin(url: String) {
    let store = connect(&url).await;
    assert!(store.totp_begin("carol", "original", T0).await.unwrap());
    assert!(store.totp_confirm("carol", T0 + 1).await.unwrap());
    assert!(!store.totp_begin("carol", "attacker", T0 + 2).await.unwrap());
    let kept = store.totp_get("carol").await.unwrap().unwrap();
    assert_eq!(kept.secret_sealed, "original");
    assert_eq!(kept.created_at, T0);
    assert_eq!(kept.confirmed_at, Some(T0 + 1));
    store.close().await;
}

async fn pending_enrollment_is_replaced_by_begin(url: String) {
    let store = connect(&url).await;
    assert!(store.totp_begin("dave", "first", T0).await.unwrap());
    assert!(store.totp_begin("dave", "second", T0 + 5).await.unwrap());
    let pending = store.totp_get("dave").await.unwrap().unwrap();
    assert_eq!(pending.secret_sealed, "second");
    assert_eq!(pending.created_at, T0 + 5);
    assert_eq!(pending.confirmed_at, None);
    store.close().await;
}

fn hashes(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:02}")).collect()
}

async fn recovery_codes_are_single_use(url: String) {
    let store = connect(&url).await;
    store
        .recovery_replace("erin", &hashes("a", 10), T0)
        .await
        .unwrap();
    assert_eq!(store.recovery_remaining("erin").await.unwrap(), 10);
    assert!(store
        .recovery_consume("erin", "a-03", T0 + 1)
        .await
        .unwrap());
    assert!(!store
        .recovery_consume("erin", "a-03", T0 + 2)
        .await
        .unwrap());
    assert_eq!(store.recovery_remaining("erin").await.unwrap(), 9);
    // Unknown codes and other users' codes do nothing.
    assert!(!store.recovery_consume("erin", "nope", T0).await.unwrap());
    assert!(!store.recovery_consume("frank", "a-04", T0).await.unwrap());
    assert_eq!(store.recovery_remaining("frank").await.unwrap(), 0);

    store.recovery_delete_all("erin").await.unwrap();
    assert_eq!(store.recovery_remaining("erin").await.unwrap(), 0);
    assert!(!store.recovery_consume("erin", "a-04", T0).await.unwrap());
    store.close().await;
}

async fn recovery_code_is_used_once_under_a_race(url: String) {
    let store = connect(&url).await;
    store
        .recovery_replace("gina", &hashes("r", 3), T0)
        .await
        .unwrap();
    let racers = (0..8).map(|i| {
        let store = store.clone();
        async move {
            store
                .recovery_consume("gina", "r-01", T0 + i)
                .await
                .unwrap()
        }
    });
    let wins = futures_join_all(racers).await;
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{wins:?}");
    assert_eq!(store.recovery_remaining("gina").await.unwrap(), 2);
    store.close().await;
}

async fn recovery_replace_invalidates_old_codes(url: String) {
    let store = connect(&url).await;
    store
        .recovery_replace("hank", &hashes("old", 10), T0)
        .await
        .unwrap();
    assert!(store.recovery_consume("hank", "old-00", T0).await.unwrap());
    store
        .recovery_replace("hank", &hashes("new", 10), T0 + 1)
        .await
        .unwrap();
    assert_eq!(store.recovery_remaining("hank").await.unwrap(), 10);
    assert!(!store
        .recovery_consume("hank", "old-01", T0 + 2)
        .await
        .unwrap());
    assert!(store
        .recovery_consume("hank", "new-01", T0 + 2)
        .await
        .unwrap());
    // A failed replace (duplicate hash) rolls back: the current codes stay.
    let dup = vec!["x".to_owned(), "x".to_owned()];
    assert!(store.recovery_replace("hank", &dup, T0 + 3).await.is_err());
    assert_eq!(store.recovery_remaining("hank").await.unwrap(), 9);
    assert!(store
        .recovery_consume("hank", "new-02", T0 + 4)
        .await
        .unwrap());
    store.close().await;
}

async fn factor_overview_counts_each_users_factors(url: String) {
    let store = connect(&url).await;
    assert!(store.factor_overview(T0).await.unwrap().is_empty());
    for (user, t) in [("zed", T0 + 3), ("amy", T0 + 1), ("pending", T0)] {
        assert!(store.totp_begin(user, "s", T0).await.unwrap());
        if user != "pending" {
            assert!(store.totp_confirm(user, t).await.unwrap());
        }
    }
    let hashes: Vec<String> = ["h1", "h2", "h3"].map(String::from).to_vec();
    store.recovery_replace("amy", &hashes, T0).await.unwrap();
    assert!(store.recovery_consume("amy", "h2", T0 + 1).await.unwrap());
    for (id, expires_at) in [("d1", T0 + 10), ("d2", T0 + 1_000), ("d3", T0 + 2_000)] {
        store
            .device_add(&crate::store::Device {
                id: id.into(),
                username: "amy".into(),
                label: "browser".into(),
                created_at: T0,
                expires_at,
                last_used_at: None,
            })
            .await
            .unwrap();
    }
    for (user, outcome, at) in [
        ("amy", "ok", T0 + 5),
        ("amy", "ok", T0 + 50),
        ("amy", "failed", T0 + 60),
        ("bob", "failed", T0 + 7),
        ("carl", "ok", T0 + 8),
    ] {
        let entry = crate::store::AuditEntry {
            at_ms: at,
            username: Some(user.into()),
            ip: None,
            event: "login".into(),
            outcome: outcome.into(),
            detail: None,
            proof: None,
        };
        store.audit(&entry).await.unwrap();
    }

    let all = store.factor_overview(T0 + 100).await.unwrap();
    let amy = &all["amy"];
    assert_eq!(amy.totp_confirmed_at, Some(T0 + 1));
    assert!(!amy.totp_pending);
    assert_eq!(amy.recovery_remaining, 2, "one of three was used");
    assert_eq!(amy.devices, 2, "one device expired");
    assert_eq!(amy.last_sign_in, Some(T0 + 50), "failures don't count");
    assert_eq!(all["zed"].totp_confirmed_at, Some(T0 + 3));
    assert!(all["pending"].totp_pending);
    assert_eq!(all["pending"].totp_confirmed_at, None);
    assert_eq!(all["carl"].last_sign_in, Some(T0 + 8));
    assert!(
        !all.contains_key("bob"),
        "a failed sign-in is not a sign-in"
    );
    store.close().await;
}
