//! The usual test setup in one value: an echo upstream, Redis when the
//! backend needs it, and a gateway in front.

use crate::harness::{AppConfig, Backend, Client, Gateway, GatewayConfig, Redis, Upstream};

/// Upstream + (Redis) + gateway, torn down in reverse order on drop.
pub struct Stack {
    // Field order is drop order: the gateway goes first.
    pub gateway: Gateway,
    pub redis: Option<Redis>,
    pub upstream: Upstream,
}

impl Stack {
    /// The standard app ([`AppConfig::standard`]) on `backend`, defaults
    /// elsewhere.
    pub fn start(backend: Backend) -> Stack {
        Self::start_with(backend, |config| config)
    }

    /// Like [`Stack::start`], with `tweak` applied to the config (the
    /// standard app is already in it).
    pub fn start_with(
        backend: Backend,
        tweak: impl FnOnce(GatewayConfig) -> GatewayConfig,
    ) -> Stack {
        let upstream = Upstream::start();
        let redis = (backend == Backend::Redis).then(Redis::start);
        let mut config = GatewayConfig::new()
            .backend(backend)
            .app(AppConfig::standard(&upstream.url()));
        if let Some(redis) = &redis {
            config = config.redis_url(&redis.url());
        }
        let gateway = Gateway::start(tweak(config));
        Stack {
            gateway,
            redis,
            upstream,
        }
    }

    pub fn client(&self) -> Client {
        self.gateway.client()
    }

    pub fn redis(&mut self) -> &mut Redis {
        self.redis.as_mut().expect("this stack has no Redis")
    }
}
