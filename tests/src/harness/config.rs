//! What a test gateway looks like: a builder that renders the config file and
//! the users file (both written as JSON, which is valid YAML).

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::harness::binary::password_hash;

/// Where sessions (and rate-limit counters) live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Redis,
}

/// One user of the users file; every user's password is [`crate::PASSWORD`].
#[derive(Debug, Clone)]
pub struct UserSpec {
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub groups: Vec<String>,
    pub disabled: bool,
    /// E.164 (`+15551234567`): where SMS codes go.
    pub phone: Option<String>,
    /// `org`: the organisation the user belongs to; the root when `None`.
    pub org: Option<String>,
}

impl UserSpec {
    pub fn new(username: &str) -> Self {
        UserSpec {
            username: username.to_string(),
            email: None,
            display_name: None,
            groups: Vec::new(),
            disabled: false,
            phone: None,
            org: None,
        }
    }

    pub fn org(mut self, org: &str) -> Self {
        self.org = Some(org.to_string());
        self
    }

    pub fn email(mut self, email: &str) -> Self {
        self.email = Some(email.to_string());
        self
    }

    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = Some(name.to_string());
        self
    }

    pub fn groups(mut self, groups: &[&str]) -> Self {
        self.groups = groups.iter().map(|g| g.to_string()).collect();
        self
    }

    pub fn disabled(mut self) -> Self {
        self.disabled = true;
        self
    }

    pub fn phone(mut self, phone: &str) -> Self {
        self.phone = Some(phone.to_string());
        self
    }
}

/// One protected application.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub name: String,
    pub host: Option<String>,
    /// `path`: the app's path prefix on its host.
    pub path: Option<String>,
    pub upstreams: Vec<String>,
    pub policy: Option<String>,
    /// Each rule as rendered: `path`, `policy` and any conditions.
    pub rules: Vec<Value>,
    pub service_tokens: Option<Vec<String>>,
    /// `health_check_interval`; 1s unless set.
    pub health_check_interval: Option<String>,
    /// `health_check`: an HTTP check, `{path, expect_status}`.
    pub health_check: Option<Value>,
}

impl AppConfig {
    pub fn new(name: &str, upstreams: &[String]) -> Self {
        AppConfig {
            name: name.to_string(),
            host: None,
            path: None,
            upstreams: upstreams.to_vec(),
            policy: None,
            rules: Vec::new(),
            service_tokens: None,
            health_check_interval: None,
            health_check: None,
        }
    }

    /// The app most tests use, named `app`: `/public` bypass, `/private`
    /// one_factor, `/admin` deny, `/secure` two_factor, everything else
    /// one_factor.
    pub fn standard(upstream: &str) -> Self {
        AppConfig::new("app", &[upstream.to_string()])
            .policy("one_factor")
            .rule("/public", "bypass")
            .rule("/private", "one_factor")
            .rule("/admin", "deny")
            .rule("/secure", "two_factor")
    }

    pub fn host(mut self, host: &str) -> Self {
        self.host = Some(host.to_string());
        self
    }

    pub fn path(mut self, path: &str) -> Self {
        self.path = Some(path.to_string());
        self
    }

    pub fn health_check_interval(mut self, interval: &str) -> Self {
        self.health_check_interval = Some(interval.to_string());
        self
    }

    /// An HTTP health check of `path`, expecting `expect_status` (the
    /// gateway's default, 200, when `None`).
    pub fn health_check(mut self, path: &str, expect_status: Option<u16>) -> Self {
        let mut check = json!({ "path": path });
        if let Some(status) = expect_status {
            check["expect_status"] = json!(status);
        }
        self.health_check = Some(check);
        self
    }

    pub fn policy(mut self, policy: &str) -> Self {
        self.policy = Some(policy.to_string());
        self
    }

    pub fn rule(mut self, path: &str, policy: &str) -> Self {
        self.rules.push(json!({"path": path, "policy": policy}));
        self
    }

    /// A rule with conditions: `when` holds `methods`, `networks` and
    /// `groups` as wanted, e.g. `json!({"methods": ["GET"]})`.
    pub fn rule_when(mut self, path: &str, policy: &str, when: Value) -> Self {
        let mut rule = json!({"path": path, "policy": policy});
        if let (Some(rule), Value::Object(when)) = (rule.as_object_mut(), when) {
            rule.extend(when);
        }
        self.rules.push(rule);
        self
    }

    pub fn service_tokens(mut self, names: &[&str]) -> Self {
        self.service_tokens = Some(names.iter().map(|n| n.to_string()).collect());
        self
    }

