//! What a request reads of the config that a reload may change: the apps,
//! how a path finds one, their upstream pools and metrics, and the
//! config's service tokens.
//!
//! It is built whole, at start and on each reload ([`crate::reload`]), and
//! swapped in one step. A request loads it once, as it starts, and keeps
//! that copy to the end: a reload never shows it a router from one config
//! and a pool list from another, and an old copy lives on until the last
//! request holding it is done.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::AppSettings;
use crate::metrics::AppMetrics;
use crate::route::Router;
use crate::tokens::TokenSet;
use crate::upstream::{self, UpstreamError, Upstreams};

/// One config's apps and tokens, ready for requests.
pub struct Live {
    /// The apps, in config order: a route's `app` indexes this, `pools`
    /// and the metrics.
    pub apps: Vec<AppSettings>,
    pub router: Router,
    /// One pool per app.
    pub pools: Vec<Upstreams>,
    /// The config's tokens, and the console's (shared by every copy).
    pub tokens: TokenSet,
    /// One per app, then one for requests no app took.
    metrics: Vec<AppMetrics>,
}

/// The copy requests load, shared with the reloader that replaces it.
pub type Shared = Arc<ArcSwap<Live>>;

impl Live {
    /// Builds the router, pools and metrics of `apps`. Pools resolve their
    /// upstreams' names here (blocking DNS): call it off the proxy's runtime.
    /// Their health checks are started by the reloader.
    pub fn new(apps: Vec<AppSettings>, tokens: TokenSet) -> Result<Self, UpstreamError> {
        let pools = apps
            .iter()
            .enumerate()
            .map(|(i, app)| {
                let built = upstream::pool(i, app)?;
                Ok(Upstreams::new(Arc::new(built.pool), built.members))
            })
            .collect::<Result<Vec<_>, UpstreamError>>()?;
        Ok(Live {
            router: Router::new(&apps),
            metrics: apps
                .iter()
                .map(|a| AppMetrics::new(&a.name))
                .chain([AppMetrics::new("-")])
                .collect(),
            pools,
            tokens,
            apps,
        })
    }

    /// The metrics of the app a request went to, or of no app.
    pub fn metrics(&self, app: Option<usize>) -> &AppMetrics {
        let last = self.metrics.len() - 1;
        &self.metrics[app.map_or(last, |i| i.min(last))]
    }

    /// Whether `host` (lower case, no port) is some app's `host`.
    pub fn is_app_host(&self, host: &str) -> bool {
        self.apps
            .iter()
            .any(|app| app.host.as_deref() == Some(host))
    }

    /// Whether the config names a service token `name`.
    pub fn has_config_token(&self, name: &str) -> bool {
        self.tokens.config_names().any(|n| n == name)
    }
}
