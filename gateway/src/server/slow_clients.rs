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
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::{SslDigest, TlsRef};
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType, ALPN, IO,
};
use pingora::server::ShutdownWatch;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What a client whose head came too slowly reads before the connection
/// closes.
const TOO_SLOW: &[u8] = b"HTTP/1.1 408 Request Timeout\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 36\r\n\
Connection: close\r\n\
\r\n\
The request took too long to arrive.";

/// The proxy's HTTP application, with both deadlines.
pub struct Deadlines<A> {
    app: Arc<KeepAlive<A>>,
    header_timeout: Duration,
}

impl<A> Deadlines<A> {
    pub fn new(app: A, header_timeout: Duration, keepalive_timeout: Duration) -> Self {
        let mut options = HttpServerOptions::default();
        options.h2_idle_timeout = Some(keepalive_timeout);
        Deadlines {
            app: Arc::new(KeepAlive {
                app: Arc::new(app),
                keepalive_secs: keepalive_timeout.as_secs().max(1),
                options,
            }),
            header_timeout,
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
        let stream: Stream = Box::new(HeadGuard::new(stream, self.header_timeout));
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
    /// The head must be complete by the timer.
    Reading {
        started: bool,
        end: EndOfHead,
    },
    /// The head is in; bodies and responses are not timed here.
    Read,
    /// Too late: writing the 408, this many bytes of it so far.
    Answering {
        written: usize,
    },
    Closed,
}

/// A connection's stream, timing its request heads.
#[derive(Debug)]
pub struct HeadGuard {
    inner: Stream,
    limit: Duration,
    head: Head,
    timer: Pin<Box<Sleep>>,
    /// Set when Pingora starts on the connection's next request.
    next: AtomicBool,
}

impl HeadGuard {
    fn new(inner: Stream, limit: Duration) -> Self {
        HeadGuard {
            inner,
            limit,
            head: Head::Reading {
                started: false,
                end: EndOfHead::default(),
            },
            timer: Box::pin(tokio::time::sleep(limit)),
            next: AtomicBool::new(false),
        }
    }

    fn next_request(&self) {
        self.next.store(true, Ordering::Release);
    }

    /// Follows the head through the bytes just read.
    fn saw(&mut self, bytes: &[u8]) {
        if matches!(self.head, Head::Awaiting) {
            self.timer.as_mut().reset(Instant::now() + self.limit);
            self.head = Head::Reading {
                started: false,
                end: EndOfHead::default(),
            };
        }
        if let Head::Reading { started, end } = &mut self.head {
            *started = true;
            if end.found_in(bytes) {
                self.head = Head::Read;
            }
        }
    }

    /// Writes the 408, then fails the read that was waiting.
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Head::Answering { written } = self.head {
            let step = if written < TOO_SLOW.len() {
                ready!(Pin::new(&mut self.inner).poll_write(cx, &TOO_SLOW[written..])).and_then(
                    |n| match n {
                        0 => Err(io::ErrorKind::WriteZero.into()),
                        n => Ok(Head::Answering {
                            written: written + n,
                        }),
                    },
                )
            } else {
                ready!(Pin::new(&mut self.inner).poll_flush(cx)).map(|()| Head::Closed)
            };
            self.head = step.unwrap_or(Head::Closed);
        }
        Poll::Ready(Err(self.too_slow()))
    }

    fn too_slow(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("request head not complete within {:?}", self.limit),
        )
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
                        this.head = Head::Closed;
                        return Poll::Ready(Ok(()));
                    }
                    this.head = Head::Answering { written: 0 };
                    return this.poll_answer(cx);
                }
            }
            Head::Answering { .. } => return this.poll_answer(cx),
            Head::Closed => return Poll::Ready(Err(this.too_slow())),
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if !matches!(this.head, Head::Read) {
            this.saw(&buf.filled()[before..]);
        }
        Poll::Ready(Ok(()))
    }
}

/// Finds the empty line that ends a request head (CRLF or bare LF, as
/// httparse accepts), across reads. Empty lines before the request line
/// don't count: they would end the deadline without starting a head.
#[derive(Debug, Default)]
struct EndOfHead {
    /// Seen something other than CR and LF.
    content: bool,
    /// 1 just after a LF, 2 after LF CR.
    newline: u8,
}

impl EndOfHead {
    fn found_in(&mut self, bytes: &[u8]) -> bool {
        for &byte in bytes {
            match byte {
                b'\n' if self.newline > 0 && self.content => return true,
                b'\n' => self.newline = 1,
                b'\r' if self.newline == 1 => self.newline = 2,
                b'\r' => {}
                _ => {
                    self.content = true;
                    self.newline = 0;
                }
            }
        }
        false
    }
}

impl AsyncWrite for HeadGuard {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[async_trait]
impl Shutdown for HeadGuard {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await
    }
}

impl UniqueID for HeadGuard {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for HeadGuard {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for HeadGuard {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for HeadGuard {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest)
    }
}

impl GetSocketDigest for HeadGuard {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest)
    }
}

#[async_trait]
impl Peek for HeadGuard {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
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

    fn ends(chunks: &[&str]) -> bool {
        let mut end = EndOfHead::default();
        chunks.iter().any(|chunk| end.found_in(chunk.as_bytes()))
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
}