    fn render(&self) -> Value {
        let mut app = Map::new();
        app.insert("name".into(), json!(self.name));
        if let Some(host) = &self.host {
            app.insert("host".into(), json!(host));
        }
        if let Some(path) = &self.path {
            app.insert("path".into(), json!(path));
        }
        // No upstreams: a forward-only app, without the key.
        match self.upstreams.as_slice() {
            [] => {}
            [one] => {
                app.insert("upstream".into(), json!(one));
            }
            many => {
                app.insert("upstream".into(), json!(many));
            }
        }
        if let Some(policy) = &self.policy {
            app.insert("policy".into(), json!(policy));
        }
        if let Some(tokens) = &self.service_tokens {
            app.insert("service_tokens".into(), json!(tokens));
        }
        // Short, so a dead upstream is noticed quickly in tests.
        let interval = self.health_check_interval.as_deref().unwrap_or("1s");
        app.insert("health_check_interval".into(), json!(interval));
        if let Some(check) = &self.health_check {
            app.insert("health_check".into(), check.clone());
        }
        if !self.rules.is_empty() {
            app.insert("rules".into(), json!(self.rules));
        }
        Value::Object(app)
    }
}

/// A whole gateway configuration. Start from [`GatewayConfig::new`] and add
/// apps; sensible, test-friendly defaults for everything else.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub backend: Backend,
    /// Filled in by the stack or the test when the backend is Redis.
    pub redis_url: Option<String>,
    pub cookie_name: Option<String>,
    pub cookie_secure: bool,
    /// `sessions.cookie_domain`, if set.
    pub cookie_domain: Option<String>,
    /// The host of `sso.portal_url` (`http://<host>:<listen port>`), if set.
    pub sso_portal_host: Option<String>,
    pub lifetime: Option<String>,
    pub idle_timeout: Option<String>,
    /// `sessions.cache_ttl`; the gateway's default (500ms) when `None`.
    pub cache_ttl: Option<std::time::Duration>,
    /// (per user, per IP, window)
    pub limits: Option<(u32, u32, String)>,
    pub apps: Vec<AppConfig>,
    /// (name, plaintext token); the file gets the SHA-256.
    pub service_tokens: Vec<(String, String)>,
    pub users: Vec<UserSpec>,
    pub metrics: bool,
    /// 64 hex chars; fixed by default so gateways sharing a Redis, or a
    /// restarted gateway, agree on it.
    pub secret_key: Option<String>,
    /// Start with `gatehouse --config FILE` instead of `gatehouse run …`.
    pub omit_run_subcommand: bool,
    /// `store.url`; `None` means a SQLite file in the gateway's temp dir,
    /// which a restart keeps.
    pub store_url: Option<String>,
    /// `store.audit_retention_days`; the gateway's default when `None`.
    pub audit_retention_days: Option<u32>,
    /// `server.header_timeout`; the gateway's default when `None`.
    pub header_timeout: Option<String>,
    /// `server.keepalive_timeout`; the gateway's default when `None`.
    pub keepalive_timeout: Option<String>,
    /// `server.max_*` request limits set, as (key under `server`, value).
    pub request_limits: Vec<(String, usize)>,
    /// `mfa.enforce`.
    pub mfa_enforce: bool,
    /// `mfa.issuer`; the gateway's default when `None`.
    pub mfa_issuer: Option<String>,
    /// `mfa.enroll_two_codes`.
    pub enroll_two_codes: bool,
    /// `mfa.remember_device_days`; the gateway's default when `None`.
    pub remember_device_days: Option<u32>,
    /// `mfa.fresh_for`; the gateway's default when `None`.
    pub fresh_for: Option<String>,
    /// `GATEHOUSE_LOG` for the process (e.g. `debug`); `info` when `None`.
    pub log_filter: Option<String>,
    /// `server.trusted_proxies`.
    pub trusted_proxies: Vec<String>,
    /// `tls`: the certificate and key, PEM, written beside the config.
    pub tls: Option<(String, String)>,
    /// `notify.email`: (smtp_url, from).
    pub notify_email: Option<(String, String)>,
    /// `notify.sms`: (api_url, account_sid, auth_token, from).
    pub notify_sms: Option<(String, String, String, String)>,
    /// `notify.sms.countries`: users type their number; left out when empty.
    pub sms_countries: Vec<String>,
    /// `notify.code_lifetime`; the gateway's default when `None`.
    pub code_lifetime: Option<String>,
    /// `notify.resend_after`; the gateway's default when `None`.
    pub resend_after: Option<String>,
    /// `organisations[]`: (name, parent); left out when empty.
    pub organisations: Vec<(String, Option<String>)>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl GatewayConfig {
    /// No apps yet; users alice (admins, dev), bob (no display name, no
    /// groups) and carol (disabled).
    pub fn new() -> Self {
        GatewayConfig {
            backend: Backend::Memory,
            redis_url: None,
            cookie_name: None,
            cookie_secure: false,
            cookie_domain: None,
            sso_portal_host: None,
            lifetime: None,
            idle_timeout: None,
            cache_ttl: None,
            limits: None,
            apps: Vec::new(),
            service_tokens: Vec::new(),
            users: vec![
                UserSpec::new("alice")
                    .email("alice@example.com")
                    .display_name("Alice Liddell")
                    .groups(&["admins", "dev"]),
                UserSpec::new("bob").email("bob@example.com"),
                UserSpec::new("carol")
                    .email("carol@example.com")
                    .groups(&["dev"])
                    .disabled(),
            ],
            metrics: false,
            secret_key: Some("6a".repeat(32)),
            omit_run_subcommand: false,
            store_url: None,
            audit_retention_days: None,
            header_timeout: None,
            keepalive_timeout: None,
            request_limits: Vec::new(),
            mfa_enforce: false,
            mfa_issuer: None,
            enroll_two_codes: false,
            remember_device_days: None,
            fresh_for: None,
            log_filter: None,
            trusted_proxies: Vec::new(),
            tls: None,
            notify_email: None,
            notify_sms: None,
            sms_countries: Vec::new(),
            code_lifetime: None,
            resend_after: None,
            organisations: Vec::new(),
        }
    }

    /// Adds `organisations[]` entry `name`, under `parent` (the root when
    /// `None`).
    pub fn organisation(mut self, name: &str, parent: Option<&str>) -> Self {
        self.organisations
            .push((name.to_string(), parent.map(str::to_string)));
        self
    }

    /// Serve HTTPS with this certificate (cookies then default to Secure).
    pub fn tls(mut self, pair: &gatehouse_testkit::SelfSigned) -> Self {
        self.tls = Some((pair.cert_pem.clone(), pair.key_pem.clone()));
        self
    }

    /// Whether cookies are Secure: configured, or implied by TLS.
    fn secure(&self) -> bool {
        self.cookie_secure || self.tls.is_some()
    }

    pub fn trusted_proxies(mut self, proxies: &[&str]) -> Self {
        self.trusted_proxies = proxies.iter().map(|p| p.to_string()).collect();
        self
    }

    pub fn app(mut self, app: AppConfig) -> Self {
        self.apps.push(app);
        self
    }

    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    pub fn redis_url(mut self, url: &str) -> Self {
        self.backend = Backend::Redis;
        self.redis_url = Some(url.to_string());
        self
    }

    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.cookie_secure = secure;
        self
    }

    /// Signs in on `host` for apps on other hosts: `sso.portal_url` is
    /// `http://<host>:<the gateway's port>`.
    pub fn sso_portal(mut self, host: &str) -> Self {
        self.sso_portal_host = Some(host.to_string());
        self
    }

    /// Shares the session cookie under `domain` (`sessions.cookie_domain`).
    pub fn cookie_domain(mut self, domain: &str) -> Self {
        self.cookie_domain = Some(domain.to_string());
        self
    }

    pub fn lifetime(mut self, lifetime: &str) -> Self {
        self.lifetime = Some(lifetime.to_string());
        self
    }

    pub fn idle_timeout(mut self, idle: &str) -> Self {
        self.idle_timeout = Some(idle.to_string());
        self
    }

    pub fn cache_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.cache_ttl = Some(ttl);
        self
    }

    pub fn limits(mut self, per_user: u32, per_ip: u32, window: &str) -> Self {
        self.limits = Some((per_user, per_ip, window.to_string()));
        self
    }

    pub fn service_token(mut self, name: &str, token: &str) -> Self {
        self.service_tokens
            .push((name.to_string(), token.to_string()));
        self
    }

    pub fn user(mut self, user: UserSpec) -> Self {
        self.users.push(user);
        self
    }

    pub fn metrics(mut self) -> Self {
        self.metrics = true;
        self
    }

    pub fn omit_run_subcommand(mut self) -> Self {
        self.omit_run_subcommand = true;
        self
    }

    pub fn store_url(mut self, url: &str) -> Self {
        self.store_url = Some(url.to_string());
        self
    }

    pub fn audit_retention_days(mut self, days: u32) -> Self {
        self.audit_retention_days = Some(days);
        self
    }

    /// `server.header_timeout`, e.g. `2s`.
    pub fn header_timeout(mut self, timeout: &str) -> Self {
        self.header_timeout = Some(timeout.to_string());
        self
    }

    /// `server.keepalive_timeout`, e.g. `2s`.
    pub fn keepalive_timeout(mut self, timeout: &str) -> Self {
        self.keepalive_timeout = Some(timeout.to_string());
        self
    }

    /// A request limit under `server`, e.g. `("max_headers", 20)`.
    pub fn request_limit(mut self, key: &str, value: usize) -> Self {
        self.request_limits.push((key.to_string(), value));
        self
    }

    pub fn mfa_enforce(mut self, enforce: bool) -> Self {
        self.mfa_enforce = enforce;
        self
    }

    pub fn mfa_issuer(mut self, issuer: &str) -> Self {
        self.mfa_issuer = Some(issuer.to_string());
        self
    }

    pub fn enroll_two_codes(mut self, two: bool) -> Self {
        self.enroll_two_codes = two;
        self
    }

    pub fn remember_device_days(mut self, days: u32) -> Self {
        self.remember_device_days = Some(days);
        self
    }

    /// How long a second-factor proof counts as fresh (`mfa.fresh_for`).
    pub fn fresh_for(mut self, fresh_for: &str) -> Self {
        self.fresh_for = Some(fresh_for.to_string());
        self
    }

    /// Sends one-time codes by email through this SMTP server (e.g.
    /// [`crate::SmtpSink::url`]), with this `From` header.
    pub fn email_via(mut self, smtp_url: &str, from: &str) -> Self {
        self.notify_email = Some((smtp_url.to_string(), from.to_string()));
        self
    }

    /// Sends one-time codes by SMS through this Twilio-compatible API (e.g.
    /// [`crate::SmsProvider::url`]), from this number.
    pub fn sms_via(
        mut self,
        api_url: &str,
        account_sid: &str,
        auth_token: &str,
        from: &str,
    ) -> Self {
        self.notify_sms = Some((
            api_url.to_string(),
            account_sid.to_string(),
            auth_token.to_string(),
            from.to_string(),
        ));
        self
    }

    /// Has users type their own number for codes by text message, in these
    /// countries (`notify.sms.countries`, ISO codes like `AU`); with
    /// [`GatewayConfig::sms_via`].
    pub fn sms_countries(mut self, countries: &[&str]) -> Self {
        self.sms_countries = countries.iter().map(|c| c.to_string()).collect();
        self
    }

    /// How long a mailed or texted code stays valid, e.g. `10m`.
    pub fn code_lifetime(mut self, lifetime: &str) -> Self {
        self.code_lifetime = Some(lifetime.to_string());
        self
    }

    /// How long before a new code may be sent, e.g. `30s`.
    pub fn resend_after(mut self, after: &str) -> Self {
        self.resend_after = Some(after.to_string());
        self
    }

    /// Gives the existing user `username` (e.g. alice) a phone number.
    pub fn user_phone(mut self, username: &str, phone: &str) -> Self {
        let user = self
            .users
            .iter_mut()
            .find(|u| u.username == username)
            .unwrap_or_else(|| panic!("no user {username} in the config"));
        user.phone = Some(phone.to_string());
        self
    }

    /// Sets `GATEHOUSE_LOG`, e.g. `debug` to see everything it could leak.
    pub fn log_filter(mut self, filter: &str) -> Self {
        self.log_filter = Some(filter.to_string());
        self
    }

    /// The session cookie's name as the browser sees it.
    pub fn session_cookie_name(&self) -> String {
        let name = self.cookie_name.as_deref().unwrap_or("gatehouse_session");
        if self.secure() && self.cookie_domain.is_some() {
            format!("__Secure-{name}")
        } else if self.secure() {
            format!("__Host-{name}")
        } else {
            name.to_string()
        }
    }

    /// The CSRF cookie's name as the browser sees it.
    pub fn csrf_cookie_name(&self) -> String {
        if self.secure() {
            "__Host-gatehouse_csrf".to_string()
        } else {
            "gatehouse_csrf".to_string()
        }
    }

    /// The config file's content.
    pub fn render(&self, listen: u16, metrics_port: Option<u16>) -> Value {
        let mut root = Map::new();
        root.insert("listen".into(), json!(format!("127.0.0.1:{listen}")));
        if let Some(port) = metrics_port {
            root.insert("metrics_listen".into(), json!(format!("127.0.0.1:{port}")));
        }
        if self.tls.is_some() {
            // The gateway harness writes both files beside the config.
            root.insert(
                "tls".into(),
                json!({ "cert": "cert.pem", "key": "key.pem" }),
            );
        }
        // Short shutdown so stop/restart tests stay fast; one worker thread
        // keeps many parallel gateways light on a small machine.
        let mut server = json!({
            "threads": 1,
            "grace_period": "1s",
            "shutdown_timeout": "2s",
            "trusted_proxies": self.trusted_proxies,
        });
        if let Some(timeout) = &self.header_timeout {
            server["header_timeout"] = json!(timeout);
        }
        if let Some(timeout) = &self.keepalive_timeout {
            server["keepalive_timeout"] = json!(timeout);
        }
        for (key, value) in &self.request_limits {
            server[key.as_str()] = json!(value);
        }
        root.insert("server".into(), server);
        let mut sessions = Map::new();
        match self.backend {
            Backend::Memory => {
                sessions.insert("backend".into(), json!("memory"));
            }
            Backend::Redis => {
                sessions.insert("backend".into(), json!("redis"));
                let url = self
                    .redis_url
                    .as_ref()
                    .expect("a Redis backend needs redis_url");
                sessions.insert("redis_url".into(), json!(url));
            }
        }
        if let Some(name) = &self.cookie_name {
            sessions.insert("cookie_name".into(), json!(name));
        }
        // Left out unless asked for, so that with `tls` the gateway's own
        // default (Secure) is what the tests see.
        if self.cookie_secure {
            sessions.insert("cookie_secure".into(), json!(true));
        }
        if let Some(domain) = &self.cookie_domain {
            sessions.insert("cookie_domain".into(), json!(domain));
        }
        if let Some(lifetime) = &self.lifetime {
            sessions.insert("lifetime".into(), json!(lifetime));
        }
        if let Some(idle) = &self.idle_timeout {
            sessions.insert("idle_timeout".into(), json!(idle));
        }
        if let Some(ttl) = self.cache_ttl {
            sessions.insert("cache_ttl".into(), json!(format!("{}ms", ttl.as_millis())));
        }
        root.insert("sessions".into(), Value::Object(sessions));
        root.insert("users".into(), json!({"file": "users.yaml"}));
        if let Some(key) = &self.secret_key {
            root.insert("secrets".into(), json!({"key": key}));
        }
        if let Some((per_user, per_ip, window)) = &self.limits {
            root.insert(
                "limits".into(),
                json!({
                    "max_failures_per_user": per_user,
                    "max_failures_per_ip": per_ip,
                    "window": window,
                }),
            );
        }
        let mut store = Map::new();
        if let Some(url) = &self.store_url {
            store.insert("url".into(), json!(url));
        }
        if let Some(days) = self.audit_retention_days {
            store.insert("audit_retention_days".into(), json!(days));
        }
        if !store.is_empty() {
            root.insert("store".into(), Value::Object(store));
        }
        let mut mfa = Map::new();
        mfa.insert("enforce".into(), json!(self.mfa_enforce));
        mfa.insert("enroll_two_codes".into(), json!(self.enroll_two_codes));
        if let Some(issuer) = &self.mfa_issuer {
            mfa.insert("issuer".into(), json!(issuer));
        }
        if let Some(days) = self.remember_device_days {
            mfa.insert("remember_device_days".into(), json!(days));
        }
        if let Some(fresh_for) = &self.fresh_for {
            mfa.insert("fresh_for".into(), json!(fresh_for));
        }
        root.insert("mfa".into(), Value::Object(mfa));
        if let Some(notify) = self.render_notify() {
            root.insert("notify".into(), notify);
        }
        let apps: Vec<Value> = self.apps.iter().map(AppConfig::render).collect();
        root.insert("apps".into(), json!(apps));
        if let Some(host) = &self.sso_portal_host {
            root.insert(
                "sso".into(),
                json!({ "portal_url": format!("http://{host}:{listen}") }),
            );
        }
        if !self.service_tokens.is_empty() {
            let tokens: Vec<Value> = self
                .service_tokens
                .iter()
                .map(|(name, token)| json!({"name": name, "token_sha256": sha256_hex(token)}))
                .collect();
            root.insert("service_tokens".into(), json!(tokens));
        }
        if !self.organisations.is_empty() {
            let orgs: Vec<Value> = self
                .organisations
                .iter()
                .map(|(name, parent)| match parent {
                    Some(parent) => json!({"name": name, "parent": parent}),
                    None => json!({"name": name}),
                })
                .collect();
            root.insert("organisations".into(), json!(orgs));
        }
        Value::Object(root)
    }

    /// The `notify` mapping; `None` when nothing of it was set, so configs
    /// that never send codes stay exactly as before.
    fn render_notify(&self) -> Option<Value> {
        let mut notify = Map::new();
        if let Some((smtp_url, from)) = &self.notify_email {
            notify.insert(
                "email".into(),
                json!({ "smtp_url": smtp_url, "from": from }),
            );
        }
        if let Some((api_url, account_sid, auth_token, from)) = &self.notify_sms {
            let mut sms = json!({
                "api_url": api_url,
                "account_sid": account_sid,
                "auth_token": auth_token,
                "from": from,
            });
            if !self.sms_countries.is_empty() {
                sms["countries"] = json!(self.sms_countries);
            }
            notify.insert("sms".into(), sms);
        }
        if let Some(lifetime) = &self.code_lifetime {
            notify.insert("code_lifetime".into(), json!(lifetime));
        }
        if let Some(after) = &self.resend_after {
            notify.insert("resend_after".into(), json!(after));
        }
        (!notify.is_empty()).then_some(Value::Object(notify))
    }

    /// The users file's content.
    pub fn render_users(&self) -> Value {
        self.render_users_with(password_hash())
    }

    /// The users file with `hash` as every password: unit tests pass a dummy
    /// so they need not run `gatehouse hash-password`.
    fn render_users_with(&self, hash: &str) -> Value {
        let mut users = Map::new();
        for user in &self.users {
            let mut entry = Map::new();
            entry.insert("password".into(), json!(hash));
            if let Some(email) = &user.email {
                entry.insert("email".into(), json!(email));
            }
            if let Some(name) = &user.display_name {
                entry.insert("display_name".into(), json!(name));
            }
            if let Some(phone) = &user.phone {
                entry.insert("phone".into(), json!(phone));
            }
            entry.insert("groups".into(), json!(user.groups));
            entry.insert("disabled".into(), json!(user.disabled));
            if let Some(org) = &user.org {
                entry.insert("org".into(), json!(org));
            }
            users.insert(user.username.clone(), Value::Object(entry));
        }
        json!({ "users": users })
    }
}

