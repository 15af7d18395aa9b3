//! Deadlines for slow clients: a whole request head within
//! `server.header_timeout`, and idle kept-alive connections closed after
//! `server.keepalive_timeout`.
//!
//! Pingora 0.9 bounds each *read* of a request head (by the keep-alive
//! timeout, 60 s on a fresh connection) but not the head as a whole, so a
//! client sending a header line a second holds its connection for ever.
//! After the first request it also marks HTTP/1.1 connections "keep alive
//! forever" (`respect_keepalive`), so an idle kept-alive connection was
//! never closed either. No hook runs between accepting a connection and
//! reading the head (`early_request_filter` comes after it), so two
//! wrappers go around the proxy instead:
//!
//! - [`Deadlines`] wraps each HTTP/1 connection's stream in a [`HeadGuard`],
//!   which times the head from the connection's start (on a kept-alive
//!   connection, from the next request's first byte) to its empty line.
//!   When the deadline passes it writes a 408 itself, straight to the
//!   socket, and fails the read, so Pingora closes the connection. Pingora
//!   can't send the 408: a read that fails is, to it, a broken connection.
//! - [`KeepAlive`] sets each HTTP/1 session's keep-alive timeout before its
//!   head is read (Pingora bounds the wait for the next request by it), and
//!   tells the guard a new head is due. HTTP/2 connections get the same
//!   idle timeout through Pingora's `h2_idle_timeout`.
//!
//! The guard also measures each head against the request limits
//! (`head_limits`) and answers one byte past a cap the same way, with a
//! 414 or 431. After such an answer it reads, for a moment, what the client
//! still sends before the connection closes: closing on unread bytes
//! resets the connection, and a client still sending may then lose the
//! answer.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::{HttpServerApp, HttpServerOptions, ReusedHttpStream, ServerApp};
use pingora::protocols::http::v2::server::H2Options;
use pingora::protocols::http::ServerSession;
use pingora::protocols::{Stream, ALPN, IO};
use pingora::server::ShutdownWatch;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

mod passthrough;

use super::head_limits::{HeadMeter, Measure, Over};
use crate::config::RequestLimits;

/// What a client whose head came too slowly reads before the connection
/// closes.
const TOO_SLOW: &[u8] = b"HTTP/1.1 408 Request Timeout\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 36\r\n\
Connection: close\r\n\
\r\n\
The request took too long to arrive.";

/// How long a refused connection may take to read its answer and finish
/// sending, and how much more it may send meanwhile.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 4 * 1024 * 1024;

/// The request limits and the answers past each, shared by the guards.
#[derive(Debug)]
struct Caps {
    limits: RequestLimits,
    request_line: Vec<u8>,
    header_bytes: Vec<u8>,
    headers: Vec<u8>,
}

impl Caps {
    fn new(limits: RequestLimits) -> Self {
        Caps {
            limits,
            request_line: Over::RequestLine.raw_answer(&limits),
            header_bytes: Over::HeaderBytes.raw_answer(&limits),
            headers: Over::Headers.raw_answer(&limits),
        }
    }

    fn answer(&self, why: Why) -> &[u8] {
        match why {
            Why::TooSlow => TOO_SLOW,
            Why::Over(Over::RequestLine) => &self.request_line,
            Why::Over(Over::HeaderBytes) => &self.header_bytes,
            Why::Over(Over::Headers) => &self.headers,
        }
    }
}

/// Why a head is refused.
#[derive(Debug, Clone, Copy)]
enum Why {
    TooSlow,
    Over(Over),
}

/// The proxy's HTTP application, with both deadlines.
pub struct Deadlines<A> {
    app: Arc<KeepAlive<A>>,
    header_timeout: Duration,
    caps: Arc<Caps>,
}

impl<A> Deadlines<A> {
    pub fn new(
        app: A,
        header_timeout: Duration,
        keepalive_timeout: Duration,
        limits: RequestLimits,
    ) -> Self {
        let mut options = HttpServerOptions::default();
        options.h2_idle_timeout = Some(keepalive_timeout);
        Deadlines {
            app: Arc::new(KeepAlive {
                app: Arc::new(app),
                keepalive_secs: keepalive_timeout.as_secs().max(1),
                options,
            }),
            header_timeout,
            caps: Arc::new(Caps::new(limits)),
        }
    }
}

