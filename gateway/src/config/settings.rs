//! The validated, runtime form of the configuration.
//!
//! Everything here has already been checked: durations parsed, addresses
//! well-formed, the users file loaded and every password hash verified to be
//! argon2id. The proxy never sees raw YAML.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pingora::tls::sign::CertifiedKey;

use crate::client_ip::TrustedProxies;
use crate::orgs::{OrgId, Organisations};

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the gateway listens for client traffic.
    pub listen: SocketAddr,
    /// Where Prometheus metrics are served; `None` turns the listener off.
    pub metrics_listen: Option<SocketAddr>,
    /// With a certificate, `listen` serves HTTPS only.
    pub tls: Option<TlsListener>,
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub sessions: SessionSettings,
    pub users: UserSettings,
    pub mfa: MfaSettings,
    pub secrets: SecretSettings,
    pub limits: LimitSettings,
    pub apps: Vec<AppSettings>,
    pub service_tokens: Vec<ServiceToken>,
    pub notify: NotifySettings,
    /// One sign-in across unrelated hosts, if configured.
    pub sso: Option<SsoSettings>,
    /// The organisations below the implicit root; none by default, which
    /// makes everyone one organisation.
    pub organisations: Organisations,
}

/// Where the sign-in pages are served, for apps on other hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSettings {
    /// `scheme://host[:port]`, no trailing slash.
    pub portal_url: String,
    /// The portal's host name, lower case, without the port.
    pub portal_host: String,
}

/// The certificate `listen` serves, loaded and checked against its key.
#[derive(Debug, Clone)]
pub struct TlsListener {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub certified: Arc<CertifiedKey>,
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Worker threads for the proxy; defaults to the number of cores.
    pub threads: usize,
    /// How long SIGTERM waits before stopping the runtimes.
    pub grace_period: Duration,
    /// How long the runtimes get to finish in-flight requests.
    pub shutdown_timeout: Duration,
    /// Proxies in front of Gatehouse whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// How long a client has to send a whole request head (HTTP/1) before
    /// it is answered 408 and the connection closed.
    pub header_timeout: Duration,
    /// How long an idle kept-alive connection stays open (whole seconds).
    pub keepalive_timeout: Duration,
    /// The most a client may send in a request's head and a portal form.
    pub request_limits: RequestLimits,
}

/// What one request may send. Past any of these it is refused with a
/// 4xx before it is routed, so nothing of it reaches an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// The request line (method, target, version), line ending excluded,
    /// in bytes; past it, 414.
    pub request_line: usize,
    /// The header lines together, each with its line ending, in bytes;
    /// past it, 431.
    pub header_bytes: usize,
    /// Header lines; past it, 431.
    pub headers: usize,
    /// A form posted to a portal page, in bytes; past it, 413.
    pub form_bytes: usize,
}

impl Default for RequestLimits {
    /// nginx's default header buffers take 8 KiB lines and 32 KiB in all;
    /// Apache takes 100 header lines. Portal forms are a few short fields.
    fn default() -> Self {
        RequestLimits {
            request_line: 8 * 1024,
            header_bytes: 32 * 1024,
            headers: 100,
            form_bytes: 16 * 1024,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// `sqlite://…` or `postgres://…`; used by the durable store.
    pub url: String,
    /// How long audit entries are kept before they are pruned.
    pub audit_retention: Duration,
    /// How long a query waits for a database connection (connecting
    /// included) before the store counts as down.
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionBackend {
    Memory,
    Redis { url: String },
}

#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub backend: SessionBackend,
    /// The configured name, without any `__Host-` prefix.
    pub cookie_name: String,
    /// `Secure` cookies with the `__Host-` prefix: on by default with `tls`.
    pub cookie_secure: bool,
    /// The domain the session cookie is shared under, for one sign-in
    /// across its subdomains; `None` keeps it to the host that set it.
    pub cookie_domain: Option<String>,
    pub lifetime: Duration,
    pub idle_timeout: Duration,
    /// How long a replica may answer from its in-process copy of a Redis
    /// session; zero turns the cache off. At most one second.
    pub cache_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct UserSettings {
    /// The file the users came from, for messages.
    pub file: PathBuf,
    pub admin_group: String,
    pub users: BTreeMap<String, User>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    /// A PHC string, already checked to be argon2id.
    pub password_hash: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub display_name: Option<String>,
    pub groups: Vec<String>,
    pub disabled: bool,
    /// Where `org` places the user; the root without it.
    pub org: OrgId,
}

#[derive(Debug, Clone)]
pub struct MfaSettings {
    /// Every user must enroll a second factor before reaching anything.
    pub enforce: bool,
    /// The name authenticator apps show beside the account.
    pub issuer: String,
    /// Confirm enrollment with two consecutive codes instead of one.
    pub enroll_two_codes: bool,
    /// How long "remember this browser" skips the code; 0 turns it off.
    pub remember_device_days: u32,
    /// How long a second-factor proof on a session counts as fresh for
    /// sensitive actions (turning MFA off, replacing a factor, admin changes).
    pub fresh_for: Duration,
    /// Groups whose members need MFA whatever their organisation says:
    /// the default each organisation's admins may add to.
    pub require_groups: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SecretSettings {
    /// 32 bytes for cookie/CSRF signing and at-rest encryption; `None` means
    /// "generate one at start".
    pub key: Option<[u8; 32]>,
}

#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Failed attempts per username within `window` before a lockout.
    pub max_failures_per_user: u32,
    /// Failed attempts per client IP within `window` before a lockout.
    pub max_failures_per_ip: u32,
    pub window: Duration,
}

/// Declared from the loosest to the strictest: `Ord` ranks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Policy {
    Bypass,
    OneFactor,
    TwoFactor,
    Deny,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Bypass => "bypass",
            Policy::OneFactor => "one_factor",
            Policy::TwoFactor => "two_factor",
            Policy::Deny => "deny",
        }
    }

