//! Upstream pools: round-robin over each app's upstreams, with TCP or HTTP
//! health checks running as a background service so dead ones are skipped
//! (unless all are down: see [`Upstreams::select`]).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;

use pingora::http::ResponseHeader;
use pingora::lb::discovery::Static;
use pingora::lb::health_check::{HealthCheck as Check, HttpHealthCheck, TcpHealthCheck};
use pingora::lb::selection::RoundRobin;
use pingora::lb::{Backend, Backends, LoadBalancer};
use pingora::upstreams::peer::HttpPeer;

use crate::config::{AppSettings, HealthCheck, Upstream};

pub type Pool = LoadBalancer<RoundRobin>;

/// An app's upstreams: the load balancer (whose health checks run as a
/// background service) and, for each backend, the peer to connect to,
/// built once so a request clones a ready peer instead of selecting
/// through a hash set and rebuilding it.
pub struct Upstreams {
    lb: Arc<Pool>,
    members: Vec<Member>,
    next: AtomicUsize,
}

/// An app's pool and members as built, before the server starts the pool's
/// health checks and shares it with [`Upstreams`].
pub struct Unstarted {
    pub pool: Pool,
    pub members: Vec<Member>,
}

/// One upstream address and how to talk to it.
pub struct Member {
    backend: Backend,
    peer: HttpPeer,
}

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("apps[{app}].upstream: cannot resolve {address:?}: {reason}")]
    Resolve {
        app: usize,
        address: String,
        reason: String,
    },
    #[error("apps[{app}].health_check.path: {reason}")]
    HealthCheck { app: usize, reason: String },
}

/// Builds an app's pool and its members, resolving host names once, at
/// start-up.
pub fn pool(index: usize, app: &AppSettings) -> Result<Unstarted, UpstreamError> {
    let mut backends = std::collections::BTreeSet::new();
    let mut members = Vec::new();
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
            let backend =
                Backend::new(&addr.to_string()).map_err(|e| resolve_err(e.to_string()))?;
            if backends.insert(backend.clone()) {
                members.push(Member {
                    backend,
                    peer: peer(addr, *tls, sni),
                });
            }
            any = true;
        }
        if !any {
            return Err(resolve_err("no addresses".into()));
        }
    }
    let mut pool = LoadBalancer::from_backends(Backends::new(Static::new(backends)));
    // Static discovery is ready at once; this fills the health table.
    let _ = pool.update().now_or_never();
    pool.set_health_check(health_check(index, app)?);
    pool.health_check_frequency = Some(app.health_check_interval);
    pool.parallel_health_check = true;
    Ok(Unstarted { pool, members })
}

