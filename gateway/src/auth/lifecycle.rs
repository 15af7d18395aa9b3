//! The account operations that change how someone signs in, each one
//! function that checks its own preconditions (who may, what proof, what
//! enforcement allows) and returns a typed outcome.
//!
//! Handlers parse a form, call one of these and render what comes back;
//! none removes a factor itself. That keeps one rule in one place: a
//! stolen session that could strip MFA from one page and not another is
//! what happens when three handlers each guard the same removal.

use std::net::IpAddr;
use std::time::Duration;

use super::authorize::{
    authorize, Caller, Clock, Decision, Factors, Need, OrgView, ProofUsed, Sensitive, UserCaller,
};
use super::mfa::{CodeCheck, Factor, Mfa, MfaError};
use crate::accounts::Accounts;
use crate::auth::password::{PasswordError, PasswordHasherPool};
use crate::limits::{Attempt, Limiter, Verdict};
use crate::notify::Channel;
use crate::policy::{Field, Locker, Methods, MfaMode, UserPolicy};
use crate::redis_client::RedisError;
use crate::session::{self, now_ms, Expiry, Owed, SessionError, SessionId, SessionStore};
use crate::store::{AuditEvent, AuditOutcome};

/// Why an operation was not done. The store was fine; the caller may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The session has no fresh proof for this action: confirm first.
    NeedsProof,
    /// The session still owes its second step.
    StepOwed,
    /// The organisation requires MFA, so it can't be turned off.
    Enforced,
    /// The user has no second factor to act on.
    NotEnrolled,
    /// That factor isn't on for the user.
    NoSuchFactor,
    /// That is the user's only factor: only turning MFA off removes it.
    LastFactor,
    /// Admins only.
    NotAdmin,
    /// The code typed on the action's own form was wrong, or `replayed`.
    WrongCode { replayed: bool },
    /// Too many wrong codes or passwords: locked out for this long.
    Locked(Duration),
    /// An organisation, user or token outside the admin's organisations.
    OutOfReach,
    /// Changing who needs MFA needs an admin who has it.
    NeedsOwnMfa,
    /// The password typed again was wrong.
    WrongPassword,
}

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Mfa(#[from] MfaError),
    #[error(transparent)]
    Sessions(#[from] SessionError),
    #[error("rate limiter unavailable: {0}")]
    Limits(#[from] RedisError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The change would loosen what a lock, or the config, holds.
    #[error("{} is locked", field.as_str())]
    PolicyLocked { field: Field, locker: Locker },
}

impl From<Refusal> for LifecycleError {
    fn from(r: Refusal) -> Self {
        LifecycleError::Refused(r)
    }
}

/// Who asks, with the session they ask from.
pub struct Actor<'a> {
    pub user: &'a str,
    pub session: &'a session::Session,
    pub ip: IpAddr,
    pub is_admin: bool,
}

/// What a removal did.
#[derive(Debug)]
pub struct Removed {
    /// The proof it was allowed on.
    pub proof: ProofUsed,
    /// The user was left with no factor, so every session of theirs ended
    /// (each had a second step nothing stands behind any more), and this
    /// browser has a new one without it: to set as its cookie.
    pub session: Option<SessionId>,
}

/// The account operations, over the factor store and the session store.
pub struct Lifecycle<'a> {
    pub mfa: &'a Mfa,
    /// Where users sit, for their organisation's policy.
    pub accounts: &'a Accounts,
    pub admin_group: &'a str,
    pub passwords: &'a PasswordHasherPool,
    pub sessions: &'a SessionStore,
    pub limiter: &'a Limiter,
    pub expiry: Expiry,
    pub fresh_for: Duration,
}

/// What an admin does to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    ResetMfa,
    SignOut,
}

