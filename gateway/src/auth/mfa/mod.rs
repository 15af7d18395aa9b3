//! The second factor as the portal uses it: enrollment, challenges,
//! recovery codes and remembered devices, over the durable store.
//!
//! Pages stay thin: they parse forms and pick what to render; every rule
//! about factors lives here, once. Codes by email and text message are in
//! [`contact`], remembered browsers in [`devices`].

mod contact;
mod devices;

pub use contact::SendOutcome;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::one_time::PendingCodes;
use super::recovery::{self, RecoveryHasher};
use super::secret_box::SecretBox;
use super::totp::{qr_svg, Totp, TotpSecret};
use crate::config::{MfaSettings, NotifySettings, User};
use crate::durable::LazyStore;
use crate::limits::Limiter;
use crate::notify::{Channel, Notifier};
use crate::orgs::Organisations;
use crate::policy::{Defaults, Method, Methods, OrgPolicies, PolicyError, Table, UserPolicy};
use crate::redis_client::RedisError;
use crate::store::{
    AuditCursor, AuditEntry, AuditEvent, AuditFilter, AuditOutcome, AuditPage, Store, StoreError,
    UserFactors,
};

type HmacSha256 = Hmac<Sha256>;

/// Derives a purpose-specific key from the master key, so that the TOTP
/// sealing key, the recovery-code key and the device-cookie key differ.
pub fn derive_key(master: &[u8; 32], purpose: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(b"gatehouse-key:");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("one-time code markers unavailable: {0}")]
    Markers(#[from] RedisError),
    #[error("the stored authenticator secret for {user} cannot be read: {detail}")]
    Secret { user: String, detail: String },
    #[error("the store holds an unknown factor channel {channel:?} for {user}")]
    UnknownChannel { user: String, channel: String },
}

/// What a submitted authenticator code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    Wrong,
    /// Right code, but already used: one code opens one door.
    Replayed,
    NotEnrolled,
}

/// One of a user's second factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// An authenticator app (TOTP).
    App,
    /// Codes sent by email or text message.
    Contact(Channel),
}

impl Factor {
    /// The method an organisation's policy allows or not.
    pub fn method(self) -> Method {
        match self {
            Factor::App => Method::Totp,
            Factor::Contact(Channel::Email) => Method::Email,
            Factor::Contact(Channel::Sms) => Method::Sms,
        }
    }

    /// The name the audit log and the console use.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::App => "app",
            Factor::Contact(channel) => channel.as_str(),
        }
    }
}

/// A pending enrollment, ready to show.
pub struct Pending {
    pub secret: TotpSecret,
    pub uri: String,
    pub qr_svg: String,
}

/// The user's second factors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// When the authenticator app was confirmed, if it was (ms).
    pub app_at: Option<i64>,
    /// Confirmed email/SMS channels and when (ms), in channel order.
    pub contact: Vec<(Channel, i64)>,
}

impl Status {
    /// When MFA was turned on: the first factor's confirmation (ms).
    pub fn enrolled_at(&self) -> Option<i64> {
        self.contact
            .iter()
            .map(|(_, at)| *at)
            .chain(self.app_at)
            .min()
    }

    pub fn is_enrolled(&self) -> bool {
        self.app_at.is_some() || !self.contact.is_empty()
    }

    pub fn has_app(&self) -> bool {
        self.app_at.is_some()
    }

    pub fn has(&self, channel: Channel) -> bool {
        self.contact.iter().any(|(c, _)| *c == channel)
    }

    /// Only the factors `methods` allows: what the user may sign in with
    /// where their organisation turned some methods off. The others stay
    /// in the store, and count again if the method is allowed again.
    pub fn within(&self, methods: Methods) -> Status {
        Status {
            app_at: self
                .app_at
                .filter(|_| methods.contains(Factor::App.method())),
            contact: self
                .contact
                .iter()
                .filter(|(c, _)| methods.contains(Factor::Contact(*c).method()))
                .copied()
                .collect(),
        }
    }
}

