//! Liveness and readiness, for load balancers and orchestrators.
//!
//! `healthz` says the process serves and its session store answers (kept
//! as it always was, since deployments already probe it). `readyz` also
//! asks the durable store, so traffic can be steered away from a replica
//! that can't sign anyone in; it names the store that is down.

use std::time::Duration;

use crate::gateway::Gateway;
use crate::respond::Reply;

/// How long each readiness check may wait. A store that takes longer to
/// answer a ping can't answer a sign-in in the 5 s it has, and the probe
/// itself must stay well inside that.
const CHECK_WITHIN: Duration = Duration::from_secs(2);

pub(super) async fn healthz(gw: &Gateway) -> Reply {
    match gw.sessions.ping().await {
        Ok(()) => Reply::json(
            200,
            &serde_json::json!({ "status": "ok", "sessions": "ok" }),
        ),
        Err(e) => {
            tracing::warn!("health check: {e}");
            Reply::json(
                503,
                &serde_json::json!({ "status": "unavailable", "sessions": "unavailable" }),
            )
        }
    }
}

/// 200 when both stores answer, else 503; both checks run at once, each
/// bounded by [`CHECK_WITHIN`].
pub(super) async fn readyz(gw: &Gateway) -> Reply {
    let (sessions, store) = tokio::join!(sessions_ready(gw), store_ready(gw));
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = serde_json::json!({
        "status": word(sessions && store),
        "sessions": word(sessions),
        "store": word(store),
    });
    Reply::json(if sessions && store { 200 } else { 503 }, &body)
}

async fn sessions_ready(gw: &Gateway) -> bool {
    match tokio::time::timeout(CHECK_WITHIN, gw.sessions.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!("readiness: session store: {e}");
            false
        }
        Err(_) => {
            tracing::warn!("readiness: session store: no answer within {CHECK_WITHIN:?}");
            false
        }
    }
}

async fn store_ready(gw: &Gateway) -> bool {
    match gw.store.check(CHECK_WITHIN).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("readiness: {e}");
            false
        }
    }
}
