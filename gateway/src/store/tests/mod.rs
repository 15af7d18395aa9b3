//! Store tests. Each behaviour is one async fn taking a database URL, run
//! against a SQLite file and against PostgreSQL by `on_both_backends!`.

use std::future::Future;

use super::Store;

/// For each behaviour `name`, a module `name` with tests `sqlite` and `postgres`.
macro_rules! on_both_backends {
    ($($behaviour:ident),* $(,)?) => {$(
        mod $behaviour {
            #[tokio::test]
            async fn sqlite() {
                $crate::store::tests::with_sqlite(super::$behaviour).await
            }

            #[tokio::test]
            async fn postgres() {
                $crate::store::pg_harness::with_postgres(super::$behaviour).await
            }
        }
    )*};
}

mod basics;
mod contact;
mod devices_audit;
mod mfa;
mod tokens;
mod urls;

/// A point in time for tests (unix ms).
const T0: i64 = 1_700_000_000_000;

/// Runs `test` with the URL of a SQLite file that does not exist yet.
pub(super) async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
    test(url).await;
}

async fn connect(url: &str) -> Store {
    Store::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}
