//! Test helper: a PostgreSQL database for one test.
//!
//! With `GATEHOUSE_TEST_POSTGRES_URL` set, each test gets a fresh database on
//! that server (the role needs CREATEDB). Otherwise the tests of this process
//! share one private cluster ([`gatehouse_testkit::Postgres`], the one the
//! end-to-end suites use), stopped when the last test using it ends.
//! Missing binaries fail the test unless `GATEHOUSE_SKIP_POSTGRES=1`.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

use gatehouse_testkit::Postgres;
use sqlx::{Connection, Executor, PgConnection};

const URL_ENV: &str = "GATEHOUSE_TEST_POSTGRES_URL";
const SKIP_ENV: &str = "GATEHOUSE_SKIP_POSTGRES";

/// Runs `test` with the URL of a fresh, empty PostgreSQL database.
pub async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let name = unique_db_name();
    if let Ok(admin_url) = std::env::var(URL_ENV) {
        create_database(&admin_url, &name).await;
        test(with_database(&admin_url, &name)).await;
        // Only reached when the test passed: a failed test leaves its
        // database behind for a look.
        drop_database(&admin_url, &name).await;
        return;
    }
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!("skipping the PostgreSQL variant: {SKIP_ENV}=1");
        return;
    }
    let server = shared_server();
    create_database(&server.admin_url(), &name).await;
    test(server.url(&name)).await;
    drop(server);
}

fn unique_db_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "gatehouse_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` with its database path replaced by `/db` (the query is kept).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(base.len());
    format!("{}/{db}{query}", &base[..host_end])
}

async fn create_database(admin_url: &str, name: &str) {
    let mut conn = PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("test PostgreSQL at {admin_url}: cannot connect: {e}"));
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("test PostgreSQL: cannot create database {name}: {e}"));
    let _ = conn.close().await;
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut conn) = PgConnection::connect(admin_url).await {
        let _ = conn
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
        let _ = conn.close().await;
    }
}

/// The cluster shared by the tests running right now, started if none is.
fn shared_server() -> Arc<Postgres> {
    static SHARED: Mutex<Weak<Postgres>> = Mutex::new(Weak::new());
    // A test that panicked while holding the lock poisons it; the Weak
    // inside is still fine to use.
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(server) = shared.upgrade() {
        return server;
    }
    assert!(
        Postgres::installed(),
        "PostgreSQL server binaries (initdb, pg_ctl) not found under \
         /usr/lib/postgresql/*/bin or on PATH. Install PostgreSQL \
         (e.g. `apt-get install postgresql`; CI does), or set {URL_ENV} \
         to a server URL, or set {SKIP_ENV}=1 to skip the PostgreSQL tests."
    );
    let server = Arc::new(Postgres::start());
    *shared = Arc::downgrade(&server);
    server
}
