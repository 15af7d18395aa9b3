use std::sync::Arc;

use sha2::{Digest, Sha256};
use tempfile::TempDir;

use super::*;
use crate::config::tests::GOOD_HASH;
use crate::durable::LazyStore;
use crate::tokens::TokenSet;

/// A config with app `wiki` (and `git` when `with_git`), token `ci` (or
/// `cd`) and `listen` on `port`.
fn config(dir: &TempDir, port: u16, with_git: bool, token: &str) -> String {
    let git = if with_git {
        "  - name: git\n    host: git.example.com\n    upstream: \"127.0.0.1:3001\"\n"
    } else {
        ""
    };
    format!(
        "listen: \"127.0.0.1:{port}\"\nstore:\n  url: \"sqlite://{}\"\n\
         users:\n  file: users.yaml\n\
         apps:\n  - name: wiki\n    upstream: \"127.0.0.1:3000\"\n{git}\
         service_tokens:\n  - name: {token}\n    token_sha256: \"{}\"\n",
        dir.path().join("g.db").display(),
        hex::encode(Sha256::digest(format!("{token}-secret").as_bytes())),
    )
}

/// The config file, its settings as started, and the live copy built from it.
fn started() -> (TempDir, PathBuf, Settings, Live) {
    let dir = tempfile::tempdir().unwrap();
    let users = format!("users:\n  alice:\n    password: \"{GOOD_HASH}\"\n");
    std::fs::write(dir.path().join("users.yaml"), users).unwrap();
    let path = dir.path().join("gatehouse.yaml");
    std::fs::write(&path, config(&dir, 8080, false, "ci")).unwrap();
    let settings = Settings::load(&path).unwrap();
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    let store = Arc::new(LazyStore::new(&url));
    let tokens = TokenSet::new(&settings.service_tokens, store);
    let live = Live::new(settings.apps.clone(), tokens).unwrap();
    (dir, path, settings, live)
}

fn refused() -> u64 {
    METRICS.config_reloads.with_label_values(&["refused"]).get()
}

#[tokio::test]
async fn a_valid_file_brings_new_apps_and_tokens() {
    let (dir, path, running, live) = started();
    std::fs::write(&path, config(&dir, 8080, true, "cd")).unwrap();
    let Outcome::Applied(next, defaults) = read(&path, &running, &live) else {
        panic!("refused");
    };
    assert_eq!(defaults.config_floor.mfa, None);
    let names: Vec<&str> = next.apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["wiki", "git"]);
    assert_eq!(next.pools.len(), 2);
    assert!(next.is_app_host("git.example.com"));
    let routed = next.router.route(Some("git.example.com"), "/x").unwrap();
    assert_eq!(routed.app, 1);
    assert!(
        next.tokens.find("cd-secret").await.is_some(),
        "the new token"
    );
    assert!(next.tokens.find("ci-secret").await.is_none(), "the old one");
    assert!(
        live.tokens.find("ci-secret").await.is_some(),
        "old copy as was"
    );
}

#[test]
fn a_broken_file_is_refused_and_counted() {
    let (_dir, path, running, live) = started();
    std::fs::write(&path, "apps:\n  - name: wiki\n    policy: maybe\n").unwrap();
    let before = refused();
    assert!(matches!(read(&path, &running, &live), Outcome::Refused));
    assert!(refused() > before);

    std::fs::remove_file(&path).unwrap();
    assert!(matches!(read(&path, &running, &live), Outcome::Refused));
}

#[test]
fn an_upstream_that_does_not_resolve_is_refused() {
    let (dir, path, running, live) = started();
    let text = config(&dir, 8080, false, "ci").replace("127.0.0.1:3000", "nowhere.invalid:80");
    std::fs::write(&path, text).unwrap();
    assert!(matches!(read(&path, &running, &live), Outcome::Refused));
}

#[test]
fn restart_only_keys_are_named_and_the_rest_still_applies() {
    let (dir, path, running, live) = started();
    let text = config(&dir, 8081, true, "ci")
        + "sessions:\n  cookie_name: other\nmfa:\n  enforce: true\n  issuer: Other\n";
    std::fs::write(&path, text).unwrap();
    let new = Settings::load(&path).unwrap();
    assert_eq!(
        restart::changed(&running, &new),
        ["listen", "sessions.cookie_name", "mfa.issuer"]
    );
    assert!(restart::changed(&running, &running).is_empty());
    let Outcome::Applied(next, defaults) = read(&path, &running, &live) else {
        panic!("refused");
    };
    assert_eq!(
        defaults.config_floor.mfa,
        Some(crate::policy::MfaMode::Required),
        "mfa.enforce applies"
    );
    assert_eq!(next.apps.len(), 2, "the apps apply");
}
