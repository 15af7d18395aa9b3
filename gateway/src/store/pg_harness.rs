//! Test helper: a PostgreSQL database for one test.
//!
//! With `GATEHOUSE_TEST_POSTGRES_URL` set, each test gets a fresh database on
//! that server (the role needs CREATEDB). Otherwise the tests of this process
//! share a private cluster started from the installed binaries
//! (`/usr/lib/postgresql/*/bin` or `PATH`) in a temp dir, on a free port,
//! stopped when the last test using it ends. Missing binaries fail the test
//! unless `GATEHOUSE_SKIP_POSTGRES=1`.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

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
    test(with_database(&server.admin_url(), &name)).await;
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
fn shared_server() -> Arc<PgServer> {
    static SHARED: Mutex<Weak<PgServer>> = Mutex::new(Weak::new());
    // A test that panicked while holding the lock poisons it; the Weak
    // inside is still fine to use.
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(server) = shared.upgrade() {
        return server;
    }
    let server = Arc::new(PgServer::start());
    *shared = Arc::downgrade(&server);
    server
}

/// A private PostgreSQL cluster in a temp dir; stopped on drop.
struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl PgServer {
    fn start() -> PgServer {
        let bin = find_pg_bin().unwrap_or_else(|| {
            panic!(
                "PostgreSQL server binaries (initdb, pg_ctl) not found under \
                 /usr/lib/postgresql/*/bin or on PATH. Install PostgreSQL \
                 (e.g. `apt-get install postgresql`; CI does), or set {URL_ENV} \
                 to a server URL, or set {SKIP_ENV}=1 to skip the PostgreSQL tests."
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-pg-")
            .tempdir()
            .expect("create a temp dir for PostgreSQL");
        // PostgreSQL refuses to run as root: hand the dir to `postgres`.
        let as_postgres_user = running_as_root();
        if as_postgres_user {
            run(
                Command::new("chown").arg("postgres:").arg(dir.path()),
                "chown",
            );
        }
        let port = free_port();
        let server = PgServer {
            dir,
            bin,
            port,
            as_postgres_user,
        };
        let data = server.data_dir();
        run(
            server
                .command("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
                .args(["--locale=C", "--no-sync"]),
            "initdb",
        );
        let options = format!(
            "-h 127.0.0.1 -p {port} -k {} -c fsync=off -c full_page_writes=off",
            server.dir.path().display()
        );
        run(
            server
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(server.log_file())
                .args(["-o", &options, "-W", "start"]),
            "pg_ctl start",
        );
        server.wait_ready();
        server
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    fn command(&self, tool: &str) -> Command {
        let tool = self.bin.join(tool);
        if self.as_postgres_user {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(tool);
            cmd
        } else {
            Command::new(tool)
        }
    }

    /// Polls a real connection until the server accepts one, or gives up
    /// with the server log.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = self.admin_url();
        // Tests call this from inside their own runtime, so poll from a
        // plain thread with a runtime of its own.
        let polled = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to poll PostgreSQL");
            loop {
                let attempt =
                    runtime.block_on(async { PgConnection::connect(&url).await?.close().await });
                match attempt {
                    Ok(()) => return Ok(()),
                    Err(e) if Instant::now() >= deadline => return Err(e),
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        })
        .join()
        .expect("the PostgreSQL readiness poller panicked");
        if let Err(e) = polled {
            panic!(
                "private PostgreSQL on port {} did not accept connections within 60 s \
                 (last error: {e}); its log:\n{}",
                self.port,
                std::fs::read_to_string(self.log_file()).unwrap_or_default()
            );
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("test PostgreSQL: cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "test PostgreSQL: {what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The newest `/usr/lib/postgresql/<version>/bin` with initdb, else PATH.
fn find_pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's user.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}
