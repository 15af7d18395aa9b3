//! Tests against real files (and the shipped examples).

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

#[test]
fn shipped_example_config_is_valid() {
    let example = include_str!("../../../config/gatehouse.yaml");
    let users = include_str!("../../../config/users.yaml");
    let s = build_with(example, users).unwrap_or_else(|err| panic!("rejected:\n{err}"));
    assert!(!s.apps.is_empty());
    assert!(s.users.users.contains_key("alice"));
    let bob = s.users.users.get("bob").map(|bob| bob.org);
    assert_eq!(bob, s.organisations.find("example-eng"));
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-config-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, text).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn load_resolves_the_users_file_next_to_the_config_file() {
    let dir = TempDir::new();
    dir.write("users.yaml", &users_yaml());
    let config = dir.write("gatehouse.yaml", MINIMAL);
    let s = Settings::load(&config).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(s.users.file, dir.0.join("users.yaml"));
    assert!(s.users.users.contains_key("alice"));

    let users = load_users(&dir.0.join("users.yaml"), &Default::default()).expect("users");
    assert_eq!(users["alice"].username, "alice");
}

#[test]
fn load_reports_an_unreadable_config_file_by_path() {
    let dir = TempDir::new();
    let missing = dir.0.join("missing.yaml");
    let err = Settings::load(&missing).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    assert_eq!(
        err.lines(),
        vec![format!(
            "{}: cannot read: No such file or directory",
            missing.display()
        )]
    );
}

#[test]
fn load_reports_a_users_file_problem_with_the_file_name() {
    let dir = TempDir::new();
    dir.write("users.yaml", "users:\n  alice: [oops\n");
    let config = dir.write("gatehouse.yaml", MINIMAL);
    let lines = Settings::load(&config).unwrap_err().lines();
    let file = dir.0.join("users.yaml").display().to_string();
    assert!(
        lines.len() == 1 && lines[0].contains(&format!("in \"{file}\", line")),
        "{lines:?}"
    );
}
