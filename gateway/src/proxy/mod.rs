//! The Pingora proxy: each phase of a request, in order.
//!
//! 1. `request_filter`: strip identity headers, answer the portal, route,
//!    decide access, and answer refusals here.
//! 2. `upstream_peer`: the next healthy upstream of the app.
//! 3. `upstream_request_filter`: identity and forwarding headers in, our
//!    cookies and tokens out.
//! 4. `fail_to_proxy`: a readable 502 page when the upstream is gone.
//! 5. `logging`: metrics.

pub mod headers;

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use pingora::http::RequestHeader;
use pingora::modules::http::HttpModules;
use pingora::prelude::*;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::{ErrorSource, ErrorType};

use crate::access::{Access, Original, TOKEN_HEADER};
use crate::gateway::Gateway;
use crate::identity::IdentityHeaders;
use crate::live::Live;
use crate::metrics::Outcome;
use crate::portal;
use crate::respond::Reply;
use crate::route;
use crate::server::head_limits;

/// Per-request state carried between phases.
pub struct RequestCtx {
    start: Instant,
    /// The config as the request found it: `app` indexes its apps, pools
    /// and metrics, whatever a reload swaps in meanwhile.
    live: Arc<Live>,
    app: Option<usize>,
    identity: Option<IdentityHeaders>,
    strip_authorization: bool,
    outcome: Outcome,
}

/// The Host header, or the authority of an absolute request target.
fn host(req: &RequestHeader) -> Option<&str> {
    req.headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri.host())
}

