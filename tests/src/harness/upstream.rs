//! The protected app: a real HTTP/1.1 echo server on an ephemeral port that
//! answers every request with 200 JSON describing what it received, and
//! records each request so tests can assert what reached it (or that nothing
//! did). It can also fail as apps do: die with its connections and come
//! back on the same port, or stall.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path plus query, exactly as sent on the request line.
    pub path: String,
    /// Lower-cased names, in arrival order, repeated names kept apart.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When its head had arrived.
    pub at: Instant,
}

impl Recorded {
    /// Every value of header `name` (any case), joined with ", ".
    pub fn header(&self, name: &str) -> Option<String> {
        let values = self.header_values(name);
        (!values.is_empty()).then(|| values.join(", "))
    }

    pub fn header_values(&self, name: &str) -> Vec<String> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

struct Shared {
    name: String,
    requests: Mutex<Vec<Recorded>>,
    stopping: AtomicBool,
    /// While set and ahead, answers wait until then: a stalled app.
    stalled_until: Mutex<Option<Instant>>,
    /// Each open connection by number, so that [`Upstream::kill`] can cut
    /// them as a crash would.
    open: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
}

/// Locks `mutex`, whatever a panicking holder left in it: a test that
/// failed must still be able to read what arrived.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running echo upstream. Stops accepting on drop.
pub struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accepting: Option<JoinHandle<()>>,
}

impl Upstream {
    /// Starts an echo upstream named `upstream`.
    pub fn start() -> Upstream {
        Self::start_named("upstream")
    }

    /// Starts an echo upstream whose replies carry `"upstream": name`, so a
    /// test can tell several apart.
    pub fn start_named(name: &str) -> Upstream {
        Self::start_at("127.0.0.1:0", name)
    }

    /// Starts an echo upstream on `address`: one that was dead until now.
    pub fn start_at(address: &str, name: &str) -> Upstream {
        let listener = TcpListener::bind(address).expect("bind the echo upstream");
        let addr = listener.local_addr().expect("upstream address");
        let shared = Arc::new(Shared {
            name: name.to_string(),
            requests: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            stalled_until: Mutex::new(None),
            open: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
        });
        let accepting = serve_connections(listener, Arc::clone(&shared), |s| &s.stopping, serve);
        Upstream {
            addr,
            shared,
            accepting: Some(accepting),
        }
    }

    /// Dies as a crashed app does: the port stops accepting and every open
    /// connection is cut, kept-alive ones included. Returns once the port
    /// refuses connections.
    pub fn kill(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and drops the listener.
        let _ = TcpStream::connect(self.addr);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
        for (_, connection) in lock(&self.shared.open).drain() {
            let _ = connection.shutdown(Shutdown::Both);
        }
    }

    /// Comes back on the same port after [`Upstream::kill`], keeping what
    /// was received before.
    pub fn revive(&mut self) {
        assert!(self.accepting.is_none(), "the upstream is running");
        let listener = TcpListener::bind(self.addr).expect("bind the echo upstream again");
        self.shared.stopping.store(false, Ordering::SeqCst);
        self.accepting = Some(serve_connections(
            listener,
            Arc::clone(&self.shared),
            |s| &s.stopping,
            serve,
        ));
    }

    /// Stalls for `stall`: every request that arrives from now on, and
    /// every one in hand, is answered only when it has passed.
    pub fn stall_for(&self, stall: Duration) {
        *lock(&self.shared.stalled_until) = Some(Instant::now() + stall);
    }

    /// `127.0.0.1:PORT`, the form the config's `upstream` takes.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything received so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    pub fn count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// The most recent request; panics if nothing arrived.
    pub fn last(&self) -> Recorded {
        self.requests()
            .pop()
            .expect("the upstream received no request")
    }

    /// Forgets what was received so far.
    pub fn clear(&self) {
        lock(&self.shared.requests).clear();
    }

    /// An address where nothing listens: a dead upstream.
    pub fn dead_address() -> String {
        format!("127.0.0.1:{}", crate::harness::free_port())
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Serves each connection `listener` accepts on a thread of its own until
/// `stopping` says so: the next connection (the wake-up `stop` makes) ends
/// the loop, and the returned thread with it. Shared by the test servers.
pub(crate) fn serve_connections<S: Send + Sync + 'static>(
    listener: TcpListener,
    shared: Arc<S>,
    stopping: fn(&S) -> &AtomicBool,
    serve: fn(TcpStream, &S),
) -> JoinHandle<()> {
    thread::spawn(move || {
        for stream in listener.incoming() {
            if stopping(&shared).load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let shared = Arc::clone(&shared);
            thread::spawn(move || serve(stream, &shared));
        }
    })
}

/// Serves one keep-alive connection until the peer closes it, or until
/// the upstream is killed.
fn serve(stream: TcpStream, shared: &Shared) {
    let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    let (Ok(handle), Ok(writer)) = (stream.try_clone(), stream.try_clone()) else {
        return;
    };
    lock(&shared.open).insert(id, handle);
    // Registered first, then checked: a connection `kill` did not see is
    // one that sees its flag here.
    if !shared.stopping.load(Ordering::SeqCst) {
        answer_requests(stream, writer, shared);
    }
    lock(&shared.open).remove(&id);
}

fn answer_requests(stream: TcpStream, mut writer: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let body = echo_body(&request, &shared.name);
        lock(&shared.requests).push(request);
        let stalled_until = *lock(&shared.stalled_until);
        if let Some(wait) = stalled_until.and_then(|t| t.checked_duration_since(Instant::now())) {
            thread::sleep(wait);
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{}\r\n{}",
            body.len(),
            if close { "connection: close\r\n" } else { "" },
            body
        );
        if writer.write_all(response.as_bytes()).is_err() || close {
            return;
        }
    }
}

