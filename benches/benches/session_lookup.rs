//! Session store benches: the lookup every signed-in request makes, and the
//! write every sign-in makes, for the memory and the Redis backends; and
//! what an admin's reset or "sign out everywhere" costs, which walks every
//! session in Redis.
//!
//! Both go through `SessionStore`, the API the proxy uses, so each lookup
//! includes hashing the id into its store key, the clock read and the expiry
//! check. The Redis cases start their own `redis-server` on a free port and
//! are skipped, with a message, if it is not installed.
//!
//! Run with `cargo bench -p gatehouse-benches --bench session_lookup`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gatehouse::redis_client::RedisClient;
use gatehouse::session::{
    now_ms, Expiry, MemoryStore, RedisStore, Session, SessionId, SessionStore,
};
use gatehouse_benches::{ready, RedisServer};

/// Sessions already in the store when a lookup is timed.
const SESSIONS: usize = 10_000;

/// The defaults: 24 h lifetime, 1 h idle timeout. The idle clock is written
/// back at most every 3 minutes, so a bench run never triggers the write.
fn expiry() -> Expiry {
    Expiry {
        lifetime: Duration::from_secs(24 * 3600),
        idle_timeout: Duration::from_secs(3600),
    }
}

/// A session past both factors, for a user whose sessions were never ended.
fn signed_in(user: &str) -> Session {
    signed_in_at(user, 0)
}

/// A session past both factors, made by a sign-in that began at the user's
/// session `generation`.
fn signed_in_at(user: &str, generation: u64) -> Session {
    Session::after_password(user, now_ms(), generation).with_mfa(now_ms())
}

fn memory(c: &mut Criterion) {
    let e = expiry();
    let store = SessionStore::Memory(Arc::new(MemoryStore::new()));
    let ids: Vec<SessionId> = (0..SESSIONS)
        .map(|i| ready(store.create(&signed_in(&format!("user{i}")), e)).unwrap())
        .collect();
    let hit = ids[SESSIONS / 2].clone();
    assert!(ready(store.get(&hit, e)).unwrap().is_some());
    let miss = SessionId::generate();
    assert!(ready(store.get(&miss, e)).unwrap().is_none());

    let mut g = c.benchmark_group("session_lookup");
    g.bench_function("memory get (hit, 10k sessions)", |b| {
        b.iter(|| ready(store.get(black_box(&hit), e)).unwrap())
    });
    g.bench_function("memory get (miss, 10k sessions)", |b| {
        b.iter(|| ready(store.get(black_box(&miss), e)).unwrap())
    });
    // A new id from the OS CSPRNG, its hash, and the insert. The sessions
    // made while timing are deleted afterwards (untimed), so the map stays
    // near 10k instead of growing with every iteration.
    g.bench_function("memory create (10k sessions)", |b| {
        let session = signed_in("alice");
        b.iter_custom(|iters| {
            let mut made = Vec::with_capacity(iters as usize);
            let start = Instant::now();
            for _ in 0..iters {
                made.push(ready(store.create(black_box(&session), e)).unwrap());
            }
            let elapsed = start.elapsed();
            for id in &made {
                ready(store.delete(id)).unwrap();
            }
            elapsed
        })
    });
    g.finish();
}

/// A session store on `server`, as the gateway builds one.
fn empty_redis_store(server: &RedisServer, cache_ttl: Duration) -> SessionStore {
    let client = Arc::new(RedisClient::new(&server.url()).expect("a valid Redis URL"));
    SessionStore::Redis(Arc::new(RedisStore::new(client, cache_ttl)))
}

/// A Redis-backed store holding 10k sessions, and the id of one of them.
fn redis_store(
    rt: &tokio::runtime::Runtime,
    server: &RedisServer,
    cache_ttl: Duration,
) -> (SessionStore, SessionId) {
    let e = expiry();
    let store = empty_redis_store(server, cache_ttl);
    let hit = rt.block_on(async {
        let mut ids = Vec::with_capacity(SESSIONS);
        for i in 0..SESSIONS {
            ids.push(
                store
                    .create(&signed_in(&format!("user{i}")), e)
                    .await
                    .expect("redis-server answers"),
            );
        }
        let hit = ids.swap_remove(SESSIONS / 2);
        assert!(store.get(&hit, e).await.unwrap().is_some());
        // The first lookup starts the invalidation listener; the cache only
        // serves copies once its subscription is up.
        tokio::time::sleep(Duration::from_millis(200)).await;
        hit
    });
    (store, hit)
}