    /// The policy written as `name` in the config (`bypass`, `one_factor`,
    /// `two_factor`, `deny`), if any.
    pub fn from_name(name: &str) -> Option<Policy> {
        [
            Policy::Bypass,
            Policy::OneFactor,
            Policy::TwoFactor,
            Policy::Deny,
        ]
        .into_iter()
        .find(|policy| policy.as_str() == name)
    }
}

#[derive(Debug, Clone)]
pub struct AppSettings {
    pub name: String,
    /// Lower-case host name without port; `None` matches any host.
    pub host: Option<String>,
    /// The path prefix the app serves on its host, normalised like a rule's
    /// path; `/` for all of it. The longest one matching a request wins. The
    /// request path goes upstream as sent: the prefix is not stripped.
    pub path: String,
    pub upstreams: Vec<Upstream>,
    /// The policy for paths that no rule matches.
    pub policy: Policy,
    pub rules: Vec<Rule>,
    /// Names of the service tokens this app accepts; `None` accepts all.
    pub service_tokens: Option<Vec<String>>,
    pub health_check_interval: Duration,
    pub health_check: HealthCheck,
}

/// How an app's upstreams are checked, every `health_check_interval`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HealthCheck {
    /// A TCP connection is accepted.
    #[default]
    Tcp,
    /// `GET path` answers `expect_status`.
    Http { path: String, expect_status: u16 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `host:port`, as written (resolved when the proxy starts).
    pub address: String,
    pub tls: bool,
    /// Host name for SNI and certificate checks when `tls` is set.
    pub sni: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// A normalised absolute path prefix: starts with `/`, no trailing `/`
    /// except for the root itself.
    pub path: String,
    pub policy: Policy,
    /// What else must hold for the rule to apply; none by default.
    pub conditions: Conditions,
}

/// A rule's conditions. An empty list names no condition (the config
/// refuses an empty list as written); a non-empty one holds when any of
/// its entries does. The rule applies when every named condition holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Request methods, upper case. Matched in any case; `GET` also
    /// matches `HEAD`, as servers answer `HEAD` like `GET`.
    pub methods: Vec<String>,
    /// Client address ranges, matched against the client's address as
    /// `server.trusted_proxies` makes it out.
    pub networks: Vec<ipnet::IpNet>,
    /// Groups of the signed-in user; never met by a service token or an
    /// anonymous caller.
    pub groups: Vec<String>,
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.networks.is_empty() && self.groups.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct ServiceToken {
    pub name: String,
    pub sha256: [u8; 32],
}

/// Where one-time codes go: email over SMTP, SMS through an HTTP provider.
/// A channel left out of the config is not offered to anyone.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub email: Option<EmailSettings>,
    pub sms: Option<SmsSettings>,
    /// How long a sent code can be entered.
    pub code_lifetime: Duration,
    /// How long a user waits before asking for another code.
    pub resend_after: Duration,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            email: None,
            sms: None,
            code_lifetime: Duration::from_secs(10 * 60),
            resend_after: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub struct EmailSettings {
    /// lettre's URL form: `smtp://` (plain, or `?tls=required` for
    /// STARTTLS), `smtps://` (TLS); may carry `user:password@`.
    pub smtp_url: String,
    /// The `From` mailbox, e.g. `Gatehouse <gatehouse@example.com>`.
    pub from: String,
}

// By hand: the SMTP URL may carry a password.
impl fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSettings")
            .field("smtp_url", &"<redacted>")
            .field("from", &self.from)
            .finish()
    }
}

/// An SMS provider speaking Twilio's Messages API.
#[derive(Clone)]
pub struct SmsSettings {
    /// The API's base URL, without a trailing `/`.
    pub api_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// The sender: an E.164 number or an alphanumeric sender ID.
    pub from: String,
    /// `countries`: users type their own number on the enroll page, and
    /// it must be in one of these. Without it, numbers come from the users
    /// file.
    pub countries: Option<Vec<phonenumber::country::Id>>,
}

// By hand: the auth token is a secret.
impl fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsSettings")
            .field("api_url", &self.api_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("from", &self.from)
            .field("countries", &self.countries)
            .finish()
    }
}