/// The 502 for an app with no `upstream`: a proxy in front serves it and
/// asks Gatehouse through the forward-auth endpoints, so a request that
/// reaches Gatehouse directly has nowhere to go.
async fn forward_only(session: &mut Session) -> Result<()> {
    Reply::error(
        session.req_header(),
        502,
        "forward_only",
        "Not served here",
        "This application is behind another proxy, which asks the gateway who may \
         reach it; the gateway does not serve it itself.",
    )
    .send(session)
    .await
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = RequestCtx;

    /// No downstream modules: Pingora's default adds a response-compression
    /// module that is off, yet still costs an allocation and a few calls on
    /// every request. Gatehouse passes upstream bodies through as they are.
    fn init_downstream_modules(&self, _modules: &mut HttpModules) {}

    /// Made as each request starts, just before `request_filter`: the one
    /// load of the live config a request makes, here so that `logging`
    /// has it even for a request refused before any filter ran.
    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            start: Instant::now(),
            live: self.live.load_full(),
            app: None,
            identity: None,
            strip_authorization: false,
            outcome: Outcome::NotFound,
        }
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        // HTTP/1 heads were measured as they arrived (`server::head_limits`);
        // HTTP/2 ones are measured here, before anything else reads them.
        if session.is_http2() {
            let limits = &self.settings.server.request_limits;
            if let Some(over) = head_limits::over_in(session.req_header(), limits) {
                ctx.outcome = Outcome::BadRequest;
                over.reply(session.req_header(), limits)
                    .send(session)
                    .await?;
                return Ok(true);
            }
        }
        let path = match route::normalise(session.req_header().uri.path()) {
            Ok(path) => path,
            Err(e) => {
                headers::strip_forged(session.req_header_mut());
                ctx.outcome = Outcome::BadRequest;
                let reply = Reply::error(
                    session.req_header(),
                    400,
                    "bad_request",
                    "Bad request",
                    &format!("The address can't be used: {e}."),
                );
                reply.send(session).await?;
                return Ok(true);
            }
        };
        // The forward-auth endpoints read a trusted proxy's description of
        // the original request; they answer here and forward nothing.
        let forward_auth = portal::is_forward_auth(&path);
        headers::strip_forged_unless_forward_auth(session.req_header_mut(), forward_auth);
        if path == "/.gatehouse" || path.starts_with("/.gatehouse/") {
            ctx.outcome = Outcome::Portal;
            portal::handle(self, session, &path).await?;
            return Ok(true);
        }
        let req = session.req_header();
        let original = Original {
            method: &req.method,
            host: host(req),
            raw_path: req.uri.path(),
            path: &path,
            headers: req,
            client_ip: self.client_ip(session),
        };
        let Some(m) = ctx.live.route_original(&original) else {
            ctx.outcome = Outcome::NotFound;
            Reply::error(
                session.req_header(),
                404,
                "not_found",
                "Not found",
                "No application is configured at this address.",
            )
            .send(session)
            .await?;
            return Ok(true);
        };
        ctx.app = Some(m.app);
        let verdict = self.decide(&ctx.live, &original, m.app, m.policy).await;
        session.req_header_mut().remove_header(TOKEN_HEADER);
        let sign_in = self.sign_in_route(host(session.req_header()));
        match Access::inline(session.req_header(), verdict, sign_in) {
            Access::Allow { .. } if ctx.live.apps[m.app].upstreams.is_empty() => {
                // Nothing here serves the address, as with no app at all.
                ctx.outcome = Outcome::NotFound;
                forward_only(session).await?;
                Ok(true)
            }
            Access::Allow {
                identity,
                outcome,
                strip_authorization,
            } => {
                ctx.identity = identity;
                ctx.outcome = outcome;
                ctx.strip_authorization = strip_authorization;
                Ok(false)
            }
            Access::Refuse(reply, outcome) => {
                ctx.outcome = outcome;
                reply.send(session).await?;
                Ok(true)
            }
        }
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<Box<HttpPeer>> {
        let pool = ctx.app.and_then(|i| ctx.live.pools.get(i)).ok_or_else(|| {
            Error::explain(
                ErrorType::InternalError,
                "request reached upstream_peer unrouted",
            )
        })?;
        pool.select().ok_or_else(|| {
            let mut e = Error::explain(ErrorType::ConnectNoRoute, "the app has no upstream");
            e.esource = ErrorSource::Upstream;
            e
        })
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        if let Some(identity) = &ctx.identity {
            identity.apply(upstream)?;
        }
        if ctx.strip_authorization {
            upstream.remove_header(&http::header::AUTHORIZATION);
        }
        headers::strip_cookies(upstream, &self.cookies.names())?;
        self.forwarding
            .apply(upstream, crate::client_ip::peer_ip(session))?;
        Ok(())
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let code = match e.etype() {
            ErrorType::HTTPStatus(code) => *code,
            _ => match e.esource() {
                ErrorSource::Upstream => 502,
                ErrorSource::Downstream => match e.etype() {
                    ErrorType::WriteError | ErrorType::ReadError | ErrorType::ConnectionClosed => 0,
                    _ => 400,
                },
                ErrorSource::Internal | ErrorSource::Unset => 500,
            },
        };
        if matches!(e.esource(), ErrorSource::Upstream) {
            ctx.live.metrics(ctx.app).upstream_error();
        }
        if code > 0 {
            let reply = match code {
                502..=504 => Reply::error(
                    session.req_header(),
                    502,
                    "bad_gateway",
                    "Bad gateway",
                    "The application behind the gateway is not answering. \
                     It may be restarting; try again in a moment.",
                ),
                400 => Reply::error(
                    session.req_header(),
                    400,
                    "bad_request",
                    "Bad request",
                    "The request could not be read.",
                ),
                _ => Reply::error(
                    session.req_header(),
                    code,
                    "internal_error",
                    "Something went wrong",
                    "The gateway hit an internal error. It has been logged.",
                ),
            };
            let status = reply.status;
            // The connection is not reused after a failure, so say so
            // (Pingora writes `Connection` from this): otherwise a
            // keep-alive client's next request meets a closed socket.
            session.set_keepalive(None);
            if let Err(e) = reply.send(session).await {
                tracing::debug!("could not send the error page: {e}");
            }
            return FailToProxy {
                error_code: status,
                can_reuse_downstream: false,
            };
        }
        FailToProxy {
            error_code: 0,
            can_reuse_downstream: false,
        }
    }

    async fn logging(
        &self,
        _session: &mut Session,
        _e: Option<&pingora::Error>,
        ctx: &mut RequestCtx,
    ) {
        ctx.live
            .metrics(ctx.app)
            .request(ctx.outcome, ctx.start.elapsed().as_secs_f64());
    }
}
