//! `server.max_request_line`, `server.max_header_bytes`,
//! `server.max_headers` and `server.max_form_bytes`.

use super::error::Problems;
use super::raw::RawServer;
use super::settings::RequestLimits;

/// One limit's key, its value if set, its default and its range.
struct Limit {
    key: &'static str,
    raw: Option<usize>,
    default: usize,
    range: (usize, usize),
    unit: &'static str,
}

impl Limit {
    fn check(self, p: &mut Problems) -> usize {
        let Some(value) = self.raw else {
            return self.default;
        };
        let (min, max) = self.range;
        if !(min..=max).contains(&value) {
            p.push(
                self.key,
                format!("{value} is out of range: {min} to {max} {}", self.unit),
            );
            return self.default;
        }
        value
    }
}

/// The request limits, each within a range that Pingora's own parser
/// (at most 256 header lines, about 1 MiB of head) leaves to Gatehouse to
/// answer: past those, Pingora would answer a bare 400 first.
pub(super) fn check_request_limits(p: &mut Problems, raw: &RawServer) -> RequestLimits {
    let default = RequestLimits::default();
    RequestLimits {
        request_line: Limit {
            key: "server.max_request_line",
            raw: raw.max_request_line,
            default: default.request_line,
            range: (256, 64 * 1024),
            unit: "bytes",
        }
        .check(p),
        header_bytes: Limit {
            key: "server.max_header_bytes",
            raw: raw.max_header_bytes,
            default: default.header_bytes,
            range: (1024, 512 * 1024),
            unit: "bytes",
        }
        .check(p),
        headers: Limit {
            key: "server.max_headers",
            raw: raw.max_headers,
            default: default.headers,
            range: (8, 256),
            unit: "header lines",
        }
        .check(p),
        form_bytes: Limit {
            key: "server.max_form_bytes",
            raw: raw.max_form_bytes,
            default: default.form_bytes,
            range: (1024, 1024 * 1024),
            unit: "bytes",
        }
        .check(p),
    }
}
