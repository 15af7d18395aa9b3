//! Sign-outs and resets that race a request, a sign-in or a step-up.
//!
//! Each ordering is pinned at the session store, with memory sessions and
//! with two replicas on a real Redis: over HTTP the steps can't be made to
//! interleave on demand. The rule in every case: once a session is signed
//! out, or every session of a user is ended, nothing that was already under
//! way can save a session for them.

use std::sync::Arc;
use std::time::Duration;

use gatehouse::redis_client::RedisClient;
use gatehouse::session::{
    now_ms, Expiry, MemoryStore, RedisStore, Session, SessionError, SessionId, SessionStore,
};
use gatehouse_tests::Redis;

const EXPIRY: Expiry = Expiry {
    lifetime: Duration::from_secs(3600),
    idle_timeout: Duration::from_secs(3600),
};

/// Two views of one store: two replicas on the same Redis (each with its
/// session cache), or the one memory store twice.
struct Replicas {
    a: SessionStore,
    b: SessionStore,
    _redis: Option<Redis>,
}

fn memory() -> Replicas {
    let store = SessionStore::Memory(Arc::new(MemoryStore::new()));
    Replicas {
        a: store.clone(),
        b: store,
        _redis: None,
    }
}

fn redis() -> Replicas {
    let redis = Redis::start();
    let replica = || {
        let client = Arc::new(RedisClient::new(&redis.url()).expect("redis url"));
        SessionStore::Redis(Arc::new(RedisStore::new(client, Duration::from_secs(1))))
    };
    Replicas {
        a: replica(),
        b: replica(),
        _redis: Some(redis),
    }
}

fn on_both(test: impl AsyncFn(&Replicas)) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for (name, replicas) in [("memory", memory()), ("redis", redis())] {
        eprintln!("-- {name} sessions");
        runtime.block_on(test(&replicas));
    }
}

/// A sign-in that has checked the password and is about to save its session.
async fn signing_in(store: &SessionStore, user: &str) -> Session {
    let generation = store.generation(user).await.expect("generation");
    Session::after_password(user, now_ms(), generation)
}

#[test]
fn a_sign_in_under_way_when_every_session_ends_saves_none() {
    on_both(async |r: &Replicas| {
        let alice = signing_in(&r.a, "alice").await;
        let bob = signing_in(&r.a, "bob").await;
        r.b.delete_user("alice")
            .await
            .expect("end alice's sessions");

        let refused = r.a.create(&alice, EXPIRY).await;
        assert!(matches!(refused, Err(SessionError::Ended)), "{refused:?}");
        assert_eq!(
            r.b.delete_user("alice").await.unwrap(),
            0,
            "no session was left"
        );

        let bobs = r.a.create(&bob, EXPIRY).await.expect("bob is unaffected");
        assert_eq!(r.b.get(&bobs, EXPIRY).await.unwrap().unwrap().user, "bob");

        // A sign-in that begins afterwards is saved as usual.
        let again = signing_in(&r.a, "alice").await;
        let id = r.a.create(&again, EXPIRY).await.expect("a new sign-in");
        assert_eq!(r.b.get(&id, EXPIRY).await.unwrap().unwrap().user, "alice");
    });
}

/// A sign-in begun and saved, as the step-up page reads it.
async fn signed_in(store: &SessionStore) -> (SessionId, Session) {
    let id = store
        .create(&signing_in(store, "alice").await, EXPIRY)
        .await
        .unwrap();
    let read = store.get(&id, EXPIRY).await.unwrap().expect("signed in");
    (id, read)
}

#[test]
fn a_step_up_under_way_when_the_session_ends_saves_none() {
    on_both(async |r: &Replicas| {
        // Ended by an admin's reset or "sign out everywhere".
        let (id, read) = signed_in(&r.a).await;
        assert_eq!(r.b.delete_user("alice").await.unwrap(), 1);
        let refused = r.a.rotate(&id, &read.with_mfa(now_ms()), EXPIRY).await;
        assert!(matches!(refused, Err(SessionError::Ended)), "{refused:?}");
        assert_eq!(r.b.delete_user("alice").await.unwrap(), 0);

        // Signed out in another tab.
        let (id, read) = signed_in(&r.a).await;
        r.b.delete(&id).await.unwrap();
        let refused = r.a.rotate(&id, &read.with_mfa(now_ms()), EXPIRY).await;
        assert!(matches!(refused, Err(SessionError::Ended)), "{refused:?}");
        assert_eq!(r.b.delete_user("alice").await.unwrap(), 0);
    });
}

#[test]
fn a_step_up_replaces_the_session_on_every_replica() {
    on_both(async |r: &Replicas| {
        let (id, _) = signed_in(&r.a).await;
        let read = r.b.get(&id, EXPIRY).await.unwrap().expect("seen by b");
        let stepped =
            r.a.rotate(&id, &read.with_mfa(now_ms()), EXPIRY)
                .await
                .unwrap();

        assert!(r.a.get(&stepped, EXPIRY).await.unwrap().unwrap().mfa_done());
        assert!(r.b.get(&stepped, EXPIRY).await.unwrap().unwrap().mfa_done());
        assert!(r.a.get(&id, EXPIRY).await.unwrap().is_none());
        // b read the old id; its copy is dropped by the announcement, within
        // the cache's TTL at worst.
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while r.b.get(&id, EXPIRY).await.unwrap().is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "old id still honoured"
            );
            tokio::task::yield_now().await;
        }
    });
}

#[test]
fn a_request_in_flight_cannot_bring_back_a_signed_out_session() {
    on_both(async |r: &Replicas| {
        // A request on a reads the session and will write its use back...
        let (id, mut used) = signed_in(&r.a).await;
        used.last_seen_ms = now_ms();
        // ...while the user signs out on b.
        r.b.delete(&id).await.unwrap();

        let key = id.store_key();
        let written = match &r.a {
            SessionStore::Memory(m) => m.touch(&key, used),
            SessionStore::Redis(s) => s.touch(&key, &used, EXPIRY.idle_timeout).await.unwrap(),
        };
        assert!(!written, "the write-back was refused");
        assert!(r.a.get(&id, EXPIRY).await.unwrap().is_none());
        assert!(r.b.get(&id, EXPIRY).await.unwrap().is_none());
        assert_eq!(r.b.delete_user("alice").await.unwrap(), 0);
    });
}
