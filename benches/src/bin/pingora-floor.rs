//! The cost floor of proxying on Pingora, for the load and instruction
//! benchmarks: a proxy with no authentication, no routing and no header
//! work, so that Gatehouse's own per-request cost can be told apart from the
//! engine's.
//!
//! ```text
//! pingora-floor proxy-http LISTEN UPSTREAM [THREADS]
//! pingora-floor sessions   LISTEN UPSTREAM [THREADS]
//! ```
//!
//! - `proxy-http`: Pingora's `ProxyHttp` framework (what Gatehouse is built
//!   on) with nothing but `upstream_peer`: the least any `ProxyHttp` proxy
//!   costs.
//! - `sessions`: no proxy framework. Pingora's server, its HTTP/1 server and
//!   client sessions, and a plain shared pool of upstream connections: what a
//!   proxy written directly on `pingora-core` would cost at least. It is a
//!   measuring stick, not a proxy to deploy: no retries, upgrades,
//!   timeouts, hop-by-hop header hygiene or error pages.
//!
//! Both use mimalloc, as Gatehouse does, so the allocator is not the
//! difference.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use pingora::apps::{HttpServerApp, ReusedHttpStream};
use pingora::prelude::*;
use pingora::protocols::http::v1::client::HttpSession as UpstreamSession;
use pingora::protocols::http::ServerSession;
use pingora::protocols::l4::stream::Stream as TcpStream;
use pingora::protocols::Stream;
use pingora::server::configuration::ServerConf;
use pingora::server::ShutdownWatch;
use pingora::services::listening::Service;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: pingora-floor <proxy-http|sessions> LISTEN UPSTREAM [THREADS]";

/// `ProxyHttp` with every phase left at Pingora's default.
struct BareProxy {
    upstream: String,
}

#[async_trait]
impl ProxyHttp for BareProxy {
    type CTX = ();

    fn new_ctx(&self) {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(
            self.upstream.as_str(),
            false,
            String::new(),
        )))
    }
}

/// An HTTP app on `pingora-core`'s sessions, forwarding each request over a
/// pooled upstream connection.
struct BareSessions {
    upstream: String,
    idle: Mutex<Vec<Stream>>,
}

impl BareSessions {
    async fn connection(&self) -> Option<Stream> {
        let pooled = self.idle.lock().ok()?.pop();
        if pooled.is_some() {
            return pooled;
        }
        let tcp = tokio::net::TcpStream::connect(self.upstream.as_str())
            .await
            .ok()?;
        tcp.set_nodelay(true).ok()?;
        Some(Box::new(TcpStream::from(tcp)))
    }

    /// One exchange, request body first, then the response; `None` on any
    /// error, which closes the client's connection.
    async fn forward(&self, down: &mut ServerSession) -> Option<()> {
        let mut req = Box::new(down.req_header().clone());
        // The one header nginx's configuration in the benchmark adds.
        req.insert_header("x-forwarded-for", "127.0.0.1").ok()?;
        let mut up = UpstreamSession::new(self.connection().await?);
        up.write_request_header(req).await.ok()?;
        while let Some(chunk) = down.read_request_body().await.ok()? {
            up.write_body(&chunk).await.ok()?;
        }
        up.finish_body().await.ok()?;
        up.read_response().await.ok()?;
        let resp = Box::new(up.resp_header()?.clone());
        down.write_response_header(resp).await.ok()?;
        while let Some(chunk) = up.read_body_bytes().await.ok()? {
            down.write_response_body(chunk, false).await.ok()?;
        }
        down.finish_body().await.ok()?;
        up.respect_keepalive();
        if let Some(stream) = up.reuse().await {
            self.idle.lock().ok()?.push(stream);
        }
        Some(())
    }
}

#[async_trait]
impl HttpServerApp for BareSessions {
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        _shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        if !session.read_request().await.ok()? {
            return None;
        }
        self.forward(&mut session).await?;
        let (stream, _) = session.finish().await.ok()??.into_parts();
        Some(ReusedHttpStream::new(stream, None))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, listen, upstream) = match args.as_slice() {
        [mode, listen, upstream] | [mode, listen, upstream, _] => (mode, listen, upstream),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let threads = match args.get(3).map(|t| t.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("pingora-floor: THREADS must be a positive number\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let conf = ServerConf {
        threads,
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    match mode.as_str() {
        "proxy-http" => {
            let bare = BareProxy {
                upstream: upstream.clone(),
            };
            let mut service = pingora::proxy::http_proxy_service(&server.configuration, bare);
            service.add_tcp(listen);
            server.add_service(service);
        }
        "sessions" => {
            let bare = BareSessions {
                upstream: upstream.clone(),
                idle: Mutex::new(Vec::new()),
            };
            let mut service = Service::new("pingora-floor".into(), bare);
            service.add_tcp(listen);
            server.add_service(service);
        }
        other => {
            eprintln!("pingora-floor: unknown mode {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    server.run_forever();
}
