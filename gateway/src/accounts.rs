//! Who may sign in: the users file, as the gateway holds it.
//!
//! Ops edit the file to add someone, change a password or disable a user
//! who left, and expect that to apply without a restart (which, with memory
//! sessions, would sign everyone out). A background service reads the file
//! every [`CHECK_EVERY`] and swaps in the new users when its text changed.
//! A file that doesn't validate changes nothing: the users already loaded
//! stay, and each problem is logged once with its key.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::{ArcSwap, Guard};
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use crate::config::{parse_users_file, User};
use crate::identity::IdentityHeaders;
use crate::metrics::METRICS;
use crate::orgs::Organisations;

/// How often the users file is read for changes.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// A user as the request path needs them: the record and prebuilt headers.
pub struct Account {
    pub user: User,
    pub identity: IdentityHeaders,
}

/// The users by name.
pub type Directory = HashMap<String, Arc<Account>>;

/// The current users, and the file they come from.
pub struct Accounts {
    current: ArcSwap<Directory>,
    file: PathBuf,
    /// Where users may be placed: fixed while the process runs, so an
    /// edit naming an org that isn't configured is refused like any other
    /// mistake.
    orgs: Organisations,
    /// The file as last read, valid or not, so an unchanged file is
    /// neither parsed nor complained about again.
    seen: Mutex<Seen>,
}

enum Seen {
    Nothing,
    Text(String),
    Unreadable,
}

/// What a check of the users file found.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    Unchanged,
    /// The new users are in place; how many there are.
    Applied(usize),
    /// The file can't be read or doesn't validate; the users stay as they were.
    Refused,
}

impl Accounts {
    /// The users loaded with the config, from `file`, placed in `orgs`.
    pub fn new(file: PathBuf, users: &BTreeMap<String, User>, orgs: Organisations) -> Self {
        // The text the config was validated from isn't kept; the first
        // check reads it again and finds the same users.
        Self {
            current: ArcSwap::from_pointee(directory(users)),
            file,
            orgs,
            seen: Mutex::new(Seen::Nothing),
        }
    }

    /// The users now, for a lookup on the request path: no reference count
    /// is taken, so replicas' threads don't contend on one.
    pub fn load(&self) -> Guard<Arc<Directory>> {
        self.current.load()
    }

    pub fn get(&self, username: &str) -> Option<Arc<Account>> {
        self.current.load().get(username).cloned()
    }

    pub fn contains(&self, username: &str) -> bool {
        self.current.load().contains_key(username)
    }

    /// Every user, by name.
    pub fn sorted(&self) -> Vec<Arc<Account>> {
        let mut all: Vec<_> = self.current.load().values().cloned().collect();
        all.sort_by(|a, b| a.user.username.cmp(&b.user.username));
        all
    }

    /// Reads the users file and applies it if its text changed and it is valid.
    pub fn reload(&self) -> Reload {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(text) => text,
            Err(e) => {
                let mut seen = lock(&self.seen);
                // Complain once per disappearance, not once a second.
                if matches!(*seen, Seen::Unreadable) {
                    return Reload::Unchanged;
                }
                tracing::error!(
                    "users.file: cannot read {}: {e}; keeping the users loaded before",
                    self.file.display()
                );
                *seen = Seen::Unreadable;
                METRICS.users_reloads.with_label_values(&["refused"]).inc();
                return Reload::Refused;
            }
        };
        let mut seen = lock(&self.seen);
        if matches!(&*seen, Seen::Text(last) if *last == text) {
            return Reload::Unchanged;
        }
        let outcome = match parse_users_file(&text, &self.file, &self.orgs) {
            Ok(users) => {
                let next = directory(&users);
                let count = next.len();
                let changed = **self.current.load() != next;
                self.current.store(Arc::new(next));
                if changed {
                    tracing::info!(
                        "users.file: loaded {count} users from {}",
                        self.file.display()
                    );
                    METRICS.users_reloads.with_label_values(&["applied"]).inc();
                }
                Reload::Applied(count)
            }
            Err(e) => {
                tracing::error!("users file not applied, keeping the users loaded before: {e}");
                METRICS.users_reloads.with_label_values(&["refused"]).inc();
                Reload::Refused
            }
        };
        *seen = Seen::Text(text);
        outcome
    }
}

