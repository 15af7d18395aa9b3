//! Hand-written HTTP/1.1 over a TCP socket, for what an HTTP client library
//! would "fix" for us: unnormalised paths (`/a/../b`, `//x`) sent verbatim,
//! and several requests on one keep-alive connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::Response;

/// Sends `GET path` byte-for-byte over a fresh TCP connection, so the path
/// reaches the gateway unnormalised (HTTP clients resolve `..` themselves).
pub fn raw_get(port: u16, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    raw_send(port, request.as_bytes())
}

/// Sends `request` exactly as given over a fresh TCP connection and reads
/// the answer until the gateway closes it: the request should say
/// `Connection: close`, or be one the gateway refuses.
pub fn raw_send(port: u16, request: &[u8]) -> Response {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the gateway");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream.write_all(request).expect("send the raw request");
    let mut raw = Vec::new();
    // A reset after the response is fine; what was read is what counts.
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line in {text:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_string(),
        elapsed: started.elapsed(),
        version: reqwest::Version::HTTP_11,
    }
}

/// Sends several `GET`s one after another on a single keep-alive
/// connection, as browsers do, and returns each answer (or why there was
/// none: the connection was closed or reset). Stops early when a response
/// says `Connection: close`, as a client would.
pub fn raw_keep_alive(
    port: u16,
    paths: &[&str],
    headers: &[(&str, &str)],
) -> Vec<Result<Response, String>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the gateway");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut answers = Vec::new();
    for path in paths {
        let started = Instant::now();
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let answer = stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("sending {path}: {e}"))
            .and_then(|()| read_response(&mut reader).map_err(|e| format!("reading {path}: {e}")))
            .map(|mut response| {
                response.elapsed = started.elapsed();
                response
            });
        // Like a browser: stop on a failure, or when the server said it
        // closes the connection.
        let done = answer.as_ref().map_or(true, |response| {
            response
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        });
        answers.push(answer);
        if done {
            break;
        }
    }
    answers
}

/// Reads one line; end of stream is an error here (a response was due).
fn read_line(reader: &mut impl BufRead, line: &mut String) -> Result<(), String> {
    line.clear();
    match reader.read_line(line) {
        Ok(0) => Err("connection closed".to_string()),
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Reads one HTTP/1.1 response with a `Content-Length` or chunked body.
fn read_response(reader: &mut impl BufRead) -> Result<Response, String> {
    let mut line = String::new();
    read_line(reader, &mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut headers = Vec::new();
    loop {
        read_line(reader, &mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            read_line(reader, &mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|e| format!("bad chunk size {line:?}: {e}"))?;
            if size == 0 {
                read_line(reader, &mut line)?;
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).map_err(|e| e.to_string())?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = find("content-length") {
        let length: usize = length.parse().map_err(|e| format!("bad length: {e}"))?;
        body = vec![0; length];
        reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    }
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        elapsed: Duration::ZERO,
        version: reqwest::Version::HTTP_11,
    })
}
