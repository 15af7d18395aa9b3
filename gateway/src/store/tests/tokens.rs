//! Console-created service tokens.

use super::{connect, T0};
use crate::store::{IssuedToken, StoreError};

on_both_backends!(
    tokens_are_created_listed_touched_and_revoked,
    a_token_name_or_hash_is_never_taken_twice,
);

fn token(name: &str, byte: u8) -> IssuedToken {
    IssuedToken {
        name: name.to_owned(),
        sha256: [byte; 32],
        app: None,
        created_at: T0,
        created_by: "alice".to_owned(),
        expires_at: None,
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