/// A throwaway redis-server and a runtime of one thread, like one Pingora
/// worker: the connection's driver task and the timed call share it, so a
/// figure is the loopback round trip plus the client's and serde's work,
/// without cross-thread wake-ups. `None` without redis-server.
fn redis_and_runtime() -> Option<(RedisServer, tokio::runtime::Runtime)> {
    let server = RedisServer::start()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    Some((server, rt))
}

fn redis(c: &mut Criterion) {
    let Some((server, rt)) = redis_and_runtime() else {
        return;
    };
    let e = expiry();
    // `sessions.cache_ttl: 0`: every lookup is a Redis GET.
    let (uncached, uncached_hit) = redis_store(&rt, &server, Duration::ZERO);
    // `sessions.cache_ttl: 1s` (the maximum): a Redis GET per session per
    // second, the in-process copy otherwise.
    let (cached, cached_hit) = redis_store(&rt, &server, Duration::from_secs(1));

    let mut g = c.benchmark_group("session_lookup");
    g.bench_function("redis get (hit, 10k sessions, cache_ttl 0)", |b| {
        b.to_async(&rt)
            .iter(|| async { uncached.get(black_box(&uncached_hit), e).await.unwrap() })
    });
    g.bench_function("redis get (hit, 10k sessions, cache_ttl 1s)", |b| {
        b.to_async(&rt)
            .iter(|| async { cached.get(black_box(&cached_hit), e).await.unwrap() })
    });
    // SET with a TTL (and, with the cache on, a copy kept here). Deleting the
    // sessions made while timing happens afterwards, untimed.
    g.bench_function("redis create (cache_ttl 0)", |b| {
        let session = signed_in("alice");
        b.to_async(&rt).iter_custom(|iters| {
            let store = &uncached;
            let session = &session;
            async move {
                let mut made = Vec::with_capacity(iters as usize);
                let start = Instant::now();
                for _ in 0..iters {
                    made.push(store.create(black_box(session), e).await.unwrap());
                }
                let elapsed = start.elapsed();
                for id in &made {
                    store.delete(id).await.unwrap();
                }
                elapsed
            }
        })
    });
    g.finish();
    drop((cached, uncached));
    drop(rt);
    drop(server);
}

/// Sessions in Redis when one user's are ended.
const MANY_SESSIONS: usize = 100_000;

/// An admin reset ends one user's sessions by walking all of them (SCAN and
/// MGET in batches of 1,000): its cost grows with the number of sessions.
fn end_one_users_sessions(c: &mut Criterion) {
    let Some((server, rt)) = redis_and_runtime() else {
        return;
    };
    let e = expiry();
    let store = empty_redis_store(&server, Duration::ZERO);
    rt.block_on(async {
        for i in 0..MANY_SESSIONS {
            store
                .create(&signed_in(&format!("user{i}")), e)
                .await
                .expect("redis-server answers");
        }
    });

    let mut g = c.benchmark_group("session_lookup");
    g.sample_size(10);
    g.bench_function("redis delete_user (3 of 100k sessions)", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let store = &store;
            async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    // As a sign-in does: each reset advances the user's
                    // generation, and a session made under an older one
                    // is refused.
                    let generation = store.generation("lost-phone").await.unwrap();
                    let session = signed_in_at("lost-phone", generation);
                    for _ in 0..3 {
                        store.create(&session, e).await.unwrap();
                    }
                    let start = Instant::now();
                    let ended = store.delete_user(black_box("lost-phone")).await.unwrap();
                    timed += start.elapsed();
                    assert_eq!(ended, 3);
                }
                timed
            }
        })
    });
    g.finish();
    drop(store);
    drop(rt);
    drop(server);
}

criterion_group!(benches, memory, redis, end_one_users_sessions);
criterion_main!(benches);
