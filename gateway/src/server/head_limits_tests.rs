use super::*;

/// Small caps, so heads at and past them are easy to write out.
const LIMITS: RequestLimits = RequestLimits {
    request_line: 20,
    header_bytes: 30,
    headers: 3,
    form_bytes: 1024,
};

/// What the meter says of `chunks`, fed one after another.
fn measure(chunks: &[&str]) -> Measure {
    let mut meter = HeadMeter::default();
    for chunk in chunks {
        match meter.feed(chunk.as_bytes(), &LIMITS) {
            Measure::More => {}
            done => return done,
        }
    }
    Measure::More
}

fn ends(chunks: &[&str]) -> bool {
    measure(chunks) == Measure::Ended
}

#[test]
fn the_empty_line_ends_a_head_across_reads() {
    assert!(ends(&["GET / HTTP/1.1\r\nHost: a\r\n\r\n"]));
    assert!(ends(&["GET / HTTP/1.1\r\nHost: a\r", "\n", "\r", "\n"]));
    assert!(ends(&["GET / HTTP/1.1\nHost: a\n\n"]));
    assert!(ends(&["GET / HTTP/1.1\r\n\n"]));
    assert!(!ends(&["GET / HTTP/1.1\r\n", "Host: a\r\n", "X: b\r\n"]));
}

#[test]
fn empty_lines_before_the_request_line_do_not_end_it() {
    assert!(!ends(&["\r\n\r\n\n\n"]));
    assert!(ends(&["\r\n\r\nGET / HTTP/1.1\r\n\r\n"]));
}

#[test]
fn a_request_line_at_the_cap_passes_and_one_byte_more_does_not() {
    // 20 bytes: "GET /" + 6 + " HTTP/1.1".
    let at = "GET /abcdef HTTP/1.1";
    assert_eq!(at.len(), LIMITS.request_line);
    assert!(ends(&[at, "\r\n\r\n"]));
    let past = "GET /abcdefg HTTP/1.1";
    assert_eq!(measure(&[past]), Measure::Over(Over::RequestLine));
    // Said at the byte past the cap, without waiting for the line's end.
    assert_eq!(
        measure(&["GET /abcdefghijklmnop"]),
        Measure::Over(Over::RequestLine)
    );
}

#[test]
fn header_bytes_count_each_line_with_its_ending() {
    // "Host: example\r\n" is 15; 15 + 15 = 30 with "X-Pad: abcdef\r\n".
    assert!(ends(&[
        "GET / HTTP/1.1\r\nHost: example\r\nX-Pad: abcdef\r\n",
        "\r\n"
    ]));
    assert_eq!(
        measure(&["GET / HTTP/1.1\r\nHost: example\r\nX-Pad: abcdefg\r\n\r\n"]),
        Measure::Over(Over::HeaderBytes)
    );
    // Bare LFs count one byte each: the same header, one byte longer.
    assert!(ends(&[
        "GET / HTTP/1.1\nHost: example\nX-Pad: abcdefgh\n\n"
    ]));
    // A line that never ends is stopped at the byte past the cap.
    assert_eq!(
        measure(&["GET / HTTP/1.1\r\nX: ", &"y".repeat(40)]),
        Measure::Over(Over::HeaderBytes)
    );
}

#[test]
fn a_header_count_at_the_cap_passes_and_one_more_does_not() {
    assert!(ends(&["GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n"]));
    assert_eq!(
        measure(&["GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n"]),
        Measure::Over(Over::Headers)
    );
}

#[test]
fn each_raw_answer_says_its_length_and_closes() {
    for over in [Over::RequestLine, Over::HeaderBytes, Over::Headers] {
        let raw = over.raw_answer(&RequestLimits::default());
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with(&format!("HTTP/1.1 {} ", over.status())));
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(head.lines().any(|line| line == "Connection: close"));
    }
}

#[test]
fn a_parsed_head_is_measured_as_http_1_1_would_send_it() {
    let mut req = RequestHeader::build("GET", b"/abcdef", None).unwrap();
    assert_eq!(over_in(&req, &LIMITS), None);
    req.set_uri("/abcdefg".parse().unwrap());
    assert_eq!(over_in(&req, &LIMITS), Some(Over::RequestLine));

    let mut req = RequestHeader::build("GET", b"/", None).unwrap();
    req.append_header("host", "example").unwrap();
    req.append_header("x-pad", "abcdef").unwrap();
    assert_eq!(over_in(&req, &LIMITS), None);
    req.insert_header("x-pad", "abcdefg").unwrap();
    assert_eq!(over_in(&req, &LIMITS), Some(Over::HeaderBytes));

    let mut req = RequestHeader::build("GET", b"/", None).unwrap();
    for name in ["a", "b", "c"] {
        req.append_header(name, "1").unwrap();
    }
    assert_eq!(over_in(&req, &LIMITS), None);
    req.append_header("d", "1").unwrap();
    assert_eq!(over_in(&req, &LIMITS), Some(Over::Headers));
}

#[test]
fn carriage_returns_in_a_header_line_count_before_its_end() {
    // 23 bytes of content, then CRs that never meet a LF: past 30 bytes by
    // the eighth, long before any header timeout.
    let cr = "\r".repeat(10);
    assert_eq!(
        measure(&["GET / HTTP/1.1\r\nX: abcdefghijklmnopqrst", &cr]),
        Measure::Over(Over::HeaderBytes)
    );
    // The CR of the empty line that ends a head at the cap does not count.
    assert!(ends(&[
        "GET / HTTP/1.1\r\nHost: example\r\nX-Pad: abcdef\r\n",
        "\r",
        "\n"
    ]));
}
