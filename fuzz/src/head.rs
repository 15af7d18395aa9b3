//! The request-head meter that enforces `server.max_request_line`,
//! `server.max_header_bytes` and `server.max_headers` as bytes arrive.

use gatehouse::config::RequestLimits;
use gatehouse::fuzzing::{measure_head, Head};

/// Small caps, so the fuzzer reaches each with short inputs.
const LIMITS: RequestLimits = RequestLimits {
    request_line: 40,
    header_bytes: 120,
    headers: 6,
    form_bytes: 1024,
};

/// The first byte picks where the rest is cut in two, as two reads; the
/// meter must say the same of it as of one read, and the same as a plain
/// count of the head it read.
pub fn head(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let whole = measure_head([rest], LIMITS);
    let cut = usize::from(cut).min(rest.len());
    let (first, second) = rest.split_at(cut);
    assert_eq!(
        measure_head([first, second], LIMITS),
        whole,
        "reads split at {cut} change the verdict on {rest:?}"
    );
    let bytewise = measure_head(rest.chunks(1), LIMITS);
    assert_eq!(
        bytewise, whole,
        "byte-by-byte reads change the verdict on {rest:?}"
    );
    assert_eq!(
        whole,
        reference(rest),
        "the meter disagrees with a plain count of {rest:?}"
    );
}

/// The same rules, written as plainly as possible: split into lines, skip
/// leading empty ones, measure the request line and the header lines.
fn reference(bytes: &[u8]) -> Head {
    let mut rest = bytes;
    let mut request_line = None;
    let (mut headers, mut header_bytes) = (0usize, 0usize);
    loop {
        let (line, ending, complete) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], i + 1, true),
            None => (rest, rest.len(), false),
        };
        let content = line.iter().filter(|&&b| b != b'\r').count();
        let crs = line.len() - content;
        if request_line.is_none() {
            if content > LIMITS.request_line {
                return Head::Over(414);
            }
            if !complete {
                return Head::More;
            }
            if content > 0 {
                request_line = Some(content);
            }
        } else {
            if content == 0 {
                return if complete { Head::Ended } else { Head::More };
            }
            if header_bytes + content + crs > LIMITS.header_bytes {
                return Head::Over(431);
            }
            if !complete {
                return Head::More;
            }
            headers += 1;
            header_bytes += content + crs + 1;
            if headers > LIMITS.headers || header_bytes > LIMITS.header_bytes {
                return Head::Over(431);
            }
        }
        if !complete {
            return Head::More;
        }
        rest = &rest[ending..];
    }
}
