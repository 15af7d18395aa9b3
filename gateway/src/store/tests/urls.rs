//! Store URLs: schemes, redaction, in-memory SQLite.

use crate::store::{redact_url, Backend, Store, StoreError};

#[test]
fn redact_url_hides_passwords() {
    assert_eq!(
        redact_url("postgres://gh:s3cret@db:5432/gatehouse"),
        "postgres://gh:***@db:5432/gatehouse"
    );
    assert_eq!(
        redact_url("postgresql://db/gatehouse?user=gh&password=s3cret&sslmode=require"),
        "postgresql://db/gatehouse?user=gh&password=***&sslmode=require"
    );
    assert_eq!(redact_url("postgres://gh@db/x"), "postgres://gh@db/x");
    assert_eq!(
        redact_url("sqlite:///var/lib/gh.db"),
        "sqlite:///var/lib/gh.db"
    );
}

#[tokio::test]
async fn unsupported_scheme_is_refused_with_the_redacted_url() {
    let err = Store::connect("mysql://root:hunter2@db/x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("mysql://root:***@db/x"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn connect_error_names_the_url_without_its_password() {
    // An impossible port fails at once; an unreachable server is retried
    // for the acquire timeout (handy while PostgreSQL boots) and then fails
    // with the same variant.
    let err = Store::connect("postgres://gh:hunter2@127.0.0.1:99999/x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Connect { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("gh:***@127.0.0.1:99999"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn sqlite_file_is_created_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = Store::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    assert!(path.is_file());
    assert_eq!(store.backend(), Backend::Sqlite);
    store.close().await;
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_across_queries() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    assert!(store.totp_begin("quinn", "s", 1).await.unwrap());
    for _ in 0..3 {
        assert!(store.totp_get("quinn").await.unwrap().is_some());
    }
}
