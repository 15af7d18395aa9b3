//! A real SMTP server (aiosmtpd, run by `tests/support/smtp_sink.py`) that
//! accepts every message, so the gateway's mail goes through a genuine SMTP
//! conversation and the test can read the code it sent.
//!
//! The script binds its own ephemeral port and announces it (`READY <port>`),
//! then reports each message as one JSON line; a reader thread collects them.
//! It exits when its stdin closes, so it cannot outlive the test process.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::harness::wait_until;

/// The script the sink runs.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/support/smtp_sink.py");

/// How long to wait for the script to start, or for an expected mail.
const DEADLINE: Duration = Duration::from_secs(10);

/// One message as the SMTP server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets.
    pub to: Vec<String>,
    /// The `Subject` header, RFC 2047 encoded words decoded.
    pub subject: String,
    /// The text/plain body, transfer encoding and charset undone, with `\n`
    /// line endings.
    pub body: String,
    /// The whole message as sent after `DATA` (headers and MIME parts).
    pub raw: String,
}

impl Mail {
    /// Whether `addr` is among the envelope recipients (ASCII case-insensitive).
    pub fn is_to(&self, addr: &str) -> bool {
        self.to.iter().any(|to| to.eq_ignore_ascii_case(addr))
    }

    /// The one-time code in the body, if any (see [`one_time_code`]).
    pub fn code(&self) -> Option<String> {
        one_time_code(&self.body)
    }
}

#[derive(Default)]
struct Shared {
    mails: Mutex<Vec<Mail>>,
    /// The script's stderr and any stdout line that was not a mail: shown in
    /// panic messages, since that is where a failure explains itself.
    diagnostics: Mutex<String>,
}

impl Shared {
    fn note(&self, text: &str) {
        let mut diagnostics = self.diagnostics.lock().expect("diagnostics lock");
        diagnostics.push_str(text);
        if !text.ends_with('\n') {
            diagnostics.push('\n');
        }
    }

    fn diagnostics(&self) -> String {
        self.diagnostics.lock().expect("diagnostics lock").clone()
    }
}

/// A running SMTP sink. Killed on drop.
pub struct SmtpSink {
    port: u16,
    child: Child,
    /// Held open: the script exits when it closes.
    _stdin: ChildStdin,
    shared: Arc<Shared>,
}

impl SmtpSink {
    /// Starts the sink and waits (with a deadline) until it listens.
    pub fn start() -> SmtpSink {
        let python = python();
        let mut child = Command::new(python)
            .arg(SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {python} {SCRIPT}: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let shared = Arc::new(Shared::default());

        let stderr_shared = Arc::clone(&shared);
        let stderr_thread = thread::spawn(move || {
            let mut text = String::new();
            let mut stderr = BufReader::new(stderr);
            loop {
                text.clear();
                match stderr.read_line(&mut text) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => stderr_shared.note(&text),
                }
            }
        });

        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout_shared = Arc::clone(&shared);
        thread::spawn(move || read_stdout(stdout, ready_tx, &stdout_shared));

        let port = match ready_rx.recv_timeout(DEADLINE) {
            Ok(port) => port,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = stderr_thread.join();
                panic!(
                    "the SMTP sink ({python} {SCRIPT}) did not print READY within {DEADLINE:?}; \
                     its output:\n{}",
                    shared.diagnostics()
                );
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // The script exited: its stderr says why.
                let status = child.wait();
                let _ = stderr_thread.join();
                panic!(
                    "the SMTP sink ({python} {SCRIPT}) exited before it was ready ({status:?}); \
                     is aiosmtpd installed (Debian: python3-aiosmtpd)? its output:\n{}",
                    shared.diagnostics()
                );
            }
        };
        SmtpSink {
            port,
            child,
            _stdin: stdin,
            shared,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP, no STARTTLS, no AUTH.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        self.shared.mails.lock().expect("mails lock").clone()
    }

    /// The mails with `addr` among their envelope recipients, oldest first.
    pub fn mails_to(&self, addr: &str) -> Vec<Mail> {
        self.mails().into_iter().filter(|m| m.is_to(addr)).collect()
    }

