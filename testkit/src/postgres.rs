//! A private PostgreSQL cluster: `initdb` into a temp dir, a free port, its
//! socket in that dir, stopped (immediately) on drop.
//!
//! PostgreSQL refuses to run as root, so under root the dir is handed to
//! the `postgres` user and every tool runs through `runuser -u postgres`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::free_port;

/// How long a fresh cluster gets to accept connections.
const READY_DEADLINE: Duration = Duration::from_secs(60);
/// How often readiness is checked again.
const POLL: Duration = Duration::from_millis(50);

/// A running PostgreSQL server with trust authentication for `postgres`.
pub struct Postgres {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl Postgres {
    /// Creates and starts a cluster; panics with a clear message if the
    /// server binaries are missing or it does not come up.
    pub fn start() -> Postgres {
        let bin = find_bin().unwrap_or_else(|| {
            panic!(
                "PostgreSQL server binaries (initdb, pg_ctl) not found under \
                 /usr/lib/postgresql/*/bin or on PATH: install PostgreSQL \
                 (Debian: apt-get install postgresql; scripts/test and CI do)"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-pg-")
            .tempdir()
            .expect("a temp dir for PostgreSQL");
        let as_postgres_user = running_as_root();
        if as_postgres_user {
            run(
                Command::new("chown").arg("postgres:").arg(dir.path()),
                "chown the cluster dir to postgres",
            );
        }
        let server = Postgres {
            dir,
            bin,
            port: free_port(),
            as_postgres_user,
        };
        run(
            server
                .tool("initdb")
                .arg("-D")
                .arg(server.data_dir())
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
                .args(["--locale=C", "--no-sync"]),
            "initdb",
        );
        server.start_server();
        server
    }

    /// Stops the server (fast shutdown: connections are ended), keeping its
    /// data and port, as an outage would.
    pub fn stop(&self) {
        run(
            self.tool("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "fast", "-w", "stop"]),
            "pg_ctl stop",
        );
    }

    /// Kills the server as a crash would (immediate shutdown: no
    /// checkpoint, connections cut), keeping its data and port. The next
    /// start replays the write-ahead log, so what was committed stays.
    pub fn kill(&self) {
        run(
            self.tool("pg_ctl").arg("-D").arg(self.data_dir()).args([
                "-m",
                "immediate",
                "-w",
                "stop",
            ]),
            "pg_ctl stop -m immediate",
        );
    }

    /// Whether the server accepts connections now.
    pub fn is_up(&self) -> bool {
        self.tool("pg_isready")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Starts a stopped (or killed) server again, on the same port with the
    /// same data.
    pub fn restart(&self) {
        self.start_server();
    }

    fn start_server(&self) {
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let started = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-o", &options, "-w", "start"])
            .output()
            .expect("run pg_ctl start");
        assert!(
            started.status.success(),
            "pg_ctl start failed: {}\n{}",
            describe(&started),
            self.log()
        );
        let deadline = Instant::now() + READY_DEADLINE;
        let ready = loop {
            let up = self.is_up();
            if up || Instant::now() >= deadline {
                break up;
            }
            std::thread::sleep(POLL);
        };
        assert!(
            ready,
            "PostgreSQL on port {} was not ready within {READY_DEADLINE:?}\n{}",
            self.port,
            self.log()
        );
    }

    /// Whether the server binaries [`Postgres::start`] needs are installed.
    pub fn installed() -> bool {
        find_bin().is_some()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        run(
            self.tool("createdb")
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", "postgres", name]),
            "createdb",
        );
        self.url(name)
    }

    /// `postgres://postgres@127.0.0.1:PORT/name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The URL of the `postgres` database, for creating and dropping others.
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        format!(
            "--- postgres log ---\n{}",
            std::fs::read_to_string(self.log_file()).unwrap_or_default()
        )
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    fn tool(&self, name: &str) -> Command {
        let tool = self.bin.join(name);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(tool);
            command
        } else {
            Command::new(tool)
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("test PostgreSQL: cannot run {what}: {e}"));
    assert!(
        output.status.success(),
        "test PostgreSQL: {what} failed: {}",
        describe(&output)
    );
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The newest `/usr/lib/postgresql/<version>/bin` with initdb, else `PATH`.
fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_server_tools(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).find(|dir| has_server_tools(dir))
}

fn has_server_tools(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "pg_isready", "createdb"]
        .iter()
        .all(|tool| dir.join(tool).is_file())
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the user the process runs as.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_cluster_starts_serves_a_new_database_survives_a_kill_and_stops() {
        let server = Postgres::start();
        let url = server.create_database("harness_check");
        assert!(url.ends_with(&format!(":{}/harness_check", server.port())));
        let port = server.port();
        server.kill();
        assert!(!server.is_up(), "PostgreSQL still answers after a kill");
        server.restart();
        assert!(server.is_up(), "PostgreSQL did not come back after a kill");
        drop(server);
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "PostgreSQL still listens after drop"
        );
    }
}