fn echo_body(request: &Recorded, name: &str) -> String {
    let mut headers = Map::new();
    for (header, _) in &request.headers {
        if !headers.contains_key(header) {
            let joined = request.header(header).unwrap_or_default();
            headers.insert(header.clone(), Value::String(joined));
        }
    }
    json!({
        "upstream": name,
        "method": request.method,
        "path": request.path,
        "headers": headers,
    })
    .to_string()
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let head = read_head(reader)?;
    let at = Instant::now();
    let body = read_body(reader, &head)?;
    Some(Recorded {
        method: head.method,
        path: head.path,
        headers: head.headers,
        body,
        at,
    })
}

/// A request line and its headers, as both test servers (this one and the
/// SMS provider) read them.
pub(crate) struct Head {
    pub method: String,
    /// Path plus query, exactly as sent.
    pub path: String,
    /// HTTP/1.0 (or no version): the connection closes after the answer.
    pub http10: bool,
    /// Lower-cased names, in arrival order.
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the request line and headers; `None` at EOF or on garbage.
pub(crate) fn read_head(reader: &mut BufReader<TcpStream>) -> Option<Head> {
    let mut line = String::new();
    // Skip stray blank lines between keep-alive requests.
    while line.trim().is_empty() {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let http10 = parts.next().is_none_or(|v| v == "HTTP/1.0");
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Some(Head {
        method,
        path,
        http10,
        headers,
    })
}

/// Reads the body `head` announces: chunked, Content-Length, or none.
pub(crate) fn read_body(reader: &mut BufReader<TcpStream>, head: &Head) -> Option<Vec<u8>> {
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return read_chunked(reader);
    }
    let Some(length) = head.header("content-length") else {
        return Some(Vec::new());
    };
    let mut body = vec![0; length.parse().ok()?];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line).ok()?;
        let size_text = size_line.trim().split(';').next()?.to_string();
        let size = usize::from_str_radix(&size_text, 16).ok()?;
        if size == 0 {
            // Trailers, then the blank line.
            loop {
                let mut trailer = String::new();
                if reader.read_line(&mut trailer).ok()? == 0 || trailer.trim().is_empty() {
                    return Some(body);
                }
            }
        }
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk).ok()?;
        body.extend_from_slice(&chunk);
        let mut crlf = String::new();
        reader.read_line(&mut crlf).ok()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_upstream_describes_and_records_each_request() {
        let upstream = Upstream::start_named("echo");
        let client = reqwest::blocking::Client::new();
        for i in 0..2 {
            let body: Value = client
                .post(format!("{}/p/{i}?q=1", upstream.url()))
                .header("X-Test", "a")
                .header("x-test", "b")
                .body("hello")
                .send()
                .and_then(|r| r.json())
                .expect("echo reply");
            assert_eq!(body["upstream"], "echo");
            assert_eq!(body["method"], "POST");
            assert_eq!(body["path"], format!("/p/{i}?q=1"));
            assert_eq!(body["headers"]["x-test"], "a, b");
        }
        assert_eq!(upstream.count(), 2);
        assert_eq!(upstream.last().body, b"hello");
    }

    /// One request on a kept-alive connection: its status, or the error.
    fn get(stream: &mut TcpStream, path: &str) -> std::io::Result<String> {
        write!(stream, "GET {path} HTTP/1.1\r\nhost: x\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        let mut rest = vec![0u8; 4096];
        let _ = stream.read(&mut rest)?;
        Ok(String::from_utf8_lossy(&head).into_owned())
    }

    #[test]
    fn a_killed_upstream_cuts_its_connections_and_revives_on_its_port() {
        let mut upstream = Upstream::start();
        let mut kept = TcpStream::connect(upstream.address()).expect("connect");
        assert_eq!(get(&mut kept, "/a").expect("answered"), "HTTP/1.1 200");
        upstream.kill();
        assert!(get(&mut kept, "/b").is_err(), "a kept connection survived");
        assert!(TcpStream::connect(upstream.address()).is_err());
        upstream.revive();
        let mut fresh = TcpStream::connect(upstream.address()).expect("reconnect");
        assert_eq!(get(&mut fresh, "/c").expect("answered"), "HTTP/1.1 200");
        let paths: Vec<String> = upstream.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/a", "/c"]);
    }

    #[test]
    fn a_stalled_upstream_answers_when_the_stall_ends() {
        let upstream = Upstream::start();
        upstream.stall_for(Duration::from_millis(300));
        let started = Instant::now();
        let mut stream = TcpStream::connect(upstream.address()).expect("connect");
        assert_eq!(get(&mut stream, "/slow").expect("answered"), "HTTP/1.1 200");
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(upstream.last().at < started + Duration::from_millis(250));
    }
}
