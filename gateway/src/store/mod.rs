//! Durable state: MFA enrollments, recovery codes, remembered devices,
//! service tokens created in the console, the audit log, the organisation's
//! MFA policy and generated settings.
//!
//! One [`Store`] speaks to SQLite (the embedded default, `sqlite://path`,
//! created on first start) or PostgreSQL (`postgres://…`, for several
//! replicas) through sqlx's `Any` driver. The schema lives in
//! `gateway/migrations/{sqlite,postgres}`, is embedded in the binary and is
//! brought up to date at connect.
//!
//! The SQL is written once for both backends: times are BIGINT unix
//! milliseconds passed in by the caller (so tests control the clock), there
//! are no BLOBs or booleans, and placeholders `$1..$n` appear in increasing
//! order, each once. Every check-and-change is a single statement (or one
//! transaction), so two replicas never both win a race.

mod audit;
mod contact;
mod devices;
mod forget;
pub(crate) mod health;
mod mfa;
mod overview;
mod settings;
mod tokens;

#[cfg(test)]
mod pg_harness;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::AnyPool;

pub use audit::{AuditCursor, AuditEntry, AuditEvent, AuditFilter, AuditOutcome, AuditPage};
pub use devices::Device;
pub use mfa::TotpEnrollment;
pub use overview::UserFactors;
pub use tokens::{IssuedToken, PreviousToken, Replacement};

use health::Health;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// What can go wrong talking to the store. URLs in messages never carry a
/// password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "store.url {url:?}: unsupported scheme (use sqlite://PATH or postgres://USER@HOST/DB)"
    )]
    UnsupportedUrl { url: String },
    #[error("store.url {url:?}: cannot connect: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("store.url {url:?}: cannot apply database migrations: {source}")]
    Migrate {
        url: String,
        #[source]
        source: MigrateError,
    },
    #[error("store: cannot {what}: {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("store: unexpected data while trying to {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("store.url {url:?}: the database does not answer (tried again once a second)")]
    Unavailable { url: String },
}

impl StoreError {
    /// A closure for `map_err` naming what was being done.
    pub(crate) fn query(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Query { what, source }
    }
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of_url(url: &str) -> Option<Backend> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

/// How long start-up and tools wait for the database: patient, since a
/// database starting beside the gateway may take a few seconds.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the gateway's queries wait for a connection unless
/// `store.timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// A handle on the durable store. Cloning is cheap: clones share one pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
    health: Arc<Health>,
}

impl Store {
    /// Connects to `url`, creating a SQLite file if it is missing, and runs
    /// the embedded migrations for that backend. For start-up and tools: it
    /// waits up to 10 s for the database.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::open(url, START_TIMEOUT, Arc::default()).await
    }

    /// [`Store::connect`], where every query waits at most `timeout` for a
    /// connection and reports to `health`. The wait covers opening a new
    /// connection (PostgreSQL's TCP connect and start-up included: sqlx runs
    /// the connect inside the acquire's deadline and retries a refused one
    /// until then), so a database that is down or silent costs `timeout`.
    pub(crate) async fn open(
        url: &str,
        timeout: Duration,
        health: Arc<Health>,
    ) -> Result<Store, StoreError> {
        let shown = redact_url(url);
        let backend = Backend::of_url(url)
            .ok_or_else(|| StoreError::UnsupportedUrl { url: shown.clone() })?;
        // Idempotent: sqlx guards it with its own `Once`.
        sqlx::any::install_default_drivers();

        let mut options = AnyPoolOptions::new().acquire_timeout(timeout);
        let mut connect_url = url.to_owned();
        if backend == Backend::Sqlite {
            if is_sqlite_memory(url) {
                // Every new connection to `:memory:` is a new, empty database:
                // keep exactly one, forever.
                options = options
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            } else if !has_query_param(url, "mode") {
                // "Created on first start": SQLite's default mode refuses a missing file.
                connect_url.push(if url.contains('?') { '&' } else { '?' });
                connect_url.push_str("mode=rwc");
            }
        }
        let pool = options
            .connect(&connect_url)
            .await
            .map_err(|source| StoreError::Connect {
                url: shown.clone(),
                source,
            })?;

        if backend == Backend::Sqlite && !is_sqlite_memory(url) {
            // WAL lets readers run beside the writer; the mode is stored in the
            // file, so setting it once here covers every later connection.
            // sqlx already sets a 5 s busy timeout on each connection.
            if let Err(e) = sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
            {
                tracing::warn!(url = %shown, error = %e, "store: could not switch SQLite to WAL");
            }
        }

        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                url: shown.clone(),
                source,
            })?;

        Ok(Store {
            pool,
            backend,
            url: shown,
            health,
        })
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The store URL with any password replaced by `***`, for logs.
    pub fn redacted_url(&self) -> &str {
        &self.url
    }

    /// Checks that the database answers (for health checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(self.fail("ping the database"))?;
        self.health.recovered();
        Ok(())
    }

    /// Like [`StoreError::query`], and a database that can't be reached is
    /// marked down, so the queries after this one fail at once.
    pub(crate) fn fail(&self, what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
        move |source| {
            if health::is_unreachable(&source) {
                self.health.failed();
            }
            StoreError::Query { what, source }
        }
    }

    /// Closes every connection; later calls on any clone fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || has_query_param_value(url, "mode", "memory")
}

fn query_pairs(url: &str) -> impl Iterator<Item = (&str, &str)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

fn has_query_param(url: &str, key: &str) -> bool {
    query_pairs(url).any(|(k, _)| k == key)
}

fn has_query_param_value(url: &str, key: &str, value: &str) -> bool {
    query_pairs(url).any(|(k, v)| k == key && v == value)
}

/// `url` with the password (in `user:password@` or a `password=` query
/// parameter) replaced by `***`, so errors and logs can show it.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _password)) => format!("{user}:***@{host}"),
                    None => authority.to_owned(),
                },
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}