    /// Blocks until at least `nth` (1-based) mails to `to` arrived, and
    /// returns the `nth`; panics after 10 s, listing what did arrive.
    pub fn wait_for_mail(&self, to: &str, nth: usize) -> Mail {
        assert!(nth >= 1, "wait_for_mail counts from 1, got nth = 0");
        if wait_until(DEADLINE, || self.mails_to(to).len() >= nth) {
            return self.mails_to(to).swap_remove(nth - 1);
        }
        let arrived: Vec<String> = self
            .mails()
            .iter()
            .map(|m| format!("  to {:?}: {:?}", m.to, m.subject))
            .collect();
        panic!(
            "timed out after {DEADLINE:?} waiting for mail #{nth} to {to}; \
             the SMTP sink received {} mail(s):\n{}\nsink output:\n{}",
            arrived.len(),
            arrived.join("\n"),
            self.shared.diagnostics()
        );
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The interpreter to run the script with: Debian's, where python3-aiosmtpd
/// installs, when it exists (a pyenv or venv `python3` on `PATH` usually
/// lacks aiosmtpd); otherwise whatever `python3` is on `PATH`.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Reads the script's stdout: the READY line (sent on `ready`), then mails.
fn read_stdout(stdout: impl Read, ready: mpsc::Sender<u16>, shared: &Shared) {
    let mut ready = Some(ready);
    let mut lines = BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(port) = line.strip_prefix("READY ") {
            match (port.trim().parse(), ready.take()) {
                (Ok(port), Some(tx)) => {
                    let _ = tx.send(port);
                }
                _ => shared.note(&format!("unexpected line: {line}")),
            }
            continue;
        }
        match parse_mail(&line) {
            Some(mail) => shared.mails.lock().expect("mails lock").push(mail),
            None => shared.note(&format!("not a mail: {line}")),
        }
    }
}

fn parse_mail(line: &str) -> Option<Mail> {
    let value: Value = serde_json::from_str(line).ok()?;
    let text = |key: &str| value[key].as_str().map(str::to_string);
    Some(Mail {
        from: text("mail_from")?,
        to: value["rcpt_tos"]
            .as_array()?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        subject: text("subject").unwrap_or_default(),
        body: text("body").unwrap_or_default(),
        raw: text("raw").unwrap_or_default(),
    })
}

/// The first run of exactly six ASCII digits in `text` that is not part of a
/// longer run of digits: the one-time code in a mail or SMS.
pub fn one_time_code(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 6 {
                return Some(text[start..i].to_string());
            }
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpStream;

    /// Reads one (possibly multi-line) SMTP reply and checks its code.
    fn expect_reply(reader: &mut BufReader<TcpStream>, code: &str) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).expect("read an SMTP reply");
            assert!(
                n > 0,
                "the SMTP sink closed the connection; so far: {reply}"
            );
            reply.push_str(&line);
            // "250-..." continues, "250 ..." ends the reply.
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        assert!(
            reply.starts_with(code),
            "expected SMTP reply {code}, got {reply:?}"
        );
        reply
    }

    fn send(stream: &mut TcpStream, line: &str) {
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write to the SMTP sink");
    }

    #[test]
    fn sink_receives_a_mail_over_real_smtp() {
        let sink = SmtpSink::start();
        assert!(sink.url().ends_with(&format!(":{}", sink.port())));
        let mut stream = TcpStream::connect(("127.0.0.1", sink.port())).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        expect_reply(&mut reader, "220");
        send(&mut stream, "EHLO client.test");
        expect_reply(&mut reader, "250");
        send(&mut stream, "MAIL FROM:<gatehouse@example.test>");
        expect_reply(&mut reader, "250");
        send(&mut stream, "RCPT TO:<Bob@Example.com>");
        expect_reply(&mut reader, "250");
        send(&mut stream, "DATA");
        expect_reply(&mut reader, "354");
        for line in [
            "From: Gatehouse <gatehouse@example.test>",
            "To: bob@example.com",
            "Subject: Your sign-in code",
            "",
            "Your code is 042917. It expires in 10 minutes.",
            "..a dot-stuffed line",
            ".",
        ] {
            send(&mut stream, line);
        }
        expect_reply(&mut reader, "250");
        send(&mut stream, "QUIT");
        expect_reply(&mut reader, "221");

        let mail = sink.wait_for_mail("bob@example.com", 1);
        assert_eq!(mail.from, "gatehouse@example.test");
        assert_eq!(mail.to, vec!["Bob@Example.com".to_string()]);
        assert_eq!(mail.subject, "Your sign-in code");
        assert_eq!(
            mail.body,
            "Your code is 042917. It expires in 10 minutes.\n.a dot-stuffed line\n"
        );
        assert_eq!(mail.code().as_deref(), Some("042917"));
        assert!(mail.raw.contains("Subject: Your sign-in code"));
        assert_eq!(sink.mails().len(), 1);
        assert!(sink.mails_to("alice@example.com").is_empty());
    }

    #[test]
    fn one_time_code_is_the_first_run_of_exactly_six_digits() {
        assert_eq!(one_time_code("code: 123456").as_deref(), Some("123456"));
        assert_eq!(one_time_code("123456 is it").as_deref(), Some("123456"));
        assert_eq!(one_time_code("a012345b").as_deref(), Some("012345"));
        assert_eq!(
            one_time_code("ref 1234567, then 12345, then 654321 and 111111").as_deref(),
            Some("654321")
        );
        assert_eq!(one_time_code("valid 10 minutes, 12345"), None);
        assert_eq!(one_time_code("1234567"), None);
        assert_eq!(one_time_code("١٢٣٤٥٦ is not ASCII"), None);
        assert_eq!(one_time_code(""), None);
    }
}
