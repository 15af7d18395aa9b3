//! Many connections (issue 21): a signed-in client is served while a
//! thousand idle kept-alive connections are held, and while a hundred
//! clients trickle their request heads, which the header timeout still
//! cuts off. The 10,000-connection run and its memory figures are the
//! documented bench, `benches/load/connections`: timing goals go there.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_tests::{Backend, Client, Stack};

const RD: &str = "/private/report";

/// Reads one response with a Content-Length body; returns its status.
fn read_response(stream: &mut TcpStream) -> u16 {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).expect("a response");
        assert!(n > 0, "closed before a response");
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().expect("a length"));
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).expect("the body");
        assert!(n > 0, "closed mid-body");
        data.extend_from_slice(&buf[..n]);
    }
    head[9..12].parse().expect("a status")
}

/// How many connections this process may hold, leaving room for the rest.
fn room_for(wanted: usize) -> usize {
    gatehouse::server::fd_limit::raise();
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        })
        .unwrap_or(1024);
    wanted.min(limit.saturating_sub(256))
}

fn signed_in(stack: &Stack) -> Client {
    let client = stack.client();
    client.login_ok("bob");
    assert_eq!(client.get(RD).status, 200);
    client
}

#[test]
fn a_signed_in_client_is_served_while_a_thousand_idle_connections_are_held() {
    let stack = Stack::start_with(Backend::Memory, |c| c.keepalive_timeout("120s"));
    let bob = signed_in(&stack);
    let port = stack.gateway.port();
    let n = room_for(1_000);
    assert!(n >= 500, "only {n} file descriptors to spare");
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /public/idle HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut s), 200, "connection {i}");
        held.push(s);
    }
    // All still open, and the signed-in client is served meanwhile.
    for _ in 0..20 {
        assert_eq!(bob.get(RD).status, 200);
    }
    assert_eq!(
        stack.upstream.last().header("remote-user").as_deref(),
        Some("bob")
    );
    // A held connection is still a live keep-alive connection.
    let last = held.last_mut().expect("connections");
    last.write_all(b"GET /public/again HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(last), 200);
}

#[test]
fn trickling_clients_are_cut_off_while_signed_in_traffic_is_served() {
    let stack = Stack::start_with(Backend::Memory, |c| c.header_timeout("2s"));
    let bob = signed_in(&stack);
    let port = stack.gateway.port();
    let n = room_for(100);
    let cut = Arc::new(AtomicUsize::new(0));
    let tricklers: Vec<_> = (0..n)
        .map(|_| {
            let cut = cut.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                s.set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                let started = Instant::now();
                let _ = s.write_all(b"GET /public/slow HTTP/1.1\r\nHost: t\r\nX-Slow: ");
                let mut buf = [0u8; 512];
                while started.elapsed() < Duration::from_secs(20) {
                    match s.read(&mut buf) {
                        Ok(n) if n > 0 && buf.starts_with(b"HTTP/1.1 408") => {
                            cut.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        Ok(_) => return,
                        Err(_) => {}
                    }
                    let _ = s.write_all(b"a");
                }
            })
        })
        .collect();
    // Served while they trickle.
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        assert_eq!(bob.get(RD).status, 200);
    }
    for t in tricklers {
        t.join().expect("a trickler");
    }
    assert_eq!(cut.load(Ordering::Relaxed), n, "every trickler got a 408");
    assert_eq!(bob.get(RD).status, 200);
}