pub struct Mfa {
    store: Arc<LazyStore>,
    markers: Limiter,
    codes: PendingCodes,
    notifier: Notifier,
    /// How long sent codes live, and how often they may be sent.
    pub notify: NotifySettings,
    sealer: SecretBox,
    recovery: RecoveryHasher,
    device_key: [u8; 32],
    /// Every organisation's policy. Shared with the config reloader, which
    /// may change the config's defaults.
    pub policies: Arc<OrgPolicies>,
    /// As at start: only `mfa.enforce` (in `policy`) follows a reload.
    pub settings: MfaSettings,
}

fn now_ms() -> i64 {
    crate::session::now_ms() as i64
}

fn now_secs() -> u64 {
    crate::session::now_ms() / 1000
}

impl Mfa {
    /// `codes` keeps sent codes; its key must come from
    /// [`derive_key`]`(master_key, "one-time-code")`.
    pub fn new(
        store: Arc<LazyStore>,
        markers: Limiter,
        codes: PendingCodes,
        master_key: &[u8; 32],
        settings: MfaSettings,
        notify: NotifySettings,
        orgs: Organisations,
    ) -> Self {
        Self {
            policies: Arc::new(OrgPolicies::new(orgs, Defaults::from_config(&settings))),
            store,
            markers,
            codes,
            notifier: Notifier::new(&notify),
            notify,
            sealer: SecretBox::new(&derive_key(master_key, "totp-secret")),
            recovery: RecoveryHasher::new(&derive_key(master_key, "recovery-code")),
            device_key: derive_key(master_key, "remembered-device"),
            settings,
        }
    }

    async fn store(&self) -> Result<&Store, StoreError> {
        self.store.get().await
    }

    /// Every organisation's policy, from the store: for sign-ins, pages and
    /// the console.
    pub async fn policies(&self) -> Result<Arc<Table>, MfaError> {
        Ok(self.policies.current(&self.store).await?)
    }

    /// What applies to `user` now, from the store: for sign-ins and pages.
    pub async fn policy_for(&self, user: &User, is_admin: bool) -> Result<UserPolicy, MfaError> {
        let table = self.policies().await?;
        Ok(table.get(user.org).for_user(&user.groups, is_admin))
    }

    /// What applies to `user`, as last read: for signed-in traffic, which
    /// can't wait on the store (see [`OrgPolicies::cached`]).
    pub fn policy_now(&self, user: &User, is_admin: bool) -> UserPolicy {
        let table = self.policies.cached(&self.store);
        table.get(user.org).for_user(&user.groups, is_admin)
    }

    /// Changes `org`'s own choices; see [`OrgPolicies::set_own`].
    pub async fn set_policy(
        &self,
        org: crate::orgs::OrgId,
        own: &crate::policy::Partial,
    ) -> Result<Arc<Table>, PolicyError> {
        self.policies.set_own(&self.store, org, own).await
    }

    /// Every user's factors and last sign-in, for the admin console.
    pub async fn overview(&self) -> Result<BTreeMap<String, UserFactors>, MfaError> {
        Ok(self.store().await?.factor_overview(now_ms()).await?)
    }

