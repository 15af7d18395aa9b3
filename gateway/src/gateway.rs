//! The gateway's shared state: everything a request may consult, built once
//! from the validated settings.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use arc_swap::ArcSwap;
use gatehouse_templates::Route;
use pingora::proxy::Session;

use rand::rngs::OsRng;
use rand::TryRngCore;

pub use crate::accounts::Account;
use crate::accounts::Accounts;
use crate::auth::authorize::{
    authorize, Caller, Clock, Decision, Factors, Need, OrgView, UserCaller,
};
use crate::auth::lifecycle::Lifecycle;
use crate::auth::mfa::{derive_key, Mfa, MfaError};
use crate::auth::one_time::PendingCodes;
use crate::auth::PasswordHasherPool;
use crate::config::{Policy, SessionBackend, Settings};
use crate::cookies::CookieJar;
use crate::csrf::Csrf;
use crate::durable::LazyStore;
use crate::forwarded::Forwarding;
use crate::limits::Limiter;
use crate::live::{Live, Shared};
use crate::policy::UserPolicy;
use crate::redis_client::{RedisClient, RedisError};
use crate::session::handoff::Handoffs;
use crate::session::{Expiry, MemoryStore, RedisStore, SessionStore};
use crate::tokens::TokenSet;
use crate::upstream::UpstreamError;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("sessions.redis_url: {0}")]
    Redis(#[from] RedisError),
    #[error("cannot prepare password hashing: {0}")]
    Password(#[from] crate::auth::PasswordError),
    #[error("store.url: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("the generated key in the store is unreadable ({0}); set secrets.key")]
    StoredKey(String),
    #[error("cannot start a runtime to prepare the store: {0}")]
    Runtime(std::io::Error),
    #[error("tls: {0}")]
    Tls(String),
}

pub struct Gateway {
    /// The settings as at start. Its `apps` and `service_tokens` are left
    /// empty: they may change on reload, and are read from [`Gateway::live`].
    pub settings: Arc<Settings>,
    /// The apps, their pools and metrics, and the config's tokens.
    pub live: Shared,
    /// The users file's users, kept in step with the file.
    pub accounts: Arc<Accounts>,
    pub sessions: SessionStore,
    /// Sessions on their way to another host (`sso.portal_url`).
    pub handoffs: Handoffs,
    pub expiry: Expiry,
    pub limiter: Limiter,
    pub passwords: PasswordHasherPool,
    pub csrf: Csrf,
    pub cookies: CookieJar,
    /// What the upstream is told about the client, scheme and host.
    pub forwarding: Forwarding,
    pub mfa: Mfa,
    /// The durable store, for readiness checks; `mfa` and the tokens share it.
    pub store: Arc<LazyStore>,
}

impl Gateway {
    /// The client's IP, for rate limits and the audit log: the TCP peer, or
    /// behind a trusted proxy the address it forwarded (see [`crate::client_ip`]).
    pub fn client_ip(&self, session: &Session) -> IpAddr {
        let peer = crate::client_ip::peer_ip(session).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        self.settings
            .server
            .trusted_proxies
            .client_ip(peer, &session.req_header().headers)
    }

    /// The step a signed-in session still owes before it reaches anything
    /// behind a password (see [`authorize`]), if any: a code, or enrollment.
    pub fn step_owed(&self, session: &crate::session::Session) -> Option<Decision> {
        let caller = Caller::User(UserCaller::from_session(session, Factors::Unknown));
        let org = self.org_view_now(self.accounts.get(&session.user).as_deref());
        let clock = Clock {
            now_ms: crate::session::now_ms(),
            fresh_for: self.settings.mfa.fresh_for,
        };
        match authorize(Need::Route(Policy::OneFactor), &caller, org, clock) {
            Decision::Allow | Decision::AllowSensitive(_) => None,
            decision => Some(decision),
        }
    }

    /// What the user's organisation asks of them, as last read: for
    /// signed-in traffic. A user no longer in the users file is asked
    /// the most; their session is refused anyway.
    pub fn org_view_now(&self, account: Option<&Account>) -> OrgView {
        match account {
            Some(a) => OrgView::of(&self.mfa.policy_now(&a.user, self.is_admin(a))),
            None => OrgView {
                mfa_required: true,
                mfa_offered: true,
            },
        }
    }

    /// What applies to `account` now, from the store: for sign-ins and pages.
    pub async fn policy_of(&self, account: &Account) -> Result<UserPolicy, MfaError> {
        self.mfa
            .policy_for(&account.user, self.is_admin(account))
            .await
    }

    /// Where a browser with no session on `host` starts signing in: the
    /// login page here, or, with `sso.portal_url`, the handoff that takes it
    /// to the portal's host and back, for a configured app host (the only
    /// hosts the portal sends browsers back to). Hosts under
    /// `sessions.cookie_domain` share the portal's cookie, so they sign in
    /// here.
    pub fn sign_in_route(&self, host: Option<&str>) -> Route {
        let Some(sso) = &self.settings.sso else {
            return Route::Login;
        };
        let host = host.map(|h| crate::route::host_name(h).to_ascii_lowercase());
        let live = self.live.load();
        match host.as_deref() {
            Some(h)
                if h != sso.portal_host && !self.cookies.shares_with(h) && live.is_app_host(h) =>
            {
                Route::Sso
            }
            _ => Route::Login,
        }
    }

    /// Whether the user may use the admin console: a member of
    /// `users.admin_group`.
    pub fn is_admin(&self, account: &Account) -> bool {
        let group = &self.settings.users.admin_group;
        account.user.groups.iter().any(|g| g == group)
    }

    /// The apps and tokens now, for the portal; the proxy loads them once
    /// per request into its context instead.
    pub fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// Builds the state. The upstream pools' health checks are not started
    /// here: [`crate::reload::Reloader`] runs them.
    pub fn new(mut settings: Settings) -> Result<Self, BuildError> {
        let accounts = Arc::new(Accounts::new(
            settings.users.file.clone(),
            &settings.users.users,
            settings.organisations.clone(),
        ));
        // `server::build` fills the key from the store when none is
        // configured; a random one is only for gateways built directly.
        let key = settings.secrets.key.unwrap_or_else(|| {
            let mut key = [0u8; 32];
            OsRng
                .try_fill_bytes(&mut key)
                .expect("the OS random number generator is available");
            key
        });
        let code_key = derive_key(&key, "one-time-code");
        let (sessions, handoffs, limiter, codes) = match &settings.sessions.backend {
            SessionBackend::Memory => (
                SessionStore::Memory(Arc::new(MemoryStore::new())),
                Handoffs::memory(),
                Limiter::memory(settings.limits.clone()),
                PendingCodes::memory(code_key),
            ),
            SessionBackend::Redis { url } => {
                let client = Arc::new(RedisClient::new(url)?);
                (
                    SessionStore::Redis(Arc::new(RedisStore::new(
                        client.clone(),
                        settings.sessions.cache_ttl,
                    ))),
                    Handoffs::Redis(client.clone()),
                    Limiter::redis(client.clone(), settings.limits.clone()),
                    PendingCodes::redis(client, code_key),
                )
            }
        };
        // argon2 gets at most half the cores, so a storm of sign-ins
        // queues instead of starving signed-in traffic.
        let passwords = PasswordHasherPool::new((settings.server.threads / 2).max(1))?;
        let store =
            Arc::new(LazyStore::new(&settings.store.url).with_timeout(settings.store.timeout));
        let tokens = TokenSet::new(&std::mem::take(&mut settings.service_tokens), store.clone());
        let live = Live::new(std::mem::take(&mut settings.apps), tokens)?;
        let gateway = Gateway {
            live: Arc::new(ArcSwap::from_pointee(live)),
            accounts,
            sessions,
            handoffs,
            expiry: Expiry {
                lifetime: settings.sessions.lifetime,
                idle_timeout: settings.sessions.idle_timeout,
            },
            limiter: limiter.clone(),
            passwords,
            csrf: Csrf::new(derive_key(&key, "csrf")),
            mfa: Mfa::new(
                store.clone(),
                limiter.clone(),
                codes,
                &key,
                settings.mfa.clone(),
                settings.notify.clone(),
                settings.organisations.clone(),
            ),
            store,
            cookies: CookieJar::new(&settings.sessions),
            forwarding: Forwarding::new(
                settings.tls.is_some(),
                settings.server.trusted_proxies.clone(),
            ),
            settings: Arc::new(settings),
        };
        Ok(gateway)
    }

    /// The account operations, over this gateway's stores.
    pub fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle {
            mfa: &self.mfa,
            accounts: &self.accounts,
            admin_group: &self.settings.users.admin_group,
            passwords: &self.passwords,
            sessions: &self.sessions,
            limiter: &self.limiter,
            expiry: self.expiry,
            fresh_for: self.settings.mfa.fresh_for,
        }
    }
}
