//! Remembered devices and the audit log.

use super::{connect, T0};
use crate::store::{AuditCursor, AuditEntry, AuditFilter, Device};

on_both_backends!(
    device_is_valid_until_it_expires,
    devices_are_listed_newest_first_without_expired_ones,
    revoke_all_forgets_every_device_of_one_user,
    audit_round_trip_newest_first,
    audit_pages_filter_by_user_and_event_and_miss_nothing,
    audit_prune_deletes_only_entries_before_the_cutoff,
);

const DAY: i64 = 86_400_000;

fn device(id: &str, user: &str, created_at: i64) -> Device {
    Device {
        id: id.into(),
        username: user.into(),
        label: format!("browser {id}"),
        created_at,
        expires_at: created_at + 30 * DAY,
        last_used_at: None,
    }
}

async fn device_is_valid_until_it_expires(url: String) {
    let store = connect(&url).await;
    let d = device("d1", "ivy", T0);
    store.device_add(&d).await.unwrap();
    assert!(store
        .device_is_valid("ivy", "d1", T0 + DAY, 0)
        .await
        .unwrap());
    assert!(store
        .device_is_valid("ivy", "d1", d.expires_at - 1, 0)
        .await
        .unwrap());
    assert!(!store
        .device_is_valid("ivy", "d1", d.expires_at, 0)
        .await
        .unwrap());
    // One made before `not_before` (an organisation's shorter setting) is refused.
    assert!(!store
        .device_is_valid("ivy", "d1", T0 + DAY, T0 + 1)
        .await
        .unwrap());
    assert!(store
        .device_is_valid("ivy", "d1", T0 + DAY, T0)
        .await
        .unwrap());
    // Bound to its user, and unknown ids are refused.
    assert!(!store
        .device_is_valid("jack", "d1", T0 + 1, 0)
        .await
        .unwrap());
    assert!(!store.device_is_valid("ivy", "d2", T0 + 1, 0).await.unwrap());
    // The last successful check is recorded.
    let listed = store.devices_list("ivy", T0).await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(T0 + DAY));
    assert_eq!(store.devices_purge_expired(d.expires_at).await.unwrap(), 1);
    assert!(store.devices_list("ivy", T0).await.unwrap().is_empty());
    store.close().await;
}

async fn devices_are_listed_newest_first_without_expired_ones(url: String) {
    let store = connect(&url).await;
    let mut old = device("old", "kim", T0);
    old.expires_at = T0 + DAY;
    for d in [
        &old,
        &device("mid", "kim", T0 + 10),
        &device("new", "kim", T0 + 20),
    ] {
        store.device_add(d).await.unwrap();
    }
    store
        .device_add(&device("other", "lee", T0 + 30))
        .await
        .unwrap();
    let ids = |list: Vec<Device>| list.into_iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.devices_list("kim", T0 + 100).await.unwrap()),
        ["new", "mid", "old"]
    );
    assert_eq!(
        ids(store.devices_list("kim", T0 + 2 * DAY).await.unwrap()),
        ["new", "mid"]
    );
    let listed = store.devices_list("kim", T0 + 100).await.unwrap();
    assert_eq!(listed[0], device("new", "kim", T0 + 20));
    store.close().await;
}

async fn revoke_all_forgets_every_device_of_one_user(url: String) {
    let store = connect(&url).await;
    for d in [
        device("a", "mia", T0),
        device("b", "mia", T0 + 1),
        device("c", "ned", T0),
    ] {
        store.device_add(&d).await.unwrap();
    }
    assert_eq!(store.devices_revoke_all("mia").await.unwrap(), 2);
    assert!(!store.device_is_valid("mia", "a", T0 + 5, 0).await.unwrap());
    assert!(!store.device_is_valid("mia", "b", T0 + 5, 0).await.unwrap());
    assert!(store.devices_list("mia", T0).await.unwrap().is_empty());
    assert!(store.device_is_valid("ned", "c", T0 + 5, 0).await.unwrap());
    assert_eq!(store.devices_revoke_all("mia").await.unwrap(), 0);
    store.close().await;
}

fn entry(at_ms: i64, user: Option<&str>, event: &str) -> AuditEntry {
    AuditEntry {
        at_ms,
        username: user.map(str::to_owned),
        ip: Some("2001:db8::1".into()),
        event: event.into(),
        outcome: "ok".into(),
        detail: Some(format!("detail of {event}")),
        proof: None,
    }
}

async fn audit_round_trip_newest_first(url: String) {
    let store = connect(&url).await;
    assert!(store.audit_recent(None, 10).await.unwrap().is_empty());
    let anonymous = AuditEntry {
        at_ms: T0 + 2,
        username: None,
        ip: None,
        event: "login".into(),
        outcome: "failed".into(),
        detail: None,
        proof: None,
    };
    let written = [
        entry(T0, Some("olga"), "first"),
        entry(T0 + 5, Some("olga"), "same_ms_a"),
        entry(T0 + 5, Some("olga"), "same_ms_b"),
        entry(T0 + 1, Some("pete"), "pete"),
        anonymous.clone(),
    ];
    for e in &written {
        store.audit(e).await.unwrap();
    }
    let events = |list: Vec<AuditEntry>| list.into_iter().map(|e| e.event).collect::<Vec<_>>();
    assert_eq!(
        events(store.audit_recent(None, 10).await.unwrap()),
        ["same_ms_b", "same_ms_a", "login", "pete", "first"]
    );
    assert_eq!(
        events(store.audit_recent(Some("olga"), 2).await.unwrap()),
        ["same_ms_b", "same_ms_a"]
    );
    let all = store.audit_recent(None, 10).await.unwrap();
    assert_eq!(all[2], anonymous);
    assert_eq!(all[4], written[0]);
    assert_eq!(store.audit_recent(Some("nobody"), 10).await.unwrap(), []);
    assert_eq!(
        store.audit_last("olga", "same_ms_a").await.unwrap(),
        Some(T0 + 5)
    );
    assert_eq!(store.audit_last("olga", "first").await.unwrap(), Some(T0));
    assert_eq!(store.audit_last("olga", "pete").await.unwrap(), None);
    store.close().await;
}

