//! Benchmarks for Gatehouse live in `benches/`; see `benches/README.md`.
//!
//! This library holds what several bench targets share: polling a future
//! that never waits, and a throwaway `redis-server`.

use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::pin::pin;
use std::process::{Child, Command, Stdio};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Polls `fut` once and returns its output.
///
/// For async APIs whose in-memory path never waits (the memory session
/// store, the access decision on a memory gateway): the bench then measures
/// the work itself, not an executor.
///
/// # Panics
///
/// If the future is not ready at the first poll.
pub fn ready<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the future waited; bench it on a runtime instead"),
    }
}

/// A `redis-server` child process on a free port, with no persistence.
/// Killed when dropped.
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts `redis-server --port <free> --save "" --appendonly no` and waits
    /// until it answers PING.
    ///
    /// Returns `None`, after saying why on stderr, when `redis-server` is not
    /// installed or does not come up, so a bench can skip its Redis cases.
    pub fn start() -> Option<Self> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-bench-redis-{}-{port}",
            std::process::id()
        ));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!(
                "skipping the Redis benches: cannot create {}: {e}",
                dir.display()
            );
            return None;
        }
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                eprintln!(
                    "skipping the Redis benches: redis-server is not installed \
                     (on Debian: apt-get install redis-server)"
                );
                let _ = std::fs::remove_dir_all(&dir);
                return None;
            }
            Err(e) => {
                eprintln!("skipping the Redis benches: cannot start redis-server: {e}");
                let _ = std::fs::remove_dir_all(&dir);
                return None;
            }
        };
        let server = RedisServer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ping(port) {
            if Instant::now() > deadline {
                eprintln!(
                    "skipping the Redis benches: redis-server on port {port} \
                     did not answer PING within 10 s"
                );
                return None; // dropping `server` kills the child
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on right now (the OS picks it).
fn free_port() -> Option<u16> {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => Some(addr.port()),
        Err(e) => {
            eprintln!("skipping the Redis benches: no free port: {e}");
            None
        }
    }
}

/// Whether a Redis on `port` answers `PING` with `+PONG`.
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}
