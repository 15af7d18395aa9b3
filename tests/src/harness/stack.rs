//! The usual test setups in one value: an echo upstream, Redis when the
//! backend needs it, and a gateway (or two replicas) in front.

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

/// Two replicas of one deployment: one Redis for sessions and code markers,
/// one durable store, the standard app.
pub struct Replicas {
    // Field order is drop order: the gateways go first.
    pub first: Gateway,
    pub second: Gateway,
    pub redis: Redis,
    pub upstream: Upstream,
}

impl Replicas {
    pub fn start() -> Replicas {
        let upstream = Upstream::start();
        let redis = Redis::start();
        let config = GatewayConfig::new()
            .redis_url(&redis.url())
            .app(AppConfig::standard(&upstream.url()));
        let first = Gateway::start(config.clone());
        let second = Gateway::start(config.store_url(&first.store_url()));
        Replicas {
            first,
            second,
            redis,
            upstream,
        }
    }
}