impl Lifecycle<'_> {
    /// The proof `actor` has for `action` now, or why not. Reads the user's
    /// factors: a user with none proves themselves with their password.
    pub async fn proof(
        &self,
        actor: &Actor<'_>,
        action: Sensitive,
    ) -> Result<ProofUsed, LifecycleError> {
        let policy = self.policy(actor.user).await?;
        let status = self.mfa.status(actor.user).await?.within(policy.methods);
        let factors = if status.is_enrolled() {
            Factors::Some
        } else {
            Factors::None
        };
        self.fresh(actor.session, factors, OrgView::of(&policy), action)
    }

    /// [`Lifecycle::proof`] for a caller that has read the factors and the
    /// organisation's requirement already.
    pub fn fresh(
        &self,
        session: &session::Session,
        factors: Factors,
        org: OrgView,
        action: Sensitive,
    ) -> Result<ProofUsed, LifecycleError> {
        let caller = Caller::User(UserCaller::from_session(session, factors));
        let clock = Clock {
            now_ms: now_ms(),
            fresh_for: self.fresh_for,
        };
        match authorize(Need::Sensitive(action), &caller, org, clock) {
            Decision::AllowSensitive(proof) => Ok(proof),
            Decision::Confirm => Err(Refusal::NeedsProof.into()),
            _ => Err(Refusal::StepOwed.into()),
        }
    }

    /// Turns MFA off for the actor: every factor, recovery code and
    /// remembered browser goes. Refused while the organisation requires MFA.
    /// A user with an authenticator types its `code` on the same form, a
    /// proof on the spot; others need a fresh proof on the session.
    pub async fn turn_off(&self, actor: &Actor<'_>, code: &str) -> Result<Removed, LifecycleError> {
        if self.policy(actor.user).await?.required() {
            self.audit(
                actor,
                AuditEvent::MfaDisabled,
                AuditOutcome::RefusedEnforced,
                None,
                None,
            )
            .await;
            return Err(Refusal::Enforced.into());
        }
        let status = self.mfa.status(actor.user).await?;
        if !status.is_enrolled() {
            return Err(Refusal::NotEnrolled.into());
        }
        let proof = if status.has_app() {
            self.typed_code(actor, code).await?
        } else {
            self.proof(actor, Sensitive::Other).await?
        };
        self.remove_all(actor, proof, AuditEvent::MfaDisabled).await
    }

    /// A code typed on an action's own form, checked at the challenge's
    /// rate: guessing here must cost what it costs at sign-in.
    async fn typed_code(&self, actor: &Actor<'_>, code: &str) -> Result<ProofUsed, LifecycleError> {
        let (user, ip) = (actor.user, actor.ip);
        if let Verdict::Locked(wait) = self.limiter.check(Attempt::Totp, user, ip).await? {
            return Err(Refusal::Locked(wait).into());
        }
        let replayed = match self.mfa.check_code(user, code).await? {
            CodeCheck::Accepted => return Ok(ProofUsed::Code),
            CodeCheck::NotEnrolled => return Err(Refusal::NotEnrolled.into()),
            CodeCheck::Replayed => true,
            CodeCheck::Wrong => false,
        };
        self.audit(
            actor,
            AuditEvent::MfaDisabled,
            AuditOutcome::Failed,
            None,
            None,
        )
        .await;
        self.limiter.record_failure(Attempt::Totp, user, ip).await?;
        Err(Refusal::WrongCode { replayed }.into())
    }

    /// Removes one email or SMS factor while another factor remains.
    pub async fn remove_factor(
        &self,
        actor: &Actor<'_>,
        channel: Option<Channel>,
    ) -> Result<ProofUsed, LifecycleError> {
        let status = self.mfa.status(actor.user).await?;
        let channel = channel
            .filter(|c| status.has(*c))
            .ok_or(Refusal::NoSuchFactor)?;
        if status.contact.len() - 1 + usize::from(status.has_app()) == 0 {
            return Err(Refusal::LastFactor.into());
        }
        let proof = self.proof(actor, Sensitive::Other).await?;
        self.mfa.remove_contact(actor.user, channel).await?;
        let channel_name = Some(channel.as_str());
        self.audit(
            actor,
            AuditEvent::MfaDisabled,
            AuditOutcome::Ok,
            channel_name,
            Some(proof),
        )
        .await;
        Ok(proof)
    }

    /// Starts the authenticator over: every factor goes, so the user can
    /// enroll a new one. The one change a recovery code allows.
    pub async fn replace_authenticator(
        &self,
        actor: &Actor<'_>,
    ) -> Result<Removed, LifecycleError> {
        let proof = self.proof(actor, Sensitive::ReplaceAuthenticator).await?;
        self.remove_all(actor, proof, AuditEvent::MfaReset).await
    }

    /// Every factor, recovery code and remembered browser of the actor goes,
    /// and with them the second step of their sessions; audited as `event`.
    async fn remove_all(
        &self,
        actor: &Actor<'_>,
        proof: ProofUsed,
        event: AuditEvent,
    ) -> Result<Removed, LifecycleError> {
        self.mfa.remove(actor.user).await?;
        let session = self.after_removal(actor).await?;
        self.audit(actor, event, AuditOutcome::Ok, None, Some(proof))
            .await;
        Ok(Removed { proof, session })
    }

    /// Steps the actor's session `id` up now that `factor` is on, and
    /// audits it. A step-up refused because the user's sessions were ended
    /// meanwhile takes the factor back: a reset refuses step-ups before it
    /// removes the factors, so this is how a factor written just after the
    /// removal is caught, and the enrollment keeps nothing, as a sign-in
    /// that lost the same race. Any other failure keeps the factor: an
    /// enrollment is never lost to a store that is down.
    pub async fn step_up_enrolled(
        &self,
        actor: &Actor<'_>,
        id: &SessionId,
        factor: Factor,
    ) -> Result<SessionId, LifecycleError> {
        let next = actor.session.with_mfa(now_ms());
        let rotated = self.sessions.rotate(id, &next, self.expiry).await;
        let outcome = match &rotated {
            Err(SessionError::Ended) => {
                self.mfa.withdraw(actor.user, factor).await?;
                AuditOutcome::EndedMeanwhile
            }
            _ => AuditOutcome::Ok,
        };
        let detail = Some(factor.as_str());
        self.audit(actor, AuditEvent::MfaEnrolled, outcome, detail, None)
            .await;
        Ok(rotated?)
    }

    /// New recovery codes, the old ones void.
    pub async fn regenerate_recovery_codes(
        &self,
        actor: &Actor<'_>,
    ) -> Result<Vec<String>, LifecycleError> {
        if !self.mfa.status(actor.user).await?.is_enrolled() {
            return Err(Refusal::NotEnrolled.into());
        }
        let proof = self.proof(actor, Sensitive::Other).await?;
        let codes = self.mfa.regenerate_recovery_codes(actor.user).await?;
        self.audit(
            actor,
            AuditEvent::RecoveryCodesRegenerated,
            AuditOutcome::Ok,
            None,
            Some(proof),
        )
        .await;
        Ok(codes)
    }

    /// Every remembered browser of the actor asks for a code again. It only
    /// takes a shortcut away, so it needs no fresh proof.
    pub async fn forget_devices(&self, actor: &Actor<'_>) -> Result<u64, LifecycleError> {
        let forgotten = self.mfa.forget_devices(actor.user).await?;
        self.audit(
            actor,
            AuditEvent::DevicesForgotten,
            AuditOutcome::Ok,
            None,
            None,
        )
        .await;
        Ok(forgotten)
    }

    /// Ends every session of the actor, this one included, on every replica.
    pub async fn sign_out_everywhere(&self, actor: &Actor<'_>) -> Result<usize, LifecycleError> {
        let ended = self.sessions.delete_user(actor.user).await?;
        let detail = format!("by the user; {ended} sessions ended");
        self.audit(
            actor,
            AuditEvent::SignedOutEverywhere,
            AuditOutcome::Ok,
            Some(&detail),
            None,
        )
        .await;
        Ok(ended)
    }

    /// An admin's action on `target`: a reset removes their factors, and
    /// both end every session of theirs. Returns how many sessions ended.
    pub async fn act_on_user(
        &self,
        admin: &Actor<'_>,
        target: &str,
        action: UserAction,
    ) -> Result<usize, LifecycleError> {
        if !admin.is_admin {
            return Err(Refusal::NotAdmin.into());
        }
        let proof = self.proof(admin, Sensitive::Other).await?;
        let ended = self.apply(target, action).await?;
        let detail = format!("by admin {}; {ended} sessions ended", admin.user);
        let event = match action {
            UserAction::ResetMfa => AuditEvent::MfaReset,
            UserAction::SignOut => AuditEvent::SignedOutEverywhere,
        };
        self.mfa
            .audit_proof(
                event,
                target,
                admin.ip,
                AuditOutcome::Ok,
                Some(&detail),
                Some(proof.as_str()),
            )
            .await;
        Ok(ended)
    }

    /// Does `action` to `user` with no questions asked: for
    /// [`Lifecycle::act_on_user`], once it has checked who asks.
    pub(crate) async fn apply(
        &self,
        user: &str,
        action: UserAction,
    ) -> Result<usize, LifecycleError> {
        if action == UserAction::ResetMfa {
            // Refusing step-ups first catches an enrollment whose factor is
            // written after the removal: its step-up fails, and it takes the
            // factor back. The sessions go after the factors, so no sign-in
            // with the old phone can slip in between.
            self.sessions.refuse_under_way(user).await?;
            self.mfa.remove(user).await?;
        }
        Ok(self.sessions.delete_user(user).await?)
    }

    /// After the actor's own factors went: no session of theirs may keep
    /// a second step that no factor stands behind, on any replica, or it
    /// would pass `two_factor` rules, and enforcement switched on later,
    /// for as long as it lives. They all end, and this browser starts again
    /// with its password still good, owing enrollment where MFA is required.
    async fn after_removal(&self, actor: &Actor<'_>) -> Result<Option<SessionId>, LifecycleError> {
        if self.mfa.status(actor.user).await?.is_enrolled() {
            return Ok(None);
        }
        let required = self.policy(actor.user).await?.required();
        self.sessions.delete_user(actor.user).await?;
        let generation = self.sessions.generation(actor.user).await?;
        let mut next = session::Session::after_password(actor.user, now_ms(), generation);
        // The same sign-in, not a longer one.
        next.created_ms = actor.session.created_ms;
        next.password_at_ms = actor.session.password_at_ms;
        if required {
            next.owed = Owed::Enrollment;
        }
        Ok(Some(self.sessions.create(&next, self.expiry).await?))
    }

    /// What `user`'s organisation asks of them now. A user no longer in
    /// the users file is asked the most.
    pub async fn policy(&self, user: &str) -> Result<UserPolicy, LifecycleError> {
        let Some(account) = self.accounts.get(user) else {
            return Ok(UserPolicy {
                mfa: MfaMode::Required,
                methods: Methods::TODAY,
                remember_device_days: 0,
            });
        };
        let is_admin = account.user.groups.iter().any(|g| g == self.admin_group);
        Ok(self.mfa.policy_for(&account.user, is_admin).await?)
    }

    async fn audit(
        &self,
        actor: &Actor<'_>,
        event: AuditEvent,
        outcome: AuditOutcome,
        detail: Option<&str>,
        proof: Option<ProofUsed>,
    ) {
        let proof = proof.map(ProofUsed::as_str);
        self.mfa
            .audit_proof(event, actor.user, actor.ip, outcome, detail, proof)
            .await;
    }
}
