//! Changing policies through the store: who may loosen what.

use super::*;
use crate::policy::{Method, Methods};

fn tree() -> Organisations {
    let entry = |name: &str, parent: Option<&str>| (name.to_string(), parent.map(str::to_string));
    Organisations::new(&[
        entry("reseller", None),
        entry("acme", Some("reseller")),
        entry("acme-eu", Some("acme")),
    ])
}

fn defaults() -> Defaults {
    Defaults::from_config(&crate::config::MfaSettings {
        enforce: false,
        issuer: "Gatehouse".into(),
        enroll_two_codes: false,
        remember_device_days: 30,
        fresh_for: Duration::from_secs(300),
        require_groups: Vec::new(),
    })
}

async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(Arc<LazyStore>, Arc<OrgPolicies>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    test(
        Arc::new(LazyStore::new(&url)),
        Arc::new(OrgPolicies::new(tree(), defaults())),
    )
    .await;
}

fn mfa(mode: MfaMode) -> Partial {
    Partial {
        mfa: Some(mode),
        ..Partial::default()
    }
}

fn lock_by(orgs: &Organisations, org: &str, value: Partial) -> Lock {
    Lock {
        value,
        by: format!("admin-of-{org}"),
        by_org: if org == "root" {
            OrgId::ROOT
        } else {
            orgs.find(org).unwrap()
        },
        at_ms: 1,
    }
}

#[tokio::test]
async fn a_locked_child_may_tighten_but_not_loosen() {
    with_store(|store, book| async move {
        let orgs = book.orgs().clone();
        let acme = orgs.find("acme").unwrap();
        let lock = lock_by(&orgs, "reseller", mfa(MfaMode::Required));
        book.set_lock(&store, acme, Field::Mfa, &lock, false)
            .await
            .unwrap();
        let refused = book.set_own(&store, acme, &mfa(MfaMode::Optional)).await;
        match refused {
            Err(PolicyError::Locked {
                field: Field::Mfa,
                locker: Locker::Admin { by, by_org },
            }) => {
                assert_eq!(by, "admin-of-reseller");
                assert_eq!(by_org, orgs.find("reseller").unwrap());
            }
            other => panic!("loosening was not refused: {other:?}"),
        }
        // The department below is bound too.
        let eu = orgs.find("acme-eu").unwrap();
        assert!(book.set_own(&store, eu, &mfa(MfaMode::Off)).await.is_err());
        // Tightening another field is fine.
        let fewer = Partial {
            methods: Some(Methods::of([Method::Totp])),
            ..Partial::default()
        };
        let table = book.set_own(&store, acme, &fewer).await.unwrap();
        assert_eq!(
            table.get(acme).effective.methods,
            Methods::of([Method::Totp])
        );
        assert_eq!(table.get(acme).effective.mfa, MfaMode::Required);
    })
    .await;
}

#[tokio::test]
async fn locks_come_from_above_and_only_higher_admins_lift_them() {
    with_store(|store, book| async move {
        let orgs = book.orgs().clone();
        let (acme, eu) = (orgs.find("acme").unwrap(), orgs.find("acme-eu").unwrap());
        let required = mfa(MfaMode::Required);
        // Nobody locks their own organisation, or one above it.
        let own = lock_by(&orgs, "acme", required.clone());
        assert!(matches!(
            book.set_lock(&store, acme, Field::Mfa, &own, false).await,
            Err(PolicyError::NotAbove)
        ));
        let reseller_lock = lock_by(&orgs, "reseller", required.clone());
        book.set_lock(&store, eu, Field::Mfa, &reseller_lock, false)
            .await
            .unwrap();
        // acme's admin is above acme-eu, but can't replace or lift the
        // reseller's lock there.
        let acme_lock = lock_by(&orgs, "acme", mfa(MfaMode::Optional));
        for lift in [false, true] {
            assert!(matches!(
                book.set_lock(&store, eu, Field::Mfa, &acme_lock, lift)
                    .await,
                Err(PolicyError::Locked { .. })
            ));
        }
        // The root's admin can.
        let root_lock = lock_by(&orgs, "root", required);
        let table = book
            .set_lock(&store, eu, Field::Mfa, &root_lock, true)
            .await
            .unwrap();
        assert!(table.get(eu).locks.is_empty());
        // A lock may not be looser than a lock above it.
        let reseller = lock_by(&orgs, "reseller", mfa(MfaMode::Required));
        book.set_lock(&store, acme, Field::Mfa, &reseller, false)
            .await
            .unwrap();
        assert!(matches!(
            book.set_lock(&store, eu, Field::Mfa, &acme_lock, false)
                .await,
            Err(PolicyError::Locked { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn the_roots_requirement_is_kept_where_older_releases_read_it() {
    with_store(|store, book| async move {
        book.set_own(&store, OrgId::ROOT, &mfa(MfaMode::Required))
            .await
            .unwrap();
        let db = store.get().await.unwrap();
        assert_eq!(
            db.setting(LEGACY_ENFORCE).await.unwrap().as_deref(),
            Some("true")
        );
        // And a store written by an older release reads as it meant.
        db.setting_delete(&stored::own_key(book.orgs(), OrgId::ROOT, Field::Mfa))
            .await
            .unwrap();
        let table = book.current(&store).await.unwrap();
        assert_eq!(table.get(OrgId::ROOT).effective.mfa, MfaMode::Required);
    })
    .await;
}

#[tokio::test]
async fn the_cached_copy_follows_a_change_made_elsewhere() {
    with_store(|store, here| async move {
        let acme = here.orgs().find("acme").unwrap();
        assert_eq!(
            here.cached(&store).get(acme).effective.mfa,
            MfaMode::Optional
        );
        let elsewhere = OrgPolicies::new(tree(), defaults());
        elsewhere
            .set_own(&store, acme, &mfa(MfaMode::Required))
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + REFRESH * 10;
        while here.cached(&store).get(acme).effective.mfa != MfaMode::Required {
            assert!(
                std::time::Instant::now() < deadline,
                "the change never reached this replica"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}