/// Hex SHA-256, the form service tokens take in the config file.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_is_rendered_only_when_set() {
        let plain = GatewayConfig::new().render(8080, None);
        assert!(plain.get("notify").is_none(), "{plain}");

        let config = GatewayConfig::new()
            .email_via(
                "smtp://127.0.0.1:2525",
                "Gatehouse <gatehouse@example.test>",
            )
            .sms_via("http://127.0.0.1:8081", "AC123", "token", "+15005550006")
            .code_lifetime("10m")
            .resend_after("30s");
        let notify = &config.render(8080, None)["notify"];
        assert_eq!(
            *notify,
            json!({
                "email": {
                    "smtp_url": "smtp://127.0.0.1:2525",
                    "from": "Gatehouse <gatehouse@example.test>",
                },
                "sms": {
                    "api_url": "http://127.0.0.1:8081",
                    "account_sid": "AC123",
                    "auth_token": "token",
                    "from": "+15005550006",
                },
                "code_lifetime": "10m",
                "resend_after": "30s",
            })
        );

        let typed = config.clone().sms_countries(&["AU", "NZ"]);
        assert_eq!(
            typed.render(8080, None)["notify"]["sms"]["countries"],
            json!(["AU", "NZ"])
        );

        let only_lifetime = GatewayConfig::new().code_lifetime("1s").render(8080, None);
        assert_eq!(only_lifetime["notify"], json!({ "code_lifetime": "1s" }));
    }

    #[test]
    fn phones_are_written_to_the_users_file() {
        let config = GatewayConfig::new()
            .user_phone("alice", "+15551234567")
            .user(UserSpec::new("dave").phone("+447700900123"));
        let users = config.render_users_with("$argon2id$dummy");
        assert_eq!(users["users"]["alice"]["phone"], "+15551234567");
        assert_eq!(users["users"]["dave"]["phone"], "+447700900123");
        assert!(users["users"]["bob"].get("phone").is_none());
    }
}
