//! Slow clients: a request head trickled in a line at a time is cut off
//! with a 408 after `server.header_timeout`, an idle kept-alive connection
//! is closed after `server.keepalive_timeout`, and other clients are served
//! meanwhile; over plain HTTP and over TLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gatehouse_tests::{Backend, Stack};

/// What the tests configure; short so the tests stay quick.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a trickling client would keep going if nobody stopped it.
const TRICKLE_FOR: Duration = Duration::from_secs(20);

fn stack() -> Stack {
    Stack::start_with(Backend::Memory, |c| {
        c.header_timeout("2s").keepalive_timeout("2s")
    })
}

/// What a trickling client saw: everything the server sent, and when the
/// connection ended after it started.
struct Cut {
    answer: String,
    after: Duration,
}

/// Sends a request head one header line a second through `send`, reading
/// through `receive` (which must time out after about a second), until the
/// server ends the connection or [`TRICKLE_FOR`] has passed.
fn trickle(mut send: impl Write, mut receive: impl Read, served_meanwhile: impl FnOnce()) -> Cut {
    let started = Instant::now();
    let mut served_meanwhile = Some(served_meanwhile);
    let mut answer = Vec::new();
    let _ = send.write_all(b"GET /public/slow HTTP/1.1\r\nHost: gatehouse.test\r\n");
    for line in 0.. {
        let mut buf = [0u8; 1024];
        match receive.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if is_timeout(&e) => {}
            // A reset after the answer is still the connection ending.
            Err(_) => break,
        }
        if let Some(check) = served_meanwhile.take() {
            check();
        }
        assert!(
            started.elapsed() < TRICKLE_FOR,
            "still connected after {:?}, having sent {line} header lines",
            started.elapsed()
        );
        let _ = send.write_all(format!("X-Slow-{line}: still coming\r\n").as_bytes());
    }
    Cut {
        answer: String::from_utf8_lossy(&answer).into_owned(),
        after: started.elapsed(),
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn assert_cut_with_408(cut: &Cut, over: &str) {
    println!(
        "{over}: head trickled a line a second, cut after {:?}",
        cut.after
    );
    assert!(
        cut.answer.starts_with("HTTP/1.1 408 "),
        "{over}: expected a 408, got {:?}",
        cut.answer
    );
    assert!(
        cut.answer
            .to_ascii_lowercase()
            .contains("connection: close"),
        "{:?}",
        cut.answer
    );
    // Not before the configured time; well before the trickle would end.
    assert!(
        cut.after >= HEADER_TIMEOUT - Duration::from_millis(200),
        "{over}: cut after {:?}, before header_timeout",
        cut.after
    );
}

#[test]
fn a_head_trickled_over_plain_http_is_answered_408_and_closed() {
    let stack = stack();
    let stream = TcpStream::connect(("127.0.0.1", stack.gateway.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .expect("read timeout");
    let send = stream.try_clone().expect("clone the stream");
    let cut = trickle(send, stream, || {
        let response = stack.client().get("/public/other");
        assert_eq!(response.status, 200, "another client was not served");
    });
    assert_cut_with_408(&cut, "plain HTTP");
    assert_eq!(
        stack.upstream.count(),
        1,
        "the trickled request reached the app"
    );
}

#[test]
fn a_head_trickled_over_tls_is_answered_408_and_closed() {
    let pair = gatehouse_testkit::self_signed();
    let stack = Stack::start_with(Backend::Memory, |c| {
        c.tls(&pair).header_timeout("2s").keepalive_timeout("2s")
    });
    let mut client = Command::new("openssl")
        .args(["s_client", "-quiet", "-no_ign_eof", "-alpn", "http/1.1"])
        .args(["-connect", &format!("127.0.0.1:{}", stack.gateway.port())])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run openssl s_client (Debian: apt-get install openssl)");
    let send = client.stdin.take().expect("s_client's stdin");
    let receive = lines_with_timeout(client.stdout.take().expect("s_client's stdout"));
    let cut = trickle(send, receive, || {
        let response = stack.client().get("/public/other");
        assert_eq!(response.status, 200, "another client was not served");
    });
    let _ = client.kill();
    let _ = client.wait();
    assert_cut_with_408(&cut, "TLS");
    // The listener still serves HTTP/2 and HTTP/1.1 with the deadlines on.
    assert_eq!(
        stack.client().get("/public/h2").version,
        reqwest::Version::HTTP_2
    );
    let http1 = stack.client().over_tls_http1(&pair.cert_pem);
    for path in ["/public/a", "/public/b"] {
        let response = http1.get(path);
        assert_eq!(
            (response.status, response.version),
            (200, reqwest::Version::HTTP_11)
        );
    }
}

/// A pipe's reads with a one-second timeout, as a socket's: a thread reads
/// lines and hands them over a channel.
fn lines_with_timeout(pipe: impl Read + Send + 'static) -> impl Read {
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    ChannelReader { rx }
}

struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                let n = line.len().min(buf.len());
                buf[..n].copy_from_slice(&line[..n]);
                Ok(n)
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                Err(std::io::ErrorKind::TimedOut.into())
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Ok(0),
        }
    }
}

#[test]
fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let stack = stack();
    let mut stream = TcpStream::connect(("127.0.0.1", stack.gateway.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let started = Instant::now();
    let mut answer = Vec::new();
    let ended = stream.read_to_end(&mut answer);
    let after = started.elapsed();
    println!("silent connection closed after {after:?}");
    assert!(
        ended.as_ref().map_or_else(|e| !is_timeout(e), |_| true),
        "still open after {after:?}"
    );
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    assert!(
        after >= HEADER_TIMEOUT - Duration::from_millis(200),
        "{after:?}"
    );
}

/// Sends one keep-alive GET and reads its whole answer.
fn get_on(stream: &mut TcpStream, reader: &mut BufReader<TcpStream>, path: &str) -> u16 {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n").as_bytes())
        .expect("send the request");
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header line");
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().expect("content length");
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    status
}

#[test]
fn an_idle_kept_alive_connection_is_closed_and_a_busy_one_is_not() {
    let stack = stack();
    let mut stream = TcpStream::connect(("127.0.0.1", stack.gateway.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    // Busy: a request every second, well past the idle timeout in all.
    let busy = Instant::now();
    for n in 0..4 {
        assert_eq!(
            get_on(&mut stream, &mut reader, &format!("/public/{n}")),
            200
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(busy.elapsed() > KEEPALIVE_TIMEOUT);

    // Idle: the gateway closes it.
    let idle = Instant::now();
    let mut rest = Vec::new();
    let ended = reader.read_to_end(&mut rest);
    let after = idle.elapsed() + Duration::from_secs(1);
    println!("idle kept-alive connection closed after about {after:?}");
    assert!(
        ended.as_ref().map_or_else(|e| !is_timeout(e), |_| true),
        "still open {after:?} after the last answer"
    );
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    assert!(
        after >= KEEPALIVE_TIMEOUT - Duration::from_millis(200),
        "{after:?}"
    );
}
