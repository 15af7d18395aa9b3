//! Console-created service tokens.

use super::{connect, T0};
use crate::store::{IssuedToken, PreviousToken, Replacement, StoreError};

on_both_backends!(
    tokens_are_created_listed_touched_and_revoked,
    a_token_name_or_hash_is_never_taken_twice,
    a_replaced_token_keeps_its_name_app_and_lifetime_and_its_old_hash_a_while,
);

fn token(name: &str, byte: u8) -> IssuedToken {
    IssuedToken {
        name: name.to_owned(),
        sha256: [byte; 32],
        app: None,
        created_at: T0,
        created_by: "alice".to_owned(),
        expires_at: None,
        previous: None,
    }
}

async fn tokens_are_created_listed_touched_and_revoked(url: String) {
    let store = connect(&url).await;
    assert!(store.tokens_list().await.unwrap().is_empty());
    let ci = IssuedToken {
        app: Some("wiki".to_owned()),
        expires_at: Some(T0 + 1_000),
        ..token("ci", 7)
    };
    assert!(store.token_insert(&token("backup", 9)).await.unwrap());
    assert!(store.token_insert(&ci).await.unwrap());
    assert_eq!(
        store.tokens_list().await.unwrap(),
        vec![token("backup", 9), ci.clone()],
        "listed by name, every field as written"
    );
    assert!(store.token_delete("ci").await.unwrap());
    assert!(!store.token_delete("ci").await.unwrap());
    assert_eq!(store.tokens_list().await.unwrap(), vec![token("backup", 9)]);
    store.close().await;
}

async fn a_token_name_or_hash_is_never_taken_twice(url: String) {
    let store = connect(&url).await;
    assert!(store.token_insert(&token("ci", 1)).await.unwrap());
    assert!(
        !store.token_insert(&token("ci", 2)).await.unwrap(),
        "same name"
    );
    assert!(
        !store.token_insert(&token("cd", 1)).await.unwrap(),
        "same hash"
    );
    assert_eq!(store.tokens_list().await.unwrap(), vec![token("ci", 1)]);
    // A hash that isn't 64 hex digits is reported, not mistaken for a token.
    sqlx::query("UPDATE service_tokens SET token_sha256 = 'zz' WHERE name = 'ci'")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        store.tokens_list().await,
        Err(StoreError::Corrupt { .. })
    ));
    store.close().await;
}

async fn a_replaced_token_keeps_its_name_app_and_lifetime_and_its_old_hash_a_while(url: String) {
    let store = connect(&url).await;
    const DAY: i64 = 86_400_000;
    // A 90-day token limited to wiki, replaced 10 days in, by bob.
    let ci = IssuedToken {
        app: Some("wiki".to_owned()),
        expires_at: Some(T0 + 90 * DAY),
        ..token("ci", 1)
    };
    store.token_insert(&ci).await.unwrap();
    store.token_insert(&token("forever", 5)).await.unwrap();
    let replace = |name, byte, now_ms, previous_until| Replacement {
        name,
        sha256: [byte; 32],
        by: "bob",
        now_ms,
        previous_until,
    };
    let now = T0 + 10 * DAY;
    assert!(store
        .token_replace(&replace("ci", 2, now, Some(now + DAY)))
        .await
        .unwrap());
    let listed = store.tokens_list().await.unwrap();
    assert_eq!(
        listed[0],
        IssuedToken {
            name: "ci".to_owned(),
            sha256: [2; 32],
            app: Some("wiki".to_owned()),
            created_at: now,
            created_by: "bob".to_owned(),
            expires_at: Some(now + 90 * DAY),
            previous: Some(PreviousToken {
                sha256: [1; 32],
                until: now + DAY,
            }),
        }
    );
    // Replacing again: the first hash is gone, the second is the old one.
    // An old one never outlives its own expiry.
    let later = now + 90 * DAY - 1_000;
    assert!(store
        .token_replace(&replace("ci", 3, later, Some(later + DAY)))
        .await
        .unwrap());
    let ci = &store.tokens_list().await.unwrap()[0];
    assert_eq!(ci.sha256, [3; 32]);
    assert_eq!(
        ci.previous,
        Some(PreviousToken {
            sha256: [2; 32],
            until: now + 90 * DAY,
        })
    );
    // Ending the old one, once; a token that never expires stays so.
    assert!(store.token_end_previous("ci").await.unwrap());
    assert!(!store.token_end_previous("ci").await.unwrap());
    assert_eq!(store.tokens_list().await.unwrap()[0].previous, None);
    assert!(store
        .token_replace(&replace("forever", 6, now, None))
        .await
        .unwrap());
    let forever = &store.tokens_list().await.unwrap()[1];
    assert_eq!((forever.sha256, forever.expires_at), ([6; 32], None));
    assert_eq!(forever.previous, None, "ended at once when asked");
    // No such token; and the old hash can't be taken by a new token's.
    assert!(!store
        .token_replace(&replace("nobody", 7, now, Some(now)))
        .await
        .unwrap());
    assert!(!store.token_insert(&token("dup", 3)).await.unwrap());
    store.close().await;
}
