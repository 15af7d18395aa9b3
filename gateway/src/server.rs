//! Assembling the Pingora server from validated settings.

use pingora::server::configuration::ServerConf;
use pingora::server::Server;
use pingora::services::background::background_service;

use crate::config::Settings;
use crate::gateway::{BuildError, Gateway};
use crate::metrics;

/// Builds a ready-to-run server: the proxy, one health-check service per
/// app, and the metrics listener if configured.
///
/// Call this outside any tokio runtime: Pingora makes its own, one per
/// service, and the Redis connection is made lazily on the proxy's.
pub fn build(settings: Settings) -> Result<Server, BuildError> {
    let conf = ServerConf {
        threads: settings.server.threads,
        grace_period_seconds: Some(settings.server.grace_period.as_secs()),
        graceful_shutdown_timeout_seconds: Some(settings.server.shutdown_timeout.as_secs().max(1)),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    metrics::init();

    let listen = settings.listen.to_string();
    let metrics_listen = settings.metrics_listen.map(|a| a.to_string());
    let app_names: Vec<String> = settings.apps.iter().map(|a| a.name.clone()).collect();

    let (mut gateway, pools) = Gateway::new(settings)?;
    for (pool, name) in pools.into_iter().zip(app_names) {
        let service = background_service(&format!("health check: {name}"), pool);
        gateway.pools.push(service.task());
        server.add_service(service);
    }
    let mut proxy =
        pingora::proxy::http_proxy_service_with_name(&server.configuration, gateway, "gatehouse");
    proxy.add_tcp(&listen);
    server.add_service(proxy);

    if let Some(addr) = metrics_listen {
        let mut prometheus = pingora_prometheus::prometheus_http_service();
        prometheus.add_tcp(&addr);
        server.add_service(prometheus);
    }
    Ok(server)
}