#[async_trait]
impl<A> ServerApp for Deadlines<A>
where
    A: HttpServerApp + Send + Sync + 'static,
{
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        // HTTP/2 frames its headers itself; only HTTP/1 heads are scanned.
        if matches!(stream.selected_alpn_proto(), Some(ALPN::H2)) {
            return self.app.process_new(stream, shutdown).await;
        }
        let stream: Stream = Box::new(HeadGuard::new(
            stream,
            self.header_timeout,
            self.caps.clone(),
        ));
        // Pingora's own HTTP/1 loop (`process_new` for an HttpServerApp),
        // but for the wait between requests; see `next_request_arrives`.
        let mut session = ServerSession::new_http1(stream);
        session.set_keepalive((!*shutdown.borrow()).then_some(self.app.keepalive_secs));
        let mut result = self.app.process_new_http(session, shutdown).await;
        while let Some((mut stream, settings)) = result.map(ReusedHttpStream::consume) {
            let keepalive = Duration::from_secs(self.app.keepalive_secs);
            if !next_request_arrives(&mut stream, keepalive, shutdown).await {
                return None;
            }
            let mut session = ServerSession::new_http1(stream);
            if let Some(settings) = settings {
                settings.apply_to_session(&mut session);
            }
            result = self.app.process_new_http(session, shutdown).await;
        }
        None
    }

    async fn cleanup(&self) {
        ServerApp::cleanup(self.app.as_ref()).await
    }
}

/// Waits on a kept-alive connection for the next request's first byte,
/// holding only the stream. Pingora waits inside the proxy's per-request
/// future instead, tens of KiB per connection, most of what an idle
/// kept-alive connection cost; built once the request is coming, it is
/// gone while the connection idles. False when the connection closed, the
/// keep-alive timeout passed or the server is shutting down: close it.
/// (Pipelined bytes would be waiting already; Gatehouse never enables
/// HTTP/1.1 pipelining, so none are held back.)
async fn next_request_arrives(
    stream: &mut Stream,
    keepalive: Duration,
    shutdown: &ShutdownWatch,
) -> bool {
    let mut shutdown = shutdown.clone();
    if *shutdown.borrow() {
        return false;
    }
    let mut first = [0u8; 1];
    tokio::select! {
        // The peeked byte is put back, so the request reads whole.
        peeked = tokio::time::timeout(keepalive, stream.try_peek(&mut first)) => {
            matches!(peeked, Ok(Ok(_)))
        }
        _ = shutdown.changed() => false,
    }
}

/// Sets each HTTP/1 session's keep-alive timeout and marks where its head
/// starts.
pub struct KeepAlive<A> {
    app: Arc<A>,
    keepalive_secs: u64,
    options: HttpServerOptions,
}

#[async_trait]
impl<A> HttpServerApp for KeepAlive<A>
where
    A: HttpServerApp + Send + Sync + 'static,
{
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        // `None` means this connection is not to be reused (shutting down,
        // or the client asked to close): leave that alone.
        if session.get_keepalive().is_some() {
            session.set_keepalive(Some(self.keepalive_secs));
        }
        if let Some(guard) = session.stream().and_then(guard_of) {
            guard.next_request();
        }
        self.app.process_new_http(session, shutdown).await
    }

    fn h2_options(&self) -> Option<H2Options> {
        self.app.h2_options()
    }

    fn server_options(&self) -> Option<&HttpServerOptions> {
        Some(&self.options)
    }

    async fn http_cleanup(&self) {
        self.app.http_cleanup().await
    }
}

fn guard_of(stream: &Stream) -> Option<&HeadGuard> {
    let io: &dyn IO = stream.as_ref();
    io.as_any().downcast_ref::<HeadGuard>()
}

/// Where a connection's current request head is.
#[derive(Debug)]
enum Head {
    /// On a kept-alive connection, before the next request's first byte:
    /// waiting is the keep-alive timeout's business.
    Awaiting,
    /// The head must be complete by the timer, and within the caps.
    Reading {
        started: bool,
        meter: HeadMeter,
    },
    /// The head is in; bodies and responses are not timed here.
    Read,
    /// Refused: writing the answer, this many bytes of it so far.
    Answering {
        why: Why,
        written: usize,
    },
    /// The answer is out: closing our side.
    Finishing {
        why: Why,
    },
    /// Discarding what the client still sends, this many bytes so far.
    Lingering {
        why: Why,
        discarded: usize,
    },
    Closed {
        why: Why,
    },
}

/// A connection's stream, timing and measuring its request heads.
#[derive(Debug)]
pub struct HeadGuard {
    inner: Stream,
    limit: Duration,
    caps: Arc<Caps>,
    head: Head,
    timer: Pin<Box<Sleep>>,
    /// Set when Pingora starts on the connection's next request.
    next: AtomicBool,
}

impl HeadGuard {
    fn new(inner: Stream, limit: Duration, caps: Arc<Caps>) -> Self {
        HeadGuard {
            inner,
            limit,
            caps,
            head: Head::Reading {
                started: false,
                meter: HeadMeter::default(),
            },
            timer: Box::pin(tokio::time::sleep(limit)),
            next: AtomicBool::new(false),
        }
    }

    fn next_request(&self) {
        self.next.store(true, Ordering::Release);
    }

