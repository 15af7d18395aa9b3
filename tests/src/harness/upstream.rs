//! The protected app: a real HTTP/1.1 echo server on an ephemeral port that
//! answers every request with 200 JSON describing what it received, and
//! records each request so tests can assert what reached it (or that nothing
//! did).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

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
}

/// A running echo upstream. Stops accepting on drop.
pub struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
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
        });
        serve_connections(listener, Arc::clone(&shared), |s| &s.stopping, serve);
        Upstream { addr, shared }
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
        self.shared.requests.lock().expect("requests lock").clone()
    }

    pub fn count(&self) -> usize {
        self.shared.requests.lock().expect("requests lock").len()
    }

    /// The most recent request; panics if nothing arrived.
    pub fn last(&self) -> Recorded {
        self.requests()
            .pop()
            .expect("the upstream received no request")
    }

    /// Forgets what was received so far.
    pub fn clear(&self) {
        self.shared.requests.lock().expect("requests lock").clear();
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

/// Serves one keep-alive connection until the peer closes it.
/// Serves each connection `listener` accepts on a thread of its own until
/// `stopping` says so: the next connection (the wake-up `stop` makes) ends
/// the loop. Shared by the test servers.
pub(crate) fn serve_connections<S: Send + Sync + 'static>(
    listener: TcpListener,
    shared: Arc<S>,
    stopping: fn(&S) -> &AtomicBool,
    serve: fn(TcpStream, &S),
) {
    thread::spawn(move || {
        for stream in listener.incoming() {
            if stopping(&shared).load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let shared = Arc::clone(&shared);
            thread::spawn(move || serve(stream, &shared));
        }
    });
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let body = echo_body(&request, &shared.name);
        shared.requests.lock().expect("requests lock").push(request);
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
    let body = read_body(reader, &head)?;
    Some(Recorded {
        method: head.method,
        path: head.path,
        headers: head.headers,
        body,
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
}
