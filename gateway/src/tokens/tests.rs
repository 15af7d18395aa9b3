use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::*;

fn config_token(name: &str, token: &str) -> ServiceToken {
    ServiceToken {
        name: name.into(),
        sha256: Sha256::digest(token.as_bytes()).into(),
    }
}

/// Two replicas' token sets over one SQLite store, with config token `ci`
/// and apps `wiki` and `git`.
struct Replicas {
    _dir: tempfile::TempDir,
    a: TokenSet,
    b: TokenSet,
    /// Replica a's store.
    a_store: Arc<LazyStore>,
}

fn replicas() -> Replicas {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    let set = |store: &Arc<LazyStore>| {
        TokenSet::new(&[config_token("ci", "config-secret")], store.clone())
    };
    let a_store = Arc::new(LazyStore::new(&url));
    Replicas {
        a: set(&a_store),
        b: set(&Arc::new(LazyStore::new(&url))),
        a_store,
        _dir: dir,
    }
}

fn new_token<'a>(name: &'a str, app: Option<&'a str>, expires_at_ms: Option<i64>) -> NewToken<'a> {
    NewToken {
        name,
        app,
        expires_at_ms,
        created_by: "alice",
        now_ms: crate::session::now_ms() as i64,
    }
}

#[tokio::test]
async fn only_the_exact_token_matches() {
    let r = replicas();
    let found = r.a.find("config-secret").await;
    assert_eq!(found.map(|e| e.name.clone()).as_deref(), Some("ci"));
    assert!(r.a.find("config-secret ").await.is_none());
    assert!(r.a.find("").await.is_none());
}

#[tokio::test]
async fn token_use_is_audited_once_per_interval() {
    let r = replicas();
    let entry = r.a.find("config-secret").await.unwrap();
    assert!(entry.audit_due(1_000_000));
    assert!(!entry.audit_due(1_000_001));
    assert!(entry.audit_due(1_000_000 + AUDIT_EVERY_MS));
}

#[test]
fn config_tokens_follow_app_lists_and_console_tokens_stay_off_listed_apps() {
    let entry = |reach| TokenEntry::new("ci", [0; 32], reach, None).unwrap();
    let listed = ["ci".to_owned()];
    let others = ["cd".to_owned()];
    let config = entry(Reach::Config);
    assert!(config.may_reach("wiki", None));
    assert!(config.may_reach("wiki", Some(&listed)));
    assert!(!config.may_reach("wiki", Some(&others)));
    let everywhere = entry(Reach::Console(None));
    assert!(everywhere.may_reach("wiki", None));
    assert!(everywhere.may_reach("git", None));
    assert!(
        !everywhere.may_reach("wiki", Some(&listed)),
        "an app whose tokens ops pinned takes no console token, even by name"
    );
    let one = entry(Reach::Console(Some("git".into())));
    assert!(one.may_reach("git", None));
    assert!(!one.may_reach("wiki", None));
}

#[tokio::test]
async fn a_console_token_works_on_every_replica_until_revoked() {
    let r = replicas();
    let token =
        r.a.issue(new_token("backup", Some("git"), None))
            .await
            .unwrap();
    assert!(token.starts_with("gatehouse_") && token.len() == "gatehouse_".len() + 43);
    let here =
        r.a.find(&token)
            .await
            .expect("works at once where it was made");
    assert_eq!(here.name, "backup");
    assert_eq!(here.identity.user, "service:backup");
    assert!(here.may_reach("git", None) && !here.may_reach("wiki", None));
    // The other replica has never read the store: an unknown token makes it.
    assert!(r.b.find(&token).await.is_some(), "works on another replica");

    assert!(r.a.issued().revoke("backup").await.unwrap());
    assert!(r.a.find(&token).await.is_none(), "revoked here at once");
    // Replica b is served from its copy until that copy ages; then one
    // request starts a re-read and the token stops working.
    assert!(r.b.find(&token).await.is_some());
    r.b.issued.age_copy();
    r.b.find(&token).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while r.b.find(&token).await.is_some() {
        assert!(std::time::Instant::now() < deadline, "still accepted on b");
        tokio::task::yield_now().await;
    }
    assert!(
        !r.a.issued().revoke("backup").await.unwrap(),
        "already gone"
    );
}