async fn audit_prune_deletes_only_entries_before_the_cutoff(url: String) {
    let store = connect(&url).await;
    // Seven old entries, pruned three at a time: two full batches and a
    // short one; then the entry exactly at the cutoff and one after it.
    for i in 0..7 {
        store
            .audit(&entry(T0 + i, Some("olga"), "old"))
            .await
            .unwrap();
    }
    let cutoff = T0 + DAY;
    store
        .audit(&entry(cutoff, Some("olga"), "at_cutoff"))
        .await
        .unwrap();
    store.audit(&entry(cutoff + 1, None, "new")).await.unwrap();
    assert_eq!(store.audit_prune(cutoff, 3).await.unwrap(), 7);
    let left: Vec<_> = store.audit_recent(None, 100).await.unwrap();
    let left: Vec<_> = left.into_iter().map(|e| e.event).collect();
    assert_eq!(left, ["new", "at_cutoff"]);
    // Nothing more to do, and new entries still get written and read.
    assert_eq!(store.audit_prune(cutoff, 3).await.unwrap(), 0);
    store
        .audit(&entry(cutoff + 2, Some("olga"), "newer"))
        .await
        .unwrap();
    assert_eq!(
        store.audit_last("olga", "newer").await.unwrap(),
        Some(cutoff + 2)
    );
    store.close().await;
}

async fn audit_pages_filter_by_user_and_event_and_miss_nothing(url: String) {
    let store = connect(&url).await;
    // Three entries share a millisecond, so a page may end between them.
    let written = [
        entry(T0, Some("olga"), "login"),
        entry(T0 + 1, Some("pete"), "login"),
        entry(T0 + 2, Some("olga"), "mfa_enrolled"),
        entry(T0 + 3, Some("olga"), "login"),
        entry(T0 + 3, Some("pete"), "logout"),
        entry(T0 + 3, Some("olga"), "logout"),
        entry(T0 + 4, None, "login"),
    ];
    for e in &written {
        store.audit(e).await.unwrap();
    }
    let filter = |user: Option<&str>, event: Option<&str>| AuditFilter {
        user: user.map(str::to_owned),
        event: event.map(str::to_owned),
        within: None,
    };
    // Page through in twos; every page is newest first.
    let walk = async |filter: &AuditFilter| {
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = store.audit_page(filter, before, 2).await.unwrap();
            assert!(page.entries.len() <= 2);
            seen.extend(
                page.entries
                    .into_iter()
                    .map(|e| (e.at_ms - T0, e.username, e.event)),
            );
            match page.older {
                Some(cursor) => before = Some(cursor),
                None => return seen,
            }
        }
    };
    let everyone = walk(&filter(None, None)).await;
    // Written in time order, so newest first (same millisecond: last
    // written first) is the reverse.
    let expected: Vec<_> = written
        .iter()
        .rev()
        .map(|e| (e.at_ms - T0, e.username.clone(), e.event.clone()))
        .collect();
    assert_eq!(everyone, expected, "every entry once, newest first");
    let olga = |at: i64, event: &str| (at, Some("olga".to_owned()), event.to_owned());
    assert_eq!(
        walk(&filter(Some("olga"), None)).await,
        [
            olga(3, "logout"),
            olga(3, "login"),
            olga(2, "mfa_enrolled"),
            olga(0, "login")
        ]
    );
    assert_eq!(
        walk(&filter(Some("olga"), Some("login"))).await,
        [olga(3, "login"), olga(0, "login")]
    );
    let logins = walk(&filter(None, Some("login"))).await;
    assert_eq!(logins.len(), 4);
    assert!(logins.iter().all(|(.., event)| event == "login"));
    assert!(walk(&filter(Some("nobody"), None)).await.is_empty());
    // An admin's scope: only its users, never the entry about nobody.
    let within = |users: &[&str], user: Option<&str>| AuditFilter {
        within: Some(users.iter().map(|u| u.to_string()).collect()),
        ..filter(user, None)
    };
    let pete = walk(&within(&["pete", "quinn"], None)).await;
    let petes: Vec<_> = pete
        .iter()
        .map(|(at, _, event)| (*at, event.as_str()))
        .collect();
    assert_eq!(petes, [(3, "logout"), (1, "login")]);
    assert_eq!(walk(&within(&["olga", "pete"], None)).await.len(), 6);
    assert!(walk(&within(&["pete"], Some("olga"))).await.is_empty());
    assert!(walk(&within(&[], None)).await.is_empty());
    // A page that ends exactly at the last entry says there is no more.
    let page = store
        .audit_page(&filter(Some("olga"), Some("login")), None, 2)
        .await
        .unwrap();
    assert_eq!(page.older, None);
    store.close().await;
}

#[test]
fn an_audit_cursor_reads_back_and_refuses_anything_else() {
    let cursor: AuditCursor = "1700000000000.42".parse().unwrap();
    assert_eq!(cursor.to_string(), "1700000000000.42");
    for bad in [
        "",
        "1",
        "1.",
        ".1",
        "a.1",
        "1.-2",
        "+1.2",
        "1.2.3",
        "99999999999999999999.1",
    ] {
        assert!(bad.parse::<AuditCursor>().is_err(), "{bad:?}");
    }
}