impl PartialEq for Account {
    fn eq(&self, other: &Self) -> bool {
        self.user == other.user
    }
}

fn directory(users: &BTreeMap<String, User>) -> Directory {
    users
        .values()
        .filter_map(|user| {
            // A name that can't be a header value was refused by validation.
            let identity = IdentityHeaders::for_user(user)?;
            let account = Account {
                user: user.clone(),
                identity,
            };
            Some((user.username.clone(), Arc::new(account)))
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps [`Accounts`] in step with the users file.
pub struct Watcher(pub Arc<Accounts>);

#[async_trait]
impl BackgroundService for Watcher {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut every = tokio::time::interval(CHECK_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = every.tick() => {
                    let accounts = self.0.clone();
                    // Reading the file is blocking I/O: keep it off the runtime.
                    let _ = tokio::task::spawn_blocking(move || accounts.reload()).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_users_str;
    use crate::orgs::OrgId;

    use crate::config::tests::GOOD_HASH as HASH;

    fn users_file(names: &[&str]) -> String {
        let mut text = String::from("users:\n");
        for name in names {
            text += &format!("  {name}:\n    password: \"{HASH}\"\n");
        }
        text
    }

    fn names(accounts: &Accounts) -> Vec<String> {
        let all = accounts.sorted();
        all.iter().map(|a| a.user.username.clone()).collect()
    }

    fn started(names: &[&str]) -> (tempfile::TempDir, Accounts) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users.yaml");
        let text = users_file(names);
        std::fs::write(&file, &text).unwrap();
        let users = load_users_str(&text).unwrap();
        (dir, Accounts::new(file, &users, Organisations::default()))
    }

    #[test]
    fn an_edited_file_is_applied_and_an_unchanged_one_left_alone() {
        let (dir, accounts) = started(&["alice", "bob"]);
        assert_eq!(accounts.reload(), Reload::Applied(2), "the first look");
        assert_eq!(accounts.reload(), Reload::Unchanged);

        std::fs::write(
            dir.path().join("users.yaml"),
            users_file(&["alice", "dave"]),
        )
        .unwrap();
        assert_eq!(accounts.reload(), Reload::Applied(2));
        assert_eq!(names(&accounts), ["alice", "dave"]);
        assert!(accounts.get("bob").is_none());
        assert!(accounts.contains("dave"));
    }

    #[test]
    fn a_broken_or_missing_file_keeps_the_users_and_is_reported_once() {
        let (dir, accounts) = started(&["alice"]);
        let file = dir.path().join("users.yaml");
        std::fs::write(&file, "users:\n  alice:\n    password: plain\n").unwrap();
        assert_eq!(accounts.reload(), Reload::Refused);
        assert_eq!(
            accounts.reload(),
            Reload::Unchanged,
            "one complaint per edit"
        );
        assert_eq!(names(&accounts), ["alice"]);

        std::fs::remove_file(&file).unwrap();
        assert_eq!(accounts.reload(), Reload::Refused);
        assert_eq!(accounts.reload(), Reload::Unchanged);
        assert_eq!(names(&accounts), ["alice"]);

        std::fs::write(&file, users_file(&["alice", "bob"])).unwrap();
        assert_eq!(accounts.reload(), Reload::Applied(2));
        assert_eq!(names(&accounts), ["alice", "bob"]);
    }

    #[test]
    fn an_edit_naming_an_unknown_org_is_refused_and_changes_nothing() {
        let (dir, _) = started(&["alice"]);
        let file = dir.path().join("users.yaml");
        let orgs = Organisations::new(&[("acme".to_string(), None)]);
        let users = load_users_str(&users_file(&["alice"])).unwrap();
        let accounts = Accounts::new(file.clone(), &users, orgs.clone());
        assert_eq!(accounts.reload(), Reload::Applied(1));

        let placed = |org: &str| format!("{}    org: {org}\n", users_file(&["alice"]));
        std::fs::write(&file, placed("initech")).unwrap();
        assert_eq!(accounts.reload(), Reload::Refused);
        assert_eq!(accounts.get("alice").map(|a| a.user.org), Some(OrgId::ROOT));

        std::fs::write(&file, placed("acme")).unwrap();
        assert_eq!(accounts.reload(), Reload::Applied(1));
        let org = accounts.get("alice").map(|a| a.user.org);
        assert_eq!(org, orgs.find("acme"));
    }
}