#[tokio::test]
async fn a_name_is_never_given_twice() {
    let r = replicas();
    assert!(matches!(
        r.a.issue(new_token("ci", None, None)).await,
        Err(IssueError::NameInConfig)
    ));
    let first = r.a.issue(new_token("deploy", None, None)).await.unwrap();
    assert!(matches!(
        r.b.issue(new_token("deploy", None, None)).await,
        Err(IssueError::NameTaken)
    ));
    assert!(
        r.a.find(&first).await.is_some(),
        "the first one still works"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let r = replicas();
    let past = crate::session::now_ms() as i64 - 1;
    let future = past + 3_600_000;
    let old = r.a.issue(new_token("old", None, Some(past))).await.unwrap();
    let live =
        r.a.issue(new_token("live", None, Some(future)))
            .await
            .unwrap();
    assert!(r.a.find(&old).await.is_none());
    assert!(r.a.find(&live).await.is_some());
    assert_eq!(
        r.a.issued().list().await.unwrap().len(),
        2,
        "expired tokens stay listed until revoked"
    );
}

#[tokio::test]
async fn an_unreachable_store_keeps_the_known_tokens() {
    let r = replicas();
    let token = r.a.issue(new_token("backup", None, None)).await.unwrap();
    r.a_store.get().await.unwrap().close().await;
    r.a.issued.age_copy();
    assert!(
        r.a.find(&token).await.is_some(),
        "an outage doesn't revoke tokens"
    );
    assert!(r.a.find("gatehouse_unknown").await.is_none());
    // No read is left holding the lock: another one gets through.
    r.a.issued().reload().await;
    assert!(r.a.find(&token).await.is_some());
}

#[tokio::test]
async fn a_replaced_token_works_beside_the_new_one_until_ended() {
    let r = replicas();
    let old =
        r.a.issue(new_token("backup", Some("git"), None))
            .await
            .unwrap();
    let now = crate::session::now_ms() as i64;
    let (new, stored) =
        r.a.issued()
            .replace("backup", "bob", now)
            .await
            .unwrap()
            .expect("a console token");
    assert_ne!(new, old);
    assert_eq!(
        stored.previous.map(|p| p.until),
        Some(now + REPLACED_WORKS_FOR.as_millis() as i64)
    );
    for (token, replaced) in [(&new, false), (&old, true)] {
        let entry = r.a.find(token).await.expect("both work");
        assert_eq!(entry.identity.user, "service:backup", "one name for both");
        assert_eq!(entry.replaced, replaced);
        assert!(entry.may_reach("git", None) && !entry.may_reach("wiki", None));
    }
    assert!(r.b.find(&new).await.is_some(), "on another replica too");
    // The old one stops when its day is over.
    let after = (now as u64) + REPLACED_WORKS_FOR.as_millis() as u64;
    assert!(r.a.issued.find(&sha(&old), after).await.is_none());
    assert!(r.a.issued.find(&sha(&new), after).await.is_some());

    assert!(r.a.issued().end_replaced("backup").await.unwrap());
    assert!(r.a.find(&old).await.is_none(), "ended here at once");
    assert!(r.a.find(&new).await.is_some());
    assert!(!r.a.issued().end_replaced("backup").await.unwrap());
    // Config tokens and unknown names can't be replaced here.
    for name in ["ci", "nobody"] {
        assert!(r
            .a
            .issued()
            .replace(name, "bob", now)
            .await
            .unwrap()
            .is_none());
    }
}

#[tokio::test]
async fn replacing_again_ends_the_first_secret_at_once() {
    let r = replicas();
    let first = r.a.issue(new_token("backup", None, None)).await.unwrap();
    let now = crate::session::now_ms() as i64;
    let replace = || async {
        r.a.issued()
            .replace("backup", "bob", now)
            .await
            .unwrap()
            .expect("a console token")
            .0
    };
    let second = replace().await;
    let third = replace().await;
    assert!(
        r.a.find(&first).await.is_none(),
        "only the secret just replaced keeps its grace"
    );
    let old =
        r.a.find(&second)
            .await
            .expect("the one just replaced works");
    assert!(old.replaced);
    assert!(!r.a.find(&third).await.expect("the new one works").replaced);
}

#[tokio::test]
async fn revoking_a_replaced_token_ends_the_old_and_the_new() {
    let r = replicas();
    let old = r.a.issue(new_token("backup", None, None)).await.unwrap();
    let now = crate::session::now_ms() as i64;
    let (new, _) =
        r.a.issued()
            .replace("backup", "bob", now)
            .await
            .unwrap()
            .unwrap();
    assert!(r.a.issued().revoke("backup").await.unwrap());
    assert!(r.a.find(&old).await.is_none());
    assert!(r.a.find(&new).await.is_none());
}

fn sha(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