    /// A page of the audit log, for the admin console.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        before: Option<AuditCursor>,
        limit: i64,
    ) -> Result<AuditPage, MfaError> {
        Ok(self
            .store()
            .await?
            .audit_page(filter, before, limit)
            .await?)
    }

    pub async fn status(&self, user: &str) -> Result<Status, MfaError> {
        let store = self.store().await?;
        let app_at = store.totp_get(user).await?.and_then(|e| e.confirmed_at);
        let contact = store
            .contact_list(user)
            .await?
            .into_iter()
            .map(|(name, at)| match Channel::from_name(&name) {
                Some(channel) => Ok((channel, at)),
                None => Err(MfaError::UnknownChannel {
                    user: user.to_owned(),
                    channel: name,
                }),
            })
            .collect::<Result<_, _>>()?;
        Ok(Status { app_at, contact })
    }

    fn totp(&self, user: &str, secret: &TotpSecret) -> Totp {
        Totp::new(secret, &self.settings.issuer, user)
    }

    fn open(&self, user: &str, sealed: &str) -> Result<TotpSecret, MfaError> {
        let bytes = self
            .sealer
            .open(sealed, user.as_bytes())
            .map_err(|e| MfaError::Secret {
                user: user.to_owned(),
                detail: e.to_string(),
            })?;
        TotpSecret::from_bytes(bytes).map_err(|e| MfaError::Secret {
            user: user.to_owned(),
            detail: e.to_string(),
        })
    }

    /// The pending enrollment for `user`, made if there is none, so that a
    /// reload shows the same QR code the phone may already have scanned.
    /// `None` if the user is already enrolled.
    pub async fn begin_enrollment(&self, user: &str) -> Result<Option<Pending>, MfaError> {
        let secret = match self.store().await?.totp_get(user).await? {
            Some(e) if e.confirmed_at.is_some() => return Ok(None),
            Some(e) => self.open(user, &e.secret_sealed)?,
            None => {
                let secret = TotpSecret::generate();
                let sealed = self.sealer.seal(secret.as_bytes(), user.as_bytes());
                self.store()
                    .await?
                    .totp_begin(user, &sealed, now_ms())
                    .await?;
                secret
            }
        };
        let totp = self.totp(user, &secret);
        let uri = totp.uri();
        let qr_svg = qr_svg(&uri).map_err(|e| MfaError::Secret {
            user: user.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(Some(Pending {
            secret,
            uri,
            qr_svg,
        }))
    }

    /// Confirms the pending enrollment with one code, or two consecutive
    /// ones when configured. On success returns fresh recovery codes if
    /// this is the user's first factor (see [`Mfa::first_factor_codes`]).
    pub async fn confirm_enrollment(
        &self,
        user: &str,
        code: &str,
        next_code: Option<&str>,
    ) -> Result<Result<Option<Vec<String>>, CodeCheck>, MfaError> {
        let Some(enrollment) = self.store().await?.totp_get(user).await? else {
            return Ok(Err(CodeCheck::NotEnrolled));
        };
        if enrollment.confirmed_at.is_some() {
            return Ok(Err(CodeCheck::NotEnrolled));
        }
        let secret = self.open(user, &enrollment.secret_sealed)?;
        let totp = self.totp(user, &secret);
        let now = now_secs();
        let Some(step) = totp.verify(code, now) else {
            return Ok(Err(CodeCheck::Wrong));
        };
        let last_step = match (self.settings.enroll_two_codes, next_code) {
            (false, _) => step,
            (true, Some(next)) => match totp.verify(next, now) {
                Some(s) if s == step + 1 => s,
                _ => return Ok(Err(CodeCheck::Wrong)),
            },
            (true, None) => return Ok(Err(CodeCheck::Wrong)),
        };
        for s in step..=last_step {
            if !self.claim_step(user, s).await? {
                return Ok(Err(CodeCheck::Replayed));
            }
        }
        let had_factor = self.status(user).await?.is_enrolled();
        if !self.store().await?.totp_confirm(user, now_ms()).await? {
            // Removed since it was read: a reset got there first.
            return Ok(Err(CodeCheck::NotEnrolled));
        }
        Ok(Ok(self.first_factor_codes(user, had_factor).await?))
    }

    /// Recovery codes come with the first factor. A user adding a second
    /// one keeps the codes they saved: replacing them behind their back
    /// would leave them holding dead codes.
    async fn first_factor_codes(
        &self,
        user: &str,
        had_factor: bool,
    ) -> Result<Option<Vec<String>>, MfaError> {
        if had_factor {
            return Ok(None);
        }
        Ok(Some(self.regenerate_recovery_codes(user).await?))
    }

    /// Marks a time step used for the user; false if it already was.
    async fn claim_step(&self, user: &str, step: u64) -> Result<bool, MfaError> {
        // Three steps cover the ±1 window the code could still verify in.
        Ok(self
            .markers
            .claim_once(&format!("totp:{user}:{step}"), Duration::from_secs(120))
            .await?)
    }

    /// Checks a code from the user's confirmed authenticator.
    pub async fn check_code(&self, user: &str, code: &str) -> Result<CodeCheck, MfaError> {
        let Some(enrollment) = self.store().await?.totp_get(user).await? else {
            return Ok(CodeCheck::NotEnrolled);
        };
        if enrollment.confirmed_at.is_none() {
            return Ok(CodeCheck::NotEnrolled);
        }
        let secret = self.open(user, &enrollment.secret_sealed)?;
        match self.totp(user, &secret).verify(code, now_secs()) {
            None => Ok(CodeCheck::Wrong),
            Some(step) if self.claim_step(user, step).await? => Ok(CodeCheck::Accepted),
            Some(_) => Ok(CodeCheck::Replayed),
        }
    }

    /// Uses a recovery code; true if it was valid and unused.
    pub async fn use_recovery_code(&self, user: &str, input: &str) -> Result<bool, MfaError> {
        let Some(code) = recovery::normalise(input) else {
            return Ok(false);
        };
        let hash = self.recovery.hash(user, &code);
        Ok(self
            .store()
            .await?
            .recovery_consume(user, &hash, now_ms())
            .await?)
    }

    pub async fn recovery_remaining(&self, user: &str) -> Result<i64, MfaError> {
        Ok(self.store().await?.recovery_remaining(user).await?)
    }

    /// New recovery codes; the old ones stop working.
    pub async fn regenerate_recovery_codes(&self, user: &str) -> Result<Vec<String>, MfaError> {
        let codes = recovery::generate();
        let hashes: Vec<String> = codes
            .iter()
            .filter_map(|c| recovery::normalise(c))
            .map(|c| self.recovery.hash(user, &c))
            .collect();
        self.store()
            .await?
            .recovery_replace(user, &hashes, now_ms())
            .await?;
        Ok(codes)
    }

    /// The durable store, for the organisation policies.
    pub fn store_handle(&self) -> &LazyStore {
        &self.store
    }

    /// Removes every factor, recovery code and remembered device of
    /// `users` in one transaction, and any code on its way to them.
    pub async fn forget_users(&self, users: &[String]) -> Result<(), MfaError> {
        for user in users {
            self.codes.discard(user).await?;
        }
        self.store().await?.forget_users(users).await?;
        Ok(())
    }

    /// Removes every factor, the recovery codes and remembered devices:
    /// turning MFA off, or resetting it after a lost phone.
    pub async fn remove(&self, user: &str) -> Result<(), MfaError> {
        self.codes.discard(user).await?;
        self.store().await?.contact_delete_all(user).await?;
        self.store().await?.totp_delete(user).await?;
        self.store().await?.recovery_delete_all(user).await?;
        self.store().await?.devices_revoke_all(user).await?;
        Ok(())
    }

    /// Takes back one factor. When it was the last, MFA is off, and the
    /// recovery codes and remembered browsers go with it, as when the user
    /// had never enrolled. Returns whether MFA is now off.
    pub async fn withdraw(&self, user: &str, factor: Factor) -> Result<bool, MfaError> {
        let store = self.store().await?;
        match factor {
            Factor::App => store.totp_delete(user).await?,
            Factor::Contact(channel) => store.contact_delete(user, channel.as_str()).await?,
        };
        if self.status(user).await?.is_enrolled() {
            return Ok(false);
        }
        self.remove(user).await?;
        Ok(true)
    }

    /// Writes an audit entry. A failure is logged, never fatal: the audit
    /// log must not become a way to lock everyone out.
    pub async fn audit(&self, event: AuditEvent, user: &str, ip: IpAddr, outcome: AuditOutcome) {
        self.audit_detail(event, user, ip, outcome, None).await
    }

    /// [`Mfa::audit`] with a note for people, such as which admin acted.
    pub async fn audit_detail(
        &self,
        event: AuditEvent,
        user: &str,
        ip: IpAddr,
        outcome: AuditOutcome,
        detail: Option<&str>,
    ) {
        self.audit_proof(event, user, ip, outcome, detail, None)
            .await
    }

    /// [`Mfa::audit_detail`] for a sensitive action, with the fresh proof
    /// it was allowed on.
    pub async fn audit_proof(
        &self,
        event: AuditEvent,
        user: &str,
        ip: IpAddr,
        outcome: AuditOutcome,
        detail: Option<&str>,
        proof: Option<&str>,
    ) {
        let event = event.as_str();
        let outcome = outcome.as_str();
        tracing::info!(target: "audit", event, user, %ip, outcome, detail, proof);
        let entry = AuditEntry {
            at_ms: now_ms(),
            username: Some(user.to_owned()),
            ip: Some(ip.to_string()),
            event: event.to_owned(),
            outcome: outcome.to_owned(),
            detail: detail.map(str::to_owned),
            proof: proof.map(str::to_owned),
        };
        let written = match self.store().await {
            Ok(store) => store.audit(&entry).await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            tracing::error!("audit log write failed: {e}");
        }
    }
}