    /// Follows the head through the bytes just read; the cap they pass, if
    /// any.
    fn saw(&mut self, bytes: &[u8]) -> Option<Over> {
        if matches!(self.head, Head::Awaiting) {
            self.timer.as_mut().reset(Instant::now() + self.limit);
            self.head = Head::Reading {
                started: false,
                meter: HeadMeter::default(),
            };
        }
        if let Head::Reading { started, meter } = &mut self.head {
            *started = true;
            match meter.feed(bytes, &self.caps.limits) {
                Measure::More => {}
                Measure::Ended => self.head = Head::Read,
                Measure::Over(over) => return Some(over),
            }
        }
        None
    }

    /// Refuses the head: the answer, and what follows it, get [`LINGER`].
    fn refuse(&mut self, why: Why, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.timer.as_mut().reset(Instant::now() + LINGER);
        self.head = Head::Answering { why, written: 0 };
        self.poll_answer(cx)
    }

    /// Writes the answer; past a cap, closes our side and reads what the
    /// client still sends; then fails the read that was waiting.
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let why = match self.head {
                Head::Answering { why, .. }
                | Head::Finishing { why }
                | Head::Lingering { why, .. }
                | Head::Closed { why } => why,
                _ => Why::TooSlow,
            };
            if self.timer.as_mut().poll(cx).is_ready() {
                self.head = Head::Closed { why };
            }
            self.head = match self.head {
                Head::Answering { why, written } => {
                    ready!(self.poll_write_answer(cx, why, written))
                }
                Head::Finishing { why } => {
                    // Closed either way; a failure here only ends it sooner.
                    let _ = ready!(Pin::new(&mut self.inner).poll_shutdown(cx));
                    Head::Lingering { why, discarded: 0 }
                }
                Head::Lingering { why, discarded } => ready!(self.poll_discard(cx, why, discarded)),
                _ => return Poll::Ready(Err(self.refused(why))),
            };
        }
    }

    fn poll_write_answer(&mut self, cx: &mut Context<'_>, why: Why, written: usize) -> Poll<Head> {
        let answer = self.caps.answer(why);
        let step = if written < answer.len() {
            ready!(Pin::new(&mut self.inner).poll_write(cx, &answer[written..])).and_then(|n| {
                match n {
                    0 => Err(io::ErrorKind::WriteZero.into()),
                    n => Ok(Head::Answering {
                        why,
                        written: written + n,
                    }),
                }
            })
        } else {
            ready!(Pin::new(&mut self.inner).poll_flush(cx)).map(|()| match why {
                // A trickling client is not sending much: nothing to wait for.
                Why::TooSlow => Head::Closed { why },
                Why::Over(_) => Head::Finishing { why },
            })
        };
        Poll::Ready(step.unwrap_or(Head::Closed { why }))
    }

    fn poll_discard(&mut self, cx: &mut Context<'_>, why: Why, discarded: usize) -> Poll<Head> {
        let mut scratch = [0u8; 2048];
        let mut buf = ReadBuf::new(&mut scratch);
        let read = ready!(Pin::new(&mut self.inner).poll_read(cx, &mut buf));
        let n = buf.filled().len();
        Poll::Ready(match read {
            Ok(()) if n > 0 && discarded + n <= LINGER_BYTES => Head::Lingering {
                why,
                discarded: discarded + n,
            },
            // The client is done, or gone, or sending too much.
            _ => Head::Closed { why },
        })
    }

    fn refused(&self, why: Why) -> io::Error {
        match why {
            Why::TooSlow => io::Error::new(
                io::ErrorKind::TimedOut,
                format!("request head not complete within {:?}", self.limit),
            ),
            Why::Over(over) => io::Error::new(
                io::ErrorKind::InvalidData,
                format!("request head refused: {}", over.message(&self.caps.limits)),
            ),
        }
    }
}

impl AsyncRead for HeadGuard {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.next.swap(false, Ordering::AcqRel) && matches!(this.head, Head::Read) {
            this.head = Head::Awaiting;
        }
        match this.head {
            Head::Read | Head::Awaiting => {}
            Head::Reading { started, .. } => {
                if this.timer.as_mut().poll(cx).is_ready() {
                    if !started {
                        // Nothing sent at all: no request to answer, just
                        // the end of the connection.
                        this.head = Head::Closed { why: Why::TooSlow };
                        return Poll::Ready(Ok(()));
                    }
                    return this.refuse(Why::TooSlow, cx);
                }
            }
            _ => return this.poll_answer(cx),
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if !matches!(this.head, Head::Read) {
            if let Some(over) = this.saw(&buf.filled()[before..]) {
                // Pingora never sees the head it would have buffered.
                buf.set_filled(before);
                return this.refuse(Why::Over(over), cx);
            }
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_408_says_its_length() {
        let text = std::str::from_utf8(TOO_SLOW).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
