//! The caps on a request head (`server.max_request_line`,
//! `server.max_header_bytes`, `server.max_headers`), measured as it
//! arrives.
//!
//! Pingora 0.9 caps a head only at 256 header lines and about 1 MiB, and
//! past either answers a bare `400` with no explanation, after buffering up
//! to that megabyte. So each HTTP/1 head is measured on the connection's
//! stream, byte by byte, before Pingora parses it ([`HeadMeter`], driven by
//! the stream guard in `slow_clients`), and one byte past a cap is answered
//! there with a `414` or `431` that says which cap and how big it is.
//! Pingora reuses a connection only when it read nothing past the request
//! (it does not pipeline unless asked), so every HTTP/1 head on a
//! connection is measured from its first byte.
//!
//! HTTP/2 frames its headers itself, past the stream guard; its requests are
//! measured once parsed ([`over_in`]), as the same head would be in
//! HTTP/1.1, and answered in the proxy's first phase.

use pingora::http::RequestHeader;

use crate::config::RequestLimits;
use crate::respond::{wants_html, Reply};

/// Which cap a request head went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    RequestLine,
    HeaderBytes,
    Headers,
}

impl Over {
    pub(crate) fn status(self) -> u16 {
        match self {
            Over::RequestLine => 414,
            Over::HeaderBytes | Over::Headers => 431,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Over::RequestLine => "URI Too Long",
            Over::HeaderBytes | Over::Headers => "Request Header Fields Too Large",
        }
    }

    /// What the client is told: which cap, and its size.
    pub(crate) fn message(self, limits: &RequestLimits) -> String {
        match self {
            Over::RequestLine => format!(
                "The request line (method and address) is longer than {} bytes, \
                 the most this gateway accepts.",
                limits.request_line
            ),
            Over::HeaderBytes => format!(
                "The request's headers come to more than {} bytes, the most this \
                 gateway accepts. Clearing this site's cookies may help.",
                limits.header_bytes
            ),
            Over::Headers => format!(
                "The request has more than {} headers, the most this gateway accepts.",
                limits.headers
            ),
        }
    }

    /// The whole HTTP/1.1 answer, written straight to the connection.
    pub(crate) fn raw_answer(self, limits: &RequestLimits) -> Vec<u8> {
        let text = self.message(limits);
        format!(
            "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
            self.status(),
            self.reason(),
            text.len()
        )
        .into_bytes()
    }

    /// The answer as a page, or JSON for API clients, for HTTP/2.
    pub(crate) fn reply(self, req: &RequestHeader, limits: &RequestLimits) -> Reply {
        let (code, title) = match self {
            Over::RequestLine => ("request_line_too_long", "Address too long"),
            Over::HeaderBytes | Over::Headers => ("headers_too_large", "Headers too large"),
        };
        let message = self.message(limits);
        if wants_html(req) {
            Reply::error(req, self.status(), code, title, &message)
        } else {
            // An API client is told which cap too, not just that one was hit.
            let body = serde_json::json!({ "error": code, "reason": message });
            Reply::json(self.status(), &body)
        }
    }
}

/// What a chunk of a head told the meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Measure {
    /// The head goes on.
    More,
    /// The empty line that ends the head went by, within every cap.
    Ended,
    /// A cap was passed.
    Over(Over),
}

/// Follows one request head across reads: finds the empty line that ends
/// it (CRLF or a bare LF, as httparse accepts) and measures it against the
/// caps, stopping at the first byte past one.
///
/// The request line is counted without its line ending; each header line
/// with its own (CRLF counts two bytes). Empty lines before the request
/// line are skipped, as parsers do; they neither end nor start a head.
#[derive(Debug, Default)]
pub(crate) struct HeadMeter {
    /// Bytes of the current line but CR and LF.
    line: usize,
    /// CRs in the current line: part of its ending, as a rule.
    crs: usize,
    /// The request line is behind us.
    in_headers: bool,
    headers: usize,
    /// Header lines so far, with their endings.
    header_bytes: usize,
}

impl HeadMeter {
    pub(crate) fn feed(&mut self, bytes: &[u8], limits: &RequestLimits) -> Measure {
        for &byte in bytes {
            match byte {
                b'\n' if self.line == 0 => {
                    self.crs = 0;
                    if self.in_headers {
                        return Measure::Ended;
                    }
                }
                b'\n' => {
                    if let Some(over) = self.end_line(limits) {
                        return Measure::Over(over);
                    }
                }
                b'\r' => self.crs += 1,
                _ => self.line += 1,
            }
            if let Some(over) = self.over_mid_line(limits) {
                return Measure::Over(over);
            }
        }
        Measure::More
    }

    /// Whether the line so far already passes a cap, so that a line that
    /// never ends is stopped at the byte past it. CRs count once the line
    /// has content: those of the empty line that ends the head don't.
    fn over_mid_line(&self, limits: &RequestLimits) -> Option<Over> {
        if self.line == 0 {
            None
        } else if !self.in_headers {
            (self.line > limits.request_line).then_some(Over::RequestLine)
        } else {
            (self.header_bytes + self.line + self.crs > limits.header_bytes)
                .then_some(Over::HeaderBytes)
        }
    }

    /// Counts the line a LF just ended (not an empty one).
    fn end_line(&mut self, limits: &RequestLimits) -> Option<Over> {
        let length = self.line + self.crs + 1;
        self.line = 0;
        self.crs = 0;
        if !self.in_headers {
            self.in_headers = true;
            return None;
        }
        self.headers += 1;
        self.header_bytes += length;
        if self.headers > limits.headers {
            Some(Over::Headers)
        } else if self.header_bytes > limits.header_bytes {
            Some(Over::HeaderBytes)
        } else {
            None
        }
    }
}

/// The cap a parsed request head is past, measured as the same head would
/// be in HTTP/1.1: `METHOD TARGET HTTP/1.1`, and `Name: value` plus CRLF
/// for each header.
pub(crate) fn over_in(req: &RequestHeader, limits: &RequestLimits) -> Option<Over> {
    const VERSION: &str = " HTTP/1.1";
    let line = req.method.as_str().len() + 1 + req.raw_path().len() + VERSION.len();
    if line > limits.request_line {
        return Some(Over::RequestLine);
    }
    if req.headers.len() > limits.headers {
        return Some(Over::Headers);
    }
    let bytes: usize = req
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    (bytes > limits.header_bytes).then_some(Over::HeaderBytes)
}

#[cfg(test)]
#[path = "head_limits_tests.rs"]
mod tests;