/// The app's check: a TCP connect, or a `GET` of its health path that must
/// answer the expected status. One failure marks an upstream down, one
/// success up again.
fn health_check(
    index: usize,
    app: &AppSettings,
) -> Result<Box<dyn Check + Send + Sync>, UpstreamError> {
    let HealthCheck::Http {
        path,
        expect_status,
    } = &app.health_check
    else {
        let mut hc = TcpHealthCheck::new();
        hc.consecutive_failure = 1;
        hc.consecutive_success = 1;
        return Ok(hc);
    };
    // The config has the upstreams agree on TLS; the first names the host
    // for SNI, else the app's host is what the upstream expects.
    let first = app.upstreams.first();
    let tls = first.is_some_and(|u| u.tls);
    let host = app
        .host
        .clone()
        .or_else(|| first.map(|u| u.sni.clone()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_owned());
    let mut hc = HttpHealthCheck::new(&host, tls);
    if let Some(u) = first.filter(|u| u.tls) {
        hc.peer_template.sni = u.sni.clone();
    }
    let bad = |e: Box<pingora::Error>| UpstreamError::HealthCheck {
        app: index,
        reason: e.to_string(),
    };
    let mut req = pingora::http::RequestHeader::build("GET", path.as_bytes(), None).map_err(bad)?;
    req.insert_header("host", &host).map_err(bad)?;
    hc.req = req;
    let expect = *expect_status;
    hc.validator = Some(Box::new(move |resp: &ResponseHeader| {
        let status = resp.status.as_u16();
        if status == expect {
            Ok(())
        } else {
            pingora::Error::e_explain(
                pingora::ErrorType::CustomCode("unexpected status", status),
                "during the HTTP health check",
            )
        }
    }));
    Ok(Box::new(hc))
}

fn peer(addr: SocketAddr, tls: bool, sni: &str) -> HttpPeer {
    let mut peer = HttpPeer::new(addr, tls, sni.to_owned());
    // A dead upstream must fail fast with a 502, not hang the client.
    peer.options.connection_timeout = Some(Duration::from_secs(2));
    peer.options.total_connection_timeout = Some(Duration::from_secs(4));
    peer.options.idle_timeout = Some(Duration::from_secs(60));
    peer
}

impl Upstreams {
    /// `lb` is the pool `pool` built, as the health-check service shares it.
    pub fn new(lb: Arc<Pool>, members: Vec<Member>) -> Self {
        Upstreams {
            lb,
            members,
            next: AtomicUsize::new(0),
        }
    }

    /// The load balancer, for the task that runs its health checks.
    pub fn balancer(&self) -> Arc<Pool> {
        self.lb.clone()
    }

    /// The next healthy upstream, round-robin; `None` only without members.
    ///
    /// When the health checks have every upstream down, it takes turns over
    /// all of them anyway, as nginx does with a lone server: the connection
    /// attempt decides. A dead upstream still gets a quick 502, and one that
    /// was only starting (the demo's app, a container beside the gateway)
    /// is served the moment it listens, not a health-check interval later.
    pub fn select(&self) -> Option<Box<HttpPeer>> {
        let n = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let nth = |i: usize| &self.members[start.wrapping_add(i) % n];
        (0..n)
            .map(nth)
            .find(|m| self.lb.backends().ready(&m.backend))
            .or_else(|| (n > 0).then(|| nth(0)))
            .map(|m| Box::new(m.peer.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Policy;

    fn app(upstreams: &[&str]) -> AppSettings {
        AppSettings {
            name: "app".into(),
            host: None,
            path: "/".into(),
            upstreams: upstreams
                .iter()
                .map(|a| Upstream {
                    address: (*a).into(),
                    tls: false,
                    sni: String::new(),
                })
                .collect(),
            policy: Policy::OneFactor,
            rules: Vec::new(),
            service_tokens: None,
            health_check_interval: Duration::from_secs(5),
            health_check: Default::default(),
        }
    }

    fn started(app: &AppSettings) -> (Upstreams, Vec<Backend>) {
        let Unstarted { pool, members } = pool(0, app).expect("the pool builds");
        let backends = members.iter().map(|m| m.backend.clone()).collect();
        (Upstreams::new(Arc::new(pool), members), backends)
    }

    fn port(peer: &HttpPeer) -> u16 {
        peer._address.as_inet().expect("an inet address").port()
    }

    #[test]
    fn selection_takes_turns_between_upstreams() {
        let (ups, _) = started(&app(&["127.0.0.1:1001", "127.0.0.1:1002"]));
        let ports: Vec<u16> = (0..4).map(|_| port(&ups.select().unwrap())).collect();
        assert_eq!(ports, [1001, 1002, 1001, 1002]);
    }

    #[test]
    fn selection_skips_an_upstream_that_is_down() {
        let (ups, backends) = started(&app(&["127.0.0.1:1001", "127.0.0.1:1002"]));
        ups.lb.backends().set_enable(&backends[0], false);
        for _ in 0..3 {
            assert_eq!(port(&ups.select().unwrap()), 1002);
        }
    }

    #[test]
    fn selection_takes_turns_over_all_when_every_upstream_is_down() {
        let (ups, backends) = started(&app(&["127.0.0.1:1001", "127.0.0.1:1002"]));
        for backend in &backends {
            ups.lb.backends().set_enable(backend, false);
        }
        let ports: Vec<u16> = (0..4).map(|_| port(&ups.select().unwrap())).collect();
        assert_eq!(ports, [1001, 1002, 1001, 1002]);
    }

    #[test]
    fn peers_carry_the_timeouts_that_turn_a_dead_upstream_into_a_502() {
        let (ups, _) = started(&app(&["127.0.0.1:1001"]));
        let peer = ups.select().unwrap();
        assert_eq!(
            peer.options.connection_timeout,
            Some(Duration::from_secs(2))
        );
        assert_eq!(peer.options.idle_timeout, Some(Duration::from_secs(60)));
    }
}
