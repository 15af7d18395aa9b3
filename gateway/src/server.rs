//! Assembling the Pingora server from validated settings.

pub mod fd_limit;
pub(crate) mod head_limits;
mod slow_clients;

use std::path::PathBuf;
use std::sync::Arc;

use pingora::listeners::tls::TlsSettings;
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::server::configuration::ServerConf;
use pingora::server::Server;
use pingora::services::background::background_service;
use pingora::services::listening::Service;
use pingora::tls::sign::SingleCertAndKey;

use rand::rngs::OsRng;
use rand::TryRngCore;

use crate::accounts;
use crate::config::{Settings, TlsListener};
use crate::gateway::{BuildError, Gateway};
use crate::metrics;
use crate::reload::{self, Reloader};
use crate::retention::AuditPruner;
use crate::store::Store;

/// Builds a ready-to-run server: the proxy, the config reloader (which
/// runs the pools' health checks), the users file's watcher, the audit
/// log's pruner, and the metrics listener if configured. `config` is the
/// file `settings` came from, read again on SIGHUP.
///
/// Call this outside any tokio runtime: Pingora makes its own, one per
/// service, and the Redis connection is made lazily on the proxy's.
pub fn build(mut settings: Settings, config: Option<PathBuf>) -> Result<Server, BuildError> {
    reload::claim_sighup().map_err(BuildError::Runtime)?;
    fd_limit::raise_and_log();
    let running = settings.clone();
    let prepared = prepare_store(&settings)?;
    settings.secrets.key = Some(prepared.key);
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
    let (header_timeout, keepalive_timeout, limits) = (
        settings.server.header_timeout,
        settings.server.keepalive_timeout,
        settings.server.request_limits,
    );
    let tls = settings.tls.clone();
    let metrics_listen = settings.metrics_listen.map(|a| a.to_string());
    let pruner = AuditPruner {
        url: settings.store.url.clone(),
        keep: settings.store.audit_retention,
    };

    let gateway = Gateway::new(settings)?;
    gateway.mfa.policies.prime(prepared.policies);
    server.add_service(background_service(
        "users file",
        accounts::Watcher(gateway.accounts.clone()),
    ));
    server.add_service(background_service("audit retention", pruner));
    let reloader = Reloader::new(
        config,
        gateway.live.clone(),
        gateway.mfa.policies.clone(),
        running,
    );
    server.add_service(background_service("config reload", reloader));
    let proxy = pingora::proxy::http_proxy(&server.configuration, gateway);
    let mut proxy = Service::new(
        "gatehouse".to_owned(),
        slow_clients::Deadlines::new(proxy, header_timeout, keepalive_timeout, limits),
    );
    let listener = ListenerConfig::tcp(&listen).l4_buffer(L4BufferSettings::new(
        L4_READ_BUFFER,
        pingora::listeners::DEFAULT_L4_WRITE_BUFFER_SIZE,
    ));
    proxy.add_listener(match tls {
        Some(tls) => listener.tls(tls_settings(&tls)?),
        None => listener,
    });
    server.add_service(proxy);

    if let Some(addr) = metrics_listen {
        let mut prometheus = pingora_prometheus::prometheus_http_service();
        prometheus.add_tcp(&addr);
        server.add_service(prometheus);
    }
    Ok(server)
}

/// Bytes read ahead from each client socket. Pingora's default, 64 KiB,
/// was most of what an idle kept-alive connection cost (98 KiB each); a
/// request head is read into its own buffer anyway, and forms are small.
/// Unbuffered, each read goes straight into that buffer: one copy fewer,
/// and an idle connection holds no read-ahead at all.
const L4_READ_BUFFER: usize = 0;

/// The listener's TLS settings. The certificate and key were loaded and
/// matched during validation; a resolver hands them to rustls as they are,
/// so nothing is read from disk again (where Pingora's path-based loading
/// would panic on a bad file). HTTP/2 is offered beside HTTP/1.1 (ALPN):
/// browsers multiplex a page's requests over one connection, and Pingora
/// turns each into HTTP/1.1 for the upstream, `Host` taken from
/// `:authority`.
fn tls_settings(tls: &TlsListener) -> Result<TlsSettings, BuildError> {
    let mut settings =
        TlsSettings::intermediate("", "").map_err(|e| BuildError::Tls(e.to_string()))?;
    settings.set_cert_resolver(Arc::new(SingleCertAndKey::from(tls.certified.clone())));
    settings.enable_h2();
    Ok(settings)
}

/// The store key under which a generated master key is kept.
const GENERATED_KEY: &str = "secret_key";

/// What start-up reads from the store before serving.
struct Prepared {
    /// The configured master key, or the one generated into the store by
    /// whichever replica started first.
    key: [u8; 32],
    /// Whether an admin requires MFA for everyone.
    /// Every organisation's policy as stored.
    policies: crate::policy::Records,
}

/// Connects to the durable store once at start-up, so a bad URL or a failed
/// migration stops the gateway with a clear error instead of failing the
/// first sign-in, and reads what must be known before the first request.
///
/// Runs on a throwaway runtime; the proxy makes its own pool later, on its
/// own runtime.
fn prepare_store(settings: &Settings) -> Result<Prepared, BuildError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BuildError::Runtime)?;
    runtime.block_on(async {
        let store = Store::connect(&settings.store.url).await?;
        let policies = crate::policy::read_records(&store, &settings.organisations).await?;
        let key = match settings.secrets.key {
            Some(key) => key,
            None => generated_key(&store).await?,
        };
        Ok(Prepared { key, policies })
    })
}

/// The master key generated into the store, by this replica if it is first.
async fn generated_key(store: &Store) -> Result<[u8; 32], BuildError> {
    let mut fresh = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut fresh)
        .expect("the OS random number generator is available");
    let stored = store
        .setting_insert_if_absent(GENERATED_KEY, &hex::encode(fresh))
        .await?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(stored.trim(), &mut key)
        .map_err(|e| BuildError::StoredKey(e.to_string()))?;
    Ok(key)
}
