//! Upstream pools: round-robin over each app's upstreams, with TCP health
//! checks running as a background service so dead ones are skipped.

use std::net::ToSocketAddrs;

use futures_util::FutureExt;
use std::sync::Arc;
use std::time::Duration;

use pingora::lb::discovery::Static;
use pingora::lb::health_check::TcpHealthCheck;
use pingora::lb::selection::RoundRobin;
use pingora::lb::{Backend, Backends, LoadBalancer};
use pingora::upstreams::peer::HttpPeer;

use crate::config::{AppSettings, Upstream};

pub type Pool = LoadBalancer<RoundRobin>;

/// Stored on each backend: how to talk to it.
#[derive(Debug, Clone)]
struct Transport {
    tls: bool,
    sni: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("apps[{app}].upstream: cannot resolve {address:?}: {reason}")]
    Resolve {
        app: usize,
        address: String,
        reason: String,
    },
}

/// Builds an app's pool, resolving host names once, at start-up.
pub fn pool(index: usize, app: &AppSettings) -> Result<Pool, UpstreamError> {
    let mut backends = std::collections::BTreeSet::new();
    for Upstream { address, tls, sni } in &app.upstreams {
        let resolve_err = |reason: String| UpstreamError::Resolve {
            app: index,
            address: address.clone(),
            reason,
        };
        let addrs = address
            .to_socket_addrs()
            .map_err(|e| resolve_err(e.to_string()))?;
        let mut any = false;
        for addr in addrs {
            let mut backend =
                Backend::new(&addr.to_string()).map_err(|e| resolve_err(e.to_string()))?;
            backend.ext.insert(Transport {
                tls: *tls,
                sni: sni.clone(),
            });
            backends.insert(backend);
            any = true;
        }
        if !any {
            return Err(resolve_err("no addresses".into()));
        }
    }
    let mut pool = LoadBalancer::from_backends(Backends::new(Static::new(backends)));
    // Static discovery is ready at once; this fills the selector.
    let _ = pool.update().now_or_never();
    let mut hc = TcpHealthCheck::new();
    hc.consecutive_failure = 1;
    hc.consecutive_success = 1;
    pool.set_health_check(hc);
    pool.health_check_frequency = Some(app.health_check_interval);
    pool.parallel_health_check = true;
    Ok(pool)
}

/// Picks the next healthy upstream and describes how to connect to it.
pub fn select(pool: &Arc<Pool>) -> Option<Box<HttpPeer>> {
    let backend = pool.select(b"", 256)?;
    let (tls, sni) = backend
        .ext
        .get::<Transport>()
        .map(|t| (t.tls, t.sni.clone()))
        .unwrap_or_default();
    let addr = *backend.addr.as_inet()?;
    let mut peer = HttpPeer::new(addr, tls, sni);
    // A dead upstream must fail fast with a 502, not hang the client.
    peer.options.connection_timeout = Some(Duration::from_secs(2));
    peer.options.total_connection_timeout = Some(Duration::from_secs(4));
    peer.options.idle_timeout = Some(Duration::from_secs(60));
    Some(Box::new(peer))
}
